/* checks.c - evaluation of policy checks against the results document (see checks_int.h). */
#include "audit/checks_int.h"
#include "core/io.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef enum scope {
    SCOPE_GROUP,       /* fairness.attributes[].groups[] and fairness.intersections[].groups[] */
    SCOPE_SUMMARY,     /* fairness.attributes[].summary, intersections too */
    SCOPE_DRIFT,       /* drift.<metric> */
    SCOPE_COLUMN,      /* drift.columns[].<metric> (dotted paths such as ks.p_value) */
    SCOPE_EXPLAIN,     /* explanations.<metric> */
    SCOPE_PERF         /* performance.overall / performance.by_group[] */
} scope;

typedef struct metric_def {
    const char *name;
    scope where;
} metric_def;

static const metric_def metrics[] = {
    {"selection_rate", SCOPE_GROUP}, {"base_rate", SCOPE_GROUP}, {"tpr", SCOPE_GROUP},
    {"fpr", SCOPE_GROUP}, {"tnr", SCOPE_GROUP}, {"fnr", SCOPE_GROUP}, {"ppv", SCOPE_GROUP},
    {"npv", SCOPE_GROUP}, {"fdr", SCOPE_GROUP}, {"false_omission_rate", SCOPE_GROUP},
    {"accuracy_group", SCOPE_GROUP}, {"disparate_impact", SCOPE_GROUP},
    {"impact_ratio", SCOPE_GROUP}, {"selection_rate_difference", SCOPE_GROUP},
    {"selection_rate_ratio", SCOPE_GROUP}, {"tpr_difference", SCOPE_GROUP},
    {"fpr_difference", SCOPE_GROUP}, {"ppv_difference", SCOPE_GROUP},
    {"auc_group", SCOPE_GROUP}, {"ece", SCOPE_GROUP}, {"brier", SCOPE_GROUP},
    {"demographic_parity_difference", SCOPE_SUMMARY}, {"demographic_parity_ratio", SCOPE_SUMMARY},
    {"equalized_odds_difference", SCOPE_SUMMARY}, {"equalized_odds_ratio", SCOPE_SUMMARY},
    {"equal_opportunity_difference", SCOPE_SUMMARY}, {"average_odds_difference", SCOPE_SUMMARY},
    {"average_abs_odds_difference", SCOPE_SUMMARY},
    {"predictive_parity_difference", SCOPE_SUMMARY}, {"theil_index", SCOPE_SUMMARY},
    {"generalized_entropy_index", SCOPE_SUMMARY}, {"between_group_generalized_entropy_index", SCOPE_SUMMARY},
    {"chi_square.p_value", SCOPE_SUMMARY}, {"fisher_p_value", SCOPE_GROUP},
    {"base_rate_difference", SCOPE_GROUP}, {"tnr_difference", SCOPE_GROUP},
    {"fnr_difference", SCOPE_GROUP}, {"tpr_ratio", SCOPE_GROUP}, {"fpr_ratio", SCOPE_GROUP},
    {"accuracy_difference", SCOPE_GROUP},
    {"drift_share", SCOPE_DRIFT}, {"dataset_drift", SCOPE_DRIFT},
    {"drifted", SCOPE_COLUMN}, {"statistic", SCOPE_COLUMN}, {"psi", SCOPE_COLUMN},
    {"wasserstein", SCOPE_COLUMN}, {"wasserstein_normed", SCOPE_COLUMN},
    {"jensen_shannon", SCOPE_COLUMN}, {"ks.statistic", SCOPE_COLUMN},
    {"ks.p_value", SCOPE_COLUMN}, {"chi_square.statistic", SCOPE_COLUMN},
    {"missing_share_change", SCOPE_COLUMN},
    {"additivity_max_error", SCOPE_EXPLAIN},
    {"auc", SCOPE_PERF}, {"accuracy", SCOPE_PERF}, {"log_loss", SCOPE_PERF},
    {"brier_score", SCOPE_PERF},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

static const metric_def *find_metric(const char *name)
{
    for (size_t i = 0; i < N_METRICS; i++) {
        if (strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    }
    return NULL;
}

int aud_check_is_performance(const char *metric)
{
    const metric_def *m = find_metric(metric);
    return m != NULL && m->where == SCOPE_PERF;
}

int aud_check_is_summary(const char *metric)
{
    const metric_def *m = find_metric(metric);
    return m != NULL && m->where == SCOPE_SUMMARY;
}

/* A signed gap (group minus reference, or the signed worst such gap): every `*_difference`
 * except the spreads and magnitudes, which are never negative (docs/fairness.md). */
static int signed_gap(const char *metric)
{
    static const char *const unsigned_diffs[] = {
        "demographic_parity_difference", "equalized_odds_difference",
        "average_abs_odds_difference", "predictive_parity_difference"};
    size_t n = strlen(metric);
    if (n <= 11 || strcmp(metric + n - 11, "_difference") != 0)
        return 0;
    for (size_t i = 0; i < sizeof unsigned_diffs / sizeof *unsigned_diffs; i++)
        if (strcmp(metric, unsigned_diffs[i]) == 0)
            return 0;
    return 1;
}

/* The bounds a check row applies: as given, except that one bound alone on a signed gap is
 * mirrored (max 0.1 tests -0.1 <= value <= 0.1; min -0.1 the same), so that a gap the wrong
 * way round cannot pass by its sign (issue 14). */
static void bounds(const aud_check_spec *c, int *has_min, double *min, int *has_max,
                   double *max)
{
    *has_min = c->has_min;
    *min = c->min;
    *has_max = c->has_max;
    *max = c->max;
    if (!signed_gap(c->metric) || c->has_min == c->has_max)
        return;
    if (c->has_max) {
        *has_min = 1;
        *min = -c->max;
    } else {
        *has_max = 1;
        *max = -c->min;
    }
}

int aud_check_validate(const aud_check_spec *c, size_t index, const char *spec_path,
                       aud_error *err)
{
    char field[64];
    snprintf(field, sizeof field, "checks[%zu].metric", index);
    const metric_def *m = find_metric(c->metric);
    if (m == NULL) {
        aud_error_set(err, AUD_E_SCHEMA, spec_path, 0, 0,
                      "unknown metric \"%s\" (see docs/spec-file.md for the list)", c->metric);
        return aud_error_field(err, field);
    }
    if (c->column != NULL && m->where != SCOPE_COLUMN) {
        aud_error_set(err, AUD_E_SCHEMA, spec_path, 0, 0,
                      "\"column\" applies only to per-column drift metrics");
        return aud_error_field(err, field);
    }
    if ((c->attribute != NULL || c->group != NULL) &&
        (m->where == SCOPE_COLUMN || m->where == SCOPE_DRIFT || m->where == SCOPE_EXPLAIN)) {
        aud_error_set(err, AUD_E_SCHEMA, spec_path, 0, 0,
                      "\"attribute\" and \"group\" apply only to fairness and performance metrics");
        return aud_error_field(err, field);
    }
    if (signed_gap(c->metric) && c->has_min != c->has_max &&
        (c->has_max ? c->max < 0.0 : c->min > 0.0)) {
        aud_error_set(err, AUD_E_SCHEMA, spec_path, 0, 0,
                      "\"%s\" is a signed gap: a %s alone applies to both sides (%s %g means "
                      "%g..%g), so it must be %s 0; give both min and max for another range",
                      c->metric, c->has_max ? "max" : "min", c->has_max ? "max" : "min",
                      c->has_max ? c->max : c->min, c->has_max ? c->max : c->min,
                      c->has_max ? -c->max : -c->min, c->has_max ? ">=" : "<=");
        return aud_error_field(err, field);
    }
    if (c->group != NULL && m->where == SCOPE_SUMMARY) {
        aud_error_set(err, AUD_E_SCHEMA, spec_path, 0, 0,
                      "\"%s\" is a per-attribute summary: filter with \"attribute\", not \"group\"",
                      c->metric);
        return aud_error_field(err, field);
    }
    return AUD_OK;
}

/* Value at a dotted path ("ks.p_value") inside obj; NULL when absent. */
static const cJSON *lookup(const cJSON *obj, const char *path)
{
    char key[64];
    const char *p = path;
    while (obj != NULL) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (dot == NULL)
            return obj;
        p = dot + 1;
    }
    return NULL;
}

typedef struct eval {
    const aud_check_spec *c;
    cJSON *rows;
    size_t failed, matched;
    int nomem;
} eval;

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *aud_check_result_key(const char *metric)
{
    if (strcmp(metric, "accuracy_group") == 0)
        return "accuracy";
    if (strcmp(metric, "auc_group") == 0)
        return "auc";
    return metric;
}

static void add_row(eval *e, const char *attribute, const char *group, const char *column,
                    const cJSON *value, const char *why_missing)
{
    const aud_check_spec *c = e->c;
    cJSON *row = cJSON_CreateObject();
    if (row == NULL || !cJSON_AddItemToArray(e->rows, row)) {
        cJSON_Delete(row);
        e->nomem = 1;
        return;
    }
    e->matched++;
    int ok = cJSON_AddStringToObject(row, "metric", c->metric) != NULL;
    if (attribute != NULL)
        ok &= cJSON_AddStringToObject(row, "attribute", attribute) != NULL;
    if (group != NULL)
        ok &= cJSON_AddStringToObject(row, "group", group) != NULL;
    if (column != NULL)
        ok &= cJSON_AddStringToObject(row, "column", column) != NULL;
    double v = NAN;
    if (cJSON_IsNumber(value))
        v = value->valuedouble;
    else if (cJSON_IsBool(value))
        v = cJSON_IsTrue(value) ? 1.0 : 0.0;
    else if (cJSON_IsRaw(value))   /* exact numbers are raw nodes */
        v = aud_strtod_c(value->valuestring, NULL);
    ok &= aud_json_add_num(row, "value", v) == 0;
    int has_min, has_max;
    double min, max;
    bounds(c, &has_min, &min, &has_max, &max);
    if (has_min)
        ok &= aud_json_add_num(row, "min", min) == 0;
    if (has_max)
        ok &= aud_json_add_num(row, "max", max) == 0;
    int passed = isfinite(v) && (!has_min || v >= min) && (!has_max || v <= max);
    ok &= cJSON_AddBoolToObject(row, "passed", passed) != NULL;
    if (!isfinite(v))
        ok &= cJSON_AddStringToObject(row, "reason",
                                      value != NULL ? "value undefined (see the section's reason)"
                                      : why_missing != NULL ? why_missing
                                                            : "metric not computed") != NULL;
    if (!passed)
        e->failed++;
    if (!ok)
        e->nomem = 1;
}

static int excluded(const cJSON *g)
{
    /* small groups (under the minimum share or count) are reported but left out of verdicts;
     * the fairness section says so in excluded_from_verdict */
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "excluded_from_verdict"));
}

