"""Connect to the Dask cluster a job runs on: the caller's, an address, or a local one."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import dask.config
from distributed import Client, LocalCluster

from . import config

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def connect(client: Client | str | None, n_workers: int) -> Iterator[Client]:
    """Yield a client; a LocalCluster started here is closed on the way out.

    ``client`` may be a :class:`distributed.Client` (used as it is), a scheduler address
    (``tcp://...`` or ``tls://...``, with Dask's security settings), or ``None`` for a
    LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1.
    """
    if isinstance(client, Client):
        yield client
        return
    if isinstance(client, str):
        with Client(client) as connected:
            yield connected
        return
    if client is not None:
        raise TypeError(f"client must be a distributed.Client or an address (got {type(client).__name__})")
    # Non-daemonic workers let entry scripts start their own subprocesses, as on Azure.
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host=config.get("local-cluster.host", "127.0.0.1"),
            dashboard_address=config.get("local-cluster.dashboard-address", "127.0.0.1:8787"),
            silence_logs=logging.ERROR,
        )
    try:
        with Client(cluster) as local:
            yield local
    finally:
        cluster.close()


def dashboard_link(client: Client) -> str | None:
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard (bokeh missing, or disabled)
        return None


def worker_count(client: Client) -> int:
    info = client.scheduler_info(n_workers=-1) if _accepts_n_workers(client) else client.scheduler_info()
    return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())


def _accepts_n_workers(client: Client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters
