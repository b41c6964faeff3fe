"""The MLTable cases of the differential tier: hand-chosen ones, then randomized ones (seeded).

Every case is a folder: data files plus an ``MLTable`` document. The same seed gives the same
cases byte for byte, in the official package's environment and in ours, so the official
results recorded once (``tests/conformance/official/<category>.jsonl``) are compared with
dask_parallel's on every run without the official package. Imports neither loader.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import string
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

SEED = 20261202
CATEGORIES = ("csv", "jsonl", "parquet", "paths", "partitions", "transformations", "errors")
RANDOM_PER_CATEGORY = {
    "csv": 70,
    "jsonl": 60,
    "parquet": 50,
    "paths": 30,
    "partitions": 30,
    "transformations": 110,
    "errors": 40,
}


@dataclasses.dataclass
class Case:
    """One MLTable folder: files by relative path, and the MLTable document."""

    id: str
    category: str
    files: dict[str, bytes]
    document: dict[str, Any]

    def write(self, root: Path) -> Path:
        folder = root / self.id.replace("/", "_")
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (folder / "MLTable").write_text(yaml.safe_dump(self.document, sort_keys=False))
        return folder


# -- helpers ------------------------------------------------------------------------------


def csv_bytes(rows: list[list[Any]], delimiter: str = ",") -> bytes:
    return "".join(delimiter.join("" if v is None else str(v) for v in row) + "\n" for row in rows).encode()


def jsonl_bytes(rows: list[Any]) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def parquet_bytes(table: pa.Table, row_group_size: int | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def doc(paths: list[dict[str, str]] | str, *steps: Any) -> dict[str, Any]:
    if isinstance(paths, str):
        paths = [{"file": paths}]
    document: dict[str, Any] = {"paths": paths}
    if steps:
        document["transformations"] = list(steps)
    return document


def delimited(**options: Any) -> dict[str, Any]:
    return {"read_delimited": options}


def jsonl(**options: Any) -> dict[str, Any]:
    return {"read_json_lines": options}


PARQUET = {"read_parquet": {}}


class Builder:
    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.counts: dict[str, int] = {}

    def add(self, category: str, files: dict[str, bytes], document: dict[str, Any]) -> None:
        number = self.counts.get(category, 0)
        self.counts[category] = number + 1
        self.cases.append(Case(f"{category}/{number:03d}", category, files, document))


# -- hand-chosen cases ----------------------------------------------------------------------


def hand_csv(b: Builder) -> None:
    add = b.add
    basic = csv_bytes([["a", "b", "c"], [1, 1.5, "x"], [2, 2.5, "y"], [3, None, "z"]])
    add("csv", {"a.csv": basic}, doc("./a.csv", delimited()))
    # 1: types and column sets differ between files
    add(
        "csv",
        {"a.csv": csv_bytes([["x", "y"], [1, 2], [3, 4]]), "b.csv": csv_bytes([["x", "y"], [5, 6.5]])},
        doc([{"pattern": "./*.csv"}], delimited()),
    )
    add(
        "csv",
        {"a.csv": csv_bytes([["x", "y"], [1, 2]]), "b.csv": csv_bytes([["x", "y"], [5, "six"]])},
        doc([{"pattern": "./*.csv"}], delimited()),
    )
    add(
        "csv",
        {"a.csv": csv_bytes([["x", "y"], [1, 2]]), "b.csv": csv_bytes([["x", "z"], [5, 7]])},
        doc([{"pattern": "./*.csv"}], delimited(header="all_files_different_headers")),
    )
    add(
        "csv",
        {"a.csv": csv_bytes([["x", "y"], [1, 2]]), "b.csv": csv_bytes([["x", "y", "z"], [5, 6, 7]])},
        doc([{"pattern": "./*.csv"}], delimited(header="all_files_different_headers")),
    )
    # 2: an empty file in the folder
    add(
        "csv",
        {"data/part-0.csv": basic, "data/_SUCCESS": b""},
        doc([{"folder": "./data"}], delimited()),
    )
    add(
        "csv",
        {"data/a.csv": basic, "data/b.csv": b"", "data/c.csv": basic},
        doc([{"pattern": "./data/*.csv"}], delimited()),
    )
    # 3: ISO timestamps with Z or an offset
    add(
        "csv",
        {"a.csv": b"t,v\n2024-01-31T12:34:56Z,1\n2024-02-01T00:00:00Z,2\n"},
        doc("./a.csv", delimited()),
    )
    add(
        "csv",
        {"a.csv": b"t,v\n2024-01-31T12:34:56+02:00,1\n2024-02-01T00:00:00-05:30,2\n"},
        doc("./a.csv", delimited()),
    )
    add("csv", {"a.csv": b"t\n2024-01-31 12:34:56\n2024-02-01 01:02:03\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"t\n2024-01-31\n2024-02-29\n"}, doc("./a.csv", delimited()))
    add(
        "csv",
        {"a.csv": b"t\n2024-01-31T12:34:56.123456\n2024-02-01T00:00:00.5\n"},
        doc("./a.csv", delimited()),
    )
    # 4: quoted empty fields
    add("csv", {"a.csv": b'a\n""\n1\n""\n'}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b'a,b\n"1",""\n"2","x"\n"3",\n'}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b'"a","b"\n"1","2"\n"3","4"\n'}, doc("./a.csv", delimited()))
    # 5: non-ISO dates
    add("csv", {"a.csv": b"d\n01/31/2024\n02/15/2024\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"d\n31/01/2024\n15/02/2024\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"d\n2024/01/31\n2024/02/15\n"}, doc("./a.csv", delimited()))
    # 7: ragged rows
    add("csv", {"a.csv": b"a,b,c\n1,2,3\n4,5\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n1,2\n3,4,5\n6,7\n"}, doc("./a.csv", delimited()))
    # 11: t/f booleans, and other boolean spellings
    add("csv", {"a.csv": b"f\nt\nf\nt\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"f\ntrue\nFalse\nTRUE\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"f\nyes\nno\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"f\n0\n1\n1\n"}, doc("./a.csv", delimited()))
    # 12: values after the inference sample
    rows = [["a", "b"]] + [[i, i] for i in range(10)] + [["x", 4.5]]
    add("csv", {"a.csv": csv_bytes(rows)}, doc("./a.csv", delimited(infer_column_types={"sample_size": 5})))
    rows = [["a"]] + [[i] for i in range(300)] + [["late text"]]
    add("csv", {"a.csv": csv_bytes(rows)}, doc("./a.csv", delimited()))
    # 18: empty_as_string, no_header, header modes, encodings, delimiters
    add("csv", {"a.csv": b"a,b\n1,\n2,x\n"}, doc("./a.csv", delimited(empty_as_string=True)))
    add("csv", {"a.csv": b"a,b\n1,\n2,3\n"}, doc("./a.csv", delimited(empty_as_string=True)))
    add("csv", {"a.csv": b"1,x\n2,y\n"}, doc("./a.csv", delimited(header="no_header")))
    add(
        "csv",
        {"a.csv": b"a,b\n1,x\n", "b.csv": b"2,y\n3,z\n"},
        doc([{"file": "./a.csv"}, {"file": "./b.csv"}], delimited(header="from_first_file")),
    )
    add(
        "csv",
        {"a.csv": b"a,b\n1,x\n", "b.csv": b"a,b\n2,y\n"},
        doc([{"pattern": "./*.csv"}], delimited(header="all_files_same_headers")),
    )
    add(
        "csv", {"a.csv": "a,b\n1,caf\u00e9\n".encode("latin-1")}, doc("./a.csv", delimited(encoding="latin1"))
    )
    add("csv", {"a.csv": "\ufeffa,b\n1,x\n".encode()}, doc("./a.csv", delimited(encoding="utf8")))
    add("csv", {"a.csv": b"a;b\n1;2,5\n3;4\n"}, doc("./a.csv", delimited(delimiter=";")))
    add("csv", {"a.csv": b"a\tb\n1\tx y\n3\tz\n"}, doc("./a.csv", delimited(delimiter="\t")))
    add("csv", {"a.csv": b"a|b\n1|x\n3|z\n"}, doc("./a.csv", delimited(delimiter="|")))
    add(
        "csv",
        {"a.csv": b'a,b\n1,"two\nlines"\n2,x\n'},
        doc("./a.csv", delimited(support_multi_line=True)),
    )
    add("csv", {"a.csv": b"a,b\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n1,2\n"}, doc("./a.csv", delimited(include_path_column=True)))
    add("csv", {"a.csv": b"a,b\n1,2\n"}, doc("./a.csv", delimited(infer_column_types=False)))
    add(
        "csv",
        {"a.csv": b"a,b\n1,2\n3,4\n"},
        doc(
            "./a.csv",
            delimited(
                infer_column_types={"column_type_overrides": [{"columns": "a", "column_type": "string"}]}
            ),
        ),
    )
    add("csv", {"a.csv": b"a,b\n-1,1e3\n+2,-2.5E-2\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b'a,b\n"1,000",2\n"2,500",3\n'}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n 1 , x \n2,y\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\nNaN,null\nNA,none\n1.5,x\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,a,b\n1,2,3\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,,b\n1,2,3\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\r\n1,2\r\n3,4\r\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n1,2\n3,4"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n1,2\n\n3,4\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"big\n9223372036854775807\n1\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"big\n99999999999999999999\n1\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a\n1\n2.0\n3\n"}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b'a,b\n1,"say ""hi"""\n'}, doc("./a.csv", delimited()))
    add("csv", {"a.csv": b"a,b\n1,\xe2\x82\xac\n"}, doc("./a.csv", delimited()))
    add(
        "csv",
        {"a.csv": b'"a\nb",2\n3,4\n'},
        doc("./a.csv", delimited(header="no_header", support_multi_line=True)),
    )
    add("csv", {"a.csv": b"a,b\nY,1\nN,2\n"}, doc("./a.csv", delimited()))


