/* test_shap.c - explainers vs brute-force Shapley values on small hand-built and random models.
 *
 * Oracles (independent of the algorithms under test):
 *  - path-dependent game: v(S) = E[f(x) | x_S] where the expectation over features outside S
 *    follows every branch weighted by cover(child) / cover(node) (Lundberg et al. 2018, Alg. 1);
 *    Shapley values and Shapley interaction indices by full subset enumeration;
 *  - interventional game: v(S) = mean_b f(x_S, z_b,~S), enumerated;
 *  - closed forms for linear models.
 * Tolerances: 1e-12 * max(1, |ref|) for tree/linear (double, a few dozen operations per value);
 * 1e-9 for interventional/kernel, as the SPEC states. */
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

/* --- deterministic random numbers (splitmix64) ------------------------------------------------ */
static uint64_t rng_state;
static double urand(void)
{
    rng_state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}
static int irand(int n) { return (int)(urand() * n); }

/* --- model construction ----------------------------------------------------------------------- */
/* The library's allocator, then the zero initial state these tests were written against
 * (missing type None: NaN routes as 0, exercising LightGBM's rule). */
static void tree_alloc(aud_tree *t, int n)
{
    aud_error err;
    assert_int_equal(aud_tree_alloc(t, n, &err), AUD_OK);
    memset(t->left, 0, (size_t)n * sizeof *t->left);
    memset(t->right, 0, (size_t)n * sizeof *t->right);
    memset(t->feature, 0, (size_t)n * sizeof *t->feature);
    memset(t->missing, AUD_MISSING_NONE, (size_t)n);
}

static void model_release(aud_model *m)
{
    for (size_t t = 0; t < m->n_trees; t++)
        aud_tree_free(&m->trees[t]);
    aud_free(m->trees);
    aud_free(m->base_margin);
    aud_free(m->coef);
    memset(m, 0, sizeof *m);
}

/* random subtree rooted at node *next; returns its index; covers = sum of children */
static int32_t grow(aud_tree *t, int32_t *next, int depth, int M, int kind)
{
    int32_t n = (*next)++;
    if (depth == 0 || (depth < 3 && urand() < 0.2)) {
        t->left[n] = -1;
        t->right[n] = -1;
        t->value[n] = urand() * 2.0 - 1.0;
        t->cover[n] = 1.0 + (double)irand(20);
        return n;
    }
    t->feature[n] = irand(M);
    t->threshold[n] = urand();
    t->kind[n] = (uint8_t)kind;
    t->missing[n] = AUD_MISSING_NAN;
    t->default_left[n] = (uint8_t)irand(2);
    int32_t l = grow(t, next, depth - 1, M, kind);
    int32_t r = grow(t, next, depth - 1, M, kind);
    t->left[n] = l;
    t->right[n] = r;
    t->cover[n] = t->cover[l] + t->cover[r];
    return n;
}

static void random_trees(aud_model *m, int M, int n_trees, int depth, int K)
{
    memset(m, 0, sizeof *m);
    m->kind = AUD_MODEL_TREES;
    m->n_features = (size_t)M;
    m->n_outputs = (size_t)K;
    m->link = K > 1 ? AUD_LINK_SOFTMAX : AUD_LINK_SIGMOID;
    m->sigmoid_scale = 1.0;
    m->base_margin = aud_calloc((size_t)K, sizeof(double));
    for (int k = 0; k < K; k++)
        m->base_margin[k] = 0.25 * (k + 1);
    m->n_trees = (size_t)n_trees;
    m->trees = aud_calloc((size_t)n_trees, sizeof(aud_tree));
    for (int t = 0; t < n_trees; t++) {
        tree_alloc(&m->trees[t], (1 << (depth + 1)) - 1);
        int32_t next = 0;
        grow(&m->trees[t], &next, depth, M, t % 2 ? AUD_SPLIT_LT_F32 : AUD_SPLIT_LE_F64);
        m->trees[t].n_nodes = next;
        m->trees[t].output = t % K;
    }
}

static void random_rows(double *X, int n, int M, double p_nan)
{
    for (int i = 0; i < n * M; i++)
        X[i] = urand() < p_nan ? NAN : urand();
}

/* --- oracles ------------------------------------------------------------------------------------ */
static double cond_exp(const aud_tree *t, int32_t n, const double *x, uint64_t S)
{
    if (t->left[n] < 0)
        return t->value[n];
    int32_t f = t->feature[n];
    if ((S >> f) & 1u)
        return cond_exp(t, aud_shap_go_left(t, n, x[f]) ? t->left[n] : t->right[n], x, S);
    int32_t l = t->left[n], r = t->right[n];
    return (t->cover[l] * cond_exp(t, l, x, S) + t->cover[r] * cond_exp(t, r, x, S)) /
           t->cover[n];
}

typedef struct pd_game {
    const aud_model *m;
    const double *x;
} pd_game;

static int pd_value(void *ctx, const uint64_t *masks, size_t n, double *out)
{
    const pd_game *g = ctx;
    size_t K = g->m->n_outputs;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < K; k++)
            out[i * K + k] = g->m->base_margin[k];
        for (size_t t = 0; t < g->m->n_trees; t++) {
            const aud_tree *tr = &g->m->trees[t];
            out[i * K + (size_t)tr->output] += cond_exp(tr, 0, g->x, masks[i]);
        }
    }
    return AUD_OK;
}

