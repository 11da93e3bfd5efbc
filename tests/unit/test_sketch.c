/* test_sketch.c - the quantile summary of metrics/sketch.h: every rank bound holds against the
 * exact ranks of the data (brute force), for summaries built from sorted data, by add() in
 * several orders, by merges of parts; the stated error is within the documented n / (k - 1)
 * per level; serialisation round-trips; bad documents are located errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"
#include "metrics/sketch.h"

static uint64_t rng_state = 88172645463325252ULL;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* every query point (each value, and between values) has lo <= true <= hi */
static void check_bounds(const aud_sketch *s, const double *sorted, size_t n)
{
    double gap = aud_sketch_max_gap(s);
    for (size_t i = 0; i <= n; i++) {
        double pts[3];
        int np = 0;
        if (i < n)
            pts[np++] = sorted[i];
        if (i > 0 && i < n)
            pts[np++] = (sorted[i - 1] + sorted[i]) / 2;
        if (i == n)
            pts[np++] = sorted[n - 1] + 1.0;
        if (i == 0)
            pts[np++] = sorted[0] - 1.0;
        for (int p = 0; p < np; p++)
            for (int le = 0; le <= 1; le++) {
                double lo, hi;
                aud_sketch_rank(s, pts[p], le, &lo, &hi);
                size_t t = 0;
                while (t < n && (sorted[t] < pts[p] || (le && sorted[t] == pts[p])))
                    t++;
                assert_true(lo <= (double)t);
                assert_true((double)t <= hi);
                assert_true(hi - lo <= gap + 1e-9);
            }
    }
}

static void fill(double *x, size_t n, int ties)
{
    for (size_t i = 0; i < n; i++)
        x[i] = ties ? floor(urand() * 50) : urand() * 100 - 30;
}

static void test_from_sorted_exact_bounds(void **st)
{
    (void)st;
    size_t n = 5000;
    double *x = malloc(n * sizeof *x);
    for (int ties = 0; ties <= 1; ties++) {
        fill(x, n, ties);
        qsort(x, n, sizeof *x, cmp);
        double extra[3] = {-5.5, 12.25, 1e6};
        aud_sketch s;
        aud_error err;
        aud_error_clear(&err);
        assert_int_equal(aud_sketch_from_sorted(&s, x, n, 101, extra, 3, &err), AUD_OK);
        check_bounds(&s, x, n);
        /* one prune of exact ranks: gaps of at most n / (k - 1) + the heaviest value */
        assert_true(aud_sketch_max_gap(&s) <= (double)n / 100.0 + (ties ? 200 : 1));
        double lo, hi;
        aud_sketch_rank(&s, 12.25, 0, &lo, &hi);   /* an extra point: exact */
        assert_true(lo == hi);
        assert_true(s.e[0].v == fmin(x[0], -5.5) && s.e[s.n_e - 1].v == 1e6);
        aud_sketch_free(&s);
    }
    free(x);
}

static void test_add_and_merge(void **st)
{
    (void)st;
    size_t n = 20000, k = 200;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    aud_error err;
    aud_error_clear(&err);
    for (int ties = 0; ties <= 1; ties++) {
        fill(x, n, ties);
        memcpy(y, x, n * sizeof *x);
        qsort(y, n, sizeof *y, cmp);
        aud_sketch a, b, c;
        aud_sketch_init(&a, k);
        aud_sketch_init(&b, k);
        aud_sketch_init(&c, k);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(aud_sketch_add(i < n / 3 ? &b : &c, x[i], 1.0, &err), AUD_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(aud_sketch_add(&a, x[i], 1.0, &err), AUD_OK);
        assert_int_equal(aud_sketch_compact(&a, &err), AUD_OK);
        assert_true(a.n == (double)n && a.n_e <= k);
        check_bounds(&a, y, n);
        /* levels: log2(n / k) + 1 prunes of n / (k - 1) each at most */
        double levels = ceil(log2((double)n / (double)k)) + 1;
        assert_true(aud_sketch_max_gap(&a) <= levels * (double)n / (double)(k - 1) +
                                                   (ties ? 2 * n / 50.0 : 0));
        assert_int_equal(aud_sketch_merge(&b, &c, &err), AUD_OK);
        assert_true(b.n == (double)n);
        check_bounds(&b, y, n);
        /* the same input gives the same summary (deterministic) */
        aud_sketch d;
        aud_sketch_init(&d, k);
        for (size_t i = 0; i < n; i++)
            aud_sketch_add(&d, x[i], 1.0, &err);
        aud_sketch_compact(&d, &err);
        assert_int_equal(d.n_e, a.n_e);
        assert_memory_equal(d.e, a.e, a.n_e * sizeof *a.e);
        double re;
        double med = aud_sketch_quantile(&a, 0.5, &re);
        size_t below = 0;
        while (below < n && y[below] < med)
            below++;
        assert_true(fabs((double)below - n / 2.0) <= re + 1 + (ties ? n / 40.0 : 0));
        aud_sketch_free(&a);
        aud_sketch_free(&b);
        aud_sketch_free(&c);
        aud_sketch_free(&d);
    }
    free(x);
    free(y);
}

static void test_json_round_trip_and_errors(void **st)
{
    (void)st;
    double x[7] = {1, 2, 2, 3, 5, 8, 13};
    aud_sketch s, t;
    aud_error err;
    aud_error_clear(&err);
    assert_int_equal(aud_sketch_from_sorted(&s, x, 7, 4, NULL, 0, &err), AUD_OK);
    cJSON *raw = aud_sketch_to_json(&s);   /* numbers printed exactly: through the text */
    assert_non_null(raw);
    char *text = cJSON_PrintUnformatted(raw);
    cJSON_Delete(raw);
    cJSON *o = cJSON_Parse(text);
    cJSON_free(text);
    assert_non_null(o);
    assert_int_equal(aud_sketch_from_json(&t, o, "f.profile", "columns[0].sketch", &err), AUD_OK);
    assert_int_equal(t.n_e, s.n_e);
    assert_memory_equal(t.e, s.e, s.n_e * sizeof *s.e);
    aud_sketch_free(&t);
    /* an rmax over n, then values out of order: located */
    cJSON *a = cJSON_GetObjectItem(o, "entries");
    cJSON_ReplaceItemInArray(a, 2, cJSON_CreateNumber(99));
    assert_int_equal(aud_sketch_from_json(&t, o, "f.profile", "columns[0].sketch", &err),
                     AUD_E_SCHEMA);
    assert_string_equal(err.field, "columns[0].sketch.entries[0]");
    assert_string_equal(err.file, "f.profile");
    cJSON_ReplaceItemInArray(a, 2, cJSON_CreateNumber(1));
    cJSON_ReplaceItemInArray(a, 4, cJSON_CreateNumber(0.5));
    assert_int_equal(aud_sketch_from_json(&t, o, "f.profile", "c", &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "c.entries[4]");
    cJSON_Delete(o);
    aud_sketch_free(&s);
    assert_int_equal(aud_sketch_add(&s, NAN, 1, &err), AUD_E_DOMAIN);
    aud_sketch_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_sorted_exact_bounds),
        cmocka_unit_test(test_add_and_merge),
        cmocka_unit_test(test_json_round_trip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
