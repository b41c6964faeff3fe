"""What resume needs to know of an earlier run: its finished mini-batches, what changed, who runs it."""

from __future__ import annotations

import os
from typing import Any

from dask_parallel.errors import ResumeError
from dask_parallel.redact import holds_redacted, is_hidden
from dask_parallel.rundir.claim import LockHolder, read_lock
from dask_parallel.rundir.ledger import read_ledger

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
        if record.get("status") == "succeeded"
        and _rows_present(record.get("part"))
        and all(_rows_present(part) for part in record.get("parts") or ())  # a split mini-batch
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


def running_holder(run_dir: str) -> LockHolder | None:
    """Who holds ``run_dir``'s ``run.lock`` while alive (or on another host, where it cannot be checked)."""
    holder = read_lock(run_dir)
    if holder is None or holder.alive is False:
        return None
    if holder.on_this_host and holder.pid == os.getpid():
        return None
    return holder


def restore_secrets(stored_spec: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """The stored spec of job.json with its redacted values put back, for a resume without the job.

    job.json keeps no secret values (see dask_parallel.redact). The values of
    ``environment_variables`` come from the resuming process's environment; any other
    redacted value (a secret program argument, a URL's SAS token) cannot be recovered, and
    the job definition must be given again.
    """
    spec = dict(stored_spec)
    env = dict(spec.get("environment_variables") or {})
    missing = [name for name, value in env.items() if is_hidden(value) and name not in os.environ]
    if missing:
        raise ResumeError(
            f"cannot resume {run_dir!r} from job.json alone: it keeps no secret values, and "
            f"environment_variables {', '.join(sorted(missing))} are not set in this environment. "
            "Set them (export NAME=value) and resume again, or pass the job definition: "
            "dask-parallel resume RUN_DIR --job job.yml (dask_parallel.resume(run_dir, job=...))."
        )
    spec["environment_variables"] = {
        name: os.environ[name] if is_hidden(value) else value for name, value in env.items()
    }
    hidden = sorted(key for key, value in spec.items() if holds_redacted(value))
    if hidden:
        raise ResumeError(
            f"cannot resume {run_dir!r} from job.json alone: it keeps no secret values, and "
            f"{', '.join(hidden)} held one (a secret program argument such as --account_key, or a "
            "URL with a SAS token or credentials). Pass the job definition again: dask-parallel "
            "resume RUN_DIR --job job.yml (dask_parallel.resume(run_dir, job=...))."
        )
    return spec
