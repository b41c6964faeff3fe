"""Claiming a run directory: one process at a time, and never a folder that holds someone else's files.

``run.lock`` is created with ``O_EXCL`` (atomic: of two processes starting into the same
folder at once exactly one creates it) and holds the owner's PID, host and start time as
JSON. The loser gets :class:`RunDirBusyError` and leaves the winner's lock alone; the owner
removes the lock at the end only while it still holds its own content. A lock left by a
process that died on this host is taken over (through a second ``O_EXCL`` file, so two
processes cannot both take it over).

Standard library only: ``status`` reads the lock too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import time

from dask_parallel.errors import JobValidationError
from dask_parallel.rundir.layout import RunLayout

# What a run directory of ours may hold (pipeline runs hold step folders and pipeline.json,
# checked by the pipeline runner).
OWN_ENTRIES = frozenset(
    {
        "job.json",
        "ledger.jsonl",
        "run.lock",
        "parts",
        "attempts",
        "work",
        "outputs",
        "logs",
        "inputs",
        "plan",
        "plan.next",
    }
)
TAKEOVER_SUFFIX = ".takeover"


class RunDirBusyError(JobValidationError):
    """Another live process holds the run directory's ``run.lock``."""


@dataclasses.dataclass(frozen=True)
class LockHolder:
    """Who ``run.lock`` says runs the job."""

    pid: int
    host: str
    started: float | None = None

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    @property
    def alive(self) -> bool | None:
        """Whether the process is alive: ``None`` when it runs on another host (unknowable here)."""
        if not self.on_this_host:
            return None
        return pid_alive(self.pid)

    def describe(self) -> str:
        return f"process {self.pid} on host {self.host}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_lock(run_dir: str) -> LockHolder | None:
    """The holder ``run.lock`` names, or ``None`` without a (readable) lock.

    Reads both the JSON lock and the older one-line ``<pid>`` lock (taken to be this host's).
    """
    try:
        with open(RunLayout(run_dir).lock, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return None
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return LockHolder(int(data["pid"]), str(data.get("host") or ""), data.get("started"))
        return LockHolder(int(data), socket.gethostname())
    except (ValueError, KeyError, TypeError):
        try:
            return LockHolder(int(text.split()[0]), socket.gethostname())
        except (ValueError, IndexError):
            return None


def foreign_entries(run_dir: str, own: frozenset[str] = OWN_ENTRIES) -> list[str]:
    """Names in ``run_dir`` that no run of ours writes (temporary ``.tmp-`` files of ours included)."""
    try:
        names = sorted(os.listdir(run_dir))
    except FileNotFoundError:
        return []
    return [name for name in names if name not in own and name.split(".tmp-")[0] not in own]


def check_run_dir(run_dir: str, own: frozenset[str] = OWN_ENTRIES) -> None:
    """Refuse a path that is a file, or a folder holding anything a run of ours does not write."""
    if os.path.lexists(run_dir) and not os.path.isdir(run_dir):
        raise JobValidationError(
            f"run directory {run_dir!r} exists and is not a folder; choose another run_dir, or leave "
            "it out to get a fresh one."
        )
    foreign = foreign_entries(run_dir, own)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise JobValidationError(
            f"run directory {run_dir!r} already holds files that are not a dask_parallel run ({shown}); "
            "a run directory is written and cleaned by dask_parallel, so it must be new, empty, or an "
            "earlier run directory. Choose another run_dir, or leave it out to get a fresh one."
        )


def check_not_inside(run_dir: str, folders: dict[str, str]) -> None:
    """Refuse a run directory inside (or equal to) an input folder ``folders[name]``."""
    real = os.path.realpath(run_dir)
    for name, folder in folders.items():
        top = os.path.realpath(folder)
        if os.path.isdir(top) and os.path.commonpath([real, top]) == top:
            raise JobValidationError(
                f"run directory {run_dir!r} lies inside inputs.{name} ({folder!r}): its logs and "
                "parts would become part of the input. Choose a run_dir outside the input folder."
            )


class RunLock:
    """The held ``run.lock`` of a run directory; :meth:`release` removes only our own lock."""

    def __init__(self, run_dir: str) -> None:
        self.path = RunLayout(run_dir).lock
        self.run_dir = run_dir
        self.content = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})

    def acquire(self) -> RunLock:
        os.makedirs(self.run_dir, exist_ok=True)
        if self._create():
            return self
        holder = read_lock(self.run_dir)
        if holder is not None and holder.alive is False and self._take_over(holder):
            return self
        raise RunDirBusyError(_busy_message(self.run_dir, holder))

    def _create(self) -> bool:
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(self.content + "\n")
        return True

    def _take_over(self, stale: LockHolder) -> bool:
        """Replace a dead process's lock; only one of several processes doing so at once succeeds."""
        guard = self.path + TAKEOVER_SUFFIX
        try:
            descriptor = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(descriptor)
        try:
            if read_lock(self.run_dir) != stale:
                return False
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            return self._create()
        finally:
            with contextlib.suppress(OSError):
                os.remove(guard)

    def release(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                if handle.read().strip() != self.content:
                    return  # not ours (any more): never remove another process's lock
            os.remove(self.path)
        except OSError:
            pass


def check_not_busy(run_dir: str) -> None:
    """Refuse a run directory whose ``run.lock`` another process holds (before anything is written)."""
    holder = read_lock(run_dir)
    if (
        holder is not None
        and holder.alive is not False
        and not (holder.on_this_host and holder.pid == os.getpid())
    ):
        raise RunDirBusyError(_busy_message(run_dir, holder))


def _busy_message(run_dir: str, holder: LockHolder | None) -> str:
    if holder is None:
        who = "another process (its run.lock cannot be read)"
    else:
        who = holder.describe()
    text = f"run directory {run_dir!r} is in use by {who}"
    if holder is not None and holder.alive is None:
        text += (
            "; that host cannot be checked from here. If that process is gone, remove "
            f"{RunLayout(run_dir).lock!r} and try again"
        )
    return text + ". Wait for it to finish, or choose another run_dir."


def driver_state(run_dir: str) -> tuple[str, LockHolder] | None:
    """``("alive" | "dead" | "unknown", holder)`` for a held ``run.lock``, else ``None``."""
    holder = read_lock(run_dir)
    if holder is None:
        return None
    alive = holder.alive
    return ("unknown" if alive is None else "alive" if alive else "dead"), holder
