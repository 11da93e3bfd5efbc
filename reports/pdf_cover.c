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
    aud_pdf_text(d, d->bold, 9.0f, x, d->y, AUD_PDF_GREY, role);
    /* a long name wraps onto a second line (smaller type if need be), never cut */
    if (name[0] != '\0')
        aud_pdf_text_lines(d, d->font, 10.0f, 7.0f, x, d->y - 16.0f, w, 2, 0, AUD_PDF_BLACK, name);
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
    d->y = PDF_H - 60.0f;
    aud_pdf_text(d, d->bold, 9.0f, PDF_LEFT, d->y, AUD_PDF_ACCENT, "MODEL AUDIT REPORT");
    d->y -= 24.0f;
    aud_pdf_para(d, d->bold, 17.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK,
             aud_rpt_str(rep, "title", "Model audit report"));
    if (or_blank(aud_rpt_str(rep, "organization", NULL))[0] != '\0')
        aud_pdf_para(d, d->font, 11.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, aud_rpt_str(rep, "organization", ""));
    d->y -= 6.0f;

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
    const char *fp = aud_rpt_str(aud_rpt_obj(d->doc, "signature"), "key_fingerprint", NULL);
    if (fp != NULL) {   /* "sha256:" and 64 hex digits, on two lines */
        snprintf(buf, sizeof buf, "key %.39s", fp);
        aud_pdf_kv(d, "Signed (Ed25519)", buf);
        if (strlen(fp) > 39)
            aud_pdf_kv(d, "", fp + 39);
    }
    d->y -= 10.0f;

    /* verdict banner */
    {
        int fail = verdict != NULL && strcmp(verdict, "fail") == 0;
        int none = verdict == NULL;
        const cJSON *fs = aud_rpt_arr(d->doc, "findings"), *f;
        size_t n_fail = 0, n_warn = 0;
        cJSON_ArrayForEach(f, fs) {
            if (strcmp(aud_rpt_str(f, "severity", ""), "fail") == 0)
                n_fail++;
            else
                n_warn++;
        }
        pdf_rgb bg = none ? AUD_PDF_LIGHT : fail ? AUD_PDF_FAIL_BG : AUD_PDF_PASS_BG;
        pdf_rgb fg = none ? AUD_PDF_GREY : fail ? AUD_PDF_FAIL : AUD_PDF_PASS;
        aud_pdf_fill_rect(d, PDF_LEFT, d->y - 34.0f, PDF_CW, 48.0f, bg);
        aud_pdf_fill_rect(d, PDF_LEFT, d->y - 34.0f, 6.0f, 48.0f, fg);
        snprintf(buf, sizeof buf, "Verdict: %s", none ? "not recorded" : fail ? "FAIL" : "PASS");
        aud_pdf_text(d, d->bold, 16.0f, PDF_LEFT + 18.0f, d->y - 6.0f, fg, buf);
        if (n > 0 && fs != NULL && passed == n) {
            char warn[96] = "";
            if (n_warn > 0)
                snprintf(warn, sizeof warn, "; %zu warning%s below (the interval reaches the "
                         "bound)", n_warn, n_warn == 1 ? "" : "s");
            snprintf(buf, sizeof buf, "All %zu policy checks passed%s.", n, warn);
        } else if (n > 0 && fs != NULL) {
            char warn[64] = "";
            if (n_warn > 0)
                snprintf(warn, sizeof warn, " (and %zu warning%s)", n_warn, n_warn == 1 ? "" : "s");
            snprintf(buf, sizeof buf, "%zu of %zu policy checks failed; they come down to %zu "
                     "finding%s%s, below.", n - passed, n, n_fail, n_fail == 1 ? "" : "s", warn);
        }
        else if (n > 0)
            snprintf(buf, sizeof buf, "%zu of %zu policy checks passed, %zu failed", passed, n,
                     n - passed);
        else
            snprintf(buf, sizeof buf, "no policy checks were configured");
        aud_pdf_text(d, d->font, 9.5f, PDF_LEFT + 18.0f, d->y - 24.0f, AUD_PDF_BLACK, buf);
        d->y -= 56.0f;
    }

    aud_pdf_write_findings(d);

    /* signature lines for a dated, signed test report */
    {
        float w = (PDF_CW - 30.0f) / 2.0f;
        aud_pdf_need(d, 100.0f);
        d->y -= 10.0f;
        signature_block(d, PDF_LEFT, w, "Prepared by", or_blank(aud_rpt_str(rep, "prepared_by", NULL)));
        signature_block(d, PDF_LEFT + w + 30.0f, w, "Approved by",
                        or_blank(aud_rpt_str(rep, "approved_by", NULL)));
        d->y -= 70.0f;
    }
    aud_pdf_para(d, d->font, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
             "Every figure in this report is rendered from the results document (results.json "
             "of an audit run, or a command's --json document) described under Provenance; the "
             "report computes nothing itself. "
             "Definitions of every metric and test are in the methods appendix.");
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
    aud_rpt_command(d->doc, buf, sizeof buf);
    if (buf[0] != '\0')
        aud_pdf_kv(d, "Command", buf);
    aud_rpt_score_bins(d->doc, buf, sizeof buf);
    if (buf[0] != '\0')
        aud_pdf_kv(d, "Score bins", buf);
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
