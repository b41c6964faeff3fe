"""Column types of JSON lines: inferred from sample rows, then applied to every row of every block.

A column takes the kind of the first value seen (boolean, integer, float, text, array or
object); a value of another kind becomes null, except that integers and floats together make
a float column. Arrays take the kind of their first item the same way, objects are merged
key by key (a missing key is null). Text is never read as a date: JSON has no dates.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

TYPE_KEY = b"dask_parallel.json_type"
NULL: dict[str, Any] = {"kind": "null"}
# The Python types each scalar kind accepts (bool is not an int here).
SCALAR_TYPES = {"bool": {bool}, "int": {int}, "float": {float, int}, "str": {str}, "null": set()}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def merge(known: dict[str, Any], value: Any) -> dict[str, Any]:
    """The type of a column of type ``known`` that also holds ``value``."""
    if value is None:
        return known
    kind = kind_of(value)
    if known["kind"] == "null":
        known = {"kind": kind}
        if kind == "list":
            known["item"] = NULL
        elif kind == "dict":
            known["keys"] = {}
    elif {known["kind"], kind} == {"int", "float"}:
        known = {"kind": "float"}
    if kind != known["kind"]:
        return known
    if kind == "list":
        item = known["item"]
        for element in value:
            item = merge(item, element)
        known = {**known, "item": item}
    elif kind == "dict":
        keys = dict(known["keys"])
        for key, element in value.items():
            keys[key] = merge(keys.get(key, NULL), element)
        known = {**known, "keys": keys}
    return known


def infer(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each key's type, keys in first-seen order."""
    columns: dict[str, dict[str, Any]] = {}
    for row in rows:
        for key, value in row.items():
            columns[key] = merge(columns.get(key, NULL), value)
    return columns


def fit(kind: dict[str, Any], value: Any) -> Any:
    """``value`` as a value of ``kind``: None where it does not fit."""
    if value is None:
        return value
    found = kind_of(value)
    if kind["kind"] == "float" and found == "int":
        return float(value)
    if found != kind["kind"]:
        return None
    if found == "int" and not -(2**63) <= value < 2**63:
        return None  # beyond int64
    if found == "list":
        return [fit(kind["item"], v) for v in value]
    if found == "dict":
        return {k: fit(t, value.get(k)) for k, t in kind["keys"].items()}
    return value


def field(name: str, kind: dict[str, Any]) -> pa.Field:
    arrow = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}.get(kind["kind"], pa.string())
    return pa.field(name, arrow, metadata={TYPE_KEY: json.dumps(kind).encode()})


def kind_of_field(item: pa.Field) -> dict[str, Any]:
    metadata = item.metadata or {}
    if TYPE_KEY in metadata:
        return json.loads(metadata[TYPE_KEY])
    return NULL


def column(kind: dict[str, Any], values: list[Any]):
    """One column's ``values`` as an array of the dtype of ``kind`` (``object`` for arrays and objects)."""
    import numpy as np
    import pandas as pd

    name = kind["kind"]
    scalar = SCALAR_TYPES.get(name)
    if scalar is not None:  # the common case, without a call per value
        values = [v if type(v) in scalar else None for v in values]
        if name == "float":
            values = [float(v) if type(v) is int else v for v in values]
        elif name == "int":
            values = [v if v is None or -(2**63) <= v < 2**63 else None for v in values]
    else:
        values = [fit(kind, v) for v in values]
    if name == "int":
        return pd.array(values, dtype="Int64")
    if name == "float":
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if name == "bool":
        return pd.array(values, dtype="boolean")
    if name in ("str", "null"):
        return pd.array(values, dtype=pd.StringDtype(na_value=np.nan))
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
