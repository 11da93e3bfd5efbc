"""Native categorical splits end to end (issue 16 item 2): XGBoost enable_categorical models with
a --categories file and text columns, against Debian's python3-xgboost 1.7.4 (data from
tests/golden/gen_xgb_cat.py), and LightGBM's pandas_categorical mapping against the LightGBM
v4.6.0 fixtures (tests/golden/data/lightgbm_cat, copied by gen_lightgbm_cat.py).

Tolerances: XGBoost margins are float32 sums that `audit` reproduces exactly (compared at 0);
contributions 1e-5 absolute (float32 TreeSHAP in XGBoost; we see ~5e-7). LightGBM: raw scores
exactly, contributions 1e-9 * max(1, |ref|) (the fixtures' README)."""
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

G = Path(__file__).resolve().parent / "data"
X = G / "xgb_cat"
L = G / "lightgbm_cat" / "binary"
CATS = X / "categories.json"
N = 150   # rows of data.csv (codes.csv has probe rows after them)


def shap(text):
    """The SHAP columns (features and bias) of `audit explain` output."""
    from conftest import shap_columns
    return shap_columns(text)[1]


def load(src, text=False):
    return np.genfromtxt(io.StringIO(src) if text else src, delimiter=",", skip_header=1,
                         ndmin=2)


@pytest.mark.valgrind
@pytest.mark.parametrize("model", ["binary", "regression", "multiclass"])
def test_xgboost_text_columns_predict_and_explain(audit, model):
    r = audit("predict", "--model", X / f"{model}.json", "--categories", CATS, "--data",
              X / "data.csv", "--raw")
    assert r.code == 0, r
    assert np.array_equal(load(r.out, True), load(X / f"{model}.margin.csv"))
    r = audit("explain", "--model", X / f"{model}.json", "--categories", CATS, "--data",
              X / "data.csv")
    assert r.code == 0, r
    got, want = shap(r.out), load(X / f"{model}.contribs.csv")[:N]
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("model", ["binary", "regression", "multiclass"])
def test_xgboost_codes_and_unseen_codes(audit, model):
    """Codes never seen in training (40, 64, 1000, -1, 2.5) follow XGBoost's rule."""
    r = audit("predict", "--model", X / f"{model}.json", "--data", X / "codes.csv", "--raw")
    assert r.code == 0, r
    assert np.array_equal(load(r.out, True), load(X / f"{model}.codes_margin.csv"))
    r = audit("explain", "--model", X / f"{model}.json", "--data", X / "codes.csv")
    assert r.code == 0, r
    assert np.abs(shap(r.out) - load(X / f"{model}.contribs.csv")).max() <= 1e-5


@pytest.mark.parametrize("model", ["binary", "regression", "multiclass"])
def test_xgboost_interactions(audit, model):
    want = load(X / f"{model}.interactions.csv")
    n = want.shape[0]
    r = audit("explain", "--model", X / f"{model}.json", "--data", X / "codes.csv",
              "--interactions", "--rows", f"0:{n}")
    assert r.code == 0, r
    k = 3 if model == "multiclass" else 1
    first = 2 if k == 1 else 3
    body = [line.split(",") for line in r.out.splitlines()[1:]]
    got = np.array([[float(v) for v in b[first:]] for b in body]).reshape(n, -1)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("method", ["tree-interventional", "exact"])
@pytest.mark.parametrize("model", ["binary", "regression", "multiclass"])
def test_xgboost_background_methods_match_bruteforce(audit, model, method):
    r = audit("explain", "--model", X / f"{model}.json", "--data", X / "codes.csv",
              "--method", method, "--background", X / "background.csv", "--rows", "6")
    assert r.code == 0, r
    assert np.abs(shap(r.out) - load(X / f"{model}.bruteforce.csv")).max() <= 1e-5


