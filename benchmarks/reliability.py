"""Failure handling costs: timeout-to-retry latency, retries' effect on throughput, resume.

Run: ``.venv/bin/python benchmarks/reliability.py`` (a few minutes on 2 cores).

1. A hung ``run()`` with ``timeout=2``: seconds from the deadline to the retry starting
   (the worker process is replaced in between).
2. 1,000 trivial mini-batches with 0 %, 1 % and 10 % of them failing once: wall time.
3. A 1,000-mini-batch job started from the CLI, its client killed at about 90 %, then
   resumed: seconds until the first new mini-batch starts, and how many ran again.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask.config
from distributed import Client, LocalCluster

import dask_parallel as dp
from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG

# Every attempt appends "<index> <start time>" to RECORD; mini-batches whose index is a
# multiple of FAIL_EVERY fail on their first attempt; HANG makes mini-batch 1 hang once.
SCRIPT = """
import os, time

def run(mini_batch, context):
    started = time.time()
    record = os.environ["RECORD"]
    first = True
    if os.path.exists(record):
        with open(record) as f:
            first = not any(line.split()[0] == str(context.minibatch_index) for line in f)
    with open(record, "a") as f:
        f.write(f"{context.minibatch_index} {started}\\n")
    every = int(os.environ.get("FAIL_EVERY", "0"))
    if first and every and context.minibatch_index % every == 0:
        raise ValueError("fails once")
    if first and os.environ.get("HANG") and context.minibatch_index == 1:
        time.sleep(3600)
    time.sleep(float(os.environ.get("DELAY", "0")))
    return mini_batch
"""


def project(root: Path, files: int) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "score.py").write_text(SCRIPT)
    data = root / "data"
    if not data.exists():
        data.mkdir()
        for i in range(files):
            (data / f"f{i:05d}").write_text("x")
    return root


def job(root: Path, env: dict[str, str], **settings) -> dp.Parallel:
    return dp.parallel_run_function(
        name="reliability",
        inputs={"data": dp.Input(type="uri_folder", path=str(root / "data"))},
        outputs={"out": dp.Output(type="uri_file", path=str(root / "out.txt"))},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        max_concurrency_per_instance=2,
        is_deterministic=False,
        environment_variables=env,
        task=dp.RunFunction(
            code=str(root / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
        **settings,
    )


def records(path: Path) -> list[tuple[int, float]]:
    if not path.exists():
        return []
    return [(int(a), float(b)) for a, b in (line.split() for line in path.read_text().splitlines())]


def timeout_to_retry(client: Client, root: Path) -> float:
    project(root, 4)
    record = root / "record.txt"
    result = dp.run(
        job(root, {"RECORD": str(record), "HANG": "1"}, retry_settings={"timeout": 2, "max_retries": 2}),
        client=client,
        run_dir=root / "run",
    )
    assert result.status == "Completed", result.error
    starts = [t for index, t in records(record) if index == 1]
    return starts[1] - (starts[0] + 2)


def failing_once(client: Client, root: Path, every: int, count: int) -> float:
    record = root / f"record-{every}.txt"
    started = time.perf_counter()
    result = dp.run(
        job(root, {"RECORD": str(record), "FAIL_EVERY": str(every)}),
        client=client,
        run_dir=root / f"run-{every}-{time.time_ns()}",
    )
    elapsed = time.perf_counter() - started
    assert result.status == "Completed" and result.mini_batches_succeeded == count, result.error
    return elapsed


def resume_after_kill(client: Client, root: Path, count: int) -> dict[str, float]:
    project(root, count)
    record = root / "record.txt"
    (root / "job.yml").write_text(
        "type: parallel\nname: resume_bench\ninputs:\n  data: {type: uri_folder, path: ./data}\n"
        "outputs:\n  out: {type: uri_file, path: ./out.txt}\ninput_data: ${{inputs.data}}\n"
        'mini_batch_size: "1"\nmax_concurrency_per_instance: 2\n'
        f'environment_variables: {{RECORD: "{record}", DELAY: "0.004"}}\n'
        "task:\n  type: run_function\n  code: ./src\n  entry_script: score.py\n"
        "  append_row_to: ${{outputs.out}}\n"
    )
    run_dir = root / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-m", "dask_parallel", "run", "job.yml", "--run-dir", str(run_dir), "--quiet"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ledger = run_dir / "ledger.jsonl"
    target = int(count * 0.9)
    while True:
        done = ledger.read_text().count('"event": "final"') if ledger.exists() else 0
        if done >= target or process.poll() is not None:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = ledger.read_text().count('"event": "final"')
    before = len(records(record))
    started = time.time()
    result = dp.resume(run_dir, client=client)
    total = time.time() - started
    assert result.status == "Completed", result.error
    new = records(record)[before:]
    rows = (root / "out.txt").read_text().split()
    assert len(rows) == count, "every row exactly once"
    return {
        "mini_batches": count,
        "finished_before_kill": finished,
        "mini_batches_run_on_resume": len({index for index, _ in new}),
        "seconds_to_first_new_mini_batch": min(t for _, t in new) - started,
        "resume_total_s": total,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mini-batches", type=int, default=1000)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    n = args.mini_batches
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, dask.config.set({"dask-parallel.progress": False}):
        root = Path(tmp)
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        with cluster, Client(cluster) as client:
            figures["timeout_to_retry_s"] = timeout_to_retry(client, root / "hung")
            throughput = project(root / "throughput", n)
            failing_once(client, throughput, 0, n)  # warm up
            base = failing_once(client, throughput, 0, n)
            for every, label in ((100, "1%"), (10, "10%")):
                elapsed = failing_once(client, throughput, every, n)
                figures[f"failing_once_{label}_s"] = elapsed
                figures[f"failing_once_{label}_vs_none"] = elapsed / base
            figures["no_failures_s"] = base
            figures["resume"] = resume_after_kill(client, root / "resume", n)
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
