/* treeshap.c - path-dependent TreeSHAP: Lundberg, Erion, Lee, "Consistent Individualized Feature
 * Attribution for Tree Ensembles", arXiv:1802.03888 (2018), Algorithm 2 (EXTEND, UNWIND, and the
 * unwound path sum), and SHAP interaction values by conditioning on one feature being present or
 * absent, Lundberg et al., "From local explanations to global understanding with explainable AI
 * for trees", Nature Machine Intelligence 2:56-67 (2020), section "SHAP interaction values".
 *
 * The background is the training data as summarized by the node covers: a subtree not followed
 * by x is weighted by cover(child) / cover(node). Each tree's bias is its cover-weighted mean leaf
 * value. The recursion keeps, for the unique features on the current root-to-node path, the
 * fraction of "zero" paths (feature absent) and "one" paths (feature present, 1 or 0 according to
 * x) and the permutation weights of every subset size. */
#include "explainers/shap_int.h"

#include <string.h>

typedef struct path_el {
    int32_t feature;
    double  zero;      /* fraction of the background flowing this way when the feature is absent */
    double  one;       /* 1 if x follows this way, else 0 */
    double  w;         /* permutation weight of subsets of size i (index of the element) */
} path_el;

/* Each recursion level copies the path; the deepest leaf at depth D needs the sum over levels. */
static size_t path_ws_size(const aud_shap_plan *plan)
{
    size_t d = (size_t)plan->max_depth + 2;
    return ((d + 1) * (d + 2) / 2 + 2) * sizeof(path_el);
}

/* the recursion's path buffer, then the linear walk's workspace */
size_t aud_shap_tree_ws_size(const aud_shap_plan *plan)
{
    return path_ws_size(plan) + aud_shap_lin_ws_size(plan);
}

/* Grow the path by one element (feature f with fractions z, o); len = elements before. */
static void path_extend(path_el *p, int32_t len, double z, double o, int32_t f)
{
    p[len].feature = f;
    p[len].zero = z;
    p[len].one = o;
    p[len].w = len == 0 ? 1.0 : 0.0;
    double inv = 1.0 / (double)(len + 1);
    for (int32_t i = len - 1; i >= 0; i--) {
        p[i + 1].w += o * p[i].w * (double)(i + 1) * inv;
        p[i].w = z * p[i].w * (double)(len - i) * inv;
    }
}

/* Undo path_extend of element idx; the path has len + 1 elements (indices 0..len). */
static void path_unwind(path_el *p, int32_t len, int32_t idx)
{
    double o = p[idx].one, z = p[idx].zero;
    double n = p[len].w;
    double l1 = (double)(len + 1);
    if (o != 0.0) {
        for (int32_t j = len - 1; j >= 0; j--) {
            double t = p[j].w;
            p[j].w = n * l1 / ((double)(j + 1) * o);
            n = t - p[j].w * z * (double)(len - j) / l1;
        }
    } else {
        for (int32_t j = len - 1; j >= 0; j--)
            p[j].w = p[j].w * l1 / (z * (double)(len - j));
    }
    for (int32_t j = idx; j < len; j++) {
        p[j].feature = p[j + 1].feature;
        p[j].zero = p[j + 1].zero;
        p[j].one = p[j + 1].one;
    }
}

/* Total permutation weight the path would have with element idx removed (no modification). */
static double path_unwound_sum(const path_el *p, int32_t len, int32_t idx)
{
    double o = p[idx].one, z = p[idx].zero;
    double n = p[len].w, total = 0.0;
    double l1 = (double)(len + 1);
    if (o != 0.0) {
        for (int32_t j = len - 1; j >= 0; j--) {
            double t = n * l1 / ((double)(j + 1) * o);
            total += t;
            n = p[j].w - t * z * (double)(len - j) / l1;
        }
    } else {
        for (int32_t j = len - 1; j >= 0; j--)
            total += p[j].w * l1 / (z * (double)(len - j));
    }
    return total;
}

typedef struct ts_ctx {
    const aud_tree *t;
    const double   *x;
    double         *phi;        /* this tree's output block (M + 1 values) */
    double          scale;
    int             cond;
    int32_t         cond_feature;
} ts_ctx;

