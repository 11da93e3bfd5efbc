#!/usr/bin/python3
"""Copy the LightGBM v4.6.0 categorical-split fixtures (../shared/fixtures/lightgbm-categorical,
produced by the real LightGBM CLI and python-package, see its README.md) into
tests/golden/data/lightgbm_cat/<task>/, unchanged (300 rows each; many-vs-many bitsets, 2-word
bitsets, missing, unseen, gap and dropped categories; binary/model_pandas.txt carries the
python-package's pandas_categorical line and binary/input_strings.csv the same rows as text).

usage: /usr/bin/python3 tests/golden/gen_lightgbm_cat.py [FIXTURE_DIR]
"""
import shutil
import sys
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/lightgbm-categorical")
DST = Path(__file__).resolve().parent / "data" / "lightgbm_cat"
FILES = ["model.txt", "input.csv", "raw_score.csv", "prediction.csv", "pred_contrib.csv"]

for task in ["binary", "regression", "multiclass"]:
    (DST / task).mkdir(parents=True, exist_ok=True)
    extra = ["model_pandas.txt", "input_strings.csv"] if task == "binary" else []
    for name in FILES + extra:
        shutil.copyfile(SRC / task / name, DST / task / name)
    rows = (DST / task / "input.csv").read_text().count("\n")
    assert rows == 301, (task, rows)
