/* test_fair_compute.c - aud_fair_compute on small hand-computed arrays: favourable outcome 0,
 * missing labels and sensitive values, references, intersections, small groups, input errors,
 * bootstrap independent of the thread count, JSON nulls with reasons, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"
#include "metrics/fair_int.h"
#include "core/io.h"
#include "core/table.h"

/* 12 rows. sex: F F F F F M M M M M M ?, label with one missing, prediction. */
static const double label[12] = {1, 1, 0, 0, NAN, 1, 1, 1, 0, 0, 0, 1};
static const double pred[12] = {1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1};
static const int32_t sex[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -1};
static const char *const sex_lv[2] = {"F", "M"};
static const int32_t grp[12] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
static const char *const grp_lv[2] = {"a", "b"};

static void setup_input(aud_fair_input *in, aud_fair_attr *attrs)
{
    memset(in, 0, sizeof *in);
    memset(attrs, 0, 2 * sizeof *attrs);
    attrs[0].name = "sex";
    attrs[0].codes = sex;
    attrs[0].n_levels = 2;
    attrs[0].levels = sex_lv;
    attrs[1].name = "grp";
    attrs[1].codes = grp;
    attrs[1].n_levels = 2;
    attrs[1].levels = grp_lv;
    in->n_rows = 12;
    in->label = label;
    in->prediction = pred;
    in->attrs = attrs;
    in->n_attrs = 1;
    in->label_name = "y";
    in->prediction_name = "yhat";
    in->source = "mem.csv";
}

static void opts_nb(aud_fair_opts *o)
{
    aud_fair_opts_default(o);
    o->n_bootstrap = 0;
    o->min_share = 0.0;
}

/* The 12 rows as a ready input with no-bootstrap options; tests change what they test. */
typedef struct rows {
    aud_fair_input   in;
    aud_fair_attr    attrs[2];
    aud_fair_opts    o;
    aud_error        err;
    aud_fair_result *res;
} rows;

static void rows_init(rows *r)
{
    setup_input(&r->in, r->attrs);
    opts_nb(&r->o);
    r->res = NULL;
}

static const aud_fair_group *group(const aud_fair_attr_result *ar, const char *name)
{
    for (size_t g = 0; g < ar->n_groups; g++)
        if (strcmp(ar->groups[g].name, name) == 0)
            return &ar->groups[g];
    fail_msg("no group %s", name);
    return NULL;
}

/* aud_fair_compute on the 12 rows: sex (and grp, with their intersection, when n_attrs is 2),
 * no bootstrap, no share rule, groups under min_count small. */
static aud_fair_result *compute_rows(size_t n_attrs, uint64_t min_count)
{
    rows r;
    rows_init(&r);
    r.in.n_attrs = n_attrs;
    r.o.min_count = min_count;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_OK);
    return r.res;
}

/* F: rows 0-4, labelled 0-3: (y,p) = (1,1) TP, (1,0) FN, (0,1) FP, (0,0) TN; row 4 unlabelled, p=1.
 * M: rows 5-10: (1,1) TP, (1,1) TP, (1,0) FN, (0,1) FP, (0,0) TN, (0,0) TN. Row 11 unknown. */
static void test_counts_and_rates_favorable_1(void **state)
{
    (void)state;
    aud_fair_result *res = compute_rows(1, 0);
    const aud_fair_attr_result *ar = &res->attrs[0];
    assert_int_equal(ar->n_unknown, 1);
    assert_int_equal(ar->n_groups, 2);
    const aud_fair_group *f = group(ar, "F"), *m = group(ar, "M");
    assert_int_equal(f->c.n, 5);
    assert_int_equal(f->c.sel, 3);
    assert_int_equal(f->c.tp, 1);
    assert_int_equal(f->c.fn, 1);
    assert_int_equal(f->c.fp, 1);
    assert_int_equal(f->c.tn, 1);
    assert_int_equal(m->c.tp, 2);
    assert_int_equal(m->c.tn, 2);
    /* reference = largest group M (6 rows) */
    assert_string_equal(ar->groups[ar->reference].name, "M");
    assert_true(fabs(f->rate[AUD_FAIR_SELECTION_RATE].v - 0.6) < 1e-15);
    assert_true(fabs(m->rate[AUD_FAIR_SELECTION_RATE].v - 0.5) < 1e-15);
    assert_true(fabs(f->rate[AUD_FAIR_TPR].v - 0.5) < 1e-15);
    assert_true(fabs(m->rate[AUD_FAIR_TPR].v - 2.0 / 3.0) < 1e-15);
    assert_true(fabs(f->disparate_impact.v - 1.2) < 1e-15);
    /* highest selection rate is F: impact ratio of M is 0.5 / 0.6 */
    assert_true(fabs(m->impact_ratio.v - 0.5 / 0.6) < 1e-15);
    assert_true(isnan(f->fisher_p.v));
    assert_true(fabs(ar->sum[AUD_FAIR_DP_DIFF].v - 0.1) < 1e-15);
    aud_fair_result_free(res);
}

