/* pdf_findings.c - the findings on the first page (SPEC section 7: severity, sentence, what
 * drives it, proxy flag, evidence) and the policy-check table, failures first, each row naming
 * its reference group and, for per-attribute summaries, the rate and the groups behind it. */
#include "reports/pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *rate_short(const char *rate)
{
    if (rate == NULL)
        return "?";
    if (strcmp(rate, "tpr") == 0)
        return "TPR";
    if (strcmp(rate, "fpr") == 0)
        return "FPR";
    if (strcmp(rate, "selection_rate") == 0)
        return "selection rate";
    return rate;
}

static const char *measure_name(const char *m)
{
    if (m == NULL)
        return "association";
    if (strcmp(m, "cramers_v") == 0)
        return "Cram\xc3\xa9r's V";
    if (strcmp(m, "correlation_ratio") == 0)
        return "correlation ratio";
    return m;
}

/* The fairness section's object of an attribute or an intersection (a&b), or NULL. */
static const cJSON *attribute_entry(const cJSON *doc, const char *attribute)
{
    const cJSON *a;
    const cJSON *fair = aud_rpt_obj(doc, "fairness");
    const char *list = attribute != NULL && strchr(attribute, '&') != NULL ? "intersections"
                                                                           : "attributes";
    cJSON_ArrayForEach(a, aud_rpt_arr(fair, list)) {
        const char *nm = aud_rpt_str(a, "name", NULL);
        if (nm != NULL && attribute != NULL && strcmp(nm, attribute) == 0)
            return a;
    }
    return NULL;
}

/* The proxy screen's entry for a feature of an attribute or an intersection, when the
 * fairness section has one. */
static const cJSON *proxy_entry(const cJSON *doc, const char *attribute, const char *feature)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, aud_rpt_arr(attribute_entry(doc, attribute), "proxies")) {
        const char *f = aud_rpt_str(p, "feature", NULL);
        if (f != NULL && feature != NULL && strcmp(f, feature) == 0)
            return p;
    }
    return NULL;
}

/* "What drives it" lines of one finding. */
/* An earlier finding with the same decomposition (same attribute and group), or NULL. */
static const cJSON *same_drivers(const cJSON *findings, const cJSON *f)
{
    const cJSON *e;
    const char *a = aud_rpt_str(f, "attribute", ""), *g = aud_rpt_str(aud_rpt_obj(f, "drivers"),
                                                                      "group", NULL);
    cJSON_ArrayForEach(e, findings) {
        if (e == f)
            return NULL;
        const char *g2 = aud_rpt_str(aud_rpt_obj(e, "drivers"), "group", NULL);
        if (g != NULL && g2 != NULL && strcmp(g, g2) == 0 &&
            strcmp(a, aud_rpt_str(e, "attribute", "")) == 0)
            return e;
    }
    return NULL;
}

