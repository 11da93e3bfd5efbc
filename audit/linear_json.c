/* linear_json.c - placeholder, being written. */
#include "model.h"

int aud_linear_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                       aud_error *err)
{
    (void)m;
    (void)data;
    (void)len;
    return aud_error_set(err, AUD_E_UNSUPPORTED, name, 0, 0, "format not implemented yet");
}
