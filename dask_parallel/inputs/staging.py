"""Local input files for workers that cannot see the client's disk.

Each mini-batch's local files travel with its task when they are small enough
(``dask-parallel.shipping.max-mini-batch-bytes``); larger ones are uploaded once, before any
work starts, to the staging store (``dask-parallel.staging``, any fsspec URL), the way
Azure ML uploads local data when a job is submitted, and the workers download them from
there. If a mini-batch is too large and no staging store is set, the job stops before any
work with a message that says what to change. Staged copies are named by the file's
path, size and modification time, so a rerun or a resume uploads nothing again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from dask.utils import format_bytes, parse_bytes

from dask_parallel import config
from dask_parallel.batching import MiniBatch
from dask_parallel.errors import JobValidationError
from dask_parallel.paths import filesystem, is_remote

Payload = dict[str, "bytes | str"]


def local_paths(mb: MiniBatch) -> list[str]:
    """The files on the client's disk a mini-batch needs."""
    if mb.block is not None:
        return sorted({block.path for block in mb.block.blocks if not is_remote(block.path)})
    return [path for path in mb.files if not is_remote(path)]


def max_inline_bytes() -> int:
    return int(parse_bytes(str(config.get("shipping.max-mini-batch-bytes", "16MiB"))))


class InputDelivery:
    """Decides, once per run, how every local input file reaches the workers."""

    def __init__(self, mini_batches: Sequence[MiniBatch], staging_url: str | None = None) -> None:
        self.limit = max_inline_bytes()
        self.staging_url = staging_url if staging_url is not None else config.get("staging")
        self.staged: dict[str, str] = {}
        self.inline_batches = 0
        too_large: list[tuple[MiniBatch, int]] = []
        sizes: dict[str, int] = {}
        for mb in mini_batches:
            paths = local_paths(mb)
            for path in paths:
                if path not in sizes:
                    sizes[path] = os.path.getsize(path)
            total = sum(sizes[path] for path in paths)
            if total > self.limit:
                too_large.append((mb, total))
            elif paths:
                self.inline_batches += 1
        if too_large and not self.staging_url:
            mb, total = too_large[0]
            raise JobValidationError(
                f"{len(too_large)} mini-batches need more local input than can be sent to the workers "
                f"with their task (mini batch {mb.index}, {mb.describe()}: {format_bytes(total)}; the "
                f"limit is {format_bytes(self.limit)}), and the workers cannot see this machine's disk. "
                "Set dask-parallel.staging to a storage URL the workers can read (for example "
                "s3://bucket/dask-parallel-staging), raise dask-parallel.shipping.max-mini-batch-bytes, "
                "use a smaller mini_batch_size, or put the input in object storage and pass its URL."
            )
        for mb, _ in too_large:
            for path in local_paths(mb):
                if path not in self.staged:
                    self.staged[path] = self._upload(path, sizes[path])

    def _upload(self, path: str, size: int) -> str:
        info = os.stat(path)
        key = hashlib.sha256(f"{path}|{size}|{info.st_mtime_ns}".encode()).hexdigest()[:24]
        url = f"{str(self.staging_url).rstrip('/')}/inputs/{key}/{os.path.basename(path)}"
        fs, remote = filesystem(url)
        try:
            if fs.exists(remote) and fs.size(remote) == size:
                return url
            fs.put_file(path, remote)
        except Exception as exc:  # noqa: BLE001 - any storage failure is reported the same way
            raise JobValidationError(
                f"cannot upload {path} to the staging store {self.staging_url} "
                f"({type(exc).__name__}: {exc}). Check dask-parallel.staging and the storage "
                "credentials in this environment."
            ) from None
        return url

    def payload(self, mb: MiniBatch) -> Payload | None:
        """What travels with this mini-batch's task: bytes, or the staged copy's URL."""
        paths = local_paths(mb)
        if not paths:
            return None
        payload: Payload = {}
        for path in paths:
            staged = self.staged.get(path)
            if staged is not None:
                payload[path] = staged
            else:
                with open(path, "rb") as handle:
                    payload[path] = handle.read()
        return payload
