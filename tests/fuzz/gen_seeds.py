#!/usr/bin/python3
"""Write the seed corpora of the fuzz harnesses (tests/fuzz/corpus/NAME/): small, valid inputs of
each parser, so that the fuzzer starts from the structures real files have. Deterministic.

usage: /usr/bin/python3 tests/fuzz/gen_seeds.py AUDIT_BIN   (run from the repository root)

XGBoost seeds are trained with Debian's python3-xgboost, the audit-linear and audit-trees seeds
are exported from scikit-learn with tools/export_sklearn.py, LightGBM seeds are the first trees of
the v4.6.0 golden models (tests/golden/data/lightgbm) with a rewritten tree_sizes line, the spec
seeds are the demo spec and variants, the results seeds come from `audit run` on 40 rows.
"""
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(name, fname, data):
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, name, fname), "wb") as f:
        f.write(data)


def csv_seeds():
    with open(os.path.join(ROOT, "datasets", "credit_current.csv")) as f:
        lines = f.read().splitlines()
    put("csv", "credit_head.csv", "\n".join(lines[:6]) + "\n")
    put("csv", "quoted.csv", 'a,"b ""q""",c\r\n1,"x,y",2.5e3\r\n,"multi\nline",NA\r\n-0.0,?,inf\r\n')
    put("csv", "semicolon_na.csv", b"\x03x;y;z\n1;-;a\nx;2;b\n3;4;\n")
    put("csv", "limits.csv", b"\x04a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n")
    put("csv", "bom_categorical.csv", "\ufeffid,grp,score\n1,A,0.5\n2,B,0.25\n3,A,\n4,C,1e-300\n")
    put("csv", "no_newline.csv", "h1,h2\n0x10,nan\n1,2")
    for fn in ("fair_all_unselected.csv", "fair_numeric_reference.csv"):
        with open(os.path.join(ROOT, "tests", "golden", "data", "regressions", fn), "rb") as f:
            put("csv", fn, f.read())


def xgb_seeds(tmp):
    import xgboost as xgb
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) > 0).astype(int)
    y3 = (np.nan_to_num(X[:, 0]) > 0).astype(int) + (np.nan_to_num(X[:, 2]) > 0.5)
    runs = [
        ("binary", {"objective": "binary:logistic", "max_depth": 2}, y, 2),
        ("logitraw", {"objective": "binary:logitraw", "max_depth": 1}, y, 2),
        ("multi", {"objective": "multi:softprob", "num_class": 3, "max_depth": 1}, y3, 1),
        ("softmax", {"objective": "multi:softmax", "num_class": 3, "max_depth": 1}, y3, 1),
        ("dart", {"objective": "reg:squarederror", "booster": "dart", "max_depth": 1,
                  "rate_drop": 0.5}, y * 1.5, 2),
        ("rf", {"objective": "binary:logistic", "num_parallel_tree": 2, "max_depth": 1,
                "subsample": 0.8, "colsample_bynode": 0.8}, y, 1),
        ("poisson", {"objective": "count:poisson", "max_depth": 1}, y3, 2),
    ]
    for name, params, target, rounds in runs:
        params = dict(params, seed=0, nthread=1)
        d = xgb.DMatrix(X, label=target, feature_names=["a", "b", "c"])
        b = xgb.train(params, d, num_boost_round=rounds)
        path = os.path.join(tmp, name + ".json")
        b.save_model(path)
        with open(path, "rb") as f:
            data = f.read()
        put("xgb", name + ".json", data)
        if name in ("binary", "multi"):
            put("model", "xgb_" + name + ".json", data)


def lgbm_trim(src, n_trees):
    with open(src) as f:
        text = f.read()
    head, rest = text.split("\nTree=0\n", 1)
    blocks = ("Tree=0\n" + rest).split("end of trees")[0].split("\n\n\n")
    blocks = [b for b in blocks if b.startswith("Tree=")][:n_trees]
    blocks = [b + "\n\n\n" for b in blocks]
    sizes = " ".join(str(len(b)) for b in blocks)
    head_lines = [("tree_sizes=" + sizes) if l.startswith("tree_sizes=") else l
                  for l in head.split("\n")]
    return "\n".join(head_lines) + "\n" + "".join(blocks) + "end of trees\n\npandas_categorical:null\n"


