"""The one JSON document every ``dask-parallel COMMAND --json`` prints.

Its layout is ``cli-output.schema.json`` beside this module (a JSON Schema, shipped with
the package; :func:`schema_path`). Every document has ``schema_version``, ``command``,
``job``, ``status``, ``run_dir``, ISO-8601 ``started``/``finished``, ``duration_seconds``,
``counts``, ``outputs`` and ``error``; a command adds its own optional part (``steps``,
``validation``, ``logs``, ``cancel``, ``runs``). Only the standard library is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dask_parallel.rundir.result import JobResult
    from dask_parallel.rundir.status import RunStatus

SCHEMA_VERSION = 1
SCHEMA_FILE = "cli-output.schema.json"
COMMANDS = ("run", "resume", "status", "validate", "logs", "cancel", "list", "python")


def schema_path() -> str:
    """Path of the JSON Schema file describing the documents."""
    return os.path.join(os.path.dirname(__file__), SCHEMA_FILE)


def load_schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as handle:
        return json.load(handle)


def iso(epoch: float | None) -> str | None:
    """``2026-01-31T02:00:05.123+00:00`` (UTC), or None for an unknown time."""
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(float(epoch), dt.timezone.utc).isoformat(timespec="milliseconds")


def counts(
    total: int = 0,
    succeeded: int = 0,
    failed: int = 0,
    items_succeeded: int = 0,
    items_failed: int = 0,
    attempts: int = 0,
    retries: int | None = None,
    items_total: int | None = None,
) -> dict[str, int]:
    done = succeeded + failed
    if retries is None:
        retries = max(0, attempts - done)
    return {
        "mini_batches_total": int(total),
        "mini_batches_succeeded": int(succeeded),
        "mini_batches_failed": int(failed),
        "mini_batches_not_processed": max(0, int(total) - done),
        "items_total": int(items_total if items_total is not None else items_succeeded + items_failed),
        "items_succeeded": int(items_succeeded),
        "items_failed": int(items_failed),
        "attempts": int(attempts),
        "retries": int(retries),
    }


def document(
    command: str,
    *,
    status: str,
    job: str | None = None,
    run_dir: str | None = None,
    started: float | None = None,
    finished: float | None = None,
    count: dict[str, int] | None = None,
    outputs: dict[str, str] | None = None,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A document with every required field; ``extra`` adds the optional ones."""
    duration = None
    if started and finished:
        duration = round(max(0.0, float(finished) - float(started)), 3)
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "job": job,
        "status": status,
        "run_dir": run_dir,
        "started": iso(started),
        "finished": iso(finished),
        "duration_seconds": duration,
        "counts": count or counts(),
        "outputs": dict(outputs or {}),
        "error": error,
    }
    data.update(extra)
    return data


def from_result(result: JobResult, command: str = "python", job: str | None = None) -> dict[str, Any]:
    """The document of a finished job (also of a pipeline, with ``steps``)."""
    extra: dict[str, Any] = {
        "reused_from": result.reused_from,
        "logs_dir": result.logs_dir,
        "dashboard_link": result.dashboard_link,
    }
    steps = getattr(result, "steps", None)
    if steps is not None:
        extra["steps"] = {
            name: {
                "status": step.status,
                "run_dir": step.run_dir,
                "outputs": dict(step.outputs),
                "error": step.error,
                "reused_from": step.reused_from,
                "counts": _result_counts(step),
            }
            for name, step in steps.items()
        }
    return document(
        command,
        status=result.status,
        job=job or result.job_name,
        run_dir=result.run_dir,
        started=result.started,
        finished=result.finished,
        count=_result_counts(result),
        outputs=result.outputs,
        error=result.error,
        **extra,
    )


def _result_counts(result: JobResult) -> dict[str, int]:
    return counts(
        result.mini_batches_total,
        result.mini_batches_succeeded,
        result.mini_batches_failed,
        result.items_succeeded,
        result.items_failed,
        result.attempts,
        items_total=result.items_total,
    )


def status_counts(status: RunStatus) -> dict[str, int]:
    return counts(
        status.mini_batches_total,
        status.mini_batches_succeeded,
        status.mini_batches_failed,
        status.items_succeeded,
        status.items_failed,
        status.attempts,
        retries=status.retries,
    )


def from_status(status: RunStatus, command: str = "status", **extra: Any) -> dict[str, Any]:
    """The document of a run directory as :func:`~dask_parallel.rundir.status.read_status` read it."""
    extra.setdefault("reused_from", status.reused_from)
    extra.setdefault("logs_dir", os.path.join(status.run_dir, "logs"))
    return document(
        command,
        status=status.status,
        job=status.name,
        run_dir=status.run_dir,
        started=status.started,
        finished=status.finished,
        count=status_counts(status),
        outputs=status.outputs,
        error=status.reason,
        **extra,
    )


def run_entry(status: RunStatus) -> dict[str, Any]:
    """One item of ``list``'s ``runs``."""
    return {
        "job": status.name,
        "status": status.status,
        "run_dir": status.run_dir,
        "started": iso(status.started),
        "finished": iso(status.finished),
        "counts": status_counts(status),
        "error": status.reason,
        "reused_from": status.reused_from,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str)


def from_pipeline_status(pipeline: dict[str, Any], command: str) -> dict[str, Any]:
    """The document of a pipeline run directory, from its ``pipeline.json``."""
    steps = {
        name: {
            "status": entry.get("status", "NotStarted"),
            "run_dir": entry.get("run_dir"),
            "outputs": {k: str(v) for k, v in (entry.get("outputs") or {}).items()},
            "error": entry.get("error"),
            "reused_from": entry.get("reused_from"),
        }
        for name, entry in (pipeline.get("steps") or {}).items()
    }
    return document(
        command,
        status=pipeline.get("status", "Running"),
        job=pipeline.get("name"),
        run_dir=pipeline.get("run_dir"),
        started=pipeline.get("started"),
        finished=pipeline.get("finished"),
        outputs={k: str(v) for k, v in (pipeline.get("outputs") or {}).items()},
        error=pipeline.get("error"),
        steps=steps,
    )
