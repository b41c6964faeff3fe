"""The MLTable Python surface, mini-batch cutting, partition keys, Delta Lake and datastores."""

from __future__ import annotations

import datetime as dt
import time

import dask.config
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from dask_parallel import mltable
from dask_parallel.outputs.mltable_output import describe_folder, write_output_mltable


def csv_table(tmp_path, rows=1000, files=2, extra=""):
    folder = tmp_path / "table"
    folder.mkdir()
    for f in range(files):
        lines = "".join(f"{f * rows + i},{i % 7},name{i}\n" for i in range(rows))
        (folder / f"part{f}.csv").write_text("id,group,name\n" + lines)
    (folder / "MLTable").write_text(
        "paths:\n  - pattern: ./part*.csv\ntransformations:\n  - read_delimited\n" + extra
    )
    return folder


def test_python_surface(tmp_path):
    table = mltable.load(csv_table(tmp_path))
    assert table.is_tabular and table.partition_keys == []
    assert table.paths == [{"pattern": "./part*.csv"}]
    assert len(table.to_pandas_dataframe()) == 2000
    assert table.take(5).to_pandas_dataframe()["id"].tolist() == [0, 1, 2, 3, 4]
    assert table.skip(998).take(4).to_pandas_dataframe()["id"].tolist() == [998, 999, 1000, 1001]
    assert list(table.keep_columns(["id"]).show(2).columns) == ["id"]
    assert list(table.drop_columns({"pattern": "^(id|group)$", "invert": True}).show(1).columns) == [
        "id",
        "group",
    ]
    assert table.filter('col("group") == 3 and id < 20').to_pandas_dataframe()["id"].tolist() == [3, 10, 17]
    assert len(table.show()) == 20
    with dask.config.set({}):
        count = table.get_partition_count()
    assert count == 2  # two small files at the default 1 MiB partition size
    assert table.select_partitions([1]).to_pandas_dataframe()["id"].iloc[0] == 1000
    assert "part*.csv" in repr(table) or "MLTable" in repr(table)


def test_byte_blocks_never_cross_files_and_cover_every_row_once(tmp_path):
    table = mltable.load(csv_table(tmp_path))
    reader, blocks = table.blocks("2kb")
    assert len(blocks) > 10
    assert len({(b.path, b.start) for b in blocks}) == len(blocks)
    ids = []
    for block in blocks:
        frame = reader.read(block)
        assert frame["id"].dtype == "Int64"
        assert frame["id"].floordiv(1000).nunique() == 1  # one file per block
        ids.extend(frame["id"])
    assert ids == list(range(2000))


def test_take_random_sample_is_reproducible_and_independent_of_partitioning(tmp_path):
    table = mltable.load(csv_table(tmp_path)).take_random_sample(0.3, seed=7)
    whole = table.to_pandas_dataframe()["id"].tolist()
    reader, blocks = table.blocks(1500)
    pieces = [i for b in blocks for i in reader.read(b)["id"]]
    assert whole == pieces
    assert 450 < len(whole) < 750
    other = mltable.load(table.uri).take_random_sample(0.3, seed=8).to_pandas_dataframe()["id"].tolist()
    assert other != whole


