/* pdf_drift.c - the Drift section: a table of every column (test, statistic, threshold,
 * p-value, PSI, drifted), overlaid reference/current distributions of the drifted columns,
 * prediction drift and attribution drift. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DRIFT_PLOTS 24

/* p-value of the column's primary test, else of its KS / chi-square / Z test. */
static double column_p(const cJSON *c, const char **which)
{
    static const char *const tests[] = {"ks", "chi_square", "z_test", "anderson_darling",
                                        "cramer_von_mises"};
    const char *m = aud_rpt_str(c, "method", "");
    const cJSON *t = aud_rpt_obj(c, m);
    if (t != NULL && isfinite(aud_rpt_num(t, "p_value"))) {
        *which = m;
        return aud_rpt_num(t, "p_value");
    }
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        t = aud_rpt_obj(c, tests[i]);
        if (t != NULL && isfinite(aud_rpt_num(t, "p_value"))) {
            *which = tests[i];
            return aud_rpt_num(t, "p_value");
        }
    }
    *which = NULL;
    return NAN;
}

static const char *short_test(const char *k)
{
    if (k == NULL)
        return "";
    if (strcmp(k, "ks") == 0)
        return " (KS)";
    if (strcmp(k, "chi_square") == 0)
        return " (\xcf\x87\xc2\xb2)";
    if (strcmp(k, "z_test") == 0)
        return " (Z)";
    if (strcmp(k, "anderson_darling") == 0)
        return " (AD)";
    if (strcmp(k, "cramer_von_mises") == 0)
        return " (CvM)";
    return "";
}

static void column_row(pdf_doc *d, pdf_table *t, const cJSON *c)
{
    char st[RPT_NUMBUF], th[RPT_NUMBUF], psi[RPT_NUMBUF], p[RPT_NUMBUF], pv[RPT_NUMBUF + 16];
    const char *which = NULL;
    int drifted = aud_rpt_bool(c, "drifted") == 1;
    double pval = column_p(c, &which);
    aud_rpt_fmt(pval, RPT_P, p);
    snprintf(pv, sizeof pv, "%s%s", p, isfinite(pval) ? short_test(which) : "");
    const char *cells[8] = {aud_rpt_str(c, "name", "?"), aud_rpt_str(c, "type", ""),
                            aud_rpt_metric_label(aud_rpt_str(c, "method", "?")),
                            aud_rpt_fmt(aud_rpt_num(c, "statistic"), RPT_F3, st),
                            aud_rpt_fmt(aud_rpt_num(c, "threshold"), RPT_F3, th),
                            aud_rpt_fmt(aud_rpt_num(c, "psi"), RPT_F3, psi), pv,
                            aud_rpt_bool(c, "drifted") < 0 ? "n/a" : drifted ? "DRIFT" : "no"};
    /* a p-value of another test than the primary one is grey: it does not decide */
    int primary = which != NULL && strcmp(which, aud_rpt_str(c, "method", "")) == 0;
    int sty[8] = {drifted ? PDF_CELL_BOLD : 0, PDF_CELL_MUTED, 0, 0, PDF_CELL_MUTED, 0,
                  primary ? 0 : PDF_CELL_MUTED, drifted ? PDF_CELL_FAIL : PDF_CELL_PASS};
    aud_pdf_table_row(d, t, cells, sty);
}

static void distributions(pdf_doc *d, const cJSON *cols)
{
    const cJSON *c;
    size_t i = 0, n_drifted;
    const float w = (PDF_CW - 20.0f) / 2.0f, h = 150.0f;
    cJSON_ArrayForEach(c, cols) {
        if (aud_rpt_bool(c, "drifted") == 1)
            i++;
    }
    n_drifted = i;
    aud_pdf_subsection(d, "Distributions of the drifted columns", h + 20.0f);
    if (i == 0) {
        aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, "No column drifted.");
        return;
    }
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Share of rows per bin (numeric: bins of the drift test) or per category: reference "
             "filled, current as outline or orange bars.");
    d->y -= 6.0f;
    i = 0;
    cJSON_ArrayForEach(c, cols) {
        if (aud_rpt_bool(c, "drifted") != 1)
            continue;
        if (i == MAX_DRIFT_PLOTS)
            break;
        if (i % 2 == 0)
            aud_pdf_need(d, h + 8.0f);
        float x = PDF_LEFT + (float)(i % 2) * (w + 20.0f);
        aud_pdf_chart_drift(d, c, x, d->y, w, h);
        if (i % 2 == 1)
            d->y -= h + 8.0f;
        i++;
    }
    if (i % 2 == 1)
        d->y -= h + 8.0f;
    if (n_drifted > i) {
        char note[160];
        snprintf(note, sizeof note, "The first %zu of %zu drifted columns are plotted; the table "
                 "above lists every column.", i, n_drifted);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, note);
    }
}

