/* pdf_chart.c - vector charts drawn with libharu paths: horizontal bars with whiskers and a
 * reference line, beeswarm (round-cap dots, one path per colour bin, LIBS.md section 2),
 * dependence scatter, waterfall, and overlaid reference/current histograms. The charts place
 * and scale what results.json holds; the only aggregate drawn is the waterfall's "N other
 * features" bar (the sum of the remaining attributions of that row, see docs/results-schema.md). */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOT 2.3f            /* dot diameter */
#define BAR_LINES 4         /* lines of a bar label */
#define N_SHADES 8          /* colour bins of the feature-value scale */

static pdf_rgb mix(pdf_rgb a, pdf_rgb b, float t)
{
    pdf_rgb c = {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
    return c;
}

static float scale(double v, double lo, double hi, float x0, float x1)
{
    if (hi <= lo)
        return x0;
    return x0 + (float)((v - lo) / (hi - lo)) * (x1 - x0);
}

/* Decimals that print every multiple of step exactly (0.25 -> 2, 2.5 -> 1, 5 -> 0). */
static int tick_decimals(double step)
{
    for (int d = 0; d < 6; d++) {
        double s = step * pow(10.0, d);
        if (fabs(s - round(s)) <= 1e-9 * fmax(1.0, s))
            return d;
    }
    return 6;
}

/* Ticks and labels under a horizontal axis from x0 to x1 at height y. */
static void axis_x(pdf_doc *d, float x0, float x1, float y, double lo, double hi, double step,
                   float grid_top)
{
    char buf[RPT_NUMBUF];
    aud_pdf_line(d, x0, y, x1, y, 0.6f, AUD_PDF_GREY);
    if (!(step > 0))
        return;
    for (int k = 0; k < 40; k++) {
        double v = lo + k * step;
        if (v > hi + step * 1e-6)
            break;
        if (fabs(v) < step * 1e-9)
            v = 0.0;
        float x = scale(v, lo, hi, x0, x1);
        if (grid_top > y)
            aud_pdf_line(d, x, y, x, grid_top, 0.25f, AUD_PDF_RULE);
        aud_pdf_line(d, x, y, x, y - 3.0f, 0.6f, AUD_PDF_GREY);
        snprintf(buf, sizeof buf, "%.*f", tick_decimals(step), v);
        aud_pdf_text_center(d, d->font, 7.0f, x, y - 11.0f, AUD_PDF_GREY, buf);
    }
}

/* Ticks and labels left of a vertical axis. pct: labels as percent. */
static void axis_y(pdf_doc *d, float x, float y0, float y1, double lo, double hi, double step,
                   int pct, float grid_right)
{
    char buf[RPT_NUMBUF];
    aud_pdf_line(d, x, y0, x, y1, 0.6f, AUD_PDF_GREY);
    if (!(step > 0))
        return;
    for (int k = 0; k < 40; k++) {
        double v = lo + k * step;
        if (v > hi + step * 1e-6)
            break;
        if (fabs(v) < step * 1e-9)
            v = 0.0;
        float y = scale(v, lo, hi, y0, y1);
        if (grid_right > x)
            aud_pdf_line(d, x, y, grid_right, y, 0.25f, AUD_PDF_RULE);
        aud_pdf_line(d, x - 3.0f, y, x, y, 0.6f, AUD_PDF_GREY);
        if (pct)
            snprintf(buf, sizeof buf, "%.*f%%", tick_decimals(step * 100.0), v * 100.0);
        else
            snprintf(buf, sizeof buf, "%.*f", tick_decimals(step), v);
        aud_pdf_text_right(d, d->font, 7.0f, x - 4.0f, y - 2.5f, AUD_PDF_GREY, buf);
    }
}

/* Label lines and row height of one bar. */
static size_t bar_label(pdf_doc *d, const pdf_bar *b, float label_w, char (*lines)[256],
                        float *rh)
{
    char lab[300];
    size_t nl;
    snprintf(lab, sizeof lab, "%s%s", b->label, b->marked ? " \xe2\x80\xa0" : "");
    aud_rpt_utf8_fix_tail(lab);
    nl = aud_pdf_wrap(d, d->font, 7.5f, lab, label_w - 8.0f, lines, BAR_LINES);
    *rh = fmaxf(14.0f, (float)nl * 8.5f + 5.5f);
    return nl;
}

float aud_pdf_chart_hbars_height(pdf_doc *d, const pdf_bar *bars, size_t n, float label_w)
{
    char lines[BAR_LINES][256];
    float h = 24.0f + 26.0f, rh;
    for (size_t i = 0; i < n; i++) {
        bar_label(d, &bars[i], label_w, lines, &rh);
        h += rh;
    }
    return h;
}

void aud_pdf_chart_hbars(pdf_doc *d, const char *title, const pdf_bar *bars, size_t n,
                     rpt_style style, double ref_line, const char *ref_label, pdf_rgb color,
                     float label_w, float x, float w)
{
    const float row = 14.0f, bh = 9.0f, val_w = 40.0f, lsize = 7.5f, lead = 8.5f;
    double lo = 0.0, hi = 0.0, t0, t1, step;
    char val[RPT_NUMBUF];
    float px0 = x + label_w, px1 = x + w - val_w;
    float top, height = 0.0f;
    /* labels wrap (after '&', a space, ',' or '/') instead of being cut: a bar's row grows with
     * its label's lines (issue 14 items 5 and 9) */
    char (*lines)[256] = aud_malloc((n ? n : 1) * BAR_LINES * sizeof *lines);
    size_t *nl = aud_malloc((n ? n : 1) * sizeof *nl);
    float *rh = aud_malloc((n ? n : 1) * sizeof *rh);
    if (lines == NULL || nl == NULL || rh == NULL) {
        d->nomem = 1;
        d->failed = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        nl[i] = bar_label(d, &bars[i], label_w, lines + i * BAR_LINES, &rh[i]);
        height += rh[i];
    }
    for (size_t i = 0; i < n; i++) {
        const pdf_bar *b = &bars[i];
        if (isfinite(b->value)) {
            lo = fmin(lo, b->value);
            hi = fmax(hi, b->value);
        }
        if (isfinite(b->lo) && isfinite(b->hi)) {
            lo = fmin(lo, b->lo);
            hi = fmax(hi, b->hi);
        }
    }
    if (isfinite(ref_line))
        hi = fmax(hi, ref_line);
    aud_rpt_nice_range(lo, hi, 6, &t0, &t1, &step);
    if (lo >= 0.0)
        t0 = 0.0;
    aud_pdf_need(d, 22.0f + height + 26.0f);
    if (title != NULL) {
        aud_pdf_text(d, d->bold, 9.0f, x, d->y, AUD_PDF_BLACK, title);
        /* room for the reference line's label; "" keeps side-by-side charts aligned */
        d->y -= ref_label != NULL ? 24.0f : 14.0f;
    }
    top = d->y + 4.0f;
    float row_top = d->y + row / 2.0f;
    for (size_t i = 0; i < n && !d->failed; i++) {
        const pdf_bar *b = &bars[i];
        pdf_rgb c = b->marked ? mix(color, (pdf_rgb){1, 1, 1}, 0.55f) : color;
        float cy = row_top - rh[i] / 2.0f;
        row_top -= rh[i];
        for (size_t k = 0; k < nl[i]; k++)
            aud_pdf_text_right(d, d->font, lsize, px0 - 5.0f,
                               cy - 2.5f + ((float)(nl[i] - 1) / 2.0f - (float)k) * lead,
                               AUD_PDF_BLACK, lines[i * BAR_LINES + k]);
        if (isfinite(b->value)) {
            float xa = scale(0.0, t0, t1, px0, px1), xb = scale(b->value, t0, t1, px0, px1);
            aud_pdf_fill_rect(d, fminf(xa, xb), cy - bh / 2.0f, fmaxf(fabsf(xb - xa), 0.5f), bh, c);
        }
        if (isfinite(b->lo) && isfinite(b->hi)) {
            float wl = scale(b->lo, t0, t1, px0, px1), wh = scale(b->hi, t0, t1, px0, px1);
            aud_pdf_line(d, wl, cy, wh, cy, 0.8f, AUD_PDF_BLACK);
            aud_pdf_line(d, wl, cy - 3.0f, wl, cy + 3.0f, 0.8f, AUD_PDF_BLACK);
            aud_pdf_line(d, wh, cy - 3.0f, wh, cy + 3.0f, 0.8f, AUD_PDF_BLACK);
        }
        /* values in their own column right of the plot: never crossed by whiskers or lines */
        aud_rpt_fmt(b->value, style, val);
        aud_pdf_text_right(d, d->font, 7.0f, x + w, cy - 2.5f,
                       isfinite(b->value) ? AUD_PDF_BLACK : AUD_PDF_GREY, val);
    }
    float bottom = row_top;
    if (isfinite(ref_line)) {
        float xr = scale(ref_line, t0, t1, px0, px1);
        aud_pdf_dashed(d, xr, bottom, xr, top + 2.0f, 0.9f, AUD_PDF_FAIL);
        if (ref_label != NULL && ref_label[0] != '\0')
            aud_pdf_text_center(d, d->font, 7.0f, xr, top + 5.0f, AUD_PDF_FAIL, ref_label);
    }
    axis_x(d, px0, px1, bottom - 2.0f, t0, t1, step, 0.0f);
    d->y = bottom - 26.0f;
done:
    aud_free(lines);
    aud_free(nl);
    aud_free(rh);
}

/* ---- beeswarm ---- */

typedef struct dot {
    float x, y;
    int shade;          /* 0..N_SHADES-1, or N_SHADES for a missing / non-numeric value */
} dot;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static pdf_rgb shade_color(int s)
{
    static const pdf_rgb lo = {0.00f, 0.55f, 0.98f}, mid = {0.55f, 0.20f, 0.85f},
                         hi = {1.00f, 0.00f, 0.32f};
    float t = (float)s / (N_SHADES - 1);
    if (s >= N_SHADES)
        return (pdf_rgb){0.62f, 0.62f, 0.62f};
    return t < 0.5f ? mix(lo, mid, t * 2.0f) : mix(mid, hi, (t - 0.5f) * 2.0f);
}

/* Draw dots as zero-length round-capped strokes ("x y m x y l": ISO 32000-1 8.5.3.2 paints a
 * disc of the line width), one path per colour and layer. Not as the shorter single-point
 * closed subpath ("x y m h", 40 of the 190 ms of a report with a 2,000-row beeswarm saved),
 * which the standard allows too: pdf.js (Firefox's viewer) strokes through the HTML canvas,
 * which draws nothing for it (mozilla/pdf.js#11882). Nor in units of 1/8 pt with integer
 * centres: the content stream shrank by 43% and the file by 18%, but deflate took as long. The
 * points are dealt into DOT_LAYERS interleaved layers so that no colour is always painted last
 * (which would hide the others where dots overlap), while paths stay few. */
#define DOT_LAYERS 4

static void draw_dots(pdf_doc *d, const dot *dots, size_t n, float diameter)
{
    if (d->failed || n == 0)
        return;
    (void)(aud_pdf_chk(d, HPDF_Page_SetLineCap(d->page, HPDF_ROUND_END)) &&
           aud_pdf_chk(d, HPDF_Page_SetLineWidth(d->page, diameter)));
    for (size_t layer = 0; layer < DOT_LAYERS; layer++) {
        for (int k = 0; k <= N_SHADES && !d->failed; k++) {
            /* alternate the colour order per layer: low-to-high, then high-to-low */
            int s = layer % 2 == 0 ? k : (k == N_SHADES ? N_SHADES : N_SHADES - 1 - k);
            size_t cnt = 0;
            for (size_t i = layer; i < n && !d->failed; i += DOT_LAYERS) {
                if (dots[i].shade != s || !isfinite(dots[i].x) || !isfinite(dots[i].y))
                    continue;
                if (cnt == 0) {
                    pdf_rgb c = shade_color(s);
                    aud_pdf_chk(d, HPDF_Page_SetRGBStroke(d->page, c.r, c.g, c.b));
                }
                (void)(aud_pdf_chk(d, HPDF_Page_MoveTo(d->page, dots[i].x, dots[i].y)) &&
                       aud_pdf_chk(d, HPDF_Page_LineTo(d->page, dots[i].x, dots[i].y)));
                cnt++;
            }
            if (cnt > 0)
                aud_pdf_chk(d, HPDF_Page_Stroke(d->page));
        }
    }
    aud_pdf_chk(d, HPDF_Page_SetLineCap(d->page, HPDF_BUTT_END));
}

/* Shade of each numeric value by its rank among the feature's values (robust to outliers). */
static void shade_by_rank(const cJSON *pts, dot *dots, double *sorted)
{
    const cJSON *p;
    size_t m = 0, i = 0;
    cJSON_ArrayForEach(p, pts) {
        if (cJSON_IsNumber(p->child))
            sorted[m++] = p->child->valuedouble;
    }
    qsort(sorted, m, sizeof *sorted, cmp_double);
    cJSON_ArrayForEach(p, pts) {
        if (!cJSON_IsNumber(p->child) || m < 2) {
            dots[i++].shade = cJSON_IsNumber(p->child) ? N_SHADES / 2 : N_SHADES;
            continue;
        }
        double v = p->child->valuedouble;
        size_t lo = 0, hi = m;   /* first index with sorted[idx] >= v */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        int s = (int)((double)lo / (double)(m - 1) * N_SHADES);
        dots[i++].shade = s >= N_SHADES ? N_SHADES - 1 : s;
    }
}

static size_t ranked_features(const cJSON *features, const cJSON **out, size_t max)
{
    const cJSON *f;
    size_t n = 0;
    cJSON_ArrayForEach(f, features) {
        if (n == max)
            break;
        out[n++] = f;
    }
    /* insertion sort by rank (stable; documents are normally already in rank order) */
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = out[i];
        double r = aud_rpt_num(x, "rank");
        size_t j = i;
        while (j > 0 && aud_rpt_num(out[j - 1], "rank") > r) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = x;
    }
    return n;
}

