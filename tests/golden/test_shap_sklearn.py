"""`audit explain` on scikit-learn models exported by tools/export_sklearn.py, against oracles
computed here in Python (Debian python3-sklearn), independent of the C code:
  - tree: Shapley values of the path-dependent game v(S) = E[f(x) | x_S] evaluated by the
    cover-weighted recursion over sklearn's own tree_ arrays (Lundberg et al. 2018, Algorithm 1),
    every coalition enumerated;
  - tree-interventional / exact: Shapley values of v(S) = mean_b f(x_S, z_b) with f = sklearn's
    decision_function / predict on the hybrid rows, every coalition enumerated;
  - linear: w_j (x_j - mean_b z_bj) for LogisticRegression.
Tolerance 1e-9 absolute (double precision on both sides; values are O(1)). Models are small,
seeded and trained in the test (about a second), so no pickles are committed."""
import itertools
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shap_columns
from sklearn.ensemble import (GradientBoostingClassifier, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent.parent
EXPORT = ROOT / "tools" / "export_sklearn.py"
NAMES = ["age", "income", "score", "n_accounts", "ratio"]
M = len(NAMES)
TOL = 1e-9


def data(seed, n):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(18, 80, n).astype(float), rng.lognormal(10, 0.5, n),
                         rng.normal(size=n), rng.integers(0, 6, n).astype(float),
                         rng.uniform(size=n)])
    z = 0.03 * (X[:, 0] - 45) + X[:, 2] - 0.4 * X[:, 3] + 2 * X[:, 4] + 0.3 * rng.normal(size=n)
    return pd.DataFrame(X, columns=NAMES), z


def write_csv(df, path):
    with open(path, "w") as f:
        f.write(",".join(df.columns) + "\n")
        for r in df.to_numpy():
            f.write(",".join(repr(float(v)) for v in r) + "\n")


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    d = tmp_path_factory.mktemp("shap_sklearn")
    X, z = data(0, 600)
    rows = X.iloc[:6].reset_index(drop=True)
    bg = X.iloc[100:115].reset_index(drop=True)
    write_csv(rows, d / "rows.csv")
    write_csv(bg, d / "bg.csv")
    return {"dir": d, "X": X, "z": z, "rows": rows, "bg": bg}


def export(model, d, name):
    pkl = d / f"{name}.pkl"
    pkl.write_bytes(pickle.dumps(model))
    out = d / f"{name}.json"
    r = subprocess.run([sys.executable, str(EXPORT), str(pkl), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def shapley(v):
    """Shapley values from a dict {frozenset: value}, every coalition present."""
    phi = np.zeros(M + 1)
    for S in v:
        for j in range(M):
            if j in S:
                continue
            w = math.factorial(len(S)) * math.factorial(M - len(S) - 1) / math.factorial(M)
            phi[j] += w * (v[S | {j}] - v[S])
    phi[M] = v[frozenset()]
    return phi


def coalitions():
    for k in range(M + 1):
        for S in itertools.combinations(range(M), k):
            yield frozenset(S)


def leaf_value(est, node, kind):
    val = est.tree_.value[node]
    if kind == "proba":
        return val[0][1] / val[0].sum()
    return val[0][0]


def cond_exp(est, node, x, S, kind):
    t = est.tree_
    if t.children_left[node] == -1:
        return leaf_value(est, node, kind)
    f = t.feature[node]
    left, right = t.children_left[node], t.children_right[node]
    if f in S:
        nxt = left if float(np.float32(x[f])) <= t.threshold[node] else right
        return cond_exp(est, nxt, x, S, kind)
    w = t.weighted_n_node_samples
    return (w[left] * cond_exp(est, left, x, S, kind)
            + w[right] * cond_exp(est, right, x, S, kind)) / w[node]


def path_dependent_oracle(model, x):
    if isinstance(model, GradientBoostingClassifier):
        ests = [e[0] for e in model.estimators_]
        scale, kind = model.learning_rate, "value"
        raw = model.decision_function(pd.DataFrame([x], columns=NAMES))[0]
        base = raw - scale * sum(e.predict(np.asarray([x], dtype=np.float32))[0] for e in ests)
    else:
        ests = model.estimators_
        scale = 1.0 / len(ests)
        kind = "proba" if isinstance(model, RandomForestClassifier) else "value"
        base = 0.0
    v = {S: base + scale * sum(cond_exp(e, 0, x, S, kind) for e in ests) for S in coalitions()}
    return shapley(v)


def model_output(model, X):
    if isinstance(model, GradientBoostingClassifier):
        return model.decision_function(X)
    if isinstance(model, RandomForestClassifier):
        return model.predict_proba(X)[:, 1]
    if isinstance(model, LogisticRegression):
        return model.decision_function(X)
    return model.predict(X)


def interventional_oracle(model, x, bg):
    Z = bg.to_numpy()
    v = {}
    for S in coalitions():
        H = Z.copy()
        for j in S:
            H[:, j] = x[j]
        v[S] = float(np.mean(model_output(model, pd.DataFrame(H, columns=NAMES))))
    return shapley(v)


def explain(audit, model_json, fr, *args):
    r = audit("explain", "--model", model_json, "--data", fr["dir"] / "rows.csv", *args)
    assert r.code == 0, r
    return shap_columns(r.out)[1]


def models(fr):
    X, z = fr["X"], fr["z"]
    return {
        "gb": GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0)
        .fit(X, z > 0),
        "rf_reg": RandomForestRegressor(n_estimators=6, max_depth=4, random_state=0).fit(X, z),
        "rf_clf": RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0)
        .fit(X, z > 0),
    }