/* favourable = 0: selection rate is the share predicted 0, tpr = P(pred 0 | label 0). */
static void test_favorable_0_swaps_roles(void **state)
{
    (void)state;
    rows r;
    rows_init(&r);
    r.o.favorable = 0;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_OK);
    const aud_fair_group *f = group(&r.res->attrs[0], "F"), *m = group(&r.res->attrs[0], "M");
    assert_true(fabs(f->rate[AUD_FAIR_SELECTION_RATE].v - 0.4) < 1e-15);
    /* M: label 0 rows 8, 9, 10 predicted 1, 0, 0 -> tpr 2/3 */
    assert_true(fabs(m->rate[AUD_FAIR_TPR].v - 2.0 / 3.0) < 1e-15);
    /* base rate = P(label = 0) over labelled: F 2/4 */
    assert_true(fabs(f->rate[AUD_FAIR_BASE_RATE].v - 0.5) < 1e-15);
    aud_fair_result_free(r.res);
}

static void test_reference_given_and_unknown(void **state)
{
    (void)state;
    rows r;
    rows_init(&r);
    r.attrs[0].reference = "F";
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_OK);
    assert_string_equal(r.res->attrs[0].groups[r.res->attrs[0].reference].name, "F");
    aud_fair_result_free(r.res);
    r.res = NULL;
    r.attrs[0].reference = "X";
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_E_SCHEMA);
    assert_null(r.res);
    assert_string_equal(r.err.field, "sex");
    assert_non_null(strstr(r.err.msg, "reference group \"X\""));
}

static void test_bad_label_and_prediction_are_located(void **state)
{
    (void)state;
    rows r;
    double bad[12];
    rows_init(&r);
    memcpy(bad, label, sizeof bad);
    bad[6] = 2.0;
    r.in.label = bad;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_E_DOMAIN);
    assert_string_equal(r.err.field, "y");
    /* rows are 0-based; with the table they came from, its CSV line too (issue 14 item 3) */
    assert_string_equal(r.err.msg, "data row 6: the label must be 0 or 1, got 2");
    aud_line_mark mark = {.row = 0, .line = 4};   /* a banner line, a comment, then the header */
    aud_table t = {.path = (char *)"d.csv", .line_marks = &mark, .n_line_marks = 1, .n_rows = 12};
    r.in.table = &t;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_E_DOMAIN);
    assert_string_equal(r.err.msg, "data row 6 (CSV line 10): the label must be 0 or 1, got 2");
    r.in.table = NULL;
    r.in.label = label;
    memcpy(bad, pred, sizeof bad);
    bad[0] = NAN;
    r.in.prediction = bad;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_E_DOMAIN);
    assert_string_equal(r.err.msg, "data row 0: the prediction is missing");
    assert_null(r.res);
}