/* Columns that look like one variable twice: "X" and "X_code" (a category and its numeric
 * code) both compared. They drift together, so one change counts twice in the drift share. */
static void same_columns(pdf_doc *d, const cJSON *cols)
{
    const cJSON *a, *b;
    char line[1200];
    size_t n = 0, pairs = 0;
    n += (size_t)snprintf(line, sizeof line, "Columns that hold the same variable twice (a "
                          "category and its code) drift together and count twice in the drift "
                          "share:");
    cJSON_ArrayForEach(a, cols) {
        const char *an = aud_rpt_str(a, "name", "");
        size_t al = strlen(an);
        cJSON_ArrayForEach(b, cols) {
            const char *bn = aud_rpt_str(b, "name", "");
            if (al == 0 || strncmp(bn, an, al) != 0 || strcmp(bn + al, "_code") != 0)
                continue;
            if (n + al + strlen(bn) + 60 >= sizeof line)
                break;
            n += (size_t)snprintf(line + n, sizeof line - n, "%s %s / %s (%s, %s)",
                                  pairs == 0 ? "" : ";", an, bn,
                                  aud_rpt_bool(a, "drifted") == 1 ? "drifted" : "no drift",
                                  aud_rpt_bool(b, "drifted") == 1 ? "drifted" : "no drift");
            pairs++;
        }
    }
    if (pairs == 0)
        return;
    snprintf(line + n, sizeof line - n, ".");
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
}

static double alt_num(const cJSON *o, const char *k1, const char *k2)
{
    double v = aud_rpt_num(o, k1);
    return isfinite(v) ? v : aud_rpt_num(o, k2);
}

