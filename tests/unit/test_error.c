/* test_error.c - status strings, error formatting, exit codes, atomic output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/aud.h"
#include "core/io.h"

static void test_strerror_covers_every_code(void **state)
{
    (void)state;
    for (int c = 0; c < AUD_STATUS_MAX; c++)
        assert_string_not_equal(aud_strerror(c), "unknown error");
    assert_string_equal(aud_strerror(AUD_STATUS_MAX), "unknown error");
    assert_string_equal(aud_strerror(-1), "unknown error");
}

static void test_error_format_gnu_style(void **state)
{
    (void)state;
    aud_error err;
    char buf[256];
    aud_error_set(&err, AUD_E_PARSE, "d.csv", 12, 7, "expected %d fields, found %d", 15, 14);
    aud_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "d.csv:12:7: expected 15 fields, found 14");
    aud_error_field(&err, "age");
    aud_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "d.csv:12:7: \"age\": expected 15 fields, found 14");
}

/* Lists of names in messages: whole names only; a list that does not fit ends in "...". */
static void test_error_list_add(void **state)
{
    (void)state;
    char b[24];
    size_t len = 0;
    b[0] = '\0';
    assert_int_equal(aud_error_list_add(b, sizeof b, &len, "a"), 0);
    assert_int_equal(aud_error_list_add(b, sizeof b, &len, "bb"), 0);
    assert_string_equal(b, "\"a\", \"bb\"");
    assert_int_equal(aud_error_list_add(b, sizeof b, &len, "a-long-name"), 1);
    assert_string_equal(b, "\"a\", \"bb\", ...");
    assert_int_equal(aud_error_list_add(b, sizeof b, &len, "c"), 1);   /* stays cut */
    assert_string_equal(b, "\"a\", \"bb\", ...");
    len = 0;
    b[0] = '\0';
    assert_int_equal(aud_error_list_add(b, sizeof b, &len, "much-too-long-for-the-list"), 1);
    assert_string_equal(b, "...");
    for (size_t size = 8; size <= sizeof b; size++) {   /* never past the end, always ended */
        len = 0;
        memset(b, 'x', sizeof b);
        b[0] = '\0';
        while (aud_error_list_add(b, size, &len, "ab") == 0)
            ;
        assert_true(strlen(b) < size);
        assert_non_null(strstr(b, "..."));
    }
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(aud_status_exit_code(AUD_OK), 0);
    assert_int_equal(aud_status_exit_code(AUD_E_PARSE), 2);
    assert_int_equal(aud_status_exit_code(AUD_E_SCHEMA), 2);
    assert_int_equal(aud_status_exit_code(AUD_E_NOMEM), 3);
    assert_int_equal(aud_status_exit_code(AUD_E_INTERNAL), 3);
}

static void test_fmt_double_round_trips(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(aud_fmt_double(0.1, buf), "0.1");
    assert_string_equal(aud_fmt_double(0.1 + 0.2, buf), "0.30000000000000004");
    assert_string_equal(aud_fmt_double(1.0 / 0.0, buf), "null");
    assert_string_equal(aud_fmt_double(5e-324, buf), "4.94065645841247e-324");
}

/* Packed number arrays (reference profiles): every double comes back bit for bit, each token
 * read as glibc's strtod reads it; bad tokens are located. */
