/* csv_dict.c - categorical dictionaries of the CSV reader: open addressing over slots that hold
 * each level's first 8 bytes (zero-padded), its length and its code, so that a lookup is one
 * multiplicative hash of that word and the length (Knuth, TAOCP vol. 3, 6.4), one slot read and,
 * for a level longer than 8 bytes, one comparison of the rest - the same straight-line work for
 * a column of 2 levels or of 10^6, with no loop over the levels nor a branch per byte. */
#include "core/csv_int.h"

#include <string.h>

static inline size_t slot_hash(uint64_t w, size_t n, size_t cap)
{
    uint64_t h = (w ^ (uint64_t)n * UINT64_C(0x9E3779B97F4A7C15)) * UINT64_C(0xD6E8FEB86659FD93);
    h ^= h >> 32;
    return (size_t)(h * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (cap - 1);
}

uint64_t aud_csv_prefix_word(const char *s, size_t n)
{
    unsigned char b[8] = {0};
    memcpy(b, s, n < 8 ? n : 8);
    uint64_t w;
    memcpy(&w, b, sizeof w);
    return w;
}

static int dict_grow(csv_dict *d)
{
    size_t ncap = d->cap ? d->cap * 2 : 16;
    csv_slot *ns = aud_calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t k = 0; k < d->cap; k++) {
        const csv_slot *o = &d->slots[k];
        if (o->code == 0)
            continue;
        size_t h = slot_hash(o->pre, o->len, ncap);
        while (ns[h].code != 0)
            h = (h + 1) & (ncap - 1);
        ns[h] = *o;
    }
    aud_free(d->slots);
    d->slots = ns;
    d->cap = ncap;
    return 0;
}

void aud_csv_dict_free(csv_dict *d)
{
    aud_free(d->slots);
}

int32_t aud_csv_dict_code_w(csv_dict *d, aud_column *c, const char *s, size_t n, uint64_t w,
                            int *added)
{
    *added = 0;
    if ((c->n_levels + 1) * 2 > d->cap && dict_grow(d) != 0)
        return -1;
    size_t h = slot_hash(w, n, d->cap);
    for (;;) {
        const csv_slot *sl = &d->slots[h];
        if (sl->code == 0)
            break;
        /* lengths and prefix first: s may hold a NUL byte (rejected later), a level never
         * does */
        if (sl->pre == w && sl->len == n &&
            (n <= 8 || memcmp(c->levels[sl->code - 1] + 8, s + 8, n - 8) == 0))
            return sl->code - 1;
        h = (h + 1) & (d->cap - 1);
    }
    if (c->n_levels >= INT32_MAX - 1 || n > UINT32_MAX)
        return -2;
    if ((c->n_levels & (c->n_levels - 1)) == 0) {   /* grow levels at powers of two */
        size_t ncap = c->n_levels ? c->n_levels * 2 : 8;
        char **nl = aud_realloc(c->levels, ncap * sizeof *nl);
        if (nl == NULL)
            return -1;
        c->levels = nl;
    }
    char *copy = aud_malloc(n + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    int32_t code = (int32_t)c->n_levels;
    c->levels[code] = copy;
    c->n_levels++;
    d->slots[h] = (csv_slot){w, (uint32_t)n, code + 1};
    *added = 1;
    return code;
}

int32_t aud_csv_dict_code(csv_dict *d, aud_column *c, const char *s, size_t n, int *added)
{
    return aud_csv_dict_code_w(d, c, s, n, aud_csv_prefix_word(s, n), added);
}
