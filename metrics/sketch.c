/* sketch.c - deterministic mergeable quantile summary (see metrics/sketch.h for the papers). */
#include "metrics/sketch.h"

#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef aud_sketch_entry entry;

void aud_sketch_init(aud_sketch *s, size_t k)
{
    memset(s, 0, sizeof *s);
    s->k = k < 2 ? 2 : k;
}

void aud_sketch_free(aud_sketch *s)
{
    if (s == NULL)
        return;
    aud_free(s->e);
    aud_free(s->buf);
    aud_free(s->bw);
    for (size_t i = 0; i < s->n_lvl; i++)
        aud_free(s->lvl[i]);
    aud_free(s->lvl);
    aud_free(s->lvl_n);
    aud_free(s->lvl_w);
    size_t k = s->k;
    aud_sketch_init(s, k);
}

/* ---- the three operations on entry lists -------------------------------------------------- */

/* Number of entries of a with value < v (le = 0) or <= v (le = 1). */
static size_t entries_below(const entry *a, size_t n, double v, int le)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].v < v || (le && a[mid].v == v))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lower bound of the weight < v in a: the last entry below v. */
static double low_below(const entry *a, size_t n, double v)
{
    size_t i = entries_below(a, n, v, 0);
    return i == 0 ? 0.0 : a[i - 1].rmin + a[i - 1].wmin;
}

/* Upper bound of the weight <= v in a (weight na): the first entry above v. */
static double high_upto(const entry *a, size_t n, double na, double v)
{
    size_t i = entries_below(a, n, v, 1);
    return i == n ? na : a[i].rmax - a[i].wmin;
}

/* out (na + nb entries) := a merged with b. Returns the number of entries. */
static size_t merge_entries(const entry *a, size_t na, double wa, const entry *b, size_t nb,
                            double wb, entry *out)
{
    size_t i = 0, j = 0, m = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i].v < b[j].v)) {
            out[m] = a[i];
            out[m].rmin += low_below(b, nb, a[i].v);
            out[m].rmax += high_upto(b, nb, wb, a[i].v);
            i++;
        } else if (i >= na || b[j].v < a[i].v) {
            out[m] = b[j];
            out[m].rmin += low_below(a, na, b[j].v);
            out[m].rmax += high_upto(a, na, wa, b[j].v);
            j++;
        } else {   /* the same value in both */
            out[m].v = a[i].v;
            out[m].rmin = a[i].rmin + b[j].rmin;
            out[m].rmax = a[i].rmax + b[j].rmax;
            out[m].wmin = a[i].wmin + b[j].wmin;
            i++;
            j++;
        }
        m++;
    }
    return m;
}

/* Keep at most k of the m entries (first and last always): for each target rank i n / (k - 1)
 * the entry whose mid-rank (rmin + rmax) / 2 is nearest. In place; returns the new count. */
static size_t prune_entries(entry *e, size_t m, double n, size_t k)
{
    if (m <= k || m < 3)
        return m;
    size_t out = 1, last = 0;
    for (size_t i = 1; i + 1 < k; i++) {
        double d = (double)i * n / (double)(k - 1);
        size_t lo = 1, hi = m - 1;   /* first j in [1, m-1) with mid >= d, else m - 1 */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((e[mid].rmin + e[mid].rmax) / 2 < d)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t j = lo;
        if (j > 1 && (j >= m - 1 || d - (e[j - 1].rmin + e[j - 1].rmax) / 2 <
                                        (e[j].rmin + e[j].rmax) / 2 - d))
            j--;
        if (j >= m - 1 || j <= last)
            continue;
        e[out++] = e[j];
        last = j;
    }
    e[out++] = e[m - 1];
    return out;
}

typedef struct vw {
    double v, w;
} vw;

static int vw_cmp(const void *a, const void *b)
{
    double x = ((const vw *)a)->v, y = ((const vw *)b)->v;
    return (x > y) - (x < y);
}

/* Exact summary of n sorted (v, w) pairs into e (n entries): returns the count. */
static size_t exact_entries(const vw *p, size_t n, entry *e)
{
    size_t m = 0;
    double cum = 0.0;
    for (size_t i = 0; i < n;) {
        double v = p[i].v, w = 0.0;
        while (i < n && p[i].v == v)
            w += p[i++].w;
        e[m++] = (entry){v, cum, cum + w, w};
        cum += w;
    }
    return m;
}

/* *a (weight *wa, *na entries, owned) := prune(*a merged with b), capacity k. */
static int fold(entry **a, size_t *na, double *wa, const entry *b, size_t nb, double wb,
                size_t k)
{
    entry *out = aud_malloc((*na + nb + 1) * sizeof *out);
    if (out == NULL)
        return AUD_E_NOMEM;
    size_t m = merge_entries(*a, *na, *wa, b, nb, wb, out);
    m = prune_entries(out, m, *wa + wb, k);
    aud_free(*a);
    *a = out;
    *na = m;
    *wa += wb;
    return AUD_OK;
}

