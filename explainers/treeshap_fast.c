/* treeshap_fast.c - path-dependent TreeSHAP with per-leaf precomputation, in the spirit of
 * FastTreeSHAP v2 (Yang, "Fast TreeSHAP: Accelerating SHAP Value Computation for Trees",
 * arXiv:2109.09847, 2021), derived here from the closed form of Lundberg et al. 2018 (eq. 2 /
 * Algorithm 2 of arXiv:1802.03888):
 *
 * For a leaf l with value v whose root path holds the d unique features P (each feature's splits
 * merged: z_k = product of cover(child)/cover(parent) over its splits on the path, o_k = 1 when
 * x follows all of them), the leaf adds to phi_k (k in P)
 *     v (o_k - z_k) sum_{S subset of P\{k}} |S|! (d-|S|-1)! / d! prod_{j in S} o_j prod_{j in P\S\{k}} z_j.
 * Only the pattern A = {j : o_j = 1} depends on the row, so the d values are tabulated for all
 * 2^d patterns at load time. With A' = A\{k} and e_m the elementary symmetric polynomials of the
 * z over A', the sum is prod_{j not in A, j != k} z_j * sum_m w(m, d) e_{|A'|-m}.
 * A row then costs one walk over the tree (each node's decision once, the agreement pattern
 * carried as a bit mask by path position) and d additions per leaf, instead of O(d^2) work per
 * leaf plus path copies. Trees with a path of more than AUD_SHAP_FAST_MAX_PATH unique features, or
 * past the memory budget, use the recursive algorithm (treeshap.c). */
#include "explainers/shap_int.h"

#include <string.h>

#define DMAX AUD_SHAP_FAST_MAX_PATH

struct aud_shap_fast {
    const aud_shap_plan *plan;
    uint8_t  *fast;          /* per tree: tables present */
    size_t   *aux_off;       /* per tree: offset of its nodes in aux */
    int32_t  *aux;           /* per node: internal -> path position of its feature; leaf -> leaf id */
    uint8_t  *leaf_d;        /* per leaf: unique features on its path */
    int32_t  *leaf_feat;     /* per leaf: DMAX feature indices */
    size_t   *leaf_off;      /* per leaf: offset of its 2^d x d table */
    double   *leaf_z;        /* per leaf: DMAX zero fractions (for interactions) */
    double   *leaf_v;        /* per leaf: value x tree scale */
    double    w[DMAX + 1][DMAX + 1];   /* w[d][m] = m! (d-m-1)! / d! */
    double   *table;
    size_t    n_leaves;
};

void aud_shap_fast_free(aud_shap_fast *f)
{
    if (f == NULL)
        return;
    aud_free(f->fast);
    aud_free(f->aux_off);
    aud_free(f->aux);
    aud_free(f->leaf_d);
    aud_free(f->leaf_feat);
    aud_free(f->leaf_off);
    aud_free(f->leaf_z);
    aud_free(f->leaf_v);
    aud_free(f->table);
    aud_free(f);
}

int aud_shap_fast_has(const aud_shap_fast *f, size_t t)
{
    return f != NULL && f->fast[t];
}

/* Path state while walking a tree at build time. */
typedef struct bpath {
    int32_t feat[DMAX + 1];
    double  z[DMAX + 1];
    int     d;
    int     too_deep;
} bpath;

/* Pass 1: sizes. Returns 0 when some leaf has more than DMAX unique features. */
static void size_walk(const aud_tree *t, int32_t n, bpath *p, size_t *leaves, size_t *cells,
                      double *work)
{
    if (p->too_deep)
        return;
    if (t->left[n] < 0) {
        (*leaves)++;
        *cells += ((size_t)1 << p->d) * (size_t)p->d;
        /* leaf_table: per pattern and path feature an O(d^2) polynomial; plus the walk */
        *work += ldexp((double)p->d * (double)p->d * (double)p->d, p->d) + 16.0;
        return;
    }
    int32_t f = t->feature[n];
    int k = 0;
    while (k < p->d && p->feat[k] != f)
        k++;
    int added = k == p->d;
    if (added) {
        if (p->d == DMAX) {
            p->too_deep = 1;
            return;
        }
        p->feat[p->d++] = f;
    }
    size_walk(t, t->left[n], p, leaves, cells, work);
    size_walk(t, t->right[n], p, leaves, cells, work);
    if (added)
        p->d--;
}

