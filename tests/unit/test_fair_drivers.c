/* test_fair_drivers.c - the building blocks of SPEC section 7 (drivers, proxy screen):
 *  - aud_shap_cells (explainers/shap_cells.c): per-cell weighted sums of TreeSHAP values equal the
 *    sums of aud_shap_explain's per-row values (1e-9 relative to the sum of |terms|), for an
 *    XGBoost model (every tree by units; and again by decision patterns: branch-free float path,
 *    direct pattern table) and a LightGBM model with categorical splits and NaN (16 trees by
 *    units, the deeper ones by generic node path, hashed patterns); identical bits for 1 and 3
 *    threads, also for blocks laid out in row chunks on the threads; counts; rows added in
 *    two calls;
 *  - Cramer's V and NMI of hand tables vs scipy.stats.contingency.association and
 *    sklearn normalized_mutual_info_score (values printed by /usr/bin/python3, 1e-12);
 *  - feature preparation: deciles as numpy.quantile, discrete detection, missing level;
 *  - the drivers identity on hand-made attributions;
 *  - the threshold trade-offs read from the fairness ranks: the histogram and the rank-order
 *    paths give the same document (scores with and without ties, missing labels, unknown
 *    groups, favorable 1 and 0); correctness of the figures is tested by brute force in
 *    tests/golden/test_fair_drivers.py;
 *  - the proxy screen of several attributes at once equals one attribute at a time, bit for bit,
 *    and the decile edges of a large column (radix select) equal those of a sorted copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explainers/shap.h"
#include "explainers/shap_int.h"
#include "metrics/fair_drivers_int.h"
#include "metrics/fairness.h"
#include "models/model_int.h"
#include "model_test_util.h"

#define NC 5   /* cells */

static uint64_t rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* sums via aud_shap_cells (rows added in two calls); w NULL: one weight, 1 for every row (the
 * counting path) */
static size_t unit_trees;   /* of the last cell_sums */
static int by_columns;      /* cell_sums: the rows as columns (aud_shap_cells_add_cols) */

static double *cell_sums(const aud_model *m, const double *X, size_t n, const int32_t *cell,
                         const double *w, int threads, uint64_t *counts)
{
    aud_error err;
    aud_shap_cells *c = NULL;
    size_t nw = w != NULL ? 2 : 1;
    assert_int_equal(aud_shap_cells_new(&c, m, NC, nw, threads, &err), AUD_OK);
    unit_trees = aud_shap_cells_unit_trees(c);
    size_t h = n / 3, M = m->n_features;
    if (by_columns) {   /* the same rows as columns (aud_shap_cells_add_cols) */
        double *v = aud_malloc(n * M * sizeof *v);
        const double **col = aud_malloc(M * sizeof *col);
        for (size_t f = 0; f < M; f++) {
            for (size_t i = 0; i < n; i++)
                v[f * n + i] = X[i * M + f];
            col[f] = v + f * n;
        }
        assert_int_equal(aud_shap_cells_add_cols(c, col, h, cell, w, &err), AUD_OK);
        for (size_t f = 0; f < M; f++)
            col[f] += h;
        assert_int_equal(aud_shap_cells_add_cols(c, col, n - h, cell + h, w ? w + 2 * h : NULL,
                                                 &err), AUD_OK);
        aud_free(col);
        aud_free(v);
    } else {
        assert_int_equal(aud_shap_cells_add(c, X, h, cell, w, &err), AUD_OK);
        assert_int_equal(aud_shap_cells_add(c, X + h * M, n - h, cell + h, w ? w + 2 * h : NULL,
                                            &err), AUD_OK);
    }
    double *out = aud_malloc(nw * NC * (M + 1) * sizeof *out);
    memcpy(out, aud_shap_cells_sums(c), nw * NC * (M + 1) * sizeof *out);
    memcpy(counts, aud_shap_cells_counts(c), NC * sizeof *counts);
    aud_shap_cells_free(c);
    return out;
}

/* The units' vector paths (aud_shap_cells_isa_cap: 1 portable, 2 AVX2, 3 AVX-512 masks), with
 * the trees taken in groups on each tile of rows or one by one (aud_shap_cells_group_cap 1),
 * give the same sums bit for bit, with and without weights: the drivers' model (NaN incomes,
 * every tree by units) and the LightGBM model (categorical splits, whose decisions are taken row
 * by row), over runs of a cell whose lengths are not multiples of 16. The paths the CPU lacks
 * are skipped (the cap only lowers the choice). Part of check_cells. */
