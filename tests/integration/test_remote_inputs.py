"""Inputs given as fsspec URLs: files are brought local before run() sees them."""

from __future__ import annotations

import fsspec
import pytest
from distributed import Client, LocalCluster

import dask_parallel as dp
from tests.conftest import write_script

pytestmark = pytest.mark.slow


@pytest.fixture
def in_process_client():
    # memory:// lives in one process, so the workers share this process here.
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        yield client


def test_remote_folder_is_downloaded_for_run(tmp_path, in_process_client):
    fs = fsspec.filesystem("memory")
    for i in range(5):
        fs.pipe(f"/bucket/images/sub/{i}.bin", bytes([i]) * (i + 1))
    script = """
    import os

    def run(mb):
        out = []
        for path in mb:
            assert os.path.isfile(path), path  # a local file, not a URL
            out.append(f"{os.path.basename(path)} {os.path.getsize(path)}")
        return out
    """
    write_script(tmp_path / "src", script)
    job = dp.parallel_run_function(
        inputs={"images": dp.Input(type="uri_folder", path="memory://bucket/images", mode="download")},
        outputs={"out": dp.Output(type="uri_file", path="memory://bucket/results/out.txt")},
        input_data="${{inputs.images}}",
        mini_batch_size="2",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    result = dp.run(job, client=in_process_client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.outputs["out"] == "memory://bucket/results/out.txt"
    assert fs.cat("/bucket/results/out.txt").decode() == "".join(f"{i}.bin {i + 1}\n" for i in range(5))
    # Staged downloads are removed once each mini-batch is done.
    assert not list((tmp_path / "run" / "work").rglob("*.bin"))
