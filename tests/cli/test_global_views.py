"""audit run's "global" section (explainers/global.c): permutation importance, partial dependence
and ICE, checked against scikit-learn 1.2 (Debian's python3-sklearn) on the same model and rows:
- permutation_importance(scoring="roc_auc") fed the same permutations: sklearn's in-place
  shuffle is replaced by this file's own reimplementation of audit's documented generator
  (splitmix64 + Fisher-Yates, docs/explanations.md), so every repeat's importance must agree
  (1e-12);
- partial_dependence(method="brute", kind="both", grid_resolution=G): grid, average and every
  ICE curve equal (1e-9), for a LogisticRegression and a GradientBoostingClassifier read
  natively (exported by tools/export_sklearn.py) and for the GradientBoosting model behind a
  command."""
import json
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXPORT = ROOT / "tools" / "export_sklearn.py"
SERVER = ROOT / "docs" / "examples" / "model_server.py"
PY = "/usr/bin/python3"
FEATS = ["a", "b", "c", "d"]
MASK = (1 << 64) - 1


class AuditShuffle:
    """audit's permutations: splitmix64 seeded with the spec's seed drives Fisher-Yates."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.next() % (i + 1)
            a[i], a[j] = a[j], a[i]

    def randint(self, *args, **kw):
        return 0


def copy_into(src, dst):
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The binary models and data, made once for the module (the exporter is slow to start)."""
    tmp_path = tmp_path_factory.mktemp("global2")
    lm = pytest.importorskip("sklearn.linear_model")
    ens = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(8)
    n = 300
    df = pd.DataFrame({k: rng.normal(size=n) for k in FEATS})
    df["c"] = rng.integers(0, 4, n).astype(float)   # few distinct values: grid = the values
    df["label"] = (df.a - df.b + 0.3 * df.c + rng.normal(size=n) > 0).astype(int)
    X = df[FEATS].to_numpy()
    models = {"lr": lm.LogisticRegression().fit(X, df.label),
              "gb": ens.GradientBoostingClassifier(n_estimators=30, max_depth=3,
                                                   random_state=1).fit(X, df.label)}
    for name, m in models.items():
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(m))
        subprocess.run([PY, str(EXPORT), str(tmp_path / f"{name}.pkl"),
                        str(tmp_path / f"{name}.json"), "--features", ",".join(FEATS)],
                       check=True, capture_output=True)
    df.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    (tmp_path / "server.py").write_text(SERVER.read_text())
    return models, df, tmp_path


@pytest.fixture
def setup(tmp_path, made):
    copy_into(made[2], tmp_path)
    return made[0], made[1].copy()


