#!/usr/bin/python3
"""ab_skew.py N ARGS...: A/B of two audit binaries (A, default /tmp/audit-old; B, default
build/audit) on one command, with one core half taken, as a host that steals part of one vCPU.

Such a host cannot be reproduced inside the guest (Linux moves threads that are not pinned), so
this pins a busy loop to the first core this process may use, audit's main thread to that core
beside it, and every other thread of audit (each new one as it appears, polled every 2 ms) to the
second: a thread with a fixed share of the work on the first core then holds the run back, and
one taking units from a shared counter does not (docs/speed.md, "Balanced units"). The runs of A
and B alternate; medians and minima are printed. Needs 2 usable cores. Example:
    A=/tmp/audit-old tools/ab_skew.py 5 explain --model M --data D --threads 2 --out /tmp/e.csv
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


CORES = sorted(os.sched_getaffinity(0))


def run(binary, args):
    first, second = CORES[0], CORES[1]
    t0 = time.perf_counter()
    p = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: os.sched_setaffinity(0, {first}))
    pinned = set()
    while p.poll() is None:
        try:
            for tid in os.listdir("/proc/%d/task" % p.pid):
                t = int(tid)
                if t not in pinned:
                    os.sched_setaffinity(t, {first} if t == p.pid else {second})
                    pinned.add(t)
        except (FileNotFoundError, ProcessLookupError):
            pass   # the thread or the process ended meanwhile
        time.sleep(0.002)
    if p.returncode not in (0, 1):
        sys.exit("ab_skew: %s exited %d" % (binary, p.returncode))
    return time.perf_counter() - t0


def main():
    if len(sys.argv) < 3 or len(CORES) < 2:
        sys.exit(__doc__)
    n, args = int(sys.argv[1]), sys.argv[2:]
    here = Path(__file__).resolve().parent.parent
    bins = {"A": os.environ.get("A", "/tmp/audit-old"),
            "B": os.environ.get("B", str(here / "build" / "audit"))}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                            preexec_fn=lambda: os.sched_setaffinity(0, {CORES[0]}))
    times = {k: [] for k in bins}
    try:
        time.sleep(0.3)
        for i in range(n):
            for k in (["A", "B"] if i % 2 == 0 else ["B", "A"]):
                times[k].append(run(bins[k], args))
    finally:
        busy.kill()
    for k in bins:
        print("%s %s: median %.3f s, min %.3f s" % (k, bins[k], statistics.median(times[k]),
                                                   min(times[k])))
    print("B/A median %.3f" % (statistics.median(times["B"]) / statistics.median(times["A"])))


if __name__ == "__main__":
    main()
