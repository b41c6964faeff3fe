"""The ``paths`` section: ``file`` / ``folder`` / ``pattern`` entries resolved to files."""

from __future__ import annotations

import dataclasses
import posixpath

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.mltable.datastores import resolve_datastore
from dask_parallel.paths import filesystem, is_remote, normalize_path


@dataclasses.dataclass(frozen=True)
class FoundFile:
    """One file named by the ``paths`` section, with its size when the listing gave it."""

    uri: str
    size: int | None = None


def resolve(value: str, folder: str) -> str:
    """A ``paths`` value as an absolute local path or a URL: relative to the MLTable folder."""
    value = resolve_datastore(str(value))
    if value in (".", "./", ".\\"):
        return folder
    if is_remote(folder) and not is_remote(value) and not value.startswith("/"):
        return posixpath.normpath(folder.rstrip("/") + "/" + value.replace("\\", "/")).replace(":/", "://", 1)
    return normalize_path(value, folder)


def _as_uri(target: str, found: str) -> str:
    if is_remote(target):
        return target.split("://", 1)[0] + "://" + found.lstrip("/")
    return found


def list_entry(
    where: str, kind: str, value: str, folder: str, folders_as_files: bool = False
) -> list[FoundFile]:
    """The files one ``paths`` entry names, sorted by path.

    ``folders_as_files``: a ``file`` entry naming a folder is that one folder (a file-list
    MLTable then has one ``Path`` row for it, as the official reader gives).
    """
    target = resolve(value, folder)
    try:
        fs, path = filesystem(target)
    except (ValueError, ImportError) as exc:
        raise MLTableError(
            f"{where}: paths: {kind} {value!r} cannot be opened ({target}): {exc}. Install the "
            "fsspec backend for this protocol (s3fs, adlfs, gcsfs, ...)."
        ) from None
    if kind == "file":
        if folders_as_files and fs.isdir(path):
            return [FoundFile(target, None)]
        if not fs.isfile(path):
            raise MLTableError(
                f"{where}: paths: file {value!r} does not exist ({target}); fix the path "
                "(relative paths resolve against the MLTable's folder)."
            )
        return [FoundFile(target, fs.size(path))]
    if kind == "folder":
        if not fs.isdir(path):
            raise MLTableError(
                f"{where}: paths: folder {value!r} does not exist ({target}); fix the path "
                "(relative paths resolve against the MLTable's folder)."
            )
        details = fs.find(path, detail=True)
        return [
            FoundFile(_as_uri(target, name), info.get("size"))
            for name, info in sorted(details.items())
            if info.get("type") != "directory" and posixpath.basename(name) != "MLTable"
        ]
    details = fs.glob(path, detail=True)
    found = [
        FoundFile(_as_uri(target, name), info.get("size"))
        for name, info in sorted(details.items())
        if info.get("type") != "directory"
    ]
    if not found:
        raise MLTableError(
            f"{where}: paths: pattern {value!r} matches no file ({target}); patterns may use "
            "*, ?, [abc] and ** (any depth), relative to the MLTable's folder."
        )
    return found


def list_paths(
    where: str, entries: tuple[dict[str, str], ...], folder: str, folders_as_files: bool = False
) -> list[FoundFile]:
    """Every file of every entry, in entry order; a file named twice is read twice, as the
    official reader does."""
    files: list[FoundFile] = []
    for entry in entries:
        kind, value = next(iter(entry.items()))
        files.extend(list_entry(where, kind, value, folder, folders_as_files))
    return files
