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


def _partition_step(partition_format: str) -> dict[str, Any]:
    return {"extract_columns_from_partition_format": {"partition_format": partition_format.lstrip("/")}}


def _safe_segment(value: Any) -> str:
    text = str(value)
    for bad in '/\\:*?"<>|':
        text = text.replace(bad, "_")
    return text or "_"


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
    """Files to process, one path per item of a mini-batch.

    With ``partition_format`` (``Dataset.File.from_files(..., partition_format=...)``) the
    values it names are read from each file's path, so ``partition_keys`` can group files.
    """

    kind = "file"

    def __init__(self, paths: list[str], partition_format: str | None = None) -> None:
        super().__init__(paths)
        self.partition_format = partition_format

    def to_v2_input(self, mode: str | None) -> Input:
        v2_mode = {"mount": "ro_mount", "download": "download", "direct": None}.get(mode or "direct")
        if self.partition_format is not None:
            document = {
                "type": "mltable",
                "paths": _path_entries(self.paths),
                "transformations": [_partition_step(self.partition_format)],
            }
            return Input(type="mltable", path=_mltable_folder(document), mode="direct")
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

    def __init__(
        self,
        paths: list[str],
        separator: str,
        header: bool,
        encoding: str,
        partition_format: str | None = None,
    ) -> None:
        super().__init__(paths)
        self.separator = separator
        self.header = header
        self.encoding = encoding
        self.partition_format = partition_format

    def to_v2_input(self, mode: str | None) -> Input:
        transformations: list[dict[str, Any]] = [
            {
                "read_delimited": {
                    "delimiter": self.separator,
                    "encoding": self.encoding,
                    "header": "all_files_same_headers" if self.header else "no_header",
                }
            }
        ]
        if self.partition_format is not None:
            transformations.append(_partition_step(self.partition_format))
        document = {"type": "mltable", "paths": _path_entries(self.paths), "transformations": transformations}
        return Input(type="mltable", path=_mltable_folder(document), mode="direct")

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null"):
        """The whole dataset as one pandas DataFrame (read on this machine)."""
        from dask_parallel.inputs import mltable

        return mltable.load(self.to_v2_input(None).path).to_pandas_dataframe()

    def to_dask_dataframe(self, sample_size: int = 10000, dtypes: Any = None, on_error: str = "null"):
        """The dataset as a Dask DataFrame."""
        from dask_parallel.inputs import mltable

        return mltable.load(self.to_v2_input(None).path).to_dask_dataframe()

    def take(self, count: int):
        """The first ``count`` rows, as a pandas DataFrame (v1 returns a dataset)."""
        return self.to_pandas_dataframe().head(count)

    def partition_by(
        self,
        partition_keys: list[str],
        target: Any,
        name: str | None = None,
        show_progress: bool = True,
        partition_as_file_dataset: bool = False,
    ) -> _Dataset:
        """Write the rows into one folder per value of ``partition_keys`` under ``target`` and
        return the partitioned dataset (a :class:`TabularDataset`, or with
        ``partition_as_file_dataset=True`` a :class:`FileDataset`), ready for
        ``ParallelRunConfig(partition_keys=...)``."""
        if isinstance(partition_keys, str):
            partition_keys = [partition_keys]
        if not partition_keys or not all(isinstance(k, str) for k in partition_keys):
            raise JobValidationError(
                f"partition_by: partition_keys must be a list of column names (got {partition_keys!r})."
            )
        if isinstance(target, tuple):
            target = target[1]
        if not isinstance(target, (str, os.PathLike)):
            raise JobValidationError(
                f"partition_by: target must be a folder path or (datastore, path) (got {target!r})."
            )
        root = os.path.abspath(os.fspath(target))
        frame = self.to_pandas_dataframe()
        missing = [key for key in partition_keys if key not in frame.columns]
        if missing:
            raise JobValidationError(
                f"partition_by: columns {missing} are not in the dataset; its columns are: "
                f"{', '.join(map(str, frame.columns))}."
            )
        for values, group in frame.groupby(partition_keys, sort=True):
            values = values if isinstance(values, tuple) else (values,)
            folder = os.path.join(root, *[_safe_segment(value) for value in values])
            os.makedirs(folder, exist_ok=True)
            group.drop(columns=partition_keys).to_csv(os.path.join(folder, "part.csv"), index=False)
        layout = "/".join("{" + key + "}" for key in partition_keys) + "/part.csv"
        pattern = os.path.join(root, *(["*"] * len(partition_keys)), "part.csv")
        if partition_as_file_dataset:
            dataset: _Dataset = FileDataset([pattern], partition_format=layout)
        else:
            dataset = TabularDataset([pattern], ",", True, "utf8", partition_format=layout)
        dataset.name = name
        return dataset


