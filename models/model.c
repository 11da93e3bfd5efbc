/* model.c - model loading (format detection), validation, prediction of one row, output
 * transforms and binding of model features to table columns. The format parsers live in
 * xgb_json.c, lgbm_text.c, linear_json.c and trees_json.c; all of them fill an aud_model and call
 * aud_tree_validate() on every tree and aud_model_finish() at the end. */
#include "models/model_int.h"
#include "models/model_cmd_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Model files larger than this are refused (a hostile or wrong file, not a model). */
#define AUD_MODEL_MAX_FILE_BYTES ((size_t)2 << 30)

/* Everything m owns, freed (m itself not). */
static void free_parts(aud_model *m)
{
    aud_free(m->format);
    aud_free(m->objective);
    if (m->feature_names != NULL) {
        for (size_t j = 0; j < m->n_features; j++)
            aud_free(m->feature_names[j]);
        aud_free(m->feature_names);
    }
    aud_free(m->base_margin);
    if (m->trees != NULL) {
        for (size_t i = 0; i < m->n_trees; i++)
            aud_tree_free(&m->trees[i]);
        aud_free(m->trees);
    }
    aud_free(m->n_trees_output);
    aud_free(m->coef);
    aud_free(m->feature_used);
    aud_free(m->cat_feature);
    aud_prep_free(m->prep, m->n_features);
    aud_packed_free(m->packed);
    if (m->cmd != NULL) {
        aud_model_cmd_free(m->cmd);
        aud_free(m->cmd);
    }
}

void aud_model_free(aud_model *m)
{
    if (m == NULL)
        return;
    free_parts(m);
    aud_free(m);
}

void aud_model_clear_parsed(aud_model *m, const aud_model *keep)
{
    free_parts(m);
    *m = *keep;
}

int aud_model_finish(aud_model *m, const char *name, aud_error *err)
{
    if (m->n_outputs < 1 || m->n_outputs > AUD_MODEL_MAX_OUTPUTS)
        return aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "number of outputs %zu out of range",
                             m->n_outputs);
    if (m->n_features > AUD_MODEL_MAX_FEATURES)
        return aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "number of features %zu out of range",
                             m->n_features);
    if (m->base_margin == NULL) {
        m->base_margin = aud_calloc(m->n_outputs, sizeof *m->base_margin);
        if (m->base_margin == NULL)
            return aud_error_nomem(err);
    }
    for (size_t k = 0; k < m->n_outputs; k++)
        if (!isfinite(m->base_margin[k]))
            return aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                                 "base score gives a non-finite margin for output %zu", k);
    if (m->sigmoid_scale == 0.0)
        m->sigmoid_scale = 1.0;
    if (m->kind == AUD_MODEL_TREES) {
        aud_free(m->n_trees_output);
        m->n_trees_output = aud_calloc(m->n_outputs, sizeof *m->n_trees_output);
        if (m->n_trees_output == NULL)
            return aud_error_nomem(err);
        for (size_t i = 0; i < m->n_trees; i++) {
            if (m->trees[i].output < 0 || (size_t)m->trees[i].output >= m->n_outputs)
                return aud_error_set(err, AUD_E_DOMAIN, name, 0, 0,
                                     "tree %zu adds to output %ld, but the model has %zu", i,
                                     (long)m->trees[i].output, m->n_outputs);
            m->n_trees_output[m->trees[i].output]++;
        }
        aud_packed_free(m->packed);
        m->packed = NULL;
        int rc = aud_packed_build(m, err);
        if (rc != AUD_OK)
            return rc;
    } else if (m->coef == NULL) {
        return aud_error_set(err, AUD_E_INTERNAL, name, 0, 0, "linear model without coefficients");
    }
    if (m->link == AUD_LINK_SOFTMAX && m->n_outputs < 2)
        m->link = AUD_LINK_IDENTITY;
    aud_free(m->feature_used);
    m->feature_used = aud_calloc(m->n_features + 1, 1);
    if (m->feature_used == NULL)
        return aud_error_nomem(err);
    if (m->kind == AUD_MODEL_TREES) {
        for (size_t i = 0; i < m->n_trees; i++) {
            const aud_tree *t = &m->trees[i];
            for (int32_t n = 0; n < t->n_nodes; n++) {
                if (t->left[n] < 0)
                    continue;
                m->feature_used[t->feature[n]] = 1;
                if (t->kind[n] != AUD_SPLIT_CAT && t->kind[n] != AUD_SPLIT_CAT_XGB)
                    continue;
                if (m->cat_feature == NULL &&
                    (m->cat_feature = aud_calloc(m->n_features + 1, 1)) == NULL)
                    return aud_error_nomem(err);
                m->cat_feature[t->feature[n]] = 1;
            }
        }
    } else {
        for (size_t k = 0; k < m->n_outputs; k++)
            for (size_t j = 0; j < m->n_features; j++)
                if (m->coef[k * m->n_features + j] != 0.0)
                    m->feature_used[j] = 1;
    }
    if (m->feature_names != NULL) {
        for (size_t j = 0; j < m->n_features; j++)
            for (size_t i = 0; i < j; i++)
                if (strcmp(m->feature_names[i], m->feature_names[j]) == 0)
                    return aud_error_set(err, AUD_E_SCHEMA, name, 0, 0,
                                         "feature name \"%s\" appears twice",
                                         m->feature_names[j]);
    }
    return AUD_OK;
}

