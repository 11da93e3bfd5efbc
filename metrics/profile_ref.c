/* profile_ref.c - saved reference profiles (`audit profile --save`, SPEC section 8): build from a
 * table, write, read back with located errors, expand into a reference table for drift.
 *
 * File: one line "AUDIT-PROFILE <version> sha256=<hex of the rest>", then a JSON document
 * (docs/drift.md "Reference profiles" describes every key). Per numeric column: exact counts
 * over AUD_REFPROF_BINS equal-width bins over [min, max], exact moments, and a quantile summary
 * (metrics/sketch.h) built from the sorted values: AUD_REFPROF_K entries at evenly spaced ranks
 * plus the order statistics around every percentile (so that quantile PSI edges at multiples
 * of 1/100 are exact), every rank exact. A column with at most AUD_REFPROF_EXACT distinct values
 * keeps them all: the profile is then the sample itself. Categorical columns: exact counts. */
#include "metrics/profile.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/provenance.h"

#define MAGIC "AUDIT-PROFILE "
#define MAX_PROFILE_BYTES ((size_t)1 << 30)

static void col_free(aud_refcol *c)
{
    aud_free(c->name);
    aud_free(c->counts);
    aud_free(c->below);
    aud_sketch_free(&c->sketch);
    if (c->cells != NULL)
        aud_drift_refw_free(c->cells);
    aud_free(c->cells);
    for (size_t i = 0; i < c->n_levels; i++)
        aud_free(c->levels[i]);
    aud_free(c->levels);
    aud_free(c->level_counts);
}

void aud_refprof_free(aud_refprof *p)
{
    if (p == NULL)
        return;
    for (size_t j = 0; j < p->n_cols; j++)
        col_free(&p->cols[j]);
    aud_free(p->cols);
    aud_free(p->source_path);
    aud_free(p->path);
    aud_free(p);
}

static double edge(const aud_refcol *c, size_t j)
{
    return c->min + (c->max - c->min) * (double)j / (double)c->n_bins;
}

/* below[] from counts[], and the drift summary pointing into c */
static void col_finish(aud_refcol *c)
{
    double cum = 0.0;
    for (size_t j = 0; j < c->n_bins; j++) {
        c->below[j] = cum;
        cum += c->counts[j];
    }
    c->sum = (aud_drift_refsum){.sketch = &c->sketch, .lo = c->min, .hi = c->max,
                                .n_bins = c->n_bins, .below = c->below,
                                .n = (double)(c->rows - c->missing), .mean = c->mean,
                                .std = c->std, .distinct = c->distinct, .max_tie = c->max_tie,
                                .exact = c->exact};
}

static int build_numeric(aud_refcol *c, const double *v, size_t rows, aud_error *err)
{
    double *x = aud_malloc((rows ? rows : 1) * sizeof *x);
    if (x == NULL)
        return aud_error_nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < rows; i++)
        if (isfinite(v[i]))
            x[n++] = v[i] + 0.0;
    c->missing = rows - n;
    c->mean = c->std = c->min = c->max = NAN;
    c->exact = 1;
    aud_sketch_init(&c->sketch, AUD_REFPROF_K);
    if (n == 0) {
        aud_free(x);
        col_finish(c);
        return AUD_OK;
    }
    if (aud_drift_sort(x, n) != AUD_OK) {
        aud_free(x);
        return aud_error_nomem(err);
    }
    c->min = x[0];
    c->max = x[n - 1];
    c->mean = aud_drift_mean(x, n);   /* as drift computes them: the same numbers */
    c->std = aud_drift_std(x, n);
    for (size_t i = 0; i < n; i++)
        c->distinct += i == 0 || x[i] != x[i - 1];
    double anchors[2 * (AUD_REFPROF_ANCHORS + 1)];
    size_t na = 0;
    int rc;
    if (c->distinct <= AUD_REFPROF_EXACT) {
        rc = aud_sketch_from_sorted(&c->sketch, x, n, c->distinct + 2, NULL, 0, err);
    } else {
        c->exact = 0;
        for (int i = 0; i <= AUD_REFPROF_ANCHORS; i++) {   /* as numpy.quantile 'linear' */
            double h = (double)(n - 1) * ((double)i / (double)AUD_REFPROF_ANCHORS);
            size_t r = (size_t)floor(h);
            anchors[na++] = x[r < n ? r : n - 1];
            anchors[na++] = x[r + 1 < n ? r + 1 : n - 1];
        }
        rc = aud_sketch_from_sorted(&c->sketch, x, n, AUD_REFPROF_K, anchors, na, err);
    }
    c->n_bins = c->max > c->min ? AUD_REFPROF_BINS : 1;
    c->counts = aud_calloc(c->n_bins, sizeof *c->counts);
    c->below = aud_calloc(c->n_bins, sizeof *c->below);
    if (rc == AUD_OK && (c->counts == NULL || c->below == NULL))
        rc = aud_error_nomem(err);
    if (rc != AUD_OK) {
        aud_free(x);
        return rc;
    }
    size_t j = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        while (j + 1 < c->n_bins && edge(c, j + 1) <= x[i])
            j++;
        c->counts[j] += 1.0;
        /* the longest run of one value the summary does not hold as an entry */
        if (i == 0 || x[i] != x[i - 1]) {
            size_t r = i;
            while (r < n && x[r] == x[i])
                r++;
            while (e < c->sketch.n_e && c->sketch.e[e].v < x[i])
                e++;
            if (!(e < c->sketch.n_e && c->sketch.e[e].v == x[i]) && r - i > c->max_tie)
                c->max_tie = r - i;
        }
    }
    aud_free(x);
    col_finish(c);
    return AUD_OK;
}