def hand_jsonl(b: Builder) -> None:
    add = b.add
    add(
        "jsonl", {"a.jsonl": jsonl_bytes([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])}, doc("./a.jsonl", jsonl())
    )
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 1}, {"a": "two"}, {"a": 3}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": "one"}, {"a": 2}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": [1, "x"]}, {"a": [2]}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 1}, {"a": 2.5}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 1.5}, {"a": 2}])}, doc("./a.jsonl", jsonl()))
    add(
        "jsonl", {"a.jsonl": jsonl_bytes([{"a": True}, {"a": False}, {"a": None}])}, doc("./a.jsonl", jsonl())
    )
    add(
        "jsonl", {"a.jsonl": jsonl_bytes([{"a": 1}, {"b": 2}, {"a": 3, "c": "z"}])}, doc("./a.jsonl", jsonl())
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": {"x": 1, "y": "q"}}, {"a": {"x": 2}}])},
        doc("./a.jsonl", jsonl()),
    )
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": [1, 2]}, {"a": []}, {"a": None}])}, doc("./a.jsonl", jsonl()))
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1}, "null", {"a": 2}])},
        doc("./a.jsonl", jsonl(invalid_lines="drop")),
    )
    add("jsonl", {"a.jsonl": jsonl_bytes(["null", "null"])}, doc("./a.jsonl", jsonl(invalid_lines="drop")))
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1}, "not json", {"a": 2}])},
        doc("./a.jsonl", jsonl(invalid_lines="drop")),
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1}, "[1, 2]", {"a": 2}])},
        doc("./a.jsonl", jsonl(invalid_lines="drop")),
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"t": "2024-01-31T12:34:56Z"}, {"t": "2024-02-01T00:00:00Z"}])},
        doc("./a.jsonl", jsonl()),
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"t": "2024-01-31"}, {"t": "2024-02-01"}])},
        doc("./a.jsonl", jsonl()),
    )
    add("jsonl", {"a.jsonl": jsonl_bytes([{"s": "caf\u00e9 \u2603"}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": b'{"a": 1}\n\n{"a": 2}\n'}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": b'{"a": 1}\r\n{"a": 2}\r\n'}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": b'{"a": 1}\n{"a": 2}'}, doc("./a.jsonl", jsonl()))
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1}]), "b.jsonl": jsonl_bytes([{"a": 2.5, "b": "x"}])},
        doc([{"pattern": "./*.jsonl"}], jsonl()),
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1}]), "b.jsonl": b""},
        doc([{"pattern": "./*.jsonl"}], jsonl()),
    )
    add(
        "jsonl",
        {"a.jsonl": jsonl_bytes([{"a": 1, "b": None}, {"a": 2, "b": None}])},
        doc("./a.jsonl", jsonl()),
    )
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 1}])}, doc("./a.jsonl", jsonl(include_path_column=True)))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 9007199254740993}, {"a": -1}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": "1"}, {"a": "2"}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": {"b": {"c": [1, {"d": 2}]}}}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": 1}, {"a": True}])}, doc("./a.jsonl", jsonl()))
    add("jsonl", {"a.jsonl": jsonl_bytes([{"a": "x"}, {"a": {"k": 1}}])}, doc("./a.jsonl", jsonl()))
    add(
        "jsonl",
        {"a.jsonl": '{"a": "caf\u00e9"}\n'.encode("latin-1")},
        doc("./a.jsonl", jsonl(encoding="latin1")),
    )


