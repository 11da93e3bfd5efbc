/* merge.c - `audit merge PART...`: checks the partials of `audit run --shard` and rebuilds the
 * table their multisets describe (audit/shard_int.h; docs/scale-out.md). */
#include "audit/fair_why_int.h"
#include "audit/shard_int.h"
#include "core/io.h"
#include "core/provenance.h"
#include "metrics/sketch.h"

#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one categorical column's merged dictionary (levels in order of first appearance) ------- */

typedef struct dict {
    aud_column *col;
    int32_t    *slot;      /* open addressing over level codes, -1 = empty */
    size_t      cap;
} dict;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a, 64 bits (Fowler, Noll, Vo) */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int dict_grow(dict *d)
{
    size_t cap = d->cap ? d->cap * 2 : 64;
    int32_t *slot = aud_malloc(cap * sizeof *slot);
    if (slot == NULL)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (size_t k = 0; k < d->col->n_levels; k++) {
        size_t h = (size_t)fnv1a(d->col->levels[k]) & (cap - 1);
        while (slot[h] >= 0)
            h = (h + 1) & (cap - 1);
        slot[h] = (int32_t)k;
    }
    aud_free(d->slot);
    d->slot = slot;
    d->cap = cap;
    return 0;
}

/* Code of level s, added when new; -1 on no memory. */
static int32_t dict_code(dict *d, const char *s)
{
    if ((d->col->n_levels + 1) * 2 > d->cap && dict_grow(d) != 0)
        return -1;
    size_t h = (size_t)fnv1a(s) & (d->cap - 1);
    while (d->slot[h] >= 0) {
        if (strcmp(d->col->levels[d->slot[h]], s) == 0)
            return d->slot[h];
        h = (h + 1) & (d->cap - 1);
    }
    char **lv = aud_realloc(d->col->levels, (d->col->n_levels + 1) * sizeof *lv);
    if (lv == NULL)
        return -1;
    d->col->levels = lv;
    if ((lv[d->col->n_levels] = aud_strdup(s)) == NULL)
        return -1;
    d->slot[h] = (int32_t)d->col->n_levels;
    return (int32_t)d->col->n_levels++;
}

/* ---- reading and checking the partials ---------------------------------------------------- */

typedef struct part {
    const char *path;
    const char *text;   /* in memory (build/audit-mpi); NULL: read path */
    cJSON      *doc;
    char        sha[65];
} part;

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num_of(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = v->valuedouble;
    return 0;
}

static int bad(aud_error *err, const char *path, const char *what)
{
    return aud_error_set(err, AUD_E_SCHEMA, path, 0, 0, "not a valid audit partial: %s", what);
}

static int read_part(part *p, aud_error *err)
{
    char *text = NULL;
    size_t len = p->text != NULL ? strlen(p->text) : 0;
    int rc = p->text != NULL ? AUD_OK : aud_file_read(p->path, &text, &len, 0, err);
    const char *t = p->text != NULL ? p->text : text;
    if (rc == AUD_OK)
        rc = aud_sha256_mem(t, len, p->sha, err);
    if (rc == AUD_OK)
        rc = aud_json_parse_located(&p->doc, t, len, p->path, err);
    aud_free(text);
    if (rc != AUD_OK)
        return rc;
    const char *fmt = str_of(p->doc, "format");
    double v = 0;
    if (fmt == NULL || strcmp(fmt, AUD_PARTIAL_FORMAT) != 0)
        return bad(err, p->path, "no \"format\": \"" AUD_PARTIAL_FORMAT "\"");
    if (num_of(p->doc, "version", &v) != 0 || v < AUD_PARTIAL_VERSION_MIN ||
        v > AUD_PARTIAL_VERSION || v != floor(v))
        return aud_error_set(err, AUD_E_UNSUPPORTED, p->path, 0, 0,
                             "partial format version %g is not supported (this build reads "
                             "versions %d to %d)", v, AUD_PARTIAL_VERSION_MIN,
                             AUD_PARTIAL_VERSION);
    if (str_of(p->doc, "spec_sha256") == NULL || str_of(p->doc, "spec_text") == NULL ||
        str_of(p->doc, "spec_path") == NULL || num_of(p->doc, "rows", &v) != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p->doc, "columns")) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p->doc, "joint")))
        return bad(err, p->path, "a required key is missing");
    return AUD_OK;
}

static int shard_of(const part *p, long *index, long *count, aud_error *err)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(p->doc, "shard");
    double i, n;
    if (num_of(sh, "index", &i) != 0 || num_of(sh, "count", &n) != 0 || n < 1 || i < 0 ||
        i >= n || i != floor(i) || n != floor(n) || n > 1e6)
        return bad(err, p->path, "\"shard\" needs an index in [0, count)");
    *index = (long)i;
    *count = (long)n;
    return AUD_OK;
}

/* The hash of input `role` recorded in a partial ("" when absent). */
static const char *input_hash(const part *p, const char *role)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p->doc, "inputs")) {
        const char *r = str_of(e, "role");
        if (r != NULL && strcmp(r, role) == 0)
            return str_of(e, "sha256") ? str_of(e, "sha256") : "";
    }
    return "";
}

