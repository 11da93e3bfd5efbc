/* bind.h - the binding layer: from a loaded table (and model) and the names a command or a spec
 * gives, to the arrays the explainers and metrics take. Every command (audit/cmd_*.c) and
 * `audit run` bind through these functions and nothing else, so one mistake gives one message
 * whichever way the audit was asked for:
 *
 *   model features -> columns   aud_bind_model: by name (every missing feature named in one
 *                               message) or by position; missing values a model cannot take
 *                               (aud_bind_check_missing); the model's output per row
 *                               (aud_bind_model_output)
 *   label, prediction, score    aud_bind_column: numeric; labels and predictions 0/1
 *   attributes, references,     aud_bind_attrs: one fairness attribute per sensitive column
 *   "a&b" intersections         (numeric columns grouped by value), reference groups of
 *                               attributes and of intersections; aud_bind_fairness runs the
 *                               fairness metrics over them and checks what only the result can
 *                               tell (an intersection reference that names no intersection;
 *                               an unknown group, with the groups there are)
 *   drift columns               aud_bind_drift_columns: the columns compared and their
 *                               per-column method and threshold
 *
 * The public calls of audit/audit.h (aud_predict, aud_fairness, aud_drift) are these steps put
 * together; `audit run` uses the steps, sharing one label and score between its sections.
 *
 * Errors name the data file (table->path) and, in err->field, the column, feature or option
 * concerned. Nothing here prints: a caller that wants to warn (a model bound by position) reads
 * the flags. Later input codings (labels given as text, numeric attributes in bands, ...) belong
 * here too, so that every command gets them at once. */
#ifndef AUD_BIND_H
#define AUD_BIND_H

#include "audit/audit.h"
#include "models/model_int.h"

/* ---- model features ------------------------------------------------------------------------ */

typedef struct aud_binding {
    const aud_model *model;
    const char      *model_path;   /* names the model in messages (may be NULL) */
    const aud_table *table;
    size_t          *cols;         /* table column of model feature j (n_features; owned) */
    int              by_position;  /* 1: the model has no feature names, features were matched
                                      to the first columns (callers may warn) */
} aud_binding;

/* Bind model m to table t: every feature to a numeric column. A model feature missing from the
 * table is an AUD_E_SCHEMA error naming all missing features at once (field: the first); a
 * feature bound to a text column names it. b is zeroed first; aud_binding_free it in any case. */
int  aud_bind_model(aud_binding *b, const aud_model *m, const char *model_path,
                    const aud_table *t, aud_error *err);
void aud_binding_free(aud_binding *b);

/* A model that cannot take missing values (linear, scikit-learn < 1.3 trees): AUD_E_DOMAIN
 * "data row N: missing value in column "x"; this linear model cannot handle missing values" for
 * the first one in rows [row_begin, row_end). AUD_OK for every other model. */
int  aud_bind_check_missing(const aud_binding *b, size_t row_begin, size_t row_end,
                            aud_error *err);

/* Rows [row_begin, row_end) as a model matrix (row-major, n_features values per row). */
void aud_bind_fill_rows(const aud_binding *b, size_t row_begin, size_t row_end, double *out);

/* A seeded sample of k rows of the bound table (every row when it has k or fewer, in table
 * order; aud_shap_sample_rows) as a model matrix: *X (n_out x n_features, the caller's). */
int  aud_bind_sample_rows(const aud_binding *b, size_t k, uint64_t seed, double **X,
                          size_t *n_out, aud_error *err);

/* Predict every row of the bound table: *n_cols = aud_predict_n_cols(model, raw) values per row
 * (raw margins with raw = 1, else predictions), row-major in *out (the caller's, aud_free).
 * threads >= 1; the result is identical for any count. Missing values are checked as
 * aud_bind_check_missing does. */
int  aud_bind_predict(const aud_binding *b, int raw, int threads, double **out, size_t *n_cols,
                      aud_error *err);

