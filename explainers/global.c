/* global.c - permutation importance (Breiman 2001, "Random Forests", section 10; Fisher, Rudin,
 * Dominici 2019, "model reliance"), partial dependence (Friedman 2001, "Greedy function
 * approximation", section 8.2) and ICE curves (Goldstein et al. 2015, "Peeking inside the black
 * box"). Definitions follow scikit-learn's sklearn.inspection (permutation_importance,
 * partial_dependence with method "brute"), so its figures are the golden reference. */
#include "explainers/global_int.h"
#include "models/model_cmd_int.h"
#include "models/model_int.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

/* A native model's prediction of rows [b, e) (aud_units.run, no workspace): each row is
 * computed alone, so the figures do not depend on which thread takes which unit. */
typedef struct gp_ctx {
    const aud_model *m;
    const double    *X;
    double          *out;
} gp_ctx;

static int gp_rows(void *ctx, void *ws, size_t b, size_t e, aud_error *err)
{
    (void)ws;
    (void)err;
    const gp_ctx *c = ctx;
    size_t K = c->m->n_outputs;
    aud_model_predict_margin_block(c->m, c->X + b * c->m->n_features, e - b, c->out + b * K);
    for (size_t i = b; i < e; i++)
        aud_model_transform(c->m, c->out + i * K, c->out + i * K);
    return AUD_OK;
}

/* Rows per unit: whole blocks of this many. A thread takes at least GP_MIN_WORK tree
 * evaluations (about a millisecond; a linear model counts as one tree), so starting it costs
 * a few percent of what it does: with 500 trees from 525 rows on (the permutation importance of
 * 1,000 rows x 5 repeats then runs on 9 threads; a fixed 4,096 rows per thread ran it on one). */
#define GP_GRAIN 512
#define GP_MIN_WORK ((size_t)1 << 18)

int aud_global_predict(const aud_model *m, const double *X, size_t n, int threads, double *out,
                       aud_error *err)
{
    size_t K = aud_model_n_pred(m);
    if (K != m->n_outputs)   /* multi:softmax: class indices, no probabilities */
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "global views need the model's probabilities; this one predicts "
                             "class indices (multi:softmax)");
    if (n == 0)
        return AUD_OK;
    if (m->kind == AUD_MODEL_COMMAND)
        return aud_model_cmd_eval(m->cmd, X, n, &out, err);
    /* packed trees or the linear formula, in units of rows taken from a shared counter: a
     * thread on a slower core takes fewer */
    size_t trees = m->n_trees > 0 ? m->n_trees : 1;
    size_t min_rows = (GP_MIN_WORK + trees - 1) / trees;
    size_t T = threads < 1 ? 1 : (size_t)threads;
    if (T > n / min_rows)
        T = n / min_rows ? n / min_rows : 1;
    gp_ctx c = {m, X, out};
    aud_units units = {NULL, NULL, gp_rows, &c, GP_GRAIN, NULL, NULL};
    return aud_run_units(&units, n, T > INT_MAX ? INT_MAX : (int)T, err);
}

/* ---- scores ---- */

typedef struct sp { double p, y; } sp;

static int sp_cmp(const void *a, const void *b)
{
    double x = ((const sp *)a)->p, y = ((const sp *)b)->p;
    return (x > y) - (x < y);
}

/* AUC of the scores p[i * stride] for the event "y[i] == positive": (sum of the positives'
 * mid-ranks - n1 (n1 + 1) / 2) / (n1 n0) (Mann-Whitney; ties count one half); NaN without both */
static double auc_of(const double *y, double positive, const double *p, size_t stride, size_t n)
{
    sp *a = aud_malloc((n ? n : 1) * sizeof *a);
    if (a == NULL)
        return NAN;
    for (size_t i = 0; i < n; i++)
        a[i] = (sp){p[i * stride], y[i]};
    qsort(a, n, sizeof *a, sp_cmp);
    double n1 = 0.0, rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && a[k].p == a[i].p)
            k++;
        double mid = 0.5 * ((double)i + 1.0 + (double)k);   /* mean of ranks i+1 .. k */
        for (size_t t = i; t < k; t++)
            if (a[t].y == positive) {
                n1 += 1.0;
                rank_sum += mid;
            }
        i = k;
    }
    aud_free(a);
    double n0 = (double)n - n1;
    return n1 > 0.0 && n0 > 0.0 ? (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0) : NAN;
}

