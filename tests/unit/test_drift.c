/* test_drift.c - drift statistics against scipy 1.10 golden values (tests/golden/gen_drift.py),
 * primary-test rules, binning, thread invariance, fault injection. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"
#include "metrics/drift.h"
#include "metrics/drift_int.h"
#include "core/io.h"

#define CASES "tests/golden/data/drift/stats_cases.json"
#define STAT_RTOL 1e-9   /* statistics: SPEC section 3 */
#define P_RTOL 1e-6      /* p-values: SPEC section 3 */

static cJSON *load_cases(void)
{
    char *text = NULL;
    size_t len = 0;
    aud_error err;
    aud_error_clear(&err);
    assert_int_equal(aud_file_read(CASES, &text, &len, 0, &err), AUD_OK);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    aud_free(text);
    assert_non_null(doc);
    return doc;
}

/* |a - b| <= rtol |b| + atol, or both "missing" (json null <-> NaN). */
static void check_close(const char *what, const char *label, double a, const cJSON *b,
                        double rtol, double atol)
{
    if (b == NULL || cJSON_IsNull(b)) {
        if (!isnan(a))
            fail_msg("%s [%s]: expected no value, got %.17g", what, label, a);
        return;
    }
    double e = b->valuedouble;
    if (!(fabs(a - e) <= rtol * fabs(e) + atol))
        fail_msg("%s [%s]: got %.17g, scipy %.17g (rel %.3g)", what, label, a, e,
                 fabs(a - e) / fabs(e));
}

static double *json_array(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = aud_malloc((*n ? *n : 1) * sizeof *v);
    assert_non_null(v);
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) v[i++] = x->valuedouble;
    return v;
}

static void test_two_sample_cases_match_scipy(void **state)
{
    (void)state;
    cJSON *doc = load_cases();
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "two_sample"))
    {
        const char *label = cJSON_GetObjectItemCaseSensitive(c, "label")->valuestring;
        size_t n1, n2;
        double *x = json_array(cJSON_GetObjectItemCaseSensitive(c, "x"), &n1);
        double *y = json_array(cJSON_GetObjectItemCaseSensitive(c, "y"), &n2);
        assert_int_equal(aud_drift_sort(x, n1), AUD_OK);
        assert_int_equal(aud_drift_sort(y, n2), AUD_OK);
        aud_drift_test t;
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(c, "ks");
        aud_drift_ks(x, n1, y, n2, &t);
        check_close("ks statistic", label, t.statistic, cJSON_GetArrayItem(ks, 0), STAT_RTOL, 0);
        check_close("ks p", label, t.p_value, cJSON_GetArrayItem(ks, 1), P_RTOL, 1e-300);
        check_close("wasserstein", label, aud_drift_wasserstein(x, n1, y, n2),
                    cJSON_GetObjectItemCaseSensitive(c, "wasserstein"), STAT_RTOL, 1e-15);
        check_close("std", label, aud_drift_std(x, n1),
                    cJSON_GetObjectItemCaseSensitive(c, "std_x"), STAT_RTOL, 1e-15);
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(c, "ad");
        aud_drift_anderson(x, n1, y, n2, &t);
        if (cJSON_IsNull(ad)) {
            assert_true(isnan(t.statistic));
            assert_non_null(t.reason);
        } else {
            /* the normalized statistic crosses 0 near "no drift": absolute floor 1e-12 */
            check_close("AD statistic", label, t.statistic, cJSON_GetArrayItem(ad, 0), STAT_RTOL,
                        1e-12);
            check_close("AD p", label, t.p_value, cJSON_GetArrayItem(ad, 1), P_RTOL, 0);
        }
        const cJSON *cvm = cJSON_GetObjectItemCaseSensitive(c, "cvm");
        assert_int_equal(aud_drift_cvm(x, n1, y, n2, &t), AUD_OK);
        if (cJSON_IsNull(cvm)) {
            assert_true(isnan(t.statistic));
        } else {
            check_close("CvM statistic", label, t.statistic, cJSON_GetArrayItem(cvm, 0),
                        STAT_RTOL, 1e-15);
            check_close("CvM p", label, t.p_value, cJSON_GetArrayItem(cvm, 1), P_RTOL, 1e-300);
        }
        aud_free(x);
        aud_free(y);
        count++;
    }
    assert_true(count >= 20);
    cJSON_Delete(doc);
}

