/* cmd_explain.c - `audit explain` (SPEC sections 1 and 3 "Explanations"): SHAP values per row as
 * CSV (feature columns in model order, then bias; FEATURE@CLASS / bias@CLASS for multiclass), or
 * SHAP interaction values with --interactions, streamed row block by row block. Also the setup
 * shared with `audit reasons` (cmd_explain_int.h). */
#include "audit/cmd_explain_int.h"

#include "audit/cli_int.h"
#include "models/model_cmd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- shared options ---------------------------------------------------------------------------- */

void aud_xopts_init(aud_xopts *o, const char *cmd)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->out = "-";
    o->background_rows = AUD_SHAP_DEFAULT_BACKGROUND;
    o->seed = 42;
    o->threads = aud_ncpu();
    o->method = AUD_SHAP_AUTO;
    o->output = AUD_SHAP_OUTPUT_RAW;
    aud_csv_cli_init(&o->csv);
}

void aud_xopts_free(aud_xopts *o)
{
    aud_csv_cli_free(&o->csv);
}

int aud_xopts_option(aud_xopts *o, int ch, const char *arg)
{
    switch (ch) {
    case 0x200: o->model = arg; return 0;
    case 0x201: o->data = arg; return 0;
    case 0x202:
        if (aud_shap_method_parse(arg, &o->method) != 0)
            return aud_cli_usage(o->cmd, "unknown --method '%s'; use auto, tree, "
                                 "tree-interventional, linear, kernel or exact", arg);
        return 0;
    case 0x203: o->background = arg; return 0;
    case 0x204:
        return aud_cli_parse_long(o->cmd, "--background-rows", arg, 1, 100000000L,
                                  &o->background_rows);
    case 0x205: o->rows = arg; return 0;
    case 0x206: return aud_cli_parse_long(o->cmd, "--samples", arg, 2, 10000000L, &o->samples);
    case 0x207:
        if (strcmp(arg, "raw") == 0)
            o->output = AUD_SHAP_OUTPUT_RAW;
        else if (strcmp(arg, "probability") == 0)
            o->output = AUD_SHAP_OUTPUT_PROBABILITY;
        else
            return aud_cli_usage(o->cmd, "--output expects raw or probability, got \"%s\"", arg);
        return 0;
    case 0x208: return aud_cli_parse_threads(o->cmd, arg, &o->threads);
    case 0x209: return aud_cli_parse_long(o->cmd, "--seed", arg, 0, 2147483647L, &o->seed);
    case 0x20a: o->model_format = arg; return 0;
    case 0x20b: o->out = arg; return 0;
    case 0x20c: o->model_cmd = arg; return 0;
    case 0x20d: o->model_features = arg; return 0;
    case 0x20e: return aud_cli_parse_model_cmd(o->cmd, 0, arg, &o->model_batch);
    case 0x20f: return aud_cli_parse_model_cmd(o->cmd, 1, arg, &o->model_timeout);
    case 0x210: return aud_cli_parse_model_cmd(o->cmd, 2, arg, &o->model_max_rows);
    case 0x211: o->id = arg; return 0;
    case 0x212: return aud_cli_parse_model_cmd(o->cmd, 3, arg, &o->model_protocol);
    case 0x213: o->categories = arg; return 0;
    default: return aud_csv_cli_option(&o->csv, o->cmd, ch, arg);
    }
}

/* "N" or "A:B" (0-based, B exclusive) against a table of n rows. */
static int parse_rows(const char *s, size_t n, size_t *begin, size_t *end, aud_error *err)
{
    char *e = NULL;
    errno = 0;
    const char *colon = strchr(s, ':');
    if (s[0] == '-' || s[0] == '+' || s[0] == ' ')
        goto bad;
    unsigned long long a = strtoull(s, &e, 10);
    if (e == s || errno == ERANGE)
        goto bad;
    if (colon == NULL) {
        if (*e != '\0')
            goto bad;
        *begin = 0;
        *end = a < n ? (size_t)a : n;
        return AUD_OK;
    }
    if (e != colon || colon[1] == '-' || colon[1] == '+' || colon[1] == ' ')
        goto bad;
    const char *bs = colon + 1;
    unsigned long long b = strtoull(bs, &e, 10);
    if (e == bs || *e != '\0' || errno == ERANGE)
        goto bad;
    if (a > b)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "--rows %s: the first row is after the end", s);
    if (b > n)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "--rows %s: the data has only %zu rows (rows are 0-based, A:B "
                             "means A to B-1)", s, n);
    *begin = (size_t)a;
    *end = (size_t)b;
    return AUD_OK;
