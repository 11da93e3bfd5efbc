"""`audit predict`: usage and bad input. Every bad model or data file must give exit 2 and a
located message (file, line/column or JSON field), never a crash, and no output file."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ROOT / "tests" / "golden" / "data" / "models"
LGBM = ROOT / "tests" / "golden" / "data" / "lightgbm"
DATA = MODELS / "data.csv"


def load(name="xgb_binary_logistic"):
    return json.loads((MODELS / f"{name}.json").read_text())


def write_json(tmp_path, doc, name="m.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def run_bad(audit, tmp_path, model, *needles, data=DATA):
    out = tmp_path / "out.csv"
    r = audit("predict", "--model", model, "--data", data, "--out", out)
    assert r.code == 2, r
    assert r.err.startswith("audit: "), r
    assert str(model) in r.err or str(data) in r.err, r
    for n in needles:
        assert n in r.err, r
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out.csv")] == []
    return r


def test_help(audit):
    r = audit("predict", "--help")
    assert r.code == 0 and "usage: audit predict" in r.out


@pytest.mark.parametrize("args,needle", [
    ([], "--model is required"),
    (["--model", "x.json"], "--data is required"),
    (["--model", "x.json", "--data", "d.csv", "--bogus"], "unknown option"),
    (["--model", "x.json", "--data", "d.csv", "--threads", "zero"], "--threads"),
    (["--model", "x.json", "--data", "d.csv", "--model-format", "onnx"], "--model-format"),
    (["--model", "x.json", "--data", "d.csv", "extra"], "unexpected argument"),
])
def test_usage_errors(audit, args, needle):
    r = audit("predict", *args)
    assert r.code == 2, r
    assert needle in r.err


def test_missing_model_file(audit, tmp_path):
    run_bad(audit, tmp_path, tmp_path / "nope.json", "cannot open")


@pytest.mark.valgrind
def test_truncated_json(audit, tmp_path):
    text = (MODELS / "xgb_binary_logistic.json").read_text()
    p = tmp_path / "t.json"
    p.write_text(text[: len(text) // 2])
    r = run_bad(audit, tmp_path, p, "invalid JSON")
    assert f"{p}:1:" in r.err      # line and column


def test_not_a_model(audit, tmp_path):
    p = tmp_path / "m.bin"
    p.write_bytes(b"\x00\x01garbage")
    run_bad(audit, tmp_path, p, "unknown model format")


def test_json_that_is_not_xgboost(audit, tmp_path):
    run_bad(audit, tmp_path, write_json(tmp_path, {"a": 1}), "learner")


def test_wrong_types(audit, tmp_path):
    doc = load()
    doc["learner"]["gradient_booster"]["model"]["trees"][2]["left_children"][0] = "one"
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "trees[2].left_children[0]")
    doc = load()
    doc["learner"]["gradient_booster"]["model"]["trees"] = {"0": 1}
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "trees")
    doc = load()
    doc["learner"]["learner_model_param"]["num_feature"] = [5]
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "num_feature")


def test_child_index_out_of_range(audit, tmp_path):
    doc = load()
    t = doc["learner"]["gradient_booster"]["model"]["trees"][1]
    t["left_children"][0] = len(t["left_children"]) + 5
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "trees[1].left_children[0]")
    doc = load()
    doc["learner"]["gradient_booster"]["model"]["trees"][0]["right_children"][0] = -7
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "right_children[0]")


@pytest.mark.valgrind
def test_cycle(audit, tmp_path):
    doc = load()
    t = doc["learner"]["gradient_booster"]["model"]["trees"][3]
    # point an internal node's child back at the root
    i = next(k for k, l in enumerate(t["left_children"]) if k > 0 and l != -1)
    t["left_children"][i] = 0
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "reached twice")


def test_feature_index_out_of_range(audit, tmp_path):
    doc = load()
    doc["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 99
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "split_indices[0]")


def test_node_count_mismatch_and_absurd(audit, tmp_path):
    doc = load()
    doc["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["num_nodes"] = "3"
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "num_nodes")
    doc["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["num_nodes"] = \
        "99999999999"
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "num_nodes")


def test_unknown_objective(audit, tmp_path):
    doc = load()
    doc["learner"]["objective"]["name"] = "rank:pairwise"
    r = run_bad(audit, tmp_path, write_json(tmp_path, doc), "rank:pairwise", "objective")
    assert "unsupported" in r.err


def test_split_types(audit, tmp_path):
    """split_type 1 with its category set loads (tests/golden/test_categorical.py checks such
    models against XGBoost); without the set, and any other split type, is a located error."""
    doc = load()
    t = doc["learner"]["gradient_booster"]["model"]["trees"][0]
    t["split_type"][0] = 1
    t["categories_nodes"] = [0]
    t["categories"] = [1]
    t["categories_segments"] = [0]
    t["categories_sizes"] = [1]
    r = audit("predict", "--model", write_json(tmp_path, doc), "--data", DATA)
    assert r.code == 0, r
    t["categories_nodes"] = []
    t["categories_segments"] = []
    t["categories_sizes"] = []
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "trees[0].categories_nodes",
            "no category set")
    t["split_type"][0] = 2
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "trees[0].split_type[0]",
            "not supported")


def test_tree_info_out_of_range(audit, tmp_path):
    doc = load("xgb_multi_softprob")
    doc["learner"]["gradient_booster"]["model"]["tree_info"][4] = 3
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "tree_info[4]")


@pytest.mark.valgrind
def test_missing_feature_names_feature_and_file(audit, tmp_path):
    d = tmp_path / "d.csv"
    lines = DATA.read_text().splitlines()
    d.write_text("\n".join(l.split(",", 1)[1] for l in lines) + "\n")   # drop f0
    r = run_bad(audit, tmp_path, MODELS / "xgb_binary_logistic.json", '"f0"', data=d)
    assert str(d) in r.err


def test_non_numeric_feature_column(audit, tmp_path):
    d = tmp_path / "d.csv"
    lines = DATA.read_text().splitlines()
    d.write_text("\n".join([lines[0]] + [l + ("x" if i == 3 else "") for i, l in
                                         enumerate(lines[1:])]) + "\n")
    run_bad(audit, tmp_path, MODELS / "xgb_binary_logistic.json", "f4", "not numeric", data=d)


def test_bad_data_file(audit, tmp_path):
    d = tmp_path / "d.csv"
    d.write_text("f0,f1,f2,f3,f4\n1,2,3\n")
    run_bad(audit, tmp_path, MODELS / "xgb_binary_logistic.json", "d.csv:2", data=d)


@pytest.mark.valgrind
def test_lightgbm_hostile(audit, tmp_path):
    text = (LGBM / "binary" / "model.txt").read_text()
    cases = [
        (text.replace("left_child=1 -1 4 5", "left_child=1 -1 4 99", 1), "out of range"),
        (text.replace("left_child=1 -1 4 5", "left_child=1 0 4 5", 1), "reached twice"),
        (text.replace("objective=binary sigmoid:1", "objective=lambdarank", 1), "lambdarank"),
        (text.replace("split_feature=10 6 6", "split_feature=10 6 60", 1), "split_feature"),
        (text.replace("num_leaves=31", "num_leaves=2000000000", 1), "num_leaves"),
        (text[: len(text) // 3], "expected"),
        (text[: text.index("Tree=7")], "end of trees"),
        # the number lists: kind, range, count (messages from the one list parser)
        (text.replace("split_feature=10 6 6", "split_feature=10 x 6", 1),
         "split_feature: expected an integer"),
        (text.replace("split_feature=10 6 6", "split_feature=10 -6 6", 1),
         "split_feature: value -6 out of range"),
        (text.replace("threshold=0 -2.68", "threshold=zero -2.68", 1),
         "threshold: expected a number"),
        (text.replace("threshold=0 -2.68", "threshold=0 0 -2.68", 1),
         "threshold: more than 30 values"),
        (text.replace("threshold=0 -2.68", "threshold=-2.68", 1),
         "threshold: expected 30 values, found 29"),
    ]
    for k, (body, needle) in enumerate(cases):
        p = tmp_path / f"m{k}.txt"
        p.write_text(body)
        r = run_bad(audit, tmp_path, p, needle, data=LGBM / "binary" / "input.csv")
        assert f"{p}:" in r.err


LINEAR = {"format": "audit-linear", "version": 1, "link": "logit", "intercept": -0.5,
          "coefficients": {"f0": 0.25, "f1": -1.0, "f3": 0.125}}


@pytest.mark.valgrind
def test_linear_model_hand_computed(audit, tmp_path):
    m = write_json(tmp_path, LINEAR)
    d = tmp_path / "d.csv"
    d.write_text("f3,f1,f0,unused\n1,2,4,x\n0,0,0,y\n")
    r = audit("predict", "--model", m, "--data", d, "--raw")
    assert r.code == 0, r
    assert r.out.splitlines() == ["prediction", "-1.375", "-0.5"]
    r = audit("predict", "--model", m, "--data", d)
    import math
    got = [float(v) for v in r.out.splitlines()[1:]]
    assert abs(got[0] - 1 / (1 + math.exp(1.375))) <= 1e-15
    assert abs(got[1] - 1 / (1 + math.exp(0.5))) <= 1e-15


def test_linear_missing_value_refused(audit, tmp_path):
    m = write_json(tmp_path, LINEAR)
    d = tmp_path / "d.csv"
    d.write_text("f0,f1,f3\n1,2,3\n1,,3\n")
    run_bad(audit, tmp_path, m, "data row 1 (CSV line 3)", '"f1"', data=d)


@pytest.mark.parametrize("change,needle", [
    ({"link": "probit"}, "link"),
    ({"intercept": "1"}, "intercept"),
    ({"coefficients": {"f0": "x"}}, "f0"),
    ({"coefficients": []}, "coefficients"),
    ({"version": 2}, "version"),
    ({"typo": 1}, "typo"),
])
def test_linear_bad_fields(audit, tmp_path, change, needle):
    doc = dict(LINEAR)
    doc.update(change)
    run_bad(audit, tmp_path, write_json(tmp_path, doc), needle)


TREES = {"format": "audit-trees", "version": 1, "features": ["f0", "f1"], "n_outputs": 1,
         "link": "identity", "base_score": [0.5], "missing": "default",
         "trees": [{"output": 0, "left": [1, -1, -1], "right": [2, -1, -1],
                    "feature": [1, -2, -2], "threshold": [0.0, 0, 0],
                    "default_left": [1, 0, 0], "value": [0, -1.0, 1.0]}]}


@pytest.mark.valgrind
def test_trees_json_hand_computed(audit, tmp_path):
    m = write_json(tmp_path, TREES)
    d = tmp_path / "d.csv"
    d.write_text("f0,f1\n1,-1\n1,1\n1,\n1,0\n")
    r = audit("predict", "--model", m, "--data", d)
    assert r.code == 0, r
    assert r.out.splitlines() == ["prediction", "-0.5", "1.5", "-0.5", "-0.5"]


@pytest.mark.parametrize("path,value,needle", [
    (("trees", 0, "left", 0), 7, "left[0]"),
    (("trees", 0, "left", 0), 0, "reached twice"),
    (("trees", 0, "feature", 0), 5, "feature[0]"),
    (("trees", 0, "output"), 1, "output"),
    (("trees", 0, "value"), [0, 1], "value"),
    (("trees", 0, "split"), "gt", "split"),
    (("base_score",), [1, 2], "base_score"),
    (("n_outputs",), 0, "n_outputs"),
])
def test_trees_json_bad(audit, tmp_path, path, value, needle):
    doc = json.loads(json.dumps(TREES))
    o = doc
    for k in path[:-1]:
        o = o[k]
    o[path[-1]] = value
    run_bad(audit, tmp_path, write_json(tmp_path, doc), needle)


def test_num_trees_mismatch(audit, tmp_path):
    doc = load()
    del doc["learner"]["gradient_booster"]["model"]["trees"][-1]
    del doc["learner"]["gradient_booster"]["model"]["tree_info"][-1]
    run_bad(audit, tmp_path, write_json(tmp_path, doc), "num_trees")


def test_header_only_and_stdin(audit, tmp_path):
    d = tmp_path / "h.csv"
    d.write_text(DATA.read_text().splitlines()[0] + "\n")
    r = audit("predict", "--model", MODELS / "xgb_binary_logistic.json", "--data", d)
    assert r.code == 0 and r.out == "prediction\n", r
    three = "\n".join(DATA.read_text().splitlines()[:3]) + "\n"
    a = audit("predict", "--model", MODELS / "xgb_binary_logistic.json", "--data", "-",
              input=three)
    b = audit("predict", "--model", MODELS / "xgb_binary_logistic.json", "--data", DATA)
    assert a.code == 0, a
    assert a.out.splitlines() == b.out.splitlines()[:3]
    r = audit("predict", "--model", "-", "--data", "-")
    assert r.code == 2 and "stdin" in r.err


def test_byte_order_mark_and_crlf(audit, tmp_path):
    for src, data in ((LGBM / "regression" / "model.txt", LGBM / "regression" / "input.csv"),
                      (MODELS / "xgb_rf.json", DATA)):
        p = tmp_path / ("bom" + src.suffix)
        p.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().replace(b"\n", b"\r\n"))
        a = audit("predict", "--model", p, "--data", data)
        b = audit("predict", "--model", src, "--data", data)
        assert a.code == 0 and a.out == b.out, a


@pytest.fixture(scope="module")
def large_model(tmp_path_factory):
    """A 150-tree depth-5 XGBoost model (about 0.7 MB of JSON: over the size from which the
    trees are parsed one by one, on --threads threads: models/xgb_json.c) and rows with missing
    values, with XGBoost's own margins and SHAP values."""
    import numpy as np
    import xgboost as xgb
    d = tmp_path_factory.mktemp("large_model")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 8))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1] * X[:, 2]) + rng.normal(size=3000) > 0)
    names = [f"x{j}" for j in range(8)]
    b = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.1, "nthread": 1},
                  xgb.DMatrix(X, label=y.astype(float), feature_names=names), 150)
    model = d / "large.json"
    b.save_model(str(model))
    rows = X[:400]
    data = d / "rows.csv"
    data.write_text(",".join(names) + "\n" + "\n".join(
        ",".join("" if np.isnan(v) else repr(float(v)) for v in r) for r in rows) + "\n")
    dm = xgb.DMatrix(rows, feature_names=names)
    return model, data, b.predict(dm), b.predict(dm, pred_contribs=True)


