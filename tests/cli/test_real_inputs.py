"""Files as people have them (issue 15, SPEC section 2): a UCI-Adult-like raw file (a banner line,
no header row, ", " separators, " ?" for missing, a comment line, labels ">50K."/"<=50K.") read
with --skip-rows / --comment / --names / --no-header, against pandas.read_csv with the matching
options, and against the cleaned equivalent (written by pandas): the raw and the cleaned file must
give the same figures, bit for bit, in every command and in `audit run` (spec keys)."""
import json

import numpy as np
import pandas as pd
import pytest

NAMES = ["age", "workclass", "fnlwgt", "education", "sex", "race", "hours", "score", "pred", "y",
         "income"]


def make_frame(n=600, seed=15, shift=0.0):
    rng = np.random.default_rng(seed)
    work = np.array(["Private", "Self-emp-not-inc", "State-gov", "Local-gov"], dtype=object)
    edu = np.array(["Bachelors", "HS-grad", "Some-college", "Masters"], dtype=object)
    race = np.array(["White", "Black", "Asian-Pac-Islander", "Other"], dtype=object)
    age = rng.integers(17, 80, n)
    score = np.round(1 / (1 + np.exp(-(rng.normal(shift, 1, n)))), 6)
    y = (rng.random(n) < score).astype(int)
    df = pd.DataFrame({
        "age": age,
        "workclass": work[rng.integers(0, 4, n)],
        "fnlwgt": rng.integers(10000, 900000, n),
        "education": edu[rng.integers(0, 4, n)],
        "sex": np.where(rng.random(n) < 0.6, "Male", "Female").astype(object),
        "race": race[rng.choice(4, n, p=[0.7, 0.15, 0.1, 0.05])],
        "hours": np.round(rng.normal(40, 10, n), 1),
        "score": score,
        "pred": (score >= 0.5).astype(int),
        "y": y,
        "income": np.where(y == 1, ">50K.", "<=50K.").astype(object),
    })
    miss = rng.random(n) < 0.06          # " ?" for missing, as in adult.test
    df.loc[miss, "workclass"] = None
    df.loc[rng.random(n) < 0.03, "hours"] = np.nan
    return df


def write_raw(df, path, banner=True):
    """UCI style: optional banner line, no header, ", " separators, "?" for missing, one comment
    line in the middle, a blank line, trailing spaces after some categories."""
    lines = ["|1x3 Cross validator"] if banner else []
    for i, row in enumerate(df.itertuples(index=False)):
        vals = []
        for name, v in zip(NAMES, row):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                vals.append("?")
            elif name == "sex" and i % 7 == 0:
                vals.append(str(v) + "  ")       # trailing spaces: trimmed as well
            else:
                vals.append(str(v))
        lines.append(", ".join(vals))
        if i == len(df) // 2:
            lines.append("# the second half comes from another extract")
            lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def clean_with_pandas(raw, out):
    """The cleaning a user does today in pandas before reaching for audit."""
    df = pd.read_csv(raw, header=None, names=NAMES, skiprows=1, comment="#",
                     skipinitialspace=True, na_values=["?"], keep_default_na=True)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].str.strip()
    df.to_csv(out, index=False)
    return df


RAW_OPTS = ["--skip-rows", "1", "--comment", "#", "--names", ",".join(NAMES)]


@pytest.fixture
def files(tmp_path):
    raw = write_raw(make_frame(), tmp_path / "adult.data")
    df = clean_with_pandas(raw, tmp_path / "clean.csv")
    rawref = write_raw(make_frame(seed=16, shift=0.4), tmp_path / "adult_ref.data")
    clean_with_pandas(rawref, tmp_path / "clean_ref.csv")
    return tmp_path, df


def without_provenance(doc):
    doc = dict(doc)
    doc.pop("provenance", None)
    return doc


