"""Engine overhead per mini-batch, side by side with raw Dask, a process pool and a loop.

Run: ``.venv/bin/python benchmarks/overhead.py`` (about a minute on 2 cores). Everything is
measured in one run on one LocalCluster, so the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dask.config
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG

TRIVIAL = "def run(mini_batch):\n    return mini_batch\n"
CPU_BOUND = """
import time

def burn(seconds):
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1
    return x

def run(mini_batch):
    burn(0.02)
    return mini_batch
"""


def noop(item):
    return item


def burn(seconds: float) -> int:
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1
    return x


def cpu_task(item):
    burn(0.02)
    return [item]


def make_job(root: Path, script: str, files: int) -> dp.Parallel:
    data = root / "data"
    if not data.exists():
        data.mkdir(parents=True)
        for i in range(files):
            (data / f"f{i:05d}").write_text("x")
    src = root / f"src_{abs(hash(script))}"
    src.mkdir(exist_ok=True)
    (src / "score.py").write_text(script)
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


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mini-batches", type=int, default=1000)
    parser.add_argument("--cpu-mini-batches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    n, cpu_n = args.mini_batches, args.cpu_mini_batches

    with tempfile.TemporaryDirectory() as tmp, dask.config.set({"dask-parallel.progress": False}):
        root = Path(tmp)
        trivial_job = make_job(root / "trivial", TRIVIAL, n)
        cpu_job = make_job(root / "cpu", CPU_BOUND, cpu_n)
        runs = iter(range(10_000))

        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        with cluster, Client(cluster) as client, ProcessPoolExecutor(2) as pool:

            def engine(job):
                result = dp.run(job, client=client, run_dir=root / f"run{next(runs)}")
                assert result.status == "Completed", result.error
                return result

            def raw_map(count, function):
                futures = client.map(function, range(count), pure=False)
                client.gather(futures)

            items = [str(p) for p in sorted((root / "trivial" / "data").iterdir())]
            # Warm everything up once (imports in workers, pool start).
            engine(trivial_job)
            raw_map(10, noop)
            list(pool.map(noop, range(10)))

            figures = {
                "mini_batches": n,
                "engine_s": timed(lambda: engine(trivial_job), args.repeat),
                "client_map_s": timed(lambda: raw_map(n, noop), args.repeat),
                "process_pool_s": timed(lambda: list(pool.map(noop, range(n))), args.repeat),
                "plain_loop_s": timed(lambda: [noop([p]) for p in items], args.repeat),
            }
            figures["engine_ms_per_mini_batch"] = 1000 * figures["engine_s"] / n
            figures["client_map_ms_per_task"] = 1000 * figures["client_map_s"] / n
            figures["engine_vs_client_map"] = figures["engine_s"] / figures["client_map_s"]

            engine(cpu_job)
            figures["cpu_mini_batches"] = cpu_n
            figures["cpu_engine_2_workers_s"] = timed(lambda: engine(cpu_job), args.repeat)
            figures["cpu_client_map_2_workers_s"] = timed(lambda: raw_map(cpu_n, cpu_task), args.repeat)
            figures["cpu_single_process_s"] = timed(lambda: [cpu_task(i) for i in range(cpu_n)], args.repeat)
            figures["cpu_speedup"] = figures["cpu_single_process_s"] / figures["cpu_engine_2_workers_s"]
            figures["cpu_speedup_client_map"] = (
                figures["cpu_single_process_s"] / figures["cpu_client_map_2_workers_s"]
            )

    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(
            f"{key.ljust(width)}  {value:.4g}" if isinstance(value, float) else f"{key.ljust(width)}  {value}"
        )
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
