/* drift_ref.c - drift against a reference given as a summary (a saved profile, SPEC section 8):
 * rank bounds from the quantile summary and the fine bins together, the expanded reference
 * sample, Sturges edges moved onto the fine bins, and the error bounds of the ECDF statistics.
 *
 * Bounds (docs/drift.md "Reference profiles"). For every v the number of reference values
 * <= v lies in [L(v), U(v)] (aud_drift_refsum_rank); the expanded sample and the true one both
 * do. So
 *   KS:          |D' - D| <= sup_v (U - L) / n1;
 *   Wasserstein: |W' - W| <= integral of (U - L) / n1 dv (a sum over the gaps between known
 *                points, where U - L is constant);
 *   CvM, AD:     per point of the pooled sample, the term of the statistic in its integral form
 *                (Anderson 1962; Scholz & Stephens 1987, midranks M = #below + #equal/2) has
 *                one exact rank and the other within a known range: the bound is the sum of
 *                (largest - smallest) term over those ranges (scaled as the statistic); a
 *                reference value not known exactly is placed anywhere between its neighbouring
 *                known points, and within a run of equal values (max_tie) anywhere in it. */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double fine_edge(const aud_drift_refsum *r, size_t j)
{
    return r->lo + (r->hi - r->lo) * (double)j / (double)r->n_bins;
}

/* Bin j with edge j <= v < edge j+1 (the last bin closed); v within [lo, hi]. */
static size_t bin_of(const aud_drift_refsum *r, double v)
{
    size_t B = r->n_bins;
    double f = (v - r->lo) / (r->hi - r->lo) * (double)B;
    size_t j = f <= 0 ? 0 : f >= (double)(B - 1) ? B - 1 : (size_t)f;
    while (j > 0 && fine_edge(r, j) > v)
        j--;
    while (j + 1 < B && fine_edge(r, j + 1) <= v)
        j++;
    return j;
}

/* values below edge j (j <= n_bins; n for the last edge: the last bin is closed) */
static double cum_below(const aud_drift_refsum *r, size_t j)
{
    return j >= r->n_bins ? r->n : r->below[j];
}

void aud_drift_refsum_rank(const aud_drift_refsum *r, double v, int le, double *lo, double *hi)
{
    aud_drift_refsum_rank_walk(r, v, le, NULL, lo, hi);
}

void aud_drift_refsum_rank_walk(const aud_drift_refsum *r, double v, int le, size_t *at,
                                double *lo, double *hi)
{
    double a = 0.0, b = r->n;
    if (r->n <= 0 || v < r->lo || (v == r->lo && !le)) {
        *lo = *hi = 0.0;
        return;
    }
    if (v > r->hi || (v == r->hi && le)) {
        *lo = *hi = r->n;
        return;
    }
    if (r->sketch != NULL && at != NULL)
        aud_sketch_rank_walk(r->sketch, v, le, at, &a, &b);
    else if (r->sketch != NULL)
        aud_sketch_rank(r->sketch, v, le, &a, &b);
    if (r->n_bins > 0 && r->hi > r->lo) {
        size_t j = bin_of(r, v);
        double e = fine_edge(r, j);
        double below = cum_below(r, j), next = cum_below(r, j + 1);
        a = fmax(a, below);
        if (!le && v == e)
            b = fmin(b, below);
        else
            b = fmin(b, next);
    }
    *lo = a;
    *hi = b < a ? a : b;
}

/* ---- the known points: sketch entries and fine-bin edges, merged ---------------------------- */

typedef struct knots {
    double *v;
    size_t  n;
} knots;

static int knots_build(const aud_drift_refsum *r, knots *k);


int aud_drift_ref_knots(const aud_drift_refsum *r, double **v, size_t *n)
{
    knots k;
    int rc = knots_build(r, &k);
    *v = k.v;
    *n = k.n;
    return rc;
}

static int knots_build(const aud_drift_refsum *r, knots *k)
{
    size_t ns = r->sketch ? r->sketch->n_e : 0;
    size_t nb = r->hi > r->lo && r->n_bins > 0 ? r->n_bins + 1 : 0;   /* no bins: sketch only */
    k->v = aud_malloc((ns + nb + 2) * sizeof *k->v);
    k->n = 0;
    if (k->v == NULL)
        return AUD_E_NOMEM;
    size_t i = 0, j = 0;
    while (i < ns || j < nb) {
        double a = i < ns ? r->sketch->e[i].v : INFINITY;
        double b = j < nb ? fine_edge(r, j) : INFINITY;
        double v = a <= b ? a : b;
        if (a <= b)
            i++;
        if (b <= a)
            j++;
        if (v < r->lo || v > r->hi)
            continue;
        if (k->n == 0 || v > k->v[k->n - 1])
            k->v[k->n++] = v;
    }
    if (k->n == 0 || k->v[0] > r->lo) {   /* min and max are always known points */
        memmove(k->v + 1, k->v, k->n * sizeof *k->v);
        k->v[0] = r->lo;
        k->n++;
    }
    if (k->v[k->n - 1] < r->hi)
        k->v[k->n++] = r->hi;
    return AUD_OK;
}

