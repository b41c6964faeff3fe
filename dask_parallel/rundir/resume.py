"""What resume needs to know of an earlier run: its finished mini-batches, what changed, who runs it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from dask_parallel.errors import ResumeError
from dask_parallel.redact import holds_redacted, is_hidden
from dask_parallel.rundir import parts
from dask_parallel.rundir.claim import LockHolder, read_lock
from dask_parallel.rundir.fingerprint import division_identity
from dask_parallel.rundir.layout import RunLayout
from dask_parallel.rundir.ledger import read_ledger

EXAMPLES_SHOWN = 3

# The paths added, removed and modified between two listings.
FileChangeLists = tuple[Sequence[str], Sequence[str], Sequence[str]]


def finished_mini_batches(run_dir: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """Mini-batches that succeeded in earlier runs and whose rows are still on disk, unchanged.

    The returned records carry absolute part paths. A part outside the run directory's
    ``parts/``, malformed, shorter than recorded or with another checksum makes its
    mini-batch run again.
    """
    finals: dict[str, dict[str, Any]] = {}
    for record in read_ledger(run_dir):
        if record.get("event") == "final" and record.get("mb") in wanted:
            finals[record["mb"]] = record
    reusable = {}
    for mb_id, record in finals.items():
        if record.get("status") != "succeeded":
            continue
        checked = _checked_parts(run_dir, record)
        if checked is not None:
            reusable[mb_id] = checked
    return reusable


def _checked_parts(run_dir: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """``record`` with its parts resolved and verified, or ``None`` when they cannot be trusted."""
    record = dict(record)
    if record.get("part") is not None:
        part = parts.from_record(run_dir, record["part"])
        if part is None or not parts.intact(part, record.get("part_crc")):
            return None
        record["part"] = list(part)
    if record.get("parts") is not None:  # a split mini-batch
        stored = record["parts"]
        crcs = record.get("parts_crc") or [None] * len(stored)
        if not isinstance(stored, list) or not isinstance(crcs, list) or len(crcs) != len(stored):
            return None
        resolved = []
        for item, crc in zip(stored, crcs, strict=True):
            part = None if item is None else parts.from_record(run_dir, item)
            if (item is not None and part is None) or not parts.intact(part, crc):
                return None
            resolved.append(None if part is None else list(part))
        record["parts"] = resolved
    return record


def restored_checksums(restored: dict[str, dict[str, Any]]) -> dict[tuple[str, int, int], int]:
    """The CRC-32 of every part of the restored records (from :func:`finished_mini_batches`)."""
    found: dict[tuple[str, int, int], int] = {}
    for record in restored.values():
        pairs = [(record.get("part"), record.get("part_crc"))]
        pairs += list(zip(record.get("parts") or (), record.get("parts_crc") or (), strict=False))
        for part, crc in pairs:
            if part is not None and isinstance(crc, int):
                found[(str(part[0]), int(part[1]), int(part[2]))] = crc
    return found


def _examples(items: Sequence[str]) -> str:
    shown = ", ".join(list(items[:EXAMPLES_SHOWN]))
    return shown + (f" and {len(items) - EXAMPLES_SHOWN} more" if len(items) > EXAMPLES_SHOWN else "")


def describe_changes(
    before: dict[str, Any], after: dict[str, Any], files: FileChangeLists | None = None
) -> list[str]:
    """Human descriptions of what differs between two resume identities.

    ``files`` are the paths added, removed and modified, each sorted, from comparing the
    two runs' listings (see dask_parallel.rundir.plan_store); None when the listings match.
    """
    changes = []
    if before.get("input") != after["input"]:
        changes.append(f"the input changed from {before.get('input')} to {after['input']}")
    old_settings = before.get("settings", {})
    for key, value in after["settings"].items():
        if old_settings.get(key) != value:
            changes.append(f"{key} changed from {old_settings.get(key)!r} to {value!r}")
    added, removed, modified = files if files is not None else ([], [], [])
    if added:
        changes.append(f"{len(added)} input file(s) were added ({_examples(added)})")
    if removed:
        changes.append(f"{len(removed)} input file(s) were removed ({_examples(removed)})")
    if modified:
        changes.append(f"{len(modified)} input file(s) were modified ({_examples(modified)})")
    old_division = _division(before.get("division"))
    comparable = "division" in before and "division" in after  # not in a run stopped while listing
    if not (added or removed) and comparable and old_division != after["division"]:
        changes.append(
            f"the input divides into different mini-batches ({old_division.get('count', 0)} before, "
            f"{after['division']['count']} now)"
        )
    return changes


def _division(stored: Any) -> dict[str, Any]:
    """A stored division as count and digest; runs made before the plan folder kept the list of ids."""
    if isinstance(stored, list):
        return division_identity(str(mb_id) for mb_id in stored)
    return stored if isinstance(stored, dict) else {}


def listing_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the input files of two resume identities may differ (then their listings are compared)."""
    old = before.get("files")
    if not isinstance(old, dict) or "digest" not in old:  # a run made before the plan folder
        return True
    return (old.get("count"), old.get("digest")) != (after["files"]["count"], after["files"]["digest"])


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


def read_job_file(run_dir: str) -> dict[str, Any]:
    """job.json of ``run_dir`` for a resume, or a :class:`ResumeError` saying what is wrong with it."""
    path = RunLayout(run_dir).job_file
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResumeError(
            f"cannot resume {run_dir!r}: {path} is damaged ({exc}); it was cut short or edited. "
            "Start a new run, or give the job again with a fresh run directory."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("spec"), dict):
        raise ResumeError(
            f"cannot resume {run_dir!r}: {path} is incomplete (it has no job settings under 'spec'). "
            "Start a new run, or give the job again with a fresh run directory."
        )
    return document
