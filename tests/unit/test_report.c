/* test_report.c - results.json loading and validation, and the report writers under injected
 * allocation failures (every failure ends in a clean error and leaves no file behind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/aud.h"
#include "reports/report.h"

#define FIX "tests/golden/data/reports/"

static void test_load_fixtures(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = NULL;
    assert_int_equal(aud_report_load(FIX "results_full.json", &doc, &err), AUD_OK);
    cJSON_Delete(doc);
    doc = NULL;
    assert_int_equal(aud_report_load(FIX "results_minimal.json", &doc, &err), AUD_OK);
    cJSON_Delete(doc);
}

static void test_old_schema_is_rejected(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = cJSON_Parse("{\"tool\": {\"name\": \"audit\", \"version\": \"0.0.1\"}}");
    assert_non_null(doc);
    assert_int_equal(aud_report_validate(doc, "r.json", &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "schema_version");
    assert_string_equal(err.file, "r.json");
    cJSON_Delete(doc);
}

static void test_wrong_type_names_the_path(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = cJSON_Parse("{\"schema_version\": \"1\", \"tool\": {\"name\": \"a\", "
                             "\"version\": \"1\"}, \"drift\": {\"columns\": [{\"name\": \"x\"}, "
                             "{\"name\": \"y\", \"drifted\": 1}]}}");
    assert_non_null(doc);
    assert_int_equal(aud_report_validate(doc, "r.json", &err), AUD_E_SCHEMA);
    assert_string_equal(err.field, "drift.columns[1].drifted");
    cJSON_Delete(doc);
}

/* summary.all_groups is optional (older documents lack it); when present its figures are
 * checked like the headline ones. */
static void test_all_groups_optional_and_checked(void **state)
{
    (void)state;
    /* %s: the all_groups member of the summary, or nothing */
    static const char fmt[] =
        "{\"schema_version\": \"1\", \"tool\": {\"name\": \"a\", \"version\": \"1\"}, "
        "\"fairness\": {\"attributes\": [{\"name\": \"race\", \"groups\": [], "
        "\"summary\": {\"theil_index\": 0.1, \"excluded_groups\": [\"D\"]%s}}]}}";
    static const struct {
        const char *all_groups;
        int rc;
        const char *field;
    } cases[] = {
        {"", AUD_OK, NULL},
        {", \"all_groups\": {\"theil_index\": 0.2, \"equalized_odds_difference\": null, "
         "\"chi_square\": {\"statistic\": 1.5, \"dof\": 3, \"p_value\": 0.7}}", AUD_OK, NULL},
        {", \"all_groups\": [0.2]", AUD_E_SCHEMA, "fairness.attributes[0].summary.all_groups"},
        {", \"all_groups\": {\"theil_index\": \"0.2\"}", AUD_E_SCHEMA,
         "fairness.attributes[0].summary.all_groups.theil_index"},
        {", \"all_groups\": {\"chi_square\": {\"p_value\": \"x\"}}", AUD_E_SCHEMA,
         "fairness.attributes[0].summary.all_groups.chi_square.p_value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        aud_error err;
        snprintf(text, sizeof text, fmt, cases[i].all_groups);
        cJSON *doc = cJSON_Parse(text);
        assert_non_null(doc);
        assert_int_equal(aud_report_validate(doc, "r.json", &err), cases[i].rc);
        if (cases[i].field != NULL)
            assert_string_equal(err.field, cases[i].field);
        cJSON_Delete(doc);
    }
}

static void test_parse_error_is_located(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = NULL;
    char path[] = "/tmp/aud_test_reportXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\n \"a\": [1,\n 2,,]\n}", 19), 19);
    close(fd);
    assert_int_equal(aud_report_load(path, &doc, &err), AUD_E_PARSE);
    assert_int_equal(err.line, 3);
    assert_null(doc);
    unlink(path);
}

typedef int (*writer)(const cJSON *, const char *, aud_error *);

/* Fail allocation n = 1, 2, ... (then in strides) until the writer succeeds: every run must
 * end in AUD_OK or a clean error with nothing at the output path. */
static void fault_sweep(writer w, const char *fixture, const char *out, long max_n)
{
    aud_error err;
    cJSON *doc = NULL;
    int rc = AUD_E_NOMEM;
    assert_int_equal(aud_report_load(fixture, &doc, &err), AUD_OK);
    for (long n = 1; n <= max_n && rc != AUD_OK; n += n < 200 ? 1 : 97) {
        unlink(out);
        aud_alloc_fail_after(n);
        rc = w(doc, out, &err);
        aud_alloc_fail_after(0);
        if (rc != AUD_OK) {
            assert_true(rc == AUD_E_NOMEM || rc == AUD_E_INTERNAL || rc == AUD_E_IO);
            assert_int_not_equal(access(out, F_OK), 0);
        }
    }
    assert_int_equal(rc, AUD_OK);
    assert_int_equal(access(out, F_OK), 0);
    unlink(out);
    cJSON_Delete(doc);
}

