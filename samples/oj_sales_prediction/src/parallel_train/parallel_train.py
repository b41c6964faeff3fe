"""Train one sales-forecast model per partition (one store and brand per mini-batch).

The model is a linear regression on lagged quantities fitted with numpy's least squares;
it is saved as JSON under <model_folder>/<Store>/<Brand>/model.json, and the mini-batch
returns one row: the partition's keys and the model's MAPE on the last weeks.
"""

import argparse
import json
import os

import numpy as np
import pandas as pd


def mape(y_true, y_pred):
    return round(float(np.mean(np.abs((y_true - y_pred) / y_true)) * 100), 2)


def init():
    parser = argparse.ArgumentParser()
    parser.add_argument("--drop_cols", type=str)
    parser.add_argument("--target_col", type=str)
    parser.add_argument("--date_col", type=str)
    parser.add_argument("--lagging_orders", type=str)
    parser.add_argument("--model_folder", type=str)
    args, _ = parser.parse_known_args()

    global target_col, date_col, lagging_orders, model_folder, drop_cols
    target_col = args.target_col
    date_col = args.date_col
    lagging_orders = [int(i) for i in args.lagging_orders.split(",")]
    model_folder = args.model_folder
    drop_cols = args.drop_cols.split(",")


def run(input_data, mini_batch_context):
    if not isinstance(input_data, pd.DataFrame):
        raise Exception("Not a valid DataFrame input.")
    if target_col not in input_data.columns:
        raise Exception("No target column found from input tabular data")
    if date_col not in input_data.columns:
        raise Exception("No date column found from input tabular data")

    keys = mini_batch_context.partition_key_value
    print(f"partition_key_value = {keys}")

    # data cleaning
    data = input_data.copy()
    data[date_col] = pd.to_datetime(data[date_col])
    data = data.set_index(date_col).sort_index(ascending=True)
    data = data.drop(columns=drop_cols, errors="ignore")

    # lagged features
    for lag_order in lagging_orders:
        data["lag_" + str(lag_order)] = data[target_col].shift(lag_order)
    data = data.dropna()

    # training & evaluation on the last 5% of weeks
    features = data.columns.drop(target_col)
    x = np.column_stack([np.ones(len(data)), data[features].to_numpy(dtype=float)])
    y = data[target_col].to_numpy(dtype=float)
    split = max(1, int(len(y) * 0.95))
    coefficients, *_ = np.linalg.lstsq(x[:split], y[:split], rcond=None)
    test_x, test_y = (x[split:], y[split:]) if split < len(y) else (x, y)
    error = mape(test_y, test_x @ coefficients)

    # dump the model under <model_folder>/<key values>
    relative_path = os.path.join(model_folder, *[str(value) for value in keys.values()])
    os.makedirs(relative_path, exist_ok=True)
    with open(os.path.join(relative_path, "model.json"), "w", encoding="utf-8") as handle:
        json.dump({"features": ["intercept", *features], "coefficients": coefficients.tolist()}, handle)

    # one row per partition; rows of every mini-batch are aggregated into append_row_to
    result = pd.DataFrame({key: [value] for key, value in keys.items()})
    result["MAPE"] = error
    return result
