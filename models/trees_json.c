/* trees_json.c - the project's tree-ensemble format (docs/model-formats.md), written by
 * tools/export_sklearn.py for scikit-learn trees, forests and gradient boosting:
 *   {"format": "audit-trees", "version": 1, "features": ["a", ...] | null, "n_outputs": K,
 *    "link": "identity" | "logit" | "softmax" | "exp", "base_score": [K numbers, margin space],
 *    "average": bool, "is_classifier": bool, "objective": "...", "missing": "error" | "default",
 *    "trees": [{"output": k, "split": "le_f32" | "lt_f32", "left": [...], "right": [...],
 *               "feature": [...], "threshold": [...], "value": [...], "cover": [...],
 *               "default_left": [...]}]}
 * Leaves have left == right == -1. split le_f32: left iff float32(x) <= threshold (scikit-learn);
 * lt_f32: left iff float32(x) < float32(threshold) (XGBoost). "missing": "error" (scikit-learn < 1.3
 * trees, no default_left needed) makes prediction refuse missing values; "default" routes NaN by
 * default_left (required then). margin[k] = base_score[k] + sum (or mean with "average") of the
 * values of the trees of output k. */
#include "models/model_int.h"
#include "core/io.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static int ferr(aud_error *err, int code, const char *name, const char *field, const char *msg)
{
    aud_error_set(err, code, name, 0, 0, "%s", msg);
    return aud_error_field(err, field);
}

static const cJSON *key(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Numbers of array `k` of object o into out (n values exactly); ints checked against [lo, hi]. */
static int num_array(const cJSON *o, const char *k, size_t n, double *out, int integral, double lo,
                     double hi, const char *name, const char *where, aud_error *err)
{
    char field[160];
    snprintf(field, sizeof field, "%s.%s", where, k);
    const cJSON *a = key(o, k);
    if (!cJSON_IsArray(a))
        return ferr(err, AUD_E_SCHEMA, name, field, "missing array");
    size_t i = 0;
    for (const cJSON *e = a->child; e != NULL; e = e->next, i++) {
        if (i == n)
            return ferr(err, AUD_E_SCHEMA, name, field, "more elements than \"left\"");
        if (!cJSON_IsNumber(e)) {
            snprintf(field, sizeof field, "%s.%s[%zu]", where, k, i);
            return ferr(err, AUD_E_SCHEMA, name, field, "expected a number");
        }
        double v = e->valuedouble;
        if (integral && (!(v >= lo && v <= hi) || v != (double)(long long)v)) {
            snprintf(field, sizeof field, "%s.%s[%zu]", where, k, i);
            aud_error_set(err, AUD_E_DOMAIN, name, 0, 0, "%g is not an integer in [%g, %g]", v,
                          lo, hi);
            return aud_error_field(err, field);
        }
        out[i] = v;
    }
    if (i != n)
        return ferr(err, AUD_E_SCHEMA, name, field, "fewer elements than \"left\"");
    return AUD_OK;
}

/* "categories": per node null, or the list of category codes that go left (a one-hot split of a
 * pipeline: left iff the feature's code is in the set; NaN, negative and other codes go right). */
static int parse_sets(aud_tree *t, const cJSON *sets, const char *name, const char *where,
                      aud_error *err)
{
    char field[160];
    snprintf(field, sizeof field, "%s.categories", where);
    size_t n = (size_t)t->n_nodes, words = 0, i = 0;
    if (!cJSON_IsArray(sets))
        return ferr(err, AUD_E_SCHEMA, name, field, "expected a list of null or code lists");
    for (const cJSON *e = sets->child; e != NULL; e = e->next, i++) {
        if (i == n)
            return ferr(err, AUD_E_SCHEMA, name, field, "more elements than \"left\"");
        if (cJSON_IsNull(e))
            continue;
        double mx = -1;
        if (!cJSON_IsArray(e) || t->left[i] < 0)
            return ferr(err, AUD_E_SCHEMA, name, field,
                        "expected null or a list of codes (internal nodes only)");
        for (const cJSON *c = e->child; c != NULL; c = c->next) {
            if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble < 1048576) ||
                c->valuedouble != (double)(int32_t)c->valuedouble)
                return ferr(err, AUD_E_DOMAIN, name, field,
                            "a category code is not an integer in [0, 1048576)");
            mx = c->valuedouble > mx ? c->valuedouble : mx;
        }
        t->cat_begin[i] = (int32_t)words;
        t->cat_words[i] = (int32_t)((mx + 1 + 31) / 32);
        words += (size_t)t->cat_words[i];
        if (words > (size_t)1 << 26)
            return ferr(err, AUD_E_DOMAIN, name, field, "category sets too large");
    }
    if (i != n)
        return ferr(err, AUD_E_SCHEMA, name, field, "fewer elements than \"left\"");
    t->cat_bits = aud_calloc(words + 1, sizeof *t->cat_bits);
    if (t->cat_bits == NULL)
        return aud_error_nomem(err);
    t->n_cat_bits = (int32_t)words;
    i = 0;
    for (const cJSON *e = sets->child; e != NULL; e = e->next, i++) {
        if (cJSON_IsNull(e))
            continue;
        t->kind[i] = AUD_SPLIT_CAT;
        t->threshold[i] = 0.0;
        for (const cJSON *c = e->child; c != NULL; c = c->next) {
            uint32_t v = (uint32_t)c->valuedouble;
            t->cat_bits[t->cat_begin[i] + (int32_t)(v / 32)] |= 1u << (v % 32);
        }
    }
    return AUD_OK;
}

