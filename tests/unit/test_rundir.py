"""Reading a run directory (status, attempts, logs) and drawing it, without a cluster."""

from __future__ import annotations

import csv
import json
import os
import socket
import time
from pathlib import Path

import pytest

from dask_parallel.rundir.ledger import REPORT_COLUMNS
from dask_parallel.rundir.result import JobResult
from dask_parallel.rundir.status import NotARunDirectory, describe_logs, read_attempts, read_status


def make_run(root: Path, *, finished: str | None = "Failed", total: int = 4) -> Path:
    """A run directory as the engine leaves it: 2 workers, mini-batch 2 failed twice."""
    run = root / "run"
    (run / "logs" / "sys" / "job_report").mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"mini_batches": total, "spec": {"name": "scoring"}}))
    now = time.time() - 10
    rows, ledger = [], []
    plan = [(0, 1, "succeeded", 0), (1, 1, "succeeded", 1), (2, 1, "run_error", 0), (2, 2, "run_error", 1)]
    for i, (index, attempt, result, process) in enumerate(plan):
        start = now + i * 0.5
        error = "" if result == "succeeded" else "ValueError: bad row"
        rows.append(
            [f"mb{index:06d}-x", index, attempt, result, "0", f"process{process:03d}", 100 + process,
             5, 5 if result == "succeeded" else 0, 0 if result == "succeeded" else 5,
             time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start)), "0.400", error]
        )  # fmt: skip
        action = "retry" if (index, attempt) == (2, 1) else "done"
        mb = f"mb{index:06d}-x"
        ledger.append(
            {"event": "attempt", "time": start + 0.4, "action": action, "mini_batch_id": mb,
             "attempt": attempt, "start_time": start}
        )  # fmt: skip
        if action == "done":
            won = 5 if result == "succeeded" else 0
            ledger.append(
                {"event": "final", "time": start + 0.4, "mb": mb, "total_items": 5, "succeeded_items": won,
                 "status": "succeeded" if won else "failed"}
            )  # fmt: skip
    if finished:
        ledger.append({"event": "job", "time": now + 3, "status": finished, "reason": "too many failures"})
        (run / "logs" / "job_result.txt").write_text(f"{finished}\ntoo many failures\n")
    with (run / "logs" / "sys" / "job_report" / "processed_mini-batches.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(rows)
    os.utime(run / "job.json", (now - 1, now - 1))
    if not finished:  # a running job: this (live) process holds its run.lock
        (run / "run.lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    (run / "ledger.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ledger) + '{"event": "att')
    return run


def test_status_of_a_finished_run(tmp_path):
    status = read_status(str(make_run(tmp_path)))
    assert (status.status, status.reason, status.name) == ("Failed", "too many failures", "scoring")
    assert (status.mini_batches_succeeded, status.mini_batches_failed, status.done) == (2, 1, 3)
    assert (status.attempts, status.retries) == (4, 1)
    assert (status.items_succeeded, status.items_failed) == (10, 5)
    text = str(status)
    assert "3 of 4 done (75%): 2 succeeded, 1 failed" in text and "4 (1 retried)" in text


def test_status_of_a_running_run_has_an_estimate(tmp_path):
    status = read_status(str(make_run(tmp_path, finished=None)))
    assert status.running and status.finished is None
    text = str(status)
    assert "Running (last update" in text
    assert "elapsed\ntime left" in text and "about " in text


def test_status_counts_mini_batches_cut_while_running(tmp_path):
    run = make_run(tmp_path, finished=None, total=0)
    with (run / "ledger.jsonl").open("a") as handle:  # complete the torn line, then add the cuts
        handle.write('"}\n' + "".join(json.dumps({"event": "cut", "index": i}) + "\n" for i in range(6)))
    assert read_status(str(run)).mini_batches_total == 6


def test_not_a_run_directory(tmp_path):
    with pytest.raises(NotARunDirectory, match=r"has no job\.json"):
        read_status(str(tmp_path))


def test_attempts_use_the_exact_start_times_of_the_ledger(tmp_path):
    attempts = read_attempts(str(make_run(tmp_path)))
    assert [(a.index, a.attempt, a.result) for a in attempts][-1] == (2, 2, "run_error")
    assert attempts[1].start - attempts[0].start == pytest.approx(0.5)
    assert attempts[3].worker == "node 0 / process001"


def test_logs_name_the_failed_attempts_and_the_files(tmp_path):
    run = make_run(tmp_path)
    (run / "logs" / "job_error.txt").write_text("Traceback ... ValueError: bad row\n")
    text = describe_logs(str(run))
    assert "== logs/job_result.txt ==\nFailed\ntoo many failures" in text
    assert "mini-batch 2 attempt 2 on node 0 / process001: run_error: ValueError: bad row" in text
    assert f"{run}/logs/job_error.txt  the entry script's errors" in text


