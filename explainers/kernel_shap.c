/* kernel_shap.c - KernelSHAP: Lundberg & Lee, "A Unified Approach to Interpreting Model
 * Predictions", NIPS 2017, Theorem 2 (Shapley kernel pi(S) = (M-1) / (C(M,|S|) |S| (M-|S|))).
 *
 * Design (shared by every explained row, so it is built once per run from the seed):
 *  - coalition sizes are taken in pairs (s, M-s) from the outside in; a pair whose every
 *    coalition fits in the remaining budget (in proportion to its share of the kernel mass) is
 *    enumerated completely with its exact kernel weights;
 *  - the rest of the budget is sampled: a size drawn with probability proportional to its kernel
 *    mass, a uniform subset of that size, and its complement (paired sampling); repeated draws
 *    add weight to the same coalition; the kernel mass of the sampled sizes is shared out in
 *    proportion to the draw counts;
 *  - the efficiency constraint sum(phi) = v(full) - v(empty) is imposed by eliminating the last
 *    feature: regress y = v(S) - v(empty) - z_M (v(full) - v(empty)) on z_j - z_M (j < M), weighted
 *    least squares solved once by the SVD of sqrt(W) X (GSL), giving a projection P with
 *    beta = P y for every row.
 * With every coalition enumerated the WLS solution equals the exact Shapley values. */
#include "explainers/shap_int.h"

#include <float.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

void aud_kernel_design_free(aud_kernel_design *d)
{
    if (d == NULL)
        return;
    aud_free(d->masks);
    aud_free(d->weight);
    aud_free(d->P);
    aud_free(d);
}

/* Open-addressing set of masks -> coalition index. */
typedef struct mask_set {
    uint64_t *key;
    size_t   *val;
    size_t    cap;     /* power of two */
} mask_set;

static size_t mask_hash(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

/* Index of mask k; inserts it with index *n (and increments *n) when absent. */
static size_t mask_set_put(mask_set *s, uint64_t k, size_t *n, int *added)
{
    size_t h = mask_hash(k, s->cap);
    while (s->val[h] != (size_t)-1) {
        if (s->key[h] == k) {
            *added = 0;
            return s->val[h];
        }
        h = (h + 1) & (s->cap - 1);
    }
    s->key[h] = k;
    s->val[h] = *n;
    *added = 1;
    return (*n)++;
}

/* C(M, s) exactly, saturating at UINT64_MAX (far past any budget). */
static uint64_t choose_u64(size_t M, size_t s)
{
    uint64_t c = 1;
    for (size_t i = 0; i < s; i++) {
        if (c > UINT64_MAX / (uint64_t)(M - i))
            return UINT64_MAX;
        c = c * (uint64_t)(M - i) / (uint64_t)(i + 1);   /* exact: C(M, i+1) */
    }
    return c;
}

static uint64_t random_subset(gsl_rng *r, size_t M, size_t s, uint32_t *perm)
{
    for (size_t i = 0; i < M; i++)
        perm[i] = (uint32_t)i;
    uint64_t mask = 0;
    for (size_t i = 0; i < s; i++) {   /* partial Fisher-Yates */
        size_t j = i + (size_t)gsl_rng_uniform_int(r, (unsigned long)(M - i));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        mask |= (uint64_t)1 << perm[i];
    }
    return mask;
}

/* Build the projection P = V S^+ U^T sqrt(W) of the constrained regression. */
static int build_projection(aud_kernel_design *d, aud_error *err)
{
    size_t M = d->M, n = d->n_coal, p = M - 1;
    gsl_matrix *A = gsl_matrix_alloc(n, p);
    gsl_matrix *V = gsl_matrix_alloc(p, p);
    gsl_vector *S = gsl_vector_alloc(p);
    gsl_vector *work = gsl_vector_alloc(p);
    int rc = AUD_OK;
    d->P = aud_calloc(p * n, sizeof *d->P);
    if (!A || !V || !S || !work || !d->P) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t c = 0; c < n; c++) {
        double sw = sqrt(d->weight[c]);
        double zl = (double)((d->masks[c] >> (M - 1)) & 1u);
        for (size_t j = 0; j < p; j++)
            gsl_matrix_set(A, c, j, sw * ((double)((d->masks[c] >> j) & 1u) - zl));
    }
    int st = gsl_linalg_SV_decomp(A, V, S, work);   /* A becomes U */
    if (st != GSL_SUCCESS) {
        rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "KernelSHAP: SVD failed: %s",
                           gsl_strerror(st));
        goto done;
    }
    /* singular values below the usual pseudo-inverse cut-off count as zero (rank deficiency
     * happens when few coalitions are sampled) */
    double smax = gsl_vector_get(S, 0);
    double cut = smax * (double)(n > p ? n : p) * DBL_EPSILON;
    for (size_t i = 0; i < p; i++) {
        double s = gsl_vector_get(S, i);
        if (!(s > cut))
            continue;
        for (size_t c = 0; c < n; c++) {
            double u = gsl_matrix_get(A, c, i) / s * sqrt(d->weight[c]);
            if (u == 0.0)
                continue;
            for (size_t j = 0; j < p; j++)
                d->P[j * n + c] += gsl_matrix_get(V, j, i) * u;
        }
    }