def _pq(columns: dict[str, pa.Array]) -> bytes:
    return parquet_bytes(pa.table(columns))


def hand_parquet(b: Builder) -> None:
    add = b.add
    import datetime as dt
    import decimal

    ints = pa.array([1, 2, 3], pa.int64())
    add(
        "parquet",
        {"a.parquet": _pq({"a": ints, "b": pa.array(["x", "y", None])})},
        doc("./a.parquet", PARQUET),
    )
    # 1: widening across files
    add(
        "parquet",
        {
            "a.parquet": _pq({"a": pa.array([1, 2], pa.int32())}),
            "b.parquet": _pq({"a": pa.array([3], pa.int64())}),
        },
        doc([{"pattern": "./*.parquet"}], PARQUET),
    )
    add(
        "parquet",
        {
            "a.parquet": _pq({"a": pa.array([1, 2], pa.int64())}),
            "b.parquet": _pq({"a": pa.array([3.5], pa.float64())}),
        },
        doc([{"pattern": "./*.parquet"}], PARQUET),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"a": ints, "b": ints}), "b.parquet": _pq({"a": pa.array([4], pa.int64())})},
        doc([{"pattern": "./*.parquet"}], PARQUET),
    )
    add(
        "parquet",
        {
            "a.parquet": _pq({"a": pa.array([4], pa.int64())}),
            "b.parquet": _pq({"a": ints, "c": pa.array(["p", "q", "r"])}),
        },
        doc([{"pattern": "./*.parquet"}], PARQUET),
    )
    # 2: an empty file
    add(
        "parquet",
        {"d/part-0.parquet": _pq({"a": ints}), "d/_SUCCESS": b""},
        doc([{"folder": "./d"}], PARQUET),
    )
    # 17: types, whole and after take/skip
    typed = {
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("2.50"), None], pa.decimal128(6, 2)),
        "tz": pa.array(
            [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 6, 1), None], pa.timestamp("us", tz="UTC")
        ),
        "day": pa.array([dt.date(2024, 1, 31), dt.date(2024, 2, 1), None], pa.date32()),
        "f32": pa.array([1.5, 2.25, None], pa.float32()),
        "i8": pa.array([1, -2, None], pa.int8()),
        "u32": pa.array([1, 2, 3], pa.uint32()),
        "flag": pa.array([True, False, None]),
    }
    for extra in ([], [{"take": 2}], [{"skip": 1}]):
        add("parquet", {"a.parquet": _pq(typed)}, doc("./a.parquet", PARQUET, *extra))
    for name, column in typed.items():
        add("parquet", {"a.parquet": _pq({name: column})}, doc("./a.parquet", PARQUET, {"take": 2}))
    add(
        "parquet",
        {
            "a.parquet": _pq(
                {"s": pa.array([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)], pa.timestamp("s"))}
            )
        },
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"ms": pa.array([dt.datetime(2024, 1, 1, 0, 0, 0, 5000)], pa.timestamp("ms"))})},
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {
            "a.parquet": _pq(
                {"far": pa.array([dt.datetime(3000, 1, 1), dt.datetime(2000, 1, 1)], pa.timestamp("us"))}
            )
        },
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"far": pa.array([dt.datetime(3000, 1, 1)], pa.timestamp("us"))})},
        doc("./a.parquet", PARQUET, {"take": 1}),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"l": pa.array([[1, 2], [3], None], pa.list_(pa.int64()))})},
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {
            "a.parquet": _pq(
                {
                    "st": pa.array(
                        [{"x": 1, "y": "a"}, None], pa.struct([("x", pa.int64()), ("y", pa.string())])
                    )
                }
            )
        },
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"d": pa.array(["a", "b", "a"]).dictionary_encode()})},
        doc("./a.parquet", PARQUET),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"bin": pa.array([b"\x00\x01", b"ok"], pa.binary())})},
        doc("./a.parquet", PARQUET),
    )
    add("parquet", {"a.parquet": _pq({"a": pa.array([], pa.int64())})}, doc("./a.parquet", PARQUET))
    add(
        "parquet",
        {"a.parquet": parquet_bytes(pa.table({"a": pa.array(range(10), pa.int64())}), row_group_size=3)},
        doc("./a.parquet", PARQUET, {"skip": 4}, {"take": 3}),
    )
    add(
        "parquet",
        {"a.parquet": _pq({"a": ints})},
        doc("./a.parquet", {"read_parquet": {"include_path_column": True}}),
    )
    add("parquet", {"a.parquet": _pq({"n": pa.array([None, None], pa.null())})}, doc("./a.parquet", PARQUET))
    add(
        "parquet",
        {"a.parquet": _pq({"f": pa.array([float("nan"), 1.0, float("inf")])})},
        doc("./a.parquet", PARQUET),
    )


