"""Score text files of sensor readings: one output line per file, "<name>: <label>"."""

import argparse
import os

from azureml_user.parallel_run import EntryScript

threshold = None


def init():
    global threshold
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--threshold", type=float, default=8.0)
    args, _unknown = parser.parse_known_args()
    threshold = args.threshold
    EntryScript().logger.info("init: threshold %s", threshold)


def run(mini_batch):
    results = []
    for path in mini_batch:
        with open(path) as handle:
            values = [float(line) for line in handle if line.strip()]
        mean = sum(values) / len(values)
        label = "high" if mean > threshold else "normal"
        results.append(f"{os.path.basename(path)}: {label} {mean:.3f}")
    return results
