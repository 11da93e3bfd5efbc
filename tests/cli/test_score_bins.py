"""Binned model scores in partials (docs/scale-out.md "Continuous model scores", issue 18): a
shard with many distinct scored cells keeps each score as the lower end of its bin; the merged
figures that read the scores are within the bounds the merged results state beside them, and
everything else equals the single run as before.

The demo's shards (at most 3,000 rows) keep their scores exactly under the default limit, so
the tests set AUDIT_PARTIAL_EXACT_SCORES=0 (bin whenever binning merges some cells)."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from test_scale_out import CREATED, check_summarised, compare, summarised_in, without

BIN_ALL = {"AUDIT_PARTIAL_EXACT_SCORES": "0"}
PERF_BOUNDED = {"auc": "auc", "auc_se": "auc_se", "brier_score": "brier_score",
                "log_loss": "log_loss"}
FAIR_BOUNDED = {"auc": "auc", "brier": "brier", "ece": "ece"}
SLACK = 1e-12   # the bounds are sums over rows: rounding of the figures themselves


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    from conftest import ROOT as root, run_audit
    out = tmp_path_factory.mktemp("single")
    r = run_audit("run", root / "datasets" / "demo_audit.json", "--out", out, "--created",
                  CREATED)
    assert r.code == 1, r   # the demo fails by design
    preds = out / "preds.csv"
    r = run_audit("predict", "--model", root / "datasets" / "credit_xgb.json", "--data",
                  root / "datasets" / "credit_current.csv", "--out", preds)
    assert r.code == 0, r
    raw = pd.read_csv(root / "datasets" / "credit_current.csv")
    raw["score"] = pd.read_csv(preds)["prediction"]
    return json.loads((out / "results.json").read_text()), raw


def shard_merge(audit, root, tmp, n, env_of=lambda i: BIN_ALL):
    parts = []
    for i in range(n):
        r = audit("run", root / "datasets" / "demo_audit.json", "--shard", f"{i}/{n}", "--out",
                  tmp / "parts", "--quiet", env=env_of(i))
        assert r.code == 0, r
        parts.append(tmp / "parts" / f"partial-{i}-of-{n}.audpart")
    r = audit("merge", *parts, "--out", tmp / "merged", "--created", CREATED)
    assert r.code == 1, r
    return json.loads((tmp / "merged" / "results.json").read_text()), parts


def strip(doc):
    """The document without the figures that read binned scores (checked against their bounds)
    and the bounds themselves."""
    doc = json.loads(json.dumps(doc))
    perf = doc["performance"]
    for o in [perf["overall"]] + perf["by_group"]:
        for k in ("auc", "auc_se", "auc_ci", "brier_score", "log_loss", "roc", "score_bins"):
            o.pop(k, None)
        o["calibration"].pop("mean_predicted")
    for key in ("attributes", "intersections"):
        for a in doc["fairness"][key]:
            for g in a["groups"]:
                for k in ("auc", "brier", "ece", "score_bins"):
                    g.pop(k, None)
    # trade-offs: the candidate thresholds are the bins' lower ends (docs/scale-out.md)
    for a in doc["fairness"]["attributes"] + doc["fairness"]["intersections"] + \
            doc.get("findings", []):
        for rule in (a.get("tradeoffs") or {}).values():
            for g in rule.get("groups", []) if isinstance(rule, dict) else []:
                g.pop("threshold_after", None)
    doc["drift"].pop("prediction_drift")
    doc["checks"] = [c for c in doc["checks"] if c.get("metric") != "auc"]
    return doc


def within(a, b, bound, what):
    assert bound is not None and bound >= 0, what
    assert abs(a - b) <= bound * (1 + 1e-9) + SLACK, (what, a, b, bound)


def roc_on_true_curve(roc, y, s):
    """Every point of the merged ROC curve is the true curve at its threshold (score >= thr)."""
    P, N = (y == 1).sum(), (y == 0).sum()
    for thr, fpr, tpr in zip(roc["thresholds"], roc["fpr"], roc["tpr"]):
        if thr is None:   # the (0, 0) point at +inf
            assert fpr == 0 and tpr == 0
            continue
        sel = s >= thr
        assert fpr == (sel & (y == 0)).sum() / N and tpr == (sel & (y == 1)).sum() / P, thr


def check_bounds(single, merged, raw):
    """Every bounded figure within its stated bound; the bounds small; the rest exact."""
    assert compare(strip(single), strip(merged)) == []
    ps, pm = single["performance"], merged["performance"]
    z = 1.959963984540054
    moved = 0
    for a, b in zip([ps["overall"]] + ps["by_group"], [pm["overall"]] + pm["by_group"]):
        sb = b["score_bins"]
        bo = sb["bounds"]
        assert sb["exact"] is False
        for k, bk in PERF_BOUNDED.items():
            within(a[k], b[k], bo[bk], k)
        for x, y in zip(a["auc_ci"], b["auc_ci"]):
            within(x, y, bo["auc_ci"], "auc_ci")
        assert bo["auc_ci"] == pytest.approx(bo["auc"] + z * bo["auc_se"])
        for x, y in zip(a["calibration"]["mean_predicted"], b["calibration"]["mean_predicted"]):
            if x is not None:
                within(x, y, bo["calibration_mean_predicted"], "mean_predicted")
        assert a["calibration"]["count"] == b["calibration"]["count"]
        assert bo["auc"] < 1e-3 and bo["brier_score"] < 1e-3 and bo["log_loss"] < 2e-3
        moved += a["auc"] != b["auc"]
    assert moved > 0   # the scores really were binned: the bounds are put to the test
    y, s = raw["default"].to_numpy(), raw["score"].to_numpy()
    roc_on_true_curve(pm["overall"]["roc"], y, s)
    for o in pm["by_group"][:3]:
        m = (raw[o["attribute"]].astype(str) == o["group"]).to_numpy()
        roc_on_true_curve(o["roc"], y[m], s[m])
    for key in ("attributes", "intersections"):
        for at, bt in zip(single["fairness"][key], merged["fairness"][key]):
            for a, b in zip(at["groups"], bt["groups"]):
                bo = b["score_bins"]["bounds"]
                for k, bk in FAIR_BOUNDED.items():
                    if a[k] is not None:
                        within(a[k], b[k], bo[bk], (at["name"], a["group"], k))
    # prediction drift: the ECDF statistics within their bounds, PSI and its bins exact
    a, b = single["drift"]["prediction_drift"], dict(merged["drift"]["prediction_drift"])
    cs = b.pop("current_summary")
    bo = cs["bounds"]
    assert cs["psi_exact"] and bo["psi"] == 0 and a["psi"] == b["psi"]
    assert a["psi_bins"] == b["psi_bins"]
    within(a["statistic"], b["statistic"], bo["statistic"], "statistic")
    within(a["ks"]["statistic"], b["ks"]["statistic"], bo["ks_statistic"], "ks")
    for k in ("wasserstein", "wasserstein_normed", "mean_current"):
        within(a[k], b[k], bo[k], k)
    assert bo["ks_statistic"] < 0.01 and bo["wasserstein_normed"] < 0.01
    for k in ("rows_current", "std_reference", "mean_reference", "threshold", "method"):
        assert a[k] == b[k], k


@pytest.mark.parametrize("n", [2, 3, 7])
def test_binned_scores_within_their_bounds(audit, root, tmp_path, single, n):
    doc, raw = single
    merged, parts = shard_merge(audit, root, tmp_path, n)
    for p in parts:
        part = json.loads(p.read_text())
        assert part["version"] == 2 and part["joint"]["score_bins"]["binned"] is True
    assert merged["merge"]["score_bins"]["mantissa_bits"] == 10
    summarised = summarised_in(parts)
    check_summarised(doc, merged, summarised, raw)
    check_bounds(without(doc, summarised), without(merged, summarised), raw)


def test_binned_and_exact_partials_merge(audit, root, tmp_path, single):
    """One shard binned, the other exact (under the default limit): the merge bins the exact
    scores with the same bins, and the bounds hold."""
    doc, raw = single
    merged, parts = shard_merge(audit, root, tmp_path, 3, lambda i: BIN_ALL if i == 1 else {})
    binned = [json.loads(p.read_text())["joint"]["score_bins"]["binned"] for p in parts]
    assert binned == [False, True, False]
    check_bounds(doc, merged, raw)


def test_small_score_sets_stay_exact(audit, root, tmp_path, single):
    """Under the default limit the demo's shards keep every score: no bins, no bounds, the
    figures bit for bit (also tests/cli/test_scale_out.py)."""
    doc, _ = single
    merged, parts = shard_merge(audit, root, tmp_path, 3, lambda i: {})
    assert not any(json.loads(p.read_text())["joint"]["score_bins"]["binned"] for p in parts)
    assert "score_bins" not in merged["merge"]
    assert "score_bins" not in merged["performance"]["overall"]
    assert compare(doc, merged) == []


def test_partial_versions(audit, root, tmp_path, single):
    """A version 1 partial (exact scores, no score_bins) still merges, alone or beside a binned
    version 2 one; an unknown version is refused with the versions this build reads."""
    doc, raw = single
    merged, parts = shard_merge(audit, root, tmp_path, 2, lambda i: BIN_ALL if i == 1 else {})
    p0 = json.loads(parts[0].read_text())
    p0["version"] = 1
    del p0["joint"]["score_bins"]
    parts[0].write_text(json.dumps(p0))
    r = audit("merge", *parts, "--out", tmp_path / "v1", "--created", CREATED)
    assert r.code == 1, r
    m1 = json.loads((tmp_path / "v1" / "results.json").read_text())
    summarised = summarised_in(parts)
    check_bounds(without(doc, summarised), without(m1, summarised), raw)
    p0["version"] = 3
    parts[0].write_text(json.dumps(p0))
    r = audit("merge", *parts, "--out", tmp_path / "v3")
    assert r.code == 2 and "partial format version 3 is not supported (this build reads " \
        "versions 1 to 2)" in r.err and str(parts[0]) in r.err, r
    # bins that disagree between partials are refused, naming both files
    p1 = json.loads(parts[1].read_text())
    p1["joint"]["score_bins"]["mantissa_bits"] = 8
    p0["version"] = 2
    p0["joint"]["score_bins"] = dict(p1["joint"]["score_bins"], mantissa_bits=10)
    parts[0].write_text(json.dumps(p0))
    parts[1].write_text(json.dumps(p1))
    r = audit("merge", *parts, "--out", tmp_path / "bad")
    assert r.code == 2 and "score bins (joint.score_bins) differ" in r.err, r
    # a cell whose bins do not add up to its count, or are not integers, is located
    for edit in (lambda c: c.__setitem__(-1, c[-1] + " 1"),
                 lambda c: c.__setitem__(-2, c[-2].replace(" ", " x", 1))):
        p1 = json.loads(parts[1].read_text())
        p1["joint"]["score_bins"]["mantissa_bits"] = 10
        edit(p1["joint"]["cells"][0])
        parts[1].write_text(json.dumps(p1))
        r = audit("merge", *parts, "--out", tmp_path / "bad")
        assert r.code == 2 and str(parts[1]) in r.err and \
            "a joint cell's score bins are malformed or do not add up to its count" in r.err, r


def test_auc_bound_is_the_tie_bound():
    """The AUC bound, checked by brute force on random binned scores: the AUC of the bins'
    lower ends (pairs in one bin counted as ties) is within 1/2 sum_b p_b n_b / (P N) of the
    true AUC, and the bound is attained when each bin's positives lie above its negatives."""
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(4, 60))
        s = rng.random(n)
        y = rng.integers(0, 2, n)
        if y.min() == y.max():
            continue
        width = [0.05, 0.2, 0.5][trial % 3]
        r = np.floor(s / width) * width
        P, N = (y == 1).sum(), (y == 0).sum()
        pairs = sum(((r == b) & (y == 1)).sum() * ((r == b) & (y == 0)).sum()
                    for b in np.unique(r))
        bound = 0.5 * pairs / (P * N)
        assert abs(roc_auc_score(y, s) - roc_auc_score(y, r)) <= bound + 1e-12
        worst = r + width * 0.9 * (y == 1) + width * 0.05   # positives on top in each bin
        assert math.isclose(roc_auc_score(y, worst) - roc_auc_score(y, r), bound)


def test_reports_say_the_scores_were_binned(audit, root, tmp_path):
    """The merged PDF's and XLSX's provenance say the partials binned the scores, with the
    overall AUC and Brier bounds of results.json; a merge of exact partials says nothing."""
    import subprocess
    import openpyxl
    doc, _ = shard_merge(audit, root, tmp_path / "binned", 2)
    b = doc["performance"]["overall"]["score_bins"]["bounds"]
    exact, _ = shard_merge(audit, root, tmp_path / "exact", 2, env_of=lambda i: {})
    assert "score_bins" not in exact["merge"]
    for where, want in (("binned", True), ("exact", False)):
        out = tmp_path / where / "merged"
        text = " ".join(subprocess.run(["pdftotext", str(out / "report.pdf"), "-"],
                                       capture_output=True, text=True, check=True).stdout.split())
        rows = [r for ws in openpyxl.load_workbook(out / "report.xlsx").worksheets
                for r in ws.iter_rows(values_only=True) if r and r[0] == "Score bins"]
        assert ("Score bins" in text) == want and (len(rows) == 1) == want
        if want:
            for figure in ("auc", "brier_score"):
                assert "%.6g" % b[figure] in text and "%.6g" % b[figure] in rows[0][1]
