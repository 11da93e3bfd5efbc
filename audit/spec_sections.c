/* spec_sections.c - the readers of the spec's sections (SPEC section 4): checks, explain,
 * drift and its overrides, compliance, fairness, outputs, report. */
#include "audit/spec_parse_int.h"
#include "metrics/drift.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int aud_spec_read_checks(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"metric", "min", "max", "attribute", "group", "column",
                                       NULL};
    const cJSON *arr = aud_spec_member(root, "checks");
    if (arr == NULL)
        return AUD_OK;
    if (!cJSON_IsArray(arr))
        return aud_spec_key_error(c, "", "checks", "expected a list of checks");
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
            return aud_spec_key_error(c, "", prefix, "expected an object");
        int rc = aud_spec_check_keys(c, it, prefix, keys);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, it, prefix, "metric", &k->metric);
        if (rc == AUD_OK)
            rc = aud_spec_get_number(c, it, prefix, "min", -HUGE_VAL, HUGE_VAL, &k->min,
                                     &k->has_min);
        if (rc == AUD_OK)
            rc = aud_spec_get_number(c, it, prefix, "max", -HUGE_VAL, HUGE_VAL, &k->max,
                                     &k->has_max);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, it, prefix, "attribute", &k->attribute);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, it, prefix, "group", &k->group);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, it, prefix, "column", &k->column);
        if (rc != AUD_OK)
            return rc;
        if (k->metric == NULL)
            return aud_spec_key_error(c, prefix, "metric", "is required");
        if (!k->has_min && !k->has_max)
            return aud_spec_key_error(c, prefix, "min", "a check needs \"min\" or \"max\"");
        if (k->has_min && k->has_max && k->min > k->max)
            return aud_spec_key_error(c, prefix, "min", "is greater than \"max\"");
    }
    return AUD_OK;
}

/* "explain.nominal": the model features that hold codes of categories, as a list of names, or
 * an object {"feature": ["label of code 0", "label of code 1", ...], ...} that also names the
 * categories (docs/spec-file.md). Feature names are checked against the model at run. */
static int read_nominal(aud_spec_ctx *c, const cJSON *ex, aud_spec *s)
{
    const cJSON *v = aud_spec_member(ex, "nominal"), *it;
    if (v == NULL || !cJSON_IsObject(v))
        return aud_spec_get_string_list(c, ex, "explain", "nominal", &s->explain.nominal,
                                        &s->explain.n_nominal);
    size_t n = (size_t)cJSON_GetArraySize(v);
    s->explain.nominal = aud_calloc(n + 1, sizeof *s->explain.nominal);
    s->explain.nominal_labels = aud_calloc(n + 1, sizeof *s->explain.nominal_labels);
    if (s->explain.nominal == NULL || s->explain.nominal_labels == NULL)
        return aud_error_nomem(c->err);
    cJSON_ArrayForEach(it, v) {
        const char *pre = "explain.nominal", *f = it->string;
        for (size_t k = 0; k < s->explain.n_nominal; k++)
            if (strcmp(s->explain.nominal[k], f) == 0)
                return aud_spec_key_error(c, pre, f, "is given twice");
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0)
            return aud_spec_key_error(c, pre, f, "expected a list of category labels in "
                                      "code order (the label of code 0 first)");
        const cJSON *a, *b;
        cJSON_ArrayForEach(a, it) {
            if (!cJSON_IsString(a) || a->valuestring[0] == '\0')
                return aud_spec_key_error(c, pre, f, "expected a list of non-empty strings");
            for (b = it->child; b != a; b = b->next)
                if (strcmp(a->valuestring, b->valuestring) == 0)
                    return aud_spec_key_error(c, pre, f, "\"%s\" is listed twice",
                                              a->valuestring);
        }
        size_t k = s->explain.n_nominal;
        s->explain.nominal_labels[k] = it;
        if ((s->explain.nominal[k] = aud_strdup(it->string)) == NULL)
            return aud_error_nomem(c->err);
        s->explain.n_nominal++;
    }
    return AUD_OK;
}

