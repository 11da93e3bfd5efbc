"""`--model-cmd`: a model behind a program (models/model_cmd_int.h, docs/model-formats.md). Checked
against scikit-learn's predict_proba run in this process (tolerance 1e-12), and every failure of
the program (cannot start, exits, stalls, wrong line count, non-number) is a located exit 2.
The default protocol is the SPEC's (section 2): the program is started per batch and reads its
stdin to end of file; `--model-protocol session` keeps one program running (empty-line batch
separator)."""
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER = ROOT / "docs" / "examples" / "model_server.py"
PY = "/usr/bin/python3"


@pytest.fixture
def fitted(tmp_path):
    sk = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(3)
    n = 2500
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "c": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (df.a - 0.5 * df.b + rng.normal(size=n) > 0).astype(int)
    model = sk.LogisticRegression().fit(df[["a", "b", "c"]].to_numpy(), y)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    df.to_csv(tmp_path / "d.csv", index=False)
    return model, df


def read_pred(path):
    return pd.read_csv(path, float_precision="round_trip")


def test_predict_matches_sklearn(audit, tmp_path, fitted):
    model, df = fitted
    out = tmp_path / "p.csv"
    r = audit("predict", "--model-cmd", f"{PY} {SERVER} {tmp_path / 'm.pkl'}",
              "--features", "a,b,c", "--model-batch", "700", "--data",
              tmp_path / "d.csv", "--out", out)
    assert r.code == 0, r
    assert "4 model command call(s), 2500 rows" in r.err, r
    got = read_pred(out)["prediction"].to_numpy()
    want = model.predict_proba(df[["a", "b", "c"]].to_numpy())[:, 1]
    assert np.max(np.abs(got - want)) <= 1e-12


def test_multiclass_columns(audit, tmp_path):
    sk = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = np.digitize(df.a + df.b, [-0.7, 0.7])
    model = sk.LogisticRegression().fit(df.to_numpy(), y)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    df.to_csv(tmp_path / "d.csv", index=False)
    r = audit("predict", "--model-cmd", f"{PY} {SERVER} {tmp_path / 'm.pkl'}",
              "--data", tmp_path / "d.csv", "--out", tmp_path / "p.csv")
    assert r.code == 0, r
    got = read_pred(tmp_path / "p.csv")
    assert list(got.columns) == ["prediction@0", "prediction@1", "prediction@2"]
    assert np.max(np.abs(got.to_numpy() - model.predict_proba(df.to_numpy()))) <= 1e-12


def test_train_on_the_fly(audit, tmp_path):
    sk = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    df["y"] = (df.a > 0).astype(int)
    df.to_csv(tmp_path / "train.csv", index=False)
    df[["a", "b"]].to_csv(tmp_path / "d.csv", index=False)
    model = sk.LogisticRegression(max_iter=1000).fit(df[["a", "b"]].to_numpy(float), df.y)
    r = audit("predict", "--model-cmd",
              f"{PY} {SERVER} --train {tmp_path / 'train.csv'} y",
              "--data", tmp_path / "d.csv", "--out", tmp_path / "p.csv")
    assert r.code == 0, r
    got = read_pred(tmp_path / "p.csv")["prediction"].to_numpy()
    assert np.max(np.abs(got - model.predict_proba(df[["a", "b"]].to_numpy())[:, 1])) <= 1e-12


def bad(audit, tmp_path, program, *needles, extra=()):
    script = tmp_path / "prog.py"
    script.write_text(program)
    pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0)}).to_csv(tmp_path / "d.csv",
                                                                       index=False)
    out = tmp_path / "p.csv"
    t0 = time.monotonic()
    r = audit("predict", "--model-cmd", f"{PY} {script}", "--data", tmp_path / "d.csv",
              "--out", out, "--model-batch", "4", *extra)
    assert r.code == 2, r
    assert r.err.startswith("audit: ") and PY in r.err, r
    for n in needles:
        assert n in r.err, r
    assert not out.exists()
    return r, time.monotonic() - t0


# A SPEC program (reads its batch to end of file) that counts its runs in a file next to it and
# answers batch 1 right; from batch 2 on it does {on_batch} (rows: the batch's data rows).
ECHO = """import os, sys, time
lines = sys.stdin.read().splitlines()
rows = len(lines) - 1
cnt = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs")
n = int(open(cnt).read()) + 1 if os.path.exists(cnt) else 1
open(cnt, "w").write(str(n))
if n == 1:
    print("0.5\\n" * rows, end="")
else:
    {on_batch}
"""


def test_program_exits_early(audit, tmp_path):
    bad(audit, tmp_path, "import sys\nsys.stdin.readline()\nsys.exit(3)\n",
        "exited with status 3", "batch 1")


def test_program_stalls(audit, tmp_path):
    r, took = bad(audit, tmp_path, "import time\ntime.sleep(60)\n", "stalled", "batch 1",
                  "within 1 s", extra=("--model-timeout", "1"))
    assert took < 20


