"""`audit drift` end to end against scipy 1.10 / numpy computed here (Debian /usr/bin/python3).

Tolerances (SPEC section 3): statistics 1e-9 relative, p-values 1e-6 relative. PSI and the bins
are recomputed from their documented definitions (docs/drift.md) with numpy, independently of the
C code: quantile edges with numpy.quantile, Sturges edges with numpy.histogram_bin_edges, counts
with numpy.histogram / searchsorted, Evidently's empty-bin fill.
"""
import json
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

STAT_RTOL = 1e-9
P_RTOL = 1e-6

warnings.simplefilter("ignore")
pytestmark = pytest.mark.filterwarnings("ignore")


def close(a, b, rtol, atol=0.0):
    assert a is not None, f"got null, expected {b}"
    assert abs(a - b) <= rtol * abs(b) + atol, f"got {a!r}, expected {b!r}"


def write_csv(path, cols):
    """cols: dict name -> list of values (float NaN / None = missing, str = category)."""
    names = list(cols)
    n = len(cols[names[0]])
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            cells = []
            for k in names:
                v = cols[k][i]
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    cells.append("")
                elif isinstance(v, str):
                    cells.append(v)
                else:
                    cells.append(repr(float(v)))
            f.write(",".join(cells) + "\n")


def pad(values, n):
    v = [float(x) for x in values]
    return v + [float("nan")] * (n - len(v))


def run_drift(audit, tmp_path, ref, cur, *extra):
    rp, cp, jp = tmp_path / "ref.csv", tmp_path / "cur.csv", tmp_path / "out.json"
    write_csv(rp, ref)
    write_csv(cp, cur)
    r = audit("drift", "--reference", rp, "--current", cp, "--json", jp, *extra)
    assert r.code == 0, r
    doc = json.loads(jp.read_text())
    return {c["name"]: c for c in doc["drift"]["columns"]}, doc["drift"], r


def quantile_psi(x, y, bins=10):
    edges = np.unique(np.quantile(x, np.arange(bins + 1) / bins))
    inner = edges[1:-1]
    k = max(len(edges) - 1, 1)
    rc = np.bincount(np.searchsorted(inner, x, side="right"), minlength=k).astype(float)
    cc = np.bincount(np.searchsorted(inner, y, side="right"), minlength=k).astype(float)
    return evidently_psi(rc / len(x), cc / len(y)), edges, rc, cc


def fill(p):
    p = p.copy()
    m = p[p != 0].min()
    np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return p


def evidently_psi(r, c):
    r, c = fill(r), fill(c)
    return float(np.sum((r - c) * np.log(r / c)))


def evidently_bins(x, y):
    """Evidently get_binned_data: counts per bin (Sturges over both, or one bin per value)."""
    if len(np.unique(x)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([x, y]), bins="sturges")
        return np.histogram(x, edges)[0].astype(float), np.histogram(y, edges)[0].astype(float), edges
    keys = np.unique(np.concatenate([x, y]))
    rc = np.array([np.sum(x == k) for k in keys], float)
    cc = np.array([np.sum(y == k) for k in keys], float)
    return rc, cc, None