bad:
    return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                         "--rows expects N or A:B (whole numbers, 0-based), got \"%s\"", s);
}

void aud_xsetup_free(aud_xsetup *s)
{
    aud_model_free(s->model);
    aud_table_free(s->data);
    aud_table_free(s->bgt);
    aud_explain_input_free(&s->in);
    memset(s, 0, sizeof *s);
}

const char *aud_xsetup_feature(const aud_xsetup *s, size_t j)
{
    const char *name = aud_model_feature(s->model, j);
    return name != NULL ? name : s->data->cols[j].name;   /* bound by position */
}

int aud_xsetup_load(aud_xsetup *s, const aud_xopts *o, aud_error *err)
{
    memset(s, 0, sizeof *s);
    int rc = AUD_OK;
    /* a model file is parsed on its own thread while the CSV is read; a model error is
     * reported before a data error */
    aud_cli_stage(o->model_cmd == NULL ? "load model + read CSV" : "read CSV");
    rc = aud_csv_cli_load_with_model(&o->csv, &s->data, o->data,
                                     o->model_cmd == NULL ? o->model : NULL, o->model_format,
                                     o->categories, o->threads, 0, &s->model, err);
    if (rc == AUD_OK && o->model_cmd != NULL) {   /* asked for the first row: its outputs */
        aud_model_cmd mc;
        aud_model_cmd_init(&mc);
        size_t n = 0;
        if (o->model_batch > 0)
            mc.batch_rows = (size_t)o->model_batch;
        if (o->model_timeout > 0)
            mc.timeout_s = o->model_timeout;
        mc.max_rows = (size_t)o->model_max_rows;
        mc.session_protocol = o->model_protocol == 2;
        rc = aud_model_cmd_split(o->model_cmd, ' ', &mc.argv, &n, err);
        if (rc == AUD_OK && o->model_features != NULL)
            rc = aud_model_cmd_split(o->model_features, ',', &mc.features, &mc.n_features, err);
        if (rc == AUD_OK)
            rc = aud_model_from_cmd(&s->model, &mc, s->data, err);
        aud_model_cmd_free(&mc);
    }
    if (rc != AUD_OK)
        return rc;
    s->row_begin = 0;
    s->row_end = s->data->n_rows;
    s->id_col = -1;
    if (o->id != NULL) {
        rc = aud_table_lookup(s->data, o->id, "--id column", &s->id_col, err);
        if (rc != AUD_OK)
            return rc;
    }
    if (o->rows != NULL) {
        rc = parse_rows(o->rows, s->data->n_rows, &s->row_begin, &s->row_end, err);
        if (rc != AUD_OK)
            return rc;
    }
    aud_explain_request rq = {.model = s->model,
                              .model_path = o->model ? o->model : o->model_cmd, .data = s->data,
                              .row_begin = s->row_begin, .row_end = s->row_end,
                              .background_rows = (size_t)o->background_rows};
    aud_shap_opts_default(&rq.opts);
    rq.opts.method = o->method;
    rq.opts.output = o->output;
    rq.opts.threads = o->threads;
    rq.opts.seed = (uint64_t)o->seed;
    rq.opts.n_samples = (size_t)o->samples;
    /* the background file is read only for a method that uses one */
    if (o->background != NULL &&
        aud_shap_method_uses_background(aud_shap_method_resolve(o->method, s->model))) {
        rc = aud_csv_cli_load(&o->csv, &s->bgt, o->background, err);
        if (rc != AUD_OK)
            return rc;
        rq.background = s->bgt;
    }
    aud_cli_stage("prepare");
    rc = aud_explain_prepare(&s->in, &rq, err);
    if (s->in.by_position)
        aud_cli_warn_by_position(s->model, o->model, o->data);
    if (o->background != NULL && rq.background == NULL)
        aud_cli_warn("method %s explains against the training cover; --background is ignored "
                     "(use --method tree-interventional to explain against it)",
                     aud_shap_method_name(s->in.opts.method));
    return rc;
}

