"""Tabular MLTable inputs: byte-sized mini-batches that never cross files, read on workers."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import dask_parallel as dp
from tests.conftest import write_script

pytestmark = pytest.mark.slow

IDENTITY = """
import os

def run(df):
    with open(os.path.join(os.environ["SEEN"], f"{os.getpid()}-{id(df)}-{len(df)}.csv"), "w") as f:
        df.to_csv(f, index=False)
    return df
"""


def tabular_job(tmp_path, mltable_text, mini_batch_size, script=IDENTITY, **settings):
    folder = tmp_path / "table"
    (folder / "MLTable").write_text(mltable_text)
    write_script(tmp_path / "src", script)
    seen = tmp_path / "seen"
    seen.mkdir()
    return dp.parallel_run_function(
        name="tabular",
        inputs={"table": dp.Input(type="mltable", path=str(folder), mode="direct")},
        outputs={"out": dp.Output(type="uri_file", path=str(tmp_path / "out.txt"))},
        input_data="${{inputs.table}}",
        mini_batch_size=mini_batch_size,
        environment_variables={"SEEN": str(seen)},
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
        **settings,
    )


def write_csvs(folder, files=3, rows=200):
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for f in range(files):
        frame = pd.DataFrame(
            {
                "id": range(f * rows, (f + 1) * rows),
                "value": [i * 0.5 for i in range(rows)],
                "name": [f"row{f}-{i}" for i in range(rows)],
            }
        )
        frame.to_csv(folder / f"part{f}.csv", index=False)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_csv_mini_batches_by_bytes(tmp_path, client):
    expected = write_csvs(tmp_path / "table")
    job = tabular_job(
        tmp_path,
        "paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n      delimiter: ','\n",
        "1kb",
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.items_total == len(expected) == result.items_succeeded
    # Each file is ~5 KB: several 1 KB mini-batches per file, none crossing files.
    assert result.mini_batches_total >= 3 * 4
    frames = [pd.read_csv(p) for p in (tmp_path / "seen").iterdir()]
    for frame in frames:
        assert frame["name"].str.split("-").str[0].nunique() == 1  # one file per mini-batch
        assert len(frame) > 0
    # Rows arrive exactly once and typed the same in every mini-batch.
    combined = pd.concat(frames).sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(combined, expected, check_dtype=False)
    # append_row: space separated, no header, no index, in input order.
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert lines[0] == "0 0.0 row0-0"
    assert lines == [f"{r.id} {r.value} {r.name}" for r in expected.itertuples()]


def test_same_dtypes_in_every_partition(tmp_path, client):
    # The first rows look integer, later rows are floats: types come from the start of the file
    # and a conflicting later value is reported with the file, not as a dtype crash.
    folder = tmp_path / "table"
    folder.mkdir()
    (folder / "a.csv").write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(400)))
    script = """
    def run(df):
        return [str(df.dtypes["x"])] * len(df)
    """
    job = tabular_job(
        tmp_path, "paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited\n", "512", script
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    # Nullable Int64: a block with an empty cell keeps the same dtype as the others.
    assert set((tmp_path / "out.txt").read_text().split()) == {"Int64"}
    assert result.mini_batches_total > 3


def test_parquet_row_groups(tmp_path, client):
    folder = tmp_path / "table"
    folder.mkdir()
    table = pa.table({"id": list(range(1000)), "text": [f"t{i}" for i in range(1000)]})
    pq.write_table(table, folder / "data.parquet", row_group_size=100)
    pq.write_table(table.slice(0, 50), folder / "small.parquet")
    job = tabular_job(tmp_path, "paths:\n  - pattern: ./*.parquet\ntransformations:\n  - read_parquet\n", "1")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total == 11  # 10 row groups + one small file
    assert result.items_total == 1050
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert lines[:2] == ["0 t0", "1 t1"] and len(lines) == 1050


ASSIGNS = """
def run(df):
    df.loc[df["id"] % 2 == 0, "value"] = -1.0  # in place, as scoring scripts do
    df.loc[df.index[0], "id"] = -df.loc[df.index[0], "id"] - 1
    df["value"] *= 2
    return df[["id", "value"]]
