/* pdf_fair.c - the Fairness section: per attribute and intersection a table of group metrics
 * with 95% intervals, selection-rate bars with interval whiskers beside disparate-impact bars
 * with the 0.8 line (small groups marked), summary metrics and significance tests; then the
 * four-fifths and NYC Local Law 144 views when the results carry them. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHART_GROUPS 40

static int is_small(const cJSON *g)
{
    return aud_rpt_bool(g, "small") == 1 || aud_rpt_bool(g, "excluded_from_verdict") == 1;
}

/* "0.740 [0.712, 0.766]" or "n/a" */
static void rate_ci(const cJSON *g, const char *key, char *buf, size_t n)
{
    char v[RPT_NUMBUF], ci[RPT_CIBUF], k[96];
    double x = aud_rpt_num(g, key);
    snprintf(k, sizeof k, "%s_ci", key);
    if (!isfinite(x)) {
        snprintf(buf, n, "n/a");
        return;
    }
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(g, k)))
        snprintf(buf, n, "%s %s", aud_rpt_fmt(x, RPT_F3, v),
                 aud_rpt_fmt_ci(cJSON_GetObjectItemCaseSensitive(g, k), ci));
    else
        snprintf(buf, n, "%s", aud_rpt_fmt(x, RPT_F3, v));
}

static void group_tables(pdf_doc *d, const cJSON *attr)
{
    static const pdf_col c1[] = {{"Group", 100, PDF_AL_LEFT},     {"Count", 40, PDF_AL_RIGHT},
                                 {"Share", 42, PDF_AL_RIGHT},     {"Sel. rate", 46, PDF_AL_RIGHT},
                                 {"95% CI", 80, PDF_AL_RIGHT},    {"Disp. impact", 66, PDF_AL_RIGHT},
                                 {"Impact ratio", 66, PDF_AL_RIGHT}, {"Note", 55, PDF_AL_LEFT}};
    static const pdf_col c2[] = {{"Group", 115, PDF_AL_LEFT},  {"Base rate", 95, PDF_AL_RIGHT},
                                 {"TPR", 95, PDF_AL_RIGHT},    {"FPR", 95, PDF_AL_RIGHT},
                                 {"PPV", 95, PDF_AL_RIGHT}};
    static const char *const rates2[] = {"base_rate", "tpr", "fpr", "ppv"};
    const char *ref = aud_rpt_str(attr, "reference", "");
    const cJSON *g;
    pdf_table t;
    size_t notes = 0;
    aud_pdf_table_begin(d, &t, c1, sizeof c1 / sizeof c1[0], 7.5f);
    cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
        char cnt[RPT_NUMBUF], sh[RPT_NUMBUF], sr[RPT_NUMBUF], ci[RPT_CIBUF], di[RPT_NUMBUF],
            ir[RPT_NUMBUF];
        const char *name = aud_rpt_str(g, "group", "?");
        int isref = strcmp(name, ref) == 0;
        const char *note = isref ? "reference" : is_small(g) ? "small \xe2\x80\xa0" : "";
        const char *cells[8] = {name, aud_rpt_fmt(aud_rpt_num(g, "count"), RPT_INT, cnt),
                                aud_rpt_fmt(aud_rpt_num(g, "share"), RPT_PCT1, sh),
                                aud_rpt_fmt(aud_rpt_num(g, "selection_rate"), RPT_F3, sr),
                                aud_rpt_fmt_ci(cJSON_GetObjectItemCaseSensitive(g, "selection_rate_ci"), ci),
                                aud_rpt_fmt(aud_rpt_num(g, "disparate_impact"), RPT_F3, di),
                                aud_rpt_fmt(aud_rpt_num(g, "impact_ratio"), RPT_F3, ir), note};
        double dv = aud_rpt_num(g, "disparate_impact");
        int st[8] = {isref ? PDF_CELL_BOLD : PDF_CELL_PLAIN, 0, 0, 0, PDF_CELL_MUTED,
                     isfinite(dv) && dv < AUD_FOUR_FIFTHS ? PDF_CELL_FAIL : PDF_CELL_PLAIN,
                     PDF_CELL_PLAIN, is_small(g) ? PDF_CELL_WARN : PDF_CELL_MUTED};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 10.0f;
    aud_pdf_table_begin(d, &t, c2, sizeof c2 / sizeof c2[0], 7.5f);
    cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
        char b[4][RPT_NUMBUF + RPT_CIBUF];
        const char *cells[5];
        int st[5] = {PDF_CELL_PLAIN, 0, 0, 0, 0};
        cells[0] = aud_rpt_str(g, "group", "?");
        for (int k = 0; k < 4; k++) {
            rate_ci(g, rates2[k], b[k], sizeof b[k]);
            cells[k + 1] = b[k];
            if (!isfinite(aud_rpt_num(g, rates2[k]))) {
                st[k + 1] = PDF_CELL_MUTED;
                notes += aud_rpt_null_reason(g, rates2[k]) != NULL;
            }
        }
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 4.0f;
    if (notes > 0) {
        cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
            for (int k = 0; k < 4; k++) {
                const char *why = aud_rpt_null_reason(g, rates2[k]);
                char line[400];
                if (why == NULL || isfinite(aud_rpt_num(g, rates2[k])))
                    continue;
                snprintf(line, sizeof line, "%s: %s n/a (%s).", aud_rpt_str(g, "group", "?"),
                         aud_rpt_metric_label(rates2[k]), why);
                aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
            }
        }
    }
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Intervals are 95% Wilson score intervals. Disparate impact is relative to the reference "
             "group; values below 0.8 are red. \xe2\x80\xa0 small group: reported, but excluded from "
             "the verdict.");
    d->y -= 6.0f;
}