static void check_isa_paths(const aud_model *m, const double *X, size_t n, const int32_t *cell,
                            const double *w)
{
    size_t M = m->n_features;
    int cap = aud_shap_cells_isa_cap, gcap = aud_shap_cells_group_cap;
    double *ref[2] = {NULL, NULL};
    uint64_t cnt[NC];
    for (int isa = 1; isa <= 4; isa++) {
        aud_shap_cells_isa_cap = isa < 4 ? isa : 3;
        aud_shap_cells_group_cap = isa < 4 ? 0 : 1;
        for (int weighted = 0; weighted < 2; weighted++) {
            size_t len = (weighted ? 2 : 1) * NC * (M + 1);
            double *s = cell_sums(m, X, n, cell, weighted ? w : NULL, 2, cnt);
            if (ref[weighted] == NULL)
                ref[weighted] = s;
            else {
                assert_memory_equal(s, ref[weighted], len * sizeof *s);
                aud_free(s);
            }
        }
    }
    aud_shap_cells_isa_cap = cap;
    aud_shap_cells_group_cap = gcap;
    aud_free(ref[0]);
    aud_free(ref[1]);
}

/* units: how many trees go by units (counts of leaf patterns), the rest by decision patterns */
static void check_cells(const aud_model *m, const double *X, size_t n, size_t units)
{
    size_t M = m->n_features;
    int32_t *cell = aud_malloc(n * sizeof *cell);
    double *w = aud_malloc(2 * n * sizeof *w);
    for (size_t i = 0; i < n; i++) {
        cell[i] = i % 7 == 3 ? -1 : (int32_t)(i % NC);
        w[2 * i] = 1.0;
        w[2 * i + 1] = sin((double)i);
    }
    uint64_t cnt1[NC], cnt3[NC];
    double *s1 = cell_sums(m, X, n, cell, w, 1, cnt1);
    double *s3 = cell_sums(m, X, n, cell, w, 3, cnt3);
    printf("  %zu of %zu trees by units\n", unit_trees, m->n_trees);
    assert_int_equal(unit_trees, units);
    assert_memory_equal(s1, s3, 2 * NC * (M + 1) * sizeof *s1);
    check_isa_paths(m, X, n, cell, w);
    /* without weights (patterns counted per run of a cell): the weight-1 sums, bit for bit;
     * and the rows given as columns, with and without weights: the same bits (the columns go
     * straight into the float copy where every split is a float compare, else into rows) */
    uint64_t cntu[NC];
    for (int cols = 0; cols < 2; cols++) {
        by_columns = cols;
        for (int th = 1; th <= 3; th += 2) {
            double *su = cell_sums(m, X, n, cell, NULL, th, cntu);
            assert_memory_equal(su, s1, NC * (M + 1) * sizeof *s1);
            assert_memory_equal(cntu, cnt1, sizeof cntu);
            aud_free(su);
            if (!cols)
                continue;
            su = cell_sums(m, X, n, cell, w, th, cntu);
            assert_memory_equal(su, s1, 2 * NC * (M + 1) * sizeof *s1);
            aud_free(su);
        }
        by_columns = 0;
    }
    /* reference: every row explained */
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.method = AUD_SHAP_TREE;
    aud_shap_result *r = NULL;
    aud_error err;
    assert_int_equal(aud_shap_explain(&r, m, X, n, &o, &err), AUD_OK);
    double *ref = aud_calloc(2 * NC * (M + 1), sizeof *ref);
    double *mag = aud_calloc(2 * NC * (M + 1), sizeof *mag);
    uint64_t cnt[NC] = {0};
    for (size_t i = 0; i < n; i++) {
        if (cell[i] < 0)
            continue;
        cnt[cell[i]]++;
        for (size_t k = 0; k < 2; k++)
            for (size_t j = 0; j <= M; j++) {
                double t = w[2 * i + k] * r->phi[i * r->stride + j];
                ref[(k * NC + (size_t)cell[i]) * (M + 1) + j] += t;
                mag[(k * NC + (size_t)cell[i]) * (M + 1) + j] += fabs(t);
            }
    }
    double worst = 0.0;
    for (size_t q = 0; q < 2 * NC * (M + 1); q++) {
        double e = fabs(s1[q] - ref[q]) / (1.0 + mag[q]);
        worst = e > worst ? e : worst;
    }
    printf("  cells vs rows: max relative error %.3g\n", worst);
    assert_true(worst <= 1e-9);
    assert_memory_equal(cnt, cnt1, sizeof cnt);
    assert_memory_equal(cnt, cnt3, sizeof cnt);
    aud_shap_result_free(r);
    aud_free(ref);
    aud_free(mag);
    aud_free(s1);
    aud_free(s3);
    aud_free(cell);
    aud_free(w);
}

