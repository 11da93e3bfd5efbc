/* bind.c - the binding layer (bind_int.h): model features, label/prediction/score columns,
 * sensitive attributes with references and intersections, drift columns. */
#include "audit/bind_int.h"
#include "core/io.h"
#include "explainers/shap.h"
#include "models/model_cmd_int.h"
#include "models/predict_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- model features ------------------------------------------------------------------------ */

int aud_bind_model(aud_binding *b, const aud_model *m, const char *model_path,
                   const aud_table *t, aud_error *err)
{
    memset(b, 0, sizeof *b);
    b->model = m;
    b->model_path = model_path;
    b->table = t;
    b->cols = aud_calloc(m->n_features + 1, sizeof *b->cols);
    if (b->cols == NULL)
        return aud_error_nomem(err);
    /* a command model's text features: t's categories too (a background or reference file's) */
    int rc = aud_model_cmd_add_levels(m, t, err);
    return rc != AUD_OK ? rc : aud_model_bind(m, t, b->cols, &b->by_position, err);
}

void aud_binding_free(aud_binding *b)
{
    aud_free(b->cols);
    memset(b, 0, sizeof *b);
}

int aud_bind_check_missing(const aud_binding *b, size_t row_begin, size_t row_end,
                           aud_error *err)
{
    return aud_predict_check_missing(b->model, b->table, b->cols, row_begin, row_end, err);
}

void aud_bind_fill_rows(const aud_binding *b, size_t row_begin, size_t row_end, double *out)
{
    aud_model_fill_rows(b->model, b->table, b->cols, row_begin, row_end, out);
}

int aud_bind_sample_rows(const aud_binding *b, size_t k, uint64_t seed, double **X,
                         size_t *n_out, aud_error *err)
{
    size_t n = b->table->n_rows, m = n < k ? n : k, nf = b->model->n_features;
    *X = NULL;
    *n_out = 0;
    size_t *idx = aud_malloc((m ? m : 1) * sizeof *idx);
    double *x = aud_malloc((m ? m : 1) * (nf ? nf : 1) * sizeof *x);
    if (idx == NULL || x == NULL) {
        aud_free(idx);
        aud_free(x);
        return aud_error_nomem(err);
    }
    m = aud_shap_sample_rows(n, m, seed, idx);
    for (size_t i = 0; i < m; i++)
        aud_bind_fill_rows(b, idx[i], idx[i] + 1, x + i * nf);
    aud_free(idx);
    *X = x;
    *n_out = m;
    return AUD_OK;
}

int aud_bind_predict(const aud_binding *b, int raw, int threads, double **out, size_t *n_cols,
                     aud_error *err)
{
    const aud_table *t = b->table;
    size_t k = aud_predict_n_cols(b->model, raw);
    *out = NULL;
    *n_cols = k;
    if (t->n_rows > ((size_t)-1) / sizeof **out / (k + 1))
        return aud_error_nomem(err);
    double *v = aud_malloc_rows((t->n_rows * k + 1) * sizeof *v);
    if (v == NULL)
        return aud_error_nomem(err);
    int rc = aud_predict_table(b->model, t, b->cols, raw, threads > 0 ? threads : 1, v, err);
    if (rc != AUD_OK) {
        aud_free(v);
        return rc;
    }
    *out = v;
    return AUD_OK;
}

int aud_bind_model_output(const aud_binding *b, int threads, const char *who, double **out,
                          aud_error *err)
{
    size_t k = 0;
    *out = NULL;
    if (aud_model_n_pred(b->model) != 1)
        return aud_error_set(err, AUD_E_UNSUPPORTED, b->model_path, 0, 0,
                             "%s needs a model with one output (binary classifier or "
                             "regression); this one has %zu", who, aud_model_n_pred(b->model));
    return aud_bind_predict(b, 0, threads, out, &k, err);
}

/* ---- label, prediction and score columns --------------------------------------------------- */

/* Column `name` of t, or -1 with err set: an unknown name lists the columns, a name several
 * columns share gives their positions (aud_table_lookup). */
static int find_column(const aud_table *t, const char *name, aud_error *err)
{
    long j;
    return aud_table_lookup(t, name, NULL, &j, err) == AUD_OK ? (int)j : -1;
}

/* Is value v (text of a level, or a number) one of the coding's positive values? */
static int is_positive(const aud_outcome_coding *cd, const char *text, double num)
{
    for (size_t k = 0; k < cd->n_positive; k++) {
        if (text != NULL) {
            if (strcmp(text, cd->positive[k]) == 0)
                return 1;
        } else {
            char *end = NULL;
            double p = aud_strtod_c(cd->positive[k], &end);
            if (end != cd->positive[k] && *end == '\0' && p == num)
                return 1;
        }
    }
    return 0;
}

/* Distinct values of column c (levels, or numbers in order of appearance) with their counts:
 * *vals (numbers; NULL for text) and *counts, *n of them. */
static int distinct_values(const aud_table *t, const aud_column *c, double **vals,
                           size_t **counts, size_t *n, aud_error *err)
{
    size_t cap = c->type == AUD_COL_CATEGORICAL ? c->n_levels : 16;
    *vals = NULL;
    *n = 0;
    *counts = aud_calloc(cap + 1, sizeof **counts);
    if (*counts == NULL)
        return aud_error_nomem(err);
    if (c->type == AUD_COL_CATEGORICAL) {
        for (size_t i = 0; i < t->n_rows; i++)
            if (c->codes[i] >= 0)
                (*counts)[c->codes[i]]++;
        *n = c->n_levels;
        return AUD_OK;
    }
    *vals = aud_malloc((cap + 1) * sizeof **vals);
    if (*vals == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < t->n_rows; i++) {
        double v = c->num[i];
        if (isnan(v))
            continue;
        size_t k = 0;
        while (k < *n && (*vals)[k] != v)
            k++;
        if (k == *n) {
            if (*n == 64)
                continue;   /* a label has few values; the note names the first 64 */
            if (*n == cap) {
                double *nv = aud_realloc(*vals, (2 * cap + 1) * sizeof *nv);
                size_t *nc = aud_realloc(*counts, (2 * cap + 1) * sizeof *nc);
                if (nv != NULL)
                    *vals = nv;
                if (nc != NULL)
                    *counts = nc;
                if (nv == NULL || nc == NULL)
                    return aud_error_nomem(err);
                cap = 2 * cap + 1;
            }
            (*vals)[k] = v;
            (*counts)[k] = 0;
            (*n)++;
        }
        (*counts)[k]++;
    }
    return AUD_OK;
}

