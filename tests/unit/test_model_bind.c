/* test_model_bind.c - aud_model_bind (by name, by position, errors naming feature and file),
 * aud_model_fill_rows (row-major layout of a row range), aud_predict_table (identical results for
 * any thread count, missing-value refusal for linear models), on tables built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "models/model_int.h"
#include "models/predict_int.h"

static const char *const linear_doc =
    "{\"format\": \"audit-linear\", \"version\": 1, \"link\": \"identity\", \"intercept\": 1,"
    " \"coefficients\": {\"b\": 2, \"c\": -1}}";

/* columns: a (numeric), c (numeric), b (numeric), s (categorical) */
static double col_a[5] = { 1, 2, 3, 4, 5 };
static double col_c[5] = { 10, 20, 30, 40, 50 };
static double col_b[5] = { 0.5, 1.5, 2.5, 3.5, 4.5 };
static int32_t col_s[5] = { 0, 1, 0, 1, -1 };
static char name_a[] = "a", name_b[] = "b", name_c[] = "c", name_s[] = "s", path[] = "mem.csv";

static void make_table(aud_table *t, aud_column *cols)
{
    memset(cols, 0, 4 * sizeof *cols);
    cols[0] = (aud_column){ name_a, AUD_COL_NUMERIC, col_a, NULL, NULL, 0, 0, 0 };
    cols[1] = (aud_column){ name_c, AUD_COL_NUMERIC, col_c, NULL, NULL, 0, 0, 0 };
    cols[2] = (aud_column){ name_b, AUD_COL_NUMERIC, col_b, NULL, NULL, 0, 0, 0 };
    cols[3] = (aud_column){ name_s, AUD_COL_CATEGORICAL, NULL, col_s, NULL, 2, 1, 0 };
    *t = (aud_table){ .path = path, .n_rows = 5, .n_cols = 4, .cols = cols };
}

/* linear_doc parsed and bound to t: its feature b, c columns into ci. */
static aud_model *linear_bound(const aud_table *t, size_t ci[2], int *by_pos)
{
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_parse(&m, linear_doc, strlen(linear_doc), "l.json", NULL, &err),
                     AUD_OK);
    assert_int_equal(aud_model_bind(m, t, ci, by_pos, &err), AUD_OK);
    return m;
}

static void test_bind_by_name_and_fill(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[4];
    make_table(&t, cols);
    size_t ci[2];
    int by_pos = -1;
    aud_error err;
    aud_model *m = linear_bound(&t, ci, &by_pos);
    assert_int_equal(by_pos, 0);
    assert_int_equal(ci[0], 2);   /* b */
    assert_int_equal(ci[1], 1);   /* c */
    double X[4];
    aud_model_fill_rows(m, &t, ci, 1, 3, X);
    assert_true(X[0] == 1.5 && X[1] == 20 && X[2] == 2.5 && X[3] == 30);
    double out1[5], out2[5];
    assert_int_equal(aud_predict_table(m, &t, ci, 0, 1, out1, &err), AUD_OK);
    for (size_t r = 0; r < 5; r++)
        assert_true(out1[r] == 1 + 2 * col_b[r] - col_c[r]);
    assert_int_equal(aud_predict_table(m, &t, ci, 0, 3, out2, &err), AUD_OK);
    assert_memory_equal(out1, out2, sizeof out1);
    /* a missing value in a used feature is refused, naming the row and column */
    col_c[3] = NAN;
    cols[1].n_missing = 1;
    assert_int_equal(aud_predict_table(m, &t, ci, 0, 2, out1, &err), AUD_E_DOMAIN);
    assert_string_equal(err.field, "c");
    assert_non_null(strstr(err.msg, "data row 3"));   /* 0-based, as reports and --rows */
    col_c[3] = 40;
    cols[1].n_missing = 0;
    aud_model_free(m);
}

/* aud_model_fill_rows_on: 300,001 rows from row 7 on 1, 2 and 3 threads (1, 2 and 3 chunks)
 * give the bytes of aud_model_fill_rows. */
static void test_fill_rows_on_threads(void **state)
{
    (void)state;
    enum { N = 300008, B = 7 };
    double *b = aud_malloc(N * sizeof *b), *c = aud_malloc(N * sizeof *c);
    double *one = aud_malloc(2 * (N - B) * sizeof *one);
    double *many = aud_malloc(2 * (N - B) * sizeof *many);
    assert_true(b != NULL && c != NULL && one != NULL && many != NULL);
    for (size_t i = 0; i < N; i++) {
        b[i] = (double)i * 0.5;
        c[i] = -(double)i;
    }
    aud_column cols[2];
    memset(cols, 0, sizeof cols);
    cols[0] = (aud_column){ name_c, AUD_COL_NUMERIC, c, NULL, NULL, 0, 0, 0 };
    cols[1] = (aud_column){ name_b, AUD_COL_NUMERIC, b, NULL, NULL, 0, 0, 0 };
    aud_table t = { .path = path, .n_rows = N, .n_cols = 2, .cols = cols };
    size_t ci[2];
    int by_pos = -1;
    aud_model *m = linear_bound(&t, ci, &by_pos);
    aud_model_fill_rows(m, &t, ci, B, N - 1, one);
    for (int threads = 1; threads <= 3; threads++) {
        memset(many, 0, 2 * (N - B) * sizeof *many);
        aud_model_fill_rows_on(m, &t, ci, B, N - 1, many, threads);
        assert_memory_equal(one, many, 2 * (N - 1 - B) * sizeof *one);
    }
    assert_true(one[0] == 3.5 && one[1] == -7.0);   /* b, c of row 7 */
    aud_model_free(m);
    aud_free(b);
    aud_free(c);
    aud_free(one);
    aud_free(many);
}

