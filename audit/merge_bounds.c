/* merge_bounds.c - the figures of a merged run that read a column rebuilt from quantile
 * summaries (audit/shard_int.h, c->mg_sum): exact moments put back, bounds stated per figure
 * (docs/scale-out.md "What is exact"). */
#include "audit/bind_int.h"
#include "audit/shard_int.h"
#include "core/io.h"
#include "metrics/drift_cur_int.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The merged summary of the data column named `name`, or NULL. */
static const aud_drift_refsum *sum_of(const run_ctx *c, const char *name, long *col)
{
    long j = name != NULL && c->mg_sum != NULL ? aud_table_find(c->data, name) : -1;
    *col = j;
    return j >= 0 && (size_t)j < c->mg_n && c->mg_sum[j].sketch != NULL ? &c->mg_sum[j] : NULL;
}

static int set_num(cJSON *o, const char *key, double v)
{
    cJSON *n = aud_json_num(v);
    if (n == NULL)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
        return cJSON_ReplaceItemInObjectCaseSensitive(o, key, n) ? 0 : -1;
    if (!cJSON_AddItemToObject(o, key, n)) {
        cJSON_Delete(n);
        return -1;
    }
    return 0;
}

/* Largest rank error of the expanded sample, as a share of the values: for every v, the number
 * of expanded and of true values <= v lie in the same [L(v), U(v)]. */
static double rank_error(const aud_drift_refsum *s)
{
    return s->n > 0 ? aud_sketch_max_gap(s->sketch) / s->n : 0.0;
}

int aud_merge_profile_bounds(run_ctx *c)
{
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(c->doc, "profile"), "columns")) {
        long j;
        const aud_drift_refsum *s = sum_of(c, cJSON_GetStringValue(
                                                  cJSON_GetObjectItemCaseSensitive(o, "name")), &j);
        if (s == NULL)
            continue;
        cJSON *sm = cJSON_AddObjectToObject(o, "summary");
        /* the moments merged exactly (up to summation order); std with ddof 1 */
        if (sm == NULL || set_num(o, "mean", s->mean) != 0 ||
            (s->n > 1 && set_num(o, "std", s->std * sqrt(s->n / (s->n - 1))) != 0) ||
            cJSON_AddBoolToObject(sm, "exact", 0) == NULL ||
            set_num(sm, "quantile_rank_error", rank_error(s)) != 0)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

/* The bound of the column's primary statistic (its "method"). */
static double method_bound(const char *method, const aud_drift_cur_bound *b)
{
    static const char *const names[] = {"ks", "wasserstein", "wasserstein_normed",
                                        "anderson_darling", "cramer_von_mises", "jensen_shannon",
                                        "psi"};
    const double v[] = {b->ks, b->wasserstein, b->wasserstein_normed, b->anderson_darling,
                        b->cramer_von_mises, b->jensen_shannon, b->psi};
    for (size_t i = 0; method != NULL && i < sizeof v / sizeof *v; i++)
        if (strcmp(method, names[i]) == 0)
            return v[i];
    return NAN;
}

static int add_bounds(cJSON *o, const aud_drift_refsum *s, const aud_drift_cur_bound *b)
{
    cJSON *cs = cJSON_AddObjectToObject(o, "current_summary");
    cJSON *bo = cs != NULL ? cJSON_AddObjectToObject(cs, "bounds") : NULL;
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "method"));
    if (bo == NULL || cJSON_AddBoolToObject(cs, "exact", 0) == NULL ||
        cJSON_AddBoolToObject(cs, "psi_exact", b->psi == 0.0) == NULL ||
        cJSON_AddBoolToObject(cs, "n_unique_is_lower_bound", 1) == NULL ||
        set_num(cs, "rank_error", rank_error(s)) != 0 ||
        set_num(bo, "statistic", method_bound(method, b)) != 0 ||
        set_num(bo, "ks_statistic", b->ks) != 0 || set_num(bo, "wasserstein", b->wasserstein) ||
        set_num(bo, "wasserstein_normed", b->wasserstein_normed) != 0 ||
        set_num(bo, "anderson_darling", b->anderson_darling) != 0 ||
        set_num(bo, "cramer_von_mises", b->cramer_von_mises) != 0 ||
        set_num(bo, "jensen_shannon", b->jensen_shannon) != 0 || set_num(bo, "psi", b->psi))
        return -1;
    return 0;
}

