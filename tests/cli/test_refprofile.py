"""Reference profiles (SPEC section 8, issue 17 item 3): `audit profile --save` and `audit drift
--reference PROFILE` / the spec's "reference" against the CSV-based figures and against scipy
(ks_2samp, wasserstein_distance, anderson_ksamp, cramervonmises_2samp, jensenshannon) on the
raw data: count-based figures exact, ECDF-based ones within the bound results.json states per
column; bad profile files are located errors (exit 2)."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

N = 6000


def frame(rng, shift):
    n = N
    return pd.DataFrame({
        "normal4": rng.normal(shift, 1, n).round(4),                 # ties, many values
        "expo": rng.exponential(1 + shift, n),                       # continuous
        "lognorm": np.where(rng.random(n) < 0.05, np.nan,
                            rng.lognormal(10 + shift, 0.5, n).round(0)),   # ties, missing
        "pois": rng.poisson(3 + shift, n).astype(float),             # few values: exact
        "bimodal": np.concatenate([rng.normal(-3 + shift, 0.3, n // 2),
                                   rng.normal(4, 2, n - n // 2)]),
        "heavy": np.where(rng.random(n) < 0.6, 0.0, rng.pareto(1.5, n) * 1000),   # one big atom
        "city": rng.choice(["north", "south", "east", "west"], n,
                           p=[0.4, 0.3, 0.2, 0.1] if shift == 0 else [0.3, 0.3, 0.3, 0.1]),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("refprof")
    rng = np.random.default_rng(17)
    ref, cur = frame(rng, 0.0), frame(rng, 0.15)
    ref.to_csv(d / "ref.csv", index=False)
    cur.to_csv(d / "cur.csv", index=False)
    return d, ref, cur


def run_json(audit, *args):
    r = audit(*args)
    assert r.code == 0, r
    return r


@pytest.fixture(scope="module")
def both(data):
    from conftest import run_audit as audit
    d, ref, cur = data
    prof = d / "ref.profile"
    run_json(audit, "profile", "--data", d / "ref.csv", "--save", prof, "--quiet")
    run_json(audit, "drift", "--reference", prof, "--current", d / "cur.csv", "--json",
             d / "p.json")
    run_json(audit, "drift", "--reference", d / "ref.csv", "--current", d / "cur.csv", "--json",
             d / "c.json")
    p = json.loads((d / "p.json").read_text())
    c = json.loads((d / "c.json").read_text())
    return d, ref, cur, p, c


BOUNDED = [("ks", "statistic", "ks_statistic"), ("wasserstein", None, "wasserstein"),
           ("wasserstein_normed", None, "wasserstein_normed"),
           ("anderson_darling", "statistic", "anderson_darling"),
           ("cramer_von_mises", "statistic", "cramer_von_mises")]


def fig(col, key, sub):
    return col[key][sub] if sub else col[key]


def nums(x):
    """The numbers of a packed array (format version 2: one string, single spaces) or of a JSON
    array (version 1)."""
    return [float(t) for t in x.split(" ")] if isinstance(x, str) else list(x)


def pack(v):
    return " ".join(repr(float(t)) if float(t) != int(t) else str(int(t)) for t in v)


def test_profile_file_is_versioned_and_has_provenance(both):
    d, ref, _, p, _ = both
    text = (d / "ref.profile").read_text()
    head, body = text.split("\n", 1)
    assert head.startswith("AUDIT-PROFILE 2 sha256=")
    doc = json.loads(body)
    assert doc["format"] == "audit-profile" and doc["version"] == 2
    assert doc["tool"]["name"] == "audit" and doc["created"].endswith("Z")
    import hashlib
    assert doc["source"]["sha256"] == hashlib.sha256((d / "ref.csv").read_bytes()).hexdigest()
    assert doc["source"]["rows"] == N and doc["source"]["columns"] == ref.shape[1]
    cols = {c["name"]: c for c in doc["columns"]}
    # exact counts: categories, missing, fine bins (numpy.histogram over [min, max], 1024 bins)
    city = cols["city"]
    vc = ref["city"].value_counts()
    assert dict(zip(city["levels"], nums(city["counts"]))) == {k: int(v) for k, v in vc.items()}
    x = ref["lognorm"].to_numpy()
    assert cols["lognorm"]["missing"] == int(np.isnan(x).sum())
    x = x[np.isfinite(x)]
    edges = x.min() + (x.max() - x.min()) * np.arange(1025) / 1024
    assert nums(cols["lognorm"]["bins"]["counts"]) == np.histogram(x, edges)[0].tolist()
    assert cols["lognorm"]["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert cols["lognorm"]["std"] == pytest.approx(x.std(), rel=1e-12)
    assert cols["pois"]["exact"] is True and cols["expo"]["exact"] is False
    # the drift document says where its reference came from
    inp = [i for i in p["provenance"]["inputs"] if i["role"] == "reference"][0]
    assert inp["profile"]["source"]["sha256"] == doc["source"]["sha256"]


def test_count_based_figures_are_exact(both):
    _, _, _, p, c = both
    for a, b in zip(p["drift"]["columns"], c["drift"]["columns"]):
        assert a["name"] == b["name"]
        for k in ("psi", "mean_reference", "std_reference", "rows_reference",
                  "missing_reference", "drifted", "method"):
            if k in b:
                assert a[k] == b[k], (a["name"], k)
        for t in ("chi_square", "z_test"):
            assert a[t] == b[t], (a["name"], t)
        if a["type"] == "categorical":
            assert a == b
        else:
            assert a["psi_bins"] == b["psi_bins"], a["name"]
            assert a["reference_summary"]["psi_exact"] is True


def test_exact_columns_equal_the_csv_figures(both):
    _, _, _, p, c = both
    a = dict([x for x in p["drift"]["columns"] if x["name"] == "pois"][0])
    b = [x for x in c["drift"]["columns"] if x["name"] == "pois"][0]
    s = a.pop("reference_summary")
    assert s["exact"] is True and all(v == 0 for v in s["bounds"].values())
    assert a == b


def test_many_exact_columns_equal_the_csv_figures_bit_for_bit(audit, tmp_path):
    """Exact columns (few distinct values, missing ones) of 20,000 rows: every figure from the
    profile equals the CSV-based one bit for bit - the cell walk must sum each tie group's
    Anderson-Darling term as the CSV path (aud_drift_anderson) does. A rounding of its own
    (one division instead of two) differed in the last bit on one of these 8 columns."""
    rng = np.random.default_rng(5)
    n = 20000
    cols = {}
    for j in range(8):
        r = rng.poisson(3 + 0.1 * j, n).astype(float)
        r[rng.random(n) < 0.01] = np.nan
        cols["p%d" % j] = r
    pd.DataFrame(cols).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({k: rng.poisson(3.2, n // 5).astype(float) for k in cols}).to_csv(
        tmp_path / "c.csv", index=False)
    run_json(audit, "profile", "--data", tmp_path / "r.csv", "--save", tmp_path / "r.profile",
             "--quiet")
    out = {}
    for name in ("r.profile", "r.csv"):
        run_json(audit, "drift", "--reference", tmp_path / name, "--current", tmp_path / "c.csv",
                 "--json", tmp_path / "o.json", "--quiet")
        out[name] = json.loads((tmp_path / "o.json").read_text())["drift"]["columns"]
    for a, b in zip(out["r.profile"], out["r.csv"]):
        a = dict(a)
        assert a.pop("reference_summary")["exact"] is True
        assert a == b, a["name"]


def test_ecdf_figures_within_the_stated_bounds(both):
    _, _, _, p, c = both
    for a, b in zip(p["drift"]["columns"], c["drift"]["columns"]):
        if a["type"] != "numeric":
            continue
        bounds = a["reference_summary"]["bounds"]
        for key, sub, bk in BOUNDED:
            va, vb, bd = fig(a, key, sub), fig(b, key, sub), bounds[bk]
            assert bd is not None and bd >= 0, (a["name"], key)
            assert abs(va - vb) <= bd, (a["name"], key, va, vb, bd)
        # the KS bound is the rank error of 1024 evenly spaced exact ranks
        assert bounds["ks_statistic"] <= 1.0 / 1000


def test_against_scipy_on_the_raw_data(both):
    """The profile-based figures against scipy on the data, within the stated bounds."""
    _, ref, cur, p, _ = both
    for a in p["drift"]["columns"]:
        if a["type"] != "numeric":
            continue
        x = ref[a["name"]].to_numpy()
        y = cur[a["name"]].to_numpy()
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        b = a["reference_summary"]["bounds"]
        tol = 1e-9   # the CSV-based figures match scipy to 1e-9 (SPEC section 3)
        ks = stats.ks_2samp(x, y).statistic
        assert abs(a["ks"]["statistic"] - ks) <= b["ks_statistic"] + tol * ks
        w = stats.wasserstein_distance(x, y)
        assert abs(a["wasserstein"] - w) <= b["wasserstein"] + tol * w
        with warnings.catch_warnings():   # p-value capped/floored: the statistic is compared
            warnings.simplefilter("ignore")
            ad = stats.anderson_ksamp([x, y]).statistic
        assert abs(a["anderson_darling"]["statistic"] - ad) <= b["anderson_darling"] + tol * abs(ad)
        cvm = stats.cramervonmises_2samp(x, y).statistic
        assert abs(a["cramer_von_mises"]["statistic"] - cvm) <= b["cramer_von_mises"] + tol * cvm


def test_js_exact_on_the_bins_it_states(both):
    """Jensen-Shannon: the Sturges edges moved onto the profile's bins; on those edges the
    reference counts equal numpy.histogram of the raw data and the distance scipy's."""
    _, ref, cur, p, c = both
    for a in p["drift"]["columns"]:
        if a["type"] != "numeric" or a["js_bins"].get("edges") is None:
            continue
        x = ref[a["name"]].to_numpy()
        y = cur[a["name"]].to_numpy()
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        e = np.array(a["js_bins"]["edges"])
        assert a["js_bins"]["reference"] == np.histogram(x, e)[0].tolist(), a["name"]
        assert a["js_bins"]["current"] == np.histogram(y, e)[0].tolist(), a["name"]
        js = jensenshannon(np.histogram(x, e)[0], np.histogram(y, e)[0])
        assert a["jensen_shannon"] == pytest.approx(js, rel=1e-9, abs=1e-15)
        b = [z for z in c["drift"]["columns"] if z["name"] == a["name"]][0]
        assert len(b["js_bins"]["edges"]) == len(e)   # the same number of Sturges bins


