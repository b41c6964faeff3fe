"""The parallel job's field table is what the keywords and the job file accept."""

import inspect

import pytest

import dask_parallel as dp
from dask_parallel.jobs.fields import AZURE_ONLY, FILE_KEYS, PARALLEL_FIELDS, Kind
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.spec.job_file import KEYWORD_SETTINGS


def test_every_keyword_of_parallel_is_a_row_of_the_table_and_back():
    parameters = {
        name
        for name, p in inspect.signature(Parallel.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    declared = {f.name for f in PARALLEL_FIELDS if f.keyword and f.kind is not Kind.AZURE_ONLY}
    assert parameters == declared


def test_job_file_settings_are_keywords():
    assert set(KEYWORD_SETTINGS) <= {f.name for f in PARALLEL_FIELDS if f.keyword}
    assert {"$schema", "type", "version"}.isdisjoint(KEYWORD_SETTINGS)
    assert FILE_KEYS[:3] == ("$schema", "type", "name")


@pytest.mark.parametrize("name", AZURE_ONLY)
def test_azure_only_settings_are_accepted_and_kept(name):
    value = {"team": "vision"} if name in ("tags", "properties") else "x"  # mappings in Azure
    job = Parallel(**{name: value})
    assert job.azure_only == {name: value}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("instance_count", 0, "instance_count must be an integer >= 1 (got 0)."),
        ("error_threshold", -2, "error_threshold must be an integer >= -1 (got -2)."),
        ("max_concurrency_per_instance", 0, "max_concurrency_per_instance must be an integer >= 1 (got 0)."),
    ],
)
def test_integer_minimums_come_from_the_table(field, value, message):
    with pytest.raises(dp.JobValidationError) as caught:
        Parallel(**{field: value})
    assert str(caught.value) == message
