/* fair_why.c - drivers, proxy screen and trade-offs of every sensitive attribute (SPEC section 7).
 *
 * The model's rows are explained block by block (all rows for the fast methods, tree and linear;
 * else a seeded sample stratified by group) and only per-group sums are kept, so memory does not
 * grow with the data. Definitions: docs/fairness.md "Drivers, proxies and trade-offs". */
#include "audit/fair_why.h"
#include "metrics/fair_drivers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHY_BLOCK 4096

/* The attribute's object in doc's fairness.attributes (written by aud_fair_to_json). */
static cJSON *attr_object(cJSON *doc, const char *name)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fairness");
    cJSON *arr = f ? cJSON_GetObjectItemCaseSensitive(f, "attributes") : NULL;
    cJSON *o = NULL;
    cJSON_ArrayForEach(o, arr) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return o;
    }
    return NULL;
}

/* Per level of attribute a: eligible (not small) and the reference level. The result's groups
 * are the levels with rows, in level order. */
static int level_info(const aud_fair_why_input *in, size_t a, unsigned char *eligible,
                      size_t *ref)
{
    const aud_fair_attr *at = &in->attrs[a];
    const aud_fair_attr_result *ar = &in->res->attrs[a];
    size_t g = 0;
    *ref = SIZE_MAX;
    for (size_t l = 0; l < at->n_levels; l++) {
        eligible[l] = 0;
        if (g < ar->n_groups && strcmp(ar->groups[g].name, at->levels[l]) == 0) {
            eligible[l] = !ar->groups[g].small;
            if (g == ar->reference)
                *ref = l;
            g++;
        }
    }
    return *ref == SIZE_MAX ? -1 : 0;
}

/* ---- explaining the rows -------------------------------------------------------------------- */

typedef struct why_state {
    const aud_fair_why_input *in;
    aud_shap_opts so;
    size_t        nf;
    int           probability;    /* binary classifier: also the probability scale */
    aud_fdrv_acc *margin, *prob;  /* n_attrs each */
    size_t       *rows;           /* explained rows (NULL: all rows) */
    uint32_t     *mask;           /* per explained row: bit a = in attribute a's sample */
    size_t        n_rows;
    double        p0, slope;      /* probability at the base value, and the link's slope there */
} why_state;

/* Seeded sample of at most AUD_WHY_SAMPLE_PER_GROUP rows of every group of every attribute. */
static int stratified_rows(why_state *w, aud_error *err)
{
    const aud_fair_why_input *in = w->in;
    size_t n = in->data->n_rows;
    uint32_t *mark = aud_calloc(n ? n : 1, sizeof *mark);
    size_t *members = aud_malloc((n ? n : 1) * sizeof *members);
    size_t *pick = aud_malloc(AUD_WHY_SAMPLE_PER_GROUP * sizeof *pick);
    int rc = AUD_OK;
    if (mark == NULL || members == NULL || pick == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t a = 0; a < in->n_attrs; a++) {
        for (size_t l = 0; l < in->attrs[a].n_levels; l++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (in->attrs[a].codes[i] == (int32_t)l)
                    members[m++] = i;
            }
            size_t k = aud_shap_sample_rows(m, AUD_WHY_SAMPLE_PER_GROUP,
                                            in->seed + 7919 * (a + 1) + l, pick);
            for (size_t q = 0; q < k; q++)
                mark[members[pick[q]]] |= 1u << a;
        }
    }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        u += mark[i] != 0;
    w->rows = aud_malloc((u ? u : 1) * sizeof *w->rows);
    w->mask = aud_malloc((u ? u : 1) * sizeof *w->mask);
    if (w->rows == NULL || w->mask == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (mark[i] != 0) {
            w->rows[w->n_rows] = i;
            w->mask[w->n_rows++] = mark[i];
        }
    }
done:
    aud_free(mark);
    aud_free(members);
    aud_free(pick);
    return rc;
}

/* Explain one block of rows and add it to every attribute's sums. */
static int explain_block(why_state *w, size_t b0, size_t b1, double *X, int32_t *grp, double *prob,
                         double *psi, aud_error *err)
{
    const aud_fair_why_input *in = w->in;
    size_t n = b1 - b0, nf = w->nf;
    for (size_t i = 0; i < n; i++) {
        size_t row = w->rows ? w->rows[b0 + i] : b0 + i;
        aud_model_fill_rows(in->model, in->data, in->bind, row, row + 1, X + i * nf);
    }
    aud_shap_result *r = NULL;
    int rc = aud_shap_explain(&r, in->model, X, n, &w->so, err);
    if (rc != AUD_OK)
        return rc;
    if (w->probability) {
        for (size_t i = 0; i < n; i++)
            aud_model_transform(in->model, &r->fx[i], &prob[i]);
        aud_fdrv_rescale(r->phi, r->stride, nf, n, prob, w->p0, w->slope, psi);
    }
    for (size_t a = 0; a < in->n_attrs; a++) {
        for (size_t i = 0; i < n; i++) {
            size_t row = w->rows ? w->rows[b0 + i] : b0 + i;
            grp[i] = (w->mask == NULL || (w->mask[b0 + i] >> a & 1u)) ? in->attrs[a].codes[row]
                                                                      : -1;
        }
        aud_fdrv_acc_add(&w->margin[a], grp, n, r->phi, r->stride, NULL, r->fx);
        if (w->probability)
            aud_fdrv_acc_add(&w->prob[a], grp, n, psi, nf, prob, NULL);
    }
    aud_shap_result_free(r);
    return AUD_OK;
}

