"""What a user sees while a job runs: the bar, the log lines, the dashboard link and task names."""

from __future__ import annotations

import re

import dask.config

import dask_parallel as dp
from dask_parallel.execution import progress
from tests.conftest import file_job

SCRIPT = """
import os, time

def run(mini_batch):
    time.sleep(float(os.environ.get("DELAY", "0")))
    if any(p.endswith("item_007.txt") for p in mini_batch) and not os.path.exists(os.environ["MARK"]):
        open(os.environ["MARK"], "w").close()
        raise RuntimeError("first attempt of mini-batch 1 fails")
    return [os.path.basename(p) for p in mini_batch]
"""


def job(tmp_path, delay="0"):
    return file_job(
        tmp_path,
        SCRIPT,
        files=20,
        mini_batch_size="5",
        environment_variables={"DELAY": delay, "MARK": str(tmp_path / "failed-once")},
    )


def test_progress_bar_counts_mini_batches_retries_and_items(tmp_path, client, capsys, monkeypatch):
    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)  # as if stderr were a terminal
    with dask.config.set({"dask-parallel.progress-style": "bar"}):
        result = dp.run(job(tmp_path), client=client, show_progress=True)
    assert result.status == "Completed"
    err = capsys.readouterr().err
    assert re.search(r"Dask dashboard: http://127\.0\.0\.1:\d+/status", err)
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("test_job: 100%") and "4/4" in final, final
    assert "failed 0, retried 1, items 20 ok / 0 failed" in final
    assert "mini-batch/s" in final


def test_off_a_terminal_the_bar_becomes_plain_lines(tmp_path, client, capsys):
    with dask.config.set({"dask-parallel.progress-style": "bar"}):
        result = dp.run(job(tmp_path), client=client, show_progress=True)
    assert result.status == "Completed"
    err = capsys.readouterr().err
    assert "\r" not in err  # a log file gets whole lines, not tqdm's redraws
    assert err.splitlines()[0] == f"test_job: run directory {result.run_dir}"
    assert err.splitlines()[-1].startswith("test_job: 4/4 mini-batches (100%)")


def test_log_style_writes_a_line_per_interval(tmp_path, client, capsys):
    settings = {"dask-parallel.progress-style": "log", "dask-parallel.progress-interval": 0.2}
    with dask.config.set(settings):
        result = dp.run(job(tmp_path, delay="0.4"), client=client, show_progress=True)
    assert result.status == "Completed"
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"test_job: run directory {result.run_dir}"  # at once: status works meanwhile
    assert lines[1].startswith("test_job: 4 mini-batches to process; Dask dashboard: http://127.0.0.1:")
    ticks = [line for line in lines[2:-1] if line.startswith("test_job: ")]
    assert len(ticks) >= 3, lines
    assert any("mini-batches/s, about" in line for line in ticks), ticks
    assert lines[-1].startswith("test_job: 4/4 mini-batches (100%), 0 failed, 1 retried; items 20 succeeded")
    assert "left" not in lines[-1]


def test_no_output_when_progress_is_off(tmp_path, client, capsys):
    result = dp.run(job(tmp_path), client=client, show_progress=False)
    assert result.status == "Completed"
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_mini_batch_tasks_carry_the_step_name_in_the_dashboard(tmp_path, client):
    dp.run(job(tmp_path), client=client)

    def prefixes(dask_scheduler):
        return sorted(dask_scheduler.task_prefixes)

    assert "test_job-mini-batch" in client.run_on_scheduler(prefixes)
