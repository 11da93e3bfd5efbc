/* pdf_cover.c - cover page (title, organization, audit date, data source, verdict, signature
 * lines), the policy-check table coloured pass/fail, and provenance (hashes, tool version). */
#include "pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *or_blank(const char *s)
{
    return s != NULL ? s : "";
}

static void signature_block(pdf_doc *d, float x, float w, const char *role, const char *name)
{
    char buf[300];
    pdf_text(d, d->bold, 9.0f, x, d->y, PDF_GREY, role);
    pdf_fit(d, d->font, 10.0f, name[0] != '\0' ? name : "", w, buf, sizeof buf);
    pdf_text(d, d->font, 10.0f, x, d->y - 16.0f, PDF_BLACK, buf);
    pdf_line(d, x, d->y - 46.0f, x + w * 0.62f, d->y - 46.0f, 0.6f, PDF_BLACK);
    pdf_line(d, x + w * 0.68f, d->y - 46.0f, x + w, d->y - 46.0f, 0.6f, PDF_BLACK);
    pdf_text(d, d->font, 7.5f, x, d->y - 56.0f, PDF_GREY, "signature");
    pdf_text(d, d->font, 7.5f, x + w * 0.68f, d->y - 56.0f, PDF_GREY, "date");
}

static size_t count_checks(const cJSON *doc, size_t *passed)
{
    const cJSON *c;
    size_t n = 0;
    *passed = 0;
    cJSON_ArrayForEach(c, rpt_arr(doc, "checks")) {
        n++;
        if (rpt_bool(c, "passed") == 1)
            (*passed)++;
    }
    return n;
}

void pdf_write_cover(pdf_doc *d)
{
    const cJSON *rep = rpt_obj(d->doc, "report");
    const cJSON *prov = rpt_obj(d->doc, "provenance");
    const cJSON *model = rpt_obj(prov, "model");
    const char *verdict = rpt_str(d->doc, "verdict", NULL);
    char buf[600];
    size_t passed = 0, n = count_checks(d->doc, &passed);

    pdf_new_page(d);
    pdf_fill_rect(d, 0, PDF_H - 16.0f, PDF_W, 16.0f, PDF_ACCENT);
    d->y = PDF_H - 90.0f;
    pdf_text(d, d->bold, 10.0f, PDF_LEFT, d->y, PDF_ACCENT, "MODEL AUDIT REPORT");
    d->y -= 34.0f;
    pdf_para(d, d->bold, 24.0f, PDF_LEFT, PDF_CW, PDF_BLACK,
             rpt_str(rep, "title", "Model audit report"));
    d->y -= 2.0f;
    if (or_blank(rpt_str(rep, "organization", NULL))[0] != '\0')
        pdf_para(d, d->font, 14.0f, PDF_LEFT, PDF_CW, PDF_GREY, rpt_str(rep, "organization", ""));
    d->y -= 18.0f;

    pdf_kv(d, "Audit date", d->date[0] != '\0' ? d->date : "not recorded");
    pdf_kv(d, "Data source", or_blank(rpt_str(rep, "data_source", NULL))[0] != '\0'
                                 ? rpt_str(rep, "data_source", "")
                                 : "not stated");
    if (model != NULL) {
        snprintf(buf, sizeof buf, "%s (%s%s%s)", rpt_str(model, "path", "?"),
                 rpt_str(model, "format", "?"), rpt_str(model, "objective", NULL) ? ", " : "",
                 or_blank(rpt_str(model, "objective", NULL)));
        pdf_kv(d, "Model", buf);
    }
    snprintf(buf, sizeof buf, "%s %s", rpt_str(rpt_obj(d->doc, "tool"), "name", "audit"),
             rpt_str(rpt_obj(d->doc, "tool"), "version", "?"));
    pdf_kv(d, "Produced by", buf);
    d->y -= 16.0f;

    /* verdict banner */
    {
        int fail = verdict != NULL && strcmp(verdict, "fail") == 0;
        int none = verdict == NULL;
        pdf_rgb bg = none ? PDF_LIGHT : fail ? PDF_FAIL_BG : PDF_PASS_BG;
        pdf_rgb fg = none ? PDF_GREY : fail ? PDF_FAIL : PDF_PASS;
        pdf_fill_rect(d, PDF_LEFT, d->y - 40.0f, PDF_CW, 54.0f, bg);
        pdf_fill_rect(d, PDF_LEFT, d->y - 40.0f, 6.0f, 54.0f, fg);
        snprintf(buf, sizeof buf, "Verdict: %s", none ? "not recorded" : fail ? "FAIL" : "PASS");
        pdf_text(d, d->bold, 18.0f, PDF_LEFT + 18.0f, d->y - 8.0f, fg, buf);
        if (n > 0)
            snprintf(buf, sizeof buf, "%zu of %zu policy checks passed, %zu failed", passed, n,
                     n - passed);
        else
            snprintf(buf, sizeof buf, "no policy checks were configured");
        pdf_text(d, d->font, 10.0f, PDF_LEFT + 18.0f, d->y - 28.0f, PDF_BLACK, buf);
        d->y -= 80.0f;
    }

    /* signature lines for a dated, signed test report */
    {
        float w = (PDF_CW - 30.0f) / 2.0f;
        signature_block(d, PDF_LEFT, w, "Prepared by", or_blank(rpt_str(rep, "prepared_by", NULL)));
        signature_block(d, PDF_LEFT + w + 30.0f, w, "Approved by",
                        or_blank(rpt_str(rep, "approved_by", NULL)));
        d->y -= 74.0f;
    }
    pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, PDF_GREY,
             "Every figure in this report is rendered from the results document (results.json "
             "of an audit run, or a command's --json document) described under Provenance; the "
             "report computes nothing itself. "
             "Definitions of every metric and test are in the methods appendix.");
}

