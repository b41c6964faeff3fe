"""read_delimited's one-pass typed parse gives exactly what the text-then-convert path gives."""

import pyarrow as pa
import pytest

from dask_parallel.inputs.mltable import delimited
from dask_parallel.inputs.mltable.table import load
from dask_parallel.inputs.mltable.textfiles import RangeStream, read_range

SAMPLE = "id,x,flag,when,name\n" + "".join(
    f"{i},{i / 4},{'true' if i % 2 else 'false'},2024-01-{i % 28 + 1:02d},n{i}\n" for i in range(300)
)


def _typed_and_text(tmp_path, later_rows: str):
    (tmp_path / "data.csv").write_text(SAMPLE + later_rows)
    (tmp_path / "MLTable").write_text("paths: [{file: ./data.csv}]\ntransformations: [read_delimited]\n")
    reader, blocks = load(str(tmp_path)).blocks("1gb")
    (block,) = blocks
    options = reader.read_step.options
    with RangeStream(block.path, block.start, block.end) as stream:
        typed = delimited._parse_typed(stream, block, options, reader.schema)
    data = read_range(block.path, block.start, block.end)
    text = delimited._convert(delimited._parse_text(data, block, options, "t"), block, reader.schema, "t")
    return typed, text, reader.read(block)


def test_typed_parse_equals_the_text_path(tmp_path):
    typed, text, _ = _typed_and_text(tmp_path, '7,,,,\n8,1e3,false,2024-02-01,""\n')
    assert typed is not None
    assert typed.equals(text)
    assert typed.schema.equals(
        text.schema, check_metadata=True
    )  # field metadata too (datetime format, zero/one booleans)


@pytest.mark.parametrize(
    "later_rows",
    [
        "9,inf,true,2024-01-01,a\n",  # not a float to the text path: null
        "9,nan,true,2024-01-01,a\n",
        "4.5,1,true,2024-01-01,a\n",  # a fraction in an integer column is truncated
        "99999999999999999999,1,true,2024-01-01,a\n",  # beyond int64: null
        "9,1,yes,2024-01-01,a\n",  # not a boolean: null
        "9,1,true,not a date,a\n",
        "9,1,true,2024-01-01,a,extra\n",  # more fields than the header
        '"",1,true,2024-01-01,a\n',  # a quoted empty field in a number column
    ],
)
def test_values_that_do_not_fit_take_the_text_path(tmp_path, later_rows):
    typed, text, frame = _typed_and_text(tmp_path, later_rows)
    assert typed is None
    assert len(frame) == 301
    assert pa.Table.from_pandas(frame, preserve_index=False).num_rows == text.num_rows


def test_a_local_block_is_read_by_pyarrow_not_through_a_python_stream(tmp_path, monkeypatch):
    """pyarrow's I/O threads reading a Python stream can abort the interpreter at exit
    (apache/arrow#34314): a local file's range goes to pyarrow as a native stream."""
    (tmp_path / "data.csv").write_text(SAMPLE)
    (tmp_path / "MLTable").write_text("paths: [{file: ./data.csv}]\ntransformations: [read_delimited]\n")
    reader, blocks = load(str(tmp_path)).blocks("2kb")
    assert len(blocks) > 2

    def refuse(*args, **kwargs):
        raise AssertionError("a local file was read through a Python stream")

    monkeypatch.setattr(RangeStream, "read", refuse)
    monkeypatch.setattr(RangeStream, "readinto", refuse)
    rows = sum(len(reader.read(block)) for block in blocks)
    assert rows == 300
