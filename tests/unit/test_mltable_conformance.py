"""The MLTable corpus in tests/fixtures/mltable: each folder loads to its expected.json frame.

The expectations are written by hand from the MLTable documentation (spec section 7), one
folder per feature: header modes, encodings, multi-line values, partition formats, every
row and column transformation, parquet, JSON lines and file lists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from dask_parallel import mltable

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mltable"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "MLTable").exists())


def expected_frame(case: str) -> pd.DataFrame:
    spec = json.loads((CORPUS / case / "expected.json").read_text())
    columns = list(spec["dtypes"])
    frame = pd.DataFrame(spec["rows"], columns=columns)
    for column, dtype in spec["dtypes"].items():
        if dtype.startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column]).astype(dtype)
        elif dtype == "str":
            frame[column] = frame[column].astype("str")
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def relative_paths(frame: pd.DataFrame, case: str) -> pd.DataFrame:
    if "Path" in frame.columns:
        root = str(CORPUS / case) + os.sep
        frame = frame.assign(Path=frame["Path"].str.replace(root, "", regex=False).astype("str"))
    return frame


def test_the_corpus_covers_every_read_and_transformation():
    text = "\n".join((CORPUS / case / "MLTable").read_text() for case in CASES)
    for feature in (
        "read_delimited",
        "read_parquet",
        "read_json_lines",
        "all_files_same_headers",
        "from_first_file",
        "all_files_different_headers",
        "no_header",
        "latin1",
        "utf16",
        "utf8 bom",
        "support_multi_line",
        "empty_as_string",
        "include_path_column",
        "path_column",
        "column_type_overrides",
        "infer_column_types: false",
        "extract_columns_from_partition_format",
        "convert_column_types",
        "filter",
        "keep_columns",
        "drop_columns",
        "take",
        "skip",
        "invalid_lines",
        "pattern:",
        "folder:",
        "file:",
    ):
        assert feature in text, feature


@pytest.mark.parametrize("case", CASES)
def test_case_loads_to_expected_frame(case):
    table = mltable.load(CORPUS / case)
    got = relative_paths(table.to_pandas_dataframe(), case)
    pd.testing.assert_frame_equal(got, whole_table(expected_frame(case)))


def whole_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A whole-table load uses numpy int64 / bool for columns without a missing value (as the
    official mltable package does); mini-batches keep the nullable dtypes of expected.json."""
    for column in frame.columns:
        dtype = str(frame[column].dtype)
        if dtype in ("Int64", "boolean") and not frame[column].isna().any():
            frame[column] = frame[column].astype("int64" if dtype == "Int64" else "bool")
    return frame


@pytest.mark.parametrize("case", [c for c in CASES if c != "files_partitioned"])
def test_small_partitions_give_the_same_rows_and_types(case):
    # Cutting into 16-byte blocks (many per file) must not change a row or a dtype.
    table = mltable.load(CORPUS / case)
    reader, blocks = table.blocks(16)
    parts = [reader.read(block) for block in blocks]
    for part in parts:
        assert list(part.dtypes.astype(str)) == list(expected_frame(case).dtypes.astype(str))
    combined = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(relative_paths(combined, case), expected_frame(case))
    dask_frame = table.to_dask_dataframe(partition_size=16)
    assert dask_frame.npartitions == len(blocks)
    # Dask may convert text columns to its own string dtype; values must still agree.
    pd.testing.assert_frame_equal(
        relative_paths(dask_frame.compute().reset_index(drop=True), case),
        expected_frame(case),
        check_dtype=False,
    )
