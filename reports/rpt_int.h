/* rpt_int.h - the results-walking layer shared by the PDF and XLSX writers: typed, lenient
 * accessors over a validated results document, display formats, labels and definitions. */
#ifndef AUD_RPT_INT_H
#define AUD_RPT_INT_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "core/aud.h"

/* Accessors (case-sensitive keys). Absent or wrongly typed -> the stated fallback. */
const cJSON *aud_rpt_obj(const cJSON *o, const char *key);          /* object or NULL */
const cJSON *aud_rpt_arr(const cJSON *o, const char *key);          /* array or NULL */
const char *aud_rpt_str(const cJSON *o, const char *key, const char *dflt);
double aud_rpt_num(const cJSON *o, const char *key);                /* NaN when absent or null */
double aud_rpt_item_num(const cJSON *item);                         /* NaN unless a number */
int aud_rpt_bool(const cJSON *o, const char *key);                  /* 1, 0, or -1 when absent */
size_t aud_rpt_count(const cJSON *arr);                             /* 0 for NULL */

/* The reason a section was not run ("skipped": [{"section","reason"}]), or NULL. */
const char *aud_rpt_skip_reason(const cJSON *doc, const char *section);
/* A metric's "<key>_reason" beside a null value, or NULL. */
const char *aud_rpt_null_reason(const cJSON *o, const char *key);

/* The distribution of a drift column to plot, from whichever shape the results hold:
 * "histogram", "js_bins" or "psi_bins" with edges (numeric bins), the same with "values"
 * (per-value bins), or "categories" as [{"value","reference","current"}] or
 * {"levels","reference","current"}. */
enum { RPT_DIST_NONE, RPT_DIST_BINS, RPT_DIST_LEVELS };
typedef struct rpt_dist {
    int kind;
    size_t n;                 /* bins or levels */
    double *edges;            /* RPT_DIST_BINS: n + 1 */
    const cJSON **labels;     /* RPT_DIST_LEVELS: n scalar labels */
    double *ref, *cur;        /* n counts each */
    double ref_total, cur_total;
} rpt_dist;
/* AUD_OK (kind may be RPT_DIST_NONE) or AUD_E_NOMEM. Free with aud_rpt_dist_free. */
int aud_rpt_dist_get(const cJSON *col, rpt_dist *out);
void aud_rpt_dist_free(rpt_dist *d);

/* Name of the feature behind entry j of an explained row's "phi" / "value" arrays: those follow
 * explanations.feature_order (model order) when present, else the order of "features". */
const char *aud_rpt_row_feature_name(const cJSON *exp, size_t j);
/* Value v of feature j of an explained row as text: a nominal feature's category label (its
 * "categories" entry for the code), else as aud_rpt_fmt_value. */
const char *aud_rpt_fmt_feature_value(const cJSON *exp, size_t j, const cJSON *v, char *buf,
                                      size_t n);
/* Number of entries in each explained row's arrays. */
size_t aud_rpt_row_width(const cJSON *exp);

/* Check one explained row (as explanations.explained_rows[i]: "row", "phi" and "value" of
 * n_features entries each, ...) read from line `line` of file `name`. AUD_OK or AUD_E_SCHEMA
 * with err->file = name, err->line = line and the field ("phi"). */
int aud_rpt_validate_row(const cJSON *row, size_t n_features, const char *name, long line,
                         aud_error *err);

/* Reading an explained-rows file (explanations.explained_rows_file, a JSON-lines file): one
 * line at a time, each parsed and checked, so memory holds one row whatever the file's size. */
typedef struct rpt_rows {
    FILE *f;
    const char *path;          /* as given to aud_rpt_rows_open (borrowed) */
    char *line;                /* getline's buffer */
    size_t cap;
    long lineno;               /* lines read so far */
    double rows;               /* explained_rows_file.rows */
    size_t n_features;
} rpt_rows;
/* Open the file at path after checking its size against explained_rows_file.bytes of exp
 * (the explanations object). AUD_OK, or AUD_E_IO naming path; on error nothing is open. */