static void test_pdf_allocation_failures(void **state)
{
    (void)state;
    char out[64];
    snprintf(out, sizeof out, "/tmp/aud_test_report_%ld.pdf", (long)getpid());
    fault_sweep(aud_report_write_pdf, FIX "results_full.json", out, 200000);
}

static void test_xlsx_allocation_failures(void **state)
{
    (void)state;
    char out[64];
    snprintf(out, sizeof out, "/tmp/aud_test_report_%ld.xlsx", (long)getpid());
    fault_sweep(aud_report_write_xlsx, FIX "results_full.json", out, 200000);
}

/* An in-memory document (as audit run builds it) with Latin-1 bytes in a group name: both
 * writers succeed and the XLSX stays a valid file (openpyxl, Debian's python3, reads it). */
static void test_invalid_utf8_in_memory(void **state)
{
    (void)state;
    aud_error err;
    char pdf[64], xlsx[64], cmd[256];
    cJSON *doc = cJSON_Parse("{\"schema_version\": \"1\", \"tool\": {\"name\": \"a\", "
                             "\"version\": \"1\"}, \"report\": {\"title\": \"Zo\xeb\"}, "
                             "\"checks\": [{\"metric\": \"disparate_impact\", \"group\": "
                             "\"M\xfcller\", \"value\": 0.7, \"min\": 0.8, \"passed\": false}]}");
    assert_non_null(doc);
    snprintf(pdf, sizeof pdf, "/tmp/aud_test_utf8_%ld.pdf", (long)getpid());
    snprintf(xlsx, sizeof xlsx, "/tmp/aud_test_utf8_%ld.xlsx", (long)getpid());
    assert_int_equal(aud_report_write_pdf(doc, pdf, &err), AUD_OK);
    assert_int_equal(aud_report_write_xlsx(doc, xlsx, &err), AUD_OK);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import openpyxl; "
             "assert openpyxl.load_workbook('%s')['Summary']['C2'].value == 'M\\ufffdller'\"",
             xlsx);
    assert_int_equal(system(cmd), 0);
    unlink(pdf);
    unlink(xlsx);
    cJSON_Delete(doc);
}

/* explanations.explained_rows_file: the block is validated field by field; rendered without
 * the file (aud_report_write_xlsx) the sheet Attributions shows the waterfall rows results.json
 * holds and a note saying where all the rows are; with a rows_path that does not exist,
 * AUD_E_IO naming it and no XLSX. */
static void test_rows_file_block(void **state)
{
    (void)state;
    static const char fmt[] =
        "{\"schema_version\": \"2\", \"tool\": {\"name\": \"a\", \"version\": \"1\"}, "
        "\"explanations\": {\"rows\": 5, \"features\": [{\"name\": \"x\", \"mean_abs\": 0.1}], "
        "\"explained_rows\": [{\"row\": 1, \"why\": \"highest output\", \"phi\": [0.5], "
        "\"value\": [2]}, {\"row\": 3, \"why\": \"lowest output\", \"phi\": [-0.5], "
        "\"value\": [1]}], \"explained_rows_file\": {%s}}}";
    static const char good[] = "\"path\": \"rows.jsonl\", \"format\": \"jsonl\", "
        "\"rows\": 5, \"bytes\": 220, \"sha256\": "
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"";
    static const struct {
        const char *block;
        const char *field;
    } bad[] = {
        {"\"path\": \"a/rows.jsonl\", \"format\": \"jsonl\", \"rows\": 5, \"bytes\": 1, "
         "\"sha256\": \"\"", "explanations.explained_rows_file.path"},
        {"\"path\": \"rows.jsonl\", \"format\": \"jsonl\", \"rows\": 5, \"bytes\": 1}",
         "explanations.explained_rows_file.sha256"},
        {"\"path\": \"rows.jsonl\", \"format\": \"jsonl\", \"rows\": 5.5, \"bytes\": 1, "
         "\"sha256\": \"\"", "explanations.explained_rows_file.rows"},
    };
    char text[2048], xlsx[64], cmd[1024];
    aud_error err;
    cJSON *doc;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, fmt, bad[i].block);
        doc = cJSON_Parse(text);
        assert_non_null(doc);
        assert_int_equal(aud_report_validate(doc, "r.json", &err), AUD_E_SCHEMA);
        assert_string_equal(err.field, bad[i].field);
        cJSON_Delete(doc);
    }
    snprintf(text, sizeof text, fmt, good);
    doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal(aud_report_validate(doc, "r.json", &err), AUD_OK);
    assert_string_equal(aud_report_rows_file(doc), "rows.jsonl");
    snprintf(xlsx, sizeof xlsx, "/tmp/aud_test_rows_%ld.xlsx", (long)getpid());
    assert_int_equal(aud_report_write_xlsx_rows(doc, xlsx, "/nonexistent/rows.jsonl", &err),
                     AUD_E_IO);
    assert_string_equal(err.file, "/nonexistent/rows.jsonl");
    assert_int_equal(access(xlsx, F_OK), -1);
    assert_int_equal(aud_report_write_xlsx(doc, xlsx, &err), AUD_OK);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import openpyxl; "
             "ws = openpyxl.load_workbook('%s')['Attributions']; "
             "assert [c.value for c in ws['A'][:5]] == ['Row', 1, 3, None, "
             "'These are the 2 waterfall rows results.json holds; all 5 explained rows are in "
             "rows.jsonl beside results.json (SHA-256 "
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef), not read for "
             "this workbook.'], [c.value for c in ws['A']]\"", xlsx);
    assert_int_equal(system(cmd), 0);
    unlink(xlsx);
    cJSON_Delete(doc);
}

