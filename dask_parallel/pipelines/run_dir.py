"""A pipeline's run directory: its status, its logs, and resuming it.

``<run_dir>/pipeline.json`` holds the pipeline status and one entry per step; each step
has its own folder ``<run_dir>/<step>``, a parallel step's being a job run directory that
``dask-parallel status`` / ``logs`` / ``resume`` understand on their own.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from distributed import Client

from dask_parallel.errors import ResumeError
from dask_parallel.pipelines.result import PipelineResult
from dask_parallel.rundir.result import JobResult

if TYPE_CHECKING:
    from dask_parallel.pipelines.runner import ParallelResumer, ParallelRunner

STATUS_FILE = "pipeline.json"


def is_pipeline_run_dir(path: str | os.PathLike) -> bool:
    return os.path.isfile(os.path.join(os.fspath(path), STATUS_FILE))


def read_pipeline(path: str | os.PathLike) -> dict[str, Any]:
    with open(os.path.join(os.fspath(path), STATUS_FILE), encoding="utf-8") as handle:
        return json.load(handle)


def _step_line(step: str, entry: dict[str, Any]) -> str:
    from dask_parallel.rundir.status import NotARunDirectory, read_status

    line = f"  {step}: {entry.get('status')}"
    if entry.get("reused"):
        line += " (reused)"
    folder = entry.get("run_dir")
    if folder and os.path.exists(os.path.join(folder, "job.json")):
        try:
            status = read_status(folder)
            line += f", {status.done} of {status.mini_batches_total} mini-batches done"
        except NotARunDirectory:
            pass
    if entry.get("error") and entry.get("status") != "Completed":
        line += f": {entry['error']}"
    return line


def pipeline_status(path: str | os.PathLike) -> dict[str, Any]:
    """pipeline.json with the run directory added (what ``status --json`` prints)."""
    document = read_pipeline(path)
    document["run_dir"] = os.path.abspath(os.fspath(path))
    return document


def describe_pipeline_status(path: str | os.PathLike) -> str:
    document = read_pipeline(path)
    lines = [f"pipeline {document.get('name')}: {document.get('status')}"]
    for step, entry in document.get("steps", {}).items():
        lines.append(_step_line(step, entry))
    for name, uri in document.get("outputs", {}).items():
        lines.append(f"  output {name}: {uri}")
    lines.append(f"  run directory: {os.path.abspath(os.fspath(path))}")
    return "\n".join(lines)


def describe_pipeline_logs(path: str | os.PathLike, max_errors: int = 10) -> str:
    """Each step's result and where its logs are; a parallel step's log summary in full."""
    from dask_parallel.rundir.status import describe_logs

    document = read_pipeline(path)
    parts = [describe_pipeline_status(path)]
    for step, entry in document.get("steps", {}).items():
        folder = entry.get("run_dir") or os.path.join(os.fspath(path), step)
        parts.append(f"\n== step {step} ({entry.get('status')}) ==")
        if os.path.exists(os.path.join(folder, "job.json")):
            parts.append(describe_logs(folder, max_errors=max_errors))
            continue
        log = os.path.join(folder, "logs", "user", "std_log.txt")
        if entry.get("error"):
            parts.append(f"error: {entry['error']}")
        if os.path.exists(log):
            parts.append(f"command output: {log}")
        elif entry.get("status") == "NotStarted":
            parts.append("the step did not start.")
    return "\n".join(parts)


def _kept_result(step: str, entry: dict[str, Any], run_dir: str) -> JobResult:
    """A step that completed in the earlier run, kept as it is."""
    from dask_parallel.pipelines.runner import step_result

    folder = entry.get("run_dir") or os.path.join(run_dir, step)
    outputs = dict(entry.get("outputs") or {})
    # kept from before the resume: reused from the step's own earlier run folder
    return step_result(folder, "Completed", outputs, None, time.time(), reused=True, reused_from=folder)


def resume_pipeline(
    run_dir: str | os.PathLike,
    *,
    run_parallel: ParallelRunner,
    resume_parallel: ParallelResumer,
    client: Client | str | None = None,
    show_progress: bool | None = None,
) -> PipelineResult:
    """Continue a failed or canceled pipeline run: completed steps are kept, a parallel step
    that stopped continues its own run directory (its finished mini-batches kept), and the
    steps that did not run are run. ``run_parallel`` and ``resume_parallel`` are
    :func:`dask_parallel.run` and :func:`dask_parallel.resume`, passed by the caller so that
    pipelines never import the engine."""
    from dask_parallel.pipelines.runner import execute_pipeline
    from dask_parallel.pipelines.saved import load_definition
    from dask_parallel.rundir.claim import driver_state

    folder = os.path.abspath(os.fspath(run_dir))
    if not is_pipeline_run_dir(folder):
        raise ResumeError(
            f"cannot resume {folder!r}: it holds no {STATUS_FILE}, so it is not a pipeline run."
        )
    document = read_pipeline(folder)
    if document.get("status") == "Completed":
        raise ResumeError(f"the pipeline in {folder!r} already completed; there is nothing to resume.")
    for step, entry in document.get("steps", {}).items():
        step_dir = entry.get("run_dir") or os.path.join(folder, step)
        found = driver_state(step_dir) if os.path.isdir(step_dir) else None
        if found is not None and found[0] != "dead":
            raise ResumeError(
                f"cannot resume {folder!r}: step {step!r} is still running ({found[1].describe()})."
            )
    job, base = load_definition(folder)
    steps = document.get("steps", {})
    done = {
        step: _kept_result(step, entry, folder)
        for step, entry in steps.items()
        if entry.get("status") == "Completed" and step in job.jobs
    }
    again = {step for step, entry in steps.items() if entry.get("status") in ("Failed", "Canceled")}
    return execute_pipeline(
        job,
        folder,
        base,
        client=client,
        show_progress=show_progress,
        run_parallel=run_parallel,
        resume_parallel=resume_parallel,
        done=done,
        resume_steps=again,
    )


__all__ = [
    "describe_pipeline_logs",
    "describe_pipeline_status",
    "is_pipeline_run_dir",
    "pipeline_status",
    "resume_pipeline",
]