static void ts_recurse(const ts_ctx *c, int32_t node, path_el *parent, int32_t len, double pz,
                       double po, int32_t pf, double cond_frac)
{
    const aud_tree *t = c->t;
    path_el *p = parent + len + 1;
    memcpy(p, parent, (size_t)(len + 1) * sizeof *p);
    if (c->cond == 0 || pf != c->cond_feature)
        path_extend(p, len, pz, po, pf);
    else
        len--;   /* the conditioned feature is not a player: the path does not grow */

    if (t->left[node] < 0) {
        double v = t->value[node] * c->scale * cond_frac;
        for (int32_t i = 1; i <= len; i++) {
            double w = path_unwound_sum(p, len, i);
            c->phi[p[i].feature] += w * (p[i].one - p[i].zero) * v;
        }
        return;
    }

    int32_t f = t->feature[node];
    int32_t hot, cold;
    if (aud_shap_go_left(t, node, c->x[f])) {
        hot = t->left[node];
        cold = t->right[node];
    } else {
        hot = t->right[node];
        cold = t->left[node];
    }
    double cov = t->cover[node];
    double hz = t->cover[hot] / cov, cz = t->cover[cold] / cov;
    double iz = 1.0, io = 1.0;
    /* a feature seen higher up: undo its element and fold its fractions into this split */
    for (int32_t k = 1; k <= len; k++) {
        if (p[k].feature == f) {
            iz = p[k].zero;
            io = p[k].one;
            path_unwind(p, len, k);
            len--;
            break;
        }
    }
    double hot_frac = cond_frac, cold_frac = cond_frac;
    if (c->cond != 0 && f == c->cond_feature) {
        if (c->cond > 0) {
            cold_frac = 0.0;
        } else {
            hot_frac *= hz;
            cold_frac *= cz;
        }
    }
    if (hot_frac != 0.0 && (hz * iz != 0.0 || io != 0.0))
        ts_recurse(c, hot, p, len + 1, hz * iz, io, f, hot_frac);
    if (cold_frac != 0.0 && cz * iz != 0.0)
        ts_recurse(c, cold, p, len + 1, cz * iz, 0.0, f, cold_frac);
}

void aud_shap_tree_one(const aud_shap_plan *plan, size_t t, const double *x, double *phi,
                       void *ws, int cond, int32_t cond_feature)
{
    const aud_model *m = plan->model;
    const aud_tree *tr = &m->trees[t];
    if (tr->left[0] < 0)
        return;   /* a single leaf: bias only */
    if (plan->lin_q[t] > 0) {
        aud_shap_lin_tree(plan, t, x, phi, (char *)ws + path_ws_size(plan), cond, cond_feature);
        return;
    }
    ts_ctx c = {tr, x, phi + (size_t)tr->output * (m->n_features + 1), plan->scale[t], cond,
                cond_feature};
    ts_recurse(&c, 0, ws, 0, 1.0, 1.0, -1, 1.0);
}

void aud_shap_tree_bias(const aud_shap_plan *plan, double *phi)
{
    const aud_model *m = plan->model;
    size_t M = m->n_features;
    for (size_t t = 0; t < m->n_trees; t++)
        phi[(size_t)m->trees[t].output * (M + 1) + M] += plan->expected[t];
    if (m->base_margin != NULL) {
        for (size_t k = 0; k < m->n_outputs; k++)
            phi[k * (M + 1) + M] += m->base_margin[k];
    }
}

void aud_shap_tree_row(const aud_shap_plan *plan, const double *x, double *phi, void *ws, int cond,
                       int32_t cond_feature)
{
    if (cond == 0)
        aud_shap_tree_bias(plan, phi);
    for (size_t t = 0; t < plan->model->n_trees; t++)
        aud_shap_tree_one(plan, t, x, phi, ws, cond, cond_feature);
}

/* --- interactions ------------------------------------------------------------------------------ */

typedef struct inter_ctx {
    const aud_shap_plan *plan;
    const aud_shap_fast *fast;      /* may be NULL */
    const size_t  *feat_off;        /* per tree: first entry of its used features in feats */
    const int32_t *feats;           /* unique features of each tree without tables */
    const double *X;
    double *out;
} inter_ctx;

typedef struct inter_ws {
    path_el *path;
    void    *stack;
    double  *diag, *on, *off;
} inter_ws;

static void inter_ws_free(void *p)
{
    inter_ws *w = p;
    if (w == NULL)
        return;
    aud_free(w->path);
    aud_free(w->stack);
    aud_free(w->diag);
    aud_free(w);
}

static void *inter_ws_new(void *ctx)
{
    const inter_ctx *c = ctx;
    const aud_model *m = c->plan->model;
    size_t stride = m->n_outputs * (m->n_features + 1);
    inter_ws *w = aud_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->path = aud_calloc(1, aud_shap_tree_ws_size(c->plan));
    w->stack = aud_calloc(1, aud_shap_fast_ws_size(c->plan));
    w->diag = aud_malloc(3 * stride * sizeof *w->diag);
    if (w->path == NULL || w->stack == NULL || w->diag == NULL) {
        inter_ws_free(w);
        return NULL;
    }
    w->on = w->diag + stride;
    w->off = w->on + stride;
    return w;
}

/* Interactions of tree t by conditioning (Lundberg 2020): for each feature i of the tree,
 * phi_ij += (phi_j | i present - phi_j | i absent) / 2; also its main effects into diag. */
