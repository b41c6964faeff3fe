"""``read_delta_lake`` through the ``deltalake`` package: one table version, read file by file.

The table's active files (at ``version_as_of`` / ``timestamp_as_of``, or the latest) are
planned like parquet files; their partition values travel in the blocks.
"""

from __future__ import annotations

import pyarrow as pa

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.locations import FoundFile, resolve
from dask_parallel.inputs.mltable.parquet import file_metadata, read_row_groups, row_group_blocks
from dask_parallel.inputs.mltable.schema import FormatPlan, widen
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.paths import is_remote

UNSUPPORTED_FEATURES = ("deletionVectors", "columnMapping")


def open_table(where: str, uri: str, step: Step):
    try:
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError
    except ImportError:  # pragma: no cover - deltalake is the optional [delta] extra
        raise MLTableError(
            f"{where}: read_delta_lake needs the deltalake package: pip install 'dask_parallel[delta]'."
        ) from None
    try:
        table = DeltaTable(uri, version=step["version_as_of"])
        if step["timestamp_as_of"] is not None:
            table.load_as_version(step["timestamp_as_of"])
    except TableNotFoundError:
        raise MLTableError(
            f"{where}: read_delta_lake: {uri} is not a Delta table (no _delta_log folder); the paths "
            "entry must be the table's folder."
        ) from None
    except Exception as exc:  # noqa: BLE001 - deltalake raises several kinds for a bad version
        raise MLTableError(
            f"{where}: read_delta_lake: cannot open {uri} at the requested version: {exc}"
        ) from None
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    blocked = sorted(features & set(UNSUPPORTED_FEATURES))
    if blocked:
        raise MLTableError(
            f"{where}: read_delta_lake: {uri} uses Delta features {blocked}, which are not supported."
        )
    return table


def plan(
    where: str, paths: tuple[dict[str, str], ...], folder: str, step: Step, size: int
) -> tuple[FormatPlan, list[str]]:
    if len(paths) != 1:
        raise MLTableError(f"{where}: read_delta_lake needs exactly one paths entry: the table's folder.")
    value = next(iter(paths[0].values()))
    uri = resolve(value, folder)
    table = open_table(where, uri, step)
    schema = pa.schema(table.schema().to_arrow())
    partition_columns = list(table.metadata().partition_columns)
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    blocks: list[Block] = []
    for action in sorted(actions, key=lambda a: a["path"]):
        path = action["path"]
        if not (is_remote(path) or path.startswith("/")):
            path = uri.rstrip("/") + "/" + path
        values = tuple((c, action.get(f"partition.{c}")) for c in partition_columns)
        metadata = file_metadata(path, where)
        blocks.extend(row_group_blocks(path, metadata, size, partition_values=values))
    return FormatPlan(schema=schema, blocks=blocks), partition_columns


def files(where: str, paths: tuple[dict[str, str], ...], folder: str, step: Step) -> list[FoundFile]:
    formatted, _ = plan(where, paths, folder, step, 1 << 62)
    return [FoundFile(b.path) for b in formatted.blocks]


def read(block: Block, step: Step, schema: pa.Schema, where: str) -> pa.Table:
    partition = dict(block.partition_values)
    data_columns = [n for n in schema.names if n not in partition]
    table = read_row_groups(block.path, block.row_groups, data_columns)
    for name, value in partition.items():
        kind = schema.field(name).type
        table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()).cast(kind))
    return widen(table, schema)
