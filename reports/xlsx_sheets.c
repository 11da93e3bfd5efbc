/* xlsx_sheets.c - the Explanations, Attributions, Drift and Performance sheets, with native
 * charts for importance and drift statistics. Values are written as numbers (never rounded
 * text); number formats only change how they display. */
#include "reports/report.h"
#include "reports/xlsx_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHART_TOP_FEATURES 20
#define ATTR_FIXED 5          /* Row, Selected, Prediction, Output, Base */

/* "=Sheet!$C$2:$C$21" for column c, rows r0..r1 (0-based). */
static void range(char *buf, size_t n, const char *sheet, lxw_row_t r0, lxw_row_t r1, lxw_col_t c)
{
    char col[8];
    size_t k = 0;
    unsigned v = (unsigned)c + 1;
    char tmp[8];
    while (v > 0 && k < sizeof tmp - 1) {
        tmp[k++] = (char)('A' + (v - 1) % 26);
        v = (v - 1) / 26;
    }
    for (size_t i = 0; i < k; i++)
        col[i] = tmp[k - 1 - i];
    col[k] = '\0';
    snprintf(buf, n, "='%s'!$%s$%u:$%s$%u", sheet, col, (unsigned)r0 + 1, col, (unsigned)r1 + 1);
}

void aud_xw_bar_chart(xw_book *b, lxw_worksheet *ws, const char *sheet, const char *title,
                  lxw_row_t r0, lxw_row_t r1, lxw_col_t nc, lxw_col_t vc, lxw_row_t at_r,
                  lxw_col_t at_c, int horizontal, const char *num_format)
{
    char cats[96], vals[96];
    lxw_chart *ch;
    lxw_chart_series *s;
    lxw_chart_options o;
    if (b->status != LXW_NO_ERROR || r1 < r0)
        return;
    ch = workbook_add_chart(b->wb, horizontal ? LXW_CHART_BAR : LXW_CHART_COLUMN);
    if (ch == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart");
        return;
    }
    range(cats, sizeof cats, sheet, r0, r1, nc);
    range(vals, sizeof vals, sheet, r0, r1, vc);
    s = chart_add_series(ch, cats, vals);
    if (s == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
        return;
    }
    {
        int nomem = 0;
        char *fixed = aud_rpt_utf8_repair(title, &nomem);
        if (nomem) {
            aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart title");
            return;
        }
        chart_title_set_name(ch, fixed != NULL ? fixed : title);  /* copies the name */
        aud_free(fixed);
    }
    chart_legend_set_position(ch, LXW_CHART_LEGEND_NONE);
    if (horizontal) {
        /* LIBS.md 3, gotcha 6: list categories top-down without moving the value axis */
        chart_axis_set_reverse(ch->y_axis);
        chart_axis_set_crossing_max(ch->y_axis);
        if (num_format != NULL)
            chart_axis_set_num_format(ch->x_axis, num_format);
    } else if (num_format != NULL) {
        chart_axis_set_num_format(ch->y_axis, num_format);
    }
    memset(&o, 0, sizeof o);
    /* sized to print whole on an A4 landscape page beside or below a narrow table */
    o.x_scale = 1.0;
    o.y_scale = horizontal ? 1.0 + 0.04 * (double)(r1 - r0) : 1.0;
    if (o.y_scale > 1.8)
        o.y_scale = 1.8;
    aud_xw_chk(b, worksheet_insert_chart_opt(ws, at_r, at_c, ch, &o), "insert chart");
}

