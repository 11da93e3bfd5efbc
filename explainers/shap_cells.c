/* shap_cells.c - per-cell sums of path-dependent TreeSHAP values over many rows, without the
 * per-row values (what group means of SHAP values need: SPEC section 7 "drivers").
 *
 * By units (trees whose leaves are all at depth <= 8; issue 19 item 4). Path-dependent TreeSHAP
 * (Lundberg, Erion, Lee 2018, arXiv:1802.03888, eq. 2 / Algorithm 2) adds to a row's phi, for
 * each leaf l, a vector that depends on the row only through which of l's unique path features
 * it agrees with (a feature agrees when the row follows every split of it on l's path: the
 * one-fractions of Algorithm 2); those 2^d x d vectors are tabulated per leaf as in
 * FastTreeSHAP v2 (Yang 2021, arXiv:2109.09847; aud_shap_leaf_table, treeshap_fast.c). The sum
 * over a cell's rows is then sum_l sum_A count(cell, l, A) T(l, A): only the counts need the
 * rows. To make fewer counts per row, leaves are grouped into units: a node u with depth(u) +
 * (internal nodes under u) <= UNIT_BITS; the row's decisions at u's ancestors and at the nodes
 * under u (its key) fix the pattern of every leaf under u, so a unit's table holds, per key, the
 * sum of its leaves' vectors. A depth-6 tree is 16 units of 7 bits (128 keys each). Per row and
 * tree: one comparison per internal node (vectorised for XGBoost's float splits; the model's own
 * aud_tree_go_left for the others, so LightGBM numerical and categorical and scikit-learn splits,
 * missing values included, follow exactly the rules of models/model_int.h), then one key and one
 * increment per unit - instead of one TreeSHAP walk of every leaf per distinct decision pattern.
 * At the end of each run of a cell's rows the counts (or weights) times the tables go into the
 * sums. Per thread: the tree's tables (2^bits x features per unit; 8 MiB at most, ~110 KiB for
 * a depth-6 tree), 4 copies of the counts (32 KiB for depth 6, 1 MiB at most) and the decisions
 * of 1024 rows (4 KiB per internal node). Measured (docs/speed.md): 500 depth-6 XGBoost trees,
 * one thread, 65,536 rows in 0.9 s CPU instead of 50 s (262,144 rows: 2.9 s); the drivers stage
 * of bench/bench_e2e.py at 200,000 rows 2.6 s CPU instead of 150 s, at 1,000,000 rows 12.9 s.
 *
 * By decision patterns (deeper trees). The tree's values depend on the row only through its
 * decision at each internal node, so within a block of rows they are computed once per distinct
 * decision pattern (a bit per internal node) on one representative row, and the weighted count
 * of each pattern in each cell multiplies them. With continuous features nearly every row has its
 * own pattern, so this costs about a TreeSHAP walk per row. Trees with more than 64 internal
 * nodes are explained row by row.
 *
 * Both are exact: the sum over a cell equals summing the rows' own values, to rounding.
 * Deterministic for any thread count: trees go in a fixed number of chunks (independent of the
 * threads), each chunk sums into its own buffer, and the buffers are added in chunk order.
 *
 * Within a block the rows are read sorted by cell (a stable counting sort, once per call), so
 * without weights a pattern's rows of one cell are counted in a small table and added to the
 * accumulators once per cell instead of once per row. The patterns are still numbered, and
 * their values spilled, in the order of their first row in the block, the representative is that
 * first row, and the counts are exact integers: the same sums, bit for bit, as row by row (and,
 * by units, the same bits with weights 1 as without weights). */
#include "explainers/shap_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CHUNKS 64                    /* chunks of trees (units of work): 4 per thread at 16 */
#define MIN_CHUNKS 16
#define PART_BUDGET ((size_t)16 << 20)   /* bytes of the chunks' partial sums beyond MIN_CHUNKS */
#define DIRECT_BITS 16                   /* patterns this short index a table directly */
#define SUB_ROWS ((size_t)1 << 18)       /* rows per pattern block: each tree's values are
                                            computed once per pattern of a block */
#define KEY_TILE 2048                    /* rows whose patterns are built node by node */
#define KEY_TREES 8                      /* trees whose patterns are built together */
#define SLOTS0 4096                      /* pattern accumulators first allocated (they grow) */
#ifndef UNIT_BITS
#define UNIT_BITS 8                      /* key bits of a unit */
#endif
/* deepest leaf of a tree by units: a leaf is a unit of its depth's bits; its table has a row
 * per pattern of its path's unique features (aud_shap_leaf_table) */
#define UNIT_DEPTH (UNIT_BITS < AUD_SHAP_FAST_MAX_PATH ? UNIT_BITS : AUD_SHAP_FAST_MAX_PATH)

int aud_shap_cells_unit_depth = UNIT_DEPTH;
#define UNIT_MAX_SLOTS ((size_t)1 << 16) /* per tree: count slots, */
#define UNIT_MAX_TABLE ((size_t)1 << 20) /* and table values (8 MiB) */
#define UTILE 1024                       /* rows whose decisions are taken together (256: the
                                            drivers of bench_fair_drivers 8% slower) */
#define GROUP_BUDGET ((size_t)2 << 20)   /* bytes of the counts and tables of a group of trees
                                            taken tile by tile (trees_by_units) */

/* A unit: a node u of a tree with depth(u) + (internal nodes under u) <= UNIT_BITS. The leaves
 * under u depend on a row only through its decisions at u's ancestors and at the internal nodes
 * under u: those bits are the unit's key, and the unit's table holds, for every key, the sum of
 * its leaves' contributions to its features. */
typedef struct cells_unit {
    int32_t  root, depth, bits, nf;
    uint32_t anc_left;          /* bit i: the way to the unit goes left at ancestor i */
    int32_t  node[UNIT_BITS];   /* key bit b: rank of its node (ancestors from the root, then
                                   the internal nodes under the unit in preorder) */
    int32_t  feat[UNIT_BITS];   /* the distinct features of those nodes */
    size_t   off, toff;         /* first count slot; first table value (2^bits x nf) */
} cells_unit;

typedef struct cells_units {    /* a tree's units, or NULL: the pattern path */
    int32_t     n_int;          /* internal nodes reachable from the root */
    int32_t    *inode;          /* rank (preorder) -> node */
    uint8_t    *lt;             /* rank: (float)x < (float)t, NaN to the default (vector test) */
    int32_t     n_units;
    cells_unit *u;
    size_t      slots, tsize;
} cells_units;

struct aud_shap_cells {
    const aud_model *m;
    aud_shap_plan   *plan;
    aud_shap_fast   *fast;
    size_t           M, n_cells, n_w, n_chunks, sub;   /* sub: rows per pattern block */
    int              threads;
    double           bias;
    double          *sums;      /* n_w x n_cells x (M + 1) */
    uint64_t        *counts;    /* n_cells */
    double          *part;      /* n_chunks x n_w x n_cells x M: this call's tree sums */
    int32_t        **bit;       /* per tree: internal node -> bit (-1 leaf), NULL when > 64 */
    int32_t        **feats;     /* per tree: its distinct features, -1 terminated */
    /* trees whose splits are all XGBoost's (float)x < (float)t, NaN to the default child: the
     * internal nodes in bit order as flat arrays, for a branch-free pattern on float rows */
    int32_t        **lt_feat;   /* per tree, NULL when not such a tree */
    float          **lt_thr;
    uint8_t        **lt_dl;
    int32_t         *n_int;     /* per tree: internal nodes */
    cells_units    **units;     /* per tree: leaf-pattern units, NULL for the pattern path */
    size_t           u_int, u_slots, u_tsize;   /* largest n_int, slots, tsize of the units */
    int              pattern;   /* some tree goes by decision patterns */
    aud_shap_weights wts;
    float           *Xf;        /* this call's rows as floats (NaN kept), column-major, in
                                   perm order */
    size_t           xf_cap;    /* floats Xf holds: kept from call to call */
    int              rows_needed;   /* some tree reads rows as doubles (pattern path, splits
                                       other than float compares): aud_shap_cells_add_cols
                                       gathers them from the columns into xrows */
    double          *xrows;
    size_t           xrows_cap;
    uint32_t        *perm;      /* this call: position -> row, each block sorted by cell (stable) */
    size_t          *seg;       /* this call: positions where a run of one cell starts (n_seg + 1) */
    int32_t         *seg_cell;  /* the cell of each run (-1: rows skipped) */
    size_t          *blk_seg;   /* first run of each block */
    size_t           n_seg;
};

