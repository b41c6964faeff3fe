"""Secrets stay out of job.json and messages; resume gets them back from the environment or the job."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dask_parallel.errors import InputError, ResumeError
from dask_parallel.redact import holds_redacted, is_hidden, redact_arguments, redact_document, redact_text
from dask_parallel.rundir.ledger import Journal
from dask_parallel.rundir.resume import restore_secrets

SAS = "sv=2022-11-02&sig=abcdEFGH1234%2Bsecret"


@pytest.mark.parametrize(
    "text, kept, gone",
    [
        (
            f"https://acct.blob.core.windows.net/c/data?{SAS}",
            "https://acct.blob.core.windows.net/c/data?",
            "sig=",
        ),
        ("abfss://user:hunter2@acct.dfs.core.windows.net/x", "@acct.dfs.core.windows.net/x", "hunter2"),
        (f"path 'https://h/x.csv?{SAS}' does not exist", "path 'https://h/x.csv?<redacted>' does", "sig="),
        ("s3://bucket/key/no-secret.csv", "s3://bucket/key/no-secret.csv", "<redacted>"),
    ],
)
def test_urls_lose_queries_and_credentials(text, kept, gone):
    redacted = redact_text(text)
    assert kept in redacted and gone not in redacted


def test_secret_looking_arguments_are_hidden_and_names_kept():
    args = ["--account_key", "K3Y", "--sas_token=T0K", "--password", "pw", "--batch", "5", "--API-KEY", "x"]
    redacted = redact_arguments(args)
    assert "K3Y" not in str(redacted) and "T0K" not in str(redacted) and "pw" not in redacted
    assert redacted[0] == "--account_key" and redacted[1].startswith("<redacted")
    assert redacted[2].startswith("--sas_token=<redacted")
    assert redacted[5:7] == ["--batch", "5"]
    assert is_hidden(redacted[8])


@pytest.mark.parametrize("name", ["--keyword", "--partition_keys", "--batch_size", "--monkey"])
def test_ordinary_options_are_kept(name):
    assert redact_arguments([name, "v"]) == [name, "v"]


def test_error_messages_are_redacted():
    error = InputError(f"inputs.data: path 'https://h/x?{SAS}' does not exist")
    assert "sig=" not in str(error) and "<redacted>" in str(error)


def test_digests_notice_a_changed_secret_without_storing_it():
    first = redact_document({"environment_variables": {"TOKEN": "a"}})
    again = redact_document({"environment_variables": {"TOKEN": "a"}})
    changed = redact_document({"environment_variables": {"TOKEN": "b"}})
    assert first == again != changed
    assert redact_document(first) == first  # redacting twice changes nothing


def test_job_json_has_no_secrets_and_mode_0600(tmp_path):
    journal = Journal(str(tmp_path))
    journal.write_job(
        {
            "spec": {
                "environment_variables": {"STORAGE_KEY": "s3cr3t-value"},
                "program_arguments": ["--account_key", "K3Y-VALUE", "--n", "2"],
                "major_input": {"uri": f"https://h/c?{SAS}"},
            },
            "identity": {"settings": {"environment_variables": {"STORAGE_KEY": "s3cr3t-value"}}},
        }
    )
    journal.close()
    path = tmp_path / "job.json"
    text = path.read_text()
    assert "s3cr3t-value" not in text and "K3Y-VALUE" not in text and "sig=" not in text
    assert "STORAGE_KEY" in text and "--account_key" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_resume_takes_environment_variables_from_the_environment(monkeypatch):
    stored = redact_document({"environment_variables": {"STORAGE_KEY": "v", "PLAIN": "1"}, "name": "x"})
    monkeypatch.setenv("STORAGE_KEY", "from-env")
    monkeypatch.setenv("PLAIN", "2")
    assert restore_secrets(stored, "/run")["environment_variables"] == {
        "STORAGE_KEY": "from-env",
        "PLAIN": "2",
    }


def test_resume_without_the_secret_says_how_to_give_it(monkeypatch):
    stored = redact_document({"environment_variables": {"STORAGE_KEY": "v"}})
    monkeypatch.delenv("STORAGE_KEY", raising=False)
    with pytest.raises(ResumeError, match=r"environment_variables STORAGE_KEY are not set.*--job job.yml"):
        restore_secrets(stored, "/run")


def test_resume_with_a_hidden_argument_needs_the_job():
    stored = redact_document({"environment_variables": {}, "program_arguments": ["--password", "pw"]})
    assert holds_redacted(stored)
    with pytest.raises(ResumeError, match=r"program_arguments held one.*--job"):
        restore_secrets(stored, "/run")


def test_a_plain_job_json_needs_nothing(tmp_path):
    stored = json.loads(
        json.dumps(redact_document({"environment_variables": {}, "program_arguments": ["--n", "1"]}))
    )
    assert restore_secrets(stored, "/run")["program_arguments"] == ["--n", "1"]
