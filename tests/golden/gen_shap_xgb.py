#!/usr/bin/python3
"""Golden data for `audit explain` / `audit reasons` against Debian's python3-xgboost (1.7.x).

Writes tests/golden/data/shap_xgb/:
  data.csv                    rows to explain (header f0..f5, empty field = NaN; float32 values)
  background.csv              background rows for the background-based methods
  <model>.json                Booster.save_model: binary (with missing values), regression,
                              multiclass (multi:softprob, 3 classes), dart, count:poisson
  <model>.contribs.csv        Booster.predict(pred_contribs=True): features, then bias (per class)
  <model>.interactions.csv    Booster.predict(pred_interactions=True) of the first INTER_ROWS
                              rows, flattened per row ([class][i][j], bias last)
  <model>.bruteforce.csv      exact interventional Shapley values of the margin for the first
                              BF_ROWS rows, by enumerating every coalition S and averaging
                              Booster.predict(output_margin=True) over hybrid rows (x_S, z_~S) for
                              every background row z (the oracle of tree-interventional, exact,
                              kernel); features then bias (= mean margin over the background)
  <model>.bruteforce_prob.csv same for the probability (sigmoid / softmax of the margin)
Expected values come from a Booster re-loaded from the saved JSON. Numbers: repr() of doubles.
Run: /usr/bin/python3 tests/golden/gen_shap_xgb.py
"""
import itertools
import math
from pathlib import Path

import numpy as np
import xgboost as xgb

OUT = Path(__file__).resolve().parent / "data" / "shap_xgb"
N, F, NB, BF_ROWS, INTER_ROWS = 120, 6, 12, 8, 30
NAMES = [f"f{j}" for j in range(F)]


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(size=n),
        rng.uniform(-2, 2, size=n),
        rng.lognormal(size=n),
        rng.integers(0, 6, size=n).astype(float),
        rng.normal(50, 10, size=n),
        rng.normal(size=n),
    ]).astype(np.float32).astype(np.float64)
    X[rng.random(X.shape) < 0.1] = np.nan
    return X


def fmt(v):
    return "" if np.isnan(v) else repr(float(v))


def write_rows(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) for v in r) + "\n")


def contrib_header(k):
    cols = NAMES + ["bias"]
    return cols if k == 1 else [f"{c}@{c_k}" for c_k in range(k) for c in cols]


def bruteforce(booster, X, Z, k, prob):
    """Interventional Shapley values by full enumeration (independent of the C code)."""
    M = X.shape[1]
    out = []
    w = [math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M) for s in range(M)]
    for x in X:
        vals = {}
        for S in range(1 << M):
            H = Z.copy()
            for j in range(M):
                if S >> j & 1:
                    H[:, j] = x[j]
            m = booster.predict(xgb.DMatrix(H, missing=np.nan), output_margin=True)
            m = np.asarray(m, dtype=np.float64).reshape(len(H), k)
            if prob:
                if k == 1:
                    m = 1.0 / (1.0 + np.exp(-m))
                else:
                    e = np.exp(m - m.max(axis=1, keepdims=True))
                    m = e / e.sum(axis=1, keepdims=True)
            vals[S] = m.mean(axis=0)
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
    X = make_data(N, 11)
    Z = make_data(NB, 12)
    write_rows(OUT / "data.csv", NAMES, X)
    write_rows(OUT / "background.csv", NAMES, Z)
    Xt = make_data(2000, 13)
    xs = np.nan_to_num(Xt)
    z = xs[:, 0] - 0.8 * xs[:, 1] + 0.3 * xs[:, 2] * (xs[:, 3] > 2) + 0.05 * (xs[:, 4] - 50)
    rng = np.random.default_rng(5)
    models = {
        "binary": ({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3},
                   (z + rng.normal(size=len(z)) > 0).astype(float), 30),
        "regression": ({"objective": "reg:squarederror", "max_depth": 5, "eta": 0.2},
                       z + 0.1 * rng.normal(size=len(z)), 25),
        "multiclass": ({"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3},
                       np.digitize(z, [-0.5, 0.7]).astype(float), 12),
        "dart": ({"objective": "binary:logistic", "booster": "dart", "max_depth": 3, "eta": 0.3,
                  "rate_drop": 0.3, "skip_drop": 0.0, "seed": 3},
                 (z > 0.2).astype(float), 15),
        "poisson": ({"objective": "count:poisson", "max_depth": 3, "eta": 0.2},
                    rng.poisson(np.exp(0.3 * np.clip(z, -3, 3))).astype(float), 20),
    }
    for name, (params, y, rounds) in models.items():
        params = dict(params, seed=params.get("seed", 1), nthread=1)
        b = xgb.train(params, xgb.DMatrix(Xt, label=y, missing=np.nan, feature_names=NAMES),
                      num_boost_round=rounds)
        path = OUT / f"{name}.json"
        b.save_model(str(path))
        b = xgb.Booster(model_file=str(path))
        k = params.get("num_class", 1)
        d = xgb.DMatrix(X, missing=np.nan, feature_names=NAMES)
        c = np.asarray(b.predict(d, pred_contribs=True), dtype=np.float64).reshape(N, -1)
        write_rows(OUT / f"{name}.contribs.csv", contrib_header(k), c)
        di = xgb.DMatrix(X[:INTER_ROWS], missing=np.nan, feature_names=NAMES)
        inter = np.asarray(b.predict(di, pred_interactions=True), dtype=np.float64)
        inter = inter.reshape(INTER_ROWS, -1)
        write_rows(OUT / f"{name}.interactions.csv",
                   [f"v{i}" for i in range(inter.shape[1])], inter)
        b.feature_names = None   # hybrid rows are plain matrices
        bf = bruteforce(b, X[:BF_ROWS], Z, k, False)
        write_rows(OUT / f"{name}.bruteforce.csv", contrib_header(k), bf)
        if name in ("binary", "multiclass"):
            bf = bruteforce(b, X[:BF_ROWS], Z, k, True)
            write_rows(OUT / f"{name}.bruteforce_prob.csv", contrib_header(k), bf)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
