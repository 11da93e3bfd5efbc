/* xlsx_model.c - the Model sheet: the spec's model card, the facts read from the model file with
 * each feature's split importance, performance overall and by group (AUC with its DeLong
 * interval, accuracy, log-loss, Brier, the confusion matrix), and the overall ROC curve and
 * reliability diagram as Excel tables with native scatter charts beside them. Read from
 * results.json ("model_card", "performance") only. */
#include "reports/xlsx_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHEET "Model"

/* An Excel table (its own filter buttons; several per sheet) over rows r0 (header)..r1 and
 * columns c0..c0+n-1; at least one data row. */
static void add_table(xw_book *b, lxw_worksheet *ws, lxw_row_t r0, lxw_row_t r1, lxw_col_t c0,
                      const char *const *titles, size_t n)
{
    lxw_table_column cols[16], *ptr[17];
    lxw_table_options o;
    if (b->status != LXW_NO_ERROR || r1 <= r0 || n > 16)
        return;
    for (size_t k = 0; k < n; k++) {
        memset(&cols[k], 0, sizeof cols[k]);
        cols[k].header = (char *)titles[k];
        cols[k].header_format = b->head;
        ptr[k] = &cols[k];
    }
    ptr[n] = NULL;
    memset(&o, 0, sizeof o);
    o.columns = ptr;
    o.style_type = LXW_TABLE_STYLE_TYPE_LIGHT;
    o.style_type_number = 1;
    aud_xw_chk(b, worksheet_add_table(ws, r0, c0, r1, (lxw_col_t)(c0 + n - 1), &o), "table");
}

static void title_row(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *t)
{
    aud_xw_str(b, ws, r, 0, t, b->title);
}

/* Free text over columns B..H (about 100 characters), its row as tall as its lines. */
static void merged_text(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *s, lxw_format *f)
{
    int nomem = 0;
    char *fixed = aud_rpt_utf8_repair(s, &nomem);
    const char *t = fixed != NULL ? fixed : s;
    size_t lines = 1, col = 0;
    if (nomem) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "model card");
        return;
    }
    for (const char *q = t; *q != '\0'; q++) {   /* characters, not UTF-8 continuation bytes */
        if ((*q & 0xC0) == 0x80)
            continue;
        if (*q == '\n' || ++col > 95) {
            lines++;
            col = 0;
        }
    }
    aud_xw_chk(b, worksheet_merge_range(ws, r, 1, r, 7, t, f), "model card");
    if (lines > 1)
        aud_xw_chk(b, worksheet_set_row(ws, r, 15.0 * (double)lines, NULL), "row height");
    aud_free(fixed);
}

static lxw_row_t card(xw_book *b, lxw_worksheet *ws, const cJSON *c, lxw_row_t r)
{
    static const char *const keys[] = {"owner", "intended_use", "label_meaning", "training_data",
                                       "training_period", "limitations", "contact"};
    static const char *const labels[] = {"Owner", "Intended use", "What the label means",
                                         "Training data", "Training period",
                                         "Known limitations", "Contact"};
    const cJSON *m = aud_rpt_obj(c, "model");
    title_row(b, ws, r++, "Model card");
    for (int k = 0; k < 7; k++) {
        const char *v = aud_rpt_str(c, keys[k], NULL);
        aud_xw_str(b, ws, r, 0, labels[k], b->key);
        merged_text(b, ws, r, v != NULL ? v : "(not given in the spec's model_card)",
                    v != NULL ? b->wrap : b->muted);
        r++;
    }
    if (m == NULL)
        return r + 1;
    static const char *const sk[] = {"format", "objective"};
    static const char *const sl[] = {"Model format", "Objective"};
    static const char *const nk[] = {"trees", "max_depth", "leaves", "outputs"};
    static const char *const nl[] = {"Trees", "Max depth (deepest leaf)", "Leaves", "Outputs"};
    for (int k = 0; k < 2; k++) {
        aud_xw_str(b, ws, r, 0, sl[k], b->key);
        aud_xw_str(b, ws, r++, 1, aud_rpt_str(m, sk[k], ""), NULL);
    }
    for (int k = 0; k < 4; k++) {
        if (cJSON_GetObjectItemCaseSensitive(m, nk[k]) == NULL)
            continue;
        aud_xw_str(b, ws, r, 0, nl[k], b->key);
        aud_xw_num(b, ws, r++, 1, aud_rpt_num(m, nk[k]), b->count);
    }
    r++;
    /* features in the model's order */
    int trees = strcmp(aud_rpt_str(m, "kind", "trees"), "trees") == 0;
    static const char *const th[] = {"#", "Feature", "Splits", "Total cover", "Cover share"};
    static const char *const lh[] = {"#", "Feature", "Coefficient"};
    const cJSON *f;
    double total = 0.0;
    cJSON_ArrayForEach(f, aud_rpt_arr(m, "features"))
        total += isfinite(aud_rpt_num(f, "cover")) ? aud_rpt_num(f, "cover") : 0.0;
    title_row(b, ws, r++, "Features of the model, in its order (split importance)");
    lxw_row_t head = r++;
    double i = 0;
    cJSON_ArrayForEach(f, aud_rpt_arr(m, "features")) {
        aud_xw_num(b, ws, r, 0, ++i, b->count);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(f, "name", ""), NULL);
        if (trees) {
            aud_xw_num(b, ws, r, 2, aud_rpt_num(f, "splits"), b->count);
            aud_xw_num(b, ws, r, 3, aud_rpt_num(f, "cover"), b->count);
            aud_xw_num(b, ws, r, 4, total > 0 ? aud_rpt_num(f, "cover") / total : NAN, b->pct);
        } else {
            aud_xw_num(b, ws, r, 2, aud_rpt_num(f, "coefficient"), b->num);
        }
        r++;
    }
    add_table(b, ws, head, r - 1, 0, trees ? th : lh, trees ? 5 : 3);
    return r + 1;
}

