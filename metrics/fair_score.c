/* fair_score.c - score-based group metrics: AUC (Mann-Whitney with tied scores counted half,
 * as sklearn roc_auc_score), Brier score (sklearn brier_score_loss) and expected calibration
 * error over 10 equal-width bins (bins as sklearn calibration_curve(strategy="uniform")). */
#include "fair_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AUD_FAIR_ECE_BINS 10

typedef struct score_key {
    double   s;
    uint32_t row;
} score_key;

/* Total order on doubles as unsigned integers (scores are finite, checked before). */
static uint64_t sortable_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

int aud_fair_sort_scores(aud_fair_ctx *ctx, aud_error *err)
{
    /* LSD radix sort of (key, row) by the 64-bit key, 16 bits per pass: O(n), stable. */
    size_t m = 0;
    for (size_t i = 0; i < ctx->n; i++)
        m += ctx->y[i] >= 0;
    uint64_t *key = aud_malloc(2 * (m ? m : 1) * sizeof *key);
    uint32_t *row = aud_malloc(2 * (m ? m : 1) * sizeof *row);
    size_t *cnt = aud_malloc(65536 * sizeof *cnt);
    if (key == NULL || row == NULL || cnt == NULL) {
        aud_free(key);
        aud_free(row);
        aud_free(cnt);
        return aud_error_nomem(err);
    }
    size_t j = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        if (ctx->y[i] < 0)
            continue;
        key[j] = sortable_bits(ctx->in->score[i]);
        row[j] = (uint32_t)i;
        j++;
    }
    uint64_t *ka = key, *kb = key + m;
    uint32_t *ra = row, *rb = row + m;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < m; i++)
            cnt[(ka[i] >> shift) & 0xffff]++;
        if (cnt[(ka[0] >> shift) & 0xffff] == m)
            continue; /* every key has this digit: the pass would not move anything */
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) {
            size_t pos = cnt[(ka[i] >> shift) & 0xffff]++;
            kb[pos] = ka[i];
            rb[pos] = ra[i];
        }
        uint64_t *kt = ka;
        ka = kb;
        kb = kt;
        uint32_t *rt = ra;
        ra = rb;
        rb = rt;
    }
    if (ra != row)
        memmove(row, ra, m * sizeof *row);
    aud_free(key);
    aud_free(cnt);
    ctx->order = row;
    ctx->n_order = m;
    /* scores and labels in sorted order, so the per-attribute passes read them sequentially */
    ctx->s_sorted = aud_malloc((m ? m : 1) * sizeof *ctx->s_sorted);
    ctx->y_sorted = aud_malloc(m ? m : 1);
    if (ctx->s_sorted == NULL || ctx->y_sorted == NULL)
        return aud_error_nomem(err);
    for (size_t t = 0; t < m; t++) {
        ctx->s_sorted[t] = ctx->in->score[row[t]];
        ctx->y_sorted[t] = ctx->in->label[row[t]] == 1.0;
    }
    return AUD_OK;
}

/* ECE bin of a probability as sklearn 1.2 calibration_curve: bins = linspace(0, 1, 11), bin =
 * searchsorted(bins[1:-1], s) (side "left"), i.e. the number of interior edges k * 0.1 < s:
 * bins are [0, 0.1], (0.1, 0.2], ..., (0.9, 1]. */
static int ece_bin(double s)
{
    int b = 0;
    for (int k = 1; k < AUD_FAIR_ECE_BINS; k++)
        b += (double)k * (1.0 / AUD_FAIR_ECE_BINS) < s;
    return b;
}

int aud_fair_score_metrics(const aud_fair_ctx *ctx, const int32_t *codes, const int32_t *gmap,
                           aud_fair_attr_result *ar, aud_error *err)
{
    size_t k = ar->n_groups;
    const double *ss = ctx->s_sorted;
    const uint8_t *ys = ctx->y_sorted;
    /* per group: pos, neg, auc numerator, negatives below, block pos, block neg, brier sum,
     * then per bin: count, sum of scores, sum of labels */
    enum { POS, NEG, NUM, BELOW, BPOS, BNEG, BRIER, FIXED };
    size_t stride = FIXED + 3 * AUD_FAIR_ECE_BINS;
    size_t m = ctx->n_order;
    double *w = aud_calloc(k * stride, sizeof *w);
    int32_t *gs = aud_malloc((m ? m : 1) * sizeof *gs);
    if (w == NULL || gs == NULL) {
        aud_free(w);
        aud_free(gs);
        return aud_error_nomem(err);
    }
    for (size_t t = 0; t < m; t++) {
        int32_t c = codes[ctx->order[t]];
        gs[t] = c < 0 ? -1 : gmap[c];
    }
    for (size_t i = 0; i < m;) {
        size_t j = i;
        double s = ss[i];
        while (j < m && ss[j] == s)
            j++;
        /* tie block [i, j): positives in the block beat the negatives below and tie with the
         * negatives in the block (counted 1/2) */
        int bin = ctx->score_is_prob ? ece_bin(s) : 0;
        for (size_t t = i; t < j; t++) {
            if (gs[t] < 0)
                continue;
            double *q = w + (size_t)gs[t] * stride;
            double y = ys[t] ? 1.0 : 0.0;
            q[ys[t] ? BPOS : BNEG] += 1.0;
            q[BRIER] += (s - y) * (s - y);
            if (ctx->score_is_prob) {
                double *b = q + FIXED + 3 * bin;
                b[0] += 1.0;
                b[1] += s;
                b[2] += y;
            }
        }
        for (size_t t = i; t < j; t++) {
            if (gs[t] < 0)
                continue;
            double *q = w + (size_t)gs[t] * stride;
            if (q[BPOS] == 0.0 && q[BNEG] == 0.0)
                continue; /* already folded in */
            q[NUM] += q[BPOS] * (q[BELOW] + 0.5 * q[BNEG]);
            q[BELOW] += q[BNEG];
            q[POS] += q[BPOS];
            q[NEG] += q[BNEG];
            q[BPOS] = q[BNEG] = 0.0;
        }
        i = j;
    }
    aud_free(gs);
    for (size_t g = 0; g < k; g++) {
        aud_fair_group *gr = &ar->groups[g];
        const double *q = w + g * stride;
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
