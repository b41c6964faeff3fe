"""Compare dask_parallel's MLTable loader with the official package's recorded results.

    python tests/conformance/differential.py            # agreement by category
    python tests/conformance/differential.py --show csv # and every differing case of a category
    python tests/conformance/differential.py --isolated # load in a child process (survives crashes)

The generated cases (mltable_cases.py, fixed seed) are written to a temporary folder and
loaded with ``dask_parallel.mltable``; the official results come from
``tests/conformance/official/*.jsonl`` (record_official_cases.py). A case agrees when both
raised an error, or both gave the same columns, dtype families and rows. Cases that differ
on purpose are listed, each with its reason, in :data:`DELIBERATE` (and in docs/mltable.md).
"""

from __future__ import annotations

import collections
import json
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from mltable_cases import CATEGORIES, Case, generate  # noqa: E402
from records import error_record, record  # noqa: E402

OFFICIAL = HERE / "official"

Rule = Callable[[Case, dict[str, Any], dict[str, Any]], bool]


def _empty_result(case: Case, official: dict, ours: dict) -> bool:
    return official.get("columns") == [] and not official.get("rows") and ours.get("rows") == []


def _official_panics(case: Case, official: dict, ours: dict) -> bool:
    return "PanicError" in official.get("error", "") and "error" not in ours


def _listing_order(case: Case, official: dict, ours: dict) -> bool:
    """Same rows, in another order, where the official package lists a folder or pattern."""
    listed = any(k in ("folder", "pattern") for entry in case.document["paths"] for k in entry)
    steps = [next(iter(s)) if isinstance(s, dict) else s for s in case.document.get("transformations", [])]
    if not listed or "take" in steps or "skip" in steps or "error" in official or "error" in ours:
        return False
    key = lambda row: json.dumps(row, sort_keys=True)  # noqa: E731
    return (
        official["columns"] == ours["columns"]
        and official["dtypes"] == ours["dtypes"]
        and sorted(official["rows"], key=key) == sorted(ours["rows"], key=key)
    )


def _steps(case: Case) -> list[str]:
    return [next(iter(s)) if isinstance(s, dict) else s for s in case.document.get("transformations", [])]


