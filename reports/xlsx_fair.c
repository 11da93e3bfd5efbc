/* xlsx_fair.c - the Fairness and Intersections sheets: one row per (attribute, group) with every
 * rate and its 95% interval, disparate impact and impact ratio coloured against 0.8, the summary
 * metrics and tests below, the compliance views, and a native selection-rate chart per attribute. */
#include "reports/xlsx_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_FIXED 7
#define MAX_ATTRS 32

static lxw_col_t header(xw_book *b, lxw_worksheet *ws)
{
    static const char *const fixed[N_FIXED] = {"Attribute", "Reference", "Group", "Count",
                                               "Share", "Small", "Excluded from verdict"};
    static const double widths[N_FIXED] = {18, 38, 24, 12, 12, 10, 12};
    static const char *const tail[] = {"Disparate impact", "Impact ratio", "Fisher p-value"};
    lxw_col_t c = N_FIXED;
    aud_xw_header(b, ws, 0, fixed, widths, N_FIXED);
    const cJSON *words = aud_rpt_obj(aud_rpt_obj(b->doc, "fairness"), "rate_meanings");
    for (size_t i = 0; aud_rpt_group_rates[i] != NULL; i++) {
        char t[128];
        const char *lab = aud_rpt_metric_label(aud_rpt_group_rates[i]);
        const char *w = aud_rpt_str(words, aud_rpt_group_rates[i], NULL);
        if (w != NULL)   /* the rate in words as a note on its header (issue 14 item 1) */
            aud_xw_chk(b, worksheet_write_comment(ws, 0, c, w), "rate note");
        aud_xw_str(b, ws, 0, c++, lab, b->head);
        snprintf(t, sizeof t, "%s CI low", lab);
        aud_xw_str(b, ws, 0, c++, t, b->head);
        snprintf(t, sizeof t, "%s CI high", lab);
        aud_xw_str(b, ws, 0, c++, t, b->head);
    }
    aud_xw_chk(b, worksheet_set_column(ws, N_FIXED, c + 2, 11, NULL), "column width");
    for (size_t i = 0; i < 3; i++)
        aud_xw_str(b, ws, 0, c++, tail[i], b->head);
    return c;
}

static void group_row(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *a, const cJSON *g)
{
    lxw_col_t c = N_FIXED;
    aud_xw_str(b, ws, r, 0, aud_rpt_str(a, "name", "?"), NULL);
    aud_xw_str(b, ws, r, 1, aud_rpt_str(a, "reference", NULL), NULL);
    aud_xw_str(b, ws, r, 2, aud_rpt_str(g, "group", "?"), NULL);
    aud_xw_num(b, ws, r, 3, aud_rpt_num(g, "count"), b->count);
    aud_xw_num(b, ws, r, 4, aud_rpt_num(g, "share"), b->pct);
    aud_xw_bool(b, ws, r, 5, aud_rpt_bool(g, "small"));
    aud_xw_bool(b, ws, r, 6, aud_rpt_bool(g, "excluded_from_verdict"));
    for (size_t i = 0; aud_rpt_group_rates[i] != NULL; i++) {
        char k[96];
        const cJSON *ci;
        snprintf(k, sizeof k, "%s_ci", aud_rpt_group_rates[i]);
        ci = cJSON_GetObjectItemCaseSensitive(g, k);
        aud_xw_num(b, ws, r, c++, aud_rpt_num(g, aud_rpt_group_rates[i]), b->rate);
        aud_xw_num(b, ws, r, c++, cJSON_IsArray(ci) ? aud_rpt_item_num(ci->child) : NAN, b->rate);
        aud_xw_num(b, ws, r, c++, cJSON_IsArray(ci) ? aud_rpt_item_num(ci->child->next) : NAN, b->rate);
    }
    aud_xw_num(b, ws, r, c++, aud_rpt_num(g, "disparate_impact"), b->rate);
    aud_xw_num(b, ws, r, c++, aud_rpt_num(g, "impact_ratio"), b->rate);
    aud_xw_num(b, ws, r, c, aud_rpt_num(g, "fisher_p_value"), b->pval);
}