void aud_pdf_chart_beeswarm(pdf_doc *d, const cJSON *features, size_t n_show)
{
    const float row = 17.0f, label_w = 125.0f, bar_w = 40.0f;
    const cJSON *feat[64];
    size_t nf, maxp = 0;
    double lo = 0.0, hi = 0.0, t0, t1, step;
    dot *dots = NULL;
    double *sorted = NULL;
    int *stack = NULL;
    if (n_show > 64)
        n_show = 64;
    nf = ranked_features(features, feat, n_show);
    for (size_t j = 0; j < nf; j++) {
        const cJSON *p;
        size_t k = 0;
        cJSON_ArrayForEach(p, aud_rpt_arr(feat[j], "points")) {
            double phi = aud_rpt_item_num(p->child->next);
            lo = fmin(lo, phi);
            hi = fmax(hi, phi);
            k++;
        }
        maxp = k > maxp ? k : maxp;
    }
    if (maxp == 0) {
        aud_pdf_not_run(d, "the results hold no per-feature points for a beeswarm plot");
        return;
    }
    aud_rpt_nice_range(lo, hi, 7, &t0, &t1, &step);
    float px0 = PDF_LEFT + label_w, px1 = PDF_RIGHT - bar_w;
    size_t nbins = (size_t)((px1 - px0) / (DOT * 0.9f)) + 2;
    dots = aud_malloc(maxp * sizeof *dots);
    sorted = aud_malloc(maxp * sizeof *sorted);
    stack = aud_calloc(nbins, sizeof *stack);
    if (dots == NULL || sorted == NULL || stack == NULL) {
        d->nomem = 1;
        d->failed = 1;
        goto done;
    }
    aud_pdf_need(d, (float)nf * row + 50.0f);
    float top = d->y + row / 2.0f;
    for (size_t j = 0; j < nf && !d->failed; j++) {
        const cJSON *pts = aud_rpt_arr(feat[j], "points");
        const cJSON *p;
        float cy = d->y - (float)j * row;
        size_t n = 0;
        int maxk = 0;
        {
            /* a long feature name: two lines (smaller type if need be) in the row, not cut */
            const char *nm = aud_rpt_str(feat[j], "name", "?");
            float one = aud_pdf_width(d, d->font, 7.5f, nm) <= label_w - 8.0f ? 0.0f : 3.6f;
            aud_pdf_text_lines(d, d->font, 7.5f, 5.5f, px0 - 6.0f - (label_w - 8.0f),
                               cy - 2.5f + one, label_w - 8.0f, 2, 1, AUD_PDF_BLACK, nm);
        }
        aud_pdf_line(d, px0, cy, px1, cy, 0.25f, AUD_PDF_RULE);
        memset(stack, 0, nbins * sizeof *stack);
        /* density jitter: dots falling in the same x bin stack alternately above and below */
        cJSON_ArrayForEach(p, pts) {
            float x = scale(aud_rpt_item_num(p->child->next), t0, t1, px0, px1);
            size_t b = (size_t)((x - px0) / (DOT * 0.9f));
            if (b >= nbins)
                b = nbins - 1;
            int k = stack[b]++;
            dots[n].x = x;
            dots[n].y = (float)(((k + 1) / 2) * ((k % 2) ? 1 : -1));
            maxk = k > maxk ? k : maxk;
            n++;
        }
        float unit = DOT * 0.75f, half = row * 0.42f;
        if ((float)((maxk + 1) / 2) * unit > half)
            unit = half / (float)((maxk + 1) / 2);
        for (size_t i = 0; i < n; i++)
            dots[i].y = cy + dots[i].y * unit;
        shade_by_rank(pts, dots, sorted);
        draw_dots(d, dots, n, DOT);
    }
    float bottom = d->y - (float)nf * row + row / 2.0f;
    float xz = scale(0.0, t0, t1, px0, px1);
    aud_pdf_line(d, xz, bottom, xz, top, 0.6f, AUD_PDF_GREY);
    axis_x(d, px0, px1, bottom - 2.0f, t0, t1, step, 0.0f);
    aud_pdf_text_center(d, d->font, 7.5f, (px0 + px1) / 2.0f, bottom - 24.0f, AUD_PDF_BLACK,
                    "SHAP value (impact on model output)");
    /* colour scale */
    {
        float bx = px1 + 16.0f, bh = fminf(120.0f, top - bottom - 20.0f), by = top - bh - 8.0f;
        for (int s = 0; s < N_SHADES; s++)
            aud_pdf_fill_rect(d, bx, by + bh * (float)s / N_SHADES, 6.0f, bh / N_SHADES + 0.3f,
                          shade_color(s));
        aud_pdf_text(d, d->font, 6.5f, bx - 2.0f, by + bh + 4.0f, AUD_PDF_GREY, "high");
        aud_pdf_text(d, d->font, 6.5f, bx - 1.0f, by - 9.0f, AUD_PDF_GREY, "low");
        aud_pdf_text(d, d->font, 6.0f, bx - 10.0f, by - 18.0f, AUD_PDF_GREY, "feature");
        aud_pdf_text(d, d->font, 6.0f, bx - 7.0f, by - 25.0f, AUD_PDF_GREY, "value");
    }
    d->y = bottom - 40.0f;
done:
    aud_free(dots);
    aud_free(sorted);
    aud_free(stack);
}

