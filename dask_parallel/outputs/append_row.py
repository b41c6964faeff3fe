"""append_row output: the rows of each winning attempt, assembled in mini-batch order.

Each worker process appends the rows of its successful attempts to its own rows file and
reports the byte range it wrote, after the bytes are flushed. The driver records which
attempt won each mini-batch, and only that attempt's range is ever copied into the final
file, in mini-batch order: a duplicate or late attempt cannot add rows, and bytes left by
a process that died mid-write are never referenced. One append per mini-batch, instead
of a file per mini-batch, keeps this cheap on shared file systems.
"""

from __future__ import annotations

import io
import json
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from dask_parallel.paths import filesystem, is_remote
from dask_parallel.rundir.atomic import atomic_open

SETTINGS_FILE = "parallel_run_step.settings.json"


Part = tuple[str, int, int]  # (rows file, offset, length) of one winning attempt


def load_to_csv_settings(code_dir: str) -> dict[str, Any]:
    """Keyword arguments for ``DataFrame.to_csv`` from ``parallel_run_step.settings.json``."""
    path = os.path.join(code_dir, SETTINGS_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        settings = json.load(handle)
    return dict(settings.get("append_row", {}).get("pandas.DataFrame.to_csv", {}))


def render_rows(result: Any, to_csv: dict[str, Any], header: bool) -> str:
    """The text a ``run()`` result contributes to the aggregated file."""
    if isinstance(result, (list, tuple)):
        return "".join(f"{row}\n" for row in result)
    options = {"sep": " ", "index": False, **to_csv, "header": header}
    buffer = io.StringIO()
    result.to_csv(buffer, **options)
    return buffer.getvalue()


class PartChecksumError(OSError):
    """The rows of a winning attempt changed on disk after they were recorded."""


def assemble(
    parts: Sequence[Part | None],
    target_uri: str,
    *,
    has_header: bool = False,
    checksums: Mapping[Part, int] | None = None,
) -> int:
    """Copy the winning parts, in mini-batch order, into ``target_uri``.

    ``checksums`` maps parts to the CRC-32 recorded in the ledger; a part whose bytes differ
    raises :class:`PartChecksumError` and no output is written.

    The target appears complete or not at all: locally it is written beside the target
    and renamed; remote stores commit the object when the upload closes. Returns the
    number of bytes written.
    """
    existing = [p for p in parts if p is not None]
    written = 0
    if is_remote(target_uri):
        fs, path = filesystem(target_uri)
        with fs.open(path, "wb") as out:
            written = _copy_parts(existing, out, has_header, checksums or {})
        return written
    with atomic_open(target_uri, "wb") as out:
        written = _copy_parts(existing, out, has_header, checksums or {})
    return written


def _copy_parts(
    parts: Iterable[Part], out: IO[bytes], has_header: bool, checksums: Mapping[Part, int]
) -> int:
    written = 0
    handles: dict[str, Any] = {}
    try:
        for number, (path, offset, length) in enumerate(parts):
            handle = handles.get(path)
            if handle is None:
                handle = handles[path] = open(path, "rb")  # noqa: SIM115 - closed below
            handle.seek(offset)
            data = handle.read(length)
            if len(data) != length:
                raise OSError(f"{path} is shorter than the rows recorded for it (offset {offset}).")
            expected = checksums.get((path, offset, length))
            if expected is not None and zlib.crc32(data) != expected:
                raise PartChecksumError(
                    f"the rows in {path} (bytes {offset} to {offset + length}) changed after they were "
                    "recorded (checksum mismatch): the parts file was modified or damaged. The output "
                    "was not written; resume the run directory to run the affected mini-batches again."
                )
            if has_header and number:
                data = data.split(b"\n", 1)[1] if b"\n" in data else b""
            out.write(data)
            written += len(data)
    finally:
        for handle in handles.values():
            handle.close()
    return written


def upload_folder(local_path: str, uri: str) -> None:
    """Copy a locally staged output folder (or file) to its remote location."""
    fs, path = filesystem(uri)
    if os.path.isdir(local_path):
        # Trailing slashes: the folder's contents go into the target, whether it exists or not.
        fs.put(local_path.rstrip(os.sep) + os.sep, path.rstrip("/") + "/", recursive=True)
    elif os.path.isfile(local_path):
        fs.put_file(local_path, path)
