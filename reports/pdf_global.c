/* pdf_global.c - the Global views section (results "global", docs/explanations.md "Global
 * views"): permutation importance bars with their intervals and table, then partial dependence
 * with ICE curves of the top features. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GL_BARS 20
#define GL_PDP 4
#define GL_PDP_MC 12   /* multiclass: (feature, class) charts */

/* A subsection's heading with its grey explanation under it. */
static void intro(pdf_doc *d, const char *title, float need, const char *text)
{
    aud_pdf_subsection(d, title, need);
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, text);
    d->y -= 6.0f;
}

void aud_pdf_write_global(pdf_doc *d)
{
    const cJSON *gl = aud_rpt_obj(d->doc, "global"), *f;
    char t[RPT_NUMBUF], buf[300];
    if (gl == NULL) {
        const char *why = aud_rpt_skip_reason(d->doc, "global");
        if (why != NULL)   /* documents from before the section have neither */
            aud_pdf_section_not_run(d, "Global views", why);
        return;
    }
    int auc = strcmp(aud_rpt_str(gl, "score", ""), "auc") == 0;
    static const char *const keys[] = {"Baseline score", "Rows", "Repeats per feature"};
    static const char *const fields[] = {"baseline", "rows", "repeats"};
    static const rpt_style styles[] = {RPT_F4, RPT_INT, RPT_INT};
    aud_pdf_section(d, "Global views");
    int ovr = strcmp(aud_rpt_str(gl, "score", ""), "auc_ovr") == 0;
    aud_pdf_kv(d, "Score", ovr ? "ROC AUC one-vs-rest, the mean over the classes"
                           : auc ? "ROC AUC" : "R\xc2\xb2 (coefficient of determination)");
    for (int k = 0; k < 3; k++)
        aud_pdf_kv(d, keys[k], aud_rpt_fmt(aud_rpt_num(gl, fields[k]), styles[k], t));
    d->y -= 8.0f;
    intro(d, "Permutation importance", 200.0f,
          "How much the score drops when one feature's values are shuffled across the rows (mean "
          "over the repeats; whiskers: 95% t interval of the mean). Near zero or negative: the "
          "model does not rely on the feature.");
    pdf_bar bars[GL_BARS];
    size_t n = 0;
    memset(bars, 0, sizeof bars);
    cJSON_ArrayForEach(f, aud_rpt_arr(gl, "permutation_importance")) {
        if (n == GL_BARS)
            break;
        bars[n].label = aud_rpt_str(f, "feature", "?");
        bars[n].value = aud_rpt_num(f, "mean");
        bars[n].lo = aud_rpt_num(f, "ci_low");
        bars[n].hi = aud_rpt_num(f, "ci_high");
        n++;
    }
    aud_pdf_chart_hbars(d, "Drop in score when the feature is permuted", bars, n, RPT_AUTO, 0.0,
                        NULL, AUD_PDF_POS, 150.0f, PDF_LEFT, PDF_CW);
    static const pdf_col cols[] = {{"Feature", 215, PDF_AL_LEFT}, {"Mean drop", 70, PDF_AL_RIGHT},
                                   {"Std", 60, PDF_AL_RIGHT}, {"95% interval", 150, PDF_AL_RIGHT}};
    pdf_table tb;
    aud_pdf_subsection(d, "Permutation importance of every feature", 80.0f);
    aud_pdf_table_begin(d, &tb, cols, 4, 8.0f);
    cJSON_ArrayForEach(f, aud_rpt_arr(gl, "permutation_importance")) {
        char m[RPT_NUMBUF], s[RPT_NUMBUF], lo[RPT_NUMBUF], hi[RPT_NUMBUF], ci[2 * RPT_NUMBUF + 8];
        snprintf(ci, sizeof ci, "[%s, %s]", aud_rpt_fmt(aud_rpt_num(f, "ci_low"), RPT_AUTO, lo),
                 aud_rpt_fmt(aud_rpt_num(f, "ci_high"), RPT_AUTO, hi));
        const char *cells[4] = {aud_rpt_str(f, "feature", "?"),
                                aud_rpt_fmt(aud_rpt_num(f, "mean"), RPT_AUTO, m),
                                aud_rpt_fmt(aud_rpt_num(f, "std"), RPT_AUTO, s), ci};
        aud_pdf_table_row(d, &tb, cells, NULL);
    }
    d->y -= 8.0f;
    const cJSON *pds = aud_rpt_arr(gl, "partial_dependence");
    if (aud_rpt_count(pds) == 0)
        return;
    const float w = (PDF_CW - 20.0f) / 2.0f, h = 185.0f;
    int multi = cJSON_GetObjectItemCaseSensitive(gl, "classes") != NULL;
    snprintf(buf, sizeof buf, "The model's average output (thick line; the partial dependence) "
             "when every row's feature is set to each grid value, over one thin curve per row "
             "(individual conditional expectation, %zu rows shown)%s.",
             aud_rpt_count(aud_rpt_arr(pds->child, "ice")),
             multi ? "; for a multiclass model one chart per feature and class, the "
                     "probability of that class" : "");
    intro(d, "Partial dependence and ICE curves of the top features", 2 * h + 40.0f, buf);
    /* two charts a row; a multiclass model's first GL_PDP_MC (feature, class) charts, a row
     * moved to the next page when it does not fit */
    size_t i = 0, cap = multi ? GL_PDP_MC : GL_PDP;
    float top = d->y;
    cJSON_ArrayForEach(f, pds) {
        if (i == cap)
            break;
        if (i % 2 == 0) {
            if (i > 0)
                d->y = top - (h + 10.0f);
            aud_pdf_need(d, h + 10.0f);
            top = d->y;
        }
        aud_pdf_chart_pdp(d, f, PDF_LEFT + (float)(i % 2) * (w + 20.0f), top, w, h);
        i++;
    }
    d->y = top - (h + 10.0f) - 6.0f;
}
