/* shap_explain.c - aud_shap_explain: one entry point over every method, rows in fixed chunks
 * over threads with one workspace per thread, then the additivity check on every row. */
#include "explainers/shap_int.h"

#include <string.h>

typedef struct ex_ctx {
    const aud_model *m;
    const aud_shap_opts *o;
    aud_shap_method method;
    const aud_shap_plan *plan;          /* tree methods */
    const aud_shap_fast *fast;          /* tree: precomputed leaf tables (may be NULL) */
    const aud_kernel_design *design;    /* kernel */
    const aud_shap_bgtree *bgt;         /* kernel, exact: raw margin of trees (may be NULL) */
    const double *mean;                 /* linear: background means */
    const double *X;
    aud_shap_result *r;
} ex_ctx;

typedef struct ex_ws {
    void   *tree;       /* path buffer or interventional workspace */
    void   *stack;      /* tree: walk stack of the precomputed method */
    aud_shap_masked g;  /* kernel, exact */
    aud_shap_bgtree_game bg;   /* kernel, exact with c->bgt */
    double *buf;        /* kernel: coalition values; exact: 2^M values */
    double *v01;        /* kernel: values of the empty and the full coalition */
    int     method;
} ex_ws;

static void ex_ws_free(void *p)
{
    ex_ws *w = p;
    if (w == NULL)
        return;
    if (w->method == AUD_SHAP_TREE_INTERVENTIONAL)
        aud_shap_interv_ws_free(w->tree);
    else
        aud_free(w->tree);
    aud_shap_masked_free(&w->g);
    if (w->bg.g != NULL)
        aud_shap_bgtree_game_free(&w->bg);
    aud_free(w->stack);
    aud_free(w->buf);
    aud_free(w->v01);
    aud_free(w);
}

static void *ex_ws_new(void *ctx)
{
    const ex_ctx *c = ctx;
    const aud_model *m = c->m;
    ex_ws *w = aud_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->method = c->method;
    int ok = 1;
    switch (c->method) {
    case AUD_SHAP_TREE:
        /* calloc: the recursion copies one not-yet-written element per level */
        w->tree = aud_calloc(1, aud_shap_tree_ws_size(c->plan));
        w->stack = aud_calloc(1, aud_shap_fast_ws_size(c->plan));
        ok = w->tree != NULL && w->stack != NULL;
        break;
    case AUD_SHAP_TREE_INTERVENTIONAL:
        w->tree = aud_shap_interv_ws_new(c->plan);
        ok = w->tree != NULL;
        break;
    case AUD_SHAP_KERNEL:
    case AUD_SHAP_EXACT: {
        ok = aud_shap_masked_init(&w->g, m, c->o->background, c->o->n_background,
                                  c->o->output == AUD_SHAP_OUTPUT_PROBABILITY) == AUD_OK;
        if (ok && c->bgt != NULL)
            ok = aud_shap_bgtree_game_init(&w->bg, c->bgt,
                                           c->o->output == AUD_SHAP_OUTPUT_PROBABILITY) == AUD_OK;
        size_t n = c->method == AUD_SHAP_KERNEL
                       ? c->design->n_coal * m->n_outputs + 1
                       : aud_shap_exact_buf_size(m->n_features, m->n_outputs);
        w->buf = aud_malloc(n * sizeof *w->buf);
        w->v01 = aud_malloc(2 * m->n_outputs * sizeof *w->v01);
        ok = ok && w->buf != NULL && w->v01 != NULL;
        break;
    }
    default:
        break;
    }
    if (!ok) {
        ex_ws_free(w);
        return NULL;
    }
    return w;
}

/* Rows per block of method tree: trees outside, rows inside, so a tree's tables stay in cache. */
#define TREE_BLOCK 64

static void tree_rows(const ex_ctx *c, ex_ws *w, size_t begin, size_t end)
{
    const aud_model *m = c->m;
    aud_shap_result *r = c->r;
    for (size_t b0 = begin; b0 < end; b0 += TREE_BLOCK) {
        size_t b1 = end - b0 < TREE_BLOCK ? end : b0 + TREE_BLOCK;
        for (size_t i = b0; i < b1; i++) {
            memset(r->phi + i * r->stride, 0, r->stride * sizeof *r->phi);
            aud_shap_tree_bias(c->plan, r->phi + i * r->stride);
        }
        for (size_t t = 0; t < m->n_trees; t++) {
            if (aud_shap_fast_has(c->fast, t)) {
                for (size_t i = b0; i < b1; i++)
                    aud_shap_fast_tree(c->fast, t, c->X + i * m->n_features,
                                       r->phi + i * r->stride, w->stack);
            } else {
                for (size_t i = b0; i < b1; i++)
                    aud_shap_tree_one(c->plan, t, c->X + i * m->n_features,
                                      r->phi + i * r->stride, w->tree, 0, -1);
            }
        }
        for (size_t i = b0; i < b1; i++)
            aud_shap_model_margin(m, c->X + i * m->n_features, r->fx + i * m->n_outputs);
    }
}