static void assert_close(double got, double want, double tol, const char *what, size_t i)
{
    double e = fabs(got - want);
    if (!(e <= tol * fmax(1.0, fabs(want)))) {
        fprintf(stderr, "%s[%zu]: got %.17g want %.17g (|diff| %.3g > %.3g)\n", what, i, got,
                want, e, tol);
        fail();
    }
}

/* --- tests -------------------------------------------------------------------------------------- */

/* Hand-computed: one split on x0 (covers 3 left / 1 right), leaves 1 and 5; x goes left.
 * E[f] = (3*1 + 1*5)/4 = 2, f(x) = 1, so phi_0 = -1, bias 2. */
static void test_tree_stump_by_hand(void **state)
{
    (void)state;
    aud_model m;
    memset(&m, 0, sizeof m);
    m.kind = AUD_MODEL_TREES;
    m.n_features = 2;
    m.n_outputs = 1;
    m.n_trees = 1;
    m.base_margin = aud_calloc(1, sizeof(double));
    m.trees = aud_calloc(1, sizeof(aud_tree));
    aud_tree *t = &m.trees[0];
    tree_alloc(t, 3);
    t->left[0] = 1;
    t->right[0] = 2;
    t->left[1] = t->right[1] = t->left[2] = t->right[2] = -1;
    t->feature[0] = 0;
    t->threshold[0] = 0.5;
    t->kind[0] = AUD_SPLIT_LT_F32;
    t->cover[0] = 4;
    t->cover[1] = 3;
    t->cover[2] = 1;
    t->value[1] = 1;
    t->value[2] = 5;
    double x[2] = {0.1, 7.0};
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    aud_shap_result *r = NULL;
    aud_error err;
    assert_int_equal(aud_shap_explain(&r, &m, x, 1, &o, &err), AUD_OK);
    assert_int_equal(r->method, AUD_SHAP_TREE);
    assert_true(r->phi[0] == -1.0);
    assert_true(r->phi[1] == 0.0);
    assert_true(r->phi[2] == 2.0);
    assert_true(r->fx[0] == 1.0);
    assert_true(r->additivity_max_error == 0.0);
    aud_shap_result_free(r);
    model_release(&m);
}

static void test_tree_matches_bruteforce_path_dependent(void **state)
{
    (void)state;
    rng_state = 1;
    aud_error err;
    for (int rep = 0; rep < 12; rep++) {
        int M = 2 + rep % 6, K = rep % 3 == 2 ? 3 : 1;
        aud_model m;
        random_trees(&m, M, 3 + rep % 4, 1 + rep % 6, K);
        double X[8 * 8];
        random_rows(X, 8, M, 0.15);
        aud_shap_opts o;
        aud_shap_opts_default(&o);
        aud_shap_result *r = NULL;
        assert_int_equal(aud_shap_explain(&r, &m, X, 8, &o, &err), AUD_OK);
        double ref[3 * 9];
        for (size_t i = 0; i < 8; i++) {
            pd_game g = {&m, X + i * (size_t)M};
            aud_shap_game game = {(size_t)M, (size_t)K, pd_value, &g};
            assert_int_equal(aud_shap_exact_game(&game, ref, &err), AUD_OK);
            for (size_t j = 0; j < r->stride; j++)
                assert_close(r->phi[i * r->stride + j], ref[j], 1e-12, "tree phi", j);
        }
        assert_true(r->additivity_max_error < 1e-12);
        aud_shap_result_free(r);
        model_release(&m);
    }
}

static void check_interactions(const aud_model *m, const double *X, size_t rows, int threads);

/* Trees with paths of more than AUD_SHAP_FAST_TABLE_PLAYERS unique features use Linear
 * TreeSHAP, the others the precomputed tables; both against brute force in one model. */
static void test_tree_long_paths_fall_back(void **state)
{
    (void)state;
    rng_state = 23;
    aud_error err;
    aud_model m;
    random_trees(&m, 10, 3, 9, 1);
    /* make tree 0 shallow: cut it at depth 2 by turning its depth-2 nodes into leaves */
    aud_tree *t0 = &m.trees[0];
    int32_t kids[2] = {t0->left[0], t0->right[0]};
    for (int q = 0; q < 2; q++) {
        int32_t c = kids[q];
        if (t0->left[c] < 0)
            continue;
        int32_t g[2] = {t0->left[c], t0->right[c]};
        for (int h = 0; h < 2; h++) {
            t0->left[g[h]] = -1;
            t0->right[g[h]] = -1;
        }
    }
    aud_shap_plan *plan = NULL;
    aud_shap_fast *fast = NULL;
    assert_int_equal(aud_shap_plan_new(&plan, &m, &err), AUD_OK);
    assert_int_equal(aud_shap_fast_new(&fast, plan, AUD_SHAP_FAST_MAX_BYTES, &err), AUD_OK);
    int n_fast = 0;
    for (size_t t = 0; t < m.n_trees; t++)
        n_fast += aud_shap_fast_has(fast, t);
    assert_true(aud_shap_fast_has(fast, 0));
    assert_true(n_fast < 3);   /* at least one deep tree falls back */
    aud_shap_fast_free(fast);
    aud_shap_plan_free(plan);
    double X[3 * 10];
    random_rows(X, 3, 10, 0.1);
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    aud_shap_result *r = NULL;
    assert_int_equal(aud_shap_explain(&r, &m, X, 3, &o, &err), AUD_OK);
    double ref[11];
    for (size_t i = 0; i < 3; i++) {
        pd_game g = {&m, X + i * 10};
        aud_shap_game game = {10, 1, pd_value, &g};
        assert_int_equal(aud_shap_exact_game(&game, ref, &err), AUD_OK);
        for (size_t j = 0; j < 11; j++)
            assert_close(r->phi[i * 11 + j], ref[j], 1e-12, "deep tree phi", j);
    }
    check_interactions(&m, X, 2, 1);   /* tables for tree 0, conditioning for the others */
    aud_shap_result_free(r);
    model_release(&m);
}

