/* fair_core.c - group fairness metrics per sensitive attribute and intersection: counts, rates
 * with Wilson intervals, disparities vs the reference group, impact ratios, significance tests
 * (SPEC section 3 "Fairness"; formulas in docs/fairness.md). */
#include "metrics/fair_int.h"
#include "core/io.h"
#include "core/table.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aud_fair_opts_default(aud_fair_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->favorable = 1;
    opts->threshold = NAN;
    opts->min_share = 0.02;
    opts->min_count = 0;
    opts->n_bootstrap = 1000;
    opts->seed = 42;   /* as the spec file's "seed": the CLI and a run give the same intervals */
    opts->threads = 1;
    opts->intersections = 1;
    opts->level = 0.95;
    opts->ll144_sex = 0;
    opts->ll144_race = 1;
}

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

static void attr_result_clear(aud_fair_attr_result *ar)
{
    if (ar == NULL)
        return;
    for (size_t g = 0; ar->groups != NULL && g < ar->n_groups; g++)
        aud_free(ar->groups[g].name);
    aud_free(ar->groups);
    aud_free(ar->name);
    aud_free(ar->reference_carried);
    aud_free(ar->similar_groups);
    memset(ar, 0, sizeof *ar);
}

static void ll144_clear(aud_fair_ll144_table *t)
{
    for (size_t i = 0; i < t->n_cats; i++)
        aud_free(t->cats[i]);
    aud_free(t->cats);
    aud_free(t->count);
    aud_free(t->share);
    aud_free(t->rate);
    aud_free(t->impact_ratio);
    aud_free(t->below_four_fifths);
    aud_free(t->excluded);
    aud_free(t->name);
}

void aud_fair_result_free(aud_fair_result *res)
{
    if (res == NULL)
        return;
    for (size_t a = 0; a < res->n_attrs; a++)
        attr_result_clear(&res->attrs[a]);
    for (size_t a = 0; a < res->n_inters; a++)
        attr_result_clear(&res->inters[a]);
    for (size_t t = 0; t < res->n_ll144; t++)
        ll144_clear(&res->ll144[t]);
    aud_free(res->attrs);
    aud_free(res->inters);
    aud_free(res->ll144);
    aud_fair_ranks_free(res->ranks);
    aud_free(res);
}

/* The "why" of each rate when its denominator is zero. */
static const char *const rate_why[AUD_FAIR_N_RATES] = {
    "no labelled rows",
    "no rows",
    "no rows with a favourable label",
    "no rows with an unfavourable label",
    "no rows with an unfavourable label",
    "no rows with a favourable label",
    "no favourable predictions among labelled rows",
    "no unfavourable predictions among labelled rows",
    "no favourable predictions among labelled rows",
    "no unfavourable predictions among labelled rows",
    "no labelled rows",
};

/* Numerator and denominator of every rate. */
static void rate_parts(const aud_fair_counts *c, int id, uint64_t *num, uint64_t *den)
{
    uint64_t lab = c->tp + c->fp + c->tn + c->fn;
    switch ((aud_fair_rate_id)id) {
    case AUD_FAIR_BASE_RATE: *num = c->tp + c->fn; *den = lab; break;
    case AUD_FAIR_SELECTION_RATE: *num = c->sel; *den = c->n; break;
    case AUD_FAIR_TPR: *num = c->tp; *den = c->tp + c->fn; break;
    case AUD_FAIR_FPR: *num = c->fp; *den = c->fp + c->tn; break;
    case AUD_FAIR_TNR: *num = c->tn; *den = c->fp + c->tn; break;
    case AUD_FAIR_FNR: *num = c->fn; *den = c->tp + c->fn; break;
    case AUD_FAIR_PPV: *num = c->tp; *den = c->tp + c->fp; break;
    case AUD_FAIR_NPV: *num = c->tn; *den = c->tn + c->fn; break;
    case AUD_FAIR_FDR: *num = c->fp; *den = c->tp + c->fp; break;
    case AUD_FAIR_FOR: *num = c->fn; *den = c->tn + c->fn; break;
    case AUD_FAIR_ACCURACY: *num = c->tp + c->tn; *den = lab; break;
    case AUD_FAIR_N_RATES: default: *num = 0; *den = 0; break;
    }
}

