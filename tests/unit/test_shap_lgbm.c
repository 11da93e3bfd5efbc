/* test_shap_lgbm.c - method tree vs LightGBM v4.6.0 pred_contrib (../shared/fixtures/lightgbm:
 * binary, regression, multiclass; 300 rows each (the committed subset), incl. threshold, NaN, categorical and extreme
 * edge rows). Tolerance |a - b| <= 1e-9 * max(1, |b|), as the fixtures' README recommends for a
 * TreeSHAP that sums in a different order than LightGBM (we measure ~1e-15).
 * The fixture CSVs are read here with strtod (they are plain: no quotes, empty = NaN), so that
 * the check does not depend on the project's CSV reader (which rejects "inf"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "models/model_int.h"
#include "explainers/shap.h"
#include "explainers/shap_int.h"

/* the committed subset of ../shared/fixtures/lightgbm (tests/golden/gen_lightgbm_subset.py):
 * rows 0-99 and every edge-case row 1800-1999 */
#define FIXTURES "tests/golden/data/lightgbm"

/* Read a numeric CSV with a header: returns rows x cols doubles (row-major), NaN for empty. */
static double *read_matrix(const char *path, size_t *rows, size_t *cols)
{
    char *text = NULL;
    size_t len = 0;
    aud_error err;
    if (aud_file_read(path, &text, &len, 0, &err) != AUD_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, err.msg);
        return NULL;
    }
    char *p = strchr(text, '\n');
    assert_non_null(p);
    size_t nc = 1;
    for (char *q = text; q < p; q++)
        nc += *q == ',';
    size_t nr = 0;
    for (char *q = p + 1; *q; q++)
        nr += *q == '\n';
    double *m = aud_malloc(nr * nc * sizeof *m);
    char *s = p + 1;
    for (size_t r = 0; r < nr; r++) {
        for (size_t c = 0; c < nc; c++) {
            char *end = s;
            if (*s == ',' || *s == '\n') {
                m[r * nc + c] = NAN;
            } else {
                m[r * nc + c] = strtod(s, &end);
                assert_true(end != s);
            }
            s = end;
            assert_true(*s == (c + 1 < nc ? ',' : '\n'));
            s++;
        }
    }
    aud_free(text);
    *rows = nr;
    *cols = nc;
    return m;
}

static void check_fixture(const char *name, int threads)
{
    char path[512];
    aud_error err;
    aud_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s/model.txt", FIXTURES, name);
    if (aud_model_load(&m, path, NULL, &err) != AUD_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        fail();
    }
    size_t n, nc, n2, nc2;
    snprintf(path, sizeof path, "%s/%s/input.csv", FIXTURES, name);
    double *X = read_matrix(path, &n, &nc);
    assert_non_null(X);
    assert_int_equal(nc, m->n_features);
    snprintf(path, sizeof path, "%s/%s/pred_contrib.csv", FIXTURES, name);
    double *ref = read_matrix(path, &n2, &nc2);
    assert_non_null(ref);
    assert_int_equal(n2, n);
    assert_int_equal(nc2, m->n_outputs * (m->n_features + 1));

    aud_shap_opts o;
    aud_shap_opts_default(&o);
    o.threads = threads;
    aud_shap_result *r = NULL;
    assert_int_equal(aud_shap_explain(&r, m, X, n, &o, &err), AUD_OK);
    assert_int_equal(r->stride, nc2);
    double worst = 0.0;
    for (size_t i = 0; i < n * nc2; i++) {
        double e = fabs(r->phi[i] - ref[i]) / fmax(1.0, fabs(ref[i]));
        if (!(e <= 1e-9)) {
            fprintf(stderr, "%s: row %zu col %zu: got %.17g want %.17g\n", name, i / nc2,
                    i % nc2, r->phi[i], ref[i]);
            fail();
        }
        worst = fmax(worst, e);
    }
    fprintf(stderr, "  %s: max relative |diff| vs pred_contrib %.3g, additivity %.3g\n", name,
            worst, r->additivity_max_error);
    assert_true(r->additivity_max_error < 1e-9);

    /* every tree through Linear TreeSHAP (treeshap_linear.c), whatever its depth */
    aud_shap_plan *plan = NULL;
    assert_int_equal(aud_shap_plan_new(&plan, m, &err), AUD_OK);
    int deepest = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        plan->lin_q[t] = plan->players[t] > 1 ? (plan->players[t] + 1) / 2 : 1;
        deepest = plan->depth[t] > deepest ? plan->depth[t] : deepest;
    }
    void *ws = aud_calloc(1, aud_shap_tree_ws_size(plan));
    double *phi = aud_calloc(nc2, sizeof *phi);
    double worst_lin = 0.0;
    for (size_t i = 0; i < n; i++) {
        memset(phi, 0, nc2 * sizeof *phi);
        aud_shap_tree_row(plan, X + i * nc, phi, ws, 0, -1);
        for (size_t j = 0; j < nc2; j++) {
            double want = ref[i * nc2 + j], e = fabs(phi[j] - want) / fmax(1.0, fabs(want));
            if (!(e <= 1e-9)) {
                fprintf(stderr, "%s linear: row %zu col %zu: got %.17g want %.17g\n", name, i, j,
                        phi[j], want);
                fail();
            }
            worst_lin = fmax(worst_lin, e);
        }
    }
    fprintf(stderr, "  %s: Linear TreeSHAP on every tree (depth <= %d): max relative |diff| "
            "%.3g\n", name, deepest, worst_lin);
    aud_free(phi);
    aud_free(ws);
    aud_shap_plan_free(plan);
    aud_shap_result_free(r);
    aud_free(X);
    aud_free(ref);
    aud_model_free(m);
}

static void test_lgbm_binary(void **state)
{
    (void)state;
    check_fixture("binary", 1);
}

static void test_lgbm_regression(void **state)
{
    (void)state;
    check_fixture("regression", 2);
}

static void test_lgbm_multiclass(void **state)
{
    (void)state;
    check_fixture("multiclass", 3);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lgbm_binary),
        cmocka_unit_test(test_lgbm_regression),
        cmocka_unit_test(test_lgbm_multiclass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