static void inter_tree_recursive(const inter_ctx *c, inter_ws *w, size_t t, const double *x,
                                 double *o)
{
    const aud_model *m = c->plan->model;
    size_t M1 = m->n_features + 1;
    size_t k = (size_t)m->trees[t].output;
    size_t stride = m->n_outputs * M1;
    aud_shap_tree_one(c->plan, t, x, w->diag, w->path, 0, -1);
    for (size_t q = c->feat_off[t]; q < c->feat_off[t + 1]; q++) {
        size_t i = (size_t)c->feats[q];
        memset(w->on, 0, 2 * stride * sizeof *w->on);
        aud_shap_tree_one(c->plan, t, x, w->on, w->path, 1, (int32_t)i);
        aud_shap_tree_one(c->plan, t, x, w->off, w->path, -1, (int32_t)i);
        double *row = o + k * M1 * M1 + i * M1;
        const double *on = w->on + k * M1, *off = w->off + k * M1;
        for (size_t j = 0; j + 1 < M1; j++) {
            if (j != i)
                row[j] += (on[j] - off[j]) / 2.0;
        }
    }
}

static int inter_run(void *ctx, void *wsp, size_t begin, size_t end, aud_error *err)
{
    (void)err;
    const inter_ctx *c = ctx;
    inter_ws *w = wsp;
    const aud_model *m = c->plan->model;
    size_t M = m->n_features, K = m->n_outputs, M1 = M + 1;
    size_t stride = K * M1;
    for (size_t r = begin; r < end; r++) {
        const double *x = c->X + r * M;
        double *o = c->out + r * K * M1 * M1;
        memset(o, 0, K * M1 * M1 * sizeof *o);
        memset(w->diag, 0, stride * sizeof *w->diag);
        aud_shap_tree_bias(c->plan, w->diag);
        for (size_t t = 0; t < m->n_trees; t++) {
            if (aud_shap_fast_has(c->fast, t))
                aud_shap_fast_inter_tree(c->fast, t, x, w->diag, o, w->stack);
            else
                inter_tree_recursive(c, w, t, x, o);
        }
        /* diagonal: the main effect minus the interactions (rows sum to phi_i) */
        for (size_t k = 0; k < K; k++) {
            double *blk = o + k * M1 * M1;
            for (size_t i = 0; i < M; i++) {
                double d = w->diag[k * M1 + i];
                for (size_t j = 0; j < M; j++)
                    if (j != i)
                        d -= blk[i * M1 + j];
                blk[i * M1 + i] = d;
            }
            blk[M * M1 + M] = w->diag[k * M1 + M];
        }
    }
    return AUD_OK;
}

int aud_shap_tree_interactions(const aud_model *model, const double *X, size_t n_rows, double *out,
                               int threads, aud_error *err)
{
    aud_shap_plan *plan = NULL;
    aud_shap_fast *fast = NULL;
    size_t *feat_off = NULL;
    int32_t *feats = NULL;
    uint8_t *seen = NULL;
    if (model->kind != AUD_MODEL_TREES)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "--interactions needs a tree model (method tree)");
    int rc = aud_shap_plan_new(&plan, model, err);
    if (rc != AUD_OK)
        return rc;
    if (!plan->has_cover) {
        rc = aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                           "the model has no usable node covers, which --interactions needs");
        goto done;
    }
    rc = aud_shap_fast_new(&fast, plan, AUD_SHAP_FAST_MAX_BYTES, err);
    if (rc != AUD_OK)
        goto done;
    /* unique split features of each tree that the tables do not cover */
    size_t nt = model->n_trees, M = model->n_features, total = 0;
    feat_off = aud_calloc(nt + 2, sizeof *feat_off);
    seen = aud_calloc(M + 1, 1);
    if (feat_off == NULL || seen == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t t = 0; t < nt; t++) {
        if (!aud_shap_fast_has(fast, t))
            total += (size_t)model->trees[t].n_nodes;
    }
    feats = aud_calloc(total + 1, sizeof *feats);
    if (feats == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    size_t q = 0;
    for (size_t t = 0; t < nt; t++) {
        feat_off[t] = q;
        if (aud_shap_fast_has(fast, t))
            continue;
        const aud_tree *tr = &model->trees[t];
        for (int32_t n = 0; n < tr->n_nodes; n++) {
            if (tr->left[n] >= 0 && !seen[tr->feature[n]]) {
                seen[tr->feature[n]] = 1;
                feats[q++] = tr->feature[n];
            }
        }
        for (size_t i = feat_off[t]; i < q; i++)
            seen[feats[i]] = 0;
    }
    feat_off[nt] = q;
    inter_ctx c = {plan, fast, feat_off, feats, X, out};
    aud_units par = {inter_ws_new, inter_ws_free, inter_run, &c, 1, NULL, NULL};
    rc = aud_run_units(&par, n_rows, threads, err);
done:
    aud_free(feat_off);
    aud_free(feats);
    aud_free(seen);
    aud_shap_fast_free(fast);
    aud_shap_plan_free(plan);
    return rc;
}
