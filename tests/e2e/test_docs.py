"""The ```python examples in README.md and docs/*.md run, each file's blocks as one script.

Each document's blocks are saved as a script file and run with ``python FILE`` in a fresh
process, in a temporary folder that holds a copy of the repository's conf/ (so
"conf/examples/..." paths work as they do from the repository's root). Also: documented
defaults match the shipped ones, and the examples the docs point at exist.
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
    """Each document's examples, saved as one script file and run in a fresh process, the
    way a user runs them: a LocalCluster's worker processes import that file again, so an
    example without ``if __name__ == "__main__":`` would start its job again in every worker
    (and hang), which ``python -c`` would never show."""
    script = tmp_path / f"{path.stem.replace('-', '_')}_example.py"
    script.write_text("\n\n".join(BLOCK.findall(path.read_text())))
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    python_env["DASK_DASK_PARALLEL__RUN_ROOT"] = str(tmp_path / "runs")
    python_env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(tmp_path / "reuse-cache")
    python_env["DASK_DASK_PARALLEL__LOCAL_CLUSTER__DASHBOARD_ADDRESS"] = "127.0.0.1:0"
    python_env["MPLBACKEND"] = "Agg"
    done = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        env=python_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{path.name} examples failed:\n{done.stderr[-4000:]}"


def test_examples_that_run_a_job_guard_it_for_scripts():
    """A block that runs a job does so under ``if __name__ == "__main__":``."""
    unguarded = []
    for path in WITH_CODE:
        for number, block in enumerate(BLOCK.findall(path.read_text()), start=1):
            top_level = [line for line in block.splitlines() if line and not line[0].isspace()]
            if any(re.search(r"(?<!def )\b(run|submit|resume)\(", line) for line in top_level):
                unguarded.append(f"{path.name} block {number}")
    assert unguarded == []


def _documented_defaults() -> dict[str, str]:
    rows = re.findall(
        r"^\| `([a-z.-]+)` \| `([^`]*)` \|", (REPO / "docs" / "configuration.md").read_text(), re.M
    )
    return dict(rows)


def test_configuration_defaults_match_the_shipped_ones():
    import yaml

    shipped = yaml.safe_load((REPO / "dask_parallel" / "dask_parallel.yaml").read_text())["dask-parallel"]

    def lookup(key: str):
        value = shipped
        for part in key.split("."):
            value = value[part]
        return value

    documented = _documented_defaults()
    assert {"submit-window-per-worker", "force-rerun", "progress-style", "run-root"} <= set(documented)
    for key, text in documented.items():
        assert yaml.safe_load(text) == lookup(key) or text == str(lookup(key)), key


def test_the_slurm_example_makes_workers_that_may_start_processes():
    import yaml

    kwargs = yaml.safe_load((REPO / "conf" / "clusters" / "slurm.yaml").read_text())["dask-parallel"][
        "cluster"
    ]
    assert "export DASK_DISTRIBUTED__WORKER__DAEMON=False" in kwargs["kwargs"]["job_script_prologue"]


def test_the_readme_names_the_extras_and_how_to_get_jupyter():
    readme = (REPO / "README.md").read_text()
    for extra in ("plot", "notebook", "delta"):
        assert f'pip install "dask_parallel[{extra}]"' in readme
    assert "pip install jupyterlab" in readme
