"""Every user-facing MLTable error: it names the file, the key, and what is allowed."""
# ruff: noqa: E501 - one table row per error keeps the cases readable

from __future__ import annotations

import re

import dask.config
import pandas as pd
import pytest

from dask_parallel import mltable
from dask_parallel.errors import MLTableError


def make(tmp_path, text, files=None):
    folder = tmp_path / "t"
    folder.mkdir(exist_ok=True)
    (folder / "MLTable").write_text(text)
    for name, content in (files or {"a.csv": "x,y\n1,2\n"}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


def load_error(tmp_path, text, files=None, action=lambda t: t.to_pandas_dataframe()):
    folder = make(tmp_path, text, files)
    with pytest.raises(MLTableError) as info:
        action(mltable.load(folder))
    message = str(info.value)
    assert str(folder / "MLTable") in message
    return message


READ = "paths:\n  - file: ./a.csv\ntransformations:\n"
CASES = [
    ("paths: [\n", r"line \d+ is not valid YAML"),
    ("- just a list\n", r"adhere to the AzureML MLTable schema: .*must be a mapping with a 'paths' list"),
    ("paths: [{file: ./a.csv}]\ncolumns: [a]\n", r"unknown key 'columns'; allowed keys are \$schema, type"),
    ("type: table\npaths: [{file: ./a.csv}]\n", r"type must be 'mltable' \(got 'table'\)"),
    ("paths: []\n", r"'paths' is required: a non-empty list"),
    ("paths: [{file: ./a.csv, folder: .}]\n", r"paths\[0\] must be exactly one of \{file: \.\.\.\}"),
    ("paths: [{file: 3}]\n", r"paths\[0\]: the path must be a non-empty string \(got 3\)"),
    ("paths: [{file: ./a.csv}]\ntraits: {key: a}\n", r"traits: unknown key 'key'"),
    (
        "paths: [{file: ./a.csv}]\nquery_source: {query: x}\n",
        r"query_source .* cannot be read by dask_parallel",
    ),
    (
        READ + "  - read_excel\n",
        r"transformations\[0\]: unknown transformation 'read_excel'; allowed transformations are",
    ),
    (
        READ + "  - read_delimited: {delim: ';'}\n",
        r"read_delimited: unknown option 'delim'; allowed options are delimiter",
    ),
    (
        READ + "  - read_delimited: {header: first}\n",
        r"Given invalid header 'first', supported headers are: 'no_header'",
    ),
    (
        READ + "  - read_delimited: {encoding: ebcdic}\n",
        r"read_delimited\.encoding: 'ebcdic' is not supported; use one of utf8",
    ),
    (READ + "  - read_delimited: {delimiter: ';;;'}\n", r"delimiter: must be a string of 1 or 2 characters"),
    (
        READ + "  - read_delimited: {empty_as_string: 'no'}\n",
        r"empty_as_string: must be true or false \(got 'no'\)",
    ),
    (
        READ + "  - read_delimited: {infer_column_types: {size: 3}}\n",
        r"infer_column_types: unknown option 'size'",
    ),
    (READ + "  - read_delimited\n  - read_parquet\n", r"only one read transformation is allowed"),
    (READ + "  - take: 2\n  - read_delimited\n", r"read_delimited must be the first transformation"),
    (
        READ + "  - read_delimited\n  - take: 0\n",
        r"transformations\[1\]\.take: must be an integer greater than 0 \(got 0\)",
    ),
    (READ + "  - read_delimited\n  - skip: many\n", r"skip: must be an integer greater than 0"),
    (
        READ + "  - read_delimited\n  - take_random_sample: {probability: 1.5, seed: 1}\n",
        r"probability: must be a number between 0 and 1",
    ),
    (READ + "  - read_delimited\n  - take_random_sample: {probability: 0.5}\n", r"seed: is required"),
    (
        READ + "  - read_delimited\n  - drop_columns: [x, x]\n",
        r"Found duplicate columns in given column names: \['x'\]",
    ),
    (READ + "  - read_delimited\n  - keep_columns: {pattern: '('}\n", r"is not a valid regular expression"),
    (
        READ + "  - read_delimited\n  - convert_column_types: [{columns: x, column_type: decimal}]\n",
        r"column_type: must be one of int, float, string, boolean, datetime",
    ),
    (
        READ
        + "  - read_delimited\n  - convert_column_types: [{columns: x, column_type: {boolean: {true_values: [a]}}}]\n",
        r"true_values and false_values must be given together",
    ),
    (
        READ
        + "  - read_delimited\n  - convert_column_types: [{columns: x, column_type: {boolean: {true_values: [a], false_values: [a]}}}]\n",
        r"true_values and false_values overlap: \['a'\]",
    ),
    (
        READ + "  - read_delimited\n  - convert_column_types: [{columns: x, column_type: {datetime: {}}}]\n",
        r"datetime needs formats",
    ),
    (READ + "  - read_delimited\n  - filter: 'col(\"x\") >'\n", r"filter expression .* is not valid syntax"),
    (
        READ + '  - read_delimited\n  - filter: \'__import__("os").system("true")\'\n',
        r"this function call is not supported; allowed are col",
    ),
    (READ + "  - read_delimited\n  - filter: 'x.__class__'\n", r"Attribute is not allowed"),
    (
        READ + "  - read_delimited\n  - extract_columns_from_partition_format: '{Day:MM/dd}/a.csv'\n",
        r"Invalid partition_format .* needs a yyyy part",
    ),
    (
        READ + "  - read_delimited\n  - extract_columns_from_partition_format: 'a.csv'\n",
        r"it defines no column",
    ),
    (
        "paths: [{folder: ./t}]\ntransformations:\n  - read_delta_lake: {version_as_of: 1, timestamp_as_of: '2022-10-01T00:00:00Z'}\n",
        r"Both version_as_of \(1\) and timestamp_as_of .* only one of version_as_of or timestamp_as_of can be specified",
    ),
    (
        "paths: [{folder: ./t}]\ntransformations:\n  - read_delta_lake: {timestamp_as_of: yesterday}\n",
        r"'yesterday' is not in RFC-3339/ISO-8601 format",
    ),
    (
        "paths: [{folder: ./t}]\ntransformations:\n  - read_delta_lake\n  - extract_columns_from_partition_format: '{a}/x'\n",
        r"does not work with read_delta_lake",
    ),
    (READ + "  - read_files\n", r"read_files needs Azure's stream handlers"),
]


@pytest.mark.parametrize(("text", "pattern"), CASES)
def test_invalid_mltable_is_rejected_with_a_clear_message(tmp_path, text, pattern):
    message = load_error(tmp_path, text, action=lambda t: t)
    assert re.search(pattern, message), message


def test_missing_mltable_file(tmp_path):
    with pytest.raises(MLTableError, match=r"MLTable does not exist: an mltable input must be a folder"):
        mltable.load(tmp_path)


def test_missing_file_and_folder_and_empty_pattern(tmp_path):
    message = load_error(tmp_path, "paths: [{file: ./nope.csv}]\ntransformations: [read_delimited]\n")
    assert "paths: file './nope.csv' does not exist" in message
    message = load_error(tmp_path, "paths: [{folder: ./nope}]\ntransformations: [read_delimited]\n")
    assert "paths: folder './nope' does not exist" in message
    message = load_error(tmp_path, "paths: [{pattern: ./*.tsv}]\ntransformations: [read_delimited]\n")
    assert "pattern './*.tsv' matches no file" in message and "**" in message


def test_value_that_does_not_fit_the_inferred_type_is_null_and_logged_with_column_and_file(tmp_path, caplog):
    # Like the official reader: a late value that does not fit is null; it is logged, not fatal.
    rows = "".join(f"{i},{i}\n" for i in range(300)) + "301,oops\n"
    folder = make(tmp_path, READ + "  - read_delimited\n", {"a.csv": "x,y\n" + rows})
    with caplog.at_level("WARNING", logger="dask_parallel.mltable"):
        frame = mltable.load(folder).to_pandas_dataframe()
    assert frame["y"].isna().tolist() == [False] * 300 + [True] and frame["x"].iloc[-1] == 301
    assert "1 value(s) of column 'y'" in caplog.text and "a.csv" in caplog.text and "int64" in caplog.text


def test_row_with_too_many_fields_adds_a_column_when_the_sample_shows_it(tmp_path):
    folder = make(tmp_path, READ + "  - read_delimited\n", {"a.csv": "x,y\n1,2\n3,4,5\n6\n"})
    frame = mltable.load(folder).to_pandas_dataframe()
    assert list(frame.columns) == ["x", "y", "Column3"]
    assert frame.astype(object).where(frame.notna(), None).values.tolist() == [
        [1, 2, None],
        [3, 4, 5],
        [6, None, None],
    ]


def test_columns_of_different_types_across_files_are_text(tmp_path):
    folder = make(
        tmp_path,
        "paths: [{pattern: ./*.csv}]\ntransformations: [{read_delimited: {header: all_files_different_headers}}]\n",
        {"a.csv": "x\n1\n", "b.csv": "x\n2020-01-01\n"},
    )
    assert mltable.load(folder).to_pandas_dataframe()["x"].tolist() == ["1", "2020-01-01"]


def test_parquet_schema_mismatch_names_column_and_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = make(tmp_path, "paths: [{pattern: ./*.parquet}]\ntransformations: [read_parquet]\n", {})
    pq.write_table(pa.table({"a": [1]}), folder / "1.parquet")
    pq.write_table(pa.table({"a": ["x"]}), folder / "2.parquet")
    with pytest.raises(MLTableError, match=r"column 'a' is string in .*2\.parquet but int64 in .*1\.parquet"):
        mltable.load(folder).to_pandas_dataframe()


def test_json_lines_invalid_line_error_names_file_and_offset(tmp_path):
    message = load_error(
        tmp_path,
        "paths: [{file: ./a.jsonl}]\ntransformations: [read_json_lines]\n",
        {"a.jsonl": '{"a": 1}\n{broken\n'},
    )
    assert "line 2 (at byte 9) of" in message and "a.jsonl" in message and "invalid_lines: drop" in message


def test_boolean_mismatch_is_null_not_an_error(tmp_path):
    # As the official reader: a value in neither list is null, even with mismatch_as: error.
    folder = make(
        tmp_path,
        READ + "  - read_delimited\n  - convert_column_types:\n      - columns: y\n        column_type:\n"
        "          boolean: {true_values: ['yes'], false_values: ['no']}\n",
        {"a.csv": "x,y\n1,yes\n2,maybe\n3,no\n"},
    )
    assert mltable.load(folder).to_pandas_dataframe()["y"].tolist() == [True, pd.NA, False]


def test_filter_on_a_missing_column(tmp_path):
    message = load_error(tmp_path, READ + "  - read_delimited\n  - filter: 'col(\"z\") > 1'\n")
    assert "column 'z' does not exist" in message


def test_trait_columns_cannot_be_dropped(tmp_path):
    message = load_error(
        tmp_path, READ + "  - read_delimited\n  - drop_columns: x\ntraits:\n  index_columns: [x]\n"
    )
    assert "Columns in traits must be kept and cannot be dropped" in message


def test_partition_keys_errors(tmp_path):
    folder = make(tmp_path, READ + "  - read_delimited\n")
    with pytest.raises(
        MLTableError, match="cannot retrieve partition key values for a mltable that has no partition keys"
    ):
        mltable.load(folder).plan(partition_keys=["x"])
    folder = make(
        tmp_path, READ + "  - read_delimited\n  - extract_columns_from_partition_format: '{name}.csv'\n"
    )
    with pytest.raises(
        MLTableError,
        match=r"\['store'\] are invalid partition keys; the MLTable's partition keys are \['name'\]",
    ):
        mltable.load(folder).plan(partition_keys=["store"])


def test_datastore_not_configured(tmp_path):
    expected = (
        r"(?s)datastore 'landing' .* is not configured; add it to the dask-parallel\.datastores "
        r"table.*configured datastores: other"
    )
    configured = dask.config.set({"dask-parallel.datastores": {"other": "memory://x"}})
    with configured, pytest.raises(MLTableError, match=expected):
        mltable.load("azureml://datastores/landing/paths/tables/sales")
    with pytest.raises(MLTableError, match="is an azureml:// URI that is not a datastore path"):
        mltable.load("azureml://subscriptions/s/resourcegroups/r/workspaces/w/data/d/versions/1")


def test_select_partitions_out_of_range(tmp_path):
    message = load_error(tmp_path, READ + "  - read_delimited\n  - select_partitions: [3]\n")
    assert "partition 3 does not exist; the table has 1 partitions" in message
