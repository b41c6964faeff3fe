"""A shutdown() that hangs does not hold a finished job: the driver stops waiting after the timeout."""

from __future__ import annotations

import pytest

import dask_parallel as dp
from tests.conftest import file_job

pytestmark = pytest.mark.slow

HANGING_SHUTDOWN = """
import time


def init():
    pass


def run(mini_batch):
    return [str(p).rsplit("/", 1)[-1] for p in mini_batch]


def shutdown():
    time.sleep(3600)
"""


def test_hanging_shutdown_still_completes_the_job(tmp_path):
    job = file_job(tmp_path, HANGING_SHUTDOWN, files=4, mini_batch_size="2", retry_settings={"timeout": 3})
    job.max_concurrency_per_instance = 2
    result = dp.run(job, run_dir=tmp_path / "run")  # its own local cluster, closed at the end
    assert result.status == "Completed", result.error
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(4)]
    master = (tmp_path / "run" / "logs" / "sys" / "master_role.txt").read_text()
    assert "shutdown() did not return within 3 s" in master
    assert (tmp_path / "run" / "logs" / "job_result.txt").read_text().startswith("Completed")
