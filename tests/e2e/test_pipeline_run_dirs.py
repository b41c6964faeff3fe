"""A pipeline interrupted by SIGTERM is Canceled; status, logs and resume work on its run directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PREP = """
import os, shutil, sys
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
for name in sorted(os.listdir(sys.argv[1])):
    shutil.copy(os.path.join(sys.argv[1], name), out)
print("prepared", len(os.listdir(out)))
"""

SCORE = """
import os, time

def run(mini_batch):
    # slow while the marker file exists, so that the test can interrupt the step
    while os.path.exists(os.environ["SLOW_MARKER"]):
        time.sleep(0.2)
    return [os.path.basename(p) for p in mini_batch]
"""

PIPELINE = """
type: pipeline
jobs:
  prep:
    type: command
    code: ./src
    command: python prep.py ${{{{inputs.raw}}}} ${{{{outputs.clean}}}}
    inputs:
      raw: {{type: uri_folder, path: ./data}}
    outputs:
      clean: {{type: uri_folder}}
  score:
    type: parallel
    inputs:
      data: {{type: uri_folder, path: "${{{{parent.jobs.prep.outputs.clean}}}}"}}
    outputs:
      out: {{type: uri_file}}
    input_data: ${{{{inputs.data}}}}
    mini_batch_size: "2"
    max_concurrency_per_instance: 1
    retry_settings: {{timeout: 300}}
    environment_variables: {{SLOW_MARKER: "{marker}"}}
    task:
      type: run_function
      code: ./src
      entry_script: score.py
      append_row_to: ${{{{outputs.out}}}}
"""


def make_project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "prep.py").write_text(PREP)
    (tmp_path / "src" / "score.py").write_text(SCORE)
    (tmp_path / "data").mkdir()
    for i in range(6):
        (tmp_path / "data" / f"item_{i}.txt").write_text(str(i))
    (tmp_path / "slow").write_text("")
    (tmp_path / "pipeline.yml").write_text(PIPELINE.format(marker=tmp_path / "slow"))
    return tmp_path / "pipeline.yml"


def cli(args, cwd, env, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "dask_parallel", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_sigterm_cancels_a_pipeline_then_status_logs_and_resume(tmp_path, python_env):
    pipeline = make_project(tmp_path)
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "dask_parallel", "run", str(pipeline), "--run-dir", str(run_dir), "--quiet"],
        cwd=tmp_path,
        env=python_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (run_dir / "score" / "job.json").exists():  # the parallel step has started
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the parallel step never started"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=90)  # the step would otherwise run until the marker goes
    assert process.returncode == 130, stderr
    document = json.loads((run_dir / "pipeline.json").read_text())
    assert document["status"] == "Canceled"
    assert document["steps"]["prep"]["status"] == "Completed"
    assert document["steps"]["score"]["status"] == "Canceled"

    status = cli(["status", str(run_dir)], tmp_path, python_env)
    assert status.returncode == 0, status.stderr
    assert "pipeline" in status.stdout and "score: Canceled" in status.stdout
    status_json = json.loads(cli(["status", str(run_dir), "--json"], tmp_path, python_env).stdout)
    assert status_json["steps"]["prep"]["status"] == "Completed"
    logs = cli(["logs", str(run_dir)], tmp_path, python_env)
    assert logs.returncode == 0, logs.stderr
    assert "== step prep (Completed) ==" in logs.stdout and "== step score (Canceled) ==" in logs.stdout

    (tmp_path / "slow").unlink()
    resumed = cli(["resume", str(run_dir), "--json", "--quiet"], tmp_path, python_env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "Completed"
    # the finished command step is kept, not run again
    assert summary["steps"]["prep"]["reused_from"] == str(run_dir / "prep")
    prep_log = (run_dir / "prep" / "logs" / "user" / "std_log.txt").read_text()
    assert prep_log.count("$ python prep.py") == 1
    rows = Path(summary["steps"]["score"]["outputs"]["out"]).read_text().split()
    assert sorted(rows) == [f"item_{i}.txt" for i in range(6)]
    assert json.loads((run_dir / "pipeline.json").read_text())["status"] == "Completed"