/* ---- a nominal feature's dependence plot: one strip per category ---- */

#define STRIP_MAX 8          /* categories shown: the most frequent, then "+ N more" */

typedef struct strip_cat {
    double code;
    size_t count, seen;      /* points; points placed so far (the jitter's index) */
    float  x;                /* the strip's centre; NaN: not shown */
} strip_cat;

static int cmp_code(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_strip_count(const void *a, const void *b)   /* most points first, then code */
{
    const strip_cat *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

static int cmp_strip_code(const void *a, const void *b)
{
    const strip_cat *x = a, *y = b;
    return (x->code > y->code) - (x->code < y->code);
}

/* The label of category `code`: its "categories" label, else the code itself. */
static const char *strip_label(const cJSON *feature, double code, char *buf, size_t n)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, aud_rpt_arr(feature, "categories")) {
        if (aud_rpt_num(c, "code") == code)
            return aud_rpt_str(c, "label", "?");
    }
    snprintf(buf, n, "%.15g", code);
    return buf;
}

/* The category labels under the strips (centres xs, strip width sw): one size for all, the
 * largest from 7 points down to 5 at which every label fits its strip; when none does, the
 * labels alternate between two rows (twice the width each), and a label wider still is cut
 * with an ellipsis. */
static void strip_axis_labels(pdf_doc *d, const char *const *labels, const float *xs, size_t n,
                              float y, float sw)
{
    float size = 7.0f;
    int rows = 1;
    for (;;) {
        int fit = 1;
        for (size_t k = 0; k < n && fit; k++)
            fit = aud_pdf_width(d, d->font, size, labels[k]) <= (float)rows * sw - 3.0f;
        if (fit || (rows == 2 && size <= 5.0f))
            break;
        if (size > 5.0f + (rows == 1 ? 0.5f : 0.0f))
            size -= 0.5f;
        else {
            rows = 2;
            size = 7.0f;
        }
    }
    for (size_t k = 0; k < n; k++) {
        char cut[256];
        aud_pdf_fit(d, d->font, size, labels[k], (float)rows * sw - 3.0f, cut, sizeof cut);
        aud_pdf_text_center(d, d->font, size, xs[k], y - (float)(k % (size_t)rows) * 7.5f,
                            AUD_PDF_GREY, cut);
    }
}