/* Distinct finite values of column col of t (a lower bound of the pooled count with the
 * merged one). */
static double distinct_of(const aud_table *t, long col)
{
    if (t == NULL || col < 0 || t->cols[col].type != AUD_COL_NUMERIC)
        return 0.0;
    double *x = aud_malloc((t->n_rows + 1) * sizeof *x);
    size_t m = 0, d = 0;
    if (x == NULL)
        return 0.0;
    for (size_t i = 0; i < t->n_rows; i++)
        if (isfinite(t->cols[col].num[i]))
            x[m++] = t->cols[col].num[i] + 0.0;
    if (aud_drift_sort(x, m) == AUD_OK)
        for (size_t i = 0; i < m; i++)
            d += i == 0 || x[i] != x[i - 1];
    aud_free(x);
    return (double)d;
}

int aud_merge_drift_bounds(run_ctx *c, const aud_drift_result *r)
{
    cJSON *cols = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->doc, "drift"), "columns");
    for (size_t i = 0; r != NULL && c->ref != NULL && i < r->n_cols; i++) {
        const aud_drift_column *col = &r->cols[i];
        long j, jr = aud_table_find(c->ref, col->name);
        const aud_drift_refsum *s = sum_of(c, col->name, &j);
        if (s == NULL || col->kind != AUD_DRIFT_NUMERIC || jr < 0 ||
            c->ref->cols[jr].type != AUD_COL_NUMERIC)
            continue;
        cJSON *o;
        cJSON_ArrayForEach(o, cols) {
            const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
            if (nm != NULL && strcmp(nm, col->name) == 0)
                break;
        }
        if (o == NULL)
            continue;
        aud_drift_cur_bound b;
        int rc = aud_drift_cur_bounds(col, s, c->ref->cols[jr].num, c->ref->n_rows,
                                      c->data->cols[j].num, c->data->n_rows, &b, c->err);
        if (rc != AUD_OK)
            return rc;
        double nu = fmax(distinct_of(c->ref, jr), (double)s->distinct);
        if (add_bounds(o, s, &b) != 0 ||
            (cJSON_GetObjectItemCaseSensitive(o, "mean_current") != NULL &&
             set_num(o, "mean_current", s->mean) != 0) ||
            (cJSON_GetObjectItemCaseSensitive(o, "n_unique") != NULL &&
             set_num(o, "n_unique", nu) != 0))
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

/* ---- binned model scores (audit/shard_int.h, docs/scale-out.md "Continuous model scores") ---
 *
 * Every score of the merged table is the lower end r of its bin [r, h): the partials (or the
 * merge, for the exact scores of other partials) replaced each score s by it, so r <= s < h.
 * Bins are intervals in increasing order and the cuts are bin ends, so every figure that reads
 * the scores only through "s >= c" at a cut c or at a bin end is exact (the confusion matrices,
 * the calibration bins' counts and labels, the PSI bins, the ROC points: the curve of the binned
 * scores at threshold r is the true curve at threshold r). The rest is bounded here, per group:
 *
 * AUC: a pair (positive, negative) in different bins is ordered as the true scores order it; a
 * pair in one bin is counted as a tie (1/2) where the truth is 0, 1/2 or 1:
 *     |AUC - AUC_true| <= (1/2) sum_b p_b n_b / (P N)     (p_b, n_b: positives, negatives in b).
 * DeLong's standard error (DeLong, DeLong & Clarke-Pearson 1988; Sun & Xu 2014): the placement
 * V10_i of positive i moves by d_i <= n_b(i) / (2 N) (its pairs in its bin), V01_j by
 * e_j <= p_b(j) / (2 P). S10 = |V10 - mean|^2 / (P - 1), and centring does not lengthen a
 * vector, so sqrt(S10 / P) moves by at most |d| / sqrt(P (P - 1)); se = |(sqrt(S10 / P),
 * sqrt(S01 / N))|, so by the triangle inequality
 *     |se - se_true| <= sqrt(sum_b p_b n_b^2 / (4 N^2 P (P - 1)) + sum_b n_b p_b^2 / (4 P^2 N (N - 1))).
 * The interval auc -/+ z se (clipped to [0, 1], which moves nothing further): auc bound + z se
 * bound. Brier score, log loss: per row, the term is monotone in s on [r, h) (s in [0, 1]), so
 * it moves by at most |f(min(h, 1)) - f(r)|; their mean. ECE (bins exact): at most the mean of
 * min(h, 1) - r; a calibration bin's mean predicted probability likewise over its rows.
 * Prediction drift: the binned and the true ECDF agree at every bin end and differ inside bin b
 * by at most n_b / n: KS within max_b n_b / n, Wasserstein within sum_b n_b (h_b - r_b) / n
 * (normed: over the reference's std), the mean within the same; PSI exact when no bin with rows
 * has a PSI edge strictly inside it. */

#define CAL_BINS 10

/* A number of the results document: a plain or an exact (raw) node; NaN otherwise. */
static double doc_num(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsRaw(v) && v->valuestring != NULL) {
        char *end = NULL;
        double x = strtod(v->valuestring, &end);
        return end != v->valuestring && *end == '\0' ? x : NAN;
    }
    return NAN;
}

