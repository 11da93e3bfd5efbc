/* test_parallel.c - core/parallel.c: jobs on threads of their own from workers kept between runs
 * (aud_run_jobs), the work accounting of --verbose (what threads beside the main one add,
 * aud_thread_start, and the jobs they run themselves; measured in thread CPU time, which a loaded
 * machine does not change), and units of work from a shared counter (aud_run_units). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/aud.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Spin until this thread has used s more seconds of CPU. */
static void burn(double s)
{
    double t0 = thread_cpu();
    volatile uint64_t x = 1;
    while (thread_cpu() - t0 < s)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
}

static void *burn_job(void *arg)
{
    burn(*(const double *)arg);
    return NULL;
}

typedef struct side {
    double outside;   /* seconds outside jobs */
    double in_jobs;   /* seconds of each of two jobs it runs (0: none) */
} side;

static void *side_main(void *arg)
{
    const side *s = arg;
    burn(s->outside);
    if (s->in_jobs > 0) {   /* job 0 on this thread, job 1 on a new one */
        double jobs[2] = {s->in_jobs, s->in_jobs};
        aud_run_jobs(jobs, 2, sizeof jobs[0], burn_job);
    }
    return NULL;
}

/* Two side threads of 0.05 s outside jobs each, one of them also running two jobs of 0.04 s
 * (one on itself): side_max is the longest thread's own time outside jobs (about 0.05 s), not
 * the sum of the two (0.10 s) nor that thread's whole time (0.09 s), and its jobs count as
 * parallel work. */