/* Group metrics relative to the reference group are trivially 1 or 0 for the reference itself,
 * and impact ratios for the highest-rate group: those rows are not evidence of anything. */
static int trivial_for(const char *metric, const cJSON *g)
{
    size_t n = strlen(metric);
    int relative = strcmp(metric, "disparate_impact") == 0 ||
                   (n > 11 && strcmp(metric + n - 11, "_difference") == 0) ||
                   (n > 6 && strcmp(metric + n - 6, "_ratio") == 0);
    if (strcmp(metric, "impact_ratio") == 0)
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "highest_selection_rate"));
    return relative && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "reference"));
}

static void eval_fairness_list(eval *e, const cJSON *list, scope where)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, list) {
        const char *aname = str_of(a, "name");
        if (e->c->attribute != NULL && (aname == NULL || strcmp(aname, e->c->attribute) != 0))
            continue;
        if (where == SCOPE_SUMMARY) {
            const cJSON *sum = cJSON_GetObjectItemCaseSensitive(a, "summary");
            add_row(e, aname, NULL, NULL, lookup(sum, aud_check_result_key(e->c->metric)), NULL);
            continue;
        }
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(a, "groups")) {
            const char *gname = str_of(g, "group");
            if (e->c->group != NULL && (gname == NULL || strcmp(gname, e->c->group) != 0))
                continue;
            if (excluded(g) || trivial_for(e->c->metric, g))
                continue;
            add_row(e, aname, gname, NULL, lookup(g, aud_check_result_key(e->c->metric)), NULL);
        }
    }
}