/* Every shard once, one spec, one model and reference; ordered by shard index into by[]. */
static int check_parts(part *ps, size_t n, part **by, aud_error *err)
{
    long count = 0;
    for (size_t k = 0; k < n; k++) {
        long i = 0, N = 0;
        int rc = shard_of(&ps[k], &i, &N, err);
        if (rc != AUD_OK)
            return rc;
        if (k == 0)
            count = N;
        if (N != count)
            return aud_error_set(err, AUD_E_SCHEMA, ps[k].path, 0, 0,
                                 "shard %ld of %ld, but %s is a shard of %ld", i, N, ps[0].path,
                                 count);
        if (strcmp(str_of(ps[k].doc, "spec_sha256"), str_of(ps[0].doc, "spec_sha256")) != 0)
            return aud_error_set(err, AUD_E_SCHEMA, ps[k].path, 0, 0,
                                 "partial of a different spec than %s (spec_sha256 %.12s... vs "
                                 "%.12s...)", ps[0].path, str_of(ps[k].doc, "spec_sha256"),
                                 str_of(ps[0].doc, "spec_sha256"));
        const char *roles[] = {"model", "reference"};
        for (int q = 0; q < 2; q++) {
            if (strcmp(input_hash(&ps[k], roles[q]), input_hash(&ps[0], roles[q])) != 0)
                return aud_error_set(err, AUD_E_SCHEMA, ps[k].path, 0, 0,
                                     "its %s file differs from the one of %s (SHA-256)",
                                     roles[q], ps[0].path);
        }
        if ((size_t)count != n && (size_t)i >= n)
            continue;   /* reported below as a count mismatch */
        if (i < (long)n && by[i] != NULL)
            return aud_error_set(err, AUD_E_SCHEMA, ps[k].path, 0, 0,
                                 "shard %ld of %ld is given twice (also %s)", i, count,
                                 by[i]->path);
        if (i < (long)n)
            by[i] = &ps[k];
    }
    for (long i = 0; i < count; i++) {
        if ((size_t)i >= n || by[i] == NULL)
            return aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0,
                                 "shard %ld of %ld is missing (%zu partials given)", i, count, n);
    }
    if ((size_t)count != n)
        return aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0,
                             "%zu partials given for %ld shards", n, count);
    return AUD_OK;
}

/* ---- the merged table --------------------------------------------------------------------- */

static int add_levels(dict *d, const cJSON *levels, aud_error *err)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, levels) {
        if (!cJSON_IsString(l) || dict_code(d, l->valuestring) < 0)
            return cJSON_IsString(l) ? aud_error_nomem(err) : -1;
    }
    return AUD_OK;
}

/* Ask for transparent huge pages on the 2 MiB-aligned part of a large new buffer: the merged
 * table is written once right away, and a 4 KiB page fault per 4 KiB of 10,000,000 rows x 30
 * columns costs seconds of system time (measured: a quarter of a 4M-row merge's time). Only a
 * hint: without it (or with THP off) nothing changes. */
static void huge_pages(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + ((uintptr_t)1 << 21) - 1) & ~(((uintptr_t)1 << 21) - 1);
    uintptr_t e = ((uintptr_t)p + size) & ~(((uintptr_t)1 << 21) - 1);
    if (size >= ((size_t)8 << 20) && e > a && aud_huge_pages())
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}

/* The table's columns as shard 0 has them; every shard must have the same names and types. */
static int make_columns(part **by, size_t n, aud_table *t, dict *dicts, aud_error *err)
{
    const cJSON *c0 = cJSON_GetObjectItemCaseSensitive(by[0]->doc, "columns");
    t->n_cols = (size_t)cJSON_GetArraySize(c0);
    t->cols = aud_calloc(t->n_cols + 1, sizeof *t->cols);
    if (t->cols == NULL)
        return aud_error_nomem(err);
    for (size_t k = 0; k < n; k++) {
        const cJSON *ck = cJSON_GetObjectItemCaseSensitive(by[k]->doc, "columns");
        if ((size_t)cJSON_GetArraySize(ck) != t->n_cols)
            return aud_error_set(err, AUD_E_SCHEMA, by[k]->path, 0, 0,
                                 "%d columns, but %s has %zu", cJSON_GetArraySize(ck),
                                 by[0]->path, t->n_cols);
        size_t j = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, ck) {
            const char *name = str_of(o, "name"), *type = str_of(o, "type");
            if (name == NULL || type == NULL)
                return bad(err, by[k]->path, "a column without name or type");
            aud_column *col = &t->cols[j];
            if (k == 0) {
                col->name = aud_strdup(name);
                col->type = strcmp(type, "numeric") == 0 ? AUD_COL_NUMERIC : AUD_COL_CATEGORICAL;
                if (col->name == NULL)
                    return aud_error_nomem(err);
                dicts[j].col = col;
            } else if (strcmp(name, col->name) != 0 ||
                       (col->type == AUD_COL_NUMERIC) != (strcmp(type, "numeric") == 0)) {
                return aud_error_set(err, AUD_E_SCHEMA, by[k]->path, 0, 0,
                                     "column %zu is \"%s\" (%s), but in %s \"%s\" (%s)", j + 1,
                                     name, type, by[0]->path, col->name,
                                     col->type == AUD_COL_NUMERIC ? "numeric" : "categorical");
            }
            if (col->type == AUD_COL_CATEGORICAL) {
                int rc = add_levels(&dicts[j], cJSON_GetObjectItemCaseSensitive(o, "levels"), err);
                if (rc != AUD_OK)
                    return rc < 0 ? bad(err, by[k]->path, "a level is not a string") : rc;
            }
            j++;
        }
    }
    for (size_t j = 0; j < t->n_cols; j++) {
        aud_column *col = &t->cols[j];
        size_t sz = t->n_rows ? t->n_rows : 1;
        if (col->type == AUD_COL_NUMERIC)
            col->num = aud_malloc(sz * sizeof *col->num);
        else
            col->codes = aud_malloc(sz * sizeof *col->codes);
        if (col->num == NULL && col->codes == NULL)
            return aud_error_nomem(err);
        huge_pages(col->num != NULL ? (void *)col->num : (void *)col->codes,
                   sz * (col->num != NULL ? sizeof *col->num : sizeof *col->codes));
    }
    return AUD_OK;
}

/* Set cell (row i, column col) from a JSON value of a partial; -1 when it is not one. */
static int set_cell(aud_column *col, dict *d, size_t i, const cJSON *v, aud_error *err)
{
    if (col->type == AUD_COL_NUMERIC) {
        if (!cJSON_IsNumber(v) && !cJSON_IsNull(v))
            return -1;
        col->num[i] = cJSON_IsNull(v) ? NAN : v->valuedouble;
        col->n_missing += cJSON_IsNull(v);
        return 0;
    }
    if (!cJSON_IsString(v) && !cJSON_IsNull(v))
        return -1;
    col->codes[i] = cJSON_IsNull(v) ? -1 : dict_code(d, v->valuestring);
    col->n_missing += cJSON_IsNull(v);
    if (col->codes[i] < 0 && !cJSON_IsNull(v))
        return aud_error_nomem(err), -2;
    return 0;
}

