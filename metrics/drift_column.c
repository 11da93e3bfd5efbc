/* drift_column.c - drift of one column: missing values, binning, every statistic, primary test.
 *
 * Primary test (Evidently's get_default_stattest, docs/drift.md): with u = distinct non-missing
 * values over both samples and n = non-missing reference values:
 *   n <= 1000: numeric u > 5 -> KS; numeric 3..5 -> chi-square; categorical u > 2 -> chi-square;
 *              u <= 2 -> Z-test of two proportions;
 *   n > 1000:  numeric u > 5 -> normed Wasserstein; otherwise -> Jensen-Shannon.
 * Binning (Evidently get_binned_data): numeric with more than 20 distinct reference values:
 * Sturges bins, equal width over both samples, as numpy.histogram_bin_edges(bins="sturges");
 * otherwise one bin per value (categorical: per category). Jensen-Shannon always uses these bins
 * without fill; PSI uses them with the empty-bin fill under --psi-binning evidently, and by
 * default psi_bins bins at reference quantiles (numpy.quantile 'linear', duplicates merged,
 * first and last bins open-ended). */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EVIDENTLY_SMALL_REF 1000
#define EVIDENTLY_VALUE_BINS 20

static const char *const method_names[AUD_DRIFT_METHOD_MAX] = {
    "auto", "ks", "chi_square", "z", "wasserstein_normed", "jensen_shannon", "psi",
    "anderson_darling", "cramer_von_mises"};

const char *aud_drift_method_name(aud_drift_method m)
{
    if ((int)m < 0 || m >= AUD_DRIFT_METHOD_MAX)
        return "unknown";
    return method_names[m];
}

int aud_drift_method_parse(const char *s, aud_drift_method *out)
{
    static const struct {
        const char      *name;
        aud_drift_method m;
    } alias[] = {{"wasserstein", AUD_DRIFT_WASSERSTEIN_NORMED},
                 {"chisquare", AUD_DRIFT_CHI_SQUARE},
                 {"jensenshannon", AUD_DRIFT_JENSEN_SHANNON},
                 {"anderson", AUD_DRIFT_ANDERSON_DARLING},
                 {"cvm", AUD_DRIFT_CRAMER_VON_MISES},
                 {"z_test", AUD_DRIFT_Z}};
    for (int i = 0; i < AUD_DRIFT_METHOD_MAX; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (aud_drift_method)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(s, alias[i].name) == 0) {
            *out = alias[i].m;
            return 0;
        }
    return -1;
}

int aud_drift_method_is_test(aud_drift_method m)
{
    return m == AUD_DRIFT_KS || m == AUD_DRIFT_CHI_SQUARE || m == AUD_DRIFT_Z ||
           m == AUD_DRIFT_ANDERSON_DARLING || m == AUD_DRIFT_CRAMER_VON_MISES;
}

double aud_drift_method_default_threshold(aud_drift_method m)
{
    return aud_drift_method_is_test(m) ? 0.05 : 0.1;
}

void aud_drift_opts_default(aud_drift_opts *opts)
{
    opts->psi_binning = AUD_PSI_QUANTILE;
    opts->psi_bins = 10;
    opts->method = AUD_DRIFT_AUTO;
    opts->threshold = NAN;
    opts->drift_share = 0.5;
    opts->threads = 0;
}

static void test_none(aud_drift_test *t, const char *reason)
{
    t->statistic = NAN;
    t->p_value = NAN;
    t->dof = 0;
    t->reason = reason;
    t->mode = NULL;
}

void aud_drift_column_init(aud_drift_column *col)
{
    memset(col, 0, sizeof *col);
    col->status = AUD_OK;
    col->drifted = -1;
    col->statistic = col->threshold = NAN;
    col->wasserstein = col->wasserstein_normed = col->std_ref = NAN;
    col->mean_ref = col->mean_cur = NAN;
    col->psi = col->jensen_shannon = NAN;
    test_none(&col->ks, "not computed");
    test_none(&col->anderson, "not computed");
    test_none(&col->cvm, "not computed");
    test_none(&col->chi_square, "not computed");
    test_none(&col->z, "not computed");
}

static void bins_clear(aud_drift_bins *b)
{
    aud_free(b->edges);
    aud_free(b->values);
    aud_free(b->ref);
    aud_free(b->cur);
    memset(b, 0, sizeof *b);
}