void aud_xw_explanations(xw_book *b)
{
    static const char *const head[] = {"Rank", "Feature", "Mean |SHAP|", "Mean SHAP"};
    static const double widths[] = {7, 28, 13, 13};
    const cJSON *exp = aud_rpt_obj(b->doc, "explanations");
    const cJSON *f;
    lxw_worksheet *ws = aud_xw_sheet(b, "Explanations");
    lxw_row_t r = 1;
    const lxw_col_t K = 5;
    if (ws == NULL)
        return;
    if (exp == NULL) {
        aud_xw_not_run(b, ws, 0, "explanations");
        return;
    }
    aud_xw_header(b, ws, 0, head, widths, 4);
    cJSON_ArrayForEach(f, aud_rpt_arr(exp, "features")) {
        aud_xw_num(b, ws, r, 0, aud_rpt_num(f, "rank"), b->count);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(f, "name", "?"), NULL);
        aud_xw_num(b, ws, r, 2, aud_rpt_num(f, "mean_abs"), b->shap);
        aud_xw_num(b, ws, r, 3, aud_rpt_num(f, "mean"), b->shap);
        r++;
    }
    aud_xw_table(b, ws, 0, r - 1, 4);
    /* the chart beside the table, the run's facts below it (beside it, filtering the table
     * would hide them with its rows) */
    if (r > 1) {
        lxw_row_t last = r - 1 < CHART_TOP_FEATURES ? r - 1 : CHART_TOP_FEATURES;
        aud_xw_bar_chart(b, ws, "Explanations", "Mean |SHAP value| (top features)", 1, last, 1, 2,
                     1, K, 1, "0.00");
    }
    r = r < 20 ? 22 : r + 2;
    aud_xw_str(b, ws, r, 1, "SHAP method", b->key);
    aud_xw_str(b, ws, r++, 2, aud_rpt_str(exp, "method", ""), NULL);
    aud_xw_str(b, ws, r, 1, "Output", b->key);
    aud_xw_str(b, ws, r++, 2, aud_rpt_str(exp, "output", ""), NULL);
    aud_xw_str(b, ws, r, 1, "Explained rows", b->key);
    aud_xw_num(b, ws, r++, 2, aud_rpt_num(exp, "rows"), b->count);
    aud_xw_str(b, ws, r, 1, "Base value E[f(X)]", b->key);
    aud_xw_num(b, ws, r++, 2, aud_rpt_num(exp, "base_value"), b->shap);
    aud_xw_str(b, ws, r, 1, "Additivity max error", b->key);
    aud_xw_num(b, ws, r++, 2, aud_rpt_num(exp, "additivity_max_error"), b->pval);
    /* units, the base value as a probability, the decision rule (issue 14 item 1) */
    aud_xw_str(b, ws, r, 1, "Units of SHAP values", b->key);
    aud_xw_str(b, ws, r++, 2, aud_rpt_str(exp, "units", "model output units"), NULL);
    aud_xw_str(b, ws, r, 1, "Base value as probability", b->key);
    aud_xw_num(b, ws, r++, 2, aud_rpt_num(exp, "base_probability"), b->shap);
    aud_xw_str(b, ws, r, 1, "Decision rule", b->key);
    aud_xw_str(b, ws, r++, 2, aud_rpt_str(exp, "decision_rule", "not stated"), NULL);
}

/* One explained row (an explained_rows entry or a line of the rows file) on row r. */
static void attr_row(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *row, size_t nf)
{
    const cJSON *p, *v;
    lxw_col_t c;
    aud_xw_num(b, ws, r, 0, aud_rpt_num(row, "row"), b->num);
    aud_xw_str(b, ws, r, 1, aud_rpt_row_why(row), NULL);
    aud_xw_num(b, ws, r, 2, aud_rpt_num(row, "prediction"), b->shap);
    aud_xw_num(b, ws, r, 3, aud_rpt_num(row, "output"), b->shap);
    aud_xw_num(b, ws, r, 4, aud_rpt_num(row, "base"), b->shap);
    c = ATTR_FIXED;
    cJSON_ArrayForEach(p, aud_rpt_arr(row, "phi"))
        aud_xw_num(b, ws, r, c++, p->valuedouble, b->shap);
    c = (lxw_col_t)(ATTR_FIXED + nf);
    cJSON_ArrayForEach(v, aud_rpt_arr(row, "value"))
        aud_xw_json(b, ws, r, c++, v, b->num);
}

/* Rows the Attributions sheet shows at most, with nf features (report.h). */
static size_t attr_cap(size_t nf)
{
    size_t by_cells = AUD_XLSX_ATTR_MAX_CELLS / (ATTR_FIXED + 2 * nf);
    return by_cells < AUD_XLSX_ATTR_MAX_ROWS ? by_cells : AUD_XLSX_ATTR_MAX_ROWS;
}

/* The first attr_cap lines of the rows file from sheet row 1, one line in memory at a time;
 * returns the rows written. A bad file stops the workbook (b->rc). */
static size_t attr_file_rows(xw_book *b, lxw_worksheet *ws, const cJSON *exp, size_t nf)
{
    rpt_rows rd;
    cJSON *row = NULL;
    size_t n = 0, cap = attr_cap(nf);
    int rc = aud_rpt_rows_open(&rd, exp, b->rows_path, b->err);
    while (rc == AUD_OK && n < cap && b->status == LXW_NO_ERROR) {
        rc = aud_rpt_rows_next(&rd, &row, b->err);
        if (rc != AUD_OK || row == NULL)
            break;
        attr_row(b, ws, (lxw_row_t)(n + 1), row, nf);
        cJSON_Delete(row);
        n++;
    }
    aud_rpt_rows_close(&rd);
    if (rc != AUD_OK) {
        b->rc = rc;
        aud_xw_chk(b, LXW_ERROR_PARAMETER_VALIDATION, "explained rows file");
    }
    return n;
}

