"""Byte ranges of text files cut on line boundaries, and small reads of file heads."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from dask_parallel.paths import filesystem

# Encodings in which a newline byte is always a line break, so a file may be cut at any newline.
ASCII_COMPATIBLE = ("utf-8", "utf-8-sig", "ascii", "latin-1", "cp1252")
HEAD_BYTES = 1 << 20


def line_ranges(
    path: str, size: int, total: int | None = None, header_lines: int = 0
) -> list[tuple[int, int]]:
    """``(start, end)`` ranges of about ``size`` bytes, each ending just after a newline.

    The first ``header_lines`` lines never make a range of their own: the first range holds
    them and at least one line after them, so no range of a non-empty file is header only.
    Only the bytes at each cut are looked at (one short read per range), never the whole file.
    """
    fs, fpath = filesystem(path)
    if total is None:
        total = fs.size(fpath)
    bounds = [0]
    if total > size:
        with fs.open(fpath, "rb", block_size=1 << 16) as handle:
            for _ in range(header_lines + 1 if header_lines else 0):
                handle.readline()
            target = max(size, handle.tell())
            while target < total:
                handle.seek(target - 1)
                handle.readline()  # to the start of the next line
                position = handle.tell()
                if position >= total:
                    break
                if position > bounds[-1]:
                    bounds.append(position)
                target = position + size
    bounds.append(total)
    return [(start, end) for start, end in itertools.pairwise(bounds) if end > start]


def read_range(path: str, start: int, end: int | None) -> bytes:
    fs, fpath = filesystem(path)
    if start == 0 and end is None:
        return fs.cat_file(fpath)
    return fs.cat_file(fpath, start=start, end=end)


class RangeStream(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file as a stream, so a parser holds a chunk, not the range."""

    def __init__(self, path: str, start: int, end: int | None) -> None:
        fs, fpath = filesystem(path)
        self._handle = fs.open(fpath, "rb")
        self._handle.seek(start)
        self._left = None if end is None else end - start

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left is not None:
            size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(size)
        if self._left is not None:
            self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


@contextlib.contextmanager
def open_range(path: str, start: int, end: int | None) -> Iterator[Any]:
    """Bytes ``start`` to ``end`` of a file as a stream for pyarrow's parsers.

    A local file is read by pyarrow itself: a Python stream is read from pyarrow's I/O
    threads, which must take the GIL, and a read still queued when the interpreter exits
    aborts the process ("terminate called without an active exception", apache/arrow#34314).
    """
    fs, fpath = filesystem(path)
    if not getattr(fs, "local_file", False):
        with RangeStream(path, start, end) as stream:
            yield stream
        return
    with pa.OSFile(fpath) as handle:
        length = (handle.size() if end is None else end) - start
        with handle.get_stream(start, length) as stream:
            yield stream


def head(path: str, lines: int, encoding: str, limit: int = HEAD_BYTES) -> bytes:
    """The first ``lines`` lines of a file (at most ``limit`` bytes, cut at a line end)."""
    fs, fpath = filesystem(path)
    with fs.open(fpath, "rb") as handle:
        data = handle.read(limit)
    if encoding not in ASCII_COMPATIBLE:
        return data
    cut, count = 0, 0
    while count < lines:
        position = data.find(b"\n", cut)
        if position < 0:
            if len(data) < limit:
                cut = len(data)
            break
        cut, count = position + 1, count + 1
    return data[:cut] if cut else data