void aud_drift_column_clear(aud_drift_column *col)
{
    if (col == NULL)
        return;
    aud_free(col->name);
    bins_clear(&col->psi_bins);
    bins_clear(&col->js_bins);
    for (size_t i = 0; i < col->n_levels; i++)
        aud_free(col->levels[i]);
    aud_free(col->levels);
    aud_free(col->unseen);
    aud_free(col->similar);
    aud_drift_column_init(col);
}

static int bins_alloc(aud_drift_bins *b, const char *kind, size_t n, int with_edges,
                      int with_values)
{
    b->kind = kind;
    b->n_bins = n;
    b->ref = aud_calloc(n ? n : 1, sizeof *b->ref);
    b->cur = aud_calloc(n ? n : 1, sizeof *b->cur);
    if (with_edges)
        b->edges = aud_calloc(n + 1, sizeof *b->edges);
    if (with_values)
        b->values = aud_calloc(n ? n : 1, sizeof *b->values);
    if (b->ref == NULL || b->cur == NULL || (with_edges && b->edges == NULL) ||
        (with_values && b->values == NULL))
        return AUD_E_NOMEM;
    return AUD_OK;
}

static int bins_copy(aud_drift_bins *dst, const aud_drift_bins *src)
{
    if (bins_alloc(dst, src->kind, src->n_bins, src->edges != NULL, src->values != NULL) != 0)
        return AUD_E_NOMEM;
    dst->open_ends = src->open_ends;
    memcpy(dst->ref, src->ref, src->n_bins * sizeof *dst->ref);
    memcpy(dst->cur, src->cur, src->n_bins * sizeof *dst->cur);
    if (src->edges)
        memcpy(dst->edges, src->edges, (src->n_bins + 1) * sizeof *dst->edges);
    if (src->values)
        memcpy(dst->values, src->values, src->n_bins * sizeof *dst->values);
    return AUD_OK;
}

/* PSI from a bins table: proportions, Evidently fill per side, sum. */
static int psi_of_bins(const aud_drift_bins *b, double n_ref, double n_cur, double *out)
{
    size_t k = b->n_bins;
    double *r = aud_malloc((k ? k : 1) * sizeof *r);
    double *c = aud_malloc((k ? k : 1) * sizeof *c);
    if (r == NULL || c == NULL) {
        aud_free(r);
        aud_free(c);
        return AUD_E_NOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        r[i] = b->ref[i] / n_ref;
        c[i] = b->cur[i] / n_cur;
    }
    aud_drift_fill_zeros(r, k);
    aud_drift_fill_zeros(c, k);
    *out = aud_drift_psi(r, c, k);
    aud_free(r);
    aud_free(c);
    return AUD_OK;
}

