"""The ``transformations`` section: every step validated, with its defaults, into a :class:`Step`.

Validation happens once, on load; readers and transforms below trust what they get.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from dask_parallel.errors import MLTableError

READ_STEPS = ("read_delimited", "read_parquet", "read_json_lines", "read_delta_lake")
HEADER_MODES = ("no_header", "from_first_file", "all_files_different_headers", "all_files_same_headers")
ENCODINGS = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf8 bom": "utf-8-sig",
    "utf8bom": "utf-8-sig",
    "iso88591": "latin-1",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "ascii": "ascii",
    "utf16": "utf-16",
    "utf-16": "utf-16",
    "utf32": "utf-32",
    "windows1252": "cp1252",
    "windows-1252": "cp1252",
}
SIMPLE_COLUMN_TYPES = ("int", "float", "string", "boolean", "datetime")
# The texts a boolean conversion reads by default, as the official reader (type inference of
# delimited text also takes y/n, see text_types).
BOOLEAN_TRUE = ("true", "True", "TRUE", "t", "T", "1")
BOOLEAN_FALSE = ("false", "False", "FALSE", "f", "F", "0")


@dataclasses.dataclass(frozen=True)
class Step:
    """One validated transformation: its name, position and options with defaults filled in."""

    name: str
    index: int
    options: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    @property
    def is_read(self) -> bool:
        return self.name in READ_STEPS


class _Checker:
    """Builds error messages that say which file, which step and which option."""

    def __init__(self, where: str, index: int, name: str) -> None:
        self.where, self.index, self.name = where, index, name

    def fail(self, option: str | None, problem: str) -> MLTableError:
        key = f"transformations[{self.index}].{self.name}" + (f".{option}" if option else "")
        return MLTableError(f"{self.where}: {key}: {problem}")

    def boolean(self, option: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(option, f"must be true or false (got {value!r}).")
        return value

    def string(self, option: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(option, f"must be a non-empty string (got {value!r}).")
        return value

    def integer(self, option: str, value: Any, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(option, f"must be an integer >= {minimum} (got {value!r}).")
        return value

    def choice(self, option: str, value: Any, allowed: tuple[str, ...] | dict) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise self.fail(option, f"must be one of {', '.join(allowed)} (got {value!r}).")
        return value.lower()

    def options(self, args: Any, defaults: dict[str, Any]) -> dict[str, Any]:
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise self.fail(None, f"takes a mapping of options {sorted(defaults)} (got {args!r}).")
        unknown = sorted(set(args) - set(defaults), key=str)
        if unknown:
            raise self.fail(
                None,
                f"unknown option {unknown[0]!r}; allowed options are {', '.join(sorted(defaults))}.",
            )
        return {**defaults, **args}


def _encoding(check: _Checker, value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in ENCODINGS:
        raise check.fail("encoding", f"{value!r} is not supported; use one of {', '.join(ENCODINGS)}.")
    return ENCODINGS[value.lower()]


def _path_options(check: _Checker, options: dict[str, Any]) -> None:
    options["include_path_column"] = check.boolean("include_path_column", options["include_path_column"])
    options["path_column"] = check.string("path_column", options["path_column"])


def _partition_size(check: _Checker, options: dict[str, Any]) -> None:
    if options.get("partition_size") is not None:
        from dask_parallel.spec.sizes import parse_byte_size

        try:
            options["partition_size"] = parse_byte_size(options["partition_size"], "partition_size")
        except Exception as exc:  # noqa: BLE001 - re-raised with the location
            raise check.fail("partition_size", str(exc)) from None


def _read_delimited(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(
        args,
        {
            "delimiter": ",",
            "header": "all_files_same_headers",
            "encoding": "utf8",
            "empty_as_string": False,
            "include_path_column": False,
            "path_column": "Path",
            "support_multi_line": False,
            "infer_column_types": True,
            "partition_size": None,
        },
    )
    delimiter = options["delimiter"]
    if not isinstance(delimiter, str) or not 1 <= len(delimiter) <= 2:
        raise check.fail("delimiter", f"must be a string of 1 or 2 characters (got {delimiter!r}).")
    header = options["header"]
    if header not in HEADER_MODES:
        raise check.fail(
            "header",
            f"Given invalid header {header!r}, supported headers are: 'no_header', "
            "'from_first_file', 'all_files_different_headers', and 'all_files_same_headers'.",
        )
    options["encoding"] = _encoding(check, options["encoding"])
    for flag in ("empty_as_string", "support_multi_line"):
        options[flag] = check.boolean(flag, options[flag])
    _path_options(check, options)
    _partition_size(check, options)
    options["infer_column_types"] = _inference(check, options["infer_column_types"])
    return options


def _inference(check: _Checker, value: Any) -> dict[str, Any] | None:
    """None means every column is a string; otherwise sample size and per-column overrides."""
    if value is False:
        return None
    if value is True:
        return {"sample_size": 200, "column_type_overrides": ()}
    if not isinstance(value, dict):
        raise check.fail(
            "infer_column_types",
            f"must be true, false or {{sample_size: N, column_type_overrides: [...]}} (got {value!r}).",
        )
    unknown = sorted(set(value) - {"sample_size", "column_type_overrides"})
    if unknown:
        raise check.fail(
            "infer_column_types",
            f"unknown option {unknown[0]!r}; allowed options are column_type_overrides, sample_size.",
        )
    sample = check.integer("infer_column_types.sample_size", value.get("sample_size", 200), 1)
    overrides = _conversions(check, value.get("column_type_overrides") or [], "column_type_overrides")
    return {"sample_size": sample, "column_type_overrides": overrides}


def _read_parquet(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(args, {"include_path_column": False, "path_column": "Path"})
    _path_options(check, options)
    return options


def _read_json_lines(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(
        args,
        {
            "invalid_lines": "error",
            "encoding": "utf8",
            "include_path_column": False,
            "path_column": "Path",
            "partition_size": None,
        },
    )
    options["invalid_lines"] = check.choice("invalid_lines", options["invalid_lines"], ("error", "drop"))
    options["encoding"] = _encoding(check, options["encoding"])
    _path_options(check, options)
    _partition_size(check, options)
    return options


def _read_delta_lake(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(
        args,
        {"version_as_of": None, "timestamp_as_of": None, "include_path_column": False, "path_column": "Path"},
    )
    version, stamp = options["version_as_of"], options["timestamp_as_of"]
    if version is not None and stamp is not None:
        raise check.fail(
            None,
            f"Both version_as_of ({version!r}) and timestamp_as_of ({stamp!r}) were provided, but "
            "only one of version_as_of or timestamp_as_of can be specified.",
        )
    if version is not None:
        check.integer("version_as_of", version, 0)
    if stamp is not None:
        if isinstance(stamp, dt.datetime):
            parsed = stamp
        else:
            try:
                parsed = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                raise check.fail(
                    "timestamp_as_of",
                    f"{stamp!r} is not in RFC-3339/ISO-8601 format, e.g. 2022-10-01T00:00:00Z.",
                ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        options["timestamp_as_of"] = parsed.isoformat()
    _path_options(check, options)
    return options


def _count(check: _Checker, args: Any) -> dict[str, Any]:
    if isinstance(args, bool) or not isinstance(args, int) or args <= 0:
        raise check.fail(None, f"must be an integer greater than 0 (got {args!r}).")
    return {"count": args}


def _take_random_sample(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(args, {"probability": None, "seed": None})
    probability = options["probability"]
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 < probability < 1:
        raise check.fail("probability", f"must be a number between 0 and 1, exclusive (got {probability!r}).")
    if options["seed"] is None:
        raise check.fail(
            "seed",
            "is required so that the sample is reproducible on every worker and every run; "
            "add e.g. seed: 42.",
        )
    check.integer("seed", options["seed"], 0)
    return options


def _sample(check: _Checker, args: Any) -> dict[str, Any]:
    options = check.options(args, {"sampler": None, "sampler_arguments": {}})
    check.choice("sampler", options["sampler"], ("random_percent", "randompercent"))
    arguments = options["sampler_arguments"]
    if not isinstance(arguments, dict):
        raise check.fail("sampler_arguments", f"must be a mapping (got {arguments!r}).")
    allowed = {"seed", "probability", "probability_lower_bound"}
    unknown = sorted(set(arguments) - allowed)
    if unknown:
        raise check.fail("sampler_arguments", f"unknown option {unknown[0]!r}; allowed: {sorted(allowed)}.")
    lower = arguments.get("probability_lower_bound", 0.0) or 0.0
    upper = arguments.get("probability")
    if not isinstance(upper, (int, float)) or not 0 <= lower < upper <= 1:
        raise check.fail(
            "sampler_arguments",
            f"needs 0 <= probability_lower_bound < probability <= 1 (got {lower!r} and {upper!r}).",
        )
    seed = check.integer("sampler_arguments.seed", arguments.get("seed"), 0)
    return {"probability": upper, "probability_lower_bound": lower, "seed": seed}


def _selector(check: _Checker, value: Any, option: str | None = None) -> Any:
    """A column name, a list of names, or ``{pattern, ignore_case, invert}``."""
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise check.fail(option, f"Found duplicate columns in given column names: {duplicates}.")
        return tuple(value)
    if isinstance(value, dict) and "pattern" in value:
        unknown = sorted(set(value) - {"pattern", "ignore_case", "invert"})
        if unknown:
            raise check.fail(
                option, f"unknown selector option {unknown[0]!r}; allowed: pattern, ignore_case, invert."
            )
        import re

        try:
            re.compile(value["pattern"])
        except (re.error, TypeError) as exc:
            raise check.fail(
                option, f"pattern {value['pattern']!r} is not a valid regular expression: {exc}."
            )
        return {
            "pattern": value["pattern"],
            "ignore_case": check.boolean("ignore_case", value.get("ignore_case", False)),
            "invert": check.boolean("invert", value.get("invert", False)),
        }
    raise check.fail(
        option,
        "must be a column name, a list of column names, or {{pattern: <regex>, ignore_case: false, "
        f"invert: false}} (got {value!r}).",
    )


def _columns(check: _Checker, args: Any) -> dict[str, Any]:
    if isinstance(args, dict) and "columns" in args and len(args) == 1:
        args = args["columns"]
    return {"columns": _selector(check, args)}


def _column_type(check: _Checker, value: Any, option: str) -> dict[str, Any]:
    if isinstance(value, str):
        if value == "stream_info":
            raise check.fail(option, "stream_info columns need Azure; use string to keep the path text.")
        if value not in SIMPLE_COLUMN_TYPES:
            raise check.fail(option, f"must be one of {', '.join(SIMPLE_COLUMN_TYPES)} (got {value!r}).")
        if value == "datetime":
            raise check.fail(option, "datetime needs formats, e.g. {datetime: {formats: ['%Y-%m-%d']}}.")
        return {"type": value}
    if isinstance(value, dict) and len(value) == 1:
        kind, spec = next(iter(value.items()))
        spec = spec or {}
        if kind == "boolean":
            unknown = sorted(set(spec) - {"true_values", "false_values", "mismatch_as"})
            if unknown:
                raise check.fail(
                    option,
                    f"unknown boolean option {unknown[0]!r}; allowed: true_values, false_values, "
                    "mismatch_as.",
                )
            true_values, false_values = spec.get("true_values"), spec.get("false_values")
            if (true_values is None) != (false_values is None):
                raise check.fail(option, "true_values and false_values must be given together, or neither.")
            if true_values is not None:
                true_values, false_values = [str(v) for v in true_values], [str(v) for v in false_values]
                overlap = sorted(set(true_values) & set(false_values))
                if overlap:
                    raise check.fail(option, f"true_values and false_values overlap: {overlap}.")
            mismatch = spec.get("mismatch_as", "error")
            if isinstance(mismatch, bool):  # YAML reads an unquoted true/false as a boolean
                mismatch = str(mismatch).lower()
            check.choice(f"{option}.mismatch_as", mismatch, ("error", "true", "false"))
            return {
                "type": "boolean",
                "true_values": tuple(true_values or BOOLEAN_TRUE),
                "false_values": tuple(false_values or BOOLEAN_FALSE),
                "mismatch_as": str(mismatch).lower(),
            }
        if kind == "datetime":
            unknown = sorted(set(spec) - {"formats", "date_constant"})
            if unknown:
                raise check.fail(
                    option, f"unknown datetime option {unknown[0]!r}; allowed: formats, date_constant."
                )
            formats = spec.get("formats")
            if isinstance(formats, str):
                formats = [formats]
            if not formats or not all(isinstance(f, str) and f for f in formats):
                raise check.fail(
                    option, "datetime needs formats: a strftime format or a list, e.g. ['%Y-%m-%d']."
                )
            return {"type": "datetime", "formats": tuple(formats), "date_constant": spec.get("date_constant")}
        if kind in ("int", "float", "string") and not spec:
            return {"type": kind}
    raise check.fail(
        option,
        "must be int, float, string, boolean, {boolean: {true_values, false_values, mismatch_as}} "
        f"or {{datetime: {{formats: [...]}}}} (got {value!r}).",
    )


def _conversions(check: _Checker, args: Any, option: str | None = None) -> tuple[dict[str, Any], ...]:
    if isinstance(args, dict):
        args = [args]
    if not isinstance(args, list):
        raise check.fail(option, f"must be a list of {{columns: ..., column_type: ...}} (got {args!r}).")
    result = []
    for number, item in enumerate(args):
        where = f"{option}[{number}]" if option else f"[{number}]"
        if not isinstance(item, dict) or set(item) != {"columns", "column_type"}:
            raise check.fail(where, f"must be a mapping with exactly columns and column_type (got {item!r}).")
        result.append(
            {
                "columns": _selector(check, item["columns"], f"{where}.columns"),
                "column_type": _column_type(check, item["column_type"], f"{where}.column_type"),
            }
        )
    return tuple(result)


def _convert_column_types(check: _Checker, args: Any) -> dict[str, Any]:
    return {"conversions": _conversions(check, args)}


def _filter(check: _Checker, args: Any) -> dict[str, Any]:
    from dask_parallel.inputs.mltable.expressions import compile_expression

    if not isinstance(args, str) or not args.strip():
        raise check.fail(None, f"must be an expression string such as 'col(\"age\") > 30' (got {args!r}).")
    try:
        compile_expression(args)
    except MLTableError as exc:
        raise check.fail(None, str(exc)) from None
    return {"expression": args}


def _partition_format(check: _Checker, args: Any) -> dict[str, Any]:
    from dask_parallel.inputs.mltable.partition_format import PartitionFormat

    if isinstance(args, dict) and "partition_format" not in args and len(args) == 1:
        key, value = next(iter(args.items()))
        if (
            value is None
        ):  # the YAML shorthand {timestamp:yyyy/MM/dd} parses as {"timestamp:yyyy/MM/dd": None}
            args = {"partition_format": "{" + str(key) + "}"}
    if isinstance(args, str):
        args = {"partition_format": args}
    options = check.options(args, {"partition_format": None})
    text = check.string("partition_format", options["partition_format"])
    try:
        PartitionFormat.parse(text)
    except MLTableError as exc:
        raise check.fail("partition_format", str(exc)) from None
    return {"partition_format": text}


def _select_partitions(check: _Checker, args: Any) -> dict[str, Any]:
    if isinstance(args, int) and not isinstance(args, bool):
        args = [args]
    if not isinstance(args, list) or not args or not all(isinstance(i, int) and i >= 0 for i in args):
        raise check.fail(None, f"must be a list of partition indices >= 0 (got {args!r}).")
    return {"indices": tuple(args)}


VALIDATORS: dict[str, Callable[[_Checker, Any], dict[str, Any]]] = {
    "read_delimited": _read_delimited,
    "read_parquet": _read_parquet,
    "read_json_lines": _read_json_lines,
    "read_delta_lake": _read_delta_lake,
    "take": _count,
    "skip": _count,
    "take_random_sample": _take_random_sample,
    "sample": _sample,
    "drop_columns": _columns,
    "keep_columns": _columns,
    "convert_column_types": _convert_column_types,
    "filter": _filter,
    "extract_columns_from_partition_format": _partition_format,
    "select_partitions": _select_partitions,
}
BARE_STRING_STEPS = ("read_delimited", "read_parquet", "read_json_lines", "read_delta_lake")
UNSUPPORTED = {
    "read_files": (
        "read_files needs Azure's stream handlers; use read_delimited, read_parquet or read_json_lines."
    ),
    "summarize": "summarize is generated by the Azure SDK for profiling and has no local equivalent.",
}


def parse_step(where: str, index: int, raw: Any) -> Step:
    """Validate one entry of ``transformations``."""
    if isinstance(raw, str):
        name, args = raw, None
        if name in VALIDATORS and name not in BARE_STRING_STEPS:
            raise MLTableError(
                f"{where}: transformations[{index}]: {name!r} needs arguments, e.g. {{{name}: ...}}."
            )
    elif isinstance(raw, dict) and len(raw) == 1:
        name, args = next(iter(raw.items()))
        name = str(name)
    else:
        raise MLTableError(
            f"{where}: transformations[{index}]: each step must be a name or a one-key mapping such "
            f"as {{read_delimited: {{delimiter: ','}}}} (got {raw!r})."
        )
    if name in UNSUPPORTED:
        raise MLTableError(f"{where}: transformations[{index}]: {UNSUPPORTED[name]}")
    validator = VALIDATORS.get(name)
    if validator is None:
        raise MLTableError(
            f"{where}: transformations[{index}]: unknown transformation {name!r}; allowed "
            f"transformations are {', '.join(sorted(VALIDATORS))}."
        )
    check = _Checker(where, index, name)
    if args is None and name in ("take", "skip"):
        raise check.fail(None, "must be an integer greater than 0 (got nothing).")
    return Step(name=name, index=index, options=validator(check, args))


def parse_steps(where: str, raw: Any) -> tuple[Step, ...]:
    """Validate the whole ``transformations`` list: at most one read step, and it comes first."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MLTableError(f"{where}: transformations must be a list of steps (got {raw!r}).")
    steps = tuple(parse_step(where, index, item) for index, item in enumerate(raw))
    reads = [s for s in steps if s.is_read]
    if len(reads) > 1:
        raise MLTableError(
            f"{where}: transformations: only one read transformation is allowed (found "
            f"{', '.join(s.name for s in reads)})."
        )
    if reads and steps[0] is not reads[0]:
        raise MLTableError(
            f"{where}: transformations[{reads[0].index}]: {reads[0].name} must be the first "
            "transformation; move it to the top of the list."
        )
    if reads and reads[0].name == "read_delta_lake":
        for step in steps:
            if step.name == "extract_columns_from_partition_format":
                raise MLTableError(
                    f"{where}: transformations[{step.index}]: extract_columns_from_partition_format "
                    "does not work with read_delta_lake; Delta partition columns are read from the table."
                )
    return steps
