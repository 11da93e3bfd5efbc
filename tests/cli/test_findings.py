"""`findings` of results.json (SPEC section 7; issue 13 items 1 and 5): failed check rows grouped
into root findings, severity from the interval, sentences built from the numbers, drift and
performance findings, the first PDF page and the XLSX Overview sheet. Figures in the expected
sentences come from pandas and statsmodels, not from audit."""
import json
import math
import subprocess

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep


def cells(spec_cells, seed=7):
    """Rows from [(sex, race, n, selection rate)]: exactly round(n * rate) rows selected
    (score 0.9), the rest not (score 0.1); labels alternate so every rate is defined."""
    rows = []
    for sex, race, n, rate in spec_cells:
        k = int(round(n * rate))
        for i in range(n):
            sel = i < k
            rows.append({"sex": sex, "race": race, "score": 0.9 if sel else 0.1,
                         "label": int((i % 3) != 0) if sel else int((i % 3) == 0),
                         "util": 0.41 + 0.1 * ((i % 7) - 3) / 3})
    df = pd.DataFrame(rows)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def run(audit, tmp_path, df, checks, ref=None, **over):
    df.to_csv(tmp_path / "cur.csv", index=False)
    spec = {"data": "cur.csv", "label": "label", "score": "score", "threshold": 0.5,
            "sensitive": ["sex", "race"], "intersections": True, "checks": checks,
            "outputs": {"dir": "out", "json": "results.json", "pdf": "report.pdf",
                        "xlsx": "report.xlsx"},
            "fairness": {"bootstrap": 0}, "report": {"favorable_outcome": "approved"},
            "seed": 1}
    if ref is not None:
        ref.to_csv(tmp_path / "ref.csv", index=False)
        spec["reference"] = "ref.csv"
    spec.update(over)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json")
    assert r.code in (0, 1), r
    return json.loads((tmp_path / "out" / "results.json").read_text()), r


def katz(df, attr, group, ref):
    g, f = df[df[attr] == group], df[df[attr] == ref]
    return confint_proportions_2indep(int((g.score > 0.5).sum()), len(g),
                                      int((f.score > 0.5).sum()), len(f),
                                      compare="ratio", method="log")


DI = [{"metric": "disparate_impact", "min": 0.8}]


def test_parent_failure_with_failing_children_is_one_finding(audit, tmp_path):
    df = cells([("m", "A", 300, 0.9), ("f", "A", 300, 0.9),
                ("m", "B", 200, 0.5), ("f", "B", 200, 0.5)])
    doc, r = run(audit, tmp_path, df, DI)
    assert r.code == 1
    failed = [c for c in doc["checks"] if not c["passed"]]
    assert {(c["attribute"], c["group"]) for c in failed} == {
        ("race", "B"), ("sex&race", "m&B"), ("sex&race", "f&B")}
    fs = doc["findings"]
    assert len(fs) == 1, fs
    f = fs[0]
    assert (f["id"], f["severity"], f["kind"], f["metric"]) == ("F1", "fail", "fairness",
                                                               "disparate_impact")
    assert (f["attribute"], f["group"], f["reference"]) == ("race", "B", "A")
    assert {(e["attribute"], e["group"]) for e in f["evidence"]} == {("sex&race", "m&B"),
                                                                      ("sex&race", "f&B")}
    assert all(not e["passed"] for e in f["evidence"])
    lo, hi = katz(df, "race", "B", "A")
    assert f["ci"] == pytest.approx([lo, hi], rel=1e-12)
    assert f["bound"] == {"min": 0.8} and f["value"] == pytest.approx(0.5 / 0.9, rel=1e-12)
    assert f["significance"]["bound_inside_interval"] is False
    assert f["significance"]["fisher_against"] == "A"
    assert f["sentence"] == (
        "Group B (race) is approved at %.1f%% of group A's rate (50.0%% against 90.0%%; "
        "95%% CI %.1f-%.1f%%); the four-fifths rule asks for at least 80%%."
        % (100 * 0.5 / 0.9, 100 * lo, 100 * hi))
    # every fairness check row names its reference group; m and f tie at 600 rows, and a tie
    # goes to the first in natural group order (docs/fairness.md), not to the first row's group
    assert all(c["reference"] == ("A" if c["attribute"] == "race" else
                                  "f" if c["attribute"] == "sex" else c["reference"])
               for c in doc["checks"])


