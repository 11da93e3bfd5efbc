/* fair_json.c - the "fairness" object of results.json (SPEC section 5): exact numbers through
 * aud_json_num, undefined figures as null plus "<name>_reason". */
#include "metrics/fairness.h"
#include "core/io.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Every helper returns 0, or -1 when cJSON ran out of memory. */
static int add_val(cJSON *o, const char *name, aud_fair_val v)
{
    if (aud_json_add_num(o, name, v.v) != 0)
        return -1;
    if (isnan(v.v)) {
        char key[128];
        snprintf(key, sizeof key, "%s_reason", name);
        if (cJSON_AddStringToObject(o, key, v.why ? v.why : "undefined") == NULL)
            return -1;
    }
    return 0;
}

static int add_ci(cJSON *o, const char *name, double lo, double hi)
{
    char key[128];
    snprintf(key, sizeof key, "%s_ci", name);
    if (isnan(lo) || isnan(hi))
        return cJSON_AddNullToObject(o, key) == NULL ? -1 : 0;
    cJSON *a = cJSON_AddArrayToObject(o, key);
    if (a == NULL)
        return -1;
    cJSON *l = aud_json_num(lo), *h = aud_json_num(hi);
    if (l == NULL || !cJSON_AddItemToArray(a, l)) {
        cJSON_Delete(l);
        cJSON_Delete(h);
        return -1;
    }
    if (h == NULL || !cJSON_AddItemToArray(a, h)) {
        cJSON_Delete(h);
        return -1;
    }
    return 0;
}

static int add_count(cJSON *o, const char *name, uint64_t v)
{
    return aud_json_add_num(o, name, (double)v);
}

static int add_bool(cJSON *o, const char *name, int b)
{
    return cJSON_AddBoolToObject(o, name, b) == NULL ? -1 : 0;
}

static int add_str(cJSON *o, const char *name, const char *s)
{
    return cJSON_AddStringToObject(o, name, s) == NULL ? -1 : 0;
}

static int group_json(const aud_fair_result *res, const aud_fair_attr_result *ar, size_t g,
                      cJSON *arr)
{
    const aud_fair_group *gr = &ar->groups[g];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    const aud_fair_counts *c = &gr->c;
    char why[160];
    if (add_str(o, "group", gr->name) || add_count(o, "count", c->n) ||
        aud_json_add_num(o, "share", gr->share) || add_bool(o, "small", gr->small) ||
        add_bool(o, "excluded_from_verdict", gr->small) ||
        add_bool(o, "reference", g == ar->reference) ||
        add_bool(o, "highest_selection_rate", g == ar->highest && !gr->small))
        return -1;
    if (gr->small) {
        if (gr->share < res->min_share)
            snprintf(why, sizeof why, "share %.4g is under the minimum share %.4g; excluded from "
                     "the summary and the impact-ratio verdict", gr->share, res->min_share);
        else
            snprintf(why, sizeof why, "count is under the minimum count %llu; excluded from the "
                     "summary and the impact-ratio verdict", (unsigned long long)res->min_count);
        if (add_str(o, "excluded_reason", why))
            return -1;
    }
    if (res->has_label) {
        uint64_t lab = c->tp + c->fp + c->tn + c->fn;
        if (add_count(o, "labelled", lab) || add_count(o, "tp", c->tp) ||
            add_count(o, "fp", c->fp) || add_count(o, "tn", c->tn) || add_count(o, "fn", c->fn))
            return -1;
    }
    if (add_count(o, "selected", c->sel))
        return -1;
    for (int r = 0; r < AUD_FAIR_N_RATES; r++) {
        if (!res->has_label && r != AUD_FAIR_SELECTION_RATE)
            continue;
        const char *nm = aud_fair_rate_name(r);
        if (add_val(o, nm, gr->rate[r]) || add_ci(o, nm, gr->rate_lo[r], gr->rate_hi[r]))
            return -1;
    }
    for (int r = 0; r < AUD_FAIR_N_RATES; r++) {
        if (!res->has_label && r != AUD_FAIR_SELECTION_RATE)
            continue;
        char key[96];
        snprintf(key, sizeof key, "%s_difference", aud_fair_rate_name(r));
        if (add_val(o, key, gr->diff[r]))
            return -1;
        snprintf(key, sizeof key, "%s_ratio", aud_fair_rate_name(r));
        if (add_val(o, key, gr->ratio[r]))
            return -1;
    }
    if (add_val(o, "disparate_impact", gr->disparate_impact) ||
        add_val(o, "impact_ratio", gr->impact_ratio))
        return -1;
    /* Katz intervals of both ratios (none for the group compared with itself); findings use
     * them to tell a clear failure from one whose interval holds the bound */
    const aud_fair_counts *rc = &ar->groups[ar->reference].c, *hc = &ar->groups[ar->highest].c;
    if (g != ar->reference && !isnan(gr->disparate_impact.v)) {
        double lo, hi;
        aud_fair_katz(c->sel, c->n, rc->sel, rc->n, res->level, &lo, &hi);
        if (add_ci(o, "disparate_impact", lo, hi))
            return -1;
    }
    if (g != ar->highest && !isnan(gr->impact_ratio.v)) {
        double lo, hi;
        aud_fair_katz(c->sel, c->n, hc->sel, hc->n, res->level, &lo, &hi);
        if (add_ci(o, "impact_ratio", lo, hi))
            return -1;
    }
    if (gr->below_four_fifths < 0) {   /* undefined ratio: the flag is undefined too */
        if (!cJSON_AddNullToObject(o, "below_four_fifths") ||
            !cJSON_AddStringToObject(o, "below_four_fifths_reason",
                                     "impact_ratio is undefined"))
            return -1;
    } else if (add_bool(o, "below_four_fifths", gr->below_four_fifths)) {
        return -1;
    }
    if (add_val(o, "fisher_p_value", gr->fisher_p))
        return -1;
    if (res->has_label) {
        if (add_val(o, "equal_opportunity_difference", gr->eop_diff) ||
            add_val(o, "average_odds_difference", gr->aod) ||
            add_val(o, "average_abs_odds_difference", gr->aaod))
            return -1;
        if (res->has_score && (add_val(o, "auc", gr->auc) || add_val(o, "brier", gr->brier) ||
                               add_val(o, "ece", gr->ece)))
            return -1;
    }
    return 0;
}

