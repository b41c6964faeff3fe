"""``ParallelRunStep``: SDK v1's step, validated as v1 does and translated to a v2 parallel job."""

from __future__ import annotations

import re
import shlex
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.entities import Input, RetrySettings, RunFunction
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.v1.config import ParallelRunConfig
from dask_parallel.v1.data import (
    DatasetConsumptionConfig,
    FileDataset,
    OutputFileDatasetConfig,
    TabularDataset,
    _Dataset,
)
from dask_parallel.v1.parameters import PipelineParameter, default_of

STEP_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
RESERVED_ARGUMENTS = (
    "mini_batch_size",
    "error_threshold",
    "allowed_failed_count",
    "allowed_failed_percent",
    "output",
    "output_action",
    "logging_level",
    "process_count_per_node",
    "run_invocation_timeout",
    "run_max_try",
    "append_row_file_name",
    "partition_keys",
)
INPUT_TYPES = "DatasetConsumptionConfig, FileDataset, TabularDataset, OutputFileDatasetConfig, PipelineData"


def combine_datasets(datasets: list[Any], step: str) -> Any:
    """One dataset holding the paths of ``datasets`` (all file, or all tabular with one format)."""
    first = datasets[0]
    if len(datasets) == 1:
        return first
    if isinstance(first, TabularDataset):
        formats = {(d.separator, d.header, d.encoding, d.partition_format) for d in datasets}
        if len(formats) > 1:
            raise JobValidationError(
                f"ParallelRunStep {step!r}: its tabular input datasets differ in separator, header, "
                "encoding or partition_format, so they cannot be read as one table; give them one format."
            )
        return TabularDataset(
            [p for d in datasets for p in d.paths],
            first.separator,
            first.header,
            first.encoding,
            partition_format=first.partition_format,
        )
    formats = {getattr(d, "partition_format", None) for d in datasets}
    if len(formats) > 1:
        raise JobValidationError(
            f"ParallelRunStep {step!r}: its file input datasets have different partition_format values; "
            "give them the same one."
        )
    return FileDataset([p for d in datasets for p in d.paths], partition_format=first.partition_format)


def _consumption(value: Any, where: str) -> DatasetConsumptionConfig | OutputFileDatasetConfig:
    if isinstance(value, (DatasetConsumptionConfig, OutputFileDatasetConfig)):
        return value
    if isinstance(value, _Dataset):
        return DatasetConsumptionConfig(None, value)
    raise JobValidationError(f"Step input must be of any type: {INPUT_TYPES}, found {type(value).__name__}")


def _kind(value: Any) -> str:
    if isinstance(value, DatasetConsumptionConfig):
        return value.dataset.kind
    return "file"


def _input_name(value: Any, default: str) -> str:
    name = getattr(value, "name", None)
    return name if isinstance(name, str) and name else default


