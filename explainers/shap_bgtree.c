/* shap_bgtree.c - the "masked model" value function v(S) = mean_b f(x_S, z_b,~S) of a tree
 * ensemble's raw margin, evaluated for all background rows at once: each internal node keeps the
 * bit set of background rows that go left, and a walk per tree and coalition carries the set of
 * background rows still on the path (features in S follow x, the others split the set). A leaf
 * adds value * |set|. This is the same game as exact_shap.c's row-by-row evaluation (the margin is
 * a sum over trees), at a fraction of the cost; used by kernel and exact for raw output. */
#include "explainers/shap_int.h"

#include <string.h>

struct aud_shap_bgtree {
    const aud_shap_plan *plan;
    size_t    B, W;           /* background rows, 64-bit words per set */
    size_t   *off;            /* per tree: first node in the global node numbering */
    size_t    n_nodes;
    uint64_t *bits;           /* n_nodes x W: rows going left at each internal node */
    uint64_t *full;           /* W: every background row */
};

void aud_shap_bgtree_free(aud_shap_bgtree *g)
{
    if (g == NULL)
        return;
    aud_free(g->off);
    aud_free(g->bits);
    aud_free(g->full);
    aud_free(g);
}

int aud_shap_bgtree_new(aud_shap_bgtree **out, const aud_shap_plan *plan, const double *bg,
                        size_t n_bg, size_t max_bytes, aud_error *err)
{
    const aud_model *m = plan->model;
    aud_shap_bgtree *g = aud_calloc(1, sizeof *g);
    if (g == NULL)
        return aud_error_nomem(err);
    g->plan = plan;
    g->B = n_bg;
    g->W = (n_bg + 63) / 64;
    g->off = aud_calloc(m->n_trees + 1, sizeof *g->off);
    if (g->off == NULL) {
        aud_shap_bgtree_free(g);
        return aud_error_nomem(err);
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        g->off[t] = g->n_nodes;
        g->n_nodes += (size_t)m->trees[t].n_nodes;
    }
    if (g->n_nodes * g->W * sizeof(uint64_t) > max_bytes) {
        aud_shap_bgtree_free(g);
        *out = NULL;
        return AUD_OK;   /* too big: the caller evaluates row by row */
    }
    g->bits = aud_calloc(g->n_nodes * g->W + 1, sizeof *g->bits);
    g->full = aud_calloc(g->W + 1, sizeof *g->full);
    if (g->bits == NULL || g->full == NULL) {
        aud_shap_bgtree_free(g);
        return aud_error_nomem(err);
    }
    for (size_t b = 0; b < n_bg; b++)
        g->full[b / 64] |= (uint64_t)1 << (b % 64);
    size_t M = m->n_features;
    for (size_t t = 0; t < m->n_trees; t++) {
        const aud_tree *tr = &m->trees[t];
        for (int32_t n = 0; n < tr->n_nodes; n++) {
            if (tr->left[n] < 0)
                continue;
            uint64_t *w = g->bits + (g->off[t] + (size_t)n) * g->W;
            for (size_t b = 0; b < n_bg; b++)
                if (aud_shap_go_left(tr, n, bg[b * M + (size_t)tr->feature[n]]))
                    w[b / 64] |= (uint64_t)1 << (b % 64);
        }
    }
    *out = g;
    return AUD_OK;
}

int aud_shap_bgtree_game_init(aud_shap_bgtree_game *s, const aud_shap_bgtree *g, int prob)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->prob = prob;
    if (prob) {
        s->marg = aud_calloc(g->B * g->plan->model->n_outputs + 1, sizeof *s->marg);
        if (s->marg == NULL)
            return AUD_E_NOMEM;
    }
    size_t depth = (size_t)g->plan->max_depth + 2;
    s->xdir = aud_calloc(g->n_nodes + 1, 1);
    s->node = aud_calloc(depth, sizeof *s->node);
    s->sets = aud_calloc(depth * g->W + g->W + 1, sizeof *s->sets);
    s->acc = aud_calloc(g->plan->model->n_outputs + 1, sizeof *s->acc);
    if (!s->xdir || !s->node || !s->sets || !s->acc) {
        aud_shap_bgtree_game_free(s);
        return AUD_E_NOMEM;
    }
    return AUD_OK;
}

void aud_shap_bgtree_game_free(aud_shap_bgtree_game *s)
{
    aud_free(s->xdir);
    aud_free(s->node);
    aud_free(s->sets);
    aud_free(s->acc);
    aud_free(s->marg);
    memset(s, 0, sizeof *s);
}

