/* tree.c - one tree of a model: allocation, release and the structural checks every loader runs
 * on each tree it builds (aud_tree_validate). Kept apart from model.c, which dispatches to the
 * loaders, so that the loaders depend on this file and model.c on them: no cycle. */
#include "models/model_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void aud_tree_free(aud_tree *t)
{
    aud_free(t->left);
    aud_free(t->right);
    aud_free(t->feature);
    aud_free(t->threshold);
    aud_free(t->kind);
    aud_free(t->missing);
    aud_free(t->default_left);
    aud_free(t->value);
    aud_free(t->cover);
    aud_free(t->cat_begin);
    aud_free(t->cat_words);
    aud_free(t->cat_bits);
    memset(t, 0, sizeof *t);
}

int aud_xgb_cat_left(const aud_tree *t, int32_t node, double x)
{
    if (isnan(x))
        return t->default_left[node];
    float f = (float)x;
    if (!(f >= 0.0f) || f >= (float)t->cat_words[node] * 32.0f)
        return 1;
    int32_t i = (int32_t)f;
    return !((t->cat_bits[t->cat_begin[node] + i / 32] >> (i % 32)) & 1u);
}

int aud_tree_alloc(aud_tree *t, int32_t n_nodes, aud_error *err)
{
    memset(t, 0, sizeof *t);
    if (n_nodes < 1 || n_nodes > AUD_MODEL_MAX_NODES)
        return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0, "tree node count %ld out of range",
                             (long)n_nodes);
    size_t n = (size_t)n_nodes;
    t->n_nodes = n_nodes;
    t->left = aud_malloc(n * sizeof *t->left);
    t->right = aud_malloc(n * sizeof *t->right);
    t->feature = aud_malloc(n * sizeof *t->feature);
    t->threshold = aud_calloc(n, sizeof *t->threshold);
    t->kind = aud_calloc(n, sizeof *t->kind);
    t->missing = aud_calloc(n, sizeof *t->missing);
    t->default_left = aud_calloc(n, sizeof *t->default_left);
    t->value = aud_calloc(n, sizeof *t->value);
    t->cover = aud_calloc(n, sizeof *t->cover);
    t->cat_begin = aud_calloc(n, sizeof *t->cat_begin);
    t->cat_words = aud_calloc(n, sizeof *t->cat_words);
    if (t->left == NULL || t->right == NULL || t->feature == NULL || t->threshold == NULL ||
        t->kind == NULL || t->missing == NULL || t->default_left == NULL || t->value == NULL ||
        t->cover == NULL || t->cat_begin == NULL || t->cat_words == NULL) {
        aud_tree_free(t);
        return aud_error_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        t->left[i] = -1;
        t->right[i] = -1;
        t->feature[i] = -1;
        t->missing[i] = AUD_MISSING_NAN;
    }
    return AUD_OK;
}

int aud_tree_validate(const aud_tree *t, size_t n_features, const char *name, const char *where,
                      aud_error *err)
{
    int32_t n = t->n_nodes;
    if (n < 1 || n > AUD_MODEL_MAX_NODES)
        return aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "%s: node count %ld out of range",
                             where, (long)n);
    /* Depth-first walk from the root with an explicit stack; each node may be reached once. */
    uint8_t *seen = aud_calloc((size_t)n, 1);
    int32_t *stack = aud_malloc((size_t)n * sizeof *stack);
    int32_t *depth = aud_malloc((size_t)n * sizeof *depth);
    int rc = AUD_OK;
    if (seen == NULL || stack == NULL || depth == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    int32_t top = 0;
    stack[top] = 0;
    depth[top] = 0;
    top++;
    seen[0] = 1;
    while (top > 0) {
        top--;
        int32_t i = stack[top], d = depth[top];
        int32_t l = t->left[i], r = t->right[i];
        if (l == -1 && r == -1) {
            if (!isfinite(t->value[i])) {
                rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                                   "%s: leaf %ld has a non-finite value", where, (long)i);
                goto done;
            }
            continue;
        }
        if (l < 0 || l >= n || r < 0 || r >= n) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                               "%s: node %ld has child index out of range (left %ld, right %ld, "
                               "%ld nodes)", where, (long)i, (long)l, (long)r, (long)n);
            goto done;
        }
        if (seen[l] || seen[r] || l == r) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                               "%s: node %ld: a child is reached twice (cycle or shared node)",
                               where, (long)i);
            goto done;
        }
        if (d + 1 > AUD_MODEL_MAX_DEPTH) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "%s: tree deeper than %d levels",
                               where, AUD_MODEL_MAX_DEPTH);
            goto done;
        }
        if (t->feature[i] < 0 || (size_t)t->feature[i] >= n_features) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                               "%s: node %ld uses feature index %ld, but the model has %zu "
                               "features", where, (long)i, (long)t->feature[i], n_features);
            goto done;
        }
        if (t->kind[i] > AUD_SPLIT_CAT_XGB || t->missing[i] > AUD_MISSING_NAN) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "%s: node %ld has a bad split type",
                               where, (long)i);
            goto done;
        }
        if (t->kind[i] == AUD_SPLIT_CAT || t->kind[i] == AUD_SPLIT_CAT_XGB) {
            if (t->cat_begin[i] < 0 || t->cat_words[i] < 0 ||
                (int64_t)t->cat_begin[i] + t->cat_words[i] > t->n_cat_bits) {
                rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                                   "%s: node %ld: categorical bitset out of range", where,
                                   (long)i);
                goto done;
            }
        } else if (isnan(t->threshold[i])) {
            rc = aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "%s: node %ld has a NaN threshold",
                               where, (long)i);
            goto done;
        }
        seen[l] = seen[r] = 1;
        stack[top] = l;
        depth[top] = d + 1;
        top++;
        stack[top] = r;
        depth[top] = d + 1;
        top++;
    }
done:
    aud_free(seen);
    aud_free(stack);
    aud_free(depth);
    return rc;
}
