"""Pass-through scoring of file data: copy each file's path into the output folder."""

import argparse
from pathlib import Path


def init():
    global OUTPUT_PATH
    parser = argparse.ArgumentParser(allow_abbrev=False, description="ParallelRunStep Agent")
    parser.add_argument("--job_output_path", type=str, default=0)
    args, _ = parser.parse_known_args()
    OUTPUT_PATH = args.job_output_path
    Path(OUTPUT_PATH).mkdir(parents=True, exist_ok=True)
    print("Pass through init done")


def run(mini_batch):
    # mini_batch is a list of file paths for file data
    for file_path in mini_batch:
        file = Path(file_path)
        print(f"Processing {file}")
        assert file.exists()
        output_dir = Path(OUTPUT_PATH)
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / file.name).write_text(file_path)
    return mini_batch
