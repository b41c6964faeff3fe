"""Read Azure ML CLI v2 job files (``type: parallel``) into :class:`Parallel` jobs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import yaml

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.entities import Input, Output, RetrySettings, RunFunction
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.spec.overrides import apply_overrides
from dask_parallel.spec.sizes import is_binding

PARALLEL_KEYS = (
    "$schema",
    "type",
    "name",
    "display_name",
    "description",
    "tags",
    "properties",
    "comment",
    "experiment_name",
    "version",
    "is_deterministic",
    "inputs",
    "outputs",
    "compute",
    "task",
    "input_data",
    "mini_batch_size",
    "partition_keys",
    "mini_batch_error_threshold",
    "error_threshold",
    "logging_level",
    "resources",
    "max_concurrency_per_instance",
    "retry_settings",
    "environment_variables",
    "identity",
)
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
INT_KEYS = ("mini_batch_error_threshold", "error_threshold", "max_concurrency_per_instance")


class _LineDict(dict):
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class JobFile:
    """Error messages that point at the file and line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, mapping: Any, key: str | None, message: str) -> JobValidationError:
        line = getattr(mapping, "lines", {}).get(key) if key is not None else None
        where = f"{self.path}, line {line}" if line else self.path
        return JobValidationError(f"{where}: {message}")

    def check_keys(self, mapping: Any, allowed: tuple[str, ...], context: str) -> None:
        if not isinstance(mapping, dict):
            raise JobValidationError(f"{self.path}: {context} must be a mapping (got {mapping!r}).")
        for key in mapping:
            if key not in allowed:
                raise self.error(
                    mapping,
                    key,
                    f"unknown key {context + '.' if context else ''}{key!r}; allowed keys are: "
                    f"{', '.join(k for k in allowed if not k.startswith('$'))}.",
                )


def read_yaml(path: str) -> Any:
    if not os.path.isfile(path):
        raise JobValidationError(f"job file {path!r} does not exist.")
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise JobValidationError(f"{path} is not valid YAML: {exc}") from None


def load_job(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Parallel:
    """Load a ``type: parallel`` job file; relative paths in it resolve against its folder.

    ``overrides`` are ``KEY=VALUE`` strings (the CLI's ``--set``) applied to the YAML
    mapping before validation; see :mod:`dask_parallel.spec.overrides`.

    Examples
    --------
    >>> job = dask_parallel.load_job("conf/examples/file_scoring/job.yml")  # doctest: +SKIP
    """
    path = os.path.abspath(os.fspath(path))
    document = read_yaml(path)
    file = JobFile(path)
    if not isinstance(document, dict):
        raise JobValidationError(f"{path}: a job file must be a YAML mapping with type: parallel.")
    if overrides:
        apply_overrides(document, overrides, path)
    kind = document.get("type")
    if kind != "parallel":
        raise file.error(
            document,
            "type",
            f"type {kind!r} is not supported here; this command runs jobs with type: parallel.",
        )
    return job_from_mapping(document, file, os.path.dirname(path))


def job_from_mapping(document: dict, file: JobFile, base_dir: str) -> Parallel:
    file.check_keys(document, PARALLEL_KEYS, "")
    if "component" in document:
        raise file.error(document, "component", "component references are not supported; inline the task.")
    for key in INT_KEYS:
        value = document.get(key)
        not_int = value is not None and (isinstance(value, bool) or not isinstance(value, int))
        if not_int and not is_binding(value):
            raise file.error(document, key, f"{key}: Not a valid integer (got {value!r}).")
    size = document.get("mini_batch_size")
    if size is not None and not isinstance(size, str):
        raise file.error(
            document,
            "mini_batch_size",
            f'mini_batch_size: Not a valid string (got {size!r}); quote it, e.g. mini_batch_size: "{size}".',
        )

    task = document.get("task")
    if task is None:
        raise file.error(document, None, "task is required (type: run_function, code, entry_script).")
    file.check_keys(task, TASK_KEYS, "task")
    if "type" not in task:
        raise file.error(task, None, "'type' is required for ParallelTask (task.type: run_function).")
    if task.get("type") not in ("run_function", "model", "function"):
        raise file.error(
            task,
            "type",
            f"task.type: Value {task.get('type')!r} passed is not in set "
            "['run_function', 'model', 'function'].",
        )

    inputs: dict[str, Any] = {}
    raw_inputs = document.get("inputs") or {}
    file.check_keys(raw_inputs, tuple(raw_inputs), "inputs")
    for name, value in raw_inputs.items():
        if isinstance(value, dict):
            file.check_keys(value, INPUT_KEYS, f"inputs.{name}")
            inputs[name] = _build(file, raw_inputs, name, Input, value)
        else:
            inputs[name] = value
    outputs: dict[str, Any] = {}
    raw_outputs = document.get("outputs") or {}
    file.check_keys(raw_outputs, tuple(raw_outputs), "outputs")
    for name, value in raw_outputs.items():
        if isinstance(value, dict):
            file.check_keys(value, OUTPUT_KEYS, f"outputs.{name}")
            outputs[name] = _build(file, raw_outputs, name, Output, value)
        elif value is None:
            outputs[name] = Output()
        else:
            outputs[name] = value

    resources = document.get("resources")
    if resources is not None:
        file.check_keys(
            resources,
            (
                "instance_count",
                "instance_type",
                "properties",
                "docker_args",
                "shm_size",
                "locations",
                "max_instance_count",
                "dask_resources",
            ),
            "resources",
        )
    retry = document.get("retry_settings")
    if retry is not None:
        file.check_keys(retry, ("max_retries", "timeout"), "retry_settings")
        retry = RetrySettings(**retry)
    arguments = {
        key: value
        for key, value in document.items()
        if key not in ("$schema", "type", "version", "inputs", "outputs", "task", "retry_settings")
    }
    try:
        job = Parallel(
            inputs=inputs,
            outputs=outputs,
            task=_build(file, document, "task", RunFunction, {k: v for k, v in task.items()}),
            retry_settings=retry,
            **arguments,
        )
    except JobValidationError as exc:
        message = str(exc)
        key = next((k for k in document if isinstance(k, str) and message.startswith(k)), None)
        if key is None and message.startswith("task"):
            key = "task"
        raise file.error(document, key, message) from None
    job.source_dir = base_dir
    return job


def _build(file: JobFile, parent: dict, key: str, kind: type, values: dict) -> Any:
    try:
        return kind(**dict(values))
    except JobValidationError as exc:
        raise file.error(parent, key, str(exc)) from None
