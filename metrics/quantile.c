/* quantile.c - exact order statistics of a large array by radix selection (quantile_int.h).
 *
 * Doubles map to unsigned 64-bit keys in the same order (flip every bit of a negative value, only
 * the sign bit of a positive one: the key trick of radix sorting floating point numbers, Knuth,
 * TAOCP vol. 3, 5.2.5; -0.0 and +0.0 are one key). One pass histograms a 16-bit digit of the key
 * taken just below the bits that every key shares (from the smallest and largest key, which the
 * caller may already know), so the 65536 buckets span the values' actual range; the cumulative
 * counts name the bucket and the rank inside it of every order statistic wanted. When those
 * buckets hold few values (continuous data) one more pass gathers them, each bucket into its own
 * segment, and the smallest and largest key of each segment are read from the gathered copy;
 * when they hold many (ties, integer-valued columns) a pass notes the smallest and largest key
 * of those buckets first, so that a bucket of equal keys answers at once and is not copied. The
 * same step runs on each gathered segment (its keys share 16 more bits), down to a few thousand
 * values, which are sorted (gsl_sort). Two or three linear passes replace one selection per
 * order statistic (gsl_stats_select, about 5x slower on 10^6 values for five quantiles). */
#include "metrics/quantile_int.h"

#include "core/aud.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_sort.h>

enum { DIGIT_BITS = 16, BUCKETS = 1 << DIGIT_BITS, SMALL = 4096, MAX_RANKS = 32 };

static inline uint64_t key_of(double x)
{
    uint64_t b;
    x += 0.0;   /* -0.0 + 0.0 is +0.0 when rounding to nearest: -0.0 sorts with +0.0, no branch */
    memcpy(&b, &x, sizeof b);
    return (b >> 63) ? ~b : b | UINT64_C(0x8000000000000000);
}

