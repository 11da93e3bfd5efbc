/* pdf_int.h - the PDF writer's page layer over libharu (pdf_doc.c), its charts (pdf_chart.c)
 * and its sections (pdf_cover.c, pdf_data.c, pdf_explain.c, pdf_fair.c, pdf_drift.c,
 * pdf_misc.c).
 *
 * Error model: libharu's error handler records the first failure in the pdf_doc (no longjmp, so
 * nothing leaks); every call's status goes through aud_pdf_chk(), and drawing stops being useful once
 * d->failed is set. Section writers return d->failed ? AUD_E_INTERNAL : AUD_OK via aud_pdf_status(). */
#ifndef AUD_PDF_INT_H
#define AUD_PDF_INT_H

#include <hpdf.h>
#include <cjson/cJSON.h>

#include "core/aud.h"
#include "reports/rpt_int.h"

/* A4 portrait in points; the content box inside the margins. */
#define PDF_W 595.276f
#define PDF_H 841.89f
#define PDF_LEFT 50.0f
#define PDF_RIGHT (PDF_W - 50.0f)
#define PDF_TOP (PDF_H - 62.0f)
#define PDF_BOTTOM 58.0f
#define PDF_CW (PDF_RIGHT - PDF_LEFT)

typedef struct pdf_rgb {
    float r, g, b;
} pdf_rgb;

extern const pdf_rgb AUD_PDF_BLACK, AUD_PDF_GREY, AUD_PDF_LIGHT, AUD_PDF_RULE, AUD_PDF_ACCENT, AUD_PDF_PASS, AUD_PDF_FAIL,
    AUD_PDF_PASS_BG, AUD_PDF_FAIL_BG, AUD_PDF_POS, AUD_PDF_NEG, AUD_PDF_REF, AUD_PDF_CUR, AUD_PDF_WARN;

typedef struct pdf_doc {
    HPDF_Doc pdf;
    HPDF_Font font, bold;
    HPDF_Page page;            /* current page */
    HPDF_Page *pages;
    size_t n_pages, cap_pages;
    HPDF_Outline outline;      /* current top-level bookmark */
    float y;                   /* cursor: baseline of the next line, from the bottom */
    int failed;                /* a libharu call failed (first status below) */
    unsigned long status, detail;
    int nomem;                 /* one of our allocations failed */
    const cJSON *doc;          /* the results document */
    char header[256];          /* running header (left) */
    char date[16];             /* audit date (right of the header) */
    char author[256];          /* report.organization as the document's author; "" none */
} pdf_doc;

/* Record a non-OK status; returns 1 when s is HPDF_OK. */
int aud_pdf_chk(pdf_doc *d, HPDF_STATUS s);
/* AUD_OK, or fill err from the recorded failure. */
int aud_pdf_status(pdf_doc *d, aud_error *err);

int aud_pdf_doc_init(pdf_doc *d, const cJSON *doc, aud_error *err);
void aud_pdf_doc_free(pdf_doc *d);
/* Draw headers/footers ("page X of N") and write the file atomically. */
int aud_pdf_doc_save(pdf_doc *d, const char *path, aud_error *err);

/* PDF/A-1b metadata, sRGB output intent, file identifier and page labels (pdf_archive.c);
 * called by aud_pdf_doc_save once every page exists. */
void aud_pdf_archival(pdf_doc *d);
/* Give an embedded TrueType (Type0/CIDFontType2) font of libharu the CIDSet of its subset,
 * written with the font (pdf_archive.c); call once after HPDF_GetFont. */
void aud_pdf_font_cidset(HPDF_Font font);

/* Start a page; the cursor goes to the top of the content box. */
void aud_pdf_new_page(pdf_doc *d);
/* Start a new page unless h points fit above the bottom margin. */
void aud_pdf_need(pdf_doc *d, float h);

