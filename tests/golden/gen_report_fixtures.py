#!/usr/bin/python3
"""Make the hand-shaped results.json fixtures of tests/golden/data/reports/ (schema 1,
docs/results-schema.md) and, for bench/bench_reports.py, synthetic documents of any size.

The figures are plausible, not computed from data: reports render whatever results.json holds.
Run from the repository root:  /usr/bin/python3 tests/golden/gen_report_fixtures.py
"""
import json
import math
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "reports"

FEATURES = ["income", "debt_ratio", "age", "credit_history_months", "utilization",
            "num_late_30d", "num_late_90d", "loan_amount", "loan_term", "employment_years",
            "open_accounts", "inquiries_6m", "savings_balance", "home_ownership",
            "region_risk_index", "payment_to_income", "revolving_balance", "mortgage_count",
            "bankruptcies", "dependents"]


def wilson(k, n, z=1.959963984540054):
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(c - h, 6), round(c + h, 6)]


def r6(x):
    return round(x, 6)


def feature_names(n):
    names = list(FEATURES)
    i = 0
    while len(names) < n:
        names.append(f"feature_{i:02d}")
        i += 1
    return names[:n]


def explanations(rng, n_features, n_points, n_rows):
    names = feature_names(n_features)
    base = -0.42
    scale = [0.9 * (0.78 ** j) + 0.01 for j in range(n_features)]
    feats = []
    for j, name in enumerate(names):
        pts = []
        sab = 0.0
        sm = 0.0
        for _ in range(n_points):
            v = rng.gauss(0, 1)
            phi = scale[j] * (math.tanh(1.3 * v) if j % 2 == 0 else -0.6 * v) + rng.gauss(0, scale[j] * 0.15)
            val = round(50000 + 18000 * v, 0) if name == "income" else r6(v)
            if j == 3 and rng.random() < 0.02:
                val = None
            pts.append([val, r6(phi)])
            sab += abs(phi)
            sm += phi
        feats.append({"name": name, "mean_abs": r6(sab / n_points), "mean": r6(sm / n_points),
                      "rank": j + 1, "points": pts})
    rows = []
    for i in range(n_rows):
        vals = []
        phis = []
        for j in range(n_features):
            v = rng.gauss(0, 1)
            vals.append(r6(v) if j != 13 else ["own", "rent", "mortgage"][i % 3])
            phis.append(r6(scale[j] * math.tanh(1.3 * v) * (1 if j % 2 == 0 else -0.6)))
        pred = r6(base + sum(phis))
        rows.append({"row": 17 + 37 * i, "prediction": pred, "base": base, "value": vals, "phi": phis})
    # features are listed in rank order (by mean |SHAP|); rows follow the same order
    order = sorted(range(n_features), key=lambda j: -feats[j]["mean_abs"])
    feats = [feats[j] for j in order]
    for k, f in enumerate(feats):
        f["rank"] = k + 1
    for r in rows:
        r["value"] = [r["value"][j] for j in order]
        r["phi"] = [r["phi"][j] for j in order]
    if rows:
        hi = max(range(len(rows)), key=lambda k: rows[k]["prediction"])
        lo = min(range(len(rows)), key=lambda k: rows[k]["prediction"])
        rows[hi]["selected"] = "highest score"
        rows[lo]["selected"] = "lowest score"
        if len(rows) > 5:
            rows[5]["selected"] = "requested in spec"
    return {"method": "tree", "output": "raw", "rows": 2000, "base_value": base,
            "additivity_max_error": 3.1e-7, "background": "training cover",
            "features": feats, "explained_rows": rows}