typedef struct sacc {
    double   P, N, pairs, s10, s01;       /* positives, negatives, sum p n, sum p n^2, n p^2 */
    double   brier, ll, width;            /* sums of the per-row bounds */
    double   cal_n[CAL_BINS], cal_w[CAL_BINS];
    uint64_t cp, cn;                      /* this bin's positives and negatives */
} sacc;

/* One way of grouping the rows: codes (NULL: every row in group 0), its groups' accumulators. */
typedef struct sgrouping {
    const char *name;                     /* NULL: overall */
    int32_t    *codes;
    int         own;                      /* codes allocated here */
    size_t      n_levels;
    const aud_fair_attr *parts[16];       /* an intersection's attributes */
    size_t      n_parts;
    sacc       *acc;
    size_t     *touched, n_touched;
} sgrouping;

typedef struct srow {
    double s;
    size_t i;
} srow;

static int cmp_srow(const void *a, const void *b)
{
    double x = ((const srow *)a)->s, y = ((const srow *)b)->s;
    return (x > y) - (x < y);
}

static int cal_bin(double p)
{
    int b = 0;
    for (int k = 1; k < CAL_BINS; k++)
        b += (double)k * (1.0 / CAL_BINS) < p;
    return b;
}

static double log_loss_term(double p, double y)
{
    const double eps = DBL_EPSILON;
    double q = p < eps ? eps : p > 1.0 - eps ? 1.0 - eps : p;
    return y == 1.0 ? -log(q) : -log1p(-q);
}

/* The merge block's score bins: cuts and bits; 0 when the scores were not binned. */
static int merged_bins(const run_ctx *c, double *cuts, size_t *n_cuts, int *bits)
{
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->doc, "merge"), "score_bins");
    const cJSON *v;
    *n_cuts = 0;
    if (sb == NULL || c->score == NULL)
        return 0;
    *bits = (int)doc_num(cJSON_GetObjectItemCaseSensitive(sb, "mantissa_bits"));
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(sb, "cuts"))
        if (*n_cuts < AUD_PARTIAL_SCORE_CUTS)
            cuts[(*n_cuts)++] = doc_num(v);
    return 1;
}

