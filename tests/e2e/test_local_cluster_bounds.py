"""The built-in local cluster never starts more worker processes than its limit, and says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import dask.config
import pytest

from dask_parallel.execution.cluster import local_cluster_size, local_process_limit
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def cli(*args, cwd, env):
    return subprocess.run(
        [sys.executable, "-m", "dask_parallel", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.fixture
def example(tmp_path):
    target = tmp_path / "file_scoring"
    shutil.copytree(REPO / "conf" / "examples" / "file_scoring", target)
    return target


def test_the_limit_is_four_per_cpu_unless_set():
    assert local_process_limit() == 4 * (os.cpu_count() or 1)
    assert local_cluster_size(3) == (3, None)
    size, note = local_cluster_size(100_000)
    assert size == local_process_limit()
    assert "not the 100000 asked for" in note and "local-cluster.max-processes" in note
    with dask.config.set({"dask-parallel.local-cluster.max-processes": 2}):
        assert local_cluster_size(5)[0] == 2


def test_validate_says_how_many_processes_the_local_cluster_starts(example, python_env):
    done = cli(
        "validate", "job.yml", "--set", "max_concurrency_per_instance=100000", cwd=example, env=python_env
    )
    assert done.returncode == 0, done.stderr
    assert "100000 worker processes" in done.stdout
    limit = local_process_limit()
    assert f"note: the local cluster starts {limit} worker processes, not the 100000 asked for" in done.stdout
    assert "dask-parallel.local-cluster.max-processes" in done.stdout
    plain = cli("validate", "job.yml", cwd=example, env=python_env)
    assert "note:" not in plain.stdout


def test_run_is_capped_and_says_so(example, tmp_path, python_env):
    env = {**python_env, "DASK_DASK_PARALLEL__LOCAL_CLUSTER__MAX_PROCESSES": "2",
           "DASK_DASK_PARALLEL__LOCAL_CLUSTER__DASHBOARD_ADDRESS": "127.0.0.1:0",
           "DASK_DASK_PARALLEL__REUSE_CACHE": str(tmp_path / "reuse")}  # fmt: skip
    run_dir = tmp_path / "run"
    done = cli(
        "run", "job.yml", "--set", "max_concurrency_per_instance=50", "--json", "--run-dir", str(run_dir),
        cwd=example, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "note: the local cluster starts 2 worker processes, not the 50 asked for" in done.stderr
    assert json.loads(done.stdout)["status"] == "Completed"
    assert "not the 50 asked for" in (run_dir / "logs" / "sys" / "master_role.txt").read_text()
    pids = {
        line.split("|")[2]
        for path in (run_dir / "logs" / "sys" / "node").rglob("process*.txt")
        for line in path.read_text().splitlines()
    }
    assert len(pids) <= 2