int aud_rpt_rows_open(rpt_rows *r, const cJSON *exp, const char *path, aud_error *err);
/* The next row: on AUD_OK *out is the parsed, checked row object (cJSON_Delete), or NULL after
 * the file's `rows` lines. Errors name the file and line: AUD_E_PARSE (not JSON),
 * AUD_E_SCHEMA (aud_rpt_validate_row; fewer or more lines than `rows`), AUD_E_IO, AUD_E_NOMEM. */
int aud_rpt_rows_next(rpt_rows *r, cJSON **out, aud_error *err);
void aud_rpt_rows_close(rpt_rows *r);     /* a zeroed or closed reader: no-op */

/* The PDF's sentence on the explained-rows file: "Attributions of all 2,500,000 explained rows
 * are in explained_rows.jsonl beside results.json (SHA-256 <hex>)."; "" when the rows are
 * inline (no explanations.explained_rows_file). */
void aud_rpt_rows_file_sentence(const cJSON *exp, char *buf, size_t n);

/* A whole number with thousands separators ("2,500,000"); buf >= RPT_NUMBUF. */
const char *aud_rpt_fmt_count(double v, char *buf);

/* An explained row's model output in the space of its SHAP values ("output", else
 * "prediction"), and why it was selected for a waterfall ("selected" or "why"; NULL). */
double aud_rpt_row_output(const cJSON *row);
const char *aud_rpt_row_why(const cJSON *row);

/* The y-axis titles of the charts: of a partial dependence / ICE entry pd of "global" (what the
 * model output is there: "predicted P(default = 1)", a class's probability, or the model's
 * output), and of a SHAP dependence plot ("SHAP value (" explanations.units ")"). */
void aud_rpt_pd_axis(const cJSON *doc, const cJSON *pd, char *buf, size_t n);
void aud_rpt_shap_axis(const cJSON *doc, char *buf, size_t n);

/* The command that wrote the document, for the provenance tables: "audit run", or for a merged
 * document (a "merge" block) "audit merge of 3 partials (audit run --shard)"; "" when not
 * recorded. */
void aud_rpt_command(const cJSON *doc, char *buf, size_t n);
/* A merged run whose partials binned the model scores (results.json merge.score_bins): what
 * that means for the score-based figures, with the overall AUC and Brier bounds; "" else. */
void aud_rpt_score_bins(const cJSON *doc, char *buf, size_t n);

/* Compliance views (rpt_compliance.c), from either shape results.json may carry. */
typedef struct rpt_ll144 {
    const cJSON *tables;       /* one table per attribute and the intersection; NULL: none */
    const char *rate_key;      /* "selection_rate" / "scoring_rate"; NULL: rows use "rate" */
} rpt_ll144;
void aud_rpt_ll144_get(const cJSON *fairness, rpt_ll144 *out);
const char *aud_rpt_ll144_table_name(const cJSON *table);
double aud_rpt_ll144_unknown(const cJSON *table);          /* rows in an unknown category */
const cJSON *aud_rpt_ll144_rows(const cJSON *table);       /* the categories */
const char *aud_rpt_ll144_row_name(const cJSON *row);
int aud_rpt_ll144_scoring(const rpt_ll144 *v, const cJSON *table);
double aud_rpt_ll144_row_rate(const rpt_ll144 *v, const cJSON *row);

typedef struct rpt_ff_row {
    const char *attribute, *group, *highest;
    double count, impact_ratio, highest_count, fisher_p;
} rpt_ff_row;
/* Four-fifths rows: compliance["four-fifths"], else every group flagged below_four_fifths.
 * *out (aud_free) may be NULL when there are none. AUD_OK or AUD_E_NOMEM. */
int aud_rpt_four_fifths(const cJSON *fairness, rpt_ff_row **out, size_t *n);