/* The summary figures sum and the chi-square test into s; with_ci adds the bootstrap
 * intervals of ar (the headline summary), without them it is the all_groups object. */
static int summary_json(const aud_fair_result *res, const aud_fair_attr_result *ar,
                        const aud_fair_val *sum, aud_fair_val chi2_stat, long chi2_dof,
                        aud_fair_val chi2_p, int with_ci, cJSON *s)
{
    for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
        if (!res->has_label && m != AUD_FAIR_DP_DIFF && m != AUD_FAIR_DP_RATIO)
            continue;
        const char *nm = aud_fair_sum_name(m);
        if (add_val(s, nm, sum[m]))
            return -1;
        if (with_ci && ar->sum_pair[m] != SIZE_MAX) {   /* the pair a signed gap is of */
            char key[128];
            snprintf(key, sizeof key, "%s_group", nm);
            if (add_str(s, key, ar->groups[ar->sum_pair[m]].name))
                return -1;
        }
        if (with_ci && res->n_bootstrap > 0) {
            if (add_ci(s, nm, ar->sum_lo[m], ar->sum_hi[m]))
                return -1;
            if (ar->sum_ci_why[m] != NULL) {
                char key[128];
                snprintf(key, sizeof key, "%s_ci_reason", nm);
                if (add_str(s, key, ar->sum_ci_why[m]))
                    return -1;
            }
        }
    }
    cJSON *chi = cJSON_AddObjectToObject(s, "chi_square");
    if (chi == NULL || add_val(chi, "statistic", chi2_stat) ||
        aud_json_add_num(chi, "dof", (double)chi2_dof) || add_val(chi, "p_value", chi2_p))
        return -1;
    return 0;
}

