/* shap_int.h - internals shared by the explainers (not part of the public API). */
#ifndef AUD_SHAP_INT_H
#define AUD_SHAP_INT_H

#include <math.h>
#include <stdint.h>

#include "explainers/shap.h"
#include "models/model_int.h"

/* Does row value x at internal node n of tree t go to the left child? The model's own rule
 * (model.h), so explanations and predictions can never disagree about a path. */
static inline __attribute__((always_inline)) int aud_shap_go_left(const aud_tree *t, int32_t n,
                                                                   double x)
{
    return aud_tree_go_left(t, n, x);
}

/* Read-only facts about a tree model, computed once and shared by all threads. */
typedef struct aud_shap_plan {
    const aud_model *model;
    int32_t  max_depth;         /* longest root-to-leaf path (edges) over all trees */
    int32_t  max_nodes;         /* nodes of the largest tree */
    int32_t *depth;             /* per tree */
    double  *expected;          /* per tree: cover-weighted mean leaf value (times scale) */
    double  *scale;             /* per tree: 1, or 1 / trees of its output when averaging */
    int      has_cover;         /* every tree has usable covers */
    /* Path-dependent algorithm of each tree (aud_shap_tree_one): lin_q[t] > 0 = Linear TreeSHAP
     * (treeshap_linear.c) with that many Gauss points, 0 = the recursion (treeshap.c). Chosen
     * by AUD_SHAP_LIN_MIN_DEPTH below; tests may overwrite it to compare the two. */
    int32_t *lin_q;
    int32_t *players;           /* per tree: most unique features on a root-to-leaf path */
    int32_t  max_q;             /* largest lin_q */
    double  *gl_t, *gl_w;       /* Gauss-Legendre nodes / weights on [0, 1]: row q, q used */
} aud_shap_plan;

/* Trees at least this deep use Linear TreeSHAP (when not tabulated by treeshap_fast.c) if their
 * paths hold at most 2 * AUD_SHAP_LIN_MAX_Q unique features, else the recursion. Measured on one
 * core (100 XGBoost trees, 20 features), linear vs recursion: 3.6x at depth 4, 4.4x at 6, 4.8x
 * at 8, 5.3x at 12, 6.0x at 16 - so every depth. */
#define AUD_SHAP_LIN_MIN_DEPTH 1
#define AUD_SHAP_LIN_MAX_Q 64

int  aud_shap_plan_new(aud_shap_plan **out, const aud_model *m, aud_error *err);
void aud_shap_plan_free(aud_shap_plan *p);

/* Row-parallel runs: aud_run_units (core/aud.h), one workspace per thread. */

/* Path-dependent TreeSHAP of one row (raw margin): adds to phi (n_outputs x (M+1)), bias included.
 * ws holds aud_shap_tree_ws_size(plan) zeroed bytes. cond/cond_feature: interaction
 * conditioning (0 = none, +1 feature present, -1 absent); the bias is added only when cond == 0. */
size_t aud_shap_tree_ws_size(const aud_shap_plan *plan);
void   aud_shap_tree_row(const aud_shap_plan *plan, const double *x, double *phi, void *ws,
                         int cond, int32_t cond_feature);

/* Linear TreeSHAP of tree t (same contract as aud_shap_tree_one, plan->lin_q[t] > 0). ws:
 * aud_shap_lin_ws_size() zeroed bytes, 8-aligned, one per thread (it keeps its layout). */
typedef struct aud_shap_lin_ws aud_shap_lin_ws;
size_t aud_shap_lin_ws_size(const aud_shap_plan *plan);
void   aud_shap_lin_tree(const aud_shap_plan *plan, size_t t, const double *x, double *phi,
                         void *ws, int cond, int32_t cond_feature);
/* q Gauss-Legendre nodes t and weights w on [0, 1] */
void   aud_shap_gauss_legendre(int q, double *t, double *w);

/* The same for tree t alone (no bias), and the bias of every tree plus the base margin. */
void   aud_shap_tree_one(const aud_shap_plan *plan, size_t t, const double *x, double *phi,
                         void *ws, int cond, int32_t cond_feature);
void   aud_shap_tree_bias(const aud_shap_plan *plan, double *phi);

/* Precomputed path-dependent TreeSHAP (treeshap_fast.c): per leaf and per pattern of which path
 * features x agrees with, the contribution to each path feature. Read-only, shared by threads. */