/* ---- add, compact, merge ------------------------------------------------------------------- */

/* The buffer as a summary, carried up the levels (a binary counter of pruned summaries). */
static int flush_buffer(aud_sketch *s)
{
    if (s->n_buf == 0)
        return AUD_OK;
    vw *p = aud_malloc(s->n_buf * sizeof *p);
    entry *cur = aud_malloc(s->n_buf * sizeof *cur);
    if (p == NULL || cur == NULL) {
        aud_free(p);
        aud_free(cur);
        return AUD_E_NOMEM;
    }
    double w = 0.0;
    for (size_t i = 0; i < s->n_buf; i++) {
        p[i] = (vw){s->buf[i], s->bw[i]};
        w += s->bw[i];
    }
    qsort(p, s->n_buf, sizeof *p, vw_cmp);
    size_t nc = exact_entries(p, s->n_buf, cur);
    aud_free(p);
    s->n_buf = 0;
    nc = prune_entries(cur, nc, w, s->k);
    for (size_t l = 0;; l++) {
        if (l == s->n_lvl) {
            size_t nl = s->n_lvl + 1;
            entry **lv = aud_realloc(s->lvl, nl * sizeof *lv);
            if (lv != NULL)
                s->lvl = lv;
            size_t *ln = aud_realloc(s->lvl_n, nl * sizeof *ln);
            if (ln != NULL)
                s->lvl_n = ln;
            double *lw = aud_realloc(s->lvl_w, nl * sizeof *lw);
            if (lw != NULL)
                s->lvl_w = lw;
            if (lv == NULL || ln == NULL || lw == NULL) {
                aud_free(cur);
                return AUD_E_NOMEM;
            }
            s->lvl[l] = NULL;
            s->lvl_n[l] = 0;
            s->lvl_w[l] = 0.0;
            s->n_lvl = nl;
        }
        if (s->lvl[l] == NULL) {
            s->lvl[l] = cur;
            s->lvl_n[l] = nc;
            s->lvl_w[l] = w;
            return AUD_OK;
        }
        int rc = fold(&cur, &nc, &w, s->lvl[l], s->lvl_n[l], s->lvl_w[l], s->k);
        if (rc != AUD_OK) {
            aud_free(cur);
            return rc;
        }
        aud_free(s->lvl[l]);
        s->lvl[l] = NULL;
        s->lvl_n[l] = 0;
    }
}

int aud_sketch_add(aud_sketch *s, double x, double w, aud_error *err)
{
    if (!isfinite(x) || !(w > 0.0) || !isfinite(w))
        return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                             "sketch: values must be finite and weights positive");
    if (s->buf == NULL) {
        s->buf = aud_malloc(s->k * sizeof *s->buf);
        s->bw = aud_malloc(s->k * sizeof *s->bw);
        if (s->buf == NULL || s->bw == NULL)
            return aud_error_nomem(err);
    }
    s->buf[s->n_buf] = x + 0.0;
    s->bw[s->n_buf] = w;
    s->n_buf++;
    s->n += w;
    if (s->n_buf == s->k && flush_buffer(s) != AUD_OK)
        return aud_error_nomem(err);
    return AUD_OK;
}

int aud_sketch_compact(aud_sketch *s, aud_error *err)
{
    if (flush_buffer(s) != AUD_OK)
        return aud_error_nomem(err);
    for (size_t l = 0; l < s->n_lvl; l++) {
        if (s->lvl[l] == NULL)
            continue;
        if (fold(&s->e, &s->n_e, &s->e_w, s->lvl[l], s->lvl_n[l], s->lvl_w[l], s->k) !=
            AUD_OK)
            return aud_error_nomem(err);
        aud_free(s->lvl[l]);
        s->lvl[l] = NULL;
        s->lvl_n[l] = 0;
    }
    return AUD_OK;
}

