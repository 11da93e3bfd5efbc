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
                                aud_drift_ws *ws, aud_error *err);

#endif