/* Dependence plot of a nominal feature ("nominal": true: its values are codes of categories):
 * the categories equally spaced on the x axis in code order, each point spread sideways in its
 * strip by a deterministic jitter (the golden-ratio sequence over the category's points). More
 * than STRIP_MAX categories: the most frequent are shown and the rest counted. */
static void chart_strips(pdf_doc *d, const cJSON *feature, float px0, float px1, float py0,
                         float py1, double yt0, double yt1, size_t n, size_t skipped,
                         float note_x)
{
    const cJSON *pts = aud_rpt_arr(feature, "points"), *p;
    double *codes = aud_malloc(n * sizeof *codes);
    strip_cat *cats = aud_calloc(n, sizeof *cats);
    dot *dots = aud_malloc(n * sizeof *dots);
    char buf[300];
    size_t nc = 0, m = 0, hidden_pts = 0;
    if (codes == NULL || cats == NULL || dots == NULL) {
        d->nomem = 1;
        d->failed = 1;
        goto done;
    }
    cJSON_ArrayForEach(p, pts) {
        if (cJSON_IsNumber(p->child))
            codes[m++] = p->child->valuedouble;
    }
    qsort(codes, m, sizeof *codes, cmp_code);
    for (size_t i = 0; i < m; i++) {
        if (nc == 0 || cats[nc - 1].code != codes[i])
            cats[nc++].code = codes[i];
        cats[nc - 1].count++;
    }
    size_t shown = nc < STRIP_MAX ? nc : STRIP_MAX;
    qsort(cats, nc, sizeof *cats, cmp_strip_count);
    for (size_t k = shown; k < nc; k++) {
        hidden_pts += cats[k].count;
        cats[k].x = NAN;
    }
    qsort(cats, shown, sizeof *cats, cmp_strip_code);
    float sw = (px1 - px0) / (float)shown, xs[STRIP_MAX];
    const char *labels[STRIP_MAX];
    char nums[STRIP_MAX][RPT_NUMBUF];
    for (size_t k = 0; k < shown; k++) {
        cats[k].x = xs[k] = px0 + sw * ((float)k + 0.5f);
        if (k > 0)
            aud_pdf_line(d, px0 + sw * (float)k, py0, px0 + sw * (float)k, py1, 0.25f,
                         AUD_PDF_RULE);
        aud_pdf_line(d, cats[k].x, py0, cats[k].x, py0 - 3.0f, 0.6f, AUD_PDF_GREY);
        labels[k] = strip_label(feature, cats[k].code, nums[k], sizeof nums[k]);
    }
    strip_axis_labels(d, labels, xs, shown, py0 - 10.0f, sw);
    qsort(cats, nc, sizeof *cats, cmp_strip_code);   /* all, for the look-up below */
    m = 0;
    cJSON_ArrayForEach(p, pts) {
        if (!cJSON_IsNumber(p->child))
            continue;
        strip_cat key = {.code = p->child->valuedouble}, *c;
        c = bsearch(&key, cats, nc, sizeof *cats, cmp_strip_code);
        if (c == NULL || !isfinite(c->x))
            continue;
        double u = fmod((double)c->seen++ * 0.6180339887498949, 1.0) - 0.5;
        dots[m].x = c->x + (float)u * sw * 0.7f;
        dots[m].y = scale(p->child->next->valuedouble, yt0, yt1, py0, py1);
        dots[m].shade = 1;
        m++;
    }
    draw_dots(d, dots, m, 2.0f);
    buf[0] = '\0';
    if (nc > shown)
        snprintf(buf, sizeof buf, "the %zu largest of %zu categories; %zu points in %zu "
                 "others", shown, nc, hidden_pts, nc - shown);
    if (skipped > 0)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%zu missing%s",
                 buf[0] ? "; " : "", skipped, buf[0] ? "" : " values not shown");
    if (buf[0] != '\0')   /* right of the feature's name, over the chart */
        aud_pdf_text_lines(d, d->font, 6.5f, 5.0f, note_x, py1 + 10.0f, px1 - note_x, 1, 1,
                           AUD_PDF_GREY, buf);
done:
    aud_free(codes);
    aud_free(cats);
    aud_free(dots);
}

void aud_pdf_chart_dependence(pdf_doc *d, const cJSON *feature, float x, float y_top, float w,
                          float h)
{
    const cJSON *pts = aud_rpt_arr(feature, "points");
    const cJSON *p;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    double xt0, xt1, xs, yt0, yt1, ys;
    size_t n = 0, skipped = 0;
    char buf[300];
    dot *dots;
    cJSON_ArrayForEach(p, pts) {
        if (!cJSON_IsNumber(p->child)) {
            skipped++;
            continue;
        }
        xlo = fmin(xlo, p->child->valuedouble);
        xhi = fmax(xhi, p->child->valuedouble);
        ylo = fmin(ylo, p->child->next->valuedouble);
        yhi = fmax(yhi, p->child->next->valuedouble);
        n++;
    }
    aud_pdf_text_lines(d, d->bold, 8.5f, 6.0f, x, y_top, w, 1, 0, AUD_PDF_BLACK,
                       aud_rpt_str(feature, "name", "?"));
    float px0 = x + 34.0f, px1 = x + w - 4.0f, py0 = y_top - h + 26.0f, py1 = y_top - 10.0f;
    if (n == 0) {
        aud_pdf_text(d, d->font, 8.0f, px0, (py0 + py1) / 2.0f, AUD_PDF_GREY, "no numeric values to plot");
        return;
    }
    int nominal = aud_rpt_bool(feature, "nominal") == 1;
    if (nominal)   /* room for two rows of category labels above the axis title */
        py0 += 7.0f;
    aud_rpt_nice_range(xlo, xhi, 5, &xt0, &xt1, &xs);
    aud_rpt_nice_range(ylo, yhi, 5, &yt0, &yt1, &ys);
    axis_x(d, px0, px1, py0, xt0, xt1, nominal ? 0.0 : xs, nominal ? 0.0f : py1);
    axis_y(d, px0, py0, py1, yt0, yt1, ys, 0, px1);
    aud_pdf_text_center(d, d->font, 7.0f, (px0 + px1) / 2.0f, py0 - (nominal ? 28.0f : 21.0f),
                        AUD_PDF_GREY, !nominal ? "feature value"
                        : aud_rpt_count(aud_rpt_arr(feature, "categories")) > 0
                            ? "category (in code order)" : "category code");
    aud_rpt_shap_axis(d->doc, buf, sizeof buf);
    aud_pdf_text_up(d, 7.0f, x + 6.0f, (py0 + py1) / 2.0f, py1 - py0, buf);
    if (nominal) {
        chart_strips(d, feature, px0, px1, py0, py1, yt0, yt1, n, skipped,
                     x + aud_pdf_width(d, d->bold, 8.5f, aud_rpt_str(feature, "name", "?")) +
                         10.0f);
        return;
    }
    dots = aud_malloc(n * sizeof *dots);
    if (dots == NULL) {
        d->nomem = 1;
        d->failed = 1;
        return;
    }
    n = 0;
    cJSON_ArrayForEach(p, pts) {
        if (!cJSON_IsNumber(p->child))
            continue;
        dots[n].x = scale(p->child->valuedouble, xt0, xt1, px0, px1);
        dots[n].y = scale(p->child->next->valuedouble, yt0, yt1, py0, py1);
        dots[n].shade = 1;
        n++;
    }
    draw_dots(d, dots, n, 2.0f);
    aud_free(dots);
    if (skipped > 0) {
        snprintf(buf, sizeof buf, "%zu missing values not shown", skipped);
        aud_pdf_text_right(d, d->font, 6.5f, px1, y_top, AUD_PDF_GREY, buf);
    }
}

