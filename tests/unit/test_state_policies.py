"""Decisions beyond Azure in the state machine: retry by type, backoff, bisection, speculation."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dask_parallel.execution.state import Action, JobState, Outcome, Policy, Report


def fail(mb, attempt=1, names=("ValueError", "Exception"), outcome=Outcome.RUN_ERROR, total=4):
    return Report(mb, attempt, outcome, total, 0, "boom", error_names=tuple(names))


def ok(mb, attempt=1, total=4, elapsed=None):
    return Report(mb, attempt, Outcome.SUCCEEDED, total, total, elapsed=elapsed)


def test_defaults_keep_azures_blind_retries():
    state = JobState(["a"], Policy(max_attempts=3))
    assert state.record(fail("a", 1)) is Action.RETRY
    assert state.mini_batches["a"].retry_delay == 0.0
    assert state.record(fail("a", 2)) is Action.RETRY
    assert state.record(fail("a", 3)) is Action.DONE
    assert state.attempts == 3


def test_no_retry_on_fails_a_deterministic_error_at_once():
    state = JobState(["a", "b"], Policy(max_attempts=5, no_retry_on=("ValueError",)))
    assert state.record(fail("a", 1)) is Action.DONE
    assert state.mini_batches["a"].final == "failed"
    assert state.record(fail("b", 1, names=("ConnectionError", "OSError"))) is Action.RETRY


def test_retry_on_retries_only_the_named_errors():
    state = JobState(["a", "b"], Policy(max_attempts=5, retry_on=("ConnectionError",)))
    assert state.record(fail("a", 1, names=("ConnectionResetError", "ConnectionError"))) is Action.RETRY
    assert state.record(fail("b", 1, names=("KeyError", "LookupError"))) is Action.DONE


def test_timeouts_and_lost_processes_keep_azures_rule():
    state = JobState(["a", "b"], Policy(max_attempts=2, retry_on=("ConnectionError",)))
    assert state.record(fail("a", 1, names=(), outcome=Outcome.TIMEOUT)) is Action.RETRY
    assert state.record(fail("b", 1, names=(), outcome=Outcome.PROCESS_DIED)) is Action.RETRY
    assert state.mini_batches["a"].retry_delay == 0.0


def test_backoff_grows_with_each_retry_and_is_capped():
    state = JobState(["a"], Policy(max_attempts=6, backoff_initial=1, backoff_max=3), rng=random.Random(0))
    delays = []
    for attempt in range(1, 6):
        assert state.record(fail("a", attempt)) is Action.RETRY
        delays.append(state.mini_batches["a"].retry_delay)
    for delay, base in zip(delays, (1, 2, 3, 3, 3)):
        assert base / 2 <= delay <= base


def test_split_then_only_the_bad_item_fails():
    state = JobState(["a"], Policy(max_attempts=1, split_on_failure=True))
    assert state.record(fail("a", 1, total=4)) is Action.SPLIT
    state.split("a", [("a/0", 2), ("a/1", 2)])
    assert state.record(fail("a", 1, total=4)) is Action.IGNORE  # the split mini-batch no longer reports
    assert state.record(ok("a/0", total=2)) is Action.DONE
    assert state.status == "Running"
    assert state.record(fail("a/1", total=2)) is Action.SPLIT
    state.split("a/1", [("a/1/0", 1), ("a/1/1", 1)])
    assert state.record(fail("a/1/0", total=1)) is Action.DONE  # a single item is not split
    assert state.status == "Running"
    assert state.record(ok("a/1/1", total=1)) is Action.DONE
    assert state.status == "Completed"
    assert (state.items_succeeded, state.items_failed, state.succeeded, state.failed) == (3, 1, 1, 0)
    assert state.leaves("a") == ["a/0", "a/1/0", "a/1/1"]
    assert state.root("a/1/0") == "a"


def test_a_split_mini_batch_whose_items_all_fail_is_failed():
    state = JobState(["a"], Policy(max_attempts=1, split_on_failure=True))
    state.record(fail("a", total=2))
    state.split("a", [("a/0", 1), ("a/1", 1)])
    state.record(fail("a/0", total=1))
    state.record(fail("a/1", total=1))
    assert state.mini_batches["a"].final == "failed"
    assert state.status == "Failed"  # no mini-batch succeeded


def test_only_run_errors_are_split():
    state = JobState(["a", "b"], Policy(max_attempts=1, split_on_failure=True))
    assert state.record(fail("a", outcome=Outcome.TIMEOUT)) is Action.DONE
    assert state.record(fail("b", outcome=Outcome.INVALID_RETURN)) is Action.DONE


def test_split_items_count_against_error_threshold_only_when_they_fail():
    state = JobState(["a", "b"], Policy(max_attempts=1, split_on_failure=True, error_threshold=1))
    state.record(fail("a", total=2))
    state.split("a", [("a/0", 1), ("a/1", 1)])
    state.record(ok("a/0", total=1))
    state.record(fail("a/1", total=1))
    assert state.status == "Running"  # one failed item: at the threshold, not above
    state.record(fail("b", total=2))
    state.split("b", [("b/0", 1), ("b/1", 1)])
    state.record(fail("b/0", total=1))
    assert state.status == "Running"  # b is not final yet
    state.record(ok("b/1", total=1))
    assert state.status == "Failed"
    assert "failed items is 2" in state.reason


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=8),
    data=st.data(),
    max_attempts=st.integers(1, 3),
)
def test_bisection_fails_exactly_the_poisoned_items_and_keeps_order(sizes, data, max_attempts):
    items = {f"m{i}": [f"m{i}-{j}" for j in range(n)] for i, n in enumerate(sizes)}
    everything = [item for group in items.values() for item in group]
    poisoned = set(data.draw(st.lists(st.sampled_from(everything), unique=True, max_size=len(everything))))
    state = JobState(list(items), Policy(max_attempts=max_attempts, split_on_failure=True))
    contents = dict(items)
    queue = [(mb, 1) for mb in items]
    while queue:
        mb, attempt = queue.pop(data.draw(st.integers(0, len(queue) - 1)))  # any completion order
        group = contents[mb]
        bad = any(item in poisoned for item in group)
        report = fail(mb, attempt, total=len(group)) if bad else ok(mb, attempt, total=len(group))
        action = state.record(report)
        if action is Action.RETRY:
            queue.append((mb, state.mini_batches.get(mb, state.pieces.get(mb)).attempt))
        elif action is Action.SPLIT:
            middle = (len(group) + 1) // 2
            halves = [(f"{mb}/0", group[:middle]), (f"{mb}/1", group[middle:])]
            state.split(mb, [(piece, len(part)) for piece, part in halves])
            for piece, part in halves:
                contents[piece] = part
                queue.append((piece, 1))
    assert state.pending == 0
    assert state.items_failed == len(poisoned)
    assert state.items_succeeded == len(everything) - len(poisoned)
    leaves = [leaf for mb in items for leaf in state.leaves(mb)]
    assert [item for leaf in leaves for item in contents[leaf]] == everything  # input order, once each
    failed_leaves = [
        leaf for leaf in leaves if state.pieces.get(leaf, state.mini_batches.get(leaf)).final == "failed"
    ]
    assert sorted(item for leaf in failed_leaves for item in contents[leaf]) == sorted(poisoned)
    assert all(len(contents[leaf]) == 1 for leaf in failed_leaves)
    expected = "Completed" if len(poisoned) < len(everything) else "Failed"
    assert state.status == expected


def test_speculation_off_by_default_and_asks_for_slow_attempts_when_on():
    state = JobState(["a", "b", "c"], Policy())
    state.record(ok("a", elapsed=1.0))
    assert state.speculation_candidates({"k-b": 100.0}, 1) == []
    state = JobState(["a", "b", "c"], Policy(speculation=True, speculation_min_seconds=2))
    assert state.speculation_candidates({"k-b": 100.0}, 1) == []  # nothing finished to compare with
    state.record(ok("a", elapsed=1.0))
    assert state.speculation_candidates({"k-b": 100.0, "k-c": 1.5}, 1) == ["k-b"]
    assert state.speculation_candidates({"k-b": 100.0}, 1, speculated={"k-b"}) == []


def test_the_first_of_two_copies_wins_and_the_other_is_ignored():
    state = JobState(["a"], Policy(speculation=True))
    assert state.record(ok("a", 1)) is Action.DONE
    assert state.record(ok("a", 1)) is Action.IGNORE
    assert state.items_succeeded == 4


NAMES = ["ValueError", "KeyError", "ConnectionError", "TimeoutError", "OSError"]


@settings(max_examples=200, deadline=None)
@given(
    errors=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8),
    retry_on=st.lists(st.sampled_from(NAMES), unique=True, max_size=3),
    no_retry_on=st.lists(st.sampled_from(NAMES), unique=True, max_size=3),
    max_attempts=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_retries_stop_at_the_first_error_not_to_retry_and_never_exceed_max_attempts(
    errors, retry_on, no_retry_on, max_attempts, seed
):
    no_retry_on = [name for name in no_retry_on if name not in retry_on]
    policy = Policy(
        max_attempts=max_attempts,
        retry_on=tuple(retry_on),
        no_retry_on=tuple(no_retry_on),
        backoff_initial=0.5,
        backoff_max=4,
    )
    state = JobState(["a"], policy, rng=random.Random(seed))
    attempt = 0
    for attempt, name in enumerate(errors, start=1):
        action = state.record(fail("a", attempt, names=(name,)))
        retryable = name not in no_retry_on and (not retry_on or name in retry_on)
        if not retryable or attempt == max_attempts:
            assert action is Action.DONE
            break
        assert action is Action.RETRY
        base = min(4.0, 0.5 * 2 ** (attempt - 1))
        assert base / 2 <= state.mini_batches["a"].retry_delay <= base
    assert state.attempts == attempt <= max_attempts