/* Format from the first bytes: LightGBM text starts with a "tree" line; JSON with '{'. */
static const char *detect_format(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i < len && data[i] == '{') {
        /* The project's own formats carry "format": "audit-linear" / "audit-trees" near the top;
         * XGBoost has "learner". Look at the first 4 KiB. */
        size_t n = len - i < 4096 ? len - i : 4096;
        const char *p = data + i;
        for (size_t k = 0; k + 14 <= n; k++) {
            if (memcmp(p + k, "\"audit-linear\"", 14) == 0)
                return "linear-json";
            if (k + 13 <= n && memcmp(p + k, "\"audit-trees\"", 13) == 0)
                return "trees-json";
        }
        return "xgboost-json";
    }
    if (len - i >= 4 && memcmp(data + i, "tree", 4) == 0 &&
        (len - i == 4 || data[i + 4] == '\n' || data[i + 4] == '\r'))
        return "lightgbm-text";
    return NULL;
}

int aud_model_parse(aud_model **out, const char *data, size_t len, const char *name,
                    const char *format, aud_error *err)
{
    return aud_model_parse_threads(out, data, len, name, format, 1, err);
}

int aud_model_parse_threads(aud_model **out, const char *data, size_t len, const char *name,
                            const char *format, int threads, aud_error *err)
{
    *out = NULL;
    if (format == NULL) {
        format = detect_format(data, len);
        if (format == NULL)
            return aud_error_set(err, AUD_E_PARSE, name, 1, 1,
                                 "unknown model format (expected XGBoost JSON, LightGBM text, "
                                 "audit linear or tree JSON); use --model-format to force one");
    }
    aud_model *m = aud_calloc(1, sizeof *m);
    if (m == NULL)
        return aud_error_nomem(err);
    m->sigmoid_scale = 1.0;
    m->best_iteration = -1;
    int rc;
    if (strcmp(format, "xgboost-json") == 0)
        rc = aud_xgb_json_parse(m, data, len, name, threads, err);
    else if (strcmp(format, "lightgbm-text") == 0)
        rc = aud_lgbm_text_parse(m, data, len, name, threads, err);
    else if (strcmp(format, "linear-json") == 0)
        rc = aud_linear_json_parse(m, data, len, name, err);
    else if (strcmp(format, "trees-json") == 0)
        rc = aud_trees_json_parse(m, data, len, name, err);
    else
        rc = aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                           "unknown model format \"%s\" (xgboost-json, lightgbm-text, "
                           "linear-json, trees-json)", format);
    if (rc == AUD_OK && m->format == NULL) {
        m->format = aud_strdup(format);
        if (m->format == NULL)
            rc = aud_error_nomem(err);
    }
    if (rc == AUD_OK)
        rc = aud_model_finish(m, name, err);
    if (rc != AUD_OK) {
        aud_model_free(m);
        return rc;
    }
    *out = m;
    return AUD_OK;
}

