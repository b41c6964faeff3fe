"""The exception tree of dask_parallel, in one place.

::

    DaskParallelError
    ├── JobValidationError          the job definition is wrong (CLI exit code 2)
    │   ├── InputError              an input path is missing, unreadable or empty
    │   ├── EntryScriptError        the entry script is missing or has no run()
    │   └── MLTableError            an MLTable file is malformed or cannot be read
    ├── ResumeError                 a run directory cannot be resumed as asked
    ├── ClusterError                the scheduler address is malformed or cannot be reached
    └── JobCanceledError            the user interrupted the job (Ctrl-C, SIGTERM)

Every exception pickles with its message, because some are raised on a worker and
re-raised on the client.
"""

from __future__ import annotations


class DaskParallelError(Exception):
    """Base class of every error raised by dask_parallel itself.

    URLs in the message lose their query strings and credentials (SAS tokens, passwords):
    see :mod:`dask_parallel.redact`.
    """

    def __init__(self, *args: object) -> None:
        from dask_parallel.redact import redact_text

        super().__init__(*(redact_text(arg) if isinstance(arg, str) else arg for arg in args))


class JobValidationError(DaskParallelError, ValueError):
    """The job definition (Python arguments, YAML file or CLI flags) is invalid."""


class InputError(JobValidationError):
    """An input path is missing, unreadable, or holds no data to process."""


class EntryScriptError(JobValidationError):
    """The entry script cannot be found or does not define ``run``."""


class MLTableError(JobValidationError):
    """An MLTable file is malformed, uses an unsupported option, or cannot be read."""


class ResumeError(DaskParallelError):
    """A run directory cannot be resumed (missing, finished, or changed since)."""


class ClusterError(DaskParallelError):
    """The scheduler address (``--scheduler``, ``run(client=...)``, ``dask-parallel.cluster.address``)
    is malformed or no scheduler answers there (CLI exit code 2)."""


class JobCanceledError(DaskParallelError):
    """The job was canceled by the user."""


__all__ = [
    "ClusterError",
    "DaskParallelError",
    "EntryScriptError",
    "InputError",
    "JobCanceledError",
    "JobValidationError",
    "MLTableError",
    "ResumeError",
]
