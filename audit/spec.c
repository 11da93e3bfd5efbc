/* spec.c - strict reading of the `audit run` spec file (SPEC section 4): loading, defaults, the
 * root keys and the checks across sections; the typed getters are in spec_get.c, the sections'
 * readers in spec_sections.c. Unknown keys are errors (a typo must not silently disable a
 * check); every error names the key path, e.g.
 * `spec.json: "explain.rows": expected a whole number from 1 to 10000000`. */
#include "audit/spec_parse_int.h"
#include "audit/checks_int.h"
#include "audit/bind_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int set_defaults(aud_spec *s)
{
    s->favorable = 1;
    s->threshold = 0.5;
    s->intersections = -1;
    s->min_group_share = 0.02;
    s->bootstrap = 1000;
    s->report.max_groups = -1;
    s->explain.enabled = 1;
    s->global.enabled = 1;
    s->global.repeats = 5;
    s->global.rows = 1000;
    s->global.top = 4;
    s->global.grid = 20;
    s->global.ice_rows = 20;
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
    s->outputs.explained_rows = aud_strdup("explained_rows.jsonl");
    s->explain.rows_file = -1;
    s->seed = 42;
    s->delimiter = ',';
    s->csv.header = 1;
    return s->explain.method && s->explain.output && s->drift.psi_binning && s->outputs.json &&
           s->outputs.pdf && s->outputs.xlsx && s->outputs.explained_rows;
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

/* The CSV dialect keys: "header", "names", "skip_rows", "comment", "keep_spaces". */
static int read_csv_dialect(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    char *comment = NULL;
    int rc = aud_spec_get_bool(c, root, "", "header", &s->csv.header);
    if (rc == AUD_OK) rc = aud_spec_get_string_list(c, root, "", "names", &s->csv.names, &s->csv.n_names);
    if (rc == AUD_OK) rc = aud_spec_get_whole(c, root, "", "skip_rows", 0, 1e12, &s->csv.skip_rows);
    if (rc == AUD_OK) rc = aud_spec_get_bool(c, root, "", "keep_spaces", &s->csv.keep_spaces);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "comment", &comment);
    if (rc == AUD_OK && comment != NULL &&
        (strlen(comment) != 1 || comment[0] == '"' || comment[0] == '\n' || comment[0] == '\r'))
        rc = aud_spec_key_error(c, "", "comment", "expected one character other than a quote");
    if (rc == AUD_OK && comment != NULL)
        s->csv.comment = comment[0];
    aud_free(comment);
    return rc;
}

/* The grouping of attribute `name` (added when new). */
static aud_grouping *grouping_of(aud_spec_ctx *c, aud_spec *s, const char *name)
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
static int read_groupings(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    const cJSON *bins, *order, *it;
    int rc = aud_spec_get_object(c, root, "", "bins", &bins);
    if (rc == AUD_OK)
        rc = aud_spec_get_object(c, root, "", "order", &order);
    for (int pass = 0; pass < 2 && rc == AUD_OK; pass++) {
        const char *key = pass == 0 ? "bins" : "order";
        const cJSON *obj = pass == 0 ? bins : order;
        cJSON_ArrayForEach(it, obj) {
            int known = 0;
            for (size_t k = 0; k < s->n_sensitive; k++)
                known |= strcmp(s->sensitive[k], it->string) == 0;
            if (!known)
                return aud_spec_key_error(c, key, it->string, "is not one of the \"sensitive\" columns");
            aud_grouping *g = grouping_of(c, s, it->string);
            if (g == NULL)
                return c->err->code;
            if (pass == 1) {
                char **list = NULL;
                size_t n = 0;
                rc = aud_spec_get_strings(c, obj, key, it->string, 0, &list, &n);
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
                    return aud_spec_key_error(c, key, it->string, "%s", e.msg);
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
                    return aud_spec_key_error(c, key, it->string, "expected increasing numbers");
            } else {
                return aud_spec_key_error(c, key, it->string,
                                 "expected a list of band edges or \"quantile:K\"");
            }
            g->edges = edges;
        }
    }
    return rc;
}

/* "model": {"command": ["PROG", "ARG", ...], "features": [...], "batch_rows": N,
 * "timeout_s": S, "max_rows": N, "protocol": "batch"|"session"} (docs/spec-file.md): argv as given, no shell; the program runs in
 * the spec file's folder, so relative paths in it are the spec's like every other path. */
