/* model.h - one in-memory model representation for every supported format: a flattened
 * tree ensemble (XGBoost, LightGBM, scikit-learn trees) or a linear model, plus a base score and an
 * output transform. Loaders fill it; predictors and explainers only read it.
 *
 * Prediction of a tree model for one row x (model feature order, NaN = missing):
 *   margin[k] = S_k + base_margin[k],  S_k = sum over trees t with t.output == k of leaf(t, x),
 *   summed in double in tree order starting from 0.0
 *   (average_output: S_k is divided by the number of trees of output k before adding the base)
 * except for models with sum_f32 set (XGBoost), where, as XGBoost's predictor does, the margin
 * starts at (float)base_margin[k] and each leaf value is added in float32, in tree order.
 *   prediction = link(margin)
 * where leaf(t, x) walks from node 0, taking left[] when aud_tree_go_left() is true, else right[],
 * until left[i] == -1. The loaders validate every tree (child indices in range, every node reached
 * at most once from the root, so no cycles, depth <= AUD_MODEL_MAX_DEPTH, feature < n_features,
 * finite leaf values), so walkers need no bounds checks. Nodes not reachable from the root may
 * exist and are ignored.
 *
 * References for the split semantics: XGBoost src/tree/tree_model.cc and predictor/predict_fn.h
 * (GetNextNode: fvalue < split_cond in float32, NaN -> default child); LightGBM include/LightGBM/tree.h
 * (NumericalDecision, CategoricalDecision, kZeroThreshold; see ../shared/fixtures/lightgbm/README.md);
 * scikit-learn sklearn/tree/_tree.pyx (X is float32, X[i, f] <= threshold). */
#ifndef AUD_MODEL_H
#define AUD_MODEL_H

#include <math.h>

#include "core/aud.h"
#include "core/table.h"
#include "models/model_api.h"

/* Limits enforced by every loader (hostile files). */
#define AUD_MODEL_MAX_DEPTH    256        /* longest root-to-leaf path */
#define AUD_MODEL_MAX_NODES    (1 << 26)  /* nodes in one tree */
#define AUD_MODEL_MAX_FEATURES (1 << 24)
#define AUD_MODEL_MAX_OUTPUTS  100000

/* LightGBM kZeroThreshold: the float 1e-35f as a double. */
#define AUD_LGBM_KZERO 1.0000000180025095e-35

typedef enum aud_model_kind {
    AUD_MODEL_TREES = 0,
    AUD_MODEL_LINEAR = 1,
    AUD_MODEL_COMMAND = 2    /* a program asked for predictions (model_cmd_int.h): no margins
                              * here; aud_predict_table and the kernel/exact explainers ask it */
} aud_model_kind;

/* Output transform from the raw margin to the prediction. */
typedef enum aud_link {
    AUD_LINK_IDENTITY = 0,   /* regression */
    AUD_LINK_SIGMOID = 1,    /* binary: 1 / (1 + exp(-sigmoid_scale * margin)) */
    AUD_LINK_SOFTMAX = 2,    /* multiclass: exp(m_k - max) / sum_j exp(m_j - max) */
    AUD_LINK_EXP = 3,        /* count:poisson: exp(margin) */
    AUD_LINK_ARGMAX = 4      /* multi:softmax: index of the largest margin (one output column) */
} aud_link;

/* How an internal node compares x with its threshold. */
typedef enum aud_split_kind {
    AUD_SPLIT_LT_F32 = 0,    /* XGBoost: left iff (float)x < (float)threshold; NaN -> default */
    AUD_SPLIT_LE_F64 = 1,    /* LightGBM numerical: left iff x <= threshold (double), see missing */
    AUD_SPLIT_LE_F32 = 2,    /* scikit-learn: left iff (float)x <= threshold; NaN -> default */
    AUD_SPLIT_CAT = 3,       /* LightGBM categorical: left iff bit (int)x of the node's bitset is set */
    AUD_SPLIT_CAT_XGB = 4    /* XGBoost categorical (split_type 1): NaN -> default child; else right
                              * iff (int)(float)x is in the node's category set, left otherwise
                              * (negative, out-of-range and unlisted codes all go left) */
} aud_split_kind;