/* Set rows i..i+m-1 of col from one JSON value (set_cell once, then copies); as set_cell. */
static int set_cells(aud_column *col, dict *d, size_t i, size_t m, const cJSON *v,
                     aud_error *err)
{
    int e = set_cell(col, d, i, v, err);
    if (e != 0 || m < 2)
        return e;
    if (col->type == AUD_COL_NUMERIC)
        for (size_t r = i + 1; r < i + m; r++)
            col->num[r] = col->num[i];
    else
        for (size_t r = i + 1; r < i + m; r++)
            col->codes[r] = col->codes[i];
    col->n_missing += cJSON_IsNull(v) ? m - 1 : 0;
    return 0;
}

/* ---- numeric columns kept as quantile summaries (audit/shard_int.h) ------------------------ */

typedef struct colsum {
    int        used;        /* a partial summarised this column */
    aud_sketch sk;          /* the merged summary (never pruned: capacity unbounded) */
    double     n, mean, m2, lo, hi, max_tie, distinct;
} colsum;

/* Fold n values with mean and sum of squared deviations m2 into acc (Chan, Golub & LeVeque,
 * "Updating formulae and a pairwise algorithm for computing sample variances", 1979). */
static void moments_add(colsum *acc, double n, double mean, double m2)
{
    double N = acc->n + n;
    if (!(n > 0))
        return;
    double d = mean - acc->mean;
    acc->m2 += m2 + d * d * acc->n * n / N;
    acc->mean += d * n / N;
    acc->n = N;
}

static int sum_num(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = v->valuedouble;
    return 0;
}

/* One shard's summary of column j (its non-missing values; NaN in the shard's rows for now). */
static int add_summary(const part *p, const cJSON *sm, size_t j, colsum *acc, size_t rows,
                       aud_error *err)
{
    double n, lo, hi, mean, m2, distinct, tie, missing;
    const cJSON *col = sm;
    sm = cJSON_GetObjectItemCaseSensitive(col, "summary");
    if (sum_num(sm, "n", &n) != 0 || sum_num(sm, "min", &lo) != 0 ||
        sum_num(sm, "max", &hi) != 0 || sum_num(sm, "mean", &mean) != 0 ||
        sum_num(sm, "m2", &m2) != 0 || sum_num(sm, "distinct", &distinct) != 0 ||
        sum_num(sm, "max_tie", &tie) != 0 || sum_num(col, "missing", &missing) != 0 ||
        n < 1 || n + missing != (double)rows || !(lo <= hi) || m2 < 0)
        return bad(err, p->path, "a column summary is incomplete or does not add up to \"rows\"");
    char where[64];
    snprintf(where, sizeof where, "columns[%zu].summary.sketch", j);
    aud_sketch s;
    int rc = aud_sketch_from_json(&s, cJSON_GetObjectItemCaseSensitive(sm, "sketch"), p->path,
                                  where, err);
    if (rc != AUD_OK)
        return rc;
    if (s.n != n) {
        aud_sketch_free(&s);
        return bad(err, p->path, "a column summary's sketch does not hold its \"n\" values");
    }
    if (!acc->used) {
        acc->sk = s;
        acc->sk.k = (size_t)1 << 40;
        acc->used = 1;
        acc->lo = lo;
        acc->hi = hi;
    } else {
        rc = aud_sketch_merge(&acc->sk, &s, err);
        aud_sketch_free(&s);
        if (rc != AUD_OK)
            return rc;
        acc->lo = fmin(acc->lo, lo);
        acc->hi = fmax(acc->hi, hi);
    }
    moments_add(acc, n, mean, m2);
    acc->distinct = fmax(acc->distinct, distinct);
    acc->max_tie += tie;
    return AUD_OK;
}

/* Column j summarised by some partial: fold in the exact values of the other partials (the
 * non-missing cells written so far), then write the sample expanded from the merged summary
 * (aud_drift_refsum_expand) into the column, missing cells after it (the other columns'
 * values are not linked to rows, so their order is free). */
static int finish_summary(aud_column *col, size_t n_rows, colsum *acc, aud_drift_refsum *out,
                          aud_sketch *sk_out, aud_error *err)
{
    double *v = aud_malloc((n_rows + 1) * sizeof *v);
    size_t m = 0;
    if (v == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < n_rows; i++)
        if (!isnan(col->num[i]))
            v[m++] = col->num[i];
    if (m > 0) {
        if (aud_drift_sort(v, m) != AUD_OK) {
            aud_free(v);
            return aud_error_nomem(err);
        }
        double mean = 0.0, m2 = 0.0, tie = 0.0, distinct = 0.0, run = 0.0;
        for (size_t i = 0; i < m; i++)
            mean += v[i];
        mean /= (double)m;
        for (size_t i = 0; i < m; i++) {
            m2 += (v[i] - mean) * (v[i] - mean);
            run = i > 0 && v[i] == v[i - 1] ? run + 1 : 1;
            tie = fmax(tie, run);
            distinct += run == 1;
        }
        aud_sketch s;
        int rc = aud_sketch_from_sorted(&s, v, m, m + 2, NULL, 0, err);
        if (rc == AUD_OK) {
            rc = aud_sketch_merge(&acc->sk, &s, err);
            aud_sketch_free(&s);
        }
        if (rc != AUD_OK) {
            aud_free(v);
            return rc;
        }
        moments_add(acc, (double)m, mean, m2);
        acc->lo = fmin(acc->lo, v[0]);
        acc->hi = fmax(acc->hi, v[m - 1]);
        acc->distinct = fmax(acc->distinct, distinct);
        acc->max_tie += tie;
    }
    aud_free(v);
    *sk_out = acc->sk;
    acc->used = 0;   /* the sketch now belongs to *sk_out */
    *out = (aud_drift_refsum){.sketch = sk_out, .lo = acc->lo, .hi = acc->hi, .n = acc->n,
                              .mean = acc->mean, .std = sqrt(acc->m2 / acc->n),
                              .distinct = (size_t)acc->distinct,
                              .max_tie = (size_t)acc->max_tie, .exact = 0};
    if (aud_drift_refsum_expand(out, col->num) != AUD_OK)
        return aud_error_nomem(err);
    for (size_t i = (size_t)acc->n; i < n_rows; i++)
        col->num[i] = NAN;
    col->n_missing = n_rows - (size_t)acc->n;
    return AUD_OK;
}

