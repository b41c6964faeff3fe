"""Folders shipped to workers that cannot see the client's disk, content-addressed.

The entry script's code folder (and any local side-input folder) is packed into a zip
archive whose name is the SHA-256 of its bytes. The archive travels once per worker
inside a :class:`ArchivePlugin` (Dask hands registered plugins to workers that join
later, too); each worker unpacks it once into ``<local directory>/dask-parallel/folders/<digest>``
and every later job with the same content reuses that folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

from distributed import WorkerPlugin

SKIPPED = {"__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".venv"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPLETE = ".dask-parallel-complete"


class ArchiveTooLarge(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class FolderArchive:
    """A folder (or one file) as zip bytes, named by their SHA-256."""

    digest: str
    data: bytes
    is_file: bool = False
    name: str = ""

    @property
    def plugin_name(self) -> str:
        return f"dask-parallel-folder-{self.digest[:16]}"


def pack(path: str, max_bytes: int | None = None) -> FolderArchive:
    """Pack ``path`` deterministically: the same content always gives the same digest."""
    buffer = io.BytesIO()
    is_file = os.path.isfile(path)
    total = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for source, relative in _members(path, is_file):
            info = zipfile.ZipInfo(relative, date_time=FIXED_TIME)
            mode = os.stat(source).st_mode
            info.external_attr = (stat.S_IMODE(mode) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(source, "rb") as handle:
                content = handle.read()
            total += len(content)
            if max_bytes is not None and total > max_bytes:
                raise ArchiveTooLarge(
                    f"{path} holds more than {max_bytes} bytes to send to the workers, which cannot see "
                    "this machine's disk. Put large files (models, data) in object storage and pass "
                    "their URL, or raise dask-parallel.shipping.max-folder-bytes."
                )
            archive.writestr(info, content)
    data = buffer.getvalue()
    name = os.path.basename(path.rstrip(os.sep))
    return FolderArchive(hashlib.sha256(data).hexdigest(), data, is_file, name)


def _members(path: str, is_file: bool) -> Iterator[tuple[str, str]]:
    if is_file:
        yield path, os.path.basename(path)
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            source = os.path.join(root, name)
            yield source, os.path.relpath(source, path).replace(os.sep, "/")


def folders_root(local_directory: str) -> str:
    return os.path.join(local_directory, "dask-parallel", "folders")


def unpacked_path(root: str, archive_digest: str, is_file: bool = False, name: str = "") -> str:
    folder = os.path.join(root, archive_digest)
    return os.path.join(folder, name) if is_file else folder


def unpack(archive: FolderArchive, root: str) -> str:
    """Unpack once under ``root``; return the folder (or the file) it holds."""
    target = os.path.join(root, archive.digest)
    if not os.path.exists(os.path.join(target, COMPLETE)):
        os.makedirs(root, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=f".{archive.digest[:12]}-{uuid.uuid4().hex[:6]}-", dir=root)
        try:
            with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
                for info in zipped.infolist():
                    extracted = zipped.extract(info, scratch)
                    mode = info.external_attr >> 16
                    if mode:
                        os.chmod(extracted, stat.S_IMODE(mode))
            with open(os.path.join(scratch, COMPLETE), "w", encoding="utf-8") as marker:
                marker.write(archive.digest)
            try:
                os.rename(scratch, target)
            except OSError:  # another process of this worker won the race: use its copy
                if not os.path.exists(os.path.join(target, COMPLETE)):
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return unpacked_path(root, archive.digest, archive.is_file, archive.name)


class ArchivePlugin(WorkerPlugin):
    """Unpacks one archive on every worker, including workers that join mid-run."""

    def __init__(self, archive: FolderArchive, owner: str = "") -> None:
        self.archive = archive
        # One registration per job: a job that ends cannot take the archive from another
        # job that still runs with the same content; the unpacked folder is shared.
        self.name = f"{archive.plugin_name}-{owner}" if owner else archive.plugin_name
        self.path: str | None = None

    def setup(self, worker: Any) -> None:
        self.path = unpack(self.archive, folders_root(worker.local_directory))