class ParallelRunStep:
    """A v1 parallel run step; run it in a :class:`Pipeline`, or move it to v2 with :meth:`to_v2`.

    Parameters follow ``azureml.pipeline.steps.ParallelRunStep``.

    Examples
    --------
    >>> step = ParallelRunStep(name="score-files", parallel_run_config=config,
    ...                        inputs=[files.as_named_input("files")], output=out)  # doctest: +SKIP
    >>> job = step.to_v2()  # doctest: +SKIP
    """

    def __init__(
        self,
        name: str,
        parallel_run_config: ParallelRunConfig,
        inputs: list[Any],
        output: OutputFileDatasetConfig | None = None,
        side_inputs: list[Any] | None = None,
        arguments: list[Any] | None = None,
        allow_reuse: bool = True,
    ) -> None:
        if not isinstance(name, str) or not 3 <= len(name) <= 32 or not STEP_NAME.match(name):
            raise JobValidationError(
                f"ParallelRunStep name {name!r} is invalid: use 3 to 32 lower-case letters, digits or '-', "
                "starting with a letter and not ending with '-'."
            )
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise JobValidationError(
                f"ParallelRunStep {name!r}: parallel_run_config must be a ParallelRunConfig "
                f"(got {type(parallel_run_config).__name__})."
            )
        config = parallel_run_config
        consumed = [_consumption(value, "inputs") for value in list(inputs or [])]
        if not consumed:
            raise JobValidationError(
                f"ParallelRunStep {name!r}: inputs is empty; give the dataset to process, e.g. "
                "inputs=[dataset.as_named_input('data')]."
            )
        if len({_kind(value) for value in consumed}) > 1:
            raise JobValidationError("All inputs of step must be same type")
        if len(consumed) > 1 and not all(isinstance(v, DatasetConsumptionConfig) for v in consumed):
            raise JobValidationError(
                f"ParallelRunStep {name!r}: {len(consumed)} inputs given, and some are outputs of other "
                "steps; several inputs are processed as one set of mini-batches only when all of them "
                "are datasets. Give one input, or datasets only."
            )
        if len(consumed) > 1:
            combine_datasets([v.dataset for v in consumed], name)  # same kind and format, or refuse
        for value in consumed:
            tabular = isinstance(value, DatasetConsumptionConfig) and isinstance(
                value.dataset, TabularDataset
            )
            if tabular and value.mode != "direct":
                raise JobValidationError("Please ensure input dataset consumption mode is direct")
        if output is None and config.output_action != "summary_only":
            raise JobValidationError("Please specify output parameter.")
        if output is not None and not isinstance(output, OutputFileDatasetConfig):
            raise JobValidationError(
                f"ParallelRunStep {name!r}: output must be an OutputFileDatasetConfig or PipelineData "
                f"(got {type(output).__name__})."
            )
        arguments = list(arguments or [])
        if arguments:
            first = arguments[0]
            if not isinstance(first, str) or not first.startswith("-"):
                raise JobValidationError(
                    f"Found invalid argument '{first}'. As your arguments will be merged with reserved "
                    "argument, you can only use keyword argument."
                )
        for value in arguments:
            if isinstance(value, str) and value.startswith("-"):
                key = value.lstrip("-").split("=", 1)[0]
                if key in RESERVED_ARGUMENTS:
                    raise JobValidationError(
                        f"'{key}' is a reserved argument in ParallelRunStep, please use another "
                        "argument name instead."
                    )
        self.name = name
        self.parallel_run_config = config
        self.inputs = consumed
        self.output = output
        self.side_inputs = [_consumption(value, "side_inputs") for value in list(side_inputs or [])]
        self.arguments = arguments
        self.allow_reuse = bool(allow_reuse)

    # ------------------------------------------------------------------ translation
    @property
    def input_name(self) -> str:
        return _input_name(self.inputs[0], "input_data")

    @property
    def output_name(self) -> str | None:
        return None if self.output is None else _input_name(self.output, "output")

    def side_input_name(self, index: int) -> str:
        return _input_name(self.side_inputs[index], f"side_input_{index}")

    def parameters(self) -> dict[str, PipelineParameter]:
        """Every PipelineParameter the step uses, by name."""
        config = self.parallel_run_config
        found = {}
        for value in (
            config.mini_batch_size,
            config.node_count,
            config.process_count_per_node,
            config.logging_level,
            config.run_invocation_timeout,
            config.run_max_try,
            *self.arguments,
        ):
            if isinstance(value, PipelineParameter):
                found[value.name] = value
        for consumed in [*self.inputs, *self.side_inputs]:
            parameter = getattr(consumed, "parameter", None)
            if parameter is not None:
                found[parameter.name] = parameter
        return found

    def input_dataset_input(self, overrides: dict[str, Any] | None = None) -> Input:
        """The v2 input of the data this step splits: its input dataset, or its several input
        datasets combined into one (v1 processes them as one set of mini-batches)."""
        overrides = dict(overrides or {})
        first = self.inputs[0]
        if len(self.inputs) == 1:
            if isinstance(first, DatasetConsumptionConfig):
                return first.dataset_for(overrides).to_v2_input(first.mode)
            return self._v2_input(first)
        datasets = [value.dataset_for(overrides) for value in self.inputs]
        return combine_datasets(datasets, self.name).to_v2_input(first.mode)

    def to_v2(
        self,
        *,
        bind_parameters: bool = False,
        data_inputs: dict[str, Input] | None = None,
        dataset_overrides: dict[str, Any] | None = None,
    ) -> Parallel:
        """The v2 parallel job this step upgrades to, mapped as in the migration table.

        ``error_threshold`` → ``error_threshold``; ``allowed_failed_count`` →
        ``mini_batch_error_threshold``; ``allowed_failed_percent`` → ``--allowed_failed_percent``
        in ``program_arguments``; ``output_action`` → presence of ``task.append_row_to``;
        ``append_row_file_name`` → ``--append_row_file_name``; ``node_count`` →
        ``instance_count``; ``process_count_per_node`` → ``max_concurrency_per_instance``;
        ``run_invocation_timeout`` / ``run_max_try`` → ``retry_settings``; ``arguments`` →
        ``program_arguments``; ``allow_reuse`` → ``is_deterministic``.

        With ``bind_parameters=True`` (inside a pipeline) PipelineParameters become
        ``${{parent.inputs.<name>}}`` bindings; otherwise their default values are used.
        """
        config = self.parallel_run_config

        def value(setting: Any, as_text: bool = False) -> Any:
            if isinstance(setting, PipelineParameter):
                if bind_parameters:
                    return setting.binding
                setting = setting.default_value
            if setting is None:
                return None
            return str(setting) if as_text else setting

        data_inputs = dict(data_inputs or {})
        inputs: dict[str, Any] = {}
        inputs[self.input_name] = data_inputs.get(self.input_name) or self.input_dataset_input(
            dataset_overrides
        )
        for index, side in enumerate(self.side_inputs):
            key = self.side_input_name(index)
            if isinstance(side, DatasetConsumptionConfig) and key not in data_inputs:
                inputs[key] = side.dataset_for(dict(dataset_overrides or {})).to_v2_input(side.mode)
            else:
                inputs[key] = data_inputs.get(key) or self._v2_input(side)
        outputs = {}
        if self.output is not None:
            outputs[self.output_name] = self.output.to_v2_output()
        tokens: list[str] = []
        for argument in self.arguments:
            tokens.append(self._argument(argument, inputs, bind_parameters))
        if config.allowed_failed_percent is not None:
            tokens += ["--allowed_failed_percent", str(config.allowed_failed_percent)]
        append_row = config.output_action == "append_row" and self.output is not None
        if append_row and config.append_row_file_name:
            tokens += ["--append_row_file_name", config.append_row_file_name]
        keys = default_of(config.partition_keys)
        if isinstance(keys, str):
            import json

            keys = json.loads(keys)
        return Parallel(
            name=self.name.replace("-", "_"),
            description=config.description,
            inputs=inputs,
            outputs=outputs,
            input_data=f"${{{{inputs.{self.input_name}}}}}",
            mini_batch_size=value(config.mini_batch_size, as_text=True),
            partition_keys=keys,
            error_threshold=config.error_threshold,
            mini_batch_error_threshold=config.allowed_failed_count,
            instance_count=value(config.node_count),
            max_concurrency_per_instance=value(config.process_count_per_node),
            logging_level=value(config.logging_level),
            retry_settings=RetrySettings(
                timeout=value(config.run_invocation_timeout), max_retries=value(config.run_max_try)
            ),
            environment_variables=config.environment_variables,
            is_deterministic=self.allow_reuse,
            task=RunFunction(
                code=config.source_directory,
                entry_script=config.entry_script,
                program_arguments=" ".join(tokens) or None,
                append_row_to=f"${{{{outputs.{self.output_name}}}}}" if append_row else None,
                environment=config.environment.name,
            ),
        )

    @staticmethod
    def _v2_input(value: Any) -> Input:
        if isinstance(value, DatasetConsumptionConfig):
            return value.dataset.to_v2_input(value.mode)
        return Input(type="uri_folder")  # an upstream step's output, bound in the pipeline

    def _argument(self, argument: Any, inputs: dict[str, Any], bind_parameters: bool) -> str:
        if isinstance(argument, PipelineParameter):
            if bind_parameters:  # a literal input bound to the pipeline parameter
                inputs[argument.name] = argument.binding
                return f"${{{{inputs.{argument.name}}}}}"
            return shlex.quote(str(argument.default_value))
        if isinstance(argument, OutputFileDatasetConfig) and argument is self.output:
            return f"${{{{outputs.{self.output_name}}}}}"
        for index, side in enumerate(self.side_inputs):
            if argument is side or (isinstance(side, DatasetConsumptionConfig) and argument is side.dataset):
                return f"${{{{inputs.{self.side_input_name(index)}}}}}"
        if argument is self.inputs[0] or (
            isinstance(self.inputs[0], DatasetConsumptionConfig) and argument is self.inputs[0].dataset
        ):
            return f"${{{{inputs.{self.input_name}}}}}"
        if isinstance(argument, (DatasetConsumptionConfig, OutputFileDatasetConfig, _Dataset)):
            raise JobValidationError(
                f"ParallelRunStep {self.name!r}: arguments hold a dataset that is neither an input, a side "
                "input nor the output of this step; add it to side_inputs."
            )
        return shlex.quote(str(argument))

    def __repr__(self) -> str:
        return f"ParallelRunStep(name={self.name!r})"
