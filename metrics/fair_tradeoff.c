/* fair_tradeoff.c - the size of the trade-off (SPEC section 7, item "what would change it"):
 * group-specific score thresholds that would bring every eligible group to an impact ratio of at
 * least 0.8, or to the reference group's true positive rate, and what each costs (overall
 * approval rate, accuracy, each group's TPR / FPR before and after). Information, not advice:
 * the JSON says so, and says that such thresholds can be unlawful.
 *
 * Candidates. Within a group the favourable rows are those with score >= t (favorable 1) or
 * score < t (favorable 0); a threshold can only select a set "every score at or beyond a value",
 * so the candidates are the group's distinct scores: k = 0 selects nobody, k = D everybody. The
 * threshold reported for a candidate is the largest one that selects exactly its rows (favorable
 * 1: the smallest selected score; favorable 0: the next distinct score of the group above the
 * largest selected one, or the next double above it when there is none).
 *
 * Rules (docs/fairness.md gives them, the Python test checks them by brute force):
 *   impact_ratio  every eligible group whose impact ratio (selection rate / highest eligible
 *                 selection rate) is under 0.8 gets the candidate with the fewest selected rows
 *                 that reaches 0.8; repeated until no eligible group is under 0.8 (a group that
 *                 overtakes the highest raises the bar). Other groups keep the threshold.
 *   equal_tpr     target = the reference group's TPR at the common threshold; every other
 *                 eligible group with positives gets the candidate whose TPR is closest to it
 *                 (ties: the selected count nearest today's, then the fewest selected).
 * Small groups and rows with an unknown attribute value keep the common threshold.
 *
 * Nothing is sorted here: the fairness metrics ranked every score once (aud_fair_ranks), and the
 * rows read in rank order and dealt into their groups come out sorted within each group. */
#include "metrics/fair_drivers_int.h"
#include "core/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_IR AUD_FOUR_FIFTHS   /* the impact ratio the trade-off aims at */
#define MAX_ROUNDS 1000
#define HIST_CELLS ((size_t)1 << 18)   /* groups x distinct scores counted in a histogram */

typedef struct tgroup {
    size_t    n, d;         /* rows, distinct scores */
    uint64_t  pos, neg;     /* labelled favourable / unfavourable rows */
    uint32_t *rk;           /* d + 1: score rank of candidate k (k >= 1) */
    uint32_t *sel, *tp, *fp;   /* d + 1: cumulative counts of candidate k (rows < 2^32) */
    size_t    k0;           /* candidate the common threshold selects */
    const double *distinct; /* the scores of the ranks */
    int       favorable;
    double    t0;
} tgroup;

/* A row of a group as rank << 2 | label (0 unfavourable, 1 favourable, 2 missing). */
#define ROW_RANK(p) ((size_t)((p) >> 2))
#define ROW_LABEL(p) ((int)((p) & 3u))

static void tgroup_free(tgroup *g)
{
    aud_free(g->rk);   /* one block: rk, sel, tp, fp */
}

static int tgroup_alloc(tgroup *g, size_t n, size_t d, int favorable, double t0,
                        const double *distinct)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->d = d;
    g->favorable = favorable;
    g->t0 = t0;
    g->distinct = distinct;
    /* one block for the four (written in full, a candidate at a time): huge pages where they
     * pay (aud_malloc_rows) */
    g->rk = aud_malloc_rows(4 * (d + 1) * sizeof *g->rk);
    if (g->rk == NULL)
        return -1;
    g->sel = g->rk + (d + 1);
    g->tp = g->sel + (d + 1);
    g->fp = g->tp + (d + 1);
    g->rk[0] = g->sel[0] = g->tp[0] = g->fp[0] = 0;
    return 0;
}

/* Candidate k (1-based, favourable-first order): the group's rows with score rank r, cnt[] of
 * them per label (unfavourable, favourable, missing). */
static void tgroup_run(tgroup *g, size_t k, size_t r, const uint64_t *cnt)
{
    g->rk[k] = (uint32_t)r;
    g->sel[k] = g->sel[k - 1] + (uint32_t)(cnt[0] + cnt[1] + cnt[2]);
    g->tp[k] = g->tp[k - 1] + (uint32_t)cnt[1];
    g->fp[k] = g->fp[k - 1] + (uint32_t)cnt[0];
    g->pos += cnt[1];
    g->neg += cnt[0];
    /* the common threshold's candidate: the distinct scores it selects */
    double s = g->distinct[r];
    g->k0 += g->favorable ? s >= g->t0 : s < g->t0;
}

