/* test_model_lgbm.c - LightGBM text models against the real LightGBM v4.6.0 fixtures
 * (tests/golden/data/lightgbm, subset made by tests/golden/gen_lightgbm_subset.py from
 * ../shared/fixtures/lightgbm). Raw scores and predictions must be BIT-EXACT (tolerance 0): the
 * fixture README shows a correct walker reproduces them exactly. Also: the per-node decision rules
 * at their edges, and hostile model files (located errors, no crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>

#include "models/model_int.h"
#include "model_test_util.h"

static void check_fixture(const char *task, size_t n_outputs)
{
    char path[256];
    aud_model *m = NULL;
    aud_error err;
    snprintf(path, sizeof path, "tests/golden/data/lightgbm/%s/model.txt", task);
    int rc = aud_model_load(&m, path, NULL, &err);
    if (rc != AUD_OK)
        fail_msg("%s: %s", path, err.msg);
    assert_string_equal(m->format, "lightgbm-text");
    assert_int_equal(m->n_features, 11);
    assert_int_equal(m->n_outputs, n_outputs);
    assert_non_null(m->feature_names);
    assert_string_equal(m->feature_names[10], "cat");

    test_matrix x, raw, pred;
    snprintf(path, sizeof path, "tests/golden/data/lightgbm/%s/input.csv", task);
    assert_int_equal(test_read_csv(path, &x), 0);
    snprintf(path, sizeof path, "tests/golden/data/lightgbm/%s/raw_score.csv", task);
    assert_int_equal(test_read_csv(path, &raw), 0);
    snprintf(path, sizeof path, "tests/golden/data/lightgbm/%s/prediction.csv", task);
    assert_int_equal(test_read_csv(path, &pred), 0);
    assert_int_equal(x.cols, 11);
    assert_int_equal(raw.cols, n_outputs);
    assert_int_equal(pred.cols, n_outputs);
    assert_int_equal(x.rows, 300);
    assert_int_equal(raw.rows, x.rows);
    double margin[3], p[3];
    size_t bad = 0;
    /* the packed layout (used below) must agree bit for bit with the reference walker */
    assert_non_null(m->packed);
    {
        double *blk = aud_malloc(x.rows * n_outputs * sizeof *blk);
        aud_model_predict_margin_block(m, x.v, x.rows, blk);
        void *pk = m->packed;
        m->packed = NULL;
        for (size_t r = 0; r < x.rows; r++) {
            aud_model_predict_margin(m, x.v + r * 11, margin);
            for (size_t k = 0; k < n_outputs; k++)
                if (memcmp(&margin[k], &blk[r * n_outputs + k], sizeof margin[k]) != 0)
                    bad++;
        }
        m->packed = pk;
        aud_free(blk);
        assert_int_equal(bad, 0);
    }
    for (size_t r = 0; r < x.rows; r++) {
        aud_model_predict_margin(m, x.v + r * 11, margin);
        aud_model_transform(m, margin, p);
        for (size_t k = 0; k < n_outputs; k++) {
            /* tolerance 0: bit-exact */
            if (margin[k] != raw.v[r * n_outputs + k] || p[k] != pred.v[r * n_outputs + k]) {
                if (bad++ < 5)
                    print_error("%s row %zu class %zu: raw %.17g vs %.17g, pred %.17g vs %.17g\n",
                                task, r, k, margin[k], raw.v[r * n_outputs + k], p[k],
                                pred.v[r * n_outputs + k]);
            }
        }
    }
    assert_int_equal(bad, 0);
    test_matrix_free(&x);
    test_matrix_free(&raw);
    test_matrix_free(&pred);
    aud_model_free(m);
}

static void test_binary(void **state)
{
    (void)state;
    check_fixture("binary", 1);
}

static void test_regression(void **state)
{
    (void)state;
    check_fixture("regression", 1);
}