static int attr_json(const aud_fair_result *res, const aud_fair_attr_result *ar, cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    char source[600];
    snprintf(source, sizeof source, "%s%s",
             ar->reference_given ? "given" : "largest group",
             ar->reference_carried != NULL ? " with " : "");
    if (ar->reference_carried != NULL)
        snprintf(source + strlen(source), sizeof source - strlen(source), "%s",
                 ar->reference_carried);
    if (add_str(o, "name", ar->name) || add_str(o, "reference", ar->groups[ar->reference].name) ||
        add_str(o, "reference_source", source) ||
        (ar->group_order != NULL && add_str(o, "group_order", ar->group_order)) ||
        (ar->similar_groups != NULL && add_str(o, "similar_groups", ar->similar_groups)) ||
        add_count(o, "rows", ar->n_known) || add_count(o, "unknown", ar->n_unknown) ||
        add_count(o, "small_groups", ar->n_small))
        return -1;
    if (ar->groups[ar->highest].small) {
        if (cJSON_AddNullToObject(o, "highest_group") == NULL)
            return -1;
    } else if (add_str(o, "highest_group", ar->groups[ar->highest].name)) {
        return -1;
    }
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    if (groups == NULL)
        return -1;
    for (size_t g = 0; g < ar->n_groups; g++)
        if (group_json(res, ar, g, groups))
            return -1;
    cJSON *s = cJSON_AddObjectToObject(o, "summary");
    if (s == NULL || summary_json(res, ar, ar->sum, ar->chi2_stat, ar->chi2_dof, ar->chi2_p, 1, s))
        return -1;
    cJSON *ex = cJSON_AddArrayToObject(s, "excluded_groups");
    if (ex == NULL)
        return -1;
    for (size_t g = 0; g < ar->n_groups; g++) {
        if (!ar->groups[g].small)
            continue;
        cJSON *nm = cJSON_CreateString(ar->groups[g].name);
        if (nm == NULL || !cJSON_AddItemToArray(ex, nm)) {
            cJSON_Delete(nm);
            return -1;
        }
    }
    cJSON *all = cJSON_AddObjectToObject(s, "all_groups");
    if (all == NULL || summary_json(res, ar, ar->sum_all, ar->chi2_all_stat, ar->chi2_all_dof,
                                    ar->chi2_all_p, 0, all))
        return -1;
    return 0;
}

static int ll144_json(const aud_fair_result *res, cJSON *f)
{
    cJSON *comp = cJSON_AddObjectToObject(f, "compliance");
    cJSON *o = comp ? cJSON_AddObjectToObject(comp, "nyc_ll144") : NULL;
    if (o == NULL)
        return -1;
    const char *rate = res->ll144_scoring ? "scoring_rate" : "selection_rate";
    if (add_str(o, "rate", rate) || aud_json_add_num(o, "min_share", res->min_share))
        return -1;
    if (res->ll144_scoring && aud_json_add_num(o, "median_score", res->ll144_median))
        return -1;
    cJSON *tabs = cJSON_AddArrayToObject(o, "tables");
    if (tabs == NULL)
        return -1;
    for (size_t t = 0; t < res->n_ll144; t++) {
        const aud_fair_ll144_table *tb = &res->ll144[t];
        cJSON *to = cJSON_CreateObject();
        if (to == NULL || !cJSON_AddItemToArray(tabs, to)) {
            cJSON_Delete(to);
            return -1;
        }
        if (add_str(to, "name", tb->name) || add_count(to, "unknown", tb->n_unknown))
            return -1;
        cJSON *cats = cJSON_AddArrayToObject(to, "categories");
        if (cats == NULL)
            return -1;
        for (size_t j = 0; j < tb->n_cats; j++) {
            cJSON *co = cJSON_CreateObject();
            if (co == NULL || !cJSON_AddItemToArray(cats, co)) {
                cJSON_Delete(co);
                return -1;
            }
            if (add_str(co, "category", tb->cats[j]) || add_count(co, "count", tb->count[j]) ||
                aud_json_add_num(co, "share", tb->share[j]) || add_val(co, rate, tb->rate[j]) ||
                add_val(co, "impact_ratio", tb->impact_ratio[j]) ||
                (tb->below_four_fifths[j] < 0
                     ? cJSON_AddNullToObject(co, "below_four_fifths") == NULL
                     : add_bool(co, "below_four_fifths", tb->below_four_fifths[j])) ||
                add_bool(co, "excluded", tb->excluded[j]))
                return -1;
        }
    }
    return 0;
}

