/* pdf_fair.c - the Fairness section: per attribute and intersection a table of group metrics
 * with 95% intervals, selection-rate bars with interval whiskers beside disparate-impact bars
 * with the 0.8 line (small groups marked), summary metrics and significance tests; then the
 * four-fifths and NYC Local Law 144 views when the results carry them. */
#include "reports/pdf_int.h"
#include "reports/rpt_groups_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHART_GROUPS 40

/* Spaces inside a group name become no-break spaces (U+00A0), so that a wrapped list of names
 * breaks only between names (aud_pdf_para draws them as spaces); a name that no longer fits is
 * left as it was. */
static void glue_spaces(char *name, size_t n)
{
    char out[400];
    size_t o = 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (o + 3 > sizeof out)
            return;
        if (*p == ' ') {
            out[o++] = (char)0xC2;
            out[o++] = (char)0xA0;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    if (o < n)
        memcpy(name, out, o + 1);
}

static int is_small(const cJSON *g)
{
    return aud_rpt_group_small(g);
}

/* Groups shown per table and chart: report.max_groups (the spec's, or `audit report
 * --max-groups`), else DEFAULT_MAX_GROUPS. */
static size_t max_groups(const pdf_doc *d)
{
    return aud_rpt_max_groups(d->doc);
}

/* The groups of one attribute the PDF shows: the first `cap` in order of importance (eligible
 * groups below four fifths, then eligible groups, then small ones, each largest first) and the
 * reference, listed in natural order; the others are counted. */
typedef struct shown {
    const cJSON **g;
    size_t n, total, left, left_small;
    double left_rows;
} shown;

static int pick_groups(pdf_doc *d, const cJSON *attr, size_t cap, shown *s)
{
    const cJSON **imp = NULL, **nat = NULL;
    size_t n = 0, m = 0;
    const char *ref = aud_rpt_str(attr, "reference", "");
    memset(s, 0, sizeof *s);
    if (aud_rpt_groups_sorted(d->doc, attr, RPT_ORDER_IMPORTANCE, &imp, &n) != AUD_OK ||
        aud_rpt_groups_sorted(d->doc, attr, RPT_ORDER_NATURAL, &nat, &m) != AUD_OK) {
        aud_free((void *)imp);
        d->nomem = 1;
        d->failed = 1;
        return 0;
    }
    s->g = nat;
    s->total = m;
    if (n > cap) {
        /* keep those among the first cap by importance (and the reference), in natural order */
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            int keep = strcmp(aud_rpt_str(nat[i], "group", ""), ref) == 0;
            for (size_t j = 0; j < cap && !keep; j++)
                keep = imp[j] == nat[i];
            if (keep) {
                nat[k++] = nat[i];
                continue;
            }
            s->left++;
            s->left_small += is_small(nat[i]);
            if (isfinite(aud_rpt_num(nat[i], "count")))
                s->left_rows += aud_rpt_num(nat[i], "count");
        }
        m = k;
    }
    s->n = m;
    aud_free((void *)imp);
    return 1;
}