typedef struct build {
    aud_shap_fast *f;
    const aud_tree *t;
    int32_t *aux;            /* this tree's nodes */
    double   scale;
    size_t   next_leaf;
    size_t   next_cell;
    const double (*w)[DMAX + 1];     /* f->w: w[d][m] = m! (d-m-1)! / d! */
} build;

static void path_weights(double w[DMAX + 1][DMAX + 1])
{
    for (int d = 1; d <= DMAX; d++)
        for (int k = 0; k < d; k++)
            w[d][k] = exp(lgamma((double)k + 1.0) + lgamma((double)(d - k)) -
                          lgamma((double)d + 1.0));
}

/* The 2^d x d table of one leaf (w: path_weights). */
static void leaf_table_w(const double w[DMAX + 1][DMAX + 1], int d, const double *z, double v,
                         double *T)
{
    double e[DMAX + 1];
    for (uint32_t A = 0; A < (1u << d); A++) {
        for (int k = 0; k < d; k++) {
            int ok = (int)((A >> k) & 1u);
            double coef = (double)ok - z[k];
            double *out = &T[(size_t)A * (size_t)d + (size_t)k];
            if (coef == 0.0) {
                *out = 0.0;
                continue;
            }
            /* e over A' = A \ {k}; product of z over the others (not in A, not k) */
            double zprod = 1.0;
            int a = 0;
            e[0] = 1.0;
            for (int j = 0; j < d; j++) {
                if (j == k)
                    continue;
                if ((A >> j) & 1u) {
                    e[a + 1] = 0.0;
                    for (int m = a + 1; m >= 1; m--)
                        e[m] += z[j] * e[m - 1];
                    a++;
                } else {
                    zprod *= z[j];
                }
            }
            double s = 0.0;
            for (int m = 0; m <= a; m++)
                s += w[d][m] * e[a - m];
            *out = v * coef * zprod * s;
        }
    }
}

static void leaf_table(const build *b, const bpath *p, double v, double *T)
{
    leaf_table_w(b->w, p->d, p->z, v, T);
}

void aud_shap_path_weights(aud_shap_weights *w)
{
    path_weights(w->w);
}

void aud_shap_leaf_table(const aud_shap_weights *w, int d, const double *z, double v, double *T)
{
    leaf_table_w(w->w, d, z, v, T);
}

static void build_walk(build *b, int32_t n, bpath *p)
{
    const aud_tree *t = b->t;
    if (t->left[n] < 0) {
        size_t li = b->next_leaf++;
        aud_shap_fast *f = b->f;
        b->aux[n] = (int32_t)li;
        f->leaf_d[li] = (uint8_t)p->d;
        for (int k = 0; k < p->d; k++) {
            f->leaf_feat[li * DMAX + (size_t)k] = p->feat[k];
            f->leaf_z[li * DMAX + (size_t)k] = p->z[k];
        }
        f->leaf_v[li] = t->value[n] * b->scale;
        f->leaf_off[li] = b->next_cell;
        leaf_table(b, p, t->value[n] * b->scale, f->table + b->next_cell);
        b->next_cell += ((size_t)1 << p->d) * (size_t)p->d;
        return;
    }
    int32_t f = t->feature[n];
    int k = 0;
    while (k < p->d && p->feat[k] != f)
        k++;
    int added = k == p->d;
    double z_old = added ? 1.0 : p->z[k];
    if (added) {
        p->feat[p->d] = f;
        p->d++;
    }
    b->aux[n] = k;
    double cov = t->cover[n];
    p->z[k] = z_old * (t->cover[t->left[n]] / cov);
    build_walk(b, t->left[n], p);
    p->z[k] = z_old * (t->cover[t->right[n]] / cov);
    build_walk(b, t->right[n], p);
    p->z[k] = z_old;
    if (added)
        p->d--;
}

/* Pass 2's trees: each writes only its own nodes, leaves and cells (offsets from pass 1), so
 * the trees build in any order on any thread (aud_run_tasks). */
typedef struct build_ctx {
    aud_shap_fast       *f;
    const aud_shap_plan *plan;
    const size_t        *leaf_at, *cell_at;   /* per tree: first leaf, first table cell */
} build_ctx;

