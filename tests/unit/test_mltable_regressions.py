"""Crash, corruption and empty-mini-batch regressions of the MLTable reader."""

from __future__ import annotations

import decimal
import subprocess
import sys
import textwrap

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import dask_parallel as dp
from dask_parallel import mltable
from dask_parallel.errors import MLTableError


def _jsonl_table(tmp_path, text, options=""):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "a.jsonl").write_text(text)
    (folder / "MLTable").write_text(
        f"paths:\n  - file: ./a.jsonl\ntransformations:\n  - read_json_lines:{options or ' {}'}\n"
    )
    return folder


def _load_in_child(folder) -> subprocess.CompletedProcess:
    """Load in a child process: a crash in a native library must show as a failed test, not kill pytest."""
    code = textwrap.dedent(
        f"""
        from dask_parallel import mltable
        from dask_parallel.errors import MLTableError
        try:
            print(len(mltable.load({str(folder)!r}).to_pandas_dataframe()))
        except MLTableError as exc:
            print("MLTableError", exc)
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_a_file_of_null_lines_is_an_error_naming_the_line_not_a_crash(tmp_path):
    done = _load_in_child(_jsonl_table(tmp_path, "null\nnull\n"))
    assert done.returncode == 0, done.stderr
    assert "MLTableError" in done.stdout and "is not a JSON object" in done.stdout and "'null'" in done.stdout


def test_null_lines_are_dropped_under_invalid_lines_drop(tmp_path):
    folder = _jsonl_table(tmp_path, '{"a": 1}\nnull\n{"a": 2}\n', "\n      invalid_lines: drop")
    assert mltable.load(folder).to_pandas_dataframe()["a"].tolist() == [1, 2]
    (tmp_path / "n").mkdir()
    done = _load_in_child(_jsonl_table(tmp_path / "n", "null\n" * 5, "\n      invalid_lines: drop"))
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stdout + done.stderr


def test_a_null_line_among_objects_is_an_error_not_a_row_of_nulls(tmp_path):
    folder = _jsonl_table(tmp_path, '{"a": 1}\nnull\n')
    with pytest.raises(
        MLTableError, match=r"line 2 \(at byte 9\) .* not a JSON object \(the line holds null"
    ):
        mltable.load(folder).to_pandas_dataframe()


def _object_parquet(tmp_path):
    folder = tmp_path / "objects"
    folder.mkdir()
    table = pa.table(
        {
            "id": pa.array(range(6), pa.int64()),
            "items": pa.array([[1, 2], [], None, [3], [4, 5, 6], [7]], pa.list_(pa.int64())),
            "point": pa.array(
                [{"x": i, "y": str(i)} for i in range(6)], pa.struct([("x", pa.int64()), ("y", pa.string())])
            ),
            "price": pa.array([decimal.Decimal(f"{i}.25") for i in range(6)], pa.decimal128(6, 2)),
            "raw": pa.array([b"\xff\x00", b"ok", b"", None, b"\x80", b"z"], pa.binary()),
        }
    )
    pq.write_table(table, folder / "a.parquet", row_group_size=2)
    (folder / "MLTable").write_text("paths:\n  - file: ./a.parquet\ntransformations:\n  - read_parquet\n")
    return folder


def _same_values(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    # Mini-batches keep nullable Int64 where the whole table says int64 (no gap): same values.
    plain = {"Int64": "int64", "boolean": "bool"}
    assert [plain.get(str(d), str(d)) for d in left.dtypes] == [str(d) for d in right.dtypes]
    for column in left.columns:
        assert [repr(v) for v in left[column].tolist()] == [repr(v) for v in right[column].tolist()], column


def test_to_dask_dataframe_keeps_object_values_as_the_whole_table_load_gives_them(tmp_path):
    table = mltable.load(_object_parquet(tmp_path))
    whole = table.to_pandas_dataframe()
    assert whole["raw"][0] == b"\xff\x00"
    frame = table.to_dask_dataframe(partition_size=1)
    assert frame.npartitions == 3
    computed = frame.compute().reset_index(drop=True)
    assert isinstance(computed["price"][0], decimal.Decimal)
    assert computed["raw"][0] == b"\xff\x00"
    assert computed["point"][0] == {"x": 0, "y": "0"}
    _same_values(computed, whole)


def test_mini_batches_of_a_job_keep_object_values(tmp_path):
    folder = _object_parquet(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def run(df):\n    return df\n")
    job = dp.parallel_run_function(
        name="objects",
        inputs={"table": dp.Input(type="mltable", path=str(folder), mode="direct")},
        outputs={"out": dp.Output(type="uri_file", path=str(tmp_path / "out.txt"))},
        input_data="${{inputs.table}}",
        mini_batch_size="1",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    frame = dp.mini_batches(job)
    assert frame.npartitions == 3
    first = frame.get_partition(0).compute()
    assert first["raw"].tolist() == [b"\xff\x00", b"ok"]
    assert isinstance(first["price"][0], decimal.Decimal)
    assert list(first["items"][0]) == [1, 2]


HEADER = "a_rather_long_column_name_number_one,a_rather_long_column_name_number_two\n"


@pytest.mark.parametrize("size", [1, 10, len(HEADER), len(HEADER) + 1, 100])
def test_no_tabular_mini_batch_holds_only_the_header(tmp_path, size):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + "".join(f"{i},{i * 2}\n" for i in range(12)))
    (folder / "MLTable").write_text("paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited\n")
    table = mltable.load(folder)
    reader, blocks = table.blocks(size)
    lengths = [len(reader.read(b)) for b in blocks]
    assert all(lengths) and sum(lengths) == 12
    assert blocks[0].start == 0 and blocks[0].skip_header


@pytest.mark.parametrize("size", ["100", "1KB", "10kb"])
def test_the_iris_example_never_gives_an_empty_mini_batch(size):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "conf" / "examples" / "tabular_scoring" / "iris-mltable"
    table = mltable.load(folder)
    reader, blocks = table.blocks(size)
    lengths = [len(reader.read(b)) for b in blocks]
    assert all(lengths) and sum(lengths) == len(table.to_pandas_dataframe())
