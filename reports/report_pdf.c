/* report_pdf.c - aud_report_write_pdf: the order of the PDF report's sections. */
#include "reports/report.h"
#include "reports/pdf_int.h"

int aud_report_write_pdf(const cJSON *results, const char *path, aud_error *err)
{
    pdf_doc d;
    int rc = aud_report_validate(results, "results", err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_pdf_doc_init(&d, results, err);
    if (rc != AUD_OK) {
        aud_pdf_doc_free(&d);
        return rc;
    }
    aud_pdf_write_cover(&d);
    aud_pdf_write_checks(&d);
    aud_pdf_write_model_card(&d);
    aud_pdf_write_provenance(&d);
    aud_pdf_write_data(&d);
    aud_pdf_write_explanations(&d);
    aud_pdf_write_fairness(&d);
    aud_pdf_write_drift(&d);
    aud_pdf_write_performance(&d);
    aud_pdf_write_global(&d);
    aud_pdf_write_trends(&d);
    aud_pdf_write_methods(&d);
    rc = aud_pdf_status(&d, err);
    if (rc == AUD_OK)
        rc = aud_pdf_doc_save(&d, path, err);
    aud_pdf_doc_free(&d);
    return rc;
}
