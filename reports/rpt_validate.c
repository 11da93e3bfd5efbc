/* rpt_validate.c - load a results.json file and check the structure the report writers rely on
 * (docs/results-schema.md, schema version 1). Unknown keys are allowed (newer producers may add
 * fields); known keys must have their documented types, so the writers never meet a surprise. */
#include "reports/report.h"
#include "reports/rpt_int.h"
#include "core/provenance.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Reports refuse results files larger than this (a results document is summaries, not data). */
#define RPT_MAX_RESULTS_BYTES ((size_t)1 << 30)

typedef struct vctx {
    aud_error *err;
    const char *name;
    size_t n_features;   /* explanations.features, for the explained_rows check */
    char path[512];
} vctx;

static int vfail(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int vfail(vctx *v, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aud_error_set(v->err, AUD_E_SCHEMA, v->name, 0, 0, "%s", msg);
    return aud_error_field(v->err, v->path[0] != '\0' ? v->path : NULL);
}

/* Append ".key" or "[i]" to the path; returns the old length to restore. */
static size_t vpush_key(vctx *v, const char *key)
{
    size_t n = strlen(v->path);
    snprintf(v->path + n, sizeof v->path - n, "%s%s", n > 0 ? "." : "", key);
    return n;
}

static size_t vpush_idx(vctx *v, size_t i)
{
    size_t n = strlen(v->path);
    snprintf(v->path + n, sizeof v->path - n, "[%zu]", i);
    return n;
}

static void vpop(vctx *v, size_t n)
{
    v->path[n] = '\0';
}

enum { T_NUM = 1, T_STR = 2, T_BOOL = 4, T_NULL = 8, T_OBJ = 16, T_ARR = 32 };

/* A number is finite: cJSON reads 1e400 as infinity, which no report can draw or store. */
static int is_num(const cJSON *x)
{
    return cJSON_IsNumber(x) && isfinite(x->valuedouble);
}

static int type_ok(const cJSON *x, int types)
{
    return ((types & T_NUM) && is_num(x)) || ((types & T_STR) && cJSON_IsString(x)) ||
           ((types & T_BOOL) && cJSON_IsBool(x)) || ((types & T_NULL) && cJSON_IsNull(x)) ||
           ((types & T_OBJ) && cJSON_IsObject(x)) || ((types & T_ARR) && cJSON_IsArray(x));
}

static const char *type_name(int types)
{
    switch (types) {
    case T_NUM: return "a finite number";
    case T_NUM | T_NULL: return "a finite number or null";
    case T_STR: return "a string";
    case T_STR | T_NULL: return "a string or null";
    case T_BOOL: return "true or false";
    case T_OBJ: return "an object";
    case T_ARR: return "an array";
    case T_ARR | T_NULL: return "an array or null";
    default: return "a number, string or null";
    }
}

/* Check o[key]: required or optional, of the given types. */
static int vkey(vctx *v, const cJSON *o, const char *key, int types, int required)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    int rc = AUD_OK;
    size_t n = vpush_key(v, key);
    if (x == NULL) {
        if (required)
            rc = vfail(v, "missing (expected %s)", type_name(types));
    } else if (!type_ok(x, types)) {
        rc = vfail(v, "expected %s", type_name(types));
    }
    vpop(v, n);
    return rc;
}

/* A "[lo, hi]" interval or null. */
static int vci(vctx *v, const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    int rc = AUD_OK;
    if (x == NULL || cJSON_IsNull(x))
        return AUD_OK;
    size_t n = vpush_key(v, key);
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 || !is_num(x->child) ||
        !is_num(x->child->next))
        rc = vfail(v, "expected an interval [lo, hi] of two numbers, or null");
    vpop(v, n);
    return rc;
}

/* Every element of o[key] (if present) must be a number (or null when nullable). */
static int vnum_array(vctx *v, const cJSON *o, const char *key, int nullable, size_t *count)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *it;
    size_t i = 0;
    int rc = vkey(v, o, key, T_ARR, 1);
    if (rc != AUD_OK)
        return rc;
    size_t n = vpush_key(v, key);
    cJSON_ArrayForEach(it, a) {
        if (!is_num(it) && !(nullable && cJSON_IsNull(it))) {
            size_t m = vpush_idx(v, i);
            rc = vfail(v, "expected %s", nullable ? "a finite number or null" : "a finite number");
            vpop(v, m);
            break;
        }
        i++;
    }
    vpop(v, n);
    if (count != NULL)
        *count = i;
    return rc;
}

typedef int (*vfun)(vctx *v, const cJSON *item);

/* Optional (or required) array of objects, each checked by f. */
static int varray(vctx *v, const cJSON *o, const char *key, int required, vfun f)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *it;
    size_t i = 0;
    int rc = vkey(v, o, key, T_ARR, required);
    if (rc != AUD_OK || a == NULL)
        return rc;
    size_t n = vpush_key(v, key);
    cJSON_ArrayForEach(it, a) {
        size_t m = vpush_idx(v, i++);
        if (!cJSON_IsObject(it))
            rc = vfail(v, "expected an object");
        else if (f != NULL)
            rc = f(v, it);
        vpop(v, m);
        if (rc != AUD_OK)
            break;
    }
    vpop(v, n);
    return rc;
}

static int vtest(vctx *v, const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    int rc;
    if (x == NULL || cJSON_IsNull(x) || cJSON_IsNumber(x))
        return AUD_OK;
    rc = vkey(v, o, key, T_OBJ, 1);
    if (rc != AUD_OK)
        return rc;
    size_t n = vpush_key(v, key);
    if ((rc = vkey(v, x, "statistic", T_NUM | T_NULL, 0)) == AUD_OK &&
        (rc = vkey(v, x, "dof", T_NUM | T_NULL, 0)) == AUD_OK)
        rc = vkey(v, x, "p_value", T_NUM | T_NULL, 0);
    vpop(v, n);
    return rc;
}

/* ---- sections ---- */

