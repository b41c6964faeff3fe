"""What a load gave, as plain JSON: the same shape for the official package and for dask_parallel.

Used by both sides of the differential tier (the official package runs in its own
environment with older pandas), so it imports neither ``mltable`` nor ``dask_parallel``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

MAX_ERROR = 240


def dtype_family(column: Any) -> str:
    """A dtype as a family both pandas versions agree on.

    Text is ``object`` in the official package's pandas and ``str`` in pandas 3; a nullable
    integer column with a gap is ``float64`` there, a nullable boolean one with a gap ``object``.
    """
    name = str(column.dtype)
    has_gap = bool(column.isna().any())
    if name in ("object", "str", "string"):
        return "object"
    if name == "boolean":
        return "object" if has_gap else "bool"
    if name == "bool":
        return "bool"
    if name.lower().startswith(("int", "uint")):
        return "float" if has_gap and name[0] in "IU" else "int"
    if name.startswith("float") or name.startswith("Float"):
        return "float"
    if name.startswith("datetime64") and ("UTC" in name or "," in name):
        return "datetime_tz"
    if name.startswith("datetime64"):
        return "datetime"
    return name


def value(item: Any, root: str = "") -> Any:
    """One cell as JSON: numbers as int when whole, datetimes as ISO text, bytes as hex."""
    if item is None:
        return None
    if isinstance(item, bool):
        return item
    type_name = type(item).__name__
    if type_name in ("NAType", "NaTType"):
        return None
    if type_name in ("bool_", "bool"):  # numpy's boolean scalar (numpy 1 and 2 names)
        return bool(item)
    if isinstance(item, (bytes, bytearray)):
        return "bytes:" + bytes(item).hex()
    if isinstance(item, decimal.Decimal):
        item = float(item)
    if isinstance(item, str):
        return _path(item, root)
    if hasattr(item, "isoformat") and isinstance(item, (dt.datetime, dt.date)):
        return "time:" + item.isoformat()
    if type_name in ("datetime64", "Timestamp"):
        import pandas as pd

        return "time:" + pd.Timestamp(item).isoformat()
    if isinstance(item, dict):
        return {str(k): value(v, root) for k, v in item.items()}
    if isinstance(item, (list, tuple)) or type_name == "ndarray":
        return [value(v, root) for v in list(item)]
    try:
        number = float(item)
    except (TypeError, ValueError):
        return _path(str(item), root)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return float(f"{number:.10g}")


def _path(text: str, root: str) -> str:
    if root and root in text:
        text = "<case>" + text.split(root, 1)[1]
        return text
    return text


def record(frame: Any, root: str = "") -> dict[str, Any]:
    """Columns, dtype families and rows of a loaded DataFrame."""
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [dtype_family(frame.iloc[:, i]) for i in range(frame.shape[1])],
        "rows": [[value(v, root) for v in row] for row in frame.itertuples(index=False, name=None)],
    }


def error_record(exc: BaseException, root: str = "") -> dict[str, Any]:
    message = f"{type(exc).__name__}: {exc}"
    if root:
        message = message.replace(root, "<case>")
    return {"error": message[:MAX_ERROR]}
