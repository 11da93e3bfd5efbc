/* xgb_json.c - XGBoost JSON model (Booster.save_model("m.json"), XGBoost 1.0 to 3.x).
 *
 * Layout (XGBoost doc/model.schema and src/learner.cc, src/gbm/gbtree_model.cc,
 * src/tree/tree_model.cc): {"learner": {"feature_names": [...], "learner_model_param":
 * {"base_score", "num_class", "num_feature", "num_target"}, "objective": {"name"},
 * "gradient_booster": gbtree {"name": "gbtree", "model": {"trees": [...], "tree_info": [...]}} or
 * dart {"name": "dart", "gbtree": {gbtree}, "weight_drop": [...]}}}. Each tree holds parallel
 * arrays left_children, right_children, split_indices, split_conditions, default_left,
 * sum_hessian, base_weights (+ split_type and categories* since 1.6) and tree_param.num_nodes.
 * A leaf has left_children == -1; its value is split_conditions[i].
 *
 * Numbers appear as JSON numbers or strings ("5E-1"); base_score also as a bracketed vector
 * ("[5.1844325E-2]", XGBoost 3), one value or one per class. base_score is stored in output space
 * and converted to the margin with the objective's ProbToMargin, in float as XGBoost does
 * (src/objective/regression_loss.h): logistic -logf(1/b - 1), poisson logf(b), others identity
 * (including binary:logitraw and the multi:* objectives).
 *
 * Splits go left when (float)x < split_condition; NaN takes default_left. num_parallel_tree trees
 * are summed like the others (tree_info gives each tree's class). DART leaf values are multiplied by
 * weight_drop. Categorical splits (split_type 1, enable_categorical) are category sets
 * (parse_categories, aud_xgb_cat_left in models/model_int.h); XGBoost >= 3.1 also saves the
 * training categories' names (model.cats, parse_cats). Multi-target trees are reported as
 * unsupported. */
#include "models/model_int.h"
#include "core/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct xg_ctx {
    const char *name;
    aud_error *err;
} xg_ctx;

static int schema_err(xg_ctx *c, const char *field, const char *fmt, const char *detail)
{
    aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0, fmt, detail);
    return aud_error_field(c->err, field);
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* A number stored as a JSON number or a numeric string. */
static int num_value(xg_ctx *c, const cJSON *v, const char *field, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return AUD_OK;
    }
    if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0') {
        char *end = NULL;
        errno = 0;
        double d = aud_strtod_c(v->valuestring, &end);
        if (end != v->valuestring && *end == '\0') {
            *out = d;
            return AUD_OK;
        }
    }
    return schema_err(c, field, "expected a number%s", "");
}

/* d as an integer in [lo, hi], or the error naming field. */
static int int_of(xg_ctx *c, double d, const char *field, long lo, long hi, long *out)
{
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(long)d) {
        aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0, "expected an integer in [%ld, %ld], "
                      "got %g", lo, hi, d);
        return aud_error_field(c->err, field);
    }
    *out = (long)d;
    return AUD_OK;
}

static int int_value(xg_ctx *c, const cJSON *v, const char *field, long lo, long hi, long *out)
{
    double d = 0;
    int rc = num_value(c, v, field, &d);
    return rc != AUD_OK ? rc : int_of(c, d, field, lo, hi, out);
}

/* int_value / num_value of element i of trees[idx].key, with the field's name formatted only when
 * the value is not a plain number in range (a model has tens of thousands of nodes). */
static int int_at(xg_ctx *c, const cJSON *v, size_t idx, const char *key, long i, long lo,
                  long hi, long *out)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d >= (double)lo && d <= (double)hi && d == (double)(long)d) {
            *out = (long)d;
            return AUD_OK;
        }
    }
    char field[160];
    snprintf(field, sizeof field, "trees[%zu].%s[%ld]", idx, key, i);
    return int_value(c, v, field, lo, hi, out);
}

static int num_at(xg_ctx *c, const cJSON *v, size_t idx, const char *key, long i, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return AUD_OK;
    }
    char field[160];
    snprintf(field, sizeof field, "trees[%zu].%s[%ld]", idx, key, i);
    return num_value(c, v, field, out);
}

/* Array `key` of obj with exactly n elements (n < 0: any length, returned in *n_out). */
static int get_array(xg_ctx *c, const cJSON *obj, const char *key, const char *field, long n,
                     const cJSON **out)
{
    const cJSON *a = get(obj, key);
    if (a == NULL)
        return schema_err(c, field, "missing array%s", "");
    if (!cJSON_IsArray(a))
        return schema_err(c, field, "expected an array%s", "");
    if (n >= 0) {
        long k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, a)
            k++;
        if (k != n) {
            aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                          "expected %ld elements (num_nodes), found %ld", n, k);
            return aud_error_field(c->err, field);
        }
    }
    *out = a;
    return AUD_OK;
}

/* A tree's numeric arrays read before cJSON sees the tree (tree_job_main, pre_arrays): per key
 * of tree_keys, its values when the whole array was plain JSON numbers (true / false as 1 / 0),
 * else have[k] = 0 and cJSON's array is read as before. */
enum { PRE_KEYS = 10 };   /* parse_tree's 8, then two arrays it does not read */
static const char *const tree_keys[PRE_KEYS] = { "left_children", "right_children",
                                                 "split_indices", "split_conditions",
                                                 "default_left", "sum_hessian", "base_weights",
                                                 "split_type", "loss_changes", "parents" };
typedef struct xg_pre {
    int     have[PRE_KEYS];
    double *v[PRE_KEYS];
    size_t  n[PRE_KEYS], cap[PRE_KEYS];
} xg_pre;

/* int_at for a value read by pre_arrays (a number): the field named only on an error. */
static int int_pre(xg_ctx *c, double d, size_t idx, const char *key, long i, long lo, long hi,
                   long *out)
{
    if (d >= (double)lo && d <= (double)hi && d == (double)(long)d) {
        *out = (long)d;
        return AUD_OK;
    }
    char field[160];
    snprintf(field, sizeof field, "trees[%zu].%s[%ld]", idx, key, i);
    return int_of(c, d, field, lo, hi, out);
}

/* Category sets of a tree's categorical nodes (XGBoost src/tree/tree_model.cc, since 1.6):
 * categories_nodes[k] is a node with split_type 1 whose set is
 * categories[categories_segments[k] .. + categories_sizes[k]] (category codes, i.e. indices
 * in the training data's pandas categories). Each set becomes a bitset in t->cat_bits, sized by
 * its largest code as XGBoost sizes it (codes beyond it go left, like every code not listed). */
