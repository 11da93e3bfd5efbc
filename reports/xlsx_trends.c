/* xlsx_trends.c - the Trends sheet (SPEC section 8): each policy check's values over the last
 * runs of the run history (results.json "trends", docs/history.md), its bound and trend, and a
 * native line chart per check (values against the bound). Present only with a run history. */
#include "reports/xlsx_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIXED 5            /* Metric, Attribute, Group, Column, Series */
#define CHART_ROWS 16      /* rows a chart takes (288 px at the default 20 px rows) */

static void line_chart(xw_book *b, lxw_worksheet *ws, const cJSON *c, lxw_row_t vr,
                       lxw_row_t br, int has_bound, lxw_col_t last_col, lxw_row_t at_r,
                       lxw_col_t at_c)
{
    char cats[LXW_MAX_FORMULA_RANGE_LENGTH], vals[LXW_MAX_FORMULA_RANGE_LENGTH], title[400];
    lxw_chart *ch = workbook_add_chart(b->wb, LXW_CHART_LINE);
    if (ch == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart");
        return;
    }
    lxw_rowcol_to_formula_abs(cats, "Trends", 0, FIXED, 0, last_col);
    lxw_rowcol_to_formula_abs(vals, "Trends", vr, FIXED, vr, last_col);
    lxw_chart_series *s = chart_add_series(ch, cats, vals);
    if (s == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
        return;
    }
    chart_series_set_name(s, "value");
    chart_series_set_marker_type(s, LXW_CHART_MARKER_CIRCLE);
    if (has_bound) {
        lxw_rowcol_to_formula_abs(vals, "Trends", br, FIXED, br, last_col);
        lxw_chart_series *bs = chart_add_series(ch, cats, vals);
        if (bs == NULL) {
            aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
            return;
        }
        lxw_chart_line line = {.color = 0xC0392B, .dash_type = LXW_CHART_LINE_DASH_DASH,
                               .width = 1.5};
        chart_series_set_name(bs, "bound");
        chart_series_set_line(bs, &line);
        chart_series_set_marker_type(bs, LXW_CHART_MARKER_NONE);
    }
    const char *a = aud_rpt_str(c, "attribute", NULL), *g = aud_rpt_str(c, "group", NULL);
    const char *col = aud_rpt_str(c, "column", NULL);
    snprintf(title, sizeof title, "%s%s%s%s%s%s", aud_rpt_metric_label(aud_rpt_str(c, "metric", "?")),
             a != NULL ? ", " : "", a != NULL ? a : "", g != NULL ? " = " : "", g != NULL ? g : "",
             col != NULL ? col : "");
    int nomem = 0;
    char *fixed = aud_rpt_utf8_repair(title, &nomem);
    if (nomem) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart title");
        return;
    }
    chart_title_set_name(ch, fixed != NULL ? fixed : title);
    aud_free(fixed);
    chart_title_set_name_font(ch, &(lxw_chart_font){.size = 10, .bold = 1});
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    aud_xw_chk(b, worksheet_insert_chart(ws, at_r, at_c, ch), "chart");
}

