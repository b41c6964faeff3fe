"""Check a pipeline before any step runs: bindings, types, cycles; resolve bindings per step."""

from __future__ import annotations

import copy
import dataclasses
import graphlib
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.bindings import PipelineInput
from dask_parallel.jobs.command import Command
from dask_parallel.jobs.entities import DATA_INPUT_TYPES, Input, Output
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.jobs.syntax import PARENT_INPUT, PARENT_JOB_OUTPUT
from dask_parallel.paths import normalize_path
from dask_parallel.pipelines.job import PipelineJob
from dask_parallel.spec.sizes import is_auto_size, is_binding, parse_mini_batch_size

FOLDER_TYPES = ("uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model")
INT_SETTINGS = (
    "instance_count",
    "max_concurrency_per_instance",
    "error_threshold",
    "mini_batch_error_threshold",
)
BINDABLE = ("mini_batch_size", "logging_level", *INT_SETTINGS)


def compatible(output_type: str, input_type: str) -> bool:
    """Whether an output of ``output_type`` may feed an input declared as ``input_type``."""
    if output_type == input_type:
        return True
    return output_type in FOLDER_TYPES and input_type in FOLDER_TYPES


def binding_of(value: Any) -> str | None:
    """The binding string an input value carries, if any."""
    if isinstance(value, PipelineInput):
        return value.binding
    if isinstance(value, Input):
        for candidate in (value.path, value.default):
            if is_binding(candidate):
                return candidate.strip()
        return None
    if is_binding(value):
        return value.strip()
    return None


def _setting_value(value: Any) -> Any:
    return value.binding if isinstance(value, PipelineInput) else value


def node_settings(node: Any) -> dict[str, Any]:
    """The node-level settings that may be bindings to pipeline inputs."""
    if not isinstance(node, Parallel):
        return {}
    found = {key: _setting_value(getattr(node, key)) for key in BINDABLE}
    found["retry_settings.timeout"] = _setting_value(node.retry_settings.timeout)
    found["retry_settings.max_retries"] = _setting_value(node.retry_settings.max_retries)
    return found


def output_type(node: Any, name: str) -> str:
    value = node.outputs.get(name)
    return value.type if isinstance(value, Output) else "uri_folder"


def dependencies(job: PipelineJob) -> dict[str, set[str]]:
    """Check every binding and return, per step, the steps it depends on."""
    if not job.jobs:
        raise JobValidationError(f"pipeline {job.name!r} has no steps; call at least one component in it.")
    needs: dict[str, set[str]] = {}
    for step, node in job.jobs.items():
        if not isinstance(node, (Parallel, Command)):
            raise JobValidationError(
                f"jobs.{step}: {type(node).__name__} is not a step dask_parallel can run; use "
                "parallel_run_function(...) or command(...)."
            )
        needs[step] = set()
        for key, value in node.inputs.items():
            binding = binding_of(value)
            if binding is None:
                continue
            where = f"jobs.{step}.inputs.{key}"
            needs[step] |= _check_binding(job, where, binding, value)
        for key, value in node_settings(node).items():
            if is_binding(value):
                match = PARENT_INPUT.match(value.strip())
                if not match:
                    raise JobValidationError(
                        f"jobs.{step}.{key} is {value!r}; node settings can bind only to pipeline "
                        "inputs, as ${{parent.inputs.<name>}}."
                    )
                _check_parent_input(job, f"jobs.{step}.{key}", match.group(1))
    for key, (step, output) in job.output_bindings.items():
        if step not in job.jobs:
            raise JobValidationError(
                f"outputs.{key} is bound to step {step!r}, which the pipeline does not have."
            )
        if output not in job.jobs[step].outputs:
            raise JobValidationError(
                f"outputs.{key} is bound to jobs.{step}.outputs.{output}, which step {step!r} does not "
                f"declare; its outputs are: {', '.join(sorted(job.jobs[step].outputs)) or '(none)'}."
            )
    order(needs)
    return needs


