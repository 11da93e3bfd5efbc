/* cmd_fairness.c - `audit fairness` (SPEC section 1): group fairness metrics of predictions,
 * scores or a model over sensitive attributes; a table on stdout, the "fairness" JSON of SPEC
 * section 5 with --json. Formulas: docs/fairness.md. */
#include "audit/audit.h"
#include "audit/cli_int.h"
#include "audit/csvopt_int.h"
#include "models/model_cmd_int.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit fairness --data D.csv --sensitive COL[,COL...]\n"
    "                      (--prediction COL | --score COL --threshold T | --model M --threshold T)\n"
    "                      [--label COL] [--favorable 1|0] [--reference COL=VALUE]\n"
    "                      [--label-positive V,...] [--prediction-positive V,...]\n"
    "                      [--bins COL=e1,e2,...|COL=quantile:K] [--order COL=a,b,...]\n"
    "                      [--compliance nyc-ll144] [--json out.json] [options]\n"
    "\n"
    "Group fairness metrics per sensitive attribute and for intersections of the attributes\n"
    "(groups \"x&y\"): count, share, base rate, selection rate, TPR, FPR, TNR, FNR, PPV, NPV, FDR,\n"
    "false omission rate, accuracy (with scores also AUC, Brier, ECE), each rate with a Wilson\n"
    "interval; differences and ratios to the reference group, disparate impact, impact ratio,\n"
    "Fisher exact p-values vs the highest-rate group; per attribute demographic parity,\n"
    "equalized odds, equal opportunity, average odds, predictive parity, Theil and generalized\n"
    "entropy indices with bootstrap intervals, and a chi-square test. After the table, the\n"
    "findings under the four-fifths rule (impact of at least 0.8 for every eligible group and\n"
    "intersection): one plain sentence each, intersections that only repeat a failure listed\n"
    "as evidence. See docs/fairness.md.\n"
    "\n"
    "options:\n"
    "  --data FILE          CSV file (required)\n"
    "  --sensitive LIST     comma-separated sensitive columns (required); numeric columns are\n"
    "                       grouped by value\n"
    "  --prediction COL     column of 0/1 predictions\n"
    "  --score COL          column of scores; prediction = 1 when score >= --threshold\n"
    "  --model M            model file (XGBoost JSON, LightGBM text, linear/trees JSON); its\n"
    "                       probability is the score\n"
    "  --model-format F     force the model format\n"
    "  --categories FILE    category lists of the model's categorical features, in code order\n"
    "                       (JSON {column: [...]}; docs/model-formats.md)\n"
    "  --model-cmd 'PROG ARG...'  scores from a program (no shell; docs/model-formats.md),\n"
    "                       thresholded like --score; column \"model-cmd score\"\n"
    "  --features LIST      comma-separated columns sent to --model-cmd (default: all; alias\n"
    "                       --model-features)\n"
    "  --model-batch N      rows per batch sent to --model-cmd (default 100000)\n"
    "  --model-timeout S    seconds allowed for one batch's answer, the program's start\n"
    "                       included (default 30)\n"
    "  --model-max-rows N   total rows --model-cmd may be asked for (default: unlimited)\n"
    "  --model-protocol P   batch (default: a run of the program per batch, to end of file) or\n"
    "                       session (one run; batches end with an empty line)\n"
    "  --threshold T        decision threshold for --score / --model (inside the score range)\n"
    "  --label COL          column of 0/1 labels (missing allowed); without it only label-free\n"
    "                       metrics are computed\n"
    "  --label-positive V,...\n"
    "                       label values (as written in the file: >50K, yes, 2) that mean 1;\n"
    "                       every other value is 0 (text compared exactly: >50K is not >50K.)\n"
    "  --prediction-positive V,...\n"
    "                       the same for --prediction\n"
    "  --bins COL=e1,e2,... bands of a numeric sensitive column: <e1, e1-e2, ..., >=em\n"
    "  --bins COL=quantile:K\n"
    "                       K bands at the column's K-quantiles (repeatable, one per column)\n"
    "  --order COL=a,b,...  these groups first, in this order (the others follow in natural\n"
    "                       order: \"9\" before \"10\", \"<25\" before \"25-35\")\n"
    "  --favorable 1|0      the outcome that is the benefit (default 1)\n"
    "  --reference COL=V    reference group of an attribute (repeatable; COL may be an\n"
    "                       intersection \"a&b\" with V \"x&y\"); default: the largest group\n"
    "  --min-share S        groups with a smaller share are reported but left out of the summary\n"
    "                       and of the impact-ratio verdict (default 0.02)\n"
    "  --min-count N        same for groups with fewer rows (default 0: off)\n"
    "  --no-intersections   only single attributes\n"
    "  --max-intersection K intersections of at most K attributes (default: all; 2 = pairs)\n"
    "  --compliance nyc-ll144\n"
    "                       add the NYC Local Law 144 view of the first two --sensitive columns,\n"
    "                       which must be sex and race/ethnicity (in this order)\n"
    "  --bootstrap N        bootstrap resamples for the summary intervals (default 1000, 0 = off)\n"
    "  --seed N             bootstrap seed (default 42, as the spec file's \"seed\")\n"
    "  --threads T          bootstrap threads (default: all cores; results do not depend on T)\n"
    "  --json FILE          write the JSON document (- = stdout, then no table): \"provenance\"\n"
    "                       (data and model files with SHA-256, rows, columns, model format\n"
    "                       and objective; the seed) and \"fairness\"; per attribute also\n"
    "                       \"drivers\" and \"proxies\" (with --model: each group's gap split\n"
    "                       into mean SHAP differences over every row, the proxy screen) and\n"
    "                       \"tradeoffs\" (with a score: group thresholds reaching an impact\n"
    "                       ratio of 0.8 or equal TPR, and their cost; information, not advice)\n"
    AUD_CLI_CREATED_HELP
    CSV_OPTIONS_HELP
    "  --quiet              errors only\n"
    "  --help               this text\n"
    "\n"
    "exit codes: 0 done, 2 usage or input error, 3 internal error\n";

