"""Before the first task: the workers run the same dask_parallel, Python, dask and distributed.

A mismatch breaks the pickles that cross between client and workers in ways that show up
as a stream of unrelated worker tracebacks; checked once, it is one clear message naming
the workers and their versions instead.
"""

from __future__ import annotations

from typing import Any

from distributed import Client

from dask_parallel.errors import JobValidationError

CHECKED = ("dask_parallel", "python", "dask", "distributed")


def _significant(package: str, version: Any) -> Any:
    """Python must agree on major.minor (pickle and bytecode); the packages exactly."""
    if package == "python" and isinstance(version, str):
        return ".".join(version.split(".")[:2])
    return version


def version_mismatches(versions: dict[str, Any]) -> list[str]:
    """Lines naming each worker whose versions differ from the client's (``Client.get_versions``)."""
    client = versions.get("client", {}).get("packages", {})
    problems = []
    for address, info in sorted((versions.get("workers") or {}).items()):
        packages = (info or {}).get("packages", {})
        differing = [
            f"{package} {packages.get(package) or 'missing'} (client {client.get(package) or 'missing'})"
            for package in CHECKED
            if _significant(package, packages.get(package)) != _significant(package, client.get(package))
        ]
        if differing:
            problems.append(f"{address}: " + ", ".join(differing))
    return problems


def installed_version() -> str:
    """dask_parallel's version in this process (run on each worker)."""
    import dask_parallel

    return dask_parallel.__version__


def check_versions(client: Client) -> None:
    """Raise :class:`JobValidationError` naming the workers whose versions differ."""
    versions: dict[str, Any] = client.get_versions(check=False)  # type: ignore[assignment]  # sync client
    versions["client"]["packages"]["dask_parallel"] = installed_version()
    # Asked of the module itself: a worker without dask_parallel answers with an error.
    answers = client.run(installed_version, on_error="return")
    workers = versions.get("workers") or {}
    for address in list(workers):
        answer = answers.get(address)
        if isinstance(answer, str):
            workers[address].setdefault("packages", {})["dask_parallel"] = answer
        elif isinstance(answer, ImportError) or "No module named" in str(answer):
            workers[address].setdefault("packages", {})["dask_parallel"] = None
        else:  # a worker closing or restarting right now: nothing to compare
            workers.pop(address)
    problems = version_mismatches(versions)
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more workers"] if len(problems) > 10 else [])
        raise JobValidationError(
            "the Dask workers do not run the same versions as this client, so the job cannot run "
            "on them:\n  " + "\n  ".join(shown) + "\nInstall the same dask_parallel, dask and distributed "
            "versions and the same Python minor version on the workers (a worker image built with "
            "`pip install dask_parallel==<this version>`), or connect to a matching cluster."
        )
