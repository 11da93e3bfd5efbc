/* prep.c - the preprocessing stage of scikit-learn pipelines (docs/model-formats.md,
 * "preprocess"), written by tools/export_sklearn.py:
 *   "preprocess": {"age": {"ops": [["fill", 41.5], ["sub", 40.2], ["div", 11.9]]},
 *                  "region": {"categories": ["E", "N", "S"], "values": [0, 1, 2],
 *                             "unknown": -1, "missing": null}}
 * Each key is a model feature (a raw column). Numeric ops are applied in order, in double, as
 * scikit-learn's transformers compute them (StandardScaler: (x - mean_) / scale_; MinMaxScaler:
 * x * scale_ + min_; RobustScaler: (x - center_) / scale_; SimpleImputer: NaN -> statistic).
 * A categorical feature takes the value listed for the cell's category (the exporter computes
 * those values by running the pipeline's own encoders: category codes for trees, whose one-hot
 * splits become category-set splits, or the summed contribution of the one-hot dummies for linear
 * models); "unknown" / "missing" give the value of an unseen category / a missing cell, null
 * (or absent) makes them an error, as handle_unknown="error" does. */
#define _GNU_SOURCE   /* qsort_r */
#include "models/model_int.h"
#include "core/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aud_prep_free(aud_prep *p, size_t n)
{
    if (p == NULL)
        return;
    for (size_t j = 0; j < n; j++) {
        aud_free(p[j].op);
        aud_free(p[j].arg);
        if (p[j].cat_text != NULL)
            for (size_t k = 0; k < p[j].n_cats; k++)
                aud_free(p[j].cat_text[k]);
        aud_free(p[j].cat_text);
        aud_free(p[j].cat_num);
        aud_free(p[j].order);
        aud_free(p[j].values);
    }
    aud_free(p);
}

static int perr(aud_error *err, int code, const char *name, const char *pre, const char *feature,
                const char *what, const char *msg)
{
    char field[300];
    snprintf(field, sizeof field, "%s%s%s%s", pre, feature, what[0] ? "." : "", what);
    aud_error_set(err, code, name, 0, 0, "%s", msg);
    return aud_error_field(err, field);
}

static size_t count(const cJSON *a)
{
    size_t n = 0;
    for (const cJSON *e = a != NULL ? a->child : NULL; e != NULL; e = e->next)
        n++;
    return n;
}

static int parse_ops(aud_prep *p, const cJSON *ops, const char *name, const char *f,
                     aud_error *err)
{
    static const char *const names[] = {"fill", "sub", "div", "mul", "add"};
    size_t n = count(ops);
    if (!cJSON_IsArray(ops) || n == 0 || n > 64)
        return perr(err, AUD_E_SCHEMA, name, "preprocess.", f, "ops", "expected a list of 1 to 64 [op, number]");
    p->op = aud_malloc(n);
    p->arg = aud_malloc(n * sizeof *p->arg);
    if (p->op == NULL || p->arg == NULL)
        return aud_error_nomem(err);
    p->kind = AUD_PREP_NUMERIC;
    for (const cJSON *e = ops->child; e != NULL; e = e->next) {
        const cJSON *o = cJSON_GetArrayItem(e, 0), *v = cJSON_GetArrayItem(e, 1);
        int k = -1;
        for (int i = 0; i < 5 && cJSON_IsString(o); i++)
            if (strcmp(o->valuestring, names[i]) == 0)
                k = i;
        if (!cJSON_IsArray(e) || count(e) != 2 || k < 0 || !cJSON_IsNumber(v) ||
            !isfinite(v->valuedouble) || (k == AUD_OP_DIV && v->valuedouble == 0.0))
            return perr(err, AUD_E_SCHEMA, name, "preprocess.", f, "ops",
                        "expected [op, number] with op fill, sub, div (not by 0), mul or add");
        p->op[p->n_ops] = (uint8_t)k;
        p->arg[p->n_ops++] = v->valuedouble;
    }
    return AUD_OK;
}

