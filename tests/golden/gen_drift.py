#!/usr/bin/python3
"""Golden cases for the drift statistics on plain arrays (tests/unit/test_drift.c).

Run with Debian's python3 (scipy 1.10):  /usr/bin/python3 tests/golden/gen_drift.py
Writes tests/golden/data/drift/stats_cases.json: small two-sample cases (ties, constant samples,
sizes 1..3, exact and asymptotic p-value paths) with the values of scipy.stats.ks_2samp,
wasserstein_distance, anderson_ksamp, cramervonmises_2samp, and grids of kstwo.sf and
scipy.special.smirnov covering every branch of the Simard-L'Ecuyer selection; 2 x k tables with
chi2_contingency(correction=False) and jensenshannon.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

assert scipy.__version__.startswith("1.10"), scipy.__version__
warnings.simplefilter("ignore")
OUT = Path(__file__).resolve().parent / "data" / "drift" / "stats_cases.json"


def num(v):
    v = float(v)
    return None if not np.isfinite(v) else v


def two_sample(x, y, label):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    c = {"label": label, "x": x.tolist(), "y": y.tolist()}
    r = stats.ks_2samp(x, y)
    c["ks"] = [num(r.statistic), num(r.pvalue)]
    c["wasserstein"] = num(stats.wasserstein_distance(x, y))
    c["std_x"] = num(np.std(x))
    try:
        a = stats.anderson_ksamp([x, y])
        c["ad"] = [num(a.statistic), num(a.significance_level)]
    except (ValueError, IndexError, ZeroDivisionError):
        c["ad"] = None
    if len(x) + len(y) < 4:
        c["ad"] = None   # scipy divides by (N-3); audit reports no value (docs/drift.md)
    try:
        v = stats.cramervonmises_2samp(x, y)
        c["cvm"] = [num(v.statistic), num(v.pvalue)]
    except ValueError:
        c["cvm"] = None
    return c


def main():
    rng = np.random.default_rng(20261128)
    cases = []
    cases.append(two_sample([1.0], [2.0], "n=1 vs n=1"))
    cases.append(two_sample([1.0], [1.0], "n=1 equal"))
    cases.append(two_sample([1.0, 2.0], [1.5, 3.0], "n=2 vs n=2"))
    cases.append(two_sample([0.0, 1.0, 2.0], [5.0, 6.0], "3 vs 2 disjoint"))
    cases.append(two_sample([3.0] * 5, [3.0] * 7, "constant, identical"))
    cases.append(two_sample([3.0] * 5, [4.0] * 7, "constant, different"))
    cases.append(two_sample([1, 1, 2, 2, 2, 3], [2, 2, 3, 3, 4, 4, 4], "ties"))
    cases.append(two_sample([-0.0, 0.0, 1.0], [0.0, -0.0, 2.0], "signed zeros"))
    for n1, n2 in [(5, 5), (7, 13), (20, 20), (20, 19), (21, 20), (50, 50), (37, 91)]:
        x = rng.normal(size=n1)
        y = rng.normal(0.4, 1.2, size=n2)
        cases.append(two_sample(x, y, f"normal {n1} vs {n2}"))
        cases.append(two_sample(np.round(x, 0), np.round(y, 0), f"rounded {n1} vs {n2}"))
    for n1, n2 in [(300, 250), (1000, 1000), (2000, 900)]:
        x = rng.exponential(size=n1)
        y = rng.exponential(1.1, size=n2)
        cases.append(two_sample(np.round(x, 2), np.round(y, 2), f"exponential {n1} vs {n2}"))

    kolm = []
    for n in [1, 2, 3, 5, 10, 60, 140, 141, 400, 3000, 50000, 100000, 100001, 400000, 1000000]:
        for x in [1e-4, 0.003, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.7,
                  0.95, 0.999]:
            kolm.append([n, x, num(stats.kstwo.sf(x, n)), num(special.smirnov(n, x))])

    tables = []
    for ref, cur in [([10, 20, 30], [12, 18, 35]), ([5, 0, 7], [0, 9, 1]), ([100], [50]),
                     ([3, 4], [7, 1]), ([1000, 1, 2, 3, 500], [900, 40, 2, 0, 480])]:
        ref = np.asarray(ref, float)
        cur = np.asarray(cur, float)
        tab = np.vstack([ref, cur])
        if tab.shape[1] == 1:
            chi = [0.0, 0, 1.0]
        else:
            s, p, dof, _ = stats.chi2_contingency(tab, correction=False)
            chi = [num(s), int(dof), num(p)]
        tables.append({"ref": ref.tolist(), "cur": cur.tolist(), "chi2": chi,
                       "js": num(jensenshannon(ref, cur))})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"scipy": scipy.__version__, "two_sample": cases,
                               "kolmogn": kolm, "tables": tables}, indent=0) + "\n")
    print(f"wrote {OUT}: {len(cases)} two-sample cases, {len(kolm)} kstwo points, "
          f"{len(tables)} tables")


if __name__ == "__main__":
    main()
