/* pdf_cover.c - cover page (title, organization, audit date, data source, verdict, signature
 * lines), the policy-check table coloured pass/fail, and provenance (hashes, tool version). */
#include "reports/pdf_int.h"

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
    aud_pdf_text(d, d->bold, 9.0f, x, d->y, AUD_PDF_GREY, role);
    aud_pdf_fit(d, d->font, 10.0f, name[0] != '\0' ? name : "", w, buf, sizeof buf);
    aud_pdf_text(d, d->font, 10.0f, x, d->y - 16.0f, AUD_PDF_BLACK, buf);
    aud_pdf_line(d, x, d->y - 46.0f, x + w * 0.62f, d->y - 46.0f, 0.6f, AUD_PDF_BLACK);
    aud_pdf_line(d, x + w * 0.68f, d->y - 46.0f, x + w, d->y - 46.0f, 0.6f, AUD_PDF_BLACK);
    aud_pdf_text(d, d->font, 7.5f, x, d->y - 56.0f, AUD_PDF_GREY, "signature");
    aud_pdf_text(d, d->font, 7.5f, x + w * 0.68f, d->y - 56.0f, AUD_PDF_GREY, "date");
}

static size_t count_checks(const cJSON *doc, size_t *passed)
{
    const cJSON *c;
    size_t n = 0;
    *passed = 0;
    cJSON_ArrayForEach(c, aud_rpt_arr(doc, "checks")) {
        n++;
        if (aud_rpt_bool(c, "passed") == 1)
            (*passed)++;
    }
    return n;
}

void aud_pdf_write_cover(pdf_doc *d)
{
    const cJSON *rep = aud_rpt_obj(d->doc, "report");
    const cJSON *prov = aud_rpt_obj(d->doc, "provenance");
    const cJSON *model = aud_rpt_obj(prov, "model");
    const char *verdict = aud_rpt_str(d->doc, "verdict", NULL);
    char buf[600];
    size_t passed = 0, n = count_checks(d->doc, &passed);

    aud_pdf_new_page(d);
    aud_pdf_fill_rect(d, 0, PDF_H - 16.0f, PDF_W, 16.0f, AUD_PDF_ACCENT);
    d->y = PDF_H - 90.0f;
    aud_pdf_text(d, d->bold, 10.0f, PDF_LEFT, d->y, AUD_PDF_ACCENT, "MODEL AUDIT REPORT");
    d->y -= 34.0f;
    aud_pdf_para(d, d->bold, 24.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK,
             aud_rpt_str(rep, "title", "Model audit report"));
    d->y -= 2.0f;
    if (or_blank(aud_rpt_str(rep, "organization", NULL))[0] != '\0')
        aud_pdf_para(d, d->font, 14.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, aud_rpt_str(rep, "organization", ""));
    d->y -= 18.0f;

    aud_pdf_kv(d, "Audit date", d->date[0] != '\0' ? d->date : "not recorded");
    aud_pdf_kv(d, "Data source", or_blank(aud_rpt_str(rep, "data_source", NULL))[0] != '\0'
                                 ? aud_rpt_str(rep, "data_source", "")
                                 : "not stated");
    if (model != NULL) {
        snprintf(buf, sizeof buf, "%s (%s%s%s)", aud_rpt_str(model, "path", "?"),
                 aud_rpt_str(model, "format", "?"), aud_rpt_str(model, "objective", NULL) ? ", " : "",
                 or_blank(aud_rpt_str(model, "objective", NULL)));
        aud_pdf_kv(d, "Model", buf);
    }
    snprintf(buf, sizeof buf, "%s %s", aud_rpt_str(aud_rpt_obj(d->doc, "tool"), "name", "audit"),
             aud_rpt_str(aud_rpt_obj(d->doc, "tool"), "version", "?"));
    aud_pdf_kv(d, "Produced by", buf);
    const char *fp = aud_rpt_str(aud_rpt_obj(d->doc, "signature"), "key_fingerprint", NULL);
    if (fp != NULL) {   /* "sha256:" and 64 hex digits, on two lines */
        snprintf(buf, sizeof buf, "key %.39s", fp);
        aud_pdf_kv(d, "Signed (Ed25519)", buf);
        if (strlen(fp) > 39)
            aud_pdf_kv(d, "", fp + 39);
    }
    d->y -= 16.0f;

    /* verdict banner */
    {
        int fail = verdict != NULL && strcmp(verdict, "fail") == 0;
        int none = verdict == NULL;
        pdf_rgb bg = none ? AUD_PDF_LIGHT : fail ? AUD_PDF_FAIL_BG : AUD_PDF_PASS_BG;
        pdf_rgb fg = none ? AUD_PDF_GREY : fail ? AUD_PDF_FAIL : AUD_PDF_PASS;
        aud_pdf_fill_rect(d, PDF_LEFT, d->y - 40.0f, PDF_CW, 54.0f, bg);
        aud_pdf_fill_rect(d, PDF_LEFT, d->y - 40.0f, 6.0f, 54.0f, fg);
        snprintf(buf, sizeof buf, "Verdict: %s", none ? "not recorded" : fail ? "FAIL" : "PASS");
        aud_pdf_text(d, d->bold, 18.0f, PDF_LEFT + 18.0f, d->y - 8.0f, fg, buf);
        if (n > 0)
            snprintf(buf, sizeof buf, "%zu of %zu policy checks passed, %zu failed", passed, n,
                     n - passed);
        else
            snprintf(buf, sizeof buf, "no policy checks were configured");
        aud_pdf_text(d, d->font, 10.0f, PDF_LEFT + 18.0f, d->y - 28.0f, AUD_PDF_BLACK, buf);
        d->y -= 80.0f;
    }

    /* signature lines for a dated, signed test report */
    {
        float w = (PDF_CW - 30.0f) / 2.0f;
        signature_block(d, PDF_LEFT, w, "Prepared by", or_blank(aud_rpt_str(rep, "prepared_by", NULL)));
        signature_block(d, PDF_LEFT + w + 30.0f, w, "Approved by",
                        or_blank(aud_rpt_str(rep, "approved_by", NULL)));
        d->y -= 74.0f;
    }
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Every figure in this report is rendered from the results document (results.json "
             "of an audit run, or a command's --json document) described under Provenance; the "
             "report computes nothing itself. "
             "Definitions of every metric and test are in the methods appendix.");
}