/* Append "VALUE" (N rows) to a list like aud_error_list_add does (cut with "..."). */
static void add_counted(char *buf, size_t size, size_t *len, const char *value, size_t count)
{
    if (*len + 7 > size)
        return;
    size_t room = size - *len - 6;
    int w = snprintf(buf + *len, room, "%s\"%s\" (%zu rows)", *len ? ", " : "", value, count);
    if (w < 0 || (size_t)w >= room) {
        strcpy(buf + *len, *len ? ", ..." : "...");
        *len = size;
        return;
    }
    *len += (size_t)w;
}

/* Map column c through the coding into out (1 / 0 / NaN for missing) and describe it. */
static int apply_coding(const aud_table *t, const char *name, const char *what,
                        const aud_column *c, aud_outcome_coding *cd, double *out, aud_error *err)
{
    double *vals = NULL;
    size_t *counts = NULL, n = 0;
    int rc = distinct_values(t, c, &vals, &counts, &n, err);
    char ones[300] = "", zeros[300] = "", unseen[200] = "";
    size_t l1 = 0, l0 = 0, lu = 0, n_one = 0;
    for (size_t k = 0; rc == AUD_OK && k < n; k++) {
        char num[32];
        const char *text = vals == NULL ? c->levels[k] : aud_fmt_double(vals[k], num);
        int pos = is_positive(cd, vals == NULL ? c->levels[k] : NULL, vals ? vals[k] : 0.0);
        add_counted(pos ? ones : zeros, sizeof ones, pos ? &l1 : &l0, text, counts[k]);
        n_one += (size_t)pos;
    }
    for (size_t p = 0; rc == AUD_OK && p < cd->n_positive; p++) {
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++)
            seen = is_positive(&(aud_outcome_coding){.positive = &cd->positive[p], .n_positive = 1},
                               vals == NULL ? c->levels[k] : NULL, vals ? vals[k] : 0.0);
        if (!seen)
            aud_error_list_add(unseen, sizeof unseen, &lu, cd->positive[p]);
    }
    if (rc == AUD_OK && n_one == 0) {
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                      "none of the %s values given as 1 (%s) occurs in the column; its values: "
                      "%s", what, unseen, zeros);
        rc = aud_error_field(err, name);
    }
    for (size_t i = 0; rc == AUD_OK && i < t->n_rows; i++) {
        if (c->type == AUD_COL_CATEGORICAL)
            out[i] = c->codes[i] < 0 ? NAN : is_positive(cd, c->levels[c->codes[i]], 0.0);
        else
            out[i] = isnan(c->num[i]) ? NAN : is_positive(cd, NULL, c->num[i]);
    }
    if (rc == AUD_OK) {
        int w = snprintf(cd->note, sizeof cd->note, "%s \"%s\": 1 = %s; 0 = %s%s%s%s", what,
                         name, ones, zeros[0] ? zeros : "(none)",
                         unseen[0] ? " (never seen: " : "", unseen, unseen[0] ? ")" : "");
        if (w >= (int)sizeof cd->note)   /* cut: end in "..." */
            strcpy(cd->note + sizeof cd->note - 4, "...");
    }
    aud_free(vals);
    aud_free(counts);
    return rc;
}

int aud_bind_column(const aud_table *t, const char *name, aud_bind_role role, double **out,
                    aud_error *err)
{
    return aud_bind_column_coded(t, name, role, NULL, out, err);
}

/* Rows [b, e) of a column: copied into out (when not NULL, mapped here: aud_malloc_slices), and
 * the first that is not 0 or 1 (nor missing, when allowed) into bad (SIZE_MAX: none) when
 * checked. A chunk of the rows, on a thread of its own. */
typedef struct outcome_job {
    const double *num;
    double       *out;
    size_t        b, e, bad;
    int           check, allow_missing;
} outcome_job;

static void *outcome_main(void *arg)
{
    outcome_job *j = arg;
    j->bad = SIZE_MAX;
    if (j->out != NULL && j->e > j->b) {
        aud_prefault(j->out + j->b, (j->e - j->b) * sizeof *j->out);
        memcpy(j->out + j->b, j->num + j->b, (j->e - j->b) * sizeof *j->out);
    }
    for (size_t i = j->b; j->check && i < j->e; i++) {
        double v = j->num[i];
        if (!(v == 0.0 || v == 1.0 || (j->allow_missing && isnan(v)))) {
            j->bad = i;
            break;
        }
    }
    return NULL;
}

/* num[0..n) copied into out (NULL: not copied) and, when check, its first row that is not 0 or 1
 * (nor missing, when allow_missing), in chunks on up to `threads` threads; SIZE_MAX: none. */
static size_t outcome_rows(const double *num, size_t n, double *out, int check,
                           int allow_missing, int threads)
{
    outcome_job jobs[AUD_MAX_CHUNKS];
    size_t k = aud_row_chunks(n, threads), bad = SIZE_MAX;
    for (size_t c = 0; c < k; c++)
        jobs[c] = (outcome_job){num, out, n * c / k, n * (c + 1) / k, SIZE_MAX, check,
                                allow_missing};
    aud_run_jobs(jobs, k, sizeof jobs[0], outcome_main);
    for (size_t c = 0; c < k && bad == SIZE_MAX; c++)   /* the first chunk's first, in order */
        bad = jobs[c].bad;
    return bad;
}

static const char *const role_name[] = {"label", "prediction", "score"};   /* by aud_bind_role */

/* The error of row i of a label or prediction column: missing, or not 0 or 1. */
static int outcome_error(const aud_table *t, const char *name, const char *what, size_t i,
                         double v, aud_error *err)
{
    char b[32], rb[64];
    aud_table_row_text(t, i, rb, sizeof rb);
    if (isnan(v))
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0, "%s: the %s is missing", rb, what);
    else
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0, "%s: the %s must be 0 or 1, got %s", rb,
                      what, aud_fmt_double(v, b));
    return aud_error_field(err, name);
}

