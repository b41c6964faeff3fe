"""Validate a parallel job once into a frozen :class:`JobSpec`; bindings are resolved here."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shlex
from pathlib import Path
from typing import Any

from dask_parallel.errors import EntryScriptError, InputError, JobValidationError
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.paths import exists, is_remote, normalize_path
from dask_parallel.spec.dask_resources import parse_dask_resources
from dask_parallel.spec.driver_options import DriverOptions, parse_driver_options
from dask_parallel.spec.sizes import is_binding, parse_mini_batch_size

BINDING = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_]\w*)\s*\}\}")
OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]", re.S)
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
    dask_resources: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def module_name(self) -> str:
        name = self.entry_script[:-3] if self.entry_script.endswith(".py") else self.entry_script
        return name.replace("/", ".").replace("\\", ".")

    @property
    def entry_script_path(self) -> str:
        return os.path.join(self.code_dir, self.entry_script)

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


def _resolve_arguments(text: str, values: dict[str, dict[str, str | None]]) -> tuple[str, ...]:
    def keep_block(match: re.Match) -> str:
        inner = match.group(1)
        for kind, name in BINDING.findall(inner):
            if values[kind].get(name) is None:
                return " "
        return inner

    text = OPTIONAL_BLOCK.sub(keep_block, text)
    tokens = shlex.split(text)

    def substitute(match: re.Match) -> str:
        kind, name = match.group(1), match.group(2)
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

    return tuple(BINDING.sub(substitute, token) for token in tokens)


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
            if not exists(text):
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

    mini_batch_size = None
    if job.mini_batch_size is not None:
        if is_binding(job.mini_batch_size):
            raise _binding_error("mini_batch_size", job.mini_batch_size)
        mini_batch_size = parse_mini_batch_size(job.mini_batch_size) or None

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
    return JobSpec(
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
        dask_resources=parse_dask_resources(getattr(job, "resources", None)),
    )


def spec_from_dict(data: dict[str, Any]) -> JobSpec:
    """Rebuild a :class:`JobSpec` from ``dataclasses.asdict`` output (as stored in job.json)."""
    values = dict(data)
    values["major_input"] = DataRef(**values["major_input"])
    values["outputs"] = {name: OutputRef(**out) for name, out in values["outputs"].items()}
    values["driver"] = DriverOptions(**values["driver"])
    values["program_arguments"] = tuple(values["program_arguments"])
    if values.get("partition_keys") is not None:
        values["partition_keys"] = tuple(values["partition_keys"])
    return JobSpec(**values)
