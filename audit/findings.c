/* findings.c - failed and borderline check rows grouped into root findings (SPEC section 7).
 *
 * A row is flagged when its check failed (rank 2) or when it passed but the bound lies inside its
 * interval (rank 1, a warning). A flagged row on an intersection of attributes is evidence under
 * a coarser row - same metric and bound, a proper subset of the attributes with the same levels -
 * that is flagged at least as strongly; the coarsest such row is its root. Every other flagged
 * row is a finding of its own: an intersection that fails where its parents pass is one. */
#include "audit/findings_int.h"
#include "audit/checks_int.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double aud_find_num(const cJSON *o, const char *key)
{
    const cJSON *v = key != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : o;
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsRaw(v))   /* exact numbers are raw nodes in a document being built */
        return aud_strtod_c(v->valuestring, NULL);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1.0 : 0.0;
    return NAN;
}

const char *aud_find_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *named(const cJSON *arr, const char *key, const char *name)
{
    const cJSON *x;
    if (name == NULL)
        return NULL;
    cJSON_ArrayForEach(x, arr) {
        const char *s = aud_find_str(x, key);
        if (s != NULL && strcmp(s, name) == 0)
            return x;
    }
    return NULL;
}

static const cJSON *reference_group(const cJSON *attr)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(attr, "groups")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "reference")))
            return g;
    }
    return NULL;
}

/* ---- intersections: which single attributes and levels a name is made of ------------------ */

typedef struct singles {
    const cJSON *attr[FIND_MAX_ATTRS];
    const char *name[FIND_MAX_ATTRS];
    size_t n;
} singles;

/* Split s into names of single attributes joined by '&' (names may hold '&' themselves: every
 * split is tried). order[] receives the attribute indices; returns their count, 0 when none. */
static size_t split_attr(const singles *sg, const char *s, int *order, size_t k)
{
    if (k >= FIND_MAX_ATTRS)
        return 0;
    for (size_t i = 0; i < sg->n; i++) {
        size_t len = strlen(sg->name[i]);
        if (strncmp(s, sg->name[i], len) != 0)
            continue;
        int used = 0;
        for (size_t j = 0; j < k; j++)
            used |= order[j] == (int)i;
        if (used)
            continue;
        order[k] = (int)i;
        if (s[len] == '\0')
            return k + 1;
        if (s[len] == '&') {
            size_t got = split_attr(sg, s + len + 1, order, k + 1);
            if (got > 0)
                return got;
        }
    }
    return 0;
}

/* Split group g into one level of each attribute order[j..k), the levels being the group names
 * of the single attributes. */
static int split_group(const singles *sg, const char *g, const int *order, size_t j, size_t k,
                       const char **level)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(sg->attr[order[j]], "groups")) {
        const char *lv = aud_find_str(x, "group");
        size_t len = lv != NULL ? strlen(lv) : 0;
        if (lv == NULL || strncmp(g, lv, len) != 0)
            continue;
        if (j + 1 == k ? g[len] != '\0' : g[len] != '&')
            continue;
        level[order[j]] = lv;
        if (j + 1 == k || split_group(sg, g + len + 1, order, j + 1, k, level))
            return 1;
    }
    return 0;
}

static void place(const singles *sg, find_row *r)
{
    int order[FIND_MAX_ATTRS];
    if (r->attribute == NULL)
        return;
    size_t k = split_attr(sg, r->attribute, order, 0);
    if (k == 0)
        return;
    unsigned long long mask = 0;
    for (size_t j = 0; j < k; j++)
        mask |= 1ULL << order[j];
    if (r->kind == FIND_FAIR_GROUP && (r->group == NULL ||
                                       !split_group(sg, r->group, order, 0, k, r->level)))
        return;
    r->mask = mask;
}

/* ---- the rate and groups behind a summary figure ------------------------------------------ */

typedef struct spread {
    const cJSON *hi, *lo;
    double vhi, vlo;
} spread;

static int rate_spread(const cJSON *attr, const char *rate, spread *s)
{
    const cJSON *g;
    s->hi = s->lo = NULL;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(attr, "groups")) {
        double v = aud_find_num(g, rate);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "excluded_from_verdict")) ||
            !isfinite(v))
            continue;
        if (s->hi == NULL || v > s->vhi) {
            s->hi = g;
            s->vhi = v;
        }
        if (s->lo == NULL || v < s->vlo) {
            s->lo = g;
            s->vlo = v;
        }
    }
    return s->hi != NULL && s->hi != s->lo;
}

