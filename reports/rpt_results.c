/* rpt_results.c - typed accessors over a results document, display formats, metric labels and
 * the definitions printed in the methods appendix. */
#include "reports/rpt_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const cJSON *aud_rpt_obj(const cJSON *o, const char *key)
{
    const cJSON *v = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *aud_rpt_arr(const cJSON *o, const char *key)
{
    const cJSON *v = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsArray(v) ? v : NULL;
}

const char *aud_rpt_str(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : dflt;
}

double aud_rpt_item_num(const cJSON *item)
{
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

double aud_rpt_num(const cJSON *o, const char *key)
{
    return o != NULL ? aud_rpt_item_num(cJSON_GetObjectItemCaseSensitive(o, key)) : NAN;
}

int aud_rpt_bool(const cJSON *o, const char *key)
{
    const cJSON *v = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!cJSON_IsBool(v))
        return -1;
    return cJSON_IsTrue(v) ? 1 : 0;
}

size_t aud_rpt_count(const cJSON *arr)
{
    size_t n = 0;
    const cJSON *it;
    if (arr == NULL)
        return 0;
    cJSON_ArrayForEach(it, arr)
        n++;
    return n;
}

const char *aud_rpt_skip_reason(const cJSON *doc, const char *section)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, aud_rpt_arr(doc, "skipped")) {
        const char *s = aud_rpt_str(it, "section", NULL);
        if (s != NULL && strcmp(s, section) == 0)
            return aud_rpt_str(it, "reason", "no reason given");
    }
    return NULL;
}

const char *aud_rpt_null_reason(const cJSON *o, const char *key)
{
    char k[160];
    if (o == NULL || strlen(key) + 8 > sizeof k)
        return NULL;
    snprintf(k, sizeof k, "%s_reason", key);
    return aud_rpt_str(o, k, NULL);
}

const char *aud_rpt_row_feature_name(const cJSON *exp, size_t j)
{
    const cJSON *order = aud_rpt_arr(exp, "feature_order");
    const cJSON *list = order != NULL ? order : aud_rpt_arr(exp, "features");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, list) {
        if (i++ == j)
            return order != NULL ? (cJSON_IsString(it) ? it->valuestring : "?")
                                 : aud_rpt_str(it, "name", "?");
    }
    return "?";
}

const char *aud_rpt_fmt_feature_value(const cJSON *exp, size_t j, const cJSON *v, char *buf,
                                      size_t n)
{
    const char *name = aud_rpt_row_feature_name(exp, j);
    const cJSON *f, *c;
    if (cJSON_IsNumber(v)) {
        cJSON_ArrayForEach(f, aud_rpt_arr(exp, "features")) {
            if (strcmp(aud_rpt_str(f, "name", ""), name) != 0 || aud_rpt_bool(f, "nominal") != 1)
                continue;
            cJSON_ArrayForEach(c, aud_rpt_arr(f, "categories")) {
                if (aud_rpt_num(c, "code") == v->valuedouble &&
                    aud_rpt_str(c, "label", NULL) != NULL) {
                    snprintf(buf, n, "%s", aud_rpt_str(c, "label", ""));
                    return buf;
                }
            }
        }
    }
    return aud_rpt_fmt_value(v, buf, n);
}

size_t aud_rpt_row_width(const cJSON *exp)
{
    const cJSON *order = aud_rpt_arr(exp, "feature_order");
    return aud_rpt_count(order != NULL ? order : aud_rpt_arr(exp, "features"));
}

void aud_rpt_pd_axis(const cJSON *doc, const cJSON *pd, char *buf, size_t n)
{
    const cJSON *perf = aud_rpt_obj(doc, "performance");
    int auc = strcmp(aud_rpt_str(aud_rpt_obj(doc, "global"), "score", ""), "auc") == 0;
    if (cJSON_GetObjectItemCaseSensitive(pd, "class") != NULL)   /* multiclass: one class */
        snprintf(buf, n, "predicted P(class %.0f)", aud_rpt_num(pd, "class"));
    else if (auc && strcmp(aud_rpt_str(perf, "score", ""), "probability") == 0)
        snprintf(buf, n, "predicted P(%s = 1)", aud_rpt_str(perf, "label", "label"));
    else if (auc)   /* outputs in [0, 1], the label 0/1: a score, maybe not a probability */
        snprintf(buf, n, "model output (score of label 1)");
    else
        snprintf(buf, n, "model output (predicted value)");
}

void aud_rpt_shap_axis(const cJSON *doc, char *buf, size_t n)
{
    snprintf(buf, n, "SHAP value (%s)",
             aud_rpt_str(aud_rpt_obj(doc, "explanations"), "units", "model output units"));
}

