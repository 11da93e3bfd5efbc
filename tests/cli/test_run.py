"""`audit run`: exit codes, strict spec errors, provenance hashes, atomic outputs, determinism,
run log, skipped sections (SPEC section 4; issue 7 verification)."""
import hashlib
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def write_spec(dirpath, **over):
    spec = {"data": "cur.csv", "reference": "ref.csv", "label": "label", "score": "score",
            "threshold": 0.5, "sensitive": ["sex"],
            "checks": [{"metric": "disparate_impact", "min": 0.1}],
            "outputs": {"dir": "out", "json": "results.json", "log": "runs.jsonl"},
            "fairness": {"bootstrap": 50}, "seed": 3}
    spec.update(over)
    p = dirpath / "spec.json"
    p.write_text(json.dumps(spec))
    return p


@pytest.mark.valgrind
def test_run_pass_exit_0_and_results(audit, small):
    spec = write_spec(small)
    r = audit("run", spec, "--quiet")
    assert r.code == 0, r
    doc = json.loads((small / "out" / "results.json").read_text())
    assert doc["verdict"] == "pass"
    assert doc["schema_version"] == "2" and doc["tool"]["name"] == "audit"
    # no model: no explanations and no global views (permutation importance needs one)
    assert {s["section"] for s in doc["skipped"]} == {"explanations", "global"}
    assert doc["checks"] and all(c["passed"] for c in doc["checks"])
    assert {"fairness", "drift", "performance"} <= set(doc)


@pytest.mark.valgrind
def test_run_failing_check_exit_1(audit, small):
    spec = write_spec(small, checks=[{"metric": "disparate_impact", "min": 0.99},
                                     {"metric": "auc", "min": 0.5}])
    r = audit("run", spec)
    assert r.code == 1, r
    assert "verdict: FAIL" in r.err
    doc = json.loads((small / "out" / "results.json").read_text())
    assert doc["verdict"] == "fail"
    failed = [c for c in doc["checks"] if not c["passed"]]
    assert failed and all(c["metric"] == "disparate_impact" for c in failed)
    for c in failed:
        assert c["value"] < 0.99 and c["min"] == 0.99


def test_check_on_a_section_not_run_fails_with_reason(audit, small):
    spec = write_spec(small, reference=None,
                      checks=[{"metric": "drift_share", "max": 0.5}])
    r = audit("run", spec)
    assert r.code == 1, r
    doc = json.loads((small / "out" / "results.json").read_text())
    (row,) = doc["checks"]
    assert row["passed"] is False and row["value"] is None
    assert row["reason"] == "metric not computed"
    assert {"section": "drift", "reason": "no reference data in the spec"} in doc["skipped"]