/* The figure is recomputed from the groups only to name them; it is used only when it agrees
 * with the value the fairness section reported (same groups, same definition). */
static void summary_driver(find_row *r)
{
    spread a, b;
    int ratio = strstr(r->metric, "_ratio") != NULL;
    const double tol = 1e-9;
    if (strncmp(r->metric, "demographic_parity_", 19) == 0) {
        if (!rate_spread(r->attr, "selection_rate", &a))
            return;
        double v = ratio ? a.vlo / a.vhi : a.vhi - a.vlo;
        if (fabs(v - r->value) > tol)
            return;
        r->drive_rate = "selection_rate";
        r->drive_hi = a.hi;
        r->drive_lo = a.lo;
    } else if (strncmp(r->metric, "equalized_odds_", 15) == 0) {
        if (!rate_spread(r->attr, "tpr", &a) || !rate_spread(r->attr, "fpr", &b))
            return;
        double va = ratio ? a.vlo / a.vhi : a.vhi - a.vlo;
        double vb = ratio ? b.vlo / b.vhi : b.vhi - b.vlo;
        int use_b = ratio ? vb < va : vb > va;
        if (fabs((use_b ? vb : va) - r->value) > tol)
            return;
        r->drive_rate = use_b ? "fpr" : "tpr";
        r->drive_hi = use_b ? b.hi : a.hi;
        r->drive_lo = use_b ? b.lo : a.lo;
    }
}

/* ---- reading the rows --------------------------------------------------------------------- */

static void interval_of(const cJSON *o, const char *key, double *lo, double *hi)
{
    char k[128];
    snprintf(k, sizeof k, "%s_ci", key);
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(o, k);
    *lo = *hi = NAN;
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2) {
        *lo = aud_find_num(cJSON_GetArrayItem(ci, 0), NULL);
        *hi = aud_find_num(cJSON_GetArrayItem(ci, 1), NULL);
    }
}

static int inside(double b, double lo, double hi)
{
    return isfinite(b) && isfinite(lo) && isfinite(hi) && lo <= b && b <= hi;
}

static void read_row(const cJSON *doc, const singles *sg, cJSON *check, find_row *r)
{
    const cJSON *fair = cJSON_GetObjectItemCaseSensitive(doc, "fairness");
    memset(r, 0, sizeof *r);
    r->check = check;
    r->root = -1;
    r->metric = aud_find_str(check, "metric");
    if (r->metric == NULL)
        r->metric = "?";
    r->attribute = aud_find_str(check, "attribute");
    r->group = aud_find_str(check, "group");
    r->column = aud_find_str(check, "column");
    r->reason = aud_find_str(check, "reason");
    r->failed = !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(check, "passed"));
    r->value = aud_find_num(check, "value");
    r->min = aud_find_num(check, "min");
    r->max = aud_find_num(check, "max");
    r->lo = r->hi = NAN;
    if (r->column != NULL)
        r->kind = FIND_DRIFT_COLUMN;
    else if (strcmp(r->metric, "drift_share") == 0 || strcmp(r->metric, "dataset_drift") == 0)
        r->kind = FIND_DRIFT_SET;
    else if (strcmp(r->metric, "additivity_max_error") == 0)
        r->kind = FIND_EXPLAIN;
    else if (aud_check_is_performance(r->metric))
        r->kind = FIND_PERF;
    else
        r->kind = aud_check_is_summary(r->metric) ? FIND_FAIR_SUMMARY : FIND_FAIR_GROUP;
    if (r->kind == FIND_FAIR_GROUP || r->kind == FIND_FAIR_SUMMARY) {
        r->attr = named(cJSON_GetObjectItemCaseSensitive(fair, "attributes"), "name", r->attribute);
        if (r->attr == NULL)
            r->attr = named(cJSON_GetObjectItemCaseSensitive(fair, "intersections"), "name",
                            r->attribute);
        r->refgrp = reference_group(r->attr);
        if (r->kind == FIND_FAIR_GROUP) {
            r->grp = named(cJSON_GetObjectItemCaseSensitive(r->attr, "groups"), "group", r->group);
            interval_of(r->grp, aud_check_result_key(r->metric), &r->lo, &r->hi);
        } else if (r->attr != NULL) {
            interval_of(cJSON_GetObjectItemCaseSensitive(r->attr, "summary"), r->metric, &r->lo,
                        &r->hi);
            if (isfinite(r->value))
                summary_driver(r);
        }
        if (r->attr != NULL)
            place(sg, r);
    }
    int borderline = inside(r->min, r->lo, r->hi) || inside(r->max, r->lo, r->hi);
    r->severity = r->failed ? (borderline && isfinite(r->value) ? 1 : 2) : borderline ? 1 : 0;
}

