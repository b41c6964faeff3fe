"""Cancel requests, the progress lines off a terminal, the environment record, listing runs."""

from __future__ import annotations

import hashlib
import io
import json
import threading

from dask_parallel.execution import cancel_file as cancel
from dask_parallel.execution.progress import Progress
from dask_parallel.execution.state import JobState, Policy
from dask_parallel.rundir.environment import environment_record
from dask_parallel.rundir.listing import list_runs
from tests.unit.test_rundir import make_run


def test_a_cancel_request_ends_the_job_as_canceled(tmp_path):
    state = JobState(["a", "b"], Policy())
    messages = []
    ended = threading.Event()
    with cancel.watch_cancel_requests(str(tmp_path), state, messages.append, interval=0.01):
        cancel.request_cancel(str(tmp_path), "maintenance")
        for _ in range(500):
            if state.finished:
                ended.set()
                break
            ended.wait(0.01)
    assert state.status == "Canceled"
    assert "canceled by a cancel request from" in state.reason and state.reason.endswith(": maintenance.")
    assert messages == [state.reason]
    assert not (tmp_path / "cancel.request").exists()  # consumed: a resume is not canceled by it


def test_a_request_older_than_this_process_is_dropped(tmp_path, monkeypatch):
    path = cancel.request_cancel(str(tmp_path))
    with open(path) as handle:
        record = json.load(handle)
    record["time"] = cancel.PROCESS_STARTED - 60
    with open(path, "w") as handle:
        json.dump(record, handle)
    state = JobState(["a"], Policy())
    with cancel.watch_cancel_requests(str(tmp_path), state, interval=0.01):
        assert not (tmp_path / "cancel.request").exists()
    assert state.status == "Running"


def test_progress_off_a_terminal_writes_plain_lines():
    state = JobState(["a", "b"], Policy())
    stream = io.StringIO()  # like a log file: not a terminal
    with Progress(state, enabled=True, name="nightly", style="bar", stream=stream, interval=3600):
        pass
    text = stream.getvalue()
    assert "\r" not in text
    assert text.splitlines()[0] == "nightly: 2 mini-batches to process"
    assert text.splitlines()[-1].startswith("nightly: 0/2 mini-batches (0%)")


def test_progress_of_a_job_still_cutting_mini_batches_shows_an_open_total():
    state = JobState(["a", "b"], Policy())
    state.growing = True  # its input is still being listed
    stream = io.StringIO()
    with Progress(state, enabled=True, name="big", style="log", stream=stream, interval=3600) as shown:
        line = shown.line()
    assert stream.getvalue().splitlines()[0] == "big: 2+ mini-batches to process"
    assert line.startswith("big: 0/2+ mini-batches") and "more mini-batches still being cut" in line
    assert "left" not in line


def test_environment_record_names_what_ran(tmp_path):
    (tmp_path / "score.py").write_text("def run(mb):\n    return mb\n")
    record = environment_record(str(tmp_path), "score.py")
    assert record["python"].count(".") == 2 and record["host"]
    assert record["packages"]["dask"] and "dask_parallel" in record["packages"]
    expected = hashlib.sha256((tmp_path / "score.py").read_bytes()).hexdigest()
    assert record["entry_script"] == {"path": str(tmp_path / "score.py"), "sha256": expected}


def test_list_runs_newest_first_with_pipelines(tmp_path):
    older = make_run(tmp_path / "a")
    pipeline = tmp_path / "p"
    pipeline.mkdir()
    (pipeline / "pipeline.json").write_text(
        json.dumps({"name": "nightly", "status": "Completed", "steps": {}, "outputs": {"o": "/x"}})
    )
    for run in (older, pipeline):
        (tmp_path / "root").mkdir(exist_ok=True)
        (tmp_path / "root" / run.parent.name).symlink_to(run)
    runs = list_runs(str(tmp_path / "root"))
    assert [(r.name, r.status) for r in runs] == [("nightly", "Completed"), ("scoring", "Failed")]
    assert list_runs(str(tmp_path / "missing")) == []


def test_without_the_plot_extra_the_timeline_names_it(tmp_path, monkeypatch):
    import importlib.util

    from dask_parallel.rundir import timeline

    real = importlib.util.find_spec
    missing = {"matplotlib"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name in missing else real(name))
    run = make_run(tmp_path)
    try:
        timeline.save_timeline(str(run))
    except ImportError as exc:
        assert "pip install 'dask_parallel[plot]'" in str(exc)
    else:
        raise AssertionError("no ImportError")


def test_running_a_job_needs_no_optional_extra(python_env):
    """The engine, the CLI and the run-directory readers import none of the extras."""
    import subprocess
    import sys

    code = (
        "import sys, dask_parallel as dp, dask_parallel.cli, dask_parallel.engine, dask_parallel.submit\n"
        "import dask_parallel.rundir.status, dask_parallel.schema\n"
        "dp.run, dp.load_result, dp.submit\n"
        "print(sorted(m for m in ('matplotlib', 'deltalake', 'ipywidgets') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=python_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_drivers_decisions_reach_python_logging(tmp_path, caplog):
    import logging

    from dask_parallel.rundir.ledger import Journal

    journal = Journal(str(tmp_path / "run"))
    with caplog.at_level(logging.INFO, logger="dask_parallel.driver"):
        journal.log("mini batch 3 attempt 1 run_error: boom -> retry")
    journal.close()
    assert caplog.records[0].getMessage() == "run: mini batch 3 attempt 1 run_error: boom -> retry"
    assert "boom -> retry" in (tmp_path / "run" / "logs" / "sys" / "master_role.txt").read_text()