/* Missing-value handling of an AUD_SPLIT_LE_F64 node (LightGBM's missing types). XGBoost and
 * scikit-learn nodes use AUD_MISSING_NAN (NaN goes to the default child). */
typedef enum aud_missing {
    AUD_MISSING_NONE = 0,    /* NaN is treated as 0.0 (LightGBM MissingType::None) */
    AUD_MISSING_ZERO = 1,    /* NaN -> 0.0; then |x| <= kZeroThreshold goes to the default child */
    AUD_MISSING_NAN = 2      /* NaN goes to the default child */
} aud_missing;

/* One tree, nodes in struct-of-arrays form. Node 0 is the root. For a leaf, left[i] == -1 (and
 * right[i] == -1) and value[i] is the leaf output (already multiplied by the tree weight, e.g. DART
 * weight_drop, and by the learning rate where the format stores it separately). */
typedef struct aud_tree {
    int32_t   n_nodes;
    int32_t  *left;          /* child index, -1 for a leaf */
    int32_t  *right;
    int32_t  *feature;       /* model feature index (internal nodes; -1 for leaves) */
    double   *threshold;     /* split threshold (AUD_SPLIT_LT_F32: a float32 value; CAT: unused) */
    uint8_t  *kind;          /* aud_split_kind */
    uint8_t  *missing;       /* aud_missing */
    uint8_t  *default_left;  /* 1: missing goes left */
    double   *value;         /* leaf value (internal nodes: the format's internal value or 0) */
    double   *cover;         /* node weight for TreeSHAP: XGBoost sum_hess, LightGBM counts
                              * (internal_count / leaf_count), sklearn weighted_n_node_samples */
    int32_t  *cat_begin;     /* AUD_SPLIT_CAT: first word of the node's bitset in cat_bits */
    int32_t  *cat_words;     /* AUD_SPLIT_CAT: number of 32-bit words */
    uint32_t *cat_bits;      /* all bitsets of the tree (NULL when n_cat_bits == 0) */
    int32_t   n_cat_bits;
    int32_t   output;        /* output (class) this tree adds to, 0 for single-output models */
} aud_tree;

/* Preprocessing stage (scikit-learn pipelines, docs/model-formats.md "preprocess"): how the value
 * of one model feature is computed from its raw data column. The features of a model with a stage
 * are still its raw columns (one value per column), so attributions belong to the columns.
 * aud_model_fill_rows applies the stage; the predictors and explainers take its values. */
typedef enum aud_prep_kind {
    AUD_PREP_NONE = 0,        /* the column's number as it is */
    AUD_PREP_NUMERIC = 1,     /* the column's number through ops[] in order */
    AUD_PREP_CATEGORICAL = 2  /* the value of the cell's category */
} aud_prep_kind;

typedef enum aud_prep_op {
    AUD_OP_FILL = 0,          /* NaN -> arg (SimpleImputer) */
    AUD_OP_SUB = 1,           /* x - arg (StandardScaler mean_, RobustScaler center_) */
    AUD_OP_DIV = 2,           /* x / arg (scale_) */
    AUD_OP_MUL = 3,           /* x * arg (MinMaxScaler scale_) */
    AUD_OP_ADD = 4            /* x + arg (MinMaxScaler min_) */
} aud_prep_op;

typedef struct aud_prep {
    aud_prep_kind kind;
    size_t   n_ops;
    uint8_t *op;              /* aud_prep_op */
    double  *arg;
    size_t   n_cats;
    char   **cat_text;        /* string categories, or NULL when they are numbers (cat_num) */
    double  *cat_num;
    size_t  *order;           /* category indices sorted by text / number (binary search) */
    double  *values;          /* value of each category */
    int      has_unknown, has_missing;
    int      native;          /* 1: a tree library's own category codes (XGBoost / LightGBM
                               * categorical features, aud_prep_native): value = index in the
                               * list; a number in a column of text categories is the code */
    double   unknown;         /* value of a category not seen in fitting (when has_unknown) */
    double   missing;         /* value of a missing cell (when has_missing) */
} aud_prep;

