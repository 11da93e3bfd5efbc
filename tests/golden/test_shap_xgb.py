"""`audit explain` / `audit reasons` vs XGBoost 1.7.4 (data from gen_shap_xgb.py).

Tolerances: 1e-5 absolute on raw-margin values (SPEC section 3): XGBoost computes pred_contribs,
pred_interactions and margins in float32 (we see ~6e-7); the brute-force interventional oracle
averages XGBoost float32 margins. Probability-space values are compared at 1e-6."""
import io
from pathlib import Path

import numpy as np
import pytest

D = Path(__file__).resolve().parent / "data" / "shap_xgb"
MODELS = ["binary", "regression", "multiclass", "dart", "poisson"]
K = {"multiclass": 3}
F = 6
BF_ROWS = 8


def load(path_or_text, text=False):
    src = io.StringIO(path_or_text) if text else path_or_text
    return np.genfromtxt(src, delimiter=",", skip_header=1, ndmin=2)


def header(text):
    return text.splitlines()[0].split(",")


def explain(audit, model, *args):
    r = audit("explain", "--model", D / f"{model}.json", "--data", D / "data.csv", *args)
    assert r.code == 0, r
    return r


@pytest.mark.valgrind
@pytest.mark.parametrize("model", MODELS)
def test_tree_matches_pred_contribs(audit, model):
    r = explain(audit, model, "--method", "tree")
    got, want = load(r.out, text=True), load(D / f"{model}.contribs.csv")
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5
    assert "additivity max error" in r.err
    assert "larger than expected" not in r.err
    err = float(r.err.split("additivity max error")[1].split()[0])
    assert err < 1e-5


def test_auto_is_tree_and_header_layout(audit):
    r = explain(audit, "multiclass")
    names = [f"f{j}" for j in range(F)] + ["bias"]
    assert header(r.out) == [f"{c}@{k}" for k in range(3) for c in names]
    assert "method tree" in r.err
    r = explain(audit, "binary")
    assert header(r.out) == names


@pytest.mark.valgrind
@pytest.mark.parametrize("model", MODELS)
def test_interactions_match_pred_interactions(audit, model):
    k = K.get(model, 1)
    want = load(D / f"{model}.interactions.csv")
    n = want.shape[0]
    r = explain(audit, model, "--interactions", "--rows", f"0:{n}", "--threads", "2")
    lines = r.out.splitlines()
    hdr = lines[0].split(",")
    assert hdr[:2 if k == 1 else 3] == (["row", "feature"] if k == 1 else ["row", "class", "feature"])
    body = [l.split(",") for l in lines[1:]]
    assert len(body) == n * k * (F + 1)
    first = 2 if k == 1 else 3
    got = np.array([[float(v) for v in b[first:]] for b in body]).reshape(n, -1)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5
    assert body[0][0] == "0" and body[F][first - 1] == "bias"


@pytest.mark.parametrize("method", ["tree-interventional", "exact", "kernel"])
@pytest.mark.parametrize("model", MODELS)
def test_background_methods_match_bruteforce(audit, model, method):
    r = explain(audit, model, "--method", method, "--background", D / "background.csv",
                "--rows", str(BF_ROWS))
    got, want = load(r.out, text=True), load(D / f"{model}.bruteforce.csv")
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5


@pytest.mark.valgrind
@pytest.mark.parametrize("method", ["exact", "kernel", "tree-interventional"])
@pytest.mark.parametrize("model", ["binary", "multiclass"])
def test_probability_output_matches_bruteforce(audit, model, method):
    r = explain(audit, model, "--method", method, "--background", D / "background.csv",
                "--rows", str(BF_ROWS), "--output", "probability")
    got, want = load(r.out, text=True), load(D / f"{model}.bruteforce_prob.csv")
    assert np.abs(got - want).max() <= 1e-6
    assert "probability output" in r.err


@pytest.mark.parametrize("method", ["tree", "tree-interventional", "kernel"])
def test_threads_give_identical_output(audit, method):
    outs = [explain(audit, "multiclass", "--method", method, "--rows", "0:40",
                    "--threads", str(t)).out for t in (1, 2, 3)]
    assert outs[0] == outs[1] == outs[2]


def test_rows_range_selects_rows(audit):
    full = load(explain(audit, "regression").out, text=True)
    part = load(explain(audit, "regression", "--rows", "10:13").out, text=True)
    assert part.shape[0] == 3
    assert np.array_equal(part, full[10:13])


def test_background_sampled_from_data_is_seeded(audit):
    a = explain(audit, "binary", "--method", "tree-interventional", "--rows", "5",
                "--background-rows", "20").out
    b = explain(audit, "binary", "--method", "tree-interventional", "--rows", "5",
                "--background-rows", "20").out
    c = explain(audit, "binary", "--method", "tree-interventional", "--rows", "5",
                "--background-rows", "20", "--seed", "7").out
    assert a == b and a != c


@pytest.mark.valgrind
@pytest.mark.parametrize("favorable", [1, 0])
def test_reasons_from_pred_contribs(audit, favorable, tmp_path):
    out = tmp_path / "reasons.csv"
    r = audit("reasons", "--model", D / "binary.json", "--data", D / "data.csv",
              "--favorable", str(favorable), "--out", out)
    assert r.code == 0, r
    lines = out.read_text().splitlines()
    assert lines[0] == "row," + ",".join(f"reason_{k},value_{k},contribution_{k}"
                                         for k in range(1, 5))
    contribs = load(D / "binary.contribs.csv")[:, :F]
    data = load(D / "data.csv")
    sign = -1.0 if favorable else 1.0
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        assert cells[0] == str(i)
        push = [(sign * c, j) for j, c in enumerate(contribs[i]) if sign * c > 1e-5]
        push.sort(key=lambda t: -t[0])
        for k in range(4):
            name, value, contrib = cells[1 + 3 * k: 4 + 3 * k]
            if k >= len(push):
                # fewer pushes than K: blank (values within 1e-5 of 0 may go either way)
                assert name == "" or abs(float(contrib)) <= 1e-5
                continue
            j = push[k][1]
            if k + 1 < len(push) and push[k][0] - push[k + 1][0] < 1e-5:
                continue   # near-tie: order may differ within float32 noise
            assert name == f"f{j}"
            assert abs(float(contrib) - contribs[i, j]) <= 1e-5
            x = data[i, j]
            assert (value == "NA") if np.isnan(x) else float(value) == x


def test_reasons_top_k(audit):
    r = audit("reasons", "--model", D / "regression.json", "--data", D / "data.csv",
              "--top", "2", "--rows", "3:5")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 3 and lines[1].startswith("3,") and lines[2].startswith("4,")
    assert len(lines[1].split(",")) == 7


def test_interactions_identical_across_threads(audit):
    outs = [explain(audit, "multiclass", "--interactions", "--rows", "0:25",
                    "--threads", str(t)).out for t in (1, 3)]
    assert outs[0] == outs[1]
