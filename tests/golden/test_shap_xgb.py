"""`audit explain` / `audit reasons` vs XGBoost 1.7.4 (data from gen_shap_xgb.py).

Tolerances: 1e-5 absolute on raw-margin values (SPEC section 3): XGBoost computes pred_contribs,
pred_interactions and margins in float32 (we see ~6e-7); the brute-force interventional oracle
averages XGBoost float32 margins. Probability-space values are compared at 1e-6."""
import io
from pathlib import Path

import numpy as np
import pytest
from conftest import shap_columns

D = Path(__file__).resolve().parent / "data" / "shap_xgb"
MODELS = ["binary", "regression", "multiclass", "dart", "poisson"]
K = {"multiclass": 3}
F = 6
BF_ROWS = 8


def load(path_or_text, text=False):
    if text:   # audit explain output: the SHAP columns (no row, prediction)
        return shap_columns(path_or_text)[1]
    return np.genfromtxt(path_or_text, delimiter=",", skip_header=1, ndmin=2)


def header(text):
    return shap_columns(text)[0]


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


def test_row_id_prediction_and_values_columns(audit, tmp_path):
    """Issue 14 item 3: `row` (0-based data row), the --id column, `prediction` (XGBoost's own
    predict(output_margin=True), 1e-5: float32) and --values (the data as written) beside the
    SHAP values; `audit reasons` carries the same id and, without --favorable, says which
    direction it assumed."""
    import pandas as pd
    import xgboost as xgb
    df = pd.read_csv(D / "data.csv")
    d = df.copy()
    d.insert(0, "case", [f"c{i:04d}" for i in range(len(d))])
    data = tmp_path / "d.csv"
    d.to_csv(data, index=False)
    r = audit("explain", "--model", D / "binary.json", "--data", data, "--rows", "5:9",
              "--id", "case", "--values")
    assert r.code == 0, r
    out = pd.read_csv(io.StringIO(r.out), keep_default_na=False, na_values=["NA"])
    names = list(df.columns)
    assert list(out.columns) == (["row", "case"] + names + ["bias", "prediction"] +
                                 [f"value:{n}" for n in names])
    assert list(out["row"]) == [5, 6, 7, 8]
    assert list(out["case"]) == ["c0005", "c0006", "c0007", "c0008"]
    b = xgb.Booster(model_file=str(D / "binary.json"))
    margin = b.predict(xgb.DMatrix(df.iloc[5:9].values, feature_names=names), output_margin=True)
    assert np.abs(out["prediction"].values - margin).max() <= 1e-5
    vals = out[[f"value:{n}" for n in names]].values
    assert np.allclose(vals, df.iloc[5:9].values, equal_nan=True, rtol=0, atol=0)
    r = audit("reasons", "--model", D / "binary.json", "--data", data, "--rows", "2",
              "--id", "case")
    assert r.code == 0, r
    assert r.out.splitlines()[0].startswith("row,case,reason_1,")
    assert [x.split(",")[:2] for x in r.out.splitlines()[1:]] == [["0", "c0000"], ["1", "c0001"]]
    assert "--favorable not given: assuming 1 is the favourable outcome" in r.err
    r = audit("reasons", "--model", D / "binary.json", "--data", data, "--rows", "2",
              "--favorable", "0")
    assert r.code == 0 and "assuming" not in r.err, r
    # --interactions carries the id too, after `row` (and before `class` for multiclass)
    r = audit("explain", "--model", D / "binary.json", "--data", data, "--rows", "5:7",
              "--id", "case", "--interactions")
    assert r.code == 0, r
    inter = pd.read_csv(io.StringIO(r.out))
    assert list(inter.columns) == ["row", "case", "feature"] + names + ["bias"]
    assert list(inter["row"]) == [5] * (len(names) + 1) + [6] * (len(names) + 1)
    assert list(inter["case"]) == ["c0005"] * (len(names) + 1) + ["c0006"] * (len(names) + 1)
    plain = audit("explain", "--model", D / "binary.json", "--data", D / "data.csv", "--rows",
                  "5:7", "--interactions")
    assert pd.read_csv(io.StringIO(plain.out)).equals(inter.drop(columns="case"))
    r = audit("explain", "--model", D / "binary.json", "--data", data, "--id", "nope")
    assert r.code == 2 and "nope" in r.err, r
