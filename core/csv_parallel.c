/* csv_parallel.c - the CSV reader's first pass on several threads.
 * The body is cut into chunks at newlines that a quote count says are outside quoted fields:
 * first at the newline after each chunk's planned size (cut_chunks); the counting pass below
 * counts each chunk's quotes too, and when the quotes before a cut are odd in number (quoted
 * fields with newlines) the cuts are made again by walking the quotes and counted again.
 * On T threads one chunk is a thread's share of the body and the others shrink from half of
 * what is left per thread to an eighth of a share (cut_chunks, chunk_want: about 7 chunks on 2
 * threads, 75 on 16); the threads take them, largest first, from a shared counter, so a thread
 * that shares its core (with the input's hash, another process, or a slower core of a virtual
 * machine) takes fewer instead of holding back the others: with one chunk per thread, the two
 * halves of the 223 MB benchmark file ended 45-150 ms apart on two threads.
 * The newlines of each chunk but the last are counted first (all threads sharing those bytes):
 * a chunk holds at most that many records, which gives each chunk its first line number and
 * its slice of one shared value array and one shared code array per column; the last chunk's
 * slice is sized by a bound from its length (not read a second time). Each chunk is then
 * scanned with its own dictionaries, writing its slices in place; the merge (a task per
 * column) only maps codes to the merged dictionaries (chunk order keeps first-appearance
 * order) and closes the gaps left by blank lines or quoted newlines; a column with numbers
 * before its first text is left to the second pass (deferred), as in the sequential pass.
 * The quote count is only a heuristic (a stray quote inside an unquoted field misleads it), so
 * correctness rests on a check: every chunk must parse without error up to its exact end, which
 * by induction from the first chunk proves that every cut is a true record boundary. Any chunk
 * error or a row limit falls back to the sequential pass, which also reports errors exactly as
 * it always does.
 * A chunk that is a regular file's mapping (csv_source) is read with pread through a buffer of
 * whole records (csv_window) rather than through the mapping: where a page fault is costly (a
 * virtual machine) that costs far less CPU than touching the mapped pages, and the lexer reads
 * bytes that pread just put in the cache. A single chunk (one thread, or a body under one and
 * a half chunk_bytes) takes this path too. */
#define _GNU_SOURCE   /* memrchr */
#include "core/csv_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A chunk read through a buffer from the file (csv_source): [off, off + have) of the file is
 * in buf; the lexer sees the whole lines of it. */
typedef struct csv_window {
    const csv_source *src;
    char   *buf;
    size_t  cap;            /* bytes of buf */
    size_t  off;            /* file offset of buf[0] */
    size_t  have;           /* bytes of buf read */
    size_t  start, stop;    /* the chunk's file offsets */
    void  (*progress)(void *ctx, double done);
    void   *progress_ctx;
} csv_window;

/* 1 MiB fits a core's L2 cache: the lexer reads what pread wrote there */
enum { WINDOW_BYTES = 1u << 20, WINDOW_MAX = 64u << 20 };

/* Read the file's bytes [off, off + n) into buf, whole; -1 (errno) on an error or a file that
 * got shorter. */
static int read_at(int fd, char *buf, size_t n, size_t off)
{
    while (n > 0) {
        ssize_t got = pread(fd, buf, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            return -1;
        }
        buf += got;
        n -= (size_t)got;
        off += (size_t)got;
    }
    return 0;
}

/* The end of the last whole record in [b, b + n), which starts at a record boundary: just after
 * the last newline that an even count of quotes from b puts outside quoted fields (a newline in
 * a quoted field does not end a record); NULL when there is none. Like the cuts, a guess that a
 * stray quote can mislead: the chunk's parse then fails and the sequential pass decides. */
static const char *last_record_end(const char *b, size_t n)
{
    if (memchr(b, '"', n) == NULL) {
        const char *nl = memrchr(b, '\n', n);
        return nl != NULL ? nl + 1 : NULL;
    }
    const char *last = NULL;
    int odd = 0;
    for (size_t i = 0; i < n; i++) {
        odd ^= b[i] == '"';
        if (b[i] == '\n' && !odd)
            last = b + i + 1;
    }
    return last;
}

/* csv_lexer.refill of a chunk read by windows: the bytes after the last whole record move to
 * the front, the buffer is filled again, and the lexer gets its whole records (the buffer grows
 * for a record longer than it). An error (the chunk then falls back to the sequential pass,
 * which reads the mapping) is set in lx->err. */
