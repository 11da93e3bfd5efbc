/* cmd_drift.c - `audit drift --reference R --current C [...]` (SPEC sections 1 and 3): drift
 * statistics per column, a readable table on stdout and the "drift" JSON of SPEC section 5. */
#include "audit/audit.h"
#include "audit/cli_int.h"
#include "audit/csvopt_int.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit drift --reference R.csv --current C.csv [options]\n"
    "\n"
    "Compares the distribution of every column (or of --columns) between a reference and a\n"
    "current data set: KS, Wasserstein (raw and normed), PSI, Jensen-Shannon, Anderson-Darling and\n"
    "Cramer-von Mises for numeric columns; chi-square, PSI, Jensen-Shannon and the Z-test (two\n"
    "values) for categorical ones. Missing values are dropped (their share is reported). Each\n"
    "column gets a primary test by Evidently's rules (see docs/drift.md) and a drifted flag; the\n"
    "data set drifts when the share of drifted columns reaches --drift-share.\n"
    "\n"
    "options:\n"
    "  --reference FILE     reference CSV, or a profile `audit profile --save` wrote\n"
    "                       (required; with a profile, KS, Wasserstein, Anderson-Darling\n"
    "                       and Cramer-von Mises carry an error bound in the JSON)\n"
    "  --current FILE       current CSV (required)\n"
    "  --columns A,B,...    columns to compare (default: every column of the reference)\n"
    "  --method M           primary test for every column where it applies: auto, ks, chi_square,\n"
    "                       z, wasserstein_normed, jensen_shannon, psi, anderson_darling,\n"
    "                       cramer_von_mises; COL=M sets one column (repeatable)\n"
    "  --threshold T        threshold of the primary test (default: 0.05 for p-values, 0.1 for\n"
    "                       distances); COL=T sets one column (repeatable)\n"
    "  --psi-binning B      quantile (default: --psi-bins bins at reference quantiles) or\n"
    "                       evidently (Sturges bins over both samples, or one bin per value)\n"
    "  --psi-bins N         number of quantile bins (default 10)\n"
    "  --drift-share S      dataset drift when the share of drifted columns >= S (default 0.5)\n"
    "  --threads T          worker threads (default: all cores); results do not depend on T\n"
    "  --json FILE          write the JSON document ('-' for stdout, then no table):\n"
    "                       \"provenance\" (each file's path, SHA-256, rows, columns) and \"drift\"\n"
    AUD_CLI_CREATED_HELP
    CSV_OPTIONS_HELP
    "  --quiet              errors only\n"
    "  --help               this text\n"
    "\n"
    "exit codes: 0 done; 2 usage or input error (e.g. a column missing from one file);\n"
    "3 internal error. A column that cannot be tested (no values, numeric in one file and\n"
    "categorical in the other) gets an \"error\" entry and a warning; the others proceed.\n";

#define MAX_OVERRIDES 4096

typedef struct load_job {
    const char         *path;
    const aud_csv_cli  *csv;
    int                 progress;   /* show progress (one of the two concurrent reads) */
    aud_table          *t;
    aud_refprof        *prof;       /* the reference was a saved profile (SPEC section 8) */
    const aud_drift_refsum **sums;
    aud_error           err;
    int                 rc;
} load_job;

static void *load_main(void *arg)
{
    load_job *j = arg;
    if (!j->progress && aud_refprof_sniff(j->path)) {
        j->rc = aud_refprof_load(&j->prof, j->path, &j->err);
        if (j->rc == AUD_OK)
            j->rc = aud_refprof_table(j->prof, &j->t, &j->sums, &j->err);
        return NULL;
    }
    j->rc = j->progress ? aud_csv_cli_load(j->csv, &j->t, j->path, &j->err)
                        : aud_table_load_csv(&j->t, j->path, &j->csv->opts, &j->err);
    return NULL;
}

/* Split a comma-separated list into a NULL-free array of owned strings. */
static int split_list(const char *s, char ***out, size_t *n)
{
    size_t cnt = 1;
    for (const char *p = s; *p; p++)
        cnt += *p == ',';
    char **v = aud_calloc(cnt, sizeof *v);
    if (v == NULL)
        return AUD_E_NOMEM;
    size_t k = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == ',' || *p == '\0') {
            size_t len = (size_t)(p - start);
            v[k] = aud_malloc(len + 1);
            if (v[k] == NULL) {
                for (size_t i = 0; i < k; i++)
                    aud_free(v[i]);
                aud_free(v);
                return AUD_E_NOMEM;
            }
            memcpy(v[k], start, len);
            v[k][len] = '\0';
            k++;
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    *out = v;
    *n = k;
    return AUD_OK;
}

