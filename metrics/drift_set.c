/* drift_set.c - drift over a set of columns: column-parallel computation (aud_run_units: each
 * thread takes the next untaken columns, so a slow column or a slower core holds back no
 * other; with fewer columns than threads, each column's sorts and statistics run on threads of
 * their own too), inputs from two CSV tables (columns by name, categories by level text), and the
 * "drift" JSON object of SPEC section 5. */
#include "metrics/drift.h"
#include "metrics/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"

void aud_drift_result_free(aud_drift_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_cols; i++)
        aud_drift_column_clear(&r->cols[i]);
    aud_free(r->cols);
    aud_free(r);
}

typedef struct drift_ctx {
    const aud_drift_input *in;
    aud_drift_column      *cols;
    const aud_drift_opts  *opts;
    int                    split;   /* fewer columns than threads: see aud_drift_ws.split */
    int                    split16; /* fewer columns than 16 (for the bound of --verbose) */
} drift_ctx;

static int one_column(aud_drift_column *col, const aud_drift_input *in,
                      const aud_drift_opts *opts, aud_drift_ws *ws, aud_error *err)
{
    if (in->error != NULL) {
        col->kind = in->kind;
        col->name = aud_strdup(in->name ? in->name : "");
        if (col->name == NULL)
            return aud_error_nomem(err);
        col->status = AUD_E_SCHEMA;
        snprintf(col->msg, sizeof col->msg, "%s", in->error);
        return AUD_OK;
    }
    if (in->kind == AUD_DRIFT_NUMERIC)
        return aud_drift_column_numeric_ws(col, in->name, in->ref, in->n_ref, in->cur,
                                           in->n_cur, opts, &in->ovr, in->refsum, ws, err);
    return aud_drift_column_categorical(col, in->name, in->levels, in->ref_counts,
                                        in->cur_counts, in->k, in->missing_ref, in->missing_cur,
                                        opts, &in->ovr, err);
}

static void *ws_new(void *ctx)
{
    const drift_ctx *c = ctx;
    aud_drift_ws *ws = aud_calloc(1, sizeof *ws);
    if (ws != NULL) {
        ws->split = c->split;
        ws->split16 = c->split16;
    }
    return ws;
}

static void ws_free(void *ws)
{
    if (ws != NULL)
        aud_drift_ws_free(ws);
    aud_free(ws);
}

/* aud_units.run: the columns [b, e), stopping at the first that fails */
static int columns_run(void *ctx, void *ws, size_t b, size_t e, aud_error *err)
{
    const drift_ctx *c = ctx;
    int rc = AUD_OK;
    for (size_t i = b; i < e && rc == AUD_OK; i++)
        rc = one_column(&c->cols[i], &c->in[i], c->opts, ws, err);
    return rc;
}

int aud_drift_compute(aud_drift_result **out, const aud_drift_input *in, size_t n,
                      const aud_drift_opts *opts, aud_error *err)
{
    aud_drift_opts dflt;
    if (opts == NULL) {
        aud_drift_opts_default(&dflt);
        opts = &dflt;
    }
    if (opts->psi_bins < 1 || opts->psi_bins > 1000)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "psi bins must be 1..1000, got %d",
                             opts->psi_bins);
    if (!(opts->drift_share >= 0.0 && opts->drift_share <= 1.0))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "drift share must be in [0, 1]");
    aud_drift_result *r = aud_calloc(1, sizeof *r);
    if (r == NULL)
        return aud_error_nomem(err);
    r->cols = aud_calloc(n ? n : 1, sizeof *r->cols);
    if (r->cols == NULL) {
        aud_free(r);
        return aud_error_nomem(err);
    }
    r->n_cols = n;
    for (size_t i = 0; i < n; i++)
        aud_drift_column_init(&r->cols[i]);
    /* the error of the lowest failing column, so the report does not depend on timing */
    int threads = opts->threads > 0 ? opts->threads : aud_ncpu();
    /* with fewer columns than threads, a column alone would leave threads idle: its two sorts
     * and its statistics then take threads of their own (drift_column.c) */
    drift_ctx c = {in, r->cols, opts, n < (size_t)threads, n < 16};
    aud_units units = {ws_new, ws_free, columns_run, &c, 1, NULL, NULL};
    int rc = aud_run_units(&units, n, threads, err);
    if (rc != AUD_OK)
        goto done;
    r->share_threshold = opts->drift_share;
    r->psi_binning = opts->psi_binning;
    for (size_t i = 0; i < n; i++) {
        if (r->cols[i].status != AUD_OK) {
            r->n_errors++;
            continue;
        }
        r->n_tested++;
        if (r->cols[i].drifted == 1)
            r->n_drifted++;
    }
    r->drift_share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : NAN;
    r->dataset_drift = r->n_tested > 0 && r->drift_share >= opts->drift_share;
    *out = r;
    r = NULL;