static int window_refill(csv_lexer *lx)
{
    csv_window *w = lx->refill_ctx;
    size_t used = (size_t)(lx->p - w->buf);
    memmove(w->buf, w->buf + used, w->have - used);
    w->off += used;
    w->have -= used;
    if (w->progress != NULL)
        w->progress(w->progress_ctx, (double)(w->off - w->start) / (double)(w->stop - w->start));
    for (;;) {
        size_t left = w->stop - (w->off + w->have);
        size_t want = w->cap - w->have < left ? w->cap - w->have : left;
        if (read_at(w->src->fd, w->buf + w->have, want, w->off + w->have) != 0)
            return aud_error_set(lx->err, AUD_E_IO, lx->name, 0, 0, "cannot read: %s",
                                 strerror(errno)), -1;
        w->have += want;
        lx->p = w->buf;
        if (w->off + w->have == w->stop) {
            lx->end = w->buf + w->have;
            return w->have > 0;
        }
        const char *e = last_record_end(w->buf, w->have);
        if (e != NULL) {
            lx->end = e;
            return 1;
        }
        /* a record longer than the buffer: a larger one, up to a limit past which the
         * sequential pass (the mapping) reads it, as it reads an unterminated quote */
        if (w->cap >= WINDOW_MAX)
            return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, 0, 0, "record too long"), -1;
        char *nb = aud_realloc(w->buf, w->cap * 2);
        if (nb == NULL)
            return aud_error_nomem(lx->err), -1;
        w->buf = nb;
        w->cap *= 2;
    }
}

/* Each chunk on cache lines of its own (64-byte aligned, so its size is a multiple of 64): its
 * thread writes lx.p at every field, and with 1,240-byte chunks side by side in ch[] that line
 * also held the previous chunk's o, na and cloc, which its thread reads at every field. */
typedef struct chunk {
    _Alignas(64) csv_lexer lx;
    csv_window   win;       /* src: the chunk is read through it */
    aud_error    err;
    col_scan    *cs;
    aud_column  *lv;        /* levels met in this chunk (names borrowed from the table) */
    char        *scratch;
    size_t       n_rows;
    size_t       n_newlines;
    size_t       n_quotes;
    size_t       first;     /* index of the chunk's first row slot in the shared arrays */
    csv_marks    marks;     /* line marks, rows counted from the chunk's first row */
    int          rc;
    const aud_table   *t;
    const aud_csv_opts *o;
    const na_set *na;
    locale_t      cloc;
} chunk;

/* Newlines and quotes in [p, end) added to *nl and *qt: 64 bytes per step where the target has
 * SSE2 (every x86-64) - each compare's all-ones bytes subtracted from byte counters, which
 * psadbw sums into 64-bit lanes before they can overflow (63 steps of at most 4 per lane) - a
 * byte loop elsewhere and for the tail. No population count instruction is needed (the
 * baseline x86-64 target has none: __builtin_popcountll was a library call). */
static void count_newlines(const char *p, const char *end, size_t *nl, size_t *qt)
{
    size_t n = 0, q = 0;
#if defined(__SSE2__)
    const __m128i cn = _mm_set1_epi8('\n'), cq = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
    __m128i sn = zero, sq = zero;
    while (end - p >= 64) {
        __m128i an = zero, aq = zero;
        for (int i = 0; i < 63 && end - p >= 64; i++, p += 64) {
            for (int j = 0; j < 64; j += 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
                an = _mm_sub_epi8(an, _mm_cmpeq_epi8(x, cn));
                aq = _mm_sub_epi8(aq, _mm_cmpeq_epi8(x, cq));
            }
        }
        sn = _mm_add_epi64(sn, _mm_sad_epu8(an, zero));
        sq = _mm_add_epi64(sq, _mm_sad_epu8(aq, zero));
    }
    uint64_t l[2];
    _mm_storeu_si128((__m128i *)(void *)l, sn);
    n = (size_t)(l[0] + l[1]);
    _mm_storeu_si128((__m128i *)(void *)l, sq);
    q = (size_t)(l[0] + l[1]);
#endif
    for (; p < end; p++) {
        n += *p == '\n';
        q += *p == '"';
    }
    *nl += n;
    *qt += q;
}

enum { MAX_CHUNKS = 256 };

/* One thread's share of the counting pass: the bytes [p, end), which may span several chunks
 * (cut[0..n_ch] as cut_chunks gives them); its newlines and quotes are added up per chunk. */
typedef struct count_job {
    const char        *p, *end;
    const char *const *cut;
    size_t             n_ch;
    int                release;   /* a file mapping: give the pages back as they are counted */
    const csv_source  *src;       /* the file: read it in blocks instead of the mapping */
    size_t             nl[MAX_CHUNKS], qt[MAX_CHUNKS];
} count_job;

