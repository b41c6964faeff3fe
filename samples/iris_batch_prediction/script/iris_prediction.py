"""Predict the iris variety of each row of a mini-batch with the model in --model.

The model is a nearest-centroid classifier stored as JSON (one centroid per variety), so
the sample needs no model registry and no pickled estimator.
"""

import argparse
import json
import os

import numpy as np

iris_model = None


def init():
    global iris_model
    parser = argparse.ArgumentParser(allow_abbrev=False, description="ParallelRunStep Agent")
    parser.add_argument("--model", type=str, default=0)
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.model, "model.json"), encoding="utf-8") as handle:
        iris_model = json.load(handle)


def run(input_data):
    # input_data is a pandas DataFrame: one mini-batch of rows of the MLTable.
    features = input_data.iloc[:, :4].to_numpy(dtype=float)
    centroids = np.asarray(iris_model["centroids"])
    distances = ((features[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    # keep the four measurements, drop the rest, add the prediction
    result = input_data.drop(input_data.columns[4:], axis=1)
    result["variety"] = [iris_model["classes"][i] for i in distances.argmin(axis=1)]
    return result