void aud_rpt_command(const cJSON *doc, char *buf, size_t n)
{
    const char *cmd = aud_rpt_str(aud_rpt_obj(doc, "provenance"), "command", NULL);
    const cJSON *m = aud_rpt_obj(doc, "merge");
    double shards = aud_rpt_num(m, "shards");
    if (m != NULL && isfinite(shards))
        snprintf(buf, n, "audit merge of %.0f partials (audit %s --shard)", shards,
                 cmd != NULL ? cmd : "run");
    else if (m != NULL)
        snprintf(buf, n, "audit merge");
    else if (cmd != NULL)
        snprintf(buf, n, "audit %s", cmd);
    else
        buf[0] = '\0';
}

void aud_rpt_score_bins(const cJSON *doc, char *buf, size_t n)
{
    const cJSON *sb = aud_rpt_obj(aud_rpt_obj(doc, "merge"), "score_bins");
    const cJSON *b = aud_rpt_obj(aud_rpt_obj(aud_rpt_obj(aud_rpt_obj(doc, "performance"),
                                                         "overall"), "score_bins"), "bounds");
    char w[RPT_NUMBUF], auc[RPT_NUMBUF], brier[RPT_NUMBUF];
    buf[0] = '\0';
    if (sb == NULL)
        return;
    snprintf(buf, n, "the partials binned the model scores (bins %s wide, relative): AUC within "
             "%s, Brier score within %s of the single run's; every score-based figure's bound "
             "is in results.json", aud_rpt_fmt(aud_rpt_num(sb, "relative_width"), RPT_G, w),
             aud_rpt_fmt(aud_rpt_num(b, "auc"), RPT_G, auc),
             aud_rpt_fmt(aud_rpt_num(b, "brier_score"), RPT_G, brier));
}

double aud_rpt_row_output(const cJSON *row)
{
    double v = aud_rpt_num(row, "output");
    return isfinite(v) ? v : aud_rpt_num(row, "prediction");
}

const char *aud_rpt_row_why(const cJSON *row)
{
    const char *s = aud_rpt_str(row, "selected", NULL);
    if (s == NULL || s[0] == '\0')
        s = aud_rpt_str(row, "why", NULL);
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static int dist_alloc(rpt_dist *d, size_t n, int edges, int labels)
{
    d->n = n;
    d->ref = aud_calloc(n + 1, sizeof *d->ref);
    d->cur = aud_calloc(n + 1, sizeof *d->cur);
    if (edges)
        d->edges = aud_calloc(n + 1, sizeof *d->edges);
    if (labels)
        d->labels = aud_calloc(n + 1, sizeof *d->labels);
    if (d->ref == NULL || d->cur == NULL || (edges && d->edges == NULL) ||
        (labels && d->labels == NULL)) {
        aud_rpt_dist_free(d);
        return AUD_E_NOMEM;
    }
    return AUD_OK;
}

static void dist_counts(rpt_dist *d, const cJSON *ref, const cJSON *cur)
{
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, ref) {
        if (i < d->n)
            d->ref[i++] = aud_rpt_item_num(it);
    }
    i = 0;
    cJSON_ArrayForEach(it, cur) {
        if (i < d->n)
            d->cur[i++] = aud_rpt_item_num(it);
    }
}