def test_psi_bins_not_dividing_100_are_flagged(data, audit):
    d, _, _ = data
    prof = d / "ref.profile"
    if not prof.exists():
        run_json(audit, "profile", "--data", d / "ref.csv", "--save", prof, "--quiet")
    run_json(audit, "drift", "--reference", prof, "--current", d / "cur.csv", "--psi-bins", "7",
             "--json", d / "p7.json")
    doc = json.loads((d / "p7.json").read_text())
    num = [x for x in doc["drift"]["columns"] if x["type"] == "numeric"]
    assert {x["reference_summary"]["psi_exact"] for x in num if
            not x["reference_summary"]["exact"]} == {False}


def test_spec_reference_accepts_a_profile(data, audit, tmp_path):
    d, _, _ = data
    prof = tmp_path / "ref.profile"
    run_json(audit, "profile", "--data", d / "ref.csv", "--save", prof, "--quiet")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"data": str(d / "cur.csv"), "reference": "ref.profile",
                                "checks": [{"metric": "drift_share", "max": 0.9}],
                                "outputs": {"dir": "out", "json": "results.json"}}))
    r = audit("run", spec, "--quiet")
    assert r.code in (0, 1), r
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    cols = {x["name"]: x for x in res["drift"]["columns"]}
    assert cols["expo"]["reference_summary"]["exact"] is False
    assert cols["city"]["type"] == "categorical"
    inp = [i for i in res["provenance"]["inputs"] if i["role"] == "reference"][0]
    assert inp["profile"]["source"]["rows"] == N


