"""One mistake, one message, whichever command meets it (issue 12, item 2: the binding layer,
audit/bind_int.h). Each case gives the same faulty input to every command that reads it and
expects exit 2 with the same message from each."""
import json

import pytest

LINEAR = {"format": "audit-linear", "version": 1, "link": "logit", "intercept": -0.5,
          "coefficients": {"x": 1.5, "z": -0.75}}


def write(tmp_path, csv_text, model=LINEAR, name="d.csv"):
    d = tmp_path / name
    d.write_text(csv_text)
    m = tmp_path / "m.json"
    m.write_text(json.dumps(model))
    return d, m


def run_spec(audit, tmp_path, **spec):
    spec.setdefault("outputs", {"dir": str(tmp_path / "out"), "json": "results.json"})
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    return audit("run", p)


def model_commands(audit, tmp_path, d, m):
    """Every command that binds the model m to the data d: name -> result."""
    return {
        "predict": audit("predict", "--model", m, "--data", d, "--out", tmp_path / "p.csv"),
        "explain": audit("explain", "--model", m, "--data", d, "--out", tmp_path / "e.csv"),
        "reasons": audit("reasons", "--model", m, "--data", d, "--out", tmp_path / "r.csv"),
        "fairness": audit("fairness", "--data", d, "--model", m, "--threshold", "0.5",
                          "--sensitive", "sex"),
        "run": run_spec(audit, tmp_path, data=str(d), model=str(m), sensitive=["sex"],
                        threshold=0.5),
    }


def fair_and_run(audit, tmp_path, d, args, **spec):
    """`audit fairness --data d ARGS` and `audit run` of the same request as a spec."""
    return {"fairness": audit("fairness", "--data", d, *args),
            "run": run_spec(audit, tmp_path, data=str(d), **spec)}


def assert_same_message(results, msg):
    for cmd, r in results.items():
        assert r.code == 2, (cmd, r)
        assert msg in r.err, (cmd, r)
        assert "Traceback" not in r.err and "AddressSanitizer" not in r.err, (cmd, r)


ROWS = "x,z,sex,y\n0.1,1,F,0\n0.5,2,M,1\n-0.3,0.5,F,1\n"


def test_missing_features_are_all_named(audit, tmp_path):
    model = dict(LINEAR, coefficients={"x": 1.0, "w": 2.0, "z": -1.0, "v": 0.5})
    d, m = write(tmp_path, ROWS, model)
    res = model_commands(audit, tmp_path, d, m)
    assert_same_message(res, f'{d}:1: "w": 2 model features are not columns of the data: '
                             '"w", "v"')


def test_one_missing_feature(audit, tmp_path):
    model = dict(LINEAR, coefficients={"x": 1.0, "w": 2.0})
    d, m = write(tmp_path, ROWS, model)
    res = model_commands(audit, tmp_path, d, m)
    assert_same_message(res, '"w": model feature "w" is not a column of the data')


def test_many_missing_features_end_in_dots(audit, tmp_path):
    names = [f"feature_with_a_long_name_{k:03d}" for k in range(40)]
    model = dict(LINEAR, coefficients={n: 1.0 for n in names})
    d, m = write(tmp_path, ROWS, model)
    r = audit("predict", "--model", m, "--data", d)
    assert r.code == 2, r
    assert "40 model features are not columns of the data" in r.err, r
    assert f'"{names[0]}", "{names[1]}"' in r.err and r.err.rstrip().endswith(", ..."), r


def test_missing_value_for_a_model_that_cannot_take_one(audit, tmp_path):
    """Once `audit fairness --model` said '"model score": data row 3 (CSV line 5): the score is missing'
    while predict and run named the column: now every command names row and column."""
    d, m = write(tmp_path, ROWS + ",1,M,0\n")
    res = model_commands(audit, tmp_path, d, m)
    assert_same_message(res, '"x": data row 3 (CSV line 5): missing value in column "x"; this linear model '
                             'cannot handle missing values')


@pytest.mark.parametrize("value", ["2", "-1", "0.5"])
def test_label_not_0_or_1(audit, tmp_path, value):
    d, _ = write(tmp_path, "sex,y,p,s\nF,1,1,0.9\nM,0,0,0.2\nM,%s,1,0.7\n" % value)
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "sex", "--prediction", "p",
                                            "--label", "y"],
                       sensitive=["sex"], label="y", score="s", threshold=0.5)
    assert_same_message(res, f'{d}: "y": data row 2 (CSV line 4): the label must be 0 or 1, got {value}')


def test_missing_label_column(audit, tmp_path):
    d, _ = write(tmp_path, "sex,y,p\nF,1,1\nM,0,0\n")
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "sex", "--prediction", "p",
                                            "--label", "nope"],
                       sensitive=["sex"], label="nope", prediction="p")
    assert_same_message(res, f'{d}: "nope": no column "nope" in the data')


def test_unknown_reference_group_lists_the_groups(audit, tmp_path):
    d, _ = write(tmp_path, "sex,p\nF,1\nM,0\nX,1\nM,1\n")
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "sex", "--prediction", "p",
                                            "--reference", "sex=Q"],
                       sensitive=["sex"], prediction="p", fairness={"reference": {"sex": "Q"}})
    assert_same_message(res, 'reference group "Q" has no rows in sensitive attribute "sex" '
                             '(its groups: "F", "M", "X")')


def test_unknown_reference_group_of_an_intersection(audit, tmp_path):
    d, _ = write(tmp_path, "sex,race,p\nF,A,1\nM,B,0\nF,B,1\nM,A,1\n")
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "sex,race", "--prediction", "p",
                                            "--reference", "sex&race=F&C"],
                       sensitive=["sex", "race"], prediction="p",
                       fairness={"reference": {"sex&race": "F&C"}})
    assert_same_message(res, 'reference group "F&C" has no rows in sensitive attribute '
                             '"sex&race" (its groups: ')


def test_missing_sensitive_column(audit, tmp_path):
    d, _ = write(tmp_path, "sex,p\nF,1\nM,0\n")
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "gender", "--prediction", "p"],
                       sensitive=["gender"], prediction="p")
    assert_same_message(res, f'{d}: "gender": no column "gender" in the data')


def test_prediction_not_0_or_1(audit, tmp_path):
    d, _ = write(tmp_path, "sex,p\nF,1\nM,0.5\n")
    res = fair_and_run(audit, tmp_path, d, ["--sensitive", "sex", "--prediction", "p"],
                       sensitive=["sex"], prediction="p")
    assert_same_message(res, f'{d}: "p": data row 1 (CSV line 3): the prediction must be 0 or 1, got 0.5')
