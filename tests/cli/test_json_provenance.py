"""Provenance of every command's --json document (SPEC section 5, docs/results-schema.md):
`audit profile`, `audit fairness`, `audit drift` and `audit run` record when the document was made
(--created or the UTC clock) and each input they read: its path, the SHA-256 of its bytes
(hashlib), rows and columns (pandas' shape) for tables, format and objective for models; the
reports render it (the PDF's audit date, via pdftotext); --created fixes the bytes."""
import datetime
import hashlib
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CREDIT = ROOT / "datasets" / "credit_current.csv"
CREDIT_REF = ROOT / "datasets" / "credit_reference.csv"
CREDIT_MODEL = ROOT / "datasets" / "credit_xgb.json"
CREATED = "2026-03-04T05:06:07Z"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_utc_now(created):
    """A valid UTC ISO-8601 time (the form audit writes) within a few minutes of now."""
    t = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs((now - t).total_seconds()) < 600, (created, now)


def assert_table_input(entry, role, path):
    df = pd.read_csv(path, keep_default_na=False)
    assert entry["role"] == role
    assert entry["path"] == str(path)
    assert entry["sha256"] == sha256(path)
    assert (entry["rows"], entry["columns"]) == df.shape


def assert_model_input(entry, prov, path, fmt, objective):
    assert entry["role"] == "model" and entry["path"] == str(path)
    assert entry["sha256"] == sha256(path)
    assert (entry["format"], entry["objective"]) == (fmt, objective)
    assert "rows" not in entry
    # the "model" object of schema 1 holds the same facts (the report cover reads it)
    m = prov["model"]
    assert (m["path"], m["sha256"], m["format"], m["objective"]) == \
           (str(path), entry["sha256"], fmt, objective)


def profile_cmd(d, out):
    return ["profile", "--data", d / "cur.csv", "--json", out]


def fairness_cmd(d, out):
    return ["fairness", "--data", d / "cur.csv", "--sensitive", "sex", "--score", "score",
            "--threshold", "0.5", "--label", "label", "--bootstrap", "20", "--seed", "9",
            "--json", out]


def drift_cmd(d, out):
    return ["drift", "--reference", d / "ref.csv", "--current", d / "cur.csv", "--json", out]


COMMANDS = {"profile": (profile_cmd, [("data", "cur.csv")], "profile"),
            "fairness": (fairness_cmd, [("data", "cur.csv")], "fairness"),
            "drift": (drift_cmd, [("reference", "ref.csv"), ("current", "cur.csv")], "drift")}


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("fixed", [True, False])
def test_inputs_hashed_and_shaped(audit, small, name, fixed):
    make, inputs, section = COMMANDS[name]
    out = small / "doc.json"
    args = make(small, out) + (["--created", CREATED] if fixed else [])
    r = audit(*args, "--quiet")
    assert r.code == 0, r
    doc = json.loads(out.read_text())
    assert list(doc)[:3] == ["schema_version", "tool", "provenance"] and section in doc
    prov = doc["provenance"]
    assert prov["command"] == name
    if fixed:
        assert prov["created"] == CREATED
    else:
        assert_utc_now(prov["created"])
    assert [i["role"] for i in prov["inputs"]] == [role for role, _ in inputs]
    for entry, (role, file) in zip(prov["inputs"], inputs):
        assert_table_input(entry, role, small / file)
    assert "model" not in prov
    if name == "fairness":
        assert prov["seed"] == 9 == doc["fairness"]["bootstrap"]["seed"]
    else:
        assert "seed" not in prov
    r = audit("report", out, "--check")
    assert r.code == 0, r


def test_fairness_model_input(audit, tmp_path):
    out = tmp_path / "f.json"
    r = audit("fairness", "--data", CREDIT, "--sensitive", "sex", "--model", CREDIT_MODEL,
              "--threshold", "0.3", "--label", "default", "--favorable", "0", "--bootstrap", "0",
              "--json", out)
    assert r.code == 0, r
    prov = json.loads(out.read_text())["provenance"]
    assert_utc_now(prov["created"])
    data, model = prov["inputs"]
    assert_table_input(data, "data", CREDIT)
    assert_model_input(model, prov, CREDIT_MODEL, "xgboost-json", "binary:logistic")


