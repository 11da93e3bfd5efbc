#!/usr/bin/python3
"""Drivers + proxy screen + trade-offs benchmark (SPEC section 7): `audit fairness --model` on
1,000,000 rows x 8 groups (sex x race, as bench_fairness.py) with an XGBoost model, against the
peer: XGBoost pred_contribs + pandas groupby means of the contributions (the drivers only).

Generates once (and reuses) in $TMPDIR: a CSV with sex, race, 8 numeric features (one, `zip`,
tied to race), a 0/1 label, and an XGBoost binary:logistic model (100 trees of depth 4, trained on
20,000 rows). Prints the best wall-clock time of BENCH_REPEAT runs (default 3) for

  audit    $AUDIT_BIN fairness --model M --threshold 0.5 --bootstrap 0 --json OUT
           (CSV read, predictions, metrics, every row explained, proxy screen, trade-offs)
  metrics  the same without --json (CSV read, predictions, metrics, the table): the drivers,
           proxy screen (attributes and their intersection) and trade-offs are what --json adds;
           SPEC section 7 asks them to add under 2x. Wall and CPU time (user + sys) both
  base     the same with $AUDIT_BIN_BASE when set (another build): the overhead
  xgboost  pandas.read_csv + DMatrix + pred_contribs (nthread = all cores) + groupby means

and checks audit's race-B gap and top driver against XGBoost's (1e-5). audit and metrics run by
turns (at least 5 rounds), so the ratio of the two sees the same spells of a shared machine. Environment: AUDIT_BIN,
AUDIT_BIN_BASE, BENCH_ROWS (default 1000000), BENCH_REPEAT, TMPDIR. Exit 0 done, 1 when audit
fails or disagrees. Run by `make bench`. Not a test.
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
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
AUDIT_BIN = os.environ.get("AUDIT_BIN", "build/audit")
BASE_BIN = os.environ.get("AUDIT_BIN_BASE")
FEATURES = ["zip", "income", "util", "nacc", "age", "f5", "f6", "f7"]
SEED = 78


def paths():
    tmp = os.environ.get("TMPDIR") or tempfile.gettempdir()
    stem = os.path.join(tmp, "audit-bench-drivers-v1-%d" % ROWS)
    return stem + ".csv", stem + ".model.json"


def generate(csv, model, n):
    rng = np.random.default_rng(SEED)
    sex = rng.choice(np.array(["female", "male"]), size=n, p=[0.48, 0.52])
    race = rng.choice(np.array(["A", "B", "C", "D"]), size=n, p=[0.6, 0.235, 0.15, 0.015])
    zipc = (rng.integers(0, 5, n) + 3 * (race == "B")).astype(float)
    income = np.round(rng.lognormal(10.5, 0.5, n), -1)
    income[rng.random(n) < 0.03] = np.nan
    util = np.round(rng.beta(2, 3, n), 3)
    nacc = rng.poisson(4, n).astype(float)
    age = rng.integers(18, 81, n).astype(float)
    f = rng.normal(0, 1, (3, n)).round(3)
    logit = (0.3 * zipc - 1.0 * util - 0.5 * np.nan_to_num(np.log(income / 36000))
             + 0.05 * nacc - 0.01 * (age - 45) + 0.3 * f[0] - 1.2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"sex": sex, "race": race, "zip": zipc, "income": income, "util": util,
                       "nacc": nacc, "age": age, "f5": f[0], "f6": f[1], "f7": f[2], "y": y})
    sub = df.sample(20000, random_state=1)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "nthread": 1,
                     "tree_method": "exact", "seed": 1},
                    xgb.DMatrix(sub[FEATURES], label=sub["y"], missing=np.nan), 100)
    bst.save_model(model)
    tmp = csv + ".tmp%d" % os.getpid()
    df.to_csv(tmp, index=False, na_rep="", float_format="%.6g")
    os.replace(tmp, csv)


def best(fn):
    t = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = fn()
        t.append(time.perf_counter() - t0)
    return min(t), out


def paired(fa, fb, rounds):
    """fa and fb run by turns, `rounds` times each, so that a slow spell of the machine falls on
    both: (best wall, median CPU (user + sys of the child)) of each."""
    res = ([], [], [], [])
    for _ in range(rounds):
        for k, fn in enumerate((fa, fb)):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            fn()
            res[2 * k].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res[2 * k + 1].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    return min(res[0]), med(res[1]), min(res[2]), med(res[3])


def run_audit(binary, csv, model, out):
    json_args = ["--json", out] if out else []
    r = subprocess.run([binary, "fairness", "--data", csv, "--sensitive", "sex,race",
                        "--model", model, "--threshold", "0.5", "--label", "y",
                        "--bootstrap", "0"] + json_args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("audit failed: %s" % r.stderr)
    return out


def peer(csv, model):
    df = pd.read_csv(csv)
    bst = xgb.Booster()
    bst.load_model(model)
    c = bst.predict(xgb.DMatrix(df[FEATURES], missing=np.nan), pred_contribs=True)
    means = pd.DataFrame(c[:, :-1], columns=FEATURES).groupby(df["race"].values).mean()
    m = c.sum(axis=1)
    gm = pd.Series(m).groupby(df["race"].values).mean()
    return means, gm


def main():
    csv, model = paths()
    if not (os.path.exists(csv) and os.path.exists(model)):
        print("generating %d rows into %s" % (ROWS, csv))
        generate(csv, model, ROWS)
    out = tempfile.mktemp(suffix=".json")
    # with and without --json by turns (PAIRS rounds, at least 5): the ratio SPEC section 7 bounds
    # is of two runs of a fraction of a second, which a slow spell of a shared machine would
    # skew if it fell on one of them only
    ta, ca, tm, cm = paired(lambda: run_audit(AUDIT_BIN, csv, model, out),
                            lambda: run_audit(AUDIT_BIN, csv, model, None), max(REPEAT, 5))
    doc = json.load(open(out))
    tp, (means, gm) = best(lambda: peer(csv, model))
    race = next(a for a in doc["fairness"]["attributes"] if a["name"] == "race")
    b = next(d for d in race["drivers"] if d["group"] == "B")
    ok = abs(b["gap"] - (gm["B"] - gm["A"])) <= 1e-5 and b["features"][0]["name"] == "zip"
    for f in b["features"]:
        ok &= abs(f["contribution"] - (means.loc["B", f["name"]] - means.loc["A", f["name"]])) <= 1e-5
    print("rows %d, features %d, groups 8 (sex x race)" % (ROWS, len(FEATURES)))
    print("audit fairness --model (drivers, proxies, trade-offs)  %8.2f s" % ta)
    print("audit fairness --model without --json (metrics only)  %8.2f s  (--json: x%.2f)"
          % (tm, ta / tm))
    print("CPU time (user + sys), median: --json %.2f s, without %.2f s  (x%.2f)"
          % (ca, cm, ca / cm))
    if BASE_BIN:
        tb, _ = best(lambda: run_audit(BASE_BIN, csv, model, out))
        print("audit fairness --model, base build                   %8.2f s  (x%.2f)" % (tb, ta / tb))
    print("xgboost pred_contribs + pandas groupby (drivers only) %8.2f s  (ratio %.2f)" % (tp, tp / ta))
    print("agreement with XGBoost (1e-5): %s" % ("yes" if ok else "NO"))
    record("fairness with drivers, proxy screen and trade-offs, %d rows, 8 groups, every row "
           "explained" % ROWS, ta, "XGBoost pred_contribs + pandas groupby (drivers only)", tp)
    record("the same without `--json` (metrics only: no drivers, proxies, trade-offs)", tm,
           note="`--json` adds x%.2f wall, x%.2f CPU (SPEC 7: under 2x)" % (ta / tm, ca / cm))
    os.unlink(out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