/* The checked values of a label, prediction or score column: with a coding, a new array of 0/1
 * (*own = *view, the caller's); without, the table's own numbers (*view borrowed from t, *own
 * NULL) - no copy of a column the table already holds as numbers. */
static int bind_view(const aud_table *t, const char *name, aud_bind_role role,
                     aud_outcome_coding *coding, int check, const double **view, double **own,
                     aud_error *err)
{
    *view = NULL;
    *own = NULL;
    int j = find_column(t, name, err);
    if (j < 0)
        return err->code;
    if (coding != NULL && coding->n_positive > 0) {
        if (role == AUD_BIND_SCORE)
            return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                                 "positive values apply to a label or prediction, not a score");
        const aud_column *c = &t->cols[j];
        double *v = aud_malloc_rows((t->n_rows ? t->n_rows : 1) * sizeof *v);
        if (v == NULL)
            return aud_error_nomem(err);
        int rc = apply_coding(t, name, role_name[role], c, coding, v, err);
        for (size_t i = 0; rc == AUD_OK && role == AUD_BIND_PREDICTION && i < t->n_rows; i++)
            if (isnan(v[i])) {
                char rb[64];
                aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0, "%s: the prediction is missing",
                              aud_table_row_text(t, i, rb, sizeof rb));
                rc = aud_error_field(err, name);
            }
        if (rc != AUD_OK) {
            aud_free(v);
            return rc;
        }
        *view = *own = v;
        return AUD_OK;
    }
    const aud_column *c = &t->cols[j];
    if (c->type != AUD_COL_NUMERIC) {
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                      "the %s column must be numeric (%s), but it holds text such as \"%s\"",
                      role_name[role], role == AUD_BIND_SCORE ? "finite numbers" : "0 or 1",
                      c->n_levels > 0 ? c->levels[0] : "");
        return aud_error_field(err, name);
    }
    /* rows are named "data row R (CSV line L)", R 0-based (docs/spec-file.md "Row numbers") */
    if (check && role != AUD_BIND_SCORE) {
        size_t bad = outcome_rows(c->num, t->n_rows, NULL, 1, role == AUD_BIND_LABEL, 1);
        if (bad != SIZE_MAX)
            return outcome_error(t, name, role_name[role], bad, c->num[bad], err);
    }
    *view = c->num;
    return AUD_OK;
}

int aud_bind_column_on(const aud_table *t, const char *name, aud_bind_role role,
                       aud_outcome_coding *coding, int threads, double **out, aud_error *err)
{
    const double *view;
    *out = NULL;
    int rc = bind_view(t, name, role, coding, 0, &view, out, err);   /* checked below */
    if (rc != AUD_OK || *out != NULL)
        return rc;
    double *copy = aud_malloc_slices((t->n_rows ? t->n_rows : 1) * sizeof *copy);
    if (copy == NULL)
        return aud_error_nomem(err);
    size_t bad = outcome_rows(view, t->n_rows, copy, role != AUD_BIND_SCORE,
                              role == AUD_BIND_LABEL, threads);
    if (bad != SIZE_MAX) {
        aud_free(copy);
        return outcome_error(t, name, role_name[role], bad, view[bad], err);
    }
    *out = copy;
    return AUD_OK;
}

int aud_bind_column_coded(const aud_table *t, const char *name, aud_bind_role role,
                          aud_outcome_coding *coding, double **out, aud_error *err)
{
    return aud_bind_column_on(t, name, role, coding, 1, out, err);
}

int aud_bind_class_label(const aud_table *t, const char *name, size_t n_classes, double **out,
                         aud_error *err)
{
    *out = NULL;
    int j = find_column(t, name, err);
    if (j < 0)
        return err->code;
    const aud_column *c = &t->cols[j];
    if (c->type != AUD_COL_NUMERIC) {
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                      "the label column of a %zu-class model must hold class indices 0 to %zu, "
                      "but it holds text such as \"%s\"", n_classes, n_classes - 1,
                      c->n_levels > 0 ? c->levels[0] : "");
        return aud_error_field(err, name);
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        double v = c->num[i];
        if (isnan(v) || (v >= 0.0 && v < (double)n_classes && v == floor(v)))
            continue;
        char b[32];
        aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                      "data row %zu: the label of this %zu-class model must be a class index 0 "
                      "to %zu, got %s", i + 1, n_classes, n_classes - 1, aud_fmt_double(v, b));
        return aud_error_field(err, name);
    }
    double *copy = aud_malloc_rows((t->n_rows ? t->n_rows : 1) * sizeof *copy);
    if (copy == NULL)
        return aud_error_nomem(err);
    if (t->n_rows > 0)
        memcpy(copy, c->num, t->n_rows * sizeof *copy);
    *out = copy;
    return AUD_OK;
}

/* ---- sensitive attributes, references and intersections ------------------------------------ */

static int spells(const char *const *attrs, size_t n, const char *name, size_t next,
                  size_t parts)
{
    for (size_t i = next; i < n; i++) {
        size_t len = strlen(attrs[i]);
        if (strncmp(name, attrs[i], len) != 0)
            continue;
        if (name[len] == '\0' && parts >= 1)
            return 1;
        if (name[len] == '&' && spells(attrs, n, name + len + 1, i + 1, parts + 1))
            return 1;
    }
    return 0;
}

int aud_is_intersection(const char *const *attrs, size_t n, const char *name)
{
    return spells(attrs, n, name, 0, 0);
}

int aud_bind_check_edges(const double *edges, size_t n, const char *what, aud_error *err)
{
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1])))
            return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                                 "%s: band edges must be finite and increasing", what);
    }
    return n == 0 ? aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "%s: no band edges", what)
                  : AUD_OK;
}

