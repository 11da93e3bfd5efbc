"""`audit explain` end to end (CSV reader, LightGBM loader, method tree, CSV writer) against
LightGBM v4.6.0 pred_contrib on the committed fixture subset (tests/golden/data/lightgbm: NaN,
thresholds, kZeroThreshold, categorical and extreme edge rows). Tolerance |a-b| <= 1e-9 *
max(1, |b|), as the fixtures' README recommends for a different summation order."""
from pathlib import Path

import numpy as np
import pytest
from conftest import shap_columns

D = Path(__file__).resolve().parent / "data" / "lightgbm"


@pytest.mark.parametrize("task", ["binary", "regression", "multiclass"])
def test_explain_matches_pred_contrib(audit, task):
    r = audit("explain", "--model", D / task / "model.txt", "--data", D / task / "input.csv",
              "--threads", "2")
    assert r.code == 0, r
    lines = r.out.splitlines()
    ref_header = (D / task / "pred_contrib.csv").read_text().splitlines()[0].split(",")
    if task == "multiclass":
        # LightGBM class{k}_{name} / class{k}_bias  ->  name@k / bias@k, same order
        want = [f"{h.split('_', 1)[1]}@{h.split('_', 1)[0][5:]}" for h in ref_header]
        assert shap_columns(r.out)[0] == want
    else:
        assert shap_columns(r.out)[0] == ref_header
    got = shap_columns(r.out)[1]
    ref = np.genfromtxt(D / task / "pred_contrib.csv", delimiter=",", skip_header=1)
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= 1e-9 * np.maximum(1.0, np.abs(ref)))
    err = float(r.err.split("additivity max error")[1].split()[0])
    assert err < 1e-9
