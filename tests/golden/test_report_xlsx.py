"""XLSX report read back with Debian's python3-openpyxl and compared with results.json:
values are numbers equal to the JSON figures (libxlsxwriter writes %.16G, so equality is to
1e-15 relative; the fixture's figures have at most 7 significant digits and round-trip exactly),
null -> blank cell, frozen headers, autofilters, conditional formats, native charts."""
import json
import math
from pathlib import Path

import openpyxl
import pytest

DATA = Path(__file__).resolve().parent / "data" / "reports"
FULL = DATA / "results_full.json"
MINIMAL = DATA / "results_minimal.json"
SHEETS = ["Overview", "Summary", "Model", "Explanations", "Attributions", "Fairness", "Intersections", "Drift",
          "Performance", "Data", "Provenance"]   # Data: only for documents with a profile; Overview: with checks
RATES = ["selection_rate", "base_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "fdr",
         "false_omission_rate", "accuracy"]


def same(cell, want):
    if want is None:
        return cell is None
    if isinstance(want, bool) or isinstance(want, str):
        return cell == want
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) and \
        math.isclose(cell, want, rel_tol=1e-15, abs_tol=0)


@pytest.fixture(scope="module")
def wb(tmp_path_factory):
    from conftest import run_audit
    out = tmp_path_factory.mktemp("xlsx") / "full.xlsx"
    r = run_audit("report", FULL, "--xlsx", out)
    assert r.code == 0, r
    return openpyxl.load_workbook(out)


@pytest.fixture(scope="module")
def doc():
    return json.loads(FULL.read_text())


def table(ws, header_row=1):
    head = [c.value for c in ws[header_row]]
    rows = []
    for r in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if all(v is None for v in r):
            break
        rows.append(dict(zip(head, r)))
    return rows


def test_sheets(wb):
    assert wb.sheetnames == SHEETS


@pytest.mark.parametrize("name", [s for s in SHEETS if s not in ("Overview", "Model")])
def test_frozen_header_and_autofilter(wb, name):
    """Issue 14 item 11: each table an Excel table (its own filter, column names = the header
    cells), printed A4 landscape one page wide."""
    ws = wb[name]
    assert ws.freeze_panes in ("A2", "B2"), name
    tables = list(ws.tables.values())
    if tables:
        first = next(t for t in tables if t.ref.startswith("A1:"))
        head = [c.value for c in ws[1]][:len(first.tableColumns)]
        assert [c.name for c in first.tableColumns] == head, name
    else:   # a table wider than 80 columns keeps a plain filter
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # the 43-column fairness sheets: three pages wide, across then down, the key columns
    # repeated (one page wide printed unreadably small type); the others one page wide
    wide = name in ("Fairness", "Intersections")
    assert int(ws.page_setup.fitToWidth or 1) == (3 if wide else 1)
    assert int(ws.page_setup.fitToHeight) == 0
    if wide:
        assert ws.page_setup.pageOrder == "overThenDown"
        assert str(ws.print_title_cols).replace("$", "") == "A:C"


def test_facts_outside_tables(wb):
    """No report fact sits in the rows of a table, where filtering would hide it."""
    import re
    for ws in wb:
        spans = []
        for t in ws.tables.values():
            a, b = t.ref.split(":")
            spans.append((int(re.sub(r"\D", "", a)), int(re.sub(r"\D", "", b)),
                          len(t.tableColumns)))
        for r0, r1, nc in spans:
            for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=nc + 1, max_col=nc + 12,
                                    values_only=True):
                assert all(v is None for v in row), (ws.title, r0, r1, row)


def test_overview_verdict_first(wb, doc):
    """The verdict in row 1; a schema 1 document has no findings and says so."""
    ws = wb["Overview"]
    assert [ws["A1"].value, ws["B1"].value] == ["Verdict", doc["verdict"].upper()]
    assert ws["A3"].value == "This results document has no findings (results schema 1)."


def test_summary_checks(wb, doc):
    ws = wb["Summary"]
    rows = table(ws)
    assert len(rows) == len(doc["checks"])
    for got, c in zip(rows, doc["checks"]):
        assert got["Metric"] == c["metric"]
        assert same(got["Value"], c["value"])
        assert same(got["Min"], c.get("min")) and same(got["Max"], c.get("max"))
        assert got["Passed"] is c["passed"]
        assert got["Attribute"] == c.get("attribute") and got["Group"] == c.get("group")
    kinds = [r.type for cf in ws.conditional_formatting for r in cf.rules]
    assert kinds.count("cellIs") >= 2
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(len(rows) + 2, len(rows) + 20)}
    assert facts["Organization"] == doc["report"]["organization"]
    assert facts["Verdict"] == "FAIL"
    assert same(facts["Drift share"], doc["drift"]["drift_share"])
    # the title runs on to the right, unwrapped: a wrapped one in column B overlapped the next
    # row in LibreOffice (the row keeps its one-line height)
    r = next(r for r in range(len(rows) + 2, len(rows) + 20) if ws.cell(r, 1).value == "Report")
    assert ws.cell(r, 2).value == doc["report"]["title"] and not ws.cell(r, 2).alignment.wrap_text