@pytest.mark.parametrize("over,field,msg", [
    ({"chekcs": []}, '"chekcs"', 'unknown key (did you mean "checks"?)'),
    ({"threshold": "0.5"}, '"threshold"', "expected a number"),
    ({"favorable": 2}, '"favorable"', "expected a number from 0 to 1"),
    ({"sensitive": [1]}, '"sensitive"', "expected a list of non-empty strings"),
    ({"explain": {"rows": 0}}, '"explain.rows"', "expected a whole number"),
    ({"explain": {"method": "magic"}}, '"explain.method"', "expected auto, tree"),
    ({"checks": [{"metric": "disparate_impact"}]}, '"checks[0].min"', 'needs "min" or "max"'),
    ({"checks": [{"metric": "disparte_impact", "min": 1}]}, '"checks[0].metric"',
     'unknown metric "disparte_impact"'),
    ({"checks": [{"metric": "auc", "min": 1, "colum": "x"}]}, '"checks[0].colum"',
     'did you mean "column"'),
    ({"outputs": {"json": "../x.json"}}, '"outputs.json"', "not a path"),
    ({"report": {"title": 5}}, '"report.title"', "expected a string"),
    ({"data": None}, '"data"', "is required"),
    ({"checks": [{"metric": "disparate_impact", "min": 0.8, "attribute": "sx"}]},
     '"checks[0].attribute"', '"sx" is not a sensitive attribute (did you mean "sex"?)'),
    ({"sensitive": ["sex", "grp"], "checks": [{"metric": "disparate_impact", "min": 0.8,
                                               "attribute": "grp&sex"}]},
     '"checks[0].attribute"', 'nor an intersection of them ("a&b", in "sensitive" order)'),
    ({"checks": [{"metric": "auc", "min": 0.5, "attribute": "sex&grp"}],
      "sensitive": ["sex", "grp"]}, '"checks[0].attribute"',
     'performance by group is computed per sensitive attribute, not for the intersection'),
    ({"model_format": "xgboost-json"}, '"model_format"', 'given without "model"'),
    ({"drift": {"overrides": {"x": {"method": "magic"}}}}, '"drift.overrides.x.method"',
     'unknown drift method "magic"'),
    ({"drift": {"overrides": {"x": {"treshold": 0.2}}}}, '"drift.overrides.x.treshold"',
     'did you mean "threshold"'),
    ({"drift": {"overrides": {"x": 0.2}}}, '"drift.overrides.x"', "expected an object"),
    ({"sensitive": ["sex", "grp"], "intersections": False,
      "checks": [{"metric": "disparate_impact", "min": 0.8, "attribute": "sex&grp"}]},
     '"checks[0].attribute"', "intersections are off"),
])
@pytest.mark.valgrind
def test_spec_errors_name_the_key(audit, small, over, field, msg):
    spec = write_spec(small, **over)
    r = audit("run", spec)
    assert r.code == 2, r
    assert r.err.startswith(f"audit: {spec}: {field}: "), r
    assert msg in r.err, r
    assert not (small / "out").exists()


def test_spec_invalid_json_is_located(audit, small):
    p = small / "spec.json"
    p.write_text('{\n  "data": "cur.csv",\n  "label": x\n}\n')
    r = audit("run", p)
    assert r.code == 2 and f"{p}:3:12: invalid JSON" in r.err, r


def test_missing_input_file(audit, small):
    spec = write_spec(small, data="nope.csv")
    r = audit("run", spec)
    assert r.code == 2 and "nope.csv: cannot open" in r.err, r
    # nothing but the run log, which records the failure (no input hashes: none was read)
    assert sorted(p.name for p in (small / "out").glob("*")) == ["runs.jsonl"]
    (rec,) = [json.loads(x) for x in (small / "out" / "runs.jsonl").read_text().splitlines()]
    assert rec["verdict"] == "error" and "nope.csv: cannot open" in rec["error"]
    assert "inputs" not in rec


def test_missing_column(audit, small):
    spec = write_spec(small, sensitive=["gender"])
    r = audit("run", spec)
    assert r.code == 2 and '"gender"' in r.err and "cur.csv" in r.err, r


def test_output_never_overwrites_an_input(audit, small):
    spec = write_spec(small, outputs={"dir": ".", "json": "cur.csv"})
    before = sha256(small / "cur.csv")
    r = audit("run", spec)
    assert r.code == 2 and "would overwrite an input" in r.err, r
    assert sha256(small / "cur.csv") == before


def test_provenance_hashes_match_sha256sum(audit, small):
    spec = write_spec(small)
    assert audit("run", spec, "--quiet").code == 0
    prov = json.loads((small / "out" / "results.json").read_text())["provenance"]
    roles = {i["role"]: i for i in prov["inputs"]}
    assert roles["spec"]["sha256"] == sha256(spec)
    assert roles["data"]["sha256"] == sha256(small / "cur.csv")
    assert roles["reference"]["sha256"] == sha256(small / "ref.csv")
    assert roles["data"]["rows"] == 400 and roles["data"]["columns"] == 4
    assert prov["seed"] == 3 and prov["spec_document"]["seed"] == 3
    assert prov["created"].endswith("Z")


