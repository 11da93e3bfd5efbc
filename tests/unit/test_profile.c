/* Column profiles (metrics/profile.c): the numeric summaries against GSL's statistics
 * (gsl_stats_mean, gsl_stats_sd, gsl_stats_minmax: another library's two-pass formulas) for every
 * length from 1 to 41 with missing values (NaN) at every position modulo 3, so the four summation
 * lanes meet every tail; a column whose plain sum loses every small value (the compensated sum
 * must give the exact mean); signed zeros; one value; all missing; the same figures at 1 and 3
 * threads; and the categorical counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <gsl/gsl_statistics_double.h>

#include "core/aud.h"
#include "metrics/profile.h"

/* A one-column numeric table over v[0..n). */
static aud_table one_column(aud_column *c, double *v, size_t n)
{
    memset(c, 0, sizeof *c);
    c->name = (char *)"x";
    c->type = AUD_COL_NUMERIC;
    c->num = v;
    aud_table t = {.path = (char *)"", .n_rows = n, .n_cols = 1, .cols = c};
    return t;
}

static aud_profile *profile_of(const aud_table *t, int threads)
{
    aud_profile *p = NULL;
    aud_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(aud_profile_compute(&p, t, threads, &err), AUD_OK);
    assert_non_null(p);
    return p;
}

static void test_numeric_against_gsl(void **state)
{
    (void)state;
    double v[41], present[41];
    for (size_t n = 1; n <= 41; n++) {
        for (int gap = 0; gap < 3; gap++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                /* values of mixed sign and size, a NaN at every third place from `gap` */
                v[i] = (i % 3 == (size_t)gap && n > 1) ? NAN
                                                      : ((double)(i * 7919 % 101) - 50.0) * 1.37e3 +
                                                            1.0 / (double)(i + 3);
                if (!isnan(v[i]))
                    present[m++] = v[i];
            }
            aud_column c;
            aud_table t = one_column(&c, v, n);
            aud_profile *p = profile_of(&t, 1);
            const aud_col_profile *cp = &p->cols[0];
            assert_int_equal(cp->n_present, m);
            double mn, mx;
            gsl_stats_minmax(&mn, &mx, present, 1, m);
            assert_true(cp->min == mn && cp->max == mx);
            double mean = gsl_stats_mean(present, 1, m);
            assert_true(fabs(cp->mean - mean) <= 1e-13 * fabs(mean) + 1e-300);
            if (m >= 2) {
                double sd = gsl_stats_sd(present, 1, m);   /* ddof 1, as pandas */
                assert_true(fabs(cp->std - sd) <= 1e-13 * sd);
            } else {
                assert_true(isnan(cp->std));
            }
            aud_profile_free(p);
        }
    }
}

/* 1e16 + 1 is 1e16 in double precision: summed in order, every 1 after a 1e16 is lost. The
 * values are 1e16, 1, 1, -1e16, 1 repeated (a period of 5, so every one of the four lanes meets
 * the large values and the ones mixed), then 3: the sum is exactly 3 * reps + 3, and the
 * compensated lanes must keep every 1. */
static void test_mean_keeps_small_values(void **state)
{
    (void)state;
    enum { REPS = 1000, N = 5 * REPS + 1 };
    static double v[N];
    static const double period[5] = {1e16, 1.0, 1.0, -1e16, 1.0};
    for (size_t i = 0; i + 1 < N; i++)
        v[i] = period[i % 5];
    v[N - 1] = 3.0;
    aud_column c;
    aud_table t = one_column(&c, v, N);
    aud_profile *p = profile_of(&t, 1);
    assert_true(p->cols[0].mean == (3.0 * REPS + 3.0) / (double)N);
    aud_profile_free(p);
}

/* -0.0 and +0.0 are one value: the smallest and largest of zeros is +0.0 whichever comes first
 * and in whichever lane, as the quantiles are. */
