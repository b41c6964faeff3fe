"""Descriptors of data, made on the client and shipped to workers: never the data itself."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Block:
    """One piece of one file: a byte range (text formats) or a run of row groups (parquet).

    ``slices`` holds, for positional transformations (``take``, ``skip``), the rows of this
    block that survive that step: ``(step_index, start, stop)``; it is filled at planning.
    ``partition_values`` carries Delta Lake partition columns (they are not in the files).
    """

    path: str
    start: int = 0
    end: int | None = None
    row_groups: tuple[int, ...] | None = None
    rows: int | None = None
    column_names: tuple[str, ...] | None = None
    skip_header: bool = False
    partition_values: tuple[tuple[str, Any], ...] = ()
    slices: tuple[tuple[int, int, int | None], ...] = ()

    @property
    def blocks(self) -> tuple[Block, ...]:
        return (self,)

    def describe(self) -> str:
        if self.row_groups is not None:
            return f"{self.path} row groups {self.row_groups[0]}-{self.row_groups[-1]}"
        if self.end is None and self.start == 0:
            return self.path
        return f"{self.path} bytes {self.start}-{self.end}"

    def slice_for(self, step_index: int) -> tuple[int, int | None] | None:
        for index, start, stop in self.slices:
            if index == step_index:
                return start, stop
        return None


@dataclasses.dataclass(frozen=True)
class BlockGroup:
    """Several blocks read as one DataFrame: the mini-batch of one partition-key combination."""

    blocks: tuple[Block, ...]

    @property
    def path(self) -> str:
        return self.blocks[0].path

    @property
    def rows(self) -> int | None:
        counts = [b.rows for b in self.blocks]
        return None if any(c is None for c in counts) else sum(counts)

    # Block-like attributes, so code that describes a mini-batch works on either.
    start = 0
    end = None
    row_groups = None

    def describe(self) -> str:
        files = sorted({b.path for b in self.blocks})
        if len(files) == 1:
            return f"{files[0]} ({len(self.blocks)} blocks)"
        return f"{files[0]} .. {files[-1]} ({len(files)} files)"
