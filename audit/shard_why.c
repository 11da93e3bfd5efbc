/* shard_why.c - the "why" block of a partial (audit/shard_int.h, docs/scale-out.md): what the
 * fairness drivers and the proxy screen of the merged run need from the shard's rows, summed per
 * cell of the sensitive attributes' values (a cell = one combination of their values, missing
 * included):
 *   - drivers (docs/fairness.md "Drivers"): the rows, the sums of their attributions, of their
 *     explained outputs (attributions plus base value) and of their predicted probabilities -
 *     the sums audit/fair_why.c adds into each group (tree models through aud_shap_cells, linear
 *     models row by row, as the single run does);
 *   - proxy screen ("Proxy screen"): per model feature and cell the missing count, the count,
 *     mean and sum of squared deviations of the known values (the correlation ratio; the sum also as two doubles that hold its long double exactly),
 *     and the
 *     values with their counts (a categorical feature: its categories), or a quantile summary
 *     (metrics/sketch.h) when the cell has more than AUD_PARTIAL_EXACT_VALUES distinct values:
 *     Cramer's V, the NMI's contingency counts and whether a feature is discrete follow exactly
 *     from the lists, the decile bins' counts of a summarised cell within the summary's bounds.
 * Sampled methods (kernel, exact, interventional) draw at most 500 rows per group of the whole
 * file, which a shard cannot do alone: "skipped" with the reason. */
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
    if (c->opts->min_cell > 1)
        return "a partial with a minimum cell count carries no per-group feature statistics "
               "(docs/scale-out.md)";
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
    if ((so->method != AUD_SHAP_TREE && so->method != AUD_SHAP_LINEAR) ||
        aud_shap_method_uses_background(so->method)) {
        snprintf(msg, size, "%s SHAP values explain a seeded sample of at most %d rows of each "
                 "group of the whole file, which a shard cannot draw alone",
                 aud_shap_method_name(so->method), AUD_WHY_SAMPLE_PER_GROUP);
        return msg;
    }
    aud_error e;
    aud_error_clear(&e);
    if (aud_shap_check(c->model, so, &e) != AUD_OK) {
        snprintf(msg, size, "%s", e.msg);
        return msg;
    }
    return NULL;
}

/* Tree models: every row's TreeSHAP values summed per cell (explainers/shap_cells.c). */
static int sums_tree(run_ctx *c, const aud_shap_opts *so, const int32_t *cell, size_t nc,
                     aud_fdrv_acc *acc, int prob)
{
    const aud_table *t = c->data;
    size_t n = t->n_rows, nf = c->model->n_features;
    size_t blk = ((size_t)1 << 22) / (nf ? nf : 1);
    blk = blk > ((size_t)1 << 18) ? (size_t)1 << 18 : blk < 256 ? 256 : blk;
    blk = n < blk ? (n ? n : 1) : blk;
    aud_shap_cells *sc = NULL;
    double *X = aud_malloc(blk * (nf ? nf : 1) * sizeof *X);
    long double *psum = aud_calloc(nc + 1, sizeof *psum);
    int rc = X != NULL && psum != NULL ? AUD_OK : aud_error_nomem(c->err);
    if (rc == AUD_OK)
        rc = aud_shap_cells_new(&sc, c->model, nc, 1, so->threads, c->err);
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += blk) {
        size_t m = n - b0 < blk ? n - b0 : blk;
        aud_model_fill_rows(c->model, t, c->bind.cols, b0, b0 + m, X);
        for (size_t i = 0; prob && i < m; i++)
            psum[cell[b0 + i]] += c->score[b0 + i];
        rc = aud_shap_cells_add(sc, X, m, cell + b0, NULL, c->err);
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
    aud_free(X);
    aud_free(psum);
    return rc;
}