def run_global(audit, tmp_path, model, name, seed=11):
    spec = {"model": model, "data": "d.csv", "label": "label", "explain": False, "seed": seed,
            "global": {"repeats": 4, "rows": 100000, "top": 4, "grid": 7, "ice_rows": 1000},
            "outputs": {"dir": name}}
    (tmp_path / f"{name}.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / f"{name}.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    return json.loads((tmp_path / name / "results.json").read_text())["global"]


@pytest.mark.parametrize("name,source", [
    ("lr", "lr.json"), ("gb", "gb.json"),
    ("gb", {"command": [PY, "server.py", "--session", "gb.pkl"], "features": FEATS, "batch_rows": 5000,
              "protocol": "session"})])
def test_global_equals_sklearn(audit, tmp_path, setup, monkeypatch, name, source):
    import sklearn.inspection._permutation_importance as pim
    from sklearn.inspection import partial_dependence, permutation_importance
    models, df = setup
    est, X, y = models[name], df[FEATS].to_numpy(), df.label.to_numpy()
    g = run_global(audit, tmp_path, source, "out")
    assert g["score"] == "auc" and g["rows"] == len(df) and g["repeats"] == 4
    monkeypatch.setattr(pim, "check_random_state", lambda rs: AuditShuffle(11))
    ref = permutation_importance(est, X, y, scoring="roc_auc", n_repeats=4, random_state=0)
    monkeypatch.undo()
    by = {f["feature"]: f for f in g["permutation_importance"]}
    for j, feat in enumerate(FEATS):
        assert np.max(np.abs(np.array(by[feat]["importances"]) - ref.importances[j])) <= 1e-12
        assert abs(by[feat]["mean"] - ref.importances_mean[j]) <= 1e-12
        assert abs(by[feat]["std"] - ref.importances_std[j]) <= 1e-12
        assert by[feat]["ci_low"] <= by[feat]["mean"] <= by[feat]["ci_high"]
    means = [f["mean"] for f in g["permutation_importance"]]
    assert means == sorted(means, reverse=True)
    for pd_ in g["partial_dependence"]:
        j = FEATS.index(pd_["feature"])
        want = partial_dependence(est, X, [j], grid_resolution=7, kind="both", method="brute")
        assert np.max(np.abs(np.array(pd_["grid"]) - want["values"][0])) <= 1e-12
        assert np.max(np.abs(np.array(pd_["average"]) - want["average"][0])) <= 1e-9
        ice = np.array(pd_["ice"])
        assert pd_["ice_rows"] == list(range(len(df)))
        assert np.max(np.abs(ice - want["individual"][0])) <= 1e-9


def test_global_spec_keys(audit, tmp_path, setup):
    spec = {"model": "lr.json", "data": "d.csv", "label": "label", "global": {"repeat": 2}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and "repeat" in r.err, r
    spec["global"] = False
    spec["outputs"] = {"dir": "o"}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code in (0, 1), r
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert "global" not in doc and any(s["section"] == "global" for s in doc["skipped"])


def test_global_in_both_reports(audit, tmp_path, setup):
    """The PDF has the Global views section (bars, table, partial dependence charts) and the XLSX
    a Global sheet whose cells are the results' figures."""
    openpyxl = pytest.importorskip("openpyxl")
    spec = {"model": "gb.json", "data": "d.csv", "label": "label", "explain": False,
            "global": {"repeats": 3, "top": 2, "grid": 5, "ice_rows": 3},
            "outputs": {"dir": "o", "pdf": "r.pdf", "xlsx": "r.xlsx"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    g = json.loads((tmp_path / "o" / "results.json").read_text())["global"]
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "o" / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    page = next(p for p in text.split("\f") if "Global views" in p)
    assert "Permutation importance of every feature" in page and "\u2026" not in page
    for f in g["permutation_importance"]:
        assert f["feature"] in page
    assert "Partial dependence and ICE curves" in text
    ws = openpyxl.load_workbook(tmp_path / "o" / "r.xlsx")["Global"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("Feature", "Mean drop in score", "Std", "95% low", "95% high")
    for i, f in enumerate(g["permutation_importance"], start=1):
        # libxlsxwriter writes 16 significant digits (%.16g): equal to that precision
        assert rows[i][0] == f["feature"]
        assert rows[i][1:5] == pytest.approx((f["mean"], f["std"], f["ci_low"], f["ci_high"]),
                                             rel=1e-15, abs=1e-300)
    start = next(i for i, r_ in enumerate(rows) if r_[0] == "Feature" and r_[1] == "Grid value")
    flat = [(p["feature"], x, y) for p in g["partial_dependence"]
            for x, y in zip(p["grid"], p["average"])]
    got = rows[start + 1:start + 1 + len(flat)]
    assert [r_[0] for r_ in got] == [f for f, _, _ in flat]
    assert [r_[1:3] for r_ in got] == [pytest.approx((x, y), rel=1e-15) for _, x, y in flat]
    check_ice_sheet(ws, rows, g, 0)


def check_ice_sheet(ws, rows, g, c0):
    """The ICE table (feature, [class,] data row, grid value, output) holds every curve of
    results.json in order, and each partial dependence entry has its native line chart: one
    series per ICE curve plus the partial dependence."""
    start = next(i for i, r_ in enumerate(rows) if r_[0] == "Feature" and
                 r_[c0 + 1] == "Data row (0-based)")
    want = [(p["feature"], row, x, y) for p in g["partial_dependence"]
            for row, curve in zip(p["ice_rows"], p["ice"]) for x, y in zip(p["grid"], curve)]
    got = rows[start + 1:start + 1 + len(want)]
    assert [(r_[0], r_[c0 + 1]) for r_ in got] == [(f, row) for f, row, _, _ in want]
    assert [r_[c0 + 2:c0 + 4] for r_ in got] == [pytest.approx((x, y), rel=1e-15)
                                                 for _, _, x, y in want]
    charts = ws._charts
    assert len(charts) == min(8, len(g["partial_dependence"]))
    for ch, p in zip(charts, g["partial_dependence"]):
        assert len(ch.series) == len(p["ice"]) + 1


@pytest.mark.valgrind
def test_global_and_command_run_small(audit, tmp_path, setup):
    """A small run with global views and a model behind a command, for make valgrind."""
    spec = {"model": {"command": [PY, "server.py", "lr.pkl"], "features": FEATS},
            "data": "d.csv", "label": "label", "explain": {"rows": 2, "method": "exact",
                                                           "background": 5},
            "global": {"repeats": 2, "rows": 40, "top": 1, "grid": 3, "ice_rows": 2},
            "outputs": {"dir": "o", "pdf": "r.pdf", "xlsx": "r.xlsx"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    g = json.loads((tmp_path / "o" / "results.json").read_text())["global"]
    assert g["rows"] == 40 and len(g["partial_dependence"]) == 1


def test_global_does_not_depend_on_threads(audit, tmp_path, setup):
    """Predictions run in fixed row chunks per thread: the same document for 1 and 4 threads
    (12,000-row blocks are split over threads)."""
    _, df = setup
    big = pd.concat([df] * 10, ignore_index=True)
    big.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    docs = []
    for t in (1, 4):
        spec = {"model": "gb.json", "data": "d.csv", "label": "label", "explain": False,
                "threads": t, "global": {"repeats": 4, "rows": 3000, "grid": 5},
                "outputs": {"dir": f"o{t}"}}
        (tmp_path / "s.json").write_text(json.dumps(spec))
        r = audit("run", tmp_path / "s.json", "--created", "2026-01-01T00:00:00Z")
        assert r.code in (0, 1), r
        docs.append(json.loads((tmp_path / f"o{t}" / "results.json").read_text())["global"])
    assert docs[0] == docs[1]


@pytest.fixture(scope="module")
def made3(tmp_path_factory):
    """A 3-class problem: a GradientBoosting and a RandomForest classifier exported natively, the
    GradientBoosting one also pickled for the model server, and an XGBoost multi:softprob model
    (Debian's python3-xgboost) saved as JSON."""
    tmp_path = tmp_path_factory.mktemp("global3")
    ens = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(5)
    n = 240
    df = pd.DataFrame({k: rng.normal(size=n) for k in FEATS})
    df["c"] = rng.integers(0, 3, n).astype(float)
    z = np.stack([df.a, df.b - 0.5 * df.c, 0.7 * df.d], axis=1) + rng.normal(size=(n, 3))
    df["label"] = z.argmax(axis=1)
    X = df[FEATS].to_numpy()
    models = {"gb3": ens.GradientBoostingClassifier(n_estimators=20, max_depth=2,
                                                    random_state=1).fit(X, df.label),
              "rf3": ens.RandomForestClassifier(n_estimators=5, max_depth=4,
                                                random_state=2).fit(X, df.label)}
    for name, m in models.items():
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(m))
        subprocess.run([PY, str(EXPORT), str(tmp_path / f"{name}.pkl"),
                        str(tmp_path / f"{name}.json"), "--features", ",".join(FEATS)],
                       check=True, capture_output=True)
    df.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    (tmp_path / "server.py").write_text(SERVER.read_text())
    return models, df, tmp_path


@pytest.fixture
def setup3(tmp_path, made3):
    copy_into(made3[2], tmp_path)
    return made3[0], made3[1].copy()


def check_multiclass(g, est, X, y, monkeypatch, tol_pd=1e-9):
    """permutation_importance(scoring="roc_auc_ovr") with the same permutations, and
    partial_dependence's per-class average and ICE (its (n_classes, n_rows, G) arrays)."""
    import sklearn.inspection._permutation_importance as pim
    from sklearn.inspection import partial_dependence, permutation_importance
    assert g["score"] == "auc_ovr" and g["classes"] == 3
    monkeypatch.setattr(pim, "check_random_state", lambda rs: AuditShuffle(11))
    ref = permutation_importance(est, X, y, scoring="roc_auc_ovr", n_repeats=4, random_state=0)
    monkeypatch.undo()
    by = {f["feature"]: f for f in g["permutation_importance"]}
    for j, feat in enumerate(FEATS):
        assert np.max(np.abs(np.array(by[feat]["importances"]) - ref.importances[j])) <= 1e-12
        assert abs(by[feat]["std"] - ref.importances_std[j]) <= 1e-12
    feats = []
    for pd_ in g["partial_dependence"]:
        j, k = FEATS.index(pd_["feature"]), pd_["class"]
        feats.append((pd_["feature"], k))
        want = partial_dependence(est, X, [j], grid_resolution=7, kind="both", method="brute")
        assert want["average"].shape[0] == 3
        assert np.max(np.abs(np.array(pd_["grid"]) - want["values"][0])) <= 1e-12
        assert np.max(np.abs(np.array(pd_["average"]) - want["average"][k])) <= tol_pd
        assert np.max(np.abs(np.array(pd_["ice"]) - want["individual"][k])) <= tol_pd
    # every top feature once per class, classes in order
    top = [f["feature"] for f in g["permutation_importance"]][:4]
    assert feats == [(f, k) for f in top for k in range(3)]


@pytest.mark.parametrize("name,source", [
    ("gb3", "gb3.json"), ("rf3", "rf3.json"),
    ("gb3", {"command": [PY, "server.py", "--session", "gb3.pkl"], "features": FEATS, "batch_rows": 5000,
              "protocol": "session"})])
def test_global_multiclass_equals_sklearn(audit, tmp_path, setup3, monkeypatch, name, source):
    models, df = setup3
    g = run_global(audit, tmp_path, source, "out")
    check_multiclass(g, models[name], df[FEATS].to_numpy(), df.label.to_numpy(), monkeypatch)


def test_global_multiclass_xgboost(audit, tmp_path, setup3, monkeypatch):
    """An XGBoost multi:softprob model (float32 sums: 1e-6) through sklearn's wrapper."""
    xgb = pytest.importorskip("xgboost")
    _, df = setup3
    X, y = df[FEATS].to_numpy(), df.label.to_numpy()
    est = xgb.XGBClassifier(n_estimators=10, max_depth=3, objective="multi:softprob",
                            random_state=0).fit(X, y)
    est.get_booster().feature_names = FEATS
    est.get_booster().save_model(str(tmp_path / "x.json"))
    g = run_global(audit, tmp_path, "x.json", "out")
    est.get_booster().feature_names = None
    check_multiclass(g, est, X, y, monkeypatch, tol_pd=1e-6)
    # multi:softmax answers class indices: no probabilities to score, the section says so
    soft = xgb.XGBClassifier(n_estimators=2, max_depth=2, objective="multi:softmax").fit(X, y)
    soft.get_booster().feature_names = FEATS
    soft.get_booster().save_model(str(tmp_path / "x.json"))
    spec = {"model": "x.json", "data": "d.csv", "label": "label", "explain": False,
            "outputs": {"dir": "o2"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code in (0, 1), r
    doc = json.loads((tmp_path / "o2" / "results.json").read_text())
    why = [s_["reason"] for s_ in doc["skipped"] if s_["section"] == "global"]
    assert "global" not in doc and why and "multi:softmax" in why[0], doc["skipped"]


def test_global_multiclass_label_errors(audit, tmp_path, setup3):
    """A label that is not a class index of the 3-class model is a located error (exit 2); a
    multi:softmax model (class indices) is skipped with its reason."""
    _, df = setup3
    df.loc[7, "label"] = 3
    df.to_csv(tmp_path / "d.csv", index=False)
    spec = {"model": "gb3.json", "data": "d.csv", "label": "label", "outputs": {"dir": "o"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and "data row 8" in r.err and "class index 0 to 2" in r.err, r


def test_global_multiclass_reports(audit, tmp_path, setup3):
    """Multiclass: the PDF draws a chart per feature and class, the XLSX tables have a Class
    column after Feature and the ICE table every curve of every class."""
    openpyxl = pytest.importorskip("openpyxl")
    spec = {"model": "gb3.json", "data": "d.csv", "label": "label", "explain": False,
            "global": {"repeats": 2, "top": 2, "grid": 4, "ice_rows": 3},
            "outputs": {"dir": "o", "pdf": "r.pdf", "xlsx": "r.xlsx"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json", "--created", "2026-01-01T00:00:00Z")
    assert r.code in (0, 1), r
    g = json.loads((tmp_path / "o" / "results.json").read_text())["global"]
    assert len(g["partial_dependence"]) == 6
    text = subprocess.run(["pdftotext", str(tmp_path / "o" / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "one-vs-rest" in text
    for p in g["partial_dependence"]:
        assert f"{p['feature']}: P(class {p['class']})" in text
    ws = openpyxl.load_workbook(tmp_path / "o" / "r.xlsx")["Global"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r_ in enumerate(rows) if r_[:3] == ("Feature", "Class", "Grid value"))
    flat = [(p["feature"], p["class"], x, y) for p in g["partial_dependence"]
            for x, y in zip(p["grid"], p["average"])]
    got = rows[start + 1:start + 1 + len(flat)]
    assert [r_[:2] for r_ in got] == [(f, k) for f, k, _, _ in flat]
    assert [r_[2:4] for r_ in got] == [pytest.approx((x, y), rel=1e-15) for _, _, x, y in flat]
    check_ice_sheet(ws, rows, g, 1)
    ice = next(i for i, r_ in enumerate(rows) if r_[:3] == ("Feature", "Class", "Data row (0-based)"))
    classes = [r_[1] for r_ in rows[ice + 1:ice + 1 + 6 * 3 * 4]]
    assert classes == [p["class"] for p in g["partial_dependence"] for _ in range(12)]
