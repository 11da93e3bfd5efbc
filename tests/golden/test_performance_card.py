"""Model card and performance of `audit run` against golden figures (gen_performance.py:
scikit-learn 1.2 roc_auc_score, roc_curve, accuracy_score, confusion_matrix, log_loss,
brier_score_loss, calibration_curve, and DeLong's variance from its kernel-matrix definition),
and the model facts against XGBoost itself.

Tolerances: AUC, accuracy, log-loss, Brier 1e-12 absolute (double sums of the same terms in
other orders); ROC points and thresholds exactly (the same ratios of counts, the same scores);
calibration means 1e-12; counts exactly; the DeLong standard error 1e-12 relative to the
reference's (midranks vs the kernel matrix: the same quantity, other sums)."""
import json
import math
import subprocess

import numpy as np
import pytest

from conftest import ROOT, run_audit

GOLD = ROOT / "tests" / "golden" / "data" / "performance"
EXP = json.loads((GOLD / "expected.json").read_text())


def run_score(tmp_path, score, extra=None):
    spec = {"data": str(GOLD / "scores.csv"), "label": "y", "score": score,
            "threshold": EXP[score]["threshold"], "sensitive": ["g"],
            "fairness": {"bootstrap": 0},
            "outputs": {"dir": str(tmp_path), "json": "results.json", "pdf": "report.pdf",
                        "xlsx": "report.xlsx"}}
    spec.update(extra or {})
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code in (0, 1), r
    return json.loads((tmp_path / "results.json").read_text())


def check_roc(got, want, exact):
    """exact: every point of sklearn's curve; else audit's points are a subset of it with the
    same ends, and points_total is sklearn's length."""
    roc = got["roc"]
    assert roc["thresholds"][0] is None          # +inf: the (0, 0) point
    pts = list(zip(roc["fpr"], roc["tpr"], roc["thresholds"]))
    ref = list(zip(want["fpr"], want["tpr"], [None] + want["thresholds"]))
    assert roc["points_total"] == len(ref)
    if exact:
        assert pts == ref
    else:
        refset = set(ref)
        assert all(p in refset for p in pts)
        assert pts[0] == ref[0] and pts[-1] == ref[-1]
        assert len(pts) < len(ref)


def check_row(got, want, prob, exact_roc):
    assert got["rows"] == want["rows"] and got["positives"] == want["positives"]
    assert got["confusion"] == want["confusion"]
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-12)
    if want["auc"] is None:
        assert got["auc"] is None and "one class" in got["auc_reason"]
        assert got["auc_ci"] is None and "roc" not in got
    else:
        assert got["auc"] == pytest.approx(want["auc"], abs=1e-12)
        check_roc(got, want["roc"], exact_roc)
        if want["auc_var"] is None:
            assert got["auc_ci"] is None and "2 rows" in got["auc_ci_reason"]
        else:
            se = math.sqrt(want["auc_var"])
            assert got["auc_se"] == pytest.approx(se, rel=1e-12, abs=1e-15)
            z = 1.959963984540054
            lo, hi = got["auc_ci"]
            assert lo == pytest.approx(max(0.0, want["auc"] - z * se), abs=1e-12)
            assert hi == pytest.approx(min(1.0, want["auc"] + z * se), abs=1e-12)
    if prob:
        assert got["log_loss"] == pytest.approx(want["log_loss"], abs=1e-12)
        assert got["brier_score"] == pytest.approx(want["brier_score"], abs=1e-12)
        cal, wc = got["calibration"], want["calibration"]
        assert cal["count"] == wc["count"]
        assert cal["edges"] == pytest.approx([k / 10 for k in range(11)], abs=1e-15)
        nz = [k for k, c in enumerate(cal["count"]) if c > 0]
        assert [cal["fraction_positive"][k] for k in nz] == pytest.approx(
            wc["fraction_positive"], abs=1e-12)
        assert [cal["mean_predicted"][k] for k in nz] == pytest.approx(wc["mean_predicted"],
                                                                       abs=1e-12)
        assert all(cal["mean_predicted"][k] is None for k in range(10) if k not in nz)
    else:
        assert got["log_loss"] is None and got["brier_score"] is None
        assert "not a probability" in got["log_loss_reason"]
        assert "not a probability" in got["brier_score_reason"]
        assert "calibration" not in got


