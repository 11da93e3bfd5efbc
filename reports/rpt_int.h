/* rpt_int.h - the results-walking layer shared by the PDF and XLSX writers: typed, lenient
 * accessors over a validated results document, display formats, labels and definitions. */
#ifndef AUD_RPT_INT_H
#define AUD_RPT_INT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "aud.h"

/* Accessors (case-sensitive keys). Absent or wrongly typed -> the stated fallback. */
const cJSON *rpt_obj(const cJSON *o, const char *key);          /* object or NULL */
const cJSON *rpt_arr(const cJSON *o, const char *key);          /* array or NULL */
const char *rpt_str(const cJSON *o, const char *key, const char *dflt);
double rpt_num(const cJSON *o, const char *key);                /* NaN when absent or null */
double rpt_item_num(const cJSON *item);                         /* NaN unless a number */
int rpt_bool(const cJSON *o, const char *key);                  /* 1, 0, or -1 when absent */
size_t rpt_count(const cJSON *arr);                             /* 0 for NULL */

/* The reason a section was not run ("skipped": [{"section","reason"}]), or NULL. */
const char *rpt_skip_reason(const cJSON *doc, const char *section);
/* A metric's "<key>_reason" beside a null value, or NULL. */
const char *rpt_null_reason(const cJSON *o, const char *key);

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
/* AUD_OK (kind may be RPT_DIST_NONE) or AUD_E_NOMEM. Free with rpt_dist_free. */
int rpt_dist_get(const cJSON *col, rpt_dist *out);
void rpt_dist_free(rpt_dist *d);

/* Name of the feature behind entry j of an explained row's "phi" / "value" arrays: those follow
 * explanations.feature_order (model order) when present, else the order of "features". */
const char *rpt_row_feature_name(const cJSON *exp, size_t j);
/* Number of entries in each explained row's arrays. */
size_t rpt_row_width(const cJSON *exp);

/* An explained row's model output in the space of its SHAP values ("output", else
 * "prediction"), and why it was selected for a waterfall ("selected" or "why"; NULL). */
double rpt_row_output(const cJSON *row);
const char *rpt_row_why(const cJSON *row);

/* Display formats. Text goes into buf (>= RPT_NUMBUF); "n/a" for NaN. */
#define RPT_NUMBUF 48
typedef enum rpt_style {
    RPT_F3,       /* fixed, 3 decimals: rates, ratios, statistics */
    RPT_F4,       /* fixed, 4 decimals: SHAP values */
    RPT_INT,      /* whole number */
    RPT_PCT1,     /* percent with 1 decimal: shares */
    RPT_P,        /* p-value: 4 significant digits, "< 1e-300" style never rounds to 0 */
    RPT_G         /* 6 significant digits: arbitrary magnitudes (feature values, edges) */
} rpt_style;
const char *rpt_fmt(double v, rpt_style style, char *buf);
/* "[lo, hi]" of a 2-element array, 3 decimals; "n/a" when absent. buf >= RPT_CIBUF. */
#define RPT_CIBUF 104
const char *rpt_fmt_ci(const cJSON *ci, char *buf);
/* A cJSON scalar as display text (string as is, number RPT_G, null "missing"). */
const char *rpt_fmt_value(const cJSON *v, char *buf, size_t n);

/* Human label of a metric key ("disparate_impact" -> "Disparate impact"); the key itself
 * when unknown. */
const char *rpt_metric_label(const char *key);
/* One-sentence definition of a metric or test key, or NULL. */
const char *rpt_metric_definition(const char *key);

/* Per-group rate keys shown in fairness tables, in order; NULL-terminated. */
extern const char *const rpt_group_rates[];
/* Summary metric keys of an attribute, in order; NULL-terminated. */
extern const char *const rpt_summary_metrics[];

/* The audit date (YYYY-MM-DD) from provenance.created, "" when absent. */
void rpt_audit_date(const cJSON *doc, char *buf, size_t n);

/* Snap a [lo, hi] data range to "nice" axis ticks: *step and the first/last tick. */
void rpt_nice_range(double lo, double hi, int max_ticks, double *t0, double *t1, double *step);

#endif