static void test_side_threads_longest_not_sum(void **state)
{
    (void)state;
    aud_work_enable();
    aud_work w0, w1;
    aud_work_now(&w0);
    assert_true(w0.side_max == 0.0);
    side a = {0.05, 0.0}, b = {0.05, 0.04};
    pthread_t ta, tb;
    assert_int_equal(aud_thread_start(&ta, side_main, &a), 0);
    assert_int_equal(aud_thread_start(&tb, side_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    aud_work_now(&w1);
    assert_true(w1.side_max >= 0.05);
    assert_true(w1.side_max < 0.075);
    assert_true(w1.parallel - w0.parallel >= 0.08);   /* both jobs, the one on tb included */
    assert_true(w1.serial - w0.serial < 0.02);         /* the main thread only waited */
}

/* A thread that cannot be counted still runs: aud_thread_start passes fn its argument and
 * pthread_join returns fn's result. */
static void *echo(void *arg)
{
    return arg;
}

static void test_thread_start_runs_fn(void **state)
{
    (void)state;
    int x = 7;
    pthread_t th;
    void *got = NULL;
    assert_int_equal(aud_thread_start(&th, echo, &x), 0);
    pthread_join(th, &got);
    assert_ptr_equal(got, &x);
    aud_alloc_fail_after(1);   /* its wrapper cannot be allocated: nothing starts */
    assert_int_equal(aud_thread_start(&th, echo, &x), -1);
    aud_alloc_fail_after(0);
}

/* ---- jobs on workers kept between runs (aud_run_jobs) ---------------------------------------- */

enum { PARENTS = 6, KIDS = 3 };

typedef struct meet {
    atomic_int parents, kids;   /* jobs arrived */
    atomic_int timed_out;
} meet;

typedef struct kid_job {
    meet     *m;
    pthread_t self;
} kid_job;

typedef struct parent_job {
    meet     *m;
    pthread_t self;
    kid_job   kids[KIDS];
} parent_job;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Arrive, then wait until `want` jobs have: only jobs running at the same time, each on a
 * thread of its own, can all get past (10 s at most, then the test fails). */
static void rendezvous(atomic_int *arrived, int want, atomic_int *timed_out)
{
    atomic_fetch_add(arrived, 1);
    double end = mono() + 10.0;
    while (atomic_load(arrived) < want) {
        if (mono() > end) {
            atomic_store(timed_out, 1);
            return;
        }
        sched_yield();
    }
}

static void *kid_main(void *arg)
{
    kid_job *k = arg;
    k->self = pthread_self();
    rendezvous(&k->m->kids, PARENTS * KIDS, &k->m->timed_out);
    return NULL;
}

static void *parent_main(void *arg)
{
    parent_job *p = arg;
    p->self = pthread_self();
    rendezvous(&p->m->parents, PARENTS, &p->m->timed_out);
    for (int i = 0; i < KIDS; i++)
        p->kids[i] = (kid_job){.m = p->m};
    aud_run_jobs(p->kids, KIDS, sizeof p->kids[0], kid_main);
    return NULL;
}

static long threads_now(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return n;
}

/* Six jobs that each run three jobs of their own: all 6 and then all 18 must be running at the
 * same time to get past their meeting points, so each job has a thread of its own, nested runs
 * included (a run that waited for a busy worker would never end). Within a run the threads are
 * distinct, and job 0 is the caller's. The second and third rounds start no thread: the
 * workers of the first wait for them. */
static void test_jobs_each_on_a_thread_of_their_own(void **state)
{
    (void)state;
    long after_first = 0;
    for (int round = 0; round < 3; round++) {
        meet m;
        atomic_init(&m.parents, 0);
        atomic_init(&m.kids, 0);
        atomic_init(&m.timed_out, 0);
        parent_job jobs[PARENTS];
        for (int i = 0; i < PARENTS; i++)
            jobs[i] = (parent_job){.m = &m};
        aud_run_jobs(jobs, PARENTS, sizeof jobs[0], parent_main);
        assert_int_equal(atomic_load(&m.timed_out), 0);
        assert_int_equal(atomic_load(&m.kids), PARENTS * KIDS);
        assert_true(pthread_equal(jobs[0].self, pthread_self()));
        for (int i = 0; i < PARENTS; i++) {
            for (int j = i + 1; j < PARENTS; j++)
                assert_false(pthread_equal(jobs[i].self, jobs[j].self));
            assert_true(pthread_equal(jobs[i].kids[0].self, jobs[i].self));
            for (int a = 0; a < KIDS; a++)
                for (int b = a + 1; b < KIDS; b++)
                    assert_false(pthread_equal(jobs[i].kids[a].self, jobs[i].kids[b].self));
        }
        long now = threads_now();
        assert_true(now >= PARENTS * KIDS);   /* the caller and 17 workers at least */
        if (round == 0)
            after_first = now;
        else
            assert_int_equal(now, after_first);
    }
}

typedef struct count_job {
    atomic_int *runs;
    int         ran;
} count_job;

static void *count_main(void *arg)
{
    count_job *j = arg;
    j->ran++;
    atomic_fetch_add(j->runs, 1);
    return NULL;
}

/* Every job runs exactly once whichever allocation of the run fails (its workers' list, a new
 * worker): the jobs left run on the calling thread. Each run has more jobs than there are idle
 * workers, so it starts workers, the k-th allocation failing. */
static void test_jobs_run_once_when_memory_fails(void **state)
{
    (void)state;
    enum { MAX_N = 100 };
    for (long fail = 1; fail <= 6; fail++) {
        int n = 40 + 10 * (int)fail;
        atomic_int runs;
        atomic_init(&runs, 0);
        count_job jobs[MAX_N];
        for (int i = 0; i < n; i++)
            jobs[i] = (count_job){&runs, 0};
        aud_alloc_fail_after(fail);
        aud_run_jobs(jobs, (size_t)n, sizeof jobs[0], count_main);
        aud_alloc_fail_after(0);
        assert_int_equal(atomic_load(&runs), n);
        for (int i = 0; i < n; i++)
            assert_int_equal(jobs[i].ran, 1);
    }
}

/* ---- units from a shared counter (aud_run_units) ------------------------------------------------ */

typedef struct par_probe {
    size_t n, grain;
    unsigned char *hits;       /* times each row was run */
    size_t *unit_end;          /* per unit: its end, at the index of its first row */
    size_t fail_from;          /* rows from here fail (SIZE_MAX: none) */
    double last_progress;
    int progress_down;         /* progress went backwards */
    int progress_calls;
} par_probe;

static void *probe_ws_new(void *ctx)
{
    (void)ctx;
    return malloc(16);
}

static void probe_ws_free(void *ws)
{
    free(ws);
}

static int probe_run(void *ctx, void *ws, size_t begin, size_t end, aud_error *err)
{
    par_probe *p = ctx;
    assert_non_null(ws);
    p->unit_end[begin] = end;   /* each unit's own slot: no two threads write one */
    for (size_t i = begin; i < end; i++) {
        if (i >= p->fail_from)
            return aud_error_set(err, AUD_E_DOMAIN, NULL, 0, 0, "row %zu failed", i);
        p->hits[i]++;
    }
    return AUD_OK;
}

static void probe_progress(void *ctx, double done)
{
    par_probe *p = ctx;
    if (done < p->last_progress)
        p->progress_down = 1;
    p->last_progress = done;
    p->progress_calls++;
}

/* Every row runs exactly once, in units of whole grains, whatever the threads and row count;
 * progress (on the calling thread) only grows and reaches 1; with failing rows the error of
 * the failing unit nearest row 0 is returned, every row before it having run. */
static void test_units_tile_and_fail_in_order(void **state)
{
    (void)state;
    static const size_t ns[] = {0, 1, 7, 64, 65, 1000, 10007};
    static const size_t grains[] = {0, 1, 64};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        for (size_t g = 0; g < sizeof grains / sizeof *grains; g++) {
            for (int threads = 1; threads <= 9; threads += 2) {
                size_t n = ns[a];
                par_probe p = {.n = n, .grain = grains[g] ? grains[g] : 1,
                               .hits = calloc(n + 1, 1),
                               .unit_end = calloc(n + 1, sizeof(size_t)),
                               .fail_from = SIZE_MAX};
                aud_units par = {probe_ws_new, probe_ws_free, probe_run, &p, grains[g],
                                 probe_progress, &p};
                aud_error err;
                aud_error_clear(&err);
                assert_int_equal(aud_run_units(&par, n, threads, &err), AUD_OK);
                for (size_t i = 0; i < n; i++)
                    assert_int_equal(p.hits[i], 1);
                /* the units tile [0, n): all of one size, whole grains (the last may be
                 * shorter), about 32 per thread - at most n / (32 threads) rounded up to
                 * whole grains */
                size_t T = (size_t)threads, gr = p.grain;
                size_t cap = ((n + gr - 1) / gr + T * 32 - 1) / (T * 32) * gr;
                size_t size = n > 0 ? p.unit_end[0] : 0;
                assert_true(size <= (cap > gr ? cap : gr));
                if (n > size)
                    assert_int_equal(size % gr, 0);
                for (size_t b = 0; b < n; b = p.unit_end[b]) {
                    assert_true(p.unit_end[b] > b);
                    assert_int_equal(p.unit_end[b], b + size < n ? b + size : n);
                }
                assert_false(p.progress_down);
                if (n > 0) {   /* reported at the end, whatever units the calling thread took */
                    assert_true(p.progress_calls > 0);
                    assert_true(p.last_progress == 1.0);
                }
                if (n >= 1000) {   /* failures from row 700 on: the first failing unit's error */
                    memset(p.hits, 0, n);
                    p.fail_from = 700;
                    aud_error_clear(&err);
                    assert_int_equal(aud_run_units(&par, n, threads, &err), AUD_E_DOMAIN);
                    assert_string_equal(err.msg, "row 700 failed");
                    for (size_t i = 0; i < 700; i++)
                        assert_int_equal(p.hits[i], 1);
                }
                free(p.hits);
                free(p.unit_end);
            }
        }
    }
}

/* ---- the 16-thread bound of units (aud_units_makespan, aud_work's units_cpu / units_t16) ---- */

/* Deterministic: units in order to the first free worker. */
static void test_makespan_greedy_in_order(void **state)
{
    (void)state;
    /* 10 columns (unit 1 item each) on 16 workers: the longest column */
    double col[10] = {0.05, 0.06, 0.09, 0.05, 0.04, 0.05, 0.06, 0.05, 0.05, 0.07};
    assert_float_equal(aud_units_makespan(col, 10, 1, 10, 1, 16), 0.09, 1e-15);
    /* 3 workers, in order: w0 0.05 +0.05, w1 0.06 +0.04, w2 0.09 ... */
    double three[5] = {0.05, 0.06, 0.09, 0.05, 0.04};
    assert_float_equal(aud_units_makespan(three, 5, 1, 5, 1, 3), 0.10, 1e-15);
    /* one worker: the sum */
    assert_float_equal(aud_units_makespan(col, 10, 1, 10, 1, 1), 0.57, 1e-12);
    /* 2 measured units of 100 items (1.0 s each) cut into 16-item units: 13 units, spread
     * evenly (the one over both halves gets 4/100 of the first, 12/100 of the second), so on
     * 16 workers the longest is 0.16 s */
    double two[2] = {1.0, 1.0};
    assert_float_equal(aud_units_makespan(two, 2, 100, 200, 16, 16), 0.16, 1e-12);
    /* the same on 4 workers: 13 units of 0.16 s (the last 0.08): 4, 3, 3, 3 of them */
    assert_float_equal(aud_units_makespan(two, 2, 100, 200, 16, 4), 0.56, 1e-12);
    /* a last unit shorter than the others: 250 items in units of 100 (1, 1, 0.5 s) as 250
     * units of one item: each 0.01 s, on 1 worker the whole 2.5 s */
    double last[3] = {1.0, 1.0, 0.5};
    assert_float_equal(aud_units_makespan(last, 3, 100, 250, 1, 1), 2.5, 1e-9);
    assert_float_equal(aud_units_makespan(last, 3, 100, 250, 250, 1), 2.5, 1e-12);
    /* larger units than measured (more threads measured than 16): the sum of what they cover */
    assert_float_equal(aud_units_makespan(last, 3, 100, 250, 200, 16), 2.0, 1e-12);
    assert_float_equal(aud_units_makespan(col, 0, 1, 0, 1, 16), 0.0, 0.0);
}

typedef struct burn_units {
    const double *cpu;   /* seconds per item */
} burn_units;

static int bu_run(void *ctx, void *ws, size_t b, size_t e, aud_error *err)
{
    (void)ws;
    (void)err;
    const burn_units *u = ctx;
    for (size_t i = b; i < e; i++)
        burn(u->cpu[i]);
    return AUD_OK;
}

static void bu_task(void *ctx, size_t i)
{
    burn(((const burn_units *)ctx)->cpu[i]);
}

/* Runs of units are timed: 6 units (grain 1, no workspace) of which one burns 0.06 s and five
 * 0.01 s: on 16 threads at least 0.06 s (not 0.11 / 16); the same as tasks. */
static void test_units_are_timed(void **state)
{
    (void)state;
    aud_work_enable();
    double cpu[6] = {0.01, 0.01, 0.06, 0.01, 0.01, 0.01};
    burn_units bu = {cpu};
    aud_units u = {NULL, NULL, bu_run, &bu, 1, NULL, NULL};   /* no workspace */
    aud_error err;
    for (int kind = 0; kind < 2; kind++) {
        aud_work w0, w1;
        aud_work_now(&w0);
        if (kind == 0)
            assert_int_equal(aud_run_units(&u, 6, 2, &err), AUD_OK);
        else
            aud_run_tasks(6, 2, bu_task, &bu);
        aud_work_now(&w1);
        double ucpu = w1.units_cpu - w0.units_cpu, t16 = w1.units_t16 - w0.units_t16;
        assert_true(ucpu >= 0.11 && ucpu < 0.16);
        assert_true(t16 >= 0.06 && t16 < 0.085);
    }
}

/* Work a timed task hands on (nested runs): kind 0, row chunks (aud_run_jobs of 4 jobs of
 * 0.02 s) after 0.01 s of its own; kind 1, two tasks of 0.03 s (aud_run_tasks) after 0.01 s;
 * kind 2, two tasks that each run 4 row chunks of 0.01 s (two levels down, nothing of its own). */
typedef struct nest_case {
    int    kind;
    double own;
} nest_case;

static void nest_inner_task(void *ctx, size_t i)
{
    (void)i;
    int chunks = *(const int *)ctx;
    if (chunks == 0) {
        burn(0.03);
        return;
    }
    double jobs[4] = {0.01, 0.01, 0.01, 0.01};
    aud_run_jobs(jobs, 4, sizeof jobs[0], burn_job);
}

static void nest_task(void *ctx, size_t i)
{
    (void)i;
    const nest_case *c = ctx;
    burn(c->own);
    if (c->kind == 0) {
        double jobs[4] = {0.02, 0.02, 0.02, 0.02};
        aud_run_jobs(jobs, 4, sizeof jobs[0], burn_job);
    } else {
        int chunks = c->kind == 2;
        aud_run_tasks(2, 2, nest_inner_task, &chunks);
    }
}

/* A task's nested runs count at their 16-thread time: row chunks spread over the 16 threads
 * (kind 0: 0.01 + 0.08 / 16, not the 0.05-0.09 s one thread sees at 2 threads), tasks by their
 * own bound (kind 1: 0.01 + 0.03, the two side by side); two levels down the chunks of both
 * tasks still count (kind 2: 0.08 s of CPU, 0.005 s at 16). Every nested job's CPU is the
 * task's, whichever thread ran it. The same for a unit of aud_run_units. */
static int nest_unit(void *ctx, void *ws, size_t b, size_t e, aud_error *err)
{
    (void)ws;
    (void)err;
    for (size_t i = b; i < e; i++)
        nest_task(ctx, i);
    return AUD_OK;
}

static void test_nested_runs_are_timed(void **state)
{
    (void)state;
    aud_work_enable();
    const double want_cpu[3] = {0.09, 0.07, 0.08}, want_t16[3] = {0.015, 0.04, 0.005};
    for (int threads = 1; threads <= 2; threads++) {
        for (int kind = 0; kind < 3; kind++) {
            for (int as_unit = 0; as_unit < 2; as_unit++) {
                nest_case c = {kind, kind == 2 ? 0.0 : 0.01};
                aud_units u = {NULL, NULL, nest_unit, &c, 1, NULL, NULL};
                aud_error err;
                aud_work w0, w1;
                aud_work_now(&w0);
                if (as_unit)
                    assert_int_equal(aud_run_units(&u, 1, threads, &err), AUD_OK);
                else
                    aud_run_tasks(1, threads, nest_task, &c);
                aud_work_now(&w1);
                double ucpu = w1.units_cpu - w0.units_cpu, t16 = w1.units_t16 - w0.units_t16;
                assert_true(ucpu >= want_cpu[kind] && ucpu < want_cpu[kind] + 0.03);
                assert_true(t16 >= want_t16[kind] && t16 < want_t16[kind] + 0.01);
            }
        }
    }
}

/* aud_work_workers16: four tasks of 0.02 s that the caller would run on 1, 2 or (no hint) 16
 * threads at 16 take 0.08, 0.04 or 0.02 s there; the hint is for the next run only. */
static void test_workers16_hint(void **state)
{
    (void)state;
    aud_work_enable();
    double cpu[4] = {0.02, 0.02, 0.02, 0.02};
    burn_units bu = {cpu};
    const int hint[4] = {1, 2, 0, -1};   /* -1: the hint of the run before, not this one's */
    const double want[4] = {0.08, 0.04, 0.02, 0.02};
    for (int k = 0; k < 4; k++) {
        if (hint[k] > 0)
            aud_work_workers16(hint[k]);
        aud_work w0, w1;
        aud_work_now(&w0);
        aud_run_tasks(4, 2, bu_task, &bu);
        aud_work_now(&w1);
        double t16 = w1.units_t16 - w0.units_t16;
        assert_true(t16 >= want[k] && t16 < want[k] + 0.01);
    }
}

/* A job that runs jobs of its own and then declares their parts: inside a job nothing is
 * counted (its CPU is the outer job's), and no earlier run of this thread stands in for it. */
static void *nested_parts_job(void *arg)
{
    (void)arg;
    double jobs[2] = {0.01, 0.01};
    aud_run_jobs(jobs, 2, sizeof jobs[0], burn_job);
    aud_work_jobs_parts(4);
    return NULL;
}

/* aud_count_rows: a row's cell is (i * 7919) % cells; the counts at 1, 2 and 3 threads equal a
 * count made here, for few cells (counted in chunks), for more (fewer chunks than threads) and
 * for many (one pass), and every row is counted once (a chunk that skipped or repeated a row
 * would change a count). */
static atomic_int count_calls;

static void count_mod(void *ctx, size_t b, size_t e, uint32_t *cnt)
{
    size_t cells = *(const size_t *)ctx;
    atomic_fetch_add(&count_calls, 1);
    for (size_t i = b; i < e; i++)
        cnt[i * 7919 % cells]++;
}

static void test_count_rows(void **state)
{
    (void)state;
    enum { N = 300007 };
    static uint32_t want[200000];
    /* 90,000: fewer chunks than threads (3 at most: n / cells); 200,000: one pass */
    const size_t cell_counts[] = {1, 97, 90000, 200000};
    for (size_t q = 0; q < sizeof cell_counts / sizeof *cell_counts; q++) {
        size_t cells = cell_counts[q];
        memset(want, 0, sizeof want);
        for (size_t i = 0; i < N; i++)
            want[i * 7919 % cells]++;
        for (int t = 1; t <= 3; t++) {
            atomic_store(&count_calls, 0);
            uint32_t *got = aud_count_rows(N, t, cells, count_mod, &cells);
            assert_non_null(got);
            assert_memory_equal(got, want, cells * sizeof *got);
            aud_free(got);
            /* the chunks: one per thread, no more than N / cells */
            size_t k = aud_row_chunks(N, t), kmax = N / cells;
            assert_int_equal(atomic_load(&count_calls), k < kmax ? k : kmax > 0 ? kmax : 1);
        }
    }
    size_t one = 1;   /* no rows: one zeroed counter */
    uint32_t *none = aud_count_rows(0, 3, 1, count_mod, &one);
    assert_non_null(none);
    assert_int_equal(none[0], 0);
    aud_free(none);
}

/* A run of jobs cut by size, not by threads (the CSV reader's chunks): aud_work_jobs_parts(k)
 * counts its CPU as units taking CPU / min(k, 16) at 16 threads, once. */
static void test_jobs_parts(void **state)
{
    (void)state;
    aud_work_enable();
    const size_t parts[3] = {1, 4, 100};
    const double div[3] = {1.0, 4.0, 16.0};
    for (int c = 0; c < 3; c++) {
        double jobs[2] = {0.03, 0.03};
        aud_work w0, w1, w2;
        aud_work_now(&w0);
        aud_run_jobs(jobs, 2, sizeof jobs[0], burn_job);
        aud_work_jobs_parts(parts[c]);
        aud_work_now(&w1);
        aud_work_jobs_parts(parts[c]);   /* a second call: nothing more */
        aud_work_now(&w2);
        double ucpu = w1.units_cpu - w0.units_cpu, t16 = w1.units_t16 - w0.units_t16;
        assert_true(ucpu >= 0.06 && ucpu < 0.09);
        assert_float_equal(t16, ucpu / div[c], 1e-12);
        assert_true(w2.units_cpu == w1.units_cpu && w2.units_t16 == w1.units_t16);
    }
    double warm[2] = {0.02, 0.02};   /* a counted run on this thread, its parts not declared */
    aud_run_jobs(warm, 2, sizeof warm[0], burn_job);
    aud_work w0, w1;
    aud_work_now(&w0);
    int dummy[1] = {0};
    aud_run_jobs(dummy, 1, sizeof dummy[0], nested_parts_job);   /* a job, on this thread */
    aud_work_now(&w1);
    assert_true(w1.units_cpu == w0.units_cpu && w1.units_t16 == w0.units_t16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_each_on_a_thread_of_their_own),
        cmocka_unit_test(test_jobs_run_once_when_memory_fails),
        cmocka_unit_test(test_side_threads_longest_not_sum),
        cmocka_unit_test(test_thread_start_runs_fn),
        cmocka_unit_test(test_units_tile_and_fail_in_order),
        cmocka_unit_test(test_makespan_greedy_in_order),
        cmocka_unit_test(test_units_are_timed),
        cmocka_unit_test(test_nested_runs_are_timed),
        cmocka_unit_test(test_workers16_hint),
        cmocka_unit_test(test_jobs_parts),
        cmocka_unit_test(test_count_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