int aud_parse_bins(const char *text, double **edges, size_t *n_edges, int *quantiles,
                        aud_error *err)
{
    *edges = NULL;
    *n_edges = 0;
    *quantiles = 0;
    if (strncmp(text, "quantile:", 9) == 0) {
        char *end = NULL;
        long k = strtol(text + 9, &end, 10);
        if (end == text + 9 || *end != '\0' || k < 2 || k > 100)
            return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                                 "bins: expected quantile:K with K from 2 to 100, got \"%s\"",
                                 text);
        *quantiles = (int)k;
        return AUD_OK;
    }
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    double *e = aud_malloc(n * sizeof *e);
    if (e == NULL)
        return aud_error_nomem(err);
    const char *p = text;
    for (size_t k = 0; k < n; k++) {
        char *end = NULL;
        e[k] = aud_strtod_c(p, &end);
        if (end == p || (*end != ',' && *end != '\0')) {
            aud_free(e);
            return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                                 "bins: expected numbers e1,e2,... or quantile:K, got \"%s\"",
                                 text);
        }
        p = end + (*end == ',');
    }
    int rc = aud_bind_check_edges(e, n, "bins", err);
    if (rc != AUD_OK) {
        aud_free(e);
        return rc;
    }
    *edges = e;
    *n_edges = n;
    return AUD_OK;
}

/* numpy.quantile(v, q) with method "linear" on sorted v[0..m) (numpy's _lerp, bit for bit). */
static double quantile_linear(const double *v, size_t m, double q)
{
    double pos = q * (double)(m - 1), lo = floor(pos), t = pos - lo;
    size_t i = (size_t)lo, j = i + 1 < m ? i + 1 : i;
    double a = v[i], d = v[j] - a;
    return t >= 0.5 ? v[j] - d * (1.0 - t) : a + d * t;
}

/* The band of each of x[b .. e) (-1 when missing) into codes: the number of edges <= x, counted
 * without a branch when the edges are few (a search's branches go either way on every row),
 * by binary search otherwise. A chunk of the rows, on a thread of its own. */
typedef struct band_job {
    const double *x, *edges;
    size_t        ne, b, e;
    int32_t      *codes;
} band_job;