static void units_free(cells_units *U)
{
    if (U == NULL)
        return;
    aud_free(U->inode);
    aud_free(U->lt);
    aud_free(U->u);
    aud_free(U);
}

void aud_shap_cells_free(aud_shap_cells *c)
{
    if (c == NULL)
        return;
    for (size_t t = 0; c->bit != NULL && t < c->m->n_trees; t++) {
        aud_free(c->bit[t]);
        aud_free(c->feats[t]);
        aud_free(c->lt_feat[t]);
        aud_free(c->lt_thr[t]);
        aud_free(c->lt_dl[t]);
    }
    aud_free(c->bit);
    aud_free(c->feats);
    aud_free(c->lt_feat);
    aud_free(c->lt_thr);
    aud_free(c->lt_dl);
    aud_free(c->n_int);
    for (size_t t = 0; c->units != NULL && t < c->m->n_trees; t++)
        units_free(c->units[t]);
    aud_free(c->units);
    aud_free(c->Xf);
    aud_free(c->xrows);
    aud_free(c->perm);
    aud_free(c->seg);
    aud_free(c->seg_cell);
    aud_free(c->blk_seg);
    aud_shap_fast_free(c->fast);
    aud_shap_plan_free(c->plan);
    aud_free(c->sums);
    aud_free(c->counts);
    aud_free(c->part);
    aud_free(c);
}

/* Bits of the internal nodes and the distinct features of tree t. */
static int tree_index(aud_shap_cells *c, size_t t, uint8_t *seen)
{
    const aud_tree *tr = &c->m->trees[t];
    int32_t n_int = 0, n_f = 0;
    for (int32_t i = 0; i < tr->n_nodes; i++)
        n_int += tr->left[i] >= 0;
    c->feats[t] = aud_malloc(((size_t)n_int + 1) * sizeof **c->feats);
    if (c->feats[t] == NULL)
        return -1;
    for (int32_t i = 0; i < tr->n_nodes; i++) {
        int32_t f = tr->feature[i];
        if (tr->left[i] >= 0 && !seen[f]) {
            seen[f] = 1;
            c->feats[t][n_f++] = f;
        }
    }
    c->feats[t][n_f] = -1;
    for (int32_t k = 0; k < n_f; k++)
        seen[c->feats[t][k]] = 0;
    if (n_int > 64)
        return 0;   /* row by row */
    c->n_int[t] = n_int;
    c->bit[t] = aud_malloc((size_t)tr->n_nodes * sizeof **c->bit);
    if (c->bit[t] == NULL)
        return -1;
    int32_t b = 0, lt = 1;
    for (int32_t i = 0; i < tr->n_nodes; i++) {
        c->bit[t][i] = tr->left[i] >= 0 ? b++ : -1;
        lt &= tr->left[i] < 0 ||
              (tr->kind[i] == AUD_SPLIT_LT_F32 && tr->missing[i] == AUD_MISSING_NAN);
    }
    if (!lt || n_int > 32)
        return 0;
    size_t k = n_int ? (size_t)n_int : 1;
    c->lt_feat[t] = aud_malloc(k * sizeof **c->lt_feat);
    c->lt_thr[t] = aud_malloc(k * sizeof **c->lt_thr);
    c->lt_dl[t] = aud_malloc(k);
    if (c->lt_feat[t] == NULL || c->lt_thr[t] == NULL || c->lt_dl[t] == NULL)
        return -1;
    for (int32_t i = 0; i < tr->n_nodes; i++) {
        if (c->bit[t][i] < 0)
            continue;
        c->lt_feat[t][c->bit[t][i]] = tr->feature[i];
        c->lt_thr[t][c->bit[t][i]] = (float)tr->threshold[i];
        c->lt_dl[t][c->bit[t][i]] = tr->default_left[i] != 0;
    }
    return 0;
}

/* Ranks of the internal nodes (preorder) and n_in[node] = internal nodes under it; returns the
 * depth of the deepest leaf. */
static int32_t rank_walk(const aud_tree *tr, int32_t n, int32_t depth, int32_t *rank,
                         int32_t *n_in, cells_units *U)
{
    if (tr->left[n] < 0) {
        n_in[n] = 0;
        return depth;
    }
    rank[n] = U->n_int;
    U->inode[U->n_int++] = n;
    int32_t a = rank_walk(tr, tr->left[n], depth + 1, rank, n_in, U);
    int32_t b = rank_walk(tr, tr->right[n], depth + 1, rank, n_in, U);
    n_in[n] = 1 + n_in[tr->left[n]] + n_in[tr->right[n]];
    return a > b ? a : b;
}

static void unit_nodes(const aud_tree *tr, int32_t n, const int32_t *rank, cells_unit *u, int *b)
{
    if (tr->left[n] < 0)
        return;
    u->node[(*b)++] = rank[n];
    unit_nodes(tr, tr->left[n], rank, u, b);
    unit_nodes(tr, tr->right[n], rank, u, b);
}

/* The units under node n: n itself when it fits in UNIT_BITS, else its children's. */
static void unit_walk(cells_units *U, const aud_tree *tr, int32_t n, int32_t depth, int32_t *anc,
                      uint32_t anc_left, const int32_t *rank, const int32_t *n_in)
{
    if (depth + n_in[n] > UNIT_BITS) {   /* an internal node (the leaves fit) */
        anc[depth] = n;
        unit_walk(U, tr, tr->left[n], depth + 1, anc, anc_left | 1u << depth, rank, n_in);
        unit_walk(U, tr, tr->right[n], depth + 1, anc, anc_left, rank, n_in);
        return;
    }
    cells_unit *u = &U->u[U->n_units++];
    u->root = n;
    u->depth = depth;
    u->bits = depth + n_in[n];
    u->anc_left = anc_left;
    for (int32_t i = 0; i < depth; i++)
        u->node[i] = rank[anc[i]];
    int b = depth;
    unit_nodes(tr, n, rank, u, &b);
    u->nf = 0;
    for (int32_t i = 0; i < u->bits; i++) {
        int32_t f = tr->feature[U->inode[u->node[i]]], k = 0;
        while (k < u->nf && u->feat[k] != f)
            k++;
        if (k == u->nf)
            u->feat[u->nf++] = f;
    }
    u->off = U->slots;
    u->toff = U->tsize;
    U->slots += (size_t)1 << u->bits;
    U->tsize += ((size_t)1 << u->bits) * (size_t)u->nf;
}

/* The units of tree t (c->units[t] stays NULL when a leaf is deeper than UNIT_BITS or the tables
 * would pass their bounds). -1 when out of memory. */
static int tree_units(aud_shap_cells *c, size_t t)
{
    const aud_tree *tr = &c->m->trees[t];
    size_t nn = (size_t)tr->n_nodes;
    cells_units *U = aud_calloc(1, sizeof *U);
    int32_t *rank = aud_malloc(nn * sizeof *rank), *n_in = aud_malloc(nn * sizeof *n_in);
    int32_t anc[UNIT_BITS + 1];
    int rc = -1;
    if (U == NULL || rank == NULL || n_in == NULL)
        goto done;
    U->inode = aud_malloc(nn * sizeof *U->inode);
    U->lt = aud_malloc(nn);
    U->u = aud_malloc(nn * sizeof *U->u);
    if (U->inode == NULL || U->lt == NULL || U->u == NULL)
        goto done;
    rc = 0;
    int32_t max_depth = aud_shap_cells_unit_depth < UNIT_DEPTH ? aud_shap_cells_unit_depth
                                                               : UNIT_DEPTH;
    if (rank_walk(tr, 0, 0, rank, n_in, U) > max_depth)
        goto done;
    unit_walk(U, tr, 0, 0, anc, 0, rank, n_in);
    if (U->slots > UNIT_MAX_SLOTS || U->tsize > UNIT_MAX_TABLE)
        goto done;
    for (int32_t r = 0; r < U->n_int; r++) {
        int32_t n = U->inode[r];
        U->lt[r] = tr->kind[n] == AUD_SPLIT_LT_F32 && tr->missing[n] == AUD_MISSING_NAN;
    }
    c->units[t] = U;
    U = NULL;
    c->u_int = (size_t)c->units[t]->n_int > c->u_int ? (size_t)c->units[t]->n_int : c->u_int;
    c->u_slots = c->units[t]->slots > c->u_slots ? c->units[t]->slots : c->u_slots;
    c->u_tsize = c->units[t]->tsize > c->u_tsize ? c->units[t]->tsize : c->u_tsize;
done:
    units_free(U);
    aud_free(rank);
    aud_free(n_in);
    return rc;
}

