"""``Environment`` and ``BuildContext`` (``azure.ai.ml.entities``), kept for compatibility.

On Azure an environment is the Docker image and conda file a job runs in. On Dask the
workers' own Python environment runs the entry script, so these objects are accepted,
remembered and reported once as "not used on Dask"; they never change what runs.
Install the packages the conda file lists on the workers (``pip install``, a worker image).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any


@dataclasses.dataclass(kw_only=True)
class BuildContext:
    """A Docker build context: a folder and the Dockerfile in it."""

    path: str | os.PathLike | None = None
    dockerfile_path: str | None = None


@dataclasses.dataclass(kw_only=True)
class Environment:
    """An Azure ML environment: an image (or a build context) plus a conda file.

    Examples
    --------
    >>> env = Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04",
    ...                   conda_file="./env.yml")
    >>> env.describe()
    'image mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04, conda_file ./env.yml'
    """

    name: str | None = None
    version: str | None = None
    description: str | None = None
    image: str | None = None
    conda_file: str | os.PathLike | dict | None = None
    build: BuildContext | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, Any] | None = None
    datastore: str | None = None
    inference_config: dict | None = None
    os_type: str | None = None

    def describe(self) -> str:
        """A short text naming what the environment would be built from."""
        parts = []
        if self.name:
            parts.append(f"name {self.name}" + (f":{self.version}" if self.version else ""))
        if self.image:
            parts.append(f"image {self.image}")
        if self.build is not None:
            parts.append(f"build context {self.build.path}")
        if self.conda_file is not None:
            shown = self.conda_file if not isinstance(self.conda_file, dict) else "(inline)"
            parts.append(f"conda_file {shown}")
        return ", ".join(parts) or "(empty)"


__all__ = ["BuildContext", "Environment"]
