/* shard_why.c - the "why" block of a partial (audit/shard_int.h, docs/scale-out.md): what the
 * fairness drivers and the proxy screen of the merged run need from the shard's rows, summed per
 * cell of the sensitive attributes' values (a cell = one combination of their values, missing
 * included):
 *   - drivers (docs/fairness.md "Drivers"): the rows, the sums of their attributions, of their
 *     explained outputs (attributions plus base value) and of their predicted probabilities -
 *     the sums audit/fair_why.c adds into each group (tree models, through aud_shap_cells as the
 *     single run);
 *   - proxy screen ("Proxy screen"): per model feature and cell the missing count, the count,
 *     mean and sum of squared deviations of the known values (the correlation ratio; the sum also as two doubles that hold its long double exactly),
 *     and the
 *     values with their counts (a categorical feature: its categories), or a quantile summary
 *     (metrics/sketch.h) when the cell has more than AUD_PARTIAL_EXACT_VALUES distinct values:
 *     Cramer's V, the NMI's contingency counts and whether a feature is discrete follow exactly
 *     from the lists, the decile bins' counts of a summarised cell within the summary's bounds.
 * Linear models: per cell the sums of the rows' model inputs ("xsum") and the block's rows of
 * the single run's background sample ("background"; not from a site); phi follows in the merge;
 * not with --min-cell above 1 (the sums would give suppressed values back). With --min-cell
 * above 1 no "screen" (it lists feature values per cell). Sampled methods (kernel, exact,
 * interventional) explain a bottom-k sample of at most 500 rows per group of the whole file
 * (audit/fair_why_int.h): per cell the block's own bottom-k rows and the block's bottom-k
 * background rows ("sample": their numbers, cells, model inputs and probabilities); every group
 * is a union of cells, so the merge finds the file's sample among them. Not from a site nor
 * with --min-cell above 1 (raw rows): "skipped" with the reason. */
#include "audit/fair_why_int.h"
#include "audit/shard_int.h"
#include "core/io.h"
#include "metrics/drift.h"
#include "metrics/fair_drivers_int.h"
#include "metrics/sketch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHY_MAX_CELLS 4096   /* combinations of the attributes' values in one shard */
#define WHY_SKETCH_K 256     /* entries of a summarised cell's quantile summary */

static int add(cJSON *arr, cJSON *item)
{
    if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

/* Why the shard cannot give the drivers' sums (static text or msg), or NULL; so: the options. */
static const char *why_not(run_ctx *c, aud_shap_opts *so, char *msg, size_t size)
{
    const aud_spec *s = c->spec;
    aud_shap_method m = AUD_SHAP_AUTO;
    if (c->model == NULL || s->n_sensitive == 0 || !s->explain.enabled || s->score != NULL ||
        s->prediction != NULL || c->score == NULL || c->model->n_outputs != 1 ||
        c->model->feature_names == NULL || aud_shap_method_parse(s->explain.method, &m) != 0)
        return "no drivers: the single run computes none for this spec";
    if (c->model->kind == AUD_MODEL_COMMAND)
        return "a model behind a command: drivers need KernelSHAP values";
    aud_shap_opts_default(so);
    so->method = aud_shap_method_resolve(m, c->model);
    so->threads = c->threads > 0 ? c->threads : 1;
    so->seed = c->spec->seed;
    int linear = so->method == AUD_SHAP_LINEAR && c->model->kind == AUD_MODEL_LINEAR;
    if (linear && c->opts->min_cell > 1)
        return "a linear model's input sums, less the values the partial lists, would give the "
               "sum of the values suppressed as rarer than --min-cell (one such value: the value "
               "itself), so they are not shared";
    if (linear)
        return NULL;   /* from the cells' input sums (and the block's background rows) */
    aud_error e;
    aud_error_clear(&e);
    if (so->method == AUD_SHAP_LINEAR && aud_shap_check(c->model, so, &e) != AUD_OK) {
        snprintf(msg, size, "%s", e.msg);   /* method linear for a model that is not */
        return msg;
    }
    if (so->method != AUD_SHAP_TREE && (c->opts->shard_site || c->opts->min_cell > 1)) {
        snprintf(msg, size, "%s SHAP values explain a seeded sample of at most %d rows of each "
                 "group of the whole file, drawn in the merge from the partials' candidate rows "
                 "(their model inputs), which %s does not share",
                 aud_shap_method_name(so->method), AUD_WHY_SAMPLE_PER_GROUP,
                 c->opts->shard_site ? "a site's partial" : "a partial with --min-cell above 1");
        return msg;
    }
    double one = 0.0;   /* the merge draws the background: checked as if drawn */
    so->background = &one;
    so->n_background = 1;
    int ok = aud_shap_check(c->model, so, &e) == AUD_OK;
    so->background = NULL;
    so->n_background = 0;
    if (!ok) {
        snprintf(msg, size, "%s", e.msg);
        return msg;
    }
    return NULL;
}

/* Linear models: per cell the rows and the sums of their model inputs (long double, as two
 * doubles); phi follows in the merge from the background (aud_shap_linear_cells). A feature
 * the model does not use (weight 0) may be missing: not summed. */
static int sums_linear(run_ctx *c, const int32_t *cell, aud_fdrv_acc *acc, int prob)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows, nf = c->model->n_features;
    size_t blk = n < 4096 ? (n ? n : 1) : 4096;
    double *X = aud_malloc(blk * (nf ? nf : 1) * sizeof *X);
    if (X == NULL)
        return aud_error_nomem(c->err);
    const double *w = c->model->coef;
    for (size_t b0 = 0; b0 < n; b0 += blk) {
        size_t m = n - b0 < blk ? n - b0 : blk;
        aud_model_fill_rows(c->model, t, c->bind.cols, b0, b0 + m, X);
        for (size_t i = 0; i < m; i++) {
            size_t k = (size_t)cell[b0 + i];
            long double *s = acc->phi + k * nf;
            acc->count[k]++;
            for (size_t j = 0; j < nf; j++)
                if (w[j] != 0.0)
                    s[j] += X[i * nf + j];
            if (prob)
                acc->prob[k] += c->score[b0 + i];
        }
    }
    aud_free(X);
    return AUD_OK;
}

