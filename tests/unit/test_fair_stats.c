/* test_fair_stats.c - Wilson, Katz, Fisher and chi-square against statsmodels / scipy reference values
 * (tests/golden/gen_fairness_stats.py -> tests/golden/data/fairness/stats.json), and the summary
 * metrics on hand-computed counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/aud.h"
#include "metrics/fairness.h"
#include "core/io.h"

static cJSON *ref_doc;

static int load_ref(void **state)
{
    (void)state;
    aud_global_init();
    char *text = NULL;
    size_t len = 0;
    aud_error err;
    if (aud_file_read("tests/golden/data/fairness/stats.json", &text, &len, 0, &err) != AUD_OK)
        return -1;
    ref_doc = cJSON_Parse(text);
    aud_free(text);
    return ref_doc == NULL ? -1 : 0;
}

static int free_ref(void **state)
{
    (void)state;
    cJSON_Delete(ref_doc);
    return 0;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_non_null(v);
    return v->valuedouble;
}

/* |a - b| <= abs_tol + rel_tol * |b| */
static void assert_close(double a, double b, double abs_tol, double rel_tol, const char *what)
{
    if (!(fabs(a - b) <= abs_tol + rel_tol * fabs(b))) {
        print_error("%s: got %.17g, expected %.17g\n", what, a, b);
        fail();
    }
}

/* Tolerance: 1e-12 absolute (the closed form differs from statsmodels only by rounding). */
static void test_wilson_matches_statsmodels(void **state)
{
    (void)state;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref_doc, "wilson"))
    {
        double lo, hi;
        aud_fair_wilson((uint64_t)num(c, "x"), (uint64_t)num(c, "n"), num(c, "level"), &lo, &hi);
        assert_close(lo, num(c, "lo"), 1e-12, 0, "wilson lo");
        assert_close(hi, num(c, "hi"), 1e-12, 0, "wilson hi");
        n++;
    }
    assert_true(n > 50);
}

/* Tolerance: 1e-12 relative (the same closed form as statsmodels, up to rounding). Reference:
 * tests/golden/gen_katz.py -> tests/golden/data/fairness/katz.json. */
static void test_katz_matches_statsmodels(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    aud_error err;
    const cJSON *c;
    int n = 0;
    assert_int_equal(aud_file_read("tests/golden/data/fairness/katz.json", &text, &len, 0, &err),
                     AUD_OK);
    cJSON *doc = cJSON_Parse(text);
    aud_free(text);
    assert_non_null(doc);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "katz"))
    {
        double lo, hi;
        aud_fair_katz((uint64_t)num(c, "x1"), (uint64_t)num(c, "n1"), (uint64_t)num(c, "x2"),
                      (uint64_t)num(c, "n2"), num(c, "level"), &lo, &hi);
        assert_close(lo, num(c, "lo"), 0, 1e-12, "katz lo");
        assert_close(hi, num(c, "hi"), 0, 1e-12, "katz hi");
        n++;
    }
    cJSON_Delete(doc);
    assert_true(n > 40);
}

