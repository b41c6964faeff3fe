"""Validate a parallel job once into a frozen :class:`JobSpec`; bindings are resolved here."""

from __future__ import annotations

import ast
import dataclasses
import logging
import os
import shlex
from pathlib import Path
from typing import Any

from dask_parallel.errors import EntryScriptError, InputError, JobValidationError
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.jobs.syntax import (
    Values,
    check_io_names,
    drop_empty_optional_blocks,
    is_binding,
    parse_mini_batch_size,
    substitute_references,
)
from dask_parallel.paths import exists, is_remote, normalize_path
from dask_parallel.redact import redact_text
from dask_parallel.spec.dask_resources import parse_dask_resources
from dask_parallel.spec.driver_option_checks import driver_option_warnings
from dask_parallel.spec.driver_options import DriverOptions, parse_driver_options
from dask_parallel.spec.sizes import DEFAULT_TARGET_DURATION, is_auto_size, parse_duration
from dask_parallel.storage_access import storage_access

logger = logging.getLogger("dask_parallel")
DEFAULT_MAX_ATTEMPTS = 2
DEFAULT_TIMEOUT = 60


@dataclasses.dataclass(frozen=True)
class DataRef:
    """The major input: where it is and how it is to be read."""

    name: str
    type: str
    uri: str
    mode: str | None


@dataclasses.dataclass(frozen=True)
class OutputRef:
    """One declared output: its final location and the local path the script writes to."""

    name: str
    type: str
    uri: str
    local_path: str

    @property
    def is_remote(self) -> bool:
        return self.uri != self.local_path

    @property
    def local_folder(self) -> str:
        """The folder the script writes into (a uri_file output's parent folder)."""
        return os.path.dirname(self.local_path) if self.type == "uri_file" else self.local_path


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """Everything a run needs, validated; nothing below this reads raw user input."""

    name: str
    display_name: str | None
    code_dir: str
    entry_script: str
    program_arguments: tuple[str, ...]
    major_input: DataRef
    side_inputs: dict[str, str]
    outputs: dict[str, OutputRef]
    append_row_output: str | None
    mini_batch_size: int | None
    partition_keys: tuple[str, ...] | None
    instance_count: int
    max_concurrency_per_instance: int
    error_threshold: int
    mini_batch_error_threshold: int
    max_attempts: int
    timeout: int
    logging_level: str
    environment_variables: dict[str, str]
    is_deterministic: bool
    driver: DriverOptions
    # Beyond Azure (retry_settings.split_on_failure / retry_on / no_retry_on / backoff and
    # speculation); the defaults keep Azure's behaviour and read older job.json files.
    split_on_failure: bool = False
    retry_on: tuple[str, ...] = ()
    no_retry_on: tuple[str, ...] = ()
    backoff_initial: float = 0.0
    backoff_max: float = 60.0
    speculation: bool = False
    speculation_multiplier: float = 3.0
    speculation_min_seconds: float = 10.0
    target_duration: float | None = None  # seconds; set: mini-batches are sized by time
    dask_resources: dict[str, float] = dataclasses.field(default_factory=dict)
    # mini_batch_size was given with a unit ("10kb"): a size in bytes, which only a tabular
    # input can honour (an MLTable is known to be tabular or a list of files once it is read).
    mini_batch_size_in_bytes: bool = False

    @property
    def module_name(self) -> str:
        name = self.entry_script[:-3] if self.entry_script.endswith(".py") else self.entry_script
        return name.replace("/", ".").replace("\\", ".")

    @property
    def total_processes(self) -> int:
        return self.instance_count * self.max_concurrency_per_instance

    @property
    def append_row_uri(self) -> str | None:
        """The final aggregated file: the bound uri_file, or a file inside the bound folder."""
        if self.append_row_output is None:
            return None
        output = self.outputs[self.append_row_output]
        if output.type == "uri_file":
            return output.uri
        return output.uri.rstrip("/") + "/" + self.driver.append_row_file_name

    @property
    def progress_update_timeout(self) -> int:
        if self.driver.progress_update_timeout is not None:
            return self.driver.progress_update_timeout
        return 3 * (self.timeout + self.driver.task_overhead_timeout)