static void driver_lines(pdf_doc *d, const cJSON *f, float x, float w)
{
    const cJSON *drv = aud_rpt_obj(f, "drivers");
    const cJSON *same = same_drivers(aud_rpt_arr(d->doc, "findings"), f);
    const cJSON *by = aud_rpt_obj(f, "driven_by");
    const cJSON *feat;
    char buf[700], t[RPT_NUMBUF];
    size_t len = 0, k = 0;
    if (same != NULL) {
        const cJSON *top = cJSON_GetArrayItem(aud_rpt_arr(drv, "features"), 0);
        snprintf(buf, sizeof buf, "What drives it: as in %s (group %s against %s; %s %s of the "
                 "gap%s).", aud_rpt_str(same, "id", "?"), aud_rpt_str(drv, "group", "?"),
                 aud_rpt_str(drv, "reference", "?"), aud_rpt_str(top, "name", "?"),
                 aud_rpt_fmt(aud_rpt_num(top, "share"), RPT_PCT1, t),
                 aud_rpt_bool(top, "likely_proxy") == 1 ? ", a likely proxy" : "");
        aud_pdf_para(d, d->font, 8.5f, x, w, AUD_PDF_BLACK, buf);
    } else if (aud_rpt_count(aud_rpt_arr(drv, "features")) > 0) {
        const char *scale = aud_rpt_str(drv, "scale", "margin");
        len += (size_t)snprintf(buf, sizeof buf, "What drives it: ");
        cJSON_ArrayForEach(feat, aud_rpt_arr(drv, "features")) {
            if (k++ == 3 || len >= sizeof buf)
                break;
            double sh = aud_rpt_num(feat, "share");
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %s", k > 1 ? ", " : "",
                                    aud_rpt_str(feat, "name", "?"),
                                    isfinite(sh) ? aud_rpt_fmt(sh, RPT_PCT1, t) : "n/a");
        }
        if (len < sizeof buf)
            snprintf(buf + len, sizeof buf - len,
                     " of the %s gap in mean model output (%s), group %s against %s.",
                     aud_rpt_fmt(aud_rpt_num(drv, "gap"), RPT_AUTO, t), scale,
                     aud_rpt_str(f, "group", aud_rpt_str(drv, "group", "?")),
                     aud_rpt_str(f, "reference", aud_rpt_str(drv, "reference", "?")));
        aud_pdf_para(d, d->font, 8.5f, x, w, AUD_PDF_BLACK, buf);
        cJSON_ArrayForEach(feat, aud_rpt_arr(drv, "features")) {
            if (aud_rpt_bool(feat, "likely_proxy") != 1)
                continue;
            const char *name = aud_rpt_str(feat, "name", "?");
            const cJSON *p = proxy_entry(d->doc, aud_rpt_str(f, "attribute", NULL), name);
            char as[RPT_NUMBUF], sh[RPT_NUMBUF];
            if (p != NULL)
                snprintf(buf, sizeof buf, "Likely proxy: %s stands in for %s (%s %s; %s of the "
                         "gap).", name, aud_rpt_str(f, "attribute", "?"),
                         measure_name(aud_rpt_str(p, "measure", NULL)),
                         aud_rpt_fmt(aud_rpt_num(p, "association"), RPT_F3, as),
                         aud_rpt_fmt(aud_rpt_num(feat, "share"), RPT_PCT1, sh));
            else
                snprintf(buf, sizeof buf, "Likely proxy: %s stands in for %s (%s of the gap).",
                         name, aud_rpt_str(f, "attribute", "?"),
                         aud_rpt_fmt(aud_rpt_num(feat, "share"), RPT_PCT1, sh));
            aud_pdf_para(d, d->bold, 8.5f, x, w, AUD_PDF_FAIL, buf);
        }
        const char *no_screen = aud_rpt_str(attribute_entry(d->doc, aud_rpt_str(f, "attribute",
                                                                                NULL)),
                                            "proxies_reason", NULL);
        if (no_screen != NULL) {   /* a merged run that could not screen: say why */
            snprintf(buf, sizeof buf, "Proxy screen: not run here (%s).", no_screen);
            aud_pdf_para(d, d->font, 8.0f, x, w, AUD_PDF_GREY, buf);
        }
    } else if (by != NULL) {
        char hi[RPT_NUMBUF], lo[RPT_NUMBUF];
        const cJSON *h = aud_rpt_obj(by, "high"), *l = aud_rpt_obj(by, "low");
        snprintf(buf, sizeof buf, "Driven by the %s: %s for group %s against %s for group %s.",
                 rate_short(aud_rpt_str(by, "rate", NULL)),
                 aud_rpt_fmt(aud_rpt_num(l, "value"), RPT_PCT1, lo), aud_rpt_str(l, "group", "?"),
                 aud_rpt_fmt(aud_rpt_num(h, "value"), RPT_PCT1, hi), aud_rpt_str(h, "group", "?"));
        aud_pdf_para(d, d->font, 8.5f, x, w, AUD_PDF_BLACK, buf);
    } else if (strcmp(aud_rpt_str(f, "kind", ""), "fairness") == 0) {
        /* why there is none: a merged document says its own reason (the model may well have
         * explanations) */
        const char *why = aud_rpt_skip_reason(d->doc, "fairness drivers and proxies");
        if (why != NULL)
            snprintf(buf, sizeof buf, "What drives it: not decomposed here (%s).", why);
        else
            snprintf(buf, sizeof buf, "What drives it: the results document holds no "
                     "decomposition of this gap (it needs a model with explanations).");
        aud_pdf_para(d, d->font, 8.0f, x, w, AUD_PDF_GREY, buf);
    }
}

