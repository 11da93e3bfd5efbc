"""KernelSHAP and exact Shapley values of a model behind a command (explainers/shap_cmd.c).

References, independent of audit's C code:
- exact: brute-force Shapley values computed here in Python over every coalition, with the
  value function v(S) = mean over the background rows z of predict_proba(x_S, z_~S) (the
  interventional game shap's KernelExplainer estimates), scikit-learn's predict_proba as the model;
  tolerance 1e-12 (only summation order differs);
- the same model exported to the project's format and explained natively (--output probability):
  the same figures (1e-12 for LogisticRegression, 1e-9 for GradientBoosting);
- KernelSHAP with every coalition enumerated equals the exact values (1e-10).
Errors of the program stay located exit-2 errors with no output file."""
import itertools
import math
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_model_cmd import ECHO

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER = ROOT / "docs" / "examples" / "model_server.py"
EXPORT = ROOT / "tools" / "export_sklearn.py"
PY = "/usr/bin/python3"
FEATS = ["a", "b", "c", "d", "e"]


def brute_shapley(f, x, bg):
    """phi_j = sum_S |S|!(M-|S|-1)!/M! (v(S+j) - v(S)), v(S) = mean_z f(x_S, z_rest)."""
    M = len(x)
    v = {}
    for S in range(1 << M):
        rows = bg.copy()
        for j in range(M):
            if S >> j & 1:
                rows[:, j] = x[j]
        v[S] = f(rows).mean() if S != (1 << M) - 1 else f(x[None, :])[0]
    phi = np.zeros(M)
    for j in range(M):
        for S in range(1 << M):
            if S >> j & 1:
                continue
            s = bin(S).count("1")
            w = math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M)
            phi[j] += w * (v[S | 1 << j] - v[S])
    return phi, v[0]


@pytest.fixture(scope="module")
def built_models(tmp_path_factory):
    """Fitted once per module (exporting takes seconds); each test gets copies of the files."""
    sk = pytest.importorskip("sklearn.linear_model")
    ens = pytest.importorskip("sklearn.ensemble")
    d = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(21)
    n = 600
    df = pd.DataFrame({k: rng.normal(size=n) for k in FEATS})
    y = (df.a - df.b + 0.5 * df.c * df.d + rng.normal(size=n) > 0).astype(int)
    X = df.to_numpy()
    lr = sk.LogisticRegression().fit(X, y)
    gb = ens.GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)
    for name, m in (("lr", lr), ("gb", gb)):
        (d / f"{name}.pkl").write_bytes(pickle.dumps(m))
        subprocess.run([PY, str(EXPORT), str(d / f"{name}.pkl"),
                        str(d / f"{name}.json"), "--features", ",".join(FEATS)],
                       check=True, capture_output=True)
    df.to_csv(d / "d.csv", index=False, float_format="%.17g")
    df.iloc[100:130].to_csv(d / "bg.csv", index=False, float_format="%.17g")
    return {"lr": lr, "gb": gb}, df, d


@pytest.fixture
def models(tmp_path, built_models):
    fitted, df, d = built_models
    for f in d.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return fitted, df


def explain(audit, tmp_path, source, *extra, name="out.csv", cmd="explain"):
    out = tmp_path / name
    src = (("--model-cmd", f"{PY} {SERVER} {tmp_path / (source + '.pkl')}")
           if not source.endswith(".json") else ("--model", tmp_path / source))
    r = audit(cmd, *src, "--data", tmp_path / "d.csv", "--background", tmp_path / "bg.csv",
              "--rows", "0:6", "--out", out, *extra)
    assert r.code == 0, r
    return pd.read_csv(out, float_precision="round_trip"), r