#define XG_MAX_CAT (1L << 24)       /* XGBoost's largest category code + 1 (float-exact) */
#define XG_MAX_CAT_WORDS (1L << 24) /* bitset words of one tree (64 MiB) */
static int parse_categories(xg_ctx *c, const cJSON *jt, size_t idx, aud_tree *t)
{
    static const char *const keys[] = { "categories_nodes", "categories_segments",
                                        "categories_sizes", "categories" };
    const cJSON *a[4];
    long n[4] = { 0, 0, 0, 0 };
    char field[160];
    int rc = AUD_OK, any = 0;
    for (int k = 0; k < 4; k++) {
        a[k] = get(jt, keys[k]);
        any |= a[k] != NULL;
    }
    int n_cat_nodes = 0;
    for (int32_t i = 0; i < t->n_nodes; i++)
        n_cat_nodes += t->left[i] >= 0 && t->kind[i] == AUD_SPLIT_CAT_XGB;
    if (!any && n_cat_nodes == 0)
        return AUD_OK;
    for (int k = 0; k < 4; k++) {
        snprintf(field, sizeof field, "trees[%zu].%s", idx, keys[k]);
        if ((rc = get_array(c, jt, keys[k], field, -1, &a[k])))
            return rc;
        const cJSON *e;
        cJSON_ArrayForEach(e, a[k])
            n[k]++;
    }
    if (n[1] != n[0] || n[2] != n[0]) {
        snprintf(field, sizeof field, "trees[%zu].categories_segments", idx);
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                      "categories_nodes, categories_segments and categories_sizes have %ld, %ld "
                      "and %ld elements (must be equal)", n[0], n[1], n[2]);
        return aud_error_field(c->err, field);
    }
    /* codes, then per node: [node, segment, size] */
    long *codes = aud_malloc(((size_t)n[3] + 3 * (size_t)n[0] + 1) * sizeof *codes);
    if (codes == NULL)
        return aud_error_nomem(c->err);
    long *nodes = codes + n[3];
    const cJSON *e = a[3]->child;
    for (long q = 0; q < n[3]; q++, e = e->next) {
        /* a plain in-range integer (int_value's test) without formatting the field name: the
         * codes are most of a categorical model's numbers; anything else through int_value */
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1.0;
        if (d >= 0.0 && d <= (double)(XG_MAX_CAT - 1) && d == (double)(long)d) {
            codes[q] = (long)d;
            continue;
        }
        snprintf(field, sizeof field, "trees[%zu].categories[%ld]", idx, q);
        if ((rc = int_value(c, e, field, 0, XG_MAX_CAT - 1, &codes[q])))
            goto done;
    }
    long total = 0, prev = -1;
    const cJSON *en = a[0]->child, *es = a[1]->child, *ez = a[2]->child;
    for (long k = 0; k < n[0]; k++, en = en->next, es = es->next, ez = ez->next) {
        long *nd = nodes + 3 * k;
        snprintf(field, sizeof field, "trees[%zu].categories_nodes[%ld]", idx, k);
        if ((rc = int_value(c, en, field, 0, (long)t->n_nodes - 1, &nd[0])))
            goto done;
        if (nd[0] <= prev || t->left[nd[0]] < 0 || t->kind[nd[0]] != AUD_SPLIT_CAT_XGB) {
            if (nd[0] <= prev)
                aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                              "node ids must increase (node %ld after %ld)", nd[0], prev);
            else
                aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                              "node %ld is not a categorical split (split_type 1)", nd[0]);
            rc = aud_error_field(c->err, field);
            goto done;
        }
        prev = nd[0];
        snprintf(field, sizeof field, "trees[%zu].categories_segments[%ld]", idx, k);
        if ((rc = int_value(c, es, field, 0, n[3], &nd[1])))
            goto done;
        snprintf(field, sizeof field, "trees[%zu].categories_sizes[%ld]", idx, k);
        if ((rc = int_value(c, ez, field, 0, n[3] - nd[1], &nd[2])))
            goto done;
        long max = -1;
        for (long q = nd[1]; q < nd[1] + nd[2]; q++)
            max = codes[q] > max ? codes[q] : max;
        t->cat_begin[nd[0]] = (int32_t)total;
        t->cat_words[nd[0]] = (int32_t)((max + 32) / 32);
        total += t->cat_words[nd[0]];
        if (total > XG_MAX_CAT_WORDS) {
            aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0,
                          "category sets of the tree are too large (over %ld words)",
                          XG_MAX_CAT_WORDS);
            rc = aud_error_field(c->err, field);
            goto done;
        }
        n_cat_nodes--;
    }
    if (n_cat_nodes != 0) {
        snprintf(field, sizeof field, "trees[%zu].categories_nodes", idx);
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                      "%d categorical split(s) (split_type 1) have no category set", n_cat_nodes);
        rc = aud_error_field(c->err, field);
        goto done;
    }
    t->cat_bits = aud_calloc((size_t)total + 1, sizeof *t->cat_bits);
    if (t->cat_bits == NULL) {
        rc = aud_error_nomem(c->err);
        goto done;
    }
    t->n_cat_bits = (int32_t)total;
    for (long k = 0; k < n[0]; k++) {
        const long *nd = nodes + 3 * k;
        uint32_t *w = t->cat_bits + t->cat_begin[nd[0]];
        for (long q = nd[1]; q < nd[1] + nd[2]; q++)
            w[codes[q] / 32] |= 1u << (codes[q] % 32);
    }
done:
    aud_free(codes);
    return rc;
}

static int parse_tree(xg_ctx *c, const cJSON *jt, size_t idx, size_t n_features, double weight,
                      aud_tree *t, const xg_pre *pre)
{
    char field[160];
    long n_nodes = 0;
    int rc;
    snprintf(field, sizeof field, "trees[%zu]", idx);
    if (!cJSON_IsObject(jt))
        return schema_err(c, field, "expected a tree object%s", "");
    snprintf(field, sizeof field, "trees[%zu].tree_param.num_nodes", idx);
    const cJSON *tp = get(jt, "tree_param");
    if ((rc = int_value(c, get(tp, "num_nodes"), field, 1, AUD_MODEL_MAX_NODES, &n_nodes)))
        return rc;
    const cJSON *slv = get(tp, "size_leaf_vector");
    if (slv != NULL) {
        long s = 0;
        snprintf(field, sizeof field, "trees[%zu].tree_param.size_leaf_vector", idx);
        if ((rc = int_value(c, slv, field, 0, 1 << 30, &s)))
            return rc;
        if (s > 1) {
            aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0,
                          "multi-target trees (vector leaves) are not supported");
            return aud_error_field(c->err, field);
        }
    }
    const char *const *keys = tree_keys;
    const cJSON *arr[8] = { NULL };
    const double *pv[8] = { NULL };   /* the values pre_arrays read, or NULL */
    for (int k = 0; k < 8; k++) {
        snprintf(field, sizeof field, "trees[%zu].%s", idx, keys[k]);
        int optional = k >= 5;   /* cover, internal values and split types may be absent */
        if (optional && get(jt, keys[k]) == NULL)
            continue;
        if (pre != NULL && pre->have[k]) {   /* its text emptied: the count is pre's */
            if ((long)pre->n[k] != n_nodes) {
                aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                              "expected %ld elements (num_nodes), found %ld", n_nodes,
                              (long)pre->n[k]);
                return aud_error_field(c->err, field);
            }
            pv[k] = pre->v[k];
            continue;
        }
        if ((rc = get_array(c, jt, keys[k], field, n_nodes, &arr[k])))
            return rc;
    }
    if ((rc = aud_tree_alloc(t, (int32_t)n_nodes, c->err)))
        return rc;
    const cJSON *e[8];
    for (int k = 0; k < 8; k++)
        e[k] = arr[k] != NULL ? arr[k]->child : NULL;
/* element i of array k: pre_arrays' value, or cJSON's */
#define XG_INT(k, key, lo, hi, out)                                                              \
    (pv[k] != NULL ? int_pre(c, pv[k][i], idx, key, i, lo, hi, out)                             \
                   : int_at(c, e[k], idx, key, i, lo, hi, out))
