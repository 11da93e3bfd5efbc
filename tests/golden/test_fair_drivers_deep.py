"""Drivers of deeper trees (issue 19 item 4: explainers/shap_cells.c counts each leaf's agreement
pattern per cell instead of explaining rows): an XGBoost model trained here of 12 trees of
depth 6 then 4 trees of depth 10 (past the units' 8 key bits: those go the per-pattern way), on
continuous features with missing values and few features (so features repeat on a path).
Every group's gap and feature contributions equal the differences of pandas group means of
XGBoost's pred_contribs / output_margin to 1e-6 absolute (XGBoost's values are float32), for
both attributes and the intersection, at --threads 1 and 3 (the same bytes)."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import run_audit

xgb = pytest.importorskip("xgboost")
FEATURES = ["a", "b", "c", "d"]


def make(n=6000, seed=23):
    rng = np.random.default_rng(seed)
    race = rng.choice(np.array(["A", "B", "C"]), size=n, p=[0.6, 0.3, 0.1])
    sex = rng.choice(np.array(["female", "male"]), size=n, p=[0.45, 0.55])
    a = rng.normal(0.3 * (race == "B"), 1, n).round(4)
    b = rng.lognormal(0, 0.7, n).round(4)
    c = (rng.normal(0, 1, n) + 0.4 * (sex == "male")).round(4)
    d = rng.integers(0, 9, n).astype(float)
    a[rng.random(n) < 0.05] = np.nan
    c[rng.random(n) < 0.08] = np.nan
    logit = 0.8 * np.nan_to_num(a) - 0.5 * np.log(b) + 0.6 * np.sin(np.nan_to_num(c) * 2) \
        + 0.1 * d - 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"race": race, "sex": sex, "a": a, "b": b, "c": c, "d": d, "y": y})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deep")
    df = make()
    df.to_csv(tmp / "data.csv", index=False, na_rep="", float_format="%.10g")
    df = pd.read_csv(tmp / "data.csv")
    X = xgb.DMatrix(df[FEATURES].astype(float), label=df["y"], missing=np.nan)
    p = {"objective": "binary:logistic", "eta": 0.3, "nthread": 1, "tree_method": "hist",
         "seed": 1, "base_score": 0.5, "max_depth": 6}
    bst = xgb.train(p, X, num_boost_round=12)
    bst = xgb.train(dict(p, max_depth=10), X, num_boost_round=4, xgb_model=bst)
    bst.save_model(str(tmp / "model.json"))
    return tmp, df, bst


def test_drivers_deep_trees_vs_xgboost(setup):
    tmp, df, bst = setup
    def depth(node):
        return 0 if "leaf" in node else 1 + max(depth(c) for c in node["children"])

    depths = [depth(json.loads(t)) for t in bst.get_dump(dump_format="json")]
    assert len(depths) == 16 and max(depths[:12]) == 6 and max(depths[12:]) > 8, depths
    X = xgb.DMatrix(df[FEATURES].astype(float), missing=np.nan)
    phi = bst.predict(X, pred_contribs=True).astype(np.float64)
    m = bst.predict(X, output_margin=True).astype(np.float64)
    docs = []
    for th in ("1", "3"):
        out = tmp / ("out%s.json" % th)
        r = run_audit("fairness", "--data", tmp / "data.csv", "--sensitive", "race,sex",
                      "--label", "y", "--bootstrap", "0", "--model", tmp / "model.json",
                      "--threshold", "0.5", "--threads", th, "--created", "2026-01-01T00:00:00Z",
                      "--json", out)
        assert r.code == 0, r
        docs.append(out.read_bytes())
    assert docs[0] == docs[1]
    doc = json.loads(docs[0])["fairness"]
    got = {a["name"]: a for a in doc["attributes"] + doc.get("intersections", [])}
    groupings = [("race", df["race"]), ("sex", df["sex"]),
                 ("race&sex", df["race"] + "&" + df["sex"])]
    checked = 0
    for name, g in groupings:
        ref = g.value_counts().idxmax()
        P = pd.DataFrame(phi[:, :-1], columns=FEATURES).groupby(g.values).mean()
        M = pd.Series(m).groupby(g.values).mean()
        drv = {d["group"]: d for d in got[name]["drivers"]}
        assert set(drv) == set(P.index) - {ref}
        for grp, d in drv.items():
            assert abs(d["gap"] - (M[grp] - M[ref])) <= 1e-6
            for f in d["features"]:
                e = P.loc[grp, f["name"]] - P.loc[ref, f["name"]]
                assert abs(f["contribution"] - e) <= 1e-6, (name, grp, f)
                checked += 1
    assert checked == 4 * (2 + 1 + 5)
