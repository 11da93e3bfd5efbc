/* fair_inter.c - the groups of an intersection of sensitive attributes ("a&b"): one code per
 * row over the combined levels (SPEC section 3). Used by fair_core.c for intersections and by
 * fair_ll144.c for the NYC LL144 view; apart from both so neither depends on the other. */
#include "metrics/fair_int.h"
#include "core/io.h"
#include "core/table.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aud_fair_inter_free(aud_fair_inter *ic)
{
    for (size_t i = 0; i < ic->n_levels; i++)
        aud_free(ic->levels[i]);
    aud_free(ic->levels);
    aud_free(ic->name);
    aud_free(ic->codes);
    memset(ic, 0, sizeof *ic);
}

/* One chunk of rows [b, e) of an intersection: pass 1 writes each row's cell in mixed-radix
 * order (-1: a component missing) and marks the cell used (relaxed atomics: any chunk may mark
 * any cell, always with the same value); pass 2 (map set) turns cells into level codes. */
typedef struct inter_chunk {
    const aud_fair_input *in;
    unsigned              mask;
    int32_t              *codes;
    atomic_uchar         *used;
    const int32_t        *map;
    size_t                b, e;
} inter_chunk;

static void *inter_main(void *arg)
{
    const inter_chunk *c = arg;
    const aud_fair_input *in = c->in;
    if (c->map != NULL) {
        for (size_t i = c->b; i < c->e; i++)
            if (c->codes[i] >= 0)
                c->codes[i] = c->map[c->codes[i]];
        return NULL;
    }
    aud_prefault(c->codes + c->b, (c->e - c->b) * sizeof *c->codes);   /* aud_malloc_slices */
    for (size_t i = c->b; i < c->e; i++) {
        size_t cell = 0;
        int unknown = 0;
        for (size_t a = 0; a < in->n_attrs; a++) {
            if (!(c->mask & (1u << a)))
                continue;
            int32_t k = in->attrs[a].codes[i];
            if (k < 0 || (size_t)k >= in->attrs[a].n_levels) {
                unknown = 1;
                break;
            }
            cell = cell * in->attrs[a].n_levels + (size_t)k;
        }
        c->codes[i] = unknown ? -1 : (int32_t)cell;
        /* read first: a cell's line stays shared among the chunks once it is marked */
        if (!unknown && !atomic_load_explicit(&c->used[cell], memory_order_relaxed))
            atomic_store_explicit(&c->used[cell], 1, memory_order_relaxed);
    }
    return NULL;
}

int aud_fair_inter_build(const aud_fair_ctx *ctx, unsigned mask, aud_fair_inter *ic,
                         aud_error *err)
{
    const aud_fair_input *in = ctx->in;
    int rc = AUD_OK;
    size_t cells = 1, name_len = 1;
    int32_t *map = NULL;
    atomic_uchar *used_cells = NULL;
    memset(ic, 0, sizeof *ic);
    if (in->n_attrs > AUD_FAIR_MAX_INTER_ATTRS)
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "intersections of more than %d attributes are not supported",
                             AUD_FAIR_MAX_INTER_ATTRS);
    for (size_t a = 0; a < in->n_attrs; a++) {
        if (!(mask & (1u << a)))
            continue;
        cells *= in->attrs[a].n_levels ? in->attrs[a].n_levels : 1;
        name_len += strlen(in->attrs[a].name) + 1;
        if (cells > AUD_FAIR_MAX_CELLS)
            return aud_error_set(err, AUD_E_UNSUPPORTED, in->source, 0, 0,
                                 "too many intersection groups (more than %u)",
                                 AUD_FAIR_MAX_CELLS);
    }
    ic->name = aud_malloc(name_len);
    map = aud_malloc(cells * sizeof *map);
    ic->codes = aud_malloc_slices(ctx->n * sizeof *ic->codes);
    if (ic->name == NULL || map == NULL || ic->codes == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    ic->name[0] = '\0';
    int first = 1;
    for (size_t a = 0; a < in->n_attrs; a++) {
        if (!(mask & (1u << a)))
            continue;
        if (!first)
            strcat(ic->name, "&");
        strcat(ic->name, in->attrs[a].name);
        first = 0;
    }
    /* the rows in chunks on the command's threads: the cell of each row, the cells used */
    used_cells = aud_calloc(cells, sizeof *used_cells);
    if (used_cells == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    inter_chunk ch[AUD_MAX_CHUNKS];
    size_t k = aud_row_chunks(ctx->n, ctx->opts->threads);
    for (size_t c = 0; c < k; c++)
        ch[c] = (inter_chunk){in, mask, ic->codes, used_cells, NULL, ctx->n * c / k,
                              ctx->n * (c + 1) / k};
    aud_run_jobs(ch, k, sizeof ch[0], inter_main);
    for (size_t c = 0; c < cells; c++)
        map[c] = atomic_load_explicit(&used_cells[c], memory_order_relaxed) ? 0 : -1;
    size_t used = 0;
    for (size_t c = 0; c < cells; c++)
        used += map[c] == 0;
    ic->levels = aud_calloc(used ? used : 1, sizeof *ic->levels);
    if (ic->levels == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t c = 0; c < cells; c++) {
        if (map[c] != 0)
            continue;
        size_t len = 1, rest = c;
        size_t idx[AUD_FAIR_MAX_INTER_ATTRS];
        for (size_t a = in->n_attrs; a-- > 0;) {
            if (!(mask & (1u << a)))
                continue;
            idx[a] = rest % in->attrs[a].n_levels;
            rest /= in->attrs[a].n_levels;
            len += strlen(in->attrs[a].levels[idx[a]]) + 1;
        }
        char *nm = aud_malloc(len);
        if (nm == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        nm[0] = '\0';
        first = 1;
        for (size_t a = 0; a < in->n_attrs; a++) {
            if (!(mask & (1u << a)))
                continue;
            if (!first)
                strcat(nm, "&");
            strcat(nm, in->attrs[a].levels[idx[a]]);
            first = 0;
        }
        ic->levels[ic->n_levels] = nm;
        map[c] = (int32_t)ic->n_levels++;
    }
    for (size_t c = 0; c < k; c++)
        ch[c].map = map;   /* pass 2: cells to level codes */
    aud_run_jobs(ch, k, sizeof ch[0], inter_main);
done:
    aud_free(used_cells);
    aud_free(map);
    if (rc != AUD_OK)
        aud_fair_inter_free(ic);
    return rc;
}
