/* fairness.h - group fairness metrics (SPEC section 3 "Fairness", "Compliance views"; JSON of
 * section 5). Definitions follow Fairlearn and AIF360; every formula is in docs/fairness.md.
 *
 * Usage (the CLI `audit fairness` and the orchestration `audit run` both do this):
 *
 *     aud_fair_opts opts;
 *     aud_fair_opts_default(&opts);            then set favorable, threshold, bootstrap, ...
 *     aud_fair_input in = {n_rows, label, prediction, score, attrs, n_attrs, ...};
 *     aud_fair_result *res = NULL;
 *     rc = aud_fair_compute(&res, &in, &opts, &err);
 *     rc = aud_fair_to_json(res, doc, &err);   adds "fairness" to a results document
 *     aud_fair_result_free(res);
 *
 * The input arrays are borrowed for the duration of the call only. The result owns all of its
 * memory. Undefined figures (zero denominators, fewer than two groups...) are NaN in the result
 * with a static reason string beside them; the JSON writer turns them into null plus
 * "<name>_reason". */
#ifndef AUD_FAIRNESS_H
#define AUD_FAIRNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/aud.h"
#include <cjson/cJSON.h>

/* A figure that may be undefined: v is NaN and why says why (static string), else why == NULL. */
typedef struct aud_fair_val {
    double      v;
    const char *why;
} aud_fair_val;

/* The per-group rates, all with the favourable outcome as the positive class. */
typedef enum aud_fair_rate_id {
    AUD_FAIR_BASE_RATE = 0,      /* P(y = fav) over labelled rows */
    AUD_FAIR_SELECTION_RATE,     /* P(yhat = fav) over all rows (label not needed) */
    AUD_FAIR_TPR,                /* TP / (TP + FN) */
    AUD_FAIR_FPR,                /* FP / (FP + TN) */
    AUD_FAIR_TNR,                /* TN / (FP + TN) */
    AUD_FAIR_FNR,                /* FN / (TP + FN) */
    AUD_FAIR_PPV,                /* TP / (TP + FP) */
    AUD_FAIR_NPV,                /* TN / (TN + FN) */
    AUD_FAIR_FDR,                /* FP / (TP + FP) */
    AUD_FAIR_FOR,                /* FN / (TN + FN), "false_omission_rate" */
    AUD_FAIR_ACCURACY,           /* (TP + TN) / labelled */
    AUD_FAIR_N_RATES
} aud_fair_rate_id;

/* JSON name of a rate ("selection_rate", ...); NULL when id is out of range. */
AUD_API const char *aud_fair_rate_name(int id);

/* The per-attribute summary metrics (docs/fairness.md gives each formula). */
typedef enum aud_fair_sum_id {
    AUD_FAIR_DP_DIFF = 0,        /* demographic_parity_difference: max - min selection rate */
    AUD_FAIR_DP_RATIO,           /* demographic_parity_ratio: min / max selection rate */
    AUD_FAIR_EO_DIFF,            /* equalized_odds_difference: max(TPR gap, FPR gap) (Fairlearn) */
    AUD_FAIR_EO_RATIO,           /* equalized_odds_ratio: min(TPR min/max, FPR min/max) */
    AUD_FAIR_EOP_DIFF,           /* equal_opportunity_difference: TPR(g) - TPR(ref), worst group */
    AUD_FAIR_AOD,                /* average_odds_difference (AIF360), worst group */
    AUD_FAIR_AAOD,               /* average_abs_odds_difference (AIF360), worst group */
    AUD_FAIR_PP_DIFF,            /* predictive_parity_difference: max - min PPV */
    AUD_FAIR_THEIL,              /* theil_index (AIF360, b = yhat - y + 1) */
    AUD_FAIR_GEI,                /* generalized_entropy_index, alpha = 2 */
    AUD_FAIR_BGEI,               /* between_group_generalized_entropy_index, alpha = 2 */
    AUD_FAIR_N_SUMS
} aud_fair_sum_id;

/* What rate `id` means here, in words (issue 14 item 1), into buf: the rates count the
 * favourable outcome as the positive class, so with favourable 0 and label "default" the false
 * positive rate is "approved among rows with default = 1 (the unfavourable outcome)". label may
 * be NULL ("label"); outcome is the favourable outcome's word ("approved"), NULL for
 * "predicted favourable". Returns buf. */
