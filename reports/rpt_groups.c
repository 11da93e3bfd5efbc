/* rpt_groups.c - the groups of a fairness attribute or intersection as the reports show them
 * (rpt_groups_int.h): natural order, order of importance, small groups and unambiguous names
 * of intersection groups. Nothing is computed: groups are sorted and looked up. */
#include "reports/rpt_groups_int.h"
#include "reports/rpt_int.h"
#include "reports/report.h"
#include "core/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 8

int aud_rpt_group_small(const cJSON *g)
{
    return aud_rpt_bool(g, "small") == 1 || aud_rpt_bool(g, "excluded_from_verdict") == 1;
}

int aud_rpt_group_failing(const cJSON *g)
{
    int below = aud_rpt_bool(g, "below_four_fifths");
    double di = aud_rpt_num(g, "disparate_impact");
    if (aud_rpt_group_small(g))
        return 0;
    return below >= 0 ? below == 1 : isfinite(di) && di < AUD_FOUR_FIFTHS;
}

int aud_rpt_natural_cmp(const char *a, const char *b)
{
    return aud_natural_cmp(a, b);
}

/* ---- the components of an intersection ---- */

static const cJSON *find_attr(const cJSON *fairness, const char *name, size_t len)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, aud_rpt_arr(fairness, "attributes")) {
        const char *nm = aud_rpt_str(a, "name", "");
        if (strlen(nm) == len && strncmp(nm, name, len) == 0)
            return a;
    }
    return NULL;
}

/* The attributes whose names, joined by '&', make `name` (attribute names may hold '&' too). */
static int split_attrs(const cJSON *fairness, const char *name, const cJSON **out, size_t k,
                       size_t *m)
{
    const cJSON *a;
    if (k == MAX_PARTS)
        return 0;
    cJSON_ArrayForEach(a, aud_rpt_arr(fairness, "attributes")) {
        const char *nm = aud_rpt_str(a, "name", NULL);
        size_t len = nm != NULL ? strlen(nm) : 0;
        if (len == 0 || strncmp(name, nm, len) != 0)
            continue;
        out[k] = a;
        if (name[len] == '\0' && k >= 1) {
            *m = k + 1;
            return 1;
        }
        if (name[len] == '&' && split_attrs(fairness, name + len + 1, out, k + 1, m))
            return 1;
    }
    return 0;
}

/* The groups of attrs[k..m) whose names, joined by '&', make `group`: their entries. */
static int split_group(const cJSON *const *attrs, size_t m, const char *group, size_t k,
                       const cJSON **out)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, aud_rpt_arr(attrs[k], "groups")) {
        const char *nm = aud_rpt_str(g, "group", NULL);
        size_t len = nm != NULL ? strlen(nm) : 0;
        if (nm == NULL || strncmp(group, nm, len) != 0)
            continue;
        out[k] = g;
        if (k + 1 == m ? group[len] == '\0'
                       : group[len] == '&' && split_group(attrs, m, group + len + 1, k + 1, out))
            return 1;
    }
    return 0;
}

/* Components of an intersection's group: 0 when attr is not an intersection of attributes of
 * the document or the group does not split into their groups. */
static size_t components(const cJSON *fairness, const cJSON *attr, const char *group,
                         const cJSON **attrs, const cJSON **parts)
{
    size_t m = 0;
    const char *name = aud_rpt_str(attr, "name", "");
    if (strchr(name, '&') == NULL || find_attr(fairness, name, strlen(name)) == attr ||
        !split_attrs(fairness, name, attrs, 0, &m) || !split_group(attrs, m, group, 0, parts))
        return 0;
    return m;
}

const char *aud_rpt_group_label(const cJSON *fairness, const cJSON *attr, const char *group,
                                char *buf, size_t n)
{
    const cJSON *attrs[MAX_PARTS], *parts[MAX_PARTS];
    size_t m, len = 0;
    int quote = 0;
    if (strchr(group, '&') == NULL || (m = components(fairness, attr, group, attrs, parts)) == 0) {
        aud_rpt_copy_utf8(buf, n, group);
        return buf;
    }
    for (size_t k = 0; k < m; k++)
        quote |= strchr(aud_rpt_str(parts[k], "group", ""), '&') != NULL;
    if (!quote) {
        aud_rpt_copy_utf8(buf, n, group);
        return buf;
    }
    buf[0] = '\0';
    for (size_t k = 0; k < m && len < n; k++) {
        const char *c = aud_rpt_str(parts[k], "group", "");
        int q = strchr(c, '&') != NULL;
        len += (size_t)snprintf(buf + len, n - len, "%s%s%s%s", k > 0 ? "&" : "", q ? "\"" : "",
                                c, q ? "\"" : "");
    }
    aud_rpt_utf8_fix_tail(buf);
    return buf;
}

/* ---- sorting ---- */

typedef struct keyed {
    const cJSON *g;
    const char *name;
    const char *part[MAX_PARTS];
    long rank[MAX_PARTS];   /* position in an attribute whose order was given; -1: natural */
    size_t m;
    int cls;                /* importance: 0 failing, 1 eligible, 2 small */
    double count;
} keyed;

static int cmp_natural(const keyed *a, const keyed *b)
{
    if (a->m > 0 && a->m == b->m) {
        for (size_t k = 0; k < a->m; k++) {
            int c = a->rank[k] >= 0 && b->rank[k] >= 0
                        ? (a->rank[k] > b->rank[k]) - (a->rank[k] < b->rank[k])
                        : aud_rpt_natural_cmp(a->part[k], b->part[k]);
            if (c != 0)
                return c;
        }
        return 0;
    }
    return aud_rpt_natural_cmp(a->name, b->name);
}

