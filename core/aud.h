/* aud.h - core types of the audit library: status codes, located errors, allocation.
 *
 * Conventions (see docs/ and ../shared/STYLE.md): functions return an int status (AUD_OK == 0)
 * and fill a caller-provided aud_error; the library never prints and never exits.
 * `**out` results belong to the caller and are released with the matching _free (NULL is a no-op). */
#ifndef AUD_H
#define AUD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define AUD_API __attribute__((visibility("default")))
#define AUD_VERSION "0.1.0"
#define AUD_SCHEMA_VERSION "2"

/* Status codes. Never renumber; retire. AUD_STATUS_MAX is the sentinel. */
typedef enum aud_status {
    AUD_OK = 0,          /* success */
    AUD_E_NOMEM,         /* an allocation failed */
    AUD_E_IO,            /* a file could not be opened, read or written */
    AUD_E_PARSE,         /* malformed input text (CSV, JSON, model file) */
    AUD_E_SCHEMA,        /* well-formed input with wrong structure, keys, types or columns */
    AUD_E_DOMAIN,        /* a value is out of range: NaN where not allowed, empty group, bad threshold */
    AUD_E_UNSUPPORTED,   /* valid input using a feature this version does not implement */
    AUD_E_USAGE,         /* bad command-line or API usage */
    AUD_E_INTERNAL,      /* a bug or a failing library call that is not the input's fault */
    AUD_STATUS_MAX
} aud_status;

/* The four-fifths rule (EEOC Uniform Guidelines on Employee Selection Procedures, 29 CFR
 * 1607.4(D)): a selection rate under four fifths of the highest group's is evidence of adverse
 * impact. The one definition for the metrics' flags, the CLI and the reports' colours. */
#define AUD_FOUR_FIFTHS 0.8

/* A located error. line/column are 1-based, 0 = unknown. */
typedef struct aud_error {
    int  code;           /* aud_status */
    char file[256];      /* input file, "" if none */
    long line, column;
    char field[128];     /* column name, JSON key or spec key, "" if none */
    char msg[512];       /* one line, no trailing period */
} aud_error;

/* Short description of a status code ("out of memory", ...); never NULL. */
AUD_API const char *aud_strerror(int code);

/* Reset err to "no error". */
AUD_API void aud_error_clear(aud_error *err);

/* Fill err (file may be NULL, line/column 0 = unknown) and return code, so callers write
 * `return aud_error_set(err, AUD_E_PARSE, path, line, col, "expected %d fields", n);` */
