/* test_model_cat.c - native categorical splits (issue 16 item 2).
 *
 * Against the libraries: LightGBM v4.6.0 (tests/golden/data/lightgbm_cat, the CLI's raw_score and
 * pred_contrib; many-vs-many and 2-word bitsets, missing, unseen, gap and dropped categories) and
 * Debian's python3-xgboost 1.7.4 (tests/golden/data/xgb_cat, tests/golden/gen_xgb_cat.py:
 * output_margin and pred_contribs of enable_categorical models, one-hot and partition splits,
 * codes never seen in training). Margins: the packed predictor and the reference walker, exactly
 * (LightGBM sums in double, XGBoost in float32 as the library). TreeSHAP: the default path (leaf
 * tables), Linear TreeSHAP and the recursion forced on every tree; LightGBM within
 * 1e-9 * max(1, |ref|) (the fixtures' README), XGBoost within 1e-5 (float32 contributions).
 * By hand: XGBoost's category-set rule on probes, the loaders' located errors for malformed
 * category arrays and pandas_categorical lines, and --categories files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "models/model_int.h"
#include "explainers/shap.h"
#include "explainers/shap_int.h"
#include "model_test_util.h"

#define LGB "tests/golden/data/lightgbm_cat"
#define XGB "tests/golden/data/xgb_cat"

static aud_model *load(const char *path)
{
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_load(&m, path, NULL, &err) != AUD_OK) {
        fprintf(stderr, "%s: %s (%s)\n", path, err.msg, err.field);
        fail();
    }
    return m;
}

static void read_csv(const char *path, test_matrix *t)
{
    if (test_read_csv(path, t) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        fail();
    }
}

/* phi of every row with each tree's path-dependent algorithm forced (lin 1: Linear TreeSHAP,
 * 0: the recursion). */
static void forced_phi(const aud_model *m, const double *X, size_t n, int lin, double *phi)
{
    aud_error err;
    aud_shap_plan *plan = NULL;
    assert_int_equal(aud_shap_plan_new(&plan, m, &err), AUD_OK);
    for (size_t t = 0; t < m->n_trees; t++)
        plan->lin_q[t] = lin ? (plan->players[t] > 1 ? (plan->players[t] + 1) / 2 : 1) : 0;
    void *ws = aud_calloc(1, aud_shap_tree_ws_size(plan));
    size_t stride = m->n_outputs * (m->n_features + 1);
    memset(phi, 0, n * stride * sizeof *phi);
    for (size_t i = 0; i < n; i++)
        aud_shap_tree_row(plan, X + i * m->n_features, phi + i * stride, ws, 0, -1);
    aud_free(ws);
    aud_shap_plan_free(plan);
}

static void compare(const char *what, const double *got, const double *want, size_t n, int rel,
                    double tol)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (rel ? fmax(1.0, fabs(want[i])) : 1.0);
        if (!(e <= tol)) {
            fprintf(stderr, "%s: value %zu: got %.17g want %.17g\n", what, i, got[i], want[i]);
            fail();
        }
        worst = fmax(worst, e);
    }
    fprintf(stderr, "  %s: max %s |diff| %.3g\n", what, rel ? "relative" : "absolute", worst);
}

