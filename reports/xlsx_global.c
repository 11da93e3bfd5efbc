/* xlsx_global.c - the Global sheet (results "global", docs/explanations.md "Global views"):
 * permutation importance of every feature with its interval, then the partial dependence of the
 * top features as a long table (feature, grid value, average model output). The ICE curves stay
 * in results.json and the PDF's charts. */
#include "reports/xlsx_int.h"

void aud_xw_global(xw_book *b)
{
    static const char *const head[] = {"Feature", "Mean drop in score", "Std", "95% low",
                                       "95% high"};
    static const double widths[] = {28, 18, 12, 12, 12};
    static const char *const pd_head[] = {"Feature", "Grid value", "Partial dependence"};
    static const double pd_widths[] = {28, 18, 12};
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
    lxw_row_t h = r + 2, row = h + 1;
    aud_xw_header(b, ws, h, pd_head, pd_widths, 3);
    cJSON_ArrayForEach(f, pds) {
        for (g = aud_rpt_arr(f, "grid")->child, a = aud_rpt_arr(f, "average")->child;
             g != NULL && a != NULL; g = g->next, a = a->next) {
            aud_xw_str(b, ws, row, 0, aud_rpt_str(f, "feature", "?"), NULL);
            aud_xw_num(b, ws, row, 1, g->valuedouble, b->shap);
            aud_xw_num(b, ws, row, 2, a->valuedouble, b->shap);
            row++;
        }
    }
    aud_xw_table(b, ws, h, row - 1, 3);
}