/* ---- waterfall ---- */

#define WF_TOP 9

void aud_pdf_chart_waterfall(pdf_doc *d, const cJSON *exp, const cJSON *row)
{
    const float rh = 15.0f, label_w = 190.0f, val_w = 36.0f;
    const cJSON *phi = aud_rpt_arr(row, "phi"), *val = aud_rpt_arr(row, "value");
    const cJSON *it;
    size_t nf = aud_rpt_count(phi), idx[WF_TOP], k = 0;
    double base = aud_rpt_num(row, "base"), pred = aud_rpt_row_output(row);
    double others = 0.0, lo, hi, t0, t1, step, pos;
    char buf[400], vbuf[200], num[RPT_NUMBUF];
    /* the WF_TOP largest |phi| (ties: feature order) */
    for (size_t pass = 0; pass < WF_TOP && pass < nf; pass++) {
        double best = -1.0;
        size_t bi = 0, j = 0;
        cJSON_ArrayForEach(it, phi) {
            int used = 0;
            for (size_t q = 0; q < k; q++)
                used |= idx[q] == j;
            if (!used && fabs(it->valuedouble) > best) {
                best = fabs(it->valuedouble);
                bi = j;
            }
            j++;
        }
        idx[k++] = bi;
    }
    {
        size_t j = 0;
        cJSON_ArrayForEach(it, phi) {
            int used = 0;
            for (size_t q = 0; q < k; q++)
                used |= idx[q] == j;
            if (!used)
                others += it->valuedouble;
            j++;
        }
    }
    if (!isfinite(base))
        base = 0.0;
    /* range of every cumulative position */
    lo = hi = base;
    pos = base + (nf > k ? others : 0.0);
    lo = fmin(lo, pos);
    hi = fmax(hi, pos);
    for (size_t q = k; q-- > 0;) {
        pos += cJSON_GetArrayItem(phi, (int)idx[q])->valuedouble;
        lo = fmin(lo, pos);
        hi = fmax(hi, pos);
    }
    if (isfinite(pred)) {
        lo = fmin(lo, pred);
        hi = fmax(hi, pred);
    }
    aud_rpt_nice_range(lo, hi, 6, &t0, &t1, &step);
    size_t nrows = k + (nf > k ? 1 : 0);
    float px0 = PDF_LEFT + label_w, px1 = PDF_RIGHT - val_w;
    aud_pdf_need(d, (float)nrows * rh + 70.0f);
    snprintf(buf, sizeof buf, "f(x) = %s", aud_rpt_fmt(pred, RPT_F4, num));
    if (isfinite(aud_rpt_num(row, "probability")))   /* binary models: the link applied */
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " (probability %s)",
                 aud_rpt_fmt(aud_rpt_num(row, "probability"), RPT_F4, num));
    float top = d->y;
    aud_pdf_text_right(d, d->bold, 8.0f, PDF_RIGHT, top, AUD_PDF_BLACK, buf);
    d->y -= 14.0f;
    /* rows top-down: largest first, "other features" last; positions accumulate bottom-up */
    pos = base + (nf > k ? others : 0.0);
    double start[WF_TOP];
    {
        double p = pos;
        for (size_t q = k; q-- > 0;) {
            start[q] = p;
            p += cJSON_GetArrayItem(phi, (int)idx[q])->valuedouble;
        }
    }
    /* reference lines first, so that the value labels (on white) are drawn over them */
    float bottom = d->y - (float)nrows * rh + rh / 2.0f;
    float xbase = scale(base, t0, t1, px0, px1);
    aud_pdf_dashed(d, xbase, bottom, xbase, top - 6.0f, 0.6f, AUD_PDF_GREY);
    if (isfinite(pred)) {
        float xp = scale(pred, t0, t1, px0, px1);
        aud_pdf_dashed(d, xp, bottom, xp, top - 6.0f, 0.6f, AUD_PDF_BLACK);
    }
    for (size_t r = 0; r < nrows && !d->failed; r++) {
        float cy = d->y - (float)r * rh;
        double a, v;
        if (r < k) {
            v = cJSON_GetArrayItem(phi, (int)idx[r])->valuedouble;
            a = start[r];
            aud_rpt_fmt_feature_value(exp, idx[r], cJSON_GetArrayItem(val, (int)idx[r]), vbuf,
                                      sizeof vbuf);
            snprintf(buf, sizeof buf, "%s = %s", aud_rpt_row_feature_name(exp, idx[r]), vbuf);
        } else {
            v = others;
            a = base;
            snprintf(buf, sizeof buf, "%zu other features", nf - k);
        }
        {
            /* "feature = value": two lines in the row when long, never cut */
            float one = aud_pdf_width(d, d->font, 7.5f, buf) <= label_w - 10.0f ? 0.0f : 3.4f;
            aud_pdf_text_lines(d, d->font, 7.5f, 5.5f, px0 - 6.0f - (label_w - 10.0f),
                               cy - 2.5f + one, label_w - 10.0f, 2, 1, AUD_PDF_BLACK, buf);
        }
        aud_pdf_line(d, px0, cy, px1, cy, 0.25f, AUD_PDF_RULE);
        float xa = scale(a, t0, t1, px0, px1), xb = scale(a + v, t0, t1, px0, px1);
        pdf_rgb c = v >= 0 ? AUD_PDF_POS : AUD_PDF_NEG;
        aud_pdf_fill_rect(d, fminf(xa, xb), cy - 5.0f, fmaxf(fabsf(xb - xa), 0.6f), 10.0f, c);
        snprintf(num, sizeof num, "%s%.4f", v >= 0 ? "+" : "\xe2\x88\x92", fabs(v));
        float tw = aud_pdf_width(d, d->font, 7.0f, num);
        /* the label sits beyond the bar's head: right of a push up, left of a push down */
        float lx;
        if (v >= 0 && xb + 3.0f + tw <= PDF_RIGHT)
            lx = xb + 3.0f;
        else if (v < 0 && xb - 3.0f - tw >= px0)
            lx = xb - 3.0f - tw;
        else if (v >= 0)
            lx = xa - 3.0f - tw;
        else
            lx = xa + 3.0f;
        aud_pdf_fill_rect(d, lx - 1.0f, cy - 4.0f, tw + 2.0f, 8.5f, (pdf_rgb){1, 1, 1});
        aud_pdf_text(d, d->font, 7.0f, lx, cy - 2.5f, AUD_PDF_BLACK, num);
    }
    axis_x(d, px0, px1, bottom - 2.0f, t0, t1, step, 0.0f);
    snprintf(buf, sizeof buf, "E[f(X)] = %s (base value", aud_rpt_fmt(aud_rpt_num(row, "base"), RPT_F4, num));
    if (isfinite(aud_rpt_num(exp, "base_probability")))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "; probability %s",
                 aud_rpt_fmt(aud_rpt_num(exp, "base_probability"), RPT_F4, num));
    if (aud_rpt_str(exp, "units", NULL) != NULL)   /* x axis: the unit of every figure */
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "); axis: %s",
                 aud_rpt_str(exp, "units", ""));
    else
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ")");
    aud_pdf_text_right(d, d->font, 7.5f, PDF_RIGHT, bottom - 26.0f, AUD_PDF_GREY, buf);
    d->y = bottom - 40.0f;
}

