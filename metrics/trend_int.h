/* trend.h - trend of a series of values taken at successive audit runs (SPEC section 8,
 * docs/history.md): the Mann-Kendall rank test and Sen's slope with its confidence interval.
 *
 * The series is indexed by run order 1..n (no ties in time). References: H. B. Mann,
 * "Nonparametric tests against trend", Econometrica 13 (1945); M. G. Kendall, Rank Correlation
 * Methods (1975), variance of S with ties; P. K. Sen, "Estimates of the regression coefficient
 * based on Kendall's tau", JASA 63 (1968), eq. 2.6 for the interval (as scipy.stats.theilslopes);
 * R. O. Gilbert, Statistical Methods for Environmental Pollution Monitoring (1987), ch. 16. */
#ifndef AUD_TREND_H
#define AUD_TREND_H

#include "core/aud.h"

typedef struct aud_trend {
    size_t n;          /* finite values used (NaN values are left out) */
    double s;          /* Mann-Kendall S = sum over i<j of sign(y_j - y_i) */
    double var_s;      /* its variance with the tie correction (exact formula, Kendall 1975) */
    double z;          /* (S - sign(S)) / sqrt(var_s): continuity corrected; 0 when S = 0 */
    double p_value;    /* two-sided, normal approximation; NaN when n < 3 */
    double tau;        /* Kendall's tau-b of (run index, value) */
    double slope;      /* Sen's slope per run: median of the pairwise slopes; NaN when n < 2 */
    double slope_low;  /* its confidence interval at `confidence` (Sen 1968 eq. 2.6) */
    double slope_high;
} aud_trend;

/* Trend of y[0..n) at the given confidence level (e.g. 0.95). Returns AUD_OK, AUD_E_NOMEM, or
 * AUD_E_DOMAIN for a confidence outside (0, 1). */
int aud_trend_compute(const double *y, size_t n, double confidence, aud_trend *out,
                      aud_error *err);

#endif
