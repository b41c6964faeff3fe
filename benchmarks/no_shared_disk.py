"""Per-mini-batch cost without a shared disk against the shared-disk mode, side by side.

Run: ``.venv/bin/python benchmarks/no_shared_disk.py`` (about a minute on 2 cores). One
LocalCluster of 2 single-threaded worker processes runs the same job of 1,000 one-file
mini-batches (trivial ``run()``, ``append_row`` output) with
``dask-parallel.shared-filesystem`` forced to ``true`` (workers read the input and write
rows and logs in the run directory) and to ``false`` (the code archive, each file's bytes
with its task, rows and log lines back with each result), alternating, several times.
Also measured: the time from calling ``run()`` to the first finished mini-batch (the ledger's
first attempt record), which includes the per-run probe and, without a shared disk, packing
and registering the code archive.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dask.config
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG

TRIVIAL = "def run(mini_batch):\n    return [p[-6:] for p in mini_batch]\n"


def make_job(root: Path, files: int) -> dp.Parallel:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (data / f"f{i:05d}").write_text("x")
    src = root / "src"
    src.mkdir(exist_ok=True)
    (src / "score.py").write_text(TRIVIAL)
    return dp.parallel_run_function(
        name="bench",
        inputs={"data": dp.Input(type="uri_folder", path=str(data))},
        outputs={"out": dp.Output(type="uri_file", path=str(root / "out.txt"))},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        max_concurrency_per_instance=2,
        is_deterministic=False,
        task=dp.RunFunction(code=str(src), entry_script="score.py", append_row_to="${{outputs.out}}"),
    )


def one_run(client: Client, job: dp.Parallel, run_dir: Path, shared: bool) -> tuple[float, float]:
    """(wall seconds of run(), seconds from run() to the first finished mini-batch)."""
    with dask.config.set({"dask-parallel.shared-filesystem": shared}):
        start_wall = time.time()
        start = time.perf_counter()
        result = dp.run(job, client=client, run_dir=run_dir)
        wall = time.perf_counter() - start
    assert result.status == "Completed", result.error
    first = min(
        json.loads(line)["time"]
        for line in (run_dir / "ledger.jsonl").read_text().splitlines()
        if '"event": "attempt"' in line
    )
    mode = "do not share" if not shared else "share"
    assert f"workers {mode} this disk" in (run_dir / "logs" / "sys" / "master_role.txt").read_text()
    return wall, first - start_wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mini-batches", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    n = args.mini_batches
    figures: dict[str, list[tuple[float, float]]] = {"shared": [], "no-shared": []}
    with tempfile.TemporaryDirectory() as tmp, dask.config.set({"dask-parallel.progress": False}):
        root = Path(tmp)
        job = make_job(root, n)
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
            )
        with cluster, Client(cluster) as client:
            one_run(client, job, root / "warm-up", True)  # imports, first init()
            one_run(client, job, root / "warm-up-2", False)
            for number in range(args.repeat):
                for shared in (True, False):
                    label = "shared" if shared else "no-shared"
                    figures[label].append(one_run(client, job, root / f"{label}-{number}", shared))
    shared_wall = statistics.median(w for w, _ in figures["shared"])
    remote_wall = statistics.median(w for w, _ in figures["no-shared"])
    shared_first = statistics.median(f for _, f in figures["shared"])
    remote_first = statistics.median(f for _, f in figures["no-shared"])
    print(f"{n} one-file mini-batches, 2 worker processes, median of {args.repeat} runs each\n")
    print(f"{'':28}{'shared disk':>14}{'no shared disk':>16}")
    print(f"{'wall time of run()':28}{shared_wall:>12.2f} s{remote_wall:>14.2f} s")
    print(f"{'per mini-batch':28}{shared_wall / n * 1e3:>11.2f} ms{remote_wall / n * 1e3:>13.2f} ms")
    print(f"{'run() to first mini-batch':28}{shared_first:>12.2f} s{remote_first:>14.2f} s")
    print(
        f"\nno shared disk / shared disk, per mini-batch: {remote_wall / shared_wall:.2f}x (target <= 1.3x)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "mini_batches": n,
                    "shared_wall": shared_wall,
                    "no_shared_wall": remote_wall,
                    "shared_first": shared_first,
                    "no_shared_first": remote_first,
                    "ratio": remote_wall / shared_wall,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
