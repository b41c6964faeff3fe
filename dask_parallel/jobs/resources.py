"""``ResourceConfiguration``: how many instances a job uses (``azure.ai.ml.entities``).

Only ``instance_count`` has a meaning on Dask (with ``max_concurrency_per_instance`` it sets
the number of worker processes); ``instance_type``, ``properties``, ``shm_size`` and
``docker_args`` are kept so code written for Azure runs unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.fields import RESOURCES_KEYS

logger = logging.getLogger("dask_parallel")

RESOURCE_KEYS = RESOURCES_KEYS  # the job file's resources keys, from the field table


class ResourceConfiguration:
    """The ``resources`` of a job or pipeline node.

    Examples
    --------
    >>> resources = ResourceConfiguration(instance_count=2, instance_type="STANDARD_D2_V2")
    >>> resources.instance_count = 3
    >>> resources
    ResourceConfiguration(instance_count=3, instance_type='STANDARD_D2_V2')
    """

    def __init__(
        self,
        *,
        instance_count: int | None = None,
        instance_type: str | None = None,
        properties: dict[str, Any] | None = None,
        docker_args: str | None = None,
        shm_size: str | None = None,
        locations: list[str] | None = None,
        max_instance_count: int | None = None,
        dask_resources: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise JobValidationError(
                f"resources: unknown key {sorted(kwargs)[0]!r}; allowed keys are {', '.join(RESOURCE_KEYS)}."
            )
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.properties = dict(properties or {})
        self.docker_args = docker_args
        self.shm_size = shm_size
        self.locations = locations
        self.max_instance_count = max_instance_count
        self.dask_resources = dict(dask_resources) if isinstance(dask_resources, Mapping) else dask_resources

    @classmethod
    def coerce(cls, value: Any, where: str = "resources") -> ResourceConfiguration:
        """A ``ResourceConfiguration`` from itself, a mapping or ``None``."""
        if value is None:
            return cls()
        if isinstance(value, ResourceConfiguration):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(RESOURCE_KEYS))
            if unknown:
                raise JobValidationError(
                    f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(RESOURCE_KEYS)}."
                )
            return cls(**{str(k): v for k, v in value.items()})
        raise JobValidationError(
            f"{where} must be a ResourceConfiguration or a mapping such as {{instance_count: 2}} "
            f"(got {value!r})."
        )

    def azure_only(self) -> list[str]:
        """Names of the settings that are set but mean nothing on Dask."""
        meaningful = ("instance_count", "dask_resources")
        return [
            key for key in RESOURCE_KEYS if key not in meaningful and getattr(self, key) not in (None, {}, [])
        ]

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in RESOURCE_KEYS if getattr(self, key) not in (None, {}, [])}

    # Mapping-style reads, for code that treated resources as a dict.
    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None) if key in RESOURCE_KEYS else None
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        if key not in RESOURCE_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in RESOURCE_KEYS:
            raise JobValidationError(
                f"resources: unknown key {key!r}; allowed keys are {', '.join(RESOURCE_KEYS)}."
            )
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return isinstance(other, ResourceConfiguration) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.to_dict().items())
        return f"ResourceConfiguration({shown})"


JobResourceConfiguration = ResourceConfiguration

__all__ = ["JobResourceConfiguration", "ResourceConfiguration"]
