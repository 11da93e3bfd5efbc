/* spec.c - strict reading of the `audit run` spec file (SPEC section 4): loading, defaults, the
 * root keys and the checks across sections; the typed getters are in spec_get.c, the sections'
 * readers in spec_sections.c. Unknown keys are errors (a typo must not silently disable a
 * check); every error names the key path, e.g.
 * `spec.json: "explain.rows": expected a whole number from 1 to 10000000`. */
#include "audit/spec_int.h"
#include "audit/checks.h"
#include "audit/bind.h"
#include "core/io.h"

#include <math.h>
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
static int check_attributes(aud_spec_ctx *c, const aud_spec *s)
{
    for (size_t i = 0; i < s->n_checks; i++) {
        const char *a = s->checks[i].attribute;
        int perf = s->checks[i].metric != NULL && aud_check_is_performance(s->checks[i].metric);
        if (a == NULL || names_attribute(s, a, perf))
            continue;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "checks[%zu]", i);
        if (perf && names_attribute(s, a, 0))
            return aud_spec_key_error(c, prefix, "attribute",
                             "performance by group is computed per sensitive attribute, not for "
                             "the intersection \"%s\"", a);
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t j = 0; j < s->n_sensitive; j++) {
            size_t d = aud_spec_edit_distance(a, s->sensitive[j]);
            if (d < best_d) {
                best_d = d;
                best = s->sensitive[j];
            }
        }
        if (best != NULL)
            return aud_spec_key_error(c, prefix, "attribute",
                             "\"%s\" is not a sensitive attribute (did you mean \"%s\"?)", a,
                             best);
        return aud_spec_key_error(c, prefix, "attribute",
                         "\"%s\" is neither a sensitive attribute nor an intersection of them "
                         "(\"a&b\", in \"sensitive\" order%s)",
                         a, s->intersections ? "" : "; intersections are off");
    }
    return AUD_OK;
}

static int read_root(aud_spec_ctx *c, const cJSON *root, aud_spec *s, const char *base)
{
    static const char *const keys[] = {
        "model", "data", "reference", "label", "prediction", "score", "favorable", "threshold",
        "sensitive", "intersections", "compliance", "fairness", "explain", "drift", "checks",
        "outputs", "report", "seed", "threads", "delimiter", "na", "model_format", "history",
        NULL};
    if (!cJSON_IsObject(root))
        return aud_error_set(c->err, AUD_E_SCHEMA, c->file, 0, 0,
                             "expected a JSON object at the top level");
    int rc = aud_spec_check_keys(c, root, "", keys);
    double fav = 1;
    long seed = 42, threads = 0;
    int has_fav = 0;
    char *delim = NULL;
    if (rc == AUD_OK) rc = aud_spec_get_path(c, root, "", "model", base, &s->model);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "model_format", &s->model_format);
    if (rc == AUD_OK && s->model_format != NULL && s->model == NULL)
        rc = aud_spec_key_error(c, "", "model_format", "given without \"model\"");
    if (rc == AUD_OK && s->model_format != NULL && strcmp(s->model_format, "xgboost-json") != 0 &&
        strcmp(s->model_format, "lightgbm-text") != 0 &&
        strcmp(s->model_format, "linear-json") != 0 && strcmp(s->model_format, "trees-json") != 0)
        rc = aud_spec_key_error(c, "", "model_format",
                                "expected xgboost-json, lightgbm-text, linear-json or trees-json");
    if (rc == AUD_OK) rc = aud_spec_get_strings(c, root, "", "na", 1, &s->na, &s->n_na);
    if (rc == AUD_OK && s->n_na > 32)
        rc = aud_spec_key_error(c, "", "na", "at most 32 missing-value tokens");
    if (rc == AUD_OK) rc = aud_spec_get_path(c, root, "", "data", base, &s->data);
    if (rc == AUD_OK) rc = aud_spec_get_path(c, root, "", "reference", base, &s->reference);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "label", &s->label);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "prediction", &s->prediction);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "score", &s->score);
    if (rc == AUD_OK) rc = aud_spec_get_number(c, root, "", "favorable", 0, 1, &fav, &has_fav);
    if (rc == AUD_OK && has_fav && fav != 0 && fav != 1)
        rc = aud_spec_key_error(c, "", "favorable", "expected 0 or 1");
    if (rc == AUD_OK) rc = aud_spec_get_number(c, root, "", "threshold", -HUGE_VAL, HUGE_VAL,
                                               &s->threshold, NULL);
    if (rc == AUD_OK) rc = aud_spec_get_string_list(c, root, "", "sensitive", &s->sensitive,
                                                    &s->n_sensitive);
    if (rc == AUD_OK) rc = aud_spec_get_bool(c, root, "", "intersections", &s->intersections);
    if (rc == AUD_OK) rc = aud_spec_read_compliance(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_read_fairness(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_read_explain(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_read_drift(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_read_checks(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_read_outputs(c, root, s, base);
    if (rc == AUD_OK) rc = aud_spec_read_report(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_get_path(c, root, "", "history", base, &s->history);
    if (rc == AUD_OK) rc = aud_spec_get_whole(c, root, "", "seed", 0, 4294967295.0, &seed);
    if (rc == AUD_OK) rc = aud_spec_get_whole(c, root, "", "threads", 0, 1024, &threads);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "delimiter", &delim);
    if (rc == AUD_OK && delim != NULL && strlen(delim) != 1 && strcmp(delim, "\t") != 0)
        rc = aud_spec_key_error(c, "", "delimiter", "expected one character");
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
        return aud_spec_key_error(c, "", "data", "is required");
    if (s->prediction != NULL && s->score != NULL)
        return aud_spec_key_error(c, "", "prediction",
                                  "give either \"prediction\" or \"score\", not both");
    int rc2 = aud_spec_check_ll144(c, s);
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
                    s->report.date, s->report.favorable_outcome, s->history};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        aud_free(strs[i]);
    for (size_t i = 0; i < s->n_sensitive; i++)
        aud_free(s->sensitive[i]);
    aud_free(s->sensitive);
    for (size_t i = 0; i < s->n_na; i++)
        aud_free(s->na[i]);
    aud_free(s->na);
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
    aud_spec_ctx c = {path, err};
    rc = aud_spec_check_utf8(&c, s->raw, "");
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