int aud_shap_cells_new(aud_shap_cells **out, const aud_model *m, size_t n_cells, size_t n_w,
                       int threads, aud_error *err)
{
    *out = NULL;
    if (m->kind != AUD_MODEL_TREES || m->n_outputs != 1 || n_cells == 0 || n_w == 0)
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "per-cell TreeSHAP sums need a single-output tree model");
    aud_shap_cells *c = aud_calloc(1, sizeof *c);
    uint8_t *seen = aud_calloc(m->n_features + 1, 1);
    int rc = AUD_OK;
    if (c == NULL || seen == NULL) {
        aud_free(c);
        aud_free(seen);
        return aud_error_nomem(err);
    }
    c->m = m;
    c->M = m->n_features;
    c->n_cells = n_cells;
    c->n_w = n_w;
    c->threads = threads > 0 ? threads : 1;
    size_t per = n_w * n_cells;
    /* chunks of trees, summed in chunk order (the same at any thread count): up to MAX_CHUNKS
     * so that 16 threads get several each (one each left the longest chunk, 1.4x the mean,
     * setting the time), but none under KEY_TREES trees (their patterns are built together)
     * beyond the MIN_CHUNKS there always were, and fewer when their partial sums would pass
     * PART_BUDGET (many cells) */
    size_t each = per * (c->M ? c->M : 1) * sizeof(double);
    size_t nc = m->n_trees / KEY_TREES;   /* beyond MIN_CHUNKS, a whole group of trees each */
    if (nc > MAX_CHUNKS)
        nc = MAX_CHUNKS;
    if (nc > MIN_CHUNKS && each > 0 && nc > PART_BUDGET / each)
        nc = PART_BUDGET / each;
    if (nc < MIN_CHUNKS)
        nc = m->n_trees < MIN_CHUNKS ? (m->n_trees ? m->n_trees : 1) : MIN_CHUNKS;
    c->n_chunks = nc;
    c->sub = SUB_ROWS;
    c->sums = aud_calloc(per * (c->M + 1), sizeof *c->sums);
    c->counts = aud_calloc(n_cells, sizeof *c->counts);
    c->part = aud_calloc(c->n_chunks * per * (c->M ? c->M : 1), sizeof *c->part);
    c->bit = aud_calloc(m->n_trees + 1, sizeof *c->bit);
    c->feats = aud_calloc(m->n_trees + 1, sizeof *c->feats);
    c->lt_feat = aud_calloc(m->n_trees + 1, sizeof *c->lt_feat);
    c->lt_thr = aud_calloc(m->n_trees + 1, sizeof *c->lt_thr);
    c->lt_dl = aud_calloc(m->n_trees + 1, sizeof *c->lt_dl);
    c->n_int = aud_calloc(m->n_trees + 1, sizeof *c->n_int);
    c->units = aud_calloc(m->n_trees + 1, sizeof *c->units);
    if (c->sums == NULL || c->counts == NULL || c->part == NULL || c->bit == NULL ||
        c->feats == NULL || c->lt_feat == NULL || c->lt_thr == NULL || c->lt_dl == NULL ||
        c->n_int == NULL || c->units == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    rc = aud_shap_plan_new(&c->plan, m, err);
    if (rc == AUD_OK && !c->plan->has_cover)
        rc = aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                           "the model has no usable node covers, which method tree needs");
    int all_units = 1;
    for (size_t t = 0; rc == AUD_OK && t < m->n_trees; t++) {
        if (tree_index(c, t, seen) != 0 || tree_units(c, t) != 0)
            rc = aud_error_nomem(err);
        all_units &= c->units[t] != NULL;
    }
    c->pattern = !all_units;
    c->rows_needed = c->pattern;
    for (size_t t = 0; rc == AUD_OK && t < m->n_trees; t++) {
        const cells_units *U = c->units[t];
        for (int32_t r = 0; U != NULL && r < U->n_int; r++)
            c->rows_needed |= !U->lt[r];
    }
    aud_shap_path_weights(&c->wts);
    /* the pattern path's per-row values: tables only when some tree needs them */
    if (rc == AUD_OK)
        rc = aud_shap_fast_new_mt(&c->fast, c->plan, all_units ? 0 : AUD_SHAP_FAST_MAX_BYTES,
                                  c->threads, err);
    if (rc == AUD_OK) {
        double *row = aud_calloc(c->M + 1, sizeof *row);
        if (row == NULL) {
            rc = aud_error_nomem(err);
        } else {
            aud_shap_tree_bias(c->plan, row);
            c->bias = row[c->M];
            aud_free(row);
        }
    }
done:
    aud_free(seen);
    if (rc != AUD_OK) {
        aud_shap_cells_free(c);
        return rc;
    }
    *out = c;
    return AUD_OK;
}

size_t aud_shap_cells_unit_trees(const aud_shap_cells *c)
{
    size_t k = 0;
    for (size_t t = 0; t < c->m->n_trees; t++)
        k += c->units[t] != NULL;
    return k;
}

double aud_shap_cells_bias(const aud_shap_cells *c)
{
    return c->bias;
}

const double *aud_shap_cells_sums(const aud_shap_cells *c)
{
    return c->sums;
}

const uint64_t *aud_shap_cells_counts(const aud_shap_cells *c)
{
    return c->counts;
}

/* ---- one call: rows of X ------------------------------------------------------------------ */

typedef struct cells_job {
    aud_shap_cells *c;
    const double   *X;
    size_t          n;
    const int32_t  *cell;
    const double   *w;
} cells_job;

typedef struct cells_ws {
    void     *tree;      /* recursion workspace */
    void     *stack;     /* fast tables walk stack */
    double   *phi;       /* M + 1, kept zero between uses */
    uint64_t *key;       /* hash: pattern bits */
    int32_t  *slot;      /* hash: slot of the pattern */
    uint32_t *gen;       /* hash: generation that wrote the entry */
    uint32_t  cur;
    size_t    cap;       /* hash capacity (power of 2) */
    unsigned  shift;     /* 64 - log2(cap) */
    uint32_t *keys;      /* per row of the block: its pattern (trees with lt_feat) */
    int32_t  *dslot;     /* patterns of <= DIRECT_BITS bits: slot by pattern */
    uint32_t *dgen;
    size_t   *rep;       /* per slot: representative row (the first of the block) */
    double   *acc;       /* per slot: n_w x n_cells weights */
    size_t    acc_slots; /* slots allocated in acc */
    uint32_t *kcnt;      /* counting path: rows of the run per pattern (zero between runs) */
    uint32_t *kfirst;    /* counting path: first row of the run per pattern */
    uint32_t *touched;   /* counting path: patterns seen in the run */
    uint64_t *order;     /* slots by first row: row << SLOT_BITS | slot */
    /* units: */
    int32_t  *dec;       /* rank x UTILE: the row goes left at the node (-1) or not (0) */
    int32_t  *ukey;      /* UTILE: a unit's keys */
    uint32_t *ucnt;      /* 4 x slots: rows of the run per key, in 4 copies (no weights; zero
                            between runs) */
    double   *uacc;      /* n_w x slots: weights of the run per key (zero between runs) */
    double   *utab;      /* the tree's tables */
    /* a group of trees by units at once (trees_by_units): n_group copies of ucnt, uacc and utab,
     * the pointers above set to the group's tree in turn */
    size_t    n_group;
    uint32_t *ucnt0;
    double   *uacc0, *utab0;
    double   *tleaf;     /* one leaf's table: 2^UNIT_BITS x UNIT_BITS */
} cells_ws;

static void cells_ws_free(void *p)
{
    cells_ws *w = p;
    if (w == NULL)
        return;
    aud_free(w->tree);
    aud_free(w->stack);
    aud_free(w->phi);
    aud_free(w->key);
    aud_free(w->slot);
    aud_free(w->gen);
    aud_free(w->dslot);
    aud_free(w->keys);
    aud_free(w->dgen);
    aud_free(w->rep);
    aud_free(w->acc);
    aud_free(w->kcnt);
    aud_free(w->kfirst);
    aud_free(w->touched);
    aud_free(w->order);
    aud_free(w->dec);
    aud_free(w->ukey);
    aud_free(w->ucnt0);
    aud_free(w->uacc0);
    aud_free(w->utab0);
    aud_free(w->tleaf);
    aud_free(w);
}