/* model, input codes, expected raw margins, expected contributions */
static void check_model(const char *model, const char *input, const char *margin,
                        const char *contrib, int rel, double tol)
{
    aud_model *m = load(model);
    test_matrix X, M, C;
    read_csv(input, &X);
    read_csv(margin, &M);
    read_csv(contrib, &C);
    size_t n = X.rows, K = m->n_outputs, S = K * (m->n_features + 1);
    assert_int_equal(X.cols, m->n_features);
    assert_int_equal(M.rows, n);
    assert_int_equal(M.cols, K);
    assert_int_equal(C.rows, n);
    assert_int_equal(C.cols, S);

    /* margins: block predictor (packed layout, every fixture has one) and the walker, exactly */
    double *mg = aud_malloc(n * K * sizeof *mg), *one = aud_malloc(K * sizeof *one);
    assert_non_null(m->packed);
    aud_model_predict_margin_block(m, X.v, n, mg);
    void *pk = m->packed;
    m->packed = NULL;
    for (size_t i = 0; i < n; i++) {
        aud_model_predict_margin(m, X.v + i * X.cols, one);
        for (size_t k = 0; k < K; k++) {
            if (mg[i * K + k] != M.v[i * K + k] || one[k] != M.v[i * K + k]) {
                fprintf(stderr, "%s row %zu: block %.17g walker %.17g want %.17g\n", model, i,
                        mg[i * K + k], one[k], M.v[i * K + k]);
                fail();
            }
        }
    }
    m->packed = pk;

    /* TreeSHAP: the default plan (leaf tables where they fit), then each algorithm forced */
    aud_error err;
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.threads = 2;
    aud_shap_result *r = NULL;
    assert_int_equal(aud_shap_explain(&r, m, X.v, n, &o, &err), AUD_OK);
    assert_int_equal(r->stride, S);
    char what[600];
    snprintf(what, sizeof what, "%s default", model);
    compare(what, r->phi, C.v, n * S, rel, tol);
    double *phi = aud_malloc(n * S * sizeof *phi);
    forced_phi(m, X.v, n, 1, phi);
    snprintf(what, sizeof what, "%s linear", model);
    compare(what, phi, C.v, n * S, rel, tol);
    forced_phi(m, X.v, n, 0, phi);
    snprintf(what, sizeof what, "%s recursion", model);
    compare(what, phi, C.v, n * S, rel, tol);

    aud_free(phi);
    aud_shap_result_free(r);
    aud_free(mg);
    aud_free(one);
    aud_free(X.v);
    aud_free(M.v);
    aud_free(C.v);
    aud_model_free(m);
}

static void test_lightgbm_fixtures(void **state)
{
    (void)state;
    static const char *const tasks[] = { "binary", "regression", "multiclass" };
    for (int i = 0; i < 3; i++) {
        char model[256], input[256], raw[256], contrib[256];
        snprintf(model, sizeof model, "%s/%s/model.txt", LGB, tasks[i]);
        snprintf(input, sizeof input, "%s/%s/input.csv", LGB, tasks[i]);
        snprintf(raw, sizeof raw, "%s/%s/raw_score.csv", LGB, tasks[i]);
        snprintf(contrib, sizeof contrib, "%s/%s/pred_contrib.csv", LGB, tasks[i]);
        check_model(model, input, raw, contrib, 1, 1e-9);
    }
    /* the python-package's file: the same trees plus the mapping, codes still read as codes */
    check_model(LGB "/binary/model_pandas.txt", LGB "/binary/input.csv",
                LGB "/binary/raw_score.csv", LGB "/binary/pred_contrib.csv", 1, 1e-9);
}

static void test_xgboost_goldens(void **state)
{
    (void)state;
    static const char *const tasks[] = { "binary", "regression", "multiclass" };
    for (int i = 0; i < 3; i++) {
        char model[256], margin[256], contrib[256];
        snprintf(model, sizeof model, "%s/%s.json", XGB, tasks[i]);
        snprintf(margin, sizeof margin, "%s/%s.codes_margin.csv", XGB, tasks[i]);
        snprintf(contrib, sizeof contrib, "%s/%s.contribs.csv", XGB, tasks[i]);
        check_model(model, XGB "/codes.csv", margin, contrib, 0, 1e-5);
        aud_model *m = load(model);
        assert_non_null(m->packed);   /* category sets in the float packed layout */
        assert_non_null(m->cat_feature);
        assert_true(m->cat_feature[1] && m->cat_feature[2] && m->cat_feature[4]);
        assert_false(m->cat_feature[0] || m->cat_feature[3]);
        aud_model_free(m);
    }
}

/* One stump: feature 0 categorical with set {1, 33} (2 words), default_left as given. */
static const char *stump(int default_left, const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"learner\": {\"feature_names\": [\"c\"], \"feature_types\": [\"c\"],"
             " \"learner_model_param\": {\"base_score\": \"0\", \"num_class\": \"0\","
             " \"num_feature\": \"1\"}, \"objective\": {\"name\": \"reg:squarederror\"},"
             " \"gradient_booster\": {\"name\": \"gbtree\", \"model\": {\"tree_info\": [0],"
             " \"trees\": [{\"tree_param\": {\"num_nodes\": \"3\"},"
             " \"left_children\": [1, -1, -1], \"right_children\": [2, -1, -1],"
             " \"split_indices\": [0, 0, 0], \"split_conditions\": [NaN, -1.0, 1.0],"
             " \"default_left\": [%d, 0, 0], \"split_type\": [1, 0, 0],"
             " \"sum_hessian\": [4, 2, 2], \"base_weights\": [0, -1, 1],"
             " %s}]}}}}", default_left, extra);
    return buf;
}

