"""A worker's own copy of a run, when it cannot see the client's disk.

The run's files live under the worker's local directory; the client's paths in the
script's arguments and environment are rewritten to the worker's copies (code and side
inputs unpacked from their archives, outputs in empty local folders); after each attempt,
what the log files gained and the output files that changed are collected to travel back
with the attempt's result. Local input files of a mini-batch arrive with its task (bytes)
or as a staging-store URL, and are written where ``run()`` reads them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from dask_parallel.paths import filesystem, is_remote
from dask_parallel.worker.code_archive import folders_root, unpack, unpacked_path
from dask_parallel.worker.runtime_spec import RuntimeSpec, ShippedPath


class MissingFolder(RuntimeError):
    pass


class WorkerMirror:
    """Maps the client's paths to this worker's and collects what must go back."""

    def __init__(self, spec: RuntimeSpec, worker: Any) -> None:
        local = getattr(worker, "local_directory", None) or os.path.join(os.getcwd(), "dask-worker-space")
        self.base = os.path.join(local, "dask-parallel", "runs", spec.job_id)
        os.makedirs(self.base, exist_ok=True)
        self._outputs: list[tuple[str, str]] = []  # (worker folder, client folder)
        pairs: list[tuple[str, str]] = []
        for number, item in enumerate(spec.shipped):
            if item.kind == "output":
                mine = os.path.join(self.base, "outputs", f"{number:02d}")
                os.makedirs(mine, exist_ok=True)
                self._outputs.append((mine, item.client_path))
            else:
                mine = self._unpacked(item, worker, local)
            pairs.append((item.client_path, mine))
        pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
        self._pairs = pairs
        self._pattern = (
            re.compile("|".join(f"{re.escape(client)}(?=$|[/\\s,;:'\"=])" for client, _ in pairs))
            if pairs
            else None
        )
        self._mapping = dict(pairs)
        self._offsets: dict[str, int] = {}
        self._output_state: dict[str, tuple[int, int]] = {}

    @staticmethod
    def _unpacked(item: ShippedPath, worker: Any, local: str) -> str:
        root = folders_root(local)
        path = unpacked_path(root, item.digest or "", item.is_file, item.name)
        if os.path.exists(path):
            return path
        # The task arrived before the archive plugin's setup finished on this worker.
        plugins = getattr(worker, "plugins", {}) or {}
        for plugin in plugins.values():
            archive = getattr(plugin, "archive", None)
            if archive is not None and archive.digest == item.digest:
                return unpack(archive, root)
        raise MissingFolder(
            f"{item.client_path} was not delivered to this worker (archive {item.digest}); "
            "the job's archive plugin is not registered on it."
        )

    def rewrite(self, text: str) -> str:
        """``text`` with every client path replaced by this worker's copy."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._mapping[match.group(0)], text)

    def path(self, client_path: str) -> str:
        return self.rewrite(client_path)

    # -- inputs -------------------------------------------------------------------------
    def materialize(self, payload: Mapping[str, bytes | str], folder: str) -> dict[str, str]:
        """Write the delivered inputs under ``folder``: client path -> local copy."""
        local: dict[str, str] = {}
        names = [os.path.basename(path.rstrip("/")) for path in payload]
        flat = len(set(names)) == len(names)  # the usual case: no sub-folder per file needed
        os.makedirs(folder, exist_ok=True)
        for number, (client_path, content) in enumerate(sorted(payload.items())):
            name = os.path.basename(client_path.rstrip("/"))
            target = os.path.join(folder, name) if flat else os.path.join(folder, f"d{number:05d}", name)
            if not flat:
                os.makedirs(os.path.dirname(target), exist_ok=True)
            if isinstance(content, bytes):
                with open(target, "wb") as handle:
                    handle.write(content)
            elif is_remote(content):
                fs, path = filesystem(content)
                fs.get_file(path, target)
            else:
                raise ValueError(f"cannot deliver {client_path!r} from {content!r}")
            local[client_path] = target
        return local

    # -- what goes back -----------------------------------------------------------------
    def log_deltas(self, logs_dir: str, known: list[str] | None = None) -> dict[str, bytes]:
        """What each log file under ``logs_dir`` gained since the last call.

        ``known`` lists the files to look at (cheap: a stat each); without it the folder is
        walked (at shutdown, to catch files the script opened itself).
        """
        deltas: dict[str, bytes] = {}
        if known is None:
            known = [os.path.join(root, name) for root, _dirs, files in os.walk(logs_dir) for name in files]
        for path in known:
            offset = self._offsets.get(path, 0)
            try:
                size = os.stat(path).st_size
                if size <= offset:
                    continue
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read(size - offset)
            except OSError:
                continue
            self._offsets[path] = offset + len(data)
            deltas[os.path.relpath(path, logs_dir).replace(os.sep, "/")] = data
        return deltas

    def changed_outputs(self) -> dict[str, bytes]:
        """Output files written or changed since the last call: client path -> content."""
        changed: dict[str, bytes] = {}
        for mine, client in self._outputs:
            for root, _dirs, files in os.walk(mine):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    state = (info.st_size, info.st_mtime_ns)
                    if self._output_state.get(path) == state:
                        continue
                    with open(path, "rb") as handle:
                        data = handle.read()
                    self._output_state[path] = state
                    changed[os.path.join(client, os.path.relpath(path, mine))] = data
        return changed
