/* drift_stats.c - drift statistics on plain arrays (sorted numeric samples, count vectors).
 *
 * References (algorithms re-implemented, nothing copied):
 *  - Wasserstein-1: integral of |F1 - F2| between consecutive pooled values, as scipy's
 *    wasserstein_distance (_cdf_distance with p = 1).
 *  - Anderson-Darling k-sample, midrank version: Scholz & Stephens (1987), eq. (7); normalization
 *    by the exact variance (their eq. 4) and the p-value by scipy's quadratic fit of log(level)
 *    against the interpolated critical values of their Table 2, capped to [0.001, 0.25].
 *  - Cramer-von Mises two-sample: Anderson (1962) U and T with midranks; exact p-value by the
 *    frequency-table recursion of Xiao, Gordon & Yakovlev (2006, J. Stat. Soft. 17(8)); the
 *    asymptotic p-value from the limiting one-sample distribution (Csorgo & Faraway 1996,
 *    eq. 1.3) after the normalization of Anderson (1962, eq. 15), as scipy.
 *  - Chi-square test of homogeneity (Pearson, no continuity correction), Z-test of two
 *    proportions and PSI with the empty-bin fill as Evidently, Jensen-Shannon distance as scipy. */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_math.h>
#include <limits.h>
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string.h>

static void test_init(aud_drift_test *t)
{
    t->statistic = NAN;
    t->p_value = NAN;
    t->dof = 0;
    t->reason = NULL;
    t->mode = NULL;
}

/* ---- sorting ------------------------------------------------------------------------------ */

static uint64_t dbl_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x8000000000000000ULL) ? ~u : (u | 0x8000000000000000ULL);
}