static int build_categorical(aud_refcol *c, const aud_column *col, size_t rows, aud_error *err)
{
    c->n_levels = col->n_levels;
    c->levels = aud_calloc(c->n_levels + 1, sizeof *c->levels);
    c->level_counts = aud_calloc(c->n_levels + 1, sizeof *c->level_counts);
    if (c->levels == NULL || c->level_counts == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < c->n_levels; i++)
        if ((c->levels[i] = aud_strdup(col->levels[i])) == NULL)
            return aud_error_nomem(err);
    for (size_t r = 0; r < rows; r++) {
        int32_t k = col->codes[r];
        if (k < 0 || (size_t)k >= c->n_levels)
            c->missing++;
        else
            c->level_counts[k] += 1.0;
    }
    return AUD_OK;
}

int aud_refprof_build(aud_refprof **out, const aud_table *t, const char *path,
                      const char *sha256, aud_error *err)
{
    *out = NULL;
    aud_refprof *p = aud_calloc(1, sizeof *p);
    if (p == NULL)
        return aud_error_nomem(err);
    p->cols = aud_calloc(t->n_cols + 1, sizeof *p->cols);
    p->source_path = aud_strdup(path ? path : "");
    if (p->cols == NULL || p->source_path == NULL) {
        aud_refprof_free(p);
        return aud_error_nomem(err);
    }
    snprintf(p->source_sha256, sizeof p->source_sha256, "%s", sha256 ? sha256 : "");
    p->rows = t->n_rows;
    int rc = AUD_OK;
    for (size_t j = 0; rc == AUD_OK && j < t->n_cols; j++) {
        const aud_column *col = &t->cols[j];
        aud_refcol *c = &p->cols[j];
        p->n_cols = j + 1;
        c->rows = t->n_rows;
        c->numeric = col->type == AUD_COL_NUMERIC;
        if ((c->name = aud_strdup(col->name)) == NULL)
            rc = aud_error_nomem(err);
        else if (c->numeric)
            rc = build_numeric(c, col->num, t->n_rows, err);
        else
            rc = build_categorical(c, col, t->n_rows, err);
    }
    if (rc != AUD_OK) {
        aud_refprof_free(p);
        return rc;
    }
    *out = p;
    return AUD_OK;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* numbers as a packed string (version 2; aud_json_packed) */
static int add_nums(cJSON *o, const char *key, const double *v, size_t n)
{
    cJSON *a = aud_json_packed(v, n);
    if (a == NULL || !cJSON_AddItemToObject(o, key, a))
        return cJSON_Delete(a), -1;
    return 0;
}

static int col_json(cJSON *arr, aud_refcol *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o))
        return cJSON_Delete(o), -1;
    if (!cJSON_AddStringToObject(o, "name", c->name) ||
        !cJSON_AddStringToObject(o, "type", c->numeric ? "numeric" : "categorical") ||
        aud_json_add_num(o, "rows", (double)c->rows) ||
        aud_json_add_num(o, "missing", (double)c->missing))
        return -1;
    if (!c->numeric) {
        cJSON *lv = cJSON_AddArrayToObject(o, "levels");
        if (lv == NULL)
            return -1;
        for (size_t i = 0; i < c->n_levels; i++)
            if (!cJSON_AddItemToArray(lv, cJSON_CreateString(c->levels[i])))
                return -1;
        return add_nums(o, "counts", c->level_counts, c->n_levels);
    }
    if (aud_json_add_num(o, "distinct", (double)c->distinct) ||
        !cJSON_AddBoolToObject(o, "exact", c->exact) ||
        aud_json_add_num(o, "max_tie", (double)c->max_tie) ||
        aud_json_add_num(o, "min", c->min) || aud_json_add_num(o, "max", c->max) ||
        aud_json_add_num(o, "mean", c->mean) || aud_json_add_num(o, "std", c->std))
        return -1;
    if (c->rows == c->missing)
        return 0;
    cJSON *b = cJSON_AddObjectToObject(o, "bins");
    if (b == NULL || add_nums(b, "counts", c->counts, c->n_bins))
        return -1;
    cJSON *s = aud_sketch_to_json(&c->sketch);
    if (s == NULL || !cJSON_AddItemToObject(o, "sketch", s))
        return cJSON_Delete(s), -1;
    /* the entries packed too: value, rmin, rmax, wmin of each in a row */
    const aud_sketch *k = &c->sketch;
    double *e = aud_malloc((4 * k->n_e + 1) * sizeof *e);
    if (e == NULL)
        return -1;
    for (size_t i = 0; i < k->n_e; i++) {
        e[4 * i] = k->e[i].v;
        e[4 * i + 1] = k->e[i].rmin;
        e[4 * i + 2] = k->e[i].rmax;
        e[4 * i + 3] = k->e[i].wmin;
    }
    cJSON *packed = aud_json_packed(e, 4 * k->n_e);
    aud_free(e);
    if (packed == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(s, "entries", packed))
        return cJSON_Delete(packed), -1;
    return 0;
}

