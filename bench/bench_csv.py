#!/usr/bin/python3
"""CSV load + profile benchmark: `audit profile` against pandas, side by side in one run.

Generates once (and reuses) a 1,000,000-row x 32-column CSV in $TMPDIR (default /tmp): 26 numeric
columns (floats with 2-6 decimals, some negative or large, integers, a 0/1 flag), 6 categorical
columns (low and high cardinality, one with non-ASCII labels), ~2 % missing values in several
columns (empty fields and a few "NA").  Then, with the file in the page cache, it times

  audit     $AUDIT_BIN profile --data FILE --json OUT   (C CSV reader + profile, stdout discarded)
  pandas    pandas.read_csv(FILE)                        (C engine, one core)
  pandas+   pandas.read_csv(FILE) + a like-for-like profile (describe with the same quantiles,
            missing counts, value counts of categorical columns)

and prints the best wall-clock time of BENCH_REPEAT runs (default 3) of each, and the ratios
(> 1 means audit is faster), and audit's median CPU time (user + sys of all its threads) per MB:
on a shared machine that figure depends far less on the other load than the wall time.  audit's JSON is sanity-checked against pandas (rows, columns,
missing counts, means) so that a fast wrong answer is not reported as a win.

One more `audit profile` run follows BENCH_IDLE seconds (default 4) without one, and its time
is printed too: what a scheduled job meets (docs/speed.md "Huge pages and free page reporting").

Environment: AUDIT_BIN (default build/audit), BENCH_ROWS (default 1000000), BENCH_REPEAT
(default 3), BENCH_IDLE (default 4), TMPDIR.  Exit status: 0 done, 1 when `audit profile` fails or disagrees with pandas.
Run by `make bench` as `/usr/bin/python3 bench/bench_csv.py`.  Not a test.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import record  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
IDLE = float(os.environ.get("BENCH_IDLE", "4"))
AUDIT_BIN = os.environ.get("AUDIT_BIN", "build/audit")
NA_VALUES = ["", "NA", "NaN", "nan", "null", "?"]       # SPEC section 2 missing tokens
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]
SEED = 1234
GEN_VERSION = 1


def data_path():
    tmp = os.environ.get("TMPDIR") or tempfile.gettempdir()
    return os.path.join(tmp, "audit-bench-csv-v%d-%d.csv" % (GEN_VERSION, ROWS))


def generate(path, n):
    """Write the benchmark file in chunks (deterministic; written to a temp name, then renamed)."""
    rng = np.random.default_rng(SEED)
    cities = np.array(["Zürich", "Genève", "Köln", "Málaga", "Lyon", "Oslo", "Porto", "Łódź"],
                      dtype=object)
    grades = np.array(list("ABCDEFG"), dtype=object)
    segs = np.array(["retail", "small business", "corporate", "public"], dtype=object)
    tmp = path + ".tmp%d" % os.getpid()
    chunk = 100000
    t0 = time.perf_counter()
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        first = True
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            cols = {}
            cols["id"] = np.arange(start, start + m)
            for j in range(12):                               # 12 floats, 4-6 decimals
                v = rng.normal(j * 10.0, 1.0 + j, m)
                cols["x%02d" % j] = np.round(v, 4 + j % 3)
            for j in range(4):                                # 4 skewed positive floats, 2 dec
                cols["amount%d" % j] = np.round(rng.lognormal(8.0 + j, 1.0, m), 2)
            cols["ratio"] = np.round(rng.beta(2.0, 5.0, m), 6)
            cols["signed"] = np.round(rng.standard_t(3, m) * 1000.0, 3)
            for j in range(5):                                # 5 integer columns
                cols["count%d" % j] = rng.poisson(1.0 + 3 * j, m)
            cols["year"] = rng.integers(1950, 2026, m)
            cols["flag"] = rng.integers(0, 2, m)
            cols["city"] = cities[rng.integers(0, len(cities), m)]
            cols["grade"] = grades[rng.integers(0, len(grades), m)]
            cols["segment"] = segs[rng.integers(0, len(segs), m)]
            cols["branch"] = pd.Series(rng.integers(0, 1000, m)).map("BR%04d".__mod__).to_numpy()
            cols["channel"] = np.where(rng.random(m) < 0.7, "online", "branch").astype(object)
            cols["status"] = np.where(rng.random(m) < 0.9, "active", "closed").astype(object)
            df = pd.DataFrame(cols)
            for c in ["x01", "x05", "amount1", "ratio", "count2", "city", "segment"]:
                miss = rng.random(m) < 0.02
                df[c] = df[c].astype(object)
                df.loc[miss, c] = np.where(rng.random(miss.sum()) < 0.1, "NA", "")
            df.to_csv(f, index=False, header=first, lineterminator="\n")
            first = False
    os.replace(tmp, path)
    print("generated %s (%d rows, %.1f MB) in %.1f s"
          % (path, n, os.path.getsize(path) / 1e6, time.perf_counter() - t0))


def best(fn):
    times, result = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def page_choice():
    """What `audit --verbose` says of its large arrays here ("in transparent huge pages", "in
    4 KiB pages"), read from its last lines on a one-row file."""
    with tempfile.TemporaryDirectory() as d:
        csv = os.path.join(d, "one.csv")
        with open(csv, "w") as f:
            f.write("x\n1\n")
        r = subprocess.run([AUDIT_BIN, "profile", "--verbose", "--data", csv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in r.stderr.splitlines():
        if line.startswith("audit: large arrays"):
            return line.split("arrays", 1)[1].split("(", 1)[0].strip()
    return "(not reported)"


def run_audit(path, out_json, repeat=REPEAT):
    """Best wall time of `repeat` runs, and the median CPU time (user + sys, every thread) of the
    runs: on a shared machine the CPU time depends far less on the other load than the wall."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen([AUDIT_BIN, "profile", "--data", path, "--json", out_json],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as e:
            print("bench_csv: cannot run %s: %s" % (AUDIT_BIN, e), file=sys.stderr)
            sys.exit(1)
        err = proc.stderr.read()
        proc.stderr.close()
        _, status, ru = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        cpus.append(ru.ru_utime + ru.ru_stime)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            print("bench_csv: `%s profile --data %s` failed with exit %d:\n%s"
                  % (AUDIT_BIN, path, code, err.decode("utf-8", "replace")), file=sys.stderr)
            sys.exit(1)
    return min(walls), sorted(cpus)[len(cpus) // 2]


def read_pandas(path):
    return pd.read_csv(path, keep_default_na=False, na_values=NA_VALUES, low_memory=False)


def profile_pandas(path):
    df = read_pandas(path)
    num = df.select_dtypes("number")
    desc = num.describe(percentiles=QUANTILES)
    missing = df.isna().sum()
    cats = {c: df[c].value_counts() for c in df.columns if c not in num.columns}
    return df, desc, missing, cats


def check(doc, df, desc, missing):
    """audit's profile JSON against pandas; returns a list of disagreements."""
    prof = doc.get("profile", doc)
    bad = []
    if prof.get("rows") != len(df):
        bad.append("rows: audit %r, pandas %d" % (prof.get("rows"), len(df)))
    cols = prof.get("columns", [])
    if len(cols) != df.shape[1]:
        bad.append("columns: audit %d, pandas %d" % (len(cols), df.shape[1]))
    for c in cols:
        name = c.get("name")
        if name not in df.columns:
            bad.append("column %r not in pandas" % name)
            continue
        if c.get("missing") != int(missing[name]):
            bad.append("%s missing: audit %r, pandas %d" % (name, c.get("missing"), missing[name]))
        want_num = name in desc.columns
        if (c.get("type") == "numeric") != want_num:
            bad.append("%s type: audit %r" % (name, c.get("type")))
        elif want_num and c.get("mean") is not None:
            m = float(desc.loc["mean", name])
            if abs(c["mean"] - m) > 1e-9 * max(1.0, abs(m)):
                bad.append("%s mean: audit %r, pandas %r" % (name, c["mean"], m))
    return bad


def main():
    path = data_path()
    if not os.path.exists(path):
        generate(path, ROWS)
    else:
        print("reusing %s (%.1f MB)" % (path, os.path.getsize(path) / 1e6))
    with open(path, "rb") as f:                      # warm the page cache for both sides
        while f.read(1 << 24):
            pass
    fd, out_json = tempfile.mkstemp(suffix=".json", prefix="audit-bench-")
    os.close(fd)
    try:
        t_audit, cpu_audit = run_audit(path, out_json)
        rss_audit = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        with open(out_json, encoding="utf-8") as f:
            doc = json.load(f)
        # a run after IDLE seconds without one, as a scheduled job meets the machine: in a
        # virtual machine whose balloon reports free memory to its host, the memory the runs
        # above freed has gone back to the host by then (docs/speed.md "Huge pages and free
        # page reporting"); back-to-back runs reuse it
        time.sleep(IDLE)
        t_idle, cpu_idle = run_audit(path, out_json, 1)
    finally:
        os.unlink(out_json)
    t_read, _ = best(lambda: read_pandas(path))
    t_prof, (df, desc, missing, _) = best(lambda: profile_pandas(path))
    rss_py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    bad = check(doc, df, desc, missing)
    print("file: %d rows x %d columns, %.1f MB; best of %d runs, wall clock"
          % (len(df), df.shape[1], os.path.getsize(path) / 1e6, REPEAT))
    print("  %-44s %8.3f s   (peak RSS %.0f MB)" % ("audit profile (read + profile)", t_audit,
                                                   rss_audit))
    size_mb = os.path.getsize(path) / 1e6
    print("  %-44s %8.0f MB/s (peak RSS %.2fx the file; issue 19: >= 500 MB/s, <= 1.5x)"
          % ("audit profile throughput", size_mb / t_audit, rss_audit / (size_mb / 1.048576)))
    print("  %-44s %8.3f s   (%.2f ms per MB; median of %d runs, user + sys, all threads;"
          " load average %s)" % ("audit profile CPU time", cpu_audit, cpu_audit * 1000 / size_mb,
                                 REPEAT, " ".join(open("/proc/loadavg").read().split()[:3])))
    print("  %-44s %8.3f s   (CPU %.3f s; one run after %g s idle: the memory is new to the"
          " host too where its balloon takes freed memory back)"
          % ("audit profile, first run after idle", t_idle, cpu_idle, IDLE))
    print("  %-44s %8.3f s" % ("pandas.read_csv", t_read))
    print("  %-44s %8.3f s   (peak RSS of python %.0f MB)"
          % ("pandas.read_csv + describe/isna/value_counts", t_prof, rss_py))
    print("  ratio pandas.read_csv / audit profile            %6.2fx" % (t_read / t_audit))
    print("  ratio pandas profile  / audit profile            %6.2fx" % (t_prof / t_audit))
    record("read + profile a %d x %d CSV (%.0f MB), all cores, JSON with SHA-256 provenance "
           "(%.0f MB/s, peak RSS %.2fx the file)" % (len(df), df.shape[1], size_mb,
                                                   size_mb / t_audit,
                                                   rss_audit / (size_mb / 1.048576)),
           t_audit, "pandas.read_csv + profile", t_prof)
    record("the same, one run after %g s idle (a scheduled job's first run: in this virtual "
           "machine the memory is new to the host)" % IDLE, t_idle,
           note="CPU %.2f s; large arrays %s (docs/speed.md)" % (cpu_idle, page_choice()))
    if bad:
        print("bench_csv: audit profile disagrees with pandas:\n  " + "\n  ".join(bad[:20]),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
