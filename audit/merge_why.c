/* merge_why.c - the partials' "why" blocks (audit/shard_why.c) merged into the per-cell sums of
 * the fairness drivers and the proxy screen (audit/fair_why_int.h aud_why_merged; the exactness
 * of each figure is stated in docs/scale-out.md):
 *   - the cells of every partial are matched by the attributes' values; their row counts and
 *     sums are added (a linear model's input sums, and its background rows put in file order);
 *   - per model feature and cell, the missing counts are added, the moments combined (Chan,
 *     Golub & LeVeque 1979), the value lists joined and the quantile summaries merged (never
 *     pruned); then the feature is discrete when the whole column has at most
 *     AUD_ASSOC_MAX_LEVELS distinct values (known exactly from the lists; a summarised cell has
 *     more), and a continuous feature's decile edges (numpy linear quantiles) come from the
 *     joined lists, or from the merged table's column when that one is exact: each cell's bin
 *     counts are then exact from its lists and bounded from its summaries. */
#include "audit/fair_why_int.h"
#include "audit/shard_int.h"
#include "metrics/fair_drivers_int.h"
#include "metrics/drift.h"
#include "metrics/sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One feature in one merged cell while the partials are read. */
typedef struct fcell {
    double     missing, n, mean, m2;
    long double sum;
    double    *val, *cnt;   /* values (a categorical feature: level codes) and their counts */
    size_t     nv, cap;
    aud_sketch sk;          /* summarised parts, merged (has_sk) */
    int        has_sk;
    double    *bins;        /* summarised parts with their counts per bin of the whole
                               column's decile edges (audit-mpi), added (has_bins) */
    int        has_bins;
} fcell;

typedef struct pair {
    double v, n;
} pair;

static int cmp_pair(const void *pa, const void *pb)
{
    double a = ((const pair *)pa)->v, b = ((const pair *)pb)->v;
    return (a > b) - (a < b);
}

/* *p := realloc(*p, n * size); -1 (and *p kept) without memory. */
static int grow(void *p, size_t n, size_t size)
{
    void **pp = p, *q = aud_realloc(*pp, (n ? n : 1) * size);
    if (q == NULL)
        return -1;
    *pp = q;
    return 0;
}

static int bad(aud_error *err, const char *path, const char *what)
{
    return aud_error_set(err, AUD_E_SCHEMA, path, 0, 0, "not a valid audit partial: %s", what);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void aud_why_merged_free(aud_why_merged *m)
{
    if (m == NULL)
        return;
    for (size_t f = 0; m->feat != NULL && f < m->n_features; f++) {
        aud_why_feat *w = &m->feat[f];
        aud_free(w->tab);
        aud_free(w->lo);
        aud_free(w->hi);
        aud_free(w->cnt);
        aud_free(w->mean);
        aud_free(w->m2);
        aud_free(w->sum);
    }
    aud_free(m->feat);
    aud_free(m->key);
    aud_free(m->count);
    aud_free(m->out);
    aud_free(m->phi);
    aud_free(m->prob);
    aud_free(m->xsum);
    aud_free(m->bg);
    aud_free(m->c_row);
    aud_free(m->c_cell);
    aud_free(m->c_kind);
    aud_free(m->c_x);
    aud_free(m->c_prob);
    aud_free(m);
}

/* The merged key of one attribute value of a partial's cell: a categorical column's level code
 * in the merged table, the number, NaN when missing; -1 when it is neither. */
static int key_of(const aud_column *col, const cJSON *v, double *out)
{
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (col->type == AUD_COL_NUMERIC) {
        if (!cJSON_IsNumber(v))
            return -1;
        *out = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(v))
        return -1;
    for (size_t k = 0; k < col->n_levels; k++) {
        if (strcmp(col->levels[k], v->valuestring) == 0) {
            *out = (double)k;
            return 0;
        }
    }
    return -1;
}

static int same_key(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
            return 0;
    return 1;
}

/* The cells of partial `why` into m (added when new); map[q] = merged cell of its cell q. */
static int add_cells(aud_why_merged *m, const aud_table *t, const long *scol, const cJSON *why,
                     size_t **map, size_t *cap, const char *path, aud_error *err)
{
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(why, "cells");
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(why, "out");
    const cJSON *phi = cJSON_GetObjectItemCaseSensitive(why, m->xsum ? "xsum" : "phi");
    const cJSON *prob = cJSON_GetObjectItemCaseSensitive(why, "prob");
    size_t nc = (size_t)cJSON_GetArraySize(cells), na = m->n_attrs, nf = m->n_features;
    size_t per = m->xsum ? 2 * nf : nf;   /* linear: each input sum as two doubles */
    if (m->xsum != NULL)
        out = phi;   /* no "out": the merge takes it from the sums (aud_shap_linear_cells) */
    if (m->sampled)   /* counts only: the rows' values come with the candidates */
        out = phi = cells;
    if (!cJSON_IsArray(cells) || (size_t)cJSON_GetArraySize(out) != nc ||
        (size_t)cJSON_GetArraySize(phi) != nc ||
        (prob != NULL && (size_t)cJSON_GetArraySize(prob) != nc) ||
        (m->prob != NULL) != (prob != NULL) )
        return bad(err, path, "\"why\" cells, sums and probabilities differ in length");
    *map = aud_malloc((nc + 1) * sizeof **map);
    double key[64];
    if (*map == NULL)
        return aud_error_nomem(err);
    const cJSON *cell = cells->child, *o = out->child, *p = phi->child;
    const cJSON *pr = prob != NULL ? prob->child : NULL;
    for (size_t q = 0; q < nc; q++, cell = cell->next, o = o->next, p = p->next) {
        const cJSON *v = cJSON_IsArray(cell) ? cell->child : NULL;
        for (size_t a = 0; a < na; a++, v = v ? v->next : NULL)
            if (v == NULL || key_of(&t->cols[scol[a]], v, &key[a]) != 0)
                return bad(err, path, "a \"why\" cell is not a value of the attributes");
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
            (!m->sampled && ((m->xsum == NULL && !cJSON_IsNumber(o)) ||
                             (size_t)cJSON_GetArraySize(p) != per)) ||
            (pr != NULL && !cJSON_IsNumber(pr)))
            return bad(err, path, "a \"why\" cell has no count or sums");
        size_t k = 0;
        while (k < m->n_cells && !same_key(m->key + k * na, key, na))
            k++;
        if (k == m->n_cells) {   /* a new cell */
            if (k == *cap) {
                size_t nc2 = *cap ? 2 * *cap : 64;
                if (grow(&m->key, nc2 * na, sizeof *m->key) != 0 ||
                    grow(&m->count, nc2, sizeof *m->count) != 0 ||
                    grow(&m->out, nc2, sizeof *m->out) != 0 ||
                    grow(&m->phi, nc2 * nf, sizeof *m->phi) != 0 ||
                    (m->xsum != NULL && grow(&m->xsum, nc2 * nf, sizeof *m->xsum) != 0) ||
                    (m->prob != NULL && grow(&m->prob, nc2, sizeof *m->prob) != 0))
                    return aud_error_nomem(err);
                *cap = nc2;
            }
            memcpy(m->key + k * na, key, na * sizeof *key);
            m->count[k] = 0;
            m->out[k] = 0.0;
            for (size_t j = 0; j < nf; j++) {
                m->phi[k * nf + j] = 0.0;
                if (m->xsum != NULL)
                    m->xsum[k * nf + j] = 0.0L;
            }
            if (m->prob != NULL)
                m->prob[k] = 0.0;
            m->n_cells++;
        }
        (*map)[q] = k;
        m->count[k] += (uint64_t)v->valuedouble;
        size_t j = 0;
        const cJSON *x;
        if (m->sampled)
            continue;
        cJSON_ArrayForEach(x, p) {
            if (m->xsum != NULL && cJSON_IsNull(x)) {   /* a feature the model does not use */
                j++;
                continue;
            }
            if (!cJSON_IsNumber(x))
                return bad(err, path, "a \"why\" sum is not a number");
            if (m->xsum != NULL)   /* the two doubles of one long double sum, exactly */
                m->xsum[k * nf + j++ / 2] += (long double)x->valuedouble;
            else
                m->phi[k * nf + j++] += x->valuedouble;
        }
        if (m->xsum == NULL)
            m->out[k] += o->valuedouble;
        if (pr != NULL) {
            m->prob[k] += pr->valuedouble;
            pr = pr->next;
        }
    }
    return AUD_OK;
}

