"""Load MLTable folders: the paths they name and, for tabular ones, how to read them.

Only descriptors are made here on the client (file lists, byte ranges, row groups);
:meth:`TableReader.read` turns one descriptor into a pandas DataFrame on a worker.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import itertools
import os
from collections.abc import Sequence
from typing import Any

import yaml

from .errors import MLTableError
from .paths import filesystem, is_remote, normalize_path
from .sizes import parse_byte_size

TOP_LEVEL_KEYS = ("$schema", "type", "paths", "transformations", "metadata", "traits", "query_source")
READ_TRANSFORMATIONS = ("read_delimited", "read_parquet", "read_json_lines", "read_delta_lake", "read_files")
SUPPORTED_TRANSFORMATIONS = ("read_delimited", "read_parquet")
HEADER_MODES = ("no_header", "from_first_file", "all_files_different_headers", "all_files_same_headers")
ENCODINGS = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf8 bom": "utf-8-sig",
    "utf8bom": "utf-8-sig",
    "iso88591": "latin-1",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "ascii": "ascii",
    "utf16": "utf-16",
    "utf-16": "utf-16",
    "utf32": "utf-32",
    "windows1252": "cp1252",
    "windows-1252": "cp1252",
}
DELIMITED_OPTIONS = {
    "delimiter": ",",
    "header": "all_files_same_headers",
    "encoding": "utf8",
    "empty_as_string": False,
    "include_path_column": False,
    "path_column": "Path",
    "support_multi_line": False,
    "infer_column_types": True,
    "partition_size": None,
}
PARQUET_OPTIONS = {"include_path_column": False, "path_column": "Path"}
INFERENCE_SAMPLE_BYTES = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Block:
    """One piece of one file: a byte range (delimited text) or a run of row groups (parquet)."""

    path: str
    start: int = 0
    end: int | None = None
    row_groups: tuple[int, ...] | None = None
    rows: int | None = None
    column_names: tuple[str, ...] | None = None
    skip_header: bool = False


@dataclasses.dataclass(frozen=True)
class TableReader:
    """How every block of one tabular MLTable is read, identical for all mini-batches."""

    format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    header: str = "all_files_same_headers"
    empty_as_string: bool = False
    include_path_column: bool = False
    path_column: str = "Path"
    support_multi_line: bool = False
    column_types: tuple[tuple[str, str], ...] | None = None

    @property
    def splittable(self) -> bool:
        # Multi-byte encodings and quoted line breaks make byte offsets unsafe to cut at.
        return not self.support_multi_line and self.encoding in (
            "utf-8",
            "utf-8-sig",
            "ascii",
            "latin-1",
            "cp1252",
        )

    def read(self, block: Block):
        """Read one block into a pandas DataFrame (runs on a worker)."""
        if self.format == "parquet":
            frame = self._read_parquet(block)
        else:
            frame = self._read_delimited(block)
        if self.include_path_column:
            frame[self.path_column] = block.path
        return frame

    def _read_parquet(self, block: Block):
        import pyarrow.parquet as pq

        fs, path = filesystem(block.path)
        with fs.open(path, "rb") as handle:
            parquet = pq.ParquetFile(handle)
            if block.row_groups is None:
                table = parquet.read()
            else:
                table = parquet.read_row_groups(list(block.row_groups))
        return table.to_pandas()

    def _read_delimited(self, block: Block):
        import pyarrow as pa
        from pyarrow import csv

        fs, path = filesystem(block.path)
        with fs.open(path, "rb") as handle:
            handle.seek(block.start)
            data = handle.read() if block.end is None else handle.read(block.end - block.start)
        names = list(block.column_names or ())
        types = {}
        if self.column_types:
            types = {name: pa.type_for_alias(kind) for name, kind in self.column_types if name in names}
        try:
            table = csv.read_csv(
                io.BytesIO(data),
                read_options=csv.ReadOptions(
                    column_names=names,
                    skip_rows=1 if block.skip_header else 0,
                    encoding=self.encoding,
                    block_size=max(1 << 20, len(data) + 1),
                ),
                parse_options=csv.ParseOptions(
                    delimiter=self.delimiter, newlines_in_values=self.support_multi_line
                ),
                convert_options=csv.ConvertOptions(
                    column_types=types,
                    strings_can_be_null=not self.empty_as_string,
                    quoted_strings_can_be_null=not self.empty_as_string,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise MLTableError(
                f"cannot parse {block.path} (bytes {block.start}-{block.end or 'end'}): {exc}. "
                "The column types were inferred from the start of the first file; fix the row, "
                "or read the column as a string."
            ) from None
        return table.to_pandas()


@dataclasses.dataclass(frozen=True)
class MLTable:
    """A loaded MLTable file: its resolved paths and its read transformation, if any."""

    uri: str
    paths: tuple[dict[str, str], ...]
    transformations: tuple[Any, ...]
    metadata: dict[str, Any] | None = None

    @property
    def read_transformation(self) -> tuple[str, dict[str, Any]] | None:
        for step in self.transformations:
            name, args = _split_step(step, self.uri)
            if name in READ_TRANSFORMATIONS:
                return name, args
        return None

    @property
    def is_tabular(self) -> bool:
        return self.read_transformation is not None

    def files(self) -> list[str]:
        """Every file the ``paths`` section names, resolved, in a stable order."""
        found: list[str] = []
        for entry in self.paths:
            kind, value = next(iter(entry.items()))
            target = normalize_path(value, self.uri)
            fs, path = filesystem(target)
            if kind == "file":
                if not fs.isfile(path):
                    raise MLTableError(f"{self._where}: paths: file {value!r} does not exist ({target}).")
                found.append(target)
            elif kind == "folder":
                if not fs.isdir(path):
                    raise MLTableError(f"{self._where}: paths: folder {value!r} does not exist ({target}).")
                found.extend(_as_uri(target, p) for p in sorted(fs.find(path)))
            else:
                matches = sorted(p for p in fs.glob(path) if fs.isfile(p))
                if not matches:
                    raise MLTableError(f"{self._where}: paths: pattern {value!r} matches no file ({target}).")
                found.extend(_as_uri(target, p) for p in matches)
        return found

    @property
    def _where(self) -> str:
        return _mltable_file(self.uri)

    def reader(self, files: Sequence[str]) -> TableReader:
        """The :class:`TableReader` for this MLTable, with column types inferred once."""
        step = self.read_transformation
        if step is None:
            raise MLTableError(f"{self._where} has no read transformation; it is a list of files.")
        name, args = step
        if name not in SUPPORTED_TRANSFORMATIONS:
            raise MLTableError(
                f"{self._where}: transformation {name!r} is not supported yet; supported read "
                f"transformations are {', '.join(SUPPORTED_TRANSFORMATIONS)}."
            )
        for other in self.transformations:
            other_name, _ = _split_step(other, self.uri)
            if other_name not in SUPPORTED_TRANSFORMATIONS:
                raise MLTableError(
                    f"{self._where}: transformation {other_name!r} is not supported yet; supported "
                    f"transformations are {', '.join(SUPPORTED_TRANSFORMATIONS)}."
                )
        if name == "read_parquet":
            options = _options(self._where, name, args, PARQUET_OPTIONS)
            return TableReader(
                format="parquet",
                include_path_column=bool(options["include_path_column"]),
                path_column=str(options["path_column"]),
            )
        options = _options(self._where, name, args, DELIMITED_OPTIONS)
        if options["header"] not in HEADER_MODES:
            raise MLTableError(
                f"{self._where}: read_delimited.header: Given invalid header {options['header']!r}, "
                "supported headers are: 'no_header', 'from_first_file', "
                "'all_files_different_headers', and 'all_files_same_headers'."
            )
        encoding = ENCODINGS.get(str(options["encoding"]).lower())
        if encoding is None:
            raise MLTableError(
                f"{self._where}: read_delimited.encoding {options['encoding']!r} is not supported; "
                f"use one of {', '.join(ENCODINGS)}."
            )
        delimiter = str(options["delimiter"])
        if len(delimiter) != 1:
            raise MLTableError(
                f"{self._where}: read_delimited.delimiter must be one character (got {delimiter!r})."
            )
        reader = TableReader(
            format="delimited",
            delimiter=delimiter,
            encoding=encoding,
            header=options["header"],
            empty_as_string=bool(options["empty_as_string"]),
            include_path_column=bool(options["include_path_column"]),
            path_column=str(options["path_column"]),
            support_multi_line=bool(options["support_multi_line"]),
        )
        if options["infer_column_types"] is False:
            names = _header_names(reader, files[0]) if files else ()
            return dataclasses.replace(reader, column_types=tuple((n, "string") for n in names))
        return dataclasses.replace(reader, column_types=_infer_types(reader, files[0]) if files else None)

    def blocks(self, files: Sequence[str], reader: TableReader, size: int) -> list[Block]:
        """Cut every file into blocks of about ``size`` bytes that never cross files."""
        if reader.format == "parquet":
            return [b for path in files for b in _parquet_blocks(path, size)]
        names = _header_names(reader, files[0])
        blocks: list[Block] = []
        for number, path in enumerate(files):
            own_names = names
            has_header = reader.header != "no_header" and (reader.header != "from_first_file" or number == 0)
            if reader.header == "all_files_different_headers":
                own_names = _header_names(reader, path)
            blocks.extend(_delimited_blocks(path, size, reader, own_names, has_header))
        return blocks

    def to_pandas_dataframe(self):
        import pandas as pd

        files = self.files()
        reader = self.reader(files)
        frames = [reader.read(b) for b in self.blocks(files, reader, 1 << 62)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_dask_dataframe(self, partition_size: int | str = "1mb"):
        """A Dask DataFrame with one partition per mini-batch of ``partition_size`` bytes."""
        import dask.dataframe as dd

        files = self.files()
        reader = self.reader(files)
        blocks = self.blocks(files, reader, parse_byte_size(partition_size, "partition_size"))
        return dd.from_map(reader.read, blocks)


def _mltable_file(uri: str) -> str:
    return uri.rstrip("/") + "/MLTable"


def _as_uri(target: str, found: str) -> str:
    if is_remote(target):
        return target.split("://", 1)[0] + "://" + found
    return found


def _split_step(step: Any, uri: str) -> tuple[str, dict[str, Any]]:
    if isinstance(step, str):
        return step, {}
    if isinstance(step, dict) and len(step) == 1:
        name, args = next(iter(step.items()))
        if args is None:
            args = {}
        return str(name), args
    raise MLTableError(
        f"{_mltable_file(uri)}: transformations: each step must be a name or a one-key mapping "
        f"such as {{read_delimited: {{delimiter: ','}}}} (got {step!r})."
    )


def _options(where: str, name: str, args: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise MLTableError(f"{where}: {name} takes a mapping of options (got {args!r}).")
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise MLTableError(
            f"{where}: {name}: unknown option {unknown[0]!r}; allowed options are "
            f"{', '.join(sorted(defaults))}."
        )
    return {**defaults, **args}


def _header_names(reader: TableReader, path: str) -> tuple[str, ...]:
    fs, fpath = filesystem(path)
    with fs.open(fpath, "rb") as handle:
        first = handle.readline() if reader.encoding not in ("utf-16", "utf-32") else handle.read(65536)
    text = codecs.decode(first, reader.encoding, errors="replace").splitlines()
    line = text[0] if text else ""
    import csv as std_csv

    values = next(std_csv.reader([line], delimiter=reader.delimiter), [])
    if reader.header == "no_header":
        return tuple(f"Column{i + 1}" for i in range(len(values)))
    return tuple(v.strip() for v in values)


def _infer_types(reader: TableReader, path: str) -> tuple[tuple[str, str], ...]:
    """Column types from the start of the first file, applied to every block alike."""
    import pyarrow as pa

    names = _header_names(reader, path)
    has_header = reader.header != "no_header"
    sample = Block(path=path, column_names=names, skip_header=has_header)
    if reader.splittable:
        cut = _delimited_blocks(path, INFERENCE_SAMPLE_BYTES, reader, names, has_header)
        sample = cut[0] if cut else sample
    untyped = dataclasses.replace(reader, include_path_column=False, column_types=None)
    table = pa.Table.from_pandas(untyped.read(sample), preserve_index=False)
    return tuple((field.name, _alias(field.type)) for field in table.schema)


def _alias(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "int64"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp[ns]"
    if pa.types.is_date(arrow_type):
        return "date32"
    return "string"


def _delimited_blocks(
    path: str, size: int, reader: TableReader, names: tuple[str, ...], has_header: bool
) -> list[Block]:
    fs, fpath = filesystem(path)
    total = fs.size(fpath)
    bounds = [0]
    if reader.splittable and total > size:
        with fs.open(fpath, "rb") as handle:
            target = size
            while target < total:
                handle.seek(target - 1)
                handle.readline()  # move to the start of the next line
                position = handle.tell()
                if position >= total:
                    break
                if position > bounds[-1]:
                    bounds.append(position)
                target = max(position, bounds[-1]) + size
    bounds.append(total)
    return [
        Block(
            path=path,
            start=start,
            end=end,
            column_names=names,
            skip_header=has_header and start == 0,
        )
        for start, end in itertools.pairwise(bounds)
        if end > start
    ]


def _parquet_blocks(path: str, size: int) -> list[Block]:
    import pyarrow.parquet as pq

    fs, fpath = filesystem(path)
    with fs.open(fpath, "rb") as handle:
        metadata = pq.ParquetFile(handle).metadata
    blocks: list[Block] = []
    group: list[int] = []
    group_bytes = group_rows = 0
    for index in range(metadata.num_row_groups):
        row_group = metadata.row_group(index)
        group.append(index)
        group_bytes += sum(row_group.column(c).total_compressed_size for c in range(row_group.num_columns))
        group_rows += row_group.num_rows
        if group_bytes >= size:
            blocks.append(Block(path=path, row_groups=tuple(group), rows=group_rows))
            group, group_bytes, group_rows = [], 0, 0
    if group:
        blocks.append(Block(path=path, row_groups=tuple(group), rows=group_rows))
    return [b for b in blocks if b.rows]


def load(uri: str, *, base_dir: str | None = None) -> MLTable:
    """Load the ``MLTable`` file in folder ``uri`` (local path or fsspec URL)."""
    folder = normalize_path(uri, base_dir or os.getcwd())
    if folder.rstrip("/").endswith("/MLTable") or os.path.basename(folder) == "MLTable":
        folder = folder.rstrip("/")[: -len("MLTable")].rstrip("/") or "/"
    where = _mltable_file(folder)
    fs, path = filesystem(where)
    if not fs.exists(path):
        raise MLTableError(
            f"{where} does not exist: an mltable input must be a folder holding a file named MLTable."
        )
    try:
        with fs.open(path, "rb") as handle:
            document = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise MLTableError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise MLTableError(
            f"{where} must be a YAML mapping with a 'paths' list (got {type(document).__name__})."
        )
    unknown = sorted(set(document) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise MLTableError(
            f"Given MLTable does not adhere to the AzureML MLTable schema: {where}: unknown key "
            f"{unknown[0]!r}; allowed keys are {', '.join(TOP_LEVEL_KEYS)}."
        )
    if "query_source" in document:
        raise MLTableError(f"{where}: query_source (SQL-backed MLTables) cannot be read outside Azure.")
    paths = document.get("paths")
    if not isinstance(paths, list) or not paths:
        raise MLTableError(f"{where}: 'paths' must be a non-empty list of file, folder or pattern entries.")
    for entry in paths:
        if not (
            isinstance(entry, dict) and len(entry) == 1 and next(iter(entry)) in ("file", "folder", "pattern")
        ):
            raise MLTableError(
                f"{where}: each paths entry must be exactly one of {{file: ...}}, {{folder: ...}} "
                f"or {{pattern: ...}} (got {entry!r})."
            )
    transformations = document.get("transformations") or []
    if not isinstance(transformations, list):
        raise MLTableError(f"{where}: 'transformations' must be a list (got {transformations!r}).")
    for step in transformations:
        _split_step(step, folder)
    return MLTable(
        uri=folder,
        paths=tuple(paths),
        transformations=tuple(transformations),
        metadata=document.get("metadata"),
    )