done:
    aud_drift_result_free(r);
    return rc;
}

/* ---- inputs from two tables -------------------------------------------------------------- */

typedef struct lvl_ref {
    const char *s;
    size_t      idx;
} lvl_ref;

static int lvl_cmp(const void *a, const void *b)
{
    const lvl_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Category table of a categorical column pair: reference levels in their order, then levels
 * that only the current file has, in its order. Allocates levels/counts into in. */
static int cat_counts(aud_drift_input *in, const aud_column *rc, size_t rrows,
                      const aud_column *cc, size_t crows)
{
    size_t nl = rc->n_levels;
    lvl_ref *sorted = aud_malloc((nl ? nl : 1) * sizeof *sorted);
    size_t *map = aud_malloc((cc->n_levels ? cc->n_levels : 1) * sizeof *map);
    const char **levels = aud_malloc((nl + cc->n_levels + 1) * sizeof *levels);
    double *rcnt = aud_calloc(nl + cc->n_levels + 1, sizeof *rcnt);
    double *ccnt = aud_calloc(nl + cc->n_levels + 1, sizeof *ccnt);
    if (sorted == NULL || map == NULL || levels == NULL || rcnt == NULL || ccnt == NULL) {
        aud_free(sorted);
        aud_free(map);
        aud_free(levels);
        aud_free(rcnt);
        aud_free(ccnt);
        return AUD_E_NOMEM;
    }
    for (size_t i = 0; i < nl; i++) {
        sorted[i] = (lvl_ref){rc->levels[i], i};
        levels[i] = rc->levels[i];
    }
    qsort(sorted, nl, sizeof *sorted, lvl_cmp);
    size_t k = nl;
    for (size_t i = 0; i < cc->n_levels; i++) {
        lvl_ref key = {cc->levels[i], 0};
        size_t lo = 0, hi = nl;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(sorted[mid].s, key.s) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < nl && strcmp(sorted[lo].s, key.s) == 0) {
            map[i] = sorted[lo].idx;
        } else {
            map[i] = k;
            levels[k++] = cc->levels[i];
        }
    }
    size_t mr = 0, mc = 0;
    for (size_t r = 0; r < rrows; r++) {
        int32_t c = rc->codes[r];
        if (c < 0 || (size_t)c >= nl)
            mr++;
        else
            rcnt[c] += 1.0;
    }
    for (size_t r = 0; r < crows; r++) {
        int32_t c = cc->codes[r];
        if (c < 0 || (size_t)c >= cc->n_levels)
            mc++;
        else
            ccnt[map[c]] += 1.0;
    }
    aud_free(sorted);
    aud_free(map);
    in->levels = levels;
    in->ref_counts = rcnt;
    in->cur_counts = ccnt;
    in->k = k;
    in->missing_ref = mr;
    in->missing_cur = mc;
    return AUD_OK;
}

static void inputs_free(aud_drift_input *in, size_t n)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        aud_free((void *)in[i].levels);
        aud_free((void *)in[i].ref_counts);
        aud_free((void *)in[i].cur_counts);
    }
    aud_free(in);
}

static const char *base_name(const aud_table *t, const char *dflt)
{
    return t->path && t->path[0] ? t->path : dflt;
}

int aud_drift_tables(aud_drift_result **out, const aud_table *ref, const aud_table *cur,
                     const char *const *columns, const aud_drift_override *overrides,
                     size_t n_columns, const aud_drift_opts *opts, aud_error *err)
{
    return aud_drift_tables_ref(out, ref, NULL, cur, columns, overrides, n_columns, opts, err);
}

