/* treeshap_linear.c - path-dependent TreeSHAP in time linear in the tree size, after Yu, Peng,
 * Sun, Frank, "Linear TreeShap", NeurIPS 2022 (arXiv:2209.08192): one top-down and one bottom-up
 * pass per tree, each node carrying a polynomial summary, instead of O(d^2) work per leaf.
 *
 * The polynomial view (derived here from the closed form of Lundberg et al. 2018, the one
 * treeshap_fast.c tabulates): for a leaf l with value v whose root path holds the unique features
 * P (|P| = d; each feature's splits merged: z_j = product of cover(child)/cover(parent), o_j = 1
 * when x follows all of them), the leaf adds to phi_i (i in P)
 *     v (o_i - z_i) sum_{S subset of P\{i}} |S|! (d-|S|-1)!/d! prod_{j in S} o_j prod_{j in P\S\{i}} z_j
 *   = v (o_i - z_i) integral_0^1 prod_{j in P\{i}} (z_j (1-t) + o_j t) dt,
 * because |S|! (d-|S|-1)!/d! = integral_0^1 t^|S| (1-t)^(d-|S|-1) dt (the Beta integral). The
 * integrand is a polynomial of degree < d <= D (the tree's depth), so Gauss-Legendre quadrature
 * with q = ceil(D/2) points is exact. Linear TreeShap represents such polynomials by their values
 * at Chebyshev points and reports numerical trouble beyond depth ~12 (its interpolation and
 * basis change); here every polynomial is only ever evaluated at the q Gauss nodes: each factor
 * z (1-t) + o t lies in [0, 1] there, the weights are positive, and no basis change, division
 * by a small Vandermonde or alternating sum occurs, so the values keep full double precision at
 * any depth (the tests compare with the recursion at depth 20 to 1e-12).
 *
 * Per tree and row, with F_n(t) = z (1-t) + o t the merged factor of the feature split at node
 * n's parent (as far as n) and G_n(t) the product of all merged factors of the path to n:
 *   down: G_child = G_n * F_child / F_previous (the previous merged factor of that feature, 1 if
 *         none), at the q nodes (weights folded into the root's G);
 *   up:   S_n = sum of v G_leaf over the leaves under n;
 *   the edge into n (split on i) owns the leaves below it that have no deeper split on i: their
 *   sum is S_n minus S_m of each topmost node m below n that splits on i again (U_n, collected
 *   as the walk returns), and they add (o - z) sum_t (S_n - U_n)(t) / F_n(t) to phi_i.
 * That is O(q) per node: O(N D) per tree against the recursion's O(L D^2). No division is left
 * in the walk: z depends on the tree only, so F_n(t) = z (1 - t) (when o = 0) needs the fixed
 * 1 / (1 - t), and 1 / (z + (1 - z) t) (when o = 1) is tabulated per node and Gauss point once
 * per tree and thread (reused while rows of a block, or the conditioned walks of interactions,
 * explain the same tree). Interactions condition on a feature (Lundberg et al. 2020): its factor
 * becomes the constant o (present) or z (absent) and it earns nothing, which the same walk does
 * without extra cost. Memory per thread: (q + 1) doubles per node of the largest tree,
 * 3 (D + 2) q doubles for the levels, and three values per feature. */
#include "explainers/shap_int.h"

#include <string.h>

struct aud_shap_lin_ws {
    const aud_shap_plan *plan;   /* the tables below are those of tree `tree` with q points */
    size_t   tree;
    int      q;
    double  *zt;          /* per node: z of its parent's feature as far as the node */
    double  *ih;          /* per node x q: 1 / (z + (1 - z) t_k), the hot factor's inverse */
    double  *G, *S, *U;   /* (D + 2) x q each, one row per level */
    double  *fo;          /* per feature: merged one fraction of its innermost open edge */
    double  *omt, *rom;   /* q: 1 - t_k, 1 / (1 - t_k) */
    int32_t *open_lvl;    /* per feature: level of that edge, 0 = none */
    int32_t *open_node;   /* per feature: node the edge enters */
};

