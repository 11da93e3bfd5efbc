/* linear_json.c - the project's linear / logistic model format (docs/model-formats.md):
 *   {"format": "audit-linear", "version": 1, "link": "identity" | "logit",
 *    "intercept": number, "coefficients": {"feature": number, ...}, "objective": "..."?}
 * margin = intercept + sum_j coefficients[j] * x_j; prediction = margin (identity) or
 * 1 / (1 + exp(-margin)) (logit). Feature order is the order of the keys in "coefficients".
 * Missing values are refused at prediction time (no_missing). */
#include "models/model_int.h"
#include "core/io.h"

#include <cjson/cJSON.h>
#include <string.h>

static int field_err(aud_error *err, int code, const char *name, const char *field,
                     const char *msg)
{
    aud_error_set(err, code, name, 0, 0, "%s", msg);
    return aud_error_field(err, field);
}

int aud_linear_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                          aud_error *err)
{
    cJSON *root = NULL;
    int rc = aud_json_parse_located(&root, data, len, name, err);
    if (rc != AUD_OK)
        return rc;
    m->kind = AUD_MODEL_LINEAR;
    m->n_outputs = 1;
    m->no_missing = 1;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *link = cJSON_GetObjectItemCaseSensitive(root, "link");
    const cJSON *icpt = cJSON_GetObjectItemCaseSensitive(root, "intercept");
    const cJSON *coef = cJSON_GetObjectItemCaseSensitive(root, "coefficients");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "objective");
    static const char *const known[] = { "format", "version", "link", "intercept",
                                         "coefficients", "objective", "source", "preprocess",
                                         NULL };
    if (!cJSON_IsObject(root)) {
        rc = field_err(err, AUD_E_SCHEMA, name, "", "expected a JSON object");
        goto done;
    }
    rc = aud_json_only_keys(root, known, name, err);
    if (rc != AUD_OK)
        goto done;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "audit-linear") != 0) {
        rc = field_err(err, AUD_E_SCHEMA, name, "format", "expected \"audit-linear\"");
        goto done;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
        rc = field_err(err, AUD_E_UNSUPPORTED, name, "version", "only version 1 is supported");
        goto done;
    }
    if (cJSON_IsString(link) && strcmp(link->valuestring, "identity") == 0) {
        m->link = AUD_LINK_IDENTITY;
    } else if (cJSON_IsString(link) && strcmp(link->valuestring, "logit") == 0) {
        m->link = AUD_LINK_SIGMOID;
        m->is_classifier = 1;
    } else {
        rc = field_err(err, AUD_E_SCHEMA, name, "link", "expected \"identity\" or \"logit\"");
        goto done;
    }
    if (!cJSON_IsNumber(icpt) || !isfinite(icpt->valuedouble)) {
        rc = field_err(err, AUD_E_SCHEMA, name, "intercept", "expected a finite number");
        goto done;
    }
    if (!cJSON_IsObject(coef) || coef->child == NULL) {
        rc = field_err(err, AUD_E_SCHEMA, name, "coefficients",
                       "expected an object {\"feature\": number, ...}");
        goto done;
    }
    if (obj != NULL && !cJSON_IsString(obj)) {
        rc = field_err(err, AUD_E_SCHEMA, name, "objective", "expected a string");
        goto done;
    }
    size_t n = 0;
    for (const cJSON *e = coef->child; e != NULL; e = e->next)
        n++;
    if (n > AUD_MODEL_MAX_FEATURES) {
        rc = field_err(err, AUD_E_DOMAIN, name, "coefficients", "too many features");
        goto done;
    }
    m->n_features = n;
    m->feature_names = aud_calloc(n, sizeof *m->feature_names);
    m->coef = aud_calloc(n, sizeof *m->coef);
    m->base_margin = aud_calloc(1, sizeof *m->base_margin);
    m->objective = aud_strdup(obj != NULL ? obj->valuestring
                                          : m->link == AUD_LINK_SIGMOID ? "logistic" : "linear");
    if (m->feature_names == NULL || m->coef == NULL || m->base_margin == NULL ||
        m->objective == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    m->base_margin[0] = icpt->valuedouble;
    size_t j = 0;
    for (const cJSON *e = coef->child; e != NULL; e = e->next, j++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            rc = field_err(err, AUD_E_SCHEMA, name, e->string, "coefficient is not a finite number");
            goto done;
        }
        m->coef[j] = e->valuedouble;
        m->feature_names[j] = aud_strdup(e->string);
        if (m->feature_names[j] == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    rc = aud_prep_parse(m, cJSON_GetObjectItemCaseSensitive(root, "preprocess"), name, err);
done:
    cJSON_Delete(root);
    return rc;
}
