/* cmd_profile.c - `audit profile --data D.csv [--json out.json]`: column types, missing counts and
 * summary statistics (SPEC section 1; JSON "profile" of SPEC section 5). */
#include "audit/audit.h"
#include "audit/cli_int.h"
#include "audit/csvopt_int.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: audit profile --data D.csv [--json out.json] [--save REF.profile] [options]\n"
    "\n"
    "Reads a CSV file and prints, per column, its type (numeric or categorical), missing count and\n"
    "summary statistics: min, max, mean, std (sample, ddof 1), quantiles 5/25/50/75/95% (numpy\n"
    "'linear'); for categorical columns the counts of the 50 most frequent categories.\n"
    "\n"
    "options:\n"
    "  --data FILE          CSV file to profile (required; - reads stdin)\n"
    "  --json FILE          also write the JSON document (schema of docs/results-schema.md):\n"
    "                       \"provenance\" (the data file's path, SHA-256, rows, columns) and\n"
    "                       \"profile\"\n"
    "  --save FILE          also write a reference profile: a compact, versioned summary of\n"
    "                       every column (category counts; numeric: exact counts over 1024\n"
    "                       bins, a quantile summary with exact ranks at 1024+ points,\n"
    "                       moments, missing counts; the data's SHA-256) that `audit drift\n"
    "                       --reference` and the spec's \"reference\" accept instead of the\n"
    "                       CSV (docs/drift.md \"Reference profiles\")\n"
    AUD_CLI_CREATED_HELP
    CSV_OPTIONS_HELP
    "  --threads T          threads for reading and statistics (default: all cores; the\n"
    "                       figures do not depend on it; --csv-threads overrides the reading)\n"
    "  --quiet              errors only\n"
    "  --help               this text\n";

static void print_table(const aud_profile *p)
{
    const aud_table *t = p->table;
    printf("%s: %zu rows, %zu columns\n\n", t->path, t->n_rows, t->n_cols);
    size_t w = 24;   /* widened to the longest name: never cut */
    for (size_t j = 0; j < t->n_cols; j++)
        if (aud_cli_text_width(t->cols[j].name) > w)
            w = aud_cli_text_width(t->cols[j].name);
    aud_cli_print_cell("column", w);
    printf(" %-11s %8s %12s %12s %12s %12s %12s\n", "type", "missing", "min", "median", "max",
           "mean", "std");
    for (size_t j = 0; j < t->n_cols; j++) {
        const aud_column *c = &t->cols[j];
        const aud_col_profile *cp = &p->cols[j];
        aud_cli_print_cell(c->name, w);
        if (c->type == AUD_COL_NUMERIC) {
            printf(" %-11s %8zu %12.6g %12.6g %12.6g %12.6g %12.6g\n", "numeric", c->n_missing,
                   cp->min, cp->quantiles[2], cp->max, cp->mean, cp->std);
        } else {
            printf(" %-11s %8zu  %zu categories:", "categorical", c->n_missing, c->n_levels);
            for (size_t k = 0; k < c->n_levels && k < 5; k++)
                printf(" %s (%zu)%s", c->levels[cp->order[k]], cp->counts[cp->order[k]],
                       k + 1 < c->n_levels && k < 4 ? "," : "");
            printf("%s\n", c->n_levels > 5 ? " ..." : "");
        }
    }
}

