"""Property: dividing a table into mini-batches never changes its rows or dtypes.

Tables are generated (column kinds, missing values, text with delimiters and quotes), written
as CSV and JSON lines, then loaded whole and as "10kb" mini-batches.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dask_parallel import mltable
from dask_parallel.inputs.mltable.table import _plain_dtypes

TEXT = st.text(alphabet="abcxyz ,;\"'\u00e9-", min_size=0, max_size=12)
KINDS = {
    "int": st.integers(-(10**12), 10**12),
    "float": st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 4)),
    "text": TEXT.filter(lambda t: t.strip() != ""),
    "bool": st.booleans(),
    "date": st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(str),
}


@st.composite
def tables(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
    rows = draw(st.integers(1, 700))
    gaps = draw(st.sampled_from((0.0, 0.1, 0.5)))
    columns = {}
    for number, kind in enumerate(kinds):
        values = draw(st.lists(KINDS[kind], min_size=rows, max_size=rows))
        holes = draw(st.lists(st.floats(0, 1), min_size=rows, max_size=rows))
        columns[f"c{number}_{kind}"] = [None if h < gaps else v for v, h in zip(values, holes)]
    return pd.DataFrame(columns)


def _write(folder, frame: pd.DataFrame, fmt: str):
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(folder / "data.csv", index=False)
        read = "read_delimited"
    else:
        with open(folder / "data.jsonl", "w") as handle:
            for row in frame.to_dict(orient="records"):
                handle.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")
        read = "read_json_lines"
    (folder / "MLTable").write_text(f"paths:\n  - pattern: ./data.*\ntransformations:\n  - {read}\n")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=tables())
def test_mini_batches_of_10kb_give_the_rows_and_dtypes_of_the_whole_table(tmp_path_factory, fmt, frame):
    folder = _write(tmp_path_factory.mktemp("t"), frame, fmt)
    table = mltable.load(folder)
    whole = table.to_pandas_dataframe()
    reader, blocks = table.blocks("10kb")
    size = next(folder.glob("data.*")).stat().st_size
    assert len(blocks) >= size // (20 * 1024)
    batches = [reader.read(block) for block in blocks]
    assert all(len(b) for b in batches), "a mini-batch of a non-empty file holds no row"
    assert all(list(b.dtypes) == list(batches[0].dtypes) for b in batches)
    joined = _plain_dtypes(pd.concat(batches, ignore_index=True))
    pd.testing.assert_frame_equal(joined, whole, check_dtype=True)
    assert len(whole) == len(frame)
