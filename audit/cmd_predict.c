/* cmd_predict.c - `audit predict --model M --data D.csv [--raw] [--out F]` (SPEC section 1):
 * one CSV column `prediction` (probability for classifiers, value for regression, the class for
 * multi:softmax; the raw margin with --raw), or `prediction@k` per class for multiclass. */
#include "audit/audit.h"
#include "audit/cli_int.h"
#include "audit/csvopt_int.h"
#include "models/model_cmd_int.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit predict --model M --data D.csv [--raw] [--out preds.csv] [options]\n"
    "\n"
    "Predicts every row of D.csv with model M and writes a CSV with the column 'prediction'\n"
    "(probability for classifiers, value for regression) or 'prediction@0', 'prediction@1', ...\n"
    "for multiclass models. Model features are matched to CSV columns by name (by position, with\n"
    "a warning, when the model has no feature names). Missing values follow the model's rules.\n"
    "\n"
    "options:\n"
    "  --model FILE         XGBoost JSON, LightGBM text, audit linear or tree-ensemble JSON\n"
    "  --model-format F     force the format: xgboost-json, lightgbm-text, linear-json, trees-json\n"
    "                       (default: detected from the content)\n"
    "  --categories FILE    category lists of the model's categorical features, in code order\n"
    "                       (JSON {column: [...]}; docs/model-formats.md)\n"
    "  --model-cmd 'PROG ARG...'  a model behind a command (no shell; docs/model-formats.md)\n"
    "  --features LIST      comma-separated columns sent to --model-cmd (default: all; alias\n"
    "                       --model-features)\n"
    "  --model-batch N      rows per batch sent to --model-cmd (default 100000)\n"
    "  --model-timeout S    seconds allowed for one batch's answer, the program's start\n"
    "                       included (default 30)\n"
    "  --model-max-rows N   total rows --model-cmd may be asked for (default: unlimited)\n"
    "  --model-protocol P   batch (default: a run of the program per batch, to end of file) or\n"
    "                       session (one run; batches end with an empty line)\n"
    "  --data FILE          input CSV (required; - reads stdin)\n"
    "  --raw                write raw margins (before the sigmoid/softmax/exp link)\n"
    "  --out FILE           output CSV (default: stdout; written atomically)\n"
    "  --threads T          worker threads (default: all cores); results do not depend on T\n"
    CSV_OPTIONS_HELP
    "  --quiet              errors only\n"
    "  --help               this text\n";

typedef struct pred_rows {
    const double *v;
    size_t        n_cols;
} pred_rows;

static void pred_row(FILE *f, size_t r, void *ctx)
{
    const pred_rows *p = ctx;
    char buf[32];
    for (size_t k = 0; k < p->n_cols; k++) {
        if (k)
            fputc(',', f);
        fputs(aud_fmt_double(p->v[r * p->n_cols + k], buf), f);
    }
    fputc('\n', f);
}

/* The predictions CSV; rows formatted on `threads` threads (aud_cli_write_rows). */
static int write_predictions(const char *path, const double *v, size_t n_rows, size_t n_cols,
                             int threads, aud_error *err)
{
    aud_out o;
    int rc = aud_out_open(&o, path, err);
    if (rc != AUD_OK)
        return rc;
    if (n_cols == 1) {
        fputs("prediction\n", o.f);
    } else {
        for (size_t k = 0; k < n_cols; k++)
            fprintf(o.f, "%sprediction@%zu", k ? "," : "", k);
        fputc('\n', o.f);
    }
    pred_rows pr = {v, n_cols};
    if (aud_cli_write_rows(o.f, n_rows, threads, pred_row, &pr) != AUD_OK) {
        aud_out_abort(&o);
        return aud_error_nomem(err);
    }
    if (ferror(o.f)) {
        aud_out_abort(&o);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "write error");
    }
    return aud_out_commit(&o, err);
}

