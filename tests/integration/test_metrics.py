"""Prometheus metrics of a job: from the driver's own port and from Dask's dashboard /metrics."""

from __future__ import annotations

import re
import urllib.request

import dask.config

import dask_parallel as dp
from dask_parallel.execution import metrics
from tests.conftest import file_job

SCRIPT = """
import os

def run(mini_batch):
    if any(p.endswith("item_006.txt") for p in mini_batch):
        raise RuntimeError("always fails")
    return [os.path.basename(p) for p in mini_batch]
"""


def scrape(url: str) -> dict[str, float]:
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return {
        name: float(value)
        for name, value in re.findall(r"^(dask_parallel_[^ ]+) ([0-9.e+-]+)$", text, re.MULTILINE)
    }


def test_counters_of_a_job_with_a_failing_mini_batch(tmp_path, client):
    retries = dp.RetrySettings(max_retries=2)
    job = file_job(tmp_path, SCRIPT, files=12, mini_batch_size="3", retry_settings=retries)
    job.name = "metrics_job"
    with dask.config.set({"dask-parallel.metrics.port": 0}):
        result = dp.run(job, client=client)
    assert result.status == "Completed"  # no threshold: one failed mini-batch is allowed
    port = metrics.serve()
    for url in (f"http://127.0.0.1:{port}/metrics", client.dashboard_link.replace("/status", "/metrics")):
        values = scrape(url)
        assert values['dask_parallel_mini_batches_total{job="metrics_job",status="succeeded"}'] == 3
        assert values['dask_parallel_mini_batches_total{job="metrics_job",status="failed"}'] == 1
        assert values['dask_parallel_items_total{job="metrics_job",status="succeeded"}'] == 9
        assert values['dask_parallel_items_total{job="metrics_job",status="failed"}'] == 3
        assert values['dask_parallel_attempts_total{job="metrics_job",outcome="run_error"}'] == 2
        assert values['dask_parallel_retries_total{job="metrics_job"}'] == 1
        assert values['dask_parallel_mini_batch_duration_seconds_count{job="metrics_job"}'] == 3
        assert values['dask_parallel_jobs_running{job="metrics_job"}'] == 0


def test_a_port_without_prometheus_client_names_the_extra(monkeypatch):
    monkeypatch.setattr(metrics, "available", lambda: False)
    monkeypatch.setattr(metrics, "_served_port", None)
    try:
        metrics.serve(0)
    except ImportError as exc:
        assert "pip install 'dask_parallel[metrics]'" in str(exc)
    else:
        raise AssertionError("no ImportError")
