/* shap.h - SHAP explainers over an aud_model (SPEC section 3 "Explanations").
 *
 * Methods (each file cites its paper):
 *   tree                 path-dependent TreeSHAP, Lundberg, Erion, Lee 2018 (arXiv:1802.03888),
 *                        Algorithm 2; interaction values, Lundberg et al. 2020 (Nature MI 2:56)
 *   tree-interventional  interventional TreeSHAP against a background sample (Lundberg et al. 2020)
 *   linear               phi_j = w_j (x_j - E[x_j]) on the margin
 *   kernel               KernelSHAP, Lundberg & Lee 2017 (NIPS), WLS with the efficiency constraint
 *   exact                brute-force Shapley values over every coalition (<= AUD_SHAP_EXACT_MAX_FEATURES)
 *
 * Rows are dense row-major double matrices in model feature order (NaN = missing).
 * Attributions are laid out per row as n_outputs blocks of (n_features + 1) values: the feature
 * contributions in model order, then the bias (expected value), exactly like XGBoost's
 * pred_contribs / LightGBM's pred_contrib. Results never depend on the thread count. */
#ifndef AUD_SHAP_H
#define AUD_SHAP_H

#include <stdint.h>

#include "core/aud.h"
#include "models/model_api.h"

#define AUD_SHAP_EXACT_MAX_FEATURES 20
#define AUD_SHAP_DEFAULT_BACKGROUND 100

typedef enum aud_shap_method {
    AUD_SHAP_AUTO = 0,          /* tree for tree models, linear for linear ones */
    AUD_SHAP_TREE = 1,
    AUD_SHAP_TREE_INTERVENTIONAL = 2,
    AUD_SHAP_LINEAR = 3,
    AUD_SHAP_KERNEL = 4,
    AUD_SHAP_EXACT = 5
} aud_shap_method;

/* "tree", "tree-interventional", ...; "auto" for AUD_SHAP_AUTO. */
AUD_API const char *aud_shap_method_name(aud_shap_method m);
/* Parse a method name; returns 0 and sets *out, or -1 for an unknown name. */
AUD_API int aud_shap_method_parse(const char *name, aud_shap_method *out);
/* The method `auto` resolves to for model m. */
AUD_API aud_shap_method aud_shap_method_resolve(aud_shap_method m, const aud_model *model);
/* 1 when the method explains against a background sample (tree-interventional, linear, kernel,
 * exact), 0 for tree (training cover). */
AUD_API int aud_shap_method_uses_background(aud_shap_method m);

typedef enum aud_shap_output {
    AUD_SHAP_OUTPUT_RAW = 0,          /* raw margin (default) */
    AUD_SHAP_OUTPUT_PROBABILITY = 1   /* model output after the link (kernel, exact only) */
} aud_shap_output;

typedef struct aud_shap_opts {
    aud_shap_method method;     /* AUD_SHAP_AUTO is resolved by aud_shap_method_resolve */
    aud_shap_output output;
    const double   *background; /* n_background x n_features, model order; borrowed */
    size_t          n_background;
    size_t          n_samples;  /* kernel: coalitions to evaluate; 0 = 2 * M + 2048 (as shap) */
    uint64_t        seed;       /* kernel coalition sampling */
    int             threads;    /* >= 1 */
    /* Optional progress report (the library never prints): called by the worker that owns the
     * first chunk of rows with the fraction of that chunk done, once per block of rows. */
    void          (*progress)(void *ctx, double done);
    void           *progress_ctx;
} aud_shap_opts;

/* Defaults: auto, raw, no background, n_samples 0, seed 42, 1 thread. */
AUD_API void aud_shap_opts_default(aud_shap_opts *opts);

/* Check that method fits model and options before any work (an error says what to do instead):
 * tree / tree-interventional need a tree model, linear a linear model, exact at most
 * AUD_SHAP_EXACT_MAX_FEATURES features, background methods a non-empty background, probability
 * output a background method other than linear. */
AUD_API int aud_shap_check(const aud_model *model, const aud_shap_opts *opts, aud_error *err);

