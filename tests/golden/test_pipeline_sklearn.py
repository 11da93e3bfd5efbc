"""scikit-learn pipelines (preprocessing + estimator) through tools/export_sklearn.py, against
scikit-learn itself (Debian python3-sklearn), computed in the test:
  - predictions == pipeline.predict_proba / predict / decision_function on rows with missing
    values, categories not seen in fitting and infrequent categories: 1e-9 for linear models,
    1e-6 for trees (docs/model-formats.md, "Pipelines");
  - attributions on the raw input columns: linear SHAP against the closed form
    sum_k w_k (t_k(x) - mean_b t_k(z_b)) over each column's transformed outputs t_k (for a
    scaler this is w / scale * (x - mean_b z_b): linear SHAP on the original scale); tree models
    against the Shapley values of v(S) = mean_b f(x_S, z_b) over the raw columns, every
    coalition enumerated, with f = the pipeline's own decision_function / predict_proba.
Models are small, seeded and trained here, so no pickles are committed."""
import copy
import csv
import itertools
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shap_columns
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler,
                                   StandardScaler)
from sklearn.tree import DecisionTreeClassifier

ROOT = Path(__file__).resolve().parent.parent.parent
EXPORT = ROOT / "tools" / "export_sklearn.py"
COLS = ["age", "income", "region", "kind", "x", "n"]


def data(seed=0, n=500):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "income": rng.lognormal(10, 0.5, n),
        "region": rng.choice(["N", "S", "E", "W"], n),
        "kind": rng.choice(["a", "b", "c", "d"], n, p=[0.55, 0.35, 0.06, 0.04]),
        "x": rng.normal(size=n),
        "n": rng.integers(0, 4, n).astype(float),
    })
    z = 0.04 * (df.age - 45) + (df.region == "N") - 0.7 * (df.kind == "b") + df.x + 0.2 * df.n
    df.loc[rng.random(n) < 0.08, "age"] = np.nan
    df.loc[rng.random(n) < 0.08, "income"] = np.nan
    df.loc[rng.random(n) < 0.08, "region"] = np.nan
    return df, z.to_numpy(), rng


def probe_rows(df):
    """Fitting rows plus unseen categories, a missing value in every column that has an imputer,
    and the infrequent categories."""
    t = df.iloc[:120].copy().reset_index(drop=True)
    t.loc[0:3, "region"] = "Z"            # unseen
    t.loc[4:6, "kind"] = "zz"             # unseen (infrequent_if_exist: the infrequent group)
    t.loc[7:9, "kind"] = "d"              # infrequent
    t.loc[10:12, "age"] = np.nan
    t.loc[13:15, "region"] = np.nan
    return t


def write_csv(df, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(df.columns)
        for r in df.itertuples(index=False):
            w.writerow(["" if (isinstance(v, float) and math.isnan(v)) else
                        repr(float(v)) if isinstance(v, float) else v for v in r])


def export(model, tmp_path):
    pkl = tmp_path / "p.pkl"
    pkl.write_bytes(pickle.dumps(model))
    out = tmp_path / "p.json"
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(out)],
                       capture_output=True, text=True)
    return r, out


def predict(audit, mj, df, tmp_path, raw=False):
    p = tmp_path / "rows.csv"
    write_csv(df, p)
    r = audit("predict", "--model", mj, "--data", p, *(["--raw"] if raw else []))
    assert r.code == 0, r
    rows = list(csv.reader(r.out.splitlines()))
    return np.array([[float(v) for v in row] for row in rows[1:]])


def numeric_branch(scaler):
    return Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", scaler)])


