/* drift_cur_int.h - drift of a column whose CURRENT side is known only as a quantile summary
 * (the merged partials of sharded runs, docs/scale-out.md): the statistics are computed on the
 * sample expanded from the summary (aud_drift_refsum_expand) and this states how far each may
 * be from the statistic on the true current values. */
#ifndef AUD_DRIFT_CUR_INT_H
#define AUD_DRIFT_CUR_INT_H

#include "metrics/drift.h"

typedef struct aud_drift_cur_bound {
    /* |figure on the expanded sample - figure on the true values| <= bound; 0 when exact; NaN
     * when no bound is known */
    double ks, wasserstein, wasserstein_normed, anderson_darling, cramer_von_mises;
    double jensen_shannon, psi;
} aud_drift_cur_bound;

/* col: computed by aud_drift_column_numeric with ref[0..n_ref) and, as current values,
 * cur_exp[0..n_cur) expanded from the summary cur (NaN = missing, any order). The bounds
 * follow docs/drift.md "Reference profiles" with the roles of the two samples exchanged (KS,
 * Wasserstein, Cramer-von Mises and Anderson-Darling are symmetric in them); Jensen-Shannon
 * and PSI from the range of every bin's current count (see drift_cursum.c). AUD_OK or
 * AUD_E_NOMEM. */
int aud_drift_cur_bounds(const aud_drift_column *col, const aud_drift_refsum *cur,
                         const double *ref, size_t n_ref, const double *cur_exp, size_t n_cur,
                         aud_drift_cur_bound *out, aud_error *err);

#endif