static void *band_main(void *arg)
{
    const band_job *j = arg;
    aud_prefault(j->codes + j->b, (j->e - j->b) * sizeof *j->codes);   /* aud_malloc_slices */
    for (size_t i = j->b; i < j->e; i++) {
        double v = j->x[i];
        size_t lo = 0;
        if (j->ne <= 16) {
            for (size_t k = 0; k < j->ne; k++)
                lo += j->edges[k] <= v;
        } else {
            size_t hi = j->ne;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (j->edges[mid] <= v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        j->codes[i] = isnan(v) ? -1 : (int32_t)lo;
    }
    return NULL;
}

/* Bands of numeric column x (grouping g): own codes and labels, the rows in chunks on up to
 * `threads` threads. Quantile edges from the values radix-sorted (aud_drift_sort: O(n); qsort
 * took 0.1 s of serial time for 10^6 rows). */
static int make_bands(const aud_grouping *g, const double *x, size_t n, int threads,
                      int32_t **codes, char ***levels, size_t *n_levels, aud_error *err)
{
    double *edges = NULL, *sorted = NULL;
    size_t ne = 0;
    int rc = AUD_OK;
    if (g->quantiles > 1) {
        size_t m = 0;
        sorted = aud_malloc((n ? n : 1) * sizeof *sorted);
        edges = aud_malloc((size_t)g->quantiles * sizeof *edges);
        if (sorted == NULL || edges == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            if (!isnan(x[i]))
                sorted[m++] = x[i];
        if (aud_drift_sort(sorted, m) != AUD_OK) {
            rc = aud_error_nomem(err);
            goto done;
        }
        for (int k = 1; m > 0 && k < g->quantiles; k++) {
            double e = quantile_linear(sorted, m, (double)k / (double)g->quantiles);
            if (ne == 0 || e > edges[ne - 1])
                edges[ne++] = e;
        }
    } else {
        edges = aud_malloc((g->n_edges ? g->n_edges : 1) * sizeof *edges);
        if (edges == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        for (size_t k = 0; k < g->n_edges; k++)
            edges[ne++] = g->edges[k];
    }
    *n_levels = ne + 1;
    *levels = aud_calloc(ne + 1, sizeof **levels);
    *codes = aud_malloc_slices((n ? n : 1) * sizeof **codes);
    if (*levels == NULL || *codes == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t k = 0; k <= ne; k++) {
        char a[32], b[32], buf[80];
        if (ne == 0)
            snprintf(buf, sizeof buf, "all");
        else if (k == 0)
            snprintf(buf, sizeof buf, "<%s", aud_fmt_double(edges[0], a));
        else if (k == ne)
            snprintf(buf, sizeof buf, ">=%s", aud_fmt_double(edges[ne - 1], a));
        else
            snprintf(buf, sizeof buf, "%s-%s", aud_fmt_double(edges[k - 1], a),
                     aud_fmt_double(edges[k], b));
        if (((*levels)[k] = aud_strdup(buf)) == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    band_job bj[AUD_MAX_CHUNKS];
    size_t k = aud_row_chunks(n, threads);
    for (size_t c = 0; c < k; c++)
        bj[c] = (band_job){x, edges, ne, n * c / k, n * (c + 1) / k, *codes};
    aud_run_jobs(bj, k, sizeof bj[0], band_main);
done:
    aud_free(edges);
    aud_free(sorted);
    return rc;
}

/* Levels by name in natural order (aud_natural_cmp), for qsort. */
typedef struct named_level {
    const char *name;
    size_t      level;
} named_level;

static int cmp_named_level(const void *x, const void *y)
{
    return aud_natural_cmp(((const named_level *)x)->name, ((const named_level *)y)->name);
}

/* The groups of attribute `name` (codes, levels) reordered: order[0..n_order) first (the
 * spec's or --order's), the others after, in natural order when `natural` is set, else in
 * their order. When that changes nothing, *out_codes and *out_levels stay NULL; otherwise they
 * are owned by the caller. A listed group that does not exist is an error naming the groups
 * there are. */
/* codes[b .. e) through map into out (a missing value stays -1), a chunk of the rows. */
typedef struct recode_job {
    const int32_t *codes, *map;
    int32_t       *out;
    size_t         b, e;
} recode_job;

static void *recode_main(void *arg)
{
    recode_job *j = arg;
    aud_prefault(j->out + j->b, (j->e - j->b) * sizeof *j->out);   /* aud_malloc_slices */
    for (size_t i = j->b; i < j->e; i++)
        j->out[i] = j->codes[i] < 0 ? -1 : j->map[j->codes[i]];
    return NULL;
}

/* out[i] = map[codes[i]] for n rows, in chunks (aud_row_chunks) on up to `threads` threads. */
static void recode_rows(const int32_t *codes, const int32_t *map, int32_t *out, size_t n,
                        int threads)
{
    recode_job j[AUD_MAX_CHUNKS];
    size_t k = aud_row_chunks(n, threads);
    for (size_t c = 0; c < k; c++)
        j[c] = (recode_job){ codes, map, out, n * c / k, n * (c + 1) / k };
    aud_run_jobs(j, k, sizeof j[0], recode_main);
}

static int reorder_groups(const char *const *order, size_t n_order, int natural,
                          const char *name, const aud_table *t, const int32_t *codes,
                          const char *const *levels, size_t n_levels, int threads,
                          int32_t **out_codes, char ***out_levels, aud_error *err)
{
    *out_codes = NULL;
    *out_levels = NULL;
    int32_t *map = aud_malloc((n_levels ? n_levels : 1) * sizeof *map);
    named_level *rest = aud_malloc((n_levels ? n_levels : 1) * sizeof *rest);
    if (map == NULL || rest == NULL) {
        aud_free(map);
        aud_free(rest);
        return aud_error_nomem(err);
    }
    for (size_t l = 0; l < n_levels; l++)
        map[l] = -1;
    size_t next = 0;
    int rc = AUD_OK;
    for (size_t k = 0; k < n_order && rc == AUD_OK; k++) {
        size_t l = 0;
        while (l < n_levels && strcmp(levels[l], order[k]) != 0)
            l++;
        if (l == n_levels) {
            char list[300], hint[160] = "";
            size_t len = 0;
            list[0] = '\0';
            for (size_t q = 0; q < n_levels; q++) {
                aud_error_list_add(list, sizeof list, &len, levels[q]);
                if (hint[0] == '\0' && strcasecmp(levels[q], order[k]) == 0)
                    snprintf(hint, sizeof hint, "; did you mean \"%s\"?", levels[q]);
            }
            aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                          "order: \"%s\" is not a group of \"%s\" (its groups: %s%s)",
                          order[k], name, list, hint);
            rc = aud_error_field(err, name);
        } else if (map[l] < 0) {
            map[l] = (int32_t)next++;
        }
    }
    size_t n_rest = 0;
    for (size_t l = 0; l < n_levels && rc == AUD_OK; l++)
        if (map[l] < 0)
            rest[n_rest++] = (named_level){levels[l], l};
    if (natural && n_rest > 1)   /* qsort is not stable, but names are distinct */
        qsort(rest, n_rest, sizeof *rest, cmp_named_level);
    int same = rc == AUD_OK;
    for (size_t k = 0; k < n_rest; k++)
        map[rest[k].level] = (int32_t)next++;
    for (size_t l = 0; l < n_levels && same; l++)
        same = map[l] == (int32_t)l;
    if (rc == AUD_OK && !same) {
        *out_levels = aud_calloc(n_levels ? n_levels : 1, sizeof **out_levels);
        *out_codes = aud_malloc_slices((t->n_rows ? t->n_rows : 1) * sizeof **out_codes);
        if (*out_levels == NULL || *out_codes == NULL)
            rc = aud_error_nomem(err);
        for (size_t l = 0; l < n_levels && rc == AUD_OK; l++)
            if (((*out_levels)[map[l]] = aud_strdup(levels[l])) == NULL)
                rc = aud_error_nomem(err);
        if (rc == AUD_OK)
            recode_rows(codes, map, *out_codes, t->n_rows, threads);
        if (rc != AUD_OK) {
            if (*out_levels != NULL)
                aud_fair_levels_free(*out_levels, n_levels);
            aud_free(*out_codes);
            *out_codes = NULL;
            *out_levels = NULL;
        }
    }
    aud_free(map);
    aud_free(rest);
    return rc;
}

int aud_bind_attrs(aud_bound_attrs *b, const aud_table *t, const char *const *names, size_t n,
                   const aud_reference *refs, size_t n_refs, const aud_grouping *groups,
                   size_t n_groups, int threads, aud_error *err)
{
    memset(b, 0, sizeof *b);
    b->attrs = aud_calloc(n + 1, sizeof *b->attrs);
    b->own_codes = aud_calloc(n + 1, sizeof *b->own_codes);
    b->own_levels = aud_calloc(n + 1, sizeof *b->own_levels);
    b->own_n = aud_calloc(n + 1, sizeof *b->own_n);
    b->inter_ref_names = aud_calloc(n_refs + 1, sizeof *b->inter_ref_names);
    b->inter_ref_levels = aud_calloc(n_refs + 1, sizeof *b->inter_ref_levels);
    if (b->attrs == NULL || b->own_codes == NULL || b->own_levels == NULL || b->own_n == NULL ||
        b->inter_ref_names == NULL || b->inter_ref_levels == NULL)
        return aud_error_nomem(err);
    for (size_t a = 0; a < n; a++) {
        for (size_t k = 0; k < a; k++)
            if (strcmp(names[k], names[a]) == 0) {
                aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                              "sensitive column \"%s\" is given twice", names[a]);
                return aud_error_field(err, names[a]);
            }
        int j = find_column(t, names[a], err);
        if (j < 0)
            return err->code;
        const aud_column *col = &t->cols[j];
        aud_fair_attr *at = &b->attrs[a];
        at->name = names[a];
        const aud_grouping *g = NULL;
        for (size_t k = 0; k < n_groups; k++)
            if (strcmp(groups[k].attribute, names[a]) == 0)
                g = &groups[k];
        int banded = g != NULL && (g->n_edges > 0 || g->quantiles > 1);
        if (banded && col->type != AUD_COL_NUMERIC) {
            aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                          "bins: column \"%s\" is not numeric (it holds text such as \"%s\")",
                          names[a], col->n_levels > 0 ? col->levels[0] : "");
            return aud_error_field(err, names[a]);
        }
        b->n_attrs = a + 1;   /* from here on, aud_bound_attrs_free frees its storage */
        if (banded) {
            int rc = make_bands(g, col->num, t->n_rows, threads, &b->own_codes[a],
                                &b->own_levels[a], &b->own_n[a], err);
            if (rc != AUD_OK)
                return rc;
            at->codes = b->own_codes[a];
            at->n_levels = b->own_n[a];
            at->levels = (const char *const *)b->own_levels[a];
        } else if (col->type == AUD_COL_CATEGORICAL) {
            at->codes = col->codes;
            at->n_levels = col->n_levels;
            at->levels = (const char *const *)col->levels;
        } else {
            int rc = aud_fair_codes_from_numeric(col->num, t->n_rows, &b->own_codes[a],
                                                 &b->own_levels[a], &b->own_n[a], err);
            if (rc != AUD_OK)
                return rc;
            at->codes = b->own_codes[a];
            at->n_levels = b->own_n[a];
            at->levels = (const char *const *)b->own_levels[a];
        }
        /* One group order for results.json, the CLI and both reports (issue 14 item 8): the
         * groups given by "order" / --order first, the others in natural order (text; bands and
         * numeric values are made in order already) */
        int given = g != NULL && g->n_order > 0, text = !banded && col->type == AUD_COL_CATEGORICAL;
        at->group_order = given ? "given" : banded ? "bins" : text ? "natural" : "values";
        if (given || text) {
            int32_t *codes = NULL;
            char **levels = NULL;
            int rc = reorder_groups(given ? g->order : NULL, given ? g->n_order : 0, text, names[a],
                                    t, at->codes, at->levels, at->n_levels, threads, &codes,
                                    &levels, err);
            if (rc != AUD_OK)
                return rc;
            if (codes != NULL) {
                size_t nl = at->n_levels;
                if (b->own_codes[a] != NULL) {
                    aud_free(b->own_codes[a]);
                    aud_fair_levels_free(b->own_levels[a], b->own_n[a]);
                }
                b->own_codes[a] = codes;
                b->own_levels[a] = levels;
                b->own_n[a] = nl;
                at->codes = codes;
                at->levels = (const char *const *)levels;
            }
        }
    }
    for (size_t r = 0; r < n_refs; r++) {
        int found = 0;
        for (size_t a = 0; a < n; a++) {
            if (strcmp(b->attrs[a].name, refs[r].attribute) == 0) {
                b->attrs[a].reference = refs[r].group;
                found = 1;
            }
        }
        if (!found && strchr(refs[r].attribute, '&') != NULL) {
            b->inter_ref_names[b->n_inter_refs] = refs[r].attribute;
            b->inter_ref_levels[b->n_inter_refs] = refs[r].group;
            b->n_inter_refs++;
            found = 1;
        }
        if (!found) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "reference: \"%s\" is not one of the sensitive columns",
                          refs[r].attribute);
            return aud_error_field(err, refs[r].attribute);
        }
    }
    return AUD_OK;
}

/* A chunk of aud_bind_group_rows' rows [b, e): first its counts per group into slot[], then,
 * with slot[g] turned into the chunk's first place in group g, its rows placed. */
typedef struct group_rows_job {
    const int32_t *codes;
    size_t         n_levels, b, e;
    size_t        *slot;
    size_t        *ord;
    int            place;
} group_rows_job;

static void *group_rows_main(void *arg)
{
    group_rows_job *j = arg;
    for (size_t i = j->b; i < j->e; i++) {
        int32_t g = j->codes[i];
        if (g < 0 || (size_t)g >= j->n_levels)
            continue;
        if (j->place)
            j->ord[j->slot[g]++] = i;
        else
            j->slot[g]++;
    }
    return NULL;
}

int aud_bind_group_rows(const int32_t *codes, size_t n, size_t n_levels, int threads,
                        size_t **start, size_t **order, aud_error *err)
{
    /* chunks: as many as threads, but no more than the rows over 16 x the groups (each chunk
     * has a counter per group) */
    size_t k = aud_row_chunks(n, threads), kmax = n / (16 * (n_levels ? n_levels : 1));
    k = k < kmax ? k : kmax > 0 ? kmax : 1;
    size_t *st = aud_calloc(n_levels + 2, sizeof *st);
    size_t *ord = aud_malloc((n ? n : 1) * sizeof *ord);
    size_t *slot = aud_calloc(k * (n_levels ? n_levels : 1), sizeof *slot);
    if (st == NULL || ord == NULL || slot == NULL) {
        aud_free(st);
        aud_free(ord);
        aud_free(slot);
        return aud_error_nomem(err);
    }
    group_rows_job jobs[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < k; c++)
        jobs[c] = (group_rows_job){codes, n_levels, n * c / k, n * (c + 1) / k,
                                   slot + c * n_levels, ord, 0};
    aud_run_jobs(jobs, k, sizeof jobs[0], group_rows_main);
    /* st[g] = first place of group g (groups in order), st[n_levels] = st[n_levels + 1] = rows
     * placed; each chunk's first place in a group follows the chunks before it */
    size_t pos = 0;
    for (size_t g = 0; g < n_levels; g++) {
        st[g] = pos;
        for (size_t c = 0; c < k; c++) {
            size_t cnt = slot[c * n_levels + g];
            slot[c * n_levels + g] = pos;
            pos += cnt;
        }
    }
    st[n_levels] = st[n_levels + 1] = pos;
    for (size_t c = 0; c < k; c++)
        jobs[c].place = 1;
    aud_run_jobs(jobs, k, sizeof jobs[0], group_rows_main);
    aud_free(slot);
    *start = st;
    *order = ord;
    return AUD_OK;
}

void aud_bound_attrs_free(aud_bound_attrs *b)
{
    for (size_t a = 0; a < b->n_attrs && b->own_codes != NULL; a++) {
        aud_free(b->own_codes[a]);
        if (b->own_levels[a] != NULL)
            aud_fair_levels_free(b->own_levels[a], b->own_n[a]);
    }
    aud_free(b->own_codes);
    aud_free(b->own_levels);
    aud_free(b->own_n);
    aud_free(b->attrs);
    aud_free(b->inter_ref_names);
    aud_free(b->inter_ref_levels);
    memset(b, 0, sizeof *b);
}

int aud_bind_fairness(aud_fair_result **out, const aud_bind_fair_request *rq,
                      const aud_fair_opts *opts, aud_bound_attrs *attrs_out, aud_error *err)
{
    aud_bound_attrs b;
    aud_fair_result *res = NULL;
    *out = NULL;
    int rc = aud_bind_attrs(&b, rq->data, rq->sensitive, rq->n_sensitive, rq->refs, rq->n_refs,
                            rq->groups, rq->n_groups, opts->threads, err);
    /* an intersection reference must name an intersection that is computed */
    for (size_t r = 0; rc == AUD_OK && r < b.n_inter_refs; r++) {
        if (!opts->intersections ||
            !aud_is_intersection(rq->sensitive, rq->n_sensitive, b.inter_ref_names[r])) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "reference: \"%s\" is not an intersection of the sensitive columns "
                          "(name them in their order, joined by '&')", b.inter_ref_names[r]);
            rc = aud_error_field(err, b.inter_ref_names[r]);
        }
    }
    if (rc == AUD_OK) {
        aud_fair_input in;
        memset(&in, 0, sizeof in);
        in.n_rows = rq->data->n_rows;
        in.label = rq->label;
        in.prediction = rq->prediction;
        in.score = rq->prediction == NULL ? rq->score : NULL;
        in.attrs = b.attrs;
        in.n_attrs = b.n_attrs;
        in.label_name = rq->label_name;
        in.prediction_name = rq->prediction_name;
        in.score_name = rq->score_name;
        in.source = rq->data->path;
        in.table = rq->data;
        in.inter_ref_names = b.inter_ref_names;
        in.inter_ref_levels = b.inter_ref_levels;
        in.n_inter_refs = b.n_inter_refs;
        rc = aud_fair_compute(&res, &in, opts, err);
    }
    if (attrs_out != NULL)
        *attrs_out = b;   /* the caller's now, whatever rc */
    else
        aud_bound_attrs_free(&b);
    if (rc != AUD_OK) {
        aud_fair_result_free(res);
        return rc;
    }
    *out = res;
    return AUD_OK;
}

