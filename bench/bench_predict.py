#!/usr/bin/python3
"""Benchmark: `audit predict` vs XGBoost's own predict at equal thread counts (1 and 2).

Model: 500 trees, max_depth 6, binary:logistic, trained by Debian python3-xgboost on 20 features
with ~5% missing values. Data: 100,000 rows. Each timing is the best of REPEAT runs (the machine may
be shared). Reported:
  xgb predict   : xgb.DMatrix(numpy array) + Booster.predict      (data already in memory)
  xgb end-to-end: pandas.read_csv + DMatrix + predict + DataFrame.to_csv (what a user scripts)
  audit         : the whole CLI: read the model JSON and the CSV, predict, write the CSV to a pipe
  audit predict : audit minus the same run on a 1-row CSV (model loading and start-up), i.e. the
                  CSV reading + prediction + output work for 100k rows
Wall times are shown with CPU times (user + system, all threads) beside them: on a shared,
loaded machine the CPU time is the steadier measure. Ratios > 1 mean audit is faster. Usage: AUDIT_BIN=build/audit /usr/bin/python3 bench/bench_predict.py
"""
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))
N_ROWS, N_FEAT, N_TREES, DEPTH, REPEAT = 100_000, 20, 500, 6, 3


def cpu_now():
    """CPU seconds (user + system) of this process and its finished children."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def best(fn):
    """Best wall time and best CPU time (all threads, incl. child processes) of REPEAT runs."""
    walls, cpus = [], []
    out = None
    for _ in range(REPEAT):
        c = cpu_now()
        t = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(cpu_now() - c)
    return min(walls), min(cpus), out


def main():
    rng = np.random.default_rng(42)
    names = [f"x{i}" for i in range(N_FEAT)]
    X = rng.normal(size=(N_ROWS, N_FEAT))
    X[rng.random(X.shape) < 0.05] = np.nan
    Z = np.nan_to_num(X)
    y = (Z[:, 0] + Z[:, 1] * Z[:, 2] - 0.5 * Z[:, 3] ** 2 + rng.normal(size=N_ROWS) > 0) * 1.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n_train = 5_000
        dtrain = xgb.DMatrix(X[:n_train], label=y[:n_train], feature_names=names)
        t = time.perf_counter()
        bst = xgb.train({"objective": "binary:logistic", "max_depth": DEPTH, "eta": 0.05,
                         "tree_method": "hist", "nthread": 2, "seed": 1}, dtrain, N_TREES)
        print(f"trained {N_TREES} trees (depth {DEPTH}) in {time.perf_counter() - t:.1f} s",
              flush=True)
        model = tmp / "model.json"
        bst.save_model(str(model))
        data = tmp / "data.csv"
        pd.DataFrame(X, columns=names).to_csv(data, index=False, na_rep="")
        one = tmp / "one.csv"
        one.write_text("\n".join(data.read_text().split("\n", 2)[:2]) + "\n")
        print(f"{N_ROWS} rows x {N_FEAT} features, CSV {data.stat().st_size / 1e6:.1f} MB, "
              f"model {model.stat().st_size / 1e6:.1f} MB; best of {REPEAT}")
        print(f"{'threads':>7} {'':>6} {'xgb predict':>12} {'xgb e2e':>9} {'audit':>9} "
              f"{'audit pred':>11} {'e2e ratio':>10} {'pred ratio':>11} {'max|diff|':>10}")
        for nt in (1, 2):
            booster = xgb.Booster(model_file=str(model))
            booster.set_param({"nthread": nt})

            def xgb_predict():
                return booster.predict(xgb.DMatrix(X, feature_names=names, nthread=nt))

            def xgb_e2e():
                df = pd.read_csv(data)
                p = booster.predict(xgb.DMatrix(df, nthread=nt))
                buf = io.StringIO()
                pd.DataFrame({"prediction": p}).to_csv(buf, index=False)
                return p

            def audit_run(path):
                r = subprocess.run([BIN, "predict", "--model", str(model), "--data", str(path),
                                    "--threads", str(nt)], capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"audit failed: {r.stderr}")
                return r.stdout

            t_xp, c_xp, p_x = best(xgb_predict)
            t_xe, c_xe, _ = best(xgb_e2e)
            t_a, c_a, out = best(lambda: audit_run(data))
            t_a1, c_a1, _ = best(lambda: audit_run(one))
            p_a = pd.read_csv(io.StringIO(out))["prediction"].to_numpy()
            diff = float(np.max(np.abs(p_a - p_x)))
            t_ap, c_ap = t_a - t_a1, c_a - c_a1
            print(f"{nt:>7} {'wall':>6} {t_xp:>11.3f}s {t_xe:>8.3f}s {t_a:>8.3f}s {t_ap:>10.3f}s "
                  f"{t_xe / t_a:>9.2f}x {t_xp / t_ap:>10.2f}x {diff:>10.2g}")
            print(f"{'':>7} {'cpu':>6} {c_xp:>11.3f}s {c_xe:>8.3f}s {c_a:>8.3f}s {c_ap:>10.3f}s "
                  f"{c_xe / c_a:>9.2f}x {c_xp / c_ap:>10.2f}x", flush=True)
            if diff > 1e-6:
                sys.exit("predictions differ from xgboost by more than 1e-6")
            record(f"predict, {N_TREES} trees depth {DEPTH}, {N_ROWS} rows, {nt} thread(s), "
                   "end to end", t_a, "pandas + XGBoost", t_xe)
        print("ratio = xgboost time / audit time (> 1: audit faster); e2e = whole CLI vs "
              "pandas+xgboost script, pred = audit minus start-up vs DMatrix+predict")


if __name__ == "__main__":
    main()
