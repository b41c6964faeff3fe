"""v1 data objects: ``Dataset.File`` / ``Dataset.Tabular``, consumption configs, step outputs.

They translate to v2 inputs: a single folder becomes ``uri_folder``, a single file
``uri_file``; several paths or a glob become an MLTable listing the files; a tabular
dataset becomes an MLTable with ``read_delimited`` (written once, in a folder named by
the content of its definition, under ``<run-root>/.v1-datasets``).
"""

from __future__ import annotations

import glob
import hashlib
import os
from typing import Any

import yaml

from dask_parallel import config
from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.paths import is_remote
from dask_parallel.rundir.atomic import atomic_open


def _paths(path: Any) -> list[str]:
    items = path if isinstance(path, list) else [path]
    found = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:  # (datastore, "relative/path")
            item = item[1]
        if not isinstance(item, (str, os.PathLike)):
            raise JobValidationError(
                f"Dataset path must be a string, a path or a list of them (got {item!r})."
            )
        text = os.fspath(item)
        found.append(text if is_remote(text) else os.path.abspath(os.path.expanduser(text)))
    if not found:
        raise JobValidationError("Dataset path is empty; give at least one file, folder or glob pattern.")
    return found


def _mltable_folder(document: dict[str, Any]) -> str:
    text = yaml.safe_dump(document, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    root = os.path.abspath(config.get("run-root", "dask-parallel-runs"))
    folder = os.path.join(root, ".v1-datasets", digest)
    target = os.path.join(folder, "MLTable")
    if not os.path.isfile(target):
        with atomic_open(target) as handle:
            handle.write(text)
    return folder


def _path_entries(paths: list[str]) -> list[dict[str, str]]:
    entries = []
    for path in paths:
        if glob.has_magic(path):
            entries.append({"pattern": path})
        elif not is_remote(path) and os.path.isdir(path):
            entries.append({"folder": path})
        else:
            entries.append({"file": path})
    return entries


class _Dataset:
    kind = "file"

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.name: str | None = None

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """Name the dataset for the step; its default consumption mode is ``direct``."""
        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(None, self, mode="mount")

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(None, self, mode="download")

    def register(self, workspace: Any = None, name: str | None = None, **kwargs: Any) -> _Dataset:
        """Accepted for compatibility: keeps the name, registers nothing."""
        self.name = name
        return self


class FileDataset(_Dataset):
    """Files to process, one path per item of a mini-batch."""

    kind = "file"

    def to_v2_input(self, mode: str | None) -> Input:
        v2_mode = {"mount": "ro_mount", "download": "download", "direct": None}.get(mode or "direct")
        if len(self.paths) == 1 and not glob.has_magic(self.paths[0]):
            path = self.paths[0]
            is_file = not is_remote(path) and os.path.isfile(path)
            return Input(type="uri_file" if is_file else "uri_folder", path=path, mode=v2_mode)
        folder = _mltable_folder({"type": "mltable", "paths": _path_entries(self.paths)})
        return Input(
            type="mltable", path=folder, mode="eval_mount" if v2_mode != "download" else "eval_download"
        )


class TabularDataset(_Dataset):
    """Delimited files read as one table, cut into mini-batches by size."""

    kind = "tabular"

    def __init__(self, paths: list[str], separator: str, header: bool, encoding: str) -> None:
        super().__init__(paths)
        self.separator = separator
        self.header = header
        self.encoding = encoding

    def to_v2_input(self, mode: str | None) -> Input:
        document = {
            "type": "mltable",
            "paths": _path_entries(self.paths),
            "transformations": [
                {
                    "read_delimited": {
                        "delimiter": self.separator,
                        "encoding": self.encoding,
                        "header": "all_files_same_headers" if self.header else "no_header",
                    }
                }
            ],
        }
        return Input(type="mltable", path=_mltable_folder(document), mode="direct")


class _FileFactory:
    @staticmethod
    def from_files(
        path: Any, validate: bool = True, partition_format: str | None = None, is_file: bool = False
    ):
        """A :class:`FileDataset` of files, folders or glob patterns (local or fsspec URLs)."""
        if partition_format is not None:
            raise JobValidationError(
                "Dataset.File.from_files: partition_format is not supported by dask_parallel.v1; use a v2 "
                "MLTable with extract_columns_from_partition_format for partitioned data."
            )
        paths = _paths(path)
        if validate:
            for item in paths:
                if not is_remote(item) and not glob.has_magic(item) and not os.path.exists(item):
                    raise JobValidationError(f"Dataset.File.from_files: path {item!r} does not exist.")
        return FileDataset(paths)


class _TabularFactory:
    @staticmethod
    def from_delimited_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        infer_column_types: bool = True,
        set_column_types: Any = None,
        separator: str = ",",
        header: bool = True,
        partition_format: str | None = None,
        support_multi_line: bool = False,
        empty_as_string: bool = False,
        encoding: str = "utf8",
    ) -> TabularDataset:
        """A :class:`TabularDataset` of delimited files (``separator``, ``header``, ``encoding``)."""
        if partition_format is not None:
            raise JobValidationError(
                "Dataset.Tabular.from_delimited_files: partition_format is not supported by dask_parallel.v1."
            )
        paths = _paths(path)
        if validate:
            for item in paths:
                if not is_remote(item) and not glob.has_magic(item) and not os.path.exists(item):
                    raise JobValidationError(
                        f"Dataset.Tabular.from_delimited_files: path {item!r} does not exist."
                    )
        return TabularDataset(paths, separator, bool(header), encoding)


class Dataset:
    """``Dataset.File.from_files(...)`` and ``Dataset.Tabular.from_delimited_files(...)``."""

    File = _FileFactory
    Tabular = _TabularFactory


class DatasetConsumptionConfig:
    """How a step consumes a dataset: its name and mode (``direct``, ``mount``, ``download``)."""

    def __init__(self, name: str | None, dataset: _Dataset, mode: str = "direct") -> None:
        self.name = name
        self.dataset = dataset
        self.mode = mode

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.dataset, mode="mount")

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.dataset, mode="download")

    def as_direct(self) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.dataset, mode="direct")

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, mode={self.mode!r})"


class OutputFileDatasetConfig:
    """A step output folder; ``destination=(datastore, path)`` or a path places it."""

    def __init__(
        self, name: str | None = None, destination: Any = None, source: str | None = None, **kwargs: Any
    ) -> None:
        self.name = name
        if isinstance(destination, tuple):
            destination = destination[1]
        self.destination = os.fspath(destination) if destination is not None else None
        self.mode = "mount"

    def as_mount(self) -> OutputFileDatasetConfig:
        self.mode = "mount"
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> OutputFileDatasetConfig:
        self.mode = "upload"
        return self

    def as_input(self, name: str | None = None) -> OutputFileDatasetConfig:
        return self

    def read_delimited_files(self, **kwargs: Any) -> OutputFileDatasetConfig:
        return self

    def to_v2_output(self) -> Output:
        path = self.destination
        if path is not None and not is_remote(path):
            path = os.path.abspath(path)
        return Output(type="uri_folder", path=path, mode="upload" if self.mode == "upload" else "rw_mount")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class PipelineData(OutputFileDatasetConfig):
    """An intermediate step output (``azureml.pipeline.core.PipelineData``)."""

    def __init__(
        self, name: str, datastore: Any = None, output_name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=output_name or name)

    def as_dataset(self) -> PipelineData:
        return self
