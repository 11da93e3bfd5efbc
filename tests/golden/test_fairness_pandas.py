"""`audit fairness` vs independent references computed here: pandas groupby for counts and rates,
statsmodels proportion_confint(method="wilson"), scipy fisher_exact / chi2_contingency
(correction=False), sklearn roc_auc_score / brier_score_loss / calibration_curve, and the
Fairlearn / AIF360 formulas written out on the individual rows (AIF360's benefit vector
b = yhat - y + 1, not the counts the C code uses).

Tolerances: rates, differences, ratios, entropy indices, AUC, Brier, ECE 1e-12 (relative +
absolute; both sides do the same divisions in double, summation order differs); Wilson 1e-12
absolute; chi-square statistic 1e-10 relative, p-values 1e-8 relative (GSL vs scipy special
functions); Fisher p 1e-8 relative.
"""
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score
from statsmodels.stats.proportion import proportion_confint

RATES = ["base_rate", "selection_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "fdr",
         "false_omission_rate", "accuracy"]


def close(a, b, tol=1e-12):
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None
    return a is not None and abs(a - b) <= tol * (1 + abs(b))


def make_data(n=4000, seed=5):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.45, 0.55])
    race = rng.choice(["A", "B", "C", "D"], size=n, p=[0.6, 0.25, 0.135, 0.015])
    grp01 = rng.integers(0, 2, size=n).astype(float)
    grp01[rng.random(n) < 0.03] = np.nan           # unknown numeric sensitive values
    bias = np.where(race == "B", -0.8, 0.0) + np.where(sex == "female", -0.3, 0.0)
    logit = rng.normal(0, 1.5, size=n) + bias
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 1, n))))).astype(float)
    score = np.round(1 / (1 + np.exp(-logit)), 3)  # rounded: many tied scores
    y_col = y.copy()
    y_col[rng.random(n) < 0.05] = np.nan           # missing labels
    sex_col = sex.astype(object)
    sex_col[rng.random(n) < 0.02] = ""             # unknown sex
    df = pd.DataFrame({"sex": sex_col, "race": race, "grp01": grp01, "label": y_col,
                       "score": score, "pred": (score >= 0.5).astype(int)})
    return df


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("fair")
    df = make_data()
    p = d / "data.csv"
    df.to_csv(p, index=False, na_rep="")
    return p, df


def run_json(audit, tmp_path, *args):
    out = tmp_path / "out.json"
    r = audit("fairness", *args, "--json", out)
    assert r.code == 0, r
    return json.loads(out.read_text())["fairness"]


def wilson(x, n):
    if n == 0:
        return None
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    return [lo, hi]


def known_rows(df, col, fav):
    """The rows with a known value of col: group name g, favourable label yf (NaN when
    missing) and favourable prediction pf."""
    d = df[df[col].notna() & (df[col] != "")].copy()
    d["g"] = d[col].astype(str) if d[col].dtype == object else d[col].map(lambda v: "%g" % v)
    d["yf"] = np.where(d["label"].isna(), np.nan, (d["label"] == fav).astype(float))
    d["pf"] = (d["pred"] == fav).astype(float)
    return d


