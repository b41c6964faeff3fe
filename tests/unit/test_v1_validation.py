"""SDK v1 validation rules, with v1's messages, and the v1 -> v2 translation."""

from __future__ import annotations

import pytest
import yaml

from dask_parallel import JobValidationError
from dask_parallel.v1 import (
    Dataset,
    Environment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    PipelineParameter,
)
from dask_parallel.v1.upgrade import job_to_yaml, upgrade_config_file
from tests.conftest import make_files, write_script


def config(**changes):
    settings = dict(
        environment=Environment("env"),
        entry_script="score.py",
        error_threshold=10,
        output_action="append_row",
        compute_target="cpu-cluster",
        node_count=1,
    )
    settings.update(changes)
    return ParallelRunConfig(**settings)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"environment": None},
            "Parameter environment is required. It should be instance of azureml.core.Environment.",
        ),
        (
            {"environment": "env"},
            "Parameter environment must be an instance of azureml.core.Environment. The actual",
        ),
        ({"output_action": "file"}, "Parameter output_action must be summary_only or append_row."),
        ({"error_threshold": -2}, "error_threshold '-2' is not an int value greater than or equal to -1."),
        (
            {"allowed_failed_count": -5},
            "allowed_failed_count '-5' is not an int value greater than or equal to -1.",
        ),
        ({"allowed_failed_percent": "x"}, "allowed_failed_percent 'x' is not an int or float."),
        ({"allowed_failed_percent": 101}, "allowed_failed_percent '101' is not between 0 and 100."),
        (
            {"mini_batch_size": "5", "partition_keys": ["a"]},
            "Parameters mini_batch_size and partition_keys are mutually exclusive, because they specify "
            "different ways to partition the input datasets into mini-batches.",
        ),
        ({"mini_batch_size": 1.5}, "Parameter mini_batch_size must be of type int or str."),
        (
            {"mini_batch_size": "10 kb"},
            r"Parameter mini_batch_size must follow regex rule ^\d+([kKmMgG][bB])*$.",
        ),
        ({"partition_keys": "a"}, "Parameter partition_keys must be of type list."),
        ({"partition_keys": ["a", 1]}, "Element 1 in partition_keys is not a str."),
        (
            {"process_count_per_node": 0},
            "Parameter process_count_per_node must be an integer greater than 0.",
        ),
        (
            {"run_invocation_timeout": 0},
            "Parameter run_invocation_timeout must be an integer greater than 0.",
        ),
        ({"run_max_try": 0}, "Parameter run_max_try must be an integer greater than 0."),
        (
            {"append_row_file_name": "a/b.txt"},
            "Parameter append_row_file_name must be a valid UNIX file name.",
        ),
        ({"node_count": 0}, "node_count '0' is not between 1 and max_nodes"),
        (
            {"mini_batch_size": PipelineParameter("mbs", "1.5mb")},
            r"Parameter mini_batch_size must follow regex rule",
        ),
    ],
)
def test_parallel_run_config_messages(changes, message):
    with pytest.raises(JobValidationError) as info:
        config(**changes)
    assert str(info.value).startswith(message)


@pytest.fixture
def files(tmp_path):
    make_files(tmp_path / "data", 3)
    return Dataset.File.from_files(str(tmp_path / "data"))


@pytest.mark.parametrize("argument", ["--mini_batch_size", "--output", "--run_max_try", "--partition_keys"])
def test_reserved_argument(files, argument):
    with pytest.raises(JobValidationError) as info:
        ParallelRunStep(
            name="score-files",
            parallel_run_config=config(),
            inputs=[files.as_named_input("files")],
            output=OutputFileDatasetConfig(name="out"),
            arguments=[argument, "1"],
        )
    name = argument.lstrip("-")
    assert str(info.value) == (
        f"'{name}' is a reserved argument in ParallelRunStep, please use another argument name instead."
    )


def test_positional_first_argument(files):
    with pytest.raises(
        JobValidationError, match=r"^Found invalid argument 'model'\. As your arguments will be merged"
    ):
        ParallelRunStep(
            name="score-files",
            parallel_run_config=config(),
            inputs=[files],
            output=OutputFileDatasetConfig(),
            arguments=["model"],
        )


