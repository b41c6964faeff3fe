"""The CLI in a subprocess: honest exit codes, one-paragraph errors, no tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def cli(*args, cwd, env):
    return subprocess.run(
        [sys.executable, "-m", "dask_parallel", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def example(tmp_path):
    target = tmp_path / "file_scoring"
    shutil.copytree(REPO / "conf" / "examples" / "file_scoring", target)
    return target


def test_run_example_job(example, tmp_path, python_env):
    done = cli("run", "job.yml", "--run-dir", str(tmp_path / "run"), "--json", cwd=example, env=python_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "Completed"
    assert summary["counts"]["mini_batches_total"] == 8 and summary["counts"]["items_succeeded"] == 40
    lines = Path(summary["outputs"]["scores"]).read_text().splitlines()
    assert len(lines) == 40 and lines[0].startswith("reading_000.txt: ")


def test_paths_resolve_against_the_yaml_folder(example, tmp_path, python_env):
    done = cli(
        "run", str(example / "job.yml"), "--run-dir", str(tmp_path / "run"), cwd=tmp_path, env=python_env
    )
    assert done.returncode == 0, done.stderr
    assert "Completed" in done.stdout


def test_failed_job_exits_1(example, tmp_path, python_env):
    (example / "src" / "score.py").write_text("def run(mb):\n    raise ValueError('broken model')\n")
    done = cli("run", "job.yml", "--run-dir", str(tmp_path / "run"), cwd=example, env=python_env)
    assert done.returncode == 1
    assert "Failed" in done.stdout
    assert "Traceback" not in done.stderr
    assert "broken model" in (tmp_path / "run" / "logs" / "job_error.txt").read_text()


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('mini_batch_size: "5"', 'mini_batch_size: "5 files"', "mini_batch_size must follow regex rule"),
        ("path: ./data", "path: ./nowhere", "inputs.readings: path"),
        ("entry_script: score.py", "entry_script: nope.py", "'nope.py' was not found"),
        ("logging_level: INFO", "logging_level: info", "Value 'info' passed is not in set"),
    ],
)
def test_invalid_job_exits_2_with_one_paragraph(example, tmp_path, python_env, old, new, message):
    text = (example / "job.yml").read_text()
    assert old in text
    (example / "job.yml").write_text(text.replace(old, new))
    done = cli("run", "job.yml", "--run-dir", str(tmp_path / "run"), cwd=example, env=python_env)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert message in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_empty_input_folder_exits_2(example, tmp_path, python_env):
    shutil.rmtree(example / "data")
    (example / "data").mkdir()
    done = cli("validate", "job.yml", cwd=example, env=python_env)
    assert done.returncode == 2
    assert "holds no files" in " ".join(done.stderr.split())  # however the paragraph wraps


def test_validate(example, python_env):
    done = cli("validate", "job.yml", cwd=example, env=python_env)
    assert done.returncode == 0, done.stderr
    assert "valid. 8 mini-batches of files input" in done.stdout
