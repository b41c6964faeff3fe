"""``ParallelRunConfig`` and ``Environment`` with SDK v1's arguments, defaults and messages."""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from dask_parallel.errors import JobValidationError
from dask_parallel.spec.sizes import MINI_BATCH_SIZE_PATTERN
from dask_parallel.v1.parameters import PipelineParameter, default_of
from dask_parallel.v1.runconfig import DockerSection, PythonSection, SparkSection

RESERVED_FILE_CHARS = '~"#%&*:<>?/\\{|}'
LOGGING_LEVELS = ("WARNING", "INFO", "DEBUG")


class Environment:
    """An ``azureml.core.Environment`` stand-in: a name, kept for the v2 translation.

    The Python environment on Dask is the workers' own; conda and Docker settings given
    through the class methods are accepted and recorded, not installed.
    """

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        self.name = name
        self.settings = settings
        self.version: str | None = settings.get("version")
        self.python = PythonSection()
        self.docker = DockerSection()
        self.spark = SparkSection()
        self.environment_variables: dict[str, str] = {}

    def describe(self) -> str:
        """What Azure would build the environment from (none of it is installed on Dask)."""
        parts = [f"name {self.name}"] if self.name else []
        deps = self.python.conda_dependencies
        if deps is not None and (deps.pip_packages or deps.conda_packages):
            parts.append("packages " + ", ".join(deps.conda_packages + deps.pip_packages))
        if self.docker.base_image:
            parts.append(f"image {self.docker.base_image}")
        for key, value in sorted(self.settings.items()):
            parts.append(f"{key} {value}")
        return "; ".join(parts) or "(empty)"

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str) -> Environment:
        return cls(name, conda_file=file_path)

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str) -> Environment:
        return cls(name, pip_requirements=file_path)

    @classmethod
    def get(cls, workspace: Any = None, name: str | None = None, version: str | None = None) -> Environment:
        return cls(name, version=version)

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_threshold(name: str, value: Any) -> None:
    if not _is_int(value) or value < -1:
        raise JobValidationError(f"{name} '{value}' is not an int value greater than or equal to -1.")


