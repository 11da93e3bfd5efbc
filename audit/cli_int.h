/* cli.h - helpers shared by the command implementations (audit/cmd_*.c): messages, exit codes,
 * option value parsing. Only the CLI prints; the library reports through aud_error. */
#ifndef AUD_CLI_H
#define AUD_CLI_H

#include "audit/audit.h"

#include <pthread.h>
#include <stdio.h>

/* Exit codes of SPEC section 1. */
enum {
    AUD_EXIT_OK = 0,        /* done, every policy check passed */
    AUD_EXIT_CHECK = 1,     /* done, a policy check failed */
    AUD_EXIT_INPUT = 2,     /* usage or input error */
    AUD_EXIT_INTERNAL = 3   /* internal error */
};

/* Set by --quiet: silences everything but errors. */
extern int aud_cli_quiet;

/* "audit: ..." on stderr (suppressed by --quiet). */
void aud_cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The verdict line of `audit run` and `audit merge` (cmd_run.c); returns the exit code. */
struct aud_run_outcome;
int aud_cli_verdict(const struct aud_run_outcome *res);
/* Terminal tables never cut a name (issue 15): the display width of UTF-8 text s (code points;
 * wide characters count one), and s printed left-aligned in a cell of `width` such columns. */
size_t aud_cli_text_width(const char *s);
void   aud_cli_print_cell(const char *s, size_t width);

/* "audit: warning: ..." on stderr (suppressed by --quiet). */
void aud_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A model without feature names bound by position: the one warning every command gives for it,
 * naming the model and the data file. */
struct aud_model;
void aud_cli_warn_by_position(const struct aud_model *m, const char *model_path,
                              const char *data_path);
/* Print err as "audit: file:line:col: ..." and return its exit code (2 or 3). */
int aud_cli_fail(const aud_error *err);
/* Print "audit CMD: message" and a pointer to --help; return 2. */
int aud_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option value parsers: return 0 and set *out, or print a usage error and return 2. */
int aud_cli_parse_double(const char *cmd, const char *opt, const char *s, double *out);
/* --model-batch (which 0), --model-timeout (1), --model-max-rows (2) of a --model-cmd: a
 * positive integer, a positive number, a positive integer; --model-protocol (3): batch (*out 1)
 * or session (2). 0, or the usage error's exit code. */
int aud_cli_parse_model_cmd(const char *cmd, int which, const char *s, double *out);
/* The usage error (2) of a model-command option (--features, --model-batch, --model-timeout,
 * --model-max-rows, --model-protocol) given without --model-cmd. */
int aud_cli_model_cmd_opts_alone(const char *cmd);
int aud_cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi,
                       long *out);
/* --threads: 1..1024; 0 or "auto" means all cores. */
int aud_cli_parse_threads(const char *cmd, const char *s, int *out);

/* --created TIME: a UTC time "YYYY-MM-DDTHH:MM:SSZ" for provenance.created (reproducible
 * documents); *out points at s. */
int aud_cli_parse_created(const char *cmd, const char *s, const char **out);

/* --help line of --created for the commands that write a results document with --json. */
#define AUD_CLI_CREATED_HELP \
    "  --created TIME       provenance.created of the JSON document, UTC YYYY-MM-DDTHH:MM:SSZ\n" \
    "                       (default: now); fixed, it makes the document reproducible\n"

/* True when stderr is a terminal and not --quiet: long work may show progress. */
int aud_cli_progress_enabled(void);

/* Progress on stderr for long work (SPEC 1): "audit: WHAT: NN%", shown only when
 * aud_cli_progress_enabled(), once the work has taken 2 s, at most twice a second (the
 * environment variable AUDIT_PROGRESS_AFTER=S changes the 2 s; tests use 0). Pass
 * aud_cli_progress_report as a progress callback (done in [0, 1]) with a started struct. */
typedef struct aud_cli_progress {
    const char *what;
    double start, last, after;
    int shown;
} aud_cli_progress;
void aud_cli_progress_start(aud_cli_progress *p, const char *what);
void aud_cli_progress_report(void *ctx, double done);
void aud_cli_progress_end(aud_cli_progress *p);

/* --verbose (issue 19): per-stage timings on stderr, "audit: STAGE  wall  cpu  serial" (the
 * serial part of the CPU time: outside the parallel jobs, aud_work_now), and at the end the
 * totals, the serial share of the CPU time, the speed-up Amdahl's law allows at 16 threads
 * and the peak resident memory (getrusage ru_maxrss). aud_cli_verbose_on turns it on;
 * aud_cli_stage(NAME) ends the current stage (printing it) and starts NAME (NULL: none);
 * aud_cli_stage_done ends the last and prints the totals. Without --verbose they do nothing. */
extern int aud_cli_verbose;
void aud_cli_verbose_on(void);
void aud_cli_stage(const char *name);
void aud_cli_stage_done(void);

/* CSV output formatting in parallel (issue 19 item 2): rows [0, n) written to f by fn(f, row,
 * ctx), formatted on up to `threads` threads in blocks of rows, each block into memory
 * (open_memstream), and the blocks written in row order, so the bytes are exactly those of one
 * thread; memory is bounded by threads blocks. fn must only read shared data. AUD_OK or
 * AUD_E_NOMEM (nothing of the failing round is written). */
typedef void (*aud_cli_row_fn)(FILE *f, size_t row, void *ctx);
int aud_cli_write_rows(FILE *f, size_t n, int threads, aud_cli_row_fn fn, void *ctx);

/* The commands; argv[0] is the command name. Each returns an exit code. */
int aud_cmd_run(int argc, char **argv);
int aud_cmd_merge(int argc, char **argv);
int aud_cmd_profile(int argc, char **argv);
int aud_cmd_predict(int argc, char **argv);
int aud_cmd_explain(int argc, char **argv);
int aud_cmd_reasons(int argc, char **argv);
int aud_cmd_fairness(int argc, char **argv);
int aud_cmd_drift(int argc, char **argv);
int aud_cmd_report(int argc, char **argv);
int aud_cmd_history(int argc, char **argv);
int aud_cmd_sign(int argc, char **argv);
int aud_cmd_verify(int argc, char **argv);

#endif
