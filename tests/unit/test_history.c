/* test_history.c - the trend statistics at their edges (metrics/trend.c) and the history store
 * under allocation failure (audit/history.c): every failing allocation ends in a status, the
 * database keeps each run whole or not at all, and nothing leaks (sanitizer build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/history.h"
#include "audit/spec_int.h"
#include "metrics/trend_int.h"

static void test_trend_small_cases(void **state)
{
    (void)state;
    aud_error err;
    aud_trend t;
    double up[] = {1, 2, 3, 4, 5};
    assert_int_equal(aud_trend_compute(up, 5, 0.95, &t, &err), AUD_OK);
    assert_int_equal(t.n, 5);
    assert_true(t.s == 10.0 && fabs(t.var_s - 50.0 / 3.0) < 1e-12);
    assert_true(fabs(t.z - 9.0 / sqrt(50.0 / 3.0)) < 1e-12);
    assert_true(fabs(t.p_value - 0.027486336110) < 1e-9);   /* 2 * norm.sf(2.2045...) */
    assert_true(t.tau == 1.0 && t.slope == 1.0 && t.slope_low == 1.0 && t.slope_high == 1.0);

    double flat[] = {2, 2, 2, 2};
    assert_int_equal(aud_trend_compute(flat, 4, 0.95, &t, &err), AUD_OK);
    assert_true(t.s == 0.0 && t.var_s == 0.0 && t.p_value == 1.0 && t.slope == 0.0);
    assert_true(isnan(t.tau));   /* tau-b undefined without variation */

    double gaps[] = {NAN, 3, NAN, 1};   /* NaN values are left out; x keeps run order */
    assert_int_equal(aud_trend_compute(gaps, 4, 0.95, &t, &err), AUD_OK);
    assert_int_equal(t.n, 2);
    assert_true(t.s == -1.0 && t.slope == -1.0 && isnan(t.p_value));

    assert_int_equal(aud_trend_compute(gaps, 1, 0.95, &t, &err), AUD_OK);
    assert_int_equal(t.n, 0);
    assert_true(isnan(t.slope) && isnan(t.p_value));
    assert_int_equal(aud_trend_compute(up, 5, 1.0, &t, &err), AUD_E_DOMAIN);
}

static const char doc_text[] =
    "{\"provenance\": {\"created\": \"2026-01-01T00:00:00Z\", \"spec\": \"s.json\","
    " \"inputs\": [{\"role\": \"spec\", \"path\": \"s.json\", \"sha256\": \"ab\"}]},"
    " \"fairness\": {\"attributes\": [{\"name\": \"sex\", \"groups\": [{\"group\": \"f\","
    "   \"count\": 10, \"selection_rate\": 0.5, \"selection_rate_ci\": [0.2, 0.8]}]}]},"
    " \"drift\": {\"drift_share\": 0, \"columns\": [{\"name\": \"x\", \"statistic\": 0.1}]},"
    " \"performance\": {\"overall\": {\"rows\": 10, \"auc\": 0.7}},"
    " \"checks\": [{\"metric\": \"disparate_impact\", \"attribute\": \"sex\", \"group\": \"f\","
    "   \"value\": 0.9, \"min\": 0.8, \"passed\": true},"
    "  {\"metric\": \"auc\", \"value\": 0.7, \"min\": 0.6, \"passed\": true}],"
    " \"verdict\": \"pass\"}";

static long count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_history_under_allocation_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/audit-history-XXXXXX", path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/h.db", dir);
    aud_error err;
    cJSON *doc = NULL;
    assert_int_equal(aud_json_parse_located(&doc, doc_text, strlen(doc_text), "doc", &err),
                     AUD_OK);
    aud_history_query q = {.k = 3, .confidence = 0.95};
    long recorded = 0;
    for (long k = 1; k < 120; k++) {   /* the k-th allocation fails (late k: none does) */
        aud_history *h = NULL;
        cJSON *series = NULL;
        aud_alloc_fail_after(k);
        int rc = aud_history_open(&h, path, 1, &err);
        if (rc == AUD_OK)
            rc = aud_history_record(h, doc, NULL, NULL, NULL, &err);
        if (rc == AUD_OK)
            recorded++;
        if (rc == AUD_OK)
            rc = aud_history_series(h, &q, doc, &series, &err);
        aud_alloc_fail_after(0);
        cJSON_Delete(series);
        aud_history_close(h);
        /* whatever failed, every recorded run is whole (no schema yet: nothing recorded) */
        if (recorded == 0 && count(path, "SELECT count(*) FROM runs") < 0)
            continue;
        assert_int_equal(count(path, "SELECT count(*) FROM runs"), recorded);
        assert_int_equal(count(path, "SELECT count(*) FROM checks"), 2 * recorded);
        assert_int_equal(count(path, "SELECT count(*) FROM group_rates"), recorded);
    }
    assert_true(recorded > 1);
    cJSON_Delete(doc);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trend_small_cases),
        cmocka_unit_test(test_history_under_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
