"""The plan kept in the run directory: listing digest, mini-batches read in windows, listing comparison."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dask_parallel as dp
from dask_parallel.batching import file_mini_batches
from dask_parallel.inputs.planning import plan_input
from dask_parallel.rundir import plan_store
from dask_parallel.rundir.plan_store import (
    ListingWriter,
    StoredMiniBatches,
    compare_listings,
    listing_table,
    read_listing,
)
from dask_parallel.spec.job_spec import build_job_spec

FILES = [f"/data/f{i:04d}.txt" for i in range(95)]


def test_the_listing_digest_does_not_depend_on_chunking(tmp_path):
    whole = ListingWriter(None)
    whole.add(FILES, list(range(95)), ["v"] * 95)
    chunked = ListingWriter(str(tmp_path / "plan"))
    for start in range(0, 95, 7):
        chunked.add(
            FILES[start : start + 7],
            list(range(start, min(95, start + 7))),
            ["v"] * len(FILES[start : start + 7]),
        )
    assert whole.close() == chunked.close()
    table = read_listing(str(tmp_path / "plan"))
    assert table["path"].to_pylist() == FILES and table["size"].to_pylist() == list(range(95))


def test_a_changed_size_or_version_changes_the_digest():
    def digest(sizes, versions):
        writer = ListingWriter(None)
        writer.add(["a", "b"], sizes, versions)
        return writer.close().digest

    assert digest([1, 2], ["x", "y"]) != digest([1, 3], ["x", "y"])
    assert digest([1, 2], ["x", "y"]) != digest([1, 2], ["x", None])


def test_mini_batches_are_read_back_a_window_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(plan_store, "ROWS_PER_BATCH", 20)  # 2 mini-batches of 10 files per window
    expected = file_mini_batches(FILES, 10)
    writer = plan_store.MiniBatchWriter(str(tmp_path))
    for mb in expected:
        writer.add(mb)
    stored = writer.close()
    windows = list(stored.windows())
    assert [len(window) for window in windows] == [2, 2, 2, 2, 2]
    assert list(stored) == expected
    assert len(stored) == 10 and list(stored.ids) == [mb.id for mb in expected]
    assert stored[3] == expected[3] and stored[-1] == expected[-1]
    moved = tmp_path.rename(tmp_path.parent / "moved")
    assert list(StoredMiniBatches(str(moved), stored.ids)) == expected


def test_compare_listings_names_added_removed_and_modified_files():
    before = listing_table({"/d/a": [1, "t1"], "/d/b": [2, "t1"], "/d/c": [3, None], "/d/gone": [4, "t"]})
    after = listing_table({"/d/a": [1, "t1"], "/d/b": [2, "t2"], "/d/c": [3, "t"], "/d/new": [5, "t"]})
    assert compare_listings(before, after) == (["/d/new"], ["/d/gone"], ["/d/b", "/d/c"])
    assert compare_listings(after, after) == ([], [], [])


def make_job(tmp_path, files: int, size: str = "3") -> dp.Parallel:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    for i in range(files):
        (data / ("sub" if i % 2 else "") / f"f{i:03d}.txt").write_text("x" * i)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    return dp.parallel_run_function(
        name="plan",
        inputs={"data": dp.Input(type="uri_folder", path=str(data))},
        input_data="${{inputs.data}}",
        mini_batch_size=size,
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
    )


@pytest.mark.parametrize("files", [1, 9, 10])
def test_a_stored_plan_holds_the_mini_batches_of_the_plan_in_memory(tmp_path, files):
    spec = build_job_spec(make_job(tmp_path, files), base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))
    in_memory = plan_input(spec)
    stored = plan_input(spec, store=str(tmp_path / "run" / "plan"))
    assert isinstance(stored.mini_batches, StoredMiniBatches)
    assert list(stored.mini_batches) == list(in_memory.mini_batches)
    assert stored.ids() == in_memory.ids()
    assert stored.listing == in_memory.listing and stored.listing.count == files
    assert read_listing(str(tmp_path / "run" / "plan"))["path"].to_pylist() == [
        f for mb in in_memory.mini_batches for f in mb.files
    ]


def test_the_driver_reads_the_plan_a_few_windows_ahead():
    import collections

    from dask_parallel.execution.driver import Driver

    driver = Driver.__new__(Driver)  # only the window matters to reading the plan
    driver.window = 3
    consumed = []

    def plan():
        for mb in file_mini_batches(FILES, 1):
            consumed.append(mb.index)
            yield mb

    todo: collections.deque = collections.deque()
    unread = plan()
    assert driver._read_plan(todo, unread) is True
    assert len(todo) == 12 and consumed == list(range(12))  # not the 95 of the whole plan
    while driver._read_plan(todo, unread):
        pass
    assert [mb.index for mb, attempt in todo] == list(range(95))
    assert all(attempt == 1 for _, attempt in todo)


def test_compare_listings_whose_order_differs():
    """MLTable listings follow the plan's order, which need not be sorted."""
    before = listing_table({"/d/b": [2, "t1"], "/d/a": [1, "t1"], "/d/gone": [4, "t"]})
    after = listing_table({"/d/a": [1, "t2"], "/d/b": [2, "t1"], "/d/new": [5, "t"]})
    assert compare_listings(before, after) == (["/d/new"], ["/d/gone"], ["/d/a"])
    same_paths = listing_table({"/d/a": [1, "t1"], "/d/b": [3, "t1"]})
    assert compare_listings(listing_table({"/d/a": [1, "t1"], "/d/b": [2, "t1"]}), same_paths) == (
        [],
        [],
        ["/d/b"],
    )