static void test_multiclass(void **state)
{
    (void)state;
    check_fixture("multiclass", 3);
}

/* Rule 5 of the fixture README: values with |v| <= kZeroThreshold become 0.0 first. */
static void test_numerical_decision_edges(void **state)
{
    (void)state;
    double kz = AUD_LGBM_KZERO;
    /* -kZ meets threshold -kZ: zeroed first, so 0 <= -kZ is false -> right */
    assert_false(aud_lgbm_num_left(-kz, -kz, AUD_MISSING_NONE, 1));
    assert_true(aud_lgbm_num_left(-2 * kz, -kz, AUD_MISSING_NONE, 0));
    /* NaN with missing None is 0.0 */
    assert_true(aud_lgbm_num_left(NAN, 0.0, AUD_MISSING_NONE, 0));
    assert_false(aud_lgbm_num_left(NAN, -1.0, AUD_MISSING_NONE, 1));
    /* Zero: NaN -> 0 -> default; tiny -> default */
    assert_true(aud_lgbm_num_left(NAN, -1.0, AUD_MISSING_ZERO, 1));
    assert_false(aud_lgbm_num_left(1e-36, 5.0, AUD_MISSING_ZERO, 0));
    assert_true(aud_lgbm_num_left(3.0, 5.0, AUD_MISSING_ZERO, 0));
    /* NaN type: NaN -> default; value exactly at threshold goes left; next double right */
    assert_false(aud_lgbm_num_left(NAN, 5.0, AUD_MISSING_NAN, 0));
    assert_true(aud_lgbm_num_left(0.25, 0.25, AUD_MISSING_NAN, 0));
    assert_false(aud_lgbm_num_left(nextafter(0.25, 1.0), 0.25, AUD_MISSING_NAN, 1));
}

static void test_xgb_sklearn_float_compare(void **state)
{
    (void)state;
    aud_tree t;
    aud_error err;
    assert_int_equal(aud_tree_alloc(&t, 3, &err), AUD_OK);
    t.left[0] = 1;
    t.right[0] = 2;
    t.feature[0] = 0;
    t.threshold[0] = (double)0.1f;
    t.kind[0] = AUD_SPLIT_LT_F32;
    t.default_left[0] = 1;
    /* 0.1 (double) becomes 0.1f: not < 0.1f -> right, although 0.1 < (double)0.1f */
    assert_true(0.1 < (double)0.1f);
    assert_false(aud_tree_go_left(&t, 0, 0.1));
    assert_true(aud_tree_go_left(&t, 0, 0.09999));
    assert_true(aud_tree_go_left(&t, 0, NAN));
    t.default_left[0] = 0;
    assert_false(aud_tree_go_left(&t, 0, NAN));
    /* scikit-learn: float32(x) <= threshold (a double) */
    t.kind[0] = AUD_SPLIT_LE_F32;
    t.threshold[0] = 0.10000000149011613; /* just above 0.1f = 0.100000001490116119384765625 */
    assert_true(aud_tree_go_left(&t, 0, 0.1));
    t.threshold[0] = 0.1;                 /* (float)0.1 > 0.1 -> right */
    assert_false(aud_tree_go_left(&t, 0, 0.1));
    assert_int_equal(aud_tree_validate(&t, 1, "t", "tree 0", &err), AUD_OK);
    assert_int_equal(aud_tree_validate(&t, 0, "t", "tree 0", &err), AUD_E_DOMAIN);
    aud_free(t.left); aud_free(t.right); aud_free(t.feature); aud_free(t.threshold);
    aud_free(t.kind); aud_free(t.missing); aud_free(t.default_left); aud_free(t.value);
    aud_free(t.cover); aud_free(t.cat_begin); aud_free(t.cat_words);
}

