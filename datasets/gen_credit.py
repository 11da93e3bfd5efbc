#!/usr/bin/python3
"""Deterministic synthetic credit-lending data for the audit demo and tests.

Writes datasets/credit_reference.csv (reference period) and datasets/credit_current.csv
(current period), 6000 rows each.  Everything is drawn from numpy's default_rng (PCG64) seeded
from SEED below, and every value is written with a fixed format, so two runs produce
byte-identical files (``make`` does not run this; the CSVs are committed).

The ground truth (injected drift, injected bias, proxies) is documented in datasets/README.md;
the constants that implement it are marked GROUND TRUTH below.

Usage:  /usr/bin/python3 datasets/gen_credit.py [--out-dir DIR] [--rows N]
"""
import argparse
import os

import numpy as np

SEED = 20260701
ROWS = 6000

SEXES = ["female", "male"]
SEX_P = [0.47, 0.53]
RACES = ["A", "B", "C", "D"]
RACE_P = [0.60, 0.235, 0.15, 0.015]          # D is the small group (< 2 %)

# zip_region: residential district, the proxy for race.  Codes are written to zip_region_code.
REGIONS = ["Nordhafen", "Zürich", "Südpark", "Westfield", "Centre", "Hillcrest",
           "Riverside", "Eastgate"]
# P(region | race); rows follow RACES.  Riverside and Eastgate are where group B mostly lives.
REGION_P = np.array([
    # Nordh  Zürich Südpark Westf  Centre Hillc  River  Eastg
    [0.20,  0.16,  0.08,   0.20,  0.16,  0.12,  0.04,  0.04],   # A
    [0.04,  0.03,  0.08,   0.04,  0.09,  0.02,  0.36,  0.34],   # B
    [0.08,  0.12,  0.30,   0.08,  0.20,  0.06,  0.08,  0.08],   # C
    [0.15,  0.20,  0.15,   0.10,  0.20,  0.10,  0.05,  0.05],   # D
])
# GROUND TRUTH (bias): historical default labels in these districts carry an extra +1.4 logit
# that no applicant attribute explains (e.g. harsher collection practice recorded as default).
BIASED_REGIONS = {"Riverside", "Eastgate"}
REGION_LABEL_BIAS = 1.4
# structural gap: lower incomes in the same districts (log-income offset)
REGION_INCOME = {"Riverside": -0.12, "Eastgate": -0.10, "Zürich": 0.10, "Hillcrest": 0.08}

EMPLOYMENT = ["salaried", "self-employed", "retired", "student", "unemployed"]
HOME = ["rent", "own", "mortgage"]
PURPOSES = ["car", "home", "education", "business", "debt", "medical"]   # medical: current only
PURPOSE_P_REF = np.array([0.25, 0.15, 0.12, 0.10, 0.38, 0.00])
# GROUND TRUTH (drift): a new purpose "medical" takes 8 % of current applications.
PURPOSE_P_CUR = np.append(PURPOSE_P_REF[:5] * 0.92, 0.08)

# GROUND TRUTH (drift) per period
PERIODS = {
    "reference": dict(income_factor=1.00, util_a=2.0, util_b=5.0, rate_shift=0.00,
                      purpose_p=PURPOSE_P_REF, emp_missing=0.05),
    "current":   dict(income_factor=1.08, util_a=3.0, util_b=4.0, rate_shift=0.75,
                      purpose_p=PURPOSE_P_CUR, emp_missing=0.12),
}