static void bound_text(const cJSON *c, char *buf)
{
    char t[RPT_NUMBUF];
    double lo = rpt_num(c, "min"), hi = rpt_num(c, "max");
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "%s..%s", rpt_fmt(lo, RPT_AUTO, t),
                 rpt_fmt(hi, RPT_AUTO, t + RPT_NUMBUF / 2));
    else if (isfinite(lo))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "\xe2\x89\xa5 %s", rpt_fmt(lo, RPT_AUTO, t));
    else if (isfinite(hi))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "\xe2\x89\xa4 %s", rpt_fmt(hi, RPT_AUTO, t));
    else
        snprintf(buf, 2 * RPT_NUMBUF + 8, "-");
}

void pdf_write_checks(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Metric", 132, PDF_AL_LEFT}, {"Scope", 118, PDF_AL_LEFT},
                                   {"Group", 102, PDF_AL_LEFT},  {"Value", 50, PDF_AL_RIGHT},
                                   {"Bound", 53, PDF_AL_RIGHT},  {"Result", 40, PDF_AL_CENTER}};
    const cJSON *checks = rpt_arr(d->doc, "checks");
    const cJSON *c;
    pdf_table t;
    d->y -= 8.0f;
    pdf_subsection(d, "Policy checks", 60.0f);
    if (rpt_count(checks) == 0) {
        pdf_not_run(d, "no policy checks were configured in the audit spec");
        return;
    }
    pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, PDF_GREY,
             "Each check compares one metric with the bound set in the audit spec. "
             "The run fails when any check fails.");
    d->y -= 4.0f;
    pdf_table_begin(d, &t, cols, sizeof cols / sizeof cols[0], 8.5f);
    cJSON_ArrayForEach(c, checks) {
        char val[RPT_NUMBUF], bound[2 * RPT_NUMBUF + 8];
        const char *where = rpt_str(c, "attribute", NULL);
        int ok = rpt_bool(c, "passed") == 1;
        if (where == NULL)
            where = rpt_str(c, "column", "");
        rpt_fmt(rpt_num(c, "value"), RPT_AUTO, val);
        bound_text(c, bound);
        const char *cells[6] = {rpt_metric_label(rpt_str(c, "metric", "?")), where,
                                rpt_str(c, "group", ""), val, bound, ok ? "pass" : "FAIL"};
        int st[6] = {PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_PLAIN,
                     PDF_CELL_MUTED, ok ? PDF_CELL_PASS : PDF_CELL_FAIL};
        pdf_table_row(d, &t, cells, st);
    }
    d->y -= 10.0f;
}

void pdf_write_provenance(pdf_doc *d)
{
    const cJSON *prov = rpt_obj(d->doc, "provenance");
    const cJSON *model = rpt_model_not_in_inputs(prov);
    const cJSON *in;
    char buf[600], t[RPT_NUMBUF];
    pdf_subsection(d, "Provenance", 120.0f);
    if (prov == NULL) {
        pdf_not_run(d, "the results document has no provenance section");
        return;
    }
    snprintf(buf, sizeof buf, "%s %s, results schema %s",
             rpt_str(rpt_obj(d->doc, "tool"), "name", "audit"),
             rpt_str(rpt_obj(d->doc, "tool"), "version", "?"),
             rpt_str(d->doc, "schema_version", "?"));
    pdf_kv(d, "Tool", buf);
    if (rpt_str(prov, "command", NULL) != NULL) {
        snprintf(buf, sizeof buf, "audit %s", rpt_str(prov, "command", ""));
        pdf_kv(d, "Command", buf);
    }
    pdf_kv(d, "Created (UTC)", rpt_str(prov, "created", "not recorded"));
    pdf_kv(d, "Audit spec", rpt_str(prov, "spec", "none"));
    pdf_kv(d, "Seed", rpt_fmt(rpt_num(prov, "seed"), RPT_INT, t));
    cJSON_ArrayForEach(in, rpt_arr(prov, "inputs")) {
        char rows[RPT_NUMBUF], colsb[RPT_NUMBUF];
        if (isfinite(rpt_num(in, "rows")))
            snprintf(buf, sizeof buf, "%s (%s rows, %s columns)", rpt_str(in, "path", "?"),
                     rpt_fmt(rpt_num(in, "rows"), RPT_INT, rows),
                     rpt_fmt(rpt_num(in, "columns"), RPT_INT, colsb));
        else if (rpt_str(in, "format", NULL) != NULL)
            snprintf(buf, sizeof buf, "%s (%s, %s)", rpt_str(in, "path", "?"),
                     rpt_str(in, "format", "?"), rpt_str(in, "objective", "objective n/a"));
        else
            snprintf(buf, sizeof buf, "%s", rpt_str(in, "path", "?"));
        char key[80];
        snprintf(key, sizeof key, "Input: %s", rpt_str(in, "role", "data"));
        pdf_kv(d, key, buf);
        pdf_kv(d, "    SHA-256", rpt_input_sha256(in));
    }
    if (model != NULL) {
        snprintf(buf, sizeof buf, "%s (%s, %s)", rpt_str(model, "path", "?"),
                 rpt_str(model, "format", "?"), rpt_str(model, "objective", "objective n/a"));
        pdf_kv(d, "Model", buf);
        pdf_kv(d, "    SHA-256", rpt_input_sha256(model));
    }
}
