/* pdf_explain.c - the Explanations section: global importance (top 20 and "sum of N other
 * features"), the full importance table, beeswarm summary, dependence plots of the top 4
 * features and waterfalls of the selected rows. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOP_BARS 20
#define TOP_DEPENDENCE 4
#define MAX_WATERFALLS 6

static void importance_bars(pdf_doc *d, const cJSON *exp)
{
    const cJSON *feats = aud_rpt_arr(exp, "features");
    const cJSON *f;
    pdf_bar bars[TOP_BARS + 1];
    char other[96];
    size_t n = 0, rest = 0;
    double rest_sum = 0.0;
    memset(bars, 0, sizeof bars);
    cJSON_ArrayForEach(f, feats) {
        if (n < TOP_BARS) {
            bars[n].label = aud_rpt_str(f, "name", "?");
            bars[n].value = aud_rpt_num(f, "mean_abs");
            bars[n].lo = bars[n].hi = NAN;
            n++;
        } else {
            rest++;
            if (isfinite(aud_rpt_num(f, "mean_abs")))
                rest_sum += aud_rpt_num(f, "mean_abs");
        }
    }
    if (rest > 0) {
        /* the one display aggregate of this section: documented in docs/results-schema.md */
        snprintf(other, sizeof other, "sum of %zu other features", rest);
        bars[n].label = other;
        bars[n].value = rest_sum;
        bars[n].lo = bars[n].hi = NAN;
        bars[n].marked = 1;
        n++;
    }
    char title[300];
    snprintf(title, sizeof title, "Mean |SHAP value| (average impact on the output, in %s)",
             aud_rpt_str(exp, "units", "model output units"));
    aud_pdf_chart_hbars(d, title, bars, n,
                    RPT_F4, NAN, NULL, AUD_PDF_POS, 150.0f, PDF_LEFT, PDF_CW);
}

static void importance_table(pdf_doc *d, const cJSON *exp)
{
    static const pdf_col cols[] = {{"Rank", 40, PDF_AL_RIGHT}, {"Feature", 235, PDF_AL_LEFT},
                                   {"Mean |SHAP|", 110, PDF_AL_RIGHT},
                                   {"Mean SHAP", 110, PDF_AL_RIGHT}};
    const cJSON *f;
    pdf_table t;
    aud_pdf_subsection(d, "Global importance of every feature", 80.0f);
    aud_pdf_table_begin(d, &t, cols, 4, 8.0f);
    cJSON_ArrayForEach(f, aud_rpt_arr(exp, "features")) {
        char r[RPT_NUMBUF], a[RPT_NUMBUF], m[RPT_NUMBUF];
        const char *cells[4] = {aud_rpt_fmt(aud_rpt_num(f, "rank"), RPT_INT, r), aud_rpt_str(f, "name", "?"),
                                aud_rpt_fmt(aud_rpt_num(f, "mean_abs"), RPT_F4, a),
                                aud_rpt_fmt(aud_rpt_num(f, "mean"), RPT_F4, m)};
        aud_pdf_table_row(d, &t, cells, NULL);
    }
    d->y -= 8.0f;
}

static void dependence_grid(pdf_doc *d, const cJSON *exp)
{
    const cJSON *f;
    size_t i = 0;
    const float w = (PDF_CW - 20.0f) / 2.0f, h = 185.0f;
    aud_pdf_subsection(d, "Dependence plots of the top features", 2 * h + 10.0f);
    int nominal = 0;
    cJSON_ArrayForEach(f, aud_rpt_arr(exp, "features")) {
        if (i++ < TOP_DEPENDENCE)
            nominal |= aud_rpt_bool(f, "nominal") == 1;
    }
    i = 0;
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                 nominal ? "Each point is one explained row: the feature's value (x) against its "
                           "SHAP value (y). A nominal feature (its values are codes of "
                           "categories) has one strip per category, the points spread sideways "
                           "within it."
                         : "Each point is one explained row: the feature's value (x) against "
                           "its SHAP value (y).");
    d->y -= 8.0f;
    float top = d->y;
    cJSON_ArrayForEach(f, aud_rpt_arr(exp, "features")) {
        if (i == TOP_DEPENDENCE)
            break;
        float x = PDF_LEFT + (float)(i % 2) * (w + 20.0f);
        float y = top - (float)(i / 2) * (h + 10.0f);
        aud_pdf_chart_dependence(d, f, x, y, w, h);
        i++;
    }
    d->y = top - (float)((i + 1) / 2) * (h + 10.0f) - 6.0f;
}