def reference_attr(df, col, fav, min_share=0.02, ref=None, score=True):
    """Everything `audit fairness` reports for one attribute, from pandas."""
    d = known_rows(df, col, fav)
    lab = d[d["yf"].notna()]
    out = {}
    n_known = len(d)
    for g, gd in d.groupby("g", sort=False):
        gl = lab[lab["g"] == g]
        tp = int(((gl.yf == 1) & (gl.pf == 1)).sum())
        fp = int(((gl.yf == 0) & (gl.pf == 1)).sum())
        tn = int(((gl.yf == 0) & (gl.pf == 0)).sum())
        fn = int(((gl.yf == 1) & (gl.pf == 0)).sum())
        parts = {"base_rate": (tp + fn, len(gl)), "selection_rate": (int(gd.pf.sum()), len(gd)),
                 "tpr": (tp, tp + fn), "fpr": (fp, fp + tn), "tnr": (tn, fp + tn),
                 "fnr": (fn, tp + fn), "ppv": (tp, tp + fp), "npv": (tn, tn + fn),
                 "fdr": (fp, tp + fp), "false_omission_rate": (fn, tn + fn),
                 "accuracy": (tp + tn, len(gl))}
        e = {"count": len(gd), "share": len(gd) / n_known, "tp": tp, "fp": fp, "tn": tn, "fn": fn,
             "sel": int(gd.pf.sum())}
        for r, (num, den) in parts.items():
            e[r] = num / den if den else None
            e[r + "_ci"] = wilson(num, den)
        e["small"] = e["share"] < min_share
        if score:
            y1 = gl["label"].values
            s = gl["score"].values
            e["auc"] = roc_auc_score(y1, s) if len(set(y1)) == 2 else None
            e["brier"] = brier_score_loss(y1, s)
            pt, pp = calibration_curve(y1, s, n_bins=10, strategy="uniform")
            bins = np.linspace(0.0, 1.0, 11)
            ids = np.searchsorted(bins[1:-1], s)    # as sklearn 1.2 bins them
            cnt = np.bincount(ids, minlength=10)
            cnt = cnt[cnt > 0]
            e["ece"] = float(np.sum(cnt / len(s) * np.abs(pt - pp)))
        e["b"] = (gl.pf - gl.yf + 1).values          # AIF360 benefit per labelled row
        out[g] = e
    groups = list(out)
    if ref is None:
        ref = max(groups, key=lambda g: out[g]["count"])   # first largest in appearance order
    elig = [g for g in groups if not out[g]["small"]]
    high = max(elig, key=lambda g: out[g]["selection_rate"])
    for g in groups:
        e = out[g]
        for r in RATES:
            a, b = e[r], out[ref][r]
            e[r + "_difference"] = None if a is None or b is None else a - b
            e[r + "_ratio"] = None if a is None or b is None or b == 0 else a / b
        e["disparate_impact"] = e["selection_rate_ratio"]
        e["impact_ratio"] = e["selection_rate"] / out[high]["selection_rate"]
        if g != high:
            h = out[high]
            e["fisher_p_value"] = fisher_exact([[e["sel"], e["count"] - e["sel"]],
                                                [h["sel"], h["count"] - h["sel"]]]).pvalue
        else:
            e["fisher_p_value"] = None
        e["equal_opportunity_difference"] = e["tpr"] - out[ref]["tpr"]
        e["average_odds_difference"] = ((e["fpr"] - out[ref]["fpr"]) +
                                        (e["tpr"] - out[ref]["tpr"])) / 2
        e["average_abs_odds_difference"] = (abs(e["fpr"] - out[ref]["fpr"]) +
                                            abs(e["tpr"] - out[ref]["tpr"])) / 2

    def spread(r):
        v = [out[g][r] for g in elig]
        return max(v) - min(v), min(v) / max(v)

    def worst(m):
        v = [out[g][m] for g in elig if g != ref]
        return max(v, key=abs)

    s = {}
    s["demographic_parity_difference"], s["demographic_parity_ratio"] = spread("selection_rate")
    td, tr = spread("tpr")
    fd, fr = spread("fpr")
    s["equalized_odds_difference"] = max(td, fd)
    s["equalized_odds_ratio"] = min(tr, fr)
    s["equal_opportunity_difference"] = worst("equal_opportunity_difference")
    s["average_odds_difference"] = worst("average_odds_difference")
    s["average_abs_odds_difference"] = worst("average_abs_odds_difference")
    s["predictive_parity_difference"] = spread("ppv")[0]
    # AIF360 generalized_entropy_index on the individual benefits of the eligible groups
    b = np.concatenate([out[g]["b"] for g in elig])
    mu = b.mean()
    s["theil_index"] = float(np.mean(np.log((b / mu) ** b) / mu))
    s["generalized_entropy_index"] = float(np.mean((b / mu) ** 2 - 1) / 2)
    bg = np.concatenate([np.full(len(out[g]["b"]), out[g]["b"].mean()) for g in elig])
    s["between_group_generalized_entropy_index"] = float(np.mean((bg / bg.mean()) ** 2 - 1) / 2)
    tab = np.array([[out[g]["sel"], out[g]["count"] - out[g]["sel"]] for g in elig])
    stat, p, dof, _ = chi2_contingency(tab, correction=False)
    s["chi_square"] = {"statistic": stat, "p_value": p, "dof": dof}
    unknown = len(df) - n_known
    return out, s, ref, high, unknown


