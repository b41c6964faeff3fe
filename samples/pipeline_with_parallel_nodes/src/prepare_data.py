"""Copy the CSV files of the input folder into two MLTable outputs.

file_output_data lists the files (no read transformation: a parallel step gets file
paths); tabular_output_data reads them as one table (a parallel step gets DataFrames).
"""

import argparse
import glob
import os
import shutil

FILES_MLTABLE = """type: mltable
paths:
  - pattern: ./*.csv
"""

TABULAR_MLTABLE = """type: mltable
paths:
  - pattern: ./*.csv
transformations:
  - read_delimited:
      delimiter: ","
      encoding: utf8
      header: all_files_same_headers
"""

parser = argparse.ArgumentParser()
parser.add_argument("--input_data", required=True)
parser.add_argument("--file_output_data", required=True)
parser.add_argument("--tabular_output_data", required=True)
args = parser.parse_args()

sources = sorted(glob.glob(os.path.join(args.input_data, "*.csv")))
print(f"preparing {len(sources)} files from {args.input_data}")
for folder, mltable in (
    (args.file_output_data, FILES_MLTABLE),
    (args.tabular_output_data, TABULAR_MLTABLE),
):
    os.makedirs(folder, exist_ok=True)
    for source in sources:
        shutil.copy(source, folder)
    with open(os.path.join(folder, "MLTable"), "w") as handle:
        handle.write(mltable)