def choice_rows(rng, probs):
    """One categorical draw per row from a per-row probability matrix (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(probs.shape[0])
    return (u[:, None] >= cum).sum(axis=1)


def missing_mask(rng, n, p):
    return rng.random(n) < p


def generate(rng, n, period):
    P = PERIODS[period]
    sex = rng.choice(2, size=n, p=SEX_P)                       # 0 female, 1 male
    race = rng.choice(4, size=n, p=RACE_P)
    region = choice_rows(rng, REGION_P[race])
    region_name = np.array(REGIONS, dtype=object)[region]
    biased = np.isin(region_name, list(BIASED_REGIONS))

    age = np.clip(np.rint(rng.normal(42.0, 14.0, n)), 18, 85).astype(int)
    age_band = np.where(age < 25, "<25", np.where(age < 40, "25-40",
                        np.where(age < 60, "40-60", "60+")))

    # employment type depends on age
    p_emp = np.tile([0.72, 0.16, 0.00, 0.04, 0.08], (n, 1))
    young = age < 25
    p_emp[young] = [0.55, 0.05, 0.00, 0.32, 0.08]
    old = age >= 62
    p_emp[old] = [0.25, 0.10, 0.60, 0.00, 0.05]
    emp = choice_rows(rng, p_emp)
    emp_years = np.minimum(age - 18, rng.gamma(2.0, 4.0, n))
    emp_years = np.where(np.isin(emp, [3, 4]), np.minimum(emp_years, rng.exponential(1.0, n)),
                         emp_years)
    emp_years = np.round(emp_years, 1)

    # latent creditworthiness (higher = riskier), never written
    latent = rng.normal(0.0, 1.0, n)

    # income: log-normal, age profile, sex gap, district gap, employment
    log_inc = (10.75 + 0.12 * sex - 0.0009 * (age - 50.0) ** 2
               + np.array([REGION_INCOME.get(r, 0.0) for r in region_name])
               + np.array([0.0, 0.10, -0.35, -0.9, -0.8])[emp]
               - 0.10 * latent + rng.normal(0.0, 0.42, n))
    income = np.round(np.exp(log_inc) * P["income_factor"] / 10.0) * 10.0

    credit_hist = np.round(np.minimum(age - 18, rng.gamma(3.0, 4.0, n)) * 1.0, 1)
    credit_hist = np.maximum(credit_hist, 0.0)
    num_open = rng.poisson(2.0 + credit_hist / 6.0 + 0.4 * np.maximum(latent, 0))
    num_delinq = rng.poisson(np.exp(-1.6 + 0.8 * latent))
    num_inq = rng.poisson(np.exp(0.0 + 0.3 * latent))
    util = rng.beta(P["util_a"], P["util_b"], n)
    util = np.clip(util + 0.05 * latent, 0.0, 1.0)
    util = np.round(util, 3)
    credit_score = np.clip(np.rint(690.0 - 55.0 * latent - 60.0 * (util - 0.3)
                                   + 3.0 * np.minimum(credit_hist, 15.0)
                                   - 20.0 * num_delinq + rng.normal(0.0, 25.0, n)), 300, 850)

    # home ownership depends on age and income
    x = (age - 40.0) / 15.0 + (log_inc - 10.7) * 1.2
    p_home = np.stack([np.exp(-1.2 * x), np.exp(0.6 * x - 0.8), np.exp(0.5 * x)], axis=1)
    p_home /= p_home.sum(axis=1, keepdims=True)
    home = choice_rows(rng, p_home)

    purpose = rng.choice(6, size=n, p=P["purpose_p"])
    purpose_size = np.array([9.6, 10.6, 9.4, 10.2, 9.5, 8.8])[purpose]
    loan = np.exp(purpose_size + 0.35 * (log_inc - 10.7) + rng.normal(0.0, 0.45, n))
    loan = np.clip(np.round(loan / 50.0) * 50.0, 500.0, 100000.0)
    term = np.where(rng.random(n) < 0.25 + 0.35 * (loan > 15000), 60, 36)

    rate = (9.0 + 1.8 * latent + 0.015 * (700.0 - credit_score) + 0.8 * (term == 60)
            + P["rate_shift"] + rng.normal(0.0, 0.8, n))
    rate = np.round(np.clip(rate, 3.0, 29.99), 2)
    r = rate / 1200.0
    payment = np.round(loan * r / (1.0 - (1.0 + r) ** (-term)), 2)
    existing_dti = rng.beta(2.0, 6.0, n)
    dti = np.round(existing_dti + 12.0 * payment / income, 4)

    savings = np.where(rng.random(n) < 0.15, 0.0,
                       np.round(np.exp(7.5 + 0.8 * (log_inc - 10.7) - 0.3 * latent
                                       + rng.normal(0.0, 1.1, n))))
    cosigner = (rng.random(n) < 0.08).astype(int)

    # label: historical default, with the injected proxy bias
    logit = (-2.35 + 0.85 * latent + 1.8 * (util - 0.3) + 2.5 * (dti - 0.3)
             + 0.25 * num_delinq + 0.10 * (num_inq - 1.0) - 0.30 * np.log(income / 45000.0)
             + 0.06 * (rate - 10.0) + 0.25 * (term == 60) - 0.5 * cosigner
             + 0.25 * (emp == 4)
             + REGION_LABEL_BIAS * biased)
    default = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)

    # missing values (drawn after everything else so they never change the values above)
    m_income = missing_mask(rng, n, 0.02)
    m_emp = missing_mask(rng, n, P["emp_missing"])
    m_emp_na = rng.random(n) < 0.3                 # a third of them written as "NA"
    m_util = missing_mask(rng, n, 0.03)
    m_score = missing_mask(rng, n, 0.015)
    m_sav = missing_mask(rng, n, 0.10)
    m_sav_na = rng.random(n) < 0.2
    m_emptype = missing_mask(rng, n, 0.01)
    m_home = missing_mask(rng, n, 0.005)

    cols = {}
    cols["age"] = fmt_int(age)
    cols["age_band"] = list(age_band)
    cols["sex"] = [SEXES[i] for i in sex]
    cols["race"] = [RACES[i] for i in race]
    cols["zip_region"] = list(region_name)
    cols["zip_region_code"] = fmt_int(region)
    cols["income"] = fmt_float(income, 0, m_income)
    cols["employment_type"] = fmt_cat(EMPLOYMENT, emp, m_emptype)
    cols["employment_type_code"] = fmt_int(emp, m_emptype)
    cols["employment_years"] = fmt_float(emp_years, 1, m_emp, m_emp & m_emp_na)
    cols["home_ownership"] = fmt_cat(HOME, home, m_home)
    cols["home_ownership_code"] = fmt_int(home, m_home)
    cols["purpose"] = fmt_cat(PURPOSES, purpose)
    cols["purpose_code"] = fmt_int(purpose)
    cols["loan_amount"] = fmt_float(loan, 0)
    cols["term_months"] = fmt_int(term)
    cols["interest_rate"] = fmt_float(rate, 2)
    cols["monthly_payment"] = fmt_float(payment, 2)
    cols["debt_to_income"] = fmt_float(dti, 4, m_income)       # unknown income: unknown DTI
    cols["credit_history_years"] = fmt_float(credit_hist, 1)
    cols["num_open_accounts"] = fmt_int(num_open)
    cols["num_delinquencies"] = fmt_int(num_delinq)
    cols["num_inquiries_6m"] = fmt_int(num_inq)
    cols["utilization"] = fmt_float(util, 3, m_util)
    cols["credit_score"] = fmt_int(credit_score.astype(int), m_score)
    cols["savings_balance"] = fmt_float(savings, 0, m_sav, m_sav & m_sav_na)
    cols["has_cosigner"] = fmt_int(cosigner)
    cols["default"] = fmt_int(default)
    return cols


def fmt_int(a, missing=None, na=None):
    out = ["%d" % v for v in a]
    return apply_missing(out, missing, na)


def fmt_float(a, decimals, missing=None, na=None):
    f = "%." + str(decimals) + "f"
    out = [f % v for v in a]
    out = ["0" if s in ("-0", "-0.0", "-0.00") else s for s in out]
    return apply_missing(out, missing, na)


def fmt_cat(labels, idx, missing=None):
    return apply_missing([labels[i] for i in idx], missing, None)


def apply_missing(out, missing, na):
    if missing is not None:
        for i in np.flatnonzero(missing):
            out[i] = "NA" if (na is not None and na[i]) else ""
    return out


def write_csv(path, cols):
    names = list(cols)
    n = len(cols[names[0]])
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(cols[c][i] for c in names) + "\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--rows", type=int, default=ROWS)
    args = ap.parse_args()
    ref_ss, cur_ss = np.random.SeedSequence(SEED).spawn(2)
    for name, ss in (("reference", ref_ss), ("current", cur_ss)):
        cols = generate(np.random.default_rng(ss), args.rows, name)
        path = os.path.join(args.out_dir, "credit_%s.csv" % name)
        write_csv(path, cols)
        print("wrote %s (%d rows, %d columns)" % (path, args.rows, len(cols)))


if __name__ == "__main__":
    main()
