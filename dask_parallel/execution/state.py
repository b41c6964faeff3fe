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
from collections.abc import Iterable


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


@dataclasses.dataclass(frozen=True)
class Report:
    """The facts of one finished attempt that the decisions depend on."""

    mini_batch_id: str
    attempt: int
    outcome: Outcome
    total_items: int | None = None
    succeeded_items: int = 0
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Policy:
    """Thresholds and retry limits; ``-1`` (counts) and ``100`` (percent) disable a check."""

    max_attempts: int = 2
    error_threshold: int = -1
    mini_batch_error_threshold: int = -1
    allowed_failed_percent: float = 100.0
    max_init_failures: int = 2
    progress_update_timeout: float | None = None  # seconds without a finished mini-batch; None: no limit


@dataclasses.dataclass
class MiniBatchState:
    attempt: int = 1  # the attempt number currently allowed to report
    final: Final | None = None
    total_items: int | None = None
    succeeded_items: int = 0
    last_error: str | None = None
    winning_attempt: int | None = None


CANCELED_MESSAGE = "The job was canceled by the user."
ENDED_EARLY_MESSAGE = "The job ended before every mini batch was processed."

NO_SUCCESS_MESSAGE = (
    "No succeeded mini batch item returned from run(): every mini-batch failed. "
    "Check logs/job_error.txt and logs/user/error/ for the cause."
)


class JobState:
    """Track every mini-batch of a job and decide retries, aborts and the final status."""

    def __init__(self, mini_batch_ids: Iterable[str], policy: Policy) -> None:
        self.policy = policy
        self.mini_batches = {mb_id: MiniBatchState() for mb_id in mini_batch_ids}
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
        state = self.mini_batches[report.mini_batch_id]
        if self.finished or state.final is not None or report.attempt != state.attempt:
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
            self._finalize(state, Final.SUCCEEDED)
        elif state.attempt < self.policy.max_attempts:
            state.attempt += 1
            self.retries += 1
            return Action.RETRY
        else:
            self._finalize(state, Final.FAILED)
        return Action.DONE

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
        if self.pending == 0:
            if self.succeeded == 0:
                self._fail(NO_SUCCESS_MESSAGE)
            else:
                self.status = JobStatus.COMPLETED
