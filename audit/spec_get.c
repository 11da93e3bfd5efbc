/* spec_get.c - typed getters of the spec reader: every error names the key path (e.g.
 * "explain.rows") and, for an unknown key, the nearest known one. */
#include "audit/spec_parse_int.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int aud_spec_key_error(aud_spec_ctx *c, const char *prefix, const char *key, const char *fmt, ...)
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

size_t aud_spec_edit_distance(const char *a, const char *b)
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
int aud_spec_check_keys(aud_spec_ctx *c, const cJSON *obj, const char *prefix,
                        const char *const *allowed)
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
            size_t d = aud_spec_edit_distance(it->string, allowed[i]);
            if (d < best_d) {
                best_d = d;
                best = allowed[i];
            }
        }
        if (!ok) {
            if (best != NULL)
                return aud_spec_key_error(c, prefix, it->string,
                                          "unknown key (did you mean \"%s\"?)", best);
            return aud_spec_key_error(c, prefix, it->string, "unknown key");
        }
        for (const cJSON *o = it->next; o != NULL; o = o->next) {
            if (strcmp(o->string, it->string) == 0)
                return aud_spec_key_error(c, prefix, it->string, "key given twice");
        }
    }
    return AUD_OK;
}

const cJSON *aud_spec_member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int aud_spec_get_string(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        char **out)
{
    const cJSON *v = aud_spec_member(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return AUD_OK;
    if (!cJSON_IsString(v))
        return aud_spec_key_error(c, prefix, key, "expected a string");
    if (v->valuestring[0] == '\0')
        return aud_spec_key_error(c, prefix, key, "must not be empty");
    aud_free(*out);
    *out = aud_strdup(v->valuestring);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* A string that may be empty (report fields such as approved_by). */
int aud_spec_get_text(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      char **out)
{
    const cJSON *v = aud_spec_member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsString(v))
        return aud_spec_key_error(c, prefix, key, "expected a string");
    *out = aud_strdup(v->valuestring);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

int aud_spec_get_number(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        double lo, double hi, double *out, int *present)
{
    const cJSON *v = aud_spec_member(obj, key);
    if (present != NULL)
        *present = 0;
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return aud_spec_key_error(c, prefix, key, "expected a number");
    if (v->valuedouble < lo || v->valuedouble > hi)
        return aud_spec_key_error(c, prefix, key, "expected a number from %g to %g, got %g", lo, hi,
                                  v->valuedouble);
    *out = v->valuedouble;
    if (present != NULL)
        *present = 1;
    return AUD_OK;
}

int aud_spec_get_whole(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                       double lo, double hi, long *out)
{
    const cJSON *v = aud_spec_member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return aud_spec_key_error(c, prefix, key, "expected a whole number from %.0f to %.0f", lo,
                                  hi);
    *out = (long)v->valuedouble;
    return AUD_OK;
}

int aud_spec_get_bool(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      int *out)
{
    const cJSON *v = aud_spec_member(obj, key);
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsBool(v))
        return aud_spec_key_error(c, prefix, key, "expected true or false");
    *out = cJSON_IsTrue(v);
    return AUD_OK;
}

/* A list of distinct strings (a single string is a list of one) into *out, NULL-terminated. */
int aud_spec_get_strings(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                         int allow_empty, char ***out, size_t *n)
{
    const cJSON *v = aud_spec_member(obj, key);
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
        return aud_spec_key_error(c, prefix, key, "expected a list of strings");
    size_t count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it) || (!allow_empty && it->valuestring[0] == '\0'))
            return aud_spec_key_error(c, prefix, key, allow_empty ? "expected a list of strings"
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
                return aud_spec_key_error(c, prefix, key, "\"%s\" is listed twice",
                                          it->valuestring);
        }
        (*out)[*n] = aud_strdup(it->valuestring);
        if ((*out)[*n] == NULL)
            return aud_error_nomem(c->err);
        (*n)++;
    }
    return AUD_OK;
}

int aud_spec_get_string_list(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                             char ***out, size_t *n)
{
    return aud_spec_get_strings(c, obj, prefix, key, 0, out, n);
}

int aud_spec_get_object(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        const cJSON **out)
{
    const cJSON *v = aud_spec_member(obj, key);
    *out = NULL;
    if (v == NULL)
        return AUD_OK;
    if (!cJSON_IsObject(v))
        return aud_spec_key_error(c, prefix, key, "expected an object");
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

int aud_spec_get_path(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      const char *base, char **out)
{
    char *raw = NULL;
    int rc = aud_spec_get_string(c, obj, prefix, key, &raw);
    if (rc != AUD_OK || raw == NULL)
        return rc;
    *out = resolve(base, raw);
    aud_free(raw);
    return *out == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* Every key and string of the spec must be UTF-8 text: they are copied into results.json. */
int aud_spec_check_utf8(aud_spec_ctx *c, const cJSON *node, const char *path)
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
            return aud_spec_key_error(c, "", sub, "key is not valid UTF-8 text");
        if (cJSON_IsString(it) &&
            aud_utf8_invalid_at((const unsigned char *)it->valuestring,
                                strlen(it->valuestring)) != (size_t)-1)
            return aud_spec_key_error(c, "", sub, "is not valid UTF-8 text");
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            int rc = aud_spec_check_utf8(c, it, sub);
            if (rc != AUD_OK)
                return rc;
        }
    }
    return AUD_OK;
}
