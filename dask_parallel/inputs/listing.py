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

# One listed file: its path (or URL), its size, and its version (mtime or ETag).
ListedFile = tuple[str, "int | None", "str | None"]


def list_folder(uri: str, where: str) -> Iterator[ListedFile]:
    """Every file under the folder ``uri``, recursively, sorted by path.

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


def _find_remote(fs: object, path: str, protocol: str | None) -> Iterator[ListedFile]:
    details = fs.find(path, detail=True)  # type: ignore[attr-defined]
    for name in sorted(details):
        info = details[name]
        if info.get("type") == "directory":
            continue
        size, version = version_of(info)
        yield (f"{protocol}://{name}" if protocol else name), size, version


def _walk_local(root: str) -> Iterator[ListedFile]:
    """Depth first, each folder's entries sorted so that the paths come out globally sorted.

    A folder sorts as its name followed by "/": every path below ``a`` starts with ``a/``,
    which is where ``a/`` falls among its siblings' names. As fsspec does, symbolic links
    are files (never followed into folders; their size is the target's, their mtime their
    own), and folders that cannot be read are left out.
    """
    stack = [iter(_sorted_entries(root))]
    while stack:
        for entry, is_dir in stack[-1]:
            if is_dir:
                stack.append(iter(_sorted_entries(entry.path)))
                break
            listed = _listed(entry)
            if listed is not None:
                yield listed
        else:
            stack.pop()


def _sorted_entries(folder: str) -> list[tuple[os.DirEntry, bool]]:
    try:
        with os.scandir(folder) as scan:
            entries = [(entry, entry.is_dir(follow_symlinks=False)) for entry in scan]
    except OSError:
        return []
    entries.sort(key=lambda pair: pair[0].name + "/" if pair[1] else pair[0].name)
    return entries


def _listed(entry: os.DirEntry) -> ListedFile | None:
    try:
        stat = entry.stat(follow_symlinks=False)
    except FileNotFoundError:  # removed while listing
        return None
    size = stat.st_size
    if entry.is_symlink():
        try:
            size = entry.stat(follow_symlinks=True).st_size
        except OSError:
            size = 0
    return entry.path, size, str(stat.st_mtime) if stat.st_mtime else None  # as version_of