static void test_packed_numbers_round_trip(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *v = malloc(N * sizeof *v);
    assert_non_null(v);
    static const double fixed[] = {0.1 + 0.2, 5e-324, 2.2250738585072014e-308, -0.0, 1e23,
                                   1.7976931348623157e308, -123456789012345678.0, 3.0, 0.5};
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < N; i++) {
        if (i < sizeof fixed / sizeof fixed[0]) {
            v[i] = fixed[i];
            continue;
        }
        x ^= x << 13;   /* xorshift64: any bit pattern that is a finite double */
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        v[i] = isfinite(d) ? d : (double)(x >> 11) / 1024.0;
    }
    cJSON *p = aud_json_packed(v, N);
    assert_non_null(p);
    double *back;
    size_t n;
    long bad;
    assert_int_equal(aud_json_unpack(p, &back, &n, &bad), 0);
    assert_int_equal(n, N);
    char *s = p->valuestring, *e;
    for (size_t i = 0; i < N; i++, s = e + 1) {
        double ref = strtod(s, &e);
        assert_memory_equal(&back[i], &v[i], sizeof v[i]);
        assert_memory_equal(&back[i], &ref, sizeof ref);
    }
    aud_free(back);
    cJSON_Delete(p);
    free(v);
    static const struct { const char *text; int rc; long bad; size_t n; } cases[] = {
        {"", 0, -1, 0}, {"7", 0, -1, 1}, {"1 x 3", 1, 1, 0}, {"1 2 ", 1, 2, 0},
        {"1  2", 1, 1, 0}, {" 1", 1, 0, 0}, {"1 nan", 1, 1, 0}, {"1e999 1", 1, 0, 0},
        {"1 -inf", 1, 1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *c = cJSON_CreateString(cases[i].text);
        int rc = aud_json_unpack(c, &back, &n, &bad);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(n, cases[i].n);
            aud_free(back);
        } else {
            assert_int_equal(bad, cases[i].bad);
            assert_null(back);
        }
        cJSON_Delete(c);
    }
    cJSON *a = cJSON_Parse("[1, 2.5, -3]"), *b = cJSON_Parse("[1, \"x\"]"), *o = cJSON_Parse("{}");
    assert_int_equal(aud_json_unpack(a, &back, &n, &bad), 0);
    assert_int_equal(n, 3);
    assert_true(back[1] == 2.5 && back[2] == -3.0);
    aud_free(back);
    assert_int_equal(aud_json_unpack(b, &back, &n, &bad), 1);
    assert_int_equal(bad, 1);
    assert_int_equal(aud_json_unpack(o, &back, &n, &bad), 1);
    assert_int_equal(bad, -1);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(o);
}

