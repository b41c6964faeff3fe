"""An error while closing the cluster after the work is done keeps the job's result."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest

import dask_parallel as dp
from dask_parallel.execution.cluster import connect as real_connect
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SCRIPT = """
import os

def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


@contextlib.contextmanager
def connect_that_fails_to_close(client, n_workers, notify=None):
    with real_connect(client, n_workers, notify) as connected:
        yield connected
    raise TimeoutError("Nanny failed to join in time")


def test_job_result_survives_a_failing_cluster_close(tmp_path, client, monkeypatch, caplog):
    monkeypatch.setattr("dask_parallel.engine.connect", connect_that_fails_to_close)
    job = file_job(tmp_path, SCRIPT, files=6, mini_batch_size="2")
    with caplog.at_level(logging.WARNING, logger="dask_parallel"):
        result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert len((tmp_path / "out" / "result.txt").read_text().split()) == 6
    assert "closing the Dask cluster failed (TimeoutError: Nanny failed to join in time)" in caplog.text


def test_pipeline_status_is_written_when_the_cluster_close_fails(tmp_path, client, monkeypatch):
    monkeypatch.setattr("dask_parallel.pipelines.runner.connect", connect_that_fails_to_close)
    step = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")

    @dp.pipeline()
    def flow():
        step()

    result = dp.run(flow(), client=client, run_dir=tmp_path / "pipe")
    assert result.status == "Completed", result.error
    assert json.loads((tmp_path / "pipe" / "pipeline.json").read_text())["status"] == "Completed"


def test_the_jobs_own_error_is_not_replaced_by_the_close_error(tmp_path, client, monkeypatch):
    monkeypatch.setattr("dask_parallel.engine.connect", connect_that_fails_to_close)
    monkeypatch.setattr(
        "dask_parallel.engine.Driver.run", lambda self, pending: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    with pytest.raises(dp.JobCanceledError):  # a Ctrl-C in run() ends as the job canceled
        dp.run(job, client=client, run_dir=tmp_path / "run")
    assert (tmp_path / "run" / "logs" / "job_result.txt").read_text().startswith("Canceled")