/* Probability at the base value and the link's slope there (central difference). */
static void link_at_base(why_state *w, double base)
{
    double h = 1e-5, lo = base - h, hi = base + h, p0 = base;
    aud_model_transform(w->in->model, &p0, &p0);
    aud_model_transform(w->in->model, &lo, &lo);
    aud_model_transform(w->in->model, &hi, &hi);
    w->p0 = p0;
    w->slope = (hi - lo) / (2 * h);
}

static int explain_all(why_state *w, aud_error *err)
{
    size_t n = w->rows ? w->n_rows : w->in->data->n_rows, nf = w->nf;
    size_t blk = n < WHY_BLOCK ? (n ? n : 1) : WHY_BLOCK;
    double *X = aud_malloc(blk * (nf ? nf : 1) * sizeof *X);
    int32_t *grp = aud_malloc(blk * sizeof *grp);
    double *prob = aud_malloc(blk * sizeof *prob);
    double *psi = aud_malloc(blk * (nf ? nf : 1) * sizeof *psi);
    int rc = AUD_OK;
    if (X == NULL || grp == NULL || prob == NULL || psi == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t b0 = 0; b0 < n && rc == AUD_OK; b0 += blk) {
        size_t b1 = b0 + blk < n ? b0 + blk : n;
        if (b0 == 0 && w->probability) {   /* the base value: explain the first row alone */
            aud_shap_result *r = NULL;
            size_t row = w->rows ? w->rows[0] : 0;
            aud_model_fill_rows(w->in->model, w->in->data, w->in->bind, row, row + 1, X);
            rc = aud_shap_explain(&r, w->in->model, X, 1, &w->so, err);
            if (rc != AUD_OK)
                break;
            link_at_base(w, r->phi[nf]);
            aud_shap_result_free(r);
        }
        rc = explain_block(w, b0, b1, X, grp, prob, psi, err);
    }
done:
    aud_free(X);
    aud_free(grp);
    aud_free(prob);
    aud_free(psi);
    return rc;
}

/* ---- proxy screen ---------------------------------------------------------------------------- */

static int screen(const aud_fair_why_input *in, aud_assoc *assoc, unsigned char *is_attr,
                  aud_error *err)
{
    size_t nf = in->model->n_features;
    int rc = AUD_OK;
    for (size_t j = 0; j < nf && rc == AUD_OK; j++) {
        const aud_column *col = &in->data->cols[in->bind[j]];
        aud_assoc_feature f;
        rc = aud_assoc_feature_prepare(&f, col->num, in->data->n_rows, err);
        for (size_t a = 0; a < in->n_attrs && rc == AUD_OK; a++) {
            rc = aud_assoc_compute(&f, in->attrs[a].codes, in->attrs[a].n_levels,
                                   &assoc[a * nf + j], err);
            is_attr[a * nf + j] = strcmp(col->name, in->attrs[a].name) == 0;
        }
        aud_assoc_feature_free(&f);
    }
    return rc;
}

/* ---- the whole ------------------------------------------------------------------------------- */

