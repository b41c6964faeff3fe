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


def input_files(mini_batches: Iterable[MiniBatch]) -> dict[str, list]:
    """Every input file with its size and version."""
    return {uri: list(file_identity(uri)[1:]) for uri in referenced_files(mini_batches)}


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


def resume_identity(
    spec: Any, mini_batches: Iterable[MiniBatch], file_versions: dict[str, list] | None = None
) -> dict[str, Any]:
    """What must not change between a run and its resume.

    ``file_versions`` are the input files' [size, version] when the listing gave them;
    otherwise each file is looked up.
    """
    data = dataclasses.asdict(spec)
    batches = list(mini_batches)
    identity = {
        "input": {"name": spec.major_input.name, "type": spec.major_input.type, "uri": spec.major_input.uri},
        "settings": {key: data[key] for key in RESUME_SETTINGS},
        "division": [mb.id for mb in batches],
        "files": file_versions if file_versions is not None else input_files(batches),
    }
    return json.loads(json.dumps(identity, default=str))  # the form it takes in job.json
