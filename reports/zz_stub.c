#include "pdf_int.h"
#include "report.h"
void pdf_write_explanations(pdf_doc *d) { (void)d; }
void pdf_write_fairness(pdf_doc *d) { (void)d; }
void pdf_write_drift(pdf_doc *d) { (void)d; }
void pdf_write_performance(pdf_doc *d) { (void)d; }
void pdf_write_methods(pdf_doc *d) { (void)d; }
int aud_report_write_xlsx(const cJSON *results, const char *path, aud_error *err) { (void)results; return aud_error_set(err, AUD_E_UNSUPPORTED, path, 0, 0, "XLSX not implemented yet"); }
