/* findings_text.c - the plain sentence of each finding, built from its numbers only: rates are
 * named for what they mean given the favourable outcome, a ratio is said as "at X% of group A's
 * rate", a gap in percentage points, drift as the direction and size of the change. */
#include "audit/findings_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NB 48

static const char *pct(double x, char *b)
{
    if (!isfinite(x))
        snprintf(b, NB, "n/a");
    else
        snprintf(b, NB, "%.1f%%", 100.0 * x);
    return b;
}

/* A bound as a percentage: "80%", "82.5%" */
static const char *pct_bound(double x, char *b)
{
    double v = 100.0 * x;
    if (isfinite(v) && fabs(v - round(v)) < 1e-9)
        snprintf(b, NB, "%.0f%%", v);
    else
        pct(x, b);
    return b;
}

/* "72.1-78.6%" */
static const char *pct_range(double lo, double hi, char *b)
{
    snprintf(b, NB, "%.1f-%.1f%%", 100.0 * lo, 100.0 * hi);
    return b;
}

/* A plain number with as many digits as its size needs. */
static const char *num(double x, char *b)
{
    double a = fabs(x);
    if (!isfinite(x))
        snprintf(b, NB, "n/a");
    else if (a >= 1000.0)
        snprintf(b, NB, "%.0f", x);
    else if (a >= 1.0)
        snprintf(b, NB, "%.4g", x);
    else
        snprintf(b, NB, "%.3g", x);
    return b;
}

static const char *label_of(const char *metric)
{
    static const char *const names[][2] = {
        {"selection_rate", "selection rate"},
        {"base_rate", "base rate"},
        {"tpr", "true positive rate"},
        {"fpr", "false positive rate"},
        {"tnr", "true negative rate"},
        {"fnr", "false negative rate"},
        {"ppv", "precision (PPV)"},
        {"npv", "negative predictive value"},
        {"fdr", "false discovery rate"},
        {"false_omission_rate", "false omission rate"},
        {"accuracy_group", "accuracy"},
        {"accuracy", "accuracy"},
        {"auc_group", "AUC"},
        {"auc", "AUC"},
        {"ece", "expected calibration error"},
        {"brier", "Brier score"},
        {"brier_score", "Brier score"},
        {"log_loss", "log loss"},
        {"disparate_impact", "disparate impact"},
        {"impact_ratio", "impact ratio"},
        {"fisher_p_value", "Fisher exact p-value"},
        {"demographic_parity_difference", "demographic parity difference"},
        {"demographic_parity_ratio", "demographic parity ratio"},
        {"equalized_odds_difference", "equalized odds difference"},
        {"equalized_odds_ratio", "equalized odds ratio"},
        {"equal_opportunity_difference", "equal opportunity difference"},
        {"average_odds_difference", "average odds difference"},
        {"average_abs_odds_difference", "average absolute odds difference"},
        {"predictive_parity_difference", "predictive parity difference"},
        {"theil_index", "Theil index"},
        {"generalized_entropy_index", "generalized entropy index"},
        {"between_group_generalized_entropy_index", "between-group generalized entropy index"},
        {"chi_square.p_value", "chi-square p-value"},
        {"drift_share", "share of drifted columns"},
        {"dataset_drift", "dataset drift"},
        {"additivity_max_error", "largest additivity error"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i][0], metric) == 0)
            return names[i][1];
    }
    return metric;
}

/* Words for "gets the favourable outcome": "is approved" or "receives the favourable outcome
 * (default = 0)". */
static void verb(const find_words *w, char *b, size_t n)
{
    if (w->outcome != NULL)
        snprintf(b, n, "is %s", w->outcome);
    else if (w->label != NULL)
        snprintf(b, n, "receives the favourable outcome (%s = %d)", w->label, w->favorable);
    else
        snprintf(b, n, "receives the favourable outcome (%d)", w->favorable);
}

/* "approved" / "given the favourable outcome", as an adjective. */
static const char *granted(const find_words *w)
{
    return w->outcome != NULL ? w->outcome : "given the favourable outcome";
}

/* "default = 0, the favourable outcome" */
static void outcome_rows(const find_words *w, int favourable, char *b, size_t n)
{
    int v = favourable ? w->favorable : 1 - w->favorable;
    if (w->label != NULL)
        snprintf(b, n, "with %s = %d, the %s outcome", w->label, v,
                 favourable ? "favourable" : "unfavourable");
    else
        snprintf(b, n, "whose true outcome was %s", favourable ? "favourable" : "unfavourable");
}