def test_job_result_renders_for_terminal_and_notebook(tmp_path):
    run = make_run(tmp_path)
    result = JobResult(
        status="Failed", run_dir=str(run), outputs={"scores": "/out/scores.txt"}, error="too <many> failures",
        mini_batches_total=4, mini_batches_succeeded=2, mini_batches_failed=1, items_total=15,
        items_succeeded=10, items_failed=5, attempts=4, started=1_700_000_000.0, finished=1_700_000_125.0,
        dashboard_link="http://127.0.0.1:8787/status",
    )  # fmt: skip
    text = str(result)
    assert text.splitlines()[0] == "status          Failed"
    assert "mini-batches    2 succeeded, 1 failed, 1 not processed, of 4" in text
    assert "attempts        4 (1 beyond the first of each mini-batch)" in text
    assert "duration        0:02:05 (from " in text
    assert "per mini-batch  median 0.40 s, fastest 0.40 s, slowest 0.40 s" in text
    assert f"logs            {run}/logs" in text
    page = result._repr_html_()
    assert "<span style='color:#cf222e'>Failed</span>" in page
    assert "too &lt;many&gt; failures" in page
    assert '<a href="http://127.0.0.1:8787/status" target="_blank"' in page
    assert "<code>/out/scores.txt</code>" in page


def test_plot_draws_and_saves_the_timeline(tmp_path):
    import numpy as np
    from matplotlib.image import imread

    run = make_run(tmp_path)
    result = JobResult(
        status="Failed", run_dir=str(run), outputs={}, error=None, mini_batches_total=4,
        mini_batches_succeeded=2, mini_batches_failed=1, items_total=15, items_succeeded=10, items_failed=5,
    )  # fmt: skip
    figure = result.plot()
    timeline = figure.axes[0]
    assert [label.get_text() for label in timeline.get_yticklabels()] == [
        "node 0 / process000",
        "node 0 / process001",
    ]
    # Drawn as one collection per row and kind (fast for many attempts): one bar per attempt.
    bars = [c for c in timeline.collections if c.get_paths()]
    assert sum(len(c.get_paths()) for c in bars) == 4
    assert sum(len(c.get_paths()) for c in bars if c.get_hatch()) == 1  # the retry is hatched
    assert "Failed, 3 of 4 mini-batches done, 4 attempts" in figure.texts[0].get_text()
    image = imread(run / "logs" / "job_timeline.png")
    red = (image[..., 0] > 0.7) & (image[..., 1] < 0.3) & (image[..., 2] < 0.3)
    green = (image[..., 1] > 0.55) & (image[..., 0] < 0.3)
    assert image.shape[0] >= 600 and np.count_nonzero(red) > 500 and np.count_nonzero(green) > 500


def test_init_is_its_own_bar_and_left_out_of_durations(tmp_path):
    import statistics

    from dask_parallel.rundir.timeline import INIT_COLOR, timeline_figure

    run = make_run(tmp_path)
    lines = (run / "ledger.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["init_time"] = 0.3  # the first attempt on process000 waited 0.3 s of its 0.4 s for init()
    (run / "ledger.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]))
    attempts = read_attempts(str(run))
    assert attempts[0].init_time == 0.3 and attempts[0].work_time == pytest.approx(0.1)
    result = JobResult(
        status="Failed", run_dir=str(run), outputs={}, error=None, mini_batches_total=4,
        mini_batches_succeeded=2, mini_batches_failed=1, items_total=15, items_succeeded=10, items_failed=5,
    )  # fmt: skip
    assert result.mini_batch_durations() == pytest.approx([0.1, 0.4])
    assert f"median {statistics.median([0.1, 0.4]):.2f} s" in str(result)
    figure = timeline_figure(str(run))
    init_bars = [
        c
        for c in figure.axes[0].collections
        if c.get_paths() and tuple(c.get_facecolor()[0][:3]) == _rgb(INIT_COLOR)
    ]
    assert sum(len(c.get_paths()) for c in init_bars) == 1
    assert "init()" in [t.get_text() for t in figure.axes[0].get_legend().get_texts()]


def _rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def test_a_huge_run_skips_the_picture_and_says_why(tmp_path, monkeypatch):
    from dask_parallel.rundir import timeline

    run = make_run(tmp_path)
    (run / "logs" / "sys" / "master_role.txt").write_text("")
    monkeypatch.setattr(timeline, "MAX_ATTEMPTS", 3)
    with pytest.raises(timeline.TimelineSkipped, match="4 attempts are more than 3"):
        timeline.save_timeline(str(run))
    assert "no timeline picture: 4 attempts" in (run / "logs" / "sys" / "master_role.txt").read_text()
    assert not (run / "logs" / "job_timeline.png").exists()
