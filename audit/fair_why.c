/* fair_why.c - drivers, proxy screen and trade-offs of every sensitive attribute (SPEC section 7).
 *
 * The model's rows are explained block by block (all rows for the fast methods, tree and linear;
 * else a seeded sample stratified by group) and only per-group sums are kept, so memory does not
 * grow with the data. Definitions: docs/fairness.md "Drivers, proxies and trade-offs". */
#include "audit/fair_why_int.h"
#include "metrics/fair_drivers_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#define WHY_BLOCK 4096

/* aud_fair_why_input with the attributes and the model bound (audit/bind_int.h). */
typedef struct why_in {
    const aud_model       *model;
    const aud_table       *data;
    const size_t          *bind;        /* model feature -> data column */
    const aud_fair_attr   *attrs;
    size_t                 n_attrs;
    const aud_fair_result *res;
    const double          *score;
    const double          *label;
    int                    favorable;
    double                 threshold;
    aud_shap_method        method;
    const double          *background;
    size_t                 n_background;
    uint64_t               seed;
    int                    threads;
    struct why_attr       *wa;          /* the attributes, then their intersections */
    size_t                 n_wa;
    int                    merged_run;
    const aud_why_merged  *merged;      /* merged runs: the cells' sums (NULL: none) */
} why_in;
#define AUD_WHY_MAX_CELLS 256   /* more combinations of attribute values: rows one by one */
#define AUD_WHY_MAX_GROUPINGS 64   /* attributes and intersections explained (sample bits) */
#define AUD_FAIR_MAX_INTER_ATTRS_WHY 6   /* = metrics' AUD_FAIR_MAX_INTER_ATTRS */

/* An attribute or an intersection ("a&b") as the drivers and the proxy screen see it: codes per
 * row, levels = the result's groups (an intersection's groups are its non-empty cells in level
 * order, exactly as metrics/fair_inter.c numbers them). */
typedef struct why_attr {
    const char                 *name;
    const int32_t              *codes;
    size_t                      n_levels;
    const char *const          *levels;
    const aud_fair_attr_result *ar;
    unsigned                    mask;    /* the attributes it combines */
    int32_t                    *imap;    /* intersections: mixed-radix cell -> group, else NULL */
    int32_t                    *own_codes;
    const char                **own_levels;
} why_attr;

/* The attribute's object in doc's fairness.attributes, or the intersection's in
 * fairness.intersections (written by aud_fair_to_json). */
static cJSON *attr_object(cJSON *doc, const char *name)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fairness");
    const char *where[] = {"attributes", "intersections"};
    for (int k = 0; k < 2; k++) {
        cJSON *arr = f ? cJSON_GetObjectItemCaseSensitive(f, where[k]) : NULL;
        cJSON *o = NULL;
        cJSON_ArrayForEach(o, arr) {
            cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
                return o;
        }
    }
    return NULL;
}

/* Per level of attribute a: eligible (not small) and the reference level. The result's groups
 * are the levels with rows, in level order. */
static int level_info(const why_attr *at, unsigned char *eligible, size_t *ref)
{
    const aud_fair_attr_result *ar = at->ar;
    size_t g = 0;
    *ref = SIZE_MAX;
    for (size_t l = 0; l < at->n_levels; l++) {
        eligible[l] = 0;
        if (g < ar->n_groups && strcmp(ar->groups[g].name, at->levels[l]) == 0) {
            eligible[l] = !ar->groups[g].small;
            if (g == ar->reference)
                *ref = l;
            g++;
        }
    }
    return *ref == SIZE_MAX ? -1 : 0;
}

/* ---- intersections -------------------------------------------------------------------------- */

/* Group of `wa` for a row whose attributes have the codes lv[] (-1 unknown), or -1. */
static int32_t group_of(const why_in *in, const why_attr *wa, const int32_t *lv)
{
    size_t cell = 0;
    for (size_t a = 0; a < in->n_attrs; a++) {
        if (!(wa->mask >> a & 1u))
            continue;
        if (lv[a] < 0)
            return -1;
        cell = cell * in->attrs[a].n_levels + (size_t)lv[a];
    }
    return wa->imap != NULL ? wa->imap[cell] : (int32_t)cell;
}

/* ---- cells: combinations of the attributes' values (unknown a value of its own) ------------ */

/* Each attribute's stride in the cells' mixed radix into stride; the number of cells, or a
 * number over cap (the count stops once it passes cap). */
static size_t cell_strides(const why_in *in, size_t *stride, size_t cap)
{
    size_t n_cells = 1;
    for (size_t a = 0; a < in->n_attrs && n_cells <= cap; a++) {
        stride[a] = n_cells;
        n_cells *= in->attrs[a].n_levels + 1;
    }
    return n_cells;
}

/* Each cell's attribute codes (n_cells x n_attrs, -1 unknown), as merged_codes gives a merged
 * run's; NULL when out of memory. */
static int32_t *cell_codes(const why_in *in, const size_t *stride, size_t n_cells)
{
    int32_t *lv = aud_malloc((n_cells * in->n_attrs + 1) * sizeof *lv);
    for (size_t c = 0; lv != NULL && c < n_cells; c++)
        for (size_t a = 0; a < in->n_attrs; a++)
            lv[c * in->n_attrs + a] = (int32_t)(c / stride[a] % (in->attrs[a].n_levels + 1)) - 1;
    return lv;
}

/* Cells to group of every grouping: gk[a * n_cells + k], from the cells' codes lv. */
static int32_t *cells_groups(const why_in *in, const int32_t *lv, size_t n_cells, aud_error *err)
{
    int32_t *gk = aud_malloc((in->n_wa * n_cells + 1) * sizeof *gk);
    if (gk == NULL) {
        aud_error_nomem(err);
        return NULL;
    }
    for (size_t a = 0; a < in->n_wa; a++)
        for (size_t k = 0; k < n_cells; k++)
            gk[a * n_cells + k] = group_of(in, &in->wa[a], lv + k * in->n_attrs);
    return gk;
}

/* Rows [b, e) of row_cells. */
typedef struct row_cells_chunk {
    const why_in *in;
    const size_t *stride;
    size_t        b, e;
    int32_t      *cell;
} row_cells_chunk;

static void *row_cells_main(void *arg)
{
    const row_cells_chunk *k = arg;
    const why_in *in = k->in;
    for (size_t i = k->b; i < k->e; i++) {
        size_t id = 0;
        for (size_t a = 0; a < in->n_attrs; a++)
            id += (size_t)(in->attrs[a].codes[i] + 1) * k->stride[a];
        k->cell[i] = (int32_t)id;
    }
    return NULL;
}

/* Every row's cell, in chunks of rows on the threads (the drivers and the proxy screen both read
 * them); NULL when out of memory. */
static int32_t *row_cells(const why_in *in, const size_t *stride)
{
    size_t n = in->data->n_rows;
    int32_t *cell = aud_malloc_rows((n ? n : 1) * sizeof *cell);
    if (cell == NULL)
        return NULL;
    size_t n_ch = aud_row_chunks(n, in->threads);
    row_cells_chunk ch[AUD_MAX_CHUNKS];
    for (size_t k = 0; k < n_ch; k++)
        ch[k] = (row_cells_chunk){in, stride, n * k / n_ch, n * (k + 1) / n_ch, cell};
    aud_run_jobs(ch, n_ch, sizeof ch[0], row_cells_main);
    return cell;
}

/* Rows [b, e): each one's cell of the intersection `mask` into codes (-1: a component
 * unknown), its cell marked used (relaxed atomics: any chunk may mark any cell; only "marked"
 * is read, after the chunks end). */
typedef struct cell_chunk {
    const why_in *in;
    unsigned      mask;
    size_t        b, e;
    int32_t      *codes;
    atomic_uchar *used;
} cell_chunk;