/* The loop aud_fmt_double replaced: the shortest of %.15g, %.16g, %.17g that reads back. */
static const char *fmt_double_loop(double v, char *buf)
{
    if (!isfinite(v))
        return strcpy(buf, "null");
    if (v == 0.0)
        return strcpy(buf, signbit(v) ? "-0.0" : "0");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* aud_fmt_double: byte for byte the snprintf/strtod loop
 * on random bit patterns (every exponent), values of a few decimal digits (where 15 digits
 * read back), integers near 2^53 and up to 10^17 (the switch between fixed and exponent
 * notation), neighbours of powers of ten, subnormals, values spread over 1e-7..1e15 (the
 * integer path's range and its edges) and short dyadic values (exact ties of a rounding). */
/* 3,000,000 random values in the plain build; the sanitizer build (CI's second pass, for memory
 * errors, about 10x slower here) takes the first 300,000 of the same sequence */
#if defined(__SANITIZE_ADDRESS__)
#define FMT_LOOP_VALUES 300000
#else
#define FMT_LOOP_VALUES 3000000
#endif

static void test_fmt_double_matches_printf_loop(void **state)
{
    (void)state;
    char a[32], b[32];
    uint64_t s = 88172645463325252ull;
    size_t bad = 0;
    for (long i = 0; i < FMT_LOOP_VALUES; i++) {
        double v;
        uint64_t u = xorshift(&s);
        switch (i % 8) {
        case 0:
            memcpy(&v, &u, sizeof v);
            break;
        case 1:
            v = (double)(long)(u % 2000001 - 1000000) / pow(10.0, (double)(u >> 40 & 15));
            break;
        case 2:
            v = (double)((u % 4000000) + 9007199254740992ull - 2000000);
            break;
        case 3:
            v = (double)(u % 100000000000000000ull) * (u >> 63 ? -1.0 : 1.0);
            break;
        case 4:
            v = nextafter(pow(10.0, (double)((int)(u % 600) - 300)), (u & 1) ? 0.0 : INFINITY);
            break;
        case 5:
            v = ldexp((double)(u >> 12), -1074 + (int)(u % 64));
            break;
        case 6:   /* log-uniform over 1e-7..1e15 */
            v = pow(10.0, (double)(u >> 11) / 9007199254740992.0 * 22.0 - 7.0) * (u & 1 ? -1 : 1);
            break;
        default:   /* short dyadic values: ties of the 15-, 16- and 17-digit roundings */
            v = ldexp((double)((u >> 34) | 1), -(int)(u % 48));
            break;
        }
        if (strcmp(aud_fmt_double(v, a), fmt_double_loop(v, b)) != 0 && bad++ < 5)
            print_error("%.17g: %s, loop %s\n", v, a, b);
    }
    for (int k = -1074; k <= 1023; k++) {   /* powers of two (a narrower gap below) and neighbours */
        for (int d = -2; d <= 2; d++) {
            double v = ldexp(1.0 + d * DBL_EPSILON, k);
            if (strcmp(aud_fmt_double(v, a), fmt_double_loop(v, b)) != 0 && bad++ < 5)
                print_error("%.17g: %s, loop %s\n", v, a, b);
        }
    }
    for (int k = -20; k <= 20; k++) {   /* exact ties: 16-digit integers ending in 5 */
        double v = 1234567890123455.0 + (double)k;
        if (strcmp(aud_fmt_double(v, a), fmt_double_loop(v, b)) != 0 && bad++ < 5)
            print_error("%.17g: %s, loop %s\n", v, a, b);
    }
    assert_int_equal(bad, 0);
}

static void test_atomic_write_leaves_nothing_on_abort(void **state)
{
    (void)state;
    char dir[] = "/tmp/aud_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    aud_out o;
    aud_error err;
    assert_int_equal(aud_out_open(&o, path, &err), AUD_OK);
    fputs("partial", o.f);
    aud_out_abort(&o);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(aud_file_write_atomic(path, "ok\n", 3, &err), AUD_OK);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(aud_file_read(path, &text, &len, 0, &err), AUD_OK);
    assert_int_equal(len, 3);
    assert_string_equal(text, "ok\n");
    aud_free(text);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static void test_write_to_a_device_keeps_the_device(void **state)
{
    (void)state;
    aud_error err;
    struct stat st;
    assert_int_equal(aud_file_write_atomic("/dev/null", "x\n", 2, &err), AUD_OK);
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(aud_file_write_atomic("/tmp", "x", 1, &err), AUD_E_IO);
}

static void test_write_into_missing_dir_fails_cleanly(void **state)
{
    (void)state;
    aud_error err;
    int rc = aud_file_write_atomic("/nonexistent-dir/x.json", "x", 1, &err);
    assert_int_equal(rc, AUD_E_IO);
    assert_string_equal(err.file, "/nonexistent-dir/x.json");
}

/* After aud_global_init, cJSON allocates through the funnel: fault injection reaches it. */
static void test_cjson_allocations_use_the_funnel(void **state)
{
    (void)state;
    aud_global_init();
    aud_alloc_fail_after(1);
    cJSON *o = cJSON_CreateObject();
    assert_null(o);
    o = cJSON_CreateObject();
    assert_non_null(o);
    for (int n = 1; n < 4; n++) {
        aud_alloc_fail_after(n);
        cJSON *doc = cJSON_Parse("{\"a\": [1, 2, \"x\"]}");
        assert_null(doc);   /* the n-th of its allocations failed: no document, no leak */
    }
    aud_alloc_fail_after(0);
    cJSON_AddNumberToObject(o, "k", 1.5);
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"k\":1.5}");
    cJSON_free(text);
    cJSON_Delete(o);
}

/* The countdown is atomic: allocations on 8 threads at once, exactly one fails. */
enum { FAULT_THREADS = 8, FAULT_ALLOCS = 2000 };
typedef struct fault_job {
    int failed;
} fault_job;

static void *fault_worker(void *arg)
{
    fault_job *j = arg;
    for (int i = 0; i < FAULT_ALLOCS; i++) {
        void *p = aud_malloc(16);
        if (p == NULL)
            j->failed++;
        aud_free(p);
    }
    return NULL;
}

static void test_fault_countdown_is_atomic(void **state)
{
    (void)state;
    for (long at = 1; at <= FAULT_THREADS * FAULT_ALLOCS; at += 3989) {
        fault_job jobs[FAULT_THREADS] = {{0}};
        pthread_t th[FAULT_THREADS];
        aud_alloc_fail_after(at);
        for (int t = 0; t < FAULT_THREADS; t++)
            assert_int_equal(pthread_create(&th[t], NULL, fault_worker, &jobs[t]), 0);
        for (int t = 0; t < FAULT_THREADS; t++)
            pthread_join(th[t], NULL);
        int failed = 0;
        for (int t = 0; t < FAULT_THREADS; t++)
            failed += jobs[t].failed;
        assert_int_equal(failed, 1);
    }
    aud_alloc_fail_after(0);
}

/* A fake of the virtio balloon driver's sysfs folder: entry virtio<k> with the given feature
 * bits (one character per bit, bit 0 first), plus the driver's other files. */
static void fake_balloon(const char *dir, const char *const *features, int n)
{
    char path[1024];
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/bind", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("1111111111\n", f);   /* not a device: must be ignored */
    fclose(f);
    for (int k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/virtio%d", dir, k);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/virtio%d/features", dir, k);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", features[k]);
        fclose(f);
    }
}

static void rm_balloon(const char *dir, int n)
{
    char path[1024];
    for (int k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/virtio%d/features", dir, k);
        unlink(path);
        snprintf(path, sizeof path, "%s/virtio%d", dir, k);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/bind", dir);
    unlink(path);
    rmdir(dir);
}

static void test_page_reporting_reads_feature_bit_5(void **state)
{
    (void)state;
    char base[] = "/tmp/aud-balloon-XXXXXX", dir[64];
    assert_non_null(mkdtemp(base));
    /* this VM's balloon: bits 1, 2, 5 and 7 (stats, deflate on OOM, reporting, ...) */
    const char *on[] = {"0110000000000000", "0110010100000000000000000000000010000000"};
    snprintf(dir, sizeof dir, "%s/a", base);
    fake_balloon(dir, on, 2);
    assert_int_equal(aud_page_reporting(dir), 1);
    rm_balloon(dir, 2);
    const char *off[] = {"01100001", "0110001100000000"};   /* bit 5 clear in both */
    snprintf(dir, sizeof dir, "%s/b", base);
    fake_balloon(dir, off, 2);
    assert_int_equal(aud_page_reporting(dir), 0);
    rm_balloon(dir, 2);
    const char *shrt[] = {"01100"};   /* too short to hold bit 5 */
    snprintf(dir, sizeof dir, "%s/c", base);
    fake_balloon(dir, shrt, 1);
    assert_int_equal(aud_page_reporting(dir), 0);
    rm_balloon(dir, 1);
    snprintf(dir, sizeof dir, "%s/none", base);   /* no balloon driver at all */
    assert_int_equal(aud_page_reporting(dir), 0);
    rmdir(base);
}

/* Whether the mapping holding p has the "hg" flag (madvise MADV_HUGEPAGE) in /proc/self/smaps. */
static int marked_huge(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[1024];
    int in = 0, hg = -1;
    while (hg < 0 && fgets(line, sizeof line, f) != NULL) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (uintptr_t)p >= a && (uintptr_t)p < b;
        else if (in && strncmp(line, "VmFlags:", 8) == 0)
            hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
    assert_true(hg >= 0);   /* the mapping was found */
    return hg;
}

/* Resident 4 KiB pages among the whole pages of [p, p + n) (mincore); *pages: how many. */
static size_t resident_pages(const void *p, size_t n, size_t *pages_out)
{
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    size_t pages = (b - a) / 4096, in = 0;
    unsigned char *vec = malloc(pages);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)a, b - a, vec), 0);
    for (size_t i = 0; i < pages; i++)
        in += vec[i] & 1;
    free(vec);
    *pages_out = pages;
    return in;
}