/* ---- drift distributions ---- */

static void legend(pdf_doc *d, float x, float y, int hist)
{
    aud_pdf_fill_rect(d, x, y, 8.0f, 6.0f, hist ? mix(AUD_PDF_REF, (pdf_rgb){1, 1, 1}, 0.35f) : AUD_PDF_REF);
    aud_pdf_text(d, d->font, 6.5f, x + 11.0f, y, AUD_PDF_GREY, "reference");
    if (hist)
        aud_pdf_stroke_rect(d, x + 55.5f, y + 0.5f, 7.0f, 5.0f, 1.1f, AUD_PDF_CUR);
    else
        aud_pdf_fill_rect(d, x + 55.0f, y, 8.0f, 6.0f, AUD_PDF_CUR);
    aud_pdf_text(d, d->font, 6.5f, x + 66.0f, y, AUD_PDF_GREY, "current");
}

#define MAX_LEVEL_BARS 12

static void hist_bins(pdf_doc *d, const rpt_dist *ds, float px0, float px1, float py0, float py1)
{
    double sr = ds->ref_total, sc = ds->cur_total, ymax = 0.0, t0, t1, step;
    double e0 = ds->edges[0], e1 = ds->edges[ds->n];
    char buf[RPT_NUMBUF];
    for (size_t i = 0; i < ds->n; i++) {
        if (sr > 0)
            ymax = fmax(ymax, ds->ref[i] / sr);
        if (sc > 0)
            ymax = fmax(ymax, ds->cur[i] / sc);
    }
    aud_rpt_nice_range(0.0, ymax, 4, &t0, &t1, &step);
    t0 = 0.0;
    axis_y(d, px0, py0, py1, t0, t1, step, 1, px1);
    for (size_t i = 0; i < ds->n; i++) {
        float xa = scale(ds->edges[i], e0, e1, px0, px1);
        float xb = scale(ds->edges[i + 1], e0, e1, px0, px1);
        float hh = sr > 0 ? scale(ds->ref[i] / sr, t0, t1, py0, py1) - py0 : 0.0f;
        if (hh > 0.0f && xb - xa > 0.6f)
            aud_pdf_fill_rect(d, xa + 0.3f, py0, xb - xa - 0.6f, hh,
                          mix(AUD_PDF_REF, (pdf_rgb){1, 1, 1}, 0.35f));
    }
    /* current as a step outline over the reference bars */
    if (!d->failed && sc > 0 && isfinite(sc) && isfinite(e0) && isfinite(e1) && e1 > e0) {
        aud_pdf_chk(d, HPDF_Page_SetLineWidth(d->page, 1.3f));
        aud_pdf_chk(d, HPDF_Page_SetRGBStroke(d->page, AUD_PDF_CUR.r, AUD_PDF_CUR.g, AUD_PDF_CUR.b));
        aud_pdf_chk(d, HPDF_Page_MoveTo(d->page, px0, py0));
        for (size_t i = 0; i < ds->n; i++) {
            float xa = scale(ds->edges[i], e0, e1, px0, px1);
            float xb = scale(ds->edges[i + 1], e0, e1, px0, px1);
            float yy = scale(ds->cur[i] / sc, t0, t1, py0, py1);
            if (!isfinite(xa) || !isfinite(xb) || !isfinite(yy))
                continue;
            aud_pdf_chk(d, HPDF_Page_LineTo(d->page, xa, yy));
            aud_pdf_chk(d, HPDF_Page_LineTo(d->page, xb, yy));
        }
        aud_pdf_chk(d, HPDF_Page_LineTo(d->page, px1, py0));
        aud_pdf_chk(d, HPDF_Page_Stroke(d->page));
    }
    /* x ticks at nice values inside the binned range (the outer bins may be open-ended) */
    {
        double ta, tb, ts;
        aud_rpt_nice_range(e0, e1, 5, &ta, &tb, &ts);
        aud_pdf_line(d, px0, py0, px1, py0, 0.6f, AUD_PDF_GREY);
        for (int k = 0; k < 20 && ts > 0; k++) {
            double v = ta + k * ts;
            if (v > e1 + ts * 1e-9)
                break;
            if (v < e0 - ts * 1e-9)
                continue;
            float xx = scale(v, e0, e1, px0, px1);
            aud_pdf_line(d, xx, py0, xx, py0 - 3.0f, 0.6f, AUD_PDF_GREY);
            snprintf(buf, sizeof buf, "%.6g", fabs(v) < ts * 1e-9 ? 0.0 : v);
            aud_pdf_text_center(d, d->font, 6.5f, xx, py0 - 11.0f, AUD_PDF_GREY, buf);
        }
    }
}