int aud_refprof_save(aud_refprof *p, const char *path, const char *created, aud_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    char now[40];
    if (created == NULL) {
        aud_utc_now(now, sizeof now);
        created = now;
    }
    int bad = doc == NULL || !cJSON_AddStringToObject(doc, "format", "audit-profile") ||
              aud_json_add_num(doc, "version", AUD_REFPROF_VERSION);
    cJSON *tool = bad ? NULL : cJSON_AddObjectToObject(doc, "tool");
    bad = bad || tool == NULL || !cJSON_AddStringToObject(tool, "name", "audit") ||
          !cJSON_AddStringToObject(tool, "version", AUD_VERSION) ||
          !cJSON_AddStringToObject(doc, "created", created);
    cJSON *src = bad ? NULL : cJSON_AddObjectToObject(doc, "source");
    bad = bad || src == NULL || !cJSON_AddStringToObject(src, "path", p->source_path) ||
          !(p->source_sha256[0] ? cJSON_AddStringToObject(src, "sha256", p->source_sha256)
                                : cJSON_AddNullToObject(src, "sha256")) ||
          aud_json_add_num(src, "rows", (double)p->rows) ||
          aud_json_add_num(src, "columns", (double)p->n_cols);
    cJSON *sm = bad ? NULL : cJSON_AddObjectToObject(doc, "summary");
    bad = bad || sm == NULL ||
          !cJSON_AddStringToObject(sm, "sketch", "GK/XGBoost weighted quantile summary, exact "
                                                 "ranks at its entries (metrics/sketch.h)") ||
          aud_json_add_num(sm, "k", AUD_REFPROF_K) ||
          aud_json_add_num(sm, "bins", AUD_REFPROF_BINS) ||
          aud_json_add_num(sm, "exact_distinct_max", AUD_REFPROF_EXACT) ||
          aud_json_add_num(sm, "quantile_anchors", AUD_REFPROF_ANCHORS);
    cJSON *cols = bad ? NULL : cJSON_AddArrayToObject(doc, "columns");
    bad = bad || cols == NULL;
    for (size_t j = 0; !bad && j < p->n_cols; j++)
        bad = col_json(cols, &p->cols[j]) != 0;
    char *body = bad ? NULL : cJSON_Print(doc);
    cJSON_Delete(doc);
    if (body == NULL)
        return aud_error_nomem(err);
    size_t blen = strlen(body);
    char hex[65], head[128];
    int hl = (int)strlen(MAGIC) + 80;   /* the header's length, filled in below */
    char *all = aud_malloc((size_t)hl + blen + 2);
    if (all == NULL) {
        cJSON_free(body);
        return aud_error_nomem(err);
    }
    memcpy(all + hl, body, blen);   /* the checksum covers everything after line 1 */
    all[(size_t)hl + blen] = '\n';
    int rc = aud_sha256_mem(all + hl, blen + 1, hex, err);
    if (rc == AUD_OK) {
        int n = snprintf(head, sizeof head, MAGIC "%d sha256=%s\n", AUD_REFPROF_VERSION, hex);
        memcpy(all + hl - n, head, (size_t)n);
        rc = aud_file_write_atomic(path, all + hl - n, (size_t)n + blen + 1, err);
    }
    aud_free(all);
    cJSON_free(body);
    return rc;
}

