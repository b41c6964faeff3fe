"""``PipelineJob``: steps, their bindings, pipeline inputs/outputs and settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from dask_parallel.jobs.bindings import FieldDict, field_dict


@dataclasses.dataclass
class PipelineSettings:
    """Pipeline settings; Azure-only ones (``default_compute``, ``default_datastore``) are kept
    so unchanged code runs, and have no effect on Dask."""

    default_compute: str | None = None
    default_datastore: str | None = None
    force_rerun: bool = False
    continue_on_step_failure: bool = False


class PipelineJob:
    """A pipeline of command and parallel steps, from ``@pipeline`` or a ``type: pipeline`` file.

    ``jobs`` maps step names to nodes whose inputs may be bindings
    ``${{parent.inputs.x}}`` / ``${{parent.jobs.step.outputs.y}}``; ``outputs`` are the
    pipeline outputs, each bound to one step output (``output_bindings``).
    Run it with :func:`dask_parallel.run`.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        jobs: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        output_bindings: dict[str, tuple[str, str]] | None = None,
        settings: PipelineSettings | None = None,
        source_dir: str | None = None,
        **azure_only: Any,
    ) -> None:
        self.name = name
        self.display_name = display_name
        self.description = description
        self.jobs: dict[str, Any] = dict(jobs or {})
        self.inputs: FieldDict = field_dict(inputs)
        self.outputs: FieldDict = field_dict(outputs, outputs=True)
        self.output_bindings: dict[str, tuple[str, str]] = dict(output_bindings or {})
        self.settings = settings or PipelineSettings()
        self.source_dir = source_dir
        self.azure_only = azure_only
        # Azure-only, kept as attributes as on azure.ai.ml's PipelineJob.
        self.tags: dict[str, str] = dict(azure_only.get("tags") or {})
        self.properties: dict[str, Any] = dict(azure_only.get("properties") or {})
        self.experiment_name: str | None = azure_only.get("experiment_name")
        self.compute: str | None = azure_only.get("compute")

    def __repr__(self) -> str:
        return (
            f"PipelineJob(name={self.name!r}, jobs={list(self.jobs)}, inputs={sorted(self.inputs)}, "
            f"outputs={sorted(self.outputs)})"
        )

    def __str__(self) -> str:
        lines = [f"pipeline {self.name or '(unnamed)'}"]
        for step, node in self.jobs.items():
            kind = type(node).__name__.lower()
            lines.append(f"  {step} ({kind})")
            for key, value in node.inputs.items():
                shown = getattr(value, "path", None) or getattr(value, "default", None) or value
                lines.append(f"    inputs.{key}: {shown}")
        for key, (step, output) in self.output_bindings.items():
            lines.append(f"  outputs.{key}: ${{{{parent.jobs.{step}.outputs.{output}}}}}")
        return "\n".join(lines)