def test_a_file_name_that_is_not_utf8_is_named_in_the_error(tmp_path):
    from dask_parallel.errors import InputError

    writer = ListingWriter(str(tmp_path))
    with pytest.raises(InputError, match=r"'/d/caf\\udce9' has a name that is not valid UTF-8"):
        # b"caf\xe9" read with surrogateescape: refused as it is listed, not when the plan is written
        writer.add(["/d/ok", "/d/caf\udce9"], [1, 2], ["v", "v"])


def _naive_changes(before: dict, after: dict) -> tuple[list[str], list[str], list[str]]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    modified = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    return added, removed, modified


def _chunked(table: pa.Table, cut: int) -> pa.Table:
    """The same rows in record batches of ``cut`` (listings read back from disk are chunked)."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=cut), schema=table.schema)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(st.text(alphabet="abcdef/", min_size=1, max_size=4), max_size=30, unique=True),
    data=st.data(),
)
def test_compare_listings_agrees_with_a_set_comparison(names, data):
    """Any listings, sorted or not, chunked any way: the lined-up ends and the middle together
    name exactly the files a set comparison names."""
    entry = st.tuples(st.integers(0, 2), st.sampled_from(["t1", "t2", None]))
    before = {
        name: list(data.draw(entry)) for name in data.draw(st.permutations(names)) if data.draw(st.booleans())
    }
    after = dict(before)
    for name in names:
        action = data.draw(st.sampled_from(["keep", "keep", "drop", "change", "add"]))
        if action == "drop":
            after.pop(name, None)
        elif action in ("change", "add"):
            after[name] = list(data.draw(entry))
    if data.draw(st.booleans()):
        after = dict(sorted(after.items()))
    old, new = listing_table(before), listing_table(after)
    old, new = _chunked(old, data.draw(st.integers(1, 8))), _chunked(new, data.draw(st.integers(1, 8)))
    assert compare_listings(old, new) == _naive_changes(before, after)


@pytest.mark.parametrize("start", [0, 1, 5, 6, 11, 12, 40])
def test_stored_mini_batches_are_read_from_any_index_on(tmp_path, monkeypatch, start):
    from dask_parallel.batching import file_mini_batch

    monkeypatch.setattr(plan_store, "ROWS_PER_BATCH", 6)  # record batches of three mini-batches
    writer = plan_store.MiniBatchWriter(str(tmp_path))
    for index in range(12):
        writer.add(file_mini_batch((f"/d/{index}a", f"/d/{index}b"), index))
    stored = writer.close()
    every = list(stored)
    assert [mb for window in stored.windows(start=start) for mb in window] == every[start:]
