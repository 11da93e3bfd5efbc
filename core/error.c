/* error.c - status strings, located error records, allocation funnel, global setup. */
#include "core/aud.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mman.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_errno.h>

const char *aud_strerror(int code)
{
    switch ((aud_status)code) {
    case AUD_OK: return "success";
    case AUD_E_NOMEM: return "out of memory";
    case AUD_E_IO: return "input/output error";
    case AUD_E_PARSE: return "parse error";
    case AUD_E_SCHEMA: return "schema error";
    case AUD_E_DOMAIN: return "value out of range";
    case AUD_E_UNSUPPORTED: return "unsupported";
    case AUD_E_USAGE: return "usage error";
    case AUD_E_INTERNAL: return "internal error";
    case AUD_STATUS_MAX: break;
    }
    return "unknown error";
}

void aud_error_clear(aud_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

int aud_error_set(aud_error *err, int code, const char *file, long line, long column,
                  const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file != NULL ? file : "");
    err->line = line;
    err->column = column;
    err->field[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int aud_error_field(aud_error *err, const char *field)
{
    if (err == NULL)
        return AUD_E_INTERNAL;
    snprintf(err->field, sizeof err->field, "%s", field != NULL ? field : "");
    return err->code;
}

void aud_error_format(const aud_error *err, char *buf, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    if (err->file[0] != '\0') {
        if (err->line > 0 && err->column > 0)
            n = (size_t)snprintf(buf, size, "%s:%ld:%ld: ", err->file, err->line, err->column);
        else if (err->line > 0)
            n = (size_t)snprintf(buf, size, "%s:%ld: ", err->file, err->line);
        else
            n = (size_t)snprintf(buf, size, "%s: ", err->file);
    }
    if (n < size && err->field[0] != '\0')
        n += (size_t)snprintf(buf + n, size - n, "\"%s\": ", err->field);
    if (n < size)
        snprintf(buf + n, size - n, "%s", err->msg[0] ? err->msg : aud_strerror(err->code));
}

int aud_status_exit_code(int code)
{
    switch ((aud_status)code) {
    case AUD_OK: return 0;
    case AUD_E_IO: case AUD_E_PARSE: case AUD_E_SCHEMA: case AUD_E_DOMAIN:
    case AUD_E_UNSUPPORTED: case AUD_E_USAGE: return 2;
    case AUD_E_NOMEM: case AUD_E_INTERNAL: case AUD_STATUS_MAX: return 3;
    }
    return 3;
}

int aud_error_nomem(aud_error *err)
{
    return aud_error_set(err, AUD_E_NOMEM, NULL, 0, 0, "out of memory");
}

/* ---- cJSON allocations: the funnel, or a thread's arena -------------------------------------- */

/* A chunk of an arena: the header, then the bytes handed out (16-byte aligned). */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char bytes[];
} arena_chunk;

struct aud_json_arena {
    arena_chunk *head;       /* newest first */
    aud_json_arena *outer;   /* the scope this one is nested in */
};

static _Thread_local aud_json_arena *json_arena;   /* this thread's open scope, or NULL */

static int should_fail(void);

static void *arena_alloc(aud_json_arena *a, size_t n)
{
    if (should_fail())
        return NULL;
    n = (n + 15) & ~(size_t)15;
    arena_chunk *c = a->head;
    if (c == NULL || c->size - c->used < n) {
        size_t size = c != NULL ? c->size * 2 : (size_t)1 << 20;   /* 1, 2, 4, ... MiB */
        if (size > (size_t)64 << 20)
            size = (size_t)64 << 20;
        if (size < n)
            size = n;
        c = aud_malloc_large(sizeof *c + size);
        if (c == NULL)
            return NULL;
        aud_prefault(c, sizeof *c + size);   /* filled from the start, up to its end */
        c->next = a->head;
        c->size = size;
        c->used = 0;
        a->head = c;
    }
    void *p = c->bytes + c->used;
    c->used += n;
    return p;
}

static int arena_owns(const aud_json_arena *a, const void *p)
{
    for (const arena_chunk *c = a->head; c != NULL; c = c->next)
        if ((const unsigned char *)p >= c->bytes && (const unsigned char *)p < c->bytes + c->size)
            return 1;
    return 0;
}

static void *json_alloc(size_t n)
{
    return json_arena != NULL ? arena_alloc(json_arena, n) : aud_malloc(n);
}

static void json_free(void *p)
{
    for (const aud_json_arena *a = json_arena; a != NULL; a = a->outer)
        if (arena_owns(a, p))
            return;   /* given back with its arena */
    aud_free(p);
}

aud_json_arena *aud_json_arena_begin(void)
{
    aud_json_arena *a = aud_calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->outer = json_arena;
    json_arena = a;
    return a;
}

void aud_json_arena_reset(aud_json_arena *a)
{
    if (a == NULL || a->head == NULL)
        return;
    arena_chunk *keep = a->head;   /* the newest is the largest */
    for (arena_chunk *c = keep->next, *next; c != NULL; c = next) {
        next = c->next;
        aud_free(c);
    }
    keep->next = NULL;
    keep->used = 0;
}

void aud_json_arena_end(aud_json_arena *a)
{
    if (a == NULL)
        return;
    json_arena = a->outer;
    for (arena_chunk *c = a->head, *next; c != NULL; c = next) {
        next = c->next;
        aud_free(c);
    }
    aud_free(a);
}

void aud_global_init(void)
{
    gsl_set_error_handler_off();
    /* cJSON's allocations go through the funnel too (fault injection counts them), or come from
     * the thread's arena inside an aud_json_arena_begin scope. With hooks other than
     * malloc/free cJSON never calls realloc, so the pair is all it needs. */
    static cJSON_Hooks hooks = {json_alloc, json_free};
    cJSON_InitHooks(&hooks);
}

/* Fault injection: countdown shared by all threads; only tests set it. Atomic, so allocations on
 * several threads count down exactly once each and exactly one of them fails. */
static atomic_long fail_countdown;

void aud_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

/* aud_malloc maps blocks from this size on at once (aud_prefault): a block this large is an
 * array about to be filled (rows, keys, counts), and filling it page by page costs a fault per
 * 4 KiB. aud_malloc_large, for arrays that may stay partly unwritten, does not. */
enum { PREFAULT_MIN = 256u << 10 };

static int should_fail(void)
{
    long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (c > 0)
        if (atomic_compare_exchange_weak_explicit(&fail_countdown, &c, c - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return c == 1;
    return 0;
}

void *aud_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = malloc(size != 0 ? size : 1);
    if (p != NULL && size >= PREFAULT_MIN)
        aud_prefault(p, size);
    return p;
}

void *aud_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n != 0 ? n : 1, size != 0 ? size : 1);
}

