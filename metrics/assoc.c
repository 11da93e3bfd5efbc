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
 * own for V and NMI. eta's sums are compensated (TwoSum in four lanes), and each group's mean
 * is compared with the overall mean before anything is rounded to a mean (correlation_ratio):
 * a feature far from zero whose groups differ little keeps its digits. */
#include "metrics/fair_drivers_int.h"
#include "metrics/ksum_int.h"
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
static long decile_edges(const double *x, size_t n, size_t m, double *edges, double *vbuf)
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
    double *v = vbuf != NULL ? vbuf : aud_malloc((m ? m : 1) * sizeof *v);
    if (v == NULL)
        return -1;
    size_t k = 0;
    double mn = INFINITY, mx = -INFINITY;   /* the selection's key range, from this pass */
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            v[k++] = x[i];
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
    }
    int rc = m > 0 ? aud_order_stats_mm(v, m, want, (int)nw, val, mn, mx)
                   : aud_order_stats(v, m, want, (int)nw, val);
    if (v != vbuf)
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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The continuous feature's levels of rows [0, n) as the loop below takes them (the count of
 * edges <= x; NaN: nl), 16 rows a step on AVX-512; returns the rows done. */
__attribute__((target("avx512f"))) static size_t bin_rows16(const double *x, size_t n,
                                                          const double *edges, size_t ne,
                                                          int32_t nl, int32_t *level)
{
    const __m512i one = _mm512_set1_epi32(1), vnl = _mm512_set1_epi32(nl);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d v0 = _mm512_loadu_pd(x + i), v1 = _mm512_loadu_pd(x + i + 8);
        __m512i lv = _mm512_setzero_si512();
        for (size_t e = 0; e < ne; e++) {
            __m512d ed = _mm512_set1_pd(edges[e]);
            __mmask16 le = (__mmask16)(_mm512_cmp_pd_mask(ed, v0, _CMP_LE_OQ) |
                                       (unsigned)_mm512_cmp_pd_mask(ed, v1, _CMP_LE_OQ) << 8);
            lv = _mm512_mask_add_epi32(lv, le, lv, one);
        }
        __mmask16 nan = (__mmask16)(_mm512_cmp_pd_mask(v0, v0, _CMP_UNORD_Q) |
                                    (unsigned)_mm512_cmp_pd_mask(v1, v1, _CMP_UNORD_Q) << 8);
        _mm512_storeu_si512((void *)(level + i), _mm512_mask_mov_epi32(lv, nan, vnl));
    }
    return i;
}
#endif

/* The slot of x in a 64-slot open-addressing table of the distinct values seen so far (slot:
 * 0 empty, else the value's index + 1): its bits hashed (Fibonacci hashing, Knuth TAOCP vol. 3,
 * 6.4), -0.0 with +0.0 (x + 0.0), probed linearly. At most AUD_ASSOC_MAX_LEVELS + 1 values go
 * in, so the table stays at most a third full. */
static size_t seen_slot(const uint8_t *slot, const double *seen, double x)
{
    uint64_t b;
    double y = x + 0.0;
    memcpy(&b, &y, sizeof b);
    size_t h = (size_t)((b * UINT64_C(0x9E3779B97F4A7C15)) >> 58);
    while (slot[h] != 0 && seen[slot[h] - 1] != x)
        h = (h + 1) & 63;
    return h;
}

void aud_assoc_ws_free(aud_assoc_ws *ws)
{
    aud_free(ws->level);
    aud_free(ws->v);
    memset(ws, 0, sizeof *ws);
}

int aud_assoc_feature_prepare(aud_assoc_feature *f, const double *x, size_t n, aud_error *err)
{
    return aud_assoc_feature_prepare_ws(f, x, n, NULL, err);
}

