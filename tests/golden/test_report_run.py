"""End to end: `audit run` on the bundled demo writes results.json, report.pdf and report.xlsx;
the reports show the run's own figures (pdftotext, openpyxl), and `audit report` re-renders the
same bytes from results.json."""
import json
import math
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ROOT / "datasets" / "demo_audit.json"


def f3(x):
    s = f"{x:.3f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def fauto(x):
    return f"{x:.3g}" if x != 0 and abs(x) < 1e-2 else f3(x)   # as RPT_AUTO


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    if not DEMO.exists():
        pytest.skip("datasets/demo_audit.json not present")
    from conftest import run_audit
    d = tmp_path_factory.mktemp("run")
    spec = json.loads(DEMO.read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(DEMO.parent / spec[k])
    spec["outputs"] = {"dir": str(d / "out"), "json": "results.json", "pdf": "report.pdf",
                       "xlsx": "report.xlsx"}
    (d / "spec.json").write_text(json.dumps(spec))
    r = run_audit("--quiet", "run", d / "spec.json")
    assert r.code in (0, 1), r
    return d / "out"


def run_demo(tmp_path, **over):
    """The demo spec with `over` applied, outputs results.json, r.pdf and r.xlsx in
    tmp_path/out."""
    from conftest import run_audit
    spec = json.loads(DEMO.read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(DEMO.parent / spec[k])
    spec.update(over)
    spec["outputs"] = {"dir": str(tmp_path / "out"), "json": "results.json", "pdf": "r.pdf",
                       "xlsx": "r.xlsx"}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("--quiet", "run", tmp_path / "spec.json")
    assert r.code in (0, 1), r


def test_outputs_written(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == ["report.pdf", "report.xlsx",
                                                         "results.json"]


def test_pdf_shows_the_run(run_dir):
    doc = json.loads((run_dir / "results.json").read_text())
    text = subprocess.run(["pdftotext", "-layout", str(run_dir / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert ("Verdict: FAIL" if doc["verdict"] == "fail" else "Verdict: PASS") in text
    for c in doc["checks"]:
        res = "pass" if c["passed"] else "FAIL"
        assert any(fauto(c["value"]) in l and res in l for l in text.splitlines()), c
    for f in doc["explanations"]["features"]:
        assert any(f["name"] in l and f"{f['mean_abs']:.4f}" in l for l in text.splitlines())
    for c in doc["drift"]["columns"]:
        assert any(l.lstrip().startswith(c["name"] + " ") and f3(c["statistic"]) in l
                   for l in text.splitlines()), c["name"]
    waterfalls = [r for r in doc["explanations"]["explained_rows"] if "why" in r]
    assert len(waterfalls) >= 2   # highest and lowest output
    for r in waterfalls:
        assert f"Data row {r['row']} (CSV line {r['line']}) - {r['why']}" in text
        assert f"f(x) = {r['output']:.4f}" in text


def test_xlsx_holds_the_run(run_dir):
    doc = json.loads((run_dir / "results.json").read_text())
    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    rows = list(wb["Summary"].iter_rows(min_row=2, max_col=8, values_only=True))
    for got, c in zip(rows, doc["checks"]):
        assert got[0] == c["metric"] and got[7] is c["passed"]
        assert math.isclose(got[4], c["value"], rel_tol=1e-15, abs_tol=1e-300)
    names = [c.value for c in wb["Attributions"][1]]
    order = doc["explanations"]["feature_order"]
    assert names[5:5 + len(order)] == ["SHAP " + n for n in order]


def test_report_rerenders_identically(run_dir, tmp_path):
    from conftest import run_audit
    r = run_audit("report", run_dir / "results.json", "--pdf", tmp_path / "r.pdf",
                  "--xlsx", tmp_path / "r.xlsx")
    assert r.code == 0, r
    assert (tmp_path / "r.pdf").read_bytes() == (run_dir / "report.pdf").read_bytes()
    assert (tmp_path / "r.xlsx").read_bytes() == (run_dir / "report.xlsx").read_bytes()


def test_ll144_and_four_fifths_views(tmp_path):
    """The run's compliance object (nyc_ll144 tables) and below_four_fifths flags are shown."""
    if not DEMO.exists():
        pytest.skip("datasets/demo_audit.json not present")
    run_demo(tmp_path, sensitive=["sex", "race"], compliance="nyc-ll144")
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    v = doc["fairness"]["compliance"]["nyc_ll144"]
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "out" / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()
    kind = "scoring rate" if v["rate"] == "scoring_rate" else "selection rate"
    for t in v["tables"]:
        assert f"{t['name']} ({kind}); rows in an unknown category: {t['unknown']}" in text
        for c in t["categories"]:
            state = "excluded (< 2%)" if c["excluded"] else "included"
            assert any(l.lstrip().startswith(c["category"] + " ") and str(c["count"]) in l and
                       f3(c[v["rate"]]) in l and f3(c["impact_ratio"]) in l and state in l
                       for l in lines), c
    flagged = [(a["name"], g["group"]) for a in doc["fairness"]["attributes"] +
               doc["fairness"]["intersections"] for g in a["groups"] if g.get("below_four_fifths")]
    assert flagged and "EEOC four-fifths view" in text
    ws = openpyxl.load_workbook(tmp_path / "out" / "r.xlsx")["Fairness"]
    got = [(r[0], r[1]) for r in ws.iter_rows(values_only=True)]
    i = got.index(("Four-fifths: attribute", "Group"))
    assert got[i + 1:i + 1 + len(flagged)] == flagged


def test_demo_findings(run_dir):
    """datasets/README.md ground truth, as findings (SPEC section 7): one disparate-impact finding
    for race B whose ten failing intersections are its evidence, driven by zip_region_code, the
    documented proxy; equalized odds fails for race and age_band; age_band <25 passes the
    four-fifths rule by less than its interval (a warning). Page 1 of the PDF says so."""
    doc = json.loads((run_dir / "results.json").read_text())
    fs = doc["findings"]
    got = [(f["severity"], f["metric"], f["attribute"], f.get("group")) for f in fs]
    assert got == [("fail", "disparate_impact", "race", "B"),
                   ("fail", "equalized_odds_difference", "race", None),
                   ("fail", "equalized_odds_difference", "age_band", None),
                   ("warn", "disparate_impact", "age_band", "<25")]
    f = fs[0]
    failed = [c for c in doc["checks"] if not c["passed"] and c["metric"] == "disparate_impact"]
    assert len(failed) == 11 and len(f["evidence"]) == 10
    assert all("B" in e["group"].split("&") for e in f["evidence"])
    top = f["drivers"]["features"][0]
    assert top["name"] == "zip_region_code" and top["likely_proxy"] is True
    assert f["sentence"].startswith("Group B (race) is approved at 75.3% of group A's rate")
    eo = fs[1]["driven_by"]
    assert (eo["rate"], eo["low"]["group"], eo["high"]["group"]) == ("fpr", "B", "A")
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(run_dir / "report.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    flat = " ".join(page1.split())
    assert "they come down to 3 findings (and 1 warning)" in flat
    assert "Likely proxy: zip_region_code stands in for race" in flat
    assert "What drives it: zip_region_code" in flat
    t = f["tradeoffs"]["impact_ratio"]
    b = next(g for g in t["groups"] if g["group"] == "B")
    assert "Trade-off (information, not advice): thresholds B %.3f (from 0.500)" % (
        b["threshold_after"]) in flat
    assert "Group-specific thresholds can be unlawful" in flat


def test_demo_drift_finding(tmp_path):
    """datasets/README.md drift ground truth in words: utilization and interest_rate up, the new
    purpose "medical"; means checked against pandas."""
    import pandas as pd
    from conftest import run_audit
    spec = json.loads(DEMO.read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(DEMO.parent / spec[k])
    spec["explain"] = False
    spec["sensitive"] = ["race"]
    spec["checks"] = [{"metric": "drift_share", "max": 0.1}]
    spec["outputs"] = {"dir": str(tmp_path / "out"), "json": "results.json"}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = run_audit("--quiet", "run", tmp_path / "spec.json")
    assert r.code == 1, r
    (f,) = json.loads((tmp_path / "out" / "results.json").read_text())["findings"]
    ref = pd.read_csv(spec["reference"])
    cur = pd.read_csv(spec["data"])
    cols = {c["name"]: c["change"] for c in f["columns"]}
    assert list(cols)[:2] == ["utilization", "interest_rate"]   # most drifted first
    for c in ("utilization", "interest_rate"):
        m0, m1 = ref[c].mean(), cur[c].mean()
        assert cols[c] == "mean up from %s to %s" % (("%.3g" if m0 < 1 else "%.4g") % m0,
                                                     ("%.3g" if m1 < 1 else "%.4g") % m1)
    share = (cur.purpose == "medical").mean()
    assert cols["purpose"] == ('new category "medical" (%.1f%% of current rows) never seen in '
                               "the reference" % (100 * share))
    assert f["sentence"].startswith("6 of 27 data columns drifted (22.2%); the check allows at "
                                    "most 10%. Most drifted: utilization: mean up")
    assert f["sentence"].endswith("; and 1 more.")


def test_no_clipped_text(run_dir):
    """Issue 14 item 9: nothing in the demo report is cut. The PDF writer marks every string it
    has to shorten with U+2026 (aud_pdf_fit), and the demo's own strings hold none, so no
    ellipsis may appear; and no word may run past the page's side margins (pdftotext -bbox)."""
    pdf = str(run_dir / "report.pdf")
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    cut = sorted({w for w in text.split() if "\u2026" in w})
    assert cut == [], cut
    html = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    import re
    pw = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
                       html)
    assert len(words) > 1000
    out = [(w, x0, x1) for x0, x1, w in words if float(x0) < 20.0 or float(x1) > pw - 20.0]
    assert out == [], out[:10]


def test_background_not_used_by_tree_is_said(run_dir):
    """Issue 14.13: the demo spec's explain.background (200) is not used by path-dependent
    TreeSHAP (method auto -> tree for the XGBoost model): results.json and the PDF say so."""
    exp = json.loads((run_dir / "results.json").read_text())["explanations"]
    assert exp["method"] == "tree"
    assert "explain.background (200 rows) is not used" in exp["background"]
    text = subprocess.run(["pdftotext", str(run_dir / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "is not used by this method" in " ".join(text.split())


def test_units_rows_ids_and_rates_in_words(tmp_path):
    """Issue 14 items 1 and 3 on the demo (binary:logistic, favourable 0, label default): the
    SHAP unit, base value and f(x) as probabilities (XGBoost's own predict, 1e-6), the decision
    rule, every rate in words, and the explained rows' CSV line (pandas: header on line 1, no
    blank or multi-line rows, so line = row + 2) and explain.id, in results.json, the PDF and
    the XLSX."""
    import numpy as np
    import openpyxl
    import pandas as pd
    import xgboost as xgb
    run_demo(tmp_path, explain={"method": "auto", "rows": 300, "id": "zip_region",
                                "show_rows": [7]})
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    exp = doc["explanations"]
    assert exp["units"] == "log-odds of label 1 (default)"
    assert exp["decision_rule"] == "A row is favourable (approved) when P(default = 1) < 0.5."
    assert abs(exp["base_probability"] - 1 / (1 + np.exp(-exp["base_value"]))) < 1e-15
    df = pd.read_csv(DEMO.parent / "credit_current.csv")
    b = xgb.Booster(model_file=str(DEMO.parent / "credit_xgb.json"))
    rows = exp["explained_rows"]
    idx = [x["row"] for x in rows]
    p = b.predict(xgb.DMatrix(df.iloc[idx][exp["feature_order"]]))
    assert np.abs(np.array([x["probability"] for x in rows]) - p).max() < 1e-6
    for x in rows:
        assert x["line"] == x["row"] + 2
        assert x["id"] == str(df["zip_region"].iloc[x["row"]])
    fpr = doc["fairness"]["rate_meanings"]["fpr"]
    assert fpr == "approved among rows with default = 1 (the unfavourable outcome)"
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "out" / "r.pdf"), "-"],
                                   capture_output=True, text=True, check=True).stdout.split())
    row7 = [x for x in rows if x["row"] == 7][0]
    assert f"Data row 7 (CSV line 9), id {row7['id']} - requested in spec" in text
    assert "log-odds of label 1 (default)" in text and fpr in text
    assert "P(default = 1) < 0.5" in text
    assert f"(probability {row7['probability']:.4f})" in text
    ws = openpyxl.load_workbook(tmp_path / "out" / "r.xlsx")["Explanations"]
    cells = {ws.cell(r, c).value: ws.cell(r, c + 1).value for r in range(1, ws.max_row + 1)
             for c in range(1, 12)}   # the facts sit below the table (issue 14 item 11)
    assert cells["Units of SHAP values"] == "log-odds of label 1 (default)"
    assert abs(cells["Base value as probability"] - exp["base_probability"]) < 1e-12
    assert cells["Decision rule"] == exp["decision_rule"]
