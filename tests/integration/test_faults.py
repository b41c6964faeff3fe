"""Faults outside the driver loop: each ends with a terminal status and the right exit code.

A terminal status is job_result.txt, the ledger's closing "job" record and a ``status`` that
is not Running. Faults are made deterministic: an address where nothing listens, a write
that raises ENOSPC, a registration that raises CommClosedError.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import dask.config
import distributed  # noqa: F401 - its settings loaded before dask.config.set changes one
import pytest

import dask_parallel as dp
from dask_parallel import cli
from dask_parallel.errors import ClusterError
from dask_parallel.rundir.status import read_status
from tests.conftest import file_job

pytestmark = pytest.mark.slow

SCRIPT = """
import os

def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""

BROKEN = """
def run(mini_batch):
    raise RuntimeError("a broken change")
"""


def assert_terminal(run_dir: Path, status: str, pattern: str) -> dict:
    """job_result.txt, the ledger's end and ``status`` all say ``status``; the reason names the fault."""
    result = (run_dir / "logs" / "job_result.txt").read_text()
    assert result.startswith(status), result
    ledger = [json.loads(line) for line in (run_dir / "ledger.jsonl").read_text().splitlines()]
    assert ledger[-1]["event"] == "job" and ledger[-1]["status"] == status, ledger[-1]
    found = read_status(str(run_dir))
    assert found.status == status and pattern in (found.reason or ""), found
    return ledger[-1]


