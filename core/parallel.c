/* parallel.c - run independent jobs on threads (see aud_run_jobs in aud.h), units of work taken
 * from a shared counter (aud_run_units, aud_run_tasks), and the work accounting of --verbose
 * (aud_work_enable, aud_work_now). */
#include "core/aud.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <time.h>

/* ---- work accounting ---------------------------------------------------------------------- */

static int work_on;                 /* aud_work_enable was called */
static pthread_t work_main;         /* the thread that called it */
static pthread_mutex_t work_mu = PTHREAD_MUTEX_INITIALIZER;
static double work_parallel;        /* CPU seconds of jobs (aud_run_jobs), every thread */
static double work_main_jobs;       /* CPU seconds of work_main inside its aud_run_jobs calls */
static double work_side_max;        /* the most CPU seconds of one aud_thread_start thread
                                     * outside jobs */
static double work_units_cpu;       /* CPU seconds of the units of aud_run_units / aud_run_tasks
                                     * runs started outside jobs */
static double work_units_t16;       /* the least time those runs would take on 16 threads */
static _Thread_local int in_job;    /* this thread is running a job */
static _Thread_local double jobs_here;   /* CPU seconds this thread ran of its aud_run_jobs */
static _Thread_local double last_run;    /* CPU seconds of this thread's latest counted
                                          * aud_run_jobs run, every job (aud_work_jobs_parts) */
static _Thread_local int next_workers16; /* aud_work_workers16 for the next run, or 0 */

/* What a timed unit or task (of aud_run_units, aud_run_tasks) hands to runs of its own: jobs
 * of aud_run_jobs inside it (fairness's row passes inside an attribute's task, cut by the
 * thread count), and runs of units or tasks (a drift column's two sides), which are timed in
 * turn and bring their own 16-thread time. Without this a unit counted as one thread's work on
 * 16 threads too, however much of it ran in chunks on other threads. */
typedef struct nest_acct {
    double other;       /* CPU of its nested jobs on other threads, any depth (under work_mu) */
    double inside;      /* CPU of the unit's own thread inside its nested runs */
    double known_cpu;   /* of all that, the CPU of nested runs of units or tasks */
    double known_t16;   /* and their time on 16 threads (one after the other) */
} nest_acct;
static _Thread_local nest_acct *nest_here;   /* the timed unit this thread works for */
static _Thread_local int nest_own;           /* this thread is that unit's own thread */

/* Starts timing a unit on this thread: *saved keeps the outer state for nest_end. */
static void nest_begin(nest_acct *a, nest_acct **saved, int *saved_own)
{
    *saved = nest_here;
    *saved_own = nest_own;
    *a = (nest_acct){0.0, 0.0, 0.0, 0.0};
    nest_here = a;
    nest_own = 1;
}

/* Ends it: the work its nested jobs did on other threads is, for the unit this one is part of
 * (if any), work on other threads too. */
static void nest_end(nest_acct *a, nest_acct *saved, int saved_own)
{
    nest_here = saved;
    nest_own = saved_own;
    if (saved != NULL && a->other > 0.0) {
        pthread_mutex_lock(&work_mu);
        saved->other += a->other;
        pthread_mutex_unlock(&work_mu);
    }
}

/* A unit's time on 16 threads: its own thread's CPU outside its nested runs, the nested runs of
 * units and tasks at their own 16-thread time, and the other nested jobs' CPU (every thread)
 * spread over 16 (row chunks: as many as threads). */
