/* report_pdf.c - aud_report_write_pdf: the order of the PDF report's sections. */
#include "report.h"
#include "pdf_int.h"

int aud_report_write_pdf(const cJSON *results, const char *path, aud_error *err)
{
    pdf_doc d;
    int rc = aud_report_validate(results, "results", err);
    if (rc != AUD_OK)
        return rc;
    rc = pdf_doc_init(&d, results, err);
    if (rc != AUD_OK) {
        pdf_doc_free(&d);
        return rc;
    }
    pdf_write_cover(&d);
    pdf_write_checks(&d);
    pdf_write_provenance(&d);
    pdf_write_data(&d);
    pdf_write_explanations(&d);
    pdf_write_fairness(&d);
    pdf_write_drift(&d);
    pdf_write_performance(&d);
    pdf_write_methods(&d);
    rc = pdf_status(&d, err);
    if (rc == AUD_OK)
        rc = pdf_doc_save(&d, path, err);
    pdf_doc_free(&d);
    return rc;
}