static inline double value_of(uint64_t k)
{
    uint64_t b = (k >> 63) ? k & ~UINT64_C(0x8000000000000000) : ~k;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* The values at the ascending, distinct ranks r[0..nr) of v[0..n) into val[]. v is reordered.
 * kmin, kmax: the smallest and largest key when known (kmin > kmax: not known). */
static int select_ranks(double *v, size_t n, const size_t *r, int nr, double *val, uint64_t kmin,
                        uint64_t kmax)
{
    if (n <= SMALL) {
        gsl_sort(v, 1, n);
        for (int k = 0; k < nr; k++)
            val[k] = v[r[k]] == 0.0 ? 0.0 : v[r[k]];
        return 0;
    }
    if (kmin > kmax) {
        kmin = UINT64_MAX;
        kmax = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = key_of(v[i]);
            kmin = k < kmin ? k : kmin;
            kmax = k > kmax ? k : kmax;
        }
    }
    if (kmin == kmax) {
        for (int k = 0; k < nr; k++)
            val[k] = value_of(kmin);
        return 0;
    }
    int common = __builtin_clzll(kmin ^ kmax);
    int shift = 64 - common - DIGIT_BITS;
    if (shift < 0)
        shift = 0;
    uint32_t *hist = aud_calloc(BUCKETS, sizeof *hist);
    uint8_t *slot_of = aud_calloc(BUCKETS, sizeof *slot_of);
    if (hist == NULL || slot_of == NULL) {
        aud_free(hist);
        aud_free(slot_of);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        hist[(key_of(v[i]) >> shift) & (BUCKETS - 1)]++;
    /* bucket of each rank, its rank inside the bucket, and one slot per distinct bucket */
    size_t inner[MAX_RANKS], below = 0;
    int slot_rank[MAX_RANKS], n_slots = 0;
    size_t slot_bucket[MAX_RANKS];
    for (size_t b = 0, k = 0; b < BUCKETS && (int)k < nr; b++) {
        while ((int)k < nr && r[k] < below + hist[b]) {
            inner[k] = r[k] - below;
            if (slot_of[b] == 0) {
                slot_bucket[n_slots] = b;
                slot_of[b] = (uint8_t)++n_slots;
            }
            slot_rank[k] = slot_of[b] - 1;
            k++;
        }
        below += hist[b];
    }
    uint64_t smin[MAX_RANKS], smax[MAX_RANKS];
    size_t wanted = 0;
    for (int s = 0; s < n_slots; s++) {
        smin[s] = UINT64_MAX;
        smax[s] = 0;
        wanted += hist[slot_bucket[s]];
    }
    /* few values in the wanted buckets: gather them all at once and take each segment's key
     * range from the copy; many: one pass for the key ranges first, so that a bucket of equal
     * keys needs no copy */
    int gather_first = wanted <= n / 16;
    if (!gather_first) {
        for (size_t i = 0; i < n; i++) {
            uint64_t k = key_of(v[i]);
            int s = slot_of[(k >> shift) & (BUCKETS - 1)];
            if (s != 0) {
                smin[s - 1] = k < smin[s - 1] ? k : smin[s - 1];
                smax[s - 1] = k > smax[s - 1] ? k : smax[s - 1];
            }
        }
    }
    /* gather the values of the buckets whose keys differ, each into its own segment */
    size_t start[MAX_RANKS], fill[MAX_RANKS], total = 0;
    for (int s = 0; s < n_slots; s++) {
        start[s] = total;
        fill[s] = total;
        if (gather_first || smin[s] != smax[s])
            total += hist[slot_bucket[s]];
        else
            slot_of[slot_bucket[s]] = 0;   /* answered: nothing to gather */
    }
    double *g = total > 0 ? aud_malloc(total * sizeof *g) : NULL;
    int rc = total > 0 && g == NULL ? -1 : 0;
    if (rc == 0 && total > 0) {
        for (size_t i = 0; i < n; i++) {
            int s = slot_of[(key_of(v[i]) >> shift) & (BUCKETS - 1)];
            if (s != 0)
                g[fill[s - 1]++] = v[i];
        }
    }
    if (rc == 0 && gather_first) {
        for (int s = 0; s < n_slots; s++) {
            for (size_t i = start[s]; i < fill[s]; i++) {
                uint64_t k = key_of(g[i]);
                smin[s] = k < smin[s] ? k : smin[s];
                smax[s] = k > smax[s] ? k : smax[s];
            }
        }
    }
    aud_free(hist);
    aud_free(slot_of);
    for (int s = 0; rc == 0 && s < n_slots; s++) {
        size_t sr[MAX_RANKS];
        int snr = 0;
        for (int k = 0; k < nr; k++) {
            if (slot_rank[k] == s)
                sr[snr++] = inner[k];
        }
        double sv[MAX_RANKS];
        if (smin[s] == smax[s]) {
            for (int k = 0; k < snr; k++)
                sv[k] = value_of(smin[s]);
        } else {
            rc = select_ranks(g + start[s], fill[s] - start[s], sr, snr, sv, smin[s], smax[s]);
        }
        for (int k = 0, j = 0; rc == 0 && k < nr; k++) {
            if (slot_rank[k] == s)
                val[k] = sv[j++];
        }
    }
    aud_free(g);
    return rc;
}

int aud_order_stats(double *v, size_t n, const size_t *r, int nr, double *val)
{
    if (nr < 0 || nr > MAX_RANKS)
        return -1;
    return select_ranks(v, n, r, nr, val, 1, 0);
}

int aud_order_stats_mm(double *v, size_t n, const size_t *r, int nr, double *val, double mn,
                       double mx)
{
    if (nr < 0 || nr > MAX_RANKS || !(mn <= mx))
        return -1;
    return select_ranks(v, n, r, nr, val, key_of(mn), key_of(mx));
}

int aud_quantiles_exact(double *v, size_t n, const double *q, int nq, double *out)
{
    return aud_quantiles_exact_mm(v, n, 1.0, 0.0, q, nq, out);
}

int aud_quantiles_exact_mm(double *v, size_t n, double mn, double mx, const double *q, int nq,
                           double *out)
{
    size_t r[MAX_RANKS], lo[MAX_RANKS / 2];
    double frac[MAX_RANKS / 2], val[MAX_RANKS];
    int nr = 0;
    if (n == 0 || nq <= 0 || nq > MAX_RANKS / 2)
        return -1;
    for (int k = 0; k < nq; k++) {
        double h = (double)(n - 1) * q[k];
        lo[k] = (size_t)floor(h);
        frac[k] = h - (double)lo[k];
        size_t want[2] = {lo[k], lo[k] + 1};
        for (int w = 0; w < (frac[k] != 0.0 && lo[k] + 1 < n ? 2 : 1); w++) {
            int j = nr;
            while (j > 0 && r[j - 1] > want[w])   /* keep r ascending and distinct */
                j--;
            if (j > 0 && r[j - 1] == want[w])
                continue;
            memmove(r + j + 1, r + j, (size_t)(nr - j) * sizeof *r);
            r[j] = want[w];
            nr++;
        }
    }
    uint64_t kmin = 1, kmax = 0;   /* not known */
    if (mn <= mx) {
        kmin = key_of(mn);
        kmax = key_of(mx);
    }
    if (select_ranks(v, n, r, nr, val, kmin, kmax) != 0)
        return -1;
    for (int k = 0; k < nq; k++) {
        int a = 0;
        while (r[a] != lo[k])
            a++;
        double x = val[a];
        out[k] = frac[k] != 0.0 && lo[k] + 1 < n ? x + frac[k] * (val[a + 1] - x) : x;
    }
    return 0;
}
