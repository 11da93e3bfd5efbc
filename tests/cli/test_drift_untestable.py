"""A drift column that cannot be tested (no non-missing current value) has "drifted": null and an
"error"; `audit report` accepts the tool's own document (it rejected it: "expected true or
false") and the run's reports are written."""
import json

import numpy as np


def write(path, xs, ys):
    path.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(xs, ys)))


def test_untestable_column_reports(audit, tmp_path):
    rng = np.random.default_rng(3)
    write(tmp_path / "ref.csv", rng.normal(size=50), rng.normal(size=50))
    write(tmp_path / "cur.csv", [""] * 50, rng.normal(size=50))
    out = tmp_path / "d.json"
    r = audit("drift", "--reference", tmp_path / "ref.csv", "--current", tmp_path / "cur.csv",
              "--json", out)
    assert r.code == 0, r
    col = json.loads(out.read_text())["drift"]["columns"][0]
    assert col["name"] == "x" and col["drifted"] is None
    assert col["error"] == "no non-missing values in the current data"
    r = audit("report", out, "--pdf", tmp_path / "d.pdf", "--xlsx", tmp_path / "d.xlsx")
    assert r.code == 0, r
    assert (tmp_path / "d.pdf").stat().st_size > 0 and (tmp_path / "d.xlsx").stat().st_size > 0
    # a verdict that is missing without a reason is still refused
    doc = json.loads(out.read_text())
    del doc["drift"]["columns"][0]["error"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = audit("report", bad, "--pdf", tmp_path / "bad.pdf")
    assert r.code == 2 and "drifted" in r.err and not (tmp_path / "bad.pdf").exists()