/* Per-group rates, Wilson intervals and every comparison with the reference / highest group. */
static void group_figures(aud_fair_attr_result *ar, const unsigned char *eligible, int has_label,
                          double level)
{
    size_t k = ar->n_groups, ref = ar->reference;
    for (size_t g = 0; g < k; g++) {
        aud_fair_group *gr = &ar->groups[g];
        for (int r = 0; r < AUD_FAIR_N_RATES; r++) {
            uint64_t num, den;
            rate_parts(&gr->c, r, &num, &den);
            if (!has_label && r != AUD_FAIR_SELECTION_RATE) {
                gr->rate[r] = undef("no label");
                gr->rate_lo[r] = gr->rate_hi[r] = NAN;
                continue;
            }
            gr->rate[r] = den == 0 ? undef(rate_why[r]) : val((double)num / (double)den);
            aud_fair_wilson(num, den, level, &gr->rate_lo[r], &gr->rate_hi[r]);
        }
    }
    /* highest selection rate among eligible groups (ties: first) */
    int have_high = 0;
    for (size_t g = 0; g < k; g++) {
        if (!eligible[g])
            continue;
        if (!have_high || ar->groups[g].rate[AUD_FAIR_SELECTION_RATE].v >
                              ar->groups[ar->highest].rate[AUD_FAIR_SELECTION_RATE].v) {
            ar->highest = g;
            have_high = 1;
        }
    }
    const aud_fair_group *rg = &ar->groups[ref];
    for (size_t g = 0; g < k; g++) {
        aud_fair_group *gr = &ar->groups[g];
        for (int r = 0; r < AUD_FAIR_N_RATES; r++) {
            double a = gr->rate[r].v, b = rg->rate[r].v;
            if (isnan(a) || isnan(b)) {
                const char *why = !has_label && r != AUD_FAIR_SELECTION_RATE
                                      ? "no label"
                                      : "rate undefined for this group or the reference";
                gr->diff[r] = gr->ratio[r] = undef(why);
                continue;
            }
            gr->diff[r] = val(a - b);
            gr->ratio[r] = b > 0.0 ? val(a / b) : undef("reference rate is 0");
        }
        gr->disparate_impact = gr->ratio[AUD_FAIR_SELECTION_RATE];
        double sel = gr->rate[AUD_FAIR_SELECTION_RATE].v;
        if (!have_high)
            gr->impact_ratio = undef("no eligible group");
        else if (ar->groups[ar->highest].rate[AUD_FAIR_SELECTION_RATE].v > 0.0)
            gr->impact_ratio = val(sel / ar->groups[ar->highest].rate[AUD_FAIR_SELECTION_RATE].v);
        else
            gr->impact_ratio = undef("highest selection rate is 0");
        gr->below_four_fifths = aud_fair_below_four_fifths(gr->impact_ratio);
        if (!has_label) {
            gr->eop_diff = gr->aod = gr->aaod = undef("no label");
        } else {
            aud_fair_val dt = gr->diff[AUD_FAIR_TPR], df = gr->diff[AUD_FAIR_FPR];
            gr->eop_diff = dt;
            if (isnan(dt.v) || isnan(df.v)) {
                gr->aod = gr->aaod = undef("tpr or fpr undefined for this group or the reference");
            } else {
                gr->aod = val((df.v + dt.v) / 2.0);
                gr->aaod = val((fabs(df.v) + fabs(dt.v)) / 2.0);
            }
        }
        if (!have_high) {
            gr->fisher_p = undef("no eligible group");
        } else if (g == ar->highest) {
            gr->fisher_p = undef("this is the highest-rate group");
        } else {
            const aud_fair_counts *h = &ar->groups[ar->highest].c;
            double p = aud_fair_fisher_two_sided(gr->c.sel, gr->c.n - gr->c.sel, h->sel,
                                                 h->n - h->sel);
            gr->fisher_p = isnan(p) ? undef("counts too large for the exact test") : val(p);
        }
        gr->auc = gr->brier = gr->ece = undef("no score");
    }
}

/* Analyse one attribute (or intersection) given per-row codes in [0, n_levels) or -1. */
/* A reference group given on the command line or in the spec names a level by its text or,
 * when no level has that text, a numeric level by its value ("1.0" names the group "1"). */
static int same_level(const char *given, const char *level)
{
    if (strcmp(given, level) == 0)
        return 1;
    char *e1 = NULL, *e2 = NULL;
    double a = aud_strtod_c(given, &e1), b = aud_strtod_c(level, &e2);
    return e1 != given && *e1 == '\0' && e2 != level && *e2 == '\0' && a == b;
}

/* Summary metrics of ar's groups marked in mask, and the chi-square test of independence of
 * those groups x favourable prediction; cc holds the groups' counts, chi is scratch for
 * 2 * n_groups counts. The headline summary passes the eligible groups, all_groups every one. */