int aud_cmd_profile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"json", required_argument, NULL, 'j'},
        {"save", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"created", required_argument, NULL, 'c'},
        CSV_OPTIONS_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *json = NULL, *created = NULL, *save = NULL;
    int threads = 0, csv_threads_given = 0;
    aud_csv_cli csv;
    aud_csv_cli_init(&csv);
    optind = 1;
    opterr = 0;
    int ch, urc = 0;   /* urc: exit code of a usage error (-1: --help), the CSV options freed */
    while (urc == 0 && (ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'j': json = optarg; break;
        case 's': save = optarg; break;
        case 't':
            urc = aud_cli_parse_threads(argv[0], optarg, &threads) != 0 ? AUD_EXIT_INPUT : 0;
            break;
        case 'c':
            urc = aud_cli_parse_created(argv[0], optarg, &created) != 0 ? AUD_EXIT_INPUT : 0;
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(usage_text, stdout); urc = -1; break;
        case ':':
            urc = aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
            break;
        case '?': urc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]); break;
        default:
            csv_threads_given |= ch == 0x103;
            urc = aud_csv_cli_option(&csv, argv[0], ch, optarg);
            if (urc < 0)
                urc = aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (urc == 0 && optind < argc)
        urc = aud_cli_usage(argv[0], "unexpected argument '%s'", argv[optind]);
    if (urc == 0 && data == NULL)
        urc = aud_cli_usage(argv[0], "--data is required");
    if (urc != 0) {
        aud_csv_cli_free(&csv);
        return urc < 0 ? AUD_EXIT_OK : urc;
    }

    if (threads > 0 && !csv_threads_given)
        csv.opts.threads = threads;
    aud_error err;
    aud_error_clear(&err);
    aud_table *t = NULL;
    aud_profile *p = NULL;
    cJSON *doc = NULL, *prov = NULL;
    aud_hash_ahead hash;
    memset(&hash, 0, sizeof hash);
    const char *inputs[] = {data};
    int rc = aud_guard_output(json, inputs, 1, &err);
    if (rc == AUD_OK && save != NULL)
        rc = aud_guard_output(save, inputs, 1, &err);
    if (rc == AUD_OK && save != NULL && strcmp(save, "-") == 0)
        rc = aud_error_set(&err, AUD_E_USAGE, NULL, 0, 0, "--save needs a file name");
    /* hash the data while it is read and profiled (a reading error is reported first: an early
     * error's join below discards the hash's own) */
    if (rc == AUD_OK && (json != NULL || save != NULL))
        aud_hash_ahead_start(&hash, data);
    aud_cli_stage("read CSV");
    if (rc == AUD_OK)
        rc = aud_csv_cli_load(&csv, &t, data, &err);
    aud_cli_stage("profile");
    if (rc == AUD_OK)
        rc = aud_profile_compute(&p, t, threads, &err);
    aud_cli_stage("write");
    if (rc == AUD_OK && json != NULL) {
        rc = aud_prov_doc_new(&doc, &prov, "profile", created, &err);
        if (rc == AUD_OK)
            rc = aud_hash_ahead_join(&hash, &err);
        if (rc == AUD_OK)
            rc = aud_prov_add_input_hashed(prov, "data", data, hash.hex, t, NULL, &err);
        if (rc == AUD_OK)
            rc = aud_profile_to_json(p, doc, &err);
        if (rc == AUD_OK)
            rc = aud_json_write(doc, json, &err);
    }
    if (rc == AUD_OK && save != NULL) {
        aud_refprof *rp = NULL;
        rc = aud_hash_ahead_join(&hash, &err);
        if (rc == AUD_OK)
            rc = aud_refprof_build(&rp, t, data, hash.hex[0] ? hash.hex : NULL, &err);
        if (rc == AUD_OK)
            rc = aud_refprof_save(rp, save, created, &err);
        aud_refprof_free(rp);
    }
    aud_hash_ahead_join(&hash, NULL);   /* an early error: the thread must still end */
    for (size_t j = 0; rc == AUD_OK && j < t->n_cols; j++)
        if (t->cols[j].n_same > 0)
            aud_cli_warn("%s: column %zu: \"%s\" names %zu columns; they are kept apart, and "
                         "using the name is an error", data, j + 1, t->cols[j].name,
                         t->cols[j].n_same + 1);
    if (rc == AUD_OK && !(json != NULL && strcmp(json, "-") == 0))
        print_table(p);
    cJSON_Delete(doc);
    aud_profile_free(p);
    aud_table_free(t);
    aud_csv_cli_free(&csv);
    return rc == AUD_OK ? AUD_EXIT_OK : aud_cli_fail(&err);
}