def check_numeric(col, x, y, binning="quantile"):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    ks = stats.ks_2samp(x, y)
    close(col["ks"]["statistic"], ks.statistic, STAT_RTOL)
    close(col["ks"]["p_value"], ks.pvalue, P_RTOL, 1e-300)
    w = stats.wasserstein_distance(x, y)
    close(col["wasserstein"], w, STAT_RTOL, 1e-15)
    close(col["wasserstein_normed"], w / max(np.std(x), 0.001), STAT_RTOL, 1e-15)
    if len(x) + len(y) >= 4 and len(np.unique(np.concatenate([x, y]))) > 1:
        ad = stats.anderson_ksamp([x, y])
        close(col["anderson_darling"]["statistic"], ad.statistic, STAT_RTOL, 1e-12)
        close(col["anderson_darling"]["p_value"], ad.significance_level, P_RTOL)
    else:
        assert col["anderson_darling"]["statistic"] is None
        assert col["anderson_darling"]["reason"]
    if len(x) >= 2 and len(y) >= 2:
        cvm = stats.cramervonmises_2samp(x, y)
        close(col["cramer_von_mises"]["statistic"], cvm.statistic, STAT_RTOL, 1e-15)
        # scipy's asymptotic p is 1 - cdf: near 0 it is exact only to ~1e-16 absolute, so
        # relative agreement is checked down to an absolute floor of 1e-14
        close(col["cramer_von_mises"]["p_value"], cvm.pvalue, P_RTOL, 1e-14)
    else:
        assert col["cramer_von_mises"]["statistic"] is None
    rc, cc, edges = evidently_bins(x, y)
    close(col["jensen_shannon"], jensenshannon(rc, cc), STAT_RTOL, 1e-15)
    assert col["js_bins"]["reference"] == rc.tolist()
    assert col["js_bins"]["current"] == cc.tolist()
    if edges is not None:
        assert col["js_bins"]["edges"] == edges.tolist()
    if binning == "quantile":
        psi, qedges, qr, qc = quantile_psi(x, y)
        assert col["psi_bins"]["binning"] == "quantile"
        if len(qedges) >= 2:
            assert col["psi_bins"]["edges"] == qedges.tolist()
        assert col["psi_bins"]["reference"] == qr.tolist()
        assert col["psi_bins"]["current"] == qc.tolist()
    else:
        psi = evidently_psi(rc / len(x), cc / len(y))
    close(col["psi"], psi, STAT_RTOL, 1e-15)


def numeric_frames():
    rng = np.random.default_rng(7)
    n_ref, n_cur = 16000, 3000
    ref, cur, truth = {}, {}, {}

    def add(name, x, y):
        ref[name] = pad(x, n_ref)
        cur[name] = pad(y, n_cur)
        truth[name] = (np.asarray(x, float), np.asarray(y, float))

    add("normal_small", rng.normal(size=800), rng.normal(0.1, 1, 600))      # KS exact, m != n
    add("equal_n", rng.normal(size=2500), rng.normal(0.05, 1, 2500))        # KS exact, m == n
    add("asymp_large", rng.normal(size=16000), rng.normal(0.02, 1, 3000))   # KS kstwo.sf
    add("asymp_small_en", rng.normal(size=12000), rng.normal(0.3, 1, 40))   # kstwo, en = 40
    add("ties", np.round(rng.normal(size=2000), 1), np.round(rng.normal(0.1, 1, 1500), 1))
    add("few_values", rng.integers(0, 4, 900), rng.integers(0, 5, 700))     # chi-square rules
    add("cvm_exact", rng.normal(size=15), rng.normal(1, 1, 12))             # CvM exact
    add("size_two", [1.5, 2.5], [2.0, 9.0])
    add("size_one", [3.0], [4.0, 5.0, 6.0])
    add("constant", [7.0] * 50, [7.0] * 30 + [8.0] * 5)
    add("heavy", rng.standard_cauchy(5000), rng.standard_cauchy(2000) * 1.3)
    # values with missing in the middle: NaN scattered, not only at the end
    x = rng.exponential(size=5000)
    x[rng.random(5000) < 0.1] = np.nan
    y = rng.exponential(1.2, size=3000)
    y[rng.random(3000) < 0.25] = np.nan
    ref["missing"] = pad(x, n_ref)
    cur["missing"] = pad(y, n_cur)
    truth["missing"] = (x, y)
    return ref, cur, truth


@pytest.mark.parametrize("binning", ["quantile", "evidently"])
def test_numeric_columns_match_scipy(audit, tmp_path, binning):
    ref, cur, truth = numeric_frames()
    cols, drift, _ = run_drift(audit, tmp_path, ref, cur, "--psi-binning", binning)
    assert set(cols) == set(truth)
    for name, (x, y) in truth.items():
        try:
            check_numeric(cols[name], x, y, binning)
        except AssertionError as e:
            raise AssertionError(f"column {name}: {e}") from e
    # KS mode follows scipy's auto rule
    assert cols["normal_small"]["ks"]["mode"] == "exact"
    assert cols["asymp_large"]["ks"]["mode"] == "asymp"
    assert cols["cvm_exact"]["cramer_von_mises"]["mode"] == "exact"


