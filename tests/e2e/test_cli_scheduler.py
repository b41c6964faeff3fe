"""A job on an existing cluster: `dask scheduler` and `dask worker` processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).with_name("dask"))


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


@pytest.fixture
def scheduler(tmp_path, python_env):
    """A scheduler and two single-threaded worker processes; yields the scheduler's address."""
    scheduler_file = tmp_path / "scheduler.json"
    processes = [
        _start(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
             "--scheduler-file", str(scheduler_file)],
            python_env,
            tmp_path / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert processes[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(
            _start(
                [DASK, "worker", address, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--local-directory", str(tmp_path / "worker-space")],
                python_env,
                tmp_path / "worker.log",
            )
        )  # fmt: skip
        yield address
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def test_run_on_an_existing_scheduler(scheduler, tmp_path, python_env):
    python_env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(tmp_path / "reuse-cache")
    example = tmp_path / "file_scoring"
    shutil.copytree(REPO / "conf" / "examples" / "file_scoring", example)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "run", "job.yml", "--scheduler", scheduler, "--json",
         "--run-dir", str(run_dir)],
        cwd=example, env=python_env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "Completed" and summary["counts"]["items_succeeded"] == 40
    assert len(Path(summary["outputs"]["scores"]).read_text().splitlines()) == 40
    # The mini-batches ran in the `dask worker` processes, not in a cluster of our own.
    ledger = [json.loads(line) for line in (run_dir / "ledger.jsonl").read_text().splitlines()]
    used = {record["worker"] for record in ledger if record["event"] == "attempt"}
    worker_log = (tmp_path / "worker.log").read_text()
    started = set(re.findall(r"Start worker at:\s+(\S+)", worker_log))
    assert used and used <= started, (used, started)


def test_unreachable_scheduler_is_one_clear_error(tmp_path, python_env):
    example = tmp_path / "file_scoring"
    shutil.copytree(REPO / "conf" / "examples" / "file_scoring", example)
    python_env["DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT"] = "2s"
    done = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "run", "job.yml", "--scheduler", "tcp://127.0.0.1:9",
         "--run-dir", str(tmp_path / "run")],
        cwd=example, env=python_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2  # the address given is wrong, or nothing answers there
    # The run directory is announced as the job starts, then the error is one paragraph.
    announced, _, error = done.stderr.partition("\n")
    assert announced == f"file_scoring: run directory {tmp_path / 'run'}"
    message = error.replace("\n", " ")
    assert message.startswith(
        "error: --scheduler (Python: run(client=...)): could not connect to the Dask scheduler at tcp://127.0.0.1:9"
    )
    status = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "status", str(tmp_path / "run")],
        env=python_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Failed" in status.stdout and "could not connect" in status.stdout
    assert "Traceback" not in done.stderr
