/* spec.c - strict reading of the `audit run` spec file (SPEC section 4). Unknown keys are errors
 * (a typo must not silently disable a check); every error names the key path, e.g.
 * `spec.json: "explain.rows": expected a whole number from 1 to 10000000`. */
#include "audit/spec.h"
#include "audit/checks.h"
#include "audit/bind.h"
#include "metrics/drift.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int aud_json_parse_located(cJSON **out, const char *text, size_t len, const char *name,
                           aud_error *err)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (doc != NULL) {
        *out = doc;
        return AUD_OK;
    }
    long line = 1, col = 1;
    const char *stop = end != NULL && end >= text && end <= text + len ? end : text + len;
    for (const char *p = text; p < stop; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (len == 0)
        return aud_error_set(err, AUD_E_PARSE, name, 0, 0, "empty file: expected JSON");
    return aud_error_set(err, AUD_E_PARSE, name, line, col, "invalid JSON");
}

/* ---- typed getters ------------------------------------------------------------------------ */

typedef struct ctx {
    const char *file;
    aud_error *err;
} ctx;

static int key_error(ctx *c, const char *prefix, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int key_error(ctx *c, const char *prefix, const char *key, const char *fmt, ...)
{
    char path[128];
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
    aud_error_set(c->err, AUD_E_SCHEMA, c->file, 0, 0, "%s", msg);
    return aud_error_field(c->err, path);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

/* Every key of obj must be in allowed (NULL-terminated); duplicates are errors too. */
static int check_keys(ctx *c, const cJSON *obj, const char *prefix, const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        int ok = 0;
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(it->string, allowed[i]) == 0) {
                ok = 1;
                break;
            }
            size_t d = edit_distance(it->string, allowed[i]);
            if (d < best_d) {
                best_d = d;
                best = allowed[i];
            }
        }
        if (!ok) {
            if (best != NULL)
                return key_error(c, prefix, it->string, "unknown key (did you mean \"%s\"?)",
                                 best);
            return key_error(c, prefix, it->string, "unknown key");
        }
        for (const cJSON *o = it->next; o != NULL; o = o->next) {
            if (strcmp(o->string, it->string) == 0)
                return key_error(c, prefix, it->string, "key given twice");
        }
    }
    return AUD_OK;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int get_string(ctx *c, const cJSON *obj, const char *prefix, const char *key, char **out)
{
    const cJSON *v = member(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return AUD_OK;
    if (!cJSON_IsString(v))
        return key_error(c, prefix, key, "expected a string");
    if (v->valuestring[0] == '\0')
        return key_error(c, prefix, key, "must not be empty");
    aud_free(*out);
    *out = aud_strdup(v->valuestring);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* A string that may be empty (report fields such as approved_by). */
static int get_text(ctx *c, const cJSON *obj, const char *prefix, const char *key, char **out)
{
    const cJSON *v = member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsString(v))
        return key_error(c, prefix, key, "expected a string");
    *out = aud_strdup(v->valuestring);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

static int get_number(ctx *c, const cJSON *obj, const char *prefix, const char *key, double lo,
                      double hi, double *out, int *present)
{
    const cJSON *v = member(obj, key);
    if (present != NULL)
        *present = 0;
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return key_error(c, prefix, key, "expected a number");
    if (v->valuedouble < lo || v->valuedouble > hi)
        return key_error(c, prefix, key, "expected a number from %g to %g, got %g", lo, hi,
                         v->valuedouble);
    *out = v->valuedouble;
    if (present != NULL)
        *present = 1;
    return AUD_OK;
}

static int get_whole(ctx *c, const cJSON *obj, const char *prefix, const char *key, double lo,
                     double hi, long *out)
{
    const cJSON *v = member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return key_error(c, prefix, key, "expected a whole number from %.0f to %.0f", lo, hi);
    *out = (long)v->valuedouble;
    return AUD_OK;
}

static int get_bool(ctx *c, const cJSON *obj, const char *prefix, const char *key, int *out)
{
    const cJSON *v = member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsBool(v))
        return key_error(c, prefix, key, "expected true or false");
    *out = cJSON_IsTrue(v);
    return AUD_OK;
}

/* A list of distinct strings (a single string is a list of one) into *out, NULL-terminated. */
static int get_strings(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                       int allow_empty, char ***out, size_t *n)
{
    const cJSON *v = member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsString(v)) {   /* a single name is accepted for a list of one */
        *out = aud_calloc(2, sizeof **out);
        if (*out == NULL || ((*out)[0] = aud_strdup(v->valuestring)) == NULL)
            return aud_error_nomem(c->err);
        *n = 1;
        return AUD_OK;
    }
    if (!cJSON_IsArray(v))
        return key_error(c, prefix, key, "expected a list of strings");
    size_t count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it) || (!allow_empty && it->valuestring[0] == '\0'))
            return key_error(c, prefix, key, allow_empty ? "expected a list of strings"
                                                         : "expected a list of non-empty strings");
        count++;
    }
    *out = aud_calloc(count + 1, sizeof **out);
    if (*out == NULL)
        return aud_error_nomem(c->err);
    *n = 0;
    cJSON_ArrayForEach(it, v) {
        for (size_t j = 0; j < *n; j++) {
            if (strcmp((*out)[j], it->valuestring) == 0)
                return key_error(c, prefix, key, "\"%s\" is listed twice", it->valuestring);
        }
        (*out)[*n] = aud_strdup(it->valuestring);
        if ((*out)[*n] == NULL)
            return aud_error_nomem(c->err);
        (*n)++;
    }
    return AUD_OK;
}