def reference_all_groups(df, col, fav, ref, label=True):
    """summary.all_groups from the rows, over EVERY group (small ones included), as the
    libraries define the metrics: Fairlearn's demographic_parity_difference / _ratio and
    equalized_odds_difference / _ratio (between-groups max - min and min / max of the per-group
    rates; equalized odds the worse of TPR and FPR); AIF360's equal_opportunity_difference,
    average_odds_difference and average_abs_odds_difference with the reference as privileged
    group, reported for the non-reference group with the largest absolute value; max - min PPV;
    AIF360's generalized_entropy_index (alpha 1 = theil_index, alpha 2) on the benefit vector
    b = yhat - y + 1 of every labelled row with a known group, and
    between_group_generalized_entropy_index with each b_i replaced by its group's mean; scipy
    chi2_contingency (no correction) of group x favourable prediction. Built independently of
    reference_attr (groupby over the flat rows, not per-group records)."""
    d = known_rows(df, col, fav)
    groups = list(dict.fromkeys(d["g"]))

    def per_group(sub, value):
        return sub.groupby("g", sort=False)[value].mean().reindex(groups)

    def spread(r):                               # Fairlearn difference() / ratio()
        if r.isna().any():
            return None, None
        return r.max() - r.min(), r.min() / r.max()

    def worst(x):                                # AIF360 group vs privileged, worst group
        if x.isna().any():
            return None
        x = x.drop(ref)
        return x[x.abs().idxmax()]

    sel = per_group(d, "pf")
    s = {}
    s["demographic_parity_difference"], s["demographic_parity_ratio"] = spread(sel)
    crosstab = pd.crosstab(d["g"], d["pf"]).reindex(groups)
    stat, p, dof, _ = chi2_contingency(crosstab.values, correction=False)
    s["chi_square"] = {"statistic": stat, "p_value": p, "dof": dof}
    if not label:
        return s
    lab = d[d["yf"].notna()].copy()
    tpr = per_group(lab[lab.yf == 1], "pf")
    fpr = per_group(lab[lab.yf == 0], "pf")
    ppv = per_group(lab[lab.pf == 1], "yf")
    td, tr = spread(tpr)
    fd, fr = spread(fpr)
    s["equalized_odds_difference"] = max(td, fd)
    s["equalized_odds_ratio"] = min(tr, fr)
    s["equal_opportunity_difference"] = worst(tpr - tpr[ref])
    s["average_odds_difference"] = worst(((fpr - fpr[ref]) + (tpr - tpr[ref])) / 2)
    s["average_abs_odds_difference"] = worst(((fpr - fpr[ref]).abs() + (tpr - tpr[ref]).abs()) / 2)
    s["predictive_parity_difference"] = spread(ppv)[0]

    def gei(b, alpha):                           # AIF360 generalized_entropy_index
        b = np.asarray(b, dtype=float)
        mu = np.mean(b)
        if alpha == 1:
            return float(np.mean(np.log((b / mu) ** b) / mu))
        return float(np.mean((b / mu) ** alpha - 1) / (alpha * (alpha - 1)))

    lab["b"] = lab.pf - lab.yf + 1
    s["theil_index"] = gei(lab["b"], 1)
    s["generalized_entropy_index"] = gei(lab["b"], 2)
    s["between_group_generalized_entropy_index"] = gei(lab.groupby("g")["b"].transform("mean"), 2)
    return s


