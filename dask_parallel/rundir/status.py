"""Read a run directory: a job's status and progress, and where its logs are.

Works on a running job (another process is writing the ledger) and on a finished one;
used by ``dask-parallel status`` and ``dask-parallel logs``. Only the standard library and
the light run-directory modules are imported here, so those commands start instantly.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import glob
import json
import os
import time
from typing import Any

from dask_parallel.rundir.claim import driver_state
from dask_parallel.rundir.layout import RunLayout
from dask_parallel.rundir.ledger import read_ledger

STALE_AFTER = 600.0
CANCEL_REQUEST = "cancel.request"  # written by `dask-parallel cancel`; the driver polls for it


class NotARunDirectory(ValueError):
    """The folder holds no job.json: it is not (or not yet) a dask_parallel run directory."""


@dataclasses.dataclass
class RunStatus:
    """What a run directory says about its job, at the moment it was read."""

    run_dir: str
    name: str
    status: str
    reason: str | None
    mini_batches_total: int
    mini_batches_succeeded: int = 0
    mini_batches_failed: int = 0
    attempts: int = 0
    retries: int = 0
    items_succeeded: int = 0
    items_failed: int = 0
    started: float | None = None
    last_update: float | None = None
    finished: float | None = None
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)
    reused_from: str | None = None

    @property
    def done(self) -> int:
        return self.mini_batches_succeeded + self.mini_batches_failed

    @property
    def running(self) -> bool:
        return self.status in ("Running", "CancelRequested")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["mini_batches_done"] = self.done
        return data

    def __str__(self) -> str:
        now = time.time()
        status = self.status
        if self.running and self.last_update is not None:
            idle = now - self.last_update
            status += f" (last update {_duration(idle)} ago)"
            if idle > STALE_AFTER:
                status += "; no news for a while: the job may have stopped without a result"
        rows = [("run", self.run_dir), ("job", self.name), ("status", status)]
        if self.reused_from:
            rows.append(("reused from", self.reused_from))
        if self.reason:
            rows.append(("reason", self.reason))
        percent = 100 * self.done / self.mini_batches_total if self.mini_batches_total else 100.0
        rows += [
            (
                "mini-batches",
                f"{self.done} of {self.mini_batches_total} done ({percent:.0f}%): "
                f"{self.mini_batches_succeeded} succeeded, {self.mini_batches_failed} failed",
            ),
            ("attempts", f"{self.attempts} ({self.retries} retried)"),
            ("items", f"{self.items_succeeded} succeeded, {self.items_failed} failed"),
        ]
        if self.started is not None:
            end = self.finished or (now if self.running else self.last_update) or self.started
            rows.append(("started", f"{_clock(self.started)}, {_duration(end - self.started)} elapsed"))
            if self.running and 0 < self.done < self.mini_batches_total:
                left = (end - self.started) / self.done * (self.mini_batches_total - self.done)
                rows.append(("time left", f"about {_duration(left)}"))
        width = max(len(key) for key, _ in rows)
        return "\n".join(f"{key.ljust(width)}  {value}" for key, value in rows)


def _clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    return str(dt.timedelta(seconds=round(seconds)))


_LEDGER_CACHE: dict[str, tuple[tuple[int, int], list[dict[str, Any]]]] = {}


def _ledger(run_dir: str) -> list[dict[str, Any]]:
    """The ledger's records; read once per version of the file (status and the timeline
    both need it, and a large run's ledger has tens of thousands of lines)."""
    path = RunLayout(run_dir).ledger
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return []
    version = (info.st_size, info.st_mtime_ns)
    cached = _LEDGER_CACHE.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    records = read_ledger(run_dir)
    _LEDGER_CACHE.clear()  # one run at a time is enough
    _LEDGER_CACHE[path] = (version, records)
    return records