static void *cell_main(void *arg)
{
    const cell_chunk *k = arg;
    const why_in *in = k->in;
    int32_t lv[AUD_FAIR_MAX_INTER_ATTRS_WHY];
    for (size_t i = k->b; i < k->e; i++) {
        for (size_t a = 0; a < in->n_attrs; a++)
            lv[a] = in->attrs[a].codes[i];
        int32_t c = group_of(in, &(why_attr){.mask = k->mask}, lv);
        k->codes[i] = c;
        if (c >= 0 && !atomic_load_explicit(&k->used[c], memory_order_relaxed))
            atomic_store_explicit(&k->used[c], 1, memory_order_relaxed);
    }
    return NULL;
}

/* The intersection of the attributes in `mask` as the result numbers its groups (its non-empty
 * cells in mixed-radix order, metrics/fair_inter.c); -1 when the result's groups differ (they
 * cannot: checked by name so a change there shows). */
static int inter_build(const why_in *in, unsigned mask, const aud_fair_attr_result *ar,
                       why_attr *wa, aud_error *err)
{
    size_t n = in->data->n_rows, cells = 1;
    memset(wa, 0, sizeof *wa);
    wa->name = ar->name;
    wa->ar = ar;
    wa->mask = mask;
    for (size_t a = 0; a < in->n_attrs; a++)
        cells *= mask >> a & 1u ? in->attrs[a].n_levels : 1;
    wa->imap = aud_malloc((cells ? cells : 1) * sizeof *wa->imap);
    wa->own_codes = aud_malloc((n ? n : 1) * sizeof *wa->own_codes);
    wa->own_levels = aud_calloc(ar->n_groups + 1, sizeof *wa->own_levels);
    if (wa->imap == NULL || wa->own_codes == NULL || wa->own_levels == NULL)
        return aud_error_nomem(err);
    atomic_uchar *used = aud_calloc(cells ? cells : 1, sizeof *used);
    if (used == NULL)
        return aud_error_nomem(err);
    /* the cell of each row, and the used cells marked, in chunks of rows on the threads */
    size_t n_ch = aud_row_chunks(n, in->threads);
    cell_chunk ch[AUD_MAX_CHUNKS];
    for (size_t k = 0; k < n_ch; k++)
        ch[k] = (cell_chunk){in, mask, n * k / n_ch, n * (k + 1) / n_ch, wa->own_codes, used};
    aud_run_jobs(ch, n_ch, sizeof ch[0], cell_main);
    for (size_t c = 0; c < cells; c++)
        wa->imap[c] = atomic_load_explicit(&used[c], memory_order_relaxed) ? 0 : -1;
    aud_free(used);
    size_t g = 0;
    for (size_t c = 0; c < cells; c++) {
        if (wa->imap[c] < 0)
            continue;
        size_t rest = c, idx[AUD_FAIR_MAX_INTER_ATTRS_WHY];
        for (size_t a = in->n_attrs; a-- > 0;) {
            if (mask >> a & 1u) {
                idx[a] = rest % in->attrs[a].n_levels;
                rest /= in->attrs[a].n_levels;
            }
        }
        /* the result's group name is the levels joined by '&' */
        const char *nm = g < ar->n_groups ? ar->groups[g].name : NULL;
        for (size_t a = 0, first = 1; nm != NULL && a < in->n_attrs; a++) {
            if (!(mask >> a & 1u))
                continue;
            const char *l = in->attrs[a].levels[idx[a]];
            size_t len = strlen(l);
            if ((!first && *nm++ != '&') || strncmp(nm, l, len) != 0)
                nm = NULL;
            else
                nm += len;
            first = 0;
        }
        if (nm == NULL || *nm != '\0')
            return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0,
                                 "the groups of intersection %s differ from the result",
                                 ar->name);
        wa->own_levels[g] = ar->groups[g].name;
        wa->imap[c] = (int32_t)g++;
    }
    if (g != ar->n_groups)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0,
                             "the groups of intersection %s differ from the result", ar->name);
    for (size_t i = 0; i < n; i++)
        if (wa->own_codes[i] >= 0)
            wa->own_codes[i] = wa->imap[wa->own_codes[i]];
    wa->codes = wa->own_codes;
    wa->n_levels = g;
    wa->levels = wa->own_levels;
    return AUD_OK;
}

/* Attribute a as a grouping. */
static why_attr base_attr(const why_in *in, size_t a)
{
    return (why_attr){in->attrs[a].name, in->attrs[a].codes, in->attrs[a].n_levels,
                      in->attrs[a].levels, &in->res->attrs[a], 1u << a, NULL, NULL, NULL};
}

static void groupings_free(why_attr *wa, size_t n)
{
    for (size_t k = 0; wa != NULL && k < n; k++) {
        aud_free(wa[k].imap);
        aud_free(wa[k].own_codes);
        aud_free(wa[k].own_levels);
    }
    aud_free(wa);
}

/* The attributes, then every intersection of the result (in its order: by size, then by
 * attribute mask, as metrics/fair_core.c makes them). */
static int groupings(why_in *in, aud_error *err)
{
    const aud_fair_result *res = in->res;
    size_t n = in->n_attrs + res->n_inters;
    in->wa = aud_calloc(n ? n : 1, sizeof *in->wa);
    if (in->wa == NULL)
        return aud_error_nomem(err);
    for (size_t a = 0; a < in->n_attrs; a++)
        in->wa[a] = base_attr(in, a);
    in->n_wa = in->n_attrs;
    if (res->n_inters == 0)
        return AUD_OK;
    if (in->n_attrs > AUD_FAIR_MAX_INTER_ATTRS_WHY)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "too many attributes");
    unsigned full = (1u << in->n_attrs) - 1u;
    size_t k = 0;
    for (int size = 2; size <= (int)in->n_attrs; size++) {
        for (unsigned mask = 1; mask <= full && k < res->n_inters; mask++) {
            if (__builtin_popcount(mask) != size)
                continue;
            int rc = inter_build(in, mask, &res->inters[k], &in->wa[in->n_wa], err);
            in->n_wa++;
            if (rc != AUD_OK)
                return rc;
            k++;
        }
    }
    return AUD_OK;
}

/* ---- explaining the rows -------------------------------------------------------------------- */

typedef struct why_state {
    const why_in *in;
    aud_shap_opts so;
    size_t        nf;
    int           probability;    /* binary classifier: also the probability scale */
    aud_fdrv_acc *margin;         /* n_wa */
    size_t       *rows;           /* explained rows (NULL: all rows) */
    uint64_t     *mask;           /* per explained row: bit k = in grouping k's sample */
    size_t        n_rows;
    /* merged runs of sampled methods: rows[] index the partials' candidates, whose inputs,
       probabilities and group codes (n_wa x n_cand) these are */
    const double *cx, *cprob;
    int32_t      *ccodes;
    size_t        n_cand;
} why_state;

/* ---- the bottom-k sample (audit/fair_why_int.h) --------------------------------------------- */

static uint64_t mix64(uint64_t z)   /* splitmix64's output function (Vigna 2015) */
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t aud_why_key(uint64_t seed, int background, size_t row)
{
    uint64_t state = mix64(seed ^ (background ? 0x6261636b67726f75ULL : 0x73616d706c652121ULL));
    return mix64(state + ((uint64_t)row + 1) * 0x9e3779b97f4a7c15ULL);
}

static int pick_less(const aud_why_pick *a, const aud_why_pick *b)
{
    return a->key < b->key || (a->key == b->key && a->row < b->row);
}

int aud_why_bottomk_init(aud_why_bottomk *b, size_t k, aud_error *err)
{
    b->n = 0;
    b->k = k;
    b->e = aud_malloc((k ? k : 1) * sizeof *b->e);
    return b->e != NULL ? AUD_OK : aud_error_nomem(err);
}

void aud_why_bottomk_offer(aud_why_bottomk *b, uint64_t key, size_t row, size_t at)
{
    aud_why_pick p = {key, row, at};
    size_t i;
    if (b->n < b->k) {   /* sift up */
        i = b->n++;
        while (i > 0 && pick_less(&b->e[(i - 1) / 2], &p)) {
            b->e[i] = b->e[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        b->e[i] = p;
        return;
    }
    if (b->k == 0 || !pick_less(&p, &b->e[0]))
        return;
    i = 0;   /* replace the largest, sift down */
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= b->n)
            break;
        if (c + 1 < b->n && pick_less(&b->e[c], &b->e[c + 1]))
            c++;
        if (!pick_less(&p, &b->e[c]))
            break;
        b->e[i] = b->e[c];
        i = c;
    }
    b->e[i] = p;
}

