/* profile.h - per-column summary statistics of a table (`audit profile`, results "profile"). */
#ifndef AUD_PROFILE_H
#define AUD_PROFILE_H

#include "core/table.h"
#include "metrics/drift.h"
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

/* ---- saved reference profiles (`audit profile --save`, SPEC section 8) ---------------------
 * A compact, versioned summary of every column of a reference table that `audit drift
 * --reference` and the spec's "reference" accept instead of the CSV (metrics/profile_ref.c;
 * the file format and what is exact: docs/drift.md "Reference profiles"). */
#define AUD_REFPROF_VERSION 2
#define AUD_REFPROF_K 1024         /* quantile summary entries at evenly spaced ranks */
#define AUD_REFPROF_BINS 1024      /* equal-width bins over [min, max] with exact counts */
#define AUD_REFPROF_EXACT 2048     /* up to this many distinct values: all of them kept */
#define AUD_REFPROF_ANCHORS 100    /* order statistics around every 1/100 quantile kept */

typedef struct aud_refcol {
    char      *name;
    int        numeric;
    size_t     rows, missing;
    /* numeric */
    double     min, max, mean, std;   /* std: ddof 0 */
    size_t     distinct, max_tie;
    int        exact;
    size_t     n_bins;
    double    *counts, *below;        /* per bin; values below each bin's lower edge */
    aud_sketch sketch;
    aud_drift_refsum sum;             /* points into this column */
    struct aud_drift_refw *cells;     /* sum's cells, built once when loaded (or NULL) */
    /* categorical */
    size_t     n_levels;
    char     **levels;
    double    *level_counts;
} aud_refcol;

typedef struct aud_refprof {
    char       *path;                 /* the profile file (NULL when built in memory) */
    char        created[40];
    char       *source_path;
    char        source_sha256[65];    /* "" when unknown (standard input) */
    size_t      rows, n_cols;
    aud_refcol *cols;
} aud_refprof;

/* Summarise every column of t; path and sha256 (may be NULL) name the data it was read from. */
AUD_API int aud_refprof_build(aud_refprof **out, const aud_table *t, const char *path,
                              const char *sha256, aud_error *err);
/* Write the profile file atomically; created NULL = now. */
AUD_API int aud_refprof_save(aud_refprof *p, const char *path, const char *created,
                             aud_error *err);
/* Read a profile file (or text of len bytes named `name`): version, structure, counts and the
 * checksum of line 1 are checked; an error names the file, line 1 or the field
 * ("columns[2] (\"age\").bins.counts[17]"). */
AUD_API int aud_refprof_load(aud_refprof **out, const char *path, aud_error *err);
AUD_API int aud_refprof_parse(aud_refprof **out, const char *text, size_t len,
                              const char *name, aud_error *err);
AUD_API void aud_refprof_free(aud_refprof *p);
/* Add "profile": {"format_version", "created", "source": {"path", "sha256", "rows"}} to a
 * provenance input entry (the data the profile summarises). */
AUD_API int aud_refprof_prov(const aud_refprof *p, cJSON *entry, aud_error *err);
/* 1 when the file starts like a profile (the spec and --reference tell CSV from profile so). */
AUD_API int aud_refprof_sniff(const char *path);
/* The reference table for drift: every column expanded (aud_drift_refsum_expand; rows in no
 * particular order, missing values last) and, per column, the summary to pass to
 * aud_drift_tables_ref (NULL for categorical columns). *sums is the caller's (aud_free); it
 * points into p, which must outlive it. */
AUD_API int aud_refprof_table(const aud_refprof *p, aud_table **out,
                              const aud_drift_refsum ***sums, aud_error *err);

#endif