static void test_kolmogn_and_smirnov_match_scipy(void **state)
{
    (void)state;
    cJSON *doc = load_cases();
    const cJSON *row;
    int count = 0;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(doc, "kolmogn"))
    {
        long n = (long)cJSON_GetArrayItem(row, 0)->valuedouble;
        double x = cJSON_GetArrayItem(row, 1)->valuedouble;
        char label[64];
        snprintf(label, sizeof label, "n=%ld x=%g", n, x);
        check_close("kstwo.sf", label, aud_drift_kolmogn_sf(n, x), cJSON_GetArrayItem(row, 2),
                    P_RTOL, 1e-300);
        if (n <= 1000000)   /* scipy approximates smirnov beyond n = 1e6 (docs/drift.md) */
            check_close("smirnov", label, aud_drift_smirnov(n, x), cJSON_GetArrayItem(row, 3),
                        P_RTOL, 1e-300);
        count++;
    }
    assert_true(count >= 200);
    cJSON_Delete(doc);
}

static void test_tables_match_scipy(void **state)
{
    (void)state;
    cJSON *doc = load_cases();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "tables"))
    {
        size_t k, k2;
        double *r = json_array(cJSON_GetObjectItemCaseSensitive(c, "ref"), &k);
        double *q = json_array(cJSON_GetObjectItemCaseSensitive(c, "cur"), &k2);
        assert_int_equal(k, k2);
        const cJSON *chi = cJSON_GetObjectItemCaseSensitive(c, "chi2");
        aud_drift_test t;
        aud_drift_chi_square(r, q, k, &t);
        check_close("chi2", "table", t.statistic, cJSON_GetArrayItem(chi, 0), STAT_RTOL, 1e-15);
        assert_int_equal(t.dof, (long)cJSON_GetArrayItem(chi, 1)->valuedouble);
        check_close("chi2 p", "table", t.p_value, cJSON_GetArrayItem(chi, 2), P_RTOL, 1e-300);
        check_close("js", "table", aud_drift_jensen_shannon(r, q, k),
                    cJSON_GetObjectItemCaseSensitive(c, "js"), STAT_RTOL, 1e-15);
        aud_free(r);
        aud_free(q);
    }
    cJSON_Delete(doc);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_radix_sort_equals_qsort(void **state)
{
    (void)state;
    size_t n = 100003;
    double *a = aud_malloc(n * sizeof *a), *b = aud_malloc(n * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t s = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 1e6;
        if (i % 7 == 0)
            v = floor(v / 1000.0);   /* ties */
        if (i % 101 == 0)
            v = i % 2 ? 1e300 : -1e-300;
        a[i] = b[i] = v;
    }
    assert_int_equal(aud_drift_sort(a, n), AUD_OK);
    qsort(b, n, sizeof *b, cmp_dbl);
    assert_memory_equal(a, b, n * sizeof *a);
    aud_free(a);
    aud_free(b);
}

static void test_psi_fill_and_self_zero(void **state)
{
    (void)state;
    double p[4] = {0.5, 0.0, 0.5, 0.0}, q[4] = {0.25, 0.25, 0.5, 0.0};
    aud_drift_fill_zeros(p, 4);   /* min non-zero 0.5 > 1e-4: fill 1e-4 */
    assert_true(p[1] == 0.0001 && p[3] == 0.0001);
    double r[3] = {0.99995, 0.00005, 0.0};
    aud_drift_fill_zeros(r, 3);   /* min 5e-5 <= 1e-4: fill 5e-5 / 1e6 */
    assert_true(r[2] == 0.00005 / 1e6);
    aud_drift_fill_zeros(q, 4);
    assert_true(aud_drift_psi(q, q, 4) == 0.0);
    /* hand value: (0.6-0.4) ln(0.6/0.4) + (0.4-0.6) ln(0.4/0.6) = 0.4 ln 1.5 */
    double u[2] = {0.6, 0.4}, v[2] = {0.4, 0.6};
    assert_true(fabs(aud_drift_psi(u, v, 2) - 0.4 * log(1.5)) < 1e-15);
}

