/* performance.h - model performance for binary classifiers: ROC AUC, accuracy, log-loss, Brier
 * score (definitions of scikit-learn 1.2: roc_auc_score, accuracy_score, log_loss with
 * eps = float64 machine epsilon, brier_score_loss). */
#ifndef AUD_PERFORMANCE_H
#define AUD_PERFORMANCE_H

#include "core/aud.h"
#include <cjson/cJSON.h>

typedef struct aud_perf {
    size_t n;            /* rows with a label and a score */
    size_t n_pos;        /* label == 1 */
    double auc;          /* NaN when only one class is present */
    double accuracy;     /* predicted 1 iff p >= threshold */
    double log_loss;
    double brier;
} aud_perf;

/* y: labels 0/1 (NaN = missing, row skipped); p: predicted probability of label 1. mask: NULL or
 * per-row 0/1 selecting a subset (a group). Returns AUD_E_DOMAIN when a label is not 0/1 or a
 * probability is outside [0, 1]. */
int aud_perf_compute(const double *y, const double *p, const unsigned char *mask, size_t n,
                     double threshold, aud_perf *out, aud_error *err);

/* Add the metrics as members of obj (null + "<name>_reason" when undefined). */
int aud_perf_to_json(const aud_perf *pf, cJSON *obj);

#endif
