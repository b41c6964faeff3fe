"""A job is validated whole before anything is downloaded or written; a cancel is an error."""

from __future__ import annotations

import fsspec
import pytest

import dask_parallel as dp
from dask_parallel.errors import EntryScriptError
from tests.conftest import write_script


def test_entry_script_typo_is_reported_before_inputs_download(tmp_path):
    fs = fsspec.filesystem("memory")
    fs.pipe("/typo-bucket/images/0.bin", b"x")
    write_script(tmp_path / "src", "def run(mb):\n    return mb\n")
    job = dp.parallel_run_function(
        inputs={"images": dp.Input(type="uri_folder", path="memory://typo-bucket/images", mode="download")},
        input_data="${{inputs.images}}",
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="scroe.py"),
    )
    with pytest.raises(EntryScriptError, match=r"'scroe\.py' was not found"):
        dp.run(job, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing downloaded, nothing written


def test_cancel_raises_job_canceled_error_and_records_canceled(tmp_path, client, monkeypatch):
    from dask_parallel.execution.driver import Driver
    from tests.conftest import file_job

    def interrupted(self, pending):
        raise KeyboardInterrupt

    monkeypatch.setattr(Driver, "run", interrupted)
    job = file_job(tmp_path, "def run(mb):\n    return mb\n", files=2)
    with pytest.raises(dp.JobCanceledError, match=r"canceled by the user.*dask-parallel resume"):
        dp.run(job, client=client, run_dir=tmp_path / "run")
    assert (tmp_path / "run" / "logs" / "job_result.txt").read_text().startswith("Canceled\n")