int aud_spec_read_explain(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"method", "rows", "background", "output", "show_rows",
                                       "id", "nominal", "rows_file", NULL};
    const cJSON *v = aud_spec_member(root, "explain");
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsBool(v)) {
        s->explain.enabled = cJSON_IsTrue(v);
        return AUD_OK;
    }
    if (!cJSON_IsObject(v))
        return aud_spec_key_error(c, "", "explain", "expected an object or false");
    int rc = aud_spec_check_keys(c, v, "explain", keys);
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, v, "explain", "method", &s->explain.method);
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, v, "explain", "output", &s->explain.output);
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, v, "explain", "id", &s->explain.id);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "explain", "rows", 1, 1e7, &s->explain.rows);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "explain", "background", 1, 1e6, &s->explain.background);
    if (rc == AUD_OK)
        rc = read_nominal(c, v, s);
    if (rc != AUD_OK)
        return rc;
    s->explain.background_given = aud_spec_member(v, "background") != NULL;
    const cJSON *rf = aud_spec_member(v, "rows_file");   /* true, false or "auto" */
    if (cJSON_IsBool(rf))
        s->explain.rows_file = cJSON_IsTrue(rf);
    else if (rf != NULL && !(cJSON_IsString(rf) && strcmp(rf->valuestring, "auto") == 0))
        return aud_spec_key_error(c, "explain", "rows_file", "expected true, false or \"auto\"");
    const cJSON *show = aud_spec_member(v, "show_rows");
    if (show != NULL) {
        const cJSON *it;
        if (!cJSON_IsArray(show))
            return aud_spec_key_error(c, "explain", "show_rows", "expected a list of row numbers");
        size_t n = (size_t)cJSON_GetArraySize(show);
        s->explain.show_rows = aud_calloc(n ? n : 1, sizeof *s->explain.show_rows);
        if (s->explain.show_rows == NULL)
            return aud_error_nomem(c->err);
        cJSON_ArrayForEach(it, show) {
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
                it->valuedouble < 0 || it->valuedouble > 1e12)
                return aud_spec_key_error(c, "explain", "show_rows",
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
        return aud_spec_key_error(c, "explain", "method",
                         "expected auto, tree, tree-interventional, linear, kernel or exact");
    if (strcmp(s->explain.output, "raw") != 0 && strcmp(s->explain.output, "probability") != 0)
        return aud_spec_key_error(c, "explain", "output", "expected raw or probability");
    return AUD_OK;
}

/* "drift.overrides": {"COL": {"method": M, "threshold": T}, ...} (SPEC 3: the primary test is
 * overridable per column). Methods are checked here; column names when the data is read. */
int aud_spec_read_drift_overrides(aud_spec_ctx *c, const cJSON *drift, aud_spec *s)
{
    static const char *const keys[] = {"method", "threshold", NULL};
    const cJSON *ov;
    int rc = aud_spec_get_object(c, drift, "drift", "overrides", &ov);
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
                return aud_spec_key_error(c, "drift.overrides", it->string, "key given twice");
        if (!cJSON_IsObject(it))
            return aud_spec_key_error(c, "drift.overrides", it->string,
                                      "expected an object {\"method\": M, \"threshold\": T}");
        s->drift.override_cols[i] = aud_strdup(it->string);
        s->drift.override_thresholds[i] = NAN;
        s->drift.n_overrides++;
        if (s->drift.override_cols[i] == NULL)
            return aud_error_nomem(c->err);
        rc = aud_spec_check_keys(c, it, prefix, keys);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, it, prefix, "method", &s->drift.override_methods[i]);
        if (rc == AUD_OK)
            rc = aud_spec_get_number(c, it, prefix, "threshold", 0, HUGE_VAL,
                                     &s->drift.override_thresholds[i], NULL);
        aud_drift_method m;
        if (rc == AUD_OK && s->drift.override_methods[i] != NULL &&
            aud_drift_method_parse(s->drift.override_methods[i], &m) != 0)
            rc = aud_spec_key_error(c, prefix, "method", "unknown drift method \"%s\"",
                                    s->drift.override_methods[i]);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

/* "compliance": "nyc-ll144" (sex and race are the first two sensitive attributes), or
 * {"nyc-ll144": {"sex": COL, "race": COL}} naming them among the sensitive attributes. */
int aud_spec_read_compliance(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"nyc-ll144", NULL};
    static const char *const ll_keys[] = {"sex", "race", NULL};
    const cJSON *v = aud_spec_member(root, "compliance");
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "nyc-ll144") != 0)
            return aud_spec_key_error(c, "", "compliance", "expected \"nyc-ll144\"");
    } else if (cJSON_IsObject(v)) {
        const cJSON *ll;
        int rc = aud_spec_check_keys(c, v, "compliance", keys);
        if (rc == AUD_OK)
            rc = aud_spec_get_object(c, v, "compliance", "nyc-ll144", &ll);
        if (rc == AUD_OK && ll == NULL)
            rc = aud_spec_key_error(c, "", "compliance", "expected {\"nyc-ll144\": {...}}");
        if (rc == AUD_OK)
            rc = aud_spec_check_keys(c, ll, "compliance.nyc-ll144", ll_keys);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, ll, "compliance.nyc-ll144", "sex", &s->ll144_sex);
        if (rc == AUD_OK)
            rc = aud_spec_get_string(c, ll, "compliance.nyc-ll144", "race", &s->ll144_race);
        if (rc == AUD_OK && (s->ll144_sex == NULL || s->ll144_race == NULL))
            rc = aud_spec_key_error(c, "compliance", "nyc-ll144",
                                    "needs \"sex\" and \"race\" columns");
        if (rc != AUD_OK)
            return rc;
    } else {
        return aud_spec_key_error(c, "", "compliance",
                         "expected \"nyc-ll144\" or {\"nyc-ll144\": {\"sex\": S, \"race\": R}}");
    }
    s->compliance = aud_strdup("nyc-ll144");
    return s->compliance == NULL ? aud_error_nomem(c->err) : AUD_OK;
}

