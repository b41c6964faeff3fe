"""v1 → v2: turn a ``ParallelRunStep`` (or a saved ``ParallelRunConfig``) into a v2 parallel job
and its CLI v2 YAML, with the settings mapped as in Azure's migration table."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import Parallel


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != {} and v != []}


def job_to_dict(job: Parallel, *, relative_to: str | None = None) -> dict[str, Any]:
    """The ``type: parallel`` YAML mapping of a parallel job (paths relative to ``relative_to``)."""

    def path(value: str | None) -> str | None:
        if value is None or relative_to is None or "://" in value or value.startswith("${{"):
            return value
        return os.path.relpath(value, relative_to)

    inputs: dict[str, Any] = {}
    for name, value in job.inputs.items():
        if isinstance(value, Input):
            data = _clean({k: v for k, v in dataclasses.asdict(value).items()})
            if "path" in data:
                data["path"] = path(data["path"])
            inputs[name] = data
        else:
            inputs[name] = value
    outputs = {}
    for name, value in job.outputs.items():
        value = value if isinstance(value, Output) else Output()
        data = _clean(dataclasses.asdict(value))
        if "path" in data:
            data["path"] = path(data["path"])
        outputs[name] = data
    task = job.task
    document: dict[str, Any] = {
        "type": "parallel",
        "name": job.name,
        "description": job.description,
        "inputs": inputs,
        "outputs": outputs,
        "input_data": job.input_data,
        "mini_batch_size": job.mini_batch_size,
        "partition_keys": job.partition_keys,
        "error_threshold": job.error_threshold,
        "mini_batch_error_threshold": job.mini_batch_error_threshold,
        "logging_level": job.logging_level,
        "resources": {"instance_count": job.instance_count} if job.instance_count is not None else None,
        "max_concurrency_per_instance": job.max_concurrency_per_instance,
        "retry_settings": _clean(dataclasses.asdict(job.retry_settings)),
        "environment_variables": job.environment_variables,
        "is_deterministic": job.is_deterministic,
        "task": _clean(
            {
                "type": "run_function",
                "code": path(task.code) if task else None,
                "entry_script": task.entry_script if task else None,
                "environment": task.environment if task and isinstance(task.environment, str) else None,
                "program_arguments": task.program_arguments if task else None,
                "append_row_to": task.append_row_to if task else None,
            }
        ),
    }
    return _clean(document)


def job_to_yaml(job: Parallel, *, relative_to: str | None = None) -> str:
    """The ``type: parallel`` YAML text of a parallel job; ``dask-parallel run`` accepts it."""
    return yaml.safe_dump(job_to_dict(job, relative_to=relative_to), sort_keys=False)


def upgrade_step(step: Any) -> tuple[Parallel, str]:
    """A v1 ``ParallelRunStep`` as a v2 parallel job and its YAML."""
    job = step.to_v2()
    return job, job_to_yaml(job)


def upgrade_config_file(
    path: str | os.PathLike,
    *,
    input_data: str,
    input_type: str = "uri_folder",
    name: str = "parallel-run-step",
    output: str | None = None,
    arguments: list[str] | None = None,
    target_dir: str | None = None,
) -> str:
    """Upgrade a v1 ``ParallelRunConfig.save_to_yaml`` file to a v2 job YAML text.

    A v1 config has no inputs or outputs (they belong to the step), so the data to split
    (``input_data``: files or a folder; ``input_type="tabular"`` for delimited files read as
    a table) and optionally the output folder
    are given here. Relative paths in the result are relative to ``target_dir``.
    """
    from dask_parallel.v1 import Dataset, OutputFileDatasetConfig, ParallelRunConfig, ParallelRunStep

    config = ParallelRunConfig.load_yaml(None, path)
    if config.source_directory is not None and not os.path.isabs(config.source_directory):
        config.source_directory = os.path.join(
            os.path.dirname(os.path.abspath(path)), config.source_directory
        )
    if input_type == "tabular":
        dataset = Dataset.Tabular.from_delimited_files(input_data)
    else:
        dataset = Dataset.File.from_files(input_data)
    out = OutputFileDatasetConfig(name="output", destination=output) if output else None
    if out is None and config.output_action == "append_row":
        out = OutputFileDatasetConfig(name="output")
    step = ParallelRunStep(
        name=name,
        parallel_run_config=config,
        inputs=[dataset.as_named_input("input_data")],
        output=out,
        arguments=arguments,
    )
    job = step.to_v2()
    return job_to_yaml(job, relative_to=target_dir)