@pytest.mark.valgrind
def test_raw_profile_matches_pandas_and_cleaned(audit, files):
    d, df = files
    raw = audit("profile", "--data", d / "adult.data", *RAW_OPTS, "--json", "-")
    assert raw.code == 0, raw
    clean = audit("profile", "--data", d / "clean.csv", "--json", "-")
    assert clean.code == 0, clean
    pr, pc = json.loads(raw.out), json.loads(clean.out)
    assert pr["profile"] == pc["profile"]                       # bit for bit
    cols = {c["name"]: c for c in pr["profile"]["columns"]}
    assert pr["profile"]["rows"] == len(df) == 600
    assert list(cols) == NAMES
    for name in NAMES:
        s = df[name]
        assert cols[name]["missing"] == int(s.isna().sum()), name
        if s.dtype == object:
            assert cols[name]["type"] == "categorical"
            assert cols[name]["categories"] == {k: int(v) for k, v in
                                                s.value_counts().items()}, name
        else:
            assert cols[name]["type"] == "numeric"
            assert cols[name]["mean"] == pytest.approx(float(s.mean()), rel=1e-13), name
    assert set(cols["sex"]["categories"]) == {"Male", "Female"}   # "Male  " trimmed
    assert cols["workclass"]["missing"] > 0                        # " ?" recognised


def test_no_header_names_columns_col1_to_coln(audit, files):
    d, df = files
    r = audit("profile", "--data", d / "adult.data", "--skip-rows", "1", "--comment", "#",
              "--no-header", "--json", "-")
    assert r.code == 0, r
    cols = json.loads(r.out)["profile"]["columns"]
    assert [c["name"] for c in cols] == ["col%d" % (i + 1) for i in range(len(NAMES))]
    # pandas: header=None numbers the columns; the figures are those of the named read
    pdf = pd.read_csv(d / "adult.data", header=None, skiprows=1, comment="#",
                      skipinitialspace=True, na_values=["?"])
    assert cols[6]["mean"] == pytest.approx(float(pdf[6].mean()), rel=1e-13)
    assert cols[1]["missing"] == int(pdf[1].isna().sum())


def test_raw_without_options_is_not_silently_read(audit, files):
    """The banner line fails the read with a located message (as before); the options fix it."""
    d, _ = files
    r = audit("profile", "--data", d / "adult.data")
    assert r.code == 2 and "adult.data:2:" in r.err and "expected 1 fields, found 11" in r.err, r