def test_parquet_row_groups_aggregate_up_to_the_size(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    data = pa.table({"a": list(range(10_000)), "b": [float(i) for i in range(10_000)]})
    pq.write_table(data, folder / "many.parquet", row_group_size=1000)
    pq.write_table(data, folder / "one.parquet")  # a single row group: one block whatever its size
    (folder / "MLTable").write_text("paths: [{pattern: ./*.parquet}]\ntransformations: [read_parquet]\n")
    table = mltable.load(folder)
    group_bytes = pq.ParquetFile(folder / "many.parquet").metadata.row_group(0).total_byte_size
    _, blocks = table.blocks(2 * group_bytes)
    many = [b for b in blocks if b.path.endswith("many.parquet")]
    one = [b for b in blocks if b.path.endswith("one.parquet")]
    assert [b.row_groups for b in many] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert len(one) == 1 and one[0].rows == 10_000


def partitioned(tmp_path):
    folder = tmp_path / "sales"
    for store, brand, rows in [(1000, "tropicana", 3), (1000, "dominicks", 2), (2000, "tropicana", 4)]:
        target = folder / str(store) / brand
        target.mkdir(parents=True)
        for week in (1, 2):
            (target / f"w{week}.csv").write_text("units\n" + "".join(f"{i}\n" for i in range(rows)))
    (folder / "MLTable").write_text(
        "paths:\n  - pattern: ./**/*.csv\ntransformations:\n  - read_delimited\n"
        "  - extract_columns_from_partition_format:\n      partition_format: '{Store}/{Brand}/{week}.csv'\n"
    )
    return folder


def test_partition_keys_make_one_mini_batch_per_combination(tmp_path):
    table = mltable.load(partitioned(tmp_path))
    assert table.partition_keys == ["Store", "Brand", "week"]
    plan = table.plan("1", ["Store", "Brand"])
    keys = [u.partition_key_value for u in plan.units]
    assert keys == [
        {"Store": "1000", "Brand": "dominicks"},
        {"Store": "1000", "Brand": "tropicana"},
        {"Store": "2000", "Brand": "tropicana"},
    ]
    frames = [plan.reader.read(u.block) for u in plan.units]
    assert [len(f) for f in frames] == [4, 6, 8]  # both weeks in one mini-batch, size ignored
    for frame, key in zip(frames, keys):
        assert set(frame["Store"]) == {key["Store"]} and set(frame["Brand"]) == {key["Brand"]}
    by_store = table.plan(None, ["Store"])
    assert [u.partition_key_value for u in by_store.units] == [{"Store": "1000"}, {"Store": "2000"}]


def test_file_list_partition_keys(tmp_path):
    folder = tmp_path / "files"
    for user, season, n in [("ann", "summer", 1), ("ann", "winter", 2), ("bob", "winter", 3)]:
        (folder / user / season).mkdir(parents=True)
        (folder / user / season / f"{n}.wav").write_text("x")
    (folder / "MLTable").write_text(
        "paths: [{folder: .}]\ntransformations:\n"
        "  - extract_columns_from_partition_format: {partition_format: '{user}/{season}/{n}.wav'}\n"
    )
    table = mltable.load(folder)
    assert not table.is_tabular
    plan = table.plan(None, ["season"])
    assert plan.kind == "files"
    assert [(u.partition_key_value, [p.rsplit("/", 1)[1] for p in u.files]) for u in plan.units] == [
        ({"season": "summer"}, ["1.wav"]),
        ({"season": "winter"}, ["2.wav", "3.wav"]),
    ]


def test_datetime_partition_keys(tmp_path):
    folder = tmp_path / "logs"
    for day in ("2024/01/02", "2024/01/03"):
        (folder / day).mkdir(parents=True)
        (folder / day / "data.csv").write_text("n\n1\n")
    (folder / "MLTable").write_text(
        "paths: [{pattern: ./**/data.csv}]\ntransformations:\n  - read_delimited\n"
        "  - extract_columns_from_partition_format: '{Day:yyyy/MM/dd}/data.csv'\n"
    )
    plan = mltable.load(folder).plan(None, ["Day"])
    assert [u.partition_key_value for u in plan.units] == [
        {"Day": dt.datetime(2024, 1, 2)},
        {"Day": dt.datetime(2024, 1, 3)},
    ]


def test_delta_lake_versions(tmp_path):
    deltalake = pytest.importorskip("deltalake")
    table_dir = tmp_path / "delta"
    deltalake.write_deltalake(
        str(table_dir), pd.DataFrame({"a": [1, 2], "p": ["x", "y"]}), partition_by=["p"]
    )
    time.sleep(0.05)
    middle = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.05)
    deltalake.write_deltalake(
        str(table_dir), pd.DataFrame({"a": [3], "p": ["x"]}), mode="append", partition_by=["p"]
    )
    for name, step, expected in [
        ("latest", "read_delta_lake", [1, 2, 3]),
        ("v0", "read_delta_lake: {version_as_of: 0}", [1, 2]),
        ("ts", f"read_delta_lake: {{timestamp_as_of: '{middle.isoformat()}'}}", [1, 2]),
    ]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "MLTable").write_text(f"paths: [{{folder: ../delta}}]\ntransformations:\n  - {step}\n")
        table = mltable.load(folder)
        frame = table.to_pandas_dataframe()
        assert sorted(frame["a"]) == expected, name
        assert set(frame.columns) == {"a", "p"}
        assert table.partition_keys == ["p"]
    keyed = mltable.load(tmp_path / "latest").plan(None, ["p"])
    assert [u.partition_key_value for u in keyed.units] == [{"p": "x"}, {"p": "y"}]


def test_datastore_uri_maps_to_the_configured_url(tmp_path):
    csv_table(tmp_path, rows=3, files=1)
    with dask.config.set({"dask-parallel.datastores": {"local": str(tmp_path)}}):
        assert mltable.resolve_datastore("azureml://datastores/local/paths/table") == f"{tmp_path}/table"
        table = mltable.load(
            "azureml://subscriptions/s/resourcegroups/r/workspaces/w/datastores/local/paths/table"
        )
        assert table.to_pandas_dataframe()["id"].tolist() == [0, 1, 2]


def test_output_mltable_describes_what_was_written(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "parallel_run_step.txt").write_text("1 a\n2 b\n")
    write_output_mltable(str(folder), "parallel_run_step.txt")
    frame = mltable.load(folder).to_pandas_dataframe()
    assert frame.values.tolist() == [[1, "a"], [2, "b"]]
    parquet_folder = tmp_path / "pq"
    parquet_folder.mkdir()
    pq.write_table(pa.table({"x": [1]}), parquet_folder / "r.parquet")
    assert describe_folder(str(parquet_folder))["transformations"] == ["read_parquet"]
    write_output_mltable(str(parquet_folder))
    assert mltable.load(parquet_folder).to_pandas_dataframe()["x"].tolist() == [1]
    other = tmp_path / "files"
    other.mkdir()
    (other / "a.png").write_text("x")
    document = describe_folder(str(other))
    assert document["paths"] == [{"file": "./a.png"}] and "transformations" not in document
    (other / "MLTable").write_text(yaml.safe_dump({"paths": [{"file": "./a.png"}], "metadata": {"mine": 1}}))
    write_output_mltable(str(other))  # an MLTable the script wrote is kept
    assert "mine" in (other / "MLTable").read_text()