/* The drivers fixture's model (tests/golden/data/fair_drivers/model.json: zip, income, util,
 * nacc, age; depth 3) and n random rows for it (5% of incomes missing) into *X. */
static aud_model *drivers_model_rows(size_t n, double **X)
{
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_load(&m, "tests/golden/data/fair_drivers/model.json", NULL, &err),
                     AUD_OK);
    size_t M = m->n_features;
    *X = aud_malloc(n * M * sizeof **X);
    for (size_t i = 0; i < n; i++) {
        double *x = *X + i * M;
        x[0] = floor(urand() * 8);
        x[1] = urand() < 0.05 ? NAN : round(urand() * 90000 + 10000);
        x[2] = round(urand() * 1000) / 1000;
        x[3] = floor(urand() * 13);
        x[4] = 18 + floor(urand() * 63);
    }
    return m;
}

static void test_cells_xgboost(void **state)
{
    (void)state;
    double *X = NULL;
    size_t n = 5000;
    aud_model *m = drivers_model_rows(n, &X);
    check_cells(m, X, n, m->n_trees);   /* depth 3: every tree one unit */
    int depth = aud_shap_cells_unit_depth;   /* the same by decision patterns (branch-free */
    aud_shap_cells_unit_depth = 0;           /* float decisions, direct pattern table) */
    check_cells(m, X, n, 0);
    aud_shap_cells_unit_depth = depth;
    aud_free(X);
    aud_model_free(m);
}

/* Blocks large enough that the rows are put into the trees' float layout in chunks on the
 * threads (aud_row_chunks: 2 chunks of the second call's 133,336 rows at 3 threads), the layout
 * grown between the calls: the sums equal one thread's bit for bit, by units and by patterns. */
static void test_cells_rows_in_chunks(void **state)
{
    (void)state;
    double *X = NULL;
    size_t n = 200003;
    aud_model *m = drivers_model_rows(n, &X);
    size_t M = m->n_features;
    int32_t *cell = aud_malloc(n * sizeof *cell);
    for (size_t i = 0; i < n; i++)
        cell[i] = i % 7 == 3 ? -1 : (int32_t)(i % NC);
    assert_true(aud_row_chunks(n - n / 3, 3) >= 2);
    int depth = aud_shap_cells_unit_depth;
    for (int by_units = 1; by_units >= 0; by_units--) {
        aud_shap_cells_unit_depth = by_units ? depth : 0;
        uint64_t cnt1[NC], cnt3[NC];
        double *s1 = cell_sums(m, X, n, cell, NULL, 1, cnt1);
        double *s3 = cell_sums(m, X, n, cell, NULL, 3, cnt3);
        assert_memory_equal(s1, s3, NC * (M + 1) * sizeof *s1);
        assert_memory_equal(cnt1, cnt3, sizeof cnt1);
        aud_free(s1);
        aud_free(s3);
    }
    aud_shap_cells_unit_depth = depth;
    aud_free(X);
    aud_free(cell);
    aud_model_free(m);
}

static void test_cells_lightgbm(void **state)
{
    (void)state;
    aud_model *m = NULL;
    aud_error err;
    assert_int_equal(aud_model_load(&m, "tests/golden/data/lightgbm/binary/model.txt", NULL, &err),
                     AUD_OK);
    test_matrix x;
    assert_int_equal(test_read_csv("tests/golden/data/lightgbm/binary/input.csv", &x), 0);
    assert_int_equal(x.cols, m->n_features);
    check_cells(m, x.v, x.rows, 16);   /* 31 leaves: the 34 trees deeper than 8 by patterns */
    aud_free(x.v);
    aud_model_free(m);
}

static void test_cells_rejects(void **state)
{
    (void)state;
    aud_model *m = NULL;
    aud_shap_cells *c = NULL;
    aud_error err;
    assert_int_equal(aud_model_load(&m, "tests/golden/data/lightgbm/multiclass/model.txt", NULL,
                                    &err), AUD_OK);
    assert_int_equal(aud_shap_cells_new(&c, m, 2, 1, 1, &err), AUD_E_UNSUPPORTED);
    assert_null(c);
    aud_model_free(m);
}

