/* fair_stats.c - statistics behind the fairness metrics: Wilson intervals, Fisher's exact test,
 * chi-square test of independence, and the per-attribute summary metrics (Fairlearn, AIF360). */
#include "metrics/fair_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

static const char *const rate_names[AUD_FAIR_N_RATES] = {
    "base_rate", "selection_rate", "tpr", "fpr", "tnr", "fnr",
    "ppv", "npv", "fdr", "false_omission_rate", "accuracy",
};

static const char *const sum_names[AUD_FAIR_N_SUMS] = {
    "demographic_parity_difference", "demographic_parity_ratio",
    "equalized_odds_difference", "equalized_odds_ratio",
    "equal_opportunity_difference", "average_odds_difference",
    "average_abs_odds_difference", "predictive_parity_difference",
    "theil_index", "generalized_entropy_index", "between_group_generalized_entropy_index",
};

const char *aud_fair_rate_name(int id)
{
    return id >= 0 && id < AUD_FAIR_N_RATES ? rate_names[id] : NULL;
}

const char *aud_fair_sum_name(int id)
{
    return id >= 0 && id < AUD_FAIR_N_SUMS ? sum_names[id] : NULL;
}

void aud_fair_wilson(uint64_t x, uint64_t n, double level, double *lo, double *hi)
{
    if (n == 0 || x > n || !(level > 0.0 && level < 1.0)) {
        *lo = NAN;
        *hi = NAN;
        return;
    }
    /* Wilson (1927): centre (p + z^2/2n) / (1 + z^2/n),
     * half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2). */
    double z = gsl_cdf_ugaussian_Qinv((1.0 - level) / 2.0);
    double nn = (double)n;
    double p = (double)x / nn;
    double z2n = z * z / nn;
    double denom = 1.0 + z2n;
    double centre = (p + z2n / 2.0) / denom;
    double half = z / denom * sqrt(p * (1.0 - p) / nn + z2n / (4.0 * nn));
    double l = centre - half;
    double h = centre + half;
    *lo = l < 0.0 ? 0.0 : l;
    *hi = h > 1.0 ? 1.0 : h;
}

void aud_fair_katz(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double level, double *lo,
                   double *hi)
{
    *lo = NAN;
    *hi = NAN;
    if (x1 == 0 || x2 == 0 || x1 > n1 || x2 > n2 || !(level > 0.0 && level < 1.0))
        return;   /* a zero count leaves the log ratio unbounded: no interval */
    /* Katz et al. (1978), the log interval of a ratio of two proportions p1/p2:
     * exp(ln(p1/p2) +- z sqrt((1-p1)/x1 + (1-p2)/x2)); statsmodels'
     * confint_proportions_2indep(compare="ratio", method="log"). */
    double z = gsl_cdf_ugaussian_Qinv((1.0 - level) / 2.0);
    double p1 = (double)x1 / (double)n1, p2 = (double)x2 / (double)n2;
    double se = sqrt((1.0 - p1) / (double)x1 + (1.0 - p2) / (double)x2);
    double r = log(p1 / p2);
    *lo = exp(r - z * se);
    *hi = exp(r + z * se);
}

/* Stirling's error ln(n!) - ln(sqrt(2 pi n) (n/e)^n), n >= 1 (Loader 2000, as R's stirlerr). */
static double stirlerr(double n)
{
    const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680,
                 s4 = 1.0 / 1188;
    if (n <= 15.0)
        return lgamma(n + 1.0) - (n + 0.5) * log(n) + n - 0.5 * log(2.0 * M_PI);
    double nn = n * n;
    if (n > 500)
        return (s0 - s1 / nn) / n;
    if (n > 80)
        return (s0 - (s1 - s2 / nn) / nn) / n;
    if (n > 35)
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* Deviance term x ln(x / np) + np - x without cancellation (Loader 2000, as R's bd0). */
static double bd0(double x, double np)
{
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np);
        double sum = (x - np) * v;
        double ej = 2.0 * x * v;
        v *= v;
        for (int j = 1; j < 1000; j++) {
            ej *= v;
            double s1 = sum + ej / (2 * j + 1);
            if (s1 == sum)
                return s1;
            sum = s1;
        }
    }
    return x * log(x / np) + np - x;
}

