/* test_model_xgb.c - XGBoost JSON models against XGBoost 1.7.4 itself (golden data made by
 * tests/golden/gen_models.py: Booster.predict(output_margin=True) and predict()). Tolerance:
 * |ours - xgboost| <= 1e-6 on margins and predictions (SPEC 2); XGBoost sums in float32, we sum in
 * double. Also: the 3.x base_score forms, DART weights, and hostile JSON (located errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>

#include "models/model_int.h"
#include "model_test_util.h"

#define DIR "tests/golden/data/models/"
#define TOL 1e-6

static double max_diff_model(const char *model, const char *input, const char *prefix,
                             size_t n_out, size_t n_pred)
{
    char path[256];
    aud_model *m = NULL;
    aud_error err;
    snprintf(path, sizeof path, DIR "%s.json", model);
    if (aud_model_load(&m, path, NULL, &err) != AUD_OK)
        fail_msg("%s: %s (%s)", path, err.msg, err.field);
    assert_string_equal(m->format, "xgboost-json");
    assert_int_equal(m->n_outputs, n_out);
    assert_int_equal(aud_model_n_pred(m), n_pred);
    test_matrix x, mg, pr;
    snprintf(path, sizeof path, DIR "%s", input);
    assert_int_equal(test_read_csv(path, &x), 0);
    snprintf(path, sizeof path, DIR "%s.margin.csv", prefix);
    assert_int_equal(test_read_csv(path, &mg), 0);
    snprintf(path, sizeof path, DIR "%s.pred.csv", prefix);
    assert_int_equal(test_read_csv(path, &pr), 0);
    assert_int_equal(x.cols, m->n_features);
    assert_int_equal(mg.rows, x.rows);
    assert_int_equal(mg.cols, n_out);
    assert_int_equal(pr.cols, n_pred);
    double worst = 0, margin[8], p[8];
    for (size_t r = 0; r < x.rows; r++) {
        aud_model_predict_margin(m, x.v + r * x.cols, margin);
        aud_model_transform(m, margin, p);
        for (size_t k = 0; k < n_out; k++) {
            double d = fabs(margin[k] - mg.v[r * n_out + k]);
            if (!(d <= worst))
                worst = d;
        }
        for (size_t k = 0; k < n_pred; k++) {
            double d = fabs(p[k] - pr.v[r * n_pred + k]);
            if (!(d <= worst))
                worst = d;
        }
    }
    test_matrix_free(&x);
    test_matrix_free(&mg);
    test_matrix_free(&pr);
    aud_model_free(m);
    return worst;
}

static void check(const char *model, size_t n_out, size_t n_pred)
{
    double d = max_diff_model(model, "data.csv", model, n_out, n_pred);
    print_message("%-24s max |diff| = %.3g\n", model, d);
    assert_true(d <= TOL);
}

static void test_binary_logistic(void **s) { (void)s; check("xgb_binary_logistic", 1, 1); }
static void test_binary_logitraw(void **s) { (void)s; check("xgb_binary_logitraw", 1, 1); }
static void test_reg_squarederror(void **s) { (void)s; check("xgb_reg_squarederror", 1, 1); }
static void test_reg_logistic(void **s) { (void)s; check("xgb_reg_logistic", 1, 1); }
static void test_multi_softprob(void **s) { (void)s; check("xgb_multi_softprob", 3, 3); }
static void test_multi_softmax(void **s) { (void)s; check("xgb_multi_softmax", 3, 1); }
static void test_count_poisson(void **s) { (void)s; check("xgb_count_poisson", 1, 1); }
static void test_dart(void **s) { (void)s; check("xgb_dart", 1, 1); }
static void test_rf(void **s) { (void)s; check("xgb_rf", 1, 1); }
static void test_rf_multi(void **s) { (void)s; check("xgb_rf_multi", 3, 3); }
static void test_unnamed(void **s) { (void)s; check("xgb_unnamed", 1, 1); }
static void test_pruned(void **s) { (void)s; check("xgb_pruned", 1, 1); }

static void test_float32_threshold_edges(void **s)
{
    (void)s;
    double d = max_diff_model("xgb_binary_logistic", "edge.csv", "xgb_binary_logistic.edge", 1, 1);
    print_message("edge rows max |diff| = %.3g\n", d);
    assert_true(d <= TOL);
}

/* A tiny model written by hand in the field forms of the different XGBoost versions. */
static const char *tiny_fmt =
    "{\"learner\": {\"feature_names\": [\"a\", \"b\"], \"feature_types\": [],"
    " \"learner_model_param\": {\"base_score\": %s, \"num_class\": \"%d\", \"num_feature\": \"2\","
    " \"num_target\": \"1\"},"
    " \"objective\": {\"name\": \"%s\"},"
    " \"gradient_booster\": {\"name\": \"gbtree\", \"model\": {\"gbtree_model_param\":"
    " {\"num_parallel_tree\": \"1\", \"num_trees\": \"%d\"}, \"tree_info\": [%s], \"trees\": [%s]}}},"
    " \"version\": [3, 0, 0]}";

