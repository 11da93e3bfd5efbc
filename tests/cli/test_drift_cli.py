"""`audit drift` command line: help, usage errors, input errors (exit 2, located messages),
per-column errors, no partial output."""
import json

import pytest


def write(path, text):
    path.write_text(text)
    return path


def files(tmp_path, ref="a,b,c\n1,x,5\n2,y,6\n3,x,7\n", cur="a,b,c\n1,x,5\n4,z,6\n5,y,8\n"):
    return write(tmp_path / "ref.csv", ref), write(tmp_path / "cur.csv", cur)


def test_help(audit):
    r = audit("drift", "--help")
    assert r.code == 0
    assert "--reference" in r.out and "--psi-binning" in r.out and "--threads" in r.out


def test_requires_both_files(audit, tmp_path):
    ref, _ = files(tmp_path)
    r = audit("drift", "--reference", ref)
    assert r.code == 2
    assert "--reference and --current are required" in r.err


def test_bad_option_values(audit, tmp_path):
    ref, cur = files(tmp_path)
    for extra, msg in [(["--method", "bogus"], "unknown method"),
                       (["--psi-binning", "deciles"], "--psi-binning"),
                       (["--threshold", "abc"], "--threshold"),
                       (["--drift-share", "1.5"], "--drift-share"),
                       (["--psi-bins", "0"], "--psi-bins"),
                       (["--method", "nosuch=ks"], "is not among the columns compared"),
                       (["--columns", "a,,b"], "empty column name"),
                       (["--frobnicate"], "unknown option")]:
        r = audit("drift", "--reference", ref, "--current", cur, *extra)
        assert r.code == 2, (extra, r)
        assert msg in r.err, (extra, r.err)


def test_missing_file_is_input_error(audit, tmp_path):
    ref, _ = files(tmp_path)
    r = audit("drift", "--reference", ref, "--current", tmp_path / "nope.csv")
    assert r.code == 2
    assert "nope.csv" in r.err


@pytest.mark.valgrind
def test_column_missing_in_current_is_exit_2_and_no_json(audit, tmp_path):
    ref, cur = files(tmp_path, cur="a,b\n1,x\n2,y\n")
    out = tmp_path / "out.json"
    r = audit("drift", "--reference", ref, "--current", cur, "--json", out)
    assert r.code == 2
    assert 'no column "c" in the current data' in r.err and "cur.csv" in r.err
    assert not out.exists()
    assert list(tmp_path.glob("out.json*")) == []


def test_unknown_column_in_list(audit, tmp_path):
    ref, cur = files(tmp_path)
    r = audit("drift", "--reference", ref, "--current", cur, "--columns", "a,zz")
    assert r.code == 2
    assert '"zz"' in r.err and "reference" in r.err


@pytest.mark.valgrind
def test_type_mismatch_and_empty_column_are_column_errors(audit, tmp_path):
    ref, cur = files(tmp_path,
                     ref="a,b,c,d\n1,2,,1\n2,3,,2\n3,4,,3\n",
                     cur="a,b,c,d\n1,x,5,1\n2,y,6,2\n3,z,7,4\n")
    out = tmp_path / "out.json"
    r = audit("drift", "--reference", ref, "--current", cur, "--json", out)
    assert r.code == 0, r
    assert 'column "b": numeric in the reference data but categorical' in r.err
    assert 'column "c": no non-missing values in the reference data' in r.err
    d = json.loads(out.read_text())["drift"]
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["b"]["drifted"] is None and "error" in cols["b"]
    assert cols["c"]["drifted"] is None and "error" in cols["c"]
    assert d["n_errors"] == 2
    # the share counts only the tested columns
    tested = [c for c in d["columns"] if "error" not in c]
    assert d["drift_share"] == sum(c["drifted"] for c in tested) / len(tested)
    assert "could not be tested" in r.out


@pytest.mark.valgrind
def test_inapplicable_column_method_is_column_error(audit, tmp_path):
    ref, cur = files(tmp_path)
    out = tmp_path / "o.json"
    r = audit("drift", "--reference", ref, "--current", cur, "--method", "b=ks", "--json", out)
    assert r.code == 0
    col = [c for c in json.loads(out.read_text())["drift"]["columns"] if c["name"] == "b"][0]
    assert "applies to numeric columns only" in col["error"]


@pytest.mark.valgrind
def test_json_to_stdout_has_no_table(audit, tmp_path):
    ref, cur = files(tmp_path)
    r = audit("drift", "--reference", ref, "--current", cur, "--json", "-")
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["schema_version"] == "2" and "drift" in doc
    assert [c["name"] for c in doc["drift"]["columns"]] == ["a", "b", "c"]


def test_table_on_stdout(audit, tmp_path):
    ref, cur = files(tmp_path)
    r = audit("drift", "--reference", ref, "--current", cur, "--columns", "a,b")
    assert r.code == 0
    assert r.out.splitlines()[2].split()[:3] == ["column", "type", "method"]
    assert "tested columns drifted" in r.out


def test_malformed_csv_is_located(audit, tmp_path):
    ref, cur = files(tmp_path, cur="a,b,c\n1,x,5\n2,y\n")
    r = audit("drift", "--reference", ref, "--current", cur)
    assert r.code == 2
    assert "cur.csv:3" in r.err


@pytest.mark.valgrind
def test_nothing_testable_is_exit_2_without_json(audit, tmp_path):
    ref, cur = files(tmp_path, ref="a,b\n", cur="a,b\n1,x\n")
    out = tmp_path / "out.json"
    r = audit("drift", "--reference", ref, "--current", cur, "--json", out)
    assert r.code == 2
    assert "no column could be tested: no non-missing values in the reference data" in r.err
    assert not out.exists()


@pytest.mark.parametrize("binning", ["quantile", "evidently"])
def test_json_states_rows_and_binning(audit, tmp_path, binning):
    ref, cur = files(tmp_path, cur="a,b,c\n1,x,5\n4,z,6\n5,y,8\n6,y,\n")
    r = audit("drift", "--reference", ref, "--current", cur, "--psi-binning", binning,
              "--json", "-")
    assert r.code == 0, r
    d = json.loads(r.out)["drift"]
    assert d["psi_binning"] == binning
    assert d["reference_rows"] == 3 and d["current_rows"] == 4
