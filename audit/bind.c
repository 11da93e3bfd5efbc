/* bind.c - the binding layer (bind.h): model features, label/prediction/score columns,
 * sensitive attributes with references and intersections, drift columns. */
#include "audit/bind.h"
#include "core/io.h"
#include "explainers/shap.h"
#include "models/predict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- model features ------------------------------------------------------------------------ */

int aud_bind_model(aud_binding *b, const aud_model *m, const char *model_path,
                   const aud_table *t, aud_error *err)
{
    memset(b, 0, sizeof *b);
    b->model = m;
    b->model_path = model_path;
    b->table = t;
    b->cols = aud_calloc(m->n_features + 1, sizeof *b->cols);
    if (b->cols == NULL)
        return aud_error_nomem(err);
    return aud_model_bind(m, t, b->cols, &b->by_position, err);
}

void aud_binding_free(aud_binding *b)
{
    aud_free(b->cols);
    memset(b, 0, sizeof *b);
}

int aud_bind_check_missing(const aud_binding *b, size_t row_begin, size_t row_end,
                           aud_error *err)
{
    return aud_predict_check_missing(b->model, b->table, b->cols, row_begin, row_end, err);
}

void aud_bind_fill_rows(const aud_binding *b, size_t row_begin, size_t row_end, double *out)
{
    aud_model_fill_rows(b->model, b->table, b->cols, row_begin, row_end, out);
}

int aud_bind_sample_rows(const aud_binding *b, size_t k, uint64_t seed, double **X,
                         size_t *n_out, aud_error *err)
{
    size_t n = b->table->n_rows, m = n < k ? n : k, nf = b->model->n_features;
    *X = NULL;
    *n_out = 0;
    size_t *idx = aud_malloc((m ? m : 1) * sizeof *idx);
    double *x = aud_malloc((m ? m : 1) * (nf ? nf : 1) * sizeof *x);
    if (idx == NULL || x == NULL) {
        aud_free(idx);
        aud_free(x);
        return aud_error_nomem(err);
    }
    m = aud_shap_sample_rows(n, m, seed, idx);
    for (size_t i = 0; i < m; i++)
        aud_bind_fill_rows(b, idx[i], idx[i] + 1, x + i * nf);
    aud_free(idx);
    *X = x;
    *n_out = m;
    return AUD_OK;
}

int aud_bind_predict(const aud_binding *b, int raw, int threads, double **out, size_t *n_cols,
                     aud_error *err)
{
    const aud_table *t = b->table;
    size_t k = aud_predict_n_cols(b->model, raw);
    *out = NULL;
    *n_cols = k;
    if (t->n_rows > ((size_t)-1) / sizeof **out / (k + 1))
        return aud_error_nomem(err);
    double *v = aud_malloc((t->n_rows * k + 1) * sizeof *v);
    if (v == NULL)
        return aud_error_nomem(err);
    int rc = aud_predict_table(b->model, t, b->cols, raw, threads > 0 ? threads : 1, v, err);
    if (rc != AUD_OK) {
        aud_free(v);
        return rc;
    }
    *out = v;
    return AUD_OK;
}

int aud_bind_model_output(const aud_binding *b, int threads, const char *who, double **out,
                          aud_error *err)
{
    size_t k = 0;
    *out = NULL;
    if (aud_model_n_pred(b->model) != 1)
        return aud_error_set(err, AUD_E_UNSUPPORTED, b->model_path, 0, 0,
                             "%s needs a model with one output (binary classifier or "
                             "regression); this one has %zu", who, aud_model_n_pred(b->model));
    return aud_bind_predict(b, 0, threads, out, &k, err);
}

/* ---- label, prediction and score columns --------------------------------------------------- */

/* Column `name` of t, or -1 with err set: an unknown name lists the columns, a name several
 * columns share gives their positions (aud_table_lookup). */
static int find_column(const aud_table *t, const char *name, aud_error *err)
{
    long j;
    return aud_table_lookup(t, name, NULL, &j, err) == AUD_OK ? (int)j : -1;
}

