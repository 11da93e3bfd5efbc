"""Text features of a model behind a command (issue 16 item 3): the explainers carry a text
column as its category code and the program receives the category's text (RFC 4180 quoting,
missing values as empty fields).

References, independent of audit's C code:
- a hand formula over a text column, applied here in Python to the raw values; brute-force
  Shapley values over every coalition with the same background (v(S) = mean over background rows
  z of f(x_S, z_~S)); tolerance 1e-10 (the program prints 17 significant digits);
- a scikit-learn pipeline (OneHotEncoder + LogisticRegression) behind the command, brute force
  with its predict_proba on DataFrames built here; tolerance 1e-10;
- KernelSHAP with every coalition enumerated equals the exact values (1e-10).
The text values include one with a comma and a quote, a missing value, and a background
category the explained data lacks."""
import csv
import io
import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

PY = "/usr/bin/python3"
FEATS = ["a", "c", "b"]
W = {"red": 0.8, 'x,"y"': -1.1, "blue": 0.25, "green": 0.6, "": -0.4}

FORMULA = """import math
W = %r
def f(a, c, b):
    a = float(a) if a != "" else 0.0
    b = float(b) if b != "" else 0.0
    z = 1.5 * a + W[c] + 0.3 * b * (c == 'x,"y"') - 0.2 * a * b
    return 1 / (1 + math.exp(-z))
""" % (W,)

PROG = FORMULA + """import csv, sys
rows = list(csv.reader(sys.stdin))
head = rows[0]
for r in rows[1:]:
    d = dict(zip(head, r))
    print(repr(f(d["a"], d["c"], d["b"])))
"""

# the pipeline program: raw strings in, P(class 1) out ("" stays a category of its own)
SKPROG = """import csv, pickle, sys
import pandas as pd
pipe = pickle.load(open(sys.argv[1], "rb"))
rows = list(csv.reader(sys.stdin))
df = pd.DataFrame(rows[1:], columns=rows[0])
df["a"] = df["a"].astype(float)
df["b"] = df["b"].astype(float)
for p in pipe.predict_proba(df[["a", "c", "b"]])[:, 1]:
    print(repr(float(p)))
"""

DATA = [(0.5, "red", 1.0), (-1.2, 'x,"y"', 0.3), (2.0, "", -0.7), (0.1, "blue", 2.2),
        (-0.3, "red", -1.5), (1.1, 'x,"y"', 0.9)]
BG = [(0.5, "green", 1.0), (-1.0, "red", 0.0), (0.2, "", 0.4), (1.3, 'x,"y"', -0.2)]


def write(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FEATS)
        for a, c, b in rows:
            w.writerow([repr(a), c, repr(b)])


def brute(f, x, bg):
    """phi_j = sum_S |S|!(M-|S|-1)!/M! (v(S+j) - v(S)); f takes a list of rows."""
    M = len(x)
    v = {}
    for S in range(1 << M):
        rows = [tuple(x[j] if S >> j & 1 else z[j] for j in range(M)) for z in bg]
        v[S] = float(np.mean(f(rows)))
    phi = [0.0] * M
    for j in range(M):
        for S in range(1 << M):
            if not S >> j & 1:
                s = bin(S).count("1")
                w = math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M)
                phi[j] += w * (v[S | 1 << j] - v[S])
    return phi, v[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "prog.py").write_text(PROG)
    write(tmp_path / "d.csv", DATA)
    write(tmp_path / "bg.csv", BG)
    return tmp_path


def explain(audit, d, prog, *extra, name="out.csv", cmd="explain"):
    r = audit(cmd, "--model-cmd", prog, "--features", ",".join(FEATS), "--data", d / "d.csv",
              "--background", d / "bg.csv", "--out", d / name, *extra)
    assert r.code == 0, r
    return pd.read_csv(d / name, float_precision="round_trip", keep_default_na=False,
                       na_values=[]), r


def formula():
    ns = {}
    exec(FORMULA, ns)
    return lambda rows: [ns["f"](a, c, b) for a, c, b in rows]


def test_text_feature_exact_kernel_equal_brute_force(audit, files):
    d = files
    prog = f"{PY} {d / 'prog.py'}"
    got, _ = explain(audit, d, prog, "--method", "exact", "--values")
    f = formula()
    for i, x in enumerate(DATA):
        phi, base = brute(f, x, BG)
        assert np.max(np.abs(got.loc[i, FEATS].astype(float).to_numpy() - phi)) <= 1e-10, i
        assert abs(got.loc[i, "bias"] - base) <= 1e-10
        assert abs(got.loc[i, "prediction"] - f([x])[0]) <= 1e-15
    # --values: the row's text as the data has it (quoted in the file), NA when missing
    text = (d / "out.csv").read_text()
    assert ',"x,""y""",' in text, text
    assert list(got["value:c"]) == ["red", 'x,"y"', "NA", "blue", "red", 'x,"y"']
    kern, _ = explain(audit, d, prog, "--method", "kernel", "--samples", "6", name="k.csv")
    assert np.max(np.abs(kern[FEATS + ["bias"]].to_numpy(dtype=float)
                         - got[FEATS + ["bias"]].to_numpy(dtype=float))) <= 1e-10
    # reasons: the category as the data has it
    rs, _ = explain(audit, d, prog, "--method", "exact", "--top", "3", name="r.csv",
                    cmd="reasons")
    row1 = rs.iloc[1]
    k = [row1[f"reason_{t}"] for t in (1, 2, 3)].index("c") + 1
    assert row1[f"value_{k}"] == 'x,"y"'


