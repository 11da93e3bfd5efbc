/* drift.h - data drift between a reference and a current sample (SPEC section 3 "Drift").
 *
 * Three layers, each usable on its own:
 *  1. Statistics on plain arrays (aud_drift_ks, aud_drift_wasserstein, ...): numeric samples are
 *     SORTED arrays without NaN; categorical samples are count vectors over a common category list.
 *     They reproduce scipy 1.10 (ks_2samp, wasserstein_distance, anderson_ksamp,
 *     cramervonmises_2samp, chi2_contingency, jensenshannon) and Evidently (PSI, Z-test, binning).
 *  2. One column (aud_drift_column_numeric / _categorical): drops missing values, computes every
 *     applicable statistic, chooses the primary test (Evidently's rules) and the drifted flag.
 *     Used by `audit drift`, and by `audit run` for prediction drift (two double arrays).
 *  3. A whole data set (aud_drift_compute over aud_drift_input[]), column-parallel, and the JSON
 *     object of SPEC section 5 (aud_drift_to_json). aud_drift_tables() builds the inputs from two
 *     CSV tables, matching columns by name and categories by level text.
 * See docs/drift.md for every definition. */
#ifndef AUD_DRIFT_H
#define AUD_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/aud.h"
#include "core/table.h"
#include "metrics/sketch.h"

/* ---- 1. statistics on plain arrays ---------------------------------------------------------- */

/* A test result; statistic/p_value are NaN when the test does not apply, and reason says why. */
typedef struct aud_drift_test {
    double      statistic;
    double      p_value;
    long        dof;          /* chi-square only, else 0 */
    const char *reason;       /* static text, NULL when the test applies */
    const char *mode;         /* "exact" / "asymp" for KS and CvM, else NULL */
} aud_drift_test;

/* Two-sample KS test, two-sided, method 'auto' as scipy 1.10 ks_2samp: exact when
 * max(n1, n2) <= 10000 (falls back to the asymptotic kstwo distribution when the exact
 * computation fails), otherwise kstwo.sf(D, round(n1 n2 / (n1 + n2))). x, y sorted, n >= 1. */
AUD_API void aud_drift_ks(const double *x, size_t n1, const double *y, size_t n2,
                          aud_drift_test *out);

/* Survival function of the two-sided one-sample KS statistic D_n (scipy kstwo.sf(x, n)),
 * following Simard & L'Ecuyer (2011) as scipy does. */
AUD_API double aud_drift_kolmogn_sf(long n, double x);

/* One-sided Smirnov survival P(D+_n >= x) (scipy.special.smirnov), Birnbaum-Tingey sum. */
AUD_API double aud_drift_smirnov(long n, double x);

/* Wasserstein-1 distance between the empirical distributions (scipy wasserstein_distance). */
AUD_API double aud_drift_wasserstein(const double *x, size_t n1, const double *y, size_t n2);

/* Population standard deviation (ddof 0, numpy.std), two-pass. */
AUD_API double aud_drift_std(const double *x, size_t n);
/* Mean of x (compensated sum); NaN when n == 0. */
AUD_API double aud_drift_mean(const double *x, size_t n);

/* Anderson-Darling k-sample test for k = 2 (scipy anderson_ksamp, midrank): normalized
 * statistic, p-value by scipy's interpolation capped to [0.001, 0.25]. Needs N >= 4 and at
 * least two distinct values. */
AUD_API void aud_drift_anderson(const double *x, size_t n1, const double *y, size_t n2,
                                aud_drift_test *out);

/* Cramer-von Mises two-sample test (scipy cramervonmises_2samp, method 'auto': exact when
 * max(n1, n2) <= 20, else asymptotic). Needs n1, n2 >= 2. Returns AUD_E_NOMEM or AUD_OK. */
AUD_API int aud_drift_cvm(const double *x, size_t n1, const double *y, size_t n2,
                          aud_drift_test *out);

/* Chi-square test of homogeneity of the 2 x k table (ref; cur) without continuity correction
 * (scipy chi2_contingency(correction=False)). Every category must have a positive total. */
AUD_API void aud_drift_chi_square(const double *ref, const double *cur, size_t k,
                                  aud_drift_test *out);

/* Z-test of two proportions (Evidently): a successes of n1 versus b successes of n2, two-sided
 * p = 2 Q(|z|). When both samples hold one and the same value: z = 0, p = 1. */
AUD_API void aud_drift_z_test(double a, double n1, double b, double n2, aud_drift_test *out);

/* Jensen-Shannon distance (natural log) between two count vectors, each normalized to sum 1,
 * as scipy.spatial.distance.jensenshannon. */
AUD_API double aud_drift_jensen_shannon(const double *p, const double *q, size_t k);