int aud_drift_tables_ref(aud_drift_result **out, const aud_table *ref,
                         const aud_drift_refsum *const *refsums, const aud_table *cur,
                         const char *const *columns, const aud_drift_override *overrides,
                         size_t n_columns, const aud_drift_opts *opts, aud_error *err)
{
    size_t n = columns ? n_columns : ref->n_cols;
    aud_drift_input *in = aud_calloc(n ? n : 1, sizeof *in);
    if (in == NULL)
        return aud_error_nomem(err);
    int rc = AUD_OK;
    static const char mismatch_rc[] = "numeric in the reference data but categorical in the "
                                      "current data";
    static const char mismatch_cr[] = "categorical in the reference data but numeric in the "
                                      "current data";
    static const char empty_ref[] = "no non-missing values in the reference data";
    static const char empty_cur[] = "no non-missing values in the current data";
    for (size_t i = 0; i < n; i++) {
        const char *name = columns ? columns[i] : ref->cols[i].name;
        long ri = aud_table_find(ref, name), ci = aud_table_find(cur, name);
        if (ri == -2 || ci == -2) {
            rc = aud_table_lookup(ri == -2 ? ref : cur, name, NULL, &ri, err);
            goto done;
        }
        if (ri < 0 || ci < 0) {
            const aud_table *t = ri < 0 ? ref : cur;
            rc = aud_error_set(err, AUD_E_SCHEMA, base_name(t, ri < 0 ? "reference" : "current"),
                               1, 0, "no column \"%s\" in the %s data", name,
                               ri < 0 ? "reference" : "current");
            aud_error_field(err, name);
            goto done;
        }
        const aud_column *rcol = &ref->cols[ri], *ccol = &cur->cols[ci];
        aud_drift_input *p = &in[i];
        p->name = name;
        p->ovr.method = AUD_DRIFT_AUTO;
        p->ovr.threshold = NAN;
        if (overrides)
            p->ovr = overrides[i];
        p->kind = rcol->type == AUD_COL_NUMERIC ? AUD_DRIFT_NUMERIC : AUD_DRIFT_CATEGORICAL;
        if (rcol->type != ccol->type) {
            if (rcol->n_missing == ref->n_rows) {
                p->error = empty_ref;
                p->kind = ccol->type == AUD_COL_NUMERIC ? AUD_DRIFT_NUMERIC
                                                        : AUD_DRIFT_CATEGORICAL;
            } else if (ccol->n_missing == cur->n_rows) {
                p->error = empty_cur;
            }
            else
                p->error = rcol->type == AUD_COL_NUMERIC ? mismatch_rc : mismatch_cr;
            continue;
        }
        if (rcol->type == AUD_COL_NUMERIC) {
            p->ref = rcol->num;
            p->n_ref = ref->n_rows;
            p->cur = ccol->num;
            p->n_cur = cur->n_rows;
            p->refsum = refsums != NULL ? refsums[ri] : NULL;
        } else if (cat_counts(p, rcol, ref->n_rows, ccol, cur->n_rows) != AUD_OK) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    rc = aud_drift_compute(out, in, n, opts, err);
    if (rc == AUD_OK) {
        (*out)->has_rows = 1;
        (*out)->rows_reference = ref->n_rows;
        (*out)->rows_current = cur->n_rows;
    }
done:
    inputs_free(in, n);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------- */

static int add_test(cJSON *obj, const char *key, const aud_drift_test *t, int with_dof)
{
    cJSON *o = cJSON_AddObjectToObject(obj, key);
    if (o == NULL || aud_json_add_num(o, "statistic", t->statistic) != 0)
        return -1;
    if (with_dof && t->reason == NULL && !cJSON_AddNumberToObject(o, "dof", (double)t->dof))
        return -1;
    if (aud_json_add_num(o, "p_value", t->p_value) != 0)
        return -1;
    if (t->mode && !cJSON_AddStringToObject(o, "mode", t->mode))
        return -1;
    if (t->reason && !cJSON_AddStringToObject(o, "reason", t->reason))
        return -1;
    return 0;
}

static int add_array(cJSON *obj, const char *key, const double *v, size_t n)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    if (a == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cJSON *x = aud_json_num(v[i]);
        if (x == NULL || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            return -1;
        }
    }
    return 0;
}

static int add_bins(cJSON *obj, const char *key, const aud_drift_bins *b)
{
    cJSON *o = cJSON_AddObjectToObject(obj, key);
    if (o == NULL || !cJSON_AddStringToObject(o, "binning", b->kind))
        return -1;
    if (b->edges) {
        if (add_array(o, "edges", b->edges, b->n_bins + 1) != 0)
            return -1;
        if (!cJSON_AddBoolToObject(o, "open_ends", b->open_ends))
            return -1;
    }
    if (b->values && add_array(o, "values", b->values, b->n_bins) != 0)
        return -1;
    if (add_array(o, "reference", b->ref, b->n_bins) != 0 ||
        add_array(o, "current", b->cur, b->n_bins) != 0)
        return -1;
    return 0;
}

static double share(size_t a, size_t n)
{
    return n ? (double)a / (double)n : NAN;
}

/* "reference_summary" of a numeric column whose reference came from a saved profile: which
 * figures are exact and the bound of the others (SPEC section 8, docs/drift.md). */
static int summary_fill(cJSON *o, const aud_drift_column *c)
{
    cJSON *s = cJSON_AddObjectToObject(o, "reference_summary");
    cJSON *b = s ? cJSON_CreateObject() : NULL;
    if (b == NULL || !cJSON_AddItemToObject(s, "bounds", b))
        return cJSON_Delete(b), -1;
    if (!cJSON_AddBoolToObject(s, "exact", c->summary_exact) ||
        !cJSON_AddBoolToObject(s, "psi_exact", c->psi_exact) ||
        !cJSON_AddBoolToObject(s, "js_bins_snapped", c->js_snapped) ||
        !cJSON_AddBoolToObject(s, "n_unique_is_lower_bound", !c->summary_exact) ||
        aud_json_add_num(b, "ks_statistic", c->bound_ks) ||
        aud_json_add_num(b, "wasserstein", c->bound_wasserstein) ||
        aud_json_add_num(b, "wasserstein_normed", c->bound_wasserstein_normed) ||
        aud_json_add_num(b, "anderson_darling", c->bound_anderson) ||
        aud_json_add_num(b, "cramer_von_mises", c->bound_cvm))
        return -1;
    return 0;
}

static int column_fill(cJSON *o, const aud_drift_column *c)
{
    int numeric = c->kind == AUD_DRIFT_NUMERIC;
    if (!cJSON_AddStringToObject(o, "name", c->name ? c->name : "") ||
        !cJSON_AddStringToObject(o, "type", numeric ? "numeric" : "categorical"))
        return -1;
    if (c->status != AUD_OK) {
        if (!cJSON_AddStringToObject(o, "error", c->msg) || !cJSON_AddNullToObject(o, "drifted"))
            return -1;
        if (c->rows_ref + c->rows_cur == 0)
            return 0;
    }
    double sr = share(c->missing_ref, c->rows_ref), sc = share(c->missing_cur, c->rows_cur);
    if (aud_json_add_num(o, "rows_reference", (double)c->rows_ref) ||
        aud_json_add_num(o, "rows_current", (double)c->rows_cur) ||
        aud_json_add_num(o, "missing_reference", (double)c->missing_ref) ||
        aud_json_add_num(o, "missing_current", (double)c->missing_cur) ||
        aud_json_add_num(o, "missing_share_reference", sr) ||
        aud_json_add_num(o, "missing_share_current", sc) ||
        aud_json_add_num(o, "missing_share_change", sc - sr))
        return -1;
    if (c->status != AUD_OK)
        return 0;
    int is_test = aud_drift_method_is_test(c->method);
    if (!cJSON_AddStringToObject(o, "method", aud_drift_method_name(c->method)) ||
        aud_json_add_num(o, "statistic", c->statistic) ||
        !cJSON_AddStringToObject(o, "statistic_kind", is_test ? "p_value" : "distance") ||
        aud_json_add_num(o, "threshold", c->threshold) ||
        !cJSON_AddBoolToObject(o, "drifted", c->drifted == 1))
        return -1;
    if (c->method_note && !cJSON_AddStringToObject(o, "method_note", c->method_note))
        return -1;
    if (aud_json_add_num(o, "n_unique", (double)c->n_unique))
        return -1;
    if (numeric) {
        if (add_test(o, "ks", &c->ks, 0) || aud_json_add_num(o, "wasserstein", c->wasserstein) ||
            aud_json_add_num(o, "wasserstein_normed", c->wasserstein_normed) ||
            aud_json_add_num(o, "std_reference", c->std_ref) ||
            aud_json_add_num(o, "mean_reference", c->mean_ref) ||
            aud_json_add_num(o, "mean_current", c->mean_cur))
            return -1;
    }
    if (aud_json_add_num(o, "psi", c->psi) || aud_json_add_num(o, "jensen_shannon", c->jensen_shannon))
        return -1;
    if (numeric) {
        if (add_test(o, "anderson_darling", &c->anderson, 0) ||
            add_test(o, "cramer_von_mises", &c->cvm, 0))
            return -1;
    }
    if (add_test(o, "chi_square", &c->chi_square, 1) || add_test(o, "z_test", &c->z, 0))
        return -1;
    if (numeric) {
        if (add_bins(o, "psi_bins", &c->psi_bins) || add_bins(o, "js_bins", &c->js_bins))
            return -1;
        return c->from_summary ? summary_fill(o, c) : 0;
    }
    cJSON *cat = cJSON_AddObjectToObject(o, "categories");
    if (cat == NULL)
        return -1;
    cJSON *lv = cJSON_AddArrayToObject(cat, "levels");
    cJSON *un = cJSON_AddArrayToObject(o, "unseen_in_reference");
    if (lv == NULL || un == NULL)
        return -1;
    for (size_t i = 0; i < c->n_levels; i++) {
        if (!cJSON_AddItemToArray(lv, cJSON_CreateString(c->levels[i])))
            return -1;
        if (c->unseen[i] && !cJSON_AddItemToArray(un, cJSON_CreateString(c->levels[i])))
            return -1;
    }
    if (add_array(cat, "reference", c->js_bins.ref, c->js_bins.n_bins) ||
        add_array(cat, "current", c->js_bins.cur, c->js_bins.n_bins))
        return -1;
    if (c->similar != NULL && !cJSON_AddStringToObject(o, "similar_categories", c->similar))
        return -1;
    return 0;
}

int aud_drift_to_json(const aud_drift_result *r, cJSON *doc, aud_error *err)
{
    cJSON *d = cJSON_CreateObject();
    if (d == NULL)
        return aud_error_nomem(err);
    if (!cJSON_AddItemToObject(doc, "drift", d)) {
        cJSON_Delete(d);
        return aud_error_nomem(err);
    }
    /* with no testable column there is no verdict: null, never "no drift" */
    cJSON *dd = r->n_tested > 0 ? cJSON_CreateBool(r->dataset_drift) : cJSON_CreateNull();
    if (dd == NULL || !cJSON_AddItemToObject(d, "dataset_drift", dd)) {
        cJSON_Delete(dd);
        return aud_error_nomem(err);
    }
    if (aud_json_add_num(d, "drift_share", r->drift_share) ||
        aud_json_add_num(d, "share_threshold", r->share_threshold) ||
        aud_json_add_num(d, "n_columns", (double)r->n_cols) ||
        aud_json_add_num(d, "n_drifted", (double)r->n_drifted) ||
        aud_json_add_num(d, "n_errors", (double)r->n_errors) ||
        !cJSON_AddStringToObject(d, "psi_binning",
                                 r->psi_binning == AUD_PSI_EVIDENTLY ? "evidently" : "quantile"))
        return aud_error_nomem(err);
    if (r->has_rows && (aud_json_add_num(d, "reference_rows", (double)r->rows_reference) ||
                        aud_json_add_num(d, "current_rows", (double)r->rows_current)))
        return aud_error_nomem(err);
    if (r->n_tested == 0 &&
        (!cJSON_AddStringToObject(d, "drift_share_reason", "no column could be tested") ||
         !cJSON_AddStringToObject(d, "dataset_drift_reason", "no column could be tested")))
        return aud_error_nomem(err);
    cJSON *cols = cJSON_AddArrayToObject(d, "columns");
    if (cols == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < r->n_cols; i++) {
        cJSON *o = aud_drift_column_json(&r->cols[i]);
        if (o == NULL || !cJSON_AddItemToArray(cols, o)) {
            cJSON_Delete(o);
            return aud_error_nomem(err);
        }
    }
    return AUD_OK;
}

cJSON *aud_drift_column_json(const aud_drift_column *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && column_fill(o, c) != 0) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}
