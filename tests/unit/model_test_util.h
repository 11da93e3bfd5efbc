/* model_test_util.h - helpers for the model unit tests: read a numeric CSV (header row, comma
 * separated, empty field = NaN) into a row-major matrix. Test-only; does not depend on csv.c. */
#ifndef AUD_MODEL_TEST_UTIL_H
#define AUD_MODEL_TEST_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"
#include "core/io.h"
#include "models/model_int.h"

typedef struct test_matrix {
    size_t rows, cols;
    double *v;
} test_matrix;

/* Returns 0 on success. */
static inline int test_read_csv(const char *path, test_matrix *out)
{
    char *data = NULL;
    size_t len = 0;
    aud_error err;
    memset(out, 0, sizeof *out);
    if (aud_file_read(path, &data, &len, 0, &err) != AUD_OK)
        return -1;
    const char *p = data, *end = data + len;
    const char *nl = memchr(p, '\n', len);
    if (nl == NULL) {
        aud_free(data);
        return -1;
    }
    size_t cols = 1;
    for (const char *q = p; q < nl; q++)
        cols += *q == ',';
    size_t rows = 0;
    for (const char *q = nl + 1; q < end; q++)
        rows += *q == '\n';
    out->v = aud_malloc((rows * cols + 1) * sizeof *out->v);
    out->cols = cols;
    p = nl + 1;
    size_t r = 0;
    while (p < end && r < rows) {
        for (size_t c = 0; c < cols; c++) {
            if (*p == ',' || *p == '\n') {
                out->v[r * cols + c] = NAN;
            } else {
                char *q = NULL;
                out->v[r * cols + c] = strtod(p, &q);
                p = q;
            }
            p++; /* the ',' or '\n' */
        }
        r++;
    }
    out->rows = r;
    aud_free(data);
    return r == rows ? 0 : -1;
}

static inline void test_matrix_free(test_matrix *m)
{
    aud_free(m->v);
    m->v = NULL;
}

/* 300 KiB of trailing white space takes a model file over the size from which its trees are
 * read on threads (models/xgb_json.c, lgbm_text.c) without moving any byte of it: models and
 * errors (line and column too) must not change. Needs cmocka.h. */
static inline char *test_padded(const char *doc, size_t len, size_t *out_len)
{
    size_t pad = 300 * 1024;
    char *p = aud_malloc(len + pad + 1);
    assert_non_null(p);
    memcpy(p, doc, len);
    for (size_t i = 0; i < pad; i++)
        p[len + i] = i % 64 == 63 ? '\n' : ' ';
    p[len + pad] = '\0';
    *out_len = len + pad;
    return p;
}

#define SAME_ARRAY(a, b, n) \
    assert_true(((a) == NULL && (b) == NULL) || memcmp((a), (b), (n) * sizeof *(a)) == 0)

static inline void test_assert_same_model(const aud_model *a, const aud_model *b)
{
    assert_int_equal(a->n_trees, b->n_trees);
    assert_int_equal(a->n_features, b->n_features);
    assert_int_equal(a->n_outputs, b->n_outputs);
    assert_int_equal(a->n_iterations, b->n_iterations);
    assert_int_equal(a->best_iteration, b->best_iteration);
    SAME_ARRAY(a->base_margin, b->base_margin, a->n_outputs);
    for (size_t i = 0; i < a->n_trees; i++) {
        const aud_tree *x = &a->trees[i], *y = &b->trees[i];
        size_t n = (size_t)x->n_nodes;
        assert_int_equal(x->n_nodes, y->n_nodes);
        assert_int_equal(x->output, y->output);
        assert_int_equal(x->n_cat_bits, y->n_cat_bits);
        SAME_ARRAY(x->left, y->left, n);
        SAME_ARRAY(x->right, y->right, n);
        SAME_ARRAY(x->feature, y->feature, n);
        SAME_ARRAY(x->threshold, y->threshold, n);
        SAME_ARRAY(x->kind, y->kind, n);
        SAME_ARRAY(x->missing, y->missing, n);
        SAME_ARRAY(x->default_left, y->default_left, n);
        SAME_ARRAY(x->value, y->value, n);
        SAME_ARRAY(x->cover, y->cover, n);
        SAME_ARRAY(x->cat_begin, y->cat_begin, n);
        SAME_ARRAY(x->cat_words, y->cat_words, n);
        SAME_ARRAY(x->cat_bits, y->cat_bits, (size_t)x->n_cat_bits);
    }
}


/* n rows of F values: x's rows in turn (malloc'd; NULL when out of memory). */
static inline double *test_cycle_rows(const test_matrix *x, size_t n)
{
    size_t F = x->cols;
    double *X = malloc((n ? n : 1) * (F ? F : 1) * sizeof *X);
    for (size_t r = 0; X != NULL && r < n; r++)
        memcpy(X + r * F, x->v + (r % x->rows) * F, F * sizeof *X);
    return X;
}

/* Each of cand[0 .. nc) at feature f of a row of X (n rows of F) drawn by the generator *g. */
static inline void test_scatter(double *X, size_t n, size_t F, int32_t f, const double *cand,
                                size_t nc, uint64_t *g)
{
    for (size_t c = 0; c < nc; c++) {
        *g = *g * 6364136223846793005u + 1442695040888963407u;
        X[(size_t)(*g >> 33) % n * F + (size_t)f] = cand[c];
    }
}

/* ---- the packed layouts' paths (models/model_packed.c) ---- */

/* Rows of X whose margins differ between the leaf masks (the default path) and the walk
 * (aud_packed_isa_cap = 1), or the reference walker (no packed layout), bit for bit. */
static inline size_t test_mask_paths_differ(aud_model *m, const double *X, size_t n)
{
    size_t K = m->n_outputs, bad = 0;
    double *a = malloc(n * K * sizeof *a), *b = malloc(n * K * sizeof *b),
           *c = malloc(n * K * sizeof *c);
    if (a == NULL || b == NULL || c == NULL) {
        free(a), free(b), free(c);
        return n + 1;
    }
    int cap = aud_packed_isa_cap;
    aud_packed_isa_cap = 0;
    aud_model_predict_margin_block(m, X, n, a);
    aud_packed_isa_cap = 1;
    aud_model_predict_margin_block(m, X, n, b);
    aud_packed_isa_cap = cap;
    void *pk = m->packed;
    m->packed = NULL;
    aud_model_predict_margin_block(m, X, n, c);
    m->packed = pk;
    for (size_t r = 0; r < n; r++)
        bad += memcmp(a + r * K, b + r * K, K * sizeof *a) != 0 ||
               memcmp(a + r * K, c + r * K, K * sizeof *a) != 0;
    free(a), free(b), free(c);
    return bad;
}

/* Whether this CPU takes the leaf masks (the check model_packed.c makes). */
static inline int test_cpu_has_masks(void)
{
    return aud_cpu_isa() >= 3;
}

#endif
