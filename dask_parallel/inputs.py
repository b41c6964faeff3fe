"""Turn the major input into mini-batches: list files, or cut an MLTable into blocks."""

from __future__ import annotations

import dataclasses

from . import mltable
from .batching import MiniBatch, block_mini_batches, file_mini_batches
from .errors import InputError, MLTableError
from .mltable import TableReader
from .paths import filesystem, is_remote
from .sizes import DEFAULT_BYTES_PER_MINI_BATCH, DEFAULT_FILES_PER_MINI_BATCH
from .spec import JobSpec


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """The mini-batches of a job and, for tabular input, how to read them."""

    kind: str  # "files" or "tabular"
    mini_batches: tuple[MiniBatch, ...]
    reader: TableReader | None
    fingerprint: tuple


def list_folder(uri: str, where: str) -> tuple[list[str], tuple]:
    """All files under a folder, recursively, sorted; with a (path, size) fingerprint."""
    fs, path = filesystem(uri)
    if not fs.isdir(path):
        if fs.isfile(path):
            raise InputError(
                f"{where}: {uri!r} is a file, but the input type is uri_folder; "
                "declare it as type='uri_file' or point it at a folder."
            )
        raise InputError(f"{where}: folder {uri!r} does not exist.")
    details = fs.find(path, detail=True)
    names = sorted(name for name, info in details.items() if info.get("type") != "directory")
    if is_remote(uri):
        protocol = uri.split("://", 1)[0]
        files = [f"{protocol}://{name}" for name in names]
    else:
        files = names
    fingerprint = tuple((f, details[n].get("size")) for f, n in zip(files, names))
    return files, fingerprint


def plan_input(spec: JobSpec) -> InputPlan:
    """List the major input and divide it into mini-batches (no data is read)."""
    source = spec.major_input
    where = f"inputs.{source.name}"
    if spec.partition_keys:
        raise InputError(
            f"partition_keys {list(spec.partition_keys)} need an MLTable with "
            "extract_columns_from_partition_format, which this version cannot read yet; "
            "remove partition_keys to divide by mini_batch_size."
        )
    if source.type == "uri_file":
        fs, path = filesystem(source.uri)
        if not fs.isfile(path):
            raise InputError(
                f"{where}: {source.uri!r} is not a file; declare the input as type='uri_folder' for a folder."
            )
        files = [source.uri]
        fingerprint = ((source.uri, fs.size(path)),)
    elif source.type == "uri_folder":
        files, fingerprint = list_folder(source.uri, where)
    else:
        try:
            table = mltable.load(source.uri)
            files = table.files()
        except MLTableError as exc:
            raise MLTableError(f"{where}: {exc}") from None
        fingerprint = tuple((f, None) for f in files)
        if table.is_tabular:
            try:
                reader = table.reader(files)
                size = spec.mini_batch_size or DEFAULT_BYTES_PER_MINI_BATCH
                blocks = table.blocks(files, reader, size)
            except MLTableError as exc:
                raise MLTableError(f"{where}: {exc}") from None
            fingerprint = tuple((b.path, b.start, b.end, b.row_groups) for b in blocks)
            if not blocks:
                raise InputError(f"{where}: the MLTable at {source.uri!r} holds no rows to process.")
            return InputPlan("tabular", tuple(block_mini_batches(blocks)), reader, fingerprint)
    if not files:
        raise InputError(
            f"{where}: {source.uri!r} holds no files, so there is nothing to process. "
            "Point the input at a folder with data."
        )
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return InputPlan("files", tuple(file_mini_batches(files, size)), None, fingerprint)
