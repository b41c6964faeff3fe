"""Planning that streams: the same plan as planning whole, handed out while the input is listed."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

import dask_parallel as dp
from dask_parallel.errors import InputError
from dask_parallel.inputs import streaming
from dask_parallel.inputs.planning import plan_input
from dask_parallel.inputs.streaming import StreamedPlan, stream_input
from dask_parallel.rundir.plan_store import ListingWriter, read_listing, read_listing_progress
from dask_parallel.spec.job_spec import build_job_spec


def _folder(root: Path) -> Path:
    """Files at several depths, with names that sort differently from their folders' walk order."""
    data = root / "data"
    for folder in ("a", "a-b", "a/c", "b", "b/z/y"):
        (data / folder).mkdir(parents=True, exist_ok=True)
        for i in range(7):
            (data / folder / f"f{i}.txt").write_text(str(i) * i)
    (data / "top.txt").write_text("top")
    return data


def _spec(tmp_path: Path, data: Path, size: str = "3"):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    job = dp.parallel_run_function(
        name="streamed",
        inputs={"data": dp.Input(type="uri_folder", path=str(data))},
        input_data="${{inputs.data}}",
        mini_batch_size=size,
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
    )
    return build_job_spec(job, base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))


def test_a_streamed_plan_is_the_plan_made_whole(tmp_path):
    spec = _spec(tmp_path, _folder(tmp_path))
    whole = plan_input(spec, store=str(tmp_path / "whole"))
    stream = stream_input(spec, str(tmp_path / "streamed"))
    assert stream is not None
    streamed = stream.finish()
    assert [(mb.id, mb.files) for mb in streamed.mini_batches] == [
        (mb.id, mb.files) for mb in whole.mini_batches
    ]
    assert streamed.listing == whole.listing
    assert read_listing(str(tmp_path / "streamed")).equals(read_listing(str(tmp_path / "whole")))
    progress = read_listing_progress(str(tmp_path / "streamed"))
    assert progress is not None and progress.complete and progress.count == whole.listing.count


def test_only_folders_stream(tmp_path):
    spec = _spec(tmp_path, _folder(tmp_path))
    single = dataclasses.replace(spec, major_input=dataclasses.replace(spec.major_input, type="uri_file"))
    assert stream_input(single, str(tmp_path / "p")) is None
    by_time = dataclasses.replace(spec, target_duration=5.0)
    assert stream_input(by_time, str(tmp_path / "p")) is None


