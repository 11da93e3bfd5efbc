/* cli.c - message and option helpers shared by the commands. */
#include "audit/cli_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int aud_cli_quiet;

void aud_cli_info(const char *fmt, ...)
{
    if (aud_cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("audit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

size_t aud_cli_text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        w += (*p & 0xC0) != 0x80;   /* count lead bytes, not continuation bytes */
    return w;
}

void aud_cli_print_cell(const char *s, size_t width)
{
    size_t w = aud_cli_text_width(s);
    fputs(s, stdout);
    for (; w < width; w++)
        putchar(' ');
}

void aud_cli_warn(const char *fmt, ...)
{
    if (aud_cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("audit: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void aud_cli_warn_by_position(const aud_model *m, const char *model_path, const char *data_path)
{
    aud_cli_warn("%s has no feature names: its %zu features are matched to the first %zu "
                 "columns of %s by position", model_path, aud_model_features(m),
                 aud_model_features(m), data_path);
}

int aud_cli_fail(const aud_error *err)
{
    char buf[1024];
    aud_error_format(err, buf, sizeof buf);
    fprintf(stderr, "audit: %s\n", buf);
    return aud_status_exit_code(err->code);
}

int aud_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "audit: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\naudit: try 'audit %s --help'\n", cmd);
    va_end(ap);
    return AUD_EXIT_INPUT;
}

int aud_cli_parse_double(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return aud_cli_usage(cmd, "%s expects a finite number, got \"%s\"", opt, s);
    *out = v;
    return 0;
}

int aud_cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi,
                       long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return aud_cli_usage(cmd, "%s expects a whole number from %ld to %ld, got \"%s\"", opt,
                             lo, hi, s);
    *out = v;
    return 0;
}

int aud_cli_parse_threads(const char *cmd, const char *s, int *out)
{
    long v = 0;
    if (s[0] == 'a' && s[1] == 'u' && s[2] == 't' && s[3] == 'o' && s[4] == '\0') {
        *out = aud_ncpu();
        return 0;
    }
    int rc = aud_cli_parse_long(cmd, "--threads", s, 0, 1024, &v);
    if (rc != 0)
        return rc;
    *out = v == 0 ? aud_ncpu() : (int)v;
    return 0;
}

int aud_cli_parse_created(const char *cmd, const char *s, const char **out)
{
    if (!aud_utc_valid(s))
        return aud_cli_usage(cmd, "--created expects a UTC time YYYY-MM-DDTHH:MM:SSZ, got \"%s\"",
                             s);
    *out = s;
    return 0;
}

int aud_cli_progress_enabled(void)
{
    return !aud_cli_quiet && isatty(STDERR_FILENO);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void aud_cli_progress_start(aud_cli_progress *p, const char *what)
{
    const char *env = getenv("AUDIT_PROGRESS_AFTER");
    char *end = NULL;
    double after = env != NULL ? strtod(env, &end) : 2.0;
    p->what = what;
    p->after = env != NULL && end != env && after >= 0.0 ? after : 2.0;
    p->start = now_s();
    p->last = p->start - 1.0;
    p->shown = 0;
}

void aud_cli_progress_report(void *ctx, double done)
{
    aud_cli_progress *p = ctx;
    double t = now_s();
    int final = done >= 1.0 && p->shown;   /* the end of work already shown: always drawn */
    if (!final && (t - p->start < p->after || t - p->last < (p->after < 0.5 ? p->after : 0.5)))
        return;
    if (!aud_cli_progress_enabled())
        return;
    p->last = t;
    p->shown = 1;
    fprintf(stderr, "\raudit: %s: %3.0f%%", p->what, 100.0 * done);
    fflush(stderr);
}

void aud_cli_progress_end(aud_cli_progress *p)
{
    if (p->shown)
        fputc('\n', stderr);
    p->shown = 0;
}

int aud_cli_model_cmd_opts_alone(const char *cmd)
{
    return aud_cli_usage(cmd, "--features, --model-batch, --model-timeout, --model-max-rows and "
                         "--model-protocol go with --model-cmd");
}

int aud_cli_parse_model_cmd(const char *cmd, int which, const char *s, double *out)
{
    static const char *const names[] = {"--model-batch", "--model-timeout", "--model-max-rows"};
    if (which == 3) {   /* --model-protocol */
        if (strcmp(s, "batch") != 0 && strcmp(s, "session") != 0)
            return aud_cli_usage(cmd, "--model-protocol must be batch or session, not \"%s\"", s);
        *out = strcmp(s, "batch") == 0 ? 1 : 2;
        return 0;
    }
    double v;
    int rc = aud_cli_parse_double(cmd, names[which], s, &v);
    if (rc != 0)
        return rc;
    if (which == 1 ? !(v > 0) : (v < 1 || v > 1e15 || v != floor(v)))
        return aud_cli_usage(cmd, "%s expects a positive %s", names[which],
                             which == 1 ? "number" : "integer");
    *out = v;
    return 0;
}

/* ---- --verbose: stages ---------------------------------------------------------------------- */

int aud_cli_verbose;
static aud_work stage_t0, stage_first;
static char stage_name[64];

void aud_cli_verbose_on(void)
{
    if (aud_cli_verbose)
        return;
    aud_cli_verbose = 1;
    aud_work_enable();
    aud_work_now(&stage_first);
    stage_t0 = stage_first;
}

static void stage_line(const char *name, const aud_work *a, const aud_work *b)
{
    fprintf(stderr, "audit: %-16s %8.3f s  cpu %8.3f s  serial %8.3f s\n", name,
            b->wall - a->wall, b->cpu - a->cpu, b->serial - a->serial);
}

void aud_cli_stage(const char *name)
{
    if (!aud_cli_verbose)
        return;
    aud_work now;
    aud_work_now(&now);
    if (stage_name[0] != '\0')
        stage_line(stage_name, &stage_t0, &now);
    snprintf(stage_name, sizeof stage_name, "%s", name != NULL ? name : "");
    stage_t0 = now;
}

void aud_cli_stage_done(void)
{
    if (!aud_cli_verbose)
        return;
    int any = stage_name[0] != '\0';
    aud_cli_stage(NULL);
    aud_cli_verbose = 0;   /* once */
    if (!any)   /* no stage ran (a usage error) */
        return;
    aud_work end;
    aud_work_now(&end);
    stage_line("total", &stage_first, &end);
    /* Amdahl: the serial CPU time stays and the rest divides among 16 threads; the threads
     * beside the main one (a model parsed beside the CSV reader, the inputs' SHA-256, a second
     * file read) run side by side with the jobs and with each other, but each is one thread's
     * work, so the time is at least the longest of them; and runs of units (aud_run_units,
     * aud_run_tasks) take at least what their measured units take on 16 workers (a stage of
     * 10 columns cannot be shorter than its longest column) */
    double cpu = end.cpu - stage_first.cpu, ser = end.serial - stage_first.serial;
    double par = cpu > ser ? cpu - ser : 0.0;
    double jobs = end.parallel - stage_first.parallel;
    double other = par > jobs ? par - jobs : 0.0;
    double longest = fmin(end.side_max, other);
    double ucpu = fmin(end.units_cpu - stage_first.units_cpu, par);
    double ut16 = fmax(end.units_t16 - stage_first.units_t16, ucpu / 16.0);
    double t16 = ser + fmax(longest, ut16 + (par - ucpu) / 16.0);
    fprintf(stderr, "audit: serial share     %.1f%% of the CPU time (parallel jobs %.3f s, "
            "of them units %.3f s taking %.3f s on 16 threads; other threads %.3f s, the "
            "longest %.3f s): Amdahl speed-up at 16 threads <= %.1fx\n",
            cpu > 0 ? 100.0 * ser / cpu : 0.0, jobs, ucpu, ut16, other, longest,
            t16 > 0 ? cpu / t16 : 1.0);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)   /* ru_maxrss: KiB on Linux */
        fprintf(stderr, "audit: peak memory      %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    const char *env = getenv("AUDIT_HUGE_PAGES");
    int forced = env != NULL && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0);
    double us = aud_huge_pages_fault_us();
    char why[192];
    if (forced)
        snprintf(why, sizeof why, "AUDIT_HUGE_PAGES");
    else if (us < 0.0)
        snprintf(why, sizeof why, "the default");
    else
        snprintf(why, sizeof why, "this virtual machine's balloon reports free memory to its "
                 "host; a first write to a 4 KiB page took %.1f us here, %s %.0f us", us,
                 aud_huge_pages() ? "not under" : "under", AUD_FAULT_US_4K);
    fprintf(stderr, "audit: large arrays     %s (%s)\n",
            aud_huge_pages() ? "in transparent huge pages" : "in 4 KiB pages", why);
}

/* ---- CSV rows formatted in parallel --------------------------------------------------------- */

#define ROW_BLOCK 2048   /* rows a job formats at a time */

typedef struct row_job {
    aud_cli_row_fn fn;
    void          *ctx;
    size_t         b0, b1;
    char          *buf;   /* open_memstream's: freed with free() */
    size_t         len;
    int            rc;
} row_job;

static void *row_job_main(void *p)
{
    row_job *j = p;
    FILE *m = open_memstream(&j->buf, &j->len);
    if (m == NULL) {
        j->rc = AUD_E_NOMEM;
        return NULL;
    }
    for (size_t i = j->b0; i < j->b1; i++)
        j->fn(m, i, j->ctx);
    if (ferror(m))
        j->rc = AUD_E_NOMEM;
    if (fclose(m) != 0)
        j->rc = AUD_E_NOMEM;
    return NULL;
}

int aud_cli_write_rows(FILE *f, size_t n, int threads, aud_cli_row_fn fn, void *ctx)
{
    size_t nt = threads > 1 ? (size_t)threads : 1;
    if (nt == 1 || n <= ROW_BLOCK) {   /* one block: no copy */
        for (size_t i = 0; i < n; i++)
            fn(f, i, ctx);
        return AUD_OK;
    }
    row_job *jobs = aud_calloc(nt, sizeof *jobs);
    if (jobs == NULL)
        return AUD_E_NOMEM;
    int rc = AUD_OK;
    for (size_t r0 = 0; r0 < n && rc == AUD_OK; r0 += nt * ROW_BLOCK) {
        size_t nj = 0;
        for (size_t b0 = r0; nj < nt && b0 < n; b0 += ROW_BLOCK, nj++)
            jobs[nj] = (row_job){fn, ctx, b0, n - b0 < ROW_BLOCK ? n : b0 + ROW_BLOCK, NULL, 0,
                                 AUD_OK};
        aud_run_jobs(jobs, nj, sizeof *jobs, row_job_main);
        for (size_t k = 0; k < nj; k++)
            rc = jobs[k].rc != AUD_OK ? jobs[k].rc : rc;
        for (size_t k = 0; k < nj; k++) {
            if (rc == AUD_OK)
                fwrite(jobs[k].buf, 1, jobs[k].len, f);
            free(jobs[k].buf);   /* open_memstream allocates with malloc */
        }
    }
    aud_free(jobs);
    return rc;
}