def group(rng, name, count, total, sel, tpr, fpr, base_rate, small=False):
    pos = round(count * base_rate)
    neg = count - pos
    k_sel = round(count * sel)
    g = {"group": name, "count": count, "share": r6(count / total), "small": small,
         "excluded_from_verdict": small,
         "base_rate": r6(pos / count), "base_rate_ci": wilson(pos, count),
         "selection_rate": r6(k_sel / count), "selection_rate_ci": wilson(k_sel, count)}
    for key, rate, den in (("tpr", tpr, pos), ("fpr", fpr, neg)):
        if den == 0:
            g[key] = None
            g[key + "_ci"] = None
            g[key + "_reason"] = "no positive labels in group" if key == "tpr" else \
                "no negative labels in group"
        else:
            k = round(den * rate)
            g[key] = r6(k / den)
            g[key + "_ci"] = wilson(k, den)
    g["fnr"] = None if g["tpr"] is None else r6(1 - g["tpr"])
    if g["fnr"] is None:
        g["fnr_reason"] = "no positive labels in group"
    g["ppv"] = r6(0.6 + 0.2 * rng.random())
    g["ppv_ci"] = wilson(round(g["ppv"] * max(k_sel, 1)), max(k_sel, 1))
    g["accuracy"] = r6(0.7 + 0.15 * rng.random())
    g["accuracy_ci"] = wilson(round(g["accuracy"] * count), count)
    return g


def attribute(rng, name, specs, total, reference=None):
    groups = [group(rng, *s[:1], s[1], total, *s[2:]) for s in specs]
    ref = reference or max(groups, key=lambda g: g["count"])["group"]
    ref_sel = next(g for g in groups if g["group"] == ref)["selection_rate"]
    top = max(g["selection_rate"] for g in groups)
    for g in groups:
        g["disparate_impact"] = r6(g["selection_rate"] / ref_sel)
        g["impact_ratio"] = r6(g["selection_rate"] / top)
        g["selection_rate_difference"] = r6(g["selection_rate"] - ref_sel)
        g["fisher_p_value"] = float(f"{10 ** (-6 * rng.random()):.4g}")
    sels = [g["selection_rate"] for g in groups]
    summary = {"demographic_parity_difference": r6(max(sels) - min(sels)),
               "demographic_parity_ratio": r6(min(sels) / max(sels)),
               "equalized_odds_difference": r6(0.03 + 0.1 * rng.random()),
               "equal_opportunity_difference": r6(0.02 + 0.08 * rng.random()),
               "average_odds_difference": r6(-0.05 + 0.1 * rng.random()),
               "predictive_parity_difference": r6(0.01 + 0.05 * rng.random()),
               "theil_index": r6(0.08 + 0.05 * rng.random()),
               "generalized_entropy_index": r6(0.07 + 0.04 * rng.random()),
               "chi_square": {"statistic": r6(5 + 40 * rng.random()), "dof": len(groups) - 1,
                              "p_value": float(f"{10 ** (-8 * rng.random()):.4g}")}}
    if len(groups) == 2:
        summary["fisher"] = {"p_value": float(f"{10 ** (-5 * rng.random()):.4g}")}
    small = [g["group"] for g in groups if g["small"]]
    if small:
        summary["excluded_groups"] = small
        summary["all_groups"] = all_groups(summary, groups, len(small))
    return {"name": name, "reference": ref, "groups": groups, "summary": summary}


def all_groups(summary, groups, n_small):
    """summary.all_groups of an attribute with small groups: the figures over every group
    (derived from the headline ones without drawing random numbers, so the rest of the fixture
    stays as it was); equalized odds undefined when a group has no TPR, as audit writes it."""
    out = {}
    for k, v in summary.items():
        if isinstance(v, float):
            out[k] = r6(v * (0.9 if k.endswith("_ratio") else 1.2))
    if any(g["tpr"] is None for g in groups):
        for k in ("equalized_odds_difference", "equalized_odds_ratio"):
            if k not in out:
                continue
            out[k] = None
            out[k + "_reason"] = "tpr undefined for an eligible group"
    chi = summary["chi_square"]
    out["chi_square"] = {"statistic": r6(chi["statistic"] * 1.1), "dof": chi["dof"],
                         "p_value": float(f"{chi['p_value'] / 3:.4g}")}
    chi["dof"] -= n_small    # the headline test leaves the small groups out
    return out