static void test_threshold_outside_score_range(void **state)
{
    (void)state;
    rows r;
    double score[12] = {.9, .2, .7, .1, .8, .6, .95, .3, .55, .05, .4, .5};
    rows_init(&r);
    r.in.prediction = NULL;
    r.in.score = score;
    r.in.score_name = "s";
    r.o.threshold = 1.5;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_E_DOMAIN);
    assert_string_equal(r.err.field, "s");
    r.o.threshold = 0.5;
    assert_int_equal(aud_fair_compute(&r.res, &r.in, &r.o, &r.err), AUD_OK);
    /* score >= 0.5 is the prediction: F rows .9 .2 .7 .1 .8 -> 3 selected */
    assert_int_equal(group(&r.res->attrs[0], "F")->c.sel, 3);
    /* AUC of M over labelled rows: pos {.6,.95,.3}, neg {.55,.05,.4}: pairs won 7 of 9 */
    assert_true(fabs(group(&r.res->attrs[0], "M")->auc.v - 7.0 / 9.0) < 1e-15);
    aud_fair_result_free(r.res);
}

static void test_intersections_named_and_counted(void **state)
{
    (void)state;
    aud_fair_result *res = compute_rows(2, 0);
    assert_int_equal(res->n_inters, 1);
    const aud_fair_attr_result *x = &res->inters[0];
    assert_string_equal(x->name, "sex&grp");
    assert_int_equal(x->n_groups, 4);
    assert_string_equal(x->groups[0].name, "F&a");
    assert_string_equal(x->groups[3].name, "M&b");
    assert_int_equal(group(x, "F&a")->c.n, 3);
    assert_int_equal(group(x, "M&b")->c.n, 3);
    assert_int_equal(x->n_unknown, 1);
    aud_fair_result_free(res);
}

static void test_small_groups_left_out_of_summary(void **state)
{
    (void)state;
    aud_fair_result *res = compute_rows(1, 6); /* F (5 rows) is small */
    const aud_fair_attr_result *ar = &res->attrs[0];
    assert_true(group(ar, "F")->small);
    assert_int_equal(ar->n_small, 1);
    assert_true(isnan(ar->sum[AUD_FAIR_DP_DIFF].v));
    /* the impact ratio of F is still reported, against the highest eligible group M */
    assert_true(fabs(group(ar, "F")->impact_ratio.v - 1.2) < 1e-15);
    /* all_groups keeps F: selection rates 0.6 and 0.5, a 2 x 2 chi-square */
    assert_true(fabs(ar->sum_all[AUD_FAIR_DP_DIFF].v - 0.1) < 1e-15);
    assert_true(fabs(ar->sum_all[AUD_FAIR_DP_RATIO].v - 0.5 / 0.6) < 1e-15);
    assert_true(isnan(ar->chi2_stat.v));
    assert_false(isnan(ar->chi2_all_stat.v));
    assert_int_equal(ar->chi2_all_dof, 1);
    aud_fair_result_free(res);
}

/* With no small group, all_groups is the headline summary: same values (bits) and reasons. */
static void test_all_groups_equal_summary_without_small_groups(void **state)
{
    (void)state;
    aud_fair_result *res = compute_rows(2, 0);
    for (size_t a = 0; a < res->n_attrs + res->n_inters; a++) {
        const aud_fair_attr_result *ar = a < res->n_attrs ? &res->attrs[a]
                                                          : &res->inters[a - res->n_attrs];
        assert_int_equal(ar->n_small, 0);
        for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
            assert_memory_equal(&ar->sum[m].v, &ar->sum_all[m].v, sizeof(double));
            assert_ptr_equal(ar->sum[m].why, ar->sum_all[m].why);
        }
        assert_memory_equal(&ar->chi2_stat.v, &ar->chi2_all_stat.v, sizeof(double));
        assert_memory_equal(&ar->chi2_p.v, &ar->chi2_all_p.v, sizeof(double));
        assert_int_equal(ar->chi2_dof, ar->chi2_all_dof);
    }
    assert_true(res->n_inters > 0);
    aud_fair_result_free(res);
}