int aud_bind_column(const aud_table *t, const char *name, aud_bind_role role, double **out,
                    aud_error *err)
{
    static const char *const what[] = {"label", "prediction", "score"};
    *out = NULL;
    int j = find_column(t, name, err);
    if (j < 0)
        return err->code;
    const aud_column *c = &t->cols[j];
    if (c->type != AUD_COL_NUMERIC) {
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                      "the %s column must be numeric (%s), but it holds text such as \"%s\"",
                      what[role], role == AUD_BIND_SCORE ? "finite numbers" : "0 or 1",
                      c->n_levels > 0 ? c->levels[0] : "");
        return aud_error_field(err, name);
    }
    /* blank lines and quoted newlines make the file line unknown here: name the 1-based data
     * row, as the fairness metrics do */
    for (size_t i = 0; role != AUD_BIND_SCORE && i < t->n_rows; i++) {
        double v = c->num[i];
        if (v == 0.0 || v == 1.0 || (role == AUD_BIND_LABEL && isnan(v)))
            continue;
        char b[32];
        if (isnan(v))
            aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0, "data row %zu: the %s is missing",
                          i + 1, what[role]);
        else
            aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                          "data row %zu: the %s must be 0 or 1, got %s", i + 1, what[role],
                          aud_fmt_double(v, b));
        return aud_error_field(err, name);
    }
    double *copy = aud_malloc((t->n_rows ? t->n_rows : 1) * sizeof *copy);
    if (copy == NULL)
        return aud_error_nomem(err);
    if (t->n_rows > 0)
        memcpy(copy, c->num, t->n_rows * sizeof *copy);
    *out = copy;
    return AUD_OK;
}

/* ---- sensitive attributes, references and intersections ------------------------------------ */

static int spells(const char *const *attrs, size_t n, const char *name, size_t next,
                  size_t parts)
{
    for (size_t i = next; i < n; i++) {
        size_t len = strlen(attrs[i]);
        if (strncmp(name, attrs[i], len) != 0)
            continue;
        if (name[len] == '\0' && parts >= 1)
            return 1;
        if (name[len] == '&' && spells(attrs, n, name + len + 1, i + 1, parts + 1))
            return 1;
    }
    return 0;
}

int aud_bind_is_intersection(const char *const *attrs, size_t n, const char *name)
{
    return spells(attrs, n, name, 0, 0);
}

int aud_bind_attrs(aud_bound_attrs *b, const aud_table *t, const char *const *names, size_t n,
                   const aud_bind_ref *refs, size_t n_refs, aud_error *err)
{
    memset(b, 0, sizeof *b);
    b->attrs = aud_calloc(n + 1, sizeof *b->attrs);
    b->own_codes = aud_calloc(n + 1, sizeof *b->own_codes);
    b->own_levels = aud_calloc(n + 1, sizeof *b->own_levels);
    b->own_n = aud_calloc(n + 1, sizeof *b->own_n);
    b->inter_ref_names = aud_calloc(n_refs + 1, sizeof *b->inter_ref_names);
    b->inter_ref_levels = aud_calloc(n_refs + 1, sizeof *b->inter_ref_levels);
    if (b->attrs == NULL || b->own_codes == NULL || b->own_levels == NULL || b->own_n == NULL ||
        b->inter_ref_names == NULL || b->inter_ref_levels == NULL)
        return aud_error_nomem(err);
    for (size_t a = 0; a < n; a++) {
        for (size_t k = 0; k < a; k++)
            if (strcmp(names[k], names[a]) == 0) {
                aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                              "sensitive column \"%s\" is given twice", names[a]);
                return aud_error_field(err, names[a]);
            }
        int j = find_column(t, names[a], err);
        if (j < 0)
            return err->code;
        const aud_column *col = &t->cols[j];
        aud_fair_attr *at = &b->attrs[a];
        at->name = names[a];
        if (col->type == AUD_COL_CATEGORICAL) {
            at->codes = col->codes;
            at->n_levels = col->n_levels;
            at->levels = (const char *const *)col->levels;
        } else {
            int rc = aud_fair_codes_from_numeric(col->num, t->n_rows, &b->own_codes[a],
                                                 &b->own_levels[a], &b->own_n[a], err);
            if (rc != AUD_OK)
                return rc;
            at->codes = b->own_codes[a];
            at->n_levels = b->own_n[a];
            at->levels = (const char *const *)b->own_levels[a];
        }
        b->n_attrs = a + 1;
    }
    for (size_t r = 0; r < n_refs; r++) {
        int found = 0;
        for (size_t a = 0; a < n; a++) {
            if (strcmp(b->attrs[a].name, refs[r].attribute) == 0) {
                b->attrs[a].reference = refs[r].group;
                found = 1;
            }
        }
        if (!found && strchr(refs[r].attribute, '&') != NULL) {
            b->inter_ref_names[b->n_inter_refs] = refs[r].attribute;
            b->inter_ref_levels[b->n_inter_refs] = refs[r].group;
            b->n_inter_refs++;
            found = 1;
        }
        if (!found) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "reference: \"%s\" is not one of the sensitive columns",
                          refs[r].attribute);
            return aud_error_field(err, refs[r].attribute);
        }
    }
    return AUD_OK;
}

