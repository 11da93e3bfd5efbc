/* model_facts.c - what a model card says about the model itself: format, objective, the shape of
 * a tree ensemble and the split importance of each feature (models/model_api.h). */
#include "models/model_int.h"

#include <math.h>

const char *aud_model_format(const aud_model *m)
{
    return m->format != NULL ? m->format : "";
}

const char *aud_model_objective(const aud_model *m)
{
    return m->objective != NULL ? m->objective : "";
}

size_t aud_model_trees(const aud_model *m)
{
    return m->kind == AUD_MODEL_TREES ? m->n_trees : 0;
}

/* Depth-first from node i at depth d; the loaders bound depth by AUD_MODEL_MAX_DEPTH and reject
 * cycles, so the recursion is at most 256 deep. */
static void walk(const aud_tree *t, int32_t i, size_t d, size_t *max_depth, size_t *leaves)
{
    if (t->left[i] < 0) {
        *leaves += 1;
        if (d > *max_depth)
            *max_depth = d;
        return;
    }
    walk(t, t->left[i], d + 1, max_depth, leaves);
    walk(t, t->right[i], d + 1, max_depth, leaves);
}

void aud_model_shape(const aud_model *m, size_t *max_depth, size_t *leaves)
{
    *max_depth = *leaves = 0;
    if (m->kind != AUD_MODEL_TREES || m->trees == NULL)
        return;
    for (size_t k = 0; k < m->n_trees; k++) {
        if (m->trees[k].n_nodes > 0)
            walk(&m->trees[k], 0, 0, max_depth, leaves);
    }
}

static void count_splits(const aud_tree *t, int32_t i, double *splits, double *cover)
{
    while (t->left[i] >= 0) {
        splits[t->feature[i]] += 1.0;
        cover[t->feature[i]] += t->cover != NULL ? t->cover[i] : NAN;
        count_splits(t, t->left[i], splits, cover);
        i = t->right[i];
    }
}

int aud_model_importance(const aud_model *m, double *splits, double *cover)
{
    int linear = m->kind == AUD_MODEL_LINEAR && m->coef != NULL;
    for (size_t j = 0; j < m->n_features; j++) {
        splits[j] = m->kind == AUD_MODEL_TREES ? 0.0 : linear ? m->coef[j] : NAN;
        cover[j] = m->kind == AUD_MODEL_TREES ? 0.0 : NAN;
    }
    if (m->kind != AUD_MODEL_TREES)
        return linear ? 0 : -1;   /* a model command: nothing to read */
    for (size_t k = 0; m->trees != NULL && k < m->n_trees; k++) {
        if (m->trees[k].n_nodes > 0)
            count_splits(&m->trees[k], 0, splits, cover);
    }
    return 1;
}
