/* pdf_misc.c - the Performance section (overall and by group) and the methods appendix:
 * conventions of this run and the definition of every metric and test. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void aud_pdf_write_performance(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Attribute", 80, PDF_AL_LEFT}, {"Group", 115, PDF_AL_LEFT},
                                   {"Rows", 55, PDF_AL_RIGHT},     {"AUC", 60, PDF_AL_RIGHT},
                                   {"Accuracy", 60, PDF_AL_RIGHT}, {"Log-loss", 60, PDF_AL_RIGHT},
                                   {"Brier", 65, PDF_AL_RIGHT}};
    static const char *const keys[] = {"auc", "accuracy", "log_loss", "brier_score"};
    const cJSON *p = aud_rpt_obj(d->doc, "performance");
    const cJSON *o, *g;
    char t[RPT_NUMBUF];
    pdf_table tab;
    if (p == NULL) {
        const char *why = aud_rpt_skip_reason(d->doc, "performance");
        aud_pdf_section_not_run(d, "Performance", why != NULL ? why : "the results document has no performance section");
        return;
    }
    aud_pdf_section(d, "Performance");
    o = aud_rpt_obj(p, "overall");
    if (aud_rpt_str(p, "label", NULL) != NULL)
        aud_pdf_kv(d, "Label column", aud_rpt_str(p, "label", ""));
    if (o != NULL) {
        aud_pdf_kv(d, "Rows", aud_rpt_fmt(aud_rpt_num(o, "rows"), RPT_INT, t));
        aud_pdf_kv(d, "AUC", aud_rpt_fmt(aud_rpt_num(o, "auc"), RPT_F3, t));
        aud_pdf_kv(d, "Accuracy", aud_rpt_fmt(aud_rpt_num(o, "accuracy"), RPT_F3, t));
        aud_pdf_kv(d, "Log-loss", aud_rpt_fmt(aud_rpt_num(o, "log_loss"), RPT_F3, t));
        if (cJSON_GetObjectItemCaseSensitive(o, "brier_score") != NULL)
            aud_pdf_kv(d, "Brier score", aud_rpt_fmt(aud_rpt_num(o, "brier_score"), RPT_F3, t));
    }
    d->y -= 8.0f;
    if (aud_rpt_count(aud_rpt_arr(p, "by_group")) == 0)
        return;
    aud_pdf_subsection(d, "By group", 80.0f);
    aud_pdf_table_begin(d, &tab, cols, 7, 7.5f);
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group")) {
        char r[RPT_NUMBUF], v[4][RPT_NUMBUF];
        const char *cells[7] = {aud_rpt_str(g, "attribute", ""), aud_rpt_str(g, "group", "?"),
                                aud_rpt_fmt(aud_rpt_num(g, "rows"), RPT_INT, r), NULL, NULL, NULL, NULL};
        int st[7] = {PDF_CELL_MUTED, 0, 0, 0, 0, 0, 0};
        for (int k = 0; k < 4; k++) {
            cells[3 + k] = aud_rpt_fmt(aud_rpt_num(g, keys[k]), RPT_F3, v[k]);
            if (!isfinite(aud_rpt_num(g, keys[k])))
                st[3 + k] = PDF_CELL_MUTED;
        }
        aud_pdf_table_row(d, &tab, cells, st);
    }
    d->y -= 4.0f;
    for (int k = 0; o != NULL && k < 4; k++) {   /* a reason of every row: once */
        const char *all = aud_rpt_null_reason(o, keys[k]);
        char line[400];
        if (all == NULL || isfinite(aud_rpt_num(o, keys[k])))
            continue;
        snprintf(line, sizeof line, "%s n/a (%s).", aud_rpt_metric_label(keys[k]), all);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
    }
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group")) {
        for (int k = 0; k < 4; k++) {
            const char *why = aud_rpt_null_reason(g, keys[k]);
            char line[400];
            const char *all = aud_rpt_null_reason(o, keys[k]);
            if (why == NULL || isfinite(aud_rpt_num(g, keys[k])) ||
                (all != NULL && strcmp(all, why) == 0))   /* said once, below */
                continue;
            snprintf(line, sizeof line, "%s %s: %s n/a (%s).", aud_rpt_str(g, "attribute", ""),
                     aud_rpt_str(g, "group", "?"), aud_rpt_metric_label(keys[k]), why);
            aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
        }
    }
}

static void definition(pdf_doc *d, const char *key)
{
    const char *def = aud_rpt_metric_definition(key);
    char line[700];
    if (def == NULL)
        return;
    aud_pdf_need(d, 24.0f);
    aud_pdf_text(d, d->bold, 8.0f, PDF_LEFT, d->y, AUD_PDF_BLACK, aud_rpt_metric_label(key));
    d->y -= 11.0f;
    snprintf(line, sizeof line, "%s", def);
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT + 12.0f, PDF_CW - 12.0f, AUD_PDF_GREY, line);
    d->y -= 3.0f;
}