static int ex_run(void *ctx, void *wsp, size_t begin, size_t end, aud_error *err)
{
    const ex_ctx *c = ctx;
    ex_ws *w = wsp;
    const aud_model *m = c->m;
    size_t M = m->n_features, K = m->n_outputs;
    aud_shap_result *r = c->r;
    if (c->method == AUD_SHAP_TREE) {
        tree_rows(c, w, begin, end);
        return AUD_OK;
    }
    for (size_t i = begin; i < end; i++) {
        const double *x = c->X + i * M;
        double *phi = r->phi + i * r->stride;
        double *fx = r->fx + i * K;
        memset(phi, 0, r->stride * sizeof *phi);
        switch (c->method) {
        case AUD_SHAP_TREE:
            aud_shap_tree_row(c->plan, x, phi, w->tree, 0, -1);
            break;
        case AUD_SHAP_TREE_INTERVENTIONAL:
            aud_shap_interv_row(c->plan, c->o->background, c->o->n_background, x, phi, w->tree);
            break;
        case AUD_SHAP_LINEAR:
            aud_shap_linear_row(m, c->mean, x, phi);
            break;
        case AUD_SHAP_KERNEL: {
            const aud_kernel_design *d = c->design;
            uint64_t ends[2] = {0, M >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << M) - 1)};
            int (*value)(void *, const uint64_t *, size_t, double *) = aud_shap_masked_value;
            void *vctx = &w->g;
            w->g.x = x;
            if (c->bgt != NULL) {
                aud_shap_bgtree_set_row(&w->bg, x);
                value = aud_shap_bgtree_value;
                vctx = &w->bg;
            }
            value(vctx, ends, 2, w->v01);
            value(vctx, d->masks, d->n_coal, w->buf);
            aud_kernel_solve(d, K, w->buf, w->v01, w->v01 + K, phi);
            break;
        }
        case AUD_SHAP_EXACT: {
            aud_shap_game g = {M, K, aud_shap_masked_value, &w->g};
            w->g.x = x;
            if (c->bgt != NULL) {
                aud_shap_bgtree_set_row(&w->bg, x);
                g.value = aud_shap_bgtree_value;
                g.ctx = &w->bg;
            }
            int rc = aud_shap_exact_game_buf(&g, w->buf, phi);
            if (rc != AUD_OK)
                return aud_error_set(err, rc, NULL, 0, 0, "row %zu: evaluating the model failed",
                                     i);
            break;
        }
        default:
            return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "unknown SHAP method");
        }
        aud_shap_model_margin(m, x, fx);
        if (c->o->output == AUD_SHAP_OUTPUT_PROBABILITY)
            aud_shap_apply_link(m, fx);
    }
    return AUD_OK;
}

void aud_shap_result_free(aud_shap_result *r)
{
    if (r == NULL)
        return;
    aud_free(r->phi);
    aud_free(r->fx);
    aud_free(r);
}

/* Features the model uses (a split or a non-zero coefficient). */
static void used_features(const aud_model *m, uint8_t *used)
{
    size_t M = m->n_features;
    memset(used, 0, M);
    if (m->kind == AUD_MODEL_LINEAR) {
        for (size_t k = 0; k < m->n_outputs; k++)
            for (size_t j = 0; j < M; j++)
                used[j] |= m->coef[k * M + j] != 0.0;
        return;
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        const aud_tree *tr = &m->trees[t];
        for (int32_t n = 0; n < tr->n_nodes; n++)
            if (tr->left[n] >= 0 && tr->feature[n] >= 0 && (size_t)tr->feature[n] < M)
                used[tr->feature[n]] = 1;
    }
}

/* Models whose library rejects missing values (linear models, old scikit-learn trees): name the
 * first missing value of a used feature instead of inventing a rule for it. */
static int check_missing(const double *X, size_t n, const aud_model *m, const uint8_t *used,
                         const char *what, aud_error *err)
{
    size_t M = m->n_features;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < M; j++) {
            if (used[j] && isnan(X[i * M + j])) {   /* inf is a value, as in predict */
                int rc = aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0,
                                       "%s row %zu: feature %zu is missing or not finite, and "
                                       "this model does not accept missing values (impute "
                                       "first)", what, i, j);
                if (m->feature_names != NULL)
                    aud_error_field(err, m->feature_names[j]);
                return rc;
            }
        }
    }
    return AUD_OK;
}

