"""Files replaced whole or not at all (temporary file beside the target, then ``os.replace``).

Standard library only: the ledger, reuse caches, pipeline status and outputs all use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w", permissions: int | None = None) -> Iterator[IO[Any]]:
    """Open a local file to be replaced whole or not at all.

    Writes go to a temporary file beside ``path`` (unique per process and call), renamed
    over ``path`` when the block ends without error; a crash or an exception leaves the old
    file (or none), never a half-written one. ``permissions`` (e.g. ``0o600``) are set
    before the file appears under its name.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb' (got {mode!r})")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(temporary, mode, encoding=None if "b" in mode else "utf-8") as handle:
            if permissions is not None:
                os.chmod(temporary, permissions)
            yield handle
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json_atomic(path: str, document: Any, permissions: int | None = None, **dump_options: Any) -> None:
    """``json.dump`` ``document`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, permissions=permissions) as handle:
        json.dump(document, handle, **dump_options)
