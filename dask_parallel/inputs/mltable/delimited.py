"""``read_delimited``: CSV-like files, cut into byte ranges on line boundaries.

Every block is read as text, then each column is converted to the type inferred once at
planning (:mod:`text_types`, from the first ``sample_size`` rows of the first files), so
every mini-batch has the same dtypes. A column whose files disagree is text; a file
without some column gives nulls there; a value after the sample that does not fit its
column's type becomes null, and the count is logged with the column and the file. Rows
with fewer fields than the header are padded with nulls; fields beyond the header are
read into ``Column<n>`` columns when the sample shows them. Empty files are skipped.
"""

from __future__ import annotations

import codecs
import csv as std_csv
import io
import logging
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pyarrow import csv

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable import text_types
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import FormatPlan
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.inputs.mltable.text_types import TextType
from dask_parallel.inputs.mltable.textfiles import (
    ASCII_COMPATIBLE,
    head,
    line_ranges,
    open_range,
    read_range,
)

COLUMN_COUNT = re.compile(r"Expected \d+ columns, got \d+")
log = logging.getLogger("dask_parallel.mltable")


def _splittable(options: dict[str, Any]) -> bool:
    return (
        not options["support_multi_line"]
        and options["encoding"] in ASCII_COMPATIBLE
        and len(options["delimiter"]) == 1
    )