/* Evidently's empty-bin fill, in place on a vector of proportions: zeros become
 * min(non-zero)/1e6 when that minimum <= 1e-4, else 1e-4. */
AUD_API void aud_drift_fill_zeros(double *p, size_t k);

/* PSI = sum (r_i - c_i) ln(r_i / c_i) over proportions already filled (no zeros). */
AUD_API double aud_drift_psi(const double *r, const double *c, size_t k);

/* Sort n doubles ascending (no NaN allowed): LSD radix sort on the IEEE bit patterns, O(n),
 * -0.0 sorts just before +0.0 (they compare equal, so no statistic sees it). Returns AUD_OK or
 * AUD_E_NOMEM (scratch space of 2n words). */
AUD_API int aud_drift_sort(double *x, size_t n);

/* ---- a reference given as a summary (a saved profile, SPEC section 8) -------------------------
 * The reference side of a numeric column as `audit profile --save` keeps it: a quantile summary
 * with exact ranks at its entries (aud_sketch_from_sorted), exact counts below the edges
 * of n_bins equal-width bins over [lo, hi] (edge j = lo + (hi - lo) * j / n_bins; bin j = [edge j,
 * edge j+1), the last closed) and exact moments. Drift against it runs on a sample expanded
 * from the summary (aud_drift_refsum_expand) that holds every value the summary knows exactly;
 * see docs/drift.md "Reference profiles" for what is exact and the bounds of the rest. */
struct aud_drift_refw;
typedef struct aud_drift_refsum {
    const aud_sketch *sketch;
    double            lo, hi;          /* the range of the values (min, max) */
    size_t            n_bins;
    const double     *below;           /* n_bins entries: below[j] = values < edge j */
    double            n;               /* non-missing values */
    double            mean, std;       /* exact; std with ddof 0 */
    size_t            distinct;        /* distinct values */
    size_t            max_tie;         /* largest count of one value that is not an entry */
    int               exact;           /* every distinct value is an entry of the sketch */
    const struct aud_drift_refw *cells;   /* its cells (drift_int.h) built once by the owner
                                             (a loaded profile), or NULL: built on each use */
} aud_drift_refsum;

/* Bounds on the number of reference values <= v (le = 1) or < v (le = 0), from the sketch and
 * the bins together: *lo <= true <= *hi. */
AUD_API void aud_drift_refsum_rank(const aud_drift_refsum *r, double v, int le, double *lo,
                                   double *hi);
/* aud_drift_refsum_rank for v asked in increasing order (*at: 0 at the start; see
 * aud_sketch_rank_walk). */
AUD_API void aud_drift_refsum_rank_walk(const aud_drift_refsum *r, double v, int le, size_t *at,
                                        double *lo, double *hi);

/* Expand the summary to r->n sorted values (out has r->n entries): every entry of the sketch
 * with its exact count, the values between two known points spread evenly over the gap, so
 * that counts below every entry and bin edge are exact. The sample itself when r->exact.
 * AUD_OK or AUD_E_NOMEM. */
AUD_API int aud_drift_refsum_expand(const aud_drift_refsum *r, double *out);

/* ---- 2. options, methods and one column ----------------------------------------------------- */

typedef enum aud_drift_method {
    AUD_DRIFT_AUTO = 0,             /* Evidently's default choice */
    AUD_DRIFT_KS,                   /* p_value <= threshold (0.05) */
    AUD_DRIFT_CHI_SQUARE,           /* p_value < threshold (0.05) */
    AUD_DRIFT_Z,                    /* p_value < threshold (0.05) */
    AUD_DRIFT_WASSERSTEIN_NORMED,   /* statistic >= threshold (0.1) */
    AUD_DRIFT_JENSEN_SHANNON,       /* statistic >= threshold (0.1) */
    AUD_DRIFT_PSI,                  /* statistic >= threshold (0.1) */
    AUD_DRIFT_ANDERSON_DARLING,     /* p_value < threshold (0.05) */
    AUD_DRIFT_CRAMER_VON_MISES,     /* p_value < threshold (0.05) */
    AUD_DRIFT_METHOD_MAX
} aud_drift_method;

/* "ks", "chi_square", ...; "auto" for AUD_DRIFT_AUTO; never NULL. */
AUD_API const char *aud_drift_method_name(aud_drift_method m);
/* Parse a method name (also accepts "wasserstein", "chisquare", "jensenshannon", "anderson",
 * "cvm"); returns 0 and sets *out, or -1. */
AUD_API int aud_drift_method_parse(const char *s, aud_drift_method *out);
/* Default threshold of a method (0.05 for tests, 0.1 for distances). */
AUD_API double aud_drift_method_default_threshold(aud_drift_method m);
/* 1 when the method compares a p-value (drifted when small), 0 for distances. */
AUD_API int aud_drift_method_is_test(aud_drift_method m);

