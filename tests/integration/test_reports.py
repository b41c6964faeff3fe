"""Report rows of timed-out attempts, and the --resource_monitor_interval perf files."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

import dask_parallel as dp
from dask_parallel.worker.resource_monitor import COLUMNS
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SLEEPS_ONCE = """
import os, time

def run(mini_batch):
    for path in mini_batch:
        marker = os.path.join(os.environ["STATE_DIR"], os.path.basename(path))
        if os.path.basename(path) == "item_002.txt" and not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(120)
    return [os.path.basename(p) for p in mini_batch]
"""


def report(run_dir):
    with open(run_dir / "logs" / "sys" / "job_report" / "processed_mini-batches.csv") as handle:
        return list(csv.DictReader(handle))


def test_a_timeout_row_says_where_and_since_when_the_attempt_ran(tmp_path, client):
    state = tmp_path / "state"
    state.mkdir()
    job = file_job(
        tmp_path,
        SLEEPS_ONCE,
        files=4,
        mini_batch_size="2",
        environment_variables={"STATE_DIR": str(state)},
        retry_settings={"timeout": 2, "max_retries": 2},
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    timeout, retried = [r for r in report(tmp_path / "run") if r["mini_batch_index"] == "1"]
    assert timeout["result"] == "timeout"
    assert timeout["node_id"] != "" and timeout["process_name"] != ""
    assert int(timeout["pid"]) > 0 and timeout["pid"] != retried["pid"]  # the stopped process was replaced
    assert float(timeout["elapsed_seconds"]) >= 2.0  # it ran until the watchdog stopped it
    assert timeout["start_time"] <= retried["start_time"]


def test_resource_monitor_writes_one_csv_per_worker_process(tmp_path, client):
    job = file_job(
        tmp_path,
        "def run(mini_batch):\n    return mini_batch\n",
        files=4,
        mini_batch_size="1",
        program_arguments="--resource_monitor_interval 5",
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    files = sorted((tmp_path / "run" / "logs" / "sys" / "perf").rglob("*.csv"))
    assert files, "no perf file"
    for path in files:
        assert path.parent.parent.name == "perf"  # logs/sys/perf/<node>/<process>.csv
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == COLUMNS
        assert int(rows[0]["pid"]) > 0
        assert float(rows[0]["process_memory_mb"]) > 0
        dt.datetime.fromisoformat(rows[0]["time"])


def test_resource_monitor_interval_0_disables_it(tmp_path, client):
    job = file_job(
        tmp_path,
        "def run(mini_batch):\n    return mini_batch\n",
        files=2,
        program_arguments="--resource_monitor_interval 0",
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert not (tmp_path / "run" / "logs" / "sys" / "perf").exists()