/* A small valid model and corrupted variants of it. */
static const char *const good_model =
    "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
    "max_feature_idx=1\nobjective=binary sigmoid:1\nfeature_names=a b\n\n"
    "Tree=0\nnum_leaves=3\nnum_cat=1\nsplit_feature=0 1\nthreshold=0.5 0\n"
    "decision_type=2 1\nleft_child=1 -1\nright_child=-3 -2\n"
    "leaf_value=0.1 0.2 0.3\nleaf_count=1 1 2\ninternal_value=0 0\ninternal_count=4 2\n"
    "cat_boundaries=0 1\ncat_threshold=6\nis_linear=0\nshrinkage=1\n\n\nend of trees\n";

static int parse_variant(const char *from, const char *to, aud_error *err)
{
    char buf[2048];
    const char *at = strstr(good_model, from);
    if (at == NULL)
        fail_msg("variant anchor not found: %s", from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good_model), good_model, to,
             at + strlen(from));
    aud_model *m = NULL;
    int rc = aud_model_parse(&m, buf, strlen(buf), "bad.txt", NULL, err);
    aud_model_free(m);
    return rc;
}

static void test_small_model_semantics(void **state)
{
    (void)state;
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_parse(&m, good_model, strlen(good_model), "g.txt", NULL, &err),
                     AUD_OK);
    double x[2], s;
    /* a <= 0.5 -> node 1 (categorical on b: bits 1,2 of word 6 -> left = leaf 0) */
    x[0] = 0.2; x[1] = 1.0;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.1);
    x[1] = 2.9;  /* (int)2.9 = 2: bit set -> leaf 0 */
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.1);
    x[1] = 3.0;  /* bit 3 not set -> right = leaf 1 */
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.2);
    x[1] = -0.5; /* (int)-0.5 = 0, bit 0 not set -> right */
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.2);
    x[1] = NAN;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.2);
    x[1] = 1e10; /* beyond the bitset -> right */
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.2);
    x[0] = NAN;  /* missing None: 0 <= 0.5 -> left */
    x[1] = 1.0;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.1);
    x[0] = 0.6;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == 0.3);
    double p;
    aud_model_transform(m, &s, &p);
    assert_true(p == 1.0 / (1.0 + exp(-0.3)));
    assert_int_equal(m->link, AUD_LINK_SIGMOID);
    assert_true(m->trees[0].cover[0] == 4.0 && m->trees[0].cover[2] == 1.0);
    assert_int_equal(m->trees[0].n_nodes, 5);
    aud_model_free(m);
}

