"""``read_parquet``: row groups aggregated into blocks of about the mini-batch size.

A block never crosses a file and never splits a row group, so a file with one row group
is one mini-batch whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import FormatPlan, widen
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.paths import filesystem


def file_metadata(path: str, where: str) -> pq.FileMetaData:
    fs, fpath = filesystem(path)
    try:
        with fs.open(fpath, "rb") as handle:
            return pq.ParquetFile(handle).metadata
    except (pa.ArrowInvalid, OSError) as exc:
        raise MLTableError(f"{where}: read_parquet: {path} is not a readable parquet file: {exc}.") from None


def row_group_blocks(path: str, metadata: pq.FileMetaData, size: int, **extra) -> list[Block]:
    """Consecutive row groups of one file, aggregated until their data reaches ``size`` bytes."""
    blocks: list[Block] = []
    group: list[int] = []
    group_bytes = group_rows = 0
    for index in range(metadata.num_row_groups):
        row_group = metadata.row_group(index)
        group.append(index)
        group_bytes += row_group.total_byte_size
        group_rows += row_group.num_rows
        if group_bytes >= size:
            blocks.append(Block(path=path, row_groups=tuple(group), rows=group_rows, **extra))
            group, group_bytes, group_rows = [], 0, 0
    if group:
        blocks.append(Block(path=path, row_groups=tuple(group), rows=group_rows, **extra))
    return [b for b in blocks if b.rows]


def check_schema(where: str, first: tuple[str, pa.Schema], other: tuple[str, pa.Schema]) -> None:
    (first_path, expected), (path, schema) = first, other
    for field in expected:
        if field.name not in schema.names:
            raise MLTableError(
                f"{where}: read_parquet: column {field.name!r} is missing from {path} (it is in "
                f"{first_path}); every file must have the same columns."
            )
        found = schema.field(field.name).type
        if not found.equals(field.type):
            raise MLTableError(
                f"{where}: read_parquet: column {field.name!r} is {found} in {path} but {field.type} "
                f"in {first_path}; every file must give a column the same type."
            )
    extra = [n for n in schema.names if n not in expected.names]
    if extra:
        raise MLTableError(
            f"{where}: read_parquet: column {extra[0]!r} of {path} is not in {first_path}; every "
            "file must have the same columns."
        )


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    blocks: list[Block] = []
    first: tuple[str, pa.Schema] | None = None
    for found in files:
        metadata = file_metadata(found.uri, where)
        schema = metadata.schema.to_arrow_schema()
        if first is None:
            first = (found.uri, schema)
        else:
            check_schema(where, first, (found.uri, schema))
        blocks.extend(row_group_blocks(found.uri, metadata, size))
    if first is None:
        raise MLTableError(f"{where}: read_parquet: the paths name no file.")
    return FormatPlan(schema=first[1], blocks=blocks)


def read_row_groups(
    path: str, row_groups: tuple[int, ...] | None, columns: list[str] | None = None
) -> pa.Table:
    fs, fpath = filesystem(path)
    with fs.open(fpath, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        if row_groups is None:
            return parquet.read(columns=columns)
        return parquet.read_row_groups(list(row_groups), columns=columns)


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    return widen(read_row_groups(block.path, block.row_groups, schema.names), schema)