/* The attributes of intersection `name` ("a&b"): the combination of ba's attributes whose
 * names joined by '&' give it; 0 when none. */
static size_t inter_parts(const aud_bound_attrs *ba, const char *name, const aud_fair_attr **out)
{
    size_t na = ba->n_attrs < 16 ? ba->n_attrs : 16;
    for (unsigned mask = 1; mask < (1u << na); mask++) {
        char buf[1024];
        size_t len = 0, m = 0;
        buf[0] = '\0';
        for (size_t a = 0; a < na && len < sizeof buf; a++) {
            if (!(mask & (1u << a)))
                continue;
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", m ? "&" : "",
                                    ba->attrs[a].name);
            out[m++] = &ba->attrs[a];
        }
        if (m >= 2 && len < sizeof buf && strcmp(buf, name) == 0)
            return m;
    }
    return 0;
}

/* The name of group g of grouping G into buf (an intersection's: its levels joined by '&'). */
static const char *group_name(const sgrouping *G, size_t g, char *buf, size_t size)
{
    if (G->n_parts == 1)
        return G->parts[0]->levels[g];
    size_t idx[16], rest = g, len = 0;
    for (size_t a = G->n_parts; a-- > 0;) {
        idx[a] = rest % G->parts[a]->n_levels;
        rest /= G->parts[a]->n_levels;
    }
    buf[0] = '\0';
    for (size_t a = 0; a < G->n_parts && len < size; a++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", a ? "&" : "",
                                G->parts[a]->levels[idx[a]]);
    return buf;
}

/* Codes of the rows over G's parts (mixed radix; -1 when a part is unknown). */
static int inter_codes(sgrouping *G, size_t n)
{
    size_t cells = 1;
    for (size_t a = 0; a < G->n_parts; a++) {
        cells *= G->parts[a]->n_levels ? G->parts[a]->n_levels : 1;
        if (cells > ((size_t)1 << 24))
            return -1;
    }
    G->codes = aud_malloc((n ? n : 1) * sizeof *G->codes);
    if (G->codes == NULL)
        return -1;
    G->own = 1;
    G->n_levels = cells;
    for (size_t i = 0; i < n; i++) {
        int64_t cell = 0;
        for (size_t a = 0; a < G->n_parts && cell >= 0; a++) {
            int32_t k = G->parts[a]->codes[i];
            cell = k < 0 ? -1 : cell * (int64_t)G->parts[a]->n_levels + k;
        }
        G->codes[i] = (int32_t)cell;
    }
    return 0;
}

static void close_bin(sgrouping *G, size_t ng)
{
    for (size_t q = 0; q < ng; q++) {
        for (size_t t = 0; t < G[q].n_touched; t++) {
            sacc *a = &G[q].acc[G[q].touched[t]];
            double p = (double)a->cp, m = (double)a->cn;
            a->P += p;
            a->N += m;
            a->pairs += p * m;
            a->s10 += p * m * m;
            a->s01 += m * p * p;
            a->cp = a->cn = 0;
        }
        G[q].n_touched = 0;
    }
}