#define XG_NUM(k, key, out)                                                                      \
    (pv[k] != NULL ? (*(out) = pv[k][i], AUD_OK) : num_at(c, e[k], idx, key, i, out))
    for (long i = 0; i < n_nodes; i++) {
        long l = 0, r = 0, f = 0, st = 0;
        double cond = 0, hess = 0, bw = 0;
        if ((rc = XG_INT(0, "left_children", -1, n_nodes - 1, &l)))
            return rc;
        if ((rc = XG_INT(1, "right_children", -1, n_nodes - 1, &r)))
            return rc;
        if (e[7] != NULL || pv[7] != NULL) {
            if ((rc = XG_INT(7, "split_type", 0, 255, &st)))
                return rc;
            if (st > 1 && l != -1) {
                snprintf(field, sizeof field, "trees[%zu].split_type[%ld]", idx, i);
                aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0,
                              "split type %ld is not supported (0 numerical, 1 categorical)",
                              st);
                return aud_error_field(c->err, field);
            }
        }
        /* a categorical node's condition is unused (XGBoost writes NaN) */
        if (!(st == 1 && l != -1) && (rc = XG_NUM(3, "split_conditions", &cond)))
            return rc;
        if ((e[5] != NULL || pv[5] != NULL) && (rc = XG_NUM(5, "sum_hessian", &hess)))
            return rc;
        if ((e[6] != NULL || pv[6] != NULL) && (rc = XG_NUM(6, "base_weights", &bw)))
            return rc;
        t->cover[i] = hess;
        if (l == -1 || r == -1) {
            if (l != r) {
                snprintf(field, sizeof field, "trees[%zu].right_children[%ld]", idx, i);
                aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0,
                              "node has one child only (left %ld, right %ld)", l, r);
                return aud_error_field(c->err, field);
            }
            t->value[i] = (double)((float)weight * (float)cond);
        } else {
            if ((rc = XG_INT(2, "split_indices", 0, (long)n_features - 1, &f)))
                return rc;
            int dl;
            if (pv[4] != NULL) {   /* true / false read as 1 / 0 */
                long d = 0;
                if ((rc = int_pre(c, pv[4][i], idx, "default_left", i, 0, 1, &d)))
                    return rc;
                dl = (int)d;
            } else if (cJSON_IsBool(e[4])) {
                dl = cJSON_IsTrue(e[4]);
            } else {
                long d = 0;
                if ((rc = int_at(c, e[4], idx, "default_left", i, 0, 1, &d)))
                    return rc;
                dl = (int)d;
            }
            t->left[i] = (int32_t)l;
            t->right[i] = (int32_t)r;
            t->feature[i] = (int32_t)f;
            t->threshold[i] = st == 1 ? 0.0 : (double)(float)cond;
            t->kind[i] = st == 1 ? AUD_SPLIT_CAT_XGB : AUD_SPLIT_LT_F32;
            t->missing[i] = AUD_MISSING_NAN;
            t->default_left[i] = (uint8_t)dl;
            t->value[i] = (double)((float)weight * (float)bw);
        }
        for (int k = 0; k < 8; k++)
            if (e[k] != NULL)
                e[k] = e[k]->next;
    }
#undef XG_INT
#undef XG_NUM
    if ((rc = parse_categories(c, jt, idx, t)))
        return rc;
    snprintf(field, sizeof field, "learner.gradient_booster trees[%zu]", idx);
    return aud_tree_validate(t, n_features, c->name, field, c->err);
}

/* base_score: a number, "5E-1", or "[v]" / "[v0,v1,...]". Fills vals (up to cap), *n. */
static int parse_base_score(xg_ctx *c, const cJSON *v, double *vals, size_t cap, size_t *n)
{
    const char *field = "learner.learner_model_param.base_score";
    *n = 0;
    if (cJSON_IsNumber(v)) {
        vals[0] = v->valuedouble;
        *n = 1;
        return AUD_OK;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return schema_err(c, field, "missing or not a number%s", "");
    const char *p = v->valuestring;
    while (*p == ' ')
        p++;
    int bracket = *p == '[';
    if (bracket)
        p++;
    for (;;) {
        while (*p == ' ')
            p++;
        char *end = NULL;
        double d = aud_strtod_c(p, &end);
        if (end == p)
            return schema_err(c, field, "cannot read \"%s\" as a number or a list of numbers",
                              v->valuestring);
        if (*n == cap)
            return schema_err(c, field, "more values than classes in \"%s\"", v->valuestring);
        vals[(*n)++] = d;
        p = end;
        while (*p == ' ')
            p++;
        if (bracket && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    if (bracket) {
        if (*p != ']')
            return schema_err(c, field, "cannot read \"%s\" (missing ']')", v->valuestring);
        p++;
    }
    while (*p == ' ')
        p++;
    if (*p != '\0')
        return schema_err(c, field, "cannot read \"%s\" as a number or a list of numbers",
                          v->valuestring);
    return AUD_OK;
}

typedef enum { PTM_IDENTITY, PTM_LOGIT, PTM_LOG } ptm_kind;

static int set_objective(xg_ctx *c, aud_model *m, const char *obj, ptm_kind *ptm)
{
    static const struct {
        const char *name;
        aud_link link;
        ptm_kind ptm;
        int classifier;
        int multi;
    } objs[] = {
        { "binary:logistic", AUD_LINK_SIGMOID, PTM_LOGIT, 1, 0 },
        { "binary:logitraw", AUD_LINK_IDENTITY, PTM_IDENTITY, 0, 0 },
        { "reg:squarederror", AUD_LINK_IDENTITY, PTM_IDENTITY, 0, 0 },
        { "reg:linear", AUD_LINK_IDENTITY, PTM_IDENTITY, 0, 0 },
        { "reg:logistic", AUD_LINK_SIGMOID, PTM_LOGIT, 0, 0 },
        { "multi:softprob", AUD_LINK_SOFTMAX, PTM_IDENTITY, 1, 1 },
        { "multi:softmax", AUD_LINK_ARGMAX, PTM_IDENTITY, 1, 1 },
        { "count:poisson", AUD_LINK_EXP, PTM_LOG, 0, 0 },
    };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
        if (strcmp(obj, objs[i].name) == 0) {
            m->link = objs[i].link;
            m->is_classifier = objs[i].classifier;
            *ptm = objs[i].ptm;
            if (objs[i].multi && m->n_outputs < 2) {
                aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                              "objective %s needs num_class >= 2", obj);
                return aud_error_field(c->err, "learner.learner_model_param.num_class");
            }
            if (!objs[i].multi && m->n_outputs != 1) {
                aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                              "objective %s with num_class=%zu", obj, m->n_outputs);
                return aud_error_field(c->err, "learner.learner_model_param.num_class");
            }
            return AUD_OK;
        }
    }
    aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0,
                  "unsupported XGBoost objective \"%s\" (supported: binary:logistic, "
                  "binary:logitraw, reg:squarederror, reg:logistic, multi:softprob, "
                  "multi:softmax, count:poisson)", obj);
    return aud_error_field(c->err, "learner.objective.name");
}

