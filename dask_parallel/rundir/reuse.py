"""The one reuse cache: completed deterministic runs, parallel jobs and pipeline command steps.

A run is reused when an identical one (same key) completed earlier and its outputs are
still exactly as it left them. Parallel jobs (``is_deterministic=True``, v1 ``allow_reuse``)
are keyed by :func:`key`: their settings, entry-script code, side inputs and input files
(path, size, version). Pipeline command steps are keyed by
:func:`dask_parallel.pipelines.reuse.step_key`. Both kinds share everything else:

- one location, the ``dask-parallel.reuse-cache`` setting (``~/.cache/dask-parallel/reuse``),
  one ``<key>.json`` file per key, written atomically (:mod:`dask_parallel.rundir.atomic`);
- one record format (:class:`ReuseRecord`): the run directory, its outputs, the outputs'
  state (:func:`outputs_state`), the status, the time and the run's :class:`JobResult`;
- one validity rule (:func:`still_valid`): the run directory still exists and every output
  is unchanged since the record was written (a deleted or edited output invalidates it).
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

RECORD_VERSION = 1


def cache_dir() -> str:
    """The cache folder: the ``dask-parallel.reuse-cache`` setting, user paths expanded."""
    folder = config.get("reuse-cache") or os.path.join("~", ".cache", "dask-parallel", "reuse")
    return os.path.abspath(os.path.expanduser(folder))


def key(spec: Any, identity: dict[str, Any], *, run_dir: str) -> str:
    """The reuse key of a parallel job: settings, entry-script code, input files, side inputs.

    It reads ``<definition>-<files>``: a run whose definition never completed before
    cannot be reused whatever its input, which :func:`completed_before` tells without
    listing the input (planning then streams, see dask_parallel.inputs.streaming).
    """
    return f"{definition_key(spec, run_dir=run_dir)}-{digest(identity['files'])[:32]}"


def definition_key(spec: Any, *, run_dir: str) -> str:
    """A digest of everything in the reuse key but the input files."""
    settings = json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str).replace(run_dir, "<RUN_DIR>")
    side_inputs = {}
    for name, value in spec.side_inputs.items():
        try:
            side_inputs[name] = tree_fingerprint(value) if exists(value) else value
        except Exception:  # noqa: BLE001 - a literal that merely looks like a path
            side_inputs[name] = value
    definition = {"settings": settings, "code": code_fingerprint(spec.code_dir), "side_inputs": side_inputs}
    return digest(definition)[:32]


def completed_before(spec: Any, *, run_dir: str) -> bool:
    """Whether a run of this definition (any input) is remembered: only then can one be reused."""
    prefix = definition_key(spec, run_dir=run_dir) + "-"
    try:
        with os.scandir(cache_dir()) as entries:
            return any(entry.name.startswith(prefix) for entry in entries)
    except OSError:
        return False


def outputs_state(outputs: dict[str, str]) -> dict[str, str | None]:
    """Each output's fingerprint (every file's path, size and version), None when it is absent."""
    state: dict[str, str | None] = {}
    for name, uri in outputs.items():
        try:
            state[name] = tree_fingerprint(uri) if exists(uri) else None
        except Exception:  # noqa: BLE001 - an unreadable output counts as absent
            state[name] = None
    return state


@dataclasses.dataclass(frozen=True)
class ReuseRecord:
    """What the cache remembers of one completed run (one ``<key>.json``)."""

    key: str
    run_dir: str
    outputs: dict[str, str]
    outputs_state: dict[str, str | None]
    status: str
    time: float
    result: dict[str, Any]
    """The run's :class:`JobResult` as a mapping (mini-batch counts, name, timings)."""
    version: int = RECORD_VERSION

    def job_result(self) -> JobResult:
        """The earlier run's result, marked as reused from its run directory."""
        fields = {f.name for f in dataclasses.fields(JobResult)}
        details = {k: v for k, v in self.result.items() if k in fields}
        details.update(run_dir=self.run_dir, outputs=dict(self.outputs), status=self.status)
        return JobResult(**{**details, "reused": True, "reused_from": self.run_dir})


def record_path(reuse_key: str) -> str:
    """Where the record of ``reuse_key`` is kept: ``<reuse-cache>/<key>.json``."""
    return os.path.join(cache_dir(), f"{reuse_key}.json")


def still_valid(record: ReuseRecord) -> bool:
    """The one validity rule: the run directory exists and its outputs are unchanged."""
    if not os.path.isdir(record.run_dir):
        logger.info("not reusing %s: its run directory is gone", record.run_dir)
        return False
    if outputs_state(record.outputs) != record.outputs_state:
        logger.info("not reusing %s: its outputs were deleted or changed since", record.run_dir)
        return False
    return True


def remember(reuse_key: str, result: JobResult) -> ReuseRecord:
    """Record ``result`` (a completed run) under ``reuse_key``, its outputs' state taken now."""
    record = ReuseRecord(
        key=reuse_key,
        run_dir=result.run_dir,
        outputs=dict(result.outputs),
        outputs_state=outputs_state(result.outputs),
        status=str(getattr(result.status, "value", result.status)),
        time=time.time(),
        result=dataclasses.asdict(result),
    )
    write_json_atomic(record_path(reuse_key), dataclasses.asdict(record), indent=2, default=str)
    return record


def read_record(reuse_key: str) -> ReuseRecord | None:
    """The record stored under ``reuse_key`` (valid or not); None if absent or unreadable."""
    path = record_path(reuse_key)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        record = ReuseRecord(**document)
    except (OSError, ValueError, TypeError):
        logger.info("ignoring the unreadable reuse record %s", path)
        return None
    if record.key != reuse_key or record.version != RECORD_VERSION:
        return None
    return record


def lookup(reuse_key: str) -> JobResult | None:
    """The earlier identical run's result (``reused=True``), if its record is still valid."""
    record = read_record(reuse_key)
    if record is None or not still_valid(record):
        return None
    try:
        return record.job_result()
    except TypeError:  # a record whose result does not fit JobResult
        return None


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
