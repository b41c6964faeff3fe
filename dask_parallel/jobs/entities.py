"""The azure.ai.ml entity names users already write: Input, Output, RetrySettings, RunFunction."""

from __future__ import annotations

import dataclasses
from typing import Any

from dask_parallel.errors import JobValidationError


class AssetTypes:
    """Data asset types, as in ``azure.ai.ml.constants.AssetTypes``."""

    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"
    MLFLOW_MODEL = "mlflow_model"
    TRITON_MODEL = "triton_model"
    CUSTOM_MODEL = "custom_model"


class InputOutputModes:
    """Data access modes, as in ``azure.ai.ml.constants.InputOutputModes``."""

    MOUNT = "mount"
    DOWNLOAD = "download"
    UPLOAD = "upload"
    RO_MOUNT = "ro_mount"
    RW_MOUNT = "rw_mount"
    EVAL_MOUNT = "eval_mount"
    EVAL_DOWNLOAD = "eval_download"
    DIRECT = "direct"


DATA_INPUT_TYPES = ("uri_folder", "uri_file", "mltable", "mlflow_model", "custom_model", "triton_model")
LITERAL_INPUT_TYPES = ("integer", "number", "string", "boolean")
OUTPUT_TYPES = ("uri_folder", "uri_file", "mltable", "mlflow_model", "custom_model")
INPUT_MODES = ("mount", "download", "ro_mount", "eval_mount", "eval_download", "direct")
OUTPUT_MODES = ("mount", "rw_mount", "upload", "direct")


def _check_choice(owner: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise JobValidationError(f"{owner}: {key} {value!r} is not allowed; use one of {', '.join(allowed)}.")


@dataclasses.dataclass(kw_only=True)
class Input:
    """A job input: data (a path or URL) or a literal parameter.

    Examples
    --------
    >>> Input(type="uri_folder", path="./data")
    Input(type='uri_folder', path='./data')
    >>> Input(type="integer", default=3)
    Input(type='integer', default=3)
    """

    type: str = "uri_folder"
    path: str | None = None
    mode: str | None = None
    default: Any = None
    optional: bool | None = None
    min: float | None = None
    max: float | None = None
    enum: list[Any] | None = None
    description: str | None = None
    datastore: str | None = None
    path_on_compute: str | None = None

    def __post_init__(self) -> None:
        _check_choice("Input", "type", self.type, DATA_INPUT_TYPES + LITERAL_INPUT_TYPES)
        _check_choice("Input", "mode", self.mode, INPUT_MODES)
        if (
            self.path is not None
            and not isinstance(self.path, (str, bytes))
            and not hasattr(self.path, "__fspath__")
        ):
            raise JobValidationError(
                f"Input: path must be a string or path-like (got {type(self.path).__name__})."
            )
        if self.path is not None and not isinstance(self.path, str):
            self.path = str(self.path)

    @property
    def is_data(self) -> bool:
        return self.type in DATA_INPUT_TYPES

    def __repr__(self) -> str:
        shown = [f"type={self.type!r}"]
        for field in dataclasses.fields(self)[1:]:
            value = getattr(self, field.name)
            if value is not None:
                shown.append(f"{field.name}={value!r}")
        return f"Input({', '.join(shown)})"


@dataclasses.dataclass(kw_only=True)
class Output:
    """A job output: a folder or file the job writes, local or any fsspec URL."""

    type: str = "uri_folder"
    path: str | None = None
    mode: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        _check_choice("Output", "type", self.type, OUTPUT_TYPES)
        _check_choice("Output", "mode", self.mode, OUTPUT_MODES)
        if self.path is not None and not isinstance(self.path, str):
            self.path = str(self.path)

    def __repr__(self) -> str:
        shown = [f"type={self.type!r}"]
        for name in ("path", "mode", "description"):
            if getattr(self, name) is not None:
                shown.append(f"{name}={getattr(self, name)!r}")
        return f"Output({', '.join(shown)})"


@dataclasses.dataclass(kw_only=True)
class RetrySettings:
    """Per-mini-batch timeout (seconds) and maximum number of attempts.

    ``max_retries`` is the maximum number of *attempts* of one mini-batch (Azure's
    dequeue-count limit, v1 ``run_max_try``); the default is 2. ``timeout`` bounds one
    ``run()`` call; the default is 60 seconds, the allowed range ``(0, 259200]``.
    Either may be a ``${{parent.inputs.x}}`` binding inside a pipeline.
    """

    timeout: int | str | None = None
    max_retries: int | str | None = None

    @classmethod
    def coerce(cls, value: RetrySettings | dict | None, where: str = "retry_settings") -> RetrySettings:
        if value is None:
            return cls()
        if isinstance(value, RetrySettings):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"timeout", "max_retries"})
            if unknown:
                raise JobValidationError(
                    f"{where}: unknown key {unknown[0]!r}; allowed keys are max_retries and timeout."
                )
            return cls(**value)
        raise JobValidationError(
            f"{where} must be a RetrySettings or a dict with max_retries and timeout "
            f"(got {type(value).__name__})."
        )


@dataclasses.dataclass(kw_only=True)
class RunFunction:
    """The entry-script task of a parallel job (``task.type: run_function``).

    ``code`` is the folder holding the script, ``entry_script`` its path relative to
    ``code``; ``program_arguments`` is one string of command-line arguments that may use
    ``${{inputs.x}}`` and ``${{outputs.y}}``; ``append_row_to`` binds the aggregated
    output (``${{outputs.y}}``), and without it the job runs in summary_only mode.
    ``environment`` and ``model`` are accepted for compatibility and not used.
    """

    code: str | None = None
    entry_script: str | None = None
    program_arguments: str | None = None
    model: str | None = None
    append_row_to: str | None = None
    environment: Any = None
    type: str = "run_function"

    def __post_init__(self) -> None:
        _check_choice("task", "type", self.type, ("run_function", "model", "function"))
        if self.type != "run_function":
            raise JobValidationError(
                f"task: type {self.type!r} is not supported; dask_parallel runs "
                "type 'run_function' tasks (an entry script with init() and run())."
            )
        for name in ("entry_script", "program_arguments", "append_row_to"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise JobValidationError(
                    f"task: {name} must be a string (got {type(value).__name__} {value!r})."
                )
        if self.code is not None and not isinstance(self.code, str):
            if hasattr(self.code, "__fspath__"):
                self.code = str(self.code)
            else:
                raise JobValidationError(
                    f"task: code must be a folder path (got {type(self.code).__name__})."
                )


__all__ = ["AssetTypes", "Input", "InputOutputModes", "Output", "RetrySettings", "RunFunction"]