static const char *const GOOD_CATS =
    "\"categories\": [1, 33], \"categories_nodes\": [0], \"categories_segments\": [0],"
    " \"categories_sizes\": [2]";

static void test_xgboost_rule_by_hand(void **state)
{
    (void)state;
    aud_error err;
    for (int dl = 0; dl <= 1; dl++) {
        aud_model *m = NULL;
        const char *s = stump(dl, GOOD_CATS);
        assert_int_equal(aud_model_parse(&m, s, strlen(s), "stump", NULL, &err), AUD_OK);
        /* in the set -> right (+1); anything else -> left (-1); NaN -> default */
        const double x[] = { 1, 33, 1.5, 33.9, 0, 2, 32, 34, 63, 64, 1000, -1, -0.5, 1e12, NAN };
        const double want[] = { 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                dl ? -1 : 1 };
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
            double mg;
            aud_model_predict_margin(m, &x[i], &mg);
            if (mg != want[i]) {
                fprintf(stderr, "x=%g: got %g want %g\n", x[i], mg, want[i]);
                fail();
            }
        }
        aud_model_free(m);
    }
}

/* The packed layout (blocks of 8 rows and the single-row tail; the leaf masks of 16 rows) against
 * the reference walker, bit for bit, on a model mixing float32 and category-set splits: sets of 2 and 32 words, an empty
 * set (no category goes right), both default directions; probes around every set's codes and
 * bounds (fractions, -0.0, negatives, 32 * words and the floats next to it, 2^24, 2^31, huge,
 * infinities, NaN). */
