/* fuzz_model.c - one model loader (models/), chosen at build time: -DFUZZ_FORMAT="xgboost-json",
 * "lightgbm-text", "linear-json", "trees-json", or NULL (format detected from the content). A model
 * that loads is then used: the fast prediction path (packed trees, blocks of 8 rows) must give
 * bit-identical margins to the reference walker of models/model_int.h on rows made of zeros, NaN,
 * infinities, tiny values and the model's own thresholds, and every row is transformed. */
#include <math.h>

#include "models/model_int.h"
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT NULL
#endif

enum { ROWS = 11 };

/* The margin of models/model_int.h's definition, walked with aud_tree_leaf. */
static void reference_margin(const aud_model *m, const double *x, double *out)
{
    size_t K = m->n_outputs;
    for (size_t k = 0; k < K; k++)
        out[k] = m->sum_f32 ? (double)(float)m->base_margin[k] : 0.0;
    for (size_t i = 0; i < m->n_trees; i++) {
        const aud_tree *t = &m->trees[i];
        FUZZ_ASSERT(t->output >= 0 && (size_t)t->output < K);
        double v = t->value[aud_tree_leaf(t, x)];
        if (m->sum_f32)
            out[t->output] = (double)((float)out[t->output] + (float)v);
        else
            out[t->output] += v;
    }
    if (m->sum_f32)
        return;
    for (size_t k = 0; k < K; k++) {
        if (m->average_output && m->n_trees_output[k] > 0)
            out[k] /= (double)m->n_trees_output[k];
        out[k] += m->base_margin[k];
    }
}

static double row_value(const aud_model *m, size_t r, size_t j)
{
    static const double fixed[] = {0.0, NAN, 1.0, -1.0, 1e-36, -0.5, 3.0e38, -INFINITY, 7.0};
    size_t pick = (r * 7 + j * 3) % 12;
    if (pick < sizeof fixed / sizeof fixed[0])
        return fixed[pick];
    /* a threshold of the model: exactly on a split */
    if (m->kind != AUD_MODEL_TREES || m->n_trees == 0)
        return 0.25;
    const aud_tree *t = &m->trees[(r + j) % m->n_trees];
    double thr = t->threshold[(r * 5 + j) % (size_t)t->n_nodes];
    return pick == 9 ? thr : pick == 10 ? nextafter(thr, -INFINITY) : nextafter(thr, INFINITY);
}

static int same_number(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* The preprocessing stage of a pipeline model on a numeric and a categorical column. */
static void use_prep(const aud_model *m)
{
    static double num[] = {0.0, NAN, 1.5, -3.0, 2.0, 1e300};
    static int32_t codes[] = {0, -1, 1, 2, 3, 0};
    static char l0[] = "N", l1[] = "a", l2[] = "", l3[] = "1";
    static char *levels[] = {l0, l1, l2, l3};
    aud_column cn = {.type = AUD_COL_NUMERIC, .num = num};
    aud_column cc = {.type = AUD_COL_CATEGORICAL, .codes = codes, .levels = levels,
                     .n_levels = 4};
    for (size_t j = 0; j < m->n_features; j++) {
        const aud_prep *p = &m->prep[j];
        FUZZ_ASSERT(p->kind <= AUD_PREP_CATEGORICAL);
        for (size_t r = 0; r < 6; r++) {
            int bad;
            double v = aud_prep_value(m, j, &cn, r, &bad);
            FUZZ_ASSERT(bad == 0 || isnan(v));
            if (p->kind == AUD_PREP_CATEGORICAL && p->cat_text != NULL) {
                v = aud_prep_value(m, j, &cc, r, &bad);
                FUZZ_ASSERT(bad == 0 || isnan(v));
            }
        }
    }
}

static void use_model(const aud_model *m)
{
    size_t F = m->n_features, K = m->n_outputs;
    FUZZ_ASSERT(F > 0 && K > 0 && m->base_margin != NULL && m->format != NULL);
    FUZZ_ASSERT(m->kind == AUD_MODEL_TREES || m->coef != NULL);
    if (m->prep != NULL)
        use_prep(m);
    if (F > 4096 || K > 256)
        return;   /* legal but large: prediction would only spend the fuzzer's time */
    double *X = calloc(ROWS * F, sizeof *X), *M = calloc(ROWS * K, sizeof *M);
    double *ref = calloc(K, sizeof *ref), *pred = calloc(K, sizeof *pred);
    FUZZ_ASSERT(X != NULL && M != NULL && ref != NULL && pred != NULL);
    for (size_t r = 0; r < ROWS; r++)
        for (size_t j = 0; j < F; j++)
            X[r * F + j] = row_value(m, r, j);
    aud_model_predict_margin_block(m, X, ROWS, M);
    for (size_t r = 0; r < ROWS; r++) {
        double one[256];
        aud_model_predict_margin(m, X + r * F, one);
        for (size_t k = 0; k < K; k++)
            FUZZ_ASSERT(same_number(one[k], M[r * K + k]));
        if (m->kind == AUD_MODEL_TREES) {
            int nan_row = 0;
            for (size_t j = 0; j < F; j++)
                nan_row |= m->no_missing && m->feature_used[j] && isnan(X[r * F + j]);
            reference_margin(m, X + r * F, ref);
            for (size_t k = 0; k < K; k++)
                FUZZ_ASSERT(nan_row ? isnan(M[r * K + k]) : same_number(ref[k], M[r * K + k]));
        }
        aud_model_transform(m, M + r * K, pred);
    }
    free(X);
    free(M);
    free(ref);
    free(pred);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    aud_model *m = NULL;
    aud_error err;
    aud_error_clear(&err);
    aud_global_init();
    int rc = aud_model_parse(&m, text, size, "fuzz.model", FUZZ_FORMAT, &err);
    if (rc == AUD_OK)
        use_model(m);
    else
        fuzz_check_error(rc, &err);
    FUZZ_ASSERT((rc == AUD_OK) == (m != NULL));
    aud_model_free(m);
    free(text);
    return 0;
}
