"""Engine overhead per mini-batch, side by side with raw Dask ``Client.map`` in the same run.

Run: ``.venv/bin/python benchmarks/overhead.py`` (several minutes on 2 cores: 50,000 and
100,000 mini-batches), or ``--quick`` for small sizes in about a minute. Every figure is
measured in one run on one cluster, so the ratios compare like with like.

The "fixed" figures are a job of two mini-batches against two raw tasks: the part of a run
that does not grow with its size, which "engine - raw" at each size can be compared with.

Client CPU is the CPU time of this process (``time.process_time``: every thread of it,
including the in-process scheduler of a LocalCluster, which raw Dask pays as well).
``--scheduler process`` puts the scheduler in a process of its own (``dask scheduler``)
and shows that process's CPU apart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    return [item]


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
            (data / f"f{i:06d}").write_text("x")
    src = root / "src"
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


def measure(function: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall seconds and median client CPU seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


@contextlib.contextmanager
def cluster_client(scheduler: str, root: Path) -> Iterator[tuple[Client, Callable[[], float]]]:
    """A client of 2 single-threaded worker processes, and a function giving the CPU seconds
    the scheduler has used when it runs in a process of its own (0 when in this one)."""
    if scheduler == "in-process":
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        with cluster, Client(cluster) as client:
            yield client, lambda: 0.0
        return
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
    }
    scheduler_file = root / "scheduler.json"
    log = open(root / "cluster.log", "w")  # noqa: SIM115 - closed below
    python = [sys.executable, "-m"]
    processes = [
        subprocess.Popen(
            [*python, "distributed.cli.dask_scheduler", "--port", "0", "--dashboard-address", ":0",
             "--scheduler-file", str(scheduler_file)],
            env=env, stdout=log, stderr=log,
        )
    ]  # fmt: skip
    try:
        while not scheduler_file.exists():
            time.sleep(0.1)
        processes.append(
            subprocess.Popen(
                [*python, "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                 "--nworkers", "2", "--nthreads", "1"],
                env=env, stdout=log, stderr=log,
            )
        )  # fmt: skip
        with Client(scheduler_file=str(scheduler_file)) as client:
            client.wait_for_workers(2, timeout=120)
            yield client, lambda: _process_cpu(processes[0].pid)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=60)
        log.close()


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: about a minute")
    parser.add_argument("--compare", type=int, nargs="+", help="sizes run by both engine and raw Dask")
    parser.add_argument("--flat", type=int, nargs="+", help="sizes whose per-mini-batch cost is shown")
    parser.add_argument("--cpu-mini-batches", type=int)
    parser.add_argument("--repeat", type=int, help="runs per figure at sizes up to 10,000 (median shown)")
    parser.add_argument("--scheduler", choices=("in-process", "process"), default="in-process")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    compare = args.compare or ([1000, 5000] if args.quick else [1000, 50_000])
    flat = args.flat or ([1000, 5000, 10_000] if args.quick else [1000, 10_000, 100_000])
    cpu_n = args.cpu_mini_batches or (100 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 3)

    figures: dict[str, Any] = {"scheduler": args.scheduler}
    with (
        tempfile.TemporaryDirectory() as tmp,
        dask.config.set({"dask-parallel.progress": False}),
        cluster_client(args.scheduler, Path(tmp)) as (client, scheduler_cpu),
    ):
        root = Path(tmp)
        runs = iter(range(1_000_000))

        def engine(job: dp.Parallel) -> None:
            result = dp.run(job, client=client, run_dir=root / f"run{next(runs)}")
            assert result.status == "Completed", result.error

        def raw_map(count: int, function: Callable[[Any], Any]) -> None:
            client.gather(client.map(function, range(count), pure=False))

        # Warm up (imports in the workers, the engine's first run).
        engine(make_job(root / "warm", TRIVIAL, 20))
        raw_map(20, noop)

        # The fixed part of a run (job.json, the cluster checks, init() on each worker, the
        # output and the report), next to raw Dask's for the same two tasks.
        two = make_job(root / "two", TRIVIAL, 2)
        figures["fixed: engine wall s, 2 mini-batches"], _ = measure(lambda: engine(two), repeat)
        figures["fixed: raw Client.map wall s, 2 tasks"], _ = measure(lambda: raw_map(2, noop), repeat)

        engine_cost: dict[int, tuple[float, float, float]] = {}
        for n in sorted(set(compare) | set(flat)):
            job = make_job(root / f"trivial{n}", TRIVIAL, n)
            times = repeat if n <= 10_000 else 1
            before = scheduler_cpu()
            wall, cpu = measure(lambda job=job: engine(job), times)
            engine_cost[n] = (wall, cpu, (scheduler_cpu() - before) / times)
            if n in compare:
                before = scheduler_cpu()
                raw_wall, raw_cpu = measure(lambda n=n: raw_map(n, noop), times)
                raw_scheduler = (scheduler_cpu() - before) / times
                figures[f"{n}: engine wall s"] = wall
                figures[f"{n}: raw Client.map wall s"] = raw_wall
                figures[f"{n}: wall engine / raw (target <= 1.1)"] = wall / raw_wall
                figures[f"{n}: wall engine - raw s"] = wall - raw_wall
                figures[f"{n}: engine client CPU ms per mini-batch"] = 1000 * cpu / n
                figures[f"{n}: raw client CPU ms per task"] = 1000 * raw_cpu / n
                figures[f"{n}: client CPU engine / raw (target <= 1.2)"] = cpu / raw_cpu
                if args.scheduler == "process":
                    figures[f"{n}: engine scheduler CPU ms per mini-batch"] = 1000 * engine_cost[n][2] / n
                    figures[f"{n}: raw scheduler CPU ms per task"] = 1000 * raw_scheduler / n
        for n in flat:
            wall, cpu, _ = engine_cost[n]
            figures[f"flat {n}: engine wall ms per mini-batch"] = 1000 * wall / n
            figures[f"flat {n}: engine client CPU ms per mini-batch"] = 1000 * cpu / n

        cpu_job = make_job(root / "cpu", CPU_BOUND, cpu_n)
        engine(cpu_job)
        engine_wall, _ = measure(lambda: engine(cpu_job), repeat)
        raw_wall, _ = measure(lambda: raw_map(cpu_n, cpu_task), repeat)
        single, _ = measure(lambda: [cpu_task(i) for i in range(cpu_n)], repeat)
        figures[f"cpu-bound {cpu_n}: single process s"] = single
        figures[f"cpu-bound {cpu_n}: engine 2 workers s"] = engine_wall
        figures[f"cpu-bound {cpu_n}: raw Client.map 2 workers s"] = raw_wall
        figures["cpu-bound: engine speed-up"] = single / engine_wall
        figures["cpu-bound: raw Client.map speed-up"] = single / raw_wall
        figures["cpu-bound: engine / raw speed-up (target >= 0.97)"] = raw_wall / engine_wall
        figures["cpu-bound: wall engine - raw s"] = engine_wall - raw_wall

    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"{key.ljust(width)}  {shown}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
