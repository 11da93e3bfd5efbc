/* linear_shap.c - SHAP values of a linear model on the margin with independent features:
 * phi_j = w_j (x_j - E[x_j]) (Lundberg & Lee 2017, "Linear SHAP", Corollary 1), E over the
 * background sample. Exact, so it also equals brute-force Shapley values on that background. */
#include "explainers/shap_int.h"

void aud_shap_linear_row(const aud_model *m, const double *mean, const double *x, double *phi)
{
    size_t M = m->n_features, M1 = M + 1;
    for (size_t k = 0; k < m->n_outputs; k++) {
        const double *w = m->coef + k * M;
        double *ph = phi + k * M1;
        double bias = m->base_margin != NULL ? m->base_margin[k] : 0.0;
        for (size_t j = 0; j < M; j++) {
            if (w[j] == 0.0) {   /* unused: its value may be missing */
                ph[j] = 0.0;
                continue;
            }
            ph[j] = w[j] * (x[j] - mean[j]);
            bias += w[j] * mean[j];
        }
        ph[M] = bias;
    }
}

void aud_shap_linear_mean(const double *bg, size_t n_bg, size_t n_features, double *mean)
{
    for (size_t j = 0; j < n_features; j++)
        mean[j] = 0.0;
    for (size_t b = 0; b < n_bg; b++)
        for (size_t j = 0; j < n_features; j++)
            mean[j] += bg[b * n_features + j];
    for (size_t j = 0; j < n_features; j++)
        mean[j] /= (double)n_bg;
}

/* Per cell: sum_i w_j (x_ij - mean_j) = w_j (sum_i x_ij - n mean_j); the base value is the same
 * for every row (aud_shap_linear_row's bias), so the outputs add n bias. */
void aud_shap_linear_cells(const aud_model *m, const double *bg, size_t n_bg,
                           const long double *xsum, const uint64_t *count, size_t n_cells,
                           double *phi, double *out)
{
    size_t M = m->n_features;
    double *mean = aud_malloc((M + 1) * sizeof *mean), *row = aud_malloc((M + 1) * sizeof *row);
    if (mean == NULL || row == NULL) {   /* the caller checked n_bg; NaN says it */
        for (size_t k = 0; k < n_cells; k++) {
            out[k] = NAN;
            for (size_t j = 0; j < M; j++)
                phi[k * M + j] = NAN;
        }
        aud_free(mean);
        aud_free(row);
        return;
    }
    aud_shap_linear_mean(bg, n_bg, M, mean);
    aud_shap_linear_row(m, mean, mean, row);   /* row[M]: the base value, as every row has it */
    const double *w = m->coef;
    for (size_t k = 0; k < n_cells; k++) {
        long double n = (long double)count[k], o = n * row[M];
        for (size_t j = 0; j < M; j++) {
            long double v = w[j] == 0.0 ? 0.0L
                            : (long double)w[j] * (xsum[k * M + j] - n * (long double)mean[j]);
            phi[k * M + j] = (double)v;
            o += v;
        }
        out[k] = (double)o;
    }
    aud_free(mean);
    aud_free(row);
}