int aud_sketch_merge(aud_sketch *dst, aud_sketch *src, aud_error *err)
{
    if (aud_sketch_compact(dst, err) != AUD_OK || aud_sketch_compact(src, err) != AUD_OK)
        return err->code;
    if (fold(&dst->e, &dst->n_e, &dst->e_w, src->e, src->n_e, src->e_w, dst->k) != AUD_OK)
        return aud_error_nomem(err);
    dst->n += src->n;
    return AUD_OK;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of x[0..n) < v (le = 0) or <= v (le = 1). */
static size_t count_sorted(const double *x, size_t n, double v, int le)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v || (le && x[mid] == v))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int aud_sketch_from_sorted(aud_sketch *s, const double *x, size_t n, size_t k,
                           const double *extra, size_t n_extra, aud_error *err)
{
    aud_sketch_init(s, k);
    entry *e = aud_malloc((n + n_extra + 1) * sizeof *e);
    double *ex = aud_malloc((n_extra + 1) * sizeof *ex);
    if (e == NULL || ex == NULL) {
        aud_free(e);
        aud_free(ex);
        return aud_error_nomem(err);
    }
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        double v = x[i];
        size_t j = i;
        while (j < n && x[j] == v)
            j++;
        e[m++] = (entry){v, (double)i, (double)j, (double)(j - i)};
        i = j;
    }
    m = prune_entries(e, m, (double)n, s->k);
    size_t nx = 0;
    for (size_t i = 0; i < n_extra; i++)
        if (isfinite(extra[i]))
            ex[nx++] = extra[i] + 0.0;
    qsort(ex, nx, sizeof *ex, dbl_cmp);
    /* merge the extra points in, each with its exact ranks, from the back (in place) */
    size_t nu = 0;
    for (size_t i = 0; i < nx; i++)
        if (nu == 0 || ex[i] != ex[nu - 1])
            ex[nu++] = ex[i];
    size_t total = m + nu, out = total, i = m, j = nu;
    while (j > 0) {
        if (i > 0 && e[i - 1].v > ex[j - 1]) {
            e[--out] = e[--i];
        } else if (i > 0 && e[i - 1].v == ex[j - 1]) {
            e[--out] = e[--i];
            j--;
            total--;
        } else {
            double v = ex[--j];
            size_t lt = count_sorted(x, n, v, 0), le = count_sorted(x, n, v, 1);
            e[--out] = (entry){v, (double)lt, (double)le, (double)(le - lt)};
        }
    }
    while (i > 0)
        e[--out] = e[--i];
    if (out > 0)   /* duplicates dropped: close the gap at the front */
        memmove(e, e + out, (total) * sizeof *e);
    aud_free(ex);
    s->e = e;
    s->n_e = total;
    s->e_w = s->n = (double)n;
    return AUD_OK;
}

/* ---- queries -------------------------------------------------------------------------------- */

/* aud_sketch_rank with i = the number of entries below v */
static double rank_at(const aud_sketch *s, size_t i, double v, int le, double *lo, double *hi)
{
    const entry *e = s->e;
    size_t m = s->n_e;
    double l = 0.0, h = s->e_w;
    if (i > 0)
        l = e[i - 1].rmin + e[i - 1].wmin;
    if (i < m && e[i].v == v) {
        if (le) {
            l = fmax(l, e[i].rmin + e[i].wmin);
            h = e[i].rmax;
        } else {
            l = fmax(l, e[i].rmin);
            h = e[i].rmax - e[i].wmin;
        }
    } else if (i < m) {
        h = e[i].rmax - e[i].wmin;
    }
    if (h < l)
        h = l;
    if (lo)
        *lo = l;
    if (hi)
        *hi = h;
    return (l + h) / 2;
}

double aud_sketch_rank(const aud_sketch *s, double v, int le, double *lo, double *hi)
{
    return rank_at(s, entries_below(s->e, s->n_e, v, 0), v, le, lo, hi);
}

double aud_sketch_rank_walk(const aud_sketch *s, double v, int le, size_t *at, double *lo,
                            double *hi)
{
    size_t i = *at < s->n_e ? *at : s->n_e;
    while (i > 0 && !(s->e[i - 1].v < v))   /* v went back: step back (never in a walk) */
        i--;
    while (i < s->n_e && s->e[i].v < v)
        i++;
    *at = i;
    return rank_at(s, i, v, le, lo, hi);
}

double aud_sketch_quantile(const aud_sketch *s, double q, double *rank_err)
{
    if (s->n_e == 0)
        return NAN;
    double t = q * s->e_w;
    size_t best = 0;
    double bd = INFINITY;
    size_t a = 0, b = s->n_e;
    while (a < b) {   /* first entry with mid-rank >= t, and its predecessor */
        size_t mid = a + (b - a) / 2;
        if ((s->e[mid].rmin + s->e[mid].rmax) / 2 < t)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t j = a > 0 ? a - 1 : 0; j <= a && j < s->n_e; j++) {
        double d = fmax(fmax(t - s->e[j].rmin, s->e[j].rmax - t), 0.0);
        if (d < bd) {
            bd = d;
            best = j;
        }
    }
    if (rank_err)
        *rank_err = bd;
    return s->e[best].v;
}