/* Fold one partial's cell of one feature into fc. */
static int add_fcell(fcell *fc, const aud_column *col, const cJSON *o, size_t nb,
                     const char *path, aud_error *err)
{
    double missing = num(o, "missing");
    if (!(missing >= 0))
        return bad(err, path, "a \"why\" feature cell has no missing count");
    fc->missing += missing;
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(o, "values");
    const cJSON *cnts = cJSON_GetObjectItemCaseSensitive(o, "counts");
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(o, "sketch");
    if (col->type == AUD_COL_NUMERIC) {   /* the moments (Chan, Golub & LeVeque 1979) */
        double n = num(o, "n"), mean = num(o, "mean"), m2 = num(o, "m2");
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(o, "sum");
        if (!(n >= 0) || isnan(mean) || !(m2 >= 0) || cJSON_GetArraySize(sum) != 2 ||
            !cJSON_IsNumber(sum->child) || !cJSON_IsNumber(sum->child->next))
            return bad(err, path, "a \"why\" feature cell has no moments");
        fc->sum += (long double)sum->child->valuedouble + sum->child->next->valuedouble;
        if (n > 0) {
            double N = fc->n + n, d = mean - fc->mean;
            fc->m2 += m2 + d * d * fc->n * n / N;
            fc->mean += d * n / N;
            fc->n = N;
        }
    }
    const cJSON *bins = cJSON_GetObjectItemCaseSensitive(o, "bins");
    if (sk != NULL && nb > 0 && (size_t)cJSON_GetArraySize(bins) == nb) {   /* exact counts */
        if (fc->bins == NULL && (fc->bins = aud_calloc(nb, sizeof *fc->bins)) == NULL)
            return aud_error_nomem(err);
        size_t b = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, bins) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 0)
                return bad(err, path, "a \"why\" bin count is not a count");
            fc->bins[b++] += x->valuedouble;
        }
        fc->has_bins = 1;
        return AUD_OK;
    }
    if (sk != NULL) {
        aud_sketch s;
        int rc = col->type == AUD_COL_NUMERIC
                     ? aud_sketch_from_json(&s, sk, path, "why.screen[].cells[].sketch", err)
                     : bad(err, path, "a categorical feature cell is summarised");
        if (rc != AUD_OK)
            return rc;
        if (!fc->has_sk) {
            fc->sk = s;
            fc->sk.k = (size_t)1 << 40;   /* never pruned: the rank bounds stay true */
            fc->has_sk = 1;
        } else {
            rc = aud_sketch_merge(&fc->sk, &s, err);
            aud_sketch_free(&s);
        }
        return rc;
    }
    size_t m = (size_t)cJSON_GetArraySize(vals);
    if (!cJSON_IsArray(vals) || (size_t)cJSON_GetArraySize(cnts) != m)
        return bad(err, path, "a \"why\" feature cell's values and counts differ in length");
    if (fc->nv + m > fc->cap) {
        size_t cap = (fc->nv + m) * 2;
        if (grow(&fc->val, cap, sizeof *fc->val) != 0 ||
            grow(&fc->cnt, cap, sizeof *fc->cnt) != 0)
            return aud_error_nomem(err);
        fc->cap = cap;
    }
    const cJSON *v = vals->child, *c = cnts->child;
    for (; v != NULL; v = v->next, c = c->next) {
        double x;
        if (!cJSON_IsNumber(c) || c->valuedouble < 1 ||
            (col->type == AUD_COL_NUMERIC ? !cJSON_IsNumber(v) : key_of(col, v, &x) != 0))
            return bad(err, path, "a \"why\" feature value is not one of its column");
        fc->val[fc->nv] = col->type == AUD_COL_NUMERIC ? v->valuedouble : x;
        fc->cnt[fc->nv++] = c->valuedouble;
    }
    return AUD_OK;
}