static int parse_learner(xg_ctx *c, aud_model *m, const cJSON *root)
{
    int rc;
    long v = 0;
    const cJSON *learner = get(root, "learner");
    if (!cJSON_IsObject(learner))
        return schema_err(c, "learner", "not an XGBoost JSON model (no \"learner\" object)%s",
                          "");
    const cJSON *mp = get(learner, "learner_model_param");
    if (!cJSON_IsObject(mp))
        return schema_err(c, "learner.learner_model_param", "missing object%s", "");
    if ((rc = int_value(c, get(mp, "num_feature"), "learner.learner_model_param.num_feature", 0,
                        AUD_MODEL_MAX_FEATURES, &v)))
        return rc;
    m->n_features = (size_t)v;
    const cJSON *nc = get(mp, "num_class");
    v = 0;
    if (nc != NULL && (rc = int_value(c, nc, "learner.learner_model_param.num_class", 0,
                                      AUD_MODEL_MAX_OUTPUTS, &v)))
        return rc;
    m->n_outputs = v >= 2 ? (size_t)v : 1;
    const cJSON *nt = get(mp, "num_target");
    if (nt != NULL) {
        if ((rc = int_value(c, nt, "learner.learner_model_param.num_target", 0, 1 << 20, &v)))
            return rc;
        if (v > 1) {
            aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0,
                          "multi-target models (num_target=%ld) are not supported", v);
            return aud_error_field(c->err, "learner.learner_model_param.num_target");
        }
    }
    /* objective */
    const cJSON *on = get(get(learner, "objective"), "name");
    if (!cJSON_IsString(on) || on->valuestring == NULL)
        return schema_err(c, "learner.objective.name", "missing objective name%s", "");
    m->objective = aud_strdup(on->valuestring);
    if (m->objective == NULL)
        return aud_error_nomem(c->err);
    ptm_kind ptm = PTM_IDENTITY;
    if ((rc = set_objective(c, m, m->objective, &ptm)))
        return rc;
    /* base score */
    double bs[AUD_MODEL_MAX_OUTPUTS < 4096 ? AUD_MODEL_MAX_OUTPUTS : 4096];
    size_t n_bs = 0, cap = sizeof bs / sizeof bs[0];
    if (m->n_outputs > cap) {
        aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0, "more than %zu classes", cap);
        return aud_error_field(c->err, "learner.learner_model_param.num_class");
    }
    if ((rc = parse_base_score(c, get(mp, "base_score"), bs, cap, &n_bs)))
        return rc;
    if (n_bs != 1 && n_bs != m->n_outputs) {
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                      "base_score has %zu values, the model has %zu outputs", n_bs, m->n_outputs);
        return aud_error_field(c->err, "learner.learner_model_param.base_score");
    }
    m->base_margin = aud_calloc(m->n_outputs, sizeof *m->base_margin);
    if (m->base_margin == NULL)
        return aud_error_nomem(c->err);
    for (size_t k = 0; k < m->n_outputs; k++) {
        float b = (float)bs[n_bs == 1 ? 0 : k];
        float mg = b;
        if (ptm == PTM_LOGIT) {
            if (!(b > 0.0f && b < 1.0f)) {
                aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0,
                              "base_score %g must be in (0, 1) for %s", (double)b, m->objective);
                return aud_error_field(c->err, "learner.learner_model_param.base_score");
            }
            mg = -logf(1.0f / b - 1.0f);
        } else if (ptm == PTM_LOG) {
            if (!(b > 0.0f)) {
                aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0,
                              "base_score %g must be positive for %s", (double)b, m->objective);
                return aud_error_field(c->err, "learner.learner_model_param.base_score");
            }
            mg = logf(b);
        }
        m->base_margin[k] = (double)mg;
    }
    /* feature names (optional; an empty list means none) */
    const cJSON *fn = get(learner, "feature_names");
    if (fn != NULL && !cJSON_IsArray(fn))
        return schema_err(c, "learner.feature_names", "expected an array of strings%s", "");
    if (fn != NULL && fn->child != NULL) {
        size_t n = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, fn)
            n++;
        if (n != m->n_features) {
            aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                          "%zu feature names for num_feature=%zu", n, m->n_features);
            return aud_error_field(c->err, "learner.feature_names");
        }
        m->feature_names = aud_calloc(n, sizeof *m->feature_names);
        if (m->feature_names == NULL)
            return aud_error_nomem(c->err);
        size_t j = 0;
        cJSON_ArrayForEach(e, fn) {
            if (!cJSON_IsString(e) || e->valuestring == NULL)
                return schema_err(c, "learner.feature_names", "expected an array of strings%s",
                                  "");
            m->feature_names[j] = aud_strdup(e->valuestring);
            if (m->feature_names[j] == NULL)
                return aud_error_nomem(c->err);
            j++;
        }
    }
    return AUD_OK;
}

/* learner.feature_types (optional): "c" marks a categorical feature (its values are category
 * codes); "float", "q", "int", "i" are numerical. */
static int parse_feature_types(xg_ctx *c, aud_model *m, const cJSON *root)
{
    const cJSON *ft = get(get(root, "learner"), "feature_types");
    if (ft == NULL || (cJSON_IsArray(ft) && ft->child == NULL))
        return AUD_OK;
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ft)
        n++;
    if (!cJSON_IsArray(ft) || n != m->n_features) {
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                      "expected an array of %zu feature types", m->n_features);
        return aud_error_field(c->err, "learner.feature_types");
    }
    size_t j = 0;
    cJSON_ArrayForEach(e, ft) {
        if (!cJSON_IsString(e) || e->valuestring == NULL)
            return schema_err(c, "learner.feature_types", "expected strings%s", "");
        if (strcmp(e->valuestring, "c") == 0) {
            if (m->cat_feature == NULL &&
                (m->cat_feature = aud_calloc(m->n_features + 1, 1)) == NULL)
                return aud_error_nomem(c->err);
            m->cat_feature[j] = 1;
        }
        j++;
    }
    return AUD_OK;
}

/* Trees converted before parse_booster (the parallel path below): parse_booster then checks
 * the rest and leaves m->trees alone. */
typedef struct pre_trees {
    aud_tree *trees;
    size_t    n;
} pre_trees;

