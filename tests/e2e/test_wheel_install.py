"""The package as users get it: a wheel installed into a fresh virtual environment.

The wheel is built from this checkout, installed (with its dependencies, from the package
index or pip's cache) into a new virtual environment outside the checkout, and the examples
run from a copy in a temporary folder with no ``PYTHONPATH``: a sub-package or data file
missing from the wheel fails here, where an editable install would hide it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _call(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment holding only the wheel and its dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    _call(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)],
        timeout=600,
    )
    wheels = list(dist.glob("dask_parallel-*.whl"))
    assert len(wheels) == 1, wheels
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DASK_"))}
    venv = root / "venv"
    # The interpreter this venv was made from, so that the fresh one has the same Python.
    base = getattr(sys, "_base_executable", sys.executable)
    _call([base, "-m", "venv", str(venv)], env=env, timeout=300)
    python = venv / "bin" / "python"
    _call([str(python), "-m", "pip", "install", "--quiet", str(wheels[0])], env=env, timeout=1200)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(root / "reuse-cache")
    env["DASK_DASK_PARALLEL__LOCAL_CLUSTER__DASHBOARD_ADDRESS"] = "127.0.0.1:0"
    return venv, env


@pytest.fixture
def examples(tmp_path) -> Path:
    target = tmp_path / "examples"
    shutil.copytree(REPO / "conf" / "examples", target)
    return target


def test_the_wheel_holds_every_sub_package_and_imports_from_site_packages(installed, tmp_path):
    venv, env = installed
    code = (
        "import importlib, pkgutil, dask_parallel, dask_parallel.mltable\n"
        "names = [m.name for m in pkgutil.walk_packages(dask_parallel.__path__, 'dask_parallel.')]\n"
        "[importlib.import_module(n) for n in names if not n.endswith('__main__')]\n"
        "print(dask_parallel.__file__)\n"
        "print('\\n'.join(names))\n"
    )
    done = _call([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=env, timeout=120)
    location, *listed = done.stdout.split()
    assert Path(location).is_relative_to(venv), location
    source_modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for path in (REPO / "dask_parallel").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert source_modules <= set(listed), sorted(source_modules - set(listed))
    data = _call(
        [str(venv / "bin" / "python"), "-c", "import dask_parallel.config as c; print(c.get('run-root'))"],
        cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert data.stdout.strip() == "dask-parallel-runs"


def test_file_and_tabular_jobs_run_from_the_wheel(installed, examples, tmp_path):
    venv, env = installed
    cli = str(venv / "bin" / "dask-parallel")
    _call(
        [cli, "run", "job.yml", "--quiet", "--run-dir", str(tmp_path / "files")],
        cwd=examples / "file_scoring", env=env, timeout=300,
    )  # fmt: skip
    assert len((tmp_path / "files" / "outputs" / "scores.txt").read_text().splitlines()) == 40
    _call(
        [cli, "run", "job.yml", "--quiet", "--run-dir", str(tmp_path / "table")],
        cwd=examples / "tabular_scoring", env=env, timeout=300,
    )  # fmt: skip
    rows = (tmp_path / "table" / "outputs" / "job_output_file.txt").read_text().splitlines()
    assert len(rows) == 150
    status = _call([cli, "status", str(tmp_path / "table")], cwd=tmp_path, env=env, timeout=120)
    assert "Completed" in status.stdout


def test_pipeline_runs_from_the_wheel(installed, examples):
    venv, env = installed
    env = {**env, "DASK_DASK_PARALLEL__PROGRESS": "false"}
    done = _call(
        [str(venv / "bin" / "python"), "pipeline_job.py"],
        cwd=examples / "pipeline", env=env, timeout=600,
    )  # fmt: skip
    assert "Completed" in done.stdout + done.stderr


def test_v1_parallel_run_step_runs_from_the_wheel(installed, tmp_path):
    venv, env = installed
    work = tmp_path / "v1"
    (work / "scripts").mkdir(parents=True)
    (work / "scripts" / "score.py").write_text(
        "import os\n\ndef init():\n    pass\n\n"
        "def run(mini_batch):\n    return [os.path.basename(p) + ': 7' for p in mini_batch]\n"
    )
    (work / "mnist").mkdir()
    for i in range(10):
        (work / "mnist" / f"{i}.png").write_bytes(bytes([i]))
    (work / "submit.py").write_text(
        textwrap.dedent(
            """
            from dask_parallel.v1 import (Dataset, Environment, Experiment, OutputFileDatasetConfig,
                                          ParallelRunConfig, ParallelRunStep, Pipeline)

            config = ParallelRunConfig(
                source_directory="scripts", entry_script="score.py", mini_batch_size="5",
                error_threshold=10, output_action="append_row", append_row_file_name="out.txt",
                environment=Environment("batch"), compute_target="cpu-cluster", node_count=1,
                process_count_per_node=2,
            )
            step = ParallelRunStep(
                name="digits", parallel_run_config=config,
                inputs=[Dataset.File.from_files("./mnist").as_named_input("mnist").as_mount()],
                output=OutputFileDatasetConfig(name="inferences"), allow_reuse=False,
            )
            if __name__ == "__main__":  # the local cluster's worker processes import this file
                run = Experiment("wheel").submit(Pipeline(steps=[step]))
                print("status", run.wait_for_completion(show_output=False))
                run.find_step_run("digits")[0].get_output_data("inferences").download("downloaded")
            """
        )
    )
    env = {**env, "DASK_DASK_PARALLEL__PROGRESS": "false"}
    done = _call([str(venv / "bin" / "python"), "submit.py"], cwd=work, env=env, timeout=600)
    assert "status Finished" in done.stdout
    rows = [line for path in (work / "downloaded").rglob("out.txt") for line in path.read_text().splitlines()]
    assert sorted(rows) == sorted(f"{i}.png: 7" for i in range(10))
