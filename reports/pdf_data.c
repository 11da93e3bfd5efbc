/* pdf_data.c - the Data section: what the audited data file holds, from the results document's
 * "profile" (column types, missing values, summary statistics, most frequent categories). */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "min .. max, median m, mean x, std s" of a numeric column profile. */
static void numeric_summary(const cJSON *c, char *out, size_t n)
{
    char lo[RPT_NUMBUF], hi[RPT_NUMBUF], med[RPT_NUMBUF], mean[RPT_NUMBUF], sd[RPT_NUMBUF];
    if (aud_rpt_num(c, "count") == 0.0) {
        snprintf(out, n, "no values");
        return;
    }
    snprintf(out, n, "%s .. %s, median %s, mean %s, std %s", aud_rpt_fmt(aud_rpt_num(c, "min"), RPT_G, lo),
             aud_rpt_fmt(aud_rpt_num(c, "max"), RPT_G, hi),
             aud_rpt_fmt(aud_rpt_num(aud_rpt_obj(c, "quantiles"), "50%"), RPT_G, med),
             aud_rpt_fmt(aud_rpt_num(c, "mean"), RPT_G, mean), aud_rpt_fmt(aud_rpt_num(c, "std"), RPT_G, sd));
}

/* "k categories: A 3011, B 1490, ..." (most frequent first, as the profile lists them). */
static void categorical_summary(const cJSON *c, char *out, size_t n)
{
    char t[RPT_NUMBUF];
    const cJSON *cat;
    size_t used = (size_t)snprintf(out, n, "%s categories",
                                   aud_rpt_fmt(aud_rpt_num(c, "n_categories"), RPT_INT, t));
    const char *sep = ": ";
    double total = aud_rpt_num(c, "n_categories"), listed = 0;
    /* whole categories while they fit the cell's lines (about 190 characters), the rest
     * counted: never a name cut (issue 14 item 5) */
    size_t budget = n < 190 ? n : 190;
    cJSON_ArrayForEach(cat, aud_rpt_obj(c, "categories")) {
        if (!cJSON_IsNumber(cat))
            break;
        aud_rpt_fmt(cat->valuedouble, RPT_INT, t);
        if (used + strlen(sep) + strlen(cat->string) + strlen(t) + 24 > budget)
            break;
        used += (size_t)snprintf(out + used, n - used, "%s%s %s", sep, cat->string, t);
        sep = ", ";
        listed++;
    }
    if (isfinite(total) && total > listed && used + 24 < n)
        snprintf(out + used, n - used, "%sand %.0f more", listed > 0 ? ", " : ": ",
                 total - listed);
    aud_rpt_utf8_fix_tail(out);
}

void aud_pdf_write_data(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Column", 115, PDF_AL_LEFT},
                                   {"Type", 55, PDF_AL_LEFT},
                                   {"Missing", 75, PDF_AL_RIGHT},
                                   {"Summary", PDF_CW - 245, PDF_AL_LEFT}};
    const cJSON *p = aud_rpt_obj(d->doc, "profile");
    const cJSON *c;
    char t[RPT_NUMBUF], miss[2 * RPT_NUMBUF + 8], pct[RPT_NUMBUF], sum[600];
    pdf_table tab;
    if (p == NULL)
        return;   /* documents without a profile (older runs, other commands) */
    double rows = aud_rpt_num(p, "rows");
    aud_pdf_section(d, "Data");
    snprintf(sum, sizeof sum, "%s rows, %zu columns", aud_rpt_fmt(rows, RPT_INT, t),
             aud_rpt_count(aud_rpt_arr(p, "columns")));
    aud_pdf_kv(d, "Audited data", sum);
    d->y -= 6.0f;
    aud_pdf_table_begin(d, &tab, cols, 4, 7.5f);
    cJSON_ArrayForEach(c, aud_rpt_arr(p, "columns")) {
        int numeric = strcmp(aud_rpt_str(c, "type", ""), "numeric") == 0;
        double m = aud_rpt_num(c, "missing");
        snprintf(miss, sizeof miss, "%s (%s)", aud_rpt_fmt(m, RPT_INT, t),
                 aud_rpt_fmt(rows > 0 ? m / rows : NAN, RPT_PCT1, pct));
        if (numeric)
            numeric_summary(c, sum, sizeof sum);
        else
            categorical_summary(c, sum, sizeof sum);
        const char *cells[4] = {aud_rpt_str(c, "name", "?"), aud_rpt_str(c, "type", "?"), miss, sum};
        int st[4] = {0, PDF_CELL_MUTED, m > 0 ? PDF_CELL_PLAIN : PDF_CELL_MUTED, 0};
        aud_pdf_table_row(d, &tab, cells, st);
    }
    d->y -= 4.0f;
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Missing: empty fields and the missing-value tokens (NA, NaN, nan, null, ? unless "
             "configured). Std is the sample standard deviation (n - 1); median as numpy "
             "'linear'. Categories: the most frequent first (the results document holds the top "
             "50 with their counts).");
}
