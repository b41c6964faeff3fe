"""Workers that share no disk with the client: a real `dask scheduler` and two `dask worker`s.

Each worker runs in its own mount namespace with an empty tmpfs over the tests' temporary
folders and over the checkout's ``conf/`` and ``tests/``: it sees the installed code
(this checkout's ``dask_parallel`` on ``PYTHONPATH``) and nothing of the job, the data or
the run directory. Code, local inputs, rows and logs must travel through Dask; S3 through
a moto server on 127.0.0.1 is read and written directly, with credentials from the
environment only.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import pytest
from distributed import Client

import dask_parallel as dp
from tests.conftest import REPO, make_files, write_script

pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).with_name("dask"))
S3_SECRET = "no-shared-disk-secret-5d4c3b2a"


def _mount_namespaces_work(folder: Path) -> str | None:
    """None when `unshare -m` with a tmpfs works here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", f"mount -t tmpfs none {folder}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"cannot give a process its own mount namespace here: {probe.stderr.strip()}"
    return None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {timeout}s")
        time.sleep(0.2)


class Cluster:
    """A scheduler, two isolated workers and a moto S3 server; stops them all."""

    def __init__(self, root: Path, hidden: list[Path]) -> None:
        self.root = root
        self.hidden = hidden
        self.processes: list[subprocess.Popen] = []
        port = _free_port()
        self.s3_env = {
            "AWS_ACCESS_KEY_ID": "no-shared-disk-key",
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.moto = self._start(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env, "moto"
        )
        scheduler_file = root / "scheduler.json"
        self._start(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
             "--scheduler-file", str(scheduler_file)],
            env, "scheduler",
        )  # fmt: skip
        _wait_for(lambda: scheduler_file.exists() and scheduler_file.read_text().strip(), "no scheduler")
        time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.worker_env = {**env, **self.s3_env}
        for number in range(2):
            self.add_worker(number)
        with Client(self.address) as client:
            client.wait_for_workers(2, timeout=120)

    def add_worker(self, number: int) -> subprocess.Popen:
        """A worker in its own mount namespace, with empty tmpfs over the hidden folders."""
        mounts = " && ".join(f"mount -t tmpfs none {folder}" for folder in self.hidden)
        space = self.hidden[0] / "worker-space"
        return self._start(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f"{mounts} && exec {DASK} worker {self.address} --nworkers 1 --nthreads 1 "
             f"--host 127.0.0.1 --no-dashboard --name isolated-{number} --local-directory {space}"],
            self.worker_env, f"worker{number}",
        )  # fmt: skip

    def _start(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
        log = (self.root / f"{name}.log").open("w")
        process = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.root.glob("*.log"))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    root = tmp_path_factory.mktemp("no-shared-disk-cluster")
    reason = _mount_namespaces_work(root)
    if reason:
        print(f"skipping the no-shared-disk tests: {reason}")
        pytest.skip(reason)
    started = Cluster(root, [base, REPO / "conf", REPO / "tests"])
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def s3(cluster, monkeypatch):
    for name, value in cluster.s3_env.items():
        monkeypatch.setenv(name, value)
    for protocol in ("s3",):
        fsspec.get_filesystem_class(protocol).clear_instance_cache()
    fs = fsspec.filesystem("s3")
    bucket = f"bucket-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    fs.mkdir(bucket)
    yield fs, bucket
    fsspec.get_filesystem_class("s3").clear_instance_cache()


SCRIPT = """
import os, signal, sys

def init():
    print("init on a worker that cannot see", os.environ["CLIENT_FOLDER"])
    assert not os.path.exists(os.environ["CLIENT_FOLDER"]), "this worker sees the client's folder"

def run(mini_batch):
    out = []
    for path in mini_batch:
        text = open(path).read().strip()
        if text == os.environ.get("BROKEN", "-"):
            raise ValueError(f"cannot score {os.path.basename(path)}")
        if text == os.environ.get("KILL", "-"):
            mark = os.path.join(os.environ["MARK_DIR"], "killed-once")
            if not os.path.exists(mark):  # the first attempt on each worker dies
                open(mark, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
        print("scoring", os.path.basename(path))
        out.append(f"{os.path.basename(path)} {int(text) * 2}")
    return out

def shutdown():
    print("shutdown on a worker")
"""


