/* run_sections.c - the computed sections of `audit run`: predictions, explanations (with
 * attribution drift), fairness, drift (with prediction drift) and performance. Each section is
 * skipped, with the reason recorded in "skipped", when its inputs are absent. */
#include "audit/run_int.h"
#include "audit/shard_int.h"
#include "audit/fair_why_int.h"
#include "metrics/drift.h"
#include "metrics/fairness.h"
#include "core/io.h"
#include "metrics/performance_int.h"
#include "models/predict_int.h"
#include "metrics/profile.h"
#include "explainers/shap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- profile of the audited data (types, missing counts, statistics) ----------------------- */

int aud_run_profile(run_ctx *c)
{
    aud_profile *p = NULL;
    int rc = aud_profile_compute(&p, c->data, c->threads, c->err);
    if (rc == AUD_OK)
        rc = aud_profile_to_json(p, c->doc, c->err);
    if (rc == AUD_OK && c->mg_sum != NULL)   /* merged from summaries: audit/merge_bounds.c */
        rc = aud_merge_profile_bounds(c);
    aud_profile_free(p);
    return rc;
}

int aud_run_predictions(run_ctx *c)
{
    const aud_spec *s = c->spec;
    int rc = AUD_OK;
    if (s->label != NULL && aud_run_class_label(c) && s->n_label_positive == 0)
        rc = aud_bind_class_label(c->data, s->label, c->model->n_outputs, &c->label,
                                  c->err);   /* class indices (the global views' score) */
    else if (s->label != NULL)
        rc = aud_bind_column_on(c->data, s->label, AUD_BIND_LABEL,
                                &(aud_outcome_coding){.positive =
                                                          (const char *const *)s->label_positive,
                                                      .n_positive = s->n_label_positive},
                                c->threads, &c->label, c->err);
    if (rc != AUD_OK)
        return rc;
    if (s->prediction != NULL) {
        rc = aud_bind_column_on(c->data, s->prediction, AUD_BIND_PREDICTION,
                                &(aud_outcome_coding){.positive = (const char *const *)
                                                          s->prediction_positive,
                                                      .n_positive = s->n_prediction_positive},
                                c->threads, &c->prediction, c->err);
    } else if (s->score != NULL) {
        rc = aud_bind_column_on(c->data, s->score, AUD_BIND_SCORE, NULL, c->threads, &c->score,
                                c->err);
        c->score_is_probability = rc == AUD_OK;
        for (size_t i = 0; rc == AUD_OK && i < c->data->n_rows; i++)
            c->score_is_probability &= c->score[i] >= 0.0 && c->score[i] <= 1.0;
    } else if (c->model != NULL && c->model->n_outputs == 1) {
        if (!c->merged)   /* merged: the scores came with the partials */
            rc = aud_bind_model_output(&c->bind, c->threads, "the predictions", &c->score,
                                       c->err);
        if (rc == AUD_OK && c->bind_ref.cols != NULL)
            rc = aud_bind_model_output(&c->bind_ref, c->threads, "the predictions",
                                       &c->score_ref, c->err);
        c->score_is_probability = c->model->is_classifier;
        /* a program's answers are scores like a score column: probabilities when in [0, 1] */
        if (rc == AUD_OK && c->model->kind == AUD_MODEL_COMMAND) {
            c->score_is_probability = 1;
            for (size_t i = 0; i < c->data->n_rows; i++)
                c->score_is_probability &= c->score[i] >= 0.0 && c->score[i] <= 1.0;
        }
    }
    return rc;
}

/* ---- explanations ------------------------------------------------------------------------- */

/* Append a number to a JSON array; -1 on no memory (the number is freed). */
static int push_num(cJSON *arr, double v)
{
    cJSON *n = aud_json_num(v);
    if (n == NULL || !cJSON_AddItemToArray(arr, n)) {
        cJSON_Delete(n);
        return -1;
    }
    return 0;
}

/* "explain.nominal": the spec's entry of model feature j, or -1. */
static long spec_nominal(const run_ctx *c, size_t j)
{
    const char *name = c->model->feature_names != NULL ? c->model->feature_names[j] : NULL;
    for (size_t k = 0; name != NULL && k < c->spec->explain.n_nominal; k++)
        if (strcmp(c->spec->explain.nominal[k], name) == 0)
            return (long)k;
    return -1;
}

/* Every "explain.nominal" feature is a model feature (else a located error). */
static int check_nominal(run_ctx *c)
{
    const aud_model *m = c->model;
    for (size_t k = 0; k < c->spec->explain.n_nominal; k++) {
        const char *f = c->spec->explain.nominal[k];
        int found = 0;
        for (size_t j = 0; m->feature_names != NULL && j < m->n_features; j++)
            found |= strcmp(m->feature_names[j], f) == 0;
        if (found)
            continue;
        char list[400] = "";
        size_t len = 0;
        for (size_t j = 0; m->feature_names != NULL && j < m->n_features; j++)
            if (aud_error_list_add(list, sizeof list, &len, m->feature_names[j]))
                break;
        aud_error_set(c->err, AUD_E_SCHEMA, c->spec->path, 0, 0,
                      "\"%s\" is not a feature of the model; its features: %s", f,
                      list[0] ? list : "(unnamed)");
        return aud_error_field(c->err, "explain.nominal");
    }
    return AUD_OK;
}