static void *cells_ws_new(void *ctx)
{
    const cells_job *j = ctx;
    const aud_shap_cells *c = j->c;
    cells_ws *w = aud_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    /* the pattern path's buffers (~20 MiB) only when some tree goes that way */
    size_t sub = c->pattern ? c->sub : 1, nd = c->pattern ? (size_t)1 << DIRECT_BITS : 1;
    w->cap = 1;
    w->shift = 64;
    while (w->cap < 2 * sub) {
        w->cap <<= 1;
        w->shift--;
    }
    w->tree = aud_calloc(1, aud_shap_tree_ws_size(c->plan));
    w->stack = aud_calloc(1, aud_shap_fast_ws_size(c->plan));
    w->phi = aud_calloc(c->M + 1, sizeof *w->phi);
    w->key = aud_malloc(w->cap * sizeof *w->key);
    w->slot = aud_malloc(w->cap * sizeof *w->slot);
    w->gen = aud_calloc(w->cap, sizeof *w->gen);
    w->keys = aud_malloc(KEY_TREES * sub * sizeof *w->keys);
    w->dslot = aud_malloc(nd * sizeof *w->dslot);
    w->dgen = aud_calloc(nd, sizeof *w->dgen);
    w->rep = aud_malloc(sub * sizeof *w->rep);
    w->acc_slots = c->pattern ? SLOTS0 : 1;
    w->acc = aud_malloc(w->acc_slots * c->n_w * c->n_cells * sizeof *w->acc);
    w->kcnt = aud_calloc(nd, sizeof *w->kcnt);
    w->kfirst = aud_malloc(nd * sizeof *w->kfirst);
    w->touched = aud_malloc(nd * sizeof *w->touched);
    w->order = aud_malloc(sub * sizeof *w->order);
    w->dec = aud_malloc((c->u_int + 1) * UTILE * sizeof *w->dec);
    w->ukey = aud_malloc(UTILE * sizeof *w->ukey);
    /* trees of a chunk by units in groups (trees_by_units), as many as GROUP_BUDGET holds */
    size_t each = (4 * c->u_slots + 1) * sizeof *w->ucnt + (c->n_w * c->u_slots + 1) *
                  sizeof *w->uacc + (c->u_tsize + 1) * sizeof *w->utab;
    w->n_group = GROUP_BUDGET / each;
    w->n_group = w->n_group < 1 ? 1 : w->n_group > KEY_TREES ? KEY_TREES : w->n_group;
    if (aud_shap_cells_group_cap > 0 && w->n_group > (size_t)aud_shap_cells_group_cap)
        w->n_group = (size_t)aud_shap_cells_group_cap;
    w->ucnt = w->ucnt0 = aud_calloc(w->n_group * (4 * c->u_slots + 1), sizeof *w->ucnt);
    w->uacc = w->uacc0 = aud_calloc(w->n_group * (c->n_w * c->u_slots + 1), sizeof *w->uacc);
    w->utab = w->utab0 = aud_malloc(w->n_group * (c->u_tsize + 1) * sizeof *w->utab);
    w->tleaf = aud_malloc(((size_t)UNIT_DEPTH << UNIT_DEPTH) * sizeof *w->tleaf);
    if (w->dec == NULL || w->ukey == NULL || w->ucnt == NULL || w->uacc == NULL ||
        w->utab == NULL || w->tleaf == NULL) {
        cells_ws_free(w);
        return NULL;
    }
    if (w->tree == NULL || w->stack == NULL || w->phi == NULL || w->key == NULL ||
        w->slot == NULL || w->gen == NULL || w->dslot == NULL || w->dgen == NULL || w->keys == NULL ||
        w->rep == NULL || w->acc == NULL || w->kcnt == NULL || w->kfirst == NULL ||
        w->touched == NULL || w->order == NULL) {
        cells_ws_free(w);
        return NULL;
    }
    return w;
}

/* Add tree t's values of row x (into w->phi, zero outside the tree's features). */
static void tree_values(const aud_shap_cells *c, cells_ws *w, size_t t, const double *x)
{
    if (aud_shap_fast_has(c->fast, t))
        aud_shap_fast_tree(c->fast, t, x, w->phi, w->stack);
    else
        aud_shap_tree_one(c->plan, t, x, w->phi, w->tree, 0, -1);
}

/* Move w->phi (the tree's features) times the weights acc (n_w x n_cells) into part. */
static void spill(const aud_shap_cells *c, cells_ws *w, const int32_t *feats, const double *acc,
                  double *part)
{
    size_t per = c->n_w * c->n_cells, M = c->M;
    for (const int32_t *f = feats; *f >= 0; f++) {
        double v = w->phi[*f];
        w->phi[*f] = 0.0;
        if (v == 0.0)
            continue;
        for (size_t q = 0; q < per; q++) {
            if (acc[q] != 0.0)
                part[q * M + (size_t)*f] += acc[q] * v;
        }
    }
}

static double weight(const cells_job *j, size_t i, size_t k)
{
    return j->w == NULL ? 1.0 : j->w[i * j->c->n_w + k];
}

/* keys[i] |= (row i goes left at the node) << k for n rows of one feature column: left iff
 * v < th, or v is NaN and the default is left. W rows at a time with GCC/Clang vector
 * extensions (SSE2 on x86-64, NEON on ARM; 8 wide with AVX2 when the CPU has it), the rest one
 * by one. Every variant gives the same bits. */
#define NODE_BITS_BODY(W)                                                                      \
    typedef float vf __attribute__((vector_size(4 * (W))));                                   \
    typedef int32_t vi __attribute__((vector_size(4 * (W))));                                 \
    size_t i = 0;                                                                             \
    uint32_t bit = (uint32_t)1 << k;                                                          \
    vf vth;                                                                                   \
    vi vdl, vbit;                                                                             \
    for (int q = 0; q < (W); q++) {                                                           \
        vth[q] = th;                                                                          \
        vdl[q] = dl ? -1 : 0;                                                                 \
        vbit[q] = (int32_t)bit;                                                               \
    }                                                                                         \
    for (; i + (W) <= n; i += (W)) {                                                          \
        vf v;                                                                                 \
        vi kv;                                                                                \
        memcpy(&v, col + i, sizeof v);                                                        \
        memcpy(&kv, keys + i, sizeof kv);                                                     \
        vi left = (v < vth) | ((v != v) & vdl);                                               \
        kv |= left & vbit;                                                                    \
        memcpy(keys + i, &kv, sizeof kv);                                                     \
    }                                                                                         \
    for (; i < n; i++) {                                                                      \
        float v = col[i];                                                                     \
        keys[i] |= (uint32_t)((v < th) | ((v != v) & (dl != 0))) << k;                        \
    }

static void node_bits4(uint32_t *keys, const float *col, size_t n, float th, uint8_t dl,
                       int32_t k)
{
    NODE_BITS_BODY(4)
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void node_bits8(uint32_t *keys, const float *col,
                                                       size_t n, float th, uint8_t dl, int32_t k)
{
    NODE_BITS_BODY(8)
}
#endif

int aud_shap_cells_isa_cap = 0;
int aud_shap_cells_group_cap = 0;

/* The widest vector path this CPU runs (3: AVX-512, 2: AVX2, 1: the portable one), at most
 * aud_shap_cells_isa_cap when that is set (tests compare the paths): the units' decisions and
 * keys, and the branch-free trees' patterns (node_bits, 8 wide from AVX2 on). */
static int cells_isa(void)
{
    int isa = aud_cpu_isa();
    return aud_shap_cells_isa_cap > 0 && aud_shap_cells_isa_cap < isa ? aud_shap_cells_isa_cap
                                                                        : isa;
}

static void node_bits(uint32_t *keys, const float *col, size_t n, float th, uint8_t dl,
                      int32_t k, int isa)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa >= 2) {
        node_bits8(keys, col, n, th, dl, k);
        return;
    }
#endif
    (void)isa;
    node_bits4(keys, col, n, th, dl, k);
}