#define MAX_REFS 64
#define MAX_SENSITIVE 16

typedef struct fair_cli {
    const char *data, *sensitive, *prediction, *score, *model, *model_format, *label, *json;
    const char *categories;
    const char *compliance;
    const char *model_cmd, *model_features;   /* --model-cmd (models/model_cmd_int.h) */
    double model_opt[4];   /* --model-batch, -timeout, -max-rows, -protocol; 0 unset */
    const char *created;       /* --created: provenance.created of the JSON document */
    double      threshold;
    int         has_threshold;
    const char *ref_arg[MAX_REFS];
    size_t      n_refs;
    char        sens_buf[4096];                 /* --sensitive, split in place */
    const char *names[MAX_SENSITIVE];
    size_t      n_names;
    char        ref_buf[MAX_REFS][512];         /* --reference COL=VALUE, split at '=' */
    aud_reference refs[MAX_REFS];
    aud_fair_opts opts;
    aud_outcome_coding label_coding, pred_coding;   /* --label-positive, --prediction-positive */
    char       *lp_buf, *pp_buf;
    const char **lp, **pp;
    aud_grouping groups[MAX_SENSITIVE];    /* --bins, --order */
    size_t      n_groups;
    char       *group_buf[2 * MAX_SENSITIVE];   /* owned copies of their arguments */
    const char **order_list[MAX_SENSITIVE];
    double     *edges[MAX_SENSITIVE];
    size_t      n_group_buf;
} fair_cli;

static void fair_cli_free(fair_cli *c)
{
    aud_free(c->lp_buf);
    aud_free(c->lp);
    aud_free(c->pp_buf);
    aud_free(c->pp);
    for (size_t k = 0; k < c->n_group_buf; k++)
        aud_free(c->group_buf[k]);
    for (size_t k = 0; k < MAX_SENSITIVE; k++) {
        aud_free(c->order_list[k]);
        aud_free(c->edges[k]);
    }
}

