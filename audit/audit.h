/* audit.h - the public surface of libaudit: everything the command-line client (audit/main.c,
 * cli.c, csvopt.c, cmd_*.c) and an embedding program use, and nothing they need not see.
 * docs/examples/embed.c, built and run by `make check`, keeps this header honest.
 *
 *   errors, allocation     core/aud.h: status codes, aud_error (file, line, column, field,
 *                          message), aud_malloc/aud_free (everything the library hands out is
 *                          freed with its own *_free or aud_free)
 *   tables                 core/table.h: aud_table_load_csv (CSV options) and the columns
 *   models                 models/model_api.h: an opaque aud_model, loaded from a file, with
 *                          its features and outputs
 *   predictions            aud_predict (below)
 *   explanations           explainers/shap.h: SHAP values and their summary
 *   fairness               aud_fairness (below), results in metrics/fairness.h
 *   drift                  aud_drift (below), results and options in metrics/drift.h
 *   profile                metrics/profile.h
 *   results documents      core/provenance.h (the document and its provenance), the *_to_json
 *                          functions of each result, core/io.h (writing it atomically)
 *   a spec file            audit/run.h: aud_run, the whole of `audit run`
 *   findings               audit/findings.h: failed checks grouped into findings (SPEC 7)
 *   reports                reports/report.h: PDF and XLSX from a results document
 *   run history            audit/history.h: the SQLite store of runs and its trends
 *   signed records         audit/sign.h: Ed25519 manifest of an output folder
 *
 * The library never prints and never exits: every function returns an aud_status and fills an
 * aud_error. A model bound to data by position (it has no feature names) is reported through
 * *by_position for the caller to warn about. */
#ifndef AUD_AUDIT_H
#define AUD_AUDIT_H

#include "core/aud.h"
#include "core/io.h"
#include "core/provenance.h"
#include "core/table.h"
#include "explainers/shap.h"
#include "metrics/drift.h"
#include "metrics/fairness.h"
#include "metrics/profile.h"
#include "models/model_api.h"
#include "reports/report.h"
#include "audit/history.h"
#include "audit/run.h"
#include "audit/sign.h"
#include "audit/findings.h"

/* ---- predictions --------------------------------------------------------------------------- */

/* Predict every row of t with model m (model_path names it in messages): features bound to
 * columns by name (every missing one named in the error) or, for a model without names, by
 * position (*by_position = 1, may be NULL). *n_cols values per row, row-major in *out (the
 * caller's, aud_free): raw margins with raw = 1, else probabilities of classifiers, values of
 * regressions, one column per class for multiclass. Identical for any threads >= 1. */
AUD_API int aud_predict(const aud_model *m, const char *model_path, const aud_table *t, int raw,
                        int threads, double **out, size_t *n_cols, int *by_position,
                        aud_error *err);

/* ---- explanations ------------------------------------------------------------------------ */

/* Rows to explain with a model, and the background its method may need. */
typedef struct aud_explain_request {
    const aud_model *model;
    const char      *model_path;        /* names the model in messages */
    const aud_table *data;              /* rows [row_begin, row_end) are explained */
    size_t           row_begin, row_end;
    const aud_table *background;        /* background rows; NULL: sampled from data */
    size_t           background_rows;   /* seeded sample of at most this many (opts.seed) */
    aud_shap_opts    opts;              /* method (AUD_SHAP_AUTO is resolved), output, seed, ... */
} aud_explain_request;

/* The request bound and checked: what aud_shap_explain takes. */
typedef struct aud_explain_input {
    double       *X;            /* (row_end - row_begin) x features, model order */
    size_t        n_rows;
    double       *background;   /* n_background x features; NULL when the method uses none */
    size_t        n_background;
    aud_shap_opts opts;         /* the request's, method resolved, background set */
    int           by_position;  /* the model has no feature names: bound by position */
    int           background_unused;   /* a background was given, the method uses none */
} aud_explain_input;

/* Bind the model to the data (and background), refuse missing values the model cannot take,
 * fill the rows, sample the background and check the method (aud_shap_check): everything before
 * aud_shap_explain(&r, model, in->X, in->n_rows, &in->opts, err). in is zeroed first;
 * aud_explain_input_free it in any case. */
AUD_API int  aud_explain_prepare(aud_explain_input *in, const aud_explain_request *rq,
                                 aud_error *err);
AUD_API void aud_explain_input_free(aud_explain_input *in);

/* ---- fairness ------------------------------------------------------------------------------ */

/* A reference group: of an attribute ("sex" = "female") or of an intersection ("sex&race" =
 * "female&B": attributes in the order given, joined by '&'). */
typedef struct aud_reference {
    const char *attribute;
    const char *group;
} aud_reference;

/* Does name spell two or more of the n attributes, in their order, joined by '&' (the name the
 * fairness metrics give that intersection)? Attribute names may contain '&' themselves: every
 * split is tried. */