static double r2_of(const double *y, const double *p, size_t n)
{
    double my = 0.0, ss_res = 0.0, ss_tot = 0.0;
    for (size_t i = 0; i < n; i++)
        my += y[i];
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        ss_res += (y[i] - p[i]) * (y[i] - p[i]);
        ss_tot += (y[i] - my) * (y[i] - my);
    }
    return ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : NAN;
}

double aud_perm_score_of(aud_perm_score kind, const double *y, const double *p, size_t n,
                         size_t n_classes)
{
    if (kind == AUD_PERM_R2)
        return r2_of(y, p, n);
    if (kind == AUD_PERM_AUC)
        return auc_of(y, 1.0, p, 1, n);
    /* AUD_PERM_AUC_OVR: the unweighted mean of the one-vs-rest AUCs of the classes that have
     * rows and non-rows in y (scikit-learn's roc_auc_ovr, which refuses a class without rows) */
    double s = 0.0;
    size_t used = 0;
    for (size_t c = 0; c < n_classes; c++) {
        double a = auc_of(y, (double)c, p + c, n_classes, n);
        if (!isnan(a)) {
            s += a;
            used++;
        }
    }
    return used > 0 ? s / (double)used : NAN;
}

/* ---- permutations ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void aud_perm_shuffle(aud_perm_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)(splitmix64(&r->state) % (uint64_t)(i + 1));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

void aud_perm_result_free(aud_perm_result *r)
{
    aud_free(r->importances);
    aud_free(r->mean);
    aud_free(r->sd);
    aud_free(r->lo);
    aud_free(r->hi);
    memset(r, 0, sizeof *r);
}

int aud_perm_importance(const aud_model *m, const double *X, const double *y, size_t n,
                        aud_perm_score kind, size_t repeats, uint64_t seed, int threads,
                        aud_perm_result *out, aud_error *err)
{
    size_t M = aud_model_features(m), R = repeats ? repeats : 1, K = aud_model_n_pred(m);
    memset(out, 0, sizeof *out);
    out->n_features = M;
    out->repeats = R;
    double *Xp = aud_malloc((n * R * M + 1) * sizeof *Xp);
    double *p = aud_malloc((n * R * K + 1) * sizeof *p);
    size_t *idx = aud_malloc((n + 1) * sizeof *idx);
    double *col = aud_malloc((n + 1) * sizeof *col), *tmp = aud_malloc((n + 1) * sizeof *tmp);
    out->importances = aud_malloc((M * R + 1) * sizeof *out->importances);
    out->mean = aud_calloc(M + 1, sizeof *out->mean);
    out->sd = aud_calloc(M + 1, sizeof *out->sd);
    out->lo = aud_calloc(M + 1, sizeof *out->lo);
    out->hi = aud_calloc(M + 1, sizeof *out->hi);
    int rc = AUD_OK;
    if (!Xp || !p || !idx || !col || !tmp || !out->importances || !out->mean || !out->sd ||
        !out->lo || !out->hi) {
        rc = aud_error_nomem(err);
        goto done;
    }
    rc = aud_global_predict(m, X, n, threads, p, err);
    if (rc != AUD_OK)
        goto done;
    out->baseline = aud_perm_score_of(kind, y, p, n, K);
    double t = R > 1 ? gsl_cdf_tdist_Pinv(0.975, (double)(R - 1)) : NAN;
    for (size_t j = 0; j < M && rc == AUD_OK; j++) {
        /* every repeat of feature j in one matrix (one batch run for a command model) */
        aud_perm_rng rng = {seed};
        for (size_t i = 0; i < n; i++) {
            idx[i] = i;
            col[i] = X[i * M + j];
        }
        for (size_t r = 0; r < R; r++) {
            aud_perm_shuffle(&rng, idx, n);
            for (size_t i = 0; i < n; i++)
                tmp[i] = col[idx[i]];
            memcpy(col, tmp, n * sizeof *col);
            double *B = Xp + r * n * M;
            memcpy(B, X, n * M * sizeof *B);
            for (size_t i = 0; i < n; i++)
                B[i * M + j] = col[i];
        }
        rc = aud_global_predict(m, Xp, n * R, threads, p, err);
        double s = 0.0, s2 = 0.0;
        for (size_t r = 0; r < R && rc == AUD_OK; r++) {
            double v = out->baseline - aud_perm_score_of(kind, y, p + r * n * K, n, K);
            out->importances[j * R + r] = v;
            s += v;
        }
        double mean = s / (double)R;
        for (size_t r = 0; r < R && rc == AUD_OK; r++)
            s2 += (out->importances[j * R + r] - mean) * (out->importances[j * R + r] - mean);
        out->mean[j] = mean;
        out->sd[j] = sqrt(s2 / (double)R);
        double half = R > 1 ? t * sqrt(s2 / (double)(R - 1)) / sqrt((double)R) : NAN;
        out->lo[j] = mean - half;
        out->hi[j] = mean + half;
    }
