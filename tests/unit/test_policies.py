"""The pure rules beyond Azure: retry classification, backoff, halves, stragglers, sizes."""

from hypothesis import given
from hypothesis import strategies as st

from dask_parallel.execution import policies


class TransientError(ConnectionError):
    pass


def test_exception_names_cover_bases_and_qualified_names():
    names = policies.exception_names(TransientError("x"))
    assert names[0] == "TransientError"
    assert "ConnectionError" in names and "OSError" in names and "Exception" in names
    assert f"{__name__}.TransientError" in names
    assert "object" not in names


def test_no_retry_on_wins_over_retry_on():
    names = policies.exception_names(ConnectionResetError())
    assert policies.is_retryable(names, ["ConnectionError"], []) is True
    assert policies.is_retryable(names, ["ConnectionError"], ["ConnectionResetError"]) is False


def test_retry_on_restricts_and_empty_lists_retry_everything():
    names = policies.exception_names(ValueError())
    assert policies.is_retryable(names, [], []) is True
    assert policies.is_retryable(names, ["TimeoutError"], []) is False
    assert policies.is_retryable((), [], []) is True
    assert policies.is_retryable((), ["TimeoutError"], []) is False


def test_backoff_is_exponential_capped_and_off_without_initial():
    assert [policies.backoff_delay(n, 0.5, 3, 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policies.backoff_delay(4, 0, 60, 1.0) == 0.0
    assert policies.backoff_delay(10_000, 1, 60, 1.0) == 60.0


@given(
    retry=st.integers(1, 200),
    initial=st.floats(0.01, 100),
    maximum=st.floats(0.01, 1000),
    jitter=st.floats(0, 1),
)
def test_backoff_stays_in_the_upper_half_of_its_capped_schedule(retry, initial, maximum, jitter):
    delay = policies.backoff_delay(retry, initial, maximum, jitter)
    base = min(maximum, initial * 2.0 ** min(retry - 1, 64))
    assert base / 2 <= delay <= base


@given(st.integers(0, 10_000))
def test_halves_partition_in_order(count):
    ranges = policies.halves(count)
    if count < 2:
        assert ranges == []
        return
    (a, b), (c, d) = ranges
    assert (a, b == c, d) == (0, True, count)
    assert b - a >= d - c >= 1


def test_stragglers_need_finished_attempts_idle_workers_and_the_minimum():
    running = {"slow": 40.0, "ok": 2.0}
    assert policies.stragglers(running, [], 2, multiplier=3, minimum=1) == []
    assert policies.stragglers(running, [1.0], 0, multiplier=3, minimum=1) == []
    assert policies.stragglers(running, [1.0], 2, multiplier=3, minimum=60) == []
    assert policies.stragglers(running, [1.0], 2, multiplier=3, minimum=1) == ["slow"]
    assert policies.stragglers(running, [1.0], 2, multiplier=3, minimum=1, speculated=["slow"]) == []


def test_stragglers_slowest_first_one_per_idle_worker():
    running = {"a": 10.0, "b": 30.0, "c": 20.0}
    assert policies.stragglers(running, [1.0], 2, multiplier=3, minimum=1) == ["b", "c"]


@given(
    current=st.integers(1, 5000),
    per_item=st.floats(1e-4, 100),
    target=st.floats(0.1, 600),
)
def test_next_size_moves_toward_the_target_within_bounds(current, per_item, target):
    size = policies.next_size(current, per_item, target, minimum=1, maximum=5000)
    assert 1 <= size <= 5000
    assert size <= max(1, current * 4) and size >= min(current, 5000) // 4 - 1
    ideal = target / per_item
    # never overshoots: it lands between the current size and the ideal one (rounding aside)
    low, high = sorted((current, min(5000, max(1, ideal))))
    assert low - 1 <= size <= high + 1


def test_next_size_converges_on_a_steady_workload():
    size = 1
    for _ in range(20):
        size = policies.next_size(size, 0.25, 5.0)
    assert size == 20


def test_seconds_per_item():
    assert policies.seconds_per_item([]) == 0.0
    assert policies.seconds_per_item([(3.0, 3), (1.0, 1)]) == 1.0