void aud_merge_sums_free(run_ctx *c)
{
    for (size_t j = 0; c->mg_sketch != NULL && j < c->mg_n; j++)
        aud_sketch_free(&c->mg_sketch[j]);
    aud_free(c->mg_sketch);
    aud_free(c->mg_sum);
    aud_why_merged_free(c->mg_why);
    c->mg_why = NULL;
    c->mg_sketch = NULL;
    c->mg_sum = NULL;
    c->mg_n = 0;
}

/* A run of equal values (the same bits: -0 and +0 apart) of a column being sorted. */
typedef struct run {
    double v;
    size_t n;
} run;

static int cmp_run(const void *pa, const void *pb)
{
    double a = ((const run *)pa)->v, b = ((const run *)pb)->v;
    if (a != b)
        return a < b ? -1 : 1;
    return signbit(b) - signbit(a);   /* -0 before +0 */
}

/* A numeric column that is not joint, filled from the partials' distinct values: each shard's
 * block holds its values in order, then its missing cells. Rewrite the column with all its
 * values in order and the missing cells after them (the order of such a column's values is
 * free: they are linked to no other column), so that drift and the profile find it sorted.
 * O(rows + runs log runs): the runs of equal values are at most the distinct values times the
 * shards. */
static int sort_column(aud_column *col, size_t n, aud_error *err)
{
    size_t nr = 0, cap = 0;
    run *r = NULL;
    for (size_t i = 0; i < n; i++) {
        double x = col->num[i];
        if (isnan(x))
            continue;
        if (nr > 0 && r[nr - 1].v == x && signbit(r[nr - 1].v) == signbit(x)) {
            r[nr - 1].n++;
            continue;
        }
        if (nr == cap) {
            cap = cap ? 2 * cap : 1024;
            run *g = aud_realloc(r, cap * sizeof *r);
            if (g == NULL) {
                aud_free(r);
                return aud_error_nomem(err);
            }
            r = g;
        }
        r[nr].v = x;
        r[nr++].n = 1;
    }
    if (nr > 1)   /* r is NULL when every value is missing (suppressed) */
        qsort(r, nr, sizeof *r, cmp_run);
    size_t i = 0;
    for (size_t k = 0; k < nr; k++)
        for (size_t e = i + r[k].n; i < e; i++)
            col->num[i] = r[k].v;
    for (; i < n; i++)
        col->num[i] = NAN;
    aud_free(r);
    return AUD_OK;
}

/* ---- binned model scores (audit/shard_int.h, docs/scale-out.md) ---------------------------- */

typedef struct score_bins {
    int    any;                           /* a partial binned its scores */
    int    bits;
    size_t n_cuts;
    double cuts[AUD_PARTIAL_SCORE_CUTS];
    const char *path;                     /* the first partial that binned */
} score_bins;

/* Read one partial's joint.score_bins (absent in version 1: its scores are exact); the
 * partials that binned must agree on the bins. */
static int read_bins(const part *p, score_bins *sb, aud_error *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(p->doc, "joint"), "score_bins");
    if (o == NULL || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "binned")))
        return AUD_OK;
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(o, "cuts"), *v;
    double bits = 0;
    if (num_of(o, "mantissa_bits", &bits) != 0 || bits < 1 || bits > 52 || bits != floor(bits) ||
        !cJSON_IsArray(ca) || cJSON_GetArraySize(ca) > AUD_PARTIAL_SCORE_CUTS)
        return bad(err, p->path, "\"joint.score_bins\" needs mantissa_bits and at most 64 cuts");
    double cuts[AUD_PARTIAL_SCORE_CUTS];
    size_t n = 0;
    cJSON_ArrayForEach(v, ca) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            (n > 0 && !(v->valuedouble > cuts[n - 1])))
            return bad(err, p->path, "\"joint.score_bins.cuts\" must be increasing numbers");
        cuts[n++] = v->valuedouble;
    }
    if (!sb->any) {
        sb->any = 1;
        sb->bits = (int)bits;
        sb->n_cuts = n;
        memcpy(sb->cuts, cuts, n * sizeof *cuts);
        sb->path = p->path;
        return AUD_OK;
    }
    if ((int)bits != sb->bits || n != sb->n_cuts || memcmp(cuts, sb->cuts, n * sizeof *cuts) != 0)
        return aud_error_set(err, AUD_E_SCHEMA, p->path, 0, 0,
                             "its score bins (joint.score_bins) differ from those of %s",
                             sb->path);
    return AUD_OK;
}

/* The scores of one binned cell: "bins" (the first bin number, then steps) and "counts" (texts
 * of space-separated integers) into out[0..m), the bins' lower ends; -1 when malformed or when
 * the counts do not add up to m. */
static int unpack_bins(const cJSON *bins, const cJSON *counts, const score_bins *sb, double *out,
                       size_t m)
{
    if (!cJSON_IsString(bins) || !cJSON_IsString(counts))
        return -1;
    const char *b = bins->valuestring, *c = counts->valuestring;
    uint64_t num = 0;
    size_t at = 0;
    while (*b != '\0' || *c != '\0') {
        char *eb = NULL, *ec = NULL;
        if (!(*b >= '0' && *b <= '9') || !(*c >= '0' && *c <= '9'))
            return -1;
        unsigned long long step = strtoull(b, &eb, 10), cnt = strtoull(c, &ec, 10);
        double r;
        if ((*eb != ' ' && *eb != '\0') || (*ec != ' ' && *ec != '\0') || cnt < 1 ||
            cnt > m - at || step > UINT64_MAX - num ||
            (at > 0 && step == 0) ||
            aud_score_bin_value(num + step, sb->cuts, sb->n_cuts, sb->bits, &r) != 0)
            return -1;
        num += step;
        for (size_t q = 0; q < cnt; q++)
            out[at++] = r;
        b = *eb == ' ' ? eb + 1 : eb;
        c = *ec == ' ' ? ec + 1 : ec;
    }
    return at == m ? 0 : -1;
}

