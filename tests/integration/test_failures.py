"""Scripted failures: exceptions, bad returns, timeouts, killed processes, init errors."""

from __future__ import annotations

import csv
import os
import time

import pytest

import dask_parallel as dp
from tests.conftest import file_job

pytestmark = pytest.mark.slow

# run() fails for the files named in FAIL (a comma list) on the attempts listed in ATTEMPTS;
# attempts are counted in a file per input so they survive process restarts.
SCRIPTED = """
import os, time, signal

def _attempt(path):
    marker = os.path.join(os.environ["STATE_DIR"], os.path.basename(path))
    with open(marker, "a") as f:
        f.write("x")
    return os.path.getsize(marker)

def run(mini_batch):
    mode = os.environ.get("MODE", "raise")
    fail = set(os.environ.get("FAIL", "").split(","))
    attempts = {int(a) for a in os.environ.get("ATTEMPTS", "1").split(",")}
    out = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name in fail:
            attempt = _attempt(path)
            if attempt in attempts or os.environ.get("ALWAYS"):
                if mode == "raise":
                    raise ValueError(f"cannot score {name}")
                if mode == "none":
                    return None
                if mode == "sleep":
                    time.sleep(120)
                if mode == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                if mode == "short":
                    continue
        out.append(name)
    return out
"""


@pytest.fixture
def client(own_cluster):
    """These tests kill, time out and replace worker processes: a cluster of their own,
    back at full strength before each test (started again if a worker never came back)."""
    return own_cluster.at_full_strength()


def scripted(tmp_path, client, *, files=8, size="2", env=None, **settings):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    env = {"STATE_DIR": str(state), **(env or {})}
    job = file_job(
        tmp_path, SCRIPTED, files=files, mini_batch_size=size, environment_variables=env, **settings
    )
    started = time.monotonic()
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    return result, time.monotonic() - started


def report(tmp_path):
    with open(tmp_path / "run" / "logs" / "sys" / "job_report" / "processed_mini-batches.csv") as f:
        return list(csv.DictReader(f))


def failed_items(tmp_path):
    with open(tmp_path / "run" / "logs" / "sys" / "job_report" / "failed_items.csv") as f:
        return list(csv.DictReader(f))


def output_lines(tmp_path):
    return (tmp_path / "out" / "result.txt").read_text().splitlines()


def test_transient_failure_is_retried_and_rows_appear_once(tmp_path, client):
    result, _ = scripted(tmp_path, client, env={"FAIL": "item_003.txt"})
    assert result.status == "Completed", result.error
    assert result.attempts == 5
    assert output_lines(tmp_path) == [f"item_{i:03d}.txt" for i in range(8)]
    rows = [r for r in report(tmp_path) if r["mini_batch_index"] == "1"]
    assert [(r["attempt"], r["result"]) for r in rows] == [("1", "run_error"), ("2", "succeeded")]
    assert "cannot score item_003.txt" in rows[0]["error"]
    errors = "".join(p.read_text() for p in (tmp_path / "run" / "logs" / "user" / "error").rglob("*.txt"))
    assert "Traceback" in errors and "ValueError: cannot score item_003.txt" in errors
    assert "cannot score item_003.txt" in (tmp_path / "run" / "logs" / "job_error.txt").read_text()


def test_always_failing_mini_batch_uses_exactly_max_retries_attempts(tmp_path, client):
    result, _ = scripted(
        tmp_path,
        client,
        env={"FAIL": "item_003.txt", "ALWAYS": "1"},
        retry_settings=dp.RetrySettings(max_retries=3),
    )
    assert result.status == "Completed"  # no threshold set: a failed mini-batch does not fail the job
    assert (result.mini_batches_failed, result.items_failed) == (1, 2)
    rows = [r for r in report(tmp_path) if r["mini_batch_index"] == "1"]
    assert [r["attempt"] for r in rows] == ["1", "2", "3"]
    assert output_lines(tmp_path) == [f"item_{i:03d}.txt" for i in range(8) if i not in (2, 3)]
    failed = failed_items(tmp_path)
    assert [os.path.basename(r["item"]) for r in failed] == ["item_002.txt", "item_003.txt"]
    assert all("cannot score item_003.txt" in r["reason"] for r in failed)


@pytest.mark.parametrize("threshold, status", [(0, "Failed"), (1, "Completed"), (-1, "Completed")])
def test_mini_batch_error_threshold(tmp_path, client, threshold, status):
    result, _ = scripted(
        tmp_path,
        client,
        env={"FAIL": "item_003.txt", "ALWAYS": "1"},
        mini_batch_error_threshold=threshold,
    )
    assert result.status == status
    if status == "Failed":
        assert "exceeds mini batch error threshold 0" in result.error
        assert not (tmp_path / "out" / "result.txt").exists()  # no partial output presented as complete
        assert (tmp_path / "run" / "logs" / "job_result.txt").read_text().startswith("Failed\n")


def test_allowed_failed_percent(tmp_path, client):
    result, _ = scripted(
        tmp_path,
        client,
        env={"FAIL": "item_003.txt", "ALWAYS": "1"},
        program_arguments="--allowed_failed_percent 10",
    )
    assert result.status == "Failed"
    assert "25% (1 of 4)" in result.error


