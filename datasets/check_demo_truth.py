#!/usr/bin/python3
"""Ground truth for the demo audit, computed independently of `audit` with pandas/xgboost/scipy.

Loads datasets/credit_xgb.json and datasets/credit_current.csv, predicts with XGBoost, and with
the decision rule of datasets/demo_audit.json (favourable = predicted 0, i.e. predicted default
probability < 0.5) prints per group of race, sex and age_band: count, share, selection rate,
disparate impact versus the largest group, TPR/FPR (favourable class as positive) and the
equalized-odds difference.  It then asserts that the demo's disparate-impact check really fails
(DI < 0.8 for at least one race group holding >= 2 % of rows), so the failing verdict of
`make demo` is grounded.

With --drift it also prints the expected per-column drift verdicts (reference vs current) by
Evidently's rules for references of more than 1000 rows: numeric columns with more than 5
distinct values use wasserstein_normed >= 0.1, all others Jensen-Shannon distance >= 0.1.

Usage:  /usr/bin/python3 datasets/check_demo_truth.py [--drift]
Exit status 0 when the ground truth holds, 1 when an assertion fails.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
NA = ["", "NA", "NaN", "nan", "null", "?"]


def load(name):
    return pd.read_csv(os.path.join(HERE, name), float_precision="round_trip",
                       keep_default_na=False, na_values=NA)


def rates(df, by, pred_fav, y_fav):
    rows = []
    n = len(df)
    for g, sub in df.groupby(by, sort=True):
        pf, yf = pred_fav[sub.index], y_fav[sub.index]
        rows.append({
            "group": g, "count": len(sub), "share": len(sub) / n,
            "selection_rate": pf.mean(),
            "tpr": pf[yf].mean() if yf.any() else np.nan,       # P(pred fav | label fav)
            "fpr": pf[~yf].mean() if (~yf).any() else np.nan,   # P(pred fav | label unfav)
        })
    t = pd.DataFrame(rows).set_index("group")
    ref = t["count"].idxmax()
    t["disparate_impact"] = t["selection_rate"] / t.loc[ref, "selection_rate"]
    t["impact_ratio"] = t["selection_rate"] / t["selection_rate"].max()
    eod = max(t["tpr"].max() - t["tpr"].min(), t["fpr"].max() - t["fpr"].min())
    return t, ref, eod


def drift_table(ref, cur, columns):
    out = []
    for c in columns:
        r, k = ref[c].dropna(), cur[c].dropna()
        numeric = pd.api.types.is_numeric_dtype(ref[c]) and pd.api.types.is_numeric_dtype(cur[c])
        if numeric and r.nunique() > 5:
            w = wasserstein_distance(r, k)
            stat = w / max(float(np.std(r, ddof=0)), 0.001)
            method = "wasserstein_normed"
        else:
            keys = sorted(set(r.unique()) | set(k.unique()), key=str)
            pr = np.array([(r == v).sum() for v in keys], dtype=float) / len(r)
            pc = np.array([(k == v).sum() for v in keys], dtype=float) / len(k)
            for p in (pr, pc):           # Evidently's empty-bin fill
                nz = p[p != 0].min()
                p[p == 0] = nz / 1e6 if nz <= 1e-4 else 1e-4
            stat = float(jensenshannon(pr, pc))
            method = "jensen_shannon"
        out.append({"column": c, "method": method, "statistic": stat, "drifted": stat >= 0.1,
                    "missing_ref": ref[c].isna().mean(), "missing_cur": cur[c].isna().mean()})
    return pd.DataFrame(out).set_index("column")


def main():
    spec = json.load(open(os.path.join(HERE, "demo_audit.json"), encoding="utf-8"))
    thr, fav = spec["threshold"], spec["favorable"]
    model = xgb.Booster(model_file=os.path.join(HERE, spec["model"]))
    feats = model.feature_names
    cur = load(spec["data"])
    ref = load(spec["reference"])
    p = model.predict(xgb.DMatrix(cur[feats].astype(np.float64), missing=np.nan,
                                  feature_names=feats))
    pred = (p >= thr).astype(int)
    pred_fav = pd.Series(pred == fav, index=cur.index)
    y_fav = pd.Series(cur[spec["label"]].to_numpy() == fav, index=cur.index)
    print("model features (%d): %s" % (len(feats), ", ".join(feats)))
    print("current rows %d, AUC %.4f, accuracy %.4f, favourable (predicted %d) share %.4f"
          % (len(cur), roc_auc_score(cur[spec["label"]], p),
             (pred == cur[spec["label"]]).mean(), fav, pred_fav.mean()))

    pd.set_option("display.width", 140)
    failing = []
    for attr in spec["sensitive"]:
        t, refg, eod = rates(cur, attr, pred_fav, y_fav)
        print("\n== %s (reference group %s)  equalized_odds_difference %.4f" % (attr, refg, eod))
        print(t.round(4).to_string())
        for g, row in t.iterrows():
            if row["disparate_impact"] < 0.8:
                failing.append((attr, g, row["disparate_impact"], row["share"]))
    if spec.get("intersections"):
        key = cur["sex"] + "&" + cur["race"]
        t, refg, eod = rates(cur.assign(**{"sex&race": key}), "sex&race", pred_fav, y_fav)
        print("\n== sex&race (reference group %s)  equalized_odds_difference %.4f" % (refg, eod))
        print(t.round(4).to_string())

    print("\ngroups with disparate impact < 0.8:")
    for attr, g, di, share in failing:
        print("  %s=%s  DI %.4f  share %.4f%s" % (attr, g, di, share,
                                                  "" if share >= 0.02 else "  (under 2 %)"))
    ok = any(a == "race" and s >= 0.02 for a, _, _, s in failing)
    if "--drift" in sys.argv:
        cols = [c for c in ref.columns if c in cur.columns]
        d = drift_table(ref, cur, cols)
        print("\n== expected drift verdicts (Evidently rules, reference > 1000 rows)")
        print(d.round(4).to_string())
        feat_d = d.loc[feats]
        print("drift share: all %d columns %.4f (%d drifted); %d model features %.4f (%d drifted)"
              % (len(d), d["drifted"].mean(), d["drifted"].sum(), len(feat_d),
                 feat_d["drifted"].mean(), feat_d["drifted"].sum()))
    if not ok:
        print("\nFAIL: no race group with >= 2 %% share has DI < 0.8", file=sys.stderr)
        return 1
    print("\nOK: the disparate_impact check (min 0.8) fails for race as intended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
