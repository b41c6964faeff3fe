"""Mini-batches sized by time (``mini_batch_size: auto`` / ``target_duration``).

:class:`AdaptiveDivider` cuts a file list into mini-batches while the job runs: the first
ones hold one file, and each later one is sized from the measured time per item of the
latest finished mini-batches (:func:`~dask_parallel.execution.policies.next_size`). Every
cut is a fact the ledger records, so that a resumed job replays the same cuts and
divides the remainder from the same size. Pure: no clocks, no Dask.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

from dask_parallel.batching import MiniBatch, cut_file_mini_batch
from dask_parallel.execution.policies import next_size, seconds_per_item

RECENT = 2  # finished mini-batches the time per item is measured over (recent ones tell most)
MAX_SIZE = 10_000


@dataclasses.dataclass(frozen=True)
class Cut:
    """One mini-batch cut from the file list: files ``[start, stop)`` at the size then current."""

    index: int
    mb: str
    start: int
    stop: int
    size: int


class AdaptiveDivider:
    """Cut ``files`` into mini-batches that each take about ``target`` seconds.

    ``workers`` caps a mini-batch at an even share of the files left, so the last ones
    still spread over every worker.
    """

    def __init__(
        self,
        files: Sequence[str],
        target: float,
        *,
        workers: int = 1,
        initial: int = 1,
        maximum: int = MAX_SIZE,
    ) -> None:
        self.files = tuple(files)
        self.target = target
        self.workers = max(1, workers)
        self.maximum = maximum
        self.size = max(1, initial)
        self.cuts: list[Cut] = []
        self.batches: dict[str, MiniBatch] = {}
        self._next = 0
        self._recent: collections.deque[tuple[float, int]] = collections.deque(maxlen=RECENT)

    @property
    def done(self) -> bool:
        """Every file is in a mini-batch."""
        return self._next >= len(self.files)

    @property
    def remaining(self) -> int:
        return len(self.files) - self._next

    def cut(self) -> MiniBatch | None:
        """The next mini-batch at the current size, or None when every file is cut."""
        if self.done:
            return None
        share = math.ceil(self.remaining / self.workers)
        count = max(1, min(self.size, share, self.remaining))
        return self._add(self._next, self._next + count, self.size)

    def observe(self, seconds: float, items: int) -> None:
        """A mini-batch of ``items`` items took ``seconds`` in ``run()``: adapt the size."""
        if items <= 0 or seconds < 0:
            return
        self._recent.append((seconds, items))
        self.size = next_size(
            self.size, seconds_per_item(list(self._recent)), self.target, minimum=1, maximum=self.maximum
        )

    def replay(self, cuts: Iterable[dict[str, Any]]) -> list[MiniBatch]:
        """Repeat the cuts an earlier run recorded (ledger ``cut`` records), in order.

        The size continues from the last recorded one. Stops at the first cut that does
        not follow on, or whose id no longer matches its files (the input changed).
        """
        replayed = []
        for record in sorted(cuts, key=lambda r: r["index"]):
            start, stop = int(record["start"]), int(record["stop"])
            if (
                record["index"] != len(self.cuts)
                or start != self._next
                or not start < stop <= len(self.files)
            ):
                break
            batch = self._add(start, stop, int(record["size"]))
            if batch.id != record["mb"]:
                self.cuts.pop()
                self.batches.pop(batch.id)
                self._next = start
                break
            self.size = max(1, int(record["size"]))
            replayed.append(batch)
        return replayed

    def _add(self, start: int, stop: int, size: int) -> MiniBatch:
        index = len(self.cuts)
        batch = cut_file_mini_batch(self.files, start, stop, index)
        self.cuts.append(Cut(index, batch.id, start, stop, size))
        self.batches[batch.id] = batch
        self._next = stop
        return batch
