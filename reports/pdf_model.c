/* pdf_model.c - the Model card section, early in the report: the spec's card (owner, intended
 * use, what the label means, training data and period, limitations, contact), the facts read
 * from the model file (features in model order with their split importance), and performance at
 * the decision threshold: a ROC curve, a reliability diagram and the confusion matrix, overall
 * and by group (AUC with its DeLong interval). Everything is read from results.json
 * ("model_card", "performance"); nothing is recomputed. */
#include "reports/pdf_int.h"
#include "reports/rpt_groups_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GROUPS_SHOWN 12   /* groups per attribute in the AUC chart and the confusion table */
#define CURVES_SHOWN 5    /* group ROC curves on one chart (the largest groups) */
#define CHART_H 200.0f

static const pdf_rgb palette[CURVES_SHOWN] = {
    {0.93f, 0.49f, 0.16f}, {0.10f, 0.48f, 0.22f}, {0.58f, 0.27f, 0.66f},
    {0.90f, 0.10f, 0.33f}, {0.55f, 0.40f, 0.20f}};

static int small_group(const cJSON *doc, const char *attr, const char *group)
{
    const cJSON *a, *g;
    cJSON_ArrayForEach(a, aud_rpt_arr(aud_rpt_obj(doc, "fairness"), "attributes")) {
        if (strcmp(aud_rpt_str(a, "name", ""), attr) != 0)
            continue;
        cJSON_ArrayForEach(g, aud_rpt_arr(a, "groups")) {
            if (strcmp(aud_rpt_str(g, "group", ""), group) == 0)
                return aud_rpt_bool(g, "small") == 1;
        }
    }
    return 0;
}

static void polyline(pdf_doc *d, const float *xs, const float *ys, size_t n, float lw, pdf_rgb c)
{
    if (d->failed || n < 2)
        return;
    int ok = aud_pdf_chk(d, HPDF_Page_SetLineWidth(d->page, lw)) &&
             aud_pdf_chk(d, HPDF_Page_SetLineJoin(d->page, HPDF_ROUND_JOIN)) &&
             aud_pdf_chk(d, HPDF_Page_SetRGBStroke(d->page, c.r, c.g, c.b)) &&
             aud_pdf_chk(d, HPDF_Page_MoveTo(d->page, xs[0], ys[0]));
    for (size_t i = 1; ok && i < n; i++)
        ok = aud_pdf_chk(d, HPDF_Page_LineTo(d->page, xs[i], ys[i]));
    if (ok)
        (void)(aud_pdf_chk(d, HPDF_Page_Stroke(d->page)) &&
               aud_pdf_chk(d, HPDF_Page_SetLineJoin(d->page, HPDF_MITER_JOIN)));
}

typedef struct plot {
    float x0, x1, y0, y1;   /* the unit square on the page */
} plot;

static float px(const plot *p, double v)
{
    return p->x0 + (float)v * (p->x1 - p->x0);
}

static float py(const plot *p, double v)
{
    return p->y0 + (float)v * (p->y1 - p->y0);
}

/* A [0, 1] x [0, 1] frame with a title, gridlines every 0.2, axis titles and the diagonal. */
static plot frame(pdf_doc *d, float x, float y_top, float w, float h, const char *title,
                  const char *xlab, const char *ylab)
{
    plot p = {x + 34.0f, x + w - 8.0f, y_top - h + 30.0f, y_top - 16.0f};
    char buf[300];
    aud_pdf_fit(d, d->bold, 8.5f, title, w, buf, sizeof buf);
    aud_pdf_text(d, d->bold, 8.5f, x, y_top, AUD_PDF_BLACK, buf);
    aud_pdf_axis_y(d, p.x0, p.y0, p.y1, 0.0, 1.0, 0.2, p.x1);
    aud_pdf_axis_x(d, p.x0, p.x1, p.y0, 0.0, 1.0, 0.2, p.y1);
    aud_pdf_text_center(d, d->font, 7.0f, (p.x0 + p.x1) / 2.0f, p.y0 - 22.0f, AUD_PDF_GREY, xlab);
    aud_pdf_text_up(d, 7.0f, x + 7.0f, (p.y0 + p.y1) / 2.0f, p.y1 - p.y0, ylab);
    aud_pdf_dashed(d, p.x0, p.y0, p.x1, p.y1, 0.7f, AUD_PDF_RULE);
    return p;
}