static void test_cramers_v_nmi(void **state)
{
    (void)state;
    const char *why = NULL;
    /* scipy association([[10, 20], [30, 40]], method="cramer", correction=False); the empty
     * third row and column of the 3 x 3 table are dropped */
    uint64_t t1b[] = {10, 20, 0, 30, 40, 0, 0, 0, 0};
    assert_true(fabs(aud_assoc_cramers_v(t1b, 3, 3, &why) - 0.0890870806374748) <= 1e-12);
    assert_null(why);
    /* [[10, 20, 5], [30, 40, 1]]: V 0.27529631618231776, sklearn NMI 0.048852589261313153 */
    uint64_t t2[] = {10, 20, 5, 30, 40, 1};
    assert_true(fabs(aud_assoc_cramers_v(t2, 2, 3, &why) - 0.27529631618231776) <= 1e-12);
    assert_true(fabs(aud_assoc_nmi(t2, 2, 3) - 0.048852589261313153) <= 1e-12);
    /* one observed value: V undefined, NMI 0 (one side) or 1 (both sides, as sklearn) */
    uint64_t t3[] = {10, 0, 30, 0};
    assert_true(isnan(aud_assoc_cramers_v(t3, 2, 2, &why)));
    assert_non_null(why);
    assert_true(aud_assoc_nmi(t3, 2, 2) == 0.0);
    uint64_t t4[] = {10, 0, 0, 0};
    assert_true(aud_assoc_nmi(t4, 2, 2) == 1.0);
}

static void test_feature_levels(void **state)
{
    (void)state;
    aud_error err;
    double x[101];
    for (int i = 0; i < 100; i++)
        x[i] = i + 1;
    x[100] = NAN;
    aud_assoc_feature f;
    assert_int_equal(aud_assoc_feature_prepare(&f, x, 101, &err), AUD_OK);
    /* numpy.quantile(1..100, k/10) = 10.9, 20.8, ..., 90.1: bins of 10 values (x <= 10 -> 0,
     * 11..20 -> 1, ...), NaN its own level */
    assert_int_equal(f.discrete, 0);
    assert_int_equal(f.n_levels, 11);
    assert_int_equal(f.level[9], 0);
    assert_int_equal(f.level[10], 1);
    assert_int_equal(f.level[99], 9);
    assert_int_equal(f.level[100], 10);
    /* eta: the feature grouped by (x > 50): means 25.5 and 75.5 */
    int32_t codes[101];
    for (int i = 0; i < 101; i++)
        codes[i] = i < 50 ? 0 : 1;
    aud_assoc a;
    assert_int_equal(aud_assoc_compute(&f, codes, 2, &a, &err), AUD_OK);
    double ssb = 100 * 25.0 * 25.0, sst = 0;
    for (int i = 1; i <= 100; i++)
        sst += (i - 50.5) * (i - 50.5);
    assert_string_equal(a.measure, "correlation_ratio");
    assert_true(fabs(a.association - sqrt(ssb / sst)) <= 1e-12);
    aud_assoc_feature_free(&f);
    /* a code column is discrete: Cramer's V, exactly 1 when it is the attribute */
    double z[6] = {0, 1, 0, 1, 2, 2};
    int32_t zc[6] = {0, 1, 0, 1, 2, 2};
    assert_int_equal(aud_assoc_feature_prepare(&f, z, 6, &err), AUD_OK);
    assert_int_equal(f.discrete, 1);
    assert_int_equal(aud_assoc_compute(&f, zc, 3, &a, &err), AUD_OK);
    assert_string_equal(a.measure, "cramers_v");
    assert_true(fabs(a.association - 1.0) <= 1e-12 && fabs(a.nmi - 1.0) <= 1e-12);
    aud_assoc_feature_free(&f);
    /* AUD_ASSOC_MAX_LEVELS distinct values (-0.0 one value with +0.0) are discrete, levels in
     * sorted order; one more is continuous */
    double y[400];
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 400; i++)
            y[i] = (i * 11) % (AUD_ASSOC_MAX_LEVELS + k) - 3.0;
        y[5] = -0.0;
        y[6] = 0.0;   /* -0.0 first: one level */
        assert_int_equal(aud_assoc_feature_prepare(&f, y, 400, &err), AUD_OK);
        assert_int_equal(f.discrete, k == 0);
        if (k == 0) {
            assert_int_equal(f.n_levels, AUD_ASSOC_MAX_LEVELS);
            for (int i = 0; i < 400; i++)
                assert_int_equal(f.level[i], (int32_t)(y[i] + 3.0));
        }
        aud_assoc_feature_free(&f);
    }
    /* a categorical column (codes, -1 missing): discrete, the missing code its own level */
    int32_t cc[6] = {1, 0, 1, 0, -1, -1};
    assert_int_equal(aud_assoc_feature_prepare_codes(&f, cc, 2, 6, &err), AUD_OK);
    assert_int_equal(f.discrete, 1);
    assert_int_equal(f.n_levels, 3);
    assert_int_equal(f.level[4], 2);
    assert_int_equal(aud_assoc_compute(&f, zc, 3, &a, &err), AUD_OK);
    assert_string_equal(a.measure, "cramers_v");
    assert_true(fabs(a.association - 1.0) <= 1e-12);   /* the same partition as zc */
    aud_assoc_feature_free(&f);
}