static void test_bootstrap_same_for_any_thread_count(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double y[N], p[N];
    static int32_t c[N];
    for (size_t i = 0; i < N; i++) {
        uint64_t h = aud_fair_replicate_seed(7, i);
        c[i] = (int32_t)(h % 3);
        y[i] = (double)((h >> 8) % 2);
        p[i] = (double)(((h >> 16) % 10) < (unsigned)(4 + c[i] + y[i] * 3));
    }
    static const char *const lv[3] = {"x", "y", "z"};
    aud_fair_attr a = {.name = "g", .codes = c, .n_levels = 3, .levels = lv};
    aud_fair_input in = {.n_rows = N, .label = y, .prediction = p, .attrs = &a, .n_attrs = 1};
    aud_fair_opts o;
    aud_error err;
    aud_fair_result *r1 = NULL, *r4 = NULL;
    aud_fair_opts_default(&o);
    o.n_bootstrap = 200;
    o.seed = 42;
    o.threads = 1;
    assert_int_equal(aud_fair_compute(&r1, &in, &o, &err), AUD_OK);
    o.threads = 7;
    assert_int_equal(aud_fair_compute(&r4, &in, &o, &err), AUD_OK);
    for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
        double lo = r1->attrs[0].sum_lo[m], hi = r1->attrs[0].sum_hi[m];
        assert_false(isnan(lo));
        assert_memory_equal(&lo, &r4->attrs[0].sum_lo[m], sizeof lo);
        assert_memory_equal(&hi, &r4->attrs[0].sum_hi[m], sizeof hi);
        /* the percentile interval brackets the point estimate here */
        assert_true(lo <= r1->attrs[0].sum[m].v && r1->attrs[0].sum[m].v <= hi);
    }
    aud_fair_result_free(r1);
    aud_fair_result_free(r4);
}

static void test_json_null_with_reason(void **state)
{
    (void)state;
    /* group B has no unfavourable label: fpr null with a reason */
    static const double y[4] = {1, 0, 1, 1}, p[4] = {1, 0, 0, 1};
    static const int32_t c[4] = {0, 0, 1, 1};
    static const char *const lv[2] = {"A", "B"};
    aud_fair_attr a = {.name = "g", .codes = c, .n_levels = 2, .levels = lv};
    aud_fair_input in = {.n_rows = 4, .label = y, .prediction = p, .attrs = &a, .n_attrs = 1};
    aud_fair_opts o;
    aud_error err;
    aud_fair_result *res = NULL;
    opts_nb(&o);
    assert_int_equal(aud_fair_compute(&res, &in, &o, &err), AUD_OK);
    cJSON *doc = aud_json_doc_new();
    assert_int_equal(aud_fair_to_json(res, doc, &err), AUD_OK);
    char *text = cJSON_PrintUnformatted(doc);
    assert_non_null(strstr(text, "\"fpr\":null,\"fpr_reason\":\"no rows with an unfavourable "
                                 "label\",\"fpr_ci\":null"));
    assert_non_null(strstr(text, "\"group\":\"B\""));
    cJSON_free(text);
    cJSON_Delete(doc);
    aud_fair_result_free(res);
}

static void test_codes_from_numeric(void **state)
{
    (void)state;
    const double x[6] = {1, 0, NAN, 1, 0.5, 10};
    int32_t *codes = NULL;
    char **levels = NULL;
    size_t nl = 0;
    aud_error err;
    assert_int_equal(aud_fair_codes_from_numeric(x, 6, &codes, &levels, &nl, &err), AUD_OK);
    assert_int_equal(nl, 4);
    assert_string_equal(levels[0], "0");
    assert_string_equal(levels[1], "0.5");
    assert_string_equal(levels[3], "10");
    assert_int_equal(codes[0], 2);
    assert_int_equal(codes[2], -1);
    assert_int_equal(codes[5], 3);
    aud_fair_levels_free(levels, nl);
    aud_free(codes);
}

/* Score metrics: the histogram sweep and the rank-order sweep (forced by the test override)
 * give the same bits, for scores ranked by hashing (rounded: many ties) and by the radix sort
 * (70,000 distinct scores), favourable 1 and 0, attributes and their intersection. */
