"""`audit fairness` command line: usage and input errors (exit 2, located messages, no partial
output), --json -, the NYC Local Law 144 view against pandas, --model against XGBoost's own
predictions."""
import json
import os

import numpy as np
import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDIT = os.path.join(ROOT, "datasets", "credit_current.csv")
CREDIT_MODEL = os.path.join(ROOT, "datasets", "credit_xgb.json")


@pytest.fixture
def small_csv(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("sex,race,y,p,s,bad\n"
                 "F,A,1,1,0.9,x\n"
                 "M,B,0,0,0.1,y\n"
                 "M,A,0,1,0.6,x\n"
                 "F,B,1,0,0.3,y\n")
    return p


def test_help(audit):
    r = audit("fairness", "--help")
    assert r.code == 0 and "audit fairness" in r.out and "--favorable" in r.out


@pytest.mark.parametrize("args,msg", [
    ([], "--data is required"),
    (["--data", "d.csv"], "--sensitive is required"),
    (["--data", "d.csv", "--sensitive", "sex"], "exactly one of --prediction, --score and --model"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--score", "s"],
     "exactly one of"),
    (["--data", "d.csv", "--sensitive", "sex", "--score", "s"], "--score needs --threshold"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--threshold", "0.5"],
     "--threshold applies to --score"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--favorable", "2"],
     "--favorable expects 1 or 0"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--compliance", "eu"],
     "unknown view"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--reference", "sex"],
     "--reference expects COL=VALUE"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--bogus"],
     "unknown option '--bogus'"),
    (["--data", "d.csv", "--sensitive", "sex", "--prediction", "p", "--min-share", "2"],
     "--min-share expects"),
])
def test_usage_errors(audit, args, msg):
    r = audit("fairness", *args)
    assert r.code == 2, r
    assert msg in r.err, r


@pytest.mark.parametrize("args,msg", [
    (["--sensitive", "nope", "--prediction", "p"], '"nope": no column "nope" in the data'),
    (["--sensitive", "sex", "--prediction", "nope"], 'no column "nope"'),
    (["--sensitive", "sex", "--prediction", "p", "--label", "bad"],
     '"bad": the label column must be numeric'),
    (["--sensitive", "sex", "--prediction", "s"],
     '"s": data row 0 (CSV line 2): the prediction must be 0 or 1, got 0.9'),
    (["--sensitive", "sex", "--score", "s", "--threshold", "0.95"],
     '"s": threshold 0.95 is outside the score range [0.1, 0.9]'),
    (["--sensitive", "sex", "--prediction", "p", "--reference", "sex=Q"],
     'reference group "Q" has no rows in sensitive attribute "sex"'),
    (["--sensitive", "sex", "--prediction", "p", "--reference", "race=A"],
     '"race" is not one of the --sensitive columns'),
    (["--sensitive", "sex", "--prediction", "p", "--compliance", "nyc-ll144"],
     "needs two sensitive attributes: sex and race/ethnicity"),
    (["--sensitive", "sex", "--score", "s", "--threshold", "0.5", "--model-format", "x"],
     "--model-format needs --model"),
])
@pytest.mark.valgrind
def test_input_errors_exit_2_and_write_nothing(audit, small_csv, tmp_path, args, msg):
    out = tmp_path / "out.json"
    r = audit("fairness", "--data", small_csv, *args, "--json", out)
    assert r.code == 2, r
    assert msg in r.err, r
    assert r.err.startswith("audit")
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["d.csv"]


def test_non_binary_label_is_located(audit, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("sex,y,p\nF,1,1\nM,0,0\nM,2,1\n")
    r = audit("fairness", "--data", p, "--sensitive", "sex", "--prediction", "p", "--label", "y")
    assert r.code == 2
    assert f'{p}: "y": data row 2 (CSV line 4): the label must be 0 or 1, got 2' in r.err, r


def test_missing_data_file(audit, tmp_path):
    r = audit("fairness", "--data", tmp_path / "none.csv", "--sensitive", "a", "--prediction",
              "p")
    assert r.code == 2 and "none.csv" in r.err, r


@pytest.mark.valgrind
def test_json_to_stdout_only(audit, small_csv):
    r = audit("fairness", "--data", small_csv, "--sensitive", "sex", "--prediction", "p",
              "--label", "y", "--json", "-", "--bootstrap", "0")
    assert r.code == 0, r
    doc = json.loads(r.out)
    assert doc["schema_version"] == "2"
    f = doc["fairness"]
    assert f["favorable"] == 1 and f["threshold"] is None
    assert f["threshold_reason"] == "predictions were given"
    assert [a["name"] for a in f["attributes"]] == ["sex"]
    assert f["intersections"] == []


@pytest.mark.valgrind
def test_table_on_stdout(audit, small_csv):
    r = audit("fairness", "--data", small_csv, "--sensitive", "sex,race", "--score", "s",
              "--threshold", "0.5", "--label", "y", "--bootstrap", "50", "--threads", "3",
              "--compliance", "nyc-ll144")
    assert r.code == 0, r
    assert "sex: reference" in r.out and "sex&race: reference" in r.out
    assert "demographic_parity_difference" in r.out
    assert "NYC LL144 sex&race, scoring rate" in r.out


@pytest.mark.valgrind
def test_zero_denominator_is_null_with_reason(audit, small_csv):
    r = audit("fairness", "--data", small_csv, "--sensitive", "sex,race", "--prediction", "p",
              "--label", "y", "--json", "-", "--bootstrap", "0", "--min-share", "0")
    assert r.code == 0, r
    f = json.loads(r.out)["fairness"]
    fa = [g for g in f["intersections"][0]["groups"] if g["group"] == "F&A"][0]
    # F&A: one row, label 1: no unfavourable labels -> fpr undefined
    assert fa["fpr"] is None and fa["fpr_reason"] == "no rows with an unfavourable label"
    assert fa["fpr_ci"] is None


def ll144_reference(df, col, hit):
    known = df[col].notna() & (df[col] != "")
    d = pd.DataFrame({"c": df.loc[known, col], "h": hit[known]})
    g = d.groupby("c", sort=False)["h"].agg(["count", "mean"])
    g["share"] = g["count"] / known.sum()
    g["excluded"] = g["share"] < 0.02
    best = g.loc[~g["excluded"], "mean"].max()
    g["impact_ratio"] = g["mean"] / best
    return g, int((~known).sum())


@pytest.mark.parametrize("mode", ["selection", "scoring"])
def test_nyc_ll144_matches_pandas(audit, tmp_path, mode):
    df = pd.read_csv(CREDIT)
    rng = np.random.default_rng(3)
    df["score"] = np.round(rng.random(len(df)) * 0.6 + (df["race"] != "B") * 0.2, 4)
    df["sel"] = (df["score"] >= 0.5).astype(int)
    df.loc[rng.random(len(df)) < 0.01, "sex"] = np.nan
    p = tmp_path / "c.csv"
    df.to_csv(p, index=False)
    src = ["--prediction", "sel"] if mode == "selection" else ["--score", "score",
                                                              "--threshold", "0.5"]
    r = audit("fairness", "--data", p, "--sensitive", "sex,race", *src, "--compliance",
              "nyc-ll144", "--json", "-", "--bootstrap", "0")
    assert r.code == 0, r
    view = json.loads(r.out)["fairness"]["compliance"]["nyc_ll144"]
    if mode == "selection":
        hit = df["sel"].astype(float)
        assert view["rate"] == "selection_rate"
    else:
        med = float(np.median(df["score"]))
        assert view["median_score"] == med
        hit = (df["score"] > med).astype(float)
        assert view["rate"] == "scoring_rate"
    df["sex&race"] = np.where(df["sex"].notna(), df["sex"].fillna("") + "&" + df["race"], "")
    assert [t["name"] for t in view["tables"]] == ["sex", "race", "sex&race"]
    for t in view["tables"]:
        exp, unknown = ll144_reference(df, t["name"], hit)
        assert t["unknown"] == unknown
        assert sorted(c["category"] for c in t["categories"]) == sorted(exp.index)
        for c in t["categories"]:
            e = exp.loc[c["category"]]
            assert c["count"] == e["count"]
            assert abs(c[view["rate"]] - e["mean"]) <= 1e-12
            assert abs(c["impact_ratio"] - e["impact_ratio"]) <= 1e-12
            assert c["excluded"] == bool(e["excluded"])
            assert c["below_four_fifths"] == bool(e["impact_ratio"] < 0.8)
    race = {c["category"]: c for c in view["tables"][1]["categories"]}
    assert race["D"]["excluded"]


def test_model_matches_xgboost_scores(audit, tmp_path):
    """--model M --threshold T equals --score with XGBoost's own probabilities (Debian
    python3-xgboost 1.7.4) when no probability lies within 1e-6 of T; AUCs agree to 1e-6."""
    xgb = pytest.importorskip("xgboost")
    df = pd.read_csv(CREDIT)
    b = xgb.Booster(model_file=CREDIT_MODEL)
    prob = b.predict(xgb.DMatrix(df[b.feature_names], feature_names=b.feature_names))
    t = 0.3
    assert np.min(np.abs(prob.astype(float) - t)) > 1e-6
    df["p_xgb"] = [repr(float(v)) for v in prob]
    p = tmp_path / "c.csv"
    df.to_csv(p, index=False)
    common = ["--data", p, "--sensitive", "sex,race", "--label", "default", "--favorable", "0",
              "--threshold", str(t), "--bootstrap", "0", "--json", "-"]
    r1 = audit("fairness", *common, "--model", CREDIT_MODEL)
    r2 = audit("fairness", *common, "--score", "p_xgb")
    assert r1.code == 0 and r2.code == 0, (r1, r2)
    f1, f2 = json.loads(r1.out)["fairness"], json.loads(r2.out)["fairness"]
    for a1, a2 in zip(f1["attributes"] + f1["intersections"],
                      f2["attributes"] + f2["intersections"]):
        for g1, g2 in zip(a1["groups"], a2["groups"]):
            assert (g1["group"], g1["selected"], g1["tp"], g1["fp"]) == \
                   (g2["group"], g2["selected"], g2["tp"], g2["fp"])
            assert abs(g1["auc"] - g2["auc"]) <= 1e-6
            assert abs(g1["brier"] - g2["brier"]) <= 1e-6


def test_reference_for_intersection_and_numeric_attribute(audit, tmp_path):
    p = tmp_path / "d.csv"
    rows = ["sex,flag,p"] + [f"{'F' if i % 3 else 'M'},{i % 2},{(i * 7) % 5 < 2:d}"
                             for i in range(60)]
    p.write_text("\n".join(rows) + "\n")
    r = audit("fairness", "--data", p, "--sensitive", "sex,flag", "--prediction", "p",
              "--reference", "flag=1", "--reference", "sex&flag=M&0", "--json", "-",
              "--bootstrap", "0")
    assert r.code == 0, r
    f = json.loads(r.out)["fairness"]
    flag = f["attributes"][1]
    assert [g["group"] for g in flag["groups"]] == ["0", "1"]
    assert flag["reference"] == "1" and flag["reference_source"] == "given"
    x = f["intersections"][0]
    assert x["name"] == "sex&flag" and x["reference"] == "M&0"
    ref = [g for g in x["groups"] if g["group"] == "M&0"][0]
    assert ref["reference"] and ref["selection_rate_difference"] == 0
    r = audit("fairness", "--data", p, "--sensitive", "sex,flag", "--prediction", "p",
              "--reference", "sex&flag=X&0")
    assert r.code == 2 and 'reference group "X&0" has no rows' in r.err, r


def test_reference_for_unknown_intersection(audit, small_csv):
    for ref in ("race&sex=A&F", "sex&bad=F&x"):
        r = audit("fairness", "--data", small_csv, "--sensitive", "sex,race", "--prediction",
                  "p", "--reference", ref)
        assert r.code == 2 and "is not an intersection of the --sensitive columns" in r.err, r
    r = audit("fairness", "--data", small_csv, "--sensitive", "sex,race", "--prediction", "p",
              "--no-intersections", "--reference", "sex&race=F&A")
    assert r.code == 2, r


def test_nyc_ll144_in_a_run_with_three_attributes(audit, tmp_path):
    """audit run: "compliance": {"nyc-ll144": {"sex": ..., "race": ...}} names the two columns
    among three sensitive attributes; tables vs pandas (selection rates, impact ratios); a column
    that is not sensitive is a spec error."""
    df = pd.read_csv(CREDIT)
    rng = np.random.default_rng(5)
    df["sel"] = (rng.random(len(df)) < 0.3 + 0.2 * (df["race"] != "B")).astype(int)
    df.to_csv(tmp_path / "c.csv", index=False)
    spec = {"data": "c.csv", "prediction": "sel", "sensitive": ["age_band", "race", "sex"],
            "compliance": {"nyc-ll144": {"sex": "sex", "race": "race"}},
            "fairness": {"bootstrap": 0}, "outputs": {"dir": "o"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json", "--quiet")
    assert r.code == 0, r
    view = json.loads((tmp_path / "o" / "results.json").read_text())["fairness"]["compliance"][
        "nyc_ll144"]
    assert [t["name"] for t in view["tables"]] == ["sex", "race", "race&sex"]
    df["race&sex"] = df["race"] + "&" + df["sex"]
    hit = df["sel"].astype(float)
    for t in view["tables"]:
        exp, unknown = ll144_reference(df, t["name"], hit)
        assert t["unknown"] == unknown == 0
        for c in t["categories"]:
            e = exp.loc[c["category"]]
            assert c["count"] == e["count"]
            assert abs(c["selection_rate"] - e["mean"]) <= 1e-12
            assert abs(c["impact_ratio"] - e["impact_ratio"]) <= 1e-12
    spec["compliance"] = {"nyc-ll144": {"sex": "gender", "race": "race"}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and '"compliance.nyc-ll144.sex": "gender" is not one of the sensitive' \
        in r.err, r


def test_many_rows_same_at_any_thread_count(audit, tmp_path):
    """250,000 rows: the row passes run in chunks on --threads threads (labels and scores
    checked, groups recoded into natural order, scores ranked); results.json is the same at 1, 2
    and 3 threads, and its counts and selection rates are pandas'."""
    rng = np.random.default_rng(11)
    n = 250000
    df = pd.DataFrame({
        "sex": rng.choice(["m", "f", "x"], n, p=[0.5, 0.45, 0.05]),   # "m" first: reordered
        "race": rng.choice(["D", "B", "A", "C"], n),
        "label": rng.integers(0, 2, n),
        "score": np.round(rng.random(n), 3),
    })
    data = tmp_path / "many.csv"
    df.to_csv(data, index=False)
    docs = []
    for t in ("1", "2", "3"):
        out = tmp_path / f"f{t}.json"
        r = audit("fairness", "--data", data, "--sensitive", "sex,race", "--score", "score",
                  "--threshold", "0.5", "--label", "label", "--bootstrap", "50", "--json", out,
                  "--threads", t)
        assert r.code in (0, 1), r
        doc = json.loads(out.read_text())
        doc.pop("provenance", None)
        docs.append(doc)
    assert docs[0] == docs[1] == docs[2]
    attr = next(a for a in docs[0]["fairness"]["attributes"] if a["name"] == "sex")
    names = [g["group"] for g in attr["groups"]]
    assert names == ["f", "m", "x"]
    for g in attr["groups"]:
        rows = df[df["sex"] == g["group"]]
        assert g["count"] == len(rows)
        assert g["selected"] == int((rows["score"] >= 0.5).sum())
        assert abs(g["selection_rate"] - (rows["score"] >= 0.5).mean()) <= 1e-12