/* Interaction values of n rows vs the Shapley interaction index of the path-dependent game by
 * enumeration; rows sum to the SHAP values; bias only at [M][M]; additivity. */
static void check_interactions(const aud_model *m, const double *X, size_t rows, int threads)
{
    aud_error err;
    size_t M = m->n_features, K = m->n_outputs, M1 = M + 1;
    double *got = aud_calloc(rows * K * M1 * M1, sizeof(double));
    assert_int_equal(aud_shap_tree_interactions(m, X, rows, got, threads, &err), AUD_OK);
    size_t n = (size_t)1 << M;
    double *v = aud_calloc(n * K, sizeof(double));
    double *phi = aud_calloc(K * M1, sizeof(double));
    for (size_t i = 0; i < rows; i++) {
        pd_game g = {m, X + i * M};
        for (uint64_t s = 0; s < n; s++)
            pd_value(&g, &s, 1, v + s * K);
        aud_shap_game game = {M, K, pd_value, &g};
        assert_int_equal(aud_shap_exact_game(&game, phi, &err), AUD_OK);
        for (size_t k = 0; k < K; k++) {
            const double *blk = got + (i * K + k) * M1 * M1;
            double total = 0.0;
            for (size_t a = 0; a < M; a++) {
                double rowsum = 0.0;
                for (size_t b = 0; b < M; b++) {
                    rowsum += blk[a * M1 + b];
                    if (a == b)
                        continue;
                    double ref = 0.0;
                    for (uint64_t S = 0; S < n; S++) {
                        if (((S >> a) & 1u) || ((S >> b) & 1u))
                            continue;
                        int s = __builtin_popcountll(S);
                        double w = exp(lgamma(s + 1.0) + lgamma((double)M - s - 1.0) -
                                       lgamma((double)M)) / 2.0;
                        uint64_t Sa = S | (1ull << a), Sb = S | (1ull << b);
                        ref += w * (v[(Sa | Sb) * K + k] - v[Sa * K + k] - v[Sb * K + k] +
                                    v[S * K + k]);
                    }
                    assert_close(blk[a * M1 + b], ref, 1e-12, "interaction", a * M1 + b);
                }
                assert_close(rowsum, phi[k * M1 + a], 1e-12, "interaction row sum", a);
                assert_true(blk[a * M1 + M] == 0.0);
                assert_true(blk[M * M1 + a] == 0.0);
                total += rowsum;
            }
            assert_close(blk[M * M1 + M], phi[k * M1 + M], 1e-12, "interaction bias", k);
            assert_close(total + blk[M * M1 + M], v[(n - 1) * K + k], 1e-12,
                         "interaction additivity", k);
        }
    }
    aud_free(phi);
    aud_free(v);
    aud_free(got);
}

static void test_tree_interactions_match_bruteforce(void **state)
{
    (void)state;
    rng_state = 7;
    for (int rep = 0; rep < 6; rep++) {
        int M = 3 + rep % 4, K = rep == 5 ? 2 : 1;
        aud_model m;
        random_trees(&m, M, 4, 2 + rep % 4, K);
        double X[3 * 8];
        random_rows(X, 3, M, 0.1);
        check_interactions(&m, X, 3, 2);
        model_release(&m);
    }
}

static void masked_oracle(const aud_model *m, const double *x, const double *bg, size_t nb,
                          int prob, double *ref)
{
    aud_shap_masked g;
    aud_error err;
    assert_int_equal(aud_shap_masked_init(&g, m, bg, nb, prob), AUD_OK);
    g.x = x;
    aud_shap_game game = {m->n_features, m->n_outputs, aud_shap_masked_value, &g};
    assert_int_equal(aud_shap_exact_game(&game, ref, &err), AUD_OK);
    aud_shap_masked_free(&g);
}

static void test_interventional_matches_bruteforce(void **state)
{
    (void)state;
    rng_state = 11;
    aud_error err;
    for (int rep = 0; rep < 10; rep++) {
        int M = 2 + rep % 7, K = rep % 4 == 3 ? 3 : 1;
        aud_model m;
        random_trees(&m, M, 2 + rep % 5, 1 + rep % 7, K);
        double X[5 * 8], bg[13 * 8];
        random_rows(X, 5, M, 0.1);
        random_rows(bg, 13, M, 0.1);
        aud_shap_opts o;
        aud_shap_opts_default(&o);
        o.method = AUD_SHAP_TREE_INTERVENTIONAL;
        o.background = bg;
        o.n_background = 13;
        o.threads = 2;
        aud_shap_result *r = NULL;
        assert_int_equal(aud_shap_explain(&r, &m, X, 5, &o, &err), AUD_OK);
        double ref[3 * 9];
        for (size_t i = 0; i < 5; i++) {
            masked_oracle(&m, X + i * (size_t)M, bg, 13, 0, ref);
            for (size_t j = 0; j < r->stride; j++)
                assert_close(r->phi[i * r->stride + j], ref[j], 1e-9, "interventional", j);
        }
        assert_true(r->additivity_max_error < 1e-12);
        aud_shap_result_free(r);
        model_release(&m);
    }
}