/* The summary block: per attribute its summary metrics and tests; when a group was excluded
 * from an attribute's figures, its all-groups figures (Fairlearn / AIF360 definitions) in four
 * more columns, which the header has only when some attribute needs them. */
static lxw_row_t summaries(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *attrs)
{
    static const char *const head[] = {"Attribute", "Summary metric", "Value", "CI low",
                                       "CI high", "Statistic", "DOF", "Reason",
                                       "All groups (Fairlearn/AIF360)", "All groups statistic",
                                       "All groups DOF", "All groups reason"};
    static const char *const tests[] = {"chi_square", "fisher"};
    const cJSON *a;
    size_t n_head = 8;
    cJSON_ArrayForEach(a, attrs) {
        if (aud_rpt_all_groups(aud_rpt_obj(a, "summary")) != NULL)
            n_head = 12;
    }
    lxw_row_t hr = r;
    aud_xw_header(b, ws, r++, head, NULL, n_head);
    cJSON_ArrayForEach(a, attrs) {
        const cJSON *s = aud_rpt_obj(a, "summary");
        const cJSON *all = aud_rpt_all_groups(s);
        if (s == NULL)
            continue;
        for (size_t i = 0; aud_rpt_summary_metrics[i] != NULL; i++) {
            const char *k = aud_rpt_summary_metrics[i];
            if (cJSON_GetObjectItemCaseSensitive(s, k) == NULL)
                continue;
            char kc[96];
            const cJSON *ci;
            snprintf(kc, sizeof kc, "%s_ci", k);
            ci = cJSON_GetObjectItemCaseSensitive(s, kc);
            aud_xw_str(b, ws, r, 0, aud_rpt_str(a, "name", "?"), NULL);
            aud_xw_str(b, ws, r, 1, k, NULL);
            aud_xw_num(b, ws, r, 2, aud_rpt_num(s, k), b->rate);
            if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2) {
                aud_xw_num(b, ws, r, 3, aud_rpt_item_num(ci->child), b->rate);
                aud_xw_num(b, ws, r, 4, aud_rpt_item_num(ci->child->next), b->rate);
            }
            aud_xw_str(b, ws, r, 7, aud_rpt_null_reason(s, k), b->muted);
            if (all != NULL) {
                aud_xw_num(b, ws, r, 8, aud_rpt_num(all, k), b->rate);
                aud_xw_str(b, ws, r, 11, aud_rpt_null_reason(all, k), b->muted);
            }
            r++;
        }
        for (int i = 0; i < 2; i++) {
            const cJSON *t = aud_rpt_obj(s, tests[i]);
            const cJSON *ta = aud_rpt_obj(all, tests[i]);
            char k[64];
            if (t == NULL)
                continue;
            snprintf(k, sizeof k, "%s p_value", tests[i]);
            aud_xw_str(b, ws, r, 0, aud_rpt_str(a, "name", "?"), NULL);
            aud_xw_str(b, ws, r, 1, k, NULL);
            aud_xw_num(b, ws, r, 2, aud_rpt_num(t, "p_value"), b->pval);
            aud_xw_num(b, ws, r, 5, aud_rpt_num(t, "statistic"), b->rate);
            aud_xw_num(b, ws, r, 6, aud_rpt_num(t, "dof"), b->count);
            aud_xw_str(b, ws, r, 7, aud_rpt_str(t, "reason", NULL), b->muted);
            if (ta != NULL) {
                aud_xw_num(b, ws, r, 8, aud_rpt_num(ta, "p_value"), b->pval);
                aud_xw_num(b, ws, r, 9, aud_rpt_num(ta, "statistic"), b->rate);
                aud_xw_num(b, ws, r, 10, aud_rpt_num(ta, "dof"), b->count);
                aud_xw_str(b, ws, r, 11, aud_rpt_str(ta, "reason", NULL), b->muted);
            }
            r++;
        }
    }
    aud_xw_table(b, ws, hr, r - 1, (lxw_col_t)n_head);
    return r;
}