def _check_parent_input(job: PipelineJob, where: str, name: str) -> None:
    if name not in job.inputs:
        raise JobValidationError(
            f"{where} binds ${{{{parent.inputs.{name}}}}}, which pipeline {job.name!r} does not declare; "
            f"its inputs are: {', '.join(sorted(job.inputs)) or '(none)'}."
        )


def _check_binding(job: PipelineJob, where: str, binding: str, value: Any) -> set[str]:
    match = PARENT_INPUT.match(binding)
    if match:
        _check_parent_input(job, where, match.group(1))
        return set()
    match = PARENT_JOB_OUTPUT.match(binding)
    if not match:
        raise JobValidationError(
            f"{where} is {binding!r}; a step input binds ${{{{parent.inputs.<name>}}}} or "
            "${{parent.jobs.<step>.outputs.<name>}}."
        )
    producer, output = match.group(1), match.group(2)
    if producer not in job.jobs:
        raise JobValidationError(
            f"{where} binds the output of step {producer!r}, which the pipeline does not have; "
            f"its steps are: {', '.join(job.jobs)}."
        )
    if output not in job.jobs[producer].outputs:
        raise JobValidationError(
            f"{where} binds jobs.{producer}.outputs.{output}, which step {producer!r} does not declare; "
            f"its outputs are: {', '.join(sorted(job.jobs[producer].outputs)) or '(none)'}."
        )
    produced = output_type(job.jobs[producer], output)
    if isinstance(value, Input):
        if value.type not in DATA_INPUT_TYPES:
            raise JobValidationError(
                f"{where} is declared {value.type!r} (a literal), but is bound to "
                f"jobs.{producer}.outputs.{output} of type {produced!r}; bind a data input instead."
            )
        if not compatible(produced, value.type):
            raise JobValidationError(
                f"{where} is declared {value.type!r}, but jobs.{producer}.outputs.{output} is "
                f"{produced!r}; change one type so they match (e.g. "
                f"{producer}.outputs.{output}.type = {value.type!r})."
            )
    return {producer}


def order(needs: dict[str, set[str]]) -> list[str]:
    """Steps in dependency order, level by level (declaration order among equals); a cycle
    is an error naming it as ``a -> b -> a`` (each step followed by one it depends on)."""
    position = {step: number for number, step in enumerate(needs)}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for step in needs:  # declaration order first, so that ties keep it
        sorter.add(step)
    for step, deps in needs.items():
        sorter.add(step, *deps)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        loop = list(reversed(exc.args[1][:-1]))  # graphlib walks from a step to its dependents
        first = min(range(len(loop)), key=lambda i: position.get(loop[i], len(position)))
        loop = loop[first:] + loop[:first]
        raise JobValidationError(
            f"jobs form a cycle: {' -> '.join([*loop, loop[0]])}; a step cannot depend on itself."
        ) from None
    done: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda step: position.get(step, len(position)))
        done.extend(ready)
        sorter.done(*ready)
    return done


def dependents(needs: dict[str, set[str]], failed: str) -> set[str]:
    """Every step that directly or indirectly consumes ``failed``'s outputs."""
    found: set[str] = set()
    frontier = {failed}
    while frontier:
        frontier = {s for s, deps in needs.items() if deps & frontier} - found
        found |= frontier
    return found


@dataclasses.dataclass(frozen=True)
class Produced:
    """A finished step output: where it is and its type."""

    uri: str
    type: str


def _parent_value(job: PipelineJob, name: str) -> Any:
    value = job.inputs.get(name)
    return value.value if isinstance(value, PipelineInput) else value


