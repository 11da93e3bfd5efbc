/* merge_bounds.c - the figures of a merged run that read a column rebuilt from quantile
 * summaries (audit/shard_int.h, c->mg_sum): exact moments put back, bounds stated per figure
 * (docs/scale-out.md "What is exact"). */
#include "audit/shard_int.h"
#include "core/io.h"
#include "metrics/drift_cur_int.h"

#include <math.h>
#include <string.h>

/* The merged summary of the data column named `name`, or NULL. */
static const aud_drift_refsum *sum_of(const run_ctx *c, const char *name, long *col)
{
    long j = name != NULL && c->mg_sum != NULL ? aud_table_find(c->data, name) : -1;
    *col = j;
    return j >= 0 && (size_t)j < c->mg_n && c->mg_sum[j].sketch != NULL ? &c->mg_sum[j] : NULL;
}

static int set_num(cJSON *o, const char *key, double v)
{
    cJSON *n = aud_json_num(v);
    if (n == NULL)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
        return cJSON_ReplaceItemInObjectCaseSensitive(o, key, n) ? 0 : -1;
    if (!cJSON_AddItemToObject(o, key, n)) {
        cJSON_Delete(n);
        return -1;
    }
    return 0;
}

/* Largest rank error of the expanded sample, as a share of the values: for every v, the number
 * of expanded and of true values <= v lie in the same [L(v), U(v)]. */
static double rank_error(const aud_drift_refsum *s)
{
    return s->n > 0 ? aud_sketch_max_gap(s->sketch) / s->n : 0.0;
}

int aud_merge_profile_bounds(run_ctx *c)
{
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(c->doc, "profile"), "columns")) {
        long j;
        const aud_drift_refsum *s = sum_of(c, cJSON_GetStringValue(
                                                  cJSON_GetObjectItemCaseSensitive(o, "name")), &j);
        if (s == NULL)
            continue;
        cJSON *sm = cJSON_AddObjectToObject(o, "summary");
        /* the moments merged exactly (up to summation order); std with ddof 1 */
        if (sm == NULL || set_num(o, "mean", s->mean) != 0 ||
            (s->n > 1 && set_num(o, "std", s->std * sqrt(s->n / (s->n - 1))) != 0) ||
            cJSON_AddBoolToObject(sm, "exact", 0) == NULL ||
            set_num(sm, "quantile_rank_error", rank_error(s)) != 0)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

/* The bound of the column's primary statistic (its "method"). */
static double method_bound(const char *method, const aud_drift_cur_bound *b)
{
    static const char *const names[] = {"ks", "wasserstein", "wasserstein_normed",
                                        "anderson_darling", "cramer_von_mises", "jensen_shannon",
                                        "psi"};
    const double v[] = {b->ks, b->wasserstein, b->wasserstein_normed, b->anderson_darling,
                        b->cramer_von_mises, b->jensen_shannon, b->psi};
    for (size_t i = 0; method != NULL && i < sizeof v / sizeof *v; i++)
        if (strcmp(method, names[i]) == 0)
            return v[i];
    return NAN;
}

static int add_bounds(cJSON *o, const aud_drift_refsum *s, const aud_drift_cur_bound *b)
{
    cJSON *cs = cJSON_AddObjectToObject(o, "current_summary");
    cJSON *bo = cs != NULL ? cJSON_AddObjectToObject(cs, "bounds") : NULL;
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "method"));
    if (bo == NULL || cJSON_AddBoolToObject(cs, "exact", 0) == NULL ||
        cJSON_AddBoolToObject(cs, "psi_exact", b->psi == 0.0) == NULL ||
        cJSON_AddBoolToObject(cs, "n_unique_is_lower_bound", 1) == NULL ||
        set_num(cs, "rank_error", rank_error(s)) != 0 ||
        set_num(bo, "statistic", method_bound(method, b)) != 0 ||
        set_num(bo, "ks_statistic", b->ks) != 0 || set_num(bo, "wasserstein", b->wasserstein) ||
        set_num(bo, "wasserstein_normed", b->wasserstein_normed) != 0 ||
        set_num(bo, "anderson_darling", b->anderson_darling) != 0 ||
        set_num(bo, "cramer_von_mises", b->cramer_von_mises) != 0 ||
        set_num(bo, "jensen_shannon", b->jensen_shannon) != 0 || set_num(bo, "psi", b->psi))
        return -1;
    return 0;
}

/* Distinct finite values of column col of t (a lower bound of the pooled count with the
 * merged one). */
static double distinct_of(const aud_table *t, long col)
{
    if (t == NULL || col < 0 || t->cols[col].type != AUD_COL_NUMERIC)
        return 0.0;
    double *x = aud_malloc((t->n_rows + 1) * sizeof *x);
    size_t m = 0, d = 0;
    if (x == NULL)
        return 0.0;
    for (size_t i = 0; i < t->n_rows; i++)
        if (isfinite(t->cols[col].num[i]))
            x[m++] = t->cols[col].num[i] + 0.0;
    if (aud_drift_sort(x, m) == AUD_OK)
        for (size_t i = 0; i < m; i++)
            d += i == 0 || x[i] != x[i - 1];
    aud_free(x);
    return (double)d;
}

int aud_merge_drift_bounds(run_ctx *c, const aud_drift_result *r)
{
    cJSON *cols = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->doc, "drift"), "columns");
    for (size_t i = 0; r != NULL && c->ref != NULL && i < r->n_cols; i++) {
        const aud_drift_column *col = &r->cols[i];
        long j, jr = aud_table_find(c->ref, col->name);
        const aud_drift_refsum *s = sum_of(c, col->name, &j);
        if (s == NULL || col->kind != AUD_DRIFT_NUMERIC || jr < 0 ||
            c->ref->cols[jr].type != AUD_COL_NUMERIC)
            continue;
        cJSON *o;
        cJSON_ArrayForEach(o, cols) {
            const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
            if (nm != NULL && strcmp(nm, col->name) == 0)
                break;
        }
        if (o == NULL)
            continue;
        aud_drift_cur_bound b;
        int rc = aud_drift_cur_bounds(col, s, c->ref->cols[jr].num, c->ref->n_rows,
                                      c->data->cols[j].num, c->data->n_rows, &b, c->err);
        if (rc != AUD_OK)
            return rc;
        double nu = fmax(distinct_of(c->ref, jr), (double)s->distinct);
        if (add_bounds(o, s, &b) != 0 ||
            (cJSON_GetObjectItemCaseSensitive(o, "mean_current") != NULL &&
             set_num(o, "mean_current", s->mean) != 0) ||
            (cJSON_GetObjectItemCaseSensitive(o, "n_unique") != NULL &&
             set_num(o, "n_unique", nu) != 0))
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}
