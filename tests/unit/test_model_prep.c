/* test_model_prep.c - pipeline models (models/prep.c, docs/model-formats.md "preprocess"): the
 * fast prediction path of trees mixing category-set splits with scikit-learn float32 splits gives
 * bit-identical margins to the reference walker at and around every threshold (the float32 test
 * rewritten as an exact double threshold), tiny thresholds fall back to the walker, and a
 * categorical stage binds to text columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_int.h"

/* Tree: node 0 splits feature 0 (le_f32 at THR), node 1 is a category-set split on feature 1. */
static aud_model *model_with(double thr)
{
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"format\": \"audit-trees\", \"version\": 1, \"features\": [\"x\", \"c\"],"
             " \"n_outputs\": 1, \"link\": \"identity\", \"missing\": \"default\","
             " \"trees\": [{\"left\": [1, 3, -1, -1, -1], \"right\": [2, 4, -1, -1, -1],"
             " \"feature\": [0, 1, -1, -1, -1], \"threshold\": [%.17g, 0, 0, 0, 0],"
             " \"value\": [0, 0, 1, 2, 3], \"default_left\": [1, 0, 0, 0, 0],"
             " \"categories\": [null, [1, 3], null, null, null]}],"
             " \"preprocess\": {\"c\": {\"categories\": [\"a\", \"b\", \"c\", \"d\"],"
             " \"values\": [0, 1, 2, 3], \"unknown\": -1}}}", thr);
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_parse(&m, doc, strlen(doc), "m.json", NULL, &err), AUD_OK);
    return m;
}

static double reference(const aud_model *m, const double *x)
{
    return m->trees[0].value[aud_tree_leaf(&m->trees[0], x)];
}

static void test_packed_float_splits_equal_walker(void **state)
{
    (void)state;
    static const double thrs[] = {0.1, -0.1, 1e-30, -1e-30, 1.0, 16777217.0, 0.3333333432674408,
                                  0.33333334326744085, 3.4028234663852886e38, 3.5e38, -3.5e38,
                                  AUD_LGBM_KZERO, -2e-35, 5e5, -7.25};
    for (size_t k = 0; k < sizeof thrs / sizeof thrs[0]; k++) {
        aud_model *m = model_with(thrs[k]);
        assert_non_null(m->packed);
        double t = thrs[k];
        float f = (float)t, g = nextafterf(f, INFINITY), h = nextafterf(f, -INFINITY);
        double xs[] = {t, nextafter(t, INFINITY), nextafter(t, -INFINITY), f, g, h,
                       ((double)f + g) / 2, nextafter(((double)f + g) / 2, INFINITY),
                       nextafter(((double)f + g) / 2, -INFINITY), ((double)f + h) / 2,
                       nextafter(((double)f + h) / 2, INFINITY),
                       nextafter(((double)f + h) / 2, -INFINITY), 0.0, -0.0, 1e-36, -1e-36,
                       NAN, INFINITY, -INFINITY, 0x1.ffffffp127, -0x1.ffffffp127, FLT_MAX};
        size_t n = sizeof xs / sizeof xs[0];
        double X[2 * 64], M[64];
        for (size_t c = 0; c < 5; c++) {   /* codes 0..3 and -1 (unknown) */
            for (size_t r = 0; r < n; r++) {
                X[2 * r] = xs[r];
                X[2 * r + 1] = c < 4 ? (double)c : -1.0;
            }
            aud_model_predict_margin_block(m, X, n, M);
            for (size_t r = 0; r < n; r++) {
                double want = reference(m, X + 2 * r);
                if (M[r] != want)
                    fail_msg("thr %.17g x %.17g code %zu: packed %g, walker %g", t, xs[r], c,
                             M[r], want);
            }
        }
        aud_model_free(m);
    }
}

/* A float32 threshold inside kZeroThreshold cannot be rewritten for the double layout (tiny
 * values are 0 there): the model uses the reference walker, with the same results. */
static void test_tiny_threshold_uses_the_walker(void **state)
{
    (void)state;
    aud_model *m = model_with(5e-36);
    assert_null(m->packed);
    double x[2] = {1e-36, 1}, out;
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 2.0);   /* float(1e-36) > 5e-36 is false: left, then code 1 is in the set */
    aud_model_free(m);
}

static void test_categorical_stage_binds_text_columns(void **state)
{
    (void)state;
    aud_model *m = model_with(0.5);
    static double xs[4] = {0.25, 0.25, 0.75, 0.25};
    static int32_t codes[4] = {0, 1, 0, -1};
    static char la[] = "d", lb[] = "zz", nx[] = "x", nc[] = "c", path[] = "mem.csv";
    static char *levels[2] = {la, lb};
    aud_column cols[2] = {{.name = nx, .type = AUD_COL_NUMERIC, .num = xs},
                          {.name = nc, .type = AUD_COL_CATEGORICAL, .codes = codes,
                           .levels = levels, .n_levels = 2, .n_missing = 1}};
    aud_table t = {.path = path, .n_rows = 4, .n_cols = 2, .cols = cols};
    size_t idx[2];
    int by_pos;
    aud_error err;
    assert_int_equal(aud_model_bind(m, &t, idx, &by_pos, &err), AUD_OK);
    double X[8];
    aud_model_fill_rows(m, &t, idx, 0, 4, X);
    assert_true(X[1] == 3.0);    /* "d" is category 3 */
    assert_true(X[3] == -1.0);   /* "zz" was not seen: unknown */
    assert_true(isnan(X[7]));    /* missing, and the stage has no "missing": NaN */
    int bad;
    aud_prep_value(m, 1, &cols[1], 3, &bad);
    assert_int_equal(bad, 2);
    aud_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_float_splits_equal_walker),
        cmocka_unit_test(test_tiny_threshold_uses_the_walker),
        cmocka_unit_test(test_categorical_stage_binds_text_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