/* The bound in words; as_pct: a rate or ratio; points: a difference of rates. */
static void bound_words(const find_row *r, int as_pct, int points, char *b, size_t n)
{
    char x[NB], y[NB];
    const char *who = "the check";
    if (strcmp(r->metric, "disparate_impact") == 0 || strcmp(r->metric, "impact_ratio") == 0 ||
        strcmp(r->metric, "selection_rate_ratio") == 0) {
        if (r->min == AUD_FOUR_FIFTHS && isnan(r->max))
            who = "the four-fifths rule";
    }
    if (points) {
        snprintf(x, NB, "%g points", 100.0 * r->min);
        snprintf(y, NB, "%g points", 100.0 * r->max);
    } else if (as_pct) {
        pct_bound(r->min, x);
        pct_bound(r->max, y);
    } else {
        num(r->min, x);
        num(r->max, y);
    }
    if (isfinite(r->min) && isfinite(r->max))
        snprintf(b, n, "%s asks for %s to %s", who, x, y);
    else if (isfinite(r->min))
        snprintf(b, n, "%s asks for at least %s", who, x);
    else if (isfinite(r->max))
        snprintf(b, n, "%s allows at most %s", who, y);
    else
        snprintf(b, n, "%s sets no bound", who);
}

/* The sentence's closing words when the interval holds the bound. */
static const char *borderline_tail(const find_row *r)
{
    if (r->severity != 1)
        return "";
    if (r->failed)
        return " The interval reaches the bound: the shortfall is within sampling uncertainty.";
    if (isfinite(r->min) && r->lo <= r->min)
        return " It passes, but the interval reaches below the bound.";
    return " It passes, but the interval reaches above the bound.";
}

static void ci_words(const find_words *w, const find_row *r, int as_pct, char *b, size_t n)
{
    char x[NB], y[NB];
    if (!isfinite(r->lo) || !isfinite(r->hi)) {
        b[0] = '\0';
        return;
    }
    if (as_pct)
        snprintf(b, n, "%.0f%% CI %s", 100.0 * w->level, pct_range(r->lo, r->hi, x));
    else
        snprintf(b, n, "%.0f%% CI %s to %s", 100.0 * w->level, num(r->lo, x), num(r->hi, y));
}

static void who(const find_row *r, char *b, size_t n)
{
    snprintf(b, n, "Group %s (%s)", r->group != NULL ? r->group : "?",
             r->attribute != NULL ? r->attribute : "?");
}

static const cJSON *group_named(const find_row *r, const char *name)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(r->attr, "groups")) {
        const char *s = aud_find_str(g, "group");
        if (s != NULL && name != NULL && strcmp(s, name) == 0)
            return g;
    }
    return NULL;
}

/* Rate names in words for a rate key of the fairness section. */
static void rate_words(const find_words *w, const char *rate, char *b, size_t n)
{
    char rows[160];
    if (strcmp(rate, "selection_rate") == 0) {
        snprintf(b, n, "share %s", granted(w));
    } else if (strcmp(rate, "tpr") == 0 || strcmp(rate, "fpr") == 0) {
        outcome_rows(w, rate[0] == 't', rows, sizeof rows);
        snprintf(b, n, "%s (share %s among rows %s)", label_of(rate), granted(w), rows);
    } else {
        snprintf(b, n, "%s", label_of(rate));
    }
}

static void sentence_ratio(const find_words *w, const find_row *r, char *b)
{
    char g[200], vb[200], ci[80], bw[160], x[NB], y[NB], z[NB];
    int impact = strcmp(r->metric, "impact_ratio") == 0;
    const char *other = impact ? aud_find_str(r->attr, "highest_group")
                               : aud_find_str(r->attr, "reference");
    const cJSON *og = impact ? group_named(r, other) : r->refgrp;
    who(r, g, sizeof g);
    verb(w, vb, sizeof vb);
    ci_words(w, r, 1, ci, sizeof ci);
    bound_words(r, 1, 0, bw, sizeof bw);
    snprintf(b, FIND_TEXT, "%s %s at %s of %sgroup %s's rate (%s against %s%s%s); %s.%s", g, vb,
             pct(r->value, x), impact ? "the highest-rate " : "", other ? other : "?",
             pct(aud_find_num(r->grp, "selection_rate"), y),
             pct(aud_find_num(og, "selection_rate"), z), ci[0] ? "; " : "", ci, bw,
             borderline_tail(r));
}