static int add_tradeoffs(cJSON *doc, const aud_fair_why_input *in, unsigned char *elig,
                         aud_error *err)
{
    for (size_t a = 0; a < in->n_attrs; a++) {
        cJSON *o = attr_object(doc, in->attrs[a].name);
        size_t ref = 0;
        if (o == NULL || level_info(in, a, elig, &ref) != 0)
            continue;
        aud_tradeoff_input t = {in->data->n_rows, in->score,  in->label, in->attrs[a].codes,
                                in->attrs[a].n_levels, in->attrs[a].levels, elig, ref,
                                in->favorable, in->threshold};
        int rc = aud_tradeoff_json(o, &t, err);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

static int explainable(const aud_fair_why_input *in)
{
    const aud_model *m = in->model;
    return m != NULL && m->n_outputs == 1 && m->feature_names != NULL && in->n_attrs <= 32;
}

int aud_fair_why(cJSON *doc, const aud_fair_why_input *in, aud_error *err)
{
    size_t maxl = 1;
    for (size_t a = 0; a < in->n_attrs; a++)
        maxl = in->attrs[a].n_levels > maxl ? in->attrs[a].n_levels : maxl;
    unsigned char *elig = aud_malloc(maxl);
    if (elig == NULL)
        return aud_error_nomem(err);
    int rc = AUD_OK;
    if (in->score != NULL)
        rc = add_tradeoffs(doc, in, elig, err);
    if (rc != AUD_OK || !explainable(in)) {
        aud_free(elig);
        return rc;
    }
    why_state w;
    memset(&w, 0, sizeof w);
    w.in = in;
    w.nf = in->model->n_features;
    w.probability = in->model->is_classifier;
    aud_shap_opts_default(&w.so);
    w.so.method = aud_shap_method_resolve(in->method, in->model);
    w.so.threads = in->threads > 0 ? in->threads : 1;
    w.so.seed = in->seed;
    w.so.background = in->background;
    w.so.n_background = in->n_background;
    double *bg = NULL;   /* a background sample of the data when the method needs one */
    if (in->background == NULL && aud_shap_method_uses_background(w.so.method)) {
        size_t nb = in->data->n_rows < AUD_SHAP_DEFAULT_BACKGROUND ? in->data->n_rows
                                                                   : AUD_SHAP_DEFAULT_BACKGROUND;
        size_t *idx = aud_malloc((nb ? nb : 1) * sizeof *idx);
        bg = aud_malloc((nb ? nb : 1) * (w.nf ? w.nf : 1) * sizeof *bg);
        if (idx == NULL || bg == NULL) {
            aud_free(idx);
            aud_free(bg);
            aud_free(elig);
            return aud_error_nomem(err);
        }
        nb = aud_shap_sample_rows(in->data->n_rows, nb, in->seed + 2, idx);
        for (size_t i = 0; i < nb; i++)
            aud_model_fill_rows(in->model, in->data, in->bind, idx[i], idx[i] + 1, bg + i * w.nf);
        aud_free(idx);
        w.so.background = bg;
        w.so.n_background = nb;
    }
    size_t nf = w.nf, na = in->n_attrs;
    aud_assoc *assoc = aud_calloc(na * nf + 1, sizeof *assoc);
    unsigned char *is_attr = aud_calloc(na * nf + 1, 1);
    w.margin = aud_calloc(na ? na : 1, sizeof *w.margin);
    w.prob = aud_calloc(na ? na : 1, sizeof *w.prob);
    if (assoc == NULL || is_attr == NULL || w.margin == NULL || w.prob == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        rc = aud_fdrv_acc_init(&w.margin[a], in->attrs[a].n_levels, nf, err);
        if (rc == AUD_OK)
            rc = aud_fdrv_acc_init(&w.prob[a], in->attrs[a].n_levels, nf, err);
    }
    int all = w.so.method == AUD_SHAP_TREE || w.so.method == AUD_SHAP_LINEAR;
    if (rc == AUD_OK && !all)
        rc = stratified_rows(&w, err);
    if (rc == AUD_OK)
        rc = aud_shap_check(in->model, &w.so, err);
    if (rc == AUD_OK)
        rc = explain_all(&w, err);
    if (rc == AUD_OK)
        rc = screen(in, assoc, is_attr, err);
    char method[200];
    if (all)
        snprintf(method, sizeof method, "%s SHAP values of all %zu rows",
                 aud_shap_method_name(w.so.method), in->data->n_rows);
    else
        snprintf(method, sizeof method,
                 "%s SHAP values of a seeded sample of at most %d rows of each group (%zu rows "
                 "explained in all)",
                 aud_shap_method_name(w.so.method), AUD_WHY_SAMPLE_PER_GROUP, w.n_rows);
    for (size_t a = 0; a < na && rc == AUD_OK; a++) {
        cJSON *o = attr_object(doc, in->attrs[a].name);
        size_t ref = 0;
        if (o == NULL || level_info(in, a, elig, &ref) != 0)
            continue;
        aud_fdrv_json_input ji = {&w.margin[a],
                                  w.probability ? &w.prob[a] : NULL,
                                  ref,
                                  elig,
                                  in->attrs[a].levels,
                                  (const char *const *)in->model->feature_names,
                                  assoc + a * nf,
                                  is_attr + a * nf,
                                  method};
        rc = aud_fdrv_json(o, &ji, err);
    }
done:
    for (size_t a = 0; a < na; a++) {
        if (w.margin != NULL)
            aud_fdrv_acc_free(&w.margin[a]);
        if (w.prob != NULL)
            aud_fdrv_acc_free(&w.prob[a]);
    }
    aud_free(w.margin);
    aud_free(w.prob);
    aud_free(w.rows);
    aud_free(w.mask);
    aud_free(assoc);
    aud_free(is_attr);
    aud_free(elig);
    aud_free(bg);
    return rc;
}