def test_explanations(wb, doc):
    ws = wb["Explanations"]
    rows = table(ws)
    feats = doc["explanations"]["features"]
    assert len(rows) == len(feats)
    for got, f in zip(rows, feats):
        assert got["Feature"] == f["name"] and got["Rank"] == f["rank"]
        assert same(got["Mean |SHAP|"], f["mean_abs"]) and same(got["Mean SHAP"], f["mean"])
    assert len(ws._charts) == 1
    facts = {r[1]: r[2] for r in ws.iter_rows(min_row=len(rows) + 2, values_only=True)}
    assert facts["Base value E[f(X)]"] == doc["explanations"]["base_value"]


def test_attributions(wb, doc):
    ws = wb["Attributions"]
    feats = [f["name"] for f in doc["explanations"]["features"]]
    rows = table(ws)
    exp_rows = doc["explanations"]["explained_rows"]
    assert len(rows) == len(exp_rows)
    for got, r in zip(rows, exp_rows):
        assert got["Row"] == r["row"] and got["Selected"] == r.get("selected")
        assert same(got["Prediction"], r["prediction"]) and same(got["Output"], r.get("output"))
        assert same(got["Base"], r["base"])
        for name, phi, val in zip(feats, r["phi"], r["value"]):
            assert same(got["SHAP " + name], phi)
            assert same(got["value " + name], val)


@pytest.mark.parametrize("sheet,key", [("Fairness", "attributes"), ("Intersections", "intersections")])
def test_fairness(wb, doc, sheet, key):
    ws = wb[sheet]
    rows = table(ws)
    want = [(a, g) for a in doc["fairness"][key] for g in a["groups"]]
    assert len(rows) == len(want)
    for got, (a, g) in zip(rows, want):
        assert got["Attribute"] == a["name"] and got["Reference"] == a["reference"]
        assert got["Group"] == g["group"] and got["Count"] == g["count"]
        assert same(got["Share"], g["share"])
        assert got["Small"] is g["small"]
        for k in RATES:
            label = {"selection_rate": "Selection rate", "base_rate": "Base rate",
                     "false_omission_rate": "FOR", "accuracy": "Accuracy"}.get(k, k.upper())
            assert same(got[label], g.get(k)), (g["group"], k)
            ci = g.get(k + "_ci")
            assert same(got[label + " CI low"], ci[0] if ci else None)
            assert same(got[label + " CI high"], ci[1] if ci else None)
        assert same(got["Disparate impact"], g["disparate_impact"])
        assert same(got["Impact ratio"], g["impact_ratio"])
    crit = [(r.operator, r.formula) for cf in ws.conditional_formatting for r in cf.rules]
    assert ("lessThan", ["0.8"]) in crit and ("greaterThanOrEqual", ["0.8"]) in crit
    assert len(ws._charts) == len(doc["fairness"][key])


def test_fairness_summary_block(wb, doc):
    ws = wb["Fairness"]
    vals = {}
    for r in ws.iter_rows(values_only=True):
        if r[1] in ("demographic_parity_difference", "chi_square p_value"):
            vals[(r[0], r[1])] = r[2]
    for a in doc["fairness"]["attributes"]:
        assert same(vals[(a["name"], "demographic_parity_difference")],
                    a["summary"]["demographic_parity_difference"])
        assert same(vals[(a["name"], "chi_square p_value")], a["summary"]["chi_square"]["p_value"])


def test_fairness_summary_all_groups(wb, doc):
    """summary.all_groups beside the headline figures, for the attributes with an excluded
    group only (blank for the others, where the two are equal); null -> blank with its reason."""
    ws = wb["Fairness"]
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if r[1] == "Summary metric")
    head = rows[h]
    assert head[8:12] == ("All groups (Fairlearn/AIF360)", "All groups statistic",
                          "All groups DOF", "All groups reason")
    got = {(r[0], r[1]): dict(zip(head, r)) for r in rows[h + 1:] if r[0] and r[1]}
    for a in doc["fairness"]["attributes"]:
        s = a["summary"]
        all_groups = s.get("all_groups") if s.get("excluded_groups") else None
        for k in s:
            if k.endswith("_reason") or k in ("excluded_groups", "all_groups", "fisher"):
                continue
            row = got[(a["name"], k + " p_value" if k == "chi_square" else k)]
            if all_groups is None:
                assert row["All groups (Fairlearn/AIF360)"] is None, (a["name"], k)
            elif k == "chi_square":
                c = all_groups[k]
                assert same(row["All groups (Fairlearn/AIF360)"], c["p_value"])
                assert same(row["All groups statistic"], c["statistic"])
                assert row["All groups DOF"] == c["dof"]
            else:
                assert same(row["All groups (Fairlearn/AIF360)"], all_groups[k]), (a["name"], k)
                assert row["All groups reason"] == all_groups.get(k + "_reason")


