"""``PipelineParameter``: a named pipeline value with a default, overridable at submit time."""

from __future__ import annotations

import re
from typing import Any

from dask_parallel.errors import JobValidationError

PARAMETER_NAME = re.compile(r"^[A-Za-z_]\w*$")


class PipelineParameter:
    """A pipeline parameter, as ``azureml.pipeline.core.PipelineParameter``.

    In a v1 pipeline it becomes a v2 pipeline input; settings that use it are bound to
    ``${{parent.inputs.<name>}}``. Override it with
    ``Experiment.submit(pipeline, pipeline_parameters={name: value})``.
    """

    def __init__(self, name: str, default_value: Any) -> None:
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise JobValidationError(
                f"PipelineParameter name {name!r} must be a letter or underscore followed by letters, digits "
                "or underscores."
            )
        self.name = name
        self.default_value = default_value

    @property
    def binding(self) -> str:
        return f"${{{{parent.inputs.{self.name}}}}}"

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"


def default_of(value: Any) -> Any:
    """The value itself, or a parameter's default value."""
    return value.default_value if isinstance(value, PipelineParameter) else value