typedef struct lin_ctx {
    const aud_tree *t;
    const double   *x;
    const double   *tq;     /* q Gauss nodes on [0, 1] */
    double          scale;  /* the tree's (leaf values are scaled) */
    int             q;      /* for the generic instance */
    int             cond;
    int32_t         cond_feature;
    aud_shap_lin_ws *w;
    double         *phi;    /* this tree's output block */
} lin_ctx;

size_t aud_shap_lin_ws_size(const aud_shap_plan *plan)
{
    size_t rows = (size_t)plan->max_depth + 2, q = (size_t)plan->max_q;
    size_t M = plan->model->n_features, N = (size_t)plan->max_nodes;
    return sizeof(aud_shap_lin_ws) + (N * (q + 1) + 3 * rows * q + M + 2 * q) * sizeof(double) +
           2 * M * sizeof(int32_t) + 16;
}

/* ws: aud_shap_lin_ws_size() zeroed bytes, 8-aligned. */
static aud_shap_lin_ws *lin_ws(const aud_shap_plan *plan, void *mem)
{
    aud_shap_lin_ws *w = mem;
    if (w->G == NULL) {
        size_t rows = (size_t)plan->max_depth + 2, q = (size_t)plan->max_q;
        size_t M = plan->model->n_features, N = (size_t)plan->max_nodes;
        double *d = (double *)(w + 1);
        w->zt = d;
        w->ih = d + N;
        w->G = w->ih + N * q;
        w->S = w->G + rows * q;
        w->U = w->S + rows * q;
        w->fo = w->U + rows * q;
        w->omt = w->fo + M;
        w->rom = w->omt + q;
        w->open_lvl = (int32_t *)(w->rom + q);
        w->open_node = w->open_lvl + M;
        w->plan = NULL;
    }
    return w;
}

/* zt and ih of every node below n (fz: merged zero fraction of each open feature). */
static void lin_tables(aud_shap_lin_ws *w, const aud_tree *t, const double *tq, int q, int32_t n,
                       double *fz)
{
    if (t->left[n] < 0)
        return;
    int32_t f = t->feature[n];
    int32_t was_open = w->open_lvl[f];
    double zo = was_open ? fz[f] : 1.0;
    for (int side = 0; side < 2; side++) {
        int32_t c = side == 0 ? t->left[n] : t->right[n];
        double z = zo * (t->cover[c] / t->cover[n]);
        w->zt[c] = z;
        double *ih = w->ih + (size_t)c * (size_t)q;
        for (int k = 0; k < q; k++)
            ih[k] = 1.0 / (z + (1.0 - z) * tq[k]);
        fz[f] = z;
        w->open_lvl[f] = 1;
        lin_tables(w, t, tq, q, c, fz);
    }
    fz[f] = zo;
    w->open_lvl[f] = was_open;
}

typedef void (*lin_fn)(const lin_ctx *c, int32_t n, int lvl);

/* Node n at level lvl (G of row lvl set): writes S of row lvl. q is a constant at each
 * instantiation below, so the loops over the Gauss points are unrolled. */