/* Legend rows from the plot's lower right corner upwards (k >= 0), or from its upper left corner
 * downwards (k < 0: -1 the first row): a line sample and its label. */
static void legend_row(pdf_doc *d, const plot *p, int k, pdf_rgb c, int dashed, const char *label)
{
    float w = aud_pdf_width(d, d->font, 6.5f, label);
    float y = k >= 0 ? p->y0 + 6.0f + 9.0f * (float)k : p->y1 - 12.0f + 9.0f * (float)(k + 1);
    float xr = k >= 0 ? p->x1 - 4.0f : p->x0 + 26.0f + w;
    aud_pdf_fill_rect(d, xr - w - 20.0f, y - 3.0f, w + 22.0f, 9.0f, (pdf_rgb){1, 1, 1});
    if (dashed)
        aud_pdf_dashed(d, xr - w - 18.0f, y + 1.5f, xr - w - 4.0f, y + 1.5f, 0.8f, c);
    else
        aud_pdf_line(d, xr - w - 18.0f, y + 1.5f, xr - w - 4.0f, y + 1.5f, 1.4f, c);
    aud_pdf_text_right(d, d->font, 6.5f, xr, y - 0.5f, AUD_PDF_BLACK, label);
}

static void roc_curve(pdf_doc *d, const plot *p, const cJSON *row, float lw, pdf_rgb c)
{
    const cJSON *roc = aud_rpt_obj(row, "roc");
    const cJSON *fx = aud_rpt_arr(roc, "fpr"), *ty = aud_rpt_arr(roc, "tpr"), *a, *b;
    float xs[512], ys[512];
    size_t n = 0;
    for (a = fx ? fx->child : NULL, b = ty ? ty->child : NULL; a && b && n < 512;
         a = a->next, b = b->next) {
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
            continue;
        xs[n] = px(p, a->valuedouble);
        ys[n] = py(p, b->valuedouble);
        n++;
    }
    polyline(d, xs, ys, n, lw, c);
}

static const char *auc_label(const char *name, const cJSON *row, char *buf, size_t n)
{
    char t[RPT_NUMBUF];
    snprintf(buf, n, "%s (AUC %s)", name, aud_rpt_fmt(aud_rpt_num(row, "auc"), RPT_F3, t));
    return buf;
}

/* ROC curves: the overall one (accent) and up to CURVES_SHOWN groups. */
static void roc_chart(pdf_doc *d, float x, float y_top, float w, const char *title,
                      const cJSON *overall, const cJSON *const *groups, size_t n)
{
    plot p = frame(d, x, y_top, w, CHART_H, title, "False positive rate (1 - specificity)",
                   "True positive rate (sensitivity)");
    char lab[300];
    int k = 0;
    for (size_t i = n; i > 0; i--)
        roc_curve(d, &p, groups[i - 1], 1.0f, palette[i - 1]);
    roc_curve(d, &p, overall, n ? 1.2f : 1.5f, AUD_PDF_ACCENT);
    legend_row(d, &p, k++, AUD_PDF_RULE, 1, "chance (AUC 0.5)");
    for (size_t i = n; i > 0; i--)
        legend_row(d, &p, k++, palette[i - 1],
                   0, auc_label(aud_rpt_str(groups[i - 1], "group", "?"), groups[i - 1], lab,
                                sizeof lab));
    legend_row(d, &p, k, AUD_PDF_ACCENT, 0, auc_label("all rows", overall, lab, sizeof lab));
}

/* Reliability diagram: observed fraction of label 1 against the mean predicted probability of
 * each non-empty bin (marker area by rows), with the rows per bin as light bars at the foot. */