static void summarise(const aud_fair_attr_result *ar, const aud_fair_counts *cc,
                      const unsigned char *mask, int has_label, uint64_t *chi, aud_fair_val *sum,
                      aud_fair_val *stat, aud_fair_val *p, long *dof)
{
    size_t m = 0;
    for (size_t g = 0; g < ar->n_groups; g++) {
        if (mask[g]) {
            chi[2 * m] = cc[g].sel;
            chi[2 * m + 1] = cc[g].n - cc[g].sel;
            m++;
        }
    }
    aud_fair_summary(cc, mask, ar->n_groups, ar->reference, has_label, sum);
    const char *why = NULL;
    double st, pv;
    if (aud_fair_chi2(chi, m, &st, dof, &pv, &why) == AUD_OK) {
        *stat = val(st);
        *p = val(pv);
    } else {
        *stat = *p = undef(m < 2 ? "fewer than two eligible groups" : why);
    }
}

/* analyse's count of the rows by (level, label -1/0/1, prediction 0/1), one chunk of the rows
 * [b, e): into cell (chunk 0: the caller's array; the others their own, added to it in chunk
 * order after - integer sums, the same whatever the chunks), its rows with no group, and its
 * first row whose code is out of range (ctx->n: none). */
typedef struct count_chunk {
    const aud_fair_ctx *ctx;
    const int32_t      *codes;
    size_t              n_levels, b, e;
    uint64_t           *cell;
    uint64_t            n_unknown;
    size_t              bad;
} count_chunk;

static void *count_main(void *arg)
{
    count_chunk *c = arg;
    const aud_fair_ctx *ctx = c->ctx;
    c->bad = ctx->n;
    if (c->cell == NULL)
        return NULL;
    for (size_t i = c->b; i < c->e; i++) {
        int32_t k = c->codes[i];
        if (k < 0) {
            c->n_unknown++;
            continue;
        }
        if ((size_t)k >= c->n_levels) {
            c->bad = i;
            return NULL;
        }
        c->cell[6 * (size_t)k + (size_t)(2 * (ctx->y[i] + 1) + ctx->p[i])]++;
    }
    return NULL;
}

/* The counts of every level into cell[6 n_levels] (zeroed by the caller) and the rows with no
 * group into *n_unknown, in chunks of rows on the command's threads when the levels are few
 * beside the rows (each chunk past the first has counts of its own). Returns the first row
 * whose code is out of range, ctx->n when there is none, SIZE_MAX when out of memory. */
static size_t count_cells(const aud_fair_ctx *ctx, const int32_t *codes, size_t n_levels,
                          uint64_t *cell, uint64_t *n_unknown)
{
    size_t k = aud_row_chunks(ctx->n, ctx->opts->threads);
    if (6 * n_levels > ctx->n / k / 16)   /* cells no more than a 16th of a chunk's rows */
        k = 1;
    count_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < k; c++) {
        ch[c] = (count_chunk){ctx, codes, n_levels, ctx->n * c / k, ctx->n * (c + 1) / k,
                              c == 0 ? cell : aud_calloc(6 * n_levels, sizeof *cell), 0,
                              0};
    }
    aud_run_jobs(ch, k, sizeof ch[0], count_main);
    size_t bad = ctx->n;
    *n_unknown = 0;
    for (size_t c = 0; c < k; c++) {
        if (ch[c].cell == NULL) {
            bad = SIZE_MAX;
            continue;
        }
        if (bad != SIZE_MAX && ch[c].bad < bad)
            bad = ch[c].bad;
        *n_unknown += ch[c].n_unknown;
        if (c > 0) {
            for (size_t q = 0; q < 6 * n_levels; q++)
                cell[q] += ch[c].cell[q];
            aud_free(ch[c].cell);
        }
    }
    return bad;
}