/* count_job_main through pread: 0, or -1 (nothing counted) when a block cannot be read or
 * allocated. */
static int count_by_reading(count_job *j)
{
    size_t cap = (size_t)(j->end - j->p) < WINDOW_BYTES ? (size_t)(j->end - j->p) : WINDOW_BYTES;
    char *buf = aud_malloc(cap + 1);
    if (buf == NULL)
        return -1;
    size_t nl[MAX_CHUNKS] = {0}, qt[MAX_CHUNKS] = {0};
    const char *p = j->p;
    size_t c = 0;
    while (p < j->end) {
        while (c + 1 < j->n_ch && p >= j->cut[c + 1])
            c++;
        const char *e = c + 1 < j->n_ch && j->cut[c + 1] < j->end ? j->cut[c + 1] : j->end;
        if ((size_t)(e - p) > cap)
            e = p + cap;
        if (read_at(j->src->fd, buf, (size_t)(e - p), (size_t)(p - j->src->file0)) != 0) {
            aud_free(buf);
            return -1;
        }
        count_newlines(buf, buf + (e - p), &nl[c], &qt[c]);
        p = e;
    }
    aud_free(buf);
    for (c = 0; c < j->n_ch; c++) {
        j->nl[c] += nl[c];
        j->qt[c] += qt[c];
    }
    return 0;
}

static void *count_job_main(void *arg)
{
    enum { STEP = 4u << 20 };
    count_job *j = arg;
    if (j->src != NULL && count_by_reading(j) == 0)
        return NULL;
    /* a file mapping: give the pages back as they are counted (the scan reads them again from
     * the page cache), so the whole file is never held beside the table being filled */
    csv_lexer walk;
    memset(&walk, 0, sizeof walk);
    walk.p = j->p;
    walk.released = j->p;
    walk.release = 1;
    size_t c = 0;
    while (walk.p < j->end) {
        while (c + 1 < j->n_ch && walk.p >= j->cut[c + 1])
            c++;
        const char *e = c + 1 < j->n_ch && j->cut[c + 1] < j->end ? j->cut[c + 1] : j->end;
        if (j->release && e - walk.p > STEP)
            e = walk.p + STEP;
        count_newlines(walk.p, e, &j->nl[c], &j->qt[c]);
        walk.p = e;
        if (j->release)
            aud_csv_release(&walk);
    }
    return NULL;
}

/* Scan chunk c. A file's chunk is read through the buffer *buf of *cap bytes (the thread's,
 * kept from chunk to chunk: allocated here when there is none or it is too small, and handed
 * back, perhaps grown); NULL buf: the chunk gets one of its own, freed at its end. */
static void chunk_scan(chunk *c, char **buf, size_t *cap)
{
    csv_window *w = &c->win;
    if (c->lx.src != NULL) {   /* read the chunk through a buffer instead of the mapping */
        const csv_source *src = c->lx.src;
        w->src = src;
        size_t span = (size_t)(c->lx.end - c->lx.p);   /* a small chunk: a small buffer */
        size_t want = span < WINDOW_BYTES ? span + 1 : WINDOW_BYTES;
        if (buf != NULL && *buf != NULL && *cap >= want) {
            w->buf = *buf;
            w->cap = *cap;
        } else {
            if (buf != NULL) {
                aud_free(*buf);
                *buf = NULL;
                *cap = 0;
            }
            w->cap = want;
            w->buf = aud_malloc(w->cap);   /* populated at once: aud_malloc from 256 KiB */
        }
        w->start = w->off = (size_t)(c->lx.p - src->file0);
        w->stop = (size_t)(c->lx.end - src->file0);
        w->progress = c->lx.progress;
        w->progress_ctx = c->lx.progress_ctx;
        if (w->buf != NULL) {
            c->lx.p = c->lx.end = w->buf;
            c->lx.base = w->buf;
            c->lx.progress = NULL;
            c->lx.release = 0;
            c->lx.refill = window_refill;
            c->lx.refill_ctx = w;
        }
    }
    c->rc = aud_csv_scan_records(&c->lx, c->t, c->cs, c->lv, c->o, c->na, c->cloc, c->scratch,
                         &c->n_rows, &c->marks);
    if (c->lx.refill != NULL)   /* where the chunk's reading stopped, in the mapping */
        c->lx.p = w->src->file0 + w->off + (size_t)(c->lx.p - w->buf);
    if (buf != NULL && w->buf != NULL) {   /* the thread's for its next chunk */
        *buf = w->buf;
        *cap = w->cap;
    } else {
        aud_free(w->buf);   /* not needed by the merge */
    }
    w->buf = NULL;
}