static const char *tiny_tree =
    "{\"base_weights\": [0, 0, 0], \"default_left\": [%s, 0, 0], \"id\": 0,"
    " \"left_children\": [1, -1, -1], \"right_children\": [2, -1, -1],"
    " \"split_conditions\": [0.5, -1.5, 2.25], \"split_indices\": [%s, 0, 0],"
    " \"split_type\": [0, 0, 0], \"sum_hessian\": [4, 2, 2],"
    " \"tree_param\": {\"num_feature\": \"2\", \"num_nodes\": \"%s\", \"size_leaf_vector\": \"1\"}}";

static int parse_tiny(aud_model **m, const char *base, int n_class, const char *obj,
                      const char *dl, const char *feat, const char *nodes, aud_error *err)
{
    char tree[1024], trees[4096], info[64], doc[8192];
    snprintf(tree, sizeof tree, tiny_tree, dl, feat, nodes);
    int n_trees = n_class > 1 ? n_class : 1;
    trees[0] = info[0] = '\0';
    for (int i = 0; i < n_trees; i++) {
        size_t tl = strlen(trees), il = strlen(info);
        snprintf(trees + tl, sizeof trees - tl, "%s%s", i ? ", " : "", tree);
        snprintf(info + il, sizeof info - il, "%s%d", i ? ", " : "", i);
    }
    snprintf(doc, sizeof doc, tiny_fmt, base, n_class, obj, n_trees, info, trees);
    *m = NULL;
    return aud_model_parse(m, doc, strlen(doc), "tiny.json", NULL, err);
}

static void test_base_score_forms(void **s)
{
    (void)s;
    aud_model *m = NULL;
    aud_error err;
    double x[2] = { 0.0, 1.0 }, mg[3];
    /* "5E-1" string, logistic: margin base = logit(0.5) = 0 */
    assert_int_equal(parse_tiny(&m, "\"5E-1\"", 0, "binary:logistic", "1", "0", "3", &err),
                     AUD_OK);
    aud_model_predict_margin(m, x, mg);
    assert_true(mg[0] == -1.5);
    x[0] = NAN;   /* default left */
    aud_model_predict_margin(m, x, mg);
    assert_true(mg[0] == -1.5);
    x[0] = 0.5;   /* not < 0.5 */
    aud_model_predict_margin(m, x, mg);
    assert_true(mg[0] == 2.25);
    aud_model_free(m);
    /* XGBoost 3 bracketed vector, logistic: logit computed in float */
    assert_int_equal(parse_tiny(&m, "\"[5.1844325E-2]\"", 0, "binary:logistic", "true", "0",
                                "3", &err), AUD_OK);
    float b = 5.1844325E-2f;
    assert_true(m->base_margin[0] == (double)(-logf(1.0f / b - 1.0f)));
    assert_true(m->trees[0].default_left[0] == 1);
    aud_model_free(m);
    /* a JSON number; poisson: log */
    assert_int_equal(parse_tiny(&m, "2.5", 0, "count:poisson", "false", "0", "3", &err), AUD_OK);
    assert_true(m->base_margin[0] == (double)logf(2.5f));
    assert_int_equal(m->link, AUD_LINK_EXP);
    aud_model_free(m);
    /* one per class, identity for softprob */
    assert_int_equal(parse_tiny(&m, "\"[1E-1,2E-1,7E-1]\"", 3, "multi:softprob", "0", "1",
                                "3", &err), AUD_OK);
    assert_true(m->base_margin[0] == (double)0.1f && m->base_margin[2] == (double)0.7f);
    aud_model_free(m);
    /* one value replicated to every class */
    assert_int_equal(parse_tiny(&m, "\"5E-1\"", 3, "multi:softprob", "0", "1", "3", &err),
                     AUD_OK);
    assert_true(m->base_margin[1] == 0.5);
    aud_model_free(m);
    /* wrong count */
    assert_int_equal(parse_tiny(&m, "\"[1E-1,2E-1]\"", 3, "multi:softprob", "0", "1", "3", &err),
                     AUD_E_SCHEMA);
    assert_string_equal(err.field, "learner.learner_model_param.base_score");
    assert_int_equal(parse_tiny(&m, "\"abc\"", 0, "binary:logistic", "0", "1", "3", &err),
                     AUD_E_SCHEMA);
    assert_int_equal(parse_tiny(&m, "\"1.5\"", 0, "binary:logistic", "0", "1", "3", &err),
                     AUD_E_DOMAIN);
}