typedef enum aud_psi_binning {
    AUD_PSI_QUANTILE = 0,   /* psi_bins bins at reference quantiles, duplicate edges merged */
    AUD_PSI_EVIDENTLY = 1   /* Sturges over both samples (> 20 unique reference values), else per value */
} aud_psi_binning;

typedef struct aud_drift_opts {
    aud_psi_binning  psi_binning;   /* AUD_PSI_QUANTILE */
    int              psi_bins;      /* 10 (quantile binning) */
    aud_drift_method method;        /* AUD_DRIFT_AUTO: a global override for every column where
                                       it applies; columns where it does not use AUTO */
    double           threshold;     /* NaN: the method's default */
    double           drift_share;   /* dataset drift when share of drifted columns >= this: 0.5 */
    int              threads;       /* 0 = all cores */
} aud_drift_opts;

AUD_API void aud_drift_opts_default(aud_drift_opts *opts);

/* Bins of PSI or Jensen-Shannon: counts per bin on each side. For numeric bins, edges has
 * n_bins + 1 entries; bin i is [edges[i], edges[i+1]) except that with open_ends the first
 * and last bins extend to -inf/+inf (quantile binning), and without it the last bin is closed
 * (numpy.histogram). For per-value bins (values != NULL), bin i holds values[i]. */
typedef struct aud_drift_bins {
    const char *kind;        /* "quantile", "sturges", "values", "categories" */
    size_t      n_bins;
    double     *edges;       /* n_bins + 1, or NULL */
    double     *values;      /* n_bins, or NULL */
    int         open_ends;
    double     *ref;         /* counts */
    double     *cur;
} aud_drift_bins;

typedef enum aud_drift_kind { AUD_DRIFT_NUMERIC = 0, AUD_DRIFT_CATEGORICAL = 1 } aud_drift_kind;

/* Everything computed for one column. NaN = not computed / not applicable. */
typedef struct aud_drift_column {
    char            *name;
    aud_drift_kind   kind;
    int              status;        /* AUD_OK, or the error of this column (then msg says why) */
    char             msg[256];
    size_t           rows_ref, rows_cur;        /* rows including missing */
    size_t           missing_ref, missing_cur;
    size_t           n_unique;                  /* distinct non-missing values over both sides */
    aud_drift_method method;                    /* primary test actually used */
    const char      *method_note;               /* why an override was not applied, or NULL */
    double           statistic;                 /* the primary test's value compared */
    double           threshold;
    int              drifted;                   /* 0/1; -1 when status != AUD_OK */
    /* numeric statistics */
    aud_drift_test   ks, anderson, cvm;
    double           wasserstein, wasserstein_normed, std_ref;
    double           mean_ref, mean_cur;                /* means of the non-missing values */
    /* any kind */
    aud_drift_test   chi_square, z;
    double           psi, jensen_shannon;
    aud_drift_bins   psi_bins, js_bins;
    /* categorical: level names of the category table (js_bins order), and which are new */
    char           **levels;
    size_t           n_levels;
    unsigned char   *unseen;                    /* 1 when absent from the reference */
    char            *similar;                   /* categories differing only by surrounding
                                                   spaces or case ("\"Male\" ~ \"male\"";
                                                   aud_similar_levels), owned; NULL: none */
    /* reference from a summary (aud_drift_refsum): 0 = the reference was the data itself */
    int              from_summary;
    int              summary_exact;             /* the summary was the whole sample */
    double           bound_ks, bound_wasserstein, bound_wasserstein_normed, bound_anderson,
                     bound_cvm;                 /* |figure - figure on the data| <= bound */
    int              psi_exact;                 /* the PSI bins' reference counts are exact */
    int              js_snapped;                /* Sturges edges moved onto the summary's bins */
} aud_drift_column;

/* Column override: method AUTO and threshold NaN mean "use the global setting". */
typedef struct aud_drift_override {
    aud_drift_method method;
    double           threshold;
} aud_drift_override;

/* Numeric column: ref/cur may hold NaN or +-inf (missing, dropped). opts NULL = defaults
 * (one thread; opts->threads other than 1 lets a large column's two sides and statistics run
 * on threads of their own, with the same figures); ovr NULL = no per-column override. col must
 * be zeroed (aud_drift_column_init); on return it holds the results or col->status/msg for a
 * per-column problem (e.g. no values on one side). Returns AUD_OK, or AUD_E_NOMEM (err
 * filled). */
AUD_API int aud_drift_column_numeric(aud_drift_column *col, const char *name, const double *ref,
                                     size_t n_ref, const double *cur, size_t n_cur,
                                     const aud_drift_opts *opts, const aud_drift_override *ovr,
                                     aud_error *err);

/* Categorical column given as counts over k categories (levels[i] names category i; a level
 * with count 0 on both sides is ignored); missing_* are the missing counts per side. */