def test_intersection_failing_alone_is_its_own_finding(audit, tmp_path):
    df = cells([("m", "A", 1000, 0.8), ("f", "A", 1001, 0.8),
                ("m", "B", 1000, 0.8), ("f", "B", 200, 0.5)])
    doc, r = run(audit, tmp_path, df, DI)
    assert r.code == 1
    failed = [(c["attribute"], c["group"]) for c in doc["checks"] if not c["passed"]]
    assert failed == [("sex&race", "f&B")]
    fs = doc["findings"]
    assert [(f["attribute"], f["group"], f["severity"]) for f in fs] == [
        ("sex&race", "f&B", "fail")]
    assert fs[0]["evidence"] == [] and fs[0]["reference"] == "f&A"
    assert fs[0]["sentence"].startswith(
        "Group f&B (sex&race) is approved at 62.5% of group f&A's rate (50.0% against 80.0%;")


@pytest.mark.parametrize("rate_b,check_passed", [(0.62, False), (0.66, True)])
def test_bound_inside_the_interval_is_a_warning(audit, tmp_path, rate_b, check_passed):
    df = cells([("m", "A", 50, 0.8), ("f", "A", 50, 0.8),
                ("m", "B", 50, rate_b), ("f", "B", 50, rate_b)])
    doc, _ = run(audit, tmp_path, df, [{"metric": "disparate_impact", "min": 0.8,
                                        "attribute": "race"}])
    lo, hi = katz(df, "race", "B", "A")
    assert lo < 0.8 < hi   # the premise: the bound lies inside the interval
    fs = doc["findings"]
    assert len(fs) == 1 and fs[0]["severity"] == "warn", fs
    assert fs[0]["check_passed"] is check_passed
    assert fs[0]["significance"]["bound_inside_interval"] is True
    tail = ("The interval reaches the bound" if not check_passed
            else "It passes, but the interval reaches below the bound.")
    assert tail in fs[0]["sentence"]
    assert doc["verdict"] == ("pass" if check_passed else "fail")


def test_clear_passes_are_not_findings(audit, tmp_path):
    df = cells([("m", "A", 500, 0.8), ("f", "A", 500, 0.8),
                ("m", "B", 500, 0.79), ("f", "B", 500, 0.79)])
    doc, r = run(audit, tmp_path, df, DI)
    assert r.code == 0 and doc["findings"] == []


def test_equalized_odds_names_rate_and_groups(audit, tmp_path):
    df = cells([("m", "A", 300, 0.9), ("f", "A", 300, 0.9),
                ("m", "B", 200, 0.5), ("f", "B", 200, 0.5)])
    doc, _ = run(audit, tmp_path, df, [{"metric": "equalized_odds_difference", "max": 0.1}])
    pred = df.score > 0.5
    rates = {}
    for g, part in df.groupby("race"):
        p = pred[part.index]
        rates[g] = {"tpr": p[part.label == 1].mean(), "fpr": p[part.label == 0].mean()}
    gaps = {k: abs(rates["A"][k] - rates["B"][k]) for k in ("tpr", "fpr")}
    rate = max(gaps, key=gaps.get)
    row = next(c for c in doc["checks"] if c["attribute"] == "race")
    assert row["driven_by"]["rate"] == rate
    hi, lo = sorted(["A", "B"], key=lambda g: -rates[g][rate])
    assert row["driven_by"]["high"] == {"group": hi, "value": pytest.approx(rates[hi][rate])}
    assert row["driven_by"]["low"] == {"group": lo, "value": pytest.approx(rates[lo][rate])}
    race = [f for f in doc["findings"] if f["attribute"] == "race"]
    assert len(race) == 1 and race[0]["driven_by"] == row["driven_by"]
    assert "ranges from %.1f%% (%s) to %.1f%% (%s)" % (
        100 * rates[lo][rate], lo, 100 * rates[hi][rate], hi) in race[0]["sentence"]
    # the sex&race summary only repeats race's failure: evidence, not a finding
    assert not any(f["attribute"] == "sex&race" for f in doc["findings"])
    assert any(e["attribute"] == "sex&race" for e in race[0]["evidence"])


