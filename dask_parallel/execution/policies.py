"""Pure rules for the features beyond Azure's parallel job.

Retry classification by error type, the backoff schedule, the bisection of a failing
mini-batch, straggler detection for speculative attempts, and the mini-batch size
controller. Nothing here touches Dask, files, clocks or random sources: callers pass the
facts (and the jitter) in, so every rule can be checked on its own.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence

# -- retry by error type ----------------------------------------------------------------


def exception_names(exc: BaseException) -> tuple[str, ...]:
    """The names an exception answers to in ``retry_on`` / ``no_retry_on``.

    Every class of its method resolution order (so ``ConnectionError`` matches a
    ``ConnectionRefusedError``), by bare name and, outside builtins, by ``module.Name``.

    >>> exception_names(ConnectionRefusedError())[:3]
    ('ConnectionRefusedError', 'ConnectionError', 'OSError')
    """
    names: list[str] = []
    for cls in type(exc).__mro__:
        if cls is object:
            continue
        names.append(cls.__name__)
        if cls.__module__ not in ("builtins", "__main__"):
            names.append(f"{cls.__module__}.{cls.__qualname__}")
    return tuple(dict.fromkeys(names))


def is_retryable(error_names: Iterable[str], retry_on: Sequence[str], no_retry_on: Sequence[str]) -> bool:
    """Whether an error raised by the entry script may be retried.

    ``no_retry_on`` wins; with a ``retry_on`` list only the errors it names are retried;
    with neither list every error is retried (Azure's rule). An error of unknown type
    (``error_names`` empty) is retried unless ``retry_on`` restricts retries.

    >>> is_retryable(["ValueError", "Exception"], [], ["ValueError"])
    False
    >>> is_retryable(["ConnectionResetError", "ConnectionError"], ["ConnectionError"], [])
    True
    >>> is_retryable(["KeyError", "LookupError"], ["ConnectionError"], [])
    False
    """
    names = set(error_names)
    if names & set(no_retry_on):
        return False
    if retry_on:
        return bool(names & set(retry_on))
    return True


def backoff_delay(retry: int, initial: float, maximum: float, jitter: float) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first retry).

    Exponential (``initial * 2**(retry-1)``, capped at ``maximum``) with "equal jitter":
    the wait is drawn from the upper half of that value, so retries of many mini-batches
    that failed together spread out, yet each waits at least half the schedule.
    ``jitter`` is a number in ``[0, 1]``; ``initial <= 0`` means no backoff.

    >>> [backoff_delay(n, 1, 60, 1.0) for n in (1, 2, 3, 7, 8)]
    [1.0, 2.0, 4.0, 60.0, 60.0]
    >>> backoff_delay(3, 1, 60, 0.0)
    2.0
    """
    if initial <= 0 or retry < 1:
        return 0.0
    jitter = min(1.0, max(0.0, jitter))
    base = initial * 2.0 ** min(retry - 1, 64)  # a capped exponent cannot overflow
    if maximum > 0:
        base = min(base, maximum)
    return base * (0.5 + 0.5 * jitter)


# -- bisection --------------------------------------------------------------------------


def halves(count: int) -> list[tuple[int, int]]:
    """The ``[start, stop)`` ranges a failing mini-batch of ``count`` items splits into.

    Two halves in input order (the first one the larger), or nothing when a single item
    is left: a single item that fails is a failed item.

    >>> halves(5), halves(2), halves(1)
    ([(0, 3), (3, 5)], [(0, 1), (1, 2)], [])
    """
    if count < 2:
        return []
    middle = (count + 1) // 2
    return [(0, middle), (middle, count)]


# -- speculation ------------------------------------------------------------------------


def straggler_threshold(finished: Sequence[float], multiplier: float, minimum: float) -> float | None:
    """How long an attempt may run before it counts as a straggler.

    ``multiplier`` times the median duration of the finished attempts, and at least
    ``minimum`` seconds; ``None`` while no attempt has finished (nothing to compare with).

    >>> straggler_threshold([1.0, 2.0, 30.0], 3, 0.5), straggler_threshold([], 3, 1)
    (6.0, None)
    """
    if not finished:
        return None
    return max(multiplier * statistics.median(finished), minimum)


def stragglers(
    running: Mapping[str, float],
    finished: Sequence[float],
    idle_workers: int,
    *,
    multiplier: float,
    minimum: float,
    speculated: Iterable[str] = (),
) -> list[str]:
    """Which running attempts deserve a duplicate: the slowest first, one per idle worker.

    ``running`` maps an attempt's key to how long it has been running; attempts already
    duplicated (``speculated``) are left alone.

    >>> stragglers({"a": 50.0, "b": 1.0, "c": 9.0}, [1.0, 1.0, 2.0], 1, multiplier=3, minimum=5)
    ['a']
    """
    threshold = straggler_threshold(finished, multiplier, minimum)
    if threshold is None or idle_workers <= 0:
        return []
    skip = set(speculated)
    slow = [(elapsed, key) for key, elapsed in running.items() if key not in skip and elapsed > threshold]
    slow.sort(key=lambda pair: (-pair[0], pair[1]))
    return [key for _, key in slow[:idle_workers]]


# -- mini-batch size by time ------------------------------------------------------------


def next_size(
    current: int,
    seconds_per_item: float,
    target: float,
    *,
    minimum: int = 1,
    maximum: int = 10_000,
    smoothing: float = 0.5,
    max_growth: float = 4.0,
) -> int:
    """The size of the next mini-batches, so that one takes about ``target`` seconds.

    The ideal size ``target / seconds_per_item`` is taken at once when it is smaller and
    approached by a smoothed step when larger (a weighted mean of the current and the
    ideal size, weight ``smoothing`` on the ideal), never growing or shrinking by more
    than ``max_growth`` times at once, and bounded by
    ``[minimum, maximum]``. Sizes only change from measured evidence: a non-positive
    ``seconds_per_item`` keeps the current size.

    >>> next_size(2, 0.5, 10, smoothing=1.0)
    8
    >>> next_size(40, 0.5, 10, smoothing=1.0)
    20
    """
    current = min(maximum, max(minimum, current))
    if seconds_per_item <= 0 or target <= 0:
        return current
    ideal = target / seconds_per_item
    # Too slow costs more than too fast (a long mini-batch holds the job's end): shrink at
    # once, grow smoothed.
    step = ideal if ideal < current else current + smoothing * (ideal - current)
    if abs(ideal - step) < 1:  # a smoothed step would stop one item short of the ideal size
        step = ideal
    step = min(current * max_growth, max(current / max_growth, step))
    return int(min(maximum, max(minimum, round(step))))


def seconds_per_item(durations: Sequence[tuple[float, int]]) -> float:
    """Time per item over finished attempts given as ``(seconds, items)`` pairs.

    >>> seconds_per_item([(2.0, 4), (1.0, 4)])
    0.375
    """
    items = sum(n for _, n in durations)
    if items <= 0:
        return 0.0
    total = sum(seconds for seconds, _ in durations)
    return total / items if math.isfinite(total) else 0.0