AUD_API int aud_drift_column_categorical(aud_drift_column *col, const char *name,
                                         const char *const *levels, const double *ref_counts,
                                         const double *cur_counts, size_t k, size_t missing_ref,
                                         size_t missing_cur, const aud_drift_opts *opts,
                                         const aud_drift_override *ovr, aud_error *err);

AUD_API void aud_drift_column_init(aud_drift_column *col);
AUD_API void aud_drift_column_clear(aud_drift_column *col);   /* frees what the column owns */

/* ---- 3. a data set -------------------------------------------------------------------------- */

/* One column to compare: numeric arrays or categorical counts (see the column functions). */
typedef struct aud_drift_input {
    const char        *name;
    aud_drift_kind     kind;
    const double      *ref, *cur;               /* numeric */
    size_t             n_ref, n_cur;
    const char *const *levels;                  /* categorical */
    const double      *ref_counts, *cur_counts;
    size_t             k, missing_ref, missing_cur;
    aud_drift_override ovr;
    const char        *error;                   /* non-NULL: report this per-column error only */
    const aud_drift_refsum *refsum;             /* numeric reference from a summary, or NULL */
} aud_drift_input;

typedef struct aud_drift_result {
    size_t            n_cols;
    aud_drift_column *cols;
    size_t            n_drifted, n_tested, n_errors;
    double            drift_share;              /* n_drifted / n_tested (NaN when none tested) */
    double            share_threshold;
    int               dataset_drift;
    aud_psi_binning   psi_binning;
    int               has_rows;                 /* rows below are known (aud_drift_tables) */
    size_t            rows_reference, rows_current;
} aud_drift_result;

/* Compare every input column, in parallel over columns (opts->threads); the result does not
 * depend on the thread count. *out belongs to the caller (aud_drift_result_free). */
AUD_API int aud_drift_compute(aud_drift_result **out, const aud_drift_input *in, size_t n,
                              const aud_drift_opts *opts, aud_error *err);
AUD_API void aud_drift_result_free(aud_drift_result *r);

/* Build inputs from two tables and compute. columns (NULL = every column of ref) are matched
 * by name; a column missing in either table is an error (AUD_E_SCHEMA, field = column);
 * numeric in one table and categorical in the other is a per-column error; categories are
 * matched by level text (reference levels first, then new ones in order of appearance).
 * overrides (may be NULL) is parallel to columns. */
AUD_API int aud_drift_tables(aud_drift_result **out, const aud_table *ref, const aud_table *cur,
                             const char *const *columns, const aud_drift_override *overrides,
                             size_t n_columns, const aud_drift_opts *opts, aud_error *err);

/* The same with a reference table expanded from a summary (aud_refprof_table): refsums[j]
 * (may be NULL) summarises numeric column j of ref. */
AUD_API int aud_drift_tables_ref(aud_drift_result **out, const aud_table *ref,
                                 const aud_drift_refsum *const *refsums, const aud_table *cur,
                                 const char *const *columns,
                                 const aud_drift_override *overrides, size_t n_columns,
                                 const aud_drift_opts *opts, aud_error *err);

/* Add the "drift" object of SPEC section 5 to doc (numbers exact). Returns AUD_OK or
 * AUD_E_NOMEM. */
AUD_API int aud_drift_to_json(const aud_drift_result *r, cJSON *doc, aud_error *err);

/* The JSON object of one column (as in "columns" of the drift section), e.g. for prediction
 * drift: {"name", "type", "method", "statistic", ..., "ks": {...}, "psi_bins": {...}}.
 * NULL on no memory. The caller owns it. */
AUD_API cJSON *aud_drift_column_json(const aud_drift_column *col);

/* ---- attribution drift ---------------------------------------------------------------------- */

/* Change of global feature importance between reference and current data: for n features with
 * mean |SHAP| values ref[i] and cur[i], adds to parent the object `key`:
 *   {"features": [{"name", "mean_abs_reference", "mean_abs_current", "change" (cur - ref),
 *                  "relative_change" (change / ref, null when ref == 0), "rank_reference",
 *                  "rank_current", "rank_change" (rank_current - rank_reference)}],
 *    "max_abs_change", "rank_correlation" (Spearman, average ranks for ties, as
 *    scipy.stats.spearmanr; null with fewer than 2 features or a constant vector)}
 * Ranks: 1 = largest mean |SHAP|; equal values share order of appearance (stable).
 * Returns AUD_OK, AUD_E_DOMAIN (a value is NaN or negative) or AUD_E_NOMEM. */
AUD_API int aud_drift_attribution_json(cJSON *parent, const char *key, const char *const *names,
                                       const double *ref, const double *cur, size_t n,
                                       aud_error *err);

#endif