def prep(kind):
    """Preprocessing stages, each with the transformers issue 16 names."""
    cat_ignore = Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                           ("oh", OneHotEncoder(handle_unknown="ignore"))])
    if kind == "standard":
        return ColumnTransformer([
            ("num", numeric_branch(StandardScaler()), ["age", "income"]),
            ("cat", cat_ignore, ["region"]),
            ("kind", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=25),
             ["kind"]),
        ], remainder="passthrough")
    if kind == "minmax_drop":
        return ColumnTransformer([
            ("num", Pipeline([("imp", SimpleImputer(strategy="mean")),
                              ("sc", MinMaxScaler())]), ["age", "income"]),
            ("cat", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="N")),
                              ("oh", OneHotEncoder(drop="first", handle_unknown="ignore"))]),
             ["region"]),
            ("drop_x", "drop", ["x"]),
            ("pass", "passthrough", ["n"]),
        ], remainder="drop")
    if kind == "robust_ordinal":
        return ColumnTransformer([
            ("num", numeric_branch(RobustScaler()), ["age", "income"]),
            ("ord", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                              ("enc", OrdinalEncoder(handle_unknown="use_encoded_value",
                                                     unknown_value=-1))]),
             ["region", "kind"]),
        ], remainder="passthrough")
    if kind == "ordinal_scaled":
        # an encoder followed by a scaler, and a numeric column encoded as categories
        return ColumnTransformer([
            ("num", SimpleImputer(strategy="constant", fill_value=40.0), ["age"]),
            ("ord", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                              ("enc", OrdinalEncoder(handle_unknown="use_encoded_value",
                                                     unknown_value=9)),
                              ("sc", StandardScaler())]), ["region"]),
            ("n", OneHotEncoder(handle_unknown="ignore"), ["n"]),
        ], remainder="drop")
    raise ValueError(kind)


LINEAR = [LogisticRegression(max_iter=2000, C=0.7), LinearRegression()]
DT = DecisionTreeClassifier(max_depth=5, random_state=0)
GBC = GradientBoostingClassifier(n_estimators=12, max_depth=3, random_state=0)
KINDS = ("standard", "minmax_drop", "robust_ordinal", "ordinal_scaled")
CASES = [(k, e) for k in KINDS for e in LINEAR + [DT, GBC]] + [
    ("standard", RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
    ("standard", RandomForestRegressor(n_estimators=6, max_depth=5, random_state=0)),
    ("standard", GradientBoostingRegressor(n_estimators=12, max_depth=3, random_state=0)),
    ("minmax_drop", RandomForestClassifier(n_estimators=4, max_depth=4, random_state=1)),
]


def target(est, z, rng):
    if type(est).__name__.endswith("Regressor") or isinstance(est, LinearRegression):
        return 3 * z + rng.normal(size=len(z))
    return (z + 0.5 * rng.normal(size=len(z)) > 0.3).astype(int)


def expected(pipe, X):
    if hasattr(pipe, "predict_proba"):
        p = pipe.predict_proba(X)
        return p[:, 1:] if p.shape[1] == 2 else p
    return pipe.predict(X).reshape(-1, 1)


@pytest.mark.parametrize("kind,est", CASES,
                         ids=[f"{k}-{type(e).__name__}" for k, e in CASES])
def test_pipeline_predictions_match_sklearn(audit, tmp_path, kind, est):
    df, z, rng = data()
    pipe = Pipeline([("prep", prep(kind)), ("model", est)]).fit(df, target(est, z, rng))
    r, mj = export(pipe, tmp_path)
    assert r.returncode == 0, r.stderr
    rows = probe_rows(df)
    got = predict(audit, mj, rows, tmp_path)
    want = expected(pipe, rows)
    tol = 1e-6
    if isinstance(est, (LogisticRegression, LinearRegression)):
        # 1e-9 relative to the size of the margin's terms: an unregularised LinearRegression on
        # a full one-hot group (collinear with the intercept) has coefficients of 1e13 that
        # cancel, and both sides round them differently
        T = pipe[:-1].transform(rows)
        T = T.toarray() if hasattr(T, "toarray") else T
        terms = np.abs(T) @ np.abs(np.ravel(est.coef_))
        tol = 1e-9 * (1 + np.abs(est.intercept_).max() + terms).reshape(-1, 1)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= tol)
    if hasattr(pipe, "decision_function") and not isinstance(
            est, (DecisionTreeClassifier, RandomForestClassifier)):
        raw = predict(audit, mj, rows, tmp_path, raw=True)
        assert np.all(np.abs(raw - pipe.decision_function(rows).reshape(-1, 1)) <= tol)


