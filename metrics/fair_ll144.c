/* fair_ll144.c - the NYC Local Law 144 view (DCWP rules, 6 RCNY 5-300): selection or scoring
 * rates and impact ratios for sex, race/ethnicity and their intersection. */
#include "metrics/fair_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static aud_fair_val val(double v)
{
    aud_fair_val r = {v, NULL};
    return r;
}

static aud_fair_val undef(const char *why)
{
    aud_fair_val r = {NAN, why};
    return r;
}

/* One NYC LL144 table: per category count, share, rate of `hit`, impact ratio vs the highest
 * rate among categories with share >= min_share. */
static int ll144_table(const aud_fair_ctx *ctx, const char *name, const int32_t *codes,
                       size_t n_levels, const char *const *levels, const uint8_t *hit,
                       aud_fair_ll144_table *t, aud_error *err)
{
    uint64_t *cnt = aud_calloc(2 * (n_levels ? n_levels : 1), sizeof *cnt);
    memset(t, 0, sizeof *t);
    t->name = aud_strdup(name);
    if (cnt == NULL || t->name == NULL) {
        aud_free(cnt);
        return aud_error_nomem(err);
    }
    uint64_t known = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        if (codes[i] < 0 || (size_t)codes[i] >= n_levels) {
            t->n_unknown++;
            continue;
        }
        cnt[2 * codes[i]]++;
        cnt[2 * codes[i] + 1] += hit[i];
        known++;
    }
    size_t m = 0;
    for (size_t l = 0; l < n_levels; l++)
        m += cnt[2 * l] > 0;
    t->cats = aud_calloc(m ? m : 1, sizeof *t->cats);
    t->count = aud_calloc(m ? m : 1, sizeof *t->count);
    t->share = aud_calloc(m ? m : 1, sizeof *t->share);
    t->rate = aud_calloc(m ? m : 1, sizeof *t->rate);
    t->impact_ratio = aud_calloc(m ? m : 1, sizeof *t->impact_ratio);
    t->excluded = aud_calloc(m ? m : 1, sizeof *t->excluded);
    t->below_four_fifths = aud_calloc(m ? m : 1, sizeof *t->below_four_fifths);
    if (t->cats == NULL || t->count == NULL || t->share == NULL || t->rate == NULL ||
        t->impact_ratio == NULL || t->excluded == NULL || t->below_four_fifths == NULL) {
        aud_free(cnt);
        return aud_error_nomem(err);
    }
    double best = -1.0;
    for (size_t l = 0; l < n_levels; l++) {
        if (cnt[2 * l] == 0)
            continue;
        size_t j = t->n_cats;
        t->cats[j] = aud_strdup(levels[l]);
        if (t->cats[j] == NULL) {
            aud_free(cnt);
            return aud_error_nomem(err);
        }
        t->n_cats++;
        t->count[j] = cnt[2 * l];
        t->share[j] = (double)cnt[2 * l] / (double)known;
        t->excluded[j] = t->share[j] < ctx->opts->min_share;
        t->rate[j] = val((double)cnt[2 * l + 1] / (double)cnt[2 * l]);
        if (!t->excluded[j] && t->rate[j].v > best)
            best = t->rate[j].v;
    }
    for (size_t j = 0; j < t->n_cats; j++) {
        if (best < 0.0)
            t->impact_ratio[j] = undef("every category is under the minimum share");
        else if (best == 0.0)
            t->impact_ratio[j] = undef("highest rate is 0");
        else
            t->impact_ratio[j] = val(t->rate[j].v / best);
        t->below_four_fifths[j] = aud_fair_below_four_fifths(t->impact_ratio[j]);
    }
    aud_free(cnt);
    return AUD_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* NYC Local Law 144 view: sex (attribute 0), race (attribute 1), sex&race. */
int aud_fair_ll144(const aud_fair_ctx *ctx, aud_fair_result *res, aud_error *err)
{
    const aud_fair_input *in = ctx->in;
    int rc = AUD_OK;
    uint8_t *hit = NULL;
    double *tmp = NULL;
    aud_fair_inter ic;
    memset(&ic, 0, sizeof ic);
    size_t ia[2] = {ctx->opts->ll144_sex, ctx->opts->ll144_race};
    if (in->n_attrs < 2 || ia[0] >= in->n_attrs || ia[1] >= in->n_attrs || ia[0] == ia[1])
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "the nyc-ll144 view needs two sensitive attributes: sex and "
                             "race/ethnicity");
    res->ll144 = aud_calloc(3, sizeof *res->ll144);
    hit = aud_malloc(ctx->n);
    if (res->ll144 == NULL || hit == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    res->ll144_scoring = ctx->has_score;
    res->ll144_median = NAN;
    if (ctx->has_score) {
        /* scoring rate: share scoring above the median score of the full sample */
        tmp = aud_malloc(ctx->n * sizeof *tmp);
        if (tmp == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        memcpy(tmp, in->score, ctx->n * sizeof *tmp);
        qsort(tmp, ctx->n, sizeof *tmp, cmp_double);
        size_t h = ctx->n / 2;
        double med = ctx->n % 2 ? tmp[h] : (tmp[h - 1] + tmp[h]) / 2.0;
        res->ll144_median = med;
        for (size_t i = 0; i < ctx->n; i++)
            hit[i] = in->score[i] > med;
    } else {
        memcpy(hit, ctx->p, ctx->n);
    }
    for (size_t a = 0; a < 2; a++) {
        const aud_fair_attr *at = &in->attrs[ia[a]];
        rc = ll144_table(ctx, at->name, at->codes, at->n_levels, at->levels, hit,
                         &res->ll144[res->n_ll144], err);
        res->n_ll144++;
        if (rc != AUD_OK)
            goto done;
    }
    rc = aud_fair_inter_build(ctx, (1u << ia[0]) | (1u << ia[1]), &ic, err);
    if (rc != AUD_OK)
        goto done;
    rc = ll144_table(ctx, ic.name, ic.codes, ic.n_levels, (const char *const *)ic.levels, hit,
                     &res->ll144[res->n_ll144], err);
    res->n_ll144++;
done:
    aud_fair_inter_free(&ic);
    aud_free(hit);
    aud_free(tmp);
    return rc;
}
