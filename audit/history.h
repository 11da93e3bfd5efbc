/* history.h - the run history of SPEC section 8: every `audit run --history FILE.db` appends its
 * results to a SQLite database (schema, versions and trend definitions in docs/history.md), and
 * `audit history` reads the values of each check over time with a trend statement.
 *
 * The store reads only the results document that `audit run` builds (or a results.json file);
 * one run is one transaction, so a run killed at any moment is either wholly in the database or
 * not at all, and concurrent writers wait for each other (WAL, busy timeout). */
#ifndef AUD_HISTORY_H
#define AUD_HISTORY_H

#include "core/aud.h"
#include <cjson/cJSON.h>

/* The schema version this build writes (PRAGMA user_version). */
#define AUD_HISTORY_SCHEMA 1

typedef struct aud_history aud_history;

/* Open (creating and migrating as needed) the history database at path. A database written by
 * a newer schema, or a file that is not SQLite, is an error naming the file; create = 0: a
 * missing file is an error too. *out is the
 * caller's (aud_history_close). */
int aud_history_open(aud_history **out, const char *path, int create, aud_error *err);
void aud_history_close(aud_history *h);

/* Append one run from its results document (provenance, checks, fairness, drift, performance)
 * in one transaction. results_sha256: the hash of the results.json written, or NULL; a run
 * whose hash is already present is not added again (*added = 0). run_id: NULL or the new id. */
int aud_history_record(aud_history *h, const cJSON *results, const char *results_sha256,
                       long long *run_id, int *added, aud_error *err);

/* Import the lines of a run log (runs.jsonl, docs/results-schema.md). A line whose results.json
 * still exists with the logged hash is imported in full; other pass/fail lines as runs without
 * check rows; error lines and lines already imported are skipped. */
typedef struct aud_history_import_stats {
    size_t full;        /* imported with their check rows */
    size_t summary;     /* imported from the log line alone */
    size_t present;     /* already in the database */
    size_t skipped;     /* error runs */
} aud_history_import_stats;
int aud_history_import(aud_history *h, const char *jsonl_path, aud_history_import_stats *st,
                       aud_error *err);

/* Which series to read and how to judge them. NULL strings = any. */
typedef struct aud_history_query {
    const char *metric, *attribute, *group, *column;
    const char *since;        /* runs created at or after this UTC date/time prefix */
    size_t      last_runs;    /* 0 = every run; else only the latest N (the current run counts) */
    int         k;            /* "worsening in each of the last K runs" (default 3) */
    double      confidence;   /* of Sen's slope interval and the test level (default 0.95) */
} aud_history_query;

/* The document of SPEC section 8: {"runs": [...], "checks": [{metric, attribute, group, column,
 * bound, values: [{run, created, value, passed}], trend: {...}}]}. current: NULL, or a results
 * document not yet recorded, appended as the latest run (its "id" is null). */
int aud_history_series(aud_history *h, const aud_history_query *q, const cJSON *current,
                       cJSON **out, aud_error *err);

/* Add "trends" (aud_history_series of the last `last_runs` runs with `results` as the latest)
 * to a results document before it is written. */
int aud_history_add_trends(aud_history *h, cJSON *results, size_t last_runs, aud_error *err);

/* After the findings are built: a "warn" finding for every check of results "trends" that
 * passes this run but is worsening (significant trend the wrong way) or got worse in each of the
 * last K runs, with the trend copied (docs/history.md). */
int aud_history_add_trend_findings(cJSON *results, aud_error *err);

/* Is s a valid --since value: YYYY-MM-DD, optionally followed by THH:MM[:SS[Z]]? */
int aud_history_since_valid(const char *s);

#endif
