"""The example cluster configurations in conf/clusters/ use only settings dask_parallel knows."""

from __future__ import annotations

import importlib.resources

import pytest
import yaml

from tests.conftest import REPO

FILES = sorted((REPO / "conf" / "clusters").glob("*.yaml"))
DEFAULTS = yaml.safe_load(
    importlib.resources.files("dask_parallel").joinpath("dask_parallel.yaml").read_text()
)["dask-parallel"]


def unknown_keys(settings: dict, known: dict, prefix: str = "") -> list[str]:
    found = []
    for key, value in settings.items():
        if key not in known:
            found.append(prefix + key)
        elif isinstance(value, dict) and isinstance(known[key], dict) and known[key]:
            found += unknown_keys(value, known[key], f"{prefix}{key}.")
    return found


def test_the_examples_are_there():
    assert {"local.yaml", "scheduler.yaml", "slurm.yaml", "kubernetes.yaml"} <= {f.name for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_cluster_file_uses_known_settings(path):
    settings = yaml.safe_load(path.read_text())
    assert set(settings) <= {"dask-parallel", "distributed"}
    assert unknown_keys(settings["dask-parallel"], DEFAULTS) == []
    cluster = settings["dask-parallel"].get("cluster", {})
    if cluster.get("class"):
        module, _, name = cluster["class"].rpartition(".")
        assert module and name[0].isupper()
        assert isinstance(cluster.get("kwargs"), dict)
