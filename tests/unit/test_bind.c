/* test_bind.c - the binding layer (audit/bind_int.h) on tables built in memory: label, prediction
 * and score columns, attributes with references and intersections, intersection names, drift
 * columns with exclusions and per-column choices, and the allocation failures of each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit/bind_int.h"

/* columns: y (label 0/1/NaN), p (prediction), s (score), g (categorical), n (numeric group) */
static double col_y[4] = {0, 1, NAN, 1};
static double col_p[4] = {0, 1, 1, 0};
static double col_s[4] = {0.1, 0.9, 0.4, 0.7};
static int32_t col_g[4] = {0, 1, 0, 1};
static double col_n[4] = {1, 2, 2, NAN};
static char name_y[] = "y", name_p[] = "p", name_s[] = "s", name_g[] = "g", name_n[] = "n";
static char lev_f[] = "F", lev_m[] = "M", path[] = "mem.csv";
static char *levels_g[] = {lev_f, lev_m};

static void make_table(aud_table *t, aud_column *cols)
{
    memset(cols, 0, 5 * sizeof *cols);
    cols[0] = (aud_column){name_y, AUD_COL_NUMERIC, col_y, NULL, NULL, 0, 1, 0};
    cols[1] = (aud_column){name_p, AUD_COL_NUMERIC, col_p, NULL, NULL, 0, 0, 0};
    cols[2] = (aud_column){name_s, AUD_COL_NUMERIC, col_s, NULL, NULL, 0, 0, 0};
    cols[3] = (aud_column){name_g, AUD_COL_CATEGORICAL, NULL, col_g, levels_g, 2, 0, 0};
    cols[4] = (aud_column){name_n, AUD_COL_NUMERIC, col_n, NULL, NULL, 0, 1, 0};
    *t = (aud_table){.path = path, .n_rows = 4, .n_cols = 5, .cols = cols};
}

static void test_columns(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[5];
    make_table(&t, cols);
    aud_error err;
    double *v = NULL;
    assert_int_equal(aud_bind_column(&t, "y", AUD_BIND_LABEL, &v, &err), AUD_OK);
    assert_true(v[1] == 1.0 && isnan(v[2]) && v != col_y);   /* a copy */
    aud_free(v);
    /* a missing prediction is an error, a missing label is not */
    assert_int_equal(aud_bind_column(&t, "y", AUD_BIND_PREDICTION, &v, &err), AUD_E_DOMAIN);
    assert_null(v);
    assert_string_equal(err.msg, "data row 2: the prediction is missing");
    assert_int_equal(aud_bind_column(&t, "s", AUD_BIND_LABEL, &v, &err), AUD_E_DOMAIN);
    assert_string_equal(err.msg, "data row 0: the label must be 0 or 1, got 0.1");
    assert_string_equal(err.field, "s");
    assert_string_equal(err.file, "mem.csv");
    assert_int_equal(aud_bind_column(&t, "s", AUD_BIND_SCORE, &v, &err), AUD_OK);
    aud_free(v);
    assert_int_equal(aud_bind_column(&t, "g", AUD_BIND_SCORE, &v, &err), AUD_E_DOMAIN);
    assert_non_null(strstr(err.msg, "must be numeric"));
    assert_int_equal(aud_bind_column(&t, "nope", AUD_BIND_LABEL, &v, &err), AUD_E_SCHEMA);
    assert_string_equal(err.msg, "no column \"nope\" in the data; columns: y, p, s, g, n");
}

