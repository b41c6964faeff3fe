"""``PipelineResult``: a :class:`JobResult` for a whole pipeline, with one result per step."""

from __future__ import annotations

import dataclasses

from dask_parallel.rundir.result import JobResult


@dataclasses.dataclass(frozen=True)
class PipelineResult(JobResult):
    """The outcome of a pipeline: overall status, pipeline outputs, and ``steps``.

    ``steps`` maps each step name to its own :class:`JobResult`; a step that did not run
    because a step it depends on failed has status ``"NotStarted"``.
    """

    steps: dict[str, JobResult] = dataclasses.field(default_factory=dict)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("status", self.status)]
        if self.error:
            rows.append(("reason", self.error))
        for name, step in self.steps.items():
            note = " (reused)" if step.reused else ""
            detail = f": {step.error}" if step.error and step.status != "Completed" else ""
            rows.append((f"step {name}", f"{step.status}{note}{detail}"))
        rows += [(f"output {name}", uri) for name, uri in self.outputs.items()]
        rows.append(("run directory", self.run_dir))
        return rows
