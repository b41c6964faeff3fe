"""Stable identities of what a job reads: its input files, its code, its settings.

They decide whether a run directory may be resumed (same input, same division, same
entry-script settings) and whether an earlier completed run may be reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

from dask_parallel.batching import MiniBatch
from dask_parallel.paths import filesystem, is_remote

SKIPPED_CODE_DIRS = ("__pycache__", ".git", ".ipynb_checkpoints")
LISTING_IN_RUN_DIR = "plan/listing.arrow"


def digest(value: Any) -> str:
    """A stable sha256 of a JSON-able value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def version_of(info: dict[str, Any]) -> list:
    """[size, version] from an fsspec ``info``/``find`` entry: the ETag, or the mtime."""
    version = info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime")
    return [info.get("size"), None if version is None else str(version)]


def file_identity(uri: str) -> tuple[str, int | None, str | None]:
    """(path, size, version) where version is the mtime or the object store's ETag."""
    fs, path = filesystem(uri)
    size, version = version_of(fs.info(path))
    return uri, size, version


def referenced_files(mini_batches: Iterable[MiniBatch]) -> list[str]:
    seen: dict[str, None] = {}
    for mb in mini_batches:
        for path in mb.files:
            seen.setdefault(path, None)
        if mb.block is not None:
            seen.setdefault(mb.block.path, None)
    return list(seen)


def tree_fingerprint(folder: str) -> str:
    """A digest of every file's relative path, size and mtime under ``folder`` (or of a file)."""
    if is_remote(folder):
        fs, path = filesystem(folder)
        details = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
        return digest(
            sorted((k, v.get("size"), str(v.get("ETag") or v.get("mtime"))) for k, v in details.items())
        )
    if os.path.isfile(folder):
        return digest(file_identity(folder)[1:])
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_CODE_DIRS)
        for name in sorted(files):
            path = os.path.join(root, name)
            stat = os.stat(path)
            entries.append((os.path.relpath(path, folder), stat.st_size, stat.st_mtime_ns))
    return digest(entries)


def code_fingerprint(code_dir: str) -> str:
    """A digest of the code folder's contents (not only sizes: a one-character fix counts)."""
    hasher = hashlib.sha256()
    for root, dirs, files in os.walk(code_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_CODE_DIRS)
        for name in sorted(files):
            path = os.path.join(root, name)
            hasher.update(os.path.relpath(path, code_dir).encode() + b"\0")
            with open(path, "rb") as handle:
                hasher.update(hashlib.sha256(handle.read()).digest())
    return hasher.hexdigest()


# Settings whose change means the earlier mini-batches no longer answer the same question.
RESUME_SETTINGS = (
    "entry_script",
    "program_arguments",
    "environment_variables",
    "mini_batch_size",
    "partition_keys",
    "append_row_output",
    "target_duration",
)


def division_identity(mini_batch_ids: Iterable[str]) -> dict[str, Any]:
    """How many mini-batches, and a sha256 of their ids in order."""
    hasher = hashlib.sha256()
    count = 0
    for mb_id in mini_batch_ids:
        hasher.update(mb_id.encode() + b"\n")
        count += 1
    return {"count": count, "digest": hasher.hexdigest()}


def resume_identity(
    spec: Any, mini_batch_ids: Iterable[str] | None, listing_count: int, listing_digest: str
) -> dict[str, Any]:
    """What must not change between a run and its resume.

    The input files are identified by their count and a digest of every path, size and
    version (the listing itself is ``plan/listing.arrow`` in the run directory), so job.json
    stays small whatever the number of files. Without ``mini_batch_ids`` (the input is
    listed but not yet divided) the identity has no division.
    """
    data = dataclasses.asdict(spec)
    identity = {
        "input": {"name": spec.major_input.name, "type": spec.major_input.type, "uri": spec.major_input.uri},
        "settings": {key: data[key] for key in RESUME_SETTINGS},
        "files": {"count": listing_count, "digest": listing_digest, "listing": LISTING_IN_RUN_DIR},
    }
    if mini_batch_ids is not None:
        identity["division"] = division_identity(mini_batch_ids)
    return json.loads(json.dumps(identity, default=str))  # the form it takes in job.json


def listing_in_progress_identity(spec: Any) -> dict[str, Any]:
    """The identity of a run whose input is still being listed (planning that streams).

    job.json holds it until the listing ends; a resume before then checks the files listed
    so far against ``plan/listing.progress`` (see :func:`listing_in_progress`).
    """
    identity = resume_identity(spec, None, 0, "")
    identity["files"] = {"in_progress": True, "listing": LISTING_IN_RUN_DIR}
    return identity


def listing_in_progress(identity: dict[str, Any]) -> bool:
    """Whether ``identity`` (from job.json) was written before its run's input was wholly listed."""
    files = identity.get("files")
    return isinstance(files, dict) and files.get("in_progress") is True