/* "background": the rows of the single run's linear SHAP background sample (audit/fair_why.c:
 * AUD_SHAP_DEFAULT_BACKGROUND rows of the file drawn with seed + 2) that lie in this block:
 * "rows" their row numbers in the file, "x" their model inputs. */
static int background_json(run_ctx *c, cJSON *why)
{
    size_t N = c->shard_rows_total, r0 = c->shard_row0, n = c->data->n_rows;
    size_t nf = c->model->n_features;
    size_t k = N < AUD_SHAP_DEFAULT_BACKGROUND ? N : AUD_SHAP_DEFAULT_BACKGROUND;
    size_t *idx = aud_malloc((k ? k : 1) * sizeof *idx);
    double *x = aud_malloc((nf ? nf : 1) * sizeof *x);
    cJSON *bg = cJSON_AddObjectToObject(why, "background");
    cJSON *ra = bg != NULL ? cJSON_AddArrayToObject(bg, "rows") : NULL;
    cJSON *xa = bg != NULL ? cJSON_AddArrayToObject(bg, "x") : NULL;
    int bad = idx == NULL || x == NULL || ra == NULL || xa == NULL ||
              aud_json_add_num(bg, "sample", (double)k) != 0;
    k = bad ? 0 : aud_shap_sample_rows(N, k, c->spec->seed + 2, idx);
    for (size_t q = 0; q < k && !bad; q++) {
        if (idx[q] < r0 || idx[q] >= r0 + n)
            continue;
        cJSON *row = cJSON_CreateArray();
        bad = add(ra, aud_json_num((double)idx[q])) != 0 || add(xa, row) != 0;
        aud_model_fill_rows(c->model, c->data, c->bind.cols, idx[q] - r0, idx[q] - r0 + 1, x);
        for (size_t j = 0; j < nf && !bad; j++)
            bad = add(row, aud_json_num(x[j])) != 0;
    }
    aud_free(idx);
    aud_free(x);
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* Tree models: every row's TreeSHAP values summed per cell (explainers/shap_cells.c). */
static int sums_tree(run_ctx *c, const aud_shap_opts *so, const int32_t *cell, size_t nc,
                     aud_fdrv_acc *acc, int prob)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows, nf = c->model->n_features;
    aud_shap_cells *sc = NULL;
    aud_why_feed feed;
    long double *psum = aud_calloc(nc + 1, sizeof *psum);
    int rc = psum != NULL ? AUD_OK : aud_error_nomem(c->err);
    if (rc == AUD_OK)
        rc = aud_why_feed_init(&feed, c->model, t, c->bind.cols, so->threads, c->err);
    else
        memset(&feed, 0, sizeof feed);
    if (rc == AUD_OK)
        rc = aud_shap_cells_new(&sc, c->model, nc, 1, so->threads, c->err);
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += feed.blk) {
        size_t m = n - b0 < feed.blk ? n - b0 : feed.blk;
        for (size_t i = 0; prob && i < m; i++)
            psum[cell[b0 + i]] += c->score[b0 + i];
        rc = aud_why_feed_add(&feed, sc, b0, m, cell + b0, c->err);
    }
    if (rc == AUD_OK) {
        const double *sums = aud_shap_cells_sums(sc);
        const uint64_t *cnt = aud_shap_cells_counts(sc);
        for (size_t k = 0; k < nc; k++) {   /* as audit/fair_why.c explain_cells */
            const double *s0 = sums + k * (nf + 1);
            double out = s0[nf];
            for (size_t j = 0; j < nf; j++)
                out += s0[j];
            aud_fdrv_acc_add_sums(acc, k, cnt[k], s0, out, prob ? (double)psum[k] : NAN);
        }
    }
    aud_shap_cells_free(sc);
    aud_why_feed_free(&feed);
    aud_free(psum);
    return rc;
}