/* --bins COL=SPEC (is_bins) or --order COL=a,b,c into c->groups. 0 or a usage exit code. */
static int add_grouping(fair_cli *c, const char *cmd, const char *arg, int is_bins)
{
    const char *opt = is_bins ? "--bins" : "--order";
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || eq[1] == '\0')
        return aud_cli_usage(cmd, "%s expects COL=%s, got \"%s\"", opt,
                             is_bins ? "e1,e2,... or COL=quantile:K" : "a,b,...", arg);
    if (c->n_group_buf == 2 * MAX_SENSITIVE)
        return aud_cli_usage(cmd, "too many --bins and --order options");
    char *col = aud_strdup(arg);
    if (col == NULL)
        return aud_cli_usage(cmd, "out of memory");
    c->group_buf[c->n_group_buf++] = col;
    col[eq - arg] = '\0';
    const char *val = col + (eq - arg) + 1;
    size_t g = 0;
    while (g < c->n_groups && strcmp(c->groups[g].attribute, col) != 0)
        g++;
    if (g == c->n_groups) {
        if (c->n_groups == MAX_SENSITIVE)
            return aud_cli_usage(cmd, "%s: more than %d columns", opt, MAX_SENSITIVE);
        c->groups[c->n_groups++].attribute = col;
    }
    aud_grouping *gr = &c->groups[g];
    if (is_bins) {
        if (gr->n_edges > 0 || gr->quantiles > 0)
            return aud_cli_usage(cmd, "--bins: column \"%s\" given twice", col);
        aud_error e;
        if (aud_parse_bins(val, &c->edges[g], &gr->n_edges, &gr->quantiles, &e) != AUD_OK)
            return aud_cli_usage(cmd, "%s", e.msg);
        gr->edges = c->edges[g];
        return 0;
    }
    if (gr->n_order > 0)
        return aud_cli_usage(cmd, "--order: column \"%s\" given twice", col);
    char *buf = NULL;
    if (aud_csv_cli_split(val, &buf, &c->order_list[g]) != 0)
        return aud_cli_usage(cmd, "out of memory");
    c->group_buf[c->n_group_buf++] = buf;
    gr->order = c->order_list[g];
    while (gr->order[gr->n_order] != NULL)
        gr->n_order++;
    return 0;
}

static void print_val(aud_fair_val v, int width, int prec)
{
    if (isnan(v.v))
        printf(" %*s", width, "-");
    else
        printf(" %*.*f", width, prec, v.v);
}

static void print_attr(const aud_fair_result *res, const aud_fair_attr_result *ar)
{
    printf("\n%s: reference %s (%s%s%s), %llu rows, %llu unknown\n", ar->name,
           ar->groups[ar->reference].name, ar->reference_given ? "given" : "largest group",
           ar->reference_carried != NULL ? " with " : "",
           ar->reference_carried != NULL ? ar->reference_carried : "",
           (unsigned long long)ar->n_known, (unsigned long long)ar->n_unknown);
    size_t w = 20;   /* the group column widens to the longest name: never cut */
    for (size_t g = 0; g < ar->n_groups; g++)
        if (aud_cli_text_width(ar->groups[g].name) > w)
            w = aud_cli_text_width(ar->groups[g].name);
    printf("  ");
    aud_cli_print_cell("group", w);
    printf(" %8s %6s %17s %6s %6s %6s %7s %10s  %s\n", "count", "share",
           "selection [95% CI]", "tpr", "fpr", "DI", "impact", "fisher_p", "flags");
    for (size_t g = 0; g < ar->n_groups; g++) {
        const aud_fair_group *gr = &ar->groups[g];
        printf("  ");
        aud_cli_print_cell(gr->name, w);
        printf(" %8llu %6.3f", (unsigned long long)gr->c.n, gr->share);
        printf(" %5.3f [%5.3f,%5.3f]", gr->rate[AUD_FAIR_SELECTION_RATE].v,
               gr->rate_lo[AUD_FAIR_SELECTION_RATE], gr->rate_hi[AUD_FAIR_SELECTION_RATE]);
        print_val(gr->rate[AUD_FAIR_TPR], 6, 3);
        print_val(gr->rate[AUD_FAIR_FPR], 6, 3);
        print_val(gr->disparate_impact, 6, 3);
        print_val(gr->impact_ratio, 7, 3);
        if (isnan(gr->fisher_p.v))
            printf(" %10s ", "-");
        else
            printf(" %10.3g ", gr->fisher_p.v);
        if (g == ar->reference)
            printf(" reference");
        if (gr->small)
            printf(" small(excluded)");
        else if (gr->below_four_fifths == 1)
            printf(" below-4/5");
        printf("\n");
    }
    printf("  summary (eligible groups)%s:\n",
           res->n_bootstrap > 0 ? ", bootstrap 95% intervals" : "");
    for (int m = 0; m < AUD_FAIR_N_SUMS; m++) {
        if (!res->has_label && m != AUD_FAIR_DP_DIFF && m != AUD_FAIR_DP_RATIO)
            continue;
        printf("    %-42s", aud_fair_sum_name(m));
        if (isnan(ar->sum[m].v)) {
            printf(" null (%s)\n", ar->sum[m].why);
            continue;
        }
        printf(" %9.4f", ar->sum[m].v);
        if (!isnan(ar->sum_lo[m]))
            printf("  [%.4f, %.4f]", ar->sum_lo[m], ar->sum_hi[m]);
        printf("\n");
    }
    if (isnan(ar->chi2_stat.v))
        printf("    %-42s null (%s)\n", "chi_square", ar->chi2_stat.why);
    else
        printf("    %-42s statistic %.4f, dof %ld, p %.4g\n", "chi_square", ar->chi2_stat.v,
               ar->chi2_dof, ar->chi2_p.v);
}