static void test_z_test_hand_values(void **state)
{
    (void)state;
    aud_drift_test t;
    /* 30/100 vs 50/100: P = 0.4, se = sqrt(0.24 * 0.02), z = -0.2 / se */
    aud_drift_z_test(30, 100, 50, 100, &t);
    double z = -0.2 / sqrt(0.24 * 0.02);
    assert_true(fabs(t.statistic - z) < 1e-14);
    /* scipy: 2 * norm.sf(0.2 / sqrt(0.24 * 0.02)) = 0.003892417122778628 */
    assert_true(fabs(t.p_value - 0.003892417122778628) < 1e-12 * 0.0039);
    aud_drift_z_test(10, 10, 20, 20, &t);   /* one value on both sides */
    assert_true(t.statistic == 0.0 && t.p_value == 1.0);
}

/* ---- columns, rules, threads --------------------------------------------------------------- */

static double *gen(size_t n, uint64_t seed, double shift, double round_to)
{
    double *v = aud_malloc(n * sizeof *v);
    assert_non_null(v);
    uint64_t s = seed * 2654435761ULL + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u1 = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u2 = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
        double x = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) + shift;
        if (round_to > 0)
            x = floor(x / round_to) * round_to;
        v[i] = i % 17 == 3 ? NAN : x;
    }
    return v;
}

static aud_drift_method primary(size_t n_ref, double round_to)
{
    double *r = gen(n_ref, 1, 0.0, round_to), *c = gen(500, 2, 0.1, round_to);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_drift_column col;
    aud_drift_column_init(&col);
    aud_error err;
    aud_error_clear(&err);
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, n_ref, c, 500, &o, NULL, &err),
                     AUD_OK);
    assert_int_equal(col.status, AUD_OK);
    aud_drift_method m = col.method;
    aud_drift_column_clear(&col);
    aud_free(r);
    aud_free(c);
    return m;
}

static void test_primary_test_rules(void **state)
{
    (void)state;
    /* 1000 rows with 1/17 missing -> 941 non-missing reference values (<= 1000) */
    assert_int_equal(primary(1000, 0), AUD_DRIFT_KS);
    assert_int_equal(primary(1000, 1.0), AUD_DRIFT_KS);     /* ~8 values */
    assert_int_equal(primary(1000, 2.0), AUD_DRIFT_CHI_SQUARE);   /* 3..5 values */
    assert_int_equal(primary(1000, 50.0), AUD_DRIFT_Z);      /* 2 values (-50, 0) */
    assert_int_equal(primary(2000, 0), AUD_DRIFT_WASSERSTEIN_NORMED);
    assert_int_equal(primary(2000, 2.0), AUD_DRIFT_JENSEN_SHANNON);
    const char *lv[4] = {"a", "b", "c", "d"};
    double r3[4] = {10, 20, 30, 0}, c3[4] = {5, 5, 5, 9}, r2[4] = {10, 0, 0, 0},
           c2[4] = {3, 4, 0, 0}, rb[4] = {900, 200, 0, 0};
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_column col;
    aud_drift_column_init(&col);
    assert_int_equal(aud_drift_column_categorical(&col, "c", lv, r3, c3, 4, 0, 0, &o, NULL, &err),
                     AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_CHI_SQUARE);
    assert_int_equal(col.n_levels, 4);
    assert_true(col.unseen[3] == 1 && col.unseen[0] == 0);
    aud_drift_column_clear(&col);
    assert_int_equal(aud_drift_column_categorical(&col, "c", lv, r2, c2, 4, 1, 2, &o, NULL, &err),
                     AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_Z);
    assert_int_equal(col.n_levels, 2);   /* levels with no rows on either side are dropped */
    aud_drift_column_clear(&col);
    assert_int_equal(aud_drift_column_categorical(&col, "c", lv, rb, c2, 4, 0, 0, &o, NULL, &err),
                     AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_JENSEN_SHANNON);   /* 1100 reference rows */
    aud_drift_column_clear(&col);
    /* a numeric-only override on a categorical column is a per-column error */
    aud_drift_override ov = {AUD_DRIFT_KS, NAN};
    assert_int_equal(aud_drift_column_categorical(&col, "c", lv, r3, c3, 4, 0, 0, &o, &ov, &err),
                     AUD_OK);
    assert_int_equal(col.status, AUD_E_DOMAIN);
    assert_non_null(strstr(col.msg, "numeric"));
    aud_drift_column_clear(&col);
    /* the same as a global method falls back to the default test, with a note */
    o.method = AUD_DRIFT_KS;
    assert_int_equal(aud_drift_column_categorical(&col, "c", lv, r3, c3, 4, 0, 0, &o, NULL, &err),
                     AUD_OK);
    assert_int_equal(col.status, AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_CHI_SQUARE);
    assert_non_null(col.method_note);
    aud_drift_column_clear(&col);
}