/* A nominal feature (its values are codes of categories: the spec's "explain.nominal", or a
 * categorical feature of the model) gets "nominal": true, "nominal_source" and, when labels are
 * known, "categories": [{"code", "label"}] (the spec's labels, else the model's mapping when
 * its codes are distinct). 0, or -1 on no memory. */
static int add_nominal(const run_ctx *c, cJSON *o, size_t j)
{
    const aud_model *m = c->model;
    long k = spec_nominal(c, j);
    const aud_prep *pp = m->prep != NULL && m->prep[j].kind == AUD_PREP_CATEGORICAL ? &m->prep[j]
                                                                                  : NULL;
    int model_says = (m->cat_feature != NULL && m->cat_feature[j]) || pp != NULL;
    if (k < 0 && !model_says)
        return 0;
    if (cJSON_AddTrueToObject(o, "nominal") == NULL ||
        cJSON_AddStringToObject(o, "nominal_source", k >= 0 ? "spec" : "model") == NULL)
        return -1;
    const cJSON *labels = k >= 0 ? c->spec->explain.nominal_labels != NULL
                                       ? c->spec->explain.nominal_labels[k] : NULL
                                 : NULL;
    size_t n = labels != NULL ? (size_t)cJSON_GetArraySize(labels) : pp != NULL ? pp->n_cats : 0;
    for (size_t a = 0; labels == NULL && pp != NULL && a < n; a++)   /* codes must be distinct */
        for (size_t b = 0; b < a; b++)
            if (pp->values[a] == pp->values[b])
                n = 0;
    if (n == 0)
        return 0;
    cJSON *cats = cJSON_AddArrayToObject(o, "categories");
    const cJSON *it = labels != NULL ? labels->child : NULL;
    for (size_t a = 0; cats != NULL && a < n; a++) {
        char num[32];
        const char *label = it != NULL ? it->valuestring : pp->cat_text != NULL ? pp->cat_text[a]
                                                                             : num;
        if (it == NULL && pp->cat_text == NULL)
            snprintf(num, sizeof num, "%.15g", pp->cat_num[a]);
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(cats, e) ||
            aud_json_add_num(e, "code", it != NULL ? (double)a : pp->values[a]) != 0 ||
            cJSON_AddStringToObject(e, "label", label) == NULL)
            return -1;
        it = it != NULL ? it->next : NULL;
    }
    return cats != NULL ? 0 : -1;
}

/* Feature j's entry; px, pphi: the plots' points (npts rows of the explained rows evenly
 * spread, aud_run_point_row: their values and attributions, n_features each). */
static int add_feature_json(run_ctx *c, cJSON *arr, const aud_shap_summary *sm, size_t n_outputs,
                            const double *px, const double *pphi, size_t npts, size_t j)
{
    const aud_model *m = c->model;
    size_t nf = m->n_features;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    double mean = 0.0;
    for (size_t k = 0; k < sm->n_outputs; k++)
        mean += sm->mean[k * nf + j];
    if (cJSON_AddStringToObject(o, "name", m->feature_names ? m->feature_names[j] : "") == NULL ||
        aud_json_add_num(o, "mean_abs", sm->importance[j]) != 0 ||
        aud_json_add_num(o, "mean", mean) != 0 ||
        aud_json_add_num(o, "rank", (double)sm->rank[j]) != 0 || add_nominal(c, o, j) != 0)
        return -1;
    if (n_outputs != 1)
        return 0;   /* value/phi pairs only for single-output models */
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    if (pts == NULL)
        return -1;
    for (size_t k = 0; k < npts; k++) {
        cJSON *p = cJSON_CreateArray();
        if (p == NULL || !cJSON_AddItemToArray(pts, p)) {
            cJSON_Delete(p);
            return -1;
        }
        if (push_num(p, px[k * nf + j]) != 0 || push_num(p, pphi[k * nf + j]) != 0)
            return -1;
    }
    return 0;
}

int aud_run_link_probability(const run_ctx *c, const aud_shap_result *r)
{
    return r->output == AUD_SHAP_OUTPUT_RAW && aud_model_is_binary(c->model);
}

double aud_run_sigmoid(const run_ctx *c, double margin)
{
    return 1.0 / (1.0 + exp(-c->model->sigmoid_scale * margin));
}

/* The unit of the SHAP values, base value and f(x) (issue 14 item 1), into buf. */
static void shap_units(const run_ctx *c, const aud_shap_result *r, char *buf, size_t size)
{
    const char *label = c->spec->label != NULL ? c->spec->label : "the label";
    const aud_model *m = c->model;
    if (r->output == AUD_SHAP_OUTPUT_PROBABILITY)
        snprintf(buf, size, m->n_outputs > 1 ? "probability of each class (%s)"
                                             : "probability of label 1 (%s)", label);
    else if (aud_model_is_binary(m) && m->sigmoid_scale == 1.0)
        snprintf(buf, size, "log-odds of label 1 (%s)", label);
    else if (aud_model_is_binary(m))
        snprintf(buf, size, "margin of label 1 (%s): log-odds / %g", label, m->sigmoid_scale);
    else if (m->link == AUD_LINK_SOFTMAX || m->link == AUD_LINK_ARGMAX)
        snprintf(buf, size, "margin of each class (%s), before the softmax", label);
    else if (m->link == AUD_LINK_EXP)
        snprintf(buf, size, "log of the predicted mean (%s)", label);
    else
        snprintf(buf, size, "model output (%s)", label);
}