static double nested_time(double cpu, const nest_acct *a)
{
    double own = cpu > a->inside ? cpu - a->inside : 0.0;
    double jobs = a->inside + a->other - a->known_cpu;
    return own + a->known_t16 + (jobs > 0.0 ? jobs : 0.0) / 16.0;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void aud_work_enable(void)
{
    work_main = pthread_self();
    work_on = 1;
}

void aud_work_now(aud_work *w)
{
    pthread_mutex_lock(&work_mu);   /* the parts first: the process's CPU time is read last */
    w->parallel = work_parallel;
    w->serial = clock_s(CLOCK_THREAD_CPUTIME_ID) - work_main_jobs;
    w->side_max = work_side_max;
    w->units_cpu = work_units_cpu;
    w->units_t16 = work_units_t16;
    pthread_mutex_unlock(&work_mu);
    w->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w->wall = clock_s(CLOCK_MONOTONIC);
}

double aud_units_makespan(const double *cpu, size_t n_units, size_t unit, size_t n,
                          size_t unit_w, int workers)
{
    enum { MAX_W = 64 };
    double load[MAX_W] = {0};
    size_t W = workers < 1 ? 1 : workers > MAX_W ? MAX_W : (size_t)workers;
    if (unit == 0 || unit_w == 0 || n == 0)
        return 0.0;
    /* the 16-thread units [b, b + unit_w) in order, each given the measured time of the items
     * it covers (a measured unit's time spread evenly over its items), and to the worker that
     * is free first - what the shared counter does */
    size_t u = 0;
    for (size_t b = 0; b < n; b += unit_w) {
        size_t e = n - b < unit_w ? n : b + unit_w;
        double t = 0.0;
        while (u < n_units && (u + 1) * unit <= b)
            u++;
        for (size_t v = u; v < n_units && v * unit < e; v++) {
            size_t vb = v * unit, ve = n - vb < unit ? n : vb + unit;
            size_t ob = vb > b ? vb : b, oe = ve < e ? ve : e;
            t += cpu[v] * (double)(oe - ob) / (double)(ve - vb);
        }
        size_t k = 0;
        for (size_t w = 1; w < W; w++)
            if (load[w] < load[k])
                k = w;
        load[k] += t;
    }
    double m = 0.0;
    for (size_t w = 0; w < W; w++)
        m = load[w] > m ? load[w] : m;
    return m;
}

/* A run's measured units into the bound: their CPU with that of their nested jobs (nest[i]),
 * and their time on 16 threads with the units the run would cut for 16 (unit_16 items each),
 * each unit taking its nested_time - but no less than all that CPU over 16. Into the command's
 * figures, or, for a run inside a timed unit (`in`), into that unit's. cpu[] is overwritten. */
static void units_account(nest_acct *in, double *cpu, const nest_acct *nest, size_t n_units,
                          size_t unit, size_t n, size_t unit_16, int workers)
{
    double sum = 0.0;
    for (size_t i = 0; i < n_units; i++) {
        sum += cpu[i] + nest[i].other;
        cpu[i] = nested_time(cpu[i], &nest[i]);
    }
    double m = aud_units_makespan(cpu, n_units, unit, n, unit_16, workers);
    m = m > sum / 16.0 ? m : sum / 16.0;
    pthread_mutex_lock(&work_mu);
    if (in != NULL) {
        in->known_cpu += sum;
        in->known_t16 += m;
    } else {
        work_units_cpu += sum;
        work_units_t16 += m;
    }
    pthread_mutex_unlock(&work_mu);
}

void aud_work_workers16(int workers)
{
    next_workers16 = work_on && workers > 0 ? (workers < 16 ? workers : 16) : 0;
}

/* The workers of a run at 16 threads: those aud_work_workers16 gave for it, or 16. */
static int take_workers16(void)
{
    int w = next_workers16 > 0 ? next_workers16 : 16;
    next_workers16 = 0;
    return w;
}

void aud_work_jobs_parts(size_t parts)
{
    if (!work_on || last_run <= 0.0)
        return;
    double k = parts < 1 ? 1.0 : parts > 16 ? 16.0 : (double)parts;
    pthread_mutex_lock(&work_mu);
    work_units_cpu += last_run;
    work_units_t16 += last_run / k;
    pthread_mutex_unlock(&work_mu);
    last_run = 0.0;
}

/* ---- jobs --------------------------------------------------------------------------------- */

typedef struct job_wrap {
    void *(*fn)(void *);
    void *arg;
    double *run;          /* the run's CPU seconds, every job */
    nest_acct *nest;      /* the timed unit the run is part of, or NULL */
} job_wrap;

/* A job on a thread of its own, its CPU time counted (work accounting on): into the run's, and
 * as nested work of the timed unit that started the run (the jobs it starts in turn serve that
 * unit too). */
static void *counted_job(void *p)
{
    const job_wrap *j = p;
    nest_acct *saved = nest_here;
    int saved_own = nest_own;
    nest_here = j->nest;
    nest_own = 0;
    double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    in_job = 1;
    j->fn(j->arg);
    double s = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    nest_here = saved;
    nest_own = saved_own;
    pthread_mutex_lock(&work_mu);
    work_parallel += s;
    *j->run += s;
    if (j->nest != NULL)
        j->nest->other += s;
    pthread_mutex_unlock(&work_mu);
    return NULL;
}

/* ---- the workers that run aud_run_jobs' jobs ----------------------------------------------
 * A thread is started the first time a run needs one more than are idle, and after its job it
 * waits for the next one instead of ending: starting and joining a thread costs 70-80 us in
 * this project's virtual machine (pthread_create + pthread_join of an empty function, measured),
 * which a command paid once per extra thread at every parallel step - fairness at 16 threads
 * starts 219. Each job still gets a thread of its own (a run takes an idle worker or starts
 * one for every job but the first), as jobs on threads of their own always had, and a job that
 * runs jobs of its own (a column's two sides) takes more workers the same way. The workers live
 * until the process exits (pool_close joins them). They keep no state of a run between runs,
 * but each keeps its malloc arena, which holds what was freed in it (docs/speed.md: bench_e2e's
 * peak RSS 296-298 -> 318-329 MB at 1M rows). */

typedef struct pool_batch {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    size_t          pending;   /* jobs handed to workers and not finished */
} pool_batch;

typedef struct pool_worker {
    sem_t               go;       /* posted with a job in fn, or without one to end the thread */
    void             *(*fn)(void *);
    void               *arg;
    pool_batch         *batch;
    struct pool_worker *next;     /* the next idle worker */
    pthread_t           th;
} pool_worker;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pool_worker    *pool_idle;   /* idle workers, the latest to finish first */
static int             pool_closed; /* the process is ending: no new worker */
static pthread_once_t  pool_once = PTHREAD_ONCE_INIT;

static void *pool_main(void *p)
{
    pool_worker *w = p;
    in_job = 1;   /* a worker runs nothing but jobs */
    for (;;) {
        while (sem_wait(&w->go) != 0)
            ;   /* EINTR */
        void *(*fn)(void *) = w->fn;
        if (fn == NULL)
            return NULL;   /* pool_close */
        w->fn = NULL;
        fn(w->arg);
        pool_batch *b = w->batch;
        /* idle again before the run hears of it: the caller's next run finds this worker */
        pthread_mutex_lock(&pool_mu);
        w->next = pool_idle;
        pool_idle = w;
        pthread_mutex_unlock(&pool_mu);
        pthread_mutex_lock(&b->mu);
        if (--b->pending == 0)
            pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);   /* b is the caller's: not touched after this */
    }
}