def test_fairness_all_groups_from_audit_fairness(tmp_path):
    """End to end: `audit fairness --json` on rows where group D is 1.5% (small, excluded from
    the headline), then `audit report`: the workbook shows all_groups exactly as the JSON."""
    import numpy as np
    from conftest import run_audit
    rng = np.random.default_rng(3)
    n = 2000
    race = rng.choice(["A", "B", "D"], size=n, p=[0.6, 0.385, 0.015])
    pred = (rng.random(n) < np.where(race == "D", 0.9, np.where(race == "B", 0.3, 0.5))).astype(int)
    label = (rng.random(n) < 0.5).astype(int)
    csv = tmp_path / "d.csv"
    csv.write_text("race,pred,label\n" + "".join(f"{r},{p},{y}\n"
                                                 for r, p, y in zip(race, pred, label)))
    js, out = tmp_path / "f.json", tmp_path / "f.xlsx"
    r = run_audit("fairness", "--data", csv, "--sensitive", "race", "--prediction", "pred",
                  "--label", "label", "--bootstrap", "0", "--json", js)
    assert r.code == 0, r
    s = json.loads(js.read_text())["fairness"]["attributes"][0]["summary"]
    assert s["excluded_groups"] == ["D"]
    assert s["all_groups"]["demographic_parity_difference"] != s["demographic_parity_difference"]
    r = run_audit("report", js, "--xlsx", out)
    assert r.code == 0, r
    rows = {r[1]: r for r in openpyxl.load_workbook(out)["Fairness"].iter_rows(values_only=True)}
    for k, v in s["all_groups"].items():
        if k == "chi_square":
            assert same(rows["chi_square p_value"][8], v["p_value"])
            assert same(rows["chi_square p_value"][9], v["statistic"])
        elif not k.endswith("_reason"):
            assert same(rows[k][2], s[k]) and same(rows[k][8], v), k


def test_drift(wb, doc):
    ws = wb["Drift"]
    rows = table(ws)
    cols = doc["drift"]["columns"]
    assert len(rows) == len(cols)
    for got, c in zip(rows, cols):
        assert got["Column"] == c["name"] and got["Test"] == c["method"]
        assert same(got["Statistic"], c["statistic"]) and same(got["Threshold"], c["threshold"])
        assert got["Drifted"] is c["drifted"]
        assert same(got["PSI"], c["psi"])
        if "ks" in c:
            assert same(got["KS statistic"], c["ks"]["statistic"])
            assert same(got["KS p-value"], c["ks"]["p_value"])
            assert got["Chi-square"] is None
        else:
            assert same(got["Chi-square p-value"], c["chi_square"]["p_value"])
            assert got["KS statistic"] is None
    assert len(ws._charts) == 1


def test_performance(wb, doc):
    rows = table(wb["Performance"])
    p = doc["performance"]
    assert rows[0]["Attribute"] == "(overall)" and same(rows[0]["AUC"], p["overall"]["auc"])
    for got, g in zip(rows[1:], p["by_group"]):
        assert got["Group"] == g["group"] and got["Rows"] == g["rows"]
        assert same(got["AUC"], g.get("auc"))   # null -> blank
        assert same(got["Log-loss"], g["log_loss"])


def test_provenance(wb, doc):
    rows = table(wb["Provenance"])
    ins = doc["provenance"]["inputs"]
    for got, i in zip(rows, ins):
        assert got["SHA-256"] == i["sha256"] and got["Rows"] == i["rows"]
    assert rows[len(ins)]["SHA-256"] == doc["provenance"]["model"]["sha256"]


def test_minimal_workbook(tmp_path):
    from conftest import run_audit
    out = tmp_path / "m.xlsx"
    r = run_audit("report", MINIMAL, "--xlsx", out)
    assert r.code == 0, r
    wb = openpyxl.load_workbook(out)
    # no profile (Data) and neither a model card nor performance (Model) in this document
    assert wb.sheetnames == [s for s in SHEETS if s not in ("Data", "Model")]
    assert wb["Drift"]["A1"].value == "Section not run: no reference data given."
    assert wb["Explanations"]["A1"].value == "Section not run: no model given."


