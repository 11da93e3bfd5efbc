/* shard.c - the partial of one shard: `audit run SPEC --shard I/N` (audit/shard_int.h; the
 * format is documented in docs/scale-out.md). */
#include "audit/shard_int.h"
#include "core/io.h"
#include "core/provenance.h"
#include "metrics/drift.h"
#include "metrics/sketch.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aud_shard_slice(run_ctx *c)
{
    const aud_run_opts *o = c->opts;
    aud_table *t = c->data;
    size_t n = t->n_rows, N = (size_t)o->shard_count, I = (size_t)o->shard_index;
    size_t r0 = o->shard_site ? 0 : n / N * I + (I < n % N ? I : n % N);
    size_t r1 = o->shard_site ? n : r0 + n / N + (I < n % N ? 1 : 0);
    c->shard_row0 = r0;
    c->shard_rows_total = n;
    for (size_t j = 0; j < t->n_cols; j++) {
        aud_column *col = &t->cols[j];
        col->n_missing = 0;
        if (col->type == AUD_COL_NUMERIC) {
            memmove(col->num, col->num + r0, (r1 - r0) * sizeof *col->num);
            for (size_t i = 0; i < r1 - r0; i++)
                col->n_missing += isnan(col->num[i]);
        } else {
            memmove(col->codes, col->codes + r0, (r1 - r0) * sizeof *col->codes);
            for (size_t i = 0; i < r1 - r0; i++)
                col->n_missing += col->codes[i] < 0;
        }
    }
    t->n_rows = r1 - r0;
    /* the CSV line marks in the shard's row numbers (aud_table_row_line): the last mark at or
     * before the shard's first row moves onto it */
    size_t m = 0;
    for (size_t k = 0; k < t->n_line_marks; k++) {
        aud_line_mark mk = t->line_marks[k];
        if (mk.row >= r1)
            break;
        if (mk.row < r0) {
            mk.line += (long)(r0 - mk.row);
            mk.row = r0;
            if (m > 0)
                m--;   /* replaced by this later mark */
        }
        mk.row -= r0;
        t->line_marks[m++] = mk;
    }
    t->n_line_marks = m;
    return AUD_OK;
}

int aud_shard_load_range(run_ctx *c, const aud_csv_opts *co, int *ranged)
{
    const aud_run_opts *o = c->opts;
    aud_csv_range info;
    aud_error local;
    aud_error_clear(&local);
    aud_table *t = NULL;
    *ranged = 0;
    /* a failure here is not reported: every shard then reads the whole file, and that read
     * reports a CSV error exactly as a single run does */
    int rc = aud_table_load_csv_range(&t, c->spec->data, co, (size_t)o->shard_index,
                                      (size_t)o->shard_count, &info, &local);
    int ok = rc == AUD_OK && !info.whole && t != NULL;
    size_t nc = ok ? t->n_cols : 0;
    long long *cat = aud_calloc(nc + 1, sizeof *cat), *cb = aud_calloc(nc + 1, sizeof *cb),
              *ct = aud_calloc(nc + 1, sizeof *ct);
    ok = ok && cat != NULL && cb != NULL && ct != NULL;
    long long mine[3] = {!ok, ok ? (long long)t->n_rows : 0, ok ? (long long)info.newlines : 0};
    long long before[3], total[3];
    int fine = o->shard_exchange(o->shard_exchange_ctx, mine, before, total, 3) == 0;
    c->exchanged = 1;   /* every rank exchanges from here on (aud_shard_why_abort) */
    /* every range loaded (the same header: the same columns): do the types agree? */
    if (fine && total[0] == 0) {
        for (size_t j = 0; j < nc; j++)
            cat[j] = t->cols[j].type == AUD_COL_CATEGORICAL;
        fine = o->shard_exchange(o->shard_exchange_ctx, cat, cb, ct, nc) == 0;
        for (size_t j = 0; fine && j < nc; j++)
            fine = ct[j] == 0 || ct[j] == o->shard_count;
    }
    fine = fine && total[0] == 0;
    aud_free(cat);
    aud_free(cb);
    aud_free(ct);
    if (!fine) {   /* every shard comes to the same decision */
        aud_table_free(t);
        return AUD_OK;
    }
    /* line numbers: add the newlines of the ranges before this one */
    for (size_t k = 0; k < t->n_line_marks; k++)
        t->line_marks[k].line += (long)before[2];
    c->data = t;
    c->range = info;
    c->shard_row0 = (size_t)before[1];
    c->shard_rows_total = (size_t)total[1];
    *ranged = 1;
    return AUD_OK;
}

/* ---- keys of the joint cells ------------------------------------------------------------- */

typedef struct joint_key {
    const aud_table *t;
    const size_t    *cols;      /* joint table columns */
    size_t           n_cols;
    const double    *score;     /* model score per row, or NULL */
} joint_key;


static int cmp_double(double a, double b)
{
    int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    if (a != b)
        return a < b ? -1 : 1;
    return signbit(b) - signbit(a);   /* -0 before +0: distinct values */
}

/* Rows a and b compared on the joint columns in turn, then the score. */
static int cmp_rows(const joint_key *k, size_t a, size_t b)
{
    for (size_t j = 0; j < k->n_cols; j++) {
        const aud_column *col = &k->t->cols[k->cols[j]];
        int r = col->type == AUD_COL_NUMERIC
                    ? cmp_double(col->num[a], col->num[b])
                    : (col->codes[a] > col->codes[b]) - (col->codes[a] < col->codes[b]);
        if (r != 0)
            return r;
    }
    if (k->score != NULL)
        return cmp_double(k->score[a], k->score[b]);
    return 0;
}

static uint64_t order_key(double x);

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

#define COUNT_BITS 17   /* the counting table: 2^17 slots, at most half of them used */

/* Few distinct values (the usual case: codes, amounts, repeated rows): count them in a small
 * open-addressing table keyed by order_key (cache-resident, one pass over x), sort the
 * distinct keys and write each value as many times as it occurs. The same v as sorting x.
 * Returns the non-NaN count, or SIZE_MAX when x has too many distinct values (or no memory):
 * the caller sorts instead. */