static void test_hostile_json(void **s)
{
    (void)s;
    aud_model *m = NULL;
    aud_error err;
    /* unknown objective */
    assert_int_equal(parse_tiny(&m, "0.5", 0, "reg:gamma", "0", "0", "3", &err),
                     AUD_E_UNSUPPORTED);
    assert_string_equal(err.field, "learner.objective.name");
    assert_non_null(strstr(err.msg, "reg:gamma"));
    /* feature index out of range */
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "0", "2", "3", &err),
                     AUD_E_DOMAIN);
    assert_string_equal(err.field, "trees[0].split_indices[0]");
    /* wrong type */
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "0", "\"x\"", "3", &err),
                     AUD_E_SCHEMA);
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "{}", "0", "3", &err),
                     AUD_E_SCHEMA);
    /* node count disagreeing with the arrays, absurd node counts */
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "0", "0", "4", &err),
                     AUD_E_SCHEMA);
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "0", "0", "1e12", &err),
                     AUD_E_DOMAIN);
    assert_int_equal(parse_tiny(&m, "0.5", 0, "binary:logistic", "0", "0", "-3", &err),
                     AUD_E_DOMAIN);
    assert_null(m);
    /* truncations of a real model: a located parse error, never a crash */
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(aud_file_read(DIR "xgb_multi_softprob.json", &data, &len, 0, &err), AUD_OK);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 7) {
        char saved = data[cut];
        data[cut] = '\0';
        int rc = aud_model_parse(&m, data, cut, "cut.json", "xgboost-json", &err);
        assert_int_equal(rc, AUD_E_PARSE);
        assert_true(err.line >= 1 && err.column >= 1);
        assert_null(m);
        data[cut] = saved;
    }
    aud_free(data);
}

static void test_cycles_and_children(void **s)
{
    (void)s;
    static const char *const variants[][2] = {
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [0, -1, -1]" },   /* self loop */
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [7, -1, -1]" },   /* range */
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [1, 0, -1]" },    /* one child */
        { "\"right_children\": [2, -1, -1]", "\"right_children\": [1, -1, -1]" }, /* shared */
        { "\"split_type\": [0, 0, 0]", "\"split_type\": [1, 0, 0]" },   /* category set missing */
        { "\"split_type\": [0, 0, 0]", "\"split_type\": [2, 0, 0]" },   /* unknown split type */
        { "\"size_leaf_vector\": \"1\"", "\"size_leaf_vector\": \"3\"" },         /* multi-target */
        { "\"name\": \"gbtree\"", "\"name\": \"gblinear\"" },
    };
    static const int expect[] = { AUD_E_DOMAIN, AUD_E_DOMAIN, AUD_E_DOMAIN, AUD_E_DOMAIN,
                                  AUD_E_SCHEMA, AUD_E_UNSUPPORTED, AUD_E_UNSUPPORTED,
                                  AUD_E_UNSUPPORTED };
    char tree[1024], doc[8192], bad[8192];
    snprintf(tree, sizeof tree, tiny_tree, "0", "0", "3");
    snprintf(doc, sizeof doc, tiny_fmt, "0.5", 0, "binary:logistic", 1, "0", tree);
    for (size_t v = 0; v < sizeof expect / sizeof expect[0]; v++) {
        const char *at = strstr(doc, variants[v][0]);
        assert_non_null(at);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - doc), doc, variants[v][1],
                 at + strlen(variants[v][0]));
        aud_model *m = NULL;
        aud_error err;
        int rc = aud_model_parse(&m, bad, strlen(bad), "bad.json", NULL, &err);
        if (rc != expect[v])
            fail_msg("variant %zu: rc %d (%s)", v, rc, err.msg);
        assert_null(m);
        assert_string_equal(err.file, "bad.json");
    }
}

/* The packed fast path and the reference walker (aud_tree_go_left, used by the explainers) must
 * agree exactly on every row. */
static size_t packed_vs_generic(aud_model *m, const double *X, size_t n)
{
    size_t K = m->n_outputs, bad = 0;
    double a[8], b[8];
    assert_non_null(m->packed);
    for (size_t r = 0; r < n; r++) {
        aud_model_predict_margin(m, X + r * m->n_features, a);
        void *pk = m->packed;
        m->packed = NULL;
        aud_model_predict_margin(m, X + r * m->n_features, b);
        m->packed = pk;
        for (size_t k = 0; k < K; k++)
            bad += memcmp(&a[k], &b[k], sizeof a[k]) != 0;
    }
    return bad;
}

static double *split_rows(const aud_model *m, size_t n);

/* Every golden XGBoost model, row by row and in blocks: the packed walk and the reference walker;
 * and the leaf masks (model_packed.c, AVX-512) against both bit for bit, on blocks of 16-row
 * groups and the rows past them (n = 16 * 40 + 7) with values on and next to every split: one
 * output and several (softprob, random forest), float32 and double sums. */
