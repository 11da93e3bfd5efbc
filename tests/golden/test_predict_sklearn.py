"""scikit-learn models through tools/export_sklearn.py and `audit predict`, against scikit-learn's
own predict / predict_proba / decision_function (Debian python3-sklearn), computed in the test.
Tolerance: max |diff| <= 1e-6 (SPEC 2). The models are trained here (small, seeded, a second or
so) so no pickles are committed. The data includes rows exactly at split thresholds and at the
next double above/below them, which exercises scikit-learn's float32(x) <= threshold rule."""
import csv
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ROOT = Path(__file__).resolve().parent.parent.parent
EXPORT = ROOT / "tools" / "export_sklearn.py"
NAMES = ["age", "income", "score", "n_accounts", "ratio"]


def data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(18, 80, n).astype(float), rng.lognormal(10, 0.5, n),
                         rng.normal(size=n), rng.integers(0, 6, n).astype(float),
                         rng.uniform(size=n)])
    z = 0.03 * (X[:, 0] - 45) + X[:, 2] - 0.4 * X[:, 3] + 2 * X[:, 4]
    return pd.DataFrame(X, columns=NAMES), z, rng


def edge_rows(model, X, rng, k=150):
    """Rows whose values sit exactly at, or one double away from, the model's thresholds."""
    ests = []
    if hasattr(model, "tree_"):
        ests = [model]
    elif hasattr(model, "estimators_"):
        ests = list(np.asarray(model.estimators_).reshape(-1))
    splits = [(f, t) for e in ests for f, t, l in
              zip(e.tree_.feature, e.tree_.threshold, e.tree_.children_left) if l != -1]
    rows = X.sample(k, random_state=1, replace=True).to_numpy().copy()
    for i in range(k):
        f, t = splits[rng.integers(len(splits))]
        rows[i, f] = [t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf),
                      float(np.float32(t))][i % 4]
    return pd.DataFrame(rows, columns=NAMES)


def write_csv(df, path):
    with open(path, "w") as f:
        f.write(",".join(df.columns) + "\n")
        for r in df.to_numpy():
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def export(model, tmp_path, *extra):
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(model))
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(out), *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def predict(audit, model_json, df, tmp_path, raw=False):
    p = tmp_path / "x.csv"
    write_csv(df, p)
    r = audit("predict", "--model", model_json, "--data", p, *(["--raw"] if raw else []))
    assert r.code == 0, r
    rows = list(csv.reader(r.out.splitlines()))
    return rows[0], np.array([[float(v) for v in row] for row in rows[1:]])


def expected(model, X):
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(X)
        return p[:, 1:] if p.shape[1] == 2 else p
    return model.predict(X).reshape(-1, 1)


CASES = [
    ("logreg", lambda: LogisticRegression(max_iter=1000, C=0.5), "cls"),
    # binary multinomial: predict_proba is sigmoid(2 d), not sigmoid(d)
    ("logreg_multinomial", lambda: LogisticRegression(max_iter=1000, multi_class="multinomial"),
     "cls"),
    ("linreg", lambda: LinearRegression(), "reg"),
    ("dt_cls", lambda: DecisionTreeClassifier(max_depth=6, random_state=0), "cls"),
    ("dt_multi", lambda: DecisionTreeClassifier(max_depth=5, random_state=0), "multi"),
    ("dt_reg", lambda: DecisionTreeRegressor(max_depth=7, random_state=0), "reg"),
    ("rf_cls", lambda: RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0),
     "cls"),
    ("rf_multi", lambda: RandomForestClassifier(n_estimators=10, random_state=0), "multi"),
    ("rf_reg", lambda: RandomForestRegressor(n_estimators=15, random_state=0), "reg"),
    ("gb_cls", lambda: GradientBoostingClassifier(n_estimators=30, max_depth=3,
                                                  learning_rate=0.2, random_state=0), "cls"),
    ("gb_multi", lambda: GradientBoostingClassifier(n_estimators=15, max_depth=2,
                                                    random_state=0), "multi"),
    ("gb_reg", lambda: GradientBoostingRegressor(n_estimators=40, max_depth=3,
                                                 learning_rate=0.1, random_state=0), "reg"),
    ("gb_huber", lambda: GradientBoostingRegressor(loss="huber", n_estimators=20,
                                                   random_state=0), "reg"),
]