int aud_assoc_feature_prepare_ws(aud_assoc_feature *f, const double *x, size_t n,
                                 aud_assoc_ws *ws, aud_error *err)
{
    memset(f, 0, sizeof *f);
    f->x = x;
    f->n = n;
    if (ws != NULL && (ws->cap < n || ws->level == NULL)) {
        aud_assoc_ws_free(ws);
        ws->level = aud_malloc((n ? n : 1) * sizeof *ws->level);
        ws->v = aud_malloc((n ? n : 1) * sizeof *ws->v);
        if (ws->level == NULL || ws->v == NULL) {
            aud_assoc_ws_free(ws);
            return aud_error_nomem(err);
        }
        ws->cap = n;
    }
    f->level = ws != NULL ? ws->level : (f->own = aud_malloc((n ? n : 1) * sizeof *f->level));
    if (f->level == NULL)
        return aud_error_nomem(err);
    double seen[AUD_ASSOC_MAX_LEVELS + 1];
    uint8_t slot[64] = {0};
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
        size_t h = seen_slot(slot, seen, x[i]);
        if (slot[h] == 0) {
            seen[ns++] = x[i];
            slot[h] = (uint8_t)ns;
        }
        f->level[i] = (int32_t)(slot[h] - 1);   /* order of first appearance; sorted below */
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
        long r = decile_edges(x, n, m, edges, ws != NULL ? ws->v : NULL);
        if (r < 0) {
            aud_assoc_feature_free(f);
            return aud_error_nomem(err);
        }
        ne = (size_t)r;
    }
    size_t nl = f->discrete ? ns : ne + 1, i0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (!f->discrete && aud_cpu_isa() >= 3)
        i0 = bin_rows16(x, n, edges, ne, (int32_t)nl, f->level);