static long count_char(const char *p, const char *end, char ch)
{
    long n = 0;
    while (p < end) {
        const char *q = memchr(p, ch, (size_t)(end - p));
        if (q == NULL)
            break;
        n++;
        p = q + 1;
    }
    return n;
}

static void chunk_free(chunk *c, size_t n_cols)
{
    for (size_t k = 0; c->cs != NULL && k < n_cols; k++)
        aud_csv_col_scan_free(&c->cs[k]);
    for (size_t k = 0; c->lv != NULL && k < n_cols; k++) {
        for (size_t l = 0; l < c->lv[k].n_levels; l++)
            aud_free(c->lv[k].levels[l]);
        aud_free(c->lv[k].levels);
    }
    aud_free(c->cs);
    aud_free(c->lv);
    aud_free(c->scratch);
    aud_free(c->marks.m);
    aud_free(c->win.buf);
}

/* Move each chunk's rows of arr (elements of `size` bytes) down to close the gaps. */
static void close_gaps(char *arr, size_t size, const chunk *ch, size_t n_ch)
{
    size_t at = 0;
    for (size_t c = 0; c < n_ch; c++) {
        if (at != ch[c].first && ch[c].n_rows > 0)
            memmove(arr + at * size, arr + ch[c].first * size, ch[c].n_rows * size);
        at += ch[c].n_rows;
    }
}

/* Merge column k of the chunks into t and cs[k] (the sequential pass's result form), taking
 * over the shared arrays *vals and *codes (set to NULL when taken or freed). Returns AUD_OK
 * (cs[k].deferred set when the second pass must encode the column) or an error. */
static int merge_column(chunk *ch, size_t n_ch, aud_table *t, size_t k, double **vals,
                        int32_t **codes, col_scan *out, aud_error *err)
{
    int cat = 0, gaps = 0;
    for (size_t c = 0; c < n_ch; c++) {
        cat |= ch[c].cs[k].categorical;
        gaps |= c + 1 < n_ch && ch[c].first + ch[c].n_rows != ch[c + 1].first;
    }
    for (size_t c = 0; c < n_ch; c++) {
        const col_scan *s = &ch[c].cs[k];
        if (s->deferred || (cat && !s->categorical && s->n_values > 0)) {
            /* numbers, then text: categorical, its codes filled by the second pass over the
             * whole file (fill_deferred), as the sequential pass would defer it */
            out->categorical = 1;
            out->deferred = 1;
            aud_free(*vals);
            aud_free(*codes);
            *vals = NULL;
            *codes = NULL;
            return AUD_OK;
        }
    }
    out->categorical = cat;
    for (size_t c = 0; c < n_ch; c++)
        out->n_missing += ch[c].cs[k].n_missing;
    if (!cat) {
        for (size_t c = 0; c < n_ch && out->range_line == 0; c++) {
            if (ch[c].cs[k].range_line > 0) {
                out->range_line = ch[c].cs[k].range_line;
                memcpy(out->range_text, ch[c].cs[k].range_text, sizeof out->range_text);
            }
        }
        if (gaps)
            close_gaps((char *)*vals, sizeof **vals, ch, n_ch);
        out->vals = *vals;
        *vals = NULL;
        aud_free(*codes);
        *codes = NULL;
        return AUD_OK;
    }
    int32_t *cd = *codes;
    for (size_t c = 0; c < n_ch; c++) {
        const col_scan *s = &ch[c].cs[k];
        const aud_column *lv = &ch[c].lv[k];
        int32_t *part = cd + ch[c].first;
        if (!s->categorical) {   /* numeric so far but every value missing */
            for (size_t i = 0; i < ch[c].n_rows; i++)
                part[i] = -1;
            continue;
        }
        int32_t *map = aud_malloc((lv->n_levels ? lv->n_levels : 1) * sizeof *map);
        if (map == NULL)
            return aud_error_nomem(err);
        int identity = 1;
        for (size_t l = 0; l < lv->n_levels; l++) {
            int added;
            map[l] = aud_csv_dict_code(&out->d, &t->cols[k], lv->levels[l], strlen(lv->levels[l]),
                               &added);
            if (map[l] < 0) {
                int32_t e = map[l];
                aud_free(map);
                return e == -1 ? aud_error_nomem(err)
                               : aud_error_set(err, AUD_E_DOMAIN, t->path, 0, (long)k + 1,
                                               "too many categories");
            }
            identity &= map[l] == (int32_t)l;
        }
        for (size_t i = 0; !identity && i < ch[c].n_rows; i++)
            part[i] = part[i] >= 0 ? map[part[i]] : -1;
        aud_free(map);
    }
    if (gaps)
        close_gaps((char *)cd, sizeof *cd, ch, n_ch);
    out->codes = cd;
    *codes = NULL;
    aud_free(*vals);
    *vals = NULL;
    return AUD_OK;
}

