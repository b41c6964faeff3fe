"""Speculative copies of stragglers on a real cluster: the slow worker no longer sets the job's end."""

from __future__ import annotations

import json
import os
import time

import dask.config
import pytest
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG
from tests.conftest import file_job

pytestmark = pytest.mark.slow

# The first process to call init() is the straggler: its run() sleeps 20 times longer.
SCRIPT = """
import os, time

SLOW = False

def init():
    global SLOW
    claim = os.path.join(os.environ["STATE_DIR"], "straggler.pid")
    try:
        fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    SLOW = True

def run(mini_batch):
    time.sleep(float(os.environ["BASE"]) * (20 if SLOW else 1))
    return [os.path.basename(path) for path in mini_batch]
"""

BASE = 1.0  # seconds: the straggler's run() takes 20 s


@pytest.fixture
def three_workers():
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = LocalCluster(
            n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        )
    with Client(cluster) as connected:
        yield connected
    cluster.close()


def test_a_copy_on_an_idle_worker_beats_the_straggler(tmp_path, three_workers):
    state = tmp_path / "state"
    state.mkdir()
    job = file_job(
        tmp_path,
        SCRIPT,
        files=12,
        mini_batch_size="1",
        environment_variables={"STATE_DIR": str(state), "BASE": str(BASE)},
        retry_settings={"timeout": 300},
        speculation={"multiplier": 3, "min_seconds": 1},
    )
    started = time.monotonic()
    result = dp.run(job, client=three_workers, run_dir=tmp_path / "run")
    elapsed = time.monotonic() - started
    assert result.status == "Completed"
    rows = (tmp_path / "out" / "result.txt").read_text().split()
    assert rows == [f"item_{i:03d}.txt" for i in range(12)]  # every row once, in input order
    straggler = int((state / "straggler.pid").read_text())
    with open(os.path.join(result.run_dir, "ledger.jsonl")) as handle:
        attempts = [r for r in map(json.loads, handle) if r["event"] == "attempt"]
    assert len(attempts) == 12  # the stragglers' own attempts never reported: their copies won
    assert all(a["pid"] != straggler for a in attempts)
    assert elapsed < 20 * BASE  # the job ended before the straggler's first run() could
    log = (tmp_path / "run" / "logs" / "sys" / "master_role.txt").read_text()
    assert "starting a copy on idle worker" in log
    assert "Speculation started" in (tmp_path / "run" / "logs" / "job_result.txt").read_text()


def test_without_speculation_the_straggler_sets_the_end(tmp_path, three_workers):
    state = tmp_path / "state"
    state.mkdir()
    job = file_job(
        tmp_path,
        SCRIPT,
        files=6,
        mini_batch_size="1",
        environment_variables={"STATE_DIR": str(state), "BASE": "0.25"},
    )
    result = dp.run(job, client=three_workers, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    straggler = int((state / "straggler.pid").read_text())
    with open(os.path.join(result.run_dir, "ledger.jsonl")) as handle:
        attempts = [r for r in map(json.loads, handle) if r["event"] == "attempt"]
    assert any(a["pid"] == straggler for a in attempts)  # its mini-batch waited for it
    assert "starting a copy" not in (tmp_path / "run" / "logs" / "sys" / "master_role.txt").read_text()