static double key_dbl(uint64_t k)
{
    uint64_t u = (k & 0x8000000000000000ULL) ? (k & ~0x8000000000000000ULL) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

void aud_drift_sort_ws(double *x, size_t n, uint64_t *a, uint64_t *b)
{
    if (n < 2)
        return;
    size_t hist[RADIX_PASSES][RADIX_SIZE];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = dbl_key(x[i]);
        a[i] = k;
        for (int p = 0; p < RADIX_PASSES; p++)
            hist[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
    for (int p = 0; p < RADIX_PASSES; p++) {
        /* skip a pass where every key has the same digit */
        uint64_t d0 = (a[0] >> (p * RADIX_BITS)) & (RADIX_SIZE - 1);
        if (hist[p][d0] == n)
            continue;
        size_t pos = 0;
        for (size_t d = 0; d < RADIX_SIZE; d++) {
            size_t c = hist[p][d];
            hist[p][d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = a[i];
            b[hist[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++] = k;
        }
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = key_dbl(a[i]);
}

int aud_drift_sort(double *x, size_t n)
{
    if (n < 2)
        return AUD_OK;
    uint64_t *a = aud_malloc(n * sizeof *a);
    uint64_t *b = aud_malloc(n * sizeof *b);
    if (a == NULL || b == NULL) {
        aud_free(a);
        aud_free(b);
        return AUD_E_NOMEM;
    }
    aud_drift_sort_ws(x, n, a, b);
    aud_free(a);
    aud_free(b);
    return AUD_OK;
}

/* ---- Wasserstein, std ------------------------------------------------------------------- */

double aud_drift_wasserstein(const double *x, size_t n1, const double *y, size_t n2)
{
    if (n1 == 0 || n2 == 0)
        return NAN;
    aud_ksum acc = {0, 0};
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        if (i == n1 && j == n2)
            break;
        double next = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        double diff = fabs((double)i / (double)n1 - (double)j / (double)n2);
        aud_ksum_add(&acc, diff * (next - v));
    }
    return aud_ksum_get(&acc);
}

/* Two-pass population std of x * scale (scale a power of two, so the products are exact). */
static double std_scaled(const double *x, size_t n, double scale)
{
    aud_ksum s = {0, 0};
    for (size_t i = 0; i < n; i++)
        aud_ksum_add(&s, x[i] * scale);
    double mean = aud_ksum_get(&s) / (double)n;
    aud_ksum q = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double d = x[i] * scale - mean;
        aud_ksum_add(&q, d * d);
    }
    return sqrt(aud_ksum_get(&q) / (double)n);
}

double aud_drift_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    aud_ksum s = {0, 0};
    for (size_t i = 0; i < n; i++)
        aud_ksum_add(&s, x[i]);
    return aud_ksum_get(&s) / (double)n;
}

double aud_drift_std(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double sd = std_scaled(x, n, 1.0);
    if (isfinite(sd))
        return sd;
    /* squares overflowed (|x| beyond ~1e154): scale by a power of two near 1/max|x|, which is
     * exact, and scale the result back */
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(x[i]) > m ? fabs(x[i]) : m;
    if (!isfinite(m) || m == 0.0)
        return sd;
    int e;
    frexp(m, &e);
    return std_scaled(x, n, ldexp(1.0, -e)) * ldexp(1.0, e);
}

/* ---- Anderson-Darling k-sample (k = 2) ----------------------------------------------------- */

/* Least-squares quadratic through (x_i, y_i), coefficients highest power first (numpy.polyfit
 * order), by the normal equations in long double (7 well-spread points). */
static void polyfit2(const double *x, const double *y, int n, double c[3])
{
    long double M[3][4] = {{0}};
    for (int i = 0; i < n; i++) {
        long double v[3] = {(long double)x[i] * x[i], x[i], 1.0L};
        for (int r = 0; r < 3; r++) {
            for (int s = 0; s < 3; s++)
                M[r][s] += v[r] * v[s];
            M[r][3] += v[r] * y[i];
        }
    }
    for (int p = 0; p < 3; p++) {
        int best = p;
        for (int r = p + 1; r < 3; r++)
            if (fabsl(M[r][p]) > fabsl(M[best][p]))
                best = r;
        for (int s = 0; s < 4; s++) {
            long double t = M[p][s];
            M[p][s] = M[best][s];
            M[best][s] = t;
        }
        for (int r = 0; r < 3; r++) {
            if (r == p)
                continue;
            long double f = M[r][p] / M[p][p];
            for (int s = p; s < 4; s++)
                M[r][s] -= f * M[p][s];
        }
    }
    for (int r = 0; r < 3; r++)
        c[r] = (double)(M[r][3] / M[r][r]);
}

/* Variance of the k = 2 Anderson-Darling statistic under the null (Scholz & Stephens 1987,
 * eq. 4, as scipy anderson_ksamp): depends on the sample sizes only. scipy sums its two
 * harmonic-type sums term by term, O(N); here they come in closed form:
 *   h = sum_{i=1}^{N-1} 1/i = H(N-1) = psi(N) + gamma,
 *   g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1/((N-i) j) = H2(N-1) - 2 H(N-1) / N,
 * H2(n) = sum_{i<=n} 1/i^2 = pi^2/6 - psi'(n + 1). (g: the pairs (N-i, j) are those with
 * a + j >= N + 1, a, j <= N - 1, so g = H(N-1)^2 - sum_{s=2}^{N} 2 H(s-1)/s, and
 * sum_{s<=M} H(s)/s = (H(M)^2 + H2(M)) / 2.) GSL's psi and psi' agree with the term-by-term
 * sums (long double) to 1.3e-16 relative for N = 4 .. 2,000,000 (test_ad_variance_sums in
 * tests/unit/test_drift.c). */
int aud_drift_ad_hg(size_t N, double *h, double *g)
{
    double Nd = (double)N;
    gsl_sf_result psi, psi1;
    int e = N <= INT_MAX ? gsl_sf_psi_int_e((int)N, &psi) | gsl_sf_psi_1_int_e((int)N, &psi1)
                         : gsl_sf_psi_e(Nd, &psi) | gsl_sf_psi_1_e(Nd, &psi1);
    if (N < 2 || e != GSL_SUCCESS)
        return -1;
    *h = psi.val + M_EULER;
    *g = (M_PI * M_PI / 6.0 - psi1.val) - 2.0 * *h / Nd;
    return 0;
}

double aud_drift_ad_variance(size_t n1, size_t n2)
{
    size_t N = n1 + n2;
    double Nd = (double)N, h, g;
    double H = 1.0 / (double)n1 + 1.0 / (double)n2;
    if (aud_drift_ad_hg(N, &h, &g) != 0)
        return NAN;
    const double k = 2.0;
    double a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
    double b = (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
    double c = (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
    double d = (2 * h + 6) * k * k - 4 * h * k;
    return (a * Nd * Nd * Nd + b * Nd * Nd + c * Nd + d) /
           ((Nd - 1.0) * (Nd - 2.0) * (Nd - 3.0));
}

void aud_drift_anderson(const double *x, size_t n1, const double *y, size_t n2,
                        aud_drift_test *out)
{
    test_init(out);
    size_t N = n1 + n2;
    if (n1 == 0 || n2 == 0) {
        out->reason = "a sample is empty";
        return;
    }
    if (N < 4) {
        out->reason = "needs at least 4 observations in total";
        return;
    }
    double Nd = (double)N;
    aud_ksum s1 = {0, 0}, s2 = {0, 0};
    size_t i = 0, j = 0, nuniq = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        nuniq++;
        double lj = (double)((i - i0) + (j - j0));
        double Bj = (double)(i0 + j0) + lj / 2.0;
        double den = Bj * (Nd - Bj) - Nd * lj / 4.0;
        double M1 = (double)i - (double)(i - i0) / 2.0;
        double M2 = (double)j - (double)(j - j0) / 2.0;
        double d1 = Nd * M1 - Bj * (double)n1, d2 = Nd * M2 - Bj * (double)n2;
        aud_ksum_add(&s1, lj / Nd * (d1 * d1) / den);
        aud_ksum_add(&s2, lj / Nd * (d2 * d2) / den);
    }
    aud_drift_anderson_finish(aud_ksum_get(&s1), aud_ksum_get(&s2), n1, n2, nuniq, out);
}

void aud_drift_anderson_finish(double s1, double s2, size_t n1, size_t n2, size_t nuniq,
                               aud_drift_test *out)
{
    double Nd = (double)(n1 + n2);
    if (nuniq < 2) {
        out->reason = "needs more than one distinct value";
        return;
    }
    double A2kN = (s1 / (double)n1 + s2 / (double)n2) * ((Nd - 1.0) / Nd);
    double sigmasq = aud_drift_ad_variance(n1, n2);
    if (!(sigmasq > 0.0)) {
        out->reason = "variance of the statistic is not positive";
        return;
    }
    const double m = 1.0;
    double A2 = (A2kN - m) / sqrt(sigmasq);
    static const double b0[7] = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    static const double b1[7] = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    static const double b2[7] = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    static const double sig[7] = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    double crit[7], lsig[7];
    double cmin = INFINITY, cmax = -INFINITY;
    for (int q = 0; q < 7; q++) {
        crit[q] = b0[q] + b1[q] / sqrt(m) + b2[q] / m;
        lsig[q] = log(sig[q]);
        cmin = fmin(cmin, crit[q]);
        cmax = fmax(cmax, crit[q]);
    }
    double p;
    if (A2 < cmin) {
        p = 0.25;
    } else if (A2 > cmax) {
        p = 0.001;
    } else {
        double pf[3];
        polyfit2(crit, lsig, 7, pf);
        p = exp((pf[0] * A2 + pf[1]) * A2 + pf[2]);
    }
    out->statistic = A2;
    out->p_value = p;
}

/* ---- Cramer-von Mises two-sample --------------------------------------------------------- */

/* A frequency table: sorted distinct values with their counts. */
typedef struct ftab {
    int64_t *val;
    int64_t *cnt;
    size_t   n, cap;
} ftab;

static int ftab_reserve(ftab *t, size_t cap)
{
    if (cap <= t->cap)
        return 0;
    int64_t *v = aud_realloc(t->val, cap * sizeof *v);
    if (v == NULL)
        return -1;
    t->val = v;
    int64_t *c = aud_realloc(t->cnt, cap * sizeof *c);
    if (c == NULL)
        return -1;
    t->cnt = c;
    t->cap = cap;
    return 0;
}

/* out = (a merged with b, counts of equal values added) + shift; out differs from a and b. */
static int ftab_merge_shift(ftab *out, const ftab *a, const ftab *b, int64_t shift)
{
    if (ftab_reserve(out, a->n + b->n + 1) != 0)
        return -1;
    size_t i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        if (j >= b->n || (i < a->n && a->val[i] < b->val[j])) {
            out->val[k] = a->val[i];
            out->cnt[k++] = a->cnt[i++];
        } else if (i >= a->n || b->val[j] < a->val[i]) {
            out->val[k] = b->val[j];
            out->cnt[k++] = b->cnt[j++];
        } else {
            out->val[k] = a->val[i];
            out->cnt[k++] = a->cnt[i++] + b->cnt[j++];
        }
    }
    for (size_t q = 0; q < k; q++)
        out->val[q] += shift;
    out->n = k;
    return 0;
}

/* Python's float floor division a // b (for b > 0 and finite a). */
static double py_floordiv(double a, double b)
{
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) {
        mod += b;
        div -= 1.0;
    }
    if (div != 0.0) {
        double fl = floor(div);
        if (div - fl > 0.5)
            fl += 1.0;
        return fl;
    }
    return copysign(0.0, a / b);
}

static long gcd_l(long a, long b)
{
    while (b != 0) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Exact p-value P(U >= u) for sample sizes m, n (Xiao et al. 2006, Algorithm 1). */
static int cvm_exact_p(double u, long m, long n, double *p)
{
    long lcm = m / gcd_l(m, n) * n;
    long a = lcm / m, b = lcm / n;
    long mn = m * n;
    double zeta = py_floordiv((double)(lcm * lcm * (m + n)) *
                                  (6.0 * u - (double)(mn * (4 * mn - 1))),
                              (double)(6 * mn * mn));
    size_t nt = (size_t)m + 1;
    ftab *gs = aud_calloc(2 * nt + 2, sizeof *gs);
    if (gs == NULL)
        return AUD_E_NOMEM;
    ftab *next = gs + nt, *tmp = gs + 2 * nt;   /* tmp, tmp + 1: scratch */
    int rc = AUD_OK;
    if (ftab_reserve(&gs[0], 1) != 0) {
        rc = AUD_E_NOMEM;
        goto done;
    }
    gs[0].val[0] = 0;
    gs[0].cnt[0] = 1;
    gs[0].n = 1;
    for (long uu = 0; uu <= n && rc == AUD_OK; uu++) {
        tmp[0].n = 0;
        for (long v = 0; v <= m; v++) {
            int64_t sh = (int64_t)(a * v - b * uu);
            if (ftab_merge_shift(&next[v], &tmp[0], &gs[v], sh * sh) != 0) {
                rc = AUD_E_NOMEM;
                break;
            }
            /* tmp <- next[v] */
            if (ftab_reserve(&tmp[0], next[v].n + 1) != 0) {
                rc = AUD_E_NOMEM;
                break;
            }
            memcpy(tmp[0].val, next[v].val, next[v].n * sizeof *tmp[0].val);
            memcpy(tmp[0].cnt, next[v].cnt, next[v].n * sizeof *tmp[0].cnt);
            tmp[0].n = next[v].n;
        }
        for (size_t v = 0; v < nt; v++) {
            ftab t = gs[v];
            gs[v] = next[v];
            next[v] = t;
        }
    }
    if (rc == AUD_OK) {
        int64_t cnt = 0;
        for (size_t q = 0; q < gs[m].n; q++)
            if ((double)gs[m].val[q] >= zeta)
                cnt += gs[m].cnt[q];
        /* C(m + n, m), exact for m + n <= 40 */
        uint64_t comb = 1;
        for (long q = 1; q <= m; q++)
            comb = comb * (uint64_t)(n + q) / (uint64_t)q;
        *p = (double)cnt / (double)comb;
    }
done:
    for (size_t v = 0; v < 2 * nt + 2; v++) {
        aud_free(gs[v].val);
        aud_free(gs[v].cnt);
    }
    aud_free(gs);
    return rc;
}

static double lgamma_r_wrap(double x)
{
    int sign = 0;
    return lgamma_r(x, &sign);
}

/* CDF of the limiting Cramer-von Mises distribution (Csorgo & Faraway 1996, eq. 1.3): terms
 * are added until one is below 1e-7 in absolute value (that one included), as scipy. */
static double cvm_cdf_inf(double x)
{
    double tot = 0.0;
    for (int k = 0; k < 1000; k++) {
        double u = exp(lgamma_r_wrap(k + 0.5) - lgamma_r_wrap(k + 1.0)) /
                   (pow(M_PI, 1.5) * sqrt(x));
        double y = 4.0 * k + 1.0;
        double q = y * y / (16.0 * x);
        gsl_sf_result r;
        double z;
        if (gsl_sf_bessel_Knu_scaled_e(0.25, q, &r) != GSL_SUCCESS)
            z = 0.0;
        else
            z = u * sqrt(y) * exp(-2.0 * q) * r.val;
        tot += z;
        if (!(fabs(z) >= 1e-7))
            break;
    }
    return tot;
}

/* numpy's pairwise summation of a contiguous block (8 accumulators up to 128 values, halves
 * beyond), as numpy's DOUBLE_pairwise_sum. */
static double pairwise(const double *a, size_t n)
{
    if (n < 8) {
        double r = 0.0;
        for (size_t i = 0; i < n; i++)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
#if defined(__SSE2__)
        /* the same 8 accumulators, two to a register: each lane adds the same values in the
         * same order, so the sums are the same doubles */
        __m128d r01 = _mm_loadu_pd(a), r23 = _mm_loadu_pd(a + 2), r45 = _mm_loadu_pd(a + 4),
                r67 = _mm_loadu_pd(a + 6);
        for (i = 8; i < n - (n % 8); i += 8) {
            r01 = _mm_add_pd(r01, _mm_loadu_pd(a + i));
            r23 = _mm_add_pd(r23, _mm_loadu_pd(a + i + 2));
            r45 = _mm_add_pd(r45, _mm_loadu_pd(a + i + 4));
            r67 = _mm_add_pd(r67, _mm_loadu_pd(a + i + 6));
        }
        _mm_storeu_pd(r, r01);
        _mm_storeu_pd(r + 2, r23);
        _mm_storeu_pd(r + 4, r45);
        _mm_storeu_pd(r + 6, r67);
#else
        for (int k = 0; k < 8; k++)
            r[k] = a[k];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++)
                r[k] += a[i + (size_t)k];
#endif
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

double aud_drift_np_pairwise(const double *a, size_t n)
{
    return pairwise(a, n);
}

/* numpy.sum of a contiguous float64 array: pairwise within buffers of 8192 values, the buffer
 * sums added in order to the identity 0 (verified against numpy 1.24). */
static double np_sum(const double *a, size_t n)
{
    double res = 0.0;
    for (size_t s = 0; s < n; s += 8192)
        res += pairwise(a + s, n - s < 8192 ? n - s : 8192);
    return res;
}

int aud_drift_cvm(const double *x, size_t n1, const double *y, size_t n2, aud_drift_test *out)
{
    test_init(out);
    if (n1 < 2 || n2 < 2) {
        out->reason = "needs at least 2 observations in each sample";
        return AUD_OK;
    }
    /* U = n1 sum_i (r_i - i)^2 + n2 sum_j (s_j - j)^2 with midranks r, s in the pooled sample.
     * Each term is exact in double (2 (r_i - i) is an integer); the two sums are rounded as
     * numpy.sum rounds them (np_sum), because T = U/(n1 n2 N) - (4 n1 n2 - 1)/(6N) cancels
     * catastrophically for large samples and scipy's T carries that rounding (~1e-9 relative
     * at N = 2e6; see docs/drift.md). */
    double *tx = aud_malloc(n1 * sizeof *tx), *ty = aud_malloc(n2 * sizeof *ty);
    if (tx == NULL || ty == NULL) {
        aud_free(tx);
        aud_free(ty);
        return AUD_E_NOMEM;
    }
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        /* twice the midrank of the tie group: 2c + L + 1, c = values before, L = group size */
        int64_t c2 = (int64_t)(2 * (i0 + j0) + (i - i0) + (j - j0) + 1);
        for (size_t q = i0; q < i; q++) {
            double dd = (double)(c2 - 2 * (int64_t)(q + 1));
            tx[q] = dd * dd / 4.0;
        }
        for (size_t q = j0; q < j; q++) {
            double dd = (double)(c2 - 2 * (int64_t)(q + 1));
            ty[q] = dd * dd / 4.0;
        }
    }
    double u = (double)n1 * np_sum(tx, n1);
    u += (double)n2 * np_sum(ty, n2);
    aud_free(tx);
    aud_free(ty);
    uint64_t k = (uint64_t)n1 * (uint64_t)n2, N = (uint64_t)(n1 + n2);
    double t = u / (double)((unsigned __int128)k * N) - (double)(4 * k - 1) / (double)(6 * N);
    return aud_drift_cvm_finish(u, t, n1, n2, out);
}

int aud_drift_cvm_finish(double u, double t, size_t n1, size_t n2, aud_drift_test *out)
{
    uint64_t k = (uint64_t)n1 * (uint64_t)n2, N = (uint64_t)(n1 + n2);
    out->statistic = t;
    if ((n1 > n2 ? n1 : n2) <= 20) {
        out->mode = "exact";
        return cvm_exact_p(u, (long)n1, (long)n2, &out->p_value);
    }
    out->mode = "asymp";
    double Nd = (double)N;
    double et = (1.0 + 1.0 / Nd) / 6.0;
    __int128 vnum = (__int128)(N + 1) *
                    ((__int128)4 * k * N - 3 * ((__int128)n1 * n1 + (__int128)n2 * n2) -
                     2 * (__int128)k);
    __int128 vden = (__int128)45 * N * N * 4 * k;
    double vt = (double)((long double)vnum / (long double)vden);
    double tn = 1.0 / 6.0 + (t - et) / sqrt(45.0 * vt);
    if (tn < 0.003)
        out->p_value = 1.0;
    else
        out->p_value = fmax(0.0, 1.0 - cvm_cdf_inf(tn));
    return AUD_OK;
}

/* ---- categorical tests ------------------------------------------------------------------- */

void aud_drift_chi_square(const double *ref, const double *cur, size_t k, aud_drift_test *out)
{
    test_init(out);
    double r0 = 0, r1 = 0;
    for (size_t i = 0; i < k; i++) {
        r0 += ref[i];
        r1 += cur[i];
    }
    double N = r0 + r1;
    if (k == 0 || r0 <= 0 || r1 <= 0) {
        out->reason = "a sample is empty";
        return;
    }
    out->dof = (long)k - 1;
    if (k == 1) {
        out->statistic = 0.0;
        out->p_value = 1.0;
        return;
    }
    aud_ksum s = {0, 0};
    for (int row = 0; row < 2; row++) {
        const double *o = row == 0 ? ref : cur;
        double rt = row == 0 ? r0 : r1;
        for (size_t i = 0; i < k; i++) {
            double e = rt * (ref[i] + cur[i]) / N;
            if (!(e > 0)) {
                out->reason = "a category has no observations";
                out->dof = 0;
                return;
            }
            double d = o[i] - e;
            aud_ksum_add(&s, d * d / e);
        }
    }
    out->statistic = aud_ksum_get(&s);
    out->p_value = gsl_cdf_chisq_Q(out->statistic, (double)out->dof);
}

void aud_drift_z_test(double a, double n1, double b, double n2, aud_drift_test *out)
{
    test_init(out);
    if (!(n1 > 0 && n2 > 0)) {
        out->reason = "a sample is empty";
        return;
    }
    double p1 = a / n1, p2 = b / n2;
    double P = (p1 * n1 + p2 * n2) / (n1 + n2);
    double var = P * (1.0 - P) * (1.0 / n1 + 1.0 / n2);
    if (!(var > 0)) {   /* one and the same value on both sides */
        out->statistic = 0.0;
        out->p_value = 1.0;
        return;
    }
    double z = (p1 - p2) / sqrt(var);
    out->statistic = z;
    out->p_value = fmin(1.0, 2.0 * gsl_cdf_ugaussian_Q(fabs(z)));
}

double aud_drift_jensen_shannon(const double *p, const double *q, size_t k)
{
    aud_ksum sp = {0, 0}, sq = {0, 0};
    for (size_t i = 0; i < k; i++) {
        aud_ksum_add(&sp, p[i]);
        aud_ksum_add(&sq, q[i]);
    }
    double tp = aud_ksum_get(&sp), tq = aud_ksum_get(&sq);
    if (!(tp > 0 && tq > 0))
        return NAN;
    aud_ksum l = {0, 0}, r = {0, 0};
    for (size_t i = 0; i < k; i++) {
        double pi = p[i] / tp, qi = q[i] / tq;
        double m = (pi + qi) / 2.0;
        if (pi > 0)
            aud_ksum_add(&l, pi * log(pi / m));
        if (qi > 0)
            aud_ksum_add(&r, qi * log(qi / m));
    }
    double js = (aud_ksum_get(&l) + aud_ksum_get(&r)) / 2.0;
    return sqrt(js > 0 ? js : 0.0);
}

void aud_drift_fill_zeros(double *p, size_t k)
{
    double mn = INFINITY;
    for (size_t i = 0; i < k; i++)
        if (p[i] != 0 && p[i] < mn)
            mn = p[i];
    if (!isfinite(mn))
        return;
    double fill = mn <= 0.0001 ? mn / 1e6 : 0.0001;
    for (size_t i = 0; i < k; i++)
        if (p[i] == 0)
            p[i] = fill;
}

double aud_drift_psi(const double *r, const double *c, size_t k)
{
    aud_ksum s = {0, 0};
    for (size_t i = 0; i < k; i++)
        aud_ksum_add(&s, (r[i] - c[i]) * log(r[i] / c[i]));
    return aud_ksum_get(&s);
}