class _FileFactory:
    @staticmethod
    def from_files(
        path: Any, validate: bool = True, partition_format: str | None = None, is_file: bool = False
    ):
        """A :class:`FileDataset` of files, folders or glob patterns (local or fsspec URLs)."""
        paths = _paths(path)
        if validate:
            for item in paths:
                if not is_remote(item) and not glob.has_magic(item) and not os.path.exists(item):
                    raise JobValidationError(f"Dataset.File.from_files: path {item!r} does not exist.")
        return FileDataset(paths, partition_format=partition_format)


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
        paths = _paths(path)
        if validate:
            for item in paths:
                if not is_remote(item) and not glob.has_magic(item) and not os.path.exists(item):
                    raise JobValidationError(
                        f"Dataset.Tabular.from_delimited_files: path {item!r} does not exist."
                    )
        return TabularDataset(paths, separator, bool(header), encoding, partition_format=partition_format)


class Dataset:
    """``Dataset.File.from_files(...)`` and ``Dataset.Tabular.from_delimited_files(...)``."""

    File = _FileFactory
    Tabular = _TabularFactory


class DatasetConsumptionConfig:
    """How a step consumes a dataset: its name and mode (``direct``, ``mount``, ``download``)."""

    def __init__(self, name: str | None, dataset: Any, mode: str = "direct") -> None:
        from dask_parallel.v1.parameters import PipelineParameter

        self.name = name
        self.mode = mode
        # A PipelineParameter whose default is a dataset: the step reads whichever dataset the
        # parameter has when the pipeline is submitted (pipeline_parameters={name: dataset}).
        self.parameter: PipelineParameter | None = None
        if isinstance(dataset, PipelineParameter):
            if not isinstance(dataset.default_value, _Dataset):
                raise JobValidationError(
                    f"DatasetConsumptionConfig({name!r}): PipelineParameter {dataset.name!r} must have a "
                    "dataset as default_value, e.g. PipelineParameter(name='data', "
                    f"default_value=Dataset.File.from_files(...)) (got {dataset.default_value!r})."
                )
            self.parameter = dataset
            dataset = dataset.default_value
        if not isinstance(dataset, _Dataset):
            raise JobValidationError(
                f"DatasetConsumptionConfig({name!r}): dataset must be a FileDataset, a TabularDataset or a "
                f"PipelineParameter holding one (got {type(dataset).__name__})."
            )
        self.dataset = dataset

    def _with_mode(self, mode: str) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.parameter or self.dataset, mode=mode)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self._with_mode("mount")

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self._with_mode("download")

    def as_direct(self) -> DatasetConsumptionConfig:
        return self._with_mode("direct")

    def dataset_for(self, overrides: dict[str, Any]) -> _Dataset:
        """The dataset this consumption reads when the pipeline is submitted with ``overrides``."""
        if self.parameter is None or self.parameter.name not in overrides:
            return self.dataset
        value = overrides[self.parameter.name]
        if isinstance(value, DatasetConsumptionConfig):
            value = value.dataset
        if not isinstance(value, _Dataset):
            raise JobValidationError(
                f"pipeline_parameters[{self.parameter.name!r}] must be a dataset, as the parameter's "
                f"default is (got {type(value).__name__})."
            )
        return value

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