static void bound_text(const cJSON *c, char *buf)
{
    char t[RPT_NUMBUF];
    double lo = aud_rpt_num(c, "min"), hi = aud_rpt_num(c, "max");
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "%s..%s", aud_rpt_fmt(lo, RPT_AUTO, t),
                 aud_rpt_fmt(hi, RPT_AUTO, t + RPT_NUMBUF / 2));
    else if (isfinite(lo))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "\xe2\x89\xa5 %s", aud_rpt_fmt(lo, RPT_AUTO, t));
    else if (isfinite(hi))
        snprintf(buf, 2 * RPT_NUMBUF + 8, "\xe2\x89\xa4 %s", aud_rpt_fmt(hi, RPT_AUTO, t));
    else
        snprintf(buf, 2 * RPT_NUMBUF + 8, "-");
}

void aud_pdf_write_checks(pdf_doc *d)
{
    static const pdf_col cols[] = {{"Metric", 132, PDF_AL_LEFT}, {"Scope", 118, PDF_AL_LEFT},
                                   {"Group", 102, PDF_AL_LEFT},  {"Value", 50, PDF_AL_RIGHT},
                                   {"Bound", 53, PDF_AL_RIGHT},  {"Result", 40, PDF_AL_CENTER}};
    const cJSON *checks = aud_rpt_arr(d->doc, "checks");
    const cJSON *c;
    pdf_table t;
    d->y -= 8.0f;
    aud_pdf_subsection(d, "Policy checks", 60.0f);
    if (aud_rpt_count(checks) == 0) {
        aud_pdf_not_run(d, "no policy checks were configured in the audit spec");
        return;
    }
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Each check compares one metric with the bound set in the audit spec. "
             "The run fails when any check fails.");
    d->y -= 4.0f;
    aud_pdf_table_begin(d, &t, cols, sizeof cols / sizeof cols[0], 8.5f);
    cJSON_ArrayForEach(c, checks) {
        char val[RPT_NUMBUF], bound[2 * RPT_NUMBUF + 8];
        const char *where = aud_rpt_str(c, "attribute", NULL);
        int ok = aud_rpt_bool(c, "passed") == 1;
        if (where == NULL)
            where = aud_rpt_str(c, "column", "");
        aud_rpt_fmt(aud_rpt_num(c, "value"), RPT_AUTO, val);
        bound_text(c, bound);
        const char *cells[6] = {aud_rpt_metric_label(aud_rpt_str(c, "metric", "?")), where,
                                aud_rpt_str(c, "group", ""), val, bound, ok ? "pass" : "FAIL"};
        int st[6] = {PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_PLAIN,
                     PDF_CELL_MUTED, ok ? PDF_CELL_PASS : PDF_CELL_FAIL};
        aud_pdf_table_row(d, &t, cells, st);
    }
    d->y -= 10.0f;
}

