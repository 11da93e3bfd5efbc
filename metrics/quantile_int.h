/* quantile_int.h - exact sample quantiles of a large array in a few linear passes. */
#ifndef AUD_QUANTILE_INT_H
#define AUD_QUANTILE_INT_H

#include <stddef.h>

/* Quantiles at the ascending levels q[0..nq) (each in [0, 1], nq <= 16) of the n > 0 values in
 * v (no NaN), numpy's default "linear" definition: h = (n - 1) q, x[floor h] + (h - floor h)
 * (x[floor h + 1] - x[floor h]) over the sorted values x. Exact: every order statistic is one of
 * the values. v may be reordered. Returns 0, or -1 when out of memory (out untouched). */
int aud_quantiles_exact(double *v, size_t n, const double *q, int nq, double *out);

/* aud_quantiles_exact when the smallest and largest value mn <= mx are known (mn > mx: not
 * known): one pass less. */
int aud_quantiles_exact_mm(double *v, size_t n, double mn, double mx, const double *q, int nq,
                           double *out);

/* The order statistics at the ascending, distinct ranks r[0..nr) (each < n, nr <= 32) of the n
 * values in v (no NaN) into val[] (-0.0 as 0.0). v may be reordered. Returns 0, or -1 when out
 * of memory. (The proxy screen's decile edges use numpy's _lerp on them, metrics/assoc.c.) */
int aud_order_stats(double *v, size_t n, const size_t *r, int nr, double *val);
/* The same when the smallest and largest value mn <= mx are known: one pass less. */
int aud_order_stats_mm(double *v, size_t n, const size_t *r, int nr, double *val, double mn,
                       double mx);

#endif