/* At exit: the idle workers end and are joined, so that a process that ran its jobs ends with
 * no thread but its own and nothing of theirs allocated (valgrind's leak check). Taken off the
 * idle list first, none can be handed a job meanwhile; a worker still running one (exit called
 * while another thread's run goes on) is left as it is. */
static void pool_close(void)
{
    pthread_mutex_lock(&pool_mu);
    pool_worker *idle = pool_idle;
    pool_idle = NULL;
    pool_closed = 1;
    pthread_mutex_unlock(&pool_mu);
    for (pool_worker *w = idle, *next; w != NULL; w = next) {
        next = w->next;
        sem_post(&w->go);   /* with no job: the thread returns */
        pthread_join(w->th, NULL);
        sem_destroy(&w->go);
        aud_free(w);
    }
}

static void pool_at_exit(void)
{
    (void)atexit(pool_close);   /* without it the workers are simply left at exit */
}

/* An idle worker, or a new one; NULL when none can be started. */
static pool_worker *pool_take(void)
{
    pthread_once(&pool_once, pool_at_exit);
    pthread_mutex_lock(&pool_mu);
    pool_worker *w = pool_idle;
    if (w != NULL)
        pool_idle = w->next;
    int closed = pool_closed;
    pthread_mutex_unlock(&pool_mu);
    if (w != NULL || closed)
        return w;
    w = aud_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    if (sem_init(&w->go, 0, 0) != 0) {
        aud_free(w);
        return NULL;
    }
    if (pthread_create(&w->th, NULL, pool_main, w) != 0) {
        sem_destroy(&w->go);
        aud_free(w);
        return NULL;
    }
    return w;
}

