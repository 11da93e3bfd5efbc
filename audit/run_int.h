/* run_int.h - state shared by the parts of `audit run` (run.c: flow and outputs;
 * run_sections.c: the computed sections). */
#ifndef AUD_RUN_INT_H
#define AUD_RUN_INT_H

#include "audit/bind_int.h"
#include "models/model_int.h"
#include "audit/run.h"
#include "audit/spec_int.h"
#include "core/table.h"
#include <cjson/cJSON.h>

typedef struct run_ctx {
    const aud_run_opts *opts;
    aud_spec   *spec;
    aud_error  *err;
    int         threads;
    aud_table  *data;
    aud_table  *ref;          /* NULL without a reference */
    aud_model  *model;        /* NULL without a model */
    aud_binding bind;         /* model features -> data columns (bind.cols NULL: no model) */
    aud_binding bind_ref;     /* model features -> reference columns (NULL cols: none) */
    double     *label;        /* n_rows, 0/1 or NaN; NULL without a label */
    double     *score;        /* model output or the score column (probability of class 1 for
                                 binary classifiers); NULL when absent */
    double     *score_ref;    /* model output on the reference */
    double     *prediction;   /* 0/1 predictions column; NULL when absent */
    int         score_is_probability;
    long        id_col;       /* explain.id column of data (explained rows' "id"); -1 none */
    cJSON      *doc;          /* the results document */
    cJSON      *skipped;      /* [{section, reason}] */
    double      t_start;
} run_ctx;

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

/* Seconds since an arbitrary origin (monotonic). */
double aud_run_clock(void);

#endif