static void perf_row(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *g, const char *attr,
                     const char *group)
{
    static const char *const keys[] = {"accuracy", "log_loss", "brier_score"};
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(g, "auc_ci");
    const cJSON *cm = aud_rpt_obj(g, "confusion");
    static const char *const cmk[] = {"tn", "fp", "fn", "tp"};
    aud_xw_str(b, ws, r, 0, attr, b->key);
    aud_xw_str(b, ws, r, 1, group, NULL);
    aud_xw_num(b, ws, r, 2, aud_rpt_num(g, "rows"), b->count);
    aud_xw_num(b, ws, r, 3, aud_rpt_num(g, "positives"), b->count);
    aud_xw_num(b, ws, r, 4, aud_rpt_num(g, "auc"), b->rate);
    aud_xw_num(b, ws, r, 5, cJSON_GetArraySize(ci) == 2 ? cJSON_GetArrayItem(ci, 0)->valuedouble : NAN,
               b->rate);
    aud_xw_num(b, ws, r, 6, cJSON_GetArraySize(ci) == 2 ? cJSON_GetArrayItem(ci, 1)->valuedouble : NAN,
               b->rate);
    for (int k = 0; k < 3; k++)
        aud_xw_num(b, ws, r, (lxw_col_t)(7 + k), aud_rpt_num(g, keys[k]), b->rate);
    for (int k = 0; k < 4; k++)
        aud_xw_num(b, ws, r, (lxw_col_t)(10 + k), aud_rpt_num(cm, cmk[k]), b->count);
}

static void scatter(xw_book *b, lxw_worksheet *ws, const char *title, const char *xt,
                    const char *yt, lxw_row_t r0, lxw_row_t r1, lxw_col_t xc, lxw_col_t yc,
                    const char *name, const char *diag, lxw_row_t at_r, lxw_col_t at_c)
{
    lxw_chart *ch = b->status == LXW_NO_ERROR
                        ? workbook_add_chart(b->wb, LXW_CHART_SCATTER_STRAIGHT_WITH_MARKERS)
                        : NULL;
    if (ch == NULL || r1 < r0)
        return;
    lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
    lxw_chart_series *dg = chart_add_series(ch, NULL, NULL);
    if (s == NULL || dg == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart series");
        return;
    }
    chart_series_set_categories(s, SHEET, r0, xc, r1, xc);
    chart_series_set_values(s, SHEET, r0, yc, r1, yc);
    chart_series_set_name(s, name);
    if (r1 - r0 > 40)
        chart_series_set_marker_type(s, LXW_CHART_MARKER_NONE);
    chart_series_set_categories(dg, SHEET, r0, xc, r1, xc);   /* y = x */
    chart_series_set_values(dg, SHEET, r0, xc, r1, xc);
    chart_series_set_name(dg, diag);
    chart_series_set_marker_type(dg, LXW_CHART_MARKER_NONE);
    lxw_chart_line dash = {.color = 0x999999, .dash_type = LXW_CHART_LINE_DASH_DASH, .width = 1};
    chart_series_set_line(dg, &dash);
    chart_title_set_name(ch, title);
    chart_axis_set_name(ch->x_axis, xt);
    chart_axis_set_name(ch->y_axis, yt);
    chart_axis_set_min(ch->x_axis, 0);
    chart_axis_set_max(ch->x_axis, 1);
    chart_axis_set_min(ch->y_axis, 0);
    chart_axis_set_max(ch->y_axis, 1);
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options o = {.x_scale = 1.0, .y_scale = 1.3};
    aud_xw_chk(b, worksheet_insert_chart_opt(ws, at_r, at_c, ch, &o), "insert chart");
}

