/* csvopt.h - the CSV reading options every command that reads data accepts:
 * --delimiter C, --na TOKENS, --max-field-bytes N, --csv-threads T, and the dialect of files as
 * people have them: --no-header, --names, --skip-rows, --comment, --keep-spaces; and --verbose
 * (per-stage timings, audit/cli_int.h), which every command reading data takes too. */
#ifndef AUD_CSVOPT_H
#define AUD_CSVOPT_H

#include "audit/audit.h"

#define CSV_OPTIONS_HELP \
    "  --delimiter C        field delimiter (default ','; 'tab' for a tab)\n" \
    "  --na LIST            comma-separated missing-value tokens (default: empty,NA,NaN,nan,null,?)\n" \
    "  --max-field-bytes N  longest field accepted (default 1048576)\n" \
    "  --csv-threads T      threads reading large CSV files (default: all cores; 1 = one)\n" \
    "  --no-header          the file has no header row: columns are named col1, col2, ...\n" \
    "  --names LIST         comma-separated column names; the file has no header row\n" \
    "  --skip-rows N        skip N lines at the start (banners), before the header\n" \
    "  --comment C          skip lines that start with character C\n" \
    "  --keep-spaces        keep spaces around unquoted fields (default: trimmed)\n" \
    "  --verbose            per-stage wall, CPU and serial time, serial share, Amdahl speed-up\n" \
    "                       at 16 threads and peak memory on stderr\n"

/* getopt_long entries; values 0x100.. are reserved for these options. */
#define CSV_OPTIONS_LONGOPTS \
    {"delimiter", required_argument, NULL, 0x100}, \
    {"na", required_argument, NULL, 0x101}, \
    {"max-field-bytes", required_argument, NULL, 0x102}, \
    {"csv-threads", required_argument, NULL, 0x103}, \
    {"no-header", no_argument, NULL, 0x104}, \
    {"names", required_argument, NULL, 0x105}, \
    {"skip-rows", required_argument, NULL, 0x106}, \
    {"comment", required_argument, NULL, 0x107}, \
    {"keep-spaces", no_argument, NULL, 0x108}, \
    {"verbose", no_argument, NULL, 0x109}

typedef struct aud_csv_cli {
    aud_csv_opts opts;
    char *na_buf;          /* owned copy of --na, split in place */
    const char **na_list;  /* owned, NULL-terminated */
    char *names_buf;       /* owned copy of --names, split in place */
    const char **names;    /* owned, NULL-terminated */
} aud_csv_cli;

void aud_csv_cli_init(aud_csv_cli *c);
/* aud_table_load_csv with c's options, showing "audit: reading PATH: NN%" on a terminal when
 * the reading takes long (aud_cli_progress). */
int aud_csv_cli_load(const aud_csv_cli *c, aud_table **out, const char *path, aud_error *err);
/* aud_csv_cli_load of `path` and, when `model` is not NULL, aud_model_load of it (format, then
 * the optional categories file) on a thread of its own meanwhile (issue 19 item 2: parsing a
 * large model is serial work; beside the CSV reader it leaves the critical path); at once, in
 * turn, when threads == 1 or no thread can start. When both fail, the data's error is
 * reported if data_first, else the model's. On error *out and *m may hold what did load (the
 * caller frees both as usual). */
struct aud_model;
int aud_csv_cli_load_with_model(const aud_csv_cli *c, aud_table **out, const char *path,
                                const char *model, const char *format, const char *categories,
                                int threads, int data_first, struct aud_model **m,
                                aud_error *err);
/* Split a comma-separated list into *buf (a copy, split in place) and *list (NULL-terminated);
 * 0, or -1 on no memory. */
int aud_csv_cli_split(const char *arg, char **buf, const char ***list);
/* Handle option ch (0x100..0x109; 0x109 is --verbose: aud_cli_verbose_on): 0 done, 2 usage
 * error printed, -1 not a CSV option. */
int aud_csv_cli_option(aud_csv_cli *c, const char *cmd, int ch, const char *arg);
void aud_csv_cli_free(aud_csv_cli *c);

#endif