/* The findings under the four-fifths rule (SPEC section 7), from the --json document when there
 * is one (it holds the drivers), else from the fairness JSON alone. */
static int print_findings(const cJSON *doc, const aud_fair_result *res, const char *label,
                          aud_error *err)
{
    cJSON *own = NULL;
    char *text = NULL;
    int rc = AUD_OK;
    if (doc == NULL) {
        own = cJSON_CreateObject();
        rc = own != NULL ? aud_fair_to_json(res, own, err) : aud_error_nomem(err);
        doc = own;
    }
    if (rc == AUD_OK)
        rc = aud_findings_fourfifths_text(cJSON_GetObjectItemCaseSensitive(doc, "fairness"),
                                          label, &text, err);
    if (rc == AUD_OK)
        printf("%s", text != NULL ? text : "\nfindings: none (every eligible group meets the "
                                          "four-fifths rule, clear of its interval)\n");
    aud_free(text);
    cJSON_Delete(own);
    return rc;
}

/* tpr and fpr, the table's two error rates, in words (issue 14 item 1) */
static void print_rate_words(const aud_fair_result *res, const char *label)
{
    char buf[400];
    if (!res->has_label)
        return;
    printf("\nrates here: selection = %s;\n",
           aud_fair_rate_meaning(AUD_FAIR_SELECTION_RATE, label, res->favorable, NULL, buf,
                                 sizeof buf));
    printf("  tpr = %s;\n", aud_fair_rate_meaning(AUD_FAIR_TPR, label, res->favorable, NULL,
                                                   buf, sizeof buf));
    printf("  fpr = %s\n", aud_fair_rate_meaning(AUD_FAIR_FPR, label, res->favorable, NULL, buf,
                                                 sizeof buf));
}

static void print_report(const aud_fair_result *res, const char *path)
{
    printf("fairness: %s, %zu rows, favourable outcome %d", path, res->n_rows, res->favorable);
    if (!isnan(res->threshold))
        printf(", threshold %g", res->threshold);
    printf("%s\n", res->has_label ? "" : " (no label: label-free metrics only)");
    for (size_t a = 0; a < res->n_attrs; a++)
        print_attr(res, &res->attrs[a]);
    for (size_t a = 0; a < res->n_inters; a++)
        print_attr(res, &res->inters[a]);
    for (size_t t = 0; t < res->n_ll144; t++) {
        const aud_fair_ll144_table *tb = &res->ll144[t];
        printf("\nNYC LL144 %s, %s%s (%llu unknown)\n", tb->name,
               res->ll144_scoring ? "scoring rate (score above the median" : "selection rate",
               res->ll144_scoring ? ")" : "", (unsigned long long)tb->n_unknown);
        size_t w = 20;
        for (size_t j = 0; j < tb->n_cats; j++)
            if (aud_cli_text_width(tb->cats[j]) > w)
                w = aud_cli_text_width(tb->cats[j]);
        for (size_t j = 0; j < tb->n_cats; j++) {
            printf("  ");
            aud_cli_print_cell(tb->cats[j], w);
            printf(" %8llu %6.3f %6.3f", (unsigned long long)tb->count[j], tb->share[j],
                   tb->rate[j].v);
            print_val(tb->impact_ratio[j], 6, 3);
            printf("%s\n", tb->excluded[j] ? "  excluded (under 2%)" : "");
        }
    }
}

