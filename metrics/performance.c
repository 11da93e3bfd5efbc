/* performance.c - ROC AUC by the Mann-Whitney rank statistic with average ranks for ties (equal to
 * the area under the ROC curve with ties interpolated, as scikit-learn), its DeLong standard error
 * (DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44:837-845, in the midrank form of Sun & Xu
 * 2014, IEEE Signal Processing Letters 21:1389-1393), the ROC curve, accuracy and the confusion
 * matrix at the threshold, log-loss, Brier score and the reliability diagram. */
#include "metrics/performance_int.h"
#include "core/io.h"
#include "metrics/drift.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    double p;
    double y;
} pair;

/* The rows' pass goes in blocks of PERF_BLOCK rows (of rows[], or 0..n): each block's counts and
 * sums, added up in block order, so the figures are the same at any thread count (and, for up to
 * PERF_BLOCK rows, the same as one pass). Block b leaves its pairs at v + b * PERF_BLOCK. */
enum { PERF_BLOCK = 1 << 16 };

typedef struct perf_block {
    size_t m, pos, tp, fn, fp, tn;
    double ll, br;
    size_t cal_count[AUD_PERF_CAL_BINS];
    double cal_sum_p[AUD_PERF_CAL_BINS], cal_sum_y[AUD_PERF_CAL_BINS];
    size_t bad;        /* the block's first row (index of the pass) in error, or SIZE_MAX */
    int    bad_label;  /* 1: its label is not 0 or 1; 0: its probability is outside [0, 1] */
} perf_block;

typedef struct perf_pass {
    const double        *y, *p;
    const size_t        *rows;
    size_t               n;
    const aud_perf_opts *o;
    pair                *v;
    perf_block          *blk;
} perf_pass;

/* Calibration bin of p in [0, 1]: the number of inner edges k/B (k = 1..B-1) strictly below p,
 * as numpy.searchsorted(linspace(0, 1, B + 1)[1:-1], p) in calibration_curve. */
static size_t cal_bin(double p)
{
    size_t b = 0;
    for (size_t k = 1; k < AUD_PERF_CAL_BINS; k++)
        b += (double)k * (1.0 / AUD_PERF_CAL_BINS) < p;
    return b;
}

static void perf_block_run(void *ctx, size_t b)
{
    const perf_pass *ps = ctx;
    const double *y = ps->y, *p = ps->p;
    const aud_perf_opts *o = ps->o;
    perf_block *k = &ps->blk[b];
    memset(k, 0, sizeof *k);
    k->bad = SIZE_MAX;
    size_t r0 = b * PERF_BLOCK, r1 = ps->n - r0 < PERF_BLOCK ? ps->n : r0 + PERF_BLOCK;
    pair *v = ps->v + r0;
    const double eps = DBL_EPSILON;
    for (size_t r = r0; r < r1; r++) {
        size_t i = ps->rows != NULL ? ps->rows[r] : r;
        if (isnan(y[i]) || isnan(p[i]))
            continue;
        if (y[i] != 0.0 && y[i] != 1.0) {
            k->bad = r;
            k->bad_label = 1;
            return;
        }
        int one = y[i] == 1.0, pred = p[i] >= o->threshold;
        v[k->m].p = p[i];
        v[k->m].y = y[i];
        k->m++;
        k->pos += (size_t)one;
        k->tp += (size_t)(one && pred);
        k->fn += (size_t)(one && !pred);
        k->fp += (size_t)(!one && pred);
        k->tn += (size_t)(!one && !pred);
        if (!o->probability)
            continue;
        if (p[i] < 0.0 || p[i] > 1.0) {
            k->bad = r;
            return;
        }
        double q = p[i] < eps ? eps : p[i] > 1.0 - eps ? 1.0 - eps : p[i];
        k->ll -= one ? log(q) : log1p(-q);
        k->br += (p[i] - y[i]) * (p[i] - y[i]);
        size_t c = cal_bin(p[i]);
        k->cal_count[c]++;
        k->cal_sum_p[c] += p[i];
        k->cal_sum_y[c] += y[i];
    }
}

