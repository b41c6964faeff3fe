"""Before the first task: some worker offers the Dask resources each mini-batch asks for.

Without that check, tasks asking for ``{GPU: 1}`` on a cluster with no ``GPU`` resource
wait forever in Dask's queue.
"""

from __future__ import annotations

from distributed import Client

from dask_parallel.errors import JobValidationError


def check_resources(client: Client, wanted: dict[str, float]) -> None:
    if not wanted:
        return
    workers = client.scheduler_info().get("workers", {})
    fitting = [
        address
        for address, info in workers.items()
        if all((info.get("resources") or {}).get(name, 0) >= amount for name, amount in wanted.items())
    ]
    if workers and not fitting:
        offered = sorted(
            {f"{k}={v:g}" for info in workers.values() for k, v in (info.get("resources") or {}).items()}
        )
        raise JobValidationError(
            f"every mini-batch needs the Dask worker resources {wanted} (resources.dask_resources), but no "
            f"worker of the cluster offers them (offered: {', '.join(offered) or 'none'}). Start workers "
            "with `dask worker --resources GPU=1` (or the resources of your cluster manager); the local "
            "cluster declares GPU from CUDA_VISIBLE_DEVICES or dask-parallel.local-cluster.gpus, and "
            "others from dask-parallel.local-cluster.resources."
        )