/* Sampled methods: per cell the block's AUD_WHY_SAMPLE_PER_GROUP rows of smallest (key, row)
 * and the block's AUD_SHAP_DEFAULT_BACKGROUND rows of smallest background key (audit/
 * fair_why_int.h), each row once: "sample" with "per_group", "background" (the file's background
 * size), "rows" (numbers in the file), "cells" (the cell of each), "kind" (1: a sample
 * candidate, 2: a background candidate, 3: both), "x" (model inputs) and "prob" (probabilities,
 * classifiers) as hex strings (exact). Counts per cell into count[]. */
static int sample_json(run_ctx *c, cJSON *why, const int32_t *cell, size_t nc, uint64_t *count,
                       int prob)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows, r0 = c->shard_row0, N = c->shard_rows_total;
    size_t nf = c->model->n_features, u = 0;
    size_t nb = N < AUD_SHAP_DEFAULT_BACKGROUND ? N : AUD_SHAP_DEFAULT_BACKGROUND;
    uint64_t seed = c->spec->seed;
    unsigned char *kind = aud_calloc(n ? n : 1, 1);
    aud_why_bottomk *h = aud_calloc(nc + 1, sizeof *h), bh = {NULL, 0, 0};
    double *x = NULL, *p = NULL;
    cJSON *so = cJSON_AddObjectToObject(why, "sample");
    cJSON *ra = so != NULL ? cJSON_AddArrayToObject(so, "rows") : NULL;
    cJSON *ca = so != NULL ? cJSON_AddArrayToObject(so, "cells") : NULL;
    cJSON *ka = so != NULL ? cJSON_AddArrayToObject(so, "kind") : NULL;
    int rc = kind && h && ra && ca && ka &&
                     aud_json_add_num(so, "per_group", AUD_WHY_SAMPLE_PER_GROUP) == 0 &&
                     aud_json_add_num(so, "background", (double)nb) == 0
                 ? AUD_OK : aud_error_nomem(c->err);
    for (size_t k = 0; k < nc; k++)
        count[k] = 0;
    for (size_t i = 0; i < n && rc == AUD_OK; i++)
        count[cell[i]]++;
    for (size_t k = 0; k < nc && rc == AUD_OK; k++)
        rc = aud_why_bottomk_init(&h[k], count[k] < AUD_WHY_SAMPLE_PER_GROUP
                                             ? count[k] : AUD_WHY_SAMPLE_PER_GROUP, c->err);
    if (rc == AUD_OK)
        rc = aud_why_bottomk_init(&bh, nb, c->err);
    for (size_t i = 0; i < n && rc == AUD_OK; i++) {
        aud_why_bottomk_offer(&h[cell[i]], aud_why_key(seed, 0, r0 + i), r0 + i, i);
        aud_why_bottomk_offer(&bh, aud_why_key(seed, 1, r0 + i), r0 + i, i);
    }
    for (size_t k = 0; k < nc && rc == AUD_OK; k++)
        for (size_t q = 0; q < h[k].n; q++)
            kind[h[k].e[q].at] |= 1;
    for (size_t q = 0; q < bh.n && rc == AUD_OK; q++)
        kind[bh.e[q].at] |= 2;
    for (size_t i = 0; i < n && rc == AUD_OK; i++)
        u += kind[i] != 0;
    x = aud_malloc((u * nf + 1) * sizeof *x);
    p = aud_malloc((u + 1) * sizeof *p);
    if (rc == AUD_OK && (x == NULL || p == NULL))
        rc = aud_error_nomem(c->err);
    for (size_t i = 0, q = 0; i < n && rc == AUD_OK; i++) {   /* file order */
        if (kind[i] == 0)
            continue;
        aud_model_fill_rows(c->model, t, c->bind.cols, i, i + 1, x + q * nf);
        p[q++] = prob ? c->score[i] : NAN;
        if (add(ra, aud_json_num((double)(r0 + i))) != 0 ||
            add(ca, aud_json_num((double)cell[i])) != 0 ||
            add(ka, aud_json_num((double)kind[i])) != 0)
            rc = aud_error_nomem(c->err);
    }
    if (rc == AUD_OK && (aud_shard_add_hex(so, "x", x, u * nf) != 0 ||
                         (prob && aud_shard_add_hex(so, "prob", p, u) != 0)))
        rc = aud_error_nomem(c->err);
    for (size_t k = 0; h != NULL && k < nc; k++)
        aud_why_bottomk_free(&h[k]);
    aud_why_bottomk_free(&bh);
    aud_free(h);
    aud_free(kind);
    aud_free(x);
    aud_free(p);
    return rc;
}

