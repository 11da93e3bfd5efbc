#!/usr/bin/python3
"""Benchmark `audit explain` against XGBoost, side by side in one run (make bench).

1. method tree vs XGBoost Booster.predict(pred_contribs=True): a 500-tree, depth-6 binary model on
   20 features, 10,000 rows, at 1 and 2 threads. XGBoost is timed on predict() alone (DMatrix
   built beforehand); audit is timed as the whole command (load model, read the CSV, explain,
   write the CSV), so the ratio is conservative. Results are checked to agree (<= 1e-5).
2. --interactions vs Booster.predict(pred_interactions=True) on 200 rows of the same model.
3. method kernel on a 20-feature model (100 trees, depth 4), 100 rows, 100 background rows, one
   thread: time per explained row (default budget 2*M+2048 coalitions).
4. depth sweep (explainers/treeshap_linear.c and the tables of treeshap_fast.c): 100-tree
   regression models (reg:squarederror, eta 0.1, 20 features, 20,000 training rows) of max_depth
   4, 6, ..., 16; explained rows with 2% missing values; one thread each. XGBoost
   pred_contribs is timed on predict() alone, audit as the whole command; both in CPU seconds
   (user + system; the steadier measure on a shared machine) with wall times beside them, audit's
   peak memory (maxrss), and agreement with pred_contribs (<= 1e-5).
audit timings are the best of REPEAT runs; XGBoost's (about 30 s each) the best of XGB_REPEAT.
AUDIT_BIN points to the binary. `bench_shap.py sweep` runs the depth sweep alone."""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

AUDIT = os.environ.get("AUDIT_BIN", str(Path(__file__).resolve().parent.parent / "build" / "audit"))
REPEAT = 3
XGB_REPEAT = 1
F = 20