static void compare_sweeps(const double *score, const double *y, const int32_t *c1,
                           const int32_t *c2, size_t n, int favorable)
{
    static const char *const lv1[3] = {"a", "b", "c"};
    static const char *const lv2[5] = {"p", "q", "r", "s", "t"};
    aud_fair_attr at[2] = {{.name = "g1", .codes = c1, .n_levels = 3, .levels = lv1},
                           {.name = "g2", .codes = c2, .n_levels = 5, .levels = lv2}};
    aud_fair_input in = {.n_rows = n, .label = y, .score = score, .attrs = at, .n_attrs = 2};
    aud_fair_opts o;
    aud_error err;
    aud_fair_result *rh = NULL, *ro = NULL;
    opts_nb(&o);
    o.threshold = 0.5;
    o.favorable = favorable;
    o.threads = 2;
    assert_int_equal(aud_fair_compute(&rh, &in, &o, &err), AUD_OK);
    o.hist_cells = 1;
    int rc = aud_fair_compute(&ro, &in, &o, &err);
    assert_int_equal(rc, AUD_OK);
    assert_int_equal(rh->n_inters, 1);
    for (size_t a = 0; a < 3; a++) {
        const aud_fair_attr_result *x = a < 2 ? &rh->attrs[a] : &rh->inters[0];
        const aud_fair_attr_result *z = a < 2 ? &ro->attrs[a] : &ro->inters[0];
        assert_int_equal(x->n_groups, z->n_groups);
        for (size_t g = 0; g < x->n_groups; g++) {
            const aud_fair_group *p = &x->groups[g], *q = &z->groups[g];
            assert_false(isnan(p->auc.v) || isnan(p->brier.v) || isnan(p->ece.v));
            assert_memory_equal(&p->auc.v, &q->auc.v, sizeof(double));
            assert_memory_equal(&p->brier.v, &q->brier.v, sizeof(double));
            assert_memory_equal(&p->ece.v, &q->ece.v, sizeof(double));
        }
    }
    aud_fair_result_free(rh);
    aud_fair_result_free(ro);
}

static void test_score_sweeps_agree(void **state)
{
    (void)state;
    enum { N = 70000 };
    static double s_round[N], s_cont[N], y[N];
    static int32_t c1[N], c2[N];
    for (size_t i = 0; i < N; i++) {
        uint64_t h = aud_fair_replicate_seed(3, i);
        double u = (double)(h >> 11) * 0x1.0p-53;
        s_cont[i] = u;
        s_round[i] = floor(u * 1000.0) / 1000.0;
        c1[i] = (int32_t)((h >> 3) % 4) - 1;   /* -1: unknown */
        c2[i] = (int32_t)((h >> 7) % 5);
        y[i] = ((h >> 20) % 100) < 100 * u ? 1.0 : 0.0;
        if ((h >> 30) % 37 == 0)
            y[i] = NAN;
    }
    s_round[0] = -0.0;   /* ties with 0.0 */
    s_round[1] = 0.0;
    for (int fav = 0; fav <= 1; fav++) {
        compare_sweeps(s_round, y, c1, c2, N, fav);
        compare_sweeps(s_cont, y, c1, c2, N, fav);
    }
}

/* prepare's row pass and the score ranks run in chunks on --threads threads (fair_core.c,
 * fair_score.c): 300,000 rows give 3 chunks at 3 threads. Everything equals the one-chunk run -
 * ranks, distinct scores, every group figure - for scores ranked by hashing (1,000 distinct; 20,000,
 * past the chunks' first table of 4,096 slots; 65,536, the most the tables take), for more
 * distinct scores in all than the hash table takes though fewer in each chunk, and for more in
 * one chunk; and the ranks are the scores' places among the distinct scores sorted (qsort here);
 * the first bad row of the whole column is the one reported, the label's before the score's. */
static aud_fair_result *compute_n(const double *score, const double *y, const int32_t *c1,
                                  size_t n, int threads, aud_error *err, int *rc)
{
    static const char *const lv1[3] = {"a", "b", "c"};
    aud_fair_attr at[1] = {{.name = "g1", .codes = c1, .n_levels = 3, .levels = lv1}};
    aud_fair_input in = {.n_rows = n, .label = y, .score = score, .attrs = at, .n_attrs = 1,
                         .label_name = "y", .score_name = "s"};
    aud_fair_opts o;
    aud_fair_result *res = NULL;
    opts_nb(&o);
    o.threshold = 0.5;
    o.threads = threads;
    *rc = aud_fair_compute(&res, &in, &o, err);
    return res;
}