def test_save_refuses_to_overwrite_its_input(data, audit):
    d, _, _ = data
    r = audit("profile", "--data", d / "ref.csv", "--save", d / "ref.csv")
    assert r.code == 2 and "ref.csv" in r.err
    r = audit("profile", "--data", d / "ref.csv", "--save", "-")
    assert r.code == 2 and "--save" in r.err


# ---- bad profile files: located errors, exit 2, no output ------------------------------------

@pytest.fixture
def small_profile(tmp_path, audit):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(0, 1, 3000), "k": rng.integers(0, 4, 3000),
                       "g": rng.choice(["a", "b"], 3000)})
    df.to_csv(tmp_path / "r.csv", index=False)
    df.iloc[:500].to_csv(tmp_path / "c.csv", index=False)
    run_json(audit, "profile", "--data", tmp_path / "r.csv", "--save", tmp_path / "r.profile",
             "--quiet")
    return tmp_path / "r.profile", tmp_path / "c.csv"


def drift_err(audit, prof, cur):
    out = prof.parent / "o.json"
    r = audit("drift", "--reference", prof, "--current", cur, "--json", out)
    assert r.code == 2, r
    assert not out.exists()
    return r.err


def test_wrong_version(audit, small_profile):
    prof, cur = small_profile
    t = prof.read_text()
    prof.write_text(t.replace("AUDIT-PROFILE 2 ", "AUDIT-PROFILE 3 ", 1))
    e = drift_err(audit, prof, cur)
    assert "r.profile:1:" in e and "version 3" in e and "reads versions 1 to 2" in e