/* The patterns of the branch-free trees tg[0..ng) over rows [b0, b1) into keys (ng x
 * (b1 - b0)), tile by tile: a tile of the feature columns stays in cache for all the trees. */
static void group_keys(const cells_job *j, const size_t *tg, size_t ng, size_t b0, size_t b1,
                       uint32_t *keys)
{
    const aud_shap_cells *c = j->c;
    size_t n = b1 - b0;
    int isa = cells_isa();
    memset(keys, 0, ng * n * sizeof *keys);
    for (size_t q0 = b0; q0 < b1; q0 += KEY_TILE) {
        size_t q1 = b1 - q0 < KEY_TILE ? b1 : q0 + KEY_TILE;
        for (size_t g = 0; g < ng; g++) {
            size_t t = tg[g];
            for (int32_t k = 0; k < c->n_int[t]; k++)
                node_bits(keys + g * n + (q0 - b0), c->Xf + (size_t)c->lt_feat[t][k] * j->n + q0,
                          q1 - q0, c->lt_thr[t][k], c->lt_dl[t][k], k, isa);
        }
    }
}

/* The slot of pattern `key` (new: numbered n_slots, its accumulators zeroed); *fresh says which.
 * NULL when out of memory. */
static double *slot_of(const aud_shap_cells *c, cells_ws *w, uint64_t key, int direct,
                       size_t *n_slots, int32_t *slot)
{
    size_t per = c->n_w * c->n_cells;
    int fresh;
    if (direct) {
        fresh = w->dgen[key] != w->cur;
        if (fresh) {
            w->dgen[key] = w->cur;
            w->dslot[key] = (int32_t)*n_slots;
        }
        *slot = w->dslot[key];
    } else {
        size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> w->shift);   /* Fibonacci */
        while (w->gen[h] == w->cur && w->key[h] != key)
            h = (h + 1) & (w->cap - 1);
        fresh = w->gen[h] != w->cur;
        if (fresh) {
            w->gen[h] = w->cur;
            w->key[h] = key;
            w->slot[h] = (int32_t)*n_slots;
        }
        *slot = w->slot[h];
    }
    if (fresh) {
        if (*n_slots == w->acc_slots) {   /* more patterns: twice the accumulators */
            double *na = aud_realloc(w->acc, 2 * w->acc_slots * per * sizeof *na);
            if (na == NULL)
                return NULL;
            w->acc = na;
            w->acc_slots *= 2;
        }
        (*n_slots)++;
        w->rep[*slot] = SIZE_MAX;
        memset(w->acc + (size_t)*slot * per, 0, per * sizeof *w->acc);
    }
    return w->acc + (size_t)*slot * per;
}

/* Pattern of tree t for the row at position p (keys given for the branch-free trees). */
static inline uint64_t row_key(const cells_job *j, size_t t, size_t p, size_t b0, const uint32_t *keys)
{
    const aud_shap_cells *c = j->c;
    if (c->lt_feat[t] != NULL)
        return keys[p - b0];
    const aud_tree *tr = &c->m->trees[t];
    const int32_t *bit = c->bit[t];
    const double *x = j->X + (size_t)c->perm[p] * c->M;
    uint64_t key = 0;
    for (int32_t n = 0; n < tr->n_nodes; n++) {
        if (bit[n] >= 0 && aud_tree_go_left(tr, n, x[tr->feature[n]]))
            key |= (uint64_t)1 << bit[n];
    }
    return key;
}

#define SLOT_BITS 24   /* slots < c->sub = 2^18 */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Tree t over the rows at positions [b0, b1) by decision pattern. */
static int tree_patterns(const cells_job *j, cells_ws *w, size_t t, size_t b0, size_t b1,
                         const uint32_t *keys, double *part)
{
    const aud_shap_cells *c = j->c;
    size_t per = c->n_w * c->n_cells, M = c->M, n_slots = 0;
    if (++w->cur == 0) {   /* generation wrapped: clear */
        memset(w->gen, 0, w->cap * sizeof *w->gen);
        memset(w->dgen, 0, ((size_t)1 << DIRECT_BITS) * sizeof *w->dgen);
        w->cur = 1;
    }
    int direct = c->n_int[t] <= DIRECT_BITS;
    int counting = direct && j->w == NULL && c->n_w == 1;
    size_t blk = b0 / c->sub;
    for (size_t r = c->blk_seg[blk]; r < c->n_seg && c->seg[r] < b1; r++) {
        int32_t cl = c->seg_cell[r];
        size_t s0 = c->seg[r], s1 = c->seg[r + 1];
        if (cl < 0)
            continue;
        if (counting) {   /* the run's patterns counted, then added once each */
            size_t nt = 0;
            if (keys != NULL) {   /* branch-free trees: the patterns are there */
                const uint32_t *kp = keys - b0;
                for (size_t p = s0; p < s1; p++) {
                    uint32_t key = kp[p];
                    if (w->kcnt[key]++ == 0) {
                        w->touched[nt++] = key;
                        w->kfirst[key] = c->perm[p];   /* positions in a run: increasing rows */
                    }
                }
            } else {
                for (size_t p = s0; p < s1; p++) {
                    uint64_t key = row_key(j, t, p, b0, keys);
                    if (w->kcnt[key]++ == 0) {
                        w->touched[nt++] = (uint32_t)key;
                        w->kfirst[key] = c->perm[p];
                    }
                }
            }
            for (size_t q = 0; q < nt; q++) {
                uint32_t key = w->touched[q];
                int32_t s;
                double *a = slot_of(c, w, key, 1, &n_slots, &s);
                if (a == NULL)
                    return -1;
                a[cl] += (double)w->kcnt[key];
                w->kcnt[key] = 0;
                if (w->kfirst[key] < w->rep[s])
                    w->rep[s] = w->kfirst[key];
            }
            continue;
        }
        for (size_t p = s0; p < s1; p++) {
            size_t i = c->perm[p];
            int32_t s;
            double *a = slot_of(c, w, row_key(j, t, p, b0, keys), direct, &n_slots, &s);
            if (a == NULL)
                return -1;
            if (i < w->rep[s])
                w->rep[s] = i;
            for (size_t k = 0; k < c->n_w; k++)
                a[k * c->n_cells + (size_t)cl] += weight(j, i, k);
        }
    }
    /* the slots in the order of their first row, as reading the rows in order numbers them */
    for (size_t s = 0; s < n_slots; s++)
        w->order[s] = (uint64_t)w->rep[s] << SLOT_BITS | s;
    qsort(w->order, n_slots, sizeof *w->order, cmp_u64);
    for (size_t q = 0; q < n_slots; q++) {
        size_t s = (size_t)(w->order[q] & (((uint64_t)1 << SLOT_BITS) - 1));
        tree_values(c, w, t, j->X + w->rep[s] * M);
        spill(c, w, c->feats[t], w->acc + s * per, part);
    }
    return 0;
}

/* Tree t over rows [b0, b1) row by row (more than 64 internal nodes). */
static void tree_rows(const cells_job *j, cells_ws *w, size_t t, size_t b0, size_t b1,
                      double *part)
{
    const aud_shap_cells *c = j->c;
    size_t per = c->n_w * c->n_cells;
    double *acc = w->acc;   /* one slot */
    for (size_t i = b0; i < b1; i++) {
        int32_t cl = j->cell[i];
        if (cl < 0)
            continue;
        memset(acc, 0, per * sizeof *acc);
        for (size_t k = 0; k < c->n_w; k++)
            acc[k * c->n_cells + (size_t)cl] = weight(j, i, k);
        tree_values(c, w, t, j->X + i * c->M);
        spill(c, w, c->feats[t], acc, part);
    }
}

/* ---- units: counts of leaf patterns ------------------------------------------------------- */

typedef struct unit_build {
    const aud_shap_cells *c;
    cells_ws             *w;
    const aud_tree       *tr;
    const cells_unit     *u;
    double                scale;
    int32_t               pn[UNIT_BITS];   /* the path: nodes, */
    uint8_t               pl[UNIT_BITS];   /* goes left, */
    int32_t               pb[UNIT_BITS];   /* key bit */
} unit_build;

/* Add the leaf at the end of the path (D nodes) to the unit's table: for every key, the leaf's
 * agreement pattern (a feature agrees when the row follows every split of it on the path) picks
 * the row of the leaf's table. */
