/* run_global.c - the "global" section of audit run (issue 16 item 4, docs/explanations.md
 * "Global views"): permutation importance with repeats and intervals on a seeded sample of the
 * labelled rows, then partial dependence and ICE curves of the most important features. */
#include "audit/run_int.h"
#include "core/io.h"
#include "explainers/global_int.h"
#include "explainers/shap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int add_nums(cJSON *o, const char *key, const double *v, size_t n)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *x = aud_json_num(v[i]);
        if (x == NULL || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            return -1;
        }
    }
    return a == NULL ? -1 : 0;
}

/* One partial_dependence entry: the feature (and class, when cl >= 0), grid, average and the
 * first n_ice ICE curves (rows idx[i]). */
static int add_pdp(run_ctx *c, cJSON *pd, const char *feature, long cl, const double *grid,
                   size_t G, const double *avg, const double *ice, const size_t *idx,
                   size_t n_ice)
{
    cJSON *f = cJSON_CreateObject();
    cJSON *curves = NULL, *rows = NULL;
    if (f == NULL || !cJSON_AddItemToArray(pd, f)) {
        cJSON_Delete(f);
        return aud_error_nomem(c->err);
    }
    if (cJSON_AddStringToObject(f, "feature", feature) == NULL ||
        (cl >= 0 && aud_json_add_num(f, "class", (double)cl)) ||
        add_nums(f, "grid", grid, G) || add_nums(f, "average", avg, G) ||
        (rows = cJSON_AddArrayToObject(f, "ice_rows")) == NULL ||
        (curves = cJSON_AddArrayToObject(f, "ice")) == NULL)
        return aud_error_nomem(c->err);
    for (size_t i = 0; i < n_ice; i++) {   /* the first sampled rows */
        cJSON *r = aud_json_num((double)idx[i]);
        if (r == NULL || !cJSON_AddItemToArray(rows, r)) {
            cJSON_Delete(r);
            return aud_error_nomem(c->err);
        }
        cJSON *one = cJSON_CreateObject();
        int bad = one == NULL || add_nums(one, "v", ice + i * G, G) ||
                  !cJSON_AddItemToArray(curves, cJSON_DetachItemFromObject(one, "v"));
        cJSON_Delete(one);
        if (bad)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

/* features by mean importance, largest first (ties: model order) */
static const double *g_mean;
static int by_importance(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = g_mean[i], y = g_mean[j];
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    if (x != y && !isnan(x))
        return x > y ? -1 : 1;
    return (i > j) - (i < j);
}

int aud_run_global(run_ctx *c)
{
    const aud_spec *s = c->spec;
    const aud_model *m = c->model;
    if (!s->global.enabled)
        return aud_run_skip(c, "global", "disabled in the spec (\"global\": false)");
    if (m == NULL)
        return aud_run_skip(c, "global", "no model in the spec");
    if (c->merged)   /* scale-out: the partials hold no rows of features (docs/scale-out.md) */
        return aud_run_skip(c, "global", "merged from partials: the global views need the rows' "
                            "features (docs/scale-out.md)");
    size_t K = aud_model_n_pred(m);
    int multi = aud_run_multiclass(c);
    if (m->n_outputs > 1 && K == 1)
        return aud_run_skip(c, "global", "the model predicts class indices (multi:softmax), not "
                            "the class probabilities the global views need");
    if (K > 1 && !multi)
        return aud_run_skip(c, "global", "the model has more than one output and is not a "
                            "classifier (multi-output regression)");
    if (multi && s->n_label_positive > 0)
        return aud_run_skip(c, "global", "the label is coded 0/1 by label_positive, but the "
                            "model has one probability per class: the score needs class indices");
    if (c->label == NULL)
        return aud_run_skip(c, "global", "no label: permutation importance needs the outcome");
    size_t N = c->data->n_rows, M = m->n_features;
    size_t *all = aud_malloc((N + 1) * sizeof *all), *idx = NULL, *ord = NULL;
    double *X = NULL, *y = NULL, *grid = NULL, *ice = NULL, *avg = NULL;
    aud_perm_result pr = {0};
    int rc = AUD_OK;
    if (all == NULL)
        return aud_error_nomem(c->err);
    size_t nl = 0;   /* labelled rows, then a seeded sample of them */
    for (size_t i = 0; i < N; i++)
        if (!isnan(c->label[i]))
            all[nl++] = i;
    size_t k = nl < (size_t)s->global.rows ? nl : (size_t)s->global.rows;
    idx = aud_malloc((k + 1) * sizeof *idx);
    X = aud_malloc((k * M + 1) * sizeof *X);
    y = aud_malloc((k + 1) * sizeof *y);
    ord = aud_malloc((M + 1) * sizeof *ord);
    if (!idx || !X || !y || !ord) {
        rc = aud_error_nomem(c->err);
        goto done;
    }
    k = aud_shap_sample_rows(nl, k, s->seed + 3, idx);
    for (size_t i = 0; i < k; i++) {
        size_t r = all[idx[i]];
        idx[i] = r;
        aud_bind_fill_rows(&c->bind, r, r + 1, X + i * M);
        y[i] = c->label[r];
    }
    if (k < 2) {
        rc = aud_run_skip(c, "global", "fewer than 2 labelled rows");
        goto done;
    }
    aud_perm_score kind = multi ? AUD_PERM_AUC_OVR
                                : c->score_is_probability ? AUD_PERM_AUC : AUD_PERM_R2;
    rc = aud_perm_importance(m, X, y, k, kind, (size_t)s->global.repeats, s->seed, c->threads,
                             &pr, c->err);
    if (rc != AUD_OK)
        goto done;
    cJSON *gl = cJSON_AddObjectToObject(c->doc, "global");
    cJSON *feats = gl ? cJSON_AddArrayToObject(gl, "permutation_importance") : NULL;
    if (feats == NULL ||
        cJSON_AddStringToObject(gl, "score", kind == AUD_PERM_AUC_OVR ? "auc_ovr"
                                             : kind == AUD_PERM_AUC ? "auc" : "r2") == NULL ||
        (multi && aud_json_add_num(gl, "classes", (double)K)) ||
        aud_json_add_num(gl, "baseline", pr.baseline) || aud_json_add_num(gl, "rows", (double)k) ||
        aud_json_add_num(gl, "repeats", (double)pr.repeats) ||
        aud_json_add_num(gl, "seed", (double)s->seed)) {
        rc = aud_error_nomem(c->err);
        goto done;
    }
    for (size_t j = 0; j < M; j++)
        ord[j] = j;
    g_mean = pr.mean;
    qsort(ord, M, sizeof *ord, by_importance);
    for (size_t q = 0; q < M && rc == AUD_OK; q++) {
        size_t j = ord[q];
        cJSON *f = cJSON_CreateObject();
        if (f == NULL || !cJSON_AddItemToArray(feats, f) ||
            cJSON_AddStringToObject(f, "feature", m->feature_names ? m->feature_names[j]
                                                                   : c->data->cols[c->bind.cols[j]].name) == NULL ||
            aud_json_add_num(f, "mean", pr.mean[j]) || aud_json_add_num(f, "std", pr.sd[j]) ||
            aud_json_add_num(f, "ci_low", pr.lo[j]) || aud_json_add_num(f, "ci_high", pr.hi[j]) ||
            add_nums(f, "importances", pr.importances + j * pr.repeats, pr.repeats))
            rc = aud_error_nomem(c->err);
    }
    /* partial dependence and ICE of the top features */
    size_t top = (size_t)s->global.top < M ? (size_t)s->global.top : M;
    size_t n_ice = (size_t)s->global.ice_rows < k ? (size_t)s->global.ice_rows : k;
    cJSON *pd = rc == AUD_OK ? cJSON_AddArrayToObject(gl, "partial_dependence") : NULL;
    if (rc == AUD_OK && pd == NULL)
        rc = aud_error_nomem(c->err);
    for (size_t q = 0; q < top && rc == AUD_OK; q++) {
        size_t j = ord[q], G = 0;
        aud_free(grid);
        grid = NULL;
        rc = aud_pdp_grid(X + j, k, M, (size_t)s->global.grid, &grid, &G, c->err);
        if (rc != AUD_OK || G == 0)
            continue;
        aud_free(ice);
        aud_free(avg);
        ice = aud_malloc(k * G * K * sizeof *ice);
        avg = aud_malloc(G * K * sizeof *avg);
        if (ice == NULL || avg == NULL) {
            rc = aud_error_nomem(c->err);
            break;
        }
        rc = aud_pdp_ice(m, X, k, j, grid, G, c->threads, ice, avg, c->err);
        for (size_t cl = 0; cl < K && rc == AUD_OK; cl++)   /* one entry per class */
            rc = add_pdp(c, pd, cJSON_GetStringValue(cJSON_GetObjectItem(
                             cJSON_GetArrayItem(feats, (int)q), "feature")),
                         multi ? (long)cl : -1, grid, G, avg + cl * G, ice + cl * k * G, idx,
                         n_ice);
    }
done:
    aud_perm_result_free(&pr);
    aud_free(all);
    aud_free(idx);
    aud_free(X);
    aud_free(y);
    aud_free(ord);
    aud_free(grid);
    aud_free(ice);
    aud_free(avg);
    return rc;
}
