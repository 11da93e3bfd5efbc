/* cmd_run.c - `audit run SPEC.json [--out DIR]`: the full audit of SPEC section 4. Exit 0 when
 * every check passed, 1 when a check failed, 2 for input errors, 3 for internal errors. */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit run SPEC.json [--out DIR] [options]\n"
    "\n"
    "Runs the audit described by a JSON spec file (docs/spec-file.md): predictions, SHAP\n"
    "explanations, group fairness, drift against a reference period and model performance;\n"
    "evaluates the spec's policy checks and writes results.json, the PDF and XLSX reports and\n"
    "the run log. Every output is written to a temporary file and renamed into place; on any\n"
    "error no output is left behind (a folder the run made is removed again) except the run\n"
    "log's line recording the failure, when the spec asks for a log; input files are never\n"
    "overwritten.\n"
    "\n"
    "options:\n"
    "  --out DIR      output folder (overrides the spec's outputs.dir)\n"
    "  --threads T    worker threads (default: the spec's, else all cores); results.json does\n"
    "                 not depend on it\n"
    "  --created TIME provenance.created, UTC YYYY-MM-DDTHH:MM:SSZ (default: now); fixed, it\n"
    "                 makes results.json and the reports byte-identical for the same inputs\n"
    "  --history DB   append the run to this SQLite run history (overrides the spec's\n"
    "                 \"history\"; docs/history.md); the reports gain a Trends section\n"
    "  --sign-key PRIV.pem  sign the outputs like `audit sign` (Ed25519 manifest beside\n"
    "                 them); results.json and the PDF cover state the key's fingerprint\n"
    "  --shard I/N    write only the partial of shard I (0-based) of N, DIR/partial-I-of-N.audpart,\n"
    "                 from the I-th of N blocks of the data file's rows; `audit merge` turns\n"
    "                 the N partials into the outputs (docs/scale-out.md)\n"
    "  --site         with --shard: the spec's data file is this shard's rows (one site of a\n"
    "                 federated audit) instead of a block of them\n"
    "  --min-cell K   with --shard: cells counted fewer than K times are suppressed from the\n"
    "                 partial and reported as suppressed (default 1: none)\n"
    "  --verbose      per-step wall, CPU and serial time, serial share, Amdahl speed-up at 16\n"
    "                 threads and peak memory on stderr (on a terminal the current step is\n"
    "                 shown)\n"
    "  --quiet        errors only\n"
    "  --help         this text\n"
    "\n"
    "exit codes: 0 every check passed; 1 a check failed; 2 usage or input error;\n"
    "            3 internal error\n";

typedef struct progress {
    int verbose;    /* --verbose: every step's time */
    int terminal;   /* stderr is a terminal: show the step being worked on */
} progress;

/* A step starts (seconds < 0) or ends (its seconds): --verbose prints each step as the next
 * starts (aud_cli_stage: wall, CPU and serial time; so the steps cover the whole run), the
 * totals and peak memory at "total". */
static void on_progress(void *ctx, const char *step, double seconds)
{
    const progress *p = ctx;
    if (seconds < 0.0) {
        if (p->verbose)
            aud_cli_stage(step);
        else if (p->terminal)
            fprintf(stderr, "\raudit: %-14s\033[K", step);
        return;
    }
    if (p->verbose && strcmp(step, "total") == 0)   /* a step lasts until the next starts */
        aud_cli_stage_done();
    else if (!p->verbose && p->terminal && strcmp(step, "total") == 0)
        fputs("\r\033[K", stderr);
}

/* Prints the verdict line of a run or a merge; returns its exit code (0 PASS, 1 FAIL). */
int aud_cli_verdict(const aud_run_outcome *res)
{
    if (res->n_failed > 0) {
        aud_cli_info("verdict: FAIL (%zu of %zu checks failed); results in %s", res->n_failed,
                     res->n_checks, res->results_path);
        return AUD_EXIT_CHECK;
    }
    aud_cli_info("verdict: PASS (%zu checks); results in %s", res->n_checks, res->results_path);
    return AUD_EXIT_OK;
}

int aud_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"created", required_argument, NULL, 'c'},
        {"history", required_argument, NULL, 'H'},
        {"sign-key", required_argument, NULL, 'S'},
        {"shard", required_argument, NULL, 'D'},
        {"site", no_argument, NULL, 's'},
        {"min-cell", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    aud_run_opts o = {0};
    progress prog = {0, 0};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.out_dir = optarg; break;
        case 't':
            if (aud_cli_parse_threads(argv[0], optarg, &o.threads) != 0)
                return AUD_EXIT_INPUT;
            break;
        case 'v':
            prog.verbose = 1;
            aud_cli_verbose_on();
            break;
        case 'c':
            if (aud_cli_parse_created(argv[0], optarg, &o.created) != 0)
                return AUD_EXIT_INPUT;
            break;
        case 'H': o.history = optarg; break;
        case 'S': o.sign_key = optarg; break;
        case 'D': {
            char tail;
            if (sscanf(optarg, "%d/%d%c", &o.shard_index, &o.shard_count, &tail) != 2 ||
                o.shard_count < 1 || o.shard_count > 1000000 || o.shard_index < 0 ||
                o.shard_index >= o.shard_count)
                return aud_cli_usage(argv[0], "--shard needs I/N with 0 <= I < N, not '%s'",
                                     optarg);
            break;
        }
        case 's': o.shard_site = 1; break;
        case 'm': {
            char tail;
            if (sscanf(optarg, "%ld%c", &o.min_cell, &tail) != 1 || o.min_cell < 1)
                return aud_cli_usage(argv[0], "--min-cell needs a whole number >= 1, not '%s'",
                                     optarg);
            break;
        }
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return AUD_EXIT_OK;
        case ':': return aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
        default: return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return aud_cli_usage(argv[0], "the spec file is required");
    if (optind + 1 < argc)
        return aud_cli_usage(argv[0], "unexpected argument '%s'", argv[optind + 1]);
    o.spec_path = argv[optind];
    prog.terminal = aud_cli_progress_enabled();
    if (prog.verbose || prog.terminal) {
        o.progress = on_progress;
        o.progress_ctx = &prog;
    }
    aud_error err;
    aud_error_clear(&err);
    aud_run_outcome res = {0};
    if ((o.shard_site || o.min_cell > 0) && o.shard_count == 0)
        return aud_cli_usage(argv[0], "--site and --min-cell need --shard I/N");
    int rc = aud_run(&o, &res, &err);
    if (rc != AUD_OK)
        return aud_cli_fail(&err);
    if (o.shard_count > 0) {
        aud_cli_info("partial %d of %d written to %s", o.shard_index, o.shard_count,
                     res.results_path);
        return AUD_EXIT_OK;
    }
    return aud_cli_verdict(&res);
}