static int get_string_list(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                           char ***out, size_t *n)
{
    return get_strings(c, obj, prefix, key, 0, out, n);
}

static int get_object(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      const cJSON **out)
{
    const cJSON *v = member(obj, key);
    *out = NULL;
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsObject(v))
        return key_error(c, prefix, key, "expected an object");
    *out = v;
    return AUD_OK;
}

/* Path relative to the spec file's folder (absolute paths unchanged). */
static char *resolve(const char *base_dir, const char *p)
{
    if (p[0] == '/' || base_dir[0] == '\0')
        return aud_strdup(p);
    size_t n = strlen(base_dir) + strlen(p) + 2;
    char *r = aud_malloc(n);
    if (r != NULL)
        snprintf(r, n, "%s/%s", base_dir, p);
    return r;
}

static int get_path(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                    const char *base, char **out)
{
    char *raw = NULL;
    int rc = get_string(c, obj, prefix, key, &raw);
    if (rc != AUD_OK || raw == NULL)
        return rc;
    *out = resolve(base, raw);
    aud_free(raw);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* Every key and string of the spec must be UTF-8 text: they are copied into results.json. */
static int check_utf8(ctx *c, const cJSON *node, const char *path)
{
    for (const cJSON *it = node->child; it != NULL; it = it->next) {
        char sub[128];
        if (it->string != NULL)
            snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", it->string);
        else
            snprintf(sub, sizeof sub, "%s", path);
        if (it->string != NULL &&
            aud_utf8_invalid_at((const unsigned char *)it->string, strlen(it->string)) !=
                (size_t)-1)
            return key_error(c, "", sub, "key is not valid UTF-8 text");
        if (cJSON_IsString(it) &&
            aud_utf8_invalid_at((const unsigned char *)it->valuestring,
                                strlen(it->valuestring)) != (size_t)-1)
            return key_error(c, "", sub, "is not valid UTF-8 text");
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            int rc = check_utf8(c, it, sub);
            if (rc != AUD_OK)
                return rc;
        }
    }
    return AUD_OK;
}

/* ---- sections ----------------------------------------------------------------------------- */

static int read_checks(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"metric", "min", "max", "attribute", "group", "column",
                                       NULL};
    const cJSON *arr = member(root, "checks");
    if (arr == NULL)
        return AUD_OK;
    if (!cJSON_IsArray(arr))
        return key_error(c, "", "checks", "expected a list of checks");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    s->checks = aud_calloc(n ? n : 1, sizeof *s->checks);
    if (s->checks == NULL)
        return aud_error_nomem(c->err);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "checks[%zu]", s->n_checks);
        aud_check_spec *k = &s->checks[s->n_checks++];
        if (!cJSON_IsObject(it))
            return key_error(c, "", prefix, "expected an object");
        int rc = check_keys(c, it, prefix, keys);
        if (rc == AUD_OK)
            rc = get_string(c, it, prefix, "metric", &k->metric);
        if (rc == AUD_OK)
            rc = get_number(c, it, prefix, "min", -HUGE_VAL, HUGE_VAL, &k->min, &k->has_min);
        if (rc == AUD_OK)
            rc = get_number(c, it, prefix, "max", -HUGE_VAL, HUGE_VAL, &k->max, &k->has_max);
        if (rc == AUD_OK)
            rc = get_string(c, it, prefix, "attribute", &k->attribute);
        if (rc == AUD_OK)
            rc = get_string(c, it, prefix, "group", &k->group);
        if (rc == AUD_OK)
            rc = get_string(c, it, prefix, "column", &k->column);
        if (rc != AUD_OK)
            return rc;
        if (k->metric == NULL)
            return key_error(c, prefix, "metric", "is required");
        if (!k->has_min && !k->has_max)
            return key_error(c, prefix, "min", "a check needs \"min\" or \"max\"");
        if (k->has_min && k->has_max && k->min > k->max)
            return key_error(c, prefix, "min", "is greater than \"max\"");
    }
    return AUD_OK;
}