void aud_xw_attributions(xw_book *b)
{
    const cJSON *exp = aud_rpt_obj(b->doc, "explanations");
    const cJSON *file = aud_rpt_obj(exp, "explained_rows_file");
    const cJSON *rows = aud_rpt_arr(exp, "explained_rows");
    const cJSON *row;
    lxw_worksheet *ws = aud_xw_sheet(b, "Attributions");
    size_t nf = aud_rpt_row_width(exp), n = 0;
    double total;
    lxw_col_t c;
    char name[600], shown[RPT_NUMBUF], all[RPT_NUMBUF];
    if (ws == NULL)
        return;
    if (exp == NULL) {
        aud_xw_not_run(b, ws, 0, "explanations");
        return;
    }
    if (rows == NULL && file == NULL) {
        aud_xw_str(b, ws, 0, 0, "The results hold no per-row attributions.", b->muted);
        return;
    }
    aud_xw_str(b, ws, 0, 0, "Row", b->head);
    aud_xw_str(b, ws, 0, 1, "Selected", b->head);
    aud_xw_str(b, ws, 0, 2, "Prediction", b->head);
    aud_xw_str(b, ws, 0, 3, "Output", b->head);
    aud_xw_str(b, ws, 0, 4, "Base", b->head);
    c = ATTR_FIXED;
    for (size_t j = 0; j < nf; j++) {
        snprintf(name, sizeof name, "SHAP %s", aud_rpt_row_feature_name(exp, j));
        aud_xw_str(b, ws, 0, c, name, b->head);
        snprintf(name, sizeof name, "value %s", aud_rpt_row_feature_name(exp, j));
        aud_xw_str(b, ws, 0, (lxw_col_t)(c + nf), name, b->head);
        c++;
    }
    aud_xw_chk(b, worksheet_set_column(ws, 0, 0, 8, NULL), "column width");
    aud_xw_chk(b, worksheet_set_column(ws, 1, 1, 16, NULL), "column width");
    aud_xw_chk(b, worksheet_set_column(ws, 2, (lxw_col_t)(ATTR_FIXED - 1 + 2 * nf), 13, NULL),
           "column width");
    if (file != NULL && b->rows_path != NULL) {
        n = attr_file_rows(b, ws, exp, nf);
        total = aud_rpt_num(file, "rows");
    } else {
        cJSON_ArrayForEach(row, rows) {
            if (b->status != LXW_NO_ERROR || n == attr_cap(nf))
                break;
            attr_row(b, ws, (lxw_row_t)(n + 1), row, nf);
            n++;
        }
        total = (double)aud_rpt_count(rows);
    }
    if (b->status != LXW_NO_ERROR)
        return;
    worksheet_freeze_panes(ws, 1, 1);
    aud_xw_chk(b, worksheet_autofilter(ws, 0, 0, (lxw_row_t)n, (lxw_col_t)(ATTR_FIXED - 1 + 2 * nf)),
           "autofilter");
    /* the note under the table (outside the filter range) when the table is not every row */
    aud_rpt_fmt_count((double)n, shown);
    if (file != NULL && b->rows_path == NULL) {
        aud_rpt_fmt_count(aud_rpt_num(file, "rows"), all);
        snprintf(name, sizeof name, "These are the %s waterfall rows results.json holds; all %s "
                 "explained rows are in %.80s beside results.json (SHA-256 %.64s), not read for "
                 "this workbook.", shown, all, aud_rpt_str(file, "path", "?"),
                 aud_rpt_str(file, "sha256", "?"));
    } else if ((double)n < total && file != NULL) {
        snprintf(name, sizeof name, "Showing the first %s of %s explained rows; all are in %.80s "
                 "(SHA-256 %.64s).", shown, aud_rpt_fmt_count(total, all),
                 aud_rpt_str(file, "path", "?"), aud_rpt_str(file, "sha256", "?"));
    } else if ((double)n < total) {
        snprintf(name, sizeof name, "Showing the first %s of %s explained rows; all are in "
                 "results.json.", shown, aud_rpt_fmt_count(total, all));
    } else {
        return;
    }
    aud_xw_str(b, ws, (lxw_row_t)(n + 2), 0, name, b->muted);
}