/* numpy.quantile(x, k / 10), k = 1..9, method "linear", of the values v with counts (sorted,
 * distinct, m values in all): the formula of metrics/assoc.c decile_edges on the same order
 * statistics; equal edges merged when dedup. Returns the number of edges. */
static size_t deciles(const pair *p, size_t np, double m, double *edges, int dedup)
{
    size_t ne = 0, i = 0;
    double below = 0.0;   /* values before p[i] */
    for (int q = 1; q < AUD_ASSOC_BINS && m > 0; q++) {
        double h = (m - 1.0) * ((double)q / AUD_ASSOC_BINS);
        double fl = floor(h), g = h - fl;
        while (i + 1 < np && below + p[i].n <= fl) {   /* p[i] holds order statistic fl */
            below += p[i].n;
            i++;
        }
        double a = p[i].v, b = a;
        if (fl + 1 < m)   /* order statistic fl + 1: p[i] again or the next value */
            b = below + p[i].n > fl + 1 ? a : p[i + 1].v;
        double d = b - a, e = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
        if (!dedup || ne == 0 || e != edges[ne - 1])
            edges[ne++] = e;
    }
    return ne;
}

/* The sorted distinct values with their counts of n pairs (sorted and combined in place). */
static size_t combine(pair *p, size_t n)
{
    qsort(p, n, sizeof *p, cmp_pair);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && p[m - 1].v == p[i].v)
            p[m - 1].n += p[i].n;
        else
            p[m++] = p[i];
    }
    return m;
}

/* The deciles of the merged table's column (exact there unless the column was summarised: then
 * those of the sample expanded from its summary). */
static size_t column_deciles(const aud_column *col, size_t n, double *edges, int dedup,
                             int *nomem)
{
    size_t m = 0, np = 0, gap = 0;   /* the merge writes such a column sorted, missing last */
    for (size_t i = 0; i < n && !gap; i++) {
        if (isnan(col->num[i]))
            continue;
        gap = (m < i) || (m > 0 && col->num[i] < col->num[i - 1]);
        m++;
    }
    *nomem = 0;
    if (!gap) {   /* the order statistics by index: the formula of deciles() */
        size_t ne = 0;
        for (int q = 1; q < AUD_ASSOC_BINS && m > 0; q++) {
            double h = (double)(m - 1) * ((double)q / AUD_ASSOC_BINS);
            double fl = floor(h), g = h - fl;
            size_t f = (size_t)fl;
            double a = col->num[f], b = f + 1 < m ? col->num[f + 1] : a, d = b - a;
            double e = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
            if (!dedup || ne == 0 || e != edges[ne - 1])
                edges[ne++] = e;
        }
        return ne;
    }
    m = 0;
    double *v = aud_malloc((n ? n : 1) * sizeof *v);
    pair *p = aud_malloc((n ? n : 1) * sizeof *p);
    *nomem = v == NULL || p == NULL;
    for (size_t i = 0; !*nomem && i < n; i++)
        if (!isnan(col->num[i]))
            v[m++] = col->num[i];
    if (!*nomem && aud_drift_sort(v, m) != AUD_OK)   /* O(m); the column often comes sorted */
        *nomem = 1;
    for (size_t i = 0; !*nomem && i < m; i++) {
        if (np > 0 && p[np - 1].v == v[i])
            p[np - 1].n += 1.0;
        else
            p[np++] = (pair){v[i], 1.0};
    }
    size_t ne = *nomem ? 0 : deciles(p, np, (double)m, edges, dedup);
    aud_free(v);
    aud_free(p);
    return ne;
}

/* Order statistic r (0-based) of the values a merged quantile summary holds: within [*a, *b]
 * (entries: count(< v) <= rmax - wmin, count(<= v) >= rmin + wmin; lo, hi the column's min
 * and max). */