/* Text. y is the baseline. Strings are UTF-8. */
float aud_pdf_width(pdf_doc *d, HPDF_Font f, float size, const char *s);
void aud_pdf_text(pdf_doc *d, HPDF_Font f, float size, float x, float y, pdf_rgb c, const char *s);
/* Grey text reading upwards, centred on (x, yc), x its baseline: a y-axis title; set smaller
 * (down to 5.5 points) when it is longer than max_h. */
void aud_pdf_text_up(pdf_doc *d, float size, float x, float yc, float max_h, const char *s);
void aud_pdf_text_right(pdf_doc *d, HPDF_Font f, float size, float xr, float y, pdf_rgb c,
                    const char *s);
void aud_pdf_text_center(pdf_doc *d, HPDF_Font f, float size, float xc, float y, pdf_rgb c,
                     const char *s);
/* Copy s into out, shortened with an ellipsis so that it is at most maxw wide. */
void aud_pdf_fit(pdf_doc *d, HPDF_Font f, float size, const char *s, float maxw, char *out,
             size_t n);
/* Break s into at most max_lines lines no wider than maxw (after a space, '&', ',' or '/' that
 * fits, else between characters); only text needing more lines ends in an ellipsis. Returns
 * the number of lines. */
size_t aud_pdf_wrap(pdf_doc *d, HPDF_Font f, float size, const char *s, float maxw,
                    char (*out)[256], size_t max_lines);
/* s in at most max_lines lines of width w from the baseline y down (lead 1.15 x size), at the
 * largest size from `size` down to min_size that shows all of it; right-aligned at x + w when
 * right is set. Only text too long even then ends in an ellipsis. Returns the lines drawn. */
size_t aud_pdf_text_lines(pdf_doc *d, HPDF_Font f, float size, float min_size, float x, float y,
                          float w, size_t max_lines, int right, pdf_rgb c, const char *s);
/* Word-wrapped paragraph at the cursor over width w from x; advances the cursor. Breaks only at
 * ASCII spaces: a no-break space (U+00A0) glues words and is drawn as a space. */
void aud_pdf_para(pdf_doc *d, HPDF_Font f, float size, float x, float w, pdf_rgb c, const char *s);

/* Section (new page, bookmark) and subsection headings at the cursor. */
void aud_pdf_section(pdf_doc *d, const char *title);
/* The same, on the current page when `need` points fit below the heading. */
void aud_pdf_section_need(pdf_doc *d, const char *title, float need);
void aud_pdf_subsection(pdf_doc *d, const char *title, float need);
/* A section that was not run: heading (on the current page when it fits) and its reason. */
void aud_pdf_section_not_run(pdf_doc *d, const char *title, const char *reason);
/* "Section not run: <reason>" box at the cursor. */
void aud_pdf_not_run(pdf_doc *d, const char *reason);

/* Graphics. */
void aud_pdf_fill_rect(pdf_doc *d, float x, float y, float w, float h, pdf_rgb c);
void aud_pdf_stroke_rect(pdf_doc *d, float x, float y, float w, float h, float lw, pdf_rgb c);
void aud_pdf_line(pdf_doc *d, float x0, float y0, float x1, float y1, float lw, pdf_rgb c);
void aud_pdf_dashed(pdf_doc *d, float x0, float y0, float x1, float y1, float lw, pdf_rgb c);

/* Tables: columns with titles, widths and alignment; rows with per-cell styles. Rows that do
 * not fit start a new page and repeat the header. */
enum { PDF_AL_LEFT, PDF_AL_RIGHT, PDF_AL_CENTER };
enum { PDF_CELL_PLAIN, PDF_CELL_PASS, PDF_CELL_FAIL, PDF_CELL_MUTED, PDF_CELL_BOLD, PDF_CELL_WARN };
typedef struct pdf_col {
    const char *title;
    float w;
    int align;
} pdf_col;
typedef struct pdf_table {
    const pdf_col *cols;
    size_t n;
    float size;                /* font size */
    size_t row;                /* rows drawn (zebra striping) */
} pdf_table;
void aud_pdf_table_begin(pdf_doc *d, pdf_table *t, const pdf_col *cols, size_t n, float size);
void aud_pdf_table_row(pdf_doc *d, pdf_table *t, const char *const *cells, const int *styles);
/* Key/value list (two columns, no header). */
void aud_pdf_kv(pdf_doc *d, const char *key, const char *value);