static void sentence_group(const find_words *w, const find_row *r, char *b)
{
    char g[200], rw[300], ci[80], bw[160], x[NB], y[NB], z[NB];
    const char *ref = aud_find_str(r->attr, "reference");
    size_t len = strlen(r->metric);
    who(r, g, sizeof g);
    ci_words(w, r, 1, ci, sizeof ci);
    if (strcmp(r->metric, "disparate_impact") == 0 || strcmp(r->metric, "impact_ratio") == 0 ||
        strcmp(r->metric, "selection_rate_ratio") == 0) {
        sentence_ratio(w, r, b);
        return;
    }
    if (len > 11 && strcmp(r->metric + len - 11, "_difference") == 0) {
        char rate[64];
        snprintf(rate, sizeof rate, "%.*s", (int)(len - 11), r->metric);
        rate_words(w, rate, rw, sizeof rw);
        bound_words(r, 0, 1, bw, sizeof bw);
        snprintf(b, FIND_TEXT, "%s: the %s is %.1f points %s group %s's (%s against %s); %s.%s",
                 g, rw, fabs(100.0 * r->value), r->value < 0 ? "below" : "above", ref ? ref : "?",
                 pct(aud_find_num(r->grp, rate), y), pct(aud_find_num(r->refgrp, rate), z), bw,
                 borderline_tail(r));
        return;
    }
    if (len > 6 && strcmp(r->metric + len - 6, "_ratio") == 0) {
        char rate[64];
        snprintf(rate, sizeof rate, "%.*s", (int)(len - 6), r->metric);
        rate_words(w, rate, rw, sizeof rw);
        bound_words(r, 1, 0, bw, sizeof bw);
        snprintf(b, FIND_TEXT, "%s: the %s is %s of group %s's (%s against %s); %s.%s", g, rw,
                 pct(r->value, x), ref ? ref : "?", pct(aud_find_num(r->grp, rate), y),
                 pct(aud_find_num(r->refgrp, rate), z), bw, borderline_tail(r));
        return;
    }
    if (strcmp(r->metric, "fisher_p_value") == 0) {
        const char *hi = aud_find_str(r->attr, "highest_group");
        bound_words(r, 0, 0, bw, sizeof bw);
        snprintf(b, FIND_TEXT, "%s: its selection rate, %s, differs from that of the highest-rate "
                 "group %s, %s (Fisher exact p = %.2g); %s.", g,
                 pct(aud_find_num(r->grp, "selection_rate"), y), hi ? hi : "?",
                 pct(aud_find_num(group_named(r, hi), "selection_rate"), z), r->value, bw);
        return;
    }
    int is_rate = r->grp != NULL && cJSON_GetObjectItemCaseSensitive(r->grp, "selection_rate_ci") &&
                  (strcmp(r->metric, "selection_rate") == 0 || strcmp(r->metric, "base_rate") == 0 ||
                   strlen(r->metric) <= 3 || strcmp(r->metric, "false_omission_rate") == 0 ||
                   strcmp(r->metric, "accuracy_group") == 0);
    if (is_rate) {
        const char *key = strcmp(r->metric, "accuracy_group") == 0 ? "accuracy" : r->metric;
        rate_words(w, key, rw, sizeof rw);
        bound_words(r, 1, 0, bw, sizeof bw);
        snprintf(b, FIND_TEXT, "%s: the %s is %s (%s%sgroup %s: %s); %s.%s", g, rw,
                 pct(r->value, x), ci, ci[0] ? "; " : "", ref ? ref : "?",
                 pct(aud_find_num(r->refgrp, key), z), bw, borderline_tail(r));
        return;
    }
    bound_words(r, 0, 0, bw, sizeof bw);
    snprintf(b, FIND_TEXT, "%s: the %s is %s; %s.%s", g, label_of(r->metric), num(r->value, x),
             bw, borderline_tail(r));
}

