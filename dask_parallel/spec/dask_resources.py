"""``resources.dask_resources``: the Dask worker resources each mini-batch needs.

``{GPU: 1}`` runs every mini-batch on a worker that declared a ``GPU`` resource, one at a
time per GPU (Dask's abstract resources: ``dask worker --resources GPU=2``; the built-in
local cluster declares each process's share of the machine's GPUs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_parallel.errors import JobValidationError


def parse_dask_resources(resources: Any) -> dict[str, float]:
    """``resources`` is a job's ``ResourceConfiguration`` or a mapping (or ``None``)."""
    if isinstance(resources, Mapping):
        value = resources.get("dask_resources")
    else:
        value = getattr(resources, "dask_resources", None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise JobValidationError(
            f"resources.dask_resources must be a mapping such as {{GPU: 1}} (got {value!r})."
        )
    parsed = {}
    for name, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise JobValidationError(
                f"resources.dask_resources.{name} must be a positive number (got {amount!r})."
            )
        parsed[str(name)] = float(amount)
    return parsed