def hand_paths(b: Builder) -> None:
    add = b.add
    data = csv_bytes([["a"], [1], [2]])
    add("paths", {"d/a.csv": data, "d/b.csv": data}, doc([{"folder": "./d"}], delimited()))
    add("paths", {"d/a.csv": data, "d/sub/b.csv": data}, doc([{"folder": "./d"}], delimited()))
    add("paths", {"d/a.csv": data, "d/sub/b.csv": data}, doc([{"pattern": "./d/**/*.csv"}], delimited()))
    add("paths", {"d/a.csv": data, "d/sub/b.csv": data}, doc([{"pattern": "./d/*.csv"}], delimited()))
    add("paths", {"a.csv": data, "b.csv": data}, doc([{"file": "./a.csv"}, {"file": "./b.csv"}], delimited()))
    add("paths", {"a.csv": data}, doc([{"file": "./a.csv"}, {"file": "./a.csv"}], delimited()))
    add("paths", {"my file.csv": data}, doc([{"file": "./my file.csv"}], delimited()))
    add("paths", {"a.csv": data}, doc([{"file": "a.csv"}], delimited()))
    add(
        "paths",
        {"d/x1.csv": data, "d/x2.csv": data, "d/y.csv": data},
        doc([{"pattern": "./d/x?.csv"}], delimited()),
    )
    add("paths", {"d/a.csv": data}, doc([{"file": "./d"}], delimited()))
    add("paths", {"d/a.csv": data, "d/b.txt": b"no"}, doc([{"folder": "./d"}]))
    add("paths", {"a.csv": data, "b.csv": data}, doc([{"pattern": "./*.csv"}]))
    add("paths", {"a.csv": data, "b.csv": data}, doc([{"pattern": "./*.csv"}], {"take": 1}))
    add("paths", {"a.csv": data}, doc([{"file": "./missing.csv"}], delimited()))
    add("paths", {"a.csv": data}, doc([{"pattern": "./*.parquet"}], delimited()))
    add("paths", {"a.csv": data}, doc([{"folder": "./nowhere"}], delimited()))
    add("paths", {"d/a.csv": data, "d/b.csv": data}, doc([{"file": "./d"}]))


