"""Column types of delimited text and JSON lines: inference and conversion."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from dask_parallel import mltable
from dask_parallel.inputs.mltable import json_types, text_types
from dask_parallel.inputs.mltable.text_types import TextType


@pytest.mark.parametrize(
    ("values", "kind", "fmt"),
    [
        (["t", "f", None], "bool", None),
        (["TRUE", "false", "True"], "bool", None),
        (["0", "1", "1"], "bool", None),
        (["+2", "-1", " 3 "], "int", None),
        (["9223372036854775807"], "int", None),
        (["99999999999999999999"], "float", None),
        (["1e3", "-2.5E-2", "3"], "float", None),
        (["NaN", "1.5"], "string", None),
        (["1,000"], "string", None),
        (["2024-01-31T12:34:56Z", "2024-02-01T00:00:00+02:00"], "datetime", "ISO8601"),
        (["01/31/2024", "02/15/2024"], "datetime", "%m/%d/%Y"),
        (["31/01/2024", "15/02/2024"], "datetime", "%d/%m/%Y"),
        (["2024/01/31 10:00:00"], "datetime", "%Y/%m/%d %H:%M:%S"),
        (["", "1"], "string", None),  # a quoted empty field is text
        ([None, None], "null", None),
        (["yes", "no"], "string", None),
    ],
)
def test_inferred_type(values, kind, fmt):
    found = text_types.infer(values)
    assert (found.kind, found.datetime_format) == (kind, fmt)


def test_conversion_nulls_misfits_truncates_fractions_and_counts_them():
    column, nulled = text_types.convert(pa.array(["1", "4.5", "x", None, "-2.7"]), TextType("int"))
    assert column.to_pylist() == [1, 4, None, None, -2] and nulled == 1
    stamps, nulled = text_types.convert(
        pa.array(["2024-01-31T12:34:56+02:00", "2024-01-31T12:34:56Z", "nope"]),
        TextType("datetime", "ISO8601"),
    )
    assert stamps.to_pylist() == [
        dt.datetime(2024, 1, 31, 10, 34, 56),
        dt.datetime(2024, 1, 31, 12, 34, 56),
        None,
    ]
    assert nulled == 1


def test_files_that_disagree_make_text_and_zero_one_widens_to_int():
    assert text_types.combine(TextType("int"), TextType("float")) == TextType("float")
    assert text_types.combine(TextType("bool", zero_one=True), TextType("int")) == TextType("int")
    assert text_types.combine(TextType("int"), TextType("string")) == TextType("string")
    assert text_types.combine(TextType("null"), TextType("int")) == TextType("int")


def test_json_first_kind_wins_numbers_widen_and_objects_merge():
    rows = [
        {"a": 1, "b": "x", "c": [1, "y"], "d": {"k": 1}},
        {"a": 2.5, "b": 3, "c": [2], "d": {"j": "z"}},
    ]
    kinds = json_types.infer(rows)
    assert [kinds[k]["kind"] for k in "abcd"] == ["float", "str", "list", "dict"]
    assert json_types.fit(kinds["b"], 3) is None
    assert json_types.fit(kinds["a"], 2) == 2.0
    assert json_types.fit(kinds["c"], [1, "y"]) == [1, None]
    assert json_types.fit(kinds["d"], {"k": 1}) == {"k": 1, "j": None}


def test_utf16_json_lines(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    lines = "".join(json.dumps({"name": f"caf\u00e9 {i}", "n": i}) + "\n" for i in range(5))
    (folder / "a.jsonl").write_bytes(lines.encode("utf-16"))
    (folder / "MLTable").write_text(
        "paths: [{file: ./a.jsonl}]\ntransformations:\n  - read_json_lines: {encoding: utf16}\n"
    )
    frame = mltable.load(folder).to_pandas_dataframe()
    assert frame["name"].tolist() == [f"caf\u00e9 {i}" for i in range(5)] and frame["n"].tolist() == list(
        range(5)
    )


def test_json_values_of_another_kind_are_null_and_logged(tmp_path, caplog):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"a": 1}\n{"a": "two"}\n{"a": 3}\n')
    (folder / "MLTable").write_text("paths: [{file: ./a.jsonl}]\ntransformations: [read_json_lines]\n")
    with caplog.at_level("WARNING", logger="dask_parallel.mltable"):
        frame = mltable.load(folder).to_pandas_dataframe()
    assert frame["a"].isna().tolist() == [False, True, False] and frame["a"].sum() == 4
    assert "1 value(s) of column 'a'" in caplog.text and "a.jsonl" in caplog.text
