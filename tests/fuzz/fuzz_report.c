/* fuzz_report.c - the results.json reader and validator of `audit report`
 * (reports/rpt_validate.c, aud_report_parse). */
#include "reports/report.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    cJSON *doc = NULL;
    aud_error err;
    aud_error_clear(&err);
    aud_global_init();
    int rc = aud_report_parse(text, size, "results.json", &doc, &err);
    if (rc == AUD_OK)
        FUZZ_ASSERT(doc != NULL && aud_report_validate(doc, "results.json", &err) == AUD_OK);
    else
        fuzz_check_error(rc, &err);
    cJSON_Delete(doc);
    free(text);
    return 0;
}
