"""Shared pytest fixtures: run the audit binary built by make (AUDIT_BIN) from the repo root."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))
# A sanitizer build reports a memory error, undefined behaviour or a leak with exit status 1 by
# default: audit's own status for a FAIL verdict, which many tests accept. Every program the
# tests start (they inherit this environment) exits SANITIZER_EXIT instead, which no test
# accepts.
SANITIZER_EXIT = 86
for _var, _opts in (("ASAN_OPTIONS", "detect_leaks=1"), ("UBSAN_OPTIONS", "print_stacktrace=1")):
    _have = os.environ.get(_var, _opts)
    os.environ[_var] = _have if "exitcode=" in _have else f"{_have}:exitcode={SANITIZER_EXIT}"


def pytest_collection_modifyitems(config, items):
    """The sanitizer pass of `make check` (AUDIT_SANITIZED=1, tests/local.mk) skips the tests
    marked heavy: long end-to-end runs (100,000 rows explained, kill -9 loops, the demo model
    under Kernel SHAP) whose C code the smaller tests of the same files also take there; the
    plain pass runs them all."""
    if not os.environ.get("AUDIT_SANITIZED"):
        return
    skip = pytest.mark.skip(reason="heavy: run by the plain pass of make check, not the "
                                   "sanitizer pass")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"exit {self.code}\nstdout:\n{self.out[:2000]}\nstderr:\n{self.err[:2000]}"


def run_audit(*args, cwd=None, env=None, input=None, timeout=300):
    """Run build/audit with args; returns Result(code, out, err) with text output."""
    e = dict(os.environ)
    if env:
        e.update(env)
    cmd = [BIN] + [str(a) for a in args]
    if os.environ.get("AUDIT_VALGRIND"):
        cmd = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
               "--error-exitcode=99"] + cmd
    p = subprocess.run(cmd, cwd=cwd or ROOT, env=e, input=input, capture_output=True,
                       text=True, timeout=timeout)
    return Result(p)


@pytest.fixture
def audit():
    return run_audit


@pytest.fixture
def root():
    return ROOT


@pytest.fixture
def small(tmp_path):
    """A small scored data set (400 rows: x, sex, score, label) in tmp_path/cur.csv, and a
    shifted reference period in tmp_path/ref.csv."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(7)
    n = 400

    def frame(shift):
        sex = rng.choice(["female", "male"], n)
        x = rng.normal(shift, 1, n)
        score = 1 / (1 + np.exp(-(x + (sex == "male") * 0.8)))
        label = (rng.random(n) < score).astype(int)
        return pd.DataFrame({"x": x.round(6), "sex": sex, "score": score.round(6),
                             "label": label})

    frame(0.0).to_csv(tmp_path / "cur.csv", index=False)
    frame(0.5).to_csv(tmp_path / "ref.csv", index=False)
    return tmp_path



def shap_columns(text):
    """`audit explain` CSV text (without --id) -> (header, rows as floats) of the SHAP columns
    only, features and bias: drops `row`, `prediction*` and `value:*` (issue 14 item 3)."""
    import csv
    import numpy as np
    lines = list(csv.reader(text.splitlines()))
    head = lines[0]
    keep = [i for i, h in enumerate(head)
            if h != "row" and not h.startswith("prediction") and not h.startswith("value:")]
    rows = [[float(r[i]) if r[i] not in ("", "NA") else float("nan") for i in keep]
            for r in lines[1:]]
    return [head[i] for i in keep], np.array(rows, dtype=float).reshape(len(rows), len(keep))
