"""The plan of a run kept on disk: its input listing and its mini-batches of files, as Arrow IPC files.

A million-file input would otherwise sit in the driver's memory (and in job.json) as a
million Python strings. ``plan/listing.arrow`` holds each input file's path, size and
version, the file a resume compares against; ``plan/mini_batches.arrow`` holds each
mini-batch's index, id and files, read back a window at a time while the job runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from dask_parallel.batching import MiniBatch
from dask_parallel.errors import InputError

LISTING_FILE = "listing.arrow"
PROGRESS_FILE = "listing.progress"
MINI_BATCHES_FILE = "mini_batches.arrow"
ROWS_PER_BATCH = 65536
LISTING_SCHEMA = pa.schema([("path", pa.string()), ("size", pa.int64()), ("version", pa.string())])
MINI_BATCH_SCHEMA = pa.schema([("index", pa.int64()), ("id", pa.string()), ("files", pa.list_(pa.string()))])


@dataclasses.dataclass(frozen=True)
class ListingSummary:
    """What identifies a listing: how many files, and a sha256 over every path, size and version."""

    count: int
    digest: str
    # The digest of the first files only, when the writer was asked for it (``digest_at``);
    # None when the listing was shorter.
    prefix_digest: str | None = None


class ListingWriter:
    """Streams listed files into ``listing.arrow`` (or, without a folder, only into the digest).

    The digest covers the paths, the sizes and the versions, each as one stream separated by
    NUL characters, so it does not depend on how the files were chunked.

    With ``checkpoints``, each record batch written is followed by a line in
    ``listing.progress``: how many files are listed so far and the digest of those. A run
    stopped while its input was still being listed (planning that streams) is resumed by
    checking that prefix, as ``listing.arrow`` is only readable once closed. ``digest_at``
    asks for the digest of the first that many files (:attr:`digest_at_row` after them).
    """

    def __init__(
        self, folder: str | None, *, checkpoints: bool = False, digest_at: int | None = None
    ) -> None:
        self._hashers = (hashlib.sha256(), hashlib.sha256(), hashlib.sha256())
        self._count = 0
        self._rows: tuple[list, list, list] = ([], [], [])
        self._writer = None
        self._progress = None
        self._digest_at = digest_at
        self.digest_at_row: str | None = _empty_digest() if digest_at == 0 else None
        if folder is not None:
            os.makedirs(folder, exist_ok=True)
            self._writer = ipc.new_file(os.path.join(folder, LISTING_FILE), LISTING_SCHEMA)
            if checkpoints:
                self._progress = open(os.path.join(folder, PROGRESS_FILE), "w", encoding="utf-8")  # noqa: SIM115

    @property
    def count(self) -> int:
        """How many files were added so far."""
        return self._count

    def add(self, paths: list[str], sizes: list[int | None], versions: list[str | None]) -> None:
        """Files in listing order: their paths, sizes and versions."""
        if not paths:
            return
        at = self._digest_at
        if at is not None and self._count < at < self._count + len(paths):
            cut = at - self._count  # the asked-for digest falls inside this chunk
            self.add(paths[:cut], sizes[:cut], versions[:cut])
            self.add(paths[cut:], sizes[cut:], versions[cut:])
            return
        joined = "\0".join(paths) + "\0"
        if self._writer is not None:  # the plan records paths as UTF-8: refuse others now, by name
            try:
                encoded = joined.encode("utf-8")
            except UnicodeEncodeError:
                raise _not_utf8(paths) from None
        else:
            encoded = joined.encode("utf-8", "surrogateescape")
        self._hashers[0].update(encoded)
        for hasher, stream in zip(self._hashers[1:], (map(str, sizes), map(str, versions))):
            hasher.update(("\0".join(stream) + "\0").encode("utf-8", "surrogateescape"))
        self._count += len(paths)
        if at is not None and self._count == at:
            self.digest_at_row = self._digest()
        if self._writer is not None:
            self._rows[0].extend(paths)
            self._rows[1].extend(sizes)
            self._rows[2].extend(versions)
            if len(self._rows[0]) >= ROWS_PER_BATCH:
                self._flush()

    def _digest(self) -> str:
        combined = hashlib.sha256(b"".join(hasher.copy().digest() for hasher in self._hashers))
        return combined.hexdigest()

    def _flush(self) -> None:
        if self._writer is not None and self._rows[0]:
            self._writer.write_batch(pa.record_batch(list(self._rows), schema=LISTING_SCHEMA))
            self._rows = ([], [], [])
            self._checkpoint(complete=False)

    def _checkpoint(self, complete: bool) -> None:
        if self._progress is not None:
            checkpoint = {"count": self._count, "digest": self._digest(), "complete": complete}
            self._progress.write(json.dumps(checkpoint) + "\n")
            self._progress.flush()

    def close(self) -> ListingSummary:
        """The end of the listing: ``listing.arrow`` is whole before the progress says so."""
        return self._end(complete=True)

    def abandon(self) -> ListingSummary:
        """Stop before the listing ended: what was listed is kept, the progress not marked complete."""
        return self._end(complete=False)

    def _end(self, complete: bool) -> ListingSummary:
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
        if self._progress is not None:
            if complete:
                self._checkpoint(complete=True)
            self._progress.close()
            self._progress = None
        return ListingSummary(self._count, self._digest(), self.digest_at_row)


@dataclasses.dataclass(frozen=True)
class ListingProgress:
    """The last checkpoint of ``listing.progress``: the first ``count`` files listed and their digest."""

    count: int
    digest: str
    complete: bool


def read_listing_progress(folder: str) -> ListingProgress | None:
    """The last whole checkpoint a listing wrote (a line cut short by a crash is left out)."""
    last = None
    try:
        with open(os.path.join(folder, PROGRESS_FILE), encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    last = ListingProgress(
                        int(record["count"]), str(record["digest"]), bool(record["complete"])
                    )
                except (ValueError, KeyError, TypeError):
                    continue
    except OSError:
        return None
    return last


def _empty_digest() -> str:
    empty = hashlib.sha256(b"").digest()
    return hashlib.sha256(empty * 3).hexdigest()


def _not_utf8(paths: list[str]) -> InputError:
    bad = next(path for path in paths if not _is_utf8(path))
    return InputError(
        f"input file {bad!r} has a name that is not valid UTF-8, which the run directory's "
        "plan/ cannot record. Rename the file (for instance with convmv) and run again."
    )


class MiniBatchWriter:
    """Streams mini-batches of files into ``mini_batches.arrow``, keeping only their ids in memory."""

    def __init__(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.ids: list[str] = []
        self._rows: tuple[list, list, list] = ([], [], [])
        self._writer = ipc.new_file(os.path.join(folder, MINI_BATCHES_FILE), MINI_BATCH_SCHEMA)

    def add(self, mb: MiniBatch) -> None:
        indexes, ids, files = self._rows
        indexes.append(mb.index)
        ids.append(mb.id)
        files.append(list(mb.files))
        self.ids.append(mb.id)
        if len(ids) * max(1, len(mb.files)) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows[0]:
            # Paths come from a ListingWriter, which refused any that is not UTF-8.
            self._writer.write_batch(pa.record_batch(list(self._rows), schema=MINI_BATCH_SCHEMA))
            self._rows = ([], [], [])

    def close(self) -> StoredMiniBatches:
        self._flush()
        self._writer.close()
        return StoredMiniBatches(self.folder, tuple(self.ids))


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StoredMiniBatches(Sequence[MiniBatch]):
    """The mini-batches of ``mini_batches.arrow``: their ids in memory, their files read when iterated.

    Iterating reads one record batch (a window of mini-batches) at a time, through reads
    rather than a memory map, whose pages would count in the driver's resident memory.
    """

    def __init__(self, folder: str, ids: tuple[str, ...]) -> None:
        self.folder = folder
        self.ids = ids

    def moved_to(self, folder: str) -> StoredMiniBatches:
        return StoredMiniBatches(folder, self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[MiniBatch]:
        for window in self.windows():
            yield from window

    def windows(self, start: int = 0) -> Iterator[list[MiniBatch]]:
        """Record batch by record batch, from the mini-batch of index ``start`` on."""
        with pa.OSFile(os.path.join(self.folder, MINI_BATCHES_FILE)) as source:
            reader = ipc.open_file(source)
            for number in range(reader.num_record_batches):
                batch = reader.get_batch(number)
                indexes = batch.column(0)
                if not len(indexes) or indexes[-1].as_py() < start:
                    continue  # wholly before ``start``: its files are not converted
                columns = batch.to_pydict()
                yield [
                    MiniBatch(index=index, id=mb_id, files=tuple(files))
                    for index, mb_id, files in zip(columns["index"], columns["id"], columns["files"])
                    if index >= start
                ]

    def __getitem__(self, position: Any) -> Any:
        """By position, reading the file from the start (a Sequence's contract; loops iterate instead)."""
        if isinstance(position, slice):
            return list(self)[position]
        if position < 0:
            position += len(self)
        for mb in self:
            if mb.index == position:
                return mb
        raise IndexError(position)


def read_listing(folder: str) -> pa.Table:
    """The listing a run recorded (path, size, version), as an Arrow table."""
    with pa.OSFile(os.path.join(folder, LISTING_FILE)) as source:
        return ipc.open_file(source).read_all()


def listed_path_batches(folder: str) -> Iterator[list[str]]:
    """The paths of ``listing.arrow``, in listing order, a record batch at a time."""
    with pa.OSFile(os.path.join(folder, LISTING_FILE)) as source:
        reader = ipc.open_file(source)
        for number in range(reader.num_record_batches):
            yield reader.get_batch(number).column(0).to_pylist()


def listing_table(files: dict[str, Any]) -> pa.Table:
    """A listing from ``{path: [size, version]}`` (the JSON identity of runs made before the listing file)."""
    paths = list(files)
    sizes = [_int_or_none(files[p][0] if files[p] else None) for p in paths]
    versions = [None if not files[p] or files[p][1] is None else str(files[p][1]) for p in paths]
    return pa.table([paths, sizes, versions], schema=LISTING_SCHEMA)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def compare_listings(before: pa.Table, after: pa.Table) -> tuple[list[str], list[str], list[str]]:
    """The paths added, removed and modified (size or version changed) between two listings, each sorted.

    Rows that line up at the start and at the end of both listings (the same path at the
    same place) are compared row by row; only the stretch between them, where files were
    added or removed, needs a lookup of every path in the other listing.
    """
    head = _common_prefix(before["path"], after["path"])
    rest_before, rest_after = before.slice(head), after.slice(head)
    tail = _common_suffix(rest_before["path"], rest_after["path"])
    middle_before = rest_before.slice(0, rest_before.num_rows - tail)
    middle_after = rest_after.slice(0, rest_after.num_rows - tail)
    added, removed, modified = _compare_unaligned(middle_before, middle_after)
    modified_ends = [
        _modified(before.slice(0, head), after.slice(0, head)),
        _modified(rest_before.slice(middle_before.num_rows), rest_after.slice(middle_after.num_rows)),
    ]
    chunks = [chunk for paths in (modified, *modified_ends) for chunk in paths.chunks]
    modified_all = pa.chunked_array(chunks, type=LISTING_SCHEMA.field("path").type)
    return _sorted(added), _sorted(removed), _sorted(modified_all)


def _common_prefix(a: pa.ChunkedArray, b: pa.ChunkedArray) -> int:
    """How many values at the start of ``a`` and ``b`` are equal, place by place."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    first_difference = pc.index(pc.equal(a.slice(0, n), b.slice(0, n)), False).as_py()
    return n if first_difference < 0 else first_difference


def _common_suffix(a: pa.ChunkedArray, b: pa.ChunkedArray) -> int:
    """How many values at the end of ``a`` and ``b`` are equal, place by place."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differences = pc.indices_nonzero(pc.not_equal(a.slice(len(a) - n), b.slice(len(b) - n)))
    return n if len(differences) == 0 else n - 1 - differences[-1].as_py()


def _compare_unaligned(before: pa.Table, after: pa.Table) -> tuple[Any, Any, Any]:
    """Added, removed and modified paths (unsorted) of listings whose rows need not line up."""
    in_before = pc.is_in(after["path"], value_set=before["path"])
    in_after = pc.is_in(before["path"], value_set=after["path"])
    added = after.filter(pc.invert(in_before))["path"]
    removed = before.filter(pc.invert(in_after))["path"]
    kept_after, kept_before = after.filter(in_before), before.filter(in_after)
    if kept_after["path"].equals(kept_before["path"]):  # sorted listings (folders) keep their order
        return added, removed, _modified(kept_before, kept_after)
    both = after.join(before, "path", join_type="inner", right_suffix="_before")
    changed = pc.or_(
        _differs(both["size"], both["size_before"]), _differs(both["version"], both["version_before"])
    )
    return added, removed, both.filter(changed)["path"]


def _modified(before: pa.Table, after: pa.Table) -> Any:
    """The paths whose size or version differ, between two listings of the same paths in the same order."""
    changed = pc.or_(_differs(before["size"], after["size"]), _differs(before["version"], after["version"]))
    return after.filter(changed)["path"]


def _differs(a: Any, b: Any) -> Any:
    """Element-wise a != b, where two nulls are equal and a null differs from a value."""
    return pc.or_(pc.xor(pc.is_null(a), pc.is_null(b)), pc.fill_null(pc.not_equal(a, b), False))


def _sorted(paths: Any) -> list[str]:
    return pc.take(paths, pc.sort_indices(paths)).to_pylist()


def replace_folder(source: str, target: str) -> None:
    """Put the plan folder ``source`` in the place of ``target`` (a resume's new plan)."""
    if os.path.exists(target):
        shutil.rmtree(target)
    os.replace(source, target)