static int analyse(const aud_fair_ctx *ctx, aud_fair_attr_result *ar, const char *name,
                   const int32_t *codes, size_t n_levels, const char *const *levels,
                   const char *reference, aud_error *err)
{
    const aud_fair_opts *o = ctx->opts;
    int rc = AUD_OK;
    aud_fair_counts *lc = NULL;
    int32_t *gmap = NULL;
    unsigned char *eligible = NULL, *every = NULL;
    uint64_t *chi = NULL, *cell = NULL;
    aud_fair_counts *cc = NULL;
    memset(ar, 0, sizeof *ar);
    ar->name = aud_strdup(name);
    lc = aud_calloc(n_levels ? n_levels : 1, sizeof *lc);
    gmap = aud_malloc((n_levels ? n_levels : 1) * sizeof *gmap);
    if (ar->name == NULL || lc == NULL || gmap == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* one counter per (level, label -1/0/1, prediction 0/1): no branch on the cell */
    cell = aud_calloc(6 * (n_levels ? n_levels : 1), sizeof *cell);
    if (cell == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    size_t bad = count_cells(ctx, codes, n_levels, cell, &ar->n_unknown);
    if (bad == SIZE_MAX) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (bad < ctx->n) {
        char rb[64];
        rc = aud_error_set(err, AUD_E_INTERNAL, ctx->in->source, 0, 0,
                           "attribute %s: code %ld out of range in %s", name, (long)codes[bad],
                           aud_table_row_text(ctx->in->table, bad, rb, sizeof rb));
        goto done;
    }
    for (size_t l = 0; l < n_levels; l++) {   /* y = -1 (no label) / 0 / 1, then p = 0 / 1 */
        const uint64_t *q = cell + 6 * l;
        lc[l].n = q[0] + q[1] + q[2] + q[3] + q[4] + q[5];
        lc[l].sel = q[1] + q[3] + q[5];
        lc[l].tn = q[2];
        lc[l].fp = q[3];
        lc[l].fn = q[4];
        lc[l].tp = q[5];
    }
    ar->n_known = ctx->n - ar->n_unknown;
    if (ar->n_known == 0) {
        rc = aud_error_set(err, AUD_E_DOMAIN, ctx->in->source, 0, 0,
                           "every value of sensitive attribute \"%s\" is missing", name);
        aud_error_field(err, name);
        goto done;
    }
    for (size_t l = 0; l < n_levels; l++)
        gmap[l] = lc[l].n > 0 ? (int32_t)ar->n_groups++ : -1;
    ar->groups = aud_calloc(ar->n_groups, sizeof *ar->groups);
    eligible = aud_calloc(ar->n_groups, 1);
    chi = aud_malloc(2 * ar->n_groups * sizeof *chi);
    if (ar->groups == NULL || eligible == NULL || chi == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    int ref_found = 0;
    for (size_t l = 0; l < n_levels; l++) {
        if (gmap[l] < 0)
            continue;
        aud_fair_group *gr = &ar->groups[gmap[l]];
        gr->c = lc[l];
        gr->name = aud_strdup(levels[l]);
        if (gr->name == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        gr->share = (double)gr->c.n / (double)ar->n_known;
        gr->small = gr->share < o->min_share || gr->c.n < o->min_count;
        ar->n_small += (size_t)gr->small;
        eligible[gmap[l]] = !gr->small;
        if (reference != NULL && !ref_found && strcmp(reference, levels[l]) == 0) {
            ar->reference = (size_t)gmap[l];
            ref_found = 1;
        }
    }
    for (size_t l = 0; reference != NULL && !ref_found && l < n_levels; l++) {
        if (gmap[l] >= 0 && same_level(reference, levels[l])) {   /* "1.0" names group "1" */
            ar->reference = (size_t)gmap[l];
            ref_found = 1;
        }
    }
    if (reference != NULL && !ref_found) {
        /* name the groups there are (as far as the message holds them), and the one that
         * differs only by case */
        char list[300], hint[200] = "";
        size_t len = 0;
        list[0] = '\0';
        for (size_t g = 0; g < ar->n_groups; g++) {
            aud_error_list_add(list, sizeof list, &len, ar->groups[g].name);
            if (hint[0] == '\0' && strcasecmp(reference, ar->groups[g].name) == 0)
                snprintf(hint, sizeof hint, "; did you mean \"%s\"?", ar->groups[g].name);
        }
        rc = aud_error_set(err, AUD_E_SCHEMA, ctx->in->source, 0, 0,
                           "reference group \"%s\" has no rows in sensitive attribute \"%s\" "
                           "(its groups: %s%s)", reference, name, list, hint);
        aud_error_field(err, name);
        goto done;
    }
    ar->reference_given = reference != NULL;
    {   /* "Male" and "male" are two groups: say so (issue 15) */
        const char **names = aud_malloc((ar->n_groups ? ar->n_groups : 1) * sizeof *names);
        char similar[400];
        long n_similar = -1;
        if (names != NULL) {
            for (size_t g = 0; g < ar->n_groups; g++)
                names[g] = ar->groups[g].name;
            n_similar = aud_similar_levels(names, ar->n_groups, similar, sizeof similar);
            aud_free(names);
        }
        if (n_similar > 0)
            ar->similar_groups = aud_strdup(similar);
        if (n_similar < 0 || (n_similar > 0 && ar->similar_groups == NULL)) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    if (!ref_found) {
        for (size_t g = 1; g < ar->n_groups; g++)
            if (ar->groups[g].c.n > ar->groups[ar->reference].c.n)
                ar->reference = g;
    }
    group_figures(ar, eligible, ctx->has_label, o->level);
    every = aud_malloc(ar->n_groups);
    cc = aud_malloc(ar->n_groups * sizeof *cc);
    if (every == NULL || cc == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    memset(every, 1, ar->n_groups);
    for (size_t g = 0; g < ar->n_groups; g++)
        cc[g] = ar->groups[g].c;
    summarise(ar, cc, eligible, ctx->has_label, chi, ar->sum, &ar->chi2_stat, &ar->chi2_p,
              &ar->chi2_dof);
    summarise(ar, cc, every, ctx->has_label, chi, ar->sum_all, &ar->chi2_all_stat,
              &ar->chi2_all_p, &ar->chi2_all_dof);
    if (ctx->has_score && ctx->has_label) {
        rc = aud_fair_score_metrics(ctx, codes, gmap, ar, err);
        if (rc != AUD_OK)
            goto done;
    }
    for (int s = 0; s < AUD_FAIR_N_SUMS; s++) {
        ar->sum_lo[s] = ar->sum_hi[s] = NAN;
        ar->sum_ci_why[s] = "bootstrap not requested";
        /* the group pair a signed worst-case summary reports (its interval follows it) */
        ar->sum_pair[s] = SIZE_MAX;
        if (ctx->has_label && (s == AUD_FAIR_EOP_DIFF || s == AUD_FAIR_AOD) &&
            !isnan(ar->sum[s].v))
            ar->sum_pair[s] = aud_fair_worst_group(cc, eligible, ar->n_groups, ar->reference, s);
    }
    if (o->n_bootstrap > 0) {
        rc = aud_fair_bootstrap(o, ctx->has_label, ar, eligible, err);
        if (rc != AUD_OK)
            goto done;
    }
done:
    aud_free(cell);
    aud_free(lc);
    aud_free(gmap);
    aud_free(eligible);
    aud_free(every);
    aud_free(cc);
    aud_free(chi);
    return rc;
}

/* Validate the row-level inputs and derive favourable label / prediction per row. */
/* One chunk of prepare's pass over the rows: y and p filled for [b, e), and what the checks
 * found there (first bad row, SIZE_MAX for none). */
typedef struct prep_chunk {
    const aud_fair_ctx *ctx;
    size_t b, e, n_lab, bad_label, bad_pred, bad_score;
    double mn, mx;
    int    prob;
} prep_chunk;

static void *prep_main(void *arg)
{
    prep_chunk *c = arg;
    const aud_fair_ctx *ctx = c->ctx;
    const aud_fair_input *in = ctx->in;
    const aud_fair_opts *o = ctx->opts;
    double fav = (double)o->favorable, mn = INFINITY, mx = -INFINITY;
    size_t n_lab = 0;
    int prob = 1;
    aud_prefault(ctx->y + c->b, c->e - c->b);   /* aud_malloc_slices */
    aud_prefault(ctx->p + c->b, c->e - c->b);
    for (size_t i = c->b; i < c->e; i++) {
        ctx->y[i] = -1;
        if (in->label != NULL && !isnan(in->label[i])) {
            double v = in->label[i];
            if (v != 0.0 && v != 1.0) {
                if (c->bad_label == SIZE_MAX)
                    c->bad_label = i;
                continue;
            }
            ctx->y[i] = v == fav;
            n_lab++;
        }
    }
    for (size_t i = c->b; in->prediction != NULL && i < c->e; i++) {
        double v = in->prediction[i];
        if (v != 0.0 && v != 1.0) {
            if (c->bad_pred == SIZE_MAX)
                c->bad_pred = i;
            continue;
        }
        ctx->p[i] = v == fav;
    }
    for (size_t i = c->b; in->prediction == NULL && in->score != NULL && i < c->e; i++) {
        double s = in->score[i];
        if (!isfinite(s)) {
            if (c->bad_score == SIZE_MAX)
                c->bad_score = i;
            continue;
        }
        mn = s < mn ? s : mn;
        mx = s > mx ? s : mx;
        prob &= s >= 0.0 && s <= 1.0;
        /* the prediction; the threshold itself is checked after the pass */
        ctx->p[i] = (s >= o->threshold) == (o->favorable == 1);
    }
    c->n_lab = n_lab;
    c->mn = mn;
    c->mx = mx;
    c->prob = prob;
    return NULL;
}

/* prepare's chunks (aud_row_chunks) */
static size_t prep_chunks(const aud_fair_ctx *ctx, prep_chunk *pc)
{
    size_t n_ch = aud_row_chunks(ctx->n, ctx->opts->threads);
    for (size_t c = 0; c < n_ch; c++)
        pc[c] = (prep_chunk){ ctx, ctx->n * c / n_ch, ctx->n * (c + 1) / n_ch, 0, SIZE_MAX,
                              SIZE_MAX, SIZE_MAX, INFINITY, -INFINITY, 1 };
    return n_ch;
}

static int prepare(aud_fair_ctx *ctx, aud_error *err)
{
    const aud_fair_input *in = ctx->in;
    const aud_fair_opts *o = ctx->opts;
    const char *src = in->source;
    if (o->favorable != 0 && o->favorable != 1)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "favorable must be 1 or 0, got %d",
                             o->favorable);
    if (!(o->min_share >= 0.0 && o->min_share <= 1.0))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "min share must be in [0, 1]");
    if (!(o->level > 0.0 && o->level < 1.0))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "confidence level must be in (0, 1)");
    if ((in->prediction == NULL) == (in->score == NULL))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "give exactly one of a prediction and a score");
    if (in->n_attrs == 0)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "no sensitive attribute given");
    if (in->n_rows == 0)
        return aud_error_set(err, AUD_E_DOMAIN, src, 0, 0, "the data has no rows");
    if (in->n_rows > UINT32_MAX)
        return aud_error_set(err, AUD_E_UNSUPPORTED, src, 0, 0,
                             "more than %lu rows are not supported", (unsigned long)UINT32_MAX);
    ctx->n = in->n_rows;
    ctx->has_label = in->label != NULL;
    ctx->has_score = in->score != NULL;
    ctx->y = aud_malloc_slices(ctx->n);
    ctx->p = aud_malloc_slices(ctx->n);
    if (ctx->y == NULL || ctx->p == NULL)
        return aud_error_nomem(err);
    /* the rows' passes on up to --threads threads, in chunks whose findings merge in row order
     * (the first bad row of the whole column, as one pass finds it) */
    prep_chunk pc[AUD_MAX_CHUNKS];
    size_t n_ch = prep_chunks(ctx, pc);
    aud_run_jobs(pc, n_ch, sizeof pc[0], prep_main);
    size_t n_lab = 0, bad_label = SIZE_MAX, bad_pred = SIZE_MAX, bad_score = SIZE_MAX;
    double mn = INFINITY, mx = -INFINITY;
    int prob = 1;
    for (size_t c = 0; c < n_ch; c++) {
        n_lab += pc[c].n_lab;
        bad_label = pc[c].bad_label < bad_label ? pc[c].bad_label : bad_label;
        bad_pred = pc[c].bad_pred < bad_pred ? pc[c].bad_pred : bad_pred;
        bad_score = pc[c].bad_score < bad_score ? pc[c].bad_score : bad_score;
        mn = pc[c].mn < mn ? pc[c].mn : mn;
        mx = pc[c].mx > mx ? pc[c].mx : mx;
        prob &= pc[c].prob;
    }
    ctx->n_labelled = n_lab;
    if (bad_label != SIZE_MAX) {
        char b[32], rb[64];
        aud_error_set(err, AUD_E_DOMAIN, src, 0, 0, "%s: the label must be 0 or 1, got %s",
                      aud_table_row_text(in->table, bad_label, rb, sizeof rb),
                      aud_fmt_double(in->label[bad_label], b));
        return aud_error_field(err, in->label_name ? in->label_name : "label");
    }
    if (ctx->has_label && n_lab == 0) {
        aud_error_set(err, AUD_E_DOMAIN, src, 0, 0, "every label is missing");
        return aud_error_field(err, in->label_name ? in->label_name : "label");
    }
    if (in->prediction != NULL) {
        if (bad_pred != SIZE_MAX) {
            double v = in->prediction[bad_pred];
            char b[32], rb[64];
            aud_table_row_text(in->table, bad_pred, rb, sizeof rb);
            if (isnan(v))
                aud_error_set(err, AUD_E_DOMAIN, src, 0, 0, "%s: the prediction is missing", rb);
            else
                aud_error_set(err, AUD_E_DOMAIN, src, 0, 0,
                              "%s: the prediction must be 0 or 1, got %s", rb,
                              aud_fmt_double(v, b));
            return aud_error_field(err, in->prediction_name ? in->prediction_name
                                                            : "prediction");
        }
        return AUD_OK;
    }
    const char *sname = in->score_name ? in->score_name : "score";
    ctx->score_is_prob = prob;
    if (bad_score != SIZE_MAX) {
        char rb[64];
        double s = in->score[bad_score];
        aud_error_set(err, AUD_E_DOMAIN, src, 0, 0, "%s: the score is %s",
                      aud_table_row_text(in->table, bad_score, rb, sizeof rb),
                      isnan(s) ? "missing" : "infinite");
        return aud_error_field(err, sname);
    }
    if (!isfinite(o->threshold)) {
        aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "a score needs a finite threshold");
        return aud_error_field(err, sname);
    }
    if (o->threshold < mn || o->threshold > mx) {
        char b1[32], b2[32], b3[32];
        aud_error_set(err, AUD_E_DOMAIN, src, 0, 0,
                      "threshold %s is outside the score range [%s, %s]",
                      aud_fmt_double(o->threshold, b1), aud_fmt_double(mn, b2),
                      aud_fmt_double(mx, b3));
        return aud_error_field(err, sname);
    }
    return aud_fair_rank_scores(ctx, err);   /* also for the trade-offs without a label */
}