def test_unreachable_scheduler(tmp_path):
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    refused = pytest.raises(ClusterError, match=r"--scheduler .*could not connect .*tcp://127\.0\.0\.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), refused:
        dp.run(job, client="tcp://127.0.0.1:1", run_dir=tmp_path / "run")
    assert_terminal(tmp_path / "run", "Failed", "could not connect to the Dask scheduler")


def test_unreachable_scheduler_on_the_command_line(tmp_path, monkeypatch, capsys):
    file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    job_file = tmp_path / "job.yml"
    job_file.write_text(
        "type: parallel\nname: score\ninputs:\n  data: {type: uri_folder, path: ./data}\n"
        "input_data: ${{inputs.data}}\nmini_batch_size: '1'\n"
        "task: {type: run_function, code: ./src, entry_script: score.py}\n"
    )
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = cli.main(
            [
                "run",
                str(job_file),
                "--quiet",
                "--scheduler",
                "tcp://127.0.0.1:1",
                "--run-dir",
                str(tmp_path / "r"),
            ]
        )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "error: --scheduler (Python: run(client=...)): could not connect" in err
    assert "Traceback" not in err
    assert_terminal(tmp_path / "r", "Failed", "--scheduler")


def test_output_folder_that_cannot_be_created(tmp_path, monkeypatch):
    def disk_full(spec):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr("dask_parallel.engine._prepare_outputs", disk_full)
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    result = dp.run(job, run_dir=tmp_path / "run")  # fails before a cluster is started
    assert result.status == "Failed" and result.outputs == {}
    assert "creating the output folders: OSError: [Errno 28] No space left on device" in result.error
    assert_terminal(tmp_path / "run", "Failed", "No space left on device")


def test_disk_full_while_writing_the_output_keeps_no_partial_file(tmp_path, client, monkeypatch):
    job = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")
    first = dp.run(job, client=client, run_dir=tmp_path / "first")
    assert first.status == "Completed", first.error
    output = tmp_path / "out" / "result.txt"
    earlier = output.read_bytes()

    def disk_full(parts, out, has_header, checksums):
        out.write(b"half a row")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("dask_parallel.outputs.append_row._copy_parts", disk_full)
    result = dp.run(job, client=client, run_dir=tmp_path / "second", force_rerun=True)
    assert result.status == "Failed"
    assert "Writing the outputs failed: OSError: [Errno 28] No space left on device" in result.error
    assert result.outputs == {}  # the file at the output's path is the first run's
    assert output.read_bytes() == earlier
    assert not list(output.parent.glob("*.tmp-*"))
    assert_terminal(tmp_path / "second", "Failed", "No space left on device")
    text = (tmp_path / "second" / "logs" / "job_result.txt").read_text()
    assert f"The file {output} is not this run's output" in text


def test_forced_resume_that_fails_does_not_report_the_earlier_output(tmp_path, client, capsys):
    job = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")
    run_dir = tmp_path / "run"
    assert dp.run(job, client=client, run_dir=run_dir).status == "Completed"
    (tmp_path / "src" / "score.py").write_text(BROKEN)
    code = cli.main(["resume", str(run_dir), "--force", "--json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    document = json.loads(captured.out)
    assert document["status"] == "Failed" and document["outputs"] == {}
    text = (run_dir / "logs" / "job_result.txt").read_text()
    assert text.startswith("Failed") and "is not this run's output" in text
    assert cli.main(["status", str(run_dir), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "Failed" and status["outputs"] == {}


def test_workers_closing_the_connection_name_the_memory_limit(tmp_path, client, monkeypatch, capsys):
    from distributed.comm.core import CommClosedError

    def closed(plugin, *args, **kwargs):
        raise CommClosedError("in <TCP (closed) Scheduler Broadcast>: Stream is closed")

    monkeypatch.setattr("dask_parallel.execution.driver.REGISTER_ATTEMPTS", 1)
    monkeypatch.setattr(client, "register_plugin", closed)
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Failed"
    assert "CommClosedError" in result.error and "memory_limit" in result.error
    assert_terminal(tmp_path / "run", "Failed", "memory_limit")


def test_an_internal_error_records_the_status_and_exits_3(tmp_path, client, monkeypatch, capsys):
    def bug(self, pending):
        raise KeyError("a bug in the driver")

    monkeypatch.setattr("dask_parallel.engine.Driver.run", bug)
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    monkeypatch.setattr("dask_parallel.pipelines.loader.load_any", lambda path, overrides=(): job)
    code = cli.main(
        [
            "run",
            "job.yml",
            "--quiet",
            "--scheduler",
            client.scheduler.address,
            "--run-dir",
            str(tmp_path / "run"),
        ]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 3, err
    assert "internal error: unexpected KeyError" in err and "report" in err
    assert "Traceback" not in err
    assert_terminal(tmp_path / "run", "Failed", "KeyError")


JOB_FILE = (
    "type: parallel\nname: score\ninputs:\n  data: {type: uri_folder, path: ./data}\n"
    "outputs:\n  out: {type: uri_file, path: ./out/result.txt}\n"
    "input_data: ${{inputs.data}}\nmini_batch_size: '2'\n"
    "task: {type: run_function, code: ./src, entry_script: score.py, append_row_to: '${{outputs.out}}'}\n"
)


def cli_run(tmp_path: Path, client, *extra: str) -> int:
    file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")  # the data and the script
    (tmp_path / "job.yml").write_text(JOB_FILE)
    return cli.main(
        ["run", str(tmp_path / "job.yml"), "--quiet", "--scheduler", client.scheduler.address,
         "--run-dir", str(tmp_path / "run"), *extra]
    )  # fmt: skip


def test_sigterm_while_the_timeline_is_drawn_keeps_the_job_completed(tmp_path, client, monkeypatch, capsys):
    import os
    import signal

    drawn = []

    def draw_and_get_stopped(run_dir):
        os.kill(os.getpid(), signal.SIGTERM)  # the scheduler's stop arrives while drawing
        drawn.append(run_dir)

    monkeypatch.setattr("dask_parallel.rundir.timeline.save_timeline", draw_and_get_stopped)
    code = cli_run(tmp_path, client, "--json")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert drawn and json.loads(captured.out)["status"] == "Completed"
    assert "note: SIGTERM arrived while the timeline picture" in captured.err
    assert read_status(str(tmp_path / "run")).status == "Completed"


def test_sigterm_while_the_output_is_written_keeps_the_job_completed(tmp_path, client, monkeypatch, capsys):
    import os
    import signal

    from dask_parallel.outputs import append_row

    real = append_row._copy_parts

    def copy_and_get_stopped(*args):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args)

    monkeypatch.setattr("dask_parallel.outputs.append_row._copy_parts", copy_and_get_stopped)
    code = cli_run(tmp_path, client)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "note: SIGTERM arrived while the outputs" in err
    assert len((tmp_path / "out" / "result.txt").read_text().split()) == 4
    assert_terminal(tmp_path / "run", "Completed", "")


def test_json_of_a_canceled_run_has_the_shape_of_a_completed_one(tmp_path, client, monkeypatch, capsys):
    import jsonschema

    from dask_parallel.schema import load_schema

    assert cli_run(tmp_path / "done", client, "--json") == 0
    completed = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(
        "dask_parallel.engine.Driver.run", lambda self, pending: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    assert cli_run(tmp_path / "canceled", client, "--json") == 130
    canceled = json.loads(capsys.readouterr().out)
    assert canceled["status"] == "Canceled"
    assert sorted(canceled) == sorted(completed)
    jsonschema.Draft202012Validator(load_schema()).validate(canceled)


def test_dask_errors_about_canceled_attempts_stay_off_the_terminal(client, capsys, caplog):
    import logging

    from dask_parallel.execution.cluster import connect

    scheduler = logging.getLogger("distributed.scheduler")
    with caplog.at_level(logging.ERROR, logger="distributed.scheduler"), connect(client, 1):
        scheduler.error("Couldn't gather keys: {'score-mini-batch-000010-a1': 'queued'}")
        scheduler.error("Task score-mini-batch-000001-a1 marked as failed because 1 workers died")
        scheduler.error("a real scheduler error")
    assert "Couldn't gather keys" not in caplog.text and "marked as failed" not in caplog.text
    assert "a real scheduler error" in caplog.text


def test_a_busy_dashboard_port_is_one_note(monkeypatch):
    import socket
    import warnings

    from dask_parallel.execution.cluster import _local_cluster

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        notes: list[str] = []
        address = {"dask-parallel.local-cluster.dashboard-address": f"127.0.0.1:{port}"}
        with dask.config.set(address), warnings.catch_warnings():
            warnings.simplefilter("error")  # Dask's UserWarning would fail the test
            cluster = _local_cluster(0, notes.append)
        cluster.close()
    assert len(notes) == 1 and "dashboard port is in use" in notes[0], notes
    assert "site-packages" not in notes[0]


def connect_that_raises_on_close(raised: BaseException):
    import contextlib

    from dask_parallel.execution.cluster import connect as real_connect

    @contextlib.contextmanager
    def connect(client, n_workers, notify=None):
        with real_connect(client, n_workers, notify) as connected:
            try:
                yield connected
            finally:
                raise raised

    return connect


def test_ctrl_c_while_the_cluster_closes_after_completion_keeps_it_completed(tmp_path, client, monkeypatch):
    monkeypatch.setattr("dask_parallel.engine.connect", connect_that_raises_on_close(KeyboardInterrupt()))
    job = file_job(tmp_path, SCRIPT, files=4, mini_batch_size="2")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert len((tmp_path / "out" / "result.txt").read_text().split()) == 4
    assert_terminal(tmp_path / "run", "Completed", "")


def test_a_close_error_after_a_failure_keeps_the_failure(tmp_path, client, monkeypatch):
    from distributed.comm.core import CommClosedError

    def closed(plugin, *args, **kwargs):
        raise CommClosedError("Stream is closed")

    monkeypatch.setattr("dask_parallel.engine.connect", connect_that_raises_on_close(TimeoutError("Nanny")))
    monkeypatch.setattr("dask_parallel.execution.driver.REGISTER_ATTEMPTS", 1)
    monkeypatch.setattr(client, "register_plugin", closed)
    job = file_job(tmp_path, SCRIPT, files=2, mini_batch_size="1")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Failed" and "CommClosedError" in result.error
    assert_terminal(tmp_path / "run", "Failed", "memory_limit")