def test_run_lists_the_model_as_an_input(audit, tmp_path):
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(ROOT / "datasets" / spec[k])
    spec["explain"] = {"method": "auto", "rows": 100, "background": 50}
    spec["outputs"] = {"dir": str(tmp_path), "json": "results.json"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    r = audit("run", p, "--created", CREATED)
    assert r.code in (0, 1), r
    prov = json.loads((tmp_path / "results.json").read_text())["provenance"]
    assert prov["command"] == "run" and prov["created"] == CREATED and prov["seed"] == 42
    roles = {i["role"]: i for i in prov["inputs"]}
    assert list(roles) == ["spec", "data", "reference", "model"]
    assert roles["spec"]["sha256"] == sha256(p) and "rows" not in roles["spec"]
    assert_table_input(roles["data"], "data", CREDIT)
    assert_table_input(roles["reference"], "reference", CREDIT_REF)
    assert_model_input(roles["model"], prov, CREDIT_MODEL, "xgboost-json", "binary:logistic")
    m = prov["model"]
    assert (m["features"], m["trees"], m["outputs"]) == (20, 150, 1)


def test_stdin_input_has_null_hash_with_reason(audit, small):
    data = (small / "cur.csv").read_text()
    r = audit("profile", "--data", "-", "--json", "-", "--created", CREATED, input=data)
    assert r.code == 0, r
    (entry,) = json.loads(r.out)["provenance"]["inputs"]
    assert entry["path"] == "-" and entry["sha256"] is None
    assert entry["sha256_reason"] == "read from standard input, not hashed"
    assert (entry["rows"], entry["columns"]) == pd.read_csv(small / "cur.csv").shape
    doc = small / "stdin.json"
    doc.write_text(r.out)
    pdf = small / "stdin.pdf"
    assert audit("report", doc, "--pdf", pdf).code == 0
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "read from standard input, not hashed" in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_created_fixes_bytes_across_threads(audit, small, name):
    make = COMMANDS[name][0]
    outs = []
    for t in ("1", "3"):
        out = small / f"t{t}.json"
        r = audit(*make(small, out), "--threads", t, "--created", CREATED, "--quiet")
        assert r.code == 0, r
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("name", sorted(COMMANDS) + ["run"])
@pytest.mark.parametrize("bad", ["2026-03-04", "2026-03-04T05:06:07", "2026-03-04 05:06:07Z",
                                 "2026-03-04T05:06:07+01:00", "2026-13-01T00:00:00Z",
                                 "2025-02-29T00:00:00Z", "2026-03-04T24:00:00Z"])
def test_bad_created_is_usage_error(audit, small, name, bad):
    args = COMMANDS[name][0](small, small / "x.json") if name != "run" else ["run", "s.json"]
    r = audit(*args, "--created", bad)
    assert r.code == 2, r
    assert r.err.startswith(f"audit: {name}: --created expects a UTC time "
                            f"YYYY-MM-DDTHH:MM:SSZ, got \"{bad}\""), r
    assert not (small / "x.json").exists()


def test_leap_day_is_accepted(audit, small):
    r = audit("profile", "--data", small / "cur.csv", "--json", "-", "--created",
              "2028-02-29T23:59:59Z")
    assert r.code == 0, r
    assert json.loads(r.out)["provenance"]["created"] == "2028-02-29T23:59:59Z"


@pytest.mark.parametrize("name", sorted(COMMANDS) + ["run"])
def test_help_documents_created(audit, name):
    r = audit(name, "--help")
    assert r.code == 0 and "--created TIME" in r.out, r


def test_fairness_report_shows_date_and_provenance(audit, small):
    """The PDF of a fairness document has the audit date on its cover (it said "not recorded"
    before fairness documents carried provenance) and the input's hash under Provenance."""
    out = small / "fair.json"
    r = audit(*fairness_cmd(small, out), "--created", CREATED, "--quiet")
    assert r.code == 0, r
    pdf = small / "fair.pdf"
    r = audit("report", out, "--pdf", pdf)
    assert r.code == 0, r
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                          text=True, check=True).stdout
    cover = text.split("Data source")[0]
    assert re.search(r"Audit date\s+2026-03-04\n", cover), cover
    assert "Command" in text and "audit fairness" in text
    assert "Created (UTC)" in text and CREATED in text
    assert "Input: data" in text and sha256(small / "cur.csv") in text
    assert "(400 rows, 4 columns)" in " ".join(text.split())   # the long path may wrap
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert "2026" in [l for l in info.splitlines() if l.startswith("CreationDate")][0]


def test_model_listed_once_in_reports(audit, tmp_path):
    """A model both in inputs and in "model" is shown once (PDF and XLSX)."""
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "f.json"
    r = audit("fairness", "--data", CREDIT, "--sensitive", "sex", "--model", CREDIT_MODEL,
              "--threshold", "0.3", "--bootstrap", "0", "--json", out, "--created", CREATED)
    assert r.code == 0, r
    pdf, xlsx = tmp_path / "f.pdf", tmp_path / "f.xlsx"
    assert audit("report", out, "--pdf", pdf, "--xlsx", xlsx).code == 0
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                          text=True, check=True).stdout
    prov_text = text.split("Provenance\n")[-1]
    digest = sha256(CREDIT_MODEL)
    assert prov_text.count(digest) == 1
    assert "credit_xgb.json (xgboost-json, binary:logistic)" in prov_text
    ws = openpyxl.load_workbook(xlsx)["Provenance"]
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert cells.count(digest) == 1 and cells.count(sha256(CREDIT)) == 1
    assert CREATED in cells and "audit fairness" in cells


def test_pipe_input_is_not_hashed_and_does_not_hang(audit, small):
    """A named pipe gives its bytes once, to the reader: it gets a null hash with the reason
    (a second read for the hash would block forever)."""
    import os
    import threading
    fifo = small / "fifo.csv"
    os.mkfifo(fifo)
    data = (small / "cur.csv").read_bytes()

    def feed():
        with open(fifo, "wb") as f:
            f.write(data)
    t = threading.Thread(target=feed)
    t.start()
    r = audit("profile", "--data", fifo, "--json", "-", "--created", CREATED, timeout=60)
    t.join()
    assert r.code == 0, r
    (entry,) = json.loads(r.out)["provenance"]["inputs"]
    assert entry["sha256"] is None and entry["sha256_reason"].startswith("not a regular file")
    assert (entry["rows"], entry["columns"]) == pd.read_csv(small / "cur.csv").shape