static int parse_booster(xg_ctx *c, aud_model *m, const cJSON *root, pre_trees *pre)
{
    int rc;
    const cJSON *gb = get(get(root, "learner"), "gradient_booster");
    const cJSON *gname = get(gb, "name");
    if (!cJSON_IsString(gname) || gname->valuestring == NULL)
        return schema_err(c, "learner.gradient_booster.name", "missing booster name%s", "");
    const cJSON *model = NULL, *wd = NULL;
    if (strcmp(gname->valuestring, "gbtree") == 0) {
        model = get(gb, "model");
    } else if (strcmp(gname->valuestring, "dart") == 0) {
        model = get(get(gb, "gbtree"), "model");
        wd = get(gb, "weight_drop");
        if (!cJSON_IsArray(wd))
            return schema_err(c, "learner.gradient_booster.weight_drop",
                              "DART model without a weight_drop array%s", "");
    } else {
        aud_error_set(c->err, AUD_E_UNSUPPORTED, c->name, 0, 0,
                      "unsupported booster \"%s\" (gbtree and dart are supported)",
                      gname->valuestring);
        return aud_error_field(c->err, "learner.gradient_booster.name");
    }
    const cJSON *trees = get(model, "trees"), *info = get(model, "tree_info");
    if (!cJSON_IsArray(trees))
        return schema_err(c, "learner.gradient_booster.model.trees", "missing array%s", "");
    if (!cJSON_IsArray(info))
        return schema_err(c, "learner.gradient_booster.model.tree_info", "missing array%s", "");
    size_t n = 0, ni = 0, nw = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, trees)
        n++;
    if (pre != NULL) {   /* the skeleton's trees array was emptied: the trees are pre's */
        if (n != 0 || wd != NULL)
            return AUD_E_INTERNAL;   /* not the array the scan found: the caller parses again */
        n = pre->n;
    }
    cJSON_ArrayForEach(e, info)
        ni++;
    if (ni != n) {
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0, "%zu tree_info entries for %zu trees",
                      ni, n);
        return aud_error_field(c->err, "learner.gradient_booster.model.tree_info");
    }
    if (wd != NULL) {
        cJSON_ArrayForEach(e, wd)
            nw++;
        if (nw != n) {
            aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                          "%zu weight_drop entries for %zu trees", nw, n);
            return aud_error_field(c->err, "learner.gradient_booster.weight_drop");
        }
    }
    if (n == 0)
        return schema_err(c, "learner.gradient_booster.model.trees", "the model has no trees%s",
                          "");
    const cJSON *nt = get(get(model, "gbtree_model_param"), "num_trees");
    if (nt != NULL) {
        long v = 0;
        const char *f = "learner.gradient_booster.model.gbtree_model_param.num_trees";
        if ((rc = int_value(c, nt, f, 0, 1L << 30, &v)))
            return rc;
        if ((size_t)v != n) {
            aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                          "num_trees is %ld but the trees array has %zu trees", v, n);
            return aud_error_field(c->err, f);
        }
    }
    if (pre != NULL) {
        m->trees = pre->trees;   /* the model's now */
        m->n_trees = n;
        pre->trees = NULL;
    } else {
        m->trees = aud_calloc(n, sizeof *m->trees);
        if (m->trees == NULL)
            return aud_error_nomem(c->err);
    }
    const cJSON *jt = trees->child, *ji = info->child, *jw = wd != NULL ? wd->child : NULL;
    for (size_t i = 0; i < n; i++) {
        char field[96];
        long cls = 0;
        double w = 1.0;
        snprintf(field, sizeof field, "learner.gradient_booster.model.tree_info[%zu]", i);
        if ((rc = int_value(c, ji, field, 0, (long)m->n_outputs - 1, &cls)))
            return rc;
        if (jw != NULL) {
            snprintf(field, sizeof field, "learner.gradient_booster.weight_drop[%zu]", i);
            if ((rc = num_value(c, jw, field, &w)))
                return rc;
            if (!isfinite(w)) {
                aud_error_set(c->err, AUD_E_DOMAIN, c->name, 0, 0, "weight is not finite");
                return aud_error_field(c->err, field);
            }
            jw = jw->next;
        }
        if (pre == NULL) {
            m->n_trees = i + 1;   /* so that a failure frees this tree's arrays */
            if ((rc = parse_tree(c, jt, i, m->n_features, w, &m->trees[i], NULL)))
                return rc;
            jt = jt->next;
        }
        m->trees[i].output = (int32_t)cls;
        ji = ji->next;
    }
    /* Rounds and early stopping: num_parallel_tree * n_outputs trees per round. */
    long npt = 1;
    const cJSON *jp = get(get(model, "gbtree_model_param"), "num_parallel_tree");
    if (jp != NULL && (rc = int_value(c, jp, "learner.gradient_booster.model.gbtree_model_param."
                                      "num_parallel_tree", 1, 1L << 30, &npt)))
        return rc;
    size_t per_round = (size_t)npt * m->n_outputs;
    m->n_iterations = (long)(n / per_round);
    const cJSON *bi = get(get(get(root, "learner"), "attributes"), "best_iteration");
    if (bi != NULL) {
        long b = 0;
        if ((rc = int_value(c, bi, "learner.attributes.best_iteration", 0, 1L << 30, &b)))
            return rc;
        if (b + 1 < m->n_iterations)
            m->best_iteration = b;
    }
    return AUD_OK;
}

/* The categories of one feature's "enc" entry as a JSON array (strings or numbers), or NULL for
 * a numerical feature (an empty entry); *bad is set on a malformed entry. */
static cJSON *enc_categories(xg_ctx *c, const cJSON *e, const char *field, int *bad)
{
    const cJSON *off = get(e, "offsets"), *val = get(e, "values"), *v;
    size_t nv = 0, no = 0;
    *bad = 0;
    if (!cJSON_IsObject(e) || !cJSON_IsArray(val) || (off != NULL && !cJSON_IsArray(off))) {
        *bad = schema_err(c, field, "expected {\"offsets\", \"values\"} or {\"type\", "
                          "\"values\"}%s", "");
        return NULL;
    }
    cJSON_ArrayForEach(v, val)
        nv++;
    cJSON_ArrayForEach(v, off)
        no++;
    if (nv == 0 && no <= 1)
        return NULL;   /* a numerical feature */
    cJSON *list = cJSON_CreateArray();
    char *bytes = off != NULL ? aud_malloc(nv + 1) : NULL;
    if (list == NULL || (off != NULL && bytes == NULL)) {
        cJSON_Delete(list);
        aud_free(bytes);
        *bad = aud_error_nomem(c->err);
        return NULL;
    }
    size_t k = 0;
    cJSON_ArrayForEach(v, val) {   /* numbers, or the UTF-8 bytes of the names as int8 */
        double x = v->valuedouble;
        if (!cJSON_IsNumber(v) || (bytes != NULL && (x != floor(x) || x < -128 || x > 255 ||
                                                     x == 0.0))) {
            *bad = schema_err(c, field, "%s", bytes != NULL ? "values: expected the bytes of "
                              "the category names (-128 to 255, no 0)" : "values: expected "
                              "numbers");
            goto fail;
        }
        if (bytes != NULL)
            bytes[k++] = (char)(unsigned char)(int)(x < 0 ? x + 256 : x);
        else if (!cJSON_AddItemToArray(list, cJSON_CreateNumber(x)))
            goto nomem;
    }
    if (bytes != NULL) {   /* Arrow string array: name i is bytes[offsets[i] .. offsets[i+1]) */
        long prev = -1;
        cJSON_ArrayForEach(v, off) {
            double x = v->valuedouble;
            if (!cJSON_IsNumber(v) || x != floor(x) || x < (prev < 0 ? 0.0 : (double)prev) ||
                x > (double)nv || (prev < 0 && x != 0)) {
                *bad = schema_err(c, field, "%s", "offsets: expected increasing offsets from 0 "
                                  "into values");
                goto fail;
            }
            if (prev >= 0) {
                char save = bytes[(size_t)x];
                bytes[(size_t)x] = '\0';
                cJSON *name = cJSON_CreateString(bytes + prev);
                bytes[(size_t)x] = save;
                if (name == NULL || !cJSON_AddItemToArray(list, name)) {
                    cJSON_Delete(name);
                    goto nomem;
                }
            }
            prev = (long)x;
        }
        if (prev != (long)nv) {
            *bad = schema_err(c, field, "%s", "offsets: the last offset is not the end of "
                              "values");
            goto fail;
        }
    }
    aud_free(bytes);
    return list;
nomem:
    *bad = aud_error_nomem(c->err);
fail:
    aud_free(bytes);
    cJSON_Delete(list);
    return NULL;
}

/* The training categories XGBoost >= 3.1 saves with the model (model.cats; CatContainer::Save in
 * XGBoost's src/data/cat_container.cc, the encoding of src/encoder/ordinal.h): "enc" has one
 * entry per feature - empty for a numerical one, a string feature's categories as an Arrow
 * string array {"offsets": [n+1], "values": [UTF-8 bytes as int8]}, a numeric one's {"type",
 * "values"} - and a category's position in its list is the code the trees split on
 * ("feature_segments" and "sorted_idx" only index them). They become the features' native
 * stage, as a --categories file would; a category not in the list is an error, as XGBoost's
 * re-coding refuses it. */
