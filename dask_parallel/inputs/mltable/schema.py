"""One schema for the whole table: unify the files' schemas, report a mismatch precisely."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pyarrow as pa

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block


@dataclasses.dataclass
class FormatPlan:
    """What a format reader finds at planning: the table's schema and its blocks."""

    schema: pa.Schema
    blocks: list[Block]


ZERO_ONE = b"dask_parallel.zero_one"  # set on boolean columns inferred from 0/1 values


def _family(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_null(kind):
        return "null"
    if pa.types.is_boolean(kind):
        return "bool"
    return str(kind)


def unify(where: str, schemas: Sequence[tuple[str, pa.Schema]]) -> pa.Schema:
    """Columns in first-seen order; integers widen to int64, integers and floats to float64;
    a column missing from a file is null there; other differences are errors."""
    fields: dict[str, pa.Field] = {}
    origin: dict[str, str] = {}
    for path, schema in schemas:
        for field in schema:
            known = fields.get(field.name)
            if known is None or pa.types.is_null(known.type):
                fields[field.name] = field
                origin[field.name] = path
                continue
            if known.type.equals(field.type) or pa.types.is_null(field.type):
                continue
            families = {_family(known.type), _family(field.type)}
            if families == {"bool", "int"} and all(
                pa.types.is_integer(f.type) or (f.metadata or {}).get(ZERO_ONE) for f in (known, field)
            ):
                fields[field.name] = pa.field(field.name, pa.int64())  # 0/1 in one file, 2 in another
                continue
            if families == {"int", "float"}:
                fields[field.name] = pa.field(field.name, pa.float64())
                continue
            if families == {"int"}:
                fields[field.name] = pa.field(field.name, pa.int64())
                continue
            raise MLTableError(
                f"{where}: column {field.name!r} is {field.type} in {path} but {known.type} in "
                f"{origin[field.name]}; every file must give a column the same type. Convert the "
                "files, or read the column as text (column_type_overrides for read_delimited)."
            )
    return pa.schema(
        [f if not pa.types.is_null(f.type) else pa.field(f.name, pa.string()) for f in fields.values()]
    )


def widen(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, in order: missing ones null, types cast."""
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            if not column.type.equals(field.type):
                column = column.cast(field.type)
            arrays.append(column)
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
    return pa.table(arrays, schema=schema)