/* log of the binomial probability of x in n trials, p + q = 1 (Loader's saddle point form,
 * relative accuracy ~1e-15 even for millions of trials, where lgamma differences lose digits). */
static double log_dbinom_raw(double x, double n, double p, double q)
{
    if (p == 0.0)
        return x == 0.0 ? 0.0 : -INFINITY;
    if (q == 0.0)
        return x == n ? 0.0 : -INFINITY;
    if (x == 0.0) {
        if (n == 0.0)
            return 0.0;
        return p < 0.1 ? -bd0(n, n * q) - n * p : n * log(q);
    }
    if (x == n)
        return q < 0.1 ? -bd0(n, n * p) - n * q : n * log(p);
    if (x < 0.0 || x > n)
        return -INFINITY;
    double lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    double lf = log(2.0 * M_PI) + log(x) + log1p(-x / n);
    return lc - 0.5 * lf;
}

/* log P(X = k) for X ~ Hypergeometric(total tot, K successes, n draws), as R's dhyper:
 * dbinom(k; K, p) dbinom(n - k; tot - K, p) / dbinom(n; tot, p) with p = n / tot. */
static double hyper_lpmf(double k, double tot, double kk, double n)
{
    double p = n / tot, q = (tot - n) / tot;
    return log_dbinom_raw(k, kk, p, q) + log_dbinom_raw(n - k, tot - kk, p, q) -
           log_dbinom_raw(n, tot, p, q);
}

/* Relative slack when comparing probabilities with the observed one (as R's fisher.test);
 * it makes tables that are equally likely by symmetry count, despite rounding. */
#define AUD_FISHER_REL_SLACK 1e-7
/* Terms this many nats below the observed table are negligible (e^-60 ~ 1e-26 relative). */
#define AUD_FISHER_TAIL_NATS 60.0
/* exp() of anything below this is 0 in double precision (the smallest subnormal is e^-744.4). */
#define AUD_FISHER_UNDERFLOW -746.0

double aud_fair_fisher_two_sided(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    const uint64_t lim = UINT_MAX / 2;
    if (a > lim || b > lim || c > lim || d > lim || a + b + c + d > lim)
        return NAN;
    /* A zero row or column total: every table with these margins is the observed one. */
    if (a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0)
        return 1.0;
    /* Conditional on the margins, a ~ Hypergeometric(N, K = a + b, n = a + c). */
    double kk = (double)(a + b), n = (double)(a + c), tot = (double)(a + b + c + d);
    double kmin = n - (tot - kk) > 0 ? n - (tot - kk) : 0;
    double kmax = kk < n ? kk : n;
    double mode = floor((n + 1) * (kk + 1) / (tot + 2));
    if (mode < kmin)
        mode = kmin;
    if (mode > kmax)
        mode = kmax;
    double lobs = hyper_lpmf((double)a, tot, kk, n);
    double lcut = lobs + log1p(AUD_FISHER_REL_SLACK);
    /* below this a term is negligible: far under the observed one, or 0 in double anyway */
    double lstop = lobs - AUD_FISHER_TAIL_NATS;
    if (lstop < AUD_FISHER_UNDERFLOW)
        lstop = AUD_FISHER_UNDERFLOW;
    /* The pmf is unimodal: on each side of the mode the terms no more likely than the observed
     * table form one run, from the first term <= lcut (found by bisection) outwards. */
    double sum = 0.0;
    /* left side [kmin, mode]: l increases with k */
    if (hyper_lpmf(kmin, tot, kk, n) <= lcut) {
        double lo = kmin, hi = mode; /* invariant: l(lo) <= lcut; find the largest such k */
        if (hyper_lpmf(hi, tot, kk, n) <= lcut)
            lo = hi;
        while (hi - lo > 1.0) {
            double mid = floor((lo + hi) / 2.0);
            if (hyper_lpmf(mid, tot, kk, n) <= lcut)
                lo = mid;
            else
                hi = mid;
        }
        for (double k = lo; k >= kmin; k -= 1.0) {
            double l = hyper_lpmf(k, tot, kk, n);
            if (l < lstop)
                break;
            sum += exp(l);
        }
    }
    /* right side [mode + 1, kmax]: l decreases with k */
    if (mode + 1.0 <= kmax && hyper_lpmf(kmax, tot, kk, n) <= lcut) {
        double lo = mode + 1.0, hi = kmax; /* invariant: l(hi) <= lcut; find the smallest */
        if (hyper_lpmf(lo, tot, kk, n) <= lcut)
            hi = lo;
        while (hi - lo > 1.0) {
            double mid = floor((lo + hi) / 2.0);
            if (hyper_lpmf(mid, tot, kk, n) <= lcut)
                hi = mid;
            else
                lo = mid;
        }
        for (double k = hi; k <= kmax; k += 1.0) {
            double l = hyper_lpmf(k, tot, kk, n);
            if (l < lstop)
                break;
            sum += exp(l);
        }
    }
    return sum > 1.0 ? 1.0 : sum;
}

