/* fair_drivers.c - the decomposition of a group's gap in mean model output into per-feature parts
 * (differences of mean SHAP values; SPEC section 7) and the JSON of drivers and proxies.
 *
 * Identity: for every explained row, sum_j phi_ij + b = m_i (SHAP's local accuracy, Lundberg &
 * Lee 2017, property 1). Averaging over the rows of group g and of the reference r and
 * subtracting, the base value b cancels:
 *     mean_g(m) - mean_r(m) = sum_j [mean_g(phi_j) - mean_r(phi_j)].
 * Sums are kept in long double so that 10^6 rows still meet the identity far below 1e-9. */
#include "metrics/fair_drivers_int.h"
#include "core/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int aud_fdrv_acc_init(aud_fdrv_acc *a, size_t n_groups, size_t n_features, aud_error *err)
{
    memset(a, 0, sizeof *a);
    a->n_groups = n_groups;
    a->n_features = n_features;
    size_t k = n_groups ? n_groups : 1;
    a->count = aud_calloc(k, sizeof *a->count);
    a->out = aud_calloc(k, sizeof *a->out);
    a->prob = aud_calloc(k, sizeof *a->prob);
    a->phi = aud_calloc(k * (n_features ? n_features : 1), sizeof *a->phi);
    if (a->count == NULL || a->out == NULL || a->prob == NULL || a->phi == NULL) {
        aud_fdrv_acc_free(a);
        return aud_error_nomem(err);
    }
    return AUD_OK;
}

void aud_fdrv_acc_free(aud_fdrv_acc *a)
{
    if (a == NULL)
        return;
    aud_free(a->count);
    aud_free(a->out);
    aud_free(a->prob);
    aud_free(a->phi);
    memset(a, 0, sizeof *a);
}

void aud_fdrv_acc_add_sums(aud_fdrv_acc *a, size_t g, uint64_t count, const double *phi_sum,
                           double out_sum, double prob_sum)
{
    if (g >= a->n_groups || count == 0)
        return;
    a->count[g] += count;
    a->out[g] += out_sum;
    if (!isnan(prob_sum)) {
        a->prob[g] += prob_sum;
        a->has_prob = 1;
    }
    for (size_t j = 0; j < a->n_features; j++)
        a->phi[g * a->n_features + j] += phi_sum[j];
}