/* Attributions of explained rows. */
typedef struct aud_shap_result {
    aud_shap_method method;     /* resolved method */
    aud_shap_output output;
    size_t   n_rows, n_features, n_outputs;
    size_t   stride;            /* n_outputs * (n_features + 1) */
    double  *phi;               /* n_rows x stride; bias of output k at k * (M + 1) + M */
    double  *fx;                /* n_rows x n_outputs: the explained output (margin or prob.) */
    double   additivity_max_error;  /* max |sum(phi) + bias - fx| over rows and outputs */
} aud_shap_result;

/* Explain n_rows rows of X (row-major, n_features columns). On AUD_OK *out belongs to the
 * caller (aud_shap_result_free). */
AUD_API int aud_shap_explain(aud_shap_result **out, const aud_model *model, const double *X,
                             size_t n_rows, const aud_shap_opts *opts, aud_error *err);
AUD_API void aud_shap_result_free(aud_shap_result *r);

/* SHAP interaction values (method tree, raw output) of n_rows rows: out holds
 * n_rows x n_outputs x (M + 1) x (M + 1) values, the layout of XGBoost pred_interactions
 * (row i, column j of a block: interaction of features i and j; diagonal = main effect; the
 * bias is at [M][M]). The caller streams large inputs block by block. */
AUD_API int aud_shap_tree_interactions(const aud_model *model, const double *X, size_t n_rows,
                                       double *out, int threads, aud_error *err);

/* Global summary of a result (for reports and results.json). */
typedef struct aud_shap_summary {
    size_t   n_rows, n_features, n_outputs;
    double  *mean_abs;          /* n_outputs x n_features: mean |phi| */
    double  *mean;              /* n_outputs x n_features: mean phi */
    double  *importance;        /* n_features: sum over outputs of mean_abs (ranking key) */
    size_t  *rank;              /* n_features: 1 = most important (ties: lower index first) */
    size_t  *order;             /* n_features: feature indices by rank */
    double  *base_value;        /* n_outputs: the bias (same for every row) */
    double   additivity_max_error;
} aud_shap_summary;

/* Summarize r. On AUD_OK *out belongs to the caller (aud_shap_summary_free). */
AUD_API int aud_shap_summarize(aud_shap_summary **out, const aud_shap_result *r, aud_error *err);
AUD_API void aud_shap_summary_free(aud_shap_summary *s);
/* The two halves of aud_shap_summarize, for rows held in several places (build/audit-mpi: each
 * rank adds its rows in turn, audit/run_rows.c): add r's rows to the running sums sum_abs[k*M+j]
 * (|phi|) and sum[k*M+j] (phi), in row order; then the summary of n rows from the sums, the
 * base values base[0..K) (those of the first row) and the additivity error. Together they give
 * aud_shap_summarize's result bit for bit when the rows are added in the same order. */
AUD_API void aud_shap_summary_add(const aud_shap_result *r, double *sum_abs, double *sum);
AUD_API int aud_shap_summary_from_sums(aud_shap_summary **out, size_t n, size_t M, size_t K,
                                       const double *sum_abs, const double *sum,
                                       const double *base, double additivity_max_error,
                                       aud_error *err);

/* Pick at most k of n row indices, seeded, in increasing order (beeswarm / dependence samples).
 * idx must hold min(k, n) values; returns how many were written. */
AUD_API size_t aud_shap_sample_rows(size_t n, size_t k, uint64_t seed, size_t *idx);

/* Reason codes: the top k features of one row pushing the output toward the unfavourable outcome
 * (favorable = 1: most negative phi; favorable = 0: most positive), for output `output`.
 * feat[] gets feature indices, returns how many (< k when fewer features push that way). */
AUD_API size_t aud_shap_reasons(const aud_shap_result *r, size_t row, size_t output,
                                int favorable, size_t k, size_t *feat);

