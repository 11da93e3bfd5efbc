/* rpt_rows.c - the explained-rows file of a results document (explanations.explained_rows_file,
 * docs/results-schema.md): a JSON-lines file beside results.json holding one explained row per
 * line, written instead of explanations.explained_rows when a run explains many rows. Read one
 * line at a time (getline), so a file of millions of rows never sits in memory. */
#include "reports/report.h"
#include "reports/rpt_int.h"
#include "core/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK "explanations.explained_rows_file"

static const cJSON *rows_block(const cJSON *exp)
{
    return aud_rpt_obj(exp, "explained_rows_file");
}

const char *aud_report_rows_file(const cJSON *results)
{
    return aud_rpt_str(rows_block(aud_rpt_obj(results, "explanations")), "path", NULL);
}

/* Open path and compare its size with the block's "bytes"; *out the open file. */
static int open_checked(const cJSON *exp, const char *path, FILE **out, aud_error *err)
{
    double want = aud_rpt_num(rows_block(exp), "bytes");
    struct stat st;
    FILE *f;
    /* stat first: opening a FIFO would wait for a writer */
    if (stat(path, &st) != 0)
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "cannot open the explained rows (" BLOCK "): %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "the explained rows (" BLOCK ") are not a regular file");
    f = fopen(path, "rb");
    if (f == NULL)
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "cannot open the explained rows (" BLOCK "): %s", strerror(errno));
    if (fstat(fileno(f), &st) != 0 || (double)st.st_size != want) {
        fclose(f);
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "is %lld bytes, but " BLOCK ".bytes records %.0f: not the file "
                             "this results.json was written with",
                             (long long)st.st_size, want);
    }
    *out = f;
    return AUD_OK;
}

int aud_report_check_rows_file(const cJSON *results, const char *rows_path, aud_error *err)
{
    const cJSON *exp = aud_rpt_obj(results, "explanations");
    FILE *f = NULL;
    int rc;
    if (rows_block(exp) == NULL)
        return AUD_OK;
    rc = open_checked(exp, rows_path, &f, err);
    if (f != NULL)
        fclose(f);
    return rc;
}

int aud_rpt_rows_open(rpt_rows *r, const cJSON *exp, const char *path, aud_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->rows = aud_rpt_num(rows_block(exp), "rows");
    r->n_features = aud_rpt_row_width(exp);
    return open_checked(exp, path, &r->f, err);
}

int aud_rpt_rows_next(rpt_rows *r, cJSON **out, aud_error *err)
{
    ssize_t got;
    size_t len;
    cJSON *row = NULL;
    int rc;
    *out = NULL;
    errno = 0;
    got = getline(&r->line, &r->cap, r->f);
    if (got < 0) {
        if (ferror(r->f))
            return aud_error_set(err, AUD_E_IO, r->path, r->lineno + 1, 0, "read error: %s",
                                 strerror(errno != 0 ? errno : EIO));
        if (errno == ENOMEM)
            return aud_error_nomem(err);
        if ((double)r->lineno < r->rows)
            return aud_error_set(err, AUD_E_SCHEMA, r->path, r->lineno, 0,
                                 "the file ends after %ld lines, but " BLOCK ".rows records "
                                 "%.0f rows", r->lineno, r->rows);
        return AUD_OK;   /* the end, after every row */
    }
    r->lineno++;
    if ((double)r->lineno > r->rows)
        return aud_error_set(err, AUD_E_SCHEMA, r->path, r->lineno, 0,
                             "more lines than the %.0f rows " BLOCK ".rows records", r->rows);
    len = (size_t)got;
    if (len > 0 && r->line[len - 1] == '\n')
        r->line[--len] = '\0';
    if (len == 0)
        return aud_error_set(err, AUD_E_PARSE, r->path, r->lineno, 0,
                             "empty line: expected one explained row (a JSON object)");
    rc = aud_json_parse_located(&row, r->line, len, r->path, err);
    if (rc != AUD_OK) {
        char *t = strstr(err->msg, "(truncated file?)");
        err->line = r->lineno;   /* the text parsed was this one line */
        if (t != NULL)
            memcpy(t, "(truncated line?)", 17);
        return rc;
    }
    rc = aud_rpt_validate_row(row, r->n_features, r->path, r->lineno, err);
    if (rc != AUD_OK) {
        cJSON_Delete(row);
        return rc;
    }
    *out = row;
    return AUD_OK;
}

void aud_rpt_rows_close(rpt_rows *r)
{
    if (r->f != NULL)
        fclose(r->f);
    free(r->line);   /* getline's buffer: malloc'ed by libc */
    r->f = NULL;
    r->line = NULL;
    r->cap = 0;
}

const char *aud_rpt_fmt_count(double v, char *buf)
{
    char digits[RPT_NUMBUF];
    size_t n, k = 0, i = 0;
    if (!isfinite(v) || fabs(v) >= 1e30) {
        snprintf(buf, RPT_NUMBUF, isfinite(v) ? "%.0f" : "n/a", v);
        return buf;
    }
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    n = strlen(digits);
    if (v <= -0.5)
        buf[k++] = '-';
    for (i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

void aud_rpt_rows_file_sentence(const cJSON *exp, char *buf, size_t n)
{
    const cJSON *file = rows_block(exp);
    char count[RPT_NUMBUF];
    if (file == NULL) {
        if (n > 0)
            buf[0] = '\0';
        return;
    }
    snprintf(buf, n, "Attributions of all %s explained rows are in %s beside results.json "
             "(SHA-256 %s).", aud_rpt_fmt_count(aud_rpt_num(file, "rows"), count),
             aud_rpt_str(file, "path", "?"), aud_rpt_str(file, "sha256", "?"));
    aud_rpt_utf8_fix_tail(buf);
}