static void test_attrs_and_references(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[5];
    make_table(&t, cols);
    aud_error err;
    aud_bound_attrs b;
    const char *names[] = {"g", "n"};
    aud_reference refs[] = {{"n", "2"}, {"g&n", "F&2"}};
    assert_int_equal(aud_bind_attrs(&b, &t, names, 2, refs, 2, NULL, 0, 1, &err), AUD_OK);
    assert_int_equal(b.n_attrs, 2);
    assert_ptr_equal(b.attrs[0].codes, col_g);            /* categorical: the table's codes */
    assert_int_equal(b.attrs[1].n_levels, 2);             /* numeric: grouped by value */
    assert_string_equal(b.attrs[1].levels[1], "2");
    assert_int_equal(b.attrs[1].codes[3], -1);            /* NaN: unknown */
    assert_string_equal(b.attrs[1].reference, "2");
    assert_null(b.attrs[0].reference);
    assert_int_equal(b.n_inter_refs, 1);
    assert_string_equal(b.inter_ref_names[0], "g&n");
    aud_bound_attrs_free(&b);
    const char *twice[] = {"g", "g"};
    assert_int_equal(aud_bind_attrs(&b, &t, twice, 2, NULL, 0, NULL, 0, 1, &err), AUD_E_USAGE);
    aud_bound_attrs_free(&b);
    aud_reference bad = {"race", "A"};
    assert_int_equal(aud_bind_attrs(&b, &t, names, 2, &bad, 1, NULL, 0, 1, &err), AUD_E_USAGE);
    assert_non_null(strstr(err.msg, "\"race\" is not one of the sensitive columns"));
    aud_bound_attrs_free(&b);
    const char *missing[] = {"g", "race"};
    assert_int_equal(aud_bind_attrs(&b, &t, missing, 2, NULL, 0, NULL, 0, 1, &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "race");
    aud_bound_attrs_free(&b);
}

static void test_intersection_names(void **state)
{
    (void)state;
    const char *a[] = {"sex", "race", "a&b"};
    assert_true(aud_is_intersection(a, 3, "sex&race"));
    assert_true(aud_is_intersection(a, 3, "sex&race&a&b"));   /* a name holding '&' */
    assert_true(aud_is_intersection(a, 3, "race&a&b"));
    assert_false(aud_is_intersection(a, 3, "race&sex"));      /* not in the given order */
    assert_false(aud_is_intersection(a, 3, "sex"));           /* one attribute is none */
    assert_false(aud_is_intersection(a, 3, "sex&sex"));
    assert_false(aud_is_intersection(a, 3, "sex&"));
}

static void test_drift_columns(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[5];
    make_table(&t, cols);
    aud_error err;
    aud_bound_drift bd;
    const char *exclude[] = {"y", NULL, "s"};
    aud_drift_choice ch[] = {{"g", AUD_DRIFT_PSI, NAN}, {"g", AUD_DRIFT_AUTO, 0.3}};
    assert_int_equal(aud_bind_drift_columns(&bd, &t, NULL, 0, exclude, 3, ch, 2, "k", &err),
                     AUD_OK);
    assert_int_equal(bd.n, 3);   /* p, g, n */
    assert_string_equal(bd.cols[1], "g");
    assert_int_equal(bd.ovr[1].method, AUD_DRIFT_PSI);   /* both choices apply */
    assert_true(bd.ovr[1].threshold == 0.3);
    assert_int_equal(bd.ovr[0].method, AUD_DRIFT_AUTO);
    assert_true(isnan(bd.ovr[0].threshold));
    aud_bound_drift_free(&bd);
    /* a choice for a column that is not compared (excluded, or not in the given list) */
    aud_drift_choice on_y = {"y", AUD_DRIFT_KS, NAN};
    assert_int_equal(aud_bind_drift_columns(&bd, &t, NULL, 0, exclude, 3, &on_y, 1, "k", &err),
                     AUD_E_USAGE);
    assert_string_equal(err.msg, "column \"y\" is not among the columns compared for drift");
    assert_string_equal(err.field, "k");
    aud_bound_drift_free(&bd);
    const char *given[] = {"s"};
    assert_int_equal(aud_bind_drift_columns(&bd, &t, given, 1, exclude, 3, NULL, 0, NULL, &err),
                     AUD_OK);
    assert_int_equal(bd.n, 1);   /* a given list is not filtered */
    aud_bound_drift_free(&bd);
}

/* aud_bind_group_rows in row chunks: 300,007 rows coded pseudo-randomly in -1 .. L (L: out of
 * range, left out like -1), for 3 and 1,000 groups (chunks as threads) and 50,000 (one chunk:
 * too many counters), at 1-3 threads: the arrays a one-pass counting sort gives, every group's
 * rows ascending. */
static void test_group_rows_in_chunks(void **state)
{
    (void)state;
    enum { N = 300007 };
    int32_t *codes = aud_malloc(N * sizeof *codes);
    size_t *want_ord = aud_malloc(N * sizeof *want_ord);
    const size_t levels[] = {3, 1000, 50000};
    assert_true(aud_row_chunks(N, 3) == 3);
    for (size_t q = 0; q < 3; q++) {
        size_t L = levels[q];
        size_t *want_st = aud_calloc(L + 2, sizeof *want_st);
        uint64_t r = 88172645463325252ull;
        for (size_t i = 0; i < N; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;   /* xorshift64 */
            codes[i] = (int32_t)(r % (L + 2)) - 1;
        }
        /* the reference: one serial counting sort (counts, starts, rows in order) */
        for (size_t i = 0; i < N; i++)
            if (codes[i] >= 0 && (size_t)codes[i] < L)
                want_st[codes[i] + 1]++;
        for (size_t g = 1; g <= L; g++)
            want_st[g] += want_st[g - 1];
        size_t m = want_st[L];
        size_t *next = aud_malloc((L + 1) * sizeof *next);
        memcpy(next, want_st, (L + 1) * sizeof *next);
        for (size_t i = 0; i < N; i++)
            if (codes[i] >= 0 && (size_t)codes[i] < L)
                want_ord[next[codes[i]]++] = i;
        aud_free(next);
        for (int t = 1; t <= 3; t++) {
            size_t *st = NULL, *ord = NULL;
            aud_error err;
            assert_int_equal(aud_bind_group_rows(codes, N, L, t, &st, &ord, &err), AUD_OK);
            size_t placed = 0;
            for (size_t i = 0; i < N; i++)
                placed += codes[i] >= 0 && (size_t)codes[i] < L;
            assert_int_equal(st[L], placed);
            assert_memory_equal(ord, want_ord, m * sizeof *ord);
            assert_memory_equal(st, want_st, (L + 1) * sizeof *st);
            for (size_t g = 0; g < L; g++)   /* every group: its rows ascending, its own */
                for (size_t k = st[g]; k < st[g + 1]; k++) {
                    assert_int_equal(codes[ord[k]], (int32_t)g);
                    assert_true(k == st[g] || ord[k] > ord[k - 1]);
                }
            aud_free(st);
            aud_free(ord);
        }
        aud_free(want_st);
    }
    aud_free(codes);
    aud_free(want_ord);
}

/* Bands of a numeric column in row chunks (300,007 rows, 1% missing): edges 25, 40, 60 (counted
 * without a branch) and quantile:50 (49 edges: binary search; edges from the radix-sorted
 * values) give at 1 and 3 threads the codes of the definition (the number of edges <= x, -1 when
 * missing), with the edges numpy.quantile's "linear" gives (computed here on a qsorted copy). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_bands_in_chunks(void **state)
{
    (void)state;
    enum { N = 300007 };
    double *x = aud_malloc(N * sizeof *x), *sorted = aud_malloc(N * sizeof *sorted);
    uint64_t r = 2463534242ull;
    size_t m = 0;
    for (size_t i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        x[i] = (r >> 40) % 100 == 0 ? NAN : 18.0 + (double)(r % 6300) / 100.0;   /* edges too */
        if (!isnan(x[i]))
            sorted[m++] = x[i];
    }
    qsort(sorted, m, sizeof *sorted, cmp_double);
    aud_column col = {(char *)"age", AUD_COL_NUMERIC, x, NULL, NULL, 0, N / 100, 0};
    aud_table t = {.path = path, .n_rows = N, .n_cols = 1, .cols = &col};
    const double edges[] = {25, 40, 60};
    const char *names[] = {"age"};
    for (int kind = 0; kind < 2; kind++) {
        aud_grouping g = {.attribute = "age", .edges = kind == 0 ? edges : NULL,
                          .n_edges = kind == 0 ? 3 : 0, .quantiles = kind == 0 ? 0 : 50};
        double want_e[49];
        size_t ne = 0;
        if (kind == 0) {
            memcpy(want_e, edges, sizeof edges);
            ne = 3;
        }
        for (int k = 1; kind == 1 && k < 50; k++) {   /* numpy's _lerp */
            double pos = (double)k / 50.0 * (double)(m - 1), lo = floor(pos), f = pos - lo;
            size_t i = (size_t)lo, j = i + 1 < m ? i + 1 : i;
            double a = sorted[i], d = sorted[j] - a;
            double e = f >= 0.5 ? sorted[j] - d * (1.0 - f) : a + d * f;
            if (ne == 0 || e > want_e[ne - 1])
                want_e[ne++] = e;
        }
        assert_true(ne == (kind == 0 ? 3 : 49));
        for (int th = 1; th <= 3; th += 2) {
            aud_bound_attrs b;
            aud_error err;
            assert_int_equal(aud_bind_attrs(&b, &t, names, 1, NULL, 0, &g, 1, th, &err), AUD_OK);
            assert_int_equal(b.attrs[0].n_levels, ne + 1);
            for (size_t i = 0; i < N; i++) {
                int32_t want = 0;
                for (size_t k = 0; k < ne; k++)
                    want += want_e[k] <= x[i];
                assert_int_equal(b.attrs[0].codes[i], isnan(x[i]) ? -1 : want);
            }
            aud_bound_attrs_free(&b);
        }
    }
    aud_free(x);
    aud_free(sorted);
}

