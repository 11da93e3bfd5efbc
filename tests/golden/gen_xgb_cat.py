#!/usr/bin/python3
"""Golden data for XGBoost native categorical splits (enable_categorical=True) against Debian's
python3-xgboost (1.7.x, tree_method hist), for `audit predict` / `explain`.

Writes tests/golden/data/xgb_cat/:
  categories.json          {column: list(df[column].cat.categories)} of the training DataFrame
                           (what `--categories` takes; "size" has numeric categories)
  data.csv                 rows as text (header x0,color,city,x1,size; empty field = NaN):
                           draws like the training data, missing categories, all-missing rows
  codes.csv                the same rows as category codes (pandas cat.codes; NaN for missing),
                           plus probe rows with codes the training data never had (40, 63, 64,
                           100, 1000, -1, 2.5), which XGBoost sends left (not in the set)
  background.csv           12 rows of codes for the background-based methods
  <model>.json             Booster.save_model: binary (binary:logistic, one-hot splits for
                           color: max_cat_to_onehot=6, partition splits for city, 40 levels ->
                           2-word bitsets), regression (all partition splits), multiclass
                           (multi:softprob, 3 classes)
  <model>.margin.csv       Booster.predict(output_margin=True) on data.csv's rows (DataFrame with
                           the training categories) - the codes.csv rows give the same values
  <model>.codes_margin.csv margins of codes.csv's rows (numpy codes, feature_types "c")
  <model>.contribs.csv     Booster.predict(pred_contribs=True) of codes.csv's rows: features,
                           then bias (per class)
  <model>.interactions.csv pred_interactions of the first INTER_ROWS rows, flattened per row
  <model>.bruteforce.csv   exact interventional Shapley values of the margin for the first
                           BF_ROWS rows of codes.csv over background.csv, by enumerating every
                           coalition (as gen_shap_xgb.py)
Run: /usr/bin/python3 tests/golden/gen_xgb_cat.py
"""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

OUT = Path(__file__).resolve().parent / "data" / "xgb_cat"
NAMES = ["x0", "color", "city", "x1", "size"]
CAT = ["color", "city", "size"]
COLORS = ["blue", "green", "red", "white", "yellow"]
CITIES = [f"c{i:02d}" for i in range(40)]
SIZES = [10, 20, 30]
N_TRAIN, N, NB, BF_ROWS, INTER_ROWS = 3000, 150, 12, 6, 20


def make_frame(n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "x0": rng.normal(size=n).astype(np.float32).astype(np.float64),
        "color": pd.Categorical(rng.choice(COLORS, size=n, p=[.3, .25, .2, .15, .1]),
                                categories=COLORS),
        "city": pd.Categorical(rng.choice(CITIES, size=n), categories=CITIES),
        "x1": rng.uniform(-3, 3, size=n).astype(np.float32).astype(np.float64),
        "size": pd.Categorical(rng.choice(SIZES, size=n), categories=SIZES),
    })
    for col in NAMES:
        mask = rng.random(n) < 0.05
        if col in CAT:
            df.loc[mask, col] = np.nan
        else:
            df.loc[mask, col] = np.nan
    return df


def target(df, rng, kind):
    city_eff = np.sin(np.arange(40) * 1.7)
    color_eff = np.array([0.8, -0.5, 0.3, -1.0, 0.6])
    c = df["city"].cat.codes.to_numpy()
    k = df["color"].cat.codes.to_numpy()
    s = df["size"].cat.codes.to_numpy()
    z = (np.nan_to_num(df["x0"].to_numpy()) + np.where(c >= 0, city_eff[c], 0.2) +
         np.where(k >= 0, color_eff[k], 0.0) + 0.4 * (s == 1) - 0.3 * np.nan_to_num(df["x1"]))
    if kind == "binary":
        return (z + rng.logistic(size=len(df)) * 0.5 > 0.2).astype(int)
    if kind == "regression":
        return z + rng.normal(size=len(df)) * 0.3
    return np.argmax(np.column_stack([z, -z, 0.5 * np.cos(z * 2)]) +
                     rng.gumbel(size=(len(df), 3)) * 0.5, axis=1)


def codes_matrix(df):
    X = np.empty((len(df), len(NAMES)))
    for j, col in enumerate(NAMES):
        if col in CAT:
            c = df[col].cat.codes.to_numpy().astype(np.float64)
            c[c < 0] = np.nan
            X[:, j] = c
        else:
            X[:, j] = df[col].to_numpy()
    return X


def fmt(v):
    if isinstance(v, str):
        return v
    return "" if np.isnan(v) else repr(float(v))


def write_rows(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) for v in r) + "\n")


def dmatrix(X):
    return xgb.DMatrix(X, missing=np.nan, feature_names=NAMES,
                       feature_types=["q", "c", "c", "q", "c"], enable_categorical=True)


