"""List the files of an input folder, streamed in sorted path order, with each file's size and version.

Local folders are walked with ``os.scandir``; remote stores are listed once with fsspec's
``find(detail=True)``, whose details already hold each file's size and ETag. Both give the
order and the [size, version] that ``sorted(fs.find(path))`` and ``fs.info`` gave, so
mini-batch ids of earlier runs stay the same.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from operator import attrgetter, itemgetter
from stat import S_ISLNK

from fsspec.implementations.local import LocalFileSystem

from dask_parallel.errors import InputError
from dask_parallel.paths import filesystem, is_remote
from dask_parallel.rundir.fingerprint import version_of

# Listed files, a folder's worth at a time: their paths (or URLs), sizes and versions (mtime or ETag).
Listed = tuple[list[str], list["int | None"], list["str | None"]]
REMOTE_CHUNK = 65536
_name = attrgetter("name")


def list_folder(uri: str, where: str) -> Iterator[Listed]:
    """Every file under the folder ``uri``, recursively, sorted by path, in chunks.

    The folder is checked before this returns (an :class:`InputError` names ``where``);
    the files are then listed as they are iterated.
    """
    fs, path = filesystem(uri)
    if not fs.isdir(path):
        if fs.isfile(path):
            raise InputError(
                f"{where}: {uri!r} is a file, but the input type is uri_folder; "
                "declare it as type='uri_file' or point it at a folder."
            )
        raise InputError(f"{where}: folder {uri!r} does not exist.")
    if isinstance(fs, LocalFileSystem) and not is_remote(uri):
        return _walk_local(path)
    return _find_remote(fs, path, uri.split("://", 1)[0] if is_remote(uri) else None)


def _find_remote(fs: object, path: str, protocol: str | None) -> Iterator[Listed]:
    details = fs.find(path, detail=True)  # type: ignore[attr-defined]
    names = sorted(name for name, info in details.items() if info.get("type") != "directory")
    for start in range(0, len(names), REMOTE_CHUNK):
        chunk = names[start : start + REMOTE_CHUNK]
        identities = [version_of(details[name]) for name in chunk]
        paths = [f"{protocol}://{name}" for name in chunk] if protocol else chunk
        yield paths, [size for size, _ in identities], [version for _, version in identities]


def _walk_local(root: str) -> Iterator[Listed]:
    """Depth first, each folder's entries sorted so that the paths come out globally sorted.

    A folder sorts as its name followed by "/": every path below ``a`` starts with ``a/``,
    which is where ``a/`` falls among its siblings' names. As fsspec does, symbolic links
    are files (never followed into folders; their size is the target's, their mtime their
    own), and folders that cannot be read are left out.
    """
    stack = [iter(_segments(root))]
    while stack:
        for segment in stack[-1]:
            if isinstance(segment, str):  # a subfolder: list it before the rest of this one
                stack.append(iter(_segments(segment)))
                break
            listed = _described(segment)
            if listed[0]:
                yield listed
        else:
            stack.pop()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a folder is read or described.

    A folder's entries and stat results are many small objects that form no cycles; left on,
    the collector scans them (and everything else alive) again and again as they are made,
    which made a million-file listing markedly slower (see benchmarks/README.md, planning).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _segments(folder: str) -> list[list[os.DirEntry] | str]:
    """A folder's entries in sorted order: runs of files, and the path of each subfolder between them."""
    with _collector_paused():
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            return []
        folders = [entry.is_dir(follow_symlinks=False) for entry in entries]
        if not any(folders):  # a leaf folder
            entries.sort(key=_name)
            return [entries] if entries else []
        keyed = [
            (entry.name + "/" if is_folder else entry.name, entry)
            for entry, is_folder in zip(entries, folders)
        ]
        keyed.sort(key=itemgetter(0))
        segments: list[list[os.DirEntry] | str] = []
        files: list[os.DirEntry] = []
        for key, entry in keyed:
            if key.endswith("/"):  # no file name ends with "/"
                if files:
                    segments.append(files)
                    files = []
                segments.append(entry.path)
            else:
                files.append(entry)
        if files:
            segments.append(files)
        return segments


def _described(entries: list[os.DirEntry]) -> Listed:
    """Paths, sizes and versions of a run of files, in one pass per column (the walk's hot loop)."""
    with _collector_paused():
        try:
            stats = [entry.stat(follow_symlinks=False) for entry in entries]
        except FileNotFoundError:  # one was removed while listing: keep the others
            entries, stats = _still_there(entries)
        sizes: list[int | None] = [stat.st_size for stat in stats]
        for i in [i for i, stat in enumerate(stats) if S_ISLNK(stat.st_mode)]:
            sizes[i] = _target_size(entries[i])
        mtimes = [stat.st_mtime for stat in stats]
        versions: list[str | None] = list(map(str, mtimes))  # as version_of
        if 0 in mtimes:
            versions = [version if mtime else None for version, mtime in zip(versions, mtimes)]
        return [entry.path for entry in entries], sizes, versions


def _still_there(entries: list[os.DirEntry]) -> tuple[list[os.DirEntry], list[os.stat_result]]:
    kept, stats = [], []
    for entry in entries:
        try:
            stats.append(entry.stat(follow_symlinks=False))
        except FileNotFoundError:
            continue
        kept.append(entry)
    return kept, stats


def _target_size(link: os.DirEntry) -> int:
    try:
        return link.stat(follow_symlinks=True).st_size
    except OSError:
        return 0