static void test_packed_equals_generic_xgb(void **s)
{
    (void)s;
    static const char *const names[] = { "xgb_binary_logistic", "xgb_multi_softprob", "xgb_dart",
                                         "xgb_rf_multi", "xgb_count_poisson", "xgb_pruned",
                                         "xgb_early_stopped" };
    static const char *const inputs[] = { DIR "data.csv", DIR "edge.csv" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        aud_model *m = NULL;
        aud_error err;
        snprintf(path, sizeof path, DIR "%s.json", names[i]);
        assert_int_equal(aud_model_load(&m, path, NULL, &err), AUD_OK);
        for (int d = 0; d < 2; d++) {
            test_matrix x;
            assert_int_equal(test_read_csv(inputs[d], &x), 0);
            assert_int_equal(packed_vs_generic(m, x.v, x.rows), 0);
            test_matrix_free(&x);
        }
        if (test_cpu_has_masks())   /* depth <= 6: every tree */
            assert_int_equal(aud_packed_leaf_mask_trees(m), m->n_trees);
        size_t n = 16 * 40 + 7;
        double *X = split_rows(m, n);
        assert_int_equal(test_mask_paths_differ(m, X, n), 0);
        free(X);
        aud_model_free(m);
    }
}

/* scikit-learn style: float32(x) <= double threshold, thresholds between floats, on a grid of
 * values next to them (and NaN, +-inf, -0.0, huge). */
static void test_packed_equals_generic_le_f32(void **s)
{
    (void)s;
    const char *doc =
        "{\"format\": \"audit-trees\", \"version\": 1, \"features\": [\"a\", \"b\"],"
        " \"n_outputs\": 1, \"link\": \"identity\", \"missing\": \"default\","
        " \"trees\": [{\"output\": 0, \"left\": [1, 3, -1, -1, -1], \"right\": [2, 4, -1, -1, -1],"
        " \"feature\": [0, 1, -2, -2, -2], \"threshold\": [0.1, -2.5e-8, 0, 0, 0],"
        " \"default_left\": [1, 0, 0, 0, 0], \"value\": [0, 0, 1.5, 2.5, 3.5],"
        " \"cover\": [4, 2, 2, 1, 1]},"
        " {\"output\": 0, \"split\": \"lt_f32\", \"left\": [1, -1, -1], \"right\": [2, -1, -1],"
        " \"feature\": [1, -2, -2], \"threshold\": [1.0000001192092896, 0, 0],"
        " \"default_left\": [0, 0, 0], \"value\": [0, 10, 20]}]}";
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_parse(&m, doc, strlen(doc), "t.json", NULL, &err) != AUD_OK)
        fail_msg("%s: %s", err.field, err.msg);
    assert_string_equal(m->format, "trees-json");
    double base[] = { 0.1, -2.5e-8, 1.0000001192092896, 1.0, 0.0, 1e300, 3.4028234663852886e38 };
    double X[2 * 400];
    size_t n = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        double v = base[i];
        double cand[] = { v, -v, nextafter(v, INFINITY), nextafter(v, -INFINITY),
                          (double)(float)v, (double)nextafterf((float)v, INFINITY),
                          (double)nextafterf((float)v, -INFINITY), NAN, INFINITY, -INFINITY,
                          -0.0 };
        for (size_t a = 0; a < sizeof cand / sizeof cand[0]; a++) {
            X[2 * n] = cand[a];
            X[2 * n + 1] = cand[(a * 7 + i) % (sizeof cand / sizeof cand[0])];
            n++;
            X[2 * n] = cand[(a * 3 + 1) % (sizeof cand / sizeof cand[0])];
            X[2 * n + 1] = cand[a];
            n++;
        }
    }
    assert_int_equal(packed_vs_generic(m, X, n), 0);
    /* spot checks of the rule itself: float32(0.1) > 0.1, so x = 0.1 goes right (leaf 1.5) */
    double x[2] = { 0.1, 5.0 }, out;
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 1.5 + 20);
    x[0] = 0.09999999;   /* below float32(0.1): left, then 5 > -2.5e-8: right (3.5) */
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 3.5 + 20);
    x[1] = 1.0000001192092896; /* lt_f32: not < itself -> 20 */
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 3.5 + 20);
    x[1] = 1.0000000;          /* < 1.0000001192092896 -> 10 */
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 3.5 + 10);
    x[1] = NAN;                /* default right in both trees */
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 3.5 + 20);
    aud_model_free(m);
}


/* ---- leaf masks (model_packed.c, AVX-512) -------------------------------------------------- */

/* n rows for m: data.csv's rows in turn, then values on and next to the model's splits (the
 * double, its float, the floats either side, NaN, +-inf, -0.0) put at the split's feature in rows
 * chosen by a fixed generator, so every node sees both sides and missing values. */
