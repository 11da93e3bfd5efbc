"""`audit explain` / `audit reasons`: usage and input errors (exit 2, message says what to do),
help text, atomic output (SPEC sections 1 and 3)."""
from pathlib import Path

import pytest
from conftest import shap_columns

ROOT = Path(__file__).resolve().parent.parent.parent
D = ROOT / "tests" / "golden" / "data" / "shap_xgb"
MODEL = D / "binary.json"
DATA = D / "data.csv"


@pytest.mark.parametrize("cmd", ["explain", "reasons"])
def test_help(audit, cmd):
    r = audit(cmd, "--help")
    assert r.code == 0 and r.out.startswith(f"usage: audit {cmd}") and "--background" in r.out


@pytest.mark.parametrize("args,msg", [
    ([], "--model and --data are required"),
    (["--model", MODEL], "--model and --data are required"),
    (["--model", MODEL, "--data", DATA, "--method", "magic"], "unknown --method 'magic'"),
    (["--model", MODEL, "--data", DATA, "--output", "odds"], "--output expects raw or probability"),
    (["--model", MODEL, "--data", DATA, "--threads", "-1"], "--threads"),
    (["--model", MODEL, "--data", DATA, "--samples", "x"], "--samples"),
    (["--model", MODEL, "--data", DATA, "--bogus"], "unknown option '--bogus'"),
    (["--model", MODEL, "--data", DATA, "--interactions", "--method", "kernel"],
     "--interactions is computed by --method tree only"),
])
def test_usage_errors(audit, args, msg):
    r = audit("explain", *args)
    assert r.code == 2, r
    assert msg in r.err


@pytest.mark.valgrind
@pytest.mark.parametrize("args,msg", [
    (["--method", "linear"], "method linear needs a linear model; use --method tree"),
    (["--method", "tree", "--output", "probability"],
     "--output probability is computed by --method tree-interventional, kernel or exact"),
    (["--rows", "5:500"], "--rows 5:500: the data has only 120 rows"),
    (["--rows", "9:3"], "the first row is after the end"),
    (["--rows", "1:x"], "--rows expects N or A:B"),
    (["--rows", "-3"], "--rows expects N or A:B"),
    (["--method", "kernel", "--samples", "3"], "--samples 3 is too small for 6 features"),
])
def test_input_errors(audit, args, msg):
    r = audit("explain", "--model", MODEL, "--data", DATA, *args)
    assert r.code == 2, r
    assert msg in r.err
    assert r.out == ""


@pytest.mark.valgrind
def test_empty_background_file(audit, tmp_path):
    bg = tmp_path / "bg.csv"
    bg.write_text("f0,f1,f2,f3,f4,f5\n")
    r = audit("explain", "--model", MODEL, "--data", DATA, "--method", "kernel",
              "--background", bg)
    assert r.code == 2, r
    assert "background file has no data rows" in r.err and "bg.csv" in r.err


@pytest.mark.valgrind
def test_mismatched_background_file(audit, tmp_path):
    bg = tmp_path / "bg.csv"
    bg.write_text("f0,f1,f2,f3,f4\n1,2,3,4,5\n")
    r = audit("explain", "--model", MODEL, "--data", DATA, "--method", "tree-interventional",
              "--background", bg)
    assert r.code == 2, r
    assert '"f5"' in r.err and "bg.csv" in r.err


def test_background_ignored_by_tree_is_said(audit, tmp_path):
    r = audit("explain", "--model", MODEL, "--data", DATA, "--rows", "2",
              "--background", D / "background.csv")
    assert r.code == 0, r
    assert "--background is ignored" in r.err


