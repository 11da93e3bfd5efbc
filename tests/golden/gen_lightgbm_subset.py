#!/usr/bin/python3
"""Copy a subset of the LightGBM reference fixtures (../shared/fixtures/lightgbm, produced by the real
LightGBM v4.6.0, see its README.md) into tests/golden/data/lightgbm/<task>/.

Kept rows: 0-99 (ordinary held-out rows) and 1800-1999 (every edge case: values exactly at and just
above thresholds, +-kZeroThreshold, NaN patterns incl. the all-NaN row 1900, categorical edge values,
extremes), 300 rows per task, so the committed data stays small. model.txt is copied unchanged.
Lines are copied verbatim (no re-formatting), so expected values stay bit-exact.

usage: /usr/bin/python3 tests/golden/gen_lightgbm_subset.py [FIXTURE_DIR]
"""
import shutil
import sys
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/lightgbm")
DST = Path(__file__).resolve().parent / "data" / "lightgbm"
ROWS = list(range(0, 100)) + list(range(1800, 2000))
FILES = ["input.csv", "raw_score.csv", "prediction.csv", "pred_contrib.csv"]

for task in ["binary", "regression", "multiclass"]:
    out = DST / task
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SRC / task / "model.txt", out / "model.txt")
    for name in FILES:
        lines = (SRC / task / name).read_text().split("\n")
        if lines[-1] == "":
            lines.pop()
        assert len(lines) == 2001, (task, name, len(lines))
        kept = [lines[0]] + [lines[1 + r] for r in ROWS]
        (out / name).write_text("\n".join(kept) + "\n")
    (out / "rows.txt").write_text("\n".join(str(r) for r in ROWS) + "\n")
print("wrote", DST)