def _binding_error(where: str, value: Any) -> JobValidationError:
    return JobValidationError(
        f"{where} is the binding {value!r}, which has no value in a standalone job; "
        "set a literal value, or run the job inside a pipeline that binds it."
    )


def _resolved_int(where: str, value: Any, default: int) -> int:
    if value is None:
        return default
    if is_binding(value):
        raise _binding_error(where, value)
    return int(value)


def check_entry_script(code_dir: str, entry_script: str) -> None:
    """Fail early when the entry script is missing or defines no ``run`` function."""
    if not os.path.isdir(code_dir):
        raise EntryScriptError(
            f"task.code: folder {code_dir!r} does not exist; set code to the folder that "
            "holds the entry script."
        )
    if not entry_script or not entry_script.strip():
        raise EntryScriptError("task.entry_script is empty; name the Python file, e.g. score.py.")
    path = os.path.join(code_dir, entry_script)
    if not os.path.isfile(path):
        raise EntryScriptError(
            f"task.entry_script: {entry_script!r} was not found in the code folder {code_dir!r}; "
            "the entry script path is relative to task.code."
        )
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except SyntaxError as exc:
        raise EntryScriptError(
            f"entry script {path}, line {exc.lineno}: syntax error: {exc.msg}. Fix the script."
        ) from None
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    if "run" not in defined | assigned | imported:
        found = ", ".join(sorted(defined)) or "no functions"
        raise EntryScriptError(
            f"entry script {path} defines no run(mini_batch) function (found: {found}). "
            "Add def run(mini_batch): ... returning a list or a pandas DataFrame."
        )


def _input_value(name: str, value: Any, base_dir: str) -> tuple[str | None, Input | None]:
    """Return the string a binding resolves to (None when the input has no value)."""
    if isinstance(value, Input):
        if value.is_data:
            if value.path is None:
                return None, value
            if is_binding(value.path):
                raise _binding_error(f"inputs.{name}.path", value.path)
            return normalize_path(value.path, base_dir), value
        if value.default is None:
            return None, value
        return str(value.default), value
    if value is None:
        return None, None
    if is_binding(value):
        raise _binding_error(f"inputs.{name}", value)
    return str(value), None


def _resolve_arguments(text: str, values: Values) -> tuple[str, ...]:
    try:
        tokens = shlex.split(drop_empty_optional_blocks(text, values))
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise JobValidationError(
            f"task.program_arguments cannot be split into arguments ({exc}): {redact_text(text)!r}. "
            "Close every quote, or escape a lone quote as \\' or \\\"."
        ) from None

    def substitute(kind: str, name: str) -> str:
        if name not in values[kind]:
            declared = ", ".join(sorted(values[kind])) or "(none)"
            raise JobValidationError(
                f"task.program_arguments uses ${{{{{kind}.{name}}}}}, which is not declared; "
                f"declared {kind} are: {declared}."
            )
        resolved = values[kind][name]
        if resolved is None:
            raise JobValidationError(
                f"task.program_arguments uses ${{{{{kind}.{name}}}}}, which has no value; bind it "
                f"(job({name}=...)), give it a path or default, or wrap the argument in $[[ ... ]]."
            )
        return resolved

    return tuple(substitute_references(token, substitute) for token in tokens)


def _check_mini_batch_size(text: str, size: int, input_type: str) -> None:
    """A size of 0 is not "the default", and units are bytes, which a file input cannot count."""
    if size <= 0:
        raise JobValidationError(
            f"mini_batch_size must be at least 1 (got {text!r}); leave it out for the default "
            "(10 files, or 1mb of a tabular input)."
        )
    if not text.strip().isdigit() and input_type in ("uri_folder", "uri_file"):
        raise JobValidationError(
            f"mini_batch_size {text!r} is a size in bytes, which applies to tabular (mltable) inputs; "
            f"the major input is a {input_type}, divided by file count. Give a number of files, "
            'such as "10".'
        )


