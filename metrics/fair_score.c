/* fair_score.c - score-based group metrics: AUC (Mann-Whitney with tied scores counted half,
 * as sklearn roc_auc_score), Brier score (sklearn brier_score_loss) and expected calibration
 * error over 10 equal-width bins (bins as sklearn calibration_curve(strategy="uniform")).
 *
 * Every row's score is replaced once by its dense rank among the distinct scores
 * (aud_fair_rank_scores; the ranks stay in the result for the threshold trade-offs). Ranks that
 * only unlabelled rows have fold nothing. Every figure is then a sweep over the ranks in increasing order that
 * folds, per group, the number of positive (P) and negative (N) rows with that score:
 *   AUC numerator += P * (negatives below + N / 2)      (ties count half)
 *   Brier sum     += P * (s - 1)^2 + N * s^2
 *   ECE bin of s  += count P + N, score sum (P + N) * s, label sum P.
 * The counts per (group, rank) come from a histogram when groups x ranks is small, else from
 * the rows in rank order; both fold the same numbers in the same order, so both give the same
 * bits. */
#include "metrics/fair_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AUD_FAIR_ECE_BINS 10
/* Distinct scores up to which ranks are found with a hash table (else by radix sort). */
#define AUD_FAIR_HASH_MAX_DISTINCT 65536u

