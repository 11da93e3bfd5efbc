/* test_performance.c - metrics/performance.c at its edges: hand-computed AUC, DeLong variance,
 * ROC points and calibration bins of tiny inputs; rows skipped for missing values; one class;
 * every score tied; a real-valued score (no log-loss, Brier or bins); the probability domain
 * error; ROC thinning keeps curve points with both ends; more rows than one block of the pass
 * (the same at any thread count, a group by row numbers as its rows copied out, the first error
 * in row order). The full comparison with scikit-learn
 * is tests/golden/test_performance_card.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* The AUC by the Mann-Whitney rank sum with average ranks for ties, from a qsort here. */
typedef struct yp {
    double p, y;
} yp;

static int cmp_yp(const void *a, const void *b)
{
    double x = ((const yp *)a)->p, z = ((const yp *)b)->p;
    return (x > z) - (x < z);
}

static double auc_by_ranks(const double *y, const double *p, size_t n)
{
    yp *v = malloc(n * sizeof *v);
    assert_non_null(v);
    size_t m = 0, n1 = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(y[i]) && !isnan(p[i])) {
            v[m++] = (yp){p[i], y[i]};
            n1 += y[i] == 1.0;
        }
    qsort(v, m, sizeof *v, cmp_yp);
    double rsum = 0.0;
    for (size_t i = 0; i < m;) {
        size_t j = i, ones = 0;
        while (j < m && v[j].p == v[i].p)
            ones += v[j++].y == 1.0;
        rsum += (double)ones * ((double)(i + 1) + (double)j) / 2.0;   /* ranks i+1..j */
        i = j;
    }
    free(v);
    return (rsum - (double)n1 * ((double)n1 + 1.0) / 2.0) / ((double)n1 * (double)(m - n1));
}

/* Two results equal bit for bit: every figure, the ROC arrays, the bins. */
static void assert_same_perf(const aud_perf *a, const aud_perf *b)
{
    assert_true(a->n == b->n && a->n_pos == b->n_pos && a->tp == b->tp && a->fp == b->fp &&
                a->tn == b->tn && a->fn == b->fn && a->n_roc == b->n_roc &&
                a->roc_total == b->roc_total);
    assert_memory_equal(&a->auc, &b->auc, sizeof a->auc);
    assert_memory_equal(&a->auc_se, &b->auc_se, sizeof a->auc_se);
    assert_memory_equal(&a->log_loss, &b->log_loss, sizeof a->log_loss);
    assert_memory_equal(&a->brier, &b->brier, sizeof a->brier);
    assert_memory_equal(a->fpr, b->fpr, a->n_roc * sizeof *a->fpr);
    assert_memory_equal(a->tpr, b->tpr, a->n_roc * sizeof *a->tpr);
    assert_memory_equal(a->cal_count, b->cal_count, sizeof a->cal_count);
    assert_memory_equal(a->cal_sum_p, b->cal_sum_p, sizeof a->cal_sum_p);
    assert_memory_equal(a->cal_sum_y, b->cal_sum_y, sizeof a->cal_sum_y);
}

/* More rows than one block (300,007: five blocks of 65,536): the same result at 1 and 3
 * threads, bit for bit; a group given by row numbers equals its rows copied out; counts equal
 * a count made here, log-loss and Brier one pass's sums to 1e-12, the AUC a rank sum made here
 * to 1e-12; the first row in error is
 * the one reported, a probability outside [0, 1] in the second block before a bad label in the
 * fourth, at any thread count. */
static void test_blocks(void **state)
{
    (void)state;
    enum { N = 300007 };
    double *y = malloc(N * sizeof *y), *p = malloc(N * sizeof *p);
    double *ys = malloc(N * sizeof *ys), *ps = malloc(N * sizeof *ps);
    size_t *rows = malloc(N * sizeof *rows);
    assert_true(y != NULL && p != NULL && ys != NULL && ps != NULL && rows != NULL);
    uint64_t r = 88172645463325252ull;
    size_t pos = 0, m = 0, n_sub = 0;
    double ll = 0.0, br = 0.0;
    for (size_t i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        p[i] = (double)(r % 10007) / 10006.0;
        y[i] = (r >> 20) % 53 == 0 ? NAN : (double)((r >> 32) % 1000 < p[i] * 1000);
        if (!isnan(y[i])) {
            double q = p[i] < DBL_EPSILON ? DBL_EPSILON : p[i] > 1 - DBL_EPSILON ? 1 - DBL_EPSILON
                                                                                  : p[i];
            ll -= y[i] == 1.0 ? log(q) : log1p(-q);
            br += (p[i] - y[i]) * (p[i] - y[i]);
            pos += y[i] == 1.0;
            m++;
        }
        if (i % 3 != 1) {   /* a group: two rows of three */
            rows[n_sub] = i;
            ys[n_sub] = y[i];
            ps[n_sub++] = p[i];
        }
    }
    aud_perf a[2], g[2], c;
    aud_error err;
    for (int t = 0; t < 2; t++) {
        aud_perf_opts o = opts(0.5, 1, 400);
        o.threads = t == 0 ? 1 : 3;
        assert_int_equal(aud_perf_compute(y, p, NULL, N, &o, &a[t], &err), AUD_OK);
        assert_int_equal(aud_perf_compute(y, p, rows, n_sub, &o, &g[t], &err), AUD_OK);
    }
    aud_perf_opts o1 = opts(0.5, 1, 400);
    assert_int_equal(aud_perf_compute(ys, ps, NULL, n_sub, &o1, &c, &err), AUD_OK);
    assert_same_perf(&a[0], &a[1]);
    assert_same_perf(&g[0], &g[1]);
    assert_same_perf(&g[0], &c);
    assert_true(a[0].n == m && a[0].n_pos == pos);
    assert_true(fabs(a[0].log_loss - ll / (double)m) <= 1e-12 * (ll / (double)m));
    assert_true(fabs(a[0].brier - br / (double)m) <= 1e-12 * (br / (double)m));
    assert_true(fabs(a[0].auc - auc_by_ranks(y, p, N)) <= 1e-12);
    for (int t = 0; t < 2; t++) {
        aud_perf_free(&a[t]);
        aud_perf_free(&g[t]);
    }
    aud_perf_free(&c);
    y[3 * 65536 + 7] = 2.0;   /* a bad label in the fourth block */
    for (int t = 0; t < 2; t++) {
        aud_perf_opts o = opts(0.5, 1, 400);
        o.threads = t == 0 ? 1 : 3;
        aud_perf bad;
        assert_int_equal(aud_perf_compute(y, p, NULL, N, &o, &bad, &err), AUD_E_DOMAIN);
        assert_non_null(strstr(err.msg, "data row 196615: the label is 2"));
        p[65536 + 3] = 1.5;   /* and before it, a probability outside [0, 1] */
        if (isnan(y[65536 + 3]))
            y[65536 + 3] = 0.0;
        assert_int_equal(aud_perf_compute(y, p, NULL, N, &o, &bad, &err), AUD_E_DOMAIN);
        assert_non_null(strstr(err.msg, "data row 65539: the probability is 1.5"));
        p[65536 + 3] = 0.5;
    }
    free(y);
    free(p);
    free(ys);
    free(ps);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_one_class_and_ties),
        cmocka_unit_test(test_thinning),
        cmocka_unit_test(test_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