def read_status(run_dir: str) -> RunStatus:
    """Status and progress of the job in ``run_dir``, from job.json, ledger.jsonl and logs/."""
    run_dir = os.path.abspath(run_dir)
    job_file = RunLayout(run_dir).job_file
    try:
        with open(job_file, encoding="utf-8") as handle:
            job = json.load(handle)
    except FileNotFoundError:
        raise NotARunDirectory(
            f"{run_dir} is not a dask_parallel run directory: it has no job.json. Give the folder "
            "that `dask-parallel run` printed (under dask-parallel-runs/ by default)."
        ) from None
    except json.JSONDecodeError as exc:
        raise NotARunDirectory(f"{job_file} is not valid JSON ({exc}); the run directory is damaged.")
    spec = job.get("spec") or {}
    status = RunStatus(
        run_dir=run_dir,
        name=str(spec.get("name") or os.path.basename(run_dir)),
        status="Running",
        reason=None,
        mini_batches_total=int(job.get("mini_batches") or 0),
        started=job.get("started") or os.path.getmtime(job_file),
        outputs={
            str(name): str(output.get("uri"))
            for name, output in (spec.get("outputs") or {}).items()
            if isinstance(output, dict) and output.get("uri")
        },
        reused_from=job.get("reused_from"),
    )
    if status.reused_from:
        return _reused_status(status, job)
    finals: dict[str, dict[str, Any]] = {}
    ended: dict[str, Any] | None = None
    for record in read_ledger(run_dir):
        event = record.get("event")
        status.last_update = record.get("time", status.last_update)
        if event == "attempt":
            status.attempts += 1
            status.retries += record.get("action") == "retry"
            ended = None
        elif event == "final":
            finals[str(record.get("mb"))] = record
            ended = None
        elif event == "job":
            ended = record
        elif event == "cut":  # mini-batches sized by time: the total grows as they are cut
            status.mini_batches_total = max(status.mini_batches_total, int(record.get("index", 0)) + 1)
            ended = None
        else:  # any other event (a resume, for one) means the job is running again
            ended = None
    for final in finals.values():
        total = final.get("total_items") or 0
        succeeded = final.get("succeeded_items") or 0
        status.items_succeeded += succeeded
        status.items_failed += max(0, total - succeeded)
        if final.get("status") == "succeeded":
            status.mini_batches_succeeded += 1
        else:
            status.mini_batches_failed += 1
    if ended is not None:
        status.status = str(ended.get("status") or "Failed")
        if status.status != "Completed":  # a job that did not complete wrote no output
            status.outputs = {}
        status.reason = ended.get("reason")
        status.finished = ended.get("time")
    else:
        _check_driver(status)
        if status.status == "Running" and os.path.exists(os.path.join(run_dir, CANCEL_REQUEST)):
            status.status = "CancelRequested"
    return status


def _reused_status(status: RunStatus, job: dict[str, Any]) -> RunStatus:
    """A run directory that records the reuse of an earlier identical run's result."""
    earlier = job.get("result") or {}
    status.status = str(earlier.get("status") or "Completed")
    status.outputs = dict(earlier.get("outputs") or status.outputs)
    status.mini_batches_total = int(earlier.get("mini_batches_total") or 0)
    status.mini_batches_succeeded = int(earlier.get("mini_batches_succeeded") or 0)
    status.mini_batches_failed = int(earlier.get("mini_batches_failed") or 0)
    status.items_succeeded = int(earlier.get("items_succeeded") or 0)
    status.items_failed = int(earlier.get("items_failed") or 0)
    status.attempts = int(earlier.get("attempts") or 0)
    status.retries = max(0, status.attempts - status.done)
    status.finished = status.started
    status.last_update = status.started
    return status


def _check_driver(status: RunStatus) -> None:
    """A job without a result is Running only while the process in ``run.lock`` lives."""
    found = driver_state(status.run_dir)
    resume = f"`dask-parallel resume {status.run_dir}` continues it."
    if found is None:
        status.status = "Failed"
        status.reason = (
            "the job has no result and no process holds its run.lock: the driver stopped without "
            f"recording one (killed, or its machine stopped). {resume}"
        )
        return
    state, holder = found
    if state == "dead":
        status.status = "Failed"
        status.reason = (
            f"the driver ({holder.describe()}) died without recording a result (killed, out of "
            f"memory, or crashed). {resume}"
        )
    elif state == "unknown":
        status.reason = (
            f"the driver runs as {holder.describe()}, which cannot be checked from this host; "
            "the status is Running as far as its files tell."
        )


@dataclasses.dataclass
class Attempt:
    """One row of processed_mini-batches.csv, with its start time as a number."""

    mini_batch_id: str
    index: int
    attempt: int
    result: str
    worker: str
    start: float
    elapsed: float
    total_items: int | None
    failed_items: int | None
    error: str
    init_time: float = 0.0  # seconds of init() inside ``elapsed`` (first attempt on a process)

    @property
    def work_time(self) -> float:
        """Seconds the attempt took without ``init()``: reading, run() and writing rows."""
        return max(0.0, self.elapsed - self.init_time)


