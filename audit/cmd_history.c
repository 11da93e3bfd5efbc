/* cmd_history.c - `audit history DB` (each check's values over time with a trend statement)
 * and `audit history import RUNS.jsonl --db DB` (SPEC section 8, docs/history.md). */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: audit history DB.db [--check METRIC] [--attribute A] [--group G] [--column C]\n"
    "                           [--since DATE] [--runs N] [--k K] [--json | --csv]\n"
    "       audit history import RUNS.jsonl --db DB.db\n"
    "\n"
    "Reads the run history that `audit run --history DB.db` appends to (docs/history.md): the\n"
    "value of every policy check at every run, with a trend statement per check (Mann-Kendall\n"
    "test and Sen's slope with its 95% interval over run order) and a flag when the value got\n"
    "worse at each of the last K runs. `import` adds the runs of a run log (runs.jsonl): in full\n"
    "when the results.json a line names still exists unchanged, else the line's verdict only.\n"
    "\n"
    "options:\n"
    "  --check METRIC   only this metric (e.g. disparate_impact)\n"
    "  --attribute A    only rows of this attribute (or intersection \"a&b\")\n"
    "  --group G        only rows of this group\n"
    "  --column C       only rows of this drift column\n"
    "  --since DATE     only runs created at or after DATE (YYYY-MM-DD[THH:MM[:SS]Z])\n"
    "  --runs N         only the latest N runs\n"
    "  --k K            the \"worse in each of the last K runs\" flag (default 3)\n"
    "  --json           the JSON document of SPEC section 8 on stdout\n"
    "  --csv            one row per check and run on stdout\n"
    AUD_CLI_CREATED_HELP
    "  --quiet          errors only\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit codes: 0 done; 2 usage or input error (missing or foreign database, bad run log);\n"
    "            3 internal error\n";

static int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(help, stdout); return AUD_EXIT_OK;
        case ':': return aud_cli_usage("history", "option '%s' needs a value", argv[optind - 1]);
        default: return aud_cli_usage("history", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return aud_cli_usage("history", "import needs the run log (runs.jsonl)");
    if (optind + 1 < argc)
        return aud_cli_usage("history", "unexpected argument '%s'", argv[optind + 1]);
    if (db == NULL)
        return aud_cli_usage("history", "import needs --db DB.db");
    aud_error err;
    aud_error_clear(&err);
    aud_history *h = NULL;
    aud_history_import_stats st;
    int rc = aud_history_open(&h, db, 1, &err);
    if (rc == AUD_OK)
        rc = aud_history_import(h, argv[optind], &st, &err);
    aud_history_close(h);
    if (rc != AUD_OK)
        return aud_cli_fail(&err);
    aud_cli_info("imported %zu runs in full, %zu from the log line alone; %zu already present, "
                 "%zu error runs skipped",
                 st.full, st.summary, st.present, st.skipped);
    return AUD_EXIT_OK;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsRaw(v) && strcmp(v->valuestring, "null") != 0)
        return aud_strtod_c(v->valuestring, NULL);
    return NAN;
}

static void csv_field(const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void csv_num(double v)
{
    char buf[32];
    if (isfinite(v))
        fputs(aud_fmt_double(v, buf), stdout);
}

static const char *verdict_of(const cJSON *runs, const cJSON *v)
{
    const cJSON *r;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "run");
    cJSON_ArrayForEach(r, runs) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (cJSON_IsNull(id) ? cJSON_IsNull(rid) : num_of(r, "id") == num_of(v, "run"))
            return str_of(r, "verdict");
    }
    return NULL;
}

static void print_csv(const cJSON *doc)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    puts("run,created,verdict,metric,attribute,group,column,value,passed,min,max,"
         "trend_direction,trend_p_value,sen_slope,worsening,worse_each_of_last_k");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "checks")) {
        const cJSON *bound = cJSON_GetObjectItemCaseSensitive(c, "bound");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "trend");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(t, "worsening");
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, "values")) {
            csv_num(num_of(v, "run"));
            putchar(',');
            csv_field(str_of(v, "created"));
            putchar(',');
            csv_field(verdict_of(runs, v));
            const char *keys[] = {"metric", "attribute", "group", "column"};
            for (int k = 0; k < 4; k++) {
                putchar(',');
                csv_field(str_of(c, keys[k]));
            }
            putchar(',');
            csv_num(num_of(v, "value"));
            printf(",%s,", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "passed")) ? "true"
                                                                                      : "false");
            csv_num(num_of(bound, "min"));
            putchar(',');
            csv_num(num_of(bound, "max"));
            printf(",%s,", str_of(t, "direction"));
            csv_num(num_of(t, "p_value"));
            putchar(',');
            csv_num(num_of(t, "sen_slope"));
            printf(",%s,%s\n", cJSON_IsBool(w) ? (cJSON_IsTrue(w) ? "true" : "false") : "",
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "worse_each_of_last_k"))
                       ? "true"
                       : "false");
        }
    }
}