@pytest.mark.parametrize("threshold, status", [(2, "Failed"), (3, "Completed"), (-1, "Completed")])
def test_error_threshold_counts_short_returns(tmp_path, client, threshold, status):
    result, _ = scripted(
        tmp_path,
        client,
        files=30,
        size="10",
        env={"FAIL": "item_001.txt,item_011.txt,item_021.txt", "MODE": "short"},
        error_threshold=threshold,
    )
    assert result.status == status
    assert result.items_failed == 3
    if status == "Failed":
        assert result.error == "The number of failed items is 3, which exceeds error threshold 2."
    else:
        assert len(output_lines(tmp_path)) == 27
    # Short returns are not mini-batch failures and are not retried.
    assert all(r["attempt"] == "1" for r in report(tmp_path))
    if status == "Completed":
        reasons = [r["reason"] for r in failed_items(tmp_path)]
        assert (
            reasons
            == ["run() returned 9 of 10 items; which ones failed is known only to the entry script"] * 3
        )


def test_none_return_fails_the_attempt(tmp_path, client):
    result, _ = scripted(tmp_path, client, env={"FAIL": "item_000.txt", "MODE": "none"})
    assert result.status == "Completed"
    first = [r for r in report(tmp_path) if r["mini_batch_index"] == "0"]
    assert [r["result"] for r in first] == ["invalid_return", "succeeded"]
    assert "not a list or dataframe" in first[0]["error"]


def test_timeout_really_stops_the_call_and_the_job_carries_on(tmp_path, client):
    result, elapsed = scripted(
        tmp_path,
        client,
        env={"FAIL": "item_002.txt", "MODE": "sleep"},
        retry_settings={"timeout": 2, "max_retries": 2},
    )
    assert result.status == "Completed", result.error
    assert elapsed < 60  # the 120 s sleep was cut short
    rows = [r for r in report(tmp_path) if r["mini_batch_index"] == "1"]
    assert [r["result"] for r in rows] == ["timeout", "succeeded"]
    assert "did not finish in 2 seconds" in rows[0]["error"]
    assert output_lines(tmp_path) == [f"item_{i:03d}.txt" for i in range(8)]
    errors = "".join(p.read_text() for p in (tmp_path / "run" / "logs" / "user" / "error").rglob("*.txt"))
    assert "time.sleep(120)" in errors  # the stack of the stopped call is shown to the user


def test_killed_worker_process_is_retried(tmp_path, client):
    result, _ = scripted(tmp_path, client, env={"FAIL": "item_005.txt", "MODE": "kill"})
    assert result.status == "Completed", result.error
    rows = [r for r in report(tmp_path) if r["mini_batch_index"] == "2"]
    assert [r["result"] for r in rows] == ["process_died", "succeeded"]
    assert output_lines(tmp_path) == [f"item_{i:03d}.txt" for i in range(8)]


def test_init_failure_once_is_retried(tmp_path, client):
    script = """
    import os

    def init():
        marker = os.path.join(os.environ["STATE_DIR"], "init")
        first = not os.path.exists(marker)
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\\n")
        if first:
            raise RuntimeError("model not ready")

    def run(mb):
        return mb
    """
    state = tmp_path / "state"
    state.mkdir()
    job = file_job(
        tmp_path, script, files=4, mini_batch_size="1", environment_variables={"STATE_DIR": str(state)}
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert len(output_lines(tmp_path)) == 4
    errors = "".join(p.read_text() for p in (tmp_path / "run" / "logs" / "user" / "error").rglob("*.txt"))
    assert "RuntimeError: model not ready" in errors
    # The process whose init() failed was replaced, as on Azure.
    failed_pid = int((state / "init").read_text().split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(failed_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"process {failed_pid} whose init() failed is still running")


def test_init_failing_always_fails_the_job(tmp_path, client):
    script = """
    def init():
        raise RuntimeError("no model file")

    def run(mb):
        return mb
    """
    job = file_job(tmp_path, script, files=4, mini_batch_size="1")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Failed"
    assert result.error.startswith("The init() in the entry script had raised exception for")
    assert "no model file" in result.error
    assert not (tmp_path / "out" / "result.txt").exists()


def test_import_error_is_an_init_failure(tmp_path, client):
    job = file_job(tmp_path, "import not_a_real_module\n\ndef run(mb):\n    return mb\n", files=2)
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Failed"
    assert "ModuleNotFoundError" in result.error


def test_no_progress_watchdog_fails_the_job(tmp_path):
    # Its own cluster: the hung call keeps its worker busy until the cluster closes.
    script = """
    import time

    def run(mb):
        time.sleep(300)
        return mb
    """
    job = file_job(
        tmp_path,
        script,
        files=2,
        mini_batch_size="1",
        max_concurrency_per_instance=1,
        retry_settings={"timeout": 600},
        program_arguments="--progress_update_timeout 3",
    )
    started = time.monotonic()
    result = dp.run(job, run_dir=tmp_path / "run")
    assert result.status == "Failed"
    assert result.error.startswith("No progress update in 3 seconds")
    assert time.monotonic() - started < 60
    assert (tmp_path / "run" / "logs" / "job_result.txt").read_text().startswith("Failed\nNo progress update")
