/* xlsx_int.h - the XLSX writer (libxlsxwriter): workbook setup, formats and checked cell
 * writers (xlsx_book.c), and the sheets (xlsx_sheets.c, xlsx_fair.c).
 *
 * Every libxlsxwriter status goes through aud_xw_chk(); the first failure is kept and the workbook
 * is abandoned (its temporary file removed). NaN and infinities are written as blank cells:
 * libxlsxwriter would otherwise write a corrupt file (LIBS.md section 3, gotcha 3). */
#ifndef AUD_XLSX_INT_H
#define AUD_XLSX_INT_H

#include <xlsxwriter.h>
#include <cjson/cJSON.h>

#include "core/aud.h"
#include "reports/rpt_int.h"

#define XW_MAX_TABLE_COLS 80

typedef struct xw_book {
    lxw_workbook *wb;
    const cJSON *doc;
    lxw_error status;          /* first failure, LXW_NO_ERROR when none */
    const char *what;          /* what was being written when it failed */
    /* formats */
    lxw_format *head, *title, *key, *wrap, *text, *rate, *pct, *count, *pval, *shap, *num,
        *boolean, *red, *green, *amber, *muted;
    /* the header cells of the last header row written (the Excel table's column names) */
    lxw_worksheet *head_ws;
    lxw_row_t head_row;
    char head_text[XW_MAX_TABLE_COLS][120];
    int n_tables;              /* Excel tables of the workbook (their names are unique) */
    const char *sheets[24];    /* the sheets so far, in order (names are literals) */
    int n_sheets;
    lxw_worksheet *overview;   /* the Overview sheet and its first row after the findings */
    lxw_row_t overview_row;
    /* the explained-rows file (explanations.explained_rows_file) on disk, NULL: not read */
    const char *rows_path;
    /* a failure that is not libxlsxwriter's (reading the rows file): its status, with *err
     * filled; b->status is then set too, so nothing more is written */
    int rc;
    aud_error *err;
} xw_book;

int aud_xw_chk(xw_book *b, lxw_error e, const char *what);

/* The Overview sheet (xlsx_overview.c): aud_xw_overview writes the verdict and the findings as
 * the first sheet; aud_xw_overview_finish, once every other sheet exists, adds below them what
 * each sheet holds and then the policy checks. */
void aud_xw_overview(xw_book *b);
void aud_xw_overview_finish(xw_book *b);

/* Cell writers: numbers (blank when not finite), strings (blank for NULL), booleans. */
void aud_xw_num(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v, lxw_format *f);
void aud_xw_str(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s,
            lxw_format *f);
void aud_xw_bool(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int v);
/* The JSON value v as number / string / boolean / blank. */
void aud_xw_json(xw_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const cJSON *v,
             lxw_format *f);
/* A header row at row r (bold, filled); columns widths in characters (0 = leave). */
void aud_xw_header(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *const *titles,
               const double *widths, size_t n);
/* Make rows first..last, columns 0..ncols-1 an Excel table (worksheet_add_table: its own
 * filter buttons and banded rows; column names from the header cells written at row first);
 * a table from row 0 also freezes its header row. */
void aud_xw_table(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t ncols);
/* Red fill when a numeric cell is < bound, green when >= bound (rows first..last, column c). */
void aud_xw_cf_min(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t c,
               double bound);
/* Red when a boolean cell is TRUE (bad_when_true) or FALSE, green for the other value. */
void aud_xw_cf_bool(xw_book *b, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t c,
                int bad_when_true);
/* Add a worksheet (the name is one of ours, always valid), printed A4 landscape. */
lxw_worksheet *aud_xw_sheet(xw_book *b, const char *name);
/* A "not run: reason" line in A1..; returns the next free row. */
lxw_row_t aud_xw_not_run(xw_book *b, lxw_worksheet *ws, lxw_row_t r, const char *section);

/* A native bar chart of the values in column vc against the names in column nc, rows r0..r1
 * of sheet, inserted at (at_r, at_c); horizontal bars list categories top-down. */
void aud_xw_bar_chart(xw_book *b, lxw_worksheet *ws, const char *sheet, const char *title,
                  lxw_row_t r0, lxw_row_t r1, lxw_col_t nc, lxw_col_t vc, lxw_row_t at_r,
                  lxw_col_t at_c, int horizontal, const char *num_format);

/* Sheets. The Overview (above) is the first: verdict, findings, the sheet guide, checks. */
void aud_xw_summary(xw_book *b);
void aud_xw_provenance(xw_book *b);
void aud_xw_explanations(xw_book *b);
void aud_xw_attributions(xw_book *b);
void aud_xw_fairness(xw_book *b, const char *sheet, const char *key);
void aud_xw_drift(xw_book *b);
void aud_xw_performance(xw_book *b);
/* Model card, model facts, performance with ROC and calibration charts (xlsx_model.c). */
void aud_xw_model(xw_book *b);
void aud_xw_global(xw_book *b);       /* xlsx_global.c */
void aud_xw_data(xw_book *b);
void aud_xw_trends(xw_book *b);

#endif
