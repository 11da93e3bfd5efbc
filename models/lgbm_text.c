/* lgbm_text.c - LightGBM text model (Booster.save_model("m.txt"), version=v3/v4).
 *
 * Format, as written by LightGBM's GBDT::SaveModelToString and Tree::ToString (src/boosting/
 * gbdt_model_text.cpp, src/io/tree.cpp): a header of key=value lines (version, num_class,
 * num_tree_per_iteration, max_feature_idx, objective, feature_names, optional average_output),
 * then one block per tree starting "Tree=N" with key=value arrays of num_leaves-1 internal nodes
 * (split_feature, threshold, decision_type, left_child, right_child, internal_value,
 * internal_count) and num_leaves leaves (leaf_value, leaf_count), categorical bitsets
 * (cat_boundaries, cat_threshold), then "end of trees" and blocks that are ignored.
 * Child c < 0 means leaf ~c. decision_type bit 0 categorical, bit 1 default_left, bits 2-3 missing
 * type (0 None, 1 Zero, 2 NaN). Semantics: ../shared/fixtures/lightgbm/README.md rules 1-7.
 *
 * Flattening: internal node i becomes node i, leaf l becomes node (num_leaves - 1) + l. */
#include "models/model_int.h"
#include "core/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct lg_line {
    const char *key, *key_end;     /* key (line up to '='), or the whole line when no '=' */
    const char *val, *end;         /* value (after '='), end of line (excluding \r\n) */
    long no;                       /* 1-based line number */
    int has_eq;
} lg_line;

typedef struct lg_reader {
    const char *p, *end;
    long line_no;
    const char *name;
} lg_reader;

static int next_line(lg_reader *r, lg_line *l)
{
    if (r->p >= r->end)
        return 0;
    const char *s = r->p, *e = memchr(s, '\n', (size_t)(r->end - s));
    if (e == NULL)
        e = r->end;
    r->p = e < r->end ? e + 1 : e;
    r->line_no++;
    if (e > s && e[-1] == '\r')
        e--;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    l->key = s;
    l->no = r->line_no;
    l->end = e;
    l->has_eq = eq != NULL;
    l->key_end = eq != NULL ? eq : e;
    l->val = eq != NULL ? eq + 1 : e;
    return 1;
}

static int key_is(const lg_line *l, const char *k)
{
    size_t n = strlen(k);
    return l->has_eq && (size_t)(l->key_end - l->key) == n && memcmp(l->key, k, n) == 0;
}

/* Count the whitespace-separated tokens of a value. */
static size_t count_tokens(const char *p, const char *e)
{
    size_t n = 0;
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= e)
            break;
        n++;
        while (p < e && *p != ' ' && *p != '\t')
            p++;
    }
    return n;
}

/* Parse exactly n numbers from l's value: doubles into dout, or (dout NULL) integers in [lo, hi]
 * into iout. One walker, so the token rules and the count errors are the same for both. */
static int parse_numbers(lg_reader *r, const lg_line *l, double *dout, int64_t *iout, size_t n,
                         int64_t lo, int64_t hi, aud_error *err)
{
    const char *p = l->val, *e = l->end;
    int klen = (int)(l->key_end - l->key);
    size_t i = 0;
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= e)
            break;
        long col = (long)(p - l->key) + 1;
        if (i == n)
            return aud_error_set(err, AUD_E_SCHEMA, r->name, l->no, col,
                                 "%.*s: more than %zu values", klen, l->key, n);
        char *q = NULL;
        errno = 0;
        double dv = 0.0;
        long long iv = 0;
        if (dout != NULL)
            dv = aud_strtod_c(p, &q);
        else
            iv = strtoll(p, &q, 10);
        if (q == p || (q < e && *q != ' ' && *q != '\t') || q > e)
            return aud_error_set(err, AUD_E_PARSE, r->name, l->no, col, "%.*s: expected %s",
                                 klen, l->key, dout != NULL ? "a number" : "an integer");
        if (dout != NULL) {
            dout[i++] = dv;
        } else {
            if (errno == ERANGE || iv < lo || iv > hi)
                return aud_error_set(err, AUD_E_DOMAIN, r->name, l->no, col,
                                     "%.*s: value %lld out of range [%lld, %lld]", klen, l->key,
                                     iv, (long long)lo, (long long)hi);
            iout[i++] = iv;
        }
        p = q;
    }
    if (i != n)
        return aud_error_set(err, AUD_E_SCHEMA, r->name, l->no, (long)(e - l->key) + 1,
                             "%.*s: expected %zu values, found %zu", klen, l->key, n, i);
    return AUD_OK;
}

