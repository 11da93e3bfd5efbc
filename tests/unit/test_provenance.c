/* test_provenance.c - the provenance section shared by every results document: --created times,
 * input entries (hash, shape, standard input), the model entry. */
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
#include "core/provenance.h"
#include "models/model_int.h"

#define MODEL "tests/golden/data/models/xgb_binary_logistic.json"

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Numbers are raw nodes (exact text, io.h aud_json_num). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsRaw(v));
    return strtod(v->valuestring, NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_utc_valid_accepts_only_the_written_form(void **state)
{
    (void)state;
    static const char *const good[] = {"2026-01-31T23:59:59Z", "2028-02-29T00:00:00Z",
                                       "2000-02-29T12:00:00Z", "1999-12-31T00:00:00Z"};
    static const char *const bad[] = {"", "2026-01-31", "2026-01-31T23:59:59",
                                      "2026-01-31T23:59:59Zx", "2026-01-31T23:59:59+00:00",
                                      "2026-01-31 23:59:59Z", "2026-1-31T23:59:59Z",
                                      "2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z",
                                      "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z",
                                      "1900-02-29T00:00:00Z", "2026-01-00T00:00:00Z",
                                      "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
                                      "2026-01-01T00:00:60Z", "2026-01-01T00:00:0aZ"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(aud_utc_valid(good[i]), 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(aud_utc_valid(bad[i]), 0);
    char now[32];
    aud_utc_now(now, sizeof now);
    assert_int_equal(aud_utc_valid(now), 1);
}

static void test_doc_with_fixed_or_current_time(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = NULL, *prov = NULL;
    assert_int_equal(aud_prov_doc_new(&doc, &prov, "drift", "2026-03-04T05:06:07Z", &err), AUD_OK);
    assert_ptr_equal(cJSON_GetObjectItemCaseSensitive(doc, "provenance"), prov);
    assert_string_equal(str(doc, "schema_version"), AUD_SCHEMA_VERSION);
    assert_string_equal(str(prov, "created"), "2026-03-04T05:06:07Z");
    assert_string_equal(str(prov, "command"), "drift");
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(prov, "inputs")));
    cJSON_Delete(doc);
    doc = NULL;
    assert_int_equal(aud_prov_doc_new(&doc, &prov, "profile", NULL, &err), AUD_OK);
    assert_int_equal(aud_utc_valid(str(prov, "created")), 1);
    cJSON_Delete(doc);
    doc = NULL;
    prov = NULL;
    assert_int_equal(aud_prov_doc_new(&doc, &prov, "profile", "yesterday", &err), AUD_E_USAGE);
    assert_null(doc);
    assert_null(prov);
}

static void test_inputs_hash_shape_and_stdin(void **state)
{
    (void)state;
    char path[] = "/tmp/test_provenance_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "abc");
    aud_error err;
    aud_table *t = NULL;
    assert_int_equal(aud_table_parse_csv(&t, "a,b\n1,x\n2,y\n3,z\n", 16, "mem", NULL, &err),
                     AUD_OK);
    cJSON *doc = NULL, *prov = NULL, *e = NULL;
    assert_int_equal(aud_prov_doc_new(&doc, &prov, "fairness", NULL, &err), AUD_OK);
    assert_int_equal(aud_prov_add_input(prov, "data", path, t, &e, &err), AUD_OK);
    assert_string_equal(str(e, "role"), "data");
    assert_string_equal(str(e, "path"), path);
    assert_string_equal(str(e, "sha256"), ABC_SHA256);
    assert_int_equal(num(e, "rows"), 3);
    assert_int_equal(num(e, "columns"), 2);
    /* not a table: no shape */
    assert_int_equal(aud_prov_add_input(prov, "spec", path, NULL, &e, &err), AUD_OK);
    assert_null(cJSON_GetObjectItemCaseSensitive(e, "rows"));
    /* standard input: no hash, a reason instead */
    assert_int_equal(aud_prov_add_input(prov, "current", "-", t, &e, &err), AUD_OK);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "sha256")));
    assert_string_equal(str(e, "sha256_reason"), "read from standard input, not hashed");
    /* a file that cannot be read: an error, nothing appended */
    unlink(path);
    assert_int_equal(aud_prov_add_input(prov, "data", path, t, NULL, &err), AUD_E_IO);
    assert_string_equal(err.file, path);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(prov, "inputs")), 3);
    cJSON_Delete(doc);
    aud_table_free(t);
}

static void test_model_entry_and_object(void **state)
{
    (void)state;
    aud_error err;
    aud_model *m = NULL;
    assert_int_equal(aud_model_load(&m, MODEL, NULL, &err), AUD_OK);
    cJSON *doc = NULL, *prov = NULL;
    char hex[65];
    assert_int_equal(aud_sha256_file(MODEL, hex, &err), AUD_OK);
    assert_int_equal(aud_prov_doc_new(&doc, &prov, "fairness", NULL, &err), AUD_OK);
    assert_int_equal(aud_prov_add_model(prov, MODEL, m, &err), AUD_OK);
    const cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(prov, "inputs"), 0);
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(prov, "model");
    assert_string_equal(str(in, "role"), "model");
    assert_null(cJSON_GetObjectItemCaseSensitive(mo, "role"));
    const char *keys[] = {"path", "sha256", "format", "objective"};
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(str(in, keys[k]), str(mo, keys[k]));
    assert_string_equal(str(mo, "sha256"), hex);
    assert_string_equal(str(mo, "format"), "xgboost-json");
    assert_int_equal(num(mo, "trees"), m->n_trees);
    cJSON_Delete(doc);
    aud_model_free(m);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc_valid_accepts_only_the_written_form),
        cmocka_unit_test(test_doc_with_fixed_or_current_time),
        cmocka_unit_test(test_inputs_hash_shape_and_stdin),
        cmocka_unit_test(test_model_entry_and_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