static void attribution_drift(pdf_doc *d, const cJSON *ad)
{
    static const pdf_col cols[] = {{"Feature", 150, PDF_AL_LEFT},
                                   {"Mean |SHAP| ref.", 80, PDF_AL_RIGHT},
                                   {"Mean |SHAP| cur.", 80, PDF_AL_RIGHT},
                                   {"Change", 75, PDF_AL_RIGHT},
                                   {"Rank ref.", 55, PDF_AL_RIGHT}, {"Rank cur.", 55, PDF_AL_RIGHT}};
    const cJSON *f;
    pdf_table t;
    aud_pdf_subsection(d, "Attribution drift", 80.0f);
    if (isfinite(aud_rpt_num(ad, "rank_correlation"))) {
        char rc[RPT_NUMBUF];
        aud_pdf_kv(d, "Rank correlation", aud_rpt_fmt(aud_rpt_num(ad, "rank_correlation"), RPT_F3, rc));
        d->y -= 4.0f;
    }
    aud_pdf_table_begin(d, &t, cols, 6, 7.5f);
    cJSON_ArrayForEach(f, aud_rpt_arr(ad, "features")) {
        char a[RPT_NUMBUF], b[RPT_NUMBUF], ch[RPT_NUMBUF], r1[RPT_NUMBUF], r2[RPT_NUMBUF];
        double ra = alt_num(f, "reference_rank", "rank_reference");
        double rb = alt_num(f, "current_rank", "rank_current");
        const char *cells[6] = {aud_rpt_str(f, "name", "?"),
                                aud_rpt_fmt(alt_num(f, "reference_mean_abs", "mean_abs_reference"),
                                        RPT_F4, a),
                                aud_rpt_fmt(alt_num(f, "current_mean_abs", "mean_abs_current"),
                                        RPT_F4, b),
                                aud_rpt_fmt(aud_rpt_num(f, "change"), RPT_F4, ch),
                                aud_rpt_fmt(ra, RPT_INT, r1), aud_rpt_fmt(rb, RPT_INT, r2)};
        int st[6] = {0, 0, 0, 0, 0, ra != rb ? PDF_CELL_WARN : 0};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 8.0f;
}

/* The reference input when it was a saved profile (provenance.inputs[] role "reference" with
 * "profile"), else NULL. */
static const cJSON *reference_profile(const cJSON *doc)
{
    const cJSON *in;
    cJSON_ArrayForEach(in, aud_rpt_arr(aud_rpt_obj(doc, "provenance"), "inputs")) {
        if (strcmp(aud_rpt_str(in, "role", ""), "reference") == 0)
            return aud_rpt_obj(in, "profile") != NULL ? in : NULL;
    }
    return NULL;
}

static void profile_kv(pdf_doc *d, const cJSON *in)
{
    const cJSON *pf = aud_rpt_obj(in, "profile"), *src = aud_rpt_obj(pf, "source");
    char buf[400], rows[RPT_NUMBUF];
    snprintf(buf, sizeof buf, "saved profile %s (created %s), a summary of %s (%s rows)",
             aud_rpt_str(in, "path", "?"), aud_rpt_str(pf, "created", "?"),
             aud_rpt_str(src, "path", "?"), aud_rpt_fmt(aud_rpt_num(src, "rows"), RPT_INT, rows));
    aud_pdf_kv(d, "Reference", buf);
    aud_pdf_kv(d, "    source SHA-256", aud_rpt_str(src, "sha256", "not recorded"));
}

/* Columns whose reference came from a profile: which figures are exact, the bound of the rest
 * (reference_summary of each column; docs/drift.md "Reference profiles"). */
static void summary_bounds(pdf_doc *d, const cJSON *cols)
{
    static const pdf_col tc[] = {{"Column", 98, PDF_AL_LEFT},     {"From profile", 62, PDF_AL_LEFT},
                                 {"KS \xc2\xb1", 52, PDF_AL_RIGHT}, {"Wass. \xc2\xb1", 56, PDF_AL_RIGHT},
                                 {"AD \xc2\xb1", 52, PDF_AL_RIGHT}, {"CvM \xc2\xb1", 52, PDF_AL_RIGHT},
                                 {"PSI", 44, PDF_AL_CENTER},      {"JS bins", 79, PDF_AL_LEFT}};
    const cJSON *c;
    size_t n = 0;
    cJSON_ArrayForEach(c, cols) {
        n += aud_rpt_obj(c, "reference_summary") != NULL;
    }
    if (n == 0)
        return;
    aud_pdf_subsection(d, "Figures from the reference profile", 80.0f);
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                 "The reference is a saved profile, not the data: counts (PSI, chi-square, Z, "
                 "categories) are exact; KS, Wasserstein, Anderson-Darling and Cramer-von Mises "
                 "lie within the stated distance (\xc2\xb1) of the figure on the reference data "
                 "itself. An exact column held every value: all its figures are exact.");
    d->y -= 4.0f;
    pdf_table t;
    aud_pdf_table_begin(d, &t, tc, sizeof tc / sizeof tc[0], 7.5f);
    cJSON_ArrayForEach(c, cols) {
        const cJSON *s = aud_rpt_obj(c, "reference_summary"), *b = aud_rpt_obj(s, "bounds");
        if (s == NULL)
            continue;
        int exact = aud_rpt_bool(s, "exact") == 1;
        char v[4][RPT_NUMBUF];
        static const char *const keys[4] = {"ks_statistic", "wasserstein", "anderson_darling",
                                            "cramer_von_mises"};
        for (int k = 0; k < 4; k++) {   /* a bound: 3 significant digits; null: not known */
            double x = aud_rpt_num(b, keys[k]);
            if (exact)
                snprintf(v[k], sizeof v[k], "0");
            else if (isfinite(x))
                snprintf(v[k], sizeof v[k], "%.3g", x);
            else
                snprintf(v[k], sizeof v[k], "unknown");
        }
        const char *cells[8] = {aud_rpt_str(c, "name", "?"), exact ? "exact" : "summary", v[0],
                                v[1], v[2], v[3],
                                aud_rpt_bool(s, "psi_exact") == 1 ? "exact" : "approx.",
                                aud_rpt_bool(s, "js_bins_snapped") == 1 ? "on profile bins"
                                                                        : "as computed"};
        int sty[8] = {0, exact ? PDF_CELL_PASS : PDF_CELL_MUTED, 0, 0, 0, 0,
                      aud_rpt_bool(s, "psi_exact") == 1 ? 0 : PDF_CELL_WARN, PDF_CELL_MUTED};
        aud_pdf_table_row(d, &t, cells, sty);
    }
    d->y -= 6.0f;
}