static double *split_rows(const aud_model *m, size_t n)
{
    test_matrix x;
    assert_int_equal(test_read_csv(DIR "data.csv", &x), 0);
    size_t F = m->n_features;
    assert_int_equal(x.cols, F);
    double *X = test_cycle_rows(&x, n);
    assert_non_null(X);
    uint64_t g = 0x9E3779B97F4A7C15u;
    for (size_t t = 0; t < m->n_trees; t++) {
        const aud_tree *tr = &m->trees[t];
        for (int32_t i = 0; i < tr->n_nodes; i++) {
            if (tr->left[i] < 0)
                continue;
            double v = tr->threshold[i];
            float f = (float)v;
            double cand[] = { v, (double)f, (double)nextafterf(f, INFINITY),
                              (double)nextafterf(f, -INFINITY), nextafter(v, INFINITY), NAN,
                              INFINITY, -INFINITY, -0.0 };
            test_scatter(X, n, F, tr->feature[i], cand, sizeof cand / sizeof cand[0], &g);
        }
    }
    test_matrix_free(&x);
    return X;
}

/* A comb: L leaves, internal node i (0 .. L-2) with a leaf on its left and node i + 1 (the last:
 * a leaf) on its right, on features i % 3, thresholds spread over [-1.5, 1.5], NaN left at odd
 * nodes; leaf j's value j / 8 + base. mono: every node on feature 0, thresholds rising over
 * [-1.6, 1.6], so that rows of values there reach every leaf (the second word's too); mono 2:
 * mirrored (node i + 1 on the left, thresholds falling), so a left subtree's leaves cross from
 * the first word of a mask to the second. */
static void comb_tree(char *out, size_t cap, int L, double base, int mono)
{
    size_t nn = (size_t)(2 * L - 1), o = 0;
    const char *key[] = { "left", "right", "feature", "threshold", "default_left", "value" };
    o += (size_t)snprintf(out + o, cap - o, "{\"output\": 0, \"split\": \"lt_f32\"");
    for (int k = 0; k < 6; k++) {
        o += (size_t)snprintf(out + o, cap - o, ", \"%s\": [", key[k]);
        for (size_t i = 0; i < nn; i++) {
            int in = i < (size_t)(L - 1);
            double v = 0.0;
            switch (k) {
            case 0:
            case 1: {   /* mono 2 mirrors the comb: node i + 1 on the left, leaf i on the right */
                double leaf = (double)(L - 1) + (double)i,
                       next = i + 1 < (size_t)(L - 1) ? (double)(i + 1) : (double)(nn - 1);
                v = !in ? -1 : (k == 0) == (mono == 2) ? next : leaf;
                break;
            }
            case 2: v = in ? (mono ? 0.0 : (double)(i % 3)) : -2; break;
            case 3: v = !in ? 0
                        : mono == 2 ? 1.6 - 3.2 * (double)i / (double)(L - 1)
                        : mono ? -1.6 + 3.2 * (double)i / (double)(L - 1)
                               : -1.5 + 3.0 * (double)((i * 7) % (size_t)L) / (double)L;
                    break;
            case 4: v = in ? (double)(i % 2) : 0; break;
            default: v = in ? 0 : (double)(i - (size_t)(L - 1)) / 8.0 + base; break;
            }
            o += (size_t)snprintf(out + o, cap - o, "%s%.17g", i ? ", " : "", v);
        }
        o += (size_t)snprintf(out + o, cap - o, "]");
    }
    snprintf(out + o, cap - o, "}");
}

/* A complete tree of 128 leaves (depth 7, nodes in breadth-first order): the root splits feature
 * 0 at 0, every other node feature 1 at the middle of its interval of [-1.6, 1.6], so the root's
 * left subtree holds exactly the first word's 64 leaves; leaf j's value j / 8 + base. */
static void balanced_tree(char *out, size_t cap, double base)
{
    size_t o = (size_t)snprintf(out, cap, "{\"output\": 0, \"split\": \"lt_f32\"");
    const char *key[] = { "left", "right", "feature", "threshold", "default_left", "value" };
    for (int k = 0; k < 6; k++) {
        o += (size_t)snprintf(out + o, cap - o, ", \"%s\": [", key[k]);
        for (int i = 0; i < 255; i++) {
            int in = i < 127, d = 0;
            while ((2 << d) - 1 <= i)
                d++;
            double w = 3.2 / (double)(1 << d), lo = -1.6 + (double)(i + 1 - (1 << d)) * w, v;
            switch (k) {
            case 0: v = in ? 2 * i + 1 : -1; break;
            case 1: v = in ? 2 * i + 2 : -1; break;
            case 2: v = in ? (i == 0 ? 0 : 1) : -2; break;
            case 3: v = in ? (i == 0 ? 0.0 : lo + w / 2) : 0; break;
            case 4: v = in ? i % 2 : 0; break;
            default: v = in ? 0 : (double)(i - 127) / 8.0 + base; break;
            }
            o += (size_t)snprintf(out + o, cap - o, "%s%.17g", i ? ", " : "", v);
        }
        o += (size_t)snprintf(out + o, cap - o, "]");
    }
    snprintf(out + o, cap - o, "}");
}

