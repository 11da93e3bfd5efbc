/* run_rows.c - the explained rows: every explained row as JSON text, formatted on threads in
 * chunks of rows (aud_run_tasks) and joined in row order, either into one raw node of
 * results.json (explanations.explained_rows) or, window by window, into the explained-rows file
 * (explain.rows_file: one compact object per line, JSON Lines), results.json then holding only
 * the waterfalls' rows and the file's name, size and SHA-256 (docs/results-schema.md).
 * Inside results.json the text is byte for byte what cJSON_Print gives for the same row objects
 * at their depth (explanations is a member of the document's root), so results.json is the same
 * at any thread count and as when the rows were cJSON nodes - which, at 200,000 rows, took 12 s
 * on one thread and over 1 GB (12 million nodes; issues 18 and 19). At 10,000,000 rows the text
 * is about 7.5 GB: hence the file, written without ever holding it whole. */
#include "audit/run_int.h"
#include "core/io.h"
#include "core/provenance.h"
#include "explainers/shap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS_PER_TASK 256   /* rows formatted by one task (about 200 KB of text at 20 features) */
#define FILE_WINDOW   16    /* tasks per thread formatted before the file is written */

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

/* A key of a row object. Inside results.json the row objects are at depth 3 of the formatted
 * document (root, explanations, explained_rows), their members indented by four tabs; compact
 * (a line of the rows file): no whitespace. */
static void put_key(tbuf *b, int compact, const char *key)
{
    if (compact) {
        put(b, "\"", 1);
        puts_(b, key);
        put(b, "\":", 2);
        return;
    }
    put(b, "\t\t\t\t\"", 5);
    puts_(b, key);
    put(b, "\":\t", 3);
}

/* After a member that is not the last. */
static void put_next(tbuf *b, int compact)
{
    put(b, ",\n", compact ? 1 : 2);
}

/* One number member (not the last). */
static void put_member(tbuf *b, int compact, const char *key, double v)
{
    put_key(b, compact, key);
    put_num(b, v);
    put_next(b, compact);
}

/* values[0..n) as a one-line array. */
static void put_array(tbuf *b, int compact, const double *values, size_t n)
{
    put(b, "[", 1);
    for (size_t j = 0; j < n; j++) {
        if (j > 0)
            put(b, ", ", compact ? 1 : 2);
        put_num(b, values[j]);
    }
    put(b, "]", 1);
}

/* The end of a row object: compact, "}" and the line's end; else the closing brace at its
 * depth and ", " unless it is the last row of the array. */
static void put_end(tbuf *b, int compact, int last)
{
    if (compact)
        put(b, "}\n", 2);
    else
        put(b, "\n\t\t\t}, ", last ? 5 : 7);
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
    int compact;       /* lines of the rows file */
    size_t task0;      /* the first task of the window being formatted (chunks[t - task0]) */
    tbuf *chunks;      /* one per task of the window */
    size_t *at;        /* where task t's text goes in the joined text */
    char *text;        /* the joined text */
    long long *why;    /* or NULL; per waterfall slot (row_slot): task, offset in its chunk,
                          length (-1: not in this job); after format_rows: offset in text */
} rows_job;

/* Row i's waterfall slot: 2 + k for explain.show_rows[k] (the first that names it), else 0
 * for the highest and 1 for the lowest output of all explained rows; -1: no waterfall. */
static long row_slot(const rows_job *j, size_t i)
{
    const aud_spec *s = j->c->spec;
    for (size_t k = 0; k < s->explain.n_show_rows; k++) {
        if ((size_t)s->explain.show_rows[k] == j->rows[i])
            return 2 + (long)k;
    }
    return j->g0 + i == j->hi ? 0 : j->g0 + i == j->lo ? 1 : -1;
}

/* Why row i is drawn as a waterfall, or NULL. */
static const char *row_why(const rows_job *j, size_t i)
{
    long slot = row_slot(j, i);
    return slot < 0 ? NULL : slot >= 2 ? "requested in spec" : slot == 0 ? "highest output"
                                                                        : "lowest output";
}

