"""explanations.explained_rows of `audit run` (issues 18 and 19): the rows are formatted as JSON
text on threads, in chunks of rows joined in row order (audit/run_rows.c), and results.json is
written around that text. The same bytes at any thread count, valid JSON whose strings read back
as the data's (escapes written as cJSON writes them), the rows in data order."""
import json
import os

import numpy as np
import pandas as pd
import pytest

CREATED = "2026-01-02T03:04:05Z"
# texts for explain.id that need JSON escapes: quote, backslash, tab, control bytes, and UTF-8
IDS = ['plain', 'quote " in', 'back\\slash', 'tab\there', 'ctl\x01\x1fend', 'Z\u00fcrich /',
       'cr\rlf']


def demo_spec(root, tmp_path, df, **explain):
    """The demo audit's spec on df as its current data, explain's keys overridden, results.json
    its only output."""
    df.to_csv(tmp_path / "cur.csv", index=False)
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["data"] = str(tmp_path / "cur.csv")
    spec["explain"] = dict(spec["explain"], **explain)
    spec["outputs"] = {"json": "results.json"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    return p


def results_at_1_and_3_threads(audit, tmp_path, spec):
    """results.json of `audit run spec` at 1 and at 3 threads (bytes)."""
    texts = []
    for t in (1, 3):
        out = tmp_path / f"out{t}"
        r = audit("run", spec, "--out", out, "--threads", t, "--created", CREATED)
        assert r.code in (0, 1), r
        texts.append((out / "results.json").read_bytes())
    return texts


@pytest.fixture
def many_rows(root, tmp_path):
    """The demo audit with every one of its 6000 rows explained, two of them asked for by
    explain.show_rows, and an explain.id column of texts that need escapes."""
    df = pd.read_csv(root / "datasets" / "credit_current.csv", keep_default_na=False)
    df["case"] = [f"{IDS[i % len(IDS)]} {i}" for i in range(len(df))]
    return demo_spec(root, tmp_path, df, rows=6000, show_rows=[17, 4321], id="case"), df


def test_results_same_bytes_at_1_and_3_threads(audit, tmp_path, many_rows):
    spec, df = many_rows
    texts = results_at_1_and_3_threads(audit, tmp_path, spec)
    assert texts[0] == texts[1]
    ex = json.loads(texts[0])["explanations"]
    rows = ex["explained_rows"]
    assert [r["row"] for r in rows] == list(range(6000))
    assert [r["id"] for r in rows] == list(df["case"])   # every escape reads back
    assert [r["line"] for r in rows] == list(range(2, 6002))
    why = {r["row"]: r["why"] for r in rows if "why" in r}
    out = np.array([r["output"] for r in rows])
    assert why[17] == why[4321] == "requested in spec"
    assert why[int(out.argmax())] == "highest output"
    assert why[int(out.argmin())] == "lowest output"
    assert len(why) == 4
    phi = np.array([r["phi"] for r in rows])
    base = np.array([r["base"] for r in rows])
    assert np.max(np.abs(phi.sum(axis=1) + base - out)) <= 1e-5
    assert all(len(r["value"]) == len(ex["feature_order"]) for r in rows)


def test_rows_text_is_what_cjson_prints(audit, tmp_path, many_rows):
    """The rows' text sits in the pretty-printed document like every other member: a row object
    opens on the line of the one before ("}, {"), its members one per line, four tabs in."""
    spec, _ = many_rows
    r = audit("run", spec, "--out", tmp_path / "o", "--threads", 2, "--created", CREATED)
    assert r.code in (0, 1), r
    text = (tmp_path / "o" / "results.json").read_text()
    start = text.index('\t\t"explained_rows":\t[{\n')
    body = text[start:text.index("\n\t\t\t}]", start)]
    assert body.count("\n\t\t\t}, {\n") == 5999
    assert '\t\t\t\t"id":\t"quote \\" in 1",\n' in body
    assert '\t\t\t\t"id":\t"ctl\\u0001\\u001fend 4",\n' in body
    assert '\t\t\t\t"id":\t"tab\\there 3",\n' in body


def rows_spec(root, tmp_path, data, name="spec.json", **explain):
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["data"] = str(data)
    spec["explain"] = dict(spec["explain"], **explain)
    spec["outputs"] = {"json": "results.json", "log": "runs.log"}
    p = tmp_path / name
    p.write_text(json.dumps(spec))
    return p


def test_rows_file_same_bytes_at_1_and_3_threads(audit, tmp_path, many_rows):
    """explain.rows_file: the file is written window by window on the threads; the same bytes
    at 1 and 3 threads, and so is results.json; the run log records the file's SHA-256."""
    import hashlib
    spec, df = many_rows
    s = json.loads(spec.read_text())
    s["explain"]["rows_file"] = True
    s["outputs"]["log"] = "runs.log"
    spec.write_text(json.dumps(s))
    got = []
    for t in (1, 3):
        out = tmp_path / f"out{t}"
        r = audit("run", spec, "--out", out, "--threads", t, "--created", CREATED)
        assert r.code in (0, 1), r
        got.append(((out / "results.json").read_bytes(),
                    (out / "explained_rows.jsonl").read_bytes()))
        log = json.loads((out / "runs.log").read_text().splitlines()[-1])
        assert {"path": str(out / "explained_rows.jsonl"),
                "sha256": hashlib.sha256(got[-1][1]).hexdigest()} in log["outputs"]
    assert got[0] == got[1]
    rows = [json.loads(ln) for ln in got[0][1].decode().splitlines()]
    assert [r["id"] for r in rows] == list(df["case"])   # every escape reads back
    assert [r["row"] for r in rows] == list(range(6000))


@pytest.mark.heavy
def test_rows_file_auto_above_100000_rows(audit, root, tmp_path):
    """Without explain.rows_file ("auto"), more than 100,000 explained rows go to the file and
    up to 100,000 stay in results.json; rows_file false keeps them inline."""
    df = pd.read_csv(root / "datasets" / "credit_current.csv", keep_default_na=False)
    pd.concat([df] * 17).to_csv(tmp_path / "big.csv", index=False)   # 102,000 rows
    cases = [("auto_over", {"rows": 100001}, True), ("auto_at", {"rows": 100000}, False),
             ("forced_inline", {"rows": 100001, "rows_file": False}, False),
             ("auto_text", {"rows": 100001, "rows_file": "auto"}, True)]
    for name, explain, to_file in cases:
        spec = rows_spec(root, tmp_path, tmp_path / "big.csv", name + ".json", **explain)
        r = audit("run", spec, "--out", tmp_path / name, "--threads", 2)
        assert r.code in (0, 1), (name, r)
        ex = json.loads((tmp_path / name / "results.json").read_text())["explanations"]
        assert ("explained_rows_file" in ex) == to_file, name
        assert (tmp_path / name / "explained_rows.jsonl").exists() == to_file, name
        n = ex["explained_rows_file"]["rows"] if to_file else len(ex["explained_rows"])
        assert n == explain["rows"], name
        if to_file:
            assert len(ex["explained_rows"]) == 2   # the highest and the lowest output


def test_rows_file_spec_errors(audit, root, tmp_path):
    for explain, outputs, field in [({"rows_file": "yes"}, {}, "explain.rows_file"),
                                    ({"rows_file": 1}, {}, "explain.rows_file"),
                                    ({}, {"explained_rows": "a/b.jsonl"},
                                     "outputs.explained_rows"),
                                    ({}, {"explained_rows": "results.json"},
                                     "outputs.explained_rows")]:
        spec = rows_spec(root, tmp_path, root / "datasets" / "credit_current.csv", **explain)
        s = json.loads(spec.read_text())
        s["outputs"].update(outputs)
        spec.write_text(json.dumps(s))
        r = audit("run", spec, "--out", tmp_path / "o")
        assert r.code == 2 and field in r.err, (explain, outputs, r)
        assert not (tmp_path / "o").exists()


def test_rows_file_left_nowhere_on_failure(audit, root, tmp_path):
    """A run that fails after writing the rows file (its name is taken by a folder) leaves no
    file behind, temporary or final, and no results.json."""
    spec = rows_spec(root, tmp_path, root / "datasets" / "credit_current.csv", rows=3000,
                     rows_file=True)
    out = tmp_path / "o"
    (out / "explained_rows.jsonl").mkdir(parents=True)
    r = audit("run", spec, "--out", out)
    assert r.code == 3 or r.code == 2, r
    assert "explained_rows.jsonl" in r.err and "not a regular file" in r.err
    assert sorted(os.listdir(out)) == ["explained_rows.jsonl", "runs.log"]   # the log says why
    assert (out / "explained_rows.jsonl").is_dir()
    assert json.loads((out / "runs.log").read_text())["verdict"] == "error"


def test_demo_audit_of_144000_rows_same_bytes_at_1_and_3_threads(audit, root, tmp_path):
    """The demo audit on its current rows repeated 24 times (144,000 rows: 2 or 3 chunks of rows
    in every row pass - fairness's ranks and sweeps, the drivers' intersection cells, the
    trade-offs, drift's columns and the prediction drift split across threads): results.json is
    the same bytes at 1 and 3 threads."""
    df = pd.read_csv(root / "datasets" / "credit_current.csv", keep_default_na=False)
    spec = demo_spec(root, tmp_path, pd.concat([df] * 24, ignore_index=True), rows=100)
    texts = results_at_1_and_3_threads(audit, tmp_path, spec)
    assert texts[0] == texts[1]
    doc = json.loads(texts[0])
    data = next(x for x in doc["provenance"]["inputs"] if x["role"] == "data")
    assert data["rows"] == 144000
    assert [a["name"] for a in doc["fairness"]["intersections"]] == [
        "sex&race", "sex&age_band", "race&age_band", "sex&race&age_band"]
    assert "prediction_drift" in doc["drift"]
