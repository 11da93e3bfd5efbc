#!/usr/bin/python3
"""Reference values for aud_fair_katz (tests/unit/test_fair_stats.c): Katz log intervals of a
ratio of two proportions (x1/n1) / (x2/n2), statsmodels
confint_proportions_2indep(compare="ratio", method="log"). The findings use them as the
intervals of disparate impact and impact ratio.

Run: /usr/bin/python3 tests/golden/gen_katz.py > tests/golden/data/fairness/katz.json
"""
import json
import sys

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep

rng = np.random.default_rng(20261204)
cases = [(880, 1424, 2939, 3582), (1, 1, 1, 1), (1, 1000, 999, 1000), (50, 50, 10, 100),
         (31, 50, 40, 50), (123456, 999999, 4567, 10000)]
for _ in range(20):
    n1, n2 = int(rng.integers(1, 5000)), int(rng.integers(1, 5000))
    cases.append((int(rng.integers(1, n1 + 1)), n1, int(rng.integers(1, n2 + 1)), n2))
katz = []
for x1, n1, x2, n2 in cases:
    for level in (0.95, 0.9):
        lo, hi = confint_proportions_2indep(x1, n1, x2, n2, compare="ratio", method="log",
                                            alpha=1 - level)
        katz.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "level": level, "lo": float(lo),
                     "hi": float(hi)})
json.dump({"katz": katz}, sys.stdout, indent=1)
sys.stdout.write("\n")
