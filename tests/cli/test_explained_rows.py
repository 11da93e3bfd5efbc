"""explanations.explained_rows of `audit run` (issues 18 and 19): the rows are formatted as JSON
text on threads, in chunks of rows joined in row order (audit/run_rows.c), and results.json is
written around that text. The same bytes at any thread count, valid JSON whose strings read back
as the data's (escapes written as cJSON writes them), the rows in data order."""
import json

import numpy as np
import pandas as pd
import pytest

CREATED = "2026-01-02T03:04:05Z"
# texts for explain.id that need JSON escapes: quote, backslash, tab, control bytes, and UTF-8
IDS = ['plain', 'quote " in', 'back\\slash', 'tab\there', 'ctl\x01\x1fend', 'Z\u00fcrich /',
       'cr\rlf']


@pytest.fixture
def many_rows(root, tmp_path):
    """The demo audit with every one of its 6000 rows explained, two of them asked for by
    explain.show_rows, and an explain.id column of texts that need escapes."""
    df = pd.read_csv(root / "datasets" / "credit_current.csv", keep_default_na=False)
    df["case"] = [f"{IDS[i % len(IDS)]} {i}" for i in range(len(df))]
    df.to_csv(tmp_path / "cur.csv", index=False)
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["data"] = str(tmp_path / "cur.csv")
    spec["explain"] = dict(spec["explain"], rows=6000, show_rows=[17, 4321], id="case")
    spec["outputs"] = {"json": "results.json"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    return p, df


def test_results_same_bytes_at_1_and_3_threads(audit, tmp_path, many_rows):
    spec, df = many_rows
    texts = []
    for t in (1, 3):
        out = tmp_path / f"out{t}"
        r = audit("run", spec, "--out", out, "--threads", t, "--created", CREATED)
        assert r.code in (0, 1), r
        texts.append((out / "results.json").read_bytes())
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