/* b's mutex and condition; 0, or -1 with neither left initialised. */
static int batch_init(pool_batch *b)
{
    if (pthread_mutex_init(&b->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        return -1;
    }
    return 0;
}

void aud_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *))
{
    char *base = jobs;
    pool_worker **wk = n > 1 ? aud_calloc(n, sizeof *wk) : NULL;
    /* accounting: the jobs on other threads are counted by counted_job; the calling thread's
     * share is counted here when it is outside any job (inside a job it is that job's time
     * already), and taken off the serial part when it is the main thread */
    job_wrap *wrap = work_on && n > 1 ? aud_malloc(n * sizeof *wrap) : NULL;
    int count_self = work_on && !in_job;   /* the main thread, or one of aud_thread_start */
    int is_main = count_self && pthread_equal(pthread_self(), work_main);
    /* a timed unit's own thread: its CPU in this run is nested work (inner runs on this thread
     * are inside this one: not counted again) */
    nest_acct *nest_in = work_on && nest_own ? nest_here : NULL;
    if (nest_in != NULL)
        nest_own = 0;
    double t0 = count_self || nest_in != NULL ? clock_s(CLOCK_THREAD_CPUTIME_ID) : 0.0;
    double run = 0.0;
    last_run = 0.0;   /* a run inside a job is not counted: aud_work_jobs_parts ignores it */
    if (count_self)
        in_job = 1;
    pool_batch b = {.pending = 0};
    int handed = wk != NULL && batch_init(&b) == 0;
    for (size_t i = 1; handed && i < n; i++)   /* all taken first: pending is final */
        b.pending += (wk[i] = pool_take()) != NULL;
    for (size_t i = 1; handed && i < n; i++) {
        if (wk[i] == NULL)
            continue;
        if (wrap != NULL)
            wrap[i] = (job_wrap){fn, base + i * size, &run, nest_here};
        wk[i]->fn = wrap != NULL ? counted_job : fn;
        wk[i]->arg = wrap != NULL ? (void *)&wrap[i] : (void *)(base + i * size);
        wk[i]->batch = &b;
        sem_post(&wk[i]->go);
    }
    if (n > 0)
        fn(base);
    for (size_t i = 1; i < n; i++)   /* the jobs no worker took */
        if (!handed || wk[i] == NULL)
            fn(base + i * size);
    if (handed) {
        pthread_mutex_lock(&b.mu);
        while (b.pending > 0)
            pthread_cond_wait(&b.cv, &b.mu);
        pthread_mutex_unlock(&b.mu);
        pthread_cond_destroy(&b.cv);
        pthread_mutex_destroy(&b.mu);
    }
    if (nest_in != NULL) {
        nest_in->inside += clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
        nest_own = 1;
    }
    if (count_self) {
        in_job = 0;
        double s = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
        jobs_here += s;
        pthread_mutex_lock(&work_mu);
        work_parallel += s;
        if (is_main)
            work_main_jobs += s;
        last_run = run + s;   /* the other jobs have ended: waited for above */
        pthread_mutex_unlock(&work_mu);
    }
    aud_free(wrap);
    aud_free(wk);
}

/* ---- threads beside the main one ---------------------------------------------------------- */

typedef struct side_wrap {
    void *(*fn)(void *);
    void *arg;
} side_wrap;

static void *side_main(void *p)
{
    side_wrap w = *(side_wrap *)p;
    aud_free(p);
    double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    void *r = w.fn(w.arg);
    if (work_on) {
        double s = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0 - jobs_here;
        pthread_mutex_lock(&work_mu);
        if (s > work_side_max)
            work_side_max = s;
        pthread_mutex_unlock(&work_mu);
    }
    return r;
}

int aud_thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
    side_wrap *w = aud_malloc(sizeof *w);
    if (w == NULL)
        return -1;
    w->fn = fn;
    w->arg = arg;
    if (pthread_create(th, NULL, side_main, w) != 0) {
        aud_free(w);
        return -1;
    }
    return 0;
}

/* ---- units of work from a shared counter, one workspace per thread ------------------------- */

typedef struct par_shared {
    const aud_units    *p;
    size_t              n, unit;
    atomic_size_t       next;   /* first item of the next untaken unit */
    atomic_size_t       done;   /* items finished (progress) */
    atomic_int          stop;   /* a unit failed: take no more */
    double             *unit_cpu;   /* work accounting on: each unit's CPU seconds */
    nest_acct          *unit_nest;  /* and its nested jobs' */
} par_shared;

typedef struct par_job {
    par_shared *s;
    int         first;    /* the calling thread's job: reports progress */
    size_t      failed;   /* first item of this job's failing unit (its only one) */
    int         rc;
    aud_error   err;
} par_job;

/* Grains per unit on T threads (T clipped to the grains): about UNITS_PER_THREAD units each. */
enum { UNITS_PER_THREAD = 32, UNITS_MAX_WORKERS = 64 };
static size_t grains_per_unit(size_t n_grains, size_t T)
{
    if (T > n_grains)
        T = n_grains > 0 ? n_grains : 1;
    size_t per = (n_grains + T * UNITS_PER_THREAD - 1) / (T * UNITS_PER_THREAD);
    return per > 0 ? per : 1;
}

