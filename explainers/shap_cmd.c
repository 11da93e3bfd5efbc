/* shap_cmd.c - KernelSHAP and exact Shapley values of a model behind a command
 * (models/model_cmd_int.h). The value function is the one of exact_shap.c, v(S) = mean over the
 * background rows z of f(x_S, z_~S) (the full coalition is f(x), one row), but the program is
 * asked for every masked row of many coalitions and explained rows at once: the rows are built
 * into one matrix of up to CMD_CAP_ROWS rows and sent in the command's batches, so the program
 * sees full batches, never one row per call. Coalitions: the KernelSHAP design of kernel_shap.c
 * (seeded, the same for every row) or all 2^M masks (exact). The sums over the background run in
 * background order, as in aud_shap_masked_value, so the values equal the native computation's
 * when the program computes the same function. */
#include "explainers/shap_int.h"
#include "models/model_cmd_int.h"

#include <string.h>

/* Rows of masked data built before the program is asked (memory: CMD_CAP_ROWS x M doubles). */
#define CMD_CAP_ROWS ((size_t)1 << 17)

typedef struct seg { size_t row, mask, start, count; } seg;

typedef struct cmd_job {
    const aud_model *m;
    const double *X, *bg;
    size_t n_bg, n_masks, K, M;
    uint64_t *masks;
    uint64_t full;
    double *mat;        /* cap x M */
    size_t cap, used;
    seg *segs;
    size_t n_segs;
    double *vals;       /* group rows x n_masks x K */
    size_t row0;        /* first explained row of the group */
} cmd_job;

/* Ask the program for the rows built so far and add each segment's mean to its value. */
static int flush(cmd_job *j, aud_error *err)
{
    if (j->used == 0)
        return AUD_OK;
    double *pred = NULL;
    int rc = aud_model_cmd_eval(j->m->cmd, j->mat, j->used, &pred, err);
    if (rc != AUD_OK)
        return rc;
    if (j->m->cmd->n_outputs != j->K) {
        aud_free(pred);
        return aud_error_set(err, AUD_E_DOMAIN, j->m->cmd->argv[0], 0, 0,
                             "model command answered %zu values per row, earlier %zu",
                             j->m->cmd->n_outputs, j->K);
    }
    for (size_t s = 0; s < j->n_segs; s++) {
        const seg *g = &j->segs[s];
        double *v = j->vals + (g->row * j->n_masks + g->mask) * j->K;
        for (size_t k = 0; k < j->K; k++) {
            double acc = 0.0;
            for (size_t b = 0; b < g->count; b++)
                acc += pred[(g->start + b) * j->K + k];
            v[k] = acc / (double)g->count;
        }
    }
    aud_free(pred);
    j->used = 0;
    j->n_segs = 0;
    return AUD_OK;
}

/* Append the masked rows of (explained row r of the group, mask c). */
static int add_coalition(cmd_job *j, size_t r, size_t c, aud_error *err)
{
    uint64_t s = j->masks[c];
    size_t cnt = s == j->full ? 1 : j->n_bg;
    if (j->used + cnt > j->cap) {
        int rc = flush(j, err);
        if (rc != AUD_OK)
            return rc;
    }
    const double *x = j->X + (j->row0 + r) * j->M;
    double *o = j->mat + j->used * j->M;
    for (size_t b = 0; b < cnt; b++, o += j->M) {
        const double *z = j->bg + b * j->M;
        for (size_t f = 0; f < j->M; f++)
            o[f] = ((s >> f) & 1u) ? x[f] : z[f];
    }
    j->segs[j->n_segs++] = (seg){r, c, j->used, cnt};
    j->used += cnt;
    return AUD_OK;
}

typedef struct table_game { const double *v; size_t K; } table_game;

static int table_value(void *ctx, const uint64_t *masks, size_t n, double *out)
{
    const table_game *t = ctx;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * t->K, t->v + masks[i] * t->K, t->K * sizeof *out);
    return AUD_OK;
}

