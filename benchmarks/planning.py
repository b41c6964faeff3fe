"""Planning a job over many files: dask_parallel against a bare os.scandir and dask.bag.

Run: ``.venv/bin/python benchmarks/planning.py`` (100,000 and 1,000,000 files; a few minutes,
most of it creating and removing the files), or ``--sizes 100000`` for a quick run.

For each size, empty files are created in a temporary folder (removed at the end), in
sub-folders of ``--per-folder`` files, and measured in the same run (the listing and
planning figures are the fastest of ``--repeat`` interleaved runs):

- ``scandir_chunk_s``: a recursive ``os.scandir``, the paths sorted and cut into lists of
  ``--mini-batch-size`` files: the floor any planner pays;
- ``bag_from_sequence_s``: ``dask.bag.from_sequence`` of those paths (listing not included);
- ``plan_s``: ``plan_input`` with a plan folder, plus the resume identity (what ``run`` does
  before it connects to Dask), in this process;
- ``first_started_s``: from calling ``dask_parallel.run`` in a fresh driver process (against
  a LocalCluster of two single-threaded workers started here) to the first ``run()`` call
  of the entry script, read from the file that call writes;
- ``listed_while_running_s``: from calling ``dask_parallel.run`` until the input was wholly
  listed (job.json then holds the mini-batch count), the first mini-batches running meanwhile;
- ``driver_peak_rss_mb``: that driver process's peak RSS (VmHWM); the job is
  cancelled ``--run-seconds`` after its input was listed, unless ``--full-run``;
- ``job_json_kb``: the size of the run's job.json;
- ``resume_refused_s``: ``dask_parallel.resume`` of that run after a file was added and one
  modified, until it refuses (``ResumeError``), in a fresh process as ``dask-parallel
  resume`` runs, next to ``scandir_before_resume_s``, the floor listed again in that process
  just before each resume (the fastest of ``--repeat`` of each).

The machine's load changes every figure; compare the columns of one run with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY_SCRIPT = """
import os, time

FLAG = os.environ["BENCH_FIRST_STARTED"]


def run(mini_batch):
    if not os.path.exists(FLAG):
        with open(FLAG + ".tmp", "w") as handle:
            handle.write(repr(time.time()))
        os.replace(FLAG + ".tmp", FLAG)
    return mini_batch
"""


def make_files(folder: Path, count: int, per_folder: int) -> None:
    for start in range(0, count, per_folder):
        sub = folder / f"part{start // per_folder:05d}"
        sub.mkdir(parents=True)
        for i in range(start, min(count, start + per_folder)):
            os.close(os.open(sub / f"f{i:07d}.bin", os.O_CREAT | os.O_WRONLY, 0o644))


def scandir_and_chunk(folder: str, size: int) -> tuple[list[str], list[list[str]]]:
    paths: list[str] = []
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as scan:
            for entry in scan:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    entry.stat(follow_symlinks=False)  # the size and mtime every planner needs
                    paths.append(entry.path)
    paths.sort()
    return paths, [paths[i : i + size] for i in range(0, len(paths), size)]


def make_job(data: str, code: str, flag: str, mini_batch_size: int):
    import dask_parallel as dp

    return dp.parallel_run_function(
        name="planning_bench",
        inputs={"data": dp.Input(type="uri_folder", path=data)},
        input_data="${{inputs.data}}",
        mini_batch_size=str(mini_batch_size),
        max_concurrency_per_instance=2,
        error_threshold=-1,
        is_deterministic=False,
        environment_variables={"BENCH_FIRST_STARTED": flag},
        task=dp.RunFunction(code=code, entry_script="score.py"),
    )


def peak_rss_kb(fallback: int) -> int:
    """This process's peak RSS: VmHWM, which starts afresh at exec (ru_maxrss may keep the parent's)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return fallback


def drive(address: str, job_args: list[str], run_dir: str, started_file: str) -> None:
    """The driver process: run the job and print its peak RSS (``--driver``)."""
    import resource

    import dask.config

    import dask_parallel as dp

    data, code, flag, size = job_args
    job = make_job(data, code, flag, int(size))
    with dask.config.set({"dask-parallel.progress": False}):
        started = time.time()
        Path(started_file).write_text(repr(started))
        result = dp.run(job, client=address, run_dir=run_dir)
    peak_kb = peak_rss_kb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(
        json.dumps({"status": result.status, "peak_rss_mb": peak_kb / 1024, "wall_s": time.time() - started})
    )


def resume_refusals(address: str, job_args: list[str], run_dir: str, repeat: int) -> None:
    """The resume process (``--resume``): the floor and a refused resume, interleaved; prints JSON."""
    import dask.config

    import dask_parallel as dp
    from dask_parallel.errors import ResumeError

    data, code, flag, size = job_args
    job = make_job(data, code, flag, int(size))
    scandir_s, refused_s, refused = [], [], "yes"
    with dask.config.set({"dask-parallel.progress": False}):
        for _ in range(repeat):
            start = time.perf_counter()
            scandir_and_chunk(data, int(size))
            scandir_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            try:
                dp.resume(run_dir, client=address, job=job)
                refused = "no"
            except ResumeError as exc:
                if not _names_the_changes(str(exc)):
                    refused = f"other: {exc}"
            refused_s.append(time.perf_counter() - start)
    print(json.dumps({"scandir_s": scandir_s, "refused_s": refused_s, "refused": refused}))


def wait_listed(job_file: Path, driver: subprocess.Popen) -> float | None:
    """When the run's job.json first holds its mini-batch count: its input is wholly listed."""
    while driver.poll() is None:
        try:
            if json.loads(job_file.read_text()).get("mini_batches") is not None:
                return time.time()
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return None


