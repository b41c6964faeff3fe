"""Pipeline bindings: how a node input refers to a pipeline input or another node's output.

Inside a ``@pipeline`` function, component calls receive placeholders instead of data:
:class:`PipelineInput` for the pipeline's own parameters and the :class:`Output` objects of
earlier nodes. :func:`bind_value` turns them into ordinary :class:`Input` objects whose
``path`` (or literal value) is a binding string, ``${{parent.inputs.x}}`` or
``${{parent.jobs.step.outputs.y}}`` — the same form a YAML pipeline uses — so one resolver
serves both. Each node keeps its own copy, so ``node.inputs.x.mode = ...`` changes that
node only.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping
from typing import Any

from dask_parallel.jobs.entities import Input, Output


class FieldDict(dict):
    """A dict whose items are also attributes: ``node.outputs.scores.type = "uri_file"``.

    A declared output with no settings (``None``) becomes an :class:`Output` on first
    attribute access, so it can be configured in place as in azure.ai.ml.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in self:
            declared = ", ".join(sorted(self)) or "(none)"
            raise AttributeError(f"no input or output named {name!r}; declared names are: {declared}")
        value = self[name]
        if value is None and getattr(self, "_outputs", False):
            value = self[name] = Output()
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __deepcopy__(self, memo: dict) -> FieldDict:
        new = type(self)()
        new.__dict__.update(self.__dict__)
        for key, value in self.items():
            new[key] = copy.deepcopy(value, memo)
        return new

    def __reduce__(self):
        return (_rebuild_fields, (dict(self), dict(self.__dict__)))


def _rebuild_fields(items: dict, state: dict) -> FieldDict:
    new = FieldDict(items)
    new.__dict__.update(state)
    return new


def field_dict(values: dict | None = None, *, outputs: bool = False) -> FieldDict:
    """A :class:`FieldDict` holding ``values``; ``outputs=True`` materialises empty outputs."""
    fields = FieldDict(values or {})
    fields._outputs = outputs
    return fields


class PipelineInput:
    """A pipeline parameter as seen inside the ``@pipeline`` function body.

    ``str()`` gives the binding ``${{parent.inputs.<name>}}``, so it can also be assigned
    to node settings such as ``node.mini_batch_size = pipeline_mbs``.
    """

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value

    @property
    def binding(self) -> str:
        return f"${{{{parent.inputs.{self.name}}}}}"

    def __str__(self) -> str:
        return self.binding

    def __repr__(self) -> str:
        return f"PipelineInput({self.name!r}, {self.value!r})"


class _Builder:
    """Collects the nodes created while a ``@pipeline`` function body runs."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []

    def owner_of(self, output: Output) -> tuple[Any, str] | None:
        for node in self.nodes:
            for name, value in node.outputs.items():
                if value is output:
                    return node, name
        return None


_BUILDERS: list[_Builder] = []


@contextlib.contextmanager
def building() -> Iterator[_Builder]:
    """Record the nodes created inside the block (used by the ``@pipeline`` decorator)."""
    builder = _Builder()
    _BUILDERS.append(builder)
    try:
        yield builder
    finally:
        _BUILDERS.pop()


def register_node(node: Any) -> None:
    """Called by a component when it creates a node; a no-op outside a pipeline body."""
    if _BUILDERS:
        _BUILDERS[-1].nodes.append(node)


def bind_value(value: Any, declared: Any) -> Any:
    """Turn a pipeline placeholder passed to a component call into a binding input."""
    mode = declared.mode if isinstance(declared, Input) else None
    kind = declared.type if isinstance(declared, Input) else None
    if isinstance(value, PipelineInput):
        if (
            kind is None
            or isinstance(value.value, Input)
            or (isinstance(declared, Input) and declared.is_data)
        ):
            source = value.value if isinstance(value.value, Input) else None
            return BoundInput(
                type=kind or (source.type if source else "uri_folder"),
                path=value.binding,
                mode=mode,
                source=("parent", value.name),
            )
        return BoundInput(type=kind, default=value.binding, source=("parent", value.name))
    if isinstance(value, Output) and _BUILDERS:
        owner = _BUILDERS[-1].owner_of(value)
        if owner is not None:
            node, name = owner
            return BoundInput(
                type=kind or value.type,
                path=None,
                mode=mode,
                source=("node", node, name),
            )
    if isinstance(value, BoundInput):
        return copy.copy(value)
    return value


class BoundInput(Input):
    """An :class:`Input` bound to a pipeline input or to another node's output.

    ``source`` is ``("parent", input_name)`` or ``("node", producer_node, output_name)``;
    the producer is resolved to its step name when the pipeline is assembled.
    """

    def __init__(self, *, source: tuple, **fields: Any) -> None:
        super().__init__(**fields)
        self.source = source

    def __deepcopy__(self, memo: dict) -> BoundInput:
        fields = {f: copy.deepcopy(getattr(self, f), memo) for f in self.__dataclass_fields__}
        return BoundInput(source=self.source, **fields)

    def __repr__(self) -> str:
        return super().__repr__().replace("Input(", "BoundInput(", 1)


__all__ = [
    "BoundInput",
    "FieldDict",
    "PipelineInput",
    "bind_value",
    "building",
    "field_dict",
    "register_node",
]


def call_component(component: Any, bindings: dict[str, Any], label: str) -> Any:
    """What calling a component does (``job(data=Input(...))``): a copy with inputs bound.

    A data input may be given an ``Input``, a path string or a pipeline placeholder; a
    literal input a plain value. Inside a ``@pipeline`` body the new node is registered.
    """
    from dask_parallel.errors import JobValidationError

    node = copy.deepcopy(component)
    for key, value in bindings.items():
        if key not in node.inputs:
            raise JobValidationError(
                f"{component.name or label} got an unknown input {key!r}; declared inputs are: "
                f"{', '.join(sorted(node.inputs)) or '(none)'}."
            )
        declared = node.inputs[key]
        value = bind_value(value, declared)  # pipeline placeholders become bindings
        if isinstance(value, Input):
            if isinstance(declared, Input) and value.mode is None and declared.mode is not None:
                value = copy.copy(value)
                value.mode = declared.mode
        elif isinstance(declared, Input) and declared.is_data and isinstance(value, str):
            value = Input(type=declared.type, path=value, mode=declared.mode)
        elif isinstance(declared, Input) and not declared.is_data:
            value = Input(type=declared.type, default=value)
        node.inputs[key] = value
    register_node(node)
    return node


def declared_outputs(outputs: Any) -> dict:
    """A component's ``outputs`` argument as Output objects (mappings become ``Output``)."""
    from dask_parallel.errors import JobValidationError

    declared = field_dict(outputs=True)
    for key, value in dict(outputs or {}).items():
        if isinstance(value, Mapping):
            value = Output(**dict(value))
        if value is not None and not isinstance(value, (Output, str)):
            raise JobValidationError(f"outputs.{key} must be an Output (got {type(value).__name__}).")
        declared[key] = value
    return declared