def lgbm_seeds():
    base = os.path.join(ROOT, "tests", "golden", "data", "lightgbm")
    put("lgbm", "binary2.txt", lgbm_trim(os.path.join(base, "binary", "model.txt"), 2))
    put("lgbm", "multiclass3.txt", lgbm_trim(os.path.join(base, "multiclass", "model.txt"), 3))
    put("lgbm", "regression1.txt", lgbm_trim(os.path.join(base, "regression", "model.txt"), 1))
    small = """tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=2
objective=binary sigmoid:1
feature_names=a b c
feature_infos=[0:1] none -1:0:3:7
tree_sizes=0

Tree=0
num_leaves=3
num_cat=1
split_feature=0 2
split_gain=1 1
threshold=0.5 0
decision_type=10 1
left_child=1 -1
right_child=-2 -3
leaf_value=0.25 -0.5 1.25
leaf_weight=1 1 1
leaf_count=10 5 5
internal_value=0 0.1
internal_weight=2 1
internal_count=20 10
cat_boundaries=0 1
cat_threshold=137
is_linear=0
shrinkage=1


end of trees

feature_importances:
a=1
c=1

parameters:
[boosting: gbdt]
end of parameters

pandas_categorical:null
"""
    put("lgbm", "small_cat.txt", small)
    put("lgbm", "rf_average.txt", small.replace("num_tree_per_iteration=1\n",
                                                "num_tree_per_iteration=1\naverage_output\n")
        .replace("objective=binary sigmoid:1", "objective=regression"))
    put("model", "lgbm_small_cat.txt", small)


def sklearn_seeds(tmp):
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.tree import DecisionTreeRegressor
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["age", "income", "n"])
    y = (X["age"] - X["n"] > 0).astype(int)
    y3 = (X["age"] > 0).astype(int) + (X["income"] > 0.3)
    models = [
        ("linear", "logistic.json", LogisticRegression().fit(X, y)),
        ("linear", "regression.json", LinearRegression().fit(X, X["age"] * 2 + 1)),
        ("trees", "gbc.json", GradientBoostingClassifier(n_estimators=2, max_depth=2,
                                                         random_state=0).fit(X, y)),
        ("trees", "gbc_multi.json", GradientBoostingClassifier(n_estimators=1, max_depth=1,
                                                               random_state=0).fit(X, y3)),
        ("trees", "rf.json", RandomForestClassifier(n_estimators=2, max_depth=2,
                                                    random_state=0).fit(X, y)),
        ("trees", "tree_reg.json", DecisionTreeRegressor(max_depth=2,
                                                         random_state=0).fit(X, X["income"])),
    ]
    for name, fname, model in models:
        pkl = os.path.join(tmp, fname + ".pkl")
        with open(pkl, "wb") as f:
            pickle.dump(model, f)
        out = os.path.join(tmp, fname)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export_sklearn.py"), pkl, out],
                       check=True)
        with open(out, "rb") as f:
            data = f.read()
        put(name, fname, data)
        if fname in ("logistic.json", "rf.json"):
            put("model", name + "_" + fname, data)
    # pipelines: a preprocessing stage (scalers, imputers, one-hot / ordinal encoders)
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    P = X.copy()
    P["region"] = rng.choice(["N", "S", "E"], len(P))
    P.loc[P.index[::7], "age"] = np.nan
    ct = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer(strategy="median")),
                          ("sc", StandardScaler())]), ["age", "income"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ("n", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["n"]),
    ])
    P["n"] = (P["n"] > 0).astype(int)
    for name, fname, est in [
            ("linear", "pipeline.json", LogisticRegression()),
            ("trees", "pipeline.json", GradientBoostingClassifier(n_estimators=2, max_depth=2,
                                                                  random_state=0))]:
        pipe = Pipeline([("prep", ct), ("model", est)]).fit(P, y)
        pkl = os.path.join(tmp, name + fname + ".pkl")
        with open(pkl, "wb") as f:
            pickle.dump(pipe, f)
        out = os.path.join(tmp, name + fname)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export_sklearn.py"), pkl,
                        out], check=True)
        with open(out, "rb") as f:
            data = f.read()
        put(name, fname, data)
        put("model", name + "_" + fname, data)
    trees = {"format": "audit-trees", "version": 1, "features": None, "n_features": 2,
             "n_outputs": 3, "link": "softmax", "base_score": [0.1, -0.2, 0.0], "average": False,
             "is_classifier": True, "missing": "default", "objective": "handwritten",
             "trees": [{"output": k, "split": "lt_f32" if k else "le_f32", "left": [1, -1, -1],
                        "right": [2, -1, -1], "feature": [k % 2, -2, -2],
                        "threshold": [0.5, 0, 0], "value": [0, -0.5 * k, 0.25],
                        "cover": [4, 2, 2], "default_left": [1, 0, 0]} for k in range(3)]}
    put("trees", "softmax_default.json", json.dumps(trees, indent=1))
    lin = {"format": "audit-linear", "version": 1, "link": "identity", "intercept": -1.25,
           "coefficients": {"x": 0.5, "y": 0, "z": -3e-5}, "objective": "o", "source": "s"}
    put("linear", "identity.json", json.dumps(lin))