/* A zero count leaves the log ratio unbounded: no interval rather than [0, x] or [x, inf]. */
static void test_katz_zero_count_is_nan(void **state)
{
    (void)state;
    double lo, hi;
    aud_fair_katz(0, 10, 5, 10, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    aud_fair_katz(5, 10, 0, 10, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    aud_fair_katz(5, 10, 5, 10, 1.0, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

static void test_wilson_zero_denominator_is_nan(void **state)
{
    (void)state;
    double lo, hi;
    aud_fair_wilson(0, 0, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

/* Tolerance: 1e-8 relative. Our pmf terms use Loader's saddle-point form (as R's dhyper); on
 * [[300000,700000],[299000,701000]] we agree with a 30-digit mpmath sum to 4e-15 while scipy
 * 1.10 is 3e-10 away from it, so scipy's own error sets the tolerance. */
static void test_fisher_matches_scipy(void **state)
{
    (void)state;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref_doc, "fisher"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "table");
        uint64_t v[4];
        for (int i = 0; i < 4; i++)
            v[i] = (uint64_t)cJSON_GetArrayItem(cJSON_GetArrayItem(t, i / 2), i % 2)->valuedouble;
        double p = aud_fair_fisher_two_sided(v[0], v[1], v[2], v[3]);
        char what[96];
        snprintf(what, sizeof what, "fisher [[%d,%d],[%d,%d]]", (int)v[0], (int)v[1], (int)v[2],
                 (int)v[3]);
        assert_close(p, num(c, "p"), 1e-300, 1e-8, what);
        n++;
    }
    assert_true(n > 40);
}

/* Tolerance: 1e-12 relative against the 30-digit mpmath sums of the generator. */
static void test_fisher_matches_mpmath_on_large_tables(void **state)
{
    (void)state;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref_doc, "fisher_mpmath"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "table");
        uint64_t v[4];
        for (int i = 0; i < 4; i++)
            v[i] = (uint64_t)cJSON_GetArrayItem(cJSON_GetArrayItem(t, i / 2), i % 2)->valuedouble;
        double p = aud_fair_fisher_two_sided(v[0], v[1], v[2], v[3]);
        assert_close(p, num(c, "p"), 0, 1e-12, "fisher vs mpmath");
        n++;
    }
    assert_int_equal(n, 2);
}

/* Hand-computed: [[3,1],[1,3]] has tables a = 0..4 with weights 1, 16, 36, 16, 1 (of 70);
 * two-sided p of a = 3 is (16 + 1 + 16 + 1) / 70. */
static void test_fisher_hand_computed(void **state)
{
    (void)state;
    assert_close(aud_fair_fisher_two_sided(3, 1, 1, 3), 34.0 / 70.0, 0, 1e-12, "3113");
    assert_close(aud_fair_fisher_two_sided(4, 0, 0, 4), 2.0 / 70.0, 0, 1e-12, "4004");
    assert_close(aud_fair_fisher_two_sided(2, 2, 2, 2), 1.0, 0, 1e-12, "2222");
    assert_close(aud_fair_fisher_two_sided(0, 0, 3, 4), 1.0, 0, 0, "empty row");
}

/* Tolerance: statistic 1e-12 relative, p-value 1e-9 relative. */
static void test_chi2_matches_scipy(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref_doc, "chi2"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "table"), *row;
        uint64_t obs[64];
        size_t k = 0;
        cJSON_ArrayForEach(row, t)
        {
            obs[2 * k] = (uint64_t)cJSON_GetArrayItem(row, 0)->valuedouble;
            obs[2 * k + 1] = (uint64_t)cJSON_GetArrayItem(row, 1)->valuedouble;
            k++;
        }
        double st, p;
        long dof;
        const char *why = NULL;
        assert_int_equal(aud_fair_chi2(obs, k, &st, &dof, &p, &why), AUD_OK);
        assert_close(st, num(c, "statistic"), 0, 1e-12, "chi2 statistic");
        assert_close(p, num(c, "p"), 1e-300, 1e-9, "chi2 p");
        assert_int_equal(dof, (long)num(c, "dof"));
    }
}

static void test_chi2_undefined_cases(void **state)
{
    (void)state;
    uint64_t same[4] = {5, 0, 7, 0}, one[2] = {5, 5};
    double st, p;
    long dof;
    const char *why = NULL;
    assert_int_equal(aud_fair_chi2(same, 2, &st, &dof, &p, &why), AUD_E_DOMAIN);
    assert_string_equal(why, "every row has the same prediction");
    assert_true(isnan(st) && isnan(p));
    assert_int_equal(aud_fair_chi2(one, 1, &st, &dof, &p, &why), AUD_E_DOMAIN);
    assert_string_equal(why, "fewer than two groups");
}

/* Two groups, hand-computed.
 * A (reference): n=10, TP=4 FN=1 FP=2 TN=3 -> sel 0.6, TPR 0.8, FPR 0.4, PPV 4/6
 * B:             n=10, TP=2 FN=2 FP=1 TN=5 -> sel 0.3, TPR 0.5, FPR 1/6, PPV 2/3
 * DP diff 0.3, ratio 0.5; EO diff max(0.3, 0.4 - 1/6) = 0.3; EO ratio min(0.625, (1/6)/0.4);
 * EOP diff (B - A) = -0.3; AOD = ((1/6 - 0.4) + (0.5 - 0.8)) / 2; AAOD = (0.2333.. + 0.3) / 2.
 * Benefits b: FN -> 0 (3 rows), TP/TN -> 1 (14 rows), FP -> 2 (3 rows); mu = 20/20 = 1;
 * GEI(2) = (mean(b^2) - 1) / 2 = ((14 + 12) / 20 - 1) / 2 = 0.15;
 * Theil = mean(b ln b) = 3 * 2 ln 2 / 20. */
