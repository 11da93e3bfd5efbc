/* xlsx_global.c - the Global sheet (results "global", docs/explanations.md "Global views"):
 * permutation importance of every feature with its interval, then the partial dependence of the
 * top features (per class for a multiclass model) and their ICE curves as long tables (feature,
 * [class,] grid value, average model output; feature, [class,] data row, grid value, output),
 * with a native line chart of each of the first entries: the partial dependence over the ICE
 * curves, read from the tables' cells. */
#include "reports/xlsx_int.h"

#include <stdio.h>
#include <stdlib.h>

#define XW_PDP_CHARTS 8   /* line charts of the first partial dependence entries */

/* Feature (and class) cells of a long-table row. */
static void cells_key(xw_book *b, lxw_worksheet *ws, lxw_row_t row, const cJSON *f, int multi)
{
    aud_xw_str(b, ws, row, 0, aud_rpt_str(f, "feature", "?"), NULL);
    if (multi)
        aud_xw_num(b, ws, row, 1, aud_rpt_num(f, "class"), b->count);
}

/* The partial dependence of one entry (rows pd0.. of the table, a thick line) over its ICE curves
 * (rows ice0.., one thin grey line per data row), as a scatter chart with straight lines. */
static void pdp_chart(xw_book *b, lxw_worksheet *ws, const cJSON *f, int multi, lxw_row_t pd0,
                      lxw_row_t ice0, lxw_col_t c0, lxw_row_t at_r, lxw_col_t at_c)
{
    size_t G = aud_rpt_count(aud_rpt_arr(f, "grid")), n_ice = aud_rpt_count(aud_rpt_arr(f, "ice"));
    char title[300];
    if (G == 0 || b->status != LXW_NO_ERROR)
        return;
    lxw_chart *ch = workbook_add_chart(b->wb, LXW_CHART_SCATTER_STRAIGHT);
    if (ch == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart");
        return;
    }
    lxw_chart_line thin = {.color = 0xBBBBBB, .width = 0.5};
    lxw_chart_line thick = {.color = 0x1F4E79, .width = 2.25};
    for (size_t i = 0; i < n_ice; i++) {
        lxw_row_t r0 = ice0 + (lxw_row_t)(i * G);
        lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
        if (s == NULL) {
            aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
            return;
        }
        chart_series_set_categories(s, "Global", r0, c0 + 2, r0 + (lxw_row_t)G - 1, c0 + 2);
        chart_series_set_values(s, "Global", r0, c0 + 3, r0 + (lxw_row_t)G - 1, c0 + 3);
        chart_series_set_line(s, &thin);
    }
    lxw_chart_series *pd = chart_add_series(ch, NULL, NULL);
    if (pd == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
        return;
    }
    chart_series_set_categories(pd, "Global", pd0, c0 + 1, pd0 + (lxw_row_t)G - 1, c0 + 1);
    chart_series_set_values(pd, "Global", pd0, c0 + 2, pd0 + (lxw_row_t)G - 1, c0 + 2);
    chart_series_set_line(pd, &thick);
    if (multi)
        snprintf(title, sizeof title, "%s: P(class %.0f)", aud_rpt_str(f, "feature", "?"),
                 aud_rpt_num(f, "class"));
    else
        snprintf(title, sizeof title, "%s", aud_rpt_str(f, "feature", "?"));
    chart_title_set_name(ch, title);
    chart_axis_set_name(ch->x_axis, "feature value");
    char ylab[300];
    aud_rpt_pd_axis(b->doc, f, ylab, sizeof ylab);
    chart_axis_set_name(ch->y_axis, ylab);
    chart_legend_set_position(ch, LXW_CHART_LEGEND_NONE);
    aud_xw_chk(b, worksheet_insert_chart(ws, at_r, at_c, ch), "insert chart");
}

