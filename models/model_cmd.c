/* model_cmd.c - a model behind a command: see model_cmd_int.h for the protocol. POSIX: fork, execvp,
 * socketpair, poll, waitpid (POSIX.1-2008). */
#define _POSIX_C_SOURCE 200809L
#include "models/model_cmd_int.h"
#include "models/model_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void aud_model_cmd_init(aud_model_cmd *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->batch_rows = AUD_MODEL_CMD_BATCH;
    mc->timeout_s = 30.0;
}

/* "data rows A-B" (0-based, inclusive) of a batch, or "evaluation rows A-B" (an explainer's). */
static const char *rows_text(const aud_model_cmd *mc, size_t first_row, size_t rows, char *buf,
                             size_t size)
{
    snprintf(buf, size, "%s rows %zu-%zu", mc->table != NULL ? "data" : "evaluation", first_row,
             first_row + (rows ? rows - 1 : 0));
    return buf;
}

void aud_model_cmd_strv_free(char **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i] != NULL; i++)
        aud_free(v[i]);
    aud_free(v);
}

int aud_model_cmd_split(const char *text, char sep, char ***out, size_t *n, aud_error *err)
{
    size_t len = strlen(text), cnt = 0;
    char **v = aud_calloc(len / 1 + 2, sizeof *v);
    char *word = aud_malloc(len + 1);
    if (v == NULL || word == NULL) {
        aud_free(v);
        aud_free(word);
        return aud_error_nomem(err);
    }
    size_t i = 0;
    int rc = AUD_OK;
    while (rc == AUD_OK) {
        if (sep == ' ')
            while (text[i] == ' ' || text[i] == '\t')
                i++;
        if (text[i] == '\0')
            break;
        size_t w = 0;
        char quote = 0;
        for (; text[i] != '\0'; i++) {
            char c = text[i];
            if (quote) {
                if (c == quote)
                    quote = 0;
                else
                    word[w++] = c;
            } else if (sep == ' ' && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == sep || (sep == ' ' && c == '\t')) {
                break;
            } else {
                word[w++] = c;
            }
        }
        if (quote) {
            rc = aud_error_set(err, AUD_E_USAGE, "", 0, 0, "unterminated quote in \"%s\"", text);
            break;
        }
        if (sep != ' ' && text[i] == sep)
            i++;
        word[w] = '\0';
        if (w == 0 && sep != ' ') {
            rc = aud_error_set(err, AUD_E_USAGE, "", 0, 0, "empty name in \"%s\"", text);
            break;
        }
        v[cnt] = aud_malloc(w + 1);
        if (v[cnt] == NULL) {
            rc = aud_error_nomem(err);
            break;
        }
        memcpy(v[cnt++], word, w + 1);
    }
    aud_free(word);
    if (rc == AUD_OK && cnt == 0)
        rc = aud_error_set(err, AUD_E_USAGE, "", 0, 0, "empty list \"%s\"", text);
    if (rc != AUD_OK) {
        aud_model_cmd_strv_free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return AUD_OK;
}

/* ---- growing byte buffer ---- */
typedef struct buf { char *p; size_t len, cap; } buf;

static int buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = aud_realloc(b->p, cap);
        if (p == NULL)
            return AUD_E_NOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return AUD_OK;
}

/* CSV field, quoted (RFC 4180) when it holds a comma, quote or line break. */
static int buf_field(buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL)
        return buf_add(b, s, strlen(s));
    int rc = buf_add(b, "\"", 1);
    for (const char *c = s; rc == AUD_OK && *c; c++)
        rc = *c == '"' ? buf_add(b, "\"\"", 2) : buf_add(b, c, 1);
    return rc == AUD_OK ? buf_add(b, "\"", 1) : rc;
}

/* ---- the child process ---- */
typedef struct child { pid_t pid; int in, out; } child;

static void child_kill(child *c)
{
    if (c->in >= 0)
        close(c->in);
    if (c->out >= 0)
        close(c->out);
    c->in = c->out = -1;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        c->pid = -1;
    }
}