void aud_fdrv_acc_add(aud_fdrv_acc *a, const int32_t *group, size_t n, const double *phi,
                      size_t stride, const double *prob)
{
    size_t nf = a->n_features;
    a->has_prob |= prob != NULL;
    for (size_t i = 0; i < n; i++) {
        int32_t g = group[i];
        if (g < 0 || (size_t)g >= a->n_groups)
            continue;
        a->count[g]++;
        long double *s = a->phi + (size_t)g * nf;
        const double *p = phi + i * stride;
        double o = p[nf];
        for (size_t j = 0; j < nf; j++) {
            s[j] += p[j];
            o += p[j];
        }
        a->out[g] += o;
        if (prob != NULL)
            a->prob[g] += prob[i];
    }
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static double mean_out(const aud_fdrv_acc *a, size_t g)
{
    return (double)(a->out[g] / (long double)a->count[g]);
}

/* mean_g(phi_j) - mean_r(phi_j) */
static double contribution(const aud_fdrv_acc *a, size_t g, size_t r, size_t j)
{
    size_t nf = a->n_features;
    return (double)(a->phi[g * nf + j] / (long double)a->count[g] -
                    a->phi[r * nf + j] / (long double)a->count[r]);
}

static double gap_of(const aud_fdrv_acc *a, size_t g, size_t r)
{
    return (double)(a->out[g] / (long double)a->count[g] - a->out[r] / (long double)a->count[r]);
}

/* A gap this small (relative to the outputs) has no meaningful shares. */
static int gap_is_zero(const aud_fdrv_acc *a, size_t g, size_t r, double gap)
{
    double scale = fabs(mean_out(a, g)) + fabs(mean_out(a, r)) + 1e-300;
    return fabs(gap) <= 1e-12 * (scale > 1.0 ? scale : 1.0);
}

static int likely_proxy(const aud_fdrv_json_input *in, size_t j, double share)
{
    if (in->assoc == NULL || (in->is_attribute != NULL && in->is_attribute[j]))
        return 0;
    double v = in->assoc[j].association;
    return !isnan(v) && v >= AUD_PROXY_MIN_ASSOCIATION && !isnan(share) &&
           share >= AUD_PROXY_MIN_SHARE;
}

typedef struct key_idx {
    double key;
    size_t idx;
} key_idx;

/* descending key, NaN last, ties by index */
static int cmp_key_desc(const void *pa, const void *pb)
{
    const key_idx *a = pa, *b = pb;
    int na = isnan(a->key), nb = isnan(b->key);
    if (na != nb)
        return na - nb;
    if (!na && a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int add_share(cJSON *o, double share, int zero)
{
    if (aud_json_add_num(o, "share", share) != 0)
        return -1;
    if (zero && cJSON_AddStringToObject(o, "share_reason",
                                        "the gap is zero: no share of it can be given") == NULL)
        return -1;
    return 0;
}

/* The listed features of group g: name, contribution, share and likely_proxy. Returns the sum of
 * the listed contributions in *listed. */
static int features_json(cJSON *fs, const aud_fdrv_json_input *in, const aud_fdrv_acc *a, size_t g,
                         const key_idx *ord, size_t n_list, double *listed)
{
    size_t r = in->reference;
    double gap = gap_of(a, g, r);
    int zero = gap_is_zero(a, g, r, gap);
    *listed = 0.0;
    for (size_t k = 0; k < n_list; k++) {
        size_t j = ord[k].idx;
        double c = contribution(a, g, r, j), share = zero ? NAN : c / gap;
        *listed += c;
        cJSON *f = cJSON_CreateObject();
        if (f == NULL || !cJSON_AddItemToArray(fs, f)) {
            cJSON_Delete(f);
            return -1;
        }
        if (cJSON_AddStringToObject(f, "name", in->features[j]) == NULL ||
            aud_json_add_num(f, "contribution", c) != 0 || add_share(f, share, zero) != 0 ||
            cJSON_AddBoolToObject(f, "likely_proxy", likely_proxy(in, j, share)) == NULL)
            return -1;
    }
    return 0;
}

/* The probability scale: the gap in mean predicted probability, split in the proportions of the
 * margin contributions (contribution = share x probability gap). */
static int probability_json(cJSON *d, const aud_fdrv_json_input *in, size_t g, const key_idx *ord,
                            size_t n_list)
{
    const aud_fdrv_acc *a = in->margin;
    size_t r = in->reference;
    double pgap = (double)(a->prob[g] / (long double)a->count[g] -
                           a->prob[r] / (long double)a->count[r]);
    double gap = gap_of(a, g, r);
    int zero = gap_is_zero(a, g, r, gap);
    cJSON *o = cJSON_AddObjectToObject(d, "probability");
    cJSON *fs = o ? cJSON_AddArrayToObject(o, "features") : NULL;
    if (fs == NULL || aud_json_add_num(o, "gap", pgap) != 0 ||
        cJSON_AddStringToObject(o, "method",
                                "the gap in mean predicted probability split in the proportions "
                                "of the margin contributions (contribution = share x gap)") ==
            NULL)
        return -1;
    double listed = 0.0;
    for (size_t k = 0; k < n_list; k++) {
        size_t j = ord[k].idx;
        double share = zero ? NAN : contribution(a, g, r, j) / gap, c = share * pgap;
        listed += c;
        cJSON *f = cJSON_CreateObject();
        if (f == NULL || !cJSON_AddItemToArray(fs, f)) {
            cJSON_Delete(f);
            return -1;
        }
        if (cJSON_AddStringToObject(f, "name", in->features[j]) == NULL ||
            aud_json_add_num(f, "contribution", c) != 0 || add_share(f, share, zero) != 0)
            return -1;
    }
    if (n_list < a->n_features && aud_json_add_num(o, "other_features", pgap - listed) != 0)
        return -1;
    return 0;
}

/* One driver entry: group g against the reference. */
static int driver_json(cJSON *arr, const aud_fdrv_json_input *in, size_t g, key_idx *ord)
{
    const aud_fdrv_acc *a = in->margin;
    size_t r = in->reference, nf = a->n_features;
    double gap = gap_of(a, g, r);
    for (size_t j = 0; j < nf; j++) {
        ord[j].key = fabs(contribution(a, g, r, j));
        ord[j].idx = j;
    }
    qsort(ord, nf, sizeof *ord, cmp_key_desc);
    size_t n_list = nf < AUD_DRIVERS_MAX_FEATURES ? nf : AUD_DRIVERS_MAX_FEATURES;
    cJSON *d = cJSON_CreateObject();
    if (d == NULL || !cJSON_AddItemToArray(arr, d)) {
        cJSON_Delete(d);
        return -1;
    }
    cJSON *rows = cJSON_AddObjectToObject(d, "rows");
    if (rows == NULL || cJSON_AddStringToObject(d, "group", in->levels[g]) == NULL ||
        cJSON_AddStringToObject(d, "reference", in->levels[r]) == NULL ||
        cJSON_AddStringToObject(d, "scale", "margin") == NULL ||
        aud_json_add_num(d, "gap", gap) != 0 ||
        aud_json_add_num(d, "mean_output", mean_out(a, g)) != 0 ||
        aud_json_add_num(d, "reference_mean_output", mean_out(a, r)) != 0 ||
        aud_json_add_num(rows, "group", (double)a->count[g]) != 0 ||
        aud_json_add_num(rows, "reference", (double)a->count[r]) != 0 ||
        cJSON_AddStringToObject(d, "method", in->method) == NULL ||
        cJSON_AddBoolToObject(d, "small", in->eligible != NULL && !in->eligible[g]) == NULL)
        return -1;
    cJSON *fs = cJSON_AddArrayToObject(d, "features");
    if (fs == NULL)
        return -1;
    double listed = 0.0;
    if (features_json(fs, in, a, g, ord, n_list, &listed) != 0)
        return -1;
    /* the features not listed, together, so that the list still adds up to the gap */
    if (n_list < nf && aud_json_add_num(d, "other_features", gap - listed) != 0)
        return -1;
    if (a->has_prob && probability_json(d, in, g, ord, n_list) != 0)
        return -1;
    return 0;
}

/* The eligible non-reference group with the largest |gap| on the margin (SIZE_MAX: none). */
static size_t disparity_group(const aud_fdrv_json_input *in)
{
    const aud_fdrv_acc *a = in->margin;
    size_t best = SIZE_MAX, r = in->reference;
    double bg = -1.0;
    for (size_t g = 0; g < a->n_groups; g++) {
        if (g == r || a->count[g] == 0 || a->count[r] == 0 ||
            (in->eligible != NULL && !in->eligible[g]))
            continue;
        double v = fabs(gap_of(a, g, r));
        if (v > bg) {
            bg = v;
            best = g;
        }
    }
    return best;
}

static int proxies_json(cJSON *attr, const aud_fdrv_json_input *in, key_idx *ord)
{
    const aud_fdrv_acc *a = in->margin;
    size_t nf = a->n_features, r = in->reference, dg = disparity_group(in);
    cJSON *arr = cJSON_AddArrayToObject(attr, "proxies");
    if (arr == NULL)
        return -1;
    double gap = dg == SIZE_MAX ? NAN : gap_of(a, dg, r);
    int zero = dg == SIZE_MAX || gap_is_zero(a, dg, r, gap);
    for (size_t j = 0; j < nf; j++) {
        ord[j].key = in->assoc[j].association;
        ord[j].idx = j;
    }
    qsort(ord, nf, sizeof *ord, cmp_key_desc);
    for (size_t k = 0; k < nf; k++) {
        size_t j = ord[k].idx;
        const aud_assoc *s = &in->assoc[j];
        double share = zero ? NAN : contribution(a, dg, r, j) / gap;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return -1;
        }
        if (cJSON_AddStringToObject(o, "feature", in->features[j]) == NULL ||
            cJSON_AddStringToObject(o, "measure", s->measure) == NULL ||
            aud_json_add_num(o, "association", s->association) != 0 ||
            (s->why != NULL && cJSON_AddStringToObject(o, "association_reason", s->why) == NULL) ||
            aud_json_add_num(o, "nmi", s->nmi) != 0 ||
            (s->nmi_why != NULL && cJSON_AddStringToObject(o, "nmi_reason", s->nmi_why) == NULL) ||
            aud_json_add_num(o, "rows", (double)s->n) != 0 ||
            aud_json_add_num(o, "disparity_share", share) != 0 ||
            (dg != SIZE_MAX &&
             cJSON_AddStringToObject(o, "disparity_group", in->levels[dg]) == NULL) ||
            (zero && cJSON_AddStringToObject(o, "disparity_share_reason",
                                             dg == SIZE_MAX ? "no eligible group to compare"
                                                            : "the gap is zero") == NULL) ||
            cJSON_AddBoolToObject(o, "is_attribute",
                                  in->is_attribute != NULL && in->is_attribute[j]) == NULL ||
            cJSON_AddBoolToObject(o, "likely_proxy", likely_proxy(in, j, share)) == NULL)
            return -1;
    }
    return 0;
}

int aud_fdrv_json(cJSON *attr, const aud_fdrv_json_input *in, aud_error *err)
{
    const aud_fdrv_acc *a = in->margin;
    size_t nf = a->n_features, r = in->reference;
    key_idx *ord = aud_malloc((nf ? nf : 1) * sizeof *ord);
    cJSON *arr = cJSON_AddArrayToObject(attr, "drivers");
    if (ord == NULL || arr == NULL) {
        aud_free(ord);
        return aud_error_nomem(err);
    }
    int bad = 0;
    for (size_t g = 0; g < a->n_groups && !bad && r < a->n_groups && a->count[r] > 0; g++) {
        if (g != r && a->count[g] > 0)
            bad = driver_json(arr, in, g, ord) != 0;
    }
    if (!bad && in->assoc != NULL)
        bad = proxies_json(attr, in, ord) != 0;
    aud_free(ord);
    return bad ? aud_error_nomem(err) : AUD_OK;
}
