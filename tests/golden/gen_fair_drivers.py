#!/usr/bin/python3
"""Golden data for the drivers / proxy screen / trade-offs of SPEC section 7
(tests/golden/test_fair_drivers.py). Writes into data/fair_drivers/:

  data.csv       3000 rows: race (A/B/C/D, D under 2 %), sex, five model features (zip: 8 codes
                 tied to race; income continuous with missing values; util continuous; nacc
                 0..12 counts; age), label y, and a score column rounded to 3 decimals (ties)
  model.json     XGBoost 1.7 binary:logistic, 40 trees of depth 3 (nthread 1, exact)
  expected.json  the oracle, computed here independently of audit:
     drivers     XGBoost pred_contribs + output_margin, pandas groupby means: per attribute (and
                 for the intersection race&sex, groups "A&female", ...) and group, the gap in mean margin to the reference and each feature's difference of
                 mean contributions; the probability scale: the gap in mean predicted
                 probability split in the proportions of the margin contributions
     proxies     scipy.stats.contingency.association (Cramer's V, missing as a category), the
                 correlation ratio in numpy, sklearn normalized_mutual_info_score (continuous
                 features binned at numpy.quantile deciles, searchsorted side "right")
Run: /usr/bin/python3 tests/golden/gen_fair_drivers.py
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.stats.contingency import association, crosstab
from sklearn.metrics import normalized_mutual_info_score

OUT = Path(__file__).resolve().parent / "data" / "fair_drivers"
FEATURES = ["zip", "income", "util", "nacc", "age"]
ATTRS = ["race", "sex"]
MAX_LEVELS = 20


def make(n=3000, seed=11):
    rng = np.random.default_rng(seed)
    race = rng.choice(np.array(["A", "B", "C", "D"]), size=n, p=[0.55, 0.28, 0.155, 0.015])
    sex = rng.choice(np.array(["female", "male"]), size=n, p=[0.45, 0.55])
    zp = {"A": [.3, .2, .2, .1, .1, .05, .03, .02], "B": [.02, .03, .05, .1, .1, .2, .2, .3],
          "C": [.1, .1, .2, .2, .2, .1, .05, .05], "D": [.125] * 8}
    zipc = np.array([rng.choice(8, p=zp[r]) for r in race])
    income = np.round(rng.lognormal(10.5, 0.5, n) * (1 - 0.1 * (sex == "female")), -1)
    income[rng.random(n) < 0.04] = np.nan
    util = np.round(rng.beta(2, 3, n) + 0.05 * (sex == "female"), 3)
    nacc = rng.poisson(4, n).clip(0, 12)
    age = rng.integers(18, 81, n)
    logit = (-0.5 + 0.35 * (zipc >= 5) + 0.2 * zipc - 1.2 * util
             - 0.4 * np.nan_to_num(np.log(income / 36000)) + 0.05 * nacc - 0.01 * (age - 45))
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"race": race, "sex": sex, "zip": zipc, "income": income, "util": util,
                       "nacc": nacc, "age": age, "y": y})
    return df


def train(df):
    d = xgb.DMatrix(df[FEATURES].astype(float), label=df["y"], missing=np.nan)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1,
              "tree_method": "exact", "seed": 1, "base_score": 0.5}
    return xgb.train(params, d, num_boost_round=40)


def levels(x):
    """Feature levels as audit defines them: discrete values, or decile bins; NaN its own."""
    v = x[~np.isnan(x)]
    u = np.unique(v)
    if len(u) <= MAX_LEVELS:
        lab = np.searchsorted(u, np.nan_to_num(x, nan=0.0))
        discrete = True
    else:
        edges = np.unique(np.quantile(v, np.arange(1, 10) / 10))
        lab = np.searchsorted(edges, np.nan_to_num(x, nan=0.0), side="right")
        discrete = False
    lab = np.where(np.isnan(x), -1, lab)
    return lab, discrete


def eta(x, g):
    ok = ~np.isnan(x)
    x, g = x[ok], g[ok]
    m = x.mean()
    sst = ((x - m) ** 2).sum()
    ssb = sum((g == k).sum() * (x[g == k].mean() - m) ** 2 for k in np.unique(g))
    return float(np.sqrt(ssb / sst))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    df = make()
    bst = train(df)
    X = xgb.DMatrix(df[FEATURES].astype(float), missing=np.nan)
    df["score"] = np.round(bst.predict(X).astype(np.float64), 3)
    df.to_csv(OUT / "data.csv", index=False, na_rep="", float_format="%.10g")
    bst.save_model(str(OUT / "model.json"))
    df = pd.read_csv(OUT / "data.csv")
    X = xgb.DMatrix(df[FEATURES].astype(float), missing=np.nan)
    phi = bst.predict(X, pred_contribs=True).astype(np.float64)
    m = bst.predict(X, output_margin=True).astype(np.float64)
    p = bst.predict(X).astype(np.float64)
    exp = {"drivers": {}, "proxies": {}}
    groupings = [(a, df[a]) for a in ATTRS]
    groupings.append(("race&sex", df["race"] + "&" + df["sex"]))   # the intersection, as audit
    for a, g in groupings:                                          # names its groups
        ref = g.value_counts().idxmax()
        P = pd.DataFrame(phi[:, :-1], columns=FEATURES).groupby(g.values).mean()
        M = pd.Series(m).groupby(g.values).mean()
        PR = pd.Series(p).groupby(g.values).mean()
        exp["drivers"][a] = {grp: {"gap": M[grp] - M[ref],
                                   "contributions": (P.loc[grp] - P.loc[ref]).to_dict(),
                                   "probability_gap": PR[grp] - PR[ref],
                                   "probability": ((P.loc[grp] - P.loc[ref]) / (M[grp] - M[ref])
                                                   * (PR[grp] - PR[ref])).to_dict()}
                             for grp in P.index if grp != ref}
        prox = {}
        for f in FEATURES:
            x = df[f].to_numpy(dtype=float)
            lab, discrete = levels(x)
            if discrete:
                assoc = association(crosstab(g.values, lab).count, method="cramer",
                                    correction=False)
            else:
                assoc = eta(x, g.values)
            prox[f] = {"measure": "cramers_v" if discrete else "correlation_ratio",
                       "association": float(assoc),
                       "nmi": float(normalized_mutual_info_score(g.values, lab))}
        exp["proxies"][a] = prox
    (OUT / "expected.json").write_text(json.dumps(exp, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
