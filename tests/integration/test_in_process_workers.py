"""Workers inside the caller's own process (``Client(processes=False)``, the notebook pattern).

Each attempt's prints go to the job's log files; the caller's ``sys.stdout`` and
``sys.stderr`` are the same objects, open and working, after the job.
"""

from __future__ import annotations

import io
import json
import sys
import threading

import pytest
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.worker import streams
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SCRIPT = """
import os, sys, time

def init():
    print("init says hello")

def run(mini_batch):
    for path in mini_batch:
        print("scoring", os.path.basename(path))
        print("warning for", os.path.basename(path), file=sys.stderr)
    time.sleep(0.05)  # attempts on the worker threads overlap
    return [os.path.basename(p) for p in mini_batch]

def shutdown():
    print("shutdown says bye")
"""


def _read_logs(run_dir, kind: str) -> str:
    return "".join(p.read_text() for p in (run_dir / "logs" / "user" / kind).rglob("*.txt"))


def test_in_process_workers_capture_prints_and_leave_the_callers_streams_intact(tmp_path):
    job = file_job(tmp_path, SCRIPT, files=12, mini_batch_size="2")
    before_out, before_err = sys.stdout, sys.stderr
    with (
        LocalCluster(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert sys.stdout is before_out and sys.stderr is before_err
    assert not getattr(sys.stdout, "closed", False)
    print("the caller can still print")
    stdout = _read_logs(tmp_path / "run", "stdout")
    stderr = _read_logs(tmp_path / "run", "stderr")
    assert sorted(line for line in stdout.splitlines() if line.startswith("scoring")) == sorted(
        f"scoring item_{i:03d}.txt" for i in range(12)
    )
    assert stdout.count("init says hello") == stdout.count("shutdown says bye") >= 1
    assert stderr.count("warning for") == 12
    assert "the caller can still print" not in stdout


def test_routed_streams_keep_threads_apart_and_restore_the_original():
    original = io.StringIO()
    saved = sys.stdout
    sys.stdout = original
    try:
        streams.acquire()
        assert isinstance(sys.stdout, streams.RoutedStream)
        files = [io.StringIO(), io.StringIO()]
        barrier = threading.Barrier(2)

        def work(number: int) -> None:
            with streams.captured(files[number], io.StringIO()):
                barrier.wait()
                for _ in range(50):
                    print(f"thread {number}")
                barrier.wait()

        threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        print("main thread")
        for thread in threads:
            thread.join()
        streams.release()
        assert sys.stdout is original
    finally:
        sys.stdout = saved
    assert original.getvalue() == "main thread\n"
    assert files[0].getvalue() == "thread 0\n" * 50
    assert files[1].getvalue() == "thread 1\n" * 50


HANGING = """
import os

def run(mini_batch):
    if any(p.endswith("item_001.txt") for p in mini_batch):
        while True:  # hangs in Python code
            pass
    return [os.path.basename(p) for p in mini_batch]
"""


def test_a_timeout_in_an_in_process_worker_stops_the_call_not_the_callers_process(tmp_path):
    job = file_job(
        tmp_path,
        HANGING,
        files=4,
        mini_batch_size="1",
        retry_settings={"max_retries": 1, "timeout": 2},
    )
    with (
        LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        result = dp.run(job, client=client, run_dir=tmp_path / "run")
    # Still here: the caller's process was not ended by the watchdog.
    outcomes = [
        json.loads(line)
        for line in (tmp_path / "run" / "ledger.jsonl").read_text().splitlines()
        if '"event": "attempt"' in line
    ]
    timed_out = [o for o in outcomes if o["outcome"] == "timeout"]
    assert timed_out and all(o["index"] == 1 for o in timed_out), outcomes
    assert "did not finish in 2 seconds" in timed_out[0]["error"]
    assert sorted(o["index"] for o in outcomes if o["outcome"] == "succeeded") == [0, 2, 3]
    assert result.mini_batches_failed == 1
