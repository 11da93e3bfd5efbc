/* fair_why.h - what drives each group's disparity, which features are proxies of the attribute
 * and what group thresholds would change it (SPEC section 7): the orchestration that explains the
 * rows (explainers/) and hands the attributions to metrics/fair_drivers_int.h. Used by `audit run`
 * and `audit fairness --model`. */
#ifndef AUD_FAIR_WHY_H
#define AUD_FAIR_WHY_H

#include "audit/bind_int.h"
#include "core/table.h"
#include "explainers/shap.h"
#include "metrics/fairness.h"
#include "models/model_int.h"
#include <cjson/cJSON.h>

#define AUD_WHY_SAMPLE_PER_GROUP 500   /* rows per group explained by the slow methods */

typedef struct aud_fair_why_input {
    const aud_model       *model;       /* NULL: trade-offs only */
    const char            *model_path;  /* names the model in messages (may be NULL) */
    const aud_table       *data;
    const aud_bound_attrs *attrs;       /* the attributes as bound for the fairness metrics
                                           (aud_bind_fairness hands them over) */
    const aud_fair_result *res;         /* the metrics' result (references, small groups) */
    const double          *score;       /* the score thresholded into predictions, or NULL */
    const double          *label;       /* may be NULL */
    int                    favorable;
    double                 threshold;
    aud_shap_method        method;      /* AUD_SHAP_AUTO: tree for trees, linear for linear */
    const double          *background;  /* background rows for the methods that need one */
    size_t                 n_background;
    uint64_t               seed;
    int                    threads;
} aud_fair_why_input;

/* Add "drivers", "proxies" (with a model) and "tradeoffs" (with a score) to every attribute of
 * doc's "fairness" section. */
int aud_fair_why(cJSON *doc, const aud_fair_why_input *in, aud_error *err);

#endif