static int parse_tree(aud_model *m, const cJSON *jt, size_t idx, int want_default,
                      const char *name, aud_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "trees[%zu]", idx);
    if (!cJSON_IsObject(jt))
        return ferr(err, AUD_E_SCHEMA, name, where, "expected a tree object");
    const cJSON *left = key(jt, "left");
    if (!cJSON_IsArray(left))
        return ferr(err, AUD_E_SCHEMA, name, where, "missing array \"left\"");
    size_t n = 0;
    for (const cJSON *e = left->child; e != NULL; e = e->next)
        n++;
    if (n < 1 || n > AUD_MODEL_MAX_NODES)
        return ferr(err, AUD_E_DOMAIN, name, where, "node count out of range");
    aud_tree *t = &m->trees[idx];
    int rc = aud_tree_alloc(t, (int32_t)n, err);
    if (rc != AUD_OK)
        return rc;
    double *buf = aud_malloc(n * sizeof *buf);
    if (buf == NULL)
        return aud_error_nomem(err);
    double nn = (double)n, nf = (double)m->n_features;
    const cJSON *split = key(jt, "split"), *out = key(jt, "output");
    uint8_t kind = AUD_SPLIT_LE_F32;
    char field[96];
    if (split != NULL) {
        if (cJSON_IsString(split) && strcmp(split->valuestring, "le_f32") == 0) {
            kind = AUD_SPLIT_LE_F32;
        } else if (cJSON_IsString(split) && strcmp(split->valuestring, "lt_f32") == 0) {
            kind = AUD_SPLIT_LT_F32;
        } else {
            snprintf(field, sizeof field, "%s.split", where);
            rc = ferr(err, AUD_E_SCHEMA, name, field, "expected \"le_f32\" or \"lt_f32\"");
            goto done;
        }
    }
    if (out != NULL) {
        if (!cJSON_IsNumber(out) || !(out->valuedouble >= 0) ||
            out->valuedouble >= (double)m->n_outputs ||
            out->valuedouble != (double)(long)out->valuedouble) {
            snprintf(field, sizeof field, "%s.output", where);
            rc = ferr(err, AUD_E_DOMAIN, name, field, "output index out of range");
            goto done;
        }
        t->output = (int32_t)out->valuedouble;
    }
    if ((rc = num_array(jt, "left", n, buf, 1, -1, nn - 1, name, where, err)))
        goto done;
    for (size_t i = 0; i < n; i++)
        t->left[i] = (int32_t)buf[i];
    if ((rc = num_array(jt, "right", n, buf, 1, -1, nn - 1, name, where, err)))
        goto done;
    for (size_t i = 0; i < n; i++)
        t->right[i] = (int32_t)buf[i];
    if ((rc = num_array(jt, "value", n, buf, 0, 0, 0, name, where, err)))
        goto done;
    memcpy(t->value, buf, n * sizeof *buf);
    if (key(jt, "cover") != NULL) {
        if ((rc = num_array(jt, "cover", n, buf, 0, 0, 0, name, where, err)))
            goto done;
        memcpy(t->cover, buf, n * sizeof *buf);
    }
    /* features of leaves may be anything (scikit-learn writes -2); only internal nodes count */
    if ((rc = num_array(jt, "feature", n, buf, 1, -2, nf - 1, name, where, err)))
        goto done;
    for (size_t i = 0; i < n; i++)
        t->feature[i] = t->left[i] >= 0 ? (int32_t)buf[i] : -1;
    if ((rc = num_array(jt, "threshold", n, buf, 0, 0, 0, name, where, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        t->threshold[i] = t->left[i] >= 0 ? buf[i] : 0.0;
        t->kind[i] = kind;
        t->missing[i] = AUD_MISSING_NAN;
    }
    if (want_default) {
        if ((rc = num_array(jt, "default_left", n, buf, 1, 0, 1, name, where, err)))
            goto done;
        for (size_t i = 0; i < n; i++)
            t->default_left[i] = (uint8_t)buf[i];
    }
    if (key(jt, "categories") != NULL && (rc = parse_sets(t, key(jt, "categories"), name, where,
                                                          err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((t->left[i] < 0) != (t->right[i] < 0)) {
            snprintf(field, sizeof field, "%s.right[%zu]", where, i);
            rc = ferr(err, AUD_E_DOMAIN, name, field, "node has one child only");
            goto done;
        }
        if (t->left[i] >= 0 && t->feature[i] < 0) {
            snprintf(field, sizeof field, "%s.feature[%zu]", where, i);
            rc = ferr(err, AUD_E_DOMAIN, name, field, "internal node without a feature");
            goto done;
        }
    }
    rc = aud_tree_validate(t, m->n_features, name, where, err);
done:
    aud_free(buf);
    return rc;
}

int aud_trees_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                         aud_error *err)
{
    cJSON *root = NULL;
    int rc = aud_json_parse_located(&root, data, len, name, err);
    if (rc != AUD_OK)
        return rc;
    m->kind = AUD_MODEL_TREES;
    static const char *const known[] = { "format", "version", "features", "n_features",
                                         "n_outputs", "link", "base_score", "average",
                                         "is_classifier", "objective", "missing", "trees",
                                         "source", "preprocess", NULL };
    const cJSON *feats = key(root, "features"), *nfeat = key(root, "n_features");
    const cJSON *nout = key(root, "n_outputs"), *link = key(root, "link");
    const cJSON *base = key(root, "base_score"), *avg = key(root, "average");
    const cJSON *cls = key(root, "is_classifier"), *obj = key(root, "objective");
    const cJSON *miss = key(root, "missing"), *trees = key(root, "trees");
    int want_default = 1;
    if (!cJSON_IsObject(root)) {
        rc = ferr(err, AUD_E_SCHEMA, name, "", "expected a JSON object");
        goto done;
    }
    rc = aud_json_only_keys(root, known, name, err);
    if (rc != AUD_OK)
        goto done;
    const cJSON *fmt = key(root, "format"), *ver = key(root, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "audit-trees") != 0) {
        rc = ferr(err, AUD_E_SCHEMA, name, "format", "expected \"audit-trees\"");
        goto done;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
        rc = ferr(err, AUD_E_UNSUPPORTED, name, "version", "only version 1 is supported");
        goto done;
    }
    /* outputs and link */
    if (!cJSON_IsNumber(nout) || !(nout->valuedouble >= 1) ||
        nout->valuedouble > AUD_MODEL_MAX_OUTPUTS ||
        nout->valuedouble != (double)(long)nout->valuedouble) {
        rc = ferr(err, AUD_E_SCHEMA, name, "n_outputs", "expected an integer >= 1");
        goto done;
    }
    m->n_outputs = (size_t)nout->valuedouble;
    static const struct { const char *s; aud_link l; } links[] = {
        { "identity", AUD_LINK_IDENTITY }, { "logit", AUD_LINK_SIGMOID },
        { "softmax", AUD_LINK_SOFTMAX }, { "exp", AUD_LINK_EXP },
    };
    int found = 0;
    for (size_t k = 0; k < 4 && cJSON_IsString(link); k++)
        if (strcmp(link->valuestring, links[k].s) == 0) {
            m->link = links[k].l;
            found = 1;
        }
    if (!found || (m->link == AUD_LINK_SOFTMAX && m->n_outputs < 2)) {
        rc = ferr(err, AUD_E_SCHEMA, name, "link",
                  "expected identity, logit, exp, or softmax (with n_outputs >= 2)");
        goto done;
    }
    if (avg != NULL && !cJSON_IsBool(avg)) {
        rc = ferr(err, AUD_E_SCHEMA, name, "average", "expected true or false");
        goto done;
    }
    m->average_output = cJSON_IsTrue(avg);
    if (cls != NULL && !cJSON_IsBool(cls)) {
        rc = ferr(err, AUD_E_SCHEMA, name, "is_classifier", "expected true or false");
        goto done;
    }
    m->is_classifier = cJSON_IsTrue(cls);
    if (miss == NULL || (cJSON_IsString(miss) && strcmp(miss->valuestring, "default") == 0)) {
        want_default = 1;
    } else if (cJSON_IsString(miss) && strcmp(miss->valuestring, "error") == 0) {
        want_default = 0;
        m->no_missing = 1;
    } else {
        rc = ferr(err, AUD_E_SCHEMA, name, "missing", "expected \"error\" or \"default\"");
        goto done;
    }
    m->objective = aud_strdup(cJSON_IsString(obj) ? obj->valuestring : "trees");
    if (m->objective == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* features: names, or null with "n_features" */
    if (cJSON_IsArray(feats)) {
        size_t n = 0;
        for (const cJSON *e = feats->child; e != NULL; e = e->next)
            n++;
        if (n > AUD_MODEL_MAX_FEATURES) {
            rc = ferr(err, AUD_E_DOMAIN, name, "features", "too many features");
            goto done;
        }
        m->n_features = n;
        m->feature_names = aud_calloc(n + 1, sizeof *m->feature_names);
        if (m->feature_names == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        size_t j = 0;
        for (const cJSON *e = feats->child; e != NULL; e = e->next, j++) {
            if (!cJSON_IsString(e)) {
                rc = ferr(err, AUD_E_SCHEMA, name, "features", "expected an array of strings");
                goto done;
            }
            m->feature_names[j] = aud_strdup(e->valuestring);
            if (m->feature_names[j] == NULL) {
                rc = aud_error_nomem(err);
                goto done;
            }
        }
    } else if ((feats == NULL || cJSON_IsNull(feats)) && cJSON_IsNumber(nfeat) &&
               nfeat->valuedouble >= 0 && nfeat->valuedouble <= AUD_MODEL_MAX_FEATURES &&
               nfeat->valuedouble == (double)(long)nfeat->valuedouble) {
        m->n_features = (size_t)nfeat->valuedouble;
    } else {
        rc = ferr(err, AUD_E_SCHEMA, name, "features",
                  "expected an array of names, or null with \"n_features\"");
        goto done;
    }
    if ((rc = aud_prep_parse(m, key(root, "preprocess"), name, err)))
        goto done;
    /* base score (margin space) */
    m->base_margin = aud_calloc(m->n_outputs, sizeof *m->base_margin);
    if (m->base_margin == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (base != NULL) {
        size_t k = 0;
        if (!cJSON_IsArray(base)) {
            rc = ferr(err, AUD_E_SCHEMA, name, "base_score", "expected an array of n_outputs numbers");
            goto done;
        }
        for (const cJSON *e = base->child; e != NULL; e = e->next, k++) {
            if (k == m->n_outputs || !cJSON_IsNumber(e)) {
                rc = ferr(err, AUD_E_SCHEMA, name, "base_score",
                          "expected an array of n_outputs numbers");
                goto done;
            }
            m->base_margin[k] = e->valuedouble;
        }
        if (k != m->n_outputs) {
            rc = ferr(err, AUD_E_SCHEMA, name, "base_score", "expected an array of n_outputs numbers");
            goto done;
        }
    }
    /* trees */
    if (!cJSON_IsArray(trees) || trees->child == NULL) {
        rc = ferr(err, AUD_E_SCHEMA, name, "trees", "expected a non-empty array of trees");
        goto done;
    }
    size_t nt = 0;
    for (const cJSON *e = trees->child; e != NULL; e = e->next)
        nt++;
    m->trees = aud_calloc(nt, sizeof *m->trees);
    if (m->trees == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    size_t i = 0;
    for (const cJSON *e = trees->child; e != NULL; e = e->next, i++) {
        m->n_trees = i + 1;
        if ((rc = parse_tree(m, e, i, want_default, name, err)))
            goto done;
    }
done:
    cJSON_Delete(root);
    return rc;
}
