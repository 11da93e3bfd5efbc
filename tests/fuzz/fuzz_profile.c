/* fuzz_profile.c - the reader of saved reference profiles (metrics/profile_ref.c,
 * aud_refprof_parse), then, for a profile it accepts, the expansion into a reference table and
 * the rank bounds. Each input is read twice: as it is, and with line 1's checksum replaced by
 * the right one, so that mutated bodies get past the checksum to the deeper checks. */
#include "metrics/profile.h"
#include "metrics/drift_int.h"
#include "core/provenance.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>

static void accepted(const aud_refprof *p)
{
    FUZZ_ASSERT(p->cols != NULL || p->n_cols == 0);
    if (p->rows > 200000)   /* the expansion holds every row: keep the fuzzer's memory small */
        return;
    aud_table *t = NULL;
    const aud_drift_refsum **sums = NULL;
    aud_error err;
    aud_error_clear(&err);
    int rc = aud_refprof_table(p, &t, &sums, &err);
    if (rc != AUD_OK) {
        fuzz_check_error(rc, &err);
        return;
    }
    FUZZ_ASSERT(t->n_rows == p->rows && t->n_cols == p->n_cols);
    for (size_t j = 0; j < t->n_cols; j++) {
        const aud_refcol *c = &p->cols[j];
        if (!c->numeric || sums[j] == NULL)
            continue;
        size_t n = c->rows - c->missing;
        const double *x = t->cols[j].num;
        double *own = NULL;
        if (x == NULL) {   /* drift works on the cells: the table holds no rows */
            aud_drift_refw w;
            FUZZ_ASSERT(aud_drift_refw_build(&w, sums[j]) == AUD_OK);
            double tot = 0, prev = -INFINITY;
            for (size_t k = 0; k < w.n_c; k++) {   /* cells in order, counts adding up */
                FUZZ_ASSERT(w.c[k].before == tot && w.c[k].w > 0 && w.c[k].lo >= prev);
                FUZZ_ASSERT(w.c[k].atom ? w.c[k].lo == w.c[k].hi : w.c[k].lo < w.c[k].hi);
                tot += w.c[k].w;
                prev = w.c[k].hi;
            }
            FUZZ_ASSERT(tot == (double)n);
            aud_drift_refw_free(&w);
            own = aud_malloc((n ? n : 1) * sizeof *own);
            if (own == NULL || aud_drift_refsum_expand(sums[j], own) != AUD_OK) {
                aud_free(own);
                continue;
            }
            x = own;
        }
        for (size_t i = 1; i < n; i++)   /* the expanded sample is sorted, within [min, max] */
            FUZZ_ASSERT(x[i - 1] <= x[i]);
        if (n > 0)
            FUZZ_ASSERT(x[0] >= c->min && x[n - 1] <= c->max);
        double lo, hi;
        for (int le = 0; le <= 1; le++) {
            aud_drift_refsum_rank(sums[j], n ? x[n / 2] : 0.0, le, &lo, &hi);
            FUZZ_ASSERT(lo <= hi && lo >= 0 && hi <= (double)n);
        }
        aud_free(own);
    }
    aud_free(sums);
    aud_table_free(t);
}

static void one(const char *text, size_t size)
{
    aud_refprof *p = NULL;
    aud_error err;
    aud_error_clear(&err);
    int rc = aud_refprof_parse(&p, text, size, "dir/fuzz.profile", &err);
    if (rc == AUD_OK) {
        FUZZ_ASSERT(p != NULL);
        accepted(p);
    } else {
        FUZZ_ASSERT(p == NULL);
        fuzz_check_error(rc, &err);
    }
    aud_refprof_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aud_global_init();
    char *text = fuzz_text(data, size);
    one(text, size);
    const char *nl = memchr(text, '\n', size);
    if (nl != NULL) {   /* again with the right checksum */
        size_t blen = size - (size_t)(nl + 1 - text);
        char hex[65], head[100];
        aud_error err;
        aud_error_clear(&err);
        if (aud_sha256_mem(nl + 1, blen, hex, &err) == AUD_OK) {
            int hl = snprintf(head, sizeof head, "AUDIT-PROFILE 1 sha256=%s\n", hex);
            char *t2 = malloc((size_t)hl + blen + 1);
            if (t2 == NULL)
                abort();
            memcpy(t2, head, (size_t)hl);
            memcpy(t2 + hl, nl + 1, blen);
            t2[(size_t)hl + blen] = '\0';
            one(t2, (size_t)hl + blen);
            free(t2);
        }
    }
    free(text);
    return 0;
}