/* Walk the labelled rows in score order, bin by bin, into every grouping's accumulators. */
static void walk_labelled(const run_ctx *c, const srow *r, size_t m, const double *cuts,
                          size_t nc, int bits, sgrouping *G, size_t ng)
{
    int prob = c->score_is_probability;
    for (size_t i = 0; i < m;) {
        double lo = r[i].s, hi;
        aud_score_bin(lo, cuts, nc, bits, &hi);
        double top = prob ? fmin(hi, 1.0) : hi;
        size_t e = i;
        for (; e < m && r[e].s == lo; e++) {
            size_t row = r[e].i;
            double y = c->label[row];
            double bb = fabs((top - y) * (top - y) - (lo - y) * (lo - y));
            double lb = fabs(log_loss_term(top, y) - log_loss_term(lo, y));
            int cb = cal_bin(lo);
            for (size_t q = 0; q < ng; q++) {
                int32_t g = G[q].codes != NULL ? G[q].codes[row] : 0;
                if (g < 0)
                    continue;
                sacc *a = &G[q].acc[g];
                if (a->cp == 0 && a->cn == 0)
                    G[q].touched[G[q].n_touched++] = (size_t)g;
                if (y == 1.0)
                    a->cp++;
                else
                    a->cn++;
                a->brier += bb;
                a->ll += lb;
                a->width += top - lo;
                a->cal_n[cb] += 1;
                a->cal_w[cb] += top - lo;
            }
        }
        close_bin(G, ng);
        i = e;
    }
}

/* {"exact": false, "bounds": {...}} of one group's performance (perf != 0) or fairness figures. */
static int add_group_bounds(cJSON *o, const sacc *a, int perf, int prob, double z)
{
    cJSON *sb = cJSON_AddObjectToObject(o, "score_bins");
    cJSON *bo = sb != NULL ? cJSON_AddObjectToObject(sb, "bounds") : NULL;
    if (bo == NULL || cJSON_AddBoolToObject(sb, "exact", 0) == NULL)
        return -1;
    double n = a->P + a->N, P = a->P, N = a->N;
    double auc = P > 0 && N > 0 ? 0.5 * a->pairs / (P * N) : NAN;
    double se = P > 1 && N > 1 ? sqrt(0.25 * a->s10 / (N * N * P * (P - 1)) +
                                      0.25 * a->s01 / (P * P * N * (N - 1)))
                               : NAN;
    if (set_num(bo, "auc", auc) != 0)
        return -1;
    if (perf && (set_num(bo, "auc_se", se) != 0 || set_num(bo, "auc_ci", auc + z * se) != 0))
        return -1;
    if (!prob || !(n > 0))
        return 0;
    if (set_num(bo, perf ? "brier_score" : "brier", a->brier / n) != 0 ||
        (perf && set_num(bo, "log_loss", a->ll / n) != 0) ||
        (!perf && set_num(bo, "ece", a->width / n) != 0))
        return -1;
    double cal = 0.0;
    for (int b = 0; b < CAL_BINS; b++)
        if (a->cal_n[b] > 0)
            cal = fmax(cal, a->cal_w[b] / a->cal_n[b]);
    return perf && set_num(bo, "calibration_mean_predicted", cal) != 0 ? -1 : 0;
}

/* The group of grouping G named `name` (SIZE_MAX: none). */
static size_t find_group(const sgrouping *G, const char *name)
{
    char buf[1024];
    for (size_t g = 0; name != NULL && g < G->n_levels; g++)
        if (strcmp(group_name(G, g, buf, sizeof buf), name) == 0)
            return g;
    return SIZE_MAX;
}

/* The grouping named `name` among G[1..ng) (attributes, then intersections), or NULL. */
static sgrouping *find_grouping(sgrouping *G, size_t ng, const char *name)
{
    for (size_t q = 1; name != NULL && q < ng; q++)
        if (strcmp(G[q].name, name) == 0)
            return &G[q];
    return NULL;
}