def _literal(where: str, name: str, value: Any) -> Any:
    if isinstance(value, Input):
        if value.is_data:
            raise JobValidationError(
                f"{where} binds ${{{{parent.inputs.{name}}}}}, a data input, where a value is expected."
            )
        value = value.default
    if value is None:
        raise JobValidationError(
            f"{where} binds ${{{{parent.inputs.{name}}}}}, which has no value; pass it when "
            "building the pipeline or give it a default."
        )
    return value


def resolve_node(job: PipelineJob, step: str, produced: dict[str, dict[str, Produced]], base_dir: str) -> Any:
    """A copy of ``job.jobs[step]`` with every binding replaced by its value."""
    node = copy.deepcopy(job.jobs[step])
    for key, value in list(node.inputs.items()):
        binding = binding_of(value)
        if binding is None:
            continue
        where = f"jobs.{step}.inputs.{key}"
        declared = value if isinstance(value, Input) else None
        match = PARENT_INPUT.match(binding)
        if match:
            parent = _parent_value(job, match.group(1))
            if isinstance(parent, Input) and parent.is_data:
                if parent.path is None:
                    raise JobValidationError(
                        f"{where} binds ${{{{parent.inputs.{match.group(1)}}}}}, which has no path; "
                        "give the pipeline input a path."
                    )
                node.inputs[key] = Input(
                    type=declared.type if declared and declared.is_data else parent.type,
                    path=normalize_path(parent.path, base_dir),
                    mode=(declared.mode if declared else None) or parent.mode,
                )
            elif declared is not None and declared.is_data:
                node.inputs[key] = Input(
                    type=declared.type,
                    path=normalize_path(str(_literal(where, match.group(1), parent)), base_dir),
                    mode=declared.mode,
                )
            else:
                literal = _literal(where, match.group(1), parent)
                node.inputs[key] = Input(type=declared.type, default=literal) if declared else literal
            continue
        match = PARENT_JOB_OUTPUT.match(binding)
        source = produced[match.group(1)][match.group(2)]
        node.inputs[key] = Input(
            type=declared.type if declared else source.type,
            path=source.uri,
            mode=declared.mode if declared else None,
        )
    if isinstance(node, Parallel):
        _resolve_settings(job, step, node)
    return node


def _resolve_settings(job: PipelineJob, step: str, node: Parallel) -> None:
    def value_of(key: str, raw: Any) -> Any:
        raw = _setting_value(raw)
        if not is_binding(raw):
            return raw
        name = PARENT_INPUT.match(raw.strip()).group(1)
        return _literal(f"jobs.{step}.{key}", name, _parent_value(job, name))

    def as_int(key: str, value: Any) -> int | None:
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise JobValidationError(
                f"jobs.{step}.{key} is bound to a pipeline input with value {value!r}, which is not an "
                "integer."
            ) from None

    size = value_of("mini_batch_size", node.mini_batch_size)
    if size is not None:
        size = str(size)
        if not is_auto_size(size):
            parse_mini_batch_size(size, f"jobs.{step}.mini_batch_size")
    node.mini_batch_size = size
    level = value_of("logging_level", node.logging_level)
    if level is not None and level not in ("DEBUG", "INFO", "WARNING"):
        raise JobValidationError(
            f"jobs.{step}.logging_level: Value {level!r} passed is not in set ['DEBUG', 'INFO', 'WARNING']."
        )
    node.logging_level = level
    for key in INT_SETTINGS:
        setattr(node, key, as_int(key, value_of(key, getattr(node, key))))
    node.retry_settings = dataclasses.replace(  # keeps the settings beyond timeout and max_retries
        node.retry_settings,
        timeout=as_int(
            "retry_settings.timeout", value_of("retry_settings.timeout", node.retry_settings.timeout)
        ),
        max_retries=as_int(
            "retry_settings.max_retries",
            value_of("retry_settings.max_retries", node.retry_settings.max_retries),
        ),
    )


def code_dir(node: Any, base_dir: str) -> str:
    code = node.task.code if isinstance(node, Parallel) else node.code
    return normalize_path(code or ".", base_dir)
