"""`audit predict` against the originating libraries.

XGBoost: golden data from tests/golden/gen_models.py (Debian python3-xgboost 1.7.4,
Booster.predict with and without output_margin). Tolerance: max |diff| <= 1e-6 (SPEC 2).
LightGBM: the real LightGBM v4.6.0 fixtures (tests/golden/data/lightgbm, README in
../shared/fixtures/lightgbm). Tolerance 0: the CLI prints shortest round-trip doubles, so the
values must be bit-identical to LightGBM's.
Threads: the output bytes must not depend on --threads.
"""
import csv
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ROOT / "tests" / "golden" / "data" / "models"
LGBM = ROOT / "tests" / "golden" / "data" / "lightgbm"

XGB = [
    ("xgb_binary_logistic", 1), ("xgb_binary_logitraw", 1), ("xgb_reg_squarederror", 1),
    ("xgb_reg_logistic", 1), ("xgb_multi_softprob", 3), ("xgb_multi_softmax", 3),
    ("xgb_count_poisson", 1), ("xgb_dart", 1), ("xgb_rf", 1), ("xgb_rf_multi", 3),
    ("xgb_unnamed", 1), ("xgb_pruned", 1), ("xgb_early_stopped", 1),
]


def read_rows(text_or_path):
    if isinstance(text_or_path, Path):
        text_or_path = text_or_path.read_text()
    rows = list(csv.reader(text_or_path.splitlines()))
    return rows[0], [[float(v) for v in r] for r in rows[1:]]


def max_abs_diff(a, b):
    assert len(a) == len(b)
    worst = 0.0
    for ra, rb in zip(a, b):
        assert len(ra) == len(rb)
        for x, y in zip(ra, rb):
            worst = max(worst, abs(x - y))
    return worst


def expected_header(n):
    return ["prediction"] if n == 1 else [f"prediction@{k}" for k in range(n)]


@pytest.mark.valgrind
@pytest.mark.parametrize("name,n_out", XGB)
def test_xgboost_margin_and_prediction(audit, name, n_out):
    model = MODELS / f"{name}.json"
    r = audit("predict", "--model", model, "--data", MODELS / "data.csv", "--raw")
    assert r.code == 0, r
    header, got = read_rows(r.out)
    assert header == expected_header(n_out)
    _, want = read_rows(MODELS / f"{name}.margin.csv")
    assert max_abs_diff(got, want) <= 1e-6
    r = audit("predict", "--model", model, "--data", MODELS / "data.csv")
    assert r.code == 0, r
    header, got = read_rows(r.out)
    n_pred = 1 if name.endswith("softmax") else n_out
    assert header == expected_header(n_pred)
    _, want = read_rows(MODELS / f"{name}.pred.csv")
    assert max_abs_diff(got, want) <= 1e-6
    if name == "xgb_unnamed":
        assert "by position" in r.err
    elif name == "xgb_early_stopped":
        assert "best_iteration" in r.err and "every round is used" in r.err
    else:
        assert r.err == ""


def test_xgboost_float32_threshold_edges(audit):
    r = audit("predict", "--model", MODELS / "xgb_binary_logistic.json", "--data",
              MODELS / "edge.csv", "--raw")
    assert r.code == 0, r
    _, got = read_rows(r.out)
    _, want = read_rows(MODELS / "xgb_binary_logistic.edge.margin.csv")
    assert max_abs_diff(got, want) <= 1e-6


def test_xgboost_columns_by_name_not_position(audit, tmp_path):
    """Shuffled and extra columns: matching is by name."""
    header, rows = None, []
    with open(MODELS / "data.csv") as f:
        rd = csv.reader(f)
        header = next(rd)
        rows = list(rd)
    order = [3, 0, 4, 2, 1]
    p = tmp_path / "shuffled.csv"
    with open(p, "w") as f:
        f.write(",".join(["id"] + [header[i] for i in order]) + "\n")
        for k, r in enumerate(rows):
            f.write(",".join([f"row{k}"] + [r[i] for i in order]) + "\n")
    a = audit("predict", "--model", MODELS / "xgb_multi_softprob.json", "--data", p)
    b = audit("predict", "--model", MODELS / "xgb_multi_softprob.json", "--data",
              MODELS / "data.csv")
    assert a.code == 0 and b.code == 0, (a, b)
    assert a.out == b.out