def test_large_model_read_tree_by_tree_on_threads(audit, tmp_path, large_model):
    """The same predictions and attributions at 1, 2 and 3 threads, equal to XGBoost's."""
    import numpy as np
    import pandas as pd
    model, data, pred, contribs = large_model
    assert model.stat().st_size > 256 * 1024
    outs = []
    for t in ("1", "2", "3"):
        out = tmp_path / f"p{t}.csv"
        r = audit("predict", "--model", model, "--data", data, "--out", out, "--threads", t)
        assert r.code == 0, r
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    got = pd.read_csv(tmp_path / "p1.csv")
    assert np.max(np.abs(got.iloc[:, -1].to_numpy() - pred)) <= 1e-6
    shap = []
    for t in ("1", "3"):
        out = tmp_path / f"s{t}.csv"
        r = audit("explain", "--model", model, "--data", data, "--rows", "400", "--out", out,
                  "--threads", t)
        assert r.code == 0, r
        shap.append(out.read_bytes())
    assert shap[0] == shap[1]
    s = pd.read_csv(tmp_path / "s1.csv")
    cols = [f"x{j}" for j in range(8)]
    assert all(c in s.columns for c in cols), list(s.columns)
    assert np.max(np.abs(s[cols].to_numpy() - contribs[:, :8])) <= 1e-5