AUD_API const char *aud_fair_rate_meaning(int id, const char *label, int favorable,
                                          const char *outcome, char *buf, size_t size);

/* fairness.rate_meanings: {rate name: meaning} for every rate, and "decision" (how rows are
 * read: which label value is favourable), into the fairness object f. 0, or -1 on no memory. */
AUD_API int aud_fair_add_rate_meanings(cJSON *f, const char *label, int favorable,
                                       const char *outcome);

/* JSON name of a summary metric; NULL when id is out of range. */
AUD_API const char *aud_fair_sum_name(int id);

/* Counts of one group. n counts every row of the group; the four confusion cells only rows with
 * a label. sel counts favourable predictions over all n rows. */
typedef struct aud_fair_counts {
    uint64_t n, sel, tp, fp, tn, fn;
} aud_fair_counts;

/* Options. aud_fair_opts_default() fills the documented defaults. */
typedef struct aud_fair_opts {
    int      favorable;      /* 1 (default) or 0: the outcome that is the benefit */
    double   threshold;      /* with a score: yhat = 1 iff score >= threshold */
    double   min_share;      /* groups with share < min_share are "small" (default 0.02) */
    uint64_t min_count;      /* groups with count < min_count are "small" (default 0: off) */
    size_t   n_bootstrap;    /* bootstrap resamples for the summary CIs (default 1000; 0 = off) */
    uint64_t seed;           /* bootstrap seed (default 42, as the spec file) */
    int      threads;        /* bootstrap threads (>= 1; default 1) */
    int      intersections;  /* 1 (default): every combination of two or more attributes */
    int      nyc_ll144;      /* 1: add the NYC Local Law 144 view of two attributes: */
    size_t   ll144_sex;      /* index of the sex attribute in the input's attrs (default 0) */
    size_t   ll144_race;     /* index of the race/ethnicity attribute (default 1) */
    double   level;          /* confidence level of every interval (default 0.95) */
    size_t   hist_cells;     /* groups x distinct scores above which the score metrics read the
                              * rows in rank order instead of a histogram; 0 (default) = the
                              * number of labelled rows, at least 64 Ki. Same figures either way
                              * (tests force the rank-order sweep with 1) */
    size_t   max_intersection; /* largest intersection built, in attributes (2 = pairs only);
                              * 0 (default): every combination */
} aud_fair_opts;

AUD_API void aud_fair_opts_default(aud_fair_opts *opts);

/* One sensitive attribute: codes[i] in [0, n_levels) or -1 (unknown), level names. */
typedef struct aud_fair_attr {
    const char          *name;
    const int32_t       *codes;
    size_t               n_levels;
    const char *const   *levels;
    const char          *reference;  /* level name of the reference group; NULL = largest group */
    const char          *group_order;/* how levels are ordered, written as the attribute's
                                      * "group_order" ("natural", "given", "bins", "values";
                                      * static text; NULL: not written) */
} aud_fair_attr;

/* Input arrays (n_rows each). Exactly one of prediction / score is non-NULL. label may be NULL
 * (label-free metrics only). Values: label 0/1 or NaN (missing); prediction 0/1; score finite.
 * The *_name fields name the columns in error messages; source names the file (may be NULL). */
typedef struct aud_fair_input {
    size_t               n_rows;
    const double        *label;
    const double        *prediction;
    const double        *score;
    const aud_fair_attr *attrs;
    size_t               n_attrs;
    const char          *label_name;
    const char          *prediction_name;
    const char          *score_name;
    const char          *source;
    /* The table the rows were read from (may be NULL): errors then name a row as
     * "data row R (CSV line L)" (aud_table_row_text); without it "data row R" (0-based). */
    const struct aud_table *table;
    /* Extra reference levels for intersections, "a&b" -> "x&y" (may be NULL / 0). */
    const char *const   *inter_ref_names;
    const char *const   *inter_ref_levels;
    size_t               n_inter_refs;
} aud_fair_input;

