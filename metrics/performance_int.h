/* performance_int.h - model performance for binary labels: ROC AUC with a DeLong interval, the
 * ROC curve, accuracy and the confusion matrix at the decision threshold (any real-valued score),
 * log-loss, Brier score and a reliability diagram (probabilities only). Definitions of
 * scikit-learn 1.2: roc_auc_score, roc_curve (drop_intermediate=True), accuracy_score,
 * confusion_matrix, log_loss with eps = float64 machine epsilon, brier_score_loss,
 * calibration.calibration_curve (strategy="uniform"). */
#ifndef AUD_PERFORMANCE_INT_H
#define AUD_PERFORMANCE_INT_H

#include "core/aud.h"
#include <cjson/cJSON.h>

#define AUD_PERF_CAL_BINS 10   /* reliability diagram: equal-width bins of [0, 1] */

typedef struct aud_perf_opts {
    double threshold;          /* predicted 1 iff score >= threshold */
    int    probability;        /* scores are probabilities of label 1 (log-loss, Brier, bins) */
    const char *not_probability_reason;   /* said when log-loss/Brier are skipped */
    double level;              /* confidence level of the AUC interval (0.95) */
    size_t roc_max_points;     /* ROC points kept (a subset of the curve when longer); >= 2 */
    int    threads;            /* the rows' pass in blocks and the two sorts on up to this many
                                  threads (1); the figures do not depend on it */
} aud_perf_opts;

typedef struct aud_perf {
    size_t n;            /* rows with a label and a score */
    size_t n_pos;        /* label == 1 */
    int    probability;
    const char *not_probability_reason;
    double auc;          /* NaN when only one class is present */
    double auc_se;       /* DeLong standard error; NaN when either class has < 2 rows */
    double auc_lo, auc_hi, level;   /* AUC -/+ z se clipped to [0, 1]; NaN with auc_se */
    double accuracy;
    size_t tn, fp, fn, tp;
    double log_loss;     /* NaN unless probability */
    double brier;
    /* ROC curve: points (fpr, tpr) at thresholds, scikit-learn's roc_curve with intermediate
     * collinear points dropped; the first point (0, 0) has threshold +inf. When the curve has
     * more than roc_max_points points, n_roc of them (evenly spaced by index, first and last
     * kept) and roc_total the full count. */
    size_t n_roc, roc_total;
    double *fpr, *tpr, *thr;
    /* reliability diagram (probability only): bin k = (k/B, (k+1)/B], bin 0 including 0 */
    size_t cal_count[AUD_PERF_CAL_BINS];
    double cal_sum_p[AUD_PERF_CAL_BINS], cal_sum_y[AUD_PERF_CAL_BINS];
} aud_perf;

void aud_perf_opts_default(aud_perf_opts *o);

/* y: labels 0/1 (NaN = missing, row skipped); p: the score (NaN: row skipped). rows: NULL for
 * rows 0..n-1, or the n row numbers of a subset (a group), ascending, so that a group costs its
 * own rows and not the table's. Returns AUD_E_DOMAIN when a label is not 0/1, or when
 * o->probability and a score is outside [0, 1]. *out owns arrays: aud_perf_free. */
int aud_perf_compute(const double *y, const double *p, const size_t *rows, size_t n,
                     const aud_perf_opts *o, aud_perf *out, aud_error *err);
void aud_perf_free(aud_perf *pf);

/* Add the metrics as members of obj (null + "<name>_reason" when undefined), with "confusion",
 * "roc" and (probabilities) "calibration". */
int aud_perf_to_json(const aud_perf *pf, cJSON *obj);

#endif