static void print_table(const aud_drift_result *r, const aud_table *ref, const aud_table *cur)
{
    printf("drift: reference %s (%zu rows), current %s (%zu rows)\n\n", ref->path, ref->n_rows,
           cur->path, cur->n_rows);
    size_t w = 24;   /* the column names' cell widens to the longest: never cut */
    for (size_t i = 0; i < r->n_cols; i++)
        if (aud_cli_text_width(r->cols[i].name) > w)
            w = aud_cli_text_width(r->cols[i].name);
    aud_cli_print_cell("column", w);
    printf(" %-11s %-18s %12s %9s %-7s %9s %9s\n", "type", "method", "statistic",
           "threshold", "drifted", "miss.ref", "miss.cur");
    for (size_t i = 0; i < r->n_cols; i++) {
        const aud_drift_column *c = &r->cols[i];
        const char *type = c->kind == AUD_DRIFT_NUMERIC ? "numeric" : "categorical";
        aud_cli_print_cell(c->name, w);
        if (c->status != AUD_OK) {
            printf(" %-11s error: %s\n", type, c->msg);
            continue;
        }
        printf(" %-11s %-18s %12.6g %9.4g %-7s %8.2f%% %8.2f%%\n", type,
               aud_drift_method_name(c->method), c->statistic, c->threshold,
               c->drifted == 1 ? "yes" : "no",
               c->rows_ref ? 100.0 * (double)c->missing_ref / (double)c->rows_ref : 0.0,
               c->rows_cur ? 100.0 * (double)c->missing_cur / (double)c->rows_cur : 0.0);
    }
    printf("\n%zu of %zu tested columns drifted", r->n_drifted, r->n_tested);
    if (r->n_tested > 0)
        printf(" (share %.4g, threshold %.4g): %s\n", r->drift_share, r->share_threshold,
               r->dataset_drift ? "DATASET DRIFT" : "no dataset drift");
    else
        printf(": no column could be tested\n");
    if (r->n_errors > 0)
        printf("%zu column(s) could not be tested (see errors above)\n", r->n_errors);
}

/* --method COL=M or --threshold COL=T: one more choice (the column name copied); 0 or a usage
 * error's exit code. */
static int add_choice(const char *cmd, int is_method, const char *arg,
                      aud_drift_choice *ch, size_t *n)
{
    const char *eq = strchr(arg, '=');
    if (*n >= MAX_OVERRIDES || eq == arg)
        return aud_cli_usage(cmd, "bad or too many per-column values: '%s'", arg);
    aud_drift_choice c = {NULL, AUD_DRIFT_AUTO, NAN};
    if (is_method && aud_drift_method_parse(eq + 1, &c.method) != 0)
        return aud_cli_usage(cmd, "unknown method \"%s\"", eq + 1);
    if (!is_method) {
        int rc = aud_cli_parse_double(cmd, "--threshold", eq + 1, &c.threshold);
        if (rc != 0)
            return rc;
    }
    char *col = aud_malloc((size_t)(eq - arg) + 1);
    if (col == NULL)
        return aud_cli_usage(cmd, "out of memory");
    memcpy(col, arg, (size_t)(eq - arg));
    col[eq - arg] = '\0';
    c.column = col;
    ch[(*n)++] = c;
    return 0;
}

static void free_choices(aud_drift_choice *ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aud_free((char *)ch[i].column);
}

typedef struct drift_cli {
    const char       *refp, *curp, *cols_arg, *json, *created;
    aud_drift_opts    opts;
    aud_drift_choice *choices;   /* --method COL=M, --threshold COL=T (columns owned) */
    size_t            n_choices;
    aud_csv_cli       csv;
} drift_cli;

