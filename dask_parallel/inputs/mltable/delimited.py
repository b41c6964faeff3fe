"""``read_delimited``: CSV-like files, cut into byte ranges on line boundaries.

Column types are inferred once (from the first ``sample_size`` rows of the first file
that has each column) and every block is parsed with exactly those types, so every
mini-batch has the same dtypes; a value that does not fit is reported with its column
and file.
"""

from __future__ import annotations

import codecs
import csv as std_csv
import io
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pyarrow import csv

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import ZERO_ONE, FormatPlan, unify, widen
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.inputs.mltable.textfiles import ASCII_COMPATIBLE, head, line_ranges, read_range

COLUMN_ERROR = re.compile(r"In CSV column #(\d+): (.*)", re.S)


def _splittable(options: dict[str, Any]) -> bool:
    return (
        not options["support_multi_line"]
        and options["encoding"] in ASCII_COMPATIBLE
        and len(options["delimiter"]) == 1
    )


def _first_line(path: str, options: dict[str, Any]) -> list[str]:
    encoding = options["encoding"]
    raw = head(path, 1, encoding, limit=1 << 16)
    text = codecs.decode(raw, encoding, errors="replace").lstrip("\ufeff")
    reader = (
        std_csv.reader(io.StringIO(text), delimiter=options["delimiter"][0])
        if len(options["delimiter"]) == 1
        else None
    )
    if reader is None:
        line = text.splitlines()[0] if text else ""
        return [v.strip('"') for v in line.split(options["delimiter"])]
    return next(reader, [])


def file_columns(files: Sequence[FoundFile], options: dict[str, Any]) -> list[tuple[tuple[str, ...], bool]]:
    """For each file: its column names and whether its first line is a header to skip."""
    mode = options["header"]
    result: list[tuple[tuple[str, ...], bool]] = []
    first: tuple[str, ...] = ()
    for number, found in enumerate(files):
        if mode == "all_files_different_headers" or number == 0:
            values = _first_line(found.uri, options)
            if mode == "no_header":
                names = tuple(f"Column{i + 1}" for i in range(len(values)))
            else:
                names = _dedupe([v.strip() for v in values])
            if number == 0:
                first = names
        else:
            names = first
        if mode == "no_header" and number > 0:
            count = len(_first_line(found.uri, options))
            names = tuple(f"Column{i + 1}" for i in range(count))
        skip = mode in ("all_files_same_headers", "all_files_different_headers") or (
            mode == "from_first_file" and number == 0
        )
        result.append((names, skip))
    return result


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for number, name in enumerate(names):
        name = name or f"Column{number + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return tuple(out)


def _override_columns(options: dict[str, Any], names: Sequence[str]) -> set[str]:
    from dask_parallel.inputs.mltable.columns import select

    inference = options["infer_column_types"]
    chosen: set[str] = set()
    for item in (inference or {}).get("column_type_overrides", ()):
        chosen.update(select(item["columns"], list(names), "column_type_overrides"))
    return chosen


def _infer(
    where: str, found: FoundFile, names: tuple[str, ...], skip: bool, options: dict[str, Any]
) -> pa.Schema:
    inference = options["infer_column_types"]
    if inference is None:
        return pa.schema([(n, pa.string()) for n in names])
    rows = inference["sample_size"] + (1 if skip else 0)
    sample = head(found.uri, rows, options["encoding"])
    block = Block(path=found.uri, start=0, end=len(sample), column_names=names, skip_header=skip)
    table = _parse(sample, block, options, None, where=where)
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_integer(kind) and _only_zeros_and_ones(table.column(field.name)):
            # The official reader takes a column of only 0 and 1 for booleans; marked, so that
            # a file where the column holds other integers makes it an integer column again.
            fields.append(pa.field(field.name, pa.bool_(), metadata={ZERO_ONE: b"1"}))
            continue
        if pa.types.is_integer(kind):
            kind = pa.int64()
        elif pa.types.is_floating(kind):
            kind = pa.float64()
        elif pa.types.is_boolean(kind):
            kind = pa.bool_()
        elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            kind = pa.timestamp("ns")
        else:
            kind = pa.string()
        fields.append(pa.field(field.name, kind))
    return pa.schema(fields)


INFERENCE_FILES = 8


