/* test_parallel.c - the work accounting of --verbose (core/parallel.c): what threads beside the
 * main one add (aud_thread_start), and the jobs they run themselves. Measured in thread CPU
 * time, which a loaded machine does not change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_side_threads_longest_not_sum),
        cmocka_unit_test(test_thread_start_runs_fn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
