"""``dask_parallel.submit(job)``: a handle with status(), wait(), cancel() and result()."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

import dask_parallel as dp
from tests.conftest import file_job

SCRIPT = """
import os, time

def init():
    time.sleep(0.3)  # loading a model

def run(mini_batch):
    time.sleep(float(os.environ.get("DELAY", "0")))
    return [os.path.basename(p) for p in mini_batch]
"""


def test_submit_returns_at_once_and_wait_gives_the_result(tmp_path, client):
    handle = dp.submit(file_job(tmp_path, SCRIPT, files=8, mini_batch_size="2"), client=client)
    assert handle.status() in ("NotStarted", "Running", "Completed")
    result = handle.wait(timeout=120)
    assert result.status == "Completed" and handle.status() == "Completed"
    assert handle.result() is result and result.run_dir == handle.run_dir
    loaded = dp.load_result(handle.run_dir)
    assert (loaded.status, loaded.items_succeeded, loaded.mini_batches_total) == ("Completed", 8, 4)
    assert loaded.outputs == result.outputs
    # job.json records what ran: Python, packages, host, the entry script's hash.
    environment = json.loads((Path(handle.run_dir) / "job.json").read_text())["environment"]
    script = tmp_path / "src" / "score.py"
    assert environment["entry_script"]["sha256"] == hashlib.sha256(script.read_bytes()).hexdigest()
    assert environment["packages"]["distributed"] and environment["host"] and environment["python"]
    # init() ran once per process and is not counted as mini-batch time.
    assert all(duration < 0.3 for duration in result.mini_batch_durations())


def test_cancel_through_the_handle_then_resume(tmp_path, client):
    job = file_job(tmp_path, SCRIPT, files=30, mini_batch_size="1", environment_variables={"DELAY": "0.2"})
    handle = dp.submit(job, client=client)
    deadline = time.monotonic() + 60
    while handle.status() != "Running" or dp.load_result(handle.run_dir).mini_batches_succeeded < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    handle.cancel("enough for today")
    result = handle.wait(timeout=60)
    assert result.status == "Canceled" and "enough for today" in result.error
    assert 1 <= result.mini_batches_succeeded < 30
    # job.json keeps no environment_variables values: resume takes them from the definition
    assert dp.resume(handle.run_dir, client=client, job=job).status == "Completed"


def test_an_invalid_job_raises_from_wait(tmp_path, client):
    job = file_job(tmp_path, SCRIPT, files=2)
    job.inputs["data"].path = str(tmp_path / "missing")
    handle = dp.submit(job, client=client)
    with pytest.raises(dp.DaskParallelError):
        handle.wait(timeout=60)
    assert handle.status() == "Invalid"