def write_csv(path, X):
    names = [f"f{j}" for j in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for r in X:
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def best(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(args):
    p = subprocess.run([AUDIT, "-q"] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"audit failed: {p.stderr}")


def run_measured(args):
    """Run audit once: (wall s, CPU s, peak memory MiB or nan). The peak comes from /usr/bin/time
    (Debian package time): a child's own ru_maxrss would include this large Python process,
    which it starts as a copy of."""
    cmd = [AUDIT, "-q"] + [str(a) for a in args]
    timed = os.path.exists("/usr/bin/time")
    if timed:
        cmd = ["/usr/bin/time", "-f", "@@ %U %S %M"] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"audit failed: {p.stderr}")
    if not timed:
        return wall, float("nan"), float("nan")
    u, sy, kb = p.stderr.strip().splitlines()[-1].split()[1:]
    return wall, float(u) + float(sy), float(kb) / 1024.0


# rows explained per depth: XGBoost's TreeSHAP costs ~ leaves x depth^2 per row and tree
SWEEP = ((4, 10000), (6, 4000), (8, 1000), (10, 400), (12, 200), (14, 100), (16, 100))


def sweep(tmp):
    rng = np.random.default_rng(3)
    names = [f"f{j}" for j in range(F)]
    Xt = rng.normal(size=(20000, F)).astype(np.float32).astype(np.float64)
    y = (Xt[:, 0] + Xt[:, 1] * Xt[:, 2] + np.sin(Xt[:, 3]) + 0.5 * Xt[:, 4] ** 2
         + rng.normal(size=len(Xt)))
    dt = xgb.DMatrix(Xt, label=y, feature_names=names)
    X = rng.normal(size=(max(n for _, n in SWEEP), F)).astype(np.float32).astype(np.float64)
    X[rng.random(X.shape) < 0.02] = np.nan
    print("\n== depth sweep: 100 trees (reg:squarederror), 20 features, 2% missing, 1 thread;"
          " CPU seconds (wall)")
    print("(audit: the whole command; 'explain only' subtracts the same command on one row, i.e."
          " model loading and start-up)")
    print(f"{'depth':>5} {'leaves/tree':>11} {'rows':>5}  {'xgboost pred_contribs':>21}  "
          f"{'audit explain':>15}  {'ratio':>6}  {'explain only':>12}  {'ratio':>6}  "
          f"{'peak MiB':>8}  {'max |diff|':>10}", flush=True)
    for depth, n in SWEEP:
        b = xgb.train({"objective": "reg:squarederror", "max_depth": depth, "eta": 0.1,
                       "nthread": 2, "seed": 1}, dt, num_boost_round=100)
        model = tmp / f"d{depth}.json"
        b.save_model(str(model))
        leaves = sum(t.count("leaf=") for t in b.get_dump()) / 100.0
        write_csv(tmp / "sweep.csv", X[:n])
        d = xgb.DMatrix(X[:n], missing=np.nan, feature_names=names)
        b.set_param({"nthread": 1})
        xc, xw = float("inf"), float("inf")
        for _ in range(XGB_REPEAT):
            c0, w0 = time.process_time(), time.perf_counter()
            ref = b.predict(d, pred_contribs=True)
            xc = min(xc, time.process_time() - c0)
            xw = min(xw, time.perf_counter() - w0)
        write_csv(tmp / "sweep1.csv", X[:1])
        out = tmp / "sweep_out.csv"
        ac, aw, mem, c1 = float("inf"), float("inf"), 0.0, float("inf")
        for _ in range(REPEAT):
            w, c, m = run_measured(["explain", "--model", model, "--data", tmp / "sweep1.csv",
                                    "--threads", 1, "--out", out])
            c1 = min(c1, c)
            w, c, m = run_measured(["explain", "--model", model, "--data", tmp / "sweep.csv",
                                    "--threads", 1, "--out", out])
            ac, aw, mem = min(ac, c), min(aw, w), max(mem, m)
        ae = max(ac - c1, 1e-3)
        got = np.loadtxt(out, delimiter=",", skiprows=1, usecols=range(1, F + 2))
        err = np.abs(got - np.asarray(ref, dtype=np.float64)).max()
        if not err <= 1e-5:
            sys.exit(f"depth {depth}: audit and xgboost disagree: max |diff| {err}")
        record(f"TreeSHAP explain only, 100 trees depth {depth}, {n} rows, 1 thread (CPU; peak "
               f"{mem:.0f} MiB)", ae, "XGBoost pred_contribs", xc)
        print(f"{depth:>5} {leaves:>11.0f} {n:>5}  {xc:>9.3f} s ({xw:>6.2f} s)  "
              f"{ac:>6.3f} s ({aw:>5.2f})  {xc / ac:>5.2f}x  {ae:>10.3f} s  {xc / ae:>5.2f}x  "
              f"{mem:>8.1f}  {err:>10.2g}", flush=True)


def main():
    if sys.argv[1:] == ["sweep"]:
        with tempfile.TemporaryDirectory() as tmp:
            sweep(Path(tmp))
        return
    rng = np.random.default_rng(0)
    names = [f"f{j}" for j in range(F)]
    Xt = rng.normal(size=(10000, F)).astype(np.float32).astype(np.float64)
    y = (Xt[:, 0] + Xt[:, 1] * Xt[:, 2] + np.sin(Xt[:, 3]) + 0.5 * Xt[:, 4] ** 2
         + rng.normal(size=len(Xt)) > 0.5).astype(float)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("training the benchmark models ...", flush=True)
        big = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.05,
                         "nthread": 2, "seed": 1},
                        xgb.DMatrix(Xt, label=y, feature_names=names), num_boost_round=500)
        big.save_model(str(tmp / "big.json"))
        X = rng.normal(size=(10000, F)).astype(np.float32).astype(np.float64)
        X[rng.random(X.shape) < 0.02] = np.nan
        write_csv(tmp / "data.csv", X)
        d = xgb.DMatrix(X, missing=np.nan, feature_names=names)

        print("\n== tree: 500 trees, depth 6, 20 features, 10,000 rows")
        print(f"{'threads':>7}  {'xgboost pred_contribs':>22}  {'audit explain':>14}  "
              f"{'ratio (xgb/audit)':>17}")
        ref = None
        for t in (1, 2):
            big.set_param({"nthread": t})
            tx = best(lambda: big.predict(d, pred_contribs=True), XGB_REPEAT)
            out = tmp / f"shap{t}.csv"
            ta = best(lambda: run(["explain", "--model", tmp / "big.json", "--data",
                                   tmp / "data.csv", "--threads", t, "--out", out]))
            print(f"{t:>7}  {tx:>20.3f} s  {ta:>12.3f} s  {tx / ta:>16.2f}x", flush=True)
            record(f"TreeSHAP, 500 trees depth 6, 10k rows, {t} thread(s), end to end", ta,
                   "XGBoost pred_contribs", tx)
            got = np.loadtxt(out, delimiter=",", skiprows=1, usecols=range(1, F + 2))
            if ref is None:
                ref = np.asarray(big.predict(d, pred_contribs=True), dtype=np.float64)
            err = np.abs(got - ref).max()
            if not err <= 1e-5:
                sys.exit(f"audit and xgboost disagree: max |diff| {err}")
        print(f"(agreement with pred_contribs: max |diff| {err:.2g})")

        print("\n== interactions: same model, first 200 rows, 1 thread")
        write_csv(tmp / "rows200.csv", X[:200])
        big.set_param({"nthread": 1})
        d200 = xgb.DMatrix(X[:200], missing=np.nan, feature_names=names)
        tx = best(lambda: big.predict(d200, pred_interactions=True), XGB_REPEAT)
        out = tmp / "inter.csv"
        ta = best(lambda: run(["explain", "--model", tmp / "big.json", "--data",
                               tmp / "rows200.csv", "--interactions", "--threads", 1,
                               "--out", out]))
        record("TreeSHAP interactions, 500 trees depth 6, 200 rows, 1 thread", ta,
               "XGBoost pred_interactions", tx)
        print(f"xgboost pred_interactions {tx:.3f} s, audit explain --interactions {ta:.3f} s, "
              f"ratio {tx / ta:.2f}x", flush=True)
        got = np.loadtxt(out, delimiter=",", skiprows=1, usecols=range(2, F + 3))
        ref = np.asarray(big.predict(d200, pred_interactions=True), dtype=np.float64)
        err = np.abs(got.reshape(ref.shape) - ref).max()
        if not err <= 1e-5:
            sys.exit(f"interactions disagree with xgboost: max |diff| {err}")
        print(f"(agreement with pred_interactions: max |diff| {err:.2g})")

        small = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1,
                           "nthread": 2, "seed": 1},
                          xgb.DMatrix(Xt, label=y, feature_names=names), num_boost_round=100)
        small.save_model(str(tmp / "small.json"))
        write_csv(tmp / "rows.csv", X[:100])
        write_csv(tmp / "bg.csv", Xt[:100])
        print("\n== kernel: 20 features (100 trees, depth 4), 100 rows, 100 background rows, "
              "1 thread, 2088 coalitions")
        out = tmp / "kernel.csv"
        tk = best(lambda: run(["explain", "--model", tmp / "small.json", "--data",
                               tmp / "rows.csv", "--method", "kernel", "--background",
                               tmp / "bg.csv", "--threads", 1, "--out", out]))
        print(f"audit explain --method kernel: {tk:.3f} s total, {1000 * tk / 100:.2f} ms per row "
              f"(goal: well under 100 ms per row)")
        tp = best(lambda: run(["explain", "--model", tmp / "small.json", "--data",
                               tmp / "rows.csv", "--method", "kernel", "--background",
                               tmp / "bg.csv", "--threads", 1, "--output", "probability",
                               "--out", out]))
        print(f"  with --output probability: {tp:.3f} s total, {1000 * tp / 100:.2f} ms per row")
        record("KernelSHAP, 20 features, 100 rows, 100 background rows, 1 thread", tk,
               note="%.1f ms per row" % (10 * tk))

        sweep(tmp)


if __name__ == "__main__":
    main()