void aud_why_bottomk_free(aud_why_bottomk *b)
{
    if (b != NULL) {
        aud_free(b->e);
        b->e = NULL;
    }
}

/* mark[i] |= bit a when item i (file row row[i], or i when row is NULL) is in grouping a's
 * sample: per level the AUD_WHY_SAMPLE_PER_GROUP items of smallest (key, row). codes: n_wa x n
 * group codes (-1: none), NULL: the table's. */
static int sample_marks(const why_in *in, size_t n, const size_t *row, const int32_t *codes,
                        uint64_t *mark, aud_error *err)
{
    size_t maxl = 1;
    for (size_t a = 0; a < in->n_wa; a++)
        maxl = in->wa[a].n_levels > maxl ? in->wa[a].n_levels : maxl;
    uint64_t *key = aud_malloc((n ? n : 1) * sizeof *key);
    aud_why_bottomk *h = aud_calloc(maxl, sizeof *h);
    int rc = key != NULL && h != NULL ? AUD_OK : aud_error_nomem(err);
    for (size_t l = 0; l < maxl && rc == AUD_OK; l++)
        rc = aud_why_bottomk_init(&h[l], AUD_WHY_SAMPLE_PER_GROUP, err);
    for (size_t i = 0; i < n && rc == AUD_OK; i++)
        key[i] = aud_why_key(in->seed, 0, row != NULL ? row[i] : i);
    for (size_t a = 0; a < in->n_wa && rc == AUD_OK; a++) {
        const int32_t *cd = codes != NULL ? codes + a * n : in->wa[a].codes;
        for (size_t l = 0; l < in->wa[a].n_levels; l++)
            h[l].n = 0;
        for (size_t i = 0; i < n; i++)
            if (cd[i] >= 0)
                aud_why_bottomk_offer(&h[cd[i]], key[i], row != NULL ? row[i] : i, i);
        for (size_t l = 0; l < in->wa[a].n_levels; l++)
            for (size_t q = 0; q < h[l].n; q++)
                mark[h[l].e[q].at] |= (uint64_t)1 << a;
    }
    for (size_t l = 0; h != NULL && l < maxl; l++)
        aud_why_bottomk_free(&h[l]);
    aud_free(h);
    aud_free(key);
    return rc;
}

/* The sample of at most AUD_WHY_SAMPLE_PER_GROUP rows of every group of every attribute and
 * intersection (bottom-k, above) over n items: the rows of the table, or (codes given) a merged
 * run's candidates; w->rows the items picked, in order. */
static int stratified_rows(why_state *w, size_t n, const size_t *row, const int32_t *codes,
                           aud_error *err)
{
    uint64_t *mark = aud_calloc(n ? n : 1, sizeof *mark);
    int rc = mark != NULL ? sample_marks(w->in, n, row, codes, mark, err) : aud_error_nomem(err);
    if (rc != AUD_OK)
        goto done;
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        u += mark[i] != 0;
    w->rows = aud_malloc((u ? u : 1) * sizeof *w->rows);
    w->mask = aud_malloc((u ? u : 1) * sizeof *w->mask);
    if (w->rows == NULL || w->mask == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (mark[i] != 0) {
            w->rows[w->n_rows] = i;
            w->mask[w->n_rows++] = mark[i];
        }
    }
done:
    aud_free(mark);
    return rc;
}

static int cmp_size(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return (a > b) - (a < b);
}

/* The background of the sampled methods: the nb items of smallest (background key, row), in
 * file order, their positions into idx (n items; row[i] the file row, NULL: i). Returns how
 * many. */
static size_t background_rows(const why_in *in, size_t n, const size_t *row,
                              const unsigned char *kind, size_t nb, size_t *idx, int *nomem)
{
    aud_why_bottomk h;
    aud_error e;
    *nomem = aud_why_bottomk_init(&h, nb, &e) != AUD_OK;
    for (size_t i = 0; !*nomem && i < n; i++) {
        size_t r = row != NULL ? row[i] : i;
        if (kind == NULL || (kind[i] & 2))
            aud_why_bottomk_offer(&h, aud_why_key(in->seed, 1, r), r, i);
    }
    size_t got = *nomem ? 0 : h.n;
    for (size_t q = 0; q < got; q++)
        idx[q] = h.e[q].at;   /* item order is file order */
    qsort(idx, got, sizeof *idx, cmp_size);
    aud_why_bottomk_free(&h);
    return got;
}

/* Explain one block of rows and add it to every grouping's sums. */
static int explain_block(why_state *w, size_t b0, size_t b1, double *X, int32_t *grp, double *prob,
                         aud_error *err)
{
    const why_in *in = w->in;
    size_t n = b1 - b0, nf = w->nf;
    for (size_t i = 0; i < n; i++) {
        size_t row = w->rows ? w->rows[b0 + i] : b0 + i;
        if (w->cx != NULL) {   /* a merged run: the partials' candidate rows */
            memcpy(X + i * nf, w->cx + row * nf, nf * sizeof *X);
            prob[i] = w->probability && w->cprob != NULL ? w->cprob[row] : NAN;
            continue;
        }
        aud_model_fill_rows(in->model, in->data, in->bind, row, row + 1, X + i * nf);
        prob[i] = w->probability ? in->score[row] : NAN;
    }
    aud_shap_result *r = NULL;
    int rc = aud_shap_explain(&r, in->model, X, n, &w->so, err);
    if (rc != AUD_OK)
        return rc;
    for (size_t a = 0; a < in->n_wa; a++) {
        const int32_t *cd = w->ccodes != NULL ? w->ccodes + a * w->n_cand : in->wa[a].codes;
        for (size_t i = 0; i < n; i++) {
            size_t row = w->rows ? w->rows[b0 + i] : b0 + i;
            grp[i] = (w->mask == NULL || (w->mask[b0 + i] >> a & 1u)) ? cd[row] : -1;
        }
        aud_fdrv_acc_add(&w->margin[a], grp, n, r->phi, r->stride, w->probability ? prob : NULL);
    }
    aud_shap_result_free(r);
    return AUD_OK;
}

/* Rows one block at a time through aud_shap_explain (every method). */
static int explain_all(why_state *w, aud_error *err)
{
    size_t n = w->rows ? w->n_rows : w->in->data->n_rows, nf = w->nf;
    size_t blk = n < WHY_BLOCK ? (n ? n : 1) : WHY_BLOCK;
    double *X = aud_malloc(blk * (nf ? nf : 1) * sizeof *X);
    int32_t *grp = aud_malloc(blk * sizeof *grp);
    double *prob = aud_malloc(blk * sizeof *prob);
    int rc = AUD_OK;
    if (X == NULL || grp == NULL || prob == NULL)
        rc = aud_error_nomem(err);
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += blk)
        rc = explain_block(w, b0, b0 + blk < n ? b0 + blk : n, X, grp, prob, err);
    aud_free(X);
    aud_free(grp);
    aud_free(prob);
    return rc;
}

int aud_why_feed_init(aud_why_feed *f, const aud_model *m, const aud_table *t,
                      const size_t *bind, int threads, aud_error *err)
{
    size_t nf = m->n_features, n = t->n_rows;
    size_t blk = ((size_t)1 << 22) / (nf ? nf : 1);   /* at most 32 MiB of rows */
    blk = blk > ((size_t)1 << 18) ? (size_t)1 << 18 : blk < 256 ? 256 : blk;
    memset(f, 0, sizeof *f);
    f->blk = n < blk ? (n ? n : 1) : blk;
    f->m = m;
    f->t = t;
    f->bind = bind;
    f->threads = threads;
    f->col = aud_malloc((nf ? nf : 1) * sizeof *f->col);
    int by_cols = f->col != NULL;
    for (size_t j = 0; by_cols && j < nf; j++)
        by_cols = (f->col[j] = aud_model_feature_column(m, t, bind, j)) != NULL;
    if (by_cols) {
        f->cb = aud_malloc((nf ? nf : 1) * sizeof *f->cb);
    } else {
        aud_free(f->col);
        f->col = NULL;
        f->X = aud_malloc(f->blk * (nf ? nf : 1) * sizeof *f->X);
    }
    if (f->cb == NULL && f->X == NULL) {
        aud_why_feed_free(f);
        return aud_error_nomem(err);
    }
    return AUD_OK;
}

