"""The entry-script host's lifecycle in one process: new -> prepared -> ready -> shut down."""

from __future__ import annotations

import os
import sys

import pytest

from dask_parallel.worker.host import EntryScriptHost, HostState, InitFailed
from dask_parallel.worker.runtime_spec import RuntimeSpec


def host_for(tmp_path, script: str) -> EntryScriptHost:
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text(script)
    spec = RuntimeSpec(
        job_id="lifecycle0000",
        code_dir=str(code),
        entry_script="score.py",
        module_name="dask_parallel_user_lifecycle",
        argv=("--model", "m"),
        environment_variables={"LIFECYCLE_TEST": "1"},
        logging_level="INFO",
        run_dir=str(tmp_path / "run"),
        output_dir=str(tmp_path / "out"),
        timeout=60,
        task_overhead_timeout=60,
        append_row=False,
        dataframe_header=False,
        to_csv={},
        reader=None,
        concurrency=1,
    )
    return EntryScriptHost(spec)


SCRIPT = """
import os
def init():
    global flag
    flag = os.environ["LIFECYCLE_TEST"]
def run(mini_batch):
    return mini_batch
def shutdown():
    open(os.path.join(os.path.dirname(os.environ["AZUREML_BI_OUTPUT_PATH"]), "shutdown.txt"), "w").close()
"""


def test_init_once_then_shutdown_restores_the_process(tmp_path):
    cwd, argv = os.getcwd(), list(sys.argv)
    host = host_for(tmp_path, SCRIPT)
    assert host.state is HostState.NEW
    host.ensure_initialized()
    assert host.state is HostState.READY and host.initialized
    assert os.environ["LIFECYCLE_TEST"] == "1" and sys.argv[1:] == ["--model", "m"]
    host.ensure_initialized()  # a second call does not import or init() again
    host.shutdown()
    assert host.state is HostState.SHUT_DOWN
    assert (tmp_path / "shutdown.txt").exists()
    assert os.getcwd() == cwd and sys.argv == argv and "LIFECYCLE_TEST" not in os.environ
    with pytest.raises(InitFailed, match="already shut down"):
        host.ensure_initialized()


def test_a_failed_init_leaves_the_host_prepared_and_shutdown_skips_the_script(tmp_path):
    host = host_for(
        tmp_path, "def init():\n    raise RuntimeError('no model')\n\ndef run(mb):\n    return mb\n"
    )
    with pytest.raises(InitFailed, match="RuntimeError: no model"):
        host.ensure_initialized()
    assert host.state is HostState.PREPARED and not host.initialized
    host.shutdown()
    assert host.state is HostState.SHUT_DOWN
