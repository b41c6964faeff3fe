"""What ran: the environment recorded in job.json (Python, packages, host, entry-script hash).

A run directory read weeks later answers "which model code and which library versions
produced this?" without guessing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import socket
import sys
from typing import Any

PACKAGES = (
    "dask_parallel",
    "dask",
    "distributed",
    "pandas",
    "pyarrow",
    "numpy",
    "fsspec",
    "tqdm",
    "matplotlib",
    "deltalake",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package, None when it is not installed."""
    return dict(_versions(names))


@functools.cache
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    # Read once per process: parsing every package's metadata was a large share of a short
    # job's driver time, and a package upgraded meanwhile is not the one this process runs.
    versions: list[tuple[str, str | None]] = []
    for name in names:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, None))
    return tuple(versions)


def file_sha256(path: str) -> str | None:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def environment_record(code_dir: str | None = None, entry_script: str | None = None) -> dict[str, Any]:
    """The driver's environment and the entry script's content hash, for job.json."""
    script = os.path.join(code_dir, entry_script) if code_dir and entry_script else None
    return {
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "argv": list(sys.argv),
        "packages": package_versions(),
        "entry_script": None if script is None else {"path": script, "sha256": file_sha256(script)},
    }
