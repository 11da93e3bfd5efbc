/* drift_int.h - internals shared by the drift sources (not part of the public API). */
#ifndef AUD_DRIFT_INT_H
#define AUD_DRIFT_INT_H

#include <math.h>
#include "metrics/drift.h"
#include "metrics/ksum_int.h"

/* Scratch space of one worker, reused from column to column so that large columns do not
 * allocate (and page-fault) fresh memory each time. */
typedef struct aud_drift_ws {
    double   *x, *y;       /* non-missing values of each side */
    uint64_t *k1, *k2;     /* radix-sort keys */
    uint64_t *k3, *k4;     /* the current side's keys when both sides sort at once */
    size_t    cap_x, cap_y, cap_k, cap_k2;
    int       split;       /* 1: a large column's sorts and statistics may run on threads of
                            * their own (the columns are fewer than the threads) */
    int       split16;     /* the same at 16 threads (for the bound of --verbose) */
} aud_drift_ws;

void aud_drift_ws_free(aud_drift_ws *ws);

/* Radix sort of x[0..n) using the caller's key buffers k1, k2 (n entries each). */
void aud_drift_sort_ws(double *x, size_t n, uint64_t *k1, uint64_t *k2);

/* aud_drift_column_numeric with a workspace. */
int aud_drift_column_numeric_ws(aud_drift_column *col, const char *name, const double *ref,
                                size_t n_ref, const double *cur, size_t n_cur,
                                const aud_drift_opts *opts, const aud_drift_override *ovr,
                                const aud_drift_refsum *refsum, aud_drift_ws *ws,
                                aud_error *err);

/* The bounds of a column whose reference came from a summary (drift_ref.c): x the expanded
 * reference, y the current values, both sorted. */
void aud_drift_ref_bounds(aud_drift_column *col, const aud_drift_refsum *r, const double *x,
                          size_t n1, const double *y, size_t n2);

/* Move the interior edges of Sturges bins that fall inside [r->lo, r->hi] onto the nearest
 * edge of r's bins (kept where that would not increase); 1 when an edge moved. */
int aud_drift_ref_snap(const aud_drift_refsum *r, double *edges, size_t n_bins);

/* The tails of aud_drift_ks, aud_drift_anderson and aud_drift_cvm, from the figures their merges
 * accumulate (max and min of F1 - F2; the two weighted sums and the count of distinct values;
 * U and T), for statistics computed without the samples (drift_refw.c). test_init'ed out. */
void aud_drift_ks_finish(double maxS, double minD, size_t n1, size_t n2, aud_drift_test *out);
void aud_drift_anderson_finish(double s1, double s2, size_t n1, size_t n2, size_t nuniq,
                               aud_drift_test *out);
int aud_drift_cvm_finish(double u, double t, size_t n1, size_t n2, aud_drift_test *out);

/* numpy's pairwise summation of one block (numpy.sum adds blocks of 8192 in order). */
double aud_drift_np_pairwise(const double *a, size_t n);

/* The known points of a summary (sketch entries and bin edges in [lo, hi], ascending, lo and
 * hi included): *v allocated (aud_free). AUD_OK or AUD_E_NOMEM. */
int aud_drift_ref_knots(const aud_drift_refsum *r, double **v, size_t *n);

/* ---- statistics over the summary's cells (drift_refw.c) ----
 * The reference as cells in value order: atoms (w values equal to lo = hi, count exact) and
 * gaps (w values in (lo, hi), or [lo, hi) when lo_closed, positions unknown); before = values
 * below the cell. Built when every cut between cells has an exact count (always so for a
 * profile `audit profile --save` wrote: its summary holds exact ranks). */
typedef struct aud_drift_refw_cell {
    double lo, hi, w, before;
    int    atom, lo_closed;
} aud_drift_refw_cell;

typedef struct aud_drift_refw {
    aud_drift_refw_cell *c;
    size_t               n_c;
    double               n;
    size_t               n_atoms;
    int                  borrowed;   /* c is r->cells' (aud_drift_refw_free leaves it) */
} aud_drift_refw;

/* AUD_OK, -1 when some cut has no exact count (use the expanded sample), AUD_E_NOMEM. With
 * r->cells set, *w borrows those (no work). */
int aud_drift_refw_build(aud_drift_refw *w, const aud_drift_refsum *r);
void aud_drift_refw_free(aud_drift_refw *w);
/* The cells' count of values < v (le = 0) or <= v: exact at cuts, inside a gap its share
 * w (v - lo) / (hi - lo) rounded. */
double aud_drift_refw_below(const aud_drift_refw *w, double v, int le);
/* The value of 0-based rank i: an atom's value, inside a gap the i-th of its w values spread
 * evenly (as aud_drift_refsum_expand). */
double aud_drift_refw_value(const aud_drift_refw *w, double i);
/* Distinct values over the atoms and the sorted y; with vals/rc/cc (may be NULL) the value
 * table (values, reference and current counts). Atoms only (an exact summary). */
size_t aud_drift_refw_values(const aud_drift_refw *w, const double *y, size_t n2, double *vals,
                             double *rc, double *cc);
/* KS, Wasserstein, Anderson-Darling, Cramer-von Mises of the cells against the sorted y and
 * their bounds (docs/drift.md "Reference profiles"), in O(cells + n2). AUD_OK or
 * AUD_E_NOMEM. */
int aud_drift_refw_stats(aud_drift_column *col, const aud_drift_refw *w,
                         const aud_drift_refsum *r, const double *y, size_t n2);

/* The two sums of the AD null variance for N values in all (scipy anderson_ksamp's h and g),
 * in closed form: 0, or -1 for N < 2. */
int aud_drift_ad_hg(size_t N, double *h, double *g);
/* Variance of the two-sample Anderson-Darling statistic under the null (sizes only). */
double aud_drift_ad_variance(size_t n1, size_t n2);



#endif
