"""`audit report`: usage errors, malformed / old-schema results.json (exit 2, located message),
atomic outputs (nothing partial left), determinism (SPEC sections 1 and 5)."""
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "golden" / "data" / "reports"
FULL = DATA / "results_full.json"
MINIMAL = DATA / "results_minimal.json"


def leftovers(d):
    return sorted(p.name for p in Path(d).iterdir() if ".tmp" in p.name)


def test_help(audit):
    r = audit("report", "--help")
    assert r.code == 0, r
    assert "audit report results.json" in r.out and "--pdf" in r.out and "--xlsx" in r.out


@pytest.mark.parametrize("args,msg", [
    ((), "missing results.json"),
    ((str(FULL),), "nothing to do"),
    ((str(FULL), "--bogus"), "unknown option"),
    ((str(FULL), "--pdf"), "needs a value"),
    ((str(FULL), str(FULL), "--pdf", "x.pdf"), "unexpected argument"),
])
def test_usage_errors(audit, args, msg):
    r = audit("report", *args)
    assert r.code == 2, r
    assert msg in r.err


def test_same_output_twice_is_usage_error(audit, tmp_path):
    r = audit("report", FULL, "--pdf", tmp_path / "a", "--xlsx", tmp_path / "a")
    assert r.code == 2 and "same file" in r.err, r


def test_output_over_input_refused(audit, tmp_path):
    src = tmp_path / "results.json"
    src.write_bytes(FULL.read_bytes())
    r = audit("report", src, "--pdf", src)
    assert r.code == 2, r
    assert src.read_bytes() == FULL.read_bytes()


def test_missing_file(audit, tmp_path):
    r = audit("report", tmp_path / "nope.json", "--pdf", tmp_path / "a.pdf")
    assert r.code == 2 and "nope.json" in r.err, r
    assert not (tmp_path / "a.pdf").exists()