static void group_charts(pdf_doc *d, const cJSON *attr)
{
    pdf_bar sel[MAX_CHART_GROUPS], di[MAX_CHART_GROUPS];
    const cJSON *g;
    size_t n = 0, total = aud_rpt_count(aud_rpt_arr(attr, "groups"));
    cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(g, "selection_rate_ci");
        if (n == MAX_CHART_GROUPS)
            break;
        sel[n].label = di[n].label = aud_rpt_str(g, "group", "?");
        sel[n].value = aud_rpt_num(g, "selection_rate");
        sel[n].lo = cJSON_IsArray(ci) ? aud_rpt_item_num(ci->child) : NAN;
        sel[n].hi = cJSON_IsArray(ci) ? aud_rpt_item_num(ci->child->next) : NAN;
        di[n].value = aud_rpt_num(g, "disparate_impact");
        di[n].lo = di[n].hi = NAN;
        sel[n].marked = di[n].marked = is_small(g);
        n++;
    }
    if (n == 0)
        return;
    float h = 14.0f + (float)n * 14.0f + 30.0f;
    aud_pdf_need(d, h + 10.0f);
    float top = d->y, w = (PDF_CW - 16.0f) / 2.0f;
    aud_pdf_chart_hbars(d, "Selection rate with 95% interval", sel, n, RPT_F3, NAN, "", AUD_PDF_ACCENT,
                    88.0f, PDF_LEFT, w);
    float bottom = d->y;
    d->y = top;
    aud_pdf_chart_hbars(d, "Disparate impact vs reference (four-fifths line)", di, n, RPT_F3, AUD_FOUR_FIFTHS,
                    "0.8", AUD_PDF_REF, 88.0f, PDF_LEFT + w + 16.0f, w);
    d->y = fminf(bottom, d->y);
    if (total > n) {
        char note[160];
        snprintf(note, sizeof note, "The charts show the first %zu of %zu groups; the tables list "
                 "every group.", n, total);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, note);
        d->y -= 4.0f;
    }
}

/* After the table: what the all-groups column is, its chi-square statistic and why a figure
 * in it is n/a. */
static void all_groups_note(pdf_doc *d, const cJSON *all)
{
    char line[1600], a[RPT_NUMBUF], b[RPT_NUMBUF];
    const cJSON *chi = aud_rpt_obj(all, "chi_square");
    size_t n = (size_t)snprintf(line, sizeof line,
                                "All groups: the same metrics over every group, small ones "
                                "included, as Fairlearn and AIF360 define them (for comparison "
                                "with those libraries; not used by the verdict)");
    if (chi != NULL && isfinite(aud_rpt_num(chi, "statistic")))
        n += (size_t)snprintf(line + n, sizeof line - n, "; chi-square statistic %s, dof %s",
                              aud_rpt_fmt(aud_rpt_num(chi, "statistic"), RPT_F3, a),
                              aud_rpt_fmt(aud_rpt_num(chi, "dof"), RPT_INT, b));
    for (size_t i = 0; aud_rpt_summary_metrics[i] != NULL && n < sizeof line; i++) {
        const char *why = aud_rpt_null_reason(all, aud_rpt_summary_metrics[i]);
        if (why != NULL && !isfinite(aud_rpt_num(all, aud_rpt_summary_metrics[i])))
            n += (size_t)snprintf(line + n, sizeof line - n, "; %s n/a (%s)",
                                  aud_rpt_metric_label(aud_rpt_summary_metrics[i]), why);
    }
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, ".");
    aud_rpt_utf8_fix_tail(line);
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
}