AUD_API int aud_error_set(aud_error *err, int code, const char *file, long line, long column,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Set err->field (a column, key or feature name) and return err->code. */
AUD_API int aud_error_field(aud_error *err, const char *field);

/* Format err as one GNU-style line "file:line:col: field: msg" into buf (no "audit: " prefix). */
AUD_API void aud_error_format(const aud_error *err, char *buf, size_t size);

/* Exit code of the CLI for a status: AUD_OK -> 0, input/usage errors -> 2, NOMEM/INTERNAL -> 3. */
AUD_API int aud_status_exit_code(int code);

/* Record an out-of-memory error in err and return AUD_E_NOMEM. */
AUD_API int aud_error_nomem(aud_error *err);

/* Build a list of quoted names for a message ("\"a\", \"b\""): append name to buf (size >= 8
 * bytes, *len its length, buf[0] = '\0' to start). When it does not fit, the list ends in
 * "..." after the last whole name and 1 is returned (add nothing more); else 0. */
AUD_API int aud_error_list_add(char *buf, size_t size, size_t *len, const char *name);

/* Process-wide setup (GSL error handler off, cJSON's allocations through aud_malloc/aud_free).
 * Call once before any thread starts. */
AUD_API void aud_global_init(void);

/* A scope in which this thread's cJSON allocations come from one arena (large chunks, no
 * per-node malloc/free), all given back by aud_json_arena_end; cJSON_Delete inside it costs
 * nothing. For parsing a large document that is read and dropped (a model file): nothing
 * allocated by cJSON inside the scope may outlive it. Scopes nest. begin returns NULL when out of
 * memory (cJSON then uses the funnel as usual; end(NULL) does nothing). Needs aud_global_init. */
typedef struct aud_json_arena aud_json_arena;
AUD_API aud_json_arena *aud_json_arena_begin(void);
AUD_API void aud_json_arena_end(aud_json_arena *a);
/* Give back everything allocated in the arena so far but keep its largest chunk for what comes
 * next (a loop parsing one document after another); nothing from before may be used after. */
AUD_API void aud_json_arena_reset(aud_json_arena *a);

/* Allocation funnel (cJSON's too, after aud_global_init). aud_alloc_fail_after(n) makes the n-th
 * later allocation fail (0 = never), counted atomically across threads: used by fault-injection
 * tests. */
AUD_API void *aud_malloc(size_t size) __attribute__((malloc));
AUD_API void *aud_calloc(size_t n, size_t size) __attribute__((malloc));
AUD_API void *aud_realloc(void *p, size_t size);
AUD_API char *aud_strdup(const char *s);
/* A large array that may stay partly unwritten (a table column sized by a bound, a per-thread
 * buffer; freed with aud_free): from 4 MiB on, when aud_huge_pages(), it is aligned to 2 MiB and
 * marked for transparent huge pages (madvise), so filling it takes one page fault per 2 MiB
 * instead of one per 4 KiB; otherwise plain malloc, not populated. */
AUD_API void *aud_malloc_large(size_t size) __attribute__((malloc));
/* A per-row array written in full once, kept for the run (codes, ranks, label and score copies of
 * every row; freed with aud_free): from 2 MiB on, when aud_huge_pages(), aligned and marked for
 * huge pages as aud_malloc_large (else malloc, populated from 2 MiB on), the tail rounded up to a whole huge page when that adds at most a quarter
 * (a 1M-row array of 4-byte codes: 3.8 MiB in 2 huge pages). Filling 4 MB this way took
 * 0.45 ms against 10-13 ms in faulted-in 4 KiB pages and 3-6 ms in populated ones in this
 * project's VM (measured). Not for a buffer allocated and freed over and over: each fresh huge
 * page is cleared whole (drift slowed by a third with every aud_malloc from 2 MiB so). */
AUD_API void *aud_malloc_rows(size_t size) __attribute__((malloc));
/* As aud_malloc_rows, for an array that row-chunk jobs fill, each its own slice: never populated
 * here, so each job maps its slice with aud_prefault before writing it, on its own thread (in
 * 4 KiB pages populating is ~0.4 ms per MiB: done here it would be serial). */
AUD_API void *aud_malloc_slices(size_t size) __attribute__((malloc));
/* Whether aud_malloc_large and aud_malloc_rows ask for transparent huge pages. AUDIT_HUGE_PAGES=0
 * or 1 in the environment says no or yes. Otherwise yes, unless the machine is a virtual machine
 * whose virtio balloon reports free memory to its host (free page reporting) and a first write
 * to a fresh 4 KiB page costs it under AUD_FAULT_US_4K microseconds (aud_page_fault_us): there a
 * fresh 2 MiB page costs the host a fault of its own on first touch, and a run 2 s or more after
 * the last one paid 2.8 ms per MiB of huge pages against 0.4-0.6 ms in 4 KiB pages (1.6-2.4 us a
 * page). Where 4 KiB pages cost more than that themselves (8-10 us a page in a PVM guest, whose
 * shadow page tables fault per page), huge pages cost no more after idle and far less run back
 * to back (docs/speed.md "Huge pages and free page reporting"). Decided once, at the first
 * call. */
AUD_API int aud_huge_pages(void);
/* The decision's rule: huge pages unless `reporting` and 0 <= fault_us < AUD_FAULT_US_4K. */
#define AUD_FAULT_US_4K 4.0
AUD_API int aud_huge_pages_rule(int reporting, double fault_us);
/* The median time in microseconds of the first write to each of 64 fresh 4 KiB pages of an
 * anonymous mapping (a page fault, the page's clearing, and whatever the host adds), or -1 when
 * the mapping fails. About 64 page faults. */
AUD_API double aud_page_fault_us(void);
/* The probe's figure behind aud_huge_pages' decision (deciding now if not yet): -1 when no probe
 * ran (AUDIT_HUGE_PAGES set, or no free page reporting). */
AUD_API double aud_huge_pages_fault_us(void);
/* 1 when a device bound to the virtio balloon driver whose sysfs folder is driver_dir
 * ("/sys/bus/virtio/drivers/virtio_balloon") negotiated free page reporting (feature bit 5). */
AUD_API int aud_page_reporting(const char *driver_dir);
/* Forget aud_huge_pages' decision: the next call decides again (tests). */
AUD_API void aud_huge_pages_reset(void);
/* The widest vector instruction set this CPU runs, for the kernels that take a path by it: 3
 * AVX-512 (F and CD), 2 AVX2, 1 neither (or not x86-64). Flags libgcc reads at start-up. */
AUD_API int aud_cpu_isa(void);
/* Map the whole pages inside [p, p + n) writable now, in one call (Linux MADV_POPULATE_WRITE),
 * for memory about to be written in full: the first write to each 4 KiB page otherwise takes a
 * page fault of its own, which costs ~12 us in a virtual machine of this project's CI against
 * ~0.9 us per page populated at once (measured). A no-op where the kernel lacks it. */
AUD_API void aud_prefault(void *p, size_t n);
AUD_API void  aud_free(void *p);
AUD_API void  aud_alloc_fail_after(long n);

/* Number of online cores (>= 1), the default for --threads. */
AUD_API int aud_ncpu(void);

/* Run fn on each of the n jobs (an array of elements of `size` bytes): job 0 on the calling
 * thread, the others each on a thread of its own, all at once, and return when all have ended.
 * The threads are workers kept between runs (started when a run needs more than are idle;
 * they wait for the next run instead of ending), so a run costs no thread start once the
 * process has its workers; a job may run jobs of its own. A job for which no worker can be
 * started runs on the calling thread afterwards, so callers whose jobs write only their own
 * results get the same results whatever threads are available. */
AUD_API void aud_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *));