/* A label, prediction and score column of 300,007 rows checked and copied in row chunks
 * (aud_bind_column_on: 3 chunks at 3 threads): the copy equals the column bit for bit at 1 and
 * 3 threads; with bad values in the second and third chunks, the first is named at either
 * thread count; a missing prediction too. */
static void test_outcome_rows_in_chunks(void **state)
{
    (void)state;
    enum { N = 300007 };
    double *y = aud_malloc(N * sizeof *y), *sc = aud_malloc(N * sizeof *sc);
    for (size_t i = 0; i < N; i++) {
        y[i] = i % 97 == 5 ? NAN : (double)((i * 7919) % 3 == 0);
        sc[i] = (double)i + 0.25;   /* no row equal to a fresh page's zero */
    }
    aud_column col[2] = {{(char *)"y", AUD_COL_NUMERIC, y, NULL, NULL, 0, 0, 0},
                         {(char *)"s", AUD_COL_NUMERIC, sc, NULL, NULL, 0, 0, 0}};
    aud_table t = {.path = path, .n_rows = N, .n_cols = 2, .cols = col};
    assert_true(aud_row_chunks(N, 3) == 3);
    aud_error err;
    for (int th = 1; th <= 3; th += 2) {
        double *v = NULL;
        assert_int_equal(aud_bind_column_on(&t, "y", AUD_BIND_LABEL, NULL, th, &v, &err), AUD_OK);
        assert_memory_equal(v, y, N * sizeof *v);
        aud_free(v);
        assert_int_equal(aud_bind_column_on(&t, "s", AUD_BIND_SCORE, NULL, th, &v, &err), AUD_OK);
        assert_memory_equal(v, sc, N * sizeof *v);
        aud_free(v);
        assert_int_equal(aud_bind_column_on(&t, "y", AUD_BIND_PREDICTION, NULL, th, &v, &err),
                         AUD_E_DOMAIN);
        assert_null(v);
        assert_string_equal(err.msg, "data row 5: the prediction is missing");
    }
    y[250000] = 3.0;   /* the third chunk */
    y[150001] = 2.0;   /* the second: named first */
    for (int th = 1; th <= 3; th += 2) {
        double *v = NULL;
        assert_int_equal(aud_bind_column_on(&t, "y", AUD_BIND_LABEL, NULL, th, &v, &err),
                         AUD_E_DOMAIN);
        assert_null(v);
        assert_string_equal(err.msg, "data row 150001: the label must be 0 or 1, got 2");
    }
    aud_free(y);
    aud_free(sc);
}