static void stat_bracket(const aud_sketch *s, double lo, double hi, double r, double *a,
                         double *b)
{
    *a = lo;
    *b = hi;
    for (size_t i = 0; i < s->n_e; i++) {
        const aud_sketch_entry *e = &s->e[i];
        if (e->rmax - e->wmin <= r && e->v > *a)       /* at most r values below v */
            *a = e->v;
        if (e->rmin + e->wmin >= r + 1 && e->v < *b)   /* at least r + 1 values up to v */
            *b = e->v;
    }
}

/* A summarised column's decile edges: each within [elo, ehi] (the linear interpolation is
 * increasing in both order statistics), the point the expanded sample's edge. */
static int edge_intervals(run_ctx *c, const aud_column *col, size_t n, long j, double *elo,
                          double *ehi, double *ept)
{
    const aud_drift_refsum *sm = &c->mg_sum[j];
    double m = sm->n;
    int nomem = 0;
    size_t ne = column_deciles(col, n, ept, 0, &nomem);
    if (nomem || aud_sketch_compact((aud_sketch *)sm->sketch, c->err) != AUD_OK)
        return nomem ? aud_error_nomem(c->err) : c->err->code;
    for (int q = 1; q < AUD_ASSOC_BINS; q++) {
        double h = (m - 1.0) * ((double)q / AUD_ASSOC_BINS);
        double fl = floor(h), g = h - fl, a[2], b[2], e[2];
        stat_bracket(sm->sketch, sm->lo, sm->hi, fl, &a[0], &a[1]);
        if (fl + 1 < m)
            stat_bracket(sm->sketch, sm->lo, sm->hi, fl + 1, &b[0], &b[1]);
        else
            b[0] = a[0], b[1] = a[1];
        for (int k = 0; k < 2; k++) {
            double d = b[k] - a[k];
            e[k] = g >= 0.5 ? b[k] - d * (1.0 - g) : a[k] + d * g;
        }
        elo[q - 1] = e[0] == e[1] ? e[0] : nextafter(e[0], -INFINITY);   /* rounding aside */
        ehi[q - 1] = e[0] == e[1] ? e[1] : nextafter(e[1], INFINITY);
        if ((size_t)q <= ne)
            ept[q - 1] = fmin(fmax(ept[q - 1], elo[q - 1]), ehi[q - 1]);
        else
            ept[q - 1] = elo[q - 1];
    }
    return AUD_OK;
}

/* Values of a cell below v: exactly from its lists, within [*lo, *hi] from its summary; the
 * midpoint (rounded down) returned. */
static double count_below(fcell *fc, double v, size_t b, double *lo, double *hi)
{
    double n = 0.0;
    for (size_t i = 0; i < fc->nv; i++)
        n += fc->val[i] < v ? fc->cnt[i] : 0.0;
    for (size_t i = 0; fc->has_bins && i <= b; i++)   /* v is edge b of the partials */
        n += fc->bins[i];
    *lo = *hi = n;
    if (!fc->has_sk)
        return n;
    double l, h;
    aud_sketch_rank(&fc->sk, v, 0, &l, &h);
    *lo += l;
    *hi += h;
    return n + floor((l + h) / 2.0);
}