static lxw_row_t compliance(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *fair)
{
    static const char *const h4[] = {"Four-fifths: attribute", "Group", "Count", "Impact ratio",
                                     "Highest group", "Highest count", "Fisher p-value"};
    static const char *const hl[] = {"LL144: attribute", "Category", "Count", "Share", "Rate",
                                     "Impact ratio", "Excluded", "Unknown rows"};
    const cJSON *tb, *g;
    rpt_ff_row *rows = NULL;
    size_t n = 0;
    rpt_ll144 v;
    if (aud_rpt_four_fifths(fair, &rows, &n) != AUD_OK) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "four-fifths");
        return r;
    }
    if (n > 0) {
        lxw_row_t first, hr;
        r++;
        hr = r;
        aud_xw_header(b, ws, r++, h4, NULL, 7);
        first = r;
        for (size_t i = 0; i < n; i++) {
            aud_xw_str(b, ws, r, 0, rows[i].attribute, NULL);
            aud_xw_str(b, ws, r, 1, rows[i].group, NULL);
            aud_xw_num(b, ws, r, 2, rows[i].count, b->count);
            aud_xw_num(b, ws, r, 3, rows[i].impact_ratio, b->rate);
            aud_xw_str(b, ws, r, 4, rows[i].highest, NULL);
            aud_xw_num(b, ws, r, 5, rows[i].highest_count, b->count);
            aud_xw_num(b, ws, r, 6, rows[i].fisher_p, b->pval);
            r++;
        }
        aud_xw_table(b, ws, hr, r - 1, 7);
        aud_xw_cf_min(b, ws, first, r - 1, 3, AUD_FOUR_FIFTHS);
    }
    aud_free(rows);
    aud_rpt_ll144_get(fair, &v);
    if (v.tables != NULL) {
        lxw_row_t hr;
        r++;
        hr = r;
        aud_xw_header(b, ws, r++, hl, NULL, 8);
        cJSON_ArrayForEach(tb, v.tables) {
            lxw_row_t first = r;
            cJSON_ArrayForEach(g, aud_rpt_ll144_rows(tb)) {
                aud_xw_str(b, ws, r, 0, aud_rpt_ll144_table_name(tb), NULL);
                aud_xw_str(b, ws, r, 1, aud_rpt_ll144_row_name(g), NULL);
                aud_xw_num(b, ws, r, 2, aud_rpt_num(g, "count"), b->count);
                aud_xw_num(b, ws, r, 3, aud_rpt_num(g, "share"), b->pct);
                aud_xw_num(b, ws, r, 4, aud_rpt_ll144_row_rate(&v, g), b->rate);
                aud_xw_num(b, ws, r, 5, aud_rpt_num(g, "impact_ratio"), b->rate);
                aud_xw_bool(b, ws, r, 6, aud_rpt_bool(g, "excluded"));
                aud_xw_num(b, ws, r, 7, aud_rpt_ll144_unknown(tb), b->count);
                r++;
            }
            aud_xw_cf_min(b, ws, first, r - 1, 5, AUD_FOUR_FIFTHS);
        }
        aud_xw_table(b, ws, hr, r - 1, 8);
    }
    return r;
}

/* The decision rule and every rate in words for this label and favourable outcome, as the PDF
 * states them beside its tables ("FPR: approved among rows with default = 1 (the unfavourable
 * outcome)"); nothing when the document has neither. */
static lxw_row_t rate_words(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const cJSON *f)
{
    static const char *const head[] = {"Rate", "Meaning here"};
    const cJSON *m = aud_rpt_obj(f, "rate_meanings");
    const char *rule = aud_rpt_str(aud_rpt_obj(b->doc, "explanations"), "decision_rule", NULL);
    if (m == NULL && rule == NULL)
        return r;
    r++;
    lxw_row_t hr = r;
    aud_xw_header(b, ws, r++, head, NULL, 2);
    if (rule != NULL) {
        aud_xw_str(b, ws, r, 0, "Decision rule", NULL);
        aud_xw_str(b, ws, r++, 1, rule, NULL);
    }
    for (size_t i = 0; m != NULL && aud_rpt_group_rates[i] != NULL; i++) {
        const char *w = aud_rpt_str(m, aud_rpt_group_rates[i], NULL);
        if (w == NULL)
            continue;
        aud_xw_str(b, ws, r, 0, aud_rpt_metric_label(aud_rpt_group_rates[i]), NULL);
        aud_xw_str(b, ws, r++, 1, w, NULL);
    }
    aud_xw_table(b, ws, hr, r - 1, 2);
    return r;
}