static void calibration_chart(pdf_doc *d, float x, float y_top, float w, const cJSON *row)
{
    const cJSON *cal = aud_rpt_obj(row, "calibration");
    plot p = frame(d, x, y_top, w, CHART_H, "Calibration (reliability diagram)",
                   "Mean predicted probability in the bin", "Observed fraction of label 1");
    const cJSON *cnt = aud_rpt_arr(cal, "count"), *mp = aud_rpt_arr(cal, "mean_predicted"),
                *fy = aud_rpt_arr(cal, "fraction_positive"), *ed = aud_rpt_arr(cal, "edges");
    size_t nb = aud_rpt_count(cnt);
    double most = 0.0;
    for (size_t k = 0; k < nb; k++)
        most = fmax(most, cJSON_GetArrayItem(cnt, (int)k)->valuedouble);
    float xs[64] = {0}, ys[64] = {0};
    size_t n = 0;
    for (size_t k = 0; k < nb && k < 64; k++) {
        double c = cJSON_GetArrayItem(cnt, (int)k)->valuedouble;
        double e0 = cJSON_GetArrayItem(ed, (int)k) ? cJSON_GetArrayItem(ed, (int)k)->valuedouble : 0;
        double e1 = cJSON_GetArrayItem(ed, (int)k + 1) ? cJSON_GetArrayItem(ed, (int)k + 1)->valuedouble
                                                      : 1;
        if (most > 0 && c > 0)
            aud_pdf_fill_rect(d, px(&p, e0) + 1.0f, p.y0, px(&p, e1) - px(&p, e0) - 2.0f,
                              (float)(c / most) * 0.18f * (p.y1 - p.y0), (pdf_rgb){0.85f, 0.87f, 0.91f});
        const cJSON *a = cJSON_GetArrayItem(mp, (int)k), *b = cJSON_GetArrayItem(fy, (int)k);
        if (c > 0 && cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
            xs[n] = px(&p, a->valuedouble);
            ys[n] = py(&p, b->valuedouble);
            n++;
        }
    }
    aud_pdf_dashed(d, p.x0, p.y0, p.x1, p.y1, 0.7f, AUD_PDF_RULE);
    polyline(d, xs, ys, n, 1.2f, AUD_PDF_ACCENT);
    for (size_t i = 0; i < n; i++)
        aud_pdf_fill_rect(d, xs[i] - 2.0f, ys[i] - 2.0f, 4.0f, 4.0f, AUD_PDF_ACCENT);
    legend_row(d, &p, -1, AUD_PDF_ACCENT, 0, "all rows (10 equal-width bins)");
    legend_row(d, &p, -2, AUD_PDF_RULE, 1, "perfectly calibrated");
    legend_row(d, &p, -3, (pdf_rgb){0.85f, 0.87f, 0.91f}, 0, "rows per bin (tallest = most)");
}

static void interval_text(const cJSON *row, char *buf, size_t n)
{
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(row, "auc_ci");
    char a[RPT_NUMBUF], lo[RPT_NUMBUF], hi[RPT_NUMBUF];
    aud_rpt_fmt(aud_rpt_num(row, "auc"), RPT_F3, a);
    if (cJSON_GetArraySize(ci) == 2)
        snprintf(buf, n, "%s [%s, %s]", a, aud_rpt_fmt(cJSON_GetArrayItem(ci, 0)->valuedouble, RPT_F3, lo),
                 aud_rpt_fmt(cJSON_GetArrayItem(ci, 1)->valuedouble, RPT_F3, hi));
    else
        snprintf(buf, n, "%s", a);
}

static void metric_or_reason(pdf_doc *d, const char *key_label, const cJSON *row, const char *key)
{
    char t[RPT_NUMBUF], line[400];
    const char *why = aud_rpt_null_reason(row, key);
    if (isfinite(aud_rpt_num(row, key)))
        aud_pdf_kv(d, key_label, aud_rpt_fmt(aud_rpt_num(row, key), RPT_F3, t));
    else {
        snprintf(line, sizeof line, "not computed: %s", why != NULL ? why : "no value");
        aud_pdf_kv(d, key_label, line);
    }
}

static void confusion_overall(pdf_doc *d, const cJSON *o, double thr)
{
    static const pdf_col cols[] = {{"", 120, PDF_AL_LEFT},         {"Predicted 0", 80, PDF_AL_RIGHT},
                                   {"Predicted 1", 80, PDF_AL_RIGHT}, {"Total", 70, PDF_AL_RIGHT}};
    const cJSON *cm = aud_rpt_obj(o, "confusion");
    double tn = aud_rpt_num(cm, "tn"), fp = aud_rpt_num(cm, "fp"), fn = aud_rpt_num(cm, "fn"),
           tp = aud_rpt_num(cm, "tp");
    char v[6][RPT_NUMBUF], title[120], t[RPT_NUMBUF];
    pdf_table tab;
    snprintf(title, sizeof title, "Confusion matrix at the threshold %s (all rows)",
             aud_rpt_fmt(thr, RPT_AUTO, t));
    aud_pdf_subsection(d, title, 60.0f);
    aud_pdf_table_begin(d, &tab, cols, 4, 8.0f);
    const char *r0[] = {"Actual 0", aud_rpt_fmt(tn, RPT_INT, v[0]), aud_rpt_fmt(fp, RPT_INT, v[1]),
                        aud_rpt_fmt(tn + fp, RPT_INT, v[2])};
    const char *r1[] = {"Actual 1", aud_rpt_fmt(fn, RPT_INT, v[3]), aud_rpt_fmt(tp, RPT_INT, v[4]),
                        aud_rpt_fmt(fn + tp, RPT_INT, v[5])};
    const int st[] = {PDF_CELL_BOLD, 0, 0, PDF_CELL_MUTED};
    aud_pdf_table_row(d, &tab, r0, st);
    aud_pdf_table_row(d, &tab, r1, st);
    d->y -= 6.0f;
}