/* The overall ROC points and calibration bins as tables, charts to their right. */
static lxw_row_t curves(xw_book *b, lxw_worksheet *ws, const cJSON *o, lxw_row_t r)
{
    static const char *const rh[] = {"FPR", "TPR", "Threshold (score >=)"};
    static const char *const ch[] = {"Bin from", "Bin to", "Rows", "Mean predicted",
                                     "Observed share of 1"};
    const cJSON *roc = aud_rpt_obj(o, "roc"), *cal = aud_rpt_obj(o, "calibration");
    lxw_row_t top = r, end = r;
    if (roc != NULL) {
        size_t n = aud_rpt_count(aud_rpt_arr(roc, "fpr"));
        aud_xw_str(b, ws, r, 2, "ROC curve, all rows", b->title);
        for (size_t i = 0; i < n; i++) {
            lxw_row_t rr = r + 2 + (lxw_row_t)i;
            aud_xw_json(b, ws, rr, 2, cJSON_GetArrayItem(aud_rpt_arr(roc, "fpr"), (int)i), b->rate);
            aud_xw_json(b, ws, rr, 3, cJSON_GetArrayItem(aud_rpt_arr(roc, "tpr"), (int)i), b->rate);
            aud_xw_json(b, ws, rr, 4, cJSON_GetArrayItem(aud_rpt_arr(roc, "thresholds"), (int)i), b->num);
        }
        if (n > 0) {
            add_table(b, ws, r + 1, r + 1 + (lxw_row_t)n, 2, rh, 3);
            scatter(b, ws, "ROC curve", "False positive rate", "True positive rate", r + 2,
                    r + 1 + (lxw_row_t)n, 2, 3, "all rows", "chance", r + 14, 6);
        }
        end = r + 2 + (lxw_row_t)n;
    }
    if (cal != NULL) {
        size_t n = aud_rpt_count(aud_rpt_arr(cal, "count"));
        const cJSON *ed = aud_rpt_arr(cal, "edges");
        aud_xw_str(b, ws, top, 6, "Calibration bins (reliability diagram)", b->title);
        for (size_t i = 0; i < n; i++) {
            lxw_row_t rr = top + 2 + (lxw_row_t)i;
            aud_xw_json(b, ws, rr, 6, cJSON_GetArrayItem(ed, (int)i), b->rate);
            aud_xw_json(b, ws, rr, 7, cJSON_GetArrayItem(ed, (int)i + 1), b->rate);
            aud_xw_json(b, ws, rr, 8, cJSON_GetArrayItem(aud_rpt_arr(cal, "count"), (int)i), b->count);
            aud_xw_json(b, ws, rr, 9, cJSON_GetArrayItem(aud_rpt_arr(cal, "mean_predicted"), (int)i), b->rate);
            aud_xw_json(b, ws, rr, 10, cJSON_GetArrayItem(aud_rpt_arr(cal, "fraction_positive"), (int)i), b->rate);
        }
        if (n > 0) {
            add_table(b, ws, top + 1, top + 1 + (lxw_row_t)n, 6, ch, 5);
            scatter(b, ws, "Calibration (10 equal-width bins)", "Mean predicted probability",
                    "Observed share of label 1", top + 2, top + 1 + (lxw_row_t)n, 9, 10,
                    "all rows", "perfectly calibrated", top + 14, 13);
        }
        if (top + 2 + (lxw_row_t)n > end)
            end = top + 2 + (lxw_row_t)n;
    }
    return end;
}

void aud_xw_model(xw_book *b)
{
    static const char *const head[] = {"Attribute", "Group", "Rows", "Positives", "AUC",
                                       "AUC 95% low", "AUC 95% high", "Accuracy", "Log-loss",
                                       "Brier", "TN", "FP", "FN", "TP"};
    static const double widths[] = {24, 40, 12, 12, 12, 12, 12, 12, 12, 12, 12, 9, 9, 9};
    const cJSON *c = aud_rpt_obj(b->doc, "model_card"), *p = aud_rpt_obj(b->doc, "performance");
    const cJSON *g;
    if (c == NULL && p == NULL)
        return;
    lxw_worksheet *ws = aud_xw_sheet(b, SHEET);
    if (ws == NULL)
        return;
    for (lxw_col_t k = 0; k < 14; k++)
        aud_xw_chk(b, worksheet_set_column(ws, k, k, widths[k], NULL), "column width");
    lxw_row_t r = card(b, ws, c, 0);
    if (p == NULL) {
        aud_xw_not_run(b, ws, r, "performance");
        return;
    }
    char line[200], t[RPT_NUMBUF];
    snprintf(line, sizeof line, "Performance: label %s, predicted 1 when the score >= %s (%s score)",
             aud_rpt_str(p, "label", "?"), aud_rpt_fmt(aud_rpt_num(p, "threshold"), RPT_AUTO, t),
             aud_rpt_str(p, "score", "probability"));
    title_row(b, ws, r++, line);
    lxw_row_t first = r++;
    if (aud_rpt_obj(p, "overall") != NULL)
        perf_row(b, ws, r++, aud_rpt_obj(p, "overall"), "(all rows)", "");
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group"))
        perf_row(b, ws, r++, g, aud_rpt_str(g, "attribute", ""), aud_rpt_str(g, "group", ""));
    add_table(b, ws, first, r - 1, 0, head, 14);
    aud_xw_str(b, ws, r++, 0,
               "AUC interval: 95% DeLong (normal approximation, clipped to [0, 1]); blank with "
               "fewer than 2 rows of either class. Log-loss and Brier only for probabilities.",
               b->muted);
    r++;
    if (aud_rpt_obj(p, "overall") != NULL)
        curves(b, ws, aud_rpt_obj(p, "overall"), r);
}