void aud_pdf_write_provenance(pdf_doc *d)
{
    const cJSON *prov = aud_rpt_obj(d->doc, "provenance");
    const cJSON *model = aud_rpt_model_not_in_inputs(prov);
    const cJSON *in;
    char buf[600], t[RPT_NUMBUF];
    aud_pdf_subsection(d, "Provenance", 120.0f);
    if (prov == NULL) {
        aud_pdf_not_run(d, "the results document has no provenance section");
        return;
    }
    snprintf(buf, sizeof buf, "%s %s, results schema %s",
             aud_rpt_str(aud_rpt_obj(d->doc, "tool"), "name", "audit"),
             aud_rpt_str(aud_rpt_obj(d->doc, "tool"), "version", "?"),
             aud_rpt_str(d->doc, "schema_version", "?"));
    aud_pdf_kv(d, "Tool", buf);
    if (aud_rpt_str(prov, "command", NULL) != NULL) {
        snprintf(buf, sizeof buf, "audit %s", aud_rpt_str(prov, "command", ""));
        aud_pdf_kv(d, "Command", buf);
    }
    aud_pdf_kv(d, "Created (UTC)", aud_rpt_str(prov, "created", "not recorded"));
    aud_pdf_kv(d, "Audit spec", aud_rpt_str(prov, "spec", "none"));
    aud_pdf_kv(d, "Seed", aud_rpt_fmt(aud_rpt_num(prov, "seed"), RPT_INT, t));
    cJSON_ArrayForEach(in, aud_rpt_arr(prov, "inputs")) {
        char rows[RPT_NUMBUF], colsb[RPT_NUMBUF];
        if (isfinite(aud_rpt_num(in, "rows")))
            snprintf(buf, sizeof buf, "%s (%s rows, %s columns)", aud_rpt_str(in, "path", "?"),
                     aud_rpt_fmt(aud_rpt_num(in, "rows"), RPT_INT, rows),
                     aud_rpt_fmt(aud_rpt_num(in, "columns"), RPT_INT, colsb));
        else if (aud_rpt_str(in, "format", NULL) != NULL)
            snprintf(buf, sizeof buf, "%s (%s, %s)", aud_rpt_str(in, "path", "?"),
                     aud_rpt_str(in, "format", "?"), aud_rpt_str(in, "objective", "objective n/a"));
        else
            snprintf(buf, sizeof buf, "%s", aud_rpt_str(in, "path", "?"));
        char key[80];
        snprintf(key, sizeof key, "Input: %s", aud_rpt_str(in, "role", "data"));
        aud_pdf_kv(d, key, buf);
        aud_pdf_kv(d, "    SHA-256", aud_rpt_input_sha256(in));
    }
    if (model != NULL) {
        snprintf(buf, sizeof buf, "%s (%s, %s)", aud_rpt_str(model, "path", "?"),
                 aud_rpt_str(model, "format", "?"), aud_rpt_str(model, "objective", "objective n/a"));
        aud_pdf_kv(d, "Model", buf);
        aud_pdf_kv(d, "    SHA-256", aud_rpt_input_sha256(model));
    }
}
