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
#include "metrics/quantile_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* numpy.quantile(x, k / AUD_ASSOC_BINS), k = 1..BINS-1, method "linear", on the m non-NaN values
 * of x[0..n): virtual index h = (m - 1) q, a = v(floor h), b = v(floor h + 1),
 * g = h - floor h; a + (b - a) g, or b - (b - a)(1 - g) when g >= 0.5 (numpy's _lerp), v the
 * sorted values; the order statistics by radix selection (metrics/quantile.c). Returns the
 * number of distinct edges, or -1 when out of memory. */
static long decile_edges(const double *x, size_t n, size_t m, double *edges)
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
    double val[2 * AUD_ASSOC_BINS];
    double *v = aud_malloc((m ? m : 1) * sizeof *v);
    if (v == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i]))
            v[k++] = x[i];
    }
    int rc = aud_order_stats(v, m, want, (int)nw, val);
    aud_free(v);
    if (rc != 0)
        return -1;
    size_t ne = 0;
    for (int q = 1; q < AUD_ASSOC_BINS; q++) {
        double h = (double)(m - 1) * ((double)q / AUD_ASSOC_BINS);
        double fl = floor(h), g = h - fl;
        size_t f = (size_t)fl, j = 0;
        while (want[j] != f)
            j++;
        double a = val[j], b = f + 1 < m ? val[j + 1] : val[j], d = b - a;
        double e = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
        if (ne == 0 || e != edges[ne - 1])
            edges[ne++] = e;
    }
    return (long)ne;
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
        long r = decile_edges(x, n, m, edges);
        if (r < 0) {
            aud_assoc_feature_free(f);
            return aud_error_nomem(err);
        }
        ne = (size_t)r;
    }
    size_t nl = f->discrete ? ns : ne + 1;
    for (size_t i = 0; i < n; i++) {
        double xi = x[i];
        size_t lv;
        if (isnan(xi)) {
            lv = nl;
        } else if (f->discrete) {
            lv = (size_t)rank[f->level[i]];
        } else {                    /* edges <= x (increasing edges: a count, no branch) */
            lv = 0;
            for (size_t e = 0; e < ne; e++)
                lv += edges[e] <= xi;
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

/* Per attribute: the contingency table and, for a continuous feature, the sums that give eta. */
typedef struct assoc_acc {
    uint64_t    *tab;   /* n_levels x feature levels */
    long double *sum;   /* n_levels: sum of the known feature values */
    uint64_t    *cnt;   /* n_levels: rows with a known feature value */
    long double  tot;
    uint64_t     m;     /* rows with both values */
    double       sst;
} assoc_acc;

/* eta = sqrt(SS_between / SS_total) over the rows with a known attribute and feature value. */
static double correlation_ratio(const assoc_acc *q, size_t k, double mean, const char **why)
{
    *why = NULL;
    if (q->m == 0) {
        *why = "no row has both values";
        return NAN;
    }
    double ssb = 0.0;
    for (size_t g = 0; g < k; g++) {
        if (q->cnt[g] == 0)
            continue;
        double d = (double)(q->sum[g] / (long double)q->cnt[g]) - mean;
        ssb += (double)q->cnt[g] * d * d;
    }
    if (q->sst == 0.0) {
        *why = "the feature is constant";
        return NAN;
    }
    return sqrt(ssb / q->sst);
}

int aud_assoc_compute_set(const aud_assoc_feature *f, const int32_t *const *codes,
                          const size_t *n_levels, size_t na, aud_assoc *out, aud_error *err)
{
    size_t c = f->n_levels ? f->n_levels : 1;
    assoc_acc *q = aud_calloc(na ? na : 1, sizeof *q);
    double *mean = aud_calloc(na ? na : 1, sizeof *mean);
    int rc = AUD_OK, cont = !f->discrete;
    if (q == NULL || mean == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t a = 0; a < na; a++) {
        size_t r = n_levels[a] ? n_levels[a] : 1;
        memset(&out[a], 0, sizeof out[a]);
        q[a].tab = aud_calloc(r * c, sizeof *q[a].tab);
        q[a].sum = cont ? aud_calloc(r, sizeof *q[a].sum) : NULL;
        q[a].cnt = cont ? aud_calloc(r, sizeof *q[a].cnt) : NULL;
        if (q[a].tab == NULL || (cont && (q[a].sum == NULL || q[a].cnt == NULL))) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    /* one pass over the rows for every attribute (each attribute's sums in row order) */
    for (size_t i = 0; i < f->n; i++) {
        size_t lv = (size_t)f->level[i];
        double x = cont ? f->x[i] : 0.0;
        int known = cont && !isnan(x);
        for (size_t a = 0; a < na; a++) {
            int32_t g = codes[a][i];
            if (g < 0)
                continue;
            q[a].tab[(size_t)g * c + lv]++;
            out[a].n++;
            if (known) {
                q[a].sum[g] += x;
                q[a].cnt[g]++;
                q[a].tot += x;
                q[a].m++;
            }
        }
    }
    if (cont) {   /* SS_total around each attribute's mean, again in row order */
        for (size_t a = 0; a < na; a++)
            mean[a] = q[a].m ? (double)(q[a].tot / (long double)q[a].m) : 0.0;
        for (size_t i = 0; i < f->n; i++) {
            double x = f->x[i];
            if (isnan(x))
                continue;
            for (size_t a = 0; a < na; a++) {
                if (codes[a][i] < 0)
                    continue;
                double d = x - mean[a];
                q[a].sst += d * d;
            }
        }
    }
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        size_t r = n_levels[a] ? n_levels[a] : 1;
        out[a].nmi = aud_assoc_nmi(q[a].tab, r, c);
        if (f->discrete) {
            out[a].measure = "cramers_v";
            out[a].association = aud_assoc_cramers_v(q[a].tab, r, c, &out[a].why);
        } else {
            out[a].measure = "correlation_ratio";
            out[a].association = correlation_ratio(&q[a], n_levels[a], mean[a], &out[a].why);
        }
        if (isnan(out[a].nmi))
            rc = aud_error_nomem(err);
    }
done:
    for (size_t a = 0; q != NULL && a < na; a++) {
        aud_free(q[a].tab);
        aud_free(q[a].sum);
        aud_free(q[a].cnt);
    }
    aud_free(q);
    aud_free(mean);
    return rc;
}

int aud_assoc_compute(const aud_assoc_feature *f, const int32_t *codes, size_t n_levels,
                      aud_assoc *out, aud_error *err)
{
    return aud_assoc_compute_set(f, &codes, &n_levels, 1, out, err);
}