def test_multiclass_pipeline(audit, tmp_path):
    df, z, rng = data(1)
    y = np.digitize(z + 0.3 * rng.normal(size=len(z)), [-0.3, 0.8])
    pipe = Pipeline([("prep", prep("standard")),
                     ("model", GradientBoostingClassifier(n_estimators=8, max_depth=2,
                                                          random_state=0))]).fit(df, y)
    r, mj = export(pipe, tmp_path)
    assert r.returncode == 0, r.stderr
    rows = probe_rows(df)
    assert np.max(np.abs(predict(audit, mj, rows, tmp_path) - pipe.predict_proba(rows))) <= 1e-6


def test_unknown_category_with_handle_unknown_error(audit, tmp_path):
    df, z, rng = data()
    pipe = Pipeline([("prep", ColumnTransformer([
        ("num", numeric_branch(StandardScaler()), ["age"]),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder())]), ["region"])])),
        ("model", LogisticRegression(max_iter=1000))]).fit(df, (z > 0).astype(int))
    r, mj = export(pipe, tmp_path)
    assert r.returncode == 0, r.stderr
    rows = df.iloc[:10].copy()
    assert np.max(np.abs(predict(audit, mj, rows, tmp_path)[:, 0] -
                         pipe.predict_proba(rows)[:, 1])) <= 1e-9
    rows.loc[4, "region"] = "Q"
    p = tmp_path / "bad.csv"
    write_csv(rows, p)
    res = audit("predict", "--model", mj, "--data", p)
    assert res.code == 2
    assert 'data row 4 (CSV line 6): category "Q" of column "region" was not seen' in res.err
    with pytest.raises(ValueError):
        pipe.predict_proba(rows)     # scikit-learn refuses the row too


def test_unsupported_step_is_refused(tmp_path):
    from sklearn.preprocessing import PolynomialFeatures
    df, z, _ = data()
    pipe = Pipeline([("imp", SimpleImputer()), ("poly", PolynomialFeatures()),
                     ("model", LinearRegression())]).fit(df[["age", "x"]], z)
    r, _ = export(pipe, tmp_path)
    assert r.returncode == 2
    assert "unsupported pipeline step PolynomialFeatures" in r.stderr


# ---- attributions on the raw columns -------------------------------------------------------

def explain(audit, mj, rows, bg, tmp_path, *args):
    pr, pb = tmp_path / "xr.csv", tmp_path / "xb.csv"
    write_csv(rows, pr)
    write_csv(bg, pb)
    r = audit("explain", "--model", mj, "--data", pr, "--background", pb, *args)
    assert r.code == 0, r
    return shap_columns(r.out)


def test_linear_shap_on_raw_columns_closed_form(audit, tmp_path):
    df, z, rng = data()
    pipe = Pipeline([("prep", prep("standard")),
                     ("model", LogisticRegression(max_iter=2000))]).fit(df, (z > 0.3).astype(int))
    r, mj = export(pipe, tmp_path)
    assert r.returncode == 0, r.stderr
    rows, bg = probe_rows(df).iloc[:16], df.iloc[200:240]
    header, got = explain(audit, mj, rows, bg, tmp_path, "--method", "linear")
    ct, w = pipe.named_steps["prep"], pipe.named_steps["model"].coef_[0]
    # which raw column each transformed output comes from
    src = []
    for name, trans, cols in ct.transformers_:
        if trans == "drop":
            continue
        if trans == "passthrough":
            src += list(cols) if isinstance(cols[0], str) else [df.columns[i] for i in cols]
            continue
        last = trans.steps[-1][1] if hasattr(trans, "steps") else trans
        counts = getattr(last, "_n_features_outs", [1] * len(cols))
        for c, k in zip(cols, counts):
            src += [c] * k
    T, Tb = ct.transform(rows), ct.transform(bg)
    assert header[:-1] == [c for c in df.columns if c in src]
    for j, c in enumerate(header[:-1]):
        ks = [k for k, s in enumerate(src) if s == c]
        want = sum(w[k] * (T[:, k] - Tb[:, k].mean()) for k in ks)
        assert np.max(np.abs(got[:, j] - want)) <= 1e-9, c
    # additivity on the margin
    assert np.max(np.abs(got.sum(axis=1) - pipe.decision_function(rows))) <= 1e-9


