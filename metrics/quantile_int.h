/* quantile_int.h - exact sample quantiles of a large array in a few linear passes. */
#ifndef AUD_QUANTILE_INT_H
#define AUD_QUANTILE_INT_H

#include <stddef.h>

/* Quantiles at the ascending levels q[0..nq) (each in [0, 1], nq <= 16) of the n > 0 values in
 * v (no NaN), numpy's default "linear" definition: h = (n - 1) q, x[floor h] + (h - floor h)
 * (x[floor h + 1] - x[floor h]) over the sorted values x. Exact: every order statistic is one of
 * the values. v may be reordered. Returns 0, or -1 when out of memory (out untouched). */
int aud_quantiles_exact(double *v, size_t n, const double *q, int nq, double *out);

#endif
