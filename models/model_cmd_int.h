/* model_cmd.h - a model behind a command (issue 16, SPEC section 2, docs/model-formats.md
 * "model command").
 *
 * Batch protocol (the default, the SPEC's): each batch starts the program, without a shell (fork +
 * execvp of argv as given, in cwd). The batch is written to its stdin as CSV: a header line with
 * the model's feature names, one line per row (numbers with %.17g, categories as text, missing
 * values empty); then its stdin is closed. The program answers on stdout with exactly one line
 * per row: one number (the prediction) or comma-separated numbers (class probabilities; the same
 * count on every line), and exits 0. audit writes and reads at once (poll: no deadlock on full
 * pipes) and reads to end of file.
 *
 * Session protocol (opt-in, session_protocol = 1): the program is started once and kept running;
 * each batch (header and rows as above) ends with one empty line instead of end of file, and the
 * answer is the batch's lines. After the last batch its stdin is closed and it must exit 0.
 *
 * A program that cannot be started, exits non-zero, stalls past the per-batch timeout (the whole
 * batch: start, answer and exit), prints the wrong number of lines or something other than
 * finite numbers is an error naming the program, the batch and the line; the program is then
 * killed and reaped. Its stdin is a socket written with MSG_NOSIGNAL, so a program that exits
 * early never raises SIGPIPE in the caller. */
#ifndef AUD_MODEL_CMD_H
#define AUD_MODEL_CMD_H

#include <stddef.h>

#include "core/aud.h"
#include "core/table.h"
#include "models/model_api.h"

/* Default rows per batch: large, because the batch protocol starts the program per batch (a
 * Python interpreter with scikit-learn takes ~1.4 s of CPU to start; docs/model-formats.md). */
#define AUD_MODEL_CMD_BATCH 100000

typedef struct aud_model_cmd {
    char  **argv;          /* program and arguments, NULL-terminated */
    char  **features;      /* columns sent to the program, in order (NULL: every column) */
    size_t  n_features;
    size_t  batch_rows;    /* rows per batch (default AUD_MODEL_CMD_BATCH) */
    double  timeout_s;     /* seconds allowed for one batch's answer (default 30) */
    size_t  max_rows;      /* total rows the program may be asked for (0 = unlimited) */
    int     session_protocol;   /* 0: a run of the program per batch (SPEC); 1: one session */
    char   *cwd;           /* folder the program runs in (owned; NULL: the current one) */
    size_t  n_calls;       /* out: batches sent */
    size_t  n_rows_sent;   /* out: rows sent */
    size_t  n_outputs;     /* values per answer line (0 until the first answer) */
    void   *session;       /* the running program between aud_model_cmd_open and _close */
    void   *text_cache;    /* aud_model_cmd_eval: formatted numbers, per feature */
    const struct aud_prep *prep;   /* borrowed from the model (aud_model_from_cmd), or NULL:
                                    * features with cat_text are text columns whose values in
                                    * eval's X are category codes, written as the category text */
    const aud_table *table;   /* during aud_model_cmd_predict: the table sent, so that errors
                               * name "data rows A-B" and "data row R (CSV line L)" (0-based);
                               * NULL: the rows are an explainer's ("evaluation rows A-B") */
} aud_model_cmd;

/* Split `cmdline` at blanks into argv (single and double quotes group words; no other shell
 * syntax). Also splits a comma-separated feature list when `sep` is ','. On AUD_OK *out is a
 * NULL-terminated array owned by the caller (aud_model_cmd_strv_free); *n its length. */
AUD_API int aud_model_cmd_split(const char *text, char sep, char ***out, size_t *n,
                                aud_error *err);
AUD_API void aud_model_cmd_strv_free(char **v);

/* Fill mc with defaults (argv and features left NULL). */
AUD_API void aud_model_cmd_init(aud_model_cmd *mc);

/* Predict every row of t (the program's features found by name in t). On AUD_OK *pred holds
 * n_rows x *n_cols values (row-major, aud_free). */
AUD_API int aud_model_cmd_predict(aud_model_cmd *mc, const aud_table *t, double **pred,
                                  size_t *n_cols, aud_error *err);

/* A session: the program started once (aud_model_cmd_open), asked for any number of matrices
 * (aud_model_cmd_eval, each sent in batches of batch_rows), then told that its input ended and
 * required to exit 0 (aud_model_cmd_close). With the batch protocol open and close only check
 * the command (each batch is a run of its own) and eval is the same call. aud_model_cmd_free kills a program still running and
 * frees argv, features and the session. Every error kills the program. */
AUD_API int  aud_model_cmd_open(aud_model_cmd *mc, aud_error *err);
/* Predictions of n rows of X (row-major, n_features values per row in feature order, NaN =
 * missing, sent as an empty field). The first answer fixes mc->n_outputs; out holds n x
 * n_outputs values: allocated here when *out is NULL (aud_free), else the caller's buffer of that
 * size (n_outputs known). Numbers are sent with 17 significant digits (exact round trip). */
AUD_API int  aud_model_cmd_eval(aud_model_cmd *mc, const double *X, size_t n, double **out,
                                aud_error *err);
AUD_API int  aud_model_cmd_close(aud_model_cmd *mc, aud_error *err);
AUD_API void aud_model_cmd_free(aud_model_cmd *mc);

/* A model of kind AUD_MODEL_COMMAND over mc (its contents taken over: *mc is left empty, argv
 * and features owned by the model). Features: mc->features, else every column of t. The number
 * of outputs is learned by asking the program for t's first row (one batch of one row; a session
 * program keeps running for the explainers' batches). A text column of t is carried as the index
 * of its category in t's dictionary (a categorical stage, m->prep), and written to the program as
 * the category's text (missing: an empty field); aud_model_cmd_add_levels adds another table's.
 * The model's output is what the program prints (no link: raw and probability are the same). */
AUD_API int aud_model_from_cmd(aud_model **out, aud_model_cmd *mc, const aud_table *t,
                               aud_error *err);
/* The program behind a model of kind AUD_MODEL_COMMAND (NULL for other kinds). */
AUD_API aud_model_cmd *aud_model_get_cmd(const aud_model *m);
/* Add the categories of t's text columns that a command model's text features lack (a
 * background or reference file's), so that its rows bind (aud_bind_model calls it); no-op for
 * other models. The model's category lists only grow (codes given keep their meaning), so the
 * model is const to its callers; not to be called while the model is evaluated. */
AUD_API int aud_model_cmd_add_levels(const aud_model *m, const aud_table *t, aud_error *err);
/* The text of category `code` when model feature j of a command model is a text column (its
 * values in the explainers' rows are category codes); NULL otherwise. */
AUD_API const char *aud_model_cmd_category(const aud_model *m, size_t j, double code);
/* aud_predict_table for a command model: rows of t through col_index, out n_rows x n_outputs. */
AUD_API int aud_model_cmd_predict_bound(const aud_model *m, const aud_table *t,
                                        const size_t *col_index, double *out, aud_error *err);

/* Column name of the scores fairness --model-cmd appends. */
#define AUD_MODEL_CMD_COLUMN "model-cmd score"

/* Predict every row of t and append the single-output predictions as numeric column `name`
 * (fairness --model-cmd). An error when t already has that column or the program answers more than
 * one value per row. */
AUD_API int aud_model_cmd_add_column(aud_model_cmd *mc, aud_table *t, const char *name,
                                     aud_error *err);

#endif