def hand_partitions(b: Builder) -> None:
    add = b.add
    data = csv_bytes([["v"], [1], [2]])
    files = {"s1/b1/a.csv": data, "s1/b2/a.csv": data, "s2/b1/a.csv": data}
    fmt = {"extract_columns_from_partition_format": {"partition_format": "{store}/{brand}/a.csv"}}
    add("partitions", files, doc([{"pattern": "./**/*.csv"}], delimited(), fmt))
    add("partitions", files, doc([{"pattern": "./**/*.csv"}], delimited(include_path_column=True), fmt))
    add("partitions", files, doc([{"pattern": "./**/*.csv"}], fmt))
    dated = {"2024/01/31/a.csv": data, "2024/02/01/a.csv": data}
    dfmt = {"extract_columns_from_partition_format": {"partition_format": "{d:yyyy/MM/dd}/a.csv"}}
    add("partitions", dated, doc([{"pattern": "./**/*.csv"}], delimited(include_path_column=True), dfmt))
    add("partitions", dated, doc([{"pattern": "./**/*.csv"}], delimited(), dfmt))
    hive = {"year=2024/month=1/a.csv": data, "year=2024/month=2/a.csv": data}
    hfmt = {"extract_columns_from_partition_format": {"partition_format": "year={year}/month={month}/a.csv"}}
    add("partitions", hive, doc([{"pattern": "./**/*.csv"}], delimited(include_path_column=True), hfmt))
    mixed = {"x/2024/01/a.csv": data}
    mfmt = {"extract_columns_from_partition_format": {"partition_format": "{k}/{d:yyyy/MM}/a.csv"}}
    add("partitions", mixed, doc([{"pattern": "./**/*.csv"}], delimited(include_path_column=True), mfmt))