/* The LL144 attributes must be sensitive attributes (checked once "sensitive" is read). */
int aud_spec_check_ll144(aud_spec_ctx *c, const aud_spec *s)
{
    if (s->compliance == NULL)
        return AUD_OK;
    if (s->n_sensitive < 2)
        return aud_spec_key_error(c, "", "compliance",
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
            return aud_spec_key_error(c, "compliance.nyc-ll144", keys[k],
                                      "\"%s\" is not one of the sensitive attributes", names[k]);
    }
    if (names[0] != NULL && strcmp(names[0], names[1]) == 0)
        return aud_spec_key_error(c, "compliance.nyc-ll144", "race",
                                  "is the same column as \"sex\"");
    return AUD_OK;
}

int aud_spec_read_drift(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"method", "threshold", "psi_binning", "share", "columns",
                                       "overrides", NULL};
    const cJSON *v;
    int rc = aud_spec_get_object(c, root, "", "drift", &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = aud_spec_check_keys(c, v, "drift", keys);
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, v, "drift", "method", &s->drift.method);
    if (rc == AUD_OK)
        rc =
            aud_spec_get_number(c, v, "drift", "threshold", 0, HUGE_VAL, &s->drift.threshold, NULL);
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, v, "drift", "psi_binning", &s->drift.psi_binning);
    if (rc == AUD_OK)
        rc = aud_spec_get_number(c, v, "drift", "share", 0, 1, &s->drift.share, NULL);
    if (rc == AUD_OK)
        rc = aud_spec_get_string_list(c, v, "drift", "columns", &s->drift.columns,
                                      &s->drift.n_columns);
    if (rc == AUD_OK)
        rc = aud_spec_read_drift_overrides(c, v, s);
    if (rc == AUD_OK && strcmp(s->drift.psi_binning, "quantile") != 0 &&
        strcmp(s->drift.psi_binning, "evidently") != 0)
        return aud_spec_key_error(c, "drift", "psi_binning", "expected quantile or evidently");
    return rc;
}

int aud_spec_read_fairness(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"reference", "min_group_share", "bootstrap",
                                       "max_intersection", NULL};
    const cJSON *v, *ref;
    int rc = aud_spec_get_object(c, root, "", "fairness", &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = aud_spec_check_keys(c, v, "fairness", keys);
    if (rc == AUD_OK)
        rc = aud_spec_get_number(c, v, "fairness", "min_group_share", 0, 1, &s->min_group_share,
                                 NULL);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "fairness", "bootstrap", 0, 100000, &s->bootstrap);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "fairness", "max_intersection", 2, 64, &s->max_intersection);
    if (rc == AUD_OK)
        rc = aud_spec_get_object(c, v, "fairness", "reference", &ref);
    if (rc != AUD_OK || ref == NULL)
        return rc;
    size_t n = (size_t)cJSON_GetArraySize(ref);
    s->reference_groups = aud_calloc(2 * n + 1, sizeof *s->reference_groups);
    if (s->reference_groups == NULL)
        return aud_error_nomem(c->err);
    const cJSON *it;
    cJSON_ArrayForEach(it, ref) {
        if (!cJSON_IsString(it))
            return aud_spec_key_error(c, "fairness.reference", it->string, "expected a group name");
        char **pair = &s->reference_groups[2 * s->n_reference_groups];
        pair[0] = aud_strdup(it->string);
        pair[1] = aud_strdup(it->valuestring);
        s->n_reference_groups++;
        if (pair[0] == NULL || pair[1] == NULL)
            return aud_error_nomem(c->err);
    }
    return AUD_OK;
}

