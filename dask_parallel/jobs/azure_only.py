"""Which Azure-only settings a job sets: accepted, kept, and reported once as not used on Dask.

Compute targets, environments (images, conda files, registries), instance types and the
like describe Azure's machines. On Dask the workers' own Python environment runs the entry
script on the cluster the job is given, so these settings change nothing; saying so once
keeps a migrating user from wondering whether their conda file was installed.
"""

from __future__ import annotations

from typing import Any


def _describe_environment(environment: Any) -> str:
    describe = getattr(environment, "describe", None)
    if callable(describe):
        return str(describe())
    if isinstance(environment, dict):
        return ", ".join(f"{k} {v}" for k, v in environment.items())
    return str(environment)


def unused_settings(job: Any, where: str = "") -> list[str]:
    """``["compute (cpu-cluster)", "task.environment (image ...)"]`` for one job or step."""
    found = []
    for key in ("compute", "instance_type", "docker_args", "shm_size", "identity"):
        value = getattr(job, "azure_only", {}).get(key)
        if value:
            found.append(f"{where}{key} ({value})")
    resources = getattr(job, "resources", None)
    azure_only = getattr(resources, "azure_only", None)
    if callable(azure_only):
        found += [f"{where}resources.{key}" for key in azure_only()]
    task = getattr(job, "task", None)
    environment = getattr(task, "environment", None) or getattr(job, "environment", None)
    if environment:
        prefix = "task." if task is not None else ""
        found.append(f"{where}{prefix}environment ({_describe_environment(environment)})")
    return found


def unused_pipeline_settings(job: Any) -> list[str]:
    found = []
    settings = getattr(job, "settings", None)
    for key in ("default_compute", "default_datastore"):
        value = getattr(settings, key, None)
        if value:
            found.append(f"settings.{key} ({value})")
    for step, node in getattr(job, "jobs", {}).items():
        found += unused_settings(node, where=f"jobs.{step}.")
    return found


def unused_note(job: Any) -> str | None:
    """One line naming every Azure-only setting of ``job``, or None when there are none."""
    found = unused_pipeline_settings(job) if hasattr(job, "jobs") else unused_settings(job)
    if not found:
        return None
    return "not used on Dask (Azure-only settings, accepted and kept): " + "; ".join(found)


__all__ = ["unused_note", "unused_pipeline_settings", "unused_settings"]