static void test_identity(void **state)
{
    (void)state;
    aud_error err;
    aud_fdrv_acc a;
    assert_int_equal(aud_fdrv_acc_init(&a, 3, 2, &err), AUD_OK);
    /* rows: phi0, phi1, base */
    double phi[] = {1.0, -0.5, 0.2, 0.25, 0.125, 0.2, -2.0, 3.0, 0.2, 0.5, 0.5, 0.2};
    int32_t g[] = {0, 1, 1, -1};
    aud_fdrv_acc_add(&a, g, 4, phi, 3, NULL);
    assert_int_equal(a.count[0], 1);
    assert_int_equal(a.count[1], 2);
    assert_int_equal(a.count[2], 0);
    /* gap(1 vs 0) = mean(0.575, 1.2) - 0.7 = 0.1875 = sum of (mean phi_1 - mean phi_0) */
    double m1 = (double)(a.out[1] / 2), m0 = (double)a.out[0];
    assert_true(fabs(m1 - m0 - 0.1875) <= 1e-15);
    double c0 = (double)(a.phi[2] / 2 - a.phi[0]), c1 = (double)(a.phi[3] / 2 - a.phi[1]);
    assert_true(fabs(c0 + c1 - 0.1875) <= 1e-15);
    aud_fdrv_acc_free(&a);
}

/* aud_tradeoff_json of one attribute, printed; hist_cells 1 forces the rank-order path. */
static char *tradeoff_doc_on(const aud_fair_result *res, const aud_fair_attr *at,
                             const double *label, const unsigned char *elig, int favorable,
                             double t0, size_t hist, int threads)
{
    aud_error err;
    cJSON *o = cJSON_CreateObject();
    aud_tradeoff_input t = {res->n_rows, res->ranks, label, at->codes, at->n_levels,
                            at->levels, elig, 0, favorable, t0, hist, threads};
    assert_int_equal(aud_tradeoff_json(o, &t, &err), AUD_OK);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *tradeoff_doc(const aud_fair_result *res, const aud_fair_attr *at, const double *label,
                          const unsigned char *elig, int favorable, double t0, size_t hist)
{
    return tradeoff_doc_on(res, at, label, elig, favorable, t0, hist, 1);
}

/* n rows of three groups (5% unknown) for the trade-off tests: scores on a grid of 1/grid
 * (ties) or continuous, group b's lowered by up to 0.1 (on a grid of 0.01 when shift_grid),
 * labels drawn from the scores, 10% missing. */
static void tradeoff_rows(size_t n, uint64_t seed, double grid, int shift_grid, double *score,
                          double *label, int32_t *codes)
{
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        double u = urand();
        codes[i] = u < 0.05 ? -1 : u < 0.6 ? 0 : u < 0.9 ? 1 : 2;
        score[i] = grid > 0 ? floor(urand() * grid) / grid : urand();
        score[i] -= codes[i] != 1 ? 0.0 : shift_grid ? floor(urand() * 10.0) / 100.0
                                                     : 0.1 * urand();
        label[i] = urand() < 0.1 ? NAN : (double)(urand() < score[i]);
    }
}

/* The fairness result of attribute at over the rows, its scores' rank order built. */
static aud_fair_result *tradeoff_result(const aud_fair_attr *at, const double *score,
                                        const double *label, size_t n, int fav)
{
    aud_fair_input in = {.n_rows = n, .label = label, .score = score, .attrs = at, .n_attrs = 1};
    aud_fair_opts o;
    aud_fair_opts_default(&o);
    o.n_bootstrap = 0;
    o.favorable = fav;
    o.threshold = 0.5;
    aud_fair_result *res = NULL;
    aud_error err;
    assert_int_equal(aud_fair_compute(&res, &in, &o, &err), AUD_OK);
    assert_non_null(res->ranks);
    assert_int_equal(aud_fair_ranks_order(res->ranks, &err), AUD_OK);
    return res;
}