/* The size of the next chunk when `rem` of the body's len bytes are left, on T threads (> 1):
 * half an equal share of what is left (guided self-scheduling: C. D. Polychronopoulos and
 * D. J. Kuck, "Guided Self-Scheduling", IEEE Trans. Computers C-36(12), 1987, here with half
 * shares), no less than an eighth of a thread's share of the body nor than min bytes: large
 * chunks first, small ones last, so the threads end close together. */
static size_t chunk_want(size_t rem, size_t len, size_t T, size_t min)
{
    size_t want = rem / (2 * T), floor = len / (8 * T);
    if (floor < min)
        floor = min;
    return want > floor ? want : floor;
}

/* Cut the body into chunks at cut[0..n] (returns n, at most MAX_CHUNKS; cut[n] is the end) for
 * T threads: one chunk for one thread; else a thread's share (len / T), then the sizes
 * chunk_want plans (the last taking what is left once that is under one and a half of them),
 * laid out in reverse - the smallest first in the file, the share last - each cut at the first
 * newline after its planned place, or with `quotes` at the first one after it that an even
 * count of quotes from the start puts outside quoted fields. The scan takes them from the
 * last: largest first. The last chunk, which the counting pass skips (its slice is sized by a
 * bound), is the share, so the count reads what it read with one chunk per thread (half the
 * body at 2 threads; with half shares from the start it read three quarters, and drift of two
 * 1M x 30 files took 3.6% longer at 2 threads). */
static size_t cut_chunks(const csv_lexer *lx, size_t T, size_t min, int quotes, const char **cut)
{
    size_t len = (size_t)(lx->end - lx->p);
    size_t plan[MAX_CHUNKS], n = 0;
    for (size_t at = 0; T > 1 && n + 1 < MAX_CHUNKS;) {
        size_t rem = len - at;
        size_t want = n > 0 ? chunk_want(rem, len, T, min) : len / T > min ? len / T : min;
        if (rem <= want || rem - want < want / 2)
            break;
        plan[n++] = want;
        at += want;
    }
    size_t got = 1;
    cut[0] = lx->p;
    long nq = 0;
    size_t off = len;   /* the planned chunks' start, from the end: the largest is last */
    for (size_t i = 0; i < n; i++)
        off -= plan[i];
    for (size_t i = n; i-- > 0;) {   /* the place of the cut after the smallest chunk first */
        const char *target = lx->p + off, *p = target;
        off += plan[i];
        if (target <= cut[got - 1])
            continue;
        if (quotes) {
            nq += count_char(cut[got - 1], target, '"');
            while (p < lx->end && !(*p == '\n' && nq % 2 == 0)) {
                nq += *p == '"';
                p++;
            }
        } else {
            p = memchr(target, '\n', (size_t)(lx->end - target));
            if (p == NULL)
                p = lx->end;
        }
        if (p >= lx->end - 1)
            break;
        cut[got] = p + 1;
        got++;
    }
    cut[got] = lx->end;
    return got;
}

/* Set up the chunks' lexers on the cuts and count the newlines and quotes of chunks
 * [from, upto) on up to `threads` threads, each taking an equal share of their bytes (the
 * counts of the other chunks are left as they are); at 16 threads the count would take parts16
 * jobs (the bound of --verbose). */