def _job(tmp_path: Path, data: str, output: str, script: str = SCRIPT, **environment) -> dp.Parallel:
    write_script(tmp_path / "src", script)
    return dp.parallel_run_function(
        name="isolated",
        inputs={"data": dp.Input(type="uri_folder", path=data)},
        outputs={"result": dp.Output(type="uri_file", path=output)},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        max_concurrency_per_instance=2,
        mini_batch_error_threshold=0,
        retry_settings=dp.RetrySettings(max_retries=3, timeout=60),
        environment_variables={
            "CLIENT_FOLDER": str(tmp_path),
            "MARK_DIR": str(tmp_path.parent),
            **environment,
        },
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.result}}"
        ),
    )


def _assert_no_secret(run_dir: Path) -> None:
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert S3_SECRET.encode() not in path.read_bytes(), f"the S3 secret is in {path}"


def _master_log(run_dir: Path) -> str:
    return (run_dir / "logs" / "sys" / "master_role.txt").read_text()


def test_s3_input_to_s3_append_row_output(cluster, s3, tmp_path):
    fs, bucket = s3
    for i in range(8):
        fs.pipe(f"{bucket}/in/item_{i:03d}.txt", f"{i}\n".encode())
    job = _job(tmp_path, f"s3://{bucket}/in", f"s3://{bucket}/out/result.txt")
    result = dp.run(job, client=cluster.address, run_dir=tmp_path / "run")
    assert result.status == "Completed", (result.error, cluster.logs())
    rows = fs.cat(f"{bucket}/out/result.txt").decode().splitlines()
    assert sorted(rows) == sorted(f"item_{i:03d}.txt {2 * i}" for i in range(8))
    assert "do not share this disk" in _master_log(tmp_path / "run")
    _assert_no_secret(tmp_path / "run")


def test_local_input_to_local_output_with_logs_in_the_run_dir(cluster, tmp_path, python_env):
    make_files(tmp_path / "data", 12)
    output = tmp_path / "out" / "result.txt"
    job = _job(tmp_path, str(tmp_path / "data"), str(output))
    run_dir = tmp_path / "run"
    result = dp.run(job, client=cluster.address, run_dir=run_dir)
    assert result.status == "Completed", (result.error, cluster.logs())
    assert sorted(output.read_text().splitlines()) == sorted(f"item_{i:03d}.txt {2 * i}" for i in range(12))
    # The workers' log files are in the client's run directory.
    stdout = "".join(p.read_text() for p in (run_dir / "logs" / "user" / "stdout").rglob("*.txt"))
    assert sorted(line for line in stdout.splitlines() if line.startswith("scoring")) == sorted(
        f"scoring item_{i:03d}.txt" for i in range(12)
    )
    assert stdout.count("init on a worker that cannot see") >= 1
    assert stdout.count("shutdown on a worker") == stdout.count("init on a worker that cannot see")
    node_logs = list((run_dir / "logs" / "sys" / "node").rglob("*.txt"))
    assert node_logs and any("init() done" in p.read_text() for p in node_logs)
    with open(run_dir / "logs" / "sys" / "job_report" / "processed_mini-batches.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 12
    # status and logs work from the client's side.
    status = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "status", str(run_dir)],
        env=python_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert status.returncode == 0 and "Completed" in status.stdout, status.stdout + status.stderr
    logs = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "logs", str(run_dir)],
        env=python_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert logs.returncode == 0, logs.stderr


def test_a_worker_killed_mid_run_is_replaced_and_rows_appear_once(cluster, tmp_path):
    make_files(tmp_path / "data", 10)
    output = tmp_path / "out" / "result.txt"
    job = _job(tmp_path, str(tmp_path / "data"), str(output), KILL="7")
    run_dir = tmp_path / "run"
    result = dp.run(job, client=cluster.address, run_dir=run_dir)
    assert result.status == "Completed", (result.error, cluster.logs())
    assert sorted(output.read_text().splitlines()) == sorted(f"item_{i:03d}.txt {2 * i}" for i in range(10))
    # The worker really died (its nanny started a new process). Dask's scheduler may re-run
    # the lost task elsewhere by itself; a loss the driver sees is reported as such.
    assert "was killed by signal 9" in cluster.logs()
    outcomes = [
        json.loads(line)
        for line in (run_dir / "ledger.jsonl").read_text().splitlines()
        if '"event": "attempt"' in line
    ]
    assert all(o["outcome"] in ("succeeded", "process_died", "not_started") for o in outcomes), outcomes
    succeeded = sorted(o["index"] for o in outcomes if o["outcome"] == "succeeded")
    assert succeeded == list(range(10))
    with Client(cluster.address) as client:
        client.wait_for_workers(2, timeout=120)  # the nanny replaced the killed process