static void build_tree_task(void *ctx, size_t t)
{
    const build_ctx *x = ctx;
    if (!x->f->fast[t])
        return;
    build b = { x->f, &x->plan->model->trees[t], x->f->aux + x->f->aux_off[t],
                x->plan->scale[t], x->leaf_at[t], x->cell_at[t],
                (const double (*)[DMAX + 1])x->f->w };
    bpath p;
    memset(&p, 0, sizeof p);
    build_walk(&b, 0, &p);
}

int aud_shap_fast_new(aud_shap_fast **out, const aud_shap_plan *plan, size_t max_bytes,
                      aud_error *err)
{
    return aud_shap_fast_new_mt(out, plan, max_bytes, 1, err);
}

int aud_shap_fast_new_mt(aud_shap_fast **out, const aud_shap_plan *plan, size_t max_bytes,
                         int threads, aud_error *err)
{
    const aud_model *m = plan->model;
    size_t nt = m->n_trees;
    aud_shap_fast *f = aud_calloc(1, sizeof *f);
    size_t *cells = NULL, *leaves = NULL;
    int rc = AUD_OK;
    if (f == NULL)
        return aud_error_nomem(err);
    f->plan = plan;
    f->fast = aud_calloc(nt + 1, 1);
    f->aux_off = aud_calloc(nt + 1, sizeof *f->aux_off);
    cells = aud_calloc(nt + 1, sizeof *cells);
    leaves = aud_calloc(nt + 1, sizeof *leaves);
    if (!f->fast || !f->aux_off || !cells || !leaves) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* pass 1: which trees fit (in model order, within the budget); cells[t] and leaves[t] then
     * become each tree's first cell and first leaf */
    size_t total_cells = 0, total_leaves = 0, total_nodes = 0;
    double total_work = 0.0;
    for (size_t t = 0; t < nt; t++) {
        const aud_tree *tr = &m->trees[t];
        size_t lv = 0, cl = 0;
        cells[t] = total_cells;
        leaves[t] = total_leaves;
        if (tr->left[0] < 0 || plan->players[t] > AUD_SHAP_FAST_TABLE_PLAYERS)
            continue;
        bpath p;
        memset(&p, 0, sizeof p);
        double work = 0.0;
        size_walk(tr, 0, &p, &lv, &cl, &work);
        size_t bytes = (total_cells + cl) * sizeof(double);
        if (p.too_deep || bytes > max_bytes || total_work + work > AUD_SHAP_FAST_MAX_WORK)
            continue;
        total_work += work;
        f->fast[t] = 1;
        f->aux_off[t] = total_nodes;
        total_cells += cl;
        total_leaves += lv;
        total_nodes += (size_t)tr->n_nodes;
    }
    f->n_leaves = total_leaves;
    f->aux = aud_calloc(total_nodes + 1, sizeof *f->aux);
    f->leaf_d = aud_calloc(total_leaves + 1, 1);
    f->leaf_feat = aud_calloc(total_leaves * DMAX + 1, sizeof *f->leaf_feat);
    f->leaf_off = aud_calloc(total_leaves + 1, sizeof *f->leaf_off);
    f->leaf_z = aud_calloc(total_leaves * DMAX + 1, sizeof *f->leaf_z);
    f->leaf_v = aud_calloc(total_leaves + 1, sizeof *f->leaf_v);
    f->table = aud_calloc(total_cells + 1, sizeof *f->table);
    if (!f->aux || !f->leaf_d || !f->leaf_feat || !f->leaf_off || !f->leaf_z || !f->leaf_v ||
        !f->table) {
        rc = aud_error_nomem(err);
        goto done;
    }
    path_weights(f->w);
    /* pass 2: the tables, tree by tree on up to `threads` threads (the leaf tables are the
     * work: 2^d x d entries of O(d^2) each, the serial part of explain before this) */
    build_ctx bc = { f, plan, leaves, cells };
    aud_run_tasks(nt, threads, build_tree_task, &bc);
    *out = f;
    f = NULL;
done:
    aud_free(cells);
    aud_free(leaves);
    aud_shap_fast_free(f);
    return rc;
}

size_t aud_shap_fast_ws_size(const aud_shap_plan *plan)
{
    return ((size_t)plan->max_depth + 2) * 2 * sizeof(int32_t) + 16;
}

