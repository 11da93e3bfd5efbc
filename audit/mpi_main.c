/* mpi_main.c - build/audit-mpi (`make MPI=1`, Debian's OpenMPI): `mpirun -n N build/audit-mpi
 * run SPEC [--out DIR] [--threads T] [--created TIME] [--quiet]`. Rank r reads the r-th of N
 * byte ranges of the data file (aud_table_load_csv_range; row offsets and line numbers from
 * MPI_Exscan, the file's rows from MPI_Allreduce) and computes its partial in memory
 * (audit/shard_int.h: as `audit run SPEC --shard r/N`, which reads the whole file), the
 * partials are gathered on rank 0 with MPI collectives (MPI_Gather of their lengths,
 * MPI_Gatherv of their bytes), and rank 0 merges them and writes the outputs once, exactly as
 * `audit merge` (docs/scale-out.md). Exit codes as `audit run`, from rank 0. */
#define _GNU_SOURCE   /* sched_getaffinity, sched_setaffinity: the merge's cores */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: mpirun -n N audit-mpi run SPEC.json [--out DIR] [--threads T] [--created TIME]\n"
    "                                 [--quiet] [--verbose] [--rows-via-rank0]\n"
    "\n"
    "The audit of `audit run SPEC.json` over N MPI ranks: each rank computes the partial of\n"
    "its block of the data rows, rank 0 gathers and merges them and writes the outputs\n"
    "(docs/scale-out.md). --verbose: each rank's steps (wall and CPU seconds) on stderr.\n"
    "--rows-via-rank0: the ranks send their explained rows to rank 0, which writes them,\n"
    "instead of writing them into rank 0's output file themselves (an output folder that\n"
    "the nodes share but that is unsafe for writes from several nodes to one file, e.g. NFS).\n"
    "With explain.rows_file, each rank keeps its lines of the explained-rows file in an\n"
    "unlinked temporary file in $TMPDIR (else /tmp) until rank 0 asks for them: that folder\n"
    "needs room for the rank's share of the file.\n";

/* --verbose: each rank prints every step of its work as the next starts, "audit-mpi: rank R:
 * STEP wall cpu" (wall clock and the process's CPU time, aud_work_now), the MPI steps included
 * ("wait for ranks", "gather", "merge: ..." on rank 0). */
typedef struct stages {
    int         on, rank;
    const char *prefix;   /* "merge: " during rank 0's merge */
    char        name[64];
    aud_work t0;
} stages;

static void stage(stages *s, const char *name)
{
    if (!s->on)
        return;
    aud_work now;
    aud_work_now(&now);
    if (s->name[0] != '\0')
        fprintf(stderr, "audit-mpi: rank %d: %-24s %8.3f s  cpu %8.3f s\n", s->rank, s->name,
                now.wall - s->t0.wall, now.cpu - s->t0.cpu);
    snprintf(s->name, sizeof s->name, "%s", name != NULL ? name : "");
    s->t0 = now;
}

/* aud_run_opts.progress: a step starts (seconds < 0); "total" ends the run */
static void on_progress(void *ctx, const char *step, double seconds)
{
    stages *s = ctx;
    if (seconds >= 0.0 || strcmp(step, "total") == 0)
        return;
    char name[64];
    snprintf(name, sizeof name, "%s%s", s->prefix, step);
    stage(s, name);
}

static int fail(int rank, const aud_error *err)
{
    char msg[1200];
    aud_error_format(err, msg, sizeof msg);
    fprintf(stderr, "audit-mpi: rank %d: %s\n", rank, msg);
    return aud_status_exit_code(err->code);
}

/* Wait until every rank reaches this point without spinning: Open MPI's blocking collectives
 * poll, so a rank that waits for a slower one (or for rank 0's merge) would burn a core the
 * other ranks need when there are more ranks than free cores (`--oversubscribe`). A
 * non-blocking barrier tested every millisecond, sleeping in between, costs nothing while
 * waiting; the blocking collective that follows then finds every rank there. */