def build_job_spec(job: Parallel, *, base_dir: str, run_dir: str) -> JobSpec:
    """Validate ``job`` against the local machine and resolve every binding.

    Relative paths resolve against ``base_dir`` (the current directory for Python, the
    YAML file's folder for the CLI). Outputs without a path go under ``run_dir``.
    """
    if not isinstance(job, Parallel):
        raise JobValidationError(
            f"run() needs a parallel job from parallel_run_function() (got {type(job).__name__})."
        )
    if job.task is None:
        raise JobValidationError("task is required: task=RunFunction(code=..., entry_script=...).")
    if not job.task.entry_script:
        raise EntryScriptError("task.entry_script is required, e.g. entry_script='score.py'.")
    major_name = job.major_input_name
    if major_name is None:
        raise JobValidationError(
            "input_data is required: name the input to split into mini-batches, "
            "e.g. input_data='${{inputs.job_data_path}}'."
        )

    code_dir = normalize_path(job.task.code or ".", base_dir)
    if is_remote(code_dir):
        raise EntryScriptError(
            f"task.code {code_dir!r} is remote; dask_parallel needs the code folder on a local "
            "or shared file system."
        )
    check_entry_script(code_dir, job.task.entry_script)

    check_io_names("inputs", job.inputs)
    check_io_names("outputs", job.outputs)
    input_values: dict[str, str | None] = {}
    major: DataRef | None = None
    for name, value in job.inputs.items():
        text, declared = _input_value(name, value, base_dir)
        input_values[name] = text
        if name == major_name:
            if declared is None or not declared.is_data:
                raise JobValidationError(
                    f"input_data points at inputs.{name}, which is not a data input; declare it "
                    "as Input(type='uri_folder' | 'uri_file' | 'mltable', path=...)."
                )
            if declared.type not in ("uri_folder", "uri_file", "mltable"):
                raise JobValidationError(
                    f"inputs.{name}: type {declared.type!r} cannot be split into mini-batches; "
                    "use uri_folder, uri_file or mltable."
                )
            if text is None:
                raise InputError(
                    f"inputs.{name} (the input_data) has no path; bind it with "
                    f"job({name}=Input(type={declared.type!r}, path=...)) or set its path."
                )
            with storage_access(f"inputs.{name}", text):
                found = exists(text)
            if not found:
                raise InputError(
                    f"inputs.{name}: path {text!r} does not exist. Check the path; relative paths "
                    f"resolve against {base_dir!r}."
                )
            major = DataRef(name=name, type=declared.type, uri=text, mode=declared.mode)
    assert major is not None

    outputs: dict[str, OutputRef] = {}
    for name, value in job.outputs.items():
        if isinstance(value, str):
            value = Output(type="uri_folder", path=value)
        value = value or Output()
        if value.path is not None and is_binding(value.path):
            raise _binding_error(f"outputs.{name}.path", value.path)
        staging = os.path.join(run_dir, "outputs", name)
        if value.path is None:
            uri = staging + (".txt" if value.type == "uri_file" else "")
        else:
            uri = normalize_path(value.path, base_dir)
        if is_remote(uri):
            local = staging if value.type != "uri_file" else os.path.join(staging, os.path.basename(uri))
        else:
            local = uri
        outputs[name] = OutputRef(name=name, type=value.type, uri=uri, local_path=local)

    output_values = {name: out.local_path for name, out in outputs.items()}
    program_arguments = _resolve_arguments(
        job.task.program_arguments or "", {"inputs": input_values, "outputs": output_values}
    )
    driver = parse_driver_options(list(program_arguments))
    for message in driver_option_warnings(program_arguments):
        logger.warning(message)

    mini_batch_size = None
    if job.mini_batch_size is not None:
        if is_binding(job.mini_batch_size):
            raise _binding_error("mini_batch_size", job.mini_batch_size)
        if not is_auto_size(job.mini_batch_size):
            mini_batch_size = parse_mini_batch_size(job.mini_batch_size)
            _check_mini_batch_size(str(job.mini_batch_size), mini_batch_size, major.type)

    logging_level = job.logging_level or driver.logging_level or "INFO"
    if is_binding(logging_level):
        raise _binding_error("logging_level", logging_level)

    error_threshold = _resolved_int("error_threshold", job.error_threshold, -1)
    if driver.error_threshold is not None and job.error_threshold is None:
        error_threshold = driver.error_threshold
    mini_batch_error_threshold = _resolved_int(
        "mini_batch_error_threshold", job.mini_batch_error_threshold, -1
    )
    if driver.allowed_failed_count is not None and job.mini_batch_error_threshold is None:
        mini_batch_error_threshold = driver.allowed_failed_count
    max_attempts = _resolved_int(
        "retry_settings.max_retries",
        job.retry_settings.max_retries,
        driver.run_max_try or DEFAULT_MAX_ATTEMPTS,
    )
    timeout = _resolved_int(
        "retry_settings.timeout", job.retry_settings.timeout, driver.run_invocation_timeout or DEFAULT_TIMEOUT
    )
    concurrency = _resolved_int(
        "max_concurrency_per_instance",
        job.max_concurrency_per_instance,
        driver.process_count_per_node or os.cpu_count() or 1,
    )
    spec = JobSpec(
        name=job.name or "parallel_job",
        display_name=job.display_name,
        code_dir=code_dir,
        entry_script=job.task.entry_script,
        program_arguments=program_arguments,
        major_input=major,
        side_inputs={k: v for k, v in input_values.items() if k != major_name and v is not None},
        outputs=outputs,
        append_row_output=job.append_row_output_name,
        mini_batch_size=mini_batch_size,
        mini_batch_size_in_bytes=mini_batch_size is not None
        and not str(job.mini_batch_size).strip().isdigit(),
        partition_keys=tuple(job.partition_keys) if job.partition_keys else None,
        instance_count=_resolved_int("instance_count", job.instance_count, 1),
        max_concurrency_per_instance=concurrency,
        error_threshold=error_threshold,
        mini_batch_error_threshold=mini_batch_error_threshold,
        max_attempts=max_attempts,
        timeout=timeout,
        logging_level=logging_level,
        environment_variables=dict(job.environment_variables),
        is_deterministic=job.is_deterministic,
        driver=driver,
        **_beyond_azure(job),
        dask_resources=parse_dask_resources(getattr(job, "resources", None)),
    )
    _check_output_targets(spec)
    return spec