/* Interaction part of one leaf: for path features a != b (positions in the leaf's path),
 * phi_ab += v (o_a - z_a)(o_b - z_b) W_ab / 2 with W_ab the path weight of the game without b,
 * summed over the subsets of the path without a and b (Lundberg et al. 2020: half the difference
 * of phi_a with b present and with b absent; present multiplies the leaf by o_b, absent by z_b). */
static void leaf_pairs(const aud_shap_fast *f, size_t li, uint32_t A, double *blk, size_t M1)
{
    unsigned d = f->leaf_d[li];
    const double *z = f->leaf_z + li * DMAX;
    const int32_t *feat = f->leaf_feat + li * DMAX;
    double v = f->leaf_v[li];
    double e[DMAX + 1];
    for (unsigned a = 0; a < d; a++) {
        double ca = (double)((A >> a) & 1u) - z[a];
        if (ca == 0.0)
            continue;
        for (unsigned b = a + 1; b < d; b++) {
            double cb = (double)((A >> b) & 1u) - z[b];
            if (cb == 0.0)
                continue;
            double zprod = 1.0;
            unsigned n = 0;
            e[0] = 1.0;
            for (unsigned k = 0; k < d; k++) {
                if (k == a || k == b)
                    continue;
                if ((A >> k) & 1u) {
                    e[n + 1] = 0.0;
                    for (unsigned q = n + 1; q >= 1; q--)
                        e[q] += z[k] * e[q - 1];
                    n++;
                } else {
                    zprod *= z[k];
                }
            }
            double s = 0.0;
            for (unsigned m = 0; m <= n; m++)
                s += f->w[d - 1][m] * e[n - m];
            double c = v * ca * cb * zprod * s / 2.0;
            blk[(size_t)feat[a] * M1 + (size_t)feat[b]] += c;
            blk[(size_t)feat[b] * M1 + (size_t)feat[a]] += c;
        }
    }
}

/* One walk of tree t for row x: every leaf once, with the agreement mask of its path; with_inter
 * (a constant at each call, so the compiler makes two specialised copies) adds the interaction
 * values of each leaf. */
static inline __attribute__((always_inline)) void
fast_walk(const aud_shap_fast *f, size_t t, const double *x, double *phi, double *inter,
          void *stack, const int with_inter)
{
    const aud_model *m = f->plan->model;
    const aud_tree *tr = &m->trees[t];
    const int32_t *aux = f->aux + f->aux_off[t];
    size_t M1 = m->n_features + 1;
    double *ph = phi + (size_t)tr->output * M1;
    double *blk = with_inter ? inter + (size_t)tr->output * M1 * M1 : NULL;
    int32_t *st = stack;
    int top = 0;
    int32_t n = 0;
    uint32_t mask = ~0u;
    for (;;) {
        while (tr->left[n] >= 0) {
            int32_t l = tr->left[n], r = tr->right[n];
            uint32_t cold_mask = mask & ~(1u << aux[n]);
            if (aud_shap_go_left(tr, n, x[tr->feature[n]])) {
                st[2 * top] = r;
                n = l;
            } else {
                st[2 * top] = l;
                n = r;
            }
            st[2 * top + 1] = (int32_t)cold_mask;
            top++;
        }
        size_t li = (size_t)aux[n];
        unsigned d = f->leaf_d[li];
        uint32_t A = mask & ((1u << d) - 1u);
        const double *T = f->table + f->leaf_off[li] + (size_t)A * d;
        const int32_t *feat = f->leaf_feat + li * DMAX;
        for (unsigned k = 0; k < d; k++)
            ph[feat[k]] += T[k];
        if (with_inter && d >= 2)
            leaf_pairs(f, li, A, blk, M1);
        if (top == 0)
            break;
        top--;
        n = st[2 * top];
        mask = (uint32_t)st[2 * top + 1];
    }
}

void aud_shap_fast_tree(const aud_shap_fast *f, size_t t, const double *x, double *phi,
                        void *stack)
{
    fast_walk(f, t, x, phi, NULL, stack, 0);
}

void aud_shap_fast_inter_tree(const aud_shap_fast *f, size_t t, const double *x, double *phi,
                              double *inter, void *stack)
{
    fast_walk(f, t, x, phi, inter, stack, 1);
}