static int read_explain(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"method", "rows", "background", "output", "show_rows",
                                       NULL};
    const cJSON *v = member(root, "explain");
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsBool(v)) {
        s->explain.enabled = cJSON_IsTrue(v);
        return AUD_OK;
    }
    if (!cJSON_IsObject(v))
        return key_error(c, "", "explain", "expected an object or false");
    int rc = check_keys(c, v, "explain", keys);
    if (rc == AUD_OK)
        rc = get_string(c, v, "explain", "method", &s->explain.method);
    if (rc == AUD_OK)
        rc = get_string(c, v, "explain", "output", &s->explain.output);
    if (rc == AUD_OK)
        rc = get_whole(c, v, "explain", "rows", 1, 1e7, &s->explain.rows);
    if (rc == AUD_OK)
        rc = get_whole(c, v, "explain", "background", 1, 1e6, &s->explain.background);
    if (rc != AUD_OK)
        return rc;
    const cJSON *show = member(v, "show_rows");
    if (show != NULL) {
        const cJSON *it;
        if (!cJSON_IsArray(show))
            return key_error(c, "explain", "show_rows", "expected a list of row numbers");
        size_t n = (size_t)cJSON_GetArraySize(show);
        s->explain.show_rows = aud_calloc(n ? n : 1, sizeof *s->explain.show_rows);
        if (s->explain.show_rows == NULL)
            return aud_error_nomem(c->err);
        cJSON_ArrayForEach(it, show) {
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
                it->valuedouble < 0 || it->valuedouble > 1e12)
                return key_error(c, "explain", "show_rows",
                                 "expected a list of 0-based data row numbers");
            s->explain.show_rows[s->explain.n_show_rows++] = (long)it->valuedouble;
        }
    }
    static const char *const methods[] = {"auto", "tree", "tree-interventional", "linear",
                                          "kernel", "exact", NULL};
    int ok = 0;
    for (size_t i = 0; methods[i] != NULL; i++)
        ok |= strcmp(methods[i], s->explain.method) == 0;
    if (!ok)
        return key_error(c, "explain", "method",
                         "expected auto, tree, tree-interventional, linear, kernel or exact");
    if (strcmp(s->explain.output, "raw") != 0 && strcmp(s->explain.output, "probability") != 0)
        return key_error(c, "explain", "output", "expected raw or probability");
    return AUD_OK;
}

/* "drift.overrides": {"COL": {"method": M, "threshold": T}, ...} (SPEC 3: the primary test is
 * overridable per column). Methods are checked here; column names when the data is read. */
static int read_drift_overrides(ctx *c, const cJSON *drift, aud_spec *s)
{
    static const char *const keys[] = {"method", "threshold", NULL};
    const cJSON *ov;
    int rc = get_object(c, drift, "drift", "overrides", &ov);
    if (rc != AUD_OK || ov == NULL)
        return rc;
    size_t n = (size_t)cJSON_GetArraySize(ov);
    s->drift.override_cols = aud_calloc(n ? n : 1, sizeof *s->drift.override_cols);
    s->drift.override_methods = aud_calloc(n ? n : 1, sizeof *s->drift.override_methods);
    s->drift.override_thresholds = aud_calloc(n ? n : 1, sizeof *s->drift.override_thresholds);
    if (s->drift.override_cols == NULL || s->drift.override_methods == NULL ||
        s->drift.override_thresholds == NULL)
        return aud_error_nomem(c->err);
    const cJSON *it;
    cJSON_ArrayForEach(it, ov) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "drift.overrides.%s", it->string);
        size_t i = s->drift.n_overrides;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->drift.override_cols[j], it->string) == 0)
                return key_error(c, "drift.overrides", it->string, "key given twice");
        if (!cJSON_IsObject(it))
            return key_error(c, "drift.overrides", it->string,
                             "expected an object {\"method\": M, \"threshold\": T}");
        s->drift.override_cols[i] = aud_strdup(it->string);
        s->drift.override_thresholds[i] = NAN;
        s->drift.n_overrides++;
        if (s->drift.override_cols[i] == NULL)
            return aud_error_nomem(c->err);
        rc = check_keys(c, it, prefix, keys);
        if (rc == AUD_OK)
            rc = get_string(c, it, prefix, "method", &s->drift.override_methods[i]);
        if (rc == AUD_OK)
            rc = get_number(c, it, prefix, "threshold", 0, HUGE_VAL,
                            &s->drift.override_thresholds[i], NULL);
        aud_drift_method m;
        if (rc == AUD_OK && s->drift.override_methods[i] != NULL &&
            aud_drift_method_parse(s->drift.override_methods[i], &m) != 0)
            rc = key_error(c, prefix, "method", "unknown drift method \"%s\"",
                           s->drift.override_methods[i]);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

/* "compliance": "nyc-ll144" (sex and race are the first two sensitive attributes), or
 * {"nyc-ll144": {"sex": COL, "race": COL}} naming them among the sensitive attributes. */