static inline __attribute__((always_inline)) void
lin_node(const lin_ctx *c, int32_t n, int lvl, const int q, lin_fn self)
{
    const aud_tree *t = c->t;
    aud_shap_lin_ws *w = c->w;
    const double *tq = c->tq, *omt = w->omt, *rom = w->rom;
    double *G = w->G + (size_t)lvl * (size_t)q;
    double *S = w->S + (size_t)lvl * (size_t)q;
    int32_t f = t->feature[n];
    int go_left = aud_shap_go_left(t, n, c->x[f]);
    int32_t lvl_old = w->open_lvl[f], node_old = w->open_node[f];
    double oo = lvl_old ? w->fo[f] : 1.0;
    int is_cond = c->cond != 0 && f == c->cond_feature;
    double *Gc = G + q, *Sc = S + q, *Uc = w->U + (size_t)(lvl + 1) * (size_t)q;
    for (int k = 0; k < q; k++)
        S[k] = 0.0;
    for (int side = 0; side < 2; side++) {
        int32_t ch = side == 0 ? t->left[n] : t->right[n];
        int hot = (side == 0) == (go_left != 0);
        double zc = w->zt[ch];
        double oc = hot ? oo : 0.0;
        if (is_cond) {
            /* the conditioned feature's factor is the constant o (present) or z (absent) */
            double a = c->cond > 0 ? oc : zc;
            if (a == 0.0)
                continue;
            double r = lvl_old ? a / (c->cond > 0 ? oo : w->zt[node_old]) : a;
            for (int k = 0; k < q; k++)
                Gc[k] = G[k] * r;
        } else if (oc == 0.0 && zc == 0.0) {
            continue;   /* reached by no coalition: adds nothing anywhere */
        } else if (lvl_old == 0) {   /* F = z + (1 - z) t or z (1 - t) */
            if (oc != 0.0) {
                for (int k = 0; k < q; k++)
                    Gc[k] = G[k] * (zc + (1.0 - zc) * tq[k]);
            } else {
                for (int k = 0; k < q; k++)
                    Gc[k] = G[k] * (zc * omt[k]);
            }
        } else if (oo != 0.0) {   /* the same over the previous F = z' + (1 - z') t */
            const double *ihp = w->ih + (size_t)node_old * (size_t)q;
            if (oc != 0.0) {
                for (int k = 0; k < q; k++)
                    Gc[k] = G[k] * (zc + (1.0 - zc) * tq[k]) * ihp[k];
            } else {
                for (int k = 0; k < q; k++)
                    Gc[k] = G[k] * (zc * omt[k]) * ihp[k];
            }
        } else {   /* z (1 - t) both times: the ratio of the z */
            double r = t->cover[ch] / t->cover[n];
            for (int k = 0; k < q; k++)
                Gc[k] = G[k] * r;
        }
        /* phi_f += (o - z) sum_k (S - U)_k / F(t_k): with F = z + (1 - z) t when o = 1, and
         * (o - z) / F = -1 / (1 - t) when o = 0 */
        double s = 0.0;
        if (t->left[ch] < 0) {   /* a leaf: S = v G, nothing below to subtract, no call */
            double v = t->value[ch] * c->scale;
            if (is_cond) {
                for (int k = 0; k < q; k++)
                    S[k] += v * Gc[k];
            } else if (oc != 0.0) {
                const double *ih = w->ih + (size_t)ch * (size_t)q;
                for (int k = 0; k < q; k++) {
                    double sc = v * Gc[k];
                    s += sc * ih[k];
                    S[k] += sc;
                }
                c->phi[f] += (1.0 - zc) * s;
            } else {
                for (int k = 0; k < q; k++) {
                    double sc = v * Gc[k];
                    s += sc * rom[k];
                    S[k] += sc;
                }
                c->phi[f] -= s;
            }
            continue;
        }
        for (int k = 0; k < q; k++)
            Uc[k] = 0.0;
        w->fo[f] = oc;
        w->open_lvl[f] = lvl + 1;
        w->open_node[f] = ch;
        self(c, ch, lvl + 1);
        if (is_cond) {
            for (int k = 0; k < q; k++)
                S[k] += Sc[k];
        } else if (oc != 0.0) {
            const double *ih = w->ih + (size_t)ch * (size_t)q;
            for (int k = 0; k < q; k++) {
                s += (Sc[k] - Uc[k]) * ih[k];
                S[k] += Sc[k];
            }
            c->phi[f] += (1.0 - zc) * s;
        } else {
            for (int k = 0; k < q; k++) {
                s += (Sc[k] - Uc[k]) * rom[k];
                S[k] += Sc[k];
            }
            c->phi[f] -= s;
        }
    }
    w->fo[f] = oo;
    w->open_lvl[f] = lvl_old;
    w->open_node[f] = node_old;
    if (lvl_old) {   /* this subtree belongs to the deeper edges, not to the one above */
        double *Uo = w->U + (size_t)lvl_old * (size_t)q;
        for (int k = 0; k < q; k++)
            Uo[k] += S[k];
    }
}