/* Prediction drift of binned current scores: its bounds as drift columns state theirs. */
static int drift_bounds(run_ctx *c, const srow *r, size_t m, const double *cuts, size_t nc,
                        int bits)
{
    cJSON *pd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->doc, "drift"),
                                                 "prediction_drift");
    if (pd == NULL || m == 0)
        return 0;
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pd, "psi_bins"), "edges");
    double ks = 0.0, w = 0.0;
    int psi_exact = 1;
    for (size_t i = 0; i < m;) {
        double lo = r[i].s, hi;
        aud_score_bin(lo, cuts, nc, bits, &hi);
        size_t e = i;
        while (e < m && r[e].s == lo)
            e++;
        ks = fmax(ks, (double)(e - i));
        w += (double)(e - i) * (hi - lo);
        const cJSON *x;
        cJSON_ArrayForEach(x, edges)
            psi_exact &= !(doc_num(x) > lo && doc_num(x) < hi);
        i = e;
    }
    ks /= (double)m;
    w /= (double)m;
    double sd = doc_num(cJSON_GetObjectItemCaseSensitive(pd, "std_reference"));
    double wn = isfinite(sd) ? w / fmax(sd, 0.001) : NAN;
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pd, "method"));
    aud_drift_cur_bound b = {.ks = ks, .wasserstein = w, .wasserstein_normed = wn,
                             .anderson_darling = NAN, .cramer_von_mises = NAN,
                             .jensen_shannon = NAN, .psi = psi_exact ? 0.0 : NAN};
    cJSON *cs = cJSON_AddObjectToObject(pd, "current_summary");
    cJSON *bo = cs != NULL ? cJSON_AddObjectToObject(cs, "bounds") : NULL;
    if (bo == NULL || cJSON_AddBoolToObject(cs, "exact", 0) == NULL ||
        cJSON_AddBoolToObject(cs, "score_bins", 1) == NULL ||
        cJSON_AddBoolToObject(cs, "psi_exact", psi_exact) == NULL ||
        set_num(bo, "statistic", method_bound(method, &b)) != 0 ||
        set_num(bo, "ks_statistic", ks) != 0 || set_num(bo, "wasserstein", w) != 0 ||
        set_num(bo, "wasserstein_normed", wn) != 0 || set_num(bo, "mean_current", w) != 0 ||
        set_num(bo, "anderson_darling", NAN) != 0 || set_num(bo, "cramer_von_mises", NAN) != 0 ||
        set_num(bo, "jensen_shannon", NAN) != 0 || set_num(bo, "psi", b.psi) != 0)
        return -1;
    return 0;
}