/* One side's scores sorted (a task: the positives and the negatives side by side). */
typedef struct sort_side {
    double *x;
    size_t  n;
    int     rc;
} sort_side;

static void sort_side_run(void *ctx, size_t i)
{
    sort_side *s = (sort_side *)ctx + i;
    s->rc = aud_drift_sort(s->x, s->n);
}

/* v[0..m) sorted by score, from the blocks' pairs: the positives' and the negatives' scores
 * radix-sorted apart (aud_drift_sort, O(m); side by side on two threads when given) and merged;
 * the order within a block of tied scores does not matter to the AUC, its variance or the ROC
 * curve (each works per block). */
static int sort_pairs(pair *v, const perf_block *blk, size_t n_blk, size_t m, size_t pos,
                      int threads)
{
    double *a = aud_malloc((m ? m : 1) * sizeof *a), *b = a + pos;
    if (a == NULL)
        return AUD_E_NOMEM;
    size_t na = 0, nb = 0;
    for (size_t k = 0; k < n_blk; k++) {
        const pair *w = v + k * PERF_BLOCK;
        for (size_t i = 0; i < blk[k].m; i++) {
            if (w[i].y == 1.0)
                a[na++] = w[i].p;
            else
                b[nb++] = w[i].p;
        }
    }
    /* side by side only beyond a block of rows: handing a small group's sort to another thread
     * costs more than the sort (50,000 groups of 4 rows: the performance section 1.0 -> 1.7 s) */
    sort_side side[2] = {{a, na, AUD_OK}, {b, nb, AUD_OK}};
    aud_run_tasks(2, threads > 1 && m > PERF_BLOCK ? 2 : 1, sort_side_run, side);
    int rc = side[0].rc != AUD_OK ? side[0].rc : side[1].rc;
    if (rc == AUD_OK) {
        size_t i = 0, j = 0, k = 0;
        while (i < na || j < nb) {
            if (j == nb || (i < na && a[i] < b[j]))
                v[k++] = (pair){a[i++], 1.0};
            else
                v[k++] = (pair){b[j++], 0.0};
        }
    }
    aud_free(a);
    return rc;
}

void aud_perf_opts_default(aud_perf_opts *o)
{
    *o = (aud_perf_opts){.threshold = 0.5, .probability = 1, .level = 0.95, .roc_max_points = 400,
                         .threads = 1};
}

void aud_perf_free(aud_perf *pf)
{
    aud_free(pf->fpr);
    aud_free(pf->tpr);
    aud_free(pf->thr);
    pf->fpr = pf->tpr = pf->thr = NULL;
    pf->n_roc = 0;
}

/* AUC by average ranks, and the DeLong variance from the structural components: for a positive
 * in a block of tied scores, V10 = (negatives below + half the tied negatives) / n0; for a
 * negative, V01 = (positives above + half the tied positives) / n1 (Sun & Xu's midrank
 * differences). var = S10 / n1 + S01 / n0 with S the sample variances (n - 1). v is sorted. */
static void auc_delong(const pair *v, size_t m, size_t pos, aud_perf *out)
{
    double n1 = (double)pos, n0 = (double)(m - pos);
    double rank_sum = 0.0;
    for (size_t i = 0; i < m;) {
        size_t j = i, tied_pos = 0;
        while (j < m && v[j].p == v[i].p) {
            tied_pos += v[j].y == 1.0;
            j++;
        }
        rank_sum += ((double)i + 1.0 + (double)j) / 2.0 * (double)tied_pos;   /* ranks i+1..j */
        i = j;
    }
    out->auc = (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0);
    if (pos < 2 || m - pos < 2)
        return;
    double s10 = 0.0, s01 = 0.0;
    size_t nb = 0, pb = 0;   /* negatives and positives in earlier (lower) blocks */
    for (size_t i = 0; i < m;) {
        size_t j = i, tp = 0;
        while (j < m && v[j].p == v[i].p) {
            tp += v[j].y == 1.0;
            j++;
        }
        size_t tn = (j - i) - tp;
        double v10 = ((double)nb + 0.5 * (double)tn) / n0;
        double v01 = ((double)(pos - pb - tp) + 0.5 * (double)tp) / n1;
        s10 += (double)tp * (v10 - out->auc) * (v10 - out->auc);
        s01 += (double)tn * (v01 - out->auc) * (v01 - out->auc);
        nb += tn;
        pb += tp;
        i = j;
    }
    double var = s10 / (n1 - 1.0) / n1 + s01 / (n0 - 1.0) / n0;
    out->auc_se = sqrt(var);
    double z = gsl_cdf_ugaussian_Pinv(0.5 + out->level / 2.0);
    out->auc_lo = fmax(0.0, out->auc - z * out->auc_se);
    out->auc_hi = fmin(1.0, out->auc + z * out->auc_se);
}