/* References carry into intersections: when attributes of the intersection have a given
 * reference group (race=Caucasian) and the intersection has none, its reference is its largest
 * group whose parts are those references (Caucasian&Male when that is the larger one; ties: the
 * first in level order). Returns that group's name (a level of ic) and describes the carried
 * references in `what` ("race=Caucasian"), or NULL when nothing carries. */
static const char *carried_reference(const aud_fair_ctx *ctx, unsigned mask,
                                     const aud_fair_inter *ic, char *what, size_t size)
{
    const aud_fair_input *in = ctx->in;
    int32_t want[AUD_FAIR_MAX_INTER_ATTRS];
    int any = 0;
    size_t len = 0;
    for (size_t a = 0; a < in->n_attrs; a++) {
        want[a] = -1;
        const aud_fair_attr *at = &in->attrs[a];
        if (!(mask & (1u << a)) || at->reference == NULL)
            continue;
        for (size_t l = 0; l < at->n_levels && want[a] < 0; l++)
            if (strcmp(at->reference, at->levels[l]) == 0)
                want[a] = (int32_t)l;
        for (size_t l = 0; l < at->n_levels && want[a] < 0; l++)
            if (same_level(at->reference, at->levels[l]))
                want[a] = (int32_t)l;
        if (want[a] < 0)
            continue;   /* the attribute's own analysis reports the unknown group */
        int n = snprintf(what + len, size - len, "%s%s=%s", any ? ", " : "", at->name,
                         at->levels[want[a]]);
        len = n < 0 || (size_t)n >= size - len ? size - 1 : len + (size_t)n;
        any = 1;
    }
    if (!any)
        return NULL;
    uint64_t *count = aud_calloc(ic->n_levels ? ic->n_levels : 1, sizeof *count);
    if (count == NULL) {
        what[0] = '\0';
        return NULL;   /* no memory: the largest group, and analyse meets the shortage too */
    }
    for (size_t i = 0; i < ctx->n; i++) {
        if (ic->codes[i] < 0)
            continue;
        int match = 1;
        for (size_t a = 0; a < in->n_attrs && match; a++)
            match = want[a] < 0 || in->attrs[a].codes[i] == want[a];
        count[ic->codes[i]] += (uint64_t)match;
    }
    size_t best = 0;
    for (size_t l = 1; l < ic->n_levels; l++)
        if (count[l] > count[best])
            best = l;
    const char *ref = ic->n_levels > 0 && count[best] > 0 ? ic->levels[best] : NULL;
    aud_free(count);
    if (ref == NULL)
        what[0] = '\0';
    return ref;
}

