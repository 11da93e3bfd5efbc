/* xlsx_overview.c - the workbook's first sheet, "Overview": the verdict, the findings (SPEC
 * section 7: severity, sentence, what drives it, proxy flag, evidence), what each sheet of the
 * workbook holds (issue 14 item 11) and the policy checks with failures first, each naming its
 * reference group and what drives summary rows. */
#include "reports/xlsx_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void findings_table(xw_book *b, lxw_worksheet *ws, lxw_row_t *row)
{
    static const char *const head[] = {"ID", "Severity", "Finding", "What drives it",
                                       "Likely proxy", "Share of gap", "Kind", "Metric",
                                       "Attribute", "Group", "Reference", "Value", "CI low",
                                       "CI high", "Min", "Max", "Evidence rows"};
    /* the check table below shares these columns: ID/Metric, Severity/Metric id,
     * Finding/Attribute, ... so each width serves both (LibreOffice showed "Dispar" for
     * "Disparate impact" in a width made for "F1") */
    static const double widths[] = {24, 24, 90, 22, 11, 11, 11, 26, 16, 14, 12, 10, 10, 10, 8, 8,
                                    10};
    const size_t nc = sizeof head / sizeof head[0];
    const cJSON *f;
    lxw_row_t r = *row, first = r;
    aud_xw_header(b, ws, r++, head, widths, nc);
    cJSON_ArrayForEach(f, aud_rpt_arr(b->doc, "findings")) {
        int fail = strcmp(aud_rpt_str(f, "severity", ""), "fail") == 0;
        const cJSON *drv = aud_rpt_obj(f, "drivers");
        const cJSON *top = cJSON_GetArrayItem(aud_rpt_arr(drv, "features"), 0);
        const cJSON *by = aud_rpt_obj(f, "driven_by");
        const cJSON *ci = aud_rpt_arr(f, "ci");
        char drives[200] = "";
        if (top != NULL)
            snprintf(drives, sizeof drives, "%s", aud_rpt_str(top, "name", ""));
        else if (by != NULL)
            snprintf(drives, sizeof drives, "%s: %s vs %s", aud_rpt_str(by, "rate", "?"),
                     aud_rpt_str(aud_rpt_obj(by, "low"), "group", "?"),
                     aud_rpt_str(aud_rpt_obj(by, "high"), "group", "?"));
        aud_xw_str(b, ws, r, 0, aud_rpt_str(f, "id", ""), NULL);
        aud_xw_str(b, ws, r, 1, fail ? "FAIL" : "WARN", fail ? b->red : b->amber);
        const char *sentence = aud_rpt_str(f, "sentence", "");
        aud_xw_str(b, ws, r, 2, sentence, b->wrap);
        /* a wrapped cell does not grow its row by itself (libxlsxwriter writes no autofit; a
         * reader that honours the stored height overlapped the next finding): about 95
         * characters a line in the 90-wide column, 15 points a line */
        size_t lines = strlen(sentence) / 95 + 1;
        aud_xw_chk(b, worksheet_set_row(ws, r, 15.0 * (double)lines, NULL), "row height");
        aud_xw_str(b, ws, r, 3, drives[0] ? drives : NULL, NULL);
        if (top != NULL) {
            aud_xw_bool(b, ws, r, 4, aud_rpt_bool(top, "likely_proxy") == 1);
            aud_xw_num(b, ws, r, 5, aud_rpt_num(top, "share"), b->pct);
        }
        aud_xw_str(b, ws, r, 6, aud_rpt_str(f, "kind", NULL), NULL);
        aud_xw_str(b, ws, r, 7, aud_rpt_str(f, "metric", NULL), NULL);
        aud_xw_str(b, ws, r, 8, aud_rpt_str(f, "attribute", aud_rpt_str(f, "column", NULL)), NULL);
        aud_xw_str(b, ws, r, 9, aud_rpt_str(f, "group", NULL), NULL);
        aud_xw_str(b, ws, r, 10, aud_rpt_str(f, "reference", NULL), NULL);
        aud_xw_num(b, ws, r, 11, aud_rpt_num(f, "value"), b->rate);
        if (cJSON_GetArraySize(ci) == 2) {
            aud_xw_json(b, ws, r, 12, cJSON_GetArrayItem(ci, 0), b->rate);
            aud_xw_json(b, ws, r, 13, cJSON_GetArrayItem(ci, 1), b->rate);
        }
        aud_xw_num(b, ws, r, 14, aud_rpt_num(aud_rpt_obj(f, "bound"), "min"), b->rate);
        aud_xw_num(b, ws, r, 15, aud_rpt_num(aud_rpt_obj(f, "bound"), "max"), b->rate);
        aud_xw_num(b, ws, r, 16, (double)aud_rpt_count(aud_rpt_arr(f, "evidence")), b->count);
        r++;
    }
    if (r == first + 1)
        aud_xw_str(b, ws, r++, 0, "No findings: every policy check passed, and no interval reaches past its bound.",
                   b->muted);
    aud_xw_table(b, ws, first, r - 1, (lxw_col_t)nc);
    *row = r;
}

