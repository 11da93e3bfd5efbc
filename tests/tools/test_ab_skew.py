"""tools/ab_skew.py (the measurement of docs/speed.md "Balanced units"): it runs both binaries
with audit's threads pinned apart beside a busy loop, alternating, and prints their times and
ratio; a failing run stops it with the binary's exit status."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "ab_skew.py"
AUDIT = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or not os.path.exists(AUDIT),
                                reason="needs 2 usable cores and the built audit")


def run(*args):
    env = dict(os.environ, A=AUDIT, B=AUDIT)
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_times_both_and_prints_the_ratio():
    r = run("2", "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("median") == 3 and "B/A median" in r.stdout, r.stdout


def test_a_failing_run_stops_it():
    r = run("1", "no-such-command")
    assert r.returncode != 0 and "exited 2" in r.stderr, (r.stdout, r.stderr)