def test_resume_from_the_clients_run_dir_after_fixing_the_code(cluster, tmp_path):
    make_files(tmp_path / "data", 6)
    output = tmp_path / "out" / "result.txt"
    job = _job(tmp_path, str(tmp_path / "data"), str(output), BROKEN="4")
    run_dir = tmp_path / "run"
    first = dp.run(job, client=cluster.address, run_dir=run_dir)
    assert first.status == "Failed"
    assert "cannot score item_004.txt" in first.error + (run_dir / "logs" / "job_error.txt").read_text()
    # The fix: an edited entry script (a new code archive) in the same code folder.
    write_script(tmp_path / "src", SCRIPT.replace("raise ValueError", "pass  #"))
    # job.json keeps no environment_variables values: resume takes them from the definition
    resumed = dp.resume(run_dir, client=cluster.address, job=job)
    assert resumed.status == "Completed", (resumed.error, cluster.logs())
    assert sorted(output.read_text().splitlines()) == sorted(f"item_{i:03d}.txt {2 * i}" for i in range(6))
    finals = [
        json.loads(line)
        for line in (run_dir / "ledger.jsonl").read_text().splitlines()
        if '"event": "attempt"' in line and '"succeeded"' in line
    ]
    assert sorted(f["index"] for f in finals) == list(range(6))  # each mini-batch succeeded once


def test_a_mini_batch_too_large_to_send_without_a_staging_store_stops_before_any_work(cluster, tmp_path):
    make_files(tmp_path / "data", 3)
    (tmp_path / "data" / "item_001.txt").write_bytes(b"1\n" + b"x" * 4096)
    job = _job(tmp_path, str(tmp_path / "data"), str(tmp_path / "out" / "result.txt"))
    import dask.config

    with (
        dask.config.set({"dask-parallel.shipping.max-mini-batch-bytes": "1KiB"}),
        pytest.raises(dp.JobValidationError, match=r"dask-parallel\.staging") as caught,
    ):
        dp.run(job, client=cluster.address, run_dir=tmp_path / "run")
    assert "mini batch 1" in str(caught.value)
    assert (
        not (tmp_path / "run" / "ledger.jsonl").exists()
        or '"attempt"' not in (tmp_path / "run" / "ledger.jsonl").read_text()
    )


def test_large_local_inputs_go_through_the_staging_store(cluster, s3, tmp_path):
    fs, bucket = s3
    make_files(tmp_path / "data", 4)
    job = _job(tmp_path, str(tmp_path / "data"), str(tmp_path / "out" / "result.txt"))
    import dask.config

    with dask.config.set(
        {
            "dask-parallel.shipping.max-mini-batch-bytes": "1B",
            "dask-parallel.staging": f"s3://{bucket}/staging",
        }
    ):
        result = dp.run(job, client=cluster.address, run_dir=tmp_path / "run")
    assert result.status == "Completed", (result.error, cluster.logs())
    assert len(fs.find(f"{bucket}/staging/inputs")) == 4
    rows = (tmp_path / "out" / "result.txt").read_text().splitlines()
    assert sorted(rows) == sorted(f"item_{i:03d}.txt {2 * i}" for i in range(4))
    _assert_no_secret(tmp_path / "run")


SLOW = SCRIPT.replace('        print("scoring"', '        time.sleep(0.4)\n        print("scoring"').replace(
    "import os, signal, sys", "import os, signal, sys, time"
)


def test_a_worker_that_joins_mid_run_gets_the_code_and_takes_work(cluster, tmp_path):
    import threading

    make_files(tmp_path / "data", 40)
    output = tmp_path / "out" / "result.txt"
    job = _job(tmp_path, str(tmp_path / "data"), str(output), script=SLOW)
    run_dir = tmp_path / "run"
    results = []
    runner = threading.Thread(
        target=lambda: results.append(dp.run(job, client=cluster.address, run_dir=run_dir))
    )
    runner.start()
    ledger = run_dir / "ledger.jsonl"
    _wait_for(lambda: ledger.exists() and '"attempt"' in ledger.read_text(), "no mini-batch finished", 120)
    newcomer = cluster.add_worker(2)
    try:
        runner.join(timeout=300)
        assert results and results[0].status == "Completed", (results, cluster.logs())
        assert sorted(output.read_text().splitlines()) == sorted(
            f"item_{i:03d}.txt {2 * i}" for i in range(40)
        )
        processes = {
            json.loads(line)["process_name"]
            for line in (run_dir / "ledger.jsonl").read_text().splitlines()
            if '"event": "attempt"' in line
        }
        assert "process_isolated_2" in processes, processes
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(newcomer.pid, signal.SIGTERM)
        newcomer.wait(timeout=60)