def _only_zeros_and_ones(column: pa.ChunkedArray) -> bool:
    values = set(column.drop_null().unique().to_pylist())
    return bool(values) and values <= {0, 1}


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    options = step.options
    columns = file_columns(files, options)
    schemas = []
    inferred_for: set[str] = set()
    sampled_files = 0
    for found, (names, skip) in zip(files, columns):
        # Like the official reader, look at more than the first file (a few, not thousands).
        seen = set(names) <= inferred_for and options["header"] != "all_files_different_headers"
        if seen and sampled_files >= INFERENCE_FILES:
            continue
        schemas.append((found.uri, _infer(where, found, names, skip, options)))
        inferred_for.update(names)
        sampled_files += 1
    schema = unify(where, schemas)
    overrides = _override_columns(options, schema.names)
    schema = pa.schema([pa.field(f.name, pa.string()) if f.name in overrides else f for f in schema])
    blocks: list[Block] = []
    for found, (names, skip) in zip(files, columns):
        if _splittable(options):
            ranges = line_ranges(found.uri, size, found.size, header_lines=1 if skip else 0)
        else:
            ranges = [(0, None)]
        for start, end in ranges:
            blocks.append(Block(found.uri, start, end, column_names=names, skip_header=skip and start == 0))
    return FormatPlan(schema=schema, blocks=blocks)


def _parse(
    data: bytes, block: Block, options: dict[str, Any], schema: pa.Schema | None, where: str
) -> pa.Table:
    names = list(block.column_names or ())
    types = {}
    if schema is not None:
        types = {name: schema.field(name).type for name in names if name in schema.names}
    if len(options["delimiter"]) == 2:
        return _parse_two_char(data, block, options, types, where)
    encoding = options["encoding"]
    empty_as_string = options["empty_as_string"]
    try:
        return csv.read_csv(
            io.BytesIO(data),
            read_options=csv.ReadOptions(
                column_names=names,
                skip_rows=1 if block.skip_header else 0,
                encoding="utf8" if encoding in ("utf-8", "ascii") else encoding,
                block_size=max(1 << 20, len(data) + 1),
            ),
            parse_options=csv.ParseOptions(
                delimiter=options["delimiter"], newlines_in_values=options["support_multi_line"]
            ),
            convert_options=csv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=not empty_as_string,
                quoted_strings_can_be_null=not empty_as_string,
                true_values=["true", "True", "TRUE", "1"],
                false_values=["false", "False", "FALSE", "0"],
                timestamp_parsers=[csv.ISO8601],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _parse_error(exc, block, names, schema, where) from None


def _parse_error(
    exc: Exception, block: Block, names: list[str], schema: pa.Schema | None, where: str
) -> MLTableError:
    text = str(exc)
    place = f"{block.path} (bytes {block.start}-{block.end if block.end is not None else 'end'})"
    match = COLUMN_ERROR.search(text)
    if match and int(match.group(1)) < len(names):
        column = names[int(match.group(1))]
        expected = schema.field(column).type if schema is not None and column in schema.names else "?"
        return MLTableError(
            f"{where}: read_delimited: column {column!r} in {place} holds a value that is not "
            f"{expected} ({match.group(2).strip()}); the type was inferred from the first rows. "
            f"Fix the row, or read the column as text with infer_column_types: "
            f"{{column_type_overrides: [{{columns: {column}, column_type: string}}]}}."
        )
    if "columns" in text and "Expected" in text:
        return MLTableError(
            f"{where}: read_delimited: a row in {place} has a different number of fields than the "
            f"header ({len(names)} columns: {names}): {text}. Check the delimiter, the header mode, "
            "or set support_multi_line: true for quoted line breaks."
        )
    return MLTableError(f"{where}: read_delimited: cannot parse {place}: {text}.")


def _parse_two_char(data: bytes, block: Block, options: dict[str, Any], types: dict, where: str) -> pa.Table:
    import pandas as pd

    text = codecs.decode(data, options["encoding"]).lstrip("\ufeff")
    names = list(block.column_names or ())
    frame = pd.read_csv(
        io.StringIO(text),
        sep=re.escape(options["delimiter"]),
        engine="python",
        header=None,
        names=names,
        skiprows=1 if block.skip_header else 0,
        dtype=str,
        keep_default_na=False,
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    arrays = []
    for name in names:
        column = table.column(name).cast(pa.string())
        column = (
            pa.compute.if_else(pa.compute.equal(column, ""), None, column)
            if not options["empty_as_string"]
            else column
        )
        target = types.get(name) if types else _guess(column)
        try:
            arrays.append(column.cast(target) if target is not None else column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MLTableError(
                f"{where}: read_delimited: column {name!r} in {block.path} holds a value that is not "
                f"{target}: {exc}; read it as text with column_type_overrides."
            ) from None
    return pa.table(arrays, names=names)


def _guess(column: pa.ChunkedArray) -> pa.DataType | None:
    for kind in (pa.int64(), pa.float64(), pa.timestamp("ns")):
        try:
            column.cast(kind)
            return kind
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    data = read_range(block.path, block.start, block.end)
    table = _parse(data, block, step.options, schema, where)
    return widen(table, schema)