/* ---- drift columns ------------------------------------------------------------------------- */

int aud_bind_drift_columns(aud_bound_drift *b, const aud_table *ref, const char *const *given,
                           size_t n_given, const char *const *exclude, size_t n_exclude,
                           const aud_drift_choice *choices, size_t n_choices,
                           const char *choice_field, aud_error *err)
{
    memset(b, 0, sizeof *b);
    size_t cap = given != NULL ? n_given : ref->n_cols;
    b->cols = aud_calloc(cap + 1, sizeof *b->cols);
    b->ovr = aud_calloc(cap + 1, sizeof *b->ovr);
    if (b->cols == NULL || b->ovr == NULL)
        return aud_error_nomem(err);
    for (size_t j = 0; j < cap; j++) {
        const char *name = given != NULL ? given[j] : ref->cols[j].name;
        /* columns sharing a name are kept apart: left out by default, an error when named */
        int skip = given == NULL && ref->cols[j].n_same > 0;
        for (size_t k = 0; given == NULL && k < n_exclude; k++)
            skip |= exclude[k] != NULL && strcmp(exclude[k], name) == 0;
        if (skip)
            continue;
        b->cols[b->n] = name;
        b->ovr[b->n].method = AUD_DRIFT_AUTO;
        b->ovr[b->n].threshold = NAN;
        b->n++;
    }
    for (size_t i = 0; i < n_choices; i++) {
        size_t j = 0;
        while (j < b->n && strcmp(b->cols[j], choices[i].column) != 0)
            j++;
        if (j == b->n) {
            aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                          "column \"%s\" is not among the columns compared for drift",
                          choices[i].column);
            return choice_field != NULL ? aud_error_field(err, choice_field) : err->code;
        }
        if (choices[i].method != AUD_DRIFT_AUTO)
            b->ovr[j].method = choices[i].method;
        if (!isnan(choices[i].threshold))
            b->ovr[j].threshold = choices[i].threshold;
    }
    return AUD_OK;
}