static int parse_cats(xg_ctx *c, aud_model *m, const cJSON *model)
{
    const cJSON *enc = get(get(model, "cats"), "enc"), *e;
    size_t n = 0, j = 0;
    cJSON_ArrayForEach(e, enc)
        n++;
    if (enc == NULL || n == 0)
        return AUD_OK;   /* before 3.1, or trained without categories */
    if (!cJSON_IsArray(enc) || n != m->n_features) {
        aud_error_set(c->err, AUD_E_SCHEMA, c->name, 0, 0,
                      "expected an array of %zu entries, one per feature", m->n_features);
        return aud_error_field(c->err, "learner.gradient_booster.model.cats.enc");
    }
    cJSON_ArrayForEach(e, enc) {
        char field[96];
        int bad = 0;
        snprintf(field, sizeof field, "learner.gradient_booster.model.cats.enc[%zu]", j);
        cJSON *list = enc_categories(c, e, field, &bad);
        if (bad)
            return bad;
        if (list != NULL) {
            if (m->cat_feature == NULL &&
                (m->cat_feature = aud_calloc(m->n_features + 1, 1)) == NULL) {
                cJSON_Delete(list);
                return aud_error_nomem(c->err);
            }
            m->cat_feature[j] = 1;
            int rc = aud_prep_native(m, j, list, 0, c->name, field, c->err);
            cJSON_Delete(list);
            if (rc != AUD_OK)
                return rc;
        }
        j++;
    }
    return AUD_OK;
}

/* XGBoost writes the non-JSON tokens NaN, Infinity and -Infinity (split_conditions of categorical
 * nodes are NaN). Returns a copy with each such token outside strings quoted ("NaN", read by
 * num_value as a number), or NULL with *n_tok = 0 when there is none. */
static char *quote_bare_tokens(const char *data, size_t len, size_t *out_len, int *nomem)
{
    static const char *const toks[] = { "-Infinity", "Infinity", "NaN" };
    size_t n_tok = 0;
    char *out = NULL;
    *nomem = 0;
    /* most files have neither token: memchr (vectorised) finds no 'N' of "NaN" or 'I' of
     * "Infinity" outside keys much faster than the scan below */
    int maybe = 0;
    for (const char *p = data, *e = data + len; !maybe && p < e; p++) {
        p = memchr(p, 'N', (size_t)(e - p));
        if (p == NULL)
            break;
        maybe = (size_t)(e - p) >= 3 && p[1] == 'a' && p[2] == 'N';
    }
    for (const char *p = data, *e = data + len; !maybe && p < e; p++) {
        p = memchr(p, 'I', (size_t)(e - p));
        if (p == NULL)
            break;
        maybe = (size_t)(e - p) >= 8 && memcmp(p, "Infinity", 8) == 0;
    }
    if (!maybe)
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t o = 0;
        int in_str = 0;
        for (size_t i = 0; i < len; i++) {
            char ch = data[i];
            size_t tl = 0;
            if (in_str) {
                if (ch == '\\' && i + 1 < len) {
                    if (out != NULL) {
                        out[o] = ch;
                        out[o + 1] = data[i + 1];
                    }
                    o += 2;
                    i++;
                    continue;
                }
                in_str = ch != '"';
            } else if (ch == '"') {
                in_str = 1;
            } else if (ch == 'N' || ch == 'I' || ch == '-') {
                for (int k = 0; k < 3 && tl == 0; k++) {
                    size_t l = strlen(toks[k]);
                    if (l <= len - i && memcmp(data + i, toks[k], l) == 0)
                        tl = l;
                }
            }
            if (tl > 0) {
                if (out != NULL) {
                    out[o] = '"';
                    memcpy(out + o + 1, data + i, tl);
                    out[o + 1 + tl] = '"';
                }
                o += tl + 2;
                i += tl - 1;
                n_tok++;
                continue;
            }
            if (out != NULL)
                out[o] = ch;
            o++;
        }
        if (pass == 0) {
            if (n_tok == 0)
                return NULL;
            out = aud_malloc(o + 1);
            if (out == NULL) {
                *nomem = 1;
                return NULL;
            }
        } else {
            out[o] = '\0';
            *out_len = o;
        }
    }
    return out;
}


/* ---- the trees on several threads ----------------------------------------------------------
 * A large gbtree model is mostly its trees array (a 500-tree model: nearly all of its 2.2 MB),
 * and one thread parsing it was the serial part that bounds predict's and explain's speed-up
 * (docs/speed.md). So: a structural scan (strings and nesting only, no validation) finds
 * learner.gradient_booster.model.trees and its elements; a copy of the document without that
 * array's contents ("trees": []) is parsed and checked as before, and the trees are parsed and
 * converted (parse_tree) on threads, each taking the next tree, each with an arena of its own
 * that is reset after every tree (so it stays one tree's size, where the whole document's nodes
 * were tens of MiB of fresh pages: this path is taken on one thread too). Anything unexpected -
 * a key with an escape on the path, a tree that does not parse on its own, an error of any
 * kind - drops the result and the whole document is parsed the serial way, which reports errors
 * exactly as always. A tree parsed on its own gives the same nodes as inside the document, so
 * the model does not depend on the path or the thread count. */

enum { PAR_MIN_BYTES = 256 * 1024, PAR_MIN_TREES = 16 };

_Atomic long aud_xgb_piecewise_parses;

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The first byte in [p, e) that is a quote or a backslash (in a string), or e. SSE2 (every
 * x86-64) looks at 16 bytes a step; a byte loop elsewhere and for the tail. */
static const char *next_in_string(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; e - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)));
        if (m != 0)
            return p + __builtin_ctz((unsigned)m);
    }
#endif
    while (p < e && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* The first byte in [p, e) that is a quote or a bracket ({ } [ ]), or e: (b | 0x20) is '{'
 * for '{' and '[' only, '}' for '}' and ']' only. */
static const char *next_structural(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), sp = _mm_set1_epi8(0x20), o = _mm_set1_epi8('{'),
                  c = _mm_set1_epi8('}');
    for (; e - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p), y = _mm_or_si128(x, sp);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, q),
                                   _mm_or_si128(_mm_cmpeq_epi8(y, o), _mm_cmpeq_epi8(y, c)));
        int m = _mm_movemask_epi8(hit);
        if (m != 0)
            return p + __builtin_ctz((unsigned)m);
    }
#endif
    while (p < e && *p != '"' && (*p | 0x20) != '{' && (*p | 0x20) != '}')
        p++;
    return p;
}

/* p at '"': just past the closing quote, or NULL; *esc set when the string holds a '\\'. */
static const char *skip_string(const char *p, const char *e, int *esc)
{
    for (p = next_in_string(p + 1, e); p < e; p = next_in_string(p + 1, e)) {
        if (*p == '"')
            return p + 1;
        *esc = 1;   /* a backslash: the next byte is escaped */
        if (++p >= e)
            return NULL;
    }
    return NULL;
}

/* p at a value's first byte: just past the value, or NULL (unbalanced or cut short). Scalars
 * run to the next delimiter; nothing is validated (the JSON parser does that). */