/* ---- grouping ----------------------------------------------------------------------------- */

static int rank_of(const find_row *r)
{
    return r->failed ? 2 : r->severity > 0 ? 1 : 0;
}

static int same_bound(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* b is a coarser view (or an earlier copy) of the same failure as a */
static int covers(const find_row *b, const find_row *a)
{
    if (b->kind != a->kind || b->mask == 0 || a->mask == 0 || (b->mask & a->mask) != b->mask ||
        strcmp(b->metric, a->metric) != 0 || !same_bound(b->min, a->min) ||
        !same_bound(b->max, a->max))
        return 0;
    if (a->kind == FIND_FAIR_GROUP) {
        for (int i = 0; i < FIND_MAX_ATTRS; i++) {
            if ((b->mask >> i & 1ULL) && strcmp(b->level[i], a->level[i]) != 0)
                return 0;
        }
    }
    return 1;
}

static void assign_roots(find_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ra = rank_of(&rows[i]);
        int best_bits = __builtin_popcountll(rows[i].mask);
        if (ra == 0)
            continue;
        for (size_t j = 0; j < n; j++) {
            if (j == i || rank_of(&rows[j]) < ra || !covers(&rows[j], &rows[i]))
                continue;
            int bits = __builtin_popcountll(rows[j].mask);
            if (bits < best_bits || (bits == best_bits && j < i &&
                                     (rows[i].root < 0 || (size_t)rows[i].root > j))) {
                best_bits = bits;
                rows[i].root = (long)j;
            }
        }
    }
}

/* ---- JSON --------------------------------------------------------------------------------- */

static int add_pair(cJSON *o, const char *key, double a, double b)
{
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    if (arr == NULL)
        return -1;
    cJSON *x = aud_json_num(a);
    if (x == NULL || !cJSON_AddItemToArray(arr, x)) {
        cJSON_Delete(x);
        return -1;
    }
    x = aud_json_num(b);
    if (x == NULL || !cJSON_AddItemToArray(arr, x)) {
        cJSON_Delete(x);
        return -1;
    }
    return 0;
}

static int add_copy(cJSON *o, const char *key, const cJSON *src)
{
    if (src == NULL)
        return 0;
    cJSON *c = cJSON_Duplicate(src, 1);
    if (c == NULL || !cJSON_AddItemToObject(o, key, c)) {
        cJSON_Delete(c);
        return -1;
    }
    return 0;
}

static int add_str_opt(cJSON *o, const char *key, const char *s)
{
    return s == NULL || cJSON_AddStringToObject(o, key, s) != NULL ? 0 : -1;
}

static int add_bound(cJSON *o, const find_row *r)
{
    cJSON *b = cJSON_AddObjectToObject(o, "bound");
    if (b == NULL)
        return -1;
    if (isfinite(r->min) && aud_json_add_num(b, "min", r->min))
        return -1;
    if (isfinite(r->max) && aud_json_add_num(b, "max", r->max))
        return -1;
    return 0;
}

static int add_end(cJSON *o, const char *key, const cJSON *g, const char *rate)
{
    cJSON *e = cJSON_AddObjectToObject(o, key);
    return e == NULL || add_str_opt(e, "group", aud_find_str(g, "group")) ||
                   aud_json_add_num(e, "value", aud_find_num(g, rate))
               ? -1
               : 0;
}

static int add_driven_by(cJSON *o, const find_row *r)
{
    if (r->drive_rate == NULL)
        return 0;
    cJSON *d = cJSON_AddObjectToObject(o, "driven_by");
    return d == NULL || add_str_opt(d, "rate", r->drive_rate) ||
                   add_end(d, "high", r->drive_hi, r->drive_rate) ||
                   add_end(d, "low", r->drive_lo, r->drive_rate)
               ? -1
               : 0;
}