void aud_bound_drift_free(aud_bound_drift *b)
{
    aud_free(b->cols);
    aud_free(b->ovr);
    memset(b, 0, sizeof *b);
}

/* ---- the public calls (audit/audit.h) ------------------------------------------------------ */

int aud_predict(const aud_model *m, const char *model_path, const aud_table *t, int raw,
                int threads, double **out, size_t *n_cols, int *by_position, aud_error *err)
{
    aud_binding b;
    *out = NULL;
    *n_cols = 0;
    int rc = aud_bind_model(&b, m, model_path, t, err);
    if (by_position != NULL)
        *by_position = b.by_position;
    if (rc == AUD_OK)
        rc = aud_bind_predict(&b, raw, threads, out, n_cols, err);
    aud_binding_free(&b);
    return rc;
}

int aud_explain_prepare(aud_explain_input *in, const aud_explain_request *rq, aud_error *err)
{
    const aud_model *m = rq->model;
    size_t M = aud_model_features(m), n = rq->row_end - rq->row_begin;
    aud_binding b, bgb;
    memset(in, 0, sizeof *in);
    memset(&bgb, 0, sizeof bgb);
    in->opts = rq->opts;
    in->opts.method = aud_shap_method_resolve(rq->opts.method, m);
    int rc = aud_bind_model(&b, m, rq->model_path, rq->data, err);
    in->by_position = b.by_position;
    if (rc == AUD_OK) {
        in->n_rows = n;
        in->X = aud_calloc(n * M + 1, sizeof *in->X);
        if (in->X == NULL)
            rc = aud_error_nomem(err);
    }
    /* a model that refuses missing values: name the file and row before any work */
    if (rc == AUD_OK)
        rc = aud_bind_check_missing(&b, rq->row_begin, rq->row_end, err);
    if (rc == AUD_OK)
        aud_bind_fill_rows(&b, rq->row_begin, rq->row_end, in->X);
    const aud_binding *src = &b;
    if (rc == AUD_OK && !aud_shap_method_uses_background(in->opts.method)) {
        in->background_unused = rq->background != NULL;
    } else if (rc == AUD_OK && rq->background != NULL) {
        rc = aud_bind_model(&bgb, m, rq->model_path, rq->background, err);
        if (rc == AUD_OK && rq->background->n_rows == 0)
            rc = aud_error_set(err, AUD_E_SCHEMA, rq->background->path, 0, 0,
                               "the background file has no data rows; give at least one row "
                               "(or leave out --background to sample --data)");
        src = &bgb;
    } else if (rc == AUD_OK && rq->data->n_rows == 0) {
        rc = aud_error_set(err, AUD_E_SCHEMA, rq->data->path, 0, 0,
                           "the data has no rows to sample a background from; give --background");
    }
    if (rc == AUD_OK && aud_shap_method_uses_background(in->opts.method)) {
        rc = aud_bind_check_missing(src, 0, src->table->n_rows, err);
        if (rc == AUD_OK)
            rc = aud_bind_sample_rows(src, rq->background_rows, in->opts.seed, &in->background,
                                      &in->n_background, err);
        in->opts.background = in->background;
        in->opts.n_background = in->n_background;
    }
    if (rc == AUD_OK)
        rc = aud_shap_check(m, &in->opts, err);
    aud_binding_free(&b);
    aud_binding_free(&bgb);
    return rc;
}