static void print_text(const cJSON *doc)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    int n = cJSON_GetArraySize(runs);
    if (n == 0) {
        puts("no runs");
        return;
    }
    printf("%d run%s, %s to %s\n", n, n == 1 ? "" : "s",
           str_of(cJSON_GetArrayItem(runs, 0), "created"),
           str_of(cJSON_GetArrayItem(runs, n - 1), "created"));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "checks")) {
        char b[32];
        printf("\n%s", str_of(c, "metric"));
        const char *keys[] = {"attribute", "group", "column"};
        for (int k = 0; k < 3; k++) {
            if (str_of(c, keys[k]) != NULL)
                printf(" %s=%s", keys[k], str_of(c, keys[k]));
        }
        const cJSON *bound = cJSON_GetObjectItemCaseSensitive(c, "bound");
        if (isfinite(num_of(bound, "min")))
            printf(" (min %s)", aud_fmt_double(num_of(bound, "min"), b));
        if (isfinite(num_of(bound, "max")))
            printf(" (max %s)", aud_fmt_double(num_of(bound, "max"), b));
        fputs("\n  values:", stdout);
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(c, "values");
        int nv = cJSON_GetArraySize(vals), first = nv > 12 ? nv - 12 : 0;
        if (first > 0)
            fputs(" ...", stdout);
        for (int i = first; i < nv; i++) {
            const cJSON *v = cJSON_GetArrayItem(vals, i);
            double x = num_of(v, "value");
            if (isfinite(x))
                printf(" %.4g", x);
            else
                fputs(" n/a", stdout);
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "passed")))
                putchar('!');
        }
        printf("\n  trend: %s\n",
               str_of(cJSON_GetObjectItemCaseSensitive(c, "trend"), "statement"));
    }
}

int aud_cmd_history(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    static const struct option opts[] = {{"check", required_argument, NULL, 'm'},
                                         {"attribute", required_argument, NULL, 'a'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"column", required_argument, NULL, 'C'},
                                         {"since", required_argument, NULL, 's'},
                                         {"runs", required_argument, NULL, 'n'},
                                         {"k", required_argument, NULL, 'k'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"csv", no_argument, NULL, 'v'},
                                         {"created", required_argument, NULL, 'c'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    aud_history_query q = {.k = 3, .confidence = 0.95};
    const char *created = NULL;
    int json = 0, csv = 0, c;
    long lv;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': q.metric = optarg; break;
        case 'a': q.attribute = optarg; break;
        case 'g': q.group = optarg; break;
        case 'C': q.column = optarg; break;
        case 's':
            if (!aud_history_since_valid(optarg))
                return aud_cli_usage(argv[0], "--since expects YYYY-MM-DD[THH:MM[:SS]Z], not "
                                              "'%s'", optarg);
            q.since = optarg;
            break;
        case 'n':
            if (aud_cli_parse_long(argv[0], "--runs", optarg, 1, 1000000000L, &lv) != 0)
                return AUD_EXIT_INPUT;
            q.last_runs = (size_t)lv;
            break;
        case 'k':
            if (aud_cli_parse_long(argv[0], "--k", optarg, 1, 1000, &lv) != 0)
                return AUD_EXIT_INPUT;
            q.k = (int)lv;
            break;
        case 'j': json = 1; break;
        case 'v': csv = 1; break;
        case 'c':
            if (aud_cli_parse_created(argv[0], optarg, &created) != 0)
                return AUD_EXIT_INPUT;
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(help, stdout); return AUD_EXIT_OK;
        case ':': return aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
        default: return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (json && csv)
        return aud_cli_usage(argv[0], "give --json or --csv, not both");
    if (optind >= argc)
        return aud_cli_usage(argv[0], "the history database is required");
    if (optind + 1 < argc)
        return aud_cli_usage(argv[0], "unexpected argument '%s'", argv[optind + 1]);
    aud_error err;
    aud_error_clear(&err);
    aud_history *h = NULL;
    cJSON *series = NULL, *doc = NULL, *prov = NULL;
    int rc = aud_history_open(&h, argv[optind], 0, &err);
    if (rc == AUD_OK)
        rc = aud_history_series(h, &q, NULL, &series, &err);
    aud_history_close(h);
    if (rc == AUD_OK && json)
        rc = aud_prov_doc_new(&doc, &prov, "history", created, &err);
    if (rc == AUD_OK && json) {
        cJSON *db = cJSON_CreateObject();
        if (db == NULL || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(prov, "inputs"),
                                                db) ||
            cJSON_AddStringToObject(db, "role", "history") == NULL ||
            cJSON_AddStringToObject(db, "path", argv[optind]) == NULL) {
            if (db != NULL && db->prev == NULL)
                cJSON_Delete(db);
            rc = aud_error_nomem(&err);
        }
        for (cJSON *it = series->child; rc == AUD_OK && it != NULL;) {
            cJSON *next = it->next;
            cJSON *moved = cJSON_DetachItemViaPointer(series, it);
            if (!cJSON_AddItemToObject(doc, moved->string, moved)) {
                cJSON_Delete(moved);
                rc = aud_error_nomem(&err);
            }
            it = next;
        }
    }
    if (rc == AUD_OK) {
        if (json)
            rc = aud_json_write(doc, "-", &err);
        else if (csv)
            print_csv(series);
        else
            print_text(series);
    }
    cJSON_Delete(series);
    cJSON_Delete(doc);
    if (rc != AUD_OK)
        return aud_cli_fail(&err);
    return fflush(stdout) == 0 ? AUD_EXIT_OK : AUD_EXIT_INTERNAL;
}