static void lin_any(const lin_ctx *c, int32_t n, int lvl)
{
    lin_node(c, n, lvl, c->q, lin_any);
}

#define LIN_FIXED(Q)                                                                              \
    static void lin_##Q(const lin_ctx *c, int32_t n, int lvl)                                    \
    {                                                                                             \
        lin_node(c, n, lvl, Q, lin_##Q);                                                          \
    }
LIN_FIXED(1)
LIN_FIXED(2)
LIN_FIXED(3)
LIN_FIXED(4)
LIN_FIXED(5)
LIN_FIXED(6)
LIN_FIXED(7)
LIN_FIXED(8)

void aud_shap_lin_tree(const aud_shap_plan *plan, size_t t, const double *x, double *phi,
                       void *ws, int cond, int32_t cond_feature)
{
    const aud_model *m = plan->model;
    const aud_tree *tr = &m->trees[t];
    if (tr->left[0] < 0)
        return;   /* a single leaf: bias only */
    aud_shap_lin_ws *w = lin_ws(plan, ws);
    int q = plan->lin_q[t];
    const double *tq = plan->gl_t + (size_t)q * AUD_SHAP_LIN_MAX_Q;
    const double *wq = plan->gl_w + (size_t)q * AUD_SHAP_LIN_MAX_Q;
    if (w->plan != plan || w->tree != t || w->q != q) {
        /* fo serves as the zero fractions while building (it is read only for open edges) */
        lin_tables(w, tr, tq, q, 0, w->fo);
        for (int k = 0; k < q; k++) {
            w->omt[k] = 1.0 - tq[k];
            w->rom[k] = 1.0 / w->omt[k];
        }
        w->plan = plan;
        w->tree = t;
        w->q = q;
    }
    for (int k = 0; k < q; k++)
        w->G[k] = wq[k];
    lin_ctx c = {tr, x, tq, plan->scale[t], q, cond, cond_feature, w,
                 phi + (size_t)tr->output * (m->n_features + 1)};
    switch (q) {
    case 1: lin_1(&c, 0, 0); break;
    case 2: lin_2(&c, 0, 0); break;
    case 3: lin_3(&c, 0, 0); break;
    case 4: lin_4(&c, 0, 0); break;
    case 5: lin_5(&c, 0, 0); break;
    case 6: lin_6(&c, 0, 0); break;
    case 7: lin_7(&c, 0, 0); break;
    case 8: lin_8(&c, 0, 0); break;
    default: lin_any(&c, 0, 0); break;
    }
}

/* Gauss-Legendre nodes and weights of q points on [0, 1] (Newton on the Legendre recurrence;
 * Golub-Welsch would do as well). Exact for polynomials of degree <= 2q - 1. */
void aud_shap_gauss_legendre(int q, double *t, double *w)
{
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < q; i++) {
        double x = cos(pi * ((double)i + 0.75) / ((double)q + 0.5)), dp = 1.0;
        for (int it = 0; it < 101; it++) {
            double p0 = 1.0, p1 = x;   /* P_(q-1)(x), P_q(x) */
            for (int k = 2; k <= q; k++) {
                double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / (double)k;
                p0 = p1;
                p1 = p2;
            }
            dp = (double)q * (x * p1 - p0) / (x * x - 1.0);
            if (it == 100)
                break;   /* dp at the converged x */
            double dx = p1 / dp;
            x -= dx;
            if (fabs(dx) < 1e-16)
                it = 99;
        }
        t[i] = (1.0 - x) / 2.0;
        w[i] = 1.0 / ((1.0 - x * x) * dp * dp);
    }
}