/* The three kinds of large array, 8 MiB each: in huge-page-aligned memory marked "hg" when
 * want_huge; otherwise unmarked, aud_malloc_rows's mapped at once and aud_malloc_slices's and
 * aud_malloc_large's not (their writers map them); writable in full either way. */
static void check_arrays(int want_huge)
{
    const size_t n = (size_t)8 << 20;
    unsigned char *arr[3] = {aud_malloc_rows(n), aud_malloc_large(n), aud_malloc_slices(n)};
    size_t in[3], pages[3];
    int hg[3];
    for (int k = 0; k < 3; k++) {
        if (arr[k] != NULL) {
            hg[k] = marked_huge(arr[k]);
            in[k] = resident_pages(arr[k], n, &pages[k]);
        }
    }
    for (int k = 0; k < 3; k++) {
        assert_non_null(arr[k]);
        assert_int_equal(hg[k], want_huge);
        if (want_huge)
            assert_int_equal((uintptr_t)arr[k] % ((uintptr_t)2 << 20), 0);
        else if (k == 0)
            assert_int_equal(in[k], pages[k]);   /* every whole page */
        else
            assert_true(in[k] <= 1);   /* at most one an allocator wrote into */
    }
    for (int k = 0; k < 3; k++) {
        memset(arr[k], 7, n);
        aud_free(arr[k]);
    }
}