def _as_naive(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith("time:"):
        text = cell.removesuffix("+00:00")
        return text if "T" in text else text + "T00:00:00"
    return cell


def _parquet_types_after_take(case: Case, official: dict, ours: dict) -> bool:
    """Official: decimal, date and tz-aware columns change type once take/skip is applied."""
    steps = _steps(case)
    if "read_parquet" not in steps or not {"take", "skip"} & set(steps):
        return False
    if "error" in official or "error" in ours or official["columns"] != ours["columns"]:
        return False
    changed = {("float", "object"), ("datetime", "datetime_tz"), ("datetime", "object")}
    if any(a != b and (a, b) not in changed for a, b in zip(official["dtypes"], ours["dtypes"])):
        return False
    return official["rows"] == [[_as_naive(c) for c in row] for row in ours["rows"]]


def _lowercase_boolean_literal(case: Case, official: dict, ours: dict) -> bool:
    """Official: ``== true`` / ``== false`` in a filter match no row; ours reads them as booleans."""
    filters = [
        s["filter"] for s in case.document.get("transformations", []) if isinstance(s, dict) and "filter" in s
    ]
    literal = any(f.endswith(("== true", "== false")) for f in filters)
    return literal and not official.get("rows") and "error" not in ours


def _whole_seconds_parquet(case: Case, official: dict, ours: dict) -> bool:
    """Official misreads parquet ``timestamp[s]`` as if it held milliseconds (year 55969)."""
    rows = official.get("rows") or []
    return any(
        isinstance(c, str) and c.startswith("time:5") and len(c.split("-")[0]) > 9 for r in rows for c in r
    )


def _reads_its_own_mltable(case: Case, official: dict, ours: dict) -> bool:
    """``folder: .`` — official also reads the MLTable file itself as data."""
    here = any(entry.get("folder") in (".", "./") for entry in case.document["paths"])
    seen = json.dumps(official.get("columns", [])) + json.dumps(official.get("rows", []))
    return here and ("transformations:" in seen or "paths:" in seen)


def _numbers_kept(case: Case, official: dict, ours: dict) -> bool:
    """Official: in JSON, a number of the other kind than a column's first (2 after 1.5) is null."""
    if "read_json_lines" not in _steps(case) or "error" in official or "error" in ours:
        return False
    if official["columns"] != ours["columns"] or len(official["rows"]) != len(ours["rows"]):
        return False
    for a, b in zip(official["dtypes"], ours["dtypes"]):
        if a != b and not (a in ("float", "int") and b == "float"):
            return False
    for left, right in zip(official["rows"], ours["rows"]):
        for a, b in zip(left, right):
            if a != b and not (a is None and isinstance(b, (int, float)) and not isinstance(b, bool)):
                return False
    return True


def _partition_values_without_path(case: Case, official: dict, ours: dict) -> bool:
    """Official: partition columns are null unless the read step includes the path column."""
    steps = case.document.get("transformations", [])
    formats = [s for s in steps if isinstance(s, dict) and "extract_columns_from_partition_format" in s]
    reads = [
        next(iter(s.values())) for s in steps if isinstance(s, dict) and next(iter(s)).startswith("read_")
    ]
    if not formats or not reads or (reads[0] or {}).get("include_path_column"):
        return False
    if "error" in official or "error" in ours or official["columns"] != ours["columns"]:
        return False
    fmt = formats[0]["extract_columns_from_partition_format"]["partition_format"]
    names = {n.split(":")[0] for n in re.findall(r"\{([^{}]+)\}", fmt)}
    keep = [i for i, c in enumerate(official["columns"]) if c not in names]
    nulls = [i for i, c in enumerate(official["columns"]) if c in names]
    return all(all(row[i] is None for i in nulls) for row in official["rows"]) and [
        [row[i] for i in keep] for row in official["rows"]
    ] == [[row[i] for i in keep] for row in ours["rows"]]


def _take_zero(case: Case, official: dict, ours: dict) -> bool:
    """``take: 0`` is an error here (almost certainly a mistake); official returns nothing."""
    steps = case.document.get("transformations", [])
    return any(isinstance(s, dict) and s.get("take") == 0 for s in steps) and "greater than 0" in ours.get(
        "error", ""
    )


def _official_error_values(case: Case, official: dict, ours: dict) -> bool:
    """Official: a value its conversion could not convert is an error value, and a filter on it fails."""
    return "Microsoft.DPrep.ErrorValues" in official.get("error", "") and "error" not in ours


def _official_no_columns(case: Case, official: dict, ours: dict) -> bool:
    """Official: a row whose kept columns are all missing (JSON) fails the load (NoColumns)."""
    steps = _steps(case)
    return "NoColumns" in official.get("error", "") and "error" not in ours and "keep_columns" in steps


def _official_alternate_reader(case: Case, official: dict, ours: dict) -> bool:
    """Official: when JSON files disagree on a column's type, every value is kept as it is."""
    if "read_json_lines" not in _steps(case) or len(case.files) < 2:
        return False
    if "error" in official or "error" in ours or official["columns"] != ours["columns"]:
        return False
    if len(official["rows"]) != len(ours["rows"]):
        return False
    kinds = [
        {type(row[i]).__name__ for row in official["rows"] if row[i] is not None}
        for i in range(len(official["columns"]))
    ]
    if not any(len(k - {"int", "float"}) and len(k) > 1 for k in kinds):
        return False  # the alternate reader's mark: a column holding text and numbers (or more)
    for left, right in zip(official["rows"], ours["rows"]):
        for a, b in zip(left, right):
            if a != b and b is not None:
                return False
    return True


def _json_column_order(case: Case, official: dict, ours: dict) -> bool:
    """Official: JSON columns come in first-seen order of the rows left after take/skip/filter."""
    if "read_json_lines" not in _steps(case) or "error" in official or "error" in ours:
        return False
    if sorted(official["columns"]) != sorted(ours["columns"]) or official["columns"] == ours["columns"]:
        return False
    order = [ours["columns"].index(c) for c in official["columns"]]
    moved = {
        "columns": official["columns"],
        "dtypes": [ours["dtypes"][i] for i in order],
        "rows": [[row[i] for i in order] for row in ours["rows"]],
    }
    return same(official, moved)


DELIBERATE_RULES: dict[str, tuple[Rule, str]] = {
    "official fails on values it could not convert": (
        _official_error_values,
        "After convert_column_types, the official package keeps the values it could not convert "
        "as error values and fails a later filter on them (ErrorValues); dask_parallel makes "
        "them null, so the filter leaves those rows out.",
    ),
    "official fails on rows without any kept value": (
        _official_no_columns,
        "When keep_columns leaves a JSON row with no value at all, the official package fails "
        "the load (NoColumns); dask_parallel keeps the row with nulls.",
    ),
    "JSON files that disagree on a type": (
        _official_alternate_reader,
        "When JSON files disagree on a column's type ({a: 1} first in one file, {a: 2.5} or "
        '{a: "x"} first in another), the official package switches to another reader that keeps '
        "every value of every column as it is (mixed object columns, for the whole table); "
        "dask_parallel gives each column one type for every file and nulls what does not fit.",
    ),
    "JSON columns in the file's order": (
        _json_column_order,
        "The official package orders JSON columns by first appearance in the rows left after "
        "take/skip/filter, so the order changes with the steps; dask_parallel orders them by "
        "first appearance in the file's first lines, the same for every step and mini-batch.",
    ),
    "partition values without the path column": (
        _partition_values_without_path,
        "extract_columns_from_partition_format without include_path_column: true gives null "
        "columns in the official package; dask_parallel fills them from each file's path (the "
        "values partition_keys groups by), so run() sees the values it is grouped by.",
    ),
    "take: 0 is an error": (
        _take_zero,
        "take: 0 is rejected with an error naming the step; the official package returns an empty table.",
    ),
    "JSON numbers are not nulled": (
        _numbers_kept,
        "In JSON lines the official package gives a column the kind of its first number and "
        "nulls the numbers of the other kind ({a: 1.5} then {a: 2} gives 1.5, null); dask_parallel "
        "makes such a column float and keeps every number (1.5, 2.0).",
    ),
    "empty result keeps its columns": (
        _empty_result,
        "When no row is left (every row filtered out, a header-only file, skip past the end, a "
        "0-row parquet file) the official package returns a DataFrame without columns; "
        "dask_parallel keeps the table's columns and dtypes, so run() and Dask see one schema.",
    ),
    "official package panics": (
        _official_panics,
        "The official package panics (PanicError) on dictionary-encoded parquet columns; "
        "dask_parallel reads them as their values.",
    ),
    "files in sorted order": (
        _listing_order,
        "The official package takes a folder's files in the file system's listing order; "
        "dask_parallel sorts them by path, so the rows are the same but their order is fixed.",
    ),
    "parquet types do not depend on take/skip": (
        _parquet_types_after_take,
        "After take/skip the official package turns decimal into float64, dates into datetime64 "
        "and UTC timestamps into naive ones, but not without them; dask_parallel gives a column "
        "the same dtype whatever the steps (the values are the same).",
    ),
    "lowercase true/false in filters": (
        _lowercase_boolean_literal,
        'The official package matches no row for col("flag") == true (lowercase); dask_parallel '
        "reads true/false as the booleans they spell.",
    ),
    "parquet timestamp[s]": (
        _whole_seconds_parquet,
        "The official package reads parquet timestamp[s] as milliseconds (2024-01-01 becomes the "
        "year 55969); dask_parallel reads the dates written.",
    ),
    "folder . holds the MLTable file": (
        _reads_its_own_mltable,
        "With paths: [folder: .] the official package also reads the MLTable file as data; "
        "dask_parallel leaves the MLTable file out.",
    ),
}

# Single cases that differ on purpose, with the reason (the official result is wrong or loses data).
DELIBERATE: dict[str, str] = {
    "parquet/019": "After take, the official package gives null for a parquet timestamp outside "
    "1677-2262 (3000-01-01); dask_parallel gives the date.",
}


def official_results() -> dict[str, dict[str, Any]]:
    results = {}
    for category in CATEGORIES:
        path = OFFICIAL / f"{category}.jsonl"
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                results[item.pop("id")] = item
    return results


def load_ours(folder: Path) -> dict[str, Any]:
    """dask_parallel's whole-table load of one case folder, as a record."""
    from dask_parallel import mltable

    try:
        return record(mltable.load(folder).to_pandas_dataframe(), str(folder))
    except Exception as exc:  # noqa: BLE001 - an error is a result to compare
        return error_record(exc, str(folder))


def same(official: dict[str, Any], ours: dict[str, Any]) -> bool:
    """Both errors, or the same columns, rows and dtype families.

    A column without any value compares equal whatever its dtype: the official package
    makes such a column ``object``, dask_parallel keeps the column's type (``float64``, ``Int64``).
    """
    if "error" in official or "error" in ours:
        return "error" in official and "error" in ours
    if official["columns"] != ours["columns"] or official["rows"] != ours["rows"]:
        return False
    for index, (a, b) in enumerate(zip(official["dtypes"], ours["dtypes"])):
        if a != b and any(row[index] is not None for row in official["rows"]):
            return False
    return len(official["dtypes"]) == len(ours["dtypes"])


def classify(case: Case, official: dict[str, Any], ours: dict[str, Any]) -> str:
    """``agree``, ``deliberate: <reason name>`` or ``differ``."""
    if same(official, ours):
        return "agree"
    if case.id in DELIBERATE:
        return "deliberate: " + case.id
    for name, (rule, _) in DELIBERATE_RULES.items():
        if rule(case, official, ours):
            return "deliberate: " + name
    return "differ"


def run_all(isolated: bool = False) -> list[tuple[Case, dict, dict, str]]:
    """Every case: (case, official record, our record, outcome).

    ``isolated`` loads the cases in a child process that is restarted after a crash (a
    native crash then costs one case, recorded as ``crash: ...``), instead of in this one.
    """
    recorded = official_results()
    cases = generate()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folders = [case.write(base) for case in cases]
        ours = _isolated(base, cases) if isolated else [load_ours(f) for f in folders]
    return [
        (case, recorded[case.id], mine, classify(case, recorded[case.id], mine))
        for case, mine in zip(cases, ours)
    ]


def _isolated(base: Path, cases: list[Case]) -> list[dict[str, Any]]:
    import subprocess

    out = base / "ours.jsonl"
    done: list[dict[str, Any]] = []
    while len(done) < len(cases):
        code = subprocess.call(
            [sys.executable, __file__, "--worker", str(base), str(len(done)), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        done = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        if len(done) < len(cases) and code != 0:
            crashed = {"error": f"crash: the process exited with code {code}"}
            with out.open("a") as handle:
                handle.write(json.dumps(crashed) + "\n")
            done.append(crashed)
    return done


def _worker(base: Path, start: int, out: Path) -> None:
    with out.open("a") as handle:
        for case in generate()[start:]:
            handle.write(json.dumps(load_ours(base / case.id.replace("/", "_"))) + "\n")
            handle.flush()


def summary(results: list[tuple[Case, dict, dict, str]]) -> dict[str, dict[str, int]]:
    table: dict[str, collections.Counter] = {c: collections.Counter() for c in (*CATEGORIES, "all")}
    for case, _, _, outcome in results:
        kind = "deliberate" if outcome.startswith("deliberate") else outcome
        for key in (case.category, "all"):
            table[key][kind] += 1
            table[key]["cases"] += 1
    return {k: dict(v) for k, v in table.items()}


def format_summary(table: dict[str, dict[str, int]]) -> str:
    lines = [f"{'category':<16}{'cases':>6}{'agree':>8}{'agree%':>8}{'+deliberate%':>14}"]
    for key, counts in table.items():
        total = counts.get("cases", 0) or 1
        agree, deliberate = counts.get("agree", 0), counts.get("deliberate", 0)
        lines.append(
            f"{key:<16}{counts.get('cases', 0):>6}{agree:>8}{100 * agree / total:>7.1f}%"
            f"{100 * (agree + deliberate) / total:>13.1f}%"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        _worker(Path(argv[1]), int(argv[2]), Path(argv[3]))
        return 0
    results = run_all(isolated="--isolated" in argv)
    print(format_summary(summary(results)))
    show = argv[argv.index("--show") + 1] if "--show" in argv else None
    for case, official, ours, outcome in results:
        if show and outcome == "differ" and (show == "all" or case.category == show):
            print(f"\n== {case.id}: {json.dumps(case.document)}")
            for name, data in case.files.items():
                if not name.endswith(".parquet"):
                    print(f"   {name}: {data[:200]!r}")
            print(f"   official: {json.dumps(official)[:600]}")
            print(f"   ours:     {json.dumps(ours)[:600]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