/* The model's output for every row of the bound table (threads >= 1; identical for any count):
 * the probability of class 1 of a binary classifier, the value of a regression. Missing values
 * are checked as aud_bind_check_missing does. A model with several outputs is AUD_E_UNSUPPORTED
 * ("WHO needs a model with one output ..."). *out (n_rows values) is the caller's (aud_free). */
int  aud_bind_model_output(const aud_binding *b, int threads, const char *who, double **out,
                           aud_error *err);

/* ---- label, prediction and score columns --------------------------------------------------- */

typedef enum aud_bind_role {
    AUD_BIND_LABEL,       /* 0 or 1, missing allowed */
    AUD_BIND_PREDICTION,  /* 0 or 1 */
    AUD_BIND_SCORE        /* any number (the metrics check finiteness and the threshold) */
} aud_bind_role;

/* Column `name` of t for a role: it must exist ("no column "y" in the data") and be numeric
 * ("the label column must be numeric (0 or 1), but it holds text such as "yes""); label values
 * must be 0, 1 or missing ("data row 3: the label must be 0 or 1, got 2"), predictions 0 or 1.
 * *out (t->n_rows values) is a copy owned by the caller (aud_free). */
int  aud_bind_column(const aud_table *t, const char *name, aud_bind_role role, double **out,
                     aud_error *err);

/* aud_bind_column with an outcome coding (audit.h; NULL or no values: the column must hold 0/1
 * as before); coding->note is filled. None of the positive values occurring is an AUD_E_DOMAIN
 * error listing the values there are with their counts; a coding of a score is AUD_E_USAGE. */
int  aud_bind_column_coded(const aud_table *t, const char *name, aud_bind_role role,
                           aud_outcome_coding *coding, double **out, aud_error *err);

/* aud_bind_column_coded with the rows checked and copied in chunks on up to `threads` threads
 * (the same copy, and the same first bad row named, at any thread count). */
int  aud_bind_column_on(const aud_table *t, const char *name, aud_bind_role role,
                        aud_outcome_coding *coding, int threads, double **out, aud_error *err);

/* The label of a K-class model: column `name` of t holding class indices 0 .. K-1 or missing
 * ("data row 3: the label of this 3-class model must be a class index 0 to 2, got 3"; text is
 * refused like a 0/1 label's). *out (t->n_rows values) is the caller's (aud_free). */
int  aud_bind_class_label(const aud_table *t, const char *name, size_t n_classes, double **out,
                          aud_error *err);

/* Check edges given as numbers: increasing and finite (AUD_E_USAGE naming `what`). */
int  aud_bind_check_edges(const double *edges, size_t n, const char *what, aud_error *err);

/* ---- sensitive attributes, references and intersections ------------------------------------ */

typedef struct aud_bound_attrs {
    aud_fair_attr *attrs;              /* n_attrs, in the order given; codes and levels point
                                          into the table or into storage owned here */
    size_t         n_attrs;
    const char   **inter_ref_names;    /* references of intersections (n_inter_refs) */
    const char   **inter_ref_levels;
    size_t         n_inter_refs;
    /* private */
    int32_t      **own_codes;
    char        ***own_levels;
    size_t        *own_n;
} aud_bound_attrs;

/* One fairness attribute per name (a column of t: categorical columns by level, numeric ones
 * grouped by value as aud_fair_codes_from_numeric does), with its reference group from refs.
 * Errors: a name that is no column ("no column "x" in the data"), a name given twice, a
 * reference naming neither an attribute nor an intersection ("a&b"). Rows are recoded on up to
 * `threads` threads. b is zeroed first; aud_bound_attrs_free it in any case. */
int  aud_bind_attrs(aud_bound_attrs *b, const aud_table *t, const char *const *names, size_t n,
                    const aud_reference *refs, size_t n_refs, const aud_grouping *groups,
                    size_t n_groups, int threads, aud_error *err);
void aud_bound_attrs_free(aud_bound_attrs *b);

