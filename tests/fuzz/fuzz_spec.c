/* fuzz_spec.c - the spec file parser of `audit run` (audit/spec.c, aud_spec_parse). */
#include "audit/spec_int.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    aud_spec *s = NULL;
    aud_error err;
    aud_error_clear(&err);
    aud_global_init();
    int rc = aud_spec_parse(&s, text, size, "dir/fuzz.json", &err);
    if (rc == AUD_OK)
        FUZZ_ASSERT(s != NULL && s->raw != NULL && s->outputs.dir != NULL);
    else
        fuzz_check_error(rc, &err);
    aud_spec_free(s);
    free(text);
    return 0;
}
