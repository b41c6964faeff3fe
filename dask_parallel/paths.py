"""Path helpers over fsspec: local paths and URLs are treated alike."""

from __future__ import annotations

import os

import fsspec
from fsspec.core import url_to_fs

from dask_parallel.errors import InputError


def is_remote(uri: str) -> bool:
    """True for a URL with a non-local protocol (``s3://``, ``abfs://``, ``memory://`` …)."""
    if "://" not in uri:
        return False
    return uri.split("://", 1)[0].lower() not in ("file", "local")


def normalize_path(path: str, base_dir: str) -> str:
    """Make a local path absolute against ``base_dir``; leave URLs as they are.

    ``azureml://datastores/<name>/paths/<path>`` becomes the location the
    ``dask-parallel.datastores`` table maps it to.
    """
    path = os.fspath(path)
    if path.lower().startswith("azureml://"):
        from dask_parallel.datastores import resolve_uri

        path = resolve_uri(path)
    if is_remote(path):
        return path
    if path.startswith("file://"):
        path = path[len("file://") :]
    path = os.path.expanduser(path)
    return os.path.normpath(os.path.join(base_dir, path))


def exists(uri: str) -> bool:
    try:
        fs, path = url_to_fs(uri)
        return fs.exists(path)
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"cannot reach {uri!r}: {exc}") from None


# On a worker that cannot see the client's disk: client path -> the copy delivered to it.
redirects: dict[str, str] = {}


def filesystem(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    return url_to_fs(redirects.get(uri, uri))


def join(uri: str, *parts: str) -> str:
    if is_remote(uri):
        return "/".join([uri.rstrip("/"), *parts])
    return os.path.join(uri, *parts)