def _first_line(path: str, options: dict[str, Any]) -> list[str]:
    """The first record's fields (with support_multi_line, a quoted field may span lines)."""
    encoding = options["encoding"]
    lines = 64 if options["support_multi_line"] else 1
    raw = head(path, lines, encoding, limit=1 << 16)
    text = codecs.decode(raw, encoding, errors="replace").lstrip("\ufeff")
    reader = (
        std_csv.reader(io.StringIO(text, newline=""), delimiter=options["delimiter"][0])
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


def _sample(
    where: str, found: FoundFile, names: tuple[str, ...], skip: bool, options: dict[str, Any], rows: int
) -> pa.Table:
    """The first ``rows`` rows of a file as text (with ``Column<n>`` for fields beyond the header)."""
    sample = head(found.uri, rows + (1 if skip else 0), options["encoding"])
    block = Block(path=found.uri, start=0, end=len(sample), column_names=names, skip_header=skip)
    return _parse_text(sample, block, options, where, grow=True).slice(0, rows)


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    """Types from the table's first ``sample_size`` rows, across files in order, as the official reader."""
    options = step.options
    files = [f for f in files if not _empty(f)]
    columns = file_columns(files, options)
    inference = options["infer_column_types"]
    remaining = (inference or {}).get("sample_size", 200)
    values: dict[str, list[str | None]] = {}
    widened: list[tuple[tuple[str, ...], bool]] = []
    for found, (names, skip) in zip(files, columns):
        if remaining > 0 or options["header"] == "all_files_different_headers" or not widened:
            sample = _sample(where, found, names, skip, options, max(remaining, 1))
            names = tuple(sample.column_names)
            for name in names:
                values.setdefault(name, []).extend(sample.column(name).to_pylist()[: max(remaining, 0)])
            remaining -= sample.num_rows
        widened.append((names, skip))
    if inference is None:
        types = {name: TextType("string") for name in values}
    else:
        types = {name: text_types.infer(found) for name, found in values.items()}
    overrides = _override_columns(options, list(types))
    schema = pa.schema(
        [
            TextType("string").field(n) if n in overrides or k.kind == "null" else k.field(n)
            for n, k in types.items()
        ]
    )
    blocks: list[Block] = []
    for found, (names, skip) in zip(files, widened):
        if _splittable(options):
            ranges = line_ranges(found.uri, size, found.size, header_lines=1 if skip else 0)
        else:
            ranges = [(0, None)]
        for start, end in ranges:
            blocks.append(Block(found.uri, start, end, column_names=names, skip_header=skip and start == 0))
    return FormatPlan(schema=schema, blocks=blocks)


def _empty(found: FoundFile) -> bool:
    if found.size is not None:
        return found.size == 0
    return not head(found.uri, 1, "utf-8", limit=1)


def _parse_text(
    data: bytes, block: Block, options: dict[str, Any], where: str, grow: bool = False
) -> pa.Table:
    """The block as text columns: an empty field is null, a quoted empty field is ``""``.

    With ``empty_as_string`` every empty field is ``""``. Rows shorter than the header are
    padded with nulls; longer ones add ``Column<n>`` columns when ``grow``, else lose the extra
    fields (the columns were fixed by the sample).
    """
    names = list(block.column_names or ())
    if len(options["delimiter"]) == 2:
        return _parse_slow(data, block, options, names, grow)
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
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=not empty_as_string,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if COLUMN_COUNT.search(str(exc)):
            return _parse_slow(data, block, options, names, grow)
        place = f"{block.path} (bytes {block.start}-{block.end if block.end is not None else 'end'})"
        raise MLTableError(f"{where}: read_delimited: cannot parse {place}: {exc}.") from None


def _parse_slow(data: bytes, block: Block, options: dict[str, Any], names: list[str], grow: bool) -> pa.Table:
    """Row by row, for ragged rows and two-character delimiters (empty fields are null here)."""
    text = codecs.decode(data, options["encoding"], errors="replace").lstrip("\ufeff")
    delimiter = options["delimiter"]
    if len(delimiter) == 1:
        rows = list(std_csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    else:
        rows = [line.split(delimiter) for line in text.splitlines()]
    if block.skip_header:
        rows = rows[1:]
    rows = [r for r in rows if r]
    width = max([len(names), *(len(r) for r in rows)]) if grow else len(names)
    names = names + [f"Column{i + 1}" for i in range(len(names), width)]
    empty = "" if options["empty_as_string"] else None
    columns = [[(r[i] if r[i] != "" else empty) if i < len(r) else None for r in rows] for i in range(width)]
    return pa.table([pa.array(c, pa.string()) for c in columns], names=names)


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    with open_range(block.path, block.start, block.end) as stream:
        typed = _parse_typed(stream, block, step.options, schema)
    if typed is not None:
        return typed
    data = read_range(block.path, block.start, block.end)
    return _convert(_parse_text(data, block, step.options, where), block, schema, where)


# Inferred kinds that pyarrow parses to exactly the value :func:`text_types.convert` gives,
# whenever it parses the whole block: any value it rejects sends the block to the text path.
TYPED_CHUNK = 8 << 20
PARSED_BY_ARROW = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "string": pa.string()}


def _parse_typed(stream: Any, block: Block, options: dict[str, Any], schema: pa.Schema) -> pa.Table | None:
    """The block parsed straight to its column types in one pyarrow pass, or None when some
    value needs the text path (a value that does not fit, ragged rows, ``inf``/``nan``).

    Parsing text and converting it afterwards costs about as much again as the parse; the
    stream is parsed in chunks, so the block's bytes are never all in memory at once.
    """
    if len(options["delimiter"]) != 1:
        return None
    names = list(block.column_names or ())
    kinds = {f.name: TextType.of(f) for f in schema}
    column_types = {
        name: PARSED_BY_ARROW.get(kinds[name].kind, pa.string()) if name in kinds else pa.string()
        for name in names
    }
    encoding = options["encoding"]
    try:
        table = csv.read_csv(
            stream,
            read_options=csv.ReadOptions(
                column_names=names,
                skip_rows=1 if block.skip_header else 0,
                encoding="utf8" if encoding in ("utf-8", "ascii") else encoding,
                block_size=TYPED_CHUNK,
            ),
            parse_options=csv.ParseOptions(
                delimiter=options["delimiter"], newlines_in_values=options["support_multi_line"]
            ),
            convert_options=csv.ConvertOptions(
                column_types=column_types,
                null_values=[""],
                true_values=list(text_types.TRUE),
                false_values=list(text_types.FALSE),
                strings_can_be_null=not options["empty_as_string"],
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(field.name)
        kind = kinds[field.name].kind
        if kind == "float" and _has_special_floats(column):
            return None  # the text path reads inf and nan as values that do not fit: null
        if kind not in PARSED_BY_ARROW:
            column, nulled = text_types.convert(column, kinds[field.name])
            if nulled:
                return None  # the text path logs them
        if not column.type.equals(field.type):
            column = column.cast(field.type)
        arrays.append(column)
    return pa.table(arrays, schema=schema)


def _has_special_floats(column: pa.ChunkedArray) -> bool:
    import pyarrow.compute as pc

    special = pc.or_(pc.is_inf(column), pc.is_nan(column))
    return bool(pc.any(special).as_py())


def _convert(table: pa.Table, block: Block, schema: pa.Schema, where: str) -> pa.Table:
    """Text columns converted to the schema's types, values that do not fit logged as null."""
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, field.type))
            continue
        column, nulled = text_types.convert(table.column(field.name), TextType.of(field))
        if nulled:
            log.warning(
                "%s: read_delimited: %d value(s) of column %r in %s do not fit its type %s (inferred "
                "from the first rows) and were read as null.",
                where,
                nulled,
                field.name,
                block.describe(),
                field.type,
            )
        arrays.append(column.cast(field.type))
    return pa.table(arrays, schema=schema)