/* scikit-learn's roc_curve on v (sorted ascending): one point per distinct score from the top,
 * (0, 0) first, points where neither count's second difference is non-zero dropped. */
static int roc_curve(const pair *v, size_t m, size_t pos, size_t max_points, aud_perf *out)
{
    size_t k = 0, cap = m + 1;
    double *fps = aud_malloc(cap * sizeof *fps), *tps = aud_malloc(cap * sizeof *tps),
           *thr = aud_malloc(cap * sizeof *thr);
    if (fps == NULL || tps == NULL || thr == NULL) {
        aud_free(fps), aud_free(tps), aud_free(thr);
        return AUD_E_NOMEM;
    }
    size_t tp = 0, fp = 0;
    for (size_t j = m; j > 0;) {   /* block [i, j) of equal scores, from the top */
        size_t i = j;
        while (i > 0 && v[i - 1].p == v[j - 1].p) {
            tp += v[i - 1].y == 1.0;
            fp += v[i - 1].y != 1.0;
            i--;
        }
        fps[k] = (double)fp, tps[k] = (double)tp, thr[k] = v[j - 1].p;
        k++;
        j = i;
    }
    /* drop_intermediate (when more than two points): keep the ends and the corners, where a
     * count's second difference is non-zero; kept[] holds their indices (ascending) */
    size_t *kept = aud_malloc(k * sizeof *kept), total = 1;   /* (0, 0) first */
    double n1 = (double)pos, n0 = (double)(m - pos);
    int rc = kept == NULL ? AUD_E_NOMEM : AUD_OK;
    for (size_t i = 0; rc == AUD_OK && i < k; i++) {
        if (k <= 2 || i == 0 || i == k - 1 || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0 ||
            tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0)
            kept[total++ - 1] = i;
    }
    size_t keep = total > max_points ? max_points : total;
    if (rc == AUD_OK) {
        out->fpr = aud_malloc(keep * sizeof *out->fpr);
        out->tpr = aud_malloc(keep * sizeof *out->tpr);
        out->thr = aud_malloc(keep * sizeof *out->thr);
        if (out->fpr == NULL || out->tpr == NULL || out->thr == NULL)
            rc = AUD_E_NOMEM;
    }
    for (size_t q = 0; rc == AUD_OK && q < keep; q++) {   /* point idx: 0 is (0, 0) */
        size_t idx = keep == total ? q
                                   : (size_t)llround((double)q * (double)(total - 1) /
                                                     (double)(keep - 1));
        size_t s = idx == 0 ? 0 : kept[idx - 1];
        out->fpr[q] = idx == 0 ? 0.0 : fps[s] / n0;
        out->tpr[q] = idx == 0 ? 0.0 : tps[s] / n1;
        out->thr[q] = idx == 0 ? HUGE_VAL : thr[s];
    }
    aud_free(kept);
    aud_free(fps), aud_free(tps), aud_free(thr);
    if (rc != AUD_OK)
        return rc;
    out->n_roc = keep;
    out->roc_total = total;
    return AUD_OK;
}