static void card_text(pdf_doc *d, const cJSON *card)
{
    static const char *const keys[] = {"owner", "intended_use", "label_meaning", "training_data",
                                       "training_period", "limitations", "contact"};
    static const char *const labels[] = {"Owner", "Intended use", "What the label means",
                                         "Training data", "Training period",
                                         "Known limitations", "Contact"};
    int any = 0;
    for (int k = 0; k < 7; k++) {
        const char *s = aud_rpt_str(card, keys[k], NULL);
        if (s != NULL && s[0] != '\0') {
            aud_pdf_kv(d, labels[k], s);
            any = 1;
        }
    }
    if (!any)
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                     "The spec has no model card text: give owner, intended use, what the label "
                     "means, training data and period, known limitations and contact in its "
                     "\"model_card\" block (docs/spec-file.md).");
    d->y -= 4.0f;
}

static void model_facts(pdf_doc *d, const cJSON *m)
{
    static const pdf_col tcols[] = {{"#", 30, PDF_AL_RIGHT},       {"Feature", 215, PDF_AL_LEFT},
                                    {"Splits", 70, PDF_AL_RIGHT},  {"Total cover", 90, PDF_AL_RIGHT},
                                    {"Cover share", 90, PDF_AL_RIGHT}};
    static const pdf_col lcols[] = {{"#", 30, PDF_AL_RIGHT},
                                    {"Feature", 285, PDF_AL_LEFT},
                                    {"Coefficient", 180, PDF_AL_RIGHT}};
    const cJSON *f;
    char t[RPT_NUMBUF], line[300];
    int trees = strcmp(aud_rpt_str(m, "kind", "trees"), "trees") == 0;
    aud_pdf_subsection(d, "The model file", 80.0f);
    aud_pdf_kv(d, "Format", aud_rpt_str(m, "format", "?"));
    aud_pdf_kv(d, "Objective", aud_rpt_str(m, "objective", "?"));
    if (trees) {
        char a[RPT_NUMBUF], b[RPT_NUMBUF], c[RPT_NUMBUF];
        snprintf(line, sizeof line, "%s trees, deepest leaf at depth %s, %s leaves",
                 aud_rpt_fmt(aud_rpt_num(m, "trees"), RPT_INT, a),
                 aud_rpt_fmt(aud_rpt_num(m, "max_depth"), RPT_INT, b),
                 aud_rpt_fmt(aud_rpt_num(m, "leaves"), RPT_INT, c));
        aud_pdf_kv(d, "Ensemble", line);
    }
    snprintf(line, sizeof line, "%s, in the model's order", aud_rpt_fmt((double)aud_rpt_count(aud_rpt_arr(m, "features")), RPT_INT, t));
    aud_pdf_kv(d, "Features", line);
    d->y -= 4.0f;
    if (strcmp(aud_rpt_str(m, "kind", "trees"), "command") == 0) {
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                     "The model is a command that returns predictions: its file says nothing "
                     "about the model inside (no trees, splits or coefficients to read).");
        d->y -= 6.0f;
        return;
    }
    double total = 0.0;
    cJSON_ArrayForEach(f, aud_rpt_arr(m, "features"))
        total += isfinite(aud_rpt_num(f, "cover")) ? aud_rpt_num(f, "cover") : 0.0;
    pdf_table tab;
    aud_pdf_table_begin(d, &tab, trees ? tcols : lcols, trees ? 5 : 3, 7.5f);
    size_t i = 0;
    cJSON_ArrayForEach(f, aud_rpt_arr(m, "features")) {
        char k[RPT_NUMBUF], s[RPT_NUMBUF], c[RPT_NUMBUF], sh[RPT_NUMBUF];
        double cv = aud_rpt_num(f, "cover");
        const char *cells[5] = {aud_rpt_fmt((double)++i, RPT_INT, k), aud_rpt_str(f, "name", "?"),
                                NULL, NULL, NULL};
        const int st[5] = {PDF_CELL_MUTED, 0, 0, 0, 0};
        if (trees) {
            cells[2] = aud_rpt_fmt(aud_rpt_num(f, "splits"), RPT_INT, s);
            cells[3] = aud_rpt_fmt(cv, RPT_INT, c);
            cells[4] = total > 0 ? aud_rpt_fmt(cv / total, RPT_PCT1, sh) : "";
        } else {
            cells[2] = aud_rpt_fmt(aud_rpt_num(f, "coefficient"), RPT_AUTO, s);
        }
        aud_pdf_table_row(d, &tab, cells, st);
    }
    d->y -= 4.0f;
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                 trees ? "Splits: internal nodes that split on the feature (XGBoost importance "
                         "\"weight\"); total cover: the sum of those nodes' weights (XGBoost "
                         "hessian sums, \"total_cover\"; LightGBM row counts). Attribution-based "
                         "importance is in the Explanations section."
                       : "Coefficients of the linear model on the raw feature scale (output 0).");
    d->y -= 6.0f;
}