static size_t count_values(double *v, const double *x, size_t n)
{
    size_t cap = (size_t)1 << COUNT_BITS, used = 0, limit = cap / 2;
    uint64_t *key = aud_malloc(cap * sizeof *key);
    uint64_t *cnt = aud_calloc(cap, sizeof *cnt);
    if (key == NULL || cnt == NULL) {
        aud_free(key);
        aud_free(cnt);
        return SIZE_MAX;
    }
    size_t nan = 0;
    for (size_t i = 0; i < n && used <= limit; i++) {
        if (isnan(x[i])) {
            nan++;
            continue;
        }
        uint64_t k = order_key(x[i]);
        size_t h = (size_t)((k * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - COUNT_BITS));
        while (cnt[h] != 0 && key[h] != k)
            h = (h + 1) & (cap - 1);
        if (cnt[h]++ == 0) {
            key[h] = k;
            used++;
        }
    }
    size_t nv = SIZE_MAX;
    uint64_t (*pair)[2] = used <= limit ? aud_malloc((used + 1) * sizeof *pair) : NULL;
    if (pair != NULL) {   /* the distinct values with their counts, in value order */
        size_t m = 0;
        for (size_t h = 0; h < cap; h++) {
            if (cnt[h] != 0) {
                pair[m][0] = key[h];
                pair[m++][1] = cnt[h];
            }
        }
        qsort(pair, m, sizeof *pair, cmp_u64);   /* by the first word: the key */
        nv = 0;
        for (size_t q = 0; q < m; q++) {
            uint64_t k = pair[q][0];
            uint64_t u = k >> 63 ? k ^ (UINT64_C(1) << 63) : ~k;   /* order_key inverted */
            double d;
            memcpy(&d, &u, sizeof d);
            for (size_t e = nv + (size_t)pair[q][1]; nv < e; nv++)
                v[nv] = d;
        }
        for (size_t i = nv; i < n; i++)
            v[i] = NAN;
    }
    aud_free(pair);
    aud_free(key);
    aud_free(cnt);
    return nv;
}

/* v = the n values x sorted as cmp_double orders them (-0 before +0, NaN last): counted when
 * they are few distinct values, else a radix sort (aud_drift_sort, O(n)); the number of values
 * that are not NaN, SIZE_MAX without memory. */
static size_t sort_values(double *v, const double *x, size_t n)
{
    size_t nv = count_values(v, x, n);
    if (nv != SIZE_MAX)
        return nv;
    nv = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            v[nv++] = x[i];
    if (aud_drift_sort(v, nv) != AUD_OK)
        return SIZE_MAX;
    for (size_t i = nv; i < n; i++)
        v[i] = NAN;
    return nv;
}

/* The order of cmp_double as unsigned integers: IEEE bits with negatives flipped (-0 just
 * before +0), every NaN last and equal. */
