"""``read_json_lines``: one JSON object per line, cut into byte ranges on line boundaries.

Every line is parsed with :mod:`json` (pyarrow's JSON reader crashes the process on a block
of ``null`` lines and cannot hold a column of mixed values), then each column is made with
the type inferred at planning (:mod:`json_types`). ``invalid_lines: error`` (default) stops
at the first line that is not a JSON object (``null``, a number, an array, broken JSON) and
names its file, line and byte offset; ``drop`` leaves such lines out. Empty files are skipped.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable import json_types
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import FormatPlan
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.inputs.mltable.textfiles import ASCII_COMPATIBLE, head, line_ranges, read_range

log = logging.getLogger("dask_parallel.mltable")
SAMPLE_LINES = 1000
SAMPLE_FILES = 8


def _lines(data: bytes, encoding: str, cut: bool) -> list[bytes]:
    """The block's lines as UTF-8 bytes. ``cut``: the data may end inside a line; drop it."""
    if encoding in ASCII_COMPATIBLE:
        lines = data.splitlines(keepends=True)
        if cut and lines and not lines[-1].endswith(b"\n"):
            lines.pop()
        if encoding not in ("utf-8", "ascii"):
            lines = [codecs.decode(line, encoding).encode("utf-8") for line in lines]
        return lines
    text = codecs.decode(data, encoding, errors="replace" if cut else "strict").lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if cut and lines:
        lines.pop()
    return [line.encode("utf-8") for line in lines]


def rows(data: bytes, block: Block, step: Step, where: str, cut: bool = False) -> list[dict[str, Any]]:
    """The JSON objects of a block, in order; other lines dropped or reported."""
    lines = _lines(data, step["encoding"], cut)
    present = [line.strip() for line in lines]
    present = [line for line in present if line]
    try:  # every line at once, as one JSON array; line by line only when a line is not an object
        together = json.loads(b"[" + b",".join(present).lstrip(b"\xef\xbb\xbf") + b"]")
        if len(together) == len(present) and all(type(v) is dict for v in together):
            return together
    except ValueError:
        pass
    found = []
    offset = block.start
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text:
            try:
                value = json.loads(text.decode("utf-8").lstrip("\ufeff"))
                if not isinstance(value, dict):
                    raise ValueError(f"the line holds {_json_kind(value)}, not an object")
            except ValueError as exc:  # UnicodeDecodeError is a ValueError
                if step["invalid_lines"] == "error":
                    shown = text[:80].decode("utf-8", "replace")
                    raise MLTableError(
                        f"{where}: read_json_lines: line {number} (at byte {offset}) of {block.path} is "
                        f"not a JSON object ({exc}): {shown!r}. Fix it, or set invalid_lines: drop to "
                        "leave such lines out."
                    ) from None
            else:
                found.append(value)
        offset += len(line)
    return found


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    files = [f for f in files if f.size != 0]
    sample: list[dict[str, Any]] = []
    for found in files[:SAMPLE_FILES]:
        data = head(found.uri, SAMPLE_LINES, step["encoding"])
        if data:
            cut = found.size is None or len(data) < found.size
            sample.extend(rows(data, Block(found.uri, 0, len(data)), step, where, cut=cut))
    kinds = json_types.infer(sample)
    schema = pa.schema([json_types.field(name, kind) for name, kind in kinds.items()])
    splittable = step["encoding"] in ASCII_COMPATIBLE
    blocks = []
    for found in files:
        ranges = line_ranges(found.uri, size, found.size) if splittable else [(0, None)]
        blocks.extend(Block(found.uri, start, end) for start, end in ranges)
    return FormatPlan(schema=schema, blocks=blocks)


def read(block: Block, step: Step, schema: pa.Schema, where: str):
    """The block as a pandas DataFrame with the schema's columns and types."""
    import pandas as pd

    objects = rows(read_range(block.path, block.start, block.end), block, step, where)
    columns = {}
    for field in schema:
        values = [o.get(field.name) for o in objects]
        columns[field.name] = json_types.column(json_types.kind_of_field(field), values)
        nulled = sum(v is not None for v in values) - int(pd.notna(columns[field.name]).sum())
        if nulled:
            log.warning(
                "%s: read_json_lines: %d value(s) of column %r in %s are not of its type %s "
                "(inferred from the first lines) and were read as null.",
                where,
                nulled,
                field.name,
                block.describe(),
                json_types.kind_of_field(field)["kind"],
            )
    return pd.DataFrame(columns, index=pd.RangeIndex(len(objects)))
