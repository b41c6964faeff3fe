"""One worker's share of a tabular job: turning parquet row groups into DataFrames, in one process.

Run: ``.venv/bin/python benchmarks/block_reads.py`` (about a minute). It writes a parquet
file of ``--row-groups`` row groups of 256k rows (the columns of ``tabular.py``) into a
temporary folder, then, in this process with pyarrow's default threads, times each way of
turning one row group after another into a pandas DataFrame (the fastest of ``--repeat``
passes over the first 120 row groups):

* **engine**: ``TableReader.read`` of one-row-group blocks, as a mini-batch is read;
* **pyarrow to_pandas**: ``ParquetFile.read_row_groups`` then plain ``to_pandas()``
  (numpy ``int64``/``bool``, no nullable dtypes);
* **nullable mapping**: the same read, then ``to_pandas`` with pandas' ``Int64``/``boolean``
  dtypes as ``types_mapper`` (how the engine converted blocks before it converted numeric
  columns itself);
* the conversion alone, of row groups already read: the engine's, ``to_pandas`` with the
  nullable mapping, plain ``to_pandas``;
* **footer**: opening the file and parsing its footer, against opening it with the footer
  already parsed (what a worker does for every block after the first of a file).

Then the memory of a "100mb" block (about 15 row groups), read twice in a fresh process:
its peak resident memory above what the process held before, against the DataFrame's size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tabular import sample_table  # the same columns as the tabular benchmark


def make_file(folder: Path, row_groups: int) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "data.parquet"
    rows = 256_000
    with pq.ParquetWriter(path, sample_table(rng, 1).schema) as writer:
        for _ in range(row_groups):
            writer.write_table(sample_table(rng, rows), row_group_size=rows)
    (folder / "MLTable").write_text("paths: [{file: ./data.parquet}]\ntransformations: [read_parquet]\n")
    return path


def fastest_ms(action, count: int, repeat: int) -> float:
    action(0)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for index in range(count):
            action(index)
        best = min(best, (time.perf_counter() - started) / count * 1000)
    return best


def speed(folder: Path, path: Path, repeat: int) -> None:
    import pandas as pd

    from dask_parallel import mltable

    reader, blocks = mltable.load(str(folder)).blocks("1kb")  # one row group per block
    parquet = pq.ParquetFile(path)
    count = min(120, len(blocks))
    nullable = {pa.string(): pd.StringDtype(na_value=np.nan), pa.int64(): pd.Int64Dtype()}
    nullable[pa.bool_()] = pd.BooleanDtype()
    rows = [
        ("engine: TableReader.read", lambda i: reader.read(blocks[i])),
        ("pyarrow read_row_groups + to_pandas", lambda i: parquet.read_row_groups([i]).to_pandas()),
        (
            "same read, nullable mapping (engine before)",
            lambda i: parquet.read_row_groups([i]).to_pandas(types_mapper=nullable.get),
        ),
        ("pyarrow read_row_groups only", lambda i: parquet.read_row_groups([i])),
    ]
    print(
        f"{parquet.metadata.num_row_groups} row groups of 256k rows; fastest of {repeat} passes over {count}"
    )
    for label, action in rows:
        print(f"  {label:<46} {fastest_ms(action, count, repeat):7.2f} ms per row group")
    from dask_parallel.inputs.mltable.frames import to_pandas

    tables = [parquet.read_row_groups([i]) for i in range(min(count, 40))]
    conversions = [
        ("engine's conversion", lambda i: to_pandas(tables[i])),
        ("to_pandas, nullable mapping", lambda i: tables[i].to_pandas(types_mapper=nullable.get)),
        ("to_pandas", lambda i: tables[i].to_pandas()),
    ]
    print(f"converting row groups already read (the same {len(tables)} tables each time, not consumed):")
    for label, action in conversions:
        print(f"  {label:<46} {fastest_ms(action, len(tables), repeat):7.2f} ms per row group")
    metadata = parquet.metadata
    parsing = fastest_ms(lambda i: pq.ParquetFile(path), 50, repeat)
    opened = fastest_ms(lambda i: pq.ParquetFile(path, metadata=metadata), 50, repeat)
    print(f"  {'open the file, parse its footer':<46} {parsing:7.2f} ms")
    print(f"  {'open the file, footer already parsed':<46} {opened:7.2f} ms")


MEMORY_CHILD = """
import sys, threading, time, psutil
from dask_parallel import mltable
process = psutil.Process()
reader, blocks = mltable.load(sys.argv[1]).blocks("100mb")
peak, stop = [0], [False]
def sample():
    while not stop[0]:
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.002)
thread = threading.Thread(target=sample, daemon=True)
thread.start()
for attempt in ("first", "second"):
    before = process.memory_info().rss
    peak[0] = before
    frame = reader.read(blocks[0])
    size = frame.memory_usage(deep=True).sum()
    del frame
    time.sleep(0.05)
    print(f"  {attempt} read of a 100mb block ({len(blocks[0].row_groups)} row groups): DataFrame "
          f"{size / 2**20:,.0f} MB, peak {(peak[0] - before) / 2**20:,.0f} MB above before "
          f"({(peak[0] - before) / size:.1f}x the DataFrame)")
stop[0] = True
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row-groups", type=int, default=160)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dp-block-reads-") as temp:
        folder = Path(temp)
        path = make_file(folder, args.row_groups)
        speed(folder, path, args.repeat)
        print("memory, in a fresh process:")
        sys.stdout.flush()
        subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(folder)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