def test_exact_with_too_many_features(audit, tmp_path):
    import numpy as np
    import xgboost as xgb
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 21))
    b = xgb.train({"objective": "binary:logistic", "max_depth": 2, "nthread": 1},
                  xgb.DMatrix(X, label=(X[:, 0] > 0).astype(float),
                              feature_names=[f"g{j}" for j in range(21)]),
                  num_boost_round=3)
    model = tmp_path / "wide.json"
    b.save_model(str(model))
    data = tmp_path / "wide.csv"
    data.write_text(",".join(f"g{j}" for j in range(21)) + "\n" +
                    "\n".join(",".join(repr(float(v)) for v in row) for row in X[:5]) + "\n")
    r = audit("explain", "--model", model, "--data", data, "--method", "exact")
    assert r.code == 2, r
    assert "at most 20 features" in r.err and "--method kernel" in r.err
    r = audit("explain", "--model", model, "--data", data, "--method", "kernel", "--rows", "2",
              "--samples", "500")
    assert r.code == 0, r


def test_missing_model_file(audit, tmp_path):
    r = audit("explain", "--model", tmp_path / "nope.json", "--data", DATA)
    assert r.code == 2, r
    assert "nope.json" in r.err


def test_missing_data_column(audit, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("f0,f1,f2,f3,f4\n1,2,3,4,5\n")
    r = audit("explain", "--model", MODEL, "--data", data)
    assert r.code == 2, r
    assert '"f5"' in r.err


@pytest.mark.valgrind
def test_output_file_is_atomic(audit, tmp_path):
    out = tmp_path / "shap.csv"
    r = audit("explain", "--model", MODEL, "--data", DATA, "--rows", "3", "--out", out)
    assert r.code == 0, r and out.exists()
    assert len(out.read_text().splitlines()) == 4
    before = out.read_text()
    r = audit("explain", "--model", MODEL, "--data", DATA, "--method", "linear", "--out", out)
    assert r.code == 2
    assert out.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shap.csv"]


def test_reasons_rejects_multiclass(audit):
    r = audit("reasons", "--model", D / "multiclass.json", "--data", DATA)
    assert r.code == 2, r
    assert "single-output model" in r.err


@pytest.mark.parametrize("args,msg", [
    (["--top", "0"], "--top"),
    (["--favorable", "2"], "--favorable"),
])
def test_reasons_usage(audit, args, msg):
    r = audit("reasons", "--model", MODEL, "--data", DATA, *args)
    assert r.code == 2, r
    assert msg in r.err


def test_empty_data_gives_header_only(audit, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("f0,f1,f2,f3,f4,f5\n")
    r = audit("explain", "--model", MODEL, "--data", data)
    assert r.code == 0, r
    assert r.out == "row,f0,f1,f2,f3,f4,f5,bias,prediction\n"
    r = audit("explain", "--model", MODEL, "--data", data, "--method", "kernel")
    assert r.code == 2, r
    assert "give --background" in r.err


def test_model_without_names_binds_by_position_with_warning(audit, tmp_path):
    import numpy as np
    import xgboost as xgb
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    b = xgb.train({"objective": "reg:squarederror", "max_depth": 2, "nthread": 1},
                  xgb.DMatrix(X, label=X[:, 0] - X[:, 2]), num_boost_round=4)
    model = tmp_path / "anon.json"
    b.save_model(str(model))
    data = tmp_path / "d.csv"
    data.write_text("a,b,c\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in X[:4]) + "\n")
    r = audit("explain", "--model", model, "--data", data)
    assert r.code == 0, r
    assert "by position" in r.err
    assert r.out.splitlines()[0] == "row,a,b,c,bias,prediction"
    want = b.predict(xgb.DMatrix(X[:4]), pred_contribs=True)
    got = shap_columns(r.out)[1]
    assert np.abs(got - want).max() <= 1e-5


def test_background_with_text_column(audit, tmp_path):
    bg = tmp_path / "bg.csv"
    bg.write_text("f0,f1,f2,f3,f4,f5\n1,2,3,x,5,6\n")
    r = audit("explain", "--model", MODEL, "--data", DATA, "--method", "kernel",
              "--background", bg)
    assert r.code == 2, r
    assert '"f3"' in r.err and "not numeric" in r.err and "bg.csv" in r.err
