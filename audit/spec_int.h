/* spec.h - the audit spec file of `audit run` (SPEC section 4): strict JSON, unknown keys and wrong
 * types are errors naming the key, relative paths resolved against the spec file's folder. */
#ifndef AUD_SPEC_H
#define AUD_SPEC_H

#include "audit/bind_int.h"
#include "core/aud.h"
#include <cjson/cJSON.h>

typedef struct aud_check_spec {
    char  *metric;        /* e.g. "disparate_impact", "drift_share", "auc" */
    int    has_min, has_max;
    double min, max;
    char  *attribute;     /* optional filters; NULL = any */
    char  *group;
    char  *column;
} aud_check_spec;

typedef struct aud_spec {
    char  *path;           /* the spec file */
    char  *model;          /* resolved paths; NULL when absent */
    char  *model_format;   /* NULL = detected; else xgboost-json, lightgbm-text, ... */
    struct {               /* "global": permutation importance, PDP and ICE (or false) */
        int   enabled;     /* default on */
        long  repeats;     /* 5 */
        long  rows;        /* 1000, a seeded sample */
        long  top;         /* features with PDP/ICE curves: 4 */
        long  grid;        /* grid resolution: 20 */
        long  ice_rows;    /* ICE curves kept: 20 */
    } global;
    struct {               /* "model": {"command": [...], ...}: a model behind a command */
        char  **argv;      /* NULL-terminated; NULL when the model is a file or absent */
        char  **features;  /* NULL-terminated; NULL = every data column */
        size_t  n_features;
        long    batch_rows;    /* 0 = the default */
        double  timeout_s;     /* 0 = the default */
        long    max_rows;      /* 0 = unlimited */
        int     session_protocol;   /* "protocol": "session" (default "batch") */
        char   *dir;           /* the spec file's folder: the program runs there */
    } model_cmd;
    char  *model_categories;   /* category lists of categorical features (resolved path) */
    char **na;             /* missing-value tokens, NULL-terminated; NULL = the CSV defaults */
    size_t n_na;
    char  *data;
    char  *reference;
    char  *label;          /* column names; NULL when absent */
    char  *prediction;     /* column holding 0/1 predictions (instead of a model) */
    char  *score;          /* column holding scores (instead of a model) */
    int    favorable;      /* 1 (default) or 0 */
    double threshold;      /* default 0.5 */
    char **sensitive;
    size_t n_sensitive;
    int    intersections;  /* default true when 2+ sensitive attributes */
    char  *compliance;     /* "nyc-ll144" or NULL */
    char  *ll144_sex;      /* its attributes; NULL = the first two of "sensitive" */
    char  *ll144_race;
    char **reference_groups;   /* "fairness": {"reference": {"race": "A"}}: pairs attr, value */
    size_t n_reference_groups;
    double min_group_share;    /* default 0.02 */
    long   bootstrap;          /* default 1000, 0 = off */
    long   max_intersection;   /* "fairness.max_intersection": largest intersection; 0 = all */
    struct {
        char *method;      /* "auto" */
        char *output;      /* "raw" */
        long  rows;        /* rows to explain, default 2000 */
        long  background;  /* background rows, default 100 */
        char *id;          /* data column identifying a row (shown with the waterfalls); NULL */
        int   background_given;   /* "background" is in the spec (a method without one says
                                   * in the results that it did not use it) */
        long *show_rows;   /* 0-based data rows always explained and shown as waterfalls */
        size_t n_show_rows;
        int   enabled;     /* false with "explain": false */
        char **nominal;    /* "nominal": model features that are codes of categories (drawn
                            * as categories; checked against the model's features at run) */
        const cJSON **nominal_labels;  /* per nominal feature: its labels in code order (an
                                        * array inside raw), or NULL */
        size_t n_nominal;
        int   rows_file;   /* "rows_file": 1 the explained rows go to outputs.explained_rows
                            * (a JSON Lines file beside results.json), 0 inside results.json,
                            * -1 ("auto", default) the file above AUD_RUN_ROWS_INLINE_MAX rows */
    } explain;
    struct {
        char  *method;     /* NULL = per-column automatic choice */
        double threshold;  /* NaN = the method's default */
        char  *psi_binning;/* "quantile" */
        double share;      /* dataset drift when share of drifted columns >= this (0.5) */
        char **columns;    /* NULL = every common column except label/prediction/score */
        size_t n_columns;
        /* "overrides": {"COL": {"method": M, "threshold": T}}: per-column primary test */
        char **override_cols;
        char **override_methods;     /* NULL entry = the column's automatic choice */
        double *override_thresholds; /* NaN = the method's default */
        size_t n_overrides;
    } drift;
    aud_check_spec *checks;
    size_t n_checks;
    struct {
        char *dir;         /* resolved; default: the spec file's folder */
        char *json, *pdf, *xlsx, *log;   /* file names inside dir; NULL = not written */
        char *explained_rows;  /* "explained_rows.jsonl": written when explain.rows_file says */
    } outputs;
    struct {
        char *title, *organization, *prepared_by, *approved_by, *data_source, *date;
        char *favorable_outcome;   /* words for the favourable outcome ("approved"); NULL */
        long  max_groups;  /* groups shown per table/chart in the PDF; -1 = the report's default */
    } report;
    struct {               /* "model_card": free text, each NULL when absent */
        char *owner, *intended_use, *label_meaning, *training_data, *training_period,
            *limitations, *contact;
    } card;
    char  *history;        /* SQLite run history (SPEC 8), resolved; NULL = none */
    unsigned long seed;    /* default 42 */
    int    threads;        /* 0 = all cores */
    char   delimiter;
    struct {               /* dialect of the data files (SPEC section 2), as the CLI options */
        int    header;     /* "header": default true; false = columns col1..colN */
        char **names;      /* "names": NULL-terminated; the files then have no header row */
        size_t n_names;
        long   skip_rows;  /* "skip_rows": default 0 */
        char   comment;    /* "comment": one character, '\0' = none */
        int    keep_spaces;/* "keep_spaces": default false */
    } csv;
    char **label_positive;     /* "label_positive": values meaning 1 (NULL: 0/1 column) */
    size_t n_label_positive;
    char **prediction_positive;/* "prediction_positive" */
    size_t n_prediction_positive;
    aud_grouping *groupings;  /* "bins" and "order" of sensitive attributes; every
                                    * pointer in them is owned */
    size_t n_groupings;
    cJSON *raw;            /* the parsed spec document, kept for provenance */
} aud_spec;

/* Read and validate a spec file. On AUD_OK *out is the caller's (aud_spec_free). */
int aud_spec_load(aud_spec **out, const char *path, aud_error *err);
/* Same from a buffer with text[len] == '\0'; `path` names errors and is the base of relative paths
 * (nothing is read from it). */
int aud_spec_parse(aud_spec **out, const char *text, size_t len, const char *path, aud_error *err);
void aud_spec_free(aud_spec *s);


#endif