static void test_hostile_files(void **state)
{
    (void)state;
    aud_error err;
    /* child index out of range */
    assert_int_equal(parse_variant("left_child=1 -1", "left_child=5 -1", &err), AUD_E_DOMAIN);
    assert_string_equal(err.file, "bad.txt");
    assert_true(err.line > 0);
    /* cycle: node 1 points back to the root */
    assert_int_equal(parse_variant("left_child=1 -1", "left_child=1 0", &err), AUD_E_DOMAIN);
    /* leaf index out of range */
    assert_int_equal(parse_variant("right_child=-3 -2", "right_child=-9 -2", &err),
                     AUD_E_DOMAIN);
    /* feature index beyond max_feature_idx */
    assert_int_equal(parse_variant("split_feature=0 1", "split_feature=0 7", &err),
                     AUD_E_DOMAIN);
    /* wrong number of values */
    assert_int_equal(parse_variant("leaf_value=0.1 0.2 0.3", "leaf_value=0.1 0.2", &err),
                     AUD_E_SCHEMA);
    /* not a number */
    assert_int_equal(parse_variant("threshold=0.5 0", "threshold=abc 0", &err), AUD_E_PARSE);
    assert_int_equal(err.column, 11);
    /* categorical index beyond num_cat */
    assert_int_equal(parse_variant("threshold=0.5 0", "threshold=0.5 3", &err), AUD_E_DOMAIN);
    /* bitset boundaries beyond the words */
    assert_int_equal(parse_variant("cat_boundaries=0 1", "cat_boundaries=0 4", &err),
                     AUD_E_SCHEMA);
    /* unknown objective */
    assert_int_equal(parse_variant("binary sigmoid:1", "lambdamart", &err), AUD_E_UNSUPPORTED);
    /* absurd sizes */
    assert_int_equal(parse_variant("num_leaves=3", "num_leaves=999999999", &err), AUD_E_DOMAIN);
    /* a large but allowed num_leaves is checked against the data before any allocation */
    assert_int_equal(parse_variant("num_leaves=3", "num_leaves=30000000", &err), AUD_E_SCHEMA);
    assert_int_equal(parse_variant("max_feature_idx=1", "max_feature_idx=-4", &err),
                     AUD_E_DOMAIN);
    /* missing arrays */
    assert_int_equal(parse_variant("decision_type=2 1\n", "", &err), AUD_E_SCHEMA);
    /* pandas categorical mapping: read when the categorical features are known (feature_infos
     * or the categorical_feature parameter), a located error when they are not */
    assert_int_equal(parse_variant("end of trees\n", "end of trees\n\nfeature_importances:\n"
                                   "pandas_categorical:[[\"a\", \"b\"]]\n", &err),
                     AUD_E_SCHEMA);
    assert_non_null(strstr(err.msg, "pandas_categorical"));
    assert_int_equal(err.line, 31);   /* the pandas_categorical line */
    assert_int_equal(parse_variant("end of trees\n", "end of trees\n\nparameters:\n"
                                   "[categorical_feature: 1]\nend of parameters\n\n"
                                   "pandas_categorical:[[\"a\", \"b\"]]\n", &err), AUD_OK);
    assert_int_equal(parse_variant("feature_names=a b\n", "feature_names=a b\n"
                                   "feature_infos=[0:1] -1:0:1\n", &err), AUD_OK);
    assert_int_equal(parse_variant("end of trees\n", "end of trees\n\nparameters:\n"
                                   "[categorical_feature: 5]\nend of parameters\n\n"
                                   "pandas_categorical:[[\"a\", \"b\"]]\n", &err),
                     AUD_E_SCHEMA);
    assert_int_equal(parse_variant("end of trees\n", "end of trees\npandas_categorical:null\n",
                                   &err), AUD_OK);
    /* a header key twice (fuzzing: the first objective string leaked) */
    assert_int_equal(parse_variant("objective=binary sigmoid:1\n", "objective=binary sigmoid:1\n"
                                   "objective=regression\n", &err), AUD_E_SCHEMA);
    assert_string_equal(err.msg, "duplicate \"objective\" header line");
    assert_int_equal(err.line, 8);
    assert_int_equal(parse_variant("num_class=1\n", "num_class=1\nnum_class=1\n", &err),
                     AUD_E_SCHEMA);
    /* linear trees */
    assert_int_equal(parse_variant("is_linear=0", "is_linear=1", &err), AUD_E_UNSUPPORTED);
    /* unknown missing type bits */
    assert_int_equal(parse_variant("decision_type=2 1", "decision_type=14 1", &err),
                     AUD_E_DOMAIN);
    /* every truncation of the file: an error or a valid model, never a crash */
    size_t n = strlen(good_model);
    for (size_t len = 0; len < n; len++) {
        char buf[2048];
        memcpy(buf, good_model, len);
        buf[len] = '\0';
        aud_model *m = NULL;
        int rc = aud_model_parse(&m, buf, len, "trunc.txt", "lightgbm-text", &err);
        assert_true(rc == AUD_OK || rc == AUD_E_PARSE || rc == AUD_E_SCHEMA ||
                    rc == AUD_E_DOMAIN || rc == AUD_E_UNSUPPORTED);
        aud_model_free(m);
    }
    /* not a model at all */
    aud_model *m = NULL;
    assert_int_equal(aud_model_parse(&m, "hello\n", 6, "x.bin", NULL, &err), AUD_E_PARSE);
    assert_null(m);
}