/* The groups of one attribute, largest first (stable by order in the document on ties). */
static size_t attribute_groups(const cJSON *p, const char *attr, const cJSON **out, size_t max,
                               size_t *total)
{
    const cJSON *g;
    size_t n = 0;
    *total = 0;
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group")) {
        if (strcmp(aud_rpt_str(g, "attribute", ""), attr) != 0)
            continue;
        ++*total;
        double r = aud_rpt_num(g, "rows");
        size_t k = n < max ? n++ : max;
        while (k > 0 && aud_rpt_num(out[k - 1], "rows") < r) {
            if (k < max)
                out[k] = out[k - 1];
            k--;
        }
        if (k < max)
            out[k] = g;
    }
    return n;
}

/* Where group g stands in the document's group order of attribute attr: its place among the
 * fairness groups in natural order (the library's order, "group_order" in results.json, as the
 * other tables show them); without that attribute, its place in by_group. */
static size_t group_rank(const cJSON *const *ord, size_t n_ord, const cJSON *p, const cJSON *g)
{
    const char *name = aud_rpt_str(g, "group", "");
    const cJSON *x;
    size_t i = 0;
    for (i = 0; i < n_ord; i++)
        if (strcmp(aud_rpt_str(ord[i], "group", ""), name) == 0)
            return i;
    i = n_ord;
    cJSON_ArrayForEach(x, aud_rpt_arr(p, "by_group")) {
        if (x == g)
            return i;
        i++;
    }
    return i;
}

/* Put the groups picked (the largest) in the document's group order; curve[i] follows its
 * group. 0 when out of memory. */
