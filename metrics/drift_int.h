/* drift_int.h - internals shared by the drift sources (not part of the public API). */
#ifndef AUD_DRIFT_INT_H
#define AUD_DRIFT_INT_H

#include "metrics/drift.h"

/* Scratch space of one worker, reused from column to column so that large columns do not
 * allocate (and page-fault) fresh memory each time. */
typedef struct aud_drift_ws {
    double   *x, *y;       /* non-missing values of each side */
    uint64_t *k1, *k2;     /* radix-sort keys */
    size_t    cap_x, cap_y, cap_k;
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

/* Variance of the two-sample Anderson-Darling statistic under the null (sizes only). */
double aud_drift_ad_variance(size_t n1, size_t n2);

#endif