def fairness(rng, total):
    sex = attribute(rng, "sex", [("male", 3300, 0.52, 0.74, 0.21, 0.31),
                                 ("female", 2700, 0.39, 0.66, 0.17, 0.29)], total)
    race = attribute(rng, "race", [("White", 3050, 0.50, 0.73, 0.20, 0.30),
                                   ("Black", 1420, 0.37, 0.64, 0.16, 0.31),
                                   ("Asian", 980, 0.49, 0.72, 0.19, 0.28),
                                   ("Hispanic", 470, 0.41, 0.69, 0.18, 0.30),
                                   ("Other", 80, 0.45, 0.70, 0.20, 0.25, True)], total)
    branch = attribute(rng, "branch", [("Nürnberg", 2500, 0.47, 0.71, 0.19, 0.30),
                                       ("Zoë Park", 2100, 0.45, 0.70, 0.20, 0.29),
                                       ("Müller Straße", 1400, 0.43, 0.69, 0.18, 0.31)], total)
    inter = attribute(rng, "sex&race", [("male&White", 1700, 0.55, 0.76, 0.22, 0.30),
                                        ("female&White", 1350, 0.44, 0.70, 0.18, 0.30),
                                        ("male&Black", 760, 0.41, 0.66, 0.17, 0.31),
                                        ("female&Black", 660, 0.33, 0.61, 0.15, 0.31),
                                        ("male&Asian", 520, 0.50, 0.73, 0.20, 0.28),
                                        ("female&Asian", 460, 0.47, 0.70, 0.19, 0.28),
                                        ("male&Hispanic", 270, 0.43, 0.69, 0.18, 0.30),
                                        ("female&Hispanic", 200, 0.38, 0.68, 0.17, 0.30),
                                        ("male&Other", 50, 0.46, 0.70, 0.20, 0.26, True),
                                        ("female&Other", 30, 0.43, 0.70, 0.20, 0.0, True)],
                      total)
    ll144 = []
    for a in (sex, race, inter):
        top = max(g["selection_rate"] for g in a["groups"])
        ll144.append({"attribute": a["name"], "rate": "selection_rate", "unknown_count": 14,
                      "groups": [{"group": g["group"], "count": g["count"], "share": g["share"],
                                  "rate": g["selection_rate"],
                                  "impact_ratio": r6(g["selection_rate"] / top),
                                  "excluded": g["share"] < 0.02} for g in a["groups"]]})
    four = []
    for a in (sex, race, branch):
        top = max(a["groups"], key=lambda g: g["selection_rate"])
        for g in a["groups"]:
            if g["impact_ratio"] < 0.8:
                four.append({"attribute": a["name"], "group": g["group"], "count": g["count"],
                             "impact_ratio": g["impact_ratio"], "highest_group": top["group"],
                             "highest_count": top["count"], "fisher_p_value": g["fisher_p_value"]})
    return {"favorable": 1, "threshold": 0.5, "label": "repaid",
            "attributes": [sex, race, branch], "intersections": [inter],
            "compliance": {"nyc-ll144": ll144, "four-fifths": four}}


