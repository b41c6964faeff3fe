"""Tabular input throughput: MLTable mini-batches through an identity run() vs pyarrow directly.

Run: ``.venv/bin/python benchmarks/tabular.py`` (a few minutes on 2 cores; ``--size-mb`` to
change the file size). It writes a CSV of about 1 GB and the same rows as parquet into a
temporary folder, then, in one run on the same 2 cores:

* pyarrow: ``pyarrow.csv.read_csv`` / ``pyarrow.parquet.read_table`` of the whole file with
  2 threads, then ``to_pandas()`` (a separate process, so its peak memory is its own);
* dask_parallel: ``dask_parallel.run`` of an identity ``run(df) -> df`` over the MLTable with
  ``mini_batch_size`` bytes per mini-batch, on a LocalCluster of 2 single-threaded worker
  processes, summary_only output (nothing is written back).

Peak memory is the highest resident memory seen: of the pyarrow process, and of the
cluster's worker processes summed (sampled every 50 ms). The report is printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

IDENTITY = "def init():\n    pass\n\ndef run(mini_batch):\n    return mini_batch\n"


def make_data(folder: Path, size_mb: int) -> tuple[Path, Path]:
    """A CSV of about ``size_mb`` MB and the same rows as parquet (row groups of 256k rows)."""
    rng = np.random.default_rng(0)
    csv_path, parquet_path = folder / "data.csv", folder / "data.parquet"
    rows_per_chunk = 500_000
    writer = None
    with open(csv_path, "wb") as sink:
        first = True
        while sink.tell() < size_mb * 1024 * 1024:
            n = rows_per_chunk
            table = pa.table(
                {
                    "id": np.arange(n, dtype=np.int64) + rng.integers(0, 1 << 40),
                    "x": rng.random(n),
                    "y": rng.normal(size=n),
                    "count": rng.integers(0, 1000, n),
                    "label": pa.array(rng.choice(["alpha", "beta", "gamma", "delta"], n)),
                    "flag": rng.random(n) > 0.5,
                }
            )
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=first))
            first = False
            if writer is None:
                writer = pq.ParquetWriter(parquet_path, table.schema)
            writer.write_table(table, row_group_size=256_000)
    writer.close()
    (folder / "csv").mkdir()
    (folder / "csv" / "MLTable").write_text(
        "paths: [{file: ../data.csv}]\ntransformations: [read_delimited]\n"
    )
    (folder / "parquet").mkdir()
    (folder / "parquet" / "MLTable").write_text(
        "paths: [{file: ../data.parquet}]\ntransformations: [read_parquet]\n"
    )
    return csv_path, parquet_path


def _pyarrow_child(kind: str, path: str, queue) -> None:
    pa.set_cpu_count(2)
    pa.set_io_thread_count(2)
    started = time.perf_counter()
    if kind == "csv":
        table = pa_csv.read_csv(path)
    else:
        table = pq.read_table(path)
    frame = table.to_pandas()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put({"seconds": seconds, "rows": len(frame), "peak_bytes": peak})


def pyarrow_read(kind: str, path: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_pyarrow_child, args=(kind, str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


class PeakSampler:
    """Highest summed RSS of a set of processes, sampled in a background thread."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(p) for p in pids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            total = 0
            for process in self.processes:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def engine_read(client, folder: Path, kind: str, mini_batch_size: str, workdir: Path) -> dict:
    import dask_parallel as dp

    code = workdir / "src"
    code.mkdir(exist_ok=True)
    (code / "identity.py").write_text(IDENTITY)
    job = dp.parallel_run_function(
        name=f"tabular_{kind}",
        inputs={"table": dp.Input(type="mltable", path=str(folder / kind), mode="direct")},
        input_data="${{inputs.table}}",
        mini_batch_size=mini_batch_size,
        max_concurrency_per_instance=2,
        retry_settings=dp.RetrySettings(max_retries=1, timeout=600),
        task=dp.RunFunction(code=str(code), entry_script="identity.py"),
    )
    pids = [p for p in client.run(os.getpid).values()]
    baseline = sum(psutil.Process(p).memory_info().rss for p in pids)
    started = time.perf_counter()
    with PeakSampler(pids) as sampler:
        result = dp.run(job, client=client, run_dir=workdir / f"run_{kind}", show_progress=False)
    seconds = time.perf_counter() - started
    assert result.status == "Completed", result.error
    return {
        "seconds": seconds,
        "rows": result.items_succeeded,
        "mini_batches": result.mini_batches_total,
        "peak_bytes": sampler.peak,
        "workers_idle_bytes": baseline,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--mini-batch-size", default="64mb")
    args = parser.parse_args(argv)

    import dask.config
    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory(prefix="dp-tabular-") as temp:
        folder = Path(temp)
        started = time.perf_counter()
        csv_path, parquet_path = make_data(folder, args.size_mb)
        print(f"data written in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        report = {
            "csv_bytes": csv_path.stat().st_size,
            "parquet_bytes": parquet_path.stat().st_size,
            "mini_batch_size": args.mini_batch_size,
            "cores": os.cpu_count(),
        }
        for kind, path in (("csv", csv_path), ("parquet", parquet_path)):
            report[f"pyarrow_{kind}"] = pyarrow_read(kind, path)
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
            )
        with cluster, Client(cluster) as client:
            for kind in ("csv", "parquet"):
                report[f"engine_{kind}"] = engine_read(client, folder, kind, args.mini_batch_size, folder)
        for kind in ("csv", "parquet"):
            base, ours = report[f"pyarrow_{kind}"], report[f"engine_{kind}"]
            assert base["rows"] == ours["rows"], (base["rows"], ours["rows"])
            report[f"{kind}_throughput_ratio"] = round(base["seconds"] / ours["seconds"], 3)
            report[f"{kind}_engine_mb_per_s"] = round(report[f"{kind}_bytes"] / ours["seconds"] / 2**20, 1)
            report[f"{kind}_pyarrow_mb_per_s"] = round(report[f"{kind}_bytes"] / base["seconds"] / 2**20, 1)
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