/* Results of one group. */
typedef struct aud_fair_group {
    char           *name;
    aud_fair_counts c;
    double          share;            /* n / rows with a known value of the attribute */
    int             small;            /* 1: under min_share or min_count; out of the summary */
    aud_fair_val    rate[AUD_FAIR_N_RATES];
    double          rate_lo[AUD_FAIR_N_RATES], rate_hi[AUD_FAIR_N_RATES];  /* Wilson */
    aud_fair_val    diff[AUD_FAIR_N_RATES];    /* rate - rate(reference) */
    aud_fair_val    ratio[AUD_FAIR_N_RATES];   /* rate / rate(reference) */
    aud_fair_val    disparate_impact;          /* selection rate / reference selection rate */
    aud_fair_val    impact_ratio;              /* selection rate / highest eligible one */
    int             below_four_fifths;         /* 1: impact_ratio < AUD_FOUR_FIFTHS, 0: not,
                                                  -1: impact_ratio undefined */
    aud_fair_val    eop_diff, aod, aaod;       /* AIF360, group vs reference */
    aud_fair_val    fisher_p;                  /* two-sided, group vs highest-rate group */
    aud_fair_val    auc, brier, ece;           /* with a score and a label */
} aud_fair_group;

/* Results of one attribute or intersection. */
typedef struct aud_fair_attr_result {
    char           *name;
    size_t          n_groups;
    aud_fair_group *groups;
    size_t          reference;        /* index into groups */
    int             reference_given;  /* 1: set by the user, 0: largest group */
    char           *similar_groups;   /* groups differing only by surrounding spaces or case
                                       * ("\"Male\" ~ \"male\""; aud_similar_levels), owned;
                                       * NULL: none */
    char           *reference_carried;/* intersections: "race=Caucasian" when the reference is
                                       * the largest group of the attributes' given references
                                       * (owned; NULL otherwise) */
    const char     *group_order;      /* the input attribute's; intersections "components"
                                       * (static text; NULL: not written) */
    size_t          highest;          /* eligible group with the highest selection rate */
    uint64_t        n_unknown;        /* rows with a missing value of the attribute */
    uint64_t        n_known;
    size_t          n_small;
    aud_fair_val    sum[AUD_FAIR_N_SUMS];
    double          sum_lo[AUD_FAIR_N_SUMS], sum_hi[AUD_FAIR_N_SUMS];  /* bootstrap */
    const char     *sum_ci_why[AUD_FAIR_N_SUMS];                       /* NULL: CI defined */
    /* signed worst-case summaries (equal_opportunity_difference, average_odds_difference): the
     * group whose gap against the reference the figure and its interval follow; SIZE_MAX for
     * the other summaries and without a bootstrap */
    size_t          sum_pair[AUD_FAIR_N_SUMS];
    aud_fair_val    chi2_stat, chi2_p;
    long            chi2_dof;
    /* The same figures over every group, small ones included: the Fairlearn / AIF360
     * definitions, for comparison with those libraries (no bootstrap; verdicts read sum).
     * Computed by the same code with every group eligible, so with no small group they equal
     * sum and chi2_* bit for bit. */
    aud_fair_val    sum_all[AUD_FAIR_N_SUMS];
    aud_fair_val    chi2_all_stat, chi2_all_p;
    long            chi2_all_dof;
} aud_fair_attr_result;

/* NYC Local Law 144 table (sex, race or sex&race). */
typedef struct aud_fair_ll144_table {
    char          *name;
    uint64_t       n_unknown;
    size_t         n_cats;
    char         **cats;
    uint64_t      *count;
    double        *share;
    aud_fair_val  *rate;       /* selection rate or scoring rate */
    aud_fair_val  *impact_ratio;
    int           *below_four_fifths;   /* as aud_fair_group's */
    int           *excluded;   /* share < min_share */
} aud_fair_ll144_table;

/* The four-fifths flag of an impact ratio: 1 below AUD_FOUR_FIFTHS, 0 not, -1 undefined. */
AUD_API int aud_fair_below_four_fifths(aud_fair_val impact_ratio);

/* The scores ranked once (with a score): dense ranks among the distinct scores. Kept in the
 * result so the threshold trade-offs (aud_tradeoff_json) reuse them instead of sorting again. */