static uint64_t order_key(double x)
{
    uint64_t u;
    if (isnan(x))
        return UINT64_MAX;
    memcpy(&u, &x, sizeof u);
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static size_t first_cut_above(const double *cuts, size_t n, double x);

/* order_key inverted (k below UINT64_MAX). */
static double from_order_key(uint64_t k)
{
    uint64_t u = k >> 63 ? k ^ (UINT64_C(1) << 63) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

double aud_score_bin(double s, const double *cuts, size_t n_cuts, int bits, double *hi)
{
    if (hi != NULL)
        *hi = s;
    if (!isfinite(s))
        return s;
    int shift = 52 - bits;
    uint64_t k = order_key(s + 0.0) >> shift;   /* -0 as +0: one bin */
    double lo = from_order_key(k << shift), up = from_order_key((k + 1) << shift);
    size_t a = first_cut_above(cuts, n_cuts, s);
    if (a > 0 && cuts[a - 1] > lo)
        lo = cuts[a - 1];
    if (hi != NULL)
        *hi = a < n_cuts && cuts[a] < up ? cuts[a] : up;
    return lo;
}

/* The first of the n sorted cuts above x. */
static size_t first_cut_above(const double *cuts, size_t n, double x)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (cuts[m] <= x)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

uint64_t aud_score_bin_number(double r, const double *cuts, size_t n_cuts, int bits)
{
    if (r == -INFINITY)
        return 0;   /* keys of that prefix are NaN patterns: free */
    int shift = 52 - bits;
    uint64_t k = order_key(r + 0.0) >> shift;
    double edge = from_order_key(k << shift);
    size_t j = 0;
    if (isfinite(r))
        for (size_t q = first_cut_above(cuts, n_cuts, edge); q < n_cuts && cuts[q] <= r; q++)
            j++;
    return k * AUD_PARTIAL_SCORE_CUTS + j;
}

int aud_score_bin_value(uint64_t num, const double *cuts, size_t n_cuts, int bits, double *r)
{
    if (num == 0) {
        *r = -INFINITY;
        return 0;
    }
    int shift = 52 - bits;
    uint64_t k = num / AUD_PARTIAL_SCORE_CUTS, j = num % AUD_PARTIAL_SCORE_CUTS;
    if (k >> (64 - shift) != 0)
        return -1;
    double edge = from_order_key(k << shift);
    if (j == 0) {
        *r = edge;
        return 0;
    }
    size_t q = first_cut_above(cuts, n_cuts, edge) + (size_t)j - 1;
    if (!isfinite(edge) || q >= n_cuts || (order_key(cuts[q] + 0.0) >> shift) != k)
        return -1;
    *r = cuts[q];
    return 0;
}

/* Stable LSD radix sort of the row numbers idx[0..n) by key[0..n) (key[i] belongs to idx[i]),
 * a byte at a time, skipping the bytes that every key shares; i2 and k2 are scratch. */
static void radix_rows(size_t *idx, uint64_t *key, size_t *i2, uint64_t *k2, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            count[b][(key[i] >> (8 * b)) & 255]++;
    for (int b = 0; b < 8; b++) {
        size_t pos[256], sum = 0;
        if (n == 0 || count[b][(key[0] >> (8 * b)) & 255] == n)
            continue;   /* one bucket: the order stays */
        for (int d = 0; d < 256; d++) {
            pos[d] = sum;
            sum += count[b][d];
        }
        for (size_t i = 0; i < n; i++) {
            size_t p = pos[(key[i] >> (8 * b)) & 255]++;
            i2[p] = idx[i];
            k2[p] = key[i];
        }
        memcpy(idx, i2, n * sizeof *idx);
        memcpy(key, k2, n * sizeof *key);
    }
}

/* idx = the rows 0..n-1 in the order of cmp_rows (the joint columns in turn, then the score):
 * stable radix passes from the last key to the first. */
static int sort_rows(size_t *idx, size_t n, const joint_key *k)
{
    size_t m = n ? n : 1;
    uint64_t *key = aud_malloc(m * sizeof *key), *k2 = aud_malloc(m * sizeof *k2);
    size_t *i2 = aud_malloc(m * sizeof *i2);
    if (key == NULL || k2 == NULL || i2 == NULL) {
        aud_free(key);
        aud_free(k2);
        aud_free(i2);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t q = k->n_cols + (k->score != NULL); q-- > 0;) {
        const aud_column *col = q < k->n_cols ? &k->t->cols[k->cols[q]] : NULL;
        for (size_t i = 0; i < n; i++) {
            size_t r = idx[i];
            key[i] = col == NULL ? order_key(k->score[r])
                     : col->type == AUD_COL_NUMERIC ? order_key(col->num[r])
                                                    : (uint64_t)((int64_t)col->codes[r] + 1);
        }
        radix_rows(idx, key, i2, k2, n);
    }
    aud_free(key);
    aud_free(k2);
    aud_free(i2);
    return 0;
}

/* A cell value as JSON: the category, the exact number, or null when missing. */
static cJSON *cell_json(const aud_column *col, size_t i)
{
    if (col->type == AUD_COL_NUMERIC)
        return aud_json_num(col->num[i]);
    return col->codes[i] < 0 ? cJSON_CreateNull() : cJSON_CreateString(col->levels[col->codes[i]]);
}

cJSON *aud_shard_cell_json(const aud_column *col, size_t i)
{
    return cell_json(col, i);
}

int aud_shard_cells(const aud_table *t, const size_t *cols, size_t n_cols, int32_t *cell,
                    size_t *rep, size_t max_cells, size_t *n_cells)
{
    size_t n = t->n_rows, nc = 0;
    size_t *idx = aud_malloc((n ? n : 1) * sizeof *idx);
    joint_key key = {t, cols, n_cols, NULL};
    if (idx == NULL || sort_rows(idx, n, &key) != 0) {
        aud_free(idx);
        return AUD_E_NOMEM;
    }
    for (size_t i = 0; i < n && nc <= max_cells;) {
        size_t e = i + 1;
        while (e < n && cmp_rows(&key, idx[i], idx[e]) == 0)
            e++;
        if (nc < max_cells)
            rep[nc] = idx[i];
        for (size_t q = i; q < e; q++)
            cell[idx[q]] = (int32_t)nc;
        nc++;
        i = e;
    }
    aud_free(idx);
    *n_cells = nc <= max_cells ? nc : SIZE_MAX;
    return AUD_OK;
}

static int add_item(cJSON *arr, cJSON *item)
{
    if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

/* The columns the fairness and performance figures read together. */
static size_t joint_columns(const run_ctx *c, size_t *cols)
{
    const aud_spec *s = c->spec;
    size_t n = 0;
    const char *extra[] = {s->label, s->prediction, s->score};
    for (size_t k = 0; k < s->n_sensitive + 3; k++) {
        const char *name = k < s->n_sensitive ? s->sensitive[k] : extra[k - s->n_sensitive];
        long j = name != NULL ? aud_table_find(c->data, name) : -1;
        int seen = 0;
        for (size_t q = 0; q < n; q++)
            seen |= cols[q] == (size_t)j;
        if (j >= 0 && !seen)
            cols[n++] = (size_t)j;
    }
    return n;
}

typedef struct supp {
    long     min_cell;
    uint64_t cells;    /* joint cells and column values suppressed */
    uint64_t rows;     /* rows of the suppressed joint cells (left out whole) */
    uint64_t values;   /* column values suppressed (made missing) */
} supp;

static size_t psi_edges_of(const double *col, size_t n_rows, double *out);

/* The score bins' cuts (audit/shard_int.h), ascending and distinct: the decision threshold
 * (predicted 1 iff score >= threshold), the calibration edges (bin k holds the scores with
 * k / 10 < s: a cut just above each edge) and the PSI quantile edges of the reference's scores
 * (prediction drift; bin j = [edge j, edge j+1)). Every shard derives the same cuts. */
static size_t score_cuts(const run_ctx *c, double *cuts)
{
    size_t m = 0;
    if (isfinite(c->spec->threshold))
        cuts[m++] = c->spec->threshold;
    for (int k = 1; k < 10; k++)   /* as metrics/performance.c cal_bin, fair_score.c ece_bin */
        cuts[m++] = nextafter((double)k * (1.0 / 10), INFINITY);
    if (c->score_ref != NULL && c->ref != NULL &&
        strcmp(c->spec->drift.psi_binning, "quantile") == 0) {
        double e[4 * (AUD_PARTIAL_PSI_MAX + 1)];
        size_t ne = psi_edges_of(c->score_ref, c->ref->n_rows, e);
        for (size_t q = 0; q < ne && m < AUD_PARTIAL_SCORE_CUTS; q++)
            cuts[m++] = e[q] + 0.0;
    }
    for (size_t i = 1; i < m; i++) {   /* insertion sort: a few dozen */
        double v = cuts[i];
        size_t j = i;
        for (; j > 0 && cuts[j - 1] > v; j--)
            cuts[j] = cuts[j - 1];
        cuts[j] = v;
    }
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || cuts[i] != cuts[u - 1])
            cuts[u++] = cuts[i];
    return u;
}

/* Distinct joint cells of the rows in the order of k (idx sorted by the call). */
static size_t count_cells(const joint_key *k, size_t *idx, size_t n)
{
    size_t d = 0;
    if (sort_rows(idx, n, k) != 0)
        return SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || cmp_rows(k, idx[i - 1], idx[i]) != 0;
    return d;
}

/* The limit of exact scored cells (audit/shard_int.h). */
static size_t exact_scores_limit(void)
{
    const char *e = getenv("AUDIT_PARTIAL_EXACT_SCORES");
    char *end = NULL;
    unsigned long long v = e != NULL ? strtoull(e, &end, 10) : 0;
    return e != NULL && *e != '\0' && end != NULL && *end == '\0' ? (size_t)v
                                                                   : AUD_PARTIAL_EXACT_SCORES;
}

/* "score_bins" of the joint block: {"mantissa_bits", "cuts", "binned"}; with more distinct
 * scored cells than the limit, and fewer once binned, k->score becomes *binned: every score
 * replaced by its bin's lower end (aud_score_bin). */
static int score_bins(run_ctx *c, cJSON *jo, joint_key *k, const double *cuts, size_t nc,
                      size_t *idx, double **binned)
{
    size_t n = k->t->n_rows;
    size_t exact = count_cells(k, idx, n), limit = exact_scores_limit();
    if (exact == SIZE_MAX)
        return aud_error_nomem(c->err);
    if (exact > limit) {
        double *b = aud_malloc((n ? n : 1) * sizeof *b);
        if (b == NULL)
            return aud_error_nomem(c->err);
        for (size_t i = 0; i < n; i++)
            b[i] = aud_score_bin(k->score[i], cuts, nc, AUD_PARTIAL_SCORE_BITS, NULL);
        joint_key kb = *k;
        kb.score = b;
        size_t nb = count_cells(&kb, idx, n);
        if (nb == SIZE_MAX) {
            aud_free(b);
            return aud_error_nomem(c->err);
        }
        if (nb < exact) {
            *binned = b;
            k->score = b;
        } else {
            aud_free(b);
        }
    }
    cJSON *sb = cJSON_AddObjectToObject(jo, "score_bins");
    cJSON *ca = sb != NULL ? cJSON_AddArrayToObject(sb, "cuts") : NULL;
    if (ca == NULL || aud_json_add_num(sb, "mantissa_bits", AUD_PARTIAL_SCORE_BITS) != 0 ||
        cJSON_AddBoolToObject(sb, "binned", *binned != NULL) == NULL)
        return aud_error_nomem(c->err);
    for (size_t q = 0; q < nc; q++)
        if (add_item(ca, aud_json_num(cuts[q])) != 0)
            return aud_error_nomem(c->err);
    return AUD_OK;
}

/* A growing text of space-separated integers. */
typedef struct numtext {
    char  *s;
    size_t len, cap;
} numtext;

static int numtext_add(numtext *t, uint64_t v)
{
    if (t->len + 24 > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        char *g = aud_realloc(t->s, cap);
        if (g == NULL)
            return -1;
        t->s = g;
        t->cap = cap;
    }
    t->len += (size_t)snprintf(t->s + t->len, t->cap - t->len, t->len ? " %llu" : "%llu",
                               (unsigned long long)v);
    return 0;
}

/* One binned cell: [v..., count, "bins", "counts"] (the strings: the bin numbers of its rows'
 * scores, the first whole and the others as steps from the one before, and their counts). */
static int close_binned_cell(run_ctx *c, cJSON *cells, const joint_key *k, size_t row,
                             size_t count, numtext *bins, numtext *cnts,
                             unsigned char *keep_level)
{
    cJSON *cell = cJSON_CreateArray();
    int bad = add_item(cells, cell) != 0;
    for (size_t j = 0; j < k->n_cols && !bad; j++) {
        const aud_column *col = &k->t->cols[k->cols[j]];
        if (col->type == AUD_COL_CATEGORICAL && col->codes[row] >= 0)
            keep_level[c->level_base[k->cols[j]] + (size_t)col->codes[row]] = 1;
        bad = add_item(cell, cell_json(col, row)) != 0;
    }
    bad = bad || add_item(cell, aud_json_num((double)count)) != 0 ||
          add_item(cell, cJSON_CreateString(bins->s)) != 0 ||
          add_item(cell, cJSON_CreateString(cnts->s)) != 0;
    bins->len = cnts->len = 0;
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* A joint cell of idx[i .. e) under the minimum count (--min-cell): counted as suppressed and
 * its rows marked to drop; 1, or 0 for a cell that is kept. */
static int suppress_cell(supp *sp, const size_t *idx, size_t i, size_t e,
                         unsigned char *drop_row)
{
    if (!(sp->min_cell > 1 && (long)(e - i) < sp->min_cell))
        return 0;
    sp->cells++;
    sp->rows += e - i;
    for (size_t q = i; q < e; q++)
        drop_row[idx[q]] = 1;
    return 1;
}

/* The joint cells with binned scores (idx: the rows sorted by k, whose scores are the bins'
 * lower ends): each cell of the other joint columns once, its scores as bin numbers
 * (aud_score_bin_number) with counts. A (cell, bin) under the minimum count is suppressed
 * whole, as an exact cell is. */
static int add_binned_cells(run_ctx *c, cJSON *jo, cJSON *cells, const joint_key *k,
                            const double *cuts, size_t nc, size_t *idx, supp *sp,
                            unsigned char *keep_level, unsigned char *drop_row)
{
    size_t n = k->t->n_rows;
    if (cJSON_AddStringToObject(jo, "score_encoding", "bins") == NULL)
        return aud_error_nomem(c->err);
    joint_key kc = *k;
    kc.score = NULL;   /* the cell without the score */
    numtext bins = {0}, cnts = {0};
    size_t cell_row = SIZE_MAX, cell_count = 0;
    uint64_t prev = 0;
    int rc = AUD_OK;
    for (size_t i = 0; i < n && rc == AUD_OK;) {
        size_t e = i + 1;
        while (e < n && cmp_rows(k, idx[i], idx[e]) == 0)
            e++;
        if (suppress_cell(sp, idx, i, e, drop_row)) {
            i = e;
            continue;
        }
        if (cell_row != SIZE_MAX && cmp_rows(&kc, cell_row, idx[i]) != 0) {
            rc = close_binned_cell(c, cells, k, cell_row, cell_count, &bins, &cnts,
                                   keep_level);
            cell_row = SIZE_MAX;
        }
        uint64_t num = aud_score_bin_number(k->score[idx[i]], cuts, nc, AUD_PARTIAL_SCORE_BITS);
        if (cell_row == SIZE_MAX) {
            cell_row = idx[i];
            cell_count = 0;
            prev = 0;
        }
        if (rc == AUD_OK && (numtext_add(&bins, num - prev) != 0 ||
                             numtext_add(&cnts, (uint64_t)(e - i)) != 0))
            rc = aud_error_nomem(c->err);
        prev = num;
        cell_count += e - i;
        i = e;
    }
    if (rc == AUD_OK && cell_row != SIZE_MAX)
        rc = close_binned_cell(c, cells, k, cell_row, cell_count, &bins, &cnts, keep_level);
    aud_free(bins.s);
    aud_free(cnts.s);
    return rc;
}

/* "joint": {"columns": [...], "model_score": bool, "cells": [[v..., count], ...]}. The rows of
 * a cell under the minimum count are suppressed whole: marked in drop[] and left out of every
 * column of the partial. */
static int add_joint(run_ctx *c, cJSON *part, const size_t *cols, size_t n_cols, supp *sp,
                     unsigned char *keep_level, unsigned char *drop_row)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows;
    const double *ms = c->spec->score == NULL && c->spec->prediction == NULL ? c->score : NULL;
    cJSON *jo = cJSON_AddObjectToObject(part, "joint");
    cJSON *names = jo ? cJSON_AddArrayToObject(jo, "columns") : NULL;
    cJSON *cells = names ? cJSON_AddArrayToObject(jo, "cells") : NULL;
    if (cells == NULL || cJSON_AddBoolToObject(jo, "model_score", ms != NULL) == NULL)
        return aud_error_nomem(c->err);
    for (size_t j = 0; j < n_cols; j++) {
        if (add_item(names, cJSON_CreateString(t->cols[cols[j]].name)) != 0)
            return aud_error_nomem(c->err);
    }
    size_t *idx = aud_malloc((n ? n : 1) * sizeof *idx);
    double *binned = NULL;
    if (idx == NULL)
        return aud_error_nomem(c->err);
    joint_key key = {t, cols, n_cols, ms};
    double cuts[AUD_PARTIAL_SCORE_CUTS + 16];
    size_t nc = ms != NULL ? score_cuts(c, cuts) : 0;
    int rc = ms != NULL ? score_bins(c, jo, &key, cuts, nc, idx, &binned) : AUD_OK;
    if (rc == AUD_OK && sort_rows(idx, n, &key) != 0)
        rc = aud_error_nomem(c->err);
    if (rc != AUD_OK) {
        aud_free(idx);
        aud_free(binned);
        return rc;
    }
    ms = key.score;
    if (binned != NULL) {
        rc = add_binned_cells(c, jo, cells, &key, cuts, nc, idx, sp, keep_level, drop_row);
        aud_free(idx);
        aud_free(binned);
        return rc;
    }
    for (size_t i = 0; i < n && rc == AUD_OK;) {
        size_t e = i + 1;
        while (e < n && cmp_rows(&key, idx[i], idx[e]) == 0)
            e++;
        if (suppress_cell(sp, idx, i, e, drop_row)) {
            i = e;
            continue;
        }
        cJSON *cell = cJSON_CreateArray();
        if (add_item(cells, cell) != 0) {
            rc = aud_error_nomem(c->err);
            break;
        }
        for (size_t j = 0; j < n_cols && rc == AUD_OK; j++) {
            const aud_column *col = &t->cols[cols[j]];
            if (col->type == AUD_COL_CATEGORICAL && col->codes[idx[i]] >= 0)
                keep_level[c->level_base[cols[j]] + (size_t)col->codes[idx[i]]] = 1;
            if (add_item(cell, cell_json(col, idx[i])) != 0)
                rc = aud_error_nomem(c->err);
        }
        if (rc == AUD_OK && ((ms != NULL && add_item(cell, aud_json_num(ms[idx[i]])) != 0) ||
                             add_item(cell, aud_json_num((double)(e - i))) != 0))
            rc = aud_error_nomem(c->err);
        i = e;
    }
    aud_free(idx);
    aud_free(binned);
    return rc;
}

/* The categories of a column listed in order of first appearance in the shard's rows, those
 * not kept (keep[code] == 0) left out; counts beside them when counts != NULL. */
static int add_levels(cJSON *o, const aud_column *col, size_t n, const unsigned char *keep,
                      const uint64_t *counts)
{
    cJSON *lv = cJSON_AddArrayToObject(o, "levels");
    cJSON *cn = counts != NULL ? cJSON_AddArrayToObject(o, "counts") : NULL;
    unsigned char *seen = aud_calloc(col->n_levels + 1, 1);
    if (lv == NULL || seen == NULL || (counts != NULL && cn == NULL)) {
        aud_free(seen);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int32_t k = col->codes[i];
        if (k < 0 || seen[k] || !keep[k])
            continue;
        seen[k] = 1;
        rc = add_item(lv, cJSON_CreateString(col->levels[k]));
        if (rc == 0 && cn != NULL)
            rc = add_item(cn, aud_json_num((double)counts[k]));
    }
    aud_free(seen);
    return rc;
}

/* The edges of the drift's PSI quantile bins over the n values col (numpy 'linear' quantiles,
 * the formula of metrics/drift_column.c quantile_linear, both of its branches): kept as exact
 * points of a summary (or cuts of the score bins) so that the merged PSI counts are exact. */
static size_t psi_edges_of(const double *col, size_t n_rows, double *out)
{
    double *x = aud_malloc((n_rows + 1) * sizeof *x);
    size_t n = 0, m = 0;
    if (x == NULL)
        return 0;
    for (size_t i = 0; i < n_rows; i++)
        if (isfinite(col[i]))
            x[n++] = col[i] + 0.0;
    if (aud_drift_sort(x, n) != AUD_OK)
        n = 0;   /* no memory: no edges (the summary stays true, only less exact) */
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    for (int q = 0; n > 0 && q <= o.psi_bins && q <= AUD_PARTIAL_PSI_MAX; q++) {
        double vi = (double)(n - 1) * ((double)q / (double)o.psi_bins);
        size_t i = vi <= 0 ? 0 : vi >= (double)(n - 1) ? n - 1 : (size_t)floor(vi);
        double g = vi - floor(vi), a = x[i], b = i + 1 < n ? x[i + 1] : x[i];
        out[m++] = a;
        out[m++] = b;
        out[m++] = a + (b - a) * g;
        out[m++] = b - (b - a) * (1.0 - g);
    }
    aud_free(x);
    return m;
}

/* psi_edges_of the reference column `name` (none when it is not a numeric column). */
static size_t psi_edges(const run_ctx *c, const char *name, double *out)
{
    long j = c->ref != NULL ? aud_table_find(c->ref, name) : -1;
    if (j < 0 || c->ref->cols[j].type != AUD_COL_NUMERIC)
        return 0;
    return psi_edges_of(c->ref->cols[j].num, c->ref->n_rows, out);
}

/* A numeric column with many distinct values as a mergeable summary (docs/scale-out.md):
 * count, missing, min, max, mean and the sum of squared deviations (merged after Chan, Golub &
 * LeVeque 1979), the distinct count, the largest count of one value, and the quantile summary
 * of metrics/sketch.h built from the sorted values (exact ranks at its entries) with the
 * reference's PSI edges among them. v: the nv sorted non-missing values. */
static int add_summary(run_ctx *c, cJSON *o, size_t j, const double *v, size_t nv,
                       size_t missing, size_t distinct)
{
    double mean = 0.0, m2 = 0.0;
    size_t tie = 0;
    for (size_t i = 0; i < nv; i++)
        mean += v[i];
    mean /= (double)nv;
    for (size_t i = 0, run = 0; i < nv; i++) {
        m2 += (v[i] - mean) * (v[i] - mean);
        run = i > 0 && v[i] == v[i - 1] ? run + 1 : 1;
        tie = run > tie ? run : tie;
    }
    double extra[4 * (AUD_PARTIAL_PSI_MAX + 1)];
    size_t n_extra = psi_edges(c, c->data->cols[j].name, extra);
    aud_sketch sk;
    int rc = aud_sketch_from_sorted(&sk, v, nv, AUD_PARTIAL_SKETCH_K, extra, n_extra, c->err);
    if (rc != AUD_OK)
        return rc;
    cJSON *sm = cJSON_AddObjectToObject(o, "summary");
    cJSON *sj = aud_sketch_to_json(&sk);
    aud_sketch_free(&sk);
    if (sm == NULL || sj == NULL || !cJSON_AddItemToObject(sm, "sketch", sj)) {
        cJSON_Delete(sj);
        return aud_error_nomem(c->err);
    }
    if (aud_json_add_num(sm, "n", (double)nv) != 0 ||
        aud_json_add_num(sm, "min", v[0]) != 0 || aud_json_add_num(sm, "max", v[nv - 1]) != 0 ||
        aud_json_add_num(sm, "mean", mean) != 0 || aud_json_add_num(sm, "m2", m2) != 0 ||
        aud_json_add_num(sm, "distinct", (double)distinct) != 0 ||
        aud_json_add_num(sm, "max_tie", (double)tie) != 0 ||
        aud_json_add_num(o, "missing", (double)missing) != 0)
        return aud_error_nomem(c->err);
    return AUD_OK;
}

/* One data column that is not in the joint cells: its distinct values with their counts. */
static int add_column(run_ctx *c, cJSON *arr, size_t j, int joint, supp *sp,
                      unsigned char *keep_level)
{
    const aud_column *col = &c->data->cols[j];
    size_t n = c->data->n_rows;
    cJSON *o = cJSON_CreateObject();
    if (add_item(arr, o) != 0 || cJSON_AddStringToObject(o, "name", col->name) == NULL ||
        cJSON_AddStringToObject(o, "type", col->type == AUD_COL_NUMERIC ? "numeric"
                                                                        : "categorical") == NULL ||
        cJSON_AddBoolToObject(o, "joint", joint) == NULL)
        return aud_error_nomem(c->err);
    unsigned char *keep = keep_level + (col->type == AUD_COL_CATEGORICAL ? c->level_base[j] : 0);
    if (col->type == AUD_COL_CATEGORICAL) {
        uint64_t *cnt = joint ? NULL : aud_calloc(col->n_levels + 1, sizeof *cnt);
        if (!joint && cnt == NULL)
            return aud_error_nomem(c->err);
        uint64_t missing = 0;
        for (size_t i = 0; !joint && i < n; i++) {
            if (col->codes[i] < 0)
                missing++;
            else
                cnt[col->codes[i]]++;
        }
        for (size_t k = 0; !joint && k < col->n_levels; k++) {
            keep[k] = cnt[k] > 0 && !(sp->min_cell > 1 && (long)cnt[k] < sp->min_cell);
            if (cnt[k] > 0 && !keep[k]) {
                sp->cells++;
                sp->values += cnt[k];
                missing += cnt[k];
            }
        }
        int bad = add_levels(o, col, n, keep, cnt) != 0 ||
                  (!joint && aud_json_add_num(o, "missing", (double)missing) != 0);
        aud_free(cnt);
        return bad ? aud_error_nomem(c->err) : AUD_OK;
    }
    if (joint)
        return AUD_OK;
    double *v = aud_malloc((n ? n : 1) * sizeof *v);
    size_t nv = v != NULL ? sort_values(v, col->num, n) : 0;
    if (v != NULL && nv == SIZE_MAX) {
        aud_free(v);
        return aud_error_nomem(c->err);
    }
    if (sp->min_cell <= 1) {   /* many distinct values: a quantile summary */
        size_t distinct = 0;
        for (size_t i = 0; i < nv; i++)
            distinct += i == 0 || cmp_double(v[i - 1], v[i]) != 0;
        if (distinct > AUD_PARTIAL_EXACT_VALUES && isfinite(v[0]) && isfinite(v[nv - 1])) {
            int rc = add_summary(c, o, j, v, nv, n - nv, distinct);
            aud_free(v);
            return rc;
        }
    }
    cJSON *vals = v != NULL ? cJSON_AddArrayToObject(o, "values") : NULL;
    cJSON *cnts = cJSON_AddArrayToObject(o, "counts");
    if (v == NULL || vals == NULL || cnts == NULL) {
        aud_free(v);
        return aud_error_nomem(c->err);
    }
    uint64_t missing = 0;
    int rc = AUD_OK;
    for (size_t i = 0; i < n && rc == AUD_OK;) {
        size_t e = i + 1;
        while (e < n && cmp_double(v[i], v[e]) == 0)
            e++;
        if (isnan(v[i]) || (sp->min_cell > 1 && (long)(e - i) < sp->min_cell)) {
            missing += e - i;
            if (!isnan(v[i])) {
                sp->cells++;
                sp->values += e - i;
            }
        } else if (add_item(vals, aud_json_num(v[i])) != 0 ||
                   add_item(cnts, aud_json_num((double)(e - i))) != 0) {
            rc = aud_error_nomem(c->err);
        }
        i = e;
    }
    aud_free(v);
    if (rc == AUD_OK && aud_json_add_num(o, "missing", (double)missing) != 0)
        rc = aud_error_nomem(c->err);
    return rc;
}

/* The spec's identity: SHA-256 of its document without "data" and "outputs" (the keys that
 * differ between the sites of a federated audit). */
static int spec_hash(const cJSON *raw, char hex[65], aud_error *err)
{
    cJSON *d = cJSON_Duplicate(raw, 1);
    if (d == NULL)
        return aud_error_nomem(err);
    cJSON_DeleteItemFromObjectCaseSensitive(d, "data");
    cJSON_DeleteItemFromObjectCaseSensitive(d, "outputs");
    char *text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (text == NULL)
        return aud_error_nomem(err);
    int rc = aud_sha256_mem(text, strlen(text), hex, err);
    cJSON_free(text);
    return rc;
}

static int add_header(run_ctx *c, cJSON *part)
{
    const aud_spec *s = c->spec;
    const aud_run_opts *o = c->opts;
    char hex[65];
    char *text = NULL;
    size_t len = 0;
    int rc = spec_hash(s->raw, hex, c->err);
    if (rc == AUD_OK)
        rc = aud_file_read(s->path, &text, &len, 0, c->err);
    if (rc != AUD_OK)
        return rc;
    cJSON *sh = cJSON_CreateObject();
    cJSON *prov = NULL;
    int ok = cJSON_AddStringToObject(part, "format", AUD_PARTIAL_FORMAT) != NULL &&
             aud_json_add_num(part, "version", AUD_PARTIAL_VERSION) == 0 &&
             cJSON_AddStringToObject(part, "spec_sha256", hex) != NULL &&
             cJSON_AddStringToObject(part, "spec_path", s->path) != NULL &&
             cJSON_AddStringToObject(part, "spec_text", text) != NULL && sh != NULL &&
             cJSON_AddItemToObject(part, "shard", sh) &&
             aud_json_add_num(sh, "index", (double)o->shard_index) == 0 &&
             aud_json_add_num(sh, "count", (double)o->shard_count) == 0 &&
             cJSON_AddStringToObject(sh, "split", o->shard_site ? "site" : "rows") != NULL &&
             aud_json_add_num(sh, "first_row", (double)c->shard_row0) == 0 &&
             aud_json_add_num(sh, "file_rows", (double)c->shard_rows_total) == 0 &&
             aud_json_add_num(part, "min_cell_count", (double)(o->min_cell > 1 ? o->min_cell
                                                                              : 1)) == 0 &&
             (prov = cJSON_AddArrayToObject(part, "inputs")) != NULL;
    if (sh != NULL && cJSON_GetObjectItemCaseSensitive(part, "shard") != sh)
        cJSON_Delete(sh);
    aud_free(text);
    if (!ok)
        return aud_error_nomem(c->err);
    /* the inputs' hashes: the model and reference must be the same for every shard */
    cJSON *din = NULL;
    if (c->range.end > c->range.begin)   /* the shard read only its bytes: their hash */
        rc = aud_prov_add_input_hashed(part, "data", s->data, c->range.sha256, NULL, &din,
                                       c->err);
    else
        rc = aud_prov_add_input(part, "data", s->data, NULL, NULL, c->err);
    if (rc == AUD_OK && din != NULL) {
        cJSON *by = cJSON_AddArrayToObject(din, "bytes");
        if (by == NULL || add_item(by, aud_json_num((double)c->range.begin)) != 0 ||
            add_item(by, aud_json_num((double)c->range.end)) != 0)
            rc = aud_error_nomem(c->err);
    }
    if (rc == AUD_OK && s->reference != NULL)
        rc = aud_prov_add_input(part, "reference", s->reference, NULL, NULL, c->err);
    if (rc == AUD_OK && s->model != NULL)
        rc = aud_prov_add_input(part, "model", s->model, NULL, NULL, c->err);
    return rc;
}

/* Leave the rows of suppressed joint cells out of the shard's table (and scores). */
static void drop_rows(run_ctx *c, const unsigned char *drop)
{
    aud_table *t = c->data;
    size_t n = t->n_rows, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i])
            continue;
        for (size_t j = 0; j < t->n_cols; j++) {
            aud_column *col = &t->cols[j];
            if (col->type == AUD_COL_NUMERIC)
                col->num[m] = col->num[i];
            else
                col->codes[m] = col->codes[i];
        }
        if (c->score != NULL)
            c->score[m] = c->score[i];
        m++;
    }
    t->n_rows = m;
}