static int read_compliance(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"nyc-ll144", NULL};
    static const char *const ll_keys[] = {"sex", "race", NULL};
    const cJSON *v = member(root, "compliance");
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "nyc-ll144") != 0)
            return key_error(c, "", "compliance", "expected \"nyc-ll144\"");
    } else if (cJSON_IsObject(v)) {
        const cJSON *ll;
        int rc = check_keys(c, v, "compliance", keys);
        if (rc == AUD_OK)
            rc = get_object(c, v, "compliance", "nyc-ll144", &ll);
        if (rc == AUD_OK && ll == NULL)
            rc = key_error(c, "", "compliance", "expected {\"nyc-ll144\": {...}}");
        if (rc == AUD_OK)
            rc = check_keys(c, ll, "compliance.nyc-ll144", ll_keys);
        if (rc == AUD_OK)
            rc = get_string(c, ll, "compliance.nyc-ll144", "sex", &s->ll144_sex);
        if (rc == AUD_OK)
            rc = get_string(c, ll, "compliance.nyc-ll144", "race", &s->ll144_race);
        if (rc == AUD_OK && (s->ll144_sex == NULL || s->ll144_race == NULL))
            rc = key_error(c, "compliance", "nyc-ll144", "needs \"sex\" and \"race\" columns");
        if (rc != AUD_OK)
            return rc;
    } else {
        return key_error(c, "", "compliance",
                         "expected \"nyc-ll144\" or {\"nyc-ll144\": {\"sex\": S, \"race\": R}}");
    }
    s->compliance = aud_strdup("nyc-ll144");
    return s->compliance == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* The LL144 attributes must be sensitive attributes (checked once "sensitive" is read). */
static int check_ll144(ctx *c, const aud_spec *s)
{
    if (s->compliance == NULL)
        return AUD_OK;
    if (s->n_sensitive < 2)
        return key_error(c, "", "compliance",
                         "nyc-ll144 needs two sensitive attributes (sex and race/ethnicity)");
    const char *names[2] = {s->ll144_sex, s->ll144_race};
    const char *keys[2] = {"sex", "race"};
    for (int k = 0; k < 2; k++) {
        if (names[k] == NULL)
            continue;
        size_t i = 0;
        while (i < s->n_sensitive && strcmp(s->sensitive[i], names[k]) != 0)
            i++;
        if (i == s->n_sensitive)
            return key_error(c, "compliance.nyc-ll144", keys[k],
                             "\"%s\" is not one of the sensitive attributes", names[k]);
    }
    if (names[0] != NULL && strcmp(names[0], names[1]) == 0)
        return key_error(c, "compliance.nyc-ll144", "race", "is the same column as \"sex\"");
    return AUD_OK;
}

static int read_drift(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"method", "threshold", "psi_binning", "share", "columns",
                                       "overrides", NULL};
    const cJSON *v;
    int rc = get_object(c, root, "", "drift", &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = check_keys(c, v, "drift", keys);
    if (rc == AUD_OK)
        rc = get_string(c, v, "drift", "method", &s->drift.method);
    if (rc == AUD_OK)
        rc = get_number(c, v, "drift", "threshold", 0, HUGE_VAL, &s->drift.threshold, NULL);
    if (rc == AUD_OK)
        rc = get_string(c, v, "drift", "psi_binning", &s->drift.psi_binning);
    if (rc == AUD_OK)
        rc = get_number(c, v, "drift", "share", 0, 1, &s->drift.share, NULL);
    if (rc == AUD_OK)
        rc = get_string_list(c, v, "drift", "columns", &s->drift.columns, &s->drift.n_columns);
    if (rc == AUD_OK)
        rc = read_drift_overrides(c, v, s);
    if (rc == AUD_OK && strcmp(s->drift.psi_binning, "quantile") != 0 &&
        strcmp(s->drift.psi_binning, "evidently") != 0)
        return key_error(c, "drift", "psi_binning", "expected quantile or evidently");
    return rc;
}