static void unit_leaf(unit_build *b, int32_t D, double v)
{
    const aud_tree *tr = b->tr;
    const cells_unit *u = b->u;
    int32_t f[UNIT_BITS], fs[UNIT_BITS];
    double z[UNIT_BITS];
    int pos[UNIT_BITS], d = 0;
    for (int32_t i = 0; i < D; i++) {   /* features and zero fractions as treeshap_fast.c */
        int32_t n = b->pn[i], ft = tr->feature[n], k = 0;
        while (k < d && f[k] != ft)
            k++;
        if (k == d) {
            f[d] = ft;
            z[d++] = 1.0;
        }
        pos[i] = k;
        z[k] = z[k] * (tr->cover[b->pl[i] ? tr->left[n] : tr->right[n]] / tr->cover[n]);
    }
    if (d == 0)
        return;
    for (int k = 0; k < d; k++) {
        fs[k] = 0;
        while (u->feat[fs[k]] != f[k])
            fs[k]++;
    }
    double *tl = b->w->tleaf;
    aud_shap_leaf_table(&b->c->wts, d, z, v, tl);
    uint32_t full = (1u << d) - 1u;
    for (uint32_t key = 0; key < (1u << u->bits); key++) {
        uint32_t A = full;
        for (int32_t i = 0; i < D; i++) {
            if (((key >> b->pb[i]) & 1u) != b->pl[i])
                A &= ~(1u << pos[i]);
        }
        double *T = b->w->utab + u->toff + (size_t)key * (size_t)u->nf;
        const double *L = tl + (size_t)A * (size_t)d;
        for (int k = 0; k < d; k++)
            T[fs[k]] += L[k];
    }
}

/* The leaves under node n (path of D nodes so far), key bits numbered in preorder as unit_nodes. */
static void unit_dfs(unit_build *b, int32_t n, int32_t D, int32_t *next)
{
    const aud_tree *tr = b->tr;
    if (tr->left[n] < 0) {
        unit_leaf(b, D, tr->value[n] * b->scale);
        return;
    }
    b->pn[D] = n;
    b->pb[D] = (*next)++;
    b->pl[D] = 1;
    unit_dfs(b, tr->left[n], D + 1, next);
    b->pl[D] = 0;
    unit_dfs(b, tr->right[n], D + 1, next);
}

/* Tree t's tables into w->utab. */
static void unit_tables(const aud_shap_cells *c, cells_ws *w, size_t t)
{
    const cells_units *U = c->units[t];
    unit_build b;
    b.c = c;
    b.w = w;
    b.tr = &c->m->trees[t];
    b.scale = c->plan->scale[t];
    memset(w->utab, 0, U->tsize * sizeof *w->utab);
    for (int32_t k = 0; k < U->n_units; k++) {
        const cells_unit *u = &U->u[k];
        b.u = u;
        for (int32_t i = 0; i < u->depth; i++) {
            b.pn[i] = U->inode[u->node[i]];
            b.pl[i] = (uint8_t)((u->anc_left >> i) & 1u);
            b.pb[i] = i;
        }
        int32_t next = u->depth;
        unit_dfs(&b, u->root, u->depth, &next);
    }
}

/* dec[i] = -1 when row i goes left at a (float)x < th node (NaN: dl), else 0, W rows at a time
 * (as node_bits). */
#define DEC_LT_BODY(W)                                                                         \
    typedef float vf __attribute__((vector_size(4 * (W))));                                   \
    typedef int32_t vi __attribute__((vector_size(4 * (W))));                                 \
    size_t i = 0;                                                                             \
    vf vth;                                                                                   \
    vi vdl;                                                                                   \
    for (int q = 0; q < (W); q++) {                                                           \
        vth[q] = th;                                                                          \
        vdl[q] = dl ? -1 : 0;                                                                 \
    }                                                                                         \
    for (; i + (W) <= n; i += (W)) {                                                          \
        vf v;                                                                                 \
        memcpy(&v, col + i, sizeof v);                                                        \
        vi left = (v < vth) | ((v != v) & vdl);                                               \
        memcpy(dec + i, &left, sizeof left);                                                  \
    }                                                                                         \
    for (; i < n; i++) {                                                                      \
        float v = col[i];                                                                     \
        dec[i] = -(int32_t)((v < th) | ((v != v) & (dl != 0)));                               \
    }

static void dec_lt4(int32_t *dec, const float *col, size_t n, float th, uint8_t dl)
{
    DEC_LT_BODY(4)
}

/* key[i] = the unit's key of row i: bit b set when dec row u->node[b] is -1, W rows at a time. */
#define UNIT_KEYS_BODY(W)                                                                      \
    typedef int32_t vi __attribute__((vector_size(4 * (W))));                                 \
    size_t i = 0;                                                                             \
    for (; i + (W) <= n; i += (W)) {                                                          \
        vi k = {0};                                                                           \
        for (int32_t b = 0; b < u->bits; b++) {                                               \
            vi d;                                                                             \
            memcpy(&d, dec + (size_t)u->node[b] * UTILE + i, sizeof d);                       \
            k |= d & (1 << b);                                                                \
        }                                                                                     \
        memcpy(key + i, &k, sizeof k);                                                        \
    }                                                                                         \
    for (; i < n; i++) {                                                                      \
        int32_t k = 0;                                                                        \
        for (int32_t b = 0; b < u->bits; b++)                                                 \
            k |= dec[(size_t)u->node[b] * UTILE + i] & (1 << b);                              \
        key[i] = k;                                                                           \
    }

static void unit_keys4(const cells_unit *u, const int32_t *dec, size_t n, int32_t *key)
{
    UNIT_KEYS_BODY(4)
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void dec_lt8(int32_t *dec, const float *col, size_t n,
                                                    float th, uint8_t dl)
{
    DEC_LT_BODY(8)
}

__attribute__((target("avx2"))) static void unit_keys8(const cells_unit *u, const int32_t *dec,
                                                       size_t n, int32_t *key)
{
    UNIT_KEYS_BODY(8)
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* AVX-512 (16 rows a step): a node's decisions are one 16-bit mask per 16 rows (the compare's
 * mask register), MASKS_PER_TILE of them per node in w->dec, and a unit's keys take one masked
 * OR per bit. The bits are the same as dec_lt's: v < th, or v is NaN and the default is left.
 * Rows of the last group past n get bits too (zeros loaded there), and keys past n are never
 * counted. */
enum { MASKS_PER_TILE = UTILE / 16 };

__attribute__((target("avx512f"))) static void dec_lt16(uint16_t *dm, const float *col,
                                                        size_t n, float th, uint8_t dl)
{
    __m512 vth = _mm512_set1_ps(th);
    size_t i = 0, g = 0;
    /* one compare a group: NaN to the left is !(v >= th) (unordered: true), else v < th */
    if (dl) {
        for (; i + 16 <= n; i += 16, g++)
            dm[g] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(col + i), vth, _CMP_NGE_UQ);
    } else {
        for (; i + 16 <= n; i += 16, g++)
            dm[g] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(col + i), vth, _CMP_LT_OQ);
    }
    if (i < n) {
        __mmask16 in = (__mmask16)((1u << (n - i)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(in, col + i);
        dm[g] = (uint16_t)(dl ? _mm512_cmp_ps_mask(v, vth, _CMP_NGE_UQ)
                              : _mm512_cmp_ps_mask(v, vth, _CMP_LT_OQ));
    }
}

__attribute__((target("avx512f"))) static void unit_keys16(const cells_unit *u,
                                                           const uint16_t *dm, size_t n,
                                                           int32_t *key)
{
    for (size_t i = 0, g = 0; i < n; i += 16, g++) {
        __m512i k = _mm512_setzero_si512();
        for (int32_t b = 0; b < u->bits; b++)
            k = _mm512_mask_or_epi32(k, (__mmask16)dm[(size_t)u->node[b] * MASKS_PER_TILE + g],
                                     k, _mm512_set1_epi32((int32_t)1 << b));
        _mm512_storeu_si512((void *)(key + i), k);
    }
}
#endif

static void unit_keys(const cells_unit *u, const int32_t *dec, size_t n, int32_t *key, int avx2)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (avx2) {
        unit_keys8(u, dec, n, key);
        return;
    }
#endif
    (void)avx2;
    unit_keys4(u, dec, n, key);
}

/* Decisions of the rows at positions [p0, p0 + n) at every internal node of tree t: per node
 * UTILE int32 (-1 left, 0 right), or with isa 3 MASKS_PER_TILE 16-bit masks. */