static int read_model_command(aud_spec_ctx *c, const cJSON *m, aud_spec *s, const char *base)
{
    static const char *const keys[] = {"command", "features", "batch_rows", "timeout_s",
                                       "max_rows", "protocol", NULL};
    int rc = aud_spec_check_keys(c, m, "model", keys);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
    if (rc != AUD_OK)
        return rc;
    if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) < 1)
        return aud_spec_key_error(c, "model", "command",
                                  "expected a non-empty list of strings: the program and its "
                                  "arguments");
    size_t n = (size_t)cJSON_GetArraySize(cmd), i = 0;
    s->model_cmd.argv = aud_calloc(n + 1, sizeof *s->model_cmd.argv);
    if (s->model_cmd.argv == NULL)
        return aud_error_nomem(c->err);
    const cJSON *it;
    cJSON_ArrayForEach(it, cmd) {
        if (!cJSON_IsString(it) || (i == 0 && it->valuestring[0] == '\0'))
            return aud_spec_key_error(c, "model", "command",
                                      "expected a list of strings (the first non-empty)");
        if ((s->model_cmd.argv[i++] = aud_strdup(it->valuestring)) == NULL)
            return aud_error_nomem(c->err);
    }
    rc = aud_spec_get_string_list(c, m, "model", "features", &s->model_cmd.features,
                                  &s->model_cmd.n_features);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, m, "model", "batch_rows", 1, 1e9, &s->model_cmd.batch_rows);
    if (rc == AUD_OK)
        rc = aud_spec_get_number(c, m, "model", "timeout_s", 1e-3, 1e6, &s->model_cmd.timeout_s,
                                 NULL);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, m, "model", "max_rows", 1, 1e15, &s->model_cmd.max_rows);
    char *proto = NULL;
    if (rc == AUD_OK)
        rc = aud_spec_get_string(c, m, "model", "protocol", &proto);
    if (rc == AUD_OK && proto != NULL && strcmp(proto, "batch") != 0 &&
        strcmp(proto, "session") != 0)
        rc = aud_spec_key_error(c, "model", "protocol", "expected \"batch\" or \"session\"");
    s->model_cmd.session_protocol = rc == AUD_OK && proto != NULL && strcmp(proto, "session") == 0;
    aud_free(proto);
    if (rc == AUD_OK && (s->model_cmd.dir = aud_strdup(base[0] ? base : ".")) == NULL)
        rc = aud_error_nomem(c->err);
    return rc;
}

/* "global": false, or {"repeats", "rows", "top", "grid", "ice_rows"} (docs/spec-file.md) */
static int read_global(aud_spec_ctx *c, const cJSON *root, aud_spec *s)
{
    static const char *const keys[] = {"repeats", "rows", "top", "grid", "ice_rows", NULL};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "global");
    if (v == NULL)
        return AUD_OK;
    if (cJSON_IsBool(v)) {
        s->global.enabled = cJSON_IsTrue(v);
        return AUD_OK;
    }
    if (!cJSON_IsObject(v))
        return aud_spec_key_error(c, "", "global", "expected an object or false");
    int rc = aud_spec_check_keys(c, v, "global", keys);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "global", "repeats", 1, 1000, &s->global.repeats);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "global", "rows", 2, 1e6, &s->global.rows);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "global", "top", 0, 1000, &s->global.top);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "global", "grid", 2, 1000, &s->global.grid);
    if (rc == AUD_OK)
        rc = aud_spec_get_whole(c, v, "global", "ice_rows", 0, 1000, &s->global.ice_rows);
    return rc;
}

