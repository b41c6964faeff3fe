"""How long logs/job_timeline.png takes for a large run: 20,000 attempts on 8 worker processes.

Writes a synthetic run directory (the report CSV and the ledger as the engine leaves them,
with init() on each process's first attempt and some retries), then times reading it and
drawing + saving the picture. Usage: python benchmarks/timeline.py [ATTEMPTS]
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import sys
import tempfile
import time

from dask_parallel.rundir import status
from dask_parallel.rundir.ledger import REPORT_COLUMNS
from dask_parallel.rundir.status import REPORT, read_attempts
from dask_parallel.rundir.timeline import save_timeline, timeline_figure

WORKERS = 8


def synthetic_run(folder: str, attempts: int) -> str:
    random.seed(1)
    os.makedirs(os.path.join(folder, "logs", "sys", "job_report"))
    with open(os.path.join(folder, "job.json"), "w") as handle:
        json.dump({"mini_batches": attempts, "spec": {"name": "benchmark"}}, handle)
    clock = [1_700_000_000.0] * WORKERS
    rows, ledger = [], []
    for i in range(attempts):
        worker = i % WORKERS
        init = 5.0 if clock[worker] == 1_700_000_000.0 else 0.0
        elapsed = init + random.uniform(0.05, 0.3)
        failed = random.random() < 0.01
        start = clock[worker]
        clock[worker] += elapsed
        mb = f"mb{i:06d}"
        rows.append(
            [mb, i, 1, "run_error" if failed else "succeeded", "0", f"process{worker:03d}", 100 + worker,
             5, 0 if failed else 5, 5 if failed else 0,
             time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start)), f"{elapsed:.3f}",
             "boom" if failed else ""]
        )  # fmt: skip
        ledger.append(
            {"event": "attempt", "time": start + elapsed, "action": "done", "mini_batch_id": mb, "attempt": 1,
             "start_time": start, "init_time": init}
        )  # fmt: skip
    with open(os.path.join(folder, REPORT), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(rows)
    with open(os.path.join(folder, "ledger.jsonl"), "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in ledger)
    return folder


def main() -> None:
    attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        run = synthetic_run(os.path.join(tmp, "run"), attempts)
        import matplotlib  # noqa: F401 - imported before timing: the CLI pays it once either way

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        read_attempts(run)
        read = time.perf_counter() - started
        status._LEDGER_CACHE.clear()  # the drawing reads the run directory afresh, as the CLI does
        started, cpu = time.perf_counter(), time.process_time()
        figure = timeline_figure(run)
        save_timeline(run, figure=figure)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = os.path.getsize(os.path.join(run, "logs", "job_timeline.png"))
    print(f"{attempts} attempts on {WORKERS} processes:")
    print(f"  reading the run directory      {read:.3f} s")
    print(
        f"  reading + drawing + saving PNG {total:.3f} s wall, {cpu:.3f} s CPU "
        f"({total / attempts * 1000:.3f} ms per attempt; the wall time grows when other work shares the CPU)"
    )
    print(
        f"  peak memory {peak / 1024:.0f} MiB ({(peak - before) / 1024:.0f} MiB more than before); "
        f"PNG {size} bytes"
    )


if __name__ == "__main__":
    main()