static void sentence_summary(const find_words *w, const find_row *r, char *b)
{
    char rw[300], ci[80], bw[160], x[NB], y[NB], z[NB];
    int ratio = strstr(r->metric, "_ratio") != NULL;
    const char *attr = r->attribute != NULL ? r->attribute : "?";
    if (r->drive_rate != NULL) {
        const char *hi = aud_find_str(r->drive_hi, "group"), *lo = aud_find_str(r->drive_lo, "group");
        double vh = aud_find_num(r->drive_hi, r->drive_rate), vl = aud_find_num(r->drive_lo, r->drive_rate);
        rate_words(w, r->drive_rate, rw, sizeof rw);
        const char *rule = strncmp(r->metric, "equalized_odds", 14) == 0 ? "equalized odds"
                                                                          : "demographic parity";
        if (ratio) {
            ci_words(w, r, 1, ci, sizeof ci);
            bound_words(r, 1, 0, bw, sizeof bw);
            snprintf(b, FIND_TEXT, "Across %s groups the %s is lowest for %s, %s, which is %s of "
                     "the highest, %s for %s (%s %s%s%s); %s.%s", attr, rw, lo ? lo : "?",
                     pct(vl, y), pct(r->value, x), pct(vh, z), hi ? hi : "?", rule,
                     ratio ? "ratio" : "", ci[0] ? "; " : "", ci, bw, borderline_tail(r));
        } else {
            if (isfinite(r->lo) && isfinite(r->hi))
                snprintf(ci, sizeof ci, "%.0f%% CI %.1f-%.1f", 100.0 * w->level, 100.0 * r->lo,
                         100.0 * r->hi);
            else
                ci[0] = '\0';
            bound_words(r, 0, 1, bw, sizeof bw);
            snprintf(b, FIND_TEXT, "Across %s groups the %s ranges from %s (%s) to %s (%s): a gap "
                     "of %.1f points%s%s%s, the %s difference; %s.%s", attr, rw, pct(vl, y),
                     lo ? lo : "?", pct(vh, z), hi ? hi : "?", 100.0 * r->value,
                     ci[0] ? " (" : "", ci, ci[0] ? ")" : "", rule, bw, borderline_tail(r));
        }
        return;
    }
    ci_words(w, r, 0, ci, sizeof ci);
    bound_words(r, 0, 0, bw, sizeof bw);
    snprintf(b, FIND_TEXT, "Across %s groups the %s is %s%s%s%s; %s.%s", attr,
             label_of(r->metric), num(r->value, x), ci[0] ? " (" : "", ci, ci[0] ? ")" : "", bw,
             borderline_tail(r));
}

/* ---- drift --------------------------------------------------------------------------------- */

static double drift_score(const cJSON *c)
{
    double s = aud_find_num(c, "statistic"), t = aud_find_num(c, "threshold");
    const char *kind = aud_find_str(c, "statistic_kind");
    if (kind != NULL && strcmp(kind, "p_value") == 0)
        return t / fmax(s, 1e-300);
    return t > 0.0 ? s / t : s;
}

size_t aud_find_drifted(const cJSON *drift, const cJSON **out, size_t cap)
{
    const cJSON *c;
    size_t n = 0;
    if (cap == 0)
        return 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(drift, "columns")) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "drifted")))
            continue;
        double s = drift_score(c);
        if (n == cap && drift_score(out[n - 1]) >= s)
            continue;   /* the cap most drifted are kept */
        size_t j = n < cap ? n++ : n - 1;
        while (j > 0 && drift_score(out[j - 1]) < s) {   /* insertion, most drifted first */
            out[j] = out[j - 1];
            j--;
        }
        out[j] = c;
    }
    return n;
}

/* Append printf-style text to b (size n), truncating. */
static void append(char *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *b, size_t n, const char *fmt, ...)
{
    size_t len = strlen(b);
    va_list ap;
    if (len + 1 >= n)
        return;
    va_start(ap, fmt);
    vsnprintf(b + len, n - len, fmt, ap);
    va_end(ap);
}