#define AUD_SHAP_FAST_MAX_PATH 8                     /* unique features on a root-leaf path */
/* Trees with more players on a path go to Linear TreeSHAP: at 7 or 8 the 2^d x d tables per leaf
 * (16 KiB at d = 8) cost more memory than their walk saves (bench_shap.py depth sweep). */
#define AUD_SHAP_FAST_TABLE_PLAYERS 6
#define AUD_SHAP_FAST_MAX_BYTES ((size_t)256 << 20)  /* memory for all tables */
/* Work to build all tables (about one multiply-add per unit; 2e8 is ~0.2 s): bounds the set-up
 * time of a one-row explanation of a huge deep model. Trees past it use the recursion. The
 * choice depends on the model only, never on the rows or threads. */
#define AUD_SHAP_FAST_MAX_WORK 2e8
typedef struct aud_shap_fast aud_shap_fast;
int  aud_shap_fast_new(aud_shap_fast **out, const aud_shap_plan *plan, size_t max_bytes,
                       aud_error *err);
/* The same, the tables built on up to `threads` threads (identical for any thread count). */
int  aud_shap_fast_new_mt(aud_shap_fast **out, const aud_shap_plan *plan, size_t max_bytes,
                          int threads, aud_error *err);
void aud_shap_fast_free(aud_shap_fast *f);
/* 1 when tree t has tables (else use aud_shap_tree_one). */
int  aud_shap_fast_has(const aud_shap_fast *f, size_t t);
/* Add tree t's contributions for row x to phi (full row stride). stack: aud_shap_fast_ws_size()
 * bytes. */
size_t aud_shap_fast_ws_size(const aud_shap_plan *plan);
void aud_shap_fast_tree(const aud_shap_fast *f, size_t t, const double *x, double *phi,
                        void *stack);

/* One leaf's table on its own (shap_cells.c): w from aud_shap_path_weights; the leaf has value v
 * (times the tree's scale) and d <= AUD_SHAP_FAST_MAX_PATH unique path features with zero
 * fractions z[0..d) (in their order of first appearance from the root); T[A * d + k] (2^d x d)
 * gets the contribution to the k-th feature of a row that agrees with the features in bit set A. */
typedef struct aud_shap_weights {
    double w[AUD_SHAP_FAST_MAX_PATH + 1][AUD_SHAP_FAST_MAX_PATH + 1];   /* m! (d-m-1)! / d! */
} aud_shap_weights;
void aud_shap_path_weights(aud_shap_weights *w);
void aud_shap_leaf_table(const aud_shap_weights *w, int d, const double *z, double v, double *T);

/* Trees of c whose sums go by units (counts of leaf patterns, shap_cells.c); the others go by
 * decision patterns (for the tests). */
size_t aud_shap_cells_unit_trees(const aud_shap_cells *c);
/* Trees deeper than this go by decision patterns (8, the most; tests lower it to reach the
 * pattern path with shallow trees). */
extern int aud_shap_cells_unit_depth;

/* Tree t's main effects (into phi, full row stride) and off-diagonal interaction values (into
 * inter, n_outputs x (M+1) x (M+1)) for row x. The diagonal is left to the caller. */
void aud_shap_fast_inter_tree(const aud_shap_fast *f, size_t t, const double *x, double *phi,
                              double *inter, void *stack);

/* Interventional TreeSHAP of one row against n_bg background rows: writes phi (n_outputs x
 * (M+1)), the bias being the mean model margin over the background. */
void *aud_shap_interv_ws_new(const aud_shap_plan *plan);
void  aud_shap_interv_ws_free(void *ws);
void  aud_shap_interv_row(const aud_shap_plan *plan, const double *bg, size_t n_bg,
                          const double *x, double *phi, void *ws);

/* Value function "model output with the features outside S taken from background rows":
 * v(S) = mean_b f(x_S, z_b,~S), f = margin or linked output. One per thread. */
typedef struct aud_shap_masked {
    const aud_model *model;
    const double    *bg;
    size_t           n_bg;
    int              prob;       /* apply the link */
    const double    *x;          /* the row being explained (set per row) */
    double          *row;        /* scratch: n_features */
    double          *out;        /* scratch: n_outputs */
} aud_shap_masked;
int  aud_shap_masked_init(aud_shap_masked *g, const aud_model *m, const double *bg, size_t n_bg,
                          int prob);
