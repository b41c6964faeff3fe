"""Mini-batches sized by time: the divider's cuts, convergence and replay (no cluster)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dask_parallel.batching import file_mini_batches
from dask_parallel.execution.sizing import AdaptiveDivider
from dask_parallel.execution.state import JobState, Outcome, Policy, Report

FILES = [f"f{i:04d}" for i in range(2000)]


def drive(divider, per_item, cuts=None):
    """Cut and observe one mini-batch at a time; ``per_item(i)`` is item i's seconds."""
    taken = []
    while (cuts is None or len(taken) < cuts) and not divider.done:
        batch = divider.cut()
        cut = divider.cuts[-1]
        seconds = sum(per_item(i) for i in range(cut.start, cut.stop))
        divider.observe(seconds, cut.stop - cut.start)
        taken.append((batch, seconds))
    return taken


def test_first_mini_batch_is_small_then_the_size_converges_to_the_target():
    divider = AdaptiveDivider(FILES, 2.0, workers=1)
    taken = drive(divider, lambda i: 0.05, cuts=15)
    assert len(taken[0][0].files) == 1
    assert [round(seconds, 2) for _, seconds in taken[-3:]] == [2.0, 2.0, 2.0]


def test_the_size_follows_a_change_in_time_per_item():
    divider = AdaptiveDivider(FILES, 2.0, workers=1)
    taken = drive(divider, lambda i: 0.02 if i < 800 else 0.2)
    late = [seconds for batch, seconds in taken if batch.files[0] >= "f1200"][:-2]
    assert late and all(1.0 <= seconds <= 3.0 for seconds in late)
    assert max(len(b.files) for b, _ in taken) >= 80 > 10 >= len(taken[-3][0].files)


def test_cuts_cover_every_file_once_in_order_with_plan_ids():
    divider = AdaptiveDivider(FILES[:50], 1.0, workers=3)
    taken = drive(divider, lambda i: 0.01)
    assert [f for batch, _ in taken for f in batch.files] == FILES[:50]
    assert [b.index for b, _ in taken] == list(range(len(taken)))
    first = taken[0][0]
    assert first.id == file_mini_batches(FILES[:1], 1)[0].id  # ids depend on the files only


def test_the_last_mini_batches_spread_over_the_workers():
    divider = AdaptiveDivider(FILES[:100], 1000.0, workers=4, initial=100)
    assert len(divider.cut().files) == 25


@settings(max_examples=50, deadline=None)
@given(
    stop_after=st.integers(0, 30),
    per_item=st.lists(st.floats(0.001, 0.5), min_size=1, max_size=5),
)
def test_replay_then_continue_divides_like_an_uninterrupted_run(stop_after, per_item):
    def cost(i):
        return per_item[i % len(per_item)]

    whole = AdaptiveDivider(FILES[:300], 1.0, workers=2)
    expected = [b.id for b, _ in drive(whole, cost)]

    first = AdaptiveDivider(FILES[:300], 1.0, workers=2)
    drive(first, cost, cuts=stop_after)
    records = [vars(c) for c in first.cuts]
    resumed = AdaptiveDivider(FILES[:300], 1.0, workers=2)
    replayed = resumed.replay(records)
    assert [b.id for b in replayed] == [c.mb for c in first.cuts]
    # the remainder is cut from the size recorded last; the earlier cuts stay as they were
    rest = [b.id for b, _ in drive(resumed, cost)]
    assert [b.id for b in replayed] == expected[:stop_after]
    assert sum(len(resumed.batches[i].files) for i in [b.id for b in replayed] + rest) == 300


def test_replay_stops_at_a_cut_that_no_longer_matches_the_files():
    first = AdaptiveDivider(FILES[:20], 1.0)
    drive(first, lambda i: 0.1, cuts=3)
    records = [vars(c) for c in first.cuts]
    records[1] = {**records[1], "mb": "mb000001-000000000000"}
    resumed = AdaptiveDivider(FILES[:20], 1.0)
    assert len(resumed.replay(records)) == 1
    following = resumed.cut()  # the remainder starts after the last cut that still matches
    assert following.files[0] == "f0001" and following.index == 1


def test_a_growing_job_completes_only_once_division_stopped():
    state = JobState([], Policy())
    state.grow("a")
    state.record(Report("a", 1, Outcome.SUCCEEDED, 1, 1))
    assert state.status == "Running"
    state.grow("b")
    state.stop_growing()
    assert state.status == "Running"
    state.record(Report("b", 1, Outcome.SUCCEEDED, 1, 1))
    assert state.status == "Completed" and state.total == 2
