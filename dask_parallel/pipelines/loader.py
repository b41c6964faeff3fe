"""Read ``type: pipeline`` job files (jobs of ``type: parallel`` and ``type: command``) and
command component files, with errors that name the file, the line and the key."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import yaml

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.command import Command
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.jobs.syntax import PARENT_OUTPUT
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings
from dask_parallel.spec.job_file import (
    INPUT_KEYS,
    OUTPUT_KEYS,
    JobFile,
    job_from_mapping,
    read_yaml,
)
from dask_parallel.spec.job_file import (
    load_job as load_parallel_job,
)
from dask_parallel.spec.overrides import apply_overrides, parse_override

PIPELINE_KEYS = (
    "$schema",
    "type",
    "name",
    "display_name",
    "description",
    "experiment_name",
    "tags",
    "properties",
    "settings",
    "inputs",
    "outputs",
    "jobs",
    "compute",
    "identity",
)
SETTINGS_KEYS = (
    "default_compute",
    "default_datastore",
    "force_rerun",
    "continue_on_step_failure",
    "on_init",
    "on_finalize",
)
COMMAND_KEYS = (
    "$schema",
    "type",
    "name",
    "version",
    "display_name",
    "description",
    "tags",
    "properties",
    "comment",
    "command",
    "code",
    "environment",
    "environment_variables",
    "inputs",
    "outputs",
    "compute",
    "resources",
    "distribution",
    "identity",
    "limits",
    "services",
    "component",
    "is_deterministic",
    "experiment_name",
)


def load_any(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Parallel | PipelineJob | Command:
    """Load a job file of ``type: parallel``, ``type: pipeline`` or ``type: command``.

    ``overrides`` (the CLI's ``--set KEY=VALUE``) apply to every type; in a pipeline file a
    step's settings are ``jobs.<step>.<key>``, e.g. ``jobs.score.resources.instance_count=3``.
    """
    full = os.path.abspath(os.fspath(path))
    document = read_yaml(full)
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "pipeline":
        if overrides:
            _check_step_overrides(document, overrides, full)
            apply_overrides(document, overrides, full)
        return pipeline_from_mapping(document, JobFile(full), os.path.dirname(full))
    if kind == "command":
        if overrides:
            apply_overrides(document, overrides, full)
        node = _command(document, JobFile(full), os.path.dirname(full), "")
        node.name = node.name or os.path.splitext(os.path.basename(full))[0].replace("-", "_").lower()
        return node
    return load_parallel_job(path, overrides)


def _check_step_overrides(document: dict, overrides: Sequence[str], path: str) -> None:
    """``--set jobs.<step>...`` must name a step of the pipeline (a typo would add one)."""
    steps = document.get("jobs") if isinstance(document.get("jobs"), dict) else {}
    for text in overrides:
        keys, _ = parse_override(text)
        if keys[0] == "jobs" and (len(keys) < 3 or keys[1] not in steps):
            raise JobValidationError(
                f"--set {text!r}: {path} has no step {keys[1] if len(keys) > 1 else ''!r}; set "
                f"jobs.<step>.<key> with one of its steps: {', '.join(map(str, steps)) or '(none)'}."
            )


def load_pipeline(path: str | os.PathLike) -> PipelineJob:
    """Load a ``type: pipeline`` job file; relative paths resolve against its folder."""
    full = os.path.abspath(os.fspath(path))
    document = read_yaml(full)
    file = JobFile(full)
    if not isinstance(document, dict) or document.get("type") != "pipeline":
        raise file.error(
            document if isinstance(document, dict) else {}, "type", "a pipeline file needs type: pipeline."
        )
    return pipeline_from_mapping(document, file, os.path.dirname(full))


def load_component(source: str | os.PathLike) -> Command:
    """Load a command component file (``type: command``), as ``azure.ai.ml.load_component``."""
    full = os.path.abspath(os.fspath(source))
    document = read_yaml(full)
    file = JobFile(full)
    if not isinstance(document, dict) or document.get("type", "command") != "command":
        kind = document.get("type") if isinstance(document, dict) else None
        raise file.error(
            document if isinstance(document, dict) else {},
            "type",
            f"type {kind!r}: load_component reads command components (type: command); define parallel "
            "components with parallel_run_function or in the pipeline file.",
        )
    return _command(document, file, os.path.dirname(full), "")


def _data_values(file: JobFile, raw: Any, context: str, keys: tuple[str, ...], kind: type) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if raw is None:
        return values
    file.check_keys(raw, tuple(raw) if isinstance(raw, dict) else (), context)
    for name, value in raw.items():
        if isinstance(value, dict):
            file.check_keys(value, keys, f"{context}.{name}")
            try:
                values[name] = kind(**dict(value))
            except JobValidationError as exc:
                raise file.error(raw, name, f"{context}.{name}: {exc}") from None
        elif value is None and kind is Output:
            values[name] = Output()
        else:
            values[name] = value
    return values


def _command(document: dict, file: JobFile, base_dir: str, where: str) -> Command:
    file.check_keys(document, COMMAND_KEYS, where.rstrip("."))
    document = dict(document)
    component = document.pop("component", None)
    if component is not None:
        if not isinstance(component, str) or component.startswith("azureml:"):
            raise file.error(
                document,
                None,
                f"{where}component must be a path to a command component file (got {component!r}).",
            )
        base = load_component(os.path.join(base_dir, component))
        inputs = dict(base.inputs)
        for name, value in _data_values(
            file, document.get("inputs"), f"{where}inputs", INPUT_KEYS, Input
        ).items():
            if name not in inputs:
                raise file.error(
                    document,
                    "inputs",
                    f"{where}inputs.{name} is not an input of component {component}; its inputs are: "
                    f"{', '.join(sorted(inputs)) or '(none)'}.",
                )
            declared = inputs[name]
            if isinstance(value, str) and isinstance(declared, Input) and declared.is_data:
                value = Input(type=declared.type, path=value, mode=declared.mode)
            inputs[name] = value
        outputs = dict(base.outputs)
        outputs.update(_data_values(file, document.get("outputs"), f"{where}outputs", OUTPUT_KEYS, Output))
        node = Command(
            command=base.command,
            code=base.code,
            inputs=inputs,
            outputs=outputs,
            name=base.name,
            display_name=document.get("display_name") or base.display_name,
            environment_variables={
                **base.environment_variables,
                **dict(document.get("environment_variables") or {}),
            },
        )
        node.source_dir = base.source_dir
        return node
    if "command" not in document:
        raise file.error(document, None, f"{where}command is required for type: command.")
    code = document.get("code")
    if isinstance(code, str) and not code.startswith("azureml:"):
        code = os.path.normpath(os.path.join(base_dir, code))
    arguments = {
        key: document.get(key)
        for key in ("name", "display_name", "description", "environment", "environment_variables")
        if key in document
    }
    if "is_deterministic" in document:
        arguments["is_deterministic"] = document["is_deterministic"]
    try:
        node = Command(
            command=document["command"],
            code=code if code is not None else base_dir,
            inputs=_data_values(file, document.get("inputs"), f"{where}inputs", INPUT_KEYS, Input),
            outputs=_data_values(file, document.get("outputs"), f"{where}outputs", OUTPUT_KEYS, Output),
            **arguments,
        )
    except JobValidationError as exc:
        message = str(exc)
        key = next((k for k in document if isinstance(k, str) and message.startswith(k)), None)
        raise file.error(document, key, f"{where}{message}") from None
    node.source_dir = base_dir
    return node


def pipeline_from_mapping(document: dict, file: JobFile, base_dir: str) -> PipelineJob:
    """Build a :class:`PipelineJob` from a parsed ``type: pipeline`` mapping."""
    file.check_keys(document, PIPELINE_KEYS, "")
    raw_settings = document.get("settings") or {}
    file.check_keys(raw_settings, SETTINGS_KEYS, "settings")
    inputs = _data_values(file, document.get("inputs"), "inputs", INPUT_KEYS, Input)
    outputs = _data_values(file, document.get("outputs"), "outputs", OUTPUT_KEYS, Output)
    for name, value in outputs.items():
        if not isinstance(value, Output):
            raise file.error(
                document.get("outputs"),
                name,
                f"outputs.{name} must be a mapping such as {{type: uri_folder}}.",
            )
    raw_jobs = document.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise file.error(
            document,
            "jobs" if "jobs" in document else None,
            "jobs is required: a mapping of step names to steps.",
        )
    jobs: dict[str, Any] = {}
    bindings: dict[str, tuple[str, str]] = {}
    for step, raw in raw_jobs.items():
        if not isinstance(raw, dict):
            raise file.error(
                raw_jobs, step, f"jobs.{step} must be a mapping with a type (parallel or command)."
            )
        kind = raw.get("type")
        if kind == "parallel":
            node = job_from_mapping(raw, file, base_dir)
        elif kind == "command":
            node = _command(raw, file, base_dir, f"jobs.{step}.")
        else:
            raise file.error(
                raw,
                "type" if "type" in raw else None,
                f"jobs.{step}.type {kind!r} is not supported; dask_parallel runs steps of type parallel "
                "and command.",
            )
        for name, value in list(node.outputs.items()):
            if isinstance(value, str):
                match = PARENT_OUTPUT.match(value.strip())
                if not match:
                    raise file.error(
                        raw,
                        "outputs",
                        f"jobs.{step}.outputs.{name} is {value!r}; use ${{{{parent.outputs.<name>}}}}.",
                    )
                target = match.group(1)
                if target not in outputs:
                    raise file.error(
                        raw,
                        "outputs",
                        f"jobs.{step}.outputs.{name} binds ${{{{parent.outputs.{target}}}}}, which the "
                        "pipeline does not declare; its outputs are: "
                        f"{', '.join(sorted(outputs)) or '(none)'}.",
                    )
                bindings[target] = (step, name)
                wanted = outputs[target]
                node.outputs[name] = Output(type=wanted.type, path=wanted.path, mode=wanted.mode)
        jobs[str(step)] = node
    for name in outputs:
        if name not in bindings:
            raise file.error(
                document.get("outputs"),
                name,
                f"outputs.{name} is not bound by any step (${{{{parent.outputs.{name}}}}}).",
            )
    settings = PipelineSettings(
        default_compute=raw_settings.get("default_compute"),
        default_datastore=raw_settings.get("default_datastore"),
        force_rerun=bool(raw_settings.get("force_rerun", False)),
        continue_on_step_failure=bool(raw_settings.get("continue_on_step_failure", False)),
    )
    return PipelineJob(
        name=document.get("name") or os.path.splitext(os.path.basename(file.path))[0],
        display_name=document.get("display_name"),
        description=document.get("description"),
        jobs=jobs,
        inputs=inputs,
        outputs=outputs,
        output_bindings=bindings,
        settings=settings,
        source_dir=base_dir,
        tags=document.get("tags"),
        experiment_name=document.get("experiment_name"),
        properties=document.get("properties"),
        compute=document.get("compute"),
    )


def load_any_job(
    source: str | os.PathLike,
    *,
    params_override: Sequence[dict[str, Any]] | None = None,
    overrides: Sequence[str] = (),
    relative_origin: str | None = None,
    **kwargs: Any,
) -> Parallel | PipelineJob | Command:
    """Load a job file of any type (``parallel``, ``pipeline``, ``command``), as
    ``azure.ai.ml.load_job`` does.

    Parameters
    ----------
    source
        The YAML file; relative paths in it resolve against its folder.
    params_override
        Azure's form of overrides: a list of ``{"dotted.key": value}`` mappings, e.g.
        ``[{"jobs.score.resources.instance_count": 3}]``.
    overrides
        The CLI's ``--set`` form: ``["mini_batch_size=10", ...]``.
    relative_origin, kwargs
        Accepted for compatibility; paths always resolve against the file's folder.

    Examples
    --------
    >>> job = dask_parallel.load_job("pipeline.yml")  # doctest: +SKIP
    """
    texts = list(overrides)
    for mapping in params_override or ():
        if not isinstance(mapping, dict):
            raise JobValidationError(
                f"params_override must be a list of mappings such as [{{'mini_batch_size': '10'}}] "
                f"(got {mapping!r})."
            )
        for key, value in mapping.items():
            shown = (
                value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
            )
            texts.append(f"{key}={shown}")
    return load_any(source, texts)


load_job = load_any_job  # the public dask_parallel.load_job
