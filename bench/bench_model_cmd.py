#!/usr/bin/python3
"""Benchmark: KernelSHAP through `--model-cmd` (issue 16: a command model is called in batches,
and audit spends under 30% of the time outside the model program).

A LogisticRegression over 20 features (Debian python3-sklearn) served by
docs/examples/model_server.py; `audit explain --method kernel --background-rows 100 --rows R`
(2 x 20 + 2048 coalitions x 100 background rows = 208,800 rows per explained row). The server is
wrapped so that it writes its own CPU time (user + system) when it exits; audit's own CPU time is
the CPU of the finished child processes of this script minus the server's. Reported: wall time,
audit's CPU, the program's CPU, audit's share of the wall time (the goal: under 30%), and the
calls and rows audit reports. Usage: AUDIT_BIN=build/audit /usr/bin/python3 bench/bench_model_cmd.py

BENCH_PROTOCOL=batch (default: the program started per batch, SPEC section 2) or session (one
run; the server's --session mode); BENCH_BATCH=N rows per batch (default: audit's, 10000).
"""
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))
SERVER = ROOT / "docs" / "examples" / "model_server.py"
N_ROWS, N_FEAT, ROWS = 2000, 20, int(os.environ.get("BENCH_ROWS", "4"))
PROTOCOL = os.environ.get("BENCH_PROTOCOL", "batch")
BATCH = os.environ.get("BENCH_BATCH")

WRAP = """import atexit, os, runpy, sys, time
def _done():
    with open(os.environ["BENCH_CPU"], "a") as f:   # one line per run of the program
        t = os.times()
        f.write(repr(t.user + t.system) + "\\n")
atexit.register(_done)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def children_cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def main():
    rng = np.random.default_rng(1)
    cols = [f"x{j}" for j in range(N_FEAT)]
    df = pd.DataFrame(rng.normal(size=(N_ROWS, N_FEAT)), columns=cols)
    y = (df.to_numpy() @ rng.normal(size=N_FEAT) + rng.normal(size=N_ROWS) > 0).astype(int)
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        (td / "m.pkl").write_bytes(pickle.dumps(LogisticRegression().fit(df.to_numpy(), y)))
        df.to_csv(td / "d.csv", index=False)
        (td / "wrap.py").write_text(WRAP)
        env = dict(os.environ, BENCH_CPU=str(td / "cpu"))
        c0, t0 = children_cpu(), time.monotonic()
        session = " --session" if PROTOCOL == "session" else ""
        r = subprocess.run([BIN, "explain", "--model-cmd",
                            f"/usr/bin/python3 {td / 'wrap.py'} {SERVER}{session} {td / 'm.pkl'}",
                            "--model-protocol", PROTOCOL, "--model-timeout", "600",
                            *(("--model-batch", BATCH) if BATCH else ()),
                            "--data", str(td / "d.csv"), "--rows", str(ROWS), "--method", "kernel",
                            "--background-rows", "100",
                            "--out", str(td / "phi.csv")], env=env, capture_output=True,
                           text=True)
        wall, cpu = time.monotonic() - t0, children_cpu() - c0
        if r.returncode != 0:
            sys.exit(r.stderr)
        prog = sum(float(v) for v in (td / "cpu").read_text().split())
        calls = [s for s in r.stderr.splitlines() if "model command call" in s]
        print(f"kernel SHAP via --model-cmd ({PROTOCOL} protocol, batch {BATCH or 'default'}), "
              f"{ROWS} rows, {N_FEAT} features, 100 background rows")
        print(f"  wall {wall:.2f} s; audit CPU {cpu - prog:.2f} s; program CPU {prog:.2f} s; "
              f"audit share of wall {(cpu - prog) / wall:.1%} (goal < 30%)")
        print("  " + (calls[0] if calls else "?"))
        record(f"explain --model-cmd ({PROTOCOL} protocol): KernelSHAP of {ROWS} rows, {N_FEAT} "
               "features, 100 background rows, Python sklearn server", wall,
               note=f"audit's own CPU {(cpu - prog) / wall:.1%} of the wall time (goal < 30%)")


if __name__ == "__main__":
    main()
