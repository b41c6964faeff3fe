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

from dask_parallel.datastores import DATASTORE_URI, is_datastore_uri, resolve_datastore

__all__ = ["DATASTORE_URI", "is_datastore_uri", "resolve_datastore"]
