"""Before the first task, workers with other versions than the client stop the job clearly."""

from __future__ import annotations

import pytest

import dask_parallel as dp
from dask_parallel.execution.versions import version_mismatches
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SCRIPT = """
def run(mini_batch):
    raise AssertionError("no mini-batch may run on mismatched workers")
"""


def _set_version(value: str) -> str:
    import dask_parallel

    old, dask_parallel.__version__ = dask_parallel.__version__, value
    return old


def test_a_worker_with_another_dask_parallel_version_is_named_before_any_work(client, tmp_path):
    job = file_job(tmp_path, SCRIPT, files=3)
    workers = sorted(client.scheduler_info()["workers"])
    old = client.run(_set_version, "0.0.1-old", workers=workers[:1])[workers[0]]
    try:
        with pytest.raises(dp.JobValidationError) as caught:
            dp.run(job, client=client, run_dir=tmp_path / "run")
    finally:
        client.run(_set_version, old, workers=workers[:1])
    message = str(caught.value)
    assert workers[0] in message and workers[1] not in message
    assert f"dask_parallel 0.0.1-old (client {dp.__version__})" in message
    assert "pip install dask_parallel==" in message
    assert not (tmp_path / "out" / "result.txt").exists()


def test_python_must_agree_on_the_minor_version_and_packages_exactly():
    def versions(worker: dict[str, str]) -> dict:
        client = {
            "python": "3.11.7.final.0",
            "dask": "2026.7.1",
            "distributed": "2026.7.1",
            "dask_parallel": "0.1.0",
        }
        return {"client": {"packages": client}, "workers": {"tcp://w:1": {"packages": {**client, **worker}}}}

    assert version_mismatches(versions({"python": "3.11.9.final.0"})) == []
    assert version_mismatches(versions({"python": "3.12.1.final.0"})) == [
        "tcp://w:1: python 3.12.1.final.0 (client 3.11.7.final.0)"
    ]
    assert version_mismatches(versions({"distributed": "2025.1.0", "dask_parallel": None})) == [
        "tcp://w:1: dask_parallel missing (client 0.1.0), distributed 2025.1.0 (client 2026.7.1)"
    ]