/* "Not shown: 37 more groups, all small (412 rows together): see the XLSX sheet Fairness." */
static void left_out(pdf_doc *d, const shown *s, const char *sheet)
{
    char line[400], rows[RPT_NUMBUF];
    if (s->left == 0)
        return;
    aud_rpt_fmt(s->left_rows, RPT_INT, rows);
    if (s->left_small == s->left)
        snprintf(line, sizeof line, "Not shown: %zu more group%s, %s small (%s rows "
                 "together): see the XLSX sheet %s.", s->left, s->left == 1 ? "" : "s",
                 s->left == 1 ? "also" : "all", rows, sheet);
    else
        snprintf(line, sizeof line, "Not shown: %zu more groups (%zu of them small; %s rows "
                 "together): see the XLSX sheet %s.", s->left, s->left_small, rows, sheet);
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
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

static void group_tables(pdf_doc *d, const cJSON *attr, const shown *sh, const char *sheet)
{
    static const pdf_col c1[] = {{"Group", 100, PDF_AL_LEFT},     {"Count", 40, PDF_AL_RIGHT},
                                 {"Share", 42, PDF_AL_RIGHT},     {"Sel. rate", 46, PDF_AL_RIGHT},
                                 {"95% CI", 80, PDF_AL_RIGHT},    {"Disp. impact", 66, PDF_AL_RIGHT},
                                 {"Impact ratio", 66, PDF_AL_RIGHT}, {"Note", 55, PDF_AL_LEFT}};
    static const pdf_col c2[] = {{"Group", 115, PDF_AL_LEFT},  {"Base rate", 95, PDF_AL_RIGHT},
                                 {"TPR", 95, PDF_AL_RIGHT},    {"FPR", 95, PDF_AL_RIGHT},
                                 {"PPV", 95, PDF_AL_RIGHT}};
    static const char *const rates2[] = {"base_rate", "tpr", "fpr", "ppv"};
    const cJSON *f = aud_rpt_obj(d->doc, "fairness");
    const char *ref = aud_rpt_str(attr, "reference", "");
    pdf_table t;
    size_t notes = 0;
    char name[400];
    aud_pdf_table_begin(d, &t, c1, sizeof c1 / sizeof c1[0], 7.5f);
    for (size_t i = 0; i < sh->n; i++) {
        const cJSON *g = sh->g[i];
        char cnt[RPT_NUMBUF], shr[RPT_NUMBUF], sr[RPT_NUMBUF], ci[RPT_CIBUF], di[RPT_NUMBUF],
            ir[RPT_NUMBUF];
        const char *raw = aud_rpt_str(g, "group", "?");
        int isref = strcmp(raw, ref) == 0;
        const char *note = isref ? "reference" : is_small(g) ? "small \xe2\x80\xa0" : "";
        double dv = aud_rpt_num(g, "disparate_impact");
        const char *cells[8] = {aud_rpt_group_label(f, attr, raw, name, sizeof name),
                                aud_rpt_fmt(aud_rpt_num(g, "count"), RPT_INT, cnt),
                                aud_rpt_fmt(aud_rpt_num(g, "share"), RPT_PCT1, shr),
                                aud_rpt_fmt(aud_rpt_num(g, "selection_rate"), RPT_F3, sr),
                                aud_rpt_fmt_ci(cJSON_GetObjectItemCaseSensitive(g, "selection_rate_ci"), ci),
                                aud_rpt_fmt(dv, RPT_F3, di),
                                aud_rpt_fmt(aud_rpt_num(g, "impact_ratio"), RPT_F3, ir), note};
        /* red only for what the verdict uses: a small group's ratio is amber, marked small */
        int st[8] = {isref ? PDF_CELL_BOLD : PDF_CELL_PLAIN, 0, 0, 0, PDF_CELL_MUTED,
                     isfinite(dv) && dv < AUD_FOUR_FIFTHS
                         ? (is_small(g) ? PDF_CELL_WARN : PDF_CELL_FAIL) : PDF_CELL_PLAIN,
                     PDF_CELL_PLAIN, is_small(g) ? PDF_CELL_WARN : PDF_CELL_MUTED};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 10.0f;
    aud_pdf_table_begin(d, &t, c2, sizeof c2 / sizeof c2[0], 7.5f);
    for (size_t i = 0; i < sh->n; i++) {
        const cJSON *g = sh->g[i];
        char b[4][RPT_NUMBUF + RPT_CIBUF], lab[420];
        const char *cells[5];
        int st[5] = {PDF_CELL_PLAIN, 0, 0, 0, 0};
        aud_rpt_group_label(f, attr, aud_rpt_str(g, "group", "?"), name, sizeof name);
        snprintf(lab, sizeof lab, "%s%s", name, is_small(g) ? " \xe2\x80\xa0" : "");
        aud_rpt_utf8_fix_tail(lab);
        cells[0] = lab;
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
    left_out(d, sh, sheet);
    if (notes > 0) {
        for (size_t i = 0; i < sh->n; i++) {
            const cJSON *g = sh->g[i];
            for (int k = 0; k < 4; k++) {
                const char *why = aud_rpt_null_reason(g, rates2[k]);
                char line[600];
                if (why == NULL || isfinite(aud_rpt_num(g, rates2[k])))
                    continue;
                snprintf(line, sizeof line, "%s: %s n/a (%s).",
                         aud_rpt_group_label(f, attr, aud_rpt_str(g, "group", "?"), name, sizeof name),
                         aud_rpt_metric_label(rates2[k]), why);
                aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
            }
        }
    }
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Intervals are 95% Wilson score intervals: a small group's rates carry wide ones. "
             "Disparate impact is relative to the reference group; values below 0.8 are red "
             "(amber for a small group). \xe2\x80\xa0 small group: reported, but excluded from the "
             "verdict.");
    d->y -= 6.0f;
}

static void group_charts(pdf_doc *d, const cJSON *attr, const shown *sh, const char *sheet)
{
    pdf_bar sel[MAX_CHART_GROUPS], di[MAX_CHART_GROUPS];
    char names[MAX_CHART_GROUPS][200];
    const cJSON *f = aud_rpt_obj(d->doc, "fairness");
    size_t n = 0;
    for (size_t i = 0; i < sh->n && n < MAX_CHART_GROUPS; i++) {
        const cJSON *g = sh->g[i];
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(g, "selection_rate_ci");
        sel[n].label = di[n].label =
            aud_rpt_group_label(f, attr, aud_rpt_str(g, "group", "?"), names[n], sizeof names[n]);
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
    /* both charts side by side on one page: as many bars as fit, the rest counted */
    float h = aud_pdf_chart_hbars_height(d, sel, n, 88.0f);
    while (n > 1 && h > PDF_TOP - PDF_BOTTOM - 60.0f)
        h = aud_pdf_chart_hbars_height(d, sel, --n, 88.0f);
    aud_pdf_need(d, h + 10.0f);
    float top = d->y, w = (PDF_CW - 16.0f) / 2.0f;
    aud_pdf_chart_hbars(d, "Selection rate with 95% interval", sel, n, RPT_F3, NAN, "", AUD_PDF_ACCENT,
                    88.0f, PDF_LEFT, w);
    float bottom = d->y;
    d->y = top;
    aud_pdf_chart_hbars(d, "Disparate impact vs reference (four-fifths line)", di, n, RPT_F3, AUD_FOUR_FIFTHS,
                    "0.8", AUD_PDF_REF, 88.0f, PDF_LEFT + w + 16.0f, w);
    d->y = fminf(bottom, d->y) - 2.0f;
    {
        /* what the charts leave out, counted on the chart */
        shown rest = *sh;
        rest.left += sh->n - n;
        for (size_t i = n; i < sh->n; i++) {
            rest.left_small += is_small(sh->g[i]);
            if (isfinite(aud_rpt_num(sh->g[i], "count")))
                rest.left_rows += aud_rpt_num(sh->g[i], "count");
        }
        left_out(d, &rest, sheet);
        d->y -= 6.0f;
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
    /* kept on one page: a note split by a page break reads as two */
    aud_pdf_need(d, (aud_pdf_width(d, d->font, 7.5f, line) / PDF_CW + 2.0f) * 7.5f * 1.35f);
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
        /* whole names while they fit in about three lines, then the rest counted: never a
         * name cut (issue 14 item 5) */
        char line[1200], name[400];
        size_t n = 0, listed = 0, total = aud_rpt_count(ex);
        const cJSON *g;
        n += (size_t)snprintf(line, sizeof line, "Excluded from the verdict (%zu small group%s):",
                              total, total == 1 ? "" : "s");
        cJSON_ArrayForEach(g, ex) {
            if (!cJSON_IsString(g))
                continue;
            aud_rpt_group_label(aud_rpt_obj(d->doc, "fairness"), attr, g->valuestring, name,
                                sizeof name);
            glue_spaces(name, sizeof name);
            if (n + strlen(name) + 40 > 330 || n + strlen(name) + 40 > sizeof line)
                break;
            n += (size_t)snprintf(line + n, sizeof line - n, "%s %s", listed == 0 ? "" : ",", name);
            listed++;
        }
        if (listed < total)
            snprintf(line + n, sizeof line - n, " and %zu more.", total - listed);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
    }
    if (all != NULL)
        all_groups_note(d, all);
    d->y -= 6.0f;
}

static void attribute_block(pdf_doc *d, const cJSON *attr, const char *kind, const char *sheet)
{
    char title[400];
    shown sh;
    const char *ref = aud_rpt_str(attr, "reference", NULL);
    snprintf(title, sizeof title, "%s: %s%s%s%s", kind, aud_rpt_str(attr, "name", "?"),
             ref != NULL ? " (reference: " : "", ref != NULL ? ref : "", ref != NULL ? ")" : "");
    aud_pdf_subsection(d, title, 160.0f);
    if (!pick_groups(d, attr, max_groups(d), &sh))
        return;
    group_tables(d, attr, &sh, sheet);
    group_charts(d, attr, &sh, sheet);
    aud_free((void *)sh.g);
    summary_table(d, attr);
}

/* Every eligible group below four fifths; small ones (marked, amber, as in the group tables)
 * while an attribute has fewer than max_groups rows shown, the rest counted. */
static void four_fifths(pdf_doc *d, const rpt_ff_row *rows, size_t n)
{
    /* Fisher p as wide as "1.122e-105" (a 3-digit exponent wrapped its last digit into a
     * second line, reading as e-10) */
    static const pdf_col cols[] = {{"Attribute", 66, PDF_AL_LEFT}, {"Group", 95, PDF_AL_LEFT},
                                   {"Count", 45, PDF_AL_RIGHT}, {"Impact ratio", 55, PDF_AL_RIGHT},
                                   {"Highest group", 90, PDF_AL_LEFT}, {"Count", 40, PDF_AL_RIGHT},
                                   {"Fisher p", 64, PDF_AL_RIGHT}, {"Note", 40, PDF_AL_LEFT}};
    const cJSON *f = aud_rpt_obj(d->doc, "fairness");
    size_t cap = max_groups(d), hidden = 0;
    pdf_table t;
    aud_pdf_subsection(d, "EEOC four-fifths view", 80.0f);
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Every impact ratio below 0.8, with group sizes and the two-sided Fisher exact p-value "
             "(group vs the highest group), so that a ratio below 0.8 that is not significant is "
             "visible. \xe2\x80\xa0 small group: reported, but excluded from the verdict.");
    d->y -= 4.0f;
    if (n == 0) {
        aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, "No impact ratio is below 0.8.");
        return;
    }
    /* per attribute: every eligible row, small ones largest first up to the cap */
    unsigned char *keep = aud_malloc(n);
    double *cnt = aud_malloc(n * sizeof *cnt);
    int *sm = aud_malloc(n * sizeof *sm);
    if (keep == NULL || cnt == NULL || sm == NULL) {
        aud_free(keep);
        aud_free(cnt);
        aud_free(sm);
        d->nomem = d->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *g = aud_rpt_fair_group(f, rows[i].attribute, rows[i].group);
        cnt[i] = rows[i].count;
        sm[i] = g != NULL && is_small(g);
    }
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && strcmp(rows[j].attribute, rows[i].attribute) == 0; j++)
            ;
        aud_rpt_cap_small(cnt + i, sm + i, j - i, cap, keep + i);
    }
    aud_pdf_table_begin(d, &t, cols, 8, 7.5f);
    for (size_t i = 0; i < n; i++) {
        const rpt_ff_row *r = &rows[i];
        const cJSON *a = aud_rpt_fair_attr(f, r->attribute);
        int small = sm[i];
        char c1[RPT_NUMBUF], ir[RPT_NUMBUF], c2[RPT_NUMBUF], p[RPT_NUMBUF], gn[400], hn[400];
        if (!keep[i]) {
            hidden++;
            continue;
        }
        const char *cells[8] = {r->attribute, aud_rpt_group_label(f, a, r->group, gn, sizeof gn),
                                aud_rpt_fmt(r->count, RPT_INT, c1),
                                aud_rpt_fmt(r->impact_ratio, RPT_F3, ir),
                                aud_rpt_group_label(f, a, r->highest, hn, sizeof hn),
                                aud_rpt_fmt(r->highest_count, RPT_INT, c2),
                                aud_rpt_fmt(r->fisher_p, RPT_P, p), small ? "small \xe2\x80\xa0" : ""};
        int st[8] = {0, 0, 0, small ? PDF_CELL_WARN : PDF_CELL_FAIL, 0, 0, 0,
                     small ? PDF_CELL_WARN : 0};
        aud_pdf_table_row(d, &t, cells, st);
    }
    aud_free(keep);
    aud_free(cnt);
    aud_free(sm);
    d->y -= 4.0f;
    if (hidden > 0) {
        char line[300];
        snprintf(line, sizeof line, "Not shown: %zu more small group%s below four fifths (at most "
                 "%zu rows per attribute here, the largest small groups first): see the XLSX sheets "
                 "Fairness and Intersections.",
                 hidden, hidden == 1 ? "" : "s", cap);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
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
    static const char *const rate_rows[][2] = {{"selection_rate", "Selection rate"},
                                           {"base_rate", "Base rate"}, {"tpr", "TPR"},
                                           {"fpr", "FPR"}, {"ppv", "PPV"}};
    const cJSON *m = aud_rpt_obj(f, "rate_meanings");
    const char *rule = aud_rpt_str(aud_rpt_obj(d->doc, "explanations"), "decision_rule", NULL);
    if (rule != NULL)
        aud_pdf_kv(d, "Decision rule", rule);
    for (size_t i = 0; m != NULL && i < sizeof rate_rows / sizeof rate_rows[0]; i++) {
        if (aud_rpt_str(m, rate_rows[i][0], NULL) != NULL)
            aud_pdf_kv(d, rate_rows[i][1], aud_rpt_str(m, rate_rows[i][0], ""));
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
        attribute_block(d, a, "Attribute", "Fairness");
    cJSON_ArrayForEach(a, aud_rpt_arr(f, "intersections"))
        attribute_block(d, a, "Intersection", "Intersections");
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
