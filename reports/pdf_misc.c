/* pdf_misc.c - the Performance section (overall and by group) and the methods appendix:
 * conventions of this run and the definition of every metric and test. */
#include "pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void pdf_write_performance(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Attribute", 80, PDF_AL_LEFT}, {"Group", 115, PDF_AL_LEFT},
                                   {"Rows", 55, PDF_AL_RIGHT},     {"AUC", 60, PDF_AL_RIGHT},
                                   {"Accuracy", 60, PDF_AL_RIGHT}, {"Log-loss", 60, PDF_AL_RIGHT},
                                   {"Brier", 65, PDF_AL_RIGHT}};
    static const char *const keys[] = {"auc", "accuracy", "log_loss", "brier_score"};
    const cJSON *p = rpt_obj(d->doc, "performance");
    const cJSON *o, *g;
    char t[RPT_NUMBUF];
    pdf_table tab;
    if (p == NULL) {
        const char *why = rpt_skip_reason(d->doc, "performance");
        pdf_section_not_run(d, "Performance", why != NULL ? why : "the results document has no performance section");
        return;
    }
    pdf_section(d, "Performance");
    o = rpt_obj(p, "overall");
    if (rpt_str(p, "label", NULL) != NULL)
        pdf_kv(d, "Label column", rpt_str(p, "label", ""));
    if (o != NULL) {
        pdf_kv(d, "Rows", rpt_fmt(rpt_num(o, "rows"), RPT_INT, t));
        pdf_kv(d, "AUC", rpt_fmt(rpt_num(o, "auc"), RPT_F3, t));
        pdf_kv(d, "Accuracy", rpt_fmt(rpt_num(o, "accuracy"), RPT_F3, t));
        pdf_kv(d, "Log-loss", rpt_fmt(rpt_num(o, "log_loss"), RPT_F3, t));
        if (cJSON_GetObjectItemCaseSensitive(o, "brier_score") != NULL)
            pdf_kv(d, "Brier score", rpt_fmt(rpt_num(o, "brier_score"), RPT_F3, t));
    }
    d->y -= 8.0f;
    if (rpt_count(rpt_arr(p, "by_group")) == 0)
        return;
    pdf_subsection(d, "By group", 80.0f);
    pdf_table_begin(d, &tab, cols, 7, 7.5f);
    cJSON_ArrayForEach(g, rpt_arr(p, "by_group")) {
        char r[RPT_NUMBUF], v[4][RPT_NUMBUF];
        const char *cells[7] = {rpt_str(g, "attribute", ""), rpt_str(g, "group", "?"),
                                rpt_fmt(rpt_num(g, "rows"), RPT_INT, r), NULL, NULL, NULL, NULL};
        int st[7] = {PDF_CELL_MUTED, 0, 0, 0, 0, 0, 0};
        for (int k = 0; k < 4; k++) {
            cells[3 + k] = rpt_fmt(rpt_num(g, keys[k]), RPT_F3, v[k]);
            if (!isfinite(rpt_num(g, keys[k])))
                st[3 + k] = PDF_CELL_MUTED;
        }
        pdf_table_row(d, &tab, cells, st);
    }
    d->y -= 4.0f;
    cJSON_ArrayForEach(g, rpt_arr(p, "by_group")) {
        for (int k = 0; k < 4; k++) {
            const char *why = rpt_null_reason(g, keys[k]);
            char line[400];
            if (why == NULL || isfinite(rpt_num(g, keys[k])))
                continue;
            snprintf(line, sizeof line, "%s %s: %s n/a (%s).", rpt_str(g, "attribute", ""),
                     rpt_str(g, "group", "?"), rpt_metric_label(keys[k]), why);
            pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, PDF_GREY, line);
        }
    }
}

static void definition(pdf_doc *d, const char *key)
{
    const char *def = rpt_metric_definition(key);
    char line[700];
    if (def == NULL)
        return;
    pdf_need(d, 24.0f);
    pdf_text(d, d->bold, 8.0f, PDF_LEFT, d->y, PDF_BLACK, rpt_metric_label(key));
    d->y -= 11.0f;
    snprintf(line, sizeof line, "%s", def);
    pdf_para(d, d->font, 8.0f, PDF_LEFT + 12.0f, PDF_CW - 12.0f, PDF_GREY, line);
    d->y -= 3.0f;
}