/* ---- reading --------------------------------------------------------------------------------- */

typedef struct rd {
    const char *file;
    aud_error  *err;
    char        field[128];
} rd;

static int rd_fail(rd *r, int code, const char *msg, const char *what)
{
    aud_error_set(r->err, code, r->file, 0, 0, "%s%s%s", msg, what ? ": " : "", what ? what : "");
    return aud_error_field(r->err, r->field);
}

/* a non-negative integer (up to 2^53) at key */
static int rd_count(rd *r, const cJSON *o, const char *key, const char *at, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(r->field, sizeof r->field, "%s%s%s", at, at[0] ? "." : "", key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0) ||
        v->valuedouble != floor(v->valuedouble))
        return rd_fail(r, AUD_E_SCHEMA, "expected a non-negative integer", NULL);
    *out = v->valuedouble;
    return AUD_OK;
}

static int rd_num(rd *r, const cJSON *o, const char *key, const char *at, int allow_null,
                  double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(r->field, sizeof r->field, "%s.%s", at, key);
    if (allow_null && cJSON_IsNull(v)) {
        *out = NAN;
        return AUD_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return rd_fail(r, AUD_E_SCHEMA, "expected a finite number", NULL);
    *out = v->valuedouble;
    return AUD_OK;
}

/* counts array of *n entries summing to total */
static int rd_counts(rd *r, const cJSON *a, const char *at, const size_t *n, double total,
                     double **out)
{
    snprintf(r->field, sizeof r->field, "%s", at);
    size_t len;
    long bad;
    int u = aud_json_unpack(a, out, &len, &bad);   /* an array (version 1) or packed (2) */
    if (u < 0)
        return aud_error_nomem(r->err);
    if (u > 0 && bad < 0)
        return rd_fail(r, AUD_E_SCHEMA, "expected an array of counts", NULL);
    if (u == 0 && len != *n) {
        char m[96];
        snprintf(m, sizeof m, "expected %zu counts, found %zu", *n, len);
        return rd_fail(r, AUD_E_SCHEMA, m, NULL);
    }
    double sum = 0.0;
    for (size_t i = 0; u == 0 && i < len; i++) {
        double v = (*out)[i];
        if (!(v >= 0) || v > 9e15 || v != floor(v)) {
            bad = (long)i;
            u = 1;
            break;
        }
        sum += v;
    }
    if (u != 0) {
        snprintf(r->field, sizeof r->field, "%s[%ld]", at, bad);
        return rd_fail(r, AUD_E_SCHEMA, "expected a non-negative integer count", NULL);
    }
    if (sum != total) {
        char m[160];
        snprintf(m, sizeof m, "the counts add up to %.17g, but the column has %.17g "
                              "non-missing values (was the file edited?)", sum, total);
        return rd_fail(r, AUD_E_SCHEMA, m, NULL);
    }
    return AUD_OK;
}

/* The column's cells for drift (drift_refw.c), built once here for every column of the profile
 * that has them; a summary without exact cuts has none (drift expands it). */
static int col_cells(aud_refcol *c, aud_error *err)
{
    if ((c->cells = aud_calloc(1, sizeof *c->cells)) == NULL)
        return aud_error_nomem(err);
    int rc = aud_drift_refw_build(c->cells, &c->sum);
    if (rc == AUD_E_NOMEM)
        return aud_error_nomem(err);
    if (rc != AUD_OK) {
        aud_free(c->cells);
        c->cells = NULL;
    }
    c->sum.cells = c->cells;
    return AUD_OK;
}

static int rd_column(rd *r, const cJSON *o, size_t j, double rows, aud_refcol *c)
{
    char at[96];
    snprintf(at, sizeof at, "columns[%zu]", j);
    snprintf(r->field, sizeof r->field, "%s", at);
    static const char *const num_keys[] = {"name", "type", "rows", "missing", "distinct",
                                           "exact", "max_tie", "min", "max", "mean", "std",
                                           "bins", "sketch", NULL};
    static const char *const cat_keys[] = {"name", "type", "rows", "missing", "levels",
                                           "counts", NULL};
    if (!cJSON_IsObject(o))
        return rd_fail(r, AUD_E_SCHEMA, "expected a column object", NULL);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsString(name)) {
        snprintf(r->field, sizeof r->field, "%s.name", at);
        return rd_fail(r, AUD_E_SCHEMA, "expected a string", NULL);
    }
    if ((c->name = aud_strdup(name->valuestring)) == NULL)
        return aud_error_nomem(r->err);
    snprintf(at, sizeof at, "columns[%zu] (\"%.40s\")", j, c->name);
    snprintf(r->field, sizeof r->field, "%s.type", at);
    if (!cJSON_IsString(type) || (strcmp(type->valuestring, "numeric") != 0 &&
                                  strcmp(type->valuestring, "categorical") != 0))
        return rd_fail(r, AUD_E_SCHEMA, "expected \"numeric\" or \"categorical\"", NULL);
    c->numeric = strcmp(type->valuestring, "numeric") == 0;
    if (aud_json_only_keys(o, c->numeric ? num_keys : cat_keys, r->file, r->err) != AUD_OK) {
        char f[300];
        snprintf(f, sizeof f, "%s.%s", at, r->err->field);
        return aud_error_field(r->err, f);
    }
    double v, miss;
    if (rd_count(r, o, "rows", at, &v) || rd_count(r, o, "missing", at, &miss))
        return r->err->code;
    if (v != rows || miss > rows)
        return rd_fail(r, AUD_E_SCHEMA, "rows must equal the source's rows, missing at most "
                                        "that (was the file edited?)", NULL);
    c->rows = (size_t)rows;
    c->missing = (size_t)miss;
    double present = rows - miss;
    char sub[128];
    if (!c->numeric) {
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(o, "levels");
        snprintf(r->field, sizeof r->field, "%s.levels", at);
        if (!cJSON_IsArray(lv))
            return rd_fail(r, AUD_E_SCHEMA, "expected an array of strings", NULL);
        size_t n = (size_t)cJSON_GetArraySize(lv);
        c->levels = aud_calloc(n + 1, sizeof *c->levels);
        if (c->levels == NULL)
            return aud_error_nomem(r->err);
        for (const cJSON *it = lv->child; it != NULL; it = it->next) {
            if (!cJSON_IsString(it))
                return rd_fail(r, AUD_E_SCHEMA, "expected an array of strings", NULL);
            for (size_t i = 0; i < c->n_levels; i++)
                if (strcmp(c->levels[i], it->valuestring) == 0)
                    return rd_fail(r, AUD_E_SCHEMA, "a category appears twice",
                                   it->valuestring);
            if ((c->levels[c->n_levels++] = aud_strdup(it->valuestring)) == NULL)
                return aud_error_nomem(r->err);
        }
        snprintf(sub, sizeof sub, "%s.counts", at);
        return rd_counts(r, cJSON_GetObjectItemCaseSensitive(o, "counts"), sub, &n, present,
                         &c->level_counts);
    }
    double d, tie;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exact");
    if (rd_count(r, o, "distinct", at, &d) || rd_count(r, o, "max_tie", at, &tie) ||
        rd_num(r, o, "min", at, present == 0, &c->min) ||
        rd_num(r, o, "max", at, present == 0, &c->max) ||
        rd_num(r, o, "mean", at, present == 0, &c->mean) ||
        rd_num(r, o, "std", at, present == 0, &c->std))
        return r->err->code;
    snprintf(r->field, sizeof r->field, "%s.exact", at);
    if (!cJSON_IsBool(ex))
        return rd_fail(r, AUD_E_SCHEMA, "expected true or false", NULL);
    c->exact = cJSON_IsTrue(ex);
    c->distinct = (size_t)d;
    c->max_tie = (size_t)tie;
    aud_sketch_init(&c->sketch, AUD_REFPROF_K);
    if (present == 0) {
        col_finish(c);
        return AUD_OK;
    }
    snprintf(r->field, sizeof r->field, "%s", at);
    if (!(c->min <= c->max) || d > present || d < 1 || !(c->std >= 0))
        return rd_fail(r, AUD_E_SCHEMA, "needs min <= max, std >= 0 and 1 <= distinct <= "
                                        "non-missing values (was the file edited?)", NULL);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bins");
    snprintf(sub, sizeof sub, "%s.bins.counts", at);
    c->n_bins = c->max > c->min ? AUD_REFPROF_BINS : 1;
    if (!cJSON_IsObject(b)) {
        snprintf(r->field, sizeof r->field, "%s.bins", at);
        return rd_fail(r, AUD_E_SCHEMA, "expected an object", NULL);
    }
    if (rd_counts(r, cJSON_GetObjectItemCaseSensitive(b, "counts"), sub, &c->n_bins, present,
                  &c->counts) != AUD_OK)
        return r->err->code;
    c->below = aud_calloc(c->n_bins + 1, sizeof *c->below);
    if (c->below == NULL)
        return aud_error_nomem(r->err);
    snprintf(sub, sizeof sub, "%s.sketch", at);
    if (aud_sketch_from_json(&c->sketch, cJSON_GetObjectItemCaseSensitive(o, "sketch"), r->file,
                             sub, r->err) != AUD_OK)
        return r->err->code;
    const aud_sketch *s = &c->sketch;
    snprintf(r->field, sizeof r->field, "%s", sub);
    if (s->n != present || s->n_e == 0 || s->e[0].v != c->min || s->e[s->n_e - 1].v != c->max)
        return rd_fail(r, AUD_E_SCHEMA, "the summary must hold the column's non-missing values, "
                                        "its first and last entries min and max (was the file "
                                        "edited?)", NULL);
    if (c->exact && s->n_e != c->distinct)
        return rd_fail(r, AUD_E_SCHEMA, "an exact column holds every distinct value", NULL);
    col_finish(c);
    /* the bins and the summary must agree wherever both know a count */
    aud_drift_refsum sk_only = c->sum, bins_only = c->sum;
    sk_only.n_bins = 0;
    bins_only.sketch = NULL;
    size_t pos = 0;   /* the entries increase: one walk */
    for (size_t i = 0; i < s->n_e; i++) {
        double slo, shi, blo, bhi;
        aud_drift_refsum_rank_walk(&sk_only, s->e[i].v, 0, &pos, &slo, &shi);
        aud_drift_refsum_rank(&bins_only, s->e[i].v, 0, &blo, &bhi);
        if (slo > bhi || blo > shi) {
            snprintf(r->field, sizeof r->field, "%s.bins.counts", at);
            return rd_fail(r, AUD_E_SCHEMA, "the bin counts disagree with the quantile summary "
                                            "(was the file edited?)", NULL);
        }
    }
    return col_cells(c, r->err);
}