def read_attempts(run_dir: str) -> list[Attempt]:
    """Every mini-batch attempt of the run, from logs/sys/job_report/processed_mini-batches.csv.

    The report's start times have whole seconds; where the ledger has the exact start time
    of an attempt, that is used instead.
    """
    path = RunLayout(run_dir).report
    if not os.path.exists(path):
        return []
    exact = {}
    init_times = {}
    for r in _ledger(run_dir):
        if r.get("event") == "attempt":
            exact[(r.get("mini_batch_id"), r.get("attempt"))] = r.get("start_time")
            if r.get("init_time"):
                init_times[(r.get("mini_batch_id"), r.get("attempt"))] = float(r["init_time"])
    attempts = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                number = int(row["attempt"])
                start = exact.get((row["mini_batch_id"], number))
                if not start:
                    stamp = row.get("start_time") or ""
                    start = (
                        dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
                        .replace(tzinfo=dt.timezone.utc)
                        .timestamp()
                        if stamp
                        else None
                    )
                attempts.append(
                    Attempt(
                        mini_batch_id=row["mini_batch_id"],
                        index=int(row["mini_batch_index"]),
                        attempt=number,
                        result=row["result"],
                        worker=(
                            f"node {row['node_id']} / {row['process_name']}"
                            if row.get("process_name")
                            else "lost process"
                        ),
                        start=float(start) if start else float("nan"),
                        elapsed=float(row.get("elapsed_seconds") or 0.0),
                        total_items=int(row["total_items"]) if row.get("total_items") else None,
                        failed_items=int(row["failed_items"]) if row.get("failed_items") else None,
                        error=row.get("error") or "",
                        init_time=init_times.get((row["mini_batch_id"], number), 0.0),
                    )
                )
            except (KeyError, ValueError):  # a row being written right now
                continue
    return attempts


def _log_files(layout: RunLayout) -> list[tuple[str, str]]:
    """The files and folders ``dask-parallel logs`` points to, with what each holds."""
    return [
        (layout.job_error, "the entry script's errors, with tracebacks"),
        (layout.user_error_dir, "full tracebacks per worker process"),
        (layout.log("user", "stdout"), "print() and logging output of the entry script"),
        (layout.log("user", "stderr"), "stderr of the entry script"),
        (layout.master_role, "what the driver decided: retries, aborts"),
        (layout.report, "one row per mini-batch attempt"),
        (layout.timeline, "a picture of every attempt per worker process"),
    ]


@dataclasses.dataclass
class RunLogs:
    """A run's status, result text, attempts that did not succeed, and log files worth reading."""

    status: RunStatus
    result_text: str | None
    failed_attempts: list[Attempt]
    failed_total: int
    files: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "result_text": self.result_text,
            "failed_attempts": [
                {
                    "mini_batch_index": a.index,
                    "attempt": a.attempt,
                    "worker": a.worker,
                    "result": a.result,
                    "error": a.error,
                }
                for a in self.failed_attempts
            ],
            "files": [{"path": path, "description": what} for path, what in self.files],
        }


def collect_logs(run_dir: str, max_errors: int = 10) -> RunLogs:
    """What ``dask-parallel logs`` shows, as data."""
    status = read_status(run_dir)
    layout = RunLayout(status.run_dir)
    result_file = layout.job_result
    result_text = None
    if os.path.exists(result_file):
        with open(result_file, encoding="utf-8") as handle:
            result_text = handle.read().rstrip()
    failed = [a for a in read_attempts(status.run_dir) if a.result != "succeeded"]
    files = []
    for path, what in _log_files(layout):
        if os.path.isdir(path):
            found = [f for f in glob.glob(os.path.join(path, "**", "*"), recursive=True) if os.path.isfile(f)]
            if any(os.path.getsize(f) for f in found):
                files.append((f"{path}/", what))
        elif os.path.exists(path):
            files.append((path, what))
    return RunLogs(status, result_text, failed[-max_errors:] if max_errors > 0 else [], len(failed), files)


def describe_logs(run_dir: str, max_errors: int = 10) -> str:
    """The job's result, its errors and where to look next, as text for a terminal."""
    logs = collect_logs(run_dir, max_errors)
    parts = [str(logs.status)]
    if logs.result_text is not None:
        parts.append("== logs/job_result.txt ==\n" + logs.result_text)
    else:
        parts.append("The job has not written logs/job_result.txt yet: it is running or it stopped early.")
    if logs.failed_attempts:
        lines = [
            f"mini-batch {a.index} attempt {a.attempt} on {a.worker}: {a.result}: {a.error or 'no message'}"
            for a in logs.failed_attempts
        ]
        shown = len(logs.failed_attempts)
        more = f" (last {shown} of {logs.failed_total})" if logs.failed_total > shown else ""
        parts.append(f"== attempts that did not succeed{more} ==\n" + "\n".join(lines))
    if logs.files:
        parts.append("== where to look ==\n" + "\n".join(f"{path}  {what}" for path, what in logs.files))
    return "\n\n".join(parts)