def shapley(v, M):
    phi = np.zeros(M)
    for S, val in v.items():
        for j in range(M):
            if j not in S:
                w = math.factorial(len(S)) * math.factorial(M - len(S) - 1) / math.factorial(M)
                phi[j] += w * (v[S | {j}] - val)
    return phi


@pytest.mark.parametrize("est", [GradientBoostingClassifier(n_estimators=10, max_depth=3,
                                                            random_state=0),
                                 RandomForestRegressor(n_estimators=5, max_depth=4,
                                                       random_state=0)],
                         ids=["gb_cls", "rf_reg"])
@pytest.mark.parametrize("method", ["tree-interventional", "exact"])
def test_tree_shap_on_raw_columns_brute_force(audit, tmp_path, est, method):
    df, z, rng = data()
    cols = ["age", "income", "region", "kind", "x"]
    df = df[cols]
    pipe = Pipeline([("prep", ColumnTransformer([
        ("num", numeric_branch(StandardScaler()), ["age", "income"]),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore"))]), ["region"]),
        ("kind", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=25), ["kind"]),
    ], remainder="passthrough")), ("model", est)]).fit(df, target(est, z, rng))
    r, mj = export(pipe, tmp_path)
    assert r.returncode == 0, r.stderr
    rows, bg = probe_rows(df).iloc[:8].reset_index(drop=True), df.iloc[300:312]
    header, got = explain(audit, mj, rows, bg, tmp_path, "--method", method)
    assert header == cols + ["bias"]
    f = pipe.decision_function if hasattr(pipe, "decision_function") else pipe.predict
    M = len(cols)
    for i in range(len(rows)):
        v = {}
        for r_ in range(M + 1):
            for S in itertools.combinations(range(M), r_):
                hyb = bg.copy()
                for j in S:
                    hyb[cols[j]] = rows.iloc[i][cols[j]]
                v[frozenset(S)] = float(np.mean(f(hyb)))
        phi = shapley(v, M)
        assert np.max(np.abs(got[i, :M] - phi)) <= 1e-9
        assert abs(got[i, M] - v[frozenset()]) <= 1e-9


def test_hand_written_stage_and_its_errors(audit, tmp_path):
    """The stage's rules without scikit-learn: fill, ops order, categories by text, unknown and
    missing values, and located errors for malformed entries."""
    doc = {"format": "audit-linear", "version": 1, "link": "identity", "intercept": 1.0,
           "coefficients": {"a": 2.0, "c": 1.0},
           "preprocess": {"a": {"ops": [["fill", 3.0], ["sub", 1.0], ["div", 4.0],
                                        ["mul", 2.0], ["add", 0.5]]},
                          "c": {"categories": ["x", "y", "7"], "values": [10.0, 20.0, 30.0],
                                "unknown": -1.0, "missing": 0.25}}}
    mj = tmp_path / "m.json"
    mj.write_text(json.dumps(doc))
    data = tmp_path / "d.csv"
    data.write_text("a,c\n1,x\n,y\n5,7\n-3,q\n2,\n")
    r = audit("predict", "--model", mj, "--data", data)
    assert r.code == 0, r
    got = [float(v) for v in r.out.split()[1:]]
    a = [1.0, 3.0, 5.0, -3.0, 2.0]
    c = [10.0, 20.0, 30.0, -1.0, 0.25]
    want = [1.0 + 2.0 * (((x - 1.0) / 4.0) * 2.0 + 0.5) + v for x, v in zip(a, c)]
    assert got == want
    for key, bad, field in [
            ("a", {"ops": [["log", 1.0]]}, "preprocess.a.ops"),
            ("a", {"ops": [["div", 0]]}, "preprocess.a.ops"),
            ("c", {"categories": ["x", "x"], "values": [1, 2]}, "preprocess.c.categories"),
            ("c", {"categories": ["x"], "values": [1, 2]}, "preprocess.c.values"),
            ("c", {"categories": ["x"], "values": [1], "unknown": "zero"},
             "preprocess.c.unknown"),
            ("zz", {"ops": [["fill", 1]]}, "preprocess.zz")]:
        d = copy.deepcopy(doc)
        d["preprocess"][key] = bad
        mj.write_text(json.dumps(d))
        r = audit("predict", "--model", mj, "--data", data)
        assert r.code == 2 and f'"{field}"' in r.err, (key, bad, r)