int aud_spec_read_outputs(aud_spec_ctx *c, const cJSON *root, aud_spec *s, const char *base)
{
    static const char *const keys[] = {"dir", "json", "pdf", "xlsx", "log", "explained_rows",
                                       NULL};
    const cJSON *v;
    int rc = aud_spec_get_object(c, root, "", "outputs", &v);
    if (rc == AUD_OK && v != NULL) {
        rc = aud_spec_check_keys(c, v, "outputs", keys);
        if (rc == AUD_OK)
            rc = aud_spec_get_path(c, v, "outputs", "dir", base, &s->outputs.dir);
        const char *names[] = {"json", "pdf", "xlsx", "log", "explained_rows"};
        char **dst[] = {&s->outputs.json, &s->outputs.pdf, &s->outputs.xlsx, &s->outputs.log,
                        &s->outputs.explained_rows};
        for (int i = 0; i < 5 && rc == AUD_OK; i++) {
            if (i > 0 && i < 4) {   /* only results.json is written unless the others are named */
                aud_free(*dst[i]);
                *dst[i] = NULL;
            }
            rc = aud_spec_get_string(c, v, "outputs", names[i], dst[i]);
            if (rc == AUD_OK && *dst[i] != NULL &&
                (strchr(*dst[i], '/') != NULL || strcmp(*dst[i], ".") == 0 ||
                 strcmp(*dst[i], "..") == 0 || (*dst[i])[0] == '\0'))
                rc = aud_spec_key_error(c, "outputs", names[i],
                                        "expected a file name inside \"dir\", not a path");
        }
    }
    const char *names[] = {"json", "pdf", "xlsx", "log", "explained_rows"};
    char *vals[] = {s->outputs.json, s->outputs.pdf, s->outputs.xlsx, s->outputs.log,
                    s->outputs.explained_rows};
    for (int i = 0; i < 5 && rc == AUD_OK; i++) {
        for (int j = 0; j < i && rc == AUD_OK; j++) {
            if (vals[i] != NULL && vals[j] != NULL && strcmp(vals[i], vals[j]) == 0)
                rc = aud_spec_key_error(c, "outputs", names[i],
                                        "is the same file as \"outputs.%s\"", names[j]);
        }
    }
    if (rc == AUD_OK && s->outputs.dir == NULL)
        s->outputs.dir = aud_strdup(base[0] ? base : ".");
    if (rc == AUD_OK && s->outputs.dir == NULL)
        rc = aud_error_nomem(c->err);
    return rc;
}

/* An optional object of optional strings: keys[i] (NULL-terminated) into *dst[i]; the keys from
 * the first NULL dst on are allowed but read by the caller (numbers). */
static int read_text_block(aud_spec_ctx *c, const cJSON *root, const char *block,
                           const char *const *keys, char **const *dst)
{
    const cJSON *v;
    int rc = aud_spec_get_object(c, root, "", block, &v);
    if (rc != AUD_OK || v == NULL)
        return rc;
    rc = aud_spec_check_keys(c, v, block, keys);
    for (int i = 0; keys[i] != NULL && dst[i] != NULL && rc == AUD_OK; i++)
        rc = aud_spec_get_text(c, v, block, keys[i], dst[i]);
    return rc;
}

int aud_spec_read_report(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"title", "organization", "prepared_by", "approved_by",
                                       "data_source", "date", "favorable_outcome", "max_groups",
                                       NULL};
    char **const dst[] = {&s->report.title, &s->report.organization, &s->report.prepared_by,
                          &s->report.approved_by, &s->report.data_source, &s->report.date,
                          &s->report.favorable_outcome, NULL};
    int rc = read_text_block(c, root, "report", keys, dst);
    const cJSON *v = root != NULL ? cJSON_GetObjectItemCaseSensitive(root, "report") : NULL;
    if (rc == AUD_OK && cJSON_IsObject(v))
        rc = aud_spec_get_whole(c, v, "report", "max_groups", 1, 100000, &s->report.max_groups);
    return rc;
}

int aud_spec_read_model_card(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"owner", "intended_use", "label_meaning", "training_data",
                                       "training_period", "limitations", "contact", NULL};
    char **const dst[] = {&s->card.owner, &s->card.intended_use, &s->card.label_meaning,
                          &s->card.training_data, &s->card.training_period, &s->card.limitations,
                          &s->card.contact, NULL};
    return read_text_block(c, root, "model_card", keys, dst);
}