/* Trees of 64 leaves (masks of one word), 65, 100 (mirrored) and 128 (two words; a comb and a
 * complete tree), 129 (walked) and a split at -inf (walked: no value goes left but NaN) in one
 * model: each tree takes its path and the margins are the walk's. */
static void test_leaf_masks_mixed_trees(void **s)
{
    (void)s;
    size_t cap = 1 << 16;
    char *t64 = malloc(cap), *t65 = malloc(cap), *t128 = malloc(cap), *t129 = malloc(cap),
         *t100 = malloc(cap), *tb = malloc(cap), *doc = malloc(8 * cap);
    assert_true(t64 != NULL && t65 != NULL && t128 != NULL && t129 != NULL && t100 != NULL &&
                tb != NULL && doc != NULL);
    comb_tree(t100, cap, 100, 0.0625, 2);
    balanced_tree(tb, cap, 0.25);
    comb_tree(t64, cap, 64, 0.5, 0);
    comb_tree(t65, cap, 65, -0.25, 1);
    comb_tree(t128, cap, 128, 0.125, 1);
    comb_tree(t129, cap, 129, 0.375, 1);
    snprintf(doc, 8 * cap,
             "{\"format\": \"audit-trees\", \"version\": 1, \"features\": [\"a\", \"b\", \"c\"],"
             " \"n_outputs\": 1, \"link\": \"identity\", \"missing\": \"default\", \"trees\": [%s,"
             " %s, {\"output\": 0, \"split\": \"lt_f32\", \"left\": [1, -1, -1],"
             " \"right\": [2, -1, -1], \"feature\": [1, -2, -2], \"threshold\": [-1e39, 0, 0],"
             " \"default_left\": [1, 0, 0], \"value\": [0, 100, 200]}, %s, %s, %s, %s, %s]}",
             t64, t65, t64, t128, t129, t100, tb);
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_parse(&m, doc, strlen(doc), "t.json", NULL, &err) != AUD_OK)
        fail_msg("%s: %s", err.field, err.msg);
    assert_int_equal(m->n_trees, 8);
    if (test_cpu_has_masks())
        assert_int_equal(aud_packed_leaf_mask_trees(m), 6);
    size_t n = 16 * 25 + 9, F = 3;
    double *X = malloc(n * F * sizeof *X);
    assert_non_null(X);
    uint64_t g = 12345;
    const double special[] = { NAN, INFINITY, -INFINITY, -0.0, 1.5, -1.5 };
    for (size_t q = 0; q < n * F; q++) {
        g = g * 6364136223846793005u + 1442695040888963407u;
        unsigned u = (unsigned)(g >> 40);
        X[q] = u % 9 == 0 ? special[u / 9 % 6] : -1.6 + 3.2 * (double)(u % 4096) / 4096.0;
    }
    assert_int_equal(test_mask_paths_differ(m, X, n), 0);
    /* a row that goes right at every node of the comb ends in its last leaf */
    double x[3] = { 9.0, 9.0, 9.0 }, out;
    aud_model_predict_margin(m, x, &out);
    assert_true(out == 2 * (63.0 / 8.0 + 0.5) + (64.0 / 8.0 - 0.25) + 200 +
                           (127.0 / 8.0 + 0.125) + (128.0 / 8.0 + 0.375) + 0.0625 +
                           (127.0 / 8.0 + 0.25));
    free(X);
    free(t64), free(t65), free(t128), free(t129), free(t100), free(tb), free(doc);
    aud_model_free(m);
}

/* ---- the tree-by-tree parse of large models (models/xgb_json.c) ---------------------------- */

static void test_piecewise_parse_equals_whole(void **s)
{
    (void)s;
    static const char *const files[] = {
        DIR "xgb_binary_logistic.json", DIR "xgb_multi_softprob.json", DIR "xgb_rf_multi.json",
        DIR "xgb_count_poisson.json", DIR "xgb_pruned.json", DIR "xgb_early_stopped.json",
        DIR "xgb_dart.json", "tests/golden/data/xgb_cat/multiclass.json",
        "tests/golden/data/xgb_cat/binary.json", "tests/golden/data/shap_xgb/binary.json" };
    size_t piecewise = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char *data = NULL, *big;
        size_t len = 0, big_len = 0;
        aud_error err;
        assert_int_equal(aud_file_read(files[f], &data, &len, 0, &err), AUD_OK);
        big = test_padded(data, len, &big_len);
        aud_model *whole = NULL;
        long before = atomic_load(&aud_xgb_piecewise_parses);
        assert_int_equal(aud_model_parse(&whole, data, len, files[f], NULL, &err), AUD_OK);
        assert_int_equal(atomic_load(&aud_xgb_piecewise_parses), before);   /* small: whole */
        for (int threads = 1; threads <= 3; threads++) {
            aud_model *m = NULL;
            before = atomic_load(&aud_xgb_piecewise_parses);
            if (aud_model_parse_threads(&m, big, big_len, files[f], NULL, threads, &err) != AUD_OK)
                fail_msg("%s: %s", files[f], err.msg);
            long used = atomic_load(&aud_xgb_piecewise_parses) - before;
            /* gbtree models of 16 trees and more take the path; DART's trees sit elsewhere */
            assert_int_equal(used, strstr(files[f], "dart") == NULL && whole->n_trees >= 16);
            piecewise += (size_t)used;
            test_assert_same_model(whole, m);
            aud_model_free(m);
        }
        aud_model_free(whole);
        aud_free(big);
        aud_free(data);
    }
    print_message("tree-by-tree parses: %zu\n", piecewise);
    assert_true(piecewise >= 15);
}

