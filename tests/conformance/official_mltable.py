"""Record how the official ``mltable`` package loads each folder of tests/fixtures/mltable.

The official package pins old pandas and cloudpickle, so it runs in its own environment:

    make official-mltable        # creates .venv-mltable, then runs this script there

Each folder gets an ``official.json`` (columns, dtypes and rows, or the error the official
package raised), which tests/unit/test_mltable_official.py compares with dask_parallel's
loader. Nothing here imports dask_parallel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mltable

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mltable"


def record(folder: Path) -> dict:
    try:
        frame = mltable.load(str(folder)).to_pandas_dataframe()
    except Exception as exc:  # noqa: BLE001 - the official error is part of the record
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(d) for d in frame.dtypes],
        "rows": json.loads(frame.to_json(orient="values", date_format="iso")),
    }


def main() -> int:
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "MLTable").exists()):
        result = record(folder)
        (folder / "official.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(folder.name, "error" if "error" in result else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