def measure(count: int, args: argparse.Namespace, address: str) -> dict[str, float]:
    import dask.bag as db

    from dask_parallel.engine import _identity
    from dask_parallel.execution.cancel_file import request_cancel
    from dask_parallel.inputs.planning import plan_input
    from dask_parallel.spec.job_spec import build_job_spec

    figures: dict[str, float] = {"files": count}
    with tempfile.TemporaryDirectory(prefix="dp-planning-") as tmp:
        root = Path(tmp)
        data = root / "data"
        start = time.perf_counter()
        make_files(data, count, args.per_folder)
        figures["create_files_s"] = time.perf_counter() - start

        code = root / "src"
        code.mkdir()
        (code / "score.py").write_text(ENTRY_SCRIPT)
        job_args = [str(data), str(code), str(root / "first_started"), str(args.mini_batch_size)]
        job = make_job(*job_args[:3], args.mini_batch_size)
        spec = build_job_spec(job, base_dir=str(root), run_dir=str(root / "spec"))

        def scandir_once() -> None:
            start = time.perf_counter()
            paths, _chunks = scandir_and_chunk(str(data), args.mini_batch_size)
            scandir_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            db.from_sequence(paths, partition_size=args.mini_batch_size)
            bag_times.append(time.perf_counter() - start)

        def plan_once() -> None:
            shutil.rmtree(root / "plan_only", ignore_errors=True)
            start = time.perf_counter()
            _identity(spec, plan_input(spec, store=str(root / "plan_only")))
            plan_times.append(time.perf_counter() - start)

        # Interleaved and repeated: the fastest of each is the least disturbed by other load.
        scandir_times: list[float] = []
        bag_times: list[float] = []
        plan_times: list[float] = []
        for _ in range(args.repeat):
            scandir_once()
            plan_once()
        figures["scandir_chunk_s"] = min(scandir_times)
        figures["bag_from_sequence_s"] = min(bag_times)
        figures["plan_s"] = min(plan_times)
        figures["plan_vs_scandir"] = figures["plan_s"] / figures["scandir_chunk_s"]

        run_dir = root / "run"
        started_file = root / "driver_started"
        driver = subprocess.Popen(
            [sys.executable, __file__, "--driver", address, *job_args, str(run_dir), str(started_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        flag = root / "first_started"
        while not flag.exists() and driver.poll() is None:
            time.sleep(0.05)
        if flag.exists():
            first = float(flag.read_text())
            called = float(started_file.read_text())
            figures["first_started_s"] = first - called
            listed = wait_listed(run_dir / "job.json", driver)
            if listed is not None:
                figures["listed_while_running_s"] = listed - called
            if not args.full_run:
                time.sleep(args.run_seconds)
                request_cancel(str(run_dir), "benchmark: enough has run")
        out, _ = driver.communicate()
        report = json.loads(out.strip().splitlines()[-1])
        figures["driver_peak_rss_mb"] = report["peak_rss_mb"]
        figures["driver_wall_s"] = report["wall_s"]
        figures["job_json_kb"] = os.path.getsize(run_dir / "job.json") / 1024

        (data / "part00000" / "added.bin").write_text("new")
        modified = next((data / "part00000").iterdir())
        os.utime(modified, (1, 1))
        # In a fresh process, as `dask-parallel resume` runs, interleaved with the floor listed
        # again there: the machine's state (its page cache, the inodes of a million new files
        # still being written back) has changed since the first listing.
        resumed = subprocess.run(
            [sys.executable, __file__, "--resume", address, *job_args, str(run_dir), str(args.repeat)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        report = json.loads(resumed.stdout.strip().splitlines()[-1])
        if report["refused"] != "yes":
            print(f"warning: resume of a changed input was not refused as expected ({report['refused']})")
        figures["scandir_before_resume_s"] = min(report["scandir_s"])
        figures["resume_refused_s"] = min(report["refused_s"])
        figures["resume_vs_scandir"] = figures["resume_refused_s"] / figures["scandir_before_resume_s"]
        start = time.perf_counter()
        shutil.rmtree(data)
        figures["remove_files_s"] = time.perf_counter() - start
    return figures


def _names_the_changes(message: str) -> bool:
    """A refusal that says what changed: the files added and modified, or (for a run stopped
    while its input was still being listed) that the files it had listed changed."""
    flat = " ".join(message.split())
    return ("added" in flat and "modified" in flat) or "that the earlier run listed changed" in flat


def main() -> int:
    if sys.argv[1:2] == ["--driver"]:
        drive(sys.argv[2], sys.argv[3:7], sys.argv[7], sys.argv[8])
        return 0
    if sys.argv[1:2] == ["--resume"]:
        resume_refusals(sys.argv[2], sys.argv[3:7], sys.argv[7], int(sys.argv[8]))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="file counts, comma separated")
    parser.add_argument("--per-folder", type=int, default=10_000, help="files per sub-folder")
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--run-seconds", type=float, default=3.0, help="run time before cancelling")
    parser.add_argument("--full-run", action="store_true", help="run every mini-batch instead")
    parser.add_argument("--repeat", type=int, default=2, help="listing and planning runs; the fastest counts")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    import dask.config
    from distributed import LocalCluster

    from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, dask.config.set({"dask-parallel.progress": False}):
        results = [measure(count, args, cluster.scheduler_address) for count in sizes]

    keys = list(results[0])
    width = max(len(key) for key in keys)
    print("  ".join(["".ljust(width)] + [f"{r['files']:>12,.0f}" for r in results]))
    for key in keys[1:]:
        print("  ".join([key.ljust(width)] + [f"{r.get(key, float('nan')):>12.3f}" for r in results]))
    print(f"(machine load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