def test_output_required_for_append_row(files):
    with pytest.raises(JobValidationError, match=r"^Please specify output parameter\.$"):
        ParallelRunStep(name="score-files", parallel_run_config=config(), inputs=[files])


def test_tabular_input_must_be_direct(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    table = Dataset.Tabular.from_delimited_files(str(tmp_path / "t.csv"))
    with pytest.raises(JobValidationError, match=r"^Please ensure input dataset consumption mode is direct$"):
        ParallelRunStep(
            name="score-rows",
            parallel_run_config=config(),
            inputs=[table.as_named_input("rows").as_mount()],
            output=OutputFileDatasetConfig(),
        )


def test_inputs_of_one_type(tmp_path, files):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    table = Dataset.Tabular.from_delimited_files(str(tmp_path / "t.csv"))
    with pytest.raises(JobValidationError, match=r"^All inputs of step must be same type$"):
        ParallelRunStep(
            name="score-rows",
            parallel_run_config=config(),
            inputs=[table.as_named_input("rows"), files.as_named_input("f")],
            output=OutputFileDatasetConfig(),
        )


def test_to_v2_maps_every_setting(files, tmp_path):
    step = ParallelRunStep(
        name="score-files",
        parallel_run_config=config(
            source_directory=str(tmp_path / "src"),
            mini_batch_size=PipelineParameter("mbs", "2"),
            process_count_per_node=2,
            node_count=3,
            allowed_failed_count=4,
            allowed_failed_percent=25,
            append_row_file_name="scores.txt",
            run_invocation_timeout=30,
            run_max_try=5,
            logging_level="DEBUG",
            environment_variables={"A": "1"},
            description="d",
        ),
        inputs=[files.as_named_input("files").as_mount()],
        output=OutputFileDatasetConfig(name="scores"),
        arguments=["--label", "x"],
        allow_reuse=False,
    )
    job = step.to_v2()
    assert job.name == "score_files"
    assert job.input_data == "${{inputs.files}}"
    assert (job.inputs["files"].type, job.inputs["files"].mode) == ("uri_folder", "ro_mount")
    assert job.mini_batch_size == "2"
    assert (job.instance_count, job.max_concurrency_per_instance) == (3, 2)
    assert (job.error_threshold, job.mini_batch_error_threshold) == (10, 4)
    assert (job.retry_settings.timeout, job.retry_settings.max_retries) == (30, 5)
    assert job.logging_level == "DEBUG" and job.environment_variables == {"A": "1"}
    assert job.description == "d" and job.is_deterministic is False
    assert job.task.append_row_to == "${{outputs.scores}}"
    assert (
        job.task.program_arguments
        == "--label x --allowed_failed_percent 25 --append_row_file_name scores.txt"
    )
    assert job.task.environment == "env"
    document = yaml.safe_load(job_to_yaml(job))
    assert document["type"] == "parallel" and document["resources"] == {"instance_count": 3}
    assert document["retry_settings"] == {"timeout": 30, "max_retries": 5}
    summary = ParallelRunStep(
        name="summary", parallel_run_config=config(output_action="summary_only"), inputs=[files]
    ).to_v2()
    assert summary.task.append_row_to is None


def test_upgrade_saved_config(tmp_path):
    write_script(tmp_path / "src", "def run(mb):\n    return mb\n")
    make_files(tmp_path / "data", 2)
    saved = tmp_path / "prs.yml"
    config(source_directory="src", mini_batch_size="1", allowed_failed_percent=10).save_to_yaml(saved)
    text = upgrade_config_file(saved, input_data=str(tmp_path / "data"), target_dir=str(tmp_path))
    document = yaml.safe_load(text)
    assert document["task"]["code"] == "src"
    assert document["task"]["program_arguments"] == "--allowed_failed_percent 10"
    assert document["inputs"]["input_data"] == {"type": "uri_folder", "path": "data"}
    assert document["mini_batch_size"] == "1"
