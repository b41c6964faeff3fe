"""Split a sales CSV into one folder per partition-key value and describe it as an MLTable.

<output>/<Store>/<Brand>/partitioned_data.csv holds the rows of one store and brand (without
the key columns); the MLTable reads them back, taking Store and Brand from the folder names
(extract_columns_from_partition_format), so a parallel job can use partition_keys.
"""

import argparse
import os
import re

import pandas as pd
import yaml


def safe_name(value: str) -> str:
    return re.sub(r"[.\s\\|*/<>?:\"]", "_", value)


def write_partitions(frame: pd.DataFrame, target: str, keys: list[str]) -> None:
    missing = [key for key in keys if key not in frame.columns]
    if missing:
        raise ValueError(f"partition key columns {missing} are not in the data {list(frame.columns)}")
    for values, group in frame.groupby(keys):
        values = values if isinstance(values, tuple) else (values,)
        folder = os.path.join(target, *[safe_name(str(value)) for value in values])
        os.makedirs(folder, exist_ok=True)
        group.drop(columns=keys).to_csv(os.path.join(folder, "partitioned_data.csv"), index=False)

    layout = "/".join("{" + key + "}" for key in keys) + "/{file_name}.{extension}"
    document = {
        "type": "mltable",
        "paths": [{"pattern": "./**/*.csv"}],
        "transformations": [
            {
                "read_delimited": {
                    "delimiter": ",",
                    "encoding": "ascii",
                    "header": "all_files_same_headers",
                    "empty_as_string": False,
                    "include_path_column": True,
                }
            },
            {"extract_columns_from_partition_format": {"partition_format": layout}},
            {"drop_columns": ["Path", "file_name", "extension"]},
        ],
    }
    with open(os.path.join(target, "MLTable"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(document, handle, default_flow_style=False, sort_keys=False)


parser = argparse.ArgumentParser()
parser.add_argument("--data_source", type=str, required=True)
parser.add_argument("--partition_keys", type=str, required=True)
parser.add_argument("--tabular_output_data", type=str, required=True)
args, _ = parser.parse_known_args()

sales = pd.read_csv(args.data_source)
write_partitions(sales, args.tabular_output_data, args.partition_keys.split(","))
print(f"partitioned {len(sales)} rows by {args.partition_keys} into {args.tabular_output_data}")