def test_exact_equals_brute_force_and_native(audit, tmp_path, models):
    fitted, df = models
    bg = df.iloc[100:130].to_numpy()
    for name, tol in (("lr", 1e-12), ("gb", 1e-9)):
        got, r = explain(audit, tmp_path, name, "--method", "exact", "--model-batch", "2000")
        f = lambda rows: fitted[name].predict_proba(rows)[:, 1]
        for i in range(6):
            phi, base = brute_shapley(f, df.to_numpy()[i], bg)
            assert np.max(np.abs(got.loc[i, FEATS].to_numpy() - phi)) <= tol, (name, i)
            assert abs(got.loc[i, "bias"] - base) <= tol
        # calls: the probe row, then 6 rows x (31 coalitions x 30 + 1) rows in batches of 2000
        m = re.search(r"(\d+) model command call\(s\), (\d+) rows", r.err)
        assert m and int(m.group(2)) == 1 + 6 * (31 * 30 + 1), r
        assert int(m.group(1)) == 1 + math.ceil(6 * (31 * 30 + 1) / 2000), r
        native, _ = explain(audit, tmp_path, name + ".json", "--method", "exact", "--output",
                            "probability", name="native.csv")
        assert np.max(np.abs(got.to_numpy() - native.to_numpy())) <= tol, name


def test_kernel_complete_equals_exact_and_is_seeded(audit, tmp_path, models):
    exact, _ = explain(audit, tmp_path, "gb", "--method", "exact", name="e.csv")
    kern, _ = explain(audit, tmp_path, "gb", "--method", "kernel", "--samples", "30",
                      name="k.csv")
    assert np.max(np.abs(exact.to_numpy() - kern.to_numpy())) <= 1e-10
    # sampled coalitions: the same seed, the same figures; native kernel on the same design too
    k1, _ = explain(audit, tmp_path, "gb", "--samples", "12", "--seed", "5", name="k1.csv")
    k2, _ = explain(audit, tmp_path, "gb", "--samples", "12", "--seed", "5", name="k2.csv")
    assert k1.equals(k2)
    nat, _ = explain(audit, tmp_path, "gb.json", "--method", "kernel", "--samples", "12",
                     "--seed", "5", "--output", "probability", name="kn.csv")
    assert np.max(np.abs(k1.to_numpy() - nat.to_numpy())) <= 1e-9


def test_reasons_through_command(audit, tmp_path, models):
    got, _ = explain(audit, tmp_path, "lr", "--method", "exact", "--top", "2", cmd="reasons")
    nat, _ = explain(audit, tmp_path, "lr.json", "--method", "exact", "--output", "probability",
                     "--top", "2", name="rn.csv", cmd="reasons")
    assert list(got.columns) == list(nat.columns)
    for c in got.columns:
        if got[c].dtype == object:
            assert (got[c].fillna("") == nat[c].fillna("")).all(), c
        else:
            assert np.allclose(got[c], nat[c], rtol=0, atol=1e-12, equal_nan=True), c


def test_method_and_usage_errors(audit, tmp_path, models):
    r = audit("explain", "--model-cmd", f"{PY} {SERVER} {tmp_path / 'lr.pkl'}", "--data",
              tmp_path / "d.csv", "--method", "tree")
    assert r.code == 2 and "--method kernel or exact" in r.err, r
    r = audit("explain", "--model", tmp_path / "lr.json", "--model-batch", "5", "--data",
              tmp_path / "d.csv")
    assert r.code == 2 and "go with --model-cmd" in r.err, r


# ECHO: a SPEC program (reads its batch to end of file) that answers its first run (here the
# probe, one row) and then, run again for the explainer's batch 2, fails in {on_batch}.
@pytest.mark.parametrize("how,needle", [
    ("sys.exit(4)", "exited with status 4"),
    ("print('0.5\\n' * (rows - 1), end='')", "answer lines of batch 2"),
    ("print('0.5\\n' * (rows + 1), end='')", "more than the"),
    ("print('x\\n' * rows, end='')", "not a list of finite numbers"),
    ("time.sleep(60)", "stalled"),
])
@pytest.mark.parametrize("cmd", ["explain", "reasons"])
def test_program_failures_are_located(audit, tmp_path, how, needle, cmd):
    prog = tmp_path / "prog.py"
    prog.write_text(ECHO.replace("{on_batch}", how))
    pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2}).to_csv(tmp_path / "d.csv",
                                                                          index=False)
    out = tmp_path / "o.csv"
    r = audit(cmd, "--model-cmd", f"{PY} {prog}", "--data", tmp_path / "d.csv", "--rows", "3",
              "--method", "exact", "--model-timeout", "2", "--out", out)
    assert r.code == 2, r
    assert r.err.startswith("audit: ") and str(prog) in r.err or PY in r.err, r
    assert needle in r.err and "batch 2" in r.err, r
    assert not out.exists()


