"""Column selectors (names, lists, patterns) and ``convert_column_types``."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dask_parallel.errors import MLTableError


def select(columns: Any, available: list[str], where: str) -> list[str]:
    """The columns a selector names, in the frame's order; missing names are an error."""
    if isinstance(columns, dict):
        flags = re.IGNORECASE if columns["ignore_case"] else 0
        pattern = re.compile(columns["pattern"], flags)
        return [c for c in available if bool(pattern.fullmatch(str(c))) != columns["invert"]]
    missing = [c for c in columns if c not in available]
    if missing:
        raise MLTableError(f"{where}: column {missing[0]!r} does not exist; the columns are {available}.")
    return list(columns)


def to_int(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    whole = numbers.where(np.isfinite(numbers) & (numbers == np.floor(numbers)))
    return whole.astype("Int64")


def to_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def to_string(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d %H:%M:%S").astype(str)
    if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
        return series.map(lambda v: v if v is pd.NA or v is None else ("True" if v else "False")).astype(str)
    return series.astype(str)


def to_boolean(series: pd.Series, spec: dict[str, Any], column: str, where: str) -> pd.Series:
    true_values, false_values = set(spec["true_values"]), set(spec["false_values"])
    mismatch = spec["mismatch_as"]

    def convert(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        text = str(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            text = str(int(value))
        if text in true_values:
            return True
        if text in false_values:
            return False
        if mismatch == "error":
            raise MLTableError(
                f"{where}: column {column!r} holds {text!r}, which is neither in true_values "
                f"{sorted(true_values)} nor in false_values {sorted(false_values)}; add it to one of "
                "them, or set mismatch_as: true or false."
            )
        return mismatch == "true"

    return series.map(convert).astype("boolean")


def to_datetime(series: pd.Series, spec: dict[str, Any]) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    text = series.astype(str)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    for fmt in spec["formats"]:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        if spec.get("date_constant") and not re.search(r"%[Yyjd]", fmt):
            base = pd.Timestamp(spec["date_constant"]).normalize()
            parsed = base + (parsed - parsed.dt.normalize())
        result = result.fillna(parsed.astype("datetime64[ns]"))
    return result


def convert(frame: pd.DataFrame, conversions: tuple[dict[str, Any], ...], where: str) -> pd.DataFrame:
    """Apply ``convert_column_types`` entries in order; values that do not convert become null."""
    frame = frame.copy()
    for item in conversions:
        kind = item["column_type"]
        for column in select(item["columns"], list(frame.columns), where):
            series = frame[column]
            if kind["type"] == "int":
                frame[column] = to_int(series)
            elif kind["type"] == "float":
                frame[column] = to_float(series)
            elif kind["type"] == "string":
                frame[column] = to_string(series)
            elif kind["type"] == "boolean":
                spec = (
                    kind
                    if "true_values" in kind
                    else {
                        "true_values": ("true", "True", "TRUE", "1"),
                        "false_values": ("false", "False", "FALSE", "0"),
                        "mismatch_as": "error",
                    }
                )
                frame[column] = to_boolean(series, spec, column, where)
            else:
                frame[column] = to_datetime(series, kind)
    return frame
