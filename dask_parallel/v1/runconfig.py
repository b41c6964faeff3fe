"""``azureml.core.runconfig`` names: ``CondaDependencies``, ``DEFAULT_CPU_IMAGE`` and the
``python`` / ``docker`` / ``spark`` sections of a v1 ``Environment``.

On Dask the entry script runs in the workers' own Python environment, so these settings
are recorded (and reported once as not used on Dask), never installed: put the packages
they list on the workers (``pip install``, a worker image).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"


class CondaDependencies:
    """The conda and pip packages of an environment, as ``azureml.core.conda_dependencies``.

    Examples
    --------
    >>> deps = CondaDependencies.create(python_version="3.10", pip_packages=["pillow"])
    >>> deps.add_pip_package("numpy")
    >>> deps.pip_packages
    ['pillow', 'numpy']
    """

    def __init__(self, conda_dependencies_file_path: str | None = None, _underlying_structure: Any = None):
        self.python_version: str | None = None
        self.conda_packages: list[str] = []
        self.pip_packages: list[str] = []
        self.channels: list[str] = ["conda-forge"]
        self.pip_options: list[str] = []
        if conda_dependencies_file_path is not None:
            with open(conda_dependencies_file_path, encoding="utf-8") as handle:
                self._read(yaml.safe_load(handle) or {})

    def _read(self, document: dict[str, Any]) -> None:
        self.channels = list(document.get("channels") or self.channels)
        for item in document.get("dependencies") or []:
            if isinstance(item, dict):
                self.pip_packages.extend(str(p) for p in item.get("pip") or [])
            elif str(item).startswith("python="):
                self.python_version = str(item).split("=", 1)[1]
            else:
                self.conda_packages.append(str(item))

    @classmethod
    def create(
        cls,
        name: str | None = None,
        python_version: str | None = None,
        conda_packages: list[str] | None = None,
        pip_packages: list[str] | None = None,
        pin_sdk_version: bool = True,
        pip_indexurl: str | None = None,
        channels: list[str] | None = None,
    ) -> CondaDependencies:
        deps = cls()
        deps.python_version = python_version
        deps.conda_packages = list(conda_packages or [])
        deps.pip_packages = list(pip_packages or [])
        if channels:
            deps.channels = list(channels)
        return deps

    def add_conda_package(self, conda_package: str) -> None:
        if conda_package not in self.conda_packages:
            self.conda_packages.append(conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        if pip_package not in self.pip_packages:
            self.pip_packages.append(pip_package)

    def add_channel(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.append(channel)

    def remove_pip_package(self, pip_package: str) -> None:
        self.pip_packages = [p for p in self.pip_packages if p != pip_package]

    def remove_conda_package(self, conda_package: str) -> None:
        self.conda_packages = [p for p in self.conda_packages if p != conda_package]

    def set_pip_option(self, pip_option: str) -> None:
        self.pip_options.append(pip_option)

    def serialize_to_string(self) -> str:
        dependencies: list[Any] = []
        if self.python_version:
            dependencies.append(f"python={self.python_version}")
        dependencies.extend(self.conda_packages)
        if self.pip_packages:
            dependencies.append({"pip": list(self.pip_options) + list(self.pip_packages)})
        document = {"name": "project_environment", "channels": self.channels, "dependencies": dependencies}
        return yaml.safe_dump(document, sort_keys=False)

    def save(self, path: str | None = None) -> str:
        target = path or "conda_dependencies.yml"
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(self.serialize_to_string())
        return target

    save_to_file = save

    def __repr__(self) -> str:
        return f"CondaDependencies(python={self.python_version!r}, pip={self.pip_packages!r})"


@dataclasses.dataclass
class PythonSection:
    """``environment.python``: the interpreter and its conda dependencies."""

    conda_dependencies: CondaDependencies | None = None
    user_managed_dependencies: bool = False
    interpreter_path: str = "python"
    conda_dependencies_file: str | None = None


@dataclasses.dataclass
class DockerSection:
    """``environment.docker``: the base image (or Dockerfile) of the environment."""

    base_image: str | None = DEFAULT_CPU_IMAGE
    base_dockerfile: str | None = None
    base_image_registry: Any = None
    enabled: bool | None = None
    shm_size: str | None = None
    arguments: list[str] = dataclasses.field(default_factory=list)
    build_context: Any = None


@dataclasses.dataclass
class SparkSection:
    """``environment.spark``: Spark packages (not used on Dask)."""

    repositories: list[str] = dataclasses.field(default_factory=list)
    packages: list[Any] = dataclasses.field(default_factory=list)
    precache_packages: bool = True


__all__ = [
    "DEFAULT_CPU_IMAGE",
    "DEFAULT_GPU_IMAGE",
    "CondaDependencies",
    "DockerSection",
    "PythonSection",
    "SparkSection",
]
