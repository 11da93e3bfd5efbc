/* cmd_report.c - `audit report results.json [--pdf F] [--xlsx F]` (SPEC sections 1 and 5):
 * re-render the PDF and XLSX reports from a results document. */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: audit report results.json [--pdf report.pdf] [--xlsx report.xlsx]\n"
    "\n"
    "Render the audit reports from a results document (results.json, schema "
    AUD_SCHEMA_VERSION ").\n"
    "The reports show only what results.json holds; nothing is recomputed.\n"
    "\n"
    "options:\n"
    "  --pdf FILE    write the A4 PDF report (embedded DejaVu Sans font)\n"
    "  --xlsx FILE   write the Excel workbook (Summary, Explanations, Attributions, Fairness,\n"
    "                Intersections, Drift, Performance, Data when there is a profile,\n"
    "                Provenance)\n"
    "  --max-groups N\n"
    "                groups the PDF shows per attribute or intersection (default 20: groups\n"
    "                below four fifths first, then by size; the rest are counted). Every group\n"
    "                stays in results.json and the XLSX\n"
    "  --check       only validate results.json (no output); when the explained rows are in\n"
    "                a file beside it (explanations.explained_rows_file), check that the\n"
    "                file is there with the recorded size\n"
    "  --quiet       errors only\n"
    "  -h, --help    show this help\n"
    "\n"
    "The XLSX sheet Attributions shows at most 100,000 explained rows (5,000,000 cells), read from the\n"
    "explained-rows file beside results.json when the run wrote one; a note under the table\n"
    "says where all of them are.\n"
    "Each output is written atomically (temporary file beside it, then rename).\n"
    "exit codes: 0 reports written; 2 usage error or malformed / old-schema results.json;\n"
    "            3 internal error. The audit's verdict does not change the exit code\n"
    "            (`audit run` exits 1 on a failed check).\n";

/* The explained-rows file `name` (a plain file name, checked by the validation) in the folder
 * of results.json: "out/run1/results.json" -> "out/run1/explained_rows.jsonl". aud_free. */
static char *rows_file_path(const char *results, const char *name)
{
    const char *slash = strrchr(results, '/');
    size_t dir = slash != NULL ? (size_t)(slash - results) + 1 : 0;
    size_t n = dir + strlen(name) + 1;
    char *p = aud_malloc(n);
    if (p != NULL) {
        memcpy(p, results, dir);
        memcpy(p + dir, name, strlen(name) + 1);
    }
    return p;
}

int aud_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"pdf", required_argument, NULL, 'p'},
                                         {"xlsx", required_argument, NULL, 'x'},
                                         {"check", no_argument, NULL, 'c'},
                                         {"max-groups", required_argument, NULL, 'g'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *pdf = NULL, *xlsx = NULL;
    int check_only = 0, c;
    long max_groups = 0;
    aud_error err;
    cJSON *doc = NULL;
    char *rows_path = NULL;
    int rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            pdf = optarg;
            break;
        case 'x':
            xlsx = optarg;
            break;
        case 'c':
            check_only = 1;
            break;
        case 'g':
            c = aud_cli_parse_long("report", "--max-groups", optarg, 1, 100000L, &max_groups);
            if (c != 0)
                return c;
            break;
        case 'q':
            aud_cli_quiet = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return AUD_EXIT_OK;
        case ':':
            return aud_cli_usage("report", "option '%s' needs a value", argv[optind - 1]);
        default:
            return aud_cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return aud_cli_usage("report", "missing results.json");
    if (optind + 1 < argc)
        return aud_cli_usage("report", "unexpected argument '%s'", argv[optind + 1]);
    if (pdf == NULL && xlsx == NULL && !check_only)
        return aud_cli_usage("report", "nothing to do: give --pdf FILE and/or --xlsx FILE");
    if (pdf != NULL && xlsx != NULL && strcmp(pdf, xlsx) == 0)
        return aud_cli_usage("report", "--pdf and --xlsx name the same file");
    if ((pdf != NULL && strcmp(pdf, argv[optind]) == 0) ||
        (xlsx != NULL && strcmp(xlsx, argv[optind]) == 0))
        return aud_cli_usage("report", "an output would overwrite the input %s", argv[optind]);

    aud_error_clear(&err);
    rc = aud_report_load(argv[optind], &doc, &err);
    if (rc == AUD_OK && aud_report_rows_file(doc) != NULL) {
        rows_path = rows_file_path(argv[optind], aud_report_rows_file(doc));
        if (rows_path == NULL)
            rc = aud_error_nomem(&err);
        else if (check_only)
            rc = aud_report_check_rows_file(doc, rows_path, &err);
    }
    if (rc == AUD_OK && max_groups > 0)
        rc = aud_report_set_max_groups(doc, max_groups, &err);
    if (rc == AUD_OK && pdf != NULL)
        rc = aud_report_write_pdf(doc, pdf, &err);
    if (rc == AUD_OK && xlsx != NULL)
        rc = aud_report_write_xlsx_rows(doc, xlsx, rows_path, &err);
    cJSON_Delete(doc);
    aud_free(rows_path);
    if (rc != AUD_OK)
        return aud_cli_fail(&err);
    if (pdf != NULL)
        aud_cli_info("wrote %s", pdf);
    if (xlsx != NULL)
        aud_cli_info("wrote %s", xlsx);
    return AUD_EXIT_OK;
}
