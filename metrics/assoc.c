/* assoc.c - association of a feature with a sensitive attribute, for the proxy screen (SPEC
 * section 7; definitions in docs/fairness.md "Proxy screen"):
 *
 *   Cramer's V (Cramer 1946)         V = sqrt(chi2 / (n (min(r, c) - 1))), chi2 the Pearson
 *                                    statistic of the r x c table without empty rows/columns
 *                                    (scipy.stats.contingency.association, method "cramer");
 *   correlation ratio (Pearson 1903) eta = sqrt(SS_between / SS_total) of the feature's values
 *                                    grouped by the attribute (missing values dropped);
 *   normalised mutual information    NMI = I(U; V) / ((H(U) + H(V)) / 2), natural logs
 *                                    (sklearn normalized_mutual_info_score, arithmetic mean).
 *
 * A feature with at most AUD_ASSOC_MAX_LEVELS distinct values is discrete: its values are the
 * levels and V is its measure. Otherwise it is continuous: eta is its measure and, for NMI, its
 * values are binned at the deciles (numpy.quantile, linear interpolation; duplicate edges merged;
 * bin = number of edges <= x, numpy.searchsorted side "right"). A missing value is a level of its
 * own for V and NMI. */
#include "metrics/fair_drivers_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Place the order statistics want[0..nw) (sorted, each in [lo, hi)) of v[lo..hi) at their
 * positions (multi-quickselect, Hoare 1961; median-of-three pivots). */
static void multiselect(double *v, size_t lo, size_t hi, const size_t *want, size_t nw)
{
    while (nw > 0 && hi - lo > 16) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap_d(&v[mid], &v[lo]);
        if (v[hi - 1] < v[lo])
            swap_d(&v[hi - 1], &v[lo]);
        if (v[hi - 1] < v[mid])
            swap_d(&v[hi - 1], &v[mid]);
        double p = v[mid];
        /* three-way partition: < p | == p | > p */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (v[i] < p)
                swap_d(&v[lt++], &v[i++]);
            else if (v[i] > p)
                swap_d(&v[i], &v[--gt]);
            else
                i++;
        }
        size_t a = 0;
        while (a < nw && want[a] < lt)
            a++;
        size_t b = a;
        while (b < nw && want[b] < gt)
            b++;
        /* want[0..a) left of lt, [a..b) equal to p (done), [b..nw) right of gt */
        if (a > 0)
            multiselect(v, lo, lt, want, a);
        want += b;
        nw -= b;
        lo = gt;
    }
    if (nw > 0)
        qsort(v + lo, hi - lo, sizeof *v, cmp_double);
}

/* numpy.quantile(x, k / AUD_ASSOC_BINS), k = 1..BINS-1, method "linear", on the m finite values
 * of v (reordered): virtual index h = (m - 1) q, a = v(floor h), b = v(floor h + 1),
 * g = h - floor h; a + (b - a) g, or b - (b - a)(1 - g) when g >= 0.5 (numpy's _lerp). */
static size_t decile_edges(double *v, size_t m, double *edges)
{
    size_t want[2 * AUD_ASSOC_BINS], nw = 0;
    for (int k = 1; k < AUD_ASSOC_BINS; k++) {
        double h = (double)(m - 1) * ((double)k / AUD_ASSOC_BINS);
        size_t f = (size_t)floor(h);
        if (nw == 0 || want[nw - 1] != f)
            want[nw++] = f;
        if (f + 1 < m && want[nw - 1] != f + 1)
            want[nw++] = f + 1;
    }
    multiselect(v, 0, m, want, nw);
    size_t ne = 0;
    for (int k = 1; k < AUD_ASSOC_BINS; k++) {
        double h = (double)(m - 1) * ((double)k / AUD_ASSOC_BINS);
        double fl = floor(h), g = h - fl;
        size_t f = (size_t)fl;
        double a = v[f], b = f + 1 < m ? v[f + 1] : v[f], d = b - a;
        double q = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
        if (ne == 0 || q != edges[ne - 1])
            edges[ne++] = q;
    }
    return ne;
}

