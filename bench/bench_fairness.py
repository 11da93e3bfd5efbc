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


def data_path(model_scores=False):
    tmp = os.environ.get("TMPDIR") or tempfile.gettempdir()
    return os.path.join(tmp, "audit-bench-fairness-v%d-%d%s.csv"
                        % (GEN_VERSION, ROWS, "-model-scores" if model_scores else ""))


def generate(path, n, model_scores=False):
    """model_scores: the scores unrounded, as a model gives them (about n distinct), not to
    4 digits (10,000 distinct at most)."""
    rng = np.random.default_rng(SEED)
    sex = rng.choice(np.array(["female", "male"], dtype=object), size=n, p=[0.48, 0.52])
    race = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), size=n,
                      p=[0.6, 0.235, 0.15, 0.015])
    logit = rng.normal(0, 1.5, n) - 0.7 * (race == "B") - 0.2 * (sex == "female")
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 1, n))))).astype(float)
    y[rng.random(n) < 0.03] = np.nan
    score = 1 / (1 + np.exp(-logit))
    if not model_scores:
        score = np.round(score, 4)
    df = pd.DataFrame({"sex": sex, "race": race, "label": y, "score": score})
    tmp = path + ".tmp%d" % os.getpid()
    df.to_csv(tmp, index=False, na_rep="", float_format="%.17g" if model_scores else "%.4g")
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

    def run_audit(c=cmd):
        r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            sys.exit(1)

    t_audit, c_audit, _ = best_of(run_audit, child=True)
    # without --json: no threshold trade-offs (SPEC section 7), no JSON written
    t_plain, c_plain, _ = best_of(lambda: run_audit(cmd[:-2]), child=True)
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
    print("  the same without --json               wall %7.3f s   cpu %7.3f s" % (t_plain, c_plain))
    print("  pandas read_csv + groupby metrics     wall %7.3f s   cpu %7.3f s"
          % (t_pandas, c_pandas))
    print("    of which read_csv                   wall %7.3f s   cpu %7.3f s" % (t_read, c_read))
    print("    of which metrics                    wall %7.3f s   cpu %7.3f s"
          % (t_metrics, c_metrics))
    print("  ratio pandas / audit: wall %.1fx end to end (%.1fx vs metrics alone); cpu %.1fx "
          "end to end" % (t_pandas / t_audit, t_metrics / t_audit, c_pandas / c_audit))
    record("fairness, %d rows, sex x race, all metrics (CSV read included)" % ROWS, t_audit,
           "pandas read + groupby", t_pandas)
    record("the same without `--json` (no threshold trade-offs)", t_plain,
           note="`--json` adds x%.2f wall, x%.2f CPU" % (t_audit / t_plain, c_audit / c_plain))

    # the same rows with the scores a model gives (unrounded: ~10^6 distinct), where the
    # scores are ranked by a radix sort and AUC, Brier and ECE swept in rank order; AUC and
    # Brier checked against sklearn
    mpath = data_path(model_scores=True)
    if not os.path.exists(mpath):
        print("generating %s (%d rows)..." % (mpath, ROWS), flush=True)
        generate(mpath, ROWS, model_scores=True)
    mcmd = [mpath if a == path else a for a in cmd]
    t_model, c_model, _ = best_of(lambda: run_audit(mcmd), child=True)
    mdf = pd.read_csv(mpath)
    fm = json.load(open(out))["fairness"]
    os.remove(out)
    lab = mdf[mdf["label"].notna()]
    n_distinct = mdf["score"].nunique()
    for g in next(a for a in fm["attributes"] if a["name"] == "sex")["groups"]:
        d = lab[lab["sex"] == g["group"]]
        for k, e in (("auc", roc_auc_score(d["label"], d["score"])),
                     ("brier", brier_score_loss(d["label"], d["score"]))):
            if abs(g[k] - e) > 1e-9 * (1 + abs(e)):
                print("MISMATCH model scores sex %s %s: audit %r sklearn %r"
                      % (g["group"], k, g[k], e))
                bad += 1
    print("  the same with model scores (%d distinct) wall %7.3f s   cpu %7.3f s"
          % (n_distinct, t_model, c_model))
    record("the same with unrounded model scores (%d distinct: ranked by radix sort)"
           % n_distinct, t_model, note="CPU %.3f s; AUC and Brier as sklearn's" % c_model)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
