/* run.h - `audit run`: one pass over a spec file computing predictions, explanations, fairness,
 * drift and performance, evaluating the policy checks, and writing results.json, the reports and
 * the run log atomically (SPEC sections 4 and 5). */
#ifndef AUD_RUN_H
#define AUD_RUN_H

#include "core/aud.h"

typedef struct aud_run_opts {
    const char *spec_path;
    const char *out_dir;     /* overrides the spec's outputs.dir when non-NULL */
    int         threads;     /* 0 = spec value or all cores */
    /* Called when a step starts (seconds < 0) and when it ends (its wall time); step is
     * "inputs", "predictions", "explanations", "fairness", "drift", "performance", "outputs",
     * "history" (recording the run) or "total". NULL: no calls. The library itself never prints. */
    void      (*progress)(void *ctx, const char *step, double seconds);
    void       *progress_ctx;
    const char *created;     /* fixed provenance time (tests); NULL = now */
    const char *history;     /* run history database (overrides the spec's "history") */
    const char *sign_key;    /* Ed25519 private key (PEM): sign the outputs (audit/sign.h) */
    /* scale-out (SPEC section 9, docs/scale-out.md) */
    int         shard_count; /* > 0: write only the partial of shard shard_index of shard_count */
    int         shard_index;
    int         shard_site;  /* 1: the spec's data file is this shard's rows (federated sites);
                                0: the shard is its block of the data file's rows */
    long        min_cell;    /* cells of a partial counted fewer times are suppressed (<= 1: off) */
    const char *const *merge_parts;  /* n_merge_parts > 0: merge these partials instead of */
    size_t      n_merge_parts;       /* reading the spec (spec_path is then ignored) */
    const char *const *merge_texts;  /* non-NULL: the partials' texts, merge_parts naming them */
    char      **partial_text;        /* non-NULL with shard_count: the partial's text is handed
                                        over here (aud_free) instead of written */
    /* non-NULL with shard_count (build/audit-mpi): this shard reads only its byte range of the
     * data file (aud_table_load_csv_range) and the shards agree through this call, made by
     * every shard at the same points: for mine[0..n) of this shard, before[i] = the sum of
     * mine[i] over the shards of lower index, total[i] = over all (MPI_Exscan and
     * MPI_Allreduce). 0, or -1 when the exchange failed. When a range did not load, or the
     * shards' column types differ, every shard reads the whole file instead. */
    int       (*shard_exchange)(void *ctx, const long long *mine, long long *before,
                                long long *total, size_t n);
    void       *shard_exchange_ctx;
    /* build/audit-mpi: the explained rows stay on the ranks (audit/run_rows.c, docs/scale-out.md
     * "MPI"). With shard_exchange and rows (shard): every shard, after its partial's other
     * blocks, calls rows_scan(shard_exchange_ctx, state, n, step, step_ctx) once: shard 0 calls
     * step(step_ctx, state) on state as given, each further shard on the state the shard before
     * it left (an ordered, non-associative scan in shard order), and every shard gets the last
     * one's state back in state; 0, or -1 when the exchange failed. The shard formats its own
     * explained rows (the text results.json has for them) into *rows, and its partial carries
     * none of them. With rows->active in a merge (rank 0), results.json leaves the rows' bytes
     * to rows_write(shard_exchange_ctx, path, at): every shard writes its text into the file
     * `path` at offset at + its rows->at; 0, or -1 (then no shard's text is known written). */
    int       (*rows_scan)(void *ctx, double *state, size_t n, void (*step)(void *, double *),
                           void *step_ctx);
    int       (*rows_write)(void *ctx, const char *path, long long at);
    struct aud_run_rows *rows;
} aud_run_opts;

/* A shard's explained rows kept by build/audit-mpi (aud_run_opts.rows). */
typedef struct aud_run_rows {
    int        active;      /* the shards hold the explained rows (not skipped everywhere) */
    char      *text;        /* this shard's rows as results.json has them (aud_free), len bytes */
    size_t     len;
    int        spilled;     /* lines of the rows file: the text is not in memory but in spill_fd,
                               an unlinked temporary file (in $TMPDIR, else /tmp), len bytes */
    int        spill_fd;
    long long  at;          /* where the text goes in the rows' text (all shards': total) */
    long long  total;
    double    *state;       /* the scan's final state (aud_free): sums, base, waterfalls, points */
    size_t     n_state;
    size_t     n_rows;      /* explained rows of every shard */
    long long *why;         /* explain.rows_file (aud_free): per waterfall slot (the highest and
                               the lowest output, then each explain.show_rows), the line's
                               offset + 1 in the rows file and its length; 0 0: none */
    size_t     n_why;       /*   slots (2 + the spec's show_rows) */
} aud_run_rows;

/* Frees what aud_run_rows holds (text, state, why, the spill file) and zeroes it. */
void aud_run_rows_release(aud_run_rows *rows);

/* Runs shown in the reports' Trends (the current one included) when a history is kept. */
#define AUD_RUN_TREND_RUNS 12

/* Outcome of a run that completed. */
typedef struct aud_run_outcome {
    size_t n_checks;          /* verdict rows */
    size_t n_failed;
    char   results_path[1024];
} aud_run_outcome;

/* Run the audit. Returns AUD_OK when every output was written (whatever the verdict; see
 * out->n_failed), else an error status with err filled and no output left behind. */
int aud_run(const aud_run_opts *opts, aud_run_outcome *out, aud_error *err);

#endif
