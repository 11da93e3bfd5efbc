/* global_int.h - global model-agnostic views (issue 16 item 4, docs/explanations.md "Global
 * views"): permutation importance with repeats and intervals, partial dependence and ICE curves.
 * Every model kind: native models through the block predictor (packed trees), a model behind a
 * command through its batches (all rows of one feature's repeats or grid in one matrix). Single-
 * output models (a binary classifier's probability, a regression's value) and multiclass
 * classifiers (K class probabilities per row; not multi:softmax, which gives class indices). */
#ifndef AUD_GLOBAL_INT_H
#define AUD_GLOBAL_INT_H

#include <stdint.h>

#include "core/aud.h"
#include "models/model_api.h"

/* Model outputs (after the link) of n rows of X (n x n_features): out[n x K], K =
 * aud_model_n_pred (row-major: row i's K class probabilities at out[i * K]). */
int aud_global_predict(const aud_model *m, const double *X, size_t n, int threads, double *out,
                       aud_error *err);

typedef enum aud_perm_score {
    AUD_PERM_AUC = 0,    /* ROC AUC of a 0/1 label (ties count 1/2), as sklearn's roc_auc */
    AUD_PERM_R2 = 1,     /* coefficient of determination, as sklearn's r2 */
    AUD_PERM_AUC_OVR = 2 /* multiclass: mean over the classes of the one-vs-rest ROC AUC of the
                          * class's probability, labels 0..K-1 (sklearn's roc_auc_ovr, macro) */
} aud_perm_score;

/* Score of predictions p (n x n_classes, row-major; n_classes 1 but for AUD_PERM_AUC_OVR)
 * against labels y (n rows); NaN when undefined (one class, constant y). */
double aud_perm_score_of(aud_perm_score kind, const double *y, const double *p, size_t n,
                         size_t n_classes);

/* The permutation of repeat r: splitmix64 (seeded with `seed`) drives a Fisher-Yates shuffle
 * (i from n-1 down to 1, j = next() mod (i + 1)) of the previous repeat's index array, which
 * starts as 0..n-1 - the in-place shuffle of scikit-learn's permutation_importance. */
typedef struct aud_perm_rng { uint64_t state; } aud_perm_rng;
void aud_perm_shuffle(aud_perm_rng *r, size_t *idx, size_t n);

typedef struct aud_perm_result {
    size_t  n_features, repeats;
    double  baseline;     /* score of the unpermuted rows */
    double *importances;  /* n_features x repeats: baseline - score with the feature permuted */
    double *mean, *sd;    /* per feature: mean and standard deviation (ddof 0, as sklearn) */
    double *lo, *hi;      /* per feature: mean -/+ t(0.975, R-1) x sd(ddof 1) / sqrt(R) */
} aud_perm_result;

/* Permutation importance of every feature over the n rows of X with labels y: repeat r of
 * feature j replaces column j by itself indexed with that repeat's cumulative permutation (the
 * same permutations for every feature, as sklearn with an integer random_state). */
int  aud_perm_importance(const aud_model *m, const double *X, const double *y, size_t n,
                         aud_perm_score kind, size_t repeats, uint64_t seed, int threads,
                         aud_perm_result *out, aud_error *err);
void aud_perm_result_free(aud_perm_result *r);

/* Grid of feature values for partial dependence (sklearn's _grid_from_X): the sorted distinct
 * non-missing values when there are fewer than `resolution`, else `resolution` points evenly
 * from the 5th to the 95th percentile (scipy's mquantiles, alphap = betap = 0.4, as sklearn). */
int aud_pdp_grid(const double *col, size_t n, size_t stride, size_t resolution, double **grid,
                 size_t *n_grid, aud_error *err);

/* Partial dependence and ICE of feature j on grid g (G values), for each of the K =
 * aud_model_n_pred outputs c (sklearn's brute method; its (n_outputs, n_rows, G) layout):
 * ice[(c * n + i) * G + k] = f_c(x_i with x_ij = g_k), average[c * G + k] = mean over i. */
int aud_pdp_ice(const aud_model *m, const double *X, size_t n, size_t j, const double *g,
                size_t G, int threads, double *ice, double *average, aud_error *err);

#endif
