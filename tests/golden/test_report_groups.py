"""Many and small groups in the reports (issue 14 items 5-9), on the demo and on an Adult-like data
set with 40 native-country groups, 39 of them small (tests/golden/gen_many_groups.py):

- every text box of both PDFs (pdftotext -bbox) lies inside the page's side margins, no two
  words overlap, and no word is cut with an ellipsis;
- charts and tables pick groups by importance, count what they leave out, and follow
  report.max_groups (spec) / `audit report --max-groups`; every group stays in the XLSX;
- intersection group names holding the separator are quoted; groups come in natural order;
- `fairness.max_intersection` / `audit fairness --max-intersection` bound the intersections."""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MANY = Path(__file__).resolve().parent / "data" / "many_groups"
DEMO = ROOT / "datasets" / "demo_audit.json"


def words(pdf):
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for p in out.split("<page ")[1:]:
        pw = float(re.search(r'width="([\d.]+)"', p).group(1))
        ws = [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in
              re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                         r'yMax="([\d.]+)">([^<]*)</word>', p)]
        pages.append((pw, ws))
    return pages


def layout_problems(pdf):
    """Words cut with an ellipsis, outside the side margins, or overlapping another word."""
    bad = []
    for i, (pw, ws) in enumerate(words(pdf), 1):
        for w in ws:
            if "\u2026" in w[4]:
                bad.append((i, "cut", w[4]))
            if w[0] < 20.0 or w[2] > pw - 20.0:
                bad.append((i, "margin", w[4]))
        s = sorted(ws, key=lambda w: w[1])
        for a in range(len(s)):
            for b in range(a + 1, len(s)):
                A, B = s[a], s[b]
                if B[1] >= A[3]:
                    break
                if min(A[2], B[2]) - max(A[0], B[0]) > 1.0 and min(A[3], B[3]) - max(A[1], B[1]) > 1.0:
                    bad.append((i, "overlap", A[4], B[4]))
    return bad


def run_spec(spec, out):
    from conftest import run_audit
    r = run_audit("--quiet", "run", spec, "--out", out)
    assert r.code in (0, 1), r
    return out


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    return run_spec(MANY / "spec.json", tmp_path_factory.mktemp("many") / "out")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    spec = json.loads(DEMO.read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(DEMO.parent / spec[k])
    spec["outputs"] = {"json": "results.json", "pdf": "report.pdf", "xlsx": "report.xlsx"}
    (d / "spec.json").write_text(json.dumps(spec))
    return run_spec(d / "spec.json", d / "out")


def pdf_text(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_no_overflow_demo(demo):
    assert layout_problems(demo / "report.pdf") == []


def test_no_overflow_many_groups(many):
    assert layout_problems(many / "report.pdf") == []


@pytest.fixture(scope="module")
def all_groups(many, tmp_path_factory):
    """The many-groups report with every group listed (221 pages; made and read once)."""
    from conftest import run_audit
    pdf = tmp_path_factory.mktemp("all") / "all.pdf"
    r = run_audit("report", many / "results.json", "--max-groups", "1000", "--pdf", pdf)
    assert r.code == 0, r
    return pdf


def test_no_overflow_every_group_shown(all_groups):
    """All 40 countries and every intersection group listed: long, quoted names still fit."""
    assert layout_problems(all_groups) == []
    t = pdf_text(all_groups)
    # the separator inside a component: quoted, never "White&Trinadad&Tobago"
    assert 'White&"Trinadad&Tobago"' in t
    assert not re.search(r'(?<!")White&Trinadad&Tobago', t)


def test_pages_grow_with_groups_that_matter(many, all_groups):
    """The default cap keeps the report short; lifting it shows every group."""
    pages = lambda p: int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(p)], capture_output=True, text=True, check=True).stdout).group(1))
    assert pages(many / "report.pdf") < 80 < pages(all_groups)


