/* cmd_merge.c - `audit merge PART... [--out DIR]`: the outputs of `audit run` from the partials
 * of `audit run --shard` (SPEC section 9, docs/scale-out.md). Exit codes as `audit run`. */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit merge PART.audpart... [--out DIR] [options]\n"
    "\n"
    "Merges the partials that `audit run SPEC --shard I/N` wrote, one per shard, into the\n"
    "outputs of `audit run SPEC` (results.json, the PDF and XLSX reports, the run log), with\n"
    "the spec the partials carry. Every shard must be given exactly once, all of one spec,\n"
    "model and reference. The figures equal those of a single run on all the rows, up to the\n"
    "order of floating-point sums; the global views are not merged, nor the drivers of\n"
    "sampled methods from sites' partials or partials with --min-cell above 1\n"
    "(docs/scale-out.md).\n"
    "\n"
    "options:\n"
    "  --out DIR      output folder (default: the spec's outputs.dir)\n"
    "  --threads T    worker threads (default: the spec's, else all cores)\n"
    "  --created TIME provenance.created, UTC YYYY-MM-DDTHH:MM:SSZ (default: now)\n"
    "  --quiet        errors only\n"
    "  --verbose      per-step wall, CPU and serial time (the merge's cost, step by step)\n"
    "  --help         this text\n"
    "\n"
    "exit codes: 0 every check passed; 1 a check failed; 2 usage or input error;\n"
    "            3 internal error\n";

/* --verbose: every step of the merge as the next starts (aud_cli_stage), the totals at the end */
static void on_step(void *ctx, const char *step, double seconds)
{
    (void)ctx;
    if (seconds < 0.0)
        aud_cli_stage(step);
    else if (strcmp(step, "total") == 0)
        aud_cli_stage_done();
}

int aud_cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"created", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    aud_run_opts o = {0};
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
        case 'c':
            if (aud_cli_parse_created(argv[0], optarg, &o.created) != 0)
                return AUD_EXIT_INPUT;
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'v':
            aud_cli_verbose_on();
            o.progress = on_step;
            break;
        case 'h': fputs(usage_text, stdout); return AUD_EXIT_OK;
        case ':': return aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
        default: return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return aud_cli_usage(argv[0], "at least one partial is required");
    o.merge_parts = (const char *const *)argv + optind;
    o.n_merge_parts = (size_t)(argc - optind);
    aud_error err;
    aud_error_clear(&err);
    aud_run_outcome res = {0};
    if (aud_run(&o, &res, &err) != AUD_OK)
        return aud_cli_fail(&err);
    return aud_cli_verdict(&res);
}