int aud_model_load(aud_model **out, const char *path, const char *format, aud_error *err)
{
    return aud_model_load_threads(out, path, format, 1, err);
}

int aud_model_load_threads(aud_model **out, const char *path, const char *format, int threads,
                           aud_error *err)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = aud_file_read(path, &data, &len, AUD_MODEL_MAX_FILE_BYTES, err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_model_parse_threads(out, data, len, path, format, threads, err);
    aud_free(data);
    return rc;
}

/* Walk every tree for a block of rows, adding leaf values in tree order for each row. */
static void trees_block(const aud_model *m, const double *X, size_t n, double *margin)
{
    size_t K = m->n_outputs, F = m->n_features;
    if (m->packed != NULL && aud_packed_block(m, X, n, margin))
        return;
    if (m->sum_f32) {
        /* XGBoost: float accumulators initialised with the base margin. The values are exact
         * floats, so a double holding (float)(acc + leaf) after each step is the float sum. */
        for (size_t r = 0; r < n; r++)
            for (size_t k = 0; k < K; k++)
                margin[r * K + k] = (double)(float)m->base_margin[k];
        for (size_t i = 0; i < m->n_trees; i++) {
            const aud_tree *t = &m->trees[i];
            double *mo = margin + t->output;
            for (size_t r = 0; r < n; r++) {
                float acc = (float)mo[r * K];
                acc += (float)t->value[aud_tree_leaf(t, X + r * F)];
                mo[r * K] = (double)acc;
            }
        }
        return;
    }
    for (size_t r = 0; r < n * K; r++)
        margin[r] = 0.0;
    for (size_t i = 0; i < m->n_trees; i++) {
        const aud_tree *t = &m->trees[i];
        double *mo = margin + t->output;
        for (size_t r = 0; r < n; r++)
            mo[r * K] += t->value[aud_tree_leaf(t, X + r * F)];
    }
    for (size_t r = 0; r < n; r++) {
        for (size_t k = 0; k < K; k++) {
            double *v = &margin[r * K + k];
            if (m->average_output && m->n_trees_output[k] > 0)
                *v /= (double)m->n_trees_output[k];
            *v += m->base_margin[k];
        }
    }
}

void aud_model_predict_margin_block(const aud_model *m, const double *X, size_t n_rows,
                                    double *margin_out)
{
    size_t K = m->n_outputs, F = m->n_features;
    if (m->kind == AUD_MODEL_COMMAND) {   /* no margins without the program: never a figure */
        for (size_t i = 0; i < n_rows * K; i++)
            margin_out[i] = NAN;
        return;
    }
    if (m->kind == AUD_MODEL_TREES) {
        trees_block(m, X, n_rows, margin_out);
        if (m->no_missing) {
            /* no rule for missing values in the originating library: no figure either */
            for (size_t r = 0; r < n_rows; r++)
                for (size_t j = 0; j < F; j++)
                    if (m->feature_used[j] && isnan(X[r * F + j])) {
                        for (size_t k = 0; k < K; k++)
                            margin_out[r * K + k] = NAN;
                        break;
                    }
        }
        return;
    }
    for (size_t r = 0; r < n_rows; r++) {
        const double *x = X + r * F;
        for (size_t k = 0; k < K; k++) {
            double s = m->base_margin[k];
            const double *w = m->coef + k * F;
            for (size_t j = 0; j < F; j++)
                if (w[j] != 0.0)
                    s += w[j] * x[j];
            margin_out[r * K + k] = s;
        }
    }
}