def test_charts_count_what_they_leave_out(many):
    doc = json.loads((many / "results.json").read_text())
    nc = next(a for a in doc["fairness"]["attributes"] if a["name"] == "native_country")
    small = [g for g in nc["groups"] if g["small"]]
    assert len(nc["groups"]) == 40 and len(small) == 39
    t = pdf_text(many / "report.pdf").replace("\n", " ")
    t = re.sub(r"\s+", " ", t)
    # 20 shown (the largest first), 20 counted, all small
    rows = sum(g["count"] for g in sorted(small, key=lambda g: -g["count"])[19:])
    assert (f"Not shown: 20 more groups, all small ({rows:.0f} rows together): see the XLSX "
            "sheet Fairness.") in t
    # every group stays in the XLSX
    wb = openpyxl.load_workbook(many / "report.xlsx", read_only=True)
    cells = {str(c) for row in wb["Fairness"].iter_rows(values_only=True) for c in row}
    assert all(g["group"] in cells for g in nc["groups"])


def test_natural_order_and_small_marks(many):
    t = pdf_text(many / "report.pdf")
    block = t[t.index("Attribute: age"):]
    order = [m for m in re.findall(r"^\s*(<25|25-35|35-45|45-55|55-65|>=65)\s", block, re.M)][:6]
    assert order == ["<25", "25-35", "35-45", "45-55", "55-65", ">=65"], order
    # small groups carry the dagger in the four-fifths view and the performance table
    ff = t[t.index("EEOC four-fifths view"):]
    assert "small \u2020" in ff[:20000]
    perf = t[t.rindex("By group"):]
    assert "\u2020" in perf


def test_performance_by_group_in_group_order(many):
    """The model card's "By group" table shows the largest groups (12 of native_country's 40)
    and lists them in the document's group order (natural), not largest first."""
    doc = json.loads((many / "results.json").read_text())
    nc = next(a for a in doc["fairness"]["attributes"] if a["name"] == "native_country")
    order = [g["group"] for g in nc["groups"]]
    assert nc["group_order"] == "natural"
    rows = {g["group"]: g["rows"] for g in doc["performance"]["by_group"]
            if g["attribute"] == "native_country"}
    t = pdf_text(many / "report.pdf")
    block = t[t.index("By group: native_country"):]
    block = block[block.index("Group "):block.index("more groups of native_country")]
    shown = re.findall(r"^\s*(\S+)(?: \u2020)?\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+\s", block, re.M)
    names = [n for n, _ in shown]
    assert len(names) == 12 and all(int(r) == rows[n] for n, r in shown), shown
    assert names == sorted(names, key=order.index), names
    cut = min(rows[n] for n in names)     # the largest groups are the ones shown
    assert all(r <= cut for g, r in rows.items() if g not in names)