/* One table of the checks that are (tech) or are not technical, failures first; the row after
 * it. */
static lxw_row_t checks_rows(xw_book *b, lxw_worksheet *ws, lxw_row_t r, int tech)
{
    static const char *const head[] = {"Metric", "Metric id", "Attribute / column", "Group",
                                       "Reference", "Driven by", "Low group", "Low",
                                       "High group", "High", "Value", "Min", "Max", "Passed"};
    aud_xw_str(b, ws, r++, 0, tech ? "Technical checks (the computation, not the model: SHAP "
                                     "additivity)" : "Policy checks, failures first", b->key);
    aud_xw_header(b, ws, r++, head, NULL, sizeof head / sizeof head[0]);
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, aud_rpt_arr(b->doc, "checks")) {
            int ok = aud_rpt_bool(c, "passed") == 1;
            if (ok != pass || aud_rpt_check_is_technical(c) != tech)
                continue;
            const cJSON *by = aud_rpt_obj(c, "driven_by");
            /* the name for people first, the machine id beside it in grey (issue 14 item 2) */
            aud_xw_str(b, ws, r, 0, aud_rpt_metric_label(aud_rpt_str(c, "metric", "?")), NULL);
            aud_xw_str(b, ws, r, 1, aud_rpt_str(c, "metric", "?"), b->muted);
            aud_xw_str(b, ws, r, 2, aud_rpt_str(c, "attribute", aud_rpt_str(c, "column", NULL)),
                       NULL);
            aud_xw_str(b, ws, r, 3, aud_rpt_str(c, "group", NULL), NULL);
            aud_xw_str(b, ws, r, 4, aud_rpt_str(c, "reference", NULL), NULL);
            if (by != NULL) {
                aud_xw_str(b, ws, r, 5, aud_rpt_str(by, "rate", NULL), NULL);
                aud_xw_str(b, ws, r, 6, aud_rpt_str(aud_rpt_obj(by, "low"), "group", NULL), NULL);
                aud_xw_num(b, ws, r, 7, aud_rpt_num(aud_rpt_obj(by, "low"), "value"), b->rate);
                aud_xw_str(b, ws, r, 8, aud_rpt_str(aud_rpt_obj(by, "high"), "group", NULL), NULL);
                aud_xw_num(b, ws, r, 9, aud_rpt_num(aud_rpt_obj(by, "high"), "value"), b->rate);
            }
            aud_xw_num(b, ws, r, 10, aud_rpt_num(c, "value"), b->rate);
            aud_xw_num(b, ws, r, 11, aud_rpt_num(c, "min"), b->rate);
            aud_xw_num(b, ws, r, 12, aud_rpt_num(c, "max"), b->rate);
            aud_xw_bool(b, ws, r, 13, ok);
            r++;
        }
    }
    return r;
}