static void evidence_line(pdf_doc *d, const cJSON *f, float x, float w)
{
    const cJSON *ev = aud_rpt_arr(f, "evidence"), *e, *worst = NULL;
    size_t n = aud_rpt_count(ev);
    char buf[600], t[RPT_NUMBUF];
    if (n == 0)
        return;
    double lo = aud_rpt_num(aud_rpt_obj(f, "bound"), "min");
    cJSON_ArrayForEach(e, ev) {   /* the furthest from the bound */
        double v = aud_rpt_num(e, "value");
        if (worst == NULL || (isfinite(v) && (isfinite(lo) ? v < aud_rpt_num(worst, "value")
                                                            : v > aud_rpt_num(worst, "value"))))
            worst = e;
    }
    const char *wg = aud_rpt_str(worst, "group", NULL);
    snprintf(buf, sizeof buf, "Also in %zu intersection%s (evidence under this finding); furthest "
             "from the bound: %s%s%s%s %s.", n, n == 1 ? "" : "s", wg != NULL ? wg : "",
             wg != NULL ? " (" : "", aud_rpt_str(worst, "attribute", "?"), wg != NULL ? ")" : "",
             aud_rpt_fmt(aud_rpt_num(worst, "value"), RPT_AUTO, t));
    aud_pdf_para(d, d->font, 8.0f, x, w, AUD_PDF_GREY, buf);
}

/* Which threshold trade-off of the fairness section speaks to a finding's metric. */
static const char *tradeoff_kind(const char *metric)
{
    static const char *const sel[] = {"disparate_impact", "impact_ratio", "selection_rate",
                                      "demographic_parity", "fisher_p_value"};
    static const char *const err[] = {"equalized_odds", "equal_opportunity", "average_odds",
                                      "average_abs_odds", "tpr", "fpr"};
    for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++)
        if (strncmp(metric, sel[i], strlen(sel[i])) == 0)
            return "impact_ratio";
    for (size_t i = 0; i < sizeof err / sizeof err[0]; i++)
        if (strncmp(metric, err[i], strlen(err[i])) == 0)
            return "equal_tpr";
    return NULL;
}

#define ARROW " \xe2\x86\x92 "

/* "Size of the trade-off" line: the group thresholds that would reach the target and what they
 * cost, as the fairness section computed them (information, never advice). */
static int tradeoff_line(pdf_doc *d, const cJSON *f, float x, float w)
{
    const cJSON *all = aud_rpt_obj(f, "tradeoffs");
    const char *kind = tradeoff_kind(aud_rpt_str(f, "metric", ""));
    const cJSON *t = kind != NULL ? aud_rpt_obj(all, kind) : NULL;
    const cJSON *g;
    char buf[1200], a[RPT_NUMBUF], b[RPT_NUMBUF], c2[RPT_NUMBUF], e[RPT_NUMBUF];
    size_t len = 0, n = 0;
    if (t == NULL || aud_rpt_bool(t, "needed") == 0)
        return 0;
    len += (size_t)snprintf(buf, sizeof buf, "Trade-off (information, not advice): "
                            "threshold%s ", "s");
    cJSON_ArrayForEach(g, aud_rpt_arr(t, "groups")) {
        if (aud_rpt_bool(g, "changed") != 1 || len >= sizeof buf)
            continue;
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %s (from %s)", n++ ? ", " : "",
                                aud_rpt_str(g, "group", "?"),
                                aud_rpt_fmt(aud_rpt_num(g, "threshold_after"), RPT_F3, a),
                                aud_rpt_fmt(aud_rpt_num(g, "threshold_before"), RPT_AUTO, b));
    }
    if (n == 0)
        return 0;
    if (len < sizeof buf && strcmp(kind, "impact_ratio") == 0)
        len += (size_t)snprintf(buf + len, sizeof buf - len, " would bring every eligible group "
                                "to an impact ratio of at least %s",
                                aud_rpt_fmt(aud_rpt_num(t, "target"), RPT_AUTO, a));
    else if (len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, " would equalise the TPR at %s "
                                "(gap %s" ARROW "%s)",
                                aud_rpt_fmt(aud_rpt_num(t, "target_tpr"), RPT_PCT1, a),
                                aud_rpt_fmt(aud_rpt_num(t, "tpr_gap_before"), RPT_F3, b),
                                aud_rpt_fmt(aud_rpt_num(t, "tpr_gap_after"), RPT_F3, c2));
    const cJSON *be = aud_rpt_obj(t, "before"), *af = aud_rpt_obj(t, "after");
    if (len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "; approval rate %s" ARROW "%s, "
                                "accuracy %s" ARROW "%s",
                                aud_rpt_fmt(aud_rpt_num(be, "approval_rate"), RPT_PCT1, a),
                                aud_rpt_fmt(aud_rpt_num(af, "approval_rate"), RPT_PCT1, b),
                                aud_rpt_fmt(aud_rpt_num(be, "accuracy"), RPT_PCT1, c2),
                                aud_rpt_fmt(aud_rpt_num(af, "accuracy"), RPT_PCT1, e));
    if (len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, " (%s).", aud_rpt_str(all, "rule", "as before"));
    aud_pdf_para(d, d->font, 8.0f, x, w, AUD_PDF_GREY, buf);
    return 1;
}