# A SPEC-conforming program written from the SPEC's words alone: read the CSV header and rows to
# end of file, print one number per row, exit 0. f(a, b) = 0.25 a - 0.5 b + 1 (additive: its
# Shapley values are 0.25 (a - E a) and -0.5 (b - E b) against the background, exactly).
SPEC_PROG = """import csv, sys
rows = list(csv.reader(sys.stdin))
head, body = rows[0], rows[1:]
ia, ib = head.index("a"), head.index("b")
for r in body:
    print(repr(0.25 * float(r[ia]) - 0.5 * float(r[ib]) + 1.0))
"""


def test_spec_program_in_every_command(audit, tmp_path):
    """A program that reads its stdin to end of file works in predict, fairness, explain
    (kernel) and run; figures checked against the closed form of its function."""
    import json
    prog = tmp_path / "spec_prog.py"
    prog.write_text(SPEC_PROG)
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60),
                       "sex": rng.choice(["f", "m"], 60)})
    df["label"] = (df.a > 0).astype(int)
    df.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    f = 0.25 * df.a - 0.5 * df.b + 1.0
    mc = ("--model-cmd", f"{PY} {prog}", "--features", "a,b")
    r = audit("predict", *mc, "--data", tmp_path / "d.csv", "--out", tmp_path / "p.csv",
              "--model-batch", "25")
    assert r.code == 0 and "3 model command call(s), 60 rows" in r.err, r
    got = pd.read_csv(tmp_path / "p.csv", float_precision="round_trip")["prediction"]
    assert np.max(np.abs(got.to_numpy() - f.to_numpy())) <= 1e-15
    # fairness: the same as --score over the closed-form column
    df.assign(s=f).to_csv(tmp_path / "s.csv", index=False, float_format="%.17g")
    common = ("--sensitive", "sex", "--label", "label", "--threshold", "1.0", "--created",
              "2026-01-01T00:00:00Z")
    r1 = audit("fairness", "--data", tmp_path / "d.csv", *mc, *common, "--json",
               tmp_path / "fa.json")
    r2 = audit("fairness", "--data", tmp_path / "s.csv", "--score", "s", *common, "--json",
               tmp_path / "fb.json")
    assert r1.code in (0, 1) and r2.code == r1.code, (r1, r2)
    fa = json.loads((tmp_path / "fa.json").read_text())
    fb = json.loads((tmp_path / "fb.json").read_text())
    for doc in (fa, fb):
        doc.pop("provenance", None)
    assert json.dumps(fa).replace("model-cmd score", "s") == json.dumps(fb)
    # explain: kernel SHAP of an additive function is exact
    r = audit("explain", *mc, "--data", tmp_path / "d.csv", "--rows", "5", "--method", "kernel",
              "--background-rows", "20", "--out", tmp_path / "phi.csv")
    assert r.code == 0, r
    phi = pd.read_csv(tmp_path / "phi.csv", float_precision="round_trip")
    assert np.max(np.abs(phi.a + phi.b + phi.bias - f.iloc[:5].to_numpy())) <= 1e-12
    # additive: phi_a = 0.25 (a - E_bg a), so phi_a / 0.25 - a is the same for every row
    ea = (phi.a / 0.25 - df.a.iloc[:5]).to_numpy()
    eb = (phi.b / -0.5 - df.b.iloc[:5]).to_numpy()
    assert np.ptp(ea) <= 1e-12 and np.ptp(eb) <= 1e-12, (ea, eb)
    # run: a spec with the program as its model
    spec = {"model": {"command": [PY, "spec_prog.py"], "features": ["a", "b"]},
            "data": "d.csv", "label": "label", "sensitive": ["sex"],
            "explain": {"rows": 3, "method": "kernel", "background": 10},
            "fairness": {"bootstrap": 0}, "global": False, "outputs": {"dir": "out"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["provenance"]["model"]["command"] == [PY, "spec_prog.py"], res["provenance"]
    # the session protocol from a spec, and a bad protocol name located
    spec["model"]["protocol"] = "sessions"
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json")
    assert r.code == 2 and "model.protocol" in r.err, r


def close(a, b, tol, path=""):
    """Recursive equality of two JSON values, numbers within tol; returns the first difference."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))}"
        for k in a:
            d = close(a[k], b[k], tol, f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = close(x, y, tol, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return None if abs(a - b) <= tol * max(1.0, abs(a), abs(b)) else f"{path}: {a} {b}"
    return None if a == b else f"{path}: {a!r} {b!r}"


def test_run_spec_model_command_equals_native(audit, tmp_path, models):
    """audit run with "model": {"command": [...]} gives the fairness, drift (prediction drift
    included), performance and explanation figures of the same model exported and read natively
    (1e-9 relative); provenance records the command, its calls and rows."""
    import json
    _, df = models
    rng = np.random.default_rng(4)
    cur = df.assign(sex=rng.choice(["f", "m"], len(df)),
                    label=(df.a + rng.normal(size=len(df)) > 0).astype(int))
    cur.iloc[:300].to_csv(tmp_path / "cur.csv", index=False, float_format="%.17g")
    cur.iloc[300:].to_csv(tmp_path / "ref.csv", index=False, float_format="%.17g")
    (tmp_path / "server.py").write_text(SERVER.read_text())
    base = {"data": "cur.csv", "reference": "ref.csv", "label": "label", "sensitive": ["sex"],
            "explain": {"rows": 4, "method": "exact", "output": "probability", "background": 20},
            "fairness": {"bootstrap": 0}, "global": False}
    docs = {}
    for name, model in (("cmd", {"command": [PY, "server.py", "gb.pkl"], "features": FEATS,
                                 "batch_rows": 4096, "timeout_s": 60}),
                        ("native", "gb.json")):
        spec = dict(base, model=model, outputs={"dir": name})
        (tmp_path / f"{name}.json").write_text(json.dumps(spec))
        r = audit("run", tmp_path / f"{name}.json", "--created", "2026-01-01T00:00:00Z")
        assert r.code in (0, 1), r
        docs[name] = json.loads((tmp_path / name / "results.json").read_text())
    a, b = docs["cmd"], docs["native"]
    assert "drivers_reason" in json.dumps(a) and "a model behind a command" in json.dumps(a)
    for sec in ("drift", "performance", "explanations"):
        assert close(a[sec], b[sec], 1e-9, sec) is None, close(a[sec], b[sec], 1e-9, sec)
    fa = json.loads(json.dumps(a["fairness"]))
    fb = json.loads(json.dumps(b["fairness"]))
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith(("drivers", "proxies"))}
    if isinstance(fa["attributes"], list):
        fa["attributes"] = [strip(x) for x in fa["attributes"]]
        fb["attributes"] = [strip(x) for x in fb["attributes"]]
    else:
        fa["attributes"] = {k: strip(v) for k, v in fa["attributes"].items()}
        fb["attributes"] = {k: strip(v) for k, v in fb["attributes"].items()}
    assert close(fa, fb, 1e-9, "fairness") is None, close(fa, fb, 1e-9, "fairness")
    pm = a["provenance"]["model"]
    assert pm["command"] == [PY, "server.py", "gb.pkl"] and pm["sha256"] is None
    # the probe row, the 600 rows of data and reference predictions, then 4 explained rows of
    # the data and 4 of the reference (importance drift) x (31 coalitions x 20 + 1) rows, each
    # set in one batch
    assert pm["rows"] == 1 + 300 + 300 + 2 * 4 * (31 * 20 + 1), pm
    assert pm["calls"] == 5, pm


def test_run_spec_model_command_errors(audit, tmp_path, models):
    import json
    spec = {"model": {"command": []}, "data": "d.csv"}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and "model.command" in r.err, r
    spec = {"model": {"command": [PY, "-c", "import sys; sys.exit(5)"], "features": FEATS},
            "data": "d.csv", "outputs": {"dir": "out"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and "exited with status 5" in r.err, r
    assert not (tmp_path / "out" / "results.json").exists()
    spec["model"]["colour"] = 1
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and "colour" in r.err, r
