/* xlsx_cells.c - the checked cell writers every sheet uses (numbers, text, booleans, JSON values,
 * headers, tables, conditional formats, new sheets): each records the first libxlsxwriter error
 * in the book instead of failing silently. Apart from xlsx_book.c so that the sheets depend on
 * this file and xlsx_book.c on the sheets: no cycle. */
#include "reports/xlsx_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int aud_xw_chk(xw_book *b, lxw_error e, const char *what)
{
    if (e == LXW_NO_ERROR)
        return 1;
    if (b->status == LXW_NO_ERROR) {
        b->status = e;
        b->what = what;
    }
    return 0;
}

void aud_xw_num(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v, lxw_format *f)
{
    if (b->status != LXW_NO_ERROR)
        return;
    if (isfinite(v))
        aud_xw_chk(b, worksheet_write_number(ws, r, c, v, f), "number");
    else
        aud_xw_chk(b, worksheet_write_blank(ws, r, c, f), "blank");
}

/* Excel's cell limit is 32,767 characters; longer text is cut at a UTF-8 boundary. Invalid
 * UTF-8 (e.g. Latin-1 group names from a CSV) would corrupt the file: it becomes U+FFFD. */
#define XW_MAX_CELL_BYTES 32767

void aud_xw_str(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s,
            lxw_format *f)
{
    if (f != NULL && f == b->head && c < XW_MAX_TABLE_COLS) {   /* remember the header row */
        if (b->head_ws != ws || b->head_row != r) {
            memset(b->head_text, 0, sizeof b->head_text);
            b->head_ws = ws;
            b->head_row = r;
        }
        aud_rpt_copy_utf8(b->head_text[c], sizeof b->head_text[c], s != NULL ? s : "");
    }
    int nomem = 0;
    char *fixed;
    if (b->status != LXW_NO_ERROR)
        return;
    if (s == NULL || s[0] == '\0') {
        aud_xw_chk(b, worksheet_write_blank(ws, r, c, f), "blank");
        return;
    }
    fixed = aud_rpt_utf8_repair(s, &nomem);
    if (nomem) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "string");
        return;
    }
    if (fixed != NULL)
        s = fixed;
    if (strlen(s) > XW_MAX_CELL_BYTES) {
        size_t n = XW_MAX_CELL_BYTES;
        char *cut = aud_malloc(n + 1);
        if (cut == NULL) {
            aud_free(fixed);
            aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "string");
            return;
        }
        aud_rpt_copy_utf8(cut, n + 1, s);
        aud_free(fixed);
        fixed = cut;
        s = cut;
    }
    aud_xw_chk(b, worksheet_write_string(ws, r, c, s, f), "string");
    aud_free(fixed);
}

void aud_xw_bool(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int v)
{
    if (b->status != LXW_NO_ERROR)
        return;
    if (v < 0)
        aud_xw_chk(b, worksheet_write_blank(ws, r, c, NULL), "blank");
    else
        aud_xw_chk(b, worksheet_write_boolean(ws, r, c, v, b->boolean), "boolean");
}

void aud_xw_json(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const cJSON *v,
             lxw_format *f)
{
    if (cJSON_IsNumber(v))
        aud_xw_num(b, ws, r, c, v->valuedouble, f);
    else if (cJSON_IsString(v))
        aud_xw_str(b, ws, r, c, v->valuestring, b->text);
    else if (cJSON_IsBool(v))
        aud_xw_bool(b, ws, r, c, cJSON_IsTrue(v));
    else
        aud_xw_num(b, ws, r, c, NAN, f);
}

void aud_xw_header(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *const *titles,
               const double *widths, size_t n)
{
    /* two lines of header text wrap inside the column instead of being cut */
    aud_xw_chk(b, worksheet_set_row(ws, r, 30, NULL), "row height");
    for (size_t i = 0; i < n && b->status == LXW_NO_ERROR; i++) {
        aud_xw_str(b, ws, r, (lxw_col_t)i, titles[i], b->head);
        if (widths != NULL && widths[i] > 0)
            aud_xw_chk(b, worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL),
                   "column width");
    }
}