/* Row chunks for a pass over n rows on up to `threads` threads: one per thread, at most
 * AUD_MAX_CHUNKS, none under AUD_CHUNK_MIN_ROWS rows (at least 1). Chunk c of k is the rows
 * [n c / k, n (c + 1) / k). */
enum { AUD_MAX_CHUNKS = 64, AUD_CHUNK_MIN_ROWS = 1 << 16 };
AUD_API size_t aud_row_chunks(size_t n, int threads);

/* Counts of a pass over n rows into `cells` counters: count(ctx, b, e, cnt) adds rows [b, e)
 * into cnt (zeroed). Runs in chunks of rows (aud_row_chunks) on up to `threads` threads, each
 * chunk with counters of its own, added in chunk order after (integer sums: the same whatever
 * the chunks); fewer chunks when the counters would be more than a chunk's rows (n / cells
 * chunks at most: one pass on this thread when cells > n / 2). Returns the counts (the
 * caller's, aud_free), NULL when out of memory. */
AUD_API uint32_t *aud_count_rows(size_t n, int threads, size_t cells,
                                 void (*count)(void *ctx, size_t b, size_t e, uint32_t *cnt),
                                 void *ctx);

/* Run fn(ctx, i) for every task i in [0, n) exactly once, on up to `threads` threads (at most
 * 64) started by aud_run_jobs, each taking the next untaken index from a shared counter (order
 * the tasks heaviest first for balance). fn must write only task i's own results, which then do
 * not depend on the thread count. */
AUD_API void aud_run_tasks(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx);

/* Run `run` over the items [0, n) on up to `threads` threads (at most 64) with one workspace
 * each. The items are cut into units of whole grains (grain 0 = 1; about 32 units per thread,
 * the last unit shorter), and each thread takes the next untaken unit from a shared counter, so
 * a thread on a slower core (a busy host) takes fewer instead of holding back the others. run
 * must write only the results of its items [begin, end), the same whatever else a unit holds:
 * results then do not depend on the threads. ws_new(ctx) (a NULL result: out of memory) is
 * called once per thread, ws_free at its end; without ws_new (NULL), run gets a NULL
 * workspace. After a failing unit no thread takes another, and the error returned is that of
 * the failing unit nearest item 0 (every unit before it has run: units are taken in order). progress (NULL: none) is called on the calling
 * thread with the share of items done, and with 1 at the end. */
