#!/usr/bin/python3
"""Reference values for the fairness statistics unit test (tests/unit/test_fair_stats.c):
Wilson intervals (statsmodels proportion_confint method="wilson"), two-sided Fisher exact
p-values (scipy.stats.fisher_exact, and a 30-digit mpmath sum for two large tables) and chi-square tests of independence without continuity
correction (scipy.stats.chi2_contingency(correction=False)).

Run: /usr/bin/python3 tests/golden/gen_fairness_stats.py > tests/golden/data/fairness/stats.json
"""
import json
import sys

import numpy as np
from scipy.stats import chi2_contingency, fisher_exact
from statsmodels.stats.proportion import proportion_confint

rng = np.random.default_rng(20261128)

wilson = []
cases = [(0, 1), (1, 1), (0, 10), (10, 10), (5, 10), (1, 100000), (3, 7), (499, 1000),
         (123456, 999999), (1, 2), (17, 40)]
for _ in range(20):
    n = int(rng.integers(1, 5000))
    cases.append((int(rng.integers(0, n + 1)), n))
for x, n in cases:
    for level in (0.95, 0.9):
        lo, hi = proportion_confint(x, n, alpha=1 - level, method="wilson")
        wilson.append({"x": x, "n": n, "level": level, "lo": float(lo), "hi": float(hi)})

fisher = []
tables = [[[8, 2], [1, 5]], [[3, 1], [1, 3]], [[500, 480], [400, 520]], [[0, 5], [5, 0]],
          [[0, 0], [3, 4]], [[10, 10], [10, 10]], [[1, 9], [11, 3]], [[2, 7], [8, 2]],
          [[12000, 38000], [15500, 34500]], [[0, 100], [1, 99]], [[7, 0], [0, 7]],
          [[40, 60], [45, 55]], [[1, 1], [1, 1]],
          # large tables: near the mode, significant, and p below 1e-300
          [[150, 850], [152, 848]], [[300000, 700000], [299000, 701000]],
          [[140000, 95000], [490000, 110000]], [[5000, 95000], [5400, 94600]],
          [[1, 999999], [0, 1000000]]]
for _ in range(30):
    tables.append(rng.integers(0, 60, size=(2, 2)).tolist())
for t in tables:
    p = fisher_exact(t, alternative="two-sided").pvalue
    fisher.append({"table": t, "p": float(p)})

# Exact reference for large tables where scipy's own error (~3e-10 relative) is visible:
# a 30-digit mpmath sum over every table within 40 standard deviations of the mode.
import mpmath as mp

mp.mp.dps = 30
fisher_mp = []
for t in ([[300000, 700000], [299000, 701000]], [[5000, 95000], [5400, 94600]]):
    (a, b), (c, d) = t
    K, n, N = a + b, a + c, a + b + c + d

    def lp(k):
        return (mp.log(mp.binomial(K, k)) + mp.log(mp.binomial(N - K, n - k))
                - mp.log(mp.binomial(N, n)))

    cut = lp(a) + mp.log1p(mp.mpf("1e-7"))
    sd = (n * K * (N - K) * (N - n) / (N * N * (N - 1))) ** 0.5
    mode = (n + 1) * (K + 1) // (N + 2)
    lo, hi = max(0, n - (N - K), int(mode - 40 * sd)), min(K, n, int(mode + 40 * sd))
    tot = mp.fsum(mp.e ** lp(k) for k in range(lo, hi + 1) if lp(k) <= cut)
    fisher_mp.append({"table": t, "p": float(tot)})

chi2 = []
ctabs = [[[10, 20], [30, 40]], [[5, 5], [5, 5], [1, 9]], [[1200, 800], [300, 700], [45, 55]],
         [[3, 97], [8, 92], [12, 88], [20, 80]]]
for _ in range(10):
    k = int(rng.integers(2, 7))
    ctabs.append((rng.integers(1, 200, size=(k, 2))).tolist())
for t in ctabs:
    stat, p, dof, _ = chi2_contingency(np.array(t), correction=False)
    chi2.append({"table": t, "statistic": float(stat), "dof": int(dof), "p": float(p)})

json.dump({"wilson": wilson, "fisher": fisher, "fisher_mpmath": fisher_mp, "chi2": chi2}, sys.stdout, indent=1)
sys.stdout.write("\n")
