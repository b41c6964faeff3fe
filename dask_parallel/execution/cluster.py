"""Connect to the Dask cluster a job runs on.

In order of precedence: the caller's ``Client``; a scheduler address given by the caller
(``run(client="tcp://...")``, ``dask-parallel run --scheduler``); the
``dask-parallel.cluster.address`` setting; a cluster class named in
``dask-parallel.cluster.class`` (any Dask cluster manager, created with
``dask-parallel.cluster.kwargs`` and scaled to the job's worker processes); else a
LocalCluster on 127.0.0.1. See ``conf/clusters/`` and ``docs/clusters.md``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import dask.config
from distributed import Client, LocalCluster

from dask_parallel import config
from dask_parallel.errors import ClusterError, JobValidationError
from dask_parallel.execution.dask_logs import quiet_expected_dask_errors

logger = logging.getLogger(__name__)

LOCAL_CLUSTER_CONFIG = {"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 0}
# A terminal's Ctrl-C reaches the local workers too: they leave it to the client (no tracebacks).
SIGNALS_PRELOAD = "dask_parallel.worker.local_preload"
# Seconds a replacement worker process may take to start (after a timeout or an init()
# failure) before its nanny gives up for good; Dask's 30 s is short on a busy machine.
LOCAL_DEATH_TIMEOUT = 180


def local_process_limit() -> int:
    """The most worker processes the built-in local cluster starts (``local-cluster.max-processes``)."""
    configured = config.get("local-cluster.max-processes")
    if configured:
        return max(1, int(configured))
    return 4 * (os.cpu_count() or 1)


def local_cluster_size(requested: int) -> tuple[int, str | None]:
    """How many processes the built-in local cluster starts for a job, and a note when capped."""
    configured = config.get("local-cluster.n-workers")
    wanted = int(configured) if configured else requested
    limit = local_process_limit()
    if wanted <= limit:
        return wanted, None
    return limit, (
        f"the local cluster starts {limit} worker processes, not the {wanted} asked for "
        f"(instance_count * max_concurrency_per_instance); the limit is 4 x {os.cpu_count()} CPUs. "
        "Set dask-parallel.local-cluster.max-processes to change it, or run on a larger cluster."
    )


def uses_local_cluster(client: Client | str | None) -> bool:
    """Whether ``connect(client, ...)`` starts the built-in local cluster."""
    return client is None and not config.get("cluster.address") and not config.get("cluster.class")


@contextlib.contextmanager
def connect(
    client: Client | str | None, n_workers: int, notify: Callable[[str], None] | None = None
) -> Iterator[Client]:
    """Yield a client; a cluster started here is closed on the way out.

    ``client`` may be a :class:`distributed.Client` (used as it is), a scheduler address
    (``tcp://...`` or ``tls://...``, with Dask's security settings), or ``None`` for the
    configured cluster: ``dask-parallel.cluster.address``, ``dask-parallel.cluster.class``,
    or a LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1.
    """
    with quiet_expected_dask_errors(), _connect(client, n_workers, notify) as connected:
        yield connected


@contextlib.contextmanager
def _connect(
    client: Client | str | None, n_workers: int, notify: Callable[[str], None] | None
) -> Iterator[Client]:
    if isinstance(client, Client):
        yield client
        return
    if client is not None and not isinstance(client, str):
        raise TypeError(f"client must be a distributed.Client or an address (got {type(client).__name__})")
    address = client or config.get("cluster.address")
    if address:
        with _connect_to(str(address), _address_source(client)) as connected:
            yield connected
        return
    cluster = _create_cluster(n_workers, notify)
    try:
        with Client(cluster) as created:
            if config.get("cluster.class"):
                created.wait_for_workers(1, timeout=float(config.get("cluster.worker-timeout", 600)))
            yield created
    finally:
        cluster.close()


def _address_source(client: Client | str | None) -> str:
    if isinstance(client, str):
        return "--scheduler (Python: run(client=...))"
    return "the setting dask-parallel.cluster.address"


def check_scheduler_address(client: Client | str | None) -> None:
    """Refuse a malformed scheduler address before anything is written (``ClusterError``)."""
    if isinstance(client, Client):
        return
    address = client or config.get("cluster.address")
    if address:
        _parse_address(str(address), _address_source(client))


def _parse_address(address: str, source: str) -> None:
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            host, _ = parse_host_port(location, default_port=8786)
            if not host:
                raise ValueError("it names no host")
    except (ValueError, TypeError) as exc:
        raise ClusterError(
            f"{source}: the scheduler address {address!r} is malformed ({exc}). Give it as "
            "tcp://HOST:PORT (or tls://HOST:PORT), as `dask scheduler` prints it."
        ) from None


@contextlib.contextmanager
def _connect_to(address: str, source: str = "the scheduler address") -> Iterator[Client]:
    _parse_address(address, source)
    try:
        connected = Client(address)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"{source}: could not connect to the Dask scheduler at {address} ({type(exc).__name__}: "
            f"{exc}). Check that the scheduler runs and the address is right (`dask scheduler` prints "
            "it); for tls:// set distributed.comm.tls.* in your Dask configuration (docs/clusters.md)."
        ) from None
    with connected:
        yield connected


def _create_cluster(n_workers: int, notify: Callable[[str], None] | None = None) -> Any:
    name = config.get("cluster.class")
    if not name:
        size, note = local_cluster_size(n_workers)
        if note:
            logger.warning(note)
            if notify is not None:
                notify(note)
        return _local_cluster(size, notify)
    cls = _import_cluster_class(str(name))
    kwargs = dict(config.get("cluster.kwargs") or {})
    try:
        cluster = cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported the same way
        raise JobValidationError(
            f"could not create the cluster {name} with dask-parallel.cluster.kwargs {kwargs}: "
            f"{type(exc).__name__}: {exc}. Fix the keyword arguments in your Dask configuration "
            "(for example a file from conf/clusters/ copied to ~/.config/dask/)."
        ) from None
    logger.info("created %s; scaling to %d workers", name, n_workers)
    cluster.scale(n_workers)
    return cluster


def _import_cluster_class(name: str) -> type:
    module_name, _, class_name = name.rpartition(".")
    try:
        if not module_name:
            raise ImportError(f"{name!r} has no module part")
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise JobValidationError(
            f"dask-parallel.cluster.class is {name!r}, which cannot be imported ({exc}). Give a full "
            "import path such as dask_jobqueue.SLURMCluster or dask_kubernetes.operator.KubeCluster, "
            "and install its package in this environment."
        ) from None


def local_gpus() -> list[str]:
    """The GPU devices the local cluster splits among its processes (``local-cluster.gpus``).

    By default the devices in ``CUDA_VISIBLE_DEVICES``, else those ``nvidia-smi -L`` lists.
    """
    configured = config.get("local-cluster.gpus")
    if configured is not None:
        if isinstance(configured, int):
            return [str(i) for i in range(configured)]
        return [str(d) for d in configured]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(listed.splitlines()) if line.startswith("GPU ")]


def split_devices(devices: list[str], processes: int) -> list[list[str]]:
    """Each process's own devices, as Azure splits a node's GPUs among its processes.

    >>> split_devices(["0", "1", "2", "3"], 2)
    [['0', '1'], ['2', '3']]
    >>> split_devices(["0", "1"], 4)
    [['0'], ['0'], ['1'], ['1']]
    """
    if not devices:
        return [[] for _ in range(processes)]
    if len(devices) >= processes:
        share = len(devices) // processes
        return [devices[i * share : (i + 1) * share] for i in range(processes)]
    return [[devices[i * len(devices) // processes]] for i in range(processes)]


def _worker_specs(cluster: LocalCluster, n_workers: int) -> dict[Any, dict[str, Any]]:
    """One spec per worker process: its share of the GPUs and the declared resources."""
    template = next(iter(cluster.new_worker_spec().values()))
    declared = {str(k): float(v) for k, v in (config.get("local-cluster.resources") or {}).items()}
    shares = split_devices(local_gpus(), n_workers)
    specs = {}
    for number, devices in enumerate(shares):
        options = dict(template["options"])
        resources = dict(declared)
        if devices:
            options["env"] = {**(options.get("env") or {}), "CUDA_VISIBLE_DEVICES": ",".join(devices)}
            resources["GPU"] = float(len(devices))
        if resources:
            options["resources"] = resources
        specs[number] = {"cls": template["cls"], "options": options}
    return specs


def _local_cluster(n_workers: int, notify: Callable[[str], None] | None = None) -> LocalCluster:
    # Non-daemonic workers let entry scripts start their own subprocesses, as on Azure; and
    # with no allowed failures Dask never re-runs a task whose worker died behind our back:
    # the driver decides every retry and counts every attempt.
    preload = [*(dask.config.get("distributed.worker.preload", None) or []), SIGNALS_PRELOAD]
    settings = {**LOCAL_CLUSTER_CONFIG, "distributed.worker.preload": preload}
    with dask.config.set(settings), _busy_port_note(notify):
        cluster = LocalCluster(
            n_workers=0,
            threads_per_worker=1,
            processes=True,
            host=config.get("local-cluster.host", "127.0.0.1"),
            dashboard_address=config.get("local-cluster.dashboard-address", "127.0.0.1:8787"),
            memory_limit=config.get("local-cluster.memory-limit", "auto"),
            death_timeout=LOCAL_DEATH_TIMEOUT,
            silence_logs=logging.ERROR,
        )
        try:
            cluster.worker_spec.update(_worker_specs(cluster, n_workers))
            cluster.sync(cluster._correct_state)
        except BaseException:
            cluster.close()
            raise
        return cluster


@contextlib.contextmanager
def _busy_port_note(notify: Callable[[str], None] | None) -> Iterator[None]:
    """Dask's warning about a busy dashboard port (with its file path) becomes one note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message=r"Port \d+ is already in use", category=UserWarning)
        yield
    for warning in caught:
        text = str(warning.message)
        if "already in use" not in text:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            continue
        port = re.search(r"port (\d+) instead", text)
        note = (
            "the dashboard port is in use (another Dask cluster?); this job's dashboard is on "
            f"port {port.group(1) if port else 'another port'}. Set "
            "dask-parallel.local-cluster.dashboard-address to choose one."
        )
        logger.info(note)
        if notify is not None:
            notify(note)


def dashboard_link(client: Client) -> str | None:
    """The dashboard's URL, or None when the scheduler serves none (bokeh missing, disabled)."""
    try:
        info = client.scheduler_info()
        if not info.get("services", {}).get("dashboard"):
            return None
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard
        return None


def worker_count(client: Client) -> int:
    info = client.scheduler_info(n_workers=-1) if _accepts_n_workers(client) else client.scheduler_info()
    return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())


def _accepts_n_workers(client: Client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters
