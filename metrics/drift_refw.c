/* drift_refw.c - drift statistics against a reference summary (a saved profile, SPEC section 8)
 * computed over the summary's cells, O(cells + current values) per column, with their bounds.
 *
 * The cells (drift_int.h): atoms, whose count is exact, and gaps between the known points, whose
 * count is exact and whose values are not known. The figures are those of one sample consistent
 * with the cells (the "model"): atoms as they are; in a gap (lo, hi) of w values, w distinct
 * values with round(w (y - lo) / (hi - lo)) of them below each current value y (KS,
 * Anderson-Darling, Cramer-von Mises), and for Wasserstein the cumulative count rising linearly
 * over the gap. The true sample is another sample consistent with the cells, so each figure
 * differs from the true one by at most the largest change any arrangement inside the gaps can
 * make; docs/drift.md "Reference profiles" derives each bound:
 *   KS           max over gaps w / n1;
 *   Wasserstein  sum over gaps w (hi - lo) / n1;
 *   CvM          per gap, the range of its share of U (scipy's rank form with midranks, ties
 *                grouped) over every arrangement, written through S = the pairs (reference,
 *                current) in the gap with the current value first (ties counting 1/2);
 *   AD           per point in a gap, the range of its share l D^2 / den / l of its tie
 *                group's term (Scholz & Stephens 1987, eq. 7, midranks) with its own midrank
 *                known within a sixteenth of its sample's values in the gap (plus ties), the
 *                other sample's anywhere in the gap, and its tie group anything up to the
 *                largest tie it may meet. */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CHUNKS 16   /* AD bound: a gap's reference points in this many runs of own ranks */

typedef __int128 i128;

/* fmin and fmax for the numbers here (never NaN), inline: the bounds call them per chunk */
static inline double lesser(double a, double b)
{
    return a < b ? a : b;
}

static inline double greater(double a, double b)
{
    return a > b ? a : b;
}

/* ---- the cells ------------------------------------------------------------------------------ */

/* cells are pushed into room for all of them: at most two per known point (a gap, an atom) */
static void push(aud_drift_refw *w, aud_drift_refw_cell c)
{
    w->c[w->n_c++] = c;
    w->n_atoms += c.atom;
}

void aud_drift_refw_free(aud_drift_refw *w)
{
    if (!w->borrowed)
        aud_free(w->c);
    memset(w, 0, sizeof *w);
}

int aud_drift_refw_build(aud_drift_refw *w, const aud_drift_refsum *r)
{
    if (r->cells != NULL) {
        *w = *r->cells;
        w->borrowed = 1;
        return AUD_OK;
    }
    memset(w, 0, sizeof *w);
    w->n = r->n;
    if (!(r->n > 0))
        return -1;
    double *kv;
    size_t nk;
    if (aud_drift_ref_knots(r, &kv, &nk) != AUD_OK)
        return AUD_E_NOMEM;
    if ((w->c = aud_malloc((2 * nk + 1) * sizeof *w->c)) == NULL) {
        aud_free(kv);
        return AUD_E_NOMEM;
    }
    double C = 0.0, start = r->lo;
    int closed = 1, rc = AUD_OK;
    size_t at = 0;   /* the knots increase: one walk over the summary */
    for (size_t i = 0; i < nk && rc == AUD_OK; i++) {
        double v = kv[i], a, b, a2, b2;
        aud_drift_refsum_rank_walk(r, v, 0, &at, &a, &b);
        aud_drift_refsum_rank_walk(r, v, 1, &at, &a2, &b2);
        if (a != b || a < C) {
            rc = -1;
            break;
        }
        if (a > C)
            push(w, (aud_drift_refw_cell){start, v, a - C, C, 0, closed});
        C = a;
        if (rc == AUD_OK && a2 == b2) {
            if (a2 > C)
                push(w, (aud_drift_refw_cell){v, v, a2 - C, C, 1, 1});
            C = a2 > C ? a2 : C;
            closed = 0;
        } else {
            closed = 1;
        }
        start = v;
    }
    aud_free(kv);
    if (rc == AUD_OK && C != r->n)
        rc = -1;
    if (rc != AUD_OK)
        aud_drift_refw_free(w);
    return rc;
}

/* first cell with hi >= v */
static size_t find_cell(const aud_drift_refw *w, double v)
{
    size_t a = 0, b = w->n_c;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (w->c[m].hi < v)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* share of a gap's w values below y (round(w (y - lo) / (hi - lo)), within [0, w]); the
 * rounding is nearbyint's (to nearest, ties to even) inline: below 2^52, adding and taking away
 * 2^52 rounds to an integer; from there on every double is one */
static inline double gap_share(const aud_drift_refw_cell *c, double y)
{
    const double two52 = 4503599627370496.0;
    double x = c->w * ((y - c->lo) / (c->hi - c->lo));
    if (!(x > 0))
        return 0;
    double f = x < two52 ? (x + two52) - two52 : x;
    return f > c->w ? c->w : f;
}

double aud_drift_refw_below(const aud_drift_refw *w, double v, int le)
{
    size_t i = find_cell(w, v);
    if (i == w->n_c)
        return w->n;
    const aud_drift_refw_cell *c = &w->c[i];
    if (v < c->lo)
        return c->before;
    if (c->atom)
        return le ? c->before + c->w : c->before;
    if (v >= c->hi)
        return c->before + c->w;
    return c->before + gap_share(c, v);
}

double aud_drift_refw_value(const aud_drift_refw *w, double i)
{
    size_t a = 0, b = w->n_c;
    while (a < b) {   /* first cell whose values reach past rank i */
        size_t m = a + (b - a) / 2;
        if (w->c[m].before + w->c[m].w <= i)
            a = m + 1;
        else
            b = m;
    }
    if (a == w->n_c)
        return w->c[w->n_c - 1].hi;
    const aud_drift_refw_cell *c = &w->c[a];
    if (c->atom)
        return c->lo;
    double t = i - c->before;
    return fmin(c->lo + (c->hi - c->lo) * ((t + 0.5) / c->w), c->hi);
}

size_t aud_drift_refw_values(const aud_drift_refw *w, const double *y, size_t n2, double *vals,
                             double *rc, double *cc)
{
    size_t i = 0, j = 0, u = 0;
    while (i < w->n_c || j < n2) {
        double v = (j >= n2 || (i < w->n_c && w->c[i].lo <= y[j])) ? w->c[i].lo : y[j];
        double a = 0, b = 0;
        while (i < w->n_c && w->c[i].lo <= v)
            a += w->c[i++].w;
        size_t j0 = j;
        while (j < n2 && y[j] <= v)
            j++;
        b = (double)(j - j0);
        if (vals != NULL) {
            vals[u] = v;
            rc[u] = a;
            cc[u] = b;
        }
        u++;
    }
    return u;
}

/* ---- the statistics --------------------------------------------------------------------------- */


/* numpy.sum of a stream of values (blocks of 8192 summed pairwise, then in order) */
typedef struct npstream {
    double buf[8192];
    size_t n;
    double res;
} npstream;

/* the squares (c2 - 2 (q + 1))^2 / 4 for q = q0, q0 + 1, ... (cnt of them), in blocks */
static void np_fill(npstream *s, double c2, double q0, double cnt)
{
    for (double q = q0, end = q0 + cnt; q < end;) {
        size_t m = 8192 - s->n;
        if ((double)m > end - q)
            m = (size_t)(end - q);
        double *b = s->buf + s->n;
        /* dd = c2 - 2 (q + i + 1): integers below 2^53 (and dd^2 too, and / 4 is a power of
         * two), so stepping dd by -2 gives the same doubles as computing each anew */
        double dd = c2 - 2 * (q + 1);
        size_t i = 0;
#if defined(__SSE2__)
        __m128d d = _mm_set_pd(dd - 2, dd), step = _mm_set1_pd(-4.0), quarter = _mm_set1_pd(0.25);
        for (; i + 2 <= m; i += 2) {
            _mm_storeu_pd(b + i, _mm_mul_pd(_mm_mul_pd(d, d), quarter));
            d = _mm_add_pd(d, step);
        }
        dd -= 2 * (double)i;
#endif
        for (; i < m; i++, dd -= 2)
            b[i] = dd * dd / 4.0;
        s->n += m;
        q += (double)m;
        if (s->n == 8192) {
            s->res += aud_drift_np_pairwise(s->buf, s->n);
            s->n = 0;
        }
    }
}

static double np_done(npstream *s)
{
    if (s->n)
        s->res += aud_drift_np_pairwise(s->buf, s->n);
    s->n = 0;
    return s->res;
}

typedef struct pass {
    double   n1, n2, N;
    size_t   nu;
    double   P, Q;            /* reference and current values below the position (model) */
    double   maxS, minD;      /* KS: extremes of F1 - F2 */
    double   inv1, inv2;      /* 1 / n1, 1 / n2 (ks_note) */
    i128     x4, y4;          /* 4 x the two sums of U (CvM) */
    aud_ksum     s1, s2;          /* AD */
    npstream *sx, *sy;        /* exact summaries: U summed as numpy sums it (bit-identical) */
    double   ad_bound;
    int      ad_ok;
} pass;

/* KS: F1 - F2 = P / n1 - Q / n2 at the position. The quotients cost two divisions; the products
 * with the reciprocals differ from them by a few units in the last place (both are at most 1),
 * so a value whose product form is more than KS_SLACK inside the extremes so far cannot be a new
 * extreme and is not divided out: the extremes are the very quotients, found with fewer
 * divisions. */
#define KS_SLACK 1e-9

static inline void ks_note(pass *p, double P, double Q)
{
    double approx = P * p->inv1 - Q * p->inv2;
    if (approx < p->maxS - KS_SLACK && approx > p->minD + KS_SLACK)
        return;
    double d = P / p->n1 - Q / p->n2;
    if (d > p->maxS)
        p->maxS = d;
    if (d < p->minD)
        p->minD = d;
}

/* (n^3 - n) / 3 = (n - 1) n (n + 1) / 3, exact: in 64 bits below 2^20 (the common small ties,
 * 0 for n <= 1), else in 128 */
static inline i128 tri3(int64_t n)
{
    if (n <= 1)
        return 0;
    if (n < ((int64_t)1 << 20))
        return (i128)((n * n * n - n) / 3);
    i128 m = n;
    return (m * m * m - m) / 3;
}

/* A tie group of a reference and b current values (as aud_drift_anderson and aud_drift_cvm). */
static inline __attribute__((always_inline)) void group(pass *p, double a, double b)
{
    double N = p->N, l = a + b;
    double B = p->P + p->Q + l / 2.0, den = B * (N - B) - N * l / 4.0;
    double M1 = p->P + a / 2.0, M2 = p->Q + b / 2.0;
    double d1 = N * M1 - B * p->n1, d2 = N * M2 - B * p->n2;
    /* rounded as aud_drift_anderson rounds each term: an exact summary's figure is the CSV's
     * bit for bit */
    aud_ksum_add(&p->s1, l / N * (d1 * d1) / den);
    aud_ksum_add(&p->s2, l / N * (d2 * d2) / den);
    int64_t A = (int64_t)a, Bc = (int64_t)b;
    i128 P = (int64_t)p->P, Q = (int64_t)p->Q;
    if (A != 0)
        p->x4 += (i128)A * (2 * Q + Bc) * (2 * Q + Bc) + tri3(A);
    if (Bc != 0)
        p->y4 += (i128)Bc * (2 * P + A) * (2 * P + A) + tri3(Bc);
    if (p->sx != NULL) {   /* per value, twice the midrank minus twice the own rank */
        double c2 = 2 * (p->P + p->Q) + l + 1;
        np_fill(p->sx, c2, p->P, a);
        np_fill(p->sy, c2, p->Q, b);
    }
    p->P += a;
    p->Q += b;
    ks_note(p, p->P, p->Q);
    p->nu++;
}

/* r untied reference values between two current values: each its own group */
static inline __attribute__((always_inline)) void run(pass *p, double r)
{
    if (r <= 0)
        return;
    double N = p->N, n2 = p->n2;
    ks_note(p, p->P + 1, p->Q);
    double M1 = p->P + r / 2.0, B = M1 + p->Q;   /* the middle one's midrank */
    double D = n2 * M1 - p->n1 * p->Q;
    double sd2 = r * D * D;   /* sum of D^2, D linear */
    if (r > 1)
        sd2 += n2 * n2 * (r * r * r - r) / 12.0;
    double den = B * (N - B) - N / 4.0, t = sd2 / (N * den);
    aud_ksum_add(&p->s1, t);
    aud_ksum_add(&p->s2, t);
    i128 R = (int64_t)r, Q = (int64_t)p->Q;
    p->x4 += R * 4 * Q * Q;
    p->P += r;
    ks_note(p, p->P, p->Q);
    p->nu += (size_t)r;
}

static inline void sq_range(double a, double b, double *mn, double *mx)
{
    *mn = a <= 0 && b >= 0 ? 0.0 : lesser(a * a, b * b);
    *mx = greater(a * a, b * b);
}

static double den_min_at(double B, double N, double lmax)
{
    double l = lesser(lmax, lesser(2 * B, 2 * (N - B)));
    return B * (N - B) - N * greater(l, 1.0) / 4;
}

/* AD: the largest minus the smallest share D^2 / den of one point whose midranks lie in
 * [a1, b1] (reference) and [a2, b2] (current), in a tie group of 1..lmax values. */
static void ad_point(pass *p, double a1, double b1, double a2, double b2, double lmax,
                     double count)
{
    double N = p->N;
    a1 = greater(a1, 0.0);
    b1 = lesser(b1, p->n1);
    a2 = greater(a2, 0.0);
    b2 = lesser(b2, p->n2);
    double gmn, gmx;
    sq_range(p->n2 * a1 - p->n1 * b2, p->n2 * b1 - p->n1 * a2, &gmn, &gmx);
    double blo = greater(a1 + a2, 0.5), bhi = lesser(b1 + b2, N - 0.5);
    double flo = blo * (N - blo), fhi = bhi * (N - bhi);
    double fmax_ = blo <= N / 2 && bhi >= N / 2 ? N * N / 4 : greater(flo, fhi);
    /* den = B (N - B) - N l / 4 with l / 2 <= B <= N - l / 2 (B counts half the group): for a
     * given B smallest at the largest l, min(lmax, 2B, 2(N - B)); that is concave in B piece by
     * piece, so smallest at an end of B's range or where the pieces meet */
    double dmin = lesser(den_min_at(blo, N, lmax), den_min_at(bhi, N, lmax));
    if (lmax / 2 > blo && lmax / 2 < bhi)
        dmin = lesser(dmin, den_min_at(lmax / 2, N, lmax));
    if (N - lmax / 2 > blo && N - lmax / 2 < bhi)
        dmin = lesser(dmin, den_min_at(N - lmax / 2, N, lmax));
    double dmax = fmax_ - N / 4;
    if (!(dmin > 0)) {
        p->ad_ok = 0;
        return;
    }
    p->ad_bound += count * (gmx / dmin - gmn / dmax);
}

/* CvM: the bound on one gap's share of U (docs/drift.md). c reference and d current values in
 * the gap, P0/Q0 below it; the model's S and sums of squares; mt the largest reference tie. */
static double cvm_gap(const pass *p, double c, double d, double P0, double Q0, double S,
                      double sq, double sp, double mt)
{
    double n1 = p->n1, n2 = p->n2, L = n1 * Q0 - n2 * P0, cd = c * d;
    double tie = mt > 1 ? n1 * c * (mt * mt - 1) / 12.0 : 0.0;
    if (d == 0)
        return tie;
    double g0 = n2 * c * cd, g1 = 2 * cd * L + n1 * d * cd;
    double vmax = greater(g0, g1) + tie;
    double s = (n2 * c - L) / (n1 / c + n2 / d);
    s = s < 0 ? 0 : s > cd ? cd : s;
    double vmin = 2 * s * L + n1 * s * s / c + n2 * (cd - s) * (cd - s) / d;
    double vm = 2 * S * L + n1 * sq + n2 * sp;
    return greater(vmax - vm, vm - vmin);
}

/* current groups of y[*j..) below v (lt) or up to v (le), outside the gaps: exact context */
static void cur_until(pass *p, const double *y, size_t n2, size_t *j, double v, int le)
{
    while (*j < n2 && (y[*j] < v || (le && y[*j] == v))) {
        size_t e = *j;
        while (e < n2 && y[e] == y[*j])
            e++;
        ks_note(p, p->P, p->Q);
        group(p, 0, (double)(e - *j));
        *j = e;
    }
}

static void gap(pass *p, const aud_drift_refw_cell *c, const double *y, size_t n2, size_t *j,
                double mt, double *cvm_bound)
{
    double P0 = p->P, Q0 = p->Q, w = c->w, k = 0, S = 0, sq = 0, sp = 0, bmax = 0;
    double chunk[CHUNKS + 1];
    int64_t wi = (int64_t)w;   /* w, d: counts, integers below 2^53 */
    for (int q = 0; q <= CHUNKS; q++)
        chunk[q] = (double)(wi * q / CHUNKS);   /* floor(w q / CHUNKS) */
    int ci = 0;
    while (*j < n2 && y[*j] < c->hi) {
        size_t e = *j;
        while (e < n2 && y[e] == y[*j])
            e++;
        double b = (double)(e - *j), kk = gap_share(c, y[*j]);
        kk = kk < k ? k : kk;
        while (k < kk) {   /* the reference values before it, split at the chunks */
            while (ci < CHUNKS && chunk[ci + 1] <= k)
                ci++;
            double r = lesser(kk, chunk[ci + 1]) - k;
            double q = p->Q - Q0;
            S += r * q;
            sq += r * q * q;
            run(p, r);
            k += r;
        }
        sp += b * (p->P - P0) * (p->P - P0);
        bmax = b > bmax ? b : bmax;
        ks_note(p, p->P, p->Q);
        group(p, 0, b);
        *j = e;
    }
    while (k < w) {
        while (ci < CHUNKS && chunk[ci + 1] <= k)
            ci++;
        double r = lesser(w, chunk[ci + 1]) - k;
        double q = p->Q - Q0;
        S += r * q;
        sq += r * q * q;
        run(p, r);
        k += r;
    }
    double d = p->Q - Q0, s = mt > 1 ? (mt - 1) / 2 : 0;
    for (int q = 0; q < CHUNKS; q++)   /* the reference points, by runs of own ranks */
        if (chunk[q + 1] > chunk[q])
            ad_point(p, P0 + chunk[q] + 0.5 - s, P0 + chunk[q + 1] - 0.5 + s, Q0, Q0 + d,
                     mt + bmax, chunk[q + 1] - chunk[q]);
    /* the current points likewise: the t-th's midrank within Q0 + t + 1/2 +- (bmax - 1)/2, the
     * reference's anywhere in the gap, a tie group of at most bmax + mt values */
    double sb = bmax > 1 ? (bmax - 1) / 2 : 0;
    int64_t di = (int64_t)d;
    for (int q = 0; q < CHUNKS; q++) {
        double t0 = (double)(di * q / CHUNKS), t1 = (double)(di * (q + 1) / CHUNKS);
        if (t1 > t0)
            ad_point(p, P0, P0 + w, Q0 + t0 + 0.5 - sb, Q0 + t1 - 0.5 + sb, mt + bmax, t1 - t0);
    }
    *cvm_bound += cvm_gap(p, w, d, P0, Q0, S, sq, sp, mt);
}

/* Wasserstein: the integral of |F1 / n1 - F2 / n2| with F1 rising linearly over each gap. */
static double span(double len, double a, double b)
{
    if (len <= 0)
        return 0.0;
    if ((a >= 0 && b >= 0) || (a <= 0 && b <= 0))
        return len * (fabs(a) + fabs(b)) / 2;
    return len * (a * a + b * b) / (2 * (fabs(a) + fabs(b)));
}

static double wasserstein(const aud_drift_refw *w, const double *y, size_t n2)
{
    double n1 = w->n, m = (double)n2, x = fmin(w->c[0].lo, y[0]), f1 = 0, q = 0;
    aud_ksum acc = {0, 0};
    size_t j = 0;
    for (size_t i = 0; i <= w->n_c; i++) {
        const aud_drift_refw_cell *c = i < w->n_c ? &w->c[i] : NULL;
        double end = c ? c->lo : INFINITY;
        while (j < n2 && (y[j] < end || (c && c->atom && y[j] == end))) {
            double v = y[j];
            aud_ksum_add(&acc, span(v - x, f1 / n1 - q / m, f1 / n1 - q / m));
            while (j < n2 && y[j] == v) {
                j++;
                q += 1;
            }
            x = v;
        }
        if (c == NULL)
            break;
        aud_ksum_add(&acc, span(c->lo - x, f1 / n1 - q / m, f1 / n1 - q / m));
        x = c->lo;
        if (c->atom) {
            f1 += c->w;
            continue;
        }
        double slope = c->w / (c->hi - c->lo), f0 = f1;
        while (j < n2 && y[j] < c->hi) {
            double v = y[j], fv = f0 + slope * (v - c->lo);
            aud_ksum_add(&acc, span(v - x, f1 / n1 - q / m, fv / n1 - q / m));
            while (j < n2 && y[j] == v) {
                j++;
                q += 1;
            }
            x = v;
            f1 = fv;
        }
        double fe = f0 + c->w;
        aud_ksum_add(&acc, span(c->hi - x, f1 / n1 - q / m, fe / n1 - q / m));
        x = c->hi;
        f1 = fe;
    }
    return aud_ksum_get(&acc);
}

int aud_drift_refw_stats(aud_drift_column *col, const aud_drift_refw *w,
                         const aud_drift_refsum *r, const double *y, size_t n2)
{
    size_t n1 = (size_t)w->n;
    int exact = w->n_atoms == w->n_c;
    npstream *sx = NULL, *sy = NULL;
    if (exact && ((sx = aud_malloc(sizeof *sx)) == NULL || (sy = aud_malloc(sizeof *sy)) == NULL)) {
        aud_free(sx);
        return AUD_E_NOMEM;
    }
    if (sx != NULL) {
        sx->n = sy->n = 0;
        sx->res = sy->res = 0.0;
    }
    pass p = {.n1 = w->n, .n2 = (double)n2, .N = w->n + (double)n2, .maxS = -INFINITY,
              .minD = INFINITY, .inv1 = 1.0 / w->n, .inv2 = 1.0 / (double)n2, .sx = sx, .sy = sy, .ad_ok = 1};
    double mt = (double)r->max_tie, cvm_b = 0.0, ks_b = 0.0, w_b = 0.0;
    size_t j = 0;
    for (size_t i = 0; i < w->n_c; i++) {
        const aud_drift_refw_cell *c = &w->c[i];
        if (c->atom) {
            cur_until(&p, y, n2, &j, c->lo, 0);
            size_t e = j;
            while (e < n2 && y[e] == c->lo)
                e++;
            group(&p, c->w, (double)(e - j));
            j = e;
            continue;
        }
        cur_until(&p, y, n2, &j, c->lo, !c->lo_closed);
        ks_b = fmax(ks_b, c->w);
        w_b += c->w * (c->hi - c->lo);
        gap(&p, c, y, n2, &j, mt, &cvm_b);
    }
    cur_until(&p, y, n2, &j, INFINITY, 0);
    col->ks.reason = col->ks.mode = NULL;
    col->ks.dof = col->anderson.dof = col->cvm.dof = 0;
    aud_drift_ks_finish(p.maxS, p.minD, n1, n2, &col->ks);
    col->wasserstein = wasserstein(w, y, n2);
    col->anderson.statistic = col->anderson.p_value = NAN;
    col->anderson.reason = col->anderson.mode = NULL;
    if (p.N < 4)
        col->anderson.reason = "needs at least 4 observations in total";
    else
        aud_drift_anderson_finish(aud_ksum_get(&p.s1), aud_ksum_get(&p.s2), n1, n2, p.nu,
                                  &col->anderson);
    col->cvm.statistic = col->cvm.p_value = NAN;
    col->cvm.reason = col->cvm.mode = NULL;
    int rc = AUD_OK;
    i128 k = (i128)n1 * (i128)n2, N = (i128)(n1 + n2);
    if (n1 < 2 || n2 < 2) {
        col->cvm.reason = "needs at least 2 observations in each sample";
    } else if (sx != NULL) {   /* as aud_drift_cvm: the sums rounded as numpy's */
        double u = (double)n1 * np_done(sx) + (double)n2 * np_done(sy);
        double t = u / (double)(k * N) - (double)(4 * k - 1) / (double)(6 * N);
        rc = aud_drift_cvm_finish(u, t, n1, n2, &col->cvm);
    } else {   /* T = (24 U - 4 k (4k - 1)) / (24 k N), the numerator exact */
        i128 v4 = (i128)n1 * p.x4 + (i128)n2 * p.y4;
        double t = (double)(6 * v4 - 4 * k * (4 * k - 1)) / (double)(24 * k * N);
        rc = aud_drift_cvm_finish((double)v4 / 4.0, t, n1, n2, &col->cvm);
    }
    aud_free(sx);
    aud_free(sy);
    col->from_summary = 1;
    col->summary_exact = r->exact;
    double n1d = w->n, Nd = p.N;
    col->bound_ks = ks_b / n1d;
    col->bound_wasserstein = w_b / n1d;
    col->bound_wasserstein_normed = isfinite(r->std) ? col->bound_wasserstein /
                                                           fmax(r->std, 0.001)
                                                     : NAN;
    col->bound_cvm = cvm_b / (n1d * (double)n2 * Nd);
    col->bound_anderson = NAN;
    double sig = sqrt(aud_drift_ad_variance(n1, n2));
    if (p.ad_ok && sig > 0)
        col->bound_anderson = p.ad_bound * (Nd - 1) / (n1d * (double)n2 * Nd) / sig;
    if (exact)
        col->bound_ks = col->bound_wasserstein = col->bound_wasserstein_normed =
            col->bound_cvm = col->bound_anderson = 0.0;
    return rc;
}