void *aud_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size != 0 ? size : 1);
}

enum { HUGE_PAGE = 2u << 20 };

int aud_page_reporting(const char *driver_dir)
{
    DIR *d = opendir(driver_dir);
    if (d == NULL)
        return 0;
    int on = 0;
    struct dirent *e;
    while (!on && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "virtio", 6) != 0)
            continue;   /* bind, unbind, uevent, module */
        char path[4096], bits[256];
        snprintf(path, sizeof path, "%s/%s/features", driver_dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        /* one character per feature bit, bit 0 first; VIRTIO_BALLOON_F_REPORTING is bit 5
         * (virtio specification 1.2, section 5.5.3) */
        if (fgets(bits, sizeof bits, f) != NULL && strlen(bits) > 5 && bits[5] == '1')
            on = 1;
        fclose(f);
    }
    closedir(d);
    return on;
}

double aud_page_fault_us(void)
{
    enum { PAGES = 64 };
    const size_t page = 4096;
    char *p = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                   0);
    if (p == MAP_FAILED)
        return -1.0;
    double us[PAGES];
    for (size_t i = 0; i < PAGES; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        *(volatile char *)(p + i * page) = 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) * 1e-3;
    }
    munmap(p, PAGES * page);
    for (size_t i = 1; i < PAGES; i++) {   /* insertion sort: 64 values */
        double x = us[i];
        size_t j = i;
        for (; j > 0 && us[j - 1] > x; j--)
            us[j] = us[j - 1];
        us[j] = x;
    }
    return us[PAGES / 2];
}