@pytest.mark.parametrize("how,needles", [
    ("sys.exit(3)", ("exited with status 3 after 0 of 4 answer lines of batch 2 (data rows 4-7)",)),
    ("print('0.5\\n' * rows, end=''); sys.exit(4)",
     ("exited with status 4 after answering batch 2 (data rows 4-7)",)),
    ("print('0.5\\n' * (rows - 1), end='')",
     ("exited with status 0 after 3 of 4 answer lines of batch 2 (data rows 4-7)",)),
    ("print('0.5\\n' * (rows + 1), end='')", ("more than the 4 lines of batch 2",)),
    ("print('0.5\\n0.5\\nyes\\n0.5')", ("answer line 3 of batch 2 (data row 6 (CSV line 8))", '"yes"')),
    ("print('0.5\\n0.5\\nnan\\n0.5')", ("answer line 3 of batch 2",)),
    ("print('0.5\\n0.5', flush=True); time.sleep(60)",
     ("stalled", "batch 2 (data rows 4-7) within 1 s (2 of 4 lines read)")),
    ("sys.stdout.write('0.5\\n' * rows); sys.stdout.flush(); os.close(1); time.sleep(60)",
     ("stalled", "did not exit within 1 s of batch 2")),
])
def test_batch_two_fails(audit, tmp_path, how, needles):
    """Every failure of the program's second run is a located exit 2, no output file; a stalled
    program is killed at the timeout."""
    r, took = bad(audit, tmp_path, ECHO.replace("{on_batch}", how), *needles,
                  extra=("--model-timeout", "1"))
    assert took < 20


def test_last_line_without_newline(audit, tmp_path):
    """The SPEC reads to end of file: a last answer line without its newline counts."""
    prog = tmp_path / "prog.py"
    prog.write_text("import sys\nn = len(sys.stdin.read().splitlines()) - 1\n"
                    "sys.stdout.write('\\n'.join(['0.25'] * n))\n")
    pd.DataFrame({"a": np.arange(10.0)}).to_csv(tmp_path / "d.csv", index=False)
    r = audit("predict", "--model-cmd", f"{PY} {prog}", "--data", tmp_path / "d.csv",
              "--model-batch", "4", "--out", tmp_path / "p.csv")
    assert r.code == 0 and "3 model command call(s), 10 rows" in r.err, r
    assert (read_pred(tmp_path / "p.csv")["prediction"] == 0.25).all()


# The session protocol: one run, batches end with an empty line.
SESSION = """import sys
rows = 0
for line in sys.stdin:
    line = line.strip()
    if line == "":
        {on_batch}
        rows = 0
    elif not line.startswith("a,"):
        rows += 1
"""


def test_session_protocol(audit, tmp_path, fitted):
    """--model-protocol session: the server started once (--session) gives the same predictions;
    a session program's errors stay located; a SPEC program (waits for end of file) under the
    session protocol stalls with a located error, and a session program under the default batch
    protocol fails (it answers nothing)."""
    model, df = fitted
    out = tmp_path / "ok.csv"
    r = audit("predict", "--model-cmd", f"{PY} {SERVER} --session {tmp_path / 'm.pkl'}",
              "--model-protocol", "session", "--features", "a,b,c", "--model-batch", "700",
              "--data", tmp_path / "d.csv", "--out", out)
    assert r.code == 0 and "4 model command call(s), 2500 rows" in r.err, r
    got = read_pred(out)["prediction"].to_numpy()
    assert np.max(np.abs(got - model.predict_proba(df[["a", "b", "c"]].to_numpy())[:, 1])) <= 1e-12
    sess = ("--model-protocol", "session", "--model-timeout", "1")
    prog = SESSION.replace("{on_batch}", "print('0.5\\n' * (rows - 1), end='', flush=True)")
    bad(audit, tmp_path, prog, "stalled", "3 of 4 lines", extra=sess)
    prog = SESSION.replace("{on_batch}", "print('0.5\\n' * (rows + 1), end='', flush=True)")
    bad(audit, tmp_path, prog, "more than the 4 lines of batch 1", extra=sess)
    prog = SESSION.replace("{on_batch}", "print('0.5\\n' * (rows - 1), end='', flush=True); "
                           "sys.exit(0)")
    bad(audit, tmp_path, prog, "exited with status 0 after 3 of 4 answer lines of batch 1",
        extra=sess)
    bad(audit, tmp_path, ECHO.replace("{on_batch}", "pass"), "stalled", "batch 1", extra=sess)
    prog = SESSION.replace("{on_batch}", "print('0.5\\n' * rows, end='', flush=True)")
    bad(audit, tmp_path, prog, "0 of 4 answer lines of batch 1")
    r = audit("predict", "--model-cmd", "x", "--model-protocol", "persistent", "--data", "d.csv")
    assert r.code == 2 and "batch or session" in r.err, r


