/* model_api.h - the model as callers outside the library see it: an opaque handle, loaded from
 * a file or a buffer, with the few facts a caller asks about. The representation itself
 * (trees, links, coefficients) is models/model_int.h, for the library's floors only. */
#ifndef AUD_MODEL_API_H
#define AUD_MODEL_API_H

#include "core/aud.h"

typedef struct aud_model aud_model;

/* Load a model file. format: "xgboost-json", "lightgbm-text", "linear-json", "trees-json" or NULL to
 * detect from the content. On AUD_OK *out belongs to the caller (aud_model_free); on failure *out is
 * NULL and err names the file, line/column or JSON field. */
AUD_API int aud_model_load(aud_model **out, const char *path, const char *format, aud_error *err);

/* Same from a NUL-terminated buffer; `name` is used in error messages. */
AUD_API int aud_model_parse(aud_model **out, const char *data, size_t len, const char *name,
                            const char *format, aud_error *err);

/* The same on up to `threads` threads (<= 1: this one only): a large XGBoost JSON model's trees
 * are parsed in parallel (models/xgb_json.c); the model is the same for any thread count. */
AUD_API int aud_model_load_threads(aud_model **out, const char *path, const char *format,
                                   int threads, aud_error *err);
AUD_API int aud_model_parse_threads(aud_model **out, const char *data, size_t len,
                                    const char *name, const char *format, int threads,
                                    aud_error *err);

AUD_API void aud_model_free(aud_model *m);

/* Facts about a loaded model. */
AUD_API size_t      aud_model_features(const aud_model *m);   /* input features */
AUD_API const char *aud_model_feature(const aud_model *m, size_t j);   /* NULL: unnamed */
AUD_API size_t      aud_model_outputs(const aud_model *m);    /* raw margins per row */
AUD_API int         aud_model_is_trees(const aud_model *m);   /* 1 trees, 0 linear */
/* 1: one output with a sigmoid link (binary classifier: the margin is the log-odds of label 1) */
AUD_API int         aud_model_is_binary(const aud_model *m);
/* XGBoost early stopping: the recorded best round when it is before the last (callers warn:
 * every round is used, as Booster.predict), else -1; *n_rounds the rounds (0 unknown). */
AUD_API long        aud_model_best_round(const aud_model *m, long *n_rounds);

/* Facts for a model card (reports' "model_card.model"). Format and objective as the loader read
 * them ("" when unknown); trees: 0 for linear models. */
AUD_API const char *aud_model_format(const aud_model *m);
AUD_API const char *aud_model_objective(const aud_model *m);
AUD_API size_t      aud_model_trees(const aud_model *m);
/* Over every tree, counting only nodes reached from the root: the depth of the deepest leaf (a
 * tree that is one leaf has depth 0) and the number of leaves. Both 0 for linear models. */
AUD_API void        aud_model_shape(const aud_model *m, size_t *max_depth, size_t *leaves);
/* Split importance of each feature (arrays of aud_model_features entries): splits[j] the internal
 * nodes splitting on feature j (XGBoost importance_type "weight", LightGBM "split"), cover[j] the
 * sum of those nodes' weights (XGBoost "total_cover": hessian sums; LightGBM row counts;
 * scikit-learn weighted samples). Linear models: the coefficient of output 0 in splits[j] and NaN
 * in cover[j]; returns 1 for trees, 0 for a linear model, -1 for a model command (NaN in both:
 * its file says nothing about the model inside). */
AUD_API int         aud_model_importance(const aud_model *m, double *splits, double *cover);
/* Category-to-code mapping of a model's categorical features (XGBoost enable_categorical,
 * LightGBM categorical_feature): a JSON file {"column": [categories in code order], ...}, each
 * list as pandas holds it (list(df[column].cat.categories)), so that text cells are coded as the
 * library was trained. A column must be a categorical feature of the model; a LightGBM file
 * that carries pandas_categorical already has its mapping. docs/model-formats.md. On failure
 * the model may hold part of the mapping: free it. */
AUD_API int aud_model_set_categories(aud_model *m, const char *path, aud_error *err);

/* The model in a results document (core/provenance.h): append the model file to prov's
 * "inputs" as role "model" with its "format" and "objective", and set prov's "model" to the same
 * facts plus "features", "trees" and "outputs". */
struct cJSON;
AUD_API int aud_prov_add_model(struct cJSON *prov, const char *path, const aud_model *m,
                               aud_error *err);
/* The same with the file's SHA-256 already known (hex, NULL: hash the file here), e.g. hashed
 * on a thread of its own while the model was used (aud_hash_ahead). */
AUD_API int aud_prov_add_model_hashed(struct cJSON *prov, const char *path, const char *hex,
                                      const aud_model *m, aud_error *err);

#endif