void aud_find_drift_change(const cJSON *col, char *buf)
{
    char x[NB], y[NB];
    buf[0] = '\0';
    double mr = aud_find_num(col, "mean_reference"), mc = aud_find_num(col, "mean_current");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(col, "categories");
    if (isfinite(mr) && isfinite(mc)) {
        append(buf, FIND_TEXT, "mean %s from %s to %s", mc > mr ? "up" : mc < mr ? "down" : "unchanged",
               num(mr, x), num(mc, y));
    } else if (cats != NULL) {
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(cats, "levels");
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cats, "reference");
        const cJSON *cc = cJSON_GetObjectItemCaseSensitive(cats, "current");
        double nr = 0.0, nc = 0.0;
        int k = cJSON_GetArraySize(lv);
        for (int i = 0; i < k; i++) {
            nr += aud_find_num(cJSON_GetArrayItem(rc, i), NULL);
            nc += aud_find_num(cJSON_GetArrayItem(cc, i), NULL);
        }
        int best = -1, n_new = 0;
        double best_d = 0.0;
        for (int i = 0; i < k && nr > 0.0 && nc > 0.0; i++) {
            double r = aud_find_num(cJSON_GetArrayItem(rc, i), NULL) / nr;
            double c = aud_find_num(cJSON_GetArrayItem(cc, i), NULL) / nc;
            const cJSON *name = cJSON_GetArrayItem(lv, i);
            if (r == 0.0 && c > 0.0 && cJSON_IsString(name)) {
                append(buf, FIND_TEXT, "%snew category \"%s\" (%s of current rows) never seen in "
                       "the reference", n_new++ ? "; " : "", name->valuestring, pct(c, x));
                continue;
            }
            if (fabs(c - r) > best_d) {
                best_d = fabs(c - r);
                best = i;
            }
        }
        if (n_new == 0 && best >= 0 && cJSON_IsString(cJSON_GetArrayItem(lv, best))) {
            double r = aud_find_num(cJSON_GetArrayItem(rc, best), NULL) / nr;
            double c = aud_find_num(cJSON_GetArrayItem(cc, best), NULL) / nc;
            append(buf, FIND_TEXT, "share of \"%s\" %s from %s to %s",
                   cJSON_GetArrayItem(lv, best)->valuestring, c > r ? "up" : "down", pct(r, x),
                   pct(c, y));
        }
    }
    double sr = aud_find_num(col, "missing_share_reference");
    double sc = aud_find_num(col, "missing_share_current");
    if (isfinite(sr) && isfinite(sc) && fabs(sc - sr) >= 0.01)
        append(buf, FIND_TEXT, "%smissing values %s from %s to %s", buf[0] ? "; " : "",
               sc > sr ? "up" : "down", pct(sr, x), pct(sc, y));
    if (buf[0] == '\0')
        snprintf(buf, FIND_TEXT, "distribution changed");
}

static void sentence_drift_set(const cJSON *doc, const find_row *r, char *b)
{
    const cJSON *drift = cJSON_GetObjectItemCaseSensitive(doc, "drift");
    const cJSON *cols[5];
    char bw[160], x[NB], y[NB], z[NB], ch[FIND_TEXT];
    size_t n = aud_find_drifted(drift, cols, 5);
    double nd = aud_find_num(drift, "n_drifted"), nc = aud_find_num(drift, "n_columns");
    int share = strcmp(r->metric, "drift_share") == 0;
    bound_words(r, share, 0, bw, sizeof bw);
    if (share)
        snprintf(b, FIND_TEXT, "%s of %s data columns drifted (%s); %s.", num(nd, x), num(nc, y),
                 pct(r->value, z), bw);
    else
        snprintf(b, FIND_TEXT, "The data set drifted as a whole: %s of %s columns drifted (%s, "
                 "against a dataset-drift line of %s).", num(nd, x), num(nc, y),
                 pct(aud_find_num(drift, "drift_share"), z),
                 pct(aud_find_num(drift, "share_threshold"), bw));
    for (size_t i = 0; i < n; i++) {
        aud_find_drift_change(cols[i], ch);
        append(b, FIND_TEXT, "%s%s: %s", i == 0 ? " Most drifted: " : "; ",
               aud_find_str(cols[i], "name") ? aud_find_str(cols[i], "name") : "?", ch);
    }
    if (n > 0 && isfinite(nd) && nd > (double)n)
        append(b, FIND_TEXT, "; and %.0f more.", nd - (double)n);
    else if (n > 0)
        append(b, FIND_TEXT, ".");
}