static void test_signed_zeros(void **state)
{
    (void)state;
    double v[] = {-0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.0};
    for (size_t n = 1; n <= sizeof v / sizeof *v; n++) {
        aud_column c;
        aud_table t = one_column(&c, v, n);
        aud_profile *p = profile_of(&t, 1);
        const aud_col_profile *cp = &p->cols[0];
        assert_true(cp->min == 0.0 && !signbit(cp->min));
        assert_true(cp->max == 0.0 && !signbit(cp->max));
        assert_true(cp->mean == 0.0);
        for (int q = 0; q < AUD_PROFILE_N_QUANTILES; q++)
            assert_true(cp->quantiles[q] == 0.0 && !signbit(cp->quantiles[q]));
        aud_profile_free(p);
    }
}

static void test_one_value_and_all_missing(void **state)
{
    (void)state;
    double one[] = {NAN, 2.5, NAN}, none[] = {NAN, NAN};
    aud_column c;
    aud_table t = one_column(&c, one, 3);
    aud_profile *p = profile_of(&t, 1);
    assert_int_equal(p->cols[0].n_present, 1);
    assert_true(p->cols[0].min == 2.5 && p->cols[0].max == 2.5 && p->cols[0].mean == 2.5);
    assert_true(isnan(p->cols[0].std) && p->cols[0].quantiles[2] == 2.5);
    aud_profile_free(p);
    t = one_column(&c, none, 2);
    p = profile_of(&t, 1);
    assert_int_equal(p->cols[0].n_present, 0);
    assert_true(isnan(p->cols[0].min) && isnan(p->cols[0].mean) && isnan(p->cols[0].std));
    aud_profile_free(p);
}

/* Several columns, numeric and categorical, at 1 and 3 threads: the same bits. */
static void test_threads_and_categories(void **state)
{
    (void)state;
    enum { N = 10007 };
    static double a[N], b[N];
    static int32_t codes[N];
    char *levels[] = {(char *)"u", (char *)"v", (char *)"w"};
    for (size_t i = 0; i < N; i++) {
        a[i] = sin((double)i) * 1e3;
        b[i] = i % 11 == 0 ? NAN : (double)(i % 17);
        codes[i] = i % 5 == 0 ? -1 : (int32_t)(i % 7 == 0 ? 2 : i % 2);
    }
    aud_column cols[3];
    memset(cols, 0, sizeof cols);
    cols[0] = (aud_column){.name = (char *)"a", .type = AUD_COL_NUMERIC, .num = a};
    cols[1] = (aud_column){.name = (char *)"b", .type = AUD_COL_NUMERIC, .num = b};
    cols[2] = (aud_column){.name = (char *)"c", .type = AUD_COL_CATEGORICAL, .codes = codes,
                           .levels = levels, .n_levels = 3};
    aud_table t = {.path = (char *)"", .n_rows = N, .n_cols = 3, .cols = cols};
    aud_profile *p1 = profile_of(&t, 1), *p3 = profile_of(&t, 3);
    for (int k = 0; k < 2; k++) {
        const aud_col_profile *x = &p1->cols[k], *y = &p3->cols[k];
        assert_int_equal(x->n_present, y->n_present);
        assert_memory_equal(&x->min, &y->min, sizeof x->min);
        assert_memory_equal(&x->max, &y->max, sizeof x->max);
        assert_memory_equal(&x->mean, &y->mean, sizeof x->mean);
        assert_memory_equal(&x->std, &y->std, sizeof x->std);
        assert_memory_equal(x->quantiles, y->quantiles, sizeof x->quantiles);
    }
    size_t want[3] = {0, 0, 0}, present = 0;
    for (size_t i = 0; i < N; i++) {
        if (codes[i] >= 0) {
            want[codes[i]]++;
            present++;
        }
    }
    assert_int_equal(p1->cols[2].n_present, present);
    assert_int_equal(p3->cols[2].n_present, present);
    for (int l = 0; l < 3; l++) {
        assert_int_equal(p1->cols[2].counts[l], want[l]);
        assert_int_equal(p3->cols[2].counts[l], want[l]);
    }
    aud_profile_free(p1);
    aud_profile_free(p3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_against_gsl),
        cmocka_unit_test(test_mean_keeps_small_values),
        cmocka_unit_test(test_signed_zeros),
        cmocka_unit_test(test_one_value_and_all_missing),
        cmocka_unit_test(test_threads_and_categories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
