/* xlsx_book.c - aud_report_write_xlsx: workbook setup in a temporary file beside the target,
 * formats, the Summary and Provenance sheets, then rename into place. */
#include "reports/report.h"
#include "core/io.h"
#include "reports/xlsx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static lxw_format *fmt(xw_book *b, const char *num, int bold, lxw_color_t bg, lxw_color_t fg)
{
    lxw_format *f = workbook_add_format(b->wb);
    if (f == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "format");
        return NULL;
    }
    if (num != NULL)
        format_set_num_format(f, num);
    if (bold)
        format_set_bold(f);
    if (bg != LXW_COLOR_UNSET) {
        format_set_bg_color(f, bg);
        format_set_pattern(f, LXW_PATTERN_SOLID);
    }
    if (fg != LXW_COLOR_UNSET)
        format_set_font_color(f, fg);
    return f;
}

static void formats(xw_book *b)
{
    b->head = fmt(b, NULL, 1, 0x214D87, LXW_COLOR_WHITE);
    if (b->head != NULL) {
        format_set_text_wrap(b->head);
        format_set_align(b->head, LXW_ALIGN_VERTICAL_TOP);
    }
    b->title = fmt(b, NULL, 1, LXW_COLOR_UNSET, 0x214D87);
    if (b->title != NULL)
        format_set_font_size(b->title, 16);
    b->key = fmt(b, NULL, 1, LXW_COLOR_UNSET, 0x555555);
    b->text = fmt(b, "@", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->wrap = fmt(b, NULL, 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    if (b->wrap != NULL)
        format_set_text_wrap(b->wrap);
    b->rate = fmt(b, "0.0000", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->pct = fmt(b, "0.0%", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->count = fmt(b, "#,##0", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->pval = fmt(b, "0.000E+00", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->shap = fmt(b, "0.000000", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    b->num = fmt(b, "General", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    /* spelt out: LibreOffice shows a boolean cell with a General format as 1 and 0 */
    b->boolean = fmt(b, "\"TRUE\";\"TRUE\";\"FALSE\"", 0, LXW_COLOR_UNSET, LXW_COLOR_UNSET);
    if (b->boolean != NULL)
        format_set_align(b->boolean, LXW_ALIGN_CENTER);
    b->red = fmt(b, NULL, 1, 0xFFC7CE, 0x9C0006);
    b->green = fmt(b, NULL, 0, 0xC6EFCE, 0x006100);
    b->amber = fmt(b, NULL, 0, 0xFFEB9C, 0x9C5700);
    b->muted = fmt(b, NULL, 0, LXW_COLOR_UNSET, 0x666666);
}

static void kv(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *k, const char *v)
{
    aud_xw_str(b, ws, r, 0, k, b->key);
    aud_xw_str(b, ws, r, 1, v, NULL);
}

/* Summary: the checks table from A1 (frozen header, Excel table, red/green Passed), the report
 * facts below it in columns A:B - never beside the table, where filtering the table would hide
 * them with its rows. */
void aud_xw_summary(xw_book *b)
{
    static const char *const head[] = {"Metric", "Attribute", "Group", "Column", "Value",
                                       "Min", "Max", "Passed"};
    static const double widths[] = {28, 20, 24, 14, 11, 9, 9, 8};
    const cJSON *rep = aud_rpt_obj(b->doc, "report");
    const cJSON *c, *s;
    const lxw_col_t K = 0;
    lxw_worksheet *ws = aud_xw_sheet(b, "Summary");
    lxw_row_t r = 0;
    char date[16];
    if (ws == NULL)
        return;
    aud_xw_header(b, ws, 0, head, widths, 8);
    r = 1;
    cJSON_ArrayForEach(c, aud_rpt_arr(b->doc, "checks")) {
        aud_xw_str(b, ws, r, 0, aud_rpt_str(c, "metric", "?"), NULL);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(c, "attribute", NULL), NULL);
        aud_xw_str(b, ws, r, 2, aud_rpt_str(c, "group", NULL), NULL);
        aud_xw_str(b, ws, r, 3, aud_rpt_str(c, "column", NULL), NULL);
        aud_xw_num(b, ws, r, 4, aud_rpt_num(c, "value"), b->rate);
        aud_xw_num(b, ws, r, 5, aud_rpt_num(c, "min"), b->rate);
        aud_xw_num(b, ws, r, 6, aud_rpt_num(c, "max"), b->rate);
        aud_xw_bool(b, ws, r, 7, aud_rpt_bool(c, "passed"));
        r++;
    }
    aud_xw_table(b, ws, 0, r - 1, 8);
    aud_xw_cf_bool(b, ws, 1, r - 1, 7, 0);
    if (r == 1)
        aud_xw_str(b, ws, 1, 0, "no policy checks were configured", b->muted);

    r = r < 2 ? 4 : r + 2;
    /* the title unwrapped, running on into the empty cells to its right: wrapped in the
     * 20-wide column B, LibreOffice kept the row one line high and drew the title's second
     * line over the Organization row */
    aud_xw_str(b, ws, r, K, "Report", b->key);
    aud_xw_str(b, ws, r++, K + 1, aud_rpt_str(rep, "title", "Model audit report"), b->key);
    aud_rpt_audit_date(b->doc, date, sizeof date);
    aud_xw_str(b, ws, r, K, "Organization", b->key);
    aud_xw_str(b, ws, r++, K + 1, aud_rpt_str(rep, "organization", ""), NULL);
    aud_xw_str(b, ws, r, K, "Audit date", b->key);
    aud_xw_str(b, ws, r++, K + 1, date, NULL);
    aud_xw_str(b, ws, r, K, "Data source", b->key);
    aud_xw_str(b, ws, r++, K + 1, aud_rpt_str(rep, "data_source", ""), NULL);
    aud_xw_str(b, ws, r, K, "Prepared by", b->key);
    aud_xw_str(b, ws, r++, K + 1, aud_rpt_str(rep, "prepared_by", ""), NULL);
    aud_xw_str(b, ws, r, K, "Approved by", b->key);
    aud_xw_str(b, ws, r++, K + 1, aud_rpt_str(rep, "approved_by", ""), NULL);
    {
        const char *v = aud_rpt_str(b->doc, "verdict", NULL);
        aud_xw_str(b, ws, r, K, "Verdict", b->key);
        aud_xw_str(b, ws, r++, K + 1, v != NULL ? (strcmp(v, "fail") == 0 ? "FAIL" : "PASS") : "",
               v == NULL ? NULL : strcmp(v, "fail") == 0 ? b->red : b->green);
    }
    {
        const cJSON *dr = aud_rpt_obj(b->doc, "drift");
        if (dr != NULL) {
            aud_xw_str(b, ws, r, K, "Drift share", b->key);
            aud_xw_num(b, ws, r++, K + 1, aud_rpt_num(dr, "drift_share"), b->rate);
            aud_xw_str(b, ws, r, K, "Dataset drift", b->key);
            aud_xw_bool(b, ws, r++, K + 1, aud_rpt_bool(dr, "dataset_drift"));
        }
    }
    cJSON_ArrayForEach(s, aud_rpt_arr(b->doc, "skipped")) {
        char buf[600];
        snprintf(buf, sizeof buf, "not run: %s", aud_rpt_str(s, "reason", "no reason given"));
        aud_xw_str(b, ws, r, K, aud_rpt_str(s, "section", "?"), b->key);
        aud_xw_str(b, ws, r++, K + 1, buf, b->muted);
    }
}

void aud_xw_provenance(xw_book *b)
{
    static const char *const head[] = {"Role", "Path", "SHA-256", "Rows", "Columns"};
    static const double widths[] = {16, 40, 68, 10, 10};
    const cJSON *prov = aud_rpt_obj(b->doc, "provenance");
    const cJSON *model = aud_rpt_obj(prov, "model");
    const cJSON *model_row = aud_rpt_model_not_in_inputs(prov);
    const cJSON *in;
    lxw_worksheet *ws = aud_xw_sheet(b, "Provenance");
    lxw_row_t r, first;
    if (ws == NULL)
        return;
    first = 0;
    aud_xw_header(b, ws, 0, head, widths, 5);
    r = 1;
    cJSON_ArrayForEach(in, aud_rpt_arr(prov, "inputs")) {
        aud_xw_str(b, ws, r, 0, aud_rpt_str(in, "role", ""), NULL);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(in, "path", ""), NULL);
        aud_xw_str(b, ws, r, 2, aud_rpt_input_sha256(in), b->text);
        aud_xw_num(b, ws, r, 3, aud_rpt_num(in, "rows"), b->count);
        aud_xw_num(b, ws, r, 4, aud_rpt_num(in, "columns"), b->count);
        r++;
    }
    if (model_row != NULL) {
        aud_xw_str(b, ws, r, 0, "model", NULL);
        aud_xw_str(b, ws, r, 1, aud_rpt_str(model_row, "path", ""), NULL);
        aud_xw_str(b, ws, r, 2, aud_rpt_input_sha256(model_row), b->text);
        r++;
    }
    aud_xw_table(b, ws, first, r - 1, 5);
    r++;
    kv(b, ws, r++, "Tool", aud_rpt_str(aud_rpt_obj(b->doc, "tool"), "name", ""));
    kv(b, ws, r++, "Tool version", aud_rpt_str(aud_rpt_obj(b->doc, "tool"), "version", ""));
    kv(b, ws, r++, "Results schema", aud_rpt_str(b->doc, "schema_version", ""));
    {
        char cmd[200];
        aud_rpt_command(b->doc, cmd, sizeof cmd);
        if (cmd[0] != '\0')
            kv(b, ws, r++, "Command", cmd);
        char bins[400];
        aud_rpt_score_bins(b->doc, bins, sizeof bins);
        if (bins[0] != '\0')
            kv(b, ws, r++, "Score bins", bins);
    }
    kv(b, ws, r++, "Created (UTC)", aud_rpt_str(prov, "created", ""));
    kv(b, ws, r++, "Audit spec", aud_rpt_str(prov, "spec", ""));
    aud_xw_str(b, ws, r, 0, "Seed", b->key);
    aud_xw_num(b, ws, r++, 1, aud_rpt_num(prov, "seed"), b->num);
    if (model != NULL) {
        kv(b, ws, r++, "Model format", aud_rpt_str(model, "format", ""));
        kv(b, ws, r++, "Model objective", aud_rpt_str(model, "objective", ""));
    }
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS" (UTC), or 0. */
static time_t created_time(const char *s)
{
    struct tm tm;
    int v[6] = {0, 0, 0, 0, 0, 0};
    static const int pos[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    if (strlen(s) < 19)
        return 0;
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < len[k]; i++) {
            char c = s[pos[k] + i];
            if (c < '0' || c > '9')
                return 0;
            v[k] = v[k] * 10 + (c - '0');
        }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    return timegm(&tm);
}

static int make_temp(const char *path, char **out, aud_error *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = aud_malloc(n);
    int fd;
    if (tmp == NULL)
        return aud_error_nomem(err);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        aud_free(tmp);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot create: %s", strerror(e));
    }
    close(fd);
    *out = tmp;
    return AUD_OK;
}

static int sync_and_rename(const char *tmp, const char *path, aud_error *err)
{
    int fd = open(tmp, O_RDONLY);
    mode_t mask = umask(0);
    umask(mask);
    /* mkstemp made it 0600: give the report the usual 0666 less the umask */
    if (fd < 0 || fchmod(fd, 0666 & ~mask) != 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "write error: %s", strerror(e));
    }
    close(fd);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a device or FIFO (/dev/null): copy into it, never rename over it */
        char *data = NULL;
        size_t len = 0;
        int rc = aud_file_read(tmp, &data, &len, 0, err);
        if (rc == AUD_OK)
            rc = aud_file_write_atomic(path, data, len, err);
        aud_free(data);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot rename into place: %s",
                             strerror(errno));
    return AUD_OK;
}

int aud_report_write_xlsx(const cJSON *results, const char *path, aud_error *err)
{
    return aud_report_write_xlsx_rows(results, path, NULL, err);
}

int aud_report_write_xlsx_rows(const cJSON *results, const char *path, const char *rows_path,
                               aud_error *err)
{
    xw_book b;
    lxw_workbook_options opt;
    lxw_doc_properties props;
    char *tmp = NULL;
    char title[256], company[256], author[256], creator[] = "audit " AUD_VERSION;
    const cJSON *rep = aud_rpt_obj(results, "report");
    lxw_error close_rc;
    int rc = aud_report_validate(results, "results", err);
    if (rc != AUD_OK)
        return rc;
    rc = make_temp(path, &tmp, err);
    if (rc != AUD_OK)
        return rc;
    memset(&b, 0, sizeof b);
    memset(&opt, 0, sizeof opt);
    b.doc = results;
    b.rows_path = rows_path;
    b.err = err;
    b.wb = workbook_new_opt(tmp, &opt);
    if (b.wb == NULL) {
        unlink(tmp);
        aud_free(tmp);
        return aud_error_nomem(err);
    }
    formats(&b);
    memset(&props, 0, sizeof props);
    aud_rpt_copy_utf8(title, sizeof title, aud_rpt_str(rep, "title", "Model audit report"));
    aud_rpt_copy_utf8(company, sizeof company, aud_rpt_str(rep, "organization", ""));
    /* document properties go into XML as they are: keep them ASCII-safe when invalid */
    if (aud_rpt_utf8_valid(title, strlen(title)) != strlen(title))
        title[aud_rpt_utf8_valid(title, strlen(title))] = '\0';
    if (aud_rpt_utf8_valid(company, strlen(company)) != strlen(company))
        company[aud_rpt_utf8_valid(company, strlen(company))] = '\0';
    /* XML 1.0 has no C0 control characters but tab, LF and CR: blank them out */
    for (char *q = title; *q != '\0'; q++)
        *q = (unsigned char)*q < 0x20 && *q != '\t' && *q != '\n' && *q != '\r' ? ' ' : *q;
    for (char *q = company; *q != '\0'; q++)
        *q = (unsigned char)*q < 0x20 && *q != '\t' && *q != '\n' && *q != '\r' ? ' ' : *q;
    snprintf(author, sizeof author, "%s", creator);
    props.title = title;
    props.company = company;
    props.author = author;
    /* deterministic: the audit's own date, never the wall clock (0 would mean "now") */
    props.created = created_time(aud_rpt_str(aud_rpt_obj(results, "provenance"), "created", ""));
    if (props.created == 0)
        props.created = 1;
    aud_xw_chk(&b, workbook_set_properties(b.wb, &props), "properties");
    aud_xw_overview(&b);
    aud_xw_summary(&b);
    aud_xw_model(&b);
    aud_xw_explanations(&b);
    aud_xw_attributions(&b);
    aud_xw_fairness(&b, "Fairness", "attributes");
    aud_xw_fairness(&b, "Intersections", "intersections");
    aud_xw_drift(&b);
    aud_xw_performance(&b);
    aud_xw_global(&b);
    aud_xw_trends(&b);
    aud_xw_data(&b);
    aud_xw_provenance(&b);
    aud_xw_overview_finish(&b);
    close_rc = workbook_close(b.wb); /* frees the workbook in every case */
    if (b.status == LXW_NO_ERROR && close_rc != LXW_NO_ERROR) {
        b.status = close_rc;
        b.what = "workbook";
    }
    if (b.rc != AUD_OK) {        /* the rows file: err already says what and where */
        rc = b.rc;
        unlink(tmp);
    } else if (b.status != LXW_NO_ERROR) {
        rc = aud_error_set(err, b.status == LXW_ERROR_MEMORY_MALLOC_FAILED ? AUD_E_NOMEM
                                : b.status == LXW_ERROR_CREATING_XLSX_FILE ||
                                          b.status == LXW_ERROR_CREATING_TMPFILE
                                      ? AUD_E_IO
                                      : AUD_E_INTERNAL,
                           path, 0, 0, "XLSX writer: %s (%s)", lxw_strerror(b.status),
                           b.what != NULL ? b.what : "?");
        unlink(tmp);
    } else {
        rc = sync_and_rename(tmp, path, err);
        if (rc != AUD_OK)
            unlink(tmp);
    }
    aud_free(tmp);
    return rc;
}
