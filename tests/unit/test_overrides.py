"""--set KEY=VALUE: parsing, applying to the YAML mapping, and errors that say what to do."""

from __future__ import annotations

import os

import pytest

from dask_parallel.errors import JobValidationError
from dask_parallel.spec.job_file import load_job
from dask_parallel.spec.overrides import apply_overrides, parse_override
from tests.conftest import REPO

EXAMPLE = REPO / "conf" / "examples" / "file_scoring" / "job.yml"


@pytest.mark.parametrize(
    "text, keys, value",
    [
        ("mini_batch_size=1mb", ["mini_batch_size"], "1mb"),
        ("mini_batch_size=10", ["mini_batch_size"], "10"),  # a size stays text, as the schema wants
        ("error_threshold=5", ["error_threshold"], 5),
        ("retry_settings.max_retries=3", ["retry_settings", "max_retries"], 3),
        ("environment_variables.FLAG=true", ["environment_variables", "FLAG"], True),
        ("description=a=b", ["description"], "a=b"),
        ("inputs.data.path=s3://bucket/x", ["inputs", "data", "path"], "s3://bucket/x"),
        ("inputs.data.path=/abs/x", ["inputs", "data", "path"], "/abs/x"),
    ],
)
def test_parse_override(text, keys, value):
    assert parse_override(text) == (keys, value)


def test_relative_paths_resolve_against_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_override("inputs.data.path=./other") == (["inputs", "data", "path"], str(tmp_path / "other"))


@pytest.mark.parametrize("text", ["mini_batch_size", "=5", "a..b=1", ""])
def test_malformed_override(text):
    with pytest.raises(JobValidationError, match="expected KEY=VALUE with a dotted key"):
        parse_override(text)


def test_apply_creates_missing_mappings_and_refuses_to_descend_into_values():
    document = {"name": "job", "inputs": {"data": "${{parent.inputs.x}}"}}
    apply_overrides(document, ["retry_settings.timeout=30"], "job.yml")
    assert document["retry_settings"] == {"timeout": 30}
    with pytest.raises(
        JobValidationError, match=r"inputs.data in job.yml is '\$\{\{parent.inputs.x\}\}', not a mapping"
    ):
        apply_overrides(document, ["inputs.data.path=x"], "job.yml")


def test_load_job_applies_overrides_before_validation(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    job = load_job(
        EXAMPLE,
        overrides=[
            "mini_batch_size=1mb",
            f"inputs.readings.path={other}",
            "max_concurrency_per_instance=3",
        ],
    )
    assert job.mini_batch_size == "1mb"
    assert job.max_concurrency_per_instance == 3
    assert os.fspath(job.inputs["readings"].path) == str(other)


def test_an_invalid_override_is_reported_without_the_old_line():
    with pytest.raises(JobValidationError) as caught:
        load_job(EXAMPLE, overrides=["mini_batch_size=10 kb"])
    message = str(caught.value)
    assert "mini_batch_size" in message and "10 kb" in message
    assert "line 14" not in message  # the file's own mini_batch_size line is not to blame