static int v_input(vctx *v, const cJSON *o)
{
    int rc;
    if ((rc = vkey(v, o, "role", T_STR, 0)) || (rc = vkey(v, o, "path", T_STR, 0)) ||
        (rc = vkey(v, o, "sha256", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, o, "sha256_reason", T_STR, 0)) || (rc = vkey(v, o, "rows", T_NUM, 0)) ||
        (rc = vkey(v, o, "columns", T_NUM, 0)) || (rc = vkey(v, o, "format", T_STR, 0)) ||
        (rc = vkey(v, o, "objective", T_STR | T_NULL, 0)))
        return rc;
    return AUD_OK;
}

static int v_provenance(vctx *v, const cJSON *p)
{
    int rc;
    const cJSON *m = aud_rpt_obj(p, "model");
    const char *created = aud_rpt_str(p, "created", NULL);
    if ((rc = vkey(v, p, "created", T_STR, 0)) != AUD_OK)
        return rc;
    if (created != NULL && !aud_utc_valid(created)) {
        size_t n = vpush_key(v, "created");
        rc = vfail(v, "expected a UTC date and time written YYYY-MM-DDTHH:MM:SSZ, got \"%.40s\"",
                   created);
        vpop(v, n);
        return rc;
    }
    if ((rc = vkey(v, p, "command", T_STR, 0)) ||
        (rc = vkey(v, p, "spec", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, p, "seed", T_NUM | T_NULL, 0)) || (rc = varray(v, p, "inputs", 0, v_input)) ||
        (rc = vkey(v, p, "model", T_OBJ, 0)))
        return rc;
    if (m != NULL) {
        size_t n = vpush_key(v, "model");
        if ((rc = vkey(v, m, "path", T_STR, 0)) == AUD_OK &&
            (rc = vkey(v, m, "sha256", T_STR | T_NULL, 0)) == AUD_OK &&
            (rc = vkey(v, m, "format", T_STR, 0)) == AUD_OK)
            rc = vkey(v, m, "objective", T_STR | T_NULL, 0);
        vpop(v, n);
    }
    return rc;
}

static int v_skipped(vctx *v, const cJSON *o)
{
    int rc = vkey(v, o, "section", T_STR, 1);
    return rc != AUD_OK ? rc : vkey(v, o, "reason", T_STR, 1);
}

/* A nominal feature's category: its code (the value in "points") and label. */
static int v_nominal_category(vctx *v, const cJSON *c)
{
    int rc = vkey(v, c, "code", T_NUM, 1);
    return rc != AUD_OK ? rc : vkey(v, c, "label", T_STR, 1);
}

static int v_feature(vctx *v, const cJSON *f)
{
    int rc;
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(f, "points");
    const cJSON *it;
    size_t i = 0;
    if ((rc = vkey(v, f, "name", T_STR, 1)) || (rc = vkey(v, f, "mean_abs", T_NUM | T_NULL, 1)) ||
        (rc = vkey(v, f, "mean", T_NUM | T_NULL, 0)) || (rc = vkey(v, f, "rank", T_NUM, 0)) ||
        (rc = vkey(v, f, "points", T_ARR, 0)) || (rc = vkey(v, f, "nominal", T_BOOL, 0)) ||
        (rc = vkey(v, f, "nominal_source", T_STR, 0)) ||
        (rc = varray(v, f, "categories", 0, v_nominal_category)))
        return rc;
    size_t n = vpush_key(v, "points");
    cJSON_ArrayForEach(it, pts) {
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2 ||
            !type_ok(it->child, T_NUM | T_STR | T_NULL) || !is_num(it->child->next)) {
            size_t m = vpush_idx(v, i);
            rc = vfail(v, "expected a [value, phi] pair (value a number, string or null)");
            vpop(v, m);
            break;
        }
        i++;
    }
    vpop(v, n);
    return rc;
}

static int v_row(vctx *v, const cJSON *r)
{
    int rc;
    size_t nphi = 0;
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(r, "value");
    if ((rc = vkey(v, r, "row", T_NUM, 1)) || (rc = vkey(v, r, "prediction", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "base", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "selected", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, r, "why", T_STR | T_NULL, 0)) || (rc = vkey(v, r, "output", T_NUM | T_NULL, 0)) ||
        (rc = vnum_array(v, r, "phi", 0, &nphi)) || (rc = vkey(v, r, "value", T_ARR, 1)))
        return rc;
    if (nphi != v->n_features || (size_t)cJSON_GetArraySize(vals) != v->n_features) {
        size_t n = vpush_key(v, "phi");
        rc = vfail(v, "expected one entry per feature (%zu), found %zu phi and %d values",
                   v->n_features, nphi, cJSON_GetArraySize(vals));
        vpop(v, n);
    }
    return rc;
}

/* A whole number in [0, 2^53] (exact in a double). */
static int is_count(const cJSON *x)
{
    return is_num(x) && x->valuedouble >= 0 && x->valuedouble <= 9007199254740992.0 &&
           floor(x->valuedouble) == x->valuedouble;
}

/* explanations.explained_rows_file (optional): where the explained rows went when the run
 * wrote them to a JSON-lines file beside results.json. */