static int cmp_nat(const void *x, const void *y)
{
    return cmp_natural(x, y);
}

static int cmp_imp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->count != b->count && isfinite(a->count) && isfinite(b->count))
        return a->count > b->count ? -1 : 1;
    return cmp_natural(a, b);
}

/* Is the document's order of attribute a's groups the one to show? Yes when the attribute
 * records its "group_order" (the library orders groups once: given, bins, values or natural),
 * and, for documents written before that, when the spec gave it ("order", or "bins": bands are
 * listed in order; provenance.spec_document, as `audit run` records it). */
static int order_given(const cJSON *doc, const cJSON *a)
{
    const cJSON *spec = aud_rpt_obj(aud_rpt_obj(doc, "provenance"), "spec_document");
    const char *name = aud_rpt_str(a, "name", "");
    return aud_rpt_str(a, "group_order", NULL) != NULL ||
           cJSON_GetObjectItemCaseSensitive(aud_rpt_obj(spec, "order"), name) != NULL ||
           cJSON_GetObjectItemCaseSensitive(aud_rpt_obj(spec, "bins"), name) != NULL;
}

static long position(const cJSON *a, const cJSON *g)
{
    const cJSON *x;
    long i = 0;
    cJSON_ArrayForEach(x, aud_rpt_arr(a, "groups")) {
        if (x == g)
            return i;
        i++;
    }
    return -1;
}

int aud_rpt_groups_sorted(const cJSON *doc, const cJSON *attr, int order, const cJSON ***out,
                          size_t *n)
{
    const cJSON *fairness = aud_rpt_obj(doc, "fairness");
    const cJSON *gs = aud_rpt_arr(attr, "groups"), *g;
    size_t cnt = aud_rpt_count(gs), i = 0;
    keyed *k;
    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return AUD_OK;
    k = aud_calloc(cnt, sizeof *k);
    *out = aud_malloc(cnt * sizeof **out);
    if (k == NULL || *out == NULL) {
        aud_free(k);
        aud_free((void *)*out);
        *out = NULL;
        return AUD_E_NOMEM;
    }
    cJSON_ArrayForEach(g, gs) {
        const cJSON *attrs[MAX_PARTS], *parts[MAX_PARTS];
        k[i].g = g;
        k[i].name = aud_rpt_str(g, "group", "");
        k[i].m = components(fairness, attr, k[i].name, attrs, parts);
        if (k[i].m == 0) {   /* a single attribute: its own one component */
            attrs[0] = attr;
            parts[0] = g;
            k[i].m = 1;
        }
        for (size_t q = 0; q < k[i].m; q++) {
            k[i].part[q] = aud_rpt_str(parts[q], "group", "");
            k[i].rank[q] = order_given(doc, attrs[q]) ? position(attrs[q], parts[q]) : -1;
        }
        k[i].cls = aud_rpt_group_failing(g) ? 0 : aud_rpt_group_small(g) ? 2 : 1;
        k[i].count = aud_rpt_num(g, "count");
        i++;
    }
    qsort(k, cnt, sizeof *k, order == RPT_ORDER_IMPORTANCE ? cmp_imp : cmp_nat);
    for (i = 0; i < cnt; i++)
        (*out)[i] = k[i].g;
    *n = cnt;
    aud_free(k);
    return AUD_OK;
}

int aud_report_set_max_groups(cJSON *results, long n, aud_error *err)
{
    cJSON *r = cJSON_GetObjectItemCaseSensitive(results, "report"), *v;
    if (!cJSON_IsObject(r)) {
        cJSON_DeleteItemFromObjectCaseSensitive(results, "report");
        r = cJSON_AddObjectToObject(results, "report");
    }
    v = r != NULL ? cJSON_CreateNumber((double)n) : NULL;
    if (v == NULL)
        return aud_error_nomem(err);
    if (cJSON_GetObjectItemCaseSensitive(r, "max_groups") != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(r, "max_groups", v);
    else
        cJSON_AddItemToObject(r, "max_groups", v);
    return AUD_OK;
}

const cJSON *aud_rpt_fair_attr(const cJSON *fairness, const char *attr)
{
    static const char *const lists[] = {"attributes", "intersections"};
    const cJSON *a;
    for (int l = 0; l < 2; l++) {
        cJSON_ArrayForEach(a, aud_rpt_arr(fairness, lists[l])) {
            if (strcmp(aud_rpt_str(a, "name", ""), attr) == 0)
                return a;
        }
    }
    return NULL;
}

const cJSON *aud_rpt_fair_group(const cJSON *fairness, const char *attr, const char *group)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, aud_rpt_arr(aud_rpt_fair_attr(fairness, attr), "groups")) {
        if (strcmp(aud_rpt_str(g, "group", ""), group) == 0)
            return g;
    }
    return NULL;
}

size_t aud_rpt_max_groups(const cJSON *doc)
{
    double v = aud_rpt_num(aud_rpt_obj(doc, "report"), "max_groups");
    return isfinite(v) && v >= 1.0 ? (size_t)fmin(v, 1e6) : RPT_DEFAULT_MAX_GROUPS;
}

void aud_rpt_cap_small(const double *count, const int *small, size_t n, size_t cap,
                       unsigned char *keep)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        keep[i] = small[i] == 0;
        kept += keep[i];
    }
    while (kept < cap) {   /* the largest small row not yet kept (ties: the first) */
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (keep[i] || !small[i])
                continue;
            double c = isfinite(count[i]) ? count[i] : -1.0;
            double cb = best < n && isfinite(count[best]) ? count[best] : -1.0;
            if (best == n || c > cb)
                best = i;
        }
        if (best == n)
            break;
        keep[best] = 1;
        kept++;
    }
}
