"""dask_parallel's MLTable loader agrees with the official ``mltable`` package (1.7.0).

tests/fixtures/mltable/*/official.json is what the official package produced for each
fixture folder (tests/conformance/official_mltable.py, run in its own environment). Where
it loads a folder, our whole-table load must give the same columns and the same rows. The
known differences are listed here and in docs/mltable.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dask_parallel import mltable

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mltable"
RECORDED = sorted(p.parent.name for p in CORPUS.glob("*/official.json"))
LOADED = [c for c in RECORDED if "error" not in json.loads((CORPUS / c / "official.json").read_text())]
# The official reader lists this folder's files in another order than their sorted names;
# dask_parallel always takes files sorted, so the rows agree as a set, column by column.
ORDER_ONLY = {"csv_different_headers"}
# The official reader splits '||' into two one-character delimiters, making an empty column
# in between; dask_parallel takes the two characters together (spec: a 1-2 character delimiter).
DIFFERENT_BY_CHOICE = {"csv_two_char_delimiter"}


def ours(case: str) -> dict:
    frame = mltable.load(CORPUS / case).to_pandas_dataframe()
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [_numpy_name(frame[c]) for c in frame.columns],
        "rows": json.loads(frame.to_json(orient="values", date_format="iso")),
    }


def _numpy_name(column: pd.Series) -> str:
    # pandas 3 calls text "str" where the official package's pandas says "object"; a nullable
    # column with a gap is "object" there (bool) or "float64" (int).
    dtype = str(column.dtype)
    if dtype == "str" or (dtype == "boolean" and column.isna().any()):
        return "object"
    if dtype == "Int64" and column.isna().any():
        return "float64"
    return dtype


def test_the_official_package_loaded_most_of_the_corpus():
    assert len(RECORDED) >= 16
    assert len(LOADED) >= 10


@pytest.mark.parametrize("case", [c for c in LOADED if c not in DIFFERENT_BY_CHOICE])
def test_same_columns_rows_and_types_as_the_official_package(case):
    official = json.loads((CORPUS / case / "official.json").read_text())
    got = ours(case)
    if case in ORDER_ONLY:
        order = official["columns"]
        assert sorted(got["columns"]) == sorted(order)
        index = [got["columns"].index(c) for c in order]
        rows = sorted(([row[i] for i in index] for row in got["rows"]), key=repr)
        assert rows == sorted(official["rows"], key=repr)
        return
    assert got["columns"] == official["columns"]
    assert got["rows"] == official["rows"]
    assert got["dtypes"] == official["dtypes"]


def test_two_character_delimiter_is_one_delimiter_here():
    official = json.loads((CORPUS / "csv_two_char_delimiter" / "official.json").read_text())
    assert official["columns"] == ["a", "Column2", "b"]  # the official reader's split
    assert ours("csv_two_char_delimiter")["columns"] == ["a", "b"]
