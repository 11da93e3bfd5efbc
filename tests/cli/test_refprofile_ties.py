"""Reference profiles with heavy ties (issue 17 item 3): the Anderson-Darling and Cramer-von Mises
figures computed from a profile's cells against scipy's grouped-tie forms (anderson_ksamp with
midrank=True, cramervonmises_2samp with average ranks) on the raw data, and against the CSV-based
run, within the bound results.json states per column. The columns are not exact (more than 2048
distinct values) and are built so that many values tie: inside the summary's gaps (ties that are
not entries, up to max_tie), between reference and current values on a common grid, and a large
atom; a drifted column and an undrifted one of each kind."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

N = 60000


def frame(rng, shift):
    n = N
    grid = rng.normal(shift, 1, n)
    return pd.DataFrame({
        # ~3000 distinct values on a 1/400 grid: ties of up to ~45 values, reference and current
        # on the same grid
        "grid": np.round(grid * 400) / 400,
        "grid_same": np.round(rng.normal(0, 1, n) * 400) / 400,
        # a third of the values on one atom, the rest on a grid of 1/1000
        "atom": np.where(rng.random(n) < 0.33, 1.0,
                         np.round(rng.exponential(1 + shift, n) * 1000) / 1000),
        # integer counts spread over ~5000 values: ties of ~10-20 everywhere
        "counts": np.round(rng.lognormal(7 + shift, 0.6, n)),
    })


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from conftest import run_audit as audit
    d = tmp_path_factory.mktemp("refties")
    rng = np.random.default_rng(1717)
    ref, cur = frame(rng, 0.0), frame(rng, 0.2)
    ref.to_csv(d / "ref.csv", index=False)
    cur.to_csv(d / "cur.csv", index=False)
    prof = d / "ref.profile"
    for args in (("profile", "--data", d / "ref.csv", "--save", prof, "--quiet"),
                 ("drift", "--reference", prof, "--current", d / "cur.csv", "--json",
                  d / "p.json"),
                 ("drift", "--reference", d / "ref.csv", "--current", d / "cur.csv", "--json",
                  d / "c.json")):
        r = audit(*args)
        assert r.code == 0, r
    p = json.loads((d / "p.json").read_text())["drift"]["columns"]
    c = json.loads((d / "c.json").read_text())["drift"]["columns"]
    return ref, cur, {x["name"]: x for x in p}, {x["name"]: x for x in c}


def test_the_columns_are_heavily_tied_and_not_exact(both):
    ref, _, p, _ = both
    for name, col in p.items():
        x = ref[name].to_numpy()
        _, counts = np.unique(x, return_counts=True)
        assert col["reference_summary"]["exact"] is False, name
        assert counts.max() >= 10, name   # ties everywhere, not only at entries


def test_ad_and_cvm_against_scipy_grouped_ties_within_the_bound(both):
    ref, cur, p, _ = both
    for name, a in p.items():
        x, y = ref[name].to_numpy(), cur[name].to_numpy()
        b = a["reference_summary"]["bounds"]
        with warnings.catch_warnings():   # p-value capped: the statistic is compared
            warnings.simplefilter("ignore")
            ad = stats.anderson_ksamp([x, y], midrank=True).statistic
        cvm = stats.cramervonmises_2samp(x, y).statistic
        got_ad, got_cvm = a["anderson_darling"]["statistic"], a["cramer_von_mises"]["statistic"]
        assert b["anderson_darling"] is not None and b["cramer_von_mises"] is not None, name
        assert abs(got_ad - ad) <= b["anderson_darling"] + 1e-9 * abs(ad), (name, got_ad, ad)
        assert abs(got_cvm - cvm) <= b["cramer_von_mises"] + 1e-9 * abs(cvm), (name, got_cvm, cvm)
        ks = stats.ks_2samp(x, y).statistic
        assert abs(a["ks"]["statistic"] - ks) <= b["ks_statistic"] + 1e-12, name
        w = stats.wasserstein_distance(x, y)
        assert abs(a["wasserstein"] - w) <= b["wasserstein"] + 1e-9 * w, name


def test_figures_within_the_bound_of_the_csv_run_and_bounds_useful(both):
    _, _, p, c = both
    for name, a in p.items():
        b = a["reference_summary"]["bounds"]
        for key, bk in (("anderson_darling", "anderson_darling"),
                        ("cramer_von_mises", "cramer_von_mises"), ("ks", "ks_statistic")):
            va, vb = a[key]["statistic"], c[name][key]["statistic"]
            assert abs(va - vb) <= b[bk], (name, key, va, vb, b[bk])
        # the drifted columns' statistics are far larger than their bounds: the bound does not
        # swamp the figure where it matters
        if name != "grid_same":
            assert c[name]["cramer_von_mises"]["statistic"] > 5 * b["cramer_von_mises"], name
            assert c[name]["anderson_darling"]["statistic"] > 5 * b["anderson_darling"], name


def test_reports_state_the_profile_and_the_bounds(tmp_path):
    """The PDF and XLSX drift pages say the reference is a profile (its source, SHA-256, rows)
    and give each column's bounds, read from results.json alone."""
    import subprocess
    import openpyxl
    from conftest import run_audit as audit
    rng = np.random.default_rng(5)
    ref, cur = frame(rng, 0.0).head(8000), frame(rng, 0.2).head(8000)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    r = audit("profile", "--data", tmp_path / "ref.csv", "--save", tmp_path / "ref.profile",
              "--quiet")
    assert r.code == 0, r
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"data": "cur.csv", "reference": "ref.profile",
                                "outputs": {"dir": "out", "json": "results.json",
                                            "pdf": "report.pdf", "xlsx": "report.xlsx"}}))
    r = audit("run", spec, "--quiet")
    assert r.code in (0, 1), r
    out = tmp_path / "out"
    res = json.loads((out / "results.json").read_text())
    src = [i for i in res["provenance"]["inputs"] if i["role"] == "reference"][0]
    src = src["profile"]["source"]
    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Figures from the reference profile" in text
    assert "saved profile" in text and src["sha256"] in text
    cols = res["drift"]["columns"]
    for c in cols:
        cvm = c["reference_summary"]["bounds"]["cramer_von_mises"]
        assert "%.3g" % cvm in text, c["name"]
    ws = openpyxl.load_workbook(out / "report.xlsx")["Drift"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    at = [i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith("Reference: a saved")]
    assert at, "no reference block on the Drift sheet"
    kv = {r[0]: r[1] for r in rows[at[0]:at[0] + 7]}
    assert kv["Source SHA-256"] == src["sha256"] and kv["Source rows"] == src["rows"]
    head = [i for i in range(at[0], len(rows)) if rows[i][1] == "From profile"][0]
    got = {r[0]: r for r in rows[head + 1:head + 1 + len(cols)]}
    for c in cols:
        b = c["reference_summary"]["bounds"]
        assert got[c["name"]][2:6] == pytest.approx(   # the sheet keeps 16 digits
            (b["ks_statistic"], b["wasserstein"], b["anderson_darling"],
             b["cramer_von_mises"]), rel=1e-14), c["name"]
