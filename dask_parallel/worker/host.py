"""The entry-script host that lives in every Dask worker process.

A :class:`~dask_parallel.worker.plugin.EntryScriptPlugin` is registered for each job; on
each worker it creates an :class:`EntryScriptHost` (cheap: no user code yet). The first mini-batch a process
receives imports the script and calls ``init()``; every mini-batch then calls ``run()``
under a watchdog; unregistering the plugin at the end of the job calls ``shutdown()``.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
import logging
import os
import shutil
import socket
import sys
import threading
import time
import traceback
import zlib
from typing import IO, Any

from dask_parallel import paths
from dask_parallel.batching import MiniBatch
from dask_parallel.execution.events import AttemptResult
from dask_parallel.execution.policies import exception_names
from dask_parallel.execution.state import Outcome
from dask_parallel.outputs.append_row import render_rows
from dask_parallel.paths import filesystem, is_remote
from dask_parallel.rundir.markers import classify_lost_attempt, marker_path, write_timeout_details
from dask_parallel.worker import streams
from dask_parallel.worker.mirror import WorkerMirror
from dask_parallel.worker.resource_monitor import ResourceMonitor
from dask_parallel.worker.runtime_spec import RuntimeSpec
from dask_parallel.worker.sandbox import (
    applied_environment,
    clear_current,
    current_host,
    remember_baseline,
    restore_environment,
    restore_process,
    set_current,
)
from dask_parallel.worker.user_code import MiniBatchContext, accepts_context, result_length
from dask_parallel.worker.watchdog import AttemptTimedOut, Watchdog

LOG_FORMAT = "%(asctime)s|%(name)s|%(levelname)s|%(process)d|%(message)s"
TRACEBACK_LIMIT = 8000


class InitFailed(Exception):
    pass


class HostState(str, enum.Enum):
    """Where a job's entry-script host is in its life, in one worker process."""

    NEW = "new"  # nothing prepared, no user code loaded
    PREPARED = "prepared"  # process settings and log files in place; init() has not succeeded yet
    READY = "ready"  # init() succeeded: run() may be called
    SHUT_DOWN = "shut_down"  # shutdown() was called; the process is back to its own settings


