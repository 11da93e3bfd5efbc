/* performance.c - ROC AUC by the Mann-Whitney rank statistic with average ranks for ties (equal to
 * the area under the ROC curve with ties interpolated, as scikit-learn), accuracy, log-loss, Brier. */
#include "metrics/performance_int.h"
#include "core/io.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

typedef struct pair {
    double p;
    double y;
} pair;

static int by_p(const void *a, const void *b)
{
    double x = ((const pair *)a)->p, z = ((const pair *)b)->p;
    return (x > z) - (x < z);
}

int aud_perf_compute(const double *y, const double *p, const unsigned char *mask, size_t n,
                     double threshold, aud_perf *out, aud_error *err)
{
    pair *v = aud_malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        return aud_error_nomem(err);
    size_t m = 0, pos = 0, correct = 0;
    double ll = 0.0, br = 0.0;
    const double eps = DBL_EPSILON;
    for (size_t i = 0; i < n; i++) {
        if ((mask != NULL && !mask[i]) || isnan(y[i]) || isnan(p[i]))
            continue;
        if (y[i] != 0.0 && y[i] != 1.0) {
            aud_free(v);
            return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                                 "label of row %zu is %g, expected 0 or 1", i, y[i]);
        }
        if (p[i] < 0.0 || p[i] > 1.0) {
            aud_free(v);
            return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                                 "probability of row %zu is %g, outside [0, 1]", i, p[i]);
        }
        v[m].p = p[i];
        v[m].y = y[i];
        m++;
        pos += y[i] == 1.0;
        correct += (p[i] >= threshold) == (y[i] == 1.0);
        double q = p[i] < eps ? eps : p[i] > 1.0 - eps ? 1.0 - eps : p[i];
        ll -= y[i] == 1.0 ? log(q) : log1p(-q);
        br += (p[i] - y[i]) * (p[i] - y[i]);
    }
    out->n = m;
    out->n_pos = pos;
    out->accuracy = m ? (double)correct / (double)m : NAN;
    out->log_loss = m ? ll / (double)m : NAN;
    out->brier = m ? br / (double)m : NAN;
    out->auc = NAN;
    if (pos > 0 && pos < m) {
        qsort(v, m, sizeof *v, by_p);
        double rank_sum = 0.0;
        for (size_t i = 0; i < m;) {
            size_t j = i;
            size_t tied_pos = 0;
            while (j < m && v[j].p == v[i].p) {
                tied_pos += v[j].y == 1.0;
                j++;
            }
            double avg_rank = ((double)i + 1.0 + (double)j) / 2.0;  /* ranks i+1..j */
            rank_sum += avg_rank * (double)tied_pos;
            i = j;
        }
        double n1 = (double)pos, n0 = (double)(m - pos);
        out->auc = (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0);
    }
    aud_free(v);
    return AUD_OK;
}

int aud_perf_to_json(const aud_perf *pf, cJSON *obj)
{
    int bad = aud_json_add_num(obj, "rows", (double)pf->n) != 0 ||
              aud_json_add_num(obj, "positives", (double)pf->n_pos) != 0 ||
              aud_json_add_num(obj, "auc", pf->auc) != 0 ||
              aud_json_add_num(obj, "accuracy", pf->accuracy) != 0 ||
              aud_json_add_num(obj, "log_loss", pf->log_loss) != 0 ||
              aud_json_add_num(obj, "brier_score", pf->brier) != 0;
    if (!bad && isnan(pf->auc))
        bad = cJSON_AddStringToObject(obj, "auc_reason",
                                      pf->n == 0 ? "no labelled rows"
                                                 : "only one class among the labels") == NULL;
    if (!bad && pf->n == 0)
        bad = cJSON_AddStringToObject(obj, "accuracy_reason", "no labelled rows") == NULL;
    return bad ? -1 : 0;
}