def test_keep_spaces_restores_the_old_reading(audit, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n Male, 1\nMale,2\n ?,3\n")
    r = audit("profile", "--data", p, "--json", "-")
    col = json.loads(r.out)["profile"]["columns"][0]
    assert col["categories"] == {"Male": 2} and col["missing"] == 1
    r = audit("profile", "--data", p, "--keep-spaces", "--json", "-")
    col = json.loads(r.out)["profile"]["columns"]
    assert col[0]["categories"] == {" Male": 1, "Male": 1, " ?": 1}
    assert col[1]["type"] == "numeric"                            # numbers parse either way


def test_raw_fairness_equals_cleaned(audit, files):
    d, _ = files
    args = ["--sensitive", "sex,race", "--prediction", "pred", "--label", "y", "--json", "-"]
    raw = audit("fairness", "--data", d / "adult.data", *RAW_OPTS, *args)
    clean = audit("fairness", "--data", d / "clean.csv", *args)
    assert raw.code == clean.code and raw.code in (0, 1), raw
    assert without_provenance(json.loads(raw.out)) == without_provenance(json.loads(clean.out))


def test_raw_drift_equals_cleaned(audit, files):
    d, _ = files
    raw = audit("drift", "--reference", d / "adult_ref.data", "--current", d / "adult.data",
                *RAW_OPTS, "--json", "-")
    clean = audit("drift", "--reference", d / "clean_ref.csv", "--current", d / "clean.csv",
                  "--json", "-")
    assert raw.code == clean.code, raw
    jr, jc = json.loads(raw.out), json.loads(clean.out)
    assert without_provenance(jr) == without_provenance(jc)
    sex = [c for c in jr["drift"]["columns"] if c["name"] == "sex"][0]
    assert sex["drifted"] is False                                 # no false alarm from " Male"


def test_raw_run_spec_keys_equal_cleaned(audit, files):
    d, _ = files
    base = {"sensitive": ["sex", "race"], "prediction": "pred", "label": "y",
            "explain": False, "outputs": {"json": "results.json"}, "fairness": {"bootstrap": 0}}
    raw = dict(base, data="adult.data", reference="adult_ref.data", skip_rows=1, comment="#",
               names=NAMES, outputs={"json": "raw.json"})
    clean = dict(base, data="clean.csv", reference="clean_ref.csv",
                 outputs={"json": "clean.json"})
    (d / "raw_spec.json").write_text(json.dumps(raw))
    (d / "clean_spec.json").write_text(json.dumps(clean))
    r1 = audit("run", d / "raw_spec.json")
    r2 = audit("run", d / "clean_spec.json")
    assert r1.code == r2.code and r1.code in (0, 1), r1
    a = without_provenance(json.loads((d / "raw.json").read_text()))
    b = without_provenance(json.loads((d / "clean.json").read_text()))
    a.pop("spec", None), b.pop("spec", None)
    assert a == b


@pytest.mark.parametrize("spec,msg", [
    ({"comment": "##"}, '"comment": expected one character'),
    ({"skip_rows": -1}, '"skip_rows": expected a whole number'),
    ({"names": ["a", "a"]}, '"names": "a" is listed twice'),
    ({"header": "no"}, '"header": expected true or false'),
    ({"keep_spaces": 1}, '"keep_spaces": expected true or false'),
])
def test_spec_dialect_key_errors(audit, tmp_path, spec, msg):
    (tmp_path / "d.csv").write_text("a,p\n1,0\n")
    (tmp_path / "s.json").write_text(json.dumps(dict({"data": "d.csv"}, **spec)))
    r = audit("run", tmp_path / "s.json")
    assert r.code == 2 and msg in r.err, r


@pytest.mark.parametrize("args,msg", [
    (["--comment", "ab"], "--comment expects one character"),
    (["--comment", '"'], "--comment expects one character"),
    (["--skip-rows", "-1"], "--skip-rows"),
    (["--names", "a,,b"], "--names has an empty name (name 2)"),
    (["--delimiter", ";", "--comment", ";"], "invalid comment character"),
])
def test_dialect_option_errors(audit, tmp_path, args, msg):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n")
    r = audit("profile", "--data", p, *args)
    assert r.code == 2 and msg in r.err, r


def test_names_count_mismatch_is_located(audit, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("banner\n1,2,3\n")
    r = audit("profile", "--data", p, "--skip-rows", "1", "--names", "a,b")
    assert r.code == 2, r
    assert "d.csv:2: 2 column names given, but the first row has 3 fields" in r.err, r


@pytest.mark.valgrind
def test_duplicate_names_only_an_error_when_used(audit, tmp_path):
    """COMPAS has two decile_score columns: kept apart and reported; an error only when used."""
    p = tmp_path / "compas.csv"
    p.write_text("id,decile_score,race,decile_score,two_year_recid,pred\n"
                 "1,3,African-American,3,1,1\n2,7,Caucasian,7,0,0\n3,1,Caucasian,1,0,1\n"
                 "4,9,African-American,9,1,1\n")
    r = audit("profile", "--data", p, "--json", "-")
    assert r.code == 0, r
    cols = json.loads(r.out)["profile"]["columns"]
    assert [c["name"] for c in cols].count("decile_score") == 2
    assert cols[1]["same_name_columns"] == 2 and "same_name_columns" not in cols[0]
    assert 'column 2: "decile_score" names 2 columns' in r.err
    r = audit("fairness", "--data", p, "--sensitive", "race", "--prediction", "pred",
              "--label", "two_year_recid", "--json", "-")
    assert r.code in (0, 1), r                                   # unused: fine
    r = audit("fairness", "--data", p, "--sensitive", "race", "--score", "decile_score",
              "--threshold", "5")
    assert r.code == 2, r
    assert 'column "decile_score" is ambiguous: columns 2, 4 of the data have that name' in r.err
    r = audit("drift", "--reference", p, "--current", p, "--json", "-")
    assert r.code == 0, r
    assert "decile_score" not in [c["name"] for c in json.loads(r.out)["drift"]["columns"]]
    assert '"decile_score" names 2 columns; not compared' in r.err
    r = audit("drift", "--reference", p, "--current", p, "--columns", "decile_score")
    assert r.code == 2 and "is ambiguous" in r.err, r


def test_unknown_column_lists_the_columns(audit, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("Race,sex,pred\nA,F,1\nB,M,0\n")
    r = audit("fairness", "--data", p, "--sensitive", "race", "--prediction", "pred")
    assert r.code == 2, r
    assert 'no column "race" in the data (did you mean "Race"?); columns: Race, sex, pred' in r.err


def compress(src, dst, tool):
    import gzip
    import shutil
    import subprocess
    if tool == "gzip":
        data = src.read_bytes()
        half = len(data) // 2              # two members, as `cat a.gz b.gz` makes them
        dst.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    else:
        if shutil.which("zstd") is None:
            pytest.skip("zstd (Debian package zstd) is not installed")
        subprocess.run(["zstd", "-q", "-f", "-o", str(dst), str(src)], check=True)
    return dst


@pytest.mark.valgrind
@pytest.mark.parametrize("tool,ext", [("gzip", "gz"), ("zstd", "zst")])
def test_compressed_files_read_transparently(audit, files, tool, ext):
    """A .gz or .zst file gives the same table as the plain one; its provenance hash is that of
    the file as stored."""
    import hashlib
    d, _ = files
    plain = audit("profile", "--data", d / "adult.data", *RAW_OPTS, "--json", "-")
    z = compress(d / "adult.data", d / ("adult.data." + ext), tool)
    comp = audit("profile", "--data", z, *RAW_OPTS, "--json", "-")
    assert comp.code == 0, comp
    jp, jz = json.loads(plain.out), json.loads(comp.out)
    assert jz["profile"] == jp["profile"]
    assert jz["provenance"]["inputs"][0]["sha256"] == hashlib.sha256(z.read_bytes()).hexdigest()
    # recognised by content, not by name
    other = d / "renamed.csv"
    other.write_bytes(z.read_bytes())
    r = audit("profile", "--data", other, *RAW_OPTS, "--json", "-")
    assert json.loads(r.out)["profile"] == jp["profile"], r


@pytest.mark.parametrize("tool,ext,msg", [("gzip", "gz", "truncated gzip data"),
                                          ("zstd", "zst", "zstd data")])
def test_compressed_damage_is_an_error(audit, tmp_path, tool, ext, msg):
    src = tmp_path / "d.csv"
    src.write_text("a,b\n" + "".join("%d,x%d\n" % (i, i % 7) for i in range(5000)))
    z = compress(src, tmp_path / ("d.csv." + ext), tool)
    cut = tmp_path / ("cut." + ext)
    cut.write_bytes(z.read_bytes()[:len(z.read_bytes()) * 2 // 3])
    r = audit("profile", "--data", cut)
    assert r.code == 2 and msg in r.err and str(cut) in r.err, r
    bad = bytearray(z.read_bytes())
    bad[len(bad) // 2] ^= 0xFF
    bad[len(bad) // 2 + 1] ^= 0xFF
    (tmp_path / ("bad." + ext)).write_bytes(bytes(bad))
    r = audit("profile", "--data", tmp_path / ("bad." + ext))
    assert r.code == 2 and ("corrupt" in r.err or "truncated" in r.err), r


# ---- outcomes as they are coded, attributes as they come (issue 15 items 3-5) ----------------

def fair_json(audit, data, *args):
    r = audit("fairness", "--data", data, "--bootstrap", "0", "--json", "-", *args)
    assert r.code in (0, 1), r
    return json.loads(r.out)["fairness"], r.err


@pytest.mark.valgrind
def test_label_coded_as_text_equals_the_01_column(audit, files):
    """">50K." as 1 on the raw file gives the figures of the cleaned file's 0/1 column."""
    d, df = files
    coded, err = fair_json(audit, d / "adult.data", *RAW_OPTS, "--sensitive", "sex,race",
                           "--prediction", "pred", "--label", "income",
                           "--label-positive", ">50K.")
    plain, _ = fair_json(audit, d / "clean.csv", "--sensitive", "sex,race", "--prediction",
                         "pred", "--label", "y")
    assert coded["attributes"] == plain["attributes"]
    assert coded["intersections"] == plain["intersections"]
    n1 = int((df["income"] == ">50K.").sum())
    assert 'label "income": 1 = ">50K." (%d rows); 0 = "<=50K." (%d rows)' % (
        n1, len(df) - n1) in err


def test_trailing_dot_is_not_equated(audit, files):
    d, df = files
    r = audit("fairness", "--data", d / "adult.data", *RAW_OPTS, "--sensitive", "sex",
              "--prediction", "pred", "--label", "income", "--label-positive", ">50K")
    assert r.code == 2, r
    counts = df["income"].value_counts()
    assert ('none of the label values given as 1 (">50K") occurs in the column; its values: '
            '"<=50K." (%d rows), ">50K." (%d rows)' % (counts["<=50K."], counts[">50K."])
            in r.err), r


def test_numeric_and_yes_no_codings(audit, tmp_path):
    rng = np.random.default_rng(3)
    n = 300
    y = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    g = rng.choice(["a", "b", "c"], n)
    pd.DataFrame({"g": g, "y": y, "p": p}).to_csv(tmp_path / "plain.csv", index=False)
    pd.DataFrame({"g": g, "y": np.where(y == 1, 2, 1), "p": np.where(p == 1, "yes", "no")}
                 ).to_csv(tmp_path / "coded.csv", index=False)
    a, _ = fair_json(audit, tmp_path / "plain.csv", "--sensitive", "g", "--prediction", "p",
                     "--label", "y")
    b, err = fair_json(audit, tmp_path / "coded.csv", "--sensitive", "g", "--prediction", "p",
                       "--label", "y", "--label-positive", "2.0", "--prediction-positive", "yes")
    assert a["attributes"] == b["attributes"]
    assert 'prediction "p": 1 = "yes"' in err and 'label "y": 1 = "2"' in err
    r = audit("fairness", "--data", tmp_path / "coded.csv", "--sensitive", "g", "--prediction",
              "p", "--prediction-positive", "yes", "--label-positive", "2")
    assert r.code == 2 and "--label-positive needs --label" in r.err, r


@pytest.mark.valgrind
def test_bins_by_edges_and_quantiles_match_pandas(audit, files):
    d, df = files
    f, _ = fair_json(audit, d / "clean.csv", "--sensitive", "age", "--prediction", "pred",
                     "--bins", "age=30,45,60")
    groups = f["attributes"][0]["groups"]
    assert [g["group"] for g in groups] == ["<30", "30-45", "45-60", ">=60"]   # natural order
    bands = pd.cut(df["age"], [-np.inf, 30, 45, 60, np.inf], right=False)
    want = df.groupby(bands, observed=False)["pred"].agg(["count", "mean"])
    assert [g["count"] for g in groups] == want["count"].tolist()
    assert [g["selection_rate"] for g in groups] == pytest.approx(
        want["mean"].tolist(), rel=1e-15)
    f, _ = fair_json(audit, d / "clean.csv", "--sensitive", "hours", "--prediction", "pred",
                     "--bins", "hours=quantile:4")
    groups = f["attributes"][0]["groups"]
    h = df["hours"].dropna()
    q = np.quantile(h.to_numpy(), [0.25, 0.5, 0.75])            # numpy "linear"
    def fmt(x):                                                  # shortest round trip
        t = repr(float(x))
        return t[:-2] if t.endswith(".0") else t
    assert [g["group"] for g in groups] == ["<" + fmt(q[0]), fmt(q[0]) + "-" + fmt(q[1]),
                                           fmt(q[1]) + "-" + fmt(q[2]), ">=" + fmt(q[2])]
    counts = pd.cut(h, [-np.inf, *q, np.inf], right=False).value_counts(sort=False)
    assert [g["count"] for g in groups] == counts.tolist()
    assert f["attributes"][0]["unknown"] == int(df["hours"].isna().sum())


def test_order_and_errors(audit, files):
    d, _ = files
    f, _ = fair_json(audit, d / "clean.csv", "--sensitive", "race", "--prediction", "pred",
                     "--order", "race=Other,Asian-Pac-Islander")
    assert [g["group"] for g in f["attributes"][0]["groups"]] == [
        "Other", "Asian-Pac-Islander", "Black", "White"]   # the others in natural order
    r = audit("fairness", "--data", d / "clean.csv", "--sensitive", "race", "--prediction",
              "pred", "--order", "race=other")
    assert r.code == 2 and '"other" is not a group of "race"' in r.err and \
        'did you mean "Other"?' in r.err, r
    for args, msg in [(["--bins", "race=1,2"], 'bins: column "race" is not numeric'),
                      (["--bins", "age=5,3"], "band edges must be finite and increasing"),
                      (["--bins", "age=quantile:1"], "quantile:K with K from 2 to 100"),
                      (["--bins", "sex=1"], '--bins: "sex" is not one of the --sensitive')]:
        sens = "race" if "race" in args[1] else "age"
        r = audit("fairness", "--data", d / "clean.csv", "--sensitive", sens, "--prediction",
                  "pred", *args)
        assert r.code == 2 and msg in r.err, (args, r)


@pytest.mark.valgrind
def test_reference_carries_into_intersections(audit, files):
    d, df = files
    f, out = fair_json(audit, d / "clean.csv", "--sensitive", "sex,race", "--prediction",
                       "pred", "--reference", "race=Black")
    inter = f["intersections"][0]
    largest = df[df["race"] == "Black"].groupby("sex").size().idxmax()
    assert inter["reference"] == "%s&Black" % largest
    assert inter["reference_source"] == "largest group with race=Black"
    assert f["attributes"][0]["reference_source"] == "largest group"
    r = audit("fairness", "--data", d / "clean.csv", "--sensitive", "sex,race", "--prediction",
              "pred", "--reference", "race=Black")
    assert "sex&race: reference %s&Black (largest group with race=Black)" % largest in r.out
    # an explicit intersection reference wins
    f, _ = fair_json(audit, d / "clean.csv", "--sensitive", "sex,race", "--prediction", "pred",
                     "--reference", "race=Black", "--reference", "sex&race=Female&White")
    assert f["intersections"][0]["reference"] == "Female&White"
    assert f["intersections"][0]["reference_source"] == "given"


def test_unknown_reference_group_lists_groups_with_did_you_mean(audit, files):
    d, _ = files
    r = audit("fairness", "--data", d / "clean.csv", "--sensitive", "race", "--prediction",
              "pred", "--reference", "race=black")
    assert r.code == 2, r
    assert ('reference group "black" has no rows in sensitive attribute "race" (its groups: '
            '"Asian-Pac-Islander", "Black", "Other", "White"; did you mean "Black"?)') in r.err


def test_run_spec_keys_for_coding_bins_order(audit, files):
    d, _ = files
    spec = {"data": "adult.data", "skip_rows": 1, "comment": "#", "names": NAMES,
            "sensitive": ["age", "race"], "prediction": "pred", "label": "income",
            "label_positive": [">50K."], "bins": {"age": [30, 45, 60]},
            "order": {"race": ["Other"]}, "fairness": {"bootstrap": 0,
                                                       "reference": {"race": "Black"}},
            "explain": False, "outputs": {"json": "run.json"}}
    (d / "spec.json").write_text(json.dumps(spec))
    r = audit("run", d / "spec.json")
    assert r.code in (0, 1), r
    f = json.loads((d / "run.json").read_text())["fairness"]
    cli, _ = fair_json(audit, d / "adult.data", *RAW_OPTS, "--sensitive", "age,race",
                       "--prediction", "pred", "--label", "income", "--label-positive",
                       ">50K.", "--bins", "age=30,45,60", "--order", "race=Other",
                       "--reference", "race=Black")
    assert f["attributes"] == cli["attributes"]
    assert f["intersections"] == cli["intersections"]
    assert [g["group"] for g in f["attributes"][0]["groups"]] == ["<30", "30-45", "45-60",
                                                                  ">=60"]
    bad = dict(spec, bins={"sex": [1]})
    (d / "bad.json").write_text(json.dumps(bad))
    r = audit("run", d / "bad.json")
    assert r.code == 2 and '"bins.sex": is not one of the "sensitive" columns' in r.err, r


def test_near_duplicate_categories_are_named(audit, files):
    """Issue 15 item 2: categories equal but for surrounding spaces or case are named in a warning
    and in the results (drift and fairness), never silently compared as different."""
    d, df = files
    raw = df.copy()
    raw["sex"] = " " + raw["sex"]                               # ", "-separated, kept spaces
    raw["workclass"] = raw["workclass"].str.lower()
    raw.to_csv(d / "spaced.csv", index=False)
    r = audit("drift", "--reference", d / "clean.csv", "--current", d / "spaced.csv",
              "--keep-spaces", "--json", "-")
    assert r.code == 0, r
    cols = {c["name"]: c for c in json.loads(r.out)["drift"]["columns"]}
    assert cols["sex"]["similar_categories"] == '"Male" ~ " Male", "Female" ~ " Female"' or \
        cols["sex"]["similar_categories"] == '"Female" ~ " Female", "Male" ~ " Male"'
    assert '"Private" ~ "private"' in cols["workclass"]["similar_categories"]
    assert "similar_categories" not in cols["race"]
    assert 'column "sex": categories that differ only by surrounding spaces or case' in r.err
    # trimmed by default: no false alarm for sex, no note
    r = audit("drift", "--reference", d / "clean.csv", "--current", d / "spaced.csv",
              "--json", "-")
    cols = {c["name"]: c for c in json.loads(r.out)["drift"]["columns"]}
    assert "similar_categories" not in cols["sex"] and cols["sex"]["drifted"] is False
    mixed = df.copy()
    mixed.loc[::5, "race"] = mixed.loc[::5, "race"].str.upper()
    mixed.to_csv(d / "mixed.csv", index=False)
    f, err = fair_json(audit, d / "mixed.csv", "--sensitive", "race", "--prediction", "pred")
    sim = f["attributes"][0]["similar_groups"]                  # first appearance first
    assert '"WHITE" ~ "White"' in sim and ('"BLACK" ~ "Black"' in sim or '"Black" ~ "BLACK"' in sim)
    assert 'attribute "race": groups that differ only by surrounding spaces or case' in err


def test_terminal_tables_never_cut_names(audit, tmp_path):
    """Issue 15 item 6: long group and column names are printed whole, columns aligned."""
    long_col = "a_really_long_column_name_that_is_longer_than_24"
    long_grp = "Caucasian-American-of-European-descent"
    p = tmp_path / "w.csv"
    p.write_text(f"{long_col},sex,p\n1,{long_grp},1\n2,Black,0\n3,Ünïcødé group name,1\n")
    r = audit("fairness", "--data", p, "--sensitive", "sex", "--prediction", "p",
              "--bootstrap", "0")
    assert r.code == 0, r
    rows = [ln for ln in r.out.splitlines() if ln.startswith("  ") and "0.333" in ln]
    assert [ln.split("  ")[1].strip() for ln in rows] == ["Black", long_grp, "Ünïcødé group name"]   # natural order
    # the share column is at the same display column (code point) on every row
    assert len({ln.index("  0.333") for ln in rows}) == 1, rows
    r = audit("drift", "--reference", p, "--current", p)
    assert r.code == 0, r
    assert any(ln.startswith(long_col + " numeric") for ln in r.out.splitlines()), r.out