/* In the check row: the reference group of fairness rows, the drivers of summary rows. */
static int annotate_check(const find_row *r)
{
    if (r->kind != FIND_FAIR_GROUP && r->kind != FIND_FAIR_SUMMARY)
        return 0;
    const char *ref = aud_find_str(r->attr, "reference");
    if (ref != NULL && cJSON_GetObjectItemCaseSensitive(r->check, "reference") == NULL &&
        cJSON_AddStringToObject(r->check, "reference", ref) == NULL)
        return -1;
    return add_driven_by(r->check, r);
}

static int is_selection_metric(const char *m)
{
    return strcmp(m, "disparate_impact") == 0 || strcmp(m, "impact_ratio") == 0 ||
           strncmp(m, "selection_rate", 14) == 0 || strcmp(m, "fisher_p_value") == 0 ||
           strncmp(m, "demographic_parity_", 19) == 0;
}

static int add_significance(cJSON *f, const find_words *w, const find_row *r)
{
    cJSON *s = cJSON_AddObjectToObject(f, "significance");
    if (s == NULL)
        return -1;
    if (isfinite(r->lo) && isfinite(r->hi)) {
        int in = inside(r->min, r->lo, r->hi) || inside(r->max, r->lo, r->hi);
        if (add_pair(s, "interval", r->lo, r->hi) || aud_json_add_num(s, "level", w->level) ||
            !cJSON_AddBoolToObject(s, "bound_inside_interval", in))
            return -1;
    } else if (!cJSON_AddNullToObject(s, "interval")) {
        return -1;
    }
    if (r->kind == FIND_FAIR_GROUP && is_selection_metric(r->metric)) {
        double p = aud_find_num(r->grp, "fisher_p_value");
        if (isfinite(p) && (aud_json_add_num(s, "fisher_p_value", p) ||
                            add_str_opt(s, "fisher_against", aud_find_str(r->attr, "highest_group"))))
            return -1;
    }
    if (r->kind == FIND_FAIR_SUMMARY && is_selection_metric(r->metric)) {
        const cJSON *chi = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r->attr, "summary"), "chi_square");
        double p = aud_find_num(chi, "p_value");
        if (isfinite(p) && aud_json_add_num(s, "chi_square_p_value", p))
            return -1;
    }
    return 0;
}

static int add_evidence(cJSON *f, const find_row *rows, size_t n, size_t root)
{
    cJSON *ev = cJSON_AddArrayToObject(f, "evidence");
    if (ev == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].root != (long)root)
            continue;
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(ev, e)) {
            cJSON_Delete(e);
            return -1;
        }
        if (add_str_opt(e, "attribute", rows[i].attribute) ||
            add_str_opt(e, "group", rows[i].group) ||
            add_copy(e, "value", cJSON_GetObjectItemCaseSensitive(rows[i].check, "value")) ||
            !cJSON_AddBoolToObject(e, "passed", !rows[i].failed))
            return -1;
        if (isfinite(rows[i].lo) && add_pair(e, "ci", rows[i].lo, rows[i].hi))
            return -1;
    }
    return 0;
}

/* What the fairness section says drives the gap of `group` (findcalc's decomposition) and the
 * threshold trade-off of the attribute, copied as they are. */
static int add_drivers(cJSON *f, const find_row *r)
{
    const char *group = r->group;
    if (group == NULL && r->drive_rate != NULL) {   /* a summary row: its non-reference end */
        const char *ref = aud_find_str(r->attr, "reference");
        group = aud_find_str(r->drive_lo, "group");
        if (ref != NULL && group != NULL && strcmp(ref, group) == 0)
            group = aud_find_str(r->drive_hi, "group");
    }
    const cJSON *d = named(cJSON_GetObjectItemCaseSensitive(r->attr, "drivers"), "group", group);
    if (add_copy(f, "drivers", d))
        return -1;
    return add_copy(f, "tradeoffs", cJSON_GetObjectItemCaseSensitive(r->attr, "tradeoffs"));
}