/* The feature's levels and per-cell counts from its cells fc[0..nc). */
static int finish_feature(run_ctx *c, const aud_table *t, long j, fcell *fc, size_t nc,
                          const double *pe, size_t npe, aud_why_feat *w)
{
    const aud_column *col = &t->cols[j];
    double missing = 0.0, total = 0.0;
    int any_sk = 0, bounded = 0, summ = 0;
    size_t np = 0;
    for (size_t k = 0; k < nc; k++) {
        missing += fc[k].missing;
        any_sk |= fc[k].has_sk;
        summ |= fc[k].has_sk || fc[k].has_bins;
        np += fc[k].nv;
    }
    w->cnt = aud_calloc(nc + 1, sizeof *w->cnt);
    w->mean = aud_calloc(nc + 1, sizeof *w->mean);
    w->m2 = aud_calloc(nc + 1, sizeof *w->m2);
    w->sum = aud_calloc(nc + 1, sizeof *w->sum);
    pair *p = aud_malloc((np + 1) * sizeof *p);
    int rc = w->cnt && w->mean && w->m2 && w->sum && p ? AUD_OK : aud_error_nomem(c->err);
    for (size_t k = 0; k < nc && rc == AUD_OK; k++) {
        w->cnt[k] = fc[k].n;
        w->mean[k] = fc[k].mean;
        w->m2[k] = fc[k].m2;
        w->sum[k] = fc[k].sum;
        if (fc[k].has_sk && aud_sketch_compact(&fc[k].sk, c->err) != AUD_OK)
            rc = c->err->code;
    }
    np = 0;
    for (size_t k = 0; k < nc && rc == AUD_OK; k++)
        for (size_t i = 0; i < fc[k].nv; i++)
            p[np++] = (pair){fc[k].val[i], fc[k].cnt[i]};
    size_t nd = rc == AUD_OK ? combine(p, np) : 0;
    for (size_t i = 0; i < nd; i++)
        total += p[i].n;
    double elo[AUD_ASSOC_BINS], ehi[AUD_ASSOC_BINS], ept[AUD_ASSOC_BINS];
    size_t ne = 0, nl = 0;
    if (rc != AUD_OK) {
        aud_free(p);
        return rc;
    }
    if (col->type == AUD_COL_CATEGORICAL) {   /* as aud_assoc_feature_prepare_codes */
        w->discrete = 1;
        nl = col->n_levels;
    } else if (!summ && nd <= AUD_ASSOC_MAX_LEVELS) {   /* the values, sorted */
        w->discrete = 1;
        nl = nd;
    } else {   /* decile bins: the edges exact, or within intervals (a summarised column) */
        int nomem = 0, summarised = c->mg_sum != NULL && (size_t)j < c->mg_n &&
                                    c->mg_sum[j].sketch != NULL;
        if (pe != NULL)   /* the ranks' exact edges (audit-mpi) */
            memcpy(ept, pe, (ne = npe) * sizeof *pe);
        else if (!summ)
            ne = deciles(p, nd, total, ept, 1);
        else if (!summarised)
            ne = column_deciles(col, t->n_rows, ept, 1, &nomem);
        else if ((rc = edge_intervals(c, col, t->n_rows, j, elo, ehi, ept)) == AUD_OK)
            ne = AUD_ASSOC_BINS - 1, bounded = 1;   /* equal edges: an empty bin, same NMI */
        if (nomem)
            rc = aud_error_nomem(c->err);
        if (!bounded) {
            memcpy(elo, ept, ne * sizeof *ept);
            memcpy(ehi, ept, ne * sizeof *ept);
        }
        bounded |= any_sk;
        nl = ne + 1;
    }
    if (rc != AUD_OK) {
        aud_free(p);
        return rc;
    }
    nl += missing > 0;
    w->n_levels = nl;
    w->tab = aud_calloc(nc * nl + 1, sizeof *w->tab);
    if (bounded) {
        w->lo = aud_calloc(nc * nl + 1, sizeof *w->lo);
        w->hi = aud_calloc(nc * nl + 1, sizeof *w->hi);
    }
    if (w->tab == NULL || (bounded && (w->lo == NULL || w->hi == NULL))) {
        aud_free(p);
        return aud_error_nomem(c->err);
    }
    int exact = 1;
    for (size_t k = 0; k < nc; k++) {
        uint64_t *row = w->tab + k * nl;
        if (missing > 0)
            row[nl - 1] += (uint64_t)fc[k].missing;
        if (w->discrete) {
            for (size_t i = 0; i < fc[k].nv; i++) {
                double x = fc[k].val[i];
                size_t lv = (size_t)x;
                if (col->type == AUD_COL_NUMERIC) {
                    pair key = {x, 0}, *hit = bsearch(&key, p, nd, sizeof *p, cmp_pair);
                    lv = (size_t)(hit - p);
                }
                row[lv] += (uint64_t)fc[k].cnt[i];
            }
            continue;
        }
        /* bin b = values with e[b-1] <= x < e[b]: counts below each edge, differenced */
        double known = fc[k].n, pl = 0, pu = 0, pp = 0;
        for (size_t b = 0; b <= ne; b++) {
            double l1 = known, u1 = known, p1 = known, l, h;
            if (b < ne) {
                count_below(&fc[k], elo[b], b, &l1, &h);
                count_below(&fc[k], ehi[b], b, &l, &u1);
                p1 = fmin(fmax(count_below(&fc[k], ept[b], b, &l, &h), l1), u1);
                p1 = fmax(p1, pp);
            }
            row[b] += (uint64_t)(p1 - pp);
            if (bounded) {
                w->lo[k * nl + b] += (uint64_t)fmax(0.0, l1 - pu);
                w->hi[k * nl + b] += (uint64_t)(u1 - pl);
                exact &= l1 == u1;
            }
            pl = l1, pu = u1, pp = p1;
        }
        if (bounded && missing > 0) {
            w->lo[k * nl + nl - 1] = w->hi[k * nl + nl - 1] = row[nl - 1];
        }
    }
    if (bounded && exact) {   /* the edges and the counts below them are exact points */
        aud_free(w->lo);
        aud_free(w->hi);
        w->lo = w->hi = NULL;
    }
    aud_free(p);
    return AUD_OK;
}

/* The screen's feature f of every partial into w (cells through map[k]). */
static int merge_feature(run_ctx *c, const aud_table *t, const cJSON *const *docs,
                         const char *const *paths, size_t n, size_t **map, size_t f,
                         aud_why_feat *w, size_t nc)
{
    fcell *fc = aud_calloc(nc + 1, sizeof *fc);
    if (fc == NULL)
        return aud_error_nomem(c->err);
    int rc = AUD_OK;
    long j = -1;
    double pe[AUD_ASSOC_BINS];   /* the whole column's edges when every partial has them */
    size_t npe = 0;
    int edges = 1;
    for (size_t k = 0; k < n && edges; k++) {
        const cJSON *fo = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[k], "why"), "screen"), (int)f);
        const cJSON *ea = cJSON_GetObjectItemCaseSensitive(fo, "edges"), *e;
        size_t q = 0;
        edges = cJSON_IsArray(ea) && cJSON_GetArraySize(ea) < AUD_ASSOC_BINS &&
                (k == 0 || (size_t)cJSON_GetArraySize(ea) == npe);
        const cJSON *list = edges ? ea : NULL;
        cJSON_ArrayForEach(e, list) {
            edges &= cJSON_IsNumber(e) && (k == 0 || pe[q] == e->valuedouble);
            pe[q++] = cJSON_IsNumber(e) ? e->valuedouble : 0.0;
        }
        npe = q;
    }
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(docs[k], "why");
        const cJSON *fo = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(why, "screen"),
                                             (int)f);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fo, "column");
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(fo, "cells");
        long jk = cJSON_IsString(name) ? aud_table_find(t, name->valuestring) : -1;
        if (jk < 0 || (k > 0 && jk != j) ||
            cJSON_GetArraySize(cells) != cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                                              why, "cells"))) {
            rc = bad(c->err, paths[k], "a \"why\" screen feature is not a column or has other "
                                       "cells");
            break;
        }
        j = jk;
        size_t q = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, cells) {
            if (rc == AUD_OK)
                rc = add_fcell(&fc[map[k][q]], &t->cols[j], o, edges ? npe + 1 : 0, paths[k],
                               c->err);
            q++;
        }
    }
    if (rc == AUD_OK)
        rc = finish_feature(c, t, j, fc, nc, edges ? pe : NULL, npe, w);
    for (size_t k = 0; k < nc; k++) {
        aud_free(fc[k].val);
        aud_free(fc[k].cnt);
        aud_free(fc[k].bins);
        if (fc[k].has_sk)
            aud_sketch_free(&fc[k].sk);
    }
    aud_free(fc);
    return rc;
}