/* The rows of one shard from its joint cells (the columns named in "joint") and its columns'
 * distinct values (every other column). */
static int fill_shard(const part *p, aud_table *t, dict *dicts, size_t r0, size_t rows,
                      unsigned char *is_joint, double *score, colsum *acc, aud_error *err)
{
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(p->doc, "joint");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(jo, "columns");
    int ms = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jo, "model_score"));
    size_t nj = (size_t)cJSON_GetArraySize(names);
    long *jc = aud_malloc((nj + 1) * sizeof *jc);
    if (jc == NULL)
        return aud_error_nomem(err);
    size_t q = 0;
    const cJSON *nm;
    cJSON_ArrayForEach(nm, names) {
        jc[q] = cJSON_IsString(nm) ? aud_table_find(t, nm->valuestring) : -1;
        if (jc[q] < 0) {
            aud_free(jc);
            return bad(err, p->path, "a joint column is not one of the columns");
        }
        is_joint[jc[q++]] = 1;
    }
    size_t i = r0;
    const cJSON *cell;
    int rc = AUD_OK;
    const char *enc = str_of(jo, "score_encoding");
    score_bins sb = {0};
    if (ms && enc != NULL && (strcmp(enc, "bins") != 0 || (rc = read_bins(p, &sb, err)) != AUD_OK ||
                              !sb.any)) {
        aud_free(jc);
        return rc != AUD_OK ? rc : bad(err, p->path, "\"joint.score_encoding\" is \"bins\" "
                                                     "only with \"score_bins\" binned");
    }
    cJSON_ArrayForEach(cell, cJSON_GetObjectItemCaseSensitive(jo, "cells")) {
        size_t width = nj + (size_t)ms + 1 + (sb.any ? 1 : 0);
        if (sb.any) {   /* [v..., count, "bins", "counts"] */
            const cJSON *cn = cJSON_GetArrayItem(cell, (int)nj);
            if (!cJSON_IsArray(cell) || (size_t)cJSON_GetArraySize(cell) != width ||
                !cJSON_IsNumber(cn) || cn->valuedouble < 1 ||
                cn->valuedouble > (double)(r0 + rows - i)) {
                rc = bad(err, p->path, "a joint cell has the wrong width or count");
                break;
            }
            size_t m = (size_t)cn->valuedouble;
            const cJSON *v = cell->child;
            for (size_t j = 0; j < nj && rc == AUD_OK; j++, v = v->next) {
                int e = set_cells(&t->cols[jc[j]], &dicts[jc[j]], i, m, v, err);
                rc = e == -1 ? bad(err, p->path, "a joint cell value has the wrong type")
                             : e == -2 ? AUD_E_NOMEM : AUD_OK;
            }
            if (rc == AUD_OK && (score == NULL ||
                                 unpack_bins(cn->next, cn->next->next, &sb, score + i, m) != 0))
                rc = bad(err, p->path, "a joint cell's score bins are malformed or do not add "
                                       "up to its count");
            i += m;
            if (rc != AUD_OK)
                break;
            continue;
        }
        const cJSON *cnt = cJSON_GetArrayItem(cell, (int)width - 1);
        if (!cJSON_IsArray(cell) || (size_t)cJSON_GetArraySize(cell) != width ||
            !cJSON_IsNumber(cnt) || cnt->valuedouble < 1 ||
            cnt->valuedouble > (double)(r0 + rows - i)) {
            rc = bad(err, p->path, "a joint cell has the wrong width or count");
            break;
        }
        size_t m = (size_t)cnt->valuedouble;
        const cJSON *v = cell->child;
        for (size_t j = 0; j < nj && rc == AUD_OK; j++, v = v->next) {
            int e = set_cells(&t->cols[jc[j]], &dicts[jc[j]], i, m, v, err);
            rc = e == -1 ? bad(err, p->path, "a joint cell value has the wrong type")
                         : e == -2 ? AUD_E_NOMEM : AUD_OK;
        }
        if (rc == AUD_OK && ms) {
            if (!cJSON_IsNumber(v) || score == NULL) {
                rc = bad(err, p->path, "a model score is not a number");
                break;
            }
            for (size_t r = i; r < i + m; r++)
                score[r] = v->valuedouble;
        }
        i += m;
        if (rc != AUD_OK)
            break;
    }
    if (rc == AUD_OK && (nj > 0 || ms) && i != r0 + rows)
        rc = bad(err, p->path, "the joint cells do not add up to \"rows\"");
    aud_free(jc);
    if (rc != AUD_OK)
        return rc;
    size_t j = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(p->doc, "columns")) {
        aud_column *col = &t->cols[j];
        if (is_joint[j++])
            continue;
        int num = col->type == AUD_COL_NUMERIC;
        if (num && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "summary"))) {
            int rc2 = add_summary(p, o, j - 1, &acc[j - 1], rows, err);
            if (rc2 != AUD_OK)
                return rc2;
            for (size_t r = r0; r < r0 + rows; r++)
                col->num[r] = NAN;
            continue;
        }
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(o, num ? "values" : "levels");
        const cJSON *cnts = cJSON_GetObjectItemCaseSensitive(o, "counts");
        if (cJSON_GetArraySize(vals) != cJSON_GetArraySize(cnts))
            return bad(err, p->path, "a column's values and counts differ in length");
        size_t r = r0;
        const cJSON *c = cnts ? cnts->child : NULL;
        const cJSON *v;
        cJSON_ArrayForEach(v, vals) {
            if (!cJSON_IsNumber(c) || c->valuedouble < 1 ||
                c->valuedouble > (double)(r0 + rows - r))
                return bad(err, p->path, "a column's counts exceed its rows");
            size_t m = (size_t)c->valuedouble;
            int x = set_cells(col, &dicts[j - 1], r, m, v, err);
            if (x != 0)
                return x == -2 ? AUD_E_NOMEM : bad(err, p->path, "a value has the wrong type");
            r += m;
            c = c->next;
        }
        for (; r < r0 + rows; r++) {   /* missing and suppressed values */
            if (num)
                col->num[r] = NAN;
            else
                col->codes[r] = -1;
            col->n_missing++;
        }
    }
    return AUD_OK;
}