@pytest.mark.parametrize("name", ["gb", "rf_reg", "rf_clf"])
def test_tree_path_dependent_vs_python_oracle(audit, frames, name):
    model = models(frames)[name]
    got = explain(audit, export(model, frames["dir"], name), frames, "--method", "tree")
    for i, x in enumerate(frames["rows"].to_numpy()):
        want = path_dependent_oracle(model, x)
        assert np.abs(got[i] - want).max() <= TOL, (i, got[i], want)


@pytest.mark.parametrize("method", ["tree-interventional", "exact", "kernel"])
@pytest.mark.parametrize("name", ["gb", "rf_reg"])
def test_background_methods_vs_sklearn_enumeration(audit, frames, name, method):
    model = models(frames)[name]
    got = explain(audit, export(model, frames["dir"], name), frames, "--method", method,
                  "--background", frames["dir"] / "bg.csv")
    for i, x in enumerate(frames["rows"].to_numpy()):
        want = interventional_oracle(model, x, frames["bg"])
        assert np.abs(got[i] - want).max() <= TOL, (i, got[i], want)


def test_linear_logistic_closed_form(audit, frames):
    X, z = frames["X"], frames["z"]
    Xs = X.copy()
    Xs["income"] = Xs["income"] / 1e4   # keep the solver well conditioned
    model = LogisticRegression(max_iter=2000).fit(Xs, z > 0)
    mj = export(model, frames["dir"], "logit")
    rows = frames["rows"].copy()
    rows["income"] = rows["income"] / 1e4
    bg = frames["bg"].copy()
    bg["income"] = bg["income"] / 1e4
    write_csv(rows, frames["dir"] / "rows_lin.csv")
    write_csv(bg, frames["dir"] / "bg_lin.csv")
    w, b = model.coef_[0], model.intercept_[0]
    mean = bg.to_numpy().mean(axis=0)
    want = np.column_stack([(rows.to_numpy() - mean) * w, np.full(len(rows), b + w @ mean)])
    for method in ("auto", "linear", "exact", "kernel"):
        r = audit("explain", "--model", mj, "--data", frames["dir"] / "rows_lin.csv",
                  "--method", method, "--background", frames["dir"] / "bg_lin.csv",
                  "--background-rows", "1000")
        assert r.code == 0, r
        got = shap_columns(r.out)[1]
        assert np.abs(got - want).max() <= TOL, method
    # the linear game through sklearn itself
    got0 = want[0]
    assert np.abs(got0 - interventional_oracle_lin(model, rows.to_numpy()[0], bg)).max() <= TOL


def interventional_oracle_lin(model, x, bg):
    Z = bg.to_numpy()
    v = {}
    for S in coalitions():
        H = Z.copy()
        for j in S:
            H[:, j] = x[j]
        v[S] = float(np.mean(model.decision_function(pd.DataFrame(H, columns=NAMES))))
    return shapley(v)


def test_linear_missing_value_is_an_error(audit, frames, tmp_path):
    X, z = frames["X"], frames["z"]
    model = LogisticRegression(max_iter=2000).fit(X[["age", "score"]], z > 0)
    mj = export(model, tmp_path, "lin2")
    p = tmp_path / "d.csv"
    p.write_text("age,score\n30,0.5\n40,\n")
    r = audit("explain", "--model", mj, "--data", p, "--background", p)
    assert r.code == 2, r
    # named as predict names it: the file and the 0-based data row and its CSV line
    assert f"{p}: " in r.err and "data row 1 (CSV line 3)" in r.err and "score" in r.err and "impute" in r.err