/* Split --sensitive into column names and --reference into (column, group); each reference
 * must name a --sensitive column or an intersection of them. 0 or a usage error's exit code. */
static int split_names(fair_cli *c, const char *cmd)
{
    if (strlen(c->sensitive) >= sizeof c->sens_buf)
        return aud_cli_usage(cmd, "--sensitive is too long");
    strcpy(c->sens_buf, c->sensitive);
    for (char *p = c->sens_buf;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0')
            return aud_cli_usage(cmd, "--sensitive: empty column name");
        if (c->n_names == MAX_SENSITIVE)
            return aud_cli_usage(cmd, "--sensitive: more than %d columns", MAX_SENSITIVE);
        for (size_t k = 0; k < c->n_names; k++)
            if (strcmp(c->names[k], p) == 0)
                return aud_cli_usage(cmd, "--sensitive: column \"%s\" given twice", p);
        c->names[c->n_names++] = p;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    for (size_t r = 0; r < c->n_refs; r++) {
        if (strlen(c->ref_arg[r]) >= sizeof c->ref_buf[r])
            return aud_cli_usage(cmd, "--reference value is too long");
        strcpy(c->ref_buf[r], c->ref_arg[r]);
        char *eq = strchr(c->ref_buf[r], '=');
        *eq = '\0';
        c->refs[r] = (aud_reference){c->ref_buf[r], eq + 1};
        int known = 0;
        for (size_t k = 0; k < c->n_names; k++)
            known |= strcmp(c->names[k], c->ref_buf[r]) == 0;
        if (known)
            continue;
        if (strchr(c->ref_buf[r], '&') == NULL)
            return aud_cli_usage(cmd, "--reference: \"%s\" is not one of the --sensitive "
                                 "columns", c->ref_buf[r]);
        if (!c->opts.intersections ||
            !aud_is_intersection(c->names, c->n_names, c->ref_buf[r]))
            return aud_cli_usage(cmd, "--reference: \"%s\" is not an intersection of the "
                                 "--sensitive columns (name them in --sensitive order, joined "
                                 "by '&')", c->ref_buf[r]);
    }
    return 0;
}

static int parse_args(int argc, char **argv, fair_cli *c, aud_csv_cli *csv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"sensitive", required_argument, NULL, 's'},
        {"prediction", required_argument, NULL, 'p'},
        {"score", required_argument, NULL, 'S'},
        {"model", required_argument, NULL, 'm'},
        {"model-format", required_argument, NULL, 'F'},
        {"categories", required_argument, NULL, 1011},
        {"model-cmd", required_argument, NULL, 1001},
        {"model-features", required_argument, NULL, 1002},
        {"model-batch", required_argument, NULL, 1003},
        {"model-timeout", required_argument, NULL, 1004},
        {"model-max-rows", required_argument, NULL, 1005},
        {"model-protocol", required_argument, NULL, 1006},
        {"features", required_argument, NULL, 1002},
        {"threshold", required_argument, NULL, 't'},
        {"label", required_argument, NULL, 'l'},
        {"favorable", required_argument, NULL, 'f'},
        {"reference", required_argument, NULL, 'r'},
        {"label-positive", required_argument, NULL, 'L'},
        {"prediction-positive", required_argument, NULL, 'P'},
        {"bins", required_argument, NULL, 'B'},
        {"order", required_argument, NULL, 'O'},
        {"min-share", required_argument, NULL, 'M'},
        {"min-count", required_argument, NULL, 'C'},
        {"no-intersections", no_argument, NULL, 'I'},
        {"max-intersection", required_argument, NULL, 1010},
        {"compliance", required_argument, NULL, 'c'},
        {"bootstrap", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 'T'},
        {"json", required_argument, NULL, 'j'},
        {"created", required_argument, NULL, 'E'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = argv[0];
    long v = 0;
    int ch, rc;
    optind = 1;
    opterr = 0;
    c->opts.threads = aud_ncpu();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        rc = 0;
        switch (ch) {
        case 'd': c->data = optarg; break;
        case 's': c->sensitive = optarg; break;
        case 'p': c->prediction = optarg; break;
        case 'S': c->score = optarg; break;
        case 'm': c->model = optarg; break;
        case 'F': c->model_format = optarg; break;
        case 1011: c->categories = optarg; break;
        case 1001: c->model_cmd = optarg; break;
        case 1002: c->model_features = optarg; break;
        case 1003:
        case 1004:
        case 1005:
        case 1006:
            rc = aud_cli_parse_model_cmd(cmd, ch - 1003, optarg, &c->model_opt[ch - 1003]);
            break;
        case 'l': c->label = optarg; break;
        case 'j': c->json = optarg; break;
        case 'E': rc = aud_cli_parse_created(cmd, optarg, &c->created); break;
        case 'q': aud_cli_quiet = 1; break;
        case 'I': c->opts.intersections = 0; break;
        case 'h': fputs(usage_text, stdout); return -1;
        case 't':
            rc = aud_cli_parse_double(cmd, "--threshold", optarg, &c->threshold);
            c->has_threshold = 1;
            break;
        case 'f':
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "0") != 0)
                return aud_cli_usage(cmd, "--favorable expects 1 or 0, got \"%s\"", optarg);
            c->opts.favorable = optarg[0] == '1';
            break;
        case 'r':
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                return aud_cli_usage(cmd, "--reference expects COL=VALUE, got \"%s\"", optarg);
            if (c->n_refs == MAX_REFS)
                return aud_cli_usage(cmd, "more than %d --reference options", MAX_REFS);
            c->ref_arg[c->n_refs++] = optarg;
            break;
        case 'L':
        case 'P': {
            char **buf = ch == 'L' ? &c->lp_buf : &c->pp_buf;
            const char ***list = ch == 'L' ? &c->lp : &c->pp;
            aud_outcome_coding *cd = ch == 'L' ? &c->label_coding : &c->pred_coding;
            if (aud_csv_cli_split(optarg, buf, list) != 0)
                return aud_cli_usage(cmd, "out of memory");
            cd->positive = *list;
            for (cd->n_positive = 0; (*list)[cd->n_positive] != NULL; cd->n_positive++)
                ;
            break;
        }
        case 'B': rc = add_grouping(c, cmd, optarg, 1); break;
        case 'O': rc = add_grouping(c, cmd, optarg, 0); break;
        case 'M':
            rc = aud_cli_parse_double(cmd, "--min-share", optarg, &c->opts.min_share);
            if (rc == 0 && !(c->opts.min_share >= 0.0 && c->opts.min_share <= 1.0))
                return aud_cli_usage(cmd, "--min-share expects a number in [0, 1], got \"%s\"",
                                     optarg);
            break;
        case 'C':
            rc = aud_cli_parse_long(cmd, "--min-count", optarg, 0, 1000000000L, &v);
            c->opts.min_count = (uint64_t)v;
            break;
        case 'c':
            if (strcmp(optarg, "nyc-ll144") != 0)
                return aud_cli_usage(cmd, "--compliance: unknown view \"%s\" (known: nyc-ll144)",
                                     optarg);
            c->opts.nyc_ll144 = 1;
            break;
        case 1010:
            rc = aud_cli_parse_long(cmd, "--max-intersection", optarg, 2, 64, &v);
            c->opts.max_intersection = (size_t)v;
            break;
        case 'b':
            rc = aud_cli_parse_long(cmd, "--bootstrap", optarg, 0, 1000000L, &v);
            c->opts.n_bootstrap = (size_t)v;
            break;
        case 'e':
            /* seeds up to 2^53 are printed exactly in the JSON */
            rc = aud_cli_parse_long(cmd, "--seed", optarg, 0, 9007199254740992L, &v);
            c->opts.seed = (uint64_t)v;
            break;
        case 'T': rc = aud_cli_parse_threads(cmd, optarg, &c->opts.threads); break;
        case ':': return aud_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        case '?': return aud_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        default:
            rc = aud_csv_cli_option(csv, cmd, ch, optarg);
            if (rc < 0)
                return aud_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return aud_cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (c->data == NULL)
        return aud_cli_usage(cmd, "--data is required");
    if (c->sensitive == NULL || c->sensitive[0] == '\0')
        return aud_cli_usage(cmd, "--sensitive is required");
    int sources = (c->prediction != NULL) + (c->score != NULL) + (c->model != NULL) +
                  (c->model_cmd != NULL);
    if (sources != 1)
        return aud_cli_usage(cmd, "give exactly one of --prediction, --score and --model "
                             "(or --model-cmd)");
    if (c->model_cmd != NULL)
        c->score = AUD_MODEL_CMD_COLUMN;
    if (c->prediction != NULL && c->has_threshold)
        return aud_cli_usage(cmd, "--threshold applies to --score and --model, not --prediction");
    if (c->prediction == NULL && !c->has_threshold)
        return aud_cli_usage(cmd, "--%s needs --threshold", c->score ? "score" : "model");
    if (c->categories != NULL && c->model == NULL)
        return aud_cli_usage(cmd, "--categories needs --model");
    if (c->model_format != NULL && c->model == NULL)
        return aud_cli_usage(cmd, "--model-format needs --model");
    if (c->model_cmd == NULL && (c->model_features != NULL || c->model_opt[0] > 0 ||
                                 c->model_opt[1] > 0 || c->model_opt[2] > 0 ||
                                 c->model_opt[3] > 0))
        return aud_cli_model_cmd_opts_alone(cmd);
    if (c->lp != NULL && c->label == NULL)
        return aud_cli_usage(cmd, "--label-positive needs --label");
    if (c->pp != NULL && c->prediction == NULL)
        return aud_cli_usage(cmd, "--prediction-positive needs --prediction");
    c->opts.threshold = c->has_threshold ? c->threshold : NAN;
    int src = split_names(c, cmd);
    for (size_t g = 0; src == 0 && g < c->n_groups; g++) {
        int known = 0;
        for (size_t k = 0; k < c->n_names; k++)
            known |= strcmp(c->names[k], c->groups[g].attribute) == 0;
        if (!known)
            return aud_cli_usage(cmd, "--%s: \"%s\" is not one of the --sensitive columns",
                                 c->groups[g].n_order > 0 && c->groups[g].n_edges == 0 &&
                                         c->groups[g].quantiles == 0 ? "order" : "bins",
                                 c->groups[g].attribute);
    }
    return src;
}

