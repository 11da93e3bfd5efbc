/* drift_ks.c - two-sample Kolmogorov-Smirnov test as scipy 1.10 `ks_2samp` (two-sided, 'auto').
 *
 * Statistic: D = max |F1 - F2| over the pooled sample, with scipy's tie handling (searchsorted
 * 'right') and its choice between the positive and negative deviation.
 * p-value, exact (max(n1, n2) <= 10000): Hodges (1958) lattice-path counting. For n1 == n2 the
 * closed form of Pr(D >= h/n) evaluated in Horner form; otherwise the "inside" recursion of
 * Viehmann (arXiv:2102.08037) that yields 1 - p directly with rescaled columns. When the exact
 * result is not a probability, scipy falls back to the asymptotic distribution and so do we.
 * p-value, asymptotic: the one-sample two-sided distribution D_n with n = round(n1 n2/(n1+n2))
 * (scipy kstwo.sf), computed by the algorithm selection of Simard & L'Ecuyer (2011): Ruben-
 * Gambino closed forms at the extremes, the Durbin matrix (Marsaglia, Tsang & Wang 2003),
 * Pomeranz (1974), the Pelz-Good (1976) series, and 2 x Smirnov's one-sided exact
 * (Birnbaum & Tingey 1951) in the upper tail. Written from the papers and from reading scipy's
 * algorithm choices; no code copied. */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KS_MAX_AUTO_N 10000
#define KS_E128 128
static const double KS_EP128 = 3.402823669209384634633746074317682114560e38;   /* 2^128 */
static const double KS_EM128 = 2.938735877055718769921841343055614194547e-39;  /* 2^-128 */

static double clip01(double p)
{
    if (p < 0.0)
        return 0.0;
    if (p > 1.0)
        return 1.0;
    return p;
}

static double ln_gamma(double x)
{
    int sign = 0;
    return lgamma_r(x, &sign);
}

/* ---- one-sided Smirnov ------------------------------------------------------------------- */

/* P(D+_n >= x) = x * sum_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)
 * (Birnbaum & Tingey 1951). Terms in log space; ln C(n, v) accumulated with compensation; the
 * terms are unimodal in v, so the sum stops once they are negligible past the peak. */
double aud_drift_smirnov(long n, double x)
{
    if (!(n > 0 && x >= 0.0 && x <= 1.0))
        return NAN;
    if (x == 0.0)
        return 1.0;
    if (x == 1.0)
        return 0.0;
    double nd = (double)n;
    long vmax = (long)floor(nd * (1.0 - x));
    double sum = 0.0, comp = 0.0;
    double lc = 0.0, lc_comp = 0.0;   /* ln C(n, v), compensated */
    double tmax = -INFINITY;
    for (long v = 0; v <= vmax; v++) {
        double evn = x + (double)v / nd;
        double omevn = 1.0 - evn;
        if (omevn > 0.0) {
            double t = lc + lc_comp + (double)(v - 1) * log(evn) + (double)(n - v) * log(omevn);
            if (t > tmax)
                tmax = t;
            else if (t < tmax - 50.0)
                break;
            double e = exp(t);
            double s = sum + e;
            comp += fabs(sum) >= fabs(e) ? (sum - s) + e : (e - s) + sum;
            sum = s;
        }   /* else 1 - x - v/n <= 0 by rounding at the last term: the term is 0 */
        double inc = log((nd - (double)v) / ((double)v + 1.0));
        double s2 = lc + inc;
        lc_comp += fabs(lc) >= fabs(inc) ? (lc - s2) + inc : (inc - s2) + lc;
        lc = s2;
    }
    return clip01((sum + comp) * x);
}

/* ---- Durbin matrix (Marsaglia, Tsang, Wang 2003) ----------------------------------------- */

/* P(D_n < d) via the k-th diagonal element of H^n, with H the m x m matrix of MTW, m = 2k-1,
 * k = ceil(n d). Powers by squaring with exponent bookkeeping to avoid overflow. */