def check_summary(got, want, where):
    """Summary figures (headline or all_groups) vs the reference: 1e-12 as every other figure,
    chi-square statistic 1e-10 and p 1e-8 relative (GSL vs scipy special functions)."""
    for k, v in want.items():
        if k == "chi_square":
            c = got["chi_square"]
            assert c["dof"] == v["dof"], where
            assert close(c["statistic"], v["statistic"], 1e-10), where
            assert close(c["p_value"], v["p_value"], 1e-8), where
        else:
            assert close(got[k], v), (where, k, got[k], v)


def headline(summary):
    """The headline figures of a summary (no intervals, the pairs they follow, exclusions or
    all_groups)."""
    return {k: v for k, v in summary.items()
            if k not in ("excluded_groups", "all_groups") and "_ci" not in k and
            not k.endswith("_difference_group")}


def check_attr(got, df, col, fav, score=True, ref=None, ordered=True):
    exp, s, eref, high, unknown = reference_attr(df, col, fav, ref=ref, score=score)
    assert got["reference"] == eref
    assert got["unknown"] == unknown
    names = [g["group"] for g in got["groups"]]
    if ordered:
        assert names == sorted(exp, key=str.lower)   # natural order (issue 14): text
    else:
        assert sorted(names) == sorted(exp)
    for g in got["groups"]:
        e = exp[g["group"]]
        assert g["count"] == e["count"]
        assert g["small"] == e["small"]
        assert close(g["share"], e["share"])
        for r in RATES:
            assert close(g[r], e[r]), (g["group"], r, g[r], e[r])
            if e[r + "_ci"] is None:
                assert g[r + "_ci"] is None
            else:
                assert abs(g[r + "_ci"][0] - e[r + "_ci"][0]) <= 1e-12, (g["group"], r)
                assert abs(g[r + "_ci"][1] - e[r + "_ci"][1]) <= 1e-12, (g["group"], r)
            for k in ("_difference", "_ratio"):
                assert close(g[r + k], e[r + k]), (g["group"], r + k)
        for k in ("disparate_impact", "impact_ratio", "equal_opportunity_difference",
                  "average_odds_difference", "average_abs_odds_difference"):
            assert close(g[k], e[k]), (g["group"], k, g[k], e[k])
        assert close(g["fisher_p_value"], e["fisher_p_value"], 1e-8), g["group"]
        assert g["below_four_fifths"] == (e["impact_ratio"] < 0.8)
        if score:
            for k in ("auc", "brier", "ece"):
                assert close(g[k], e[k]), (g["group"], k, g[k], e[k])
    check_summary(got["summary"], s, (col, "eligible groups"))
    small = [g for g, e in exp.items() if e["small"]]
    assert sorted(got["summary"]["excluded_groups"]) == sorted(small)
    # all_groups: the library definitions over every group; the same numbers (bit for bit)
    # as the headline when no group is small
    all_groups = got["summary"]["all_groups"]
    check_summary(all_groups, reference_all_groups(df, col, fav, eref), (col, "all groups"))
    assert not any("_ci" in k for k in all_groups)
    if not small:
        assert all_groups == headline(got["summary"])
    return small


@pytest.mark.parametrize("fav", [1, 0])
def test_attributes_match_pandas(audit, data, tmp_path, fav):
    p, df = data
    df = df.copy()
    df["pred"] = (df["score"] >= 0.5).astype(int)
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "sex,race,grp01", "--score",
                 "score", "--threshold", "0.5", "--label", "label", "--favorable", str(fav),
                 "--bootstrap", "0")
    assert f["favorable"] == fav and f["threshold"] == 0.5
    names = [a["name"] for a in f["attributes"]]
    assert names == ["sex", "race", "grp01"]
    for a in f["attributes"]:
        # numeric grp01: levels in numeric order, not first appearance
        check_attr(a, df, a["name"], fav, ordered=a["name"] != "grp01")
    assert [g["group"] for g in f["attributes"][2]["groups"]] == ["0", "1"]
    # D is 1.5% of the rows: reported, marked small, excluded from the headline summary but
    # not from all_groups, so the two differ
    race = f["attributes"][1]
    assert [g["group"] for g in race["groups"] if g["small"]] == ["D"]
    s = race["summary"]
    assert s["all_groups"]["chi_square"]["dof"] == s["chi_square"]["dof"] + 1 == 3
    assert s["all_groups"]["demographic_parity_difference"] != s["demographic_parity_difference"]


