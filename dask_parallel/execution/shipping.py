"""Everything a run needs when its workers cannot see the client's disk.

Built once per run on the client: the archives of the code folder and of local side
inputs, the output folders whose files come back, how local input files reach the
workers, and where what comes back is written.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from dask.utils import parse_bytes

from dask_parallel import config
from dask_parallel.batching import MiniBatch
from dask_parallel.errors import JobValidationError
from dask_parallel.inputs.staging import InputDelivery, local_paths
from dask_parallel.outputs.returned import ReturnedFiles
from dask_parallel.paths import is_remote
from dask_parallel.spec.job_spec import JobSpec
from dask_parallel.worker.code_archive import ArchiveTooLarge, FolderArchive, pack
from dask_parallel.worker.runtime_spec import RuntimeSpec, ShippedPath


@dataclasses.dataclass
class Shipment:
    """What the driver sends with a run on workers without the client's disk."""

    archives: list[FolderArchive]
    delivery: InputDelivery | None
    returned: ReturnedFiles


def _pack(path: str, what: str) -> FolderArchive:
    try:
        return pack(path, int(parse_bytes(str(config.get("shipping.max-folder-bytes", "256MiB")))))
    except ArchiveTooLarge as exc:
        raise JobValidationError(f"cannot send the {what} to the workers: {exc}") from None


def without_shared_disk(
    spec: JobSpec, runtime: RuntimeSpec, pending: Sequence[MiniBatch], run_dir: str
) -> tuple[RuntimeSpec, Shipment]:
    """The runtime spec for workers without the client's disk, and what to send them."""
    archives: list[FolderArchive] = []
    shipped: list[ShippedPath] = []
    code = _pack(spec.code_dir, f"code folder {spec.code_dir}")
    archives.append(code)
    shipped.append(ShippedPath(spec.code_dir, "code", code.digest))
    for name, value in spec.side_inputs.items():
        if isinstance(value, str) and os.path.isabs(value) and not is_remote(value) and os.path.exists(value):
            archive = _pack(value, f"input {name} ({value})")
            archives.append(archive)
            shipped.append(ShippedPath(value, "input", archive.digest, archive.is_file, archive.name))
    folders = sorted({output.local_folder for output in spec.outputs.values()} | {runtime.output_dir})
    shipped.extend(ShippedPath(folder, "output") for folder in folders)
    delivery = InputDelivery(pending) if any(local_paths(mb) for mb in pending) else None
    returned = ReturnedFiles(run_dir, runtime.job_id, folders)
    runtime = dataclasses.replace(runtime, shared_filesystem=False, shipped=tuple(shipped))
    return runtime, Shipment(archives, delivery, returned)