void aud_bound_attrs_free(aud_bound_attrs *b)
{
    for (size_t a = 0; a < b->n_attrs && b->own_codes != NULL; a++) {
        aud_free(b->own_codes[a]);
        if (b->own_levels[a] != NULL)
            aud_fair_levels_free(b->own_levels[a], b->own_n[a]);
    }
    aud_free(b->own_codes);
    aud_free(b->own_levels);
    aud_free(b->own_n);
    aud_free(b->attrs);
    aud_free(b->inter_ref_names);
    aud_free(b->inter_ref_levels);
    memset(b, 0, sizeof *b);
}

int aud_bind_fairness(aud_fair_result **out, const aud_bind_fair_request *rq,
                      const aud_fair_opts *opts, aud_error *err)
{
    aud_bound_attrs b;
    aud_fair_result *res = NULL;
    *out = NULL;
    int rc = aud_bind_attrs(&b, rq->data, rq->sensitive, rq->n_sensitive, rq->refs, rq->n_refs,
                            err);
    /* an intersection reference must name an intersection that is computed */
    for (size_t r = 0; rc == AUD_OK && r < b.n_inter_refs; r++) {
        if (!opts->intersections ||
            !aud_bind_is_intersection(rq->sensitive, rq->n_sensitive, b.inter_ref_names[r])) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "reference: \"%s\" is not an intersection of the sensitive columns "
                          "(name them in their order, joined by '&')", b.inter_ref_names[r]);
            rc = aud_error_field(err, b.inter_ref_names[r]);
        }
    }
    if (rc == AUD_OK) {
        aud_fair_input in;
        memset(&in, 0, sizeof in);
        in.n_rows = rq->data->n_rows;
        in.label = rq->label;
        in.prediction = rq->prediction;
        in.score = rq->prediction == NULL ? rq->score : NULL;
        in.attrs = b.attrs;
        in.n_attrs = b.n_attrs;
        in.label_name = rq->label_name;
        in.prediction_name = rq->prediction_name;
        in.score_name = rq->score_name;
        in.source = rq->data->path;
        in.inter_ref_names = b.inter_ref_names;
        in.inter_ref_levels = b.inter_ref_levels;
        in.n_inter_refs = b.n_inter_refs;
        rc = aud_fair_compute(&res, &in, opts, err);
    }
    aud_bound_attrs_free(&b);
    if (rc != AUD_OK) {
        aud_fair_result_free(res);
        return rc;
    }
    *out = res;
    return AUD_OK;
}

/* ---- drift columns ------------------------------------------------------------------------- */

int aud_bind_drift_columns(aud_bound_drift *b, const aud_table *ref, const char *const *given,
                           size_t n_given, const char *const *exclude, size_t n_exclude,
                           const aud_bind_drift_choice *choices, size_t n_choices,
                           const char *choice_field, aud_error *err)
{
    memset(b, 0, sizeof *b);
    size_t cap = given != NULL ? n_given : ref->n_cols;
    b->cols = aud_calloc(cap + 1, sizeof *b->cols);
    b->ovr = aud_calloc(cap + 1, sizeof *b->ovr);
    if (b->cols == NULL || b->ovr == NULL)
        return aud_error_nomem(err);
    for (size_t j = 0; j < cap; j++) {
        const char *name = given != NULL ? given[j] : ref->cols[j].name;
        /* columns sharing a name are kept apart: left out by default, an error when named */
        int skip = given == NULL && ref->cols[j].n_same > 0;
        for (size_t k = 0; given == NULL && k < n_exclude; k++)
            skip |= exclude[k] != NULL && strcmp(exclude[k], name) == 0;
        if (skip)
            continue;
        b->cols[b->n] = name;
        b->ovr[b->n].method = AUD_DRIFT_AUTO;
        b->ovr[b->n].threshold = NAN;
        b->n++;
    }
    for (size_t i = 0; i < n_choices; i++) {
        size_t j = 0;
        while (j < b->n && strcmp(b->cols[j], choices[i].column) != 0)
            j++;
        if (j == b->n) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "column \"%s\" is not among the columns compared for drift",
                          choices[i].column);
            return choice_field != NULL ? aud_error_field(err, choice_field) : err->code;
        }
        if (choices[i].method != AUD_DRIFT_AUTO)
            b->ovr[j].method = choices[i].method;
        if (!isnan(choices[i].threshold))
            b->ovr[j].threshold = choices[i].threshold;
    }
    return AUD_OK;
}

void aud_bound_drift_free(aud_bound_drift *b)
{
    aud_free(b->cols);
    aud_free(b->ovr);
    memset(b, 0, sizeof *b);
}