static double kolmogn_dmtw(long n, double d)
{
    if (d >= 1.0)
        return 1.0;
    double nd = (double)n * d;
    if (nd <= 0.5)
        return 0.0;
    long k = (long)ceil(nd);
    double h = (double)k - nd;
    long m = 2 * k - 1;
    size_t mm = (size_t)m * (size_t)m;
    double *H = aud_calloc(4 * mm, sizeof *H);
    double *v = aud_malloc((size_t)m * sizeof *v);
    double *w = aud_malloc((size_t)m * sizeof *w);
    if (H == NULL || v == NULL || w == NULL) {
        aud_free(H);
        aud_free(v);
        aud_free(w);
        return NAN;
    }
    double *P = H + mm, *T = H + 2 * mm, *T2 = H + 3 * mm;
    double fac = 1.0;
    for (long j = 1; j <= m; j++) {
        w[j - 1] = fac;
        fac /= (double)j;
        v[j - 1] = (1.0 - pow(h, (double)j)) * fac;
    }
    double tt = pow(fmax(2.0 * h - 1.0, 0.0), (double)m) - 2.0 * pow(h, (double)m);
    v[m - 1] = (1.0 + tt) * fac;
    /* H[r][c]: column 0 = v; for c >= 1, H[r][c] = w[r - c + 1] when r >= c - 1; last row =
     * reversed v. */
    for (long c = 1; c < m; c++)
        for (long r = c - 1; r < m; r++)
            H[r * m + c] = w[r - c + 1];
    for (long r = 0; r < m; r++)
        H[r * m] = v[r];
    for (long c = 0; c < m; c++)
        H[(m - 1) * m + c] = v[m - 1 - c];
    for (long r = 0; r < m; r++)
        for (long c = 0; c < m; c++)
            P[r * m + c] = r == c ? 1.0 : 0.0;
    long expnt = 0, hexpnt = 0;
    long nn = n;
    while (nn > 0) {
        if (nn % 2) {
            for (long r = 0; r < m; r++)
                for (long c = 0; c < m; c++) {
                    double s = 0.0;
                    for (long q = 0; q < m; q++)
                        s += P[r * m + q] * H[q * m + c];
                    T[r * m + c] = s;
                }
            memcpy(P, T, mm * sizeof *P);
            expnt += hexpnt;
        }
        for (long r = 0; r < m; r++)
            for (long c = 0; c < m; c++) {
                double s = 0.0;
                for (long q = 0; q < m; q++)
                    s += H[r * m + q] * H[q * m + c];
                T2[r * m + c] = s;
            }
        memcpy(H, T2, mm * sizeof *H);
        hexpnt *= 2;
        if (fabs(H[(k - 1) * m + (k - 1)]) > KS_EP128) {
            for (size_t i = 0; i < mm; i++)
                H[i] /= KS_EP128;
            hexpnt += KS_E128;
        }
        nn /= 2;
    }
    double p = P[(k - 1) * m + (k - 1)];
    for (long i = 1; i <= n; i++) {
        p = (double)i * p / (double)n;
        if (fabs(p) < KS_EM128) {
            p *= KS_EP128;
            expnt -= KS_E128;
        }
    }
    if (expnt != 0)
        p = ldexp(p, (int)expnt);
    aud_free(H);
    aud_free(v);
    aud_free(w);
    return clip01(p);
}

/* ---- Pomeranz (1974) --------------------------------------------------------------------- */

static void pomeranz_j1j2(long i, long n, long ll, long ceilf, long roundf, long *j1o, long *j2o)
{
    long j1, j2;
    if (i == 0) {
        j1 = -ll - ceilf - 1;
        j2 = ll + ceilf - 1;
    } else {
        long q = (i + 1) / 2, r = (i + 1) % 2;
        if (r == 0) {
            if (q == n + 1) {
                j1 = n - ll - ceilf - 1;
                j2 = n + ll + ceilf - 1;
            } else {
                j1 = q - 1 - ll - roundf - 1;
                j2 = q + ll - 1 + ceilf - 1;
            }
        } else {
            j1 = q - 1 - ll - 1;
            j2 = q + ll + roundf - 1;
        }
    }
    *j1o = j1 + 2 > 0 ? j1 + 2 : 0;
    *j2o = j2 < n ? j2 : n;
}