int aud_refprof_parse(aud_refprof **out, const char *text, size_t len, const char *name,
                      aud_error *err)
{
    *out = NULL;
    rd r = {.file = name, .err = err, .field = ""};
    const char *nl = memchr(text, '\n', len);
    if (len < strlen(MAGIC) || memcmp(text, MAGIC, strlen(MAGIC)) != 0 || nl == NULL)
        return aud_error_set(err, AUD_E_PARSE, name, 1, 1,
                             "not an audit reference profile: the first line must be "
                             "\"" MAGIC "<version> sha256=<hex>\" as `audit profile --save` "
                             "writes it");
    const char *p = text + strlen(MAGIC);
    char *end = NULL;
    long ver = strtol(p, &end, 10);
    if (end == p || *end != ' ')
        return aud_error_set(err, AUD_E_PARSE, name, 1, (long)(p - text) + 1,
                             "expected the format version after \"" MAGIC "\"");
    if (ver < 1 || ver > AUD_REFPROF_VERSION)   /* 1: number arrays, 2: packed strings */
        return aud_error_set(err, AUD_E_UNSUPPORTED, name, 1, (long)(p - text) + 1,
                             "profile format version %ld; this audit %s reads versions 1 to %d "
                             "(save the profile again with this version)", ver, AUD_VERSION,
                             AUD_REFPROF_VERSION);
    const char *h = end + 1;
    if ((size_t)(nl - h) != 7 + 64 || strncmp(h, "sha256=", 7) != 0)
        return aud_error_set(err, AUD_E_PARSE, name, 1, (long)(h - text) + 1,
                             "expected \"sha256=\" and 64 hex digits");
    const char *body = nl + 1;
    size_t blen = len - (size_t)(body - text);
    char *copy = aud_malloc(blen + 1);   /* the parser needs a NUL after the text */
    if (copy == NULL)
        return aud_error_nomem(err);
    memcpy(copy, body, blen);
    copy[blen] = '\0';
    cJSON *doc = NULL;
    /* the document's nodes from one arena: read into the profile and dropped below */
    aud_json_arena *arena = aud_json_arena_begin();
    int rc = aud_json_parse_located(&doc, copy, blen, name, err);
    if (rc != AUD_OK) {
        aud_json_arena_end(arena);
        aud_free(copy);
        if (err->line > 0)
            err->line++;   /* the header line */
        return rc;
    }
    aud_refprof *pr = aud_calloc(1, sizeof *pr);
    if (pr == NULL) {
        aud_free(copy);
        cJSON_Delete(doc);
        aud_json_arena_end(arena);
        return aud_error_nomem(err);
    }
    static const char *const keys[] = {"format", "version", "tool", "created", "source",
                                       "summary", "columns", NULL};
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(doc, "source");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(doc, "columns");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *ver2 = cJSON_GetObjectItemCaseSensitive(doc, "version");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(doc, "created");
    double rows = 0, ncols = 0;
    rc = aud_json_only_keys(doc, keys, name, err);
    if (rc == AUD_OK && (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "audit-profile") ||
                         !cJSON_IsNumber(ver2) || ver2->valuedouble != ver)) {
        snprintf(r.field, sizeof r.field, "format");
        rc = rd_fail(&r, AUD_E_SCHEMA, "expected \"format\": \"audit-profile\" and the "
                                       "version of line 1", NULL);
    }
    if (rc == AUD_OK && cJSON_IsString(created))
        snprintf(pr->created, sizeof pr->created, "%s", created->valuestring);
    if (rc == AUD_OK && !cJSON_IsObject(src)) {
        snprintf(r.field, sizeof r.field, "source");
        rc = rd_fail(&r, AUD_E_SCHEMA, "expected an object", NULL);
    }
    if (rc == AUD_OK)
        rc = rd_count(&r, src, "rows", "source", &rows);
    if (rc == AUD_OK)
        rc = rd_count(&r, src, "columns", "source", &ncols);
    if (rc == AUD_OK) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(src, "path");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(src, "sha256");
        pr->source_path = aud_strdup(cJSON_IsString(sp) ? sp->valuestring : "");
        if (cJSON_IsString(sh))
            snprintf(pr->source_sha256, sizeof pr->source_sha256, "%s", sh->valuestring);
        if (pr->source_path == NULL)
            rc = aud_error_nomem(err);
    }
    if (rc == AUD_OK && (!cJSON_IsArray(cols) || (double)cJSON_GetArraySize(cols) != ncols)) {
        snprintf(r.field, sizeof r.field, "columns");
        rc = rd_fail(&r, AUD_E_SCHEMA, "expected an array of as many columns as "
                                       "source.columns says", NULL);
    }
    if (rc == AUD_OK) {
        pr->rows = (size_t)rows;
        pr->cols = aud_calloc((size_t)ncols + 1, sizeof *pr->cols);
        if (pr->cols == NULL)
            rc = aud_error_nomem(err);
    }
    size_t j = 0;
    for (const cJSON *it = rc == AUD_OK ? cols->child : NULL; it != NULL && rc == AUD_OK;
         it = it->next, j++) {
        pr->n_cols = j + 1;
        rc = rd_column(&r, it, j, rows, &pr->cols[j]);
    }
    char hex[65];
    if (rc == AUD_OK)
        rc = aud_sha256_mem(copy, blen, hex, err);
    if (rc == AUD_OK && memcmp(hex, h + 7, 64) != 0)
        rc = aud_error_set(err, AUD_E_PARSE, name, 1, (long)(h - text) + 8,
                           "the content does not match the checksum of line 1: the file was "
                           "changed after `audit profile --save` wrote it (save it again)");
    aud_free(copy);
    cJSON_Delete(doc);
    aud_json_arena_end(arena);
    if (rc == AUD_OK && (pr->path = aud_strdup(name)) == NULL)
        rc = aud_error_nomem(err);
    if (rc != AUD_OK) {
        aud_refprof_free(pr);
        return rc;
    }
    *out = pr;
    return AUD_OK;
}

