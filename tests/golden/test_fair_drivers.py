"""Drivers, proxy screen and trade-offs (SPEC section 7) against independent references.

- drivers: the identity sum(contributions) == gap to 1e-9 on audit's own output (margin and
  probability scale), for the attributes and for the intersection race&sex alike; gap and contributions vs XGBoost pred_contribs / output_margin + pandas
  groupby means (data/fair_drivers/expected.json, gen_fair_drivers.py) to 1e-6 absolute
  (XGBoost's contributions are float32);
- proxies: Cramer's V (scipy association), correlation ratio (numpy), NMI (sklearn) to 1e-9;
- trade-offs: brute force over every threshold of every group, written out here row by row;
- the demo: zip_region_code is the main driver and a likely proxy of race group B.
"""
import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, run_audit

DATA = ROOT / "tests" / "golden" / "data" / "fair_drivers"
EXP = json.loads((DATA / "expected.json").read_text()) if (DATA / "expected.json").exists() else None


def fairness(tmp_path, *extra, name="out.json"):
    out = tmp_path / name
    r = run_audit("fairness", "--data", DATA / "data.csv", "--sensitive", "race,sex",
                  "--label", "y", "--bootstrap", "0", "--json", out, *extra)
    assert r.code == 0, r
    doc = json.loads(out.read_text())["fairness"]
    return {a["name"]: a for a in doc["attributes"] + doc.get("intersections", [])}


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    return fairness(tmp_path_factory.mktemp("drv"), "--model", DATA / "model.json",
                    "--threshold", "0.5")


def test_identity_margin_and_probability(model_run):
    for a in model_run.values():
        assert a["drivers"], a["name"]
        for d in a["drivers"]:
            assert d["scale"] == "margin" and "tree" in d["method"]
            assert len(d["features"]) == 5           # all features when <= 20
            s = sum(f["contribution"] for f in d["features"])
            assert abs(s - d["gap"]) <= 1e-9, (d["group"], s, d["gap"])
            assert abs(sum(f["share"] for f in d["features"]) - 1) <= 1e-9
            pr = d["probability"]
            s = sum(f["contribution"] for f in pr["features"])
            assert abs(s - pr["gap"]) <= 1e-9, (d["group"], s, pr["gap"])
            mags = [abs(f["contribution"]) for f in d["features"]]
            assert mags == sorted(mags, reverse=True)


def test_drivers_vs_xgboost_pandas(model_run):
    for attr, groups in EXP["drivers"].items():
        got = {d["group"]: d for d in model_run[attr]["drivers"]}
        assert set(got) == set(groups)
        for g, e in groups.items():
            d = got[g]
            assert abs(d["gap"] - e["gap"]) <= 1e-6
            n = sum(1 for _ in open(DATA / "data.csv")) - 1
            assert d["rows"]["group"] + d["rows"]["reference"] <= n
            for f in d["features"]:
                assert abs(f["contribution"] - e["contributions"][f["name"]]) <= 1e-6, f
            assert abs(d["probability"]["gap"] - e["probability_gap"]) <= 1e-6
            for f in d["probability"]["features"]:
                assert abs(f["contribution"] - e["probability"][f["name"]]) <= 1e-6, f


def test_intersection_has_drivers_and_proxies(model_run):
    """The intersection race&sex is decomposed and screened like an attribute (its values are
    in expected.json, so the two tests above check them against XGBoost, scipy, sklearn); a
    feature that is one of its attributes would be marked is_attribute."""
    df = pd.read_csv(DATA / "data.csv")
    inter = model_run["race&sex"]
    g = df.race + "&" + df.sex
    ref = g.value_counts().idxmax()
    got = {d["group"]: d for d in inter["drivers"]}
    assert set(got) == set(g.unique()) - {ref}
    for grp, d in got.items():
        assert d["reference"] == ref
        assert d["rows"] == {"group": int((g == grp).sum()), "reference": int((g == ref).sum())}
    assert {p["feature"] for p in inter["proxies"]} == set(EXP["proxies"]["race&sex"])
    assert "tradeoffs" not in inter


def test_row_counts(model_run):
    df = pd.read_csv(DATA / "data.csv")
    for d in model_run["race"]["drivers"]:
        assert d["rows"] == {"group": int((df.race == d["group"]).sum()),
                             "reference": int((df.race == "A").sum())}