static int add_drift_columns(cJSON *f, const cJSON *doc)
{
    const cJSON *drift = cJSON_GetObjectItemCaseSensitive(doc, "drift");
    size_t cap = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(drift, "columns"));
    const cJSON **cols = aud_calloc(cap + 1, sizeof *cols);
    char buf[FIND_TEXT];
    int rc = 0;
    if (cols == NULL)
        return -1;
    size_t n = aud_find_drifted(drift, cols, cap);
    cJSON *arr = cJSON_AddArrayToObject(f, "columns");
    for (size_t i = 0; arr != NULL && i < n && rc == 0; i++) {
        cJSON *c = cJSON_CreateObject();
        if (c == NULL || !cJSON_AddItemToArray(arr, c)) {
            cJSON_Delete(c);
            rc = -1;
            break;
        }
        aud_find_drift_change(cols[i], buf);
        if (add_str_opt(c, "name", aud_find_str(cols[i], "name")) ||
            add_str_opt(c, "method", aud_find_str(cols[i], "method")) ||
            aud_json_add_num(c, "statistic", aud_find_num(cols[i], "statistic")) ||
            aud_json_add_num(c, "threshold", aud_find_num(cols[i], "threshold")) ||
            add_str_opt(c, "change", buf))
            rc = -1;
    }
    aud_free(cols);
    return arr == NULL ? -1 : rc;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case FIND_FAIR_GROUP:
    case FIND_FAIR_SUMMARY:
        return "fairness";
    case FIND_PERF:
        return "performance";
    case FIND_DRIFT_SET:
    case FIND_DRIFT_COLUMN:
        return "drift";
    default:
        return "explanations";
    }
}

static int add_finding(cJSON *arr, const cJSON *doc, const find_words *w, const find_row *rows,
                       size_t n, size_t i, int id)
{
    const find_row *r = &rows[i];
    char buf[FIND_TEXT], fid[24];
    cJSON *f = cJSON_CreateObject();
    if (f == NULL || !cJSON_AddItemToArray(arr, f)) {
        cJSON_Delete(f);
        return -1;
    }
    snprintf(fid, sizeof fid, "F%d", id);
    aud_find_sentence(doc, w, r, buf);
    if (add_str_opt(f, "id", fid) ||
        add_str_opt(f, "severity", r->severity == 2 ? "fail" : "warn") ||
        add_str_opt(f, "kind", kind_name(r->kind)) || add_str_opt(f, "metric", r->metric) ||
        add_str_opt(f, "attribute", r->attribute) || add_str_opt(f, "group", r->group) ||
        add_str_opt(f, "column", r->column) ||
        add_str_opt(f, "reference", aud_find_str(r->attr, "reference")) ||
        !cJSON_AddBoolToObject(f, "check_passed", !r->failed) ||
        add_copy(f, "value", cJSON_GetObjectItemCaseSensitive(r->check, "value")))
        return -1;
    if (isfinite(r->lo) && isfinite(r->hi) && add_pair(f, "ci", r->lo, r->hi))
        return -1;
    if (add_bound(f, r) || add_str_opt(f, "sentence", buf) || add_str_opt(f, "reason", r->reason) ||
        add_significance(f, w, r) || add_driven_by(f, r) || add_evidence(f, rows, n, i))
        return -1;
    if ((r->kind == FIND_FAIR_GROUP || r->kind == FIND_FAIR_SUMMARY) && add_drivers(f, r))
        return -1;
    if (r->kind == FIND_DRIFT_SET && add_drift_columns(f, doc))
        return -1;
    return 0;
}

static void read_words(const cJSON *doc, const char *label, find_words *w)
{
    const cJSON *fair = cJSON_GetObjectItemCaseSensitive(doc, "fairness");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "provenance"), "spec_document");
    w->outcome = aud_find_str(cJSON_GetObjectItemCaseSensitive(doc, "report"), "favorable_outcome");
    w->label = label;
    if (w->label == NULL)
        w->label = aud_find_str(cJSON_GetObjectItemCaseSensitive(doc, "performance"), "label");
    if (w->label == NULL)
        w->label = aud_find_str(spec, "label");
    if (w->label == NULL)
        w->label = aud_find_str(fair, "label_column");
    double fv = aud_find_num(fair, "favorable");
    w->favorable = fv == 0.0 ? 0 : 1;
    w->level = aud_find_num(fair, "confidence_level");
    if (!(w->level > 0.0 && w->level < 1.0))
        w->level = 0.95;
}

