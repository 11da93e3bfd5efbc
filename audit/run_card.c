/* run_card.c - the "model_card" section of a results document: the spec's free-text model card
 * and the facts read from the model file (format, objective, trees, depth, leaves, features in
 * model order with their split importance). */
#include "audit/run_int.h"
#include "core/io.h"

#include <math.h>

static int model_facts(run_ctx *c, cJSON *card)
{
    const aud_model *m = c->model;
    size_t nf = aud_model_features(m), depth, leaves;
    cJSON *mo = cJSON_AddObjectToObject(card, "model");
    cJSON *fs = mo != NULL ? cJSON_AddArrayToObject(mo, "features") : NULL;
    double *sp = aud_calloc(nf ? nf : 1, sizeof *sp), *cv = aud_calloc(nf ? nf : 1, sizeof *cv);
    int rc = fs == NULL || sp == NULL || cv == NULL ? AUD_E_NOMEM : AUD_OK;
    aud_model_shape(m, &depth, &leaves);
    int kind = rc == AUD_OK ? aud_model_importance(m, sp, cv) : 0;
    int trees = kind == 1;
    if (rc == AUD_OK &&
        (cJSON_AddStringToObject(mo, "format", aud_model_format(m)) == NULL ||
         cJSON_AddStringToObject(mo, "objective", aud_model_objective(m)) == NULL ||
         cJSON_AddStringToObject(mo, "kind", trees ? "trees" : kind == 0 ? "linear" : "command") ==
             NULL ||
         aud_json_add_num(mo, "outputs", (double)aud_model_outputs(m)) != 0 ||
         (trees && (aud_json_add_num(mo, "trees", (double)aud_model_trees(m)) != 0 ||
                    aud_json_add_num(mo, "max_depth", (double)depth) != 0 ||
                    aud_json_add_num(mo, "leaves", (double)leaves) != 0)) ||
         cJSON_AddStringToObject(mo, "importance",
                                 trees ? "splits and total cover"
                                       : kind == 0 ? "coefficient" : "none (a model command)") ==
             NULL))
        rc = AUD_E_NOMEM;
    for (size_t j = 0; j < nf && rc == AUD_OK; j++) {
        cJSON *f = cJSON_CreateObject();
        const char *name = aud_model_feature(m, j);
        char fallback[32];
        snprintf(fallback, sizeof fallback, "f%zu", j);
        if (f == NULL || !cJSON_AddItemToArray(fs, f)) {
            cJSON_Delete(f);
            rc = AUD_E_NOMEM;
        } else if (cJSON_AddStringToObject(f, "name", name != NULL ? name : fallback) == NULL ||
                   (trees ? aud_json_add_num(f, "splits", sp[j]) != 0 ||
                                aud_json_add_num(f, "cover", cv[j]) != 0
                    : kind == 0 ? aud_json_add_num(f, "coefficient", sp[j]) != 0 : 0)) {
            rc = AUD_E_NOMEM;
        }
    }
    aud_free(sp);
    aud_free(cv);
    return rc == AUD_OK ? AUD_OK : aud_error_nomem(c->err);
}

int aud_run_model_card(run_ctx *c)
{
    const aud_spec *s = c->spec;
    const char *keys[] = {"owner", "intended_use", "label_meaning", "training_data",
                          "training_period", "limitations", "contact"};
    const char *vals[] = {s->card.owner, s->card.intended_use, s->card.label_meaning,
                          s->card.training_data, s->card.training_period, s->card.limitations,
                          s->card.contact};
    int any = c->model != NULL;
    for (int i = 0; i < 7; i++)
        any |= vals[i] != NULL;
    if (!any)
        return AUD_OK;
    cJSON *card = cJSON_AddObjectToObject(c->doc, "model_card");
    if (card == NULL)
        return aud_error_nomem(c->err);
    for (int i = 0; i < 7; i++) {
        if (vals[i] != NULL && cJSON_AddStringToObject(card, keys[i], vals[i]) == NULL)
            return aud_error_nomem(c->err);
    }
    return c->model != NULL ? model_facts(c, card) : AUD_OK;
}