static void idle_barrier(void)
{
    MPI_Request rq;
    int done = 0;
    struct timespec ms = {0, 1000000};
    if (MPI_Ibarrier(MPI_COMM_WORLD, &rq) != MPI_SUCCESS)
        return;
    while (MPI_Test(&rq, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nanosleep(&ms, NULL);
}

/* The ranks, and this rank's explained rows (docs/scale-out.md "MPI"). */
typedef struct ranks {
    int rank, size;
    aud_run_rows rows;
    int served;   /* rank 0: rows_write was called */
    int via_rank0;   /* --rows-via-rank0: the other ranks never open rank 0's output file */
} ranks;

/* Wait for a request without spinning (see idle_barrier). */
static int idle_wait(MPI_Request *rq)
{
    int done = 0;
    struct timespec ms = {0, 1000000};
    while (!done) {
        if (MPI_Test(rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (!done)
            nanosleep(&ms, NULL);
    }
    return 0;
}

/* aud_run_opts.shard_exchange: prefix sums over the lower ranks and totals over all. */
static int exchange(void *ctx, const long long *mine, long long *before, long long *total,
                    size_t n)
{
    int rank = ((const ranks *)ctx)->rank;
    if (n == 0)
        return 0;
    idle_barrier();
    if (MPI_Exscan(mine, before, (int)n, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(mine, total, (int)n, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    if (rank == 0)   /* MPI_Exscan leaves rank 0's result undefined */
        memset(before, 0, n * sizeof *before);
    return 0;
}

/* aud_run_opts.rows_scan: the state passes from rank to rank in rank order (each adds its
 * explained rows, in row order: the sums are those of one pass over all rows, bit for bit),
 * then every rank gets the last one's. */
static int rows_scan(void *ctx, double *state, size_t n, void (*step)(void *, double *),
                     void *step_ctx)
{
    const ranks *k = ctx;
    MPI_Request rq;
    int ok = n <= (size_t)INT_MAX;
    long long bad = !ok, worst = 0;
    if (k->rank > 0 && (MPI_Irecv(state, ok ? (int)n : 0, MPI_DOUBLE, k->rank - 1, 77,
                                  MPI_COMM_WORLD, &rq) != MPI_SUCCESS || idle_wait(&rq) != 0))
        bad = 1;
    if (ok)
        step(step_ctx, state);
    if (k->rank + 1 < k->size &&
        (MPI_Isend(state, ok ? (int)n : 0, MPI_DOUBLE, k->rank + 1, 77, MPI_COMM_WORLD,
                   &rq) != MPI_SUCCESS || idle_wait(&rq) != 0))
        bad = 1;
    idle_barrier();
    if (MPI_Bcast(state, ok ? (int)n : 0, MPI_DOUBLE, k->size - 1, MPI_COMM_WORLD) !=
            MPI_SUCCESS ||
        MPI_Allreduce(&bad, &worst, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    return worst == 0 ? 0 : -1;
}

/* Rank 0 to the others while it merges: write your explained rows into `path` at offset `at`
 * (cmd 1), or there is nothing more to write (cmd 0). */
typedef struct rows_request {
    long long cmd, at;
    char path[4200];
} rows_request;

#define ROWS_CHUNK (64 << 20)   /* bytes of one message of the fallback (under INT_MAX) */

/* All n bytes at offset `at` of fd: written from p (out), or read into p. 0, or -1. */
static int pio_all(int fd, char *p, size_t n, long long at, int out)
{
    for (size_t done = 0; done < n;) {
        off_t o = (off_t)(at + (long long)done);
        ssize_t got = out ? pwrite(fd, p + done, n - done, o) : pread(fd, p + done, n - done, o);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

static int pwrite_all(int fd, const char *p, size_t n, long long at)
{
    return pio_all(fd, (char *)p, n, at, 1);
}

/* n bytes of this rank's rows' text from offset off into buf (from memory, or from the file
 * the text was spilled to: aud_run_rows.spilled). 0, or -1 on a read error. */
static int rows_read(const aud_run_rows *w, char *buf, size_t n, size_t off)
{
    if (!w->spilled) {
        memcpy(buf, w->text + off, n);
        return 0;
    }
    return pio_all(w->spill_fd, buf, n, (long long)off, 0);
}

/* This rank's rows' text into fd at `at`: from memory, or from the file the text was spilled
 * to, through a buffer (the spill file is in the rank's $TMPDIR and rank 0's file often on
 * another file system, where copy_file_range fails: one path, always the same). 0, or -1. */
static int rows_put(const aud_run_rows *w, int fd, long long at)
{
    if (!w->spilled)
        return pwrite_all(fd, w->text, w->len, at);
    size_t cap = w->len < ROWS_CHUNK ? w->len : ROWS_CHUNK;
    char *buf = malloc(cap ? cap : 1);
    int rc = buf != NULL ? 0 : -1;
    for (size_t done = 0; rc == 0 && done < w->len;) {
        size_t m = w->len - done < cap ? w->len - done : cap;
        rc = rows_read(w, buf, m, done) == 0 && pwrite_all(fd, buf, m, at + (long long)done) == 0
                 ? 0 : -1;
        done += m;
    }
    free(buf);
    return rc;
}

/* Every rank: its rows' text into path at req->at + its offset, with pwrite when it can open
 * the file (a file system shared with rank 0), else sent to rank 0 in chunks, which writes
 * them. 0 on every rank when all were written, else -1. */
static int write_rows(ranks *k, const rows_request *req)
{
    const aud_run_rows *w = &k->rows;
    int fd = k->via_rank0 && k->rank != 0 ? -1 : open(req->path, O_WRONLY);
    int opened = fd >= 0;
    long long bad = 0, worst = 0;
    int *opens = k->rank == 0 ? calloc((size_t)k->size, sizeof *opens) : NULL;
    MPI_Gather(&opened, 1, MPI_INT, opens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (opened && rows_put(w, fd, req->at + w->at) != 0)
        bad = 1;
    if (k->rank == 0 && opens == NULL)
        bad = 1;
    for (int r = 1; k->rank == 0 && opens != NULL && r < k->size; r++) {   /* the fallback */
        if (opens[r])
            continue;
        long long head[2];   /* its offset and length */
        char *buf = malloc(ROWS_CHUNK);
        MPI_Recv(head, 2, MPI_LONG_LONG, r, 78, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (long long done = 0; done < head[1];) {
            int m = head[1] - done < ROWS_CHUNK ? (int)(head[1] - done) : ROWS_CHUNK;
            MPI_Recv(buf != NULL ? buf : (char *)&m, buf != NULL ? m : 0, MPI_CHAR, r, 79,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (buf == NULL || !opened ||
                pwrite_all(fd, buf, (size_t)m, req->at + head[0] + done) != 0)
                bad = 1;
            done += m;
        }
        free(buf);
    }
    if (k->rank != 0 && !opened) {   /* every message rank 0 expects is sent: a chunk that
                                        cannot be read goes empty, and the run fails */
        long long head[2] = {w->at, (long long)w->len};
        char *buf = malloc(ROWS_CHUNK);
        MPI_Send(head, 2, MPI_LONG_LONG, 0, 78, MPI_COMM_WORLD);
        for (size_t done = 0; done < w->len;) {
            int m = w->len - done < ROWS_CHUNK ? (int)(w->len - done) : ROWS_CHUNK;
            int ok = buf != NULL && rows_read(w, buf, (size_t)m, done) == 0;
            bad |= !ok;
            MPI_Send(ok ? buf : (char *)head, ok ? m : 0, MPI_CHAR, 0, 79, MPI_COMM_WORLD);
            done += (size_t)m;
        }
        free(buf);
    }
    if (opened && close(fd) != 0)
        bad = 1;
    free(opens);
    idle_barrier();
    if (MPI_Allreduce(&bad, &worst, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    return worst == 0 ? 0 : -1;
}

/* aud_run_opts.rows_write, on rank 0 during its merge: the other ranks wait in serve_rows. */
static int rows_write(void *ctx, const char *path, long long at)
{
    ranks *k = ctx;
    rows_request req;
    memset(&req, 0, sizeof req);
    req.cmd = 1;
    req.at = at;
    if (k->served || snprintf(req.path, sizeof req.path, "%s", path) >= (int)sizeof req.path)
        return -1;
    k->served = 1;
    idle_barrier();
    MPI_Bcast(&req, (int)sizeof req, MPI_BYTE, 0, MPI_COMM_WORLD);
    return write_rows(k, &req);
}

/* The other ranks during rank 0's merge: write their rows when asked, until told it is over
 * (rank 0 sends cmd 0 after its merge, whether it asked or not). */
static void serve_rows(ranks *k)
{
    rows_request req;
    do {
        idle_barrier();
        memset(&req, 0, sizeof req);
        if (MPI_Bcast(&req, (int)sizeof req, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return;
        if (req.cmd == 1)
            (void)write_rows(k, &req);
    } while (req.cmd != 0);
}

static void end_rows(void)
{
    rows_request req;
    memset(&req, 0, sizeof req);
    idle_barrier();
    MPI_Bcast(&req, (int)sizeof req, MPI_BYTE, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    int rank = 0, size = 1;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* the ranks on rank 0's machine: they wait while it merges, so the merge may use their
     * threads too */
    int local = 1;
    MPI_Comm node;
    cpu_set_t cores, node_cores;   /* mpirun binds each rank to its cores: the merge gets all */
    CPU_ZERO(&cores);
    CPU_ZERO(&node_cores);
    int have_cores = sched_getaffinity(0, sizeof cores, &cores) == 0;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        int ok = have_cores, all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, node);
        int words = (int)(sizeof cores / sizeof(unsigned long));
        if (all_ok && MPI_Allreduce(&cores, &node_cores, words, MPI_UNSIGNED_LONG, MPI_BOR,
                                    node) != MPI_SUCCESS)
            all_ok = 0;
        have_cores = all_ok;
        MPI_Comm_free(&node);
    }
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    aud_global_init();
    aud_run_opts o = {0};
    int quiet = 0, code = 0, via_rank0 = 0;
    stages st;
    memset(&st, 0, sizeof st);
    st.rank = rank;
    st.prefix = "";
    if (argc < 3 || strcmp(argv[1], "run") != 0) {
        if (rank == 0)
            fputs(usage_text, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        MPI_Finalize();
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    o.spec_path = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            st.on = 1;
        } else if (strcmp(a, "--rows-via-rank0") == 0) {
            via_rank0 = 1;
        } else if (v != NULL && strcmp(a, "--out") == 0) {
            o.out_dir = v;
            i++;
        } else if (v != NULL && strcmp(a, "--created") == 0) {
            o.created = v;
            i++;
        } else if (v != NULL && strcmp(a, "--threads") == 0 && atoi(v) > 0) {
            o.threads = atoi(v);
            i++;
        } else {
            if (rank == 0)
                fprintf(stderr, "audit-mpi: unknown or incomplete option '%s'\n%s", a,
                        usage_text);
            MPI_Finalize();
            return 2;
        }
    }
    /* every rank: the partial of its shard, in memory */
    char *text = NULL;
    aud_error err;
    aud_error_clear(&err);
    o.shard_count = size;
    o.shard_index = rank;
    o.partial_text = &text;
    o.shard_exchange = exchange;   /* each rank reads its byte range of the data file */
    ranks rk;
    memset(&rk, 0, sizeof rk);
    rk.rank = rank;
    rk.size = size;
    rk.via_rank0 = via_rank0;
    o.shard_exchange_ctx = &rk;
    o.rows_scan = rows_scan;   /* the explained rows stay on the ranks (audit/run_rows.c) */
    o.rows = &rk.rows;
    if (st.on) {
        aud_work_enable();
        o.progress = on_progress;
        o.progress_ctx = &st;
    }
    aud_run_outcome res = {0};
    int rc = aud_run(&o, &res, &err);
    if (rc != AUD_OK)
        code = fail(rank, &err);
    stage(&st, "wait for ranks");
    int worst = 0;   /* every rank learns whether one failed: then none goes on */
    idle_barrier();
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst != 0) {
        aud_free(text);
        aud_run_rows_release(&rk.rows);
        idle_barrier();
        MPI_Finalize();
        return rank == 0 ? worst : code;
    }
    /* gather the partials on rank 0 */
    stage(&st, "gather");
    long long len = (long long)strlen(text) + 1;
    long long *lens = rank == 0 ? calloc((size_t)size, sizeof *lens) : NULL;
    MPI_Gather(&len, 1, MPI_LONG_LONG, lens, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    int *counts = NULL, *displs = NULL;
    char *all = NULL;
    int too_big = 0;
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        displs = calloc((size_t)size, sizeof *displs);
        long long total = 0;
        for (int r = 0; r < size; r++)
            total += lens[r];
        too_big = total > 2147483647LL;   /* MPI_Gatherv counts are int */
        all = too_big ? NULL : malloc((size_t)total);
        for (int r = 0, d = 0; r < size && all != NULL; r++) {
            counts[r] = (int)lens[r];
            displs[r] = d;
            d += counts[r];
        }
        if (all == NULL) {
            fprintf(stderr, "audit-mpi: the partials (%lld bytes) cannot be gathered%s\n",
                    total, too_big ? ": over 2 GiB; write partials with `audit run --shard` and "
                                     "`audit merge` them" : ": no memory");
            code = 3;
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int gathered = code == 0;   /* then rank 0 merges, the others serve_rows */
    if (code == 0)
        MPI_Gatherv(text, (int)len, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
    aud_free(text);
    if (rank == 0 && code == 0) {   /* merge and write the outputs once */
        const char **texts = calloc((size_t)size, sizeof *texts);
        char **names = calloc((size_t)size, sizeof *names);
        for (int r = 0; texts != NULL && names != NULL && r < size; r++) {
            texts[r] = all + displs[r];
            names[r] = malloc(32);
            if (names[r] != NULL)
                snprintf(names[r], 32, "rank-%d", r);
        }
        aud_run_opts m = {0};
        m.out_dir = o.out_dir;
        m.threads = o.threads * local;   /* 0 (the spec's or every core) stays 0 */
        if (have_cores)   /* the merge's threads inherit this thread's cores */
            sched_setaffinity(0, sizeof node_cores, &node_cores);
        m.created = o.created;
        m.merge_parts = (const char *const *)names;
        m.merge_texts = texts;
        m.rows = &rk.rows;   /* results.json's explained rows: written by every rank */
        m.rows_write = rows_write;
        m.shard_exchange_ctx = &rk;
        m.n_merge_parts = (size_t)size;
        m.progress = o.progress;
        m.progress_ctx = o.progress_ctx;
        st.prefix = "merge: ";
        aud_error_clear(&err);
        memset(&res, 0, sizeof res);
        rc = texts != NULL && names != NULL ? aud_run(&m, &res, &err) : AUD_E_NOMEM;
        if (rc != AUD_OK)
            code = fail(rank, &err);
        else if (res.n_failed > 0)
            code = 1;
        if (rc == AUD_OK && !quiet)
            fprintf(stderr, "audit-mpi: %d ranks; verdict: %s (%zu of %zu checks failed); "
                    "results in %s\n", size, res.n_failed ? "FAIL" : "PASS", res.n_failed,
                    res.n_checks, res.results_path);
        for (int r = 0; names != NULL && r < size; r++)
            free(names[r]);
        free(names);
        free(texts);
    }
    stage(&st, rank == 0 ? "finalize" : "wait for rank 0's merge");
    if (gathered) {
        if (rank == 0)
            end_rows();   /* the others write their rows when asked, until this */
        else
            serve_rows(&rk);
    }
    aud_run_rows_release(&rk.rows);
    idle_barrier();   /* the other ranks wait for rank 0's merge asleep */
    stage(&st, NULL);
    free(all);
    free(counts);
    free(displs);
    free(lens);
    MPI_Finalize();
    return rank == 0 ? code : 0;
}