/* Number of values of the sorted x[0..n) that are < v (lower bound), from position lo on. */
static size_t lower_bound(const double *x, size_t lo, size_t n, double v)
{
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Counts of sorted x in bins defined by edges e[0..k] (k bins): bin i = [e_i, e_{i+1}), the
 * last closed (open_ends = 0), or the first and last unbounded (open_ends = 1). */
static void count_bins(const double *x, size_t n, const double *e, size_t k, int open_ends,
                       double *cnt)
{
    size_t prev = open_ends ? 0 : lower_bound(x, 0, n, e[0]);
    for (size_t i = 0; i < k; i++) {
        size_t end;
        if (i + 1 < k) {
            end = lower_bound(x, prev, n, e[i + 1]);
        } else if (open_ends) {
            end = n;
        } else {   /* upper bound of e[k]: values <= e[k] */
            end = prev;
            while (end < n && x[end] <= e[k])
                end++;
        }
        cnt[i] = (double)(end - prev);
        prev = end;
    }
}

/* Counts of a summarised reference in the same bins (drift_refw.c). */
static void count_bins_refw(const aud_drift_refw *rw, const double *e, size_t k, int open_ends,
                            double *cnt)
{
    double prev = open_ends ? 0.0 : aud_drift_refw_below(rw, e[0], 0);
    for (size_t i = 0; i < k; i++) {
        double end = i + 1 < k ? aud_drift_refw_below(rw, e[i + 1], 0)
                     : open_ends ? rw->n : aud_drift_refw_below(rw, e[k], 1);
        cnt[i] = end - prev;
        prev = end;
    }
}

/* x[i] of the sorted reference: the array's, or the summary's */
static double ref_at(const double *x, const aud_drift_refw *rw, size_t i)
{
    return rw != NULL ? aud_drift_refw_value(rw, (double)i) : x[i];
}

/* numpy.quantile(x, q) with method 'linear' on sorted x. */
static double quantile_linear(const double *x, const aud_drift_refw *rw, size_t n, double q)
{
    double vi = (double)(n - 1) * q;
    if (vi >= (double)(n - 1))
        return ref_at(x, rw, n - 1);
    if (vi <= 0)
        return ref_at(x, rw, 0);
    double prev = floor(vi);
    double g = vi - prev;
    size_t i = (size_t)prev;
    double a = ref_at(x, rw, i), b = ref_at(x, rw, i + 1);
    double d = b - a;
    return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

/* Sturges bin edges over the pooled sample (numpy.histogram_bin_edges(bins="sturges")). */
static int sturges_bins(aud_drift_bins *b, const double *x, size_t n1, const double *y,
                        size_t n2, const aud_drift_refsum *ref, const aud_drift_refw *rw,
                        int *snapped)
{
    double lo = fmin(ref_at(x, rw, 0), y[0]), hi = fmax(ref_at(x, rw, n1 - 1), y[n2 - 1]);
    double first = lo, last = hi;
    if (first == last) {
        first -= 0.5;
        last += 0.5;
    }
    double ptp = hi - lo;
    size_t nb = 1;
    double width = ptp / (log2((double)(n1 + n2)) + 1.0);
    if (width != 0.0)
        nb = (size_t)ceil((last - first) / width);
    if (bins_alloc(b, "sturges", nb, 1, 0) != AUD_OK)
        return AUD_E_NOMEM;
    double delta = last - first, step = delta / (double)nb;
    for (size_t i = 0; i <= nb; i++)
        b->edges[i] = step == 0 ? (double)i / (double)nb * delta + first : (double)i * step + first;
    b->edges[nb] = last;
    if (ref != NULL)   /* a summarised reference: edges on its bins, so its counts are exact */
        *snapped = aud_drift_ref_snap(ref, b->edges, nb);
    if (rw != NULL)
        count_bins_refw(rw, b->edges, nb, 0, b->ref);
    else
        count_bins(x, n1, b->edges, nb, 0, b->ref);
    count_bins(y, n2, b->edges, nb, 0, b->cur);
    return AUD_OK;
}

/* One bin per distinct value of the pooled sample. */
static int value_bins(aud_drift_bins *b, const double *x, size_t n1, const double *y, size_t n2,
                      size_t n_unique, const aud_drift_refw *rw)
{
    if (bins_alloc(b, "values", n_unique, 0, 1) != AUD_OK)
        return AUD_E_NOMEM;
    if (rw != NULL) {
        aud_drift_refw_values(rw, y, n2, b->values, b->ref, b->cur);
        return AUD_OK;
    }
    size_t i = 0, j = 0, u = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        b->values[u] = v;
        b->ref[u] = (double)(i - i0);
        b->cur[u] = (double)(j - j0);
        u++;
    }
    return AUD_OK;
}

static int quantile_bins(aud_drift_bins *b, const double *x, size_t n1, const double *y,
                         size_t n2, int nbins, const aud_drift_refw *rw)
{
    double *q = aud_malloc(((size_t)nbins + 1) * sizeof *q);
    if (q == NULL)
        return AUD_E_NOMEM;
    size_t m = 0;
    for (int i = 0; i <= nbins; i++) {
        double v = quantile_linear(x, rw, n1, (double)i / (double)nbins);
        if (m == 0 || v != q[m - 1])
            q[m++] = v;
    }
    size_t nb = m >= 2 ? m - 1 : 1;
    int rc = bins_alloc(b, "quantile", nb, 1, 0);
    if (rc == AUD_OK) {
        b->open_ends = 1;
        if (m >= 2) {
            memcpy(b->edges, q, m * sizeof *q);
        } else {
            b->edges[0] = q[0];
            b->edges[1] = q[0];
        }
        if (rw != NULL)
            count_bins_refw(rw, b->edges, nb, 1, b->ref);
        else
            count_bins(x, n1, b->edges, nb, 1, b->ref);
        count_bins(y, n2, b->edges, nb, 1, b->cur);
    }
    aud_free(q);
    return rc;
}

/* Does method m apply to this column? 1 yes, 0 no (and *why). */
static int method_applies(const aud_drift_column *col, aud_drift_method m, const char **why)
{
    int numeric = col->kind == AUD_DRIFT_NUMERIC;
    switch (m) {
    case AUD_DRIFT_KS:
    case AUD_DRIFT_WASSERSTEIN_NORMED:
    case AUD_DRIFT_ANDERSON_DARLING:
    case AUD_DRIFT_CRAMER_VON_MISES:
        *why = "applies to numeric columns only";
        return numeric;
    case AUD_DRIFT_CHI_SQUARE:
        *why = "applies to categorical columns and numeric columns with at most 20 values";
        return !numeric || col->n_unique <= EVIDENTLY_VALUE_BINS;
    case AUD_DRIFT_Z:
        *why = "applies to columns with at most 2 distinct values";
        return col->n_unique <= 2;
    case AUD_DRIFT_JENSEN_SHANNON:
    case AUD_DRIFT_PSI:
    case AUD_DRIFT_AUTO:
    case AUD_DRIFT_METHOD_MAX:
        break;
    }
    return 1;
}

static aud_drift_method auto_method(const aud_drift_column *col)
{
    size_t nref = col->rows_ref - col->missing_ref;
    int numeric = col->kind == AUD_DRIFT_NUMERIC;
    if (nref <= EVIDENTLY_SMALL_REF) {
        if (numeric && col->n_unique > 5)
            return AUD_DRIFT_KS;
        if (col->n_unique > 2)
            return AUD_DRIFT_CHI_SQUARE;
        return AUD_DRIFT_Z;
    }
    if (numeric && col->n_unique > 5)
        return AUD_DRIFT_WASSERSTEIN_NORMED;
    return AUD_DRIFT_JENSEN_SHANNON;
}

/* Choose the primary test, its threshold, and the drifted flag. */
static void decide(aud_drift_column *col, const aud_drift_opts *opts,
                   const aud_drift_override *ovr)
{
    const char *why = NULL;
    aud_drift_method m = AUD_DRIFT_AUTO;
    if (ovr != NULL && ovr->method != AUD_DRIFT_AUTO) {
        if (!method_applies(col, ovr->method, &why)) {
            col->status = AUD_E_DOMAIN;
            snprintf(col->msg, sizeof col->msg, "method %s %s",
                     aud_drift_method_name(ovr->method), why);
            return;
        }
        m = ovr->method;
    } else if (opts->method != AUD_DRIFT_AUTO) {
        if (method_applies(col, opts->method, &why))
            m = opts->method;
        else
            col->method_note = "the global --method does not apply to this column; Evidently's "
                               "default test is used";
    }
    if (m == AUD_DRIFT_AUTO)
        m = auto_method(col);
    col->method = m;
    double thr = aud_drift_method_default_threshold(m);
    if (isfinite(opts->threshold))
        thr = opts->threshold;
    if (ovr != NULL && isfinite(ovr->threshold))
        thr = ovr->threshold;
    col->threshold = thr;
    const aud_drift_test *t = NULL;
    double v = NAN;
    switch (m) {
    case AUD_DRIFT_KS: t = &col->ks; break;
    case AUD_DRIFT_CHI_SQUARE: t = &col->chi_square; break;
    case AUD_DRIFT_Z: t = &col->z; break;
    case AUD_DRIFT_ANDERSON_DARLING: t = &col->anderson; break;
    case AUD_DRIFT_CRAMER_VON_MISES: t = &col->cvm; break;
    case AUD_DRIFT_WASSERSTEIN_NORMED: v = col->wasserstein_normed; break;
    case AUD_DRIFT_JENSEN_SHANNON: v = col->jensen_shannon; break;
    case AUD_DRIFT_PSI: v = col->psi; break;
    case AUD_DRIFT_AUTO:
    case AUD_DRIFT_METHOD_MAX: break;
    }
    if (t != NULL)
        v = t->p_value;
    col->statistic = v;
    if (isnan(v)) {
        col->status = AUD_E_DOMAIN;
        snprintf(col->msg, sizeof col->msg, "%s: %s", aud_drift_method_name(m),
                 t != NULL && t->reason ? t->reason : "not computable");
        return;
    }
    if (m == AUD_DRIFT_KS)
        col->drifted = v <= thr;
    else if (t != NULL)
        col->drifted = v < thr;
    else
        col->drifted = v >= thr;
}

static int set_name(aud_drift_column *col, const char *name, aud_error *err)
{
    col->name = aud_strdup(name ? name : "");
    if (col->name == NULL)
        return aud_error_nomem(err);
    return AUD_OK;
}

void aud_drift_ws_free(aud_drift_ws *ws)
{
    aud_free(ws->x);
    aud_free(ws->y);
    aud_free(ws->k1);
    aud_free(ws->k2);
    aud_free(ws->k3);
    aud_free(ws->k4);
    memset(ws, 0, sizeof *ws);
}

/* *p holds at least n elements of `size` bytes (its contents are not kept). slices: the
 * array is mapped by the job that fills it (aud_malloc_slices), else here (aud_malloc). */
static int grow_as(void **p, size_t *cap, size_t n, size_t size, int slices)
{
    if (n <= *cap && *p != NULL)
        return 0;
    void *q = slices ? aud_malloc_slices((n ? n : 1) * size) : aud_malloc((n ? n : 1) * size);
    if (q == NULL)
        return -1;
    aud_free(*p);
    *p = q;
    *cap = n;
    return 0;
}

int aud_drift_column_numeric(aud_drift_column *col, const char *name, const double *ref,
                             size_t n_ref, const double *cur, size_t n_cur,
                             const aud_drift_opts *opts, const aud_drift_override *ovr,
                             aud_error *err)
{
    aud_drift_ws ws;
    memset(&ws, 0, sizeof ws);
    /* one column: its sides and statistics may take the threads that opts gives (split) */
    ws.split = opts != NULL && (opts->threads > 1 || (opts->threads <= 0 && aud_ncpu() > 1));
    ws.split16 = 1;
    int rc = aud_drift_column_numeric_ws(col, name, ref, n_ref, cur, n_cur, opts, ovr, NULL, &ws,
                                         err);
    aud_drift_ws_free(&ws);
    return rc;
}

/* A column's values from which its sorts and statistics may take threads of their own (below it
 * starting the threads costs more than they save). */
enum { SPLIT_MIN_VALUES = 1 << 17 };

/* One side of a column: its finite values copied from in[0..n_in) into v (n of them; -0.0 as
 * +0.0) and sorted with the keys a, b, unless the values are in order already (checked when
 * check_sorted) or sorting is not wanted. prefault: the arrays are mapped here first (split). */
typedef struct side_job {
    const double *in;
    size_t        n_in;
    double       *v;
    uint64_t     *a, *b;
    int           check_sorted, may_sort, prefault;
    size_t        n;
} side_job;

static void side_task(void *ctx, size_t k)
{
    side_job *j = (side_job *)ctx + k;
    if (j->prefault && j->n_in > 0) {
        aud_prefault(j->v, j->n_in * sizeof *j->v);
        if (j->may_sort) {
            aud_prefault(j->a, j->n_in * sizeof *j->a);
            aud_prefault(j->b, j->n_in * sizeof *j->b);
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < j->n_in; i++)
        if (isfinite(j->in[i]))
            j->v[n++] = j->in[i] + 0.0;   /* -0.0 -> +0.0 */
    j->n = n;
    if (!j->may_sort || n < 2)
        return;
    size_t run = 0;
    while (j->check_sorted && run + 1 < n && j->v[run] <= j->v[run + 1])
        run++;
    if (run + 1 < n)
        aud_drift_sort_ws(j->v, n, j->a, j->b);
}

/* The statistics over the two sorted samples, one pass each (tasks; heaviest first: the threads
 * take them in order). */
enum { STAT_CVM, STAT_ANDERSON, STAT_KS, STAT_WASSERSTEIN, STAT_MOMENTS, N_STATS };

typedef struct stat_job {
    int                     which;
    const double           *x;
    size_t                  n1;
    const double           *y;
    size_t                  n2;
    const aud_drift_refsum *refsum;
    aud_drift_column       *col;
    int                     rc;
} stat_job;

static void stat_task(void *ctx, size_t i)
{
    stat_job *j = (stat_job *)ctx + i;
    aud_drift_column *col = j->col;
    switch (j->which) {
    case STAT_CVM:
        j->rc = aud_drift_cvm(j->x, j->n1, j->y, j->n2, &col->cvm);
        break;
    case STAT_ANDERSON:
        aud_drift_anderson(j->x, j->n1, j->y, j->n2, &col->anderson);
        break;
    case STAT_KS:
        aud_drift_ks(j->x, j->n1, j->y, j->n2, &col->ks);
        break;
    case STAT_WASSERSTEIN:
        col->wasserstein = aud_drift_wasserstein(j->x, j->n1, j->y, j->n2);
        break;
    default:   /* STAT_MOMENTS */
        col->std_ref = j->refsum != NULL ? j->refsum->std : aud_drift_std(j->x, j->n1);
        col->mean_ref = j->refsum != NULL ? j->refsum->mean : aud_drift_mean(j->x, j->n1);
        col->mean_cur = aud_drift_mean(j->y, j->n2);
        break;
    }
}

int aud_drift_column_numeric_ws(aud_drift_column *col, const char *name, const double *ref,
                                size_t n_ref, const double *cur, size_t n_cur,
                                const aud_drift_opts *opts, const aud_drift_override *ovr,
                                const aud_drift_refsum *refsum, aud_drift_ws *ws,
                                aud_error *err)
{
    aud_drift_opts dflt;
    if (opts == NULL) {
        aud_drift_opts_default(&dflt);
        opts = &dflt;
    }
    if (opts->psi_bins < 1 || opts->psi_bins > 1000)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "psi bins must be 1..1000, got %d",
                             opts->psi_bins);
    col->kind = AUD_DRIFT_NUMERIC;
    if (set_name(col, name, err) != AUD_OK)
        return err->code;
    col->rows_ref = n_ref;
    col->rows_cur = n_cur;
    /* a summarised reference: statistics over its cells when its cuts are exact (drift_refw.c),
     * else over the sample expanded from it */
    aud_drift_refw rwv, *rw = NULL;
    int rc = refsum != NULL ? aud_drift_refw_build(&rwv, refsum) : -1;
    if (rc == AUD_E_NOMEM)
        return aud_error_nomem(err);
    if (rc == AUD_OK) {
        rw = &rwv;
        n_ref = 0;   /* no rows to read: the table holds none */
    }
    rc = AUD_OK;
    /* split: each side's job maps its own arrays (aud_malloc would map them here, serially) */
    int split = ws->split && n_ref + n_cur >= SPLIT_MIN_VALUES;
    size_t nk = split ? n_ref : n_ref > n_cur ? n_ref : n_cur;
    if (grow_as((void **)&ws->x, &ws->cap_x, n_ref, sizeof *ws->x, split) != 0 ||
        grow_as((void **)&ws->y, &ws->cap_y, n_cur, sizeof *ws->y, split) != 0)
        goto nomem;
    if (nk > ws->cap_k || ws->k1 == NULL || ws->k2 == NULL) {
        size_t c1 = ws->cap_k, c2 = ws->cap_k;
        if (grow_as((void **)&ws->k1, &c1, nk, sizeof *ws->k1, split) != 0 ||
            grow_as((void **)&ws->k2, &c2, nk, sizeof *ws->k2, split) != 0)
            goto nomem;
        ws->cap_k = nk;
    }
    if (split && (n_cur > ws->cap_k2 || ws->k3 == NULL || ws->k4 == NULL)) {
        size_t c3 = ws->cap_k2, c4 = ws->cap_k2;
        if (grow_as((void **)&ws->k3, &c3, n_cur, sizeof *ws->k3, 1) != 0 ||
            grow_as((void **)&ws->k4, &c4, n_cur, sizeof *ws->k4, 1) != 0)
            goto nomem;
        ws->cap_k2 = n_cur;
    }
    /* each side's finite values (-0.0 as +0.0), sorted: a reference expanded from a summary
     * comes sorted, as does a current column merged from partials' summaries, and a summarised
     * reference with exact cuts has no rows here (rw) */
    side_job sides[2] = {
        {ref, n_ref, ws->x, ws->k1, ws->k2, refsum != NULL, rw == NULL, split, 0},
        {cur, n_cur, ws->y, split ? ws->k3 : ws->k1, split ? ws->k4 : ws->k2, 1, 1, split, 0}};
    int split16 = ws->split16 && n_ref + n_cur >= SPLIT_MIN_VALUES;
    aud_work_workers16(split16 ? 2 : 1);
    aud_run_tasks(2, split ? 2 : 1, side_task, sides);
    double *x = ws->x, *y = ws->y;
    size_t n1 = sides[0].n, n2 = sides[1].n;
    col->missing_ref = n_ref - n1;
    col->missing_cur = n_cur - n2;
    if (rw != NULL) {
        n1 = (size_t)refsum->n;
        col->missing_ref = col->rows_ref - n1;
    }
    if (n1 == 0 || n2 == 0) {
        col->status = AUD_E_DOMAIN;
        snprintf(col->msg, sizeof col->msg, "no non-missing values in the %s data",
                 n1 == 0 ? "reference" : "current");
        goto done;
    }
    if (!isfinite(fmax(ref_at(x, rw, n1 - 1), y[n2 - 1]) - fmin(ref_at(x, rw, 0), y[0]))) {
        col->status = AUD_E_DOMAIN;
        snprintf(col->msg, sizeof col->msg,
                 "the values span more than the range of a double (max - min overflows); "
                 "rescale the column");
        goto done;
    }
    size_t nu = 0, nu_ref = 0;
    if (rw != NULL && refsum->exact)   /* else counted below */
        nu = aud_drift_refw_values(rw, y, n2, NULL, NULL, NULL);
    for (size_t i = 0, j = 0; rw == NULL && (i < n1 || j < n2); nu++) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
    }
    for (size_t i = 0; rw == NULL && i < n1; i++)
        if (i == 0 || x[i] != x[i - 1])
            nu_ref++;
    if (rw != NULL)
        nu_ref = refsum->distinct;
    if (refsum != NULL && !refsum->exact) {
        /* the expanded sample's distinct values are not the reference's: the reference's count
         * (more than the value-bin limits) and, over both sides, at least the larger one */
        nu_ref = refsum->distinct;
        size_t nu_cur = 0;
        for (size_t i = 0; i < n2; i++)
            nu_cur += i == 0 || y[i] != y[i - 1];
        nu = nu_ref > nu_cur ? nu_ref : nu_cur;
    }
    col->n_unique = nu;
    if (rw != NULL && aud_drift_refw_stats(col, rw, refsum, y, n2) != AUD_OK)
        goto nomem;
    /* the statistics of the two sorted samples: independent passes, each writing its own
     * figures, so on threads of their own when split (the same figures either way) */
    stat_job sj[N_STATS];
    size_t n_jobs = 0;
    for (int w = 0; w < N_STATS; w++) {
        if (rw == NULL || w == STAT_MOMENTS)
            sj[n_jobs++] = (stat_job){w, x, n1, y, n2, refsum, col, AUD_OK};
    }
    aud_work_workers16(split16 ? (int)n_jobs : 1);
    aud_run_tasks(n_jobs, split ? (int)n_jobs : 1, stat_task, sj);
    for (size_t j = 0; j < n_jobs; j++) {
        if (sj[j].rc != AUD_OK)
            goto nomem;
    }
    /* fmax would swallow a NaN std: an undefined std leaves the normed distance undefined */
    col->wasserstein_normed = isfinite(col->std_ref) ? col->wasserstein / fmax(col->std_ref, 0.001)
                                                     : NAN;
    /* Evidently's bins: Jensen-Shannon (no fill) and PSI under --psi-binning evidently */
    if (nu_ref > EVIDENTLY_VALUE_BINS)
        rc = sturges_bins(&col->js_bins, x, n1, y, n2, refsum, rw, &col->js_snapped);
    else
        rc = value_bins(&col->js_bins, x, n1, y, n2, nu, rw);
    if (rc != AUD_OK)
        goto nomem;
    col->jensen_shannon =
        aud_drift_jensen_shannon(col->js_bins.ref, col->js_bins.cur, col->js_bins.n_bins);
    if (opts->psi_binning == AUD_PSI_EVIDENTLY)
        rc = bins_copy(&col->psi_bins, &col->js_bins);
    else
        rc = quantile_bins(&col->psi_bins, x, n1, y, n2, opts->psi_bins, rw);
    if (rc != AUD_OK || psi_of_bins(&col->psi_bins, (double)n1, (double)n2, &col->psi) != AUD_OK)
        goto nomem;
    /* few distinct values: the value table supports chi-square and the Z-test */
    if (nu <= EVIDENTLY_VALUE_BINS) {
        aud_drift_bins vb = {0};
        if (value_bins(&vb, x, n1, y, n2, nu, rw) != AUD_OK) {
            bins_clear(&vb);
            goto nomem;
        }
        aud_drift_chi_square(vb.ref, vb.cur, nu, &col->chi_square);
        if (nu <= 2)
            aud_drift_z_test(vb.ref[0], (double)n1, vb.cur[0], (double)n2, &col->z);
        else
            test_none(&col->z, "more than 2 distinct values");
        bins_clear(&vb);
    } else {
        test_none(&col->chi_square, "more than 20 distinct values");
        test_none(&col->z, "more than 2 distinct values");
    }
    if (refsum != NULL) {
        if (rw == NULL)
            aud_drift_ref_bounds(col, refsum, x, n1, y, n2);
        /* quantile edges at ranks the summary holds exactly: multiples of 1/100 */
        col->psi_exact = refsum->exact || opts->psi_binning == AUD_PSI_EVIDENTLY
                             ? 1
                             : 100 % opts->psi_bins == 0;
    }
    decide(col, opts, ovr);
    goto done;
nomem:
    rc = aud_error_nomem(err);
done:
    if (rw != NULL)
        aud_drift_refw_free(rw);
    return rc;
}