typedef struct aud_units {
    void *(*ws_new)(void *ctx);
    void  (*ws_free)(void *ws);
    int   (*run)(void *ctx, void *ws, size_t begin, size_t end, aud_error *err);
    void  *ctx;
    size_t grain;
    void  (*progress)(void *ctx, double done);
    void  *progress_ctx;
} aud_units;
AUD_API int aud_run_units(const aud_units *u, size_t n, int threads, aud_error *err);

/* Work accounting for --verbose (Amdahl's law from one run): after aud_work_enable, every
 * aud_run_jobs call counts the CPU time of its jobs as parallel work; the enabling thread's CPU
 * time outside jobs is the serial work (parsing, merges, formatting, the reading pass). Two
 * aud_work_now snapshots (taken on the enabling thread) bound a stage: its wall and process CPU
 * seconds, and of these the serial and the parallel seconds; CPU time of other threads (a
 * background hash, a second file read alongside) is cpu - serial - parallel, and side_max the
 * longest of those threads' own time outside jobs (threads started by aud_thread_start: they run
 * side by side, so the longest, not their sum, is the path they add). Figures never depend on
 * it; off, it costs nothing. */
typedef struct aud_work {
    double wall;       /* monotonic clock */
    double cpu;        /* the process's CPU time, every thread */
    double serial;     /* the enabling thread's CPU time outside jobs */
    double parallel;   /* CPU time inside jobs */
    double side_max;   /* so far: the most CPU time one aud_thread_start thread spent outside
                        * jobs (a maximum, not a sum: not to be subtracted between snapshots) */
    double units_cpu;  /* CPU time of the units of aud_run_units and aud_run_tasks runs (each
                        * unit timed, with the jobs it runs in turn on any thread; a run inside
                        * a job is counted as part of the unit it serves, if any) */
    double units_t16;  /* the least time those runs take on 16 threads: their units in order to
                        * the first free of 16 workers (aud_units_makespan), with the units
                        * aud_run_units would cut for 16 threads - a few large units (drift's
                        * columns) bound a stage however many threads there are. A unit's own
                        * time there: its thread's CPU outside its nested runs, nested runs of
                        * units or tasks at their own such time, other nested jobs (row chunks,
                        * cut by the thread count) at their CPU / 16 */
} aud_work;
AUD_API void aud_work_enable(void);
AUD_API void aud_work_now(aud_work *w);

/* For the bound of --verbose: the calling thread's latest aud_run_jobs run (work accounting on,
 * started outside a job) cuts its work by size, not by thread count, and at 16 threads would
 * still make at most `parts` jobs (a CSV file of 17 MB in chunks of at least 2 MiB: 8): its
 * CPU counts as units taking CPU / min(parts, 16) at 16 threads. Call it once, right after the
 * run; otherwise nothing. */
AUD_API void aud_work_jobs_parts(size_t parts);

/* For the bound of --verbose: the next aud_run_units or aud_run_tasks run this thread starts
 * would run on `workers` threads at 16 threads, by a rule of the caller's (drift splits a
 * column into its sides and statistics only when the columns are fewer than the threads).
 * Otherwise a run counts on min(16, its units). Work accounting off: nothing. */
AUD_API void aud_work_workers16(int workers);

/* The time `workers` threads take over items [0, n) cut into units of unit_w items, given the
 * measured CPU seconds cpu[i] of the n_units units [i unit, (i + 1) unit) (each spread evenly
 * over its items): each unit of unit_w, in order, goes to the worker that is free first. The
 * longest worker's total; 0 when n, unit or unit_w is 0. */
AUD_API double aud_units_makespan(const double *cpu, size_t n_units, size_t unit, size_t n,
                                  size_t unit_w, int workers);

/* pthread_create of fn(arg) (default attributes) for work beside the calling thread - a file
 * hashed, a model parsed, a second file read - whose CPU time outside jobs is counted into
 * aud_work's side_max. 0 on success; -1 when no thread could start (nothing runs: the caller
 * runs fn itself). Join it with pthread_join. */
AUD_API int aud_thread_start(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
