/* csv_dict.c - categorical dictionaries of the CSV reader (open addressing, FNV-1a).
 * Columns of few levels (sex, race...) are looked up by a linear scan of the level lengths and
 * bytes, which is cheaper than hashing; the hash table is built when a column passes
 * DICT_LINEAR levels. */
#include "core/csv_int.h"

#include <string.h>

#define DICT_LINEAR 8

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int dict_grow(csv_dict *d, aud_column *c)
{
    size_t ncap = d->cap ? d->cap * 2 : 64;
    int32_t *ns = aud_calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t k = 0; k < c->n_levels; k++) {
        size_t h = (size_t)fnv1a(c->levels[k], d->lens[k]) & (ncap - 1);
        while (ns[h] != 0)
            h = (h + 1) & (ncap - 1);
        ns[h] = (int32_t)k + 1;
    }
    aud_free(d->slots);
    d->slots = ns;
    d->cap = ncap;
    return 0;
}

void aud_csv_dict_free(csv_dict *d)
{
    aud_free(d->slots);
    aud_free(d->lens);
}

int32_t aud_csv_dict_code(csv_dict *d, aud_column *c, const char *s, size_t n, int *added)
{
    *added = 0;
    /* lengths first: s may hold a NUL byte (rejected later), a level never does */
    if (d->last != 0 && d->lens[d->last - 1] == n && same_bytes(c->levels[d->last - 1], s, n))
        return d->last - 1;
    size_t h = 0;
    if (c->n_levels <= DICT_LINEAR) {
        for (size_t k = 0; k < c->n_levels; k++) {
            if (d->lens[k] == n && same_bytes(c->levels[k], s, n)) {
                d->last = (int32_t)k + 1;
                return (int32_t)k;
            }
        }
    } else {
        if ((c->n_levels + 1) * 2 > d->cap && dict_grow(d, c) != 0)
            return -1;
        h = (size_t)fnv1a(s, n) & (d->cap - 1);
        while (d->slots[h] != 0) {
            int32_t k = d->slots[h] - 1;
            if (d->lens[k] == n && same_bytes(c->levels[k], s, n)) {
                d->last = k + 1;
                return k;
            }
            h = (h + 1) & (d->cap - 1);
        }
    }
    if (c->n_levels >= INT32_MAX - 1)
        return -2;
    if ((c->n_levels & (c->n_levels - 1)) == 0) {   /* grow levels at powers of two */
        size_t ncap = c->n_levels ? c->n_levels * 2 : 8;
        char **nl = aud_realloc(c->levels, ncap * sizeof *nl);
        if (nl == NULL)
            return -1;
        c->levels = nl;
        size_t *nn = aud_realloc(d->lens, ncap * sizeof *nn);
        if (nn == NULL)
            return -1;
        d->lens = nn;
    }
    char *copy = aud_malloc(n + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    int32_t code = (int32_t)c->n_levels;
    c->levels[code] = copy;
    d->lens[code] = n;
    c->n_levels++;
    if (d->cap != 0)
        d->slots[h] = code + 1;
    d->last = code + 1;
    *added = 1;
    return code;
}