/* argv -> c: 0, -1 after --help, or a usage error's exit code. */
static int parse_args(int argc, char **argv, drift_cli *c)
{
    static const struct option longopts[] = {
        {"reference", required_argument, NULL, 'r'},
        {"current", required_argument, NULL, 'c'},
        {"columns", required_argument, NULL, 'C'},
        {"method", required_argument, NULL, 'm'},
        {"threshold", required_argument, NULL, 't'},
        {"psi-binning", required_argument, NULL, 'b'},
        {"psi-bins", required_argument, NULL, 'B'},
        {"drift-share", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'T'},
        {"json", required_argument, NULL, 'j'},
        {"created", required_argument, NULL, 'E'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = argv[0];
    aud_drift_opts *o = &c->opts;
    optind = 1;
    opterr = 0;
    int ch, urc = 0;
    while (urc == 0 && (ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': c->refp = optarg; break;
        case 'c': c->curp = optarg; break;
        case 'C': c->cols_arg = optarg; break;
        case 'j': c->json = optarg; break;
        case 'E': urc = aud_cli_parse_created(cmd, optarg, &c->created); break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return -1;
        case 'm':
            if (strchr(optarg, '=') != NULL)
                urc = add_choice(cmd, 1, optarg, c->choices, &c->n_choices);
            else if (aud_drift_method_parse(optarg, &o->method) != 0)
                urc = aud_cli_usage(cmd, "unknown method \"%s\"", optarg);
            break;
        case 't':
            if (strchr(optarg, '=') != NULL)
                urc = add_choice(cmd, 0, optarg, c->choices, &c->n_choices);
            else
                urc = aud_cli_parse_double(cmd, "--threshold", optarg, &o->threshold);
            break;
        case 'b':
            if (strcmp(optarg, "quantile") == 0)
                o->psi_binning = AUD_PSI_QUANTILE;
            else if (strcmp(optarg, "evidently") == 0)
                o->psi_binning = AUD_PSI_EVIDENTLY;
            else
                urc = aud_cli_usage(cmd, "--psi-binning expects quantile or evidently, got "
                                         "\"%s\"", optarg);
            break;
        case 'B': {
            long v = 0;
            urc = aud_cli_parse_long(cmd, "--psi-bins", optarg, 1, 1000, &v);
            o->psi_bins = (int)v;
            break;
        }
        case 's':
            urc = aud_cli_parse_double(cmd, "--drift-share", optarg, &o->drift_share);
            if (urc == 0 && !(o->drift_share >= 0.0 && o->drift_share <= 1.0))
                urc = aud_cli_usage(cmd, "--drift-share expects a number in [0, 1]");
            break;
        case 'T': urc = aud_cli_parse_threads(cmd, optarg, &o->threads); break;
        case ':': urc = aud_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]); break;
        case '?': urc = aud_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]); break;
        default:
            urc = aud_csv_cli_option(&c->csv, cmd, ch, optarg);
            if (urc < 0)
                urc = aud_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (urc == 0 && optind < argc)
        urc = aud_cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (urc == 0 && (c->refp == NULL || c->curp == NULL))
        urc = aud_cli_usage(cmd, "--reference and --current are required");
    return urc;
}

/* Read both files at once, the reference on a second thread (unless --threads 1); a saved
 * profile as reference gives *prof and *sums. */
static int load_both(const drift_cli *c, aud_table **ref, aud_table **cur, aud_refprof **prof,
                     const aud_drift_refsum ***sums, aud_error *err)
{
    load_job jr = {.path = c->refp, .csv = &c->csv, .progress = 0, .t = NULL, .rc = AUD_OK};
    load_job jc = {.path = c->curp, .csv = &c->csv, .progress = 1, .t = NULL, .rc = AUD_OK};
    aud_error_clear(&jr.err);
    aud_error_clear(&jc.err);
    if (aud_cli_progress_enabled())
        fprintf(stderr, "audit: reading %s and %s ...\n", c->refp, c->curp);
    pthread_t th;
    int threaded = c->opts.threads != 1 && aud_thread_start(&th, load_main, &jr) == 0;
    if (!threaded)
        load_main(&jr);
    load_main(&jc);
    if (threaded)
        pthread_join(th, NULL);
    *ref = jr.t;
    *cur = jc.t;
    *prof = jr.prof;
    *sums = jr.sums;
    if (jr.rc != AUD_OK)
        *err = jr.err;
    else if (jc.rc != AUD_OK)
        *err = jc.err;
    return jr.rc != AUD_OK ? jr.rc : jc.rc;
}

/* The "drift" results document: provenance (both files hashed meanwhile) and the result. */
static int write_json(const drift_cli *c, const aud_drift_result *res, const aud_table *ref,
                      const aud_refprof *prof, const aud_table *cur, aud_hash_ahead *hash_ref,
                      aud_hash_ahead *hash_cur, aud_error *err)
{
    cJSON *doc = NULL, *prov = NULL, *entry = NULL;
    int rc = aud_prov_doc_new(&doc, &prov, "drift", c->created, err);
    if (rc == AUD_OK)
        rc = aud_hash_ahead_join(hash_ref, err);
    if (rc == AUD_OK)
        rc = aud_hash_ahead_join(hash_cur, err);
    if (rc == AUD_OK)
        rc = aud_prov_add_input_hashed(prov, "reference", c->refp, hash_ref->hex, ref, &entry,
                                       err);
    if (rc == AUD_OK && prof != NULL)
        rc = aud_refprof_prov(prof, entry, err);
    if (rc == AUD_OK)
        rc = aud_prov_add_input_hashed(prov, "current", c->curp, hash_cur->hex, cur, NULL, err);
    if (rc == AUD_OK)
        rc = aud_drift_to_json(res, doc, err);
    if (rc == AUD_OK)
        rc = aud_json_write(doc, c->json, err);
    cJSON_Delete(doc);
    return rc;
}