/* Charts (pdf_chart.c). Each draws at the cursor, reserving its height. */
typedef struct pdf_bar {
    const char *label;
    double value;              /* NaN: no bar, "n/a" */
    double lo, hi;             /* whisker; NaN: none */
    int marked;                /* small group: lighter bar and a dagger */
} pdf_bar;
/* Horizontal bars with value labels; ref_line NaN for none. */
void aud_pdf_chart_hbars(pdf_doc *d, const char *title, const pdf_bar *bars, size_t n,
                     rpt_style style, double ref_line, const char *ref_label, pdf_rgb color,
                     float label_w, float x, float w);
/* Height aud_pdf_chart_hbars takes for these bars (with a title and a reference label). */
float aud_pdf_chart_hbars_height(pdf_doc *d, const pdf_bar *bars, size_t n, float label_w);
/* Beeswarm summary of feature attributions. */
void aud_pdf_chart_beeswarm(pdf_doc *d, const cJSON *features, size_t n_show);
/* Dependence plot (value vs phi) of one feature, in a box at (x, y_top) of w x h. */
void aud_pdf_chart_dependence(pdf_doc *d, const cJSON *feature, float x, float y_top, float w,
                          float h);
/* Waterfall of one explained row of the explanations section exp. */
void aud_pdf_chart_waterfall(pdf_doc *d, const cJSON *exp, const cJSON *row);
/* Overlaid reference/current histogram or category bars of one drift column, in a box. */
void aud_pdf_chart_drift(pdf_doc *d, const cJSON *column, float x, float y_top, float w, float h);

/* Partial dependence (thick) over ICE curves (thin, light) of one results "global"
 * partial_dependence entry, in a box at (x, y_top) of w x h. */
void aud_pdf_chart_pdp(pdf_doc *d, const cJSON *pd, float x, float y_top, float w, float h);

/* Line chart of one check of results "trends" over its runs (oldest left), its bound dashed,
 * failed values red, under a title and a subtitle, in a box at (x, y_top) of w x h. */
void aud_pdf_chart_trend(pdf_doc *d, const cJSON *runs, const cJSON *check, const char *title,
                         const char *subtitle, float x, float y_top, float w, float h);

/* Axes of a chart: ticks every step from lo to hi with labels, grid lines up to grid_top (x) or
 * grid_right (y) when beyond the axis. */
void aud_pdf_axis_x(pdf_doc *d, float x0, float x1, float y, double lo, double hi, double step,
                    float grid_top);
void aud_pdf_axis_y(pdf_doc *d, float x, float y0, float y1, double lo, double hi, double step,
                    float grid_right);

/* Sections. */
void aud_pdf_write_cover(pdf_doc *d);
/* The findings block at the cursor (pdf_findings.c); the check table on a page of its own,
 * failures first. */
void aud_pdf_write_findings(pdf_doc *d);
void aud_pdf_write_checks(pdf_doc *d);
void aud_pdf_write_explanations(pdf_doc *d);
void aud_pdf_write_fairness(pdf_doc *d);
void aud_pdf_write_drift(pdf_doc *d);
void aud_pdf_write_performance(pdf_doc *d);
/* Model card (pdf_model.c): the spec's card, the model's facts, ROC and calibration charts and
 * confusion matrices overall and by group; nothing without a model card or performance. */
void aud_pdf_write_model_card(pdf_doc *d);
void aud_pdf_write_global(pdf_doc *d);      /* pdf_global.c */
void aud_pdf_write_provenance(pdf_doc *d);
void aud_pdf_write_data(pdf_doc *d);
void aud_pdf_write_methods(pdf_doc *d);
void aud_pdf_write_trends(pdf_doc *d);

#endif