void aud_pdf_write_findings(pdf_doc *d)
{
    const cJSON *fs = aud_rpt_arr(d->doc, "findings");
    const cJSON *f;
    const char *notice = NULL;
    const float tag_w = 36.0f, x = PDF_LEFT + tag_w + 10.0f, w = PDF_CW - tag_w - 10.0f;
    if (fs == NULL && aud_rpt_arr(d->doc, "checks") == NULL)
        return;   /* a command's document: no checks, nothing to conclude */
    aud_pdf_subsection(d, "Findings", 40.0f);
    if (fs == NULL) {
        aud_pdf_not_run(d, "this results document has no findings (results schema 1, written "
                           "before findings existed); the checks follow");
        return;
    }
    if (aud_rpt_count(fs) == 0) {
        aud_pdf_para(d, d->font, 9.5f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK,
                     "No findings: every policy check passed, and no confidence interval "
                     "reaches past its bound.");
        return;
    }
    aud_pdf_para(d, d->font, 8.0f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                 "Failed checks grouped by cause: an intersection that only repeats the failure "
                 "of a coarser group is evidence under it, not a finding of its own. FAIL: the "
                 "check failed and its interval lies beyond the bound (or it has none). WARN: "
                 "the bound lies inside the interval, so the result could go either way.");
    d->y -= 4.0f;
    cJSON_ArrayForEach(f, fs) {
        int fail = strcmp(aud_rpt_str(f, "severity", ""), "fail") == 0;
        pdf_rgb c = fail ? AUD_PDF_FAIL : AUD_PDF_WARN;
        /* keep a finding on one page: its sentence's lines plus about five short lines */
        float lines = aud_pdf_width(d, d->font, 9.5f, aud_rpt_str(f, "sentence", "")) / w + 1.0f;
        aud_pdf_need(d, 12.5f * lines + 55.0f);
        float top = d->y;
        HPDF_Page page = d->page;
        aud_pdf_fill_rect(d, PDF_LEFT, top - 4.0f, tag_w, 14.0f, c);
        aud_pdf_text_center(d, d->bold, 8.0f, PDF_LEFT + tag_w / 2.0f, top, (pdf_rgb){1, 1, 1},
                            fail ? "FAIL" : "WARN");
        aud_pdf_text_center(d, d->font, 7.5f, PDF_LEFT + tag_w / 2.0f, top - 14.0f, AUD_PDF_GREY,
                            aud_rpt_str(f, "id", ""));
        aud_pdf_para(d, d->font, 9.5f, x, w, AUD_PDF_BLACK, aud_rpt_str(f, "sentence", ""));
        driver_lines(d, f, x, w);
        evidence_line(d, f, x, w);
        if (tradeoff_line(d, f, x, w))
            notice = aud_rpt_str(aud_rpt_obj(f, "tradeoffs"), "notice", NULL);
        if (d->page == page && d->y > top - 26.0f)
            d->y = top - 26.0f;
        d->y -= 7.0f;
    }
    if (notice != NULL) {   /* said once, plainly (SPEC section 7: information, never advice) */
        aud_pdf_need(d, 30.0f);
        aud_pdf_para(d, d->bold, 7.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY, notice);
    }
}

static void bound_text(const cJSON *c, char *buf, size_t n)
{
    char a[RPT_NUMBUF], b[RPT_NUMBUF];
    double lo = aud_rpt_num(c, "min"), hi = aud_rpt_num(c, "max");
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, n, "%s..%s", aud_rpt_fmt(lo, RPT_AUTO, a), aud_rpt_fmt(hi, RPT_AUTO, b));
    else if (isfinite(lo))
        snprintf(buf, n, "\xe2\x89\xa5 %s", aud_rpt_fmt(lo, RPT_AUTO, a));
    else if (isfinite(hi))
        snprintf(buf, n, "\xe2\x89\xa4 %s", aud_rpt_fmt(hi, RPT_AUTO, a));
    else
        snprintf(buf, n, "-");
}

