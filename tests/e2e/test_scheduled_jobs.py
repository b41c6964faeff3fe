"""The scheduled-job recipe of docs/cli.md, as cron would run it, and the operator's commands:
run --detach, status, logs --follow, cancel from another shell, resume, list."""

from __future__ import annotations

import json
import os
import shutil
import time

import jsonschema
import pytest

from dask_parallel.schema import load_schema
from tests.conftest import REPO
from tests.e2e.test_cli_commands import cli, slow_job

pytestmark = pytest.mark.slow

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def document(done) -> dict:
    """stdout holds exactly one JSON document that follows the schema."""
    data = json.loads(done.stdout)
    VALIDATOR.validate(data)
    return data


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


def test_the_cron_recipe_twice_on_unchanged_input(example, tmp_path, env):
    runs = tmp_path / "runs"
    first_dir, second_dir = runs / "nightly-1", runs / "nightly-2"

    first = cli("run", "job.yml", "--json", "--run-dir", str(first_dir), cwd=example, env=env)
    assert first.returncode == 0, first.stderr
    summary = document(first)
    assert summary["status"] == "Completed" and summary["run_dir"] == str(first_dir)
    assert summary["reused_from"] is None and summary["counts"]["items_succeeded"] == 40
    assert f"file_scoring: run directory {first_dir}" in first.stderr  # told as the job starts

    # Same input, same code: Azure's is_deterministic reuse. Still valid JSON, and a run
    # directory of its own that records where the result came from.
    second = cli("run", "job.yml", "--json", "--run-dir", str(second_dir), cwd=example, env=env)
    assert second.returncode == 0, second.stderr
    reused = document(second)
    assert reused["run_dir"] == str(second_dir) and reused["reused_from"] == str(first_dir)
    assert reused["outputs"] == summary["outputs"] and reused["counts"] == summary["counts"]
    assert "Reusing the result of the identical earlier run" in second.stderr
    assert "Reusing" in (second_dir / "logs" / "sys" / "master_role.txt").read_text()
    assert f'reused_from": "{first_dir}' in (second_dir / "job.json").read_text()

    status = cli("status", str(second_dir), "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0 and document(status)["status"] == "Completed"
    assert document(status)["reused_from"] == str(first_dir)
    logs = cli("logs", str(second_dir), cwd=tmp_path, env=env)
    assert logs.returncode == 0 and f"reused from   {first_dir}" in logs.stdout

    resumed = cli("resume", str(first_dir), "--json", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert document(resumed)["status"] == "Completed" and document(resumed)["command"] == "resume"

    forced = cli(
        "run", "job.yml", "--json", "--no-reuse", "--run-dir", str(runs / "n3"), cwd=example, env=env
    )
    assert forced.returncode == 0, forced.stderr
    assert document(forced)["reused_from"] is None
    assert '"event": "attempt"' in (runs / "n3" / "ledger.jsonl").read_text()

    listed = document(cli("list", "--json", cwd=tmp_path, env=env))
    assert {run["run_dir"] for run in listed["runs"]} == {str(first_dir), str(second_dir), str(runs / "n3")}


def test_detach_follow_cancel_and_resume(example, tmp_path, env):
    job = slow_job(example)
    run_dir = tmp_path / "runs" / "detached"
    started = cli(
        "run", str(job), "--detach", "--json", "--run-dir", str(run_dir), "--set", "mini_batch_size=1",
        cwd=example, env=env, timeout=60,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    handle = document(started)
    assert handle["status"] == "NotStarted" and handle["pid"] > 0
    assert f"dask-parallel cancel {run_dir}" in started.stderr
    try:
        deadline = time.monotonic() + 120
        while '"final"' not in _read(run_dir / "ledger.jsonl"):
            assert time.monotonic() < deadline, _read(run_dir / "logs" / "driver.txt")
            time.sleep(0.2)
        assert document(cli("status", str(run_dir), "--json", cwd=tmp_path, env=env))["status"] == "Running"

        canceled = cli(
            "cancel", str(run_dir), "--wait", "60", "--json", "--reason", "window over", cwd=tmp_path, env=env
        )
        assert canceled.returncode == 0, canceled.stderr
        data = document(canceled)
        assert data["status"] == "Canceled" and data["cancel"]["requested"] is True
        assert "window over" in data["error"]
        counts = data["counts"]
        assert 1 <= counts["mini_batches_succeeded"] < counts["mini_batches_total"] == 40

        follow = cli("logs", str(run_dir), "--follow", cwd=tmp_path, env=env, timeout=60)
        assert follow.returncode == 0
        assert (
            "canceled by a cancel request" in follow.stdout and "== logs/job_result.txt ==" in follow.stdout
        )
        _wait_for_exit(handle["pid"])
    finally:
        _stop(handle["pid"])

    # job.json keeps no environment_variables values: the scheduler exports them again
    resumed = cli("resume", str(run_dir), "--json", "--quiet", cwd=tmp_path, env={**env, "MODE": "ok"})
    assert resumed.returncode == 0, resumed.stderr
    assert document(resumed)["counts"]["mini_batches_succeeded"] == 40


def _read(path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_exit(pid: int) -> None:
    deadline = time.monotonic() + 60
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "the detached driver did not end after the cancel"


def _stop(pid: int) -> None:
    import signal

    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