void aud_xw_global(xw_book *b)
{
    static const char *const head[] = {"Feature", "Mean drop in score", "Std", "95% low",
                                       "95% high"};
    static const double widths[] = {28, 18, 12, 12, 12};
    static const char *const pd_head[] = {"Feature", "Grid value", "Partial dependence"};
    static const char *const pd_head_mc[] = {"Feature", "Class", "Grid value",
                                             "Partial dependence"};
    static const char *const ice_head[] = {"Feature", "Data row (0-based)", "Grid value",
                                           "Model output (ICE)"};
    static const char *const ice_head_mc[] = {"Feature", "Class", "Data row (0-based)",
                                              "Grid value", "Probability (ICE)"};
    const cJSON *gl = aud_rpt_obj(b->doc, "global"), *f, *g, *a;
    if (gl == NULL && aud_rpt_skip_reason(b->doc, "global") == NULL)
        return;   /* a document from before the section */
    lxw_worksheet *ws = aud_xw_sheet(b, "Global");
    lxw_row_t r = 1;
    const lxw_col_t K = 6;
    if (ws == NULL)
        return;
    if (gl == NULL) {
        aud_xw_not_run(b, ws, 0, "global");
        return;
    }
    aud_xw_header(b, ws, 0, head, widths, 5);
    cJSON_ArrayForEach(f, aud_rpt_arr(gl, "permutation_importance")) {
        aud_xw_str(b, ws, r, 0, aud_rpt_str(f, "feature", "?"), NULL);
        aud_xw_num(b, ws, r, 1, aud_rpt_num(f, "mean"), b->shap);
        aud_xw_num(b, ws, r, 2, aud_rpt_num(f, "std"), b->shap);
        aud_xw_num(b, ws, r, 3, aud_rpt_num(f, "ci_low"), b->shap);
        aud_xw_num(b, ws, r, 4, aud_rpt_num(f, "ci_high"), b->shap);
        r++;
    }
    aud_xw_table(b, ws, 0, r - 1, 5);
    static const char *const keys[] = {"Score", "Baseline score", "Rows", "Repeats per feature"};
    static const char *const fields[] = {"score", "baseline", "rows", "repeats"};
    lxw_format *fmt[] = {NULL, b->shap, b->count, b->count};
    aud_xw_chk(b, worksheet_set_column(ws, K, K, 26, NULL), "column width");
    aud_xw_chk(b, worksheet_set_column(ws, K + 1, K + 1, 14, NULL), "column width");
    for (lxw_row_t k = 0; k < 4; k++) {
        aud_xw_str(b, ws, k, K, keys[k], b->key);
        if (fmt[k] == NULL)
            aud_xw_str(b, ws, k, K + 1, aud_rpt_str(gl, fields[k], ""), NULL);
        else
            aud_xw_num(b, ws, k, K + 1, aud_rpt_num(gl, fields[k]), fmt[k]);
    }
    const cJSON *pds = aud_rpt_arr(gl, "partial_dependence");
    if (aud_rpt_count(pds) == 0)
        return;
    int multi = cJSON_GetObjectItemCaseSensitive(gl, "classes") != NULL;
    if (multi) {
        aud_xw_str(b, ws, 4, K, "Classes (one-vs-rest AUC)", b->key);
        aud_xw_num(b, ws, 4, K + 1, aud_rpt_num(gl, "classes"), b->count);
    }
    lxw_col_t c0 = multi ? 1 : 0;   /* multiclass tables have a Class column after Feature */
    /* partial dependence, then the ICE curves, as long tables; each entry's rows remembered
     * for its chart */
    lxw_row_t h = r + 2, row = h + 1;
    size_t n_pd = aud_rpt_count(pds), e = 0;
    lxw_row_t *pd_r0 = calloc(2 * n_pd + 1, sizeof *pd_r0), *ice_r0 = pd_r0 + n_pd;
    if (pd_r0 == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "ICE rows");
        return;
    }
    aud_xw_header(b, ws, h, multi ? pd_head_mc : pd_head, NULL, 3 + (size_t)c0);
    cJSON_ArrayForEach(f, pds) {
        pd_r0[e++] = row;
        for (g = aud_rpt_arr(f, "grid")->child, a = aud_rpt_arr(f, "average")->child;
             g != NULL && a != NULL; g = g->next, a = a->next) {
            cells_key(b, ws, row, f, multi);
            aud_xw_num(b, ws, row, c0 + 1, g->valuedouble, b->shap);
            aud_xw_num(b, ws, row, c0 + 2, a->valuedouble, b->shap);
            row++;
        }
    }
    aud_xw_table(b, ws, h, row - 1, 3 + c0);
    h = row + 1;
    row = h + 1;
    e = 0;
    aud_xw_header(b, ws, h, multi ? ice_head_mc : ice_head, NULL, 4 + (size_t)c0);
    cJSON_ArrayForEach(f, pds) {
        const cJSON *rows = aud_rpt_arr(f, "ice_rows"), *curve, *who = rows->child;
        ice_r0[e++] = row;
        cJSON_ArrayForEach(curve, aud_rpt_arr(f, "ice")) {
            for (g = aud_rpt_arr(f, "grid")->child, a = curve->child; g != NULL && a != NULL;
                 g = g->next, a = a->next) {
                cells_key(b, ws, row, f, multi);
                aud_xw_json(b, ws, row, c0 + 1, who, b->count);
                aud_xw_num(b, ws, row, c0 + 2, g->valuedouble, b->shap);
                aud_xw_num(b, ws, row, c0 + 3, a->valuedouble, b->shap);
                row++;
            }
            who = who != NULL ? who->next : NULL;
        }
    }
    aud_xw_table(b, ws, h, row - 1, 4 + c0);
    /* a native line chart per entry, two side by side right of the tables */
    e = 0;
    cJSON_ArrayForEach(f, pds) {
        if (e == XW_PDP_CHARTS)
            break;
        pdp_chart(b, ws, f, multi, pd_r0[e], ice_r0[e], c0, (lxw_row_t)(6 + (e / 2) * 18),
                  (lxw_col_t)(K + (e % 2) * 8));
        e++;
    }
    free(pd_r0);
}