def hand_transformations(b: Builder) -> None:
    add = b.add
    table = csv_bytes(
        [
            ["a", "b", "name", "when"],
            [1, "x", "ann", "2024-01-01"],
            [2, None, "bob", "2024-02-01"],
            [3, "y", "cy", None],
        ]
    )
    files = {"a.csv": table}

    def case(*steps: Any) -> None:
        add("transformations", files, doc("./a.csv", delimited(), *steps))

    case({"keep_columns": ["b", "a"]})
    case({"keep_columns": {"pattern": "na"}})
    case({"drop_columns": {"pattern": "a"}})
    case({"keep_columns": ["a", "missing"]})
    case({"drop_columns": ["missing"]})
    case({"filter": 'col("b") != "x"'})
    case({"filter": 'col("b") == "x"'})
    case({"filter": 'col("a") > 1 and col("b") != "y"'})
    case({"filter": 'col("a") > 5'})
    case({"skip": 10})
    case({"take": 2}, {"skip": 1})
    case({"convert_column_types": [{"columns": "b", "column_type": "boolean"}]})
    case({"convert_column_types": [{"columns": "a", "column_type": "string"}]})
    case({"convert_column_types": [{"columns": "a", "column_type": "float"}]})
    case({"convert_column_types": [{"columns": "when", "column_type": "string"}]})
    case({"convert_column_types": [{"columns": "when", "column_type": "int"}]})
    case({"convert_column_types": [{"columns": "missing", "column_type": "int"}]})
    case(
        {
            "convert_column_types": [
                {
                    "columns": "name",
                    "column_type": {
                        "boolean": {"true_values": ["ann"], "false_values": ["bob"], "mismatch_as": "error"}
                    },
                }
            ]
        }
    )
    case(
        {
            "convert_column_types": [
                {
                    "columns": "name",
                    "column_type": {
                        "boolean": {"true_values": ["ann"], "false_values": ["bob"], "mismatch_as": "true"}
                    },
                }
            ]
        }
    )
    case(
        {
            "convert_column_types": [
                {"columns": "when", "column_type": {"datetime": {"formats": ["%Y-%m-%d"]}}}
            ]
        }
    )
    fractions = {"a.csv": b"v,w,s\n2.7,1,x\n-1.5,0,y\n3,1,z\n"}
    for column_type in ("int", "string", "float", "boolean"):
        for column in ("v", "w", "s"):
            add(
                "transformations",
                fractions,
                doc(
                    "./a.csv",
                    delimited(),
                    {"convert_column_types": [{"columns": column, "column_type": column_type}]},
                ),
            )


def hand_errors(b: Builder) -> None:
    add = b.add
    files = {"a.csv": csv_bytes([["a", "b"], [1, "x"], [2, "y"]])}
    for steps in (
        [delimited(delimiter=",,,")],
        [delimited(header="sometimes")],
        [delimited(encoding="klingon")],
        [delimited(), {"take": 0}],
        [delimited(), {"take": -1}],
        [delimited(), {"skip": "three"}],
        [delimited(), {"filter": 'col("a") >'}],
        [delimited(), {"unknown_step": {}}],
        [delimited(), {"convert_column_types": [{"columns": "a", "column_type": "complex"}]}],
        [delimited(), {"take_random_sample": {"probability": 2, "seed": 1}}],
        [jsonl()],
        [PARQUET],
        [delimited(), delimited()],
        [delimited(), {"select_partitions": [5]}],
    ):
        add("errors", files, doc("./a.csv", *steps))
    add("errors", {"a.jsonl": b'{"a": 1}\nnot json\n'}, doc("./a.jsonl", jsonl()))
    add("errors", {"a.jsonl": b"null\nnull\n"}, doc("./a.jsonl", jsonl()))
    add("errors", {"a.jsonl": b'{"a": 1}\nnull\n'}, doc("./a.jsonl", jsonl()))
    add("errors", {"a.parquet": b"not parquet"}, doc("./a.parquet", PARQUET))
    add("errors", {"a.csv": b"a\n1\n"}, {"paths": "not a list", "transformations": [delimited()]})
    add("errors", {"a.csv": b"a\n1\n"}, {"transformations": [delimited()]})


# -- randomized cases -------------------------------------------------------------------------

KINDS = ("int", "float", "text", "bool", "date", "datetime", "mixed", "category")


def _cell(rng: random.Random, kind: str, null_rate: float) -> Any:
    if rng.random() < null_rate:
        return None
    if kind == "int":
        return rng.randint(-1000, 1000)
    if kind == "float":
        return round(rng.uniform(-100, 100), rng.choice((1, 2, 3)))
    if kind == "text":
        return "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 8)))
    if kind == "bool":
        return rng.choice((True, False))
    if kind == "date":
        return f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == "datetime":
        day = f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return f"{day} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == "category":
        return rng.choice(("red", "green", "blue"))
    return rng.choice((rng.randint(0, 9), "w" + str(rng.randint(0, 9)), round(rng.random(), 2)))


def _random_columns(rng: random.Random, kinds: tuple[str, ...] = KINDS) -> list[tuple[str, str]]:
    count = rng.randint(1, 5)
    return [(f"c{i}_{kind}", kind) for i, kind in enumerate(rng.choice(kinds) for _ in range(count))]


def _random_rows(rng: random.Random, columns: list[tuple[str, str]], count: int) -> list[list[Any]]:
    null_rate = rng.choice((0.0, 0.0, 0.1, 0.3))
    return [[_cell(rng, kind, null_rate) for _, kind in columns] for _ in range(count)]