static void count_chunks(const csv_lexer *lx, chunk *ch, const char **cut, size_t n_ch,
                         size_t threads, size_t from, size_t upto, size_t parts16)
{
    for (size_t c = 0; c < n_ch; c++) {
        ch[c].lx = *lx;
        ch[c].lx.p = cut[c];
        ch[c].lx.end = cut[c + 1];
        ch[c].lx.base = cut[c];
        ch[c].lx.progress = NULL;   /* the scan reports it for the whole body (scan_progress) */
    }
    for (size_t c = from; c < upto; c++) {
        ch[c].n_newlines = 0;
        ch[c].n_quotes = 0;
    }
    size_t want = threads < n_ch ? threads : n_ch;
    count_job *jobs = aud_calloc(want, sizeof *jobs);
    size_t n_jobs = jobs != NULL ? want : 1;
    count_job one;
    if (jobs == NULL) {   /* no memory for the jobs: count on this thread */
        memset(&one, 0, sizeof one);
        jobs = &one;
    }
    size_t len = (size_t)(cut[upto] - cut[from]);
    for (size_t i = 0; i < n_jobs; i++) {
        jobs[i].p = cut[from] + len / n_jobs * i;
        jobs[i].end = i + 1 < n_jobs ? cut[from] + len / n_jobs * (i + 1) : cut[upto];
        jobs[i].cut = cut;
        jobs[i].n_ch = n_ch;
        jobs[i].release = lx->release;
        jobs[i].src = lx->src;
    }
    aud_run_jobs(jobs, n_jobs, sizeof *jobs, count_job_main);
    aud_work_jobs_parts(parts16);
    for (size_t i = 0; i < n_jobs; i++) {
        for (size_t c = from; c < upto; c++) {
            ch[c].n_newlines += jobs[i].nl[c];
            ch[c].n_quotes += jobs[i].qt[c];
        }
    }
    if (jobs != &one)
        aud_free(jobs);
}

/* Chunks of a body of len bytes for `threads` chunks at most: none under min bytes, at most
 * MAX_CHUNKS, at least 1. */
static size_t chunks_at(size_t len, size_t min, size_t threads)
{
    size_t n = len / min;
    n = n > threads ? threads : n;
    n = n > MAX_CHUNKS ? MAX_CHUNKS : n;
    return n < 1 ? 1 : n;
}

/* What the scan's threads share: the next chunk to take and, for the progress of the whole
 * body, the bytes of the chunks finished. */
typedef struct scan_share {
    atomic_size_t next;
    atomic_size_t done;
    chunk        *ch;
    size_t        n_ch, total;
    size_t        cur_bytes;   /* bytes of the chunk the calling thread is scanning */
    void        (*progress)(void *ctx, double done);
    void         *progress_ctx;
} scan_share;

typedef struct scan_job {
    scan_share *s;
    int         first;   /* the calling thread's job: it reports progress */
    char       *buf;     /* the thread's read buffer (chunk_scan) */
    size_t      cap;
} scan_job;

/* lx.progress of the chunk the calling thread scans (done: the chunk's share): the share of the
 * body done, counting the chunks other threads finished; it only grows. */
static void scan_progress(void *ctx, double done)
{
    scan_share *s = ctx;
    double d = ((double)atomic_load(&s->done) + done * (double)s->cur_bytes) / (double)s->total;
    s->progress(s->progress_ctx, d < 1.0 ? d : 1.0);
}

/* One thread of the scan: the next untaken chunk (from the last: the largest first) until none
 * is left, or until a chunk fails (the sequential pass then reads the whole body: the other
 * chunks would be wasted work). */
static void *scan_job_main(void *arg)
{
    scan_job *j = arg;
    scan_share *s = j->s;
    for (size_t i; (i = atomic_fetch_add(&s->next, 1)) < s->n_ch;) {
        chunk *k = &s->ch[s->n_ch - 1 - i];   /* the largest first (cut_chunks) */
        size_t bytes = (size_t)(k->lx.end - k->lx.p);
        if (j->first && s->progress != NULL && s->total > 0) {
            s->cur_bytes = bytes;
            k->lx.progress = scan_progress;
            k->lx.progress_ctx = s;
        }
        chunk_scan(k, &j->buf, &j->cap);
        atomic_fetch_add(&s->done, bytes);
        if (k->rc != AUD_OK)
            atomic_store(&s->next, s->n_ch);
    }
    aud_free(j->buf);
    j->buf = NULL;
    return NULL;
}

typedef struct merge_ctx {
    chunk      *ch;
    size_t      n_ch;
    aud_table  *t;
    double    **vals;
    int32_t   **codes;
    col_scan   *cs;
    int        *rc;    /* per column */
    aud_error  *err;   /* per column */
} merge_ctx;

static void merge_task(void *ctx, size_t k)
{
    merge_ctx *m = ctx;
    aud_error_clear(&m->err[k]);
    m->rc[k] = merge_column(m->ch, m->n_ch, m->t, k, &m->vals[k], &m->codes[k], &m->cs[k],
                            &m->err[k]);
}

/* The columns' merges (merge_column) as tasks on up to `threads` threads; the error of the
 * first failing column, as the merges one after the other would give it. */