static void random_linear(aud_model *m, int M, int K)
{
    memset(m, 0, sizeof *m);
    m->kind = AUD_MODEL_LINEAR;
    m->n_features = (size_t)M;
    m->n_outputs = (size_t)K;
    m->link = AUD_LINK_SIGMOID;
    m->sigmoid_scale = 1.0;
    m->coef = aud_calloc((size_t)(M * K), sizeof(double));
    m->base_margin = aud_calloc((size_t)K, sizeof(double));
    for (int i = 0; i < M * K; i++)
        m->coef[i] = urand() * 4.0 - 2.0;
    for (int k = 0; k < K; k++)
        m->base_margin[k] = urand() - 0.5;
}

static void test_linear_closed_form_and_bruteforce(void **state)
{
    (void)state;
    rng_state = 5;
    aud_error err;
    aud_model m;
    random_linear(&m, 6, 1);
    double X[4 * 6], bg[9 * 6];
    random_rows(X, 4, 6, 0.0);
    random_rows(bg, 9, 6, 0.0);
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.background = bg;
    o.n_background = 9;
    aud_shap_result *r = NULL;
    assert_int_equal(aud_shap_explain(&r, &m, X, 4, &o, &err), AUD_OK);
    assert_int_equal(r->method, AUD_SHAP_LINEAR);
    double ref[7];
    for (size_t i = 0; i < 4; i++) {
        masked_oracle(&m, X + i * 6, bg, 9, 0, ref);
        for (size_t j = 0; j < 7; j++)
            assert_close(r->phi[i * 7 + j], ref[j], 1e-12, "linear vs exact", j);
        for (size_t j = 0; j < 6; j++) {
            double mean = 0.0;
            for (size_t b = 0; b < 9; b++)
                mean += bg[b * 6 + j];
            mean /= 9.0;
            assert_close(r->phi[i * 7 + j], m.coef[j] * (X[i * 6 + j] - mean), 1e-12,
                         "linear closed form", j);
        }
    }
    aud_shap_result_free(r);
    /* missing values are an input error naming the feature */
    X[2 * 6 + 3] = NAN;
    assert_int_equal(aud_shap_explain(&r, &m, X, 4, &o, &err), AUD_E_DOMAIN);
    assert_non_null(strstr(err.msg, "row 2: feature 3"));
    model_release(&m);
}

/* Merged runs: linear SHAP summed per cell from the cells' input sums (aud_shap_linear_cells)
 * equals the sum of the rows' aud_shap_explain values (to rounding: 1e-12 of the sum of |phi|),
 * the base value included in the outputs; a weight-0 feature gives 0 whatever its sum. */
static void test_linear_cells_equal_summed_rows(void **state)
{
    (void)state;
    rng_state = 11;
    aud_error err;
    aud_model m;
    random_linear(&m, 5, 1);
    m.coef[3] = 0.0;
    enum { N = 40, M = 5, C = 3 };
    double X[N * M], bg[7 * M], phi[C * M], out[C];
    random_rows(X, N, M, 0.0);
    random_rows(bg, 7, M, 0.0);
    long double xsum[C * M] = {0};
    uint64_t count[C] = {0};
    double ref[C * (M + 1)] = {0}, mag[C * (M + 1)] = {0};
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.background = bg;
    o.n_background = 7;
    aud_shap_result *r = NULL;
    assert_int_equal(aud_shap_explain(&r, &m, X, N, &o, &err), AUD_OK);
    for (size_t i = 0; i < N; i++) {
        size_t k = i % C;
        count[k]++;
        for (size_t j = 0; j <= M; j++) {
            double v = r->phi[i * (M + 1) + j];
            if (j < M)
                xsum[k * M + j] += X[i * M + j];
            ref[k * (M + 1) + (j < M ? j : M)] += j < M ? v : 0.0;
            ref[k * (M + 1) + M] += v;   /* the output: attributions plus base value */
            mag[k * (M + 1) + (j < M ? j : M)] += fabs(v);
        }
    }
    xsum[1 * M + 3] = NAN;   /* unused: never read */
    aud_shap_linear_cells(&m, bg, 7, xsum, count, C, phi, out);
    for (size_t k = 0; k < C; k++) {
        for (size_t j = 0; j < M; j++)
            assert_true(fabs(phi[k * M + j] - ref[k * (M + 1) + j]) <=
                        1e-12 * (1.0 + mag[k * (M + 1) + j]));
        assert_true(phi[k * M + 3] == 0.0);
        double all = 0.0;
        for (size_t j = 0; j <= M; j++)
            all += mag[k * (M + 1) + j];
        assert_true(fabs(out[k] - ref[k * (M + 1) + M]) <= 1e-12 * (1.0 + all));
    }
    aud_shap_result_free(r);
    model_release(&m);
}

