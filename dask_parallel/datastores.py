"""``azureml://datastores/<name>/paths/<path>`` locations of job inputs and outputs.

Azure ML jobs name storage through datastores, and output paths often use two run-time
placeholders::

    path: azureml://datastores/${{default_datastore}}/paths/${{name}}/aggregated_returns.csv

Here:

* ``${{name}}`` is the job's name (a pipeline step's name for a step);
* ``${{default_datastore}}`` is the ``dask-parallel.default-datastore`` setting: the name of
  a datastore of the ``dask-parallel.datastores`` table, or a URL / folder itself. When it is
  not set, the default datastore is the run directory's ``outputs/`` folder, so the line
  above writes ``<run_dir>/outputs/<job name>/aggregated_returns.csv``;
* ``workspaceblobstore`` (Azure's default datastore) is the default datastore unless the
  table names it;
* any other datastore name is looked up in the ``dask-parallel.datastores`` table
  (``{name: fsspec URL}``), see ``conf/datastores.yaml``.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

from dask_parallel import config
from dask_parallel.errors import InputError, JobValidationError, MLTableError

DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/(?:providers/[^/]+/)?workspaces/[^/]+/)?"
    r"datastores/(?P<name>[^/]+)/paths/?(?P<path>.*)$",
    re.IGNORECASE,
)


def is_datastore_uri(uri: str) -> bool:
    return uri.lower().startswith("azureml://")


def resolve_datastore(uri: str) -> str:
    """The fsspec URL an ``azureml://.../datastores/<name>/paths/<path>`` URI stands for.

    Any other string is returned unchanged.

    >>> import dask.config
    >>> with dask.config.set({"dask-parallel.datastores": {"landing": "s3://bucket/raw"}}):
    ...     resolve_datastore("azureml://datastores/landing/paths/2024/a.csv")
    's3://bucket/raw/2024/a.csv'
    """
    if not is_datastore_uri(uri):
        return uri
    import dask.config

    match = DATASTORE_URI.match(uri)
    if match is None:
        raise MLTableError(
            f"{uri!r} is an azureml:// URI that is not a datastore path; dask_parallel reads "
            "azureml://datastores/<name>/paths/<path> (short or long form) only. Data asset "
            "URIs (azureml:<name>:<version>, .../data/<name>/versions/<v>) need Azure; point "
            "the input at the asset's storage URL instead."
        )
    name, path = match.group("name"), match.group("path")
    table = dask.config.get("dask-parallel.datastores", default=None) or {}
    target = table.get(name)
    if target is None:
        configured = ", ".join(sorted(table)) or "none"
        raise MLTableError(
            f"datastore {name!r} (in {uri!r}) is not configured; add it to the dask-parallel."
            f"datastores table, e.g. in ~/.config/dask/dask-parallel.yaml:\n"
            f"  dask-parallel:\n    datastores:\n      {name}: s3://bucket/prefix\n"
            f"(configured datastores: {configured}). See conf/datastores.yaml."
        )
    if isinstance(target, dict):
        target = target.get("url")
    if not isinstance(target, str) or not target:
        raise MLTableError(
            f"dask-parallel.datastores.{name} must be an fsspec URL such as 's3://bucket/prefix' "
            f"(got {target!r})."
        )
    return target.rstrip("/") + ("/" + path if path else "")


# ${name} too: an f-string holding "${{name}}" (as in Azure's notebooks) leaves single braces.
NAME_PLACEHOLDER = re.compile(r"\$\{\{\s*name\s*\}\}|\$\{name\}")
WORKSPACE_DEFAULT = "workspaceblobstore"  # Azure's default datastore name
DEFAULT_DATASTORE_PLACEHOLDER = re.compile(r"\$\{\{\s*default_datastore\s*\}\}")
_DEFAULT_MARK = "__dask_parallel_default_datastore__"


def is_azureml_uri(path: Any) -> bool:
    return isinstance(path, str) and path.lower().startswith("azureml://")


def has_placeholder(path: Any) -> bool:
    return isinstance(path, str) and bool(
        NAME_PLACEHOLDER.search(path) or DEFAULT_DATASTORE_PLACEHOLDER.search(path)
    )


def resolve_uri(uri: str) -> str:
    """The fsspec URL or local path an ``azureml://datastores/...`` URI stands for.

    Other strings are returned unchanged.

    >>> import dask.config
    >>> with dask.config.set({"dask-parallel.datastores": {"landing": "s3://bucket/raw"}}):
    ...     resolve_uri("azureml://datastores/landing/paths/2024/a.csv")
    's3://bucket/raw/2024/a.csv'
    """
    if not is_azureml_uri(uri):
        return uri
    return resolve_datastore(uri)


def expand_placeholders(path: str, *, name: str, run_dir: str, where: str = "path") -> str:
    """Replace ``${{name}}`` and ``${{default_datastore}}`` in ``path``.

    ``where`` names the YAML key or argument for error messages.
    """
    path = NAME_PLACEHOLDER.sub(name, path)
    table = config.get("datastores", None) or {}
    if WORKSPACE_DEFAULT not in table:  # Azure's default datastore is the default one here too
        path = re.sub(
            rf"(?i)(datastores/){WORKSPACE_DEFAULT}(/paths)", r"\1${{default_datastore}}\2", path, count=1
        )
    if not DEFAULT_DATASTORE_PLACEHOLDER.search(path):
        return path
    default = config.get("default-datastore", None)
    marked = DEFAULT_DATASTORE_PLACEHOLDER.sub(_DEFAULT_MARK, path)
    if default and default in table:
        return marked.replace(_DEFAULT_MARK, default)
    match = DATASTORE_URI.match(marked)
    if match is None or match.group("name") != _DEFAULT_MARK:
        raise InputError(
            f"{where}: {path!r} uses ${{{{default_datastore}}}} outside "
            "azureml://datastores/${{default_datastore}}/paths/<path>; write the path in that form."
        )
    rest = match.group("path")
    if not default:
        base = os.path.join(run_dir, "outputs")
        return os.path.normpath(os.path.join(base, rest)) if rest else base
    if "://" in default:
        return default.rstrip("/") + ("/" + rest if rest else "")
    if os.path.isabs(os.path.expanduser(default)):
        return os.path.join(os.path.expanduser(default), rest) if rest else os.path.expanduser(default)
    configured = ", ".join(sorted(table)) or "none"
    raise InputError(
        f"{where}: the dask-parallel.default-datastore setting is {default!r}, which is neither a "
        f"datastore of the dask-parallel.datastores table (configured: {configured}) nor a URL or "
        "absolute folder; set it to one of those, or unset it to write under the run directory's "
        "outputs/ folder."
    )


def resolve_location(path: str, *, name: str, run_dir: str, where: str = "path") -> str:
    """Placeholders expanded, then an ``azureml://datastores/...`` URI mapped to its URL."""
    expanded = expand_placeholders(path, name=name, run_dir=run_dir, where=where)
    try:
        return resolve_uri(expanded)
    except JobValidationError as exc:
        raise InputError(f"{where}: {exc}") from None


