/* profile.c - column summaries: missing counts, min/max/mean/std (ddof 1), type-7 quantiles,
 * category counts. Means and variances use compensated summation (in four lanes, below) so large
 * columns match numpy/pandas. */
#define _GNU_SOURCE   /* qsort_r */
#include "metrics/profile.h"
#include "core/io.h"
#include "metrics/ksum_int.h"
#include "metrics/quantile_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double aud_profile_levels[AUD_PROFILE_N_QUANTILES] = {0.05, 0.25, 0.50, 0.75, 0.95};

/* Compensated summation in four lanes (element i goes to lane i % 4), each lane a running sum
 * and the sum of its rounding errors, every error exact by Knuth's branch-free TwoSum (TAOCP
 * vol. 2, 4.2.2; the error Neumaier's improved Kahan summation, aud_ksum, takes with a branch).
 * The lanes are two vectors of two doubles (GCC vector extensions: SSE2 on x86-64), so four
 * independent chains keep the adders busy where one chain waits on its previous addition, and
 * no branch depends on the data. The lanes, their errors and the tail are added by aud_ksum in a
 * fixed order at the end: the result depends on the values and their order only, never on
 * threads. */
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2i __attribute__((vector_size(16)));

static inline v2d load2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void two_sum_add2(v2d *s, v2d *c, v2d v)
{
    v2d t = *s + v;
    v2d bp = t - *s;
    *c += (*s - (t - bp)) + (v - bp);
    *s = t;
}

/* The four lanes' sums (s0, s1) and errors (c0, c1), lane by lane, then tail[0 .. n). */
static double lanes_total(v2d s0, v2d s1, v2d c0, v2d c1, const double *tail, size_t n)
{
    aud_ksum k = {0.0, 0.0};
    for (int l = 0; l < 4; l++) {
        aud_ksum_add(&k, (l < 2 ? s0 : s1)[l % 2]);
        aud_ksum_add(&k, (l < 2 ? c0 : c1)[l % 2]);
    }
    for (size_t i = 0; i < n; i++)
        aud_ksum_add(&k, tail[i]);
    return aud_ksum_get(&k);
}

/* a where m is set, else b, lane by lane (m: a comparison's mask) */
static inline v2d pick2(v2i m, v2d a, v2d b)
{
    v2i ai, bi;
    memcpy(&ai, &a, sizeof ai);
    memcpy(&bi, &b, sizeof bi);
    v2i r = (m & ai) | (~m & bi);
    v2d out;
    memcpy(&out, &r, sizeof out);
    return out;
}

static int profile_numeric(aud_col_profile *cp, const aud_column *c, size_t n_rows, double *buf)
{
    /* the non-missing values, packed (each is written; a NaN's place is taken by the next) */
    size_t n = 0;
    for (size_t i = 0; i < n_rows; i++) {
        double x = c->num[i];
        buf[n] = x;
        n += !isnan(x);
    }
    cp->n_present = n;
    cp->min = cp->max = cp->mean = cp->std = NAN;
    for (int q = 0; q < AUD_PROFILE_N_QUANTILES; q++)
        cp->quantiles[q] = NAN;
    if (n == 0)
        return AUD_OK;
    /* smallest, largest and compensated sum in one pass over the packed values; locals, so
     * that the lanes stay in registers */
    size_t n4 = n & ~(size_t)3;
    v2d lo0 = {buf[0], buf[0]}, lo1 = lo0, hi0 = lo0, hi1 = lo0;
    v2d s0 = {0.0, 0.0}, s1 = s0, c0 = s0, c1 = s0;
    for (size_t i = 0; i < n4; i += 4) {
        v2d x0 = load2(buf + i), x1 = load2(buf + i + 2);
        lo0 = pick2(x0 < lo0, x0, lo0);
        lo1 = pick2(x1 < lo1, x1, lo1);
        hi0 = pick2(x0 > hi0, x0, hi0);
        hi1 = pick2(x1 > hi1, x1, hi1);
        two_sum_add2(&s0, &c0, x0);
        two_sum_add2(&s1, &c1, x1);
    }
    double mn = buf[0], mx = buf[0];
    for (int l = 0; l < 2; l++) {
        mn = lo0[l] < mn ? lo0[l] : mn;
        mn = lo1[l] < mn ? lo1[l] : mn;
        mx = hi0[l] > mx ? hi0[l] : mx;
        mx = hi1[l] > mx ? hi1[l] : mx;
    }
    for (size_t i = n4; i < n; i++) {
        mn = buf[i] < mn ? buf[i] : mn;
        mx = buf[i] > mx ? buf[i] : mx;
    }
    cp->min = mn == 0.0 ? 0.0 : mn;   /* -0.0 and +0.0 are one value: which came first is not */
    cp->max = mx == 0.0 ? 0.0 : mx;   /* a property of the column */
    double mean = lanes_total(s0, s1, c0, c1, buf + n4, n - n4) / (double)n;
    cp->mean = mean;
    if (n >= 2) {
        v2d m2 = {mean, mean};
        s0 = s1 = c0 = c1 = (v2d){0.0, 0.0};
        for (size_t i = 0; i < n4; i += 4) {
            v2d d0 = load2(buf + i) - m2, d1 = load2(buf + i + 2) - m2;
            two_sum_add2(&s0, &c0, d0 * d0);
            two_sum_add2(&s1, &c1, d1 * d1);
        }
        double sq[3];   /* the tail's squared deviations (n - n4 < 4) */
        for (size_t i = n4; i < n; i++)
            sq[i - n4] = (buf[i] - mean) * (buf[i] - mean);
        cp->std = sqrt(lanes_total(s0, s1, c0, c1, sq, n - n4) / (double)(n - 1));
    }
    if (aud_quantiles_exact_mm(buf, n, mn, mx, aud_profile_levels, AUD_PROFILE_N_QUANTILES,
                               cp->quantiles) != 0)
        return AUD_E_NOMEM;
    return AUD_OK;
}

