"""Check, before a run starts, that each local output folder can be created.

An output path that runs through an existing file (``data/x.csv/out``) or into a kernel's
pseudo filesystem (``/proc``, ``/sys``) can never hold the output; it is refused with the
output's name before any run directory is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from dask_parallel.errors import JobValidationError

PSEUDO_FILESYSTEMS = ("/proc", "/sys")


def check_output_folders(outputs: Iterable[tuple[str, str, bool]]) -> None:
    """``outputs`` holds (name, local folder, is_remote); a local folder must be creatable."""
    for name, folder, remote in outputs:
        where = f"outputs.{name}"
        real = os.path.realpath(folder)
        for top in PSEUDO_FILESYSTEMS:
            if real == top or real.startswith(top + os.sep):
                raise JobValidationError(
                    f"{where}: the path {folder!r} lies in {top}, the kernel's pseudo filesystem, "
                    "which cannot hold files. Give the output a path in a folder of your own."
                )
        existing = _first_existing(real)
        if not os.path.isdir(existing):
            raise JobValidationError(
                f"{where}: the path {folder!r} runs through {existing!r}, which is a file, not a "
                "folder, so the output folder cannot be created. Give the output a path that does "
                "not go through a file (for instance a sibling folder)."
            )
        if not remote and not os.access(existing, os.W_OK | os.X_OK):
            raise JobValidationError(
                f"{where}: the output folder {folder!r} cannot be created: {existing!r} is not "
                "writable. Give the output a path in a folder you can write to."
            )


def _first_existing(path: str) -> str:
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


__all__ = ["check_output_folders"]