int aud_drift_refsum_expand(const aud_drift_refsum *r, double *out)
{
    size_t n = (size_t)r->n;
    if (n == 0)
        return AUD_OK;
    knots k;
    if (knots_build(r, &k) != AUD_OK)
        return AUD_E_NOMEM;
    size_t pos = 0;
    double prev_le = 0.0, prev_v = k.v[0];
    for (size_t i = 0; i < k.n; i++) {
        double v = k.v[i], lo, hi, lo2, hi2;
        aud_drift_refsum_rank(r, v, 0, &lo, &hi);
        aud_drift_refsum_rank(r, v, 1, &lo2, &hi2);
        double lt = nearbyint((lo + hi) / 2), le = nearbyint(lo2);   /* atoms only as known */
        if (i + 1 == k.n)
            le = r->n;
        lt = fmin(fmax(lt, prev_le), r->n);
        le = fmin(fmax(le, lt), r->n);
        size_t m = (size_t)(lt - prev_le);
        for (size_t t = 0; t < m && pos < n; t++)   /* spread over the gap (prev_v, v) */
            out[pos++] = fmin(prev_v + (v - prev_v) * (((double)t + 0.5) / (double)m), v);
        for (double t = lt; t < le && pos < n; t += 1.0)
            out[pos++] = v;
        prev_le = le;
        prev_v = v;
    }
    while (pos < n)
        out[pos++] = r->hi;
    aud_free(k.v);
    return AUD_OK;
}

int aud_drift_ref_snap(const aud_drift_refsum *r, double *edges, size_t n_bins)
{
    if (r->n_bins == 0 || !(r->hi > r->lo))
        return 0;
    int moved = 0;
    for (size_t i = 1; i < n_bins; i++) {
        double e = edges[i];
        if (!(e > r->lo && e < r->hi))
            continue;
        double f = nearbyint((e - r->lo) / (r->hi - r->lo) * (double)r->n_bins);
        double s = fine_edge(r, (size_t)f);
        if (s != e && s > edges[i - 1] && s < edges[i + 1]) {
            edges[i] = s;
            moved = 1;
        }
    }
    return moved;
}

/* ---- bounds ------------------------------------------------------------------------------ */

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* smallest and largest d^2 over d in [a, b] */
static inline void sq_range(double a, double b, double *mn, double *mx)
{
    *mn = a <= 0 && b >= 0 ? 0.0 : MIN(a * a, b * b);
    *mx = MAX(a * a, b * b);
}

typedef struct term_acc {
    double N, n1, n2;
    double cvm, ad;   /* summed widths */
    int    ad_ok;
} term_acc;

/* One point of the pooled sample with midranks M1 in [a1, b1], M2 in [a2, b2]. */
static inline void add_term(term_acc *t, double a1, double b1, double a2, double b2)
{
    a1 = MAX(a1, 0.0);   /* a midrank lies in [1/2, n - 1/2] of its sample: clamp the ranges */
    b1 = MIN(b1, t->n1);
    a2 = MAX(a2, 0.0);
    b2 = MIN(b2, t->n2);
    double mn, mx;
    sq_range(a1 / t->n1 - b2 / t->n2, b1 / t->n1 - a2 / t->n2, &mn, &mx);
    t->cvm += mx - mn;
    double gmn, gmx;
    sq_range(t->n2 * a1 - t->n1 * b2, t->n2 * b1 - t->n1 * a2, &gmn, &gmx);
    double N = t->N, blo = MAX(a1 + a2, 0.5), bhi = MIN(b1 + b2, N - 0.5);
    double dlo = blo * (N - blo) - N / 4, dhi = bhi * (N - bhi) - N / 4;
    double dmin = MIN(dlo, dhi);
    double dmax = blo <= N / 2 && bhi >= N / 2 ? N * N / 4 - N / 4 : MAX(dlo, dhi);
    if (!(dmin > 0)) {
        t->ad_ok = 0;
        return;
    }
    t->ad += gmx / dmin - gmn / dmax;
}

/* first index of x[lo..n) with x >= v (le = 0) or x > v (le = 1) */
static size_t advance(const double *x, size_t i, size_t n, double v, int le)
{
    while (i < n && (x[i] < v || (le && x[i] == v)))
        i++;
    return i;
}

