"""Identify the digit in each image of a mini-batch (SDK v1 ParallelRunStep entry script).

On Azure this script finds its model with ``Model.get_model_path("mnist-prs")``; here the
model ships in the step's source directory (``models/model.json``, a nearest-centroid
classifier), since there is no model registry.
"""

import os

import numpy as np
from PIL import Image


def init():
    global centroids
    model_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "model.json")
    import json

    with open(model_path, encoding="utf-8") as handle:
        centroids = np.asarray(json.load(handle)["centroids"], dtype=float)


def run(mini_batch):
    print(f"run method start: {__file__}, run({mini_batch})")
    result_list = []
    for image in mini_batch:
        # prepare each image: 8x8 grey levels, 15 per unit of the model's 0..16 scale
        data = Image.open(image)
        np_im = np.array(data, dtype=float).reshape((1, 64)) / 15.0
        # the nearest centroid is the identified digit
        best_result = int(((centroids - np_im) ** 2).sum(axis=1).argmin())
        result_list.append(f"{os.path.basename(image)}: {best_result}")
    return result_list