def test_data_sheet_and_pdf_section_from_a_profile(tmp_path):
    """A document with a profile (here `audit profile --json`; `audit run` writes one too) gets
    a Data sheet whose cells equal the JSON figures, and a Data section in the PDF."""
    import subprocess
    from conftest import ROOT, run_audit
    prof = tmp_path / "p.json"
    r = run_audit("profile", "--data", ROOT / "datasets" / "credit_current.csv", "--json", prof)
    assert r.code == 0, r
    doc = json.loads(prof.read_text())
    out = tmp_path / "p.xlsx"
    pdf = tmp_path / "p.pdf"
    r = run_audit("report", prof, "--xlsx", out, "--pdf", pdf)
    assert r.code == 0, r
    wb = openpyxl.load_workbook(out)
    assert "Data" in wb.sheetnames
    rows = table(wb["Data"])
    cols = doc["profile"]["columns"]
    assert [x["Column"] for x in rows] == [c["name"] for c in cols]
    for got, c in zip(rows, cols):
        assert got["Type"] == c["type"] and got["Missing"] == c["missing"]
        assert same(got["Values"], c["count"])
        assert same(got["Missing share"], c["missing"] / doc["profile"]["rows"])
        if c["type"] == "numeric":
            for k, key in (("Min", "min"), ("Max", "max"), ("Mean", "mean"), ("Std", "std")):
                assert same(got[k], c[key]), (c["name"], k)
            assert same(got["Median"], c["quantiles"]["50%"])
        else:
            assert got["Categories"] == c["n_categories"]
            first = next(iter(c["categories"].items()))
            assert got["Most frequent (count)"].startswith("%s (%d)" % first)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    assert "Audited data" in text and "6000 rows, 28 columns" in text
    for c in cols:
        assert c["name"] in text


def test_overview_checks_name_metrics_for_people(wb, doc):
    """Issue 14 item 2: the Overview's check table names each metric for people, with the
    machine id in its own grey column beside it; failures first."""
    ws = wb["Overview"]
    top = next(r for r in range(1, ws.max_row + 1)
               if ws.cell(r, 1).value == "Policy checks, failures first")
    head = [c.value for c in ws[top + 1]]
    assert head[:3] == ["Metric", "Metric id", "Attribute / column"]
    # technical checks (additivity) have their own table below (issue 14 item 2)
    model_checks = [c for c in doc["checks"] if c["metric"] != "additivity_max_error"]
    rows = [[c.value for c in ws[r]] for r in range(top + 2, top + 2 + len(model_checks))]
    want = [c for c in model_checks if not c["passed"]] + [c for c in model_checks if c["passed"]]
    names = {"disparate_impact": "Disparate impact",
             "equalized_odds_difference": "Equalized odds difference"}
    for got, c in zip(rows, want):
        assert got[1] == c["metric"]
        assert got[0] == names.get(c["metric"], got[0]) and got[0] != c["metric"] or \
            c["metric"] not in names
        assert got[head.index("Passed")] is c["passed"]
    assert ws.cell(top + 2, 2).font.color.rgb.endswith("666666")


def _sheet_guide(ws):
    top = next(r for r in range(1, ws.max_row + 1)
               if ws.cell(r, 1).value == "What each sheet holds")
    assert [ws.cell(top + 1, 1).value, ws.cell(top + 1, 2).value] == ["Sheet", "What it holds"]
    rows = []
    r = top + 2
    while ws.cell(r, 1).value is not None:
        rows.append((ws.cell(r, 1).value, ws.cell(r, 2).value))
        r += 1
    return top, rows


def test_overview_says_what_each_sheet_holds(wb, tmp_path):
    """Issue 14 item 11: after the verdict and the findings, the Overview lists every sheet of
    the workbook in tab order with what it holds (an Excel table of its own), and the policy
    checks follow it; with findings (an audit run's document) it comes after their table."""
    from conftest import run_audit
    ws = wb["Overview"]
    top, rows = _sheet_guide(ws)
    assert [s for s, _ in rows] == wb.sheetnames
    assert all(isinstance(w, str) and len(w) > 20 for _, w in rows), rows
    assert any(t.ref == f"A{top + 1}:B{top + 1 + len(rows)}" for t in ws.tables.values())
    checks = next(r for r in range(1, ws.max_row + 1)
                  if ws.cell(r, 1).value == "Policy checks, failures first")
    assert checks > top + len(rows)
    # a document with findings: the guide comes after the findings table
    doc = json.loads(FULL.read_text())
    doc["schema_version"] = "2"
    doc["findings"] = []
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "f.xlsx"
    assert run_audit("report", src, "--xlsx", out).code == 0
    ws2 = openpyxl.load_workbook(out)["Overview"]
    top2, rows2 = _sheet_guide(ws2)
    no_findings = next(r for r in range(1, ws2.max_row + 1)
                       if str(ws2.cell(r, 1).value).startswith("No findings"))
    assert no_findings < top2
    assert [s for s, _ in rows2] == openpyxl.load_workbook(out).sheetnames