static int read_fairness(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"reference", "min_group_share", "bootstrap", NULL};
    const cJSON *v, *ref;
    int rc = get_object(c, root, "", "fairness", &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = check_keys(c, v, "fairness", keys);
    if (rc == AUD_OK)
        rc = get_number(c, v, "fairness", "min_group_share", 0, 1, &s->min_group_share, NULL);
    if (rc == AUD_OK)
        rc = get_whole(c, v, "fairness", "bootstrap", 0, 100000, &s->bootstrap);
    if (rc == AUD_OK)
        rc = get_object(c, v, "fairness", "reference", &ref);
    if (rc != AUD_OK || ref == NULL)
        return rc;
    size_t n = (size_t)cJSON_GetArraySize(ref);
    s->reference_groups = aud_calloc(2 * n + 1, sizeof *s->reference_groups);
    if (s->reference_groups == NULL)
        return aud_error_nomem(c->err);
    const cJSON *it;
    cJSON_ArrayForEach(it, ref) {
        if (!cJSON_IsString(it))
            return key_error(c, "fairness.reference", it->string, "expected a group name");
        char **pair = &s->reference_groups[2 * s->n_reference_groups];
        pair[0] = aud_strdup(it->string);
        pair[1] = aud_strdup(it->valuestring);
        s->n_reference_groups++;
        if (pair[0] == NULL || pair[1] == NULL)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

static int read_outputs(ctx *c, const cJSON *root, aud_spec *s, const char *base)
{
    static const char *const keys[] = {"dir", "json", "pdf", "xlsx", "log", NULL};
    const cJSON *v;
    int rc = get_object(c, root, "", "outputs", &v);
    if (rc == AUD_OK && v != NULL) {
        rc = check_keys(c, v, "outputs", keys);
        if (rc == AUD_OK)
            rc = get_path(c, v, "outputs", "dir", base, &s->outputs.dir);
        const char *names[] = {"json", "pdf", "xlsx", "log"};
        char **dst[] = {&s->outputs.json, &s->outputs.pdf, &s->outputs.xlsx, &s->outputs.log};
        for (int i = 0; i < 4 && rc == AUD_OK; i++) {
            if (i > 0) {   /* only results.json is written unless the others are named */
                aud_free(*dst[i]);
                *dst[i] = NULL;
            }
            rc = get_string(c, v, "outputs", names[i], dst[i]);
            if (rc == AUD_OK && *dst[i] != NULL && strchr(*dst[i], '/') != NULL)
                rc = key_error(c, "outputs", names[i],
                               "expected a file name inside \"dir\", not a path");
        }
    }
    const char *names[] = {"json", "pdf", "xlsx", "log"};
    char *vals[] = {s->outputs.json, s->outputs.pdf, s->outputs.xlsx, s->outputs.log};
    for (int i = 0; i < 4 && rc == AUD_OK; i++) {
        for (int j = 0; j < i && rc == AUD_OK; j++) {
            if (vals[i] != NULL && vals[j] != NULL && strcmp(vals[i], vals[j]) == 0)
                rc = key_error(c, "outputs", names[i], "is the same file as \"outputs.%s\"",
                               names[j]);
        }
    }
    if (rc == AUD_OK && s->outputs.dir == NULL)
        s->outputs.dir = aud_strdup(base[0] ? base : ".");
    if (rc == AUD_OK && s->outputs.dir == NULL)
        rc = aud_error_nomem(c->err);
    return rc;
}

static int read_report(ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"title", "organization", "prepared_by", "approved_by",
                                       "data_source", "date", NULL};
    const cJSON *v;
    int rc = get_object(c, root, "", "report", &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = check_keys(c, v, "report", keys);
    char **dst[] = {&s->report.title, &s->report.organization, &s->report.prepared_by,
                    &s->report.approved_by, &s->report.data_source, &s->report.date};
    for (int i = 0; i < 6 && rc == AUD_OK; i++)
        rc = get_text(c, v, "report", keys[i], dst[i]);
    return rc;
}

static int set_defaults(aud_spec *s)
{
    s->favorable = 1;
    s->threshold = 0.5;
    s->intersections = -1;
    s->min_group_share = 0.02;
    s->bootstrap = 1000;
    s->explain.enabled = 1;
    s->explain.rows = 2000;
    s->explain.background = 100;
    s->explain.method = aud_strdup("auto");
    s->explain.output = aud_strdup("raw");
    s->drift.threshold = NAN;
    s->drift.psi_binning = aud_strdup("quantile");
    s->drift.share = 0.5;
    s->outputs.json = aud_strdup("results.json");
    s->outputs.pdf = aud_strdup("report.pdf");     /* defaults when "outputs" is absent */
    s->outputs.xlsx = aud_strdup("report.xlsx");
    s->seed = 42;
    s->delimiter = ',';
    s->csv.header = 1;
    return s->explain.method && s->explain.output && s->drift.psi_binning && s->outputs.json &&
           s->outputs.pdf && s->outputs.xlsx;
}

/* Is name a sensitive attribute, or (unless single_only) an intersection of two or more of them
 * in the order of "sensitive" (the names audit fairness gives intersections)? */
static int names_attribute(const aud_spec *s, const char *name, int single_only)
{
    for (size_t i = 0; i < s->n_sensitive; i++)
        if (strcmp(s->sensitive[i], name) == 0)
            return 1;
    return !single_only && s->intersections &&
           aud_is_intersection((const char *const *)s->sensitive, s->n_sensitive, name);
}

/* A check's "attribute" must name something the run computes: a typo would otherwise give a
 * failed "nothing to compare" row instead of the spec error it is. */
static int check_attributes(ctx *c, const aud_spec *s)
{
    for (size_t i = 0; i < s->n_checks; i++) {
        const char *a = s->checks[i].attribute;
        int perf = s->checks[i].metric != NULL && aud_check_is_performance(s->checks[i].metric);
        if (a == NULL || names_attribute(s, a, perf))
            continue;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "checks[%zu]", i);
        if (perf && names_attribute(s, a, 0))
            return key_error(c, prefix, "attribute",
                             "performance by group is computed per sensitive attribute, not for "
                             "the intersection \"%s\"", a);
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t j = 0; j < s->n_sensitive; j++) {
            size_t d = edit_distance(a, s->sensitive[j]);
            if (d < best_d) {
                best_d = d;
                best = s->sensitive[j];
            }
        }
        if (best != NULL)
            return key_error(c, prefix, "attribute",
                             "\"%s\" is not a sensitive attribute (did you mean \"%s\"?)", a,
                             best);
        return key_error(c, prefix, "attribute",
                         "\"%s\" is neither a sensitive attribute nor an intersection of them "
                         "(\"a&b\", in \"sensitive\" order%s)",
                         a, s->intersections ? "" : "; intersections are off");
    }
    return AUD_OK;
}

