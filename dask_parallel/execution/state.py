"""The job's decision core: retries, thresholds and status, driven one event at a time.

Nothing here touches Dask, files or clocks, so tests can replay any sequence of attempt
outcomes and check every decision.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Iterable, Mapping, Sequence

from dask_parallel.execution import policies


class Outcome(str, enum.Enum):
    """How one attempt of one mini-batch ended."""

    SUCCEEDED = "succeeded"
    RUN_ERROR = "run_error"  # run() raised
    INVALID_RETURN = "invalid_return"  # None, or not a list/tuple/DataFrame
    READ_ERROR = "read_error"  # the mini-batch's data could not be read
    TIMEOUT = "timeout"  # run() exceeded retry_settings.timeout; its process was replaced
    PROCESS_DIED = "process_died"  # the worker process died while running it
    INIT_ERROR = "init_error"  # init() failed before run() could be called
    NOT_STARTED = "not_started"  # its worker went away before the attempt began

    @property
    def charges_attempt(self) -> bool:
        return self not in (Outcome.INIT_ERROR, Outcome.NOT_STARTED)


class Action(str, enum.Enum):
    """What the driver must do after an event."""

    RETRY = "retry"  # submit the next attempt
    RESUBMIT = "resubmit"  # submit the same attempt number again (nothing was charged)
    DONE = "done"  # the mini-batch reached a final state
    IGNORE = "ignore"  # a duplicate or late report; nothing changes
    SPLIT = "split"  # run the halves of the mini-batch instead (split_on_failure)


@dataclasses.dataclass(frozen=True)
class Report:
    """The facts of one finished attempt that the decisions depend on."""

    mini_batch_id: str
    attempt: int
    outcome: Outcome
    total_items: int | None = None
    succeeded_items: int = 0
    error: str | None = None
    error_names: tuple[str, ...] = ()  # the raised exception's class names (retry_on / no_retry_on)
    elapsed: float | None = None  # seconds the attempt took (speculation compares these)


@dataclasses.dataclass(frozen=True)
class Policy:
    """Thresholds and retry limits; ``-1`` (counts) and ``100`` (percent) disable a check."""

    max_attempts: int = 2
    error_threshold: int = -1
    mini_batch_error_threshold: int = -1
    allowed_failed_percent: float = 100.0
    max_init_failures: int = 2
    # Beyond Azure; the defaults keep Azure's behaviour.
    split_on_failure: bool = False
    retry_on: tuple[str, ...] = ()
    no_retry_on: tuple[str, ...] = ()
    backoff_initial: float = 0.0
    backoff_max: float = 60.0
    speculation: bool = False
    speculation_multiplier: float = 3.0
    speculation_min_seconds: float = 10.0


# Outcomes whose error came from the entry script's code and carries an exception type.
SCRIPT_ERRORS = (Outcome.RUN_ERROR, Outcome.READ_ERROR)


@dataclasses.dataclass
class MiniBatchState:
    attempt: int = 1  # the attempt number currently allowed to report
    final: str | None = None  # "succeeded" | "failed"
    total_items: int | None = None
    succeeded_items: int = 0
    last_error: str | None = None
    winning_attempt: int | None = None
    retry_delay: float = 0.0  # seconds to wait before the attempt the last RETRY asked for
    parent: str | None = None  # the mini-batch this one is a half of (split_on_failure)
    children: tuple[str, ...] = ()  # its halves, in input order, once it was split


NO_SUCCESS_MESSAGE = (
    "No succeeded mini batch item returned from run(): every mini-batch failed. "
    "Check logs/job_error.txt and logs/user/error/ for the cause."
)


class JobState:
    """Track every mini-batch of a job and decide retries, aborts and the final status."""

    def __init__(
        self, mini_batch_ids: Iterable[str], policy: Policy, *, rng: random.Random | None = None
    ) -> None:
        self.policy = policy
        self.mini_batches = {mb_id: MiniBatchState() for mb_id in mini_batch_ids}
        self.pieces: dict[str, MiniBatchState] = {}  # halves of split mini-batches, any depth
        self.durations: list[float] = []  # elapsed seconds of succeeded attempts
        self.growing = False  # more mini-batches are still to be cut (sized by time)
        self._rng = rng or random.Random()
        self.all_scheduled = False
        self.init_failures = 0
        self.attempts = 0
        self.status: str | None = None  # None while running, then "Completed" | "Failed"
        self.reason: str | None = None
        self.pending = len(self.mini_batches)
        self._succeeded = self._failed = 0
        self._items_succeeded = self._items_processed = 0

    # -- counts (kept incrementally: a job may have many thousands of mini-batches) ----
    @property
    def total(self) -> int:
        return len(self.mini_batches)

    @property
    def succeeded(self) -> int:
        return self._succeeded

    @property
    def failed(self) -> int:
        return self._failed

    @property
    def items_succeeded(self) -> int:
        return self._items_succeeded

    @property
    def items_failed(self) -> int:
        return self._items_processed - self._items_succeeded

    @property
    def items_processed(self) -> int:
        return self._items_processed

    @property
    def finished(self) -> bool:
        return self.status is not None

    # -- events ---------------------------------------------------------------------
    def restore(self, mb_id: str, final: str, total: int | None, succeeded: int, attempt: int) -> None:
        """Mark a mini-batch final from an earlier run (resume)."""
        state = self.mini_batches[mb_id]
        if state.final is not None:
            return
        state.total_items, state.succeeded_items = total, succeeded
        state.winning_attempt = attempt if final == "succeeded" else None
        state.attempt = attempt
        self._count(state, final)
        self.pending -= 1

    def record(self, report: Report) -> Action:
        """Apply one attempt's report and say what to do next."""
        state = self.mini_batches.get(report.mini_batch_id) or self.pieces[report.mini_batch_id]
        if self.finished or state.final is not None or report.attempt != state.attempt or state.children:
            return Action.IGNORE
        if report.total_items is not None:
            state.total_items = report.total_items
        if report.error:
            state.last_error = report.error
        if report.outcome is Outcome.NOT_STARTED:
            return Action.RESUBMIT
        if report.outcome is Outcome.INIT_ERROR:
            self.init_failures += 1
            if self.init_failures > self.policy.max_init_failures:
                self._fail(
                    f"The init() in the entry script had raised exception for {self.init_failures} "
                    f"times. Please check workers log to find the cause. Last error: {report.error}"
                )
                return Action.IGNORE
            return Action.RESUBMIT
        self.attempts += 1
        if report.outcome is Outcome.SUCCEEDED:
            state.succeeded_items = report.succeeded_items
            state.winning_attempt = report.attempt
            if report.elapsed is not None:
                self.durations.append(report.elapsed)
            self._settle(state, "succeeded")
        elif state.attempt < self.policy.max_attempts and self._retryable(report):
            state.attempt += 1
            state.retry_delay = self._backoff(report, state.attempt - 1)
            return Action.RETRY
        elif self._splittable(report, state):
            return Action.SPLIT
        else:
            self._settle(state, "failed")
        return Action.DONE

    def split(self, mb_id: str, halves: Sequence[tuple[str, int]]) -> None:
        """Replace a mini-batch that asked for :attr:`Action.SPLIT` by its halves.

        ``halves`` are ``(id, item count)`` in input order; each starts at attempt 1 and
        is retried, and split again, by the same rules. The mini-batch becomes final once
        every half is: its items are the halves' items.
        """
        state = self.mini_batches.get(mb_id) or self.pieces[mb_id]
        if state.final is not None or state.children:
            raise ValueError(f"mini batch {mb_id} is final or split already")
        if len(halves) < 2:
            raise ValueError(f"mini batch {mb_id} needs at least two halves, got {len(halves)}")
        state.children = tuple(piece_id for piece_id, _ in halves)
        for piece_id, count in halves:
            self.pieces[piece_id] = MiniBatchState(total_items=count, parent=mb_id)

    def root(self, mb_id: str) -> str:
        """The mini-batch of the plan that ``mb_id`` (a mini-batch or a half) belongs to."""
        while mb_id in self.pieces:
            parent = self.pieces[mb_id].parent
            assert parent is not None
            mb_id = parent
        return mb_id

    def leaves(self, mb_id: str) -> list[str]:
        """The unsplit pieces a mini-batch ended up as, in input order (itself when never split)."""
        state = self.mini_batches.get(mb_id) or self.pieces[mb_id]
        if not state.children:
            return [mb_id]
        return [leaf for child in state.children for leaf in self.leaves(child)]

    def speculation_candidates(
        self, running: Mapping[str, float], idle_workers: int, speculated=()
    ) -> list[str]:
        """Running attempts to duplicate on idle workers (``policy.speculation``).

        ``running`` maps attempt keys to how long each has been running. Asked only when
        nothing is waiting to be submitted: a duplicate then takes no worker from new work.
        """
        if not self.policy.speculation or self.finished:
            return []
        return policies.stragglers(
            running,
            self.durations,
            idle_workers,
            multiplier=self.policy.speculation_multiplier,
            minimum=self.policy.speculation_min_seconds,
            speculated=speculated,
        )

    def grow(self, mb_id: str) -> None:
        """Add a mini-batch cut while the job runs; the job cannot complete until :meth:`stop_growing`."""
        if mb_id in self.mini_batches:
            raise ValueError(f"mini batch {mb_id} is already part of the job")
        self.growing = True
        self.mini_batches[mb_id] = MiniBatchState()
        self.pending += 1

    def stop_growing(self) -> None:
        """Every mini-batch has been cut: the job may complete once they are final."""
        self.growing = False
        self._check()

    def mark_all_scheduled(self) -> None:
        """Every mini-batch has been submitted at least once: the percent check may start."""
        self.all_scheduled = True
        self._check()

    def abort(self, reason: str, status: str = "Failed") -> None:
        """End the job from outside the rules (no progress, infrastructure, or "Canceled")."""
        self._fail(reason, status)

    # -- rules ----------------------------------------------------------------------
    def _retryable(self, report: Report) -> bool:
        if report.outcome not in SCRIPT_ERRORS:
            return True  # timeouts, lost processes and bad returns keep Azure's rule
        return policies.is_retryable(report.error_names, self.policy.retry_on, self.policy.no_retry_on)

    def _backoff(self, report: Report, retry: int) -> float:
        if report.outcome not in SCRIPT_ERRORS:
            return 0.0
        return policies.backoff_delay(
            retry, self.policy.backoff_initial, self.policy.backoff_max, self._rng.random()
        )

    def _splittable(self, report: Report, state: MiniBatchState) -> bool:
        return (
            self.policy.split_on_failure
            and report.outcome is Outcome.RUN_ERROR
            and bool(policies.halves(state.total_items or 0))
        )

    def _settle(self, state: MiniBatchState, final: str) -> None:
        """A mini-batch or a half reached a final state; a parent whose halves all did follows."""
        while state.parent is not None:
            state.final = final
            parent = self.mini_batches.get(state.parent) or self.pieces[state.parent]
            halves = [self.pieces[child] for child in parent.children]
            if any(half.final is None for half in halves):
                return
            parent.total_items = sum(half.total_items or 0 for half in halves)
            parent.succeeded_items = sum(half.succeeded_items for half in halves if half.final == "succeeded")
            final = "succeeded" if any(half.final == "succeeded" for half in halves) else "failed"
            state = parent
        self._finalize(state, final)

    def _finalize(self, state: MiniBatchState, final: str) -> None:
        self._count(state, final)
        self.pending -= 1
        self._check()

    def _count(self, state: MiniBatchState, final: str) -> None:
        state.final = final
        self._items_processed += state.total_items or 0
        if final == "succeeded":
            self._succeeded += 1
            self._items_succeeded += state.succeeded_items
        else:
            self._failed += 1

    def _fail(self, reason: str, status: str = "Failed") -> None:
        if self.status is None:
            self.status, self.reason = status, reason

    def _check(self) -> None:
        if self.finished:
            return
        policy = self.policy
        failed_items = self.items_failed
        if policy.error_threshold != -1 and failed_items > policy.error_threshold:
            self._fail(
                f"The number of failed items is {failed_items}, which exceeds error threshold "
                f"{policy.error_threshold}."
            )
            return
        failed = self.failed
        if policy.mini_batch_error_threshold != -1 and failed > policy.mini_batch_error_threshold:
            self._fail(
                f"The number of failed mini batches is {failed}, which exceeds mini batch error "
                f"threshold {policy.mini_batch_error_threshold}."
            )
            return
        if self.all_scheduled and policy.allowed_failed_percent < 100 and self.total:
            percent = 100.0 * failed / self.total
            if percent > policy.allowed_failed_percent:
                self._fail(
                    f"The percentage of failed mini batches is {percent:g}% ({failed} of "
                    f"{self.total}), which exceeds allowed failed percent "
                    f"{policy.allowed_failed_percent:g}%."
                )
                return
        if self.pending == 0 and not self.growing:
            if self.succeeded == 0:
                self._fail(NO_SUCCESS_MESSAGE)
            else:
                self.status = "Completed"
