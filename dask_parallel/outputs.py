"""append_row output: one atomic part per successful mini-batch, assembled in order.

A part is written by the attempt that produced it, to a name that includes the attempt
number, then renamed into place; the driver records which attempt won, and only that
part is ever copied into the final file. A duplicate or late attempt cannot add rows.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from .paths import filesystem, is_remote

SETTINGS_FILE = "parallel_run_step.settings.json"


def part_path(parts_dir: str, mini_batch_id: str, attempt: int) -> str:
    return os.path.join(parts_dir, f"{mini_batch_id}.a{attempt}.part")


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


def write_part(path: str, text: str) -> None:
    """Write a part atomically: a reader sees the whole part or none of it."""
    temporary = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.replace(temporary, path)


def assemble(parts: Sequence[str | None], target_uri: str, *, has_header: bool = False) -> int:
    """Concatenate the winning parts, in mini-batch order, into ``target_uri``.

    The target appears complete or not at all: locally it is written beside the target
    and renamed; remote stores commit the object when the upload closes. Returns the
    number of bytes written.
    """
    existing = [p for p in parts if p is not None]
    written = 0
    if is_remote(target_uri):
        fs, path = filesystem(target_uri)
        with fs.open(path, "wb") as out:
            written = _copy_parts(existing, out, has_header)
        return written
    os.makedirs(os.path.dirname(target_uri) or ".", exist_ok=True)
    temporary = f"{target_uri}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(temporary, "wb") as out:
            written = _copy_parts(existing, out, has_header)
        os.replace(temporary, target_uri)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return written


def _copy_parts(parts: Iterable[str], out, has_header: bool) -> int:
    written = 0
    first = True
    for part in parts:
        with open(part, "rb") as handle:
            if has_header and not first:
                handle.readline()
            before = handle.tell()
            shutil.copyfileobj(handle, out, 1 << 20)
            written += handle.tell() - before
        first = False
    return written


def upload_folder(local_path: str, uri: str) -> None:
    """Copy a locally staged output folder (or file) to its remote location."""
    fs, path = filesystem(uri)
    if os.path.isdir(local_path):
        for root, _dirs, files in os.walk(local_path):
            for name in files:
                source = os.path.join(root, name)
                relative = os.path.relpath(source, local_path).replace(os.sep, "/")
                fs.put_file(source, path.rstrip("/") + "/" + relative)
    elif os.path.isfile(local_path):
        fs.put_file(local_path, path)
