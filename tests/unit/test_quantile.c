/* Exact quantiles by radix selection (metrics/quantile.c) against a full sort (gsl_sort) and
 * numpy's "linear" definition, on arrays large enough for the radix passes (> 4096 values):
 * continuous values (the wanted buckets are gathered first), heavy ties and integer values (the
 * key ranges are read first), signed zeros, infinities, one repeated value; with the smallest
 * and largest value given (aud_quantiles_exact_mm) and not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <gsl/gsl_sort.h>

#include "core/aud.h"
#include "metrics/quantile_int.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

static double unif(void)   /* xorshift64*, [0, 1) */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 0x2545f4914f6cdd1dU) >> 11) * 0x1.0p-53;
}

static void check(const double *x, size_t n)
{
    static const double q[] = {0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 1.0};
    enum { NQ = sizeof q / sizeof *q };
    double *s = aud_malloc(n * sizeof *s), *v = aud_malloc(n * sizeof *v);
    assert_non_null(s);
    assert_non_null(v);
    memcpy(s, x, n * sizeof *s);
    gsl_sort(s, 1, n);
    double want[NQ], got[NQ];
    for (int k = 0; k < NQ; k++) {
        double h = (double)(n - 1) * q[k];
        size_t lo = (size_t)floor(h);
        double f = h - (double)lo, a = s[lo] == 0.0 ? 0.0 : s[lo];
        want[k] = f != 0.0 && lo + 1 < n ? a + f * (s[lo + 1] - a) : a;
    }
    for (int mode = 0; mode < 2; mode++) {
        memcpy(v, x, n * sizeof *v);
        int rc = mode == 0 ? aud_quantiles_exact(v, n, q, NQ, got)
                           : aud_quantiles_exact_mm(v, n, s[0], s[n - 1], q, NQ, got);
        assert_int_equal(rc, 0);
        for (int k = 0; k < NQ; k++) {
            if (memcmp(&got[k], &want[k], sizeof got[k]) != 0 &&
                !(isnan(got[k]) && isnan(want[k])))
                fail_msg("mode %d q %g: got %.17g, want %.17g", mode, q[k], got[k], want[k]);
        }
    }
    aud_free(s);
    aud_free(v);
}

static void test_quantiles_match_a_full_sort(void **state)
{
    (void)state;
    enum { N = 200003 };
    double *x = aud_malloc(N * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < N; i++)   /* continuous */
        x[i] = (unif() - 0.3) * 1e4;
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* lognormal-ish, wide range */
        x[i] = exp(unif() * 30.0 - 5.0);
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* small integers: many ties */
        x[i] = floor(unif() * 12.0);
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* years */
        x[i] = 1950.0 + floor(unif() * 76.0);
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* signed zeros, infinities, a few values */
        x[i] = (double[]){-0.0, 0.0, INFINITY, -INFINITY, 1.5, -2.0}[(int)(unif() * 6.0)];
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* one value */
        x[i] = 3.25;
    check(x, N);
    for (size_t i = 0; i < N; i++)   /* a cluster inside a wide range: the recursion */
        x[i] = i % 1000 == 0 ? 1e6 * unif() : 1.0 + unif() * 1e-9;
    check(x, N);
    aud_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles_match_a_full_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
