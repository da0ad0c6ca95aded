#!/usr/bin/python3
"""Trains the reference XGBoost models of tests/data/trees/ (docs/trees.md).

Run with Debian's python3 (apt-get install python3-xgboost python3-sklearn):
    /usr/bin/python3 tools/train_tree_models.py [OUT_DIR]
Writes, per model, <name>.json (XGBoost's save_model JSON), <name>.test.csv (test features,
no header), <name>.labels.csv (test labels) and <name>.xgb_pred.csv (XGBoost's own
predict() on the test features: class probabilities, or the value, %.9g). Seeds and the
train/test split are fixed so that a re-run gives the same files for one XGBoost version.
"""
import os
import sys

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.model_selection import train_test_split

SEED = 0


def write_csv(path, rows):
    with open(path, "w") as f:
        for row in np.atleast_2d(rows):
            f.write(",".join("nan" if np.isnan(v) else "%.9g" % v for v in row) + "\n")


def train(out_dir, name, x, y, params, rounds, test_size=0.25, missing_fraction=0.0):
    x = x.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=SEED)
    if missing_fraction > 0:
        # Some missing values in training and test data, so that default directions matter.
        rng = np.random.default_rng(SEED)
        x_train = x_train.copy()
        x_test = x_test.copy()
        x_train[rng.random(x_train.shape) < missing_fraction] = np.nan
        x_test[rng.random(x_test.shape) < missing_fraction] = np.nan
    dtrain = xgb.DMatrix(x_train, label=y_train, missing=np.nan)
    booster = xgb.train(dict(params, seed=SEED, nthread=1), dtrain, num_boost_round=rounds)
    booster.save_model(os.path.join(out_dir, name + ".json"))
    pred = booster.predict(xgb.DMatrix(x_test, missing=np.nan))
    if pred.ndim == 1:
        pred = pred[:, None]
    write_csv(os.path.join(out_dir, name + ".test.csv"), x_test)
    write_csv(os.path.join(out_dir, name + ".labels.csv"), np.asarray(y_test, float)[:, None])
    write_csv(os.path.join(out_dir, name + ".xgb_pred.csv"), pred)
    print(name, "trees:", rounds * params.get("num_class", 1), "test samples:", len(x_test))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "trees")
    os.makedirs(out_dir, exist_ok=True)
    x, y = load_breast_cancer(return_X_y=True)
    train(out_dir, "breast_cancer", x, y,
          {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3}, 30,
          missing_fraction=0.05)
    x, y = load_digits(return_X_y=True)
    train(out_dir, "digits", x, y,
          {"objective": "multi:softprob", "num_class": 10, "max_depth": 4, "eta": 0.3}, 8)
    x, y = load_diabetes(return_X_y=True)
    train(out_dir, "diabetes", x, y,
          {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.1}, 50)
    # The benchmark model: 100 trees of depth 6 on a synthetic binary problem.
    x, y = make_classification(n_samples=20000, n_features=20, n_informative=12,
                               random_state=SEED)
    train(out_dir, "synthetic100", x, y,
          {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1}, 100, test_size=0.1)


if __name__ == "__main__":
    main()