double aud_sketch_max_gap(const aud_sketch *s)
{
    if (s->n_e == 0)
        return s->e_w;
    const entry *e = s->e;
    double g = e[0].rmax - e[0].wmin;   /* below the first entry */
    for (size_t i = 0; i < s->n_e; i++) {
        g = fmax(g, e[i].rmax - e[i].rmin - e[i].wmin);   /* at the entry */
        double next = i + 1 < s->n_e ? e[i + 1].rmax - e[i + 1].wmin : s->e_w;
        g = fmax(g, next - (e[i].rmin + e[i].wmin));      /* between it and the next */
    }
    return g;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

cJSON *aud_sketch_to_json(aud_sketch *s)
{
    aud_error err;
    aud_error_clear(&err);
    if (aud_sketch_compact(s, &err) != AUD_OK)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_CreateArray();
    if (o == NULL || a == NULL || aud_json_add_num(o, "k", (double)s->k) ||
        aud_json_add_num(o, "n", s->n)) {
        cJSON_Delete(o);
        cJSON_Delete(a);
        return NULL;
    }
    cJSON_AddItemToObject(o, "entries", a);
    for (size_t i = 0; i < s->n_e; i++) {
        const double f[4] = {s->e[i].v, s->e[i].rmin, s->e[i].rmax, s->e[i].wmin};
        for (int j = 0; j < 4; j++) {
            cJSON *num = aud_json_num(f[j]);   /* printed exactly: values round-trip */
            if (num == NULL || !cJSON_AddItemToArray(a, num)) {
                cJSON_Delete(num);
                cJSON_Delete(o);
                return NULL;
            }
        }
    }
    return o;
}

static int bad(aud_error *err, const char *file, const char *where, const char *sub, long idx,
               const char *msg)
{
    char field[128];
    if (idx >= 0)
        snprintf(field, sizeof field, "%s.%s[%ld]", where, sub, idx);
    else
        snprintf(field, sizeof field, "%s.%s", where, sub);
    aud_error_set(err, AUD_E_SCHEMA, file, 0, 0, "%s", msg);
    return aud_error_field(err, field);
}

int aud_sketch_from_json(aud_sketch *s, const cJSON *o, const char *file, const char *where,
                         aud_error *err)
{
    aud_sketch_init(s, 2);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "k");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "n");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "entries");
    if (!cJSON_IsObject(o))
        return bad(err, file, where, "", -1, "expected a sketch object");
    if (!cJSON_IsNumber(k) || !(k->valuedouble >= 2 && k->valuedouble <= 1e7) ||
        k->valuedouble != floor(k->valuedouble))
        return bad(err, file, where, "k", -1, "expected an integer capacity >= 2");
    if (!cJSON_IsNumber(n) || !(n->valuedouble >= 0 && n->valuedouble < 1e300))
        return bad(err, file, where, "n", -1, "expected a non-negative total weight");
    double *f;
    size_t nf;
    long at;
    int u = aud_json_unpack(a, &f, &nf, &at);   /* an array, or packed (reference profiles) */
    if (u < 0)
        return aud_error_nomem(err);
    if (u > 0 && at < 0)
        return bad(err, file, where, "entries", -1, "expected an array");
    if (u > 0)
        return bad(err, file, where, "entries", at, "expected a finite number");
    long len = (long)nf;
    if (len % 4 != 0) {
        aud_free(f);
        return bad(err, file, where, "entries", -1,
                   "expected groups of 4 numbers (value, rmin, rmax, wmin)");
    }
    if ((len == 0) != (n->valuedouble == 0)) {
        aud_free(f);
        return bad(err, file, where, "entries", -1,
                   "a sketch has entries exactly when its weight n is positive");
    }
    aud_sketch_init(s, (size_t)k->valuedouble);
    double tot = n->valuedouble;
    s->e = aud_malloc(((size_t)len / 4 + 1) * sizeof *s->e);
    if (s->e == NULL) {
        aud_free(f);
        return aud_error_nomem(err);
    }
    for (long i = 0; i < len / 4; i++) {
        entry e = {f[4 * i], f[4 * i + 1], f[4 * i + 2], f[4 * i + 3]};
        const char *why = NULL;
        if (i > 0 && !(e.v > s->e[i - 1].v))
            why = "values must increase strictly";
        else if (!(e.rmin >= 0 && e.wmin >= 0 && e.rmin + e.wmin <= e.rmax && e.rmax <= tot))
            why = "needs 0 <= rmin, 0 <= wmin, rmin + wmin <= rmax <= n";
        else if (i > 0 && (e.rmin < s->e[i - 1].rmin || e.rmax < s->e[i - 1].rmax))
            why = "rmin and rmax must not decrease";
        if (why != NULL) {
            aud_sketch_free(s);
            aud_free(f);
            return bad(err, file, where, "entries", 4 * i, why);
        }
        s->e[i] = e;
    }
    aud_free(f);
    s->n_e = (size_t)len / 4;
    s->n = s->e_w = tot;
    return AUD_OK;
}
