"""The azure.ai.ml entity names users already write: Input, Output, RetrySettings, RunFunction."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.fields import RETRY_KEYS


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


BACKOFF_KEYS = ("initial", "max")
ERROR_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclasses.dataclass(kw_only=True)
class RetrySettings:
    """Per-mini-batch timeout (seconds), maximum number of attempts, and how to retry.

    ``max_retries`` is the maximum number of *attempts* of one mini-batch (Azure's
    dequeue-count limit, v1 ``run_max_try``); the default is 2. ``timeout`` bounds one
    ``run()`` call; the default is 60 seconds, the allowed range ``(0, 259200]``.
    Either may be a ``${{parent.inputs.x}}`` binding inside a pipeline.

    Beyond Azure (all off by default, which keeps Azure's behaviour):

    ``split_on_failure``
        When a mini-batch of files has used its attempts and ``run()`` still raises, run
        its two halves instead, down to single files: only the files that fail on their
        own count as failed items.
    ``retry_on`` / ``no_retry_on``
        Exception class names (``ConnectionError``, ``mypackage.errors.Transient``); a
        base class matches its subclasses. An error raised by ``run()`` (or while reading
        the mini-batch) is not retried when ``no_retry_on`` names it, nor, when
        ``retry_on`` is given, unless ``retry_on`` names it. Timeouts and lost workers keep
        Azure's rules.
    ``backoff``
        ``{"initial": 1, "max": 60}``: wait before retrying such an error, doubling from
        ``initial`` seconds up to ``max``, with jitter.
    """

    timeout: int | str | None = None
    max_retries: int | str | None = None
    split_on_failure: bool | None = None
    retry_on: list[str] | None = None
    no_retry_on: list[str] | None = None
    backoff: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if self.split_on_failure is not None and not isinstance(self.split_on_failure, bool):
            raise JobValidationError(
                f"retry_settings.split_on_failure must be true or false (got {self.split_on_failure!r})."
            )
        for key in ("retry_on", "no_retry_on"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise JobValidationError(
                    f"retry_settings.{key} must be a list of exception class names such as "
                    f"[ConnectionError, TimeoutError] (got {value!r})."
                )
            bad = [v for v in value if not ERROR_NAME.match(v.strip())]
            if bad:
                raise JobValidationError(
                    f"retry_settings.{key}: {bad[0]!r} is not an exception class name; use a name "
                    "such as ConnectionError or a dotted one such as mypackage.errors.Transient."
                )
            setattr(self, key, [v.strip() for v in value])
        overlap = sorted(set(self.retry_on or ()) & set(self.no_retry_on or ()))
        if overlap:
            raise JobValidationError(
                f"retry_settings: {overlap[0]!r} is in both retry_on and no_retry_on; keep it in one."
            )
        if self.backoff is not None:
            backoff = self.backoff
            if not isinstance(backoff, dict):
                raise JobValidationError(
                    f"retry_settings.backoff must be a mapping such as {{initial: 1, max: 60}} "
                    f"(seconds) (got {backoff!r})."
                )
            unknown = sorted(set(backoff) - set(BACKOFF_KEYS))
            if unknown:
                raise JobValidationError(
                    f"retry_settings.backoff: unknown key {unknown[0]!r}; allowed keys are initial and max."
                )
            for key in BACKOFF_KEYS:
                value = backoff.get(key)
                if value is not None and (not _is_number(value) or value <= 0):
                    raise JobValidationError(
                        f"retry_settings.backoff.{key} must be a positive number of seconds (got {value!r})."
                    )
            if "initial" not in backoff:
                raise JobValidationError(
                    "retry_settings.backoff.initial is required: the seconds to wait before the "
                    "first retry, e.g. {initial: 1, max: 60}."
                )
            if backoff.get("max") is not None and backoff["max"] < backoff["initial"]:
                raise JobValidationError(
                    f"retry_settings.backoff.max ({backoff['max']}) must not be less than "
                    f"initial ({backoff['initial']})."
                )
            self.backoff = dict(backoff)

    @classmethod
    def coerce(cls, value: RetrySettings | dict | None, where: str = "retry_settings") -> RetrySettings:
        if value is None:
            return cls()
        if isinstance(value, RetrySettings):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(RETRY_KEYS))
            if unknown:
                raise JobValidationError(
                    f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(RETRY_KEYS)}."
                )
            return cls(**value)
        raise JobValidationError(
            f"{where} must be a RetrySettings or a dict with max_retries and timeout "
            f"(got {type(value).__name__})."
        )


SPECULATION_KEYS = ("enabled", "multiplier", "min_seconds")


@dataclasses.dataclass(kw_only=True)
class SpeculationSettings:
    """Speculative attempts for stragglers (beyond Azure; off by default).

    When nothing is left to submit and an attempt has run longer than ``multiplier``
    times the median of the finished attempts (and at least ``min_seconds``), a copy of
    it starts on an idle worker; the first to finish wins and the other is cancelled.
    The entry script then may run twice for one mini-batch: turn this on only when
    ``run()`` has no side effects beyond its return value (rows are still written once).
    """

    enabled: bool = True
    multiplier: float = 3.0
    min_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise JobValidationError(f"speculation.enabled must be true or false (got {self.enabled!r}).")
        if not _is_number(self.multiplier) or self.multiplier < 1:
            raise JobValidationError(
                f"speculation.multiplier must be a number >= 1: how many times the median attempt "
                f"duration a straggler has run (got {self.multiplier!r})."
            )
        if not _is_number(self.min_seconds) or self.min_seconds < 0:
            raise JobValidationError(
                f"speculation.min_seconds must be a number of seconds >= 0 (got {self.min_seconds!r})."
            )

    @classmethod
    def coerce(cls, value: SpeculationSettings | bool | dict | None) -> SpeculationSettings:
        """``True``/``False``, a mapping of the fields, or a ``SpeculationSettings``."""
        if value is None or value is False:
            return cls(enabled=False)
        if value is True:
            return cls()
        if isinstance(value, SpeculationSettings):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(SPECULATION_KEYS))
            if unknown:
                raise JobValidationError(
                    f"speculation: unknown key {unknown[0]!r}; allowed keys are "
                    f"{', '.join(SPECULATION_KEYS)}."
                )
            return cls(**value)
        raise JobValidationError(
            "speculation must be true, false or a mapping such as {multiplier: 3, min_seconds: 10} "
            f"(got {value!r})."
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


__all__ = [
    "AssetTypes",
    "Input",
    "InputOutputModes",
    "Output",
    "RetrySettings",
    "RunFunction",
    "SpeculationSettings",
]