/* "A row is favourable (approved) when P(default = 1) < 0.5." when a model's probability
 * decides (no prediction or score column; a model behind a command too); "" otherwise. */
static void decision_rule(const run_ctx *c, char *buf, size_t size)
{
    const aud_spec *s = c->spec;
    buf[0] = '\0';
    if (c->model->n_outputs != 1 || !c->score_is_probability || s->prediction != NULL ||
        s->score != NULL)
        return;
    char num[32], words[160] = "";
    if (s->report.favorable_outcome != NULL)
        snprintf(words, sizeof words, " (%s)", s->report.favorable_outcome);
    snprintf(buf, size, "A row is favourable%s when P(%s = 1) %s %s.", words,
             s->label != NULL ? s->label : "label", s->favorable ? ">=" : "<",
             aud_fmt_double(s->threshold, num));
}

/* Attribution drift: mean |phi| per feature on a reference sample versus the current sample
 * (the drift module writes the comparison). */
static int add_attribution_drift(run_ctx *c, cJSON *ex, const aud_shap_summary *cur,
                                 const aud_shap_opts *so)
{
    double *X = NULL;
    size_t n = 0;
    aud_shap_result *r = NULL;
    aud_shap_summary *ref = NULL;
    int rc = aud_bind_sample_rows(&c->bind_ref, (size_t)c->spec->explain.rows,
                                  c->spec->seed + 1, &X, &n, c->err);
    if (rc == AUD_OK)
        rc = aud_shap_explain(&r, c->model, X, n, so, c->err);
    if (rc == AUD_OK)
        rc = aud_shap_summarize(&ref, r, c->err);
    if (rc != AUD_OK)
        goto done;
    rc = aud_drift_attribution_json(ex, "attribution_drift",
                                    (const char *const *)c->model->feature_names,
                                    ref->importance, cur->importance, c->model->n_features,
                                    c->err);
    if (rc == AUD_OK &&
        aud_json_add_num(cJSON_GetObjectItemCaseSensitive(ex, "attribution_drift"),
                         "reference_rows", (double)n) != 0)
        rc = aud_error_nomem(c->err);
done:
    aud_shap_summary_free(ref);
    aud_shap_result_free(r);
    aud_free(X);
    return rc;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The explained rows: a seeded sample of explain.rows data rows plus explain.show_rows, in
 * increasing row order, as a model matrix. The sample is drawn from the file's rows; a shard
 * (c->shard_rows_total > 0) keeps those of its block, so that the shards' rows together are the
 * single run's (*rows: row numbers in the file). */
static int explained_matrix(run_ctx *c, double **X, size_t **rows, size_t *n_out)
{
    const aud_spec *s = c->spec;
    size_t n = c->shard_rows_total > 0 ? c->shard_rows_total : c->data->n_rows;
    size_t r0 = c->shard_row0, n_local = c->data->n_rows;
    size_t k = (size_t)s->explain.rows < n ? (size_t)s->explain.rows : n;
    size_t nf = c->model->n_features, cap = k + s->explain.n_show_rows;
    size_t *idx = aud_malloc((cap ? cap : 1) * sizeof *idx);
    if (idx == NULL)
        return aud_error_nomem(c->err);
    size_t m = aud_shap_sample_rows(n, k, s->seed, idx);
    for (size_t j = 0; j < s->explain.n_show_rows; j++)
        idx[m++] = (size_t)s->explain.show_rows[j];
    qsort(idx, m, sizeof *idx, cmp_size);
    size_t u = 0;
    for (size_t j = 0; j < m; j++) {
        if ((u == 0 || idx[j] != idx[u - 1]) && idx[j] >= r0 && idx[j] < r0 + n_local)
            idx[u++] = idx[j];
    }
    double *x = aud_malloc((u ? u : 1) * (nf ? nf : 1) * sizeof *x);
    if (x == NULL) {
        aud_free(idx);
        return aud_error_nomem(c->err);
    }
    for (size_t j = 0; j < u; j++)
        aud_bind_fill_rows(&c->bind, idx[j] - r0, idx[j] - r0 + 1, x + j * nf);
    *X = x;
    *rows = idx;
    *n_out = u;
    return AUD_OK;
}

/* Single-output models: the order of the features in explained_rows' arrays, and every
 * explained row in data order; "why" marks the waterfalls: the highest and the lowest output
 * and the rows the spec asks for. */
static int add_explained_rows(run_ctx *c, cJSON *ex, const aud_shap_result *r, const double *X,
                              const size_t *rows, size_t n)
{
    /* explained_rows' value/phi arrays are in model order: name that order for readers
     * (features[] is in rank order; docs/results-schema.md) */
    cJSON *order = cJSON_AddArrayToObject(ex, "feature_order");
    for (size_t j = 0; order != NULL && j < c->model->n_features; j++) {
        const char *nm = c->model->feature_names ? c->model->feature_names[j] : "";
        if (cJSON_AddItemToArray(order, cJSON_CreateString(nm)) == 0)
            order = NULL;
    }
    if (order == NULL)
        return aud_error_nomem(c->err);
    return aud_run_explained_rows_json(c, ex, r, X, rows, n);   /* run_rows.c */
}

/* The explanation options of the spec, the background rows when the method needs them, and
 * the explained rows' attributions (*r, *X, *rows, *n; a shard: the rows of its block). A skip
 * reason in *skip (nothing computed) when the section cannot run. */
int aud_run_explain_rows(run_ctx *c, aud_shap_opts *so, double **B, size_t *nb,
                         aud_shap_result **r, double **X, size_t **rows, size_t *n,
                         const char **skip)
{
    const aud_spec *s = c->spec;
    *skip = !s->explain.enabled ? "disabled in the spec (\"explain\": false)"
            : c->model == NULL  ? "no model in the spec"
            : c->model->feature_names == NULL ? "the model has no feature names" : NULL;
    if (*skip != NULL)
        return AUD_OK;
    aud_shap_opts_default(so);
    aud_shap_method method = AUD_SHAP_AUTO;
    if (aud_shap_method_parse(s->explain.method, &method) != 0) {
        aud_error_set(c->err, AUD_E_SCHEMA, s->path, 0, 0, "unknown method");
        return aud_error_field(c->err, "explain.method");
    }
    so->method = aud_shap_method_resolve(method, c->model);
    so->output = strcmp(s->explain.output, "probability") == 0 ? AUD_SHAP_OUTPUT_PROBABILITY
                                                               : AUD_SHAP_OUTPUT_RAW;
    so->seed = s->seed;
    so->threads = c->threads;
    size_t n_file = c->shard_rows_total > 0 ? c->shard_rows_total : c->data->n_rows;
    for (size_t k = 0; k < s->explain.n_show_rows; k++) {
        if ((size_t)s->explain.show_rows[k] >= n_file) {
            aud_error_set(c->err, AUD_E_DOMAIN, s->path, 0, 0,
                          "row %ld is beyond the %zu data rows of %s (rows are 0-based)",
                          s->explain.show_rows[k], n_file, c->data->path);
            return aud_error_field(c->err, "explain.show_rows");
        }
    }
    if (aud_shap_method_uses_background(so->method) && c->bind_ref.cols == NULL &&
        c->shard_rows_total > 0) {
        *skip = "the method needs background rows and there is no reference data: a shard "
                "cannot draw the single run's background (docs/scale-out.md)";
        return AUD_OK;
    }
    int rc = explained_matrix(c, X, rows, n);
    if (rc == AUD_OK && aud_shap_method_uses_background(so->method)) {
        rc = aud_bind_sample_rows(c->bind_ref.cols != NULL ? &c->bind_ref : &c->bind,
                                  (size_t)s->explain.background, s->seed + 2, B, nb, c->err);
        so->background = *B;
        so->n_background = *nb;
    }
    if (rc == AUD_OK)
        rc = aud_shap_check(c->model, so, c->err);
    if (rc == AUD_OK && *n == 0) {   /* a shard may hold none of the sample */
        if (c->shard_rows_total == 0)
            *skip = "the data has no rows";
    } else if (rc == AUD_OK) {
        rc = aud_shap_explain(r, c->model, *X, *n, so, c->err);
    }
    return rc;
}

int aud_run_explanations(run_ctx *c)
{
    const aud_spec *s = c->spec;
    aud_shap_opts so;
    double *X = NULL, *B = NULL;
    size_t *rows = NULL, n = 0, nb = 0;
    aud_shap_result *r = NULL;
    aud_shap_summary *sm = NULL;
    const char *skip = NULL;
    int rc = AUD_OK;
    const aud_run_rows *ext = c->merged && c->opts->rows != NULL && c->opts->rows->active
                                  ? c->opts->rows : NULL;   /* audit-mpi: rows on the ranks */
    double *pts = NULL;
    size_t npts = 0;
    if (c->merged) {   /* the partials' explained rows (audit/merge.c) */
        skip = c->mx_skip;
        if (skip == NULL && (c->model == NULL || c->mx_r == NULL))
            skip = "the partials hold no explained rows";
        if (skip == NULL && c->model->feature_names == NULL)
            skip = "the model has no feature names";
        if (skip == NULL) {
            aud_shap_opts_default(&so);
            aud_shap_method method = AUD_SHAP_AUTO;
            aud_shap_method_parse(c->spec->explain.method, &method);
            so.method = aud_shap_method_resolve(method, c->model);
            so.output = c->mx_r->output;
            so.seed = c->spec->seed;
            so.threads = c->threads;
            r = c->mx_r;
            X = c->mx_X;
            rows = c->mx_rows;
            n = ext != NULL ? ext->n_rows : c->mx_n;
            c->rows_external = ext != NULL;
            c->mx_r = NULL;
            c->mx_X = NULL;
            c->mx_rows = NULL;
            if (aud_shap_method_uses_background(so.method) && c->bind_ref.cols != NULL)
                rc = aud_bind_sample_rows(&c->bind_ref, (size_t)c->spec->explain.background,
                                          c->spec->seed + 2, &B, &nb, c->err);
            so.background = B;   /* attribution drift explains reference rows against it */
            so.n_background = nb;
            if (n == 0)
                skip = "the data has no rows";
        }
    } else {
        rc = aud_run_explain_rows(c, &so, &B, &nb, &r, &X, &rows, &n, &skip);
    }
    if (rc == AUD_OK && skip != NULL) {
        rc = aud_run_skip(c, "explanations", skip);
        goto done;
    }
    if (rc != AUD_OK)
        goto done;
    size_t nf = c->model->n_features, K = r->n_outputs;
    if (K == 1)
        npts = n < AUD_EXPLAIN_POINTS_PER_FEATURE ? n : AUD_EXPLAIN_POINTS_PER_FEATURE;
    aud_rows_layout l = aud_run_rows_layout(K, nf, npts);
    if (rc == AUD_OK && ext != NULL && ext->n_state != l.n)
        rc = aud_error_set(c->err, AUD_E_INTERNAL, NULL, 0, 0, "the ranks' explained rows' "
                           "state has %zu numbers, not %zu", ext->n_state, l.n);
    if (rc == AUD_OK && ext != NULL) {   /* the summary the ranks' scan added up */
        rc = aud_shap_summary_from_sums(&sm, n, nf, K, ext->state + l.sum_abs,
                                        ext->state + l.sum, ext->state + l.base,
                                        r->additivity_max_error, c->err);
    } else if (rc == AUD_OK) {
        rc = aud_shap_summarize(&sm, r, c->err);
        if (rc == AUD_OK && (pts = aud_malloc((2 * npts * nf + 1) * sizeof *pts)) == NULL)
            rc = aud_error_nomem(c->err);
        for (size_t k = 0; rc == AUD_OK && k < npts; k++) {
            size_t i = aud_run_point_row(k, n, npts);
            for (size_t j = 0; j < nf; j++) {
                pts[k * nf + j] = X[i * nf + j];
                pts[(npts + k) * nf + j] = r->phi[i * r->stride + j];
            }
        }
    }
    if (rc != AUD_OK)
        goto done;
    const double *px = ext != NULL ? ext->state + l.px : pts;
    const double *pphi = ext != NULL ? ext->state + l.pphi : pts + npts * nf;
    cJSON *ex = cJSON_AddObjectToObject(c->doc, "explanations");
    char bg[160];
    if (nb > 0)
        snprintf(bg, sizeof bg, "%zu rows sampled from the %s data", nb,
                 c->bind_ref.cols != NULL ? "reference" : "audited");
    else if (s->explain.background_given)   /* never silently ignored (issue 14 item 13) */
        snprintf(bg, sizeof bg, "training cover (path-dependent TreeSHAP); explain.background "
                 "(%ld rows) is not used by this method", s->explain.background);
    else
        snprintf(bg, sizeof bg, "training cover (path-dependent TreeSHAP)");
    cJSON *feats = ex ? cJSON_AddArrayToObject(ex, "features") : NULL;
    if (feats == NULL || cJSON_AddStringToObject(ex, "method", aud_shap_method_name(so.method)) ==
                             NULL ||
        cJSON_AddStringToObject(ex, "output", so.output == AUD_SHAP_OUTPUT_RAW ? "raw"
                                                                               : "probability") ==
            NULL ||
        aud_json_add_num(ex, "rows", (double)n) != 0 ||
        aud_json_add_num(ex, "outputs", (double)r->n_outputs) != 0 ||
        aud_json_add_num(ex, "base_value", sm->base_value[0]) != 0 ||
        aud_json_add_num(ex, "additivity_max_error", sm->additivity_max_error) != 0 ||
        cJSON_AddStringToObject(ex, "background", bg) == NULL) {
        rc = aud_error_nomem(c->err);
        goto done;
    }
    {   /* units, probabilities and the decision rule (issue 14 item 1) */
        char units[200], rule[300];
        shap_units(c, r, units, sizeof units);
        decision_rule(c, rule, sizeof rule);
        if (cJSON_AddStringToObject(ex, "units", units) == NULL ||
            (aud_run_link_probability(c, r) &&
             aud_json_add_num(ex, "base_probability",
                              aud_run_sigmoid(c, sm->base_value[0])) != 0) ||
            (rule[0] != '\0' && cJSON_AddStringToObject(ex, "decision_rule", rule) == NULL)) {
            rc = aud_error_nomem(c->err);
            goto done;
        }
    }
    c->id_col = -1;
    if (s->explain.id != NULL) {
        rc = aud_table_lookup(c->data, s->explain.id, "explain.id column", &c->id_col, c->err);
        if (rc != AUD_OK) {
            rc = aud_error_field(c->err, "explain.id");
            goto done;
        }
    }
    if ((rc = check_nominal(c)) != AUD_OK)
        goto done;
    /* features in rank order */
    for (size_t k = 0; k < c->model->n_features; k++) {
        if (add_feature_json(c, feats, sm, K, px, pphi, npts, sm->order[k]) != 0) {
            rc = aud_error_nomem(c->err);
            goto done;
        }
    }
    if (r->n_outputs == 1) {
        rc = add_explained_rows(c, ex, r, X, rows, n);
        if (rc != AUD_OK)
            goto done;
    }
    if (c->ref != NULL && c->bind_ref.cols != NULL)
        rc = add_attribution_drift(c, ex, sm, &so);
done:
    aud_free(pts);
    aud_shap_summary_free(sm);
    aud_shap_result_free(r);
    aud_free(X);
    aud_free(B);
    aud_free(rows);
    return rc;
}

/* ---- fairness ----------------------------------------------------------------------------- */

int aud_run_fairness(run_ctx *c)
{
    const aud_spec *s = c->spec;
    if (s->n_sensitive == 0)
        return aud_run_skip(c, "fairness", "no sensitive attributes in the spec");
    if (c->prediction == NULL && c->score == NULL)
        return aud_run_skip(c, "fairness",
                        c->model != NULL ? "the model has more than one output (multiclass)"
                                         : "no model, prediction or score column in the spec");
    aud_fair_opts fo;
    aud_fair_opts_default(&fo);
    fo.favorable = s->favorable;
    fo.threshold = s->threshold;
    fo.min_share = s->min_group_share;
    fo.n_bootstrap = (size_t)s->bootstrap;
    fo.seed = s->seed;
    fo.threads = c->threads;
    fo.intersections = s->intersections;
    fo.max_intersection = (size_t)s->max_intersection;
    fo.nyc_ll144 = s->compliance != NULL;
    for (size_t a = 0; fo.nyc_ll144 && a < s->n_sensitive; a++) {   /* checked by the spec */
        if (s->ll144_sex != NULL && strcmp(s->sensitive[a], s->ll144_sex) == 0)
            fo.ll144_sex = a;
        if (s->ll144_race != NULL && strcmp(s->sensitive[a], s->ll144_race) == 0)
            fo.ll144_race = a;
    }
    aud_reference *refs = aud_calloc(s->n_reference_groups + 1, sizeof *refs);
    if (refs == NULL)
        return aud_error_nomem(c->err);
    for (size_t r = 0; r < s->n_reference_groups; r++)
        refs[r] = (aud_reference){s->reference_groups[2 * r], s->reference_groups[2 * r + 1]};
    aud_bind_fair_request rq = {
        .data = c->data, .sensitive = (const char *const *)s->sensitive,
        .n_sensitive = s->n_sensitive, .refs = refs, .n_refs = s->n_reference_groups,
        .groups = s->groupings, .n_groups = s->n_groupings,
        .label = c->label, .prediction = c->prediction, .score = c->score,
        .label_name = s->label, .prediction_name = s->prediction,
        .score_name = s->score != NULL ? s->score : "model output",
    };
    aud_fair_result *res = NULL;
    aud_bound_attrs ba;   /* bound once, for the metrics and the drivers */
    int rc = aud_bind_fairness(&res, &rq, &fo, &ba, c->err);
    if (rc == AUD_OK)
        rc = aud_fair_to_json(res, c->doc, c->err);
    if (rc == AUD_OK &&   /* every rate in words (issue 14 item 1) */
        aud_fair_add_rate_meanings(cJSON_GetObjectItemCaseSensitive(c->doc, "fairness"),
                                   s->label, s->favorable, s->report.favorable_outcome) != 0)
        rc = aud_error_nomem(c->err);
    if (rc == AUD_OK) {   /* drivers, proxies, trade-offs (SPEC section 7) */
        aud_run_step(c, "drivers");
        aud_shap_method m = AUD_SHAP_AUTO;
        int explain = s->explain.enabled && s->score == NULL && s->prediction == NULL &&
                      aud_shap_method_parse(s->explain.method, &m) == 0;
        aud_fair_why_input wi = {   /* merged: the partials' sums per cell (merge_why.c) */
            .model = explain ? c->model : NULL, .model_path = s->model, .data = c->data,
            .attrs = &ba, .res = res, .score = c->prediction == NULL ? c->score : NULL,
            .label = c->label, .favorable = s->favorable, .threshold = s->threshold, .method = m,
            .seed = s->seed, .threads = c->threads, .merged_run = c->merged,
            .merged = c->mg_why};
        rc = aud_fair_why(c->doc, &wi, c->err);
        if (rc == AUD_OK && c->merged && c->mg_why == NULL && explain && c->model != NULL)
            rc = aud_run_skip(c, "fairness drivers and proxies", c->mg_why_skip);
        else if (rc == AUD_OK && c->merged && c->mg_why != NULL && c->mg_why->feat == NULL)
            rc = aud_run_skip(c, "fairness proxies", c->mg_why->screen_skip);   /* drivers only */
    }
    aud_bound_attrs_free(&ba);
    aud_fair_result_free(res);
    aud_free(refs);
    return rc;
}

/* ---- drift -------------------------------------------------------------------------------- */

/* Prediction drift: the model's output on the reference versus the current data, as one more
 * numeric "column" compared with the same rules, stored as drift.prediction_drift. */
static int add_prediction_drift(run_ctx *c, const aud_drift_opts *o)
{
    aud_drift_column col;
    aud_drift_column_init(&col);
    int rc = aud_drift_column_numeric(&col, "prediction", c->score_ref, c->ref->n_rows, c->score,
                                      c->data->n_rows, o, NULL, c->err);
    if (rc == AUD_OK) {
        cJSON *obj = aud_drift_column_json(&col);
        cJSON *drift = cJSON_GetObjectItemCaseSensitive(c->doc, "drift");
        if (obj == NULL || drift == NULL || !cJSON_AddItemToObject(drift, "prediction_drift", obj)) {
            cJSON_Delete(obj);
            rc = aud_error_nomem(c->err);
        }
    }
    aud_drift_column_clear(&col);
    return rc;
}

int aud_run_drift(run_ctx *c)
{
    const aud_spec *s = c->spec;
    if (c->ref == NULL)
        return aud_run_skip(c, "drift", "no reference data in the spec");
    aud_drift_opts o;
    aud_drift_opts_default(&o);
    o.threads = c->threads;
    o.drift_share = s->drift.share;
    o.threshold = s->drift.threshold;
    o.psi_binning = strcmp(s->drift.psi_binning, "evidently") == 0 ? AUD_PSI_EVIDENTLY
                                                                   : AUD_PSI_QUANTILE;
    if (s->drift.method != NULL && aud_drift_method_parse(s->drift.method, &o.method) != 0) {
        aud_error_set(c->err, AUD_E_SCHEMA, s->path, 0, 0, "unknown drift method \"%s\"",
                      s->drift.method);
        return aud_error_field(c->err, "drift.method");
    }
    aud_drift_choice *ch = aud_calloc(s->drift.n_overrides + 1, sizeof *ch);
    if (ch == NULL)
        return aud_error_nomem(c->err);
    for (size_t i = 0; i < s->drift.n_overrides; i++) {
        ch[i] = (aud_drift_choice){s->drift.override_cols[i], AUD_DRIFT_AUTO,
                                        s->drift.override_thresholds[i]};
        if (s->drift.override_methods[i] != NULL)   /* checked by the spec */
            aud_drift_method_parse(s->drift.override_methods[i], &ch[i].method);
    }
    const char *exclude[] = {s->label, s->prediction, s->score};
    aud_bound_drift bd;
    int rc = aud_bind_drift_columns(&bd, c->ref, (const char *const *)s->drift.columns,
                                    s->drift.n_columns, exclude, 3, ch, s->drift.n_overrides,
                                    "drift.overrides", c->err);
    if (rc == AUD_E_USAGE) {   /* a spec error: name the spec */
        rc = c->err->code = AUD_E_SCHEMA;
        snprintf(c->err->file, sizeof c->err->file, "%s", s->path);
    }
    aud_drift_result *r = NULL;
    if (rc == AUD_OK)
        rc = aud_drift_tables_ref(&r, c->ref, c->ref_sums, c->data, bd.cols, bd.ovr, bd.n, &o,
                                  c->err);
    if (rc == AUD_OK)
        rc = aud_drift_to_json(r, c->doc, c->err);
    if (rc == AUD_OK && c->mg_sum != NULL)
        rc = aud_merge_drift_bounds(c, r);
    if (rc == AUD_OK && c->score != NULL && c->score_ref != NULL)
        rc = add_prediction_drift(c, &o);
    if (rc == AUD_OK && c->ref_prof != NULL && c->model != NULL)
        rc = aud_run_skip(c, "prediction and attribution drift",
                          "the reference is a saved profile: it holds no rows to run the model "
                          "on");
    aud_drift_result_free(r);
    aud_bound_drift_free(&bd);
    aud_free(ch);
    return rc;
}

/* ---- performance -------------------------------------------------------------------------- */

/* The performance of all rows ("overall") or of one group, computed as one task of
 * aud_run_tasks (perf_task_run); the document is written afterwards in its order. */
typedef struct perf_job {
    const size_t        *rows;   /* NULL: every row */
    size_t               n;
    const char          *attr, *group;
    const aud_perf_opts *po;
    aud_perf             pf;
    int                  rc;
    aud_error            err;
} perf_job;

typedef struct job_size { size_t n, g; } job_size;

typedef struct perf_tasks {
    const run_ctx  *c;
    perf_job       *jobs;
    const job_size *order;   /* the jobs, largest first */
} perf_tasks;

static void perf_task_run(void *ctx, size_t k)
{
    const perf_tasks *p = ctx;
    perf_job *j = &p->jobs[p->order[k].g];
    aud_error_clear(&j->err);
    j->rc = aud_perf_compute(p->c->label, p->c->score, j->rows, j->n, j->po, &j->pf, &j->err);
}

static int by_size_desc(const void *a, const void *b)
{
    const job_size *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return (x->g > y->g) - (x->g < y->g);
}

/* One attribute's groups (their rows by aud_bind_group_rows: one pass) as jobs from jobs[0]. */
static int attr_group_jobs(run_ctx *c, const aud_perf_opts *po, const aud_fair_attr *at,
                           perf_job *jobs, size_t **start, size_t **order)
{
    int rc = aud_bind_group_rows(at->codes, c->data->n_rows, at->n_levels, c->threads, start,
                                 order, c->err);
    for (size_t g = 0; g < at->n_levels && rc == AUD_OK; g++)
        jobs[g] = (perf_job){.rows = *order + (*start)[g], .n = (*start)[g + 1] - (*start)[g],
                             .attr = at->name, .group = at->levels[g], .po = po, .rc = AUD_OK};
    return rc;
}

/* The "performance" block: the overall figures and every attribute's groups. */
static int perf_json(run_ctx *c, const aud_perf_opts *po, const perf_job *jobs, size_t n_jobs)
{
    cJSON *perf = cJSON_AddObjectToObject(c->doc, "performance");
    cJSON *overall = perf ? cJSON_AddObjectToObject(perf, "overall") : NULL;
    cJSON *by = perf ? cJSON_AddArrayToObject(perf, "by_group") : NULL;
    if (overall == NULL || by == NULL || aud_perf_to_json(&jobs[0].pf, overall) != 0 ||
        cJSON_AddStringToObject(perf, "label", c->spec->label) == NULL ||
        aud_json_add_num(perf, "threshold", c->spec->threshold) != 0 ||
        cJSON_AddStringToObject(perf, "score", po->probability ? "probability" : "real") ==
            NULL ||
        cJSON_AddStringToObject(perf, "auc_interval", "delong") == NULL ||
        aud_json_add_num(perf, "confidence_level", po->level) != 0)
        return aud_error_nomem(c->err);
    for (size_t g = 1; g < n_jobs; g++) {   /* attribute by attribute, in group order */
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(by, o)) {
            cJSON_Delete(o);
            return aud_error_nomem(c->err);
        }
        if (cJSON_AddStringToObject(o, "attribute", jobs[g].attr) == NULL ||
            cJSON_AddStringToObject(o, "group", jobs[g].group) == NULL ||
            aud_perf_to_json(&jobs[g].pf, o) != 0)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

/* Overall and by group: the overall figures (all rows) and every attribute's groups are the
 * tasks of one run, largest first (the overall one), so threads compute groups beside it; the
 * document is written afterwards, overall first and then the groups of each attribute in group
 * order - it does not depend on the threads. The error reported is the binding's, else the
 * first job's in document order. */
int aud_run_performance(run_ctx *c)
{
    if (c->label == NULL)
        return aud_run_skip(c, "performance", "no label column in the spec");
    if (c->score == NULL)
        return aud_run_skip(c, "performance",
                            "needs a score: a model with one output or a score column (AUC and "
                            "the ROC curve rank the rows by it)");
    aud_perf_opts po, pg;
    aud_perf_opts_default(&po);
    po.threshold = c->spec->threshold;
    po.threads = c->threads;   /* each task's pass in blocks, its two sorts side by side */
    po.probability = c->score_is_probability;
    po.not_probability_reason =
        c->model != NULL ? "the model's output is not a probability (log-loss and the Brier score "
                           "need one)"
                         : "the score column has values outside [0, 1], so it is not a "
                           "probability (log-loss and the Brier score need one)";
    pg = po;
    pg.roc_max_points = 60;   /* by group: enough for a chart */
    /* by group: the groups and names of the fairness section */
    aud_bound_attrs ba;
    int rc = aud_bind_attrs(&ba, c->data, (const char *const *)c->spec->sensitive,
                            c->spec->n_sensitive, NULL, 0, c->spec->groupings,
                            c->spec->n_groupings, c->threads, c->err);
    size_t n_jobs = 1, n_attrs = rc == AUD_OK ? ba.n_attrs : 0;
    for (size_t a = 0; a < n_attrs; a++)
        n_jobs += ba.attrs[a].n_levels;
    perf_job *jobs = aud_calloc(n_jobs, sizeof *jobs);
    size_t **starts = aud_calloc(n_attrs + 1, sizeof *starts);
    size_t **orders = aud_calloc(n_attrs + 1, sizeof *orders);
    job_size *sz = aud_malloc(n_jobs * sizeof *sz);
    if (rc == AUD_OK && (jobs == NULL || starts == NULL || orders == NULL || sz == NULL))
        rc = aud_error_nomem(c->err);
    if (rc == AUD_OK)
        jobs[0] = (perf_job){.rows = NULL, .n = c->data->n_rows, .po = &po, .rc = AUD_OK};
    for (size_t a = 0, g = 1; a < n_attrs && rc == AUD_OK; g += ba.attrs[a++].n_levels)
        rc = attr_group_jobs(c, &pg, &ba.attrs[a], jobs + g, &starts[a], &orders[a]);
    if (rc == AUD_OK) {
        for (size_t g = 0; g < n_jobs; g++)
            sz[g] = (job_size){jobs[g].n, g};
        qsort(sz, n_jobs, sizeof *sz, by_size_desc);
        perf_tasks pt = {c, jobs, sz};
        aud_run_tasks(n_jobs, c->threads, perf_task_run, &pt);
    }
    for (size_t g = 0; g < n_jobs && rc == AUD_OK; g++) {
        if (jobs[g].rc != AUD_OK) {
            *c->err = jobs[g].err;
            rc = jobs[g].rc;
        }
    }
    if (rc == AUD_OK)
        rc = perf_json(c, &po, jobs, n_jobs);
    for (size_t g = 0; jobs != NULL && g < n_jobs; g++)
        aud_perf_free(&jobs[g].pf);
    for (size_t a = 0; a < n_attrs && starts != NULL && orders != NULL; a++) {
        aud_free(starts[a]);
        aud_free(orders[a]);
    }
    aud_free(jobs);
    aud_free(starts);
    aud_free(orders);
    aud_free(sz);
    aud_bound_attrs_free(&ba);   /* as before: also after a failed binding */
    return rc;
}
