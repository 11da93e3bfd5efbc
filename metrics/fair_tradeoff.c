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
 * Small groups and rows with an unknown attribute value keep the common threshold. */
#include "metrics/fair_drivers_int.h"
#include "core/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_IR AUD_FOUR_FIFTHS   /* the impact ratio the trade-off aims at */
#define MAX_ROUNDS 1000

typedef struct srow {
    double s;
    signed char y;   /* 1 favourable label, 0 unfavourable, -1 missing */
} srow;

typedef struct tgroup {
    size_t    n, d;         /* rows, distinct scores */
    uint64_t  pos, neg;     /* labelled favourable / unfavourable rows */
    double   *cut;          /* d + 1: threshold of candidate k */
    uint64_t *sel, *tp, *fp;   /* d + 1: cumulative counts of candidate k */
    size_t    k0;           /* candidate the common threshold selects */
} tgroup;

/* Scores as unsigned keys in the same order (IEEE 754: flip the sign bit of positives, every bit
 * of negatives). */
static uint64_t sort_key(double s)
{
    uint64_t u;
    memcpy(&u, &s, sizeof u);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

/* Sort r[0..n) by ascending score: LSD radix sort on the keys, 16 bits a pass, passes where
 * every key has the same digit skipped (tmp: n rows). */
static int sort_rows(srow *r, size_t n, srow *tmp)
{
    uint64_t *cnt = aud_malloc(65536 * sizeof *cnt);
    if (cnt == NULL)
        return -1;
    srow *a = r, *b = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(sort_key(a[i].s) >> shift) & 0xFFFF]++;
        if (n == 0 || cnt[(sort_key(a[0].s) >> shift) & 0xFFFF] == n)
            continue;   /* one digit: nothing moves */
        uint64_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            uint64_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[cnt[(sort_key(a[i].s) >> shift) & 0xFFFF]++] = a[i];
        srow *t = a;
        a = b;
        b = t;
    }
    if (a != r)
        memcpy(r, a, n * sizeof *r);
    aud_free(cnt);
    return 0;
}

static void tgroup_free(tgroup *g)
{
    aud_free(g->cut);
    aud_free(g->sel);
    aud_free(g->tp);
    aud_free(g->fp);
}

/* Candidates of one group's rows r[0..n) (sorted favourable-first in place; tmp: n rows). */
static int tgroup_build(tgroup *g, srow *r, size_t n, int favorable, double t0, srow *tmp)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    if (sort_rows(r, n, tmp) != 0)
        return -1;
    for (size_t i = 0; favorable && i < n / 2; i++) {   /* descending */
        srow t = r[i];
        r[i] = r[n - 1 - i];
        r[n - 1 - i] = t;
    }
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || r[i].s != r[i - 1].s;
    g->d = d;
    g->cut = aud_malloc((d + 1) * sizeof *g->cut);
    g->sel = aud_calloc(d + 1, sizeof *g->sel);
    g->tp = aud_calloc(d + 1, sizeof *g->tp);
    g->fp = aud_calloc(d + 1, sizeof *g->fp);
    if (g->cut == NULL || g->sel == NULL || g->tp == NULL || g->fp == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || r[i].s != r[i - 1].s) {
            k++;
            g->sel[k] = g->sel[k - 1];
            g->tp[k] = g->tp[k - 1];
            g->fp[k] = g->fp[k - 1];
            /* favorable 1: select s >= value; favorable 0: s < next distinct value */
            g->cut[k] = favorable ? r[i].s : INFINITY;
            if (!favorable && k >= 2)
                g->cut[k - 1] = r[i].s;
        }
        g->sel[k]++;
        g->tp[k] += r[i].y == 1;
        g->fp[k] += r[i].y == 0;
        g->pos += r[i].y == 1;
        g->neg += r[i].y == 0;
    }
    if (favorable) {
        g->cut[0] = d > 0 ? nextafter(g->cut[1], INFINITY) : t0;
    } else {
        g->cut[0] = d > 0 ? r[0].s : t0;
        if (d > 0)
            g->cut[d] = nextafter(r[n - 1].s, INFINITY);
    }
    /* the common threshold's candidate: the distinct scores it selects */
    g->k0 = 0;
    for (size_t i = 0; i < n; i++) {
        int s = favorable ? r[i].s >= t0 : r[i].s < t0;
        if (!s)
            break;
        if (i == 0 || r[i].s != r[i - 1].s)
            g->k0++;
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
        double tb = in->threshold, ta = k[i] == k0[i] ? tb : t->cut[k[i]];
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
    srow *rows = aud_malloc((in->n_rows ? in->n_rows : 1) * sizeof *rows);
    srow *tmp = aud_malloc((in->n_rows ? in->n_rows : 1) * sizeof *tmp);
    size_t *off = aud_calloc(ng + 1, sizeof *off);
    tgroup *g = aud_calloc(ng, sizeof *g);
    size_t *k0 = aud_calloc(ng, sizeof *k0), *k = aud_calloc(ng, sizeof *k);
    unsigned char *elig = aud_calloc(ng, 1);
    int rc = AUD_OK;
    if (rows == NULL || tmp == NULL || off == NULL || g == NULL || k0 == NULL || k == NULL ||
        elig == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    memcpy(elig, in->eligible, in->n_groups);
    /* rows grouped by a counting sort on the group */
    for (size_t i = 0; i < in->n_rows; i++) {
        size_t c = in->codes[i] < 0 ? in->n_groups : (size_t)in->codes[i];
        off[c + 1]++;
    }
    for (size_t c = 0; c < ng; c++)
        off[c + 1] += off[c];
    size_t *fill = k;   /* scratch: next free slot of each group */
    memcpy(fill, off, ng * sizeof *fill);
    for (size_t i = 0; i < in->n_rows; i++) {
        size_t c = in->codes[i] < 0 ? in->n_groups : (size_t)in->codes[i];
        double y = labels ? in->label[i] : NAN;
        srow r = {in->score[i], (signed char)(isnan(y) ? -1 : (y == (double)in->favorable))};
        rows[fill[c]++] = r;
    }
    for (size_t c = 0; c < ng; c++) {
        if (tgroup_build(&g[c], rows + off[c], off[c + 1] - off[c], in->favorable,
                         in->threshold, tmp) != 0) {
            rc = aud_error_nomem(err);
            goto done;
        }
        k0[c] = g[c].k0;
    }
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
    aud_free(rows);
    aud_free(tmp);
    aud_free(off);
    aud_free(g);
    aud_free(k0);
    aud_free(k);
    aud_free(elig);
    return rc;
}