static void *par_main(void *arg)
{
    par_job *j = arg;
    par_shared *s = j->s;
    const aud_units *p = s->p;
    aud_error_clear(&j->err);
    void *ws = p->ws_new != NULL ? p->ws_new(p->ctx) : NULL;
    if (p->ws_new != NULL && ws == NULL) {   /* as failing at item 0: it took no unit yet */
        j->failed = 0;
        j->rc = aud_error_nomem(&j->err);
        atomic_store(&s->stop, 1);
        return NULL;
    }
    for (size_t b; !atomic_load(&s->stop) && (b = atomic_fetch_add(&s->next, s->unit)) < s->n;) {
        size_t e = s->n - b < s->unit ? s->n : b + s->unit;
        double t0 = 0.0;
        nest_acct *saved = NULL;
        int saved_own = 0;
        if (s->unit_cpu != NULL) {
            nest_begin(&s->unit_nest[b / s->unit], &saved, &saved_own);
            t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        }
        int rc = p->run(p->ctx, ws, b, e, &j->err);
        if (s->unit_cpu != NULL) {
            s->unit_cpu[b / s->unit] = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
            nest_end(&s->unit_nest[b / s->unit], saved, saved_own);
        }
        if (rc != AUD_OK) {
            j->failed = b;
            j->rc = rc;
            atomic_store(&s->stop, 1);
            break;
        }
        size_t d = atomic_fetch_add(&s->done, e - b) + (e - b);
        if (j->first && p->progress != NULL)
            p->progress(p->progress_ctx, (double)d / (double)s->n);
    }
    if (p->ws_free != NULL)
        p->ws_free(ws);
    return NULL;
}

int aud_run_units(const aud_units *p, size_t n, int threads, aud_error *err)
{
    size_t grain = p->grain > 0 ? p->grain : 1;
    size_t T = threads < 1            ? 1
               : threads > UNITS_MAX_WORKERS ? UNITS_MAX_WORKERS
                                             : (size_t)threads;
    size_t n_grains = (n + grain - 1) / grain;
    if (T > n_grains)
        T = n_grains > 0 ? n_grains : 1;
    par_shared s = {.p = p, .n = n, .unit = grains_per_unit(n_grains, T) * grain};
    size_t n_units = (n + s.unit - 1) / s.unit;
    /* timed for the bound (none: it assumes even), outside jobs or inside a timed unit */
    nest_acct *in = nest_here;
    int workers16 = take_workers16();
    if (work_on && (!in_job || in != NULL) && n_units > 0) {
        s.unit_cpu = aud_calloc(n_units, sizeof *s.unit_cpu);
        s.unit_nest = aud_calloc(n_units, sizeof *s.unit_nest);
        if (s.unit_nest == NULL) {
            aud_free(s.unit_cpu);
            s.unit_cpu = NULL;
        }
    }
    atomic_init(&s.next, 0);
    atomic_init(&s.done, 0);
    atomic_init(&s.stop, 0);
    par_job *jobs = aud_calloc(T, sizeof *jobs);
    if (jobs == NULL) {
        aud_free(s.unit_cpu);
        aud_free(s.unit_nest);
        return aud_error_nomem(err);
    }
    for (size_t t = 0; t < T; t++)
        jobs[t] = (par_job){.s = &s, .first = t == 0, .rc = AUD_OK};
    aud_run_jobs(jobs, T, sizeof *jobs, par_main);
    if (s.unit_cpu != NULL) {
        units_account(in, s.unit_cpu, s.unit_nest, n_units, s.unit, n,
                      grains_per_unit(n_grains, 16) * grain, workers16);
        aud_free(s.unit_cpu);
        aud_free(s.unit_nest);
    }
    int rc = AUD_OK;
    size_t at = SIZE_MAX;
    for (size_t t = 0; t < T; t++) {
        if (jobs[t].rc != AUD_OK && jobs[t].failed < at) {
            at = jobs[t].failed;
            *err = jobs[t].err;
            rc = jobs[t].rc;
        }
    }
    aud_free(jobs);
    if (rc == AUD_OK && p->progress != NULL && n > 0)
        p->progress(p->progress_ctx, 1.0);   /* the calling thread may have taken no unit */
    return rc;
}