def _check_output_targets(spec: JobSpec) -> None:
    """An output file that is an existing folder would fail only after all the work: say so now."""
    targets = [(f"outputs.{o.name}", o.local_path) for o in spec.outputs.values() if o.type == "uri_file"]
    if spec.append_row_uri is not None and not is_remote(spec.append_row_uri):
        targets.append((f"the append_row file of outputs.{spec.append_row_output}", spec.append_row_uri))
    for where, path in targets:
        if os.path.isdir(path):
            raise JobValidationError(
                f"{where}: {path!r} is an existing folder, but the output is a file. Give a file "
                "path (e.g. .../result.txt), or declare the output as type: uri_folder."
            )


def _beyond_azure(job: Parallel) -> dict[str, Any]:
    """The JobSpec fields of the retry, bisection and speculation settings."""
    retry = job.retry_settings
    backoff = retry.backoff or {}
    speculation = getattr(job, "speculation", None)
    target = getattr(job, "target_duration", None)
    if target is not None and is_binding(target):
        raise _binding_error("target_duration", target)
    fields: dict[str, Any] = {
        "split_on_failure": bool(retry.split_on_failure),
        "retry_on": tuple(retry.retry_on or ()),
        "no_retry_on": tuple(retry.no_retry_on or ()),
        "backoff_initial": float(backoff.get("initial", 0.0)),
        "backoff_max": float(backoff.get("max") or max(60.0, backoff.get("initial", 0.0))),
    }
    if target is not None:
        fields["target_duration"] = parse_duration(target)
    elif is_auto_size(job.mini_batch_size):
        fields["target_duration"] = DEFAULT_TARGET_DURATION
    if speculation is not None and speculation.enabled:
        fields.update(
            speculation=True,
            speculation_multiplier=float(speculation.multiplier),
            speculation_min_seconds=float(speculation.min_seconds),
        )
    return fields


def spec_from_dict(data: dict[str, Any]) -> JobSpec:
    """Rebuild a :class:`JobSpec` from ``dataclasses.asdict`` output (as stored in job.json)."""
    values = dict(data)
    values["major_input"] = DataRef(**values["major_input"])
    values["outputs"] = {name: OutputRef(**out) for name, out in values["outputs"].items()}
    values["driver"] = DriverOptions(**values["driver"])
    values["program_arguments"] = tuple(values["program_arguments"])
    if values.get("partition_keys") is not None:
        values["partition_keys"] = tuple(values["partition_keys"])
    for key in ("retry_on", "no_retry_on"):
        if key in values:
            values[key] = tuple(values[key])
    return JobSpec(**values)