@pytest.mark.parametrize("score", ["p", "decile", "margin"])
def test_performance_matches_sklearn(tmp_path, score):
    doc = run_score(tmp_path, score)
    perf = doc["performance"]
    exp = EXP[score]
    prob = score == "p"
    assert perf["score"] == ("probability" if prob else "real")
    assert perf["auc_interval"] == "delong" and perf["confidence_level"] == 0.95
    check_row(perf["overall"], exp["overall"], prob, exact_roc=score != "margin")
    groups = {r["group"]: r for r in perf["by_group"] if r["attribute"] == "g"}
    assert sorted(groups) == sorted(exp["by_group"])
    for g, want in exp["by_group"].items():
        # by group audit keeps at most 60 ROC points
        exact = want["auc"] is not None and len(want["roc"]["fpr"]) <= 60
        check_row(groups[g], want, prob, exact)
    assert (tmp_path / "report.pdf").stat().st_size > 0


def test_decile_score_reports_auc_not_skipped(tmp_path):
    """A 1-10 decile score (COMPAS) is ranked for AUC and thresholded for accuracy; only the
    probability metrics are skipped, each with its reason, and the reports say so."""
    doc = run_score(tmp_path, "decile")
    assert not any(s["section"] == "performance" for s in doc.get("skipped", []))
    o = doc["performance"]["overall"]
    assert o["auc"] == pytest.approx(EXP["decile"]["overall"]["auc"], abs=1e-12)
    txt = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                         text=True).stdout
    assert "not computed: the score column has values outside [0, 1]" in txt.replace("\n", " ")
    assert "No reliability diagram" in txt


def test_model_card_and_facts(tmp_path):
    """The spec's model card (UTF-8, a non-BMP character) reaches results.json unchanged and the
    PDF with the character the font cannot draw replaced; the model facts equal XGBoost's:
    splits = get_score("weight"), cover = get_score("total_cover") (1e-6 relative: XGBoost sums
    float32 covers), trees, leaves and the deepest leaf from trees_to_dataframe."""
    import xgboost as xgb
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(ROOT / "datasets" / spec[k])
    card = {"owner": "Zoë Müller, Credit Risk", "intended_use": "Ranking applications \U0001F680",
            "label_meaning": "default = 1: 90+ days past due", "training_data": "synthetic",
            "training_period": "2021-01 to 2023-12", "limitations": "synthetic data",
            "contact": "mrm@example.com"}
    spec.update({"explain": False, "model_card": card,
                 "outputs": {"dir": str(tmp_path), "json": "results.json", "pdf": "report.pdf",
                             "xlsx": "report.xlsx"}})
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code in (0, 1), r
    doc = json.loads((tmp_path / "results.json").read_text())
    mc = doc["model_card"]
    for k, v in card.items():
        assert mc[k] == v
    bst = xgb.Booster()
    bst.load_model(spec["model"])
    w, c = bst.get_score(importance_type="weight"), bst.get_score(importance_type="total_cover")
    m = mc["model"]
    assert m["format"] == "xgboost-json" and m["objective"] == "binary:logistic"
    assert [f["name"] for f in m["features"]] == bst.feature_names
    for f in m["features"]:
        assert f["splits"] == w.get(f["name"], 0)
        assert f["cover"] == pytest.approx(c.get(f["name"], 0.0), rel=1e-6)
    df = bst.trees_to_dataframe()
    assert m["trees"] == df.Tree.nunique() and m["leaves"] == int((df.Feature == "Leaf").sum())
    kids = {row.ID: (row.Yes, row.No) for row in df.itertuples() if row.Feature != "Leaf"}

    def depth(node):
        return 0 if node not in kids else 1 + max(depth(k) for k in kids[node])
    assert m["max_depth"] == max(depth(f"{t}-0") for t in df.Tree.unique())
    txt = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                         text=True).stdout
    assert "Zoë Müller, Credit Risk" in txt and "Ranking applications \ufffd" in txt
    page = txt.split("\f")
    first_card = next(i for i, p in enumerate(page) if "Model card" in p and "Owner" in p)
    first_prov = next(i for i, p in enumerate(page) if "\nProvenance" in p or p.startswith("Provenance"))
    assert first_card < first_prov      # early in the report
    import openpyxl
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")["Model"]
    cells = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0] is not None}
    assert cells["Owner"] == card["owner"] and cells["Trees"] == m["trees"]
    assert len(ws._charts) == 2
    assert len(ws.tables) == 4   # features, performance, ROC points, calibration bins