static void summary_table(pdf_doc *d, const cJSON *attr)
{
    static const pdf_col cols[] = {{"Summary metric", 200, PDF_AL_LEFT},
                                   {"Value", 70, PDF_AL_RIGHT},
                                   {"95% CI / note", 225, PDF_AL_LEFT}};
    static const pdf_col cols_all[] = {{"Summary metric", 126, PDF_AL_LEFT},
                                       {"Eligible groups", 78, PDF_AL_RIGHT},
                                       {"95% CI / note", 140, PDF_AL_LEFT},
                                       {"All groups (Fairlearn/AIF360)", 151, PDF_AL_RIGHT}};
    const cJSON *s = aud_rpt_obj(attr, "summary");
    const cJSON *ex, *all;
    pdf_table t;
    if (s == NULL)
        return;
    all = aud_rpt_all_groups(s);
    if (all != NULL)
        aud_pdf_table_begin(d, &t, cols_all, 4, 7.5f);
    else
        aud_pdf_table_begin(d, &t, cols, 3, 7.5f);
    for (size_t i = 0; aud_rpt_summary_metrics[i] != NULL; i++) {
        char v[RPT_NUMBUF], va[RPT_NUMBUF], ci[RPT_CIBUF], k_ci[96];
        const char *k = aud_rpt_summary_metrics[i];
        const char *note;
        if (cJSON_GetObjectItemCaseSensitive(s, k) == NULL)
            continue;
        snprintf(k_ci, sizeof k_ci, "%s_ci", k);
        note = aud_rpt_null_reason(s, k);
        if (note == NULL && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s, k_ci)))
            note = aud_rpt_fmt_ci(cJSON_GetObjectItemCaseSensitive(s, k_ci), ci);
        const char *cells[4] = {aud_rpt_metric_label(k), aud_rpt_fmt(aud_rpt_num(s, k), RPT_AUTO, v),
                                note != NULL ? note : "", aud_rpt_fmt(aud_rpt_num(all, k), RPT_AUTO, va)};
        int st[4] = {0, 0, PDF_CELL_MUTED, 0};
        aud_pdf_table_row(d, &t, cells, st);
    }
    static const char *const tests[] = {"chi_square", "fisher"};
    for (int i = 0; i < 2; i++) {
        const cJSON *x = aud_rpt_obj(s, tests[i]);
        char v[RPT_NUMBUF], va[RPT_NUMBUF], a[RPT_NUMBUF], b[RPT_NUMBUF], extra[300];
        if (x == NULL)
            continue;
        if (isfinite(aud_rpt_num(x, "statistic")))
            snprintf(extra, sizeof extra, "statistic %s, dof %s",
                     aud_rpt_fmt(aud_rpt_num(x, "statistic"), RPT_F3, a),
                     aud_rpt_fmt(aud_rpt_num(x, "dof"), RPT_INT, b));
        else
            snprintf(extra, sizeof extra, "%s", aud_rpt_str(x, "reason", ""));
        char label[120];
        snprintf(label, sizeof label, "%s (p-value)", aud_rpt_metric_label(tests[i]));
        const char *cells[4] = {label, aud_rpt_fmt(aud_rpt_num(x, "p_value"), RPT_P, v), extra,
                                aud_rpt_fmt(aud_rpt_num(aud_rpt_obj(all, tests[i]), "p_value"), RPT_P, va)};
        int st[4] = {0, 0, PDF_CELL_MUTED, 0};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 4.0f;
    ex = aud_rpt_arr(s, "excluded_groups");
    if (aud_rpt_count(ex) > 0) {
        char line[1200];
        size_t n = 0;
        const cJSON *g;
        n += (size_t)snprintf(line, sizeof line, "Excluded from the verdict (small groups):");
        cJSON_ArrayForEach(g, ex) {
            if (cJSON_IsString(g) && n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, "%s %s", g == ex->child ? "" : ",",
                                      g->valuestring);
        }
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
    }
    if (all != NULL)
        all_groups_note(d, all);
    d->y -= 6.0f;
}