def test_max_intersection(tmp_path):
    spec = json.loads((MANY / "spec.json").read_text())
    for k in ("data", "reference"):
        spec[k] = str(MANY / spec[k])
    spec["fairness"]["max_intersection"] = 2
    spec["fairness"]["bootstrap"] = 0
    (tmp_path / "s.json").write_text(json.dumps(spec))
    run_spec(tmp_path / "s.json", tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    names = [a["name"] for a in doc["fairness"]["intersections"]]
    assert len(names) == 6 and all(n.count("&") == 1 for n in names), names
    spec["fairness"]["max_intersection"] = 1
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    from conftest import run_audit
    r = run_audit("run", tmp_path / "bad.json", "--out", tmp_path / "bad")
    assert r.code == 2 and "fairness.max_intersection" in r.err, r


def test_max_intersection_cli(audit):
    r = audit("fairness", "--data", MANY / "adult_like.csv", "--score", "score", "--label",
              "label", "--sensitive", "sex,race,age", "--bootstrap", "0", "--threshold", "0.5",
              "--max-intersection", "2", "--json", "-")
    assert r.code == 0, r
    names = [a["name"] for a in json.loads(r.out)["fairness"]["intersections"]]
    assert names == ["sex&race", "sex&age", "race&age"], names
    r = audit("fairness", "--data", MANY / "adult_like.csv", "--score", "score",
              "--threshold", "0.5", "--sensitive", "sex,race", "--max-intersection", "1")
    assert r.code == 2 and "--max-intersection" in r.err, r


def test_natural_order_of_text_bands(demo):
    """One group order everywhere (issue 14 item 8): the demo's age_band is a text column whose
    groups first appear as 40-60, <25, 25-40, 60+; results.json, the XLSX and the PDF all list
    its bands in numeric order, and the attribute records it (group_order)."""
    want = ["<25", "25-40", "40-60", "60+"]
    doc = json.loads((demo / "results.json").read_text())
    ab = next(a for a in doc["fairness"]["attributes"] if a["name"] == "age_band")
    assert [g["group"] for g in ab["groups"]] == want and ab["group_order"] == "natural"
    inter = next(a for a in doc["fairness"]["intersections"] if a["name"] == "race&age_band")
    assert inter["group_order"] == "components"
    assert [g["group"] for g in inter["groups"]][:4] == ["A&" + b for b in want]
    t = pdf_text(demo / "report.pdf")
    block = t[t.index("Attribute: age_band"):]
    order = re.findall(r"^\s*(<25|25-40|40-60|60\+)\s", block, re.M)[:4]
    assert order == want, order
    wb = openpyxl.load_workbook(demo / "report.xlsx", read_only=True)
    rows = [r for r in wb["Fairness"].iter_rows(values_only=True) if r[0] == "age_band"]
    assert [r[2] for r in rows][:4] == want
    # the model card's performance by group too (its sizes would give 40-60, 25-40, <25, 60+)
    perf = t[t.index("By group: age_band"):]
    perf = perf[perf.index("Group "):]
    assert re.findall(r"^\s*(<25|25-40|40-60|60\+)\s+\d", perf, re.M)[:4] == want


def test_given_order_is_recorded_and_kept(tmp_path):
    """`audit fairness --order` puts those groups first and the others in natural order; the
    results document records it (group_order "given"), so `audit report` keeps that order in
    the PDF and the XLSX, and the terminal table lists the same order."""
    from conftest import run_audit
    data = DEMO.parent / "credit_current.csv"
    args = ["fairness", "--data", data, "--sensitive", "race,age_band", "--model",
            DEMO.parent / "credit_xgb.json", "--threshold", "0.5", "--label", "default",
            "--favorable", "0", "--bootstrap", "0", "--order", "race=C,A"]
    r = run_audit(*args, "--json", tmp_path / "f.json")
    assert r.code == 0, r
    doc = json.loads((tmp_path / "f.json").read_text())
    race = doc["fairness"]["attributes"][0]
    assert race["group_order"] == "given"
    assert [g["group"] for g in race["groups"]] == ["C", "A", "B", "D"]
    table = re.findall(r"^  ([A-D]) +\d", r.out, re.M)
    assert table[:4] == ["C", "A", "B", "D"], r.out
    r = run_audit("report", tmp_path / "f.json", "--pdf", tmp_path / "f.pdf", "--xlsx",
                  tmp_path / "f.xlsx")
    assert r.code == 0, r
    block = pdf_text(tmp_path / "f.pdf")
    block = block[block.index("Attribute: race"):]
    assert re.findall(r"^\s*([A-D])\s+\d", block, re.M)[:4] == ["C", "A", "B", "D"]
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx", read_only=True)
    rows = [r for r in wb["Fairness"].iter_rows(values_only=True) if r[0] == "race" and r[1] == "A"]
    assert [r[2] for r in rows] == ["C", "A", "B", "D"]   # the group table, not the summaries


def test_drift_tells_one_story(demo, tmp_path):
    """Issue 14 item 10: each drift decision with its threshold and source, prediction drift in
    the summary, the primary test named as the decider, duplicated columns noted; a policy
    check can name the prediction's drift."""
    doc = json.loads((demo / "results.json").read_text())
    dr = doc["drift"]
    t = re.sub(r"\s+", " ", pdf_text(demo / "report.pdf"))
    ds = "yes" if dr["dataset_drift"] else "no"
    assert (f"Dataset drift {ds}: share {dr['drift_share']:.3f} "
            f"{'≥' if dr['dataset_drift'] else '<'} {dr['share_threshold']:.3f} "
            "(the spec's drift.share)") in t
    c = next(c for c in doc["checks"] if c["metric"] == "drift_share")
    assert (f"Policy check {'pass' if c['passed'] else 'FAIL'}: drift_share ≤ {c['max']:.3f} "
            "(a policy check of the spec)") in t
    p = dr["prediction_drift"]
    assert f"Prediction drift {'yes' if p['drifted'] else 'no'}: " in t
    assert f"{p['statistic']:.3f}" in t
    assert "Drifted is decided by the column's primary test alone" in t
    assert "zip_region / zip_region_code (" in t
    spec = json.loads(DEMO.read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(DEMO.parent / spec[k])
    spec["explain"] = False
    spec["checks"] = [{"metric": "statistic", "column": "prediction", "max": 0.1}]
    spec["outputs"] = {"json": "results.json"}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    run_spec(tmp_path / "s.json", tmp_path / "out")
    got = json.loads((tmp_path / "out" / "results.json").read_text())["checks"]
    assert got == [{"metric": "statistic", "column": "prediction",
                    "value": got[0]["value"], "max": 0.1, "passed": got[0]["value"] <= 0.1}]
    assert abs(got[0]["value"] - p["statistic"]) < 1e-12


def test_dependence_and_pdp_charts_have_y_titles(demo):
    """Issue 14 item 9: the SHAP dependence plots name their y axis with the SHAP unit
    (explanations.units) and the partial dependence / ICE charts with what the model output is
    there (the probability of label 1, from performance.label); the titles read upwards beside
    the axis (pdftotext -bbox: taller than wide), inside the page, overlapping nothing (the
    layout test above); the XLSX charts carry the same y-axis title."""
    import zipfile
    doc = json.loads((demo / "results.json").read_text())
    shap_axis = f"SHAP value ({doc['explanations']['units']})"
    pd_axis = f"predicted P({doc['performance']['label']} = 1)"
    assert shap_axis == "SHAP value (log-odds of label 1 (default))"
    t = pdf_text(demo / "report.pdf")
    n_dep = min(4, len(doc["explanations"]["features"]))
    n_pd = min(4, len(doc["global"]["partial_dependence"]))
    assert t.count(shap_axis) == n_dep, t.count(shap_axis)
    assert t.count(pd_axis) == n_pd
    for _, ws in words(demo / "report.pdf"):
        for w in ws:
            if w[4] in ("value", "P(default") and w[3] - w[1] > 3 * (w[2] - w[0]):
                break
        else:
            continue
        break
    else:
        raise AssertionError("no y-axis title reads upwards")
    with zipfile.ZipFile(demo / "report.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert sum(pd_axis in c for c in charts) >= n_pd


def test_excluded_list_breaks_between_names(tmp_path):
    """The "Excluded from the verdict" list of small groups wraps between whole names, never at a
    space inside one (issue 14 item 5), and stays on one page."""
    import random
    rnd = random.Random(3)
    names = ["United States"] + [f"{a} {b} and {b[:3]} Islands"
                                 for a in ("North", "South", "East", "West", "Upper")
                                 for b in ("Mariana", "Sandwich", "Virgin", "Cook", "Faroe")]
    lines = ["country,label,score"]
    for i in range(3000):
        g = names[0] if i < 2000 else names[1 + (i - 2000) % 25]
        y = int(rnd.random() < 0.5)
        s = min(1.0, max(0.0, 0.5 * y + rnd.random() * 0.6 - (0.15 if i >= 2000 else 0.0)))
        lines.append(f"{g},{y},{s:.4f}")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "spec.json").write_text(json.dumps({
        "data": "d.csv", "label": "label", "score": "score", "favorable": 1, "threshold": 0.5,
        "sensitive": ["country"], "fairness": {"bootstrap": 20},
        "checks": [{"metric": "disparate_impact", "min": 0.8}], "seed": 1,
        "outputs": {"dir": "out", "json": "results.json", "pdf": "report.pdf"}}))
    out = run_spec(tmp_path / "spec.json", tmp_path / "out")
    doc = json.loads((out / "results.json").read_text())
    excluded = doc["fairness"]["attributes"][0]["summary"]["excluded_groups"]
    assert len(excluded) == 25
    t = pdf_text(out / "report.pdf")
    start = t.index("Excluded from the verdict (25 small groups):")
    block = t[start:t.index("All groups:", start)]
    rows = [r.strip() for r in block.split("\n") if r.strip()]
    assert len(rows) >= 2  # the list wraps, so the test sees a line break
    listed = 0
    for r in rows:
        r = r.split(": ", 1)[1] if r.startswith("Excluded from") else r
        r = re.sub(r",?\s*and \d+ more\.$", "", r)
        for name in filter(None, (x.strip() for x in r.split(","))):
            assert name in excluded, f"line {r!r} breaks inside a name ({name!r})"
            listed += 1
    m = re.search(r"and (\d+) more\.", block)
    assert listed + (int(m.group(1)) if m else 0) == 25