struct aud_model {
    aud_model_kind kind;
    char       *format;          /* "xgboost-json", "lightgbm-text", "linear-json", "trees-json" */
    char       *objective;       /* e.g. "binary:logistic", "binary sigmoid:1", "regression" */
    size_t      n_features;
    char      **feature_names;   /* n_features names, or NULL when the model has none */
    size_t      n_outputs;       /* 1, or the number of classes for multiclass */
    aud_link    link;
    double      sigmoid_scale;   /* AUD_LINK_SIGMOID slope (1 for XGBoost, LightGBM sigmoid:) */
    double     *base_margin;     /* n_outputs values added to the margin */
    int         average_output;  /* 1: S_k = sum of trees of output k / number of those trees
                                  * (LightGBM rf mode, scikit-learn random forests) */
    int         is_classifier;   /* prediction is a probability (or a class for ARGMAX) */
    int         sum_f32;         /* 1: accumulate the margin in float32 (XGBoost), see above;
                                  * a shallow copy with sum_f32 = 0 gives the double sum (for
                                  * additivity checks against attributions computed in double) */
    int         no_missing;      /* 1: the originating library rejects missing values (linear
                                  * models, scikit-learn < 1.3 trees): aud_predict_table refuses
                                  * NaN in a used feature instead of inventing a rule, and
                                  * aud_model_predict_margin returns NaN margins for such a row */
    uint8_t    *feature_used;    /* n_features flags: used by a split / non-zero coefficient */
    uint8_t    *cat_feature;     /* n_features flags, or NULL: the library reads the feature as a
                                  * category code (a category-set split on it, or XGBoost
                                  * feature_types "c"); its categories may be mapped from text by
                                  * a native stage (aud_prep.native, aud_model_set_categories) */
    long        best_iteration;  /* XGBoost early stopping: learner.attributes.best_iteration
                                  * when it is before the last round, else -1. Every tree is
                                  * used (as Booster.predict); XGBClassifier.predict would stop
                                  * at this round, so callers should warn */
    long        n_iterations;    /* boosting rounds (XGBoost), 0 if unknown */
    /* trees */
    size_t      n_trees;
    aud_tree   *trees;
    size_t     *n_trees_output;  /* n_outputs counts of trees per output (average_output) */
    void       *packed;          /* private to model_packed.c: trees re-laid out for fast
                                  * prediction (NULL: use the reference walker) */
    /* linear: margin[k] = base_margin[k] + sum_j coef[k * n_features + j] * x_j */
    double     *coef;
    aud_prep   *prep;            /* n_features entries, or NULL: the columns are the features */
    struct aud_model_cmd *cmd;   /* AUD_MODEL_COMMAND: the program (owned) */
};

/* Number of prediction columns: n_outputs, except 1 for AUD_LINK_ARGMAX. */
static inline size_t aud_model_n_pred(const aud_model *m)
{
    return m->link == AUD_LINK_ARGMAX ? 1 : m->n_outputs;
}

/* LightGBM NumericalDecision, including the kZeroThreshold input step (values with
 * |x| <= kZeroThreshold become 0.0 before any tree sees them). */
static inline int aud_lgbm_num_left(double x, double thr, int missing, int default_left)
{
    if (isnan(x)) {
        if (missing == AUD_MISSING_NAN)
            return default_left;
        x = 0.0;
    }
    if (fabs(x) <= AUD_LGBM_KZERO) {
        x = 0.0;
        if (missing == AUD_MISSING_ZERO)
            return default_left;
    }
    return x <= thr;
}

/* LightGBM CategoricalDecision: NaN, negative and out-of-bitset codes go right. */
static inline int aud_lgbm_cat_left(const aud_tree *t, int32_t node, double x)
{
    if (isnan(x) || x <= -2147483648.0 || x >= 2147483648.0)
        return 0;
    int32_t i = (int32_t)x;   /* truncation toward zero, as static_cast<int> */
    if (i < 0)
        return 0;
    int32_t w = i / 32;
    if (w >= t->cat_words[node])
        return 0;
    return (int)((t->cat_bits[t->cat_begin[node] + w] >> (i % 32)) & 1u);
}