int aud_perf_compute(const double *y, const double *p, const size_t *rows, size_t n,
                     const aud_perf_opts *o, aud_perf *out, aud_error *err)
{
    *out = (aud_perf){.auc = NAN, .auc_se = NAN, .auc_lo = NAN, .auc_hi = NAN, .level = o->level,
                      .probability = o->probability,
                      .not_probability_reason = o->not_probability_reason};
    size_t n_blk = (n + PERF_BLOCK - 1) / PERF_BLOCK;
    pair *v = aud_malloc((n ? n : 1) * sizeof *v);
    perf_block *blk = aud_malloc((n_blk ? n_blk : 1) * sizeof *blk);
    if (v == NULL || blk == NULL) {
        aud_free(v);
        aud_free(blk);
        return aud_error_nomem(err);
    }
    perf_pass ps = {y, p, rows, n, o, v, blk};
    if (n_blk > 1)
        aud_run_tasks(n_blk, o->threads > 1 ? o->threads : 1, perf_block_run, &ps);
    else if (n_blk == 1)   /* a group's rows: no run to set up */
        perf_block_run(&ps, 0);
    int rc = AUD_OK;
    size_t m = 0, pos = 0;
    double ll = 0.0, br = 0.0;
    for (size_t k = 0; k < n_blk && rc == AUD_OK; k++) {   /* in block order */
        const perf_block *b = &blk[k];
        if (b->bad != SIZE_MAX) {   /* the first row in error, as one pass meets it */
            size_t i = rows != NULL ? rows[b->bad] : b->bad;
            rc = b->bad_label
                     ? aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                                     "data row %zu: the label is %g, expected 0 or 1", i, y[i])
                     : aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                                     "data row %zu: the probability is %g, outside [0, 1]", i,
                                     p[i]);
            break;
        }
        m += b->m;
        pos += b->pos;
        out->tp += b->tp;
        out->fn += b->fn;
        out->fp += b->fp;
        out->tn += b->tn;
        ll += b->ll;
        br += b->br;
        for (size_t c = 0; c < AUD_PERF_CAL_BINS; c++) {
            out->cal_count[c] += b->cal_count[c];
            out->cal_sum_p[c] += b->cal_sum_p[c];
            out->cal_sum_y[c] += b->cal_sum_y[c];
        }
    }
    if (rc != AUD_OK) {
        aud_free(v);
        aud_free(blk);
        return rc;
    }
    out->n = m;
    out->n_pos = pos;
    out->accuracy = m ? (double)(out->tp + out->tn) / (double)m : NAN;
    out->log_loss = m && o->probability ? ll / (double)m : NAN;
    out->brier = m && o->probability ? br / (double)m : NAN;
    if (pos > 0 && pos < m) {
        if (sort_pairs(v, blk, n_blk, m, pos, o->threads) != AUD_OK) {
            aud_free(v);
            aud_free(blk);
            return aud_error_nomem(err);
        }
        auc_delong(v, m, pos, out);
        if (roc_curve(v, m, pos, o->roc_max_points < 2 ? 2 : o->roc_max_points, out) != AUD_OK) {
            aud_perf_free(out);
            rc = aud_error_nomem(err);
        }
    }
    aud_free(v);
    aud_free(blk);
    return rc;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static int add_arr(cJSON *obj, const char *key, const double *x, size_t n)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *e = isfinite(x[i]) ? aud_json_num(x[i]) : cJSON_CreateNull();
        if (e == NULL || !cJSON_AddItemToArray(a, e)) {
            cJSON_Delete(e);
            return -1;
        }
    }
    return a == NULL ? -1 : 0;
}

static int add_reason(cJSON *obj, const char *key, const char *why)
{
    return cJSON_AddStringToObject(obj, key, why) == NULL ? -1 : 0;
}

static int calibration_json(const aud_perf *pf, cJSON *obj)
{
    cJSON *c = cJSON_AddObjectToObject(obj, "calibration");
    double edges[AUD_PERF_CAL_BINS + 1], cnt[AUD_PERF_CAL_BINS], mp[AUD_PERF_CAL_BINS],
        fy[AUD_PERF_CAL_BINS];
    for (size_t k = 0; k <= AUD_PERF_CAL_BINS; k++)
        edges[k] = (double)k * (1.0 / AUD_PERF_CAL_BINS);
    for (size_t k = 0; k < AUD_PERF_CAL_BINS; k++) {
        double nk = (double)pf->cal_count[k];
        cnt[k] = nk;
        mp[k] = nk > 0 ? pf->cal_sum_p[k] / nk : NAN;
        fy[k] = nk > 0 ? pf->cal_sum_y[k] / nk : NAN;
    }
    return c == NULL || cJSON_AddStringToObject(c, "strategy", "uniform") == NULL ||
                   add_arr(c, "edges", edges, AUD_PERF_CAL_BINS + 1) != 0 ||
                   add_arr(c, "count", cnt, AUD_PERF_CAL_BINS) != 0 ||
                   add_arr(c, "mean_predicted", mp, AUD_PERF_CAL_BINS) != 0 ||
                   add_arr(c, "fraction_positive", fy, AUD_PERF_CAL_BINS) != 0
               ? -1
               : 0;
}