AUD_API int aud_is_intersection(const char *const *attrs, size_t n, const char *name);

/* Outcome coding (SPEC section 2, --label-positive / --prediction-positive): the values of a
 * label or prediction column that mean 1, as written in the file (">50K", "yes", "2"); every
 * other non-missing value is 0. Text is compared exactly (">50K" is not ">50K."); on a numeric
 * column the values are compared as numbers ("2" and "2.0" are the same). */
typedef struct aud_outcome_coding {
    const char *const *positive;   /* n_positive values */
    size_t             n_positive;
    char               note[600];  /* filled: what the coding did, for the user ("label
                                    * "income": 1 = ">50K." (3846 rows); 0 = "<=50K." (12435
                                    * rows)"), values never seen named */
} aud_outcome_coding;

/* How the groups of one sensitive attribute are made and ordered (SPEC section 2): bands of a
 * numeric column (--bins COL=e1,e2,... or COL=quantile:K), or an explicit order of its groups
 * (--order COL=a,b,c). */
typedef struct aud_grouping {
    const char         *attribute;
    const double       *edges;       /* n_edges increasing band edges: "<e1", "e1-e2", ...,
                                        ">=em" (bands closed on the left, as pandas.cut with
                                        right=False) */
    size_t              n_edges;
    int                 quantiles;   /* > 1: K bands at the K-quantiles of the column (numpy
                                        "linear"; edges that coincide merge) */
    const char *const  *order;       /* n_order groups first, in this order; the others follow
                                        in their natural order */
    size_t              n_order;
} aud_grouping;

/* Parse band text: "e1,e2,..." (increasing finite numbers) into *edges (the caller's, aud_free)
 * or "quantile:K" (K from 2 to 100) into *quantiles. AUD_E_USAGE on anything else. */
AUD_API int aud_parse_bins(const char *text, double **edges, size_t *n_edges, int *quantiles,
                           aud_error *err);

/* What `audit fairness` is asked: the outcome comes from exactly one of prediction (a column of
 * 0/1), score (a column compared with opts->threshold) and model (its output is the score). */
typedef struct aud_fairness_request {
    const aud_table     *data;
    const char *const   *sensitive;     /* n_sensitive column names */
    size_t               n_sensitive;
    const aud_reference *refs;          /* n_refs reference groups (may be NULL) */
    size_t               n_refs;
    const char          *label;         /* column of 0/1 labels (missing allowed), or NULL */
    const char          *prediction;
    const char          *score;
    const aud_model     *model;
    const char          *model_path;    /* names the model in messages */
    aud_outcome_coding  *label_coding;  /* values of the label meaning 1; NULL: a 0/1 column */
    aud_outcome_coding  *prediction_coding;
    const aud_grouping  *groups;        /* bands and orders of attributes (n_groups) */
    size_t               n_groups;
} aud_fairness_request;

/* Group fairness metrics of rq with options opts (docs/fairness.md). *out is the caller's
 * (aud_fair_result_free); *by_position as for aud_predict (may be NULL). */
AUD_API int aud_fairness(aud_fair_result **out, const aud_fairness_request *rq,
                         const aud_fair_opts *opts, int *by_position, aud_error *err);

/* aud_fairness, and with doc non-NULL also doc's "fairness" section (aud_fair_to_json) with what
 * drives each group's gap, the proxy screen (with a model) and the threshold trade-offs (with a
 * score or a model): SPEC section 7, docs/fairness.md. What `audit fairness` calls. */
AUD_API int aud_fairness_doc(aud_fair_result **out, cJSON *doc, const aud_fairness_request *rq,
                             const aud_fair_opts *opts, int *by_position, aud_error *err);

/* ---- drift --------------------------------------------------------------------------------- */

/* A per-column choice: method (AUD_DRIFT_AUTO: keep the default) and threshold (NaN: keep). */
typedef struct aud_drift_choice {
    const char       *column;
    aud_drift_method  method;
    double            threshold;
} aud_drift_choice;

/* Compare the n_columns columns (every column of ref when columns is NULL) between ref and cur
 * (docs/drift.md); each choice must name a compared column. *out is the caller's
 * (aud_drift_result_free). */
AUD_API int aud_drift(aud_drift_result **out, const aud_table *ref, const aud_table *cur,
                      const char *const *columns, size_t n_columns,
                      const aud_drift_choice *choices, size_t n_choices,
                      const aud_drift_opts *opts, aud_error *err);

/* The same with a reference table expanded from a saved profile (aud_refprof_table): refsums
 * from it (NULL: ref is data); the figures the profile cannot give exactly carry their bounds
 * (SPEC section 8). */
AUD_API int aud_drift_ref(aud_drift_result **out, const aud_table *ref,
                          const aud_drift_refsum *const *refsums, const aud_table *cur,
                          const char *const *columns, size_t n_columns,
                          const aud_drift_choice *choices, size_t n_choices,
                          const aud_drift_opts *opts, aud_error *err);

#endif