def test_xgboost_reasons_fairness_run(audit, tmp_path):
    """Every command that takes a model reads the categories: reasons, fairness --model (equal
    to --score with XGBoost's own probabilities) and audit run (spec model_categories)."""
    xgb = pytest.importorskip("xgboost")
    cats = json.loads(CATS.read_text())
    df = pd.read_csv(X / "data.csv", keep_default_na=False, na_values=[""])
    frame = df.copy()
    for c, levels in cats.items():
        frame[c] = pd.Categorical(frame[c], categories=levels)
    b = xgb.Booster(model_file=str(X / "binary.json"))
    prob = b.predict(xgb.DMatrix(frame, enable_categorical=True)).astype(float)
    t = 0.5
    assert np.min(np.abs(prob - t)) > 1e-6
    df["group"] = np.where(df["color"].isna(), "none", df["color"].fillna(""))
    df["label"] = (np.arange(len(df)) % 3 == 0).astype(int)
    df["p_xgb"] = [repr(v) for v in prob]
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    common = ["--data", data, "--sensitive", "group", "--label", "label", "--threshold", str(t),
              "--bootstrap", "0", "--json", "-"]
    r1 = audit("fairness", *common, "--model", X / "binary.json", "--categories", CATS)
    r2 = audit("fairness", *common, "--score", "p_xgb")
    assert r1.code == 0 and r2.code == 0, (r1, r2)
    assert json.loads(r1.out)["provenance"]["inputs"][-1]["role"] == "categories"
    g1 = json.loads(r1.out)["fairness"]["attributes"][0]["groups"]
    g2 = json.loads(r2.out)["fairness"]["attributes"][0]["groups"]
    assert [(g["group"], g["selected"], g["tp"]) for g in g1] == \
           [(g["group"], g["selected"], g["tp"]) for g in g2]

    r = audit("reasons", "--model", X / "binary.json", "--categories", CATS, "--data", data,
              "--rows", "5")
    assert r.code == 0, r
    body = [line.split(",") for line in r.out.splitlines()[1:]]
    values = {row[k]: row[k + 1] for row in body for k in range(1, len(row) - 2, 3) if row[k]}
    assert values.get("color", "green") in cats["color"] + ["NA"]   # the text, not the code
    assert values.get("city", "c00") in cats["city"] + ["NA"]
    assert "color" in values or "city" in values

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "data": "d.csv", "model": str(X / "binary.json"), "model_categories": str(CATS),
        "label": "label", "threshold": t, "sensitive": ["group"],
        "explain": {"rows": 200}, "fairness": {"bootstrap": 0},
        "outputs": {"dir": "out", "json": "results.json"}}))
    r = audit("run", spec, "--quiet")
    assert r.code == 0, r
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    roles = [(i["role"], i["path"]) for i in res["provenance"]["inputs"]]
    assert roles[-1] == ("categories", str(CATS))
    feats = {f["name"]: f["mean_abs"] for f in res["explanations"]["features"]}
    contribs = load(X / "binary.contribs.csv")[:N, :5]
    for j, name in enumerate(["x0", "color", "city", "x1", "size"]):
        assert abs(feats[name] - np.abs(contribs[:, j]).mean()) <= 1e-5


def test_lightgbm_pandas_categorical_strings(audit):
    """model_pandas.txt carries pandas_categorical: text cells are coded by it, unseen values
    (cat_b_unseen13, ...) become NaN as in the python-package; same outputs as the codes."""
    r = audit("predict", "--model", L / "model_pandas.txt", "--data", L / "input_strings.csv",
              "--raw")
    assert r.code == 0, r
    assert np.array_equal(load(r.out, True), load(L / "raw_score.csv"))
    r = audit("predict", "--model", L / "model_pandas.txt", "--data", L / "input_strings.csv")
    assert r.code == 0, r
    want = load(L / "prediction.csv")
    assert np.abs(load(r.out, True) - want).max() <= 1e-15
    r = audit("explain", "--model", L / "model_pandas.txt", "--data", L / "input_strings.csv")
    assert r.code == 0, r
    want = load(L / "pred_contrib.csv")
    got = shap(r.out)
    assert np.all(np.abs(got - want) <= 1e-9 * np.maximum(1.0, np.abs(want)))


