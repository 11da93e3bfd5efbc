/* parallel.c - run independent jobs on threads (see aud_run_jobs in aud.h). */
#include "core/aud.h"

#include <pthread.h>

void aud_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *))
{
    char *base = jobs;
    pthread_t *th = n > 1 ? aud_malloc((n - 1) * sizeof *th) : NULL;
    unsigned char *started = n > 1 ? aud_calloc(n, 1) : NULL;
    if (th != NULL && started != NULL) {
        for (size_t i = 1; i < n; i++)
            started[i] = pthread_create(&th[i - 1], NULL, fn, base + i * size) == 0;
    }
    if (n > 0)
        fn(base);
    for (size_t i = 1; i < n; i++) {
        if (started != NULL && started[i])
            pthread_join(th[i - 1], NULL);
        else
            fn(base + i * size);
    }
    aud_free(th);
    aud_free(started);
}