static int read_root(aud_spec_ctx *c, const cJSON *root, aud_spec *s, const char *base)
{
    static const char *const keys[] = {
        "model", "data", "reference", "label", "prediction", "score", "favorable", "threshold",
        "sensitive", "intersections", "compliance", "fairness", "explain", "drift", "checks",
        "outputs", "report", "seed", "threads", "delimiter", "na", "model_format", "history",
        "header", "names", "skip_rows", "comment", "keep_spaces", "label_positive",
        "prediction_positive", "bins", "order", "model_card", "global", "model_categories",
        NULL};
    if (!cJSON_IsObject(root))
        return aud_error_set(c->err, AUD_E_SCHEMA, c->file, 0, 0,
                             "expected a JSON object at the top level");
    int rc = aud_spec_check_keys(c, root, "", keys);
    double fav = 1;
    long seed = 42, threads = 0;
    int has_fav = 0;
    char *delim = NULL;
    const cJSON *mobj = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (rc == AUD_OK && cJSON_IsObject(mobj))
        rc = read_model_command(c, mobj, s, base);
    else if (rc == AUD_OK)
        rc = aud_spec_get_path(c, root, "", "model", base, &s->model);
    if (rc == AUD_OK) rc = aud_spec_get_string(c, root, "", "model_format", &s->model_format);
    if (rc == AUD_OK)
        rc = aud_spec_get_path(c, root, "", "model_categories", base, &s->model_categories);
    if (rc == AUD_OK && s->model_categories != NULL && s->model == NULL)
        rc = aud_spec_key_error(c, "", "model_categories", "given without \"model\"");
    if (rc == AUD_OK && s->model_format != NULL && s->model == NULL)
        rc = aud_spec_key_error(c, "", "model_format", s->model_cmd.argv != NULL
                                ? "goes with a model file, not a model command"
                                : "given without \"model\"");
    if (rc == AUD_OK && s->model_format != NULL && strcmp(s->model_format, "xgboost-json") != 0 &&
        strcmp(s->model_format, "lightgbm-text") != 0 &&
        strcmp(s->model_format, "linear-json") != 0 && strcmp(s->model_format, "trees-json") != 0)
        rc = aud_spec_key_error(c, "", "model_format",
                                "expected xgboost-json, lightgbm-text, linear-json or trees-json");
    if (rc == AUD_OK) rc = aud_spec_get_strings(c, root, "", "na", 1, &s->na, &s->n_na);
    if (rc == AUD_OK && s->n_na > 32)
        rc = aud_spec_key_error(c, "", "na", "at most 32 missing-value tokens");
    if (rc == AUD_OK) rc = read_global(c, root, s);
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
    if (rc == AUD_OK) rc = aud_spec_read_model_card(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_get_path(c, root, "", "history", base, &s->history);
    if (rc == AUD_OK) rc = aud_spec_get_whole(c, root, "", "seed", 0, 4294967295.0, &seed);
    if (rc == AUD_OK) rc = aud_spec_get_whole(c, root, "", "threads", 0, 1024, &threads);
    if (rc == AUD_OK) rc = read_csv_dialect(c, root, s);
    if (rc == AUD_OK) rc = aud_spec_get_strings(c, root, "", "label_positive", 0, &s->label_positive,
                                       &s->n_label_positive);
    if (rc == AUD_OK) rc = aud_spec_get_strings(c, root, "", "prediction_positive", 0,
                                       &s->prediction_positive, &s->n_prediction_positive);
    if (rc == AUD_OK && s->label_positive != NULL && s->label == NULL)
        rc = aud_spec_key_error(c, "", "label_positive", "given without \"label\"");
    if (rc == AUD_OK && s->prediction_positive != NULL && s->prediction == NULL)
        rc = aud_spec_key_error(c, "", "prediction_positive", "given without \"prediction\"");
    if (rc == AUD_OK) rc = read_groupings(c, root, s);
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
    char *strs[] = {s->path, s->model, s->model_format, s->model_categories, s->data, s->reference, s->label, s->prediction, s->score,
                    s->compliance, s->ll144_sex, s->ll144_race, s->explain.method, s->explain.output, s->explain.id, s->drift.method,
                    s->drift.psi_binning, s->outputs.dir, s->outputs.json, s->outputs.pdf,
                    s->outputs.xlsx, s->outputs.log, s->outputs.explained_rows, s->report.title, s->report.organization,
                    s->report.prepared_by, s->report.approved_by, s->report.data_source,
                    s->report.date, s->report.favorable_outcome, s->history,
                    s->card.owner, s->card.intended_use, s->card.label_meaning,
                    s->card.training_data, s->card.training_period, s->card.limitations,
                    s->card.contact};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        aud_free(strs[i]);
    for (size_t i = 0; i < s->n_sensitive; i++)
        aud_free(s->sensitive[i]);
    aud_free(s->sensitive);
    for (size_t i = 0; s->model_cmd.argv != NULL && s->model_cmd.argv[i] != NULL; i++)
        aud_free(s->model_cmd.argv[i]);
    aud_free(s->model_cmd.argv);
    for (size_t i = 0; i < s->model_cmd.n_features; i++)
        aud_free(s->model_cmd.features[i]);
    aud_free(s->model_cmd.features);
    aud_free(s->model_cmd.dir);
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
    for (size_t i = 0; i < s->explain.n_nominal; i++)
        aud_free(s->explain.nominal[i]);
    aud_free(s->explain.nominal);
    aud_free(s->explain.nominal_labels);
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
