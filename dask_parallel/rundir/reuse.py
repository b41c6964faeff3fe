"""Reuse of identical completed runs (``is_deterministic=True``, v1 ``allow_reuse``).

A run is identical when its settings, its entry-script code, its side inputs and its
input files (path, size, version) are the same. The earlier result is reused only while
its outputs are still exactly as that run left them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from typing import Any

from dask_parallel import config
from dask_parallel.paths import exists
from dask_parallel.rundir.atomic import write_json_atomic
from dask_parallel.rundir.fingerprint import code_fingerprint, digest, tree_fingerprint
from dask_parallel.rundir.result import JobResult

logger = logging.getLogger(__name__)


def cache_dir() -> str:
    folder = config.get("reuse-cache") or os.path.join("~", ".cache", "dask-parallel", "reuse")
    return os.path.abspath(os.path.expanduser(folder))


def key(spec: Any, identity: dict[str, Any], *, run_dir: str) -> str:
    settings = json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str).replace(run_dir, "<RUN_DIR>")
    side_inputs = {}
    for name, value in spec.side_inputs.items():
        try:
            side_inputs[name] = tree_fingerprint(value) if exists(value) else value
        except Exception:  # noqa: BLE001 - a literal that merely looks like a path
            side_inputs[name] = value
    return digest(
        {
            "settings": settings,
            "code": code_fingerprint(spec.code_dir),
            "files": identity["files"],
            "side_inputs": side_inputs,
        }
    )


def _outputs_state(outputs: dict[str, str]) -> dict[str, str | None]:
    state = {}
    for name, uri in outputs.items():
        try:
            state[name] = tree_fingerprint(uri) if exists(uri) else None
        except Exception:  # noqa: BLE001
            state[name] = None
    return state


def remember(reuse_key: str, result: JobResult, spec: Any) -> None:
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    record = {"result": dataclasses.asdict(result), "outputs_state": _outputs_state(result.outputs)}
    write_json_atomic(os.path.join(folder, f"{reuse_key}.json"), record, default=str)


def lookup(reuse_key: str) -> JobResult | None:
    """The earlier identical run's result, if its outputs are untouched."""
    path = os.path.join(cache_dir(), f"{reuse_key}.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        result = JobResult(**{**record["result"], "reused": True, "reused_from": record["result"]["run_dir"]})
    except (OSError, ValueError, TypeError):
        return None
    if not os.path.isdir(result.run_dir):
        return None
    if _outputs_state(result.outputs) != record["outputs_state"]:
        logger.info("not reusing %s: its outputs changed since", result.run_dir)
        return None
    return result


def record_reuse(earlier: JobResult, run_dir: str, spec: Any, *, announce: bool = True) -> JobResult:
    """Make ``run_dir`` the record of this run, which reused ``earlier``'s result.

    As Azure ML does for ``is_deterministic`` jobs, the new run exists (here: a run
    directory with job.json, the ledger and logs/job_result.txt saying "reused from ...")
    and its outputs are those of the earlier run. The reuse is announced on stderr and in
    the ``dask_parallel`` log, never on stdout, which may carry ``--json``.
    """
    now = time.time()
    logs = os.path.join(run_dir, "logs")
    os.makedirs(os.path.join(logs, "sys"), exist_ok=True)
    message = (
        f"Reusing the result of the identical earlier run {earlier.run_dir} (is_deterministic=True): "
        "same settings, entry-script code and input files, outputs untouched. To run again, pass "
        "--no-reuse (force_rerun=True in Python) or set is_deterministic: false."
    )
    document = {
        "job_id": None,
        "spec": dataclasses.asdict(spec),
        "mini_batches": earlier.mini_batches_total,
        "reused_from": earlier.run_dir,
        "result": dataclasses.asdict(earlier),
        "started": now,
    }
    with open(os.path.join(run_dir, "job.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True, default=str)
    with open(os.path.join(run_dir, "ledger.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": "reused", "time": now, "reused_from": earlier.run_dir}) + "\n")
        ended = {"event": "job", "time": now, "status": earlier.status, "reason": None}
        handle.write(json.dumps(ended) + "\n")
    with open(os.path.join(logs, "job_result.txt"), "w", encoding="utf-8") as handle:
        handle.write(f"{earlier.status}\n{message}\nOutputs: {json.dumps(earlier.outputs)}\n")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
    with open(os.path.join(logs, "sys", "master_role.txt"), "a", encoding="utf-8") as handle:
        handle.write(f"{stamp}|driver|{message}\n")
    logger.info(message)  # a warning would also reach stderr through logging's last-resort handler
    if announce:
        print(f"note: {message}", file=sys.stderr, flush=True)
    return dataclasses.replace(
        earlier,
        run_dir=run_dir,
        reused=True,
        reused_from=earlier.run_dir,
        started=now,
        finished=now,
        dashboard_link=None,
        name=getattr(spec, "name", None) or earlier.name,
    )