void aud_xw_trends(xw_book *b)
{
    const cJSON *tr = aud_rpt_obj(b->doc, "trends");
    if (tr == NULL)
        return;   /* no run history: no sheet */
    const cJSON *runs = aud_rpt_arr(tr, "runs"), *checks = aud_rpt_arr(tr, "checks"), *c, *r;
    lxw_worksheet *ws = aud_xw_sheet(b, "Trends");
    if (ws == NULL)
        return;
    size_t nr = aud_rpt_count(runs);
    static const char *const tail[] = {"Direction", "p-value", "Sen slope per run",
                                       "Slope low (95%)", "Slope high (95%)", "Worsening",
                                       "Worse in each of last K", "Statement"};
    static const double tail_w[] = {12, 11, 12, 12, 12, 11, 12, 70};
    static const char *const head[FIXED] = {"Metric", "Attribute", "Group", "Column", "Series"};
    static const double head_w[FIXED] = {26, 16, 16, 12, 8};
    aud_xw_header(b, ws, 0, head, head_w, FIXED);
    lxw_col_t k = FIXED;
    cJSON_ArrayForEach(r, runs) {
        char name[64];
        snprintf(name, sizeof name, "%.10s%s", aud_rpt_str(r, "created", "?"),
                 aud_rpt_bool(r, "current") == 1 ? " (this run)" : "");
        aud_xw_str(b, ws, 0, k, name, b->head);
        aud_xw_chk(b, worksheet_set_column(ws, k, k, 12, NULL), "column width");
        k++;
    }
    lxw_col_t t0 = (lxw_col_t)(FIXED + nr);
    for (lxw_col_t i = 0; i < 8; i++) {
        aud_xw_str(b, ws, 0, t0 + i, tail[i], b->head);
        aud_xw_chk(b, worksheet_set_column(ws, t0 + i, t0 + i, tail_w[i], NULL), "column width");
    }
    lxw_row_t row = 1;
    size_t n_checks = aud_rpt_count(checks);
    lxw_row_t *value_rows = aud_calloc(n_checks ? n_checks : 1, 2 * sizeof *value_rows);
    if (value_rows == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "trends");
        return;
    }
    size_t i = 0;
    cJSON_ArrayForEach(c, checks) {
        const cJSON *bound = aud_rpt_obj(c, "bound"), *t = aud_rpt_obj(c, "trend"), *v;
        double bmin = aud_rpt_num(bound, "min"), bmax = aud_rpt_num(bound, "max");
        /* a value row, then one row per bound */
        int nb = isfinite(bmin) + isfinite(bmax);
        for (int s = 0; s <= nb; s++) {
            lxw_row_t rr = row + (lxw_row_t)s;
            aud_xw_str(b, ws, rr, 0, aud_rpt_str(c, "metric", "?"), s ? b->muted : NULL);
            aud_xw_str(b, ws, rr, 1, aud_rpt_str(c, "attribute", NULL), s ? b->muted : NULL);
            aud_xw_str(b, ws, rr, 2, aud_rpt_str(c, "group", NULL), s ? b->muted : NULL);
            aud_xw_str(b, ws, rr, 3, aud_rpt_str(c, "column", NULL), s ? b->muted : NULL);
            double bv = s == 0 ? NAN : (s == 1 && isfinite(bmin)) ? bmin : bmax;
            aud_xw_str(b, ws, rr, 4, s == 0 ? "value" : bv == bmin ? "min" : "max",
                       s ? b->muted : NULL);
            for (size_t j = 0; s > 0 && j < nr; j++)
                aud_xw_num(b, ws, rr, (lxw_col_t)(FIXED + j), bv, b->rate);
        }
        cJSON_ArrayForEach(v, aud_rpt_arr(c, "values")) {
            int j = aud_rpt_trend_run_index(runs, v);
            if (j >= 0)
                aud_xw_num(b, ws, row, (lxw_col_t)(FIXED + j), aud_rpt_num(v, "value"), b->rate);
        }
        aud_xw_str(b, ws, row, t0, aud_rpt_str(t, "direction", NULL), NULL);
        aud_xw_num(b, ws, row, t0 + 1, aud_rpt_num(t, "p_value"), b->pval);
        aud_xw_num(b, ws, row, t0 + 2, aud_rpt_num(t, "sen_slope"), b->shap);
        const cJSON *iv = aud_rpt_arr(t, "sen_slope_interval");
        aud_xw_json(b, ws, row, t0 + 3, cJSON_GetArrayItem(iv, 0), b->shap);
        aud_xw_json(b, ws, row, t0 + 4, cJSON_GetArrayItem(iv, 1), b->shap);
        aud_xw_json(b, ws, row, t0 + 5, cJSON_GetObjectItemCaseSensitive(t, "worsening"), NULL);
        aud_xw_json(b, ws, row, t0 + 6,
                    cJSON_GetObjectItemCaseSensitive(t, "worse_each_of_last_k"), NULL);
        aud_xw_str(b, ws, row, t0 + 7, aud_rpt_str(t, "statement", NULL), NULL);
        value_rows[2 * i] = row;
        value_rows[2 * i + 1] = nb > 0 ? row + 1 : 0;
        row += (lxw_row_t)nb + 1;
        i++;
    }
    aud_xw_table(b, ws, 0, row - 1, t0 + 8);
    aud_xw_cf_bool(b, ws, 1, row - 1, t0 + 5, 1);
    aud_xw_cf_bool(b, ws, 1, row - 1, t0 + 6, 1);
    /* the charts, two side by side, under the table */
    lxw_row_t at = row + 1;
    for (size_t j = 0; j < n_checks && nr > 0 && b->status == LXW_NO_ERROR; j++) {
        line_chart(b, ws, cJSON_GetArrayItem(checks, (int)j), value_rows[2 * j],
                   value_rows[2 * j + 1], value_rows[2 * j + 1] != 0,
                   (lxw_col_t)(FIXED + nr - 1), at + (lxw_row_t)(j / 2) * CHART_ROWS,
                   j % 2 ? 5 : 0);
    }
    aud_free(value_rows);
}
