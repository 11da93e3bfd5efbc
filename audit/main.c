/* main.c - entry point of the `audit` CLI: dispatches to the commands of SPEC section 1. */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
} command;

static const command commands[] = {
    {"run", aud_cmd_run, "run SPEC.json [--out DIR]           full audit as the spec file says"},
    {"merge", aud_cmd_merge, "merge PART... [--out DIR]           outputs of run from shard partials"},
    {"profile", aud_cmd_profile, "profile --data D.csv [--json F]      column types, missing counts, statistics"},
    {"predict", aud_cmd_predict, "predict --model M --data D.csv       model predictions (CSV)"},
    {"explain", aud_cmd_explain, "explain --model M --data D.csv       SHAP attributions per row (CSV)"},
    {"reasons", aud_cmd_reasons, "reasons --model M --data D.csv       top reason codes per row (CSV)"},
    {"fairness", aud_cmd_fairness, "fairness --data D.csv --sensitive C  group fairness metrics"},
    {"drift", aud_cmd_drift, "drift --reference R --current C      drift statistics per column"},
    {"history", aud_cmd_history, "history DB.db [--json|--csv]         check values over time, trends"},
    {"sign", aud_cmd_sign, "sign DIR --key PRIV.pem              Ed25519-signed manifest of the outputs"},
    {"verify", aud_cmd_verify, "verify DIR --key PUB.pem             check the signature and every file"},
    {"report", aud_cmd_report, "report results.json [--pdf F] [--xlsx F]  render PDF/XLSX reports"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: audit COMMAND [options]\n\n"
               "Explainability, fairness and drift audits of trained models on tabular data.\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  audit %s\n", commands[i].synopsis);
    fprintf(f, "\n"
               "  audit --help | audit COMMAND --help | audit --version\n\n"
               "global options: --quiet (errors only)\n"
               "exit codes: 0 done and every policy check passed; 1 done, a policy check failed;\n"
               "            2 usage or input error; 3 internal error\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* numbers in every output (CSV, JSON, tables) use '.' whatever the user's locale */
    setlocale(LC_NUMERIC, "C");
    aud_global_init();
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return AUD_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("audit %s\n", AUD_VERSION);
            return AUD_EXIT_OK;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            aud_cli_quiet = 1;
            i++;
            continue;
        }
        fprintf(stderr, "audit: unknown option '%s'\naudit: try 'audit --help'\n", a);
        return AUD_EXIT_INPUT;
    }
    if (i >= argc) {
        usage(stderr);
        return AUD_EXIT_INPUT;
    }
    for (size_t c = 0; c < N_COMMANDS; c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            int rc = commands[c].run(argc - i, argv + i);
            aud_cli_stage_done();   /* --verbose: the last stage and the totals */
            return rc;
        }
    }
    fprintf(stderr, "audit: unknown command '%s'\naudit: try 'audit --help'\n", argv[i]);
    return AUD_EXIT_INPUT;
}
