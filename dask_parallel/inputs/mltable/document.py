"""Read an ``MLTable`` file and check it against the MLTable schema, key by key."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.mltable.steps import Step, parse_steps
from dask_parallel.paths import filesystem

TOP_LEVEL_KEYS = ("$schema", "type", "paths", "transformations", "metadata", "traits", "query_source")
PATH_KINDS = ("file", "folder", "pattern")
SCHEMA_ERROR = "Given MLTable does not adhere to the AzureML MLTable schema"


@dataclasses.dataclass(frozen=True)
class Document:
    """The validated content of one MLTable file."""

    where: str
    folder: str
    paths: tuple[dict[str, str], ...]
    steps: tuple[Step, ...]
    metadata: dict[str, Any]
    traits: dict[str, Any]


def _schema_error(where: str, detail: str) -> MLTableError:
    return MLTableError(f"{SCHEMA_ERROR}: {where}: {detail}")


def read_document(folder: str) -> Document:
    """Load and validate ``<folder>/MLTable``."""
    where = folder.rstrip("/") + "/MLTable"
    fs, path = filesystem(where)
    try:
        if not fs.isfile(path):
            raise MLTableError(
                f"{where} does not exist: an mltable input must be a folder holding a file named "
                "MLTable (no extension). The uri should be a valid data asset or path to a local or "
                "cloud directory which contains an MLTable file."
            )
        with fs.open(path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise MLTableError(f"cannot read {where}: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise MLTableError(f"{where}{line} is not valid YAML: {exc}") from None
    return parse_document(where, folder, document)


def parse_document(where: str, folder: str, document: Any) -> Document:
    if not isinstance(document, dict):
        raise _schema_error(
            where, f"the file must be a mapping with a 'paths' list (got {type(document).__name__})."
        )
    unknown = sorted((k for k in document if k not in TOP_LEVEL_KEYS), key=str)
    if unknown:
        raise _schema_error(
            where, f"unknown key {unknown[0]!r}; allowed keys are {', '.join(TOP_LEVEL_KEYS)}."
        )
    if document.get("type", "mltable") != "mltable":
        raise _schema_error(where, f"type must be 'mltable' (got {document['type']!r}).")
    if "$schema" in document and not isinstance(document["$schema"], str):
        raise _schema_error(where, f"$schema must be a string (got {document['$schema']!r}).")
    if "query_source" in document:
        raise MLTableError(
            f"{where}: query_source (SQL-backed MLTables) is read by Azure's database handlers and "
            "cannot be read by dask_parallel; export the query result to parquet and use paths."
        )
    paths = document.get("paths")
    if not isinstance(paths, list) or not paths:
        raise _schema_error(
            where, "'paths' is required: a non-empty list of {file: ...}, {folder: ...} or {pattern: ...}."
        )
    for number, entry in enumerate(paths):
        if not (isinstance(entry, dict) and len(entry) == 1 and next(iter(entry)) in PATH_KINDS):
            raise _schema_error(
                where,
                f"paths[{number}] must be exactly one of {{file: ...}}, {{folder: ...}} or "
                f"{{pattern: ...}} (got {entry!r}).",
            )
        value = next(iter(entry.values()))
        if not isinstance(value, str) or not value:
            raise _schema_error(
                where, f"paths[{number}]: the path must be a non-empty string (got {value!r})."
            )
    metadata = document.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _schema_error(where, f"metadata must be a mapping (got {metadata!r}).")
    traits = document.get("traits") or {}
    _check_traits(where, traits)
    steps = parse_steps(where, document.get("transformations"))
    return Document(
        where=where,
        folder=folder,
        paths=tuple(dict(p) for p in paths),
        steps=steps,
        metadata=dict(metadata),
        traits=dict(traits),
    )


def _check_traits(where: str, traits: Any) -> None:
    if not isinstance(traits, dict):
        raise _schema_error(where, f"traits must be a mapping (got {traits!r}).")
    unknown = sorted(set(traits) - {"timestamp_column", "index_columns"})
    if unknown:
        raise _schema_error(
            where, f"traits: unknown key {unknown[0]!r}; allowed keys are index_columns, timestamp_column."
        )
    stamp = traits.get("timestamp_column")
    if stamp is not None and not isinstance(stamp, str):
        raise _schema_error(where, f"traits.timestamp_column must be a column name (got {stamp!r}).")
    index = traits.get("index_columns")
    if index is not None and not (isinstance(index, list) and all(isinstance(c, str) for c in index)):
        raise _schema_error(where, f"traits.index_columns must be a list of column names (got {index!r}).")
