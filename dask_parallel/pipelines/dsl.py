"""The ``@pipeline`` decorator: build a :class:`PipelineJob` from a function body."""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.bindings import BoundInput, PipelineInput, building
from dask_parallel.jobs.entities import Output
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings

STEP_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
KNOWN_KWARGS = (
    "default_compute",
    "default_compute_target",
    "default_datastore",
    "continue_on_step_failure",
    "force_rerun",
    "experiment_name",
    "version",
    "tags",
    "on_init",
    "on_finalize",
    "non_pipeline_inputs",
    "compute",
)


def _run_capturing_locals(func: Callable, args: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Call ``func`` and return its result and its local variables at return."""
    captured: dict[str, Any] = {}
    code = func.__code__

    def profiler(frame, event, arg):
        if event == "return" and frame.f_code is code:
            captured.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        result = func(**args)
    finally:
        sys.setprofile(previous)
    return result, captured


def _step_names(nodes: list[Any], local_vars: dict[str, Any]) -> dict[int, str]:
    names: dict[int, str] = {}
    for var, value in local_vars.items():
        if any(value is node for node in nodes) and id(value) not in names and STEP_NAME.match(var):
            names[id(value)] = var
    used = set(names.values())
    for node in nodes:
        if id(node) in names:
            continue
        base = node.name or type(node).__name__.lower()
        name, n = base, 1
        while name in used:
            name, n = f"{base}_{n}", n + 1
        names[id(node)] = name
        used.add(name)
    return names


def _build(func: Callable, settings: dict[str, Any], call_args: tuple, call_kwargs: dict) -> PipelineJob:
    signature = inspect.signature(func)
    try:
        bound = signature.bind(*call_args, **call_kwargs)
    except TypeError as exc:
        raise JobValidationError(f"pipeline {func.__name__}: {exc}") from None
    bound.apply_defaults()
    inputs: dict[str, Any] = {}
    placeholders: dict[str, PipelineInput] = {}
    for key, value in bound.arguments.items():
        if value is inspect.Parameter.empty:
            value = None
        inputs[key] = value
        placeholders[key] = PipelineInput(key, value)
    with building() as builder:
        returned, local_vars = _run_capturing_locals(func, placeholders)
    nodes = builder.nodes
    names = _step_names(nodes, local_vars)
    jobs: dict[str, Any] = {}
    for node in nodes:
        jobs[names[id(node)]] = node
    for step, node in jobs.items():
        for key, value in node.inputs.items():
            if isinstance(value, BoundInput) and value.source[0] == "node":
                producer, output = value.source[1], value.source[2]
                if id(producer) not in names:
                    raise JobValidationError(
                        f"jobs.{step}.inputs.{key} is bound to an output of a step created outside "
                        f"pipeline {func.__name__}; create that step inside the pipeline function."
                    )
                value.path = f"${{{{parent.jobs.{names[id(producer)]}.outputs.{output}}}}}"
    outputs: dict[str, Output] = {}
    output_bindings: dict[str, tuple[str, str]] = {}
    if returned is not None:
        if not isinstance(returned, dict):
            raise JobValidationError(
                f"pipeline {func.__name__} must return a dict of outputs such as "
                f"{{'scores': step.outputs.scores}}, or nothing (got {type(returned).__name__})."
            )
        for key, value in returned.items():
            owner = next(
                (
                    (step, name)
                    for step, node in jobs.items()
                    for name, out in node.outputs.items()
                    if out is value
                ),
                None,
            )
            if owner is None:
                raise JobValidationError(
                    f"pipeline {func.__name__} returns outputs[{key!r}], which is not the output of a "
                    "step in this pipeline; return step.outputs.<name>."
                )
            output_bindings[key] = owner
            outputs[key] = Output(type=value.type, path=value.path, mode=value.mode)
    compute = settings.get("default_compute") or settings.get("default_compute_target")
    return PipelineJob(
        name=settings.get("name") or func.__name__,
        display_name=settings.get("display_name"),
        description=settings.get("description") or inspect.getdoc(func),
        jobs=jobs,
        inputs={k: (v.value if isinstance(v, PipelineInput) else v) for k, v in inputs.items()},
        outputs=outputs,
        output_bindings=output_bindings,
        settings=PipelineSettings(
            default_compute=compute,
            default_datastore=settings.get("default_datastore"),
            force_rerun=bool(settings.get("force_rerun", False)),
            continue_on_step_failure=bool(settings.get("continue_on_step_failure", False)),
        ),
        tags=settings.get("tags"),
        experiment_name=settings.get("experiment_name"),
    )


def pipeline(
    func: Callable | None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    experiment_name: str | None = None,
    tags: dict[str, str] | None = None,
    **kwargs: Any,
) -> Callable:
    """Turn a function that calls components into a pipeline builder, as ``azure.ai.ml.dsl.pipeline``.

    Calling the decorated function returns a :class:`PipelineJob`; its arguments become
    the pipeline inputs (``Input`` objects for data, literals for parameters). Components
    called in the body become steps named after the variables they are assigned to; the
    returned dict of step outputs becomes the pipeline outputs.

    Parameters
    ----------
    name, display_name, description
        The pipeline's name (the function name by default) and descriptions.
    default_compute, default_datastore, version, experiment_name, tags
        Accepted for compatibility; no effect on Dask.
    force_rerun
        Run every step even if an identical earlier run can be reused.
    continue_on_step_failure
        Keep running the steps that do not depend on a failed step.

    Examples
    --------
    >>> from dask_parallel import pipeline
    >>> @pipeline(default_compute="cpu-cluster")
    ... def scoring(data):
    ...     return {}
    >>> scoring(data=None).name
    'scoring'
    """
    unknown = sorted(set(kwargs) - set(KNOWN_KWARGS))
    if unknown:
        raise JobValidationError(
            f"pipeline got an unexpected argument {unknown[0]!r}; accepted: name, display_name, "
            f"description, {', '.join(KNOWN_KWARGS)}."
        )
    settings = dict(
        kwargs,
        name=name,
        display_name=display_name,
        description=description,
        experiment_name=experiment_name,
        tags=tags,
    )

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def build(*args: Any, **call_kwargs: Any) -> PipelineJob:
            return _build(function, settings, args, call_kwargs)

        return build

    return decorate(func) if func is not None else decorate