int aud_fair_chi2(const uint64_t *obs, size_t k, double *stat, long *dof, double *p,
                  const char **why)
{
    *stat = NAN;
    *p = NAN;
    *dof = k >= 1 ? (long)k - 1 : 0;
    if (k < 2) {
        *why = "fewer than two groups";
        return AUD_E_DOMAIN;
    }
    double col[2] = {0.0, 0.0}, tot = 0.0;
    for (size_t i = 0; i < k; i++) {
        double r = (double)obs[2 * i] + (double)obs[2 * i + 1];
        if (r == 0.0) {
            *why = "a group has no rows";
            return AUD_E_DOMAIN;
        }
        col[0] += (double)obs[2 * i];
        col[1] += (double)obs[2 * i + 1];
    }
    tot = col[0] + col[1];
    if (col[0] == 0.0 || col[1] == 0.0) {
        *why = "every row has the same prediction";
        return AUD_E_DOMAIN;
    }
    double s = 0.0;
    for (size_t i = 0; i < k; i++) {
        double r = (double)obs[2 * i] + (double)obs[2 * i + 1];
        for (int j = 0; j < 2; j++) {
            double e = r * col[j] / tot;
            double dlt = (double)obs[2 * i + j] - e;
            s += dlt * dlt / e;
        }
    }
    *stat = s;
    *p = gsl_cdf_chisq_Q(s, (double)*dof);
    *why = NULL;
    return AUD_OK;
}

static aud_fair_val val(double v)
{
    aud_fair_val r = {v, NULL};
    return r;
}

static aud_fair_val undef(const char *why)
{
    aud_fair_val r = {NAN, why};
    return r;
}

static double ratio_or_nan(uint64_t num, uint64_t den)
{
    return den == 0 ? NAN : (double)num / (double)den;
}

/* Max minus min (and min / max) of one rate over the eligible groups. */
static void spread(const double *r, const unsigned char *eligible, size_t k, const char *name_why,
                   aud_fair_val *diff, aud_fair_val *ratio)
{
    double mn = INFINITY, mx = -INFINITY;
    size_t m = 0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g])
            continue;
        if (isnan(r[g])) {
            *diff = undef(name_why);
            if (ratio != NULL)
                *ratio = undef(name_why);
            return;
        }
        mn = r[g] < mn ? r[g] : mn;
        mx = r[g] > mx ? r[g] : mx;
        m++;
    }
    if (m < 2) {
        *diff = undef("fewer than two eligible groups");
        if (ratio != NULL)
            *ratio = undef("fewer than two eligible groups");
        return;
    }
    *diff = val(mx - mn);
    if (ratio != NULL)
        *ratio = mx > 0.0 ? val(mn / mx) : undef("every eligible group has a rate of 0");
}