/* The CSV dialect keys: "header", "names", "skip_rows", "comment", "keep_spaces". */
static int read_csv_dialect(ctx *c, const cJSON *root, aud_spec *s)
{
    char *comment = NULL;
    int rc = get_bool(c, root, "", "header", &s->csv.header);
    if (rc == AUD_OK) rc = get_string_list(c, root, "", "names", &s->csv.names, &s->csv.n_names);
    if (rc == AUD_OK) rc = get_whole(c, root, "", "skip_rows", 0, 1e12, &s->csv.skip_rows);
    if (rc == AUD_OK) rc = get_bool(c, root, "", "keep_spaces", &s->csv.keep_spaces);
    if (rc == AUD_OK) rc = get_string(c, root, "", "comment", &comment);
    if (rc == AUD_OK && comment != NULL &&
        (strlen(comment) != 1 || comment[0] == '"' || comment[0] == '\n' || comment[0] == '\r'))
        rc = key_error(c, "", "comment", "expected one character other than a quote");
    if (rc == AUD_OK && comment != NULL)
        s->csv.comment = comment[0];
    aud_free(comment);
    return rc;
}

/* The grouping of attribute `name` (added when new). */
static aud_grouping *grouping_of(ctx *c, aud_spec *s, const char *name)
{
    for (size_t g = 0; g < s->n_groupings; g++)
        if (strcmp(s->groupings[g].attribute, name) == 0)
            return &s->groupings[g];
    aud_grouping *ng = aud_realloc(s->groupings, (s->n_groupings + 1) * sizeof *ng);
    if (ng == NULL)
        return aud_error_nomem(c->err), NULL;
    s->groupings = ng;
    aud_grouping *g = &ng[s->n_groupings];
    memset(g, 0, sizeof *g);
    if ((g->attribute = aud_strdup(name)) == NULL)
        return aud_error_nomem(c->err), NULL;
    s->n_groupings++;
    return g;
}

/* "bins": {"age": [25, 40, 60] | "quantile:4"}, "order": {"race": ["a", "b"]}; the attributes
 * must be sensitive ones. */
static int read_groupings(ctx *c, const cJSON *root, aud_spec *s)
{
    const cJSON *bins, *order, *it;
    int rc = get_object(c, root, "", "bins", &bins);
    if (rc == AUD_OK)
        rc = get_object(c, root, "", "order", &order);
    for (int pass = 0; pass < 2 && rc == AUD_OK; pass++) {
        const char *key = pass == 0 ? "bins" : "order";
        const cJSON *obj = pass == 0 ? bins : order;
        cJSON_ArrayForEach(it, obj) {
            int known = 0;
            for (size_t k = 0; k < s->n_sensitive; k++)
                known |= strcmp(s->sensitive[k], it->string) == 0;
            if (!known)
                return key_error(c, key, it->string, "is not one of the \"sensitive\" columns");
            aud_grouping *g = grouping_of(c, s, it->string);
            if (g == NULL)
                return c->err->code;
            if (pass == 1) {
                char **list = NULL;
                size_t n = 0;
                rc = get_strings(c, obj, key, it->string, 0, &list, &n);
                g->order = (const char *const *)list;
                g->n_order = n;
                if (rc != AUD_OK)
                    return rc;
                continue;
            }
            double *edges = NULL;
            if (cJSON_IsString(it)) {
                aud_error e;
                if (aud_parse_bins(it->valuestring, &edges, &g->n_edges, &g->quantiles,
                                        &e) != AUD_OK)
                    return key_error(c, key, it->string, "%s", e.msg);
            } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0) {
                size_t n = (size_t)cJSON_GetArraySize(it), k = 0;
                edges = aud_malloc(n * sizeof *edges);
                if (edges == NULL)
                    return aud_error_nomem(c->err);
                const cJSON *e;
                cJSON_ArrayForEach(e, it) {
                    edges[k++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
                }
                g->edges = edges;
                g->n_edges = n;
                aud_error er;
                if (aud_bind_check_edges(edges, n, "bins", &er) != AUD_OK)
                    return key_error(c, key, it->string, "expected increasing numbers");
            } else {
                return key_error(c, key, it->string,
                                 "expected a list of band edges or \"quantile:K\"");
            }
            g->edges = edges;
        }
    }
    return rc;
}