static int intersect(const aud_fair_ctx *ctx, unsigned mask, aud_fair_attr_result *ar,
                     aud_error *err)
{
    const aud_fair_input *in = ctx->in;
    aud_fair_inter ic;
    int rc = aud_fair_inter_build(ctx, mask, &ic, err);
    if (rc != AUD_OK)
        return rc;
    const char *ref = NULL;
    for (size_t r = 0; r < in->n_inter_refs; r++)
        if (strcmp(in->inter_ref_names[r], ic.name) == 0)
            ref = in->inter_ref_levels[r];
    char carried[512] = "";
    if (ref == NULL)
        ref = carried_reference(ctx, mask, &ic, carried, sizeof carried);
    rc = analyse(ctx, ar, ic.name, ic.codes, ic.n_levels, (const char *const *)ic.levels, ref,
                 err);
    if (rc == AUD_OK)
        ar->group_order = "components";   /* component by component: cells in code order */
    if (rc == AUD_OK && carried[0] != '\0') {
        ar->reference_given = 0;
        ar->reference_carried = aud_strdup(carried);
        if (ar->reference_carried == NULL)
            rc = aud_error_nomem(err);
    }
    aud_fair_inter_free(&ic);
    return rc;
}

/* One attribute (attr != NULL) or intersection (mask) to analyse; analyses only read the shared
 * context, so they run in parallel and the result does not depend on the thread count. */