void aud_shap_masked_free(aud_shap_masked *g);
/* aud_shap_game value callback over an aud_shap_masked context */
int  aud_shap_masked_value(void *ctx, const uint64_t *masks, size_t n, double *out);

/* Exact Shapley values with a caller-provided buffer of aud_shap_exact_buf_size() doubles
 * (no allocation; n_players <= AUD_SHAP_EXACT_MAX_FEATURES). Returns the game's status. */
size_t aud_shap_exact_buf_size(size_t n_players, size_t n_outputs);
int    aud_shap_exact_game_buf(const aud_shap_game *g, double *buf, double *phi);

/* Linear SHAP of one row: phi_kj = w_kj (x_j - mean_j), bias_k = base_k + sum_j w_kj mean_j. */
void aud_shap_linear_row(const aud_model *m, const double *mean, const double *x, double *phi);
/* The background's mean per feature (mean: n_features values), summed in row order. */
void aud_shap_linear_mean(const double *bg, size_t n_bg, size_t n_features, double *mean);

/* The same value function for a tree ensemble, all background rows at once
 * (shap_bgtree.c). aud_shap_bgtree_new sets *out = NULL when the bit sets would need more than
 * max_bytes; the caller then uses aud_shap_masked. */
#define AUD_SHAP_BGTREE_MAX_BYTES ((size_t)256 << 20)
typedef struct aud_shap_bgtree aud_shap_bgtree;
int  aud_shap_bgtree_new(aud_shap_bgtree **out, const aud_shap_plan *plan, const double *bg,
                         size_t n_bg, size_t max_bytes, aud_error *err);
void aud_shap_bgtree_free(aud_shap_bgtree *g);
typedef struct aud_shap_bgtree_game {   /* per thread */
    const aud_shap_bgtree *g;
    uint8_t  *xdir;          /* per node: the explained row goes left */
    int32_t  *node;          /* walk stack */
    uint64_t *sets;          /* walk stack of row sets */
    double   *acc;
    int       prob;          /* explain the linked output: margins per background row */
    double   *marg;          /* prob: n_bg x n_outputs */
} aud_shap_bgtree_game;
int  aud_shap_bgtree_game_init(aud_shap_bgtree_game *s, const aud_shap_bgtree *g, int prob);
void aud_shap_bgtree_game_free(aud_shap_bgtree_game *s);
void aud_shap_bgtree_set_row(aud_shap_bgtree_game *s, const double *x);
int  aud_shap_bgtree_value(void *ctx, const uint64_t *masks, size_t n, double *out);

/* KernelSHAP design: coalitions and the WLS projection, shared read-only by all rows. */
typedef struct aud_kernel_design {
    size_t    M;
    size_t    n_coal;        /* coalitions besides the empty and the full one */
    uint64_t *masks;         /* n_coal */
    double   *weight;        /* n_coal: Shapley kernel weight (counts merged) */
    double   *P;             /* (M - 1) x n_coal: beta = P y */
    int       complete;      /* every coalition enumerated */
} aud_kernel_design;
int  aud_kernel_design_new(aud_kernel_design **out, size_t M, size_t n_samples, uint64_t seed,
                           aud_error *err);
void aud_kernel_design_free(aud_kernel_design *d);
/* Shapley values of one row from the coalition values: vals[c * K + k] for the n_coal
 * coalitions, v0 / v1 = values of the empty / full coalition (K each). phi: K x (M + 1). */
void aud_kernel_solve(const aud_kernel_design *d, size_t K, const double *vals, const double *v0,
                      const double *v1, double *phi);

/* Kernel or exact Shapley values of a model behind a command (shap_cmd.c): fills r->phi and r->fx
 * of the n_rows rows of X (method resolved; opts checked by aud_shap_check). */
int aud_shap_explain_cmd(aud_shap_result *r, const aud_model *m, const double *X, size_t n_rows,
                         const aud_shap_opts *o, aud_shap_method method, aud_error *err);

/* Caps the vector path of the drivers' cells (explainers/shap_cells.c): 0 takes the widest this
 * CPU runs, 1 the portable one, 2 AVX2, 3 AVX-512. For tests, which compare the paths. */
AUD_API extern int aud_shap_cells_isa_cap;
/* Trees by units taken together on a tile of rows (explainers/shap_cells.c trees_by_units): at
 * most this many when set (tests compare 1 with the default; the sums are the same bits). */
AUD_API extern int aud_shap_cells_group_cap;

#endif
