/* shap_common.c - method names and checks, the tree plan (depths, expected values), model
 * evaluation with models/model_int.h split semantics and links. */
#include "explainers/shap_int.h"

#include <float.h>
#include <string.h>

static const char *const method_names[] = {
    "auto", "tree", "tree-interventional", "linear", "kernel", "exact"};

const char *aud_shap_method_name(aud_shap_method m)
{
    if ((int)m < 0 || (size_t)m >= sizeof method_names / sizeof method_names[0])
        return "?";
    return method_names[m];
}

int aud_shap_method_parse(const char *name, aud_shap_method *out)
{
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
        if (strcmp(name, method_names[i]) == 0) {
            *out = (aud_shap_method)i;
            return 0;
        }
    }
    return -1;
}

aud_shap_method aud_shap_method_resolve(aud_shap_method m, const aud_model *model)
{
    if (m != AUD_SHAP_AUTO)
        return m;
    if (model->kind == AUD_MODEL_TREES)
        return AUD_SHAP_TREE;
    if (model->kind == AUD_MODEL_LINEAR)
        return AUD_SHAP_LINEAR;
    return AUD_SHAP_KERNEL;
}

int aud_shap_method_uses_background(aud_shap_method m)
{
    return m == AUD_SHAP_TREE_INTERVENTIONAL || m == AUD_SHAP_LINEAR || m == AUD_SHAP_KERNEL ||
           m == AUD_SHAP_EXACT;
}

void aud_shap_opts_default(aud_shap_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->method = AUD_SHAP_AUTO;
    opts->output = AUD_SHAP_OUTPUT_RAW;
    opts->seed = 42;
    opts->threads = 1;
}

int aud_shap_check(const aud_model *model, const aud_shap_opts *opts, aud_error *err)
{
    aud_shap_method m = aud_shap_method_resolve(opts->method, model);
    const char *name = aud_shap_method_name(m);
    if (model->kind == AUD_MODEL_COMMAND && m != AUD_SHAP_KERNEL && m != AUD_SHAP_EXACT)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "a model behind a command is explained by its predictions only: use "
                             "--method kernel or exact (or auto), not %s", name);
    if ((m == AUD_SHAP_TREE || m == AUD_SHAP_TREE_INTERVENTIONAL) && model->kind != AUD_MODEL_TREES)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "method %s needs a tree model; use --method linear, kernel or exact "
                             "(or auto)", name);
    if (m == AUD_SHAP_LINEAR && model->kind != AUD_MODEL_LINEAR)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "method linear needs a linear model; use --method tree, "
                             "tree-interventional or kernel (or auto)");
    if (m == AUD_SHAP_EXACT && model->n_features > AUD_SHAP_EXACT_MAX_FEATURES)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "method exact enumerates 2^M coalitions and allows at most %d "
                             "features, the model has %zu; use --method kernel (or tree for "
                             "tree models)", AUD_SHAP_EXACT_MAX_FEATURES, model->n_features);
    if ((m == AUD_SHAP_KERNEL) && model->n_features > 63)
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "method kernel supports at most 63 features, the model has %zu",
                             model->n_features);
    if (m == AUD_SHAP_KERNEL && model->n_features < 1)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "the model has no features");
    if (aud_shap_method_uses_background(m) && (opts->background == NULL || opts->n_background == 0))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "method %s needs a non-empty background sample", name);
    if (opts->output == AUD_SHAP_OUTPUT_PROBABILITY && m == AUD_SHAP_TREE_INTERVENTIONAL &&
        model->n_features > AUD_SHAP_EXACT_MAX_FEATURES)
        return aud_error_set(err, AUD_E_UNSUPPORTED, NULL, 0, 0,
                             "--output probability with method tree-interventional is computed "
                             "exactly for up to %d features, the model has %zu; use --method "
                             "kernel", AUD_SHAP_EXACT_MAX_FEATURES, model->n_features);
    if (opts->output == AUD_SHAP_OUTPUT_PROBABILITY && m != AUD_SHAP_KERNEL &&
        m != AUD_SHAP_EXACT && m != AUD_SHAP_TREE_INTERVENTIONAL)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "--output probability is computed by --method tree-interventional, "
                             "kernel or exact; method %s explains the raw margin", name);
    if (opts->threads < 1)
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "threads must be >= 1");
    return AUD_OK;
}

/* --- model evaluation ------------------------------------------------------------------------ */

