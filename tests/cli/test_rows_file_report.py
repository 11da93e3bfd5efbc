"""Reports from a results.json whose explained rows are in a file beside it (issue 18):
explanations.explained_rows_file {path, format "jsonl", rows, bytes, sha256} names a JSON-lines
file of every explained row, and explained_rows keeps only the waterfall rows. `audit report`
streams the file into the XLSX sheet Attributions (at most 100,000 rows, then a note saying
where all are), the PDF says where the rows are, --check checks the file, and a missing, resized
or malformed file is an error (exit 2) that leaves no XLSX."""
import copy
import hashlib
import json
import random
import re
import subprocess
import zipfile

import openpyxl
import pytest

CREATED = "2026-01-02T03:04:05Z"
CAP = 100_000


@pytest.fixture(scope="module")
def inline_run(tmp_path_factory):
    """The demo audit with all 6000 rows explained (two asked for by explain.show_rows), its
    results.json (rows inline) and XLSX."""
    from conftest import ROOT, run_audit
    tmp = tmp_path_factory.mktemp("rowsrep")
    spec = json.loads((ROOT / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(ROOT / "datasets" / spec[k])
    spec["explain"] = dict(spec["explain"], rows=6000, show_rows=[17, 4321])
    spec["outputs"] = {"json": "results.json", "xlsx": "report.xlsx"}
    (tmp / "spec.json").write_text(json.dumps(spec))
    r = run_audit("run", tmp / "spec.json", "--out", tmp / "out", "--created", CREATED)
    assert r.code in (0, 1), r
    return tmp / "out"


def file_mode(doc, rows, folder, name="explained_rows.jsonl"):
    """Write `rows` as the JSON-lines file `name` in folder and return a copy of doc in file
    mode: the block, and explained_rows reduced to the rows with a "why"."""
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()
    (folder / name).write_bytes(text)
    doc = copy.deepcopy(doc)
    ex = doc["explanations"]
    ex["explained_rows"] = [r for r in rows if "why" in r]
    ex["explained_rows_file"] = {"path": name, "format": "jsonl", "rows": len(rows),
                                 "bytes": len(text), "sha256": hashlib.sha256(text).hexdigest()}
    (folder / "results.json").write_text(json.dumps(doc))
    return doc


def sheet_rows(path, sheet="Attributions"):
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".xlsx" or ".tmp" in p.name)


def test_file_rows_give_the_inline_sheet(audit, tmp_path, inline_run):
    doc = json.loads((inline_run / "results.json").read_text())
    rows = doc["explanations"]["explained_rows"]
    assert len(rows) == 6000 and sum("why" in r for r in rows) == 4
    fdoc = file_mode(doc, rows, tmp_path)
    assert len(fdoc["explanations"]["explained_rows"]) == 4
    r = audit("report", tmp_path / "results.json", "--xlsx", tmp_path / "f.xlsx")
    assert r.code == 0, r
    want = sheet_rows(inline_run / "report.xlsx")
    got = sheet_rows(tmp_path / "f.xlsx")
    assert len(want) == 6001          # header + every row, no note: all rows are shown
    assert got == want
    # run from another folder with a relative path: the file is found beside results.json
    r = audit("report", "results.json", "--xlsx", "g.xlsx", "--check", cwd=tmp_path)
    assert r.code == 0, r


def test_pdf_says_where_the_rows_are(audit, tmp_path, inline_run):
    """The PDF's waterfall section names the file and its hash; the waterfalls still come
    from the rows results.json holds."""
    doc = json.loads((inline_run / "results.json").read_text())
    fdoc = file_mode(doc, doc["explanations"]["explained_rows"], tmp_path)
    sha = fdoc["explanations"]["explained_rows_file"]["sha256"]
    r = audit("report", tmp_path / "results.json", "--pdf", tmp_path / "r.pdf")
    assert r.code == 0, r
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert ("Attributions of all 6,000 explained rows are in explained_rows.jsonl beside "
            f"results.json (SHA-256 {sha}).") in flat, flat[:3000]
    assert "Waterfalls of selected rows" in flat
    assert flat.count("requested in spec") >= 2       # rows 17 and 4321 get their waterfalls


def synthetic(n, nf=3, seed=5):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        phi = [round(rng.uniform(-1, 1), 6) for _ in range(nf)]
        row = {"row": i, "line": i + 2, "prediction": 0.5, "output": round(sum(phi) - 0.2, 6),
               "base": -0.2, "phi": phi, "value": [round(rng.uniform(0, 9), 3)] * nf}
        if i in (3, n - 2):
            row["why"] = "requested in spec"
        rows.append(row)
    return rows


def synthetic_doc(nf=3):
    return {"schema_version": "2", "tool": {"name": "audit", "version": "0.1.0"},
            "explanations": {"method": "tree", "output": "raw", "rows": 0, "base_value": -0.2,
                             "features": [{"name": f"f{j}", "mean_abs": 0.5, "rank": j + 1}
                                          for j in range(nf)]}}


def check_capped(path, n, note):
    rows = sheet_rows(path)
    assert rows[0][:5] == ("Row", "Selected", "Prediction", "Output", "Base")
    data = rows[1:CAP + 1]
    assert [r[0] for r in data] == list(range(CAP))
    assert rows[CAP + 1] == (None,) * len(rows[0])        # one blank row, then the note
    assert rows[CAP + 2][0] == note
    assert len(rows) == CAP + 3
    # the filter covers the data rows only (read from the sheet's XML: openpyxl's full load of
    # 100,000 rows takes seconds; libxlsxwriter names the sheets' parts in tab order)
    k = openpyxl.load_workbook(path, read_only=True).sheetnames.index("Attributions") + 1
    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{k}.xml").decode()
    last = openpyxl.utils.get_column_letter(len(rows[0]))
    assert re.findall(r'<autoFilter ref="([^"]+)"', xml) == [f"A1:{last}{CAP + 1}"]


@pytest.mark.slow
def test_cap_from_file(audit, tmp_path):
    n = CAP + 50
    doc = synthetic_doc()
    doc["explanations"]["rows"] = n
    fdoc = file_mode(doc, synthetic(n), tmp_path)
    sha = fdoc["explanations"]["explained_rows_file"]["sha256"]
    r = audit("report", tmp_path / "results.json", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 0, r
    check_capped(tmp_path / "a.xlsx", n, f"Showing the first 100,000 of 100,050 explained rows; "
                 f"all are in explained_rows.jsonl (SHA-256 {sha}).")


@pytest.mark.slow
def test_cap_inline(audit, tmp_path):
    n = CAP + 50
    doc = synthetic_doc()
    doc["explanations"]["rows"] = n
    doc["explanations"]["explained_rows"] = synthetic(n)
    (tmp_path / "results.json").write_text(json.dumps(doc))
    r = audit("report", tmp_path / "results.json", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 0, r
    check_capped(tmp_path / "a.xlsx", n, "Showing the first 100,000 of 100,050 explained rows; "
                 "all are in results.json.")


def small_file_doc(folder, rows=None):
    rows = rows if rows is not None else synthetic(40)
    doc = synthetic_doc()
    doc["explanations"]["rows"] = len(rows)
    return file_mode(doc, rows, folder)


def test_missing_file(audit, tmp_path):
    small_file_doc(tmp_path)
    (tmp_path / "explained_rows.jsonl").unlink()
    for args in (("--xlsx", tmp_path / "a.xlsx"), ("--check",)):
        r = audit("report", tmp_path / "results.json", *args)
        assert r.code == 2, r
        assert f"{tmp_path}/explained_rows.jsonl: cannot open the explained rows" in r.err, r.err
        assert "No such file" in r.err
    assert leftovers(tmp_path) == []


def test_wrong_size(audit, tmp_path):
    small_file_doc(tmp_path)
    f = tmp_path / "explained_rows.jsonl"
    size = f.stat().st_size
    f.write_bytes(f.read_bytes() + b"\n")
    for args in (("--xlsx", tmp_path / "a.xlsx"), ("--check",)):
        r = audit("report", tmp_path / "results.json", *args)
        assert r.code == 2, r
        assert (f"{f}: is {size + 1} bytes, but explanations.explained_rows_file.bytes records "
                f"{size}") in r.err, r.err
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("bad,msg", [
    (lambda line: line[:-7] + b"\n", ":17:"),                                    # cut JSON
    (lambda line: line.replace(b'"phi":[', b'"phi":[0.5,'), ':17: "phi": expected one entry '
     "per feature (3), found 4 phi and 3 values"),
    (lambda line: line.replace(b'"value"', b'"values"'), ':17: "value": missing'),
    (lambda line: b"\n", ":17: empty line"),
])
def test_bad_line_17(audit, tmp_path, bad, msg):
    """A bad line 17 (the size recorded for the bad file, so only the line is wrong): the
    error names the file and line 17; the check (size only) passes."""
    doc = small_file_doc(tmp_path)
    f = tmp_path / "explained_rows.jsonl"
    text = f.read_bytes().splitlines(keepends=True)
    text[16] = bad(text[16])
    data = b"".join(text)
    f.write_bytes(data)
    doc["explanations"]["explained_rows_file"]["bytes"] = len(data)
    (tmp_path / "results.json").write_text(json.dumps(doc))
    r = audit("report", tmp_path / "results.json", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 2, r
    assert f"audit: {f}{msg}" in r.err, r.err
    assert leftovers(tmp_path) == []


def test_fewer_lines_than_rows(audit, tmp_path):
    doc = small_file_doc(tmp_path)
    doc["explanations"]["explained_rows_file"]["rows"] = 41
    (tmp_path / "results.json").write_text(json.dumps(doc))
    r = audit("report", tmp_path / "results.json", "--xlsx", tmp_path / "a.xlsx")
    assert r.code == 2, r
    assert "explained_rows.jsonl:40: the file ends after 40 lines" in r.err, r.err
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("key,value,msg", [
    ("path", "../explained_rows.jsonl", "expected a plain file name"),
    ("path", "..", "expected a plain file name"),
    ("path", 7, "expected a string"),
    ("format", "csv", 'expected "jsonl"'),
    ("rows", -1, "expected a non-negative whole number"),
    ("bytes", 1.5, "expected a non-negative whole number"),
    ("sha256", "AB" * 32, "expected 64 lowercase hexadecimal digits"),
    ("sha256", "ab" * 31, "expected 64 lowercase hexadecimal digits"),
])
def test_block_schema_errors(audit, tmp_path, key, value, msg):
    doc = small_file_doc(tmp_path)
    doc["explanations"]["explained_rows_file"][key] = value
    (tmp_path / "results.json").write_text(json.dumps(doc))
    for args in (("--xlsx", tmp_path / "a.xlsx"), ("--check",)):
        r = audit("report", tmp_path / "results.json", *args)
        assert r.code == 2, r
        assert f'"explanations.explained_rows_file.{key}": {msg}' in r.err, r.err
    assert leftovers(tmp_path) == []