/* --model-cmd: the model is a program (models/model_cmd_int.h). Takes over csv. */
static int predict_cmd(const char *cmd, const char *mcmd, const char *mfeat, size_t batch,
                       double timeout, size_t max_rows, int session, const char *data,
                       const char *out, int threads, aud_csv_cli *csv)
{
    aud_error err;
    aud_error_clear(&err);
    aud_model_cmd mc;
    aud_model_cmd_init(&mc);
    mc.batch_rows = batch;
    mc.timeout_s = timeout;
    mc.max_rows = max_rows;
    mc.session_protocol = session;
    aud_table *t = NULL;
    double *pred = NULL;
    size_t n = 0, n_cols = 0;
    const char *inputs[] = {data};
    int rc = aud_guard_output(out, inputs, 1, &err);
    if (rc == AUD_OK)
        rc = aud_model_cmd_split(mcmd, ' ', &mc.argv, &n, &err);
    if (rc == AUD_OK && mfeat != NULL)
        rc = aud_model_cmd_split(mfeat, ',', &mc.features, &mc.n_features, &err);
    if (rc == AUD_OK)
        rc = aud_csv_cli_load(csv, &t, data, &err);
    if (rc == AUD_OK)
        rc = aud_model_cmd_predict(&mc, t, &pred, &n_cols, &err);
    if (rc == AUD_OK)
        rc = write_predictions(out, pred, t->n_rows, n_cols, threads, &err);
    if (rc == AUD_OK)
        aud_cli_info("%s: %zu model command call(s), %zu rows", cmd, mc.n_calls,
                     mc.n_rows_sent);
    aud_free(pred);
    aud_table_free(t);
    aud_model_cmd_strv_free(mc.argv);
    aud_model_cmd_strv_free(mc.features);
    aud_csv_cli_free(csv);
    return rc == AUD_OK ? AUD_EXIT_OK : aud_cli_fail(&err);
}