static int parse_doubles(lg_reader *r, const lg_line *l, double *out, size_t n, aud_error *err)
{
    return parse_numbers(r, l, out, NULL, n, 0, 0, err);
}

/* Parse exactly n integers in [lo, hi]. */
static int parse_ints(lg_reader *r, const lg_line *l, int64_t *out, size_t n, int64_t lo,
                      int64_t hi, aud_error *err)
{
    return parse_numbers(r, l, NULL, out, n, lo, hi, err);
}

static int parse_one_int(lg_reader *r, const lg_line *l, int64_t *out, int64_t lo, int64_t hi,
                         aud_error *err)
{
    return parse_ints(r, l, out, 1, lo, hi, err);
}

/* The lines of one tree block, located before parsing so the order of keys does not matter. */
enum { T_NUM_LEAVES, T_NUM_CAT, T_SPLIT_FEATURE, T_THRESHOLD, T_DECISION_TYPE, T_LEFT, T_RIGHT,
       T_LEAF_VALUE, T_LEAF_COUNT, T_INTERNAL_VALUE, T_INTERNAL_COUNT, T_CAT_BOUNDARIES,
       T_CAT_THRESHOLD, T_IS_LINEAR, T_SHRINKAGE, T_NKEYS };
static const char *const tree_keys[T_NKEYS] = {
    "num_leaves", "num_cat", "split_feature", "threshold", "decision_type", "left_child",
    "right_child", "leaf_value", "leaf_count", "internal_value", "internal_count",
    "cat_boundaries", "cat_threshold", "is_linear", "shrinkage"
};

/* Header keys read before the first tree (each at most once). */
static const char *const header_keys[] = {
    "num_class", "num_tree_per_iteration", "max_feature_idx", "objective", "tree_sizes",
    "feature_names", "feature_infos"
};

typedef struct lg_tree_lines {
    lg_line line[T_NKEYS];
    int have[T_NKEYS];
    lg_line head;                  /* the "Tree=N" line */
} lg_tree_lines;

static int missing_key(lg_reader *r, const lg_tree_lines *tl, const char *key, aud_error *err)
{
    return aud_error_set(err, AUD_E_SCHEMA, r->name, tl->head.no, 1,
                         "%.*s: missing \"%s\" line", (int)(tl->head.end - tl->head.key),
                         tl->head.key, key);
}

