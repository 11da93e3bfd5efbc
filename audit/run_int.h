/* run_int.h - state shared by the parts of `audit run` (run.c: flow and outputs;
 * run_sections.c: the computed sections). */
#ifndef AUD_RUN_INT_H
#define AUD_RUN_INT_H

#include "audit/bind_int.h"
#include "models/model_int.h"
#include "audit/run.h"
#include "audit/spec_int.h"
#include "core/table.h"
#include "core/provenance.h"
#include "metrics/profile.h"
#include "explainers/shap.h"
#include <cjson/cJSON.h>

typedef struct run_ctx {
    const aud_run_opts *opts;
    aud_spec   *spec;
    aud_error  *err;
    int         threads;
    aud_table  *data;
    aud_table  *ref;          /* NULL without a reference */
    aud_refprof *ref_prof;    /* the reference was a saved profile (SPEC section 8), else NULL:
                                 ref is expanded from it and has no rows for the model */
    const aud_drift_refsum **ref_sums;
    aud_model  *model;        /* NULL without a model */
    aud_binding bind;         /* model features -> data columns (bind.cols NULL: no model) */
    aud_binding bind_ref;     /* model features -> reference columns (NULL cols: none) */
    double     *label;        /* n_rows, 0/1 or NaN (class indices 0..K-1 or NaN for a K-class
                                 model, aud_run_multiclass); NULL without a label */
    double     *score;        /* model output or the score column (probability of class 1 for
                                 binary classifiers); NULL when absent */
    double     *score_ref;    /* model output on the reference */
    double     *prediction;   /* 0/1 predictions column; NULL when absent */
    int         score_is_probability;
    long        id_col;       /* explain.id column of data (explained rows' "id"); -1 none */
    aud_hash_ahead hash_data, hash_ref, hash_model;   /* the inputs' SHA-256, taken on
                                 threads of their own from their load on (joined by the
                                 provenance, and in any case before the run ends) */
    cJSON      *doc;          /* the results document */
    cJSON      *skipped;      /* [{section, reason}] */
    double      t_start;
    /* scale-out (audit/shard_int.h) */
    size_t      shard_row0;       /* first row of the shard in the data file */
    size_t      shard_rows_total; /* rows of the data file */
    size_t     *level_base;       /* per column: offset of its levels in one flag array */
    aud_csv_range range;          /* range.begin < range.end: the shard read only these bytes
                                     of the data file (aud_shard_load_range) */
    char        partial_path[4200];
    int         merged;           /* 1: c->data and c->score rebuilt from partials */
    cJSON      *merge_info;       /* the "merge" block of merged results */
    aud_shap_result *mx_r;        /* merged: the partials' explained rows, in row order */
    double     *mx_X;             /*   their feature values (model order) */
    size_t     *mx_rows;          /*   their row numbers in the data */
    double     *mx_pred;          /*   their predictions (the model's score) */
    long       *mx_line;          /*   their CSV lines (0: not known) */
    char      **mx_id;            /*   their explain.id texts, or NULL */
    size_t      mx_n;
    const char *mx_skip;          /*   why there are none (mx_skip_text), or NULL */
    aud_drift_refsum *mg_sum;     /* merged: per data column, its merged quantile summary
                                     (sketch non-NULL) when a partial summarised it, or zeros;
                                     the column holds the sample expanded from it */
    aud_sketch *mg_sketch;        /*   their sketches (mg_sum[j].sketch points here) */
    size_t      mg_n;             /*   entries of mg_sum and mg_sketch (columns) */
    char        mx_skip_text[512];
    cJSON      *rows_raw;         /* explanations.explained_rows (run_rows.c): one raw node of */
    size_t      rows_len;         /*   this many bytes, left to one side when printing */
    struct aud_why_merged *mg_why;   /* merged: the drivers' and proxies' sums per cell
                                        (audit/merge_why.c), or NULL and mg_why_skip says why */
    char        mg_why_skip[512];
    int         exchanged;        /* audit-mpi: the ranks exchanged sums (shard_exchange) */
    int         why_synced;       /*   and this rank took part in the "why" pass's exchanges */
    int         rows_synced;      /*   and in the explained rows' (run_rows.c) */
    aud_shap_result *sx_r;        /* audit-mpi shard: its explained rows, kept for */
    double     *sx_X;             /*   aud_run_rows_shard (X, rows in the file, n) */
    size_t     *sx_rows;
    size_t      sx_n;
    int         sx_skip;          /*   1: the explanations are skipped */
    int         rows_external;    /* merged: the ranks write explained_rows' bytes (rows_raw
                                     holds none, rows_len is their length) */
    const char *rows_tmp;         /* the explained-rows file (explain.rows_file, outputs.
                                     explained_rows): its temporary path (run.c renames it), */
    const char *rows_name;        /*   its name in the output folder; NULL: no such output */
    int         rows_file_used;   /*   1: it was created (renamed into place or removed) */
    char        rows_hex[65];     /*   its SHA-256 once written */
} run_ctx;