static int fairness_json(const aud_fair_result *res, cJSON *f)
{
    if (aud_json_add_num(f, "favorable", (double)res->favorable))
        return -1;
    if (isnan(res->threshold)) {
        if (cJSON_AddNullToObject(f, "threshold") == NULL ||
            add_str(f, "threshold_reason", "predictions were given"))
            return -1;
    } else if (aud_json_add_num(f, "threshold", res->threshold)) {
        return -1;
    }
    if (add_count(f, "rows", res->n_rows) || add_bool(f, "label", res->has_label) ||
        aud_json_add_num(f, "confidence_level", res->level) ||
        aud_json_add_num(f, "min_share", res->min_share) ||
        add_count(f, "min_count", res->min_count))
        return -1;
    cJSON *b = cJSON_AddObjectToObject(f, "bootstrap");
    if (b == NULL || add_count(b, "resamples", res->n_bootstrap) ||
        aud_json_add_num(b, "seed", (double)res->seed) || add_str(b, "method", "percentile"))
        return -1;
    cJSON *attrs = cJSON_AddArrayToObject(f, "attributes");
    if (attrs == NULL)
        return -1;
    for (size_t a = 0; a < res->n_attrs; a++)
        if (attr_json(res, &res->attrs[a], attrs))
            return -1;
    cJSON *inters = cJSON_AddArrayToObject(f, "intersections");
    if (inters == NULL)
        return -1;
    for (size_t a = 0; a < res->n_inters; a++)
        if (attr_json(res, &res->inters[a], inters))
            return -1;
    if (res->n_ll144 > 0 && ll144_json(res, f))
        return -1;
    return 0;
}

int aud_fair_to_json(const aud_fair_result *res, cJSON *doc, aud_error *err)
{
    cJSON *f = cJSON_CreateObject();
    if (f == NULL)
        return aud_error_nomem(err);
    if (fairness_json(res, f) != 0 || !cJSON_AddItemToObject(doc, "fairness", f)) {
        cJSON_Delete(f);
        return aud_error_nomem(err);
    }
    return AUD_OK;
}

/* ---- rates in words (issue 14 item 1) ---------------------------------------------------- */

const char *aud_fair_rate_meaning(int id, const char *label, int favorable, const char *outcome,
                                  char *buf, size_t size)
{
    const char *l = label != NULL ? label : "label";
    char yes[96], no[96], good[128], bad[128];
    snprintf(yes, sizeof yes, "%s", outcome != NULL ? outcome : "predicted favourable");
    snprintf(no, sizeof no, "not %s", outcome != NULL ? outcome : "predicted favourable");
    snprintf(good, sizeof good, "%s = %d (the favourable outcome)", l, favorable);
    snprintf(bad, sizeof bad, "%s = %d (the unfavourable outcome)", l, 1 - favorable);
    switch (id) {
    case AUD_FAIR_SELECTION_RATE: snprintf(buf, size, "share %s", yes); break;
    case AUD_FAIR_BASE_RATE: snprintf(buf, size, "share with %s", good); break;
    case AUD_FAIR_TPR: snprintf(buf, size, "%s among rows with %s", yes, good); break;
    case AUD_FAIR_FPR: snprintf(buf, size, "%s among rows with %s", yes, bad); break;
    case AUD_FAIR_TNR: snprintf(buf, size, "%s among rows with %s", no, bad); break;
    case AUD_FAIR_FNR: snprintf(buf, size, "%s among rows with %s", no, good); break;
    case AUD_FAIR_PPV: snprintf(buf, size, "share with %s among rows %s", good, yes); break;
    case AUD_FAIR_NPV: snprintf(buf, size, "share with %s among rows %s", bad, no); break;
    case AUD_FAIR_FDR: snprintf(buf, size, "share with %s among rows %s", bad, yes); break;
    case AUD_FAIR_FOR: snprintf(buf, size, "share with %s among rows %s", good, no); break;
    case AUD_FAIR_ACCURACY:
        snprintf(buf, size, "share whose prediction (%s or %s) matches %s", yes, no, l);
        break;
    default: snprintf(buf, size, "?"); break;
    }
    return buf;
}

int aud_fair_add_rate_meanings(cJSON *f, const char *label, int favorable, const char *outcome)
{
    cJSON_DeleteItemFromObjectCaseSensitive(f, "rate_meanings");
    cJSON *m = cJSON_AddObjectToObject(f, "rate_meanings");
    char buf[400];
    for (int r = 0; m != NULL && r < AUD_FAIR_N_RATES; r++) {
        if (cJSON_AddStringToObject(m, aud_fair_rate_name(r),
                                    aud_fair_rate_meaning(r, label, favorable, outcome, buf,
                                                          sizeof buf)) == NULL)
            return -1;
    }
    return m == NULL ? -1 : 0;
}