@pytest.mark.valgrind
@pytest.mark.parametrize("task,n_out", [("binary", 1), ("regression", 1), ("multiclass", 3)])
def test_lightgbm_fixtures_bit_exact(audit, task, n_out):
    # all 300 rows, incl. the binary fixture's two rows with 'inf' in f3
    inp = LGBM / task / "input.csv"
    for raw, ref in ((True, "raw_score.csv"), (False, "prediction.csv")):
        args = ["predict", "--model", LGBM / task / "model.txt", "--data", inp]
        r = audit(*(args + (["--raw"] if raw else [])))
        assert r.code == 0, r
        header, got = read_rows(r.out)
        assert header == expected_header(n_out)
        _, want = read_rows(LGBM / task / ref)
        assert len(got) == len(want) == 300
        assert max_abs_diff(got, want) == 0.0   # bit-exact


@pytest.mark.parametrize("model", [MODELS / "xgb_rf_multi.json",
                                   LGBM / "multiclass" / "model.txt"])
def test_threads_do_not_change_output(audit, model):
    data = MODELS / "data.csv" if model.suffix == ".json" else \
        LGBM / "multiclass" / "input.csv"
    outs = []
    for t in ("1", "2", "3", "7"):
        r = audit("predict", "--model", model, "--data", data, "--threads", t, "--raw")
        assert r.code == 0, r
        outs.append(r.out)
    assert all(o == outs[0] for o in outs)


def test_out_file_atomic(audit, tmp_path):
    out = tmp_path / "p.csv"
    r = audit("predict", "--model", MODELS / "xgb_binary_logistic.json", "--data",
              MODELS / "data.csv", "--out", out)
    assert r.code == 0, r
    assert r.out == ""
    header, rows = read_rows(out)
    assert header == ["prediction"] and len(rows) == 300
    assert all(0.0 < v[0] < 1.0 and not math.isnan(v[0]) for v in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


def to_xgb3_forms(doc, base_score):
    """Rewrite a 1.7 model file into the field forms of XGBoost 2.x/3.x: bracketed base_score,
    size_leaf_vector "1", parents[0] = 2147483647 kept, default_left as booleans, iteration_indptr
    and the model-level "cats" block, version [3, 1, 0]."""
    doc = json.loads(json.dumps(doc))
    lp = doc["learner"]["learner_model_param"]
    lp["base_score"] = base_score
    lp["num_target"] = "1"
    model = doc["learner"]["gradient_booster"].get("model") or \
        doc["learner"]["gradient_booster"]["gbtree"]["model"]
    n = len(model["trees"])
    model["iteration_indptr"] = list(range(0, n + 1))
    model["cats"] = {"enc": [], "feature_segments": [], "sorted_idx": []}
    for t in model["trees"]:
        t["tree_param"]["size_leaf_vector"] = "1"
        t["default_left"] = [bool(v) for v in t["default_left"]]
    doc["version"] = [3, 1, 0]
    return doc


def run_raw(audit, model, data=MODELS / "data.csv"):
    r = audit("predict", "--model", model, "--data", data, "--raw")
    assert r.code == 0, r
    return read_rows(r.out)[1]


def test_xgboost_3x_field_forms(audit, tmp_path):
    import json as _json
    for name, bs in (("xgb_binary_logistic", "[5E-1]"), ("xgb_reg_squarederror", None)):
        doc = _json.loads((MODELS / f"{name}.json").read_text())
        orig = doc["learner"]["learner_model_param"]["base_score"]
        p = tmp_path / f"{name}.v3.json"
        p.write_text(_json.dumps(to_xgb3_forms(doc, bs or f"[{orig}]")))
        assert run_raw(audit, p) == run_raw(audit, MODELS / f"{name}.json")


def test_xgboost_per_class_base_score(audit, tmp_path):
    """XGBoost 3 stores one intercept per class (multi:* objectives: added to the margin as is)."""
    import json as _json
    doc = _json.loads((MODELS / "xgb_multi_softprob.json").read_text())
    assert float(doc["learner"]["learner_model_param"]["base_score"]) == 0.5
    b = [0.25, 0.5, 0.125]   # exact in float32
    p = tmp_path / "m.json"
    p.write_text(_json.dumps(to_xgb3_forms(doc, "[" + ",".join(repr(v) for v in b) + "]")))
    got = run_raw(audit, p)
    want = run_raw(audit, MODELS / "xgb_multi_softprob.json")
    for g, w in zip(got, want):
        for k in range(3):
            assert abs(g[k] - (w[k] - 0.5 + b[k])) <= 1e-6
