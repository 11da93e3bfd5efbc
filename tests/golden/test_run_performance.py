"""Performance figures of `audit run` against scikit-learn on the demo model's own predictions.

Reference: the model's predictions (`audit predict`, checked here against
xgboost.Booster.predict to 1e-6), then sklearn.metrics roc_auc_score, accuracy_score (predicted 1 iff p >= threshold), log_loss and
brier_score_loss, overall and per sensitive group. Tolerance 1e-12 absolute: both
sides are double-precision sums of the same terms in different orders (predictions agree with
XGBoost's to ~1e-7 since
XGBoost sums float32 leaves, so AUC and accuracy could differ only at exact ties)."""
import io
import json

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import ROOT, run_audit
    tmp = tmp_path_factory.mktemp("perf")
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(ROOT / "datasets" / spec[k])
    spec["explain"] = False
    spec["outputs"] = {"dir": str(tmp), "json": "results.json"}
    (tmp / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp / "spec.json")
    assert r.code in (0, 1), r
    doc = json.loads((tmp / "results.json").read_text())
    df = pd.read_csv(spec["data"], float_precision="round_trip", keep_default_na=False,
                     na_values=["", "NA", "NaN", "nan", "null", "?"])
    bst = xgb.Booster()
    bst.load_model(spec["model"])
    p_xgb = bst.predict(xgb.DMatrix(df[bst.feature_names], missing=np.nan)).astype(np.float64)
    r = run_audit("predict", "--model", spec["model"], "--data", spec["data"])
    assert r.code == 0, r
    p = pd.read_csv(io.StringIO(r.out), float_precision="round_trip")["prediction"].to_numpy()
    assert np.max(np.abs(p - p_xgb)) <= 1e-6   # audit's predictions are XGBoost's
    return doc, df, p, spec


def metrics(y, p, t):
    return {"auc": roc_auc_score(y, p), "accuracy": accuracy_score(y, (p >= t).astype(int)),
            "log_loss": log_loss(y, p, labels=[0, 1]), "brier_score": brier_score_loss(y, p)}


def test_overall(demo):
    doc, df, p, spec = demo
    got = doc["performance"]["overall"]
    want = metrics(df[spec["label"]].to_numpy(), p, spec["threshold"])
    assert got["rows"] == len(df)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k


def test_by_group(demo):
    doc, df, p, spec = demo
    rows = doc["performance"]["by_group"]
    seen = 0
    for attr in spec["sensitive"]:
        for g, idx in df.groupby(attr).indices.items():
            got = next(r for r in rows if r["attribute"] == attr and r["group"] == str(g))
            want = metrics(df[spec["label"]].to_numpy()[idx], p[idx], spec["threshold"])
            assert got["rows"] == len(idx)
            for k, v in want.items():
                assert got[k] == pytest.approx(v, abs=1e-12), (attr, g, k)
            seen += 1
    assert seen == len(rows)


def test_prediction_drift_matches_scipy(demo, tmp_path):
    """drift.prediction_drift of the run: the model's outputs on the reference vs the current
    data, compared with scipy (ks_2samp, wasserstein_distance; normed by numpy's std, ddof 0)
    on the same predictions (`audit predict`). Tolerance 1e-9 relative (SPEC section 3)."""
    from conftest import run_audit
    from scipy.stats import ks_2samp, wasserstein_distance
    doc, _, p_cur, spec = demo
    r = run_audit("predict", "--model", spec["model"], "--data", spec["reference"])
    assert r.code == 0, r
    p_ref = pd.read_csv(io.StringIO(r.out), float_precision="round_trip")["prediction"].to_numpy()
    pd_ = doc["drift"]["prediction_drift"]
    w = wasserstein_distance(p_ref, p_cur)
    assert pd_["wasserstein"] == pytest.approx(w, rel=1e-9)
    assert pd_["wasserstein_normed"] == pytest.approx(w / max(np.std(p_ref), 0.001), rel=1e-9)
    ks = ks_2samp(p_ref, p_cur)
    assert pd_["ks"]["statistic"] == pytest.approx(ks.statistic, rel=1e-9)
    assert pd_["ks"]["p_value"] == pytest.approx(ks.pvalue, rel=1e-6, abs=1e-300)
    assert pd_["method"] == "wasserstein_normed"   # reference > 1000 rows, > 5 unique values
    assert pd_["drifted"] == (pd_["wasserstein_normed"] >= 0.1)