static int roc_json(const aud_perf *pf, cJSON *obj)
{
    cJSON *r = cJSON_AddObjectToObject(obj, "roc");
    return r == NULL || add_arr(r, "fpr", pf->fpr, pf->n_roc) != 0 ||
                   add_arr(r, "tpr", pf->tpr, pf->n_roc) != 0 ||
                   add_arr(r, "thresholds", pf->thr, pf->n_roc) != 0 ||
                   aud_json_add_num(r, "points_total", (double)pf->roc_total) != 0
               ? -1
               : 0;
}

int aud_perf_to_json(const aud_perf *pf, cJSON *obj)
{
    const char *one_class = pf->n == 0 ? "no labelled rows" : "only one class among the labels";
    const char *notp = pf->not_probability_reason != NULL ? pf->not_probability_reason
                                                          : "the score is not a probability";
    int bad = aud_json_add_num(obj, "rows", (double)pf->n) != 0 ||
              aud_json_add_num(obj, "positives", (double)pf->n_pos) != 0 ||
              aud_json_add_num(obj, "auc", pf->auc) != 0 ||
              aud_json_add_num(obj, "auc_se", pf->auc_se) != 0;
    if (!bad) {
        cJSON *ci = isfinite(pf->auc_se) ? cJSON_AddArrayToObject(obj, "auc_ci")
                                         : cJSON_AddNullToObject(obj, "auc_ci");
        double lh[2] = {pf->auc_lo, pf->auc_hi};
        for (int k = 0; ci != NULL && isfinite(pf->auc_se) && k < 2; k++) {
            cJSON *e = aud_json_num(lh[k]);
            if (e == NULL || !cJSON_AddItemToArray(ci, e)) {
                cJSON_Delete(e);
                ci = NULL;
            }
        }
        bad = ci == NULL;
    }
    bad = bad || aud_json_add_num(obj, "accuracy", pf->accuracy) != 0 ||
          aud_json_add_num(obj, "log_loss", pf->log_loss) != 0 ||
          aud_json_add_num(obj, "brier_score", pf->brier) != 0;
    if (!bad && isnan(pf->auc))
        bad = add_reason(obj, "auc_reason", one_class);
    if (!bad && !isfinite(pf->auc_se))
        bad = add_reason(obj, "auc_ci_reason",
                         isnan(pf->auc) ? one_class
                                        : "DeLong's variance needs at least 2 rows of each class");
    if (!bad && pf->n == 0)
        bad = add_reason(obj, "accuracy_reason", "no labelled rows");
    if (!bad && (pf->n == 0 || !pf->probability)) {
        const char *why = pf->probability ? "no labelled rows" : notp;
        bad = add_reason(obj, "log_loss_reason", why) || add_reason(obj, "brier_score_reason", why);
    }
    if (!bad) {
        cJSON *cm = cJSON_AddObjectToObject(obj, "confusion");
        bad = cm == NULL || aud_json_add_num(cm, "tn", (double)pf->tn) != 0 ||
              aud_json_add_num(cm, "fp", (double)pf->fp) != 0 ||
              aud_json_add_num(cm, "fn", (double)pf->fn) != 0 ||
              aud_json_add_num(cm, "tp", (double)pf->tp) != 0;
    }
    if (!bad && pf->n_roc > 0)
        bad = roc_json(pf, obj);
    if (!bad && pf->probability && pf->n > 0)
        bad = calibration_json(pf, obj);
    return bad ? -1 : 0;
}