/* Per-cell sums of path-dependent TreeSHAP values (method tree, raw margin) of a single-output
 * tree model over many rows, without keeping any row's values (group means of SHAP values for
 * the fairness drivers, SPEC section 7). Trees with leaves at depth <= 8 count, per cell, the
 * rows' agreement patterns with each group of leaves and multiply precomputed per-pattern
 * contributions (~22 ns per row and depth-6 tree on one core); deeper trees compute their values
 * once per distinct decision pattern of a block of rows (shap_cells.c). The sums are exact (equal
 * to adding the rows' aud_shap_explain values, to rounding) at a fraction of the cost.
 *   aud_shap_cells_new   n_cells cells, n_w weights per row; checks the model (tree, one output,
 *                        covers)
 *   aud_shap_cells_add   rows X (n x n_features): row i goes to cell[i] (-1: skipped) with
 *                        weights w[i * n_w + k] (w NULL: n_w must be 1, weight 1)
 *   aud_shap_cells_sums  n_w x n_cells x (n_features + 1): sum over the cell's rows of
 *                        weight x phi_j, the bias (weight x base value) last
 *   aud_shap_cells_counts n_cells row counts; aud_shap_cells_bias the base value.
 * Results do not depend on the thread count. */
typedef struct aud_shap_cells aud_shap_cells;
AUD_API int aud_shap_cells_new(aud_shap_cells **out, const aud_model *m, size_t n_cells,
                               size_t n_w, int threads, aud_error *err);
AUD_API int aud_shap_cells_add(aud_shap_cells *c, const double *X, size_t n,
                               const int32_t *cell, const double *w, aud_error *err);
/* The same with the rows as columns: col[f][i] is feature f of row i. Where every tree splits
 * on float compares only (XGBoost's numerical splits), the columns go straight into the float
 * copy the trees read, with no row-major copy of the block. The same sums, bit for bit. */
AUD_API int aud_shap_cells_add_cols(aud_shap_cells *c, const double *const *col, size_t n,
                                    const int32_t *cell, const double *w, aud_error *err);
AUD_API const double *aud_shap_cells_sums(const aud_shap_cells *c);
AUD_API const uint64_t *aud_shap_cells_counts(const aud_shap_cells *c);
AUD_API double aud_shap_cells_bias(const aud_shap_cells *c);
AUD_API void aud_shap_cells_free(aud_shap_cells *c);

/* Linear SHAP summed per cell from the cells' feature sums (merged runs, audit/merge_why.c):
 * phi_j = w_j (x_j - mean_j) with mean the background's (n_bg rows, as aud_shap_explain takes it),
 * so a cell's sum is w_j (sum x_j - count mean_j). xsum: n_cells x n_features sums of the rows'
 * model inputs (a feature with w_j = 0 is not read); out: phi (n_cells x n_features) and out
 * (n_cells: the attributions plus base values). Linear models with one output only. The sums
 * equal adding the rows' aud_shap_explain values up to rounding: the subtraction is taken in
 * long double on sums held to 64 bits. */
AUD_API void aud_shap_linear_cells(const aud_model *m, const double *bg, size_t n_bg,
                                   const long double *xsum, const uint64_t *count,
                                   size_t n_cells, double *phi, double *out);

/* --- building blocks (also used by the tests) ----------------------------------------------- */

/* Raw margin of one row for every output (n_outputs values), by walking the trees or the
 * linear formula, with the split semantics of models/model_int.h. */
AUD_API void aud_shap_model_margin(const aud_model *model, const double *x, double *out);

/* Apply the model's link to n_outputs margins in place (sigmoid, softmax, exp, identity). */
AUD_API void aud_shap_apply_link(const aud_model *model, double *v);

/* Generic value function for exact/kernel: v(S) for the coalitions given as bit masks.
 * Implementations write n_outputs values per mask. */
typedef struct aud_shap_game {
    size_t n_players;
    size_t n_outputs;
    /* Evaluate n masks (bit j = player j present; n_players <= 64) into out[n x n_outputs].
     * Returns AUD_OK or an error code. */
    int (*value)(void *ctx, const uint64_t *masks, size_t n, double *out);
    void *ctx;
} aud_shap_game;

/* Exact Shapley values of a game with at most AUD_SHAP_EXACT_MAX_FEATURES players:
 * phi[k * (n_players + 1) + j], bias v(empty) at j = n_players. */
AUD_API int aud_shap_exact_game(const aud_shap_game *g, double *phi, aud_error *err);

#endif