void aud_shap_model_margin(const aud_model *m, const double *x, double *out)
{
    aud_model_predict_margin(m, x, out);
}

void aud_shap_apply_link(const aud_model *m, double *v)
{
    size_t K = m->n_outputs;
    switch (m->link) {
    case AUD_LINK_SIGMOID:
        for (size_t k = 0; k < K; k++)
            v[k] = 1.0 / (1.0 + exp(-m->sigmoid_scale * v[k]));
        break;
    case AUD_LINK_SOFTMAX:
    case AUD_LINK_ARGMAX: {   /* multi:softmax: explain the class probabilities */
        double mx = v[0], s = 0.0;
        for (size_t k = 1; k < K; k++)
            mx = v[k] > mx ? v[k] : mx;
        for (size_t k = 0; k < K; k++) {
            v[k] = exp(v[k] - mx);
            s += v[k];
        }
        for (size_t k = 0; k < K; k++)
            v[k] /= s;
        break;
    }
    case AUD_LINK_EXP:
        for (size_t k = 0; k < K; k++)
            v[k] = exp(v[k]);
        break;
    case AUD_LINK_IDENTITY:
    default:
        break;
    }
}

/* --- plan -------------------------------------------------------------------------------------- */

void aud_shap_plan_free(aud_shap_plan *p)
{
    if (p == NULL)
        return;
    aud_free(p->depth);
    aud_free(p->expected);
    aud_free(p->scale);
    aud_free(p->lin_q);
    aud_free(p->players);
    aud_free(p->gl_t);
    aud_free(p);
}

/* Depth and cover-weighted mean of one tree: a pre-order walk over an explicit stack (each node
 * reached at most once, so malformed child links cannot loop), then the pre-order reversed,
 * which sees every child before its parent. work holds 3 * n_nodes int32 + n_nodes doubles. */
static int tree_facts(const aud_tree *t, size_t n_features, int32_t *work, double *mean,
                      int32_t *depth_out, double *mean_out, int *cover_ok)
{
    int32_t n_nodes = t->n_nodes;
    int32_t *stack = work, *dep = work + n_nodes, *order = work + 2 * (size_t)n_nodes;
    int32_t top = 0, n_order = 0, maxd = 0;
    for (int32_t i = 0; i < n_nodes; i++)
        dep[i] = -1;
    stack[top++] = 0;
    dep[0] = 0;
    while (top > 0) {
        int32_t n = stack[--top];
        order[n_order++] = n;
        if (t->left[n] < 0) {
            maxd = dep[n] > maxd ? dep[n] : maxd;
            continue;
        }
        int32_t l = t->left[n], r = t->right[n];
        if (l >= n_nodes || r < 0 || r >= n_nodes || l == r || dep[l] >= 0 || dep[r] >= 0 ||
            top + 2 > n_nodes || t->feature[n] < 0 || (size_t)t->feature[n] >= n_features)
            return -1;
        dep[l] = dep[n] + 1;
        dep[r] = dep[n] + 1;
        stack[top++] = r;
        stack[top++] = l;
    }
    int ok = t->cover != NULL;
    for (int32_t i = n_order - 1; i >= 0; i--) {
        int32_t n = order[i];
        if (t->left[n] < 0) {
            mean[n] = t->value[n];
            continue;
        }
        int32_t l = t->left[n], r = t->right[n];
        if (!ok) {
            mean[n] = 0.0;
            continue;
        }
        double c = t->cover[n], cl = t->cover[l], cr = t->cover[r];
        if (!(c > 0.0) || !(cl >= 0.0) || !(cr >= 0.0) || !isfinite(c) || !isfinite(cl) ||
            !isfinite(cr)) {
            ok = 0;
            mean[n] = 0.0;
            continue;
        }
        mean[n] = (mean[l] * cl + mean[r] * cr) / c;
    }
    *depth_out = maxd;
    *mean_out = mean[0];
    *cover_ok = ok;
    return 0;
}

/* Most unique features on one root-to-leaf path (the players of a leaf's game): an iterative
 * walk (work: 2 * n_nodes int32) with a count per feature (cnt: n_features zeroes, left zero). */