def test_drift_and_performance_findings(audit, tmp_path):
    cur = cells([("m", "A", 300, 0.8), ("f", "A", 300, 0.8),
                 ("m", "B", 300, 0.8), ("f", "B", 300, 0.8)])
    ref = cur.copy()
    cur["util"] = cur["util"] + 0.11
    cur["purpose"] = np.where(np.arange(len(cur)) % 10 == 0, "medical", "car")
    ref["purpose"] = np.where(np.arange(len(ref)) % 2 == 0, "home", "car")
    checks = [{"metric": "drift_share", "max": 0.1}, {"metric": "drifted", "column": "util",
                                                      "max": 0},
              {"metric": "auc", "min": 0.99}]
    doc, r = run(audit, tmp_path, cur, checks, ref=ref)
    assert r.code == 1
    kinds = {f["kind"]: f for f in doc["findings"] if f["metric"] != "drifted"}
    col = next(f for f in doc["findings"] if f["metric"] == "drifted")
    mr, mc = ref["util"].mean(), cur["util"].mean()
    util = next(c for c in doc["drift"]["columns"] if c["name"] == "util")
    assert util["mean_reference"] == pytest.approx(mr, rel=1e-12)
    assert util["mean_current"] == pytest.approx(mc, rel=1e-12)
    assert col["column"] == "util"
    assert "mean up from %.3g to %.3g" % (mr, mc) in col["sentence"]
    d = kinds["drift"]
    names = {c["name"]: c["change"] for c in d["columns"]}
    assert names["util"] == "mean up from %.3g to %.3g" % (mr, mc)
    assert names["purpose"] == ('new category "medical" (%.1f%% of current rows) never seen in '
                                "the reference" % (100 * (cur.purpose == "medical").mean()))
    n_drifted = doc["drift"]["n_drifted"]
    assert d["sentence"].startswith("%d of %d data columns drifted" % (
        n_drifted, doc["drift"]["n_columns"]))
    assert "the check allows at most 10%" in d["sentence"]
    perf = kinds["performance"]
    from sklearn.metrics import roc_auc_score
    auc = roc_auc_score(cur.label, cur.score)
    assert perf["value"] == pytest.approx(auc, rel=1e-12)
    assert perf["sentence"] == ("The model's AUC is %.3g over all labelled rows; the check "
                                "asks for at least 0.99." % auc)
    assert [f["severity"] for f in doc["findings"]] == ["fail"] * len(doc["findings"])


def test_undefined_value_is_a_finding(audit, tmp_path):
    df = cells([("m", "A", 300, 0.8), ("f", "A", 300, 0.8)])
    doc, r = run(audit, tmp_path, df, [{"metric": "drift_share", "max": 0.3}])
    assert r.code == 1
    (f,) = doc["findings"]
    assert f["value"] is None and f["severity"] == "fail" and f["reason"]
    assert "could not be evaluated" in f["sentence"]


def test_first_page_and_overview_sheet(audit, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    df = cells([("m", "A", 300, 0.9), ("f", "A", 300, 0.9),
                ("m", "B", 200, 0.5), ("f", "B", 200, 0.5)])
    doc, _ = run(audit, tmp_path, df, DI + [{"metric": "auc", "min": 0.5}])
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout",
                           str(tmp_path / "out" / "report.pdf"), "-"],
                          capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Verdict: FAIL" in flat and "Findings" in flat
    assert "they come down to 1 finding" in flat
    assert "FAIL" in flat and "F1" in flat
    assert " ".join(doc["findings"][0]["sentence"].split()[:8]) in flat
    assert "Also in 2 intersections (evidence under this finding)" in flat
    # the check table comes after the findings, failures first
    pages = subprocess.run(["pdftotext", "-f", "1", "-l", "3", "-layout",
                            str(tmp_path / "out" / "report.pdf"), "-"],
                           capture_output=True, text=True).stdout
    assert pages.index("Findings") < pages.index("Policy checks")
    rest = pages[pages.index("Policy checks"):]
    results = [ln.split()[-1] for ln in rest.splitlines() if ln.rstrip().endswith(("FAIL", "pass"))]
    n_fail = sum(not c["passed"] for c in doc["checks"])
    assert len(results) == len(doc["checks"])
    assert results[:n_fail] == ["FAIL"] * n_fail and "FAIL" not in results[n_fail:]
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    assert wb.sheetnames[0] == "Overview"
    ws = wb["Overview"]
    assert [ws.cell(1, 1).value, ws.cell(1, 2).value] == ["Verdict", "FAIL"]
    head = [c.value for c in ws[3]]
    assert head[:3] == ["ID", "Severity", "Finding"]
    row = [c.value for c in ws[4]]
    f = doc["findings"][0]
    assert row[:3] == ["F1", "FAIL", f["sentence"]]
    assert row[head.index("Value")] == pytest.approx(f["value"], rel=1e-12)
    assert row[head.index("CI low")] == pytest.approx(f["ci"][0], rel=1e-12)
    assert row[head.index("Evidence rows")] == 2


