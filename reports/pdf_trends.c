/* pdf_trends.c - the Trends section (SPEC section 8): each policy check's values over the last
 * runs of the run history, as results.json "trends" holds them (docs/history.md), with its
 * bound and the trend statement computed by audit/history.c. Nothing is recomputed here. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define COLS 3
#define CHART_H 100.0f
#define TEXT_H 30.0f

/* what the check is about: "group (attribute)", "column", "attribute" or "overall" */
static void title_of(const cJSON *c, char *buf, size_t n)
{
    const char *a = aud_rpt_str(c, "attribute", NULL), *g = aud_rpt_str(c, "group", NULL);
    const char *col = aud_rpt_str(c, "column", NULL);
    if (g != NULL)
        snprintf(buf, n, "%s (%s)", g, a != NULL ? a : "?");
    else if (col != NULL)
        snprintf(buf, n, "column %s", col);
    else
        snprintf(buf, n, "%s", a != NULL ? a : "overall");
}

static int flagged(const cJSON *c)
{
    const cJSON *t = aud_rpt_obj(c, "trend");
    return aud_rpt_bool(t, "worsening") == 1 || aud_rpt_bool(t, "worse_each_of_last_k") == 1;
}

void aud_pdf_write_trends(pdf_doc *d)
{
    const cJSON *tr = aud_rpt_obj(d->doc, "trends");
    const cJSON *runs = aud_rpt_arr(tr, "runs"), *checks = aud_rpt_arr(tr, "checks"), *c;
    if (tr == NULL)
        return;   /* no run history: no section */
    char buf[600];
    size_t n_worse = 0, n_lastk = 0;
    cJSON_ArrayForEach(c, checks) {
        n_worse += aud_rpt_bool(aud_rpt_obj(c, "trend"), "worsening") == 1;
        n_lastk += aud_rpt_bool(aud_rpt_obj(c, "trend"), "worse_each_of_last_k") == 1;
    }
    aud_pdf_section(d, "Trends");
    double k = aud_rpt_num(aud_rpt_obj(cJSON_GetArrayItem(checks, 0), "trend"), "k");
    snprintf(buf, sizeof buf,
             "Each chart shows one policy check over the last %zu audit runs of the run history "
             "(oldest left, this run right); the dashed red line is its bound and red points "
             "failed. Trend: Mann-Kendall test over run order and Sen's slope with its 95%% "
             "interval (docs/history.md). %zu of %zu checks are worsening (a significant trend "
             "the wrong way); %zu got worse in each of the last %.0f runs.",
             aud_rpt_count(runs), n_worse, aud_rpt_count(checks), n_lastk,
             isfinite(k) ? k : 3.0);
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, buf);
    d->y -= 6.0f;
    if (aud_rpt_count(checks) == 0) {
        aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, "No policy checks.");
        return;
    }
    const float gap = 14.0f, w = (PDF_CW - gap * (COLS - 1)) / COLS;
    int col = 0;
    float top = d->y, low = d->y;
    cJSON_ArrayForEach(c, checks) {
        if (col == 0) {
            aud_pdf_need(d, CHART_H + TEXT_H);
            top = d->y;
            low = d->y;
        }
        float x = PDF_LEFT + (float)col * (w + gap);
        title_of(c, buf, sizeof buf);
        aud_pdf_chart_trend(d, runs, c, buf,
                            aud_rpt_metric_label(aud_rpt_str(c, "metric", "?")), x, top - 8.0f,
                            w, CHART_H);
        d->y = top - CHART_H - 6.0f;
        aud_pdf_para(d, d->font, 6.0f, x, w, flagged(c) ? AUD_PDF_FAIL : AUD_PDF_GREY,
                     aud_rpt_str(aud_rpt_obj(c, "trend"), "statement", ""));
        low = fminf(low, d->y);
        d->y = top;
        if (++col == COLS) {
            col = 0;
            d->y = low - 8.0f;
        }
    }
    if (col != 0)
        d->y = low - 8.0f;
}