static int32_t tree_players(const aud_tree *t, int32_t *work, int32_t *cnt)
{
    int32_t top = 0, uniq = 0, most = 0;
    work[top++] = 0;
    while (top > 0) {
        int32_t e = work[--top];
        if (e < 0) {   /* leaving node ~e */
            if (--cnt[t->feature[~e]] == 0)
                uniq--;
            continue;
        }
        if (t->left[e] < 0) {
            most = uniq > most ? uniq : most;
            continue;
        }
        if (cnt[t->feature[e]]++ == 0)
            uniq++;
        work[top++] = ~e;
        work[top++] = t->right[e];
        work[top++] = t->left[e];
    }
    return most;
}

int aud_shap_plan_new(aud_shap_plan **out, const aud_model *m, aud_error *err)
{
    aud_shap_plan *p = aud_calloc(1, sizeof *p);
    int32_t *work = NULL, *cnt = NULL;
    double *mean = NULL;
    int rc = AUD_OK;
    if (p == NULL)
        return aud_error_nomem(err);
    p->model = m;
    p->has_cover = 1;
    size_t nt = m->n_trees;
    p->depth = aud_calloc(nt ? nt : 1, sizeof *p->depth);
    p->expected = aud_calloc(nt ? nt : 1, sizeof *p->expected);
    p->scale = aud_calloc(nt ? nt : 1, sizeof *p->scale);
    p->lin_q = aud_calloc(nt ? nt : 1, sizeof *p->lin_q);
    p->players = aud_calloc(nt ? nt : 1, sizeof *p->players);
    cnt = aud_calloc(m->n_features + 1, sizeof *cnt);
    int32_t max_nodes = 1;
    for (size_t t = 0; t < nt; t++)
        max_nodes = m->trees[t].n_nodes > max_nodes ? m->trees[t].n_nodes : max_nodes;
    p->max_nodes = max_nodes;
    work = aud_malloc(3 * (size_t)max_nodes * sizeof *work);
    mean = aud_malloc((size_t)max_nodes * sizeof *mean);
    if (!p->depth || !p->expected || !p->scale || !p->lin_q || !p->players || !cnt || !work ||
        !mean) {
        rc = aud_error_nomem(err);
        goto done;
    }
    size_t per = m->n_outputs > 0 ? nt / m->n_outputs : nt;
    for (size_t t = 0; t < nt; t++) {
        const aud_tree *tr = &m->trees[t];
        int ok = 0;
        double e = 0.0;
        if (tr->n_nodes < 1 || tr->output < 0 || (size_t)tr->output >= m->n_outputs ||
            tree_facts(tr, m->n_features, work, mean, &p->depth[t], &e, &ok) != 0) {
            rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "tree %zu is malformed", t);
            goto done;
        }
        size_t n_out = m->n_trees_output != NULL ? m->n_trees_output[tr->output] : per;
        p->scale[t] = (m->average_output && n_out > 0) ? 1.0 / (double)n_out : 1.0;
        p->expected[t] = e * p->scale[t];
        if (!ok)
            p->has_cover = 0;
        if (p->depth[t] > p->max_depth)
            p->max_depth = p->depth[t];
        /* d players on a path: the integrand's degree is < d, exact with ceil(d / 2) points */
        p->players[t] = tree_players(tr, work, cnt);
        if (p->depth[t] >= AUD_SHAP_LIN_MIN_DEPTH && p->players[t] <= 2 * AUD_SHAP_LIN_MAX_Q)
            p->lin_q[t] = p->players[t] > 1 ? (p->players[t] + 1) / 2 : 1;
    }
    /* Gauss-Legendre tables for every q (tests may switch any tree to the linear walk) */
    size_t QM = AUD_SHAP_LIN_MAX_Q;
    p->max_q = (p->max_depth + 1) / 2 > 1 ? (p->max_depth + 1) / 2 : 1;   /* >= every lin_q */
    if (p->max_q > AUD_SHAP_LIN_MAX_Q)
        p->max_q = AUD_SHAP_LIN_MAX_Q;
    p->gl_t = aud_calloc(2 * (QM + 1) * QM, sizeof *p->gl_t);
    if (p->gl_t == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    p->gl_w = p->gl_t + (QM + 1) * QM;
    for (int q = 1; q <= p->max_q; q++)
        aud_shap_gauss_legendre(q, p->gl_t + (size_t)q * QM, p->gl_w + (size_t)q * QM);
    *out = p;
    p = NULL;
done:
    aud_free(work);
    aud_free(cnt);
    aud_free(mean);
    aud_shap_plan_free(p);
    return rc;
}