/* --model-cmd: ask the program for every row's score (models/model_cmd_int.h). */
static int fair_model_cmd(const fair_cli *c, aud_table *t, aud_error *err)
{
    aud_model_cmd mc;
    aud_model_cmd_init(&mc);
    size_t n = 0;
    if (c->model_opt[0] > 0)
        mc.batch_rows = (size_t)c->model_opt[0];
    if (c->model_opt[1] > 0)
        mc.timeout_s = c->model_opt[1];
    mc.max_rows = (size_t)c->model_opt[2];
    mc.session_protocol = c->model_opt[3] == 2;
    int rc = aud_model_cmd_split(c->model_cmd, ' ', &mc.argv, &n, err);
    if (rc == AUD_OK && c->model_features != NULL)
        rc = aud_model_cmd_split(c->model_features, ',', &mc.features, &mc.n_features, err);
    if (rc == AUD_OK)
        rc = aud_model_cmd_add_column(&mc, t, AUD_MODEL_CMD_COLUMN, err);
    if (rc == AUD_OK)
        aud_cli_info("fairness: %zu model command call(s), %zu rows", mc.n_calls, mc.n_rows_sent);
    aud_model_cmd_strv_free(mc.argv);
    aud_model_cmd_strv_free(mc.features);
    return rc;
}