done:
    gsl_matrix_free(A);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    gsl_vector_free(work);
    return rc;
}

int aud_kernel_design_new(aud_kernel_design **out, size_t M, size_t n_samples, uint64_t seed,
                          aud_error *err)
{
    aud_kernel_design *d = aud_calloc(1, sizeof *d);
    mask_set set = {NULL, NULL, 0};
    double *mass = NULL, *count = NULL;
    uint32_t *perm = NULL;
    gsl_rng *r = NULL;
    int rc = AUD_OK;
    if (d == NULL)
        return aud_error_nomem(err);
    d->M = M;
    if (M < 1 || M > 63) {
        rc = aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "KernelSHAP needs 1 to 63 features");
        goto done;
    }
    if (M == 1) {   /* phi_0 = v(full) - v(empty); no regression */
        d->complete = 1;
        *out = d;
        return AUD_OK;
    }
    if (n_samples == 0)
        n_samples = 2 * M + 2048;
    double total = ldexp(1.0, (int)M) - 2.0;   /* all proper non-empty coalitions */
    int all = (double)n_samples >= total;   /* the budget covers every coalition */
    if (all)
        n_samples = (size_t)total;
    if (n_samples < M - 1) {
        rc = aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                           "--samples %zu is too small for %zu features; use at least %zu",
                           n_samples, M, 2 * M);
        goto done;
    }
    size_t cap = 16;
    while (cap < 2 * n_samples + 4)
        cap *= 2;
    set.cap = cap;
    set.key = aud_malloc(cap * sizeof *set.key);
    set.val = aud_malloc(cap * sizeof *set.val);
    d->masks = aud_malloc((n_samples + 2) * sizeof *d->masks);
    d->weight = aud_calloc(n_samples + 2, sizeof *d->weight);
    mass = aud_calloc(M + 1, sizeof *mass);
    count = aud_calloc(n_samples + 2, sizeof *count);
    perm = aud_malloc(M * sizeof *perm);
    if (!set.key || !set.val || !d->masks || !d->weight || !mass || !count || !perm) {
        rc = aud_error_nomem(err);
        goto done;
    }
    memset(set.val, 0xff, cap * sizeof *set.val);
    /* kernel mass of each size: C(M,s) * pi(s) = (M-1) / (s (M-s)) */
    for (size_t s = 1; s < M; s++)
        mass[s] = (double)(M - 1) / ((double)s * (double)(M - s));
    size_t n = 0;
    size_t left = n_samples;
    size_t lo = 1, hi = M - 1;
    double rem_mass = 0.0;
    for (size_t s = 1; s < M; s++)
        rem_mass += mass[s];
    /* complete enumeration of size pairs from the outside in, while the budget allows */
    while (lo <= hi) {
        uint64_t c1 = choose_u64(M, lo);
        if (c1 > (uint64_t)left)
            break;
        double cnt = (double)c1 * (lo == hi ? 1.0 : 2.0);
        double pair_mass = mass[lo] + (lo == hi ? 0.0 : mass[hi]);
        /* the budget this pair would get from a mass-proportional split of what is left */
        if (cnt > (double)left)
            break;
        if (!all && (double)left * pair_mass / rem_mass < cnt - 1e-9)
            break;
        size_t sizes[2] = {lo, hi};
        for (size_t q = 0; q < (lo == hi ? 1u : 2u); q++) {
            size_t s = sizes[q];
            double w = mass[s] / (double)choose_u64(M, s);
            /* every mask with popcount s (Gosper's hack) */
            uint64_t v = ((uint64_t)1 << s) - 1;
            uint64_t limit = (uint64_t)1 << M;
            while (v < limit) {
                int added = 0;
                size_t idx = mask_set_put(&set, v, &n, &added);
                d->masks[idx] = v;
                d->weight[idx] = w;
                uint64_t c = v & (~v + 1);
                uint64_t rr = v + c;
                v = (((rr ^ v) >> 2) / c) | rr;
            }
        }
        left -= (size_t)cnt;
        rem_mass -= pair_mass;
        lo++;
        hi--;
    }
    d->complete = lo > hi;
    if (!d->complete && left > 0) {
        size_t n_fixed = n;
        r = gsl_rng_alloc(gsl_rng_mt19937);
        if (r == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        gsl_rng_set(r, (unsigned long)seed);
        size_t draws = 0, max_draws = 64 * n_samples + 1024;
        while (left > 0 && draws < max_draws) {
            draws++;
            double u = gsl_rng_uniform(r) * rem_mass;
            size_t s = lo;
            for (size_t q = lo; q <= hi; q++) {
                s = q;
                u -= mass[q];
                if (u < 0.0)
                    break;
            }
            uint64_t mk = random_subset(r, M, s, perm);
            uint64_t pair[2] = {mk, (~mk) & ((((uint64_t)1) << M) - 1)};
            for (size_t q = 0; q < 2 && left > 0; q++) {
                int added = 0;
                size_t idx = mask_set_put(&set, pair[q], &n, &added);
                d->masks[idx] = pair[q];
                count[idx] += 1.0;
                if (added)
                    left--;
            }
        }
        double csum = 0.0;
        for (size_t c = n_fixed; c < n; c++)
            csum += count[c];
        for (size_t c = n_fixed; c < n; c++)
            d->weight[c] = rem_mass * count[c] / csum;
    }
    d->n_coal = n;
    if (n < M - 1) {
        rc = aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                           "--samples too small for %zu features; use at least %zu", M, 2 * M);
        goto done;
    }
    rc = build_projection(d, err);
    if (rc != AUD_OK)
        goto done;
    *out = d;
    d = NULL;
done:
    gsl_rng_free(r);
    aud_free(set.key);
    aud_free(set.val);
    aud_free(mass);
    aud_free(count);
    aud_free(perm);
    aud_kernel_design_free(d);
    return rc;
}

void aud_kernel_solve(const aud_kernel_design *d, size_t K, const double *vals, const double *v0,
                      const double *v1, double *phi)
{
    size_t M = d->M, M1 = M + 1, n = d->n_coal;
    for (size_t k = 0; k < K; k++) {
        double *ph = phi + k * M1;
        double delta = v1[k] - v0[k];
        ph[M] = v0[k];
        if (M == 1) {
            ph[0] = delta;
            continue;
        }
        double sum = 0.0;
        for (size_t j = 0; j + 1 < M; j++) {
            const double *Pj = d->P + j * n;
            double b = 0.0;
            for (size_t c = 0; c < n; c++) {
                double zl = (double)((d->masks[c] >> (M - 1)) & 1u);
                b += Pj[c] * (vals[c * K + k] - v0[k] - zl * delta);
            }
            ph[j] = b;
            sum += b;
        }
        ph[M - 1] = delta - sum;
    }
}