/* A one-leaf tree (no split arrays) and rf mode (average_output). */
static void test_single_leaf_and_average_output(void **state)
{
    (void)state;
    const char *one =
        "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=1\n"
        "objective=regression\nfeature_names=a b\naverage_output\ntree_sizes=1 1\n\n"
        "Tree=0\nnum_leaves=1\nnum_cat=0\nleaf_value=0.25\nleaf_count=10\nis_linear=0\n"
        "shrinkage=1\n\n\n"
        "Tree=1\nnum_leaves=2\nnum_cat=0\nsplit_feature=1\nthreshold=1.5\ndecision_type=2\n"
        "left_child=-1\nright_child=-2\nleaf_value=1 2\nleaf_count=4 6\ninternal_value=0\n"
        "internal_count=10\nis_linear=0\nshrinkage=1\n\n\nend of trees\n";
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_parse(&m, one, strlen(one), "one.txt", NULL, &err) != AUD_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(m->n_trees, 2);
    assert_int_equal(m->trees[0].n_nodes, 1);
    assert_true(m->average_output);
    double x[2] = { 0, 1.5 }, s;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == (0.25 + 1.0) / 2);
    x[1] = 2;
    aud_model_predict_margin(m, x, &s);
    assert_true(s == (0.25 + 2.0) / 2);
    aud_model_free(m);
    /* tree_sizes disagreeing with the trees present */
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", one);
    char *ts = strstr(buf, "tree_sizes=1 1");
    ts[13] = ' ';
    ts[12] = '1';
    assert_int_equal(aud_model_parse(&m, buf, strlen(buf), "one.txt", NULL, &err), AUD_E_SCHEMA);
}

/* ---- leaf masks (model_packed.c, AVX-512) ------------------------------------------------- */

/* The fixtures' models: rows of input.csv in turn, with values on and beside the numerical
 * splits (the threshold, the doubles either side, 0, -0, +-kZeroThreshold and twice it, NaN,
 * +-inf) and hard values at the category sets' features, put in rows chosen by a fixed
 * generator; the leaf masks give the walk's raw scores bit for bit. */
static void test_leaf_masks_equal_walk_fixtures(void **state)
{
    (void)state;
    static const char *const dirs[] = {
        "lightgbm/binary", "lightgbm/regression", "lightgbm/multiclass", "lightgbm_cat/binary",
        "lightgbm_cat/regression", "lightgbm_cat/multiclass" };
    size_t masked = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char path[256];
        aud_model *m = NULL;
        aud_error err;
        snprintf(path, sizeof path, "tests/golden/data/%s/model.txt", dirs[d]);
        if (aud_model_load(&m, path, NULL, &err) != AUD_OK)
            fail_msg("%s: %s", path, err.msg);
        test_matrix x;
        snprintf(path, sizeof path, "tests/golden/data/%s/input.csv", dirs[d]);
        assert_int_equal(test_read_csv(path, &x), 0);
        size_t F = m->n_features, n = 16 * 30 + 5;
        assert_int_equal(x.cols, F);
        double *X = test_cycle_rows(&x, n);
        assert_non_null(X);
        uint64_t g = 0x2545F4914F6CDD1Du;
        double kz = AUD_LGBM_KZERO;
        for (size_t t = 0; t < m->n_trees; t++) {
            const aud_tree *tr = &m->trees[t];
            for (int32_t i = 0; i < tr->n_nodes; i++) {
                double v = tr->threshold[i];
                double num[] = { v, nextafter(v, INFINITY), nextafter(v, -INFINITY), 0.0, -0.0,
                                 kz, -kz, 2 * kz, -2 * kz, NAN, INFINITY, -INFINITY };
                /* category sets: codes in and out of the set and past its words, truncation
                 * toward zero, the ends of int32 */
                double cat[] = { -1.0, -0.5, 0.5, 1.0, 2.9, 31.0, 32.0, 33.0, 64.0, 1e10,
                                 2147483647.0, 2147483648.0, -2147483648.0, NAN, -INFINITY, 3.0 };
                if (tr->left[i] < 0)
                    continue;
                if (tr->kind[i] == AUD_SPLIT_CAT)
                    test_scatter(X, n, F, tr->feature[i], cat, sizeof cat / sizeof cat[0], &g);
                else
                    test_scatter(X, n, F, tr->feature[i], num, sizeof num / sizeof num[0], &g);
            }
        }
        masked += aud_packed_leaf_mask_trees(m);
        assert_int_equal(test_mask_paths_differ(m, X, n), 0);
        free(X);
        test_matrix_free(&x);
        aud_model_free(m);
    }
    print_message("trees by leaf masks: %zu\n", masked);
    if (test_cpu_has_masks())
        assert_true(masked > 0);
}

