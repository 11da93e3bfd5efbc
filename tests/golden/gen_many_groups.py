#!/usr/bin/python3
"""Make tests/golden/data/many_groups/: an Adult-like data set with many and small groups, for
the report layout tests (issue 14 items 5-9): native_country has 40 groups, 39 of them small
(under 2% of rows), with long names and names holding the intersection separator
("Trinadad&Tobago"); race has 5 groups; age_band is a numeric attribute banded by the spec
(numeric bins must come out in numeric order); a score column stands for the model and a
shifted reference period gives drift pages.

The figures are synthetic; what matters is the shape (many, small, awkwardly named groups).
Run from the repository root:  /usr/bin/python3 tests/golden/gen_many_groups.py
"""
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "data" / "many_groups"

COUNTRIES = [
    "United-States", "Mexico", "Philippines", "Germany", "Puerto-Rico", "Canada", "El-Salvador",
    "India", "Cuba", "England", "China", "South", "Jamaica", "Italy", "Dominican-Republic",
    "Japan", "Guatemala", "Poland", "Vietnam", "Columbia", "Haiti", "Portugal", "Taiwan", "Iran",
    "Greece", "Nicaragua", "Peru", "Ecuador", "France", "Ireland", "Hong", "Thailand",
    "Cambodia", "Trinadad&Tobago", "Laos", "Yugoslavia", "Outlying-US(Guam-USVI-etc)",
    "Scotland", "Honduras", "Holand-Netherlands",
]
RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]


def make(rng, n, shift):
    p = np.full(len(COUNTRIES), 0.10 / (len(COUNTRIES) - 1))
    p[0] = 0.90
    country = rng.choice(COUNTRIES, size=n, p=p)
    race = rng.choice(RACES, size=n, p=[0.80, 0.10, 0.05, 0.03, 0.02])
    sex = rng.choice(["Male", "Female"], size=n, p=[0.66, 0.34])
    age = np.clip(rng.normal(39 + shift * 3, 13, size=n), 17, 90).round().astype(int)
    hours = np.clip(rng.normal(40 + shift * 2, 12, size=n), 1, 99).round().astype(int)
    edu = rng.integers(1, 17, size=n)
    capital = np.where(rng.random(n) < 0.08, rng.lognormal(8, 1, size=n), 0).round()
    z = (-2.2 + 0.045 * (age - 38) + 0.25 * (edu - 9) + 0.03 * (hours - 40)
         + 0.6 * (sex == "Male") - 0.3 * (race == "Black") + 0.0002 * capital)
    prob = 1 / (1 + np.exp(-z))
    label = (rng.random(n) < prob).astype(int)
    score = np.clip(prob + rng.normal(0, 0.08, size=n), 0, 1).round(4)
    rows = ["age,education_num,hours_per_week,capital_gain,sex,race,native_country,label,score"]
    for i in range(n):
        c = country[i]
        rows.append(f"{age[i]},{edu[i]},{hours[i]},{capital[i]:.0f},{sex[i]},{race[i]},"
                    + (f'"{c}"' if "&" in c or "," in c else c) + f",{label[i]},{score[i]}")
    return "\n".join(rows) + "\n"


def main():
    rng = np.random.default_rng(20261205)
    OUT.mkdir(parents=True, exist_ok=True)
    cur = make(rng, 6000, 1.0)
    ref = make(rng, 6000, 0.0)
    # every country appears at least once in both periods (the 40 groups are all there)
    (OUT / "adult_like.csv").write_text(cur)
    (OUT / "adult_like_ref.csv").write_text(ref)
    spec = {
        "data": "adult_like.csv", "reference": "adult_like_ref.csv",
        "label": "label", "score": "score", "favorable": 1, "threshold": 0.5,
        "sensitive": ["sex", "race", "native_country", "age"],
        "bins": {"age": [25, 35, 45, 55, 65]},
        "fairness": {"bootstrap": 200},
        "checks": [{"metric": "disparate_impact", "min": 0.8},
                   {"metric": "drift_share", "max": 0.3}],
        "outputs": {"dir": "out", "json": "results.json", "pdf": "report.pdf",
                    "xlsx": "report.xlsx"},
        "report": {"title": "Adult-like income model - many small groups",
                   "favorable_outcome": "approved"},
        "seed": 7,
    }
    (OUT / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")


if __name__ == "__main__":
    main()
