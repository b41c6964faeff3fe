"""Turn the major input into mini-batches: list files, or cut an MLTable into blocks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

from dask_parallel.batching import (
    MiniBatch,
    block_mini_batches,
    file_mini_batch,
    file_mini_batches,
    keyed_file_mini_batches,
)
from dask_parallel.errors import InputError, MLTableError
from dask_parallel.inputs import mltable
from dask_parallel.inputs.listing import Listed, list_folder
from dask_parallel.inputs.mltable import TableReader, resolve_datastore
from dask_parallel.paths import filesystem
from dask_parallel.rundir.fingerprint import file_identity, referenced_files, version_of
from dask_parallel.rundir.plan_store import (
    ListingSummary,
    ListingWriter,
    MiniBatchWriter,
    StoredMiniBatches,
    listed_path_batches,
)
from dask_parallel.spec.job_spec import JobSpec
from dask_parallel.spec.sizes import DEFAULT_BYTES_PER_MINI_BATCH, DEFAULT_FILES_PER_MINI_BATCH


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """The mini-batches of a job and, for tabular input, how to read them."""

    kind: str  # "files" or "tabular"
    # A tuple, or the mini-batches kept in the run directory's plan/ (StoredMiniBatches).
    mini_batches: Sequence[MiniBatch]
    reader: TableReader | None
    # The count and digest of every input file's path, size and version; None when the plan
    # was made without a plan folder for an MLTable (whose files are then not looked up).
    listing: ListingSummary | None = None
    # Mini-batches sized by time (target_duration): the files, cut while the job runs;
    # ``mini_batches`` then holds only the ones an earlier run cut (resume).
    files: tuple[str, ...] = ()

    def ids(self) -> list[str]:
        """Every mini-batch id in order, without reading the stored files."""
        if isinstance(self.mini_batches, StoredMiniBatches):
            return list(self.mini_batches.ids)
        return [mb.id for mb in self.mini_batches]


def plan_input(spec: JobSpec, store: str | None = None) -> InputPlan:
    """List the major input and divide it into mini-batches (no data is read).

    With ``store`` (a run directory's plan folder) the listing is written to
    ``listing.arrow`` and mini-batches of files to ``mini_batches.arrow``, which the plan
    then reads back when iterated; without it everything stays in memory. Files are
    divided as they are listed.
    """
    where, uri = major_input(spec)
    listed = listed_files(spec, uri, where)
    if listed is None:
        return _plan_mltable(spec, uri, where, store)
    listing = ListingWriter(store)
    if getattr(spec, "target_duration", None) is not None:
        files = tuple(path for paths in record_listing(listed, listing) for path in paths)
        summary = listing.close()
        check_not_empty(spec, summary)
        return InputPlan("files", (), None, summary, files=tuple(files))
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    batches = _divided(record_listing(listed, listing), size, store)
    summary = listing.close()
    check_not_empty(spec, summary)
    return InputPlan("files", batches, None, summary)


def list_input(spec: JobSpec, store: str, *, digest_at: int | None = None) -> ListingSummary | None:
    """Only list a folder or file input divided by size, into ``store``; :func:`plan_listed` divides it.

    A resume compares the listing with the earlier run's before it spends time dividing.
    None for the inputs that :func:`plan_input` must plan in one go (MLTables, mini-batches
    sized by time). With ``digest_at`` the summary's ``prefix_digest`` covers that many files.
    """
    where, uri = major_input(spec)
    if getattr(spec, "target_duration", None) is not None:
        return None
    listed = listed_files(spec, uri, where)
    if listed is None:
        return None
    listing = ListingWriter(store, digest_at=digest_at)
    for paths, sizes, versions in listed:
        listing.add(paths, sizes, versions)
    summary = listing.close()
    check_not_empty(spec, summary)
    return summary


def plan_listed(spec: JobSpec, store: str, listing: ListingSummary) -> InputPlan:
    """The mini-batches of the listing that :func:`list_input` wrote to ``store``."""
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return InputPlan("files", _divided(listed_path_batches(store), size, store), None, listing)


def major_input(spec: JobSpec) -> tuple[str, str]:
    """Where the major input is named in messages, and its location with datastores resolved."""
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
    return where, uri


def listed_files(spec: JobSpec, uri: str, where: str) -> Iterator[Listed] | None:
    """The files of a uri_file or uri_folder input, listed as iterated; None for an MLTable."""
    source = spec.major_input
    if source.type == "uri_file":
        fs, path = filesystem(uri)
        if not fs.isfile(path):
            raise InputError(
                f"{where}: {source.uri!r} is not a file; declare the input as type='uri_folder' for a folder."
            )
        size, version = version_of(fs.info(path))
        return iter([([uri], [size], [version])])
    if source.type == "uri_folder":
        return list_folder(uri, where)
    return None


def check_not_empty(spec: JobSpec, listing: ListingSummary) -> None:
    if listing.count == 0:
        raise empty_input_error(spec)


def empty_input_error(spec: JobSpec) -> InputError:
    return InputError(
        f"inputs.{spec.major_input.name}: {spec.major_input.uri!r} holds no files, so there is "
        "nothing to process. Point the input at a folder with data."
    )


def record_listing(listed: Iterable[Listed], listing: ListingWriter) -> Iterator[list[str]]:
    """The listed paths, a chunk at a time, each chunk written to ``listing`` as it passes."""
    for paths, sizes, versions in listed:
        listing.add(paths, sizes, versions)
        yield paths


def cut_as_listed(
    chunks: Iterable[list[str]], size: int, writer: MiniBatchWriter
) -> Iterator[list[MiniBatch]]:
    """Mini-batches of ``size`` files, cut as chunks of paths arrive and written to ``writer``.

    Yields the mini-batches each chunk completed (the last chunk's remainder after it), so a
    streamed plan hands them out a chunk at a time.
    """
    size = max(1, size)
    carry: list[str] = []
    for chunk in chunks:
        carry.extend(chunk)
        whole = len(carry) - len(carry) % size
        yield [_cut(writer, carry[start : start + size]) for start in range(0, whole, size)]
        del carry[:whole]
    if carry:
        yield [_cut(writer, carry)]


def _cut(writer: MiniBatchWriter, files: list[str]) -> MiniBatch:
    mb = file_mini_batch(tuple(files), len(writer.ids))
    writer.add(mb)
    return mb


def _divided(chunks: Iterable[list[str]], size: int, store: str | None) -> Sequence[MiniBatch]:
    """Mini-batches of ``size`` files, cut as the chunks arrive; written to ``store`` when given."""
    if store is None:
        return tuple(file_mini_batches([path for chunk in chunks for path in chunk], size))
    writer = MiniBatchWriter(store)
    for _ in cut_as_listed(chunks, size, writer):
        pass
    return writer.close()


def _mltable_listing(paths: Iterable[str], store: str | None) -> ListingSummary | None:
    """An MLTable's files looked up one by one (its plan gives no sizes), when the plan is kept."""
    if store is None:
        return None
    listing = ListingWriter(store)
    for path in dict.fromkeys(paths):
        _, size, version = file_identity(path)
        listing.add([path], [size], [version])
    return listing.close()


def _plan_mltable(spec: JobSpec, uri: str, where: str, store: str | None) -> InputPlan:
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
        listing = _mltable_listing(referenced_files(batches), store)
        return InputPlan("tabular", tuple(batches), plan.reader, listing)
    files = [f for unit in plan.units for f in unit.files]
    if not files:
        raise InputError(
            f"{where}: the MLTable at {spec.major_input.uri!r} names no files, so there is nothing "
            "to process."
        )
    if keys:
        groups = [(u.files, u.partition_key_value or {}) for u in plan.units]
        keyed = tuple(keyed_file_mini_batches(groups))
        return InputPlan("files", keyed, None, _mltable_listing(referenced_files(keyed), store))
    if getattr(spec, "target_duration", None) is not None:
        listing = _mltable_listing(files, store)
        return InputPlan("files", (), None, listing, files=tuple(files))
    if getattr(spec, "mini_batch_size_in_bytes", False):
        raise InputError(
            f"{where}: mini_batch_size is a size in bytes, which applies to tabular MLTables (with "
            "a read_* transformation); this MLTable lists files, divided by file count. Give a "
            'number of files, such as "10".'
        )
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    batches = tuple(file_mini_batches(files, size))
    return InputPlan("files", batches, None, _mltable_listing(referenced_files(batches), store))