/* The all-background-at-once game equals the row-by-row masked game (>64 rows: several words). */
static void test_bgtree_game_equals_masked_game(void **state)
{
    (void)state;
    rng_state = 31;
    aud_error err;
    aud_model m;
    random_trees(&m, 9, 7, 6, 2);
    double X[9], bg[150 * 9];
    random_rows(X, 1, 9, 0.2);
    random_rows(bg, 150, 9, 0.2);
    aud_shap_plan *plan = NULL;
    aud_shap_bgtree *g = NULL;
    assert_int_equal(aud_shap_plan_new(&plan, &m, &err), AUD_OK);
    assert_int_equal(aud_shap_bgtree_new(&g, plan, bg, 150, AUD_SHAP_BGTREE_MAX_BYTES, &err),
                     AUD_OK);
    assert_non_null(g);
    uint64_t masks[64];
    for (int i = 0; i < 64; i++)
        masks[i] = (uint64_t)(urand() * 512.0);
    masks[0] = 0;
    masks[1] = 511;
    aud_shap_bgtree_game s;
    aud_shap_masked mg;
    for (int prob = 0; prob < 2; prob++) {
        assert_int_equal(aud_shap_bgtree_game_init(&s, g, prob), AUD_OK);
        aud_shap_bgtree_set_row(&s, X);
        assert_int_equal(aud_shap_masked_init(&mg, &m, bg, 150, prob), AUD_OK);
        mg.x = X;
        double a[128], b[128];
        assert_int_equal(aud_shap_bgtree_value(&s, masks, 64, a), AUD_OK);
        assert_int_equal(aud_shap_masked_value(&mg, masks, 64, b), AUD_OK);
        for (size_t i = 0; i < 128; i++)
            assert_close(a[i], b[i], 1e-12, prob ? "bgtree vs masked (prob)" : "bgtree vs masked",
                         i);
        aud_shap_masked_free(&mg);
        aud_shap_bgtree_game_free(&s);
    }
    /* a budget too small for the bit sets: NULL, and the caller falls back */
    aud_shap_bgtree *none = NULL;
    assert_int_equal(aud_shap_bgtree_new(&none, plan, bg, 150, 16, &err), AUD_OK);
    assert_null(none);
    aud_shap_bgtree_free(g);
    aud_shap_plan_free(plan);
    model_release(&m);
}

static void test_kernel_full_enumeration_equals_exact(void **state)
{
    (void)state;
    rng_state = 21;
    aud_error err;
    for (int rep = 0; rep < 5; rep++) {
        int M = rep == 0 ? 1 : 2 * rep, K = rep == 3 ? 3 : 1;   /* M = 1, 2, 4, 6, 8 */
        aud_model m;
        random_trees(&m, M, 6, 4, K);
        double X[3 * 8], bg[7 * 8];
        random_rows(X, 3, M, 0.1);
        random_rows(bg, 7, M, 0.1);
        for (int prob = 0; prob < 2; prob++) {
            aud_shap_opts o;
            aud_shap_opts_default(&o);
            o.method = AUD_SHAP_KERNEL;
            o.output = prob ? AUD_SHAP_OUTPUT_PROBABILITY : AUD_SHAP_OUTPUT_RAW;
            o.background = bg;
            o.n_background = 7;
            aud_shap_result *r = NULL, *e = NULL;
            assert_int_equal(aud_shap_explain(&r, &m, X, 3, &o, &err), AUD_OK);
            o.method = AUD_SHAP_EXACT;
            assert_int_equal(aud_shap_explain(&e, &m, X, 3, &o, &err), AUD_OK);
            for (size_t i = 0; i < 3 * r->stride; i++)
                assert_close(r->phi[i], e->phi[i], 1e-9, "kernel vs exact", i);
            assert_true(r->additivity_max_error < 1e-12);
            assert_true(e->additivity_max_error < 1e-12);
            aud_shap_result_free(r);
            aud_shap_result_free(e);
        }
        model_release(&m);
    }
}

/* For an additive game the WLS fit is exact for any full-rank design, so sampled KernelSHAP
 * (M = 14: 16382 coalitions, budget 400) must reproduce linear SHAP. */
static void test_kernel_sampled_exact_on_additive_game(void **state)
{
    (void)state;
    rng_state = 3;
    aud_error err;
    aud_model m;
    random_linear(&m, 14, 1);
    double X[2 * 14], bg[5 * 14];
    random_rows(X, 2, 14, 0.0);
    random_rows(bg, 5, 14, 0.0);
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.background = bg;
    o.n_background = 5;
    aud_shap_result *r = NULL, *lin = NULL;
    assert_int_equal(aud_shap_explain(&lin, &m, X, 2, &o, &err), AUD_OK);
    o.method = AUD_SHAP_KERNEL;
    o.n_samples = 400;
    assert_int_equal(aud_shap_explain(&r, &m, X, 2, &o, &err), AUD_OK);
    for (size_t i = 0; i < 2 * r->stride; i++)
        assert_close(r->phi[i], lin->phi[i], 1e-9, "sampled kernel vs linear", i);
    aud_kernel_design *d = NULL;
    assert_int_equal(aud_kernel_design_new(&d, 14, 400, 42, &err), AUD_OK);
    assert_false(d->complete);
    assert_true(d->n_coal == 400);
    aud_kernel_design_free(d);
    aud_shap_result_free(r);
    aud_shap_result_free(lin);
    model_release(&m);
}