/* XGBoost categorical split (src/common/categorical.h Decision, predictor/predict_fn.h
 * GetNextNode): the value is a float32 category code; a code in the set goes right, any other
 * value (not in the set, negative, beyond the bitset) left; NaN takes the default child. Checked
 * against python3-xgboost 1.7.4 on probes of NaN, -1, -0.5, 0.5, 2.7, 32, 64, 2^24, 1e9.
 * Out of line (tree.c): aud_tree_go_left stays small; it is always inlined, since the walkers
 * of numerical models (TreeSHAP leaf tables, the recursion) lose ~6% when the compiler makes it
 * a call (measured with callgrind when this case was added). */
int aud_xgb_cat_left(const aud_tree *t, int32_t node, double x);

/* Does row value x (the value of feature t->feature[node]; NaN = missing) go to the left child of
 * internal node `node`? Implements each format's exact comparison and missing-value rules. */
static inline __attribute__((always_inline)) int aud_tree_go_left(const aud_tree *t,
                                                                   int32_t node, double x)
{
    switch (t->kind[node]) {
    case AUD_SPLIT_LT_F32:
        if (isnan(x))
            return t->default_left[node];
        return (float)x < (float)t->threshold[node];
    case AUD_SPLIT_LE_F32:
        if (isnan(x))
            return t->default_left[node];
        return (double)(float)x <= t->threshold[node];
    case AUD_SPLIT_LE_F64:
        return aud_lgbm_num_left(x, t->threshold[node], t->missing[node], t->default_left[node]);
    default:   /* category sets; XGBoost's out of the switch (same code as before it) */
        if (__builtin_expect(t->kind[node] == AUD_SPLIT_CAT_XGB, 0))
            return aud_xgb_cat_left(t, node, x);
        return aud_lgbm_cat_left(t, node, x);
    }
}

/* Index of the leaf reached by row x (n_features values, model order). */
static inline int32_t aud_tree_leaf(const aud_tree *t, const double *x)
{
    int32_t i = 0;
    while (t->left[i] >= 0)
        i = aud_tree_go_left(t, i, x[t->feature[i]]) ? t->left[i] : t->right[i];
    return i;
}

/* aud_model_load, aud_model_parse, aud_model_free and the accessors: models/model_api.h. */

/* Raw margin of one row: margin_out[0 .. n_outputs). x has n_features values (NaN = missing). */
AUD_API void aud_model_predict_margin(const aud_model *m, const double *x, double *margin_out);

/* Raw margins of n_rows rows: X is row-major n_rows x n_features, margin_out n_rows x n_outputs.
 * Each row's result is identical to aud_model_predict_margin on that row (same summation order). */
AUD_API void aud_model_predict_margin_block(const aud_model *m, const double *X, size_t n_rows,
                                            double *margin_out);

/* Prediction from a margin: pred_out[0 .. aud_model_n_pred(m)). pred_out may equal margin. */
AUD_API void aud_model_transform(const aud_model *m, const double *margin, double *pred_out);

/* Map the model's features to table columns: col_index_out[j] (n_features entries) is the table
 * column of model feature j. By name when the model has names; by position when it has none (then
 * *by_position is set to 1 so the caller can warn). A model feature missing from the table, or bound
 * to a non-numeric column, is an AUD_E_SCHEMA error naming the feature and the file. */
AUD_API int aud_model_bind(const aud_model *m, const aud_table *t, size_t *col_index_out,
                           int *by_position, aud_error *err);

/* Fill out (row-major, (row_end - row_begin) x n_features) with the bound columns of the table. */
AUD_API void aud_model_fill_rows(const aud_model *m, const aud_table *t,
                                 const size_t *col_index, size_t row_begin, size_t row_end,
                                 double *out);

