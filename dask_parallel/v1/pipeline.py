"""v1 ``Pipeline``, ``Experiment`` and the run ``submit`` returns, on the v2 pipeline engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

from dask_parallel.errors import DaskParallelError, JobValidationError
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings
from dask_parallel.pipelines.result import PipelineResult
from dask_parallel.v1.data import DatasetConsumptionConfig, OutputFileDatasetConfig
from dask_parallel.v1.parameters import PipelineParameter
from dask_parallel.v1.step import ParallelRunStep


class ActivityFailedException(DaskParallelError):
    """Raised by ``wait_for_completion(raise_on_error=True)`` when the run failed (as in v1)."""


class Pipeline:
    """A v1 pipeline of :class:`ParallelRunStep` objects; ``workspace`` is accepted and not used."""

    def __init__(
        self,
        workspace: Any = None,
        steps: list[ParallelRunStep] | None = None,
        description: str | None = None,
        default_datastore: Any = None,
        default_source_directory: str | None = None,
        resolve_closure: bool = True,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
        **kwargs: Any,
    ) -> None:
        steps = list(steps or [])
        if not steps:
            raise JobValidationError("Pipeline needs at least one step: Pipeline(workspace, steps=[step]).")
        names = set()
        for step in steps:
            if not isinstance(step, ParallelRunStep):
                raise JobValidationError(
                    "Pipeline steps must be ParallelRunStep objects in dask_parallel.v1 "
                    f"(got {type(step).__name__})."
                )
            if step.name in names:
                raise JobValidationError(
                    f"Pipeline has two steps named {step.name!r}; step names must be unique."
                )
            names.add(step.name)
        self.steps = steps
        self.description = description

    def to_v2(self, pipeline_parameters: dict[str, Any] | None = None, name: str = "pipeline") -> PipelineJob:
        """The v2 :class:`PipelineJob`: one parallel step per v1 step, outputs wired to inputs."""
        producers: dict[int, tuple[str, str]] = {}
        for step in self.steps:
            if step.output is not None:
                producers[id(step.output)] = (step.name, step.output_name)
        parameters: dict[str, PipelineParameter] = {}
        for step in self.steps:
            parameters.update(step.parameters())
        overrides = dict(pipeline_parameters or {})
        unknown = sorted(set(overrides) - set(parameters))
        if unknown:
            raise JobValidationError(
                f"pipeline_parameters: {unknown[0]!r} is not a PipelineParameter of this pipeline; "
                f"its parameters are: {', '.join(sorted(parameters)) or '(none)'}."
            )
        jobs = {}
        data_parameters: dict[str, Any] = {}
        for step in self.steps:
            bound = {}
            for key, value in [(step.input_name, step.inputs[0])] + [
                (step.side_input_name(i), side) for i, side in enumerate(step.side_inputs)
            ]:
                if isinstance(value, OutputFileDatasetConfig) and not isinstance(
                    value, DatasetConsumptionConfig
                ):
                    if id(value) not in producers:
                        raise JobValidationError(
                            f"step {step.name!r}: input {key!r} is an output that no step of this "
                            "pipeline writes."
                        )
                    producer, output = producers[id(value)]
                    from dask_parallel.jobs.entities import Input

                    bound[key] = Input(
                        type="uri_folder", path=f"${{{{parent.jobs.{producer}.outputs.{output}}}}}"
                    )
            data_parameters.update(self._bind_dataset_parameters(step, overrides, bound))
            jobs[step.name] = step.to_v2(bind_parameters=True, data_inputs=bound, dataset_overrides=overrides)
        inputs = {key: overrides.get(key, parameter.default_value) for key, parameter in parameters.items()}
        inputs.update(data_parameters)
        return PipelineJob(
            name=name, description=self.description, jobs=jobs, inputs=inputs, settings=PipelineSettings()
        )

    @staticmethod
    def _bind_dataset_parameters(
        step: ParallelRunStep, overrides: dict[str, Any], bound: dict[str, Any]
    ) -> dict[str, Any]:
        """Bind a step's dataset-valued PipelineParameter inputs to pipeline inputs.

        Returns the pipeline inputs (parameter name -> v2 ``Input`` of the dataset in use) and
        fills ``bound`` with the step inputs that read them (``${{parent.inputs.<name>}}``).
        Several input datasets are combined into one literal input instead.
        """
        from dask_parallel.jobs.entities import Input

        found: dict[str, Any] = {}
        named = [(step.input_name, step.inputs[0])] if len(step.inputs) == 1 else []
        named += [(step.side_input_name(i), side) for i, side in enumerate(step.side_inputs)]
        for key, consumed in named:
            parameter = getattr(consumed, "parameter", None)
            if parameter is None or key in bound:
                continue
            data = consumed.dataset_for(overrides).to_v2_input(consumed.mode)
            found[parameter.name] = data
            bound[key] = Input(type=data.type, path=parameter.binding, mode=data.mode)
        return found


class StepRun:
    """The run of one step: status, the v2 result, and its output data."""

    def __init__(self, name: str, result: Any) -> None:
        self.name = name
        self.result = result

    def get_status(self) -> str:
        return _v1_status(self.result.status)

    def get_output_data(self, name: str) -> PortDataReference:
        if name not in self.result.outputs:
            raise JobValidationError(
                f"step {self.name!r} has no output {name!r}; its outputs are: "
                f"{', '.join(self.result.outputs)}."
            )
        return PortDataReference(name, self.result.outputs[name], self.name)


class PortDataReference:
    """An output of a step run; :meth:`download` copies it locally."""

    def __init__(self, name: str, path: str, step_name: str) -> None:
        self.name = name
        self.path_on_datastore = path
        self.step_name = step_name

    def download(self, local_path: str, overwrite: bool = False, show_progress: bool = True) -> str:
        """Copy the output to ``local_path/azureml/<step>/<output>``; return that folder."""
        target = os.path.join(local_path, "azureml", self.step_name, self.name)
        if os.path.exists(target):
            if not overwrite:
                return target
            shutil.rmtree(target)
        if os.path.isdir(self.path_on_datastore):
            shutil.copytree(self.path_on_datastore, target)
        else:
            os.makedirs(target, exist_ok=True)
            shutil.copy2(self.path_on_datastore, target)
        return target


def _v1_status(status: str) -> str:
    return {"Completed": "Finished"}.get(status, status)


class PipelineRun:
    """What :meth:`Experiment.submit` returns; the run has finished when it is returned."""

    def __init__(self, experiment: Experiment, result: PipelineResult) -> None:
        self.experiment = experiment
        self.result = result
        self.id = os.path.basename(result.run_dir)

    def get_status(self) -> str:
        """``"Finished"`` or ``"Failed"``, as v1 reports them."""
        return _v1_status(self.result.status)

    def wait_for_completion(
        self, show_output: bool = True, timeout_seconds: int | None = None, raise_on_error: bool = True
    ) -> str:
        """Print the outcome (with ``show_output``) and return the status; raise on failure."""
        if show_output:
            print(f"PipelineRunId: {self.id}")
            print(str(self.result))
            print(f"PipelineRun Status: {self.get_status()}")
        if raise_on_error and self.result.status != "Completed":
            raise ActivityFailedException(f"pipeline run {self.id} failed: {self.result.error}")
        return self.get_status()

    def find_step_run(self, name: str) -> list[StepRun]:
        step = self.result.steps.get(name)
        return [StepRun(name, step)] if step is not None else []

    def get_steps(self) -> list[StepRun]:
        return [StepRun(name, step) for name, step in self.result.steps.items()]

    def get_children(self) -> Iterator[StepRun]:
        """The step runs, as v1's ``next(pipeline_run.get_children())`` reads them."""
        return iter(self.get_steps())