class _GatedListing:
    """A listing that yields one chunk each time the test opens the gate."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.gate = threading.Semaphore(0)

    def __iter__(self):
        for chunk in self.chunks:
            self.gate.acquire()
            yield chunk


def _chunk(names: list[str]):
    return [f"/d/{n}" for n in names], [1] * len(names), ["1.0"] * len(names)


def test_mini_batches_are_handed_out_as_they_are_cut(tmp_path):
    listing = _GatedListing([_chunk(["a", "b", "c", "d", "e"]), _chunk(["f", "g"])])
    stream = StreamedPlan(iter(listing), 2, str(tmp_path), InputError("empty"))
    assert stream.take(10) == []  # nothing listed yet: no waiting either
    listing.gate.release()
    stream.wait_listed(5)
    first = stream.take(10)
    assert [mb.files for mb in first] == [("/d/a", "/d/b"), ("/d/c", "/d/d")]  # "e" waits for a partner
    assert not stream.exhausted
    listing.gate.release()
    plan = stream.finish()
    rest = stream.take(10)
    assert [mb.files for mb in rest] == [("/d/e", "/d/f"), ("/d/g",)]
    assert stream.exhausted
    assert [mb.id for mb in plan.mini_batches] == [mb.id for mb in first + rest]


def test_stopping_keeps_what_was_cut_and_leaves_the_progress_incomplete(tmp_path):
    listing = _GatedListing([_chunk(["a", "b"]), _chunk(["c", "d"]), _chunk(["e"])])
    stream = StreamedPlan(iter(listing), 2, str(tmp_path), InputError("empty"))
    listing.gate.release()
    stream.wait_listed(2)
    listing.gate.release()  # the thread may read the second chunk before it sees the stop
    plan = stream.stop()
    assert plan.listing is None  # not a whole listing: no identity
    assert [mb.files for mb in plan.mini_batches][:1] == [("/d/a", "/d/b")]
    progress = read_listing_progress(str(tmp_path))
    assert progress is None or not progress.complete


def test_an_empty_folder_is_refused_before_the_job_starts(tmp_path):
    (tmp_path / "data").mkdir()
    spec = _spec(tmp_path, tmp_path / "data")
    stream = stream_input(spec, str(tmp_path / "plan"))
    with pytest.raises(InputError, match="holds no files"):
        stream.wait_listed(10_000)


def test_a_listing_error_reaches_the_driver(tmp_path):
    listing = _GatedListing([_chunk(["a", "b"]), _chunk(["caf\udce9"])])
    stream = StreamedPlan(iter(listing), 1, str(tmp_path), InputError("empty"))
    listing.gate.release()
    stream.wait_listed(2)
    listing.gate.release()
    with pytest.raises(InputError, match="not valid UTF-8"):
        stream.finish()
    with pytest.raises(InputError, match="not valid UTF-8"):
        stream.take(10)


@pytest.mark.parametrize("at", [0, 1, 3, 4, 7, 9])
def test_the_digest_of_the_first_files_is_that_of_a_listing_of_only_those(tmp_path, at):
    names = [f"f{i}" for i in range(9)]
    chunks = [names[:4], names[4:5], names[5:]]
    writer = ListingWriter(str(tmp_path / "all"), digest_at=at)
    for chunk in chunks:
        writer.add(*_chunk(chunk))
    summary = writer.close()
    alone = ListingWriter(None)
    alone.add(*_chunk(names[:at]))
    assert summary.prefix_digest == alone.close().digest
    assert summary.count == 9


def test_a_listing_shorter_than_asked_has_no_prefix_digest(tmp_path):
    writer = ListingWriter(None, digest_at=5)
    writer.add(*_chunk(["a", "b"]))
    assert writer.close().prefix_digest is None


def test_checkpoints_cover_what_was_written_and_a_torn_line_is_ignored(tmp_path, monkeypatch):
    from dask_parallel.rundir import plan_store

    monkeypatch.setattr(plan_store, "ROWS_PER_BATCH", 3)
    writer = ListingWriter(str(tmp_path), checkpoints=True)
    names = [f"f{i}" for i in range(8)]
    writer.add(*_chunk(names[:4]))  # a record batch of 4 rows: checkpoint at 4
    writer.add(*_chunk(names[4:7]))  # and at 7
    progress = read_listing_progress(str(tmp_path))
    alone = ListingWriter(None)
    alone.add(*_chunk(names[:7]))
    assert progress is not None and (progress.count, progress.complete) == (7, False)
    assert progress.digest == alone.close().digest
    with open(tmp_path / "listing.progress", "a") as handle:
        handle.write('{"count": 8, "dig')  # a crash in the middle of a line
    assert read_listing_progress(str(tmp_path)) == progress


def test_mini_batches_the_driver_has_not_taken_wait_on_disk_not_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "READY_LIMIT", 3)
    names = [f"f{i:02d}" for i in range(20)]
    listing = _GatedListing([_chunk(names[i : i + 4]) for i in range(0, 20, 4)])
    stream = StreamedPlan(iter(listing), 2, str(tmp_path), InputError("empty"))
    listing.gate.release()
    stream.wait_listed(4)
    first = stream.take(1)  # two were cut; one is taken
    for _ in range(4):
        listing.gate.release()
    plan = stream.finish()
    assert len(stream._ready) <= 3  # the others were only written to the plan file
    rest = []
    while not stream.exhausted:
        rest += stream.take(2)
    taken = first + rest
    assert [mb.files for mb in taken] == [tuple(f"/d/{n}" for n in names[i : i + 2]) for i in range(0, 20, 2)]
    assert [mb.id for mb in taken] == [mb.id for mb in plan.mini_batches]
    assert stream.take(5) == []


def test_iterating_a_streamed_plan_waits_for_every_mini_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "READY_LIMIT", 2)
    names = [f"f{i}" for i in range(9)]
    listing = _GatedListing([_chunk(names[:5]), _chunk(names[5:])])
    stream = StreamedPlan(iter(listing), 2, str(tmp_path), InputError("empty"))
    listing.gate.release()
    listing.gate.release()
    assert [len(mb.files) for mb in stream] == [2, 2, 2, 2, 1]