def _csv_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "True" if v else "False"
    return v


def _random_csv(rng: random.Random, columns, files: int) -> dict[str, bytes]:
    out = {}
    for f in range(files):
        rows = _random_rows(rng, columns, rng.randint(0 if f else 1, 25))
        out[f"part-{f}.csv"] = csv_bytes(
            [[n for n, _ in columns]] + [[_csv_value(v) for v in r] for r in rows]
        )
    return out


def _random_jsonl(rng: random.Random, columns, files: int) -> dict[str, bytes]:
    out = {}
    for f in range(files):
        rows = _random_rows(rng, columns, rng.randint(1, 25))
        objects = [
            {n: v for (n, _), v in zip(columns, r) if not (v is None and rng.random() < 0.5)} for r in rows
        ]
        out[f"part-{f}.jsonl"] = jsonl_bytes(objects)
    return out


def _arrow_column(kind: str, values: list[Any]) -> pa.Array:
    import datetime as dt

    if kind in ("date", "datetime"):
        parsed = [None if v is None else dt.datetime.fromisoformat(v) for v in values]
        return pa.array(parsed, pa.timestamp("us"))
    if kind == "mixed":
        return pa.array([None if v is None else str(v) for v in values])
    return pa.array(values)


def _random_parquet(rng: random.Random, columns, files: int) -> dict[str, bytes]:
    out = {}
    for f in range(files):
        rows = _random_rows(rng, columns, rng.randint(1, 25))
        table = pa.table({n: _arrow_column(k, [r[i] for r in rows]) for i, (n, k) in enumerate(columns)})
        out[f"part-{f}.parquet"] = parquet_bytes(table, row_group_size=rng.choice((None, 4, 7)))
    return out


def _random_steps(rng: random.Random, columns: list[tuple[str, str]], count: int) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    names = [n for n, _ in columns]
    for _ in range(count):
        choice = rng.choice(("take", "skip", "keep", "drop", "filter", "convert", "filter", "convert"))
        if not names:
            break
        if choice == "take":
            steps.append({"take": rng.randint(1, 30)})
        elif choice == "skip":
            # Mostly within the table (1-25 rows a file), now and then past its end.
            steps.append({"skip": rng.choice((1, 2, 3, 5, 8, 13, 40))})
        elif choice == "keep":
            kept = rng.sample(names, rng.randint(1, len(names)))
            steps.append({"keep_columns": kept})
            names = [n for n in names if n in kept]
        elif choice == "drop" and len(names) > 1:
            dropped = rng.choice(names)
            steps.append({"drop_columns": [dropped]})
            names.remove(dropped)
        elif choice == "filter":
            name = rng.choice(names)
            kind = dict(columns)[name]
            steps.append({"filter": _random_filter(rng, name, kind)})
        elif choice == "convert":
            name = rng.choice(names)
            target = rng.choice(("int", "float", "string", "boolean"))
            steps.append({"convert_column_types": [{"columns": name, "column_type": target}]})
            columns = [
                (
                    n,
                    {"int": "int", "float": "float", "string": "text", "boolean": "bool"}[target]
                    if n == name
                    else k,
                )
                for n, k in columns
            ]
    return steps


def _random_filter(rng: random.Random, name: str, kind: str) -> str:
    """Filters that keep some rows as a rule (an empty result is its own, rarer case)."""
    column = f'col("{name}")'
    if kind in ("int", "float"):
        op = rng.choice((">", "<", ">=", "<=", "!=", ">", "<"))
        return f"{column} {op} {rng.randint(-50, 50)}"
    if kind in ("category", "mixed"):
        op = rng.choice(("==", "!=", "!="))
        return f'{column} {op} "{rng.choice(("red", "blue", "w1", "abc"))}"'
    if kind == "text":
        return f'{column} != "{rng.choice(("abc", "x"))}"'
    if kind == "bool":
        literal = rng.choice(("True", "False", "True", "False", "true", "false"))
        return f"{column} == {literal}"
    return f'{column} != "x"'