static void test_huge_pages_follow_the_choice(void **state)
{
    (void)state;
    const char *had = getenv("AUDIT_HUGE_PAGES");
    char *saved = had != NULL ? strdup(had) : NULL;

    setenv("AUDIT_HUGE_PAGES", "1", 1);
    aud_huge_pages_reset();
    assert_int_equal(aud_huge_pages(), 1);
    check_arrays(1);

    setenv("AUDIT_HUGE_PAGES", "0", 1);
    assert_int_equal(aud_huge_pages(), 1);   /* decided once, until reset */
    aud_huge_pages_reset();
    assert_int_equal(aud_huge_pages(), 0);
    check_arrays(0);

    setenv("AUDIT_HUGE_PAGES", "yes", 1);   /* neither 0 nor 1: the machine decides */
    aud_huge_pages_reset();
    int reporting = aud_page_reporting("/sys/bus/virtio/drivers/virtio_balloon");
    double us = aud_huge_pages_fault_us();
    assert_int_equal(aud_huge_pages(), aud_huge_pages_rule(reporting, us));
    if (reporting)   /* the probe ran, and its figure is the one the decision used */
        assert_true(us > 0.0 && us < 1e5);
    else
        assert_true(us == -1.0);

    if (saved != NULL)
        setenv("AUDIT_HUGE_PAGES", saved, 1);
    else
        unsetenv("AUDIT_HUGE_PAGES");
    free(saved);
    aud_huge_pages_reset();
}

/* The rule: 4 KiB pages only where the balloon reports free pages and they fault cheaply. */
static void test_huge_pages_rule(void **state)
{
    (void)state;
    assert_int_equal(aud_huge_pages_rule(0, -1.0), 1);
    assert_int_equal(aud_huge_pages_rule(0, 1.0), 1);
    assert_int_equal(aud_huge_pages_rule(0, 9.0), 1);
    assert_int_equal(aud_huge_pages_rule(1, 0.5), 0);
    assert_int_equal(aud_huge_pages_rule(1, 2.4), 0);
    assert_int_equal(aud_huge_pages_rule(1, AUD_FAULT_US_4K - 0.01), 0);
    assert_int_equal(aud_huge_pages_rule(1, AUD_FAULT_US_4K), 1);
    assert_int_equal(aud_huge_pages_rule(1, 9.0), 1);
    assert_int_equal(aud_huge_pages_rule(1, -1.0), 1);   /* the probe failed: the default */
    assert_int_equal(aud_huge_pages_rule(1, NAN), 1);
}

/* The probe times real page faults: positive, and far below a millisecond a page. */
static void test_page_fault_probe(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        double us = aud_page_fault_us();
        assert_true(us > 0.0);
        assert_true(us < 1000.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_covers_every_code),
        cmocka_unit_test(test_huge_pages_rule),
        cmocka_unit_test(test_page_fault_probe),
        cmocka_unit_test(test_error_format_gnu_style),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_error_list_add),
        cmocka_unit_test(test_fmt_double_round_trips),
        cmocka_unit_test(test_packed_numbers_round_trip),
        cmocka_unit_test(test_fmt_double_matches_printf_loop),
        cmocka_unit_test(test_atomic_write_leaves_nothing_on_abort),
        cmocka_unit_test(test_write_to_a_device_keeps_the_device),
        cmocka_unit_test(test_write_into_missing_dir_fails_cleanly),
        cmocka_unit_test(test_cjson_allocations_use_the_funnel),
        cmocka_unit_test(test_fault_countdown_is_atomic),
        cmocka_unit_test(test_page_reporting_reads_feature_bit_5),
        cmocka_unit_test(test_huge_pages_follow_the_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
