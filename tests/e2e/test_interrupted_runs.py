"""A client killed mid-job, and Ctrl-C: the ledger stays consistent and resume finishes the job."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import os, time

def run(mini_batch):
    with open(os.environ["SEEN"], "a") as f:
        f.write("".join(os.path.basename(p) + "\\n" for p in mini_batch))
    time.sleep(float(os.environ.get("DELAY", "0.3")))
    return [os.path.basename(p) for p in mini_batch]
"""

JOB = """
type: parallel
name: slow_job
inputs:
  data: {{type: uri_folder, path: ./data}}
outputs:
  out: {{type: uri_file, path: ./out/result.txt}}
input_data: ${{{{inputs.data}}}}
mini_batch_size: "2"
max_concurrency_per_instance: 2
environment_variables: {{SEEN: "{seen}", DELAY: "{delay}"}}
task:
  type: run_function
  code: ./src
  entry_script: score.py
  append_row_to: ${{{{outputs.out}}}}
"""


def make_project(tmp_path: Path, files: int, delay: float) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(SCRIPT)
    (tmp_path / "data").mkdir()
    for i in range(files):
        (tmp_path / "data" / f"item_{i:03d}.txt").write_text(str(i))
    (tmp_path / "job.yml").write_text(JOB.format(seen=tmp_path / "seen.txt", delay=delay))
    return tmp_path / "job.yml"


def finals(run_dir: Path) -> list[dict]:
    path = run_dir / "ledger.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record["event"] == "final":
            records.append(record)
    return records


def start(args, cwd, env, program=("-m", "dask_parallel")) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *program, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the LocalCluster dies with it
    )