def test_all_groups_equal_headline_when_no_group_is_small(audit, data, tmp_path):
    """--min-share 0: no group is small, so the headline summary (eligible groups) is the
    all-groups summary, bit for bit, and both match the library definitions over every group,
    race D included; the bootstrap intervals stay on the headline figures only."""
    p, df = data
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "sex,race", "--prediction", "pred",
                 "--label", "label", "--min-share", "0", "--bootstrap", "50")
    for a in f["attributes"] + f["intersections"]:
        s = a["summary"]
        assert s["excluded_groups"] == [] and not any(g["small"] for g in a["groups"])
        assert s["all_groups"] == headline(s), a["name"]
        assert "demographic_parity_difference_ci" in s
    race = f["attributes"][1]
    check_summary(race["summary"]["all_groups"],
                  reference_all_groups(df, "race", 1, race["reference"]), "race, min-share 0")
    assert race["summary"]["chi_square"]["dof"] == 3


def test_intersections_match_pandas(audit, data, tmp_path):
    p, df = data
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "sex,race", "--prediction", "pred",
                 "--label", "label", "--bootstrap", "0", "--reference", "race=B")
    assert [x["name"] for x in f["intersections"]] == ["sex&race"]
    d = df.copy()
    known = (d["sex"].notna()) & (d["sex"] != "")
    d["sex&race"] = np.where(known, d["sex"].fillna("") + "&" + d["race"], "")
    x = f["intersections"][0]
    # group order: sex levels x race levels, each in natural order (issue 14)
    sex_lv = sorted(set(d.loc[known, "sex"]), key=str.lower)
    race_lv = sorted(set(d["race"].dropna()), key=str.lower)
    order = [f"{s}&{r}" for s in sex_lv for r in race_lv if ((d["sex&race"] == f"{s}&{r}").any())]
    assert [g["group"] for g in x["groups"]] == order
    # race=B carries into sex&race: its reference is the largest sex&B group (issue 15)
    carried = d.loc[known & (d["race"] == "B"), "sex&race"].value_counts()
    assert carried.iloc[0] > carried.iloc[1]          # no tie to break
    check_attr(x, d, "sex&race", 1, score=False, ordered=False, ref=carried.index[0])
    assert x["reference_source"] == "largest group with race=B"
    check_attr(f["attributes"][1], df, "race", 1, score=False, ref="B")
    assert f["attributes"][1]["reference_source"] == "given"


def test_without_label_only_label_free(audit, data, tmp_path):
    p, df = data
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "race", "--prediction", "pred",
                 "--bootstrap", "0")
    g = f["attributes"][0]["groups"][0]
    assert "selection_rate" in g and "tpr" not in g and "base_rate" not in g
    exp = df.groupby("race", sort=False)["pred"].mean()
    for g in f["attributes"][0]["groups"]:
        assert close(g["selection_rate"], exp[g["group"]])
    s = f["attributes"][0]["summary"]
    assert "equalized_odds_difference" not in s
    assert close(s["demographic_parity_difference"],
                 exp.drop("D").max() - exp.drop("D").min())
    # all_groups without a label: demographic parity and chi-square over every group, D too
    assert sorted(s["all_groups"]) == ["chi_square", "demographic_parity_difference",
                                       "demographic_parity_ratio"]
    check_summary(s["all_groups"], reference_all_groups(df, "race", 1, "A", label=False),
                  "race, no label")
    assert close(s["all_groups"]["demographic_parity_difference"], exp.max() - exp.min())