static double kolmogn_pomeranz(long n, double x)
{
    double t = (double)n * x;
    long ll = (long)floor(t);
    double f = t - (double)ll;
    double g = fmin(f, 1.0 - f);
    long ceilf = f > 0 ? 1 : 0;
    long roundf = f > 0.5 ? 1 : 0;
    long npwrs = 2 * (ll + 1);
    double *buf = aud_calloc((size_t)npwrs * 5 + 2, sizeof *buf);
    if (buf == NULL)
        return NAN;
    double *gp = buf, *g2p = buf + npwrs, *om2g = buf + 2 * npwrs;
    double *V0 = buf + 3 * npwrs, *V1 = buf + 4 * npwrs;
    gp[0] = g2p[0] = om2g[0] = 1.0;
    double a1 = g / (double)n, a2 = 2.0 * g / (double)n, a3 = (1.0 - 2.0 * g) / (double)n;
    for (long m = 1; m < npwrs; m++) {
        gp[m] = gp[m - 1] * a1 / (double)m;
        g2p[m] = g2p[m - 1] * a2 / (double)m;
        om2g[m] = om2g[m - 1] * a3 / (double)m;
    }
    V1[0] = 1.0;
    long V0s = 0, V1s = 0, expnt = 0;
    long j1, j2;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
    for (long i = 1; i < 2 * n + 2; i++) {
        long k1 = j1;
        double *sw = V0;
        V0 = V1;
        V1 = sw;
        long s = V0s;
        V0s = V1s;
        V1s = s;
        memset(V1, 0, (size_t)npwrs * sizeof *V1);
        pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? g2p : om2g);
        long ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            /* entries conv[j1-k1 .. j2-k1] of the full convolution of V0[k1-V0s ..][0..ln2) with
             * pw[0..ln2) */
            long cstart = j1 - k1, clen = j2 - j1 + 1;
            const double *a = V0 + (k1 - V0s);
            long alen = ln2 < npwrs - (k1 - V0s) ? ln2 : npwrs - (k1 - V0s);
            long plen = ln2 < npwrs ? ln2 : npwrs;
            double vmax = 0.0;
            for (long c = 0; c < clen && c < npwrs; c++) {
                long idx = cstart + c;
                double sum = 0.0;
                for (long q = 0; q <= idx && q < alen; q++)
                    if (idx - q < plen)
                        sum += a[q] * pw[idx - q];
                V1[c] = sum;
                if (sum > vmax)
                    vmax = sum;
            }
            if (vmax > 0 && vmax < KS_EM128) {
                for (long c = 0; c < npwrs; c++)
                    V1[c] *= KS_EP128;
                expnt -= KS_E128;
            }
            V1s = V0s + j1 - k1;
        }
    }
    double ans = V1[n - V1s];
    for (long m = 1; m <= n; m++) {
        if (fabs(ans) > KS_EP128) {
            ans *= KS_EM128;
            expnt += KS_E128;
        }
        ans *= (double)m;
    }
    if (expnt != 0)
        ans = ldexp(ans, (int)expnt);
    aud_free(buf);
    return clip01(ans);
}

/* ---- Pelz-Good (1976) -------------------------------------------------------------------- */

