"""The events the driver and the engine feed the state machine, besides attempt reports."""

import json

from dask_parallel.execution.state import (
    CANCELED_MESSAGE,
    ENDED_EARLY_MESSAGE,
    Action,
    Final,
    JobState,
    JobStatus,
    Outcome,
    Policy,
    Report,
)


def ok(mb, attempt=1, total=10):
    return Report(mb, attempt, Outcome.SUCCEEDED, total, total)


def test_status_is_text_for_json_comparisons_and_messages():
    state = JobState(["a"], Policy())
    assert state.status is JobStatus.RUNNING and state.status == "Running"
    state.record(ok("a"))
    assert state.status is JobStatus.COMPLETED
    assert json.dumps({"status": state.status}) == '{"status": "Completed"}'
    assert f"job {state.status}" == "job Completed"
    assert state.mini_batches["a"].final is Final.SUCCEEDED
    assert f"{state.mini_batches['a'].final}" == "succeeded"


def test_idle_fails_the_job_only_past_the_progress_update_timeout():
    state = JobState(["a"], Policy(progress_update_timeout=30))
    assert state.idle(30) is False
    assert state.status is JobStatus.RUNNING
    assert state.idle(31) is True
    assert state.status is JobStatus.FAILED
    assert state.reason.startswith("No progress update in 30 seconds")
    assert state.record(ok("a")) is Action.IGNORE  # a late report changes nothing


def test_idle_without_a_limit_never_ends_the_job():
    state = JobState(["a"], Policy())
    assert state.idle(10**9) is False
    assert state.status is JobStatus.RUNNING


def test_cancel_and_end():
    canceled = JobState(["a"], Policy())
    canceled.cancel()
    canceled.end()  # ending after a cancel keeps the cancel
    assert (canceled.status, canceled.reason) == (JobStatus.CANCELED, CANCELED_MESSAGE)

    stopped = JobState(["a", "b"], Policy())
    stopped.record(ok("a"))
    stopped.end()
    assert (stopped.status, stopped.reason) == (JobStatus.FAILED, ENDED_EARLY_MESSAGE)

    finished = JobState(["a"], Policy())
    finished.record(ok("a"))
    finished.end()
    assert finished.status is JobStatus.COMPLETED and finished.reason is None


def test_outputs_failing_fails_a_completed_job_only():
    state = JobState(["a"], Policy())
    state.record(ok("a"))
    state.outputs_failed("OSError: disk full")
    assert state.status is JobStatus.FAILED
    assert state.reason == "Writing the outputs failed: OSError: disk full"

    failed = JobState(["a"], Policy(max_attempts=1))
    failed.record(Report("a", 1, Outcome.RUN_ERROR, 1, 0, "boom"))
    reason = failed.reason
    failed.outputs_failed("OSError: disk full")
    assert failed.reason == reason  # the first cause stays


def test_retries_and_done_are_counted_for_the_progress_display():
    state = JobState(["a", "b"], Policy(max_attempts=2))
    state.restore("b", "succeeded", 5, 5, 1)
    assert state.done == 1
    assert state.record(Report("a", 1, Outcome.TIMEOUT, None, 0, "slow")) is Action.RETRY
    assert state.retries == 1
    state.record(ok("a", attempt=2))
    assert (state.done, state.succeeded, state.items_succeeded) == (2, 2, 15)
