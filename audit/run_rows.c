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
    const size_t *rows;
    size_t n, hi, lo;
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
    return i == j->hi ? "highest output" : i == j->lo ? "lowest output" : NULL;
}

/* Row i's object, followed by ", " unless it is the last row. */
static void put_row(tbuf *b, const rows_job *j, size_t i)
{
    const run_ctx *c = j->c;
    const aud_shap_result *r = j->r;
    size_t nf = c->model->n_features, row = j->rows[i];
    double fx = r->fx[i * r->n_outputs], pred = fx;
    if (r->output == AUD_SHAP_OUTPUT_RAW && c->merged)   /* the partials carry it */
        pred = c->mx_pred[i];
    else if (r->output == AUD_SHAP_OUTPUT_RAW && c->score != NULL)
        pred = c->score[row];
    long line = c->merged ? (c->mx_line != NULL ? c->mx_line[i] : 0)   /* issue 14 item 3 */
                          : aud_table_row_line(c->data, row);
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
        aud_table_cell_text(c->data, row, (size_t)c->id_col, cell, sizeof cell);
        if (c->data->cols[c->id_col].type == AUD_COL_NUMERIC)
            aud_fmt_double(c->data->cols[c->id_col].num[row], cell);
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
    if (i + 1 < j->n)
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

int aud_run_explained_rows_json(run_ctx *c, cJSON *ex, const aud_shap_result *r,
                                const double *X, const size_t *rows, size_t n)
{
    rows_job j = {c, r, X, rows, n, 0, 0, aud_run_link_probability(c, r), NULL, NULL, NULL};
    for (size_t i = 1; i < n; i++) {
        j.hi = r->fx[i] > r->fx[j.hi] ? i : j.hi;
        j.lo = r->fx[i] < r->fx[j.lo] ? i : j.lo;
    }
    size_t n_tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    j.chunks = aud_calloc(n_tasks ? n_tasks : 1, sizeof *j.chunks);
    j.at = aud_malloc((n_tasks ? n_tasks : 1) * sizeof *j.at);
    if (j.chunks == NULL || j.at == NULL) {
        aud_free(j.chunks);
        aud_free(j.at);
        return aud_error_nomem(c->err);
    }
    aud_run_tasks(n_tasks, c->threads, rows_task, &j);
    size_t len = 1;   /* "[", the rows, "]" */
    int nomem = 0;
    for (size_t t = 0; t < n_tasks; t++) {
        j.at[t] = len;
        len += j.chunks[t].len;
        nomem |= j.chunks[t].nomem;
    }
    len++;
    j.text = nomem ? NULL : aud_malloc_large(len + 1);
    cJSON *raw = j.text != NULL ? cJSON_CreateRaw("") : NULL;
    if (raw != NULL) {   /* the joined text becomes the node's own (freed by cJSON_Delete) */
        aud_run_tasks(n_tasks, c->threads, join_task, &j);
        j.text[0] = '[';
        j.text[len - 1] = ']';
        j.text[len] = '\0';
        cJSON_free(raw->valuestring);
        raw->valuestring = j.text;
        j.text = NULL;
    }
    for (size_t t = 0; t < n_tasks; t++)
        aud_free(j.chunks[t].p);
    aud_free(j.chunks);
    aud_free(j.at);
    aud_free(j.text);
    if (raw == NULL || !cJSON_AddItemToObject(ex, "explained_rows", raw)) {
        cJSON_Delete(raw);
        return aud_error_nomem(c->err);
    }
    c->rows_raw = raw;
    c->rows_len = len;
    return AUD_OK;
}