static int v_rows_file(vctx *v, const cJSON *e)
{
    static const char *const counts[] = {"rows", "bytes"};
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "explained_rows_file");
    const char *s;
    int rc = vkey(v, e, "explained_rows_file", T_OBJ, 0);
    size_t n, m;
    if (rc != AUD_OK || b == NULL)
        return rc;
    n = vpush_key(v, "explained_rows_file");
    if ((rc = vkey(v, b, "path", T_STR, 1)) || (rc = vkey(v, b, "format", T_STR, 1)) ||
        (rc = vkey(v, b, "rows", T_NUM, 1)) || (rc = vkey(v, b, "bytes", T_NUM, 1)) ||
        (rc = vkey(v, b, "sha256", T_STR, 1)))
        goto done;
    s = aud_rpt_str(b, "path", "");
    m = vpush_key(v, "path");
    if (s[0] == '\0' || strchr(s, '/') != NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        rc = vfail(v, "expected a plain file name in the folder of results.json (no '/', "
                   "not \".\" or \"..\"), got \"%.80s\"", s);
    vpop(v, m);
    if (rc != AUD_OK)
        goto done;
    s = aud_rpt_str(b, "format", "");
    if (strcmp(s, "jsonl") != 0) {
        m = vpush_key(v, "format");
        rc = vfail(v, "expected \"jsonl\", got \"%.40s\"", s);
        vpop(v, m);
        goto done;
    }
    for (size_t k = 0; k < 2; k++) {
        if (!is_count(cJSON_GetObjectItemCaseSensitive(b, counts[k]))) {
            m = vpush_key(v, counts[k]);
            rc = vfail(v, "expected a non-negative whole number");
            vpop(v, m);
            goto done;
        }
    }
    s = aud_rpt_str(b, "sha256", "");
    {
        size_t len = strlen(s), k = 0;
        while (k < len && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
            k++;
        if (len != 64 || k != len) {
            m = vpush_key(v, "sha256");
            rc = vfail(v, "expected 64 lowercase hexadecimal digits, got \"%.80s\"", s);
            vpop(v, m);
        }
    }
done:
    vpop(v, n);
    return rc;
}

static int v_explanations(vctx *v, const cJSON *e)
{
    int rc;
    if ((rc = vkey(v, e, "method", T_STR, 0)) || (rc = vkey(v, e, "output", T_STR, 0)) ||
        (rc = vkey(v, e, "rows", T_NUM, 0)) || (rc = vkey(v, e, "base_value", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, e, "additivity_max_error", T_NUM | T_NULL, 0)) ||
        (rc = varray(v, e, "features", 1, v_feature)))
        return rc;
    if ((rc = vkey(v, e, "feature_order", T_ARR, 0)) != AUD_OK)
        return rc;
    if (aud_rpt_arr(e, "feature_order") != NULL) {
        const cJSON *it;
        size_t n = vpush_key(v, "feature_order");
        cJSON_ArrayForEach(it, aud_rpt_arr(e, "feature_order")) {
            if (!cJSON_IsString(it)) {
                rc = vfail(v, "expected feature names (strings)");
                break;
            }
        }
        if (rc == AUD_OK && aud_rpt_count(aud_rpt_arr(e, "feature_order")) != aud_rpt_count(aud_rpt_arr(e, "features")))
            rc = vfail(v, "expected one name per entry of features (%zu)",
                       aud_rpt_count(aud_rpt_arr(e, "features")));
        vpop(v, n);
        if (rc != AUD_OK)
            return rc;
    }
    v->n_features = aud_rpt_row_width(e);
    if ((rc = varray(v, e, "explained_rows", 0, v_row)) != AUD_OK)
        return rc;
    return v_rows_file(v, e);
}

int aud_rpt_validate_row(const cJSON *row, size_t n_features, const char *name, long line,
                         aud_error *err)
{
    vctx v;
    int rc;
    memset(&v, 0, sizeof v);
    v.err = err;
    v.name = name;
    v.n_features = n_features;
    if (!cJSON_IsObject(row))
        rc = vfail(&v, "expected an explained row (a JSON object)");
    else
        rc = v_row(&v, row);
    if (rc != AUD_OK)
        err->line = line;
    return rc;
}

static int v_group(vctx *v, const cJSON *g)
{
    static const char *const extra[] = {"count", "share", "disparate_impact", "impact_ratio",
                                        "auc", "brier", "ece", "fisher_p_value", NULL};
    int rc;
    if ((rc = vkey(v, g, "group", T_STR, 1)) || (rc = vkey(v, g, "small", T_BOOL, 0)) ||
        (rc = vkey(v, g, "excluded_from_verdict", T_BOOL, 0)))
        return rc;
    for (size_t i = 0; extra[i] != NULL; i++)
        if ((rc = vkey(v, g, extra[i], T_NUM | T_NULL, 0)) != AUD_OK)
            return rc;
    for (size_t i = 0; aud_rpt_group_rates[i] != NULL; i++) {
        char ci[96];
        snprintf(ci, sizeof ci, "%s_ci", aud_rpt_group_rates[i]);
        if ((rc = vkey(v, g, aud_rpt_group_rates[i], T_NUM | T_NULL, 0)) || (rc = vci(v, g, ci)))
            return rc;
    }
    return AUD_OK;
}

/* The summary metrics (each optional, a number or null, with an optional interval) and tests of
 * an attribute's summary or of its all_groups object. */
static int v_summary_figures(vctx *v, const cJSON *s)
{
    int rc = AUD_OK;
    for (size_t i = 0; aud_rpt_summary_metrics[i] != NULL && rc == AUD_OK; i++) {
        char ci[96];
        snprintf(ci, sizeof ci, "%s_ci", aud_rpt_summary_metrics[i]);
        rc = vkey(v, s, aud_rpt_summary_metrics[i], T_NUM | T_NULL, 0);
        if (rc == AUD_OK)
            rc = vci(v, s, ci);
    }
    if (rc == AUD_OK && (rc = vtest(v, s, "chi_square")) == AUD_OK)
        rc = vtest(v, s, "fisher");
    return rc;
}

/* "group_order" (optional): how the groups are listed (docs/results-schema.md). */
static int v_group_order(vctx *v, const cJSON *a)
{
    static const char *const known[] = {"natural", "given", "bins", "values", "components"};
    const char *o = aud_rpt_str(a, "group_order", NULL);
    int rc = vkey(v, a, "group_order", T_STR, 0);
    if (rc != AUD_OK || o == NULL)
        return rc;
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (strcmp(o, known[k]) == 0)
            return AUD_OK;
    size_t n = vpush_key(v, "group_order");
    rc = vfail(v, "expected natural, given, bins, values or components, found \"%.40s\"", o);
    vpop(v, n);
    return rc;
}

static int v_attribute(vctx *v, const cJSON *a)
{
    int rc;
    const cJSON *s = aud_rpt_obj(a, "summary");
    if ((rc = vkey(v, a, "name", T_STR, 1)) || (rc = vkey(v, a, "reference", T_STR | T_NULL, 0)) ||
        (rc = v_group_order(v, a)) ||
        (rc = varray(v, a, "groups", 1, v_group)) || (rc = vkey(v, a, "summary", T_OBJ, 0)))
        return rc;
    if (s == NULL)
        return AUD_OK;
    size_t n = vpush_key(v, "summary");
    rc = v_summary_figures(v, s);
    if (rc == AUD_OK)
        rc = vkey(v, s, "excluded_groups", T_ARR, 0);
    if (rc == AUD_OK)   /* optional: documents written before all_groups existed lack it */
        rc = vkey(v, s, "all_groups", T_OBJ, 0);
    if (rc == AUD_OK && aud_rpt_obj(s, "all_groups") != NULL) {
        size_t m = vpush_key(v, "all_groups");
        rc = v_summary_figures(v, aud_rpt_obj(s, "all_groups"));
        vpop(v, m);
    }
    vpop(v, n);
    return rc;
}

static int v_ll144_group(vctx *v, const cJSON *g)
{
    int rc;
    if ((rc = vkey(v, g, "group", T_STR, 1)) || (rc = vkey(v, g, "count", T_NUM, 0)) ||
        (rc = vkey(v, g, "rate", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "impact_ratio", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "below_four_fifths", T_BOOL | T_NULL, 0)) ||
        (rc = vkey(v, g, "excluded", T_BOOL, 0)))
        return rc;
    return AUD_OK;
}

static int v_ll144(vctx *v, const cJSON *a)
{
    int rc = vkey(v, a, "attribute", T_STR, 1);
    if (rc == AUD_OK)
        rc = vkey(v, a, "unknown_count", T_NUM | T_NULL, 0);
    return rc != AUD_OK ? rc : varray(v, a, "groups", 1, v_ll144_group);
}

static int v_fourfifths(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "attribute", T_STR, 1)) || (rc = vkey(v, f, "group", T_STR, 1)) ||
        (rc = vkey(v, f, "impact_ratio", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, f, "fisher_p_value", T_NUM | T_NULL, 0)))
        return rc;
    return AUD_OK;
}

