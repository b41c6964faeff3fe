"""The one reuse cache: parallel jobs and pipeline command steps share its location, record
format and validity rule (the record's run directory exists, its outputs are unchanged)."""

from __future__ import annotations

import json
import os
import time

import dask
import pytest

import dask_parallel as dp
from dask_parallel.pipelines.reuse import step_key
from dask_parallel.pipelines.runner import step_result
from dask_parallel.rundir import reuse
from dask_parallel.rundir.result import JobResult
from dask_parallel.spec.job_spec import build_job_spec
from tests.conftest import file_job


def _parallel_run(tmp_path) -> tuple[str, JobResult]:
    """A completed parallel job's key and result, its output file written."""
    job = file_job(tmp_path, "def run(mb):\n    return mb\n", files=2)
    run_dir = tmp_path / "runs" / "parallel"
    spec = build_job_spec(job, base_dir=str(tmp_path), run_dir=str(run_dir))
    identity = {"files": {str(tmp_path / "data" / "item_000.txt"): [10, "1"]}}
    key = reuse.key(spec, identity, run_dir=str(run_dir))
    output = tmp_path / "out" / "result.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("a\nb\n")
    (run_dir / "logs").mkdir(parents=True)
    result = JobResult(
        status="Completed",
        run_dir=str(run_dir),
        outputs={"result": str(output)},
        error=None,
        mini_batches_total=1,
        mini_batches_succeeded=1,
        mini_batches_failed=0,
        items_total=2,
        items_succeeded=2,
        items_failed=0,
        name="test_job",
    )
    return key, result


def _command_run(tmp_path) -> tuple[str, JobResult]:
    """A completed pipeline command step's key and result, its output folder written."""
    code = tmp_path / "cmd"
    code.mkdir()
    (code / "copy.py").write_text("print('copy')\n")
    node = dp.command(
        name="copy",
        inputs={"src": dp.Input(type="uri_folder", path=str(tmp_path))},
        outputs={"dst": dp.Output(type="uri_folder")},
        code=str(code),
        command="python copy.py ${{inputs.src}} ${{outputs.dst}}",
    )
    key = step_key(node, str(code), staged_outputs={"dst"})
    step_dir = tmp_path / "runs" / "pipeline" / "copy"
    output = step_dir / "outputs" / "dst"
    output.mkdir(parents=True)
    (output / "part.txt").write_text("copied\n")
    return key, step_result(str(step_dir), "Completed", {"dst": str(output)}, None, time.time())


RUNS = {"parallel job": _parallel_run, "command step": _command_run}


@pytest.fixture(params=sorted(RUNS))
def remembered(request, tmp_path):
    key, result = RUNS[request.param](tmp_path)
    reuse.remember(key, result)
    return key, result


def test_both_kinds_share_one_location_and_record_format(remembered):
    key, result = remembered
    path = os.path.join(reuse.cache_dir(), f"{key}.json")
    assert os.path.dirname(path) == os.path.abspath(dask.config.get("dask-parallel.reuse-cache"))
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    assert record["key"] == key
    assert record["run_dir"] == result.run_dir
    assert record["outputs"] == result.outputs
    assert record["status"] == "Completed"
    assert set(record["outputs_state"]) == set(result.outputs)
    assert all(record["outputs_state"].values())  # every output existed when it was remembered
    assert record["time"] > 0
    assert not [name for name in os.listdir(reuse.cache_dir()) if ".tmp-" in name]  # written atomically


def test_an_untouched_record_is_reused(remembered):
    key, result = remembered
    earlier = reuse.lookup(key)
    assert earlier is not None
    assert earlier.reused and earlier.reused_from == result.run_dir
    assert earlier.outputs == result.outputs and earlier.status == "Completed"
    assert earlier.mini_batches_total == result.mini_batches_total


def _first_file(uri: str) -> str:
    if os.path.isfile(uri):
        return uri
    return os.path.join(uri, sorted(os.listdir(uri))[0])


def test_an_edited_output_invalidates_the_record(remembered):
    key, result = remembered
    (uri,) = result.outputs.values()
    with open(_first_file(uri), "a", encoding="utf-8") as handle:
        handle.write("edited by hand\n")
    assert reuse.lookup(key) is None


def test_a_deleted_output_invalidates_the_record(remembered):
    key, result = remembered
    (uri,) = result.outputs.values()
    os.remove(_first_file(uri))
    assert reuse.lookup(key) is None


def test_a_deleted_run_directory_invalidates_the_record(remembered):
    key, result = remembered
    os.rename(result.run_dir, result.run_dir + ".moved")
    assert reuse.lookup(key) is None


def test_an_unreadable_or_foreign_record_is_ignored(remembered):
    key, _ = remembered
    path = os.path.join(reuse.cache_dir(), f"{key}.json")
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({**record, "key": "another"}, handle)
    assert reuse.lookup(key) is None
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{not json")
    assert reuse.lookup(key) is None
    assert reuse.lookup("never-remembered") is None


def test_the_cache_follows_the_reuse_cache_setting(tmp_path):
    key, result = _command_run(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    with dask.config.set({"dask-parallel.reuse-cache": str(elsewhere)}):
        reuse.remember(key, result)
        assert reuse.lookup(key) is not None
    assert (elsewhere / f"{key}.json").is_file()
    assert reuse.lookup(key) is None  # the default (test) cache never saw it