class ParallelRunConfig:
    """Configuration of a :class:`ParallelRunStep`, as in ``azureml.pipeline.steps``.

    Parameters take SDK v1's names, order and defaults; ``compute_target`` is accepted
    and not used (the step runs on the Dask cluster given to ``Experiment.submit``).
    ``mini_batch_size``, ``node_count``, ``process_count_per_node``, ``logging_level``,
    ``run_invocation_timeout``, ``run_max_try`` and ``partition_keys`` may be
    :class:`PipelineParameter` objects.

    Examples
    --------
    >>> from dask_parallel.v1 import Environment, ParallelRunConfig
    >>> config = ParallelRunConfig(
    ...     environment=Environment("batch"), entry_script="score.py", error_threshold=10,
    ...     output_action="append_row", compute_target="cpu-cluster", node_count=1,
    ...     mini_batch_size="5",
    ... )
    >>> config.run_max_try
    3
    """

    def __init__(
        self,
        environment: Environment,
        entry_script: str,
        error_threshold: int,
        output_action: str,
        compute_target: Any,
        node_count: int | PipelineParameter,
        process_count_per_node: int | PipelineParameter | None = None,
        mini_batch_size: int | str | PipelineParameter | None = None,
        source_directory: str | None = None,
        description: str | None = None,
        logging_level: str | PipelineParameter = "INFO",
        run_invocation_timeout: int | PipelineParameter = 60,
        run_max_try: int | PipelineParameter = 3,
        append_row_file_name: str | None = None,
        allowed_failed_count: int | None = None,
        allowed_failed_percent: float | None = None,
        partition_keys: list[str] | PipelineParameter | None = None,
        environment_variables: dict[str, str] | None = None,
    ) -> None:
        if environment is None:
            raise JobValidationError(
                "Parameter environment is required. It should be instance of azureml.core.Environment."
            )
        if not isinstance(environment, Environment):
            raise JobValidationError(
                "Parameter environment must be an instance of azureml.core.Environment. "
                f"The actual value is {environment}."
            )
        if not isinstance(output_action, str) or output_action.lower() not in ("append_row", "summary_only"):
            raise JobValidationError("Parameter output_action must be summary_only or append_row.")
        _check_threshold("error_threshold", error_threshold)
        if allowed_failed_count is not None:
            _check_threshold("allowed_failed_count", allowed_failed_count)
        if allowed_failed_percent is not None:
            if isinstance(allowed_failed_percent, bool) or not isinstance(
                allowed_failed_percent, (int, float)
            ):
                raise JobValidationError(
                    f"allowed_failed_percent '{allowed_failed_percent}' is not an int or float."
                )
            if not 0 <= allowed_failed_percent <= 100:
                raise JobValidationError(
                    f"allowed_failed_percent '{allowed_failed_percent}' is not between 0 and 100."
                )
        if mini_batch_size is not None and partition_keys is not None:
            raise JobValidationError(
                "Parameters mini_batch_size and partition_keys are mutually exclusive, because they specify "
                "different ways to partition the input datasets into mini-batches."
            )
        size = default_of(mini_batch_size)
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, (int, str)):
                raise JobValidationError("Parameter mini_batch_size must be of type int or str.")
            if not MINI_BATCH_SIZE_PATTERN.match(str(size)):
                raise JobValidationError(
                    r"Parameter mini_batch_size must follow regex rule ^\d+([kKmMgG][bB])*$."
                )
        keys = default_of(partition_keys)
        if isinstance(partition_keys, PipelineParameter) and isinstance(keys, str):
            try:
                keys = json.loads(keys)
            except ValueError:
                raise JobValidationError(
                    "The default value of the PipelineParameter for partition_keys must be the JSON dump "
                    "of a list of str."
                ) from None
        if keys is not None:
            if not isinstance(keys, list):
                raise JobValidationError("Parameter partition_keys must be of type list.")
            for key in keys:
                if not isinstance(key, str):
                    raise JobValidationError(f"Element {key} in partition_keys is not a str.")
        count = default_of(process_count_per_node)
        if count is not None and (not _is_int(count) or count < 1):
            raise JobValidationError("Parameter process_count_per_node must be an integer greater than 0.")
        nodes = default_of(node_count)
        if not _is_int(nodes) or nodes < 1:
            raise JobValidationError(
                f"node_count '{nodes}' is not between 1 and max_nodes "
                "(the number of nodes is not capped on Dask)."
            )
        timeout = default_of(run_invocation_timeout)
        if not _is_int(timeout) or timeout <= 0:
            raise JobValidationError("Parameter run_invocation_timeout must be an integer greater than 0.")
        tries = default_of(run_max_try)
        if not _is_int(tries) or tries <= 0:
            raise JobValidationError("Parameter run_max_try must be an integer greater than 0.")
        bad_name = append_row_file_name is not None and (
            not append_row_file_name or any(ch in append_row_file_name for ch in RESERVED_FILE_CHARS)
        )
        if output_action.lower() == "append_row" and bad_name:
            raise JobValidationError("Parameter append_row_file_name must be a valid UNIX file name.")
        if default_of(logging_level) not in LOGGING_LEVELS:
            raise JobValidationError(
                f"logging_level: Value {default_of(logging_level)!r} passed is not in set "
                "['DEBUG', 'INFO', 'WARNING']."
            )
        self.environment = environment
        self.entry_script = entry_script
        self.error_threshold = error_threshold
        self.output_action = output_action.lower()
        self.compute_target = compute_target
        self.node_count = node_count
        self.process_count_per_node = process_count_per_node
        self.mini_batch_size = mini_batch_size
        self.source_directory = os.fspath(source_directory) if source_directory is not None else None
        self.description = description
        self.logging_level = logging_level
        self.run_invocation_timeout = run_invocation_timeout
        self.run_max_try = run_max_try
        self.append_row_file_name = append_row_file_name
        self.allowed_failed_count = allowed_failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.partition_keys = partition_keys
        self.environment_variables = dict(environment_variables or {})

    def save_to_yaml(self, path: str | os.PathLike) -> None:
        """Write the configuration as v1 does (``parallel_run_config:`` mapping)."""
        data = {
            "mini_batch_size": default_of(self.mini_batch_size),
            "partition_keys": default_of(self.partition_keys),
            "error_threshold": self.error_threshold,
            "output_action": self.output_action,
            "logging_level": default_of(self.logging_level),
            "compute_target_name": str(self.compute_target) if self.compute_target is not None else None,
            "node_count": default_of(self.node_count),
            "process_count_per_node": default_of(self.process_count_per_node),
            "entry_script": self.entry_script,
            "source_directory": self.source_directory,
            "description": self.description,
            "run_invocation_timeout": default_of(self.run_invocation_timeout),
            "run_max_try": default_of(self.run_max_try),
            "append_row_file_name": self.append_row_file_name,
            "allowed_failed_count": self.allowed_failed_count,
            "allowed_failed_percent": self.allowed_failed_percent,
            "environment": self.environment.name,
            "environment_variables": self.environment_variables or None,
        }
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"parallel_run_config": data}, handle, sort_keys=False)

    @staticmethod
    def load_yaml(workspace: Any, path: str | os.PathLike) -> ParallelRunConfig:
        """Read a file written by :meth:`save_to_yaml`; ``workspace`` is accepted and not used."""
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        if not isinstance(document, dict) or not isinstance(document.get("parallel_run_config"), dict):
            raise JobValidationError(f"{path}: expected a mapping with the key parallel_run_config.")
        data = dict(document["parallel_run_config"])
        known = {
            "mini_batch_size", "partition_keys", "error_threshold", "output_action", "logging_level",
            "compute_target_name", "node_count", "process_count_per_node", "entry_script",
            "source_directory", "description", "run_invocation_timeout", "run_max_try",
            "append_row_file_name", "allowed_failed_count", "allowed_failed_percent", "environment",
            "environment_variables",
        }  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise JobValidationError(
                f"{path}: unknown key parallel_run_config.{unknown[0]}; allowed keys are: "
                f"{', '.join(sorted(known))}."
            )
        environment = data.pop("environment", None)
        data["compute_target"] = data.pop("compute_target_name", None)
        data["environment"] = Environment(environment if isinstance(environment, str) else None)
        for key in ("logging_level", "run_invocation_timeout", "run_max_try"):
            if data.get(key) is None:
                data.pop(key, None)
        config = ParallelRunConfig(**data)
        config.source_yaml = os.path.abspath(os.fspath(path))
        return config
