#!/usr/bin/python3
"""Train the demo credit model: XGBoost binary:logistic on the reference period.

Reads datasets/credit_reference.csv, trains a deterministic booster (fixed seed, nthread=1,
exact tree method, no row/column subsampling) on the numeric columns listed in FEATURES, and
writes
  datasets/credit_xgb.json            Booster.save_model (JSON; feature names = CSV column names)
  datasets/credit_xgb_expected.csv    row, margin, probability for the first 200 rows of
                                      datasets/credit_current.csv (XGBoost's own predictions,
                                      the oracle for `audit predict` tests)
and prints the AUC on both periods.

The model never sees sex, race or age_band.  It does see zip_region_code, a district code that
is correlated with race (see datasets/README.md): that proxy is how the injected bias reaches the
model's decisions.  Categorical columns are used through their numeric `*_code` twins that are
present in the CSV, because `audit` matches model features to CSV columns by name.

Usage:  /usr/bin/python3 datasets/train_model.py
"""
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))

FEATURES = [
    "age", "income", "employment_type_code", "employment_years", "home_ownership_code",
    "purpose_code", "loan_amount", "term_months", "interest_rate", "monthly_payment",
    "debt_to_income", "credit_history_years", "num_open_accounts", "num_delinquencies",
    "num_inquiries_6m", "utilization", "credit_score", "savings_balance", "has_cosigner",
    "zip_region_code",
]
LABEL = "default"
SEED = 42
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "max_depth": 4,
    "eta": 0.1,
    "min_child_weight": 5,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "tree_method": "exact",
    "nthread": 1,
    "seed": SEED,
}
ROUNDS = 150
EXPECTED_ROWS = 200


def load(name):
    """Read a bundled CSV the way `audit` does: empty/NA are missing, doubles parsed exactly."""
    return pd.read_csv(os.path.join(HERE, name), float_precision="round_trip",
                       keep_default_na=False,
                       na_values=["", "NA", "NaN", "nan", "null", "?"])


def matrix(df):
    return xgb.DMatrix(df[FEATURES].astype(np.float64), label=df[LABEL].to_numpy(),
                       missing=np.nan, feature_names=FEATURES)


def main():
    ref = load("credit_reference.csv")
    cur = load("credit_current.csv")
    dref, dcur = matrix(ref), matrix(cur)
    booster = xgb.train(PARAMS, dref, num_boost_round=ROUNDS)
    out = os.path.join(HERE, "credit_xgb.json")
    booster.save_model(out)
    print("wrote %s (%d trees, %d features)" % (out, ROUNDS, len(FEATURES)))

    # reload so the expectations come from the file exactly as committed
    model = xgb.Booster(model_file=out)
    model.set_param({"nthread": 1})
    head = xgb.DMatrix(cur[FEATURES].head(EXPECTED_ROWS).astype(np.float64), missing=np.nan,
                       feature_names=FEATURES)
    margin = model.predict(head, output_margin=True)
    prob = model.predict(head)
    exp_path = os.path.join(HERE, "credit_xgb_expected.csv")
    with open(exp_path, "w", encoding="utf-8", newline="") as f:
        f.write("row,margin,probability\n")
        for i in range(len(prob)):
            # float32 outputs written as the exact double value of the float32
            f.write("%d,%.17g,%.17g\n" % (i, float(margin[i]), float(prob[i])))
    print("wrote %s (%d rows)" % (exp_path, len(prob)))

    for name, df, dm in (("reference (train)", ref, dref), ("current", cur, dcur)):
        p = model.predict(dm)
        auc = roc_auc_score(df[LABEL], p)
        acc = float(((p >= 0.5).astype(int) == df[LABEL]).mean())
        print("AUC %-18s %.4f   accuracy@0.5 %.4f   predicted-default share %.4f"
              % (name, auc, acc, float((p >= 0.5).mean())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