int aud_shap_explain_cmd(aud_shap_result *r, const aud_model *m, const double *X, size_t n_rows,
                         const aud_shap_opts *o, aud_shap_method method, aud_error *err)
{
    size_t M = m->n_features, K = m->n_outputs, n_bg = o->n_background;
    uint64_t full = M >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << M) - 1);
    aud_kernel_design *d = NULL;
    cmd_job j = {0};
    double *buf = NULL;
    size_t n_masks;
    int rc = AUD_OK;
    if (method == AUD_SHAP_KERNEL) {
        rc = aud_kernel_design_new(&d, M, o->n_samples, o->seed, err);
        if (rc != AUD_OK)
            return rc;
        n_masks = d->n_coal + 2;   /* empty, full, then the design's coalitions */
    } else {
        n_masks = (size_t)1 << M;  /* mask index = mask; 0 empty, 2^M - 1 full */
    }
    /* explained rows per group: as many as fill the matrix (at least one) */
    size_t per_row = (n_masks - 1) * n_bg + 1;
    size_t cap = CMD_CAP_ROWS > n_bg ? CMD_CAP_ROWS : n_bg;
    size_t group = per_row >= cap ? 1 : cap / per_row;
    if (group > n_rows)
        group = n_rows ? n_rows : 1;
    j = (cmd_job){.m = m, .X = X, .bg = o->background, .n_bg = n_bg, .n_masks = n_masks,
                  .K = K, .M = M, .full = full, .cap = cap};
    j.masks = aud_malloc(n_masks * sizeof *j.masks);
    j.mat = aud_malloc(cap * M * sizeof *j.mat);
    j.segs = aud_malloc(cap * sizeof *j.segs);
    j.vals = aud_malloc(group * n_masks * K * sizeof *j.vals);
    if (method == AUD_SHAP_EXACT)
        buf = aud_malloc(aud_shap_exact_buf_size(M, K) * sizeof *buf);
    if (!j.masks || !j.mat || !j.segs || !j.vals || (method == AUD_SHAP_EXACT && !buf)) {
        rc = aud_error_nomem(err);
        goto done;
    }
    if (method == AUD_SHAP_KERNEL) {
        j.masks[0] = 0;
        j.masks[1] = full;
        memcpy(j.masks + 2, d->masks, d->n_coal * sizeof *d->masks);
    } else {
        for (size_t c = 0; c < n_masks; c++)
            j.masks[c] = (uint64_t)c;
    }
    for (size_t g0 = 0; g0 < n_rows && rc == AUD_OK; g0 += group) {
        size_t gn = n_rows - g0 < group ? n_rows - g0 : group;
        j.row0 = g0;
        for (size_t i = 0; i < gn && rc == AUD_OK; i++)
            for (size_t c = 0; c < n_masks && rc == AUD_OK; c++)
                rc = add_coalition(&j, i, c, err);
        if (rc == AUD_OK)
            rc = flush(&j, err);
        for (size_t i = 0; i < gn && rc == AUD_OK; i++) {
            const double *v = j.vals + i * n_masks * K;
            double *phi = r->phi + (g0 + i) * r->stride;
            double *fx = r->fx + (g0 + i) * K;
            if (method == AUD_SHAP_KERNEL) {
                aud_kernel_solve(d, K, v + 2 * K, v, v + K, phi);
                memcpy(fx, v + K, K * sizeof *fx);
            } else {
                table_game tg = {v, K};
                aud_shap_game game = {M, K, table_value, &tg};
                rc = aud_shap_exact_game_buf(&game, buf, phi);
                memcpy(fx, v + full * K, K * sizeof *fx);
            }
        }
        if (o->progress != NULL)
            o->progress(o->progress_ctx, (double)(g0 + gn) / (double)n_rows);
    }
done:
    aud_kernel_design_free(d);
    aud_free(j.masks);
    aud_free(j.mat);
    aud_free(j.segs);
    aud_free(j.vals);
    aud_free(buf);
    return rc;
}