@pytest.mark.valgrind
def test_failure_leaves_no_partial_output(audit, small):
    """The PDF cannot be renamed into place (a folder has its name): results.json, written
    first, must not be left behind either, nor any temporary file."""
    (small / "out").mkdir()
    (small / "out" / "report.pdf").mkdir()
    spec = write_spec(small, outputs={"dir": "out", "json": "results.json", "pdf": "report.pdf",
                                      "log": "runs.jsonl"})
    r = audit("run", spec)
    assert r.code == 2, r
    assert sorted(os.listdir(small / "out")) == ["report.pdf", "runs.jsonl"]
    # the run log records the failed run: exit code, the message, the input hashes
    (rec,) = [json.loads(x) for x in (small / "out" / "runs.jsonl").read_text().splitlines()]
    assert rec["verdict"] == "error" and rec["exit_code"] == 2 and rec["spec"] == str(spec)
    assert "report.pdf" in rec["error"] and rec["error"] in r.err
    assert {sha256(small / "cur.csv"), sha256(small / "ref.csv")} <= \
        {i["sha256"] for i in rec["inputs"]}


def test_unwritable_output_folder(audit, small):
    (small / "blocker").write_text("a file, not a folder")
    spec = write_spec(small, outputs={"dir": "blocker/out"})
    r = audit("run", spec)
    assert r.code == 2 and "cannot create folder" in r.err, r


