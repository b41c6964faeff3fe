"""List the files of an input folder, streamed in sorted path order, with each file's size and version.

Local folders are walked with ``os.scandir``; remote stores are listed once with fsspec's
``find(detail=True)``, whose details already hold each file's size and ETag. Both give the
order and the [size, version] that ``sorted(fs.find(path))`` and ``fs.info`` gave, so
mini-batch ids of earlier runs stay the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fsspec.implementations.local import LocalFileSystem

from dask_parallel.errors import InputError
from dask_parallel.paths import filesystem, is_remote
from dask_parallel.rundir.fingerprint import version_of

# Listed files, a folder's worth at a time: their paths (or URLs), sizes and versions (mtime or ETag).
Listed = tuple[list[str], list["int | None"], list["str | None"]]
REMOTE_CHUNK = 65536


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
    stack = [iter(_sorted_entries(root))]
    while stack:
        paths: list[str] = []
        sizes: list[int | None] = []
        versions: list[str | None] = []
        below = None
        for entry, is_dir in stack[-1]:
            if is_dir:
                below = entry.path
                break
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed while listing
                continue
            size = stat.st_size
            if entry.is_symlink():
                size = _target_size(entry)
            paths.append(entry.path)
            sizes.append(size)
            versions.append(str(stat.st_mtime) if stat.st_mtime else None)  # as version_of
        if paths:
            yield paths, sizes, versions
        if below is None:
            stack.pop()
        else:
            stack.append(iter(_sorted_entries(below)))


def _sorted_entries(folder: str) -> list[tuple[os.DirEntry, bool]]:
    try:
        with os.scandir(folder) as scan:
            entries = [(entry, entry.is_dir(follow_symlinks=False)) for entry in scan]
    except OSError:
        return []
    entries.sort(key=lambda pair: pair[0].name + "/" if pair[1] else pair[0].name)
    return entries


def _target_size(link: os.DirEntry) -> int:
    try:
        return link.stat(follow_symlinks=True).st_size
    except OSError:
        return 0