static int by_count_desc(const void *a, const void *b, void *ctx)
{
    const size_t *counts = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (counts[x] != counts[y])
        return counts[x] > counts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int profile_categorical(aud_col_profile *cp, const aud_column *c, size_t n_rows)
{
    cp->counts = aud_calloc(c->n_levels, sizeof *cp->counts);
    cp->order = aud_malloc((c->n_levels ? c->n_levels : 1) * sizeof *cp->order);
    if (cp->counts == NULL || cp->order == NULL)
        return AUD_E_NOMEM;
    size_t present = 0;   /* a local: through cp the count would go to memory at every row */
    for (size_t i = 0; i < n_rows; i++) {
        if (c->codes[i] >= 0) {
            cp->counts[c->codes[i]]++;
            present++;
        }
    }
    cp->n_present = present;
    for (size_t k = 0; k < c->n_levels; k++)
        cp->order[k] = k;
    qsort_r(cp->order, c->n_levels, sizeof *cp->order, by_count_desc, cp->counts);
    return AUD_OK;
}

void aud_profile_free(aud_profile *p)
{
    if (p == NULL)
        return;
    if (p->cols != NULL) {
        for (size_t j = 0; j < p->table->n_cols; j++) {
            aud_free(p->cols[j].order);
            aud_free(p->cols[j].counts);
        }
    }
    aud_free(p->cols);
    aud_free(p);
}

/* Columns are profiled in parallel (aud_run_units, one column a unit: numeric columns cost far
 * more than categorical ones, so each thread takes the next column not taken yet), each thread
 * with its own buffer of n_rows values; every column's figures are computed the same way
 * whatever the thread that takes it and the thread count. */
static void *prof_ws_new(void *ctx)
{
    const aud_profile *p = ctx;
    return aud_malloc_large((p->table->n_rows ? p->table->n_rows : 1) * sizeof(double));
}

static void prof_ws_free(void *ws)
{
    aud_free(ws);
}

static int prof_run(void *ctx, void *ws, size_t b, size_t e, aud_error *err)
{
    aud_profile *p = ctx;
    const aud_table *t = p->table;
    for (size_t k = b; k < e; k++) {
        const aud_column *c = &t->cols[k];
        int rc = c->type == AUD_COL_NUMERIC ? profile_numeric(&p->cols[k], c, t->n_rows, ws)
                                            : profile_categorical(&p->cols[k], c, t->n_rows);
        if (rc != AUD_OK)
            return aud_error_nomem(err);
    }
    return AUD_OK;
}

int aud_profile_compute(aud_profile **out, const aud_table *t, int threads, aud_error *err)
{
    aud_profile *p = aud_calloc(1, sizeof *p);
    if (p == NULL)
        return aud_error_nomem(err);
    p->table = t;
    p->cols = aud_calloc(t->n_cols ? t->n_cols : 1, sizeof *p->cols);
    if (p->cols == NULL) {
        aud_profile_free(p);
        return aud_error_nomem(err);
    }
    aud_units units = {prof_ws_new, prof_ws_free, prof_run, p, 1, NULL, NULL};
    int rc = aud_run_units(&units, t->n_cols, threads > 0 ? threads : aud_ncpu(), err);
    if (rc != AUD_OK) {
        aud_profile_free(p);
        return rc;
    }
    *out = p;
    return AUD_OK;
}

static int add_column_json(cJSON *arr, const aud_column *c, const aud_col_profile *cp)
{
    static const char *const qnames[AUD_PROFILE_N_QUANTILES] = {"5%", "25%", "50%", "75%", "95%"};
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o))
        return cJSON_Delete(o), -1;
    if (cJSON_AddStringToObject(o, "name", c->name) == NULL ||
        cJSON_AddStringToObject(o, "type", c->type == AUD_COL_NUMERIC ? "numeric"
                                                                      : "categorical") == NULL ||
        aud_json_add_num(o, "missing", (double)c->n_missing) != 0 ||
        aud_json_add_num(o, "count", (double)cp->n_present) != 0)
        return -1;
    /* a name other columns share: the columns are kept apart, told apart by position */
    if (c->n_same > 0 && (cJSON_AddNumberToObject(o, "same_name_columns", (double)c->n_same + 1) ==
                          NULL))
        return -1;
    if (c->type == AUD_COL_NUMERIC) {
        if (aud_json_add_num(o, "min", cp->min) || aud_json_add_num(o, "max", cp->max) ||
            aud_json_add_num(o, "mean", cp->mean) || aud_json_add_num(o, "std", cp->std))
            return -1;
        cJSON *q = cJSON_AddObjectToObject(o, "quantiles");
        if (q == NULL)
            return -1;
        for (int k = 0; k < AUD_PROFILE_N_QUANTILES; k++) {
            if (aud_json_add_num(q, qnames[k], cp->quantiles[k]) != 0)
                return -1;
        }
        if (cp->n_present < 2 && cJSON_AddStringToObject(o, "std_reason",
                                                         "fewer than 2 non-missing values") == NULL)
            return -1;
        /* JSON has no infinity: a statistic that is infinite (or undefined through one) is
         * null with a reason */
        if (cp->n_present > 0 && (isinf(cp->min) || isinf(cp->max))) {
            static const char *const stats[] = {"min", "max", "mean", "std"};
            const double vals[] = {cp->min, cp->max, cp->mean, cp->std};
            char key[32];
            for (int k = 0; k < 4; k++) {
                if (isfinite(vals[k]) || (k == 3 && cp->n_present < 2))
                    continue;
                snprintf(key, sizeof key, "%s_reason", stats[k]);
                if (cJSON_AddStringToObject(o, key, isinf(vals[k]) ? "infinite"
                                                   : "undefined: the column holds infinite values")
                    == NULL)
                    return -1;
            }
            if (cJSON_AddStringToObject(o, "quantiles_reason",
                                        "quantiles may be infinite (null): the column holds "
                                        "infinite values") == NULL)
                return -1;
        }
        return 0;
    }
    cJSON *cats = cJSON_AddObjectToObject(o, "categories");
    if (cats == NULL)
        return -1;
    size_t shown = c->n_levels < AUD_PROFILE_TOP_CATEGORIES ? c->n_levels
                                                            : AUD_PROFILE_TOP_CATEGORIES;
    size_t other = 0;
    for (size_t k = 0; k < c->n_levels; k++) {
        size_t lv = cp->order[k];
        if (k < shown) {
            if (aud_json_add_num(cats, c->levels[lv], (double)cp->counts[lv]) != 0)
                return -1;
        } else {
            other += cp->counts[lv];
        }
    }
    if (aud_json_add_num(o, "n_categories", (double)c->n_levels) != 0 ||
        aud_json_add_num(o, "other", (double)other) != 0)
        return -1;
    return 0;
}

int aud_profile_to_json(const aud_profile *p, cJSON *doc, aud_error *err)
{
    cJSON *prof = cJSON_AddObjectToObject(doc, "profile");
    cJSON *cols = NULL;
    if (prof == NULL || aud_json_add_num(prof, "rows", (double)p->table->n_rows) != 0)
        return aud_error_nomem(err);
    cols = cJSON_AddArrayToObject(prof, "columns");
    if (cols == NULL)
        return aud_error_nomem(err);
    for (size_t j = 0; j < p->table->n_cols; j++) {
        if (add_column_json(cols, &p->table->cols[j], &p->cols[j]) != 0)
            return aud_error_nomem(err);
    }
    return AUD_OK;
}
