"""Claiming a run directory: an O_EXCL run.lock, foreign folders refused, dead drivers reported."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dask_parallel.errors import JobValidationError
from dask_parallel.rundir.claim import (
    RunDirBusyError,
    RunLock,
    check_not_inside,
    check_run_dir,
    read_lock,
)
from dask_parallel.rundir.resume import running_holder
from dask_parallel.rundir.status import read_status


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_lock(run_dir, pid: int, host: str | None = None) -> None:
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "run.lock"), "w", encoding="utf-8") as handle:
        json.dump({"pid": pid, "host": host or socket.gethostname()}, handle)


def test_lock_holds_pid_and_host_and_is_removed_by_its_owner(tmp_path):
    run_dir = str(tmp_path / "run")
    lock = RunLock(run_dir).acquire()
    holder = read_lock(run_dir)
    assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
    lock.release()
    assert not os.path.exists(os.path.join(run_dir, "run.lock"))


def test_second_claim_loses_and_leaves_the_winners_lock(tmp_path):
    run_dir = str(tmp_path / "run")
    write_lock(run_dir, os.getppid())  # a live process other than this one
    before = Path(run_dir, "run.lock").read_text()
    loser = RunLock(run_dir)
    with pytest.raises(RunDirBusyError, match=f"in use by process {os.getppid()} on host"):
        loser.acquire()
    loser.release()  # the loser's cleanup never removes the winner's lock
    assert Path(run_dir, "run.lock").read_text() == before


def test_two_claims_in_one_process_exactly_one_wins(tmp_path):
    run_dir = str(tmp_path / "run")
    first = RunLock(run_dir)
    first.content = json.dumps({"pid": os.getppid(), "host": socket.gethostname()})
    first.acquire()
    with pytest.raises(RunDirBusyError):
        RunLock(run_dir).acquire()


def test_a_dead_processs_lock_is_taken_over(tmp_path):
    run_dir = str(tmp_path / "run")
    write_lock(run_dir, dead_pid())
    RunLock(run_dir).acquire()
    assert read_lock(run_dir).pid == os.getpid()


def test_a_lock_on_another_host_is_not_taken_over(tmp_path):
    run_dir = str(tmp_path / "run")
    write_lock(run_dir, 12345, host="elsewhere.example")
    with pytest.raises(RunDirBusyError, match=r"elsewhere.example.*cannot be checked"):
        RunLock(run_dir).acquire()
    assert running_holder(run_dir).host == "elsewhere.example"


def test_old_one_line_lock_is_read(tmp_path):
    (tmp_path / "run.lock").write_text(f"{os.getppid()}\n")
    assert read_lock(str(tmp_path)).pid == os.getppid()


def test_folder_with_user_files_is_refused(tmp_path):
    (tmp_path / "attempts").mkdir()
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(JobValidationError, match=r"thesis.docx"):
        check_run_dir(str(tmp_path))


def test_empty_and_own_folders_are_accepted(tmp_path):
    check_run_dir(str(tmp_path / "missing"))
    check_run_dir(str(tmp_path))
    for name in ("logs", "parts", "attempts", "outputs", "work", "inputs"):
        (tmp_path / name).mkdir()
    (tmp_path / "job.json").write_text("{}")
    (tmp_path / "job.json.tmp-12-abcd").write_text("{")
    check_run_dir(str(tmp_path))


def test_a_file_is_refused_as_run_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(JobValidationError, match=r"not a folder"):
        check_run_dir(str(tmp_path / "file"))


def test_run_dir_inside_an_input_folder_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(JobValidationError, match=r"inside inputs.data_in"):
        check_not_inside(str(tmp_path / "data" / "run"), {"data_in": str(tmp_path / "data")})
    check_not_inside(str(tmp_path / "run"), {"data_in": str(tmp_path / "data")})


def make_unfinished_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "job.json").write_text(json.dumps({"mini_batches": 2, "spec": {"name": "x"}}))
    (run / "ledger.jsonl").write_text(json.dumps({"event": "attempt", "time": 1.0}) + "\n")
    return run


def test_status_reports_a_dead_driver(tmp_path):
    run = make_unfinished_run(tmp_path)
    pid = dead_pid()
    write_lock(str(run), pid)
    status = read_status(str(run))
    assert status.status == "Failed"
    assert f"process {pid}" in status.reason and "died" in status.reason and "resume" in status.reason


def test_status_reports_a_missing_lock_as_stopped(tmp_path):
    status = read_status(str(make_unfinished_run(tmp_path)))
    assert status.status == "Failed" and "no process holds its run.lock" in status.reason


def test_status_of_a_driver_on_another_host_says_so(tmp_path):
    run = make_unfinished_run(tmp_path)
    write_lock(str(run), 4242, host="gpu-node-7")
    status = read_status(str(run))
    assert status.status == "Running" and "gpu-node-7" in status.reason


def test_status_of_a_live_driver_is_running(tmp_path):
    run = make_unfinished_run(tmp_path)
    write_lock(str(run), os.getppid())
    assert read_status(str(run)).status == "Running"
