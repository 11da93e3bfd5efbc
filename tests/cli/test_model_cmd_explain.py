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
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


@pytest.fixture
def models(tmp_path):
    sk = pytest.importorskip("sklearn.linear_model")
    ens = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(21)
    n = 600
    df = pd.DataFrame({k: rng.normal(size=n) for k in FEATS})
    y = (df.a - df.b + 0.5 * df.c * df.d + rng.normal(size=n) > 0).astype(int)
    X = df.to_numpy()
    lr = sk.LogisticRegression().fit(X, y)
    gb = ens.GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)
    for name, m in (("lr", lr), ("gb", gb)):
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(m))
        subprocess.run([PY, str(EXPORT), str(tmp_path / f"{name}.pkl"),
                        str(tmp_path / f"{name}.json"), "--features", ",".join(FEATS)],
                       check=True, capture_output=True)
    df.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    df.iloc[100:130].to_csv(tmp_path / "bg.csv", index=False, float_format="%.17g")
    return {"lr": lr, "gb": gb}, df


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
        got, r = explain(audit, tmp_path, name, "--method", "exact", "--model-batch", "500")
        f = lambda rows: fitted[name].predict_proba(rows)[:, 1]
        for i in range(6):
            phi, base = brute_shapley(f, df.to_numpy()[i], bg)
            assert np.max(np.abs(got.loc[i, FEATS].to_numpy() - phi)) <= tol, (name, i)
            assert abs(got.loc[i, "bias"] - base) <= tol
        # calls: the probe row, then 6 rows x (31 coalitions x 30 + 1) rows in batches of 500
        m = re.search(r"(\d+) model command call\(s\), (\d+) rows", r.err)
        assert m and int(m.group(2)) == 1 + 6 * (31 * 30 + 1), r
        assert int(m.group(1)) == 1 + math.ceil(6 * (31 * 30 + 1) / 500), r
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


# A program that answers the probe (the first batch, one row) and then fails in `how`.
FAILING = """import sys
batch, rows = 0, 0
for line in sys.stdin:
    line = line.strip()
    if line == "":
        batch += 1
        if batch == 1:
            print("0.5", flush=True)
        else:
            {how}
        rows = 0
    elif not line.startswith("a,"):
        rows += 1
"""


@pytest.mark.parametrize("how,needle", [
    ("sys.exit(4)", "exited with status 4"),
    ("print('0.5\\n' * (rows - 1), end='', flush=True)", "stalled"),
    ("print('0.5\\n' * (rows + 1), end='', flush=True)", "more than the"),
    ("print('x\\n' * rows, end='', flush=True)", "not a list of finite numbers"),
])
@pytest.mark.parametrize("cmd", ["explain", "reasons"])
def test_program_failures_are_located(audit, tmp_path, how, needle, cmd):
    prog = tmp_path / "prog.py"
    prog.write_text(FAILING.replace("{how}", how))
    pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2}).to_csv(tmp_path / "d.csv",
                                                                          index=False)
    out = tmp_path / "o.csv"
    r = audit(cmd, "--model-cmd", f"{PY} {prog}", "--data", tmp_path / "d.csv", "--rows", "3",
              "--method", "exact", "--model-timeout", "2", "--out", out)
    assert r.code == 2, r
    assert r.err.startswith("audit: ") and str(prog) in r.err or PY in r.err, r
    assert needle in r.err and "batch 2" in r.err, r
    assert not out.exists()