@pytest.mark.valgrind
def test_large_model_broken_tree_is_located(audit, tmp_path, large_model):
    """A broken tree in the middle of a large model: the error of the whole-document parse
    (the field of that tree), whatever the threads."""
    model = large_model[0]
    doc = json.loads(model.read_text())
    doc["learner"]["gradient_booster"]["model"]["trees"][77]["left_children"][0] = 0
    bad = write_json(tmp_path, doc, "bad.json")
    for t in ("1", "2"):
        out = tmp_path / "out.csv"
        r = audit("predict", "--model", bad, "--data", large_model[1], "--out", out,
                  "--threads", t)
        assert r.code == 2, r
        assert "trees[77]" in r.err and "bad.json" in r.err, r
        assert not out.exists()


def test_large_lightgbm_model_read_on_threads(audit, tmp_path):
    """LightGBM's binary fixture with its 50 trees repeated 20 times (1,000 trees, 3.5 MB: its
    trees are built on --threads threads, models/lgbm_text.c): raw margins 20 times LightGBM's
    own for the 50 trees (1e-9), byte-identical at 1, 2 and 3 threads."""
    import re
    import numpy as np
    import pandas as pd
    src = LGBM / "binary"
    text = (src / "model.txt").read_text()
    head, rest = text.split("\nTree=0\n", 1)
    trees, tail = rest.split("end of trees", 1)
    blocks = re.split(r"(?m)^Tree=\d+\n", "Tree=0\n" + trees)[1:]
    head = re.sub(r"(?m)^tree_sizes=.*\n", "", head)
    body = "".join("Tree=%d\n%s" % (k, b) for k, b in
                   enumerate(b for _ in range(20) for b in blocks))
    model = tmp_path / "big.txt"
    model.write_text(head + "\n" + body + "end of trees" + tail)
    assert model.stat().st_size > 256 * 1024
    outs = []
    for t in ("1", "2", "3"):
        out = tmp_path / f"raw{t}.csv"
        r = audit("predict", "--model", model, "--data", src / "input.csv", "--raw", "--out", out,
                  "--threads", t)
        assert r.code == 0, r
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    got = pd.read_csv(tmp_path / "raw1.csv").iloc[:, -1].to_numpy()
    want = 20 * pd.read_csv(src / "raw_score.csv")["raw_score"].to_numpy()
    assert np.max(np.abs(got - want)) <= 1e-9