@pytest.mark.parametrize("card, msg", [
    ({"owner": 3}, "model_card.owner"),
    ({"ownr": "x"}, "model_card.ownr"),
    ("text", "model_card"),
])
def test_model_card_spec_errors(tmp_path, card, msg):
    spec = {"data": str(GOLD / "scores.csv"), "label": "y", "score": "p", "model_card": card,
            "outputs": {"dir": str(tmp_path / "out"), "json": "results.json"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 2, r
    assert msg in r.err and "spec.json" in r.err


@pytest.mark.parametrize("path, value, msg", [
    (("overall", "roc", "tpr"), [0.0], '"performance.overall.roc.tpr": has 1 entries'),
    (("overall", "confusion", "tp"), "x", '"performance.overall.confusion.tp"'),
    (("overall", "calibration", "edges"), [0, 1], '"performance.overall.calibration.edges"'),
])
def test_validator_rejects_bad_performance(tmp_path, path, value, msg):
    doc = run_score(tmp_path, "p")
    node = doc["performance"]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    r = run_audit("report", tmp_path / "bad.json", "--pdf", tmp_path / "bad.pdf")
    assert r.code == 2, r
    assert msg in r.err
    assert not (tmp_path / "bad.pdf").exists()


def test_lightgbm_splits_match_the_model_files_importances(tmp_path):
    """LightGBM writes its split importance into the model file ("feature_importances:", type
    split by default, features with no split left out): the card's splits equal it."""
    src = ROOT / "tests" / "golden" / "data" / "lightgbm" / "binary"
    spec = {"model": str(src / "model.txt"), "data": str(src / "input.csv"),
            "explain": False, "outputs": {"dir": str(tmp_path), "json": "results.json"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 0, r
    m = json.loads((tmp_path / "results.json").read_text())["model_card"]["model"]
    text = (src / "model.txt").read_text()
    block = text.split("feature_importances:\n", 1)[1].split("\n\n", 1)[0]
    want = {k: int(v) for k, v in (line.split("=") for line in block.splitlines() if "=" in line)}
    assert m["format"] == "lightgbm-text" and m["kind"] == "trees"
    assert {f["name"]: f["splits"] for f in m["features"] if f["splits"] > 0} == want
    assert m["trees"] == text.count("\nTree=")


def test_margin_model_gets_auc_not_probability_metrics(tmp_path):
    """binary:logitraw outputs margins: AUC and accuracy (margin >= threshold) are computed and
    equal scikit-learn's on XGBoost's own margins; log-loss and Brier say why they are absent."""
    import pandas as pd
    import xgboost as xgb
    from sklearn.metrics import accuracy_score, roc_auc_score
    src = ROOT / "tests" / "golden" / "data" / "models"
    df = pd.read_csv(src / "data.csv", float_precision="round_trip")
    bst = xgb.Booster()
    bst.load_model(src / "xgb_binary_logitraw.json")
    margin = bst.predict(xgb.DMatrix(df[bst.feature_names], missing=np.nan)).astype(np.float64)
    noise = np.random.default_rng(3).normal(0, 1.0, len(df))
    df["y"] = (margin + noise > np.median(margin)).astype(int)
    df.to_csv(tmp_path / "d.csv", index=False)
    spec = {"model": str(src / "xgb_binary_logitraw.json"), "data": str(tmp_path / "d.csv"),
            "label": "y", "threshold": 0.0, "explain": False,
            "outputs": {"dir": str(tmp_path), "json": "results.json"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp_path / "spec.json")
    assert r.code == 0, r
    perf = json.loads((tmp_path / "results.json").read_text())["performance"]
    o = perf["overall"]
    assert perf["score"] == "real"
    # audit's margins are XGBoost's to float32 rounding: compare the rank statistic loosely
    assert o["auc"] == pytest.approx(roc_auc_score(df["y"], margin), abs=1e-6)
    assert o["accuracy"] == pytest.approx(accuracy_score(df["y"], margin >= 0.0), abs=1e-3)
    assert o["log_loss"] is None and "model's output is not a probability" in o["log_loss_reason"]