static void test_cells(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const cJSON *t)
{
    aud_xw_num(b, ws, r, c, aud_rpt_num(t, "statistic"), b->rate);
    aud_xw_num(b, ws, r, c + 1, aud_rpt_num(t, "p_value"), b->pval);
}

static void drift_row(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *col)
{
    const cJSON *chi = aud_rpt_obj(col, "chi_square"), *ms = aud_rpt_obj(col, "missing_share");
    aud_xw_str(b, ws, r, 0, aud_rpt_str(col, "name", "?"), NULL);
    aud_xw_str(b, ws, r, 1, aud_rpt_str(col, "type", NULL), NULL);
    aud_xw_str(b, ws, r, 2, aud_rpt_str(col, "method", NULL), NULL);
    aud_xw_num(b, ws, r, 3, aud_rpt_num(col, "statistic"), b->rate);
    aud_xw_num(b, ws, r, 4, aud_rpt_num(col, "threshold"), b->rate);
    aud_xw_bool(b, ws, r, 5, aud_rpt_bool(col, "drifted"));
    aud_xw_num(b, ws, r, 6, aud_rpt_num(col, "psi"), b->rate);
    test_cells(b, ws, r, 7, aud_rpt_obj(col, "ks"));
    aud_xw_num(b, ws, r, 9, aud_rpt_num(col, "wasserstein"), b->rate);
    aud_xw_num(b, ws, r, 10, aud_rpt_num(col, "wasserstein_normed"), b->rate);
    aud_xw_num(b, ws, r, 11, aud_rpt_num(col, "jensen_shannon"), b->rate);
    test_cells(b, ws, r, 12, aud_rpt_obj(col, "anderson_darling"));
    test_cells(b, ws, r, 14, aud_rpt_obj(col, "cramer_von_mises"));
    aud_xw_num(b, ws, r, 16, aud_rpt_num(chi, "statistic"), b->rate);
    aud_xw_num(b, ws, r, 17, aud_rpt_num(chi, "dof"), b->count);
    aud_xw_num(b, ws, r, 18, aud_rpt_num(chi, "p_value"), b->pval);
    test_cells(b, ws, r, 19, aud_rpt_obj(col, "z_test"));
    if (ms != NULL) {
        aud_xw_num(b, ws, r, 21, aud_rpt_num(ms, "reference"), b->pct);
        aud_xw_num(b, ws, r, 22, aud_rpt_num(ms, "current"), b->pct);
    } else {
        aud_xw_num(b, ws, r, 21, aud_rpt_num(col, "missing_share_reference"), b->pct);
        aud_xw_num(b, ws, r, 22, aud_rpt_num(col, "missing_share_current"), b->pct);
    }
}

/* A reference that was a saved profile: what it summarised, and per column which figures are
 * exact and the bound of the others (reference_summary; docs/drift.md "Reference profiles").
 * Returns the next free row. */
