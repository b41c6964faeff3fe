"""Planning that streams: a folder input listed and divided in a background thread while the job runs.

A million-file folder takes seconds to list; the first mini-batches are cut from its first
folders and start long before the listing ends. The thread writes the plan folder as
:func:`~dask_parallel.inputs.planning.plan_input` does (the same mini-batches, the same
ids, ``listing.arrow`` with checkpoints in ``listing.progress``) and hands each mini-batch
to the driver as it is cut. The job cannot complete before the listing has ended.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Iterator

from dask_parallel.batching import MiniBatch
from dask_parallel.errors import InputError
from dask_parallel.inputs.listing import Listed
from dask_parallel.inputs.planning import (
    InputPlan,
    cut_as_listed,
    empty_input_error,
    listed_files,
    major_input,
    record_listing,
)
from dask_parallel.rundir.plan_store import ListingWriter, MiniBatchWriter, StoredMiniBatches
from dask_parallel.spec.job_spec import JobSpec
from dask_parallel.spec.sizes import DEFAULT_FILES_PER_MINI_BATCH

# A listing that has not ended after this many files streams: the job starts meanwhile.
# Below it a job is planned whole first, as before (errors of the listing come first).
STREAM_AFTER_FILES = 10_000
# At most this many mini-batches wait in memory for the driver; once more are cut than it
# has taken, the rest is read back from plan/mini_batches.arrow after the listing ends.
READY_LIMIT = 10_000


def stream_input(spec: JobSpec, store: str) -> StreamedPlan | None:
    """Start listing and dividing a folder input in the background; None for other inputs.

    MLTables are planned from their own document, mini-batches sized by time are cut as the
    job runs, and a single file needs no listing: :func:`plan_input` plans those.
    """
    if spec.major_input.type != "uri_folder" or getattr(spec, "target_duration", None) is not None:
        return None
    where, uri = major_input(spec)
    listed = listed_files(spec, uri, where)  # the folder is checked here, before the thread starts
    if listed is None:
        return None
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return StreamedPlan(listed, size, store, empty_input_error(spec))


class StreamedPlan:
    """Mini-batches of ``size`` files cut in a background thread from ``listed``, kept in ``store``.

    The driver :meth:`take`\\ s what is ready without waiting (at most :data:`READY_LIMIT`
    mini-batches wait in memory; the rest is read back from the plan file once the listing
    has ended); :attr:`plan` is the whole
    :class:`~dask_parallel.inputs.planning.InputPlan` once :attr:`done`. An error of the
    listing (an empty input, a file name the plan cannot record) is raised by
    :meth:`wait_listed`, :meth:`take` or :meth:`finish`.
    """

    kind = "files"
    reader = None

    def __init__(self, listed: Iterator[Listed], size: int, store: str, empty: InputError) -> None:
        self._listed = listed
        self._size = size
        self._store = store
        self._empty = empty
        self._ready: collections.deque[MiniBatch] = collections.deque()
        self._spilled_from: int | None = None  # the first mini-batch left on disk only
        self._tail: Iterator[MiniBatch] | None = None
        self._tail_read = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self.files_listed = 0
        self.mini_batches_cut = 0
        self.done = False
        self.error: BaseException | None = None
        self.plan: InputPlan | None = None  # once done (of what was cut, if stopped early)
        self._thread = threading.Thread(target=self._list, name="dask-parallel-listing", daemon=True)
        self._thread.start()

    # -- the listing thread -------------------------------------------------------------
    def _list(self) -> None:
        listing = ListingWriter(self._store, checkpoints=True)
        writer = MiniBatchWriter(self._store)
        complete = False
        try:
            for cut in cut_as_listed(record_listing(self._listed, listing), self._size, writer):
                if self._stop.is_set():
                    break
                self._publish(cut, listing.count)
            else:
                complete = True
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for the plan
            self.error = exc
        finally:
            try:
                summary = listing.close() if complete else listing.abandon()
                stored = writer.close()
            except BaseException as exc:  # noqa: BLE001 - the plan folder could not be written
                self.error = self.error or exc
                summary, stored = None, StoredMiniBatches(self._store, tuple(writer.ids))
            if complete and self.error is None and summary is not None and summary.count == 0:
                self.error = self._empty
            self.plan = InputPlan("files", stored, None, summary if complete else None)
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def _publish(self, cut: list[MiniBatch], files_listed: int) -> None:
        with self._changed:
            if cut and self._spilled_from is None and len(self._ready) + len(cut) > READY_LIMIT:
                self._spilled_from = cut[0].index  # the driver is behind: keep the rest on disk
            if self._spilled_from is None:
                self._ready.extend(cut)
            self.files_listed = files_listed
            self.mini_batches_cut += len(cut)
            self._changed.notify_all()

    # -- the driver's side --------------------------------------------------------------
    def wait_listed(self, files: int) -> None:
        """Wait until ``files`` files are listed or the listing ended; raise its error if it failed."""
        with self._changed:
            self._changed.wait_for(lambda: self.done or self.files_listed >= files)
        if self.done and self.error is not None:
            raise self.error

    def take(self, limit: int) -> list[MiniBatch]:
        """Up to ``limit`` mini-batches cut since the last call, without waiting."""
        if self.error is not None and self.done:
            raise self.error
        with self._changed:
            taken = [self._ready.popleft() for _ in range(min(limit, len(self._ready)))]
            if len(taken) < limit and self.done and self._spilled_from is not None:
                taken += self._read_tail(limit - len(taken))
            return taken

    def _read_tail(self, count: int) -> list[MiniBatch]:
        """The mini-batches kept on disk only, once the listing has ended and closed the file."""
        if self._tail is None:
            assert self.plan is not None and isinstance(self.plan.mini_batches, StoredMiniBatches)
            windows = self.plan.mini_batches.windows(start=self._spilled_from or 0)
            self._tail = itertools.chain.from_iterable(windows)
        read = list(itertools.islice(self._tail, count))
        self._tail_read += len(read)
        return read

    @property
    def exhausted(self) -> bool:
        """The listing ended and every mini-batch it cut was taken."""
        with self._changed:
            if not self.done or self._ready:
                return False
            if self._spilled_from is None or self.plan is None:
                return True
            return self._spilled_from + self._tail_read >= len(self.plan.mini_batches)

    def __iter__(self) -> Iterator[MiniBatch]:
        """Every mini-batch not yet taken, waiting for the listing (workers without a shared disk)."""
        while not self.exhausted:
            with self._changed:
                self._changed.wait_for(lambda: self.done or bool(self._ready))
            yield from self.take(READY_LIMIT)
        if self.error is not None:
            raise self.error

    def finish(self) -> InputPlan:
        """The whole plan, once the listing has ended."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.plan is not None
        return self.plan

    def stop(self) -> InputPlan:
        """End the listing early (the job stopped): the plan of what was cut so far."""
        self._stop.set()
        self._thread.join()
        assert self.plan is not None
        return self.plan