/* The threshold of candidate k: the largest that selects exactly its rows (favorable 1: its
 * smallest score, none: just above the largest; favorable 0: the next distinct score, all: just
 * above the largest). */
static double tgroup_cut(const tgroup *g, size_t k)
{
    const double *v = g->distinct;
    if (g->d == 0)
        return g->t0;
    if (g->favorable)
        return k == 0 ? nextafter(v[g->rk[1]], INFINITY) : v[g->rk[k]];
    return k < g->d ? v[g->rk[k + 1]] : nextafter(v[g->rk[g->d]], INFINITY);
}

/* Candidates of one group from its rows r[0..n) in increasing score rank (the ranks of
 * aud_fair_ranks, so no sort here): favourable-first is from the end for favorable 1. */
static int tgroup_from_rows(tgroup *g, const uint64_t *r, size_t n, int favorable, double t0,
                            const double *distinct)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || ROW_RANK(r[i]) != ROW_RANK(r[i - 1]);
    if (tgroup_alloc(g, n, d, favorable, t0, distinct) != 0)
        return -1;
    size_t k = 0;
    for (size_t q = 0; q < n;) {
        size_t rk = ROW_RANK(r[favorable ? n - 1 - q : q]);
        uint64_t cnt[3] = {0, 0, 0};
        for (; q < n && ROW_RANK(r[favorable ? n - 1 - q : q]) == rk; q++)
            cnt[ROW_LABEL(r[favorable ? n - 1 - q : q])]++;
        tgroup_run(g, ++k, rk, cnt);
    }
    return 0;
}

/* The same from the group's histogram h[rank][label] (3 counts a rank, d_all ranks). */
static int tgroup_from_hist(tgroup *g, const uint32_t *h, size_t d_all, int favorable, double t0,
                            const double *distinct)
{
    size_t d = 0, n = 0;
    for (size_t r = 0; r < d_all; r++) {
        uint32_t c = h[3 * r] + h[3 * r + 1] + h[3 * r + 2];
        d += c > 0;
        n += c;
    }
    if (tgroup_alloc(g, n, d, favorable, t0, distinct) != 0)
        return -1;
    size_t k = 0;
    for (size_t q = 0; q < d_all; q++) {
        size_t r = favorable ? d_all - 1 - q : q;
        uint64_t cnt[3] = {h[3 * r], h[3 * r + 1], h[3 * r + 2]};
        if (cnt[0] + cnt[1] + cnt[2] > 0)
            tgroup_run(g, ++k, r, cnt);
    }
    return 0;
}

