"""Turn the major input into mini-batches: list files, or cut an MLTable into blocks."""

from __future__ import annotations

import dataclasses

from dask_parallel.batching import MiniBatch, block_mini_batches, file_mini_batches, keyed_file_mini_batches
from dask_parallel.errors import InputError, MLTableError
from dask_parallel.inputs import mltable
from dask_parallel.inputs.mltable import TableReader, resolve_datastore
from dask_parallel.paths import filesystem, is_remote
from dask_parallel.rundir.fingerprint import version_of
from dask_parallel.spec.job_spec import JobSpec
from dask_parallel.spec.sizes import DEFAULT_BYTES_PER_MINI_BATCH, DEFAULT_FILES_PER_MINI_BATCH


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """The mini-batches of a job and, for tabular input, how to read them."""

    kind: str  # "files" or "tabular"
    mini_batches: tuple[MiniBatch, ...]
    reader: TableReader | None
    # Each input file's [size, version] when the listing already told it (folders and single
    # files); None for MLTables, whose files are then looked up one by one.
    file_versions: dict[str, list] | None = None
    # Mini-batches sized by time (target_duration): the files, cut while the job runs;
    # ``mini_batches`` then holds only the ones an earlier run cut (resume).
    files: tuple[str, ...] = ()


def list_folder(uri: str, where: str) -> tuple[list[str], dict[str, list]]:
    """All files under a folder, recursively, sorted; with each file's [size, version]."""
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
    return files, {f: version_of(details[n]) for f, n in zip(files, names)}


def plan_input(spec: JobSpec) -> InputPlan:
    """List the major input and divide it into mini-batches (no data is read)."""
    source = spec.major_input
    where = f"inputs.{source.name}"
    try:
        uri = resolve_datastore(source.uri)
    except MLTableError as exc:
        raise InputError(f"{where}: {exc}") from None
    if spec.partition_keys and source.type != "mltable":
        raise InputError(
            f"{where}: partition_keys {list(spec.partition_keys)} need an MLTable input whose "
            "transformations include extract_columns_from_partition_format (got a "
            f"{source.type} input); declare the input as Input(type='mltable', path=...)."
        )
    if source.type == "uri_file":
        fs, path = filesystem(uri)
        if not fs.isfile(path):
            raise InputError(
                f"{where}: {source.uri!r} is not a file; declare the input as type='uri_folder' for a folder."
            )
        files = [uri]
        versions = {uri: version_of(fs.info(path))}
    elif source.type == "uri_folder":
        files, versions = list_folder(uri, where)
    else:
        return _plan_mltable(spec, uri, where)
    if not files:
        raise InputError(
            f"{where}: {source.uri!r} holds no files, so there is nothing to process. "
            "Point the input at a folder with data."
        )
    if getattr(spec, "target_duration", None) is not None:
        return InputPlan("files", (), None, versions, files=tuple(files))
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return InputPlan("files", tuple(file_mini_batches(files, size)), None, versions)


def _plan_mltable(spec: JobSpec, uri: str, where: str) -> InputPlan:
    """An MLTable input: DataFrame blocks (tabular) or files, by size or by partition keys."""
    keys = list(spec.partition_keys) if spec.partition_keys else None
    try:
        table = mltable.load(uri)
        size = spec.mini_batch_size or DEFAULT_BYTES_PER_MINI_BATCH
        plan = table.plan(size, keys)
    except MLTableError as exc:
        raise MLTableError(f"{where}: {exc}") from None
    if getattr(spec, "target_duration", None) is not None and (plan.kind == "tabular" or keys):
        raise InputError(
            f"{where}: mini_batch_size: auto (target_duration) sizes mini-batches of files; this "
            "MLTable is divided into "
            + ("table blocks" if plan.kind == "tabular" else "partitions by partition_keys")
            + ". Set mini_batch_size to a size instead."
        )
    if plan.kind == "tabular":
        if not plan.units:
            raise InputError(f"{where}: the MLTable at {spec.major_input.uri!r} holds no rows to process.")
        batches = block_mini_batches(
            [u.block for u in plan.units], [u.partition_key_value for u in plan.units]
        )
        return InputPlan("tabular", tuple(batches), plan.reader)
    files = [f for unit in plan.units for f in unit.files]
    if not files:
        raise InputError(
            f"{where}: the MLTable at {spec.major_input.uri!r} names no files, so there is nothing "
            "to process."
        )
    if keys:
        groups = [(u.files, u.partition_key_value or {}) for u in plan.units]
        return InputPlan("files", tuple(keyed_file_mini_batches(groups)), None)
    if getattr(spec, "target_duration", None) is not None:
        return InputPlan("files", (), None, files=tuple(files))
    if getattr(spec, "mini_batch_size_in_bytes", False):
        raise InputError(
            f"{where}: mini_batch_size is a size in bytes, which applies to tabular MLTables (with "
            "a read_* transformation); this MLTable lists files, divided by file count. Give a "
            'number of files, such as "10".'
        )
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return InputPlan("files", tuple(file_mini_batches(files, size)), None)