/* The rows file of test_xlsx_rows_allocation_failures. */
static char rows_file[64];

static int write_xlsx_with_rows(const cJSON *doc, const char *out, aud_error *err)
{
    return aud_report_write_xlsx_rows(doc, out, rows_file, err);
}

/* The Attributions sheet streamed from a rows file under failing allocations: a clean error or
 * success, never an XLSX left behind. (cJSON reports a failed allocation while parsing a line
 * as a parse error: AUD_E_PARSE is accepted here for that reason.) */
static void test_xlsx_rows_allocation_failures(void **state)
{
    (void)state;
    static const char rows[] =
        "{\"row\":0,\"output\":0.1,\"base\":-0.2,\"phi\":[0.3],\"value\":[1]}\n"
        "{\"row\":1,\"why\":\"highest output\",\"output\":0.3,\"base\":-0.2,\"phi\":[0.5],"
        "\"value\":[\"a\"]}\n";
    char text[1024], out[64];
    aud_error err;
    FILE *f;
    cJSON *doc;
    int rc = AUD_E_NOMEM;
    snprintf(rows_file, sizeof rows_file, "/tmp/aud_test_rows_%ld.jsonl", (long)getpid());
    snprintf(out, sizeof out, "/tmp/aud_test_rows_%ld.xlsx", (long)getpid());
    f = fopen(rows_file, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(rows, 1, sizeof rows - 1, f), sizeof rows - 1);
    fclose(f);
    snprintf(text, sizeof text,
             "{\"schema_version\": \"2\", \"tool\": {\"name\": \"a\", \"version\": \"1\"}, "
             "\"explanations\": {\"rows\": 2, \"features\": [{\"name\": \"x\", "
             "\"mean_abs\": 0.1}], \"explained_rows\": [], \"explained_rows_file\": "
             "{\"path\": \"r.jsonl\", \"format\": \"jsonl\", \"rows\": 2, \"bytes\": %zu, "
             "\"sha256\": \"%064d\"}}}", sizeof rows - 1, 0);
    doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal(aud_report_validate(doc, "r.json", &err), AUD_OK);
    for (long n = 1; n <= 200000 && rc != AUD_OK; n += n < 200 ? 1 : 97) {
        unlink(out);
        aud_alloc_fail_after(n);
        rc = write_xlsx_with_rows(doc, out, &err);
        aud_alloc_fail_after(0);
        if (rc != AUD_OK) {
            assert_true(rc == AUD_E_NOMEM || rc == AUD_E_INTERNAL || rc == AUD_E_IO ||
                        rc == AUD_E_PARSE);
            assert_int_not_equal(access(out, F_OK), 0);
        }
    }
    assert_int_equal(rc, AUD_OK);
    assert_int_equal(access(out, F_OK), 0);
    unlink(out);
    unlink(rows_file);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_fixtures),
        cmocka_unit_test(test_old_schema_is_rejected),
        cmocka_unit_test(test_wrong_type_names_the_path),
        cmocka_unit_test(test_all_groups_optional_and_checked),
        cmocka_unit_test(test_parse_error_is_located),
        cmocka_unit_test(test_pdf_allocation_failures),
        cmocka_unit_test(test_xlsx_allocation_failures),
        cmocka_unit_test(test_invalid_utf8_in_memory),
        cmocka_unit_test(test_rows_file_block),
        cmocka_unit_test(test_xlsx_rows_allocation_failures),
    };
    aud_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