int aud_why_feed_add(aud_why_feed *f, aud_shap_cells *sc, size_t b0, size_t n,
                     const int32_t *cell, aud_error *err)
{
    if (f->X != NULL) {   /* the block's model inputs in chunks on the threads */
        aud_model_fill_rows_on(f->m, f->t, f->bind, b0, b0 + n, f->X, f->threads);
        return aud_shap_cells_add(sc, f->X, n, cell, NULL, err);
    }
    for (size_t j = 0; j < f->m->n_features; j++)
        f->cb[j] = f->col[j] + b0;
    return aud_shap_cells_add_cols(sc, f->cb, n, cell, NULL, err);
}

void aud_why_feed_free(aud_why_feed *f)
{
    aud_free(f->col);
    aud_free(f->cb);
    aud_free(f->X);
    memset(f, 0, sizeof *f);
}

/* All rows of a tree model through per-cell sums (explainers/shap_cells.c): cell[i] is row i's
 * cell (row_cells), gk each grouping's group of each cell (cells_groups); the cells are added
 * into each attribute's and intersection's groups afterwards. */
static int explain_cells(why_state *w, size_t n_cells, const int32_t *cell, const int32_t *gk,
                         aud_error *err)
{
    const why_in *in = w->in;
    size_t n = in->data->n_rows, nf = w->nf;
    aud_shap_cells *sc = NULL;
    aud_why_feed feed;
    int rc = aud_why_feed_init(&feed, in->model, in->data, in->bind, w->so.threads, err);
    if (rc != AUD_OK)
        return rc;
    long double *psum = aud_calloc(n_cells, sizeof *psum);
    if (psum == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    rc = aud_shap_cells_new(&sc, in->model, n_cells, 1, w->so.threads, err);
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += feed.blk) {
        size_t m = n - b0 < feed.blk ? n - b0 : feed.blk;
        for (size_t i = b0; w->probability && i < b0 + m; i++)
            psum[cell[i]] += in->score[i];
        rc = aud_why_feed_add(&feed, sc, b0, m, cell + b0, err);
    }
    if (rc != AUD_OK)
        goto done;
    const double *sums = aud_shap_cells_sums(sc);
    const uint64_t *cnt = aud_shap_cells_counts(sc);
    for (size_t c = 0; c < n_cells; c++) {
        const double *s0 = sums + c * (nf + 1);
        double out = s0[nf];
        for (size_t j = 0; j < nf; j++)
            out += s0[j];
        for (size_t a = 0; a < in->n_wa; a++) {
            int32_t g = gk[a * n_cells + c];
            if (g >= 0)
                aud_fdrv_acc_add_sums(&w->margin[a], (size_t)g, cnt[c], s0, out,
                                      w->probability ? (double)psum[c] : NAN);
        }
    }
done:
    aud_shap_cells_free(sc);
    aud_why_feed_free(&feed);
    aud_free(psum);
    return rc;
}

/* ---- proxy screen ---------------------------------------------------------------------------- */

/* More combinations of the attributes' values than this: the screen takes each grouping's codes
 * in turn (aud_assoc_compute_set) rather than the cells once (aud_assoc_compute_cells). */
#define SCREEN_MAX_CELLS 4096

typedef struct screen_job {
    const why_in  *in;
    aud_assoc     *assoc;
    unsigned char *is_attr;
    _Atomic size_t *next;         /* the next feature to take (shared: a thread on a slower
                                     core takes fewer) */
    const int32_t *cell;          /* every row's cell, or NULL: each grouping's codes */
    size_t         n_cells;
    const int32_t *const *gmap;   /* per grouping: its level of each cell, or -1 */
    int            rc;
    aud_error      err;
} screen_job;

/* 1 when the column named `col` is the attribute itself or one of the intersection's parts. */
static int is_part(const why_in *in, const why_attr *wa, const char *col)
{
    for (size_t a = 0; a < in->n_attrs; a++) {
        if ((wa->mask >> a & 1u) && strcmp(col, in->attrs[a].name) == 0)
            return 1;
    }
    return 0;
}

static void *screen_run(void *p)
{
    screen_job *j = p;
    const why_in *in = j->in;
    size_t nf = in->model->n_features, na = in->n_wa;
    const int32_t **codes = aud_malloc((na ? na : 1) * sizeof *codes);
    size_t *levels = aud_malloc((na ? na : 1) * sizeof *levels);
    aud_assoc *out = aud_malloc((na ? na : 1) * sizeof *out);
    aud_assoc_ws ws = {NULL, NULL, 0};   /* this thread's buffers, feature after feature */
    if (codes == NULL || levels == NULL || out == NULL)
        j->rc = aud_error_nomem(&j->err);
    for (size_t a = 0; a < na && j->rc == AUD_OK; a++) {
        codes[a] = in->wa[a].codes;
        levels[a] = in->wa[a].n_levels;
    }
    for (size_t f; j->rc == AUD_OK && (f = atomic_fetch_add(j->next, 1)) < nf;) {
        const aud_column *col = &in->data->cols[in->bind[f]];
        aud_assoc_feature af;
        if (col->type == AUD_COL_CATEGORICAL)   /* a categorical feature of a pipeline */
            j->rc = aud_assoc_feature_prepare_codes(&af, col->codes, col->n_levels,
                                                    in->data->n_rows, &j->err);
        else
            j->rc = aud_assoc_feature_prepare_ws(&af, col->num, in->data->n_rows, &ws, &j->err);
        if (j->rc == AUD_OK && j->cell != NULL)   /* every grouping from one pass over the rows */
            j->rc = aud_assoc_compute_cells(&af, j->cell, j->n_cells, j->gmap, levels, na, out,
                                            &j->err);
        else if (j->rc == AUD_OK)
            j->rc = aud_assoc_compute_set(&af, codes, levels, na, out, &j->err);
        for (size_t a = 0; a < na && j->rc == AUD_OK; a++) {
            j->assoc[a * nf + f] = out[a];
            j->is_attr[a * nf + f] = (unsigned char)is_part(in, &in->wa[a], col->name);
        }
        aud_assoc_feature_free(&af);
    }
    aud_assoc_ws_free(&ws);
    aud_free(codes);
    aud_free(levels);
    aud_free(out);
    return NULL;
}

/* The association of every feature with every attribute and intersection, features spread over
 * the threads (each result has its own slot: the same for any thread count). cell: every row's
 * cell and gk each grouping's group of each cell, or NULL (more than SCREEN_MAX_CELLS cells):
 * each grouping's codes in turn. */
static int screen(const why_in *in, const int32_t *cell, size_t n_cells, const int32_t *gk,
                  aud_assoc *assoc, unsigned char *is_attr, aud_error *err)
{
    size_t nf = in->model->n_features;
    size_t nt = in->threads > 1 ? (size_t)in->threads : 1;
    nt = nt > nf ? (nf ? nf : 1) : nt;
    screen_job *jobs = aud_calloc(nt, sizeof *jobs);
    if (jobs == NULL)
        return aud_error_nomem(err);
    const int32_t **gmap = cell != NULL ? aud_malloc((in->n_wa + 1) * sizeof *gmap) : NULL;
    if (cell != NULL && gmap == NULL) {
        aud_free(jobs);
        return aud_error_nomem(err);
    }
    for (size_t a = 0; gmap != NULL && a < in->n_wa; a++)
        gmap[a] = gk + a * n_cells;
    _Atomic size_t next = 0;
    for (size_t t = 0; t < nt; t++)
        jobs[t] = (screen_job){in, assoc, is_attr, &next, cell, n_cells, gmap, AUD_OK, {0}};
    aud_run_jobs(jobs, nt, sizeof *jobs, screen_run);
    aud_free(gmap);
    int rc = AUD_OK;
    for (size_t t = 0; t < nt && rc == AUD_OK; t++) {
        if (jobs[t].rc != AUD_OK) {
            *err = jobs[t].err;
            rc = jobs[t].rc;
        }
    }
    aud_free(jobs);
    return rc;
}