/* Sampled KernelSHAP on a tree model: seeded (identical reruns), efficient, and close to exact. */
static void test_kernel_sampled_seeded_and_close(void **state)
{
    (void)state;
    rng_state = 99;
    aud_error err;
    aud_model m;
    random_trees(&m, 10, 8, 4, 1);
    double X[2 * 10], bg[10 * 10];
    random_rows(X, 2, 10, 0.0);
    random_rows(bg, 10, 10, 0.0);
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.method = AUD_SHAP_KERNEL;
    o.background = bg;
    o.n_background = 10;
    o.n_samples = 600;   /* of 1022 */
    aud_shap_result *a = NULL, *b = NULL, *e = NULL;
    assert_int_equal(aud_shap_explain(&a, &m, X, 2, &o, &err), AUD_OK);
    o.threads = 2;
    assert_int_equal(aud_shap_explain(&b, &m, X, 2, &o, &err), AUD_OK);
    assert_memory_equal(a->phi, b->phi, 2 * a->stride * sizeof(double));
    o.method = AUD_SHAP_EXACT;
    assert_int_equal(aud_shap_explain(&e, &m, X, 2, &o, &err), AUD_OK);
    double maxd = 0.0, scale = 0.0;
    for (size_t i = 0; i < 2 * a->stride; i++) {
        maxd = fmax(maxd, fabs(a->phi[i] - e->phi[i]));
        scale = fmax(scale, fabs(e->phi[i]));
    }
    /* a loose bound: sampling error, not a formula error (a wrong weight gives O(scale)) */
    assert_true(maxd < 0.05 * scale);
    assert_true(a->additivity_max_error < 1e-12);
    aud_shap_result_free(a);
    aud_shap_result_free(b);
    aud_shap_result_free(e);
    model_release(&m);
}

/* A deep, narrow tree: a spine of `depth` splits (random side), each with a full subtree of
 * depth <= 3 on the other side; features repeat along the path when M is small. */
static int32_t grow_spine(aud_tree *t, int32_t *next, int depth, int M)
{
    if (depth <= 3)
        return grow(t, next, depth, M, AUD_SPLIT_LE_F64);
    int32_t n = (*next)++;
    t->feature[n] = irand(M);
    t->threshold[n] = urand();
    t->kind[n] = AUD_SPLIT_LE_F64;
    t->missing[n] = AUD_MISSING_NAN;
    t->default_left[n] = (uint8_t)irand(2);
    int spine_left = irand(2);
    int32_t a = spine_left ? grow_spine(t, next, depth - 1, M)
                           : grow(t, next, irand(4), M, AUD_SPLIT_LE_F64);
    int32_t b = spine_left ? grow(t, next, irand(4), M, AUD_SPLIT_LE_F64)
                           : grow_spine(t, next, depth - 1, M);
    t->left[n] = a;
    t->right[n] = b;
    t->cover[n] = t->cover[a] + t->cover[b];
    return n;
}

static void spine_trees(aud_model *m, int M, int n_trees, int depth, int K)
{
    random_trees(m, M, n_trees, 1, K);
    for (int t = 0; t < n_trees; t++) {
        aud_tree_free(&m->trees[t]);
        tree_alloc(&m->trees[t], 40 * depth + 64);
        int32_t next = 0;
        grow_spine(&m->trees[t], &next, depth - t % 3, M);
        m->trees[t].n_nodes = next;
        m->trees[t].output = t % K;
    }
}

/* phi of every row by aud_shap_tree_row with each tree's algorithm forced: lin = 1 Linear
 * TreeSHAP with q Gauss points (0: the plan's ceil(depth / 2)), lin = 0 the recursion. */
static void tree_phi_forced(const aud_model *m, const double *X, size_t n, int lin, int q,
                            double *phi)
{
    aud_error err;
    aud_shap_plan *plan = NULL;
    assert_int_equal(aud_shap_plan_new(&plan, m, &err), AUD_OK);
    for (size_t t = 0; t < m->n_trees; t++)
        plan->lin_q[t] = lin ? (q > 0 ? q : (plan->players[t] + 1) / 2) : 0;
    void *ws = aud_calloc(1, aud_shap_tree_ws_size(plan));
    size_t stride = m->n_outputs * (m->n_features + 1);
    memset(phi, 0, n * stride * sizeof *phi);
    for (size_t i = 0; i < n; i++)
        aud_shap_tree_row(plan, X + i * m->n_features, phi + i * stride, ws, 0, -1);
    aud_free(ws);
    aud_shap_plan_free(plan);
}

/* Linear TreeSHAP (treeshap_linear.c) = the recursion = brute force, at depths 1 to 10, 13, 16,
 * ..., 28, with repeated features on the paths, missing values and several outputs; one Gauss
 * point fewer than ceil(players / 2) is measurably wrong (the quadrature is exact, not merely
 * close); and = the recursion for 40 features on paths of up to 30 (q up to 15, the generic
 * instance), where brute force is out of reach. */