static int read_root(ctx *c, const cJSON *root, aud_spec *s, const char *base)
{
    static const char *const keys[] = {
        "model", "data", "reference", "label", "prediction", "score", "favorable", "threshold",
        "sensitive", "intersections", "compliance", "fairness", "explain", "drift", "checks",
        "outputs", "report", "seed", "threads", "delimiter", "na", "model_format", "history",
        "header", "names", "skip_rows", "comment", "keep_spaces", "label_positive",
        "prediction_positive", "bins", "order", NULL};
    if (!cJSON_IsObject(root))
        return aud_error_set(c->err, AUD_E_SCHEMA, c->file, 0, 0,
                             "expected a JSON object at the top level");
    int rc = check_keys(c, root, "", keys);
    double fav = 1;
    long seed = 42, threads = 0;
    int has_fav = 0;
    char *delim = NULL;
    if (rc == AUD_OK) rc = get_path(c, root, "", "model", base, &s->model);
    if (rc == AUD_OK) rc = get_string(c, root, "", "model_format", &s->model_format);
    if (rc == AUD_OK && s->model_format != NULL && s->model == NULL)
        rc = key_error(c, "", "model_format", "given without \"model\"");
    if (rc == AUD_OK && s->model_format != NULL && strcmp(s->model_format, "xgboost-json") != 0 &&
        strcmp(s->model_format, "lightgbm-text") != 0 &&
        strcmp(s->model_format, "linear-json") != 0 && strcmp(s->model_format, "trees-json") != 0)
        rc = key_error(c, "", "model_format",
                       "expected xgboost-json, lightgbm-text, linear-json or trees-json");
    if (rc == AUD_OK) rc = get_strings(c, root, "", "na", 1, &s->na, &s->n_na);
    if (rc == AUD_OK && s->n_na > 32)
        rc = key_error(c, "", "na", "at most 32 missing-value tokens");
    if (rc == AUD_OK) rc = get_path(c, root, "", "data", base, &s->data);
    if (rc == AUD_OK) rc = get_path(c, root, "", "reference", base, &s->reference);
    if (rc == AUD_OK) rc = get_string(c, root, "", "label", &s->label);
    if (rc == AUD_OK) rc = get_string(c, root, "", "prediction", &s->prediction);
    if (rc == AUD_OK) rc = get_string(c, root, "", "score", &s->score);
    if (rc == AUD_OK) rc = get_number(c, root, "", "favorable", 0, 1, &fav, &has_fav);
    if (rc == AUD_OK && has_fav && fav != 0 && fav != 1)
        rc = key_error(c, "", "favorable", "expected 0 or 1");
    if (rc == AUD_OK) rc = get_number(c, root, "", "threshold", -HUGE_VAL, HUGE_VAL,
                                      &s->threshold, NULL);
    if (rc == AUD_OK) rc = get_string_list(c, root, "", "sensitive", &s->sensitive,
                                           &s->n_sensitive);
    if (rc == AUD_OK) rc = get_bool(c, root, "", "intersections", &s->intersections);
    if (rc == AUD_OK) rc = read_compliance(c, root, s);
    if (rc == AUD_OK) rc = read_fairness(c, root, s);
    if (rc == AUD_OK) rc = read_explain(c, root, s);
    if (rc == AUD_OK) rc = read_drift(c, root, s);
    if (rc == AUD_OK) rc = read_checks(c, root, s);
    if (rc == AUD_OK) rc = read_outputs(c, root, s, base);
    if (rc == AUD_OK) rc = read_report(c, root, s);
    if (rc == AUD_OK) rc = get_path(c, root, "", "history", base, &s->history);
    if (rc == AUD_OK) rc = get_whole(c, root, "", "seed", 0, 4294967295.0, &seed);
    if (rc == AUD_OK) rc = get_whole(c, root, "", "threads", 0, 1024, &threads);
    if (rc == AUD_OK) rc = read_csv_dialect(c, root, s);
    if (rc == AUD_OK) rc = get_strings(c, root, "", "label_positive", 0, &s->label_positive,
                                       &s->n_label_positive);
    if (rc == AUD_OK) rc = get_strings(c, root, "", "prediction_positive", 0,
                                       &s->prediction_positive, &s->n_prediction_positive);
    if (rc == AUD_OK && s->label_positive != NULL && s->label == NULL)
        rc = key_error(c, "", "label_positive", "given without \"label\"");
    if (rc == AUD_OK && s->prediction_positive != NULL && s->prediction == NULL)
        rc = key_error(c, "", "prediction_positive", "given without \"prediction\"");
    if (rc == AUD_OK) rc = read_groupings(c, root, s);
    if (rc == AUD_OK) rc = get_string(c, root, "", "delimiter", &delim);
    if (rc == AUD_OK && delim != NULL && strlen(delim) != 1 && strcmp(delim, "\t") != 0)
        rc = key_error(c, "", "delimiter", "expected one character");
    if (rc != AUD_OK) {
        aud_free(delim);
        return rc;
    }
    if (delim != NULL)
        s->delimiter = delim[0];
    aud_free(delim);
    s->favorable = (int)fav;
    s->seed = (unsigned long)seed;
    s->threads = (int)threads;
    if (s->intersections < 0)
        s->intersections = s->n_sensitive >= 2;
    if (s->data == NULL)
        return key_error(c, "", "data", "is required");
    if (s->prediction != NULL && s->score != NULL)
        return key_error(c, "", "prediction", "give either \"prediction\" or \"score\", not both");
    int rc2 = check_ll144(c, s);
    return rc2 != AUD_OK ? rc2 : check_attributes(c, s);
}