void aud_model_predict_margin(const aud_model *m, const double *x, double *margin_out)
{
    aud_model_predict_margin_block(m, x, 1, margin_out);
}

void aud_model_transform(const aud_model *m, const double *margin, double *pred_out)
{
    size_t K = m->n_outputs;
    switch (m->link) {
    case AUD_LINK_IDENTITY:
        for (size_t k = 0; k < K; k++)
            pred_out[k] = margin[k];
        break;
    case AUD_LINK_SIGMOID:
        for (size_t k = 0; k < K; k++)
            pred_out[k] = 1.0 / (1.0 + exp(-m->sigmoid_scale * margin[k]));
        break;
    case AUD_LINK_EXP:
        for (size_t k = 0; k < K; k++)
            pred_out[k] = exp(margin[k]);
        break;
    case AUD_LINK_SOFTMAX: {
        double mx = margin[0], s = 0.0;
        for (size_t k = 1; k < K; k++)
            if (margin[k] > mx)
                mx = margin[k];
        for (size_t k = 0; k < K; k++) {
            pred_out[k] = exp(margin[k] - mx);
            s += pred_out[k];
        }
        for (size_t k = 0; k < K; k++)
            pred_out[k] /= s;
        break;
    }
    case AUD_LINK_ARGMAX: {
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (margin[k] > margin[best])
                best = k;
        pred_out[0] = (double)best;
        break;
    }
    }
}

/* Column called `name` (exact, case-sensitive); -1 when none, -2 when several columns have it.
 * Local so the models do not depend on the CSV reader's object files. */
static long find_column(const aud_table *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols; c++)
        if (t->cols[c].name != NULL && strcmp(t->cols[c].name, name) == 0)
            return t->cols[c].n_same > 0 ? -2 : (long)c;
    return -1;
}

int aud_model_bind(const aud_model *m, const aud_table *t, size_t *col_index_out,
                   int *by_position, aud_error *err)
{
    const char *file = t->path != NULL && t->path[0] != '\0' ? t->path : "data";
    *by_position = 0;
    if (m->feature_names == NULL) {
        *by_position = 1;
        if (t->n_cols < m->n_features)
            return aud_error_set(err, AUD_E_SCHEMA, file, 1, 0,
                                 "the model has %zu unnamed features (matched by position), "
                                 "but the data has only %zu columns", m->n_features, t->n_cols);
        for (size_t j = 0; j < m->n_features; j++)
            col_index_out[j] = j;
    } else {
        /* every missing feature is named in the one message (the field is the first) */
        size_t n_missing = 0, first = 0, len = 0;
        char list[400];
        list[0] = '\0';
        for (size_t j = 0; j < m->n_features; j++) {
            long c = find_column(t, m->feature_names[j]);
            if (c == -2) {   /* several columns have the name */
                size_t same = 0;
                for (size_t k = 0; k < t->n_cols; k++)
                    same += strcmp(t->cols[k].name, m->feature_names[j]) == 0;
                aud_error_set(err, AUD_E_SCHEMA, file, 1, 0,
                              "model feature \"%s\" is ambiguous: %zu columns of the data "
                              "have that name", m->feature_names[j], same);
                return aud_error_field(err, m->feature_names[j]);
            }
            if (c >= 0) {
                col_index_out[j] = (size_t)c;
                continue;
            }
            if (n_missing++ == 0)
                first = j;
            aud_error_list_add(list, sizeof list, &len, m->feature_names[j]);
        }
        if (n_missing > 0) {
            if (n_missing == 1)
                aud_error_set(err, AUD_E_SCHEMA, file, 1, 0,
                              "model feature %s is not a column of the data", list);
            else
                aud_error_set(err, AUD_E_SCHEMA, file, 1, 0,
                              "%zu model features are not columns of the data: %s", n_missing,
                              list);
            return aud_error_field(err, m->feature_names[first]);
        }
    }
    for (size_t j = 0; j < m->n_features; j++) {
        const aud_column *c = &t->cols[col_index_out[j]];
        /* a pipeline's encoder reads categories (text categories: any column) */
        if (m->prep != NULL && m->prep[j].kind == AUD_PREP_CATEGORICAL &&
            (m->prep[j].cat_text != NULL || c->type == AUD_COL_NUMERIC))
            continue;
        if (c->type != AUD_COL_NUMERIC && m->cat_feature != NULL && m->cat_feature[j]) {
            aud_error_set(err, AUD_E_SCHEMA, file, 1, (long)col_index_out[j] + 1,
                          "column \"%s\" holds text, but model feature %zu is categorical and "
                          "reads category codes: give the categories in code order with "
                          "--categories FILE (docs/model-formats.md)", c->name, j);
            return aud_error_field(err, c->name);
        }
        if (c->type != AUD_COL_NUMERIC) {
            aud_error_set(err, AUD_E_SCHEMA, file, 1, (long)col_index_out[j] + 1,
                          "column \"%s\" (model feature %zu) is not numeric", c->name, j);
            return aud_error_field(err, c->name);
        }
    }
    return AUD_OK;
}

