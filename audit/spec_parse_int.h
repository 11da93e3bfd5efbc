/* spec_int.h - what the parts of the spec reader share (spec.c: loading, defaults and the
 * root; spec_get.c: typed getters that name the key path in every error; spec_sections.c: one
 * reader per section of SPEC section 4). */
#ifndef AUD_SPEC_INT_H
#define AUD_SPEC_INT_H

#include "audit/spec_int.h"
#include <cjson/cJSON.h>

typedef struct aud_spec_ctx {
    const char *file;    /* the spec file, for errors */
    aud_error  *err;
} aud_spec_ctx;

/* ---- spec_get.c: getters; absent or null keys leave *out unchanged and return AUD_OK ---- */

int aud_spec_key_error(aud_spec_ctx *c, const char *prefix, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t aud_spec_edit_distance(const char *a, const char *b);
/* Every key of obj must be in allowed (NULL-terminated); duplicates are errors too. */
int aud_spec_check_keys(aud_spec_ctx *c, const cJSON *obj, const char *prefix,
                        const char *const *allowed);
const cJSON *aud_spec_member(const cJSON *obj, const char *key);
int aud_spec_get_string(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        char **out);
/* A string that may be empty (report fields such as approved_by). */
int aud_spec_get_text(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      char **out);
int aud_spec_get_number(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        double lo, double hi, double *out, int *present);
int aud_spec_get_whole(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                       double lo, double hi, long *out);
int aud_spec_get_bool(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      int *out);
/* A list of distinct strings (a single string is a list of one) into *out, NULL-terminated. */
int aud_spec_get_strings(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                         int allow_empty, char ***out, size_t *n);
int aud_spec_get_string_list(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                             char ***out, size_t *n);
int aud_spec_get_object(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        const cJSON **out);
int aud_spec_get_path(aud_spec_ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      const char *base, char **out);
/* Every key and string of the spec must be UTF-8 text: they are copied into results.json. */
int aud_spec_check_utf8(aud_spec_ctx *c, const cJSON *node, const char *path);

/* ---- spec_sections.c: one reader per section ---- */

int aud_spec_read_checks(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
int aud_spec_read_explain(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
/* "drift.overrides": {"COL": {"method": M, "threshold": T}, ...} (SPEC 3: the primary test is
 * overridable per column). Methods are checked here; column names when the data is read. */
int aud_spec_read_drift_overrides(aud_spec_ctx *c, const cJSON *drift, aud_spec *s);
/* "compliance": "nyc-ll144" (sex and race are the first two sensitive attributes), or
 * {"nyc-ll144": {"sex": COL, "race": COL}} naming them among the sensitive attributes. */
int aud_spec_read_compliance(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
/* The LL144 attributes must be sensitive attributes (checked once "sensitive" is read). */
int aud_spec_check_ll144(aud_spec_ctx *c, const aud_spec *s);
int aud_spec_read_drift(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
int aud_spec_read_fairness(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
int aud_spec_read_outputs(aud_spec_ctx *c, const cJSON *root, aud_spec *s, const char *base);
int aud_spec_read_report(aud_spec_ctx *c, const cJSON *root, aud_spec *s);
int aud_spec_read_model_card(aud_spec_ctx *c, const cJSON *root, aud_spec *s);

#endif