static void conventions(pdf_doc *d)
{
    const cJSON *exp = aud_rpt_obj(d->doc, "explanations");
    const cJSON *f = aud_rpt_obj(d->doc, "fairness");
    const cJSON *dr = aud_rpt_obj(d->doc, "drift");
    const cJSON *a;
    char buf[600], t[RPT_NUMBUF];
    aud_pdf_subsection(d, "Conventions of this run", 80.0f);
    if (exp != NULL) {
        snprintf(buf, sizeof buf,
                 "Explanations: SHAP method \"%s\" on the %s output; background: %s. Features are "
                 "ranked by mean |SHAP| over the explained rows; plots use at most 2,000 sampled "
                 "rows per feature.",
                 aud_rpt_str(exp, "method", "?"), aud_rpt_str(exp, "output", "raw"),
                 aud_rpt_str(exp, "background", "as the method defines"));
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
        d->y -= 3.0f;
    }
    if (f != NULL) {
        char fav[64];
        aud_rpt_fmt_value(cJSON_GetObjectItemCaseSensitive(f, "favorable"), fav, sizeof fav);
        snprintf(buf, sizeof buf,
                 "Fairness: the favourable outcome is %s and is treated as the positive class of "
                 "every rate; predictions are favourable at a score threshold of %s. Intervals are "
                 "95%% Wilson score intervals.",
                 cJSON_GetObjectItemCaseSensitive(f, "favorable") != NULL ? fav : "1",
                 aud_rpt_fmt(aud_rpt_num(f, "threshold"), RPT_F3, t));
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
        if (aud_rpt_obj(f, "bootstrap") != NULL) {
            const cJSON *bs = aud_rpt_obj(f, "bootstrap");
            char n[RPT_NUMBUF], sd[RPT_NUMBUF], cl[RPT_NUMBUF];
            snprintf(buf, sizeof buf,
                     "Summary-metric intervals: %s bootstrap, %s resamples, seed %s, confidence "
                     "level %s.",
                     aud_rpt_str(bs, "method", "percentile"), aud_rpt_fmt(aud_rpt_num(bs, "resamples"), RPT_INT, n),
                     aud_rpt_fmt(aud_rpt_num(bs, "seed"), RPT_INT, sd),
                     aud_rpt_fmt(aud_rpt_num(f, "confidence_level"), RPT_F3, cl));
            aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
        }
        {
            double mc = aud_rpt_num(f, "min_count"), ms = aud_rpt_num(f, "min_share");
            char n[RPT_NUMBUF], sh[RPT_NUMBUF], rule[160] = "";
            if (isfinite(mc) && mc > 0 && isfinite(ms) && ms > 0)
                snprintf(rule, sizeof rule, "fewer than %s rows or a share under %s of the rows",
                         aud_rpt_fmt(mc, RPT_INT, n), aud_rpt_fmt(ms, RPT_PCT1, sh));
            else if (isfinite(mc) && mc > 0)
                snprintf(rule, sizeof rule, "fewer than %s rows", aud_rpt_fmt(mc, RPT_INT, n));
            else if (isfinite(ms) && ms > 0)
                snprintf(rule, sizeof rule, "a share under %s of the rows",
                         aud_rpt_fmt(ms, RPT_PCT1, sh));
            if (rule[0] != '\0') {
                snprintf(buf, sizeof buf,
                         "Small groups (marked \xe2\x80\xa0, excluded from group verdicts): %s.",
                         rule);
                aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            cJSON_ArrayForEach(a, aud_rpt_arr(f, pass == 0 ? "attributes" : "intersections")) {
                const char *src = aud_rpt_str(a, "reference_source", NULL);
                snprintf(buf, sizeof buf, "Reference group of %s: %s%s%s%s.",
                         aud_rpt_str(a, "name", "?"), aud_rpt_str(a, "reference", "the largest group"),
                         src != NULL ? " (" : "", src != NULL ? src : "", src != NULL ? ")" : "");
                aud_pdf_para(d, d->font, 8.0f, PDF_LEFT + 12.0f, PDF_CW - 12.0f, AUD_PDF_BLACK, buf);
            }
        }
        d->y -= 3.0f;
    }
    if (dr != NULL) {
        snprintf(buf, sizeof buf,
                 "Drift: missing values are dropped before each test; each column's primary test "
                 "follows Evidently's rules unless overridden; PSI bins: %s; dataset drift when the "
                 "share of drifted columns is at least %s.",
                 aud_rpt_str(dr, "psi_binning", "quantile"),
                 aud_rpt_fmt(aud_rpt_num(dr, "share_threshold"), RPT_F3, t));
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
    }
    if (exp == NULL && f == NULL && dr == NULL)
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, "No analysis section was run.");
    d->y -= 8.0f;
}

void aud_pdf_write_methods(pdf_doc *d)
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
    aud_pdf_section(d, "Methods appendix");
    conventions(d);
    aud_pdf_subsection(d, "Explanations", 40.0f);
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK,
             "SHAP values (Lundberg and Lee 2017; TreeSHAP, Lundberg et al. 2020) split each "
             "prediction into additive feature contributions: base value + sum of SHAP values = "
             "model output (raw margin unless stated). The additivity error is the largest "
             "deviation from that identity over the explained rows.");
    d->y -= 3.0f;
    definition(d, "mean_abs");
    aud_pdf_subsection(d, "Fairness metrics and tests", 40.0f);
    for (size_t i = 0; fair_keys[i] != NULL; i++)
        definition(d, fair_keys[i]);
    aud_pdf_subsection(d, "Drift tests", 40.0f);
    for (size_t i = 0; drift_keys[i] != NULL; i++)
        definition(d, drift_keys[i]);
    aud_pdf_subsection(d, "Performance", 40.0f);
    for (size_t i = 0; perf_keys[i] != NULL; i++)
        definition(d, perf_keys[i]);
}
