"""azureml://datastores/<name>/paths/... job inputs and outputs, ${{name}}, ${{default_datastore}}."""

from __future__ import annotations

import os

import dask.config
import pytest

import dask_parallel as dp
from dask_parallel.datastores import expand_placeholders, resolve_job_locations, resolve_location
from dask_parallel.errors import JobValidationError
from dask_parallel.paths import normalize_path

SAMPLE_OUTPUT = "azureml://datastores/${{default_datastore}}/paths/${{name}}/aggregated_returns.csv"


def test_default_datastore_is_the_run_directory_outputs(tmp_path):
    resolved = resolve_location(SAMPLE_OUTPUT, name="mnist", run_dir=str(tmp_path))
    assert resolved == os.path.join(str(tmp_path), "outputs", "mnist", "aggregated_returns.csv")


def test_default_datastore_setting_names_a_table_entry(tmp_path):
    settings = {
        "dask-parallel.datastores": {"lake": str(tmp_path / "lake")},
        "dask-parallel.default-datastore": "lake",
    }
    with dask.config.set(settings):
        resolved = resolve_location(SAMPLE_OUTPUT, name="job1", run_dir="/unused")
    assert resolved == str(tmp_path / "lake") + "/job1/aggregated_returns.csv"


def test_default_datastore_setting_may_be_a_url():
    with dask.config.set({"dask-parallel.default-datastore": "memory://bucket/out"}):
        resolved = resolve_location(SAMPLE_OUTPUT, name="j", run_dir="/unused")
    assert resolved == "memory://bucket/out/j/aggregated_returns.csv"


def test_unknown_default_datastore_setting_says_what_to_set():
    setting = dask.config.set({"dask-parallel.default-datastore": "nowhere"})
    with setting, pytest.raises(JobValidationError, match=r"outputs\.o\.path: the dask-parallel"):
        resolve_location(SAMPLE_OUTPUT, name="j", run_dir="/r", where="outputs.o.path")


def test_default_datastore_outside_a_datastore_uri_is_refused():
    with pytest.raises(JobValidationError, match="write the path in that form"):
        expand_placeholders("${{default_datastore}}/x.csv", name="j", run_dir="/r")


def test_named_datastore_maps_through_the_table_in_normalize_path(tmp_path):
    with dask.config.set({"dask-parallel.datastores": {"landing": str(tmp_path)}}):
        assert normalize_path("azureml://datastores/landing/paths/a/b.csv", "/base") == f"{tmp_path}/a/b.csv"


def test_unconfigured_datastore_is_named_in_the_error():
    with pytest.raises(JobValidationError, match=r"datastore 'missing'.*not configured"):
        normalize_path("azureml://datastores/missing/paths/x", "/base")


def test_job_locations_resolve_inputs_and_outputs_and_keep_the_original(tmp_path):
    (tmp_path / "data").mkdir()
    job = dp.parallel_run_function(
        name="scoring",
        inputs={
            "data": dp.Input(type="uri_folder", path="azureml://datastores/landing/paths/data"),
            "n": dp.Input(type="integer", default=3),
        },
        outputs={"out": dp.Output(type="uri_file", path=SAMPLE_OUTPUT)},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=".", entry_script="score.py", append_row_to="${{outputs.out}}"),
    )
    with dask.config.set({"dask-parallel.datastores": {"landing": str(tmp_path)}}):
        resolved = resolve_job_locations(job, run_dir=str(tmp_path / "run"))
    assert resolved.inputs["data"].path == f"{tmp_path}/data"
    expected = tmp_path / "run" / "outputs" / "scoring" / "aggregated_returns.csv"
    assert resolved.outputs["out"].path == str(expected)
    assert job.outputs["out"].path == SAMPLE_OUTPUT  # the user's job is not changed
    assert resolve_job_locations(resolved, run_dir="/elsewhere") is resolved


def test_workspaceblobstore_is_the_default_datastore_unless_configured(tmp_path):
    path = "azureml://datastores/workspaceblobstore/paths/${name}/out.csv"  # an f-string's "${{name}}"
    resolved = resolve_location(path, name="iris", run_dir=str(tmp_path))
    assert resolved == str(tmp_path / "outputs" / "iris" / "out.csv")
    with dask.config.set({"dask-parallel.datastores": {"workspaceblobstore": "memory://blob"}}):
        assert resolve_location(path, name="iris", run_dir="/r") == "memory://blob/iris/out.csv"


def test_pipeline_validation_names_the_step_with_an_unconfigured_datastore(tmp_path):
    from dask_parallel.pipelines import validate_pipeline

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    (tmp_path / "pipeline.yml").write_text(
        "type: pipeline\n"
        "jobs:\n"
        "  score:\n"
        "    type: parallel\n"
        "    inputs:\n"
        "      data: {type: uri_folder, path: 'azureml://datastores/lake/paths/x'}\n"
        "    input_data: ${{inputs.data}}\n"
        "    task: {type: run_function, code: ./src, entry_script: score.py}\n"
    )
    job = dp.load_job(tmp_path / "pipeline.yml")
    with pytest.raises(JobValidationError, match=r"jobs\.score: inputs\.data\.path: datastore 'lake'"):
        validate_pipeline(job)