static int add_row_array(cJSON *arr, const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    if (add_item(arr, a) != 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (add_item(a, aud_json_num(v[k])) != 0)
            return -1;
    }
    return 0;
}

/* key: n doubles as one string of 16 hex digits each (their IEEE bits, exact). */
int aud_shard_add_hex(cJSON *o, const char *key, const double *v, size_t n)
{
    static const char digit[] = "0123456789abcdef";
    char *h = aud_malloc(16 * n + 1);
    if (h == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], sizeof u);
        for (int k = 15; k >= 0; k--, u >>= 4)
            h[16 * i + (size_t)k] = digit[u & 15];
    }
    h[16 * n] = '\0';
    int rc = cJSON_AddStringToObject(o, key, h) != NULL ? 0 : -1;
    aud_free(h);
    return rc;
}

/* The explained rows of a partial kept in memory (audit-mpi, docs/scale-out.md "packed"):
 * "packed": true and rows, x, phi, fx, prediction and line (NaN: unknown) each one hex string
 * of the doubles row after row: no number is printed and parsed back (every explained row of
 * 100,000 cost seconds of formatting on the ranks and parsing on rank 0). The id texts stay a
 * JSON array. 0, or -1 without memory. */
static int add_packed(run_ctx *c, cJSON *ex, const aud_shap_opts *so, const aud_shap_result *r,
                      const double *X, const size_t *rows, size_t n, size_t nf, cJSON *ia,
                      long idc)
{
    size_t m = n ? n : 1;
    double *rw = aud_malloc(m * sizeof *rw), *pred = aud_malloc(m * sizeof *pred),
           *line = aud_malloc(m * sizeof *line);
    int bad = rw == NULL || pred == NULL || line == NULL ||
              cJSON_AddBoolToObject(ex, "packed", 1) == NULL;
    for (size_t i = 0; i < n && !bad; i++) {
        size_t row = rows[i] - c->shard_row0;
        long ln = aud_table_row_line(c->data, row);
        rw[i] = (double)rows[i];
        pred[i] = so->output == AUD_SHAP_OUTPUT_RAW && c->score != NULL
                      ? c->score[row] : r->fx[i * r->n_outputs];
        line[i] = ln > 0 ? (double)ln : NAN;
        if (ia != NULL) {
            char cell[128];
            aud_table_cell_text(c->data, row, (size_t)idc, cell, sizeof cell);
            if (c->data->cols[idc].type == AUD_COL_NUMERIC)
                aud_fmt_double(c->data->cols[idc].num[row], cell);
            bad = add_item(ia, cJSON_CreateString(cell)) != 0;
        }
    }
    const char *keys[] = {"rows", "x", "phi", "fx", "prediction", "line"};
    const double *vals[] = {rw, X, r != NULL ? r->phi : NULL, r != NULL ? r->fx : NULL, pred,
                            line};   /* r: NULL when the shard holds no explained row */
    size_t lens[] = {n, n * nf, r != NULL ? n * r->stride : 0, r != NULL ? n * r->n_outputs : 0,
                     n, n};
    for (int q = 0; q < 6 && !bad; q++) {   /* the empty arrays give way to the strings */
        cJSON_DeleteItemFromObjectCaseSensitive(ex, keys[q]);
        bad = aud_shard_add_hex(ex, keys[q], vals[q], lens[q]) != 0;
    }
    aud_free(rw);
    aud_free(pred);
    aud_free(line);
    return bad ? -1 : 0;
}