/* Row i's object; last: the last row of the array (inside results.json). */
static void put_row(tbuf *b, const rows_job *j, size_t i, int last)
{
    const run_ctx *c = j->c;
    const aud_shap_result *r = j->r;
    int k = j->compact;
    size_t nf = c->model->n_features, row = j->rows[i], dr = row - j->row0;
    double fx = r->fx[i * r->n_outputs], pred = fx;
    if (r->output == AUD_SHAP_OUTPUT_RAW && c->merged)   /* the partials carry it */
        pred = c->mx_pred[i];
    else if (r->output == AUD_SHAP_OUTPUT_RAW && c->score != NULL)
        pred = c->score[dr];
    long line = c->merged ? (c->mx_line != NULL ? c->mx_line[i] : 0)   /* issue 14 item 3 */
                          : aud_table_row_line(c->data, dr);
    put(b, "{\n", k ? 1 : 2);
    if (line > 0)
        put_member(b, k, "line", (double)line);
    if (c->merged && c->id_col >= 0) {   /* the partials carry the text */
        if (c->mx_id != NULL && c->mx_id[i] != NULL) {
            put_key(b, k, "id");
            put_string(b, c->mx_id[i]);
            put_next(b, k);
        }
    } else if (c->id_col >= 0) {
        char cell[128];
        aud_table_cell_text(c->data, dr, (size_t)c->id_col, cell, sizeof cell);
        if (c->data->cols[c->id_col].type == AUD_COL_NUMERIC)
            aud_fmt_double(c->data->cols[c->id_col].num[dr], cell);
        put_key(b, k, "id");
        put_string(b, cell);
        put_next(b, k);
    }
    if (j->probability)
        put_member(b, k, "probability", aud_run_sigmoid(c, fx));
    put_member(b, k, "row", (double)row);
    const char *why = row_why(j, i);
    if (why != NULL) {
        put_key(b, k, "why");
        put_string(b, why);
        put_next(b, k);
    }
    put_member(b, k, "prediction", pred);
    put_member(b, k, "output", fx);
    put_member(b, k, "base", r->phi[i * r->stride + nf]);
    put_key(b, k, "value");
    put_array(b, k, j->X + i * nf, nf);
    put_next(b, k);
    put_key(b, k, "phi");
    put_array(b, k, r->phi + i * r->stride, nf);
    put_end(b, k, last);
}