static const char *skip_value(const char *p, const char *e)
{
    int esc = 0;
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e, &esc);
    if (*p != '{' && *p != '[') {
        while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        return p;
    }
    size_t depth = 0;
    for (p = next_structural(p, e); p < e; p = next_structural(p, e)) {
        if (*p == '"') {
            p = skip_string(p, e, &esc);
            if (p == NULL)
                return NULL;
            continue;
        }
        if ((*p | 0x20) == '{') {
            depth++;
        } else if (--depth == 0) {
            return p + 1;
        }
        p++;
    }
    return NULL;
}

/* p at '{': visit(ctx, key, its length, value) for each member in order (the key's bytes as
 * they are: none may hold an escape). 1 when the object closes, 0 when it is cut short, is not
 * an object of members or has an escaped key, -1 when visit returned nonzero (an error). */
static int each_member(const char *p, const char *e,
                       int (*visit)(void *ctx, const char *key, size_t kl, const char *v),
                       void *ctx)
{
    p = skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        int esc = 0;
        const char *k = p + 1, *ke = skip_string(p, e, &esc);
        if (ke == NULL || esc)
            return 0;
        p = skip_ws(ke, e);
        if (p >= e || *p != ':')
            return 0;
        p = skip_ws(p + 1, e);
        if (visit(ctx, k, (size_t)(ke - 1 - k), p) != 0)
            return -1;
        p = skip_value(p, e);
        if (p == NULL)
            return 0;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        break;
    }
    return p < e && *p == '}';
}

typedef struct member_find {
    const char *key, *found;
    size_t      kl;
} member_find;

static int member_visit(void *ctx, const char *key, size_t kl, const char *v)
{
    member_find *f = ctx;
    if (f->found == NULL && kl == f->kl && memcmp(key, f->key, kl) == 0)
        f->found = v;
    return 0;
}

/* p at '{': the value of the object's first member named key (compared byte for byte, as
 * cJSON_GetObjectItemCaseSensitive compares the decoded names: no key of this object may hold
 * an escape), or NULL. */
static const char *member(const char *p, const char *e, const char *key)
{
    member_find f = { key, NULL, strlen(key) };
    return each_member(p, e, member_visit, &f) == 1 ? f.found : NULL;
}

typedef struct tree_span {
    const char *p;
    size_t      n;
} tree_span;

/* The trees array of a gbtree model: its '[' and ']' in *a, *b and its elements (at most cap)
 * in sp; the number of elements, or 0 when the scan finds no such array. */
static size_t find_trees(const char *d, size_t len, const char **a, const char **b,
                         tree_span **sp)
{
    const char *e = d + len, *p = skip_ws(d, e);
    static const char *const path[] = { "learner", "gradient_booster", "model", "trees" };
    *sp = NULL;
    for (int k = 0; k < 4; k++) {
        if (p == NULL || p >= e || *p != '{')
            return 0;
        p = member(p, e, path[k]);
    }
    if (p == NULL || p >= e || *p != '[')
        return 0;
    *a = p;
    size_t n = 0, cap = 0;
    tree_span *s = NULL;
    p = skip_ws(p + 1, e);
    while (p < e && *p != ']') {
        const char *v = p;
        p = skip_value(p, e);
        if (p == NULL)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            tree_span *ns = aud_realloc(s, cap * sizeof *ns);
            if (ns == NULL)
                break;
            s = ns;
        }
        s[n++] = (tree_span){ v, (size_t)(p - v) };
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p = skip_ws(p + 1, e);
        else if (p >= e || *p != ']')
            break;
    }
    if (p == NULL || p >= e || *p != ']' || n == 0) {
        aud_free(s);
        return 0;
    }
    *b = p;
    *sp = s;
    return n;
}

/* Array `k` at p ('[') of plain JSON numbers (bools: also true and false, as 1 and 0) into
 * pre->v[k]; its ']' in *close. 1 done, 0 anything else in it (left to cJSON), -1 out of
 * memory. */
static int pre_array(const char *p, const char *e, int bools, xg_pre *pre, int k,
                     const char **close)
{
    size_t cnt = 0;
    p = skip_ws(p + 1, e);
    while (p < e && *p != ']') {
        const char *v = p;
        if ((p = skip_value(p, e)) == NULL)   /* a scalar runs to the next delimiter */
            return 0;
        double d;
        if (bools && p - v == 4 && memcmp(v, "true", 4) == 0)
            d = 1.0;
        else if (bools && p - v == 5 && memcmp(v, "false", 5) == 0)
            d = 0.0;
        else if (aud_json_number(v, (size_t)(p - v), &d) != 0)
            return 0;
        if (cnt == pre->cap[k]) {
            size_t cap = pre->cap[k] ? 2 * pre->cap[k] : 256;
            double *nv = aud_realloc(pre->v[k], cap * sizeof *nv);
            if (nv == NULL)
                return -1;
            pre->v[k] = nv;
            pre->cap[k] = cap;
        }
        pre->v[k][cnt++] = d;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            if (p < e && *p == ']')
                return 0;   /* a trailing comma: cJSON's error */
        } else if (p >= e || *p != ']') {
            return 0;
        }
    }
    if (p >= e)
        return 0;
    *close = p;
    pre->n[k] = cnt;
    return 1;
}

/* pre_arrays' walk over the tree's members: where each array it read opens and closes. */
typedef struct pre_walk {
    xg_pre     *pre;
    const char *e, *open[PRE_KEYS], *close[PRE_KEYS];
    unsigned    seen;
} pre_walk;

static int pre_visit(void *ctx, const char *key, size_t kl, const char *v)
{
    pre_walk *w = ctx;
    int k = 0;
    while (k < PRE_KEYS && !(kl == strlen(tree_keys[k]) && memcmp(key, tree_keys[k], kl) == 0))
        k++;
    if (k == PRE_KEYS || (w->seen >> k & 1u))   /* not one of them, or not the first */
        return 0;
    w->seen |= 1u << k;
    if (v >= w->e || *v != '[')
        return 0;
    int r = pre_array(v, w->e, k == 4, w->pre, k, &w->close[k]);
    w->pre->have[k] = r > 0;
    w->open[k] = v;
    return r < 0;
}

/* The tree object buf[0..n) (a copy: it is written): each of tree_keys' arrays (the first member
 * of that name, as cJSON_GetObjectItemCaseSensitive finds it) that holds plain JSON numbers
 * only is read into pre by the project's parser and its contents blanked, so cJSON parses the
 * rest of the tree only. An array holding anything else is left to cJSON, and so is every array
 * of an object with an escaped key. 0, or -1 when out of memory.
 * Why: cJSON reads every number with strtod after asking localeconv() for the decimal point,
 * and glibc's localeconv() rewrites one static struct on every call, so threads parsing numbers
 * side by side fought over its cache line (2M calls: 16 ms on one thread, 143-173 ms on two):
 * bench_threads' 500-tree model (2.2 MB) took 31 ms on one thread and 35 ms on two. With the
 * arrays read here (aud_json_number: the CSV reader's exact fast paths, no locale) 16.5 ms on
 * one thread and 9.5 ms on two (docs/speed.md, "Model parsing on threads"). */