static int entry_exact(const aud_sketch *s, double v)
{
    if (s == NULL)
        return 0;
    size_t a = 0, b = s->n_e;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (s->e[m].v < v)
            a = m + 1;
        else
            b = m;
    }
    return a < s->n_e && s->e[a].v == v && s->e[a].rmax - s->e[a].rmin == s->e[a].wmin;
}

void aud_drift_ref_bounds(aud_drift_column *col, const aud_drift_refsum *r, const double *x,
                          size_t n1, const double *y, size_t n2)
{
    col->from_summary = 1;
    col->summary_exact = r->exact;
    if (r->exact) {
        col->bound_ks = col->bound_wasserstein = col->bound_wasserstein_normed = 0.0;
        col->bound_anderson = col->bound_cvm = 0.0;
        return;
    }
    col->bound_ks = col->bound_wasserstein = col->bound_anderson = col->bound_cvm = NAN;
    col->bound_wasserstein_normed = NAN;
    knots k;
    if (knots_build(r, &k) != AUD_OK)
        return;   /* no memory: the bounds stay unknown (null), never wrong */
    double n1d = (double)n1, ks = 0.0, w = 0.0, lo, hi;
    for (size_t i = 0; i < k.n; i++) {
        aud_drift_refsum_rank(r, k.v[i], 1, &lo, &hi);
        ks = fmax(ks, hi - lo);
        if (i + 1 < k.n) {
            double mid = k.v[i] + (k.v[i + 1] - k.v[i]) / 2;
            aud_drift_refsum_rank(r, mid, 1, &lo, &hi);
            ks = fmax(ks, hi - lo);
            w += (hi - lo) * (k.v[i + 1] - k.v[i]);
        }
    }
    col->bound_ks = ks / n1d;
    col->bound_wasserstein = w / n1d;
    col->bound_wasserstein_normed = isfinite(r->std) ? col->bound_wasserstein /
                                                           fmax(r->std, 0.001)
                                                     : NAN;
    /* CvM and AD: walk the pooled sample */
    term_acc t = {(double)(n1 + n2), n1d, (double)n2, 0.0, 0.0, 1};
    double tie = r->max_tie > 1 ? ((double)r->max_tie - 1) / 2 : 0.0;
    size_t kb = 0, ca = 0, cb = 0;   /* knot index; #cur < a; #cur <= b */
    for (size_t i = 0; i < n1;) {
        double v = x[i];
        size_t j = i;
        while (j < n1 && x[j] == v)
            j++;
        if (entry_exact(r->sketch, v)) {   /* exact points: the same terms on both sides */
            i = j;
            continue;
        }
        while (kb < k.n && k.v[kb] < v)
            kb++;
        double a = kb > 0 ? k.v[kb - 1] : k.v[0];
        double b = kb < k.n ? (k.v[kb] == v && kb + 1 < k.n ? k.v[kb + 1] : k.v[kb])
                            : k.v[k.n - 1];
        ca = advance(y, ca, n2, a, 0);
        cb = advance(y, cb, n2, b, 1);
        double slack = fmax(tie, (double)(j - i - 1) / 2);   /* true ties, or expanded ones */
        for (size_t q = i; q < j; q++) {
            double m1 = (double)q + 0.5;
            add_term(&t, m1 - slack, m1 + slack, (double)ca, (double)cb);
        }
        i = j;
    }
    for (size_t q = 0; q < n2;) {
        double v = y[q];
        size_t e = q;
        while (e < n2 && y[e] == v)
            e++;
        double llt, ult, lle, ule;
        aud_drift_refsum_rank(r, v, 0, &llt, &ult);
        aud_drift_refsum_rank(r, v, 1, &lle, &ule);
        double m2 = (double)q + (double)(e - q) / 2;
        if (!(llt == ult && lle == ule))
            for (size_t z = q; z < e; z++)
                add_term(&t, (llt + lle) / 2, (ult + ule) / 2, m2, m2);
        q = e;
    }
    double N = t.N;
    col->bound_cvm = t.cvm * n1d * (double)n2 / (N * N);
    /* the null variance is O(n1 + n2) to compute: once per pair of sizes and thread */
    static _Thread_local size_t s1, s2;
    static _Thread_local double svar;
    if (s1 != n1 || s2 != n2) {
        svar = aud_drift_ad_variance(n1, n2);
        s1 = n1;
        s2 = n2;
    }
    double sig = sqrt(svar);
    if (t.ad_ok && sig > 0)
        col->bound_anderson = t.ad * (1.0 / n1d + 1.0 / (double)n2) * (N - 1) / (N * N) / sig;
    aud_free(k.v);
}