static void test_xgboost_packed_equals_walker(void **state)
{
    (void)state;
    static const char *const doc =
        "{\"learner\": {\"feature_names\": [\"a\", \"b\", \"c\"],"
        " \"feature_types\": [\"c\", \"float\", \"c\"],"
        " \"learner_model_param\": {\"base_score\": \"0.25\", \"num_class\": \"0\","
        " \"num_feature\": \"3\"}, \"objective\": {\"name\": \"reg:squarederror\"},"
        " \"gradient_booster\": {\"name\": \"gbtree\", \"model\": {\"tree_info\": [0, 0, 0, 0, 0],"
        " \"trees\": ["
        "{\"tree_param\": {\"num_nodes\": \"7\"},"
        " \"left_children\": [1, 3, 5, -1, -1, -1, -1], \"right_children\": [2, 4, 6, -1, -1, -1, -1],"
        " \"split_indices\": [0, 1, 2, 0, 0, 0, 0],"
        " \"split_conditions\": [NaN, 0.5, NaN, 1, 2, 4, 8],"
        " \"default_left\": [0, 1, 1, 0, 0, 0, 0], \"split_type\": [1, 0, 1, 0, 0, 0, 0],"
        " \"sum_hessian\": [8, 4, 4, 2, 2, 2, 2], \"base_weights\": [0, 0, 0, 1, 2, 4, 8],"
        " \"categories\": [1, 33], \"categories_nodes\": [0, 2],"
        " \"categories_segments\": [0, 2], \"categories_sizes\": [2, 0]},"
        "{\"tree_param\": {\"num_nodes\": \"5\"},"
        " \"left_children\": [1, -1, 3, -1, -1], \"right_children\": [2, -1, 4, -1, -1],"
        " \"split_indices\": [2, 0, 0, 0, 0], \"split_conditions\": [NaN, 16, NaN, 32, 64],"
        " \"default_left\": [1, 0, 0, 0, 0], \"split_type\": [1, 0, 1, 0, 0],"
        " \"sum_hessian\": [6, 2, 4, 2, 2], \"base_weights\": [0, 16, 0, 32, 64],"
        " \"categories\": [0, 5, 1000, 31, 32], \"categories_nodes\": [0, 2],"
        " \"categories_segments\": [0, 3], \"categories_sizes\": [3, 2]},"
        "{\"tree_param\": {\"num_nodes\": \"3\"},"
        " \"left_children\": [1, -1, -1], \"right_children\": [2, -1, -1],"
        " \"split_indices\": [1, 0, 0], \"split_conditions\": [-0.25, 128, 256],"
        " \"default_left\": [0, 0, 0], \"split_type\": [0, 0, 0],"
        " \"sum_hessian\": [2, 1, 1], \"base_weights\": [0, 128, 256]},"
        /* a set beside two numerical splits (a tree of leaf masks: sets up to half), of 2 words
         * (loaded and permuted) and of 32 (gathered) */
        "{\"tree_param\": {\"num_nodes\": \"7\"},"
        " \"left_children\": [1, 3, 5, -1, -1, -1, -1], \"right_children\": [2, 4, 6, -1, -1, -1, -1],"
        " \"split_indices\": [1, 0, 1, 0, 0, 0, 0],"
        " \"split_conditions\": [0.5, NaN, -0.25, 512, 1024, 2048, 4096],"
        " \"default_left\": [1, 0, 0, 0, 0, 0, 0], \"split_type\": [0, 1, 0, 0, 0, 0, 0],"
        " \"sum_hessian\": [8, 4, 4, 2, 2, 2, 2], \"base_weights\": [0, 0, 0, 512, 1024, 2048, 4096],"
        " \"categories\": [1, 33], \"categories_nodes\": [1],"
        " \"categories_segments\": [0], \"categories_sizes\": [2]},"
        "{\"tree_param\": {\"num_nodes\": \"7\"},"
        " \"left_children\": [1, 3, 5, -1, -1, -1, -1], \"right_children\": [2, 4, 6, -1, -1, -1, -1],"
        " \"split_indices\": [2, 1, 1, 0, 0, 0, 0],"
        " \"split_conditions\": [NaN, 0.25, -0.25, 8192, 16384, 32768, 65536],"
        " \"default_left\": [1, 0, 0, 0, 0, 0, 0], \"split_type\": [1, 0, 0, 0, 0, 0, 0],"
        " \"sum_hessian\": [8, 4, 4, 2, 2, 2, 2],"
        " \"base_weights\": [0, 0, 0, 8192, 16384, 32768, 65536],"
        " \"categories\": [0, 5, 1000], \"categories_nodes\": [0],"
        " \"categories_segments\": [0], \"categories_sizes\": [3]}]}}}}";
    aud_error err;
    aud_model *m = NULL;
    if (aud_model_parse(&m, doc, strlen(doc), "mixed.json", NULL, &err) != AUD_OK)
        fail_msg("%s: %s", err.field, err.msg);
    assert_non_null(m->packed);
    double probe[160];
    size_t np = 0;
    static const double codes[] = { 0, 1, 5, 31, 32, 33, 63, 64, 999, 1000, 1001, 1023, 1024 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        probe[np++] = codes[i];
        probe[np++] = codes[i] + 0.5;
        probe[np++] = nextafter(codes[i], -INFINITY);
        probe[np++] = (double)nextafterf((float)codes[i], -INFINITY);
        probe[np++] = -codes[i];
    }
    static const double odd[] = { -0.0, -0.5, -1.0, 0.25, 0.5, 0.49999999, -0.25,
                                  16777216.0, 16777217.0, 2147483648.0, 4294967296.0, 1e12,
                                  3.4028234663852886e38, 1e300, INFINITY, -INFINITY, NAN, -1e300 };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        probe[np++] = odd[i];
    assert_true(np <= sizeof probe / sizeof probe[0]);
    size_t n = 3 * np + 5;   /* blocks of 8 and a tail */
    double *X = aud_malloc(3 * n * sizeof *X), *a = aud_malloc(n * sizeof *a);
    for (size_t r = 0; r < n; r++) {
        X[3 * r] = probe[r % np];
        X[3 * r + 1] = probe[(r * 7 + 3) % np];
        X[3 * r + 2] = probe[(r / 3 + r * 11) % np];
    }
    aud_model_predict_margin_block(m, X, n, a);
    void *pk = m->packed;
    m->packed = NULL;
    for (size_t r = 0; r < n; r++) {
        double b;
        aud_model_predict_margin(m, X + 3 * r, &b);
        if (memcmp(&a[r], &b, sizeof b) != 0)
            fail_msg("row %zu (%g, %g, %g): packed %.17g walker %.17g", r, X[3 * r],
                     X[3 * r + 1], X[3 * r + 2], a[r], b);
    }
    m->packed = pk;
    /* the leaf masks (AVX-512; sets tested 16 rows at once) against the packed walk and the
     * walker, bit for bit */
    if (test_cpu_has_masks())   /* not the first two: more than half their splits are sets */
        assert_int_equal(aud_packed_leaf_mask_trees(m), 3);
    assert_int_equal(test_mask_paths_differ(m, X, n), 0);
    /* spot check of the rule: a = 33 in {1, 33}: right, then c = 1000 not in the empty set: left
     * (4); c = 1000 in {0, 5, 1000} (32 words): right, then a = 33 not in {31, 32}: left (32);
     * b NaN, default right (256); b NaN to the left, a = 33 in {1, 33}: right (1024); c in
     * {0, 5, 1000}: right, b NaN to the right (65536) */
    double x[3] = { 33, NAN, 1000 }, mg;
    aud_model_predict_margin(m, x, &mg);
    if (mg != 0.25 + 4 + 32 + 256 + 1024 + 65536)
        fail_msg("margin %.17g", mg);
    aud_free(X);
    aud_free(a);
    aud_model_free(m);
}