int aud_cmd_fairness(int argc, char **argv)
{
    static fair_cli c;   /* large buffers: not on the stack */
    memset(&c, 0, sizeof c);
    aud_fair_opts_default(&c.opts);
    aud_csv_cli csv;
    aud_csv_cli_init(&csv);
    int prc = parse_args(argc, argv, &c, &csv);
    if (prc != 0) {
        aud_csv_cli_free(&csv);
        fair_cli_free(&c);
        return prc < 0 ? AUD_EXIT_OK : prc;
    }

    aud_error err;
    aud_error_clear(&err);
    aud_table *t = NULL;
    aud_fair_result *res = NULL;
    aud_model *model = NULL;
    cJSON *doc = NULL, *prov = NULL;
    aud_hash_ahead hash;
    memset(&hash, 0, sizeof hash);

    const char *inputs[] = {c.data, c.model};
    int rc = aud_guard_output(c.json, inputs, 2, &err);
    /* a model file is parsed on its own thread while the CSV is read; a data error is
     * reported before a model error */
    /* the data's provenance hash on a thread of its own from the start, beside the reading (a
     * reading error is reported first: the join at the end discards the hash's own) */
    if (rc == AUD_OK && c.json != NULL)
        aud_hash_ahead_start(&hash, c.data);
    aud_cli_stage(c.model != NULL ? "load model + read CSV" : "read CSV");
    if (rc == AUD_OK)
        rc = aud_csv_cli_load_with_model(&csv, &t, c.data, c.model, c.model_format,
                                         c.categories, c.opts.threads, 1, &model, &err);
    if (rc == AUD_OK && c.model_cmd != NULL)   /* the program's scores become a column */
        rc = fair_model_cmd(&c, t, &err);
    int by_position = 0;
    if (rc == AUD_OK && c.json != NULL) {
        rc = aud_prov_doc_new(&doc, &prov, "fairness", c.created, &err);
        if (rc == AUD_OK && aud_json_add_num(prov, "seed", (double)c.opts.seed) != 0)
            rc = aud_error_nomem(&err);
    }
    aud_cli_stage(doc != NULL && model != NULL ? "fairness+drivers" : "fairness");
    if (rc == AUD_OK) {   /* with --json also the drivers, proxies and trade-offs into doc */
        aud_fairness_request rq = {
            .data = t, .sensitive = c.names, .n_sensitive = c.n_names,
            .refs = c.refs, .n_refs = c.n_refs, .label = c.label,
            .label_coding = &c.label_coding, .prediction_coding = &c.pred_coding,
            .groups = c.groups, .n_groups = c.n_groups,
            .prediction = c.prediction, .score = c.score, .model = model,
            .model_path = c.model,
        };
        rc = aud_fairness_doc(&res, doc, &rq, &c.opts, &by_position, &err);
    }
    if (by_position)
        aud_cli_warn_by_position(model, c.model, c.data);
    if (rc == AUD_OK && c.label_coding.note[0] != '\0')
        aud_cli_info("%s", c.label_coding.note);
    if (rc == AUD_OK && c.pred_coding.note[0] != '\0')
        aud_cli_info("%s", c.pred_coding.note);
    for (size_t a = 0; rc == AUD_OK && a < res->n_attrs; a++)
        if (res->attrs[a].similar_groups != NULL)
            aud_cli_warn("attribute \"%s\": groups that differ only by surrounding spaces or "
                         "case are separate groups: %s", res->attrs[a].name,
                         res->attrs[a].similar_groups);
    if (rc == AUD_OK && doc != NULL && res->has_label &&   /* the rates in words */
        aud_fair_add_rate_meanings(cJSON_GetObjectItemCaseSensitive(doc, "fairness"), c.label,
                                   res->favorable, NULL) != 0)
        rc = aud_error_nomem(&err);
    aud_cli_stage("write");
    if (rc == AUD_OK && c.json != NULL) {
        rc = aud_hash_ahead_join(&hash, &err);
        if (rc == AUD_OK)
            rc = aud_prov_add_input_hashed(prov, "data", c.data, hash.hex, t, NULL, &err);
        if (rc == AUD_OK && model != NULL)
            rc = aud_prov_add_model(prov, c.model, model, &err);
        if (rc == AUD_OK && model != NULL && c.categories != NULL)
            rc = aud_prov_add_input(prov, "categories", c.categories, NULL, NULL, &err);
        if (rc == AUD_OK)
            rc = aud_json_write(doc, c.json, &err);
    }
    if (rc == AUD_OK && !(c.json != NULL && strcmp(c.json, "-") == 0)) {
        print_report(res, t->path);
        print_rate_words(res, c.label);
        rc = print_findings(doc, res, c.label, &err);
    }
    aud_hash_ahead_join(&hash, NULL);   /* an early error: the thread must still end */
    cJSON_Delete(doc);
    aud_fair_result_free(res);
    aud_model_free(model);
    aud_table_free(t);
    aud_csv_cli_free(&csv);
    fair_cli_free(&c);
    if (rc == AUD_OK)
        return AUD_EXIT_OK;
    return err.code == AUD_E_USAGE ? aud_cli_usage(argv[0], "%s", err.msg) : aud_cli_fail(&err);
}