static int v_ll144_category(vctx *v, const cJSON *g)
{
    int rc;
    if ((rc = vkey(v, g, "category", T_STR, 1)) || (rc = vkey(v, g, "count", T_NUM, 0)) ||
        (rc = vkey(v, g, "share", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "selection_rate", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "scoring_rate", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "impact_ratio", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "below_four_fifths", T_BOOL | T_NULL, 0)) ||
        (rc = vkey(v, g, "excluded", T_BOOL, 0)))
        return rc;
    return AUD_OK;
}

static int v_ll144_table(vctx *v, const cJSON *t)
{
    int rc = vkey(v, t, "name", T_STR, 1);
    if (rc == AUD_OK)
        rc = vkey(v, t, "unknown", T_NUM | T_NULL, 0);
    return rc != AUD_OK ? rc : varray(v, t, "categories", 1, v_ll144_category);
}

static int v_fairness(vctx *v, const cJSON *f)
{
    int rc;
    const cJSON *c = aud_rpt_obj(f, "compliance");
    if ((rc = vkey(v, f, "favorable", T_NUM | T_STR, 0)) ||
        (rc = vkey(v, f, "threshold", T_NUM | T_NULL, 0)) ||
        (rc = varray(v, f, "attributes", 0, v_attribute)) ||
        (rc = varray(v, f, "intersections", 0, v_attribute)) ||
        (rc = vkey(v, f, "compliance", T_OBJ, 0)))
        return rc;
    if (c != NULL) {
        const cJSON *o = aud_rpt_obj(c, "nyc_ll144");
        size_t n = vpush_key(v, "compliance");
        rc = varray(v, c, "nyc-ll144", 0, v_ll144);
        if (rc == AUD_OK)
            rc = varray(v, c, "four-fifths", 0, v_fourfifths);
        if (rc == AUD_OK)
            rc = vkey(v, c, "nyc_ll144", T_OBJ, 0);
        if (rc == AUD_OK && o != NULL) {
            size_t m = vpush_key(v, "nyc_ll144");
            rc = vkey(v, o, "rate", T_STR, 0);
            if (rc == AUD_OK)
                rc = varray(v, o, "tables", 1, v_ll144_table);
            vpop(v, m);
        }
        vpop(v, n);
    }
    return rc;
}

static int v_category(vctx *v, const cJSON *c)
{
    int rc;
    if ((rc = vkey(v, c, "value", T_STR | T_NUM, 1)) || (rc = vkey(v, c, "reference", T_NUM, 1)) ||
        (rc = vkey(v, c, "current", T_NUM, 1)))
        return rc;
    return AUD_OK;
}

/* Bins under key (if present): {"edges": [k + 1 numbers], "reference": [k], "current": [k]},
 * or per-value bins {"values": [k numbers], "reference": [k], "current": [k]}. */
static int v_bins(vctx *v, const cJSON *c, const char *key)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, key);
    size_t ne = 0, nr = 0, nc = 0, n;
    int per_value, rc = vkey(v, c, key, T_OBJ, 0);
    if (rc != AUD_OK || h == NULL)
        return rc;
    n = vpush_key(v, key);
    per_value = cJSON_GetObjectItemCaseSensitive(h, "edges") == NULL &&
                cJSON_GetObjectItemCaseSensitive(h, "values") != NULL;
    if ((rc = vnum_array(v, h, per_value ? "values" : "edges", 0, &ne)) == AUD_OK &&
        (rc = vnum_array(v, h, "reference", 0, &nr)) == AUD_OK &&
        (rc = vnum_array(v, h, "current", 0, &nc)) == AUD_OK) {
        if (per_value && (nr != ne || nc != ne))
            rc = vfail(v, "expected one reference and one current count per value, found %zu "
                          "values, %zu and %zu counts", ne, nr, nc);
        else if (!per_value && (ne < 2 || nr != ne - 1 || nc != ne - 1))
            rc = vfail(v, "expected k + 1 edges and k reference and current counts, found %zu, "
                          "%zu, %zu", ne, nr, nc);
    }
    vpop(v, n);
    return rc;
}