"""


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_run_may_assign_into_its_mini_batch(tmp_path, client, kind):
    folder = tmp_path / "table"
    folder.mkdir()
    frame = pd.DataFrame({"id": range(400), "value": [i * 0.5 for i in range(400)]})
    if kind == "csv":
        frame.to_csv(folder / "data.csv", index=False)
        read = "read_delimited"
    else:
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / "data.parquet", row_group_size=100
        )
        read = "read_parquet"
    job = tabular_job(
        tmp_path, f"paths:\n  - file: ./data.{kind}\ntransformations:\n  - {read}\n", "1kb", ASSIGNS
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total > 1 and result.items_succeeded == 400
    rows = [line.split() for line in (tmp_path / "out.txt").read_text().splitlines()]
    starts = {int(i) for i, _ in rows if int(i) < 0}
    assert len(starts) == result.mini_batches_total  # each mini-batch's first id was rewritten
    values = {int(i): float(v) for i, v in rows if int(i) >= 0}
    assert all(v == (-2.0 if i % 2 == 0 else i * 1.0) for i, v in values.items())


def test_tabular_dataframe_with_header_option(tmp_path, client):
    write_csvs(tmp_path / "table", files=1, rows=50)
    job = tabular_job(
        tmp_path,
        "paths:\n  - file: ./part0.csv\ntransformations:\n  - read_delimited\n",
        "300",
    )
    job.task.program_arguments = "--append_row_dataframe_header True"
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert lines[0] == "id value name"
    assert lines.count("id value name") == 1 and len(lines) == 51
    assert result.mini_batches_total > 1


def test_settings_json_changes_the_separator(tmp_path, client):
    write_csvs(tmp_path / "table", files=1, rows=5)
    job = tabular_job(
        tmp_path, "paths:\n  - file: ./part0.csv\ntransformations:\n  - read_delimited\n", "1mb"
    )
    (tmp_path / "src" / "parallel_run_step.settings.json").write_text(
        '{"append_row": {"pandas.DataFrame.to_csv": {"sep": ","}}}'
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "out.txt").read_text().splitlines()[0] == "0,0.0,row0-0"


def test_file_list_mltable_feeds_file_mini_batches(tmp_path, client):
    folder = tmp_path / "table"
    (folder / "images").mkdir(parents=True)
    for i in range(5):
        (folder / "images" / f"{i}.png").write_bytes(b"x" * i)
    script = """
    import os
    def run(mb):
        return [f"{os.path.basename(p)}: {os.path.getsize(p)}" for p in mb]
    """
    job = tabular_job(tmp_path, "paths:\n  - folder: ./images\n", "2", script)
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert result.mini_batches_total == 3
    assert (tmp_path / "out.txt").read_text() == "".join(f"{i}.png: {i}\n" for i in range(5))


def test_mini_batches_as_a_dask_dataframe(tmp_path, client):
    """The job's division, as a Dask dataframe: one partition per mini-batch, same rows."""
    expected = write_csvs(tmp_path / "table", files=2, rows=100)
    job = tabular_job(tmp_path, "paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited\n", "1kb")
    frame = dp.mini_batches(job)
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert frame.npartitions == result.mini_batches_total > 2
    # One from_map over the blocks: a single task name, one task per mini-batch.
    assert type(frame.expr).__name__ == "FromMap"
    assert len({key[0] for key in frame.dask}) == 1 and len(frame.dask) == frame.npartitions
    sizes = frame.map_partitions(len).compute().tolist()
    assert sum(sizes) == len(expected) and all(sizes)
    pd.testing.assert_frame_equal(frame.compute().reset_index(drop=True), expected, check_dtype=False)