static void test_tree_linear_matches_recursion_and_bruteforce(void **state)
{
    (void)state;
    rng_state = 91;
    aud_error err;
    for (int rep = 0; rep < 16; rep++) {
        int depth = 1 + rep + (rep >= 10 ? (rep - 9) * 2 : 0);   /* 1..10, 12, 14, ..., 22 */
        int M = rep % 2 ? 8 : 5 + rep % 3, K = rep % 4 == 3 ? 2 : 1;
        aud_model m;
        if (depth <= 6) {
            random_trees(&m, M, 4, depth, K);
        } else {
            spine_trees(&m, M, 3, depth, K);
        }
        size_t n = 6, stride = (size_t)K * (size_t)(M + 1);
        double X[6 * 8], lin[6 * 18], rec[6 * 18], ref[18];
        random_rows(X, (int)n, M, 0.15);
        tree_phi_forced(&m, X, n, 1, 0, lin);
        tree_phi_forced(&m, X, n, 0, 0, rec);
        for (size_t i = 0; i < n; i++) {
            pd_game g = {&m, X + i * (size_t)M};
            aud_shap_game game = {(size_t)M, (size_t)K, pd_value, &g};
            assert_int_equal(aud_shap_exact_game(&game, ref, &err), AUD_OK);
            for (size_t j = 0; j < stride; j++) {
                assert_close(lin[i * stride + j], ref[j], 1e-12, "linear phi", j);
                assert_close(lin[i * stride + j], rec[i * stride + j], 1e-12, "linear vs rec", j);
            }
        }
        aud_shap_plan *plan = NULL;
        assert_int_equal(aud_shap_plan_new(&plan, &m, &err), AUD_OK);
        int q = (plan->players[0] + 1) / 2 - 1;
        aud_shap_plan_free(plan);
        if (q >= 1) {   /* too few points: the degree-(d-1) integrand is no longer exact */
            tree_phi_forced(&m, X, n, 1, q, lin);
            double worst = 0.0;
            for (size_t i = 0; i < n * stride; i++)
                worst = fmax(worst, fabs(lin[i] - rec[i]));
            assert_true(worst > 1e-9);
        }
        if (depth >= 8 && M == 8)
            check_interactions(&m, X, 2, 2);   /* conditioning through the linear walk */
        model_release(&m);
    }
    for (int depth = 18; depth <= 30; depth += 6) {
        aud_model m;
        spine_trees(&m, 40, 3, depth, 1);
        double X[4 * 40], lin[4 * 41], rec[4 * 41];
        random_rows(X, 4, 40, 0.1);
        tree_phi_forced(&m, X, 4, 1, 0, lin);
        tree_phi_forced(&m, X, 4, 0, 0, rec);
        for (size_t i = 0; i < 4 * 41; i++)
            assert_close(lin[i], rec[i], 1e-12, "linear vs rec (40 features)", i);
        model_release(&m);
    }
}

static void test_threads_do_not_change_results(void **state)
{
    (void)state;
    rng_state = 13;
    aud_error err;
    aud_model m;
    random_trees(&m, 7, 20, 6, 2);
    size_t n = 37;
    double *X = aud_malloc(n * 7 * sizeof(double));
    random_rows(X, (int)n, 7, 0.1);
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    aud_shap_result *r1 = NULL, *r3 = NULL;
    assert_int_equal(aud_shap_explain(&r1, &m, X, n, &o, &err), AUD_OK);
    o.threads = 3;
    assert_int_equal(aud_shap_explain(&r3, &m, X, n, &o, &err), AUD_OK);
    assert_memory_equal(r1->phi, r3->phi, n * r1->stride * sizeof(double));
    aud_shap_result_free(r1);
    aud_shap_result_free(r3);
    aud_free(X);
    model_release(&m);
}

static void test_bad_method_errors(void **state)
{
    (void)state;
    rng_state = 17;
    aud_error err;
    aud_model lin, trees;
    random_linear(&lin, 3, 1);
    random_trees(&trees, 21, 2, 3, 1);
    double x[21] = {0}, bg[21] = {0};
    aud_shap_opts o;
    aud_shap_opts_default(&o);
    aud_shap_result *r = NULL;
    o.method = AUD_SHAP_TREE;
    assert_int_equal(aud_shap_explain(&r, &lin, x, 1, &o, &err), AUD_E_USAGE);
    assert_non_null(strstr(err.msg, "needs a tree model"));
    o.method = AUD_SHAP_LINEAR;
    assert_int_equal(aud_shap_explain(&r, &trees, x, 1, &o, &err), AUD_E_USAGE);
    o.method = AUD_SHAP_EXACT;
    o.background = bg;
    o.n_background = 1;
    assert_int_equal(aud_shap_explain(&r, &trees, x, 1, &o, &err), AUD_E_USAGE);
    assert_non_null(strstr(err.msg, "--method kernel"));
    o.method = AUD_SHAP_KERNEL;
    o.n_background = 0;
    assert_int_equal(aud_shap_explain(&r, &trees, x, 1, &o, &err), AUD_E_USAGE);
    assert_non_null(strstr(err.msg, "non-empty background"));
    o.method = AUD_SHAP_TREE;
    o.output = AUD_SHAP_OUTPUT_PROBABILITY;
    assert_int_equal(aud_shap_explain(&r, &trees, x, 1, &o, &err), AUD_E_USAGE);
    assert_null(r);
    model_release(&lin);
    model_release(&trees);
}