/* "explained": the shard's rows of the single run's explanation sample: row numbers, feature
 * values, attributions, outputs and predictions; or "skipped" with the reason. Raw rows: left
 * out of a partial with suppression. */
static int add_explained(run_ctx *c, cJSON *part)
{
    aud_shap_opts so;
    double *X = NULL, *B = NULL;
    size_t *rows = NULL, n = 0, nb = 0;
    aud_shap_result *r = NULL;
    const char *skip = NULL;
    int rc = AUD_OK;
    if (c->opts->min_cell > 1)
        skip = "a partial with a minimum cell count shares no row (docs/scale-out.md)";
    else
        rc = aud_run_explain_rows(c, &so, &B, &nb, &r, &X, &rows, &n, &skip);
    cJSON *ex = rc == AUD_OK ? cJSON_AddObjectToObject(part, "explained") : NULL;
    if (rc == AUD_OK && ex == NULL)
        rc = aud_error_nomem(c->err);
    c->sx_skip = skip != NULL;
    if (rc != AUD_OK || skip != NULL) {
        if (rc == AUD_OK && cJSON_AddStringToObject(ex, "skipped", skip) == NULL)
            rc = aud_error_nomem(c->err);
        goto done;
    }
    size_t nf = c->model->n_features, no = r != NULL ? r->n_outputs : c->model->n_outputs;
    cJSON *ra = cJSON_AddArrayToObject(ex, "rows");
    cJSON *xa = cJSON_AddArrayToObject(ex, "x");
    cJSON *pa = cJSON_AddArrayToObject(ex, "phi");
    cJSON *fa = cJSON_AddArrayToObject(ex, "fx");
    cJSON *qa = cJSON_AddArrayToObject(ex, "prediction");
    cJSON *la = cJSON_AddArrayToObject(ex, "line");
    long idc = c->spec->explain.id != NULL ? aud_table_find(c->data, c->spec->explain.id) : -1;
    cJSON *ia = idc >= 0 ? cJSON_AddArrayToObject(ex, "id") : NULL;
    int bad = ra == NULL || xa == NULL || pa == NULL || fa == NULL || qa == NULL || la == NULL ||
              (idc >= 0 && ia == NULL) ||
              cJSON_AddStringToObject(ex, "output", so.output == AUD_SHAP_OUTPUT_RAW
                                                        ? "raw" : "probability") == NULL ||
              aud_json_add_num(ex, "features", (double)nf) != 0 ||
              aud_json_add_num(ex, "outputs", (double)no) != 0 ||
              aud_json_add_num(ex, "additivity_max_error",
                               r != NULL ? r->additivity_max_error : 0.0) != 0;
    if (!bad && c->opts->rows != NULL) {   /* audit-mpi: the rows stay on the rank */
        c->sx_r = r;                       /* (aud_run_rows_shard, audit/run_rows.c) */
        c->sx_X = X;
        c->sx_rows = rows;
        c->sx_n = n;
        r = NULL;
        X = NULL;
        rows = NULL;
        n = 0;
    }
    if (!bad && c->opts->partial_text != NULL) {   /* in memory (audit-mpi): packed */
        bad = add_packed(c, ex, &so, r, X, rows, n, nf, ia, idc) != 0;
        n = 0;
    }
    for (size_t i = 0; i < n && !bad; i++) {
        double fx = r->fx[i * r->n_outputs];
        double pred = so.output == AUD_SHAP_OUTPUT_RAW && c->score != NULL
                          ? c->score[rows[i] - c->shard_row0] : fx;
        bad = add_item(ra, aud_json_num((double)rows[i])) != 0 ||
              add_row_array(xa, X + i * nf, nf) != 0 ||
              add_row_array(pa, r->phi + i * r->stride, r->stride) != 0 ||
              add_row_array(fa, r->fx + i * r->n_outputs, r->n_outputs) != 0 ||
              add_item(qa, aud_json_num(pred)) != 0;
        /* the row's CSV line and explain.id text, as the single run states them */
        size_t row = rows[i] - c->shard_row0;
        long line = aud_table_row_line(c->data, row);
        if (!bad)
            bad = add_item(la, line > 0 ? aud_json_num((double)line) : cJSON_CreateNull()) != 0;
        if (!bad && ia != NULL) {
            char cell[128];
            aud_table_cell_text(c->data, row, (size_t)idc, cell, sizeof cell);
            if (c->data->cols[idc].type == AUD_COL_NUMERIC)
                aud_fmt_double(c->data->cols[idc].num[row], cell);
            bad = add_item(ia, cJSON_CreateString(cell)) != 0;
        }
    }
    if (bad)
        rc = aud_error_nomem(c->err);
done:
    aud_shap_result_free(r);
    aud_free(X);
    aud_free(B);
    aud_free(rows);
    return rc;
}

