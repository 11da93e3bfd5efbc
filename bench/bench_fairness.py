#!/usr/bin/python3
"""Fairness benchmark: `audit fairness` against a pandas groupby implementation of the same
metrics, side by side in one run.

Generates once (and reuses) a 1,000,000-row CSV in $TMPDIR: sex (2 levels), race (4 levels, one
under 2 %), a 0/1 label with ~3 % missing, a probability score. Both sides compute, for sex, race
and sex&race (8 groups), with the favourable outcome 1 and score >= 0.5 as the prediction:
per group count, share, the 11 rates with 95 % Wilson intervals, differences and ratios to the
reference group, disparate impact, impact ratio, Fisher exact p vs the highest group, AUC, Brier,
ECE; per attribute demographic parity, equalized odds, equal opportunity, average (abs) odds,
predictive parity, Theil, GEI, between-group GEI, chi-square. No bootstrap.

  audit    $AUDIT_BIN fairness ... --bootstrap 0 --json OUT   (CSV read + metrics + JSON write)
  pandas   pandas.read_csv + groupby metrics (statsmodels Wilson, scipy Fisher / chi-square,
           sklearn AUC / Brier / calibration_curve)
  pandas-  the same without read_csv (metrics only)

Prints the best wall-clock time of BENCH_REPEAT runs (default 3) and the ratios (> 1: audit is
faster). A few of audit's figures are checked against pandas' so a fast wrong answer is not
reported as a win. Environment: AUDIT_BIN, BENCH_ROWS (default 1000000), BENCH_REPEAT, TMPDIR.
Exit 0 done, 1 when audit fails or disagrees. Run by `make bench`. Not a test.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
AUDIT_BIN = os.environ.get("AUDIT_BIN", "build/audit")
SEED = 77
GEN_VERSION = 1
RATES = ["base_rate", "selection_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "fdr",
         "false_omission_rate", "accuracy"]


def data_path():
    tmp = os.environ.get("TMPDIR") or tempfile.gettempdir()
    return os.path.join(tmp, "audit-bench-fairness-v%d-%d.csv" % (GEN_VERSION, ROWS))


def generate(path, n):
    rng = np.random.default_rng(SEED)
    sex = rng.choice(np.array(["female", "male"], dtype=object), size=n, p=[0.48, 0.52])
    race = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), size=n,
                      p=[0.6, 0.235, 0.15, 0.015])
    logit = rng.normal(0, 1.5, n) - 0.7 * (race == "B") - 0.2 * (sex == "female")
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 1, n))))).astype(float)
    y[rng.random(n) < 0.03] = np.nan
    score = np.round(1 / (1 + np.exp(-logit)), 4)
    df = pd.DataFrame({"sex": sex, "race": race, "label": y, "score": score})
    tmp = path + ".tmp%d" % os.getpid()
    df.to_csv(tmp, index=False, na_rep="", float_format="%.4g")
    os.replace(tmp, path)


def pandas_attr(df, col):
    """The same per-group and summary figures as `audit fairness`, with pandas groupby."""
    d = df[df[col].notna()]
    lab = d[d["label"].notna()]
    y, p = lab["label"], lab["pred"]
    cells = pd.DataFrame({"g": lab[col], "tp": (y == 1) & (p == 1), "fp": (y == 0) & (p == 1),
                          "tn": (y == 0) & (p == 0), "fn": (y == 1) & (p == 0)})
    c = cells.groupby("g").sum()
    agg = d.groupby(col)["pred"].agg(["count", "sum"]).rename(columns={"sum": "sel"})
    c = agg.join(c)
    c["share"] = c["count"] / len(d)
    lb = c.tp + c.fp + c.tn + c.fn
    parts = {"base_rate": (c.tp + c.fn, lb), "selection_rate": (c.sel, c["count"]),
             "tpr": (c.tp, c.tp + c.fn), "fpr": (c.fp, c.fp + c.tn), "tnr": (c.tn, c.fp + c.tn),
             "fnr": (c.fn, c.tp + c.fn), "ppv": (c.tp, c.tp + c.fp), "npv": (c.tn, c.tn + c.fn),
             "fdr": (c.fp, c.tp + c.fp), "false_omission_rate": (c.fn, c.tn + c.fn),
             "accuracy": (c.tp + c.tn, lb)}
    ref = c["count"].idxmax()
    small = c["share"] < 0.02
    for r, (num, den) in parts.items():
        c[r] = num / den
        lo, hi = proportion_confint(num, den, alpha=0.05, method="wilson")
        c[r + "_lo"], c[r + "_hi"] = lo, hi
        c[r + "_difference"] = c[r] - c.loc[ref, r]
        c[r + "_ratio"] = c[r] / c.loc[ref, r]
    elig = c[~small]
    high = elig["selection_rate"].idxmax()
    c["disparate_impact"] = c["selection_rate_ratio"]
    c["impact_ratio"] = c["selection_rate"] / c.loc[high, "selection_rate"]
    c["fisher_p"] = [np.nan if g == high else fisher_exact(
        [[c.loc[g, "sel"], c.loc[g, "count"] - c.loc[g, "sel"]],
         [c.loc[high, "sel"], c.loc[high, "count"] - c.loc[high, "sel"]]]).pvalue
        for g in c.index]
    c["eod"] = c["tpr"] - c.loc[ref, "tpr"]
    c["aod"] = ((c["fpr"] - c.loc[ref, "fpr"]) + c["eod"]) / 2
    c["aaod"] = ((c["fpr"] - c.loc[ref, "fpr"]).abs() + c["eod"].abs()) / 2

    def score_metrics(g):
        yy, ss = g["label"].values, g["score"].values
        pt, pp = calibration_curve(yy, ss, n_bins=10)
        ids = np.searchsorted(np.linspace(0, 1, 11)[1:-1], ss)
        cnt = np.bincount(ids, minlength=10)
        cnt = cnt[cnt > 0]
        return pd.Series({"auc": roc_auc_score(yy, ss), "brier": brier_score_loss(yy, ss),
                          "ece": float(np.sum(cnt / len(ss) * np.abs(pt - pp)))})

    c = c.join(lab.groupby(col).apply(score_metrics))
    e = elig.index
    s = {"demographic_parity_difference": c.loc[e, "selection_rate"].max()
         - c.loc[e, "selection_rate"].min(),
         "demographic_parity_ratio": c.loc[e, "selection_rate"].min()
         / c.loc[e, "selection_rate"].max(),
         "equalized_odds_difference": max(np.ptp(c.loc[e, "tpr"]), np.ptp(c.loc[e, "fpr"])),
         "predictive_parity_difference": np.ptp(c.loc[e, "ppv"])}
    others = [g for g in e if g != ref]
    for k in ("eod", "aod", "aaod"):
        v = c.loc[others, k]
        s[k] = v.loc[v.abs().idxmax()]
    le = lab[lab[col].isin(e)]
    b = (le["pred"] - le["label"] + 1).values
    mu = b.mean()
    s["theil_index"] = np.mean(np.log((b / mu) ** b) / mu)
    s["generalized_entropy_index"] = np.mean((b / mu) ** 2 - 1) / 2
    bg = le.assign(b=b).groupby(col)["b"].transform("mean").values
    s["between_group_gei"] = np.mean((bg / mu) ** 2 - 1) / 2
    tab = np.column_stack([c.loc[e, "sel"], c.loc[e, "count"] - c.loc[e, "sel"]])
    s["chi_square"] = chi2_contingency(tab, correction=False)[:2]
    return c, s


def pandas_all(df):
    df = df.copy()
    df["pred"] = (df["score"] >= 0.5).astype(float)
    df["sex&race"] = df["sex"] + "&" + df["race"]
    return {col: pandas_attr(df, col) for col in ("sex", "race", "sex&race")}


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def best_of(fn, child=False):
    """Best wall-clock and best CPU time (user + sys; of the child process for audit) of
    REPEAT runs. CPU time is reported too because a loaded machine inflates wall time."""
    best, best_cpu = float("inf"), float("inf")
    out = None
    for _ in range(REPEAT):
        c0 = child_cpu() if child else time.process_time()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, (child_cpu() if child else time.process_time()) - c0)
    return best, best_cpu, out


def main():
    path = data_path()
    if not os.path.exists(path):
        print("generating %s (%d rows)..." % (path, ROWS), flush=True)
        generate(path, ROWS)
    out = path + ".out.json"
    cmd = [AUDIT_BIN, "fairness", "--data", path, "--sensitive", "sex,race", "--score", "score",
           "--threshold", "0.5", "--label", "label", "--bootstrap", "0", "--json", out]

    def run_audit():
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            sys.exit(1)

    t_audit, c_audit, _ = best_of(run_audit, child=True)
    t_read, c_read, df = best_of(lambda: pd.read_csv(path))
    t_metrics, c_metrics, ref = best_of(lambda: pandas_all(df))
    t_pandas = t_read + t_metrics
    c_pandas = c_read + c_metrics

    # sanity: a few figures must agree (1e-9)
    f = json.load(open(out))["fairness"]
    os.remove(out)
    bad = 0
    for a in f["attributes"] + f["intersections"]:
        c, s = ref[a["name"]]
        for g in a["groups"]:
            for k, rk in (("selection_rate", "selection_rate"), ("tpr", "tpr"), ("auc", "auc"),
                          ("ece", "ece"), ("fisher_p_value", "fisher_p")):
                v, e = g[k], c.loc[g["group"], rk]
                if not ((v is None and np.isnan(e)) or abs(v - e) <= 1e-9 * (1 + abs(e))):
                    print("MISMATCH %s %s %s: audit %r pandas %r" % (a["name"], g["group"], k, v, e))
                    bad += 1
        for k in ("equalized_odds_difference", "theil_index"):
            if abs(a["summary"][k] - s[k]) > 1e-9:
                print("MISMATCH %s %s" % (a["name"], k))
                bad += 1
    print("fairness, %d rows, sex x race (%d intersection groups), all metrics, no bootstrap"
          % (ROWS, len(f["intersections"][0]["groups"])))
    print("  best of %d runs; wall = elapsed, cpu = user + sys; load average %.2f"
          % (REPEAT, os.getloadavg()[0]))
    print("  audit fairness (CSV + metrics + JSON) wall %7.3f s   cpu %7.3f s" % (t_audit, c_audit))
    print("  pandas read_csv + groupby metrics     wall %7.3f s   cpu %7.3f s"
          % (t_pandas, c_pandas))
    print("    of which read_csv                   wall %7.3f s   cpu %7.3f s" % (t_read, c_read))
    print("    of which metrics                    wall %7.3f s   cpu %7.3f s"
          % (t_metrics, c_metrics))
    print("  ratio pandas / audit: wall %.1fx end to end (%.1fx vs metrics alone); cpu %.1fx "
          "end to end" % (t_pandas / t_audit, t_metrics / t_audit, c_pandas / c_audit))
    record("fairness, %d rows, sex x race, all metrics (CSV read included)" % ROWS, t_audit,
           "pandas read + groupby", t_pandas)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
