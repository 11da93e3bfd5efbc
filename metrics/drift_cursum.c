/* drift_cursum.c - bounds on the drift statistics of a column whose current side is a quantile
 * summary (metrics/drift_cur_int.h).
 *
 * KS, Wasserstein, CvM, AD: aud_drift_ref_bounds with the summarised sample in the reference's
 * place; each statistic is symmetric in its two samples (KS and Wasserstein by definition; the
 * two-sample CvM and AD statistics are sums over the pooled sample of terms symmetric in the
 * two ECDFs, and their null moments depend on the sizes symmetrically), so the bound carries
 * over. The normed Wasserstein distance divides by the REFERENCE's std (exact here).
 *
 * Binned figures: every bin's current count c_i lies in [lo_i, hi_i] from the summary's rank
 * bounds at the bin's edges. Jensen-Shannon divergence is a sum of per-bin terms
 * t(p, q) = (p ln(2p/(p+q)) + q ln(2q/(p+q))) / 2, convex in q with its minimum 0 at q = p;
 * the true and the computed divergence both lie within the sum over bins of (largest - smallest
 * t over q in [lo_i, hi_i] / n), and the distance (its square root) within what that allows.
 * PSI: 0 when every count is exact (the reference's quantile edges are exact points of the
 * partials' summaries, audit/shard.c), else unknown (NaN). */
#include "metrics/drift_cur_int.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <string.h>

/* finite values of v[0..n) sorted into a new array (*m of them); NULL on no memory. A merged
 * column expanded from a summary comes sorted: then no sort. */
static double *sorted_finite(const double *v, size_t n, size_t *m)
{
    double *x = aud_malloc((n + 1) * sizeof *x);
    size_t up = 0;
    *m = 0;
    if (x == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            x[(*m)++] = v[i] + 0.0;
    while (up + 1 < *m && x[up] <= x[up + 1])
        up++;
    if (up + 1 < *m && aud_drift_sort(x, *m) != AUD_OK) {
        aud_free(x);
        return NULL;
    }
    return x;
}

static double js_term(double p, double q)
{
    double m = (p + q) / 2, t = 0.0;
    if (p > 0)
        t += p * log(p / m);
    if (q > 0)
        t += q * log(q / m);
    return t / 2;
}

/* Range of the current count of every bin of b; *exact = all ranges are one point. Returns the
 * Jensen-Shannon divergence bound (sum of term widths), NaN for bins without edges. */
static double bins_bound(const aud_drift_bins *b, const aud_drift_refsum *cur, double n2,
                         int *exact)
{
    *exact = 0;
    if (b->edges == NULL || b->n_bins == 0)
        return NAN;
    double tref = 0.0, width = 0.0, plo = 0.0, phi = 0.0;
    for (size_t i = 0; i < b->n_bins; i++)
        tref += b->ref[i];
    *exact = 1;
    for (size_t i = 0; i <= b->n_bins; i++) {
        double lo, hi;
        if (i == 0 && b->open_ends)
            lo = hi = 0.0;
        else if (i == b->n_bins && b->open_ends)
            lo = hi = n2;
        else   /* bin i = [edge i, edge i+1), the last one closed */
            aud_drift_refsum_rank(cur, b->edges[i], i == b->n_bins, &lo, &hi);
        *exact &= lo == hi;
        if (i > 0 && tref > 0) {
            double p = b->ref[i - 1] / tref;
            double qa = fmax(0.0, lo - phi) / n2, qb = fmax(0.0, hi - plo) / n2;
            double ta = js_term(p, qa), tb = js_term(p, qb);
            double mn = p >= qa && p <= qb ? 0.0 : fmin(ta, tb);
            width += fmax(ta, tb) - mn;
        }
        plo = lo;
        phi = hi;
    }
    return tref > 0 ? width : NAN;
}

int aud_drift_cur_bounds(const aud_drift_column *col, const aud_drift_refsum *cur,
                         const double *ref, size_t n_ref, const double *cur_exp, size_t n_cur,
                         aud_drift_cur_bound *out, aud_error *err)
{
    out->ks = out->wasserstein = out->wasserstein_normed = NAN;
    out->anderson_darling = out->cramer_von_mises = out->jensen_shannon = out->psi = NAN;
    size_t n1 = 0, n2 = 0;
    double *x = sorted_finite(ref, n_ref, &n1);
    double *y = x != NULL ? sorted_finite(cur_exp, n_cur, &n2) : NULL;
    if (y == NULL) {
        aud_free(x);
        return aud_error_nomem(err);
    }
    if (n1 > 0 && n2 > 0 && col->status == AUD_OK) {
        aud_drift_column t;
        aud_drift_column_init(&t);
        aud_drift_ref_bounds(&t, cur, y, n2, x, n1);
        out->ks = t.bound_ks;
        out->wasserstein = t.bound_wasserstein;
        out->wasserstein_normed = isfinite(col->std_ref) ? t.bound_wasserstein /
                                                               fmax(col->std_ref, 0.001)
                                                         : NAN;
        out->anderson_darling = t.bound_anderson;
        out->cramer_von_mises = t.bound_cvm;
        aud_drift_column_clear(&t);
        int exact = 0;
        double w = bins_bound(&col->js_bins, cur, (double)n2, &exact);
        double d = col->jensen_shannon, d2 = d * d;
        if (exact)
            out->jensen_shannon = 0.0;
        else if (isfinite(w) && isfinite(d))
            out->jensen_shannon = fmax(sqrt(d2 + w) - d, d - sqrt(fmax(0.0, d2 - w)));
        bins_bound(&col->psi_bins, cur, (double)n2, &exact);
        if (exact)
            out->psi = 0.0;
    }
    aud_free(x);
    aud_free(y);
    return AUD_OK;
}