static int in_group_order(pdf_doc *d, const cJSON *p, const char *attr, const cJSON **gs,
                          int *curve, size_t n)
{
    const cJSON **ord = NULL;
    size_t n_ord = 0, rank[GROUPS_SHOWN];
    const cJSON *fa = aud_rpt_fair_attr(aud_rpt_obj(d->doc, "fairness"), attr);
    if (fa != NULL && aud_rpt_groups_sorted(d->doc, fa, RPT_ORDER_NATURAL, &ord, &n_ord) != AUD_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        rank[i] = group_rank(ord, n_ord, p, gs[i]);
    aud_free((void *)ord);
    for (size_t i = 1; i < n; i++) {   /* insertion sort: a dozen groups at most */
        const cJSON *g = gs[i];
        size_t r = rank[i], k = i;
        int c = curve[i];
        for (; k > 0 && rank[k - 1] > r; k--) {
            gs[k] = gs[k - 1];
            rank[k] = rank[k - 1];
            curve[k] = curve[k - 1];
        }
        gs[k] = g;
        rank[k] = r;
        curve[k] = c;
    }
    return 1;
}

static void group_section(pdf_doc *d, const cJSON *p, const char *attr)
{
    static const pdf_col cols[] = {{"Group", 110, PDF_AL_LEFT}, {"Rows", 45, PDF_AL_RIGHT},
                                   {"TN", 42, PDF_AL_RIGHT},    {"FP", 42, PDF_AL_RIGHT},
                                   {"FN", 42, PDF_AL_RIGHT},    {"TP", 42, PDF_AL_RIGHT},
                                   {"Accuracy", 52, PDF_AL_RIGHT},
                                   {"AUC [95% DeLong CI]", 120, PDF_AL_RIGHT}};
    const cJSON *gs[GROUPS_SHOWN];
    size_t total, n = attribute_groups(p, attr, gs, GROUPS_SHOWN, &total);
    pdf_bar bars[GROUPS_SHOWN];
    char title[300], line[300];
    int curve[GROUPS_SHOWN] = {0};
    if (n == 0)
        return;
    /* the ROC chart draws the largest groups that have a curve; chart and table list the
     * groups shown in the document's group order, as every other table does */
    for (size_t i = 0, k = 0; i < n && k < CURVES_SHOWN; i++)
        if (aud_rpt_obj(gs[i], "roc") != NULL)
            curve[i] = 1, k++;
    if (!in_group_order(d, p, attr, gs, curve, n)) {
        d->failed = d->nomem = 1;
        return;
    }
    snprintf(title, sizeof title, "By group: %s", attr);
    aud_pdf_subsection(d, title, CHART_H + 40.0f);
    float top = d->y;
    for (size_t i = 0; i < n; i++) {
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(gs[i], "auc_ci");
        bars[i] = (pdf_bar){aud_rpt_str(gs[i], "group", "?"), aud_rpt_num(gs[i], "auc"), NAN, NAN,
                            small_group(d->doc, attr, aud_rpt_str(gs[i], "group", ""))};
        if (cJSON_GetArraySize(ci) == 2) {
            bars[i].lo = cJSON_GetArrayItem(ci, 0)->valuedouble;
            bars[i].hi = cJSON_GetArrayItem(ci, 1)->valuedouble;
        }
    }
    const cJSON *curves[CURVES_SHOWN];   /* the largest groups that have a curve */
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (curve[i])
            curves[nc++] = gs[i];
    }
    roc_chart(d, PDF_LEFT, top, 240.0f, "ROC curves of the largest groups",
              aud_rpt_obj(p, "overall"), curves, nc);
    d->y = top;
    aud_pdf_chart_hbars(d, "AUC with 95% DeLong interval", bars, n, RPT_F3,
                        aud_rpt_num(aud_rpt_obj(p, "overall"), "auc"), "all rows",
                        AUD_PDF_ACCENT, 95.0f, PDF_LEFT + 255.0f, PDF_CW - 255.0f);
    d->y = fminf(d->y, top - CHART_H - 8.0f);
    pdf_table tab;
    aud_pdf_table_begin(d, &tab, cols, 8, 7.5f);
    for (size_t i = 0; i < n; i++) {
        const cJSON *cm = aud_rpt_obj(gs[i], "confusion");
        char v[6][RPT_NUMBUF], auc[100], grp[300];
        interval_text(gs[i], auc, sizeof auc);
        snprintf(grp, sizeof grp, "%s%s", aud_rpt_str(gs[i], "group", "?"),
                 bars[i].marked ? " \xe2\x80\xa0" : "");
        const char *cells[8] = {grp, aud_rpt_fmt(aud_rpt_num(gs[i], "rows"), RPT_INT, v[0]),
                                aud_rpt_fmt(aud_rpt_num(cm, "tn"), RPT_INT, v[1]),
                                aud_rpt_fmt(aud_rpt_num(cm, "fp"), RPT_INT, v[2]),
                                aud_rpt_fmt(aud_rpt_num(cm, "fn"), RPT_INT, v[3]),
                                aud_rpt_fmt(aud_rpt_num(cm, "tp"), RPT_INT, v[4]),
                                aud_rpt_fmt(aud_rpt_num(gs[i], "accuracy"), RPT_F3, v[5]), auc};
        const int st[8] = {bars[i].marked ? PDF_CELL_WARN : 0, 0, 0, 0, 0, 0, 0,
                           isfinite(aud_rpt_num(gs[i], "auc")) ? 0 : PDF_CELL_MUTED};
        aud_pdf_table_row(d, &tab, cells, st);
    }
    d->y -= 3.0f;
    int marked = 0;
    for (size_t i = 0; i < n; i++)
        marked |= bars[i].marked;
    if (marked)
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                     "\xe2\x80\xa0 small group (see Fairness): its figures rest on few rows; "
                     "read them with their interval.");
    if (total > n) {
        snprintf(line, sizeof line, "... and %zu more groups of %s, smaller than these: every "
                 "group is in results.json and the XLSX sheet Model.", total - n, attr);
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, line);
    }
    d->y -= 8.0f;
}

