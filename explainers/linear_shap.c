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