def test_fairness_command_prints_its_findings(audit, tmp_path):
    df = cells([("m", "A", 300, 0.9), ("f", "A", 300, 0.9),
                ("m", "B", 200, 0.5), ("f", "B", 200, 0.5)])
    df.to_csv(tmp_path / "d.csv", index=False)
    r = audit("fairness", "--data", tmp_path / "d.csv", "--sensitive", "sex,race",
              "--score", "score", "--threshold", "0.5", "--label", "label", "--bootstrap", "0")
    assert r.code == 0, r
    tail = r.out[r.out.index("\nfindings:"):].splitlines()
    lo, hi = katz(df, "race", "B", "A")
    assert tail[2] == ("  F1  FAIL  Group B (race) receives the favourable outcome (label = 1) at "
                       "%.1f%% of group A's rate (50.0%% against 90.0%%; 95%% CI %.1f-%.1f%%); "
                       "the four-fifths rule asks for at least 80%%."
                       % (100 * 0.5 / 0.9, 100 * lo, 100 * hi))
    assert tail[3].strip() == "also seen in 2 intersections" and len(tail) == 4
    # nothing to say: one line, never silence
    ok = cells([("m", "A", 500, 0.8), ("f", "A", 500, 0.8), ("m", "B", 500, 0.79),
                ("f", "B", 500, 0.79)])
    ok.to_csv(tmp_path / "ok.csv", index=False)
    r = audit("fairness", "--data", tmp_path / "ok.csv", "--sensitive", "sex,race",
              "--score", "score", "--threshold", "0.5", "--bootstrap", "0")
    assert r.code == 0 and r.out.rstrip().endswith(
        "findings: none (every eligible group meets the four-fifths rule, clear of its interval)")
    # --json - writes only the document on stdout
    r = audit("fairness", "--data", tmp_path / "d.csv", "--sensitive", "sex,race",
              "--score", "score", "--threshold", "0.5", "--json", "-", "--bootstrap", "0")
    assert r.code == 0 and "findings" not in json.loads(r.out)


def test_intersection_finding_carries_its_drivers(audit, tmp_path):
    """An intersection failing alone (f&B) gets its drivers like an attribute's finding: the gap
    in mean model output to its reference f&A split into mean SHAP differences. The model is
    linear (phi_j = w_j (x_j - mean_j)), so contribution_j = w_j (mean_fB(x_j) - mean_fA(x_j))
    exactly (pandas, 1e-9), and the contributions add up to the gap (1e-9)."""
    rng = np.random.default_rng(3)
    rows = []
    for sex, race, n in (("m", "A", 1000), ("f", "A", 1001), ("m", "B", 1000), ("f", "B", 200)):
        for i in range(n):
            z = int(sex == "f" and race == "B" and i % 2 == 0)   # half of f&B: zip 1
            rows.append({"sex": sex, "race": race, "zip": z, "util": round(rng.random(), 3),
                         "label": i % 2})
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=5).reset_index(drop=True)
    coef = {"zip": -2.0, "util": 0.5}
    (tmp_path / "lin.json").write_text(json.dumps({
        "format": "audit-linear", "version": 1, "link": "logit", "intercept": 1.0,
        "coefficients": coef}))
    spec_over = {"model": "lin.json", "explain": {"method": "auto", "rows": 50}}
    df.to_csv(tmp_path / "cur.csv", index=False)
    spec = {"data": "cur.csv", "label": "label", "threshold": 0.5, "sensitive": ["sex", "race"],
            "intersections": True, "checks": DI, "fairness": {"bootstrap": 0},
            "outputs": {"dir": "out", "json": "results.json"}, "seed": 1, **spec_over}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json")
    assert r.code == 1, r
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    fs = doc["findings"]
    assert [(f["attribute"], f["group"]) for f in fs] == [("sex&race", "f&B")], fs
    d = fs[0]["drivers"]
    assert (d["group"], d["reference"]) == ("f&B", "f&A")
    g = df[(df.sex == "f") & (df.race == "B")]
    ref = df[(df.sex == "f") & (df.race == "A")]
    assert d["rows"] == {"group": len(g), "reference": len(ref)}
    for f in d["features"]:
        e = coef[f["name"]] * (g[f["name"]].mean() - ref[f["name"]].mean())
        assert abs(f["contribution"] - e) <= 1e-9, (f, e)
    assert d["features"][0]["name"] == "zip"
    assert abs(sum(f["contribution"] for f in d["features"]) - d["gap"]) <= 1e-9
    inter = next(i for i in doc["fairness"]["intersections"] if i["name"] == "sex&race")
    assert {p["feature"] for p in inter["proxies"]} == {"zip", "util"}