def test_lightgbm_categories_file(audit, tmp_path):
    """A CLI-saved LightGBM model (no pandas_categorical) with the same lists given by
    --categories: the python-package's rule (a value not in the list is NaN) holds too."""
    line = (L / "model_pandas.txt").read_text().rstrip("\n").rsplit("\n", 1)[1]
    lists = json.loads(line.split(":", 1)[1])
    cats = tmp_path / "cats.json"
    cats.write_text(json.dumps(dict(zip(["cat_a", "cat_b", "cat_c"], lists))))
    r = audit("predict", "--model", L / "model.txt", "--categories", cats, "--data",
              L / "input_strings.csv", "--raw")
    assert r.code == 0, r
    assert np.array_equal(load(r.out, True), load(L / "raw_score.csv"))
    r = audit("predict", "--model", L / "model_pandas.txt", "--categories", cats, "--data",
              L / "input_strings.csv")
    assert r.code == 2 and "pandas_categorical" in r.err


@pytest.mark.parametrize("task", ["binary", "regression", "multiclass"])
def test_lightgbm_categorical_fixtures(audit, task):
    d = G / "lightgbm_cat" / task
    r = audit("predict", "--model", d / "model.txt", "--data", d / "input.csv", "--raw")
    assert r.code == 0, r
    assert np.array_equal(load(r.out, True), load(d / "raw_score.csv"))
    r = audit("explain", "--model", d / "model.txt", "--data", d / "input.csv")
    assert r.code == 0, r
    want = load(d / "pred_contrib.csv")
    assert np.all(np.abs(shap(r.out) - want) <= 1e-9 * np.maximum(1.0, np.abs(want)))


def test_lightgbm_interventional_equals_exact(audit):
    """No LightGBM oracle for interventional SHAP: tree-interventional equals the model-agnostic
    exact method on predictions that match LightGBM bit for bit (categorical rows included)."""
    args = ["--model", L / "model_pandas.txt", "--data", L / "input_strings.csv",
            "--background", L / "input_strings.csv", "--background-rows", "8", "--rows", "180:200"]
    a = audit("explain", *args, "--method", "tree-interventional")
    b = audit("explain", *args, "--method", "exact")
    assert a.code == 0 and b.code == 0, (a, b)
    assert np.abs(shap(a.out) - shap(b.out)).max() <= 1e-12


def test_errors_are_located(audit, tmp_path):
    # a text column without the mapping
    r = audit("predict", "--model", X / "binary.json", "--data", X / "data.csv")
    assert r.code == 2
    assert "color" in r.err and "--categories" in r.err
    # a category not in the mapping (XGBoost has no code for it)
    p = tmp_path / "d.csv"
    lines = (X / "data.csv").read_text().splitlines()
    lines[3] = "0.5,purple,c01,1.0,10"
    p.write_text("\n".join(lines) + "\n")
    r = audit("predict", "--model", X / "binary.json", "--categories", CATS, "--data", p)
    assert r.code == 2
    assert "data row 2 (CSV line 4)" in r.err and "purple" in r.err and "color" in r.err
    r = audit("explain", "--model", X / "binary.json", "--categories", CATS, "--data", p)
    assert r.code == 2 and "purple" in r.err
    # a malformed categories file names the file and the key
    bad = tmp_path / "c.json"
    bad.write_text('{"color": ["a", "a"]}')
    r = audit("predict", "--model", X / "binary.json", "--categories", bad, "--data", p)
    assert r.code == 2 and "c.json" in r.err and "twice" in r.err
    bad.write_text('{"x0": ["a"]}')
    r = audit("predict", "--model", X / "binary.json", "--categories", bad, "--data", p)
    assert r.code == 2 and "not categorical" in r.err
    # a malformed model: a categorical node without its set
    m = json.loads((X / "binary.json").read_text().replace("NaN", "null"))
    t = m["learner"]["gradient_booster"]["model"]["trees"][0]
    t["categories_sizes"][0] = len(t["categories"]) + 5
    bm = tmp_path / "m.json"
    bm.write_text(json.dumps(m))
    r = audit("predict", "--model", bm, "--data", X / "codes.csv")
    assert r.code == 2 and "trees[0].categories_sizes[0]" in r.err
    # --categories needs --model
    r = audit("fairness", "--data", p, "--sensitive", "color", "--score", "x0",
              "--threshold", "0", "--categories", CATS)
    assert r.code == 2 and "--categories needs --model" in r.err