static void waterfalls(pdf_doc *d, const cJSON *exp)
{
    const cJSON *rows = aud_rpt_arr(exp, "explained_rows");
    const cJSON *r, *chosen[MAX_WATERFALLS];
    size_t n = 0;
    char buf[300], num[RPT_NUMBUF];
    cJSON_ArrayForEach(r, rows) {
        if (aud_rpt_row_why(r) != NULL && n < MAX_WATERFALLS)
            chosen[n++] = r;
    }
    if (n == 0 && rows != NULL && rows->child != NULL) {
        /* nothing selected by the run: show the highest- and lowest-scoring rows present */
        const cJSON *hi = NULL, *lo = NULL;
        cJSON_ArrayForEach(r, rows) {
            double p = aud_rpt_row_output(r);
            if (!isfinite(p))
                continue;
            if (hi == NULL || p > aud_rpt_row_output(hi))
                hi = r;
            if (lo == NULL || p < aud_rpt_row_output(lo))
                lo = r;
        }
        if (hi != NULL)
            chosen[n++] = hi;
        if (lo != NULL && lo != hi)
            chosen[n++] = lo;
    }
    /* the rows went to a file beside results.json: say where, with its hash */
    char file[500];
    aud_rpt_rows_file_sentence(exp, file, sizeof file);
    aud_pdf_subsection(d, "Waterfalls of selected rows", 290.0f);   /* intro + one */
    if (n == 0) {
        if (file[0] != '\0') {   /* none selected for a waterfall, all of them in the file */
            aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, file);
            d->y -= 6.0f;
        } else {
            aud_pdf_not_run(d, "the results hold no explained rows");
        }
        return;
    }
    char intro[600];
    snprintf(intro, sizeof intro, "From the base value E[f(X)] each feature's SHAP value moves the "
             "output to the row's prediction f(x), in %s. The nine largest contributions are "
             "shown; the others are summed into one bar. Rows are 0-based data rows; the CSV "
             "line counts the header and any banner, comment or blank lines.",
             aud_rpt_str(exp, "units", "raw model output"));
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, intro);
    if (file[0] != '\0') {   /* its own paragraph: the hash does not break across lines */
        d->y -= 3.0f;
        aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, file);
    }
    d->y -= 6.0f;
    for (size_t i = 0; i < n && !d->failed; i++) {
        const char *sel = aud_rpt_row_why(chosen[i]);
        const char *id = aud_rpt_str(chosen[i], "id", NULL);
        char line[RPT_NUMBUF + 16] = "";
        aud_pdf_need(d, 230.0f);
        if (isfinite(aud_rpt_num(chosen[i], "line")))
            snprintf(line, sizeof line, " (CSV line %s)",
                     aud_rpt_fmt(aud_rpt_num(chosen[i], "line"), RPT_INT, num));
        snprintf(buf, sizeof buf, "Data row %s%s%s%.80s%s%s",
                 aud_rpt_fmt(aud_rpt_num(chosen[i], "row"), RPT_INT, num), line,
                 id != NULL ? ", id " : "", id != NULL ? id : "",
                 sel != NULL ? " - " : "", sel != NULL ? sel : "");
        aud_pdf_text(d, d->bold, 9.0f, PDF_LEFT, d->y, AUD_PDF_BLACK, buf);
        aud_pdf_chart_waterfall(d, exp, chosen[i]);
        d->y -= 4.0f;
    }
}

void aud_pdf_write_explanations(pdf_doc *d)
{
    const cJSON *exp = aud_rpt_obj(d->doc, "explanations");
    char buf[300], t[RPT_NUMBUF];
    const char *why;
    if (exp == NULL) {
        why = aud_rpt_skip_reason(d->doc, "explanations");
        aud_pdf_section_not_run(d, "Explanations", why != NULL ? why : "the results document has no explanations section");
        return;
    }
    aud_pdf_section(d, "Explanations");
    snprintf(buf, sizeof buf, "%s (output: %s)", aud_rpt_str(exp, "method", "?"),
             aud_rpt_str(exp, "output", "raw"));
    aud_pdf_kv(d, "SHAP method", buf);
    aud_pdf_kv(d, "Explained rows", aud_rpt_fmt(aud_rpt_num(exp, "rows"), RPT_INT, t));
    if (aud_rpt_str(exp, "units", NULL) != NULL)
        aud_pdf_kv(d, "Units of SHAP values", aud_rpt_str(exp, "units", ""));
    if (isfinite(aud_rpt_num(exp, "base_probability"))) {
        char p[RPT_NUMBUF];
        snprintf(buf, sizeof buf, "%s (probability %s)",
                 aud_rpt_fmt(aud_rpt_num(exp, "base_value"), RPT_F4, t),
                 aud_rpt_fmt(aud_rpt_num(exp, "base_probability"), RPT_F4, p));
        aud_pdf_kv(d, "Base value E[f(X)]", buf);
    } else {
        aud_pdf_kv(d, "Base value E[f(X)]", aud_rpt_fmt(aud_rpt_num(exp, "base_value"), RPT_F4, t));
    }
    if (aud_rpt_str(exp, "decision_rule", NULL) != NULL)
        aud_pdf_kv(d, "Decision rule", aud_rpt_str(exp, "decision_rule", ""));
    {
        double e = aud_rpt_num(exp, "additivity_max_error");
        if (isfinite(e))
            snprintf(t, sizeof t, "%.3g", e);
        else
            snprintf(t, sizeof t, "n/a");
        aud_pdf_kv(d, "Additivity max error", t);
    }
    if (aud_rpt_str(exp, "background", NULL) != NULL)
        aud_pdf_kv(d, "Background", aud_rpt_str(exp, "background", ""));
    d->y -= 8.0f;
    aud_pdf_subsection(d, "Global importance", 200.0f);
    importance_bars(d, exp);
    aud_pdf_subsection(d, "Summary (beeswarm)", 300.0f);
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "One dot per explained row and feature, at its SHAP value; colour shows the feature's "
             "value from low (blue) to high (red); grey is missing. Dots pile up where they are dense.");
    d->y -= 10.0f;
    aud_pdf_chart_beeswarm(d, aud_rpt_arr(exp, "features"), TOP_BARS);
    dependence_grid(d, exp);
    waterfalls(d, exp);
    importance_table(d, exp);
}