static void test_bind_errors(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[4];
    make_table(&t, cols);
    aud_model *m = NULL;
    aud_error err;
    const char *doc_missing =
        "{\"format\": \"audit-linear\", \"version\": 1, \"link\": \"identity\", \"intercept\": 1,"
        " \"coefficients\": {\"b\": 2, \"zz\": -1}}";
    assert_int_equal(aud_model_parse(&m, doc_missing, strlen(doc_missing), "l.json", NULL, &err),
                     AUD_OK);
    size_t ci[2];
    int by_pos;
    assert_int_equal(aud_model_bind(m, &t, ci, &by_pos, &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "zz");
    assert_string_equal(err.file, "mem.csv");
    aud_model_free(m);
    const char *doc_cat =
        "{\"format\": \"audit-linear\", \"version\": 1, \"link\": \"identity\", \"intercept\": 1,"
        " \"coefficients\": {\"s\": 2}}";
    assert_int_equal(aud_model_parse(&m, doc_cat, strlen(doc_cat), "l.json", NULL, &err), AUD_OK);
    assert_int_equal(aud_model_bind(m, &t, ci, &by_pos, &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "s");
    assert_non_null(strstr(err.msg, "not numeric"));
    aud_model_free(m);
}

static void test_bind_by_position(void **state)
{
    (void)state;
    aud_table t;
    aud_column cols[4];
    make_table(&t, cols);
    const char *doc =
        "{\"format\": \"audit-trees\", \"version\": 1, \"features\": null, \"n_features\": 3,"
        " \"n_outputs\": 1, \"link\": \"identity\", \"missing\": \"default\","
        " \"trees\": [{\"left\": [1, -1, -1], \"right\": [2, -1, -1], \"feature\": [2, -2, -2],"
        " \"threshold\": [2.0, 0, 0], \"default_left\": [1, 0, 0], \"value\": [0, 7, 9]}]}";
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_parse(&m, doc, strlen(doc), "t.json", NULL, &err), AUD_OK);
    assert_null(m->feature_names);
    size_t ci[3];
    int by_pos = 0;
    assert_int_equal(aud_model_bind(m, &t, ci, &by_pos, &err), AUD_OK);
    assert_int_equal(by_pos, 1);
    assert_int_equal(ci[2], 2);
    double out[5];
    assert_int_equal(aud_predict_table(m, &t, ci, 0, 2, out, &err), AUD_OK);
    for (size_t r = 0; r < 5; r++)   /* feature 2 = column b: (float)b <= 2.0 */
        assert_true(out[r] == (col_b[r] <= 2.0 ? 7 : 9));
    t.n_cols = 2;                    /* fewer columns than features */
    assert_int_equal(aud_model_bind(m, &t, ci, &by_pos, &err), AUD_E_SCHEMA);
    aud_model_free(m);
}

/* Models without a missing-value rule give NaN margins, never an invented figure. */
static void test_no_missing_gives_nan(void **state)
{
    (void)state;
    const char *doc =
        "{\"format\": \"audit-trees\", \"version\": 1, \"features\": [\"a\", \"b\", \"c\"],"
        " \"n_outputs\": 1, \"link\": \"identity\", \"missing\": \"error\","
        " \"trees\": [{\"left\": [1, -1, -1], \"right\": [2, -1, -1], \"feature\": [1, -2, -2],"
        " \"threshold\": [2.0, 0, 0], \"value\": [0, 7, 9]}]}";
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_parse(&m, doc, strlen(doc), "t.json", NULL, &err), AUD_OK);
    assert_true(m->no_missing);
    assert_int_equal(m->feature_used[0], 0);
    assert_int_equal(m->feature_used[1], 1);
    double x[3] = { NAN, 1.0, 0.0 }, out;
    aud_model_predict_margin(m, x, &out);   /* NaN in an unused feature: fine */
    assert_true(out == 7);
    x[1] = NAN;
    aud_model_predict_margin(m, x, &out);
    assert_true(isnan(out));
    double X[6] = { 0, 3, 0, 0, NAN, 0 }, o2[2];
    aud_model_predict_margin_block(m, X, 2, o2);
    assert_true(o2[0] == 9 && isnan(o2[1]));
    aud_model_free(m);
    assert_int_equal(aud_model_parse(&m, linear_doc, strlen(linear_doc), "l.json", NULL, &err),
                     AUD_OK);
    double xl[2] = { NAN, 1 };
    aud_model_predict_margin(m, xl, &out);
    assert_true(isnan(out));
    aud_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_by_name_and_fill),
        cmocka_unit_test(test_fill_rows_on_threads),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_bind_by_position),
        cmocka_unit_test(test_no_missing_gives_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