/* ---- merged runs: the partials' sums per cell (audit/merge_why.c) ------------------------- */

static int cmp_dbl(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The merged cells' codes of every attribute (*lv: n_cells x n_attrs, -1 unknown): a cell's
 * value of attribute a is found in a row of the table, whose code it takes. */
static int merged_codes(const why_in *in, int32_t **lv, aud_error *err)
{
    const aud_why_merged *m = in->merged;
    size_t nc = m->n_cells, na = in->n_attrs, n = in->data->n_rows;
    *lv = aud_malloc((nc * na + 1) * sizeof **lv);
    double *vals = aud_malloc((nc + 1) * sizeof *vals);
    int32_t *code = aud_malloc((nc + 1) * sizeof *code);
    int rc = *lv != NULL && vals != NULL && code != NULL ? AUD_OK : aud_error_nomem(err);
    if (rc == AUD_OK && m->n_attrs != na)
        rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "the partials' attributes differ");
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        long j = aud_table_find(in->data, in->attrs[a].name);
        if (j < 0) {
            rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "no column %s", in->attrs[a].name);
            break;
        }
        const aud_column *col = &in->data->cols[j];
        size_t nv = 0, left;
        int32_t nan_code = -2;
        for (size_t k = 0; k < nc; k++)
            if (!isnan(m->key[k * na + a]))
                vals[nv++] = m->key[k * na + a];
        qsort(vals, nv, sizeof *vals, cmp_dbl);
        size_t u = 0;
        for (size_t k = 0; k < nv; k++)
            if (u == 0 || vals[u - 1] != vals[k])
                vals[u++] = vals[k];
        for (size_t k = 0; k < u; k++)
            code[k] = -2;
        left = u + 1;
        for (size_t i = 0; i < n && left > 0; i++) {   /* one row of each value */
            double x = col->type == AUD_COL_NUMERIC ? col->num[i]
                       : col->codes[i] < 0 ? NAN : (double)col->codes[i];
            if (isnan(x)) {
                left -= nan_code == -2;
                nan_code = in->attrs[a].codes[i];
                continue;
            }
            double *hit = bsearch(&x, vals, u, sizeof *vals, cmp_dbl);
            if (hit != NULL && code[hit - vals] == -2) {
                code[hit - vals] = in->attrs[a].codes[i];
                left--;
            }
        }
        for (size_t k = 0; k < nc && rc == AUD_OK; k++) {
            double x = m->key[k * na + a];
            double *hit = isnan(x) ? NULL : bsearch(&x, vals, u, sizeof *vals, cmp_dbl);
            int32_t cd = isnan(x) ? (nan_code == -2 ? -1 : nan_code) : code[hit - vals];
            if (cd == -2)   /* only a partial made up by hand */
                rc = aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0,
                                   "a partial's \"why\" cell of %s matches no row of the "
                                   "partials", in->attrs[a].name);
            (*lv)[k * na + a] = cd;
        }
    }
    aud_free(vals);
    aud_free(code);
    return rc;
}

/* The drivers' sums of every grouping from the merged cells (as explain_cells); a linear
 * model's from the cells' input sums and the single run's background (exact to rounding). */
static int merged_sums(why_state *w, const int32_t *lv, aud_error *err)
{
    const why_in *in = w->in;
    const aud_why_merged *m = in->merged;
    size_t nf = w->nf, nc = m->n_cells;
    const double *phi = m->phi, *out = m->out;
    double *lphi = NULL, *lout = NULL;
    if (m->xsum != NULL && in->model->kind != AUD_MODEL_LINEAR)   /* a partial made up */
        return aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0, "the partials' \"why\" blocks hold "
                             "a linear model's sums, the spec's model is not linear");
    if (m->xsum != NULL) {
        lphi = aud_malloc((nc * nf + 1) * sizeof *lphi);
        lout = aud_malloc((nc + 1) * sizeof *lout);
        if (lphi == NULL || lout == NULL) {
            aud_free(lphi);
            aud_free(lout);
            return aud_error_nomem(err);
        }
        aud_shap_linear_cells(in->model, m->bg, m->n_bg, m->xsum, m->count, nc, lphi, lout);
        phi = lphi;
        out = lout;
    }
    for (size_t k = 0; k < nc; k++)
        for (size_t a = 0; a < in->n_wa; a++) {
            int32_t g = group_of(in, &in->wa[a], lv + k * in->n_attrs);
            if (g >= 0)
                aud_fdrv_acc_add_sums(&w->margin[a], (size_t)g, m->count[k], phi + k * nf,
                                      out[k],
                                      w->probability && m->prob != NULL ? m->prob[k] : NAN);
        }
    aud_free(lphi);
    aud_free(lout);
    return AUD_OK;
}

/* Sampled methods: the single run's sample drawn from the partials' candidates (bottom-k, so
 * their union holds it), explained through the same code in the same order (file order, same
 * blocks): the single run's sums bit for bit. */
static int merged_sample(why_state *w, const int32_t *lv, aud_error *err)
{
    const why_in *in = w->in;
    const aud_why_merged *m = in->merged;
    size_t n = m->n_cand, na = in->n_wa;
    if (m->n_features != w->nf)
        return aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0, "not a valid audit partial: its "
                             "\"why\" block has %zu features, the model %zu", m->n_features,
                             w->nf);
    w->ccodes = aud_malloc((na * n + 1) * sizeof *w->ccodes);
    if (w->ccodes == NULL)
        return aud_error_nomem(err);
    for (size_t a = 0; a < na; a++)   /* background-only candidates are in no group's sample */
        for (size_t i = 0; i < n; i++)
            w->ccodes[a * n + i] = m->c_kind[i] & 1
                                       ? group_of(in, &in->wa[a], lv + m->c_cell[i] * in->n_attrs)
                                       : -1;
    w->cx = m->c_x;
    w->cprob = m->c_prob;
    w->n_cand = n;
    int rc = stratified_rows(w, n, m->c_row, w->ccodes, err);
    return rc == AUD_OK ? explain_all(w, err) : rc;
}

/* f(p) = -p ln p over p in [a, b] (concave, largest at 1/e): *lo, *hi its range. */
static void plogp_range(double a, double b, double *lo, double *hi)
{
    double fa = a > 0 ? -a * log(a) : 0.0, fb = b > 0 ? -b * log(b) : 0.0;
    *lo = fmin(fa, fb);
    *hi = a <= exp(-1.0) && exp(-1.0) <= b ? exp(-1.0) : fmax(fa, fb);
}

/* The largest sum of -p ln p, p = x_b / n, over x in the box [lo_b, hi_b] (stride apart) with
 * sum x_b = tot: concave, so at the x where the derivatives are equal except at the box's
 * walls, x_b = clamp(n t, lo_b, hi_b) with t found by bisection (the sum increases with t). */
static double plogp_max(const uint64_t *lo, const uint64_t *hi, size_t c, size_t stride,
                        double tot, double n)
{
    double a = 0.0, b = 1.0, sum = 0.0;
    for (int it = 0; it < 200; it++) {
        double t = (a + b) / 2.0, s = 0.0;
        for (size_t j = 0; j < c; j++)
            s += fmin(fmax(n * t, (double)lo[j * stride]), (double)hi[j * stride]);
        if (s < tot)
            a = t;
        else
            b = t;
    }
    for (size_t j = 0; j < c; j++) {
        double x = fmin(fmax(n * b, (double)lo[j * stride]), (double)hi[j * stride]) / n;
        sum -= x > 0 ? x * log(x) : 0.0;
    }
    return sum;
}