void aud_pdf_write_drift(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Column", 98, PDF_AL_LEFT},    {"Type", 50, PDF_AL_LEFT},
                                   {"Test", 90, PDF_AL_LEFT},      {"Statistic", 46, PDF_AL_RIGHT},
                                   {"Threshold", 56, PDF_AL_RIGHT}, {"PSI", 36, PDF_AL_RIGHT},
                                   {"p-value", 74, PDF_AL_RIGHT},  {"Drifted", 45, PDF_AL_CENTER}};
    const cJSON *dr = aud_rpt_obj(d->doc, "drift");
    const cJSON *c, *pred;
    char t[RPT_NUMBUF], buf[200];
    pdf_table tab;
    size_t n = 0, nd = 0;
    if (dr == NULL) {
        const char *why = aud_rpt_skip_reason(d->doc, "drift");
        aud_pdf_section_not_run(d, "Drift", why != NULL ? why : "the results document has no drift section");
        return;
    }
    aud_pdf_section(d, "Drift");
    cJSON_ArrayForEach(c, aud_rpt_arr(dr, "columns")) {
        n++;
        nd += aud_rpt_bool(c, "drifted") == 1;
    }
    {
        /* the producer's counts when it states them, else the listed flags */
        char a[RPT_NUMBUF], b[RPT_NUMBUF];
        double vd = aud_rpt_num(dr, "n_drifted"), vn = aud_rpt_num(dr, "n_columns");
        snprintf(buf, sizeof buf, "%s (%s of %s columns)",
                 aud_rpt_fmt(aud_rpt_num(dr, "drift_share"), RPT_F3, t),
                 aud_rpt_fmt(isfinite(vd) ? vd : (double)nd, RPT_INT, a),
                 aud_rpt_fmt(isfinite(vn) ? vn : (double)n, RPT_INT, b));
    }
    aud_pdf_kv(d, "Drift share", buf);
    {
        /* each decision with its own threshold and where that threshold comes from: the
         * dataset-drift flag (drift.share of the spec) and the policy checks on the share */
        int ds = aud_rpt_bool(dr, "dataset_drift");
        char th[RPT_NUMBUF], sh[RPT_NUMBUF];
        aud_rpt_fmt(aud_rpt_num(dr, "drift_share"), RPT_F3, sh);
        if (isfinite(aud_rpt_num(dr, "share_threshold")))
            snprintf(buf, sizeof buf, "%s: share %s %s %s (the spec's drift.share)",
                     ds < 0 ? "n/a" : ds ? "yes" : "no", sh, ds == 1 ? "\xe2\x89\xa5" : "<",
                     aud_rpt_fmt(aud_rpt_num(dr, "share_threshold"), RPT_F3, th));
        else
            snprintf(buf, sizeof buf, "%s", ds < 0 ? "n/a" : ds ? "yes" : "no");
        aud_pdf_kv(d, "Dataset drift", buf);
        cJSON_ArrayForEach(c, aud_rpt_arr(d->doc, "checks")) {
            const char *m = aud_rpt_str(c, "metric", "");
            char lo[RPT_NUMBUF], hi[RPT_NUMBUF];
            const char *pc = aud_rpt_str(c, "column", NULL);
            int on_pred = pc != NULL && strcmp(pc, aud_rpt_str(aud_rpt_obj(dr, "prediction_drift"),
                                                               "name", "\x01")) == 0;
            if (strcmp(m, "drift_share") != 0 && strcmp(m, "dataset_drift") != 0 && !on_pred)
                continue;
            aud_rpt_fmt(aud_rpt_num(c, "min"), RPT_AUTO, lo);
            aud_rpt_fmt(aud_rpt_num(c, "max"), RPT_AUTO, hi);
            snprintf(buf, sizeof buf, "%s: %s%s%s %s%s%s%s%s (a policy check of the spec)",
                     aud_rpt_bool(c, "passed") == 1 ? "pass" : "FAIL", on_pred ? pc : "",
                     on_pred ? " " : "", m,
                     isfinite(aud_rpt_num(c, "min")) ? "\xe2\x89\xa5 " : "",
                     isfinite(aud_rpt_num(c, "min")) ? lo : "",
                     isfinite(aud_rpt_num(c, "min")) && isfinite(aud_rpt_num(c, "max")) ? ", " : "",
                     isfinite(aud_rpt_num(c, "max")) ? "\xe2\x89\xa4 " : "",
                     isfinite(aud_rpt_num(c, "max")) ? hi : "");
            aud_pdf_kv(d, "Policy check", buf);
        }
    }
    pred = aud_rpt_obj(dr, "prediction_drift");
    if (pred != NULL) {
        char st[RPT_NUMBUF], th[RPT_NUMBUF];
        int pdd = aud_rpt_bool(pred, "drifted");
        snprintf(buf, sizeof buf, "%s: %s %s %s threshold %s",
                 pdd < 0 ? "n/a" : pdd ? "yes" : "no",
                 aud_rpt_metric_label(aud_rpt_str(pred, "method", "?")),
                 aud_rpt_fmt(aud_rpt_num(pred, "statistic"), RPT_F3, st),
                 pdd == 1 ? "\xe2\x89\xa5" : "<", aud_rpt_fmt(aud_rpt_num(pred, "threshold"), RPT_F3, th));
        aud_pdf_kv(d, "Prediction drift", buf);
    }
    {
        const cJSON *c0 = aud_rpt_arr(dr, "columns") != NULL ? aud_rpt_arr(dr, "columns")->child : NULL;
        double nr = aud_rpt_num(dr, "reference_rows"), nc = aud_rpt_num(dr, "current_rows");
        if (!isfinite(nr))
            nr = aud_rpt_num(c0, "rows_reference");
        if (!isfinite(nc))
            nc = aud_rpt_num(c0, "rows_current");
        if (isfinite(nr) || isfinite(nc)) {
            char a[RPT_NUMBUF], b[RPT_NUMBUF];
            snprintf(buf, sizeof buf, "%s reference, %s current", aud_rpt_fmt(nr, RPT_INT, a),
                     aud_rpt_fmt(nc, RPT_INT, b));
            aud_pdf_kv(d, "Rows", buf);
        }
    }
    if (reference_profile(d->doc) != NULL)
        profile_kv(d, reference_profile(d->doc));
    d->y -= 6.0f;
    aud_pdf_subsection(d, "Every column", 80.0f);
    aud_pdf_table_begin(d, &tab, cols, sizeof cols / sizeof cols[0], 7.5f);
    cJSON_ArrayForEach(c, aud_rpt_arr(dr, "columns"))
        column_row(d, &tab, c);
    d->y -= 4.0f;
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Drifted is decided by the column's primary test alone (column Test): its statistic "
             "against its threshold. A distance test (Wasserstein, Jensen-Shannon, PSI) has no "
             "p-value; the grey p-value beside it is another test's (named in brackets), shown for "
             "reference: with thousands of rows a test of 'any difference' gives tiny p-values for "
             "shifts too small to cross the primary test's threshold, so a tiny grey p-value next "
             "to 'no' is not a contradiction.");
    summary_bounds(d, aud_rpt_arr(dr, "columns"));
    same_columns(d, aud_rpt_arr(dr, "columns"));
    d->y -= 6.0f;
    distributions(d, aud_rpt_arr(dr, "columns"));
    aud_pdf_subsection(d, "Prediction drift", 180.0f);
    if (pred == NULL) {
        aud_pdf_not_run(d, "the results hold no prediction drift");
    } else {
        aud_pdf_table_begin(d, &tab, cols, sizeof cols / sizeof cols[0], 7.5f);
        column_row(d, &tab, pred);
        d->y -= 10.0f;
        aud_pdf_need(d, 160.0f);
        aud_pdf_chart_drift(d, pred, PDF_LEFT, d->y, PDF_CW * 0.6f, 150.0f);
        d->y -= 160.0f;
    }
    if (aud_rpt_obj(dr, "attribution_drift") != NULL)
        attribution_drift(d, aud_rpt_obj(dr, "attribution_drift"));
    else if (aud_rpt_obj(aud_rpt_obj(d->doc, "explanations"), "attribution_drift") != NULL)
        attribution_drift(d, aud_rpt_obj(aud_rpt_obj(d->doc, "explanations"), "attribution_drift"));
}
