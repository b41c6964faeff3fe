"""The differential tier: dask_parallel's MLTable loader against the official ``mltable`` package.

The generated cases (mltable_cases.py, fixed seed) are loaded by dask_parallel and compared
with what the official package gave for them (recorded in tests/conformance/official/ by
record_official_cases.py), so this runs without the official package. When its environment
exists (``make official-mltable``), the recordings are also checked against a fresh run.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import differential  # noqa: E402
from mltable_cases import CATEGORIES, generate  # noqa: E402

ROOT = HERE.parent.parent
OFFICIAL_PYTHON = ROOT / ".venv-mltable" / "bin" / "python"
DOCS = ROOT / "docs" / "mltable.md"


@pytest.fixture(scope="module")
def results():
    return differential.run_all()


def test_the_cases_are_many_seeded_and_cover_every_category():
    cases = generate()
    assert len(cases) >= 500
    counts = collections.Counter(c.category for c in cases)
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 30
    again = generate()
    assert [(c.id, c.document) for c in cases] == [(c.id, c.document) for c in again]
    steps = {
        next(iter(s)) for c in cases for s in c.document.get("transformations", []) if isinstance(s, dict)
    }
    assert {"read_delimited", "read_json_lines", "read_parquet", "take", "skip", "filter"} <= steps
    assert {
        "keep_columns",
        "drop_columns",
        "convert_column_types",
        "extract_columns_from_partition_format",
    } <= steps


def test_every_case_has_an_official_result():
    recorded = differential.official_results()
    assert sorted(recorded) == sorted(c.id for c in generate())


def test_agreement_with_the_official_package(results):
    table = differential.summary(results)
    print("\n" + differential.format_summary(table))
    total = table["all"]["cases"]
    agree = table["all"].get("agree", 0)
    deliberate = table["all"].get("deliberate", 0)
    differing = [case.id for case, _, _, outcome in results if outcome == "differ"]
    assert (agree + deliberate) / total >= 0.95, f"cases that differ: {differing}"
    assert agree / total >= 0.85, f"cases that differ: {differing}"


def test_hand_chosen_cases_of_the_known_classes_agree(results):
    """A few cases, each a class of real-world data the loader once got wrong."""
    outcome = {case.id: result for case, _, _, result in results}
    for case_id in (
        "csv/001",  # int in one file, float in another: float
        "csv/005",  # Spark's empty _SUCCESS file next to the data
        "csv/007",  # ISO timestamps with Z
        "csv/008",  # ... and with an offset, converted to UTC
        "csv/012",  # quoted empty fields are text
        "csv/015",  # 01/31/2024
        "csv/018",  # a short row padded with null
        "csv/020",  # t/f booleans
        "csv/024",  # values after the inference sample nulled, 4.5 truncated
        "jsonl/001",  # mixed types in one key
        "parquet/001",  # int32 in one file, int64 in another
        "transformations/000",  # keep_columns keeps the table's order
        "transformations/001",  # column patterns search anywhere in a name
        "transformations/005",  # three-valued logic in filters
    ):
        assert outcome[case_id] == "agree", case_id


def test_every_deliberate_difference_is_used_and_documented(results):
    used = {outcome.removeprefix("deliberate: ") for _, _, _, outcome in results}
    docs = DOCS.read_text()
    for name in differential.DELIBERATE_RULES:
        assert name in used, f"no case differs by {name!r} any more: remove the rule and its docs"
        assert name in docs, f"{name!r} is not described in docs/mltable.md"
    for case_id in differential.DELIBERATE:
        assert case_id in used and case_id in docs


@pytest.mark.skipif(
    not OFFICIAL_PYTHON.exists(),
    reason="the official mltable package's environment (.venv-mltable) does not exist; "
    "create it with `make official-mltable` to check the recordings against a fresh run",
)
def test_the_recordings_are_what_the_official_package_gives_now(tmp_path):
    script = HERE / "record_official_cases.py"
    subprocess.run([str(OFFICIAL_PYTHON), str(script), "--out", str(tmp_path)], check=True, timeout=900)
    for category in CATEGORIES:
        fresh = [json.loads(line) for line in (tmp_path / f"{category}.jsonl").read_text().splitlines()]
        kept = [
            json.loads(line) for line in (HERE / "official" / f"{category}.jsonl").read_text().splitlines()
        ]
        # Error texts carry a session id; whether a case fails is what is compared.
        shape = lambda r: {k: v for k, v in r.items() if k != "error"} | {"failed": "error" in r}  # noqa: E731
        assert [shape(r) for r in fresh] == [shape(r) for r in kept], category