/* A model of n copies of the tiny tree, with `bad` replacing `good` in tree k (k < 0: none). */
static char *tiny_many(int n, int k, const char *good, const char *bad)
{
    char tree[1024];
    snprintf(tree, sizeof tree, tiny_tree, "0", "0", "3");
    size_t cap = (size_t)n * 1200 + 4096;
    char *trees = aud_malloc(cap), *info = aud_malloc((size_t)n * 4 + 8), *doc = aud_malloc(cap + 2048);
    assert_true(trees != NULL && info != NULL && doc != NULL);
    trees[0] = info[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(trees), il = strlen(info);
        const char *at = i == k ? strstr(tree, good) : NULL;
        if (i == k)
            assert_non_null(at);
        if (at != NULL)
            snprintf(trees + tl, cap - tl, "%s%.*s%s%s", i ? ", " : "", (int)(at - tree), tree,
                     bad, at + strlen(good));
        else
            snprintf(trees + tl, cap - tl, "%s%s", i ? ", " : "", tree);
        snprintf(info + il, (size_t)n * 4 + 8 - il, "%s0", i ? "," : "");
    }
    snprintf(doc, cap + 2048, tiny_fmt, "0.5", 0, "binary:logistic", n, info, trees);
    aud_free(trees);
    aud_free(info);
    return doc;
}

/* Every error of a large model is the error the whole-document parse gives: code, message,
 * field, line and column - whichever tree holds it and however many threads read the trees. */