int aud_assoc_feature_prepare(aud_assoc_feature *f, const double *x, size_t n, aud_error *err)
{
    memset(f, 0, sizeof *f);
    f->x = x;
    f->n = n;
    f->level = aud_malloc((n ? n : 1) * sizeof *f->level);
    if (f->level == NULL)
        return aud_error_nomem(err);
    double seen[AUD_ASSOC_MAX_LEVELS + 1];
    size_t ns = 0, m = 0;
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            missing = 1;
            continue;
        }
        m++;
        if (ns > AUD_ASSOC_MAX_LEVELS)
            continue;
        size_t k = 0;
        while (k < ns && seen[k] != x[i])
            k++;
        if (k == ns)
            seen[ns++] = x[i];
        f->level[i] = (int32_t)k;   /* order of first appearance; sorted below */
    }
    double edges[AUD_ASSOC_BINS];
    size_t ne = 0;
    f->discrete = ns <= AUD_ASSOC_MAX_LEVELS;
    int32_t rank[AUD_ASSOC_MAX_LEVELS + 1];   /* first-appearance index -> sorted level */
    if (f->discrete) {
        double sorted[AUD_ASSOC_MAX_LEVELS + 1];
        memcpy(sorted, seen, ns * sizeof *seen);
        qsort(sorted, ns, sizeof *sorted, cmp_double);
        for (size_t k = 0; k < ns; k++) {
            size_t r = 0;
            while (sorted[r] != seen[k])
                r++;
            rank[k] = (int32_t)r;
        }
    } else {
        double *v = aud_malloc(m * sizeof *v);
        if (v == NULL) {
            aud_assoc_feature_free(f);
            return aud_error_nomem(err);
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isnan(x[i]))
                v[k++] = x[i];
        }
        ne = decile_edges(v, m, edges);
        aud_free(v);
    }
    size_t nl = f->discrete ? ns : ne + 1;
    for (size_t i = 0; i < n; i++) {
        double xi = x[i];
        size_t lv;
        if (isnan(xi)) {
            lv = nl;
        } else if (f->discrete) {
            lv = (size_t)rank[f->level[i]];
        } else {                    /* edges <= x */
            lv = 0;
            while (lv < ne && edges[lv] <= xi)
                lv++;
        }
        f->level[i] = (int32_t)lv;
    }
    f->n_levels = nl + (size_t)missing;
    return AUD_OK;
}

int aud_assoc_feature_prepare_codes(aud_assoc_feature *f, const int32_t *codes, size_t n_levels,
                                    size_t n, aud_error *err)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    f->discrete = 1;
    f->level = aud_malloc((n ? n : 1) * sizeof *f->level);
    if (f->level == NULL)
        return aud_error_nomem(err);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        missing |= codes[i] < 0;
        f->level[i] = codes[i] < 0 ? (int32_t)n_levels : codes[i];
    }
    f->n_levels = n_levels + (size_t)missing;
    return AUD_OK;
}

void aud_assoc_feature_free(aud_assoc_feature *f)
{
    if (f == NULL)
        return;
    aud_free(f->level);
    memset(f, 0, sizeof *f);
}

/* Row and column totals of a table; returns the grand total. */
static uint64_t margins(const uint64_t *tab, size_t r, size_t c, uint64_t *rs, uint64_t *cs)
{
    uint64_t n = 0;
    memset(rs, 0, r * sizeof *rs);
    memset(cs, 0, c * sizeof *cs);
    for (size_t i = 0; i < r; i++) {
        for (size_t j = 0; j < c; j++) {
            rs[i] += tab[i * c + j];
            cs[j] += tab[i * c + j];
        }
        n += rs[i];
    }
    return n;
}

double aud_assoc_cramers_v(const uint64_t *tab, size_t r, size_t c, const char **why)
{
    uint64_t *rs = aud_malloc((r + c + 1) * sizeof *rs), *cs = rs + r;
    *why = NULL;
    if (rs == NULL) {
        *why = "out of memory";
        return NAN;
    }
    uint64_t n = margins(tab, r, c, rs, cs);
    size_t rr = 0, cc = 0;
    for (size_t i = 0; i < r; i++)
        rr += rs[i] > 0;
    for (size_t j = 0; j < c; j++)
        cc += cs[j] > 0;
    double v = NAN;
    if (rr < 2 || cc < 2) {
        *why = "needs at least two observed values of the feature and of the attribute";
    } else {
        double chi2 = 0.0, dn = (double)n;
        for (size_t i = 0; i < r; i++) {
            for (size_t j = 0; j < c; j++) {
                if (rs[i] == 0 || cs[j] == 0)
                    continue;
                double e = (double)rs[i] * (double)cs[j] / dn, d = (double)tab[i * c + j] - e;
                chi2 += d * d / e;
            }
        }
        size_t k = rr < cc ? rr : cc;
        v = sqrt(chi2 / dn / (double)(k - 1));
    }
    aud_free(rs);
    return v;
}