int aud_shap_explain(aud_shap_result **out, const aud_model *model, const double *X,
                     size_t n_rows, const aud_shap_opts *opts, aud_error *err)
{
    aud_shap_result *r = NULL;
    aud_shap_plan *plan = NULL;
    aud_kernel_design *design = NULL;
    aud_shap_fast *fast = NULL;
    aud_shap_bgtree *bgt = NULL;
    double *mean = NULL;
    size_t M = model->n_features, K = model->n_outputs;
    int rc = aud_shap_check(model, opts, err);
    if (rc != AUD_OK)
        return rc;
    aud_shap_method method = aud_shap_method_resolve(opts->method, model);
    /* Interventional Shapley values of the transformed output are the Shapley values of the game
     * v(S) = mean over the background of link(f(x_S, b_rest)): exactly what exact enumeration
     * computes (aud_shap_check limits this to AUD_SHAP_EXACT_MAX_FEATURES features). */
    if (method == AUD_SHAP_TREE_INTERVENTIONAL && opts->output == AUD_SHAP_OUTPUT_PROBABILITY)
        method = AUD_SHAP_EXACT;
    r = aud_calloc(1, sizeof *r);
    if (r == NULL)
        return aud_error_nomem(err);
    r->method = method;
    r->output = opts->output;
    r->n_rows = n_rows;
    r->n_features = M;
    r->n_outputs = K;
    r->stride = K * (M + 1);
    r->phi = aud_calloc(n_rows * r->stride + 1, sizeof *r->phi);
    r->fx = aud_calloc(n_rows * K + 1, sizeof *r->fx);
    if (r->phi == NULL || r->fx == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (model->kind == AUD_MODEL_COMMAND) {   /* the program answers in batches */
        rc = aud_shap_explain_cmd(r, model, X, n_rows, opts, method, err);
        if (rc != AUD_OK)
            goto done;
        goto additivity;
    }
    if (model->kind == AUD_MODEL_TREES) {
        rc = aud_shap_plan_new(&plan, model, err);
        if (rc != AUD_OK)
            goto done;
        if (method == AUD_SHAP_TREE && !plan->has_cover) {
            rc = aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                               "the model has no usable node covers, which method tree needs; "
                               "use --method tree-interventional with a background");
            goto done;
        }
        if ((method == AUD_SHAP_KERNEL || method == AUD_SHAP_EXACT) && n_rows > 0) {
            rc = aud_shap_bgtree_new(&bgt, plan, opts->background, opts->n_background,
                                     AUD_SHAP_BGTREE_MAX_BYTES, err);
            if (rc != AUD_OK)
                goto done;
        }
        if (method == AUD_SHAP_TREE && n_rows > 0) {
            rc = aud_shap_fast_new_mt(&fast, plan, AUD_SHAP_FAST_MAX_BYTES, opts->threads,
                                      err);
            if (rc != AUD_OK)
                goto done;
        }
    }
    if (model->kind == AUD_MODEL_LINEAR || model->no_missing) {
        uint8_t *used = aud_calloc(M + 1, 1);
        if (used == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        used_features(model, used);
        rc = check_missing(X, n_rows, model, used, "data", err);
        if (rc == AUD_OK && aud_shap_method_uses_background(method))
            rc = check_missing(opts->background, opts->n_background, model, used, "background",
                               err);
        aud_free(used);
        if (rc != AUD_OK)
            goto done;
    }
    if (method == AUD_SHAP_LINEAR) {
        mean = aud_calloc(M + 1, sizeof *mean);
        if (mean == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
        aud_shap_linear_mean(opts->background, opts->n_background, M, mean);
    }
    if (method == AUD_SHAP_KERNEL) {
        rc = aud_kernel_design_new(&design, M, opts->n_samples, opts->seed, err);
        if (rc != AUD_OK)
            goto done;
    }
    ex_ctx c = {model, opts, method, plan, fast, design, bgt, mean, X, r};
    aud_units par = {ex_ws_new, ex_ws_free, ex_run, &c, method == AUD_SHAP_TREE ? TREE_BLOCK : 1,
                     opts->progress, opts->progress_ctx};
    rc = aud_run_units(&par, n_rows, opts->threads, err);
    if (rc != AUD_OK)
        goto done;
additivity:;
    double maxerr = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t k = 0; k < K; k++) {
            const double *ph = r->phi + i * r->stride + k * (M + 1);
            double s = 0.0;
            for (size_t j = 0; j <= M; j++)
                s += ph[j];
            double e = fabs(s - r->fx[i * K + k]);
            if (!(e <= maxerr))
                maxerr = e;   /* NaN propagates, so a broken row cannot hide */
        }
    }
    r->additivity_max_error = maxerr;
    *out = r;
    r = NULL;
done:
    aud_shap_result_free(r);
    aud_shap_plan_free(plan);
    aud_kernel_design_free(design);
    aud_shap_fast_free(fast);
    aud_shap_bgtree_free(bgt);
    aud_free(mean);
    return rc;
}
