"""``extract_columns_from_partition_format``: column values read from file paths.

``{Store}/{Brand}/{file_name}.{extension}`` makes string columns; ``{Date:yyyy/MM/dd}``
makes one datetime column from several path parts; ``*`` matches any one segment part.
The format is matched against the end of each file's path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from dask_parallel.errors import MLTableError

TOKEN = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
DATE_PARTS = {
    "yyyy": r"\d{4}",
    "MM": r"\d{1,2}",
    "dd": r"\d{1,2}",
    "HH": r"\d{1,2}",
    "mm": r"\d{1,2}",
    "ss": r"\d{1,2}",
}
DATE_PART = re.compile(r"yyyy|MM|dd|HH|mm|ss")


@dataclasses.dataclass(frozen=True)
class PartitionFormat:
    """A compiled partition format: the regex and the columns it defines, in order."""

    text: str
    pattern: str
    columns: tuple[tuple[str, str | None], ...]  # (name, datetime format or None)

    @classmethod
    def parse(cls, text: str) -> PartitionFormat:
        pieces: list[str] = []
        columns: list[tuple[str, str | None]] = []
        position = 0
        groups: dict[str, str] = {}
        for match in TOKEN.finditer(text):
            pieces.append(_literal(text[position : match.start()]))
            name, date_format = match.group(1).strip(), match.group(2)
            if not re.fullmatch(r"[^\s/\\]+", name) or name in {c for c, _ in columns}:
                raise MLTableError(
                    f"Invalid partition_format {text!r}: column name {name!r} is empty, has spaces "
                    "or slashes, or is used twice."
                )
            if date_format is None:
                group = f"g{len(groups)}"
                groups[group] = name
                pieces.append(f"(?P<{group}>[^/\\\\]+)")
            else:
                parts = DATE_PART.findall(date_format)
                if "yyyy" not in parts:
                    raise MLTableError(
                        f"Invalid partition_format {text!r}: the datetime column {name!r} needs a "
                        "yyyy part (use yyyy, MM, dd, HH, mm, ss, e.g. {" + name + ":yyyy/MM/dd})."
                    )
                if len(parts) != len(set(parts)):
                    raise MLTableError(
                        f"Invalid partition_format {text!r}: a date part repeats in {date_format!r}."
                    )
                inner, last = [], 0
                for part in DATE_PART.finditer(date_format):
                    inner.append(_literal(date_format[last : part.start()]))
                    inner.append(f"(?P<{name_group(len(columns), part.group())}>{DATE_PARTS[part.group()]})")
                    last = part.end()
                inner.append(_literal(date_format[last:]))
                pieces.append("".join(inner))
            columns.append((name, date_format))
            position = match.end()
        pieces.append(_literal(text[position:]))
        if not columns:
            raise MLTableError(
                f"Invalid partition_format {text!r}: it defines no column; name columns in braces, "
                "e.g. {Store}/{Brand}/*.csv or {Date:yyyy/MM/dd}/*.csv."
            )
        body = "".join(pieces).lstrip("/")
        return cls(text=text, pattern=f"(?:^|/){body}$", columns=tuple(columns))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def values(self, path: str) -> dict[str, Any]:
        """The column values in ``path``; None for each column when the path does not match."""
        match = re.search(self.pattern, path.replace("\\", "/"))
        if match is None:
            return {name: None for name in self.names}
        found = match.groupdict()
        result: dict[str, Any] = {}
        string_groups = iter(sorted((g for g in found if g.startswith("g")), key=lambda g: int(g[1:])))
        for number, (name, date_format) in enumerate(self.columns):
            if date_format is None:
                result[name] = found[next(string_groups)]
                continue
            parts = {p: int(found[name_group(number, p)]) for p in DATE_PART.findall(date_format)}
            try:
                result[name] = dt.datetime(
                    parts["yyyy"],
                    parts.get("MM", 1),
                    parts.get("dd", 1),
                    parts.get("HH", 0),
                    parts.get("mm", 0),
                    parts.get("ss", 0),
                )
            except ValueError:
                result[name] = None
        return result


def name_group(column: int, part: str) -> str:
    return f"d{column}_{part}"


def _literal(text: str) -> str:
    out = []
    for char in text:
        out.append("[^/\\\\]*" if char == "*" else re.escape(char))
    return "".join(out)
