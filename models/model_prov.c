/* model_prov.c - the model file's entry in a results document's provenance (SPEC section 5):
 * the facts read from the model, on top of core's input entry. */
#include "models/model_int.h"
#include "core/io.h"
#include "core/provenance.h"

int aud_prov_add_model(cJSON *prov, const char *path, const aud_model *m, aud_error *err)
{
    return aud_prov_add_model_hashed(prov, path, NULL, m, err);
}

int aud_prov_add_model_hashed(cJSON *prov, const char *path, const char *hex, const aud_model *m,
                              aud_error *err)
{
    cJSON *in = NULL;
    int rc = aud_prov_add_input_hashed(prov, "model", path, hex, NULL, &in, err);
    if (rc != AUD_OK)
        return rc;
    if (cJSON_AddStringToObject(in, "format", m->format != NULL ? m->format : "") == NULL ||
        cJSON_AddStringToObject(in, "objective", m->objective != NULL ? m->objective : "") ==
            NULL)
        return aud_error_nomem(err);
    /* "model" predates model inputs; kept for readers of schema 1 (the report cover) */
    cJSON *model = cJSON_Duplicate(in, 1);
    if (model == NULL || !cJSON_AddItemToObject(prov, "model", model)) {
        cJSON_Delete(model);
        return aud_error_nomem(err);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(model, "role");
    if (aud_json_add_num(model, "features", (double)m->n_features) != 0 ||
        aud_json_add_num(model, "trees", (double)m->n_trees) != 0 ||
        aud_json_add_num(model, "outputs", (double)m->n_outputs) != 0)
        return aud_error_nomem(err);
    return AUD_OK;
}
