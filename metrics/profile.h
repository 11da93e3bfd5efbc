/* profile.h - per-column summary statistics of a table (`audit profile`, results "profile"). */
#ifndef AUD_PROFILE_H
#define AUD_PROFILE_H

#include "core/table.h"
#include "metrics/sketch.h"
#include <cjson/cJSON.h>

#define AUD_PROFILE_N_QUANTILES 5
#define AUD_PROFILE_TOP_CATEGORIES 50

/* Quantile levels reported: 5, 25, 50, 75, 95 %, numpy's "linear" method (Hyndman-Fan type 7). */
extern const double aud_profile_levels[AUD_PROFILE_N_QUANTILES];

typedef struct aud_col_profile {
    size_t n_present;         /* non-missing values */
    /* numeric (NaN when undefined: no values, or std with fewer than 2) */
    double min, max, mean, std;
    double quantiles[AUD_PROFILE_N_QUANTILES];
    /* categorical: level indices by count (descending, ties in first-appearance order) */
    size_t *order;
    size_t *counts;           /* counts[level] */
} aud_col_profile;

typedef struct aud_profile {
    const aud_table *table;   /* borrowed */
    aud_col_profile *cols;    /* table->n_cols entries */
} aud_profile;

/* Compute the profile of t (which must outlive *out) on up to `threads` threads (columns in
 * parallel; < 1: all cores; the result does not depend on it). *out is the caller's
 * (aud_profile_free). */
int aud_profile_compute(aud_profile **out, const aud_table *t, int threads, aud_error *err);
void aud_profile_free(aud_profile *p);

/* Add the SPEC section 5 "profile" object to doc. */
int aud_profile_to_json(const aud_profile *p, cJSON *doc, aud_error *err);

#endif