/* "categories": [{"value","reference","current"}] or {"levels","reference","current"}. */
static int v_categories(vctx *v, const cJSON *c)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(c, "categories");
    const cJSON *it;
    size_t nl = 0, nr = 0, nc = 0, n;
    int rc = AUD_OK;
    if (x == NULL || cJSON_IsArray(x))
        return varray(v, c, "categories", 0, v_category);
    n = vpush_key(v, "categories");
    if (!cJSON_IsObject(x)) {
        rc = vfail(v, "expected an array of {value, reference, current} or an object "
                      "{levels, reference, current}");
    } else if ((rc = vkey(v, x, "levels", T_ARR, 1)) == AUD_OK &&
               (rc = vnum_array(v, x, "reference", 0, &nr)) == AUD_OK &&
               (rc = vnum_array(v, x, "current", 0, &nc)) == AUD_OK) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(x, "levels")) {
            if (!type_ok(it, T_STR | T_NUM | T_NULL)) {
                size_t m = vpush_key(v, "levels");
                rc = vfail(v, "expected category labels (strings or numbers)");
                vpop(v, m);
                break;
            }
            nl++;
        }
        if (rc == AUD_OK && (nr != nl || nc != nl))
            rc = vfail(v, "expected one reference and one current count per level, found %zu "
                          "levels, %zu and %zu counts", nl, nr, nc);
    }
    vpop(v, n);
    return rc;
}

static int v_column(vctx *v, const cJSON *c)
{
    int rc;
    if ((rc = vkey(v, c, "name", T_STR, 1)) || (rc = vkey(v, c, "type", T_STR, 0)) ||
        (rc = vkey(v, c, "method", T_STR, 0)) || (rc = vkey(v, c, "statistic", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, c, "threshold", T_NUM | T_NULL, 0)) || (rc = vkey(v, c, "error", T_STR, 0)) ||
        /* a column that could not be tested (its "error" says why) has no verdict */
        (rc = vkey(v, c, "drifted",
                   cJSON_GetObjectItemCaseSensitive(c, "error") ? T_BOOL | T_NULL : T_BOOL, 0)) ||
        (rc = vtest(v, c, "ks")) || (rc = vtest(v, c, "chi_square")) ||
        (rc = vtest(v, c, "anderson_darling")) || (rc = vtest(v, c, "cramer_von_mises")) ||
        (rc = vtest(v, c, "z_test")) || (rc = vkey(v, c, "psi", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, c, "wasserstein", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, c, "wasserstein_normed", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, c, "jensen_shannon", T_NUM | T_NULL, 0)) ||
        (rc = v_bins(v, c, "histogram")) || (rc = v_bins(v, c, "js_bins")) ||
        (rc = v_bins(v, c, "psi_bins")) || (rc = v_categories(v, c)))
        return rc;
    return AUD_OK;
}

static int v_drift(vctx *v, const cJSON *d)
{
    int rc;
    const cJSON *p = aud_rpt_obj(d, "prediction_drift");
    if ((rc = vkey(v, d, "drift_share", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, d, "dataset_drift", T_BOOL | T_NULL, 0)) || (rc = varray(v, d, "columns", 1, v_column)) ||
        (rc = vkey(v, d, "prediction_drift", T_OBJ | T_NULL, 0)))
        return rc;
    if (p != NULL) {
        size_t n = vpush_key(v, "prediction_drift");
        rc = v_column(v, p);
        vpop(v, n);
    }
    return rc;
}

/* Parallel number arrays of one object: each present when the object is, all of one length
 * (the renderers index them together), at least `min` long. */
static int vparallel(vctx *v, const cJSON *o, const char *const *keys, size_t n_keys, size_t min)
{
    size_t len = 0, k0 = 0;
    int rc = AUD_OK;
    for (size_t k = 0; k < n_keys && rc == AUD_OK; k++) {
        size_t c = 0;
        rc = vnum_array(v, o, keys[k], 1, &c);
        if (rc == AUD_OK && k > 0 && c != len) {
            size_t m = vpush_key(v, keys[k]);
            rc = vfail(v, "has %zu entries but \"%s\" has %zu", c, keys[k0], len);
            vpop(v, m);
        }
        if (rc == AUD_OK && c < min) {
            size_t m = vpush_key(v, keys[k]);
            rc = vfail(v, "expected at least %zu entries", min);
            vpop(v, m);
        }
        len = c;
    }
    return rc;
}

static int v_roc(vctx *v, const cJSON *r)
{
    static const char *const keys[] = {"fpr", "tpr", "thresholds"};
    int rc = vparallel(v, r, keys, 3, 2);
    return rc != AUD_OK ? rc : vkey(v, r, "points_total", T_NUM, 0);
}

static int v_calibration(vctx *v, const cJSON *c)
{
    static const char *const keys[] = {"count", "mean_predicted", "fraction_positive"};
    size_t ne = 0;
    int rc = vkey(v, c, "strategy", T_STR, 0);
    if (rc == AUD_OK)
        rc = vnum_array(v, c, "edges", 0, &ne);
    if (rc == AUD_OK)
        rc = vparallel(v, c, keys, 3, 1);
    if (rc == AUD_OK && ne != (size_t)cJSON_GetArraySize(aud_rpt_arr(c, "count")) + 1) {
        size_t m = vpush_key(v, "edges");
        rc = vfail(v, "expected one more entry than \"count\"");
        vpop(v, m);
    }
    return rc;
}

static int v_perf_row(vctx *v, const cJSON *r)
{
    static const char *const cm[] = {"tn", "fp", "fn", "tp"};
    int rc;
    if ((rc = vkey(v, r, "attribute", T_STR, 0)) || (rc = vkey(v, r, "group", T_STR, 0)) ||
        (rc = vkey(v, r, "rows", T_NUM | T_NULL, 0)) || (rc = vkey(v, r, "auc", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "positives", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "auc_se", T_NUM | T_NULL, 0)) || (rc = vci(v, r, "auc_ci")) ||
        (rc = vkey(v, r, "accuracy", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "log_loss", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "brier_score", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, r, "confusion", T_OBJ, 0)) || (rc = vkey(v, r, "roc", T_OBJ, 0)) ||
        (rc = vkey(v, r, "calibration", T_OBJ, 0)))
        return rc;
    const cJSON *c = aud_rpt_obj(r, "confusion");
    size_t n = vpush_key(v, "confusion");
    for (int k = 0; c != NULL && k < 4 && rc == AUD_OK; k++)
        rc = vkey(v, c, cm[k], T_NUM, 1);
    vpop(v, n);
    if (rc == AUD_OK && aud_rpt_obj(r, "roc") != NULL) {
        n = vpush_key(v, "roc");
        rc = v_roc(v, aud_rpt_obj(r, "roc"));
        vpop(v, n);
    }
    if (rc == AUD_OK && aud_rpt_obj(r, "calibration") != NULL) {
        n = vpush_key(v, "calibration");
        rc = v_calibration(v, aud_rpt_obj(r, "calibration"));
        vpop(v, n);
    }
    return rc;
}