int aud_xopts_finish(aud_xopts *o, const char *cmd, int argc, char **argv, int next)
{
    int urc = 0;
    if (next < argc)
        urc = aud_cli_usage(cmd, "unexpected argument '%s'", argv[next]);
    else if ((o->model == NULL && o->model_cmd == NULL) || o->data == NULL)
        urc = aud_cli_usage(cmd, "--model and --data are required (or --model-cmd for --model)");
    else if (o->model != NULL && o->model_cmd != NULL)
        urc = aud_cli_usage(cmd, "--model and --model-cmd exclude each other");
    else if (o->model_cmd == NULL && (o->model_features != NULL || o->model_batch > 0 ||
                                      o->model_timeout > 0 || o->model_max_rows > 0 ||
                                      o->model_protocol > 0))
        urc = aud_cli_model_cmd_opts_alone(cmd);
    if (urc != 0)
        aud_xopts_free(o);
    return urc;
}

void aud_xcheck_additivity(const aud_shap_result *r)
{
    double scale = 1.0;
    for (size_t i = 0; i < r->n_rows * r->n_outputs; i++)
        scale = fabs(r->fx[i]) > scale ? fabs(r->fx[i]) : scale;
    if (!(r->additivity_max_error <= AUD_XADDITIVITY_WARN * scale))
        aud_cli_warn("additivity error %.3g is larger than expected (sum of SHAP values + bias "
                     "should equal the model output); please report this with the model",
                     r->additivity_max_error);
}

void aud_xput_id(FILE *f, const aud_xsetup *s, size_t row)
{
    char cell[64];
    if (s->id_col < 0)
        return;
    const aud_column *c = &s->data->cols[s->id_col];
    fputc(',', f);
    if (c->type == AUD_COL_CATEGORICAL)
        aud_csv_put_field(f, c->codes[row] >= 0 ? c->levels[c->codes[row]] : "");
    else if (!isnan(c->num[row]))
        fputs(aud_fmt_double(c->num[row], cell), f);
}

void aud_csv_put_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' && s[0] != '\0') {
        fputs(s, f);
        return;
    }
    if (s[0] == '\0')
        return;
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* --- explain ----------------------------------------------------------------------------------- */

static const char usage_text[] =
    "usage: audit explain --model M|--model-cmd 'PROG ARG...' --data D.csv [options]\n"
    "\n"
    "SHAP values of each data row: one CSV row per explained row: `row` (the 0-based data row),\n"
    "the --id column when given, one column per model feature (model order), then `bias` (the\n"
    "expected value) and `prediction` (the explained output f(x)); multiclass models get\n"
    "FEATURE@CLASS, bias@CLASS and prediction@CLASS. Values are in raw margin space (log-odds\n"
    "for binary models) unless --output probability. sum(phi) + bias equals the prediction;\n"
    "the largest deviation is reported on stderr.\n"
    "\n"
    "options:\n"
    AUD_XOPT_HELP
    "  --values             also write each feature's value as the model saw it (value:FEATURE,\n"
    "                       model order; NA when missing; a --model-cmd text feature: its text)\n"
    "  --interactions       SHAP interaction values (method tree): one CSV row per explained row,\n"
    "                       class and feature, columns `row`, the --id column when given,\n"
    "                       [`class`,] `feature`, then one per feature and `bias` (diagonal =\n"
    "                       main effect; XGBoost's layout)\n"
    CSV_OPTIONS_HELP
    "  --quiet              errors only\n"
    "  --help               this text\n";