static int child_start(child *c, char *const *argv, const char *cwd, aud_error *err)
{
    int in[2], out[2], ex[2];
    c->pid = -1;
    c->in = c->out = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) != 0)
        return aud_error_set(err, AUD_E_IO, argv[0], 0, 0, "socketpair: %s", strerror(errno));
    if (pipe(out) != 0) {
        close(in[0]); close(in[1]);
        return aud_error_set(err, AUD_E_IO, argv[0], 0, 0, "pipe: %s", strerror(errno));
    }
    if (pipe(ex) != 0) {
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        return aud_error_set(err, AUD_E_IO, argv[0], 0, 0, "pipe: %s", strerror(errno));
    }
    fcntl(ex[1], F_SETFD, FD_CLOEXEC);
    fcntl(in[0], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(ex[0]); close(ex[1]);
        return aud_error_set(err, AUD_E_IO, argv[0], 0, 0, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        /* child: async-signal-safe calls only */
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in[1], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(127);
        close(in[1]);
        close(out[1]);
        if (cwd == NULL || chdir(cwd) == 0)
            execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(ex[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(in[1]);
    close(out[1]);
    close(ex[1]);
    int e = 0;
    ssize_t r;
    while ((r = read(ex[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    close(ex[0]);
    c->pid = pid;
    c->in = in[0];
    c->out = out[0];
    if (r == (ssize_t)sizeof e) {
        child_kill(c);
        return aud_error_set(err, AUD_E_IO, argv[0], 0, 0, "model command cannot be started: %s",
                             strerror(e));
    }
    fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
    fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
    return AUD_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* How the child ended, for a message ("exited with status 3", "was killed by signal 9"). */
static void child_status(child *c, char *msg, size_t size)
{
    int st = 0;
    snprintf(msg, size, "closed its output");
    if (c->pid <= 0)
        return;
    pid_t w = waitpid(c->pid, &st, WNOHANG);
    if (w == 0) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        w = waitpid(c->pid, &st, WNOHANG);
    }
    if (w == c->pid) {
        c->pid = -1;
        if (WIFEXITED(st))
            snprintf(msg, size, "exited with status %d", WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            snprintf(msg, size, "was killed by signal %d", WTERMSIG(st));
    }
}

/* Parse one answer line: comma-separated finite numbers. Returns the count, or -1. */
static long parse_line(char *line, double *vals, size_t max)
{
    size_t n = 0;
    char *s = line;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || errno == ERANGE)
            return -1;
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (n < max)
            vals[n] = v;
        n++;
        if (*end == '\0')
            return (long)n;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

/* Wait up to `deadline` for the child to exit (batch protocol, after the end of its output);
 * an error unless it exits 0. */
static int child_wait_exit(aud_model_cmd *mc, child *c, size_t batch_no, size_t first_row,
                           size_t rows, double deadline, aud_error *err)
{
    const char *prog = mc->argv[0];
    char rt[80];
    int st = 0;
    pid_t w;
    for (;;) {
        while ((w = waitpid(c->pid, &st, WNOHANG)) < 0 && errno == EINTR)
            ;
        if (w != 0)
            break;
        if (now_s() >= deadline)
            return aud_error_set(err, AUD_E_DOMAIN, prog, 0, 0,
                                 "model command stalled: did not exit within %g s of batch %zu "
                                 "(%s) after answering it", mc->timeout_s, batch_no,
                                 rows_text(mc, first_row, rows, rt, sizeof rt));
        struct timespec ts = {0, 1000000};   /* 1 ms */
        nanosleep(&ts, NULL);
    }
    c->pid = -1;
    if (w < 0)
        return aud_error_set(err, AUD_E_IO, prog, 0, 0, "waitpid: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return AUD_OK;
    return aud_error_set(err, AUD_E_DOMAIN, prog, 0, 0,
                         "model command %s %d after answering batch %zu (%s)",
                         WIFEXITED(st) ? "exited with status" : "was killed by signal",
                         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), batch_no,
                         rows_text(mc, first_row, rows, rt, sizeof rt));
}

/* One answer line (line->p, without its newline) of the batch: parsed into *pred (allocated
 * at the first line: n_total x *n_cols), *got counted. */
static int take_line(aud_model_cmd *mc, buf *line, size_t first_row, size_t rows, size_t *got,
                     double **pred, size_t *n_cols, size_t n_total, aud_error *err)
{
    const char *prog = mc->argv[0];
    size_t batch_no = mc->n_calls, row = first_row + *got;
    double vals[64];
    char rt[80];
    if (*got == rows)
        return aud_error_set(err, AUD_E_DOMAIN, prog, (long)(*got + 1), 0,
                             "model command printed more than the %zu lines of batch %zu (%s)",
                             rows, batch_no, rows_text(mc, first_row, rows, rt, sizeof rt));
    if (mc->table != NULL)
        aud_table_row_text(mc->table, row, rt, sizeof rt);
    else
        snprintf(rt, sizeof rt, "evaluation row %zu", row);
    long nv = parse_line(line->p ? line->p : (char *)"", vals, 64);
    if (nv < 0 || nv > 64)
        return aud_error_set(err, AUD_E_PARSE, prog, (long)(*got + 1), 0,
                             "model command answer line %zu of batch %zu (%s) is not a list of "
                             "finite numbers: \"%.80s\"", *got + 1, batch_no, rt,
                             line->p ? line->p : "");
    if (*n_cols == 0)
        *n_cols = (size_t)nv;
    else if ((size_t)nv != *n_cols)
        return aud_error_set(err, AUD_E_PARSE, prog, (long)(*got + 1), 0,
                             "model command answer line %zu of batch %zu (%s) has %ld values, "
                             "earlier lines %zu", *got + 1, batch_no, rt, nv, *n_cols);
    if (*pred == NULL && (*pred = aud_calloc(n_total * *n_cols, sizeof **pred)) == NULL)
        return aud_error_nomem(err);
    memcpy(*pred + row * *n_cols, vals, (size_t)nv * sizeof *vals);
    (*got)++;
    line->len = 0;
    if (line->p)
        line->p[0] = '\0';
    return AUD_OK;
}

/* Send one batch (b) and read `rows` answer lines into *pred (grown; *n_cols fixed by the first
 * line of the first batch). Session protocol: done when `rows` lines are read. Batch protocol
 * (the SPEC's): stdin is closed once b is sent, the answer is read to end of file (a last line
 * without its newline counts) and the program must exit 0, all within the timeout. */
static int run_batch(aud_model_cmd *mc, child *c, const buf *b, size_t first_row, size_t rows,
                     double **pred, size_t *n_cols, size_t n_total, aud_error *err)
{
    const char *prog = mc->argv[0];
    size_t batch_no = mc->n_calls;
    size_t sent = 0, got = 0;
    char rt[80];
    int per_batch = !mc->session_protocol, eof = 0;
    buf line = {0};
    double deadline = now_s() + mc->timeout_s;
    int rc = AUD_OK;
    while (rc == AUD_OK && (per_batch ? !eof || c->in >= 0 : got < rows)) {
        struct pollfd p[2];
        nfds_t np = 0;
        int io = -1, oo = -1;
        if (!eof) {
            oo = (int)np;
            p[np].fd = c->out;
            p[np++].events = POLLIN;
        }
        if (c->in >= 0 && sent < b->len) {
            io = (int)np;
            p[np].fd = c->in;
            p[np++].events = POLLOUT;
        }
        double left = deadline - now_s();
        if (left <= 0) {
            rc = aud_error_set(err, AUD_E_DOMAIN, prog, 0, 0,
                               "model command stalled: no complete answer to batch %zu (%s) "
                               "within %g s (%zu of %zu lines read)", batch_no,
                               rows_text(mc, first_row, rows, rt, sizeof rt), mc->timeout_s, got,
                               rows);
            break;
        }
        int pr = poll(p, np, (int)(left * 1000.0) + 1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            rc = aud_error_set(err, AUD_E_IO, prog, 0, 0, "poll: %s", strerror(errno));
            break;
        }
        if (io >= 0 && (p[io].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(c->in, b->p + sent, b->len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                char how[64];
                child_status(c, how, sizeof how);
                rc = aud_error_set(err, AUD_E_DOMAIN, prog, 0, 0,
                                   "model command stopped reading its input (%s) during batch "
                                   "%zu (%s)", how, batch_no,
                                   rows_text(mc, first_row, rows, rt, sizeof rt));
                break;
            }
            if (per_batch && sent == b->len) {   /* end of file on the program's stdin */
                close(c->in);
                c->in = -1;
            }
        }
        if (oo >= 0 && (p[oo].revents & (POLLIN | POLLHUP | POLLERR))) {
            char chunk[65536];
            ssize_t r = read(c->out, chunk, sizeof chunk);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r == 0 && per_batch && line.len > 0)   /* a last line without its newline */
                rc = take_line(mc, &line, first_row, rows, &got, pred, n_cols, n_total, err);
            if (rc == AUD_OK && r <= 0 && (!per_batch || got < rows || r < 0)) {
                char how[64];
                child_status(c, how, sizeof how);
                rc = aud_error_set(err, AUD_E_DOMAIN, prog, 0, 0,
                                   "model command %s after %zu of %zu answer lines of batch %zu "
                                   "(%s)", how, got, rows, batch_no,
                                   rows_text(mc, first_row, rows, rt, sizeof rt));
            }
            if (rc != AUD_OK)
                break;
            if (r == 0) {
                eof = 1;
                continue;
            }
            for (ssize_t k = 0; k < r && rc == AUD_OK; k++) {
                if (chunk[k] != '\n') {
                    rc = buf_add(&line, chunk + k, 1);
                    if (rc != AUD_OK)
                        rc = aud_error_nomem(err);
                    continue;
                }
                rc = take_line(mc, &line, first_row, rows, &got, pred, n_cols, n_total, err);
            }
        }
    }
    /* session: a batch answered in full leaves nothing pending (extra lines show up at the next
     * read) */
    if (rc == AUD_OK && line.len > 0)
        rc = aud_error_set(err, AUD_E_DOMAIN, prog, (long)(rows + 1), 0,
                           "model command printed more than the %zu lines of batch %zu", rows,
                           batch_no);
    aud_free(line.p);
    if (rc == AUD_OK && per_batch)
        rc = child_wait_exit(mc, c, batch_no, first_row, rows, deadline, err);
    return rc;
}

/* After the last batch: stdin closed; the program must exit without printing more. */
static int finish(aud_model_cmd *mc, child *c, aud_error *err)
{
    close(c->in);
    c->in = -1;
    double deadline = now_s() + mc->timeout_s;
    int rc = AUD_OK;
    for (;;) {
        struct pollfd p = {c->out, POLLIN, 0};
        double left = deadline - now_s();
        if (left <= 0) {
            rc = aud_error_set(err, AUD_E_DOMAIN, mc->argv[0], 0, 0,
                               "model command did not exit within %g s of the end of its input",
                               mc->timeout_s);
            break;
        }
        int pr = poll(&p, 1, (int)(left * 1000.0) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char chunk[4096];
        ssize_t r = read(c->out, chunk, sizeof chunk);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r > 0) {
            rc = aud_error_set(err, AUD_E_DOMAIN, mc->argv[0], 0, 0,
                               "model command printed more lines than rows it was sent (after "
                               "batch %zu)", mc->n_calls);
            break;
        }
        break;  /* EOF */
    }
    if (rc != AUD_OK)
        return rc;
    int st = 0;
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
        ;
    c->pid = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return aud_error_set(err, AUD_E_DOMAIN, mc->argv[0], 0, 0,
                             "model command failed at the end of its input (%s %d)",
                             WIFEXITED(st) ? "exit status" : "signal",
                             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return AUD_OK;
}

void aud_model_cmd_free(aud_model_cmd *mc)
{
    if (mc == NULL)
        return;
    if (mc->session != NULL) {
        child_kill(mc->session);
        aud_free(mc->session);
    }
    aud_free(mc->text_cache);
    aud_free(mc->cwd);
    aud_model_cmd_strv_free(mc->argv);
    aud_model_cmd_strv_free(mc->features);
    mc->session = mc->text_cache = NULL;
    mc->cwd = NULL;
    mc->argv = mc->features = NULL;
}

/* Kill the program after an error (the session ends; a later open starts it again). */
static void session_end(aud_model_cmd *mc)
{
    if (mc->session != NULL) {
        child_kill(mc->session);
        aud_free(mc->session);
        mc->session = NULL;
    }
}

int aud_model_cmd_open(aud_model_cmd *mc, aud_error *err)
{
    if (mc->session != NULL)
        return AUD_OK;
    if (mc->argv == NULL || mc->argv[0] == NULL)
        return aud_error_set(err, AUD_E_USAGE, "", 0, 0, "empty model command");
    if (!mc->session_protocol)
        return AUD_OK;   /* batch protocol: each batch starts the program (send_batch) */
    child *c = aud_malloc(sizeof *c);
    if (c == NULL)
        return aud_error_nomem(err);
    int rc = child_start(c, mc->argv, mc->cwd, err);
    if (rc != AUD_OK) {
        aud_free(c);
        return rc;
    }
    mc->session = c;
    return AUD_OK;
}

int aud_model_cmd_close(aud_model_cmd *mc, aud_error *err)
{
    if (mc->session == NULL)
        return AUD_OK;
    int rc = finish(mc, mc->session, err);
    session_end(mc);
    return rc;
}

static int check_budget(const aud_model_cmd *mc, size_t n, aud_error *err)
{
    if (mc->max_rows > 0 && mc->n_rows_sent + n > mc->max_rows)
        return aud_error_set(err, AUD_E_DOMAIN, mc->argv[0], 0, 0,
                             "model command row budget exceeded: %zu rows needed, budget %zu "
                             "(%zu already used)", n, mc->max_rows, mc->n_rows_sent);
    return AUD_OK;
}

/* The header line: the features' names. */
static int put_header(buf *b, char *const *names, const size_t *col, size_t nf)
{
    int rc = AUD_OK;
    for (size_t j = 0; rc == AUD_OK && j < nf; j++) {
        if (j)
            rc = buf_add(b, ",", 1);
        if (rc == AUD_OK)
            rc = buf_field(b, names[col ? col[j] : j]);
    }
    return rc == AUD_OK ? buf_add(b, "\n", 1) : rc;
}

/* Send one built batch and count it; the session ends on an error. */
static int send_batch(aud_model_cmd *mc, const buf *b, size_t r0, size_t rows, double **pred,
                      size_t n_total, aud_error *err)
{
    mc->n_calls++;
    if (!mc->session_protocol) {   /* the SPEC's protocol: one run of the program per batch */
        child c;
        int rc = child_start(&c, mc->argv, mc->cwd, err);
        if (rc != AUD_OK)
            return rc;
        rc = run_batch(mc, &c, b, r0, rows, pred, &mc->n_outputs, n_total, err);
        child_kill(&c);   /* after an error: killed and reaped; else only the pipes closed */
        if (rc == AUD_OK)
            mc->n_rows_sent += rows;
        return rc;
    }
    int rc = run_batch(mc, mc->session, b, r0, rows, pred, &mc->n_outputs, n_total, err);
    if (rc == AUD_OK)
        mc->n_rows_sent += rows;
    else
        session_end(mc);
    return rc;
}

/* A batch's rows are in b (rc: how writing them went): close it (session protocol: an empty
 * line) and send it. */
static int end_batch(aud_model_cmd *mc, buf *b, int rc, size_t r0, size_t rows, double **out,
                     size_t n_total, aud_error *err)
{
    if (rc == AUD_OK && mc->session_protocol)
        rc = buf_add(b, "\n", 1);   /* empty line: end of batch */
    if (rc == AUD_E_NOMEM)
        return aud_error_nomem(err);
    if (rc != AUD_OK)
        return rc;   /* err set by the writer */
    return send_batch(mc, b, r0, rows, out, n_total, err);
}

int aud_model_cmd_predict(aud_model_cmd *mc, const aud_table *t, double **pred, size_t *n_cols,
                          aud_error *err)
{
    *pred = NULL;
    *n_cols = 0;
    if (mc->argv == NULL || mc->argv[0] == NULL)
        return aud_error_set(err, AUD_E_USAGE, "", 0, 0, "empty model command");
    size_t nf = mc->features ? mc->n_features : t->n_cols;
    size_t *col = aud_malloc((nf ? nf : 1) * sizeof *col);
    char **names = aud_malloc((nf ? nf : 1) * sizeof *names);
    if (col == NULL || names == NULL) {
        aud_free(col);
        aud_free(names);
        return aud_error_nomem(err);
    }
    for (size_t j = 0; j < nf; j++) {
        if (mc->features == NULL) {
            col[j] = j;
            names[j] = t->cols[j].name;
            continue;
        }
        long c = aud_table_find(t, mc->features[j]);
        if (c < 0) {
            aud_free(col);
            aud_free(names);
            aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                          "model feature \"%s\" is not a column of the data", mc->features[j]);
            return aud_error_field(err, mc->features[j]);
        }
        col[j] = (size_t)c;
        names[j] = t->cols[c].name;
    }
    int rc = check_budget(mc, t->n_rows, err);
    if (rc == AUD_OK)
        rc = aud_model_cmd_open(mc, err);
    mc->table = t;
    buf b = {0};
    char cell[64];
    size_t bsz = mc->batch_rows ? mc->batch_rows : 1000;
    mc->n_outputs = 0;
    for (size_t r0 = 0; rc == AUD_OK && r0 < t->n_rows; r0 += bsz) {
        size_t rows = t->n_rows - r0 < bsz ? t->n_rows - r0 : bsz;
        b.len = 0;
        rc = put_header(&b, names, NULL, nf);
        for (size_t r = r0; rc == AUD_OK && r < r0 + rows; r++) {
            for (size_t j = 0; rc == AUD_OK && j < nf; j++) {
                if (j)
                    rc = buf_add(&b, ",", 1);
                const aud_column *cl = &t->cols[col[j]];
                if (rc == AUD_OK && cl->type == AUD_COL_CATEGORICAL) {
                    int32_t code = cl->codes[r];
                    rc = code < 0 ? AUD_OK : buf_field(&b, cl->levels[code]);
                } else if (rc == AUD_OK) {
                    rc = buf_field(&b, aud_table_cell_text(t, r, col[j], cell, sizeof cell));
                }
            }
            if (rc == AUD_OK)
                rc = buf_add(&b, "\n", 1);
        }
        rc = end_batch(mc, &b, rc, r0, rows, pred, t->n_rows, err);
    }
    if (rc == AUD_OK)
        rc = aud_model_cmd_close(mc, err);
    mc->table = NULL;
    session_end(mc);
    *n_cols = mc->n_outputs;
    if (rc == AUD_OK && t->n_rows == 0)
        *n_cols = 1;
    aud_free(b.p);
    aud_free(col);
    aud_free(names);
    if (rc != AUD_OK) {
        aud_free(*pred);
        *pred = NULL;
        *n_cols = 0;
    }
    return rc;
}

/* ---- numbers as text, cached: the rows of an explanation repeat a few values per feature ---- */
#define CACHE_SLOTS 512
typedef struct cache_slot { uint64_t bits; uint8_t len, used; char txt[30]; } cache_slot;

static size_t slot_of(uint64_t k)
{
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ULL;
    return (size_t)(k >> 55) & (CACHE_SLOTS - 1);
}

static int put_number(buf *b, cache_slot *cache, double v)
{
    if (isnan(v))
        return AUD_OK;   /* missing: empty field */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    cache_slot *s = &cache[slot_of(bits)];
    if (!s->used || s->bits != bits) {
        int n = snprintf(s->txt, sizeof s->txt, "%.17g", v);
        s->len = (uint8_t)(n > 0 && n < (int)sizeof s->txt ? n : 0);
        s->bits = bits;
        s->used = 1;
    }
    return buf_add(b, s->txt, s->len);
}

/* A text feature's value: the code of its category (text_feature), written as the category. */
static int put_category(buf *b, const aud_prep *p, double code, aud_error *err)
{
    if (!(code >= 0 && code < (double)p->n_cats) || code != floor(code))
        return aud_error_set(err, AUD_E_INTERNAL, "", 0, 0,
                             "model command: %g is not a category code of a text feature", code);
    return buf_field(b, p->cat_text[(size_t)code]) == AUD_OK ? AUD_OK : aud_error_nomem(err);
}

int aud_model_cmd_eval(aud_model_cmd *mc, const double *X, size_t n, double **out,
                       aud_error *err)
{
    size_t nf = mc->n_features;
    if (mc->features == NULL || nf == 0)
        return aud_error_set(err, AUD_E_USAGE, "", 0, 0, "model command without features");
    if (*out != NULL && mc->n_outputs == 0)
        return aud_error_set(err, AUD_E_INTERNAL, "", 0, 0, "model command: outputs unknown");
    int rc = check_budget(mc, n, err);
    if (rc == AUD_OK)
        rc = aud_model_cmd_open(mc, err);
    if (rc != AUD_OK) {
        session_end(mc);
        return rc;
    }
    if (mc->text_cache == NULL) {
        mc->text_cache = aud_calloc(nf * CACHE_SLOTS, sizeof(cache_slot));
        if (mc->text_cache == NULL)
            return aud_error_nomem(err);
    }
    cache_slot *cache = mc->text_cache;
    const aud_prep *prep = mc->prep;
    int own = *out == NULL;
    buf b = {0};
    size_t bsz = mc->batch_rows ? mc->batch_rows : 1000;
    for (size_t r0 = 0; rc == AUD_OK && r0 < n; r0 += bsz) {
        size_t rows = n - r0 < bsz ? n - r0 : bsz;
        b.len = 0;
        rc = put_header(&b, mc->features, NULL, nf);
        for (size_t r = r0; rc == AUD_OK && r < r0 + rows; r++) {
            const double *x = X + r * nf;
            for (size_t j = 0; rc == AUD_OK && j < nf; j++) {
                if (j)
                    rc = buf_add(&b, ",", 1);
                if (rc == AUD_OK && prep != NULL && prep[j].cat_text != NULL && !isnan(x[j]))
                    rc = put_category(&b, &prep[j], x[j], err);
                else if (rc == AUD_OK)
                    rc = put_number(&b, cache + j * CACHE_SLOTS, x[j]);
            }
            if (rc == AUD_OK)
                rc = buf_add(&b, "\n", 1);
        }
        rc = end_batch(mc, &b, rc, r0, rows, out, n, err);
    }
    aud_free(b.p);
    if (rc != AUD_OK) {
        session_end(mc);
        if (own) {
            aud_free(*out);
            *out = NULL;
        }
    }
    return rc;
}

int aud_model_cmd_add_column(aud_model_cmd *mc, aud_table *t, const char *name, aud_error *err)
{
    if (aud_table_find(t, name) >= 0)
        return aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                             "the data already has a column \"%s\"", name);
    double *pred = NULL;
    size_t n_cols = 0;
    int rc = aud_model_cmd_predict(mc, t, &pred, &n_cols, err);
    if (rc != AUD_OK)
        return rc;
    if (n_cols != 1) {
        aud_free(pred);
        return aud_error_set(err, AUD_E_UNSUPPORTED, mc->argv[0], 0, 0,
                             "model command answers %zu values per row; one score is needed",
                             n_cols);
    }
    aud_column *cols = aud_realloc(t->cols, (t->n_cols + 1) * sizeof *cols);
    char *nm = aud_malloc(strlen(name) + 1);
    if (cols == NULL || nm == NULL) {
        if (cols != NULL)
            t->cols = cols;
        aud_free(nm);
        aud_free(pred);
        return aud_error_nomem(err);
    }
    t->cols = cols;
    memcpy(nm, name, strlen(name) + 1);
    aud_column *c = &cols[t->n_cols++];
    memset(c, 0, sizeof *c);
    c->name = nm;
    c->type = AUD_COL_NUMERIC;
    c->num = pred;
    return AUD_OK;
}

/* ---- the command as an aud_model ---- */

aud_model_cmd *aud_model_get_cmd(const aud_model *m)
{
    return m != NULL && m->kind == AUD_MODEL_COMMAND ? m->cmd : NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = aud_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* "PROGRAM ARG ..." for the model's objective (provenance, messages). */
static char *join_argv(char *const *argv)
{
    size_t n = 1;
    for (size_t i = 0; argv[i] != NULL; i++)
        n += strlen(argv[i]) + 1;
    char *s = aud_malloc(n);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

typedef struct level_ref { const char *s; size_t i; } level_ref;

static int cmp_level(const void *a, const void *b)
{
    return strcmp(((const level_ref *)a)->s, ((const level_ref *)b)->s);
}

/* Append the levels of column c that p lacks (codes n_cats, n_cats + 1, ...; the codes already
 * given keep their meaning) and sort p->order by text. */
static int add_levels(aud_prep *p, const aud_column *c, aud_error *err)
{
    size_t n = p->n_cats, cap = n + c->n_levels + 1;
    char **text = aud_realloc(p->cat_text, cap * sizeof *text);
    if (text != NULL)
        p->cat_text = text;
    double *values = text ? aud_realloc(p->values, cap * sizeof *values) : NULL;
    if (values != NULL)
        p->values = values;
    size_t *order = values ? aud_realloc(p->order, cap * sizeof *order) : NULL;
    if (order != NULL)
        p->order = order;
    level_ref *ref = order ? aud_malloc(cap * sizeof *ref) : NULL;
    if (ref == NULL)
        return aud_error_nomem(err);
    int rc = AUD_OK;
    for (size_t k = 0; rc == AUD_OK && k < c->n_levels; k++) {
        if (n > 0 && aud_prep_find_text(p, c->levels[k]) >= 0)
            continue;
        p->cat_text[n] = dup_str(c->levels[k]);
        rc = p->cat_text[n] == NULL ? aud_error_nomem(err) : AUD_OK;
        if (rc == AUD_OK) {
            p->values[n] = (double)n;
            n++;
        }
    }
    p->n_cats = n;
    for (size_t k = 0; k < n; k++)
        ref[k] = (level_ref){p->cat_text[k], k};
    qsort(ref, n, sizeof *ref, cmp_level);
    for (size_t k = 0; k < n; k++)
        p->order[k] = ref[k].i;
    aud_free(ref);
    return rc;
}

/* Model feature j reads text column c: a categorical stage whose value is the category's index
 * in a copy of the column's dictionary (the explainers carry that code; aud_model_cmd_eval writes
 * the category's text back). Missing cells are NaN (an empty field). */
static int text_feature(aud_model *m, size_t j, const aud_column *c, aud_error *err)
{
    if (m->prep == NULL && (m->prep = aud_calloc(m->n_features + 1, sizeof *m->prep)) == NULL)
        return aud_error_nomem(err);
    aud_prep *p = &m->prep[j];
    p->kind = AUD_PREP_CATEGORICAL;
    p->has_missing = 1;
    p->missing = NAN;
    return add_levels(p, c, err);
}

int aud_model_cmd_add_levels(const aud_model *cm, const aud_table *t, aud_error *err)
{
    if (cm->kind != AUD_MODEL_COMMAND || cm->prep == NULL)
        return AUD_OK;
    aud_model *m = (aud_model *)cm;   /* the dictionaries grow; codes given keep their meaning */
    for (size_t j = 0; j < m->n_features; j++) {
        long c = aud_table_find(t, m->feature_names[j]);
        if (m->prep[j].cat_text == NULL || c < 0 || t->cols[c].type != AUD_COL_CATEGORICAL)
            continue;
        int rc = add_levels(&m->prep[j], &t->cols[c], err);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

int aud_model_from_cmd(aud_model **out, aud_model_cmd *src, const aud_table *t, aud_error *err)
{
    *out = NULL;
    aud_model *m = aud_calloc(1, sizeof *m);
    aud_model_cmd *mc = aud_malloc(sizeof *mc);
    if (m == NULL || mc == NULL) {
        aud_free(m);
        aud_free(mc);
        aud_model_cmd_free(src);
        return aud_error_nomem(err);
    }
    *mc = *src;
    memset(src, 0, sizeof *src);
    m->kind = AUD_MODEL_COMMAND;
    m->cmd = mc;
    m->link = AUD_LINK_IDENTITY;
    m->sigmoid_scale = 1.0;
    m->best_iteration = -1;
    int rc = AUD_OK;
    if (mc->argv == NULL || mc->argv[0] == NULL)
        rc = aud_error_set(err, AUD_E_USAGE, "", 0, 0, "empty model command");
    if (rc == AUD_OK && mc->features == NULL) {   /* every column of the data */
        mc->features = aud_calloc(t->n_cols + 1, sizeof *mc->features);
        rc = mc->features == NULL ? aud_error_nomem(err) : AUD_OK;
        for (size_t j = 0; rc == AUD_OK && j < t->n_cols; j++) {
            mc->features[j] = dup_str(t->cols[j].name);
            rc = mc->features[j] == NULL ? aud_error_nomem(err) : AUD_OK;
        }
        mc->n_features = t->n_cols;
    }
    size_t nf = mc->n_features;
    double *x = NULL, *pred = NULL;
    if (rc == AUD_OK) {
        m->n_features = nf;
        m->format = dup_str("model-command");
        m->objective = join_argv(mc->argv);
        m->feature_names = aud_calloc(nf + 1, sizeof *m->feature_names);
        m->feature_used = aud_malloc(nf + 1);
        x = aud_calloc(nf + 1, sizeof *x);
        rc = m->format && m->objective && m->feature_names && m->feature_used && x
                 ? AUD_OK : aud_error_nomem(err);
    }
    for (size_t j = 0; rc == AUD_OK && j < nf; j++) {
        m->feature_names[j] = dup_str(mc->features[j]);
        m->feature_used[j] = 1;
        if (m->feature_names[j] == NULL) {
            rc = aud_error_nomem(err);
            break;
        }
        long c = aud_table_find(t, mc->features[j]);
        if (c < 0) {
            aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                          "model feature \"%s\" is not a column of the data", mc->features[j]);
            rc = aud_error_field(err, mc->features[j]);
        } else if (t->cols[c].type != AUD_COL_NUMERIC) {
            rc = text_feature(m, j, &t->cols[c], err);
            if (rc == AUD_OK && t->n_rows > 0)
                x[j] = t->cols[c].codes[0] < 0 ? NAN : (double)t->cols[c].codes[0];
        } else if (t->n_rows > 0) {
            x[j] = t->cols[c].num[0];
        }
    }
    if (rc == AUD_OK && t->n_rows == 0)
        rc = aud_error_set(err, AUD_E_SCHEMA, t->path, 0, 0,
                           "no data rows: the model command is asked for the first row to learn "
                           "its number of outputs");
    mc->n_outputs = 0;
    mc->prep = m->prep;
    if (rc == AUD_OK)
        rc = aud_model_cmd_eval(mc, x, 1, &pred, err);   /* the probe */
    if (rc == AUD_OK) {
        m->n_outputs = mc->n_outputs;
        m->base_margin = aud_calloc(m->n_outputs, sizeof *m->base_margin);
        rc = m->base_margin == NULL ? aud_error_nomem(err) : AUD_OK;
    }
    aud_free(x);
    aud_free(pred);
    if (rc != AUD_OK) {
        aud_model_free(m);
        return rc;
    }
    *out = m;
    return AUD_OK;
}

const char *aud_model_cmd_category(const aud_model *m, size_t j, double code)
{
    if (m->kind != AUD_MODEL_COMMAND || m->prep == NULL || j >= m->n_features)
        return NULL;
    const aud_prep *p = &m->prep[j];
    if (p->cat_text == NULL || !(code >= 0 && code < (double)p->n_cats))
        return NULL;
    return p->cat_text[(size_t)code];
}

int aud_model_cmd_predict_bound(const aud_model *m, const aud_table *t, const size_t *col_index,
                                double *out, aud_error *err)
{
    size_t n = t->n_rows, F = m->n_features;
    if (n == 0)
        return AUD_OK;
    double *X = aud_malloc(n * F * sizeof *X);
    if (X == NULL)
        return aud_error_nomem(err);
    aud_model_fill_rows(m, t, col_index, 0, n, X);
    int rc = aud_model_cmd_eval(m->cmd, X, n, &out, err);
    aud_free(X);
    return rc;
}
