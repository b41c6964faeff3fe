"""Jobs whose input and output are azureml://datastores/... URIs run end to end."""

from __future__ import annotations

import dask.config
import pytest

import dask_parallel as dp
from tests.conftest import make_files, write_script

pytestmark = pytest.mark.slow

SCRIPT = """
import os

def run(mini_batch):
    return [os.path.basename(path) for path in mini_batch]
"""


def test_datastore_input_and_default_datastore_output(tmp_path, client):
    make_files(tmp_path / "store" / "images", 6)
    write_script(tmp_path / "src", SCRIPT)
    job = dp.parallel_run_function(
        name="mnist_like",
        inputs={"images": dp.Input(type="uri_folder", path="azureml://datastores/landing/paths/images")},
        outputs={
            "scores": dp.Output(
                type="uri_file",
                path="azureml://datastores/${{default_datastore}}/paths/${{name}}/aggregated_returns.csv",
            )
        },
        input_data="${{inputs.images}}",
        mini_batch_size="2",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.scores}}"
        ),
    )
    with dask.config.set({"dask-parallel.datastores": {"landing": str(tmp_path / "store")}}):
        result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    written = tmp_path / "run" / "outputs" / "mnist_like" / "aggregated_returns.csv"
    assert result.outputs["scores"] == str(written)
    assert sorted(written.read_text().split()) == [f"item_{i:03d}.txt" for i in range(6)]


def test_output_to_a_named_datastore(tmp_path, client):
    make_files(tmp_path / "data", 3)
    write_script(tmp_path / "src", SCRIPT)
    job = dp.parallel_run_function(
        name="to_lake",
        inputs={"data": dp.Input(type="uri_folder", path=str(tmp_path / "data"))},
        outputs={
            "out": dp.Output(type="uri_folder", path="azureml://datastores/lake/paths/results/${{name}}")
        },
        input_data="${{inputs.data}}",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    settings = {"dask-parallel.datastores": {"lake": str(tmp_path / "lake")}}
    with dask.config.set(settings):
        result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert (tmp_path / "lake" / "results" / "to_lake" / "parallel_run_step.txt").is_file()


def test_unconfigured_datastore_fails_before_running(tmp_path, client):
    write_script(tmp_path / "src", SCRIPT)
    job = dp.parallel_run_function(
        inputs={"data": dp.Input(type="uri_folder", path="azureml://datastores/nowhere/paths/x")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
    )
    with pytest.raises(dp.JobValidationError, match=r"inputs\.data\.path.*datastore 'nowhere'"):
        dp.run(job, client=client, run_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "job.json").exists()


def test_resume_with_the_job_resolves_its_datastore_paths_again(tmp_path, client):
    make_files(tmp_path / "data", 4)
    write_script(tmp_path / "src", SCRIPT)
    job = dp.parallel_run_function(
        name="again",
        inputs={"data": dp.Input(type="uri_folder", path=str(tmp_path / "data"))},
        outputs={
            "out": dp.Output(
                type="uri_file", path="azureml://datastores/${{default_datastore}}/paths/${{name}}/rows.txt"
            )
        },
        input_data="${{inputs.data}}",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    first = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert first.status == "Completed", first.error
    again = dp.resume(tmp_path / "run", client=client, job=job)
    assert again.status == "Completed", again.error
    assert again.outputs["out"] == str(tmp_path / "run" / "outputs" / "again" / "rows.txt")
