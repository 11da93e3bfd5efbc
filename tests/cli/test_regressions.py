"""Regression tests for defects found in review (inputs in tests/golden/data/regressions/)."""
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

R = "tests/golden/data/regressions"
FULL = "tests/golden/data/reports/results_full.json"


def test_drift_values_spanning_more_than_a_double(audit, tmp_path):
    """max - min overflows: a per-column error (here the only column, so exit 2), no crash."""
    r = audit("drift", "--reference", f"{R}/drift_overflow_ref.csv", "--current",
              f"{R}/drift_overflow_cur.csv", "--json", tmp_path / "o.json")
    assert r.code == 2 and "span more than the range of a double" in r.err, r
    assert not (tmp_path / "o.json").exists()


def test_wasserstein_normed_with_huge_values(audit, root, tmp_path):
    """The reference std of values near 1e200 overflows naively; computed exactly by scaling."""
    out = tmp_path / "h.json"
    r = audit("drift", "--reference", f"{R}/drift_hugestd_ref.csv", "--current",
              f"{R}/drift_hugestd_cur.csv", "--method", "wasserstein_normed", "--json", out)
    assert r.code == 0, r
    col = json.loads(out.read_text())["drift"]["columns"][0]
    ref = pd.read_csv(root / R / "drift_hugestd_ref.csv").iloc[:, 0].dropna().to_numpy()
    cur = pd.read_csv(root / R / "drift_hugestd_cur.csv").iloc[:, 0].dropna().to_numpy()
    from scipy.stats import wasserstein_distance
    s = 1e200   # numpy.std overflows on the raw values: scale, as audit does
    std = np.std(ref / s) * s
    assert col["std_reference"] == pytest.approx(std, rel=1e-9)
    assert col["wasserstein_normed"] == pytest.approx(
        wasserstein_distance(ref / s, cur / s) * s / std, rel=1e-9)


def test_numeric_reference_group_by_value(audit, tmp_path):
    out = tmp_path / "f.json"
    r = audit("fairness", "--data", f"{R}/fair_numeric_reference.csv", "--sensitive", "sex",
              "--prediction", "p", "--bootstrap", "0", "--reference", "sex=1.0", "--json", out)
    assert r.code == 0, r
    assert json.loads(out.read_text())["fairness"]["attributes"][0]["reference"] == "1"


def test_undefined_impact_ratio_gives_undefined_flag(audit, tmp_path):
    out = tmp_path / "f.json"
    r = audit("fairness", "--data", f"{R}/fair_all_unselected.csv", "--sensitive", "g",
              "--prediction", "p", "--bootstrap", "0", "--json", out)
    assert r.code == 0, r
    for g in json.loads(out.read_text())["fairness"]["attributes"][0]["groups"]:
        assert g["impact_ratio"] is None
        assert g["below_four_fifths"] is None and g["below_four_fifths_reason"]


def test_xlsx_with_control_characters_in_the_title(audit, root, tmp_path):
    doc = json.loads((root / FULL).read_text())
    doc["report"]["title"] = "Quarterly\u000baudit"
    p = tmp_path / "r.json"
    p.write_text(json.dumps(doc))
    r = audit("report", p, "--xlsx", tmp_path / "r.xlsx")
    assert r.code == 0, r
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")   # raised XMLSyntaxError before the fix
    assert wb.properties.title == "Quarterly audit"


def test_report_refuses_a_verdict_that_contradicts_the_checks(audit, root, tmp_path):
    doc = json.loads((root / FULL).read_text())
    assert any(not c["passed"] for c in doc["checks"])
    doc["verdict"] = "pass"
    p = tmp_path / "r.json"
    p.write_text(json.dumps(doc))
    r = audit("report", p, "--pdf", tmp_path / "r.pdf")
    assert r.code == 2 and '"verdict": is "pass" but a check' in r.err, r
    assert not (tmp_path / "r.pdf").exists()