void aud_model_fill_rows(const aud_model *m, const aud_table *t, const size_t *col_index,
                         size_t row_begin, size_t row_end, double *out)
{
    size_t F = m->n_features;
    for (size_t j = 0; j < F; j++) {
        const aud_column *c = &t->cols[col_index[j]];
        double *o = out + j;
        if (m->prep != NULL && m->prep[j].kind != AUD_PREP_NONE) {
            int bad;
            for (size_t r = row_begin; r < row_end; r++, o += F)
                *o = aud_prep_value(m, j, c, r, &bad);
            continue;
        }
        const double *col = c->num;
        for (size_t r = row_begin; r < row_end; r++, o += F)
            *o = col[r];
    }
}

const double *aud_model_feature_column(const aud_model *m, const aud_table *t,
                                       const size_t *col_index, size_t j)
{
    if (j >= m->n_features || (m->prep != NULL && m->prep[j].kind != AUD_PREP_NONE))
        return NULL;
    return t->cols[col_index[j]].num;
}

typedef struct fill_job {
    const aud_model *m;
    const aud_table *t;
    const size_t    *col_index;
    size_t           b, e;   /* rows of the table */
    double          *out;    /* row b's place */
} fill_job;

static void *fill_main(void *arg)
{
    const fill_job *j = arg;
    aud_model_fill_rows(j->m, j->t, j->col_index, j->b, j->e, j->out);
    return NULL;
}

void aud_model_fill_rows_on(const aud_model *m, const aud_table *t, const size_t *col_index,
                            size_t row_begin, size_t row_end, double *out, int threads)
{
    size_t n = row_end - row_begin, k = aud_row_chunks(n, threads);
    fill_job jobs[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < k; c++) {
        size_t b = n * c / k, e = n * (c + 1) / k;
        jobs[c] = (fill_job){m, t, col_index, row_begin + b, row_begin + e,
                             out + b * m->n_features};
    }
    aud_run_jobs(jobs, k, sizeof jobs[0], fill_main);
}

size_t aud_model_features(const aud_model *m)
{
    return m->n_features;
}

const char *aud_model_feature(const aud_model *m, size_t j)
{
    return m->feature_names != NULL && j < m->n_features ? m->feature_names[j] : NULL;
}

size_t aud_model_outputs(const aud_model *m)
{
    return m->n_outputs;
}

int aud_model_is_trees(const aud_model *m)
{
    return m->kind == AUD_MODEL_TREES;
}

int aud_model_is_binary(const aud_model *m)
{
    return m->link == AUD_LINK_SIGMOID && m->n_outputs == 1;
}

long aud_model_best_round(const aud_model *m, long *n_rounds)
{
    if (n_rounds != NULL)
        *n_rounds = m->n_iterations;
    return m->best_iteration;
}