/* The rows of task t (of all the job's tasks) into chunks[t - task0]. */
static void rows_task(void *ctx, size_t t)
{
    rows_job *j = ctx;
    t += j->task0;
    tbuf *b = &j->chunks[t - j->task0];
    size_t end = (t + 1) * ROWS_PER_TASK < j->n ? (t + 1) * ROWS_PER_TASK : j->n;
    for (size_t i = t * ROWS_PER_TASK; i < end && !b->nomem; i++) {
        size_t from = b->len;
        put_row(b, j, i, j->g0 + i + 1 >= j->n_all);
        long slot = j->why != NULL ? row_slot(j, i) : -1;
        if (slot >= 0) {   /* one row per slot: no other task writes it */
            j->why[3 * slot] = (long long)t;
            j->why[3 * slot + 1] = (long long)from;
            j->why[3 * slot + 2] = (long long)(b->len - from);
        }
    }
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
    j->task0 = 0;
    aud_run_tasks(n_tasks, c->threads, rows_task, j);
    size_t len = brackets ? 1 : 0;   /* "[", the rows, "]" */
    int nomem = 0;
    for (size_t t = 0; t < n_tasks; t++) {
        j->at[t] = len;
        len += j->chunks[t].len;
        nomem |= j->chunks[t].nomem;
    }
    len += brackets ? 1 : 0;
    size_t n_slots = 2 + c->spec->explain.n_show_rows;
    for (size_t s = 0; j->why != NULL && s < n_slots; s++) {
        if (j->why[3 * s] >= 0)
            j->why[3 * s + 1] += (long long)j->at[j->why[3 * s]];
    }
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

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t got = write(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* The rows file's writer: one window's chunks written in order and added to the SHA-256 (on a
 * thread of its own while the next window is formatted), each buffer emptied for reuse. */
typedef struct file_writer {
    int fd;
    aud_sha256_stream *sha;
    tbuf *chunks;
    size_t n, bytes;
    int nomem, io_errno, sha_failed;
} file_writer;

static void *writer_main(void *arg)
{
    file_writer *w = arg;
    for (size_t t = 0; t < w->n; t++) {
        tbuf *b = &w->chunks[t];
        w->nomem |= b->nomem;
        if (!w->nomem && !w->io_errno && !w->sha_failed) {
            if (write_all(w->fd, b->p, b->len) != 0)
                w->io_errno = errno ? errno : EIO;
            else if (w->sha != NULL && aud_sha256_add(w->sha, b->p, b->len) != 0)
                w->sha_failed = 1;
            w->bytes += b->len;
        }
        b->len = 0;
    }
    return NULL;
}

/* The job's rows as lines of the rows file (fd, from its start), formatted on the threads a
 * window of tasks at a time while the window before is written: the memory is that of two
 * windows, whatever the rows. *bytes: the file's size; hex: its SHA-256, or NULL: none.
 * j->why, when set, ends as format_rows leaves it: offsets from the file's start. */
static int write_rows_file(rows_job *j, int fd, size_t *bytes, char hex[65])
{
    run_ctx *c = j->c;
    size_t n_tasks = (j->n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    size_t window = (size_t)(c->threads > 0 ? c->threads : 1) * FILE_WINDOW;
    size_t n_slots = 2 + c->spec->explain.n_show_rows, off = 0;
    file_writer w = {.fd = fd, .sha = hex != NULL ? aud_sha256_begin() : NULL};
    tbuf *win[2] = {aud_calloc(window, sizeof(tbuf)), aud_calloc(window, sizeof(tbuf))};
    if ((hex != NULL && w.sha == NULL) || win[0] == NULL || win[1] == NULL) {
        aud_free(win[0]);
        aud_free(win[1]);
        aud_sha256_end(w.sha, NULL, c->err);
        return aud_error_nomem(c->err);
    }
    pthread_t th;
    int running = 0;
    for (size_t w0 = 0, k = 0; w0 < n_tasks; w0 += window, k ^= 1) {
        j->chunks = win[k];
        j->task0 = w0;
        size_t nw = n_tasks - w0 < window ? n_tasks - w0 : window;
        aud_run_tasks(nw, c->threads, rows_task, j);
        for (size_t t = 0; t < nw; t++) {   /* the window's slots: where their tasks go */
            for (size_t q = 0; j->why != NULL && q < n_slots; q++) {
                if (j->why[3 * q] == (long long)(w0 + t))
                    j->why[3 * q + 1] += (long long)off;
            }
            off += win[k][t].len;
        }
        if (running)
            pthread_join(th, NULL);
        running = 0;
        if (w.nomem || w.io_errno || w.sha_failed)
            break;
        w.chunks = win[k];
        w.n = nw;
        if (aud_thread_start(&th, writer_main, &w) == 0)
            running = 1;
        else
            writer_main(&w);
    }
    if (running)
        pthread_join(th, NULL);
    for (size_t t = 0; t < window; t++) {
        aud_free(win[0][t].p);
        aud_free(win[1][t].p);
    }
    aud_free(win[0]);
    aud_free(win[1]);
    j->chunks = NULL;
    *bytes = w.bytes;
    int rc = AUD_OK;
    if (w.nomem)
        rc = aud_error_nomem(c->err);
    else if (w.io_errno)
        rc = aud_error_set(c->err, AUD_E_IO, c->rows_name, 0, 0, "write error: %s",
                           strerror(w.io_errno));
    else if (w.sha_failed)
        rc = aud_error_set(c->err, AUD_E_INTERNAL, c->rows_name, 0, 0, "SHA-256 failed");
    int rc2 = w.sha != NULL ? aud_sha256_end(w.sha, rc == AUD_OK ? hex : NULL, c->err) : AUD_OK;
    return rc != AUD_OK ? rc : rc2;
}

/* The rows with a waterfall (row_why), in row order, as results.json's array text. */
static int format_why(rows_job *j, char **text, size_t *len)
{
    tbuf b = {0};
    size_t last = j->n;
    for (size_t i = 0; i < j->n; i++) {
        if (row_why(j, i) != NULL)
            last = i;
    }
    put(&b, "[", 1);
    for (size_t i = 0; i < j->n; i++) {
        if (row_why(j, i) != NULL)
            put_row(&b, j, i, i == last);
    }
    put(&b, "]", 1);
    if (b.nomem) {
        aud_free(b.p);
        return aud_error_nomem(j->c->err);
    }
    b.p[b.len] = '\0';
    *text = b.p;
    *len = b.len;
    return AUD_OK;
}

/* A row object parsed from a line of the rows file, formatted as put_row formats it inside
 * results.json: the same members in the same order, and the numbers, which read back exactly,
 * printed again the same way. */
static void put_row_json(tbuf *b, const cJSON *row, int last)
{
    put(b, "{\n", 2);
    for (const cJSON *m = row->child; m != NULL; m = m->next) {
        put_key(b, 0, m->string != NULL ? m->string : "");
        if (cJSON_IsString(m)) {
            put_string(b, m->valuestring);
        } else if (cJSON_IsArray(m)) {
            put(b, "[", 1);
            for (const cJSON *v = m->child; v != NULL; v = v->next) {
                put_num(b, cJSON_IsNumber(v) ? v->valuedouble : NAN);
                if (v->next != NULL)
                    put(b, ", ", 2);
            }
            put(b, "]", 1);
        } else {
            put_num(b, cJSON_IsNumber(m) ? m->valuedouble : NAN);
        }
        if (m->next != NULL)
            put_next(b, 0);
    }
    put_end(b, 0, last);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* audit-mpi, rank 0: the waterfalls' rows read back from the rows file the ranks wrote (path),
 * where the slots say (aud_run_rows.why), as results.json's array text. */
static int why_from_file(run_ctx *c, const aud_run_rows *w, const char *path, char **text,
                         size_t *len)
{
    long long *pos = aud_calloc(2 * (w->n_why + 1), sizeof *pos);
    tbuf b = {0};
    size_t n = 0;
    int rc = AUD_OK;
    int fd = pos != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (pos == NULL)
        return aud_error_nomem(c->err);
    if (fd < 0) {
        aud_free(pos);
        return aud_error_set(c->err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    }
    for (size_t s = 0; w->why != NULL && s < w->n_why; s++) {
        int seen = 0;
        for (size_t k = 0; k < n; k++)
            seen |= pos[2 * k] == w->why[2 * s] - 1;
        if (w->why[2 * s] > 0 && !seen) {
            pos[2 * n] = w->why[2 * s] - 1;
            pos[2 * n + 1] = w->why[2 * s + 1];
            n++;
        }
    }
    qsort(pos, n, 2 * sizeof *pos, cmp_ll);
    put(&b, "[", 1);
    for (size_t k = 0; k < n && rc == AUD_OK; k++) {
        size_t m = (size_t)pos[2 * k + 1];
        char *line = aud_malloc(m + 1);
        cJSON *row = NULL;
        if (line == NULL)
            rc = aud_error_nomem(c->err);
        else if (pread(fd, line, m, (off_t)pos[2 * k]) != (ssize_t)m)
            rc = aud_error_set(c->err, AUD_E_IO, path, 0, 0, "read error");
        else if ((row = cJSON_ParseWithLength(line, m)) == NULL || !cJSON_IsObject(row))
            rc = aud_error_set(c->err, AUD_E_INTERNAL, path, 0, 0,
                               "a waterfall's row is not where the ranks said");
        if (rc == AUD_OK)
            put_row_json(&b, row, k + 1 == n);
        cJSON_Delete(row);
        aud_free(line);
    }
    put(&b, "]", 1);
    close(fd);
    aud_free(pos);
    if (rc == AUD_OK && b.nomem)
        rc = aud_error_nomem(c->err);
    if (rc != AUD_OK) {
        aud_free(b.p);
        return rc;
    }
    b.p[b.len] = '\0';
    *text = b.p;
    *len = b.len;
    return AUD_OK;
}

int aud_run_rows_to_file(const aud_spec *s, size_t n_all)
{
    if (s->outputs.json == NULL && s->outputs.xlsx == NULL)
        return 0;
    return s->explain.rows_file == 1 ||
           (s->explain.rows_file < 0 && n_all > AUD_RUN_ROWS_INLINE_MAX);
}

/* explanations.explained_rows_file: where the rows are, how many, their size and SHA-256. */
static int add_file_block(run_ctx *c, cJSON *ex, size_t n_all, size_t bytes, const char *hex)
{
    cJSON *f = cJSON_AddObjectToObject(ex, "explained_rows_file");
    if (f == NULL || cJSON_AddStringToObject(f, "path", c->rows_name) == NULL ||
        cJSON_AddStringToObject(f, "format", "jsonl") == NULL ||
        aud_json_add_num(f, "rows", (double)n_all) != 0 ||
        aud_json_add_num(f, "bytes", (double)bytes) != 0 ||
        cJSON_AddStringToObject(f, "sha256", hex) == NULL)
        return aud_error_nomem(c->err);
    return AUD_OK;
}

/* The rows into the explained-rows file (created at c->rows_tmp; run.c renames or removes it):
 * by this process, or by the ranks (audit-mpi), and results.json's array of the waterfalls'
 * rows into *text. */
static int rows_to_file(run_ctx *c, cJSON *ex, rows_job *j, char **text, size_t *len)
{
    const aud_run_opts *o = c->opts;
    size_t bytes = 0;
    char hex[65] = "";
    int fd = open(c->rows_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return aud_error_set(c->err, AUD_E_IO, c->rows_tmp, 0, 0, "cannot create: %s",
                             strerror(errno));
    c->rows_file_used = 1;
    int rc = AUD_OK;
    if (c->rows_external) {   /* audit-mpi: the ranks write it (mpi_main.c) */
        if (close(fd) != 0)
            rc = aud_error_set(c->err, AUD_E_IO, c->rows_tmp, 0, 0, "write error: %s",
                               strerror(errno));
        if (rc == AUD_OK && o->rows_write(o->shard_exchange_ctx, c->rows_tmp, 0) != 0)
            rc = aud_error_set(c->err, AUD_E_IO, c->rows_name, 0, 0, "the ranks could not "
                               "write their explained rows into it");
        bytes = (size_t)o->rows->total;
        if (rc == AUD_OK)
            rc = aud_sha256_file(c->rows_tmp, hex, c->err);
        if (rc == AUD_OK)
            rc = why_from_file(c, o->rows, c->rows_tmp, text, len);
        c->rows_external = 0;   /* results.json holds what it shows */
    } else {
        j->compact = 1;
        rc = write_rows_file(j, fd, &bytes, hex);
        if (close(fd) != 0 && rc == AUD_OK)
            rc = aud_error_set(c->err, AUD_E_IO, c->rows_tmp, 0, 0, "write error: %s",
                               strerror(errno));
        j->compact = 0;
        if (rc == AUD_OK)
            rc = format_why(j, text, len);
    }
    snprintf(c->rows_hex, sizeof c->rows_hex, "%s", hex);
    return rc == AUD_OK ? add_file_block(c, ex, j->n_all, bytes, hex) : rc;
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
    size_t n_all = c->rows_external ? c->opts->rows->n_rows : n;
    int to_file = c->rows_tmp != NULL && aud_run_rows_to_file(c->spec, n_all);
    if (c->rows_external && !to_file) {   /* audit-mpi: the ranks write the rows into
                                             results.json (aud_run_rows_shard) */
        c->rows_len = (size_t)c->opts->rows->total + 2;
        return AUD_OK;
    }
    rows_job j = {.c = c, .r = r, .X = X, .rows = rows, .n = n, .n_all = n_all,
                  .probability = r != NULL && aud_run_link_probability(c, r)};
    for (size_t i = 1; !c->rows_external && i < n; i++) {
        j.hi = r->fx[i] > r->fx[j.hi] ? i : j.hi;
        j.lo = r->fx[i] < r->fx[j.lo] ? i : j.lo;
    }
    char *text = NULL;
    int rc = to_file ? rows_to_file(c, ex, &j, &text, &c->rows_len)
                     : format_rows(&j, 1, &text, &c->rows_len);
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

void aud_run_rows_release(aud_run_rows *rows)
{
    aud_free(rows->text);
    aud_free(rows->state);
    aud_free(rows->why);
    if (rows->spilled)
        close(rows->spill_fd);
    memset(rows, 0, sizeof *rows);
}

/* This shard's lines of the rows file into an unlinked temporary file, window by window as
 * the single run writes the file (write_rows_file): a rank holds two windows of text, not the
 * rows' gigabytes (10,000,000 rows on 2 ranks: 3.3 GB each), until rank 0 says where they go
 * (mpi_main.c copies them from the file). */
static int spill_rows(rows_job *j, aud_run_rows *out)
{
    run_ctx *c = j->c;
    const char *dir = getenv("TMPDIR");
    char path[4096];
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    if (snprintf(path, sizeof path, "%s/audit-rows-XXXXXX", dir) >= (int)sizeof path)
        return aud_error_set(c->err, AUD_E_IO, dir, 0, 0, "temporary folder name too long");
    int fd = mkstemp(path);
    if (fd < 0)
        return aud_error_set(c->err, AUD_E_IO, path, 0, 0, "cannot create the rank's "
                             "temporary file of explained rows: %s", strerror(errno));
    (void)unlink(path);   /* gone with the process, however it ends */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);   /* not inherited by a model command */
    out->spilled = 1;
    out->spill_fd = fd;
    int rc = write_rows_file(j, fd, &out->len, NULL);
    if (rc == AUD_E_IO) {   /* the error names the rows file: say which file failed */
        char why[sizeof c->err->msg];
        snprintf(why, sizeof why, "%s", c->err->msg);
        rc = aud_error_set(c->err, AUD_E_IO, dir, 0, 0, "cannot write the rank's temporary "
                           "file of explained rows here: %s", why);
    }
    return rc;
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
    /* C: this shard's rows as text: of results.json, or lines of the rows file, whose
     * waterfalls' rows rank 0 reads back (their slots: aud_run_rows.why) */
    int rc = AUD_OK, to_file = K == 1 && aud_run_rows_to_file(c->spec, s.n_all);
    size_t n_slots = 2 + c->spec->explain.n_show_rows;
    /* per slot: task, offset and length here (why), then offset + 1 in the file and length
     * from this shard (mine), the shards before it and all (the latter kept in out->why) */
    long long *why = to_file ? aud_malloc(7 * n_slots * sizeof *why) : NULL;
    long long *e_mine = why != NULL ? why + 3 * n_slots : NULL;
    long long *e_before = why != NULL ? why + 5 * n_slots : NULL;
    aud_free(out->why);
    out->why = to_file ? aud_calloc(2 * n_slots, sizeof *out->why) : NULL;
    out->n_why = n_slots;
    nomem |= to_file && (why == NULL || out->why == NULL);
    for (size_t k = 0; why != NULL && k < 3 * n_slots; k++)
        why[k] = -1;
    if (!nomem && !bad && K == 1 && c->sx_n > 0) {
        c->id_col = c->spec->explain.id != NULL ? aud_table_find(c->data, c->spec->explain.id)
                                                : -1;
        rows_job j = {.c = c, .r = c->sx_r, .X = c->sx_X, .rows = c->sx_rows, .n = c->sx_n,
                      .hi = (size_t)out->state[s.l.hi + 1], .lo = (size_t)out->state[s.l.lo + 1],
                      .g0 = s.g0, .n_all = s.n_all, .row0 = c->shard_row0,
                      .probability = aud_run_link_probability(c, c->sx_r),
                      .compact = to_file, .why = why};
        rc = to_file ? spill_rows(&j, out) : format_rows(&j, 0, &out->text, &out->len);
    }
    /* D: where each shard's text goes */
    long long m2[2] = {(long long)out->len, nomem || bad || rc != AUD_OK}, b2[2], t2[2];
    if (o->shard_exchange(o->shard_exchange_ctx, m2, b2, t2, 2) != 0)
        bad = 1;
    if (to_file && why != NULL && out->why != NULL) {   /* E: where the waterfalls' lines are
                                                           (each slot: one shard at most) */
        for (size_t k = 0; k < n_slots; k++) {
            e_mine[2 * k] = why[3 * k] >= 0 ? b2[0] + why[3 * k + 1] + 1 : 0;
            e_mine[2 * k + 1] = why[3 * k] >= 0 ? why[3 * k + 2] : 0;
        }
        if (o->shard_exchange(o->shard_exchange_ctx, e_mine, e_before, out->why,
                              2 * n_slots) != 0)
            bad = 1;
    }
    aud_free(why);
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