def test_determinism_and_run_log(audit, small):
    spec = write_spec(small)
    outs = []
    for _ in range(2):
        r = audit("run", spec, "--created", "2026-01-01T00:00:00Z", "--threads", str(1 + _))
        assert r.code == 0, r
        outs.append((small / "out" / "results.json").read_bytes())
    assert outs[0] == outs[1]   # byte-identical for any thread count
    lines = (small / "out" / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        rec = json.loads(line)
        assert rec["verdict"] == "pass" and rec["spec"] == str(spec)
        (o,) = rec["outputs"]
        assert o["sha256"] == sha256(small / "out" / "results.json")
        assert {i["role"] for i in rec["inputs"]} == {"spec", "data", "reference"}


def test_out_option_overrides_dir(audit, small):
    spec = write_spec(small)
    r = audit("run", spec, "--out", small / "elsewhere", "--quiet")
    assert r.code == 0, r
    assert (small / "elsewhere" / "results.json").exists()
    assert not (small / "out").exists()


@pytest.mark.parametrize("args,msg", [
    ([], "the spec file is required"),
    (["a.json", "b.json"], "unexpected argument"),
    (["a.json", "--threads", "x"], "--threads expects"),
    (["--bogus", "a.json"], "unknown option"),
])
def test_run_usage_errors(audit, args, msg):
    r = audit("run", *args)
    assert r.code == 2 and msg in r.err, r


@pytest.mark.valgrind
def test_demo_model_run_matches_ground_truth(audit, root, tmp_path):
    """The bundled demo: the model's disparate impact for race B is 0.7532 (pandas/xgboost
    computation in datasets/check_demo_truth.py); explanations, drift and performance run."""
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["outputs"] = {"dir": str(tmp_path), "json": "results.json"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    r = audit("run", p)
    assert r.code == 1, r
    doc = json.loads((tmp_path / "results.json").read_text())
    race = next(a for a in doc["fairness"]["attributes"] if a["name"] == "race")
    b = next(g for g in race["groups"] if g["group"] == "B")
    assert b["disparate_impact"] == pytest.approx(0.7532, abs=5e-5)
    ex = doc["explanations"]
    assert ex["method"] == "tree" and ex["rows"] == 2000
    assert ex["additivity_max_error"] < 1e-5
    assert doc["performance"]["overall"]["auc"] == pytest.approx(0.818, abs=5e-4)
    assert doc["skipped"] == []
    failing = {(c["attribute"], c.get("group")) for c in doc["checks"]
               if c["metric"] == "disparate_impact" and not c["passed"]}
    assert ("race", "B") in failing


def test_reference_groups_from_spec(audit, small):
    spec = write_spec(small, fairness={"reference": {"sex": "female"}, "bootstrap": 0})
    assert audit("run", spec, "--quiet").code == 0
    doc = json.loads((small / "out" / "results.json").read_text())
    (attr,) = doc["fairness"]["attributes"]
    assert attr["reference"] == "female"
    spec = write_spec(small, fairness={"reference": {"sex": "nobody"}})
    r = audit("run", spec)
    assert r.code == 2 and "nobody" in r.err, r


def test_show_rows_are_explained_like_xgboost(audit, root, tmp_path):
    """explain.show_rows: "why did row 1234 get 0.93?" - the row is explained and drawn as a
    waterfall; its attributions equal XGBoost's own pred_contribs (1e-5, SPEC section 3)."""
    import xgboost as xgb
    spec = json.loads((root / "datasets" / "demo_audit.json").read_text())
    for k in ("model", "data", "reference"):
        spec[k] = str(root / "datasets" / spec[k])
    spec["explain"] = {"rows": 50, "show_rows": [1234]}
    spec["outputs"] = {"dir": str(tmp_path), "json": "results.json"}
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    assert audit("run", p).code == 1
    ex = json.loads((tmp_path / "results.json").read_text())["explanations"]
    (row,) = [r for r in ex["explained_rows"] if r["row"] == 1234]
    assert row["why"] == "requested in spec"
    df = pd.read_csv(spec["data"], float_precision="round_trip", keep_default_na=False,
                     na_values=["", "NA", "NaN", "nan", "null", "?"])
    bst = xgb.Booster()
    bst.load_model(spec["model"])
    names = ex["feature_order"]
    contrib = bst.predict(xgb.DMatrix(df.loc[[1234], names], missing=np.nan),
                          pred_contribs=True)[0]
    assert np.max(np.abs(np.array(row["phi"]) - contrib[:-1])) <= 1e-5
    assert abs(row["base"] - contrib[-1]) <= 1e-5
    spec["explain"] = {"show_rows": [999999]}
    p.write_text(json.dumps(spec))
    r = audit("run", p)
    assert r.code == 2 and '"explain.show_rows": row 999999 is beyond' in r.err, r


def test_failed_run_keeps_the_previous_outputs(audit, small):
    """A run that fails while committing restores the previous complete set of outputs."""
    spec = write_spec(small, outputs={"dir": "out", "json": "results.json", "pdf": "report.pdf",
                                      "xlsx": "report.xlsx", "log": "runs.jsonl"})
    assert audit("run", spec, "--quiet").code == 0
    before = {n: sha256(small / "out" / n) for n in ("results.json", "report.pdf")}
    log_before = (small / "out" / "runs.jsonl").read_text()
    os.remove(small / "out" / "report.xlsx")
    (small / "out" / "report.xlsx").mkdir()
    spec.write_text(spec.read_text().replace('"seed": 3', '"seed": 4'))
    r = audit("run", spec)
    assert r.code == 2 and "not a regular file" in r.err, r
    assert {n: sha256(small / "out" / n) for n in before} == before
    assert sorted(os.listdir(small / "out")) == sorted(list(before) + ["report.xlsx",
                                                                       "runs.jsonl"])
    log = (small / "out" / "runs.jsonl").read_text()   # the failed run appended its line
    assert log.startswith(log_before)
    (rec,) = [json.loads(x) for x in log[len(log_before):].splitlines()]
    assert rec["verdict"] == "error" and rec["exit_code"] == 2


def test_duplicate_output_names(audit, small):
    spec = write_spec(small, outputs={"dir": "out", "json": "results.json",
                                      "log": "results.json"})
    r = audit("run", spec)
    assert r.code == 2 and '"outputs.log": is the same file as "outputs.json"' in r.err, r


def test_check_with_only_the_reference_group_fails(audit, tmp_path):
    """Every comparison group is small: the reference compared with itself is no evidence, so
    the check must fail as not computable rather than pass."""
    rng = np.random.default_rng(1)
    n = 1000
    g = np.array(["A"] * (n - 10) + ["B"] * 10)
    s = np.where(g == "B", 0.1, rng.random(n))
    pd.DataFrame({"g": g, "s": s.round(6), "y": (rng.random(n) < 0.5).astype(int)}).to_csv(
        tmp_path / "d.csv", index=False)
    spec = {"data": "d.csv", "label": "y", "score": "s", "sensitive": ["g"],
            "fairness": {"bootstrap": 0}, "outputs": {"dir": "out"},
            "checks": [{"metric": "disparate_impact", "min": 0.8},
                       {"metric": "tpr_difference", "max": 0.1}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "spec.json")
    assert r.code == 1, r
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["checks"]
    assert len(rows) == 2 and not any(c["passed"] for c in rows)
    assert all("no group to compare" in c["reason"] for c in rows)


def test_dataset_drift_without_testable_columns_is_not_a_pass(audit, small):
    spec = write_spec(small, drift={"columns": []},
                      checks=[{"metric": "dataset_drift", "max": 0}])
    r = audit("run", spec)
    assert r.code == 1, r
    doc = json.loads((small / "out" / "results.json").read_text())
    assert doc["drift"]["dataset_drift"] is None
    assert doc["checks"][0]["passed"] is False


def test_drift_overrides_per_column(audit, small):
    """drift.overrides sets one column's primary test and threshold (SPEC 3: overridable per
    column); the statistic is the column's PSI that the default run also reports; the other
    columns keep the automatic choice. A column that is not compared is a spec error."""
    base = write_spec(small, checks=[])
    r = audit("run", base, "--quiet")
    assert r.code == 0, r
    auto = {c["name"]: c for c in
            json.loads((small / "out" / "results.json").read_text())["drift"]["columns"]}
    spec = write_spec(small, checks=[], drift={"overrides": {"x": {"method": "psi",
                                                                   "threshold": 0.05}}})
    r = audit("run", spec, "--quiet")
    assert r.code == 0, r
    cols = {c["name"]: c for c in
            json.loads((small / "out" / "results.json").read_text())["drift"]["columns"]}
    x = cols["x"]
    assert x["method"] == "psi" and x["threshold"] == 0.05
    assert x["statistic"] == auto["x"]["psi"]
    assert x["drifted"] == (x["statistic"] >= 0.05)
    assert auto["x"]["method"] != "psi"
    assert cols["sex"]["method"] == auto["sex"]["method"]
    spec = write_spec(small, checks=[], drift={"overrides": {"nope": {"method": "psi"}}})
    r = audit("run", spec)
    assert r.code == 2, r
    assert '"drift.overrides": column "nope" is not among the columns compared' in r.err, r


def test_na_tokens_and_model_format_keys(audit, small, root, tmp_path):
    """"na" replaces the missing-value tokens (like --na): -999 in x becomes missing, compared
    with pandas' count; "model_format" forces the loader (like --model-format): a wrong one is an
    input error from that loader, a right one runs."""
    cur = pd.read_csv(small / "cur.csv")
    cur.loc[::10, "x"] = -999
    cur.to_csv(small / "cur.csv", index=False)
    spec = write_spec(small, checks=[], na=["", "-999.0"])   # tokens match the text exactly
    r = audit("run", spec, "--quiet")
    assert r.code == 0, r
    doc = json.loads((small / "out" / "results.json").read_text())
    (x,) = [c for c in doc["drift"]["columns"] if c["name"] == "x"]
    assert x["missing_current"] == int((cur["x"] == -999).sum()) and x["missing_reference"] == 0
    r = audit("run", write_spec(small, na=[1]))
    assert r.code == 2 and '"na": expected a list of strings' in r.err, r
    r = audit("run", write_spec(small, model="m.json", model_format="onnx"))
    assert r.code == 2 and '"model_format": expected xgboost-json' in r.err, r
    ds = root / "datasets"
    for name in ("credit_xgb.json", "credit_current.csv"):
        shutil.copy(ds / name, tmp_path / name)
    base = {"model": "credit_xgb.json", "data": "credit_current.csv", "label": "default",
            "sensitive": ["race"], "explain": False, "outputs": {"dir": "o2"}}
    spec = tmp_path / "m.json"
    spec.write_text(json.dumps(dict(base, model_format="lightgbm-text")))
    r = audit("run", spec)
    assert r.code == 2 and "credit_xgb.json" in r.err, r
    spec.write_text(json.dumps(dict(base, model_format="xgboost-json")))
    r = audit("run", spec, "--quiet")
    assert r.code in (0, 1), r


def test_run_profiles_the_audited_data(audit, small):
    """results.json carries the data profile (SPEC 5 shape), the same as `audit profile` on the
    data file (which is checked against pandas in test_profile_pandas.py)."""
    spec = write_spec(small, checks=[])
    assert audit("run", spec, "--quiet").code == 0
    doc = json.loads((small / "out" / "results.json").read_text())
    r = audit("profile", "--data", small / "cur.csv", "--json", "-")
    assert r.code == 0, r
    assert doc["profile"] == json.loads(r.out)["profile"]
    assert doc["profile"]["rows"] == 400 and [c["name"] for c in doc["profile"]["columns"]] == \
        ["x", "sex", "score", "label"]
    assert list(doc).index("provenance") < list(doc).index("profile") < list(doc).index("fairness")


def test_check_on_an_attribute_whose_name_holds_an_ampersand(audit, small):
    """A sensitive column may itself be called "a&b": a check naming it is valid (regression:
    the name was split at '&' and the spec refused)."""
    cur = pd.read_csv(small / "cur.csv").rename(columns={"sex": "sex&x"})
    cur.to_csv(small / "cur.csv", index=False)
    spec = write_spec(small, reference=None, sensitive=["sex&x"],
                      checks=[{"metric": "disparate_impact", "min": 0.1, "attribute": "sex&x"}])
    r = audit("run", spec, "--quiet")
    assert r.code == 0, r
    doc = json.loads((small / "out" / "results.json").read_text())
    assert doc["checks"] and all(c["attribute"] == "sex&x" for c in doc["checks"])
    # and an intersection with such a column: "grp&sex&x" is grp x (sex&x)
    cur["grp"] = ["a", "b"] * (len(cur) // 2)
    cur.to_csv(small / "cur.csv", index=False)
    spec = write_spec(small, reference=None, sensitive=["grp", "sex&x"],
                      checks=[{"metric": "disparate_impact", "min": 0.1,
                               "attribute": "grp&sex&x"}])
    r = audit("run", spec, "--quiet")
    assert r.code in (0, 1), r
    doc = json.loads((small / "out" / "results.json").read_text())
    assert [x["name"] for x in doc["fairness"]["intersections"]] == ["grp&sex&x"]
    assert doc["checks"] and all(c["attribute"] == "grp&sex&x" for c in doc["checks"])


@pytest.mark.parametrize("seed", [None, 7])
def test_fairness_cli_intervals_equal_the_runs(audit, small, seed):
    """Issue 14.13: `audit fairness` and `audit run` seed the bootstrap the same way (default
    42 in both; an explicit seed given to both), so the same data gives the same intervals."""
    over = {"fairness": {"bootstrap": 200}}
    spec = write_spec(small, **over)
    if seed is None:
        d = json.loads(spec.read_text())
        del d["seed"]
        spec.write_text(json.dumps(d))
    else:
        spec = write_spec(small, seed=seed, **over)
    assert audit("run", spec, "--quiet").code == 0
    run_sum = json.loads((small / "out" / "results.json").read_text())[
        "fairness"]["attributes"][0]["summary"]
    out = small / "f.json"
    args = ["fairness", "--data", small / "cur.csv", "--sensitive", "sex", "--score", "score",
            "--threshold", "0.5", "--label", "label", "--bootstrap", "200", "--json", out]
    if seed is not None:
        args += ["--seed", str(seed)]
    assert audit(*args).code == 0
    cli_sum = json.loads(out.read_text())["fairness"]["attributes"][0]["summary"]
    cis = [k for k in run_sum if k.endswith("_ci")]
    assert "equalized_odds_difference_ci" in cis
    for k in cis:
        assert cli_sum[k] == run_sum[k], k


def test_failed_run_removes_the_folders_it_made(audit, small):
    """Issue 14.13: an exit-2 run leaves nothing behind: no output folder (nested ones too) when
    no run log records the failure, and a folder that existed before is kept."""
    spec = write_spec(small, data="nope.csv", outputs={"dir": "a/b/out", "json": "results.json"})
    r = audit("run", spec)
    assert r.code == 2 and "nope.csv: cannot open" in r.err, r
    assert not (small / "a").exists()
    (small / "keep").mkdir()
    spec = write_spec(small, data="nope.csv", outputs={"dir": "x", "json": "results.json"})
    r = audit("run", spec, "--out", str(small / "keep" / "new") + "/")
    assert r.code == 2, r
    assert (small / "keep").is_dir() and not (small / "keep" / "new").exists()
    # with a run log the folder stays, holding only the log with the error line
    spec = write_spec(small, data="nope.csv", outputs={"dir": "c/out", "log": "runs.jsonl"})
    assert audit("run", spec).code == 2
    assert os.listdir(small / "c" / "out") == ["runs.jsonl"]


def tie_data(path):
    """Issue 14: a planted tie around the reference R (TPR 0.5): group G1 at TPR 0.29 (gap
    -0.21, the worst) and G2 at 0.70 (+0.20); negatives half selected everywhere."""
    rows = []
    for grp, tp in (("R", 50), ("G1", 29), ("G2", 70)):
        rows += [(grp, 1, 0.9 if i < tp else 0.1) for i in range(100)]
        rows += [(grp, 0, 0.9 if i < 50 else 0.1) for i in range(100)]
    pd.DataFrame(rows, columns=["grp", "label", "score"]).to_csv(path, index=False)


def test_checks_on_signed_gaps_test_both_sides(audit, tmp_path):
    """A lone bound on a signed gap applies to both sides: -0.21 fails "max": 0.1 (it passed
    before, by its sign); the row records the mirrored bound; a lone negative max is an
    error."""
    tie_data(tmp_path / "d.csv")
    spec = {"data": "d.csv", "label": "label", "score": "score", "threshold": 0.5,
            "sensitive": ["grp"], "fairness": {"bootstrap": 0, "reference": {"grp": "R"}}, "outputs": {"dir": "out", "json": "results.json"},
            "checks": [{"metric": "equal_opportunity_difference", "max": 0.1},
                       {"metric": "tpr_difference", "min": -0.1},
                       {"metric": "average_odds_difference", "max": 0.25},
                       {"metric": "tpr_difference", "min": -0.3, "max": 0.1}]}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "s.json", "--quiet")
    assert r.code == 1, r
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["checks"]
    eo = rows[0]
    assert eo["value"] == pytest.approx(-0.21) and (eo["min"], eo["max"]) == (-0.1, 0.1)
    assert eo["passed"] is False
    tpr = {c["group"]: c for c in rows if c["metric"] == "tpr_difference" and c["min"] == -0.1}
    assert tpr["G1"]["passed"] is False and tpr["G2"]["passed"] is False   # -0.21 and +0.20
    assert tpr["G2"]["max"] == 0.1
    aod = next(c for c in rows if c["metric"] == "average_odds_difference")
    assert aod["passed"] is True and aod["min"] == -0.25
    # both bounds given: applied as given (G1 -0.21 inside -0.3..0.1, G2 +0.20 above 0.1)
    both = {c["group"]: c for c in rows if c["metric"] == "tpr_difference" and c["min"] == -0.3}
    assert both["G1"]["passed"] is True and both["G2"]["passed"] is False
    spec["checks"] = [{"metric": "tpr_difference", "max": -0.1}]
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    r = audit("run", tmp_path / "bad.json", "--out", tmp_path / "bad")
    assert r.code == 2 and '"tpr_difference" is a signed gap' in r.err and \
        "checks[0]" in r.err, r