/* Linear models: the rows explained block by block, added per cell. */
static int sums_rows(run_ctx *c, const aud_shap_opts *so, const int32_t *cell,
                     aud_fdrv_acc *acc, int prob)
{
    size_t n = c->data->n_rows, nf = c->model->n_features, blk = 4096;
    double *X = aud_malloc(blk * (nf ? nf : 1) * sizeof *X);
    int rc = X != NULL ? AUD_OK : aud_error_nomem(c->err);
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += blk) {
        size_t m = n - b0 < blk ? n - b0 : blk;
        aud_model_fill_rows(c->model, c->data, c->bind.cols, b0, b0 + m, X);
        aud_shap_result *r = NULL;
        rc = aud_shap_explain(&r, c->model, X, m, so, c->err);
        if (rc == AUD_OK)
            aud_fdrv_acc_add(acc, cell + b0, m, r->phi, r->stride, prob ? c->score + b0 : NULL);
        aud_shap_result_free(r);
    }
    aud_free(X);
    return rc;
}

/* "cells", "out", "phi", "prob" of the block from the per-cell sums. */
static int sums_json(run_ctx *c, cJSON *why, const aud_fdrv_acc *acc, const size_t *scol,
                     size_t na, const size_t *rep)
{
    cJSON *cells = cJSON_AddArrayToObject(why, "cells");
    cJSON *out = cJSON_AddArrayToObject(why, "out");
    cJSON *phi = cJSON_AddArrayToObject(why, "phi");
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
        for (size_t j = 0; j < nf && !bad; j++)
            bad = add(p, aud_json_num((double)acc->phi[k * nf + j])) != 0;
    }
    return bad ? aud_error_nomem(c->err) : AUD_OK;
}

/* One cell of a numeric feature: v[0..m) its known values (sorted here), `missing` the rest. */
static int numeric_cell(run_ctx *c, cJSON *o, double *v, size_t m, size_t missing)
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
static int screen_json(run_ctx *c, cJSON *why, const int32_t *cell, size_t nc)
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
        if (add(arr, fo) != 0 || cJSON_AddStringToObject(fo, "column", col->name) == NULL ||
            (ca = cJSON_AddArrayToObject(fo, "cells")) == NULL) {
            rc = aud_error_nomem(c->err);
            break;
        }
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
            rc = numeric_cell(c, o, v, nv, m - nv);
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
    if (why == NULL)
        return aud_error_nomem(c->err);
    aud_shap_opts so;
    char msg[512];
    const char *skip = why_not(c, &so, msg, sizeof msg);
    size_t na = s->n_sensitive, n = c->data->n_rows, nc = 0, nf = 0;
    size_t *scol = aud_malloc((na + 1) * sizeof *scol);
    size_t *rep = aud_malloc(WHY_MAX_CELLS * sizeof *rep);
    int32_t *cell = aud_malloc((n ? n : 1) * sizeof *cell);
    aud_fdrv_acc acc;
    memset(&acc, 0, sizeof acc);
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
    if (rc == AUD_OK && skip != NULL) {
        if (cJSON_AddStringToObject(why, "skipped", skip) == NULL)
            rc = aud_error_nomem(c->err);
        goto done;
    }
    nf = c->model->n_features;
    int prob = c->model->is_classifier;   /* the score is the probability of class 1 */
    if (rc == AUD_OK)
        rc = aud_fdrv_acc_init(&acc, nc, nf, c->err);
    if (rc == AUD_OK && so.method == AUD_SHAP_TREE)
        rc = sums_tree(c, &so, cell, nc, &acc, prob);
    else if (rc == AUD_OK)
        rc = sums_rows(c, &so, cell, &acc, prob);
    cJSON *cols = rc == AUD_OK ? cJSON_AddArrayToObject(why, "columns") : NULL;
    if (rc == AUD_OK && (cols == NULL || aud_json_add_num(why, "features", (double)nf) != 0 ||
                         cJSON_AddStringToObject(why, "method",
                                                 aud_shap_method_name(so.method)) == NULL))
        rc = aud_error_nomem(c->err);
    for (size_t a = 0; rc == AUD_OK && a < na; a++)
        if (add(cols, cJSON_CreateString(s->sensitive[a])) != 0)
            rc = aud_error_nomem(c->err);
    if (rc == AUD_OK)
        rc = sums_json(c, why, &acc, scol, na, rep);
    if (rc == AUD_OK)
        rc = screen_json(c, why, cell, nc);
done:
    aud_fdrv_acc_free(&acc);
    aud_free(scol);
    aud_free(rep);
    aud_free(cell);
    return rc;
}
