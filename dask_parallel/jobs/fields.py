"""The fields of a parallel job, declared once.

One row per setting drives what ``parallel_run_function(...)``/``Parallel(...)`` accept as
keywords, which keys a ``type: parallel`` job file may hold (in this order, which is the
order error messages list them in), and which integer settings are range-checked. The YAML
loader (``spec/job_file.py``) and the job object (``jobs/parallel.py``) both read it.
"""

from __future__ import annotations

import dataclasses
from enum import Enum


class Kind(str, Enum):
    """How a field is checked."""

    INT = "int"  # an integer >= minimum (or a ${{...}} binding)
    SETTING = "setting"  # checked by the job object itself (strings, mappings, bindings)
    AZURE_ONLY = "azure_only"  # accepted so unmodified code runs; no meaning on Dask
    FILE_ONLY = "file_only"  # only in a job file ($schema, type, version)


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = Kind.SETTING
    minimum: int | None = None  # for Kind.INT
    keyword: bool = True  # accepted by Parallel(...) / parallel_run_function(...)
    in_file: bool = True  # accepted as a top-level key of a type: parallel job file
    file_int: bool = False  # a job file must give it as a YAML integer ("Not a valid integer")


PARALLEL_FIELDS: tuple[Field, ...] = (
    Field("$schema", Kind.FILE_ONLY, keyword=False),
    Field("type", Kind.FILE_ONLY, keyword=False),
    Field("name"),
    Field("display_name"),
    Field("description"),
    Field("tags", Kind.AZURE_ONLY),
    Field("properties", Kind.AZURE_ONLY),
    Field("comment", Kind.AZURE_ONLY),
    Field("experiment_name", Kind.AZURE_ONLY),
    Field("version", Kind.FILE_ONLY, keyword=False),
    Field("is_deterministic"),
    Field("inputs"),
    Field("outputs"),
    Field("compute", Kind.AZURE_ONLY),
    Field("task"),
    Field("input_data"),
    Field("mini_batch_size"),
    Field("partition_keys"),
    Field("mini_batch_error_threshold", Kind.INT, minimum=-1, file_int=True),
    Field("error_threshold", Kind.INT, minimum=-1, file_int=True),
    Field("logging_level"),
    Field("resources"),
    Field("max_concurrency_per_instance", Kind.INT, minimum=1, file_int=True),
    Field("retry_settings"),
    Field("environment_variables"),
    Field("identity", Kind.AZURE_ONLY),
    Field("speculation"),  # beyond Azure: speculative copies of stragglers
    Field("target_duration"),  # beyond Azure: mini_batch_size: auto aims at this time
    Field("instance_count", Kind.INT, minimum=1, in_file=False),  # in a file: resources.instance_count
    Field("instance_type", Kind.AZURE_ONLY, in_file=False),
    Field("environment", Kind.AZURE_ONLY, in_file=False),
    Field("docker_args", Kind.AZURE_ONLY, in_file=False),
    Field("shm_size", Kind.AZURE_ONLY, in_file=False),
)

FILE_KEYS: tuple[str, ...] = tuple(f.name for f in PARALLEL_FIELDS if f.in_file)
"""The top-level keys of a ``type: parallel`` job file, in the order messages list them."""
FILE_INT_KEYS: tuple[str, ...] = tuple(f.name for f in PARALLEL_FIELDS if f.file_int)
INT_FIELDS: tuple[Field, ...] = tuple(f for f in PARALLEL_FIELDS if f.kind is Kind.INT)
AZURE_ONLY: tuple[str, ...] = tuple(f.name for f in PARALLEL_FIELDS if f.kind is Kind.AZURE_ONLY)
"""Azure-only settings: accepted so unmodified code runs, otherwise unused here."""

TASK_KEYS = ("type", "code", "entry_script", "environment", "program_arguments", "append_row_to", "model")
INPUT_KEYS = (
    "type",
    "path",
    "mode",
    "default",
    "optional",
    "min",
    "max",
    "enum",
    "description",
    "datastore",
    "path_on_compute",
)
OUTPUT_KEYS = ("type", "path", "mode", "description")
RESOURCES_KEYS = (
    "instance_count",
    "instance_type",
    "properties",
    "docker_args",
    "shm_size",
    "locations",
    "max_instance_count",
    "dask_resources",  # beyond Azure: Dask worker resources each mini-batch needs, e.g. {GPU: 1}
)
RETRY_KEYS = ("max_retries", "timeout", "split_on_failure", "retry_on", "no_retry_on", "backoff")