/* Model feature j's values as the table's own numbers (column col_index[j]), or NULL when the
 * model's stage transforms them (a pipeline's step): aud_model_fill_rows's values of feature j
 * without a copy. */
AUD_API const double *aud_model_feature_column(const aud_model *m, const aud_table *t,
                                               const size_t *col_index, size_t j);

/* The same in chunks of rows on up to `threads` threads (the same values). */
AUD_API void aud_model_fill_rows_on(const aud_model *m, const aud_table *t,
                                    const size_t *col_index, size_t row_begin, size_t row_end,
                                    double *out, int threads);

/* Value of model feature j for one row of its bound column c, through the model's stage.
 * *bad is set (and NaN returned) for a category not seen in fitting or a missing category that
 * the pipeline cannot encode; a missing number without an imputer stays NaN. */
double aud_prep_value(const aud_model *m, size_t j, const aud_column *c, size_t row, int *bad);

/* Read the "preprocess" object of a model file (m->feature_names set). */
struct cJSON;
int aud_prep_parse(aud_model *m, const struct cJSON *pre, const char *name, aud_error *err);
void aud_prep_free(aud_prep *p, size_t n);
/* Index of the text category equal to s in p (binary search through p->order), or -1. */
long aud_prep_find_text(const aud_prep *p, const char *s);

/* Native category mapping of model feature j (a categorical feature of an XGBoost or LightGBM
 * model): `list` is a JSON array of the categories in code order, as pandas holds them
 * (series.cat.categories); `field` names it in errors. A category not in the list is NaN (as
 * LightGBM's pandas_categorical recoding) when unknown_nan, else a located error. */
int aud_prep_native(aud_model *m, size_t j, const struct cJSON *list, int unknown_nan,
                    const char *name, const char *field, aud_error *err);

/* Validate a tree filled by a loader (see the header comment); `where` names it in errors. */
int aud_tree_validate(const aud_tree *t, size_t n_features, const char *name, const char *where,
                      aud_error *err);

/* Allocate the node arrays of a tree with n_nodes nodes (zeroed; left/right/feature = -1,
 * missing = AUD_MISSING_NAN). */
int aud_tree_alloc(aud_tree *t, int32_t n_nodes, aud_error *err);

/* Free the node arrays of a tree and zero it (the tree struct itself is not freed). */
void aud_tree_free(aud_tree *t);


/* Internal loaders (the data is NUL-terminated). */
int aud_xgb_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                       int threads, aud_error *err);
/* XGBoost JSON models read by the tree-by-tree path (models/xgb_json.c): for tests. */
extern _Atomic long aud_xgb_piecewise_parses;
/* Free what a loader put into m and make it *keep again (a loader's fresh start). */
void aud_model_clear_parsed(aud_model *m, const aud_model *keep);
int aud_lgbm_text_parse(aud_model *m, const char *data, size_t len, const char *name,
                        int threads, aud_error *err);
/* LightGBM models read with their trees built after the line pass, on threads (for tests). */
extern _Atomic long aud_lgbm_deferred_parses;
int aud_linear_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                          aud_error *err);
int aud_trees_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                         aud_error *err);

/* Packed prediction layouts (model_packed.c), built by aud_model_finish: aud_packed_block returns 1
 * when it computed the margins (identical to the reference walker), 0 when the caller must. */
int  aud_packed_build(aud_model *m, aud_error *err);
void aud_packed_free(void *packed);
int  aud_packed_block(const aud_model *m, const double *X, size_t n, double *margin);
/* The widest path aud_packed_block takes, for tests comparing them: 0 (default) the best this
 * CPU runs; 1 or 2 the walk only; 3 the leaf masks of AVX-512 where the model has them. */
AUD_API extern int aud_packed_isa_cap;
/* Trees of m that go by leaf masks on this CPU (0: none, or no packed layout). */
size_t aud_packed_leaf_mask_trees(const aud_model *m);

/* Finish a loaded model: count trees per output, check outputs, base margin, names. */
int aud_model_finish(aud_model *m, const char *name, aud_error *err);

/* aud_prov_add_model: models/model_api.h. */

#endif