def test_bootstrap_interval_agrees_with_row_resampling(audit, data, tmp_path):
    """Our multinomial bootstrap vs a numpy row-resampling bootstrap (2000 resamples each, other
    seeds): the percentile endpoints of demographic_parity_difference agree within 20% of the
    interval width (Monte Carlo error of two independent 2000-resample bootstraps is ~5%)."""
    p, df = data
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "race", "--prediction", "pred",
                 "--label", "label", "--bootstrap", "2000", "--seed", "11")
    s = f["attributes"][0]["summary"]
    lo, hi = s["demographic_parity_difference_ci"]
    d = df[df["race"] != "D"]
    codes = d["race"].map({"A": 0, "B": 1, "C": 2}).values
    pred = d["pred"].values
    rng = np.random.default_rng(99)
    reps = []
    for _ in range(2000):
        idx = rng.integers(0, len(d), len(d))
        c, pr = codes[idx], pred[idx]
        rates = [pr[c == k].mean() for k in range(3)]
        reps.append(max(rates) - min(rates))
    elo, ehi = np.percentile(reps, [2.5, 97.5])
    w = ehi - elo
    assert abs(lo - elo) < 0.2 * w and abs(hi - ehi) < 0.2 * w, (lo, hi, elo, ehi)
    assert lo <= s["demographic_parity_difference"] <= hi


def test_threads_do_not_change_results(audit, data, tmp_path):
    p, _ = data
    outs = []
    for t in ("1", "3", "8"):
        out = tmp_path / f"t{t}.json"
        r = audit("fairness", "--data", p, "--sensitive", "sex,race", "--score", "score",
                  "--threshold", "0.4", "--label", "label", "--bootstrap", "300", "--seed", "5",
                  "--threads", t, "--json", out, "--created", "2026-01-01T00:00:00Z")
        assert r.code == 0, r
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_three_attributes_all_intersections(audit, data, tmp_path):
    """Three attributes: the three pairs and the triple, counts and selection rates vs pandas
    groupby over the rows where every value is known; --min-count marks small groups."""
    p, df = data
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "sex,race,grp01", "--prediction",
                 "pred", "--bootstrap", "0", "--min-count", "100")
    names = [x["name"] for x in f["intersections"]]
    assert names == ["sex&race", "sex&grp01", "race&grp01", "sex&race&grp01"]
    d = df.copy()
    d["grp01"] = d["grp01"].map(lambda v: "%g" % v if v == v else None)
    d.loc[d["sex"] == "", "sex"] = None
    for x in f["intersections"]:
        cols = x["name"].split("&")
        known = d[cols].notna().all(axis=1)
        g = d[known].groupby(cols)["pred"].agg(["count", "mean"])
        exp = {"&".join(k): (c, m) for k, (c, m) in zip(g.index, g.values)}
        assert x["unknown"] == int((~known).sum())
        assert sorted(gr["group"] for gr in x["groups"]) == sorted(exp)
        for gr in x["groups"]:
            c, m = exp[gr["group"]]
            assert gr["count"] == c
            assert close(gr["selection_rate"], m)
            assert gr["small"] == (c < 100 or c / known.sum() < 0.02)


@pytest.mark.parametrize("n", [3000, 70000])
def test_score_metrics_continuous_scores_and_signed_zeros(audit, tmp_path, n):
    """AUC, Brier and ECE with unrounded scores against sklearn: 3,000 rows (distinct scores
    ranked by hashing) and 70,000 rows (more distinct scores than the hash table takes: ranked
    by the radix sort). Scores -0.0 and 0.0 must tie, as in sklearn."""
    rng = np.random.default_rng(17)
    sex = rng.choice(["f", "m", "x"], size=n, p=[0.45, 0.5, 0.05]).astype(object)
    logit = rng.normal(0, 1.5, n)
    score = 1 / (1 + np.exp(-logit))
    score[:40] = 0.0
    y = (rng.random(n) < score).astype(float)
    y[:40] = np.arange(40) % 2
    y[rng.random(n) < 0.03] = np.nan
    lines = ["sex,label,score"]
    for i in range(n):
        s = ("-0.0" if i % 2 == 0 else "0") if i < 40 else repr(float(score[i]))
        lab = "" if np.isnan(y[i]) else "%d" % y[i]
        lines.append("%s,%s,%s" % (sex[i], lab, s))
    p = tmp_path / "cont.csv"
    p.write_text("\n".join(lines) + "\n")
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "sex", "--score", "score",
                 "--threshold", "0.5", "--label", "label", "--bootstrap", "0")
    df = pd.read_csv(p, float_precision="round_trip", keep_default_na=False,
                     na_values={"label": [""]})
    assert (np.signbit(df["score"].values[:40]) == (np.arange(40) % 2 == 0)).all()
    for g in f["attributes"][0]["groups"]:
        d = df[(df["sex"] == g["group"]) & df["label"].notna()]
        yy, ss = d["label"].values, d["score"].values
        pt, pp = calibration_curve(yy, ss, n_bins=10, strategy="uniform")
        ids = np.searchsorted(np.linspace(0.0, 1.0, 11)[1:-1], ss)
        cnt = np.bincount(ids, minlength=10)
        cnt = cnt[cnt > 0]
        exp = {"auc": roc_auc_score(yy, ss), "brier": brier_score_loss(yy, ss),
               "ece": float(np.sum(cnt / len(ss) * np.abs(pt - pp)))}
        for k, v in exp.items():
            assert close(g[k], v), (g["group"], k, g[k], v)