/* Group-vs-reference metric with the largest absolute value over eligible non-reference groups
 * (ties: the first group). */
static aud_fair_val worst(const double *x, const unsigned char *eligible, size_t k, size_t ref,
                          const char *why)
{
    double best = NAN;
    size_t m = 0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g] || g == ref)
            continue;
        if (isnan(x[g]))
            return undef(why);
        if (m == 0 || fabs(x[g]) > fabs(best))
            best = x[g];
        m++;
    }
    return m == 0 ? undef("no eligible group besides the reference") : val(best);
}

double aud_fair_ref_gap(const aud_fair_counts *c, size_t g, size_t ref, int m)
{
    double tg = ratio_or_nan(c[g].tp, c[g].tp + c[g].fn);
    double tr = ratio_or_nan(c[ref].tp, c[ref].tp + c[ref].fn);
    if (m == AUD_FAIR_EOP_DIFF)
        return tg - tr;
    double fg = ratio_or_nan(c[g].fp, c[g].fp + c[g].tn);
    double fr = ratio_or_nan(c[ref].fp, c[ref].fp + c[ref].tn);
    return ((fg - fr) + (tg - tr)) / 2.0;
}

size_t aud_fair_worst_group(const aud_fair_counts *c, const unsigned char *eligible, size_t k,
                            size_t ref, int m)
{
    size_t best = SIZE_MAX;
    double bv = 0.0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g] || g == ref)
            continue;
        double x = aud_fair_ref_gap(c, g, ref, m);
        if (isnan(x))
            return SIZE_MAX;
        if (best == SIZE_MAX || fabs(x) > fabs(bv)) {   /* ties: the first group, as worst() */
            best = g;
            bv = x;
        }
    }
    return best;
}

/* Up to this many groups the summary uses stack buffers; more use the heap. */
#define AUD_FAIR_STACK_GROUPS 64