/* Bounds on the NMI of the table tab (r x c) whose counts lie in [lo, hi] (the row totals are
 * exact): I = H(A) + H(X) - H(A, X), H(A) exact; the largest H(X) and H(A, X) within the boxes
 * and their totals (plogp_max, a little above the true largest: the bisection's side), the
 * smallest term by term (-p ln p is concave); NMI = I / ((H(A) + H(X)) / 2) then between b[0]
 * and b[1]. */
static void nmi_bounds(const uint64_t *tab, const uint64_t *lo, const uint64_t *hi, size_t r,
                       size_t c, double *b)
{
    double n = 0.0, ha = 0.0, hx[2] = {0, 0}, hax[2] = {0, 0}, l, h;
    uint64_t *cl = aud_calloc(2 * c + 1, sizeof *cl), *ch = cl != NULL ? cl + c : NULL;
    for (size_t i = 0; i < r * c; i++)
        n += (double)tab[i];
    b[0] = 0.0;
    b[1] = 1.0;
    if (n == 0 || cl == NULL) {
        aud_free(cl);
        return;
    }
    for (size_t i = 0; i < r; i++) {
        double rt = 0.0;
        for (size_t j = 0; j < c; j++) {
            rt += (double)tab[i * c + j];
            cl[j] += lo[i * c + j];
            ch[j] += hi[i * c + j];
            plogp_range((double)lo[i * c + j] / n, (double)hi[i * c + j] / n, &l, &h);
            hax[0] += l;
        }
        hax[1] += plogp_max(lo + i * c, hi + i * c, c, 1, rt, n);
        ha -= rt > 0 ? rt / n * log(rt / n) : 0.0;
    }
    for (size_t j = 0; j < c; j++) {
        plogp_range((double)cl[j] / n, fmin((double)ch[j], n) / n, &l, &h);
        hx[0] += l;
    }
    hx[1] = plogp_max(cl, ch, c, 1, n, n);
    aud_free(cl);
    double slack = 1e-12 * (ha + hx[1] + hax[1]);   /* the sums' rounding */
    double ilo = fmax(0.0, ha + hx[0] - hax[1] - slack);
    double ihi = fmax(0.0, ha + hx[1] - hax[0] + slack);
    double dlo = (ha + hx[0]) / 2.0, dhi = (ha + hx[1]) / 2.0;
    b[0] = dhi > 0 ? fmin(1.0, ilo / dhi) : 0.0;
    b[1] = dlo > 0 ? fmin(1.0, ihi / dlo) : 1.0;
}

/* One feature's association with grouping a from the merged cells (aud_assoc_compute_set's
 * figures: the same tables; eta from the groups' moments). bnd: the NMI's bounds when the
 * counts are bounded (else left). */
static int merged_assoc(const why_in *in, const aud_why_feat *ft, const int32_t *gk,
                        size_t r, aud_assoc *out, double *bnd, aud_error *err)
{
    size_t nc = in->merged->n_cells, L = ft->n_levels ? ft->n_levels : 1;
    uint64_t *tab = aud_calloc(r * L + 1, sizeof *tab);
    uint64_t *lo = ft->lo ? aud_calloc(r * L + 1, sizeof *lo) : NULL;
    uint64_t *hi = ft->lo ? aud_calloc(r * L + 1, sizeof *hi) : NULL;
    double *cnt = aud_calloc(r + 1, sizeof *cnt), *mean = aud_calloc(r + 1, sizeof *mean),
           *m2 = aud_calloc(r + 1, sizeof *m2);
    long double *sum = aud_calloc(r + 1, sizeof *sum);
    memset(out, 0, sizeof *out);
    if (tab == NULL || cnt == NULL || mean == NULL || m2 == NULL || sum == NULL ||
        (ft->lo != NULL && (lo == NULL || hi == NULL))) {
        aud_free(tab), aud_free(lo), aud_free(hi), aud_free(cnt), aud_free(mean), aud_free(m2);
        aud_free(sum);
        return aud_error_nomem(err);
    }
    for (size_t k = 0; k < nc; k++) {
        int32_t g = gk[k];
        if (g < 0)
            continue;
        out->n += in->merged->count[k];
        for (size_t l = 0; l < ft->n_levels; l++) {
            tab[(size_t)g * L + l] += ft->tab[k * L + l];
            if (lo != NULL) {
                lo[(size_t)g * L + l] += ft->lo[k * L + l];
                hi[(size_t)g * L + l] += ft->hi[k * L + l];
            }
        }
        sum[g] += ft->sum[k];
        double n = ft->cnt[k];   /* Chan, Golub & LeVeque (1979) */
        if (n > 0) {
            double N = cnt[g] + n, d = ft->mean[k] - mean[g];
            m2[g] += ft->m2[k] + d * d * cnt[g] * n / N;
            mean[g] += d * n / N;
            cnt[g] = N;
        }
    }
    int rc = AUD_OK;
    out->nmi = aud_assoc_nmi(tab, r, L);
    if (isnan(out->nmi))
        rc = aud_error_nomem(err);
    if (lo != NULL) {   /* bounded counts: the NMI within its bounds */
        nmi_bounds(tab, lo, hi, r, L, bnd);
        out->nmi = fmin(fmax(out->nmi, bnd[0]), bnd[1]);
    }
    if (ft->discrete) {
        out->measure = "cramers_v";
        out->association = aud_assoc_cramers_v(tab, r, L, &out->why);
    } else {   /* eta = sqrt(SS_between / SS_total) as metrics/assoc.c correlation_ratio, the
                  means from the cells' long double sums (of the partials' sums, JSON doubles;
                  assoc.c takes each group's difference from the mean before rounding);
                  SS_total = SS_within + SS_between */
        double M = 0.0, ssb = 0.0, ssw = 0.0;
        long double tot = 0.0L;
        for (size_t g = 0; g < r; g++) {
            M += cnt[g];
            tot += sum[g];
        }
        double mu = M > 0 ? (double)(tot / (long double)M) : 0.0;
        for (size_t g = 0; g < r; g++) {
            if (cnt[g] > 0) {
                double d = (double)(sum[g] / (long double)cnt[g]) - mu;
                ssb += cnt[g] * d * d;
                ssw += m2[g] + cnt[g] * (mean[g] - (double)(sum[g] / (long double)cnt[g])) *
                                   (mean[g] - (double)(sum[g] / (long double)cnt[g]));
            }
        }
        out->measure = "correlation_ratio";
        out->association = NAN;
        if (M == 0)
            out->why = "no row has both values";
        else if (ssb + ssw == 0.0)
            out->why = "the feature is constant";
        else
            out->association = sqrt(ssb / (ssb + ssw));
    }
    aud_free(tab), aud_free(lo), aud_free(hi), aud_free(cnt), aud_free(mean), aud_free(m2);
    aud_free(sum);
    return rc;
}

/* The proxy screen of every feature and grouping from the merged cells; bounds[(a * nf + f) *
 * 2 + 0..1] the NMI's bounds (NaN: exact). */
static int merged_screen(const why_in *in, const int32_t *lv, aud_assoc *assoc,
                         unsigned char *is_attr, double *bounds, aud_error *err)
{
    size_t nf = in->model->n_features, nc = in->merged->n_cells;
    int32_t *gk = cells_groups(in, lv, nc, err);
    int rc = gk != NULL ? AUD_OK : AUD_E_NOMEM;
    for (size_t a = 0; a < in->n_wa && rc == AUD_OK; a++) {
        for (size_t f = 0; f < nf && rc == AUD_OK; f++) {
            const char *col = in->data->cols[in->bind[f]].name;
            double *b = bounds + (a * nf + f) * 2;
            b[0] = b[1] = NAN;
            rc = merged_assoc(in, &in->merged->feat[f], gk + a * nc, in->wa[a].n_levels,
                              &assoc[a * nf + f], b, err);
            is_attr[a * nf + f] = (unsigned char)is_part(in, &in->wa[a], col);
        }
    }
    aud_free(gk);
    return rc;
}

