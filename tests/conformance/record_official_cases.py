"""Run the official ``mltable`` package on every generated case and record what it gives.

Runs in the official package's own environment (``make official-mltable`` creates it):

    .venv-mltable/bin/python tests/conformance/record_official_cases.py [--out FOLDER]

Writes ``tests/conformance/official/<category>.jsonl``: one line per case, its columns,
dtype families and rows, or the error it raised (``crash: ...`` when the process died).
Cases run in a worker process, so a native crash of the official package costs only that
case: the worker is restarted after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mltable_cases import CATEGORIES, generate  # noqa: E402
from records import error_record, record  # noqa: E402

OUT = HERE / "official"


def worker(root: Path, start: int, results: Path) -> None:
    """Load cases from ``start`` on, appending one JSON line per case to ``results``."""
    import mltable

    cases = generate()
    with results.open("a") as out:
        for case in cases[start:]:
            folder = root / case.id.replace("/", "_")
            try:
                result = record(mltable.load(str(folder)).to_pandas_dataframe(), str(folder))
            except BaseException as exc:  # noqa: BLE001 - the official error is part of the record
                result = error_record(exc, str(folder))
            out.write(json.dumps({"id": case.id, **result}, ensure_ascii=False) + "\n")
            out.flush()


def main(out: Path = OUT) -> int:
    cases = generate()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for case in cases:
            case.write(root)
        results = root / "results.jsonl"
        done: list[dict] = []
        while len(done) < len(cases):
            code = subprocess.call(
                [sys.executable, __file__, "--worker", str(root), str(len(done)), str(results)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
            if len(done) < len(cases) and code != 0:
                crashed = {"id": cases[len(done)].id, "error": f"crash: the process exited with code {code}"}
                with results.open("a") as handle:
                    handle.write(json.dumps(crashed) + "\n")
                done.append(crashed)
                print(f"{crashed['id']}: {crashed['error']}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    for category in CATEGORIES:
        lines = [json.dumps(d, ensure_ascii=False) for d in done if d["id"].startswith(category + "/")]
        (out / f"{category}.jsonl").write_text("\n".join(lines) + "\n")
        print(f"{category}: {len(lines)} cases recorded")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--out":
        sys.exit(main(Path(sys.argv[2])))
    sys.exit(main())