static void attribute_block(pdf_doc *d, const cJSON *attr, const char *kind)
{
    char title[400];
    const char *ref = aud_rpt_str(attr, "reference", NULL);
    snprintf(title, sizeof title, "%s: %s%s%s%s", kind, aud_rpt_str(attr, "name", "?"),
             ref != NULL ? " (reference: " : "", ref != NULL ? ref : "", ref != NULL ? ")" : "");
    aud_pdf_subsection(d, title, 160.0f);
    group_tables(d, attr);
    group_charts(d, attr);
    summary_table(d, attr);
}

static void four_fifths(pdf_doc *d, const rpt_ff_row *rows, size_t n)
{
    static const pdf_col cols[] = {{"Attribute", 85, PDF_AL_LEFT}, {"Group", 100, PDF_AL_LEFT},
                                   {"Count", 50, PDF_AL_RIGHT}, {"Impact ratio", 60, PDF_AL_RIGHT},
                                   {"Highest group", 100, PDF_AL_LEFT}, {"Count", 45, PDF_AL_RIGHT},
                                   {"Fisher p", 55, PDF_AL_RIGHT}};
    pdf_table t;
    aud_pdf_subsection(d, "EEOC four-fifths view", 80.0f);
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Every impact ratio below 0.8, with group sizes and the two-sided Fisher exact p-value "
             "(group vs the highest group), so that a ratio below 0.8 that is not significant is "
             "visible.");
    d->y -= 4.0f;
    if (n == 0) {
        aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, "No impact ratio is below 0.8.");
        return;
    }
    aud_pdf_table_begin(d, &t, cols, 7, 7.5f);
    for (size_t i = 0; i < n; i++) {
        const rpt_ff_row *r = &rows[i];
        char c1[RPT_NUMBUF], ir[RPT_NUMBUF], c2[RPT_NUMBUF], p[RPT_NUMBUF];
        const char *cells[7] = {r->attribute, r->group, aud_rpt_fmt(r->count, RPT_INT, c1),
                                aud_rpt_fmt(r->impact_ratio, RPT_F3, ir), r->highest,
                                aud_rpt_fmt(r->highest_count, RPT_INT, c2),
                                aud_rpt_fmt(r->fisher_p, RPT_P, p)};
        int st[7] = {0, 0, 0, PDF_CELL_FAIL, 0, 0, 0};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 8.0f;
}

static void ll144(pdf_doc *d, const rpt_ll144 *v)
{
    static const pdf_col cols[] = {{"Category", 150, PDF_AL_LEFT}, {"Count", 60, PDF_AL_RIGHT},
                                   {"Share", 60, PDF_AL_RIGHT},     {"Rate", 70, PDF_AL_RIGHT},
                                   {"Impact ratio", 75, PDF_AL_RIGHT}, {"Verdict use", 80, PDF_AL_LEFT}};
    const cJSON *tb, *g;
    aud_pdf_subsection(d, "NYC Local Law 144 view", 100.0f);
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Selection (or scoring) rates and impact ratios against the highest category, per "
             "category and for the intersection. Categories under 2% of rows are reported but "
             "excluded from the impact-ratio verdict.");
    d->y -= 4.0f;
    cJSON_ArrayForEach(tb, v->tables) {
        pdf_table t;
        char head[300], u[RPT_NUMBUF];
        snprintf(head, sizeof head, "%s (%s); rows in an unknown category: %s",
                 aud_rpt_ll144_table_name(tb),
                 aud_rpt_ll144_scoring(v, tb) ? "scoring rate" : "selection rate",
                 aud_rpt_fmt(aud_rpt_ll144_unknown(tb), RPT_INT, u));
        aud_pdf_need(d, 60.0f);
        aud_pdf_text(d, d->bold, 8.5f, PDF_LEFT, d->y, AUD_PDF_BLACK, head);
        d->y -= 14.0f;
        aud_pdf_table_begin(d, &t, cols, 6, 7.5f);
        cJSON_ArrayForEach(g, aud_rpt_ll144_rows(tb)) {
            char c[RPT_NUMBUF], s[RPT_NUMBUF], r[RPT_NUMBUF], ir[RPT_NUMBUF];
            int ex = aud_rpt_bool(g, "excluded") == 1;
            double irv = aud_rpt_num(g, "impact_ratio");
            int below = aud_rpt_bool(g, "below_four_fifths") == 1;   /* the document's verdict */
            const char *cells[6] = {aud_rpt_ll144_row_name(g), aud_rpt_fmt(aud_rpt_num(g, "count"), RPT_INT, c),
                                    aud_rpt_fmt(aud_rpt_num(g, "share"), RPT_PCT1, s),
                                    aud_rpt_fmt(aud_rpt_ll144_row_rate(v, g), RPT_F3, r),
                                    aud_rpt_fmt(irv, RPT_F3, ir), ex ? "excluded (< 2%)" : "included"};
            int st[6] = {0, 0, 0, 0, !ex && below ? PDF_CELL_FAIL : 0,
                         ex ? PDF_CELL_WARN : PDF_CELL_MUTED};
            aud_pdf_table_row(d, &t, cells, st);
        }
        d->y -= 10.0f;
    }
}