def test_proxies_vs_scipy_numpy_sklearn(model_run):
    for attr, feats in EXP["proxies"].items():
        got = {p["feature"]: p for p in model_run[attr]["proxies"]}
        assert set(got) == set(feats)
        for f, e in feats.items():
            p = got[f]
            assert p["measure"] == e["measure"], f
            assert abs(p["association"] - e["association"]) <= 1e-9, (attr, f, p, e)
            assert abs(p["nmi"] - e["nmi"]) <= 1e-9, (attr, f, p, e)
            flag = (p["association"] >= 0.3 and p["disparity_share"] is not None
                    and p["disparity_share"] >= 0.2)
            assert p["likely_proxy"] == flag
    race = {p["feature"]: p for p in model_run["race"]["proxies"]}
    assert race["zip"]["likely_proxy"] and not race["age"]["likely_proxy"]
    assert race["zip"]["disparity_group"] == "B"


# ---- trade-offs: brute force ------------------------------------------------------------------

def candidates(s, favorable):
    """Every threshold that selects a different set of the group: its scores, and one beyond."""
    u = np.unique(s)
    return list(u) + [np.nextafter(u[-1], np.inf)]


def selected(s, t, favorable):
    return s >= t if favorable else s < t


def brute_impact_ratio(df, attr, favorable, t0, eligible):
    thr = {g: t0 for g in df[attr].unique()}

    def rate(g):
        s = df.score[df[attr] == g].to_numpy()
        return selected(s, thr[g], favorable).mean()
    while True:
        m = max(rate(g) for g in eligible)
        moved = False
        for g in eligible:
            if rate(g) / m >= 0.8:
                continue
            s = df.score[df[attr] == g].to_numpy()
            best = None   # the fewest selected rows reaching 0.8, over every threshold
            for t in candidates(s, favorable):
                k = selected(s, t, favorable).sum()
                if k / len(s) / m >= 0.8 and (best is None or k < best[0]):
                    best = (k, t)
            thr[g] = best[1]
            moved = True
        if not moved:
            return thr


def brute_equal_tpr(df, attr, favorable, t0, eligible, ref):
    thr = {g: t0 for g in df[attr].unique()}
    pos = lambda d: d.y == favorable
    r = df[(df[attr] == ref)]
    target = selected(r.score[pos(r)].to_numpy(), t0, favorable).mean()
    for g in eligible:
        if g == ref:
            continue
        d = df[df[attr] == g]
        s, sp = d.score.to_numpy(), d.score[pos(d)].to_numpy()
        now = selected(s, t0, favorable).sum()
        best = None
        for t in candidates(s, favorable) + [s.min()]:
            key = (abs(selected(sp, t, favorable).mean() - target),
                   abs(int(selected(s, t, favorable).sum()) - int(now)),
                   int(selected(s, t, favorable).sum()))
            if best is None or key < best[0]:
                best = (key, t)
        thr[g] = best[1]
    return thr, target


def apply(df, attr, thr, favorable):
    t = df[attr].map(thr).to_numpy()
    return np.where(favorable, df.score >= t, df.score < t)