typedef struct aud_fair_ranks {
    size_t    n_rows, n_distinct;
    uint32_t *rank;       /* per row: rank of its score among distinct[] */
    double   *distinct;   /* the distinct scores, increasing (-0 as 0) */
    uint32_t *order;      /* the rows in rank order, ties by row; NULL until built */
    uint32_t *start;      /* n_distinct + 1: order[start[r] .. start[r + 1]) have rank r */
} aud_fair_ranks;

typedef struct aud_fair_result {
    int                   favorable;
    double                threshold;      /* NaN when predictions were given */
    int                   has_label, has_score;
    size_t                n_rows;
    double                min_share;
    uint64_t              min_count;
    double                level;
    size_t                n_bootstrap;
    uint64_t              seed;
    size_t                n_attrs;
    aud_fair_attr_result *attrs;
    size_t                n_inters;
    aud_fair_attr_result *inters;
    /* NYC LL144 view (n_ll144 == 0 when not requested) */
    int                   ll144_scoring;  /* 1: scoring rates (score > median), 0: selection */
    double                ll144_median;
    size_t                n_ll144;
    aud_fair_ll144_table *ll144;
    aud_fair_ranks       *ranks;          /* with a score, else NULL */
} aud_fair_result;

/* Compute everything. On AUD_OK *out belongs to the caller (aud_fair_result_free). Input errors
 * (non-binary label or prediction, unknown reference level, bad options) give AUD_E_DOMAIN /
 * AUD_E_SCHEMA / AUD_E_USAGE with err naming the column and data row. */
AUD_API int aud_fair_compute(aud_fair_result **out, const aud_fair_input *in,
                             const aud_fair_opts *opts, aud_error *err);

AUD_API void aud_fair_result_free(aud_fair_result *res);
AUD_API void aud_fair_ranks_free(aud_fair_ranks *r);
/* Build r->order and r->start (a counting sort by rank) when they are not built yet. */
AUD_API int aud_fair_ranks_order(aud_fair_ranks *r, aud_error *err);

/* Add the SPEC section 5 "fairness" object to doc (exact numbers; null + "<name>_reason"). */
AUD_API int aud_fair_to_json(const aud_fair_result *res, cJSON *doc, aud_error *err);

/* Group a numeric column by value: levels are the distinct values as shortest round-trip text, in increasing numeric
 * order, NaN is -1 (unknown). *codes (n) and *levels (*n_levels strings) belong to the caller:
 * aud_fair_levels_free(*levels, *n_levels) and aud_free(*codes). */
AUD_API int aud_fair_codes_from_numeric(const double *x, size_t n, int32_t **codes,
                                        char ***levels, size_t *n_levels, aud_error *err);
AUD_API void aud_fair_levels_free(char **levels, size_t n_levels);

/* ---- statistics used above, exposed for tests and for other modules ---- */

/* Wilson score interval for x successes in n trials at `level` (statsmodels
 * proportion_confint(method="wilson")). n == 0 gives NaN bounds. */
AUD_API void aud_fair_wilson(uint64_t x, uint64_t n, double level, double *lo, double *hi);
/* Katz log interval of the ratio of proportions (x1/n1) / (x2/n2) at `level`; NaN bounds when a
 * count is 0 (the log ratio is unbounded) or the inputs are invalid. */
AUD_API void aud_fair_katz(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double level,
                           double *lo, double *hi);

/* Two-sided Fisher exact p-value of [[a, b], [c, d]] (scipy.stats.fisher_exact). Returns NaN
 * when a count exceeds UINT_MAX / 2. */
AUD_API double aud_fair_fisher_two_sided(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* Chi-square test of independence on a k x 2 table (row i: obs[2i], obs[2i+1]) without
 * continuity correction. Returns AUD_OK or AUD_E_DOMAIN (a zero row or column total, k < 2),
 * with *why set. */
AUD_API int aud_fair_chi2(const uint64_t *obs, size_t k, double *stat, long *dof, double *p,
                          const char **why);

/* Summary metrics from per-group counts: eligible[g] != 0 marks groups in the summary; ref is
 * the reference group. Writes AUD_FAIR_N_SUMS values into sum. has_label 0: only DP. */
AUD_API void aud_fair_summary(const aud_fair_counts *c, const unsigned char *eligible, size_t k,
                              size_t ref, int has_label, aud_fair_val *sum);

#endif
