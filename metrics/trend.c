/* trend.c - Mann-Kendall test and Sen's slope over run order (see trend_int.h, docs/history.md). */
#include "metrics/trend_int.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sum over groups of tied values of t(t-1)(2t+5), and of t(t-1)/2, for sorted v[0..n) */
static void tie_sums(const double *v, size_t n, double *var_term, double *pairs)
{
    *var_term = 0.0;
    *pairs = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        double t = (double)(j - i);
        *var_term += t * (t - 1.0) * (2.0 * t + 5.0);
        *pairs += t * (t - 1.0) / 2.0;
        i = j;
    }
}

static double median_sorted(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int aud_trend_compute(const double *y, size_t n, double confidence, aud_trend *out,
                      aud_error *err)
{
    if (!(confidence > 0.0 && confidence < 1.0))
        return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0, "confidence must be in (0, 1)");
    out->n = 0;
    out->s = out->var_s = out->z = out->tau = 0.0;
    out->p_value = out->slope = out->slope_low = out->slope_high = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += isfinite(y[i]) != 0;
    out->n = m;
    if (m < 2)
        return AUD_OK;
    double *x = aud_malloc(m * sizeof *x);      /* run order 1..m of the finite values */
    double *v = aud_malloc(m * sizeof *v);
    size_t n_pairs = m * (m - 1) / 2;
    double *slopes = aud_malloc(n_pairs * sizeof *slopes);
    if (x == NULL || v == NULL || slopes == NULL) {
        aud_free(x);
        aud_free(v);
        aud_free(slopes);
        return aud_error_nomem(err);
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        if (isfinite(y[i])) {
            x[k] = (double)(i + 1);
            v[k++] = y[i];
        }
    }
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = i + 1; j < m; j++) {
            double d = v[j] - v[i];
            s += (d > 0) - (d < 0);
            slopes[k++] = d / (x[j] - x[i]);
        }
    }
    double dm = (double)m;
    /* ties: sort a copy of the values */
    memcpy(x, v, m * sizeof *v);
    qsort(x, m, sizeof *x, cmp_double);
    double tie_var, tie_pairs;
    tie_sums(x, m, &tie_var, &tie_pairs);
    out->s = s;
    out->var_s = (dm * (dm - 1.0) * (2.0 * dm + 5.0) - tie_var) / 18.0;
    double n0 = dm * (dm - 1.0) / 2.0;
    double denom = sqrt(n0 * (n0 - tie_pairs));
    out->tau = denom > 0.0 ? s / denom : NAN;
    if (m >= 3 && out->var_s > 0.0) {
        double sd = sqrt(out->var_s);
        out->z = s > 0 ? (s - 1.0) / sd : s < 0 ? (s + 1.0) / sd : 0.0;
        out->p_value = fmin(1.0, 2.0 * gsl_cdf_ugaussian_Q(fabs(out->z)));
    } else if (m >= 3) {
        out->p_value = 1.0;   /* every value equal: no evidence of a trend */
    }
    /* Sen's slope and the interval of Sen (1968) eq. 2.6, with scipy.stats.theilslopes'
     * ranks: Ru = round((N - z sigma) / 2), Rl = round((N + z sigma) / 2) - 1, z the
     * alpha/2 normal quantile (negative), round half to even. The run index has no ties. */
    qsort(slopes, n_pairs, sizeof *slopes, cmp_double);
    out->slope = median_sorted(slopes, n_pairs);
    double z = gsl_cdf_ugaussian_Pinv((1.0 - confidence) / 2.0);
    double sigma = sqrt((dm * (dm - 1.0) * (2.0 * dm + 5.0) - tie_var) / 18.0);
    double nt = (double)n_pairs;
    double ru = nearbyint((nt - z * sigma) / 2.0), rl = nearbyint((nt + z * sigma) / 2.0) - 1.0;
    if (ru > nt - 1.0)
        ru = nt - 1.0;
    if (rl < 0.0)
        rl = 0.0;
    out->slope_low = slopes[(size_t)rl];
    out->slope_high = slopes[(size_t)ru];
    aud_free(x);
    aud_free(v);
    aud_free(slopes);
    return AUD_OK;
}