@pytest.mark.parametrize("favorable", [1, 0])
def test_tradeoffs_brute_force(tmp_path, favorable):
    t0 = 0.45
    got = fairness(tmp_path, "--score", "score", "--threshold", str(t0),
                   "--favorable", str(favorable))
    df = pd.read_csv(DATA / "data.csv")
    for attr in ("race", "sex"):
        tr = got[attr]["tradeoffs"]
        assert "not a remedy" in tr["notice"] and "unlawful" in tr["notice"]
        share = df[attr].value_counts(normalize=True)
        eligible = [g for g in share.index if share[g] >= 0.02]
        ref = df[attr].value_counts().idxmax()
        for rule, (thr, target) in {
                "impact_ratio": (brute_impact_ratio(df, attr, favorable, t0, eligible), None),
                "equal_tpr": brute_equal_tpr(df, attr, favorable, t0, eligible, ref)}.items():
            o = tr[rule]
            sel = apply(df, attr, thr, favorable)
            sel0 = apply(df, attr, {g: t0 for g in thr}, favorable)
            lab = df.y.notna()
            yfav = df.y == favorable
            for k, s in (("before", sel0), ("after", sel)):
                assert abs(o[k]["approval_rate"] - s.mean()) <= 1e-12
                assert abs(o[k]["accuracy"] - (s[lab] == yfav[lab]).mean()) <= 1e-12
            groups = {g["group"]: g for g in o["groups"]}
            for g, t in thr.items():
                m = (df[attr] == g).to_numpy()
                e = groups[g]
                assert e["changed"] == (t != t0), (rule, g)
                # the reported threshold, applied to the group's scores, selects the same rows
                assert (selected(df.score[m].to_numpy(), e["threshold_after"], favorable)
                        == sel[m]).all(), (rule, g, e["threshold_after"], t)
                assert abs(e["selection_rate_after"] - sel[m].mean()) <= 1e-12
                p = m & yfav.to_numpy()
                n = m & (lab & ~yfav).to_numpy()
                assert abs(e["tpr_after"] - sel[p].mean()) <= 1e-12
                assert abs(e["fpr_after"] - sel[n].mean()) <= 1e-12
                assert abs(e["tpr_before"] - sel0[p].mean()) <= 1e-12
            if rule == "impact_ratio":
                rates = {g: sel[(df[attr] == g).to_numpy()].mean() for g in eligible}
                assert min(rates.values()) / max(rates.values()) >= 0.8
            else:
                assert abs(o["target_tpr"] - target) <= 1e-12
    assert got["race"]["tradeoffs"]["impact_ratio"]["needed"] == any(
        g["impact_ratio_before"] < 0.8 for g in got["race"]["tradeoffs"]["impact_ratio"]["groups"]
        if g["eligible"])


def test_prediction_only_has_no_tradeoffs(tmp_path):
    got = fairness(tmp_path, "--prediction", "y")
    assert "tradeoffs" not in got["race"] and "drivers" not in got["race"]


def test_demo_names_zip_region_code(tmp_path):
    """datasets/README.md ground truth: zip_region_code is the proxy for race; it must be the
    main driver of race B's gap and flagged as a likely proxy."""
    ds = ROOT / "datasets"
    out = tmp_path / "demo.json"
    r = run_audit("fairness", "--data", ds / "credit_current.csv", "--sensitive", "race",
                  "--model", ds / "credit_xgb.json", "--threshold", "0.5", "--label", "default",
                  "--favorable", "0", "--bootstrap", "0", "--json", out)
    assert r.code == 0, r
    race = json.loads(out.read_text())["fairness"]["attributes"][0]
    b = next(d for d in race["drivers"] if d["group"] == "B")
    top = b["features"][0]
    assert top["name"] == "zip_region_code" and top["likely_proxy"] and top["share"] > 0.5
    p = next(p for p in race["proxies"] if p["feature"] == "zip_region_code")
    assert p["likely_proxy"] and p["measure"] == "cramers_v" and p["disparity_group"] == "B"
    assert not any(q["likely_proxy"] for q in race["proxies"] if q["feature"] != "zip_region_code")


def test_linear_model_every_row_vs_pandas(tmp_path):
    """Linear SHAP phi_j = w_j (x_j - mean_j): the background mean cancels in the difference of
    group means, so contribution_j = w_j (mean_g(x_j) - mean_ref(x_j)) exactly (1e-9)."""
    coef = {"zip": 0.3, "util": -1.1, "nacc": 0.05, "age": -0.01}
    model = tmp_path / "linear.json"
    model.write_text(json.dumps({"format": "audit-linear", "version": 1, "link": "logit",
                                 "intercept": -0.4, "coefficients": coef}))
    got = fairness(tmp_path, "--model", model, "--threshold", "0.5")
    df = pd.read_csv(DATA / "data.csv")
    for attr in ("race", "sex"):
        ref = df[attr].value_counts().idxmax()
        mean = df.groupby(attr)[list(coef)].mean()
        for d in got[attr]["drivers"]:
            assert "linear" in d["method"] and "all 3000 rows" in d["method"]
            for f in d["features"]:
                e = coef[f["name"]] * (mean.loc[d["group"], f["name"]] - mean.loc[ref, f["name"]])
                assert abs(f["contribution"] - e) <= 1e-9, (attr, d["group"], f, e)
            assert abs(sum(f["contribution"] for f in d["features"]) - d["gap"]) <= 1e-9