static void test_summary_hand_computed(void **state)
{
    (void)state;
    aud_fair_counts c[2] = {
        {.n = 10, .sel = 6, .tp = 4, .fp = 2, .tn = 3, .fn = 1},
        {.n = 10, .sel = 3, .tp = 2, .fp = 1, .tn = 5, .fn = 2},
    };
    unsigned char elig[2] = {1, 1};
    aud_fair_val s[AUD_FAIR_N_SUMS];
    aud_fair_summary(c, elig, 2, 0, 1, s);
    assert_close(s[AUD_FAIR_DP_DIFF].v, 0.3, 1e-15, 0, "dp diff");
    assert_close(s[AUD_FAIR_DP_RATIO].v, 0.5, 1e-15, 0, "dp ratio");
    assert_close(s[AUD_FAIR_EO_DIFF].v, 0.3, 1e-15, 0, "eo diff");
    assert_close(s[AUD_FAIR_EO_RATIO].v, (1.0 / 6.0) / 0.4, 1e-15, 0, "eo ratio");
    assert_close(s[AUD_FAIR_EOP_DIFF].v, -0.3, 1e-15, 0, "eop");
    assert_close(s[AUD_FAIR_AOD].v, ((1.0 / 6.0 - 0.4) + (0.5 - 0.8)) / 2.0, 1e-15, 0, "aod");
    assert_close(s[AUD_FAIR_AAOD].v, ((0.4 - 1.0 / 6.0) + 0.3) / 2.0, 1e-15, 0, "aaod");
    assert_close(s[AUD_FAIR_PP_DIFF].v, 0.0, 1e-15, 0, "pp diff");
    assert_close(s[AUD_FAIR_GEI].v, 0.15, 1e-15, 0, "gei");
    assert_close(s[AUD_FAIR_THEIL].v, 3.0 * 2.0 * log(2.0) / 20.0, 1e-15, 0, "theil");
    /* group mean benefits (TP + TN + 2 FP) / L: A (7 + 4) / 10 = 1.1, B (7 + 2) / 10 = 0.9;
     * between-group GEI = (10 (1.21 - 1) + 10 (0.81 - 1)) / 20 / 2 = 0.005 */
    assert_close(s[AUD_FAIR_BGEI].v, 0.005, 1e-15, 0, "bgei");
}

static void test_summary_undefined_rates_give_null(void **state)
{
    (void)state;
    /* group B has no favourable labels: TPR undefined -> EO and EOP undefined, DP defined */
    aud_fair_counts c[2] = {
        {.n = 10, .sel = 6, .tp = 4, .fp = 2, .tn = 3, .fn = 1},
        {.n = 5, .sel = 1, .tp = 0, .fp = 1, .tn = 4, .fn = 0},
    };
    unsigned char elig[2] = {1, 1};
    aud_fair_val s[AUD_FAIR_N_SUMS];
    aud_fair_summary(c, elig, 2, 0, 1, s);
    assert_false(isnan(s[AUD_FAIR_DP_DIFF].v));
    assert_true(isnan(s[AUD_FAIR_EO_DIFF].v));
    assert_non_null(s[AUD_FAIR_EO_DIFF].why);
    assert_true(isnan(s[AUD_FAIR_EOP_DIFF].v));
    /* one eligible group only */
    elig[1] = 0;
    aud_fair_summary(c, elig, 2, 0, 1, s);
    assert_true(isnan(s[AUD_FAIR_DP_DIFF].v));
    assert_string_equal(s[AUD_FAIR_DP_DIFF].why, "fewer than two eligible groups");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson_matches_statsmodels),
        cmocka_unit_test(test_wilson_zero_denominator_is_nan),
        cmocka_unit_test(test_katz_matches_statsmodels),
        cmocka_unit_test(test_katz_zero_count_is_nan),
        cmocka_unit_test(test_fisher_matches_scipy),
        cmocka_unit_test(test_fisher_matches_mpmath_on_large_tables),
        cmocka_unit_test(test_fisher_hand_computed),
        cmocka_unit_test(test_chi2_matches_scipy),
        cmocka_unit_test(test_chi2_undefined_cases),
        cmocka_unit_test(test_summary_hand_computed),
        cmocka_unit_test(test_summary_undefined_rates_give_null),
    };
    return cmocka_run_group_tests(tests, load_ref, free_ref);
}
