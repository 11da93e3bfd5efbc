/* checks.h - policy checks of `audit run`: each spec check is evaluated against the computed
 * results document and becomes verdict rows (metric, attribute, group or column, value, bound,
 * passed). A check whose metric was not computed, or whose value is undefined, fails with a reason:
 * a compliance verdict never passes by omission. */
#ifndef AUD_CHECKS_H
#define AUD_CHECKS_H

#include "audit/spec_int.h"
#include <cjson/cJSON.h>

/* 0 when `metric` is a name a check may use, else AUD_E_SCHEMA with err naming the check. */
/* 1 when metric is a performance metric (auc, accuracy, log_loss, brier_score): by group these
 * exist per sensitive attribute only. */
int aud_check_is_performance(const char *metric);
/* 1 when metric is a per-attribute fairness summary (equalized_odds_difference, ...). */
int aud_check_is_summary(const char *metric);

/* The key under which the results document holds a check's metric (accuracy_group -> accuracy,
 * auc_group -> auc; any other metric is its own key). */
const char *aud_check_result_key(const char *metric);

int aud_check_validate(const aud_check_spec *c, size_t index, const char *spec_path,
                       aud_error *err);

/* Evaluate every check against results (which holds the computed sections) and add
 * "checks": [...] and "verdict": "pass"|"fail" to it. *n_failed gets the failing row count. */
int aud_checks_evaluate(const aud_check_spec *checks, size_t n, cJSON *results,
                        size_t *n_failed, aud_error *err);

#endif