/* Display formats. Text goes into buf (>= RPT_NUMBUF); "n/a" for NaN. */
#define RPT_NUMBUF 48
typedef enum rpt_style {
    RPT_F3,       /* fixed, 3 decimals: rates, ratios, statistics */
    RPT_F4,       /* fixed, 4 decimals: SHAP values */
    RPT_INT,      /* whole number */
    RPT_PCT1,     /* percent with 1 decimal: shares */
    RPT_P,        /* p-value: 4 significant digits, "< 1e-300" style never rounds to 0 */
    RPT_G,        /* 6 significant digits: arbitrary magnitudes (feature values, edges) */
    RPT_AUTO      /* RPT_F3, but 3 significant digits (%.3g) when 0 < |v| < 0.001 */
} rpt_style;
const char *aud_rpt_fmt(double v, rpt_style style, char *buf);
/* "[lo, hi]" of a 2-element array (RPT_AUTO); "n/a" when absent. buf >= RPT_CIBUF. */
#define RPT_CIBUF 104
const char *aud_rpt_fmt_ci(const cJSON *ci, char *buf);
/* A cJSON scalar as display text (string as is, number RPT_G, null "missing"). */
const char *aud_rpt_fmt_value(const cJSON *v, char *buf, size_t n);

/* Human label of a metric key ("disparate_impact" -> "Disparate impact"); the key itself
 * when unknown. */
const char *aud_rpt_metric_label(const char *key);
/* A check on the computation rather than the model (the SHAP additivity error): the reports
 * list these in their own table, after the policy checks on the model (issue 14 item 2). */
int aud_rpt_check_is_technical(const cJSON *check);
/* One-sentence definition of a metric or test key, or NULL. */
const char *aud_rpt_metric_definition(const char *key);

/* An attribute summary's "all_groups" object (the summary metrics over every group, small ones
 * included: the Fairlearn / AIF360 definitions) when the reports show it, i.e. when a group was
 * excluded from the headline figures; NULL otherwise (then the two are equal) or when absent. */
const cJSON *aud_rpt_all_groups(const cJSON *summary);

/* Per-group rate keys shown in fairness tables, in order; NULL-terminated. */
extern const char *const aud_rpt_group_rates[];
/* Summary metric keys of an attribute, in order; NULL-terminated. */
extern const char *const aud_rpt_summary_metrics[];

/* Length of the valid UTF-8 prefix of s[0..n) (n when all of it is valid). */
size_t aud_rpt_utf8_valid(const char *s, size_t n);
/* NULL when s is valid UTF-8; else a copy (aud_free) with every invalid byte replaced by
 * U+FFFD. *nomem is set when that copy could not be made. */
char *aud_rpt_utf8_repair(const char *s, int *nomem);

/* Position in the "trends" runs list of the run a trend value belongs to (its "run" id; null =
 * the current run), or -1. */
int aud_rpt_trend_run_index(const cJSON *runs, const cJSON *value);
/* Drop an incomplete UTF-8 sequence at the end of s (after a cut by snprintf). */
void aud_rpt_utf8_fix_tail(char *s);

/* Copy src into dst (n bytes), cut at a UTF-8 character boundary when too long. */
void aud_rpt_copy_utf8(char *dst, size_t n, const char *src);

/* The audit date (YYYY-MM-DD) from provenance.created, "" when absent. */
void aud_rpt_audit_date(const cJSON *doc, char *buf, size_t n);

/* What to print for a provenance input's hash: "sha256", else its "sha256_reason" (an input
 * read from standard input), else "not recorded". */
const char *aud_rpt_input_sha256(const cJSON *in);
/* The provenance "model" object when no "inputs" entry has role "model" (documents that list the
 * model only there); else NULL, as the inputs already show it. */
const cJSON *aud_rpt_model_not_in_inputs(const cJSON *prov);

/* Snap a [lo, hi] data range to "nice" axis ticks: *step and the first/last tick. */
void aud_rpt_nice_range(double lo, double hi, int max_ticks, double *t0, double *t1, double *step);

#endif