def drift(rng, n_cols, n_ref=5000, n_cur=6000):
    cols = []
    n_cat = max(1, n_cols // 4)
    for i in range(n_cols):
        categorical = i >= n_cols - n_cat
        shift = 0.0 if rng.random() < 0.6 else 0.3 + 0.5 * rng.random()
        if categorical:
            cats = ["A", "B", "C", "D"][: 2 + i % 3]
            if i % 2 == 0:
                cats = ["Zoë", "Müller", "Åsa"][: len(cats)]
            ref = [int(n_ref / len(cats) * (1 + 0.3 * k)) for k in range(len(cats))]
            cur = [int(c * n_cur / n_ref * (1 + shift * (k % 2))) for k, c in enumerate(ref)]
            js = r6(0.02 + shift * 0.25)
            col = {"name": f"cat_{i:02d}" if i % 2 else ["home_ownership", "branch", "purpose",
                                                         "channel", "segment"][i % 5],
                   "type": "categorical", "method": "jensen_shannon", "statistic": js,
                   "threshold": 0.1, "drifted": js >= 0.1,
                   "chi_square": {"statistic": r6(3 + 300 * shift), "dof": len(cats) - 1,
                                  "p_value": float(f"{10 ** (-30 * shift - 0.5):.4g}")},
                   "psi": r6(0.01 + 0.5 * shift * shift), "jensen_shannon": js,
                   "missing_share": {"reference": 0.0, "current": r6(0.001 * (i % 3))},
                   "categories": [{"value": c, "reference": ref[k], "current": cur[k]}
                                  for k, c in enumerate(cats)]}
        else:
            edges = [r6(-3 + 0.6 * k) for k in range(11)]
            ref = [int(n_ref * math.exp(-((e + 0.3) ** 2) / 2) / 2.5) + 3 for e in edges[:-1]]
            cur = [int(n_cur * math.exp(-((e + 0.3 - shift) ** 2) / 2) / 2.5) + 3 for e in edges[:-1]]
            wn = r6(0.02 + shift * 0.4)
            name = FEATURES[i % len(FEATURES)] if i < len(FEATURES) else f"feature_{i:02d}"
            col = {"name": name, "type": "numeric", "method": "wasserstein_normed",
                   "statistic": wn, "threshold": 0.1, "drifted": wn >= 0.1,
                   "ks": {"statistic": r6(0.01 + 0.3 * shift),
                          "p_value": float(f"{10 ** (-40 * shift - 0.3):.4g}")},
                   "wasserstein": r6(wn * 1.7), "wasserstein_normed": wn,
                   "psi": r6(0.005 + 0.6 * shift * shift),
                   "jensen_shannon": r6(0.01 + 0.2 * shift),
                   "anderson_darling": {"statistic": r6(-0.5 + 90 * shift),
                                        "p_value": max(0.001, min(0.25, r6(0.25 - shift)))},
                   "cramer_von_mises": {"statistic": r6(0.1 + 12 * shift),
                                        "p_value": float(f"{10 ** (-9 * shift - 0.2):.4g}")},
                   "missing_share": {"reference": r6(0.002 * (i % 2)), "current": 0.0},
                   "histogram": {"edges": edges, "reference": ref, "current": cur}}
        cols.append(col)
    drifted = sum(1 for c in cols if c["drifted"])
    edges = [r6(k / 10) for k in range(11)]
    pred = {"name": "prediction", "type": "numeric", "method": "wasserstein_normed",
            "statistic": 0.064, "threshold": 0.1, "drifted": False,
            "ks": {"statistic": 0.041, "p_value": 0.00021},
            "psi": 0.018, "jensen_shannon": 0.031,
            "histogram": {"edges": edges, "reference": [410, 620, 700, 640, 560, 480, 420, 380, 430, 360],
                          "current": [520, 700, 760, 700, 610, 560, 500, 470, 520, 660]}}
    attr = {"features": [{"name": n, "reference_mean_abs": r6(0.9 * 0.78 ** k + 0.01),
                          "current_mean_abs": r6((0.9 * 0.78 ** k + 0.01) * (1 + 0.1 * ((k % 3) - 1))),
                          "reference_rank": k + 1, "current_rank": k + 1 + (1 if k in (2,) else -1 if k == 3 else 0)}
                         for k, n in enumerate(FEATURES[:8])]}
    return {"drift_share": r6(drifted / n_cols), "dataset_drift": drifted / n_cols >= 0.5,
            "share_threshold": 0.5, "reference_rows": n_ref, "current_rows": n_cur,
            "psi_binning": "quantile", "columns": cols, "prediction_drift": pred,
            "attribution_drift": attr}


def performance(rng):
    by = []
    for a, gs in (("sex", ["male", "female"]), ("race", ["White", "Black", "Asian", "Hispanic", "Other"])):
        for g in gs:
            by.append({"attribute": a, "group": g, "rows": 80 if g == "Other" else 1000 + int(2000 * rng.random()),
                       "auc": r6(0.74 + 0.06 * rng.random()), "accuracy": r6(0.7 + 0.1 * rng.random()),
                       "log_loss": r6(0.45 + 0.1 * rng.random())})
    by.append({"attribute": "branch", "group": "Zoë Park", "rows": 2100, "auc": None,
               "auc_reason": "only one label class in group", "accuracy": 0.771, "log_loss": 0.4821})
    return {"label": "repaid", "overall": {"auc": 0.781234, "accuracy": 0.743167,
                                           "log_loss": 0.498812, "rows": 6000},
            "by_group": by}


def checks(fair, dr, perf):
    out = []
    for a in fair["attributes"]:
        for g in a["groups"]:
            if g["group"] == a["reference"]:
                continue
            out.append({"metric": "disparate_impact", "attribute": a["name"], "group": g["group"],
                        "value": g["disparate_impact"], "min": 0.8,
                        "passed": g["disparate_impact"] >= 0.8})
        eo = a["summary"]["equalized_odds_difference"]
        out.append({"metric": "equalized_odds_difference", "attribute": a["name"], "value": eo,
                    "max": 0.1, "passed": eo <= 0.1})
    out.append({"metric": "drift_share", "value": dr["drift_share"], "max": 0.3,
                "passed": dr["drift_share"] <= 0.3})
    c0 = dr["columns"][0]
    out.append({"metric": "psi", "column": c0["name"], "value": c0["psi"], "max": 0.25,
                "passed": c0["psi"] <= 0.25})
    out.append({"metric": "auc", "value": perf["overall"]["auc"], "min": 0.7,
                "passed": perf["overall"]["auc"] >= 0.7})
    out.append({"metric": "additivity_max_error", "value": 3.1e-7, "max": 1e-5, "passed": True})
    return out


def provenance():
    return {"created": "2026-10-05T14:03:22Z", "spec": "audits/credit_q3.json", "seed": 42,
            "inputs": [{"role": "data", "path": "data/loans_2026q3.csv",
                        "sha256": "9f2c4e1ab07d55e3c1e8f0a4b6d2c9e7f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c0",
                        "rows": 6000, "columns": 24},
                       {"role": "reference", "path": "data/loans_2025q4_reference.csv",
                        "sha256": "1b3d5f7a9c0e2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c",
                        "rows": 5000, "columns": 24}],
            "model": {"path": "models/credit_xgb.json",
                      "sha256": "c0ffee00d15ea5e5b16b00b5deadbeef0123456789abcdef0123456789abcdef",
                      "format": "xgboost-json", "objective": "binary:logistic"}}


def full(n_features=20, n_points=300, n_rows=40, n_drift=15, seed=8):
    rng = random.Random(seed)
    exp = explanations(rng, n_features, n_points, n_rows)
    fair = fairness(rng, 6000)
    dr = drift(rng, n_drift)
    perf = performance(rng)
    chk = checks(fair, dr, perf)
    return {"schema_version": "1", "tool": {"name": "audit", "version": "0.1.0"},
            "provenance": provenance(),
            "report": {"title": "Credit model Q3 audit", "organization": "Example Bank AG",
                       "prepared_by": "Model Risk Management (Zoë Müller)", "approved_by": "",
                       "data_source": "loan book 2026-07..09"},
            "profile": {"rows": 6000, "columns": [
                {"name": "income", "type": "numeric", "missing": 12, "min": 8000, "max": 410000,
                 "mean": 51234.5, "std": 18012.25},
                {"name": "race", "type": "categorical", "missing": 0,
                 "categories": {"White": 3050, "Black": 1420, "Asian": 980, "Hispanic": 470,
                                "Other": 80}}]},
            "explanations": exp, "fairness": fair, "drift": dr, "performance": perf,
            "checks": chk, "verdict": "pass" if all(c["passed"] for c in chk) else "fail"}


def minimal():
    return {"schema_version": "1", "tool": {"name": "audit", "version": "0.1.0"},
            "provenance": {"created": "2026-10-06T08:00:00Z", "inputs": []},
            "skipped": [{"section": "explanations", "reason": "no model given"},
                        {"section": "fairness", "reason": "no sensitive attribute given"},
                        {"section": "drift", "reason": "no reference data given"},
                        {"section": "performance", "reason": "no label column"}],
            "checks": [], "verdict": "pass"}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, doc in (("results_full.json", full()), ("results_minimal.json", minimal())):
        (OUT / name).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")
        print("wrote", OUT / name, file=sys.stderr)


if __name__ == "__main__":
    main()