def cats_block(categories, features):
    """XGBoost >= 3.1's model.cats (CatContainer::Save): one "enc" entry per feature, empty for a
    numerical one, names as an Arrow string array whose bytes are int8, numbers with a type."""
    enc, seg = [], [0]
    for f in features:
        cats = categories.get(f)
        if cats is None:
            enc.append({"offsets": [], "values": []})
        elif isinstance(cats[0], str):
            raw = [s.encode("utf-8") for s in cats]
            offs = np.cumsum([0] + [len(b) for b in raw]).tolist()
            enc.append({"offsets": offs, "values": [v - 256 if v > 127 else v
                                                    for v in b"".join(raw)]})
        else:
            enc.append({"type": 14, "values": cats})   # an integer array kind
        seg.append(seg[-1] + (len(cats) if cats else 0))
    order = [int(i) for f in features if categories.get(f)
             for i in np.argsort(categories[f], kind="stable")]   # unused by audit
    return {"enc": enc, "feature_segments": seg, "sorted_idx": order, "is_ref": False,
            "sorted": False}


@pytest.mark.parametrize("model", ["binary", "regression", "multiclass"])
def test_xgboost_31_saved_categories(audit, tmp_path, model):
    """A model JSON as XGBoost >= 3.1 writes it, with the training categories in model.cats (a
    non-ASCII name among them): predictions and SHAP values equal the same model given the
    categories by --categories, and the golden margins; --categories on top is a usage error,
    a category the model never saw a located error."""
    cats = json.loads(CATS.read_text())
    cats["color"][0] = "bleu caf\u00e9"
    data = (X / "data.csv").read_text().replace(",blue,", ",bleu caf\u00e9,")
    (tmp_path / "d.csv").write_text(data, encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps(cats), encoding="utf-8")
    doc = json.loads((X / f"{model}.json").read_text())
    doc["version"] = [3, 1, 0]
    doc["learner"]["gradient_booster"]["model"]["cats"] = cats_block(
        cats, doc["learner"]["feature_names"])
    (tmp_path / "m31.json").write_text(json.dumps(doc))
    r31 = audit("predict", "--model", tmp_path / "m31.json", "--data", tmp_path / "d.csv",
                "--raw")
    ref = audit("predict", "--model", X / f"{model}.json", "--categories", tmp_path / "c.json",
                "--data", tmp_path / "d.csv", "--raw")
    assert r31.code == 0 and ref.code == 0, (r31, ref)
    assert "bleu" in data and r31.out == ref.out
    assert np.array_equal(load(r31.out, True), load(X / f"{model}.margin.csv"))
    e31 = audit("explain", "--model", tmp_path / "m31.json", "--data", tmp_path / "d.csv")
    eref = audit("explain", "--model", X / f"{model}.json", "--categories", tmp_path / "c.json",
                 "--data", tmp_path / "d.csv")
    assert e31.code == 0 and e31.out == eref.out, e31
    r = audit("predict", "--model", tmp_path / "m31.json", "--categories", tmp_path / "c.json",
              "--data", tmp_path / "d.csv")
    assert r.code == 2 and "not needed" in r.err, r
    (tmp_path / "u.csv").write_text(data.replace("bleu caf\u00e9", "purple", 1),
                                    encoding="utf-8")
    r = audit("predict", "--model", tmp_path / "m31.json", "--data", tmp_path / "u.csv")
    assert r.code == 2 and "purple" in r.err and "color" in r.err, r


def test_xgboost_31_bad_cats(audit, tmp_path):
    """Malformed model.cats entries are located schema errors."""
    doc = json.loads((X / "binary.json").read_text())
    feats = doc["learner"]["feature_names"]
    for bad, what in [({"enc": [{"offsets": [], "values": []}]}, "one per feature"),
                      ({"enc": [{"offsets": [0, 9], "values": [97]}] * len(feats)}, "offsets"),
                      ({"enc": [{"type": 14, "values": ["a"]}] * len(feats)}, "numbers")]:
        doc["learner"]["gradient_booster"]["model"]["cats"] = bad
        (tmp_path / "m.json").write_text(json.dumps(doc))
        r = audit("predict", "--model", tmp_path / "m.json", "--data", X / "codes.csv")
        assert r.code == 2 and "cats.enc" in r.err and what in r.err, (bad, r)