/* What a sheet holds, in a sentence; NULL for a name this table does not know. */
static const char *sheet_contents(const char *name)
{
    static const char *const what[][2] = {
        {"Overview", "This sheet: the verdict, the findings, this list and the policy checks."},
        {"Summary", "Every policy check as a filterable table: metric, attribute, group, value, "
                    "bounds, passed."},
        {"Model", "The model card (what the spec says about the model and what its file "
                  "says), performance overall and by group, ROC and calibration curves."},
        {"Explanations", "Global feature importance: mean |SHAP| and mean SHAP per feature, "
                         "with its chart."},
        {"Attributions", "One row per explained data row (the first 100,000, fewer for wide "
                         "models): prediction, "
                         "model output, base value and the SHAP value of each feature."},
        {"Fairness", "Per protected attribute: every group's size, rates with intervals, "
                     "gaps to the reference group; the summary metrics; what each rate means "
                     "here."},
        {"Intersections", "The same as Fairness for combinations of protected attributes."},
        {"Drift", "Per column: the drift test, statistic, threshold and decision, the other "
                  "statistics, and prediction drift."},
        {"Performance", "Performance metrics overall and per group (AUC, accuracy, log-loss, "
                        "Brier)."},
        {"Global", "Permutation importance with intervals, partial dependence and ICE values "
                   "per feature, with charts."},
        {"Trends", "The checks' values over the earlier runs of this audit."},
        {"Data", "A profile of each column of the audited data: type, counts, missing "
                 "values, quantiles."},
        {"Provenance", "The files audited (paths, SHA-256, rows, columns), the tool, the "
                       "options and the seeds."},
    };
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++)
        if (strcmp(what[i][0], name) == 0)
            return what[i][1];
    return NULL;
}

/* "What each sheet holds": one row per sheet of the workbook, in tab order; the row after it. */
static lxw_row_t sheet_guide(xw_book *b, lxw_worksheet *ws, lxw_row_t r)
{
    static const char *const head[] = {"Sheet", "What it holds"};
    lxw_row_t first;
    aud_xw_str(b, ws, r++, 0, "What each sheet holds", b->key);
    first = r;
    aud_xw_header(b, ws, r++, head, NULL, 2);
    for (int i = 0; i < b->n_sheets; i++) {
        const char *what = sheet_contents(b->sheets[i]);
        aud_xw_str(b, ws, r, 0, b->sheets[i], NULL);
        aud_xw_str(b, ws, r, 1, what != NULL ? what : "", NULL);
        r++;
    }
    aud_xw_table(b, ws, first, r - 1, 2);
    return r;
}

static void checks_table(xw_book *b, lxw_worksheet *ws, lxw_row_t r)
{
    size_t n_tech = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, aud_rpt_arr(b->doc, "checks"))
        n_tech += (size_t)aud_rpt_check_is_technical(c);
    r = checks_rows(b, ws, r, 0);
    if (n_tech > 0)   /* checks on the computation, not on the model: their own table */
        checks_rows(b, ws, r + 1, 1);
}

void aud_xw_overview(xw_book *b)
{
    const cJSON *checks = aud_rpt_arr(b->doc, "checks"), *c;
    const char *v = aud_rpt_str(b->doc, "verdict", NULL);
    size_t n = 0, failed = 0;
    char buf[200];
    if (checks == NULL && aud_rpt_arr(b->doc, "findings") == NULL)
        return;   /* a command's document: nothing to conclude */
    lxw_worksheet *ws = aud_xw_sheet(b, "Overview");
    lxw_row_t r = 0;
    if (ws == NULL)
        return;
    cJSON_ArrayForEach(c, checks) {
        n++;
        failed += aud_rpt_bool(c, "passed") != 1;
    }
    aud_xw_str(b, ws, r, 0, "Verdict", b->key);
    aud_xw_str(b, ws, r, 1, v != NULL ? (strcmp(v, "fail") == 0 ? "FAIL" : "PASS") : "not recorded",
               v == NULL ? NULL : strcmp(v, "fail") == 0 ? b->red : b->green);
    snprintf(buf, sizeof buf, "%zu of %zu policy checks failed", failed, n);
    aud_xw_str(b, ws, r++, 2, buf, NULL);
    r++;
    if (aud_rpt_arr(b->doc, "findings") == NULL) {
        aud_xw_str(b, ws, r++, 0, "This results document has no findings (results schema 1).",
                   b->muted);
    } else {
        findings_table(b, ws, &r);
    }
    b->overview = ws;
    b->overview_row = r + 2;
}

void aud_xw_overview_finish(xw_book *b)
{
    if (b->overview == NULL || b->status != LXW_NO_ERROR)
        return;
    checks_table(b, b->overview, sheet_guide(b, b->overview, b->overview_row) + 2);
}
