"""Column types of delimited text: inferred from a sample of values, then applied to every block.

A column's type is the narrowest that every sampled value fits, tried in this order:
boolean (``true``/``false`` in any case, ``t``/``f``, ``y``/``n``, or only ``0``/``1``), integer, float,
datetime (ISO 8601 with an optional ``Z`` or offset, converted to UTC; ``01/31/2024``,
``31/01/2024``, ``2024/01/31``, each with an optional time), then text. A quoted empty field
(``""``) is a text value, unlike an empty field, which is missing.

Values after the sample that do not fit their column's type become null (an integer column
truncates ``4.5`` to ``4``); :func:`convert` says how many, so the reader can log it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from dask_parallel.inputs.mltable.steps import BOOLEAN_FALSE, BOOLEAN_TRUE

TRUE = (*BOOLEAN_TRUE, "y", "Y")
FALSE = (*BOOLEAN_FALSE, "n", "N")
INTEGER = re.compile(r"\s*[+-]?\d+\s*")
FLOAT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
ISO_FORMAT = "ISO8601"
TIMES = ("", " %H:%M:%S", " %H:%M")
DATE_FORMATS = tuple(d + t for d in ("%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d") for t in TIMES)
FORMAT_KEY = b"dask_parallel.datetime_format"
ZERO_ONE = b"dask_parallel.zero_one"  # a boolean column inferred from 0/1 values only
INT64_MAX = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class TextType:
    """What a column of text holds: ``kind`` (bool, int, float, datetime, string) and details."""

    kind: str
    datetime_format: str | None = None
    zero_one: bool = False

    def field(self, name: str) -> pa.Field:
        if self.kind == "bool":
            return pa.field(name, pa.bool_(), metadata={ZERO_ONE: b"1"} if self.zero_one else None)
        if self.kind == "int":
            return pa.field(name, pa.int64())
        if self.kind == "float":
            return pa.field(name, pa.float64())
        if self.kind == "datetime":
            return pa.field(name, pa.timestamp("ns"), metadata={FORMAT_KEY: self.datetime_format.encode()})
        return pa.field(name, pa.string())

    @classmethod
    def of(cls, field: pa.Field) -> TextType:
        metadata = field.metadata or {}
        kind = field.type
        if pa.types.is_boolean(kind):
            return cls("bool", zero_one=ZERO_ONE in metadata)
        if pa.types.is_integer(kind):
            return cls("int")
        if pa.types.is_floating(kind):
            return cls("float")
        if pa.types.is_timestamp(kind):
            return cls("datetime", metadata.get(FORMAT_KEY, ISO_FORMAT.encode()).decode())
        if pa.types.is_null(kind):
            return cls("null")
        return cls("string")


def infer(values: Sequence[str | None]) -> TextType:
    """The type every non-missing value of ``values`` fits."""
    present = [v for v in values if v is not None]
    if not present:
        return TextType("null")
    if any(v == "" for v in present):
        return TextType("string")
    distinct = set(present)
    if distinct <= {"0", "1"}:
        return TextType("bool", zero_one=True)
    if distinct <= set(TRUE) | set(FALSE):
        return TextType("bool")
    if all(INTEGER.fullmatch(v) for v in distinct):
        if all(abs(int(v)) <= INT64_MAX for v in distinct):
            return TextType("int")
        return TextType("float")
    if all(FLOAT.fullmatch(v) for v in distinct):
        return TextType("float")
    stripped = [v.strip() for v in distinct]
    if all(ISO.fullmatch(v) for v in stripped):
        return TextType("datetime", ISO_FORMAT)
    for fmt in DATE_FORMATS:
        if _all_parse(stripped, fmt):
            return TextType("datetime", fmt)
    return TextType("string")


def _all_parse(values: list[str], fmt: str) -> bool:
    import datetime as dt

    try:
        for value in values:
            dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def combine(first: TextType, second: TextType) -> TextType:
    """The type of a column that is ``first`` in one file and ``second`` in another."""
    if first.kind == "null":
        return second
    if second.kind == "null" or first == second:
        return first
    kinds = {first.kind, second.kind}
    if kinds == {"bool"}:
        return TextType("bool", zero_one=first.zero_one and second.zero_one)
    zero_one_bool = [t for t in (first, second) if t.kind == "bool" and t.zero_one]
    if zero_one_bool and kinds in ({"bool", "int"}, {"bool", "float"}):
        return TextType((kinds - {"bool"}).pop())
    if kinds == {"int", "float"}:
        return TextType("float")
    return TextType("string")


def convert(column: pa.Array | pa.ChunkedArray, kind: TextType) -> tuple[pa.Array, int]:
    """``column`` (text) as ``kind``; and how many values were present but did not fit."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if kind.kind in ("string", "null"):
        return column.cast(pa.string()), 0
    present = len(column) - column.null_count
    if kind.kind == "bool":
        result = pc.if_else(
            pc.is_in(column, pa.array(TRUE)),
            True,
            pc.if_else(pc.is_in(column, pa.array(FALSE)), False, pa.scalar(None, pa.bool_())),
        )
    elif kind.kind in ("int", "float"):
        result = _numbers(column, kind.kind)
    else:
        result = _datetimes(column, kind.datetime_format)
    return result, present - (len(result) - result.null_count)


def _numbers(column: pa.Array, kind: str) -> pa.Array:
    target = pa.int64() if kind == "int" else pa.float64()
    stripped = pc.utf8_trim_whitespace(column)
    try:
        if kind == "float":
            valid = pc.match_substring_regex(stripped, FLOAT.pattern.replace(r"\s*", ""))
            if not pc.all(pc.fill_null(valid, True)).as_py():
                raise pa.ArrowInvalid("not all numbers")
        return stripped.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = []
    for text in stripped.to_pylist():
        values.append(_number(text, kind))
    return pa.array(values, target)


def _number(text: str | None, kind: str) -> int | float | None:
    if text is None:
        return None
    if kind == "int" and INTEGER.fullmatch(text):
        number = int(text)
        return number if abs(number) <= INT64_MAX else None
    if not FLOAT.fullmatch(text):
        return None
    number = float(text)
    if kind == "float":
        return number
    truncated = int(number)
    return truncated if abs(truncated) <= INT64_MAX else None


def _datetimes(column: pa.Array, fmt: str | None) -> pa.Array:
    stripped = pc.utf8_trim_whitespace(column)
    target = pa.timestamp("ns")
    if fmt not in (None, ISO_FORMAT):
        return pc.strptime(stripped, format=fmt, unit="ns", error_is_null=True)
    shaped = pc.if_else(pc.match_substring_regex(stripped, f"^(?:{ISO.pattern})$"), stripped, None)
    for kind in (target, pa.timestamp("ns", tz="UTC")):  # naive values; values with offsets
        try:
            return shaped.cast(kind).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    import pandas as pd  # a mix of naive and offset values, or impossible dates such as 02-30

    parsed = pd.to_datetime(
        pd.Series(shaped.to_pandas(), dtype=object), format="ISO8601", utc=True, errors="coerce"
    ).dt.tz_localize(None)
    return pa.array(parsed.astype("datetime64[ns]"), target, from_pandas=True)
