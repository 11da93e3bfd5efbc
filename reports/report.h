/* report.h - PDF and XLSX reports rendered from a results.json document (SPEC section 5,
 * docs/results-schema.md). The writers only lay out what the document holds: they compute
 * no figure. Outputs are written atomically: on error nothing is left at `path`. */
#ifndef AUD_REPORT_H
#define AUD_REPORT_H

#include <cjson/cJSON.h>

#include "core/aud.h"

/* Read, parse and validate a results.json file. On AUD_OK *out belongs to the caller
 * (cJSON_Delete). Malformed JSON: AUD_E_PARSE with line and column; a document of another
 * schema version or with a field of the wrong type: AUD_E_SCHEMA naming the field
 * (e.g. "fairness.attributes[1].groups[0].count"). */
AUD_API int aud_report_load(const char *path, cJSON **out, aud_error *err);

/* Same from a buffer with text[len] == '\0'; `path` names errors. */
AUD_API int aud_report_parse(const char *text, size_t len, const char *path, cJSON **out,
                             aud_error *err);

/* Check that an in-memory results document has the structure the writers rely on
 * (schema_version "1"; every present section well typed). `name` labels errors (a path or
 * "results"). Returns AUD_OK or AUD_E_SCHEMA. */
AUD_API int aud_report_validate(const cJSON *results, const char *name, aud_error *err);

/* Set the number of groups the PDF shows per attribute or intersection (report.max_groups; the
 * spec's "report.max_groups", `audit report --max-groups N`): n >= 1. Every group stays in the
 * results and the XLSX. AUD_OK, or AUD_E_NOMEM. */
AUD_API int aud_report_set_max_groups(cJSON *results, long n, aud_error *err);

/* Render the A4 PDF report (embedded DejaVu Sans) to path. The document must validate. */
AUD_API int aud_report_write_pdf(const cJSON *results, const char *path, aud_error *err);

/* Render the XLSX workbook to path. The document must validate. Same as
 * aud_report_write_xlsx_rows(results, path, NULL, err). */
AUD_API int aud_report_write_xlsx(const cJSON *results, const char *path, aud_error *err);

/* The Attributions sheet shows at most this many explained rows (Excel holds 1,048,576 rows a
 * sheet), and at most AUD_XLSX_ATTR_MAX_CELLS cells (libxlsxwriter keeps every cell in memory,
 * about 115 bytes each: 100,000 rows of 20 features took 515 MB), so fewer rows for wide
 * models; a note under the table says how many there are and where all of them are. */
#define AUD_XLSX_ATTR_MAX_ROWS 100000
#define AUD_XLSX_ATTR_MAX_CELLS 5000000

/* Render the XLSX workbook to path. When explanations.explained_rows_file is present (the rows
 * were written to a JSON-lines file beside results.json, docs/results-schema.md), rows_path is
 * where that file is for this rendering: the Attributions sheet streams its first
 * lines up to the sheet's cap (AUD_XLSX_ATTR_MAX_ROWS, AUD_XLSX_ATTR_MAX_CELLS) (one at a time, never the whole file). rows_path NULL: the sheet
 * shows the rows results.json holds (the waterfall rows) and says that all are in the file.
 * Errors naming the rows file: AUD_E_IO (missing, unreadable, or not the recorded number of
 * bytes), AUD_E_PARSE / AUD_E_SCHEMA with its line number (a line that is not JSON, a row
 * without phi / value of one entry per feature, fewer lines than rows). On error nothing is
 * left at path. */
AUD_API int aud_report_write_xlsx_rows(const cJSON *results, const char *path,
                                       const char *rows_path, aud_error *err);

/* The explained-rows file of a results document: explanations.explained_rows_file.path (a
 * plain file name), or NULL when the rows are inline. The string belongs to results. */
AUD_API const char *aud_report_rows_file(const cJSON *results);

/* Check that the explained-rows file at rows_path exists and has the size results.json records
 * (explained_rows_file.bytes). AUD_OK (also when results has no explained_rows_file) or
 * AUD_E_IO naming rows_path. The lines are not read. */
AUD_API int aud_report_check_rows_file(const cJSON *results, const char *rows_path,
                                       aud_error *err);

#endif
