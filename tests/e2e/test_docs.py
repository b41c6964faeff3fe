"""The ```python examples in README.md and docs/*.md run, each file's blocks as one script.

They run in a subprocess, in a temporary folder that holds a copy of the repository's conf/
(so "conf/examples/..." paths work as they do from the repository's root).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
WITH_CODE = [path for path in DOCUMENTS if BLOCK.search(path.read_text())]
EXECUTED = WITH_CODE


def test_the_guides_have_examples():
    names = {path.name for path in WITH_CODE}
    assert {
        "README.md",
        "user-guide.md",
        "clusters.md",
        "configuration.md",
        "migration-from-azureml.md",
        "pipelines.md",
        "migration-v1-to-v2.md",
    } <= names


def test_docs_link_to_existing_files():
    missing = []
    for path in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
            if not (path.parent / target).exists():
                missing.append(f"{path.name}: {target}")
    assert missing == []


@pytest.mark.parametrize("path", WITH_CODE, ids=[path.name for path in WITH_CODE])
def test_python_examples_compile(path):
    for number, block in enumerate(BLOCK.findall(path.read_text()), start=1):
        compile(block, f"{path.name} python block {number}", "exec")


@pytest.mark.parametrize("path", EXECUTED, ids=[path.name for path in EXECUTED])
def test_python_examples_run(path, tmp_path, python_env):
    script = "\n\n".join(BLOCK.findall(path.read_text()))
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    python_env["DASK_DASK_PARALLEL__RUN_ROOT"] = str(tmp_path / "runs")
    python_env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(tmp_path / "reuse-cache")
    python_env["DASK_DASK_PARALLEL__LOCAL_CLUSTER__DASHBOARD_ADDRESS"] = "127.0.0.1:0"
    python_env["MPLBACKEND"] = "Agg"
    # Run with -c, like a notebook cell: a script file that starts a LocalCluster needs
    # `if __name__ == "__main__":` (worker processes re-import it), which the guide explains.
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=python_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{path.name} examples failed:\n{done.stderr[-4000:]}"
