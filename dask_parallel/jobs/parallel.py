"""``parallel_run_function`` and the ``Parallel`` job it returns (azure.ai.ml.parallel)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.bindings import call_component, declared_outputs, field_dict
from dask_parallel.jobs.entities import Input, Output, RetrySettings, RunFunction, SpeculationSettings
from dask_parallel.jobs.fields import AZURE_ONLY, INT_FIELDS
from dask_parallel.jobs.resources import ResourceConfiguration
from dask_parallel.jobs.syntax import (
    INPUT_BINDING,
    OUTPUT_BINDING,
    check_io_names,
    is_auto_size,
    is_binding,
    parse_duration,
    parse_mini_batch_size,
)

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z][a-z\d_]*$")
LOGGING_LEVELS = ("DEBUG", "INFO", "WARNING")
MAX_TIMEOUT = 259200


def _check_int(key: str, value: Any, minimum: int, allow_binding: bool = True) -> None:
    if value is None or (allow_binding and is_binding(value)):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise JobValidationError(
            f"{key} must be an integer >= {minimum} (got {type(value).__name__} {value!r})."
        )
    if value < minimum:
        raise JobValidationError(f"{key} must be an integer >= {minimum} (got {value}).")


class Parallel:
    """A parallel job: an entry script mapped over the mini-batches of one input.

    Built by :func:`parallel_run_function` (or from a YAML file). Calling it with input
    values returns a new job with those inputs bound, as in azure.ai.ml::

        job = batch_inference(job_data_path=Input(type="uri_folder", path="./data"))
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        input_data: str | None = None,
        task: RunFunction | Mapping[str, Any] | None = None,
        instance_count: int | None = None,
        max_concurrency_per_instance: int | None = None,
        mini_batch_size: str | int | None = None,
        partition_keys: list[str] | None = None,
        error_threshold: int | None = None,
        mini_batch_error_threshold: int | None = None,
        retry_settings: RetrySettings | Mapping[str, Any] | None = None,
        logging_level: str | None = None,
        environment_variables: Mapping[str, Any] | None = None,
        is_deterministic: bool = True,
        resources: ResourceConfiguration | Mapping[str, Any] | None = None,
        speculation: SpeculationSettings | bool | Mapping[str, Any] | None = None,
        target_duration: str | float | None = None,
        **azure_only: Any,
    ) -> None:
        unknown = sorted(set(azure_only) - set(AZURE_ONLY))
        if unknown:
            raise JobValidationError(
                f"parallel job got an unexpected argument {unknown[0]!r}. "
                "See help(dask_parallel.parallel_run_function) for the accepted arguments."
            )
        ignored = sorted(k for k, v in azure_only.items() if v is not None)
        if ignored:
            logger.debug("ignoring Azure-only settings (no meaning on Dask): %s", ", ".join(ignored))
        self.azure_only = dict(azure_only)
        # Azure-only, kept as attributes as on azure.ai.ml's Parallel job.
        self.tags: dict[str, str] = dict(azure_only.get("tags") or {})
        self.properties: dict[str, Any] = dict(azure_only.get("properties") or {})
        self.experiment_name: str | None = azure_only.get("experiment_name")
        self.compute: str | None = azure_only.get("compute")
        self.source_dir: str | None = None  # set for jobs read from a file: paths resolve there

        if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
            raise JobValidationError(
                f"name {name!r} is invalid: Component name should only contain lower letter, "
                "number, underscore and start with a lower letter."
            )
        self.name = name
        self.display_name = display_name
        self.description = description

        if isinstance(task, Mapping):
            task = RunFunction(**dict(task))
        if task is not None and not isinstance(task, RunFunction):
            raise JobValidationError(f"task must be a RunFunction or a dict (got {type(task).__name__}).")
        self.task = task

        self.inputs: dict[str, Any] = field_dict()
        for key, value in dict(inputs or {}).items():
            if isinstance(value, Mapping):
                value = Input(**dict(value))
            self.inputs[key] = value
        self.outputs: dict[str, Output | None] = declared_outputs(outputs)

        resources = ResourceConfiguration.coerce(resources)
        if instance_count is not None and resources.instance_count is not None:
            raise JobValidationError("instance_count and resources are mutually exclusive")
        if instance_count is not None:
            resources.instance_count = instance_count
        self._resources = resources

        integers = {
            "instance_count": resources.instance_count,
            "max_concurrency_per_instance": max_concurrency_per_instance,
            "error_threshold": error_threshold,
            "mini_batch_error_threshold": mini_batch_error_threshold,
        }
        minimums = {field.name: field.minimum or 0 for field in INT_FIELDS}  # from the field table
        for key, value in integers.items():
            _check_int(key, value, minimums[key])
        self.max_concurrency_per_instance = max_concurrency_per_instance
        self.error_threshold = error_threshold
        self.mini_batch_error_threshold = mini_batch_error_threshold

        if (
            mini_batch_size is not None
            and not is_binding(mini_batch_size)
            and not is_auto_size(mini_batch_size)
        ):
            if not isinstance(mini_batch_size, str):
                raise JobValidationError(
                    f'mini_batch_size must be a string such as "10" (files) or "100kb" '
                    f"(bytes) (got {type(mini_batch_size).__name__} {mini_batch_size!r}); "
                    "quote the value."
                )
            parse_mini_batch_size(mini_batch_size)
        self.mini_batch_size = mini_batch_size
        if target_duration is not None:
            parse_duration(target_duration)
            if mini_batch_size is not None and not is_auto_size(mini_batch_size):
                raise JobValidationError(
                    f"target_duration sizes mini-batches by time, so it cannot be combined with "
                    f"mini_batch_size {mini_batch_size!r}; remove mini_batch_size or set it to auto."
                )
        self.target_duration = target_duration

        if partition_keys is not None:
            if not isinstance(partition_keys, (list, tuple)) or not all(
                isinstance(k, str) for k in partition_keys
            ):
                raise JobValidationError(
                    f"partition_keys must be a list of column names (got {partition_keys!r})."
                )
            partition_keys = list(partition_keys)
        self.partition_keys = partition_keys

        self.retry_settings = RetrySettings.coerce(retry_settings)
        _check_int("retry_settings.max_retries", self.retry_settings.max_retries, 1)
        timeout = self.retry_settings.timeout
        _check_int("retry_settings.timeout", timeout, 1)
        if isinstance(timeout, int) and timeout > MAX_TIMEOUT:
            raise JobValidationError(
                f"retry_settings.timeout must be in (0, {MAX_TIMEOUT}] seconds (got {timeout})."
            )
        self.speculation = SpeculationSettings.coerce(
            dict(speculation) if isinstance(speculation, Mapping) else speculation
        )

        if (
            logging_level is not None
            and not is_binding(logging_level)
            and logging_level not in LOGGING_LEVELS
        ):
            raise JobValidationError(
                f"logging_level: Value {logging_level!r} passed is not in set {list(LOGGING_LEVELS)}."
            )
        self.logging_level = logging_level

        self.environment_variables = check_environment_variables(environment_variables)

        if not isinstance(is_deterministic, bool):
            raise JobValidationError(f"is_deterministic must be true or false (got {is_deterministic!r}).")
        self.is_deterministic = is_deterministic

        check_io_names("inputs", self.inputs)
        check_io_names("outputs", self.outputs)
        if input_data is not None:
            if not isinstance(input_data, str):
                raise JobValidationError(
                    f"input_data must be a string like '${{{{inputs.<name>}}}}' (got {input_data!r})."
                )
            match = INPUT_BINDING.match(input_data.strip())
            if not match:
                raise JobValidationError(
                    f"input_data must be a binding to one declared input, such as "
                    f"'${{{{inputs.job_data_path}}}}' (got {input_data!r})."
                )
            if match.group(1) not in self.inputs:
                raise JobValidationError(
                    f"input_data refers to inputs.{match.group(1)}, which is not declared; "
                    f"declared inputs are: {', '.join(sorted(self.inputs)) or '(none)'}."
                )
        self.input_data = input_data

        if self.task is not None and self.task.append_row_to is not None:
            match = OUTPUT_BINDING.match(self.task.append_row_to.strip())
            if not match:
                raise JobValidationError(
                    "task.append_row_to must be a binding to one declared output, such as "
                    f"'${{{{outputs.job_output_file}}}}' (got {self.task.append_row_to!r})."
                )
            if match.group(1) not in self.outputs:
                raise JobValidationError(
                    f"task.append_row_to refers to outputs.{match.group(1)}, which is not declared; "
                    f"declared outputs are: {', '.join(sorted(self.outputs)) or '(none)'}."
                )

    @property
    def resources(self) -> ResourceConfiguration:
        """``resources.instance_count`` is the number of instances (``instance_count``)."""
        return self._resources

    @resources.setter
    def resources(self, value: ResourceConfiguration | Mapping[str, Any] | None) -> None:
        value = ResourceConfiguration.coerce(value)
        _check_int("resources.instance_count", value.instance_count, 1)
        self._resources = value

    @property
    def instance_count(self) -> int | str | None:
        return self._resources.instance_count

    @instance_count.setter
    def instance_count(self, value: int | str | None) -> None:
        _check_int("instance_count", value, 1)
        self._resources.instance_count = value

    @property
    def major_input_name(self) -> str | None:
        if self.input_data is None:
            return None
        match = INPUT_BINDING.match(self.input_data.strip())
        return match.group(1) if match else None

    @property
    def append_row_output_name(self) -> str | None:
        if self.task is None or self.task.append_row_to is None:
            return None
        match = OUTPUT_BINDING.match(self.task.append_row_to.strip())
        return match.group(1) if match else None

    def __call__(self, **bindings: Any) -> Parallel:
        """Return a copy of this job with the given inputs bound, as azure.ai.ml does."""
        return call_component(self, bindings, "parallel job")

    def __repr__(self) -> str:
        return (
            f"Parallel(name={self.name!r}, input_data={self.input_data!r}, "
            f"mini_batch_size={self.mini_batch_size!r}, inputs={sorted(self.inputs)}, "
            f"outputs={sorted(self.outputs)})"
        )


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_environment_variables(value: Any) -> dict[str, str]:
    """``environment_variables`` as a mapping of valid names to strings, or a located error.

    A name the operating system would refuse (``1X``, ``A=B``, empty) or a value with a NUL
    byte would otherwise only fail in every worker process, reported as a dead worker.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise JobValidationError(
            f"environment_variables must be a mapping of names to values, such as "
            f"{{MODEL_DIR: ./model}} (got {type(value).__name__} {value!r})."
        )
    env = {}
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_NAME.match(key):
            raise JobValidationError(
                f"environment_variables: {key!r} is not a valid variable name (letters, digits and "
                "underscores, not starting with a digit)."
            )
        if isinstance(item, (dict, list, tuple)) or item is None:
            raise JobValidationError(f"environment_variables.{key} must be a string (got {item!r}).")
        text = str(item)
        if "\0" in text:
            raise JobValidationError(f"environment_variables.{key} holds a NUL character; no value may.")
        env[key] = text
    return env


def parallel_run_function(
    *,
    name: str | None = None,
    description: str | None = None,
    tags: dict | None = None,
    properties: dict | None = None,
    display_name: str | None = None,
    experiment_name: str | None = None,
    compute: str | None = None,
    retry_settings: RetrySettings | dict | None = None,
    environment_variables: dict[str, str] | None = None,
    logging_level: str | None = None,
    max_concurrency_per_instance: int | None = None,
    error_threshold: int | None = None,
    mini_batch_error_threshold: int | None = None,
    task: RunFunction | None = None,
    mini_batch_size: str | None = None,
    partition_keys: list[str] | None = None,
    input_data: str | None = None,
    inputs: dict[str, Input | Any] | None = None,
    outputs: dict[str, Output] | None = None,
    instance_count: int | None = None,
    instance_type: str | None = None,
    docker_args: str | None = None,
    shm_size: str | None = None,
    identity: Any = None,
    is_deterministic: bool = True,
    **kwargs: Any,
) -> Parallel:
    """Define a parallel job, with the arguments of ``azure.ai.ml.parallel.parallel_run_function``.

    Examples
    --------
    >>> from dask_parallel import Input, Output, RunFunction, parallel_run_function
    >>> job = parallel_run_function(
    ...     name="score",
    ...     inputs={"data": Input(type="uri_folder")},
    ...     outputs={"scores": Output(type="uri_file")},
    ...     input_data="${{inputs.data}}",
    ...     mini_batch_size="5",
    ...     task=RunFunction(code="./src", entry_script="score.py",
    ...                      append_row_to="${{outputs.scores}}"),
    ... )
    >>> job.mini_batch_size
    '5'
    """
    if kwargs.get("resources") is not None and instance_count is not None:
        raise JobValidationError("instance_count and resources are mutually exclusive")
    return Parallel(
        name=name,
        description=description,
        display_name=display_name,
        inputs=inputs,
        outputs=outputs,
        input_data=input_data,
        task=task,
        instance_count=instance_count,
        max_concurrency_per_instance=max_concurrency_per_instance,
        mini_batch_size=mini_batch_size,
        partition_keys=partition_keys,
        error_threshold=error_threshold,
        mini_batch_error_threshold=mini_batch_error_threshold,
        retry_settings=retry_settings,
        logging_level=logging_level,
        environment_variables=environment_variables,
        is_deterministic=is_deterministic,
        tags=tags,
        properties=properties,
        experiment_name=experiment_name,
        compute=compute,
        instance_type=instance_type,
        docker_args=docker_args,
        shm_size=shm_size,
        identity=identity,
        **kwargs,
    )


__all__ = ["Parallel", "parallel_run_function"]
