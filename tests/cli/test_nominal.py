"""explain.nominal (issue 14 item 9): the spec key, its located error, the results.json flag and
the PDF strip chart's category labels."""
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUDIT = Path(__import__("os").environ.get("AUDIT_BIN", ROOT / "build" / "audit"))


def _spec(tmp_path, nominal):
    s = json.loads((ROOT / "datasets" / "demo_audit.json").read_text(encoding="utf-8"))
    for k in ("model", "data", "reference"):
        s[k] = str(ROOT / "datasets" / s[k])
    s["explain"]["rows"] = 300
    s["explain"]["nominal"] = nominal
    s["outputs"] = {"dir": str(tmp_path / "out"), "json": "results.json", "pdf": "report.pdf"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(s), encoding="utf-8")
    return p


def test_unknown_nominal_feature_is_a_located_error(tmp_path):
    r = subprocess.run([AUDIT, "run", _spec(tmp_path, ["zip_region_code", "purpos_code"])],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert '"explain.nominal"' in r.stderr and '"purpos_code" is not a feature' in r.stderr


def test_bad_labels_are_a_located_error(tmp_path):
    r = subprocess.run([AUDIT, "run", _spec(tmp_path, {"zip_region_code": ["a", "a"]})],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "explain.nominal.zip_region_code" in r.stderr and "listed twice" in r.stderr


def test_nominal_flag_and_strip_labels(tmp_path):
    labels = ["Nordhafen", "Zürich", "Südpark", "Westfield", "Centre", "Hillcrest",
              "Riverside", "Eastgate"]
    r = subprocess.run([AUDIT, "run", _spec(tmp_path, {"zip_region_code": labels})],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    feats = {f["name"]: f for f in doc["explanations"]["features"]}
    z = feats["zip_region_code"]
    assert z["nominal"] is True and z["nominal_source"] == "spec"
    assert [c["label"] for c in z["categories"]] == labels
    assert [c["code"] for c in z["categories"]] == list(range(8))
    assert "nominal" not in feats["interest_rate"]
    # the dependence page shows the category names as x labels, left to right in code order
    pdf = tmp_path / "out" / "report.pdf"
    html = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True,
                          text=True).stdout
    page = next(p for p in html.split("<page")[1:] if "Dependence" in p)
    words = []
    for line in page.splitlines():
        if "<word" in line:
            x = float(line.split('xMin="')[1].split('"')[0])
            words.append((line.rsplit(">", 2)[-2].split("<")[0], x))
    found = [(w, x) for w, x in words if w in labels]
    assert [w for w, _ in sorted(found, key=lambda t: t[1])] == labels
    assert any(w == "category" for w, _ in words)
    # the waterfalls name a nominal feature's category, never its code
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                          text=True).stdout
    rows = {r["row"]: r for r in doc["explanations"]["explained_rows"] if r.get("why")}
    j = doc["explanations"]["feature_order"].index("zip_region_code")
    shown = [ln for ln in text.splitlines() if "zip_region_code = " in ln]
    assert shown, "no waterfall shows zip_region_code"
    for ln in shown:
        value = ln.split("zip_region_code = ")[1].split()[0]
        assert value in labels, ln
    assert any(labels[int(r["value"][j])] in " ".join(shown) for r in rows.values())