int aud_cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"model-format", required_argument, NULL, 'f'},
        {"data", required_argument, NULL, 'd'},
        {"model-cmd", required_argument, NULL, 1001},
        {"model-features", required_argument, NULL, 1002},
        {"model-batch", required_argument, NULL, 1003},
        {"model-timeout", required_argument, NULL, 1004},
        {"model-max-rows", required_argument, NULL, 1005},
        {"model-protocol", required_argument, NULL, 1006},
        {"features", required_argument, NULL, 1002},
        {"categories", required_argument, NULL, 1007},
        {"raw", no_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL, *format = NULL, *data = NULL, *out = "-";
    const char *mcmd = NULL, *mfeat = NULL, *cats = NULL;
    double mbatch = AUD_MODEL_CMD_BATCH, mtimeout = 30, mmax = 0, mproto = 0;
    int raw = 0, threads = aud_ncpu(), mc_opt = 0;   /* mc_opt: a model-command option given */
    aud_csv_cli csv;
    aud_csv_cli_init(&csv);
    optind = 1;
    opterr = 0;
    int ch, rc = 0;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        mc_opt |= ch >= 1002 && ch <= 1006;
        switch (ch) {
        case 'm': model_path = optarg; break;
        case 'f': format = optarg; break;
        case 'd': data = optarg; break;
        case 'r': raw = 1; break;
        case 1001: mcmd = optarg; break;
        case 1002: mfeat = optarg; break;
        case 1007: cats = optarg; break;
        case 1003:
            rc = aud_cli_parse_double(argv[0], "--model-batch", optarg, &mbatch);
            if (rc == 0 && (mbatch < 1 || mbatch != (double)(size_t)mbatch))
                rc = aud_cli_usage(argv[0], "--model-batch expects a positive integer");
            break;
        case 1004:
            rc = aud_cli_parse_double(argv[0], "--model-timeout", optarg, &mtimeout);
            if (rc == 0 && !(mtimeout > 0))
                rc = aud_cli_usage(argv[0], "--model-timeout expects a positive number");
            break;
        case 1005:
            rc = aud_cli_parse_double(argv[0], "--model-max-rows", optarg, &mmax);
            if (rc == 0 && (mmax < 1 || mmax != (double)(size_t)mmax))
                rc = aud_cli_usage(argv[0], "--model-max-rows expects a positive integer");
            break;
        case 1006: rc = aud_cli_parse_model_cmd(argv[0], 3, optarg, &mproto); break;
        case 'o': out = optarg; break;
        case 't':
            rc = aud_cli_parse_threads(argv[0], optarg, &threads);
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h':
            aud_csv_cli_free(&csv);
            fputs(usage_text, stdout);
            return AUD_EXIT_OK;
        case ':':
            rc = aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
            break;
        case '?':
            rc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
            break;
        default:
            rc = aud_csv_cli_option(&csv, argv[0], ch, optarg);
            if (rc < 0)
                rc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
        if (rc != 0) {
            aud_csv_cli_free(&csv);
            return rc;
        }
    }
    if (optind < argc)
        rc = aud_cli_usage(argv[0], "unexpected argument '%s'", argv[optind]);
    else if (model_path == NULL && mcmd == NULL)
        rc = aud_cli_usage(argv[0], "--model is required (or --model-cmd)");
    else if (model_path != NULL && mcmd != NULL)
        rc = aud_cli_usage(argv[0], "--model and --model-cmd exclude each other");
    else if (cats != NULL && model_path == NULL)
        rc = aud_cli_usage(argv[0], "--categories needs --model");
    else if (mc_opt && mcmd == NULL)
        rc = aud_cli_model_cmd_opts_alone(argv[0]);
    else if (mcmd != NULL)
        return predict_cmd(argv[0], mcmd, mfeat, (size_t)mbatch, mtimeout, (size_t)mmax,
                           mproto == 2, data, out, threads, &csv);
    else if (data == NULL)
        rc = aud_cli_usage(argv[0], "--data is required");
    else if (format != NULL && strcmp(format, "xgboost-json") != 0 &&
             strcmp(format, "lightgbm-text") != 0 && strcmp(format, "linear-json") != 0 &&
             strcmp(format, "trees-json") != 0)
        rc = aud_cli_usage(argv[0], "--model-format must be xgboost-json, lightgbm-text, "
                           "linear-json or trees-json, not \"%s\"", format);
    else if (strcmp(model_path, "-") == 0 && strcmp(data, "-") == 0)
        rc = aud_cli_usage(argv[0], "--model and --data cannot both read stdin");
    if (rc != 0) {
        aud_csv_cli_free(&csv);
        return rc;
    }

    aud_error err;
    aud_error_clear(&err);
    aud_model *m = NULL;
    aud_table *t = NULL;
    double *pred = NULL;
    const char *inputs[] = {model_path, data};
    rc = aud_guard_output(out, inputs, 2, &err);
    /* the model is parsed on its own thread while the CSV is read (a model read from stdin
     * too: --data is then a file); a model error is reported before a data error */
    aud_cli_stage("load model + read CSV");
    if (rc == AUD_OK)
        rc = aud_csv_cli_load_with_model(&csv, &t, data, model_path, format, cats, threads, 0,
                                         &m, &err);
    long rounds = 0, best = rc == AUD_OK ? aud_model_best_round(m, &rounds) : -1;
    if (best >= 0)
        aud_cli_warn("%s: early stopping recorded best_iteration=%ld, but the model has %ld "
                     "rounds: every round is used (as Booster.predict); XGBClassifier.predict "
                     "would stop after round %ld", model_path, best, rounds, best);
    size_t n_cols = 0;
    int by_position = 0;
    aud_cli_stage("predict");
    if (rc == AUD_OK)
        rc = aud_predict(m, model_path, t, raw, threads, &pred, &n_cols, &by_position, &err);
    if (by_position)
        aud_cli_warn_by_position(m, model_path, data);
    aud_cli_stage("write");
    if (rc == AUD_OK)
        rc = write_predictions(out, pred, t->n_rows, n_cols, threads, &err);
    aud_free(pred);
    aud_table_free(t);
    aud_model_free(m);
    aud_csv_cli_free(&csv);
    return rc == AUD_OK ? AUD_EXIT_OK : aud_cli_fail(&err);
}
