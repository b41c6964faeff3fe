"""CLI v2 YAML (type: parallel) loading, with errors that point at the file and line."""

from __future__ import annotations

import textwrap

import pytest

from dask_parallel import load_job
from dask_parallel.errors import JobValidationError

GOOD = """\
type: parallel
name: batch_prediction
inputs:
  input_data: {type: mltable, path: ./iris, mode: direct}
  score_model: {type: uri_folder, path: ./model, mode: download}
outputs:
  job_output_file: {type: uri_file, mode: rw_mount}
input_data: ${{inputs.input_data}}
mini_batch_size: "10kb"
resources: {instance_count: 2}
max_concurrency_per_instance: 2
error_threshold: 5
mini_batch_error_threshold: 5
retry_settings: {max_retries: 2, timeout: 60}
logging_level: DEBUG
environment_variables: {AZUREML_PARALLEL_EXAMPLE: 2a_yaml}
compute: azureml:cpu-cluster
task:
  type: run_function
  code: ./script
  entry_script: iris_prediction.py
  environment: {image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04}
  program_arguments: >-
    --model ${{inputs.score_model}} --allowed_failed_percent 30
  append_row_to: ${{outputs.job_output_file}}
"""


def write(tmp_path, text):
    path = tmp_path / "job.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_loads_the_azure_example(tmp_path):
    job = load_job(write(tmp_path, GOOD))
    assert job.name == "batch_prediction"
    assert job.instance_count == 2 and job.max_concurrency_per_instance == 2
    assert job.mini_batch_size == "10kb"
    assert job.retry_settings.max_retries == 2
    assert job.source_dir == str(tmp_path)
    assert job.task.append_row_to == "${{outputs.job_output_file}}"


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('mini_batch_size: "10kb"', "mini_batch_size: 10", r"line 9: mini_batch_size: Not a valid string"),
        (
            'mini_batch_size: "10kb"',
            'mini_batch_size: "10 kb"',
            r"line 9: mini_batch_size must follow regex rule",
        ),
        (
            "logging_level: DEBUG",
            "logging_level: TRACE",
            r"line 15: logging_level: Value 'TRACE' passed is not in set",
        ),
        (
            "max_concurrency_per_instance: 2",
            "max_concurrency_per_instance: two",
            r"line 11: .*Not a valid integer",
        ),
        ("error_threshold: 5", "eror_threshold: 5", r"line 12: unknown key 'eror_threshold'"),
        ("  type: run_function", "  type: command", r"Value 'command' passed is not in set \['run_function'"),
        (
            "retry_settings: {max_retries: 2, timeout: 60}",
            "retry_settings: {tries: 2}",
            r"unknown key retry_settings.'tries'",
        ),
        (
            "input_data: ${{inputs.input_data}}",
            "input_data: ${{inputs.nope}}",
            r"line 8: input_data refers to inputs.nope",
        ),
        ("type: parallel", "type: sweep", r"line 1: type 'sweep' is not supported"),
        (
            "  entry_script: iris_prediction.py",
            "  entry_scrip: iris_prediction.py",
            r"unknown key task.'entry_scrip'",
        ),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, old, new, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(JobValidationError, match=message) as info:
        load_job(path)
    assert str(path) in str(info.value)


def test_malformed_yaml(tmp_path):
    with pytest.raises(JobValidationError, match=r"is not valid YAML"):
        load_job(write(tmp_path, "type: parallel\ninputs: [\n"))


def test_missing_file(tmp_path):
    with pytest.raises(JobValidationError, match=r"does not exist"):
        load_job(tmp_path / "nope.yml")
