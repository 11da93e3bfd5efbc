/* treeshap_interv.c - interventional TreeSHAP against a background sample: Lundberg et al., "From
 * local explanations to global understanding with explainable AI for trees", Nature Machine
 * Intelligence 2:56-67 (2020), "Interventional Tree SHAP" (shap's feature_perturbation =
 * "interventional").
 *
 * For one background row z the game is v(S) = f(x_S, z_~S). In a tree, the leaf reached by the
 * hybrid row depends only on the features whose split sends x and z different ways: a leaf is
 * reached exactly when S contains the set A of features on its path where only x goes that way
 * and avoids the set B where only z does. The Shapley value of that indicator game is
 * (a-1)! b! / (a+b)! for each member of A and -a! (b-1)! / (a+b)! for each member of B
 * (a = |A|, b = |B|). A walk following x and z together visits every reachable leaf once; the
 * result is the mean over the background rows. Complexity O(B * leaves * depth) per row. */
#include "explainers/shap_int.h"

#include <string.h>

enum { SIDE_FREE = 0, SIDE_X = 1, SIDE_Z = 2 };

typedef struct iv_ws {
    uint8_t *side;      /* n_features: which row a feature is taken from on the current path */
    int32_t *stack;     /* features assigned on the current path, in order */
    double  *wpos;      /* (D+2)^2: (a-1)! b! / (a+b)! */
    double  *wneg;      /* (D+2)^2: a! (b-1)! / (a+b)! */
    size_t   dim;
    double  *fz;        /* n_outputs: margin of a background row */
    double  *acc;       /* stride: sum over background rows */
} iv_ws;

typedef struct iv_walk {
    const aud_tree *t;
    const double *x, *z;
    double *phi;        /* this tree's output block */
    double  scale;
    iv_ws  *w;
} iv_walk;

static void iv_recurse(const iv_walk *c, int32_t node, int32_t na, int32_t nb)
{
    const aud_tree *t = c->t;
    iv_ws *w = c->w;
    while (t->left[node] >= 0) {
        int32_t f = t->feature[node];
        int gx = aud_shap_go_left(t, node, c->x[f]);
        if (w->side[f] == SIDE_X) {
            node = gx ? t->left[node] : t->right[node];
            continue;
        }
        int gz = aud_shap_go_left(t, node, c->z[f]);
        if (w->side[f] == SIDE_Z || gx == gz) {
            node = gz ? t->left[node] : t->right[node];
            continue;
        }
        /* x and z part ways on a free feature: both branches, the feature assigned to each side */
        w->stack[na + nb] = f;
        w->side[f] = SIDE_X;
        iv_recurse(c, gx ? t->left[node] : t->right[node], na + 1, nb);
        w->side[f] = SIDE_Z;
        iv_recurse(c, gz ? t->left[node] : t->right[node], na, nb + 1);
        w->side[f] = SIDE_FREE;
        return;
    }
    if (na + nb == 0)
        return;   /* reached for every coalition: only the bias sees it */
    double v = t->value[node] * c->scale;
    double pos = v * w->wpos[(size_t)na * w->dim + (size_t)nb];
    double neg = v * w->wneg[(size_t)na * w->dim + (size_t)nb];
    for (int32_t i = 0; i < na + nb; i++) {
        int32_t f = w->stack[i];
        if (w->side[f] == SIDE_X)
            c->phi[f] += pos;
        else
            c->phi[f] -= neg;
    }
}

void aud_shap_interv_ws_free(void *ws)
{
    iv_ws *w = ws;
    if (w == NULL)
        return;
    aud_free(w->side);
    aud_free(w->stack);
    aud_free(w->wpos);
    aud_free(w->fz);
    aud_free(w);
}

void *aud_shap_interv_ws_new(const aud_shap_plan *plan)
{
    const aud_model *m = plan->model;
    iv_ws *w = aud_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    size_t D = (size_t)plan->max_depth + 2;
    w->dim = D;
    w->side = aud_calloc(m->n_features ? m->n_features : 1, 1);
    w->stack = aud_calloc(D, sizeof *w->stack);
    w->wpos = aud_calloc(2 * D * D, sizeof *w->wpos);
    w->fz = aud_calloc(m->n_outputs + m->n_outputs * (m->n_features + 1), sizeof *w->fz);
    if (!w->side || !w->stack || !w->wpos || !w->fz) {
        aud_shap_interv_ws_free(w);
        return NULL;
    }
    w->wneg = w->wpos + D * D;
    w->acc = w->fz + m->n_outputs;
    /* lgamma keeps the factorial ratios exact enough (1 ulp-level) for depths far past 170 */
    for (size_t a = 0; a < D; a++) {
        for (size_t b = 0; b < D; b++) {
            if (a + b == 0)
                continue;
            double lt = lgamma((double)(a + b) + 1.0);
            if (a > 0)
                w->wpos[a * D + b] = exp(lgamma((double)a) + lgamma((double)b + 1.0) - lt);
            if (b > 0)
                w->wneg[a * D + b] = exp(lgamma((double)a + 1.0) + lgamma((double)b) - lt);
        }
    }
    return w;
}

void aud_shap_interv_row(const aud_shap_plan *plan, const double *bg, size_t n_bg,
                         const double *x, double *phi, void *ws)
{
    const aud_model *m = plan->model;
    iv_ws *w = ws;
    size_t M = m->n_features, K = m->n_outputs, M1 = M + 1;
    memset(w->acc, 0, K * M1 * sizeof *w->acc);
    for (size_t b = 0; b < n_bg; b++) {
        const double *z = bg + b * M;
        for (size_t t = 0; t < m->n_trees; t++) {
            const aud_tree *tr = &m->trees[t];
            iv_walk c = {tr, x, z, w->acc + (size_t)tr->output * M1, plan->scale[t], w};
            iv_recurse(&c, 0, 0, 0);
        }
        aud_shap_model_margin(m, z, w->fz);
        for (size_t k = 0; k < K; k++)
            w->acc[k * M1 + M] += w->fz[k];
    }
    for (size_t i = 0; i < K * M1; i++)
        phi[i] = w->acc[i] / (double)n_bg;
}
