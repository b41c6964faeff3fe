"""``resources.dask_resources`` and the local cluster's GPU split, with declared fake GPUs."""

from __future__ import annotations

import dask.config
import pytest

import dask_parallel as dp
from dask_parallel.execution.cluster import split_devices
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SCRIPT = """
import os

def run(mini_batch):
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
    return [f"{os.path.basename(p)} {os.getpid()} {devices}" for p in mini_batch]
"""

LOCAL = {"dask-parallel.local-cluster.dashboard-address": "127.0.0.1:0"}


def _rows(tmp_path):
    return [line.split() for line in (tmp_path / "out" / "result.txt").read_text().splitlines()]


def test_each_local_worker_process_gets_its_own_gpus_and_mini_batches_hold_one(tmp_path):
    job = file_job(
        tmp_path,
        SCRIPT,
        files=8,
        mini_batch_size="1",
        max_concurrency_per_instance=2,
        resources={"instance_count": 1, "dask_resources": {"GPU": 1}},
    )
    with dask.config.set({**LOCAL, "dask-parallel.local-cluster.gpus": ["0", "1", "2", "3"]}):
        result = dp.run(job, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    rows = _rows(tmp_path)
    assert len(rows) == 8
    devices_by_pid = {}
    for _, pid, devices in rows:
        devices_by_pid.setdefault(pid, set()).add(devices)
    assert all(len(seen) == 1 for seen in devices_by_pid.values()), devices_by_pid
    assert {next(iter(seen)) for seen in devices_by_pid.values()} <= {"0,1", "2,3"}


def test_a_job_needing_gpus_on_a_cluster_without_them_stops_before_any_work(tmp_path):
    job = file_job(tmp_path, SCRIPT, files=2, resources={"instance_count": 1, "dask_resources": {"GPU": 1}})
    with (
        dask.config.set({**LOCAL, "dask-parallel.local-cluster.gpus": []}),
        pytest.raises(dp.JobValidationError, match=r"no worker of the cluster offers them") as caught,
    ):
        dp.run(job, run_dir=tmp_path / "run")
    assert "GPU" in str(caught.value)
    assert not (tmp_path / "out" / "result.txt").exists()


def test_job_files_accept_dask_resources_and_reject_nonsense(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def run(mb):\n    return mb\n")
    (tmp_path / "data").mkdir()
    document = """
type: parallel
inputs: {data: {type: uri_folder, path: ./data}}
input_data: ${{inputs.data}}
resources: {instance_count: 1, dask_resources: %s}
task: {type: run_function, code: ./src, entry_script: score.py}
"""
    (tmp_path / "job.yml").write_text(document % "{GPU: 2}")
    job = dp.load_job(str(tmp_path / "job.yml"))
    assert job.resources["dask_resources"] == {"GPU": 2}
    from dask_parallel.spec.job_spec import build_job_spec

    spec = build_job_spec(job, base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))
    assert spec.dask_resources == {"GPU": 2.0}
    (tmp_path / "job.yml").write_text(document % "{GPU: -1}")
    with pytest.raises(dp.JobValidationError, match=r"dask_resources\.GPU must be a positive number"):
        build_job_spec(dp.load_job(str(tmp_path / "job.yml")), base_dir=str(tmp_path), run_dir=str(tmp_path))


def test_devices_are_split_as_azure_splits_them():
    assert split_devices(["0", "1", "2", "3"], 2) == [["0", "1"], ["2", "3"]]
    assert split_devices(["0", "1", "2", "3"], 4) == [["0"], ["1"], ["2"], ["3"]]
    assert split_devices(["0", "1"], 4) == [["0"], ["0"], ["1"], ["1"]]
    assert split_devices([], 3) == [[], [], []]