typedef struct bg_row {
    double        row;
    const cJSON  *x;
    size_t        part;   /* the partial it came from (for messages) */
} bg_row;

static int cmp_bg(const void *pa, const void *pb)
{
    double a = ((const bg_row *)pa)->row, b = ((const bg_row *)pb)->row;
    return (a > b) - (a < b);
}

/* Linear models without the background rows (sites' partials): one background row,
 * the mean of every row's inputs. The background's mean cancels in every driver figure (each is
 * a difference of group means of w_j (x_j - mean_j), or a mean output intercept + sum w_j x_j),
 * so the figures are the single run's up to rounding (docs/scale-out.md). */
static int centering_row(run_ctx *c, aud_why_merged *m)
{
    size_t nf = m->n_features;
    long double n = 0.0L;
    m->bg = aud_malloc((nf + 1) * sizeof *m->bg);
    if (m->bg == NULL)
        return aud_error_nomem(c->err);
    for (size_t k = 0; k < m->n_cells; k++)
        n += (long double)m->count[k];
    for (size_t j = 0; j < nf; j++) {
        long double s = 0.0L;
        for (size_t k = 0; k < m->n_cells; k++)
            s += m->xsum[k * nf + j];
        m->bg[j] = n > 0 ? (double)(s / n) : 0.0;
    }
    m->n_bg = 1;
    return AUD_OK;
}

/* Linear models: the single run's background sample from the partials' "background" rows, in
 * file order (each shard holds those of its block; together the whole sample, checked); a
 * centering row when a partial has none (a site's). */
static int merge_background(run_ctx *c, aud_why_merged *m, const cJSON *const *docs,
                            const char *const *paths, size_t n)
{
    size_t nb = 0, nf = m->n_features;
    double sample = -1;
    for (size_t k = 0; k < n; k++)
        if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(docs[k], "why"),
                                             "background") == NULL)
            return centering_row(c, m);
    for (size_t k = 0; k < n; k++) {
        const cJSON *bg = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[k], "why"), "background");
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(bg, "rows");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(bg, "x");
        if (!cJSON_IsArray(rows) || !cJSON_IsArray(x) ||
            cJSON_GetArraySize(rows) != cJSON_GetArraySize(x) ||
            !(num(bg, "sample") >= 0) || (k > 0 && num(bg, "sample") != sample))
            return bad(c->err, paths[k], "a linear model's \"why\" block has no background "
                                         "rows");
        sample = num(bg, "sample");
        nb += (size_t)cJSON_GetArraySize(rows);
    }
    if ((double)nb != sample)
        return bad(c->err, paths[0], "the partials' background rows are not the whole sample");
    bg_row *r = aud_malloc((nb + 1) * sizeof *r);
    m->bg = aud_malloc((nb * nf + 1) * sizeof *m->bg);
    if (r == NULL || m->bg == NULL) {
        aud_free(r);
        return aud_error_nomem(c->err);
    }
    size_t q = 0;
    for (size_t k = 0; k < n; k++) {
        const cJSON *bg = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[k], "why"), "background");
        const cJSON *row, *x = cJSON_GetObjectItemCaseSensitive(bg, "x")->child;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(bg, "rows")) {
            r[q++] = (bg_row){cJSON_IsNumber(row) ? row->valuedouble : NAN, x, k};
            x = x->next;
        }
    }
    qsort(r, nb, sizeof *r, cmp_bg);
    int rc = AUD_OK;
    for (size_t i = 0; i < nb && rc == AUD_OK; i++) {
        if (!(r[i].row >= 0) || (i > 0 && r[i].row == r[i - 1].row) ||
            (size_t)cJSON_GetArraySize(r[i].x) != nf) {
            rc = bad(c->err, paths[r[i].part], "its background rows repeat another partial's "
                                               "or are incomplete");
            break;
        }
        size_t j = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, r[i].x) {   /* null: a feature the model does not use */
            if (!cJSON_IsNumber(v) && !cJSON_IsNull(v)) {
                rc = bad(c->err, paths[r[i].part], "a background value is not a number");
                break;
            }
            m->bg[i * nf + j++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        }
    }
    m->n_bg = nb;
    aud_free(r);
    return rc;
}

typedef struct cand {
    size_t        row, part, i;   /* number in the file; partial and its candidate */
    size_t        cell;           /* merged cell */
    unsigned char kind;
} cand;

static int cmp_cand(const void *pa, const void *pb)
{
    size_t a = ((const cand *)pa)->row, b = ((const cand *)pb)->row;
    return (a > b) - (a < b);
}

