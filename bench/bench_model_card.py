#!/usr/bin/python3
"""Benchmark the Model card pages and sheet (issue 14 item 4) at the reports' performance bar:
a results.json with 50 features (2,000 beeswarm points each), 2,000 explained rows, 30 drift
columns (gen_report_fixtures.full), and a performance section with 200 groups computed by
`audit run` on 20,000 scored rows (ROC curves, calibration bins, confusion matrices), plus a
model card of 50 features. Renders the PDF and the XLSX in one run.
Target: both reports under 3 s, PDF under 5 MB.

  /usr/bin/python3 bench/bench_model_card.py [OTHER_AUDIT_BIN]

With OTHER_AUDIT_BIN (e.g. a build of main) both binaries render the same document, alternating,
and their CPU times (user + sys of the child) are printed side by side."""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import load_report_generator, record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AUDIT_BIN", str(ROOT / "build" / "audit"))
REPEAT = 3


def performance_section(d):
    rng = np.random.default_rng(5)
    n = 20000
    g = rng.integers(0, 200, n)
    x = rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-(1.2 * x + rng.normal(0, 0.7, n))))
    y = (rng.random(n) < 1 / (1 + np.exp(-1.2 * x))).astype(int)
    with open(d / "scores.csv", "w") as f:
        f.write("grp,y,p\n")
        for i in range(n):
            f.write(f"g{g[i]:03d},{y[i]},{p[i]!r}\n")
    spec = {"data": str(d / "scores.csv"), "label": "y", "score": "p", "sensitive": ["grp"],
            "fairness": {"bootstrap": 0}, "outputs": {"dir": str(d), "json": "run.json"}}
    (d / "spec.json").write_text(json.dumps(spec))
    subprocess.run([BIN, "--quiet", "run", str(d / "spec.json")], check=False)
    return json.loads((d / "run.json").read_text())["performance"]


def model_card(n_features):
    return {"owner": "Model Risk Management", "intended_use": "Benchmark document " * 10,
            "label_meaning": "1 = default", "training_data": "synthetic",
            "training_period": "2025", "limitations": "none measured " * 8,
            "contact": "mrm@example.com",
            "model": {"format": "xgboost-json", "objective": "binary:logistic", "kind": "trees",
                      "outputs": 1, "trees": 500, "max_depth": 6, "leaves": 20000,
                      "importance": "splits and total cover",
                      "features": [{"name": f"feature_{j:02d}", "splits": 10 + j,
                                    "cover": 1000.5 * (j + 1)} for j in range(n_features)]}}


def cpu_run(binary, args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([binary, "--quiet"] + args, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    other = sys.argv[1] if len(sys.argv) > 1 else None
    gen = load_report_generator()
    doc = gen.full(n_features=50, n_points=2000, n_rows=2000, n_drift=30, seed=11)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        doc["performance"] = performance_section(d)
        doc["model_card"] = model_card(50)
        src = d / "results.json"
        src.write_text(json.dumps(doc))
        pdf, xlsx = d / "r.pdf", d / "r.xlsx"
        args = ["report", str(src), "--pdf", str(pdf), "--xlsx", str(xlsx)]
        groups = sum(1 for r in doc["performance"]["by_group"])
        print(f"results.json {src.stat().st_size / 1e6:.1f} MB: 50 features x 2,000 points, "
              f"2,000 explained rows, 30 drift columns, {groups} performance groups")
        res = {BIN: []}
        if other:
            res[other] = []
        for _ in range(REPEAT):
            for b in res:
                res[b].append(cpu_run(b, args))
        for b, runs in res.items():
            wall = min(r[0] for r in runs)
            cpu = min(r[1] for r in runs)
            print(f"  {b}: both reports wall {wall:.3f} s, cpu {cpu:.3f} s (best of {REPEAT})")
        size = pdf.stat().st_size  # the last run's PDF is the last binary's; rerun ours
        subprocess.run([BIN, "--quiet"] + args, check=True)
        size = pdf.stat().st_size
        print(f"  PDF {size / 1e6:.2f} MB, XLSX {xlsx.stat().st_size / 1e6:.2f} MB, "
              f"PDF pages: {subprocess.run(['pdfinfo', str(pdf)], capture_output=True, text=True).stdout.split('Pages:')[1].split()[0]}")
        best = min(r[0] for r in res[BIN])
        record("PDF + XLSX reports with the model card, 50 features, 2,000 rows, 30 drift "
               "columns, 200 performance groups (PDF %.1f MB)" % (size / 1e6), best)
        ok = best < 3.0 and size < 5e6
        print("  targets:", "met" if ok else "NOT MET (both < 3 s, PDF < 5 MB)")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
