/* test_run_faults.c - audit run under allocation failure inside cJSON (its allocator is not the
 * project's aud_malloc funnel, so it gets its own hooks here): every run ends in a status and a
 * clean state, never a crash or a double free (the sanitizer build in CI catches the latter).
 * The spec fails after the run log was opened, so the error line of the log is written under
 * failure too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "core/aud.h"
#include "audit/run.h"
#include <cjson/cJSON.h>

static long n_alloc, fail_at;

/* cur.csv of the model runs below: six rows, both sexes, both labels */
static const char SIX_ROWS[] = "x,sex,label\n0.1,f,0\n0.4,m,1\n0.3,f,1\n0.9,m,0\n0.5,f,1\n0.2,m,0\n";

static void *failing_malloc(size_t n)
{
    n_alloc++;
    if (fail_at != 0 && n_alloc == fail_at)
        return NULL;
    return malloc(n);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* cur.csv (csv), m.json (a logistic model of x) and spec.json: the model's audit of cur.csv
 * by sex, whose "explain" value and the rest of the spec are `rest`. */
static void write_linear_run(const char *dir, const char *csv, const char *rest)
{
    char spec[600];
    write_file(dir, "cur.csv", csv);
    write_file(dir, "m.json", "{\"format\": \"audit-linear\", \"version\": 1, \"link\": "
                              "\"logit\", \"intercept\": -0.2, \"coefficients\": {\"x\": 1.5}}");
    snprintf(spec, sizeof spec, "{\"model\": \"m.json\", \"data\": \"cur.csv\", \"label\": "
             "\"label\", \"sensitive\": [\"sex\"], \"fairness\": {\"bootstrap\": 0}, "
             "\"explain\": %s", rest);
    write_file(dir, "spec.json", spec);
}

/* Options for the spec in dir; cJSON's allocations go through failing_malloc (none failing yet). */
static void run_setup(aud_run_opts *o, char *spec, size_t n, const char *dir)
{
    snprintf(spec, n, "%s/spec.json", dir);
    static cJSON_Hooks hooks = {failing_malloc, free};
    cJSON_InitHooks(&hooks);
    memset(o, 0, sizeof *o);
    o->spec_path = spec;
    o->threads = 1;
    o->created = "2026-01-01T00:00:00Z";
    n_alloc = 0;
    fail_at = 0;
}

/* run_setup for allocation failures of the project's funnel (aud_alloc_fail_after), cJSON's
 * included, on two threads. */
static void funnel_setup(aud_run_opts *o, char *spec, size_t n, const char *dir)
{
    run_setup(o, spec, n, dir);
    aud_global_init();
    o->threads = 2;
}

/* Entries of folder `path` other than . and .. (0 when it does not exist). */
static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void run_teardown(const char *dir)
{
    fail_at = 0;
    aud_global_init();   /* back to the allocation funnel */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_run_error_paths_under_cjson_allocation_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/audit-run-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char data[] = "x,sex,score,label\n0.1,f,0.2,0\n0.4,m,0.7,1\n0.3,f,0.6,1\n"
                               "0.9,m,0.4,0\n0.5,f,0.5,1\n0.2,m,0.3,0\n";
    write_file(dir, "cur.csv", data);
    write_file(dir, "ref.csv", data);
    /* the override names a column that is not compared: exit 2 once the inputs are hashed */
    write_file(dir, "spec.json",
               "{\"data\": \"cur.csv\", \"reference\": \"ref.csv\", \"label\": \"label\", "
               "\"score\": \"score\", \"sensitive\": [\"sex\"], \"fairness\": {\"bootstrap\": 0},"
               " \"drift\": {\"overrides\": {\"nope\": {\"method\": \"psi\"}}},"
               " \"outputs\": {\"dir\": \"out\", \"log\": \"runs.jsonl\"}}");
    char spec[600];
    aud_run_opts o;
    run_setup(&o, spec, sizeof spec, dir);
    aud_run_outcome out;
    aud_error err;
    assert_int_equal(aud_run(&o, &out, &err), AUD_E_SCHEMA);
    long total = n_alloc;
    assert_true(total > 10);
    for (long k = 1; k <= total; k++) {   /* every cJSON allocation of the run fails once */
        n_alloc = 0;
        fail_at = k;
        int rc = aud_run(&o, &out, &err);
        /* the spec error, no memory, or (cJSON cannot tell) the spec read as malformed JSON */
        assert_true(rc != AUD_OK);
    }
    run_teardown(dir);
}

/* A completed run with a model (the run log's line copies provenance.model): cJSON allocation
 * failures in the last part of the run, where the log line is built, end cleanly (leaks are
 * caught by the sanitizer build). */
static void test_completed_run_log_under_cjson_allocation_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/audit-run-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_linear_run(dir, SIX_ROWS,
                     "false, \"outputs\": {\"dir\": \"out\", \"pdf\": null, \"xlsx\": null, "
                     "\"log\": \"runs.jsonl\"}}");
    char spec[600];
    aud_run_opts o;
    run_setup(&o, spec, sizeof spec, dir);
    aud_run_outcome out;
    aud_error err;
    int rc0 = aud_run(&o, &out, &err);
    assert_int_equal(rc0, AUD_OK);
    long total = n_alloc;
    for (long k = total > 300 ? total - 300 : 1; k <= total; k++) {
        n_alloc = 0;
        fail_at = k;
        (void)aud_run(&o, &out, &err);   /* any status; no crash, no leak */
    }
    run_teardown(dir);
}