int aud_refprof_load(aud_refprof **out, const char *path, aud_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = aud_file_read(path, &text, &len, MAX_PROFILE_BYTES, err);
    if (rc == AUD_OK)
        rc = aud_refprof_parse(out, text, len, path, err);
    aud_free(text);
    return rc;
}

int aud_refprof_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char buf[sizeof MAGIC];
    size_t n = fread(buf, 1, strlen(MAGIC), f);
    fclose(f);
    return n == strlen(MAGIC) && memcmp(buf, MAGIC, n) == 0;
}

/* ---- the reference table -------------------------------------------------------------------- */

int aud_refprof_table(const aud_refprof *p, aud_table **out, const aud_drift_refsum ***sums,
                      aud_error *err)
{
    *out = NULL;
    *sums = NULL;
    aud_table *t = aud_calloc(1, sizeof *t);
    const aud_drift_refsum **s = aud_calloc(p->n_cols + 1, sizeof *s);
    if (t == NULL || s == NULL || (t->cols = aud_calloc(p->n_cols + 1, sizeof *t->cols)) == NULL ||
        (t->path = aud_strdup(p->path ? p->path : "reference profile")) == NULL) {
        aud_free(s);
        aud_table_free(t);
        return aud_error_nomem(err);
    }
    t->n_rows = p->rows;
    int rc = AUD_OK;
    for (size_t j = 0; rc == AUD_OK && j < p->n_cols; j++) {
        const aud_refcol *c = &p->cols[j];
        aud_column *col = &t->cols[j];
        t->n_cols = j + 1;
        col->name = aud_strdup(c->name);
        col->n_missing = c->missing;
        col->type = c->numeric ? AUD_COL_NUMERIC : AUD_COL_CATEGORICAL;
        for (size_t i = 0; i < j; i++)
            if (strcmp(t->cols[i].name, c->name) == 0) {
                t->cols[i].n_same++;
                col->n_same++;
            }
        if (col->name == NULL) {
            rc = aud_error_nomem(err);
        } else if (c->numeric) {
            size_t n = c->rows - c->missing;
            aud_drift_refw rw;
            int cells = aud_drift_refw_build(&rw, &c->sum);   /* c->cells' when loaded */
            if (cells == AUD_OK)
                aud_drift_refw_free(&rw);
            s[j] = &c->sum;
            if (cells == AUD_E_NOMEM) {
                rc = aud_error_nomem(err);
                break;
            }
            if (cells == AUD_OK)   /* drift works on the cells: no rows (col->num NULL) */
                continue;
            if ((col->num = aud_malloc((c->rows ? c->rows : 1) * sizeof *col->num)) == NULL ||
                aud_drift_refsum_expand(&c->sum, col->num) != AUD_OK) {
                rc = aud_error_nomem(err);
                break;
            }
            for (size_t i = n; i < c->rows; i++)
                col->num[i] = NAN;
            s[j] = &c->sum;
        } else {
            col->levels = aud_calloc(c->n_levels + 1, sizeof *col->levels);
            col->codes = aud_malloc((c->rows ? c->rows : 1) * sizeof *col->codes);
            if (col->levels == NULL || col->codes == NULL) {
                rc = aud_error_nomem(err);
                break;
            }
            size_t r = 0;
            for (size_t k = 0; k < c->n_levels && rc == AUD_OK; k++) {
                if ((col->levels[k] = aud_strdup(c->levels[k])) == NULL)
                    rc = aud_error_nomem(err);
                col->n_levels = k + 1;
                for (double q = 0; q < c->level_counts[k] && r < c->rows; q += 1.0)
                    col->codes[r++] = (int32_t)k;
            }
            while (r < c->rows)
                col->codes[r++] = -1;
        }
    }
    if (rc != AUD_OK) {
        aud_free(s);
        aud_table_free(t);
        return rc;
    }
    *out = t;
    *sums = s;
    return AUD_OK;
}

int aud_refprof_prov(const aud_refprof *p, cJSON *entry, aud_error *err)
{
    cJSON *o = entry ? cJSON_AddObjectToObject(entry, "profile") : NULL;
    cJSON *s = o ? cJSON_AddObjectToObject(o, "source") : NULL;
    if (s == NULL || aud_json_add_num(o, "format_version", AUD_REFPROF_VERSION) ||
        !cJSON_AddStringToObject(o, "created", p->created) ||
        !cJSON_AddStringToObject(s, "path", p->source_path ? p->source_path : "") ||
        !(p->source_sha256[0] ? cJSON_AddStringToObject(s, "sha256", p->source_sha256)
                              : cJSON_AddNullToObject(s, "sha256")) ||
        aud_json_add_num(s, "rows", (double)p->rows))
        return aud_error_nomem(err);
    return AUD_OK;
}
