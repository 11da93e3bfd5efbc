/* embed.c - a program that embeds libaudit through its one public header, audit/audit.h.
 * `make check` builds it (cc -I. embed.c libaudit.a ...) and runs it, so the header stays
 * enough for this: load a table and a model, predict, explain, fairness, drift, profile, a
 * results document, a whole `audit run` of a spec, and a report from its results.
 *
 *   embed DIR    works in DIR (created files: data.csv, model.json, spec.json, out/...)
 * Prints one line per step; exit 0 when every step did what it should. */
#include "audit/audit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char data_csv[] =
    "x,z,sex,label\n"
    "0.1,1.0,F,0\n0.9,0.2,M,1\n0.4,0.5,F,1\n-0.3,1.5,M,0\n0.7,0.1,F,1\n"
    "0.2,0.8,M,0\n1.1,0.3,F,1\n-0.5,1.2,M,0\n0.6,0.4,F,1\n0.3,0.9,M,1\n";

static const char model_json[] =
    "{\"format\": \"audit-linear\", \"version\": 1, \"link\": \"logit\", \"intercept\": -0.2,"
    " \"coefficients\": {\"x\": 2.0, \"z\": -1.0}}";

static int write_text(const char *dir, const char *name, const char *text, char *path,
                      size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int fail(const char *step, const aud_error *err)
{
    char msg[1024];
    aud_error_format(err, msg, sizeof msg);
    fprintf(stderr, "embed: %s: %s\n", step, msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: embed DIR\n");
        return 2;
    }
    aud_global_init();
    char data[512], model_path[512], spec_path[512], spec[2048];
    if (write_text(argv[1], "data.csv", data_csv, data, sizeof data) != 0 ||
        write_text(argv[1], "model.json", model_json, model_path, sizeof model_path) != 0)
        return 2;
    aud_error err;
    aud_error_clear(&err);

    /* load a table and a model */
    aud_csv_opts co;
    aud_csv_opts_default(&co);
    aud_table *t = NULL;
    aud_model *m = NULL;
    if (aud_table_load_csv(&t, data, &co, &err) != AUD_OK)
        return fail("table", &err);
    if (aud_model_load(&m, model_path, NULL, &err) != AUD_OK)
        return fail("model", &err);
    printf("table: %zu rows, %zu columns; model: %zu features\n", t->n_rows, t->n_cols,
           aud_model_features(m));

    /* predict: the probability of row 2 is sigmoid(-0.2 + 2 * 0.9 - 1 * 0.2) */
    double *p = NULL;
    size_t k = 0;
    if (aud_predict(m, model_path, t, 0, 2, &p, &k, NULL, &err) != AUD_OK)
        return fail("predict", &err);
    double want = 1.0 / (1.0 + exp(-(-0.2 + 2.0 * 0.9 - 0.2)));
    printf("predict: row 2 %.6f (expected %.6f)\n", p[1], want);
    int bad = k != 1 || fabs(p[1] - want) > 1e-12;

    /* explain rows 0..9 against a background sampled from the data */
    aud_explain_request xr = {.model = m, .model_path = model_path, .data = t, .row_begin = 0,
                              .row_end = t->n_rows, .background_rows = 100};
    aud_shap_opts_default(&xr.opts);
    aud_explain_input xin;
    aud_shap_result *sr = NULL;
    if (aud_explain_prepare(&xin, &xr, &err) != AUD_OK ||
        aud_shap_explain(&sr, m, xin.X, xin.n_rows, &xin.opts, &err) != AUD_OK)
        return fail("explain", &err);
    printf("explain: %s, additivity error %.3g\n", aud_shap_method_name(xin.opts.method),
           sr->additivity_max_error);
    bad |= !(sr->additivity_max_error < 1e-9) || xin.opts.method != AUD_SHAP_LINEAR;
    aud_explain_input_free(&xin);

    /* fairness of the model's decisions at 0.5, by sex, reference F */
    const char *sensitive[] = {"sex"};
    aud_reference ref = {"sex", "F"};
    aud_fairness_request rq = {.data = t, .sensitive = sensitive, .n_sensitive = 1,
                               .refs = &ref, .n_refs = 1, .label = "label", .model = m,
                               .model_path = model_path};
    aud_fair_opts fo;
    aud_fair_opts_default(&fo);
    fo.threshold = 0.5;
    fo.n_bootstrap = 0;
    aud_fair_result *fr = NULL;
    if (aud_fairness(&fr, &rq, &fo, NULL, &err) != AUD_OK)
        return fail("fairness", &err);
    printf("fairness: %zu groups of %s, reference %s\n", fr->attrs[0].n_groups,
           fr->attrs[0].name, fr->attrs[0].groups[fr->attrs[0].reference].name);

    /* drift of the table against itself: nothing drifts */
    aud_drift_opts dopts;
    aud_drift_opts_default(&dopts);
    aud_drift_result *dr = NULL;
    if (aud_drift(&dr, t, t, NULL, 0, NULL, 0, &dopts, &err) != AUD_OK)
        return fail("drift", &err);
    printf("drift: %zu of %zu columns drifted\n", dr->n_drifted, dr->n_tested);
    bad |= dr->n_drifted != 0;

    /* profile, and a results document with fairness, drift and the profile */
    aud_profile *pr = NULL;
    cJSON *doc = NULL, *prov = NULL;
    char out_json[600];
    snprintf(out_json, sizeof out_json, "%s/embed.json", argv[1]);
    if (aud_profile_compute(&pr, t, 1, &err) != AUD_OK ||
        aud_prov_doc_new(&doc, &prov, "embed", NULL, &err) != AUD_OK ||
        aud_prov_add_input(prov, "data", data, t, NULL, &err) != AUD_OK ||
        aud_prov_add_model(prov, model_path, m, &err) != AUD_OK ||
        aud_fair_to_json(fr, doc, &err) != AUD_OK || aud_drift_to_json(dr, doc, &err) != AUD_OK ||
        aud_profile_to_json(pr, doc, &err) != AUD_OK || aud_json_write(doc, out_json, &err))
        return fail("document", &err);
    printf("document: %s\n", out_json);

    /* a whole run of a spec, then a report from its results */
    snprintf(spec, sizeof spec,
             "{\"data\": \"%s\", \"model\": \"%s\", \"label\": \"label\", \"threshold\": 0.5,"
             " \"sensitive\": [\"sex\"], \"fairness\": {\"bootstrap\": 0}, \"explain\": false,"
             " \"outputs\": {\"dir\": \"%s/out\", \"pdf\": null, \"xlsx\": null}}",
             data, model_path, argv[1]);
    if (write_text(argv[1], "spec.json", spec, spec_path, sizeof spec_path) != 0)
        return 2;
    aud_run_opts ro = {.spec_path = spec_path, .threads = 1};
    aud_run_outcome outcome;
    if (aud_run(&ro, &outcome, &err) != AUD_OK)
        return fail("run", &err);
    printf("run: %zu checks, %zu failed, %s\n", outcome.n_checks, outcome.n_failed,
           outcome.results_path);
    cJSON *results = NULL;
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/out/report.xlsx", argv[1]);
    if (aud_report_load(outcome.results_path, &results, &err) != AUD_OK ||
        aud_report_write_xlsx(results, xlsx, &err) != AUD_OK)
        return fail("report", &err);
    printf("report: %s\n", xlsx);

    /* and an error, located */
    aud_table *none = NULL;
    bad |= aud_table_load_csv(&none, "/nonexistent/x.csv", &co, &err) == AUD_OK;
    bad |= aud_status_exit_code(err.code) != 2;
    printf("error: %s\n", err.msg);

    cJSON_Delete(results);
    cJSON_Delete(doc);
    aud_profile_free(pr);
    aud_drift_result_free(dr);
    aud_fair_result_free(fr);
    aud_shap_result_free(sr);
    aud_free(p);
    aud_model_free(m);
    aud_table_free(t);
    return bad;
}