class Experiment:
    """``Experiment(workspace, name)`` or ``Experiment(name)``: submits v1 pipelines to Dask."""

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        if len(args) == 2:
            _, name = args
        elif len(args) == 1 and isinstance(args[0], str):
            name = args[0]
        elif len(args) == 1 and name is None:
            raise JobValidationError(
                "Experiment needs a name: Experiment(workspace, 'name') or Experiment('name')."
            )
        if not isinstance(name, str) or not name:
            raise JobValidationError(f"Experiment name must be a non-empty string (got {name!r}).")
        self.name = name

    def submit(
        self,
        config: Pipeline,
        pipeline_parameters: dict[str, Any] | None = None,
        regenerate_outputs: bool = False,
        *,
        client: Any = None,
        run_dir: str | os.PathLike | None = None,
        show_progress: bool | None = None,
        **kwargs: Any,
    ) -> PipelineRun:
        """Run the pipeline on Dask (``client`` as for :func:`dask_parallel.run`) and return its run.

        ``regenerate_outputs=True`` runs every step even when an identical earlier run
        could be reused (v1's flag; v2's ``force_rerun``).
        """
        if not isinstance(config, Pipeline):
            raise JobValidationError(f"Experiment.submit needs a Pipeline (got {type(config).__name__}).")
        from dask_parallel.execution.main_guard import check_main_guard

        check_main_guard(client)
        job = config.to_v2(pipeline_parameters, name=self.name)
        job.settings.force_rerun = bool(regenerate_outputs)
        from dask_parallel.engine import run

        result = run(job, client=client, run_dir=run_dir, show_progress=show_progress)
        return PipelineRun(self, result)
