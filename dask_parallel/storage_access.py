"""Turn a storage service's refusal (no credentials, access denied) into a located error.

Listing a remote input is the first time its storage is asked anything; without
credentials s3fs, adlfs and gcsfs raise their own exceptions, which say nothing of the job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dask_parallel.errors import DaskParallelError, InputError
from dask_parallel.paths import is_remote

ACCESS_ERRORS = {
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "ClientAuthenticationError",
    "DefaultCredentialsError",
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "PermissionError",
}

HOW_TO_FIX = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, ~/.aws/credentials; "
    "AWS_ENDPOINT_URL for an S3-compatible server)",
    "abfs": "set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with "
    "AZURE_STORAGE_ACCOUNT_KEY or an Azure identity",
    "gs": "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file",
}
HOW_TO_FIX["az"] = HOW_TO_FIX["abfs"]
HOW_TO_FIX["abfss"] = HOW_TO_FIX["abfs"]
HOW_TO_FIX["gcs"] = HOW_TO_FIX["gs"]


def is_access_error(exc: BaseException) -> bool:
    return any(cls.__name__ in ACCESS_ERRORS for cls in type(exc).__mro__)


@contextlib.contextmanager
def storage_access(where: str, uri: str) -> Iterator[None]:
    """Inside, a refusal to read the remote ``uri`` becomes an ``InputError`` naming ``where``."""
    try:
        yield
    except DaskParallelError:
        raise
    except Exception as exc:
        if not is_remote(uri) or not is_access_error(exc):
            raise
        protocol = uri.split("://", 1)[0].lower()
        fix = HOW_TO_FIX.get(protocol, "give this process the storage's credentials")
        raise InputError(
            f"{where}: cannot read {uri} ({type(exc).__name__}: {exc}). The storage refused or "
            f"could not be reached: {fix} in the environment of this process and of the Dask "
            "workers, or map the location through a dask-parallel.datastores entry whose "
            "credentials are set (docs/mltable.md)."
        ) from None


__all__ = ["is_access_error", "storage_access"]