static void level_bars(pdf_doc *d, const rpt_dist *ds, float px0, float px1, float py0, float py1)
{
    double sr = ds->ref_total, sc = ds->cur_total, ymax = 0.0, t0, t1, step;
    size_t nshow = ds->n > MAX_LEVEL_BARS ? MAX_LEVEL_BARS : ds->n;
    char buf[300], lab[200];
    int wrapped = 0;
    /* more categories than slots: the largest (reference and current shares together), in
     * their order, never simply the first ones (issue 14 item 5) */
    size_t idx[MAX_LEVEL_BARS];
    for (size_t i = 0; i < nshow; i++)
        idx[i] = i;
    if (ds->n > nshow) {
        size_t k = 0;
        for (size_t i = 0; i < ds->n; i++) {
            double wi = (sr > 0 ? ds->ref[i] / sr : 0) + (sc > 0 ? ds->cur[i] / sc : 0);
            size_t bigger = 0;
            for (size_t j = 0; j < ds->n && bigger < nshow; j++) {
                double wj = (sr > 0 ? ds->ref[j] / sr : 0) + (sc > 0 ? ds->cur[j] / sc : 0);
                bigger += wj > wi || (wj == wi && j < i);
            }
            if (bigger < nshow && k < nshow)
                idx[k++] = i;
        }
    }
    float slot = (px1 - px0) / (float)(nshow > 0 ? nshow : 1);
    for (size_t i = 0; i < nshow; i++) {
        aud_rpt_fmt_value(ds->labels[idx[i]], lab, sizeof lab);
        if (aud_pdf_width(d, d->font, 6.5f, lab) > slot - 2.0f)
            wrapped = 1;
    }
    for (size_t i = 0; i < nshow; i++) {
        if (sr > 0)
            ymax = fmax(ymax, ds->ref[idx[i]] / sr);
        if (sc > 0)
            ymax = fmax(ymax, ds->cur[idx[i]] / sc);
    }
    aud_rpt_nice_range(0.0, ymax, 4, &t0, &t1, &step);
    t0 = 0.0;
    axis_y(d, px0, py0, py1, t0, t1, step, 1, px1);
    aud_pdf_line(d, px0, py0, px1, py0, 0.6f, AUD_PDF_GREY);
    for (size_t i = 0; i < nshow; i++) {
        float sx = px0 + slot * (float)i, bw = fminf(slot * 0.36f, 28.0f);
        float cx = sx + slot / 2.0f;
        float hr = sr > 0 ? scale(ds->ref[idx[i]] / sr, t0, t1, py0, py1) - py0 : 0;
        float hc = sc > 0 ? scale(ds->cur[idx[i]] / sc, t0, t1, py0, py1) - py0 : 0;
        if (hr > 0)
            aud_pdf_fill_rect(d, cx - bw - 0.5f, py0, bw, hr, AUD_PDF_REF);
        if (hc > 0)
            aud_pdf_fill_rect(d, cx + 0.5f, py0, bw, hc, AUD_PDF_CUR);
        aud_rpt_fmt_value(ds->labels[idx[i]], lab, sizeof lab);
        /* labels too wide for their slot alternate between two rows, each then having two
         * slots of room, rather than being cut (issue 14 item 9) */
        aud_pdf_fit(d, d->font, 6.5f, lab, wrapped ? 2.0f * slot - 4.0f : slot - 2.0f, buf,
                    sizeof buf);
        aud_pdf_text_center(d, d->font, 6.5f, cx, py0 - (wrapped && i % 2 == 1 ? 17.5f : 10.0f),
                            AUD_PDF_GREY, buf);
    }
    if (ds->n > nshow) {
        snprintf(buf, sizeof buf, "the %zu largest of %zu categories", nshow, ds->n);
        aud_pdf_text_right(d, d->font, 6.5f, px1, py0 - (wrapped ? 25.0f : 19.0f), AUD_PDF_GREY,
                           buf);
    }
}

void aud_pdf_chart_drift(pdf_doc *d, const cJSON *column, float x, float y_top, float w, float h)
{
    float px0 = x + 30.0f, px1 = x + w - 4.0f, py0 = y_top - h + 24.0f, py1 = y_top - 12.0f;
    rpt_dist ds;
    if (aud_rpt_dist_get(column, &ds) != AUD_OK) {
        d->nomem = 1;
        d->failed = 1;
        return;
    }
    aud_pdf_text_lines(d, d->bold, 8.5f, 6.0f, x, y_top, w - 108.0f, 1, 0, AUD_PDF_BLACK,
                       aud_rpt_str(column, "name", "?"));
    legend(d, x + w - 100.0f, y_top, ds.kind == RPT_DIST_BINS);
    if (ds.kind == RPT_DIST_BINS)
        hist_bins(d, &ds, px0, px1, py0, py1);
    else if (ds.kind == RPT_DIST_LEVELS)
        level_bars(d, &ds, px0, px1, py0, py1);
    else
        aud_pdf_text(d, d->font, 8.0f, px0, (py0 + py1) / 2.0f, AUD_PDF_GREY,
                 "no histogram or category counts in the results");
    aud_rpt_dist_free(&ds);
}

/* ---- trend line (Trends section) ---- */

void aud_pdf_chart_trend(pdf_doc *d, const cJSON *runs, const cJSON *check, const char *title,
                         const char *subtitle, float x, float y_top, float w, float h)
{
    const cJSON *vals = aud_rpt_arr(check, "values"), *bound = aud_rpt_obj(check, "bound");
    const cJSON *v;
    double lo = INFINITY, hi = -INFINITY, t0, t1, step;
    double bmin = aud_rpt_num(bound, "min"), bmax = aud_rpt_num(bound, "max");
    size_t nr = aud_rpt_count(runs);
    char buf[300];
    aud_pdf_text_lines(d, d->bold, 7.5f, 5.5f, x, y_top, w, 1, 0, AUD_PDF_BLACK, title);
    aud_pdf_text_lines(d, d->font, 6.5f, 5.0f, x, y_top - 8.5f, w, 1, 0, AUD_PDF_GREY, subtitle);
    cJSON_ArrayForEach(v, vals) {
        double y = aud_rpt_num(v, "value");
        if (isfinite(y)) {
            lo = fmin(lo, y);
            hi = fmax(hi, y);
        }
    }
    float px0 = x + 30.0f, px1 = x + w - 6.0f, py0 = y_top - h + 16.0f, py1 = y_top - 16.0f;
    if (!(lo <= hi) || nr == 0) {
        aud_pdf_text(d, d->font, 7.0f, px0, (py0 + py1) / 2.0f, AUD_PDF_GREY, "no values");
        return;
    }
    if (isfinite(bmin)) {
        lo = fmin(lo, bmin);
        hi = fmax(hi, bmin);
    }
    if (isfinite(bmax)) {
        lo = fmin(lo, bmax);
        hi = fmax(hi, bmax);
    }
    if (hi - lo < 1e-9 * fmax(1.0, fabs(hi))) {   /* a flat series: give it some room */
        double pad = fmax(fabs(hi) * 0.05, 0.01);
        lo -= pad;
        hi += pad;
    }
    aud_rpt_nice_range(lo, hi, 4, &t0, &t1, &step);
    axis_y(d, px0, py0, py1, t0, t1, step, 0, px1);
    aud_pdf_line(d, px0, py0, px1, py0, 0.6f, AUD_PDF_GREY);
    /* x: one slot per run, oldest left; first and last dates under the axis */
    float slot = nr > 1 ? (px1 - px0 - 8.0f) / (float)(nr - 1) : 0.0f;
    float xa = nr > 1 ? px0 + 4.0f : (px0 + px1) / 2.0f;
    const char *first = aud_rpt_str(cJSON_GetArrayItem(runs, 0), "created", "");
    const char *last = aud_rpt_str(cJSON_GetArrayItem(runs, (int)nr - 1), "created", "");
    snprintf(buf, sizeof buf, "%.10s", first);
    aud_pdf_text(d, d->font, 6.0f, px0, py0 - 8.0f, AUD_PDF_GREY, buf);
    if (nr > 1) {
        snprintf(buf, sizeof buf, "%.10s", last);
        aud_pdf_text_right(d, d->font, 6.0f, px1, py0 - 8.0f, AUD_PDF_GREY, buf);
    }
    if (isfinite(bmin))
        aud_pdf_dashed(d, px0, scale(bmin, t0, t1, py0, py1), px1,
                       scale(bmin, t0, t1, py0, py1), 0.8f, AUD_PDF_FAIL);
    if (isfinite(bmax))
        aud_pdf_dashed(d, px0, scale(bmax, t0, t1, py0, py1), px1,
                       scale(bmax, t0, t1, py0, py1), 0.8f, AUD_PDF_FAIL);
    /* the line through consecutive values, then a dot per run (red when it failed) */
    float lx = 0.0f, ly = 0.0f;
    int have = 0;
    cJSON_ArrayForEach(v, vals) {
        double y = aud_rpt_num(v, "value");
        int k = aud_rpt_trend_run_index(runs, v);
        if (!isfinite(y) || k < 0) {
            have = 0;
            continue;
        }
        float cx = xa + slot * (float)k, cy = scale(y, t0, t1, py0, py1);
        if (have)
            aud_pdf_line(d, lx, ly, cx, cy, 1.1f, AUD_PDF_ACCENT);
        lx = cx;
        ly = cy;
        have = 1;
    }
    cJSON_ArrayForEach(v, vals) {
        double y = aud_rpt_num(v, "value");
        int k = aud_rpt_trend_run_index(runs, v);
        if (!isfinite(y) || k < 0)
            continue;
        float cx = xa + slot * (float)k, cy = scale(y, t0, t1, py0, py1);
        aud_pdf_fill_rect(d, cx - 1.6f, cy - 1.6f, 3.2f, 3.2f,
                          aud_rpt_bool(v, "passed") == 1 ? AUD_PDF_ACCENT : AUD_PDF_FAIL);
    }
}