/* Evidently's boundary: reference <= 1000 values -> KS, 1001 -> normed Wasserstein */
static void test_small_reference_boundary(void **state)
{
    (void)state;
    double *r = aud_malloc(1001 * sizeof *r), *c = aud_malloc(300 * sizeof *c);
    assert_non_null(r);
    assert_non_null(c);
    for (size_t i = 0; i < 1001; i++)
        r[i] = (double)(i % 97);
    for (size_t i = 0; i < 300; i++)
        c[i] = (double)(i % 89);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_column col;
    aud_drift_column_init(&col);
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, 1000, c, 300, &o, NULL, &err), AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_KS);
    aud_drift_column_clear(&col);
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, 1001, c, 300, &o, NULL, &err), AUD_OK);
    assert_int_equal(col.method, AUD_DRIFT_WASSERSTEIN_NORMED);
    aud_drift_column_clear(&col);
    /* KS drifts at p <= threshold (inclusive), the other tests at p < threshold */
    o.threshold = NAN;
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, 1000, c, 300, &o, NULL, &err), AUD_OK);
    double p = col.ks.p_value;
    aud_drift_column_clear(&col);
    o.threshold = p;
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, 1000, c, 300, &o, NULL, &err), AUD_OK);
    assert_int_equal(col.drifted, 1);
    aud_drift_column_clear(&col);
    aud_free(r);
    aud_free(c);
}

static void test_empty_side_is_column_error(void **state)
{
    (void)state;
    double r[3] = {NAN, NAN, INFINITY}, c[2] = {1, 2};
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_column col;
    aud_drift_column_init(&col);
    assert_int_equal(aud_drift_column_numeric(&col, "x", r, 3, c, 2, &o, NULL, &err), AUD_OK);
    assert_int_equal(col.status, AUD_E_DOMAIN);
    assert_int_equal(col.missing_ref, 3);
    assert_int_equal(col.drifted, -1);
    aud_drift_column_clear(&col);
}

#define NCOLS 7
typedef struct fixture {
    double *ref[NCOLS], *cur[NCOLS];
    aud_drift_input in[NCOLS];
} fixture;

static void fixture_make(fixture *f)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < NCOLS; i++) {
        size_t nr = 700 + 300 * (size_t)i, nc = 650 + 100 * (size_t)i;
        f->ref[i] = gen(nr, 10 + (uint64_t)i, 0.0, i % 3 == 2 ? 1.0 : 0.0);
        f->cur[i] = gen(nc, 20 + (uint64_t)i, 0.05 * i, i % 3 == 2 ? 1.0 : 0.0);
        f->in[i] = (aud_drift_input){.name = "col", .kind = AUD_DRIFT_NUMERIC, .ref = f->ref[i],
                                     .n_ref = nr, .cur = f->cur[i], .n_cur = nc,
                                     .ovr = {AUD_DRIFT_AUTO, NAN}};
    }
}

static void fixture_free(fixture *f)
{
    for (int i = 0; i < NCOLS; i++) {
        aud_free(f->ref[i]);
        aud_free(f->cur[i]);
    }
}

