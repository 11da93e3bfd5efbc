#!/usr/bin/python3
"""Golden data for the XGBoost JSON loader and `audit predict`: small models trained with Debian's
python3-xgboost (1.7.x) on data with missing values, saved with Booster.save_model("*.json").

Writes tests/golden/data/models/:
  data.csv                 input rows (header f0..f4, empty field = NaN), used for every model
  edge.csv                 rows built from the thresholds of xgb_binary_logistic.json: exactly at a
                           float32 split value, the next double above/below it (same float32), the
                           next float32 above/below, NaN; checks the float32 `<` comparison
  <model>.json             the model
  <model>.margin.csv       Booster.predict(output_margin=True) on data.csv (edge.csv for *.edge.*)
  <model>.pred.csv         Booster.predict() (probabilities, values, or the class for multi:softmax)
Expected values come from a Booster re-loaded from the saved JSON, so they describe the file.
Numbers are written with repr() of the float32 result (exact). Run from anywhere:
  /usr/bin/python3 tests/golden/gen_models.py
"""
import json
from pathlib import Path

import numpy as np
import xgboost as xgb

OUT = Path(__file__).resolve().parent / "data" / "models"
N, F = 300, 5
NAMES = ["f0", "f1", "f2", "f3", "f4"]


def make_data(seed=7):
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(size=N),
        rng.uniform(-3, 3, size=N),
        rng.lognormal(size=N),
        rng.integers(0, 10, size=N).astype(float),
        rng.normal(1000, 300, size=N),
    ])
    X[rng.random(X.shape) < 0.12] = np.nan
    X[5] = np.nan                      # an all-missing row
    z = np.nan_to_num(X[:, 0]) - 0.5 * np.nan_to_num(X[:, 1]) + 0.1 * np.nan_to_num(X[:, 3])
    return X, z, rng


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join("" if (isinstance(v, float) and np.isnan(v)) else repr(float(v))
                             for v in r) + "\n")


