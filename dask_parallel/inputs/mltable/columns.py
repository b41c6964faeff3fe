"""Column selectors (names, lists, patterns) and ``convert_column_types``."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dask_parallel.inputs.mltable.steps import BOOLEAN_FALSE, BOOLEAN_TRUE
from dask_parallel.inputs.mltable.text_types import FLOAT


def select(columns: Any, available: list[str], where: str) -> list[str]:
    """The columns a selector names, in the frame's order.

    A pattern matches anywhere in a name (``na`` matches ``name``), as the official reader's
    regular-expression search; names that are not columns are ignored, as there.
    """
    if isinstance(columns, dict):
        flags = re.IGNORECASE if columns["ignore_case"] else 0
        pattern = re.compile(columns["pattern"], flags)
        return [c for c in available if bool(pattern.search(str(c))) != columns["invert"]]
    wanted = set(columns)
    return [c for c in available if c in wanted]


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _is_bool(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series.dtype)


def _numbers(series: pd.Series) -> pd.Series:
    """Numbers of a numeric or text column as float64; booleans, dates and other text are NaN."""
    if _is_bool(series) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index, dtype="float64")
    if _is_text(series):
        text = series.astype(object).where(series.notna(), None)
        shaped = text.map(lambda v: v.strip() if isinstance(v, str) and FLOAT.fullmatch(v) else None)
        return pd.to_numeric(shaped, errors="coerce").astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64")


def to_int(series: pd.Series) -> pd.Series:
    """Whole numbers; fractions truncated toward zero (2.7 is 2); anything else null."""
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64")
    numbers = _numbers(series)
    inside = np.isfinite(numbers) & (numbers.abs() < 2**63)
    return np.trunc(numbers.where(inside)).astype("Int64")


def to_float(series: pd.Series) -> pd.Series:
    return _numbers(series)


def _string(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() and abs(value) < 2**63 else repr(float(value))
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert("UTC") if value.tzinfo is not None else value.tz_localize("UTC")
        return stamp.isoformat()
    return str(value)


def to_string(series: pd.Series) -> pd.Series:
    """Text as the official reader writes it: 1.0 is "1", dates ISO 8601 in UTC ("...+00:00")."""
    values = [_string(v) for v in series.astype(object)]
    return pd.Series(values, index=series.index, dtype=pd.StringDtype(na_value=np.nan))


def to_boolean(series: pd.Series, spec: dict[str, Any], column: str, where: str) -> pd.Series:
    """Text by ``true_values``/``false_values``, numbers by zero or not; dates and other text null.

    A text value in neither list is ``mismatch_as`` (true or false), or null with the default
    ``error``: the official reader never fails a load on such a value, and neither does this.
    """
    if _is_bool(series):
        return series.astype("boolean")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.Series(pd.NA, index=series.index, dtype="boolean")
    if not _is_text(series):
        numbers = pd.to_numeric(series, errors="coerce")
        return (numbers != 0).astype("boolean").where(numbers.notna(), pd.NA)
    true_values, false_values = set(spec["true_values"]), set(spec["false_values"])
    mismatch = {"true": True, "false": False}.get(spec["mismatch_as"], pd.NA)

    def convert(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        text = str(value)
        if text in true_values:
            return True
        if text in false_values:
            return False
        return mismatch

    return series.astype(object).map(convert).astype("boolean")


def to_datetime(series: pd.Series, spec: dict[str, Any]) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
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
                        "true_values": BOOLEAN_TRUE,
                        "false_values": BOOLEAN_FALSE,
                        "mismatch_as": "error",
                    }
                )
                frame[column] = to_boolean(series, spec, column, where)
            else:
                frame[column] = to_datetime(series, kind)
    return frame