/* Sampled methods: the partials' candidate rows (shard_why.c sample_json) into m, in file order,
 * each partial's cells mapped to the merged ones (map). */
static int merge_sample(run_ctx *c, aud_why_merged *m, const cJSON *const *docs,
                        const char *const *paths, size_t n, size_t *const *map)
{
    size_t nf = m->n_features, total = 0;
    double nbg = -1;
    const cJSON *w0 = cJSON_GetObjectItemCaseSensitive(docs[0], "why");
    int prob = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(w0, "sample"),
                                                "prob") != NULL;
    for (size_t k = 0; k < n; k++) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(docs[k], "why");
        const cJSON *sm = cJSON_GetObjectItemCaseSensitive(why, "sample");
        size_t u = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sm, "rows"));
        if (!cJSON_IsObject(sm) || num(sm, "per_group") != AUD_WHY_SAMPLE_PER_GROUP ||
            !(num(sm, "background") >= 0) || (k > 0 && num(sm, "background") != nbg) ||
            (cJSON_GetObjectItemCaseSensitive(sm, "prob") != NULL) != prob ||
            (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sm, "cells")) != u ||
            (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sm, "kind")) != u)
            return bad(c->err, paths[k], "a sampled method's \"why\" block has no sample "
                                         "candidates");
        nbg = num(sm, "background");
        total += u;
    }
    m->n_bg_rows = (size_t)nbg;
    cand *cd = aud_malloc((total + 1) * sizeof *cd);
    m->c_row = aud_malloc((total + 1) * sizeof *m->c_row);
    m->c_cell = aud_malloc((total + 1) * sizeof *m->c_cell);
    m->c_kind = aud_malloc(total + 1);
    m->c_x = aud_malloc((total * nf + 1) * sizeof *m->c_x);
    if (prob)
        m->c_prob = aud_malloc((total + 1) * sizeof *m->c_prob);
    double **xs = aud_calloc(n + 1, sizeof *xs), **ps = aud_calloc(n + 1, sizeof *ps);
    int rc = cd && m->c_row && m->c_cell && m->c_kind && m->c_x && xs && ps &&
                     (!prob || m->c_prob != NULL)
                 ? AUD_OK : aud_error_nomem(c->err);
    size_t q = 0;
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        const cJSON *sm = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[k], "why"), "sample");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(sm, "rows")->child;
        const cJSON *ce = cJSON_GetObjectItemCaseSensitive(sm, "cells")->child;
        const cJSON *kd = cJSON_GetObjectItemCaseSensitive(sm, "kind")->child;
        size_t u = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sm, "rows"));
        size_t nc = (size_t)cJSON_GetArraySize(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(docs[k], "why"),
                                             "cells"));
        xs[k] = aud_malloc((u * nf + 1) * sizeof **xs);
        ps[k] = aud_malloc((u + 1) * sizeof **ps);
        if (xs[k] == NULL || ps[k] == NULL) {
            rc = aud_error_nomem(c->err);
            break;
        }
        if (aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(sm, "x"), xs[k], u * nf) != 0 ||
            (prob &&
             aud_merge_read_hex(cJSON_GetObjectItemCaseSensitive(sm, "prob"), ps[k], u) != 0)) {
            rc = bad(c->err, paths[k], "a sample candidate's model inputs or probability are "
                                       "not hex doubles of the model's features");
            break;
        }
        for (size_t i = 0; i < u; i++, r = r->next, ce = ce->next, kd = kd->next) {
            if (!cJSON_IsNumber(r) || !(r->valuedouble >= 0) || r->valuedouble > 9e15 ||
                r->valuedouble != floor(r->valuedouble) || !cJSON_IsNumber(ce) ||
                !(ce->valuedouble >= 0) || ce->valuedouble >= (double)nc ||
                ce->valuedouble != floor(ce->valuedouble) || !cJSON_IsNumber(kd) ||
                !(kd->valuedouble == 1 || kd->valuedouble == 2 || kd->valuedouble == 3)) {
                rc = bad(c->err, paths[k], "a sample candidate has no row, cell or kind");
                break;
            }
            cd[q++] = (cand){(size_t)r->valuedouble, k, i, map[k][(size_t)ce->valuedouble],
                             (unsigned char)kd->valuedouble};
        }
    }
    if (rc == AUD_OK)   /* file order */
        qsort(cd, total, sizeof *cd, cmp_cand);
    for (size_t i = 0; i < total && rc == AUD_OK; i++) {
        const cand *e = &cd[i];
        if (i > 0 && e->row == cd[i - 1].row) {
            rc = bad(c->err, paths[e->part], "its sample candidates repeat another partial's");
            break;
        }
        m->c_row[i] = e->row;
        m->c_cell[i] = e->cell;
        m->c_kind[i] = e->kind;
        memcpy(m->c_x + i * nf, xs[e->part] + e->i * nf, nf * sizeof *m->c_x);
        if (m->c_prob != NULL)
            m->c_prob[i] = ps[e->part][e->i];
    }
    for (size_t k = 0; k < n; k++) {
        aud_free(xs != NULL ? xs[k] : NULL);
        aud_free(ps != NULL ? ps[k] : NULL);
    }
    aud_free(xs);
    aud_free(ps);
    aud_free(cd);
    m->n_cand = total;
    return rc;
}

