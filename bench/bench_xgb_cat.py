#!/usr/bin/python3
"""Benchmark: XGBoost category-set splits (enable_categorical) against numeric splits of a model
of the same shape, for `audit predict` and `audit explain --method tree` (issue 16).

Both models are trained by Debian's python3-xgboost (hist, N_TREES trees of max_depth DEPTH) on
the same N_FEAT columns of integer codes (0..N_CATS-1, ~5% missing): the numeric model splits
them as numbers (code < threshold), the categorical one as category sets (feature_types "c",
max_cat_to_onehot 1: partition splits). The data are numeric codes, so the CSV reading is the
same and the difference is the tree walk. Reported: CPU time (user + system of the audit
process, best of REPEAT) per command and the ratio categorical / numeric; AUDIT_BIN picks the
binary (compare old and new binaries side by side in one run: AUDIT_BIN_OLD).
Usage: AUDIT_BIN=build/audit [AUDIT_BIN_OLD=old/audit] /usr/bin/python3 bench/bench_xgb_cat.py
"""
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))
OLD = os.environ.get("AUDIT_BIN_OLD")
N_ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
N_EXPLAIN = int(os.environ.get("BENCH_EXPLAIN_ROWS", "5000"))
N_FEAT, N_CATS, N_TREES, DEPTH, REPEAT = 10, 40, 300, 6, 3


def child_cpu(cmd):
    """CPU seconds (user + system) of one run of cmd, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(cmd):
    return min(child_cpu(cmd) for _ in range(REPEAT))


def main():
    rng = np.random.default_rng(7)
    names = [f"f{i}" for i in range(N_FEAT)]
    codes = rng.integers(0, N_CATS, size=(N_ROWS, N_FEAT)).astype(float)
    effect = rng.normal(size=(N_FEAT, N_CATS))
    z = sum(effect[j][codes[:, j].astype(int)] for j in range(N_FEAT))
    y = (z + rng.normal(size=N_ROWS) > 0).astype(int)
    codes[rng.random(codes.shape) < 0.05] = np.nan
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": DEPTH,
              "max_cat_to_onehot": 1, "nthread": 2}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        num = xgb.train(params, xgb.DMatrix(codes, y, feature_names=names), N_TREES)
        num.save_model(str(d / "num.json"))
        cat = xgb.train(params, xgb.DMatrix(codes, y, feature_names=names,
                                            feature_types=["c"] * N_FEAT,
                                            enable_categorical=True), N_TREES)
        cat.save_model(str(d / "cat.json"))
        pd.DataFrame(codes, columns=names).to_csv(d / "d.csv", index=False)
        pd.DataFrame(codes[:N_EXPLAIN], columns=names).to_csv(d / "e.csv", index=False)
        bins = [("audit", BIN)] + ([("old", OLD)] if OLD else [])
        print(f"{N_TREES} trees depth {DEPTH}, {N_FEAT} features of {N_CATS} codes; "
              f"predict {N_ROWS} rows, explain {N_EXPLAIN} rows; CPU s, best of {REPEAT}")
        for label, b in bins:
            res = {}
            for kind in ("num", "cat"):
                m = str(d / f"{kind}.json")
                res[kind, "predict"] = best([b, "predict", "--model", m, "--data",
                                             str(d / "d.csv"), "--raw", "--threads", "1"])
                res[kind, "explain"] = best([b, "explain", "--model", m, "--data",
                                             str(d / "e.csv"), "--method", "tree",
                                             "--threads", "1"])
            for task in ("predict", "explain"):
                n, c = res["num", task], res["cat", task]
                print(f"  {label:5s} {task:8s} numeric {n:7.3f}  categorical {c:7.3f}  "
                      f"ratio {c / n:5.2f}")
                if label == "audit":
                    record(f"XGBoost categorical vs numeric splits: {task}", c, peer="numeric",
                           peer_s=n, note=f"{N_TREES} trees depth {DEPTH}")


if __name__ == "__main__":
    main()