def test_missing_program(audit, tmp_path):
    d = tmp_path / "d.csv"
    d.write_text("a\n1\n")
    r = audit("predict", "--model-cmd", str(tmp_path / "no-such-program") + " x",
              "--data", d, "--out", tmp_path / "p.csv")
    assert r.code == 2, r
    assert "no-such-program" in r.err and "cannot be started" in r.err, r
    assert not (tmp_path / "p.csv").exists()


def test_budget_and_usage(audit, tmp_path):
    bad(audit, tmp_path, "print(1)\n", "row budget exceeded", extra=("--model-max-rows", "5"))
    r = audit("predict", "--model-cmd", "x", "--model", "m.json", "--data", "d.csv")
    assert r.code == 2 and "exclude each other" in r.err, r
    r = audit("predict", "--model-cmd", "'x", "--data", tmp_path / "d.csv")
    assert r.code == 2 and "unterminated quote" in r.err, r


def test_missing_feature(audit, tmp_path):
    d = tmp_path / "d.csv"
    d.write_text("a\n1\n")
    r = audit("predict", "--model-cmd", f"{PY} {SERVER} x", "--model-features", "a,zz",
              "--data", d)
    assert r.code == 2 and '"zz"' in r.err, r


def test_fairness_model_cmd_equals_score_column(audit, tmp_path, fitted):
    """fairness --model-cmd gives the same metrics as --score over a column holding
    predict_proba written with repr precision."""
    import json
    model, df = fitted
    rng = np.random.default_rng(11)
    df = df.assign(sex=rng.choice(["f", "m"], len(df)), label=(df.a > 0).astype(int))
    df.to_csv(tmp_path / "d.csv", index=False)
    scored = df.assign(s=model.predict_proba(df[["a", "b", "c"]].to_numpy())[:, 1])
    scored.to_csv(tmp_path / "s.csv", index=False, float_format="%.17g")
    common = ("--sensitive", "sex", "--label", "label", "--threshold", "0.5",
              "--created", "2026-01-01T00:00:00Z")
    r1 = audit("fairness", "--data", tmp_path / "d.csv", "--model-cmd",
               f"{PY} {SERVER} {tmp_path / 'm.pkl'}", "--model-features", "a,b,c", *common,
               "--json", tmp_path / "a.json")
    assert r1.code in (0, 1), r1
    assert "1 model command call(s), 2500 rows" in r1.err, r1   # default batch: 10000 rows
    r2 = audit("fairness", "--data", tmp_path / "s.csv", "--score", "s", *common,
               "--json", tmp_path / "b.json")
    assert r2.code == r1.code, r2
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    for doc in (a, b):
        doc.pop("provenance", None)
    assert json.dumps(a).replace("model-cmd score", "s") == json.dumps(b)
    r = audit("fairness", "--data", tmp_path / "d.csv", "--model-cmd", "/no/such", "--sensitive",
              "sex", "--threshold", "0.5")
    assert r.code == 2 and "/no/such" in r.err and "cannot be started" in r.err, r


def test_fairness_model_cmd_options(audit, tmp_path, fitted):
    """fairness takes predict's batch, timeout and row-budget options for --model-cmd."""
    model, df = fitted
    df.assign(sex=np.where(df.a > 0, "f", "m")).to_csv(tmp_path / "d.csv", index=False)
    cmd = ("--model-cmd", f"{PY} {SERVER} {tmp_path / 'm.pkl'}", "--model-features", "a,b,c")
    common = ("--data", tmp_path / "d.csv", "--sensitive", "sex", "--threshold", "0.5")
    r = audit("fairness", *common, *cmd, "--model-batch", "500", "--model-timeout", "60")
    assert r.code in (0, 1) and "5 model command call(s), 2500 rows" in r.err, r
    r = audit("fairness", *common, *cmd, "--model-max-rows", "100")
    assert r.code == 2 and "row budget exceeded" in r.err, r
    r = audit("fairness", *common, "--score", "a", "--model-batch", "5")
    assert r.code == 2 and "go with --model-cmd" in r.err, r


@pytest.mark.parametrize("cmd", ["predict", "explain", "reasons", "fairness"])
@pytest.mark.parametrize("opt", [("--features", "a"), ("--model-features", "a"),
                                 ("--model-batch", "10"), ("--model-timeout", "5"),
                                 ("--model-max-rows", "9"), ("--model-protocol", "session")])
def test_model_cmd_options_need_model_cmd(audit, tmp_path, cmd, opt):
    """Every command that takes the model-command options refuses them without --model-cmd
    (exit 2) instead of ignoring them; nothing is read first (the files need not exist)."""
    if opt[0] == "--model-features" and cmd != "predict" and cmd != "fairness":
        pytest.skip("--model-features is predict's and fairness's spelling")
    extra = ("--sensitive", "s", "--threshold", "0.5") if cmd == "fairness" else ()
    r = audit(cmd, "--model", tmp_path / "m.json", "--data", tmp_path / "d.csv", *extra, *opt)
    assert r.code == 2 and "go with --model-cmd" in r.err, r