static void test_tradeoff_paths_agree(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double score[N], label[N];
    static int32_t codes[N];
    static const char *const lv[] = {"a", "b", "c"};
    for (int ties = 0; ties <= 1; ties++) {
        tradeoff_rows(N, 99 + (uint64_t)ties, ties ? 40.0 : 0.0, 0, score, label, codes);
        for (int fav = 0; fav <= 1; fav++) {
            aud_fair_attr at = {"g", codes, 3, lv, NULL, NULL};
            aud_fair_result *res = tradeoff_result(&at, score, label, N, fav);
            assert_int_equal(aud_tradeoff_needs_order(res->ranks, 3, 0), 0);
            assert_int_equal(aud_tradeoff_needs_order(res->ranks, 3, 1), 1);
            unsigned char elig[3] = {1, 1, 1};
            char *h = tradeoff_doc(res, &at, label, elig, fav, 0.5, 0);
            char *r = tradeoff_doc(res, &at, label, elig, fav, 0.5, 1);
            assert_string_equal(h, r);
            assert_non_null(strstr(h, "\"impact_ratio\""));
            free(h);
            free(r);
            aud_fair_result_free(res);
        }
    }
}

/* 200,000 rows (3 chunks at 3 threads, 2 at 2): the trade-offs' row passes in chunks - the
 * histogram counts (scores on a grid of 0.005: few cells beside a chunk's rows) and the
 * rank-order deal into groups (continuous scores, and the rank-order path forced) - give the
 * document of one chunk, for both favourable labels. */