int aud_merge_score_bounds(run_ctx *c)
{
    double cuts[AUD_PARTIAL_SCORE_CUTS];
    size_t nc = 0, n = c->data != NULL ? c->data->n_rows : 0;
    int bits = 0;
    if (!c->merged || !merged_bins(c, cuts, &nc, &bits))
        return AUD_OK;
    srow *r = aud_malloc((n ? n : 1) * sizeof *r);
    if (r == NULL)
        return aud_error_nomem(c->err);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(c->score[i]))
            r[m++] = (srow){c->score[i], i};
    qsort(r, m, sizeof *r, cmp_srow);
    int rc = drift_bounds(c, r, m, cuts, nc, bits) == 0 ? AUD_OK : aud_error_nomem(c->err);
    cJSON *perf = cJSON_GetObjectItemCaseSensitive(c->doc, "performance");
    cJSON *fair = cJSON_GetObjectItemCaseSensitive(c->doc, "fairness");
    if (rc != AUD_OK || c->label == NULL || (perf == NULL && fair == NULL)) {
        aud_free(r);
        return rc;
    }
    size_t ml = 0;   /* the labelled rows, still in score order */
    for (size_t i = 0; i < m; i++)
        if (!isnan(c->label[r[i].i]))
            r[ml++] = r[i];
    aud_bound_attrs ba;
    memset(&ba, 0, sizeof ba);
    rc = aud_bind_attrs(&ba, c->data, (const char *const *)c->spec->sensitive,
                        c->spec->n_sensitive, NULL, 0, c->spec->groupings,
                        c->spec->n_groupings, c->threads, c->err);
    const cJSON *inters = cJSON_GetObjectItemCaseSensitive(fair, "intersections"), *it;
    size_t ng = 1 + ba.n_attrs + (size_t)cJSON_GetArraySize(inters);
    sgrouping *G = rc == AUD_OK ? aud_calloc(ng, sizeof *G) : NULL;
    if (rc == AUD_OK && G == NULL)
        rc = aud_error_nomem(c->err);
    size_t q = 0;
    if (G != NULL) {
        G[q++].n_levels = 1;   /* overall */
        for (size_t a = 0; a < ba.n_attrs; a++, q++)
            G[q] = (sgrouping){.name = ba.attrs[a].name, .codes = (int32_t *)ba.attrs[a].codes,
                               .n_levels = ba.attrs[a].n_levels, .parts = {&ba.attrs[a]},
                               .n_parts = 1};
        cJSON_ArrayForEach(it, inters) {
            const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
            G[q].name = nm;
            G[q].n_parts = nm != NULL ? inter_parts(&ba, nm, G[q].parts) : 0;
            if (G[q].n_parts > 0 && inter_codes(&G[q], n) != 0)
                G[q].n_parts = 0;   /* too many cells or no memory: no bounds for it */
            q++;
        }
    }
    for (size_t k = 0; rc == AUD_OK && k < ng; k++) {
        size_t L = G[k].n_levels ? G[k].n_levels : 1;
        G[k].acc = aud_calloc(L, sizeof *G[k].acc);
        G[k].touched = aud_malloc(L * sizeof *G[k].touched);
        if (G[k].acc == NULL || G[k].touched == NULL)
            rc = aud_error_nomem(c->err);
    }
    if (rc == AUD_OK)
        walk_labelled(c, r, ml, cuts, nc, bits, G, ng);
    int prob = c->score_is_probability;
    double level = doc_num(cJSON_GetObjectItemCaseSensitive(perf, "confidence_level"));
    double z = gsl_cdf_ugaussian_Pinv(0.5 + (isfinite(level) ? level : 0.95) / 2.0);
    int bad = 0;
    if (rc == AUD_OK && perf != NULL) {
        cJSON *o = cJSON_GetObjectItemCaseSensitive(perf, "overall");
        bad |= o != NULL && add_group_bounds(o, &G[0].acc[0], 1, prob, z) != 0;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(perf, "by_group")) {
            sgrouping *g = find_grouping(G, ng, cJSON_GetStringValue(
                                                    cJSON_GetObjectItemCaseSensitive(o, "attribute")));
            size_t k = g != NULL && g->n_parts > 0
                           ? find_group(g, cJSON_GetStringValue(
                                               cJSON_GetObjectItemCaseSensitive(o, "group")))
                           : SIZE_MAX;
            if (k != SIZE_MAX)
                bad |= add_group_bounds(o, &g->acc[k], 1, prob, z) != 0;
        }
    }
    const char *keys[] = {"attributes", "intersections"};
    for (int w = 0; rc == AUD_OK && fair != NULL && w < 2; w++) {
        cJSON *at;
        cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(fair, keys[w])) {
            sgrouping *g = find_grouping(G, ng, cJSON_GetStringValue(
                                                    cJSON_GetObjectItemCaseSensitive(at, "name")));
            cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(at, "groups")) {
                size_t k = g != NULL && g->n_parts > 0
                               ? find_group(g, cJSON_GetStringValue(
                                                   cJSON_GetObjectItemCaseSensitive(o, "group")))
                               : SIZE_MAX;
                if (k != SIZE_MAX && cJSON_GetObjectItemCaseSensitive(o, "auc") != NULL)
                    bad |= add_group_bounds(o, &g->acc[k], 0, prob, z) != 0;
            }
        }
    }
    if (rc == AUD_OK && bad)
        rc = aud_error_nomem(c->err);
    for (size_t k = 0; G != NULL && k < ng; k++) {
        if (G[k].own)
            aud_free(G[k].codes);
        aud_free(G[k].acc);
        aud_free(G[k].touched);
    }
    aud_free(G);
    aud_bound_attrs_free(&ba);
    aud_free(r);
    return rc;
}
