"""tools/export_categories.py writes the --categories file from the training data: the category
lists equal pandas' own (series.cat.categories, code order), and a Debian python3-xgboost 1.7
enable_categorical model read with that file predicts exactly what XGBoost predicts on the
DataFrame (margins within 1e-6; XGBoost sums in float32, audit reproduces them)."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
TOOL = ROOT / "tools" / "export_categories.py"
PY = "/usr/bin/python3"


def export(*args):
    """The tool run as a program (first call) - the others call its main() in this process,
    which is what the program runs (pandas starts slowly)."""
    return subprocess.run([PY, str(TOOL), *map(str, args)], capture_output=True, text=True)


class Result:
    def __init__(self, code, err):
        self.returncode, self.stderr = code, err


@pytest.fixture
def run_main(capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("export_categories", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def call(*args):
        code = mod.main([str(a) for a in args])
        return Result(code, capsys.readouterr().err)
    return call


def frame(n=200, seed=3):
    rng = np.random.default_rng(seed)
    # categories in a chosen order (not sorted), one never used, a non-ASCII one; int categories
    colors = pd.CategoricalDtype(["red", "blue", "gr\u00fcn", "unused"])
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "color": pd.Series(rng.choice(["red", "blue", "gr\u00fcn"], n)).astype(colors),
        "size": pd.Series(rng.choice([30, 10, 20], n)).astype("category"),
    })
    df.loc[5, "color"] = np.nan
    return df


def test_from_dataframe_pickle(tmp_path):
    df = frame()
    df.to_pickle(tmp_path / "d.pkl")
    r = export(tmp_path / "d.pkl", tmp_path / "c.json")
    assert r.returncode == 0, r.stderr
    got = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert got == {"color": list(df.color.cat.categories),
                   "size": [int(v) for v in df["size"].cat.categories]}
    assert got["size"] == [10, 20, 30] and got["color"][2] == "gr\u00fcn"


def test_from_csv_columns(tmp_path, run_main):
    df = frame()
    df.to_csv(tmp_path / "d.csv", index=False)
    r = run_main(tmp_path / "d.csv", tmp_path / "c.json", "--columns", "color,size")
    assert r.returncode == 0, r.stderr
    back = pd.read_csv(tmp_path / "d.csv")
    got = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert got == {"color": list(back.color.astype("category").cat.categories),
                   "size": [10, 20, 30]}


def test_errors(tmp_path, run_main):
    export = run_main
    pd.DataFrame({"x": [1.0, 2.0]}).to_pickle(tmp_path / "n.pkl")
    r = export(tmp_path / "n.pkl", tmp_path / "c.json")
    assert r.returncode == 2 and "no column of dtype 'category'" in r.stderr, r
    r = export(tmp_path / "n.pkl", tmp_path / "c.json", "--columns", "y")
    assert r.returncode == 2 and "no column 'y'" in r.stderr, r
    (tmp_path / "m.pkl").write_bytes(__import__("pickle").dumps({"not": "a frame"}))
    r = export(tmp_path / "m.pkl", tmp_path / "c.json")
    assert r.returncode == 2 and "not a pandas DataFrame" in r.stderr, r
    pd.DataFrame({"x": [1.0]}).to_csv(tmp_path / "d.csv", index=False)
    r = export(tmp_path / "d.csv", tmp_path / "c.json")
    assert r.returncode == 2 and "--columns" in r.stderr, r
    assert not (tmp_path / "c.json").exists()


def test_xgboost_model_with_exported_categories(audit, tmp_path):
    xgb = pytest.importorskip("xgboost")
    df = frame(400)
    y = ((df.color == "blue") ^ (df["size"] == 20) ^ (df.x > 0.3)).astype(int)
    bst = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 3,
                     "max_cat_to_onehot": 1}, xgb.DMatrix(df, y, enable_categorical=True), 8)
    bst.save_model(str(tmp_path / "m.json"))
    assert any(t.get("categories") for t in json.loads((tmp_path / "m.json").read_text())
               ["learner"]["gradient_booster"]["model"]["trees"])
    df.to_pickle(tmp_path / "d.pkl")
    assert export(tmp_path / "d.pkl", tmp_path / "c.json").returncode == 0
    df.to_csv(tmp_path / "d.csv", index=False)
    r = audit("predict", "--model", tmp_path / "m.json", "--categories", tmp_path / "c.json",
              "--data", tmp_path / "d.csv", "--raw")
    assert r.code == 0, r
    got = np.array([float(line.split(",")[-1]) for line in r.out.splitlines()[1:]])
    want = bst.predict(xgb.DMatrix(df, enable_categorical=True), output_margin=True)
    assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-6