int aud_rpt_dist_get(const cJSON *col, rpt_dist *out)
{
    static const char *const keys[] = {"histogram", "js_bins", "psi_bins"};
    const cJSON *bins = NULL, *cats, *it;
    size_t i = 0;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < 3 && bins == NULL; k++)
        bins = aud_rpt_obj(col, keys[k]);
    cats = cJSON_GetObjectItemCaseSensitive(col, "categories");
    if (cats != NULL && (cJSON_IsArray(cats) || cJSON_IsObject(cats)))
        bins = NULL; /* categorical: its categories are the distribution */
    else
        cats = NULL;
    if (bins != NULL && aud_rpt_arr(bins, "edges") != NULL) {
        size_t n = aud_rpt_count(aud_rpt_arr(bins, "edges"));
        if (n < 2 || dist_alloc(out, n - 1, 1, 0) != AUD_OK)
            return n < 2 ? AUD_OK : AUD_E_NOMEM;
        out->kind = RPT_DIST_BINS;
        cJSON_ArrayForEach(it, aud_rpt_arr(bins, "edges"))
            out->edges[i++] = aud_rpt_item_num(it);
        dist_counts(out, aud_rpt_arr(bins, "reference"), aud_rpt_arr(bins, "current"));
    } else if (bins != NULL || cJSON_IsObject(cats)) {
        const cJSON *src = bins != NULL ? bins : cats;
        const cJSON *lv = aud_rpt_arr(src, bins != NULL ? "values" : "levels");
        if (lv == NULL)
            return AUD_OK;
        if (dist_alloc(out, aud_rpt_count(lv), 0, 1) != AUD_OK)
            return AUD_E_NOMEM;
        out->kind = RPT_DIST_LEVELS;
        cJSON_ArrayForEach(it, lv)
            out->labels[i++] = it;
        dist_counts(out, aud_rpt_arr(src, "reference"), aud_rpt_arr(src, "current"));
    } else if (cJSON_IsArray(cats)) {
        if (dist_alloc(out, aud_rpt_count(cats), 0, 1) != AUD_OK)
            return AUD_E_NOMEM;
        out->kind = RPT_DIST_LEVELS;
        cJSON_ArrayForEach(it, cats) {
            out->labels[i] = cJSON_GetObjectItemCaseSensitive(it, "value");
            out->ref[i] = aud_rpt_num(it, "reference");
            out->cur[i] = aud_rpt_num(it, "current");
            i++;
        }
    }
    for (i = 0; i < out->n; i++) {
        if (isfinite(out->ref[i]))
            out->ref_total += out->ref[i];
        if (isfinite(out->cur[i]))
            out->cur_total += out->cur[i];
    }
    return AUD_OK;
}

void aud_rpt_dist_free(rpt_dist *d)
{
    aud_free(d->edges);
    aud_free(d->labels);
    aud_free(d->ref);
    aud_free(d->cur);
    memset(d, 0, sizeof *d);
}

const char *aud_rpt_fmt(double v, rpt_style style, char *buf)
{
    if (!isfinite(v)) {
        snprintf(buf, RPT_NUMBUF, "n/a");
        return buf;
    }
    switch (style) {
    case RPT_F3:
        snprintf(buf, RPT_NUMBUF, "%.3f", v);
        break;
    case RPT_F4:
        snprintf(buf, RPT_NUMBUF, "%.4f", v);
        break;
    case RPT_INT:
        snprintf(buf, RPT_NUMBUF, "%.0f", v);
        break;
    case RPT_PCT1:
        snprintf(buf, RPT_NUMBUF, "%.1f%%", v * 100.0);
        break;
    case RPT_P:
        if (v != 0.0 && fabs(v) < 1e-3)
            snprintf(buf, RPT_NUMBUF, "%.3e", v);
        else
            snprintf(buf, RPT_NUMBUF, "%.4f", v);
        break;
    case RPT_G:
        snprintf(buf, RPT_NUMBUF, "%.6g", v);
        break;
    case RPT_AUTO:   /* 3 decimals, or 3 significant digits below 0.01 (0.00148, not 0.001) */
        if (v != 0.0 && fabs(v) < 1e-2)
            snprintf(buf, RPT_NUMBUF, "%.3g", v);
        else
            snprintf(buf, RPT_NUMBUF, "%.3f", v);
        break;
    }
    /* "-0.000" reads as a sign error in a filed report */
    if (buf[0] == '-') {
        int zero = 1;
        for (const char *p = buf + 1; *p != '\0' && *p != 'e'; p++)
            if (*p >= '1' && *p <= '9')
                zero = 0;
        if (zero)
            memmove(buf, buf + 1, strlen(buf));
    }
    return buf;
}

const char *aud_rpt_fmt_ci(const cJSON *ci, char *buf)
{
    char a[RPT_NUMBUF], b[RPT_NUMBUF];
    if (!cJSON_IsArray(ci) || cJSON_GetArraySize(ci) != 2) {
        snprintf(buf, RPT_CIBUF, "n/a");
        return buf;
    }
    aud_rpt_fmt(aud_rpt_item_num(ci->child), RPT_AUTO, a);
    aud_rpt_fmt(aud_rpt_item_num(ci->child->next), RPT_AUTO, b);
    snprintf(buf, RPT_CIBUF, "[%s, %s]", a, b);
    return buf;
}

const char *aud_rpt_fmt_value(const cJSON *v, char *buf, size_t n)
{
    char t[RPT_NUMBUF];
    if (cJSON_IsString(v))
        snprintf(buf, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "%s", aud_rpt_fmt(v->valuedouble, RPT_G, t));
    else if (cJSON_IsBool(v))
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else
        snprintf(buf, n, "missing");
    return buf;
}

typedef struct metric_info {
    const char *key;
    const char *label;
    const char *definition;
} metric_info;

