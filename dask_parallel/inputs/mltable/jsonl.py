"""``read_json_lines``: one JSON object per line, cut into byte ranges on line boundaries.

``invalid_lines: error`` (default) stops at the first line that is not a JSON object and
names its file and byte offset; ``drop`` leaves such lines out.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Sequence

import pyarrow as pa
from pyarrow import json as pa_json

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import FormatPlan, unify, widen
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.inputs.mltable.textfiles import ASCII_COMPATIBLE, head, line_ranges, read_range

SAMPLE_LINES = 1000
# A line that holds anything but a JSON object (``null``, a number, an array, text). pyarrow's
# JSON reader crashes the whole process on a block of only ``null`` lines and turns a ``null``
# line among objects into a row of nulls, so such blocks never reach it.
NOT_AN_OBJECT = re.compile(rb"(?:^|\n)[ \t\r]*[^{\s]")


def _utf8(data: bytes, encoding: str) -> bytes:
    if encoding in ("utf-8", "ascii"):
        return data
    return codecs.decode(data, encoding).lstrip("\ufeff").encode("utf-8")


def _parse(data: bytes, block: Block, step: Step, schema: pa.Schema | None, where: str) -> pa.Table:
    data = _utf8(data, step["encoding"])
    if NOT_AN_OBJECT.search(data):
        return _line_by_line(data, block, step, schema, where, "a line is not a JSON object")
    options = pa_json.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore" if schema is not None else "infer"
    )
    try:
        return pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
            parse_options=options,
        )
    except pa.ArrowInvalid as exc:
        return _line_by_line(data, block, step, schema, where, exc)


def _line_by_line(
    data: bytes, block: Block, step: Step, schema: pa.Schema | None, where: str, first_error
) -> pa.Table:
    """The slow path, taken only when pyarrow rejects the block: find (and drop) bad lines."""
    rows = []
    offset = block.start
    for line in data.splitlines(keepends=True):
        text = line.strip()
        if text:
            try:
                value = json.loads(text)
                if not isinstance(value, dict):
                    raise ValueError("the line is not a JSON object")
            except ValueError as exc:
                if step["invalid_lines"] == "drop":
                    offset += len(line)
                    continue
                raise MLTableError(
                    f"{where}: read_json_lines: the line at byte {offset} of {block.path} is not a "
                    f"JSON object ({exc}): {text[:80].decode('utf-8', 'replace')!r}. Fix it, or set "
                    "invalid_lines: drop to leave such lines out."
                ) from None
            rows.append(value)
        offset += len(line)
    try:
        if schema is None:  # infer from every row, not only the first
            return pa.Table.from_struct_array(pa.array(rows)) if rows else pa.table({})
        return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in rows], schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise MLTableError(
            f"{where}: read_json_lines: {block.path} (bytes {block.start}-{block.end or 'end'}) has "
            f"values that do not fit the columns' types inferred from the first lines: {exc} "
            f"(pyarrow said: {first_error})."
        ) from None


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    schemas = []
    for found in files:
        sample = head(found.uri, SAMPLE_LINES, step["encoding"])
        table = _parse(sample, Block(found.uri, 0, len(sample)), step, None, where)
        schemas.append((found.uri, table.schema))
    schema = unify(where, schemas)
    splittable = step["encoding"] in ASCII_COMPATIBLE
    blocks = []
    for found in files:
        ranges = line_ranges(found.uri, size, found.size) if splittable else [(0, None)]
        blocks.extend(Block(found.uri, start, end) for start, end in ranges)
    return FormatPlan(schema=schema, blocks=blocks)


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    data = read_range(block.path, block.start, block.end)
    return widen(_parse(data, block, step, schema, where), schema)
