"""``from azureml_user.parallel_run import EntryScript``, as Azure ML's runtime provides it.

Inside a dask_parallel job, ``EntryScript()`` describes the current worker process: its
logger writes to ``logs/user/entry_script_log/<node>/<process>.log.txt``. Outside a job
(unit-testing an entry script by hand) it behaves like Azure's local stub: logs go to the
console, ``output_dir`` is ``./output``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

__all__ = ["EntryScript"]

_FORMAT = "%(asctime)s|%(name)s|%(levelname)s|%(process)d|%(thread)d|%(funcName)s()|%(message)s"


class EntryScript:
    """A per-process singleton with the entry script's logger and folders."""

    _instance: EntryScript | None = None
    _owner: object | None = None
    _lock = threading.Lock()

    def __new__(cls) -> EntryScript:
        from dask_parallel.worker.sandbox import current_host

        host = current_host()
        with cls._lock:
            if cls._instance is None or cls._owner is not host:
                instance = super().__new__(cls)
                instance._configure(host)
                cls._instance, cls._owner = instance, host
            return cls._instance

    def _configure(self, host) -> None:
        if host is None:
            self.log_dir = "logs"
            self.output_dir = "output"
            self.working_dir = "."
            self.agent_name = "agent000"
            self.node_id = "0"
            self.logging_level = "INFO"
            self.dir = os.path.dirname(os.path.abspath(sys.argv[0] or "."))
            self.logger = logging.getLogger("EntryScript")
            return
        spec = host.spec
        self.node_id = host.node_id
        self.agent_name = host.process_name
        self.logging_level = spec.logging_level
        self.log_dir = os.path.join(spec.logs_dir, "user", "entry_script_log", host.node_id)
        self.working_dir = getattr(host, "working_dir", os.getcwd())
        self._output_dir = spec.output_dir
        self.dir = os.path.dirname(os.path.join(spec.code_dir, spec.entry_script))
        logger = logging.getLogger(f"EntryScript.{host.node_id}.{host.process_name}")
        logger.setLevel(getattr(logging, spec.logging_level, logging.INFO))
        logger.propagate = False
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        handler = logging.FileHandler(host.entry_log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
        self.logger = logger

    @property
    def output_dir(self) -> str:
        os.makedirs(self._output_dir, exist_ok=True)
        return self._output_dir

    @output_dir.setter
    def output_dir(self, value: str) -> None:
        self._output_dir = value

    def __reduce__(self):
        return (EntryScript, ())