def test_truncated(audit, small_profile):
    prof, cur = small_profile
    t = prof.read_bytes()
    prof.write_bytes(t[: len(t) * 2 // 3])
    e = drift_err(audit, prof, cur)
    assert "r.profile:" in e and "truncated" in e


def test_hand_edited_bin_count_is_located(audit, small_profile):
    prof, cur = small_profile
    head, body = prof.read_text().split("\n", 1)
    doc = json.loads(body)
    c = nums(doc["columns"][0]["bins"]["counts"])
    c[10] += 1
    doc["columns"][0]["bins"]["counts"] = pack(c)
    prof.write_text(head + "\n" + json.dumps(doc, indent=1) + "\n")
    e = drift_err(audit, prof, cur)
    assert 'columns[0] ("x").bins.counts' in e and "add up to 3001" in e


def test_hand_edited_category_counts_fail_the_checksum(audit, small_profile):
    prof, cur = small_profile
    head, body = prof.read_text().split("\n", 1)
    doc = json.loads(body)
    c = nums(doc["columns"][2]["counts"])
    c[0], c[1] = c[1], c[0]   # still adds up: only the checksum can tell
    doc["columns"][2]["counts"] = pack(c)
    prof.write_text(head + "\n" + json.dumps(doc, indent=1) + "\n")
    e = drift_err(audit, prof, cur)
    assert "r.profile:1:" in e and "does not match the checksum" in e


def test_edited_sketch_is_located(audit, small_profile):
    prof, cur = small_profile
    head, body = prof.read_text().split("\n", 1)
    doc = json.loads(body)
    e = nums(doc["columns"][0]["sketch"]["entries"])
    e[8] = -100.0   # a value out of order
    doc["columns"][0]["sketch"]["entries"] = pack(e)
    prof.write_text(head + "\n" + json.dumps(doc) + "\n")
    e = drift_err(audit, prof, cur)
    assert 'columns[0] ("x").sketch.entries[8]' in e and "increase" in e


def test_bad_packed_number_is_located(audit, small_profile):
    prof, cur = small_profile
    head, body = prof.read_text().split("\n", 1)
    doc = json.loads(body)
    c = doc["columns"][0]["bins"]["counts"].split(" ")
    for bad in ("1x", "", "nan", "1e999"):
        c2 = list(c)
        c2[7] = bad
        doc["columns"][0]["bins"]["counts"] = " ".join(c2)
        prof.write_text(head + "\n" + json.dumps(doc) + "\n")
        e = drift_err(audit, prof, cur)
        assert 'columns[0] ("x").bins.counts[7]' in e, (bad, e)


def test_version_1_profiles_still_read(audit, small_profile, tmp_path):
    """A profile of format version 1 (every array a JSON array of numbers) gives the same drift
    figures as the version 2 file of the same data."""
    import hashlib
    prof, cur = small_profile
    head, body = prof.read_text().split("\n", 1)
    doc = json.loads(body)
    doc["version"] = 1
    for c in doc["columns"]:
        if "counts" in c:
            c["counts"] = [int(v) for v in nums(c["counts"])]
        if "bins" in c:
            c["bins"]["counts"] = [int(v) for v in nums(c["bins"]["counts"])]
            c["sketch"]["entries"] = nums(c["sketch"]["entries"])
    text = json.dumps(doc, indent=1) + "\n"
    v1 = tmp_path / "v1.profile"
    v1.write_text("AUDIT-PROFILE 1 sha256=%s\n" % hashlib.sha256(text.encode()).hexdigest() + text)
    out = {}
    for name, p in (("v1", v1), ("v2", prof)):
        run_json(audit, "drift", "--reference", p, "--current", cur, "--json", tmp_path / name)
        out[name] = json.loads((tmp_path / name).read_text())["drift"]
    assert out["v1"]["columns"] == out["v2"]["columns"]


def test_not_a_profile_header(audit, small_profile):
    prof, cur = small_profile
    t = prof.read_text()
    prof.write_text(t.replace("sha256=", "sha255=", 1))
    e = drift_err(audit, prof, cur)
    assert "r.profile:1:" in e and "sha256=" in e