/* Every row explained, formatted on two threads into one raw node and written around it
 * (audit/run_rows.c, audit/run.c print_results): each allocation of the project's funnel fails
 * once in turn, up to the end of the run; every run ends in a status, never a crash (leaks and
 * double frees: valgrind and the sanitizer build). */
static void test_explained_rows_under_allocation_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/audit-run-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_linear_run(dir, "x,sex,label,case\n0.1,f,0,\"a \"\"q\"\"\"\n0.4,m,1,b\n0.3,f,1,c\n"
                          "0.9,m,0,d\n0.5,f,1,e\n0.2,m,0,f\n",
                     "{\"rows\": 6, \"id\": \"case\", \"show_rows\": [2]}, "
                     "\"outputs\": {\"dir\": \"out\", \"pdf\": null, \"xlsx\": null}}");
    char spec[600];
    aud_run_opts o;
    funnel_setup(&o, spec, sizeof spec, dir);
    aud_run_outcome out;
    aud_error err;
    assert_int_equal(aud_run(&o, &out, &err), AUD_OK);
    long ok_in_a_row = 0, k;
    for (k = 1; ok_in_a_row < 500 && k < 100000; k++) {   /* past the run's last allocation */
        aud_alloc_fail_after(k);
        int rc = aud_run(&o, &out, &err);
        aud_alloc_fail_after(0);
        ok_in_a_row = rc == AUD_OK ? ok_in_a_row + 1 : 0;
    }
    assert_true(k > 1000);   /* the run's allocations were all visited */
    run_teardown(dir);
}

/* report.pdf and report.xlsx written side by side (audit/run.c write_reports): the k-th
 * allocation of the funnel from the start of the reports step fails (either thread may take
 * it), for k from 1 until ten runs in a row succeed; every run ends in a status, and a failed
 * one leaves no report and no temporary file in the output folder (leaks, races and double
 * frees: the sanitizer build and valgrind). */
static long arm_at;   /* the k to arm when the reports step starts */

static void arm_on_reports(void *ctx, const char *step, double seconds)
{
    (void)ctx;
    if (seconds < 0 && strcmp(step, "reports") == 0)
        aud_alloc_fail_after(arm_at);
}

static void test_reports_side_by_side_under_allocation_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/audit-run-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_linear_run(dir, SIX_ROWS,
                     "false, \"outputs\": {\"dir\": \"out\", \"pdf\": \"r.pdf\", "
                     "\"xlsx\": \"r.xlsx\"}}");
    char spec[600];
    aud_run_opts o;
    funnel_setup(&o, spec, sizeof spec, dir);
    o.progress = arm_on_reports;
    aud_run_outcome out;
    aud_error err;
    arm_at = 0;
    assert_int_equal(aud_run(&o, &out, &err), AUD_OK);
    long ok_in_a_row = 0, failed = 0, k;
    for (k = 1; ok_in_a_row < 10 && k < 1000000; k += 1 + k / 16) {
        char outdir[600];
        snprintf(outdir, sizeof outdir, "rm -rf '%s/out'", dir);   /* the last success's */
        assert_int_equal(system(outdir), 0);
        arm_at = k;
        aud_error_clear(&err);
        int rc = aud_run(&o, &out, &err);
        aud_alloc_fail_after(0);
        ok_in_a_row = rc == AUD_OK ? ok_in_a_row + 1 : 0;
        if (rc == AUD_OK)
            continue;
        failed++;
        assert_int_equal(rc, AUD_E_NOMEM);
        assert_int_equal(err.code, AUD_E_NOMEM);   /* whichever thread failed, its error */
        char path[600];   /* nothing left behind: no report, no temporary file */
        snprintf(path, sizeof path, "%s/out", dir);
        assert_int_equal(dir_entries(path), 0);
    }
    assert_true(failed > 20);   /* the reports' allocations were reached */
    run_teardown(dir);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_error_paths_under_cjson_allocation_failure),
        cmocka_unit_test(test_completed_run_log_under_cjson_allocation_failure),
        cmocka_unit_test(test_explained_rows_under_allocation_failure),
        cmocka_unit_test(test_reports_side_by_side_under_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