static void test_tradeoff_chunks_agree(void **state)
{
    (void)state;
    enum { N = 200000 };
    static double score[N], label[N];
    static int32_t codes[N];
    static const char *const lv[] = {"a", "b", "c"};
    for (int ties = 0; ties <= 1; ties++) {
        tradeoff_rows(N, 7 + (uint64_t)ties, ties ? 200.0 : 0.0, ties, score, label, codes);
        for (int fav = 0; fav <= 1; fav++) {
            aud_fair_attr at = {"g", codes, 3, lv, NULL, NULL};
            aud_fair_result *res = tradeoff_result(&at, score, label, N, fav);
            assert_int_equal(aud_tradeoff_needs_order(res->ranks, 3, 0), !ties);
            unsigned char elig[3] = {1, 1, 1};
            for (size_t hist = 0; hist <= 1; hist++) {
                char *one = tradeoff_doc_on(res, &at, label, elig, fav, 0.5, hist, 1);
                for (int t = 2; t <= 3; t++) {
                    char *many = tradeoff_doc_on(res, &at, label, elig, fav, 0.5, hist, t);
                    assert_string_equal(one, many);
                    free(many);
                }
                free(one);
            }
            aud_fair_result_free(res);
        }
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_assoc_set_equals_single(void **state)
{
    (void)state;
    enum { N = 20000 };   /* over the radix select's small-column limit */
    static double x[N], sorted[N];
    static int32_t c1[N], c2[N];
    aud_error err;
    rng_state = 7;
    for (size_t i = 0; i < N; i++) {
        x[i] = urand() < 0.03 ? NAN : (urand() < 0.5 ? -1.0 : 1.0) * exp(6.0 * urand());
        c1[i] = urand() < 0.02 ? -1 : (int32_t)(urand() * 3.0);
        c2[i] = (int32_t)(urand() * 5.0);
    }
    aud_assoc_feature f;
    assert_int_equal(aud_assoc_feature_prepare(&f, x, N, &err), AUD_OK);
    assert_false(f.discrete);
    /* bins: numpy.quantile (linear) deciles of a sorted copy, bin = edges <= x */
    size_t m = 0;
    for (size_t i = 0; i < N; i++)
        if (!isnan(x[i]))
            sorted[m++] = x[i];
    qsort(sorted, m, sizeof *sorted, cmp_dbl);
    double edges[9];
    size_t ne = 0;
    for (int k = 1; k < 10; k++) {
        double h = (double)(m - 1) * (k / 10.0), fl = floor(h), g = h - fl;
        double a = sorted[(size_t)fl], b = sorted[(size_t)fl + 1], d = b - a;
        double q = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
        if (ne == 0 || q != edges[ne - 1])
            edges[ne++] = q;
    }
    for (size_t i = 0; i < N; i++) {
        size_t want = ne + 1;   /* missing: the level after the bins */
        if (!isnan(x[i])) {
            want = 0;
            while (want < ne && edges[want] <= x[i])
                want++;
        }
        assert_int_equal((size_t)f.level[i], want);
    }
    const int32_t *codes[2] = {c1, c2};
    size_t levels[2] = {3, 5};
    aud_assoc set[2], one;
    assert_int_equal(aud_assoc_compute_set(&f, codes, levels, 2, set, &err), AUD_OK);
    for (int a = 0; a < 2; a++) {
        assert_int_equal(aud_assoc_compute(&f, codes[a], levels[a], &one, &err), AUD_OK);
        assert_memory_equal(&one.association, &set[a].association, sizeof one.association);
        assert_memory_equal(&one.nmi, &set[a].nmi, sizeof one.nmi);
        assert_int_equal(one.n, set[a].n);
    }
    aud_assoc_feature_free(&f);
}

/* aud_assoc_compute_cells against aud_assoc_compute_set: two attributes (one with unknown
 * values) as 20 cells, the groupings each attribute and their intersection; a continuous
 * feature (NaN, wide range), one far from zero (10^12 + k / 1024: the cells' sums are not
 * exact in double) and a discrete one. The
 * tables are the same integers, so Cramer's V and NMI are the same bits; eta agrees to 1e-13
 * relative, and on the far-from-zero feature both are within 1e-13 of eta computed exactly in
 * integers (the cells' differences from the mean are taken before rounding; the rounded means'
 * own error, m d^2 in both sums of squares, is taken out: left in, eta was off by 8e-8 here). */
static void test_assoc_cells_equal_set(void **state)
{
    (void)state;
    enum { N = 30000, CELLS = 20 };
    static double x[3][N];
    static int32_t a1[N], a2[N], ai[N], cell[N];
    static long kv[N];
    int32_t gm[3][CELLS];
    aud_error err;
    rng_state = 11;
    for (size_t i = 0; i < N; i++) {
        x[0][i] = urand() < 0.03 ? NAN : (urand() < 0.5 ? -1.0 : 1.0) * exp(6.0 * urand());
        a1[i] = urand() < 0.05 ? -1 : (int32_t)(urand() * 3.0);
        a2[i] = (int32_t)(urand() * 5.0);
        kv[i] = (long)(urand() * 8000) + (a2[i] == 1 ? 2 : 0);
        x[1][i] = 1e12 + (double)kv[i] / 1024.0;   /* exact in double */
        x[2][i] = floor(urand() * 6.0) + (a1[i] == 2);
        ai[i] = a1[i] < 0 ? -1 : a1[i] * 5 + a2[i];
        cell[i] = (a1[i] + 1) + 4 * a2[i];
    }
    for (int32_t c = 0; c < CELLS; c++) {
        int32_t u = c % 4 - 1, v = c / 4;
        gm[0][c] = u;
        gm[1][c] = v;
        gm[2][c] = u < 0 ? -1 : u * 5 + v;
    }
    const int32_t *codes[3] = {a1, a2, ai}, *gmap[3] = {gm[0], gm[1], gm[2]};
    size_t levels[3] = {3, 5, 15};
    for (int k = 0; k < 3; k++) {
        aud_assoc_feature f;
        assert_int_equal(aud_assoc_feature_prepare(&f, x[k], N, &err), AUD_OK);
        assert_int_equal(f.discrete, k == 2);
        aud_assoc set[3], cl[3];
        assert_int_equal(aud_assoc_compute_set(&f, codes, levels, 3, set, &err), AUD_OK);
        assert_int_equal(aud_assoc_compute_cells(&f, cell, CELLS, gmap, levels, 3, cl, &err),
                         AUD_OK);
        for (int a = 0; a < 3; a++) {
            assert_int_equal(cl[a].n, set[a].n);
            assert_string_equal(cl[a].measure, set[a].measure);
            assert_memory_equal(&cl[a].nmi, &set[a].nmi, sizeof cl[a].nmi);
            if (k == 2) {
                assert_memory_equal(&cl[a].association, &set[a].association,
                                    sizeof cl[a].association);
                continue;
            }
            double e = fabs(cl[a].association - set[a].association) / set[a].association;
            printf("  feature %d grouping %d: eta %.17g, relative difference %.3g\n", k, a,
                   set[a].association, e);
            assert_true(set[a].association > 0.0 && e <= 1e-13);
            if (k != 1)
                continue;
            /* eta of the integers k (shift and scale do not change it), exactly: SS_between =
             * sum_g (n S_g - n_g S)^2 / (n_g n^2), SS_total = (n Q - S^2) / n */
            __int128 ng[15] = {0}, Sg[15] = {0}, n = 0, S = 0, Q = 0;
            for (size_t i = 0; i < N; i++) {
                if (codes[a][i] < 0)
                    continue;
                ng[codes[a][i]]++;
                Sg[codes[a][i]] += kv[i];
                n++;
                S += kv[i];
                Q += (__int128)kv[i] * kv[i];
            }
            long double ssb = 0.0L;
            for (size_t g = 0; g < levels[a]; g++) {
                if (ng[g] == 0)
                    continue;
                long double t = (long double)(n * Sg[g] - ng[g] * S);
                ssb += t * t / ((long double)ng[g] * (long double)n * (long double)n);
            }
            long double ref = sqrtl(ssb / ((long double)(n * Q - S * S) / (long double)n));
            printf("    exact %.17Lg: cells %.3Lg, set %.3Lg relative\n", ref,
                   fabsl(cl[a].association - ref) / ref, fabsl(set[a].association - ref) / ref);
            assert_true(fabsl(cl[a].association - ref) <= 1e-13L * ref);
            assert_true(fabsl(set[a].association - ref) <= 1e-13L * ref);
        }
        aud_assoc_feature_free(&f);
    }
}

/* eta on 300,001 rows far from zero (10^8 + k / 8, every value exact in double) with a small
 * difference between the groups' means, against eta computed exactly in integers:
 * eta^2 = (n1 S0 - n0 S1)^2 / (n0 n1 (n Q - S^2)), S the sums and Q the sum of squares of k.
 * The group means round to a multiple of 1.5e-8 while they differ by about 0.03: the earlier
 * code, long double sums and each group's mean rounded to double before the difference, was off
 * by 9.4e-9 relative here; the sums as double-doubles and n * mean by fma give 1.5e-16. A NaN
 * and a row without a group are left out. */
static void test_assoc_eta_exact(void **state)
{
    (void)state;
    enum { N = 300001 };
    double *x = malloc(N * sizeof *x);
    int32_t *codes = malloc(N * sizeof *codes);
    assert_non_null(x);
    assert_non_null(codes);
    __int128 n[2] = {0, 0}, S[2] = {0, 0}, Q = 0;
    uint64_t h = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < N; i++) {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        int g = (h >> 32) % 3 == 0;
        long k = (long)((h >> 8) % 8000) + (g && (h >> 40) % 4 == 0 ? 2 : 0);
        codes[i] = g;
        x[i] = 1e8 + (double)k / 8.0;
        if (i == 17) {
            x[i] = NAN;
            continue;
        }
        if (i == 18) {
            codes[i] = -1;
            continue;
        }
        n[g]++;
        S[g] += k;
        Q += (__int128)k * k;
    }
    __int128 nt = n[0] + n[1], St = S[0] + S[1];
    __int128 num = n[1] * S[0] - n[0] * S[1];
    long double ref = sqrtl((long double)num * (long double)num /
                            ((long double)(n[0] * n[1]) * (long double)(nt * Q - St * St)));
    aud_error err;
    aud_assoc_feature f;
    assert_int_equal(aud_assoc_feature_prepare(&f, x, N, &err), AUD_OK);
    assert_int_equal(f.discrete, 0);
    aud_assoc a;
    assert_int_equal(aud_assoc_compute(&f, codes, 2, &a, &err), AUD_OK);
    assert_true(a.n == N - 1);
    assert_true(ref > 1e-4 && ref < 1e-2);
    assert_true(fabsl((long double)a.association - ref) <= 1e-13L * ref);
    aud_assoc_feature_free(&f);
    free(x);
    free(codes);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tradeoff_paths_agree),
        cmocka_unit_test(test_tradeoff_chunks_agree),
        cmocka_unit_test(test_assoc_set_equals_single),
        cmocka_unit_test(test_assoc_eta_exact),
        cmocka_unit_test(test_assoc_cells_equal_set),
        cmocka_unit_test(test_cells_xgboost),
        cmocka_unit_test(test_cells_rows_in_chunks),
        cmocka_unit_test(test_cells_lightgbm),
        cmocka_unit_test(test_cells_rejects),
        cmocka_unit_test(test_cramers_v_nmi),
        cmocka_unit_test(test_feature_levels),
        cmocka_unit_test(test_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
