"""``filter`` expressions, parsed with :mod:`ast` and evaluated on a DataFrame, never with eval.

Grammar: ``col("name")`` or a bare column name; literals (numbers, strings, true/false,
None, lists); ``datetime(2020, 1, 31)``; comparisons ``== != < <= > >= in not in``;
``and or not``; arithmetic ``+ - * /``; methods ``.startswith .endswith .contains``
and ``.isnull() .notnull()`` on a column.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import operator
from collections.abc import Callable
from typing import Any

import pandas as pd

from dask_parallel.errors import MLTableError

COMPARISONS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
NAMES = {"true": True, "false": False, "True": True, "False": False, "None": None, "null": None}
STRING_METHODS = ("startswith", "endswith", "contains")
ALLOWED = (
    'col("name"), literals, datetime(y, m, d), == != < <= > >= in, and/or/not, + - * /, '
    ".startswith() .endswith() .contains() .isnull() .notnull()"
)

Evaluator = Callable[[Any], Any]


class _Column:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, frame):
        if self.name not in frame.columns:
            raise MLTableError(
                f"filter: column {self.name!r} does not exist; columns are {list(frame.columns)}."
            )
        return frame[self.name]


def _fail(expression: str, node: ast.AST, problem: str) -> MLTableError:
    column = getattr(node, "col_offset", 0) + 1
    return MLTableError(
        f"filter expression {expression!r} (at character {column}): {problem}; allowed are {ALLOWED}."
    )


def _literal(value: Any) -> Evaluator:
    return lambda frame: value


def _build(expression: str, node: ast.AST) -> Evaluator:
    build = functools.partial(_build, expression)
    if isinstance(node, ast.Expression):
        return build(node.body)
    if isinstance(node, ast.BoolOp):
        parts = [build(v) for v in node.values]
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_

        def boolean(frame):
            values = [_logical(p(frame), frame) for p in parts]
            return functools.reduce(combine, values)

        return boolean
    if isinstance(node, ast.UnaryOp):
        inner = build(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda frame: ~_logical(inner(frame), frame)
        if isinstance(node.op, ast.USub):
            return lambda frame: -inner(frame)
        raise _fail(expression, node, f"operator {type(node.op).__name__} is not supported")
    if isinstance(node, ast.Compare):
        left = build(node.left)
        pairs = []
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                    raise _fail(expression, right, "'in' needs a list of literals")
                values = [ast.literal_eval(v) for v in right.elts]
                negate = isinstance(op, ast.NotIn)
                pairs.append(("in", negate, values))
            elif type(op) in COMPARISONS:
                pairs.append(("cmp", COMPARISONS[type(op)], build(right)))
            else:
                raise _fail(expression, node, f"comparison {type(op).__name__} is not supported")

        def compare(frame):
            current, result = left(frame), None
            for kind, how, other in pairs:
                if kind == "in":
                    series = _series(current, frame)
                    mask = _unknown_where_missing(series.isin(other), series)
                    mask = ~mask if how else mask
                    value = current
                else:
                    value = other(frame)
                    mask = _compare(how, current, value, frame)
                result = mask if result is None else result & mask
                current = value
            return result

        return compare
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        left, right, op = build(node.left), build(node.right), ARITHMETIC[type(node.op)]
        return lambda frame: op(left(frame), right(frame))
    if isinstance(node, ast.Call):
        return _call(expression, node)
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return _literal(node.value)
    if isinstance(node, ast.Name):
        if node.id in NAMES:
            return _literal(NAMES[node.id])
        return _Column(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        try:
            return _literal([ast.literal_eval(v) for v in node.elts])
        except ValueError:
            raise _fail(expression, node, "lists may hold literals only") from None
    raise _fail(expression, node, f"{type(node).__name__} is not allowed")


def _call(expression: str, node: ast.Call) -> Evaluator:
    if node.keywords:
        raise _fail(expression, node, "keyword arguments are not supported")
    function = node.func
    if isinstance(function, ast.Name) and function.id == "col":
        if len(node.args) != 1 or not (
            isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
        ):
            raise _fail(expression, node, 'col() takes one column name in quotes, e.g. col("age")')
        return _Column(node.args[0].value)
    if isinstance(function, ast.Name) and function.id == "datetime":
        try:
            parts = [ast.literal_eval(a) for a in node.args]
            value = dt.datetime(*parts)
        except (ValueError, TypeError) as exc:
            raise _fail(expression, node, f"datetime(...) is invalid: {exc}") from None
        import pandas as pd

        return _literal(pd.Timestamp(value))
    if isinstance(function, ast.Attribute):
        target = _build(expression, function.value)
        method = function.attr
        if method in STRING_METHODS:
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant):
                raise _fail(expression, node, f".{method}() takes one literal argument")
            argument = node.args[0].value

            def text_test(frame):
                series = _series(target(frame), frame)
                text = (
                    series.astype(object)
                    .where(series.notna(), None)
                    .map(lambda v: None if v is None else str(v))
                )
                found = [
                    None
                    if v is None
                    else (str(argument) in v if method == "contains" else getattr(v, method)(str(argument)))
                    for v in text
                ]
                return pd.Series(found, index=series.index, dtype="boolean")

            return text_test
        if method in ("isnull", "notnull") and not node.args:
            return lambda frame: getattr(_series(target(frame), frame), method)().astype("boolean")
    raise _fail(expression, node, "this function call is not supported")


def _series(value: Any, frame):

    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(frame), index=frame.index)


def _missing(value: Any, frame):

    if isinstance(value, pd.Series):
        return value.isna()
    return pd.Series(value is None or value is pd.NaT, index=frame.index)


def _unknown_where_missing(result, *operands):
    """A nullable boolean Series: unknown (NA) wherever an operand is missing."""

    mask = pd.Series(result, index=result.index).fillna(False).astype(bool).astype("boolean")
    for operand in operands:
        if isinstance(operand, pd.Series):
            mask[operand.isna().to_numpy()] = pd.NA
    return mask


def _compare(how, left: Any, right: Any, frame):
    """A comparison in SQL's three-valued logic: anything compared with null is unknown.

    ``col("b") != "x"`` is unknown, not true, where b is null, so the row is not kept,
    as with the official reader. ``== None`` and ``!= None`` test for null.
    """

    if right is None or left is None:
        column = right if left is None else left
        missing = _missing(column, frame)
        return (missing if how is operator.eq else ~missing).astype("boolean")
    result = how(_series(left, frame), right)
    result = _series(result, frame)
    mask = result.fillna(False).astype(bool).astype("boolean")
    unknown = _missing(left, frame) | _missing(right, frame)
    mask[unknown.to_numpy()] = pd.NA
    return mask


def _logical(value: Any, frame):
    """A nullable boolean Series for and/or/not (Kleene logic: unknown stays unknown)."""
    series = _series(value, frame)
    if str(series.dtype) == "boolean":
        return series
    return _unknown_where_missing(series, series)


def _as_mask(value: Any, frame):
    """The rows to keep: true only (false and unknown are left out)."""
    series = _series(value, frame)
    if str(series.dtype) == "boolean":
        return series.fillna(False).astype(bool)
    if series.dtype == bool:
        return series
    return series.fillna(False).astype(bool)


@functools.lru_cache(maxsize=64)
def compile_expression(expression: str) -> Evaluator:
    """Parse ``expression`` into a function ``frame -> boolean mask``."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise MLTableError(
            f"filter expression {expression!r} is not valid syntax at character {exc.offset}: "
            f'{exc.msg}; write e.g. col("temperature") > 32 and col("location") == "UK".'
        ) from None
    return _build(expression, tree)


def apply_filter(frame, expression: str):
    """The rows of ``frame`` for which ``expression`` holds."""
    mask = _as_mask(compile_expression(expression)(frame), frame)
    return frame[mask.to_numpy()]
