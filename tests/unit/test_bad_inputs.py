"""A corpus of bad inputs: each ends in exit code 2 with a message naming the problem.

Every case runs in this process (``dask_parallel.cli.main`` or the Python API) and must fail
during validation: starting a cluster counts as a failure of the case. Each case also checks
that no traceback is printed and that no run directory is left behind.
"""
# ruff: noqa: E501 - one row per case keeps the corpus readable

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest

import dask_parallel as dp
from dask_parallel import cli
from dask_parallel.errors import DaskParallelError, JobValidationError

SCRIPT = "def init():\n    pass\n\n\ndef run(mini_batch):\n    return mini_batch\n"
JOB = """\
type: parallel
name: score
inputs:
  data: {type: uri_folder, path: ./data}
  model: {type: uri_folder, path: ./data}
  threshold: 0.5
outputs:
  out: {type: uri_file, path: ./out/result.txt}
input_data: ${{inputs.data}}
mini_batch_size: "1"
max_concurrency_per_instance: 1
retry_settings:
  max_retries: 2
  timeout: 60
environment_variables:
  MODE: fast
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --model ${{inputs.model}}
  append_row_to: ${{outputs.out}}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(SCRIPT)
    (tmp_path / "src" / "noop.py").write_text("x = 1\n")
    (tmp_path / "data").mkdir()
    for i in range(3):
        (tmp_path / "data" / f"item_{i}.txt").write_text(str(i))
    (tmp_path / "empty").mkdir()
    (tmp_path / "table").mkdir()
    (tmp_path / "table" / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "table" / "MLTable").write_text(
        "paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: {delimiter: ','}\n"
    )
    (tmp_path / "files").mkdir()  # an MLTable that lists files (not tabular)
    (tmp_path / "files" / "a.txt").write_text("a")
    (tmp_path / "files" / "MLTable").write_text("paths:\n  - pattern: ./*.txt\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "job.yml").write_text(JOB)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DASK_PARALLEL_RUN_ROOT", str(tmp_path / "runs"))

    def no_cluster(*args, **kwargs):
        raise AssertionError("validation passed and a cluster was about to start")

    monkeypatch.setattr("dask_parallel.engine.connect", no_cluster)
    return tmp_path


def cli_fails(project: Path, capsys, args: list[str], pattern: str, code: int = 2) -> str:
    """Run the CLI in this process; check the exit code, the message, no traceback, no run dir."""
    before = sorted(p.name for p in project.iterdir())
    try:
        exit_code = cli.main(args)
    except SystemExit as stop:  # argparse
        exit_code = stop.code
    captured = capsys.readouterr()
    text = " ".join((captured.err + captured.out).split())  # messages are wrapped to the terminal
    assert exit_code == code, text
    assert re.search(pattern, text, re.S), text
    assert "Traceback" not in text and "likely a bug" not in text, text
    after = sorted(p.name for p in project.iterdir())
    assert after == before, f"left behind: {set(after) - set(before)}"
    assert not (project / "runs").exists()
    return text


def edited(project: Path, old: str, new: str) -> str:
    text = JOB if old == "" else JOB.replace(old, new, 1)
    assert old == "" or text != JOB, f"{old!r} not in the job file"
    if old == "":
        text += new
    (project / "bad.yml").write_text(text)
    return "bad.yml"


# (old text of the job file, its replacement, what the message must say)
YAML_CASES = [
    # a parallel job's keys in a command job file: the command schema names the first stranger
    ("type: parallel", "type: command", r"line \d+: unknown key 'input_data'"),
    ("type: parallel\n", "", r"type None is not supported"),
    ("name: score", "name: Score-Job", r"Component name should only contain lower letter"),
    ("name: score", "name: [a]", r"line 2: name \['a'\] is invalid"),
    ('mini_batch_size: "1"', "mini_batch_size: 1", r"mini_batch_size: Not a valid string.*quote it"),
    ('mini_batch_size: "1"', 'mini_batch_size: "0"', r"mini_batch_size must be at least 1 \(got '0'\)"),
    ('mini_batch_size: "1"', 'mini_batch_size: "10kb"', r"'10kb' is a size in bytes.*tabular.*uri_folder"),
    ('mini_batch_size: "1"', 'mini_batch_size: "1.5"', r"mini_batch_size must follow regex rule"),
    ('mini_batch_size: "1"', 'mini_batch_size: "-1"', r"mini_batch_size must follow regex rule"),
    ('mini_batch_size: "1"', 'mini_batch_size: "10 kb"', r"mini_batch_size must follow regex rule"),
    ('mini_batch_size: "1"', 'mini_batch_size: "10tb"', r"mini_batch_size must follow regex rule"),
    (
        "max_concurrency_per_instance: 1",
        "max_concurrency_per_instance: 0",
        r"max_concurrency_per_instance must be an integer >= 1",
    ),
    (
        "max_concurrency_per_instance: 1",
        "max_concurrency_per_instance: two",
        r"max_concurrency_per_instance: Not a valid integer",
    ),
    (
        "max_concurrency_per_instance: 1",
        "max_concurrency_per_instance: true",
        r"max_concurrency_per_instance: Not a valid integer",
    ),
    ("max_retries: 2", "max_retries: 0", r"retry_settings.max_retries must be an integer >= 1"),
    ("max_retries: 2", "retries: 2", r"unknown key retry_settings.'retries'"),
    ("timeout: 60", "timeout: 0", r"retry_settings.timeout must be an integer >= 1"),
    ("timeout: 60", "timeout: 259201", r"\(0, 259200\]"),
    (
        "input_data: ${{inputs.data}}",
        "input_data: data",
        r"input_data must be a binding to one declared input",
    ),
    (
        "input_data: ${{inputs.data}}",
        "input_data: ${{inputs.other}}",
        r"input_data refers to inputs.other, which is not declared",
    ),
    ("input_data: ${{inputs.data}}\n", "", r"input_data is required"),
    ("path: ./data}\n  model", "path: ./missing}\n  model", r"inputs.data: path .*missing' does not exist"),
    ("path: ./data}\n  model", "path: ./empty}\n  model", r"inputs.data: .*empty' holds no files"),
    (
        "  data: {type: uri_folder",
        "  data: {type: uri_folderz",
        r"line 4: Input: type 'uri_folderz' is not allowed",
    ),
    (
        "  data: {type: uri_folder, path: ./data}",
        "  data: {type: uri_folder, path: ./data, colour: red}",
        r"unknown key inputs.data.'colour'",
    ),
    (
        "  data: {type: uri_folder, path: ./data}",
        "  data: {type: uri_folder, path: ./data, mode: teleport}",
        r"line 4: Input: mode 'teleport' is not allowed",
    ),
    (
        "  out: {type: uri_file, path: ./out/result.txt}",
        "  out: {type: uri_file, path: ./out}",
        r"outputs.out: .*out' is an existing folder, but the output is a file",
    ),
    (
        "  out: {type: uri_file, path: ./out/result.txt}",
        "  out: {type: uri_folder, path: ./out/result.txt, shape: round}",
        r"unknown key outputs.out.'shape'",
    ),
    (
        "outputs:\n  out:",
        "outputs:\n  ../../escape:",
        r"outputs\.\.\./\.\./escape: output names must be identifiers",
    ),
    ("outputs:\n  out:", "outputs:\n  1st:", r"output names must be identifiers"),
    ("inputs:\n  data:", "inputs:\n  data-set:", r"inputs.data-set: input names must be identifiers"),
    (
        "inputs:\n  data: {type: uri_folder, path: ./data}\n  model: {type: uri_folder, path: ./data}\n  threshold: 0.5\n",
        "inputs: 5\n",
        r"inputs must be a mapping \(got 5\)",
    ),
    (
        "outputs:\n  out: {type: uri_file, path: ./out/result.txt}\n",
        "outputs: [a]\n",
        r"outputs must be a mapping",
    ),
    ("  type: run_function\n", "", r"'type' is required for ParallelTask"),
    ("  type: run_function", "  type: lambda", r"task.type: Value 'lambda' passed is not in set"),
    ("  entry_script: score.py", "  entry_script: scroe.py", r"'scroe\.py' was not found"),
    ("  entry_script: score.py", "  entry_script: noop.py", r"noop.py defines no run\(mini_batch\) function"),
    ("  code: ./src", "  code: ./nowhere", r"task.code: folder .*nowhere' does not exist"),
    (
        "  code: ./src",
        "  code: abfss://c@acct.dfs.core.windows.net/src?sig=SECRETSIG",
        r"task.code .* is remote",
    ),
    (
        "  program_arguments: --model ${{inputs.model}}",
        '  program_arguments: "--model \'unclosed"',
        r"task.program_arguments cannot be split into arguments \(No closing quotation\)",
    ),
    (
        "  program_arguments: --model ${{inputs.model}}",
        "  program_arguments: --model ${{inputs.nope}}",
        r"program_arguments uses \$\{\{inputs.nope\}\}, which is not declared",
    ),
    (
        "  program_arguments: --model ${{inputs.model}}",
        "  program_arguments: --task_overhead_timeout never",
        r"--task_overhead_timeout",
    ),
    (
        "  program_arguments: --model ${{inputs.model}}",
        "  program_arguments: --allowed_failed_percent 150",
        r"allowed_failed_percent",
    ),
    (
        "  append_row_to: ${{outputs.out}}",
        "  append_row_to: ${{outputs.nope}}",
        r"task.append_row_to refers to outputs.nope, which is not declared",
    ),
    ("  MODE: fast", "  1MODE: fast", r"environment_variables: '1MODE' is not a valid variable name"),
    ("  MODE: fast", '  "A=B": fast', r"environment_variables: 'A=B' is not a valid variable name"),
    ("  MODE: fast", "  MODE: [a, b]", r"environment_variables.MODE must be a string"),
    ("  MODE: fast", '  MODE: "a\\0b"', r"environment_variables.MODE holds a NUL character"),
    ("  MODE: fast", "  MODE:", r"environment_variables.MODE must be a string"),
    (
        "environment_variables:\n  MODE: fast\n",
        "environment_variables: [MODE, fast]\n",
        r"environment_variables must be a mapping of names to values",
    ),
    (
        "environment_variables:\n  MODE: fast\n",
        "environment_variables: MODE=fast\n",
        r"environment_variables must be a mapping",
    ),
    ("", "name: again\n", r"key 'name' appears twice in one mapping \(lines 2 and \d+\)"),
    (
        "  max_retries: 2\n",
        "  max_retries: 2\n  max_retries: 3\n",
        r"key 'max_retries' appears twice in one mapping \(lines \d+ and \d+\)",
    ),
    ("", "not_a_key: 1\n", r"unknown key 'not_a_key'"),
    ("", "error_threshold: -2\n", r"error_threshold must be an integer >= -1"),
    ("", "mini_batch_error_threshold: 1.5\n", r"mini_batch_error_threshold: Not a valid integer"),
    ("", "logging_level: debug\n", r"Value 'debug' passed is not in set"),
    ("", "partition_keys: Store\n", r"partition_keys must be a list"),
    ("", "is_deterministic: maybe\n", r"is_deterministic must be true or false"),
    ("", "component: ./c.yml\n", r"unknown key 'component'"),
    ("", "resources: {instance_count: 0}\n", r"instance_count must be an integer >= 1 \(got 0\)"),
    ("type: parallel", "type: parallel\n  nested: [", r"not valid YAML"),
    ("type: parallel", "- a list", r"not valid YAML|must be a YAML mapping"),
]


@pytest.mark.parametrize(
    "old, new, pattern", YAML_CASES, ids=[f"yaml{i:02d}" for i in range(len(YAML_CASES))]
)
def test_bad_job_file(project, capsys, old, new, pattern):
    job = edited(project, old, new)
    cli_fails(project, capsys, ["run", job, "--quiet"], pattern)


SET_CASES = [
    (["inputs=5"], r"inputs must be a mapping \(got 5\).*--set given: inputs=5"),
    (["outputs=x"], r"outputs must be a mapping"),
    (["mini_batch_size=0"], r"mini_batch_size must be at least 1"),
    (["mini_batch_size=10kb"], r"'10kb' is a size in bytes"),
    (["mini_batch_size"], r"--set 'mini_batch_size': expected KEY=VALUE"),
    (["=5"], r"--set '=5': expected KEY=VALUE"),
    (["max_concurrency_per_instance=zero"], r"max_concurrency_per_instance: Not a valid integer"),
    (["retry_settings.max_retries=0"], r"retry_settings.max_retries must be an integer >= 1"),
    (["retry_settings=3"], r"retry_settings must be a mapping \(got 3\)"),
    (["name.first=x"], r"name in .* is 'score', not a mapping"),
    (["environment_variables.1X=y"], r"'1X' is not a valid variable name"),
    (["environment_variables=[a]"], r"environment_variables must be a mapping"),
    (["inputs.data.path=./missing"], r"missing' does not exist"),
    (["task.entry_script=other.py"], r"'other\.py' was not found"),
    (["task.program_arguments=--a 'b"], r"No closing quotation"),
    (["outputs.out.path=./out"], r"is an existing folder, but the output is a file"),
    (["type=pipeline"], r"type 'pipeline' is not supported"),
    (["unknown_key=1"], r"unknown key 'unknown_key'"),
    (
        ["outputs.out.path=./data/item_0.txt/out/result.txt"],
        r"outputs\.out: the path .* runs through .*item_0\.txt', which is a file",
    ),
    (
        ["outputs.out.path=/proc/dask-parallel/result.txt"],
        r"outputs\.out: the path '/proc/dask-parallel' lies in /proc",
    ),
    (
        ["inputs.data.type=mltable", "inputs.data.path=./files", "mini_batch_size=10kb"],
        r"inputs\.data: mini_batch_size is a size in bytes.*this MLTable lists files",
    ),
]


@pytest.mark.parametrize("sets, pattern", SET_CASES, ids=[f"set{i:02d}" for i in range(len(SET_CASES))])
def test_bad_set_override(project, capsys, sets, pattern):
    args = ["run", "job.yml", "--quiet"]
    for item in sets:
        args += ["--set", item]
    cli_fails(project, capsys, args, pattern)


def api_job(project: Path, **overrides):
    settings = dict(
        name="score",
        inputs={"data": dp.Input(type="uri_folder", path=str(project / "data"))},
        outputs={"out": dp.Output(type="uri_file", path=str(project / "out" / "r.txt"))},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(
            code=str(project / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    settings.update(overrides)
    return dp.parallel_run_function(**settings)


API_CASES = [
    ({"mini_batch_size": "0"}, r"mini_batch_size must be at least 1"),
    ({"mini_batch_size": "5mb"}, r"'5mb' is a size in bytes"),
    ({"mini_batch_size": 10}, r"mini_batch_size must be a string"),
    ({"environment_variables": ["A", "B"]}, r"environment_variables must be a mapping of names to values"),
    ({"environment_variables": "A=B"}, r"environment_variables must be a mapping"),
    ({"environment_variables": {"": "x"}}, r"'' is not a valid variable name"),
    ({"environment_variables": {"A B": "x"}}, r"'A B' is not a valid variable name"),
    ({"environment_variables": {1: "x"}}, r"1 is not a valid variable name"),
    ({"environment_variables": {"A": None}}, r"environment_variables.A must be a string"),
    ({"environment_variables": {"A": "x\0"}}, r"NUL character"),
    ({"outputs": {"../../x": dp.Output()}}, r"output names must be identifiers"),
    (
        {"outputs": {"/abs": dp.Output()}, "task": dp.RunFunction(code="src", entry_script="score.py")},
        r"output names must be identifiers",
    ),
    (
        {"inputs": {"a.b": dp.Input(type="uri_folder")}, "input_data": "${{inputs.a.b}}"},
        r"inputs.a.b: input names must be identifiers",
    ),
    ({"max_concurrency_per_instance": 0}, r"max_concurrency_per_instance must be an integer >= 1"),
    ({"error_threshold": "x"}, r"error_threshold must be an integer"),
    ({"retry_settings": {"timeout": -1}}, r"retry_settings.timeout must be an integer >= 1"),
    ({"logging_level": "TRACE"}, r"Value 'TRACE' passed is not in set"),
    ({"name": "Bad Name"}, r"Component name should only contain lower letter"),
    ({"not_an_argument": 1}, r"unexpected argument 'not_an_argument'"),
    ({"is_deterministic": "yes"}, r"is_deterministic must be true or false"),
]


@pytest.mark.parametrize("overrides, pattern", API_CASES, ids=[f"api{i:02d}" for i in range(len(API_CASES))])
def test_bad_python_job(project, overrides, pattern):
    with pytest.raises(JobValidationError, match=pattern):
        dp.run(api_job(project, **overrides), run_dir=str(project / "run"))
    assert not (project / "run").exists() and not (project / "runs").exists()


RUN_API_CASES = [
    (
        lambda p: dict(
            task=dp.RunFunction(code=str(p / "src"), entry_script="score.py", program_arguments="--x 'y")
        ),
        r"No closing quotation",
    ),
    (
        lambda p: dict(outputs={"out": dp.Output(type="uri_file", path=str(p / "out"))}),
        r"is an existing folder, but the output is a file",
    ),
    (
        lambda p: dict(inputs={"data": dp.Input(type="uri_folder", path=str(p / "nope"))}),
        r"inputs.data: path .* does not exist",
    ),
    (
        lambda p: dict(
            inputs={"data": dp.Input(type="uri_folder", path="https://h/c/data?sv=1&sig=SECRETSIG")}
        ),
        r"inputs.data: path 'https://h/c/data\?<redacted>' does not exist",
    ),
    (
        lambda p: dict(task=dp.RunFunction(code=str(p / "src"), entry_script="missing.py")),
        r"'missing\.py' was not found",
    ),
]


@pytest.mark.parametrize(
    "make, pattern", RUN_API_CASES, ids=[f"apirun{i}" for i in range(len(RUN_API_CASES))]
)
def test_bad_python_job_at_run(project, make, pattern):
    with pytest.raises(DaskParallelError, match=pattern) as info:
        dp.run(api_job(project, **make(project)), run_dir=str(project / "run"))
    assert "SECRETSIG" not in str(info.value)
    assert not (project / "run").exists()


MLTABLE_CASES = [
    ("paths: [\n", r"not valid YAML"),
    ("- a list\n", r"must be a mapping with a 'paths' list"),
    ("paths: [{file: ./a.csv}]\ncolumns: [a]\n", r"unknown key 'columns'"),
    (
        "paths: [{file: ./missing.csv}]\ntransformations:\n  - read_delimited: {delimiter: ','}\n",
        r"paths: file './missing\.csv' does not exist",
    ),
    (
        "paths: [{file: ./a.csv}]\ntransformations:\n  - read_delimited: {delimiter: ',', colour: 1}\n",
        r"read_delimited: unknown option 'colour'",
    ),
    ("paths: [{file: ./a.csv}]\ntransformations:\n  - explode: {}\n", r"unknown transformation 'explode'"),
    ("paths: []\n", r"'paths' is required: a non-empty list"),
    ("paths: [{folder: ./a.csv, file: ./a.csv}]\n", r"paths\[0\] must be exactly one of"),
]


@pytest.mark.parametrize(
    "text, pattern", MLTABLE_CASES, ids=[f"mltable{i}" for i in range(len(MLTABLE_CASES))]
)
def test_bad_mltable_input(project, capsys, text, pattern):
    (project / "table" / "MLTable").write_text(text)
    job = edited(
        project, "  data: {type: uri_folder, path: ./data}", "  data: {type: mltable, path: ./table}"
    )
    cli_fails(project, capsys, ["run", job, "--quiet", "--set", "mini_batch_size=1kb"], pattern)


def test_mltable_input_without_mltable_file(project, capsys):
    (project / "table" / "MLTable").unlink()
    job = edited(
        project, "  data: {type: uri_folder, path: ./data}", "  data: {type: mltable, path: ./table}"
    )
    cli_fails(project, capsys, ["run", job, "--quiet"], r"inputs.data: .*MLTable does not exist")


# -- run directories ---------------------------------------------------------------------


def test_run_dir_with_user_files(project, capsys):
    (project / "mine").mkdir()
    (project / "mine" / "notes.txt").write_text("keep")
    cli_fails(
        project,
        capsys,
        ["run", "job.yml", "--quiet", "--run-dir", "mine"],
        r"not a dask_parallel run \(notes.txt\)",
    )
    assert (project / "mine" / "notes.txt").read_text() == "keep"


def test_run_dir_that_is_a_file(project, capsys):
    (project / "afile").write_text("x")
    cli_fails(
        project, capsys, ["run", "job.yml", "--quiet", "--run-dir", "afile"], r"exists and is not a folder"
    )


def test_run_dir_inside_the_input(project, capsys):
    cli_fails(
        project, capsys, ["run", "job.yml", "--quiet", "--run-dir", "data/run"], r"lies inside inputs.data"
    )
    assert not (project / "data" / "run").exists()


def test_run_dir_inside_a_side_input(project, capsys):
    job = edited(
        project, "  model: {type: uri_folder, path: ./data}", "  model: {type: uri_folder, path: ./src}"
    )
    cli_fails(project, capsys, ["run", job, "--quiet", "--run-dir", "src/run"], r"lies inside inputs.model")


def test_run_dir_that_already_holds_a_run(project, capsys):
    (project / "old").mkdir()
    (project / "old" / "job.json").write_text("{}")
    cli_fails(project, capsys, ["run", "job.yml", "--quiet", "--run-dir", "old"], r"already holds a run")


def test_run_dir_in_use_by_a_live_process(project, capsys):
    (project / "busy").mkdir()
    lock = {"pid": os.getppid(), "host": socket.gethostname()}
    (project / "busy" / "run.lock").write_text(json.dumps(lock))
    cli_fails(
        project,
        capsys,
        ["run", "job.yml", "--quiet", "--run-dir", "busy"],
        rf"in use by process {os.getppid()}",
    )
    assert json.loads((project / "busy" / "run.lock").read_text()) == lock


def test_run_dir_in_use_on_another_host(project, capsys):
    (project / "busy").mkdir()
    (project / "busy" / "run.lock").write_text(json.dumps({"pid": 7, "host": "node-b"}))
    cli_fails(
        project,
        capsys,
        ["run", "job.yml", "--quiet", "--run-dir", "busy"],
        r"process 7 on host node-b.*cannot be checked",
    )
    assert (project / "busy" / "run.lock").exists()


def test_status_of_a_folder_that_is_not_a_run(project, capsys):
    cli_fails(project, capsys, ["status", "data"], r"not a dask_parallel run directory")


# -- resume -------------------------------------------------------------------------------


def make_run_dir(project: Path, job_json: str | bytes | None, ledger: bytes = b"") -> str:
    run = project / "earlier"
    run.mkdir()
    if job_json is not None:
        data = job_json.encode() if isinstance(job_json, str) else job_json
        (run / "job.json").write_bytes(data)
    if ledger:
        (run / "ledger.jsonl").write_bytes(ledger)
    return str(run)


def resume_fails(project: Path, capsys, run: str, pattern: str, extra: tuple[str, ...] = ()) -> str:
    before = {p.name: p.read_bytes() for p in Path(run).iterdir() if p.is_file()}
    text = cli_fails(project, capsys, ["resume", run, "--quiet", *extra], pattern)
    after = {p.name: p.read_bytes() for p in Path(run).iterdir() if p.is_file()}
    assert after == before  # nothing written into the run directory
    return text


RESUME_CASES = [
    (None, r"holds no job.json, so it is not a dask_parallel run directory"),
    ('{"spec": {"name": "x", "code_di', r"job.json is damaged .*cut short or edited"),
    (b"\xff\xfe\x00", r"job.json is damaged"),
    ("[1, 2]", r"job.json is incomplete"),
    ('{"identity": {}}', r"job.json is incomplete"),
    ('{"spec": {"name": "x"}}', r"job settings in its job.json are incomplete"),
    (
        '{"spec": {"environment_variables": {"STORAGE_KEY": "<redacted d:0011223344556677>"}}}',
        r"environment_variables STORAGE_KEY are not set in this environment.*--job",
    ),
    (
        '{"spec": {"environment_variables": {}, "program_arguments": ["--account_key", "<redacted d:0011223344556677>"]}}',
        r"program_arguments held one.*--job",
    ),
]


@pytest.mark.parametrize(
    "job_json, pattern", RESUME_CASES, ids=[f"resume{i}" for i in range(len(RESUME_CASES))]
)
def test_bad_resume(project, capsys, monkeypatch, job_json, pattern):
    monkeypatch.delenv("STORAGE_KEY", raising=False)
    resume_fails(project, capsys, make_run_dir(project, job_json), pattern)


def test_resume_with_a_damaged_ledger_and_no_job(project, capsys):
    run = make_run_dir(project, '{"spec": {"name": "x"}}', ledger=b"\xff\xfe\n[1]\n")
    resume_fails(project, capsys, run, r"incomplete")


def test_resume_of_a_running_job(project, capsys):
    run = make_run_dir(project, '{"spec": {"name": "x"}}')
    (Path(run) / "run.lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    resume_fails(project, capsys, run, rf"still running in process {os.getppid()}")


def test_resume_with_a_bad_job_file(project, capsys):
    run = make_run_dir(project, '{"spec": {"name": "x"}}')
    job = edited(project, 'mini_batch_size: "1"', 'mini_batch_size: "0"')
    resume_fails(project, capsys, run, r"mini_batch_size must be at least 1", ("--job", job))


def test_status_of_a_damaged_job_json(project, capsys):
    run = make_run_dir(project, "{not json")
    cli_fails(project, capsys, ["status", run], r"job.json is not valid JSON")


def test_secrets_never_reach_the_message(project, capsys):
    job = edited(
        project,
        "path: ./data}\n  model",
        "path: 'https://acct.blob.core.windows.net/c/d?sv=1&sig=SECRETSIG'}\n  model",
    )
    text = cli_fails(project, capsys, ["run", job, "--quiet"], r"acct\.blob\.core\.windows\.net")
    assert "SECRETSIG" not in text


SCHEDULER_CASES = [
    (
        "tcp://nonsense:::",
        r"--scheduler .*the scheduler address 'tcp://nonsense:::' is malformed.*tcp://HOST:PORT",
    ),
    ("foo://x", r"--scheduler .*'foo://x' is malformed \(unknown address scheme 'foo'"),
    ("tcp://", r"--scheduler .*'tcp://' is malformed"),
]


@pytest.mark.parametrize(
    "address, pattern", SCHEDULER_CASES, ids=[f"scheduler{i}" for i in range(len(SCHEDULER_CASES))]
)
def test_malformed_scheduler_address(project, capsys, address, pattern):
    cli_fails(project, capsys, ["run", "job.yml", "--quiet", "--scheduler", address], pattern)


def test_malformed_cluster_address_setting(project, capsys):
    import dask.config

    with dask.config.set({"dask-parallel.cluster.address": "tcp://a:b:c"}):
        cli_fails(
            project,
            capsys,
            ["run", "job.yml", "--quiet"],
            r"the setting dask-parallel\.cluster\.address: .*malformed",
        )


def test_validate_refuses_an_output_path_through_a_file(project, capsys):
    args = ["validate", "job.yml", "--set", "outputs.out.path=./data/item_0.txt/result.txt"]
    cli_fails(project, capsys, args, r"outputs\.out: the path .* runs through .*which is a file")


@pytest.mark.parametrize("command", ["run", "validate"])
def test_s3_input_without_credentials(project, capsys, monkeypatch, command):
    pytest.importorskip("s3fs")
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project / "no-config"))
    url = "s3://no-such-bucket-dask-parallel/data?X-Amz-Signature=SECRETSIG"
    text = cli_fails(
        project,
        capsys,
        [command, "job.yml", "--set", f"inputs.data.path={url}"] + (["--quiet"] if command == "run" else []),
        r"inputs\.data: cannot read s3://no-such-bucket-dask-parallel/data\?<redacted> \(NoCredentialsError.*AWS_ACCESS_KEY_ID",
    )
    assert "SECRETSIG" not in text


def test_corpus_size():
    cases = (
        len(YAML_CASES)
        + len(SET_CASES)
        + len(API_CASES)
        + len(RUN_API_CASES)
        + len(MLTABLE_CASES)
        + len(RESUME_CASES)
        + len(SCHEDULER_CASES)
    )
    assert cases + 15 >= 100  # plus the single cases above