static void sentence_drift_column(const cJSON *doc, const find_row *r, char *b)
{
    const cJSON *col = NULL, *c;
    char ch[FIND_TEXT], bw[160], x[NB];
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "drift"),
                                                           "columns")) {
        const char *nm = aud_find_str(c, "name");
        if (nm != NULL && strcmp(nm, r->column) == 0)
            col = c;
    }
    aud_find_drift_change(col, ch);
    bound_words(r, 0, 0, bw, sizeof bw);
    b[0] = '\0';
    append(b, FIND_TEXT, "Column %s%s: %s (%s %s; %s).", r->column,
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(col, "drifted")) ? " drifted" : " changed",
             ch, r->metric, num(r->value, x), bw);
}

/* ---- sentences ----------------------------------------------------------------------------- */

void aud_find_sentence(const cJSON *doc, const find_words *w, const find_row *r, char *b)
{
    char bw[160], x[NB], g[200];
    if (!isfinite(r->value)) {
        if (r->group != NULL)
            who(r, g, sizeof g);
        else if (r->attribute != NULL)
            snprintf(g, sizeof g, "Attribute %s", r->attribute);
        else if (r->column != NULL)
            snprintf(g, sizeof g, "Column %s", r->column);
        else
            snprintf(g, sizeof g, "The audit");
        snprintf(b, FIND_TEXT, "%s: the %s could not be evaluated (%s), so the check fails: a "
                 "check never passes by omission.", g, label_of(r->metric),
                 r->reason != NULL ? r->reason : "no value");
        return;
    }
    switch (r->kind) {
    case FIND_FAIR_GROUP:
        sentence_group(w, r, b);
        return;
    case FIND_FAIR_SUMMARY:
        sentence_summary(w, r, b);
        return;
    case FIND_PERF:
        bound_words(r, 0, 0, bw, sizeof bw);
        if (r->group != NULL) {
            who(r, g, sizeof g);
            snprintf(b, FIND_TEXT, "%s: the model's %s is %s; %s.", g, label_of(r->metric),
                     num(r->value, x), bw);
        } else {
            snprintf(b, FIND_TEXT, "The model's %s is %s over all labelled rows; %s.",
                     label_of(r->metric), num(r->value, x), bw);
        }
        return;
    case FIND_DRIFT_SET:
        sentence_drift_set(doc, r, b);
        return;
    case FIND_DRIFT_COLUMN:
        sentence_drift_column(doc, r, b);
        return;
    default:
        bound_words(r, 0, 0, bw, sizeof bw);
        snprintf(b, FIND_TEXT, "The explanations miss the model output by up to %s (the SHAP "
                 "values plus the base value should add up to it); %s.", num(r->value, x), bw);
        return;
    }
}

int aud_find_in_attribute(const char *at, const char *attribute)
{
    size_t n = strlen(attribute);
    for (const char *p = at; (p = strstr(p, attribute)) != NULL; p++) {
        if ((p == at || p[-1] == '&') && (p[n] == '\0' || p[n] == '&'))
            return 1;
    }
    return 0;
}

int aud_find_driver_text(const cJSON *f, char *buf, size_t n)
{
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "drivers"),
                                                          "features");
    const cJSON *top = cJSON_GetArrayItem(feats, 0);
    char x[NB], y[NB];
    if (top != NULL && aud_find_str(top, "name") != NULL) {
        int proxy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(top, "likely_proxy"));
        snprintf(buf, n, "driver: %s accounts for %s of the gap in mean model output%s%s%s",
                 aud_find_str(top, "name"), pct(aud_find_num(top, "share"), x),
                 proxy ? " - likely proxy for " : "",
                 proxy && aud_find_str(f, "attribute") ? aud_find_str(f, "attribute") : "",
                 proxy ? "" : "");
        return 1;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(f, "driven_by");
    if (d != NULL && aud_find_str(d, "rate") != NULL) {
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(d, "high");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(d, "low");
        snprintf(buf, n, "driven by the %s: %s %s, %s %s", label_of(aud_find_str(d, "rate")),
                 aud_find_str(hi, "group") ? aud_find_str(hi, "group") : "?",
                 pct(aud_find_num(hi, "value"), x),
                 aud_find_str(lo, "group") ? aud_find_str(lo, "group") : "?",
                 pct(aud_find_num(lo, "value"), y));
        return 1;
    }
    return 0;
}
