"""Continue a failed, canceled or interrupted run without redoing finished mini-batches."""

from __future__ import annotations

import json
import os
from typing import Any

from distributed import Client

from .errors import ResumeError
from .journal import read_ledger
from .parallel import Parallel
from .result import JobResult
from .spec import build_job_spec, spec_from_dict

EXAMPLES_SHOWN = 3


def finished_mini_batches(run_dir: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """Mini-batches that succeeded in earlier runs and whose rows are still on disk."""
    finals: dict[str, dict[str, Any]] = {}
    for record in read_ledger(run_dir):
        if record.get("event") == "final" and record.get("mb") in wanted:
            finals[record["mb"]] = record
    return {
        mb_id: record
        for mb_id, record in finals.items()
        if record.get("status") == "succeeded" and _rows_present(record.get("part"))
    }


def _rows_present(part: list | None) -> bool:
    """A mini-batch with rows is reusable only while its byte range is still on disk."""
    if part is None:
        return True
    path, offset, length = part
    try:
        return os.path.getsize(path) >= offset + length
    except OSError:
        return False


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:EXAMPLES_SHOWN])
    return shown + (f" and {len(items) - EXAMPLES_SHOWN} more" if len(items) > EXAMPLES_SHOWN else "")


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human descriptions of what differs between two resume identities."""
    changes = []
    if before.get("input") != after["input"]:
        changes.append(f"the input changed from {before.get('input')} to {after['input']}")
    old_settings = before.get("settings", {})
    for key, value in after["settings"].items():
        if old_settings.get(key) != value:
            changes.append(f"{key} changed from {old_settings.get(key)!r} to {value!r}")
    old_files, new_files = before.get("files", {}), after["files"]
    added = sorted(set(new_files) - set(old_files))
    removed = sorted(set(old_files) - set(new_files))
    modified = sorted(f for f in set(new_files) & set(old_files) if new_files[f] != old_files[f])
    if added:
        changes.append(f"{len(added)} input file(s) were added ({_examples(added)})")
    if removed:
        changes.append(f"{len(removed)} input file(s) were removed ({_examples(removed)})")
    if modified:
        changes.append(f"{len(modified)} input file(s) were modified ({_examples(modified)})")
    if not (added or removed) and before.get("division") != after["division"]:
        changes.append(
            f"the input divides into different mini-batches ({len(before.get('division', []))} before, "
            f"{len(after['division'])} now)"
        )
    return changes


def _running_pid(run_dir: str) -> int | None:
    lock = os.path.join(run_dir, "run.lock")
    try:
        with open(lock, encoding="utf-8") as handle:
            pid = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid if pid != os.getpid() else None


def resume(
    run_dir: str | os.PathLike,
    *,
    client: Client | str | None = None,
    job: Parallel | None = None,
    force: bool = False,
    show_progress: bool | None = None,
) -> JobResult:
    """Continue the job of ``run_dir``: only failed and unprocessed mini-batches run.

    Finished mini-batches are reused and the final output is rebuilt, holding every row
    exactly once. The entry script's code may have changed (that is the point of fixing a
    bug and resuming); a changed input, division or entry-script setting refuses with the
    list of changes, unless ``force=True``, which starts afresh in the same run directory.
    Pass ``job`` to resume with an edited definition (for instance a longer timeout).
    """
    from .api import execute
    from .inputs import plan_input

    folder = os.path.abspath(os.fspath(run_dir))
    path = os.path.join(folder, "job.json")
    if not os.path.exists(path):
        raise ResumeError(
            f"cannot resume {folder!r}: it holds no job.json, so it is not a dask_parallel run "
            "directory (or the run never started). Check the path printed when the job ran."
        )
    pid = _running_pid(folder)
    if pid is not None:
        raise ResumeError(f"cannot resume {folder!r}: the job is still running in process {pid}.")
    with open(path, encoding="utf-8") as handle:
        stored = json.load(handle)
    if job is not None:
        base = getattr(job, "source_dir", None) or os.getcwd()
        spec = build_job_spec(job, base_dir=base, run_dir=folder)
    else:
        spec = spec_from_dict(stored["spec"])
    plan = plan_input(spec)
    from .fingerprint import resume_identity

    identity = resume_identity(spec, plan.mini_batches, plan.file_versions)
    changes = describe_changes(stored.get("identity", {}), identity)
    if changes and not force:
        raise ResumeError(
            f"cannot resume {folder!r} because " + "; ".join(changes) + ". Its finished mini-batches "
            "no longer answer the same job. Restore the input and settings, start a new run, or "
            "force a fresh run in this directory (force=True, or dask-parallel resume --force)."
        )
    restored = {} if force else finished_mini_batches(folder, {mb.id for mb in plan.mini_batches})
    return execute(
        spec,
        plan,
        client=client,
        run_dir=folder,
        show_progress=show_progress,
        identity=identity,
        restored=restored,
    )
