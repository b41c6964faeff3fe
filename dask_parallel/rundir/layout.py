"""Every path of a run directory, in one place.

A run directory holds one job run (``logs/`` follows Azure ML's parallel job)::

    RUN_DIR/
      job.json                  the job's settings, input fingerprint and reuse key
      ledger.jsonl              one line per attempt and per final mini-batch state (parts
                                relative to RUN_DIR, with a CRC-32; see rundir/parts.py)
      run.lock                  PID and host of the process running the job, created with
                                O_EXCL and removed at the end (see rundir/claim.py)
      parts/<node>-<process>-<pid>-<job>.rows
                                each worker process's append_row rows (append-only; the
                                ledger records the byte range of each winning attempt)
      attempts/<node>-<process>-<pid>-<job>.started
                                the attempt tokens each process started (explains lost attempts)
      attempts/<token>.timeout  left by the watchdog when it stopped a call
      work/<node>/<process>-<pid>/
                                each worker process's working directory
      outputs/<name>/           outputs that were given no path
      logs/readme.txt, job_result.txt, job_error.txt, job_progress_overview.<time>.txt,
      logs/job_timeline.png
      logs/sys/master_role.txt, logs/sys/job_report/{processed_mini-batches,failed_items}.csv
      logs/sys/node/<node>/<process>.txt
      logs/user/{stdout,stderr,error,entry_script_log}/<node>/<process>...

``attempts/`` is removed when the job finishes. A pipeline run directory holds one such
directory per parallel step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid


@dataclasses.dataclass(frozen=True)
class RunLayout:
    """The paths of the run directory ``run_dir`` (nothing is created)."""

    run_dir: str

    def _path(self, *parts: str) -> str:
        return os.path.join(self.run_dir, *parts)

    @property
    def job_file(self) -> str:
        return self._path("job.json")

    @property
    def plan_dir(self) -> str:
        """The input listing and the mini-batches of files (dask_parallel.rundir.plan_store)."""
        return self._path("plan")

    @property
    def ledger(self) -> str:
        return self._path("ledger.jsonl")

    @property
    def lock(self) -> str:
        return self._path("run.lock")

    @property
    def parts_dir(self) -> str:
        return self._path("parts")

    @property
    def markers_dir(self) -> str:
        return self._path("attempts")

    @property
    def work_dir(self) -> str:
        return self._path("work")

    @property
    def outputs_dir(self) -> str:
        return self._path("outputs")

    def output_dir(self, name: str) -> str:
        """Where the output ``name`` goes when it was given no path."""
        return self._path("outputs", name)

    @property
    def logs_dir(self) -> str:
        return self._path("logs")

    def log(self, *parts: str) -> str:
        """A path below ``logs/``."""
        return self._path("logs", *parts)

    @property
    def readme(self) -> str:
        return self.log("readme.txt")

    @property
    def job_result(self) -> str:
        return self.log("job_result.txt")

    @property
    def job_error(self) -> str:
        return self.log("job_error.txt")

    @property
    def timeline(self) -> str:
        return self.log("job_timeline.png")

    @property
    def master_role(self) -> str:
        return self.log("sys", "master_role.txt")

    @property
    def job_report_dir(self) -> str:
        return self.log("sys", "job_report")

    @property
    def report(self) -> str:
        return self.log("sys", "job_report", "processed_mini-batches.csv")

    @property
    def failed_items(self) -> str:
        return self.log("sys", "job_report", "failed_items.csv")

    @property
    def user_error_dir(self) -> str:
        return self.log("user", "error")

    def progress_overview(self, started: float) -> str:
        stamp = dt.datetime.fromtimestamp(started, dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        return self.log(f"job_progress_overview.{stamp}.txt")


def new_run_dir(name: str, root: str | None = None) -> str:
    """A fresh run directory path ``<root>/<name>_<time>_<random>`` (not created)."""
    from dask_parallel import config

    root = root or config.get("run-root", "dask-parallel-runs")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.abspath(os.path.join(root, f"{name}_{stamp}_{uuid.uuid4().hex[:6]}"))