static int v_card_feature(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "name", T_STR, 1)) || (rc = vkey(v, f, "splits", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, f, "cover", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, f, "coefficient", T_NUM | T_NULL, 0)))
        return rc;
    return AUD_OK;
}

static int v_card_model(vctx *v, const cJSON *m)
{
    static const char *const strs[] = {"format", "objective", "kind", "importance"};
    static const char *const nums[] = {"outputs", "trees", "max_depth", "leaves"};
    int rc = AUD_OK;
    for (int k = 0; k < 4 && rc == AUD_OK; k++)
        rc = vkey(v, m, strs[k], T_STR, 0);
    for (int k = 0; k < 4 && rc == AUD_OK; k++)
        rc = vkey(v, m, nums[k], T_NUM, 0);
    return rc != AUD_OK ? rc : varray(v, m, "features", 0, v_card_feature);
}

static int v_model_card(vctx *v, const cJSON *c)
{
    static const char *const keys[] = {"owner", "intended_use", "label_meaning", "training_data",
                                       "training_period", "limitations", "contact"};
    int rc = AUD_OK;
    for (int k = 0; k < 7 && rc == AUD_OK; k++)
        rc = vkey(v, c, keys[k], T_STR, 0);
    if (rc == AUD_OK)
        rc = vkey(v, c, "model", T_OBJ, 0);
    if (rc == AUD_OK && aud_rpt_obj(c, "model") != NULL) {
        size_t n = vpush_key(v, "model");
        rc = v_card_model(v, aud_rpt_obj(c, "model"));
        vpop(v, n);
    }
    return rc;
}

static int v_performance(vctx *v, const cJSON *p)
{
    int rc = vkey(v, p, "overall", T_OBJ, 0);
    const cJSON *o = aud_rpt_obj(p, "overall");
    if (rc == AUD_OK && ((rc = vkey(v, p, "score", T_STR, 0)) ||
                         (rc = vkey(v, p, "auc_interval", T_STR, 0)) ||
                         (rc = vkey(v, p, "confidence_level", T_NUM, 0))))
        return rc;
    if (rc == AUD_OK && o != NULL) {
        size_t n = vpush_key(v, "overall");
        rc = v_perf_row(v, o);
        vpop(v, n);
    }
    return rc != AUD_OK ? rc : varray(v, p, "by_group", 0, v_perf_row);
}

static int v_global_feature(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "feature", T_STR, 1)) || (rc = vkey(v, f, "mean", T_NUM | T_NULL, 1)) ||
        (rc = vkey(v, f, "std", T_NUM | T_NULL, 0)) || (rc = vkey(v, f, "ci_low", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, f, "ci_high", T_NUM | T_NULL, 0)) || (rc = vkey(v, f, "importances", T_ARR, 0)))
        return rc;
    return AUD_OK;
}

static int v_global_pdp(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "feature", T_STR, 1)) || (rc = vkey(v, f, "class", T_NUM, 0)) ||
        (rc = vkey(v, f, "grid", T_ARR, 1)) ||
        (rc = vkey(v, f, "average", T_ARR, 1)) || (rc = vkey(v, f, "ice_rows", T_ARR, 0)) ||
        (rc = vkey(v, f, "ice", T_ARR, 0)))
        return rc;
    if (aud_rpt_count(aud_rpt_arr(f, "grid")) != aud_rpt_count(aud_rpt_arr(f, "average"))) {
        size_t n = vpush_key(v, "average");
        rc = vfail(v, "has %zu values for a grid of %zu", aud_rpt_count(aud_rpt_arr(f, "average")),
                   aud_rpt_count(aud_rpt_arr(f, "grid")));
        vpop(v, n);
    }
    return rc;
}

static int v_global(vctx *v, const cJSON *g)
{
    int rc;
    if ((rc = vkey(v, g, "score", T_STR, 1)) || (rc = vkey(v, g, "baseline", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, g, "rows", T_NUM, 0)) || (rc = vkey(v, g, "repeats", T_NUM, 0)) ||
        (rc = vkey(v, g, "classes", T_NUM, 0)) ||
        (rc = varray(v, g, "permutation_importance", 1, v_global_feature)) ||
        (rc = varray(v, g, "partial_dependence", 0, v_global_pdp)))
        return rc;
    return AUD_OK;
}

static int v_check(vctx *v, const cJSON *c)
{
    int rc;
    if ((rc = vkey(v, c, "metric", T_STR, 1)) || (rc = vkey(v, c, "attribute", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, c, "group", T_STR | T_NULL, 0)) || (rc = vkey(v, c, "column", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, c, "value", T_NUM | T_NULL, 0)) || (rc = vkey(v, c, "min", T_NUM, 0)) ||
        (rc = vkey(v, c, "max", T_NUM, 0)) || (rc = vkey(v, c, "passed", T_BOOL, 1)))
        return rc;
    return AUD_OK;
}

static int vsection(vctx *v, const cJSON *doc, const char *key, vfun f);

static int v_evidence(vctx *v, const cJSON *e)
{
    int rc;
    if ((rc = vkey(v, e, "attribute", T_STR, 0)) || (rc = vkey(v, e, "group", T_STR, 0)) ||
        (rc = vkey(v, e, "value", T_NUM | T_NULL, 0)) || (rc = vci(v, e, "ci")))
        return rc;
    return AUD_OK;
}