def resolve_job_locations(job: Any, *, run_dir: str, name: str | None = None) -> Any:
    """``job`` with every ``azureml://`` or placeholder input/output path resolved.

    Returns ``job`` itself when nothing needed resolving, else a copy. Raises
    :class:`InputError` (a ``JobValidationError``) naming the input or output whose datastore
    is not configured.
    """
    from dask_parallel.jobs.entities import Input, Output

    job_name = name or getattr(job, "name", None) or "job"
    changed = None
    for kind in ("inputs", "outputs"):
        for key, value in getattr(job, kind, {}).items():
            path = value.path if isinstance(value, (Input, Output)) else value
            if isinstance(value, Input) and not value.is_data:
                continue
            if not isinstance(path, str) or not (is_azureml_uri(path) or has_placeholder(path)):
                continue
            resolved = resolve_location(path, name=job_name, run_dir=run_dir, where=f"{kind}.{key}.path")
            if changed is None:
                changed = copy.deepcopy(job)
            target = getattr(changed, kind)
            if isinstance(value, (Input, Output)):
                placed = copy.copy(value)
                placed.path = resolved
                target[key] = placed
            else:
                target[key] = resolved
    return changed if changed is not None else job


__all__ = [
    "expand_placeholders",
    "has_placeholder",
    "is_azureml_uri",
    "resolve_job_locations",
    "resolve_location",
    "resolve_uri",
]
