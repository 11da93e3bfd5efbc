/* test_findings.c - aud_findings_build on hand-made results documents: attribute names that hold
 * '&' are split the right way when grouping intersections, a summary row is evidence under a
 * coarser summary, the text rendering, and every allocation failure (cJSON's included) ends in
 * AUD_E_NOMEM or success, never a crash or a leak (the sanitizer build checks leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/aud.h"
#include "audit/findings.h"
#include <cjson/cJSON.h>

/* Attributes "a&b" (levels "x&y", "u") and "c" (levels "z", "w"); the intersection "a&b&c".
 * Disparate impact fails for a&b = x&y and for the intersection x&y&z (evidence), and for the
 * intersection u&w alone (its own finding); equalized odds fails for a&b and a&b&c. */
static const char doc_text[] =
    "{\"schema_version\": \"2\", \"tool\": {\"name\": \"audit\", \"version\": \"0\"},"
    " \"fairness\": {\"favorable\": 1, \"confidence_level\": 0.95, \"attributes\": ["
    "  {\"name\": \"a&b\", \"reference\": \"u\", \"highest_group\": \"u\", \"groups\": ["
    "    {\"group\": \"u\", \"reference\": true, \"selection_rate\": 0.8, \"tpr\": 0.9,"
    "     \"fpr\": 0.5},"
    "    {\"group\": \"x&y\", \"reference\": false, \"selection_rate\": 0.4, \"tpr\": 0.7,"
    "     \"fpr\": 0.2, \"disparate_impact\": 0.5, \"disparate_impact_ci\": [0.4, 0.6]}],"
    "   \"summary\": {\"equalized_odds_difference\": 0.30000000000000004}},"
    "  {\"name\": \"c\", \"reference\": \"z\", \"groups\": ["
    "    {\"group\": \"z\", \"reference\": true, \"selection_rate\": 0.6},"
    "    {\"group\": \"w\", \"reference\": false, \"selection_rate\": 0.6,"
    "     \"disparate_impact\": 1.0}]}],"
    " \"intersections\": ["
    "  {\"name\": \"a&b&c\", \"reference\": \"u&z\", \"groups\": ["
    "    {\"group\": \"u&z\", \"reference\": true, \"selection_rate\": 0.8},"
    "    {\"group\": \"x&y&z\", \"reference\": false, \"selection_rate\": 0.4,"
    "     \"disparate_impact\": 0.5},"
    "    {\"group\": \"u&w\", \"reference\": false, \"selection_rate\": 0.5,"
    "     \"disparate_impact\": 0.625}],"
    "   \"summary\": {\"equalized_odds_difference\": 0.4}}]},"
    " \"checks\": ["
    "  {\"metric\": \"disparate_impact\", \"attribute\": \"a&b\", \"group\": \"x&y\","
    "   \"value\": 0.5, \"min\": 0.8, \"passed\": false},"
    "  {\"metric\": \"disparate_impact\", \"attribute\": \"c\", \"group\": \"w\","
    "   \"value\": 1.0, \"min\": 0.8, \"passed\": true},"
    "  {\"metric\": \"disparate_impact\", \"attribute\": \"a&b&c\", \"group\": \"x&y&z\","
    "   \"value\": 0.5, \"min\": 0.8, \"passed\": false},"
    "  {\"metric\": \"disparate_impact\", \"attribute\": \"a&b&c\", \"group\": \"u&w\","
    "   \"value\": 0.625, \"min\": 0.8, \"passed\": false},"
    "  {\"metric\": \"equalized_odds_difference\", \"attribute\": \"a&b\","
    "   \"value\": 0.30000000000000004, \"max\": 0.1, \"passed\": false},"
    "  {\"metric\": \"equalized_odds_difference\", \"attribute\": \"a&b&c\","
    "   \"value\": 0.4, \"max\": 0.1, \"passed\": false}],"
    " \"verdict\": \"fail\"}";

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_ampersand_names_and_summaries(void **state)
{
    (void)state;
    aud_error err;
    cJSON *doc = cJSON_Parse(doc_text);
    assert_non_null(doc);
    assert_int_equal(aud_findings_build(doc, &err), AUD_OK);
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    assert_int_equal(cJSON_GetArraySize(fs), 3);
    const cJSON *f1 = cJSON_GetArrayItem(fs, 0), *f2 = cJSON_GetArrayItem(fs, 1),
                *f3 = cJSON_GetArrayItem(fs, 2);
    /* a&b = x&y, with the intersection x&y&z as its evidence */
    assert_string_equal(str(f1, "attribute"), "a&b");
    assert_string_equal(str(f1, "group"), "x&y");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f1, "evidence");
    assert_int_equal(cJSON_GetArraySize(ev), 1);
    assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "group"), "x&y&z");
    /* u&w fails where both parents pass: a finding of its own */
    assert_string_equal(str(f2, "group"), "u&w");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f2, "evidence")), 0);
    /* equalized odds of a&b&c repeats that of a&b; the rate is named: TPR gap 0.2, FPR 0.3 */
    assert_string_equal(str(f3, "metric"), "equalized_odds_difference");
    assert_string_equal(str(f3, "attribute"), "a&b");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f3, "evidence")), 1);
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(f3, "driven_by");
    assert_string_equal(str(by, "rate"), "fpr");
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(by, "low"), "group"), "x&y");
    /* the check rows name their reference */
    assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "checks"), 3),
                            "reference"), "u&z");
    char *text = NULL;
    assert_int_equal(aud_findings_text(doc, "c", &text, &err), AUD_OK);
    assert_non_null(text);   /* only the a&b&c finding concerns c */
    assert_non_null(strstr(text, "F2  FAIL  Group u&w (a&b&c)"));
    assert_null(strstr(text, "F1"));
    aud_free(text);
    assert_int_equal(aud_findings_text(doc, "nothing", &text, &err), AUD_OK);
    assert_null(text);
    cJSON_Delete(doc);
}

/* Fail the k-th allocation (aud_global_init routes cJSON's through the same funnel) for every k
 * until a build succeeds. */
static void test_allocation_failures(void **state)
{
    (void)state;
    aud_error err;
    int done = 0;
    for (long k = 1; k < 5000 && !done; k++) {
        cJSON *doc = cJSON_Parse(doc_text);
        assert_non_null(doc);
        aud_alloc_fail_after(k);
        int rc = aud_findings_build(doc, &err);
        char *text = NULL;
        if (rc == AUD_OK)
            rc = aud_findings_text(doc, NULL, &text, &err);
        aud_alloc_fail_after(0);
        assert_true(rc == AUD_OK || rc == AUD_E_NOMEM);
        done = rc == AUD_OK;
        aud_free(text);
        cJSON_Delete(doc);
    }
    assert_true(done);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ampersand_names_and_summaries),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