static int pre_arrays(char *buf, size_t n, xg_pre *pre)
{
    pre_walk w = { pre, buf + n, { NULL }, { NULL }, 0 };
    const char *p = skip_ws(buf, w.e);
    for (int k = 0; k < PRE_KEYS; k++)
        pre->have[k] = 0;
    int r = p < w.e && *p == '{' ? each_member(p, w.e, pre_visit, &w) : 0;
    for (int k = 0; k < PRE_KEYS; k++) {
        if (r == 1 && pre->have[k])
            memset(buf + (w.open[k] + 1 - buf), ' ', (size_t)(w.close[k] - w.open[k] - 1));
        else
            pre->have[k] = 0;   /* all left to cJSON */
    }
    return r < 0 ? -1 : 0;
}

typedef struct tree_job {
    const tree_span *sp;
    size_t           n, n_features;
    aud_tree        *trees;
    _Atomic size_t  *next;
    const char      *name;
    int              failed;
} tree_job;

static void *tree_job_main(void *arg)
{
    tree_job *j = arg;
    aud_error err;
    aud_error_clear(&err);
    xg_ctx c = { j->name, &err };
    xg_pre pre;
    memset(&pre, 0, sizeof pre);
    char *buf = NULL;   /* the tree's text, its numeric arrays blanked (pre_arrays) */
    size_t cap = 0;
    aud_json_arena *arena = aud_json_arena_begin();
    if (arena == NULL) {
        j->failed = 1;
        return NULL;
    }
    for (size_t i; !j->failed && (i = atomic_fetch_add(j->next, 1)) < j->n;) {
        const char *end = NULL;
        size_t n = j->sp[i].n;
        if (n + 1 > cap) {
            char *nb = aud_realloc(buf, n + 1);
            if (nb == NULL) {
                j->failed = 1;
                break;
            }
            buf = nb;
            cap = n + 1;
        }
        memcpy(buf, j->sp[i].p, n);
        buf[n] = '\0';
        if (pre_arrays(buf, n, &pre) != 0) {
            j->failed = 1;
            break;
        }
        cJSON *jt = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
        if (jt == NULL || end != buf + n ||
            parse_tree(&c, jt, i, j->n_features, 1.0, &j->trees[i], &pre) != AUD_OK)
            j->failed = 1;
        cJSON_Delete(jt);   /* nothing in the arena (without aud_global_init: freed) */
        aud_json_arena_reset(arena);   /* the tree's nodes: read, no longer needed */
    }
    aud_json_arena_end(arena);
    aud_free(buf);
    for (int k = 0; k < PRE_KEYS; k++)
        aud_free(pre.v[k]);
    return NULL;
}

/* The parallel path: AUD_OK with the model read, or anything else (nothing reported in err,
 * m as it was given) when the caller must parse the serial way. */
static int parse_parallel(aud_model *m, const char *d, size_t len, const char *name, int threads,
                          aud_error *err)
{
    if (threads < 1)
        threads = 1;
    const char *a = NULL, *b = NULL;
    tree_span *sp = NULL;
    size_t n = find_trees(d, len, &a, &b, &sp);
    if (n < PAR_MIN_TREES) {
        aud_free(sp);
        return AUD_E_INTERNAL;
    }
    char *skel = aud_malloc(len + 1);
    pre_trees pre = { aud_calloc(n, sizeof *pre.trees), n };
    tree_job *jobs = aud_calloc((size_t)threads, sizeof *jobs);
    int rc = AUD_E_INTERNAL;
    if (skel == NULL || pre.trees == NULL || jobs == NULL)
        goto done;
    size_t head = (size_t)(a - d) + 1, tail = len - (size_t)(b - d);   /* "...[" and "]..." */
    memcpy(skel, d, head);
    memcpy(skel + head, b, tail);
    skel[head + tail] = '\0';
    _Atomic size_t next = 0;
    for (int t = 0; t < threads; t++)
        jobs[t] = (tree_job){ sp, n, 0, pre.trees, &next, name, 0 };
    /* the features are known once the learner is read: the skeleton first */
    aud_error e2;
    aud_error_clear(&e2);
    xg_ctx c = { name, &e2 };
    cJSON *root = NULL;
    aud_json_arena *arena = aud_json_arena_begin();
    if (arena == NULL)
        goto done;
    if (aud_json_parse_located(&root, skel, head + tail, name, &e2) == AUD_OK &&
        parse_learner(&c, m, root) == AUD_OK && parse_feature_types(&c, m, root) == AUD_OK) {
        for (int t = 0; t < threads; t++)
            jobs[t].n_features = m->n_features;
        aud_run_jobs(jobs, (size_t)threads, sizeof *jobs, tree_job_main);
        int failed = 0;
        for (int t = 0; t < threads; t++)
            failed |= jobs[t].failed;
        if (!failed && parse_booster(&c, m, root, &pre) == AUD_OK) {
            const cJSON *gb = get(get(root, "learner"), "gradient_booster");
            rc = parse_cats(&c, m, get(gb, "model"));
            if (rc != AUD_OK)
                *err = e2;   /* cats are not in the trees array: the serial parse says the same */
        }
    }
    cJSON_Delete(root);
    aud_json_arena_end(arena);
done:
    if (pre.trees != NULL) {
        for (size_t i = 0; i < n; i++)
            aud_tree_free(&pre.trees[i]);
        aud_free(pre.trees);
    }
    aud_free(jobs);
    aud_free(skel);
    aud_free(sp);
    return rc;
}

int aud_xgb_json_parse(aud_model *m, const char *data, size_t len, const char *name,
                       int threads, aud_error *err)
{
    xg_ctx c = { name, err };
    m->kind = AUD_MODEL_TREES;
    m->n_outputs = 1;
    m->sum_f32 = 1;
    cJSON *root = NULL;
    size_t qlen = 0;
    int nomem = 0;
    char *quoted = quote_bare_tokens(data, len, &qlen, &nomem);
    if (nomem)
        return aud_error_nomem(err);
    if (len >= PAR_MIN_BYTES) {   /* also on one thread: the arena stays one tree's size */
        aud_model keep = *m;
        int prc = parse_parallel(m, quoted != NULL ? quoted : data, quoted != NULL ? qlen : len,
                                 name, threads, err);
        if (prc == AUD_OK) {
            aud_free(quoted);
            atomic_fetch_add(&aud_xgb_piecewise_parses, 1);
            return AUD_OK;
        }
        if (prc != AUD_E_INTERNAL) {   /* parse_cats' error: the same as the serial parse's */
            aud_free(quoted);
            return prc;
        }
        aud_model_clear_parsed(m, &keep);   /* and again, the serial way */
    }
    /* the document's nodes (hundreds of thousands for a large booster) from one arena: read
     * into the model and dropped below */
    aud_json_arena *arena = aud_json_arena_begin();
    int rc0 = quoted != NULL ? aud_json_parse_located(&root, quoted, qlen, name, err)
                             : aud_json_parse_located(&root, data, len, name, err);
    aud_free(quoted);
    if (rc0 != AUD_OK) {
        aud_json_arena_end(arena);
        return rc0;
    }
    int rc = parse_learner(&c, m, root);
    if (rc == AUD_OK)
        rc = parse_feature_types(&c, m, root);
    if (rc == AUD_OK)
        rc = parse_booster(&c, m, root, NULL);
    if (rc == AUD_OK) {   /* gbtree's model, or dart's gbtree's */
        const cJSON *gb = get(get(root, "learner"), "gradient_booster");
        rc = parse_cats(&c, m, get(gb, "model") != NULL ? get(gb, "model")
                                                        : get(get(gb, "gbtree"), "model"));
    }
    cJSON_Delete(root);
    aud_json_arena_end(arena);
    return rc;
}