void aud_explain_input_free(aud_explain_input *in)
{
    aud_free(in->X);
    aud_free(in->background);
    memset(in, 0, sizeof *in);
}

int aud_fairness(aud_fair_result **out, const aud_fairness_request *rq,
                 const aud_fair_opts *opts, int *by_position, aud_error *err)
{
    return aud_fairness_scored(out, rq, opts, by_position, NULL, NULL, err);
}

int aud_fairness_scored(aud_fair_result **out, const aud_fairness_request *rq,
                        const aud_fair_opts *opts, int *by_position, aud_fair_arrays *arrays,
                        aud_bound_attrs *attrs_out, aud_error *err)
{
    const aud_table *t = rq->data;
    const double *label = NULL, *prediction = NULL, *score = NULL;
    double *own_label = NULL, *own_prediction = NULL, *own_score = NULL;
    aud_binding b;
    memset(&b, 0, sizeof b);
    *out = NULL;
    if (arrays != NULL)
        memset(arrays, 0, sizeof *arrays);
    if (attrs_out != NULL)
        memset(attrs_out, 0, sizeof *attrs_out);
    if (by_position != NULL)
        *by_position = 0;
    if ((rq->prediction != NULL) + (rq->score != NULL) + (rq->model != NULL) != 1)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "give exactly one of a prediction column, a score column and a "
                             "model");
    int rc = AUD_OK;
    if ((rq->label_coding != NULL && rq->label_coding->n_positive > 0 && rq->label == NULL) ||
        (rq->prediction_coding != NULL && rq->prediction_coding->n_positive > 0 &&
         rq->prediction == NULL))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "positive values are given for a %s column that is not",
                             rq->label == NULL ? "label" : "prediction");
    /* label, prediction and score columns are read in place (bind_view): the table outlives
     * every use of them here and in the caller. Their values are not checked here:
     * aud_fair_compute checks every label, prediction and score, on the threads, with the
     * same messages */
    if (rq->label != NULL)
        rc = bind_view(t, rq->label, AUD_BIND_LABEL, rq->label_coding, 0, &label, &own_label,
                       err);
    if (rc == AUD_OK && rq->prediction != NULL)
        rc = bind_view(t, rq->prediction, AUD_BIND_PREDICTION, rq->prediction_coding, 0,
                       &prediction, &own_prediction, err);
    if (rc == AUD_OK && rq->score != NULL)
        rc = bind_view(t, rq->score, AUD_BIND_SCORE, NULL, 0, &score, &own_score, err);
    if (rc == AUD_OK && rq->model != NULL) {
        rc = aud_bind_model(&b, rq->model, rq->model_path, t, err);
        if (by_position != NULL)
            *by_position = b.by_position;
        if (rc == AUD_OK)
            rc = aud_bind_model_output(&b, opts->threads, "fairness", &own_score, err);
        score = own_score;
    }
    if (rc == AUD_OK) {
        aud_bind_fair_request fr = {
            .data = t, .sensitive = rq->sensitive, .n_sensitive = rq->n_sensitive,
            .refs = rq->refs, .n_refs = rq->n_refs, .groups = rq->groups,
            .n_groups = rq->n_groups,
            .label = label, .prediction = prediction, .score = score,
            .label_name = rq->label, .prediction_name = rq->prediction,
            .score_name = rq->score != NULL ? rq->score : "model score",
        };
        rc = aud_bind_fairness(out, &fr, opts, attrs_out, err);
    }
    aud_binding_free(&b);
    if (rc == AUD_OK && arrays != NULL && prediction == NULL) {   /* the caller's now */
        arrays->score = score;
        arrays->own_score = own_score;
        own_score = NULL;
    }
    if (rc == AUD_OK && arrays != NULL) {
        arrays->label = label;
        arrays->own_label = own_label;
        own_label = NULL;
    }
    aud_free(own_label);
    aud_free(own_prediction);
    aud_free(own_score);
    return rc;
}

void aud_fair_arrays_free(aud_fair_arrays *a)
{
    aud_free(a->own_score);
    aud_free(a->own_label);
    memset(a, 0, sizeof *a);
}

int aud_drift(aud_drift_result **out, const aud_table *ref, const aud_table *cur,
              const char *const *columns, size_t n_columns, const aud_drift_choice *choices,
              size_t n_choices, const aud_drift_opts *opts, aud_error *err)
{
    return aud_drift_ref(out, ref, NULL, cur, columns, n_columns, choices, n_choices, opts, err);
}

int aud_drift_ref(aud_drift_result **out, const aud_table *ref,
                  const aud_drift_refsum *const *refsums, const aud_table *cur,
                  const char *const *columns, size_t n_columns, const aud_drift_choice *choices,
                  size_t n_choices, const aud_drift_opts *opts, aud_error *err)
{
    aud_bound_drift bd;
    *out = NULL;
    int rc = aud_bind_drift_columns(&bd, ref, columns, n_columns, NULL, 0, choices, n_choices,
                                    NULL, err);
    if (rc == AUD_OK)
        rc = aud_drift_tables_ref(out, ref, refsums, cur, bd.cols, bd.ovr, bd.n, opts, err);
    aud_bound_drift_free(&bd);
    return rc;
}