def _identity(worker: Any, concurrency: int) -> tuple[str, str]:
    """Azure-style node id and process name for this worker process."""
    name = getattr(worker, "name", None)
    if isinstance(name, int):
        return str(name // concurrency), f"process{name % concurrency:03d}"
    host = socket.gethostname()
    label = str(name or os.getpid())
    label = "".join(ch if ch.isalnum() else "_" for ch in label.split("://")[-1])
    return host, f"process_{label}"


class _UserLogFilter(logging.Filter):
    SYSTEM = ("distributed", "tornado", "bokeh", "asyncio", "dask", "fsspec", "urllib3")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(self.SYSTEM)


class EntryScriptHost:
    """Imports the entry script once, calls init() once, runs mini-batches, calls shutdown()."""

    def __init__(self, spec: RuntimeSpec, worker: Any = None) -> None:
        self.spec = spec
        self.worker = worker
        self.worker_address = getattr(worker, "address", "") or ""
        self.node_id, self.process_name = _identity(worker, spec.concurrency)
        self.pid = os.getpid()
        self.module: Any = None
        self.run_function: Any = None
        self.wants_context = False
        self.state = HostState.NEW
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._files: dict[str, Any] = {}
        self.mirror: WorkerMirror | None = None
        self.code_dir = spec.code_dir
        if spec.shared_filesystem:
            self.run_dir = spec.run_dir
        else:  # this worker's own copy of the run, sent back with each result
            local = getattr(worker, "local_directory", None) or os.path.join(os.getcwd(), "dask-worker-space")
            self.run_dir = os.path.join(local, "dask-parallel", "runs", spec.job_id)
        self.logs_dir = os.path.join(self.run_dir, "logs")
        # Workers inside the client's own process must not end it when a call hangs.
        self.in_client_process = spec.client_process == f"{socket.gethostname()}:{os.getpid()}"
        self.watchdog = Watchdog(self._on_timeout, exit_process=not self.in_client_process)
        self._current: tuple[str, str] | None = None  # (mini-batch id, token) being run
        self.monitor = None
        if spec.resource_monitor_interval > 0:  # --resource_monitor_interval
            perf = self._path("sys", "perf", self.node_id, f"{self.process_name}.csv")
            self.monitor = ResourceMonitor(perf, spec.resource_monitor_interval).start()

    # -- log files --------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        path = os.path.join(self.logs_dir, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def _file(self, key: str, *parts: str) -> IO[str]:
        handle = self._files.get(key)
        if handle is None:
            handle = open(self._path(*parts), "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._files[key] = handle
        return handle

    @property
    def stdout(self):
        return self._file("stdout", "user", "stdout", self.node_id, f"{self.process_name}.stdout.txt")

    @property
    def stderr(self):
        return self._file("stderr", "user", "stderr", self.node_id, f"{self.process_name}.stderr.txt")

    def sys_log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        self._file("sys", "sys", "node", self.node_id, f"{self.process_name}.txt").write(
            f"{stamp}|{self.process_name}|pid {self.pid}|{message}\n"
        )

    def user_error(self, message: str, trace: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        self._file("error", "user", "error", self.node_id, f"{self.process_name}.txt").write(
            f"{stamp} {message}\n{trace}\n"
        )

    @property
    def entry_log_path(self) -> str:
        return self._path("user", "entry_script_log", self.node_id, f"{self.process_name}.log.txt")

    @contextlib.contextmanager
    def _captured(self):
        with streams.captured(self.stdout, self.stderr):
            yield

    # -- lifecycle --------------------------------------------------------------------
    def _prepare_process(self) -> None:
        spec = self.spec
        argv = list(spec.argv)
        environment = {**spec.environment_variables, "AZUREML_BI_OUTPUT_PATH": spec.output_dir}
        if not spec.shared_filesystem:
            self.mirror = mirror = WorkerMirror(spec, self.worker)
            self.code_dir = mirror.path(spec.code_dir)
            argv = [mirror.rewrite(arg) for arg in argv]
            environment = {name: mirror.rewrite(value) for name, value in environment.items()}
        remember_baseline()
        streams.acquire()
        workdir = os.path.join(self.run_dir, "work", self.node_id, f"{self.process_name}-{self.pid}")
        os.makedirs(workdir, exist_ok=True)
        self.working_dir = workdir
        self._argv = [os.path.join(self.code_dir, spec.entry_script), *argv]
        self._environment = environment
        level = getattr(logging, spec.logging_level, logging.INFO)
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_UserLogFilter())
        handler.addFilter(lambda record: current_host() is self)  # only this job's lines
        handler.setLevel(level)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > level or root.level == logging.NOTSET:
            root.setLevel(level)
        self._root_handler = handler

    def activate(self) -> None:
        """Make the process look as this job's script expects: argv, environment, cwd.

        Called before every init() and run(), so jobs sharing a worker process (pipeline
        steps side by side on one cluster) never see each other's settings.
        """
        if current_host() is self:
            return
        sys.argv = list(self._argv)
        restore_environment(set(applied_environment) - set(self._environment))
        os.environ.update(self._environment)
        applied_environment.clear()
        applied_environment.update(self._environment)
        os.chdir(self.working_dir)
        if self.code_dir in sys.path:
            sys.path.remove(self.code_dir)
        sys.path.insert(0, self.code_dir)
        if self.module is not None:
            sys.modules[self.spec.module_name] = self.module
        set_current(self)

    @property
    def initialized(self) -> bool:
        return self.state is HostState.READY

    def ensure_initialized(self) -> None:
        with self._lock:
            if self.state is HostState.READY:
                return
            if self.state is HostState.SHUT_DOWN:
                raise InitFailed("init() not called: this job's host was already shut down", "")
            if self.state is HostState.NEW:
                try:
                    self._prepare_process()
                except Exception as exc:  # noqa: BLE001 - e.g. the code archive is missing
                    message = f"cannot prepare the worker for the entry script: {type(exc).__name__}: {exc}"
                    raise InitFailed(message, traceback.format_exc()) from None
                self.state = HostState.PREPARED
            self.activate()
            spec = self.spec
            self.sys_log("importing entry script and calling init()")
            started = time.monotonic()
            self.watchdog.arm(3 * spec.timeout + 30, "init")
            try:
                with self._captured():
                    module_spec = importlib.util.spec_from_file_location(
                        spec.module_name, os.path.join(self.code_dir, spec.entry_script)
                    )
                    if module_spec is None or module_spec.loader is None:
                        raise ImportError(f"cannot import the entry script {spec.entry_script!r} as a module")
                    module = importlib.util.module_from_spec(module_spec)
                    sys.modules[spec.module_name] = module
                    module_spec.loader.exec_module(module)
                    run_function = getattr(module, "run", None)
                    if not callable(run_function):
                        raise AttributeError(
                            f"entry script {spec.entry_script} defines no callable run(mini_batch)"
                        )
                    init = getattr(module, "init", None)
                    if callable(init):
                        init()
                    else:
                        logging.getLogger("dask_parallel").warning(
                            "entry script %s defines no init(); continuing", spec.entry_script
                        )
            except BaseException as exc:  # noqa: BLE001 - user code may raise anything
                self.watchdog.disarm()
                sys.modules.pop(spec.module_name, None)
                trace = traceback.format_exc()
                message = f"init() failed: {type(exc).__name__}: {exc}"
                self.user_error(message, trace)
                self.sys_log(message)
                raise InitFailed(message, trace) from None
            self.watchdog.disarm()
            self.module, self.run_function = module, run_function
            self.wants_context = accepts_context(run_function)
            self.state = HostState.READY
            self.sys_log(f"init() done in {time.monotonic() - started:.3f}s")

    def shutdown(self) -> None:
        with self._lock:
            if self.state is HostState.SHUT_DOWN:
                return
            previous, self.state = self.state, HostState.SHUT_DOWN
            if self.monitor is not None:
                self.monitor.stop()
            if previous is HostState.READY:
                shutdown = getattr(self.module, "shutdown", None)
                if callable(shutdown):
                    self.activate()
                    try:
                        with self._captured():
                            shutdown()
                        self.sys_log("shutdown() done")
                    except BaseException as exc:  # noqa: BLE001
                        self.user_error(f"shutdown() failed: {exc!r}", traceback.format_exc())
            handler = getattr(self, "_root_handler", None)
            if handler is not None:
                logging.getLogger().removeHandler(handler)
            if previous is not HostState.NEW:
                streams.release()
                if current_host() is self:
                    restore_process(self.spec.module_name, self.module)
            for handle in self._files.values():
                with contextlib.suppress(OSError):
                    handle.close()
            self._files.clear()
            clear_current(self)

    # -- one attempt ------------------------------------------------------------------
    def run_attempt(
        self, mb: MiniBatch, attempt: int, token: str, payload: dict[str, bytes | str] | None = None
    ) -> AttemptResult:
        result = self._attempt(mb, attempt, token, payload)
        if self.mirror is not None:  # no shared disk: the log files' news go back with the result
            known = [handle.name for handle in list(self._files.values())]
            known.append(os.path.join(self.logs_dir, "user", "entry_script_log", self.node_id,
                                      f"{self.process_name}.log.txt"))  # fmt: skip
            for handle in list(self._files.values()):
                with contextlib.suppress(ValueError, OSError):
                    handle.flush()
            result.logs = self.mirror.log_deltas(self.logs_dir, known) or None
            result.outputs = self.mirror.changed_outputs() or None
        return result

    def take_remaining_files(self) -> dict[str, dict[str, bytes]]:
        """After shutdown(): what the log and output files gained since the last result."""
        if self.mirror is None:
            return {"logs": {}, "outputs": {}}
        return {"logs": self.mirror.log_deltas(self.logs_dir), "outputs": self.mirror.changed_outputs()}

    def _marker(self, token: str, kind: str) -> str:
        return os.path.join(self.run_dir, "attempts", f"{token}.{kind}")

    def _report_event(self, **message: str) -> None:
        """Tell the client through the scheduler (workers without the client's disk)."""
        log_event = getattr(self.worker, "log_event", None)
        if log_event is not None:
            with contextlib.suppress(Exception):
                log_event(self.spec.events_topic, message)

    def _attempt(
        self, mb: MiniBatch, attempt: int, token: str, payload: dict[str, bytes | str] | None
    ) -> AttemptResult:
        spec = self.spec
        result = AttemptResult(
            mini_batch_id=mb.id,
            index=mb.index,
            attempt=attempt,
            outcome=Outcome.SUCCEEDED,
            total_items=mb.known_items,
            node_id=self.node_id,
            process_name=self.process_name,
            pid=self.pid,
            worker=self.worker_address,
            start_time=time.time(),
        )
        if spec.shared_filesystem and os.path.exists(marker_path(spec, token, "timeout")):
            # Dask re-ran a task whose call was stopped by the watchdog: report that instead.
            result.outcome, result.error = classify_lost_attempt(spec, token)
            return result
        if not self.initialized:
            self._mark_token("initializing", token)
        self._current = (mb.id, token)
        self._current_started = time.time()  # wall clock, for a timeout's report row
        clock = time.monotonic()
        initializing = not self.initialized
        try:
            self.ensure_initialized()
            if initializing:
                result.init_time = time.monotonic() - clock
        except InitFailed as exc:
            result.outcome, result.error, result.traceback = Outcome.INIT_ERROR, exc.args[0], exc.args[1]
            return result
        self._mark_token("started", token)
        self.activate()
        self.sys_log(f"mini batch {mb.index} ({mb.id}) attempt {attempt} picked: {mb.describe()}")
        staged: str | list[str] | None = None
        self._phase = "read"
        self.watchdog.arm(spec.task_overhead_timeout, "read")
        try:
            data, staged = self._load(mb, payload)
        except BaseException as exc:  # noqa: BLE001
            self.watchdog.disarm()
            trace = traceback.format_exc()
            result.outcome = Outcome.READ_ERROR
            result.error_names = exception_names(exc)
            result.error = f"cannot read mini batch {mb.index} ({mb.describe()}): {type(exc).__name__}: {exc}"
            result.traceback = trace[-TRACEBACK_LIMIT:]
            self.user_error(result.error, trace)
            return self._finish(result, clock)
        self.watchdog.disarm()
        total = len(data)
        result.total_items = total
        context = MiniBatchContext(mb.index, mb.id, mb.partition_key_value)
        self._phase = "run"
        run_started = time.monotonic()
        self.watchdog.arm(spec.timeout, "run")
        try:
            with self._captured():
                value = self.run_function(data, context) if self.wants_context else self.run_function(data)
        except AttemptTimedOut:
            result.outcome = Outcome.TIMEOUT
            result.error = (
                f"mini batch {mb.id} did not finish in {spec.timeout} seconds; the call was stopped."
            )
            self.user_error(f"mini batch {mb.index} ({mb.id}) attempt {attempt}: {result.error}", "")
            return self._finish(result, clock, staged)
        except BaseException as exc:  # noqa: BLE001
            self.watchdog.disarm()
            trace = traceback.format_exc()
            result.outcome = Outcome.RUN_ERROR
            result.error_names = exception_names(exc)
            result.error = f"run() raised {type(exc).__name__}: {exc}"
            result.traceback = trace[-TRACEBACK_LIMIT:]
            self.user_error(f"mini batch {mb.index} ({mb.id}) attempt {attempt}: {result.error}", trace)
            return self._finish(result, clock, staged)
        self.watchdog.disarm()
        result.run_time = time.monotonic() - run_started
        count = result_length(value)
        if count is None:
            result.outcome = Outcome.INVALID_RETURN
            result.error = (
                f"The type of return value is not a list or dataframe: {type(value).__name__}. "
                "run() must return a list, tuple or pandas DataFrame with one entry per "
                "successfully processed item."
            )
            self.user_error(f"mini batch {mb.index} ({mb.id}) attempt {attempt}: {result.error}", "")
            return self._finish(result, clock, staged)
        if count > total:
            self.sys_log(
                f"run() returned {count} items, which is more than input count {total}. Using the "
                "input count as succeeded count and continue."
            )
        result.succeeded_items = min(count, total)
        if spec.append_row and count:
            try:
                rows = render_rows(value, spec.to_csv, spec.dataframe_header).encode("utf-8")
                if not spec.shared_filesystem:  # the driver writes them into the client's run dir
                    result.rows = rows
                    return self._finish(result, clock, staged)
                with self._write_lock:  # a worker with several threads shares this file
                    stream = self._stream("rows", spec.parts_dir, "rows", binary=True)
                    stream.seek(0, os.SEEK_END)
                    result.part_offset = stream.tell()
                    stream.write(rows)
                    stream.flush()  # the range is complete before the driver hears of it
                result.part, result.part_length = stream.name, len(rows)
                result.part_crc = zlib.crc32(rows)
            except Exception as exc:  # noqa: BLE001 - e.g. a DataFrame with unprintable objects
                trace = traceback.format_exc()
                result.outcome = Outcome.INVALID_RETURN
                result.error = f"cannot write the rows returned by run(): {type(exc).__name__}: {exc}"
                result.traceback = trace[-TRACEBACK_LIMIT:]
                self.user_error(result.error, trace)
                result.part = None
                return self._finish(result, clock, staged)
        return self._finish(result, clock, staged)

    def _mark_token(self, kind: str, token: str) -> None:
        """Record that ``token`` reached ``kind`` (initializing, started), read after a loss:
        in ``attempts/`` on a shared disk, otherwise as an event the driver writes there."""
        if self.spec.shared_filesystem:
            self._log_token(kind, token)
        else:
            self._report_event(**{kind: token})

    def _log_token(self, kind: str, token: str) -> None:
        """Append ``token`` to this process's ``attempts/*.<kind>`` file, read after a loss."""
        with self._write_lock:
            stream = self._stream(kind, self.spec.markers_dir, kind)
            stream.write(f"{token}\n")
            stream.flush()

    def _stream(self, key: str, folder: str, suffix: str, binary: bool = False) -> IO[Any]:
        """This process's own append-only file in ``folder`` (rows, started tokens)."""
        handle = self._files.get(key)
        if handle is None:
            os.makedirs(folder, exist_ok=True)
            name = f"{self.node_id}-{self.process_name}-{self.pid}-{self.spec.job_id[:8]}.{suffix}"
            path = os.path.join(folder, name)
            handle = open(path, "ab") if binary else open(path, "a", encoding="utf-8")  # noqa: SIM115
            self._files[key] = handle
        return handle

    def _finish(
        self, result: AttemptResult, clock: float, staged: str | list[str] | None = None
    ) -> AttemptResult:
        result.elapsed = time.monotonic() - clock
        self._current = None
        if isinstance(staged, list):  # delivered files: the folder is reused by the next attempt
            for path in staged:
                with contextlib.suppress(OSError):
                    os.remove(path)
        elif staged:
            shutil.rmtree(staged, ignore_errors=True)
        self.sys_log(
            f"mini batch {result.index} ({result.mini_batch_id}) attempt {result.attempt} "
            f"{result.outcome.value}: items {result.total_items}, succeeded {result.succeeded_items}, "
            f"elapsed {result.elapsed:.3f}s, run() {result.run_time:.3f}s"
            + (f", error: {result.error}" if result.error else "")
        )
        return result

    def _load(
        self, mb: MiniBatch, payload: dict[str, bytes | str] | None = None
    ) -> tuple[Any, str | list[str] | None]:
        """The mini-batch's data for run(), and what to remove afterwards (a folder or files)."""
        delivered: dict[str, str] = {}
        if payload:
            if self.mirror is None:
                raise RuntimeError("inputs were sent to a worker that shares the client's disk")
            # One folder per thread, reused: creating and removing folders per attempt is slow.
            folder = os.path.join(self.working_dir, "inputs", f"t{threading.get_ident()}")
            delivered = self.mirror.materialize(payload, folder)
        if mb.block is not None:
            if self.spec.reader is None:
                raise RuntimeError(f"mini batch {mb.id} holds table rows but the job has no table reader")
            if not delivered:
                return self.spec.reader.read(mb.block), None
            paths.redirects.update(delivered)  # the readers open the delivered copies
            try:
                return self.spec.reader.read(mb.block), list(delivered.values())
            finally:
                for client_path in delivered:
                    paths.redirects.pop(client_path, None)
        if not any(is_remote(path) for path in mb.files):
            return [delivered.get(path, path) for path in mb.files], list(delivered.values()) or None
        staged = os.path.join(self.working_dir, "inputs", f"{mb.id}-{threading.get_ident()}")
        os.makedirs(staged, exist_ok=True)
        local = []
        for number, uri in enumerate(mb.files):
            if uri in delivered:
                local.append(delivered[uri])
                continue
            if not is_remote(uri):
                local.append(uri)
                continue
            fs, path = filesystem(uri)
            target = os.path.join(staged, f"{number:05d}", os.path.basename(path.rstrip("/")))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fs.get_file(path, target)
            local.append(target)
        return local, [*delivered.values(), staged] if delivered else staged

    def _on_timeout(self, label: str, stack: str) -> None:
        current = self._current
        spec = self.spec
        if label == "init":
            message = f"init() did not finish in {3 * spec.timeout + 30} seconds. Stopping this process."
        elif label == "read":
            message = (
                f"reading the mini batch did not finish in {spec.task_overhead_timeout} seconds "
                "(--task_overhead_timeout). Stopping this process."
            )
        else:
            mb_id = current[0] if current else "?"
            message = f"mini batch {mb_id} did not finish in {spec.timeout} seconds. Stopping this process."
        self.user_error(message, "Stack of the stopped call:\n" + stack)
        self.sys_log(message)
        if current is not None:
            started = getattr(self, "_current_started", None) or time.time()
            text = ("init: " if label == "init" else "") + message
            if spec.shared_filesystem:
                write_timeout_details(
                    spec,
                    current[1],
                    {
                        "node_id": self.node_id,
                        "process_name": self.process_name,
                        "pid": self.pid,
                        "worker": self.worker_address,
                        "start_time": started,
                        "elapsed": time.time() - started,
                    },
                )
            os.makedirs(os.path.dirname(self._marker(current[1], "timeout")), exist_ok=True)
            with open(self._marker(current[1], "timeout"), "w", encoding="utf-8") as out:
                out.write(text)
            if not spec.shared_filesystem:
                self._report_event(timeout=current[1], message=text)
                time.sleep(0.5)  # the event leaves with the worker's next batched send
        for handle in self._files.values():
            with contextlib.suppress(Exception):
                handle.flush()