/* The model has K > 1 classes (a multiclass classifier, multi:softmax included, or a model
 * command answering K numbers per row): the label holds class indices 0..K-1. */
static inline int aud_run_class_label(const run_ctx *c)
{
    return c->model != NULL && c->model->n_outputs > 1 &&
           (c->model->is_classifier || c->model->kind == AUD_MODEL_COMMAND);
}

/* ... and gives one probability per class (not multi:softmax's class index). */
static inline int aud_run_multiclass(const run_ctx *c)
{
    return aud_run_class_label(c) && aud_model_n_pred(c->model) > 1;
}

/* Record that a section was not run, and why. Returns AUD_OK or AUD_E_NOMEM. */
int aud_run_skip(run_ctx *c, const char *section, const char *reason);

/* Sections; each adds its object to c->doc or calls aud_run_skip. */
int aud_run_profile(run_ctx *c);
int aud_run_predictions(run_ctx *c);
int aud_run_explanations(run_ctx *c);
int aud_run_fairness(run_ctx *c);
int aud_run_drift(run_ctx *c);
int aud_run_performance(run_ctx *c);
/* "model_card": the spec's card and the model's facts (nothing without either). */
int aud_run_model_card(run_ctx *c);
int aud_run_global(run_ctx *c);     /* run_global.c */

/* The explanation options of the spec, background rows when the method needs them (*B, *nb)
 * and the attributions (*r) of the explained rows (*X, *rows in the data file, *n); for a shard,
 * those of its block. *skip: why the section cannot run (nothing computed), else NULL. */
int aud_run_explain_rows(run_ctx *c, aud_shap_opts *so, double **B, size_t *nb,
                         aud_shap_result **r, double **X, size_t **rows, size_t *n,
                         const char **skip);

/* A binary model explained on the margin: its base value and f(x) are also given as
 * probabilities, aud_run_sigmoid(c, margin) (the model's link applied). */
int aud_run_link_probability(const run_ctx *c, const aud_shap_result *r);
double aud_run_sigmoid(const run_ctx *c, double margin);

/* explanations.explained_rows of a single-output model (run_rows.c): every explained row (X, its
 * n rows in model order, attributions r, row numbers rows in the data) in data order with its
 * values, attributions, prediction and "why" (the waterfalls: the highest and the lowest output
 * and the rows the spec asks for), formatted on c->threads threads into one raw node of ex - the
 * text cJSON_Print would give for the rows as objects. AUD_OK or AUD_E_NOMEM. */
int aud_run_explained_rows_json(run_ctx *c, cJSON *ex, const aud_shap_result *r,
                                const double *X, const size_t *rows, size_t n);

/* Explained rows above this many go to the explained-rows file unless explain.rows_file says
 * otherwise (docs/results-schema.md "explained_rows_file"): about 75 MB of results.json. */
#define AUD_RUN_ROWS_INLINE_MAX 100000
/* Do n_all explained rows of a single-output model go to the explained-rows file? The same
 * answer on every shard: it reads only the spec (explain.rows_file; a results.json or XLSX
 * output) and n_all. */
int aud_run_rows_to_file(const aud_spec *s, size_t n_all);

/* audit-mpi, a shard (opts->rows): the scan of the explained rows kept in c->sx_* in shard
 * order (the summary's sums, the waterfalls, the points of the plots), then this shard's rows
 * formatted into opts->rows. Every shard makes the same exchanges whatever happens on it.
 * AUD_OK or an error of this shard. */
int aud_run_rows_shard(run_ctx *c);
/* A shard that failed before aud_run_rows_shard: take part in its first exchange, saying so. */
void aud_run_rows_abort(run_ctx *c);

/* The scan's state (aud_run_rows.state) of K outputs, M features, P points: offsets. */
typedef struct aud_rows_layout {
    size_t sum_abs, sum, base, hi, lo, px, pphi, n;
} aud_rows_layout;
aud_rows_layout aud_run_rows_layout(size_t K, size_t M, size_t P);
/* The points of the plots: at most this many explained rows, evenly spread (row i of n for
 * point k of p: aud_run_point_row). */
#define AUD_EXPLAIN_POINTS_PER_FEATURE 2000
static inline size_t aud_run_point_row(size_t k, size_t n, size_t p)
{
    return (size_t)((double)k * (double)n / (double)p);
}

/* A step of the run starts (the progress callback of aud_run_opts, for --verbose and the
 * terminal's current step); it ends when the next one starts. */
void aud_run_step(const run_ctx *c, const char *step);

/* Seconds since an arbitrary origin (monotonic). */
double aud_run_clock(void);

#endif
