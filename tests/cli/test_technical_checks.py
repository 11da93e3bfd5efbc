"""Technical checks (the SHAP additivity error) get their own table after the policy checks on
the model, in the PDF and the XLSX Overview (issue 14 item 2)."""
import subprocess
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[2]


def test_technical_checks_table(audit, tmp_path):
    r = audit("run", ROOT / "datasets" / "demo_audit.json", "--out", tmp_path)
    assert r.code in (0, 1), r
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    policy, _, tech = text.partition("Technical checks")
    assert tech, "no Technical checks table"
    assert "Additivity max error" in tech and "Additivity max error" not in policy
    assert "Disparate impact" in policy and "Disparate impact" not in tech.split("\f")[0]
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")["Overview"]
    rows = [row for row in ws.iter_rows(values_only=True) if row[0] is not None]
    titles = [i for i, row in enumerate(rows) if str(row[0]).startswith(("Policy checks",
                                                                          "Technical checks"))]
    assert len(titles) == 2
    ids = lambda a, b: [row[1] for row in rows[a:b]]
    assert "additivity_max_error" not in ids(titles[0], titles[1])
    assert "additivity_max_error" in ids(titles[1], len(rows))