static void test_summary_and_reasons(void **state)
{
    (void)state;
    /* a hand-made result: 3 rows, 3 features, 1 output */
    double phi[3 * 4] = {0.5, -1.0, 0.0, 2.0,
                         -0.2, -0.1, 0.3, 2.0,
                         0.1, 3.0, -0.4, 2.0};
    double fx[3] = {1.5, 2.0, 4.7};
    aud_shap_result r = {AUD_SHAP_TREE, AUD_SHAP_OUTPUT_RAW, 3, 3, 1, 4, phi, fx, 0.0};
    aud_shap_summary *s = NULL;
    aud_error err;
    assert_int_equal(aud_shap_summarize(&s, &r, &err), AUD_OK);
    assert_close(s->mean_abs[0], 0.8 / 3, 1e-15, "mean_abs", 0);
    assert_close(s->mean_abs[1], 4.1 / 3, 1e-15, "mean_abs", 1);
    assert_close(s->mean_abs[2], 0.7 / 3, 1e-15, "mean_abs", 2);
    assert_close(s->mean[1], 1.9 / 3, 1e-15, "mean", 1);
    assert_int_equal(s->rank[1], 1);
    assert_int_equal(s->rank[0], 2);
    assert_int_equal(s->rank[2], 3);
    assert_int_equal(s->order[0], 1);
    assert_true(s->base_value[0] == 2.0);
    aud_shap_summary_free(s);
    size_t f[4];
    /* favorable 1: negative contributions, most negative first */
    assert_int_equal(aud_shap_reasons(&r, 1, 0, 1, 4, f), 2);
    assert_int_equal(f[0], 0);
    assert_int_equal(f[1], 1);
    assert_int_equal(aud_shap_reasons(&r, 1, 0, 1, 1, f), 1);
    assert_int_equal(f[0], 0);
    /* favorable 0: positive contributions */
    assert_int_equal(aud_shap_reasons(&r, 2, 0, 0, 4, f), 2);
    assert_int_equal(f[0], 1);
    assert_int_equal(f[1], 0);
    size_t idx[10];
    assert_int_equal(aud_shap_sample_rows(100, 10, 42, idx), 10);
    for (size_t i = 1; i < 10; i++)
        assert_true(idx[i] > idx[i - 1]);
    assert_int_equal(aud_shap_sample_rows(5, 10, 42, idx), 5);
}

/* Fault injection: the n-th allocation fails, for n = 1, 2, ... until the call succeeds; every
 * failure must be a clean AUD_E_NOMEM with no result and (under ASan) no leak. One thread, as
 * the failure counter is process-wide. */
static void test_allocation_failures_are_clean(void **state)
{
    (void)state;
    rng_state = 41;
    aud_error err;
    aud_model trees, lin;
    random_trees(&trees, 5, 4, 4, 2);
    random_linear(&lin, 5, 1);
    double X[4 * 5], bg[6 * 5];
    random_rows(X, 4, 5, 0.0);
    random_rows(bg, 6, 5, 0.0);
    const aud_shap_method methods[] = {AUD_SHAP_TREE, AUD_SHAP_TREE_INTERVENTIONAL,
                                       AUD_SHAP_LINEAR, AUD_SHAP_KERNEL, AUD_SHAP_EXACT};
    for (size_t q = 0; q < sizeof methods / sizeof methods[0]; q++) {
        const aud_model *m = methods[q] == AUD_SHAP_LINEAR ? &lin : &trees;
        aud_shap_opts o;
        aud_shap_opts_default(&o);
        o.method = methods[q];
        o.background = bg;
        o.n_background = 6;
        o.n_samples = methods[q] == AUD_SHAP_KERNEL ? 20 : 0;
        int ok = 0;
        for (long n = 1; n < 10000 && !ok; n++) {
            aud_shap_result *r = NULL;
            aud_shap_summary *sm = NULL;
            aud_alloc_fail_after(n);
            int rc = aud_shap_explain(&r, m, X, 4, &o, &err);
            if (rc == AUD_OK)
                rc = aud_shap_summarize(&sm, r, &err);
            aud_alloc_fail_after(0);
            if (rc == AUD_OK) {
                ok = 1;
            } else {
                assert_int_equal(rc, AUD_E_NOMEM);
                assert_null(sm);
            }
            aud_shap_summary_free(sm);
            aud_shap_result_free(r);
        }
        assert_true(ok);
    }
    double out[4 * 2 * 36];
    int ok = 0;
    for (long n = 1; n < 10000 && !ok; n++) {
        aud_alloc_fail_after(n);
        int rc = aud_shap_tree_interactions(&trees, X, 4, out, 1, &err);
        aud_alloc_fail_after(0);
        ok = rc == AUD_OK;
        if (!ok)
            assert_int_equal(rc, AUD_E_NOMEM);
    }
    assert_true(ok);
    model_release(&trees);
    model_release(&lin);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_stump_by_hand),
        cmocka_unit_test(test_tree_matches_bruteforce_path_dependent),
        cmocka_unit_test(test_tree_long_paths_fall_back),
        cmocka_unit_test(test_tree_interactions_match_bruteforce),
        cmocka_unit_test(test_interventional_matches_bruteforce),
        cmocka_unit_test(test_linear_closed_form_and_bruteforce),
        cmocka_unit_test(test_linear_cells_equal_summed_rows),
        cmocka_unit_test(test_bgtree_game_equals_masked_game),
        cmocka_unit_test(test_kernel_full_enumeration_equals_exact),
        cmocka_unit_test(test_kernel_sampled_exact_on_additive_game),
        cmocka_unit_test(test_kernel_sampled_seeded_and_close),
        cmocka_unit_test(test_tree_linear_matches_recursion_and_bruteforce),
        cmocka_unit_test(test_threads_do_not_change_results),
        cmocka_unit_test(test_bad_method_errors),
        cmocka_unit_test(test_summary_and_reasons),
        cmocka_unit_test(test_allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
