/* drift_attr.c - attribution drift: change of mean |SHAP| per feature and of the importance
 * ranking (SPEC section 3, "attribution drift"). Spearman's rank correlation uses average ranks
 * for ties (scipy.stats.spearmanr: Pearson correlation of the ranks). */
#include "metrics/drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"

typedef struct idx_val {
    double v;
    size_t i;
} idx_val;

/* descending by value, then by index (stable ranking) */
static int cmp_desc(const void *a, const void *b)
{
    const idx_val *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* ordinal ranks (1 = largest) into ord, average ranks (ascending order, as scipy rankdata on
 * the values) into avg. */
static void ranks(const double *v, size_t n, idx_val *tmp, size_t *ord, double *avg)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (idx_val){v[i], i};
    qsort(tmp, n, sizeof *tmp, cmp_desc);
    for (size_t r = 0; r < n; r++)
        ord[tmp[r].i] = r + 1;
    /* average ranks in ascending order: value at descending position r has ascending rank
     * n - r; ties get the mean of their ascending ranks */
    for (size_t r = 0; r < n;) {
        size_t e = r;
        while (e + 1 < n && tmp[e + 1].v == tmp[r].v)
            e++;
        double mean = ((double)(n - r) + (double)(n - e)) / 2.0;
        for (size_t q = r; q <= e; q++)
            avg[tmp[q].i] = mean;
        r = e + 1;
    }
}

static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (!(saa > 0 && sbb > 0))
        return NAN;
    return sab / sqrt(saa * sbb);
}

int aud_drift_attribution_json(cJSON *parent, const char *key, const char *const *names,
                               const double *ref, const double *cur, size_t n, aud_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!(ref[i] >= 0 && cur[i] >= 0 && isfinite(ref[i]) && isfinite(cur[i]))) {
            aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                          "mean |SHAP| must be a finite non-negative number");
            return aud_error_field(err, names[i]);
        }
    size_t m = n ? n : 1;
    idx_val *tmp = aud_malloc(m * sizeof *tmp);
    size_t *or_ = aud_malloc(m * sizeof *or_), *oc = aud_malloc(m * sizeof *oc);
    double *ar = aud_malloc(m * sizeof *ar), *ac = aud_malloc(m * sizeof *ac);
    cJSON *o = cJSON_CreateObject();
    int rc = AUD_OK;
    if (tmp == NULL || or_ == NULL || oc == NULL || ar == NULL || ac == NULL || o == NULL)
        goto nomem;
    ranks(ref, n, tmp, or_, ar);
    ranks(cur, n, tmp, oc, ac);
    cJSON *feats = cJSON_AddArrayToObject(o, "features");
    if (feats == NULL)
        goto nomem;
    double maxc = n ? 0.0 : NAN;
    for (size_t i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        if (f == NULL || !cJSON_AddItemToArray(feats, f)) {
            cJSON_Delete(f);
            goto nomem;
        }
        double ch = cur[i] - ref[i];
        maxc = fmax(maxc, fabs(ch));
        if (!cJSON_AddStringToObject(f, "name", names[i]) ||
            aud_json_add_num(f, "mean_abs_reference", ref[i]) ||
            aud_json_add_num(f, "mean_abs_current", cur[i]) || aud_json_add_num(f, "change", ch) ||
            aud_json_add_num(f, "relative_change", ref[i] > 0 ? ch / ref[i] : NAN) ||
            aud_json_add_num(f, "rank_reference", (double)or_[i]) ||
            aud_json_add_num(f, "rank_current", (double)oc[i]) ||
            aud_json_add_num(f, "rank_change", (double)oc[i] - (double)or_[i]))
            goto nomem;
    }
    if (aud_json_add_num(o, "max_abs_change", maxc) ||
        aud_json_add_num(o, "rank_correlation", n >= 2 ? pearson(ar, ac, n) : NAN))
        goto nomem;
    if (!cJSON_AddItemToObject(parent, key, o))
        goto nomem;
    o = NULL;
    goto done;
nomem:
    rc = aud_error_nomem(err);
done:
    cJSON_Delete(o);
    aud_free(tmp);
    aud_free(or_);
    aud_free(oc);
    aud_free(ar);
    aud_free(ac);
    return rc;
}