#endif
    for (size_t i = i0; i < n; i++) {
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
    f->level = f->own = aud_malloc((n ? n : 1) * sizeof *f->level);
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
    aud_free(f->own);   /* a workspace's level stays the workspace's */
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

/* Sums in LANES lanes (row i in lane i % LANES), each a running sum and its rounding errors
 * (Knuth's TwoSum, TAOCP vol. 2, 4.2.2): consecutive rows of a group add to different lanes, so
 * the additions do not wait on each other through memory, and the lanes and their errors are
 * added at the end in a fixed order (aud_ksum). The result depends on the values and their
 * order only, never on threads. */
enum { LANES = 4 };

static inline void two_sum_add(double *s, double *c, double v)
{
    double t = *s + v, bp = t - *s;
    *c += (*s - (t - bp)) + (v - bp);
    *s = t;
}

/* A compensated sum as a double-double: *hi rounded, *lo what rounding left out. */
static void ksum_split(const aud_ksum *k, double *hi, double *lo)
{
    *hi = aud_ksum_get(k);
    *lo = k->c - (*hi - k->s);
}

/* The lanes [0, LANES) of sum s and errors c added in a fixed order (aud_ksum), as a
 * double-double: *hi the sum rounded, *lo what rounding left out. */
static void lanes_total(const double *s, const double *c, double *hi, double *lo)
{
    aud_ksum k = {0.0, 0.0};
    for (int l = 0; l < LANES; l++) {
        aud_ksum_add(&k, s[l]);
        aud_ksum_add(&k, c[l]);
    }
    ksum_split(&k, hi, lo);
}

/* Per attribute: the contingency table and, for a continuous feature, the sums that give eta. */
typedef struct assoc_acc {
    uint64_t *tab;   /* n_levels x feature levels */
    double   *sum;   /* n_levels x LANES: compensated sums of the known feature values... */
    double   *err;   /* ... and their errors */
    uint64_t *cnt;   /* n_levels: rows with a known feature value */
    uint64_t  m;     /* rows with both values */
    double    mean;  /* of those rows' feature values, rounded */
    double    tot_hi, tot_lo;   /* their sum as a double-double */
    double    sst;   /* sum of squares around mean */
} assoc_acc;

/* One cell's double-double sum (hi, lo) less n * mean, over n: the cell's mean less the mean
 * before anything is rounded to a mean (as correlation_ratio). */
static double cell_diff(double hi, double lo, double n, double mean)
{
    double p = n * mean, e = fma(n, mean, -p);
    return ((hi - p) + (lo - e)) / n;
}

/* eta = sqrt(SS_between / SS_total) over the rows with a known attribute and feature value. */
static double correlation_ratio(const assoc_acc *q, size_t k, const char **why)
{
    *why = NULL;
    if (q->m == 0) {
        *why = "no row has both values";
        return NAN;
    }
    /* a group's mean less the overall mean, as (S - n mean) / n with the group's sum S as a
     * double-double and n mean exact (fma): the difference comes out to about its own last
     * bit, where a rounded group mean would carry an error of the order of the mean's */
    double ssb = 0.0;
    for (size_t g = 0; g < k; g++) {
        if (q->cnt[g] == 0)
            continue;
        double hi, lo, n = (double)q->cnt[g];
        lanes_total(q->sum + g * LANES, q->err + g * LANES, &hi, &lo);
        double p = n * q->mean, e = fma(n, q->mean, -p);
        double d = ((hi - p) + (lo - e)) / n;
        ssb += n * d * d;
    }
    /* both sums of squares are around the rounded mean, each m d^2 above its value around the
     * true mean (d: the mean's rounding, taken from the total): far from zero with a small
     * spread (10^12 + k / 1024) that is a part in 10^9 */
    double d = cell_diff(q->tot_hi, q->tot_lo, (double)q->m, q->mean), md2 = (double)q->m * d * d;
    double sst = q->sst - md2;
    ssb -= md2;
    if (sst <= 0.0) {
        *why = "the feature is constant";
        return NAN;
    }
    return sqrt((ssb > 0.0 ? ssb : 0.0) / sst);
}

/* A grouping's figures from its table (r x c) and, for a continuous feature, its sums q: NMI,
 * then Cramer's V or eta. -1 when out of memory. */
static int assoc_figures(const aud_assoc_feature *f, const uint64_t *tab, size_t r, size_t c,
                         const assoc_acc *q, size_t k, aud_assoc *out)
{
    out->nmi = aud_assoc_nmi(tab, r, c);
    if (f->discrete) {
        out->measure = "cramers_v";
        out->association = aud_assoc_cramers_v(tab, r, c, &out->why);
    } else {
        out->measure = "correlation_ratio";
        out->association = correlation_ratio(q, k, &out->why);
    }
    return isnan(out->nmi) ? -1 : 0;
}

/* Attribute a's pass over the rows: its table, and for a continuous feature its groups'
 * compensated sums, then its mean and SS_total around it (a second pass, four lanes). One
 * attribute at a time, so its counters and sums are the only ones the pass writes. */
static void assoc_pass(const aud_assoc_feature *f, const int32_t *codes, size_t c, assoc_acc *q,
                       uint64_t *n_out)
{
    int cont = !f->discrete;
    uint64_t n_known = 0, m = 0;
    for (size_t i = 0; i < f->n; i++) {
        int32_t g = codes[i];
        if (g < 0)
            continue;
        q->tab[(size_t)g * c + (size_t)f->level[i]]++;
        n_known++;
        if (cont && !isnan(f->x[i])) {
            size_t l = (size_t)g * LANES + (i & (LANES - 1));
            two_sum_add(&q->sum[l], &q->err[l], f->x[i]);
            q->cnt[g]++;
            m++;
        }
    }
    *n_out = n_known;
    q->m = m;
}

int aud_assoc_compute_set(const aud_assoc_feature *f, const int32_t *const *codes,
                          const size_t *n_levels, size_t na, aud_assoc *out, aud_error *err)
{
    size_t c = f->n_levels ? f->n_levels : 1;
    assoc_acc *q = aud_calloc(na ? na : 1, sizeof *q);
    int rc = AUD_OK, cont = !f->discrete;
    if (q == NULL)
        return aud_error_nomem(err);
    for (size_t a = 0; a < na; a++) {
        size_t r = n_levels[a] ? n_levels[a] : 1;
        memset(&out[a], 0, sizeof out[a]);
        q[a].tab = aud_calloc(r * c, sizeof *q[a].tab);
        q[a].sum = cont ? aud_calloc(2 * r * LANES, sizeof *q[a].sum) : NULL;
        q[a].err = cont && q[a].sum != NULL ? q[a].sum + r * LANES : NULL;
        q[a].cnt = cont ? aud_calloc(r, sizeof *q[a].cnt) : NULL;
        if (q[a].tab == NULL || (cont && (q[a].sum == NULL || q[a].cnt == NULL))) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    for (size_t a = 0; a < na; a++) {
        assoc_pass(f, codes[a], c, &q[a], &out[a].n);
        if (!cont || q[a].m == 0)
            continue;
        /* the mean from the groups' sums (their total, in group order), then SS_total around
         * it over the same rows, in four lanes added in order */
        size_t r = n_levels[a] ? n_levels[a] : 1;
        aud_ksum tot = {0.0, 0.0};
        for (size_t l = 0; l < r * LANES; l++) {
            aud_ksum_add(&tot, q[a].sum[l]);
            aud_ksum_add(&tot, q[a].err[l]);
        }
        double mean = aud_ksum_get(&tot) / (double)q[a].m;
        ksum_split(&tot, &q[a].tot_hi, &q[a].tot_lo);
        double ss[LANES] = {0.0}, se[LANES] = {0.0};
        const int32_t *ca = codes[a];
        const double *x = f->x;
        size_t i = 0;
        for (; i + LANES <= f->n; i += LANES) {
            for (int l = 0; l < LANES; l++) {
                double d = x[i + l] - mean;
                two_sum_add(&ss[l], &se[l], ca[i + l] >= 0 && !isnan(d) ? d * d : 0.0);
            }
        }
        for (; i < f->n; i++) {
            double d = x[i] - mean;
            two_sum_add(&ss[i & (LANES - 1)], &se[i & (LANES - 1)],
                        ca[i] >= 0 && !isnan(d) ? d * d : 0.0);
        }
        double hi, lo;
        lanes_total(ss, se, &hi, &lo);
        q[a].mean = mean;
        q[a].sst = hi;
    }
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        size_t r = n_levels[a] ? n_levels[a] : 1;
        if (assoc_figures(f, q[a].tab, r, c, &q[a], n_levels[a], &out[a]) != 0)
            rc = aud_error_nomem(err);
    }
done:
    for (size_t a = 0; q != NULL && a < na; a++) {
        aud_free(q[a].tab);
        aud_free(q[a].sum);
        aud_free(q[a].cnt);
    }
    aud_free(q);
    return rc;
}

int aud_assoc_compute_cells(const aud_assoc_feature *f, const int32_t *cell, size_t n_cells,
                            const int32_t *const *gmap, const size_t *n_levels, size_t na,
                            aud_assoc *out, aud_error *err)
{
    size_t L = f->n_levels ? f->n_levels : 1, nc = n_cells ? n_cells : 1;
    int cont = !f->discrete, rc = AUD_OK;
    size_t maxr = 1;
    for (size_t a = 0; a < na; a++)
        maxr = n_levels[a] > maxr ? n_levels[a] : maxr;
    uint64_t *ctab = aud_calloc(nc * L, sizeof *ctab), *ccnt = aud_calloc(nc, sizeof *ccnt);
    /* per cell: LANES sums, LANES errors, then the same for the squares around its mean */
    double *cs = cont ? aud_calloc(nc * 4 * LANES, sizeof *cs) : NULL;
    double *chi = aud_calloc(nc * 4, sizeof *chi);   /* per cell: its sum (hi, lo), mean and
                                                         sum of squares around that mean */
    double *clo = chi != NULL ? chi + nc : NULL, *cmean = chi != NULL ? chi + 2 * nc : NULL;
    double *cssw = chi != NULL ? chi + 3 * nc : NULL;
    uint64_t *tab = aud_calloc(maxr * L, sizeof *tab);
    assoc_acc q;
    memset(&q, 0, sizeof q);
    q.sum = aud_calloc(2 * maxr * LANES, sizeof *q.sum);
    q.err = q.sum != NULL ? q.sum + maxr * LANES : NULL;
    q.cnt = aud_calloc(maxr, sizeof *q.cnt);
    if (ctab == NULL || ccnt == NULL || (cont && cs == NULL) || chi == NULL || tab == NULL ||
        q.sum == NULL || q.cnt == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    const int32_t *lev = f->level;
    const double *x = f->x;
    if (!cont) {
        for (size_t i = 0; i < f->n; i++) {
            if (cell[i] >= 0)
                ctab[(size_t)cell[i] * L + (size_t)lev[i]]++;
        }
    } else {
        for (size_t i = 0; i < f->n; i++) {
            int32_t c = cell[i];
            if (c < 0)
                continue;
            ctab[(size_t)c * L + (size_t)lev[i]]++;
            if (!isnan(x[i])) {
                size_t l = (size_t)c * 4 * LANES + (i & (LANES - 1));
                two_sum_add(&cs[l], &cs[l + LANES], x[i]);
                ccnt[c]++;
            }
        }
        for (size_t c = 0; c < nc; c++) {
            lanes_total(cs + c * 4 * LANES, cs + c * 4 * LANES + LANES, &chi[c], &clo[c]);
            cmean[c] = ccnt[c] > 0 ? (chi[c] + clo[c]) / (double)ccnt[c] : 0.0;
        }
        for (size_t i = 0; i < f->n; i++) {
            int32_t c = cell[i];
            if (c < 0 || isnan(x[i]))
                continue;
            double d = x[i] - cmean[c];
            size_t l = (size_t)c * 4 * LANES + 2 * LANES + (i & (LANES - 1));
            two_sum_add(&cs[l], &cs[l + LANES], d * d);
        }
        for (size_t c = 0; c < nc; c++) {
            double lo;
            lanes_total(cs + c * 4 * LANES + 2 * LANES, cs + c * 4 * LANES + 3 * LANES,
                        &cssw[c], &lo);
        }
    }
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        size_t r = n_levels[a] ? n_levels[a] : 1;
        const int32_t *gm = gmap[a];
        memset(&out[a], 0, sizeof out[a]);
        memset(tab, 0, r * L * sizeof *tab);
        memset(q.sum, 0, 2 * maxr * LANES * sizeof *q.sum);
        memset(q.cnt, 0, maxr * sizeof *q.cnt);
        aud_ksum tot = {0.0, 0.0};
        q.m = 0;
        for (size_t c = 0; c < nc; c++) {
            if (gm[c] < 0)
                continue;
            size_t g = (size_t)gm[c];
            for (size_t l = 0; l < L; l++) {
                tab[g * L + l] += ctab[c * L + l];
                out[a].n += ctab[c * L + l];
            }
            if (!cont || ccnt[c] == 0)
                continue;
            aud_ksum k = {q.sum[g * LANES], q.err[g * LANES]};   /* the group's, lane 0 */
            aud_ksum_add(&k, chi[c]);
            aud_ksum_add(&k, clo[c]);
            q.sum[g * LANES] = k.s;
            q.err[g * LANES] = k.c;
            q.cnt[g] += ccnt[c];
            q.m += ccnt[c];
            aud_ksum_add(&tot, chi[c]);
            aud_ksum_add(&tot, clo[c]);
        }
        if (cont && q.m > 0) {   /* SS_total around the rounded mean: within the cells (less
                                    their means' rounding), plus the cells' spread */
            ksum_split(&tot, &q.tot_hi, &q.tot_lo);
            q.mean = q.tot_hi / (double)q.m;
            aud_ksum sst = {0.0, 0.0};
            for (size_t c = 0; c < nc; c++) {
                if (gm[c] < 0 || ccnt[c] == 0)
                    continue;
                double n = (double)ccnt[c], d = cell_diff(chi[c], clo[c], n, q.mean);
                double dc = cell_diff(chi[c], clo[c], n, cmean[c]);
                aud_ksum_add(&sst, cssw[c]);
                aud_ksum_add(&sst, -n * dc * dc);
                aud_ksum_add(&sst, n * d * d);
            }
            q.sst = aud_ksum_get(&sst);
        }
        if (assoc_figures(f, tab, r, L, &q, n_levels[a], &out[a]) != 0)
            rc = aud_error_nomem(err);
    }
done:
    aud_free(ctab);
    aud_free(ccnt);
    aud_free(cs);
    aud_free(chi);
    aud_free(tab);
    aud_free(q.sum);
    aud_free(q.cnt);
    return rc;
}

int aud_assoc_compute(const aud_assoc_feature *f, const int32_t *codes, size_t n_levels,
                      aud_assoc *out, aud_error *err)
{
    return aud_assoc_compute_set(f, &codes, &n_levels, 1, out, err);
}