/* A model of combs (internal node i: leaf i on the left, node i + 1 on the right) whose splits
 * take every missing type and default, at thresholds 0, +-1e-36, +-kZeroThreshold and ordinary
 * ones (the whole rule of pk64_step, not only x <= t), of 64 leaves (masks of one word), 65, 100
 * and 128 (two words; on one feature, thresholds mostly rising, so rows reach the second word's
 * leaves) and 129 (walked); against the walk on rows of those values, NaN, +-inf. */
static void test_leaf_masks_missing_types(void **state)
{
    (void)state;
    static const int leaves[] = { 7, 64, 65, 13, 2, 128, 129, 100 };
    const size_t nt = sizeof leaves / sizeof leaves[0], cap = 1 << 17;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t o = (size_t)snprintf(doc, cap,
                                "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\n"
                                "max_feature_idx=2\nobjective=regression\nfeature_names=a b c\n"
                                "tree_sizes=1 1 1 1 1 1 1 1\n\n");
    static const char *const thr[] = { "0", "1e-36", "-1e-36", "1.0000000180025095e-35",
                                       "-1.0000000180025095e-35", "1.5", "-2.5", "0.25" };
    static const int dtype[] = { 0, 2, 4, 6, 8, 10 };
    for (size_t t = 0; t < nt; t++) {
        int L = leaves[t];
        o += (size_t)snprintf(doc + o, cap - o, "Tree=%zu\nnum_leaves=%d\nnum_cat=0\nsplit_feature=",
                              t, L);
        int mono = L > 64;   /* one feature, rising thresholds: rows reach every leaf */
        for (int i = 0; i < L - 1; i++)
            o += (size_t)snprintf(doc + o, cap - o, "%s%d", i ? " " : "", mono ? 0 : (i + (int)t) % 3);
        o += (size_t)snprintf(doc + o, cap - o, "\nthreshold=");
        for (int i = 0; i < L - 1; i++) {
            if (mono && i % 9 != 4)
                o += (size_t)snprintf(doc + o, cap - o, "%s%.17g", i ? " " : "",
                                      -3.0 + 6.0 * i / (L - 2));
            else   /* the hard thresholds among them (0, +-1e-36, +-kZeroThreshold) */
                o += (size_t)snprintf(doc + o, cap - o, "%s%s", i ? " " : "",
                                      thr[(i * 3 + (int)t) % 8]);
        }
        o += (size_t)snprintf(doc + o, cap - o, "\ndecision_type=");
        for (int i = 0; i < L - 1; i++)
            o += (size_t)snprintf(doc + o, cap - o, "%s%d", i ? " " : "", dtype[(i + 2 * (int)t) % 6]);
        o += (size_t)snprintf(doc + o, cap - o, "\nleft_child=");
        for (int i = 0; i < L - 1; i++)
            o += (size_t)snprintf(doc + o, cap - o, "%s%d", i ? " " : "", ~i);
        o += (size_t)snprintf(doc + o, cap - o, "\nright_child=");
        for (int i = 0; i < L - 1; i++)
            o += (size_t)snprintf(doc + o, cap - o, "%s%d", i ? " " : "", i + 1 < L - 1 ? i + 1 : ~(L - 1));
        o += (size_t)snprintf(doc + o, cap - o, "\nleaf_value=");
        for (int i = 0; i < L; i++)
            o += (size_t)snprintf(doc + o, cap - o, "%s%.17g", i ? " " : "", i / 8.0 + (double)t);
        o += (size_t)snprintf(doc + o, cap - o, "\nis_linear=0\nshrinkage=1\n\n\n");
    }
    snprintf(doc + o, cap - o, "end of trees\n");
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_parse(&m, doc, strlen(doc), "combs.txt", NULL, &err) != AUD_OK)
        fail_msg("%s (%s)", err.msg, err.field);
    assert_int_equal(m->n_trees, nt);
    if (test_cpu_has_masks())
        assert_int_equal(aud_packed_leaf_mask_trees(m), nt - 1);   /* not the 129 leaves */
    double kz = AUD_LGBM_KZERO;
    const double special[] = { NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e-36, -1e-36, kz, -kz,
                               2 * kz, -2 * kz, 1.5, -2.5, 0.25, nextafter(0.25, 1.0),
                               nextafter(1.5, 0.0), nextafter(kz, 1.0), nextafter(-kz, -1.0) };
    const size_t ns = sizeof special / sizeof special[0], n = 16 * 33 + 11, F = 3;
    double *X = malloc(n * F * sizeof *X);
    assert_non_null(X);
    uint64_t g = 99;
    for (size_t q = 0; q < n * F; q++) {
        g = g * 6364136223846793005u + 1442695040888963407u;
        unsigned u = (unsigned)(g >> 40);
        X[q] = u % 3 ? special[u / 3 % ns] : -3.0 + 6.0 * (double)(u % 8192) / 8192.0;
    }
    assert_int_equal(test_mask_paths_differ(m, X, n), 0);
    free(X);
    free(doc);
    aud_model_free(m);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    aud_error err;
    /* fail each allocation in turn: a clean AUD_E_NOMEM (no leak under ASan) or success */
    for (long k = 1; k < 200; k++) {
        aud_model *m = NULL;
        aud_alloc_fail_after(k);
        int rc = aud_model_parse(&m, good_model, strlen(good_model), "g.txt", NULL, &err);
        aud_alloc_fail_after(0);
        assert_true(rc == AUD_OK || rc == AUD_E_NOMEM);
        aud_model_free(m);
        if (rc == AUD_OK)
            break;
    }
}