static int build_tree(lg_reader *r, const lg_tree_lines *tl, aud_tree *t, size_t n_features,
                      int32_t output, aud_error *err)
{
    int64_t v = 0;
    int rc;
    if (!tl->have[T_NUM_LEAVES])
        return missing_key(r, tl, "num_leaves", err);
    if (!tl->have[T_LEAF_VALUE])
        return missing_key(r, tl, "leaf_value", err);
    if ((rc = parse_one_int(r, &tl->line[T_NUM_LEAVES], &v, 1, AUD_MODEL_MAX_NODES / 2, err)))
        return rc;
    size_t L = (size_t)v, I = L - 1;
    int64_t num_cat = 0;
    if (tl->have[T_NUM_CAT] &&
        (rc = parse_one_int(r, &tl->line[T_NUM_CAT], &num_cat, 0, (int64_t)I, err)))
        return rc;
    if (tl->have[T_IS_LINEAR]) {
        int64_t lin = 0;
        if ((rc = parse_one_int(r, &tl->line[T_IS_LINEAR], &lin, 0, 1, err)))
            return rc;
        if (lin)
            return aud_error_set(err, AUD_E_UNSUPPORTED, r->name, tl->line[T_IS_LINEAR].no, 1,
                                 "linear trees (linear_tree=true) are not supported");
    }
    /* Check the declared size against the data before allocating (a hostile num_leaves). */
    const lg_line *lv = &tl->line[T_LEAF_VALUE];
    size_t n_vals = count_tokens(lv->val, lv->end);
    if (n_vals != L)
        return aud_error_set(err, AUD_E_SCHEMA, r->name, lv->no, 1,
                             "leaf_value: expected %zu values (num_leaves), found %zu", L, n_vals);
    if ((rc = aud_tree_alloc(t, (int32_t)(I + L), err)))
        return rc;
    t->output = output;
    double *dbuf = aud_malloc((L + 1) * sizeof *dbuf);
    int64_t *ibuf = aud_malloc((L + 1) * sizeof *ibuf);
    int64_t *cb = NULL;
    if (dbuf == NULL || ibuf == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* leaves */
    if ((rc = parse_doubles(r, &tl->line[T_LEAF_VALUE], dbuf, L, err)))
        goto done;
    for (size_t l = 0; l < L; l++)
        t->value[I + l] = dbuf[l];
    if (tl->have[T_LEAF_COUNT]) {
        if ((rc = parse_doubles(r, &tl->line[T_LEAF_COUNT], dbuf, L, err)))
            goto done;
        for (size_t l = 0; l < L; l++)
            t->cover[I + l] = dbuf[l];
    }
    if (I == 0)
        goto done;
    /* internal nodes */
    static const int needed[] = { T_SPLIT_FEATURE, T_THRESHOLD, T_DECISION_TYPE, T_LEFT, T_RIGHT };
    for (size_t k = 0; k < sizeof needed / sizeof needed[0]; k++)
        if (!tl->have[needed[k]]) {
            rc = missing_key(r, tl, tree_keys[needed[k]], err);
            goto done;
        }
    if ((rc = parse_ints(r, &tl->line[T_SPLIT_FEATURE], ibuf, I, 0, (int64_t)n_features - 1,
                         err)))
        goto done;
    for (size_t i = 0; i < I; i++)
        t->feature[i] = (int32_t)ibuf[i];
    if ((rc = parse_doubles(r, &tl->line[T_THRESHOLD], dbuf, I, err)))
        goto done;
    for (size_t i = 0; i < I; i++)
        t->threshold[i] = dbuf[i];
    if (tl->have[T_INTERNAL_VALUE]) {
        if ((rc = parse_doubles(r, &tl->line[T_INTERNAL_VALUE], dbuf, I, err)))
            goto done;
        for (size_t i = 0; i < I; i++)
            t->value[i] = dbuf[i];
    }
    if (tl->have[T_INTERNAL_COUNT]) {
        if ((rc = parse_doubles(r, &tl->line[T_INTERNAL_COUNT], dbuf, I, err)))
            goto done;
        for (size_t i = 0; i < I; i++)
            t->cover[i] = dbuf[i];
    }
    for (int side = 0; side < 2; side++) {
        const lg_line *cl = &tl->line[side == 0 ? T_LEFT : T_RIGHT];
        if ((rc = parse_ints(r, cl, ibuf, I, -(int64_t)L, (int64_t)I - 1, err)))
            goto done;
        int32_t *dst = side == 0 ? t->left : t->right;
        for (size_t i = 0; i < I; i++)
            dst[i] = ibuf[i] >= 0 ? (int32_t)ibuf[i] : (int32_t)(I + (size_t)(~ibuf[i]));
    }
    if ((rc = parse_ints(r, &tl->line[T_DECISION_TYPE], ibuf, I, 0, 15, err)))
        goto done;
    if (num_cat > 0) {
        if (!tl->have[T_CAT_BOUNDARIES] || !tl->have[T_CAT_THRESHOLD]) {
            rc = missing_key(r, tl, "cat_boundaries/cat_threshold", err);
            goto done;
        }
        cb = aud_malloc((size_t)(num_cat + 1) * sizeof *cb);
        if (cb == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        const lg_line *bl = &tl->line[T_CAT_BOUNDARIES];
        if ((rc = parse_ints(r, bl, cb, (size_t)num_cat + 1, 0, 1 << 24, err)))
            goto done;
        for (int64_t c = 0; c < num_cat; c++)
            if (cb[c + 1] < cb[c] || cb[0] != 0) {
                rc = aud_error_set(err, AUD_E_DOMAIN, r->name, bl->no, 1,
                                   "cat_boundaries must start at 0 and not decrease");
                goto done;
            }
        size_t nw = (size_t)cb[num_cat];
        int64_t *words = aud_malloc((nw + 1) * sizeof *words);
        t->cat_bits = aud_malloc((nw + 1) * sizeof *t->cat_bits);
        if (words == NULL || t->cat_bits == NULL) {
            aud_free(words);
            rc = aud_error_nomem(err);
            goto done;
        }
        rc = parse_ints(r, &tl->line[T_CAT_THRESHOLD], words, nw, 0, UINT32_MAX, err);
        for (size_t w = 0; rc == AUD_OK && w < nw; w++)
            t->cat_bits[w] = (uint32_t)words[w];
        aud_free(words);
        if (rc)
            goto done;
        t->n_cat_bits = (int32_t)nw;
    }
    for (size_t i = 0; i < I; i++) {
        int dt = (int)ibuf[i];
        t->default_left[i] = (uint8_t)((dt >> 1) & 1);
        t->missing[i] = (uint8_t)((dt >> 2) & 3);
        if (t->missing[i] > AUD_MISSING_NAN) {
            rc = aud_error_set(err, AUD_E_DOMAIN, r->name, tl->line[T_DECISION_TYPE].no, 1,
                               "decision_type %d of node %zu has an unknown missing type", dt, i);
            goto done;
        }
        if (dt & 1) {
            double c = t->threshold[i];
            if (!(c >= 0 && c < (double)num_cat) || c != (double)(int64_t)c) {
                rc = aud_error_set(err, AUD_E_DOMAIN, r->name, tl->line[T_THRESHOLD].no, 1,
                                   "categorical node %zu: threshold %g is not a bitset index "
                                   "below num_cat=%lld", i, c, (long long)num_cat);
                goto done;
            }
            t->kind[i] = AUD_SPLIT_CAT;
            t->cat_begin[i] = (int32_t)cb[(int64_t)c];
            t->cat_words[i] = (int32_t)(cb[(int64_t)c + 1] - cb[(int64_t)c]);
        } else {
            t->kind[i] = AUD_SPLIT_LE_F64;
        }
    }
done:
    aud_free(dbuf);
    aud_free(ibuf);
    aud_free(cb);
    return rc;
}

/* Set the link from the objective line: "binary sigmoid:1", "multiclass num_class:3", ... */
static int set_objective(aud_model *m, lg_reader *r, const lg_line *l, aud_error *err)
{
    const char *p = l->val, *e = l->end;
    while (p < e && *p == ' ')
        p++;
    const char *q = p;
    while (q < e && *q != ' ')
        q++;
    size_t n = (size_t)(q - p);
    m->objective = aud_malloc((size_t)(e - p) + 1);
    if (m->objective == NULL)
        return aud_error_nomem(err);
    memcpy(m->objective, p, (size_t)(e - p));
    m->objective[e - p] = '\0';
#define OBJ_IS(s) (n == strlen(s) && memcmp(p, s, n) == 0)
    if (OBJ_IS("binary") || OBJ_IS("multiclassova") || OBJ_IS("cross_entropy") ||
        OBJ_IS("xentropy")) {
        m->link = AUD_LINK_SIGMOID;
        m->is_classifier = 1;
        m->sigmoid_scale = 1.0;
        const char *s = strstr(m->objective, "sigmoid:");
        if (s != NULL && !OBJ_IS("cross_entropy") && !OBJ_IS("xentropy")) {
            char *end = NULL;
            double v = aud_strtod_c(s + 8, &end);
            if (end == s + 8 || !isfinite(v) || v <= 0)
                return aud_error_set(err, AUD_E_PARSE, r->name, l->no, (long)(s - m->objective) +
                                     (long)(p - l->key) + 9, "bad sigmoid parameter");
            m->sigmoid_scale = v;
        }
    } else if (OBJ_IS("multiclass") || OBJ_IS("softmax")) {
        m->link = AUD_LINK_SOFTMAX;
        m->is_classifier = 1;
    } else if (OBJ_IS("regression") || OBJ_IS("regression_l2") || OBJ_IS("regression_l1") ||
               OBJ_IS("l2") || OBJ_IS("l1") || OBJ_IS("huber") || OBJ_IS("fair") ||
               OBJ_IS("quantile") || OBJ_IS("mape") || OBJ_IS("mse") || OBJ_IS("mae")) {
        if (strstr(m->objective, "sqrt") != NULL)
            return aud_error_set(err, AUD_E_UNSUPPORTED, r->name, l->no, 1,
                                 "objective \"%s\": reg_sqrt is not supported", m->objective);
        m->link = AUD_LINK_IDENTITY;
    } else if (OBJ_IS("poisson") || OBJ_IS("gamma") || OBJ_IS("tweedie")) {
        m->link = AUD_LINK_EXP;
    } else {
        return aud_error_set(err, AUD_E_UNSUPPORTED, r->name, l->no, (long)(p - l->key) + 1,
                             "unsupported LightGBM objective \"%.*s\" (binary, multiclass, "
                             "multiclassova, cross_entropy, regression family, poisson, gamma, "
                             "tweedie)", (int)n, p);
    }
#undef OBJ_IS
    return AUD_OK;
}

/* The model's categorical features in feature order, for pandas_categorical (one list per
 * categorical feature, in DataFrame column order = feature order): the features whose
 * feature_infos entry is a category list ("-1:0:1:2", LightGBM's categorical bin mapper) rather
 * than a numerical range ("[a:b]") or "none"; when that count differs from n_lists, the
 * "[categorical_feature: 1,4,6]" parameter line, if it lists that many feature indices. Fills
 * feats (n_features entries); returns how many, or -1 when neither gives n_lists. */
static long categorical_features(const aud_model *m, const lg_line *infos, const lg_line *param,
                                 size_t n_lists, size_t *feats)
{
    size_t n = 0;
    if (infos != NULL && count_tokens(infos->val, infos->end) == m->n_features) {
        const char *p = infos->val, *e = infos->end;
        for (size_t j = 0; j < m->n_features; j++) {
            while (p < e && (*p == ' ' || *p == '\t'))
                p++;
            const char *q = p;
            while (q < e && *q != ' ' && *q != '\t')
                q++;
            if (!(q - p == 4 && memcmp(p, "none", 4) == 0) && *p != '[')
                feats[n++] = j;
            p = q;
        }
        if (n == n_lists)
            return (long)n;
    }
    if (param == NULL)
        return -1;
    n = 0;
    const char *p = param->key + 21, *e = param->end;   /* after "[categorical_feature:" */
    while (p < e && *p != ']') {
        char *end = NULL;
        while (p < e && (*p == ' ' || *p == ','))
            p++;
        if (p >= e || *p == ']')
            break;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || (size_t)v >= m->n_features || n >= m->n_features)
            return -1;
        feats[n++] = (size_t)v;
        p = end;
    }
    return n == n_lists ? (long)n : -1;
}

/* pandas_categorical:[[...], ...] (the python-package's Booster.save_model appends it): the
 * categories of each categorical feature in code order; LightGBM's python-package recodes a
 * category column with set_categories(list), so a value not in the list is NaN. */
static int set_pandas_categorical(aud_model *m, const lg_reader *r, const lg_line *l,
                                  const lg_line *infos, const lg_line *param, aud_error *err)
{
    static const size_t off = sizeof "pandas_categorical:" - 1;
    const char *pv = l->key + off;
    cJSON *root = cJSON_ParseWithLength(pv, (size_t)(l->end - pv));
    int rc = AUD_OK;
    size_t *feats = NULL;
    if (root == NULL)
        return aud_error_set(err, AUD_E_PARSE, r->name, l->no, (long)off + 1,
                             "pandas_categorical is not valid JSON");
    if (cJSON_IsNull(root) || (cJSON_IsArray(root) && root->child == NULL))
        goto done;
    size_t n = 0;
    for (const cJSON *e = root->child; e != NULL; e = e->next)
        n++;
    if (!cJSON_IsArray(root)) {
        rc = aud_error_set(err, AUD_E_SCHEMA, r->name, l->no, (long)off + 1,
                           "pandas_categorical must be null or a list of category lists");
        goto done;
    }
    feats = aud_malloc((m->n_features + 1) * sizeof *feats);
    if (feats == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (categorical_features(m, infos, param, n, feats) < 0) {
        rc = aud_error_set(err, AUD_E_SCHEMA, r->name, l->no, (long)off + 1,
                           "pandas_categorical has %zu lists, but neither feature_infos nor "
                           "the categorical_feature parameter names that many categorical "
                           "features", n);
        goto done;
    }
    size_t k = 0;
    for (const cJSON *e = root->child; e != NULL && rc == AUD_OK; e = e->next, k++) {
        char field[64];
        snprintf(field, sizeof field, "pandas_categorical[%zu]", k);
        rc = aud_prep_native(m, feats[k], e, 1, r->name, field, err);
        if (rc != AUD_OK && err->line == 0)
            err->line = l->no;
    }
done:
    aud_free(feats);
    cJSON_Delete(root);
    return rc;
}

static int set_feature_names(aud_model *m, lg_reader *r, const lg_line *l, aud_error *err)
{
    size_t n = count_tokens(l->val, l->end);
    if (n != m->n_features)
        return aud_error_set(err, AUD_E_SCHEMA, r->name, l->no, 1,
                             "feature_names has %zu names, max_feature_idx says %zu", n,
                             m->n_features);
    m->feature_names = aud_calloc(n, sizeof *m->feature_names);
    if (m->feature_names == NULL)
        return aud_error_nomem(err);
    const char *p = l->val, *e = l->end;
    for (size_t j = 0; j < n; j++) {
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *q = p;
        while (q < e && *q != ' ' && *q != '\t')
            q++;
        m->feature_names[j] = aud_malloc((size_t)(q - p) + 1);
        if (m->feature_names[j] == NULL)
            return aud_error_nomem(err);
        memcpy(m->feature_names[j], p, (size_t)(q - p));
        m->feature_names[j][q - p] = '\0';
        p = q;
    }
    return AUD_OK;
}

/* ---- the trees on several threads ----------------------------------------------------------
 * A large model is mostly its tree blocks, each parsed from its own lines (build_tree) once
 * the header is read. With `pend` the line pass below only collects each block's lines and the
 * blocks are built afterwards on threads, each taking the next tree; anything that goes wrong in
 * that pass - any error at all - makes the caller parse again the serial way (pend NULL),
 * which reports errors exactly as always. The trees are the same either way. */
typedef struct lg_pending {
    lg_tree_lines tl;
    int32_t       output;
} lg_pending;

typedef struct lg_pend {
    lg_pending *b;
    size_t      n, cap;
    int         threads;
} lg_pend;

typedef struct lg_build {
    const lg_pend *pend;
    aud_model     *m;
    const char    *name;
    atomic_int     failed;
} lg_build;

/* aud_run_tasks: tree i built from its collected lines and checked */
static void lg_build_task(void *ctx, size_t i)
{
    lg_build *x = ctx;
    if (atomic_load(&x->failed))
        return;
    const lg_pending *b = &x->pend->b[i];
    lg_reader r = { NULL, NULL, 0, x->name };
    aud_tree *t = &x->m->trees[i];
    aud_error err;
    char where[64];
    aud_error_clear(&err);
    snprintf(where, sizeof where, "Tree=%zu (line %ld)", i, b->tl.head.no);
    if (build_tree(&r, &b->tl, t, x->m->n_features, b->output, &err) != AUD_OK ||
        aud_tree_validate(t, x->m->n_features, x->name, where, &err) != AUD_OK)
        atomic_store(&x->failed, 1);
}

/* The collected blocks built into m->trees (sized and zeroed by the line pass): AUD_OK, or
 * AUD_E_INTERNAL when any tree fails (the caller parses again). */
static int build_pending(aud_model *m, const lg_pend *pend, const char *name)
{
    lg_build x = { pend, m, name, 0 };
    aud_run_tasks(pend->n, pend->threads, lg_build_task, &x);
    return atomic_load(&x.failed) ? AUD_E_INTERNAL : AUD_OK;
}

enum { LG_PAR_MIN_BYTES = 256 * 1024 };

_Atomic long aud_lgbm_deferred_parses;

static int lgbm_parse(aud_model *m, const char *data, size_t len, const char *name,
                      lg_pend *pend, aud_error *err);

int aud_lgbm_text_parse(aud_model *m, const char *data, size_t len, const char *name,
                        int threads, aud_error *err)
{
    if (threads > 1 && len >= LG_PAR_MIN_BYTES) {
        lg_pend pend = { NULL, 0, 0, threads };
        aud_model keep = *m;
        aud_error scratch;
        aud_error_clear(&scratch);
        int rc = lgbm_parse(m, data, len, name, &pend, &scratch);
        aud_free(pend.b);
        if (rc == AUD_OK) {
            atomic_fetch_add(&aud_lgbm_deferred_parses, 1);
            return AUD_OK;
        }
        aud_model_clear_parsed(m, &keep);   /* and again, the serial way */
    }
    return lgbm_parse(m, data, len, name, NULL, err);
}

static int lgbm_parse(aud_model *m, const char *data, size_t len, const char *name,
                      lg_pend *pend, aud_error *err)
{
    lg_reader r = { data, data + len, 0, name };
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;   /* UTF-8 byte order mark */
    lg_line l, names_line = { 0 }, infos_line = { 0 }, pandas_line = { 0 }, param_line = { 0 };
    int have_infos = 0, have_pandas = 0, have_param = 0;
    int have_names = 0, have_max_idx = 0, in_tree = 0, saw_end = 0, rc = AUD_OK;
    unsigned header_seen = 0;
    size_t n_sizes = 0;
    int have_sizes = 0;
    int64_t v = 0, num_class = 1, per_iter = 1;
    size_t cap = 0;
    lg_tree_lines *tl = aud_calloc(1, sizeof *tl);
    if (tl == NULL)
        return aud_error_nomem(err);
    m->kind = AUD_MODEL_TREES;
    m->n_outputs = 1;
    if (!next_line(&r, &l) || l.end - l.key != 4 || memcmp(l.key, "tree", 4) != 0) {
        rc = aud_error_set(err, AUD_E_PARSE, name, 1, 1,
                           "not a LightGBM text model (first line is not \"tree\")");
        goto done;
    }
    for (;;) {
        int more = next_line(&r, &l);
        int starts_tree = more && l.has_eq && key_is(&l, "Tree");
        int ends_trees = more && !l.has_eq && l.end - l.key == 12 &&
                         memcmp(l.key, "end of trees", 12) == 0;
        if (in_tree && (!more || starts_tree || ends_trees)) {
            /* Finish the previous tree block. */
            if (m->n_trees == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                aud_tree *nt = aud_realloc(m->trees, ncap * sizeof *nt);
                if (nt == NULL) {
                    rc = aud_error_nomem(err);
                    goto done;
                }
                m->trees = nt;
                cap = ncap;
            }
            aud_tree *t = &m->trees[m->n_trees];
            memset(t, 0, sizeof *t);
            int32_t output = (int32_t)(m->n_trees % (size_t)per_iter);
            if (pend != NULL) {   /* built after the line pass, on threads */
                if (pend->n == pend->cap) {
                    size_t nc = pend->cap ? pend->cap * 2 : 64;
                    lg_pending *nb = aud_realloc(pend->b, nc * sizeof *nb);
                    if (nb == NULL) {
                        rc = aud_error_nomem(err);
                        goto done;
                    }
                    pend->b = nb;
                    pend->cap = nc;
                }
                pend->b[pend->n++] = (lg_pending){ *tl, output };
                m->n_trees++;
                in_tree = 0;
                if (ends_trees)
                    saw_end = 1;
                if (!more || ends_trees)
                    break;
                goto next_line_kind;
            }
            rc = build_tree(&r, tl, t, m->n_features, output, err);
            if (rc == AUD_OK)
                m->n_trees++;
            else {
                /* build_tree leaves t's arrays allocated; release them here. */
                m->n_trees++;
                goto done;
            }
            char where[64];
            snprintf(where, sizeof where, "Tree=%zu (line %ld)", m->n_trees - 1, tl->head.no);
            if ((rc = aud_tree_validate(t, m->n_features, name, where, err)))
                goto done;
            in_tree = 0;
        }
        if (ends_trees)
            saw_end = 1;
        if (!more || ends_trees)
            break;
    next_line_kind:
        if (starts_tree) {
            if (!have_max_idx) {
                rc = aud_error_set(err, AUD_E_SCHEMA, name, l.no, 1,
                                   "tree block before the max_feature_idx header line");
                goto done;
            }
            memset(tl, 0, sizeof *tl);
            tl->head = l;
            in_tree = 1;
            continue;
        }
        if (in_tree) {
            for (int k = 0; k < T_NKEYS; k++)
                if (key_is(&l, tree_keys[k])) {
                    if (tl->have[k]) {
                        rc = aud_error_set(err, AUD_E_SCHEMA, name, l.no, 1,
                                           "duplicate \"%s\" line in a tree", tree_keys[k]);
                        goto done;
                    }
                    tl->line[k] = l;
                    tl->have[k] = 1;
                }
            continue;
        }
        /* header: a key given twice is an error (the first objective= string leaked when the
         * second replaced it; and which one LightGBM would use is not a rule to rely on) */
        for (int k = 0; k < (int)(sizeof header_keys / sizeof header_keys[0]); k++)
            if (key_is(&l, header_keys[k])) {
                if (header_seen & (1u << k)) {
                    rc = aud_error_set(err, AUD_E_SCHEMA, name, l.no, 1,
                                       "duplicate \"%s\" header line", header_keys[k]);
                    goto done;
                }
                header_seen |= 1u << k;
            }
        if (key_is(&l, "num_class")) {
            if ((rc = parse_one_int(&r, &l, &num_class, 1, AUD_MODEL_MAX_OUTPUTS, err)))
                goto done;
        } else if (key_is(&l, "num_tree_per_iteration")) {
            if ((rc = parse_one_int(&r, &l, &per_iter, 1, AUD_MODEL_MAX_OUTPUTS, err)))
                goto done;
        } else if (key_is(&l, "max_feature_idx")) {
            if ((rc = parse_one_int(&r, &l, &v, 0, AUD_MODEL_MAX_FEATURES - 1, err)))
                goto done;
            m->n_features = (size_t)v + 1;
            have_max_idx = 1;
        } else if (key_is(&l, "objective")) {
            if ((rc = set_objective(m, &r, &l, err)))
                goto done;
        } else if (key_is(&l, "tree_sizes")) {
            n_sizes = count_tokens(l.val, l.end);
            have_sizes = 1;
        } else if (key_is(&l, "feature_names")) {
            names_line = l;
            have_names = 1;
        } else if (key_is(&l, "feature_infos")) {
            infos_line = l;
            have_infos = 1;
        } else if (!l.has_eq && l.end - l.key == 14 && memcmp(l.key, "average_output", 14) == 0) {
            m->average_output = 1;
        }
    }
    if (!have_max_idx) {
        rc = aud_error_set(err, AUD_E_SCHEMA, name, 0, 0, "missing max_feature_idx header line");
        goto done;
    }
    if (pend != NULL && (rc = build_pending(m, pend, name)) != AUD_OK)
        goto done;
    /* After "end of trees": the parameters block and, in a python-saved model, a last line
     * pandas_categorical:<json> (the python-package reads the last such line). */
    while (saw_end && next_line(&r, &l)) {
        static const char pc[] = "pandas_categorical:", cf[] = "[categorical_feature:";
        size_t len_l = (size_t)(l.end - l.key);
        if (len_l >= sizeof pc - 1 && memcmp(l.key, pc, sizeof pc - 1) == 0) {
            pandas_line = l;
            have_pandas = 1;
        } else if (len_l >= sizeof cf - 1 && memcmp(l.key, cf, sizeof cf - 1) == 0) {
            param_line = l;
            have_param = 1;
        }
    }
    if (!saw_end) {
        rc = aud_error_set(err, AUD_E_PARSE, name, r.line_no, 1,
                           "no \"end of trees\" line: truncated file? (%zu trees read)",
                           m->n_trees);
        goto done;
    }
    if (have_sizes && n_sizes != m->n_trees) {
        rc = aud_error_set(err, AUD_E_SCHEMA, name, 0, 0,
                           "tree_sizes lists %zu trees, the file has %zu", n_sizes, m->n_trees);
        goto done;
    }
    if (have_names && (rc = set_feature_names(m, &r, &names_line, err)))
        goto done;
    if (have_pandas && (rc = set_pandas_categorical(m, &r, &pandas_line,
                                                    have_infos ? &infos_line : NULL,
                                                    have_param ? &param_line : NULL, err)))
        goto done;
    if (per_iter != num_class) {
        rc = aud_error_set(err, AUD_E_SCHEMA, name, 0, 0,
                           "num_tree_per_iteration=%lld differs from num_class=%lld",
                           (long long)per_iter, (long long)num_class);
        goto done;
    }
    m->n_outputs = (size_t)num_class;
    if (m->n_trees == 0) {
        rc = aud_error_set(err, AUD_E_SCHEMA, name, 0, 0, "the model has no trees");
        goto done;
    }
    if (m->objective == NULL) {
        m->objective = aud_strdup("custom");
        if (m->objective == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    if (m->link == AUD_LINK_SOFTMAX && m->n_outputs < 2) {
        rc = aud_error_set(err, AUD_E_SCHEMA, name, 0, 0, "multiclass model with num_class=1");
        goto done;
    }
done:
    aud_free(tl);
    return rc;
}