def random_cases(b: Builder, rng: random.Random) -> None:
    for _ in range(RANDOM_PER_CATEGORY["csv"]):
        columns = _random_columns(rng)
        files = _random_csv(rng, columns, rng.choice((1, 1, 2, 3)))
        options: dict[str, Any] = {}
        if rng.random() < 0.2:
            options["include_path_column"] = True
        if rng.random() < 0.15:
            options["empty_as_string"] = True
        if rng.random() < 0.15:
            options["infer_column_types"] = {"sample_size": rng.randint(2, 10)}
        b.add("csv", files, doc([{"pattern": "./*.csv"}], delimited(**options)))
    for _ in range(RANDOM_PER_CATEGORY["jsonl"]):
        columns = _random_columns(rng)
        files = _random_jsonl(rng, columns, rng.choice((1, 1, 2)))
        b.add("jsonl", files, doc([{"pattern": "./*.jsonl"}], jsonl()))
    for _ in range(RANDOM_PER_CATEGORY["parquet"]):
        columns = _random_columns(rng, ("int", "float", "text", "bool", "datetime", "category"))
        files = _random_parquet(rng, columns, rng.choice((1, 1, 2)))
        steps = _random_steps(rng, columns, rng.choice((0, 0, 1, 2)))
        b.add("parquet", files, doc([{"pattern": "./*.parquet"}], PARQUET, *steps))
    for _ in range(RANDOM_PER_CATEGORY["paths"]):
        columns = [("id", "int"), ("name", "text")]
        layout = {}
        for f in range(rng.randint(1, 5)):
            folder = rng.choice(("", "d/", "d/e/", "x/"))
            layout[f"{folder}f{f}.csv"] = csv_bytes(
                [["id", "name"], *_random_rows(rng, columns, rng.randint(1, 4))]
            )
        entry = rng.choice(
            (
                {"folder": "./d"},
                {"pattern": "./**/*.csv"},
                {"pattern": "./d/*.csv"},
                {"pattern": "./*.csv"},
                {"folder": "."},
            )
        )
        b.add("paths", layout, doc([entry], delimited()))
    for _ in range(RANDOM_PER_CATEGORY["partitions"]):
        keys = rng.sample(("region", "shop", "kind"), rng.randint(1, 2))
        dated = rng.random() < 0.4
        layout = {}
        for f in range(rng.randint(1, 5)):
            parts = [f"{k}{rng.randint(0, 3)}" for k in keys]
            if dated:
                parts.append(f"2024/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}")
            layout["/".join(parts) + f"/f{f}.csv"] = csv_bytes(
                [["v"], [rng.randint(0, 9)], [rng.randint(0, 9)]]
            )
        fmt = "/".join("{" + k + "}" for k in keys) + ("/{day:yyyy/MM/dd}" if dated else "") + "/*.csv"
        read = delimited(include_path_column=rng.random() < 0.6)
        steps: list[Any] = [read] if rng.random() < 0.85 else []
        steps.append({"extract_columns_from_partition_format": {"partition_format": fmt}})
        b.add("partitions", layout, doc([{"pattern": "./**/*.csv"}], *steps))
    for _ in range(RANDOM_PER_CATEGORY["transformations"]):
        columns = _random_columns(rng, ("int", "float", "text", "bool", "category"))
        fmt = rng.choice(("csv", "csv", "jsonl", "parquet"))
        maker = {"csv": _random_csv, "jsonl": _random_jsonl, "parquet": _random_parquet}[fmt]
        read = {"csv": delimited(), "jsonl": jsonl(), "parquet": PARQUET}[fmt]
        files = maker(rng, columns, 1)
        steps = _random_steps(rng, columns, rng.randint(1, 4))
        b.add("transformations", files, doc([{"pattern": "./*." + fmt}], read, *steps))
    for _ in range(RANDOM_PER_CATEGORY["errors"]):
        columns = [("a", "int"), ("b", "text")]
        files = _random_csv(rng, columns, 1)
        broken = rng.choice(
            (
                {"take": rng.choice((0, -3, "x"))},
                {"skip": rng.choice((-1, "y"))},
                {"filter": rng.choice(('col("a") >>> 1', 'col("a" == 1', "((("))},
                {"keep_columns": []},
                {rng.choice(("explode", "pivot", "sort")): {}},
                {
                    "convert_column_types": [
                        {"columns": "a", "column_type": rng.choice(("decimal", "complex"))}
                    ]
                },
                delimited(delimiter=rng.choice(("", "abc"))),
            )
        )
        steps = [broken] if "read_delimited" in broken else [delimited(), broken]
        b.add("errors", files, doc([{"pattern": "./*.csv"}], *steps))


def generate(seed: int = SEED) -> list[Case]:
    """Every case: the hand-chosen ones first, then the randomized ones of ``seed``."""
    b = Builder()
    for hand in (
        hand_csv,
        hand_jsonl,
        hand_parquet,
        hand_paths,
        hand_partitions,
        hand_transformations,
        hand_errors,
    ):
        hand(b)
    random_cases(b, random.Random(seed))
    return b.cases