/* A count as a plain JSON number (readable back with cJSON_GetNumberValue); 0 or -1. */
static int add_count(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL ? 0 : -1;
}

/* "merge" block of the merged results: the partials, the shard count and what was suppressed. */
static cJSON *merge_info(part **by, size_t n)
{
    cJSON *info = cJSON_CreateObject();
    cJSON *arr = info ? cJSON_AddArrayToObject(info, "partials") : NULL;
    double cells = 0, values = 0, rows_out = 0, min_cell = 1;
    for (size_t k = 0; arr != NULL && k < n; k++) {
        const cJSON *su = cJSON_GetObjectItemCaseSensitive(by[k]->doc, "suppressed");
        double v = 0;
        if (num_of(su, "cells", &v) == 0)
            cells += v;
        if (num_of(su, "values", &v) == 0)
            values += v;
        if (num_of(su, "rows", &v) == 0)
            rows_out += v;
        if (num_of(by[k]->doc, "min_cell_count", &v) == 0 && v > min_cell)
            min_cell = v;
        cJSON *o = cJSON_CreateObject();
        double rows = 0;
        num_of(by[k]->doc, "rows", &rows);
        if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
            cJSON_AddStringToObject(o, "path", by[k]->path) == NULL ||
            cJSON_AddStringToObject(o, "sha256", by[k]->sha) == NULL ||
            add_count(o, "shard", (double)k) != 0 || add_count(o, "rows", rows) != 0)
            arr = NULL;
        const cJSON *in;   /* a shard that read only a byte range of the data file */
        cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(by[k]->doc, "inputs")) {
            const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(in, "bytes");
            const char *role = str_of(in, "role");
            cJSON *copy = NULL;
            if (arr != NULL && role != NULL && strcmp(role, "data") == 0 && bytes != NULL &&
                ((copy = cJSON_Duplicate(bytes, 1)) == NULL ||
                 !cJSON_AddItemToObject(o, "data_bytes", copy))) {
                cJSON_Delete(copy);
                arr = NULL;
            }
        }
    }
    if (arr == NULL || add_count(info, "shards", (double)n) != 0 ||
        add_count(info, "min_cell_count", min_cell) != 0 ||
        add_count(info, "suppressed_cells", cells) != 0 ||
        add_count(info, "suppressed_rows", rows_out) != 0 ||
        add_count(info, "suppressed_values", values) != 0) {
        cJSON_Delete(info);
        return NULL;
    }
    return info;
}

/* One row array of a partial's "explained" block into out[0..n); -1 when it is not one. */
static int read_row(const cJSON *a, double *out, size_t n)
{
    if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
        return -1;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (!cJSON_IsNumber(v) && !cJSON_IsNull(v))
            return -1;
        *out++ = cJSON_IsNull(v) ? NAN : v->valuedouble;
    }
    return 0;
}

/* n doubles from a string of 16 hex digits each (shard.c add_hex); -1 when it is not one. */
int aud_merge_read_hex(const cJSON *s, double *out, size_t n)
{
    if (!cJSON_IsString(s) || strlen(s->valuestring) != 16 * n)
        return -1;
    const char *h = s->valuestring;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 16; k++) {
            char ch = *h++;
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            u = u << 4 | (uint64_t)d;
        }
        memcpy(&out[i], &u, sizeof u);
    }
    return 0;
}

/* The packed explained rows of one partial (shard.c add_packed) into rows i.. of the merged
 * ones (base: added to the row numbers of a site); *id walks the ids. -1: malformed. */
static int unpack_explained(const cJSON *ex, run_ctx *c, size_t i, size_t nf, size_t no,
                            size_t base, const cJSON **id)
{
    const cJSON *rw = cJSON_GetObjectItemCaseSensitive(ex, "rows");
    size_t m = cJSON_IsString(rw) ? strlen(rw->valuestring) / 16 : 0, stride = no * (nf + 1);
    double *tmp = aud_malloc(2 * (m ? m : 1) * sizeof *tmp);   /* rows, then line */
    if (tmp == NULL)
        return aud_error_nomem(c->err);
    int bad = aud_merge_read_hex(rw, tmp, m) != 0 ||
              aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(ex, "x"), c->mx_X + i * nf, m * nf) ||
              aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(ex, "phi"), c->mx_r->phi + i * stride,
                       m * stride) ||
              aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(ex, "fx"), c->mx_r->fx + i * no,
                       m * no) ||
              aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(ex, "prediction"), c->mx_pred + i, m) ||
              aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(ex, "line"), tmp + m, m);
    for (size_t q = 0; q < m && !bad; q++) {
        double row = tmp[q], line = tmp[m + q];
        bad = !(row >= 0 && row < 1e15);
        if (bad)
            break;
        c->mx_rows[i + q] = base + (size_t)row;
        c->mx_line[i + q] = line >= 1 && line < 1e15 ? (long)line : 0;
        if (cJSON_IsString(*id) && (c->mx_id[i + q] = aud_strdup((*id)->valuestring)) == NULL) {
            aud_free(tmp);
            return aud_error_nomem(c->err);
        }
        *id = *id != NULL ? (*id)->next : NULL;
        bad = i + q > 0 && c->mx_rows[i + q] <= c->mx_rows[i + q - 1];
    }
    aud_free(tmp);
    return bad ? -1 : AUD_OK;
}