/* Suffix "@k" for multiclass. */
static void put_name(FILE *f, const char *name, size_t K, size_t k)
{
    if (K == 1) {
        aud_csv_put_field(f, name);
        return;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s@%zu", name, k);
    aud_csv_put_field(f, buf);
}

typedef struct phi_rows {
    const aud_xsetup       *s;
    const aud_shap_result  *r;
    int                     values;
} phi_rows;

static void phi_row(FILE *f, size_t i, void *ctx)
{
    const phi_rows *p = ctx;
    const aud_xsetup *s = p->s;
    const aud_shap_result *r = p->r;
    size_t M = r->n_features, K = r->n_outputs;
    char num[32];
    const double *ph = r->phi + i * r->stride;
    fprintf(f, "%zu", s->row_begin + i);
    aud_xput_id(f, s, s->row_begin + i);
    for (size_t c = 0; c < r->stride; c++) {
        fputc(',', f);
        fputs(aud_fmt_double(ph[c], num), f);
    }
    for (size_t k = 0; k < K; k++) {
        fputc(',', f);
        fputs(aud_fmt_double(r->fx[i * K + k], num), f);
    }
    for (size_t j = 0; p->values && j < M; j++) {
        double x = s->in.X[i * M + j];
        const char *text = isnan(x) ? NULL : aud_model_cmd_category(s->model, j, x);
        fputc(',', f);
        if (text != NULL)   /* a command model's text feature: the category, not its code */
            aud_csv_put_field(f, text);
        else
            fputs(isnan(x) ? "NA" : aud_fmt_double(x, num), f);
    }
    fputc('\n', f);
}

/* row, [id], the SHAP values (class-major), prediction per class, [value:FEATURE...]; the rows
 * formatted on `threads` threads (aud_cli_write_rows: the same bytes). */
static int write_phi(FILE *f, const aud_xsetup *s, const aud_shap_result *r, int values,
                     int threads, aud_error *err)
{
    size_t M = r->n_features, K = r->n_outputs;
    char name[1024];
    fputs("row", f);
    if (s->id_col >= 0) {
        fputc(',', f);
        aud_csv_put_field(f, s->data->cols[s->id_col].name);
    }
    for (size_t k = 0; k < K; k++) {
        for (size_t j = 0; j <= M; j++) {
            fputc(',', f);
            put_name(f, j < M ? aud_xsetup_feature(s, j) : "bias", K, k);
        }
    }
    for (size_t k = 0; k < K; k++) {
        fputc(',', f);
        put_name(f, "prediction", K, k);
    }
    for (size_t j = 0; values && j < M; j++) {
        snprintf(name, sizeof name, "value:%s", aud_xsetup_feature(s, j));
        fputc(',', f);
        aud_csv_put_field(f, name);
    }
    fputc('\n', f);
    phi_rows pr = {s, r, values};
    return aud_cli_write_rows(f, r->n_rows, threads, phi_row, &pr) == AUD_OK ? AUD_OK
                                                                            : aud_error_nomem(err);
}

/* Rows per block of interaction values (block x K x (M+1)^2 doubles in memory). */
static size_t interaction_block(size_t K, size_t M)
{
    size_t per_row = K * (M + 1) * (M + 1);
    size_t b = ((size_t)16 << 20) / (per_row * sizeof(double) + 1);
    return b < 1 ? 1 : (b > 4096 ? 4096 : b);
}

static int write_interactions(FILE *f, const aud_xsetup *s, int threads, aud_error *err)
{
    const aud_model *m = s->model;
    size_t M = aud_model_features(m), K = aud_model_outputs(m), M1 = M + 1;
    size_t n = s->row_end - s->row_begin;
    size_t blk = interaction_block(K, M);
    double *buf = aud_malloc((blk < n ? blk : (n ? n : 1)) * K * M1 * M1 * sizeof *buf);
    char num[32];
    if (buf == NULL)
        return aud_error_nomem(err);
    fputs("row,", f);
    if (s->id_col >= 0) {   /* the --id column, as in the plain output (issue 14 item 3) */
        aud_csv_put_field(f, s->data->cols[s->id_col].name);
        fputc(',', f);
    }
    if (K > 1)
        fputs("class,", f);
    fputs("feature", f);
    for (size_t j = 0; j <= M; j++) {
        fputc(',', f);
        aud_csv_put_field(f, j < M ? aud_xsetup_feature(s, j) : "bias");
    }
    fputc('\n', f);
    int rc = AUD_OK;
    for (size_t b = 0; b < n && rc == AUD_OK; b += blk) {
        size_t cnt = n - b < blk ? n - b : blk;
        rc = aud_shap_tree_interactions(m, s->in.X + b * M, cnt, buf, threads, err);
        for (size_t i = 0; i < cnt && rc == AUD_OK; i++) {
            for (size_t k = 0; k < K; k++) {
                for (size_t a = 0; a <= M; a++) {
                    const double *row = buf + ((i * K + k) * M1 + a) * M1;
                    fprintf(f, "%zu", s->row_begin + b + i);
                    aud_xput_id(f, s, s->row_begin + b + i);
                    fputc(',', f);
                    if (K > 1)
                        fprintf(f, "%zu,", k);
                    aud_csv_put_field(f, a < M ? aud_xsetup_feature(s, a) : "bias");
                    for (size_t j = 0; j <= M; j++) {
                        fputc(',', f);
                        fputs(aud_fmt_double(row[j], num), f);
                    }
                    fputc('\n', f);
                }
            }
        }
    }
    aud_free(buf);
    return rc;
}

int aud_xexplain(aud_xsetup *s, const aud_xopts *o, const char *what, int explain,
                 aud_shap_result **r, aud_error *err)
{
    const char *inputs[] = {o->model, o->data, o->background};
    int rc = aud_guard_output(o->out, inputs, 3, err);
    if (rc != AUD_OK || !explain)
        return rc;
    aud_cli_progress prog;
    aud_cli_stage(what);
    aud_cli_progress_start(&prog, what);
    s->in.opts.progress = aud_cli_progress_report;
    s->in.opts.progress_ctx = &prog;
    rc = aud_shap_explain(r, s->model, s->in.X, s->row_end - s->row_begin, &s->in.opts, err);
    aud_cli_progress_end(&prog);
    s->in.opts.progress = NULL;
    s->in.opts.progress_ctx = NULL;
    return rc;
}

int aud_xclose(aud_xsetup *s, const char *cmd, aud_error *err)
{
    aud_model_cmd *mc = aud_model_get_cmd(s->model);
    if (mc == NULL)
        return AUD_OK;
    int rc = aud_model_cmd_close(mc, err);
    if (rc == AUD_OK)
        aud_cli_info("%s: %zu model command call(s), %zu rows", cmd, mc->n_calls,
                     mc->n_rows_sent);
    return rc;
}

int aud_xexit(const aud_xopts *o, int rc, aud_error *err)
{
    if (rc == AUD_OK)
        return AUD_EXIT_OK;
    if (rc == AUD_E_UNSUPPORTED && err->file[0] == '\0' && o->model != NULL)
        snprintf(err->file, sizeof err->file, "%s", o->model);
    return aud_cli_fail(err);
}

int aud_cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        AUD_XOPT_LONGOPTS,
        {"interactions", no_argument, NULL, 'i'},
        {"values", no_argument, NULL, 'v'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    aud_xopts o;
    aud_xopts_init(&o, argv[0]);
    int interactions = 0, values = 0;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        int rc = 0;
        switch (ch) {
        case 'i': interactions = 1; break;
        case 'v': values = 1; break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            aud_xopts_free(&o);
            return AUD_EXIT_OK;
        case ':':
            aud_xopts_free(&o);
            return aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
        case '?':
            aud_xopts_free(&o);
            return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        default:
            rc = aud_xopts_option(&o, ch, optarg);
            if (rc < 0)
                rc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
            if (rc != 0) {
                aud_xopts_free(&o);
                return rc;
            }
        }
    }
    int urc = aud_xopts_finish(&o, argv[0], argc, argv, optind);
    if (urc != 0)
        return urc;
    if (interactions && o.method != AUD_SHAP_AUTO && o.method != AUD_SHAP_TREE)
        urc = aud_cli_usage(argv[0], "--interactions is computed by --method tree only");
    else if (interactions && o.output != AUD_SHAP_OUTPUT_RAW)
        urc = aud_cli_usage(argv[0], "--interactions explains the raw margin only");
    if (urc != 0) {
        aud_xopts_free(&o);
        return urc;
    }

    aud_error err;
    aud_error_clear(&err);
    aud_xsetup s;
    aud_shap_result *r = NULL;
    aud_out out;
    int opened = 0;
    int rc = aud_xsetup_load(&s, &o, &err);
    if (rc == AUD_OK && interactions && !aud_model_is_trees(s.model))
        rc = aud_error_set(&err, AUD_E_USAGE, NULL, 0, 0,
                           "--interactions needs a tree model (method tree)");
    if (rc == AUD_OK)
        rc = aud_xexplain(&s, &o, "explain", !interactions, &r, &err);
    if (rc == AUD_OK)
        rc = aud_xclose(&s, argv[0], &err);
    if (rc == AUD_OK) {
        aud_cli_stage("write");
        rc = aud_out_open(&out, o.out, &err);
        opened = rc == AUD_OK;
    }
    if (rc == AUD_OK) {
        if (interactions)
            rc = write_interactions(out.f, &s, o.threads, &err);
        else
            rc = write_phi(out.f, &s, r, values, o.threads, &err);
    }
    if (opened) {
        if (rc == AUD_OK)
            rc = aud_out_commit(&out, &err);
        else
            aud_out_abort(&out);
    }
    if (rc == AUD_OK && r != NULL)
        aud_xcheck_additivity(r);
    if (rc == AUD_OK && r != NULL)
        aud_cli_info("explained %zu rows with method %s (%s output); additivity max error %.3g",
                     r->n_rows, aud_shap_method_name(r->method),
                     r->output == AUD_SHAP_OUTPUT_RAW ? "raw" : "probability",
                     r->additivity_max_error);
    aud_shap_result_free(r);
    aud_xsetup_free(&s);
    int code = aud_xexit(&o, rc, &err);
    aud_xopts_free(&o);
    return code;
}
