"""--verbose stage timings (issue 19 items 2 and 4) and the CSV outputs of predict and explain,
whose rows are formatted on several threads: the same bytes at --threads 1, 2 and 3."""
import json
import re

import pytest

DATA = "datasets/credit_current.csv"   # 6000 rows: three blocks of 2048 rows or more
MODEL = "datasets/credit_xgb.json"
STAGE = re.compile(r"^audit: (.+?) +([0-9.]+) s  cpu +([0-9.]+) s  serial +([0-9.]+) s$")


def stages(err):
    """{stage: (wall, cpu, serial)} of a --verbose stderr, and its summary lines."""
    out = {}
    for line in err.splitlines():
        m = STAGE.match(line)
        if m:
            out[m.group(1)] = tuple(float(v) for v in m.groups()[1:])
    return out


def check_summary(err, st):
    assert "total" in st, err
    wall, cpu, serial = st["total"]
    assert 0 <= serial <= cpu + 1e-3, err
    m = re.search(r"^audit: serial share +([0-9.]+)% of the CPU time .*Amdahl speed-up at 16 "
                  r"threads <= ([0-9.]+)x$", err, re.M)
    assert m, err
    assert 1.0 <= float(m.group(2)) <= 16.0
    # the threads beside the main one: their CPU and the longest of them (what bounds the rest;
    # how it is counted: tests/unit/test_parallel.c)
    assert re.search(r"other threads [0-9.]+ s, the longest [0-9.]+ s\)", err), err
    # runs of units: their CPU and their time on 16 workers, at least a 16th of it (how it is
    # computed: tests/unit/test_parallel.c)
    m = re.search(r"parallel jobs ([0-9.]+) s, of them units ([0-9.]+) s taking ([0-9.]+) s on "
                  r"16 threads;", err)
    assert m, err
    jobs, units, t16 = (float(v) for v in m.groups())
    assert units <= jobs + 1e-3 and units / 16 - 1e-3 <= t16 <= units + 1e-3, err
    m = re.search(r"^audit: peak memory +([0-9.]+) MiB$", err, re.M)
    assert m and float(m.group(1)) > 1, err


@pytest.mark.parametrize("cmd", ["predict", "explain"])
def test_csv_output_same_bytes_at_1_2_3_threads(audit, cmd):
    # explain: 4500 rows, three blocks (two rounds at 2 threads)
    extra = ["--values", "--id", "zip_region", "--rows", "4500"] if cmd == "explain" else []
    outs = []
    for t in (1, 2, 3):
        r = audit(cmd, "--model", MODEL, "--data", DATA, "--threads", t, *extra)
        assert r.code == 0, r
        outs.append(r.out)
    assert outs[0].count("\n") == (4501 if cmd == "explain" else 6001)
    assert outs[0] == outs[1] == outs[2]


def test_commands_verbose_stages(audit, tmp_path):
    # the model is parsed on a thread of its own while the CSV is read: one stage
    want = {"predict": ["load model + read CSV", "predict", "write"],
            "explain": ["load model + read CSV", "prepare", "explain", "write"],
            "profile": ["read CSV", "profile", "write"]}
    for cmd, names in want.items():
        args = ["--data", DATA, "--verbose", "--threads", "2"]
        if cmd != "profile":
            args += ["--model", MODEL, "--out", tmp_path / "o.csv"]
        r = audit(cmd, *args)
        assert r.code == 0, r
        st = stages(r.err)
        assert list(st) == names + ["total"], r.err
        check_summary(r.err, st)
    r = audit("drift", "--reference", "datasets/credit_reference.csv", "--current", DATA,
              "--verbose")
    assert r.code == 0, r
    assert list(stages(r.err)) == ["read CSV", "drift", "write", "total"], r.err
    r = audit("fairness", "--data", DATA, "--sensitive", "sex", "--label", "default",
              "--model", MODEL, "--threshold", "0.5", "--json", tmp_path / "f.json",
              "--verbose")
    assert r.code == 0, r
    assert list(stages(r.err)) == ["load model + read CSV", "fairness+drivers", "write",
                                   "total"], r.err


def test_run_verbose_sections(audit, root, tmp_path):
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["explain"] = {"rows": 200}
    spec["fairness"] = {"bootstrap": 50}
    spec["global"] = {"rows": 100, "repeats": 1}
    spec["outputs"] = {"dir": str(tmp_path), "json": "results.json", "pdf": "report.pdf",
                       "xlsx": "report.xlsx"}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json", "--verbose")
    assert r.code in (0, 1), r
    st = stages(r.err)
    assert list(st) == ["spec", "load data", "load reference", "load model", "provenance", "profile",
                        "predictions", "explanations", "fairness", "drivers", "drift",
                        "performance", "global", "checks", "results.json", "reports",
                        "writes", "total"], r.err
    # the PDF and the XLSX are written side by side (audit/run.c write_reports): their thread
    # is one of the threads beside the main one
    m = re.search(r"other threads ([0-9.]+) s, the longest ([0-9.]+) s\)", r.err)
    assert m and float(m.group(2)) > 0, r.err
    check_summary(r.err, st)
    # the stages cover the run: their wall times add up to the total's
    assert sum(v[0] for k, v in st.items() if k != "total") == pytest.approx(st["total"][0],
                                                                              abs=0.02)



def test_page_size_choice_is_reported_and_changes_no_figure(audit, tmp_path):
    """Large arrays go in huge pages or not (core/aud.h aud_huge_pages; the machine decides
    unless AUDIT_HUGE_PAGES says 0 or 1): --verbose says which, and the figures are the same.
    600,000 rows make fairness's arrays of every row (codes, ranks) 2.3 MiB and more, the size
    from which the choice applies; --created fixes the one field that would differ."""
    import numpy as np
    rng = np.random.default_rng(7)
    n = 600_000
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])
    score = np.round(rng.random(n), 4)
    label = (rng.random(n) < score).astype(int)
    data = tmp_path / "fair.csv"
    with open(data, "w") as f:
        f.write("sex,race,label,score\n")
        f.writelines("%s,%s,%d,%.4f\n" % r for r in zip(sex, race, label, score))
    docs = []
    for setting, words in (("0", "in 4 KiB pages (AUDIT_HUGE_PAGES)"),
                           ("1", "in transparent huge pages (AUDIT_HUGE_PAGES)")):
        out = tmp_path / ("out%s.json" % setting)
        r = audit("fairness", "--data", data, "--sensitive", "sex,race", "--score", "score",
                  "--threshold", "0.5", "--label", "label", "--bootstrap", "20", "--json", out,
                  "--created", "2026-01-01T00:00:00Z", "--threads", "2", "--verbose",
                  env={"AUDIT_HUGE_PAGES": setting})
        assert r.code == 0, r
        assert "audit: large arrays     " + words in r.err, r.err
        docs.append(out.read_bytes())
    assert docs[0] == docs[1]