/* The explained rows of every shard, in shard order (= row order), as one attribution result. */
static int merge_explained(part **by, size_t n, run_ctx *c)
{
    size_t total = 0, nf = 0, no = 0, offset = 0;
    int raw = 1;
    double add_err = 0.0;
    for (size_t k = 0; k < n; k++) {
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(by[k]->doc, "explained");
        const char *why = str_of(ex, "skipped");
        double f = 0, o = 0, a = 0;
        if (ex == NULL)
            why = "a partial holds no explained rows";
        if (why != NULL) {
            snprintf(c->mx_skip_text, sizeof c->mx_skip_text, "%s", why);
            c->mx_skip = c->mx_skip_text;
            return AUD_OK;
        }
        if (num_of(ex, "features", &f) != 0 || num_of(ex, "outputs", &o) != 0 ||
            num_of(ex, "additivity_max_error", &a) != 0 || f < 1 || o < 1 || f > 1e6 || o > 1e4 ||
            (k > 0 && ((size_t)f != nf || (size_t)o != no)))
            return bad(c->err, by[k]->path, "\"explained\" needs features and outputs");
        nf = (size_t)f;
        no = (size_t)o;
        raw = str_of(ex, "output") != NULL && strcmp(str_of(ex, "output"), "raw") == 0;
        add_err = a > add_err ? a : add_err;
        const cJSON *rw = cJSON_GetObjectItemCaseSensitive(ex, "rows");
        total += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ex, "packed"))
                     ? (cJSON_IsString(rw) ? strlen(rw->valuestring) / 16 : 0)
                     : (size_t)cJSON_GetArraySize(rw);
    }
    aud_shap_result *r = aud_calloc(1, sizeof *r);
    size_t stride = no * (nf + 1), sz = total ? total : 1;
    c->mx_r = r;
    if (r == NULL || (r->phi = aud_malloc(sz * stride * sizeof *r->phi)) == NULL ||
        (r->fx = aud_malloc(sz * no * sizeof *r->fx)) == NULL ||
        (c->mx_X = aud_malloc(sz * nf * sizeof *c->mx_X)) == NULL ||
        (c->mx_rows = aud_malloc(sz * sizeof *c->mx_rows)) == NULL ||
        (c->mx_pred = aud_malloc(sz * sizeof *c->mx_pred)) == NULL ||
        (c->mx_line = aud_calloc(sz, sizeof *c->mx_line)) == NULL ||
        (c->mx_id = aud_calloc(sz, sizeof *c->mx_id)) == NULL)
        return aud_error_nomem(c->err);
    c->mx_n = total;   /* (mx_id is freed over mx_n entries) */
    r->output = raw ? AUD_SHAP_OUTPUT_RAW : AUD_SHAP_OUTPUT_PROBABILITY;
    r->n_features = nf;
    r->n_outputs = no;
    r->stride = stride;
    r->additivity_max_error = add_err;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(by[k]->doc, "explained");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(by[k]->doc, "shard");
        const char *split = str_of(sh, "split");
        size_t base = split != NULL && strcmp(split, "site") == 0 ? offset : 0;
        const cJSON *row = cJSON_GetObjectItemCaseSensitive(ex, "rows")->child;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(ex, "x")->child;
        const cJSON *phi = cJSON_GetObjectItemCaseSensitive(ex, "phi")->child;
        const cJSON *fx = cJSON_GetObjectItemCaseSensitive(ex, "fx")->child;
        const cJSON *pred = cJSON_GetObjectItemCaseSensitive(ex, "prediction")->child;
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(ex, "line");   /* optional */
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(ex, "id");
        id = id != NULL ? id->child : NULL;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ex, "packed"))) {
            int rc = unpack_explained(ex, c, i, nf, no, base, &id);
            if (rc != AUD_OK)
                return rc == -1 ? bad(c->err, by[k]->path, "an explained row is incomplete")
                                : rc;
            i += strlen(cJSON_GetObjectItemCaseSensitive(ex, "rows")->valuestring) / 16;
            row = NULL;
        }
        line = line != NULL ? line->child : NULL;
        for (; row != NULL; row = row->next, i++) {
            if (!cJSON_IsNumber(row) || row->valuedouble < 0 || x == NULL || phi == NULL ||
                fx == NULL || !cJSON_IsNumber(pred) || read_row(x, c->mx_X + i * nf, nf) != 0 ||
                read_row(phi, r->phi + i * stride, stride) != 0 ||
                read_row(fx, r->fx + i * no, no) != 0)
                return bad(c->err, by[k]->path, "an explained row is incomplete");
            c->mx_rows[i] = base + (size_t)row->valuedouble;
            c->mx_pred[i] = pred->valuedouble;
            if (cJSON_IsNumber(line) && line->valuedouble >= 1 && line->valuedouble < 1e15)
                c->mx_line[i] = (long)line->valuedouble;
            if (cJSON_IsString(id) && (c->mx_id[i] = aud_strdup(id->valuestring)) == NULL)
                return aud_error_nomem(c->err);
            line = line != NULL ? line->next : NULL;
            id = id != NULL ? id->next : NULL;
            if (i > 0 && c->mx_rows[i] <= c->mx_rows[i - 1])
                return bad(c->err, by[k]->path, "explained rows out of order or overlapping");
            x = x->next;
            phi = phi->next;
            fx = fx->next;
            pred = pred->next;
        }
        double rows = 0;
        num_of(by[k]->doc, "rows", &rows);
        offset += (size_t)rows;
    }
    r->n_rows = c->mx_n = total;
    return AUD_OK;
}

static int merge_why(run_ctx *c, const aud_table *t, part **by, size_t n)
{
    const cJSON **docs = aud_malloc((n + 1) * sizeof *docs);
    const char **paths = aud_malloc((n + 1) * sizeof *paths);
    int rc = docs != NULL && paths != NULL ? AUD_OK : aud_error_nomem(c->err);
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        docs[k] = by[k]->doc;
        paths[k] = by[k]->path;
    }
    if (rc == AUD_OK)
        rc = aud_merge_why(c, t, docs, paths, n);
    aud_free(docs);
    aud_free(paths);
    return rc;
}