size_t aud_row_chunks(size_t n, int threads)
{
    size_t k = threads > 1 ? (size_t)threads : 1;
    if (k > AUD_MAX_CHUNKS)
        k = AUD_MAX_CHUNKS;
    if (n < (size_t)AUD_CHUNK_MIN_ROWS * k)
        k = n / AUD_CHUNK_MIN_ROWS > 0 ? n / AUD_CHUNK_MIN_ROWS : 1;
    return k;
}

typedef struct count_job {
    void    (*count)(void *ctx, size_t b, size_t e, uint32_t *cnt);
    void     *ctx;
    size_t    b, e;
    uint32_t *cnt;
} count_job;

static void *count_job_main(void *arg)
{
    const count_job *j = arg;
    if (j->cnt != NULL)
        j->count(j->ctx, j->b, j->e, j->cnt);
    return NULL;
}

uint32_t *aud_count_rows(size_t n, int threads, size_t cells,
                         void (*count)(void *ctx, size_t b, size_t e, uint32_t *cnt), void *ctx)
{
    /* each chunk's counters are zeroed and added to the first's: no more chunks than keep
     * them at most a chunk's rows (that work then stays under the rows' own) */
    size_t k = aud_row_chunks(n, threads), kmax = cells > 0 ? n / cells : k;
    if (k > kmax)
        k = kmax > 0 ? kmax : 1;
    count_job jobs[AUD_MAX_CHUNKS];
    int nomem = 0;
    for (size_t c = 0; c < k; c++) {
        jobs[c] = (count_job){count, ctx, n * c / k, n * (c + 1) / k,
                              aud_calloc(cells ? cells : 1, sizeof(uint32_t))};
        nomem |= jobs[c].cnt == NULL;
    }
    if (!nomem)
        aud_run_jobs(jobs, k, sizeof jobs[0], count_job_main);
    uint32_t *cnt = jobs[0].cnt;
    for (size_t c = 1; c < k; c++) {
        for (size_t q = 0; !nomem && q < cells; q++)
            cnt[q] += jobs[c].cnt[q];
        aud_free(jobs[c].cnt);
    }
    if (nomem) {
        aud_free(cnt);
        return NULL;
    }
    return cnt;
}

/* ---- a pool of tasks over aud_run_jobs ----------------------------------------------------- */

typedef struct task_worker {
    size_t         n;
    atomic_size_t *next;
    void         (*fn)(void *ctx, size_t i);
    void          *ctx;
    double        *cpu;   /* work accounting on: each task's CPU seconds */
    nest_acct     *nest;  /* and its nested jobs' */
} task_worker;

static void *task_worker_main(void *arg)
{
    task_worker *w = arg;
    for (size_t i; (i = atomic_fetch_add(w->next, 1)) < w->n;) {
        double t0 = 0.0;
        nest_acct *saved = NULL;
        int saved_own = 0;
        if (w->cpu != NULL) {
            nest_begin(&w->nest[i], &saved, &saved_own);
            t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        }
        w->fn(w->ctx, i);
        if (w->cpu != NULL) {
            w->cpu[i] = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
            nest_end(&w->nest[i], saved, saved_own);
        }
    }
    return NULL;
}

void aud_run_tasks(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx)
{
    enum { MAX_WORKERS = 64 };
    size_t nw = threads < 1 ? 1 : (size_t)threads;
    if (nw > MAX_WORKERS)
        nw = MAX_WORKERS;
    if (nw > n)
        nw = n ? n : 1;
    atomic_size_t next;
    atomic_init(&next, 0);
    /* tasks are the same whatever the threads: on 16 they are these */
    nest_acct *in = nest_here;   /* timed outside jobs, or inside a timed unit */
    int workers16 = take_workers16();
    double *cpu = work_on && (!in_job || in != NULL) && n > 0 ? aud_calloc(n, sizeof *cpu) : NULL;
    nest_acct *nest = cpu != NULL ? aud_calloc(n, sizeof *nest) : NULL;
    if (nest == NULL) {
        aud_free(cpu);
        cpu = NULL;
    }
    task_worker w[MAX_WORKERS];
    for (size_t i = 0; i < nw; i++)
        w[i] = (task_worker){n, &next, fn, ctx, cpu, nest};
    aud_run_jobs(w, nw, sizeof *w, task_worker_main);
    if (cpu != NULL)
        units_account(in, cpu, nest, n, 1, n, 1, workers16);
    aud_free(cpu);
    aud_free(nest);
}
