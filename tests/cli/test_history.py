"""Run history (SPEC section 8, issue 17): `audit run --history`, `audit history`, `audit history
import`. References: the results.json of each run (values equal exactly), Python's sqlite3
(integrity_check, schema), scipy.stats.kendalltau / theilslopes and a direct transcription of
the Mann-Kendall test (pymannkendall's original_test formulas) for the trend statistics."""
import hashlib
import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import BIN


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def scored(path, shift, seed, n=400):
    """A scored data set whose female selection rate falls as shift grows."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    x = rng.normal(0, 1, n)
    score = 1 / (1 + np.exp(-(x + (sex == "male") * 0.5 - (sex == "female") * shift)))
    label = (rng.random(n) < score).astype(int)
    pd.DataFrame({"x": x.round(6), "sex": sex, "score": score.round(6),
                  "label": label}).to_csv(path, index=False)


def write_spec(d, **over):
    spec = {"data": "cur.csv", "reference": "ref.csv", "label": "label", "score": "score",
            "threshold": 0.5, "sensitive": ["sex"],
            "checks": [{"metric": "disparate_impact", "min": 0.5},
                       {"metric": "auc", "min": 0.6},
                       {"metric": "drift_share", "max": 0.5}],
            "outputs": {"dir": "out", "json": "results.json", "log": "runs.jsonl"},
            "fairness": {"bootstrap": 0, "reference": {"sex": "male"}}, "seed": 3}
    spec.update(over)
    p = d / "spec.json"
    p.write_text(json.dumps(spec))
    return p


@pytest.fixture
def runs(tmp_path, audit):
    """Five runs with a falling female selection rate, recorded in tmp_path/h.db; returns the
    results documents in run order."""
    scored(tmp_path / "ref.csv", 0.0, 1)
    spec = write_spec(tmp_path)
    docs = []
    for k in range(5):
        scored(tmp_path / "cur.csv", 0.35 * k, 10 + k)
        r = audit("run", spec, "--quiet", "--history", tmp_path / "h.db",
                  "--created", f"2026-0{k + 1}-01T00:00:00Z", "--out", tmp_path / f"out{k}")
        assert r.code in (0, 1), r
        docs.append(json.loads((tmp_path / f"out{k}" / "results.json").read_text()))
    return tmp_path, docs


def key(c):
    return (c["metric"], c.get("attribute"), c.get("group"), c.get("column"))


@pytest.mark.valgrind
def test_history_values_equal_each_runs_results(runs, audit):
    d, docs = runs
    r = audit("history", d / "h.db", "--json")
    assert r.code == 0, r
    h = json.loads(r.out)
    assert [x["created"] for x in h["runs"]] == [doc["provenance"]["created"] for doc in docs]
    assert [x["verdict"] for x in h["runs"]] == [doc["verdict"] for doc in docs]
    assert all(isinstance(x["id"], int) for x in h["runs"])
    series = {key(c): c for c in h["checks"]}
    assert len(series) == len(docs[0]["checks"])
    for i, doc in enumerate(docs):
        for row in doc["checks"]:
            v = series[key(row)]["values"][i]
            assert v["run"] == h["runs"][i]["id"] and v["created"] == doc["provenance"]["created"]
            assert v["value"] == row["value"] and v["passed"] == row["passed"]   # exactly
    for c in h["checks"]:
        assert set(c) >= {"metric", "attribute", "group", "column", "values", "trend"}
        assert set(c["values"][0]) >= {"run", "value", "passed"}


def test_database_schema_and_rows(runs):
    d, docs = runs
    db = sqlite3.connect(d / "h.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = db.execute("SELECT id, created, verdict, n_checks, n_failed, spec_sha256, "
                      "results_sha256, source FROM runs ORDER BY id").fetchall()
    assert len(rows) == 5
    for (rid, created, verdict, n_checks, n_failed, spec_hash, res_hash, source), doc, k in \
            zip(rows, docs, range(5)):
        assert created == doc["provenance"]["created"] and verdict == doc["verdict"]
        assert n_checks == len(doc["checks"]) and source == "run"
        assert n_failed == sum(not c["passed"] for c in doc["checks"])
        assert spec_hash == doc["provenance"]["inputs"][0]["sha256"]
        assert res_hash == sha256(d / f"out{k}" / "results.json")
        got = db.execute("SELECT metric, value, passed FROM checks WHERE run_id = ? ORDER BY seq",
                         (rid,)).fetchall()
        assert got == [(c["metric"], c["value"], int(c["passed"])) for c in doc["checks"]]
        groups = {(a["name"], g["group"]): g for a in doc["fairness"]["attributes"]
                  for g in a["groups"]}
        got = db.execute("SELECT attribute, grp, count, selected, tp FROM groups WHERE run_id = ?",
                         (rid,)).fetchall()
        assert {(a, g): (n, s, tp) for a, g, n, s, tp in got} == \
            {k2: (g["count"], g["selected"], g["tp"]) for k2, g in groups.items()}
        rate = db.execute("SELECT value, ci_low, ci_high FROM group_rates WHERE run_id = ? AND "
                          "attribute = 'sex' AND grp = 'female' AND rate = 'selection_rate'",
                          (rid,)).fetchone()
        g = groups[("sex", "female")]
        assert rate == (g["selection_rate"], *g["selection_rate_ci"])
        drift = dict(db.execute("SELECT column_name, statistic FROM drift WHERE run_id = ?",
                                (rid,)).fetchall())
        for c in doc["drift"]["columns"]:
            assert drift[c["name"]] == c["statistic"]
        auc = db.execute("SELECT auc FROM performance WHERE run_id = ? AND attribute = ''",
                         (rid,)).fetchone()[0]
        assert auc == doc["performance"]["overall"]["auc"]


def test_trends_in_results_and_worsening(runs, audit):
    d, docs = runs
    t = docs[-1]["trends"]
    assert t["last_runs"] == 12 and len(t["runs"]) == 5
    assert t["runs"][-1]["id"] is None and t["runs"][-1]["current"] is True
    di = next(c for c in t["checks"] if c["metric"] == "disparate_impact")
    vals = [v["value"] for v in di["values"]]
    assert vals == [next(c for c in doc["checks"] if c["metric"] == "disparate_impact")["value"]
                    for doc in docs]
    assert all(b < a for a, b in zip(vals, vals[1:])), vals   # the fixture's design
    assert di["bound"] == {"min": 0.5}
    assert di["trend"]["direction"] == "decreasing" and di["trend"]["worsening"] is True
    assert di["trend"]["worse_each_of_last_k"] is True
    assert "worse in each of the last 3 runs" in di["trend"]["statement"]
    r = audit("history", d / "h.db", "--check", "disparate_impact", "--k", "5", "--json")
    (c,) = json.loads(r.out)["checks"]
    assert c["trend"]["worse_each_of_last_k"] is False   # needs 6 values
    r = audit("history", d / "h.db", "--check", "disparate_impact")
    assert r.code == 0 and "worsening, decreasing" in r.out, r


def test_filters_since_runs_and_csv(runs, audit):
    d, docs = runs
    r = audit("history", d / "h.db", "--since", "2026-03-01", "--check", "auc", "--json")
    h = json.loads(r.out)
    assert [x["created"][:7] for x in h["runs"]] == ["2026-03", "2026-04", "2026-05"]
    assert [c["metric"] for c in h["checks"]] == ["auc"]
    r = audit("history", d / "h.db", "--runs", "2", "--json")
    assert len(json.loads(r.out)["runs"]) == 2
    r = audit("history", d / "h.db", "--csv", "--attribute", "sex", "--group", "female")
    assert r.code == 0, r
    import io
    df = pd.read_csv(io.StringIO(r.out), float_precision="round_trip")
    assert set(df["metric"]) == {"disparate_impact"} and len(df) == 5
    assert list(df["value"]) == [next(c for c in doc["checks"] if c["metric"] ==
                                      "disparate_impact")["value"] for doc in docs]
    assert list(df["min"]) == [0.5] * 5


# ---- trend statistics against scipy ----------------------------------------------------------

def mann_kendall(y):
    """pymannkendall.original_test's formulas: S, tie-corrected Var(S), continuity-corrected Z,
    two-sided normal p."""
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n))
    _, t = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18
    z = (s - np.sign(s)) / math.sqrt(var) if var > 0 else 0.0
    return s, var, z, 2 * stats.norm.sf(abs(z))


def write_log(d, docs):
    """Each results document as d/r{k}.json and a run log d/runs.jsonl naming it."""
    lines = []
    for k, doc in enumerate(docs):
        p = d / f"r{k}.json"
        p.write_text(json.dumps(doc))
        lines.append(json.dumps({"time": doc["provenance"]["created"], "spec": "s.json",
                                 "verdict": "pass", "failed_checks": 0,
                                 "outputs": [{"path": str(p), "sha256": sha256(p)}]}))
    (d / "runs.jsonl").write_text("\n".join(lines) + "\n")


def write_synthetic_log(d, series_list):
    """Runs whose only check rows are the given series, as results.json files and a run log."""
    write_log(d, [{"schema_version": "1",
                   "provenance": {"created": f"2025-01-01T00:{k // 60:02d}:{k % 60:02d}Z",
                                  "inputs": [{"role": "spec", "path": "s.json",
                                              "sha256": "0" * 64}]},
                   "checks": [{"metric": "auc", "attribute": "a", "group": f"g{j}",
                               "value": s[k], "min": 0.5, "passed": bool(s[k] >= 0.5)}
                              for j, s in enumerate(series_list)],
                   "verdict": "pass"} for k in range(len(series_list[0]))])


def test_trend_statistics_match_scipy(tmp_path, audit):
    rng = np.random.default_rng(5)
    series = [list(rng.normal(0, 1, 15)),                       # no trend
              list(np.arange(15) * 0.02 + rng.normal(0, 0.05, 15)),   # rising
              list(np.round(rng.normal(0, 1, 15), 0)),          # many ties
              list(np.round(np.arange(15) * -0.3 + rng.normal(0, 1, 15), 1))]
    write_synthetic_log(tmp_path, series)
    r = audit("history", "import", tmp_path / "runs.jsonl", "--db", tmp_path / "h.db")
    assert r.code == 0 and "imported 15 runs in full" in r.err, r
    h = json.loads(audit("history", tmp_path / "h.db", "--json").out)
    assert len(h["checks"]) == 4
    x = np.arange(1, 16)
    for c, y in zip(h["checks"], series):
        t = c["trend"]
        assert [v["value"] for v in c["values"]] == y
        s, var, z, p = mann_kendall(np.array(y))
        assert t["s"] == s and t["var_s"] == pytest.approx(var, rel=1e-12)
        assert t["z"] == pytest.approx(z, rel=1e-12)
        assert t["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-15)
        tau, _ = stats.kendalltau(x, y)
        assert t["tau"] == pytest.approx(tau, rel=1e-12)
        # scipy's own Kendall S (tau-b times its denominator) equals ours
        _, cnt = np.unique(y, return_counts=True)
        n0 = 15 * 14 / 2
        assert tau * math.sqrt(n0 * (n0 - np.sum(cnt * (cnt - 1) / 2))) == pytest.approx(s)
        ts = stats.theilslopes(y, x, alpha=0.95)
        assert t["sen_slope"] == pytest.approx(ts[0], rel=1e-12, abs=1e-15)
        assert t["sen_slope_interval"] == pytest.approx([ts[2], ts[3]], rel=1e-12, abs=1e-15)
        expect = "increasing" if p < 0.05 and s > 0 else "decreasing" if p < 0.05 else "none"
        assert t["direction"] == expect
    assert [c["trend"]["direction"] for c in h["checks"]][1:4:2] == ["increasing", "decreasing"]


@pytest.mark.valgrind
def test_import_is_idempotent_and_takes_log_only_lines(tmp_path, audit):
    write_synthetic_log(tmp_path, [[0.9, 0.8, 0.7]])
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    (tmp_path / "r1.json").write_text("{}")   # changed since: the line alone is imported
    lines.append(json.dumps({"time": "2025-02-01T00:00:00Z", "spec": "s.json",
                             "verdict": "error", "exit_code": 2, "error": "x"}))
    (tmp_path / "runs.jsonl").write_text("\n".join(lines) + "\n")
    r = audit("history", "import", tmp_path / "runs.jsonl", "--db", tmp_path / "h.db")
    assert r.code == 0, r
    assert "imported 2 runs in full, 1 from the log line alone; 0 already present, " \
           "1 error runs skipped" in r.err
    r = audit("history", "import", tmp_path / "runs.jsonl", "--db", tmp_path / "h.db")
    assert "imported 0 runs in full, 0 from the log line alone; 3 already present" in r.err
    h = json.loads(audit("history", tmp_path / "h.db", "--json").out)
    assert len(h["runs"]) == 3
    assert [v["value"] for v in h["checks"][0]["values"]] == [0.9, 0.7]


def test_run_log_of_audit_run_imports_into_the_same_runs(runs, audit):
    d, docs = runs
    # every run was logged to out{k}/runs.jsonl and recorded: importing adds nothing
    for k in range(5):
        r = audit("history", "import", d / f"out{k}" / "runs.jsonl", "--db", d / "h.db")
        assert r.code == 0 and "1 already present" in r.err, r
    r = audit("history", "import", d / "out0" / "runs.jsonl", "--db", d / "new.db")
    assert "imported 1 runs in full" in r.err, r
    db = sqlite3.connect(d / "new.db")
    assert db.execute("SELECT count(*) FROM checks").fetchone()[0] == len(docs[0]["checks"])


@pytest.mark.parametrize("make,args,msg", [
    (lambda p: p.write_text("not a database at all, just text" * 100), [],
     "file is not a database"),
    (lambda p: sqlite3.connect(p).execute("PRAGMA user_version = 99"), [],
     "schema version 99; this audit reads up to 1"),
    (None, [], "cannot open the history database"),
    (lambda p: sqlite3.connect(p), ["--since", "2026-13"], "--since expects"),
    (lambda p: sqlite3.connect(p), ["--json", "--csv"], "not both"),
])
def test_history_errors(tmp_path, audit, make, args, msg):
    p = tmp_path / "h.db"
    if make is not None:
        make(p)
    r = audit("history", p, *args)
    assert r.code == 2 and msg in r.err, r
    if make is not None and not args:
        assert str(p) in r.err


def test_bad_run_log_imports_nothing(tmp_path, audit):
    write_synthetic_log(tmp_path, [[0.9, 0.8]])
    with open(tmp_path / "runs.jsonl", "a") as f:
        f.write('{"time": "2025-01-01T00:00:00Z", "verdict": "maybe"}\n')
    r = audit("history", "import", tmp_path / "runs.jsonl", "--db", tmp_path / "h.db")
    assert r.code == 2 and "runs.jsonl:3:" in r.err and "not a run-log line" in r.err, r
    assert sqlite3.connect(tmp_path / "h.db").execute("SELECT count(*) FROM runs").fetchone() \
        == (0,)


def test_run_with_a_foreign_history_file_fails_before_work(tmp_path, audit):
    scored(tmp_path / "ref.csv", 0.0, 1)
    scored(tmp_path / "cur.csv", 0.0, 2)
    spec = write_spec(tmp_path, history="h.db")
    (tmp_path / "h.db").write_text("x" * 5000)
    r = audit("run", spec)
    assert r.code == 2 and "h.db" in r.err and "not a database" in r.err, r
    assert not (tmp_path / "out" / "results.json").exists()
    (tmp_path / "h.db").unlink()
    r = audit("run", spec, "--quiet")   # spec key "history", relative to the spec's folder
    assert r.code in (0, 1), r
    assert sqlite3.connect(tmp_path / "h.db").execute("SELECT count(*) FROM runs").fetchone() \
        == (1,)


# ---- concurrency and kill -9 -----------------------------------------------------------------

def consistent(db_path):
    """integrity_check passes and every recorded run is complete (all its check rows)."""
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if db.execute("PRAGMA user_version").fetchone()[0] == 0:   # killed before the schema
        assert tables == set()
        return 0
    assert {"runs", "inputs", "checks", "groups", "group_rates", "drift",
            "performance"} <= tables
    bad = db.execute("SELECT r.id FROM runs r WHERE r.source != 'log' AND r.n_checks != "
                     "(SELECT count(*) FROM checks c WHERE c.run_id = r.id)").fetchall()
    assert bad == []
    bad = db.execute("SELECT r.id FROM runs r WHERE r.source = 'run' AND NOT EXISTS "
                     "(SELECT 1 FROM performance p WHERE p.run_id = r.id)").fetchall()
    assert bad == []
    return db.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_switch_to_wal_waits_for_another_writer(tmp_path):
    """A new database whose first writer holds its RESERVED lock (another run creating it):
    SQLite answers the switch to WAL with SQLITE_BUSY at once, without the busy handler (it
    would deadlock), so the run tries again until the other writer is done, and lands. It
    failed with "cannot switch to WAL: database is locked" before (1 of 6 concurrent runs of
    test_concurrent_runs_all_land once did)."""
    scored(tmp_path / "ref.csv", 0.0, 1)
    scored(tmp_path / "cur.csv", 0.1, 2)
    spec = write_spec(tmp_path)
    db = tmp_path / "h.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    p = subprocess.Popen([BIN, "-q", "run", str(spec), "--history", str(db), "--out",
                          str(tmp_path / "o")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert p.poll() is None, p.communicate()[1]   # waiting, not failed
    other.execute("COMMIT")
    other.close()
    _, err = p.communicate(timeout=120)
    assert p.returncode in (0, 1), err
    assert consistent(db) == 1


@pytest.mark.slow
def test_concurrent_runs_all_land(tmp_path):
    scored(tmp_path / "ref.csv", 0.0, 1)
    scored(tmp_path / "cur.csv", 0.1, 2)
    spec = write_spec(tmp_path)
    procs = [subprocess.Popen([BIN, "-q", "run", str(spec), "--history", str(tmp_path / "h.db"),
                               "--out", str(tmp_path / f"o{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode in (0, 1), err
    assert consistent(tmp_path / "h.db") == 6


@pytest.mark.slow
@pytest.mark.heavy
def test_kill_9_leaves_the_database_with_or_without_each_run(tmp_path):
    """Kill imports of 40 runs (one transaction each) and full audit runs at random moments."""
    rng = np.random.default_rng(11)
    write_synthetic_log(tmp_path, [list(rng.normal(0, 1, 40)) for _ in range(30)])
    scored(tmp_path / "ref.csv", 0.0, 1)
    scored(tmp_path / "cur.csv", 0.1, 2)
    spec = write_spec(tmp_path)
    db = tmp_path / "h.db"
    rand = random.Random(3)
    partial = 0
    for i in range(40):
        if i % 2:
            cmd = [BIN, "-q", "history", "import", str(tmp_path / "runs.jsonl"), "--db", str(db)]
        else:
            cmd = [BIN, "-q", "run", str(spec), "--history", str(db), "--out",
                   str(tmp_path / "o")]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the window widens so that later kills also land after commits on a slow (loaded or
        # sanitized) machine
        time.sleep(rand.uniform(0.0, 0.25 + 0.05 * i))
        p.send_signal(signal.SIGKILL)
        p.wait()
        if db.exists():
            n = consistent(db)
            partial += 0 < n
    n = consistent(db)
    assert partial > 0 and n > 0
    # after the kills, the store still takes runs and reads them
    r = subprocess.run([BIN, "history", "import", str(tmp_path / "runs.jsonl"), "--db", str(db)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert consistent(db) >= 40


# ---- reports ---------------------------------------------------------------------------------

def test_reports_show_trends(runs, audit):
    import openpyxl
    d, docs = runs
    spec = d / "spec.json"
    s = json.loads(spec.read_text())
    s["outputs"].update({"pdf": "report.pdf", "xlsx": "report.xlsx"})
    spec.write_text(json.dumps(s))
    r = audit("run", spec, "--quiet", "--history", d / "h.db", "--out", d / "rep",
              "--created", "2026-06-01T00:00:00Z")
    assert r.code in (0, 1), r
    doc = json.loads((d / "rep" / "results.json").read_text())
    t = doc["trends"]
    assert len(t["runs"]) == 6
    text = subprocess.run(["pdftotext", "-layout", str(d / "rep" / "report.pdf"), "-"],
                          capture_output=True, text=True).stdout
    assert "Trends" in text and "last 6 audit runs" in text
    for c in t["checks"]:
        assert c["trend"]["statement"].split(":")[0] in text
    wb = openpyxl.load_workbook(d / "rep" / "report.xlsx")
    ws = wb["Trends"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][5:11] == tuple(x["created"][:10] for x in t["runs"][:-1]) + \
        ("2026-06-01 (this run)",)
    value_rows = [r for r in rows[1:] if r[4] == "value"]
    assert len(value_rows) == len(t["checks"])
    for row, c in zip(value_rows, t["checks"]):
        assert row[0] == c["metric"]   # libxlsxwriter writes %.16g
        assert list(row[5:11]) == pytest.approx([v["value"] for v in c["values"]], rel=1e-15)
        assert row[-1] == c["trend"]["statement"]
    bound_rows = [r for r in rows[1:] if r[4] in ("min", "max")]
    assert len(bound_rows) == len(t["checks"])
    assert len(ws._charts) == len(t["checks"])
    # without a history there is neither section nor sheet
    r = audit("run", spec, "--quiet", "--out", d / "plain")
    assert "Trends" not in openpyxl.load_workbook(d / "plain" / "report.xlsx").sheetnames
    assert "trends" not in json.loads((d / "plain" / "results.json").read_text())


def test_report_command_renders_and_checks_trends(runs, audit, tmp_path):
    d, docs = runs
    res = d / "out4" / "results.json"
    r = audit("report", res, "--pdf", tmp_path / "r.pdf", "--xlsx", tmp_path / "r.xlsx")
    assert r.code == 0, r
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                          text=True).stdout
    assert "Trends" in text
    doc = json.loads(res.read_text())
    doc["trends"]["runs"][0]["id"] = "one"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = audit("report", bad, "--pdf", tmp_path / "b.pdf")
    assert r.code == 2 and "trends.runs[0].id" in r.err, r
    doc = json.loads(res.read_text())
    doc["trends"]["checks"][0]["values"][0]["passed"] = "yes"
    bad.write_text(json.dumps(doc))
    r = audit("report", bad, "--xlsx", tmp_path / "b.xlsx")
    assert r.code == 2 and "trends.checks[0].values[0].passed" in r.err, r
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "b.xlsx").exists()


def test_sustained_worsening_of_a_passing_check_is_a_finding(tmp_path, audit):
    scored(tmp_path / "ref.csv", 0.0, 1)
    scored(tmp_path / "cur.csv", 0.2, 2)
    spec = write_spec(tmp_path, checks=[{"metric": "disparate_impact", "min": 0.1},
                                        {"metric": "auc", "min": 0.1}])
    r = audit("run", spec, "--quiet", "--out", tmp_path / "first")
    assert r.code == 0, r
    doc = json.loads((tmp_path / "first" / "results.json").read_text())
    di = next(c for c in doc["checks"] if c["metric"] == "disparate_impact")
    auc = next(c for c in doc["checks"] if c["metric"] == "auc")
    # an earlier history: disparate impact falling into this run's value, AUC flat
    history = []
    for k in range(5):
        d = json.loads(json.dumps(doc))
        d["provenance"]["created"] = f"2025-0{k + 1}-01T00:00:00Z"
        for c in d["checks"]:
            c["value"] = di["value"] + 0.05 * (5 - k) if c["metric"] == "disparate_impact" \
                else auc["value"]
        history.append(d)
    write_log(tmp_path, history)
    assert audit("history", "import", tmp_path / "runs.jsonl", "--db", tmp_path / "h.db").code == 0
    r = audit("run", spec, "--quiet", "--history", tmp_path / "h.db", "--out", tmp_path / "now")
    assert r.code == 0, r   # every check passes
    doc = json.loads((tmp_path / "now" / "results.json").read_text())
    trend_findings = [f for f in doc["findings"] if "trend" in f]
    (f,) = trend_findings   # AUC is flat: no finding
    assert f["severity"] == "warn" and f["kind"] == "fairness" and f["check_passed"] is True
    assert (f["metric"], f["attribute"], f["group"]) == ("disparate_impact", "sex", "female")
    assert f["value"] == di["value"] and f["bound"] == {"min": 0.1}
    assert f["trend"]["worse_each_of_last_k"] is True and f["trend"]["worsening"] is True
    assert "passes this run" in f["sentence"] and "each of the last 3 runs" in f["sentence"]
    assert f["id"] == f"F{len(doc['findings'])}"