static void assert_same_result(const aud_fair_result *a, const aud_fair_result *b, size_t n)
{
    assert_non_null(a->ranks);
    assert_non_null(b->ranks);
    assert_int_equal(a->ranks->n_distinct, b->ranks->n_distinct);
    assert_memory_equal(a->ranks->rank, b->ranks->rank, n * sizeof *a->ranks->rank);
    assert_memory_equal(a->ranks->distinct, b->ranks->distinct,
                        a->ranks->n_distinct * sizeof *a->ranks->distinct);
    const aud_fair_attr_result *x = &a->attrs[0], *z = &b->attrs[0];
    assert_int_equal(x->n_groups, z->n_groups);
    for (size_t g = 0; g < x->n_groups; g++) {
        const aud_fair_group *p = &x->groups[g], *q = &z->groups[g];
        assert_memory_equal(&p->c, &q->c, sizeof p->c);
        assert_memory_equal(p->rate, q->rate, sizeof p->rate);
        assert_memory_equal(&p->auc.v, &q->auc.v, sizeof(double));
        assert_memory_equal(&p->brier.v, &q->brier.v, sizeof(double));
        assert_memory_equal(&p->ece.v, &q->ece.v, sizeof(double));
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The dense ranks of score[0 .. n) (no NaN, no -0.0) by sorting a copy: what r must hold. */
static void assert_dense_ranks(const aud_fair_ranks *r, const double *score, size_t n)
{
    double *u = aud_malloc(n * sizeof *u);
    assert_non_null(u);
    memcpy(u, score, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_double);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[d - 1])
            u[d++] = u[i];
    assert_int_equal(r->n_distinct, d);
    assert_memory_equal(r->distinct, u, d * sizeof *u);
    for (size_t i = 0; i < n; i++) {
        const double *at = bsearch(&score[i], u, d, sizeof *u, cmp_double);
        assert_non_null(at);
        assert_int_equal(r->rank[i], (size_t)(at - u));
    }
    aud_free(u);
}

static void test_chunked_row_passes_equal_one_pass(void **state)
{
    (void)state;
    enum { N = 300000, K = 5 };
    double *s[K], *y = aud_malloc(N * sizeof *y);
    int32_t *c1 = aud_malloc(N * sizeof *c1);
    for (int k = 0; k < K; k++) {
        s[k] = aud_malloc(N * sizeof *s[k]);
        assert_non_null(s[k]);
    }
    assert_true(y != NULL && c1 != NULL);
    for (size_t i = 0; i < N; i++) {
        uint64_t h = aud_fair_replicate_seed(5, i);
        double u = (double)(h >> 11) * 0x1.0p-53;
        s[0][i] = floor(u * 1000.0) / 1000.0;          /* 1,000 distinct: hashed */
        s[1][i] = (double)(i / 3) / 100000.0;          /* 100,000 in all, 33,334 per chunk */
        s[2][i] = u;                                   /* all distinct */
        s[3][i] = floor(u * 20000.0) / 20000.0;        /* 20,000 distinct: tables double */
        s[4][i] = (double)((i * 7919u) % 65536u);      /* 65,536 distinct in each chunk */
        c1[i] = (int32_t)((h >> 3) % 4) - 1;
        y[i] = ((h >> 20) % 100) < 100 * u ? 1.0 : 0.0;
        if ((h >> 30) % 41 == 0)
            y[i] = NAN;
    }
    aud_error err;
    int rc;
    for (int k = 0; k < K; k++) {
        aud_fair_result *one = compute_n(s[k], y, c1, N, 1, &err, &rc);
        assert_int_equal(rc, AUD_OK);
        assert_dense_ranks(one->ranks, s[k], N);
        for (int t = 2; t <= 3; t++) {
            aud_fair_result *many = compute_n(s[k], y, c1, N, t, &err, &rc);
            assert_int_equal(rc, AUD_OK);
            assert_same_result(one, many, N);
            aud_fair_result_free(many);
        }
        aud_fair_result_free(one);
    }
    /* bad rows in later chunks: the first of the column, the label's before the score's */
    y[280000] = 2.0;   /* chunk 3 of 3, 2 of 2 */
    y[120000] = 3.0;   /* chunk 2 of 3, 1 of 2 */
    s[0][290000] = INFINITY;
    s[0][50000] = NAN;   /* before the bad labels: the label is still the one reported */
    for (int t = 1; t <= 3; t++) {
        aud_fair_result *r = compute_n(s[0], y, c1, N, t, &err, &rc);
        assert_int_equal(rc, AUD_E_DOMAIN);
        assert_null(r);
        assert_string_equal(err.msg, "data row 120000: the label must be 0 or 1, got 3");
    }
    y[280000] = y[120000] = 1.0;
    for (int t = 1; t <= 3; t++) {
        aud_fair_result *r = compute_n(s[0], y, c1, N, t, &err, &rc);
        assert_int_equal(rc, AUD_E_DOMAIN);
        assert_null(r);
        assert_string_equal(err.msg, "data row 50000: the score is missing");
        assert_string_equal(err.field, "s");
    }
    for (int k = 0; k < K; k++)
        aud_free(s[k]);
    aud_free(y);
    aud_free(c1);
}

/* Fail the n-th allocation for n = 1, 2, ...: each run ends in AUD_OK or a clean AUD_E_NOMEM
 * (leaks are caught by the sanitizer build). */
static void assert_allocation_failures_clean(const aud_fair_input *in, const aud_fair_opts *o)
{
    int ok = 0;
    for (long n = 1; n < 2000 && !ok; n++) {
        aud_error err;
        aud_fair_result *res = NULL;
        aud_alloc_fail_after(n);
        int rc = aud_fair_compute(&res, in, o, &err);
        if (rc == AUD_OK) {
            cJSON *doc = aud_json_doc_new();
            if (doc != NULL)
                aud_fair_to_json(res, doc, &err);
            cJSON_Delete(doc);
            aud_fair_result_free(res);
            ok = 1;
        } else {
            assert_int_equal(rc, AUD_E_NOMEM);
            assert_null(res);
        }
    }
    aud_alloc_fail_after(0);
    assert_true(ok);
}

static void test_allocation_failures_are_clean(void **state)
{
    (void)state;
    aud_fair_input in;
    aud_fair_attr attrs[2];
    aud_fair_opts o;
    setup_input(&in, attrs);
    in.n_attrs = 2;
    aud_fair_opts_default(&o);
    o.n_bootstrap = 20;
    o.threads = 2;
    o.nyc_ll144 = 1;
    assert_allocation_failures_clean(&in, &o);
}

/* The same with a score (ranks, histogram) and with the rank-order sweep forced. */
static void test_allocation_failures_with_scores_are_clean(void **state)
{
    (void)state;
    static const double score[12] = {0.9, 0.2, 0.7, 0.2, 0.5, 0.8, 0.9, 0.1, 0.6, 0.3, 0.3, 0.6};
    aud_fair_input in;
    aud_fair_attr attrs[2];
    aud_fair_opts o;
    setup_input(&in, attrs);
    in.n_attrs = 2;
    in.prediction = NULL;
    in.score = score;
    aud_fair_opts_default(&o);
    o.n_bootstrap = 0;
    o.threads = 2;
    o.threshold = 0.5;
    for (int forced = 0; forced <= 1; forced++) {
        o.hist_cells = forced ? 1 : 0;
        assert_allocation_failures_clean(&in, &o);
    }
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_rates_favorable_1),
        cmocka_unit_test(test_favorable_0_swaps_roles),
        cmocka_unit_test(test_reference_given_and_unknown),
        cmocka_unit_test(test_bad_label_and_prediction_are_located),
        cmocka_unit_test(test_threshold_outside_score_range),
        cmocka_unit_test(test_intersections_named_and_counted),
        cmocka_unit_test(test_small_groups_left_out_of_summary),
        cmocka_unit_test(test_all_groups_equal_summary_without_small_groups),
        cmocka_unit_test(test_bootstrap_same_for_any_thread_count),
        cmocka_unit_test(test_json_null_with_reason),
        cmocka_unit_test(test_codes_from_numeric),
        cmocka_unit_test(test_score_sweeps_agree),
        cmocka_unit_test(test_chunked_row_passes_equal_one_pass),
        cmocka_unit_test(test_allocation_failures_are_clean),
        cmocka_unit_test(test_allocation_failures_with_scores_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
