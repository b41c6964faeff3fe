"""The :class:`MLTable` object: load, inspect, transform, and divide into mini-batches."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block, BlockGroup
from dask_parallel.inputs.mltable.datastores import resolve_datastore
from dask_parallel.inputs.mltable.document import Document, read_document
from dask_parallel.inputs.mltable.locations import FoundFile, list_paths
from dask_parallel.inputs.mltable.partition_format import PartitionFormat
from dask_parallel.inputs.mltable.reader import TableReader
from dask_parallel.inputs.mltable.schema import FormatPlan
from dask_parallel.inputs.mltable.steps import Step, parse_step
from dask_parallel.inputs.mltable.transforms import apply_step, sample_mask
from dask_parallel.paths import filesystem, normalize_path

DEFAULT_PARTITION_SIZE = 1024 * 1024
ROW_CHANGING = ("filter", "take_random_sample", "sample", "take", "skip")


@dataclasses.dataclass(frozen=True)
class Unit:
    """One mini-batch to be: a block (tabular) or files (file list), with its key values."""

    block: Block | BlockGroup | None = None
    files: tuple[str, ...] = ()
    partition_key_value: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class TablePlan:
    """An MLTable divided: ``kind`` is "tabular" or "files"."""

    kind: str
    units: tuple[Unit, ...]
    reader: TableReader | None


@dataclasses.dataclass(frozen=True)
class MLTable:
    """A loaded MLTable. Methods that transform return a new MLTable; nothing is read until asked."""

    document: Document

    # -- what the file says ---------------------------------------------------------------
    @property
    def uri(self) -> str:
        return self.document.folder

    @property
    def paths(self) -> list[dict[str, str]]:
        """The ``paths`` entries as written in the file (relative paths kept)."""
        return [dict(p) for p in self.document.paths]

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.document.metadata)

    @property
    def traits(self) -> dict[str, Any]:
        return dict(self.document.traits)

    @property
    def read_step(self) -> Step | None:
        return next((s for s in self.document.steps if s.is_read), None)

    @property
    def is_tabular(self) -> bool:
        """True when a read transformation makes rows; otherwise the table is a list of files."""
        return self.read_step is not None

    @property
    def partition_format(self) -> PartitionFormat | None:
        for step in self.document.steps:
            if step.name == "extract_columns_from_partition_format":
                return PartitionFormat.parse(step["partition_format"])
        return None

    @property
    def partition_keys(self) -> list[str]:
        """The columns defined by ``extract_columns_from_partition_format`` (Delta: partition columns)."""
        fmt = self.partition_format
        if fmt is not None:
            return list(fmt.names)
        step = self.read_step
        if step is not None and step.name == "read_delta_lake":
            from dask_parallel.inputs.mltable.delta import open_table

            table = open_table(self.document.where, _delta_uri(self.document), step)
            return list(table.metadata().partition_columns)
        return []

    def __repr__(self) -> str:
        steps = ", ".join(s.name for s in self.document.steps) or "no transformations"
        return f"<MLTable {self.document.where}: {len(self.document.paths)} paths; {steps}>"

    # -- transformations, as in the mltable package -------------------------------------
    def _with(self, name: str, args: Any) -> MLTable:
        index = len(self.document.steps)
        step = parse_step(self.document.where, index, {name: args})
        return MLTable(dataclasses.replace(self.document, steps=(*self.document.steps, step)))

    def take(self, count: int = 20) -> MLTable:
        return self._with("take", count)

    def skip(self, count: int) -> MLTable:
        return self._with("skip", count)

    def take_random_sample(self, probability: float, seed: int | None = None) -> MLTable:
        return self._with(
            "take_random_sample", {"probability": probability, "seed": 42 if seed is None else seed}
        )

    def keep_columns(self, columns: str | list[str] | dict[str, Any]) -> MLTable:
        return self._with("keep_columns", columns)

    def drop_columns(self, columns: str | list[str] | dict[str, Any]) -> MLTable:
        return self._with("drop_columns", columns)

    def filter(self, expression: str) -> MLTable:
        return self._with("filter", expression)

    def convert_column_types(self, conversions: list[dict[str, Any]] | dict[str, Any]) -> MLTable:
        return self._with("convert_column_types", conversions)

    def extract_columns_from_partition_format(self, partition_format: str) -> MLTable:
        return self._with("extract_columns_from_partition_format", {"partition_format": partition_format})

    def select_partitions(self, partition_index_list: list[int]) -> MLTable:
        return self._with("select_partitions", list(partition_index_list))

    # -- files ----------------------------------------------------------------------------
    def found_files(self) -> list[FoundFile]:
        step = self.read_step
        if step is not None and step.name == "read_delta_lake":
            from dask_parallel.inputs.mltable import delta

            return delta.files(self.document.where, self.document.paths, self.uri, step)
        return list_paths(
            self.document.where, self.document.paths, self.uri, folders_as_files=not self.is_tabular
        )

    def files(self) -> list[str]:
        """Every file the ``paths`` section names, resolved to URLs or absolute paths, in order."""
        return [f.uri for f in self.found_files()]

    # -- planning -------------------------------------------------------------------------
    def _format_plan(self, size: int) -> FormatPlan:
        from dask_parallel.inputs.mltable import delimited, delta, jsonl, parquet

        step = self.read_step
        where = self.document.where
        if step.name == "read_delta_lake":
            formatted, _ = delta.plan(where, self.document.paths, self.uri, step, size)
            return formatted
        files = self.found_files()
        module = {"read_delimited": delimited, "read_parquet": parquet, "read_json_lines": jsonl}[step.name]
        return module.plan(where, files, step, size)

    def reader(self, schema=None, size: int = DEFAULT_PARTITION_SIZE) -> TableReader:
        if schema is None:
            schema = self._format_plan(size).schema
        return TableReader(
            where=self.document.where,
            read_step=self.read_step,
            steps=self.document.steps,
            schema=schema,
            traits=self.document.traits,
        )

    def blocks(self, partition_size: int | str | None = None) -> tuple[TableReader, list[Block]]:
        """The reader and the blocks of about ``partition_size`` bytes (after take/skip/select_partitions)."""
        if not self.is_tabular:
            raise MLTableError(f"{self.document.where} has no read transformation; it is a list of files.")
        size = _size(partition_size, self.read_step)
        formatted = self._format_plan(size)
        reader = self.reader(formatted.schema)
        blocks = formatted.blocks
        for step in self.document.steps:
            if step.name == "select_partitions":
                blocks = _select(self.document.where, step, blocks)
            elif step.name in ("take", "skip"):
                blocks = _positional(reader, step, blocks, self.document.steps)
        if any(s.name in ROW_CHANGING for s in self.document.steps):
            # Row counts from parquet metadata no longer hold once rows are filtered or sliced.
            blocks = [dataclasses.replace(b, rows=None) for b in blocks]
        return reader, blocks

    def plan(
        self, partition_size: int | str | None = None, partition_keys: list[str] | None = None
    ) -> TablePlan:
        """Divide the table into mini-batches: by size, or one per partition-key combination."""
        if partition_keys:
            self._check_keys(partition_keys)
        if not self.is_tabular:
            frame = self._file_frame()
            files = [str(p) for p in frame["Path"]]
            if not partition_keys:
                return TablePlan("files", (Unit(files=tuple(files)),), None)
            groups: dict[tuple, list[str]] = {}
            for _, row in frame.iterrows():
                groups.setdefault(tuple(_plain(row[k]) for k in partition_keys), []).append(str(row["Path"]))
            units = tuple(
                Unit(files=tuple(paths), partition_key_value=dict(zip(partition_keys, key)))
                for key, paths in groups.items()
            )
            return TablePlan("files", units, None)
        reader, blocks = self.blocks(partition_size if not partition_keys else 1 << 62)
        if not partition_keys:
            return TablePlan("tabular", tuple(Unit(block=b) for b in blocks), reader)
        grouped: dict[tuple, list[Block]] = {}
        for block in blocks:
            values = self._key_values(block)
            grouped.setdefault(tuple(_plain(values[k]) for k in partition_keys), []).append(block)
        units = tuple(
            Unit(
                block=group[0] if len(group) == 1 else BlockGroup(tuple(group)),
                partition_key_value=dict(zip(partition_keys, key)),
            )
            for key, group in grouped.items()
        )
        return TablePlan("tabular", units, reader)

    def _key_values(self, block: Block) -> dict[str, Any]:
        fmt = self.partition_format
        values = dict(block.partition_values)
        if fmt is not None:
            values.update(fmt.values(block.path))
        return values

    def _check_keys(self, keys: list[str]) -> None:
        available = self.partition_keys
        if not available:
            raise MLTableError(
                f"{self.document.where}: cannot retrieve partition key values for a mltable that has "
                "no partition keys; add extract_columns_from_partition_format to its transformations, "
                "or remove partition_keys."
            )
        invalid = [k for k in keys if k not in available]
        if invalid:
            raise MLTableError(
                f"{self.document.where}: {invalid} are invalid partition keys; the MLTable's partition "
                f"keys are {available}."
            )

    def _file_frame(self):
        """A file-list MLTable as a table: a ``Path`` column, plus any partition columns."""
        import pandas as pd

        frame = pd.DataFrame({"Path": pd.Series(self.files(), dtype="str")})
        for step in self.document.steps:
            if step.name == "extract_columns_from_partition_format":
                fmt = PartitionFormat.parse(step["partition_format"])
                values = [fmt.values(p) for p in frame["Path"]]
                for name, date_format in fmt.columns:
                    column = [v[name] for v in values]
                    frame[name] = pd.Series(column, dtype="datetime64[ns]" if date_format else "str")
            elif step.name == "take":
                frame = frame.iloc[: step["count"]]
            elif step.name == "skip":
                frame = frame.iloc[step["count"] :]
            elif step.name in ("take_random_sample", "sample"):
                lower = step.options.get("probability_lower_bound", 0.0)
                frame = frame[sample_mask(frame, step["seed"], lower, step["probability"], "")]
            elif step.name == "select_partitions":
                continue
            else:
                frame = apply_step(frame, step, Block(path=""), self.document.where, self.document.traits)
            frame = frame.reset_index(drop=True)
        if "Path" not in frame.columns:
            raise MLTableError(
                f"{self.document.where}: the Path column of a file-list MLTable cannot be dropped; "
                "it names the files of each mini-batch."
            )
        return frame

    # -- reading ----------------------------------------------------------------------------
    def to_pandas_dataframe(self):
        """The whole table as one pandas DataFrame (``Path`` column for a file list)."""
        import pandas as pd

        if not self.is_tabular:
            return self._file_frame()
        reader, blocks = self.blocks(1 << 62)
        frames = [reader.read(b) for b in blocks]
        if not frames:
            return _empty(reader)
        return _plain_dtypes(pd.concat(frames, ignore_index=True))

    def to_dask_dataframe(self, partition_size: int | str | None = None):
        """A Dask DataFrame with one partition per block of ``partition_size`` bytes ("10mb")."""
        from dask_parallel.inputs.mltable.dask_frame import from_blocks, from_frame

        if not self.is_tabular:
            return from_frame(self._file_frame())
        reader, blocks = self.blocks(partition_size)
        if not blocks:
            return from_frame(_empty(reader))
        meta = reader.read(blocks[0]).iloc[:0]
        return from_blocks(reader.read, blocks, meta)

    def show(self, count: int = 20):
        """The first ``count`` rows."""
        return self.take(count).to_pandas_dataframe()

    def get_partition_count(self) -> int:
        """How many partitions (mini-batches) the table has at its partition size (1 MiB by default)."""
        if not self.is_tabular:
            return 1
        return len(self.blocks()[1])


def _empty(reader: TableReader):
    import pyarrow as pa

    from dask_parallel.inputs.mltable.frames import to_pandas

    return to_pandas(pa.table([pa.array([], f.type) for f in reader.schema], schema=reader.schema))


def _plain(value: Any) -> Any:
    """Key values that compare and print simply (no numpy or pandas scalars)."""
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _size(partition_size: int | str | None, step: Step) -> int:
    from dask_parallel.spec.sizes import parse_byte_size

    if partition_size is None:
        partition_size = step.options.get("partition_size") or DEFAULT_PARTITION_SIZE
    return max(1, parse_byte_size(partition_size, "partition_size"))


def _select(where: str, step: Step, blocks: list[Block]) -> list[Block]:
    out = []
    for index in step["indices"]:
        if index >= len(blocks):
            raise MLTableError(
                f"{where}: transformations[{step.index}].select_partitions: partition {index} does not "
                f"exist; the table has {len(blocks)} partitions (0 to {len(blocks) - 1})."
            )
        out.append(blocks[index])
    return out


def _positional(reader: TableReader, step: Step, blocks: list[Block], steps: tuple[Step, ...]) -> list[Block]:
    """Record in each block which of its rows ``take``/``skip`` keeps; drop blocks left empty.

    Rows are counted by reading blocks in order, only as far as the count reaches.
    """
    wanted = step["count"]
    seen = 0
    kept: list[Block] = []
    row_changing_before = any(s.name in ROW_CHANGING and s.index < step.index for s in steps)
    for number, block in enumerate(blocks):
        if seen >= wanted:
            if step.name == "skip":
                kept.extend(blocks[number:])
            break
        if block.rows is not None and not row_changing_before:
            rows = block.rows
        else:
            rows = len(reader.read_until(block, step.index))
        if step.name == "take":
            keep = min(rows, wanted - seen)
            if keep > 0:
                kept.append(dataclasses.replace(block, slices=(*block.slices, (step.index, 0, keep))))
            seen += keep
        else:
            drop = min(rows, wanted - seen)
            seen += drop
            if rows > drop:
                kept.append(dataclasses.replace(block, slices=(*block.slices, (step.index, drop, None))))
    return kept


def _delta_uri(document: Document) -> str:
    from dask_parallel.inputs.mltable.locations import resolve

    return resolve(next(iter(document.paths[0].values())), document.folder)


def load(uri: str | os.PathLike, *, base_dir: str | None = None) -> MLTable:
    """Load the MLTable in folder ``uri``: a local path, an fsspec URL, or an ``azureml://`` datastore URI.

    Parameters
    ----------
    uri
        The folder holding the ``MLTable`` file (a path to the file itself also works).
    base_dir
        What a relative local ``uri`` resolves against; the current directory by default.

    Examples
    --------
    >>> table = load("conf/examples/tabular_scoring/iris-mltable")  # doctest: +SKIP
    >>> table.take(5).to_pandas_dataframe()  # doctest: +SKIP
    """
    text = resolve_datastore(os.fspath(uri))
    folder = normalize_path(text, base_dir or os.getcwd())
    if folder.rstrip("/").endswith("/MLTable") or folder == "MLTable":
        fs, path = filesystem(folder)
        if fs.isfile(path):
            folder = folder.rstrip("/")[: -len("MLTable")].rstrip("/") or "/"
    return MLTable(read_document(folder.rstrip("/") if folder != "/" else folder))


def _plain_dtypes(frame):
    """Whole-table loads give numpy ``int64`` / ``bool`` where a column has no missing value,
    as the official ``mltable`` package does. Mini-batches keep the nullable ``Int64`` /
    ``boolean``, so that every mini-batch of a column has the same dtype."""
    for name in frame.columns:
        dtype = str(frame[name].dtype)
        if dtype in ("Int64", "boolean") and not frame[name].isna().any():
            frame[name] = frame[name].astype("int64" if dtype == "Int64" else "bool")
    return frame