def test_attribution_drift_matches_xgboost(tmp_path):
    """explanations.attribution_drift with every row explained on both sides: mean |SHAP| per
    feature on the reference and the current data equals the mean of |XGBoost pred_contribs|
    (1e-5 absolute, the SHAP tolerance of SPEC section 3: XGBoost's values are float32), and
    the ranks follow those means."""
    from conftest import ROOT, run_audit
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(ROOT / "datasets" / spec[k])
    spec["explain"] = {"rows": 100000}
    spec["checks"] = []
    spec["outputs"] = {"dir": str(tmp_path), "json": "results.json"}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 0, r
    ex = json.loads((tmp_path / "results.json").read_text())["explanations"]
    ad = ex["attribution_drift"]
    bst = xgb.Booster()
    bst.load_model(spec["model"])
    names = bst.feature_names

    def mean_abs(path):
        df = pd.read_csv(path, float_precision="round_trip", keep_default_na=False,
                         na_values=["", "NA", "NaN", "nan", "null", "?"])
        c = bst.predict(xgb.DMatrix(df[names], missing=np.nan), pred_contribs=True)
        return dict(zip(names, np.abs(c[:, :-1].astype(np.float64)).mean(axis=0)))

    ref, cur = mean_abs(spec["reference"]), mean_abs(spec["data"])
    assert ad["reference_rows"] == 6000 and ex["rows"] == 6000
    for f in ad["features"]:
        assert f["mean_abs_reference"] == pytest.approx(ref[f["name"]], abs=1e-5)
        assert f["mean_abs_current"] == pytest.approx(cur[f["name"]], abs=1e-5)
    order = sorted(names, key=lambda n: -cur[n])
    assert [f["name"] for f in sorted(ad["features"], key=lambda f: f["rank_current"])][:5] == \
        order[:5]


def test_by_group_many_groups_vs_sklearn(tmp_path):
    """Per-group performance with a numeric attribute of ~600 distinct values (issue 19: the
    groups' rows are gathered in one counting pass, not one pass over the table per group):
    every group's rows, positives, AUC, accuracy, log-loss and Brier score equal scikit-learn's
    on that group's rows (1e-12 absolute); groups with one class have a null AUC."""
    from conftest import ROOT, run_audit
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    df = pd.read_csv(ROOT / "datasets" / spec["data"], float_precision="round_trip",
                     keep_default_na=False, na_values=["", "NA", "NaN", "nan", "null", "?"])
    rng = np.random.default_rng(19)
    df["cell"] = rng.integers(0, 600, len(df))
    df.loc[rng.random(len(df)) < 0.02, "cell"] = np.nan   # unknown: in no group
    data = tmp_path / "data.csv"
    df.to_csv(data, index=False, na_rep="")
    spec.update({"model": str(ROOT / "datasets" / spec["model"]), "data": str(data),
                 "sensitive": ["cell"], "explain": False, "global": False, "checks": [],
                 "fairness": {"bootstrap": 0}, "outputs": {"dir": str(tmp_path),
                                                           "json": "results.json"}})
    del spec["reference"]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 0, r
    rows = json.loads((tmp_path / "results.json").read_text())["performance"]["by_group"]
    r = run_audit("predict", "--model", spec["model"], "--data", str(data))
    assert r.code == 0, r
    p = pd.read_csv(io.StringIO(r.out), float_precision="round_trip")["prediction"].to_numpy()
    y = df[spec["label"]].to_numpy()
    groups = df.groupby("cell").indices
    assert len(rows) == len(groups) > 500
    for got in rows:
        idx = groups[float(got["group"])]
        assert got["rows"] == len(idx) and got["positives"] == int(y[idx].sum())
        yt, pt = y[idx], p[idx]
        t = spec["threshold"]
        assert got["accuracy"] == pytest.approx(accuracy_score(yt, (pt >= t).astype(int)),
                                                abs=1e-12)
        assert got["log_loss"] == pytest.approx(log_loss(yt, pt, labels=[0, 1]), abs=1e-12)
        assert got["brier_score"] == pytest.approx(brier_score_loss(yt, pt), abs=1e-12)
        if len(set(yt)) == 2:
            assert got["auc"] == pytest.approx(roc_auc_score(yt, pt), abs=1e-12)
        else:
            assert got["auc"] is None and got["auc_reason"] == "only one class among the labels"
