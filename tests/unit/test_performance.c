/* test_performance.c - metrics/performance.c at its edges: hand-computed AUC, DeLong variance,
 * ROC points and calibration bins of tiny inputs; rows skipped for missing values; one class;
 * every score tied; a real-valued score (no log-loss, Brier or bins); the probability domain
 * error; ROC thinning keeps curve points with both ends. The full comparison with scikit-learn
 * is tests/golden/test_performance_card.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "metrics/performance_int.h"

static aud_perf_opts opts(double thr, int prob, size_t max_points)
{
    aud_perf_opts o;
    aud_perf_opts_default(&o);
    o.threshold = thr;
    o.probability = prob;
    o.roc_max_points = max_points;
    return o;
}

/* y = 1 scores {0.8, 0.4, 0.6}, y = 0 scores {0.2, 0.4, 0.7}: psi matrix (rows positives)
 * 0.8: 1 1 1; 0.4: 1 .5 0; 0.6: 1 1 0 -> AUC = 6.5 / 9. V10 = {1, .5, 2/3},
 * V01 = {1, 5/6, 1/3}; var = var(V10)/3 + var(V01)/3 (ddof 1). */
static void test_hand_computed(void **state)
{
    (void)state;
    double y[] = {1, 0, 1, 0, 1, 0, NAN, 1};
    double p[] = {0.8, 0.2, 0.4, 0.4, 0.6, 0.7, 0.5, NAN};
    aud_perf_opts o = opts(0.5, 1, 400);
    aud_perf pf;
    aud_error err;
    assert_int_equal(aud_perf_compute(y, p, NULL, 8, &o, &pf, &err), AUD_OK);
    assert_int_equal(pf.n, 6);
    assert_int_equal(pf.n_pos, 3);
    assert_true(fabs(pf.auc - 6.5 / 9.0) < 1e-15);
    double v10[] = {1, 0.5, 2.0 / 3.0}, v01[] = {1, 5.0 / 6.0, 1.0 / 3.0}, m = 6.5 / 9.0;
    double s10 = 0, s01 = 0;
    for (int k = 0; k < 3; k++) {
        s10 += (v10[k] - m) * (v10[k] - m) / 2.0;
        s01 += (v01[k] - m) * (v01[k] - m) / 2.0;
    }
    assert_true(fabs(pf.auc_se - sqrt(s10 / 3.0 + s01 / 3.0)) < 1e-15);
    /* predicted 1 iff p >= 0.5: 0.8, 0.6 (pos), 0.7 (neg) */
    assert_int_equal(pf.tp, 2);
    assert_int_equal(pf.fn, 1);
    assert_int_equal(pf.fp, 1);
    assert_int_equal(pf.tn, 2);
    /* ROC from the top: 0.8 (tp 1), 0.7 (fp 1), 0.6 (tp 2), 0.4 (tp 3, fp 2), 0.2 (fp 3);
     * no point has zero second differences in both counts, so all are kept after (0, 0) */
    assert_int_equal(pf.n_roc, 6);
    assert_int_equal(pf.roc_total, 6);
    double fpr[] = {0, 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1}, tpr[] = {0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1, 1};
    double thr[] = {HUGE_VAL, 0.8, 0.7, 0.6, 0.4, 0.2};
    for (int k = 0; k < 6; k++) {
        assert_true(pf.fpr[k] == fpr[k] && pf.tpr[k] == tpr[k] && pf.thr[k] == thr[k]);
    }
    /* bins (0.1k, 0.1(k+1)]: 0.2 -> bin 1 (0.2 is not above the edge 0.2), 0.4 -> 3,
     * 0.6 -> 5 (0.6 > 5 * 0.1 = 0.5), 0.7 -> 6, 0.8 -> 7 */
    assert_int_equal(pf.cal_count[1], 1);
    assert_int_equal(pf.cal_count[3], 2);
    assert_int_equal(pf.cal_count[5], 1);
    assert_int_equal(pf.cal_count[6], 1);
    assert_int_equal(pf.cal_count[7], 1);
    assert_true(pf.cal_sum_y[3] == 1.0);
    aud_perf_free(&pf);
}

static void test_one_class_and_ties(void **state)
{
    (void)state;
    double y1[] = {1, 1, 1}, p1[] = {0.1, 0.5, 0.9};
    double y2[] = {1, 0, 1, 0}, p2[] = {3, 3, 3, 3};
    aud_perf_opts o = opts(0.5, 1, 400), r = opts(2.0, 0, 400);
    aud_perf pf;
    aud_error err;
    assert_int_equal(aud_perf_compute(y1, p1, NULL, 3, &o, &pf, &err), AUD_OK);
    assert_true(isnan(pf.auc) && isnan(pf.auc_se) && pf.n_roc == 0);
    aud_perf_free(&pf);
    /* every score tied, a real-valued score: AUC 1/2, variance 0, curve (0,0) -> (1,1) */
    assert_int_equal(aud_perf_compute(y2, p2, NULL, 4, &r, &pf, &err), AUD_OK);
    assert_true(pf.auc == 0.5 && pf.auc_se == 0.0);
    assert_int_equal(pf.n_roc, 2);
    assert_true(pf.fpr[1] == 1.0 && pf.tpr[1] == 1.0 && pf.thr[1] == 3.0);
    assert_true(isnan(pf.log_loss) && isnan(pf.brier));
    assert_true(pf.accuracy == 0.5 && pf.tp == 2 && pf.fp == 2);
    aud_perf_free(&pf);
    /* a probability out of [0, 1] is a domain error when the score is a probability */
    assert_int_equal(aud_perf_compute(y2, p2, NULL, 4, &o, &pf, &err), AUD_E_DOMAIN);
}

static void test_thinning(void **state)
{
    (void)state;
    enum { N = 1000 };
    double *y = malloc(N * sizeof *y), *p = malloc(N * sizeof *p);
    assert_non_null(y);
    assert_non_null(p);
    for (int i = 0; i < N; i++) {   /* alternating labels: every point is a corner */
        y[i] = (double)((i * 7919) % 3 == 0);
        p[i] = (double)i / N;
    }
    aud_perf_opts all = opts(0.5, 1, 100000), few = opts(0.5, 1, 50);
    aud_perf a, b;
    aud_error err;
    assert_int_equal(aud_perf_compute(y, p, NULL, N, &all, &a, &err), AUD_OK);
    assert_int_equal(aud_perf_compute(y, p, NULL, N, &few, &b, &err), AUD_OK);
    assert_int_equal(a.n_roc, a.roc_total);
    assert_int_equal(b.n_roc, 50);
    assert_int_equal(b.roc_total, a.roc_total);
    size_t j = 0;
    for (size_t k = 0; k < b.n_roc; k++) {   /* a subsequence of the whole curve */
        while (j < a.n_roc && !(a.fpr[j] == b.fpr[k] && a.tpr[j] == b.tpr[k] && a.thr[j] == b.thr[k]))
            j++;
        assert_true(j < a.n_roc);
    }
    assert_true(b.fpr[49] == a.fpr[a.n_roc - 1] && b.tpr[49] == 1.0 && b.fpr[0] == 0.0);
    aud_perf_free(&a);
    aud_perf_free(&b);
    free(y);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_one_class_and_ties),
        cmocka_unit_test(test_thinning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