def test_malformed_json_is_located(audit, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "schema_version": "1",\n  "tool": {"name": "audit",, }\n}\n')
    r = audit("report", bad, "--pdf", tmp_path / "a.pdf", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 2, r
    assert f"{bad}:3:" in r.err, r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_trailing_garbage_rejected(audit, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(MINIMAL.read_text() + " xyz")
    r = audit("report", bad, "--check")
    assert r.code == 2, r


def test_empty_file(audit, tmp_path):
    bad = tmp_path / "empty.json"
    bad.write_text("")
    r = audit("report", bad, "--pdf", tmp_path / "a.pdf")
    assert r.code == 2 and "empty" in r.err, r


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d.__setitem__("schema_version", "0"), "schema_version"),
    (lambda d: d.__setitem__("schema_version", 1), "schema_version"),
    (lambda d: d.pop("tool"), "tool"),
    (lambda d: d["fairness"]["attributes"][1]["groups"][0].__setitem__("count", "many"),
     "fairness.attributes[1].groups[0].count"),
    (lambda d: d["fairness"]["attributes"][0]["groups"][1].__setitem__("selection_rate_ci", [0.1]),
     "fairness.attributes[0].groups[1].selection_rate_ci"),
    (lambda d: d["drift"]["columns"][2]["histogram"]["current"].pop(),
     "drift.columns[2].histogram"),
    (lambda d: d["explanations"]["features"][3].pop("name"), "explanations.features[3].name"),
    (lambda d: d["explanations"]["explained_rows"][0]["phi"].pop(),
     "explanations.explained_rows[0].phi"),
    (lambda d: d["checks"][0].__setitem__("passed", "yes"), "checks[0].passed"),
    (lambda d: d["fairness"]["attributes"][0].__setitem__("group_order", "appearance"),
     "fairness.attributes[0].group_order"),
    (lambda d: d.__setitem__("verdict", "maybe"), "verdict"),
    (lambda d: d.__setitem__("drift", []), "drift"),
    (lambda d: d.__setitem__("profile", "x"), "profile"),
    (lambda d: d["profile"].__setitem__("rows", "many"), "profile.rows"),
    (lambda d: d["profile"]["columns"].__setitem__(1, 1), "profile.columns[1]"),
    (lambda d: d["profile"]["columns"][0].pop("name"), "profile.columns[0].name"),
    (lambda d: d["profile"]["columns"][0].__setitem__("type", "text"),
     "profile.columns[0].type"),
    (lambda d: d["profile"]["columns"][0].__setitem__("quantiles", {"5%": "low"}),
     "profile.columns[0].quantiles.5%"),
    (lambda d: d["provenance"].__setitem__("created", "2025-02-29T00:00:00Z"),
     "provenance.created"),
    (lambda d: d["provenance"].__setitem__("created", "2025-02-31T00:00:00Z"),
     "provenance.created"),
])
def test_schema_errors_name_the_field(audit, tmp_path, mutate, field):
    doc = json.loads(FULL.read_text())
    mutate(doc)
    src = tmp_path / "results.json"
    src.write_text(json.dumps(doc))
    r = audit("report", src, "--pdf", tmp_path / "a.pdf", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 2, r
    assert f'"{field}"' in r.err, r.err
    assert str(src) in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_infinite_number_rejected(audit, tmp_path):
    text = FULL.read_text().replace('"base_value": -0.42', '"base_value": -1e400', 1)
    assert "-1e400" in text
    src = tmp_path / "r.json"
    src.write_text(text)
    r = audit("report", src, "--pdf", tmp_path / "a.pdf")
    assert r.code == 2 and '"explanations.base_value"' in r.err and "finite" in r.err, r


def test_not_an_object(audit, tmp_path):
    src = tmp_path / "r.json"
    src.write_text("[1, 2]")
    r = audit("report", src, "--check")
    assert r.code == 2 and "object" in r.err, r


def test_check_only_validates(audit, tmp_path):
    r = audit("report", FULL, "--check")
    assert r.code == 0, r


def test_unwritable_destination_leaves_nothing(audit, tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    r = audit("report", FULL, "--pdf", missing / "a.pdf")
    assert r.code == 2, r
    r = audit("report", FULL, "--xlsx", missing / "a.xlsx")
    assert r.code == 2, r
    assert not missing.exists()


@pytest.mark.valgrind
@pytest.mark.parametrize("src", [MINIMAL, FULL], ids=["minimal", "full"])
def test_renders_both(audit, tmp_path, src):
    r = audit("report", src, "--pdf", tmp_path / "r.pdf", "--xlsx", tmp_path / "r.xlsx")
    assert r.code == 0, r


@pytest.mark.valgrind
def test_malformed_under_valgrind(audit, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1", "tool": {"name": "audit", "version": "0.1.0"}, '
                   '"fairness": {"attributes": [{"name": "sex", "groups": [{"group": 1}]}]}}')
    r = audit("report", bad, "--pdf", tmp_path / "r.pdf")
    assert r.code == 2 and '"fairness.attributes[0].groups[0].group"' in r.err, r


def test_writes_both_and_leaves_no_temporaries(audit, tmp_path):
    r = audit("report", FULL, "--pdf", tmp_path / "r.pdf", "--xlsx", tmp_path / "r.xlsx")
    assert r.code == 0, r
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    assert leftovers(tmp_path) == []


def test_replaces_existing_output(audit, tmp_path):
    out = tmp_path / "r.pdf"
    out.write_text("old")
    r = audit("report", MINIMAL, "--pdf", out)
    assert r.code == 0, r
    assert out.read_bytes()[:5] == b"%PDF-"


def test_verdict_does_not_change_exit_code(audit, tmp_path):
    doc = json.loads(FULL.read_text())
    assert doc["verdict"] == "fail"
    r = audit("report", FULL, "--pdf", tmp_path / "r.pdf")
    assert r.code == 0, r


def test_output_is_deterministic(audit, tmp_path):
    for n in ("a", "b"):
        r = audit("report", FULL, "--pdf", tmp_path / f"{n}.pdf", "--xlsx", tmp_path / f"{n}.xlsx")
        assert r.code == 0, r
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_quiet_is_silent(audit, tmp_path):
    r = audit("--quiet", "report", MINIMAL, "--pdf", tmp_path / "r.pdf")
    assert r.code == 0 and r.err == "", r


def test_invalid_utf8_is_located(audit, tmp_path):
    src = tmp_path / "latin1.json"
    text = MINIMAL.read_text().replace('"no model given"', '"no Modell f\\u00fcr Zo\\u00eb"')
    src.write_bytes(text.replace("\\u00fc", "\xfc").replace("\\u00eb", "\xeb").encode("latin-1"))
    r = audit("report", src, "--pdf", tmp_path / "a.pdf")
    assert r.code == 2 and "invalid UTF-8" in r.err and f"{src}:" in r.err, r
    assert not (tmp_path / "a.pdf").exists()


def test_stress_long_names_many_groups(audit, tmp_path):
    import openpyxl
    doc = json.loads(FULL.read_text())
    doc["report"]["title"] = "Ü" * 20000
    a = doc["fairness"]["attributes"][1]
    a["groups"] = [dict(a["groups"][0], group=f"zip {i:03d} " + "é" * 40) for i in range(60)]
    doc["drift"]["columns"] = [dict(c, name=f"{c['name']}_{k}") for k in range(4)
                               for c in doc["drift"]["columns"]]
    src = tmp_path / "stress.json"
    src.write_text(json.dumps(doc))
    r = audit("report", src, "--pdf", tmp_path / "s.pdf", "--xlsx", tmp_path / "s.xlsx")
    assert r.code == 0, r
    import subprocess
    t = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True,
                       text=True, check=True).stdout
    # 60 eligible groups, 20 shown (report.max_groups default), the rest counted, none cut
    assert "Not shown: 40 more groups (0 of them small;" in t
    assert "drifted columns are plotted" in t
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    title = next(r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0] == "Report")
    assert title == "Ü" * 16383   # Excel's cell limit, cut between characters


