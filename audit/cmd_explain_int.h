/* cmd_explain.h - what `audit explain` and `audit reasons` share: the options about the model,
 * the data, the rows and the background, and the setup that loads and binds them. */
#ifndef AUD_CMD_EXPLAIN_H
#define AUD_CMD_EXPLAIN_H

#include <getopt.h>
#include <stdio.h>

#include "audit/audit.h"
#include "audit/csvopt_int.h"

/* getopt_long values 0x200.. for the shared options */
#define AUD_XOPT_LONGOPTS \
    {"model", required_argument, NULL, 0x200}, \
    {"data", required_argument, NULL, 0x201}, \
    {"method", required_argument, NULL, 0x202}, \
    {"background", required_argument, NULL, 0x203}, \
    {"background-rows", required_argument, NULL, 0x204}, \
    {"rows", required_argument, NULL, 0x205}, \
    {"samples", required_argument, NULL, 0x206}, \
    {"output", required_argument, NULL, 0x207}, \
    {"threads", required_argument, NULL, 0x208}, \
    {"seed", required_argument, NULL, 0x209}, \
    {"model-format", required_argument, NULL, 0x20a}, \
    {"out", required_argument, NULL, 0x20b}, \
    {"model-cmd", required_argument, NULL, 0x20c}, \
    {"model-features", required_argument, NULL, 0x20d}, \
    {"model-batch", required_argument, NULL, 0x20e}, \
    {"model-timeout", required_argument, NULL, 0x20f}, \
    {"model-max-rows", required_argument, NULL, 0x210}, \
    {"id", required_argument, NULL, 0x211}, \
    {"features", required_argument, NULL, 0x20d}, \
    {"model-protocol", required_argument, NULL, 0x212}, \
    {"categories", required_argument, NULL, 0x213}

#define AUD_XOPT_HELP \
    "  --model FILE         model file (XGBoost JSON, LightGBM text, linear JSON; required\n" \
    "                       unless --model-cmd)\n" \
    "  --model-format F     force the model format instead of detecting it\n" \
    "  --model-cmd 'PROG ARG...'  a model behind a command (no shell; docs/model-formats.md),\n" \
    "                       explained by --method kernel (auto) or exact\n" \
    "  --features LIST      comma-separated columns sent to --model-cmd (default: all; text\n" \
    "                       columns are sent as text; alias --model-features)\n" \
    "  --model-batch N      rows per batch sent to --model-cmd (default 100000)\n" \
    "  --model-timeout S    seconds allowed for one batch's answer, the program's start\n" \
    "                       included (default 30)\n" \
    "  --model-max-rows N   total rows --model-cmd may be asked for (default: unlimited)\n" \
    "  --model-protocol P   batch (default: the program runs once per batch, reading to end of\n" \
    "                       file) or session (runs once; batches end with an empty line)\n" \
    "  --categories FILE    category lists of the model's categorical features, in code order\n" \
    "                       (JSON {column: [...]}; docs/model-formats.md)\n" \
    "  --data FILE          CSV with the rows to explain (required)\n" \
    "  --method M           auto|tree|tree-interventional|linear|kernel|exact (default auto:\n" \
    "                       tree for tree models, linear for linear models)\n" \
    "  --rows N|A:B         explain the first N data rows, or rows A to B-1 (0-based)\n" \
    "  --background FILE    background rows for tree-interventional, linear, kernel, exact\n" \
    "                       (default: a sample of --data)\n" \
    "  --background-rows K  seeded sample of K background rows (default 100)\n" \
    "  --samples K          kernel: coalitions per row (default 2*M+2048, as shap)\n" \
    "  --output raw|probability  explained output (default raw margin; probability needs\n" \
    "                       kernel or exact)\n" \
    "  --threads T          worker threads (default: all cores); results do not depend on T\n" \
    "  --seed S             seed of background sampling and kernel coalitions (default 42)\n" \
    "  --out FILE           output CSV (default: stdout; - is stdout)\n" \
    "  --id COL             also write column COL of the data (a customer or case id) beside\n" \
    "                       each row's number\n"

typedef struct aud_xopts {
    const char *cmd;
    const char *model, *model_format, *data, *background, *rows, *out, *categories;
    const char *model_cmd, *model_features;   /* --model-cmd (models/model_cmd_int.h) */
    double model_batch, model_timeout, model_max_rows, model_protocol;  /* 0: unset */
    const char *id;          /* --id COL: the data column identifying a row, NULL = none */
    long background_rows;
    long samples;
    long seed;
    int threads;
    aud_shap_method method;
    aud_shap_output output;
    aud_csv_cli csv;
} aud_xopts;

void aud_xopts_init(aud_xopts *o, const char *cmd);
/* Handle option ch: 0 done, 2 usage error printed, -1 not one of these options. */
int  aud_xopts_option(aud_xopts *o, int ch, const char *arg);
void aud_xopts_free(aud_xopts *o);
/* After the option loop: no stray argument, --model and --data given. 0, or the usage error's
 * exit code with o freed. */
int  aud_xopts_finish(aud_xopts *o, const char *cmd, int argc, char **argv, int next);

/* Loaded and bound inputs. */
typedef struct aud_xsetup {
    aud_model *model;
    aud_table *data;
    aud_table *bgt;          /* --background table, NULL when sampled from --data */
    size_t     row_begin, row_end;
    long       id_col;       /* data column of --id, -1 = none */
    aud_explain_input in;    /* the explained rows bound (in.X), background, options */
} aud_xsetup;

/* Load model, data and background file, select rows, and prepare them (aud_explain_prepare). */
int  aud_xsetup_load(aud_xsetup *s, const aud_xopts *o, aud_error *err);
void aud_xsetup_free(aud_xsetup *s);

/* Name of model feature j (the model's, else the bound data column's). */
const char *aud_xsetup_feature(const aud_xsetup *s, size_t j);

/* Warn when the additivity error exceeds AUD_XADDITIVITY_WARN x max(1, max |output|): far above
 * float32 accumulation noise (XGBoost margins, ~1e-6 relative), so it points at a bug. */
#define AUD_XADDITIVITY_WARN 1e-4
void aud_xcheck_additivity(const aud_shap_result *r);

/* Shared by explain and reasons: check that --out overwrites no input, then (explain != 0)
 * explain the selected rows with progress on a terminal ("what" names the work). *r is the
 * caller's (aud_shap_result_free). */
int aud_xexplain(aud_xsetup *s, const aud_xopts *o, const char *what, int explain,
                 aud_shap_result **r, aud_error *err);

/* After a successful explanation by --model-cmd: the program must exit 0 when its input ends;
 * the number of calls is reported on stderr. AUD_OK for file models. */
int aud_xclose(aud_xsetup *s, const char *cmd, aud_error *err);

/* Exit code for rc; on an error print it, naming the model file when an explainer found the
 * model unsupported (the explainers do not know file names). */
int aud_xexit(const aud_xopts *o, int rc, aud_error *err);

/* The --id cell of data row `row` as one CSV field (nothing without --id; preceded by a
 * comma). */
void aud_xput_id(FILE *f, const aud_xsetup *s, size_t row);

/* Write s as one CSV field (RFC 4180 quoting when needed). */
void aud_csv_put_field(FILE *f, const char *s);

#endif