static int cmp_text(const void *a, const void *b, void *ctx)
{
    const aud_prep *p = ctx;
    return strcmp(p->cat_text[*(const size_t *)a], p->cat_text[*(const size_t *)b]);
}

static int cmp_num(const void *a, const void *b, void *ctx)
{
    const aud_prep *p = ctx;
    double x = p->cat_num[*(const size_t *)a], y = p->cat_num[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* A number, or null / absent (has = 0). */
static int opt_number(const cJSON *v, int *has, double *out)
{
    *has = 0;
    if (v == NULL || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return 0;
    *has = 1;
    *out = v->valuedouble;
    return 1;
}

/* Categories `cats` with their values `vals` (NULL: the values are the codes 0, 1, ...); errors
 * name the field pre + f + ".categories" / ".values". */
static int fill_categories(aud_prep *p, const cJSON *cats, const cJSON *vals, const char *name,
                           const char *pre, const char *f, aud_error *err)
{
    size_t n = count(cats);
    if (!cJSON_IsArray(cats) || n == 0 || n > 1000000)
        return perr(err, AUD_E_SCHEMA, name, pre, f, "categories",
                    "expected a list of 1 to 1000000 strings or numbers");
    if (vals != NULL && (!cJSON_IsArray(vals) || count(vals) != n))
        return perr(err, AUD_E_SCHEMA, name, pre, f, "values",
                    "expected one number per category");
    int text = cJSON_IsString(cats->child);
    p->kind = AUD_PREP_CATEGORICAL;
    p->n_cats = n;
    p->values = aud_malloc(n * sizeof *p->values);
    p->order = aud_malloc(n * sizeof *p->order);
    if (text)
        p->cat_text = aud_calloc(n, sizeof *p->cat_text);
    else
        p->cat_num = aud_malloc(n * sizeof *p->cat_num);
    if (p->values == NULL || p->order == NULL || (text ? p->cat_text == NULL : p->cat_num == NULL))
        return aud_error_nomem(err);
    size_t k = 0;
    for (const cJSON *c = cats->child, *v = vals != NULL ? vals->child : NULL; c != NULL;
         c = c->next, v = v != NULL ? v->next : NULL, k++) {
        if (text ? !cJSON_IsString(c) : !(cJSON_IsNumber(c) && isfinite(c->valuedouble)))
            return perr(err, AUD_E_SCHEMA, name, pre, f, "categories",
                        "expected all strings or all finite numbers");
        if (vals != NULL && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)))
            return perr(err, AUD_E_SCHEMA, name, pre, f, "values", "expected finite numbers");
        p->values[k] = vals != NULL ? v->valuedouble : (double)k;
        p->order[k] = k;
        if (text && (p->cat_text[k] = aud_strdup(c->valuestring)) == NULL)
            return aud_error_nomem(err);
        if (!text)
            p->cat_num[k] = c->valuedouble;
    }
    qsort_r(p->order, n, sizeof *p->order, text ? cmp_text : cmp_num, p);
    for (k = 1; k < n; k++)
        if ((text ? cmp_text : cmp_num)(&p->order[k - 1], &p->order[k], p) == 0)
            return perr(err, AUD_E_SCHEMA, name, pre, f, "categories", "a category is listed twice");
    return AUD_OK;
}

static int parse_categories(aud_prep *p, const cJSON *o, const char *name, const char *f,
                            aud_error *err)
{
    const char *pre = "preprocess.";
    int rc = fill_categories(p, cJSON_GetObjectItemCaseSensitive(o, "categories"),
                             cJSON_GetObjectItemCaseSensitive(o, "values"), name, pre, f, err);
    if (rc != AUD_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(o, "values") == NULL)
        return perr(err, AUD_E_SCHEMA, name, pre, f, "values", "expected one number per category");
    if (!opt_number(cJSON_GetObjectItemCaseSensitive(o, "unknown"), &p->has_unknown, &p->unknown))
        return perr(err, AUD_E_SCHEMA, name, pre, f, "unknown", "expected a finite number or null");
    if (!opt_number(cJSON_GetObjectItemCaseSensitive(o, "missing"), &p->has_missing, &p->missing))
        return perr(err, AUD_E_SCHEMA, name, pre, f, "missing", "expected a finite number or null");
    return AUD_OK;
}

int aud_prep_parse(aud_model *m, const cJSON *pre, const char *name, aud_error *err)
{
    if (pre == NULL)
        return AUD_OK;
    if (!cJSON_IsObject(pre) || m->feature_names == NULL)
        return perr(err, AUD_E_SCHEMA, name, "preprocess.", "", "",
                    "expected an object {feature: stage} (and a model with feature names)");
    m->prep = aud_calloc(m->n_features + 1, sizeof *m->prep);
    if (m->prep == NULL)
        return aud_error_nomem(err);
    static const char *const num_keys[] = {"ops", NULL};
    static const char *const cat_keys[] = {"categories", "values", "unknown", "missing", NULL};
    for (const cJSON *e = pre->child; e != NULL; e = e->next) {
        size_t j = 0;
        while (j < m->n_features && strcmp(m->feature_names[j], e->string) != 0)
            j++;
        if (j == m->n_features)
            return perr(err, AUD_E_SCHEMA, name, "preprocess.", e->string, "", "not a feature of the model");
        aud_prep *p = &m->prep[j];
        if (p->kind != AUD_PREP_NONE)
            return perr(err, AUD_E_SCHEMA, name, "preprocess.", e->string, "", "given twice");
        const cJSON *ops = cJSON_GetObjectItemCaseSensitive(e, "ops");
        if (!cJSON_IsObject(e))
            return perr(err, AUD_E_SCHEMA, name, "preprocess.", e->string, "", "expected an object");
        int rc = aud_json_only_keys(e, ops != NULL ? num_keys : cat_keys, name, err);
        if (rc == AUD_OK)
            rc = ops != NULL ? parse_ops(p, ops, name, e->string, err)
                             : parse_categories(p, e, name, e->string, err);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

long aud_prep_find_text(const aud_prep *p, const char *s)
{
    size_t lo = 0, hi = p->n_cats;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->cat_text[p->order[mid]], s);
        if (c == 0)
            return (long)p->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static long find_num(const aud_prep *p, double x)
{
    size_t lo = 0, hi = p->n_cats;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        double v = p->cat_num[p->order[mid]];
        if (v == x)
            return (long)p->order[mid];
        if (v < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

double aud_prep_value(const aud_model *m, size_t j, const aud_column *c, size_t row, int *bad)
{
    const aud_prep *p = m->prep != NULL ? &m->prep[j] : NULL;
    *bad = 0;
    if (p == NULL || p->kind == AUD_PREP_NONE)
        return c->num[row];
    if (p->kind == AUD_PREP_NUMERIC) {
        double x = c->num[row];
        for (size_t i = 0; i < p->n_ops; i++) {
            switch ((aud_prep_op)p->op[i]) {
            case AUD_OP_FILL: x = isnan(x) ? p->arg[i] : x; break;
            case AUD_OP_SUB: x -= p->arg[i]; break;
            case AUD_OP_DIV: x /= p->arg[i]; break;
            case AUD_OP_MUL: x *= p->arg[i]; break;
            case AUD_OP_ADD: x += p->arg[i]; break;
            }
        }
        return x;
    }
    long k;
    if (p->native && p->cat_text != NULL && c->type == AUD_COL_NUMERIC)
        return c->num[row];   /* already a code, as the library reads a non-category column */
    if (c->type == AUD_COL_CATEGORICAL) {
        int32_t code = c->codes[row];
        if (code < 0)
            goto missing;
        k = p->cat_text != NULL ? aud_prep_find_text(p, c->levels[code]) : -1;
    } else {
        double x = c->num[row];
        if (isnan(x))
            goto missing;
        if (p->cat_text != NULL) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", x);
            k = aud_prep_find_text(p, buf);
        } else {
            k = find_num(p, x);
        }
    }
    if (k >= 0)
        return p->values[k];
    if (p->has_unknown)
        return p->unknown;
    *bad = 1;
    return NAN;
missing:
    if (p->has_missing)
        return p->missing;
    *bad = 2;
    return NAN;
}

int aud_prep_native(aud_model *m, size_t j, const cJSON *list, int unknown_nan, const char *name,
                    const char *field, aud_error *err)
{
    if (m->prep == NULL && (m->prep = aud_calloc(m->n_features + 1, sizeof *m->prep)) == NULL)
        return aud_error_nomem(err);
    aud_prep *p = &m->prep[j];
    if (p->kind != AUD_PREP_NONE) {
        aud_error_set(err, AUD_E_SCHEMA, name, 0, 0, "categories of feature %zu given twice", j);
        return aud_error_field(err, field);
    }
    int rc = fill_categories(p, list, NULL, name, "", field, err);
    if (rc != AUD_OK)
        return rc;
    p->native = 1;
    p->has_missing = 1;
    p->missing = NAN;
    p->has_unknown = unknown_nan;
    p->unknown = NAN;
    return AUD_OK;
}

int aud_model_set_categories(aud_model *m, const char *path, aud_error *err)
{
    char *data = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    int rc = aud_file_read(path, &data, &len, (size_t)1 << 30, err);
    if (rc == AUD_OK)
        rc = aud_json_parse_located(&root, data, len, path, err);
    aud_free(data);
    if (rc != AUD_OK)
        return rc;
    if (!cJSON_IsObject(root)) {
        rc = aud_error_set(err, AUD_E_SCHEMA, path, 0, 0,
                           "expected an object {\"column\": [categories in code order], ...}");
        goto done;
    }
    for (size_t j = 0; m->prep != NULL && j < m->n_features; j++) {
        if (m->prep[j].kind == AUD_PREP_NONE)
            continue;
        rc = aud_error_set(err, AUD_E_USAGE, path, 0, 0,
                           m->prep[j].native ? "the model file carries its own category mapping "
                                               "(LightGBM pandas_categorical, XGBoost >= 3.1 "
                                               "cats); --categories is not needed"
                                             : "the model has a preprocessing stage, whose "
                                               "encoders code its categories");
        goto done;
    }
    if (m->kind != AUD_MODEL_TREES || m->cat_feature == NULL) {
        rc = aud_error_set(err, AUD_E_USAGE, path, 0, 0,
                           "the model has no categorical features (no category-set splits)");
        goto done;
    }
    int unknown_nan = m->format != NULL && strcmp(m->format, "lightgbm-text") == 0;
    for (const cJSON *e = root->child; e != NULL && rc == AUD_OK; e = e->next) {
        size_t j = 0;
        while (m->feature_names != NULL && j < m->n_features &&
               strcmp(m->feature_names[j], e->string) != 0)
            j++;
        if (m->feature_names == NULL || j == m->n_features) {
            aud_error_set(err, AUD_E_SCHEMA, path, 0, 0, "\"%s\" is not a feature of the model%s",
                          e->string, m->feature_names == NULL ? " (it has no feature names)" : "");
            rc = aud_error_field(err, e->string);
        } else if (!m->cat_feature[j]) {
            aud_error_set(err, AUD_E_SCHEMA, path, 0, 0,
                          "feature \"%s\" is not categorical in the model (no category-set "
                          "split uses it)", e->string);
            rc = aud_error_field(err, e->string);
        } else {
            rc = aud_prep_native(m, j, e, unknown_nan, path, e->string, err);
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}