/* The rows of every group of a coding in one counting pass (issue 19: per-group work costs the
 * group's rows, not groups x rows): group g's rows are (*order)[(*start)[g] .. (*start)[g + 1]),
 * ascending; rows coded -1 (unknown) are left out. Counted and placed in row chunks on up to
 * `threads` threads (the same arrays at any thread count). *start (n_levels + 1) and *order are
 * the caller's (aud_free) on AUD_OK. */
int  aud_bind_group_rows(const int32_t *codes, size_t n, size_t n_levels, int threads,
                         size_t **start, size_t **order, aud_error *err);

/* What the fairness metrics of one table are asked for. */
typedef struct aud_bind_fair_request {
    const aud_table    *data;
    const char *const  *sensitive;        /* n_sensitive column names */
    size_t              n_sensitive;
    const aud_reference *refs;             /* reference groups (n_refs; may be NULL) */
    size_t              n_refs;
    const aud_grouping *groups;           /* bands and orders (n_groups; may be NULL) */
    size_t              n_groups;
    const double       *label;            /* aud_bind_column; NULL: label-free metrics only */
    const double       *prediction;       /* 0/1 predictions, or NULL and ... */
    const double       *score;            /* ... scores compared with opts->threshold */
    const char         *label_name, *prediction_name, *score_name;   /* for messages, JSON */
} aud_bind_fair_request;

/* Bind the attributes and references of rq and compute the fairness metrics (aud_fair_compute).
 * A reference of an intersection must name an intersection of the attributes (and
 * opts->intersections be on); a reference group that has no rows is an error listing the groups
 * there are. *out is the caller's
 * (aud_fair_result_free). With attrs_out (may be NULL) the bound attributes are handed over too,
 * for the drivers (audit/fair_why_int.h), which then need not bind them again; the caller frees them
 * (aud_bound_attrs_free) whatever the status. */
int  aud_bind_fairness(aud_fair_result **out, const aud_bind_fair_request *rq,
                       const aud_fair_opts *opts, aud_bound_attrs *attrs_out, aud_error *err);

/* The score the predictions were thresholded from (a score column or the model's output; NULL
 * with predictions) and the label (NULL without), as aud_fairness_scored hands them over: each
 * either the table's own column (read in place: valid while the table is) or an array of the
 * caller's (own_*, freed by aud_fair_arrays_free). */
typedef struct aud_fair_arrays {
    const double *score, *label;
    double       *own_score, *own_label;
} aud_fair_arrays;

void aud_fair_arrays_free(aud_fair_arrays *a);

/* aud_fairness that also hands over the score and label in *arrays (may be NULL), for the
 * drivers and trade-offs (audit/fair_why_int.h); the bound attributes in *attrs_out (may be
 * NULL; see aud_bind_fairness) are the caller's too. */
int  aud_fairness_scored(aud_fair_result **out, const aud_fairness_request *rq,
                         const aud_fair_opts *opts, int *by_position, aud_fair_arrays *arrays,
                         aud_bound_attrs *attrs_out, aud_error *err);

/* ---- drift columns ------------------------------------------------------------------------- */

typedef struct aud_bound_drift {
    const char        **cols;     /* n columns compared (point into the tables or the given list) */
    aud_drift_override *ovr;      /* n per-column overrides, for aud_drift_tables */
    size_t              n;
} aud_bound_drift;

/* The columns compared for drift: `given` (n_given names) or, when given is NULL, every column
 * of the reference table except the n_exclude names in `exclude` (label, prediction, score) and
 * columns whose name other columns share (aud_column.n_same; callers may warn).
 * Each choice must name a compared column ("column "x" is not among the columns compared for
 * drift", field `choice_field`, the spec key that gave them, when not NULL). b is zeroed first;
 * aud_bound_drift_free it in any case. */
int  aud_bind_drift_columns(aud_bound_drift *b, const aud_table *ref, const char *const *given,
                            size_t n_given, const char *const *exclude, size_t n_exclude,
                            const aud_drift_choice *choices, size_t n_choices,
                            const char *choice_field, aud_error *err);
void aud_bound_drift_free(aud_bound_drift *b);

#endif
