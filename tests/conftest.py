"""Shared fixtures: a LocalCluster with real worker processes, and entry-script builders."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import dask.config
import pytest

import dask_parallel as dp

REPO = Path(__file__).resolve().parent.parent
LOCAL_WORKERS = 2


def start_local_client():
    """A LocalCluster with two single-threaded worker processes, and a client to it."""
    from distributed import Client, LocalCluster

    from dask_parallel.execution.cluster import LOCAL_CLUSTER_CONFIG, LOCAL_DEATH_TIMEOUT

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = LocalCluster(
            n_workers=LOCAL_WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            death_timeout=LOCAL_DEATH_TIMEOUT,
        )
    return Client(cluster)


def close_local_client(client) -> None:
    """Close the client and the LocalCluster it was started with."""
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def client():
    connected = start_local_client()
    yield connected
    close_local_client(connected)


class ReplaceableCluster:
    """A cluster for one test module whose tests kill, time out or replace worker processes.

    Replacing processes on a loaded machine can take long, and a nanny whose replacement
    process did not start in time gives up for good; kept apart, that never reaches the
    tests that share the session's cluster, and a cluster left short is started again.
    """

    def __init__(self) -> None:
        self._client = start_local_client()

    def at_full_strength(self, wait: float = 120):
        try:
            self._client.wait_for_workers(LOCAL_WORKERS, timeout=wait)
        except TimeoutError:
            close_local_client(self._client)
            self._client = start_local_client()
            self._client.wait_for_workers(LOCAL_WORKERS, timeout=240)
        return self._client

    def close(self) -> None:
        close_local_client(self._client)


@pytest.fixture(scope="module")
def own_cluster():
    cluster = ReplaceableCluster()
    yield cluster
    cluster.close()


@pytest.fixture(autouse=True)
def _quiet_and_isolated(tmp_path_factory):
    """No progress bars; run directories and the reuse cache in the test's own folders."""
    settings = {
        "dask-parallel.progress": False,
        "dask-parallel.reuse-cache": str(tmp_path_factory.mktemp("reuse-cache")),
        "dask-parallel.run-root": str(tmp_path_factory.mktemp("runs")),
    }
    with dask.config.set(settings):
        yield


def write_script(folder: Path, body: str, name: str = "score.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def make_files(folder: Path, count: int, prefix: str = "item") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:03d}.txt"
        path.write_text(f"{i}\n")
        paths.append(path)
    return paths


def file_job(
    tmp_path: Path,
    script: str,
    *,
    files: int = 20,
    mini_batch_size: str = "5",
    append_row: bool = True,
    output_type: str = "uri_file",
    program_arguments: str | None = None,
    **settings,
) -> dp.Parallel:
    """A parallel job over ``files`` small text files, scored by ``script``."""
    data = tmp_path / "data"
    if not data.exists():
        make_files(data, files)
    write_script(tmp_path / "src", script)
    outputs = {
        "result": dp.Output(
            type=output_type,
            path=str(tmp_path / "out" / ("result.txt" if output_type == "uri_file" else "folder")),
        )
    }
    return dp.parallel_run_function(
        name="test_job",
        inputs={"data": dp.Input(type="uri_folder", path=str(data))},
        outputs=outputs,
        input_data="${{inputs.data}}",
        mini_batch_size=mini_batch_size,
        task=dp.RunFunction(
            code=str(tmp_path / "src"),
            entry_script="score.py",
            program_arguments=program_arguments,
            append_row_to="${{outputs.result}}" if append_row else None,
        ),
        **settings,
    )


@pytest.fixture
def python_env():
    """Environment for subprocesses that must import this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


PYTHON = sys.executable
