/* fair_int.h - internals shared by metrics/fair_*.c (not part of the library API). */
#ifndef AUD_FAIR_INT_H
#define AUD_FAIR_INT_H

#include "metrics/fairness.h"

#include <pthread.h>

/* Every row's score as a dense rank (fair_score.c); handed to the result as aud_fair_ranks. */
typedef struct aud_fair_scores {
    size_t           n_labelled; /* rows with a label */
    uint32_t        *rank;       /* per row: rank of the score among distinct[] */
    double          *distinct;   /* the distinct scores, increasing */
    uint8_t         *bin;        /* ECE bin of each distinct score */
    size_t           n_distinct;
    /* every row in rank order (ties by row): order[start[r] .. start[r + 1]) have rank
     * r; built on first use under lock (order_state 1 = built) */
    uint32_t        *order;
    uint32_t        *start;
    int              order_state;
    pthread_mutex_t  lock;
} aud_fair_scores;

/* Row-level data prepared once and shared by every attribute and intersection. */
typedef struct aud_fair_ctx {
    const aud_fair_input *in;
    const aud_fair_opts  *opts;
    size_t                n;
    int8_t               *y;        /* 1: favourable label, 0: unfavourable, -1: missing */
    uint8_t              *p;        /* 1: favourable prediction */
    int                   has_label;
    int                   has_score;
    int                   score_is_prob;  /* every score in [0, 1] */
    size_t                n_labelled;     /* rows with y >= 0 (prepare's count) */
    aud_fair_scores       sc;       /* has_score only */
    aud_fair_scores      *sc_mut;   /* &sc, for the order built on first use */
} aud_fair_ctx;

/* Codes and "x&y" level names of the intersection of the attributes whose bits are set in
 * `mask` (cells in mixed-radix order, only non-empty cells get a level). */
typedef struct aud_fair_inter {
    char    *name;
    int32_t *codes;
    char   **levels;
    size_t   n_levels;
} aud_fair_inter;

int  aud_fair_inter_build(const aud_fair_ctx *ctx, unsigned mask, aud_fair_inter *ic,
                          aud_error *err);
void aud_fair_inter_free(aud_fair_inter *ic);

/* The NYC LL144 tables (attributes 0 = sex and 1 = race) into res->ll144. */
int aud_fair_ll144(const aud_fair_ctx *ctx, aud_fair_result *res, aud_error *err);

/* Score metrics (AUC, Brier, ECE) per group of one attribute; gmap maps codes to groups. */
int aud_fair_score_metrics(const aud_fair_ctx *ctx, const int32_t *codes, const int32_t *gmap,
                           aud_fair_attr_result *ar, aud_error *err);

/* Rank every row's score into ctx->sc (sc.lock initialised by the caller). */
int aud_fair_rank_scores(aud_fair_ctx *ctx, aud_error *err);
void aud_fair_scores_free(aud_fair_scores *sc);
/* Move the ranks of sc into a new aud_fair_ranks (NULL when out of memory; sc keeps them). */
aud_fair_ranks *aud_fair_scores_take(aud_fair_scores *sc, size_t n_rows);

/* Seeded, threaded bootstrap percentile intervals of the summary metrics of ar. */
int aud_fair_bootstrap(const aud_fair_opts *opts, int has_label, aud_fair_attr_result *ar,
                       const unsigned char *eligible, aud_error *err);

/* The signed group-vs-reference gap of summary m (AUD_FAIR_EOP_DIFF: TPR(g) - TPR(ref);
 * AUD_FAIR_AOD: the average odds difference) for group g; NaN when a rate is undefined. */
double aud_fair_ref_gap(const aud_fair_counts *c, size_t g, size_t ref, int m);
/* The eligible non-reference group whose gap of summary m has the largest magnitude (the first
 * on ties: the group the signed worst-case summary reports); SIZE_MAX when there is none or a
 * gap is undefined. */
size_t aud_fair_worst_group(const aud_fair_counts *c, const unsigned char *eligible, size_t k,
                            size_t ref, int m);

/* Seed of bootstrap replicate r (SplitMix64 of the user's seed and r). */
uint64_t aud_fair_replicate_seed(uint64_t seed, size_t r);

/* Largest number of cells of an intersection (product of the level counts). */
#define AUD_FAIR_MAX_CELLS (1u << 22)
/* Largest number of attributes for which all intersections are computed. */
#define AUD_FAIR_MAX_INTER_ATTRS 6


#endif
