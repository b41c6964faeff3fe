"""Pure division of work items into mini-batches with deterministic ids."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from dask_parallel.execution.policies import halves
from dask_parallel.inputs.blocks import Block, BlockGroup


@dataclasses.dataclass(frozen=True)
class MiniBatch:
    """One unit of work: a list of files, or one block of a table.

    ``id`` depends only on what the mini-batch holds, so the same input divided the same
    way always yields the same ids, whatever the cluster or the submission order.
    """

    index: int
    id: str
    files: tuple[str, ...] = ()
    block: Block | BlockGroup | None = None
    partition_key_value: dict[str, Any] | None = None

    @property
    def is_tabular(self) -> bool:
        return self.block is not None

    @property
    def known_items(self) -> int | None:
        """Item count known before reading (files, parquet rows); None for text blocks."""
        if self.block is None:
            return len(self.files)
        return self.block.rows

    def describe(self) -> str:
        """A short human description for logs and reports."""
        if self.block is None:
            if len(self.files) == 1:
                return self.files[0]
            return f"{self.files[0]} .. {self.files[-1]} ({len(self.files)} files)"
        return self.block.describe()


def _digest(*parts: Any) -> str:
    hasher = hashlib.sha1()
    for part in parts:
        hasher.update(repr(part).encode())
        hasher.update(b"\0")
    return hasher.hexdigest()[:12]


def file_mini_batches(files: Sequence[str], files_per_mini_batch: int) -> list[MiniBatch]:
    """Consecutive groups of ``files_per_mini_batch`` files (the last may be smaller).

    >>> [len(mb.files) for mb in file_mini_batches([f"f{i}" for i in range(7)], 3)]
    [3, 3, 1]
    """
    size = max(1, files_per_mini_batch)
    return [
        file_mini_batch(tuple(files[start : start + size]), index)
        for index, start in enumerate(range(0, len(files), size))
    ]


def file_mini_batch(files: tuple[str, ...], index: int) -> MiniBatch:
    """Mini-batch ``index`` of ``files``: its id depends on its index and its files only."""
    return MiniBatch(index=index, id=f"mb{index:06d}-{_digest('files', files)}", files=files)


def block_mini_batches(
    blocks: Sequence[Block | BlockGroup], key_values: Sequence[dict[str, Any] | None] | None = None
) -> list[MiniBatch]:
    """One mini-batch per table block (or block group, with its partition key values)."""
    values = list(key_values) if key_values is not None else [None] * len(blocks)
    return [
        MiniBatch(
            index=index,
            id=f"mb{index:06d}-{_digest('block', block)}",
            block=block,
            partition_key_value=value,
        )
        for index, (block, value) in enumerate(zip(blocks, values))
    ]


def keyed_file_mini_batches(groups: Sequence[tuple[tuple[str, ...], dict[str, Any]]]) -> list[MiniBatch]:
    """One mini-batch per partition-key combination of a file list: its files and its key values."""
    return [
        MiniBatch(
            index=index,
            id=f"mb{index:06d}-{_digest('files', files, sorted(value.items()))}",
            files=tuple(files),
            partition_key_value=dict(value),
        )
        for index, (files, value) in enumerate(groups)
    ]


def split_mini_batch(mb: MiniBatch) -> list[MiniBatch]:
    """The two halves of a failing mini-batch of files (``split_on_failure``), in input order.

    Each half keeps its parent's index (rows and reports stay in the plan's order) and
    gets an id derived from the parent's, so the same failure splits the same way in
    every run. A single file cannot be split: the result is then empty.

    >>> [h.files for h in split_mini_batch(file_mini_batches(["a", "b", "c"], 3)[0])]
    [('a', 'b'), ('c',)]
    """
    if mb.block is not None:
        raise ValueError(f"mini batch {mb.index} is a table block; only mini-batches of files are split")
    return [
        MiniBatch(
            index=mb.index,
            id=f"{mb.id}-h{number}",
            files=mb.files[start:stop],
            partition_key_value=mb.partition_key_value,
        )
        for number, (start, stop) in enumerate(halves(len(mb.files)))
    ]


def cut_file_mini_batch(files: Sequence[str], start: int, stop: int, index: int) -> MiniBatch:
    """Files ``[start, stop)`` as mini-batch ``index`` (mini-batches sized by time).

    The id is made as :func:`file_mini_batches` makes it: it depends on the files only.
    """
    return file_mini_batch(tuple(files[start:stop]), index)