def test_merged_report_says_why_and_how(audit, root, tmp_path):
    """The report of an `audit merge` document: a fairness finding is decomposed as in the single
    run (the partials carry the drivers' sums); when a partial does not carry them (here one
    made before they were, its "why" block removed) the finding gives the document's own reason,
    not "it needs a model with explanations"; the provenance names the merge, in both reports."""
    import subprocess
    import openpyxl
    parts = []
    for i in range(2):
        r = audit("run", root / "datasets" / "demo_audit.json", "--shard", f"{i}/2", "--out",
                  tmp_path / "parts", "--quiet")
        assert r.code == 0, r
        parts.append(tmp_path / "parts" / f"partial-{i}-of-2.audpart")

    def merged(parts, out):
        r = audit("merge", *parts, "--out", out)
        assert r.code in (0, 1), r
        text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        return json.loads((out / "results.json").read_text()), " ".join(text.split())

    doc, flat = merged(parts, tmp_path / "m")
    assert all(s["section"] != "fairness drivers and proxies" for s in doc["skipped"])
    assert "What drives it: zip_region_code 94.1%" in flat and "not decomposed here" not in flat
    old = json.loads(parts[0].read_text())
    del old["why"]
    (tmp_path / "old.audpart").write_text(json.dumps(old))
    doc, flat = merged([tmp_path / "old.audpart", parts[1]], tmp_path / "k")
    reason = next(s["reason"] for s in doc["skipped"]
                  if s["section"] == "fairness drivers and proxies")
    assert "made by an older version" in reason
    assert "it needs a model with explanations" not in flat
    assert "What drives it: not decomposed here (" + reason[:40] in flat
    assert "audit merge of 2 partials (audit run --shard)" in flat
    ws = openpyxl.load_workbook(tmp_path / "k" / "report.xlsx")["Provenance"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "audit merge of 2 partials (audit run --shard)" in cells