/* "cells", "out", "phi", "prob" of the block from the per-cell sums. */
static int sums_json(run_ctx *c, cJSON *why, const aud_fdrv_acc *acc, const size_t *scol,
                     size_t na, const size_t *rep, int linear, int sampled)
{
    cJSON *cells = cJSON_AddArrayToObject(why, "cells");
    cJSON *out = linear || sampled ? cJSON_CreateArray() : cJSON_AddArrayToObject(why, "out");
    cJSON *phi = sampled ? cJSON_CreateArray()
                         : cJSON_AddArrayToObject(why, linear ? "xsum" : "phi");
    cJSON *prob = acc->has_prob ? cJSON_AddArrayToObject(why, "prob") : NULL;
    int bad = cells == NULL || out == NULL || phi == NULL || (acc->has_prob && prob == NULL);
    size_t nf = acc->n_features;
    for (size_t k = 0; k < acc->n_groups && !bad; k++) {
        cJSON *cell = cJSON_CreateArray(), *p = cJSON_CreateArray();
        bad = add(cells, cell) != 0 || add(phi, p) != 0;
        for (size_t a = 0; a < na && !bad; a++)
            bad = add(cell, aud_shard_cell_json(&c->data->cols[scol[a]], rep[k])) != 0;
        bad = bad || add(cell, aud_json_num((double)acc->count[k])) != 0 ||
              add(out, aud_json_num((double)acc->out[k])) != 0 ||
              (prob != NULL && add(prob, aud_json_num((double)acc->prob[k])) != 0);
        for (size_t j = 0; j < nf && !bad; j++) {   /* linear: each sum as two doubles */
            double hi = (double)acc->phi[k * nf + j];
            bad = add(p, aud_json_num(hi)) != 0 ||
                  (linear && add(p, aud_json_num((double)(acc->phi[k * nf + j] - hi))) != 0);
        }
    }
    if (linear || sampled)
        cJSON_Delete(out);
    if (sampled)   /* the cells' counts only: the sums are the merge's */
        cJSON_Delete(phi);
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* ---- build/audit-mpi: the whole columns' decile edges, exactly (a second pass) ----------------
 * The ranks of an MPI run exchange sums (aud_run_opts.shard_exchange), so they can find the
 * whole column's order statistics together: a bisection over the values' order (the IEEE bits,
 * negatives flipped) where each step sums every rank's count of values <= the midpoint, 64
 * steps for every feature and order statistic at once. Every rank then knows the edges that the
 * single run bins at (numpy linear quantiles of the deciles), and a summarised cell carries its
 * exact counts per bin: the merged NMI is exact (docs/scale-out.md). Every rank makes the same
 * exchanges whatever happens on it (a failure is a flag in them), else the others would wait. */

#define WHY_TARGETS (2 * (AUD_ASSOC_BINS - 1))   /* order statistics per feature */

static uint64_t order_key(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double key_value(uint64_t k)
{
    uint64_t u = k >> 63 ? k ^ (UINT64_C(1) << 63) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Values of the sorted v[0..n) whose key is <= k. */
static size_t count_le(const double *v, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (order_key(v[mid]) <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Buffers of the exchanges (allocated before the first, so that no rank leaves them). */
typedef struct pass {
    size_t     nf, nt;
    long long *mine, *before, *total, *r;
    uint64_t  *lo, *hi;
    double    *val;
} pass;

static void pass_free(pass *p)
{
    aud_free(p->mine), aud_free(p->before), aud_free(p->total), aud_free(p->r);
    aud_free(p->lo), aud_free(p->hi), aud_free(p->val);
}

static int xchg(run_ctx *c, pass *p, size_t n)
{
    return c->opts->shard_exchange(c->opts->shard_exchange_ctx, p->mine, p->before, p->total, n);
}

/* The order statistics p->r[t] of the features f0..f1 (sorted[f - f0]: the rank's values,
 * nv[f - f0] of them) into p->val: 64 exchanges. -1 when an exchange failed. */
static int bisect(run_ctx *c, pass *p, size_t f0, size_t f1, double **sorted, const size_t *nv)
{
    size_t t0 = f0 * WHY_TARGETS, nt = (f1 - f0) * WHY_TARGETS;
    for (size_t t = t0; t < t0 + nt; t++) {
        p->lo[t] = 0;
        p->hi[t] = UINT64_MAX;
    }
    for (int step = 0; step < 64; step++) {   /* the same count on every rank */
        for (size_t t = 0; t < nt; t++) {
            uint64_t mid = p->lo[t0 + t] + (p->hi[t0 + t] - p->lo[t0 + t]) / 2;
            size_t f = t / WHY_TARGETS;
            p->mine[t] = sorted[f] != NULL ? (long long)count_le(sorted[f], nv[f], mid) : 0;
        }
        if (xchg(c, p, nt) != 0)
            return -1;
        for (size_t t = 0; t < nt; t++) {
            uint64_t mid = p->lo[t0 + t] + (p->hi[t0 + t] - p->lo[t0 + t]) / 2;
            if (p->total[t] >= p->r[t0 + t] + 1)
                p->hi[t0 + t] = mid;
            else
                p->lo[t0 + t] = mid + 1;
        }
    }
    for (size_t t = t0; t < t0 + nt; t++)
        p->val[t] = key_value(p->lo[t]);
    return 0;
}

/* With shard_exchange: the whole columns' decile edges of every numeric feature into edges
 * (nf x (AUD_ASSOC_BINS - 1), ne[f] of them, equal ones merged as the single run does).
 * Returns 1 when every rank has them, 0 when not (no exchange, a rank not ready or failed).
 * ready: this rank can take part (else it only says so). */
static int exact_edges(run_ctx *c, int ready, double *edges, size_t *ne)
{
    const aud_run_opts *o = c->opts;
    if (o->shard_exchange == NULL || o->shard_site)
        return 0;
    size_t nf = ready ? c->model->n_features : 0, nt = nf * WHY_TARGETS;
    pass p = {nf, nt, aud_calloc(nt + 4, sizeof *p.mine), aud_calloc(nt + 4, sizeof *p.before),
              aud_calloc(nt + 4, sizeof *p.total), aud_calloc(nt + 1, sizeof *p.r),
              aud_calloc(nt + 1, sizeof *p.lo), aud_calloc(nt + 1, sizeof *p.hi),
              aud_calloc(nt + 1, sizeof *p.val)};
    int ok = p.mine && p.before && p.total && p.r && p.lo && p.hi && p.val;
    int have = 0, failed = 0;
    c->why_synced = 1;
    if (ok) {   /* A: is every rank ready? */
        p.mine[0] = !ready;
        p.mine[1] = ready;
        p.mine[2] = 1;
    }
    long long one[3] = {1, 0, 1}, b3[3], t3[3];
    if (!ok && o->shard_exchange(o->shard_exchange_ctx, one, b3, t3, 3) == 0) {
        pass_free(&p);
        return 0;
    }
    if (!ok || xchg(c, &p, 3) != 0 || p.total[0] > 0 || p.total[1] != p.total[2]) {
        pass_free(&p);
        return 0;
    }
    size_t ranks = (size_t)p.total[2], n = c->data->n_rows;
    const aud_table *t = c->data;
    for (size_t f = 0; f < nf; f++) {   /* B: every feature's known values */
        const aud_column *col = &t->cols[c->bind.cols[f]];
        long long m = 0;
        for (size_t i = 0; col->type == AUD_COL_NUMERIC && i < n; i++)
            m += !isnan(col->num[i]);
        p.mine[f] = m;
    }
    if (nf > 0 && xchg(c, &p, nf) != 0) {
        pass_free(&p);
        return 0;
    }
    double *mf = aud_malloc((nf + 1) * sizeof *mf);
    failed |= mf == NULL;
    for (size_t f = 0; f < nf; f++) {
        double m = (double)p.total[f];
        if (mf != NULL)
            mf[f] = m;
        for (int q = 1; q < AUD_ASSOC_BINS; q++) {
            double fl = floor((m - 1.0) * ((double)q / AUD_ASSOC_BINS));
            fl = fl < 0 ? 0 : fl;
            p.r[f * WHY_TARGETS + 2 * (q - 1)] = (long long)fl;
            p.r[f * WHY_TARGETS + 2 * (q - 1) + 1] = (long long)(fl + 1 < m ? fl + 1 : fl);
        }
    }
    /* C: the bisections, features in batches of about 2^25 values per rank */
    size_t per_rank = c->shard_rows_total / (ranks ? ranks : 1) + 1;
    size_t batch = ((size_t)1 << 25) / per_rank;
    batch = batch < 1 ? 1 : batch;
    double **sorted = aud_calloc(batch + 1, sizeof *sorted);
    size_t *nv = aud_calloc(batch + 1, sizeof *nv);
    failed |= sorted == NULL || nv == NULL;
    int broken = 0;
    for (size_t f0 = 0; f0 < nf && !broken; f0 += batch) {
        size_t f1 = f0 + batch < nf ? f0 + batch : nf;
        for (size_t f = f0; f < f1 && sorted != NULL && nv != NULL; f++) {
            const aud_column *col = &t->cols[c->bind.cols[f]];
            double *v = col->type == AUD_COL_NUMERIC ? aud_malloc((n + 1) * sizeof *v) : NULL;
            size_t m = 0;
            failed |= col->type == AUD_COL_NUMERIC && v == NULL;
            for (size_t i = 0; v != NULL && i < n; i++)
                if (!isnan(col->num[i]))
                    v[m++] = col->num[i];
            if (v != NULL && aud_drift_sort(v, m) != AUD_OK) {
                failed = 1;
                m = 0;
            }
            sorted[f - f0] = v;
            nv[f - f0] = m;
        }
        if (sorted != NULL && nv != NULL) {
            broken = bisect(c, &p, f0, f1, sorted, nv) != 0;
        } else {   /* no memory: take part with zeros */
            failed = 1;
            for (int step = 0; step < 64 && !broken; step++) {
                memset(p.mine, 0, (f1 - f0) * WHY_TARGETS * sizeof *p.mine);
                broken = xchg(c, &p, (f1 - f0) * WHY_TARGETS) != 0;
            }
        }
        for (size_t f = f0; f < f1 && sorted != NULL; f++) {
            aud_free(sorted[f - f0]);
            sorted[f - f0] = NULL;
        }
    }
    aud_free(sorted);
    aud_free(nv);
    p.mine[0] = failed;   /* D: did a rank fail? */
    if (!broken && xchg(c, &p, 1) == 0 && p.total[0] == 0) {
        have = 1;
        for (size_t f = 0; f < nf; f++) {   /* numpy linear quantiles, as metrics/assoc.c */
            double m = mf[f];
            ne[f] = 0;
            for (int q = 1; q < AUD_ASSOC_BINS && m > 0; q++) {
                double h = (m - 1.0) * ((double)q / AUD_ASSOC_BINS), g = h - floor(h);
                double a = p.val[f * WHY_TARGETS + 2 * (q - 1)];
                double b = p.val[f * WHY_TARGETS + 2 * (q - 1) + 1], d = b - a;
                double e = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
                double *ef = edges + f * (AUD_ASSOC_BINS - 1);
                if (ne[f] == 0 || e != ef[ne[f] - 1])
                    ef[ne[f]++] = e;
            }
        }
    }
    aud_free(mf);
    pass_free(&p);
    return have;
}

void aud_shard_why_abort(run_ctx *c)
{
    if (c->exchanged && !c->why_synced)
        (void)exact_edges(c, 0, NULL, NULL);
}

/* One cell of a numeric feature: v[0..m) its known values (sorted here), `missing` the rest. */
static int numeric_cell(run_ctx *c, cJSON *o, double *v, size_t m, size_t missing,
                        const double *edges, size_t ne)
{
    if (aud_drift_sort(v, m) != AUD_OK)
        return aud_error_nomem(c->err);
    long double s = 0.0L;
    for (size_t i = 0; i < m; i++)
        s += v[i];
    double mean = m ? (double)(s / (long double)m) : 0.0, m2 = 0.0;
    size_t distinct = 0;
    for (size_t i = 0; i < m; i++) {
        m2 += (v[i] - mean) * (v[i] - mean);
        distinct += i == 0 || v[i] != v[i - 1];
    }
    if (aud_json_add_num(o, "missing", (double)missing) != 0 ||
        aud_json_add_num(o, "n", (double)m) != 0 || aud_json_add_num(o, "mean", mean) != 0 ||
        aud_json_add_num(o, "m2", m2) != 0)
        return aud_error_nomem(c->err);
    double hi = (double)s, lo = (double)(s - (long double)hi);   /* the sum, exactly */
    cJSON *sa = cJSON_AddArrayToObject(o, "sum");
    if (sa == NULL || add(sa, aud_json_num(hi)) != 0 || add(sa, aud_json_num(lo)) != 0)
        return aud_error_nomem(c->err);
    if (distinct > AUD_PARTIAL_EXACT_VALUES && isfinite(v[0]) && isfinite(v[m - 1])) {
        aud_sketch sk;
        int rc = aud_sketch_from_sorted(&sk, v, m, WHY_SKETCH_K, NULL, 0, c->err);
        if (rc != AUD_OK)
            return rc;
        cJSON *sj = aud_sketch_to_json(&sk);
        aud_sketch_free(&sk);
        if (sj == NULL || !cJSON_AddItemToObject(o, "sketch", sj)) {
            cJSON_Delete(sj);
            return aud_error_nomem(c->err);
        }
        cJSON *bins = edges != NULL ? cJSON_AddArrayToObject(o, "bins") : NULL;
        if (edges != NULL && bins == NULL)
            return aud_error_nomem(c->err);
        for (size_t b = 0, i = 0; edges != NULL && b <= ne; b++) {   /* e[b-1] <= x < e[b] */
            size_t i0 = i;
            while (i < m && (b == ne || v[i] < edges[b]))
                i++;
            if (add(bins, aud_json_num((double)(i - i0))) != 0)
                return aud_error_nomem(c->err);
        }
        return AUD_OK;
    }
    cJSON *vals = cJSON_AddArrayToObject(o, "values"), *cnts = cJSON_AddArrayToObject(o, "counts");
    int bad = vals == NULL || cnts == NULL;
    for (size_t i = 0; i < m && !bad;) {
        size_t e = i + 1;
        while (e < m && v[e] == v[i])   /* -0 and +0 one value, as the proxy screen counts */
            e++;
        bad = add(vals, aud_json_num(v[i])) != 0 || add(cnts, aud_json_num((double)(e - i))) != 0;
        i = e;
    }
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* One cell of a categorical feature (a pipeline's text column): its categories with counts. */
static int categorical_cell(run_ctx *c, cJSON *o, const aud_column *col, const size_t *rows,
                            size_t m, uint64_t *cnt)
{
    uint64_t missing = 0;
    memset(cnt, 0, (col->n_levels + 1) * sizeof *cnt);
    for (size_t i = 0; i < m; i++) {
        int32_t k = col->codes[rows[i]];
        if (k < 0)
            missing++;
        else
            cnt[k]++;
    }
    cJSON *vals = cJSON_AddArrayToObject(o, "values"), *cnts = cJSON_AddArrayToObject(o, "counts");
    int bad = vals == NULL || cnts == NULL || aud_json_add_num(o, "missing", (double)missing);
    for (size_t k = 0; k < col->n_levels && !bad; k++) {
        if (cnt[k] > 0)
            bad = add(vals, cJSON_CreateString(col->levels[k])) != 0 ||
                  add(cnts, aud_json_num((double)cnt[k])) != 0;
    }
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* "screen": per model feature its column and, per cell, what the proxy screen needs. */
static int screen_json(run_ctx *c, cJSON *why, const int32_t *cell, size_t nc,
                       const double *edges, const size_t *ne)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows, nf = c->model->n_features, maxl = 1;
    for (size_t f = 0; f < nf; f++)
        if (t->cols[c->bind.cols[f]].n_levels + 1 > maxl)
            maxl = t->cols[c->bind.cols[f]].n_levels + 1;
    size_t *start = aud_calloc(nc + 2, sizeof *start), *rows = aud_malloc((n ? n : 1) *
                                                                          sizeof *rows);
    double *v = aud_malloc((n ? n : 1) * sizeof *v);
    uint64_t *cnt = aud_malloc(maxl * sizeof *cnt);
    cJSON *arr = cJSON_AddArrayToObject(why, "screen");
    int rc = start && rows && v && cnt && arr ? AUD_OK : aud_error_nomem(c->err);
    for (size_t i = 0; rc == AUD_OK && i < n; i++)   /* the rows of each cell, in row order */
        start[cell[i] + 2]++;
    for (size_t k = 0; rc == AUD_OK && k < nc; k++)
        start[k + 2] += start[k + 1];
    for (size_t i = 0; rc == AUD_OK && i < n; i++)
        rows[start[cell[i] + 1]++] = i;
    for (size_t f = 0; f < nf && rc == AUD_OK; f++) {
        const aud_column *col = &t->cols[c->bind.cols[f]];
        cJSON *fo = cJSON_CreateObject(), *ca = NULL;
        const double *ef = edges != NULL && col->type == AUD_COL_NUMERIC
                               ? edges + f * (AUD_ASSOC_BINS - 1) : NULL;
        cJSON *ea = ef != NULL ? cJSON_AddArrayToObject(fo, "edges") : NULL;
        if (add(arr, fo) != 0 || cJSON_AddStringToObject(fo, "column", col->name) == NULL ||
            (ca = cJSON_AddArrayToObject(fo, "cells")) == NULL || (ef != NULL && ea == NULL)) {
            rc = aud_error_nomem(c->err);
            break;
        }
        for (size_t e = 0; ef != NULL && e < ne[f] && rc == AUD_OK; e++)
            if (add(ea, aud_json_num(ef[e])) != 0)
                rc = aud_error_nomem(c->err);
        for (size_t k = 0; k < nc && rc == AUD_OK; k++) {
            const size_t *r = rows + start[k];
            size_t m = start[k + 1] - start[k], nv = 0;
            cJSON *o = cJSON_CreateObject();
            if (add(ca, o) != 0) {
                rc = aud_error_nomem(c->err);
                break;
            }
            if (col->type == AUD_COL_CATEGORICAL) {
                rc = categorical_cell(c, o, col, r, m, cnt);
                continue;
            }
            for (size_t i = 0; i < m; i++)
                if (!isnan(col->num[r[i]]))
                    v[nv++] = col->num[r[i]];
            rc = numeric_cell(c, o, v, nv, m - nv, ef, ef != NULL ? ne[f] : 0);
        }
    }
    aud_free(start);
    aud_free(rows);
    aud_free(v);
    aud_free(cnt);
    return rc;
}

int aud_shard_why(run_ctx *c, cJSON *part)
{
    const aud_spec *s = c->spec;
    cJSON *why = cJSON_AddObjectToObject(part, "why");
    if (why == NULL) {
        (void)exact_edges(c, 0, NULL, NULL);   /* the other ranks' exchanges go on */
        return aud_error_nomem(c->err);
    }
    aud_shap_opts so;
    char msg[512];
    const char *skip = why_not(c, &so, msg, sizeof msg);
    size_t na = s->n_sensitive, n = c->data->n_rows, nc = 0, nf = 0;
    size_t *scol = aud_malloc((na + 1) * sizeof *scol);
    size_t *rep = aud_malloc(WHY_MAX_CELLS * sizeof *rep);
    int32_t *cell = aud_malloc((n ? n : 1) * sizeof *cell);
    aud_fdrv_acc acc;
    memset(&acc, 0, sizeof acc);
    double *edges = NULL;
    size_t *ne = NULL;
    int have = 0;
    int rc = scol && rep && cell ? AUD_OK : aud_error_nomem(c->err);
    for (size_t a = 0; rc == AUD_OK && skip == NULL && a < na; a++) {
        long j = aud_table_find(c->data, s->sensitive[a]);
        if (j < 0)
            skip = "a sensitive attribute is not a column of the data";
        scol[a] = (size_t)j;
    }
    if (rc == AUD_OK && skip == NULL &&
        aud_shard_cells(c->data, scol, na, cell, rep, WHY_MAX_CELLS, &nc) != AUD_OK)
        rc = aud_error_nomem(c->err);
    if (rc == AUD_OK && skip == NULL && nc == SIZE_MAX) {
        snprintf(msg, sizeof msg, "more than %d combinations of the sensitive attributes' "
                 "values in a shard", WHY_MAX_CELLS);
        skip = msg;
    }
    /* audit-mpi: the whole columns' decile edges, found by the ranks together */
    nf = skip == NULL && rc == AUD_OK ? c->model->n_features : 0;
    edges = aud_malloc((nf * (AUD_ASSOC_BINS - 1) + 1) * sizeof *edges);
    ne = aud_calloc(nf + 1, sizeof *ne);
    have = exact_edges(c, skip == NULL && rc == AUD_OK && edges != NULL && ne != NULL,
                           edges, ne);
    if (rc != AUD_OK || skip != NULL) {
        if (rc == AUD_OK && cJSON_AddStringToObject(why, "skipped", skip) == NULL)
            rc = aud_error_nomem(c->err);
        goto done;
    }
    nf = c->model->n_features;
    int prob = c->model->is_classifier;   /* the score is the probability of class 1 */
    if (rc == AUD_OK)
        rc = aud_fdrv_acc_init(&acc, nc, nf, c->err);
    acc.has_prob = prob;   /* "prob" also from an empty shard: every partial alike */
    int linear = so.method == AUD_SHAP_LINEAR, sampled = so.method != AUD_SHAP_TREE && !linear;
    if (sampled)   /* candidate rows instead of sums: no probability sums either */
        acc.has_prob = 0;
    if (rc == AUD_OK && sampled)
        rc = sample_json(c, why, cell, nc, acc.count, prob);
    else if (rc == AUD_OK && nc > 0)   /* nc 0: an empty shard */
        rc = linear ? sums_linear(c, cell, &acc, prob) : sums_tree(c, &so, cell, nc, &acc, prob);
    for (size_t k = 0; rc == AUD_OK && k < nc; k++)   /* cells unite joint cells: never */
        if (acc.count[k] > 0 && acc.count[k] < (uint64_t)c->opts->min_cell)
            rc = aud_error_set(c->err, AUD_E_INTERNAL, NULL, 0, 0,
                               "a \"why\" cell has fewer rows than --min-cell");
    cJSON *cols = rc == AUD_OK ? cJSON_AddArrayToObject(why, "columns") : NULL;
    if (rc == AUD_OK && (cols == NULL || aud_json_add_num(why, "features", (double)nf) != 0 ||
                         cJSON_AddStringToObject(why, "method",
                                                 aud_shap_method_name(so.method)) == NULL))
        rc = aud_error_nomem(c->err);
    for (size_t a = 0; rc == AUD_OK && a < na; a++)
        if (add(cols, cJSON_CreateString(s->sensitive[a])) != 0)
            rc = aud_error_nomem(c->err);
    if (rc == AUD_OK)
        rc = sums_json(c, why, &acc, scol, na, rep, linear, sampled);
    if (rc == AUD_OK && linear && !c->opts->shard_site)
        rc = background_json(c, why);   /* a site's would not be the pooled run's */
    if (rc == AUD_OK && c->opts->min_cell > 1) {
        /* the screen lists feature values per cell of the attributes: none with suppression,
           only the drivers' sums over cells of at least min_cell rows (docs/scale-out.md) */
        if (cJSON_AddStringToObject(why, "screen_skipped",
                                    "a partial with a minimum cell count links no feature value "
                                    "to the sensitive attributes' values (docs/scale-out.md)") ==
            NULL)
            rc = aud_error_nomem(c->err);
    } else if (rc == AUD_OK) {
        rc = screen_json(c, why, cell, nc, have ? edges : NULL, ne);
    }
done:
    aud_free(edges);
    aud_free(ne);
    aud_fdrv_acc_free(&acc);
    aud_free(scol);
    aud_free(rep);
    aud_free(cell);
    return rc;
}
