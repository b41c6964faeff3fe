"""The ledger is not trusted: part paths stay inside parts/, checksums are verified, bad lines skipped."""

from __future__ import annotations

import json
import logging
import zlib

import pytest

from dask_parallel.outputs.append_row import PartChecksumError, assemble
from dask_parallel.rundir.ledger import Journal, read_ledger
from dask_parallel.rundir.resume import finished_mini_batches, restored_checksums
from dask_parallel.rundir.status import read_status


@pytest.fixture
def run(tmp_path):
    run_dir = tmp_path / "run"
    journal = Journal(str(run_dir))
    rows = run_dir / "parts" / "node-0-1-x.rows"
    rows.write_bytes(b"a\nb\nc\nd\n")
    journal.ledger("final", mb="mb0", index=0, status="succeeded", attempt=1, part=(str(rows), 0, 4))
    journal.ledger("final", mb="mb1", index=1, status="succeeded", attempt=1, part=(str(rows), 4, 4))
    journal.close()
    (run_dir / "job.json").write_text(json.dumps({"mini_batches": 2, "spec": {"name": "x"}}))
    return run_dir, rows, journal


def test_parts_are_stored_relative_with_a_checksum(run):
    run_dir, rows, journal = run
    first = read_ledger(str(run_dir))[0]
    assert first["part"] == ["parts/node-0-1-x.rows", 0, 4]
    assert first["part_crc"] == zlib.crc32(b"a\nb\n")
    assert journal.checksums[(str(rows), 0, 4)] == zlib.crc32(b"a\nb\n")


def test_resume_reuses_intact_parts_with_absolute_paths(run):
    run_dir, rows, _ = run
    found = finished_mini_batches(str(run_dir), {"mb0", "mb1"})
    assert found["mb0"]["part"] == [str(rows.resolve()), 0, 4]
    assert restored_checksums(found)[(str(rows.resolve()), 4, 4)] == zlib.crc32(b"c\nd\n")


def test_a_changed_part_is_run_again(run):
    run_dir, rows, _ = run
    rows.write_bytes(b"a\nX\nc\nd\n")
    assert set(finished_mini_batches(str(run_dir), {"mb0", "mb1"})) == {"mb1"}


@pytest.mark.parametrize(
    "part",
    [["/etc/passwd", 0, 10], ["../../outside.rows", 0, 1], ["parts/../job.json", 0, 2], ["parts", 0, 1],
     ["parts/x.rows", -1, 2], "parts/x.rows", [1, 2, 3], ["parts/x.rows", 0]],
)  # fmt: skip
def test_a_forged_part_is_never_read(tmp_path, part):
    run_dir = tmp_path / "run"
    (run_dir / "parts").mkdir(parents=True)
    (run_dir / "parts" / "x.rows").write_bytes(b"rows\n")
    (tmp_path / "outside.rows").write_text("secret")
    record = {"event": "final", "mb": "mb0", "status": "succeeded", "part": part}
    (run_dir / "ledger.jsonl").write_text(json.dumps(record) + "\n")
    assert finished_mini_batches(str(run_dir), {"mb0"}) == {}


def test_assembly_fails_on_a_checksum_mismatch(run, tmp_path):
    _, rows, journal = run
    rows.write_bytes(b"a\nX\nc\nd\n")
    target = tmp_path / "out.txt"
    with pytest.raises(PartChecksumError, match=r"changed after they were recorded.*resume"):
        assemble([(str(rows), 0, 4), (str(rows), 4, 4)], str(target), checksums=journal.checksums)
    assert not target.exists()


def test_assembly_with_intact_parts(run, tmp_path):
    _, rows, journal = run
    target = tmp_path / "out.txt"
    assemble([(str(rows), 0, 4), (str(rows), 4, 4)], str(target), checksums=journal.checksums)
    assert target.read_bytes() == b"a\nb\nc\nd\n"


def test_damaged_ledger_lines_are_skipped_with_a_warning(run, caplog):
    run_dir, _, _ = run
    with open(run_dir / "ledger.jsonl", "ab") as handle:
        handle.write(b'\xff\xfe not utf-8\n[1, 2]\n42\n"text"\n{"event": "attempt", "time": 5.0}\n')
    with caplog.at_level(logging.WARNING, logger="dask_parallel"):
        records = read_ledger(str(run_dir))
    assert [r["event"] for r in records] == ["final", "final", "attempt"]
    assert "skipped 4 damaged line(s)" in caplog.text and "line 3, 4, 5, 6" in caplog.text
    assert set(finished_mini_batches(str(run_dir), {"mb0", "mb1"})) == {"mb0", "mb1"}
    assert read_status(str(run_dir)).mini_batches_succeeded == 2


def test_a_torn_last_line_is_skipped_silently(run, caplog):
    run_dir, _, _ = run
    with open(run_dir / "ledger.jsonl", "ab") as handle:
        handle.write(b'{"event": "att')
    with caplog.at_level(logging.WARNING, logger="dask_parallel"):
        assert len(read_ledger(str(run_dir))) == 2
    assert "damaged" not in caplog.text
