/* exact_shap.c - brute-force Shapley values (Shapley 1953; Lundberg & Lee 2017, eq. 4):
 * phi_j = sum over S not containing j of |S|! (M - |S| - 1)! / M! * (v(S u {j}) - v(S)),
 * with every one of the 2^M coalition values evaluated. The oracle of the tests; the CLI allows
 * it up to AUD_SHAP_EXACT_MAX_FEATURES features. Also the "masked model" value function shared
 * with KernelSHAP: v(S) = mean over background rows z of f(x_S, z_~S). */
#include "explainers/shap_int.h"

#include <string.h>

int aud_shap_masked_init(aud_shap_masked *g, const aud_model *m, const double *bg, size_t n_bg,
                         int prob)
{
    memset(g, 0, sizeof *g);
    g->model = m;
    g->bg = bg;
    g->n_bg = n_bg;
    g->prob = prob;
    g->row = aud_calloc(m->n_features + m->n_outputs + 1, sizeof *g->row);
    if (g->row == NULL)
        return AUD_E_NOMEM;
    g->out = g->row + m->n_features;
    return AUD_OK;
}

void aud_shap_masked_free(aud_shap_masked *g)
{
    aud_free(g->row);
    g->row = NULL;
    g->out = NULL;
}

int aud_shap_masked_value(void *ctx, const uint64_t *masks, size_t n, double *out)
{
    aud_shap_masked *g = ctx;
    const aud_model *m = g->model;
    size_t M = m->n_features, K = m->n_outputs;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = masks[i];
        double *o = out + i * K;
        for (size_t k = 0; k < K; k++)
            o[k] = 0.0;
        for (size_t b = 0; b < g->n_bg; b++) {
            const double *z = g->bg + b * M;
            for (size_t j = 0; j < M; j++)
                g->row[j] = ((s >> j) & 1u) ? g->x[j] : z[j];
            aud_shap_model_margin(m, g->row, g->out);
            if (g->prob)
                aud_shap_apply_link(m, g->out);
            for (size_t k = 0; k < K; k++)
                o[k] += g->out[k];
        }
        for (size_t k = 0; k < K; k++)
            o[k] /= (double)g->n_bg;
    }
    return AUD_OK;
}

/* Coalition values are computed in blocks of this many masks. */
#define EXACT_BLOCK 256

size_t aud_shap_exact_buf_size(size_t n_players, size_t n_outputs)
{
    return (((size_t)1 << n_players) * n_outputs + n_players + 1);
}

int aud_shap_exact_game_buf(const aud_shap_game *g, double *buf, double *phi)
{
    size_t M = g->n_players, K = g->n_outputs, M1 = M + 1;
    size_t n = (size_t)1 << M;
    double *v = buf, *w = buf + n * K;
    uint64_t masks[EXACT_BLOCK];
    for (size_t s = 0; s < n; s += EXACT_BLOCK) {
        size_t cnt = n - s < EXACT_BLOCK ? n - s : EXACT_BLOCK;
        for (size_t i = 0; i < cnt; i++)
            masks[i] = (uint64_t)(s + i);
        int rc = g->value(g->ctx, masks, cnt, v + s * K);
        if (rc != AUD_OK)
            return rc;
    }
    /* w[s] = s! (M - s - 1)! / M!, by lgamma (exact to a few ulps) */
    for (size_t s = 0; s < M; s++)
        w[s] = exp(lgamma((double)s + 1.0) + lgamma((double)(M - s)) - lgamma((double)M + 1.0));
    for (size_t i = 0; i < K * M1; i++)
        phi[i] = 0.0;
    for (size_t S = 0; S < n; S++) {
        size_t size = (size_t)__builtin_popcountll((unsigned long long)S);
        if (size == M)
            continue;
        for (size_t j = 0; j < M; j++) {
            if ((S >> j) & 1u)
                continue;
            size_t T = S | ((size_t)1 << j);
            for (size_t k = 0; k < K; k++)
                phi[k * M1 + j] += w[size] * (v[T * K + k] - v[S * K + k]);
        }
    }
    for (size_t k = 0; k < K; k++)
        phi[k * M1 + M] = v[k];
    return AUD_OK;
}

int aud_shap_exact_game(const aud_shap_game *g, double *phi, aud_error *err)
{
    if (g->n_players > AUD_SHAP_EXACT_MAX_FEATURES)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "exact Shapley values allow at most %d players, got %zu",
                             AUD_SHAP_EXACT_MAX_FEATURES, g->n_players);
    double *buf = aud_malloc(aud_shap_exact_buf_size(g->n_players, g->n_outputs) * sizeof *buf);
    if (buf == NULL)
        return aud_error_nomem(err);
    int rc = aud_shap_exact_game_buf(g, buf, phi);
    aud_free(buf);
    if (rc != AUD_OK)
        return aud_error_set(err, rc, NULL, 0, 0, "evaluating the game failed");
    return AUD_OK;
}