/* ---- trees built after the line pass, on threads (models/lgbm_text.c) ---------------------- */

static const char *const lgbm_files[] = {
    "tests/golden/data/lightgbm/binary/model.txt", "tests/golden/data/lightgbm/multiclass/model.txt",
    "tests/golden/data/lightgbm/regression/model.txt",
    "tests/golden/data/lightgbm_cat/binary/model.txt",
    "tests/golden/data/lightgbm_cat/binary/model_pandas.txt" };

/* Each fixture padded past 256 KiB (trailing blank lines) reads the same at 1-3 threads as the
 * whole-file line pass reads it unpadded, field by field, and takes the threaded path from 2
 * threads. */
static void test_deferred_trees_equal_inline(void **state)
{
    (void)state;
    size_t deferred = 0;
    for (size_t f = 0; f < sizeof lgbm_files / sizeof lgbm_files[0]; f++) {
        char *data = NULL;
        size_t len = 0, big_len = 0;
        aud_error err;
        assert_int_equal(aud_file_read(lgbm_files[f], &data, &len, 0, &err), AUD_OK);
        assert_true(len < 256 * 1024);
        char *big = test_padded(data, len, &big_len);
        aud_model *a = NULL;
        long before = atomic_load(&aud_lgbm_deferred_parses);
        assert_int_equal(aud_model_parse(&a, data, len, lgbm_files[f], NULL, &err), AUD_OK);
        assert_int_equal(atomic_load(&aud_lgbm_deferred_parses), before);
        for (int t = 1; t <= 3; t++) {
            aud_model *b = NULL;
            before = atomic_load(&aud_lgbm_deferred_parses);
            if (aud_model_parse_threads(&b, big, big_len, lgbm_files[f], NULL, t, &err) != AUD_OK)
                fail_msg("%s: %s", lgbm_files[f], err.msg);
            deferred += (size_t)(atomic_load(&aud_lgbm_deferred_parses) - before);
            test_assert_same_model(a, b);
            assert_int_equal(a->link, b->link);
            assert_string_equal(a->objective, b->objective);
            aud_model_free(b);
        }
        aud_model_free(a);
        aud_free(big);
        aud_free(data);
    }
    assert_int_equal(deferred, 2 * (sizeof lgbm_files / sizeof lgbm_files[0]));   /* 2, 3 */
}

