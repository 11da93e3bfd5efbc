/* model.h - one in-memory model representation for every supported format: a flattened
 * tree ensemble (XGBoost, LightGBM, scikit-learn trees) or a linear model, plus a base score and an
 * output transform. Loaders fill it; predictors and explainers only read it. */
#ifndef AUD_MODEL_H
#define AUD_MODEL_H

#include "aud.h"
#include "table.h"

typedef enum aud_model_kind {
    AUD_MODEL_TREES = 0,
    AUD_MODEL_LINEAR = 1
} aud_model_kind;

/* Output transform from the raw margin to the prediction. */
typedef enum aud_link {
    AUD_LINK_IDENTITY = 0,   /* regression */
    AUD_LINK_SIGMOID = 1,    /* binary: 1 / (1 + exp(-sigmoid_scale * margin)) */
    AUD_LINK_SOFTMAX = 2,    /* multiclass */
    AUD_LINK_EXP = 3         /* count:poisson */
} aud_link;

/* How an internal node compares x with its threshold. */
typedef enum aud_split_kind {
    AUD_SPLIT_LT_F32 = 0,    /* XGBoost: left iff (float)x < (float)threshold */
    AUD_SPLIT_LE_F64 = 1,    /* LightGBM numerical: left iff x <= threshold (double) */
    AUD_SPLIT_LE_F32 = 2,    /* scikit-learn: left iff (float)x <= threshold */
    AUD_SPLIT_CAT = 3        /* LightGBM categorical: left iff bit (int)x of the node's bitset is set */
} aud_split_kind;

/* Missing-value handling of a node (LightGBM's missing types; XGBoost/sklearn use NAN). */
typedef enum aud_missing {
    AUD_MISSING_NONE = 0,    /* NaN is treated as 0.0 (LightGBM MissingType::None) */
    AUD_MISSING_ZERO = 1,    /* |x| <= kZeroThreshold or NaN goes to the default child */
    AUD_MISSING_NAN = 2      /* NaN goes to the default child */
} aud_missing;

/* One tree, nodes in struct-of-arrays form. Node 0 is the root. For a leaf, left[i] == -1 and
 * value[i] is the leaf output (already multiplied by the tree weight, e.g. DART weight_drop,
 * and by the learning rate where the format stores it separately). */
typedef struct aud_tree {
    int32_t   n_nodes;
    int32_t  *left;          /* child index, -1 for a leaf */
    int32_t  *right;
    int32_t  *feature;       /* model feature index (internal nodes) */
    double   *threshold;     /* split threshold (for AUD_SPLIT_CAT: unused) */
    uint8_t  *kind;          /* aud_split_kind */
    uint8_t  *missing;       /* aud_missing */
    uint8_t  *default_left;  /* 1: missing goes left */
    double   *value;         /* leaf value (internal nodes: 0 or the internal value) */
    double   *cover;         /* node weight for TreeSHAP: XGBoost sum_hess, LightGBM counts */
    int32_t  *cat_begin;     /* AUD_SPLIT_CAT: first word of the node's bitset in cat_bits */
    int32_t  *cat_words;     /* AUD_SPLIT_CAT: number of 32-bit words */
    uint32_t *cat_bits;      /* all bitsets of the tree */
    int32_t   n_cat_bits;
    int32_t   output;        /* output (class) this tree adds to, 0 for single-output models */
} aud_tree;

typedef struct aud_model {
    aud_model_kind kind;
    char       *format;          /* "xgboost-json", "lightgbm-text", "linear-json", "trees-json" */
    char       *objective;       /* e.g. "binary:logistic", "binary", "regression" */
    size_t      n_features;
    char      **feature_names;   /* n_features names, or NULL when the model has none */
    size_t      n_outputs;       /* 1, or the number of classes for multiclass */
    aud_link    link;
    double      sigmoid_scale;   /* AUD_LINK_SIGMOID slope (1 for XGBoost, LightGBM sigmoid:) */
    double     *base_margin;     /* n_outputs values added to the margin */
    int         average_output;  /* 1: margin = sum of trees / number of trees per output
                                  * (LightGBM rf mode, random forests) */
    int         is_classifier;   /* prediction is a probability */
    /* trees */
    size_t      n_trees;
    aud_tree   *trees;
    /* linear: margin = base_margin[k] + sum_j coef[k * n_features + j] * x_j */
    double     *coef;
} aud_model;

AUD_API void aud_model_free(aud_model *m);

#endif