/* The decision rule and what the tables' rates mean here (issue 14 item 1: with favourable 0,
 * FPR is "approved among rows with default = 1"). */
static void rate_words(pdf_doc *d, const cJSON *f)
{
    static const char *const shown[][2] = {{"selection_rate", "Selection rate"},
                                           {"base_rate", "Base rate"}, {"tpr", "TPR"},
                                           {"fpr", "FPR"}, {"ppv", "PPV"}};
    const cJSON *m = aud_rpt_obj(f, "rate_meanings");
    const char *rule = aud_rpt_str(aud_rpt_obj(d->doc, "explanations"), "decision_rule", NULL);
    if (rule != NULL)
        aud_pdf_kv(d, "Decision rule", rule);
    for (size_t i = 0; m != NULL && i < sizeof shown / sizeof shown[0]; i++) {
        if (aud_rpt_str(m, shown[i][0], NULL) != NULL)
            aud_pdf_kv(d, shown[i][1], aud_rpt_str(m, shown[i][0], ""));
    }
}

void aud_pdf_write_fairness(pdf_doc *d)
{
    const cJSON *f = aud_rpt_obj(d->doc, "fairness");
    const cJSON *a;
    char buf[200], t[RPT_NUMBUF];
    if (f == NULL) {
        const char *why = aud_rpt_skip_reason(d->doc, "fairness");
        aud_pdf_section_not_run(d, "Fairness", why != NULL ? why : "the results document has no fairness section");
        return;
    }
    aud_pdf_section(d, "Fairness");
    {
        const cJSON *fav = cJSON_GetObjectItemCaseSensitive(f, "favorable");
        aud_rpt_fmt_value(fav, buf, sizeof buf);
        aud_pdf_kv(d, "Favourable outcome", fav != NULL ? buf : "1 (default)");
    }
    aud_pdf_kv(d, "Decision threshold", aud_rpt_fmt(aud_rpt_num(f, "threshold"), RPT_F3, t));
    if (aud_rpt_str(f, "label", NULL) != NULL)
        aud_pdf_kv(d, "Label column", aud_rpt_str(f, "label", ""));
    rate_words(d, f);
    d->y -= 6.0f;
    cJSON_ArrayForEach(a, aud_rpt_arr(f, "attributes"))
        attribute_block(d, a, "Attribute");
    cJSON_ArrayForEach(a, aud_rpt_arr(f, "intersections"))
        attribute_block(d, a, "Intersection");
    {
        rpt_ff_row *rows = NULL;
        size_t n = 0;
        rpt_ll144 v;
        if (aud_rpt_four_fifths(f, &rows, &n) != AUD_OK) {
            d->nomem = 1;
            d->failed = 1;
            return;
        }
        /* shown when the results carry the view, or flag groups below four fifths */
        if (aud_rpt_arr(aud_rpt_obj(f, "compliance"), "four-fifths") != NULL || n > 0)
            four_fifths(d, rows, n);
        aud_free(rows);
        aud_rpt_ll144_get(f, &v);
        if (v.tables != NULL)
            ll144(d, &v);
    }
}
