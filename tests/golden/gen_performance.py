#!/usr/bin/python3
"""Golden performance figures of `audit run` (results.json "performance"): a scored data set and
what scikit-learn 1.2 and an independent DeLong implementation say about it.

Data (scores.csv, 3,000 rows, seed 20261205): label y; groups g in A..E where D has 9 rows and
E has 12 rows all of label 0 (AUC undefined); three scores:
  p       a probability rounded to 2 decimals (ties; the full ROC curve has < 400 points);
  decile  1..10, a real-valued risk score that is not a probability (COMPAS-like);
  margin  an unrounded real margin (every row distinct: the ROC curve has > 400 points, so the
          report keeps a subset of them).

References, per score, overall and per group:
  sklearn.metrics roc_auc_score, roc_curve (drop_intermediate=True; thresholds[0] is
  max + 1 in 1.2 and written as null by audit), accuracy_score and confusion_matrix at the
  threshold (predicted 1 iff score >= threshold), log_loss (eps 'auto' = float64 eps in 1.2
  for float64 input) and brier_score_loss (probabilities only), and
  sklearn.calibration.calibration_curve(n_bins=10, strategy="uniform") with the bin counts of
  the same binning (np.searchsorted over the inner edges);
  DeLong's variance from its definition (DeLong, DeLong & Clarke-Pearson 1988, section 2): the
  structural components V10(X_i) = mean_j psi(X_i, Y_j) and V01(Y_j) = mean_i psi(X_i, Y_j),
  psi = 1 above, 1/2 tied, 0 below, from the full n1 x n0 kernel matrix (not the midrank
  shortcut audit uses), var = S10/n1 + S01/n0 with sample variances (ddof 1).

Run: /usr/bin/python3 tests/golden/gen_performance.py tests/golden/data/performance
"""
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, brier_score_loss, confusion_matrix, log_loss,
                             roc_auc_score, roc_curve)

THRESHOLDS = {"p": 0.5, "decile": 5.0, "margin": 0.0}


def data():
    rng = np.random.default_rng(20261205)
    n = 3000
    g = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]).astype(object)
    g[:9] = "D"
    g[9:21] = "E"
    x = rng.normal(0, 1, n) + (g == "B") * 0.3
    margin = 1.3 * x + rng.normal(0, 0.8, n)
    prob = 1 / (1 + np.exp(-margin))
    y = (rng.random(n) < 1 / (1 + np.exp(-1.3 * x))).astype(int)
    y[9:21] = 0
    p = np.round(prob, 2)
    decile = np.clip(np.ceil(prob * 10), 1, 10).astype(int)
    return {"g": g, "y": y, "p": p, "decile": decile, "margin": margin}


def delong_var(y, s):
    """DeLong's variance of the AUC from the kernel matrix (O(n1 n0))."""
    x1, y0 = s[y == 1], s[y == 0]
    n1, n0 = len(x1), len(y0)
    if n1 < 2 or n0 < 2:
        return None
    psi = (x1[:, None] > y0[None, :]).astype(float) + 0.5 * (x1[:, None] == y0[None, :])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    return float(np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0)


def figures(y, s, thr, prob):
    out = {"rows": int(len(y)), "positives": int(y.sum())}
    pred = (s >= thr).astype(int)
    out["accuracy"] = float(accuracy_score(y, pred))
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[0, 1]).ravel())
    out["confusion"] = {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    if 0 < y.sum() < len(y):
        out["auc"] = float(roc_auc_score(y, s))
        fpr, tpr, th = roc_curve(y, s)
        out["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": th[1:].tolist()}
        out["auc_var"] = delong_var(y, s)
    else:
        out["auc"] = None
    if prob:
        out["log_loss"] = float(log_loss(y, s, labels=[0, 1]))
        out["brier_score"] = float(brier_score_loss(y, s))
        edges = np.linspace(0.0, 1.0, 11)
        ids = np.searchsorted(edges[1:-1], s)
        count = np.bincount(ids, minlength=10)[:10]
        if 0 < y.sum() < len(y):   # calibration_curve wants both classes
            pt, pp = calibration_curve(y, s, n_bins=10, strategy="uniform")
        else:
            nz = count > 0
            pt = (np.bincount(ids, weights=y, minlength=10)[:10][nz] / count[nz])
            pp = (np.bincount(ids, weights=s, minlength=10)[:10][nz] / count[nz])
        out["calibration"] = {"count": count.tolist(), "fraction_positive": pt.tolist(),
                              "mean_predicted": pp.tolist()}
    return out


def main(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    d = data()
    with open(folder / "scores.csv", "w") as f:
        f.write("g,y,p,decile,margin\n")
        for i in range(len(d["y"])):
            f.write(f"{d['g'][i]},{d['y'][i]},{d['p'][i]!r},{d['decile'][i]},{d['margin'][i]!r}\n")
    exp = {}
    for score, thr in THRESHOLDS.items():
        s = np.asarray(d[score], dtype=float)
        prob = score == "p"
        e = {"threshold": thr, "overall": figures(d["y"], s, thr, prob), "by_group": {}}
        for grp in sorted(set(d["g"])):
            m = d["g"] == grp
            e["by_group"][grp] = figures(d["y"][m], s[m], thr, prob)
        exp[score] = e
    with open(folder / "expected.json", "w") as f:
        json.dump(exp, f, indent=None)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "data" / "performance")