int aud_cmd_drift(int argc, char **argv)
{
    static aud_drift_choice choices[MAX_OVERRIDES];
    drift_cli c;
    memset(&c, 0, sizeof c);
    aud_drift_opts_default(&c.opts);
    c.choices = choices;
    aud_csv_cli_init(&c.csv);
    int exit_code = parse_args(argc, argv, &c);
    aud_error err;
    aud_error_clear(&err);
    int rc = AUD_OK;
    char **cols = NULL;
    size_t n_cols = 0;
    aud_table *ref = NULL, *cur = NULL;
    aud_refprof *prof = NULL;
    const aud_drift_refsum **sums = NULL;
    aud_drift_result *res = NULL;
    aud_hash_ahead hash_ref, hash_cur;   /* the provenance hashes, taken while reading */
    memset(&hash_ref, 0, sizeof hash_ref);
    memset(&hash_cur, 0, sizeof hash_cur);
    if (exit_code != 0)
        goto done;
    const char *inputs[] = {c.refp, c.curp};
    rc = aud_guard_output(c.json, inputs, 2, &err);
    if (rc == AUD_OK && c.json != NULL) {   /* from the start: they fill the reader's idle */
        aud_hash_ahead_start(&hash_ref, c.refp);
        aud_hash_ahead_start(&hash_cur, c.curp);
    }
    aud_cli_stage("read CSV");
    if (rc == AUD_OK)
        rc = load_both(&c, &ref, &cur, &prof, &sums, &err);
    if (rc == AUD_OK && c.cols_arg != NULL) {
        if (split_list(c.cols_arg, &cols, &n_cols) != AUD_OK) {
            rc = aud_error_nomem(&err);
            goto done;
        }
        for (size_t i = 0; i < n_cols; i++)
            if (cols[i][0] == '\0') {
                exit_code = aud_cli_usage(argv[0], "--columns has an empty column name");
                goto done;
            }
    }
    if (rc != AUD_OK)
        goto done;
    for (size_t i = 0; cols == NULL && i < ref->n_cols; i++)
        if (ref->cols[i].n_same > 0)   /* kept apart, not compared */
            aud_cli_warn("column %zu of the reference data: \"%s\" names %zu columns; not "
                         "compared (name the columns with --names to compare it)", i + 1,
                         ref->cols[i].name, ref->cols[i].n_same + 1);
    if (aud_cli_progress_enabled())
        fprintf(stderr, "audit: comparing %zu columns ...\n", cols ? n_cols : ref->n_cols);
    aud_cli_stage("drift");
    rc = aud_drift_ref(&res, ref, (const aud_drift_refsum *const *)sums, cur,
                       (const char *const *)cols, n_cols, c.choices, c.n_choices, &c.opts, &err);
    if (rc == AUD_E_USAGE) {
        exit_code = aud_cli_usage(argv[0], "%s", err.msg);
        goto done;
    }
    if (rc != AUD_OK)
        goto done;
    for (size_t i = 0; i < res->n_cols; i++) {
        if (res->cols[i].status != AUD_OK)
            aud_cli_warn("column \"%s\": %s", res->cols[i].name, res->cols[i].msg);
        if (res->cols[i].similar != NULL)
            aud_cli_warn("column \"%s\": categories that differ only by surrounding spaces or "
                         "case are compared as different: %s", res->cols[i].name,
                         res->cols[i].similar);
    }
    if (res->n_tested == 0)
        rc = aud_error_set(&err, AUD_E_DOMAIN, NULL, 0, 0, "no column could be tested%s%s",
                           res->n_cols ? ": " : "", res->n_cols ? res->cols[0].msg : "");
    aud_cli_stage("write");
    if (rc == AUD_OK && c.json != NULL)
        rc = write_json(&c, res, ref, prof, cur, &hash_ref, &hash_cur, &err);
    if (rc == AUD_OK && !(c.json != NULL && strcmp(c.json, "-") == 0))
        print_table(res, ref, cur);
done:
    aud_hash_ahead_join(&hash_ref, NULL);   /* an early error: the threads must still end */
    aud_hash_ahead_join(&hash_cur, NULL);
    aud_drift_result_free(res);
    for (size_t i = 0; cols != NULL && i < n_cols; i++)
        aud_free(cols[i]);
    aud_free(cols);
    free_choices(c.choices, c.n_choices);
    aud_table_free(ref);
    aud_table_free(cur);
    aud_free(sums);
    aud_refprof_free(prof);
    aud_csv_cli_free(&c.csv);
    if (exit_code != 0)
        return exit_code < 0 ? AUD_EXIT_OK : exit_code;
    return rc == AUD_OK ? AUD_EXIT_OK : aud_cli_fail(&err);
}