static void unit_dec(const cells_job *j, const cells_units *U, size_t t, size_t p0, size_t n,
                     int32_t *dec, int isa)
{
    const aud_shap_cells *c = j->c;
    const aud_tree *tr = &c->m->trees[t];
    for (int32_t r = 0; r < U->n_int; r++) {
        int32_t nd = U->inode[r], f = tr->feature[nd];
        int32_t *out = dec + (size_t)r * UTILE;
#if defined(__x86_64__) && defined(__GNUC__)
        uint16_t *dm = (uint16_t *)(void *)dec + (size_t)r * MASKS_PER_TILE;
#endif
        if (U->lt[r]) {
            const float *col = c->Xf + (size_t)f * j->n + p0;
            float th = (float)tr->threshold[nd];
            uint8_t dl = tr->default_left[nd] != 0;
#if defined(__x86_64__) && defined(__GNUC__)
            if (isa == 3) {
                dec_lt16(dm, col, n, th, dl);
                continue;
            }
            if (isa == 2) {
                dec_lt8(out, col, n, th, dl);
                continue;
            }
#endif
            dec_lt4(out, col, n, th, dl);
            continue;
        }
#if defined(__x86_64__) && defined(__GNUC__)
        if (isa == 3) {
            for (size_t i0 = 0, g = 0; i0 < n; i0 += 16, g++) {
                uint32_t m = 0;
                for (size_t i = i0; i < n && i < i0 + 16; i++)
                    m |= (uint32_t)aud_tree_go_left(
                             tr, nd, j->X[(size_t)c->perm[p0 + i] * c->M + (size_t)f])
                         << (i - i0);
                dm[g] = (uint16_t)m;
            }
            continue;
        }
#endif
        for (size_t i = 0; i < n; i++)
            out[i] = -aud_tree_go_left(tr, nd, j->X[(size_t)c->perm[p0 + i] * c->M + (size_t)f]);
    }
}

/* Add the run's counts (weights) times the tables into part (cell cl) and clear them. */
static void unit_spill(const aud_shap_cells *c, cells_ws *w, const cells_units *U, int weighted,
                       int32_t cl, double *part)
{
    size_t M = c->M;
    for (size_t k = 0; k < (weighted ? c->n_w : 1); k++) {
        double *pq = part + (k * c->n_cells + (size_t)cl) * M;
        for (int32_t q = 0; q < U->n_units; q++) {
            const cells_unit *u = &U->u[q];
            size_t ns = (size_t)1 << u->bits, nf = (size_t)u->nf;
            for (size_t s = 0; s < ns; s++) {
                double v;
                if (weighted) {
                    double *a = w->uacc + k * U->slots + u->off + s;
                    v = *a;
                    *a = 0.0;
                } else {
                    uint32_t *a = w->ucnt + u->off + s, *e = a + 3 * U->slots;
                    v = (double)(a[0] + a[U->slots] + a[2 * U->slots] + e[0]);
                    a[0] = a[U->slots] = a[2 * U->slots] = e[0] = 0;
                }
                if (v == 0.0)
                    continue;
                const double *T = w->utab + u->toff + s * nf;
                for (size_t f = 0; f < nf; f++)
                    pq[u->feat[f]] += v * T[f];
            }
        }
    }
}

/* Point w's counts, weights and tables at those of tree g of a group. */
static void group_tree(const aud_shap_cells *c, cells_ws *w, size_t g)
{
    w->ucnt = w->ucnt0 + g * (4 * c->u_slots + 1);
    w->uacc = w->uacc0 + g * (c->n_w * c->u_slots + 1);
    w->utab = w->utab0 + g * (c->u_tsize + 1);
}

/* Trees ts[0 .. ng) over all rows of the call by units: per run of a cell, per tile of rows, each
 * tree's decisions, then per unit the keys and their counts; the run's counts times the tables at
 * its end, tree by tree. The trees of a group share each tile of rows while it is in the cache
 * (each tree over all rows in turn read the call's rows, megabytes, once per tree). The sums
 * are added as one tree at a time would add them when each cell has one run (cells_run groups
 * only then): cell by cell, the trees in order. */
static void trees_by_units(const cells_job *j, cells_ws *w, const size_t *ts, size_t ng,
                           double *part)
{
    const aud_shap_cells *c = j->c;
    int weighted = !(j->w == NULL && c->n_w == 1), isa = cells_isa();
    for (size_t g = 0; g < ng; g++) {
        group_tree(c, w, g);
        unit_tables(c, w, ts[g]);
    }
    for (size_t r = 0; r < c->n_seg; r++) {
        int32_t cl = c->seg_cell[r];
        if (cl < 0)
            continue;
        for (size_t p0 = c->seg[r]; p0 < c->seg[r + 1]; p0 += UTILE) {
            size_t n = c->seg[r + 1] - p0 < UTILE ? c->seg[r + 1] - p0 : UTILE;
            for (size_t g = 0; g < ng; g++) {
                const cells_units *U = c->units[ts[g]];
                group_tree(c, w, g);
                unit_dec(j, U, ts[g], p0, n, w->dec, isa);
                for (int32_t q = 0; q < U->n_units; q++) {
                    const cells_unit *u = &U->u[q];
#if defined(__x86_64__) && defined(__GNUC__)
                    if (isa == 3)
                        unit_keys16(u, (const uint16_t *)(const void *)w->dec, n, w->ukey);
                    else
#endif
                        unit_keys(u, w->dec, n, w->ukey, isa == 2);
                    if (!weighted) {   /* 4 copies: a run of equal keys is not one chain */
                        uint32_t *c0 = w->ucnt + u->off, *c1 = c0 + U->slots,
                                 *c2 = c1 + U->slots, *c3 = c2 + U->slots;
                        const int32_t *key = w->ukey;
                        size_t i = 0;
                        for (; i + 4 <= n; i += 4) {
                            c0[key[i]]++;
                            c1[key[i + 1]]++;
                            c2[key[i + 2]]++;
                            c3[key[i + 3]]++;
                        }
                        for (; i < n; i++)
                            c0[key[i]]++;
                        continue;
                    }
                    for (size_t i = 0; i < n; i++) {
                        size_t row = c->perm[p0 + i];
                        for (size_t k = 0; k < c->n_w; k++)
                            w->uacc[k * U->slots + u->off + w->ukey[i]] += weight(j, row, k);
                    }
                }
            }
        }
        for (size_t g = 0; g < ng; g++) {
            group_tree(c, w, g);
            unit_spill(c, w, c->units[ts[g]], weighted, cl, part);
        }
    }
}

static int cells_run(void *ctx, void *wsp, size_t begin, size_t end, aud_error *err)
{
    const cells_job *j = ctx;
    aud_shap_cells *c = j->c;
    cells_ws *w = wsp;
    size_t nt = c->m->n_trees, per = c->n_w * c->n_cells, M = c->M;
    for (size_t ch = begin; ch < end; ch++) {
        double *part = c->part + ch * per * M;
        size_t t0 = nt * ch / c->n_chunks, t1 = nt * (ch + 1) / c->n_chunks;
        /* the trees by units in groups of w->n_group, or one by one where a cell has several
         * runs (more rows than one block): the order of the sums stays one tree's at a time */
        size_t ts[KEY_TREES], nu = 0, gmax = c->n_seg > 0 && j->n <= c->sub ? w->n_group : 1;
        for (size_t t = t0; t < t1; t++) {
            if (c->units[t] != NULL)
                ts[nu++] = t;
            if (nu > 0 && (nu == gmax || t + 1 == t1)) {
                trees_by_units(j, w, ts, nu, part);
                nu = 0;
            }
        }
        for (size_t b0 = 0; b0 < j->n; b0 += c->sub) {
            size_t b1 = j->n - b0 < c->sub ? j->n : b0 + c->sub;
            for (size_t g0 = t0; g0 < t1; g0 += KEY_TREES) {
                size_t g1 = t1 - g0 < KEY_TREES ? t1 : g0 + KEY_TREES, tg[KEY_TREES], ng = 0;
                for (size_t t = g0; t < g1; t++) {
                    if (c->lt_feat[t] != NULL && c->units[t] == NULL)
                        tg[ng++] = t;
                }
                group_keys(j, tg, ng, b0, b1, w->keys);
                size_t gi = 0;
                for (size_t t = g0; t < g1; t++) {
                    const uint32_t *keys = NULL;
                    if (c->units[t] != NULL)
                        continue;
                    if (c->lt_feat[t] != NULL)
                        keys = w->keys + (gi++) * (b1 - b0);
                    if (c->bit[t] == NULL)
                        tree_rows(j, w, t, b0, b1, part);
                    else if (tree_patterns(j, w, t, b0, b1, keys, part) != 0)
                        return aud_error_nomem(err);
                }
            }
        }
    }
    return AUD_OK;
}

