"""``read_parquet``: row groups aggregated into blocks of about the mini-batch size.

A block never crosses a file and never splits a row group, so a file with one row group
is one mini-batch whatever its size. Files may differ: a column missing from a file is null
there, integer widths widen to int64, integers and floats to float64.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.locations import FoundFile
from dask_parallel.inputs.mltable.schema import FormatPlan, unify, widen
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


def plan(where: str, files: Sequence[FoundFile], step: Step, size: int) -> FormatPlan:
    """One schema for every file (see :func:`schema.unify`), empty files skipped."""
    blocks: list[Block] = []
    schemas: list[tuple[str, pa.Schema]] = []
    for found in files:
        if found.size == 0:
            continue  # e.g. Spark's _SUCCESS marker
        metadata = file_metadata(found.uri, where)
        schemas.append((found.uri, metadata.schema.to_arrow_schema()))
        blocks.extend(row_group_blocks(found.uri, metadata, size))
    if not schemas:
        raise MLTableError(
            f"{where}: read_parquet: the paths name no parquet file (only empty files or none)."
        )
    return FormatPlan(schema=unify(f"{where}: read_parquet", schemas), blocks=blocks)


def _open_local(path: str) -> pq.ParquetFile:
    """A local parquet file, its footer parsed once per process while the file is unchanged.

    A worker reads a file's row groups one block after another, and the footer describes
    every row group: parsing it again for each block costs more the larger the file. The
    file's size and modification time are part of the key, so a file rewritten in place is
    parsed afresh.
    """
    stat = os.stat(path)
    return pq.ParquetFile(path, metadata=_footer(path, stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _footer(path: str, size: int, modified_ns: int) -> pq.FileMetaData:
    return pq.read_metadata(path)


def read_row_groups(
    path: str, row_groups: tuple[int, ...] | None, columns: list[str] | None = None
) -> pa.Table:
    fs, fpath = filesystem(path)
    if getattr(fs, "local_file", False):
        # pyarrow's own file reader: no Python file object in the way of its reads.
        with _open_local(fpath) as parquet:
            return _read(parquet, row_groups, columns)
    with fs.open(fpath, "rb") as handle:
        return _read(pq.ParquetFile(handle), row_groups, columns)


def _read(parquet: pq.ParquetFile, row_groups: tuple[int, ...] | None, columns: list[str] | None) -> pa.Table:
    if row_groups is None:
        return parquet.read(columns=columns)
    return parquet.read_row_groups(list(row_groups), columns=columns)


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    # Columns this file lacks are left out by pyarrow, then added as nulls by widen.
    return widen(read_row_groups(block.path, block.row_groups, schema.names), schema)