static const metric_info metrics[] = {
    {"count", "Count", "Number of rows in the group."},
    {"share", "Share", "Group rows divided by all rows with a known attribute value."},
    {"base_rate", "Base rate", "P(y = favourable): share of rows whose label is the favourable outcome."},
    {"selection_rate", "Selection rate", "P(prediction = favourable): share of rows predicted favourable."},
    {"tpr", "TPR", "True positive rate P(prediction = fav | y = fav); a zero denominator gives null with a reason."},
    {"fpr", "FPR", "False positive rate P(prediction = fav | y = unfav)."},
    {"tnr", "TNR", "True negative rate P(prediction = unfav | y = unfav)."},
    {"fnr", "FNR", "False negative rate P(prediction = unfav | y = fav)."},
    {"ppv", "PPV", "Precision P(y = fav | prediction = fav)."},
    {"npv", "NPV", "P(y = unfav | prediction = unfav)."},
    {"fdr", "FDR", "False discovery rate 1 - PPV."},
    {"false_omission_rate", "FOR", "False omission rate 1 - NPV."},
    {"accuracy", "Accuracy", "Share of rows whose prediction equals the label."},
    {"disparate_impact", "Disparate impact",
     "selection_rate(group) / selection_rate(reference group); the four-fifths rule flags values below 0.8."},
    {"impact_ratio", "Impact ratio",
     "selection_rate(group) / highest group selection rate (NYC Local Law 144); groups under 2% of rows are excluded from the verdict."},
    {"demographic_parity_difference", "Demographic parity difference",
     "Largest minus smallest group selection rate (Fairlearn)."},
    {"demographic_parity_ratio", "Demographic parity ratio",
     "Smallest divided by largest group selection rate (Fairlearn)."},
    {"equalized_odds_difference", "Equalized odds difference",
     "max(largest TPR gap, largest FPR gap) between groups (Fairlearn)."},
    {"equalized_odds_ratio", "Equalized odds ratio",
     "min(smallest TPR ratio, smallest FPR ratio) between groups (Fairlearn)."},
    {"average_abs_odds_difference", "Average abs. odds difference",
     "(|FPR_g - FPR_ref| + |TPR_g - TPR_ref|) / 2, the largest over groups (AIF360)."},
    {"between_group_generalized_entropy_index", "Between-group GE index",
     "GE(alpha = 2) with every b_i replaced by its group mean (AIF360)."},
    {"equal_opportunity_difference", "Equal opportunity difference",
     "TPR(group) - TPR(reference), the largest gap in absolute value (AIF360)."},
    {"average_odds_difference", "Average odds difference",
     "((FPR_g - FPR_ref) + (TPR_g - TPR_ref)) / 2 (AIF360)."},
    {"predictive_parity_difference", "Predictive parity difference",
     "Largest PPV gap between groups."},
    {"theil_index", "Theil index",
     "Generalized entropy with alpha = 1 of b_i = prediction_i - y_i + 1 (AIF360)."},
    {"generalized_entropy_index", "Generalized entropy index",
     "GE(alpha = 2) of b_i = prediction_i - y_i + 1 (AIF360)."},
    {"chi_square", "Chi-square test",
     "Pearson chi-square test of independence on the table prediction x group (drift: 2 x k table of category counts, no continuity correction)."},
    {"fisher", "Fisher exact test", "Two-sided Fisher exact test on a 2 x 2 table."},
    {"drift_share", "Drift share", "Share of columns whose primary test flags drift; dataset drift when >= the share threshold."},
    {"ks", "Kolmogorov-Smirnov", "Two-sample KS statistic sup|F_ref - F_cur|; exact p-value for small samples, asymptotic otherwise (scipy ks_2samp, mode auto)."},
    {"wasserstein", "Wasserstein-1", "Earth mover's distance between the two empirical distributions."},
    {"wasserstein_normed", "Wasserstein (normed)", "W1 / max(population std of the reference, 0.001) (Evidently); drift when >= threshold."},
    {"psi", "PSI", "Population stability index sum (c - r) ln(c / r) over bins at reference quantiles; empty bins filled as Evidently."},
    {"jensen_shannon", "Jensen-Shannon", "Jensen-Shannon distance with natural logarithm (scipy jensenshannon)."},
    {"anderson_darling", "Anderson-Darling", "k-sample Anderson-Darling statistic; p-value as scipy, capped to [0.001, 0.25]."},
    {"cramer_von_mises", "Cramer-von Mises", "Two-sample Cramer-von Mises statistic and p-value (scipy cramervonmises_2samp)."},
    {"z_test", "Z-test", "Two-proportion Z-test for binary columns."},
    {"auc", "AUC", "Area under the ROC curve of the score against the label (rank based: any real-valued score); interval: DeLong's, AUC -/+ z se clipped to [0, 1] (docs/performance.md)."},
    {"brier_score", "Brier score", "Mean squared difference between the predicted probability and the label."},
    {"log_loss", "Log-loss", "Mean negative log-likelihood of the label under the predicted probability."},
    {"additivity_max_error", "Additivity max error",
     "Largest |sum of SHAP values + base value - model output| over the explained rows."},
    {"mean_abs", "Mean |SHAP|", "Mean absolute SHAP value of the feature over the explained rows (global importance)."},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

static const metric_info *metric_find(const char *key)
{
    for (size_t i = 0; i < N_METRICS; i++)
        if (strcmp(metrics[i].key, key) == 0)
            return &metrics[i];
    return NULL;
}

const char *aud_rpt_metric_label(const char *key)
{
    const metric_info *m = metric_find(key);
    return m != NULL ? m->label : key;
}

const char *aud_rpt_metric_definition(const char *key)
{
    const metric_info *m = metric_find(key);
    return m != NULL ? m->definition : NULL;
}

const char *const aud_rpt_group_rates[] = {
    "selection_rate", "base_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "fdr",
    "false_omission_rate", "accuracy", NULL
};

const char *const aud_rpt_summary_metrics[] = {
    "demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
    "equalized_odds_ratio", "equal_opportunity_difference", "average_odds_difference",
    "average_abs_odds_difference", "predictive_parity_difference", "theil_index",
    "generalized_entropy_index", "between_group_generalized_entropy_index", NULL
};

const cJSON *aud_rpt_all_groups(const cJSON *summary)
{
    return aud_rpt_count(aud_rpt_arr(summary, "excluded_groups")) > 0 ? aud_rpt_obj(summary, "all_groups")
                                                               : NULL;
}

/* Length of the UTF-8 sequence at s (max n bytes), or 0 when it is not valid UTF-8
 * (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

size_t aud_rpt_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

char *aud_rpt_utf8_repair(const char *s, int *nomem)
{
    size_t n = strlen(s), i = 0, o = 0;
    char *out;
    *nomem = 0;
    if (aud_rpt_utf8_valid(s, n) == n)
        return NULL;
    out = aud_malloc(3 * n + 1);
    if (out == NULL) {
        *nomem = 1;
        return NULL;
    }
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return out;
}

void aud_rpt_utf8_fix_tail(char *s)
{
    size_t n = strlen(s), k = n;
    /* back up over at most 3 continuation bytes to the last lead byte */
    while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k > 0 && ((unsigned char)s[k - 1] & 0x80) != 0 &&
        utf8_seq((const unsigned char *)s + k - 1, n - k + 1) != n - k + 1)
        s[k - 1] = '\0';
}