def contrib_header(k):
    cols = NAMES + ["bias"]
    return cols if k == 1 else [f"{c}@{c_k}" for c_k in range(k) for c in cols]


def bruteforce(booster, X, Z, k):
    M = X.shape[1]
    w = [math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M) for s in range(M)]
    out = []
    for x in X:
        vals = {}
        for S in range(1 << M):
            H = Z.copy()
            for j in range(M):
                if S >> j & 1:
                    H[:, j] = x[j]
            m = booster.predict(dmatrix(H), output_margin=True)
            vals[S] = np.asarray(m, dtype=np.float64).reshape(len(H), k).mean(axis=0)
        phi = np.zeros((k, M + 1))
        for S in range(1 << M):
            s = bin(S).count("1")
            for j in range(M):
                if not S >> j & 1:
                    phi[:, j] += w[s] * (vals[S | 1 << j] - vals[S])
        phi[:, M] = vals[0]
        out.append(phi.reshape(-1))
    return np.array(out)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20251205)
    train = make_frame(N_TRAIN, 1)
    df = make_frame(N, 2)
    df.loc[0, ["color", "city", "size"]] = np.nan      # all categories missing
    df.loc[1, NAMES] = np.nan                          # every column missing
    with open(OUT / "categories.json", "w") as f:
        json.dump({c: [v.item() if hasattr(v, "item") else v
                       for v in train[c].cat.categories] for c in CAT}, f, indent=1)
        f.write("\n")
    write_rows(OUT / "data.csv", NAMES,
               [[r[c] if c in CAT and not pd.isna(r[c]) else
                 (np.nan if pd.isna(r[c]) else float(r[c])) for c in NAMES]
                for _, r in df.iterrows()])
    X = codes_matrix(df)
    probes = []
    for v in [40, 63, 64, 100, 1000, -1, 2.5]:
        probes.append([0.5, v % 7 if v >= 0 else v, v, -1.0, 1])
        probes.append([-0.5, 3, 5, 1.0, v])
    Xc = np.vstack([X, np.array(probes, dtype=np.float64)])
    write_rows(OUT / "codes.csv", NAMES, Xc)
    Z = codes_matrix(make_frame(NB, 3))
    write_rows(OUT / "background.csv", NAMES, Z)
    specs = {
        "binary": ({"objective": "binary:logistic", "max_cat_to_onehot": 6}, 1, 12),
        "regression": ({"objective": "reg:squarederror", "max_cat_to_onehot": 1}, 1, 15),
        "multiclass": ({"objective": "multi:softprob", "num_class": 3,
                        "max_cat_to_onehot": 1}, 3, 8),
    }
    for name, (params, k, rounds) in specs.items():
        y = target(train, rng, name)
        p = dict(params, tree_method="hist", max_depth=5, eta=0.3, seed=7, max_cat_threshold=32)
        b = xgb.train(p, xgb.DMatrix(train, y, enable_categorical=True), rounds)
        b.save_model(str(OUT / f"{name}.json"))
        b = xgb.Booster(model_file=str(OUT / f"{name}.json"))
        hdr = ["margin"] if k == 1 else [f"margin@{c}" for c in range(k)]
        m = b.predict(xgb.DMatrix(df, enable_categorical=True), output_margin=True)
        write_rows(OUT / f"{name}.margin.csv", hdr, np.asarray(m, np.float64).reshape(len(df), k))
        mc = b.predict(dmatrix(Xc), output_margin=True)
        mc = np.asarray(mc, np.float64).reshape(len(Xc), k)
        assert np.array_equal(mc[:N], np.asarray(m, np.float64).reshape(N, k))
        write_rows(OUT / f"{name}.codes_margin.csv", hdr, mc)
        c = b.predict(dmatrix(Xc), pred_contribs=True)
        write_rows(OUT / f"{name}.contribs.csv", contrib_header(k),
                   np.asarray(c, np.float64).reshape(len(Xc), -1))
        it = b.predict(dmatrix(Xc[:INTER_ROWS]), pred_interactions=True)
        write_rows(OUT / f"{name}.interactions.csv",
                   [f"v{i}" for i in range(k * (len(NAMES) + 1) ** 2)],
                   np.asarray(it, np.float64).reshape(INTER_ROWS, -1))
        write_rows(OUT / f"{name}.bruteforce.csv", contrib_header(k),
                   bruteforce(b, Xc[:BF_ROWS], Z, k))
        trees = json.load(open(OUT / f"{name}.json"))["learner"]["gradient_booster"]["model"]
        sizes = [s for t in trees["trees"] for s in t["categories_sizes"]]
        print(name, "categorical splits", len(sizes), "max set", max(sizes),
              "2-word sets", sum(1 for t in trees["trees"] for q, s in
                                 zip(t["categories_segments"], t["categories_sizes"])
                                 if max(t["categories"][q:q + s]) >= 32))


if __name__ == "__main__":
    main()
