"""A local parquet file's footer is parsed once per process while the file stays the same."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dask_parallel.inputs.mltable import parquet


def write(path, values, row_group_size):
    pq.write_table(pa.table({"n": values}), path, row_group_size=row_group_size)


@pytest.fixture(autouse=True)
def no_footers_parsed_yet():
    parquet._footer.cache_clear()
    yield
    parquet._footer.cache_clear()


def test_blocks_of_one_file_share_one_parsed_footer(tmp_path, monkeypatch):
    path = tmp_path / "data.parquet"
    write(path, list(range(100)), 10)
    parsed = []
    original = pq.read_metadata

    def counting(source, *args, **kwargs):
        parsed.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(parquet.pq, "read_metadata", counting)
    rows = [parquet.read_row_groups(str(path), (g,), ["n"]).column("n").to_pylist() for g in range(10)]
    assert rows == [list(range(g * 10, g * 10 + 10)) for g in range(10)]
    assert len(parsed) == 1


def test_a_file_rewritten_in_place_is_read_afresh(tmp_path):
    path = tmp_path / "data.parquet"
    write(path, list(range(100)), 10)
    assert parquet.read_row_groups(str(path), (1,), ["n"]).column("n").to_pylist() == list(range(10, 20))
    write(path, [v * 2 for v in range(300)], 50)  # other row groups, other size
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert parquet.read_row_groups(str(path), (1,), ["n"]).column("n").to_pylist() == [
        v * 2 for v in range(50, 100)
    ]
