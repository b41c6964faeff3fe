"""The cluster a job runs on, chosen through Dask's configuration (dask-parallel.cluster.*)."""

from __future__ import annotations

import re
import sys
import textwrap

import dask.config
import pytest

import dask_parallel as dp
from dask_parallel.errors import JobValidationError
from tests.conftest import file_job

SCRIPT = """
import os

def run(mini_batch):
    return [f"{os.getpid()} {os.path.basename(p)}" for p in mini_batch]
"""

RECORDING_CLUSTER = """
from distributed import LocalCluster

created = []


class RecordingCluster(LocalCluster):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        created.append({"kwargs": kwargs, "scaled_to": [], "closed": False})

    def scale(self, n=0, **kwargs):
        if created:
            created[-1]["scaled_to"].append(n)
        return super().scale(n, **kwargs)

    def close(self, *args, **kwargs):
        created[-1]["closed"] = True
        return super().close(*args, **kwargs)
"""

KWARGS = {
    "n_workers": 0,
    "threads_per_worker": 1,
    "processes": True,
    "host": "127.0.0.1",
    "dashboard_address": ":0",
}


@pytest.fixture
def recording_cluster(tmp_path, monkeypatch):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "my_clusters.py").write_text(textwrap.dedent(RECORDING_CLUSTER))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield "my_clusters.RecordingCluster"
    sys.modules.pop("my_clusters", None)


def test_cluster_class_from_config_is_created_scaled_and_closed(tmp_path, recording_cluster):
    job = file_job(
        tmp_path, SCRIPT, files=6, mini_batch_size="2", instance_count=1, max_concurrency_per_instance=2
    )
    settings = {"dask-parallel.cluster.class": recording_cluster, "dask-parallel.cluster.kwargs": KWARGS}
    with dask.config.set(settings):
        result = dp.run(job)
    assert result.status == "Completed", result.error
    created = sys.modules["my_clusters"].created
    assert len(created) == 1
    assert created[0]["kwargs"] == KWARGS
    assert created[0]["scaled_to"][0] == 2  # instance_count * max_concurrency_per_instance worker processes
    assert created[0]["closed"]


def test_builtin_local_cluster_with_generic_class_path(tmp_path):
    job = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")
    settings = {
        "dask-parallel.cluster.class": "distributed.LocalCluster",
        "dask-parallel.cluster.kwargs": KWARGS,
    }
    with dask.config.set(settings):
        result = dp.run(job)
    assert result.status == "Completed"
    assert len((tmp_path / "out" / "result.txt").read_text().splitlines()) == 4


def test_scheduler_address_from_config(tmp_path, client):
    job = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")
    with dask.config.set({"dask-parallel.cluster.address": client.scheduler.address}):
        result = dp.run(job)
    assert result.status == "Completed"
    pids = {line.split()[0] for line in (tmp_path / "out" / "result.txt").read_text().splitlines()}
    workers = client.run(lambda: __import__("os").getpid())
    assert pids <= {str(pid) for pid in workers.values()}


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "no_such_package.Cluster",
            "dask-parallel.cluster.class is 'no_such_package.Cluster', which cannot be imported",
        ),
        ("distributed.NoSuchCluster", "cannot be imported"),
        ("LocalCluster", "Give a full import path such as dask_jobqueue.SLURMCluster"),
    ],
)
def test_a_cluster_class_that_cannot_be_imported(tmp_path, name, message):
    job = file_job(tmp_path, SCRIPT, files=2)
    with (
        dask.config.set({"dask-parallel.cluster.class": name}),
        pytest.raises(JobValidationError, match=re.escape(message)),
    ):
        dp.run(job)


def test_cluster_kwargs_that_do_not_fit(tmp_path):
    job = file_job(tmp_path, SCRIPT, files=2)
    settings = {
        "dask-parallel.cluster.class": "distributed.LocalCluster",
        "dask-parallel.cluster.kwargs": {"queue": "gpu"},
    }
    with (
        dask.config.set(settings),
        pytest.raises(
            JobValidationError,
            match=r"could not create the cluster distributed\.LocalCluster with dask-parallel",
        ),
    ):
        dp.run(job)