int aud_checks_evaluate(const aud_check_spec *checks, size_t n, cJSON *results,
                        size_t *n_failed, aud_error *err)
{
    cJSON *rows = cJSON_AddArrayToObject(results, "checks");
    if (rows == NULL)
        return aud_error_nomem(err);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const aud_check_spec *c = &checks[i];
        const metric_def *m = find_metric(c->metric);
        eval e = {c, rows, 0, 0, 0};
        if (m == NULL)
            return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "unvalidated check");
        const cJSON *fair = cJSON_GetObjectItemCaseSensitive(results, "fairness");
        const cJSON *drift = cJSON_GetObjectItemCaseSensitive(results, "drift");
        const cJSON *perf = cJSON_GetObjectItemCaseSensitive(results, "performance");
        switch (m->where) {
        case SCOPE_GROUP:
        case SCOPE_SUMMARY:
            eval_fairness_list(&e, cJSON_GetObjectItemCaseSensitive(fair, "attributes"), m->where);
            if (c->attribute == NULL || strchr(c->attribute, '&') != NULL)
                eval_fairness_list(&e, cJSON_GetObjectItemCaseSensitive(fair, "intersections"),
                                   m->where);
            break;
        case SCOPE_DRIFT:
            add_row(&e, NULL, NULL, NULL, lookup(drift, c->metric), NULL);
            break;
        case SCOPE_COLUMN: {
            const cJSON *col;
            cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(drift, "columns")) {
                const char *name = str_of(col, "name");
                if (c->column != NULL && (name == NULL || strcmp(name, c->column) != 0))
                    continue;
                add_row(&e, NULL, NULL, name, lookup(col, c->metric), NULL);
            }
            /* the model output's drift (drift.prediction_drift) by its name, "prediction", when
             * no data column has that name (issue 14 item 10) */
            const cJSON *pd = cJSON_GetObjectItemCaseSensitive(drift, "prediction_drift");
            const char *pname = str_of(pd, "name");
            if (e.matched == 0 && c->column != NULL && pname != NULL &&
                strcmp(pname, c->column) == 0)
                add_row(&e, NULL, NULL, pname, lookup(pd, c->metric), NULL);
            break;
        }
        case SCOPE_EXPLAIN:
            add_row(&e, NULL, NULL, NULL,
                    lookup(cJSON_GetObjectItemCaseSensitive(results, "explanations"), c->metric),
                    NULL);
            break;
        case SCOPE_PERF:
            if (c->attribute == NULL && c->group == NULL) {
                add_row(&e, NULL, NULL, NULL,
                        lookup(cJSON_GetObjectItemCaseSensitive(perf, "overall"), c->metric), NULL);
                break;
            }
            const cJSON *g;
            cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(perf, "by_group")) {
                const char *aname = str_of(g, "attribute"), *gname = str_of(g, "group");
                if ((c->attribute != NULL && (aname == NULL || strcmp(aname, c->attribute))) ||
                    (c->group != NULL && (gname == NULL || strcmp(gname, c->group))))
                    continue;
                add_row(&e, aname, gname, NULL, lookup(g, c->metric), NULL);
            }
            break;
        }
        if (!e.nomem && e.matched == 0)   /* nothing to evaluate: fail, never pass by omission */
            add_row(&e, c->attribute, c->group, c->column, NULL,
                    m->where == SCOPE_GROUP && fair != NULL
                        ? "no group to compare (the others are small, excluded or absent)"
                        : NULL);
        if (e.nomem)
            return aud_error_nomem(err);
        failed += e.failed;
    }
    if (cJSON_AddStringToObject(results, "verdict", failed ? "fail" : "pass") == NULL)
        return aud_error_nomem(err);
    *n_failed = failed;
    return AUD_OK;
}