static void expect_field(const char *extra, const char *field, const char *msg_part)
{
    aud_error err;
    aud_model *m = NULL;
    const char *s = stump(0, extra);
    assert_int_not_equal(aud_model_parse(&m, s, strlen(s), "bad.json", NULL, &err), AUD_OK);
    assert_null(m);
    if (strcmp(err.field, field) != 0 || strstr(err.msg, msg_part) == NULL) {
        fprintf(stderr, "field \"%s\" msg \"%s\"; wanted \"%s\" / \"%s\"\n", err.field, err.msg,
                field, msg_part);
        fail();
    }
    assert_string_equal(err.file, "bad.json");
}

static void test_xgboost_malformed_categories(void **state)
{
    (void)state;
    expect_field("\"categories\": [1], \"categories_nodes\": [0], \"categories_segments\": [0],"
                 " \"categories_sizes\": [2]", "trees[0].categories_sizes[0]", "expected an");
    expect_field("\"categories\": [-1], \"categories_nodes\": [0], \"categories_segments\": [0],"
                 " \"categories_sizes\": [1]", "trees[0].categories[0]", "expected an integer");
    expect_field("\"categories\": [1.5], \"categories_nodes\": [0], \"categories_segments\": [0],"
                 " \"categories_sizes\": [1]", "trees[0].categories[0]", "expected an integer");
    expect_field("\"categories\": [16777216], \"categories_nodes\": [0],"
                 " \"categories_segments\": [0], \"categories_sizes\": [1]",
                 "trees[0].categories[0]", "expected an integer");
    expect_field("\"categories\": [1], \"categories_nodes\": [1], \"categories_segments\": [0],"
                 " \"categories_sizes\": [1]", "trees[0].categories_nodes[0]",
                 "not a categorical split");
    expect_field("\"categories\": [1], \"categories_nodes\": [0, 0],"
                 " \"categories_segments\": [0, 0], \"categories_sizes\": [1, 1]",
                 "trees[0].categories_nodes[1]", "must increase");
    expect_field("\"categories\": [1], \"categories_nodes\": [0], \"categories_segments\": [0]",
                 "trees[0].categories_sizes", "missing array");
    expect_field("\"categories\": [1], \"categories_nodes\": [0], \"categories_segments\": [0, 1],"
                 " \"categories_sizes\": [1]", "trees[0].categories_segments", "must be equal");
    expect_field("\"categories\": [], \"categories_nodes\": [], \"categories_segments\": [],"
                 " \"categories_sizes\": []", "trees[0].categories_nodes", "no category set");
    expect_field("\"categories\": [1], \"categories_nodes\": [0], \"categories_segments\": [2],"
                 " \"categories_sizes\": [0]", "trees[0].categories_segments[0]",
                 "expected an integer");
    expect_field("\"categories\": \"x\", \"categories_nodes\": [0], \"categories_segments\": [0],"
                 " \"categories_sizes\": [1]", "trees[0].categories", "expected an array");
}