def test_missing_shares_reported(audit, tmp_path):
    ref, cur, truth = numeric_frames()
    cols, _, _ = run_drift(audit, tmp_path, ref, cur)
    c = cols["missing"]
    x, y = truth["missing"]
    mr = 16000 - np.isfinite(x).sum()
    mc = 3000 - np.isfinite(y).sum()
    assert c["missing_reference"] == mr and c["missing_current"] == mc
    close(c["missing_share_reference"], mr / 16000, 1e-15)
    close(c["missing_share_change"], mc / 3000 - mr / 16000, 1e-12)


def test_primary_tests_and_flags(audit, tmp_path):
    ref, cur, truth = numeric_frames()
    cols, drift, _ = run_drift(audit, tmp_path, ref, cur)
    # <= 1000 reference values, > 5 distinct -> KS, drifted when p <= 0.05
    c = cols["normal_small"]
    assert c["method"] == "ks" and c["statistic_kind"] == "p_value"
    assert c["statistic"] == c["ks"]["p_value"] and c["threshold"] == 0.05
    assert c["drifted"] == (c["ks"]["p_value"] <= 0.05)
    # <= 1000, 3..5 distinct -> chi-square on the value table
    c = cols["few_values"]
    x, y = truth["few_values"]
    keys = np.unique(np.concatenate([x, y]))
    tab = np.array([[np.sum(x == k) for k in keys], [np.sum(y == k) for k in keys]])
    s, p, dof, _ = stats.chi2_contingency(tab, correction=False)
    assert c["method"] == "chi_square"
    close(c["chi_square"]["statistic"], s, STAT_RTOL)
    close(c["chi_square"]["p_value"], p, P_RTOL)
    assert c["chi_square"]["dof"] == dof
    assert c["drifted"] == (p < 0.05)
    # > 1000 reference values, > 5 distinct -> normed Wasserstein >= 0.1
    c = cols["asymp_large"]
    assert c["method"] == "wasserstein_normed" and c["statistic_kind"] == "distance"
    assert c["drifted"] == (c["wasserstein_normed"] >= 0.1)
    # constant: 2 distinct values over both -> Z-test
    c = cols["constant"]
    assert c["method"] == "z"
    n1, n2 = 50, 35
    p1, p2 = 1.0, 30 / 35
    pp = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
    close(c["z_test"]["statistic"], z, STAT_RTOL)
    close(c["z_test"]["p_value"], 2 * stats.norm.sf(abs(z)), P_RTOL)
    tested = [v for v in cols.values() if "error" not in v]
    share = sum(v["drifted"] for v in tested) / len(tested)
    close(drift["drift_share"], share, 1e-15)
    assert drift["dataset_drift"] == (share >= 0.5)


def test_overrides_global_and_per_column(audit, tmp_path):
    ref, cur, truth = numeric_frames()
    cols, _, _ = run_drift(audit, tmp_path, ref, cur, "--method", "psi", "--threshold",
                           "normal_small=0.2", "--method", "equal_n=anderson_darling")
    assert cols["asymp_large"]["method"] == "psi"
    assert cols["asymp_large"]["threshold"] == 0.1
    assert cols["normal_small"]["method"] == "psi" and cols["normal_small"]["threshold"] == 0.2
    c = cols["equal_n"]
    assert c["method"] == "anderson_darling"
    assert c["drifted"] == (c["anderson_darling"]["p_value"] < 0.05)