static double rate(uint64_t a, uint64_t b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

static double sel_rate(const tgroup *g, size_t k)
{
    return rate(g->sel[k], g->n);
}

/* Highest selection rate among eligible groups with rows at candidates k[]. */
static double highest(const tgroup *g, const size_t *k, const unsigned char *elig, size_t ng)
{
    double m = 0.0;
    for (size_t i = 0; i < ng; i++) {
        if (elig[i] && g[i].n > 0 && sel_rate(&g[i], k[i]) > m)
            m = sel_rate(&g[i], k[i]);
    }
    return m;
}

/* ---- the rules ------------------------------------------------------------------------------ */

static int rule_impact_ratio(const tgroup *g, const unsigned char *elig, size_t ng, size_t *k)
{
    int rounds = 0;
    for (; rounds < MAX_ROUNDS; rounds++) {
        double m = highest(g, k, elig, ng);
        int moved = 0;
        for (size_t i = 0; i < ng && m > 0.0; i++) {
            if (!elig[i] || g[i].n == 0 || sel_rate(&g[i], k[i]) / m >= TARGET_IR)
                continue;
            size_t q = k[i];
            while (q < g[i].d && sel_rate(&g[i], q) / m < TARGET_IR)
                q++;
            k[i] = q;
            moved = 1;
        }
        if (!moved)
            break;
    }
    return rounds;
}

static void rule_equal_tpr(const tgroup *g, const unsigned char *elig, size_t ng, size_t ref,
                           double target, size_t *k)
{
    for (size_t i = 0; i < ng; i++) {
        if (i == ref || !elig[i] || g[i].pos == 0)
            continue;
        size_t best = k[i];
        double bd = INFINITY;
        uint64_t bsel = 0;
        for (size_t q = 0; q <= g[i].d; q++) {
            double dist = fabs(rate(g[i].tp[q], g[i].pos) - target);
            uint64_t ds = g[i].sel[q] > g[i].sel[g[i].k0] ? g[i].sel[q] - g[i].sel[g[i].k0]
                                                         : g[i].sel[g[i].k0] - g[i].sel[q];
            if (dist < bd || (dist == bd && ds < bsel)) {
                best = q;
                bd = dist;
                bsel = ds;
            }
        }
        k[i] = best;
    }
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static int add_rate(cJSON *o, const char *name, double v)
{
    return aud_json_add_num(o, name, v);
}

/* Overall approval rate and accuracy at candidates k (all groups, the unknown rows included). */
static int overall_json(cJSON *parent, const char *name, const tgroup *g, const size_t *k,
                        size_t ng)
{
    uint64_t n = 0, sel = 0, corr = 0, lab = 0;
    for (size_t i = 0; i < ng; i++) {
        n += g[i].n;
        sel += g[i].sel[k[i]];
        lab += g[i].pos + g[i].neg;
        corr += g[i].tp[k[i]] + (g[i].neg - g[i].fp[k[i]]);
    }
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    if (o == NULL || add_rate(o, "approval_rate", rate(sel, n)) != 0 ||
        add_rate(o, "accuracy", rate(corr, lab)) != 0)
        return -1;
    return 0;
}

static double tpr_gap(const tgroup *g, const size_t *k, const unsigned char *elig, size_t ng)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ng; i++) {
        if (!elig[i] || g[i].pos == 0)
            continue;
        double t = rate(g[i].tp[k[i]], g[i].pos);
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    return hi >= lo ? hi - lo : NAN;
}

static int groups_json(cJSON *o, const aud_tradeoff_input *in, const tgroup *g,
                       const unsigned char *elig, const size_t *k0, const size_t *k, int labels)
{
    size_t ng = in->n_groups + 1;
    double m0 = highest(g, k0, elig, ng), m1 = highest(g, k, elig, ng);
    cJSON *arr = cJSON_AddArrayToObject(o, "groups");
    if (arr == NULL)
        return -1;
    for (size_t i = 0; i < in->n_groups; i++) {
        const tgroup *t = &g[i];
        if (t->n == 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            return -1;
        }
        double tb = in->threshold, ta = k[i] == k0[i] ? tb : tgroup_cut(t, k[i]);
        if (cJSON_AddStringToObject(e, "group", in->levels[i]) == NULL ||
            cJSON_AddBoolToObject(e, "eligible", in->eligible[i]) == NULL ||
            cJSON_AddBoolToObject(e, "changed", k[i] != k0[i]) == NULL ||
            aud_json_add_num(e, "threshold_before", tb) != 0 ||
            aud_json_add_num(e, "threshold_after", ta) != 0 ||
            add_rate(e, "selection_rate_before", sel_rate(t, k0[i])) != 0 ||
            add_rate(e, "selection_rate_after", sel_rate(t, k[i])) != 0 ||
            add_rate(e, "impact_ratio_before", m0 > 0 ? sel_rate(t, k0[i]) / m0 : NAN) != 0 ||
            add_rate(e, "impact_ratio_after", m1 > 0 ? sel_rate(t, k[i]) / m1 : NAN) != 0)
            return -1;
        if (labels &&
            (add_rate(e, "tpr_before", rate(t->tp[k0[i]], t->pos)) != 0 ||
             add_rate(e, "tpr_after", rate(t->tp[k[i]], t->pos)) != 0 ||
             add_rate(e, "fpr_before", rate(t->fp[k0[i]], t->neg)) != 0 ||
             add_rate(e, "fpr_after", rate(t->fp[k[i]], t->neg)) != 0))
            return -1;
    }
    return 0;
}

/* ---- the groups' candidates ---------------------------------------------------------------- */

int aud_tradeoff_needs_order(const aud_fair_ranks *ranks, size_t n_groups, size_t hist_cells)
{
    return (n_groups + 1) * ranks->n_distinct > (hist_cells ? hist_cells : HIST_CELLS);
}

static uint32_t row_code(const aud_tradeoff_input *in, size_t i)
{
    size_t c = in->codes[i] < 0 ? in->n_groups : (size_t)in->codes[i];
    double y = in->label != NULL ? in->label[i] : NAN;
    return (uint32_t)c << 2 | (isnan(y) ? 2u : (y == (double)in->favorable));
}

/* Rows [b, e) counted into h[group][rank][label] (aud_count_rows). */
static void hist_count(void *arg, size_t b, size_t e, uint32_t *h)
{
    const aud_tradeoff_input *in = arg;
    const aud_fair_ranks *rk = in->ranks;
    size_t d = rk->n_distinct;
    for (size_t i = b; i < e; i++) {
        uint32_t v = row_code(in, i);
        h[3 * ((v >> 2) * d + rk->rank[i]) + (v & 3u)]++;
    }
}

/* Few groups x distinct scores: counts per (group, rank, label) in one pass over the rows, in
 * chunks on the threads when the counts are few beside a chunk's rows. */
static int groups_by_hist(const aud_tradeoff_input *in, tgroup *g, size_t ng, aud_error *err)
{
    const aud_fair_ranks *rk = in->ranks;
    size_t d = rk->n_distinct;
    uint32_t *h = aud_count_rows(in->n_rows, in->threads, 3 * ng * d + 1, hist_count,
                                 (void *)in);
    if (h == NULL)
        return aud_error_nomem(err);
    int rc = AUD_OK;
    for (size_t c = 0; c < ng && rc == AUD_OK; c++) {
        if (tgroup_from_hist(&g[c], h + 3 * c * d, d, in->favorable, in->threshold,
                             rk->distinct) != 0)
            rc = aud_error_nomem(err);
    }
    aud_free(h);
    return rc;
}

/* The rank-order path's row passes in chunks of rows (or of rank-order positions) on
 * in->threads threads. Each chunk counts its rows per group, and the positions are handed out
 * group by group, chunk by chunk in order: a stable deal, so the groups come out the same
 * whatever the chunks. */
typedef struct trow_chunk {
    const aud_tradeoff_input *in;
    size_t    b, e;
    uint8_t  *gl8;     /* group << 2 | label per row, a byte (<= 63 groups) */
    uint32_t *gl32;    /* or a word */
    uint32_t *vt;      /* the same in rank order */
    size_t   *cnt;     /* this chunk's rows per group, then where they go */
    uint64_t *rows;    /* each group's rows as rank << 2 | label */
} trow_chunk;

/* The group and label of rows [b, e). */
static void *codes_main(void *arg)
{
    const trow_chunk *c = arg;
    for (size_t i = c->b; i < c->e; i++) {
        uint32_t v = row_code(c->in, i);
        if (c->gl8 != NULL)
            c->gl8[i] = (uint8_t)v;
        else
            c->gl32[i] = v;
    }
    return NULL;
}

/* Rank-order positions [b, e): their rows' codes gathered, counted per group. */
static void *gather_main(void *arg)
{
    const trow_chunk *c = arg;
    const uint32_t *order = c->in->ranks->order;
    aud_prefault(c->vt + c->b, (c->e - c->b) * sizeof *c->vt);
    for (size_t t = c->b; t < c->e; t++) {
        uint32_t i = order[t], v = c->gl8 != NULL ? c->gl8[i] : c->gl32[i];
        c->vt[t] = v;
        c->cnt[v >> 2]++;
    }
    return NULL;
}

/* Rank-order positions [b, e) dealt into their groups: the rank of position b, then walk. */
static void *deal_main(void *arg)
{
    const trow_chunk *c = arg;
    const aud_fair_ranks *rk = c->in->ranks;
    size_t lo = 0, hi = rk->n_distinct;   /* the last r with start[r] <= b */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (rk->start[mid] <= c->b)
            lo = mid;
        else
            hi = mid;
    }
    size_t r = lo;
    for (size_t t = c->b; t < c->e; t++) {
        while (rk->start[r + 1] <= t)
            r++;
        uint32_t v = c->vt[t];
        c->rows[c->cnt[v >> 2]++] = (uint64_t)r << 2 | (v & 3u);
    }
    return NULL;
}

