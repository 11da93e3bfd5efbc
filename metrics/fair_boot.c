/* fair_boot.c - seeded, threaded bootstrap percentile intervals of the summary metrics.
 *
 * Resampling N rows with replacement and recounting is, in distribution, a multinomial draw of
 * N over the cells (group x {TP, FP, TN, FN, unlabelled selected, unlabelled not selected}) with
 * probabilities count / N: every summary metric depends on the rows only through these counts.
 * So each replicate is one gsl_ran_multinomial call, O(cells) instead of O(N). Replicate r uses
 * its own mt19937 seeded from (seed, r): results do not depend on the number of threads.
 *
 * The signed worst-case summaries (equal_opportunity_difference, average_odds_difference) report
 * the gap of one group pair (the group with the largest |gap| against the reference). Their
 * interval follows that same pair in every resample: taking the worst group anew in each
 * resample flips the sign when two groups sit on opposite sides of the reference by about the
 * same amount, and gives an interval such as [-0.29, 0.24] around -0.20 (issue 14). */
#include "metrics/fair_int.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define CELLS 6

uint64_t aud_fair_replicate_seed(uint64_t seed, size_t r)
{
    /* SplitMix64 (Steele, Lea, Flood 2014) of seed + (r + 1) * golden gamma. */
    uint64_t z = seed + (uint64_t)(r + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct boot_job {
    const double        *p;         /* cell weights, k * CELLS */
    unsigned int         n;         /* rows per resample */
    size_t               k;
    size_t               ref;
    const size_t        *pair;      /* per summary: the group its gap follows, or SIZE_MAX */
    const unsigned char *eligible;
    int                  has_label;
    uint64_t             seed;
    size_t               r0, r1;    /* replicates [r0, r1) */
    size_t               n_boot;
    double              *out;       /* AUD_FAIR_N_SUMS x n_boot, metric-major */
    int                  failed;
} boot_job;

static void *boot_run(void *arg)
{
    boot_job *j = arg;
    size_t k = j->k;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    unsigned int *cnt = aud_malloc(k * CELLS * sizeof *cnt);
    aud_fair_counts *c = aud_malloc(k * sizeof *c);
    if (rng == NULL || cnt == NULL || c == NULL) {
        j->failed = 1;
        goto done;
    }
    for (size_t r = j->r0; r < j->r1; r++) {
        gsl_rng_set(rng, (unsigned long)aud_fair_replicate_seed(j->seed, r));
        gsl_ran_multinomial(rng, k * CELLS, j->n, j->p, cnt);
        for (size_t g = 0; g < k; g++) {
            const unsigned int *q = cnt + g * CELLS;
            c[g].tp = q[0];
            c[g].fp = q[1];
            c[g].tn = q[2];
            c[g].fn = q[3];
            c[g].sel = (uint64_t)q[0] + q[1] + q[4];
            c[g].n = (uint64_t)q[0] + q[1] + q[2] + q[3] + q[4] + q[5];
        }
        aud_fair_val s[AUD_FAIR_N_SUMS];
        aud_fair_summary(c, j->eligible, k, j->ref, j->has_label, s);
        for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
            if (j->pair[m] != SIZE_MAX)
                s[m].v = aud_fair_ref_gap(c, j->pair[m], j->ref, m);
        }
        for (int m = 0; m < AUD_FAIR_N_SUMS; m++)
            j->out[(size_t)m * j->n_boot + r] = s[m].v;
    }
done:
    gsl_rng_free(rng);
    aud_free(cnt);
    aud_free(c);
    return NULL;
}

int aud_fair_bootstrap(const aud_fair_opts *opts, int has_label, aud_fair_attr_result *ar,
                       const unsigned char *eligible, aud_error *err)
{
    size_t k = ar->n_groups, B = opts->n_bootstrap;
    int rc = AUD_OK;
    double *p = aud_calloc(k * CELLS, sizeof *p);
    double *out = aud_malloc(AUD_FAIR_N_SUMS * B * sizeof *out);
    int T = opts->threads < 1 ? 1 : opts->threads;
    if ((size_t)T > B)
        T = (int)B;
    boot_job *jobs = aud_calloc((size_t)T, sizeof *jobs);
    if (p == NULL || out == NULL || jobs == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* resample the rows of the groups the summary reads: eligible groups and the reference */
    uint64_t n = 0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g] && g != ar->reference)
            continue;
        const aud_fair_counts *c = &ar->groups[g].c;
        uint64_t lab = c->tp + c->fp + c->tn + c->fn;
        uint64_t usel = c->sel - c->tp - c->fp;
        double *q = p + g * CELLS;
        q[0] = (double)c->tp;
        q[1] = (double)c->fp;
        q[2] = (double)c->tn;
        q[3] = (double)c->fn;
        q[4] = (double)usel;
        q[5] = (double)(c->n - lab - usel);
        n += c->n;
    }
    if (n > UINT_MAX) {
        rc = aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                           "bootstrap of more than %u rows is not supported", UINT_MAX);
        goto done;
    }
    for (int t = 0; t < T; t++) {
        boot_job *j = &jobs[t];
        j->p = p;
        j->n = (unsigned int)n;
        j->k = k;
        j->ref = ar->reference;
        j->pair = ar->sum_pair;   /* fixed for every resample (fair_core.c) */
        j->eligible = eligible;
        j->has_label = has_label;
        j->seed = opts->seed;
        j->r0 = B * (size_t)t / (size_t)T;
        j->r1 = B * (size_t)(t + 1) / (size_t)T;
        j->n_boot = B;
        j->out = out;
    }
    aud_run_jobs(jobs, (size_t)T, sizeof *jobs, boot_run);
    for (int t = 0; t < T; t++) {
        if (jobs[t].failed) {
            rc = aud_error_set(err, AUD_E_NOMEM, NULL, 0, 0,
                               "bootstrap: out of memory");
            goto done;
        }
    }
    double lo_q = (1.0 - opts->level) / 2.0, hi_q = 1.0 - lo_q;
    for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
        double *x = out + (size_t)m * B;
        ar->sum_lo[m] = ar->sum_hi[m] = NAN;
        if (isnan(ar->sum[m].v)) {
            ar->sum_ci_why[m] = ar->sum[m].why;
            continue;
        }
        size_t bad = 0;
        for (size_t r = 0; r < B; r++)
            bad += isnan(x[r]);
        if (bad > 0) {
            ar->sum_ci_why[m] = "undefined in some bootstrap resamples";
            continue;
        }
        /* percentile interval, quantiles interpolated as numpy's default ("linear") */
        gsl_sort(x, 1, B);
        ar->sum_lo[m] = gsl_stats_quantile_from_sorted_data(x, 1, B, lo_q);
        ar->sum_hi[m] = gsl_stats_quantile_from_sorted_data(x, 1, B, hi_q);
        ar->sum_ci_why[m] = NULL;
    }
done:
    aud_free(p);
    aud_free(out);
    aud_free(jobs);
    return rc;
}