/* "nmi_bounds" on the proxies of attr whose NMI is bounded (merged runs). */
static int add_nmi_bounds(cJSON *attr, const why_in *in, const double *bounds)
{
    cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(attr, "proxies")) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "feature");
        for (size_t f = 0; cJSON_IsString(name) && f < in->model->n_features; f++) {
            if (strcmp(in->model->feature_names[f], name->valuestring) != 0 ||
                isnan(bounds[2 * f]))
                continue;
            cJSON *b = cJSON_AddArrayToObject(p, "nmi_bounds");
            if (b == NULL || !cJSON_AddItemToArray(b, aud_json_num(bounds[2 * f])) ||
                !cJSON_AddItemToArray(b, aud_json_num(bounds[2 * f + 1])))
                return -1;
        }
    }
    return 0;
}

/* ---- the whole ------------------------------------------------------------------------------- */

typedef struct trade_job {
    const why_in  *in;
    cJSON         *doc;
    size_t         a;
    unsigned char *elig;
    int            rc;
    aud_error      err;
} trade_job;

static void *trade_run(void *p)
{
    trade_job *j = p;
    const why_in *in = j->in;
    why_attr wa = base_attr(in, j->a);
    cJSON *o = attr_object(j->doc, wa.name);
    size_t ref = 0;
    if (o == NULL || level_info(&wa, j->elig, &ref) != 0)
        return NULL;
    aud_tradeoff_input t = {in->data->n_rows, in->res->ranks, in->label, wa.codes,
                            wa.n_levels, wa.levels, j->elig, ref,
                            in->favorable, in->threshold, 0, in->threads};
    j->rc = aud_tradeoff_json(o, &t, &j->err);
    return NULL;
}

/* The trade-offs of every attribute (not of the intersections), the attributes spread over the
 * threads (each writes only its own attribute's object; the first error in attribute order is
 * reported). */
static int add_tradeoffs(cJSON *doc, const why_in *in, size_t maxl, aud_error *err)
{
    if (in->res->ranks == NULL)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "the scores are not ranked");
    int rc = AUD_OK;
    size_t na = in->n_attrs;
    for (size_t a = 0; a < na && rc == AUD_OK; a++)
        if (aud_tradeoff_needs_order(in->res->ranks, in->attrs[a].n_levels, 0))
            rc = aud_fair_ranks_order(in->res->ranks, err);
    trade_job *jobs = aud_calloc(na ? na : 1, sizeof *jobs);
    unsigned char *elig = aud_malloc((na ? na : 1) * maxl);
    if (rc == AUD_OK && (jobs == NULL || elig == NULL))
        rc = aud_error_nomem(err);
    for (size_t a = 0; a < na && rc == AUD_OK; a++)
        jobs[a] = (trade_job){in, doc, a, elig + a * maxl, AUD_OK, {0}};
    /* jobs in turn when one thread is asked for */
    size_t nt = in->threads > 1 ? (size_t)in->threads : 1;
    for (size_t a0 = 0; a0 < na && rc == AUD_OK; a0 += nt)
        aud_run_jobs(jobs + a0, na - a0 < nt ? na - a0 : nt, sizeof *jobs, trade_run);
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        if (jobs[a].rc != AUD_OK) {
            *err = jobs[a].err;
            rc = jobs[a].rc;
        }
    }
    aud_free(jobs);
    aud_free(elig);
    return rc;
}

static int explainable(const why_in *in)
{
    const aud_model *m = in->model;
    return m != NULL && m->n_outputs == 1 && m->feature_names != NULL;
}

