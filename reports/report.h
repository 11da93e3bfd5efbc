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

/* Render the XLSX workbook to path. The document must validate. */
AUD_API int aud_report_write_xlsx(const cJSON *results, const char *path, aud_error *err);

#endif