/* A fault in tree k of a large model: the error of the whole-file pass (code, message, line,
 * column), whichever tree and however many threads. */
static void test_deferred_trees_errors(void **state)
{
    (void)state;
    static const char *const variants[][2] = {
        { "num_leaves=", "num_leaves=9" },          /* arrays disagree with the count */
        { "threshold=", "threshold=x " },           /* not a number */
        { "left_child=", "left_child=0 " },         /* a cycle or a bad child */
        { "split_feature=", "split_feature=99 " },  /* feature out of range */
        { "leaf_value=", "leaf_valu=" },            /* a missing line */
        { "shrinkage=", "shrinkage=1\nshrinkage=" },   /* a duplicate line */
    };
    char *data = NULL;
    size_t len = 0;
    aud_error err;
    assert_int_equal(aud_file_read(lgbm_files[0], &data, &len, 0, &err), AUD_OK);
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        for (int k = 0; k < 50; k += 24) {   /* trees 0, 24, 48 of 50 */
            char head[32];
            snprintf(head, sizeof head, "\nTree=%d\n", k);
            const char *tk = strstr(data, head);
            assert_non_null(tk);
            const char *at = strstr(tk, variants[v][0]);
            assert_non_null(at);
            size_t n = len + 64;
            char *bad = aud_malloc(n);
            assert_non_null(bad);
            snprintf(bad, n, "%.*s%s%s", (int)(at - data), data, variants[v][1],
                     at + strlen(variants[v][0]));
            size_t bl = strlen(bad), big_len = 0;
            char *big = test_padded(bad, bl, &big_len);
            aud_model *m = NULL;
            aud_error e1, e2;
            int rc1 = aud_model_parse(&m, bad, bl, "m.txt", NULL, &e1);
            assert_null(m);
            if (rc1 == AUD_OK)
                fail_msg("variant %zu tree %d parses", v, k);
            for (int t = 1; t <= 3; t++) {
                int rc2 = aud_model_parse_threads(&m, big, big_len, "m.txt", NULL, t, &e2);
                assert_int_equal(rc1, rc2);
                assert_null(m);
                assert_string_equal(e1.msg, e2.msg);
                assert_int_equal(e1.line, e2.line);
                assert_int_equal(e1.column, e2.column);
            }
            aud_free(big);
            aud_free(bad);
        }
    }
    aud_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_regression),
        cmocka_unit_test(test_multiclass),
        cmocka_unit_test(test_numerical_decision_edges),
        cmocka_unit_test(test_xgb_sklearn_float_compare),
        cmocka_unit_test(test_small_model_semantics),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_single_leaf_and_average_output),
        cmocka_unit_test(test_leaf_masks_equal_walk_fixtures),
        cmocka_unit_test(test_leaf_masks_missing_types),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_deferred_trees_equal_inline),
        cmocka_unit_test(test_deferred_trees_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
