"""``command(...)``: a shell command or script step, as ``azure.ai.ml.command`` defines it.

The command line may use ``${{inputs.x}}`` and ``${{outputs.y}}``; at run time they
become local paths (or literal values), optional ``$[[ ... ]]`` blocks are dropped when an
input inside them has no value, and the command runs in ``code`` with ``python`` resolving
to the interpreter dask_parallel runs on. Inside a pipeline it runs on a Dask worker.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.bindings import call_component, declared_outputs, field_dict
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import AZURE_ONLY, NAME_PATTERN
from dask_parallel.jobs.resources import ResourceConfiguration
from dask_parallel.jobs.syntax import drop_empty_optional_blocks, references, substitute_references

logger = logging.getLogger(__name__)


class Command:
    """A command step: one process that runs ``command`` with its inputs and outputs bound.

    Built by :func:`command`. Calling it binds inputs and returns a new node, as for
    :class:`~dask_parallel.Parallel`.
    """

    def __init__(
        self,
        *,
        command: str,
        code: str | os.PathLike | None = None,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        environment: Any = None,
        environment_variables: Mapping[str, Any] | None = None,
        is_deterministic: bool = True,
        **azure_only: Any,
    ) -> None:
        unknown = sorted(set(azure_only) - set(AZURE_ONLY) - {"resources", "distribution", "version"})
        if unknown:
            raise JobValidationError(
                f"command got an unexpected argument {unknown[0]!r}. "
                "See help(dask_parallel.command) for the accepted arguments."
            )
        if not isinstance(command, str) or not command.strip():
            raise JobValidationError(
                f"command must be a non-empty string such as 'python prep.py --out ${{{{outputs.out}}}}' "
                f"(got {command!r})."
            )
        if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
            raise JobValidationError(
                f"name {name!r} is invalid: Component name should only contain lower letter, "
                "number, underscore and start with a lower letter."
            )
        self.command = command
        self.code = os.fspath(code) if code is not None else None
        self.name = name
        self.display_name = display_name
        self.description = description
        self.environment = environment
        self.environment_variables = {str(k): str(v) for k, v in dict(environment_variables or {}).items()}
        if not isinstance(is_deterministic, bool):
            raise JobValidationError(f"is_deterministic must be true or false (got {is_deterministic!r}).")
        self.is_deterministic = is_deterministic
        self.azure_only = dict(azure_only)
        # Azure-only, kept as attributes as on azure.ai.ml's Command: node.resources.instance_count ...
        self.resources = ResourceConfiguration.coerce(azure_only.get("resources"))
        self.tags: dict[str, str] = dict(azure_only.get("tags") or {})
        self.compute: str | None = azure_only.get("compute")
        self.experiment_name: str | None = azure_only.get("experiment_name")
        self.source_dir: str | None = None
        self.inputs = field_dict()
        for key, value in dict(inputs or {}).items():
            self.inputs[key] = Input(**dict(value)) if isinstance(value, Mapping) else value
        self.outputs = declared_outputs(outputs)
        for kind, key in references(command):
            declared = self.inputs if kind == "inputs" else self.outputs
            if key not in declared:
                raise JobValidationError(
                    f"command uses ${{{{{kind}.{key}}}}}, which is not declared; declared {kind} are: "
                    f"{', '.join(sorted(declared)) or '(none)'}."
                )

    def __call__(self, **bindings: Any) -> Command:
        """Return a copy of this command with the given inputs bound."""
        return call_component(self, bindings, "command")

    def __repr__(self) -> str:
        return f"Command(name={self.name!r}, command={self.command!r}, inputs={sorted(self.inputs)})"


def command(
    *,
    command: str,
    code: str | os.PathLike | None = None,
    inputs: dict[str, Input | Any] | None = None,
    outputs: dict[str, Output] | None = None,
    name: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    environment: Any = None,
    environment_variables: dict[str, str] | None = None,
    is_deterministic: bool = True,
    **kwargs: Any,
) -> Command:
    """Define a command step, with the arguments of ``azure.ai.ml.command``.

    Parameters
    ----------
    command
        The command line; ``${{inputs.x}}`` / ``${{outputs.y}}`` become paths or values,
        and ``python`` is the interpreter dask_parallel runs on.
    code
        Folder the command runs in (relative paths resolve against the current directory,
        or the YAML file's folder).
    inputs, outputs
        Declared inputs (``Input`` or literal defaults) and outputs (``Output``).
    environment, compute, resources, ...
        Accepted so Azure code runs unchanged; not used on Dask.

    Examples
    --------
    >>> from dask_parallel import Input, Output, command
    >>> prep = command(
    ...     name="prep",
    ...     inputs={"raw": Input(type="uri_folder")},
    ...     outputs={"clean": Output(type="uri_folder")},
    ...     code="./src",
    ...     command="python prep.py --raw ${{inputs.raw}} --clean ${{outputs.clean}}",
    ... )
    >>> sorted(prep.outputs)
    ['clean']
    """
    return Command(
        command=command,
        code=code,
        inputs=inputs,
        outputs=outputs,
        name=name,
        display_name=display_name,
        description=description,
        environment=environment,
        environment_variables=environment_variables,
        is_deterministic=is_deterministic,
        **kwargs,
    )


def render_command(text: str, inputs: Mapping[str, str | None], outputs: Mapping[str, str]) -> str:
    """Substitute the bindings of a command line (paths are shell-quoted)."""
    import shlex

    values = {"inputs": dict(inputs), "outputs": dict(outputs)}

    def substitute(kind: str, key: str) -> str:
        value = values[kind].get(key)
        if value is None:
            raise JobValidationError(
                f"command uses ${{{{{kind}.{key}}}}}, which has no value; bind it, give it a "
                "path or default, or wrap the argument in $[[ ... ]]."
            )
        return shlex.quote(str(value))

    return substitute_references(drop_empty_optional_blocks(text, values), substitute)


def execute_command(
    command_line: str, cwd: str, environment_variables: Mapping[str, str], log_path: str
) -> int:
    """Run one command line in ``cwd``, its output going to ``log_path``; the exit code.

    Runs wherever it is called: on a Dask worker when submitted by the pipeline runner.
    """
    env = dict(os.environ)
    env.update(environment_variables)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"$ {command_line}\n".encode())
        log.flush()
        completed = subprocess.run(
            command_line, shell=True, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    return completed.returncode


__all__ = ["Command", "command"]