void aud_fair_summary(const aud_fair_counts *c, const unsigned char *eligible, size_t k,
                      size_t ref, int has_label, aud_fair_val *sum)
{
    for (int s = 0; s < AUD_FAIR_N_SUMS; s++)
        sum[s] = undef("no label");
    double stack[6 * AUD_FAIR_STACK_GROUPS];
    double *buf = k <= AUD_FAIR_STACK_GROUPS ? stack : aud_malloc(6 * k * sizeof *buf);
    if (buf == NULL) {
        for (int s = 0; s < AUD_FAIR_N_SUMS; s++)
            sum[s] = undef("out of memory");
        return;
    }
    double *sel = buf, *tpr = buf + k, *fpr = buf + 2 * k, *ppv = buf + 3 * k;
    double *eop = buf + 4 * k, *aod = buf + 5 * k;
    for (size_t g = 0; g < k; g++) {
        sel[g] = ratio_or_nan(c[g].sel, c[g].n);
        tpr[g] = ratio_or_nan(c[g].tp, c[g].tp + c[g].fn);
        fpr[g] = ratio_or_nan(c[g].fp, c[g].fp + c[g].tn);
        ppv[g] = ratio_or_nan(c[g].tp, c[g].tp + c[g].fp);
    }
    spread(sel, eligible, k, "selection rate undefined for an eligible group", &sum[AUD_FAIR_DP_DIFF],
           &sum[AUD_FAIR_DP_RATIO]);
    if (!has_label)
        goto done;

    /* Fairlearn equalized_odds_difference / _ratio: the larger gap, the smaller ratio. */
    aud_fair_val td, tr, fd, fr;
    spread(tpr, eligible, k, "tpr undefined for an eligible group", &td, &tr);
    spread(fpr, eligible, k, "fpr undefined for an eligible group", &fd, &fr);
    if (isnan(td.v))
        sum[AUD_FAIR_EO_DIFF] = td;
    else if (isnan(fd.v))
        sum[AUD_FAIR_EO_DIFF] = fd;
    else
        sum[AUD_FAIR_EO_DIFF] = val(td.v > fd.v ? td.v : fd.v);
    if (isnan(tr.v))
        sum[AUD_FAIR_EO_RATIO] = tr;
    else if (isnan(fr.v))
        sum[AUD_FAIR_EO_RATIO] = fr;
    else
        sum[AUD_FAIR_EO_RATIO] = val(tr.v < fr.v ? tr.v : fr.v);

    /* AIF360 vs the reference group (privileged): per group, then the worst group. */
    for (size_t g = 0; g < k; g++)
        eop[g] = aud_fair_ref_gap(c, g, ref, AUD_FAIR_EOP_DIFF);
    sum[AUD_FAIR_EOP_DIFF] = worst(eop, eligible, k, ref, "tpr undefined for a group");
    for (size_t g = 0; g < k; g++)
        aod[g] = aud_fair_ref_gap(c, g, ref, AUD_FAIR_AOD);
    sum[AUD_FAIR_AOD] = worst(aod, eligible, k, ref, "tpr or fpr undefined for a group");
    for (size_t g = 0; g < k; g++)
        aod[g] = (fabs(fpr[g] - fpr[ref]) + fabs(tpr[g] - tpr[ref])) / 2.0;
    sum[AUD_FAIR_AAOD] = worst(aod, eligible, k, ref, "tpr or fpr undefined for a group");
    spread(ppv, eligible, k, "ppv undefined for an eligible group", &sum[AUD_FAIR_PP_DIFF], NULL);

    /* AIF360 entropy indices with benefit b = yhat - y + 1: b = 0 for FN, 1 for TP and TN,
     * 2 for FP, so they follow from the counts. */
    double nb[3] = {0.0, 0.0, 0.0};
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g])
            continue;
        nb[0] += (double)c[g].fn;
        nb[1] += (double)(c[g].tp + c[g].tn);
        nb[2] += (double)c[g].fp;
    }
    double L = nb[0] + nb[1] + nb[2];
    if (L == 0.0) {
        sum[AUD_FAIR_THEIL] = sum[AUD_FAIR_GEI] = sum[AUD_FAIR_BGEI] =
            undef("no labelled rows in eligible groups");
        goto done;
    }
    double mu = (nb[1] + 2.0 * nb[2]) / L;
    if (mu == 0.0) {
        sum[AUD_FAIR_THEIL] = sum[AUD_FAIR_GEI] = sum[AUD_FAIR_BGEI] =
            undef("mean benefit is 0 (every labelled row is a false negative)");
        goto done;
    }
    /* Theil: mean of (b/mu) ln(b/mu), with 0 ln 0 = 0. */
    double t = nb[1] * (1.0 / mu) * log(1.0 / mu) + nb[2] * (2.0 / mu) * log(2.0 / mu);
    sum[AUD_FAIR_THEIL] = val(t / L);
    /* GEI(alpha = 2) = mean((b/mu)^2 - 1) / 2. */
    double e2 = (nb[1] + 4.0 * nb[2]) / L;
    sum[AUD_FAIR_GEI] = val((e2 / (mu * mu) - 1.0) / 2.0);
    /* Between-group GEI: every b replaced by its group's mean benefit. */
    double bg = 0.0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g])
            continue;
        double lg = (double)(c[g].tp + c[g].tn + c[g].fp + c[g].fn);
        if (lg == 0.0)
            continue;
        double mg = ((double)(c[g].tp + c[g].tn) + 2.0 * (double)c[g].fp) / lg;
        bg += lg * ((mg / mu) * (mg / mu) - 1.0);
    }
    sum[AUD_FAIR_BGEI] = val(bg / L / 2.0);
done:
    if (buf != stack)
        aud_free(buf);
}

int aud_fair_below_four_fifths(aud_fair_val impact_ratio)
{
    if (isnan(impact_ratio.v))
        return -1;
    return impact_ratio.v < AUD_FOUR_FIFTHS;
}