def write_out(path, values, n_out):
    values = np.asarray(values).reshape(len(values), -1)
    header = ["value"] if values.shape[1] == 1 else [f"value@{k}" for k in range(values.shape[1])]
    assert values.shape[1] == n_out
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in values:
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def edge_rows(model_path, rng):
    """Rows that put values exactly at, and next to, float32 split conditions."""
    j = json.loads(Path(model_path).read_text())
    splits = []
    for t in j["learner"]["gradient_booster"]["model"]["trees"]:
        for i, l in enumerate(t["left_children"]):
            if l != -1:
                splits.append((t["split_indices"][i], np.float32(t["split_conditions"][i])))
    rows = []
    for k in range(200):
        f, c = splits[k % len(splits)]
        c64 = float(c)
        variants = [c64, np.nextafter(c64, np.inf), np.nextafter(c64, -np.inf),
                    float(np.nextafter(c, np.float32(np.inf))),
                    float(np.nextafter(c, np.float32(-np.inf))), float("nan")]
        r = [float(v) for v in rng.normal(size=F)]
        r[4] = 1000.0 + 300.0 * r[4]
        r[f] = variants[k % len(variants)]
        # a second feature at a threshold too, for deeper paths
        f2, c2 = splits[(7 * k + 3) % len(splits)]
        if f2 != f:
            r[f2] = float(c2)
        rows.append(r)
    return np.array(rows)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    X, z, rng = make_data()
    write_csv(OUT / "data.csv", NAMES, X)
    prob = 1 / (1 + np.exp(-z))
    ybin = (rng.random(N) < prob).astype(float)
    yreg = 3 * z + rng.normal(size=N)
    ycls = np.digitize(z + 0.3 * rng.normal(size=N), [-0.5, 0.5]).astype(float)
    ycnt = rng.poisson(np.exp(0.4 * np.clip(z, -3, 3)))
    yfrac = np.clip(prob + 0.1 * rng.normal(size=N), 0, 1)
    base = {"max_depth": 4, "eta": 0.3, "seed": 1, "nthread": 1}
    specs = [
        ("xgb_binary_logistic", {"objective": "binary:logistic"}, ybin, 20),
        ("xgb_binary_logitraw", {"objective": "binary:logitraw", "base_score": 0.3}, ybin, 15),
        ("xgb_reg_squarederror", {"objective": "reg:squarederror"}, yreg, 20),
        ("xgb_reg_logistic", {"objective": "reg:logistic", "base_score": 0.4}, yfrac, 15),
        ("xgb_multi_softprob", {"objective": "multi:softprob", "num_class": 3}, ycls, 10),
        ("xgb_multi_softmax", {"objective": "multi:softmax", "num_class": 3}, ycls, 8),
        ("xgb_count_poisson", {"objective": "count:poisson"}, ycnt, 20),
        ("xgb_dart", {"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.3,
                      "skip_drop": 0.0, "normalize_type": "forest"}, ybin, 12),
        ("xgb_rf", {"objective": "reg:squarederror", "num_parallel_tree": 4, "subsample": 0.7,
                    "colsample_bynode": 0.7, "eta": 1.0}, yreg, 2),
        ("xgb_rf_multi", {"objective": "multi:softprob", "num_class": 3, "num_parallel_tree": 3,
                          "subsample": 0.7, "colsample_bynode": 0.7}, ycls, 3),
        ("xgb_unnamed", {"objective": "binary:logistic", "max_depth": 3}, ybin, 5),
        # gamma pruning leaves deleted nodes (split_indices 2147483647) inside the arrays
        ("xgb_pruned", {"objective": "reg:squarederror", "max_depth": 6, "gamma": 20.0,
                        "eta": 0.5}, yreg, 6),
    ]
    for name, params, y, rounds in specs:
        p = dict(base)
        p.update(params)
        names = None if name == "xgb_unnamed" else NAMES
        dtrain = xgb.DMatrix(X, label=y, feature_names=names, missing=np.nan)
        bst = xgb.train(p, dtrain, rounds)
        path = OUT / f"{name}.json"
        bst.save_model(str(path))
        re = xgb.Booster(model_file=str(path))
        d = xgb.DMatrix(X, feature_names=names, missing=np.nan)
        n_out = p.get("num_class", 1)
        write_out(OUT / f"{name}.margin.csv", re.predict(d, output_margin=True), n_out)
        pred = re.predict(d)
        write_out(OUT / f"{name}.pred.csv", pred, 1 if name.endswith("softmax") else n_out)
        if name == "xgb_pruned":
            t = json.loads(path.read_text())["learner"]["gradient_booster"]["model"]["trees"]
            assert sum(int(x["tree_param"]["num_deleted"]) for x in t) > 0, "nothing pruned"
        if name == "xgb_dart":
            w = json.loads(path.read_text())["learner"]["gradient_booster"]["weight_drop"]
            assert any(abs(v - 1.0) > 1e-6 for v in w), "dart weights all 1: not a useful test"
    # early stopping: best_iteration before the last round; expected values use every tree
    # (Booster.predict), and audit warns that XGBClassifier.predict would stop earlier
    dtr = xgb.DMatrix(X[:200], label=ybin[:200], feature_names=NAMES)
    dva = xgb.DMatrix(X[200:], label=ybin[200:], feature_names=NAMES)
    bst = xgb.train(dict(base, objective="binary:logistic", eta=0.8, max_depth=5), dtr, 60,
                    evals=[(dva, "valid")], early_stopping_rounds=3, verbose_eval=False)
    path = OUT / "xgb_early_stopped.json"
    bst.save_model(str(path))
    attrs = json.loads(path.read_text())["learner"]["attributes"]
    n_trees = len(json.loads(path.read_text())["learner"]["gradient_booster"]["model"]["trees"])
    assert int(attrs["best_iteration"]) + 1 < n_trees, "early stopping did not stop early"
    re = xgb.Booster(model_file=str(path))
    d = xgb.DMatrix(X, feature_names=NAMES, missing=np.nan)
    write_out(OUT / "xgb_early_stopped.margin.csv", re.predict(d, output_margin=True), 1)
    write_out(OUT / "xgb_early_stopped.pred.csv", re.predict(d), 1)
    # float32 threshold edges
    E = edge_rows(OUT / "xgb_binary_logistic.json", np.random.default_rng(3))
    write_csv(OUT / "edge.csv", NAMES, E)
    re = xgb.Booster(model_file=str(OUT / "xgb_binary_logistic.json"))
    d = xgb.DMatrix(E, feature_names=NAMES, missing=np.nan)
    write_out(OUT / "xgb_binary_logistic.edge.margin.csv", re.predict(d, output_margin=True), 1)
    write_out(OUT / "xgb_binary_logistic.edge.pred.csv", re.predict(d), 1)
    print("wrote", OUT, "xgboost", xgb.__version__)


if __name__ == "__main__":
    main()