def wait_for_finals(run_dir: Path, count: int, process: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while len(finals(run_dir)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.1)


def test_client_killed_mid_job_then_resumed(tmp_path, python_env):
    job = make_project(tmp_path, files=40, delay=0.3)
    run_dir = tmp_path / "run"
    process = start(["run", str(job), "--run-dir", str(run_dir), "--quiet"], tmp_path, python_env)
    wait_for_finals(run_dir, 6, process)
    os.killpg(process.pid, signal.SIGKILL)  # the client and its local cluster vanish at once
    process.wait(timeout=30)
    done_before = {r["index"] for r in finals(run_dir) if r["status"] == "succeeded"}
    assert 6 <= len(done_before) < 20
    assert not (tmp_path / "out" / "result.txt").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "resume", str(run_dir), "--json"],
        cwd=tmp_path,
        # job.json keeps no environment_variables values: resume takes them from the environment.
        env={**python_env, "SEEN": str(tmp_path / "seen.txt"), "DELAY": "0.3"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "Completed"
    # Every row exactly once, in order.
    rows = (tmp_path / "out" / "result.txt").read_text().split()
    assert rows == [f"item_{i:03d}.txt" for i in range(40)]
    # Finished mini-batches were not run again: each file ran once, except those that
    # were in flight when the client died.
    seen_after = Counter((tmp_path / "seen.txt").read_text().split())
    assert set(seen_after) == {f"item_{i:03d}.txt" for i in range(40)}
    finished_files = {f"item_{i:03d}.txt" for index in done_before for i in (2 * index, 2 * index + 1)}
    assert all(seen_after[name] == 1 for name in finished_files)


def test_ctrl_c_cancels_cleanly_and_resume_completes(tmp_path, python_env):
    # Long enough that Ctrl-C after three mini-batches lands mid-job even on a busy machine.
    job = make_project(tmp_path, files=40, delay=0.6)
    run_dir = tmp_path / "run"
    process = start(["run", str(job), "--run-dir", str(run_dir), "--quiet"], tmp_path, python_env)
    wait_for_finals(run_dir, 3, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert (run_dir / "logs" / "job_result.txt").read_text().startswith("Canceled\n")
    assert json.loads((run_dir / "ledger.jsonl").read_text().splitlines()[-1])["status"] == "Canceled"
    assert not (tmp_path / "out" / "result.txt").exists()

    resumed = subprocess.run(
        # job.json keeps no environment_variables values: resume reads them from the job again.
        [sys.executable, "-m", "dask_parallel", "resume", str(run_dir), "--job", str(job)],
        cwd=tmp_path,
        env=python_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(40)]


def test_ctrl_c_in_a_terminal_prints_no_worker_tracebacks(tmp_path, python_env):
    # A terminal's Ctrl-C reaches the whole process group: the client and every worker process.
    job = make_project(tmp_path, files=40, delay=0.6)
    run_dir = tmp_path / "run"
    process = start(["run", str(job), "--run-dir", str(run_dir), "--quiet", "--json"], tmp_path, python_env)
    wait_for_finals(run_dir, 2, process)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "error: canceled; the run directory keeps what finished."
    assert json.loads(stdout)["status"] == "Canceled"


def attempts_in_ledger(run_dir: Path) -> Counter:
    records = [json.loads(line) for line in (run_dir / "ledger.jsonl").read_text().splitlines() if line]
    return Counter(
        (r["mini_batch_id"], str(r["attempt"]), r["outcome"]) for r in records if r["event"] == "attempt"
    )


def attempts_in_report(run_dir: Path) -> Counter:
    report = run_dir / "logs" / "sys" / "job_report" / "processed_mini-batches.csv"
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return Counter((row["mini_batch_id"], row["attempt"], row["result"]) for row in rows)


def test_client_killed_while_mini_batches_complete_keeps_every_record(tmp_path, python_env):
    # Short mini-batches: results arrive in batches, and the kill lands while they are written.
    job = make_project(tmp_path, files=300, delay=0.01)
    run_dir = tmp_path / "run"
    process = start(["run", str(job), "--run-dir", str(run_dir), "--quiet"], tmp_path, python_env)
    wait_for_finals(run_dir, 20, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    done_before = {r["mb"] for r in finals(run_dir) if r["status"] == "succeeded"}
    assert 20 <= len(done_before) < 150, "the kill did not land mid-job"
    # Every finished mini-batch's attempt was recorded with it, in the same write.
    assert {mb for mb, _, outcome in attempts_in_ledger(run_dir) if outcome == "succeeded"} >= done_before

    resumed = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "resume", str(run_dir), "--json"],
        cwd=tmp_path,
        env={**python_env, "SEEN": str(tmp_path / "seen.txt"), "DELAY": "0.01"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "Completed"
    rows = (tmp_path / "out" / "result.txt").read_text().split()
    assert rows == [f"item_{i:03d}.txt" for i in range(300)]
    # The ledger: one succeeded final per mini-batch; those of the first run were not run again.
    succeeded = Counter(r["mb"] for r in finals(run_dir) if r["status"] == "succeeded")
    assert len(succeeded) == 150 and set(succeeded.values()) == {1}
    ledger_attempts = attempts_in_ledger(run_dir)
    assert all(ledger_attempts[key] == 1 for key in ledger_attempts)
    attempts_per_mb = Counter(mb for mb, _, _ in ledger_attempts.elements())
    assert all(attempts_per_mb[mb] == 1 for mb in done_before)
    # The report holds every attempt of both runs exactly once, as the ledger does.
    assert attempts_in_report(run_dir) == ledger_attempts


# A driver whose listing checkpoints every 10 files and stops after the fifth folder until
# a file that never comes appears: the kill lands while the input is still being listed.
SLOW_LISTING_DRIVER = """
import os, sys, time
import dask
import dask_parallel as dp
from dask_parallel.inputs import streaming
from dask_parallel.rundir import plan_store

plan_store.ROWS_PER_BATCH = 10
real = streaming.listed_files


def slow(spec, uri, where):
    listed = real(spec, uri, where)

    def chunks():
        for number, chunk in enumerate(listed, 1):
            yield chunk
            while number >= 5 and not os.path.exists("release"):
                time.sleep(0.1)

    return chunks()


streaming.listed_files = slow

if __name__ == "__main__":
    settings = {"dask-parallel.stream-planning-after": 1, "dask-parallel.progress": False}
    with dask.config.set(settings):
        dp.run(dp.load_job(sys.argv[1]), run_dir=sys.argv[2])
"""


def make_foldered_project(tmp_path: Path, folders: int, per_folder: int) -> tuple[Path, list[str]]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(SCRIPT)
    names = []
    for f in range(folders):
        folder = tmp_path / "data" / f"part{f:02d}"
        folder.mkdir(parents=True)
        for i in range(per_folder):
            (folder / f"item_{f:02d}_{i}.txt").write_text(str(i))
            names.append(f"item_{f:02d}_{i}.txt")
    (tmp_path / "job.yml").write_text(JOB.format(seen=tmp_path / "seen.txt", delay=0.05))
    (tmp_path / "driver.py").write_text(SLOW_LISTING_DRIVER)
    return tmp_path / "job.yml", names


def test_client_killed_while_its_input_is_listed_then_resumed(tmp_path, python_env):
    job, names = make_foldered_project(tmp_path, folders=20, per_folder=10)
    run_dir = tmp_path / "run"
    process = start([str(job), str(run_dir)], tmp_path, python_env, program=[str(tmp_path / "driver.py")])
    wait_for_finals(run_dir, 8, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    stored = json.loads((run_dir / "job.json").read_text())
    assert stored["identity"]["files"].get("in_progress") is True, "the kill did not land while listing"
    progress = (run_dir / "plan" / "listing.progress").read_text()
    checkpoints = [json.loads(line) for line in progress.splitlines()]
    checked = checkpoints[-1]["count"]
    assert checked == 50 and not checkpoints[-1]["complete"]  # five folders of ten files
    done_before = {r["index"] for r in finals(run_dir) if r["status"] == "succeeded"}
    reusable = {index for index in done_before if index < checked // 2}  # mini-batches of two files
    assert reusable

    def resume() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dask_parallel", "resume", str(run_dir), "--json"],
            cwd=tmp_path,
            env={**python_env, "SEEN": str(tmp_path / "seen.txt"), "DELAY": "0.05"},
            capture_output=True,
            text=True,
            timeout=240,
        )

    # A file the stopped listing had covered changed: refused, as any changed input is.
    touched = tmp_path / "data" / "part00" / "item_00_0.txt"
    kept = touched.stat()
    touched.write_text("changed")
    refused = resume()
    assert refused.returncode == 2, refused.stderr
    message = " ".join(refused.stderr.split())
    assert "the first 50 input file(s) that the earlier run listed changed" in message
    touched.write_text("0")
    os.utime(touched, ns=(kept.st_atime_ns, kept.st_mtime_ns))

    seen_before = Counter((tmp_path / "seen.txt").read_text().split())
    resumed = resume()
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "Completed"
    assert (tmp_path / "out" / "result.txt").read_text().split() == names  # every row exactly once
    # The mini-batches finished within the checked files were not run again.
    seen_after = Counter((tmp_path / "seen.txt").read_text().split())
    reused_files = {names[2 * index + k] for index in reusable for k in (0, 1)}
    assert all(seen_after[name] == seen_before[name] == 1 for name in reused_files)
    assert set(seen_after) == set(names)
    succeeded = Counter(r["mb"] for r in finals(run_dir) if r["status"] == "succeeded")
    assert len(succeeded) == 100