/* Total order on doubles as unsigned integers (scores are finite, checked before; -0 is 0). */
static uint64_t sortable_bits(double d)
{
    uint64_t u;
    if (d == 0.0)
        d = 0.0;
    memcpy(&u, &d, sizeof u);
    return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

static double from_sortable(uint64_t u)
{
    u = (u & 0x8000000000000000ull) ? (u & ~0x8000000000000000ull) : ~u;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ECE bin of a probability as sklearn 1.2 calibration_curve: bins = linspace(0, 1, 11), bin =
 * searchsorted(bins[1:-1], s) (side "left"), i.e. the number of interior edges k * 0.1 < s:
 * bins are [0, 0.1], (0.1, 0.2], ..., (0.9, 1]. */
static uint8_t ece_bin(double s)
{
    int b = 0;
    for (int k = 1; k < AUD_FAIR_ECE_BINS; k++)
        b += (double)k * (1.0 / AUD_FAIR_ECE_BINS) < s;
    return (uint8_t)b;
}

/* Ranks by hashing, in chunks of rows on up to --threads threads: each chunk numbers its
 * distinct scores in a table of its own (rank[i] = that number; the table starts small and
 * doubles, so a few thousand distinct scores stay in the core's cache) and sorts them; the
 * chunks' sorted scores are merged into the dense ranks, which gives each chunk's numbers their
 * ranks in the same pass, and each chunk maps its rows. The ranks do not depend on the chunks.
 * *done = 0 when there are more than AUD_FAIR_HASH_MAX_DISTINCT distinct scores (then use the
 * radix sort). */
typedef struct rank_chunk {
    const double *score;
    uint32_t     *rank;
    size_t        b, e, want;
    uint64_t     *keys;     /* the chunk's distinct keys, numbered in order of first sight */
    uint32_t     *sorted;   /* their numbers in increasing key order */
    uint32_t     *remap;    /* number -> dense rank (phase 2) */
    size_t        d;
    int           over;     /* more than want distinct, or no memory */
} rank_chunk;

/* The table (open addressing, cap a power of two, hid[h] < 0: empty) for keys[0 .. d) with
 * their numbers, at capacity cap; 0, or -1 without memory. */
static int rank_table(uint64_t **hkey, int32_t **hid, size_t cap, const uint64_t *keys, size_t d)
{
    uint64_t *k = aud_malloc(cap * sizeof *k);
    int32_t *id = aud_malloc(cap * sizeof *id);
    if (k == NULL || id == NULL) {
        aud_free(k);
        aud_free(id);
        return -1;
    }
    memset(id, 0xff, cap * sizeof *id);
    int shift = 64 - __builtin_ctzll(cap);
    for (size_t n = 0; n < d; n++) {
        size_t h = (size_t)((keys[n] * 0x9E3779B97F4A7C15ull) >> shift);
        while (id[h] >= 0)
            h = (h + 1) & (cap - 1);
        k[h] = keys[n];
        id[h] = (int32_t)n;
    }
    aud_free(*hkey);
    aud_free(*hid);
    *hkey = k;
    *hid = id;
    return 0;
}

/* numbers[0 .. d) in increasing order of keys[number]: LSD radix sort, 8 bits a pass, a pass
 * skipped when every key has the same digit there. */
static int sort_numbers(const uint64_t *keys, size_t d, uint32_t *numbers)
{
    uint32_t *tmp = aud_malloc((d ? d : 1) * sizeof *tmp);
    if (tmp == NULL)
        return -1;
    for (size_t n = 0; n < d; n++)
        numbers[n] = (uint32_t)n;
    uint32_t *a = numbers, *b = tmp;
    for (int shift = 0; shift < 64 && d > 0; shift += 8) {
        size_t cnt[256] = {0};
        for (size_t n = 0; n < d; n++)
            cnt[(keys[a[n]] >> shift) & 0xff]++;
        if (cnt[(keys[a[0]] >> shift) & 0xff] == d)
            continue;
        size_t sum = 0;
        for (int dg = 0; dg < 256; dg++) {
            size_t c = cnt[dg];
            cnt[dg] = sum;
            sum += c;
        }
        for (size_t n = 0; n < d; n++)
            b[cnt[(keys[a[n]] >> shift) & 0xff]++] = a[n];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    if (a != numbers)
        memcpy(numbers, a, d * sizeof *numbers);
    aud_free(tmp);
    return 0;
}

static void *rank_number_main(void *arg)
{
    rank_chunk *c = arg;
    size_t max_cap = 64;
    while (max_cap < 2 * c->want)
        max_cap *= 2;
    size_t cap = max_cap < 4096 ? max_cap : 4096;
    uint64_t *hkey = NULL;
    int32_t *hid = NULL;
    aud_prefault(c->rank + c->b, (c->e - c->b) * sizeof *c->rank);   /* aud_malloc_slices */
    c->keys = aud_malloc((c->want ? c->want : 1) * sizeof *c->keys);
    c->over = c->keys == NULL || rank_table(&hkey, &hid, cap, c->keys, 0) != 0;
    if (!c->over) {
        int shift = 64 - __builtin_ctzll(cap);
        size_t d = 0;
        for (size_t i = c->b; i < c->e; i++) {
            uint64_t key = sortable_bits(c->score[i]);
            size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift);
            while (hid[h] >= 0 && hkey[h] != key)
                h = (h + 1) & (cap - 1);
            if (hid[h] >= 0) {
                c->rank[i] = (uint32_t)hid[h];
                continue;
            }
            if (d == c->want) {   /* too many distinct scores for the table */
                c->over = 1;
                break;
            }
            c->rank[i] = (uint32_t)d;   /* a new score: the next number */
            c->keys[d++] = key;
            if (2 * d > cap && cap < max_cap) {   /* half full: double (the new key included) */
                if (rank_table(&hkey, &hid, 2 * cap, c->keys, d) != 0) {
                    c->over = 1;
                    break;
                }
                cap *= 2;
                shift--;
            } else {
                hkey[h] = key;
                hid[h] = (int32_t)(d - 1);
            }
        }
        c->d = d;
    }
    aud_free(hkey);
    aud_free(hid);
    if (!c->over) {
        c->sorted = aud_malloc((c->d ? c->d : 1) * sizeof *c->sorted);
        c->over = c->sorted == NULL || sort_numbers(c->keys, c->d, c->sorted) != 0;
    }
    return NULL;
}

static void *rank_remap_main(void *arg)
{
    rank_chunk *c = arg;
    for (size_t i = c->b; i < c->e; i++)
        c->rank[i] = c->remap[c->rank[i]];
    return NULL;
}

static int rank_by_hash(aud_fair_ctx *ctx, size_t m, int *done, aud_error *err)
{
    aud_fair_scores *sc = &ctx->sc;
    size_t want = m < AUD_FAIR_HASH_MAX_DISTINCT ? m : AUD_FAIR_HASH_MAX_DISTINCT;
    size_t n_ch = aud_row_chunks(ctx->n, ctx->opts->threads);
    rank_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < n_ch; c++)
        ch[c] = (rank_chunk){ ctx->in->score, sc->rank, ctx->n * c / n_ch,
                              ctx->n * (c + 1) / n_ch, want, NULL, NULL, NULL, 0, 0 };
    *done = 0;
    aud_run_jobs(ch, n_ch, sizeof ch[0], rank_number_main);
    int rc = AUD_OK, over = 0;
    size_t total = 0;
    for (size_t c = 0; c < n_ch; c++) {
        if (ch[c].keys == NULL || (!ch[c].over && ch[c].sorted == NULL))
            rc = aud_error_nomem(err);
        over |= ch[c].over;
        total += ch[c].d;
    }
    uint64_t *all = NULL;
    if (rc == AUD_OK && !over) {
        all = aud_malloc((total ? total : 1) * sizeof *all);
        for (size_t c = 0; c < n_ch; c++)
            if ((ch[c].remap = aud_malloc((ch[c].d ? ch[c].d : 1) * sizeof *ch[c].remap)) == NULL)
                rc = aud_error_nomem(err);
        if (all == NULL)
            rc = aud_error_nomem(err);
    }
    size_t d = 0;
    if (rc == AUD_OK && all != NULL) {
        /* merge the chunks' sorted keys: the distinct keys in order, and each chunk's numbers'
         * places among them */
        size_t at[AUD_MAX_CHUNKS] = {0};
        for (;;) {
            int best = -1;
            uint64_t low = 0;
            for (size_t c = 0; c < n_ch; c++) {
                if (at[c] == ch[c].d)
                    continue;
                uint64_t k = ch[c].keys[ch[c].sorted[at[c]]];
                if (best < 0 || k < low) {
                    best = (int)c;
                    low = k;
                }
            }
            if (best < 0)
                break;
            if (d == want) {   /* more distinct scores in all than the table takes: sort */
                d = want + 1;
                break;
            }
            all[d++] = low;
            for (size_t c = 0; c < n_ch; c++)
                if (at[c] < ch[c].d && ch[c].keys[ch[c].sorted[at[c]]] == low)
                    ch[c].remap[ch[c].sorted[at[c]++]] = (uint32_t)(d - 1);
        }
    }
    if (rc == AUD_OK && all != NULL && d <= want) {
        sc->distinct = aud_malloc((d ? d : 1) * sizeof *sc->distinct);
        if (sc->distinct == NULL)
            rc = aud_error_nomem(err);
        for (size_t r = 0; rc == AUD_OK && r < d; r++)
            sc->distinct[r] = from_sortable(all[r]);
        if (rc == AUD_OK) {
            aud_run_jobs(ch, n_ch, sizeof ch[0], rank_remap_main);
            sc->n_distinct = d;
            *done = 1;
        }
    }
    aud_free(all);
    for (size_t c = 0; c < n_ch; c++) {
        aud_free(ch[c].keys);
        aud_free(ch[c].sorted);
        aud_free(ch[c].remap);
    }
    return rc;
}

/* Ranks by an LSD radix sort of (key, row), 16 bits per pass: O(n), stable. Also gives the
 * rows in rank order. The passes run in chunks of rows on up to --threads threads, as a
 * parallel LSD radix sort does: each chunk counts its digits, the positions are handed out digit
 * by digit and, within a digit, chunk by chunk in order, and each chunk then moves its rows in
 * order - so the sort stays stable and its result is the one sort of the keys, whatever the
 * chunks. The ranks and the rows in rank order are numbered the same way: each chunk of the
 * sorted keys counts where a new score starts, and the counts before it give its first rank. */
enum { RADIX = 65536 };

typedef struct sort_chunk {
    const aud_fair_ctx *ctx;
    aud_fair_scores    *sc;
    size_t              b, e;          /* rows [b, e) of m */
    int                 shift;
    uint64_t           *ka, *kb;       /* keys: this pass's input and output */
    uint32_t           *ra, *rb;       /* rows, alike */
    uint32_t           *cnt;           /* RADIX counts, then this chunk's next positions */
    size_t              n_new, first;  /* scores that start in [b, e); the rank before b */
} sort_chunk;

/* This chunk's slice of every array, mapped here, and its keys. */
static void *sort_keys_main(void *arg)
{
    sort_chunk *c = arg;
    size_t n = c->e - c->b;
    aud_prefault(c->ka + c->b, n * sizeof *c->ka);
    aud_prefault(c->kb + c->b, n * sizeof *c->kb);
    aud_prefault(c->ra + c->b, n * sizeof *c->ra);
    aud_prefault(c->rb + c->b, n * sizeof *c->rb);
    aud_prefault(c->sc->rank + c->b, n * sizeof *c->sc->rank);
    for (size_t i = c->b; i < c->e; i++) {
        c->ka[i] = sortable_bits(c->ctx->in->score[i]);
        c->ra[i] = (uint32_t)i;
    }
    return NULL;
}

/* This chunk's count of the pass's digit. */
static void *sort_count_main(void *arg)
{
    sort_chunk *c = arg;
    memset(c->cnt, 0, RADIX * sizeof *c->cnt);
    for (size_t i = c->b; i < c->e; i++)
        c->cnt[(c->ka[i] >> c->shift) & (RADIX - 1)]++;
    return NULL;
}

/* This chunk's rows moved to their positions, in order. */
static void *sort_move_main(void *arg)
{
    sort_chunk *c = arg;
    for (size_t i = c->b; i < c->e; i++) {
        uint32_t pos = c->cnt[(c->ka[i] >> c->shift) & (RADIX - 1)]++;
        c->kb[pos] = c->ka[i];
        c->rb[pos] = c->ra[i];
    }
    return NULL;
}

/* The distinct scores that start in this chunk of the sorted keys. */
static void *sort_new_main(void *arg)
{
    sort_chunk *c = arg;
    c->n_new = 0;
    for (size_t t = c->b; t < c->e; t++)
        c->n_new += t == 0 || c->ka[t] != c->ka[t - 1];
    return NULL;
}

/* This chunk's distinct scores, ranks and rows in rank order, from the rank before it. */
static void *sort_rank_main(void *arg)
{
    sort_chunk *c = arg;
    aud_fair_scores *sc = c->sc;
    size_t r = c->first;
    aud_prefault(sc->order + c->b, (c->e - c->b) * sizeof *sc->order);
    for (size_t t = c->b; t < c->e; t++) {
        if (t == 0 || c->ka[t] != c->ka[t - 1]) {
            sc->distinct[r] = from_sortable(c->ka[t]);
            sc->start[r] = (uint32_t)t;
            r++;
        }
        sc->rank[c->ra[t]] = (uint32_t)(r - 1);
        sc->order[t] = c->ra[t];
    }
    return NULL;
}

static int rank_by_sort(aud_fair_ctx *ctx, size_t m, aud_error *err)
{
    aud_fair_scores *sc = &ctx->sc;
    size_t mm = m ? m : 1;
    size_t n_ch = aud_row_chunks(m, ctx->opts->threads);
    uint64_t *key = aud_malloc_slices(2 * mm * sizeof *key);
    uint32_t *row = aud_malloc_slices(2 * mm * sizeof *row);
    uint32_t *cnt = aud_malloc(n_ch * RADIX * sizeof *cnt);
    int rc = AUD_OK;
    if (key == NULL || row == NULL || cnt == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    sort_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < n_ch; c++)
        ch[c] = (sort_chunk){ctx, sc, m * c / n_ch, m * (c + 1) / n_ch, 0, key, key + mm, row,
                             row + mm, cnt + c * RADIX, 0, 0};
    aud_run_jobs(ch, n_ch, sizeof ch[0], sort_keys_main);
    uint64_t *ka = key, *kb = key + mm;
    uint32_t *ra = row, *rb = row + mm;
    for (int shift = 0; shift < 64 && m > 0; shift += 16) {
        for (size_t c = 0; c < n_ch; c++) {
            ch[c].shift = shift;
            ch[c].ka = ka;
            ch[c].kb = kb;
            ch[c].ra = ra;
            ch[c].rb = rb;
        }
        aud_run_jobs(ch, n_ch, sizeof ch[0], sort_count_main);
        size_t d0 = (ka[0] >> shift) & (RADIX - 1), same = 0;
        for (size_t c = 0; c < n_ch; c++)
            same += ch[c].cnt[d0];
        if (same == m)
            continue;   /* every key has this digit: the pass would not move anything */
        size_t pos = 0;   /* digit by digit, chunk by chunk: where each chunk's rows go */
        for (size_t dg = 0; dg < RADIX; dg++) {
            for (size_t c = 0; c < n_ch; c++) {
                uint32_t k = ch[c].cnt[dg];
                ch[c].cnt[dg] = (uint32_t)pos;
                pos += k;
            }
        }
        aud_run_jobs(ch, n_ch, sizeof ch[0], sort_move_main);
        uint64_t *kt = ka;
        ka = kb;
        kb = kt;
        uint32_t *rt = ra;
        ra = rb;
        rb = rt;
    }
    for (size_t c = 0; c < n_ch; c++) {
        ch[c].ka = ka;
        ch[c].ra = ra;
    }
    aud_run_jobs(ch, n_ch, sizeof ch[0], sort_new_main);
    size_t d = 0;
    for (size_t c = 0; c < n_ch; c++) {
        ch[c].first = d;
        d += ch[c].n_new;
    }
    sc->distinct = aud_malloc((d ? d : 1) * sizeof *sc->distinct);
    sc->start = aud_malloc((d + 1) * sizeof *sc->start);
    sc->order = aud_malloc_slices(mm * sizeof *sc->order);
    if (sc->distinct == NULL || sc->start == NULL || sc->order == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    aud_run_jobs(ch, n_ch, sizeof ch[0], sort_rank_main);
    sc->start[d] = (uint32_t)m;
    sc->n_distinct = d;
    sc->order_state = 1;
done:
    aud_free(key);
    aud_free(row);
    aud_free(cnt);
    return rc;
}

/* The ECE bins of the distinct scores [b, e) (0 when the scores are not probabilities). */
typedef struct bin_chunk {
    aud_fair_scores *sc;
    size_t           b, e;
    int              prob;
} bin_chunk;

static void *bin_main(void *arg)
{
    const bin_chunk *c = arg;
    aud_prefault(c->sc->bin + c->b, c->e - c->b);
    for (size_t r = c->b; r < c->e; r++)
        c->sc->bin[r] = c->prob ? ece_bin(c->sc->distinct[r]) : 0;
    return NULL;
}

int aud_fair_rank_scores(aud_fair_ctx *ctx, aud_error *err)
{
    aud_fair_scores *sc = &ctx->sc;
    size_t m = ctx->n;   /* every row is ranked */
    sc->n_labelled = ctx->n_labelled;
    sc->rank = aud_malloc_slices((ctx->n ? ctx->n : 1) * sizeof *sc->rank);
    if (sc->rank == NULL)
        return aud_error_nomem(err);
    int done;
    int rc = rank_by_hash(ctx, m, &done, err);
    if (rc == AUD_OK && !done)
        rc = rank_by_sort(ctx, m, err);
    if (rc != AUD_OK)
        return rc;
    size_t d = sc->n_distinct;
    sc->bin = aud_malloc_slices(d ? d : 1);
    if (sc->bin == NULL)
        return aud_error_nomem(err);
    size_t n_ch = aud_row_chunks(d, ctx->opts->threads);
    bin_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < n_ch; c++)
        ch[c] = (bin_chunk){sc, d * c / n_ch, d * (c + 1) / n_ch, ctx->score_is_prob};
    aud_run_jobs(ch, n_ch, sizeof ch[0], bin_main);
    return AUD_OK;
}

/* The rows in rank order (a counting sort by rank, stable): order[start[k] .. start[k + 1])
 * have rank k. */
static int build_order(const uint32_t *rank, size_t n, size_t d, uint32_t **order,
                       uint32_t **start)
{
    uint32_t *st = aud_calloc(d + 1, sizeof *st), *o = aud_malloc((n ? n : 1) * sizeof *o);
    if (st == NULL || o == NULL) {
        aud_free(st);
        aud_free(o);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        st[rank[i] + 1]++;
    for (size_t k = 0; k < d; k++)
        st[k + 1] += st[k];
    for (size_t i = 0; i < n; i++)   /* st[k] runs to st[k + 1] */
        o[st[rank[i]]++] = (uint32_t)i;
    for (size_t k = d; k > 0; k--)
        st[k] = st[k - 1];
    st[0] = 0;
    *order = o;
    *start = st;
    return 0;
}

/* The rows in rank order, built once on first use. */
static int scores_order(const aud_fair_ctx *ctx, aud_error *err)
{
    aud_fair_scores *sc = ctx->sc_mut;
    pthread_mutex_lock(&sc->lock);
    int rc = AUD_OK;
    if (sc->order_state == 0) {
        if (build_order(sc->rank, ctx->n, sc->n_distinct, &sc->order, &sc->start) != 0)
            rc = aud_error_nomem(err);
        else
            sc->order_state = 1;
    }
    pthread_mutex_unlock(&sc->lock);
    return rc;
}

/* per group: positives, negatives, AUC numerator, negatives below, Brier sum, then per ECE bin:
 * count, sum of scores, sum of labels */
enum { POS, NEG, NUM, BELOW, BRIER, FIXED };
#define STRIDE (FIXED + 3 * AUD_FAIR_ECE_BINS)

static void fold(double *q, double p, double n, double s, int bin)
{
    q[NUM] += p * (q[BELOW] + 0.5 * n);
    q[BELOW] += n;
    q[POS] += p;
    q[NEG] += n;
    q[BRIER] += p * ((s - 1.0) * (s - 1.0)) + n * (s * s);
    double *b = q + FIXED + 3 * bin;
    b[0] += p + n;
    b[1] += (p + n) * s;
    b[2] += p;
}

/* Rows [b, e) counted into h[group][rank][positive] (aud_count_rows). */
typedef struct hist_ctx {
    const aud_fair_ctx *ctx;
    const int32_t      *codes, *gmap;
} hist_ctx;

static void hist_count(void *arg, size_t b, size_t e, uint32_t *h)
{
    const hist_ctx *x = arg;
    const aud_fair_ctx *ctx = x->ctx;
    const uint32_t *rank = ctx->sc.rank;
    size_t d = ctx->sc.n_distinct;
    int flip = ctx->opts->favorable == 0;   /* y is the favourable label; positive is label 1 */
    for (size_t i = b; i < e; i++) {
        int32_t g = x->codes[i];
        if (ctx->y[i] < 0 || g < 0)
            continue;
        size_t cell = (size_t)x->gmap[g] * d + rank[i];
        h[2 * cell + (size_t)(ctx->y[i] ^ flip)]++;
    }
}

/* Counts per (group, rank) in a histogram, then one sweep per group. The count runs in chunks
 * of rows on the command's threads when the histogram is small beside a chunk (it is one pass
 * over every row: run whole, an attribute's task would hold one thread while the others wait
 * at the end of the tasks). */
static int sweep_histogram(const aud_fair_ctx *ctx, const int32_t *codes, const int32_t *gmap,
                           size_t k, double *w, aud_error *err)
{
    const aud_fair_scores *sc = &ctx->sc;
    size_t d = sc->n_distinct;
    hist_ctx hx = {ctx, codes, gmap};
    uint32_t *h = aud_count_rows(ctx->n, ctx->opts->threads, 2 * k * d, hist_count, &hx);
    if (h == NULL)   /* [group][rank][positive] */
        return aud_error_nomem(err);
    for (size_t g = 0; g < k; g++) {
        const uint32_t *hg = h + 2 * g * d;
        double *q = w + g * STRIDE;
        for (size_t r = 0; r < d; r++) {
            if (hg[2 * r] == 0 && hg[2 * r + 1] == 0)
                continue;
            fold(q, hg[2 * r + 1], hg[2 * r], sc->distinct[r], sc->bin[r]);
        }
    }
    aud_free(h);
    return AUD_OK;
}

/* The rows in rank order [b, e) with their group and label as one word in out (group << 1 |
 * positive; UINT32_MAX: no group or no label), so that the sweep below reads one array in order
 * instead of three at random rows; chunks of it on the command's threads. */
typedef struct gather_chunk {
    const aud_fair_ctx *ctx;
    const int32_t      *codes, *gmap;
    size_t              b, e;
    uint32_t           *out;
} gather_chunk;

static void *gather_main(void *arg)
{
    const gather_chunk *c = arg;
    const aud_fair_ctx *ctx = c->ctx;
    const uint32_t *order = ctx->sc.order;
    int flip = ctx->opts->favorable == 0;   /* y is the favourable label; positive is label 1 */
    aud_prefault(c->out + c->b, (c->e - c->b) * sizeof *c->out);
    for (size_t t = c->b; t < c->e; t++) {
        uint32_t i = order[t];
        int32_t g = c->codes[i];
        c->out[t] = g < 0 || ctx->y[i] < 0
                       ? UINT32_MAX
                       : (uint32_t)c->gmap[g] << 1 | (uint32_t)(ctx->y[i] ^ flip);
    }
    return NULL;
}

/* Counts per rank block from the rows in rank order (groups x ranks too many for a histogram). */
static int sweep_order(const aud_fair_ctx *ctx, const int32_t *codes, const int32_t *gmap,
                       size_t k, double *w, aud_error *err)
{
    int rc = scores_order(ctx, err);
    if (rc != AUD_OK)
        return rc;
    const aud_fair_scores *sc = &ctx->sc;
    size_t n = ctx->n;
    uint32_t *cnt = aud_calloc(2 * k, sizeof *cnt);
    uint32_t *touched = aud_malloc(k * sizeof *touched);
    uint32_t *cw = aud_malloc_slices((n ? n : 1) * sizeof *cw);
    if (cnt == NULL || touched == NULL || cw == NULL) {
        aud_free(cnt);
        aud_free(touched);
        aud_free(cw);
        return aud_error_nomem(err);
    }
    size_t n_ch = aud_row_chunks(n, ctx->opts->threads);
    gather_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < n_ch; c++)
        ch[c] = (gather_chunk){ctx, codes, gmap, n * c / n_ch, n * (c + 1) / n_ch, cw};
    aud_run_jobs(ch, n_ch, sizeof ch[0], gather_main);
    for (size_t r = 0; r < sc->n_distinct; r++) {
        size_t nt = 0;
        for (size_t t = sc->start[r]; t < sc->start[r + 1]; t++) {
            uint32_t v = cw[t];
            if (v == UINT32_MAX)
                continue;
            uint32_t g = v >> 1;
            if (cnt[2 * g] == 0 && cnt[2 * g + 1] == 0)
                touched[nt++] = g;
            cnt[2 * g + (v & 1)]++;
        }
        /* groups in increasing order is not needed: each group's sums are its own */
        for (size_t u = 0; u < nt; u++) {
            uint32_t g = touched[u];
            fold(w + (size_t)g * STRIDE, cnt[2 * g + 1], cnt[2 * g], sc->distinct[r], sc->bin[r]);
            cnt[2 * g] = cnt[2 * g + 1] = 0;
        }
    }
    aud_free(cnt);
    aud_free(touched);
    aud_free(cw);
    return AUD_OK;
}

int aud_fair_score_metrics(const aud_fair_ctx *ctx, const int32_t *codes, const int32_t *gmap,
                           aud_fair_attr_result *ar, aud_error *err)
{
    size_t k = ar->n_groups;
    double *w = aud_calloc(k * STRIDE, sizeof *w);
    if (w == NULL)
        return aud_error_nomem(err);
    /* a histogram no larger than the data (at least 64 Ki cells) */
    size_t d = ctx->sc.n_distinct, m = ctx->sc.n_labelled;
    size_t cap = ctx->opts->hist_cells ? ctx->opts->hist_cells : (m > 65536 ? m : 65536);
    int rc = d == 0 || k <= cap / d ? sweep_histogram(ctx, codes, gmap, k, w, err)
                                    : sweep_order(ctx, codes, gmap, k, w, err);
    if (rc != AUD_OK) {
        aud_free(w);
        return rc;
    }
    for (size_t g = 0; g < k; g++) {
        aud_fair_group *gr = &ar->groups[g];
        const double *q = w + g * STRIDE;
        double nl = q[POS] + q[NEG];
        if (q[POS] == 0.0 || q[NEG] == 0.0) {
            gr->auc.v = NAN;
            gr->auc.why = "the group's labels are all the same";
        } else {
            gr->auc.v = q[NUM] / (q[POS] * q[NEG]);
            gr->auc.why = NULL;
        }
        if (nl == 0.0) {
            gr->brier.v = gr->ece.v = NAN;
            gr->brier.why = gr->ece.why = "no labelled rows";
            continue;
        }
        if (!ctx->score_is_prob) {
            gr->brier.v = gr->ece.v = NAN;
            gr->brier.why = gr->ece.why = "scores are not probabilities in [0, 1]";
            continue;
        }
        gr->brier.v = q[BRIER] / nl;
        gr->brier.why = NULL;
        double e = 0.0;
        for (int b = 0; b < AUD_FAIR_ECE_BINS; b++) {
            const double *bin = q + FIXED + 3 * b;
            if (bin[0] > 0.0)
                e += bin[0] / nl * fabs(bin[2] / bin[0] - bin[1] / bin[0]);
        }
        gr->ece.v = e;
        gr->ece.why = NULL;
    }
    aud_free(w);
    return AUD_OK;
}

aud_fair_ranks *aud_fair_scores_take(aud_fair_scores *sc, size_t n_rows)
{
    aud_fair_ranks *r = aud_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->n_rows = n_rows;
    r->n_distinct = sc->n_distinct;
    r->rank = sc->rank;
    r->distinct = sc->distinct;
    if (sc->order_state == 1) {
        r->order = sc->order;
        r->start = sc->start;
        sc->order = NULL;
        sc->start = NULL;
    }
    sc->rank = NULL;
    sc->distinct = NULL;
    return r;
}

void aud_fair_ranks_free(aud_fair_ranks *r)
{
    if (r == NULL)
        return;
    aud_free(r->rank);
    aud_free(r->distinct);
    aud_free(r->order);
    aud_free(r->start);
    aud_free(r);
}

int aud_fair_ranks_order(aud_fair_ranks *r, aud_error *err)
{
    if (r->order != NULL)
        return AUD_OK;
    if (build_order(r->rank, r->n_rows, r->n_distinct, &r->order, &r->start) != 0)
        return aud_error_nomem(err);
    return AUD_OK;
}

void aud_fair_scores_free(aud_fair_scores *sc)
{
    aud_free(sc->rank);
    aud_free(sc->distinct);
    aud_free(sc->bin);
    aud_free(sc->order);
    aud_free(sc->start);
}