void aud_xw_fairness(xw_book *b, const char *sheet, const char *key)
{
    const cJSON *f = aud_rpt_obj(b->doc, "fairness");
    const cJSON *attrs = aud_rpt_arr(f, key);
    const cJSON *a, *g;
    lxw_worksheet *ws = aud_xw_sheet(b, sheet);
    lxw_row_t r = 1, last, span[MAX_ATTRS][2];
    const char *names[MAX_ATTRS];
    size_t na = 0;
    lxw_col_t ncols, di_col;
    if (ws == NULL)
        return;
    if (f == NULL) {
        aud_xw_not_run(b, ws, 0, "fairness");
        return;
    }
    if (aud_rpt_count(attrs) == 0) {
        aud_xw_str(b, ws, 0, 0, strcmp(key, "intersections") == 0
                                ? "No intersection of attributes was analysed."
                                : "No sensitive attribute was analysed.",
               b->muted);
        return;
    }
    ncols = header(b, ws);
    di_col = ncols - 3;
    /* 43 columns fitted to one page wide print in type too small to read: three pages wide
     * (about 80% in LibreOffice), each page band printed across before the next rows, with
     * Attribute, Reference and Group repeated on every page so that each row is named */
    worksheet_fit_to_pages(ws, 3, 0);
    worksheet_print_across(ws);
    aud_xw_chk(b, worksheet_repeat_columns(ws, 0, 2), "repeat columns");
    cJSON_ArrayForEach(a, attrs) {
        lxw_row_t first = r;
        cJSON_ArrayForEach(g, aud_rpt_arr(a, "groups"))
            group_row(b, ws, r++, a, g);
        if (na < MAX_ATTRS && r > first) {
            span[na][0] = first;
            span[na][1] = r - 1;
            names[na++] = aud_rpt_str(a, "name", "?");
        }
    }
    last = r - 1;
    aud_xw_table(b, ws, 0, last, ncols);
    aud_xw_cf_min(b, ws, 1, last, di_col, AUD_FOUR_FIFTHS);
    aud_xw_cf_min(b, ws, 1, last, di_col + 1, AUD_FOUR_FIFTHS);
    /* the charts right below their table, two side by side, each pair on one printed page
     * band; then the summary metrics and the compliance views, each an Excel table */
    r = last + 2;
    {
        lxw_row_t breaks[MAX_ATTRS / 4 + 3];
        size_t nb = 0;
        breaks[nb++] = r;
        for (size_t i = 4; i < na && nb < MAX_ATTRS / 4 + 2; i += 4)
            breaks[nb++] = r + (lxw_row_t)(i / 2) * 18;
        breaks[nb++] = r + (lxw_row_t)((na + 1) / 2) * 18;
        breaks[nb] = 0;
        if (na > 0)
            aud_xw_chk(b, worksheet_set_h_pagebreaks(ws, breaks), "page breaks");
    }
    for (size_t i = 0; i < na; i++) {
        char title[300];
        snprintf(title, sizeof title, "Selection rate by group: %s", names[i]);
        aud_rpt_utf8_fix_tail(title);
        aud_xw_bar_chart(b, ws, sheet, title, span[i][0], span[i][1], 2, N_FIXED,
                         r + (lxw_row_t)(i / 2) * 18, i % 2 == 0 ? 0 : 3, 0, "0.00");
    }
    r += (lxw_row_t)((na + 1) / 2) * 18 + 1;
    r = summaries(b, ws, r, attrs);
    if (strcmp(key, "attributes") == 0)
        r = compliance(b, ws, r, f);
    rate_words(b, ws, r, f);
}