void aud_spec_free(aud_spec *s)
{
    if (s == NULL)
        return;
    char *strs[] = {s->path, s->model, s->model_format, s->data, s->reference, s->label, s->prediction, s->score,
                    s->compliance, s->ll144_sex, s->ll144_race, s->explain.method, s->explain.output, s->drift.method,
                    s->drift.psi_binning, s->outputs.dir, s->outputs.json, s->outputs.pdf,
                    s->outputs.xlsx, s->outputs.log, s->report.title, s->report.organization,
                    s->report.prepared_by, s->report.approved_by, s->report.data_source,
                    s->report.date, s->history};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        aud_free(strs[i]);
    for (size_t i = 0; i < s->n_sensitive; i++)
        aud_free(s->sensitive[i]);
    aud_free(s->sensitive);
    for (size_t i = 0; i < s->n_na; i++)
        aud_free(s->na[i]);
    aud_free(s->na);
    for (size_t i = 0; i < s->csv.n_names; i++)
        aud_free(s->csv.names[i]);
    aud_free(s->csv.names);
    for (size_t i = 0; i < s->n_label_positive; i++)
        aud_free(s->label_positive[i]);
    aud_free(s->label_positive);
    for (size_t i = 0; i < s->n_prediction_positive; i++)
        aud_free(s->prediction_positive[i]);
    aud_free(s->prediction_positive);
    for (size_t g = 0; g < s->n_groupings; g++) {
        aud_grouping *gr = &s->groupings[g];
        aud_free((char *)gr->attribute);
        aud_free((double *)gr->edges);
        for (size_t k = 0; k < gr->n_order; k++)
            aud_free((char *)gr->order[k]);
        aud_free((char **)gr->order);
    }
    aud_free(s->groupings);
    aud_free(s->explain.show_rows);
    for (size_t i = 0; i < 2 * s->n_reference_groups; i++)
        aud_free(s->reference_groups[i]);
    aud_free(s->reference_groups);
    for (size_t i = 0; i < s->drift.n_columns; i++)
        aud_free(s->drift.columns[i]);
    aud_free(s->drift.columns);
    for (size_t i = 0; i < s->drift.n_overrides; i++) {
        aud_free(s->drift.override_cols[i]);
        aud_free(s->drift.override_methods[i]);
    }
    aud_free(s->drift.override_cols);
    aud_free(s->drift.override_methods);
    aud_free(s->drift.override_thresholds);
    for (size_t i = 0; i < s->n_checks; i++) {
        aud_free(s->checks[i].metric);
        aud_free(s->checks[i].attribute);
        aud_free(s->checks[i].group);
        aud_free(s->checks[i].column);
    }
    aud_free(s->checks);
    cJSON_Delete(s->raw);
    aud_free(s);
}

int aud_spec_parse(aud_spec **out, const char *text, size_t len, const char *path, aud_error *err)
{
    char *base = NULL;
    aud_spec *s = aud_calloc(1, sizeof *s);
    int rc;
    base = aud_strdup(path);
    if (s == NULL || base == NULL || !set_defaults(s)) {
        rc = aud_error_nomem(err);
        goto done;
    }
    char *slash = strrchr(base, '/');
    if (slash != NULL)
        slash[slash == base ? 1 : 0] = '\0';
    else
        base[0] = '\0';
    s->path = aud_strdup(path);
    if (s->path == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    rc = aud_json_parse_located(&s->raw, text, len, path, err);
    if (rc != AUD_OK)
        goto done;
    ctx c = {path, err};
    rc = check_utf8(&c, s->raw, "");
    if (rc == AUD_OK)
        rc = read_root(&c, s->raw, s, base);
    if (rc != AUD_OK)
        goto done;
    *out = s;
    s = NULL;
done:
    aud_spec_free(s);
    aud_free(base);
    return rc;
}

int aud_spec_load(aud_spec **out, const char *path, aud_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = aud_file_read(path, &text, &len, (size_t)16 << 20, err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_spec_parse(out, text, len, path, err);
    aud_free(text);
    return rc;
}