def spec_and_report_seeds(audit_bin, tmp):
    with open(os.path.join(ROOT, "datasets", "demo_audit.json"), "rb") as f:
        demo = f.read()
    put("spec", "demo_audit.json", demo)
    spec = json.loads(demo)
    spec["fairness"] = {"reference": {"race": "A"}, "min_group_share": 0.05, "bootstrap": 0}
    spec["compliance"] = {"nyc-ll144": {"sex": "sex", "race": "race"}}
    spec["drift"] = {"method": "psi", "threshold": 0.2, "psi_binning": "quantile", "share": 0.5,
                     "columns": ["age", "income"],
                     "overrides": {"age": {"method": "ks", "threshold": 0.01}}}
    spec["checks"].append({"metric": "disparate_impact", "min": 0.8, "attribute": "sex&race",
                           "group": "female&B"})
    spec["explain"] = {"method": "tree", "rows": 50, "background": 20, "show_rows": [0, 3]}
    spec["na"] = ["", "NA"]
    spec["delimiter"] = ","
    spec["threads"] = 2
    put("spec", "full.json", json.dumps(spec, indent=1))
    put("spec", "minimal.json", '{"data": "d.csv", "prediction": "p", "label": "y", '
                                '"sensitive": ["g"], "explain": false}')
    put("spec", "score.json", '{"data": "d.csv", "score": "s", "threshold": 0.3, "favorable": 1,'
                              ' "sensitive": ["g", "h"], "intersections": false,'
                              ' "outputs": {"dir": "/tmp/x", "json": "r.json"}}')
    # results documents from `audit run` on the first 40 rows of the demo data
    with open(os.path.join(ROOT, "datasets", "credit_current.csv")) as f:
        lines = f.read().splitlines()
    with open(os.path.join(ROOT, "datasets", "credit_reference.csv")) as f:
        ref = f.read().splitlines()
    with open(os.path.join(tmp, "cur.csv"), "w") as f:
        f.write("\n".join(lines[:41]) + "\n")
    with open(os.path.join(tmp, "ref.csv"), "w") as f:
        f.write("\n".join(ref[:41]) + "\n")
    shutil.copy(os.path.join(ROOT, "datasets", "credit_xgb.json"), os.path.join(tmp, "m.json"))
    run = {"model": "m.json", "data": "cur.csv", "reference": "ref.csv", "label": "default",
           "favorable": 0, "sensitive": ["sex", "race"], "fairness": {"bootstrap": 0},
           "explain": {"rows": 3, "background": 5, "show_rows": [0]},
           "drift": {"columns": ["age", "income", "sex"]},
           "checks": [{"metric": "disparate_impact", "min": 0.8}],
           "outputs": {"dir": "out", "json": "results.json"}}
    with open(os.path.join(tmp, "run.json"), "w") as f:
        json.dump(run, f)
    subprocess.run([audit_bin, "run", os.path.join(tmp, "run.json"), "--created",
                    "2026-01-01T00:00:00Z"], stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "out", "results.json"), "rb") as f:
        put("report", "run_small.json", f.read())
    with open(os.path.join(ROOT, "tests", "golden", "data", "reports", "results_minimal.json"),
              "rb") as f:
        put("report", "results_minimal.json", f.read())


def categorical_seeds():
    """Native categorical splits: an XGBoost enable_categorical model (python3-xgboost, category
    sets incl. a 2-word one, NaN split_conditions) and the LightGBM categorical fixture's first
    trees with its pandas_categorical line (tests/golden/data/lightgbm_cat)."""
    import pandas as pd
    import xgboost as xgb
    rng = np.random.default_rng(5)
    n = 300
    X = pd.DataFrame({"a": rng.normal(size=n),
                      "c": pd.Categorical(rng.integers(0, 40, size=n).astype(str)),
                      "d": pd.Categorical(rng.choice(["x", "y", "z"], size=n))})
    y = X["a"] + (X["c"].cat.codes % 5) - (X["d"] == "y") + rng.normal(size=n) * 0.2
    b = xgb.train({"tree_method": "hist", "max_depth": 3, "max_cat_to_onehot": 4, "seed": 1},
                  xgb.DMatrix(X, y, enable_categorical=True), 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.json")
        b.save_model(path)
        with open(path, "rb") as f:
            data = f.read()
    put("xgb", "categorical.json", data)
    put("model", "xgb_categorical.json", data)
    base = os.path.join(ROOT, "tests", "golden", "data", "lightgbm_cat", "binary")
    with open(os.path.join(base, "model_pandas.txt")) as f:
        pandas_line = f.read().split("end of parameters\n", 1)[1]
    small = lgbm_trim(os.path.join(base, "model.txt"), 3).replace(
        "\npandas_categorical:null\n", pandas_line)
    put("lgbm", "pandas_categorical.txt", small)
    put("model", "lgbm_pandas_categorical.txt", small)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        csv_seeds()
        xgb_seeds(tmp)
        lgbm_seeds()
        categorical_seeds()
        sklearn_seeds(tmp)
        spec_and_report_seeds(os.path.abspath(sys.argv[1]), tmp)


if __name__ == "__main__":
    main()