static int v_driver_feature(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "name", T_STR, 1)) || (rc = vkey(v, f, "contribution", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, f, "share", T_NUM | T_NULL, 0)) || (rc = vkey(v, f, "likely_proxy", T_BOOL, 0)))
        return rc;
    return AUD_OK;
}

static int v_drivers(vctx *v, const cJSON *d)
{
    int rc;
    if ((rc = vkey(v, d, "gap", T_NUM | T_NULL, 0)) || (rc = vkey(v, d, "scale", T_STR, 0)) ||
        (rc = varray(v, d, "features", 0, v_driver_feature)))
        return rc;
    return AUD_OK;
}

/* SPEC section 7: what the first page and the Overview sheet read. */
static int v_finding(vctx *v, const cJSON *f)
{
    int rc;
    if ((rc = vkey(v, f, "id", T_STR, 1)) || (rc = vkey(v, f, "severity", T_STR, 1)) ||
        (rc = vkey(v, f, "kind", T_STR, 1)) || (rc = vkey(v, f, "metric", T_STR, 1)) ||
        (rc = vkey(v, f, "sentence", T_STR, 1)) || (rc = vkey(v, f, "attribute", T_STR, 0)) ||
        (rc = vkey(v, f, "group", T_STR, 0)) || (rc = vkey(v, f, "column", T_STR, 0)) ||
        (rc = vkey(v, f, "reference", T_STR, 0)) || (rc = vkey(v, f, "value", T_NUM | T_NULL, 0)) ||
        (rc = vci(v, f, "ci")) || (rc = vkey(v, f, "bound", T_OBJ, 0)) ||
        (rc = varray(v, f, "evidence", 0, v_evidence)) || (rc = vsection(v, f, "drivers", v_drivers)))
        return rc;
    const char *sev = aud_rpt_str(f, "severity", "");
    if (strcmp(sev, "fail") != 0 && strcmp(sev, "warn") != 0) {
        size_t n = vpush_key(v, "severity");
        rc = vfail(v, "expected \"fail\" or \"warn\", got \"%s\"", sev);
        vpop(v, n);
    }
    return rc;
}

static int vsection(vctx *v, const cJSON *doc, const char *key, vfun f)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, key);
    int rc = vkey(v, doc, key, T_OBJ, 0);
    if (rc != AUD_OK || s == NULL)
        return rc;
    size_t n = vpush_key(v, key);
    rc = f(v, s);
    vpop(v, n);
    return rc;
}

/* Every member of the object at key (when present) must be a finite number (or null). */
static int vnum_members(vctx *v, const cJSON *o, const char *key, int nullable)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key), *it;
    int rc = vkey(v, o, key, T_OBJ, 0);
    if (rc != AUD_OK || x == NULL)
        return rc;
    size_t n = vpush_key(v, key);
    cJSON_ArrayForEach(it, x) {
        if (!is_num(it) && !(nullable && cJSON_IsNull(it))) {
            size_t m = vpush_key(v, it->string);
            rc = vfail(v, "expected %s", nullable ? "a finite number or null" : "a finite number");
            vpop(v, m);
            break;
        }
    }
    vpop(v, n);
    return rc;
}

static int v_profile_column(vctx *v, const cJSON *c)
{
    static const char *const stats[] = {"min", "max", "mean", "std", NULL};
    int rc;
    if ((rc = vkey(v, c, "name", T_STR, 1)) || (rc = vkey(v, c, "type", T_STR, 1)) ||
        (rc = vkey(v, c, "missing", T_NUM, 0)) || (rc = vkey(v, c, "count", T_NUM, 0)) ||
        (rc = vkey(v, c, "n_categories", T_NUM, 0)) || (rc = vkey(v, c, "other", T_NUM, 0)) ||
        (rc = vnum_members(v, c, "quantiles", 1)) || (rc = vnum_members(v, c, "categories", 0)))
        return rc;
    for (size_t i = 0; stats[i] != NULL; i++)
        if ((rc = vkey(v, c, stats[i], T_NUM | T_NULL, 0)) != AUD_OK)
            return rc;
    const char *type = aud_rpt_str(c, "type", "");
    if (strcmp(type, "numeric") != 0 && strcmp(type, "categorical") != 0) {
        size_t n = vpush_key(v, "type");
        rc = vfail(v, "expected \"numeric\" or \"categorical\"");
        vpop(v, n);
    }
    return rc;
}

static int v_profile(vctx *v, const cJSON *p)
{
    int rc = vkey(v, p, "rows", T_NUM, 1);
    return rc != AUD_OK ? rc : varray(v, p, "columns", 1, v_profile_column);
}

static int v_report(vctx *v, const cJSON *r)
{
    static const char *const keys[] = {"title", "organization", "prepared_by", "approved_by",
                                       "data_source", NULL};
    for (size_t i = 0; keys[i] != NULL; i++) {
        int rc = vkey(v, r, keys[i], T_STR | T_NULL, 0);
        if (rc != AUD_OK)
            return rc;
    }
    return vkey(v, r, "max_groups", T_NUM, 0);
}

/* "trends" (docs/history.md): what the Trends section and sheet read */
static int v_trend_run(vctx *v, const cJSON *r)
{
    int rc;
    if ((rc = vkey(v, r, "id", T_NUM | T_NULL, 1)) || (rc = vkey(v, r, "created", T_STR, 1)) ||
        (rc = vkey(v, r, "verdict", T_STR, 0)))
        return rc;
    return AUD_OK;
}

static int v_trend_value(vctx *v, const cJSON *x)
{
    int rc;
    if ((rc = vkey(v, x, "run", T_NUM | T_NULL, 1)) || (rc = vkey(v, x, "value", T_NUM | T_NULL, 1)) ||
        (rc = vkey(v, x, "passed", T_BOOL, 1)) || (rc = vkey(v, x, "created", T_STR, 0)))
        return rc;
    return AUD_OK;
}

