/* fair_why.h - what drives each group's disparity, which features are proxies of the attribute
 * and what group thresholds would change it (SPEC section 7): the orchestration that explains the
 * rows (explainers/) and hands the attributions to metrics/fair_drivers_int.h. Used by `audit run`
 * and `audit fairness --model`. */
#ifndef AUD_FAIR_WHY_H
#define AUD_FAIR_WHY_H

#include "audit/bind_int.h"
#include "core/table.h"
#include "explainers/shap.h"
#include "metrics/fairness.h"
#include "models/model_int.h"
#include <cjson/cJSON.h>

#define AUD_WHY_SAMPLE_PER_GROUP 500   /* rows per group explained by the slow methods */

/* ---- the sample of the sampled methods (kernel, exact, tree-interventional) -----------------
 * A bottom-k sample, so that shards can draw it together (docs/fairness.md, docs/scale-out.md):
 * each row has a key from its 0-based number in the file (one key for every grouping; another
 * for the background), and a group's sample is its AUD_WHY_SAMPLE_PER_GROUP rows of smallest
 * (key, row); the background is the AUD_SHAP_DEFAULT_BACKGROUND rows of smallest (key, row) of
 * the whole file, in file order. The union of every shard's own bottom-k holds the file's. */

/* Key of the row numbered `row` in the file: splitmix64's (row + 1)-th output from a state made
 * from the seed (Vigna 2015); background 1: the background's key. */
uint64_t aud_why_key(uint64_t seed, int background, size_t row);

typedef struct aud_why_pick {
    uint64_t key;
    size_t   row;    /* number in the file (ties of key) */
    size_t   at;     /* the caller's index of the item */
} aud_why_pick;

/* The k items of smallest (key, row) offered so far (a max-heap of at most k entries). */
typedef struct aud_why_bottomk {
    aud_why_pick *e;
    size_t        n, k;
} aud_why_bottomk;

int aud_why_bottomk_init(aud_why_bottomk *b, size_t k, aud_error *err);
void aud_why_bottomk_offer(aud_why_bottomk *b, uint64_t key, size_t row, size_t at);
void aud_why_bottomk_free(aud_why_bottomk *b);   /* NULL entries: no-op */

/* The rows of a table into aud_shap_cells, a block of at most f->blk rows at a time: straight from
 * the table's columns where the model reads them as they are (aud_model_feature_column, then
 * aud_shap_cells_add_cols: no copy of the block), else through a row-major copy of the block
 * filled on the threads (aud_model_fill_rows_on). */
typedef struct aud_why_feed {
    const aud_model *m;
    const aud_table *t;
    const size_t    *bind;
    const double   **col, **cb;   /* the features' columns and the block's, or NULL */
    double          *X;           /* the copy, or NULL */
    int              threads;
    size_t           blk;         /* rows a block: at most 2^18 and 32 MiB of inputs */
} aud_why_feed;
int aud_why_feed_init(aud_why_feed *f, const aud_model *m, const aud_table *t,
                      const size_t *bind, int threads, aud_error *err);
/* Rows [b0, b0 + n) of the table (n <= f->blk), row i to cell[i]. */
int aud_why_feed_add(aud_why_feed *f, aud_shap_cells *sc, size_t b0, size_t n,
                     const int32_t *cell, aud_error *err);
void aud_why_feed_free(aud_why_feed *f);

/* ---- merged runs (audit merge): the rows' sums, per cell, instead of the rows ---------------
 * A cell is one combination of the sensitive attributes' values in the merged table (audit/
 * merge_why.c builds it from the partials' "why" blocks, docs/scale-out.md). */

/* One model feature for the proxy screen: per cell its counts per level of the feature (the
 * values of a discrete feature in order, or the decile bins of a continuous one; then missing)
 * and the moments of its known values. */
typedef struct aud_why_feat {
    int         discrete;    /* Cramer's V; else the correlation ratio and decile bins */
    size_t      n_levels;    /* feature levels */
    uint64_t   *tab;         /* n_cells x n_levels counts (a point within lo..hi when bounded) */
    uint64_t   *lo, *hi;     /* the counts' bounds when a cell was summarised, else NULL */
    double     *cnt, *mean, *m2;   /* n_cells: known values, their mean, sum of sq. deviations */
    long double *sum;        /* n_cells: the sum of the known values */
} aud_why_feat;

typedef struct aud_why_merged {
    size_t           n_cells, n_attrs, n_features;
    double          *key;    /* n_cells x n_attrs: the attribute's value (a categorical column's
                                level code in the merged table, or the number); NaN: missing */
    uint64_t        *count;  /* n_cells: rows */
    double          *out;    /* n_cells: sum of the rows' attributions plus base values */
    double          *phi;    /* n_cells x n_features: sums of the attributions */
    double          *prob;   /* n_cells: sum of the predicted probabilities (NULL: none) */
    aud_why_feat    *feat;   /* n_features, or NULL: no proxy screen (screen_skip says why) */
    char             screen_skip[300];
    /* linear models: the sums of the rows' model inputs instead of phi and out (n_cells x
       n_features; phi and out follow with the model, aud_shap_linear_cells) and the single
       run's background rows (n_bg x n_features, in file order) */
    long double     *xsum;
    double          *bg;
    size_t           n_bg;
    /* sampled methods: the partials' candidate rows in file order (no sums); kind bit 1: a
       candidate of its cell's sample, bit 2: of the background (n_bg_rows of the file) */
    int              sampled;
    size_t           n_cand, n_bg_rows;
    size_t          *c_row;   /* numbers in the file */
    size_t          *c_cell;  /* merged cell */
    unsigned char   *c_kind;
    double          *c_x;     /* n_cand x n_features model inputs */
    double          *c_prob;  /* n_cand predicted probabilities (NULL: none) */
} aud_why_merged;

void aud_why_merged_free(aud_why_merged *m);

typedef struct aud_fair_why_input {
    const aud_model       *model;       /* NULL: trade-offs only */
    const char            *model_path;  /* names the model in messages (may be NULL) */
    const aud_table       *data;
    const aud_bound_attrs *attrs;       /* the attributes as bound for the fairness metrics
                                           (aud_bind_fairness hands them over) */
    const aud_fair_result *res;         /* the metrics' result (references, small groups) */
    const double          *score;       /* the score thresholded into predictions, or NULL */
    const double          *label;       /* may be NULL */
    int                    favorable;
    double                 threshold;
    aud_shap_method        method;      /* AUD_SHAP_AUTO: tree for trees, linear for linear */
    const double          *background;  /* background rows for the methods that need one */
    size_t                 n_background;
    uint64_t               seed;
    int                    threads;
    int                    merged_run;  /* 1: a merged run: no rows of features, the sums are */
    const aud_why_merged  *merged;      /*   these (NULL: none; drivers and proxies left out) */
} aud_fair_why_input;

/* Add "drivers", "proxies" (with a model) and "tradeoffs" (with a score) to every attribute of
 * doc's "fairness" section. */
int aud_fair_why(cJSON *doc, const aud_fair_why_input *in, aud_error *err);

#endif