int aud_shard_write(run_ctx *c, const char *out_dir)
{
    const aud_table *t = c->data;
    const aud_run_opts *o = c->opts;
    supp sp = {o->min_cell, 0, 0, 0};
    size_t *cols = aud_malloc((c->spec->n_sensitive + 4) * sizeof *cols);
    size_t total_levels = 0;
    c->level_base = aud_calloc(t->n_cols + 1, sizeof *c->level_base);
    if (cols == NULL || c->level_base == NULL) {
        aud_free(cols);
        return aud_error_nomem(c->err);
    }
    for (size_t j = 0; j < t->n_cols; j++) {
        c->level_base[j] = total_levels;
        total_levels += t->cols[j].n_levels;
    }
    unsigned char *keep = aud_calloc(total_levels + 1, 1);
    cJSON *part = cJSON_CreateObject();
    char *text = NULL;
    int rc = keep != NULL && part != NULL ? add_header(c, part) : aud_error_nomem(c->err);
    size_t n_joint = joint_columns(c, cols);
    unsigned char *drop = aud_calloc(t->n_rows + 1, 1);
    if (rc == AUD_OK && drop == NULL)
        rc = aud_error_nomem(c->err);
    aud_run_step(c, "partial: joint cells");
    if (rc == AUD_OK)
        rc = add_joint(c, part, cols, n_joint, &sp, keep, drop);
    if (rc == AUD_OK && sp.rows > 0)
        drop_rows(c, drop);
    aud_free(drop);
    if (rc == AUD_OK && aud_json_add_num(part, "rows", (double)t->n_rows) != 0)
        rc = aud_error_nomem(c->err);
    cJSON *arr = rc == AUD_OK ? cJSON_AddArrayToObject(part, "columns") : NULL;
    if (rc == AUD_OK && arr == NULL)
        rc = aud_error_nomem(c->err);
    aud_run_step(c, "partial: columns");
    for (size_t j = 0; j < t->n_cols && rc == AUD_OK; j++) {
        int joint = 0;
        for (size_t q = 0; q < n_joint; q++)
            joint |= cols[q] == j;
        rc = add_column(c, arr, j, joint, &sp, keep);
    }
    aud_run_step(c, "partial: explained rows");
    if (rc == AUD_OK)
        rc = add_explained(c, part);
    aud_run_step(c, "partial: drivers and proxies");
    if (rc == AUD_OK)
        rc = aud_shard_why(c, part);
    if (rc == AUD_OK && o->rows != NULL) {   /* audit-mpi: the rows' scan and text */
        aud_run_step(c, "partial: explained rows' text");
        rc = aud_run_rows_shard(c);
    }
    cJSON *su = rc == AUD_OK ? cJSON_AddObjectToObject(part, "suppressed") : NULL;
    if (rc == AUD_OK && (su == NULL || aud_json_add_num(su, "cells", (double)sp.cells) != 0 ||
                         aud_json_add_num(su, "rows", (double)sp.rows) != 0 ||
                         aud_json_add_num(su, "values", (double)sp.values) != 0))
        rc = aud_error_nomem(c->err);
    aud_run_step(c, "partial: print");
    if (rc == AUD_OK && (text = cJSON_PrintUnformatted(part)) == NULL)
        rc = aud_error_nomem(c->err);
    if (rc == AUD_OK && o->partial_text != NULL) {   /* in memory (build/audit-mpi) */
        *o->partial_text = text;
        text = NULL;
        goto done;
    }
    char path[PATH_MAX];
    if (rc == AUD_OK && snprintf(path, sizeof path, "%s/partial-%d-of-%d.audpart", out_dir,
                                 o->shard_index, o->shard_count) >= (int)sizeof path)
        rc = aud_error_set(c->err, AUD_E_IO, out_dir, 0, 0, "output path too long");
    if (rc == AUD_OK) {
        size_t len = strlen(text);
        text[len] = '\n';
        rc = aud_file_write_atomic(path, text, len + 1, c->err);
        text[len] = '\0';
    }
    if (rc == AUD_OK)
        snprintf(c->partial_path, sizeof c->partial_path, "%s", path);
done:
    cJSON_free(text);
    cJSON_Delete(part);
    aud_free(keep);
    aud_free(cols);
    return rc;
}