static int v_trend_stats(vctx *v, const cJSON *t)
{
    int rc;
    if ((rc = vkey(v, t, "statement", T_STR, 0)) || (rc = vkey(v, t, "direction", T_STR, 0)) ||
        (rc = vkey(v, t, "worsening", T_BOOL | T_NULL, 0)) ||
        (rc = vkey(v, t, "worse_each_of_last_k", T_BOOL, 0)) || (rc = vkey(v, t, "k", T_NUM, 0)) ||
        (rc = vkey(v, t, "p_value", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, t, "sen_slope", T_NUM | T_NULL, 0)) ||
        (rc = vkey(v, t, "sen_slope_interval", T_ARR, 0)))
        return rc;
    return AUD_OK;
}

static int v_trend_bound(vctx *v, const cJSON *b)
{
    int rc = vkey(v, b, "min", T_NUM, 0);
    return rc != AUD_OK ? rc : vkey(v, b, "max", T_NUM, 0);
}

static int v_trend_check(vctx *v, const cJSON *c)
{
    int rc;
    if ((rc = vkey(v, c, "metric", T_STR, 1)) || (rc = vkey(v, c, "attribute", T_STR | T_NULL, 0)) ||
        (rc = vkey(v, c, "group", T_STR | T_NULL, 0)) || (rc = vkey(v, c, "column", T_STR | T_NULL, 0)) ||
        (rc = vsection(v, c, "bound", v_trend_bound)) ||
        (rc = varray(v, c, "values", 1, v_trend_value)) ||
        (rc = vsection(v, c, "trend", v_trend_stats)))
        return rc;
    return AUD_OK;
}

static int v_trends(vctx *v, const cJSON *t)
{
    int rc = varray(v, t, "runs", 1, v_trend_run);
    return rc != AUD_OK ? rc : varray(v, t, "checks", 1, v_trend_check);
}

static int v_signature(vctx *v, const cJSON *s)
{
    int rc = vkey(v, s, "key_fingerprint", T_STR, 1);
    return rc != AUD_OK ? rc : vkey(v, s, "algorithm", T_STR, 0);
}

static int v_tool(vctx *v, const cJSON *t)
{
    int rc = vkey(v, t, "name", T_STR, 1);
    return rc != AUD_OK ? rc : vkey(v, t, "version", T_STR, 1);
}

int aud_report_validate(const cJSON *doc, const char *name, aud_error *err)
{
    vctx v;
    const cJSON *sv;
    int rc;
    memset(&v, 0, sizeof v);
    v.err = err;
    v.name = name;
    if (!cJSON_IsObject(doc))
        return vfail(&v, "a results document must be a JSON object");
    sv = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    snprintf(v.path, sizeof v.path, "schema_version");
    if (sv == NULL)
        return vfail(&v, "missing: not a results.json of schema %s (older or other document)",
                     AUD_SCHEMA_VERSION);
    /* schema 1 documents (before findings) still render: the first page then says so */
    if (!cJSON_IsString(sv) || (strcmp(sv->valuestring, AUD_SCHEMA_VERSION) != 0 &&
                                strcmp(sv->valuestring, "1") != 0))
        return vfail(&v, "unsupported schema version (this audit %s reads schemas \"1\" and "
                     "\"%s\")", AUD_VERSION, AUD_SCHEMA_VERSION);
    v.path[0] = '\0';
    if ((rc = vsection(&v, doc, "tool", v_tool)) || (rc = vsection(&v, doc, "provenance", v_provenance)) ||
        (rc = vsection(&v, doc, "report", v_report)) || (rc = varray(&v, doc, "skipped", 0, v_skipped)) ||
        (rc = vsection(&v, doc, "profile", v_profile)) ||
        (rc = vsection(&v, doc, "explanations", v_explanations)) ||
        (rc = vsection(&v, doc, "fairness", v_fairness)) ||
        (rc = vsection(&v, doc, "drift", v_drift)) ||
        (rc = vsection(&v, doc, "performance", v_performance)) ||
        (rc = vsection(&v, doc, "model_card", v_model_card)) ||
        (rc = vsection(&v, doc, "global", v_global)) ||
        (rc = varray(&v, doc, "checks", 0, v_check)) ||
        (rc = vsection(&v, doc, "trends", v_trends)) ||
        (rc = vsection(&v, doc, "signature", v_signature)) ||
        (rc = varray(&v, doc, "findings", 0, v_finding)) ||
        (rc = vkey(&v, doc, "verdict", T_STR, 0)))
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(doc, "tool") == NULL) {
        snprintf(v.path, sizeof v.path, "tool");
        return vfail(&v, "missing (expected an object)");
    }
    const char *verdict = aud_rpt_str(doc, "verdict", NULL);
    if (verdict != NULL && strcmp(verdict, "pass") != 0 && strcmp(verdict, "fail") != 0) {
        snprintf(v.path, sizeof v.path, "verdict");
        return vfail(&v, "expected \"pass\" or \"fail\", got \"%s\"", verdict);
    }
    if (verdict != NULL && strcmp(verdict, "pass") == 0) {   /* a filed report must agree */
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "checks")) {
            if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "passed"))) {
                snprintf(v.path, sizeof v.path, "verdict");
                return vfail(&v, "is \"pass\" but a check has \"passed\": false");
            }
        }
    }
    return AUD_OK;
}

/* 1-based line and column of byte offset off in text. */
static void text_position(const char *text, size_t off, long *line, long *col)
{
    long l = 1, c = 1;
    for (size_t i = 0; i < off && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

int aud_report_parse(const char *text, size_t len, const char *path, cJSON **out, aud_error *err)
{
    cJSON *doc = NULL;
    int rc;
    if (strlen(text) == len && aud_rpt_utf8_valid(text, len) != len) {
        long line, col;
        text_position(text, aud_rpt_utf8_valid(text, len), &line, &col);
        return aud_error_set(err, AUD_E_PARSE, path, line, col,
                             "invalid UTF-8 (JSON text must be UTF-8)");
    }
    rc = aud_json_parse_located(&doc, text, len, path, err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_report_validate(doc, path, err);
    if (rc != AUD_OK) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return AUD_OK;
}

int aud_report_load(const char *path, cJSON **out, aud_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = aud_file_read(path, &text, &len, RPT_MAX_RESULTS_BYTES, err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_report_parse(text, len, path, out, err);
    aud_free(text);
    return rc;
}