void aud_xw_table(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t ncols)
{
    lxw_table_column cols[XW_MAX_TABLE_COLS], *ptrs[XW_MAX_TABLE_COLS + 1];
    char names[XW_MAX_TABLE_COLS][130];
    lxw_table_options o;
    if (b->status != LXW_NO_ERROR || ncols == 0)
        return;
    if (first == 0)
        worksheet_freeze_panes(ws, first + 1, 0);
    if (last <= first || ncols > XW_MAX_TABLE_COLS) {   /* no data rows: a filter only */
        aud_xw_chk(b, worksheet_autofilter(ws, first, 0, last < first ? first : last, ncols - 1),
                   "autofilter");
        return;
    }
    /* column names: the header text, unique (Excel repairs a table with two equal names) */
    memset(cols, 0, sizeof cols);
    for (lxw_col_t c = 0; c < ncols; c++) {
        const char *h = b->head_ws == ws && b->head_row == first ? b->head_text[c] : "";
        if (h[0] == '\0')
            snprintf(names[c], sizeof names[c], "Column %u", (unsigned)c + 1);
        else
            snprintf(names[c], sizeof names[c], "%s", h);
        for (lxw_col_t p = 0, k = 2; p < c; p++) {
            if (strcasecmp(names[p], names[c]) == 0) {
                snprintf(names[c], sizeof names[c], "%.100s (%u)", h, (unsigned)k++);
                p = (lxw_col_t)-1;   /* check again from the start */
            }
        }
        cols[c].header = names[c];
        cols[c].header_format = b->head;
        ptrs[c] = &cols[c];
    }
    ptrs[ncols] = NULL;
    memset(&o, 0, sizeof o);
    o.style_type = LXW_TABLE_STYLE_TYPE_LIGHT;
    o.style_type_number = 1;
    o.columns = ptrs;
    b->n_tables++;
    aud_xw_chk(b, worksheet_add_table(ws, first, 0, last, ncols - 1, &o), "table");
}

void aud_xw_cf_min(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t c,
               double bound)
{
    lxw_conditional_format cf;
    if (b->status != LXW_NO_ERROR || last < first)
        return;
    memset(&cf, 0, sizeof cf);
    cf.type = LXW_CONDITIONAL_TYPE_CELL;
    cf.criteria = LXW_CONDITIONAL_CRITERIA_LESS_THAN;
    cf.value = bound;
    cf.format = b->red;
    if (!aud_xw_chk(b, worksheet_conditional_format_range(ws, first, c, last, c, &cf), "format"))
        return;
    cf.criteria = LXW_CONDITIONAL_CRITERIA_GREATER_THAN_OR_EQUAL_TO;
    cf.format = b->green;
    aud_xw_chk(b, worksheet_conditional_format_range(ws, first, c, last, c, &cf), "format");
}

void aud_xw_cf_bool(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t c,
                int bad_when_true)
{
    lxw_conditional_format cf;
    char t[] = "TRUE", f[] = "FALSE";
    if (b->status != LXW_NO_ERROR || last < first)
        return;
    memset(&cf, 0, sizeof cf);
    cf.type = LXW_CONDITIONAL_TYPE_CELL;
    cf.criteria = LXW_CONDITIONAL_CRITERIA_EQUAL_TO;
    cf.value_string = t;
    cf.format = bad_when_true ? b->red : b->green;
    if (!aud_xw_chk(b, worksheet_conditional_format_range(ws, first, c, last, c, &cf), "format"))
        return;
    cf.value_string = f;
    cf.format = bad_when_true ? b->green : b->red;
    aud_xw_chk(b, worksheet_conditional_format_range(ws, first, c, last, c, &cf), "format");
}

lxw_worksheet *aud_xw_sheet(xw_book *b, const char *name)
{
    lxw_worksheet *ws;
    if (b->status != LXW_NO_ERROR)
        return NULL;
    ws = workbook_add_worksheet(b->wb, name);
    if (ws == NULL) {
        aud_xw_chk(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "worksheet");
        return NULL;
    }
    if (b->n_sheets < (int)(sizeof b->sheets / sizeof b->sheets[0]))
        b->sheets[b->n_sheets++] = name;
    /* printable as filed: A4 landscape, one page wide (as many long as it takes), header row
     * repeated on every page */
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9);
    worksheet_set_margins(ws, 0.4, 0.4, 0.5, 0.5);
    worksheet_fit_to_pages(ws, 1, 0);
    aud_xw_chk(b, worksheet_repeat_rows(ws, 0, 0), "repeat rows");
    return ws;
}

lxw_row_t aud_xw_not_run(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *section)
{
    const char *why = aud_rpt_skip_reason(b->doc, section);
    char buf[600];
    snprintf(buf, sizeof buf, "Section not run: %s.",
             why != NULL ? why : "the results document has no such section");
    aud_xw_str(b, ws, r, 0, buf, b->muted);
    return r + 1;
}