/* c->perm: each block of c->sub rows sorted by cell (stable counting sort; skipped rows last),
 * and the runs of one cell (c->seg, c->seg_cell, c->blk_seg). -1 when out of memory. */
static int sort_by_cell(aud_shap_cells *c, size_t n, const int32_t *cell)
{
    size_t nb = (n + c->sub - 1) / c->sub, nc = c->n_cells + 1;   /* bucket 0: skipped */
    size_t max_seg = nb * nc + 1;
    aud_free(c->perm);
    aud_free(c->seg);
    aud_free(c->seg_cell);
    aud_free(c->blk_seg);
    c->perm = aud_malloc((n ? n : 1) * sizeof *c->perm);
    c->seg = aud_malloc((max_seg + 1) * sizeof *c->seg);
    c->seg_cell = aud_malloc(max_seg * sizeof *c->seg_cell);
    c->blk_seg = aud_malloc((nb + 1) * sizeof *c->blk_seg);
    size_t *off = aud_malloc((nc + 1) * sizeof *off);
    if (c->perm == NULL || c->seg == NULL || c->seg_cell == NULL || c->blk_seg == NULL ||
        off == NULL) {
        aud_free(off);
        return -1;
    }
    c->n_seg = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t b0 = b * c->sub, b1 = n - b0 < c->sub ? n : b0 + c->sub;
        memset(off, 0, (nc + 1) * sizeof *off);
        for (size_t i = b0; i < b1; i++)
            off[(size_t)(cell[i] < 0 ? 0 : cell[i] + 1) + 1]++;
        /* cells in order, the skipped rows after them */
        size_t pos = b0;
        c->blk_seg[b] = c->n_seg;
        for (size_t k = 1; k <= nc; k++) {
            size_t q = k < nc ? k : 0, cnt = off[q + 1];
            if (cnt == 0)
                continue;
            c->seg[c->n_seg] = pos;
            c->seg_cell[c->n_seg++] = q == 0 ? -1 : (int32_t)(q - 1);
            off[q + 1] = pos;   /* now: next free position of bucket q */
            pos += cnt;
        }
        for (size_t i = b0; i < b1; i++) {
            size_t q = (size_t)(cell[i] < 0 ? 0 : cell[i] + 1);
            c->perm[off[q + 1]++] = (uint32_t)i;
        }
    }
    c->seg[c->n_seg] = n;
    c->blk_seg[nb] = c->n_seg;
    aud_free(off);
    return 0;
}

/* Rows [b, e) of the call's positions into Xf (a chunk of the transpose, one job each), from
 * the rows X or the columns col. */
typedef struct xf_chunk {
    const aud_shap_cells *c;
    const double         *X;
    const double *const  *col;
    size_t                n, b, e;
} xf_chunk;

static void *xf_main(void *arg)
{
    const xf_chunk *k = arg;
    const aud_shap_cells *c = k->c;
    size_t M = c->M;
    if (k->X == NULL) {   /* a column at a time: Xf written in order, each column read in
                             runs of increasing rows (one per cell) */
        for (size_t f = 0; f < M; f++) {
            const double *col = k->col[f];
            float *o = c->Xf + f * k->n;
            for (size_t p = k->b; p < k->e; p++)
                o[p] = (float)col[c->perm[p]];
        }
        return NULL;
    }
    for (size_t p = k->b; p < k->e; p++) {   /* column-major: a node's test streams over rows */
        const double *x = k->X + (size_t)c->perm[p] * M;
        for (size_t f = 0; f < M; f++)
            c->Xf[f * k->n + p] = (float)x[f];
    }
    return NULL;
}

/* Rows [b, e) of the columns into the row-major xrows (aud_shap_cells_add_cols). */
typedef struct rows_chunk {
    const aud_shap_cells *c;
    const double *const  *col;
    size_t                b, e;
} rows_chunk;

static void *rows_main(void *arg)
{
    const rows_chunk *k = arg;
    size_t M = k->c->M;
    for (size_t f = 0; f < M; f++) {
        const double *col = k->col[f];
        double *o = k->c->xrows + f;
        for (size_t i = k->b; i < k->e; i++)
            o[i * M] = col[i];
    }
    return NULL;
}

static int cells_add(aud_shap_cells *c, const double *X, const double *const *col, size_t n,
                     const int32_t *cell, const double *w, aud_error *err)
{
    size_t per = c->n_w * c->n_cells, M = c->M;
    if (n > UINT32_MAX)
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "more than %lu rows in one call", (unsigned long)UINT32_MAX);
    memset(c->part, 0, c->n_chunks * per * (M ? M : 1) * sizeof *c->part);
    if (n * M + 1 > c->xf_cap) {   /* kept between calls: not mapped afresh every block */
        aud_free(c->Xf);
        c->Xf = aud_malloc((n * M + 1) * sizeof *c->Xf);
        c->xf_cap = c->Xf != NULL ? n * M + 1 : 0;
    }
    if (c->Xf == NULL || sort_by_cell(c, n, cell) != 0)
        return aud_error_nomem(err);
    /* the transpose in row chunks on the threads (it was a serial 9 ms per block of 262,144
     * rows x 10 features: 36 of the 100 ms of serial time in audit run's drivers at 1M rows) */
    xf_chunk xc[AUD_MAX_CHUNKS];
    size_t n_xc = aud_row_chunks(n, c->threads);
    for (size_t q = 0; q < n_xc; q++)
        xc[q] = (xf_chunk){c, X, col, n, n * q / n_xc, n * (q + 1) / n_xc};
    aud_run_jobs(xc, n_xc, sizeof xc[0], xf_main);
    cells_job j = {c, X, n, cell, w};
    aud_units par = {cells_ws_new, cells_ws_free, cells_run, &j, 1, NULL, NULL};
    int rc = aud_run_units(&par, c->n_chunks, c->threads, err);
    if (rc != AUD_OK)
        return rc;
    for (size_t ch = 0; ch < c->n_chunks; ch++) {
        const double *part = c->part + ch * per * M;
        for (size_t q = 0; q < per; q++) {
            for (size_t f = 0; f < M; f++)
                c->sums[q * (M + 1) + f] += part[q * M + f];
        }
    }
    for (size_t i = 0; i < n; i++) {   /* counts and the bias column */
        int32_t cl = cell[i];
        if (cl < 0)
            continue;
        c->counts[cl]++;
        for (size_t k = 0; k < c->n_w; k++)
            c->sums[(k * c->n_cells + (size_t)cl) * (M + 1) + M] += weight(&j, i, k) * c->bias;
    }
    return AUD_OK;
}

int aud_shap_cells_add(aud_shap_cells *c, const double *X, size_t n, const int32_t *cell,
                       const double *w, aud_error *err)
{
    return cells_add(c, X, NULL, n, cell, w, err);
}

int aud_shap_cells_add_cols(aud_shap_cells *c, const double *const *col, size_t n,
                            const int32_t *cell, const double *w, aud_error *err)
{
    if (!c->rows_needed)   /* every tree reads the float columns only */
        return cells_add(c, NULL, col, n, cell, w, err);
    size_t M = c->M;
    if (n * M + 1 > c->xrows_cap) {
        aud_free(c->xrows);
        c->xrows = aud_malloc((n * M + 1) * sizeof *c->xrows);
        c->xrows_cap = c->xrows != NULL ? n * M + 1 : 0;
        if (c->xrows == NULL)
            return aud_error_nomem(err);
    }
    rows_chunk rk[AUD_MAX_CHUNKS];
    size_t k = aud_row_chunks(n, c->threads);
    for (size_t q = 0; q < k; q++)
        rk[q] = (rows_chunk){c, col, n * q / k, n * (q + 1) / k};
    aud_run_jobs(rk, k, sizeof rk[0], rows_main);
    return cells_add(c, c->xrows, NULL, n, cell, w, err);
}
