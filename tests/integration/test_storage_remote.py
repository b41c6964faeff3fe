"""Inputs and outputs on S3 (moto's server, through s3fs) and Azure Blob (Azurite, through adlfs).

Both servers run on 127.0.0.1, on a free port, with their data in a temporary folder;
the fixtures start them and stop them. Credentials reach s3fs and adlfs the usual way,
through environment variables, in this process and in every Dask worker (a worker
plugin sets them), and must not appear in any log, ledger or report of the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from distributed.diagnostics.plugin import WorkerPlugin

import dask_parallel as dp
from dask_parallel import mltable
from tests.conftest import REPO, write_script

pytestmark = pytest.mark.slow

AZURITE = REPO / ".tools" / "node_modules" / ".bin" / "azurite-blob"
S3_SECRET = "s3-secret-9f8e7d6c5b4a"
# Azurite's well-known development account key (public, documented by Microsoft).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {timeout}s")


def clear_fsspec_instances() -> None:
    for protocol in ("s3", "abfs", "az"):
        with contextlib.suppress(ImportError, ValueError):
            fsspec.get_filesystem_class(protocol).clear_instance_cache()


class EnvironmentPlugin(WorkerPlugin):
    """Sets storage credentials in each worker process, and takes them away at teardown."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment

    def setup(self, worker) -> None:
        self.saved = {name: os.environ.get(name) for name in self.environment}
        os.environ.update(self.environment)
        clear_fsspec_instances()

    def teardown(self, worker) -> None:
        for name, value in getattr(self, "saved", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clear_fsspec_instances()


@dataclasses.dataclass
class Store:
    name: str
    protocol: str
    container: str
    environment: dict[str, str]
    secrets: tuple[str, ...]

    def url(self, *parts: str) -> str:
        return f"{self.protocol}://{self.container}/" + "/".join(parts)

    @property
    def fs(self):
        return fsspec.filesystem(self.protocol)


@contextlib.contextmanager
def environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    clear_fsspec_instances()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clear_fsspec_instances()


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, "moto server")
        yield Store(
            name="s3",
            protocol="s3",
            container="dp-bucket",
            environment={
                "AWS_ACCESS_KEY_ID": "dp-test-key",
                "AWS_SECRET_ACCESS_KEY": S3_SECRET,
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
            secrets=(S3_SECRET,),
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def azure_server(tmp_path_factory):
    if not AZURITE.exists():
        pytest.fail(
            f"Azurite is not installed at {AZURITE}; `make test` installs it "
            "(npm install --prefix .tools azurite@3)."
        )
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(location),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "Azurite")
        connection = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
        yield Store(
            name="azure",
            protocol="abfs",
            container="dp-container",
            environment={"AZURE_STORAGE_CONNECTION_STRING": connection},
            secrets=(AZURITE_KEY,),
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(params=["s3_server", "azure_server"])
def store(request, client):
    store: Store = request.getfixturevalue(request.param)
    name = f"storage-env-{store.name}"
    client.register_plugin(EnvironmentPlugin(store.environment), name=name)
    with environment(store.environment):
        fs = store.fs
        if not fs.exists(store.container):
            fs.mkdir(store.container)
        yield store
        fs.rm(store.container + "/", recursive=True)
    client.unregister_worker_plugin(name)


def assert_no_secret(store: Store, *folders: Path) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_bytes()
                for secret in store.secrets:
                    assert secret.encode() not in text, f"credential found in {path}"


FILE_SCRIPT = """
import os

def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as handle:
            rows.append(f"{os.path.basename(path)} {handle.read().strip()}")
    return rows
"""


def test_file_folder_input_and_append_row_output(tmp_path, client, store):
    fs = store.fs
    for i in range(7):
        fs.pipe(f"{store.container}/files/item_{i}.txt", f"{i * i}\n".encode())
    write_script(tmp_path / "src", FILE_SCRIPT)
    job = dp.parallel_run_function(
        name="remote_files",
        inputs={"data": dp.Input(type="uri_folder", path=store.url("files"))},
        outputs={"result": dp.Output(type="uri_file", path=store.url("out", "result.txt"))},
        input_data="${{inputs.data}}",
        mini_batch_size="3",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.result}}"
        ),
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total == 3 and result.items_succeeded == 7
    lines = fs.cat(f"{store.container}/out/result.txt").decode().splitlines()
    assert sorted(lines) == sorted(f"item_{i}.txt {i * i}" for i in range(7))
    assert_no_secret(store, tmp_path)


