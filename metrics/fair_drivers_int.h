/* fair_drivers.h - what drives a disparity, which features are proxies of a sensitive attribute,
 * and what group-specific thresholds would change it (SPEC section 7; formulas in
 * docs/fairness.md "Drivers, proxies and trade-offs").
 *
 * These functions never compute SHAP values themselves (metrics/ sits beside explainers/): the
 * orchestration explains the rows and hands the attributions in as arrays.
 *
 *   drivers    gap in mean model output between a group and its reference, split into per-feature
 *              parts = differences of the groups' mean SHAP values (they add up to the gap exactly,
 *              because every row's SHAP values add up to its output minus the base value);
 *   proxies    association of each feature with the attribute: Cramer's V (discrete feature) or
 *              the correlation ratio eta (continuous feature), and normalised mutual information;
 *   tradeoffs  group-specific score thresholds reaching an impact ratio >= 0.8, or equal TPR, and
 *              what they cost (information on the size of the trade-off, never a remedy). */
#ifndef AUD_FAIR_DRIVERS_H
#define AUD_FAIR_DRIVERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/aud.h"
#include "metrics/fairness.h"
#include <cjson/cJSON.h>

#define AUD_PROXY_MIN_ASSOCIATION 0.3   /* "likely proxy": association >= this ... */
#define AUD_PROXY_MIN_SHARE       0.2   /* ... and share of the disparity >= this */
#define AUD_ASSOC_MAX_LEVELS      20    /* a feature with at most this many distinct values is
                                           discrete (Cramer's V), else continuous (eta) */
#define AUD_ASSOC_BINS            10    /* continuous features: decile bins for NMI */
#define AUD_DRIVERS_MAX_FEATURES  20    /* features listed per driver entry */

/* ---- drivers: per-group sums of attributions -------------------------------------------------- */

/* Per-group sums of one attribute's explained rows (long double accumulators). */
typedef struct aud_fdrv_acc {
    size_t       n_groups, n_features;
    uint64_t    *count;    /* n_groups: explained rows */
    long double *out;      /* n_groups: sum of the explained output (sum of phi + base) */
    long double *phi;      /* n_groups x n_features: sum of the attributions */
    long double *prob;     /* n_groups: sum of the predicted probability (when given) */
    int          has_prob;
} aud_fdrv_acc;

AUD_API int aud_fdrv_acc_init(aud_fdrv_acc *a, size_t n_groups, size_t n_features,
                              aud_error *err);
AUD_API void aud_fdrv_acc_free(aud_fdrv_acc *a);

/* Add n explained rows: group[i] in [0, n_groups) or -1 (skipped); phi row-major with `stride`
 * values per row, the n_features attributions first, then the base value; the explained output
 * of a row is the sum of its attributions and base value (so the contributions add up to the gap
 * to rounding; the model's own output differs from it by the explainer's additivity error).
 * prob[i]: the row's predicted probability (binary classifiers), or prob NULL. */
AUD_API void aud_fdrv_acc_add(aud_fdrv_acc *a, const int32_t *group, size_t n, const double *phi,
                              size_t stride, const double *prob);

/* Add sums already taken over `count` rows of group g: phi_sum (n_features values), out_sum
 * (attributions plus base values), prob_sum (NaN: none). */
AUD_API void aud_fdrv_acc_add_sums(aud_fdrv_acc *a, size_t g, uint64_t count,
                                   const double *phi_sum, double out_sum, double prob_sum);

/* ---- proxies: association of a feature with an attribute ------------------------------------- */

/* A feature prepared once for every attribute: levels per row (missing values are a level of
 * their own), discrete or continuous (binned at deciles for NMI; raw values kept for eta). */
typedef struct aud_assoc_feature {
    int            discrete;    /* 1: <= AUD_ASSOC_MAX_LEVELS distinct values */
    size_t         n_levels;    /* distinct values or bins, + 1 when some value is missing */
    int32_t       *level;       /* n rows */
    const double  *x;           /* borrowed values (NaN = missing) */
    size_t         n;
    int32_t       *own;         /* level when f allocated it (freed by aud_assoc_feature_free) */
} aud_assoc_feature;

/* Buffers one thread keeps from feature to feature (aud_assoc_feature_prepare_ws): fresh
 * arrays of a million rows for every feature cost their first writes' page faults each time. */
typedef struct aud_assoc_ws {
    int32_t *level;
    double  *v;
    size_t   cap;   /* rows each holds */
} aud_assoc_ws;
AUD_API void aud_assoc_ws_free(aud_assoc_ws *ws);

AUD_API int aud_assoc_feature_prepare(aud_assoc_feature *f, const double *x, size_t n,
                                      aud_error *err);
/* The same with ws's buffers: f->level is ws's until the next call on ws. */
AUD_API int aud_assoc_feature_prepare_ws(aud_assoc_feature *f, const double *x, size_t n,
                                         aud_assoc_ws *ws, aud_error *err);
/* The same for a categorical column: codes[i] in [0, n_levels) or -1 (missing); always
 * discrete (Cramer's V), whatever the number of categories. */
AUD_API int aud_assoc_feature_prepare_codes(aud_assoc_feature *f, const int32_t *codes,
                                            size_t n_levels, size_t n, aud_error *err);
AUD_API void aud_assoc_feature_free(aud_assoc_feature *f);

typedef struct aud_assoc {
    const char *measure;        /* "cramers_v" or "correlation_ratio" */
    double      association;    /* NaN with why when undefined */
    double      nmi;
    const char *why;            /* static reason for an undefined association, else NULL */
    const char *nmi_why;
    uint64_t    n;              /* rows with a known attribute value */
} aud_assoc;

/* Association of feature f with attribute codes (n_levels levels, -1 = unknown: row dropped). */
AUD_API int aud_assoc_compute(const aud_assoc_feature *f, const int32_t *codes, size_t n_levels,
                              aud_assoc *out, aud_error *err);
/* The same for na attributes at once (codes[a], n_levels[a] -> out[a]): one pass over the rows
 * per attribute (two for a continuous feature); each figure equals aud_assoc_compute's bit for
 * bit. */
AUD_API int aud_assoc_compute_set(const aud_assoc_feature *f, const int32_t *const *codes,
                                  const size_t *n_levels, size_t na, aud_assoc *out,
                                  aud_error *err);

/* The same from the rows' cells: cell[i] in [0, n_cells) (a combination of the attributes'
 * values; < 0: row left out of every grouping) and, per grouping a, gmap[a][c] its level of
 * cell c or -1. One pass over the rows for every grouping (two for a continuous feature), where
 * aud_assoc_compute_set takes one per grouping: the tables are the same integers (Cramer's V
 * and NMI the same bits); eta's sums are the cells' compensated sums added per group, and
 * SS_total the cells' within sums plus their means' spread (Chan, Golub, LeVeque 1979), with
 * each cell's difference from the mean taken before rounding - within a few units in the last
 * place of aud_assoc_compute_set's eta. */
AUD_API int aud_assoc_compute_cells(const aud_assoc_feature *f, const int32_t *cell,
                                    size_t n_cells, const int32_t *const *gmap,
                                    const size_t *n_levels, size_t na, aud_assoc *out,
                                    aud_error *err);

/* Building blocks on an r x c table of counts (row-major), exposed for tests. Empty rows and
 * columns are dropped first. Return NaN (and *why) when undefined. */
AUD_API double aud_assoc_cramers_v(const uint64_t *tab, size_t r, size_t c, const char **why);
AUD_API double aud_assoc_nmi(const uint64_t *tab, size_t r, size_t c);

/* ---- trade-offs: group-specific thresholds ----------------------------------------------------- */

typedef struct aud_tradeoff_input {
    size_t         n_rows;
    const aud_fair_ranks *ranks;   /* the scores ranked (aud_fair_result's); with the order
                                      built (aud_fair_ranks_order) when
                                      aud_tradeoff_needs_order says so */
    const double  *label;       /* 0/1 or NaN; may be NULL */
    const int32_t *codes;       /* group per row, -1 = unknown (keeps the common threshold) */
    size_t         n_groups;
    const char *const *levels;
    const unsigned char *eligible;   /* n_groups: 1 = in the verdict (not small) */
    size_t         reference;   /* group whose TPR the equal-TPR target is */
    int            favorable;   /* 1: favourable = score >= t; 0: favourable = score < t */
    double         threshold;   /* the common threshold now */
    size_t         hist_cells;  /* 0: default (aud_tradeoff_needs_order); tests force either way */
    int            threads;     /* the row passes' threads (<= 1: the calling thread); the
                                   document does not depend on it */
} aud_tradeoff_input;

/* 1 when aud_tradeoff_json reads the rows in rank order for an attribute of n_groups levels
 * (more groups x distinct scores than hist_cells, 0: 2^18), 0 when it counts them in a
 * histogram. Both give the same document. */
AUD_API int aud_tradeoff_needs_order(const aud_fair_ranks *ranks, size_t n_groups,
                                     size_t hist_cells);

/* Add "tradeoffs": {"impact_ratio": {...}, "equal_tpr": {...}, "notice": ...} to attr
 * (docs/fairness.md gives the rules that choose each threshold). */
AUD_API int aud_tradeoff_json(cJSON *attr, const aud_tradeoff_input *in, aud_error *err);

/* ---- the JSON of one attribute -------------------------------------------------------------- */

typedef struct aud_fdrv_json_input {
    const aud_fdrv_acc  *margin;        /* sums on the margin (and probabilities, if any) */
    size_t               reference;
    const unsigned char *eligible;      /* n_groups: 1 = not small */
    const char *const   *levels;        /* group names */
    const char *const   *features;      /* feature names (n_features) */
    const aud_assoc     *assoc;         /* n_features associations, or NULL (no proxy screen) */
    const unsigned char *is_attribute;  /* n_features: 1 = the feature is the attribute itself */
    const char          *method;        /* how the rows were explained (text) */
} aud_fdrv_json_input;

/* Add "drivers" (one entry per non-reference group with rows) and "proxies" to attr. */
AUD_API int aud_fdrv_json(cJSON *attr, const aud_fdrv_json_input *in, aud_error *err);

#endif