static double kolmogn_pelzgood(long n, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    const double PI2 = M_PI * M_PI, PI4 = PI2 * PI2, PI6 = PI4 * PI2;
    const double SQRT2PI = sqrt(2.0 * M_PI);
    double z = sqrt((double)n) * x;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double qlog = -PI2 / 8.0 / z2;
    if (qlog < -708.0)
        return 0.0;
    double q = exp(qlog);
    double k1a = -z2, k1b = PI2 / 4.0;
    double k2a = 6.0 * z6 + 2.0 * z4, k2b = (2.0 * z4 - 5.0 * z2) * PI2 / 4.0;
    double k2c = PI4 * (1.0 - 2.0 * z2) / 16.0;
    double k3d = PI6 * (5.0 - 30.0 * z2) / 64.0;
    double k3c = PI4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    double k3b = PI2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    double k3a = -30.0 * z6 - 90.0 * z4 * z4;
    double K[4] = {0, 0, 0, 0};
    long maxk = (long)ceil(16.0 * z / M_PI);
    for (long k = maxk; k >= 1; k--) {
        double m = (double)(2 * k - 1);
        double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, (double)(8 * k));
        double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++)
            K[i] = K[i] * qp + c[i];
    }
    double den[4] = {z, 6.0 * z4, 72.0 * pow(z, 7.0), 6480.0 * pow(z, 10.0)};
    for (int i = 0; i < 4; i++)
        K[i] = K[i] * q * SQRT2PI / den[i];
    double q2 = exp(-PI2 / 2.0 / z2);
    double s2 = 0.0, s3 = 0.0;
    double sqrt3z = sqrt(3.0) * z;
    for (long k = maxk; k >= 1; k--) {
        double kk = (double)k;
        double qk = pow(q2, kk * kk);
        double kspi = M_PI * kk;
        s2 += kk * kk * qk;
        s3 += (sqrt3z + kspi) * (sqrt3z - kspi) * kk * kk * qk;
    }
    K[2] += s2 * PI2 * SQRT2PI / (-36.0 * z3);
    K[3] += s3 * PI2 * SQRT2PI / (216.0 * z6);
    double nn = (double)n;
    K[1] /= sqrt(nn);
    K[2] /= nn;
    K[3] /= nn * sqrt(nn);
    return K[0] + K[1] + K[2] + K[3];
}

/* ---- the two-sided one-sample distribution ----------------------------------------------- */

double aud_drift_kolmogn_sf(long n, double x)
{
    if (n <= 0 || isnan(x))
        return NAN;
    if (x >= 1.0)
        return 0.0;
    if (x <= 0.0)
        return 1.0;
    double nd = (double)n;
    double t = nd * x;
    if (t <= 1.0) {   /* Ruben-Gambino: P(D_n <= x) = n! (2x - 1/n)^n for 1/2n <= x <= 1/n */
        if (t <= 0.5)
            return 1.0;
        double prob;
        if (n <= 140) {
            prob = 1.0;
            for (long i = 1; i <= n; i++)
                prob *= (double)i * (1.0 / nd) * (2.0 * t - 1.0);
        } else {
            prob = exp(ln_gamma(nd + 1.0) - nd * log(nd) + nd * log(2.0 * t - 1.0));
        }
        return clip01(1.0 - prob);
    }
    if (t >= nd - 1.0)   /* Ruben-Gambino upper end */
        return clip01(2.0 * pow(1.0 - x, nd));
    if (x >= 0.5)
        return clip01(2.0 * aud_drift_smirnov(n, x));
    double nx2 = t * x;
    if (n <= 140) {
        if (nx2 <= 0.754693)
            return clip01(1.0 - kolmogn_dmtw(n, x));
        if (nx2 <= 4.0)
            return clip01(1.0 - kolmogn_pomeranz(n, x));
        return clip01(2.0 * aud_drift_smirnov(n, x));
    }
    if (nx2 >= 370.0)
        return 0.0;
    if (nx2 >= 2.2)
        return clip01(2.0 * aud_drift_smirnov(n, x));
    double cdf;
    if (n <= 100000 && nd * pow(x, 1.5) <= 1.4)
        cdf = kolmogn_dmtw(n, x);
    else
        cdf = kolmogn_pelzgood(n, x);
    return clip01(1.0 - cdf);
}

/* ---- exact two-sample probabilities ------------------------------------------------------ */