TABLE_SCRIPT = """
def run(df, context):
    df = df.copy()
    df["key"] = str(context.partition_key_value)
    df["total"] = df["units"] * 2
    return df[["Store", "units", "total"]]
"""


def test_mltable_input_partition_keys_and_mltable_output(tmp_path, client, store):
    fs = store.fs
    for store_id, rows in (("s1", 3), ("s2", 2)):
        body = "units,label\n" + "".join(f"{i},x{i}\n" for i in range(rows))
        fs.pipe(f"{store.container}/sales/{store_id}/part.csv", body.encode())
    fs.pipe(
        f"{store.container}/sales/MLTable",
        b"paths:\n  - pattern: ./*/part.csv\ntransformations:\n  - read_delimited\n"
        b"  - extract_columns_from_partition_format: '{Store}/part.csv'\n",
    )
    table = mltable.load(store.url("sales"))
    assert table.to_pandas_dataframe()["Store"].tolist() == ["s1", "s1", "s1", "s2", "s2"]
    write_script(tmp_path / "src", TABLE_SCRIPT)
    job = dp.parallel_run_function(
        name="remote_table",
        inputs={"table": dp.Input(type="mltable", path=store.url("sales"), mode="direct")},
        outputs={"scored": dp.Output(type="mltable", path=store.url("scored"))},
        input_data="${{inputs.table}}",
        partition_keys=["Store"],
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.scored}}"
        ),
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total == 2 and result.items_succeeded == 5
    written = mltable.load(store.url("scored")).to_pandas_dataframe()
    assert sorted(written.itertuples(index=False, name=None)) == [
        ("s1", 0, 0),
        ("s1", 1, 2),
        ("s1", 2, 4),
        ("s2", 0, 0),
        ("s2", 1, 2),
    ]
    assert_no_secret(store, tmp_path)


SUMMARY_SCRIPT = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args, _ = parser.parse_known_args()

def run(df):
    path = os.path.join(args.out, f"part-{int(df['id'].iloc[0]):04d}.csv")
    df.to_csv(path, index=False)
    return [True] * len(df)
"""


def test_parquet_mltable_input_and_summary_output(tmp_path, client, store):
    import pyarrow as pa
    import pyarrow.parquet as pq

    local = tmp_path / "local.parquet"
    pq.write_table(
        pa.table({"id": list(range(400)), "v": [i / 2 for i in range(400)]}), local, row_group_size=100
    )
    store.fs.put_file(str(local), f"{store.container}/pq/data.parquet")
    store.fs.pipe(
        f"{store.container}/pq/MLTable", b"paths: [{file: ./data.parquet}]\ntransformations: [read_parquet]\n"
    )
    write_script(tmp_path / "src", SUMMARY_SCRIPT)
    job = dp.parallel_run_function(
        name="remote_summary",
        inputs={"table": dp.Input(type="mltable", path=store.url("pq"), mode="direct")},
        outputs={"parts": dp.Output(type="uri_folder", path=store.url("parts"))},
        input_data="${{inputs.table}}",
        mini_batch_size="1kb",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", program_arguments="--out ${{outputs.parts}}"
        ),
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total == 4 and result.items_succeeded == 400
    names = sorted(p.rsplit("/", 1)[1] for p in store.fs.find(f"{store.container}/parts"))
    assert names == ["part-0000.csv", "part-0100.csv", "part-0200.csv", "part-0300.csv"]
    with store.fs.open(f"{store.container}/parts/part-0300.csv") as handle:
        assert pd.read_csv(handle)["id"].tolist() == list(range(300, 400))
    assert_no_secret(store, tmp_path)