/* Every allocation of the layer can fail: an error, never a crash or a leak (ASan build). */
static void test_allocation_failures(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[5];
    make_table(&t, cols);
    aud_error err;
    const char *names[] = {"g", "n"};
    aud_reference refs[] = {{"g&n", "F&2"}};
    for (int k = 1; k < 40; k++) {
        aud_bound_attrs b;
        aud_bound_drift bd;
        double *v = NULL;
        aud_alloc_fail_after(k);
        int r1 = aud_bind_attrs(&b, &t, names, 2, refs, 1, NULL, 0, 1, &err);
        aud_bound_attrs_free(&b);
        aud_alloc_fail_after(k);
        int r2 = aud_bind_drift_columns(&bd, &t, NULL, 0, NULL, 0, NULL, 0, NULL, &err);
        aud_bound_drift_free(&bd);
        aud_alloc_fail_after(k);
        int r3 = aud_bind_column(&t, "y", AUD_BIND_LABEL, &v, &err);
        aud_free(v);
        aud_alloc_fail_after(0);
        assert_true(r1 == AUD_OK || r1 == AUD_E_NOMEM);
        assert_true(r2 == AUD_OK || r2 == AUD_E_NOMEM);
        assert_true(r3 == AUD_OK || r3 == AUD_E_NOMEM);
    }
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_attrs_and_references),
        cmocka_unit_test(test_intersection_names),
        cmocka_unit_test(test_drift_columns),
        cmocka_unit_test(test_group_rows_in_chunks),
        cmocka_unit_test(test_bands_in_chunks),
        cmocka_unit_test(test_outcome_rows_in_chunks),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