def test_text_feature_sklearn_pipeline(audit, files):
    pre = pytest.importorskip("sklearn.preprocessing")
    lm = pytest.importorskip("sklearn.linear_model")
    comp = pytest.importorskip("sklearn.compose")
    pl = pytest.importorskip("sklearn.pipeline")
    d = files
    rng = np.random.default_rng(3)
    n = 300
    train = pd.DataFrame({"a": rng.normal(size=n),
                          "c": rng.choice(["red", 'x,"y"', "blue", "green", ""], n),
                          "b": rng.normal(size=n)})
    y = (train.a + (train.c == "red") - (train.c == 'x,"y"') + rng.normal(size=n) > 0)
    pipe = pl.make_pipeline(
        comp.ColumnTransformer([("oh", pre.OneHotEncoder(handle_unknown="ignore"), ["c"])],
                               remainder="passthrough"),
        lm.LogisticRegression()).fit(train, y.astype(int))
    (d / "pipe.pkl").write_bytes(pickle.dumps(pipe))
    (d / "skprog.py").write_text(SKPROG)
    got, _ = explain(audit, d, f"{PY} {d / 'skprog.py'} {d / 'pipe.pkl'}", "--method", "exact")

    def f(rows):
        df = pd.DataFrame(rows, columns=FEATS)
        return pipe.predict_proba(df)[:, 1]
    for i, x in enumerate(DATA):
        phi, base = brute(f, x, BG)
        assert np.max(np.abs(got.loc[i, FEATS].astype(float).to_numpy() - phi)) <= 1e-10, i
        assert abs(got.loc[i, "bias"] - base) <= 1e-10


def test_text_feature_in_run_and_global(audit, files):
    """audit run with "model": {"command": [...]} takes the text feature: explanations add up,
    permutation importance has the text feature."""
    d = files
    rng = np.random.default_rng(5)
    rows = [(round(float(rng.normal()), 3), str(rng.choice(["red", 'x,"y"', "blue", ""])),
             round(float(rng.normal()), 3)) for _ in range(60)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(FEATS + ["sex", "label"])
    for i, (a, c, b) in enumerate(rows):
        w.writerow([a, c, b, "fm"[i % 2], i % 3 == 0])
    (d / "big.csv").write_text(buf.getvalue().replace("True", "1").replace("False", "0"))
    # the reference holds a category the data lacks: it reaches the program as text (the
    # program logs what it reads), never as a missing value
    (d / "ref.csv").write_text("a,c,b,sex,label\n" + "".join(
        f"0.{i}7,green,0.25,{'fm'[i % 2]},{i % 2}\n" for i in range(10)))
    (d / "logprog.py").write_text(PROG.replace(
        "rows = list(csv.reader(sys.stdin))",
        "data = sys.stdin.read()\nopen('seen.txt', 'a').write(data)\n"
        "rows = list(csv.reader(data.splitlines()))"))
    spec = {"model": {"command": [PY, "logprog.py"], "features": FEATS}, "data": "big.csv",
            "reference": "ref.csv", "label": "label", "sensitive": ["sex"],
            "explain": {"rows": 3, "method": "exact", "background": 10},
            "fairness": {"bootstrap": 0}, "global": True, "outputs": {"dir": "out"}}
    (d / "spec.json").write_text(json.dumps(spec))
    r = audit("run", d / "spec.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    res = json.loads((d / "out" / "results.json").read_text())
    ex = res["explanations"]
    assert ex["feature_order"] == FEATS
    for e in ex["explained_rows"]:
        assert abs(sum(e["phi"]) + e["base"] - e["output"]) <= 1e-12
    assert {p["feature"] for p in res["global"]["permutation_importance"]} == set(FEATS)
    # the text feature's codes are named: nominal, with each code's text, and an explained
    # row's code is the category of its data row (a missing one is null)
    fc = next(f for f in ex["features"] if f["name"] == "c")
    assert fc["nominal"] is True and fc["nominal_source"] == "model"
    label = {k["code"]: k["label"] for k in fc["categories"]}
    assert set(label.values()) >= {"red", 'x,"y"', "blue", "green"}
    for e in ex["explained_rows"]:
        text = rows[e["row"]][1]
        code = e["value"][FEATS.index("c")]
        assert (code is None and text == "") or label[code] == text, (e, text)
    seen = (d / "seen.txt").read_text()
    assert ",green,0.25\n" in seen   # before: sent as ",,0.25" (a missing value)


def test_text_feature_unknown_to_program_is_located(audit, files):
    """A category the program cannot score makes it fail: a located exit-2 error."""
    d = files
    write(d / "bg.csv", BG + [(0.0, "purple", 0.0)])
    r = audit("explain", "--model-cmd", f"{PY} {d / 'prog.py'}", "--features", ",".join(FEATS),
              "--data", d / "d.csv", "--background", d / "bg.csv", "--method", "exact",
              "--out", d / "o.csv")
    assert r.code == 2 and "exited with status" in r.err, r
    assert not (d / "o.csv").exists()