static void test_categories_file(void **state)
{
    (void)state;
    aud_error err;
    char dir[] = "/tmp/aud_cat_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/c.json", dir);
    static const struct { const char *text, *field, *msg; } bad[] = {
        { "{\"nope\": [\"a\"]}", "nope", "not a feature" },
        { "{\"x0\": [\"a\"]}", "x0", "not categorical" },
        { "{\"color\": [\"a\", \"a\"]}", "color.categories", "listed twice" },
        { "{\"color\": []}", "color.categories", "expected a list" },
        { "{\"color\": [\"a\", 1]}", "color.categories", "all strings" },
        { "[1]", "", "expected an object" },
        { "{\"color\": [\"a\"", "", "invalid JSON" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i].text, f);
        fclose(f);
        aud_model *m = load(XGB "/binary.json");
        assert_int_not_equal(aud_model_set_categories(m, path, &err), AUD_OK);
        if (strcmp(err.field, bad[i].field) != 0 || strstr(err.msg, bad[i].msg) == NULL) {
            fprintf(stderr, "case %zu: field \"%s\" msg \"%s\"\n", i, err.field, err.msg);
            fail();
        }
        assert_string_equal(err.file, path);
        aud_model_free(m);
    }
    /* a LightGBM file with pandas_categorical already has its mapping */
    aud_model *m = load(LGB "/binary/model_pandas.txt");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"cat_a\": [\"x\"]}", f);
    fclose(f);
    assert_int_equal(aud_model_set_categories(m, path, &err), AUD_E_USAGE);
    assert_non_null(strstr(err.msg, "pandas_categorical"));
    assert_non_null(m->prep);
    assert_true(m->prep[1].native && m->prep[4].native && m->prep[6].native);
    assert_int_equal(m->prep[6].n_cats, 40);
    assert_int_equal(m->prep[0].kind, AUD_PREP_NONE);
    aud_model_free(m);
    remove(path);
    rmdir(dir);
}

/* A pandas_categorical line that does not fit the model is a located error. */
static void test_pandas_categorical_errors(void **state)
{
    (void)state;
    char *data = NULL;
    size_t len = 0;
    aud_error err;
    assert_int_equal(aud_file_read(LGB "/binary/model.txt", &data, &len, 0, &err), AUD_OK);
    static const char *const tails[] = {
        "\npandas_categorical:[[\"a\"], [\"b\"]]\n",
        "\npandas_categorical:[[\"a\"], [\"b\"], [\"c\", \"c\"]]\n",
        "\npandas_categorical:[[\"a\"], [\"b\"], [\"c\"]\n",
        "\npandas_categorical:{\"a\": 1}\n",
    };
    static const char *const msgs[] = { "names that many", "listed twice", "not valid JSON",
                                        "must be null or a list" };
    for (size_t i = 0; i < 4; i++) {
        size_t tl = strlen(tails[i]);
        char *s = aud_malloc(len + tl + 1);
        memcpy(s, data, len);
        memcpy(s + len, tails[i], tl + 1);
        aud_model *m = NULL;
        assert_int_not_equal(aud_model_parse(&m, s, len + tl, "p.txt", NULL, &err), AUD_OK);
        if (strstr(err.msg, msgs[i]) == NULL || err.line == 0) {
            fprintf(stderr, "case %zu: line %ld msg \"%s\"\n", i, err.line, err.msg);
            fail();
        }
        aud_free(s);
    }
    /* null and [] are no mapping */
    static const char *const none[] = { "\npandas_categorical:null\n", "\npandas_categorical:[]\n" };
    for (size_t i = 0; i < 2; i++) {
        size_t tl = strlen(none[i]);
        char *s = aud_malloc(len + tl + 1);
        memcpy(s, data, len);
        memcpy(s + len, none[i], tl + 1);
        aud_model *m = NULL;
        assert_int_equal(aud_model_parse(&m, s, len + tl, "p.txt", NULL, &err), AUD_OK);
        assert_null(m->prep);
        aud_model_free(m);
        aud_free(s);
    }
    aud_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lightgbm_fixtures),
        cmocka_unit_test(test_xgboost_goldens),
        cmocka_unit_test(test_xgboost_rule_by_hand),
        cmocka_unit_test(test_xgboost_packed_equals_walker),
        cmocka_unit_test(test_xgboost_malformed_categories),
        cmocka_unit_test(test_categories_file),
        cmocka_unit_test(test_pandas_categorical_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
