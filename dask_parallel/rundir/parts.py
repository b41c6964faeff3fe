"""Part references in the ledger: relative to the run directory, checked on read, with a checksum.

A final ledger record names the byte range of ``parts/`` holding a mini-batch's rows. The
ledger stores the path relative to the run directory and a CRC-32 of the bytes, so that

- a record pointing anywhere but the run directory's ``parts/`` (``/etc/passwd``,
  ``../x``) is never read: the mini-batch counts as not finished and runs again;
- rows changed after they were written are noticed: at assembly (the job fails, naming
  the file) and on resume (the mini-batch runs again).

Standard library only.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from typing import Any

from dask_parallel.rundir.layout import RunLayout

Part = tuple[str, int, int]  # (rows file, offset, length)


def checksum(path: str, offset: int, length: int) -> int | None:
    """CRC-32 of ``length`` bytes of ``path`` from ``offset``; ``None`` when they are not all there."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except OSError:
        return None
    return zlib.crc32(data) if len(data) == length else None


def to_record(
    run_dir: str, part: Sequence[Any] | None, crc: int | None = None
) -> tuple[list[Any] | None, int | None]:
    """``(stored part, crc)`` for the ledger: the path relative to ``run_dir``.

    ``crc`` is the checksum taken by whoever wrote the rows; without it the rows are read.
    """
    if part is None:
        return None, None
    path, offset, length = part
    if crc is None:
        crc = checksum(path, offset, length)
    inside = os.path.join(run_dir, "")
    if path.startswith(inside) and ".." not in path:  # the usual case, without relpath's cost
        relative = path[len(inside) :]
    else:
        relative = os.path.relpath(path, run_dir) if os.path.isabs(path) else path
    return [relative, offset, length], crc


def from_record(run_dir: str, stored: Any) -> Part | None:
    """The absolute part of a ledger record, or ``None`` when it is malformed or outside ``parts/``.

    Raises nothing: a forged or damaged record only means the rows are not reusable.
    """
    if not isinstance(stored, (list, tuple)) or len(stored) != 3:
        return None
    path, offset, length = stored
    if not isinstance(path, str) or not isinstance(offset, int) or not isinstance(length, int):
        return None
    if offset < 0 or length < 0:
        return None
    parts_dir = os.path.realpath(RunLayout(run_dir).parts_dir)
    full = os.path.realpath(os.path.join(run_dir, path))
    if os.path.commonpath([full, parts_dir]) != parts_dir or full == parts_dir:
        return None
    return full, offset, length


def intact(part: Part | None, crc: Any) -> bool:
    """Whether the rows of ``part`` are all on disk and (when a crc was recorded) unchanged."""
    if part is None:
        return True
    found = checksum(*part)
    if found is None:
        return False
    return crc is None or found == crc