int aud_drift_column_categorical(aud_drift_column *col, const char *name,
                                 const char *const *levels, const double *ref_counts,
                                 const double *cur_counts, size_t k, size_t missing_ref,
                                 size_t missing_cur, const aud_drift_opts *opts,
                                 const aud_drift_override *ovr, aud_error *err)
{
    aud_drift_opts dflt;
    if (opts == NULL) {
        aud_drift_opts_default(&dflt);
        opts = &dflt;
    }
    col->kind = AUD_DRIFT_CATEGORICAL;
    if (set_name(col, name, err) != AUD_OK)
        return err->code;
    size_t ku = 0;
    double n1 = 0, n2 = 0;
    for (size_t i = 0; i < k; i++) {
        if (ref_counts[i] > 0 || cur_counts[i] > 0)
            ku++;
        n1 += ref_counts[i];
        n2 += cur_counts[i];
    }
    col->missing_ref = missing_ref;
    col->missing_cur = missing_cur;
    col->rows_ref = (size_t)n1 + missing_ref;
    col->rows_cur = (size_t)n2 + missing_cur;
    col->n_unique = ku;
    test_none(&col->ks, "categorical column");
    test_none(&col->anderson, "categorical column");
    test_none(&col->cvm, "categorical column");
    if (!(n1 > 0 && n2 > 0)) {
        col->status = AUD_E_DOMAIN;
        snprintf(col->msg, sizeof col->msg, "no non-missing values in the %s data",
                 n1 > 0 ? "current" : "reference");
        return AUD_OK;
    }
    if (bins_alloc(&col->js_bins, "categories", ku, 0, 0) != AUD_OK)
        return aud_error_nomem(err);
    col->levels = aud_calloc(ku ? ku : 1, sizeof *col->levels);
    col->unseen = aud_calloc(ku ? ku : 1, 1);
    if (col->levels == NULL || col->unseen == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0, u = 0; i < k; i++) {
        if (!(ref_counts[i] > 0 || cur_counts[i] > 0))
            continue;
        col->levels[u] = aud_strdup(levels[i] ? levels[i] : "");
        if (col->levels[u] == NULL)
            return aud_error_nomem(err);
        col->n_levels = u + 1;
        col->js_bins.ref[u] = ref_counts[i];
        col->js_bins.cur[u] = cur_counts[i];
        col->unseen[u] = ref_counts[i] == 0;
        u++;
    }
    /* "Male" in one file and "male" in the other are different categories to every test; say
     * so rather than let them pass for drift unremarked (issue 15) */
    char similar[400];
    long n_similar = aud_similar_levels((const char *const *)col->levels, ku, similar,
                                        sizeof similar);
    if (n_similar < 0)
        return aud_error_nomem(err);
    if (n_similar > 0 && (col->similar = aud_strdup(similar)) == NULL)
        return aud_error_nomem(err);
    aud_drift_chi_square(col->js_bins.ref, col->js_bins.cur, ku, &col->chi_square);
    if (ku <= 2)
        aud_drift_z_test(col->js_bins.ref[0], n1, col->js_bins.cur[0], n2, &col->z);
    else
        test_none(&col->z, "more than 2 categories");
    col->jensen_shannon = aud_drift_jensen_shannon(col->js_bins.ref, col->js_bins.cur, ku);
    if (psi_of_bins(&col->js_bins, n1, n2, &col->psi) != AUD_OK)
        return aud_error_nomem(err);
    decide(col, opts, ovr);
    return AUD_OK;
}