/* Pr(D_{n,n} >= h/n) = 2 sum_k (-1)^(k-1) C(2n, n - k h) / C(2n, n), in Horner form. */
static double prob_outside_square(long n, long h)
{
    double P = 0.0;
    for (long k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (long j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2.0 * P;
}

/* 1 - (share of lattice paths from (0,0) to (m,n) staying strictly inside |x/m - y/n| <
 * h/lcm), computed column by column as proportions (Viehmann 2021), m >= n. */
static double prob_outer_inside(long m, long n, long g, long h)
{
    if (m < n) {
        long t = m;
        m = n;
        n = t;
    }
    long mg = m / g, ng = n / g;
    long minj = 0, maxj = (long)ceil((double)h / (double)mg);
    if (maxj > n + 1)
        maxj = n + 1;
    long curlen = maxj - minj;
    long lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    /* A, then per column the two weights of each step: i / (i + j) times the previous column's
     * value (t) and j / (i + j) (b), computed before the pass (no division in its chain) */
    double *A = aud_malloc(3 * (size_t)lenA * sizeof *A);
    if (A == NULL)
        return NAN;
    double *t = A + lenA, *b = t + lenA;
    for (long i = 0; i < lenA; i++)
        A[i] = 1.0;
    for (long i = minj; i < maxj; i++)
        A[i] = 0.0;
    for (long i = 1; i <= m; i++) {
        long lastminj = minj, lastlen = curlen;
        minj = (long)floor((double)(ng * i - h) / (double)mg) + 1;
        if (minj < 0)
            minj = 0;
        if (minj > n)
            minj = n;
        maxj = (long)ceil((double)(ng * i + h) / (double)mg);
        if (maxj > n + 1)
            maxj = n + 1;
        if (maxj <= minj) {
            aud_free(A);
            return 1.0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        long len = maxj - minj, off = minj - lastminj;   /* off >= 0: reads ahead of writes */
        for (long jj = 0; jj < len; jj++) {
            double w = 1.0 / (double)(i + jj + minj);
            t[jj] = A[jj + off] * ((double)i * w);
            b[jj] = (double)(jj + minj) * w;
        }
        for (long jj = 0; jj < len; jj++) {   /* the recurrence: one multiply-add per step */
            val = t[jj] + val * b[jj];
            A[jj] = val;
        }
        curlen = maxj - minj;
        if (lastlen > curlen)
            for (long q = maxj - minj; q < maxj - minj + (lastlen - curlen); q++)
                A[q] = 1.0;
    }
    double r = A[maxj - minj - 1];
    aud_free(A);
    return r;
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

void aud_drift_ks(const double *x, size_t n1, const double *y, size_t n2, aud_drift_test *out)
{
    out->statistic = NAN;
    out->p_value = NAN;
    out->dof = 0;
    out->reason = NULL;
    out->mode = NULL;
    if (n1 == 0 || n2 == 0) {
        out->reason = "a sample is empty";
        return;
    }
    /* max and min of F1 - F2 over the pooled values (ties: all of a value at once) */
    double maxS = -INFINITY, minD = INFINITY;
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        double diff = (double)i / (double)n1 - (double)j / (double)n2;
        if (diff > maxS)
            maxS = diff;
        if (diff < minD)
            minD = diff;
    }
    aud_drift_ks_finish(maxS, minD, n1, n2, out);
}

void aud_drift_ks_finish(double maxS, double minD, size_t n1, size_t n2, aud_drift_test *out)
{
    double minS = -minD;
    if (minS < 0.0)
        minS = 0.0;
    if (minS > 1.0)
        minS = 1.0;
    double d = minS > maxS ? minS : maxS;
    long l1 = (long)n1, l2 = (long)n2;
    long g = gcd_l(l1, l2);
    double prob = NAN;
    int exact = (n1 > n2 ? n1 : n2) <= KS_MAX_AUTO_N;
    if (exact) {
        long lcm = (l1 / g) * l2;
        long h = (long)nearbyint(d * (double)lcm);
        d = (double)h / (double)lcm;
        if (h == 0) {
            prob = 1.0;
        } else if (l1 == l2) {
            prob = prob_outside_square(l1, h);
        } else {
            prob = prob_outer_inside(l1, l2, g, h);
        }
        if (!(prob >= 0.0 && prob <= 1.0))
            exact = 0;
    }
    if (!exact) {
        double m = (double)(l1 > l2 ? l1 : l2), n = (double)(l1 > l2 ? l2 : l1);
        double en = m * n / (m + n);
        prob = aud_drift_kolmogn_sf((long)nearbyint(en), d);
    }
    out->statistic = d;
    out->p_value = clip01(prob);
    out->mode = exact ? "exact" : "asymp";
}
