/* cmd_reasons.c - `audit reasons` (SPEC sections 1 and 3): per row, the top K features pushing
 * the score toward the unfavourable outcome (adverse-action reason codes, ECOA / Regulation B),
 * from the row's SHAP values. CSV: row, then reason_k, value_k, contribution_k for k = 1..K,
 * blank where fewer than K features push that way. */
#include "audit/cmd_explain_int.h"

#include "audit/cli_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit reasons --model M|--model-cmd 'PROG ARG...' --data D.csv [options]\n"
    "\n"
    "Reason codes: for each row, the top K features whose SHAP values push the model's score\n"
    "toward the unfavourable outcome, with the feature's value and its contribution (raw margin\n"
    "unless --output probability). With --favorable 1 (default) an unfavourable push lowers the\n"
    "score (negative contribution); with --favorable 0 it raises it. Binary and regression models.\n"
    "\n"
    "Columns: `row` (0-based data row), the --id column when given, then reason_k, value_k\n"
    "and contribution_k.\n"
    "\n"
    "options:\n"
    "  --top K              reasons per row (default 4, at most 100)\n"
    "  --favorable 1|0      the favourable outcome (default 1; for a binary model a warning\n"
    "                       says which direction was assumed when it is not given)\n"
    AUD_XOPT_HELP
    CSV_OPTIONS_HELP
    "  --quiet              errors only\n"
    "  --help               this text\n";

/* The data column of model feature j when it holds text (categories), else NULL. */
static const aud_column *text_column(const aud_xsetup *s, size_t j)
{
    const char *name = aud_model_feature(s->model, j);
    const aud_table *t = s->data;
    for (size_t c = 0; c < t->n_cols; c++)
        if (name != NULL ? strcmp(t->cols[c].name, name) == 0 : c == j)
            return t->cols[c].type == AUD_COL_CATEGORICAL ? &t->cols[c] : NULL;
    return NULL;
}

static int write_reasons(FILE *f, const aud_xsetup *s, const aud_shap_result *r, size_t top,
                         int favorable, aud_error *err)
{
    size_t *feat = aud_calloc(top + 1, sizeof *feat);
    char num[32], cell[32];
    if (feat == NULL)
        return aud_error_nomem(err);
    fputs("row", f);
    if (s->id_col >= 0) {
        fputc(',', f);
        aud_csv_put_field(f, s->data->cols[s->id_col].name);
    }
    for (size_t k = 1; k <= top; k++)
        fprintf(f, ",reason_%zu,value_%zu,contribution_%zu", k, k, k);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
        size_t row = s->row_begin + i;
        size_t got = aud_shap_reasons(r, i, 0, favorable, top, feat);
        fprintf(f, "%zu", row);
        aud_xput_id(f, s, row);
        for (size_t k = 0; k < top; k++) {
            if (k >= got) {
                fputs(",,,", f);
                continue;
            }
            size_t j = feat[k];
            fputc(',', f);
            aud_csv_put_field(f, aud_xsetup_feature(s, j));
            fputc(',', f);
            /* a text column's category as the data has it (the model sees its code); else
             * the value as the model saw it: shortest exact decimal; NA when missing */
            const aud_column *tc = text_column(s, j);
            double x = s->in.X[i * r->n_features + j];
            if (tc != NULL)
                aud_csv_put_field(f, tc->codes[row] >= 0 ? tc->levels[tc->codes[row]] : "NA");
            else
                aud_csv_put_field(f, isnan(x) ? "NA" : aud_fmt_double(x, cell));
            fputc(',', f);
            fputs(aud_fmt_double(r->phi[i * r->stride + j], num), f);
        }
        fputc('\n', f);
    }
    aud_free(feat);
    return AUD_OK;
}

int aud_cmd_reasons(int argc, char **argv)
{
    static const struct option longopts[] = {
        AUD_XOPT_LONGOPTS,
        {"top", required_argument, NULL, 't'},
        {"favorable", required_argument, NULL, 'f'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    aud_xopts o;
    aud_xopts_init(&o, argv[0]);
    long top = 4, favorable = 1;
    int favorable_given = 0;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        int rc = 0;
        switch (ch) {
        case 't': rc = aud_cli_parse_long(argv[0], "--top", optarg, 1, 100, &top); break;
        case 'f':
            rc = aud_cli_parse_long(argv[0], "--favorable", optarg, 0, 1, &favorable);
            favorable_given = 1;
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            aud_xopts_free(&o);
            return AUD_EXIT_OK;
        case ':': rc = aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]); break;
        case '?': rc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]); break;
        default:
            rc = aud_xopts_option(&o, ch, optarg);
            if (rc < 0)
                rc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
        if (rc != 0) {
            aud_xopts_free(&o);
            return rc;
        }
    }
    int urc = aud_xopts_finish(&o, argv[0], argc, argv, optind);
    if (urc != 0)
        return urc;

    aud_error err;
    aud_error_clear(&err);
    aud_xsetup s;
    aud_shap_result *r = NULL;
    aud_out out;
    int opened = 0;
    int rc = aud_xsetup_load(&s, &o, &err);
    if (rc == AUD_OK && aud_model_outputs(s.model) != 1)
        rc = aud_error_set(&err, AUD_E_UNSUPPORTED, o.model ? o.model : "", 0, 0,
                           "reason codes need a single-output model (binary or regression); "
                           "this model has %zu outputs; use audit explain for per-class values",
                           aud_model_outputs(s.model));
    if (rc == AUD_OK && !favorable_given && aud_model_is_binary(s.model))
        /* a user once got risk-lowering factors as "reasons": say which way was assumed */
        aud_cli_warn("--favorable not given: assuming 1 is the favourable outcome, so the "
                     "reasons are the features that lower the score (the probability of label "
                     "1); if 1 is the bad outcome (default, fraud), use --favorable 0");
    if (rc == AUD_OK)
        rc = aud_xexplain(&s, &o, "reasons", 1, &r, &err);
    if (rc == AUD_OK)
        rc = aud_xclose(&s, argv[0], &err);
    if (rc == AUD_OK) {
        aud_cli_stage("write");
        rc = aud_out_open(&out, o.out, &err);
        opened = rc == AUD_OK;
    }
    if (rc == AUD_OK)
        rc = write_reasons(out.f, &s, r, (size_t)top, (int)favorable, &err);
    if (opened) {
        if (rc == AUD_OK)
            rc = aud_out_commit(&out, &err);
        else
            aud_out_abort(&out);
    }
    if (rc == AUD_OK)
        aud_xcheck_additivity(r);
    if (rc == AUD_OK)
        aud_cli_info("reason codes for %zu rows from method %s; additivity max error %.3g",
                     r->n_rows, aud_shap_method_name(r->method), r->additivity_max_error);
    aud_shap_result_free(r);
    aud_xsetup_free(&s);
    int code = aud_xexit(&o, rc, &err);
    aud_xopts_free(&o);
    return code;
}
