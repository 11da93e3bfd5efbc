"""`audit profile` against pandas on a generated file (independent reference).

Tolerances: min/max/counts exact; mean, std (ddof 1) and quantiles (numpy 'linear', as
pandas.Series.quantile) to 1e-12 relative - both sides are double precision, only the summation
order differs."""
import json

import numpy as np
import pandas as pd
import pytest


def make_frame(n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "income": rng.lognormal(10, 0.6, n),
        "age": rng.integers(18, 90, n).astype(float),
        "score": rng.normal(0, 1e-3, n),
        "big": rng.normal(1e9, 1.0, n),
        "grade": rng.choice(["A", "B", "C", "Zoë", "with,comma", 'q"uote'], n,
                            p=[.4, .3, .15, .1, .04, .01]),
        "flag": rng.integers(0, 2, n).astype(float),
    })
    for col, frac in [("income", 0.05), ("age", 0.01), ("grade", 0.03)]:
        df.loc[rng.random(n) < frac, col] = np.nan
    return df


@pytest.mark.parametrize("n,seed", [(1, 1), (2, 2), (7, 3), (5000, 4)])
def test_profile_matches_pandas(audit, tmp_path, n, seed):
    df = make_frame(n, seed)
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False, float_format="%.17g")
    out = tmp_path / "p.json"
    r = audit("profile", "--data", csv, "--json", out)
    assert r.code == 0, r
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "2" and doc["tool"]["name"] == "audit"
    prof = doc["profile"]
    assert prof["rows"] == n
    # round_trip: pandas' default fast parser is not correctly rounded in the last digit
    ref = pd.read_csv(csv, float_precision="round_trip")
    cols = {c["name"]: c for c in prof["columns"]}
    assert list(cols) == list(ref.columns)
    for name in ref.columns:
        s = ref[name]
        c = cols[name]
        assert c["missing"] == int(s.isna().sum()), name
        if s.dtype == object:
            assert c["type"] == "categorical"
            counts = s.value_counts()
            assert c["categories"] == {k: int(v) for k, v in counts.items()}
            continue
        assert c["type"] == "numeric"
        v = s.dropna()
        if len(v) == 0:
            assert c["min"] is None and c["mean"] is None
            continue
        assert c["min"] == v.min() and c["max"] == v.max()
        assert c["mean"] == pytest.approx(v.mean(), rel=1e-12, abs=1e-300)
        if len(v) >= 2:
            assert c["std"] == pytest.approx(v.std(ddof=1), rel=1e-12, abs=1e-300)
        else:
            assert c["std"] is None
        for key, q in [("5%", .05), ("25%", .25), ("50%", .5), ("75%", .75), ("95%", .95)]:
            assert c["quantiles"][key] == pytest.approx(v.quantile(q), rel=1e-12), (name, key)


def test_profile_top50_and_other(audit, tmp_path):
    rng = np.random.default_rng(9)
    vals = [f"c{i:03d}" for i in rng.integers(0, 80, 3000)]
    csv = tmp_path / "d.csv"
    pd.DataFrame({"cat": vals}).to_csv(csv, index=False)
    out = tmp_path / "p.json"
    r = audit("profile", "--data", csv, "--json", out)
    assert r.code == 0, r
    c = json.loads(out.read_text())["profile"]["columns"][0]
    counts = pd.Series(vals).value_counts()
    assert len(c["categories"]) == 50
    assert c["n_categories"] == counts.size
    assert sum(c["categories"].values()) + c["other"] == 3000
    # the 50 shown are the most frequent (ties may order differently than pandas)
    assert min(c["categories"].values()) >= counts.iloc[50]


def hard_columns(n, seed):
    """Columns that exercise every branch of the radix selection (metrics/quantile.c): ties,
    signed zeros, a wide exponent range, values packed in a narrow range beside an outlier (the
    wanted buckets must be split again), constant and two-valued columns, subnormals."""
    rng = np.random.default_rng(seed)
    near = 1e9 + rng.normal(0, 1e-3, n)
    near[0] = -1e300
    return pd.DataFrame({
        "ties": rng.poisson(1.0, n).astype(float),
        "zeros": rng.choice([-0.0, 0.0, 1.0, -1.0], n, p=[.3, .3, .2, .2]),
        "heavy": rng.lognormal(0, 6, n) * rng.choice([-1.0, 1.0], n),
        "packed": near,
        "const": np.full(n, 3.25),
        "two": rng.choice([-2.5, 7.0], n),
        "tiny": rng.normal(0, 1, n) * 1e-310,
        "outlier": np.where(rng.random(n) < 0.001, 1e300, rng.random(n)),
    })


@pytest.mark.parametrize("n,seed", [(4095, 5), (4097, 6), (300000, 7)])
def test_profile_quantiles_hard_columns(audit, tmp_path, n, seed):
    df = hard_columns(n, seed)
    csv = tmp_path / "h.csv"
    df.to_csv(csv, index=False, float_format="%.17g")
    out = tmp_path / "h.json"
    r = audit("profile", "--data", csv, "--json", out)
    assert r.code == 0, r
    cols = {c["name"]: c for c in json.loads(out.read_text())["profile"]["columns"]}
    ref = pd.read_csv(csv, float_precision="round_trip")
    for name in ref.columns:
        got = [cols[name]["quantiles"][k] for k in ("5%", "25%", "50%", "75%", "95%")]
        want = np.quantile(ref[name].to_numpy(), [0.05, 0.25, 0.5, 0.75, 0.95])
        # numpy interpolates from the upper value when the fraction is >= 0.5 (a last-bit
        # difference); every order statistic itself is exact
        assert got == pytest.approx(list(want), rel=1e-12, abs=1e-320), name