/* "score_bins" of the merge block: {"mantissa_bits", "cuts"}; the figures that read the scores
 * then state their bounds (audit/merge_bounds.c). */
static int add_bins_info(cJSON *info, const score_bins *sb)
{
    cJSON *o = cJSON_AddObjectToObject(info, "score_bins");
    cJSON *ca = o != NULL ? cJSON_AddArrayToObject(o, "cuts") : NULL;
    if (ca == NULL || add_count(o, "mantissa_bits", sb->bits) != 0 ||
        add_count(o, "relative_width", ldexp(1.0, -sb->bits)) != 0)
        return -1;
    for (size_t q = 0; q < sb->n_cuts; q++) {
        cJSON *x = aud_json_num(sb->cuts[q]);
        if (x == NULL || !cJSON_AddItemToArray(ca, x)) {
            cJSON_Delete(x);
            return -1;
        }
    }
    return 0;
}

int aud_merge_load(const char *const *paths, const char *const *texts, size_t n, run_ctx *c)
{
    aud_spec **spec = &c->spec;
    aud_error *err = c->err;
    cJSON **info = &c->merge_info;
    part *ps = aud_calloc(n + 1, sizeof *ps);
    part **by = aud_calloc(n + 1, sizeof *by);
    aud_table *t = aud_calloc(1, sizeof *t);
    dict *dicts = NULL;
    unsigned char *is_joint = NULL;
    double *sc = NULL;
    size_t nd = 0;
    int rc = ps && by && t ? AUD_OK : aud_error_nomem(err);
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        ps[k].path = paths[k];
        ps[k].text = texts != NULL ? texts[k] : NULL;
        rc = read_part(&ps[k], err);
    }
    if (rc == AUD_OK)
        rc = check_parts(ps, n, by, err);
    size_t total = 0;
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        double r = 0;
        num_of(by[k]->doc, "rows", &r);
        total += (size_t)r;
    }
    if (rc == AUD_OK) {
        t->n_rows = total;
        t->path = aud_strdup("");
        const cJSON *c0 = cJSON_GetObjectItemCaseSensitive(by[0]->doc, "columns");
        size_t nc = (size_t)cJSON_GetArraySize(c0);
        dicts = aud_calloc(nc + 1, sizeof *dicts);
        nd = dicts != NULL ? nc : 0;
        is_joint = aud_calloc(nc + 1, 1);
        int ms = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(by[0]->doc, "joint"), "model_score"));
        sc = ms ? aud_malloc((total ? total : 1) * sizeof *sc) : NULL;
        rc = t->path && dicts && is_joint && (!ms || sc) ? make_columns(by, n, t, dicts, err)
                                                         : aud_error_nomem(err);
    }
    size_t r0 = 0;
    colsum *acc = rc == AUD_OK ? aud_calloc(nd + 1, sizeof *acc) : NULL;
    if (rc == AUD_OK && acc == NULL)
        rc = aud_error_nomem(err);
    score_bins sb = {0};   /* the partials' score bins agree (checked before their cells) */
    for (size_t k = 0; k < n && rc == AUD_OK && sc != NULL; k++)
        rc = read_bins(by[k], &sb, err);
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        double r = 0;
        num_of(by[k]->doc, "rows", &r);
        rc = fill_shard(by[k], t, dicts, r0, (size_t)r, is_joint, sc, acc, err);
        r0 += (size_t)r;
    }
    /* one partial binned: every score is binned (the exact ones of the others too), so that a
     * bin's rows tie whichever shard they came from (aud_score_bin of a lower end is itself) */
    for (size_t i = 0; rc == AUD_OK && sb.any && i < total; i++)
        sc[i] = aud_score_bin(sc[i], sb.cuts, sb.n_cuts, sb.bits, NULL);
    int any = 0;
    for (size_t j = 0; rc == AUD_OK && j < nd; j++) {
        any |= acc[j].used;
        if (!acc[j].used && !is_joint[j] && t->cols[j].type == AUD_COL_NUMERIC)
            rc = sort_column(&t->cols[j], t->n_rows, err);
    }
    if (rc == AUD_OK && any) {
        c->mg_sum = aud_calloc(nd + 1, sizeof *c->mg_sum);
        c->mg_sketch = aud_calloc(nd + 1, sizeof *c->mg_sketch);
        c->mg_n = nd;
        if (c->mg_sum == NULL || c->mg_sketch == NULL)
            rc = aud_error_nomem(err);
        for (size_t j = 0; rc == AUD_OK && j < nd; j++)
            if (acc[j].used)
                rc = finish_summary(&t->cols[j], t->n_rows, &acc[j], &c->mg_sum[j],
                                    &c->mg_sketch[j], err);
    }
    for (size_t j = 0; acc != NULL && j < nd; j++)
        if (acc[j].used)
            aud_sketch_free(&acc[j].sk);
    aud_free(acc);
    if (rc == AUD_OK) {
        const char *text = str_of(by[0]->doc, "spec_text");
        rc = aud_spec_parse(spec, text, strlen(text), str_of(by[0]->doc, "spec_path"), err);
    }
    if (rc == AUD_OK && ((*info = merge_info(by, n)) == NULL ||
                         (sb.any && add_bins_info(*info, &sb) != 0))) {
        aud_spec_free(*spec);
        *spec = NULL;
        rc = aud_error_nomem(err);
    }
    if (rc == AUD_OK)
        rc = merge_explained(by, n, c);
    if (rc == AUD_OK)   /* the drivers' and proxies' sums (audit/merge_why.c) */
        rc = merge_why(c, t, by, n);
    if (rc == AUD_OK) {
        c->data = t;
        c->score = sc;
        t = NULL;
        sc = NULL;
    }
    for (size_t j = 0; j < nd; j++)
        aud_free(dicts[j].slot);
    for (size_t k = 0; ps != NULL && k < n; k++)
        cJSON_Delete(ps[k].doc);
    aud_table_free(t);
    aud_free(sc);
    aud_free(dicts);
    aud_free(is_joint);
    aud_free(by);
    aud_free(ps);
    return rc;
}
