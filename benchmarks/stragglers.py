"""A straggler worker with and without speculative attempts, side by side.

Run: ``.venv/bin/python benchmarks/stragglers.py`` (under a minute on 2 cores).

Three single-threaded workers; the first worker process to call ``init()`` is the
straggler, and its ``run()`` sleeps ``SLOW`` times longer than the others' (a noisy
neighbour, a slow disk). Each mode runs on a fresh cluster so the straggler is chosen anew.
Prints the job's wall time in both modes, how many copies were started and whether the
output held every row exactly once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dask.config
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG

SCRIPT = """
import os, time

SLOW = False

def init():
    global SLOW
    claim = os.path.join(os.environ["STATE_DIR"], "straggler.claim")
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        SLOW = True
    except FileExistsError:
        SLOW = False

def run(mini_batch):
    time.sleep(float(os.environ["BASE"]) * (float(os.environ["SLOW"]) if SLOW else 1.0))
    return [os.path.basename(path) for path in mini_batch]
"""


def job(root: Path, files: int, base: float, slow: float, speculation: bool) -> dp.Parallel:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "score.py").write_text(SCRIPT)
    data = root / "data"
    data.mkdir(exist_ok=True)
    for i in range(files):
        (data / f"item_{i:03d}.txt").write_text(f"{i}\n")
    state = root / "state"
    state.mkdir(exist_ok=True)
    return dp.parallel_run_function(
        name="stragglers",
        inputs={"data": dp.Input(type="uri_folder", path=str(data))},
        outputs={"rows": dp.Output(type="uri_file", path=str(root / "rows.txt"))},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        task=dp.RunFunction(
            code=str(root / "src"), entry_script="score.py", append_row_to="${{outputs.rows}}"
        ),
        environment_variables={"STATE_DIR": str(state), "BASE": str(base), "SLOW": str(slow)},
        retry_settings={"timeout": 600},
        speculation={"multiplier": 3, "min_seconds": 1} if speculation else None,
    )


def measure(files: int, base: float, slow: float, speculation: bool, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with dask.config.set(LOCAL_CLUSTER_CONFIG), dask.config.set({"dask-parallel.progress": False}):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            with Client(cluster) as client:
                started = time.perf_counter()
                result = dp.run(
                    job(root, files, base, slow, speculation), client=client, run_dir=root / "run"
                )
                elapsed = time.perf_counter() - started
            cluster.close()
        rows = (root / "rows.txt").read_text().split()
        copies = (root / "run" / "logs" / "sys" / "master_role.txt").read_text().count("starting a copy")
    expected = [f"item_{i:03d}.txt" for i in range(files)]
    return {"status": result.status, "seconds": elapsed, "copies": copies, "exactly_once": rows == expected}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24, help="mini-batches of one file each")
    parser.add_argument("--base", type=float, default=0.5, help="seconds one run() takes on a normal worker")
    parser.add_argument("--slow", type=float, default=20.0, help="how many times slower the straggler is")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{args.files} mini-batches, run() {args.base}s, straggler {args.slow:g}x slower, "
        f"{args.workers} workers"
    )
    print(f"{'speculation':<12} {'job time':>9} {'copies':>7} {'rows exactly once':>18}")
    for speculation in (False, True):
        figures = measure(args.files, args.base, args.slow, speculation, args.workers)
        print(
            f"{'on' if speculation else 'off':<12} {figures['seconds']:>8.1f}s {figures['copies']:>7} "
            f"{figures['exactly_once']!s:>18}   ({figures['status']})"
        )


if __name__ == "__main__":
    main()