static void performance(pdf_doc *d, const cJSON *p)
{
    const cJSON *o = aud_rpt_obj(p, "overall"), *g;
    char t[RPT_NUMBUF], line[400], a[RPT_NUMBUF], b[RPT_NUMBUF];
    double thr = aud_rpt_num(p, "threshold");
    int prob = strcmp(aud_rpt_str(p, "score", "probability"), "probability") == 0;
    if (o == NULL)
        return;
    aud_pdf_subsection(d, "Performance at the decision threshold", 120.0f);
    snprintf(line, sizeof line, "%s (%s); a row is predicted 1 when its score >= %s",
             aud_rpt_str(p, "label", "the label"),
             prob ? "the score is a probability of label 1" : "the score is real-valued, not a probability",
             aud_rpt_fmt(thr, RPT_AUTO, t));
    aud_pdf_kv(d, "Label and rule", line);
    snprintf(line, sizeof line, "%s rows, %s with label 1", aud_rpt_fmt(aud_rpt_num(o, "rows"), RPT_INT, a),
             aud_rpt_fmt(aud_rpt_num(o, "positives"), RPT_INT, b));
    aud_pdf_kv(d, "Rows", line);
    interval_text(o, line, sizeof line);
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "auc_ci")) == 2)
        strncat(line, " (95% DeLong interval)", sizeof line - strlen(line) - 1);
    if (isfinite(aud_rpt_num(o, "auc")))
        aud_pdf_kv(d, "AUC", line);
    else
        metric_or_reason(d, "AUC", o, "auc");
    metric_or_reason(d, "Accuracy", o, "accuracy");
    metric_or_reason(d, "Log-loss", o, "log_loss");
    metric_or_reason(d, "Brier score", o, "brier_score");
    d->y -= 4.0f;
    aud_pdf_need(d, CHART_H + 10.0f);
    float top = d->y;
    if (aud_rpt_obj(o, "roc") != NULL)
        roc_chart(d, PDF_LEFT, top, 240.0f, "ROC curve", o, NULL, 0);
    if (aud_rpt_obj(o, "calibration") != NULL)
        calibration_chart(d, PDF_LEFT + 255.0f, top, PDF_CW - 255.0f, o);
    else {
        d->y = top - 20.0f;
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT + 255.0f, PDF_CW - 255.0f, AUD_PDF_GREY,
                     "No reliability diagram: the score is not a probability of label 1, so "
                     "observed rates cannot be compared with it.");
    }
    d->y = top - CHART_H - 6.0f;
    if (aud_rpt_obj(o, "calibration") != NULL)
        aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                     "Reliability diagram: the probabilities fall in 10 bins of equal width "
                     "((0.1k, 0.1(k+1)], the first including 0); each marker is a non-empty "
                     "bin at its mean predicted probability and its observed share of label 1. "
                     "On the dashed diagonal the model is calibrated.");
    d->y -= 6.0f;
    confusion_overall(d, o, thr);
    /* by group, attribute by attribute in document order */
    const char *seen[64];
    size_t n_seen = 0;
    cJSON_ArrayForEach(g, aud_rpt_arr(p, "by_group")) {
        const char *attr = aud_rpt_str(g, "attribute", "");
        int dup = 0;
        for (size_t k = 0; k < n_seen; k++)
            dup |= strcmp(seen[k], attr) == 0;
        if (dup || n_seen == 64)
            continue;
        seen[n_seen++] = attr;
        group_section(d, p, attr);
    }
}

void aud_pdf_write_model_card(pdf_doc *d)
{
    const cJSON *card = aud_rpt_obj(d->doc, "model_card");
    const cJSON *p = aud_rpt_obj(d->doc, "performance");
    if (card == NULL && p == NULL)
        return;
    aud_pdf_section(d, "Model card");
    card_text(d, card);
    if (aud_rpt_obj(card, "model") != NULL)
        model_facts(d, aud_rpt_obj(card, "model"));
    if (p != NULL)
        performance(d, p);
    else {
        const char *why = aud_rpt_skip_reason(d->doc, "performance");
        aud_pdf_subsection(d, "Performance", 40.0f);
        aud_pdf_not_run(d, why != NULL ? why : "the results document has no performance section");
    }
}
