#include "pdf_int.h"
#include "report.h"
int aud_report_write_xlsx(const cJSON *results, const char *path, aud_error *err) { (void)results; return aud_error_set(err, AUD_E_UNSUPPORTED, path, 0, 0, "XLSX not implemented yet"); }
