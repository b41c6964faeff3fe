"""Arrow blocks to DataFrames: the dtypes pyarrow's conversion gives with our mapping, writable."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dask_parallel.inputs.mltable.frames import to_pandas

TEXT = pd.StringDtype(na_value=np.nan)
INTEGERS = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32()]


def reference(table: pa.Table) -> pd.DataFrame:
    """What ``Table.to_pandas`` gives with the nullable mapping (copied, so writable)."""
    mapping = {pa.string(): TEXT, pa.large_string(): TEXT, pa.bool_(): pd.BooleanDtype()}
    mapping.update(dict.fromkeys(INTEGERS, pd.Int64Dtype()))
    return table.to_pandas(types_mapper=mapping.get, coerce_temporal_nanoseconds=True)


def mixed_table(rows: int = 7) -> pa.Table:
    rng = np.random.default_rng(1)
    nulls = [i % 3 == 0 for i in range(rows)]
    columns = {
        f"{kind}{suffix}": pa.array(
            [None if (suffix and null) else int(v) for v, null in zip(rng.integers(0, 100, rows), nulls)],
            kind,
        )
        for kind in INTEGERS
        for suffix in ("", "_nulls")
    }
    columns.update(
        {
            "f64": pa.array(rng.random(rows)),
            "f64_nulls": pa.array([None if n else 1.5 for n in nulls], pa.float64()),
            "f32": pa.array(rng.random(rows), pa.float32()),
            "flag": pa.array(rng.random(rows) > 0.5),
            "flag_nulls": pa.array([None if n else True for n in nulls], pa.bool_()),
            "text": pa.array([None if n else "a" for n in nulls], pa.string()),
            "when": pa.array([datetime.datetime(2024, 1, 1)] * rows, pa.timestamp("us")),
            "uint64": pa.array(range(rows), pa.uint64()),
        }
    )
    return pa.table(columns)


@pytest.mark.parametrize("consume", [False, True])
def test_same_frame_as_pyarrow_with_the_nullable_mapping(consume):
    table = mixed_table()
    expected = reference(table)
    pd.testing.assert_frame_equal(to_pandas(table, consume=consume), expected)


@pytest.mark.parametrize(
    "table",
    [
        pytest.param(pa.concat_tables([mixed_table(5), mixed_table(4)]), id="several chunks"),
        pytest.param(mixed_table(20).slice(3, 9), id="slice with an offset"),
        pytest.param(mixed_table(0), id="no rows"),
        pytest.param(pa.table({"a": [1, 2], "b": [1.0, 2.0]}).rename_columns(["a", "a"]), id="repeated name"),
        pytest.param(pa.table({"text": ["x", None]}), id="no numeric column"),
        pytest.param(pa.table({"n": pa.array([1, 2])}), id="only numeric columns"),
    ],
)
def test_layouts_that_differ_from_a_fresh_single_chunk(table):
    expected = reference(table)  # before: a consumed table must not be touched again
    pd.testing.assert_frame_equal(to_pandas(table, consume=True), expected)


def test_every_column_of_a_consumed_block_is_writable():
    """An entry script may assign into its mini-batch (pyarrow's zero-copy floats are read-only)."""
    frame = to_pandas(mixed_table(), consume=True)
    frame.loc[0, "f64"] = 10.0
    frame.loc[0, "int64"] = 5
    frame.loc[0, "flag"] = False
    frame.loc[frame["f32"] > 0, "f32"] = 0.0
    assert frame.loc[0, "f64"] == 10.0 and frame.loc[0, "int64"] == 5 and not frame.loc[0, "flag"]
    assert (frame["f32"] == 0.0).all()


def test_a_table_not_given_away_is_left_as_it_was():
    table = pa.table({"n": pa.array([1, 2, 3]), "x": pa.array([1.0, 2.0, 3.0])})
    frame = to_pandas(table)
    frame.loc[0, "n"] = 100
    frame.loc[0, "x"] = 100.0
    assert table.column("n").to_pylist() == [1, 2, 3]
    assert table.column("x").to_pylist() == [1.0, 2.0, 3.0]


def test_a_consumed_block_shares_its_numbers_with_the_arrow_buffers():
    """No copy of a column the table owned: the point of converting here."""
    table = pa.table({"n": pa.array(np.arange(1000)), "x": pa.array(np.random.default_rng(0).random(1000))})
    buffers = {name: table.column(name).chunk(0).buffers()[1].address for name in ("n", "x")}
    frame = to_pandas(table, consume=True)
    assert frame["n"].array._data.ctypes.data == buffers["n"]
    assert frame["x"].to_numpy().ctypes.data == buffers["x"]
