"""The CLI's commands in a subprocess: --set, status, logs, --json, progress lines, SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dask_parallel.rundir.status import read_status
from tests.conftest import REPO

pytestmark = pytest.mark.slow

SLOW_SCRIPT = """
import os, time

def run(mini_batch):
    time.sleep(0.3)
    if "fail" in os.environ.get("MODE", "") and any(p.endswith("_003.txt") for p in mini_batch):
        raise RuntimeError("reading 3 is corrupt")
    return [os.path.basename(p) for p in mini_batch]
"""


def cli(*args, cwd, env, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "dask_parallel", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(python_env, tmp_path):
    python_env["DASK_DASK_PARALLEL__RUN_ROOT"] = str(tmp_path / "runs")
    python_env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(tmp_path / "reuse-cache")
    python_env["DASK_DASK_PARALLEL__LOCAL_CLUSTER__DASHBOARD_ADDRESS"] = "127.0.0.1:0"
    return python_env


@pytest.fixture
def example(tmp_path):
    target = tmp_path / "file_scoring"
    shutil.copytree(REPO / "conf" / "examples" / "file_scoring", target)
    return target


def slow_job(example: Path, mode: str = "") -> Path:
    (example / "src" / "score.py").write_text(SLOW_SCRIPT)
    text = (
        (example / "job.yml")
        .read_text()
        .replace("logging_level: INFO", f"environment_variables: {{MODE: {mode or 'ok'}}}")
    )
    (example / "job.yml").write_text(text)
    return example / "job.yml"


def test_set_overrides_change_the_job_before_validation(example, tmp_path, env):
    other = tmp_path / "other"
    other.mkdir()
    for i in range(6):
        (other / f"x_{i}.txt").write_text(f"{i}\n")
    done = cli(
        "run", str(example / "job.yml"), "--json", "--quiet",
        "--set", "mini_batch_size=2",
        "--set", "inputs.readings.path=other",  # relative to the current directory
        "--set", "retry_settings.max_retries=1",
        "--run-dir", str(tmp_path / "run"),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["counts"]["mini_batches_total"] == 3 and summary["counts"]["items_succeeded"] == 6
    spec = json.loads((tmp_path / "run" / "job.json").read_text())["spec"]
    assert spec["mini_batch_size"] == 2 and spec["max_attempts"] == 1
    # The run leaves a readable timeline picture for later.
    assert (tmp_path / "run" / "logs" / "job_timeline.png").stat().st_size > 10_000


def test_bad_set_value_exits_2_and_names_the_override(example, env):
    done = cli("validate", "job.yml", "--set", "mini_batch_size=10 kb", cwd=example, env=env)
    assert done.returncode == 2
    message = done.stderr.replace("\n", " ")
    assert message.startswith("error: ") and "mini_batch_size" in message
    assert "--set given: mini_batch_size=10 kb" in message
    assert "Traceback" not in done.stderr


def test_malformed_set_exits_2(example, env):
    done = cli("validate", "job.yml", "--set", "mini_batch_size", cwd=example, env=env)
    assert done.returncode == 2
    assert "expected KEY=VALUE" in done.stderr


def test_validate_counts_mini_batches(example, env):
    done = cli("validate", "job.yml", "--set", "mini_batch_size=10", cwd=example, env=env)
    assert done.returncode == 0, done.stderr
    assert "valid. 4 mini-batches of files input" in done.stdout
    assert not (example / "dask-parallel-runs").exists()


def test_failed_job_status_and_logs_point_at_the_error(example, tmp_path, env):
    job = slow_job(example, mode="fail")
    run_dir = tmp_path / "run"
    done = cli(
        "run",
        str(job),
        "--run-dir",
        str(run_dir),
        "--set",
        "mini_batch_error_threshold=0",
        cwd=example,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    # Not a terminal: plain progress lines on stderr, starting with the dashboard link.
    assert "file_scoring: 8 mini-batches to process; Dask dashboard: http://127.0.0.1:" in done.stderr
    assert "file_scoring: " in done.stderr and "failed" in done.stderr

    status = cli("status", str(run_dir), "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["status"] == "Failed" and data["counts"]["mini_batches_failed"] >= 1
    assert data["counts"]["retries"] >= 1  # max_retries 2: the failing mini-batch was tried again
    assert "exceeds mini batch error threshold 0" in data["error"]

    text = cli("status", str(run_dir), cwd=tmp_path, env=env).stdout
    assert "status        Failed" in text and "mini-batches  " in text

    logs = cli("logs", str(run_dir), cwd=tmp_path, env=env)
    assert logs.returncode == 0
    assert "== logs/job_result.txt ==\nFailed" in logs.stdout
    assert "mini-batch 0 attempt 1 on node 0 / process00" in logs.stdout
    assert "reading 3 is corrupt" in logs.stdout
    assert f"{run_dir}/logs/job_error.txt" in logs.stdout


def test_status_of_something_that_is_not_a_run(tmp_path, env):
    done = cli("status", str(tmp_path), cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "is not a dask_parallel run directory: it has no job.json" in done.stderr.replace("\n", " ")


def test_sigterm_cancels_like_ctrl_c(example, tmp_path, env):
    job = slow_job(example)
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dask_parallel",
            "run",
            str(job),
            "--run-dir",
            str(run_dir),
            "--set",
            "mini_batch_size=1",
        ],
        cwd=example,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        ledger = run_dir / "ledger.jsonl"
        while not (ledger.exists() and '"final"' in ledger.read_text()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.1)
        # Read in this process: a `dask-parallel status` subprocess takes seconds on a busy
        # machine, long enough for the job to finish before the signal (which then, rightly,
        # leaves it Completed).
        assert read_status(str(run_dir)).status == "Running"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert "canceled; the run directory keeps what finished" in stderr
    assert "Traceback" not in stderr
    data = json.loads(cli("status", str(run_dir), "--json", cwd=tmp_path, env=env).stdout)
    assert data["status"] == "Canceled"
    counts = data["counts"]
    assert (
        1
        <= counts["mini_batches_succeeded"] + counts["mini_batches_failed"]
        < counts["mini_batches_total"]
        == 40
    )
    assert (run_dir / "logs" / "job_result.txt").read_text().startswith("Canceled\n")


def test_progress_setting_off_silences_the_cli(example, tmp_path, env):
    env["DASK_DASK_PARALLEL__PROGRESS"] = "False"
    done = cli("run", "job.yml", "--run-dir", str(tmp_path / "run"), cwd=example, env=env)
    assert done.returncode == 0, done.stderr
    assert "mini-batches to process" not in done.stderr and "Dask dashboard" not in done.stderr
    assert done.stdout.startswith("status ")
