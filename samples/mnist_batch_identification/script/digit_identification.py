"""Identify the digit in each image of a mini-batch with the model in --model.

The model is a nearest-centroid classifier (one mean image per digit) stored as JSON.
"""

import argparse
import json
import os

import numpy as np
from PIL import Image


def init():
    global centroids, scale

    parser = argparse.ArgumentParser(allow_abbrev=False, description="ParallelRunStep Agent")
    parser.add_argument("--model", type=str, default=0)
    args, _ = parser.parse_known_args()

    # the model folder was downloaded next to the job (mode: download)
    with open(os.path.join(args.model, "model.json"), encoding="utf-8") as handle:
        model = json.load(handle)
    centroids = np.asarray(model["centroids"], dtype=float)
    scale = 15.0  # prepare_data wrote pixel * 15


def run(mini_batch):
    print(f"run method start: {__file__}, run({len(mini_batch)} files)")
    result_list = []
    for image in mini_batch:
        # prepare each image
        data = Image.open(image)
        np_im = np.array(data, dtype=float).reshape((1, 64)) / scale
        # nearest centroid is the identified digit
        best_result = int(((centroids - np_im) ** 2).sum(axis=1).argmin())
        result_list.append(f"{os.path.basename(image)}: {best_result}")
    return result_list