static int build(cJSON *results, const char *label, aud_error *err)
{
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(results, "checks");
    const cJSON *fair = cJSON_GetObjectItemCaseSensitive(results, "fairness");
    size_t n = (size_t)cJSON_GetArraySize(checks);
    find_row *rows = NULL;
    singles sg;
    find_words w;
    int rc = AUD_OK;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return aud_error_nomem(err);
    if (n > 0) {
        rows = aud_calloc(n, sizeof *rows);
        if (rows == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    memset(&sg, 0, sizeof sg);
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(fair, "attributes")) {
        if (sg.n < FIND_MAX_ATTRS && aud_find_str(a, "name") != NULL) {
            sg.attr[sg.n] = a;
            sg.name[sg.n++] = aud_find_str(a, "name");
        }
    }
    read_words(results, label, &w);
    size_t i = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, checks) {
        read_row(results, &sg, c, &rows[i]);
        if (annotate_check(&rows[i]) != 0) {
            rc = aud_error_nomem(err);
            goto done;
        }
        i++;
    }
    assign_roots(rows, n);
    int id = 0;
    for (int sev = 2; sev >= 1; sev--) {
        for (i = 0; i < n; i++) {
            if (rows[i].severity != sev || rows[i].root >= 0)
                continue;
            if (add_finding(arr, results, &w, rows, n, i, ++id) != 0) {
                rc = aud_error_nomem(err);
                goto done;
            }
        }
    }
    if (!cJSON_AddItemToObject(results, "findings", arr)) {
        rc = aud_error_nomem(err);
        goto done;
    }
    arr = NULL;
done:
    cJSON_Delete(arr);
    aud_free(rows);
    return rc;
}

int aud_findings_build(cJSON *results, aud_error *err)
{
    return build(results, NULL, err);
}

int aud_findings_fourfifths_text(const cJSON *fairness, const char *label, char **out,
                                 aud_error *err)
{
    static char metric[] = "disparate_impact";
    aud_check_spec rule = {metric, 1, 0, AUD_FOUR_FIFTHS, 0.0, NULL, NULL, NULL};
    size_t n_failed = 0;
    *out = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL || !cJSON_AddItemReferenceToObject(doc, "fairness", (cJSON *)fairness)) {
        cJSON_Delete(doc);
        return aud_error_nomem(err);
    }
    int rc = aud_checks_evaluate(&rule, 1, doc, &n_failed, err);
    if (rc == AUD_OK)
        rc = build(doc, label, err);
    if (rc == AUD_OK)
        rc = aud_findings_text(doc, NULL, out, err);
    cJSON_Delete(doc);   /* the fairness section is only referenced */
    return rc;
}

/* Append to a growing text buffer; 0, or -1 on no memory. */
static int text_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int text_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if (*len + (size_t)n + 1 > *cap) {
        size_t want = 2 * (*cap) + (size_t)n + 256;
        char *p = aud_realloc(*buf, want);
        if (p == NULL)
            return -1;
        *buf = p;
        *cap = want;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
    return 0;
}

int aud_findings_text(const cJSON *results, const char *attribute, char **out, aud_error *err)
{
    const cJSON *f;
    char *buf = NULL;
    size_t len = 0, cap = 0, count = 0;
    int bad = 0;
    *out = NULL;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(results, "findings")) {
        const char *at = aud_find_str(f, "attribute");
        const char *sev = aud_find_str(f, "severity"), *id = aud_find_str(f, "id");
        const char *sentence = aud_find_str(f, "sentence");
        char drv[600];
        if (attribute != NULL && (at == NULL || !aud_find_in_attribute(at, attribute)))
            continue;
        if (count++ == 0)
            bad |= text_add(&buf, &len, &cap, "\nfindings%s%s:\n", attribute ? " for " : "",
                            attribute ? attribute : "");
        bad |= text_add(&buf, &len, &cap, "  %-3s %-4s  %s\n", id ? id : "?",
                        sev != NULL && strcmp(sev, "fail") == 0 ? "FAIL" : "warn",
                        sentence ? sentence : "");
        if (aud_find_driver_text(f, drv, sizeof drv))
            bad |= text_add(&buf, &len, &cap, "            %s\n", drv);
        size_t n_ev = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f, "evidence"));
        if (n_ev > 0)
            bad |= text_add(&buf, &len, &cap, "            also seen in %zu intersection%s\n",
                            n_ev, n_ev == 1 ? "" : "s");
    }
    if (bad) {
        aud_free(buf);
        return aud_error_nomem(err);
    }
    *out = buf;
    return AUD_OK;
}
