/* predict.c - batch prediction over a table: rows in units of whole blocks, each thread taking
 * the next untaken unit from a shared counter (aud_run_units: a slower core takes fewer); a
 * block of AUD_PREDICT_BLOCK rows is copied into a dense row-major buffer and all trees are walked for
 * the block (tree-outer, so a tree's nodes stay in cache). Each row's figures depend only on the
 * row, so the output does not depend on the threads. */
#include "models/predict_int.h"
#include "models/model_cmd_int.h"

#include <math.h>
#include <string.h>

#define AUD_PREDICT_BLOCK 128

size_t aud_predict_n_cols(const aud_model *m, int raw)
{
    return raw ? m->n_outputs : aud_model_n_pred(m);
}

typedef struct pred_ctx {
    const aud_model *m;
    const aud_table *t;
    const size_t *col_index;
    int raw;
    double *out;
} pred_ctx;

/* A thread's workspace: one block's rows (AUD_PREDICT_BLOCK x n_features) and then its
 * margins (AUD_PREDICT_BLOCK x n_outputs), in one allocation (freed by aud_free). */
static void *pred_ws_new(void *ctx)
{
    const aud_model *m = ((const pred_ctx *)ctx)->m;
    return aud_malloc((AUD_PREDICT_BLOCK * (m->n_features + m->n_outputs) + 1) * sizeof(double));
}

/* aud_units.run: the rows [b0, b1) in blocks of AUD_PREDICT_BLOCK. */
static int pred_rows(void *ctx, void *wsp, size_t b0, size_t b1, aud_error *err)
{
    (void)err;
    const pred_ctx *j = ctx;
    const aud_model *m = j->m;
    size_t K = m->n_outputs, C = aud_predict_n_cols(m, j->raw);
    double *X = wsp, *mg = X + AUD_PREDICT_BLOCK * m->n_features;
    for (size_t b = b0; b < b1; b += AUD_PREDICT_BLOCK) {
        size_t e = b1 - b < AUD_PREDICT_BLOCK ? b1 : b + AUD_PREDICT_BLOCK;
        size_t n = e - b;
        aud_model_fill_rows(m, j->t, j->col_index, b, e, X);
        aud_model_predict_margin_block(m, X, n, mg);
        for (size_t r = 0; r < n; r++) {
            double *o = j->out + (b + r) * C;
            if (j->raw)
                memcpy(o, mg + r * K, K * sizeof *o);
            else
                aud_model_transform(m, mg + r * K, o);
        }
    }
    return AUD_OK;
}

/* Models whose library has no rule for missing values refuse them (no silent guess); so do the
 * encoders of a pipeline for a category not seen in fitting (handle_unknown="error"). */
int aud_predict_check_missing(const aud_model *m, const aud_table *t, const size_t *col_index,
                              size_t row_begin, size_t row_end, aud_error *err)
{
    if (m->kind != AUD_MODEL_LINEAR && !m->no_missing && m->prep == NULL)
        return AUD_OK;
    for (size_t f = 0; f < m->n_features; f++) {
        const aud_column *c = &t->cols[col_index[f]];
        const aud_prep *p = m->prep != NULL ? &m->prep[f] : NULL;
        if (p != NULL && p->kind != AUD_PREP_NONE) {
            /* an unseen category fails in scikit-learn whether or not the model uses the
             * column; a missing value only matters where it is used and not imputed */
            int check_nan = m->feature_used[f];
            for (size_t i = 0; i < p->n_ops; i++)
                check_nan &= p->op[i] != AUD_OP_FILL;
            if (p->kind == AUD_PREP_NUMERIC && !check_nan)
                continue;
            for (size_t r = row_begin; r < row_end && r < t->n_rows; r++) {
                char rb[64];
                int bad;
                double v = aud_prep_value(m, f, c, r, &bad);
                if (bad == 1 && p->native) {
                    char buf[64];
                    aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                                  "%s: category \"%s\" of column \"%s\" is not in "
                                  "the model's category mapping (XGBoost has no code for it)",
                                  aud_table_row_text(t, r, rb, sizeof rb),
                                  aud_table_cell_text(t, r, col_index[f], buf, sizeof buf),
                                  c->name);
                    return aud_error_field(err, c->name);
                }
                if (bad == 1) {
                    char buf[64];
                    aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                                  "%s: category \"%s\" of column \"%s\" was not seen "
                                  "when the model was fitted (the pipeline's encoder has "
                                  "handle_unknown=\"error\")",
                                  aud_table_row_text(t, r, rb, sizeof rb),
                                  aud_table_cell_text(t, r, col_index[f], buf, sizeof buf),
                                  c->name);
                    return aud_error_field(err, c->name);
                }
                if (isnan(v) && check_nan && (m->kind == AUD_MODEL_LINEAR || m->no_missing)) {
                    aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                                  "%s: missing value in column \"%s\"; this %s "
                                  "pipeline cannot handle missing values (impute them first)",
                                  aud_table_row_text(t, r, rb, sizeof rb), c->name,
                                  m->kind == AUD_MODEL_LINEAR ? "linear" : "tree");
                    return aud_error_field(err, c->name);
                }
            }
            continue;
        }
        if (m->kind != AUD_MODEL_LINEAR && !m->no_missing)
            continue;
        if (c->n_missing == 0 || !m->feature_used[f])
            continue;
        for (size_t r = row_begin; r < row_end && r < t->n_rows; r++) {
            if (isnan(c->num[r])) {
                char rb[64];
                aud_error_set(err, AUD_E_DOMAIN, t->path, 0, 0,
                              "%s: missing value in column \"%s\"; this %s model "
                              "cannot handle missing values (impute them first)",
                              aud_table_row_text(t, r, rb, sizeof rb), c->name,
                              m->kind == AUD_MODEL_LINEAR ? "linear" : "tree");
                return aud_error_field(err, c->name);
            }
        }
    }
    return AUD_OK;
}

int aud_predict_table(const aud_model *m, const aud_table *t, const size_t *col_index, int raw,
                      int n_threads, double *out, aud_error *err)
{
    if (m->kind == AUD_MODEL_COMMAND)
        return aud_model_cmd_predict_bound(m, t, col_index, out, err);
    if (m->kind == AUD_MODEL_LINEAR || m->no_missing || m->prep != NULL) {
        int rc = aud_predict_check_missing(m, t, col_index, 0, t->n_rows, err);
        if (rc != AUD_OK)
            return rc;
    }
    size_t n = t->n_rows;
    if (n == 0)
        return AUD_OK;
    pred_ctx c = {m, t, col_index, raw, out};
    aud_units units = {pred_ws_new, aud_free, pred_rows, &c, AUD_PREDICT_BLOCK, NULL, NULL};
    return aud_run_units(&units, n, n_threads, err);
}
