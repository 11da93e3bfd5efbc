/* run_rows.c - results.json's explanations.explained_rows: every explained row as JSON text,
 * formatted on threads in chunks of rows (aud_run_tasks) and joined in row order into one raw
 * node of the document. The text is byte for byte what cJSON_Print gives for the same row
 * objects at their depth (explanations is a member of the document's root), so results.json is
 * the same at any thread count and as when the rows were cJSON nodes - which, at 200,000 rows,
 * took 12 s on one thread and over 1 GB (12 million nodes; issues 18 and 19). */
#include "audit/run_int.h"
#include "core/io.h"
#include "explainers/shap.h"

#include <stdio.h>
#include <string.h>

#define ROWS_PER_TASK 256   /* rows formatted by one task (about 200 KB of text at 20 features) */

/* A growing text buffer; nomem once an allocation failed (further text is dropped). */
typedef struct tbuf {
    char  *p;
    size_t len, cap;
    int    nomem;
} tbuf;

static void put(tbuf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = aud_realloc(b->p, cap);
        if (p == NULL) {
            b->nomem = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(tbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A number exactly as aud_json_num prints it ("null" for NaN and infinities). */
static void put_num(tbuf *b, double v)
{
    char num[32];
    puts_(b, aud_fmt_double(v, num));
}

/* A JSON string escaped as cJSON does: the two-letter escapes of '"', '\\', \b, \f, \n, \r and
 * \t, other bytes below 32 as \u00xx (lowercase hex), all other bytes as they are. */
static void put_string(tbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    put(b, "\"", 1);
    for (; *p != '\0'; p++) {
        if (*p > 31 && *p != '"' && *p != '\\')
            continue;
        put(b, (const char *)run, (size_t)(p - run));
        run = p + 1;
        char esc[8] = {'\\', (char)*p, '\0'};
        switch (*p) {
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '"': case '\\': break;
        default: snprintf(esc, sizeof esc, "\\u%04x", *p); break;
        }
        puts_(b, esc);
    }
    put(b, (const char *)run, (size_t)(p - run));
    put(b, "\"", 1);
}

/* A key of a row object: the row objects are at depth 3 of the formatted document (root,
 * explanations, explained_rows), their members indented by four tabs. */
static void put_key(tbuf *b, const char *key)
{
    put(b, "\t\t\t\t\"", 5);
    puts_(b, key);
    put(b, "\":\t", 3);
}

/* One number member (not the last). */
static void put_member(tbuf *b, const char *key, double v)
{
    put_key(b, key);
    put_num(b, v);
    put(b, ",\n", 2);
}

/* values[0], values[stride], ... (n of them) as a one-line array. */
static void put_array(tbuf *b, const double *values, size_t n)
{
    put(b, "[", 1);
    for (size_t j = 0; j < n; j++) {
        if (j > 0)
            put(b, ", ", 2);
        put_num(b, values[j]);
    }
    put(b, "]", 1);
}

typedef struct rows_job {
    run_ctx *c;
    const aud_shap_result *r;
    const double *X;
    const size_t *rows;   /* row numbers in the file */
    size_t n, hi, lo;     /* hi, lo: of all explained rows (the first is g0) */
    size_t g0, n_all;     /* the first row's place among all n_all explained rows */
    size_t row0;          /* the data's first row in the file (a shard's block) */
    int probability;   /* aud_run_link_probability */
    tbuf *chunks;      /* one per task */
    size_t *at;        /* where task t's text goes in the joined text */
    char *text;        /* the joined text */
} rows_job;

/* Why row i is drawn as a waterfall, or NULL. */
static const char *row_why(const rows_job *j, size_t i)
{
    const aud_spec *s = j->c->spec;
    for (size_t k = 0; k < s->explain.n_show_rows; k++) {
        if ((size_t)s->explain.show_rows[k] == j->rows[i])
            return "requested in spec";
    }
    return j->g0 + i == j->hi ? "highest output" : j->g0 + i == j->lo ? "lowest output" : NULL;
}

/* Row i's object, followed by ", " unless it is the last row of all. */
static void put_row(tbuf *b, const rows_job *j, size_t i)
{
    const run_ctx *c = j->c;
    const aud_shap_result *r = j->r;
    size_t nf = c->model->n_features, row = j->rows[i], dr = row - j->row0;
    double fx = r->fx[i * r->n_outputs], pred = fx;
    if (r->output == AUD_SHAP_OUTPUT_RAW && c->merged)   /* the partials carry it */
        pred = c->mx_pred[i];
    else if (r->output == AUD_SHAP_OUTPUT_RAW && c->score != NULL)
        pred = c->score[dr];
    long line = c->merged ? (c->mx_line != NULL ? c->mx_line[i] : 0)   /* issue 14 item 3 */
                          : aud_table_row_line(c->data, dr);
    put(b, "{\n", 2);
    if (line > 0)
        put_member(b, "line", (double)line);
    if (c->merged && c->id_col >= 0) {   /* the partials carry the text */
        if (c->mx_id != NULL && c->mx_id[i] != NULL) {
            put_key(b, "id");
            put_string(b, c->mx_id[i]);
            put(b, ",\n", 2);
        }
    } else if (c->id_col >= 0) {
        char cell[128];
        aud_table_cell_text(c->data, dr, (size_t)c->id_col, cell, sizeof cell);
        if (c->data->cols[c->id_col].type == AUD_COL_NUMERIC)
            aud_fmt_double(c->data->cols[c->id_col].num[dr], cell);
        put_key(b, "id");
        put_string(b, cell);
        put(b, ",\n", 2);
    }
    if (j->probability)
        put_member(b, "probability", aud_run_sigmoid(c, fx));
    put_member(b, "row", (double)row);
    const char *why = row_why(j, i);
    if (why != NULL) {
        put_key(b, "why");
        put_string(b, why);
        put(b, ",\n", 2);
    }
    put_member(b, "prediction", pred);
    put_member(b, "output", fx);
    put_member(b, "base", r->phi[i * r->stride + nf]);
    put_key(b, "value");
    put_array(b, j->X + i * nf, nf);
    put(b, ",\n", 2);
    put_key(b, "phi");
    put_array(b, r->phi + i * r->stride, nf);
    put(b, "\n\t\t\t}", 5);
    if (j->g0 + i + 1 < j->n_all)
        put(b, ", ", 2);
}

static void rows_task(void *ctx, size_t t)
{
    rows_job *j = ctx;
    size_t end = (t + 1) * ROWS_PER_TASK < j->n ? (t + 1) * ROWS_PER_TASK : j->n;
    for (size_t i = t * ROWS_PER_TASK; i < end && !j->chunks[t].nomem; i++)
        put_row(&j->chunks[t], j, i);
}

/* Task t's text into the joined text at its offset (the copies and their page faults on
 * threads too), its buffer freed. */
static void join_task(void *ctx, size_t t)
{
    rows_job *j = ctx;
    memcpy(j->text + j->at[t], j->chunks[t].p, j->chunks[t].len);
    aud_free(j->chunks[t].p);
    j->chunks[t].p = NULL;
}

/* The job's rows formatted on c->threads threads and joined into *text (aud_malloc_large,
 * *len bytes and a NUL), between "[" and "]" when brackets. AUD_OK or AUD_E_NOMEM. */
static int format_rows(rows_job *j, int brackets, char **text, size_t *len_out)
{
    run_ctx *c = j->c;
    size_t n_tasks = (j->n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    j->chunks = aud_calloc(n_tasks ? n_tasks : 1, sizeof *j->chunks);
    j->at = aud_malloc((n_tasks ? n_tasks : 1) * sizeof *j->at);
    if (j->chunks == NULL || j->at == NULL) {
        aud_free(j->chunks);
        aud_free(j->at);
        return aud_error_nomem(c->err);
    }
    aud_run_tasks(n_tasks, c->threads, rows_task, j);
    size_t len = brackets ? 1 : 0;   /* "[", the rows, "]" */
    int nomem = 0;
    for (size_t t = 0; t < n_tasks; t++) {
        j->at[t] = len;
        len += j->chunks[t].len;
        nomem |= j->chunks[t].nomem;
    }
    len += brackets ? 1 : 0;
    j->text = nomem ? NULL : aud_malloc_large(len + 1);
    if (j->text != NULL) {
        aud_run_tasks(n_tasks, c->threads, join_task, j);
        if (brackets) {
            j->text[0] = '[';
            j->text[len - 1] = ']';
        }
        j->text[len] = '\0';
    }
    for (size_t t = 0; t < n_tasks; t++)
        aud_free(j->chunks[t].p);
    aud_free(j->chunks);
    aud_free(j->at);
    *text = j->text;
    *len_out = len;
    return j->text != NULL ? AUD_OK : aud_error_nomem(c->err);
}

int aud_run_explained_rows_json(run_ctx *c, cJSON *ex, const aud_shap_result *r,
                                const double *X, const size_t *rows, size_t n)
{
    cJSON *raw = cJSON_CreateRaw("");
    if (raw == NULL || !cJSON_AddItemToObject(ex, "explained_rows", raw)) {
        cJSON_Delete(raw);
        return aud_error_nomem(c->err);
    }
    c->rows_raw = raw;
    if (c->rows_external) {   /* audit-mpi: the ranks write the rows (aud_run_rows_shard) */
        c->rows_len = (size_t)c->opts->rows->total + 2;
        return AUD_OK;
    }
    rows_job j = {.c = c, .r = r, .X = X, .rows = rows, .n = n, .n_all = n,
                  .probability = aud_run_link_probability(c, r)};
    for (size_t i = 1; i < n; i++) {
        j.hi = r->fx[i] > r->fx[j.hi] ? i : j.hi;
        j.lo = r->fx[i] < r->fx[j.lo] ? i : j.lo;
    }
    char *text = NULL;
    int rc = format_rows(&j, 1, &text, &c->rows_len);
    if (rc == AUD_OK) {   /* the joined text becomes the node's own (freed by cJSON_Delete) */
        cJSON_free(raw->valuestring);
        raw->valuestring = text;
    }
    return rc;
}

/* ---- audit-mpi: the explained rows stay on the ranks ----------------------------------- */

aud_rows_layout aud_run_rows_layout(size_t K, size_t M, size_t P)
{
    aud_rows_layout l;
    l.sum_abs = 0;
    l.sum = K * M;
    l.base = 2 * K * M;
    l.hi = l.base + K;
    l.lo = l.hi + 2;
    l.px = l.lo + 2;
    l.pphi = l.px + P * M;
    l.n = l.pphi + P * M;
    return l;
}

typedef struct scan_job {
    const run_ctx *c;
    size_t g0, n_all, P;
    aud_rows_layout l;
} scan_job;

/* This shard's rows added to the scan's state, as aud_shap_summarize and the waterfalls'
 * choice (aud_run_explained_rows_json) walk all rows: in row order from the state the shards
 * before left. */
static void scan_step(void *ctx, double *st)
{
    const scan_job *s = ctx;
    const aud_shap_result *r = s->c->sx_r;
    size_t n = s->c->sx_n, M = s->c->model->n_features;
    if (r == NULL || n == 0)
        return;
    size_t K = r->n_outputs;
    aud_shap_summary_add(r, st + s->l.sum_abs, st + s->l.sum);
    for (size_t k = 0; k < K && s->g0 == 0; k++)
        st[s->l.base + k] = r->phi[k * (M + 1) + M];
    for (size_t i = 0; i < n && K == 1; i++) {
        double fx = r->fx[i];
        if (s->g0 + i == 0) {
            st[s->l.hi] = st[s->l.lo] = fx;
            st[s->l.hi + 1] = st[s->l.lo + 1] = 0.0;
            continue;
        }
        if (fx > st[s->l.hi]) {
            st[s->l.hi] = fx;
            st[s->l.hi + 1] = (double)(s->g0 + i);
        }
        if (fx < st[s->l.lo]) {
            st[s->l.lo] = fx;
            st[s->l.lo + 1] = (double)(s->g0 + i);
        }
    }
    for (size_t k = 0; k < s->P; k++) {   /* the plots' points this shard holds */
        size_t i = aud_run_point_row(k, s->n_all, s->P);
        if (i < s->g0 || i >= s->g0 + n)
            continue;
        for (size_t j = 0; j < M; j++) {
            st[s->l.px + k * M + j] = s->c->sx_X[(i - s->g0) * M + j];
            st[s->l.pphi + k * M + j] = r->phi[(i - s->g0) * r->stride + j];
        }
    }
}

void aud_run_rows_abort(run_ctx *c)
{
    const aud_run_opts *o = c->opts;
    if (o->rows == NULL || o->rows_scan == NULL || !c->exchanged || c->rows_synced)
        return;
    long long mine[3] = {1, 0, 0}, before[3], total[3];
    c->rows_synced = 1;
    (void)o->shard_exchange(o->shard_exchange_ctx, mine, before, total, 3);
}

int aud_run_rows_shard(run_ctx *c)
{
    const aud_run_opts *o = c->opts;
    aud_run_rows *out = o->rows;
    c->rows_synced = 1;
    /* A: is every shard ready, are the explanations made, how many rows before this one's */
    long long mine[3] = {0, c->sx_skip, (long long)c->sx_n}, before[3], total[3];
    if (o->shard_exchange(o->shard_exchange_ctx, mine, before, total, 3) != 0)
        return aud_error_set(c->err, AUD_E_IO, NULL, 0, 0, "the ranks' exchange failed");
    if (total[0] > 0 || total[1] > 0)   /* a shard failed (it says why), or nothing explained */
        return AUD_OK;
    size_t M = c->model->n_features, K = c->model->n_outputs;
    if (c->sx_r != NULL)
        K = c->sx_r->n_outputs;
    scan_job s = {c, (size_t)before[2], (size_t)total[2], 0, {0}};
    s.P = K == 1 ? (s.n_all < AUD_EXPLAIN_POINTS_PER_FEATURE ? s.n_all
                                                             : AUD_EXPLAIN_POINTS_PER_FEATURE)
                 : 0;
    s.l = aud_run_rows_layout(K, M, s.P);
    /* B: the scan (every shard takes part; the state's size is the same on all) */
    out->state = aud_calloc(s.l.n, sizeof *out->state);
    double dummy = 0.0;
    int nomem = out->state == NULL;
    int bad = o->rows_scan(o->shard_exchange_ctx, nomem ? &dummy : out->state,
                           nomem ? 0 : s.l.n, scan_step, &s) != 0;
    out->n_state = s.l.n;
    out->n_rows = s.n_all;
    /* C: this shard's rows as text */
    int rc = AUD_OK;
    if (!nomem && !bad && K == 1 && c->sx_n > 0) {
        c->id_col = c->spec->explain.id != NULL ? aud_table_find(c->data, c->spec->explain.id)
                                                : -1;
        rows_job j = {.c = c, .r = c->sx_r, .X = c->sx_X, .rows = c->sx_rows, .n = c->sx_n,
                      .hi = (size_t)out->state[s.l.hi + 1], .lo = (size_t)out->state[s.l.lo + 1],
                      .g0 = s.g0, .n_all = s.n_all, .row0 = c->shard_row0,
                      .probability = aud_run_link_probability(c, c->sx_r)};
        rc = format_rows(&j, 0, &out->text, &out->len);
    }
    /* D: where each shard's text goes */
    long long m2[2] = {(long long)out->len, nomem || bad || rc != AUD_OK}, b2[2], t2[2];
    if (o->shard_exchange(o->shard_exchange_ctx, m2, b2, t2, 2) != 0)
        bad = 1;
    if (rc == AUD_OK && (nomem || bad))
        rc = nomem ? aud_error_nomem(c->err)
                   : aud_error_set(c->err, AUD_E_IO, NULL, 0, 0, "the ranks' exchange failed");
    if (rc == AUD_OK && t2[1] == 0) {
        out->at = b2[0];
        out->total = t2[0];
        out->active = 1;
    }
    return rc;
}