static void assert_same_column(const aud_drift_column *a, const aud_drift_column *b)
{
    assert_memory_equal(&a->ks, &b->ks, sizeof a->ks);
    assert_memory_equal(&a->anderson, &b->anderson, sizeof a->anderson);
    assert_memory_equal(&a->cvm, &b->cvm, sizeof a->cvm);
    double va[6] = {a->wasserstein, a->wasserstein_normed, a->psi, a->jensen_shannon,
                    a->statistic, a->threshold};
    double vb[6] = {b->wasserstein, b->wasserstein_normed, b->psi, b->jensen_shannon,
                    b->statistic, b->threshold};
    assert_memory_equal(va, vb, sizeof va);
    assert_int_equal(a->drifted, b->drifted);
    assert_int_equal(a->method, b->method);
    assert_int_equal(a->psi_bins.n_bins, b->psi_bins.n_bins);
    assert_memory_equal(a->psi_bins.ref, b->psi_bins.ref, a->psi_bins.n_bins * sizeof(double));
}

static void test_threads_do_not_change_results(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_result *r1 = NULL, *rt = NULL;
    o.threads = 1;
    assert_int_equal(aud_drift_compute(&r1, f.in, NCOLS, &o, &err), AUD_OK);
    for (int t = 2; t <= 5; t++) {
        o.threads = t;
        assert_int_equal(aud_drift_compute(&rt, f.in, NCOLS, &o, &err), AUD_OK);
        for (int i = 0; i < NCOLS; i++)
            assert_same_column(&r1->cols[i], &rt->cols[i]);
        assert_true(r1->drift_share == rt->drift_share);
        aud_drift_result_free(rt);
        rt = NULL;
    }
    aud_drift_result_free(r1);
    fixture_free(&f);
}

static void test_json_shape(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_result *r = NULL;
    assert_int_equal(aud_drift_compute(&r, f.in, 3, &o, &err), AUD_OK);
    cJSON *doc = aud_json_doc_new();
    assert_int_equal(aud_drift_to_json(r, doc, &err), AUD_OK);
    cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "drift");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(d, "drift_share"));
    assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "dataset_drift")));
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "columns"), 0);
    const char *keys[] = {"name", "type", "method", "statistic", "threshold", "drifted", "ks",
                          "wasserstein", "wasserstein_normed", "psi", "jensen_shannon",
                          "anderson_darling", "cramer_von_mises", "psi_bins", "js_bins"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(c0, keys[i]) == NULL)
            fail_msg("missing key %s", keys[i]);
    cJSON_Delete(doc);
    aud_drift_result_free(r);
    fixture_free(&f);
}

static void test_allocation_failures_are_clean(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    o.threads = 2;
    int succeeded = 0;
    for (long k = 1; k < 2000 && !succeeded; k++) {
        aud_error err;
        aud_error_clear(&err);
        aud_drift_result *r = NULL;
        aud_alloc_fail_after(k);
        int rc = aud_drift_compute(&r, f.in, 3, &o, &err);
        cJSON *doc = NULL;
        if (rc == AUD_OK) {
            doc = aud_json_doc_new();
            rc = doc == NULL ? AUD_E_NOMEM : aud_drift_to_json(r, doc, &err);
        }
        aud_alloc_fail_after(0);
        assert_true(rc == AUD_OK || rc == AUD_E_NOMEM);
        succeeded = rc == AUD_OK;
        cJSON_Delete(doc);
        aud_drift_result_free(r);
    }
    aud_alloc_fail_after(0);
    assert_true(succeeded);
    fixture_free(&f);
}

/* numbers made by aud_json_num are raw nodes: read their text */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    if (cJSON_IsRaw(v))
        return strtod(v->valuestring, NULL);
    return v->valuedouble;
}