@pytest.mark.parametrize("name,make,task", CASES, ids=[c[0] for c in CASES])
def test_sklearn_export_matches_sklearn(audit, tmp_path, name, make, task):
    X, z, rng = data()
    y = {"cls": (z + rng.normal(size=len(z)) > 0).astype(int),
         "multi": np.digitize(z + 0.5 * rng.normal(size=len(z)), [-0.5, 0.7]),
         "reg": 10 * z + rng.normal(size=len(z))}[task]
    model = make().fit(X, y)
    mj = export(model, tmp_path)
    test = pd.concat([X.iloc[:200], edge_rows(model, X, rng) if hasattr(model, "tree_") or
                      hasattr(model, "estimators_") else X.iloc[200:]], ignore_index=True)
    header, got = predict(audit, mj, test, tmp_path)
    want = expected(model, test)
    assert got.shape == want.shape
    assert header == (["prediction"] if want.shape[1] == 1 else
                      [f"prediction@{k}" for k in range(want.shape[1])])
    assert np.max(np.abs(got - want)) <= 1e-6
    if hasattr(model, "decision_function") and not isinstance(model, (DecisionTreeClassifier,
                                                                      RandomForestClassifier)):
        _, raw = predict(audit, mj, test, tmp_path, raw=True)
        d = np.asarray(model.decision_function(test)).reshape(len(test), -1)
        if getattr(model, "multi_class", None) == "multinomial":
            d = 2 * d   # the log-odds of softmax([-d, d])
        assert np.max(np.abs(raw - d)) <= 1e-6


def test_missing_values_refused_for_sklearn_trees(audit, tmp_path):
    X, z, _ = data()
    model = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, z)
    mj = export(model, tmp_path)
    Xm = X.iloc[:10].copy()
    Xm.iloc[3, 2] = np.nan
    p = tmp_path / "m.csv"
    with open(p, "w") as f:
        f.write(",".join(NAMES) + "\n")
        for r in Xm.to_numpy():
            f.write(",".join("" if math.isnan(v) else repr(float(v)) for v in r) + "\n")
    r = audit("predict", "--model", mj, "--data", p)
    assert r.code == 2, r
    assert "data row 3 (CSV line 5)" in r.err and "score" in r.err


def test_linear_needs_feature_names(tmp_path):
    X, z, _ = data()
    model = LinearRegression().fit(X.to_numpy(), z)
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(model))
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(tmp_path / "o.json")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--features" in r.stderr
    assert not (tmp_path / "o.json").exists()
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(tmp_path / "o.json"),
                        "--features", ",".join(NAMES)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_unnamed_tree_model_by_position(audit, tmp_path):
    X, z, _ = data()
    model = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X.to_numpy(), z)
    mj = export(model, tmp_path)
    header, got = predict(audit, mj, X.iloc[:50], tmp_path)
    assert np.max(np.abs(got[:, 0] - model.predict(X.iloc[:50].to_numpy()))) <= 1e-6


def test_exporter_rejects_unsupported(tmp_path):
    from sklearn.svm import SVC
    X, z, _ = data()
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps(SVC().fit(X, z > 0)))
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(tmp_path / "o.json")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unsupported" in r.stderr
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    r = subprocess.run([sys.executable, str(EXPORT), str(tmp_path / "bad.pkl"),
                        str(tmp_path / "o.json")], capture_output=True, text=True)
    assert r.returncode == 2 and "cannot load" in r.stderr
