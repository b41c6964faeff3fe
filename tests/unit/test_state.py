"""The decision core, driven event by event without a cluster."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dask_parallel.execution.state import NO_SUCCESS_MESSAGE, Action, JobState, Outcome, Policy, Report


def ok(mb, attempt=1, total=10, succeeded=None):
    return Report(mb, attempt, Outcome.SUCCEEDED, total, total if succeeded is None else succeeded)


def fail(mb, attempt=1, outcome=Outcome.RUN_ERROR, total=10):
    return Report(mb, attempt, outcome, total, 0, "boom")


def test_completes_when_all_succeed():
    state = JobState(["a", "b"], Policy())
    assert state.record(ok("a")) is Action.DONE
    assert state.status == "Running"
    assert state.record(ok("b")) is Action.DONE
    assert state.status == "Completed"
    assert (state.items_succeeded, state.items_failed) == (20, 0)


def test_retries_until_max_attempts_then_counts_failed():
    state = JobState(["a", "b"], Policy(max_attempts=3))
    assert state.record(fail("a", 1)) is Action.RETRY
    assert state.record(fail("a", 2, Outcome.TIMEOUT)) is Action.RETRY
    assert state.record(fail("a", 3, Outcome.PROCESS_DIED)) is Action.DONE
    assert state.failed == 1
    state.record(ok("b"))
    assert state.status == "Completed"  # thresholds disabled: failed mini-batches do not fail the job


def test_transient_failure_then_success():
    state = JobState(["a"], Policy(max_attempts=2))
    assert state.record(fail("a", 1)) is Action.RETRY
    assert state.record(ok("a", 2)) is Action.DONE
    assert state.status == "Completed"
    assert state.mini_batches["a"].winning_attempt == 2


def test_late_and_duplicate_reports_are_ignored():
    state = JobState(["a", "b"], Policy(max_attempts=2))
    state.record(fail("a", 1))
    assert state.record(ok("a", 1)) is Action.IGNORE  # a late report of the superseded attempt
    assert state.record(ok("a", 2)) is Action.DONE
    assert state.record(ok("a", 2)) is Action.IGNORE
    assert state.items_succeeded == 10


def test_item_threshold_message_is_azures():
    state = JobState(["a", "b", "c", "d"], Policy(error_threshold=2))
    state.record(ok("a", succeeded=9))
    state.record(ok("b", succeeded=9))
    assert state.status == "Running"
    state.record(ok("c", succeeded=9))
    assert state.status == "Failed"
    assert state.reason == "The number of failed items is 3, which exceeds error threshold 2."


def test_item_threshold_equal_is_allowed():
    state = JobState(["a", "b", "c"], Policy(error_threshold=3))
    for mb in "abc":
        state.record(ok(mb, succeeded=9))
    assert state.status == "Completed"


def test_mini_batch_threshold():
    state = JobState(["a", "b"], Policy(max_attempts=1, mini_batch_error_threshold=0))
    state.record(fail("a"))
    assert state.status == "Failed"
    assert "failed mini batches is 1, which exceeds mini batch error threshold 0" in state.reason


def test_mini_batch_threshold_one_allows_one():
    state = JobState(["a", "b"], Policy(max_attempts=1, mini_batch_error_threshold=1))
    state.record(fail("a"))
    state.record(ok("b"))
    assert state.status == "Completed"


def test_percent_waits_until_everything_is_scheduled():
    state = JobState(["a", "b", "c", "d"], Policy(max_attempts=1, allowed_failed_percent=10))
    state.record(fail("a"))
    assert state.status == "Running"
    state.mark_all_scheduled()
    assert state.status == "Failed"
    assert "25% (1 of 4)" in state.reason


def test_init_failures_do_not_charge_attempts_until_the_limit():
    state = JobState(["a"], Policy(max_attempts=1, max_init_failures=2))
    assert state.record(Report("a", 1, Outcome.INIT_ERROR, error="bad model")) is Action.RESUBMIT
    assert state.record(Report("a", 1, Outcome.INIT_ERROR, error="bad model")) is Action.RESUBMIT
    assert state.status == "Running"
    state.record(Report("a", 1, Outcome.INIT_ERROR, error="bad model"))
    assert state.status == "Failed"
    assert state.reason.startswith("The init() in the entry script had raised exception for 3 times.")


def test_not_started_is_resubmitted_free():
    state = JobState(["a"], Policy(max_attempts=1))
    assert state.record(Report("a", 1, Outcome.NOT_STARTED)) is Action.RESUBMIT
    assert state.record(ok("a")) is Action.DONE


def test_all_failed_is_a_failed_job():
    state = JobState(["a"], Policy(max_attempts=1))
    state.record(fail("a"))
    assert state.status == "Failed"
    assert state.reason == NO_SUCCESS_MESSAGE


def test_empty_returns_count_as_failed_items_only():
    state = JobState(["a"], Policy())
    assert state.record(ok("a", succeeded=0)) is Action.DONE
    assert state.status == "Completed"
    assert state.items_failed == 10


def test_abort_and_cancel():
    state = JobState(["a"], Policy())
    state.abort("The job was canceled by the user.", status="Canceled")
    assert state.status == "Canceled"
    assert state.record(ok("a")) is Action.IGNORE


OUTCOMES = st.sampled_from(list(Outcome))


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=6),
    max_attempts=st.integers(min_value=1, max_value=4),
    error_threshold=st.integers(min_value=-1, max_value=20),
    mb_threshold=st.integers(min_value=-1, max_value=4),
    percent=st.sampled_from([100.0, 50.0, 10.0, 0.0]),
    script=st.lists(st.tuples(st.integers(0, 5), OUTCOMES, st.integers(0, 10)), max_size=60),
)
def test_state_machine_invariants(n, max_attempts, error_threshold, mb_threshold, percent, script):
    """Replay random outcomes the way the driver would, and check the rules hold throughout."""
    ids = [f"mb{i}" for i in range(n)]
    policy = Policy(max_attempts, error_threshold, mb_threshold, percent, max_init_failures=3)
    state = JobState(ids, policy)
    state.mark_all_scheduled()
    charged = dict.fromkeys(ids, 0)
    for which, outcome, succeeded in script:
        mb = ids[which % n]
        attempt = state.mini_batches[mb].attempt
        was_final = state.mini_batches[mb].final is not None
        action = state.record(Report(mb, attempt, outcome, 10, succeeded, "x"))
        if was_final or (state.finished and action is Action.IGNORE):
            assert action is Action.IGNORE
            continue
        if outcome.charges_attempt:
            charged[mb] += 1
            assert charged[mb] <= max_attempts  # never more attempts than allowed
        if action is Action.RETRY:
            assert outcome is not Outcome.SUCCEEDED and charged[mb] < max_attempts
        if action is Action.DONE and outcome is not Outcome.SUCCEEDED:
            assert charged[mb] == max_attempts
        if state.status == "Failed" and state.reason.startswith("The number of failed items"):
            assert error_threshold != -1 and state.items_failed > error_threshold
        if state.status == "Completed":
            assert state.pending == 0 and state.succeeded >= 1
            assert error_threshold == -1 or state.items_failed <= error_threshold
            assert mb_threshold == -1 or state.failed <= mb_threshold
            assert 100.0 * state.failed / n <= percent
        if state.finished:
            break
    assert state.succeeded + state.failed + state.pending == n
