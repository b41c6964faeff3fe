"""``azureml://`` datastore URIs mapped to fsspec URLs through the ``dask-parallel.datastores`` table.

Configure it like any Dask setting (see ``conf/datastores.yaml``)::

    dask-parallel:
      datastores:
        workspaceblobstore: abfs://azureml-blobstore-0000/
        landing: s3://landing-bucket/raw

``azureml://datastores/landing/paths/2024/a.csv`` then reads ``s3://landing-bucket/raw/2024/a.csv``.
Credentials are not part of the table: they come from the fsspec storage options or the
environment (``AWS_*``, ``AZURE_STORAGE_*``), as for any other URL.
"""

from __future__ import annotations

import re

from dask_parallel.errors import MLTableError

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