double aud_assoc_nmi(const uint64_t *tab, size_t r, size_t c)
{
    uint64_t *rs = aud_malloc((r + c + 1) * sizeof *rs), *cs = rs + r;
    if (rs == NULL)
        return NAN;
    uint64_t n = margins(tab, r, c, rs, cs);
    size_t rr = 0, cc = 0;
    double dn = (double)n, hu = 0.0, hv = 0.0, mi = 0.0;
    for (size_t i = 0; i < r; i++) {
        if (rs[i] > 0) {
            rr++;
            hu -= (double)rs[i] / dn * log((double)rs[i] / dn);
        }
    }
    for (size_t j = 0; j < c; j++) {
        if (cs[j] > 0) {
            cc++;
            hv -= (double)cs[j] / dn * log((double)cs[j] / dn);
        }
    }
    double out;
    if (n == 0 || (rr == 1 && cc == 1)) {
        out = 1.0;   /* sklearn: one class on both sides is a perfect match */
    } else {
        for (size_t i = 0; i < r; i++) {
            for (size_t j = 0; j < c; j++) {
                uint64_t o = tab[i * c + j];
                if (o == 0)
                    continue;
                double p = (double)o / dn;
                mi += p * log(dn * (double)o / ((double)rs[i] * (double)cs[j]));
            }
        }
        mi = mi > 0.0 ? mi : 0.0;
        out = mi == 0.0 ? 0.0 : mi / ((hu + hv) / 2.0);
    }
    aud_free(rs);
    return out;
}

/* eta = sqrt(SS_between / SS_total) over the rows with a known attribute and feature value. */
static double correlation_ratio(const aud_assoc_feature *f, const int32_t *codes, size_t k,
                                const char **why, int *nomem)
{
    long double *sum = aud_calloc(k ? k : 1, sizeof *sum);
    uint64_t *cnt = aud_calloc(k ? k : 1, sizeof *cnt);
    double v = NAN;
    *why = NULL;
    if (sum == NULL || cnt == NULL) {
        *nomem = 1;
        goto done;
    }
    long double tot = 0.0L;
    uint64_t m = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (codes[i] < 0 || isnan(f->x[i]))
            continue;
        sum[codes[i]] += f->x[i];
        cnt[codes[i]]++;
        tot += f->x[i];
        m++;
    }
    if (m == 0) {
        *why = "no row has both values";
        goto done;
    }
    double mean = (double)(tot / (long double)m), sst = 0.0, ssb = 0.0;
    for (size_t i = 0; i < f->n; i++) {
        if (codes[i] < 0 || isnan(f->x[i]))
            continue;
        double d = f->x[i] - mean;
        sst += d * d;
    }
    for (size_t g = 0; g < k; g++) {
        if (cnt[g] == 0)
            continue;
        double d = (double)(sum[g] / (long double)cnt[g]) - mean;
        ssb += (double)cnt[g] * d * d;
    }
    if (sst == 0.0)
        *why = "the feature is constant";
    else
        v = sqrt(ssb / sst);
done:
    aud_free(sum);
    aud_free(cnt);
    return v;
}

int aud_assoc_compute(const aud_assoc_feature *f, const int32_t *codes, size_t n_levels,
                      aud_assoc *out, aud_error *err)
{
    memset(out, 0, sizeof *out);
    size_t c = f->n_levels ? f->n_levels : 1, r = n_levels ? n_levels : 1;
    uint64_t *tab = aud_calloc(r * c, sizeof *tab);
    if (tab == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < f->n; i++) {
        if (codes[i] < 0)
            continue;
        tab[(size_t)codes[i] * c + (size_t)f->level[i]]++;
        out->n++;
    }
    int nomem = 0;
    out->nmi = aud_assoc_nmi(tab, r, c);
    if (f->discrete) {
        out->measure = "cramers_v";
        out->association = aud_assoc_cramers_v(tab, r, c, &out->why);
    } else {
        out->measure = "correlation_ratio";
        out->association = correlation_ratio(f, codes, n_levels, &out->why, &nomem);
    }
    aud_free(tab);
    if (nomem || isnan(out->nmi))
        return aud_error_nomem(err);
    return AUD_OK;
}
