"""Jobs whose folder input is still being listed when their first mini-batches run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dask.config
import pytest

import dask_parallel as dp
from dask_parallel.engine import _identity
from dask_parallel.errors import InputError
from dask_parallel.inputs import streaming
from dask_parallel.inputs.planning import plan_input
from dask_parallel.spec.job_spec import build_job_spec
from tests.conftest import file_job, make_files

SCRIPT = """
import os

def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


@pytest.fixture
def slow_listing(monkeypatch):
    """Each folder of the input takes a while to list, so that the job starts before the listing ends."""
    real = streaming.listed_files
    extra: list = []

    def slow(spec, uri, where):
        listed = real(spec, uri, where)

        def chunks():
            for chunk in listed:
                yield chunk
                time.sleep(0.2)
            yield from extra

        return chunks()

    monkeypatch.setattr(streaming, "listed_files", slow)
    with dask.config.set({"dask-parallel.stream-planning-after": 1}):
        yield extra


def _folders(tmp_path: Path, folders: int = 6, per_folder: int = 5) -> list[str]:
    names = []
    for f in range(folders):
        names += [p.name for p in make_files(tmp_path / "data" / f"part{f}", per_folder, prefix=f"p{f}")]
    return names


def _streamed(run_dir: str) -> bool:
    return "cut as it is listed" in (Path(run_dir) / "logs" / "sys" / "master_role.txt").read_text()


def test_a_job_starts_before_its_input_is_listed_and_ends_as_a_whole_plan_would(
    tmp_path, client, slow_listing
):
    names = _folders(tmp_path)
    job = file_job(tmp_path, SCRIPT, mini_batch_size="4", is_deterministic=False)
    result = dp.run(job, client=client)
    assert result.status == "Completed", result.error
    assert _streamed(result.run_dir)
    assert (tmp_path / "out" / "result.txt").read_text().split() == names  # every row once, in order
    assert result.mini_batches_total == 8 and result.items_total == 30
    # job.json ends with the identity that planning the input whole gives: a resume compares it.
    spec = build_job_spec(job, base_dir=str(tmp_path), run_dir=result.run_dir)
    whole = _identity(spec, plan_input(spec, store=str(tmp_path / "whole")))
    stored = json.loads((Path(result.run_dir) / "job.json").read_text())
    assert stored["identity"] == whole and stored["mini_batches"] == 8


def test_a_deterministic_job_streams_until_it_has_completed_once_then_is_reused(
    tmp_path, client, slow_listing
):
    _folders(tmp_path, folders=3)
    job = file_job(tmp_path, SCRIPT, mini_batch_size="4")
    first = dp.run(job, client=client)
    assert first.status == "Completed" and _streamed(first.run_dir)
    second = dp.run(job, client=client)
    assert second.reused and second.reused_from == first.run_dir


def test_a_listing_that_fails_after_the_job_started_fails_the_job_without_output(
    tmp_path, client, slow_listing
):
    _folders(tmp_path, folders=3)
    slow_listing.append(([str(tmp_path / "data" / "zz" / "caf\udce9")], [1], ["1.0"]))
    job = file_job(tmp_path, SCRIPT, mini_batch_size="4", is_deterministic=False)
    run_dir = tmp_path / "run"
    with pytest.raises(InputError, match="not valid UTF-8"):
        dp.run(job, client=client, run_dir=run_dir)
    assert _streamed(str(run_dir))
    assert (run_dir / "logs" / "job_result.txt").read_text().startswith("Failed\n")
    assert not (tmp_path / "out" / "result.txt").exists()


def test_workers_without_the_shared_disk_get_a_streamed_input_once_it_is_listed(
    tmp_path, client, slow_listing
):
    names = _folders(tmp_path, folders=3)
    job = file_job(tmp_path, SCRIPT, mini_batch_size="4", is_deterministic=False)
    with dask.config.set({"dask-parallel.shared-filesystem": False}):
        result = dp.run(job, client=client)
    assert result.status == "Completed", result.error
    assert _streamed(result.run_dir)
    assert (tmp_path / "out" / "result.txt").read_text().split() == names
    stored = json.loads((Path(result.run_dir) / "job.json").read_text())
    assert stored["mini_batches"] == result.mini_batches_total == 4
