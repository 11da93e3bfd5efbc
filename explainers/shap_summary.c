/* shap_summary.c - global summaries of attributions (mean |phi|, mean phi, rank), seeded row
 * samples for beeswarm/dependence plots, and reason codes (adverse-action style: the features
 * pushing a row's output toward the unfavourable outcome). */
#include "explainers/shap_int.h"

#include <string.h>

void aud_shap_summary_free(aud_shap_summary *s)
{
    if (s == NULL)
        return;
    aud_free(s->mean_abs);
    aud_free(s->mean);
    aud_free(s->importance);
    aud_free(s->rank);
    aud_free(s->order);
    aud_free(s->base_value);
    aud_free(s);
}

void aud_shap_summary_add(const aud_shap_result *r, double *sum_abs, double *sum)
{
    size_t M = r->n_features, K = r->n_outputs;
    /* sums in row order: the same for any thread count */
    for (size_t i = 0; i < r->n_rows; i++) {
        const double *row = r->phi + i * r->stride;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < M; j++) {
                double v = row[k * (M + 1) + j];
                sum_abs[k * M + j] += fabs(v);
                sum[k * M + j] += v;
            }
        }
    }
}

int aud_shap_summary_from_sums(aud_shap_summary **out, size_t n, size_t M, size_t K,
                               const double *sum_abs, const double *sum, const double *base,
                               double additivity_max_error, aud_error *err)
{
    aud_shap_summary *s = aud_calloc(1, sizeof *s);
    if (s == NULL)
        return aud_error_nomem(err);
    s->n_rows = n;
    s->n_features = M;
    s->n_outputs = K;
    s->additivity_max_error = additivity_max_error;
    s->mean_abs = aud_calloc(K * M + 1, sizeof *s->mean_abs);
    s->mean = aud_calloc(K * M + 1, sizeof *s->mean);
    s->importance = aud_calloc(M + 1, sizeof *s->importance);
    s->rank = aud_calloc(M + 1, sizeof *s->rank);
    s->order = aud_calloc(M + 1, sizeof *s->order);
    s->base_value = aud_calloc(K + 1, sizeof *s->base_value);
    if (!s->mean_abs || !s->mean || !s->importance || !s->rank || !s->order || !s->base_value) {
        aud_shap_summary_free(s);
        return aud_error_nomem(err);
    }
    memcpy(s->mean_abs, sum_abs, K * M * sizeof *sum_abs);
    memcpy(s->mean, sum, K * M * sizeof *sum);
    for (size_t k = 0; k < K; k++) {
        for (size_t j = 0; j < M; j++) {
            if (n > 0) {
                s->mean_abs[k * M + j] /= (double)n;
                s->mean[k * M + j] /= (double)n;
            }
            s->importance[j] += s->mean_abs[k * M + j];
        }
        s->base_value[k] = n > 0 ? base[k] : NAN;
    }
    /* stable ranking by decreasing importance (insertion sort: M is small) */
    for (size_t j = 0; j < M; j++) {
        size_t p = j;
        while (p > 0 && s->importance[s->order[p - 1]] < s->importance[j]) {
            s->order[p] = s->order[p - 1];
            p--;
        }
        s->order[p] = j;
    }
    for (size_t p = 0; p < M; p++)
        s->rank[s->order[p]] = p + 1;
    *out = s;
    return AUD_OK;
}

int aud_shap_summarize(aud_shap_summary **out, const aud_shap_result *r, aud_error *err)
{
    size_t M = r->n_features, K = r->n_outputs;
    double *sums = aud_calloc(2 * K * M + K + 1, sizeof *sums);
    if (sums == NULL)
        return aud_error_nomem(err);
    aud_shap_summary_add(r, sums, sums + K * M);
    for (size_t k = 0; k < K && r->n_rows > 0; k++)
        sums[2 * K * M + k] = r->phi[k * (M + 1) + M];
    int rc = aud_shap_summary_from_sums(out, r->n_rows, M, K, sums, sums + K * M,
                                        sums + 2 * K * M, r->additivity_max_error, err);
    aud_free(sums);
    return rc;
}

size_t aud_shap_sample_rows(size_t n, size_t k, uint64_t seed, size_t *idx)
{
    if (k >= n) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    /* selection sampling (Knuth, TAOCP 3.4.2, Algorithm S) with splitmix64 */
    uint64_t st = seed;
    size_t got = 0;
    for (size_t i = 0; i < n && got < k; i++) {
        st += 0x9e3779b97f4a7c15ULL;
        uint64_t z = st;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        double u = (double)(z >> 11) * 0x1.0p-53;
        if ((double)(n - i) * u < (double)(k - got))
            idx[got++] = i;
    }
    return got;
}

size_t aud_shap_reasons(const aud_shap_result *r, size_t row, size_t output, int favorable,
                        size_t k, size_t *feat)
{
    size_t M = r->n_features;
    const double *ph = r->phi + row * r->stride + output * (M + 1);
    /* favorable 1: a negative contribution lowers the score, i.e. pushes toward 0 */
    double sign = favorable ? -1.0 : 1.0;
    size_t got = 0;
    if (k == 0)
        return 0;
    for (size_t j = 0; j < M; j++) {
        double v = sign * ph[j];
        if (!(v > 0.0))
            continue;
        if (got == k && !(v > sign * ph[feat[k - 1]]))
            continue;
        /* insert into the top-k list kept in decreasing order; ties keep the lower index first */
        size_t p = got < k ? got++ : k - 1;
        while (p > 0 && sign * ph[feat[p - 1]] < v) {
            feat[p] = feat[p - 1];
            p--;
        }
        feat[p] = j;
    }
    return got;
}