def test_sampled_method_states_rows(tmp_path):
    """Methods other than tree / linear explain a seeded sample of at most 500 rows per group;
    the identity still holds on the sample and the rows are stated."""
    spec = {"model": str(DATA / "model.json"), "data": str(DATA / "data.csv"), "label": "y",
            "sensitive": ["race"], "threshold": 0.5,
            "explain": {"method": "tree-interventional", "rows": 50, "background": 20},
            "outputs": {"dir": str(tmp_path / "out"), "json": "results.json"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("--quiet", "run", tmp_path / "spec.json")
    assert r.code in (0, 1), r
    race = json.loads((tmp_path / "out" / "results.json").read_text())["fairness"]["attributes"][0]
    counts = pd.read_csv(DATA / "data.csv")["race"].value_counts()
    for d in race["drivers"]:
        assert "sample of at most 500 rows of each group" in d["method"], d["method"]
        assert d["rows"] == {"group": min(500, int(counts[d["group"]])), "reference": 500}
        assert abs(sum(f["contribution"] for f in d["features"]) - d["gap"]) <= 1e-9
    zipp = next(p for p in race["proxies"] if p["feature"] == "zip")
    assert zipp["likely_proxy"]


def test_pipeline_with_a_categorical_feature(tmp_path):
    """A scikit-learn pipeline whose model feature is a text column (OrdinalEncoder): the proxy
    screen treats it as categorical (Cramer's V vs scipy, 1e-9) and the drivers still add up."""
    import pickle
    import subprocess
    import sys
    from scipy.stats.contingency import association, crosstab
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder
    df = pd.read_csv(DATA / "data.csv")
    df["region"] = np.where(df.zip >= 4, "north", "south")
    pipe = Pipeline([("prep", ColumnTransformer([("ord", OrdinalEncoder(), ["region"])],
                                                remainder="passthrough")),
                     ("gb", GradientBoostingClassifier(n_estimators=20, max_depth=2,
                                                       random_state=0))])
    pipe.fit(df[["region", "util", "nacc"]], df.y)
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(pipe))
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "export_sklearn.py"),
                        str(tmp_path / "p.pkl"), str(tmp_path / "p.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    df.to_csv(tmp_path / "d.csv", index=False, na_rep="")
    out = tmp_path / "o.json"
    r = run_audit("fairness", "--data", tmp_path / "d.csv", "--sensitive", "race",
                  "--model", tmp_path / "p.json", "--threshold", "0.5", "--label", "y",
                  "--bootstrap", "0", "--json", out)
    assert r.code == 0, r
    race = json.loads(out.read_text())["fairness"]["attributes"][0]
    p = next(q for q in race["proxies"] if q["feature"] == "region")
    e = association(crosstab(df.race, df.region).count, method="cramer", correction=False)
    assert p["measure"] == "cramers_v" and abs(p["association"] - e) <= 1e-9
    for d in race["drivers"]:
        assert abs(sum(f["contribution"] for f in d["features"]) - d["gap"]) <= 1e-9


def test_model_refusing_missing_values_gives_the_binding_message(tmp_path):
    """A linear model cannot take a missing value: with drivers asked for (fairness --json,
    audit run with explanations) the run stops with the binding layer's message naming the file,
    the column and the data row (exit 2), not with a figure computed from a NaN."""
    df = pd.read_csv(DATA / "data.csv").head(200)
    df.loc[5, "zip"] = np.nan
    df.to_csv(tmp_path / "d.csv", index=False, na_rep="")
    (tmp_path / "lin.json").write_text(json.dumps({
        "format": "audit-linear", "version": 1, "link": "logit", "intercept": -0.4,
        "coefficients": {"zip": 0.3, "util": -1.1}}))
    msg = ('d.csv: "zip": data row 5 (CSV line 7): missing value in column "zip"; this linear model cannot '
           'handle missing values')
    r = run_audit("fairness", "--data", tmp_path / "d.csv", "--sensitive", "race,sex",
                  "--model", tmp_path / "lin.json", "--threshold", "0.5", "--label", "y",
                  "--bootstrap", "0", "--json", tmp_path / "o.json")
    assert r.code == 2 and msg in r.err, r
    assert not (tmp_path / "o.json").exists()
    spec = {"model": "lin.json", "data": "d.csv", "label": "y", "sensitive": ["race", "sex"],
            "threshold": 0.5, "explain": {"method": "auto", "rows": 20},
            "outputs": {"dir": "out", "json": "results.json"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 2 and msg in r.err, r