static void test_attribution_drift(void **state)
{
    (void)state;
    const char *names[4] = {"a", "b", "c", "d"};
    double ref[4] = {0.5, 0.2, 0.2, 0.1}, cur[4] = {0.3, 0.4, 0.1, 0.1};
    cJSON *doc = cJSON_CreateObject();
    aud_error err;
    assert_int_equal(aud_drift_attribution_json(doc, "attribution_drift", names, ref, cur, 4,
                                                &err), AUD_OK);
    cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "attribution_drift");
    /* scipy.stats.spearmanr([.5,.2,.2,.1], [.3,.4,.1,.1]).correlation = 0.5000000000000001 */
    double rho = jnum(o, "rank_correlation");
    assert_true(fabs(rho - 0.5) < 1e-12);
    assert_true(fabs(jnum(o, "max_abs_change") - 0.2) < 1e-15);
    static const double rr[4] = {1, 2, 3, 4}, rc[4] = {2, 1, 3, 4};
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o, "features"))
    {
        assert_true(jnum(f, "rank_reference") == rr[i]);
        assert_true(jnum(f, "rank_current") == rc[i]);
        i++;
    }
    assert_int_equal(i, 4);
    double bad[4] = {0.5, NAN, 0.1, 0.1};
    assert_int_equal(aud_drift_attribution_json(doc, "x", names, ref, bad, 4, &err),
                     AUD_E_DOMAIN);
    assert_string_equal(err.field, "b");
    cJSON_Delete(doc);
}

static void test_prediction_drift_column_json(void **state)
{
    (void)state;
    double *r = gen(3000, 5, 0.0, 0), *c = gen(2000, 6, 0.5, 0);
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    aud_error err;
    aud_drift_column col;
    aud_drift_column_init(&col);
    assert_int_equal(aud_drift_column_numeric(&col, "prediction", r, 3000, c, 2000, &o, NULL,
                                              &err), AUD_OK);
    cJSON *j = aud_drift_column_json(&col);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "method")->valuestring,
                        "wasserstein_normed");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "drifted")));
    cJSON_Delete(j);
    aud_drift_column_clear(&col);
    aud_free(r);
    aud_free(c);
}

/* The closed forms of the AD variance's sums against scipy's definition, term by term in long
 * double (hs_cs = cumsum of 1/(N-1), 1/(N-2), ..., 1/2; h = hs_cs[-1] + 1; g = sum of
 * hs_cs[t] / (t + 2)), across GSL's table (N <= 100) and its asymptotic range. */
static void test_ad_variance_sums(void **state)
{
    (void)state;
    static const size_t Ns[] = {4, 5, 7, 10, 50, 99, 100, 101, 150, 1000, 12345, 1100000};
    for (size_t q = 0; q < sizeof Ns / sizeof Ns[0]; q++) {
        size_t N = Ns[q];
        long double cs = 0, gs = 0;
        for (size_t t = 0; t + 3 <= N; t++) {
            cs += 1.0L / (long double)(N - 1 - t);
            gs += cs / (long double)(t + 2);
        }
        double h, g;
        assert_int_equal(aud_drift_ad_hg(N, &h, &g), 0);
        assert_true(fabs(h - (double)(cs + 1)) <= 4e-16 * (double)(cs + 1));
        assert_true(fabs(g - (double)gs) <= 4e-16 * (double)gs);
    }
    double h, g;
    assert_int_equal(aud_drift_ad_hg(1, &h, &g), -1);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_sample_cases_match_scipy),
        cmocka_unit_test(test_kolmogn_and_smirnov_match_scipy),
        cmocka_unit_test(test_tables_match_scipy),
        cmocka_unit_test(test_radix_sort_equals_qsort),
        cmocka_unit_test(test_psi_fill_and_self_zero),
        cmocka_unit_test(test_z_test_hand_values),
        cmocka_unit_test(test_primary_test_rules),
        cmocka_unit_test(test_small_reference_boundary),
        cmocka_unit_test(test_empty_side_is_column_error),
        cmocka_unit_test(test_threads_do_not_change_results),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_allocation_failures_are_clean),
        cmocka_unit_test(test_attribution_drift),
        cmocka_unit_test(test_prediction_drift_column_json),
        cmocka_unit_test(test_ad_variance_sums),
    };
    return cmocka_run_group_tests_name("drift", tests, NULL, NULL);
}