/* The axes above for other chart files (pdf_model.c). */
void aud_pdf_axis_x(pdf_doc *d, float x0, float x1, float y, double lo, double hi, double step,
                    float grid_top)
{
    axis_x(d, x0, x1, y, lo, hi, step, grid_top);
}

void aud_pdf_axis_y(pdf_doc *d, float x, float y0, float y1, double lo, double hi, double step,
                    float grid_right)
{
    axis_y(d, x, y0, y1, lo, hi, step, 0, grid_right);
}

/* ---- partial dependence with ICE curves ---- */

void aud_pdf_chart_pdp(pdf_doc *d, const cJSON *pd, float x, float y_top, float w, float h)
{
    const cJSON *grid = aud_rpt_arr(pd, "grid"), *avg = aud_rpt_arr(pd, "average");
    const cJSON *ice = aud_rpt_arr(pd, "ice"), *c, *v;
    size_t G = aud_rpt_count(grid);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    double xt0, xt1, xs, yt0, yt1, ys;
    char buf[300];
    char name[300];
    if (cJSON_GetObjectItemCaseSensitive(pd, "class") != NULL)   /* multiclass: per class */
        snprintf(name, sizeof name, "%s: P(class %.0f)", aud_rpt_str(pd, "feature", "?"),
                 aud_rpt_num(pd, "class"));
    else
        snprintf(name, sizeof name, "%s", aud_rpt_str(pd, "feature", "?"));
    aud_pdf_fit(d, d->bold, 8.5f, name, w, buf, sizeof buf);
    aud_pdf_text(d, d->bold, 8.5f, x, y_top, AUD_PDF_BLACK, buf);
    float px0 = x + 34.0f, px1 = x + w - 4.0f, py0 = y_top - h + 26.0f, py1 = y_top - 10.0f;
    if (G == 0 || aud_rpt_count(avg) != G) {
        aud_pdf_text(d, d->font, 8.0f, px0, (py0 + py1) / 2.0f, AUD_PDF_GREY, "no grid to plot");
        return;
    }
    cJSON_ArrayForEach(v, grid) {
        xlo = fmin(xlo, v->valuedouble);
        xhi = fmax(xhi, v->valuedouble);
    }
    cJSON_ArrayForEach(v, avg) {
        ylo = fmin(ylo, v->valuedouble);
        yhi = fmax(yhi, v->valuedouble);
    }
    cJSON_ArrayForEach(c, ice) {
        cJSON_ArrayForEach(v, c) {
            ylo = fmin(ylo, v->valuedouble);
            yhi = fmax(yhi, v->valuedouble);
        }
    }
    aud_rpt_nice_range(xlo, xhi, 5, &xt0, &xt1, &xs);
    aud_rpt_nice_range(ylo, yhi, 5, &yt0, &yt1, &ys);
    axis_x(d, px0, px1, py0, xt0, xt1, xs, py1);
    axis_y(d, px0, py0, py1, yt0, yt1, ys, 0, px1);
    aud_pdf_text_center(d, d->font, 7.0f, (px0 + px1) / 2.0f, py0 - 21.0f, AUD_PDF_GREY,
                        "feature value");
    aud_rpt_pd_axis(d->doc, pd, buf, sizeof buf);
    aud_pdf_text_up(d, 7.0f, x + 6.0f, (py0 + py1) / 2.0f, py1 - py0, buf);
    /* ICE curves thin and light, the average (partial dependence) over them */
    cJSON_ArrayForEach(c, ice) {
        const cJSON *a = c->child, *g = grid->child;
        for (; a != NULL && a->next != NULL && g != NULL && g->next != NULL;
             a = a->next, g = g->next)
            aud_pdf_line(d, scale(g->valuedouble, xt0, xt1, px0, px1),
                         scale(a->valuedouble, yt0, yt1, py0, py1),
                         scale(g->next->valuedouble, xt0, xt1, px0, px1),
                         scale(a->next->valuedouble, yt0, yt1, py0, py1), 0.3f, AUD_PDF_GREY);
    }
    const cJSON *a = avg->child, *g = grid->child;
    for (; a != NULL && g != NULL; a = a->next, g = g->next) {
        float gx = scale(g->valuedouble, xt0, xt1, px0, px1);
        float gy = scale(a->valuedouble, yt0, yt1, py0, py1);
        if (a->next != NULL && g->next != NULL)
            aud_pdf_line(d, gx, gy, scale(g->next->valuedouble, xt0, xt1, px0, px1),
                         scale(a->next->valuedouble, yt0, yt1, py0, py1), 1.6f, AUD_PDF_ACCENT);
        aud_pdf_fill_rect(d, gx - 1.5f, gy - 1.5f, 3.0f, 3.0f, AUD_PDF_ACCENT);
    }
}
