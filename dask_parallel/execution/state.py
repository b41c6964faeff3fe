"""The job's decision core: retries, thresholds and status, driven one event at a time.

Every decision about a job is taken here; the driver and the engine only feed events:
``record`` (an attempt's report), ``mark_all_scheduled``, ``idle`` (how long no mini-batch
has finished), ``cancel``, ``outputs_failed``, ``end`` (the driver loop stopped) and
``abort`` (an infrastructure failure). Nothing here touches Dask, files or clocks, so tests
can replay any sequence of events and check every decision.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Iterable, Mapping, Sequence

from dask_parallel.execution import policies


class JobStatus(str, enum.Enum):
    """A job's status, as Azure ML names it (a ``str``, so it compares and serialises as text)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    def __str__(self) -> str:
        return self.value


class Final(str, enum.Enum):
    """How a mini-batch ended (a ``str``, as written to the ledger)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


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
    progress_update_timeout: float | None = None  # seconds without a finished mini-batch; None: no limit
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
    final: Final | None = None
    total_items: int | None = None
    succeeded_items: int = 0
    last_error: str | None = None
    winning_attempt: int | None = None
    retry_delay: float = 0.0  # seconds to wait before the attempt the last RETRY asked for
    parent: str | None = None  # the mini-batch this one is a half of (split_on_failure)
    children: tuple[str, ...] = ()  # its halves, in input order, once it was split


CANCELED_MESSAGE = "The job was canceled by the user."
ENDED_EARLY_MESSAGE = "The job ended before every mini batch was processed."

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
        self.first_init_error: str | None = None  # the cause; later ones are often its echoes
        self.attempts = 0
        self.retries = 0  # attempts answered with Action.RETRY
        self.status = JobStatus.RUNNING
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
    def done(self) -> int:
        """Mini-batches in a final state (restored ones included)."""
        return self._succeeded + self._failed

    @property
    def finished(self) -> bool:
        return self.status is not JobStatus.RUNNING

    # -- events ---------------------------------------------------------------------
    def restore(self, mb_id: str, final: str, total: int | None, succeeded: int, attempt: int) -> None:
        """Mark a mini-batch final from an earlier run (resume)."""
        state = self.mini_batches[mb_id]
        if state.final is not None:
            return
        state.total_items, state.succeeded_items = total, succeeded
        state.winning_attempt = attempt if final == Final.SUCCEEDED else None
        state.attempt = attempt
        self._count(state, Final(final))
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
            self.first_init_error = self.first_init_error or report.error
            if self.init_failures > self.policy.max_init_failures:
                self._fail(
                    f"The init() in the entry script had raised exception for {self.init_failures} "
                    f"times. Please check workers log to find the cause. First error: "
                    f"{self.first_init_error}"
                )
                return Action.IGNORE
            return Action.RESUBMIT
        self.attempts += 1
        if report.outcome is Outcome.SUCCEEDED:
            state.succeeded_items = report.succeeded_items
            state.winning_attempt = report.attempt
            if report.elapsed is not None:
                self.durations.append(report.elapsed)
            self._settle(state, Final.SUCCEEDED)
        elif state.attempt < self.policy.max_attempts and self._retryable(report):
            state.attempt += 1
            self.retries += 1
            state.retry_delay = self._backoff(report, state.attempt - 1)
            return Action.RETRY
        elif self._splittable(report, state):
            return Action.SPLIT
        else:
            self._settle(state, Final.FAILED)
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
        self, running: Mapping[str, float], idle_workers: int, speculated: Iterable[str] = ()
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

    def idle(self, seconds: float, hint: str | None = None) -> bool:
        """No mini-batch has finished for ``seconds``; True when that ends the job
        (``--progress_update_timeout``). ``hint`` says where to look (the driver knows)."""
        limit = self.policy.progress_update_timeout
        if self.finished or limit is None or seconds <= limit:
            return False
        self._fail(
            f"No progress update in {int(limit)} seconds: no mini batch finished in that time "
            "(--progress_update_timeout). "
            + (hint or "Check logs/sys/node/ for what the workers were doing.")
        )
        return True

    def cancel(self) -> None:
        """The user stopped the job (Ctrl+C)."""
        self._fail(CANCELED_MESSAGE, JobStatus.CANCELED)

    def end(self) -> None:
        """The driver loop stopped: a job still running then did not process every mini-batch."""
        self._fail(ENDED_EARLY_MESSAGE)

    def outputs_failed(self, error: str) -> None:
        """Writing the outputs of a completed job failed: the job fails, no partial output counts."""
        if self.status is JobStatus.COMPLETED:
            self.status = JobStatus.FAILED
            self.reason = f"Writing the outputs failed: {error}"

    def abort(self, reason: str, status: JobStatus | str = JobStatus.FAILED) -> None:
        """End the job from outside the rules (an infrastructure failure)."""
        self._fail(reason, JobStatus(status))

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

    def _settle(self, state: MiniBatchState, final: Final) -> None:
        """A mini-batch or a half reached a final state; a parent whose halves all did follows."""
        while state.parent is not None:
            state.final = final
            parent = self.mini_batches.get(state.parent) or self.pieces[state.parent]
            halves = [self.pieces[child] for child in parent.children]
            if any(half.final is None for half in halves):
                return
            parent.total_items = sum(half.total_items or 0 for half in halves)
            parent.succeeded_items = sum(
                half.succeeded_items for half in halves if half.final == Final.SUCCEEDED
            )
            final = Final.SUCCEEDED if any(half.final == Final.SUCCEEDED for half in halves) else Final.FAILED
            state = parent
        self._finalize(state, final)

    def _finalize(self, state: MiniBatchState, final: Final) -> None:
        self._count(state, final)
        self.pending -= 1
        self._check()

    def _count(self, state: MiniBatchState, final: Final) -> None:
        state.final = final
        self._items_processed += state.total_items or 0
        if final is Final.SUCCEEDED:
            self._succeeded += 1
            self._items_succeeded += state.succeeded_items
        else:
            self._failed += 1

    def _fail(self, reason: str, status: JobStatus = JobStatus.FAILED) -> None:
        if self.status is JobStatus.RUNNING:
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
                self.status = JobStatus.COMPLETED