done:
    aud_free(Xp);
    aud_free(p);
    aud_free(idx);
    aud_free(col);
    aud_free(tmp);
    if (rc != AUD_OK)
        aud_perm_result_free(out);
    return rc;
}

/* ---- partial dependence and ICE ---- */

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* scipy.stats.mstats.mquantiles (alphap = betap = 0.4, what sklearn's grid uses) of sorted
 * v[0 .. n): aleph = n p + m, m = 0.4 + 0.2 p; k = floor(aleph) clipped to [1, n-1];
 * gamma = aleph - k clipped to [0, 1]; (1 - gamma) v[k-1] + gamma v[k]. */
static double percentile(const double *v, size_t n, double q)
{
    double p = q / 100.0;
    if (n == 1)
        return v[0];
    double aleph = (double)n * p + (0.4 + p * 0.2);
    double kk = floor(aleph < 1.0 ? 1.0 : (aleph > (double)(n - 1) ? (double)(n - 1) : aleph));
    double gamma = aleph - kk;
    gamma = gamma < 0.0 ? 0.0 : (gamma > 1.0 ? 1.0 : gamma);
    size_t k = (size_t)kk;
    return (1.0 - gamma) * v[k - 1] + gamma * v[k];
}

int aud_pdp_grid(const double *col, size_t n, size_t stride, size_t resolution, double **grid,
                 size_t *n_grid, aud_error *err)
{
    double *v = aud_malloc((n + 1) * sizeof *v);
    *grid = NULL;
    *n_grid = 0;
    if (v == NULL)
        return aud_error_nomem(err);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(col[i * stride]))
            v[k++] = col[i * stride];
    qsort(v, k, sizeof *v, dbl_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || v[i] != v[i - 1])
            u++;
    size_t G = u < resolution ? u : resolution;
    double *g = aud_malloc((G + 1) * sizeof *g);
    if (g == NULL) {
        aud_free(v);
        return aud_error_nomem(err);
    }
    if (u < resolution) {
        size_t w = 0;
        for (size_t i = 0; i < k; i++)
            if (i == 0 || v[i] != v[i - 1])
                g[w++] = v[i];
    } else {   /* numpy.linspace(p5, p95, G) */
        double a = percentile(v, k, 5.0), b = percentile(v, k, 95.0);
        double step = G > 1 ? (b - a) / (double)(G - 1) : 0.0;
        for (size_t i = 0; i < G; i++)
            g[i] = a + (double)i * step;
        if (G > 1)
            g[G - 1] = b;
    }
    aud_free(v);
    *grid = g;
    *n_grid = G;
    return AUD_OK;
}

int aud_pdp_ice(const aud_model *m, const double *X, size_t n, size_t j, const double *g,
                size_t G, int threads, double *ice, double *average, aud_error *err)
{
    size_t M = aud_model_features(m), K = aud_model_n_pred(m);
    double *B = aud_malloc((n * G * M + 1) * sizeof *B);
    double *p = aud_malloc((n * G * K + 1) * sizeof *p);
    int rc = AUD_OK;
    if (B == NULL || p == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t k = 0; k < G; k++) {   /* grid point k: every row with x_j = g_k */
        double *blk = B + k * n * M;
        memcpy(blk, X, n * M * sizeof *blk);
        for (size_t i = 0; i < n; i++)
            blk[i * M + j] = g[k];
    }
    rc = aud_global_predict(m, B, n * G, threads, p, err);
    for (size_t c = 0; c < K && rc == AUD_OK; c++)
        for (size_t k = 0; k < G; k++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = p[(k * n + i) * K + c];
                ice[(c * n + i) * G + k] = v;
                s += v;
            }
            average[c * G + k] = s / (double)n;
        }
done:
    aud_free(B);
    aud_free(p);
    return rc;
}
