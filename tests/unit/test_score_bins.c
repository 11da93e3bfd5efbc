/* test_score_bins.c - the score bins of partials (audit/shard_int.h, docs/scale-out.md
 * "Continuous model scores"): a bin is an interval [r, h) holding its score, every value in it
 * has the same lower end r (so the bins of every shard and of the merge agree), no cut lies
 * strictly inside, bin numbers give r back and are monotone in r. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "audit/shard_int.h"

#define BITS AUD_PARTIAL_SCORE_BITS

static const double cuts[] = {-2.5, 0.1000000000000000194, 0.5, 0.50000000000000011,
                              0.73, 0.7300000000000001, 3.0};
static const size_t n_cuts = sizeof cuts / sizeof *cuts;

static uint64_t state = 88172645463325252ull;

static double uniform(void)   /* xorshift64 (Marsaglia 2003) in [0, 1) */
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) * 0x1.0p-53;
}

static void check_bin(double s)
{
    double h, r = aud_score_bin(s, cuts, n_cuts, BITS, &h);
    assert_true(r <= s && s < h);
    assert_true((h - r) <= fabs(r) * ldexp(1.0, -BITS) * 2 + 1e-300);   /* width 2^-bits */
    double h2, r2 = aud_score_bin(r, cuts, n_cuts, BITS, &h2);   /* a lower end is its own */
    assert_true(r2 == r && h2 == h);
    double below = nextafter(h, -INFINITY), mid = r + (below - r) * uniform();
    assert_true(aud_score_bin(below, cuts, n_cuts, BITS, NULL) == r);
    assert_true(aud_score_bin(mid, cuts, n_cuts, BITS, NULL) == r);
    assert_true(aud_score_bin(h, cuts, n_cuts, BITS, NULL) == h);   /* the next bin */
    for (size_t q = 0; q < n_cuts; q++)   /* no cut strictly inside a bin */
        assert_false(cuts[q] > r && cuts[q] < h);
    double back;
    uint64_t num = aud_score_bin_number(r, cuts, n_cuts, BITS);
    assert_int_equal(aud_score_bin_value(num, cuts, n_cuts, BITS, &back), 0);
    assert_true(back == r);
    assert_true(aud_score_bin_number(h, cuts, n_cuts, BITS) > num);
}

static void test_bins_hold_their_scores(void **st)
{
    (void)st;
    for (int i = 0; i < 200000; i++) {
        double s = (uniform() - 0.3) * ldexp(1.0, (int)(uniform() * 40) - 20);
        check_bin(s);
    }
    for (size_t q = 0; q < n_cuts; q++) {   /* at and around every cut */
        check_bin(cuts[q]);
        check_bin(nextafter(cuts[q], -INFINITY));
        assert_true(aud_score_bin(cuts[q], cuts, n_cuts, BITS, NULL) == cuts[q]);
        assert_true(aud_score_bin(nextafter(cuts[q], -INFINITY), cuts, n_cuts, BITS, NULL) <
                    cuts[q]);
    }
    check_bin(0.0);
    check_bin(1.0);
    check_bin(DBL_MIN);
    assert_true(aud_score_bin(-0.0, cuts, n_cuts, BITS, NULL) == 0.0);
}

static void test_bin_numbers(void **st)
{
    (void)st;
    double r;
    /* -inf and NaN are their own bins and come back */
    assert_int_equal(aud_score_bin_number(-INFINITY, cuts, n_cuts, BITS), 0);
    assert_int_equal(aud_score_bin_value(0, cuts, n_cuts, BITS, &r), 0);
    assert_true(r == -INFINITY);
    uint64_t nan = aud_score_bin_number(NAN, cuts, n_cuts, BITS);
    assert_int_equal(aud_score_bin_value(nan, cuts, n_cuts, BITS, &r), 0);
    assert_true(isnan(r));
    uint64_t inf = aud_score_bin_number(INFINITY, cuts, n_cuts, BITS);
    assert_int_equal(aud_score_bin_value(inf, cuts, n_cuts, BITS, &r), 0);
    assert_true(r == INFINITY);
    /* a number naming a cut that is not in its prefix's bin is refused */
    uint64_t half = aud_score_bin_number(0.5, cuts, n_cuts, BITS);
    assert_int_equal(aud_score_bin_value(half + 1, cuts, n_cuts, BITS, &r), 0);   /* 0.5+ulp */
    assert_true(r == cuts[3]);
    assert_int_equal(aud_score_bin_value(half + 2, cuts, n_cuts, BITS, &r), -1);
    assert_int_equal(aud_score_bin_value(UINT64_MAX, cuts, n_cuts, BITS, &r), -1);
    /* increasing with the lower end */
    double prev = -1e300;
    uint64_t pn = 0;
    for (int i = 0; i < 10000; i++) {
        double s = prev + fabs(prev) * 0.003 + 1e-12;
        double lo = aud_score_bin(s, cuts, n_cuts, BITS, NULL);
        uint64_t n = aud_score_bin_number(lo, cuts, n_cuts, BITS);
        assert_true(i == 0 || n > pn);
        pn = n;
        prev = s;
        if (s > 1e300)
            break;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins_hold_their_scores),
        cmocka_unit_test(test_bin_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