int aud_huge_pages_rule(int reporting, double fault_us)
{
    return !reporting || !(fault_us >= 0.0 && fault_us < AUD_FAULT_US_4K);
}

/* -1 until the first aud_huge_pages call decides, under huge_lock (the probe is a timing: two
 * threads racing to decide could measure either side of the threshold, so one decides); the
 * probe's figure behind the decision */
static atomic_int huge_choice = -1;
static double huge_fault_us = -1.0;
static pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER;

int aud_huge_pages(void)
{
    int c = atomic_load_explicit(&huge_choice, memory_order_acquire);
    if (c >= 0)
        return c;
    pthread_mutex_lock(&huge_lock);
    c = atomic_load_explicit(&huge_choice, memory_order_relaxed);
    if (c < 0) {
        const char *env = getenv("AUDIT_HUGE_PAGES");
        double us = -1.0;
        if (env != NULL && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0)) {
            c = env[0] == '1';
        } else {
            int reporting = aud_page_reporting("/sys/bus/virtio/drivers/virtio_balloon");
            if (reporting)
                us = aud_page_fault_us();
            c = aud_huge_pages_rule(reporting, us);
        }
        huge_fault_us = us;
        atomic_store_explicit(&huge_choice, c, memory_order_release);
    }
    pthread_mutex_unlock(&huge_lock);
    return c;
}

double aud_huge_pages_fault_us(void)
{
    aud_huge_pages();
    pthread_mutex_lock(&huge_lock);
    double us = huge_fault_us;
    pthread_mutex_unlock(&huge_lock);
    return us;
}

int aud_cpu_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd"))
        return 3;
    if (__builtin_cpu_supports("avx2"))
        return 2;
#endif
    return 1;
}

void aud_huge_pages_reset(void)
{
    pthread_mutex_lock(&huge_lock);
    atomic_store(&huge_choice, -1);
    pthread_mutex_unlock(&huge_lock);
}

/* size bytes aligned to a huge page and marked for transparent huge pages (madvise), from `from`
 * bytes on (else plain malloc); the tail is rounded up to a whole huge page when that adds at
 * most size / slack, else it stays in 4 KiB pages. Where aud_huge_pages() says no: plain malloc,
 * populated at once when `populate` (an array about to be written in full). */
static void *huge_alloc(size_t size, size_t from, size_t slack, int populate)
{
    if (should_fail())
        return NULL;
    if (size < from)
        return malloc(size != 0 ? size : 1);
    if (!aud_huge_pages()) {   /* 4 KiB pages; arrays written in full mapped at once */
        void *p = malloc(size);
        if (p != NULL && populate)
            aud_prefault(p, size);
        return p;
    }
    size_t n = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    if (n < size)
        return NULL;
    if (n - size > size / slack)
        n = (size + 4095) & ~(size_t)4095;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, n) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n, MADV_HUGEPAGE);   /* advice only: without THP the pages are 4 KiB */
#endif
    return p;
}

void *aud_malloc_large(size_t size)
{
    return huge_alloc(size, 2 * HUGE_PAGE, 1, 0);   /* from 4 MiB, the tail always rounded up */
}

void *aud_malloc_rows(size_t size)
{
    return huge_alloc(size, HUGE_PAGE, 4, 1);
}

void *aud_malloc_slices(size_t size)
{
    return huge_alloc(size, HUGE_PAGE, 4, 0);
}

void aud_prefault(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, (size_t)(b - a), MADV_POPULATE_WRITE);   /* advice: errors ignored */
#else
    (void)p;
    (void)n;
#endif
}

char *aud_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = aud_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void aud_free(void *p)
{
    free(p);
}

int aud_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)n : 1;
}

int aud_error_list_add(char *buf, size_t size, size_t *len, const char *name)
{
    if (*len + 7 > size)
        return 1;   /* cut already */
    size_t room = size - *len - 6;   /* ", ..." and the NUL always fit after a whole name */
    int w = snprintf(buf + *len, room, "%s\"%s\"", *len ? ", " : "", name);
    if (w < 0 || (size_t)w >= room) {
        strcpy(buf + *len, *len ? ", ..." : "...");
        *len = size;   /* cut: later calls add nothing */
        return 1;
    }
    *len += (size_t)w;
    return 0;
}