def test_categorical_columns_match_scipy(audit, tmp_path):
    rng = np.random.default_rng(11)
    n_ref, n_cur = 1500, 1200
    r = list(rng.choice(["red", "green", "blue", ""], size=n_ref, p=[0.5, 0.3, 0.15, 0.05]))
    # current: a new category, and levels first appear in another order
    c = ["blue", "violet"] + list(rng.choice(["red", "green", "blue", "violet", ""],
                                             size=n_cur - 2, p=[0.4, 0.3, 0.15, 0.1, 0.05]))
    rb = list(rng.choice(["yes", "no"], size=n_ref, p=[0.3, 0.7]))
    cb = list(rng.choice(["no", "yes"], size=n_cur, p=[0.6, 0.4]))
    cols, _, _ = run_drift(audit, tmp_path, {"colour": r, "flag": rb}, {"colour": c, "flag": cb})
    col = cols["colour"]
    assert col["type"] == "categorical"
    levels = col["categories"]["levels"]
    assert levels[:3] == ["red", "green", "blue"] and levels[3] == "violet"
    assert col["unseen_in_reference"] == ["violet"]
    rv = np.array([r.count(k) for k in levels], float)
    cv = np.array([c.count(k) for k in levels], float)
    assert col["categories"]["reference"] == rv.tolist()
    assert col["categories"]["current"] == cv.tolist()
    assert col["missing_reference"] == r.count("") and col["missing_current"] == c.count("")
    s, p, dof, _ = stats.chi2_contingency(np.vstack([rv, cv]), correction=False)
    close(col["chi_square"]["statistic"], s, STAT_RTOL)
    close(col["chi_square"]["p_value"], p, P_RTOL, 1e-300)
    close(col["jensen_shannon"], jensenshannon(rv, cv), STAT_RTOL)
    close(col["psi"], evidently_psi(rv / rv.sum(), cv / cv.sum()), STAT_RTOL)
    assert col["method"] == "jensen_shannon"   # > 1000 reference rows
    fl = cols["flag"]
    a, n1 = rb.count(fl["categories"]["levels"][0]), n_ref
    b, n2 = cb.count(fl["categories"]["levels"][0]), n_cur
    p1, p2 = a / n1, b / n2
    pp = (a + b) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
    close(fl["z_test"]["statistic"], z, STAT_RTOL)
    close(fl["z_test"]["p_value"], 2 * stats.norm.sf(abs(z)), P_RTOL, 1e-300)


def test_threads_give_identical_json(audit, tmp_path):
    ref, cur, _ = numeric_frames()
    outs = []
    for t in ("1", "2", "3"):
        d = tmp_path / t
        d.mkdir()
        _, drift, _ = run_drift(audit, d, ref, cur, "--threads", t)
        outs.append(json.dumps(drift, sort_keys=True))
    assert outs[0] == outs[1] == outs[2]


def test_one_large_column_on_threads_of_its_own(audit, tmp_path):
    """One column of 160,000 values and more threads than columns: its two sides are copied and
    sorted at once and its statistics run on threads of their own (drift_column.c, split). The
    JSON is the same at 1, 2 and 3 threads, and every statistic is scipy's / numpy's."""
    rng = np.random.default_rng(23)
    x = np.round(rng.normal(0.0, 1.0, 90000), 4)
    y = np.round(rng.normal(0.02, 1.05, 70000), 4)
    x[::97] = np.nan
    y[::89] = np.nan
    x[5] = -0.0
    outs = []
    for t in ("1", "2", "3"):
        d = tmp_path / t
        d.mkdir()
        # a second column keeps the rows with a missing value from being blank lines;
        # --columns leaves one column to compare
        cols, drift, _ = run_drift(audit, d, {"v": list(x), "k": ["a"] * len(x)},
                                   {"v": list(y), "k": ["a"] * len(y)}, "--columns", "v",
                                   "--threads", t)
        outs.append(json.dumps(drift, sort_keys=True))
    assert outs[0] == outs[1] == outs[2]
    col = cols["v"]
    assert col["missing_reference"] == int(np.isnan(x).sum())
    assert col["missing_current"] == int(np.isnan(y).sum())
    check_numeric(col, x, y)