/* The rows of the checks that are (tech) or are not technical, failures first. */
static void check_table(pdf_doc *d, const cJSON *checks, int tech)
{
    static const pdf_col cols[] = {{"Metric", 108, PDF_AL_LEFT}, {"Scope", 74, PDF_AL_LEFT},
                                   {"Group / driven by", 120, PDF_AL_LEFT},
                                   {"Reference", 60, PDF_AL_LEFT}, {"Value", 46, PDF_AL_RIGHT},
                                   {"Bound", 44, PDF_AL_RIGHT}, {"Result", 43, PDF_AL_CENTER}};
    const cJSON *c;
    pdf_table t;
    aud_pdf_table_begin(d, &t, cols, sizeof cols / sizeof cols[0], 8.0f);
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(c, checks) {
            char val[RPT_NUMBUF], bound[2 * RPT_NUMBUF + 8], grp[300], a[RPT_NUMBUF],
                b[RPT_NUMBUF];
            int ok = aud_rpt_bool(c, "passed") == 1;
            if (ok != pass || aud_rpt_check_is_technical(c) != tech)
                continue;
            const char *where = aud_rpt_str(c, "attribute", NULL);
            const cJSON *by = aud_rpt_obj(c, "driven_by");
            if (where == NULL)
                where = aud_rpt_str(c, "column", "");
            if (by != NULL)
                snprintf(grp, sizeof grp, "%s: %s %s, %s %s",
                         rate_short(aud_rpt_str(by, "rate", NULL)),
                         aud_rpt_str(aud_rpt_obj(by, "low"), "group", "?"),
                         aud_rpt_fmt(aud_rpt_num(aud_rpt_obj(by, "low"), "value"), RPT_F3, a),
                         aud_rpt_str(aud_rpt_obj(by, "high"), "group", "?"),
                         aud_rpt_fmt(aud_rpt_num(aud_rpt_obj(by, "high"), "value"), RPT_F3, b));
            else
                snprintf(grp, sizeof grp, "%s", aud_rpt_str(c, "group", ""));
            aud_rpt_fmt(aud_rpt_num(c, "value"), RPT_AUTO, val);
            bound_text(c, bound, sizeof bound);
            char name[200];
            const char *id = aud_rpt_str(c, "metric", "?"), *lab = aud_rpt_metric_label(id);
            /* the name for people, the machine id small beside it (issue 14 item 2) */
            if (strcmp(lab, id) != 0)
                snprintf(name, sizeof name, "%s\n%s", lab, id);
            else
                snprintf(name, sizeof name, "%s", lab);
            const char *cells[7] = {name, where,
                                    grp, aud_rpt_str(c, "reference", ""), val, bound,
                                    ok ? "pass" : "FAIL"};
            int st[7] = {PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_PLAIN, PDF_CELL_MUTED,
                         PDF_CELL_PLAIN, PDF_CELL_MUTED, ok ? PDF_CELL_PASS : PDF_CELL_FAIL};
            aud_pdf_table_row(d, &t, cells, st);
        }
    }
}

void aud_pdf_write_checks(pdf_doc *d)
{
    const cJSON *checks = aud_rpt_arr(d->doc, "checks");
    const cJSON *c;
    size_t n_tech = 0;
    aud_pdf_section_need(d, "Policy checks", 240.0f);
    if (aud_rpt_count(checks) == 0) {
        aud_pdf_not_run(d, "no policy checks were configured in the audit spec");
        return;
    }
    aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                 "Each check compares one metric with the bound set in the audit spec; the run "
                 "fails when any check fails. Failures come first. Ratios and differences are "
                 "against the reference group named in each row; for a summary over an "
                 "attribute's groups the row names the rate and the two groups that set it.");
    d->y -= 4.0f;
    check_table(d, checks, 0);
    cJSON_ArrayForEach(c, checks)
        n_tech += (size_t)aud_rpt_check_is_technical(c);
    if (n_tech > 0) {   /* checks on the computation, not on the model: their own table */
        d->y -= 6.0f;
        aud_pdf_subsection(d, "Technical checks", 80.0f);
        aud_pdf_para(d, d->font, 8.5f, PDF_LEFT, PDF_CW, AUD_PDF_GREY,
                     "These check the computation rather than the model: the additivity error "
                     "is the largest gap between a row's base value plus its SHAP values and "
                     "the model's output. A failure means the explanations cannot be trusted, "
                     "not that the model is unfair.");
        d->y -= 4.0f;
        check_table(d, checks, 1);
    }
    d->y -= 10.0f;
}