/* The candidates of each group from its dealt rows, the groups on the threads (each writes
 * only its own tgroup). */
typedef struct from_rows_ctx {
    const aud_tradeoff_input *in;
    tgroup                   *g;
    const uint64_t           *rows;
    const size_t             *off;
    unsigned char            *failed;
} from_rows_ctx;

static void from_rows_task(void *ctx, size_t c)
{
    const from_rows_ctx *x = ctx;
    x->failed[c] = tgroup_from_rows(&x->g[c], x->rows + x->off[c], x->off[c + 1] - x->off[c],
                                    x->in->favorable, x->in->threshold,
                                    x->in->ranks->distinct) != 0;
}

/* Else the rows in rank order dealt into their groups (a counting sort on the group): each
 * group's rows come out sorted by score. The rank order reads the rows at random, so it reads
 * one small array: group << 2 | label per row (a byte when the groups allow), gathered in rank
 * order first. */
static int groups_by_order(const aud_tradeoff_input *in, tgroup *g, size_t ng, aud_error *err)
{
    size_t n = in->n_rows;
    int small = ng <= 63;
    size_t n_ch = aud_row_chunks(n, in->threads);
    uint64_t *rows = aud_malloc_rows((n ? n : 1) * sizeof *rows);
    size_t *off = aud_calloc(ng + 1, sizeof *off);
    size_t *cnt = aud_calloc(n_ch * ng, sizeof *cnt);
    unsigned char *failed = aud_calloc(ng, 1);
    uint8_t *gl8 = small ? aud_malloc(n ? n : 1) : NULL;
    uint32_t *gl32 = small ? NULL : aud_malloc_rows((n ? n : 1) * sizeof *gl32);
    uint32_t *vt = aud_malloc_slices((n ? n : 1) * sizeof *vt);
    int rc = AUD_OK;
    if (rows == NULL || off == NULL || cnt == NULL || failed == NULL ||
        (gl8 == NULL && gl32 == NULL) || vt == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    trow_chunk ch[AUD_MAX_CHUNKS];
    for (size_t c = 0; c < n_ch; c++)
        ch[c] = (trow_chunk){in, n * c / n_ch, n * (c + 1) / n_ch, gl8, gl32, vt, cnt + c * ng,
                             rows};
    aud_run_jobs(ch, n_ch, sizeof ch[0], codes_main);
    aud_run_jobs(ch, n_ch, sizeof ch[0], gather_main);
    for (size_t c = 0; c < n_ch; c++)   /* each group's size */
        for (size_t q = 0; q < ng; q++)
            off[q + 1] += ch[c].cnt[q];
    for (size_t q = 0; q < ng; q++)
        off[q + 1] += off[q];
    for (size_t q = 0; q < ng; q++) {   /* group by group, chunk by chunk: where rows go */
        size_t pos = off[q];
        for (size_t c = 0; c < n_ch; c++) {
            size_t k = ch[c].cnt[q];
            ch[c].cnt[q] = pos;
            pos += k;
        }
    }
    aud_run_jobs(ch, n_ch, sizeof ch[0], deal_main);
    from_rows_ctx fx = {in, g, rows, off, failed};
    aud_run_tasks(ng, in->threads > 0 ? in->threads : 1, from_rows_task, &fx);
    for (size_t c = 0; c < ng && rc == AUD_OK; c++)
        if (failed[c])
            rc = aud_error_nomem(err);
done:
    aud_free(rows);
    aud_free(off);
    aud_free(cnt);
    aud_free(failed);
    aud_free(gl8);
    aud_free(gl32);
    aud_free(vt);
    return rc;
}

static const char NOTICE[] =
    "Information, not advice: these group-specific thresholds show the size of the trade-off "
    "between the fairness measure and the other figures; they are not a remedy to apply. "
    "Group-specific thresholds can be unlawful in some settings: US employment law forbids "
    "adjusting scores or using different cut-off scores on the basis of race, color, religion, "
    "sex or national origin (Civil Rights Act of 1991, 42 U.S.C. 2000e-2(l)).";

int aud_tradeoff_json(cJSON *attr, const aud_tradeoff_input *in, aud_error *err)
{
    size_t ng = in->n_groups + 1;   /* the last one: rows with an unknown value */
    int labels = in->label != NULL;
    const aud_fair_ranks *rk = in->ranks;
    if (rk == NULL || rk->n_rows != in->n_rows ||
        (aud_tradeoff_needs_order(rk, in->n_groups, in->hist_cells) && rk->order == NULL))
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "the scores are not ranked");
    tgroup *g = aud_calloc(ng, sizeof *g);
    size_t *k0 = aud_calloc(ng, sizeof *k0), *k = aud_calloc(ng, sizeof *k);
    unsigned char *elig = aud_calloc(ng, 1);
    int rc = AUD_OK;
    if (g == NULL || k0 == NULL || k == NULL || elig == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    memcpy(elig, in->eligible, in->n_groups);
    rc = aud_tradeoff_needs_order(rk, in->n_groups, in->hist_cells) ? groups_by_order(in, g, ng, err)
                                                    : groups_by_hist(in, g, ng, err);
    if (rc != AUD_OK)
        goto done;
    for (size_t c = 0; c < ng; c++)
        k0[c] = g[c].k0;
    cJSON *t = cJSON_AddObjectToObject(attr, "tradeoffs");
    cJSON *ir = t ? cJSON_AddObjectToObject(t, "impact_ratio") : NULL;
    if (ir == NULL || cJSON_AddStringToObject(t, "notice", NOTICE) == NULL ||
        cJSON_AddStringToObject(t, "rule", in->favorable ? "favourable when score >= threshold"
                                                         : "favourable when score < threshold") ==
            NULL ||
        aud_json_add_num(t, "threshold", in->threshold) != 0)
        goto nomem;
    /* impact ratio >= 0.8 */
    memcpy(k, k0, ng * sizeof *k);
    double m0 = highest(g, k0, elig, ng);
    int needed = 0;
    for (size_t c = 0; c < ng; c++)
        needed |= elig[c] && g[c].n > 0 && m0 > 0 && sel_rate(&g[c], k0[c]) / m0 < TARGET_IR;
    int rounds = rule_impact_ratio(g, elig, ng, k);
    if (aud_json_add_num(ir, "target", TARGET_IR) != 0 ||
        cJSON_AddBoolToObject(ir, "needed", needed) == NULL ||
        aud_json_add_num(ir, "rounds", rounds) != 0 ||
        overall_json(ir, "before", g, k0, ng) != 0 || overall_json(ir, "after", g, k, ng) != 0 ||
        groups_json(ir, in, g, elig, k0, k, labels) != 0)
        goto nomem;
    /* equal TPR */
    if (!labels) {
        if (cJSON_AddNullToObject(t, "equal_tpr") == NULL ||
            cJSON_AddStringToObject(t, "equal_tpr_reason", "no label column") == NULL)
            goto nomem;
    } else if (g[in->reference].pos == 0) {
        if (cJSON_AddNullToObject(t, "equal_tpr") == NULL ||
            cJSON_AddStringToObject(t, "equal_tpr_reason",
                                    "the reference group has no labelled favourable rows") == NULL)
            goto nomem;
    } else {
        memcpy(k, k0, ng * sizeof *k);
        double target = rate(g[in->reference].tp[k0[in->reference]], g[in->reference].pos);
        rule_equal_tpr(g, elig, ng, in->reference, target, k);
        cJSON *et = cJSON_AddObjectToObject(t, "equal_tpr");
        if (et == NULL || aud_json_add_num(et, "target_tpr", target) != 0 ||
            cJSON_AddStringToObject(et, "reference", in->levels[in->reference]) == NULL ||
            aud_json_add_num(et, "tpr_gap_before", tpr_gap(g, k0, elig, ng)) != 0 ||
            aud_json_add_num(et, "tpr_gap_after", tpr_gap(g, k, elig, ng)) != 0 ||
            overall_json(et, "before", g, k0, ng) != 0 ||
            overall_json(et, "after", g, k, ng) != 0 || groups_json(et, in, g, elig, k0, k, 1) != 0)
            goto nomem;
    }
    goto done;
nomem:
    rc = aud_error_nomem(err);
done:
    for (size_t c = 0; g != NULL && c < ng; c++)
        tgroup_free(&g[c]);
    aud_free(g);
    aud_free(k0);
    aud_free(k);
    aud_free(elig);
    return rc;
}