void aud_shap_bgtree_set_row(aud_shap_bgtree_game *s, const double *x)
{
    const aud_shap_bgtree *g = s->g;
    const aud_model *m = g->plan->model;
    for (size_t t = 0; t < m->n_trees; t++) {
        const aud_tree *tr = &m->trees[t];
        uint8_t *d = s->xdir + g->off[t];
        for (int32_t n = 0; n < tr->n_nodes; n++)
            d[n] = tr->left[n] >= 0 && aud_shap_go_left(tr, n, x[tr->feature[n]]);
    }
}

static size_t popcount_set(const uint64_t *w, size_t W)
{
    size_t c = 0;
    for (size_t i = 0; i < W; i++)
        c += (size_t)__builtin_popcountll((unsigned long long)w[i]);
    return c;
}

int aud_shap_bgtree_value(void *ctx, const uint64_t *masks, size_t n, double *out)
{
    aud_shap_bgtree_game *s = ctx;
    const aud_shap_bgtree *g = s->g;
    const aud_shap_plan *plan = g->plan;
    const aud_model *m = plan->model;
    size_t K = m->n_outputs, W = g->W;
    uint64_t *cur = s->sets;                 /* the set being walked */
    uint64_t *stack = s->sets + W;           /* pending sets, one per depth */
    for (size_t q = 0; q < n; q++) {
        uint64_t S = masks[q];
        for (size_t k = 0; k < K; k++)
            s->acc[k] = 0.0;
        if (s->prob)
            memset(s->marg, 0, g->B * K * sizeof *s->marg);
        for (size_t t = 0; t < m->n_trees; t++) {
            const aud_tree *tr = &m->trees[t];
            const uint8_t *xd = s->xdir + g->off[t];
            const uint64_t *bits = g->bits + g->off[t] * W;
            double sum = 0.0;
            size_t top = 0;
            int32_t node = 0;
            memcpy(cur, g->full, W * sizeof *cur);
            for (;;) {
                while (tr->left[node] >= 0) {
                    int32_t f = tr->feature[node];
                    if ((S >> f) & 1u) {
                        node = xd[node] ? tr->left[node] : tr->right[node];
                        continue;
                    }
                    const uint64_t *b = bits + (size_t)node * W;
                    uint64_t *r = stack + top * W;
                    int any_l = 0, any_r = 0;
                    for (size_t i = 0; i < W; i++) {
                        r[i] = cur[i] & ~b[i];
                        cur[i] &= b[i];
                        any_l |= cur[i] != 0;
                        any_r |= r[i] != 0;
                    }
                    if (any_l && any_r) {
                        s->node[top++] = tr->right[node];
                        node = tr->left[node];
                    } else if (any_l) {
                        node = tr->left[node];
                    } else {
                        memcpy(cur, r, W * sizeof *cur);
                        node = tr->right[node];
                    }
                }
                if (s->prob) {   /* every background row in the set gets the leaf value */
                    double v = tr->value[node] * plan->scale[t];
                    double *mg = s->marg + (size_t)tr->output;
                    for (size_t i = 0; i < W; i++) {
                        uint64_t word = cur[i];
                        while (word != 0) {
                            size_t b = i * 64 + (size_t)__builtin_ctzll(word);
                            mg[b * K] += v;
                            word &= word - 1;
                        }
                    }
                } else {
                    sum += tr->value[node] * (double)popcount_set(cur, W);
                }
                if (top == 0)
                    break;
                top--;
                node = s->node[top];
                memcpy(cur, stack + top * W, W * sizeof *cur);
            }
            s->acc[tr->output] += sum * plan->scale[t];
        }
        if (s->prob) {
            for (size_t b = 0; b < g->B; b++) {
                double *mg = s->marg + b * K;
                for (size_t k = 0; k < K; k++)
                    mg[k] += m->base_margin != NULL ? m->base_margin[k] : 0.0;
                aud_shap_apply_link(m, mg);
                for (size_t k = 0; k < K; k++)
                    s->acc[k] += mg[k];
            }
            for (size_t k = 0; k < K; k++)
                out[q * K + k] = s->acc[k] / (double)g->B;
            continue;
        }
        for (size_t k = 0; k < K; k++)
            out[q * K + k] = (m->base_margin != NULL ? m->base_margin[k] : 0.0) +
                             s->acc[k] / (double)g->B;
    }
    return AUD_OK;
}