static lxw_row_t drift_profile(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *cols)
{
    static const char *const head[] = {"Column", "From profile", "KS \xc2\xb1",
                                       "Wass. \xc2\xb1", "AD \xc2\xb1", "CvM \xc2\xb1",
                                       "PSI exact", "JS on its bins"};
    static const char *const keys[] = {"ks_statistic", "wasserstein", "anderson_darling",
                                       "cramer_von_mises"};
    const cJSON *in, *prof = NULL, *c;
    cJSON_ArrayForEach(in, aud_rpt_arr(aud_rpt_obj(b->doc, "provenance"), "inputs")) {
        if (strcmp(aud_rpt_str(in, "role", ""), "reference") == 0 &&
            aud_rpt_obj(in, "profile") != NULL)
            prof = in;
    }
    size_t n = 0;
    cJSON_ArrayForEach(c, cols) {
        n += aud_rpt_obj(c, "reference_summary") != NULL;
    }
    if (prof == NULL && n == 0)
        return r;
    const cJSON *pf = aud_rpt_obj(prof, "profile"), *src = aud_rpt_obj(pf, "source");
    aud_xw_str(b, ws, r++, 0, "Reference: a saved profile (counts exact; KS, Wasserstein, AD "
                              "and CvM within the bound of the figure on the data)", b->key);
    if (prof != NULL) {
        aud_xw_str(b, ws, r, 0, "Profile", NULL);
        aud_xw_str(b, ws, r++, 1, aud_rpt_str(prof, "path", ""), NULL);
        aud_xw_str(b, ws, r, 0, "Created", NULL);
        aud_xw_str(b, ws, r++, 1, aud_rpt_str(pf, "created", ""), NULL);
        aud_xw_str(b, ws, r, 0, "Source", NULL);
        aud_xw_str(b, ws, r++, 1, aud_rpt_str(src, "path", ""), NULL);
        aud_xw_str(b, ws, r, 0, "Source SHA-256", NULL);
        aud_xw_str(b, ws, r++, 1, aud_rpt_str(src, "sha256", "not recorded"), NULL);
        aud_xw_str(b, ws, r, 0, "Source rows", NULL);
        aud_xw_num(b, ws, r++, 1, aud_rpt_num(src, "rows"), b->count);
    }
    if (n == 0)
        return r + 1;
    for (size_t k = 0; k < sizeof head / sizeof head[0]; k++)
        aud_xw_str(b, ws, r, (lxw_col_t)k, head[k], b->head);
    r++;
    cJSON_ArrayForEach(c, cols) {
        const cJSON *sm = aud_rpt_obj(c, "reference_summary"), *bd = aud_rpt_obj(sm, "bounds");
        if (sm == NULL)
            continue;
        aud_xw_str(b, ws, r, 0, aud_rpt_str(c, "name", "?"), NULL);
        aud_xw_str(b, ws, r, 1, aud_rpt_bool(sm, "exact") == 1 ? "exact" : "summary", NULL);
        for (int k = 0; k < 4; k++)
            aud_xw_num(b, ws, r, (lxw_col_t)(2 + k), aud_rpt_num(bd, keys[k]), b->rate);
        aud_xw_bool(b, ws, r, 6, aud_rpt_bool(sm, "psi_exact"));
        aud_xw_bool(b, ws, r, 7, aud_rpt_bool(sm, "js_bins_snapped"));
        r++;
    }
    return r + 1;
}

void aud_xw_drift(xw_book *b)
{
    static const char *const head[] = {
        "Column", "Type", "Test", "Statistic", "Threshold", "Drifted", "PSI", "KS statistic",
        "KS p-value", "Wasserstein", "Wasserstein normed", "Jensen-Shannon", "AD statistic",
        "AD p-value", "CvM statistic", "CvM p-value", "Chi-square", "Chi-square dof",
        "Chi-square p-value", "Z statistic", "Z p-value", "Missing (ref.)", "Missing (cur.)"};
    static const double widths[] = {24, 12, 20, 11, 11, 9, 10, 12, 12, 12, 12, 12, 12, 12, 12,
                                    12, 12, 10, 12, 11, 11, 11, 11};
    const size_t nh = sizeof head / sizeof head[0];
    const cJSON *dr = aud_rpt_obj(b->doc, "drift");
    const cJSON *col, *pred;
    lxw_worksheet *ws = aud_xw_sheet(b, "Drift");
    lxw_row_t r = 1, last;
    if (ws == NULL)
        return;
    if (dr == NULL) {
        aud_xw_not_run(b, ws, 0, "drift");
        return;
    }
    aud_xw_header(b, ws, 0, head, widths, nh);
    cJSON_ArrayForEach(col, aud_rpt_arr(dr, "columns"))
        drift_row(b, ws, r++, col);
    last = r - 1;
    aud_xw_table(b, ws, 0, last, (lxw_col_t)nh);
    aud_xw_cf_bool(b, ws, 1, last, 5, 1);
    pred = aud_rpt_obj(dr, "prediction_drift");
    r++;
    if (pred != NULL) {
        aud_xw_str(b, ws, r++, 0, "Prediction drift (model output)", b->key);
        drift_row(b, ws, r, pred);
        aud_xw_cf_bool(b, ws, r, r, 5, 1);
        r += 2;
    }
    r = drift_profile(b, ws, r, aud_rpt_arr(dr, "columns"));
    if (last >= 1) {
        lxw_row_t breaks[2] = {r, 0};
        aud_xw_chk(b, worksheet_set_h_pagebreaks(ws, breaks), "page breaks");
    }
    if (last >= 1)
        aud_xw_bar_chart(b, ws, "Drift", "Drift statistic of the primary test per column", 1, last, 0,
                     3, r, 0, 1, "0.00");
}