static int why_run(cJSON *doc, why_in *in, aud_error *err)
{
    size_t maxl = 1;
    for (size_t a = 0; a < in->n_attrs; a++)
        maxl = in->attrs[a].n_levels > maxl ? in->attrs[a].n_levels : maxl;
    int rc = AUD_OK;
    if (in->score != NULL)
        rc = add_tradeoffs(doc, in, maxl, err);
    if (rc != AUD_OK || !explainable(in))
        return rc;
    if (in->n_attrs + in->res->n_inters > AUD_WHY_MAX_GROUPINGS)
        return AUD_OK;   /* as many as the sample's bits allow (metrics: at most 6 + 57) */
    rc = groupings(in, err);
    for (size_t a = 0; a < in->n_wa; a++)
        maxl = in->wa[a].n_levels > maxl ? in->wa[a].n_levels : maxl;
    unsigned char *elig = aud_malloc(maxl);
    if (rc == AUD_OK && elig == NULL)
        rc = aud_error_nomem(err);
    if (rc != AUD_OK) {
        aud_free(elig);
        return rc;
    }
    why_state w;
    memset(&w, 0, sizeof w);
    w.in = in;
    w.nf = in->model->n_features;
    w.probability = in->model->is_classifier && in->score != NULL;
    aud_shap_opts_default(&w.so);
    w.so.method = aud_shap_method_resolve(in->method, in->model);
    w.so.threads = in->threads > 0 ? in->threads : 1;
    w.so.seed = in->seed;
    w.so.background = in->background;
    w.so.n_background = in->n_background;
    if (in->merged != NULL && in->merged->bg != NULL) {   /* the single run's (linear) */
        w.so.background = in->merged->bg;
        w.so.n_background = in->merged->n_bg;
    }
    int all = w.so.method == AUD_SHAP_TREE || w.so.method == AUD_SHAP_LINEAR;
    const aud_why_merged *mg = in->merged != NULL && in->merged->sampled ? in->merged : NULL;
    double *bg = NULL;   /* a background sample of the data when the method needs one */
    if (in->background == NULL && aud_shap_method_uses_background(w.so.method) &&
        (!in->merged_run || mg != NULL)) {
        size_t nb = in->data->n_rows < AUD_SHAP_DEFAULT_BACKGROUND ? in->data->n_rows
                                                                   : AUD_SHAP_DEFAULT_BACKGROUND;
        size_t *idx = aud_malloc((nb ? nb : 1) * sizeof *idx);
        bg = aud_malloc((nb ? nb : 1) * (w.nf ? w.nf : 1) * sizeof *bg);
        int nomem = idx == NULL || bg == NULL;
        size_t got = 0;
        if (!nomem && mg != NULL)   /* the partials' background candidates */
            got = background_rows(in, mg->n_cand, mg->c_row, mg->c_kind, nb, idx, &nomem);
        else if (!nomem && !all)    /* bottom-k, as a merged run draws it */
            got = background_rows(in, in->data->n_rows, NULL, NULL, nb, idx, &nomem);
        else if (!nomem)
            got = aud_shap_sample_rows(in->data->n_rows, nb, in->seed + 2, idx);
        if (nomem || got != nb) {
            aud_free(idx);
            aud_free(bg);
            aud_free(elig);
            return nomem ? aud_error_nomem(err)
                         : aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0,
                                         "not a valid audit partial: the partials' background "
                                         "candidates hold %zu of the %zu background rows",
                                         got, nb);
        }
        for (size_t i = 0; i < nb; i++) {
            if (mg != NULL)
                memcpy(bg + i * w.nf, mg->c_x + idx[i] * w.nf, w.nf * sizeof *bg);
            else
                aud_model_fill_rows(in->model, in->data, in->bind, idx[i], idx[i] + 1,
                                    bg + i * w.nf);
        }
        aud_free(idx);
        w.so.background = bg;
        w.so.n_background = nb;
    }
    size_t nf = w.nf, na = in->n_wa;
    double *bounds = NULL;   /* merged runs: the NMI's bounds */
    int32_t *lv = NULL;   /* the cells' attribute codes (merged_codes, cell_codes) */
    int32_t *cell = NULL, *gk = NULL;   /* the single run's rows' cells; the cells' groups */
    aud_assoc *assoc = aud_calloc(na * nf + 1, sizeof *assoc);
    unsigned char *is_attr = aud_calloc(na * nf + 1, 1);
    w.margin = aud_calloc(na ? na : 1, sizeof *w.margin);
    if (assoc == NULL || is_attr == NULL || w.margin == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t a = 0; a < na && rc == AUD_OK; a++)
        rc = aud_fdrv_acc_init(&w.margin[a], in->wa[a].n_levels, nf, err);
    if (rc == AUD_OK && !all && !in->merged_run)
        rc = stratified_rows(&w, in->data->n_rows, NULL, NULL, err);
    size_t stride[AUD_WHY_MAX_GROUPINGS], n_cells = 0;
    if (rc == AUD_OK && in->merged_run && in->merged == NULL)   /* skipped, with the reason */
        goto done;
    if (rc == AUD_OK && in->model->kind == AUD_MODEL_COMMAND)   /* not worth its cost */
        aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                      "a model behind a command: drivers would need KernelSHAP values of a "
                      "stratified sample through the program; explain rows with audit explain "
                      "--model-cmd");
    if (rc == AUD_OK && (in->model->kind == AUD_MODEL_COMMAND ||
                         aud_shap_check(in->model, &w.so, err) != AUD_OK)) {
        /* the model cannot be explained (no covers, too many features...): say why, go on */
        for (size_t a = 0; a < na && rc == AUD_OK; a++) {
            cJSON *o = attr_object(doc, in->wa[a].name);
            if (o != NULL && cJSON_AddStringToObject(o, "drivers_reason", err->msg) == NULL)
                rc = aud_error_nomem(err);
        }
        if (rc == AUD_OK)
            aud_error_clear(err);
        goto done;
    }
    if (rc == AUD_OK && in->merged_run) {   /* the partials' sums (audit/merge_why.c) */
        bounds = aud_malloc((na * nf + 1) * 2 * sizeof *bounds);
        rc = bounds != NULL ? merged_codes(in, &lv, err) : aud_error_nomem(err);
        if (rc == AUD_OK && mg != NULL && all)   /* a partial made up */
            rc = aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0, "not a valid audit partial: its "
                               "\"why\" block holds sample candidates for a method that "
                               "explains every row");
        else if (rc == AUD_OK && mg != NULL)
            rc = merged_sample(&w, lv, err);
        else if (rc == AUD_OK)
            rc = merged_sums(&w, lv, err);
        if (rc == AUD_OK && in->merged->feat != NULL)
            rc = merged_screen(in, lv, assoc, is_attr, bounds, err);
    } else if (rc == AUD_OK) {   /* the rows' cells once, for the drivers and the screen */
        n_cells = cell_strides(in, stride, SCREEN_MAX_CELLS);
        if (n_cells <= SCREEN_MAX_CELLS) {
            cell = row_cells(in, stride);
            lv = cell != NULL ? cell_codes(in, stride, n_cells) : NULL;
            gk = lv != NULL ? cells_groups(in, lv, n_cells, err) : NULL;
            rc = gk != NULL ? AUD_OK : aud_error_nomem(err);
        }
        if (rc == AUD_OK && w.so.method == AUD_SHAP_TREE && n_cells <= AUD_WHY_MAX_CELLS)
            rc = explain_cells(&w, n_cells, cell, gk, err);
        else if (rc == AUD_OK)
            rc = explain_all(&w, err);
    }
    if (rc == AUD_OK && !in->merged_run)
        rc = screen(in, gk != NULL ? cell : NULL, n_cells, gk, assoc, is_attr, err);
    char method[200];
    if (all)
        snprintf(method, sizeof method, "%s SHAP values of all %zu rows",
                 aud_shap_method_name(w.so.method), in->data->n_rows);
    else
        snprintf(method, sizeof method,
                 "%s SHAP values of a seeded sample of at most %d rows of each group (%zu rows "
                 "explained in all)",
                 aud_shap_method_name(w.so.method), AUD_WHY_SAMPLE_PER_GROUP, w.n_rows);
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        cJSON *o = attr_object(doc, in->wa[a].name);
        size_t ref = 0;
        if (o == NULL || level_info(&in->wa[a], elig, &ref) != 0)
            continue;
        int no_screen = in->merged != NULL && in->merged->feat == NULL;
        aud_fdrv_json_input ji = {&w.margin[a],
                                  ref,
                                  elig,
                                  in->wa[a].levels,
                                  (const char *const *)in->model->feature_names,
                                  no_screen ? NULL : assoc + a * nf,
                                  is_attr + a * nf,
                                  method};
        rc = aud_fdrv_json(o, &ji, err);
        if (rc == AUD_OK && no_screen &&   /* said, not left out silently */
            cJSON_AddStringToObject(o, "proxies_reason", in->merged->screen_skip) == NULL)
            rc = aud_error_nomem(err);
        if (rc == AUD_OK && bounds != NULL && !no_screen &&
            add_nmi_bounds(o, in, bounds + a * nf * 2) != 0)
            rc = aud_error_nomem(err);
    }
done:
    aud_free(bounds);
    aud_free(lv);
    aud_free(cell);
    aud_free(gk);
    for (size_t a = 0; a < na; a++) {
        if (w.margin != NULL)
            aud_fdrv_acc_free(&w.margin[a]);
    }
    aud_free(w.margin);
    aud_free(w.rows);
    aud_free(w.mask);
    aud_free(w.ccodes);
    aud_free(assoc);
    aud_free(is_attr);
    aud_free(elig);
    aud_free(bg);
    return rc;
}

int aud_fair_why(cJSON *doc, const aud_fair_why_input *pub, aud_error *err)
{
    const aud_bound_attrs *ba = pub->attrs;
    aud_binding bm;
    memset(&bm, 0, sizeof bm);
    int rc = AUD_OK;
    if (pub->model != NULL)
        rc = aud_bind_model(&bm, pub->model, pub->model_path, pub->data, err);
    /* a model that refuses missing values: the binding layer's message (the callers' predictions
     * checked the same rows already; this keeps the drivers safe on their own) */
    if (rc == AUD_OK && pub->model != NULL)
        rc = aud_bind_check_missing(&bm, 0, pub->data->n_rows, err);
    if (rc == AUD_OK && ba->n_attrs != pub->res->n_attrs)
        rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "attributes differ from the result");
    if (rc == AUD_OK) {
        why_in in = {pub->model, pub->data, bm.cols, ba->attrs, ba->n_attrs, pub->res, pub->score,
                     pub->label, pub->favorable, pub->threshold, pub->method, pub->background,
                     pub->n_background, pub->seed, pub->threads, NULL, 0, pub->merged_run,
                     pub->merged};
        rc = why_run(doc, &in, err);
        groupings_free(in.wa, in.n_wa);
    }
    aud_binding_free(&bm);
    return rc;
}

int aud_fairness_doc(aud_fair_result **out, cJSON *doc, const aud_fairness_request *rq,
                     const aud_fair_opts *opts, int *by_position, aud_error *err)
{
    aud_fair_arrays arr;
    memset(&arr, 0, sizeof arr);
    aud_bound_attrs ba;
    int rc = aud_fairness_scored(out, rq, opts, by_position, doc != NULL ? &arr : NULL,
                                 doc != NULL ? &ba : NULL, err);
    if (rc == AUD_OK && doc != NULL)
        rc = aud_fair_to_json(*out, doc, err);
    if (rc == AUD_OK && doc != NULL) {   /* drivers, proxies, trade-offs (SPEC section 7) */
        aud_fair_why_input wi = {
            .model = rq->model, .model_path = rq->model_path, .data = rq->data, .attrs = &ba,
            .res = *out, .score = arr.score, .label = arr.label, .favorable = opts->favorable,
            .threshold = opts->threshold, .method = AUD_SHAP_AUTO, .seed = opts->seed,
            .threads = opts->threads};
        rc = aud_fair_why(doc, &wi, err);
    }
    if (doc != NULL)
        aud_bound_attrs_free(&ba);
    aud_fair_arrays_free(&arr);
    if (rc != AUD_OK) {
        aud_fair_result_free(*out);
        *out = NULL;
    }
    return rc;
}