def test_signed_gap_interval_follows_its_group_pair(audit, tmp_path):
    """Issue 14: a planted tie. Groups B and C sit 0.2 above and below the reference A in TPR
    (and FPR), so the signed worst-case gaps equal_opportunity_difference and
    average_odds_difference report one of them (+-0.2; which one is decided by the last bit of
    the rates). Taking the worst group anew in every resample flips the sign (shown below with
    numpy: that interval straddles 0); ours follows the reported pair (`NAME_group`) and agrees
    with a numpy row-resampling bootstrap of that pair's gap within 20% of the interval width
    (two independent 2000-resample bootstraps)."""
    rows = []
    for g, tpr, fpr in (("A", 0.5, 0.3), ("B", 0.7, 0.5), ("C", 0.3, 0.1)):
        for i in range(1000):
            y = int(i < 500)
            k = i if y else i - 500
            pred = int(k < (tpr if y else fpr) * 500)
            rows.append((g, y, pred))
    df = pd.DataFrame(rows, columns=["g", "label", "pred"])
    p = tmp_path / "tie.csv"
    df.to_csv(p, index=False)
    f = run_json(audit, tmp_path, "--data", p, "--sensitive", "g", "--prediction", "pred",
                 "--label", "label", "--reference", "g=A", "--bootstrap", "2000", "--seed", "3")
    s = f["attributes"][0]["summary"]
    gi = {"A": 0, "B": 1, "C": 2}
    codes = df["g"].map(gi).values
    y, pr = df["label"].values, df["pred"].values
    rng = np.random.default_rng(7)
    tprs, fprs = [], []
    for _ in range(2000):
        idx = rng.integers(0, len(df), len(df))
        c, yy, pp = codes[idx], y[idx], pr[idx]
        tprs.append([pp[(c == k) & (yy == 1)].mean() for k in range(3)])
        fprs.append([pp[(c == k) & (yy == 0)].mean() for k in range(3)])
    tprs, fprs = np.array(tprs), np.array(fprs)
    worst = [max([t[1] - t[0], t[2] - t[0]], key=abs) for t in tprs]
    wlo, whi = np.percentile(worst, [2.5, 97.5])
    assert wlo < 0 < whi   # the planted tie: a worst-per-resample interval flips sign
    for name in ("equal_opportunity_difference", "average_odds_difference"):
        g = gi[s[name + "_group"]]
        assert g in (1, 2) and close(abs(s[name]), 0.2), (name, s[name])
        sign = 1 if g == 1 else -1
        assert sign * s[name] > 0
        lo, hi = s[name + "_ci"]
        assert lo <= s[name] <= hi and (lo > 0 or hi < 0), (name, lo, hi)   # one sign
        gap = tprs[:, g] - tprs[:, 0]
        if name == "average_odds_difference":
            gap = ((fprs[:, g] - fprs[:, 0]) + gap) / 2
        elo, ehi = np.percentile(gap, [2.5, 97.5])
        w = ehi - elo
        assert abs(lo - elo) < 0.2 * w and abs(hi - ehi) < 0.2 * w, (name, lo, hi, elo, ehi)
