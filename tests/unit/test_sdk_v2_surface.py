"""SDK v2 objects and module paths: migrating from azure.ai.ml is a prefix change."""

from __future__ import annotations

import importlib

import pytest

import dask_parallel as dp
from dask_parallel.errors import JobValidationError
from tests.conftest import REPO

PIPELINE = REPO / "conf" / "examples" / "pipeline" / "pipeline.yml"


def _job(**settings):
    return dp.parallel_run_function(
        inputs={"data": dp.Input(type="uri_folder")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=".", entry_script="score.py"),
        **settings,
    )


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("dask_parallel.dsl", ["pipeline"]),
        ("dask_parallel.constants", ["AssetTypes", "InputOutputModes"]),
        ("dask_parallel.parallel", ["parallel_run_function", "RunFunction", "RetrySettings"]),
        (
            "dask_parallel.entities",
            ["Environment", "BuildContext", "ResourceConfiguration", "JobResourceConfiguration"],
        ),
    ],
)
def test_azure_ai_ml_module_paths_exist(module, names):
    loaded = importlib.import_module(module)
    for name in names:
        assert getattr(loaded, name) is not None, name
        assert name in loaded.__all__


def test_node_resources_is_an_object_bound_to_instance_count():
    job = _job(instance_count=2)
    assert job.resources.instance_count == 2
    job.resources.instance_count = 3
    assert job.instance_count == 3
    job.instance_count = 4
    assert job.resources.instance_count == 4
    job.resources = {"instance_count": 5, "instance_type": "STANDARD_D2"}
    assert job.instance_count == 5
    assert job.resources.instance_type == "STANDARD_D2"


def test_resources_accepts_a_resource_configuration():
    job = _job(resources=dp.ResourceConfiguration(instance_count=2, instance_type="x"))
    assert job.instance_count == 2
    with pytest.raises(JobValidationError, match="mutually exclusive"):
        _job(instance_count=1, resources={"instance_count": 2})


def test_bad_instance_count_through_resources_is_refused():
    job = _job()
    with pytest.raises(JobValidationError, match=r"instance_count must be an integer >= 1 \(got 0\)"):
        job.resources = {"instance_count": 0}
    with pytest.raises(JobValidationError, match="unknown key 'gpus'"):
        job.resources = {"gpus": 1}


def test_azure_only_attributes_are_kept():
    job = _job(tags={"owner": "me"}, experiment_name="exp", compute="cpu-cluster", display_name="Score")
    assert job.tags == {"owner": "me"}
    assert job.experiment_name == "exp"
    assert job.compute == "cpu-cluster"
    assert job.display_name == "Score"


def test_environment_and_build_context_are_accepted_in_a_task():
    env = dp.Environment(build=dp.BuildContext(path="./docker"), conda_file="env.yml", name="e")
    job = dp.parallel_run_function(
        inputs={"data": dp.Input(type="uri_folder")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=".", entry_script="score.py", environment=env),
    )
    assert job.task.environment is env
    assert "build context ./docker" in env.describe()


def test_pipeline_job_tags_settings_and_names():
    @dp.pipeline(experiment_name="exp", tags={"a": "b"}, display_name="Shown")
    def flow(data):
        return {}

    job = flow(data=dp.Input(type="uri_folder", path="."))
    job.settings.default_compute = "cpu-cluster"
    job.tags["owner"] = "me"
    assert job.tags == {"a": "b", "owner": "me"}
    assert job.experiment_name == "exp"
    assert job.display_name == "Shown"


def test_load_job_reads_pipeline_files_with_their_tags():
    job = dp.load_job(PIPELINE)
    assert isinstance(job, dp.PipelineJob)
    assert job.display_name == "parallel_in_pipeline"
    assert job.settings.default_compute == "azureml:cpu-cluster"


def test_load_job_params_override_sets_a_step_instance_count():
    override = {"jobs.batch_inference_with_file_data.resources.instance_count": 3}
    job = dp.load_job(PIPELINE, params_override=[override])
    assert job.jobs["batch_inference_with_file_data"].resources.instance_count == 3


def test_pipeline_override_of_an_unknown_step_names_the_steps():
    with pytest.raises(JobValidationError, match=r"has no step 'nope'.*prepare_file_tabular_data"):
        dp.load_job(PIPELINE, overrides=["jobs.nope.resources.instance_count=3"])


def test_azure_only_settings_are_named_once_as_not_used():
    from dask_parallel.jobs.azure_only import unused_note

    job = dp.parallel_run_function(
        inputs={"data": dp.Input(type="uri_folder")},
        input_data="${{inputs.data}}",
        compute="cpu-cluster",
        resources={"instance_count": 2, "instance_type": "STANDARD_D2"},
        task=dp.RunFunction(
            code=".", entry_script="score.py", environment=dp.Environment(image="img:1", conda_file="env.yml")
        ),
    )
    note = unused_note(job)
    assert note.startswith("not used on Dask")
    assert "compute (cpu-cluster)" in note
    assert "resources.instance_type" in note
    assert "task.environment (image img:1, conda_file env.yml)" in note
    assert "instance_count" not in note  # it is used: it sets the number of worker processes
    assert unused_note(_job()) is None


def test_pipeline_file_azure_only_settings_are_named_per_step():
    from dask_parallel.jobs.azure_only import unused_note

    note = unused_note(dp.load_job(PIPELINE))
    assert "settings.default_compute (azureml:cpu-cluster)" in note
    assert "jobs.batch_inference_with_file_data.task.environment" in note