void aud_xw_performance(xw_book *b)
{
    static const char *const head[] = {"Attribute", "Group", "Rows", "AUC", "Accuracy",
                                       "Log-loss", "Brier"};
    static const double widths[] = {16, 22, 10, 10, 10, 10, 10};
    static const char *const keys[] = {"auc", "accuracy", "log_loss", "brier_score"};
    const cJSON *p = aud_rpt_obj(b->doc, "performance");
    const cJSON *o, *g;
    lxw_worksheet *ws = aud_xw_sheet(b, "Performance");
    lxw_row_t r = 1;
    if (ws == NULL)
        return;
    if (p == NULL) {
        aud_xw_not_run(b, ws, 0, "performance");
        return;
    }
    aud_xw_header(b, ws, 0, head, widths, 7);
    o = aud_rpt_obj(p, "overall");
    if (o != NULL) {
        aud_xw_str(b, ws, r, 0, "(overall)", b->key);
        aud_xw_num(b, ws, r, 2, aud_rpt_num(o, "rows"), b->count);
        for (int k = 0; k < 4; k++)
            aud_xw_num(b, ws, r, (lxw_col_t)(3 + k), aud_rpt_num(o, keys[k]), b->rate);
        r++;
    }
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group")) {
        aud_xw_str(b, ws, r, 0, aud_rpt_str(g, "attribute", NULL), NULL);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(g, "group", NULL), NULL);
        aud_xw_num(b, ws, r, 2, aud_rpt_num(g, "rows"), b->count);
        for (int k = 0; k < 4; k++)
            aud_xw_num(b, ws, r, (lxw_col_t)(3 + k), aud_rpt_num(g, keys[k]), b->rate);
        r++;
    }
    aud_xw_table(b, ws, 0, r - 1, 7);
}

/* Data: the audited data file's column profile (only when the document has one). */
void aud_xw_data(xw_book *b)
{
    static const char *const head[] = {"Column", "Type", "Values", "Missing", "Missing share",
                                       "Min", "5%", "25%", "Median", "75%", "95%", "Max",
                                       "Mean", "Std", "Categories", "Most frequent (count)"};
    static const double widths[] = {22, 12, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 11, 60};
    static const char *const stats[] = {"min", NULL, NULL, NULL, NULL, NULL, "max", "mean", "std"};
    static const char *const quants[] = {NULL, "5%", "25%", "50%", "75%", "95%"};
    const cJSON *p = aud_rpt_obj(b->doc, "profile");
    const cJSON *c;
    if (p == NULL)
        return;
    lxw_worksheet *ws = aud_xw_sheet(b, "Data");
    lxw_row_t r = 1;
    if (ws == NULL)
        return;
    double rows = aud_rpt_num(p, "rows");
    aud_xw_header(b, ws, 0, head, widths, 16);
    cJSON_ArrayForEach(c, aud_rpt_arr(p, "columns")) {
        int numeric = strcmp(aud_rpt_str(c, "type", ""), "numeric") == 0;
        double m = aud_rpt_num(c, "missing");
        aud_xw_str(b, ws, r, 0, aud_rpt_str(c, "name", NULL), b->key);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(c, "type", NULL), NULL);
        aud_xw_num(b, ws, r, 2, aud_rpt_num(c, "count"), b->count);
        aud_xw_num(b, ws, r, 3, m, b->count);
        aud_xw_num(b, ws, r, 4, rows > 0 ? m / rows : NAN, b->pct);
        if (numeric) {
            for (int k = 0; k < 9; k++) {
                double v = k >= 1 && k <= 5 ? aud_rpt_num(aud_rpt_obj(c, "quantiles"), quants[k])
                                            : aud_rpt_num(c, stats[k]);
                aud_xw_num(b, ws, r, (lxw_col_t)(5 + k), v, b->num);
            }
        } else {
            char text[2000], t[RPT_NUMBUF];
            size_t used = 0;
            const cJSON *cat;
            text[0] = '\0';
            cJSON_ArrayForEach(cat, aud_rpt_obj(c, "categories")) {
                if (used + 1 >= sizeof text || !cJSON_IsNumber(cat))
                    break;
                used += (size_t)snprintf(text + used, sizeof text - used, "%s%s (%s)",
                                         used ? ", " : "", cat->string,
                                         aud_rpt_fmt(cat->valuedouble, RPT_INT, t));
            }
            aud_rpt_utf8_fix_tail(text);
            aud_xw_num(b, ws, r, 14, aud_rpt_num(c, "n_categories"), b->count);
            aud_xw_str(b, ws, r, 15, text, NULL);
        }
        r++;
    }
    aud_xw_table(b, ws, 0, r - 1, 16);
}