void aud_rpt_copy_utf8(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (n == 0)
        return;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;   /* src[len] is now the lead byte of the character that does not fit */
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void aud_rpt_audit_date(const cJSON *doc, char *buf, size_t n)
{
    const char *c = aud_rpt_str(aud_rpt_obj(doc, "provenance"), "created", "");
    size_t k = strlen(c) < 10 ? strlen(c) : 10;
    snprintf(buf, n, "%.*s", (int)k, c);
}

const char *aud_rpt_input_sha256(const cJSON *in)
{
    const char *h = aud_rpt_str(in, "sha256", NULL);
    return h != NULL ? h : aud_rpt_str(in, "sha256_reason", "not recorded");
}

const cJSON *aud_rpt_model_not_in_inputs(const cJSON *prov)
{
    const cJSON *in;
    cJSON_ArrayForEach(in, aud_rpt_arr(prov, "inputs")) {
        const char *role = aud_rpt_str(in, "role", "");
        if (strcmp(role, "model") == 0)
            return NULL;
    }
    return aud_rpt_obj(prov, "model");
}

void aud_rpt_nice_range(double lo, double hi, int max_ticks, double *t0, double *t1, double *step)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0.0;
        hi = 1.0;
    }
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo < 1e-12) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    if (max_ticks < 2)
        max_ticks = 2;
    double raw = (hi - lo) / (max_ticks - 1);
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double s = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 2.5 ? 2.5 : f <= 5.0 ? 5.0 : 10.0;
    *step = s * mag;
    *t0 = floor(lo / *step) * *step;
    *t1 = ceil(hi / *step) * *step;
}

int aud_rpt_check_is_technical(const cJSON *check)
{
    const char *m = aud_rpt_str(check, "metric", "");
    return strcmp(m, "additivity_max_error") == 0;
}
