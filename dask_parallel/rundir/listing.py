"""``dask-parallel list``: the runs under a run root, newest first, with their status."""

from __future__ import annotations

import json
import os

from dask_parallel.rundir.status import NotARunDirectory, RunStatus, read_status

PIPELINE_STATUS = "pipeline.json"


def _pipeline_status(run_dir: str) -> RunStatus | None:
    path = os.path.join(run_dir, PIPELINE_STATUS)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return None
    steps = document.get("steps") or {}
    errors = [f"{name}: {step.get('error')}" for name, step in steps.items() if step.get("error")]
    status = RunStatus(
        run_dir=run_dir,
        name=str(document.get("name") or os.path.basename(run_dir)),
        status=str(document.get("status") or "Running"),
        reason="; ".join(errors) or None,
        mini_batches_total=0,
        started=os.path.getctime(path),
        outputs={str(k): str(v) for k, v in (document.get("outputs") or {}).items()},
    )
    if status.status not in ("Running", "NotStarted"):
        status.finished = os.path.getmtime(path)
    return status


def list_runs(root: str) -> list[RunStatus]:
    """Every run directory directly under ``root`` (parallel jobs and pipelines), newest first."""
    root = os.path.abspath(root)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    runs = []
    for name in names:
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        if os.path.exists(os.path.join(folder, "job.json")):
            try:
                runs.append(read_status(folder))
            except NotARunDirectory:  # a damaged job.json: still list it
                runs.append(RunStatus(folder, name, "Failed", "job.json is damaged", 0))
        else:
            pipeline = _pipeline_status(folder)
            if pipeline is not None:
                runs.append(pipeline)
    runs.sort(key=lambda run: run.started or 0.0, reverse=True)
    return runs