int aud_merge_why(run_ctx *c, const aud_table *t, const cJSON *const *docs,
                  const char *const *paths, size_t n)
{
    const cJSON *w0 = cJSON_GetObjectItemCaseSensitive(docs[0], "why");
    for (size_t k = 0; k < n; k++) {   /* a partial that cannot: its reason */
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(docs[k], "why");
        const cJSON *skip = cJSON_GetObjectItemCaseSensitive(why, "skipped");
        if (why == NULL || cJSON_IsString(skip)) {
            snprintf(c->mg_why_skip, sizeof c->mg_why_skip, "merged from partials: %s",
                     why == NULL ? "a partial carries no \"why\" sums (made by an older version)"
                                 : skip->valuestring);
            return AUD_OK;
        }
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(why, "columns");
        char *a = cJSON_PrintUnformatted(cols);
        char *b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(w0, "columns"));
        int same = a != NULL && b != NULL && strcmp(a, b) == 0 &&
                   num(why, "features") == num(w0, "features") &&
                   (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(why, "screen")) ==
                        (int)num(w0, "features") ||
                    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(why, "screen_skipped"))) &&
                   cJSON_IsArray(cols) && cJSON_GetArraySize(cols) <= 64 &&
                   (cJSON_GetObjectItemCaseSensitive(why, "prob") != NULL) ==
                       (cJSON_GetObjectItemCaseSensitive(w0, "prob") != NULL) &&
                   cJSON_IsString(cJSON_GetObjectItemCaseSensitive(why, "method")) &&
                   cJSON_IsString(cJSON_GetObjectItemCaseSensitive(w0, "method")) &&
                   strcmp(cJSON_GetObjectItemCaseSensitive(why, "method")->valuestring,
                          cJSON_GetObjectItemCaseSensitive(w0, "method")->valuestring) == 0;
        cJSON_free(a);
        cJSON_free(b);
        if (!same)
            return bad(c->err, paths[k], "its \"why\" block has other attributes or features "
                                         "than the first partial's");
    }
    aud_why_merged *m = aud_calloc(1, sizeof *m);
    size_t **map = aud_calloc(n + 1, sizeof *map);
    long scol[64];
    int rc = m != NULL && map != NULL ? AUD_OK : aud_error_nomem(c->err);
    if (rc == AUD_OK) {
        m->n_attrs = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w0, "columns"));
        m->n_features = (size_t)num(w0, "features");
        if (cJSON_GetObjectItemCaseSensitive(w0, "prob") != NULL &&
            (m->prob = aud_malloc(sizeof *m->prob)) == NULL)
            rc = aud_error_nomem(c->err);
        const cJSON *meth = cJSON_GetObjectItemCaseSensitive(w0, "method");
        if (rc == AUD_OK && strcmp(meth->valuestring, "linear") == 0 &&
            (m->xsum = aud_malloc(sizeof *m->xsum)) == NULL)   /* grown with the cells */
            rc = aud_error_nomem(c->err);
        m->sampled = strcmp(meth->valuestring, "linear") != 0 &&
                     strcmp(meth->valuestring, "tree") != 0;   /* kernel, exact, interventional */
    }
    size_t a = 0, cap = 0;
    const cJSON *nm;
    cJSON_ArrayForEach(nm, cJSON_GetObjectItemCaseSensitive(w0, "columns")) {
        scol[a] = cJSON_IsString(nm) ? aud_table_find(t, nm->valuestring) : -1;
        if (rc == AUD_OK && scol[a] < 0)
            rc = bad(c->err, paths[0], "a \"why\" attribute is not a column");
        a++;
    }
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        uint64_t before = 0, after = 0;
        for (size_t q = 0; q < m->n_cells; q++)
            before += m->count[q];
        rc = add_cells(m, t, scol, cJSON_GetObjectItemCaseSensitive(docs[k], "why"), &map[k],
                       &cap, paths[k], c->err);
        for (size_t q = 0; rc == AUD_OK && q < m->n_cells; q++)
            after += m->count[q];
        if (rc == AUD_OK && (double)(after - before) != num(docs[k], "rows"))
            rc = bad(c->err, paths[k], "the \"why\" cells do not add up to \"rows\"");
    }
    if (rc == AUD_OK && m->xsum != NULL)
        rc = merge_background(c, m, docs, paths, n);
    if (rc == AUD_OK && m->sampled)
        rc = merge_sample(c, m, docs, paths, n, map);
    for (size_t k = 0; k < n && rc == AUD_OK && m->screen_skip[0] == '\0'; k++) {
        const cJSON *sk = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[k], "why"), "screen_skipped");
        if (cJSON_IsString(sk))   /* suppression: drivers only, the proxies said absent */
            snprintf(m->screen_skip, sizeof m->screen_skip, "not merged: %s", sk->valuestring);
    }
    if (rc == AUD_OK && m->screen_skip[0] == '\0' &&
        (m->feat = aud_calloc(m->n_features + 1, sizeof *m->feat)) == NULL)
        rc = aud_error_nomem(c->err);
    for (size_t f = 0; m->feat != NULL && f < m->n_features && rc == AUD_OK; f++)
        rc = merge_feature(c, t, docs, paths, n, map, f, &m->feat[f], m->n_cells);
    for (size_t k = 0; map != NULL && k < n; k++)
        aud_free(map[k]);
    aud_free(map);
    if (rc != AUD_OK) {
        aud_why_merged_free(m);
        return rc;
    }
    c->mg_why = m;
    return AUD_OK;
}