static void conventions(pdf_doc *d)
{
    const cJSON *exp = rpt_obj(d->doc, "explanations");
    const cJSON *f = rpt_obj(d->doc, "fairness");
    const cJSON *dr = rpt_obj(d->doc, "drift");
    const cJSON *a;
    char buf[600], t[RPT_NUMBUF];
    pdf_subsection(d, "Conventions of this run", 80.0f);
    if (exp != NULL) {
        snprintf(buf, sizeof buf,
                 "Explanations: SHAP method \"%s\" on the %s output; background: %s. Features are "
                 "ranked by mean |SHAP| over the explained rows; plots use at most 2,000 sampled "
                 "rows per feature.",
                 rpt_str(exp, "method", "?"), rpt_str(exp, "output", "raw"),
                 rpt_str(exp, "background", "as the method defines"));
        pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK, buf);
        d->y -= 3.0f;
    }
    if (f != NULL) {
        char fav[64];
        rpt_fmt_value(cJSON_GetObjectItemCaseSensitive(f, "favorable"), fav, sizeof fav);
        snprintf(buf, sizeof buf,
                 "Fairness: the favourable outcome is %s and is treated as the positive class of "
                 "every rate; predictions are favourable at a score threshold of %s. Intervals are "
                 "95%% Wilson score intervals.",
                 cJSON_GetObjectItemCaseSensitive(f, "favorable") != NULL ? fav : "1",
                 rpt_fmt(rpt_num(f, "threshold"), RPT_F3, t));
        pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK, buf);
        if (rpt_obj(f, "bootstrap") != NULL) {
            const cJSON *bs = rpt_obj(f, "bootstrap");
            char n[RPT_NUMBUF], sd[RPT_NUMBUF], cl[RPT_NUMBUF];
            snprintf(buf, sizeof buf,
                     "Summary-metric intervals: %s bootstrap, %s resamples, seed %s, confidence "
                     "level %s.",
                     rpt_str(bs, "method", "percentile"), rpt_fmt(rpt_num(bs, "resamples"), RPT_INT, n),
                     rpt_fmt(rpt_num(bs, "seed"), RPT_INT, sd),
                     rpt_fmt(rpt_num(f, "confidence_level"), RPT_F3, cl));
            pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK, buf);
        }
        {
            double mc = rpt_num(f, "min_count"), ms = rpt_num(f, "min_share");
            char n[RPT_NUMBUF], sh[RPT_NUMBUF], rule[160] = "";
            if (isfinite(mc) && mc > 0 && isfinite(ms) && ms > 0)
                snprintf(rule, sizeof rule, "fewer than %s rows or a share under %s of the rows",
                         rpt_fmt(mc, RPT_INT, n), rpt_fmt(ms, RPT_PCT1, sh));
            else if (isfinite(mc) && mc > 0)
                snprintf(rule, sizeof rule, "fewer than %s rows", rpt_fmt(mc, RPT_INT, n));
            else if (isfinite(ms) && ms > 0)
                snprintf(rule, sizeof rule, "a share under %s of the rows",
                         rpt_fmt(ms, RPT_PCT1, sh));
            if (rule[0] != '\0') {
                snprintf(buf, sizeof buf,
                         "Small groups (marked \xe2\x80\xa0, excluded from group verdicts): %s.",
                         rule);
                pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK, buf);
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            cJSON_ArrayForEach(a, rpt_arr(f, pass == 0 ? "attributes" : "intersections")) {
                const char *src = rpt_str(a, "reference_source", NULL);
                snprintf(buf, sizeof buf, "Reference group of %s: %s%s%s%s.",
                         rpt_str(a, "name", "?"), rpt_str(a, "reference", "the largest group"),
                         src != NULL ? " (" : "", src != NULL ? src : "", src != NULL ? ")" : "");
                pdf_para(d, d->font, 8.0f, PDF_LEFT + 12.0f, PDF_CW - 12.0f, PDF_BLACK, buf);
            }
        }
        d->y -= 3.0f;
    }
    if (dr != NULL) {
        snprintf(buf, sizeof buf,
                 "Drift: missing values are dropped before each test; each column's primary test "
                 "follows Evidently's rules unless overridden; PSI bins: %s; dataset drift when the "
                 "share of drifted columns is at least %s.",
                 rpt_str(dr, "psi_binning", "quantile"),
                 rpt_fmt(rpt_num(dr, "share_threshold"), RPT_F3, t));
        pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK, buf);
    }
    if (exp == NULL && f == NULL && dr == NULL)
        pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_GREY, "No analysis section was run.");
    d->y -= 8.0f;
}

void pdf_write_methods(pdf_doc *d)
{
    static const char *const fair_keys[] = {
        "count", "share", "base_rate", "selection_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv",
        "fdr", "false_omission_rate", "accuracy", "disparate_impact", "impact_ratio",
        "demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
        "equalized_odds_ratio", "equal_opportunity_difference", "average_odds_difference",
        "average_abs_odds_difference", "predictive_parity_difference", "theil_index",
        "generalized_entropy_index", "between_group_generalized_entropy_index", "chi_square",
        "fisher", NULL};
    static const char *const drift_keys[] = {"drift_share", "ks", "wasserstein",
                                             "wasserstein_normed", "psi", "jensen_shannon",
                                             "anderson_darling", "cramer_von_mises", "z_test",
                                             NULL};
    static const char *const perf_keys[] = {"auc", "accuracy", "log_loss", "brier_score", NULL};
    pdf_section(d, "Methods appendix");
    conventions(d);
    pdf_subsection(d, "Explanations", 40.0f);
    pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_BLACK,
             "SHAP values (Lundberg and Lee 2017; TreeSHAP, Lundberg et al. 2020) split each "
             "prediction into additive feature contributions: base value + sum of SHAP values = "
             "model output (raw margin unless stated). The additivity error is the largest "
             "deviation from that identity over the explained rows.");
    d->y -= 3.0f;
    definition(d, "mean_abs");
    pdf_subsection(d, "Fairness metrics and tests", 40.0f);
    for (size_t i = 0; fair_keys[i] != NULL; i++)
        definition(d, fair_keys[i]);
    pdf_subsection(d, "Drift tests", 40.0f);
    for (size_t i = 0; drift_keys[i] != NULL; i++)
        definition(d, drift_keys[i]);
    pdf_subsection(d, "Performance", 40.0f);
    for (size_t i = 0; perf_keys[i] != NULL; i++)
        definition(d, perf_keys[i]);
}