static void test_piecewise_parse_errors(void **s)
{
    (void)s;
    static const char *const variants[][2] = {
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [0, -1, -1]" },   /* cycle */
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [1, 0, -1]" },    /* one child */
        { "\"split_indices\": [0, 0, 0]", "\"split_indices\": [5, 0, 0]" },        /* feature */
        { "\"split_type\": [0, 0, 0]", "\"split_type\": [2, 0, 0]" },              /* unknown */
        { "\"num_nodes\": \"3\"", "\"num_nodes\": \"4\"" },                        /* arrays */
        { "\"split_conditions\": [0.5, -1.5, 2.25]", "\"split_conditions\": [0.5, -1.5, 2.25" },
        { "\"split_conditions\": [0.5,", "\"split_conditions\": [0.5 x," },       /* bad JSON */
        { "\"id\": 0,", "\"id\": 0, \"id\": \"\\u0041\"," },                       /* escape */
        { "{\"base_weights\"", "[{\"base_weights\"" },                             /* nesting */
        { "\"sum_hessian\": [4, 2, 2]", "\"sum_hessian\": [4, 2, \"x\"]" },
        /* the arrays the piecewise path reads itself (pre_arrays), then gives cJSON blanked:
         * valid forms read the same as the whole document reads them, invalid ones fail the
         * same way */
        { "\"default_left\": [0, 0, 0]", "\"default_left\": [true, false, false]" },
        { "\"split_conditions\": [0.5, -1.5, 2.25]",
          "\"split_conditions\": [ 5E-1 ,\n-15e-1,\t0.225e+1 ]" },
        { "\"split_conditions\": [0.5, -1.5, 2.25]", "\"split_conditions\": [0.5, \"-1.5\", 2.25]" },
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [1, -1, -1.0]" },
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [1, -1, +01]" },   /* cJSON */
        { "\"split_conditions\": [0.5,", "\"split_conditions\": [9, 9, 9], \"x\": 0,"
          " \"split_conditions\": [0.5," },                                       /* first */
        { "\"sum_hessian\": [4, 2, 2]", "\"sum_hessian\": [4, 2, 2,]" },          /* comma */
        { "\"left_children\": [1, -1, -1]", "\"left_children\": [1.5, -1, -1]" },
        { "\"sum_hessian\": [4, 2, 2]", "\"sum_hessian\": [4, 2]" },                /* count */
        { "\"split_conditions\": [0.5, -1.5, 2.25]",
          "\"split_conditions\": [0.5, -1.5, 1e999]" },                           /* range */
    };
    /* the variants that are valid models (cJSON refuses "+01") */
    static const int valid[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        for (int k = 0; k < 40; k += 13) {   /* the first tree, middle ones, the last */
            char *doc = tiny_many(40, k, variants[v][0], variants[v][1]);
            size_t big_len = 0, len = strlen(doc);
            char *big = test_padded(doc, len, &big_len);
            aud_model *m = NULL;
            aud_error e1, e2;
            int rc1 = aud_model_parse(&m, doc, len, "m.json", NULL, &e1);
            aud_model_free(m);
            for (int threads = 1; threads <= 3; threads++) {
                m = NULL;
                int rc2 = aud_model_parse_threads(&m, big, big_len, "m.json", NULL, threads, &e2);
                if (rc1 != rc2 || (rc1 == AUD_OK) != valid[v])
                    fail_msg("variant %zu tree %d: rc %d vs %d (%s)", v, k, rc1, rc2, e2.msg);
                if (rc1 == AUD_OK) {
                    aud_model *w = NULL;
                    assert_int_equal(aud_model_parse(&w, doc, len, "m.json", NULL, &e1), AUD_OK);
                    test_assert_same_model(w, m);
                    aud_model_free(w);
                    aud_model_free(m);
                    continue;
                }
                assert_null(m);
                assert_string_equal(e1.msg, e2.msg);
                assert_string_equal(e1.field, e2.field);
                assert_int_equal(e1.line, e2.line);
                assert_int_equal(e1.column, e2.column);
            }
            aud_free(big);
            aud_free(doc);
        }
    }
    /* an escaped key on the way to the trees: the whole-document parse decodes it, the scan
     * does not, so the document is read the whole way (and the same) */
    char *esc = tiny_many(40, -1, NULL, NULL);
    char *at = strstr(esc, "\"tree_info\"");
    assert_non_null(at);
    size_t el = strlen(esc);
    char *esc2 = aud_malloc(el + 16);
    assert_non_null(esc2);
    snprintf(esc2, el + 16, "%.*s\"tree\\u005finfo\"%s", (int)(at - esc), esc, at + 11);
    size_t eb_len = 0;
    char *eb = test_padded(esc2, strlen(esc2), &eb_len);
    aud_model *x = NULL, *y = NULL;
    aud_error ee;
    assert_int_equal(aud_model_parse(&x, esc, el, "m.json", NULL, &ee), AUD_OK);
    long was = atomic_load(&aud_xgb_piecewise_parses);
    assert_int_equal(aud_model_parse_threads(&y, eb, eb_len, "m.json", NULL, 2, &ee), AUD_OK);
    assert_int_equal(atomic_load(&aud_xgb_piecewise_parses), was);
    test_assert_same_model(x, y);
    aud_model_free(x);
    aud_model_free(y);
    aud_free(eb);
    aud_free(esc2);
    aud_free(esc);
    /* and a valid one reads the same both ways */
    char *doc = tiny_many(40, -1, NULL, NULL);
    size_t big_len = 0;
    char *big = test_padded(doc, strlen(doc), &big_len);
    aud_model *a = NULL, *b = NULL;
    aud_error err;
    long before = atomic_load(&aud_xgb_piecewise_parses);
    assert_int_equal(aud_model_parse(&a, doc, strlen(doc), "m.json", NULL, &err), AUD_OK);
    assert_int_equal(aud_model_parse_threads(&b, big, big_len, "m.json", NULL, 2, &err), AUD_OK);
    assert_int_equal(atomic_load(&aud_xgb_piecewise_parses), before + 1);
    test_assert_same_model(a, b);
    aud_model_free(a);
    aud_model_free(b);
    aud_free(big);
    aud_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_logistic),
        cmocka_unit_test(test_binary_logitraw),
        cmocka_unit_test(test_reg_squarederror),
        cmocka_unit_test(test_reg_logistic),
        cmocka_unit_test(test_multi_softprob),
        cmocka_unit_test(test_multi_softmax),
        cmocka_unit_test(test_count_poisson),
        cmocka_unit_test(test_dart),
        cmocka_unit_test(test_rf),
        cmocka_unit_test(test_rf_multi),
        cmocka_unit_test(test_unnamed),
        cmocka_unit_test(test_pruned),
        cmocka_unit_test(test_float32_threshold_edges),
        cmocka_unit_test(test_base_score_forms),
        cmocka_unit_test(test_hostile_json),
        cmocka_unit_test(test_cycles_and_children),
        cmocka_unit_test(test_packed_equals_generic_xgb),
        cmocka_unit_test(test_packed_equals_generic_le_f32),
        cmocka_unit_test(test_leaf_masks_mixed_trees),
        cmocka_unit_test(test_piecewise_parse_equals_whole),
        cmocka_unit_test(test_piecewise_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