typedef struct fair_task {
    const aud_fair_ctx   *ctx;
    aud_fair_attr_result *out;
    const aud_fair_attr  *attr;
    unsigned              mask;
    int                   rc;
    aud_error             err;
} fair_task;

typedef struct fair_tasks {
    fair_task *tasks;
    size_t     n;
} fair_tasks;

/* Tasks are taken from the end of the list (attributes, then intersections by size): the
 * heaviest first. Each task writes only its own slot, so which thread runs it does not matter. */
static void fair_task_run(void *ctx, size_t t)
{
    const fair_tasks *all = ctx;
    fair_task *k = &all->tasks[all->n - 1 - t];
    aud_error_clear(&k->err);
    if (k->attr != NULL) {
        k->rc = analyse(k->ctx, k->out, k->attr->name, k->attr->codes, k->attr->n_levels,
                        k->attr->levels, k->attr->reference, &k->err);
        if (k->rc == AUD_OK)
            k->out->group_order = k->attr->group_order;
    } else {
        k->rc = intersect(k->ctx, k->mask, k->out, &k->err);
    }
}

static void run_tasks(fair_task *tasks, size_t n, int threads)
{
    fair_tasks all = {tasks, n};
    aud_run_tasks(n, threads, fair_task_run, &all);
}

int aud_fair_compute(aud_fair_result **out, const aud_fair_input *in, const aud_fair_opts *opts,
                     aud_error *err)
{
    aud_fair_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.in = in;
    ctx.opts = opts;
    ctx.sc_mut = &ctx.sc;
    pthread_mutex_init(&ctx.sc.lock, NULL);
    aud_fair_result *res = aud_calloc(1, sizeof *res);
    int rc = AUD_OK;
    if (res == NULL) {
        pthread_mutex_destroy(&ctx.sc.lock);
        return aud_error_nomem(err);
    }
    rc = prepare(&ctx, err);
    if (rc != AUD_OK)
        goto done;
    res->favorable = opts->favorable;
    res->threshold = in->score != NULL ? opts->threshold : NAN;
    res->has_label = ctx.has_label;
    res->has_score = ctx.has_score;
    res->n_rows = ctx.n;
    res->min_share = opts->min_share;
    res->min_count = opts->min_count;
    res->level = opts->level;
    res->n_bootstrap = opts->n_bootstrap;
    res->seed = opts->seed;
    res->attrs = aud_calloc(in->n_attrs, sizeof *res->attrs);
    if (res->attrs == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (opts->intersections && in->n_attrs >= 2 && in->n_attrs > AUD_FAIR_MAX_INTER_ATTRS) {
        rc = aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                           "intersections of more than %d attributes are not supported",
                           AUD_FAIR_MAX_INTER_ATTRS);
        goto done;
    }
    /* the tasks: every attribute, then every subset of two or more attributes (by size, then
     * in mask order); each writes only its own result slot */
    fair_task *tasks = NULL;
    size_t n_tasks = in->n_attrs;
    unsigned full = 0;
    if (opts->intersections && in->n_attrs >= 2) {
        full = (1u << in->n_attrs) - 1u;
        res->inters = aud_calloc(full + 1u, sizeof *res->inters);
        if (res->inters == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        n_tasks += (size_t)full - in->n_attrs;
    }
    tasks = aud_calloc(n_tasks ? n_tasks : 1, sizeof *tasks);
    if (tasks == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    size_t nt = 0;
    for (size_t a = 0; a < in->n_attrs; a++) {
        tasks[nt].ctx = &ctx;
        tasks[nt].out = &res->attrs[a];
        tasks[nt].attr = &in->attrs[a];
        nt++;
    }
    size_t n_inters = 0;
    size_t largest = opts->max_intersection > 0 && opts->max_intersection < in->n_attrs
                         ? opts->max_intersection : in->n_attrs;
    for (int size = 2; full != 0 && size <= (int)largest; size++) {
        for (unsigned mask = 1; mask <= full; mask++) {
            if (__builtin_popcount(mask) != size)
                continue;
            tasks[nt].ctx = &ctx;
            tasks[nt].out = &res->inters[n_inters++];
            tasks[nt].mask = mask;
            nt++;
        }
    }
    run_tasks(tasks, nt, opts->threads);
    res->n_attrs = in->n_attrs;
    res->n_inters = n_inters;
    for (size_t t = 0; t < nt && rc == AUD_OK; t++) {   /* the first error in task order */
        if (tasks[t].rc != AUD_OK) {
            *err = tasks[t].err;
            rc = tasks[t].rc;
        }
    }
    aud_free(tasks);
    if (rc != AUD_OK)
        goto done;
    if (opts->nyc_ll144) {
        rc = aud_fair_ll144(&ctx, res, err);
        if (rc != AUD_OK)
            goto done;
    }
    if (ctx.has_score && (res->ranks = aud_fair_scores_take(&ctx.sc, ctx.n)) == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    *out = res;
    res = NULL;
done:
    aud_fair_result_free(res);
    aud_free(ctx.y);
    aud_free(ctx.p);
    aud_fair_scores_free(&ctx.sc);
    pthread_mutex_destroy(&ctx.sc.lock);
    return rc;
}

void aud_fair_levels_free(char **levels, size_t n_levels)
{
    if (levels == NULL)
        return;
    for (size_t i = 0; i < n_levels; i++)
        aud_free(levels[i]);
    aud_free(levels);
}