static int merge_columns(chunk *ch, size_t n_ch, aud_table *t, double **vals, int32_t **codes,
                         col_scan *cs, int threads, aud_error *err)
{
    size_t nc = t->n_cols ? t->n_cols : 1;
    merge_ctx m = {ch, n_ch, t, vals, codes, cs, aud_calloc(nc, sizeof *m.rc),
                   aud_malloc(nc * sizeof *m.err)};
    int rc = m.rc == NULL || m.err == NULL ? AUD_E_NOMEM : AUD_OK;
    if (rc == AUD_OK)
        aud_run_tasks(t->n_cols, threads, merge_task, &m);
    for (size_t k = 0; rc == AUD_OK && k < t->n_cols; k++) {
        rc = m.rc[k];
        if (rc != AUD_OK)
            *err = m.err[k];
    }
    aud_free(m.rc);
    aud_free(m.err);
    return rc;
}

int aud_csv_scan_parallel(const csv_lexer *lx, aud_table *t, col_scan *cs,
                         const aud_csv_opts *o, const na_set *na, locale_t cloc,
                         csv_marks *marks)
{
    size_t len = (size_t)(lx->end - lx->p);
    int threads = o->threads > 0 ? o->threads : aud_ncpu();
    size_t min = o->chunk_bytes > 0 ? o->chunk_bytes : 1;
    /* one chunk (one thread, or a body under 1.5 chunk_bytes) too: its arrays are sized by
     * the bound below, not grown by doubling and copying, and a file is read through a buffer
     * (csv_window) */
    size_t T = threads > 1 ? (size_t)threads : 1;
    size_t parts16 = chunks_at(len, min, 16);
    if (o->max_rows != 0)
        return 1;
    const char *cut[MAX_CHUNKS + 1];
    size_t n_ch = cut_chunks(lx, T, min, 0, cut);
    /* the chunks on cache lines of their own: 64-byte aligned (calloc gives 16). Cut again
     * by the quotes (below), the same plan gives no more chunks: each cut is at or after the
     * first one's, so no more planned places find a newline after them */
    size_t n_alloc = n_ch;
    void *ch_mem = aud_calloc(1, n_alloc * sizeof(chunk) + 63);
    if (ch_mem == NULL)
        return aud_error_nomem(lx->err);
    chunk *ch = (chunk *)(((uintptr_t)ch_mem + 63) & ~(uintptr_t)63);
    /* the last chunk is not counted: its slice is sized by a bound instead (below), and no cut
     * follows it whose quotes would matter */
    count_chunks(lx, ch, cut, n_ch, T, 0, n_ch - 1, parts16);
    size_t quotes = 0;
    for (size_t c = 0; c + 1 < n_ch && quotes % 2 == 0; c++)
        quotes += ch[c].n_quotes;
    if (quotes % 2 != 0) {   /* a cut inside a quoted field: cut again, walking the quotes */
        n_ch = cut_chunks(lx, T, min, 1, cut);
        if (n_ch > n_alloc) {   /* cannot happen (above); the sequential pass if it did */
            aud_free(ch_mem);
            return 1;
        }
        count_chunks(lx, ch, cut, n_ch, T, 0, n_ch - 1, parts16);
    }
    /* A record of n_cols fields takes at least n_cols bytes with its newline (n_cols - 1
     * delimiters), and only the last one can end without a newline: the last chunk holds at
     * most bytes / n_cols + 1 records. Its arrays are address space until written. */
    size_t last_bytes = (size_t)(cut[n_ch] - cut[n_ch - 1]);
    size_t last_cap = last_bytes / (t->n_cols > 0 ? t->n_cols : 1) + 1;
    int rc = AUD_OK;
    double **vals = aud_calloc(t->n_cols, sizeof *vals);
    int32_t **codes = aud_calloc(t->n_cols, sizeof *codes);
    if (vals == NULL || codes == NULL)
        rc = AUD_E_NOMEM;
    for (int exact = 0; rc == AUD_OK; exact++) {
        size_t slots = 0;
        for (size_t c = 0; c + 1 < n_ch; c++) {
            ch[c].first = slots;
            slots += ch[c].n_newlines;
        }
        ch[n_ch - 1].first = slots;
        slots += last_cap;
        int failed = 0;
        for (size_t k = 0; k < t->n_cols && !failed; k++) {
            /* pages are only touched where a chunk writes: the unused array of a column costs
             * address space only */
            vals[k] = aud_malloc_large(slots * sizeof **vals);
            codes[k] = aud_malloc_large(slots * sizeof **codes);
            failed = vals[k] == NULL || codes[k] == NULL;
        }
        if (!failed)
            break;
        for (size_t k = 0; k < t->n_cols; k++) {
            aud_free(vals[k]);
            aud_free(codes[k]);
            vals[k] = NULL;
            codes[k] = NULL;
        }
        if (exact) {
            rc = AUD_E_NOMEM;
            break;
        }
        /* the bound asked too much address space: count the last chunk for its exact size */
        count_chunks(lx, ch, cut, n_ch, T, n_ch - 1, n_ch, parts16);
        last_cap = ch[n_ch - 1].n_newlines + 1;
    }
    for (size_t c = 0; c < n_ch && rc == AUD_OK; c++) {
        chunk *k = &ch[c];
        k->lx.line = c == 0 ? lx->line : ch[c - 1].lx.line + (long)ch[c - 1].n_newlines;
        k->lx.err = &k->err;
        k->cs = aud_calloc(t->n_cols, sizeof *k->cs);
        k->lv = aud_calloc(t->n_cols, sizeof *k->lv);
        size_t span = (size_t)(cut[c + 1] - cut[c]);   /* a field is no longer than its chunk */
        k->scratch = aud_malloc_large((span < o->max_field_bytes ? span : o->max_field_bytes) + 1);
        k->t = t;
        k->o = o;
        k->na = na;
        k->cloc = cloc;
        if (k->cs == NULL || k->lv == NULL || k->scratch == NULL) {
            rc = AUD_E_NOMEM;
            break;
        }
        size_t cap = c + 1 == n_ch ? last_cap : k->n_newlines;
        for (size_t j = 0; j < t->n_cols; j++) {
            k->lv[j].name = t->cols[j].name;   /* borrowed, for messages */
            k->cs[j].borrowed = 1;
            k->cs[j].vals = vals[j] + k->first;
            k->cs[j].codes = codes[j] + k->first;
            k->cs[j].cap = cap;
        }
    }
    if (rc == AUD_OK) {
        if (n_ch > 1) {
            scan_share sh = {.ch = ch, .n_ch = n_ch, .total = len, .progress = lx->progress,
                             .progress_ctx = lx->progress_ctx};
            atomic_init(&sh.next, 0);
            atomic_init(&sh.done, 0);
            scan_job jobs[MAX_CHUNKS];
            size_t n_jobs = T < n_ch ? T : n_ch;
            for (size_t i = 0; i < n_jobs; i++)
                jobs[i] = (scan_job){&sh, i == 0, NULL, 0};
            aud_run_jobs(jobs, n_jobs, sizeof jobs[0], scan_job_main);
            aud_work_jobs_parts(parts16);   /* for --verbose's bound */
        } else {   /* on this thread, and counted as serial work by --verbose */
            ch[0].lx.progress = lx->progress;
            ch[0].lx.progress_ctx = lx->progress_ctx;
            chunk_scan(&ch[0], NULL, NULL);
        }
        for (size_t c = 0; c < n_ch && rc == AUD_OK; c++) {
            if (ch[c].rc != AUD_OK || ch[c].lx.p != cut[c + 1])
                rc = 1;   /* an error, or a cut that was not a record boundary */
        }
    }
    if (rc == AUD_OK) {
        t->n_rows = 0;
        for (size_t c = 0; c < n_ch; c++) {
            for (size_t i = 0; i < ch[c].marks.n && rc == AUD_OK; i++) {
                if (aud_csv_mark(marks, t->n_rows + ch[c].marks.m[i].row,
                                 ch[c].marks.m[i].line) != 0)
                    rc = AUD_E_NOMEM;
            }
            t->n_rows += ch[c].n_rows;
        }
        if (rc == AUD_OK)
            rc = merge_columns(ch, n_ch, t, vals, codes, cs, threads, lx->err);
        t->n_chunks = n_ch;
    }
    if (rc != AUD_OK) {   /* undo partial merges: the sequential pass starts from scratch */
        for (size_t k = 0; k < t->n_cols; k++) {
            aud_csv_col_scan_free(&cs[k]);
            memset(&cs[k], 0, sizeof cs[k]);
            for (size_t l = 0; l < t->cols[k].n_levels; l++)
                aud_free(t->cols[k].levels[l]);
            aud_free(t->cols[k].levels);
            t->cols[k].levels = NULL;
            t->cols[k].n_levels = 0;
        }
        t->n_rows = 0;
        t->n_chunks = 0;
    }
    for (size_t k = 0; k < t->n_cols; k++) {
        if (vals != NULL)
            aud_free(vals[k]);
        if (codes != NULL)
            aud_free(codes[k]);
    }
    aud_free(vals);
    aud_free(codes);
    for (size_t c = 0; c < n_ch; c++)
        chunk_free(&ch[c], t->n_cols);
    aud_free(ch_mem);
    if (rc == AUD_E_NOMEM)
        return aud_error_nomem(lx->err);
    return rc;
}
