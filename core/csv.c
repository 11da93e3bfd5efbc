/* csv.c - RFC 4180 CSV reader into a columnar table (SPEC section 2).
 *
 * Two passes over the (memory-mapped) file: pass 1 tokenizes every record, checks the shape and infers
 * each column's type; pass 2 fills exactly-sized arrays. The tokenizer, number parsing,
 * dictionaries, the parallel first pass and file loading live in their own files (csv_int.h). */
#define _GNU_SOURCE
#include "core/csv_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char *const default_na[] = {"", "NA", "NaN", "nan", "null", "?", NULL};

void aud_csv_opts_default(aud_csv_opts *opts)
{
    opts->delimiter = ',';
    opts->na_tokens = default_na;
    opts->max_field_bytes = (size_t)1 << 20;
    opts->max_columns = 100000;
    opts->max_rows = 0;
    opts->threads = 0;
    opts->chunk_bytes = (size_t)1 << 20;   /* files from 2 MiB read on 2 threads or more */
    opts->header = 1;
    opts->names = NULL;
    opts->skip_rows = 0;
    opts->comment = '\0';
    opts->keep_spaces = 0;
    opts->progress = NULL;
    opts->progress_ctx = NULL;
}

static int by_name_then_index(const void *a, const void *b, void *ctx)
{
    const aud_column *cols = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(cols[x].name, cols[y].name);
    return c != 0 ? c : (x > y) - (x < y);
}

/* Mark columns whose name other columns share (n_same), in O(n log n) for very wide files. They
 * are kept apart; using such a name is an error (aud_table_lookup). */
static int mark_duplicate_names(csv_lexer *lx, aud_table *t)
{
    size_t n = t->n_cols;
    size_t *idx = aud_malloc((n ? n : 1) * sizeof *idx);
    if (idx == NULL)
        return aud_error_nomem(lx->err);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* qsort_r: files are read on several threads at once (audit drift reads both) */
    qsort_r(idx, n, sizeof *idx, by_name_then_index, t->cols);
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && strcmp(t->cols[idx[e]].name, t->cols[idx[i]].name) == 0)
            e++;
        for (size_t k = i; k < e; k++)
            t->cols[idx[k]].n_same = e - i - 1;
        i = e;
    }
    aud_free(idx);
    return AUD_OK;
}

/* Append a column called name[0..n) (checked: not empty, valid UTF-8) to t. */
static int add_column(csv_lexer *lx, aud_table *t, size_t *cap, const aud_csv_opts *o,
                      const char *name, size_t n, long line)
{
    long col = (long)t->n_cols + 1;
    if (t->n_cols >= o->max_columns)
        return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, line, col,
                             "more than the limit of %zu columns", o->max_columns);
    if (t->n_cols == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        aud_column *nc = aud_realloc(t->cols, ncap * sizeof *nc);
        if (nc == NULL)
            return aud_error_nomem(lx->err);
        t->cols = nc;
        *cap = ncap;
    }
    aud_column *c = &t->cols[t->n_cols];
    memset(c, 0, sizeof *c);
    t->n_cols++;
    size_t bad = aud_utf8_invalid_at((const unsigned char *)name, n);
    if (bad != (size_t)-1)
        return aud_error_set(lx->err, AUD_E_PARSE, lx->name, line, col,
                             "column name is not valid UTF-8 (byte %zu)", bad + 1);
    if (n == 0)
        return aud_error_set(lx->err, AUD_E_SCHEMA, lx->name, line, col, "empty column name");
    c->name = aud_malloc(n + 1);
    if (c->name == NULL)
        return aud_error_nomem(lx->err);
    memcpy(c->name, name, n);
    c->name[n] = '\0';
    return AUD_OK;
}

/* Names of the columns: the header row (consumed), or o->names / col1..colN for a file without
 * one (the first record is then only counted). */
static int parse_header(csv_lexer *lx, aud_table *t, const aud_csv_opts *o, char *scratch)
{
    long header_line = lx->line;
    size_t cap = 0;
    if (o->names != NULL || !o->header) {
        csv_lexer peek = *lx;
        size_t n = 0;
        for (;;) {
            csv_field f;
            int r = aud_csv_lex_field(&peek, &f, (long)n + 1);
            if (r == FIELD_ERROR)
                return lx->err->code;
            if (++n > o->max_columns)
                return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, header_line, (long)n,
                                     "more than the limit of %zu columns", o->max_columns);
            if (r == FIELD_LAST)
                break;
        }
        size_t given = 0;
        while (o->names != NULL && o->names[given] != NULL)
            given++;
        if (o->names != NULL && given != n)
            return aud_error_set(lx->err, AUD_E_SCHEMA, lx->name, header_line, 0,
                                 "%zu column names given, but the first row has %zu fields",
                                 given, n);
        for (size_t k = 0; k < n; k++) {
            char gen[32];
            const char *nm = gen;
            if (o->names != NULL)
                nm = o->names[k];
            else
                snprintf(gen, sizeof gen, "col%zu", k + 1);
            int rc = add_column(lx, t, &cap, o, nm, strlen(nm), header_line);
            if (rc != AUD_OK)
                return rc;
        }
        return mark_duplicate_names(lx, t);
    }
    for (;;) {
        csv_field f;
        long fline = lx->line;
        int r = aud_csv_lex_field(lx, &f, (long)t->n_cols + 1);
        if (r == FIELD_ERROR)
            return lx->err->code;
        size_t n = aud_csv_field_text(&f, scratch);
        int rc = add_column(lx, t, &cap, o, scratch, n, fline);
        if (rc != AUD_OK)
            return rc;
        if (r == FIELD_LAST)
            return mark_duplicate_names(lx, t);
    }
}

void aud_csv_col_scan_free(col_scan *c)
{
    if (!c->borrowed) {
        aud_free(c->vals);
        aud_free(c->codes);
    }
    aud_csv_dict_free(&c->d);
}

/* Make room for row index `row` in the column's value or code array. */
static int col_reserve(col_scan *c, size_t row)
{
    if (row < c->cap)
        return 0;
    if (c->borrowed)
        return -1;   /* cannot happen: a chunk has no more records than newlines (+1 at the end) */
    size_t ncap = c->cap ? c->cap : 64;
    while (ncap <= row)
        ncap *= 2;
    if (c->categorical) {
        int32_t *nc = aud_realloc(c->codes, ncap * sizeof *nc);
        if (nc == NULL)
            return -1;
        c->codes = nc;
    } else {
        double *nv = aud_realloc(c->vals, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        c->vals = nv;
    }
    c->cap = ncap;
    return 0;
}

/* Code of a (non-missing) field in column k, adding and UTF-8-checking a new level. */
static int encode_field(csv_lexer *lx, aud_column *col, csv_dict *d, const csv_field *f,
                        char *scratch, long line, long colno, int32_t *code)
{
    const char *s = f->s;
    size_t n = f->len;
    if (f->has_escape) {
        n = aud_csv_field_text(f, scratch);
        s = scratch;
    }
    uint64_t w;
#if CSV_SWAR
    if (!f->has_escape && lx->end - s >= 8)   /* the word straight from the input */
        w = load_u64(s) & (n >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * n)) - 1);
    else
#endif
        w = aud_csv_prefix_word(s, n);
    int added;
    int32_t c = aud_csv_dict_code_w(d, col, s, n, w, &added);
    if (c == -1)
        return aud_error_nomem(lx->err);
    if (c == -2)
        return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, line, colno, "too many categories");
    if (added) {
        size_t bad = aud_utf8_invalid_at((const unsigned char *)s, n);
        if (bad != (size_t)-1) {
            aud_error_set(lx->err, AUD_E_PARSE, lx->name, line, colno,
                          "value is not valid UTF-8 (byte %zu)", bad + 1);
            return aud_error_field(lx->err, col->name);
        }
    }
    *code = c;
    return AUD_OK;
}

int aud_csv_mark(csv_marks *mk, size_t row, long line)
{
    if (mk->n > 0 && mk->m[mk->n - 1].line + (long)(row - mk->m[mk->n - 1].row) == line)
        return 0;
    if (mk->n == mk->cap) {
        size_t ncap = mk->cap ? mk->cap * 2 : 8;
        aud_line_mark *nm = aud_realloc(mk->m, ncap * sizeof *nm);
        if (nm == NULL)
            return -1;
        mk->m = nm;
        mk->cap = ncap;
    }
    mk->m[mk->n++] = (aud_line_mark){row, line};
    return 0;
}

/* Pass 1's work on field f (already lexed, starting on line fline) of column k in row `rows`:
 * a missing value, a number, or a category; a column whose first non-number comes after
 * numbers is deferred (then nothing more is kept of it in this pass). */
static int take_field(csv_lexer *lx, col_scan *c, aud_column *lv, const na_set *na,
                      locale_t cloc, char *scratch, const csv_field *f, long fline, size_t k,
                      size_t rows)
{
    if (c->deferred)
        return AUD_OK;
    int missing = is_na(na, f->s, f->len);
    double v = NAN;
    if (!c->categorical && !missing) {
        int pr = f->has_escape ? NUM_NOT : aud_csv_parse_number(f->s, f->len, cloc, &v);
        if (pr == NUM_NOMEM)
            return aud_error_nomem(lx->err);
        if (pr == NUM_RANGE) {   /* reported after the pass if still numeric */
            if (c->range_line == 0) {
                c->range_line = fline;
                snprintf(c->range_text, sizeof c->range_text, "%.*s",
                         (int)(f->len < 40 ? f->len : 40), f->s);
            }
            v = NAN;
            pr = NUM_OK;
        }
        if (pr == NUM_NOT) {   /* becomes categorical */
            if (!c->borrowed) {
                aud_free(c->vals);
                c->vals = NULL;
                c->cap = 0;
            }
            c->categorical = 1;
            if (c->n_values > 0) {
                c->deferred = 1;
                return AUD_OK;
            }
            if (col_reserve(c, rows) != 0)
                return aud_error_nomem(lx->err);
            for (size_t i = 0; i < rows; i++)
                c->codes[i] = -1;   /* every earlier value was missing */
        } else {
            c->n_values++;
        }
    }
    if (col_reserve(c, rows) != 0)
        return aud_error_nomem(lx->err);
    if (missing)
        c->n_missing++;
    if (!c->categorical) {
        c->vals[rows] = v;
        return AUD_OK;
    }
    int32_t code = -1;
    if (!missing) {
        int rc = encode_field(lx, lv, &c->d, f, scratch, fline, (long)k + 1, &code);
        if (rc != AUD_OK)
            return rc;
    }
    c->codes[rows] = code;
    return AUD_OK;
}

#if CSV_SWAR && defined(__SSE2__)
#define CSV_INDEX 1
/* Bit i of *sep: byte b[i] is the delimiter or a newline; of *quote: it is a quote (64 bytes,
 * 16 at a time: byte compares and their sign bits, as simdjson's structural index - G. Langdale
 * and D. Lemire, "Parsing Gigabytes of JSON per Second", VLDB Journal 28(6), 2019). */
static inline void block_masks(const char *b, __m128i vd, __m128i vn, __m128i vq, uint64_t *sep,
                               uint64_t *quote)
{
    uint64_t s = 0, q = 0;
    for (int j = 0; j < 4; j++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * j));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, vd), _mm_cmpeq_epi8(x, vn));
        s |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * j);
        q |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << (16 * j);
    }
    *sep = s;
    *quote = q;
}

/* A number field [s, s + n) of the form [-]d{1,8} or [-]d{0,8}.d{0,7} (a digit at least), its
 * end known: the value as csv_fast_number gives it (Clinger's exact quotient), 1; 0 for anything
 * else. Reads 8 bytes at s + 1 + (the integer digits) + 1 at most: the caller keeps 17 bytes of
 * input after the field. */
static inline int known_number(const char *s, size_t n, double *out)
{
    int neg = n > 0 && *s == '-';
    s += neg;
    n -= (size_t)neg;
    if (n == 0 || n > 16)
        return 0;
    uint64_t x = load_u64(s);
    int ni = swar_digits(x), nf = 0;
    uint64_t m;
    if ((size_t)ni >= n) {
        m = swar_value(x, (int)n);   /* n <= 8 here: ni is at most 8 */
    } else {
        if (s[ni] != '.')
            return 0;
        nf = (int)n - ni - 1;
        if (nf > 7)
            return 0;
        uint64_t y = load_u64(s + ni + 1);
        if (swar_digits(y) < nf || ni + nf == 0)
            return 0;
        m = ni > 0 ? swar_value(x, ni) : 0;
        if (nf > 0)
            m = m * pow10_u64(nf) + swar_value(y, nf);
    }
    double v = (double)m / aud_csv_pow10_exact[nf];
    *out = neg ? -v : v;
    return 1;
}

static inline int is_blank(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* One record at lx->p read through an index of its separators: when it holds no quote, ends in
 * a newline with 17 or more bytes after it and has t->n_cols fields, their bounds are known
 * before any is parsed, so the fields do not wait on each other (the lexer's scan of one field
 * is what the next one's start depends on) and no field is scanned twice. Numbers go through
 * known_number, plain fields (no blanks around them when they are trimmed, no CR) straight to
 * take_field, and any other field through the lexer, from its start (it ends at the same
 * separator: there are no quotes). Returns -1 with nothing consumed when the record is not such
 * a one (the general loop reads it), else AUD_OK or an error, lx past the record. */
static int index_record(csv_lexer *lx, const aud_table *t, col_scan *cs, aud_column *lvcols,
                        const na_set *na, locale_t cloc, char *scratch, size_t rows,
                        const char **sep)
{
    const char *p = lx->p, *end = lx->end, *b = p;
    const __m128i vd = _mm_set1_epi8(lx->delim), vn = _mm_set1_epi8('\n');
    const __m128i vq = _mm_set1_epi8('"');
    size_t n_cols = t->n_cols, k = 0;
    for (;;) {
        if (end - b < 64)
            return -1;
        uint64_t ms, mq;
        block_masks(b, vd, vn, vq, &ms, &mq);
        uint64_t before_quote = mq != 0 ? (mq & (0 - mq)) - 1 : ~UINT64_C(0);
        uint64_t m = ms & before_quote;
        while (m != 0) {
            const char *q = b + __builtin_ctzll(m);
            m &= m - 1;
            if (k == n_cols)
                return -1;   /* more fields than columns: the general loop says so */
            sep[k++] = q;
            if (*q == '\n') {
                if (k != n_cols || end - q < 18)
                    return -1;
                goto indexed;
            }
        }
        if (mq != 0)
            return -1;
        b += 64;
    }
indexed:;
    long line = lx->line;
    const char *s = p;
    for (k = 0; k < n_cols; k++) {
        const char *e = sep[k];
        size_t n = (size_t)(e - s);
        col_scan *c = &cs[k];
        double v;
        if (!c->categorical && !c->deferred && !na->first[(unsigned char)*s] &&
            known_number(s, n, &v)) {
            if (rows >= c->cap && col_reserve(c, rows) != 0)
                return aud_error_nomem(lx->err);
            c->vals[rows] = v;
            c->n_values = 1;
        } else if (n > 0 && n <= lx->max_field && e[-1] != '\r' &&
                   !(lx->trim && (is_blank(s[0], lx->delim) || is_blank(e[-1], lx->delim)))) {
            csv_field f = {s, n, 0, 0};
            int rc = take_field(lx, c, &lvcols[k], na, cloc, scratch, &f, line, k, rows);
            if (rc != AUD_OK)
                return rc;
        } else {
            csv_field f;
            lx->p = s;
            if (aud_csv_lex_field(lx, &f, (long)k + 1) == FIELD_ERROR)
                return lx->err->code;
            int rc = take_field(lx, c, &lvcols[k], na, cloc, scratch, &f, line, k, rows);
            if (rc != AUD_OK)
                return rc;
        }
        s = e + 1;
    }
    lx->p = s;
    lx->line = line + 1;
    return AUD_OK;
}
#else
#define CSV_INDEX 0
#endif

/* Rows [from, from + PREFAULT_ROWS) of each column's array in use (values, or codes once
 * categorical) mapped at once (aud_prefault) before the scan writes them: chunks fill slices
 * of arrays sized up front, and page by page each first write would fault. Returns the row
 * where the next step starts. */
enum { PREFAULT_ROWS = 16384 };
static size_t prefault_rows(col_scan *cs, size_t n_cols, size_t from)
{
    for (size_t k = 0; k < n_cols; k++) {
        col_scan *c = &cs[k];
        if (!c->borrowed || from >= c->cap)
            continue;
        size_t n = c->cap - from < PREFAULT_ROWS ? c->cap - from : PREFAULT_ROWS;
        if (!c->categorical && !c->deferred)
            aud_prefault(c->vals + from, n * sizeof *c->vals);
        else if (c->categorical && !c->deferred)
            aud_prefault(c->codes + from, n * sizeof *c->codes);
    }
    return from + PREFAULT_ROWS;
}

int aud_csv_scan_records(csv_lexer *lx, const aud_table *t, col_scan *cs, aud_column *lvcols,
                        const aud_csv_opts *o, const na_set *na, locale_t cloc, char *scratch,
                        size_t *n_rows, csv_marks *marks)
{
    size_t rows = 0, mapped = 0;
    int fast = aud_csv_fast_ok(lx);
    int rc = AUD_OK;
#if CSV_INDEX
    const char **sep = fast ? aud_malloc((t->n_cols ? t->n_cols : 1) * sizeof *sep) : NULL;
    if (fast && sep == NULL)
        return aud_error_nomem(lx->err);
#endif
    for (;;) {
        if (rows == mapped)
            mapped = prefault_rows(cs, t->n_cols, rows);
        aud_csv_skip_blank(lx);
        if (lx->p >= lx->end) {
            int more = lx->refill != NULL ? lx->refill(lx) : 0;
            if (more < 0) {
                rc = lx->err->code;
                goto out;
            }
            if (more == 0)
                break;
            continue;
        }
        long rec_line = lx->line;
        size_t k = 0;
#if CSV_INDEX
        if (fast) {
            rc = index_record(lx, t, cs, lvcols, na, cloc, scratch, rows, sep);
            if (rc > 0)
                goto out;
            if (rc == AUD_OK) {
                k = t->n_cols;
                goto record_done;
            }
            rc = AUD_OK;
        }
#endif
        for (;;) {
            if (fast && k < t->n_cols && !cs[k].categorical && !cs[k].deferred) {
                double v;
                int r = csv_fast_number(lx, na, &v);
                if (r != -2) {
                    col_scan *c = &cs[k];
                    if (rows >= c->cap && col_reserve(c, rows) != 0) {
                        rc = aud_error_nomem(lx->err);
                        goto out;
                    }
                    c->vals[rows] = v;
                    c->n_values++;
                    k++;
                    if (r == FIELD_LAST)
                        break;
                    continue;
                }
            }
            csv_field f;
            long fline = lx->line;   /* where this field starts (quoted fields may span lines) */
            int r = aud_csv_lex_field(lx, &f, (long)k + 1);
            if (r == FIELD_ERROR) {
                rc = lx->err->code;
                goto out;
            }
            if (k < t->n_cols) {
                rc = take_field(lx, &cs[k], &lvcols[k], na, cloc, scratch, &f, fline, k, rows);
                if (rc != AUD_OK)
                    goto out;
            }
            k++;
            if (r == FIELD_LAST)
                break;
        }
#if CSV_INDEX
    record_done:
#endif
        if (k != t->n_cols) {
            rc = aud_error_set(lx->err, AUD_E_PARSE, lx->name, rec_line,
                               (long)(k < t->n_cols ? k : t->n_cols + 1),
                               "expected %zu fields, found %zu", t->n_cols, k);
            goto out;
        }
        /* a new line mark only when rows stop following lines one to one */
        if (marks != NULL &&
            !(marks->n > 0 && marks->m[marks->n - 1].line +
                                  (long)(rows - marks->m[marks->n - 1].row) == rec_line) &&
            aud_csv_mark(marks, rows, rec_line) != 0) {
            rc = aud_error_nomem(lx->err);
            goto out;
        }
        rows++;
        if (lx->release && (rows & 0xfff) == 0)
            aud_csv_release(lx);
        if (lx->progress != NULL && (rows & 0xffff) == 0)
            lx->progress(lx->progress_ctx,
                         (double)(lx->p - lx->base) / (double)(lx->end - lx->base));
        if (o->max_rows != 0 && rows > o->max_rows) {
            rc = aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, rec_line, 0,
                               "more than the limit of %zu rows", o->max_rows);
            goto out;
        }
    }
    *n_rows = rows;
out:
#if CSV_INDEX
    aud_free(sep);
#endif
    return rc;
}

/* Pass 2, only for deferred columns (numbers first, text later): encode them from the start. */
static int fill_deferred(csv_lexer *lx, aud_table *t, col_scan *cs, const na_set *na,
                         char *scratch)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        aud_csv_skip_blank(lx);
        for (size_t k = 0; k < t->n_cols; k++) {
            csv_field f;
            long fline = lx->line;
            if (aud_csv_lex_field(lx, &f, (long)k + 1) == FIELD_ERROR)
                return lx->err->code;
            if (!cs[k].deferred)
                continue;
            aud_column *c = &t->cols[k];
            int32_t code = -1;
            if (is_na(na, f.s, f.len)) {
                c->n_missing++;
            } else {
                int rc = encode_field(lx, c, &cs[k].d, &f, scratch, fline, (long)k + 1, &code);
                if (rc != AUD_OK)
                    return rc;
            }
            c->codes[i] = code;
        }
    }
    return AUD_OK;
}

static int parse_csv_pass(aud_table **out, const char *data, size_t len, const char *name,
                          const aud_csv_opts *opts, int mapped, const csv_source *src,
                          aud_error *err, int *chunked)
{
    aud_csv_opts defaults;
    if (opts == NULL) {
        aud_csv_opts_default(&defaults);
        opts = &defaults;
    }
    int rc = AUD_OK;
    aud_table *t = NULL;
    col_scan *cs = NULL;
    size_t t_cols = 0;
    na_set na;
    char *scratch = NULL;
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (cloc == (locale_t)0)
        return aud_error_set(err, AUD_E_INTERNAL, name, 0, 0, "cannot create the C locale");
    if (aud_csv_na_init(&na, opts->na_tokens) != 0) {
        rc = aud_error_set(err, AUD_E_USAGE, name, 0, 0, "more than %d missing-value tokens",
                           NA_MAX_TOKENS);
        goto done;
    }
    if (opts->delimiter == '"' || opts->delimiter == '\n' || opts->delimiter == '\r') {
        rc = aud_error_set(err, AUD_E_USAGE, name, 0, 0, "invalid delimiter");
        goto done;
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (opts->comment == '"' || opts->comment == '\n' || opts->comment == '\r' ||
        (opts->comment != '\0' && opts->comment == opts->delimiter)) {
        rc = aud_error_set(err, AUD_E_USAGE, name, 0, 0, "invalid comment character");
        goto done;
    }
    csv_lexer lx = {.p = data, .end = data + len, .name = name, .delim = opts->delimiter,
                    .max_field = opts->max_field_bytes, .line = 1, .err = err, .base = data,
                    .progress = opts->progress, .progress_ctx = opts->progress_ctx,
                    .trim = !opts->keep_spaces, .comment = opts->comment,
                    .release = mapped, .src = src};
    aud_csv_skip_lines(&lx, opts->skip_rows);
    aud_csv_skip_blank(&lx);
    if (lx.p >= lx.end) {
        rc = aud_error_set(err, AUD_E_PARSE, name, lx.line, 0,
                           opts->header && opts->names == NULL
                               ? "empty file: a header row is required"
                               : "empty file: no data rows");
        goto done;
    }
    t = aud_calloc(1, sizeof *t);
    /* a field's text (unquoted, so no longer than its bytes) fits the scratch: at most the
     * input's length, so a small file does not take (and touch) max_field_bytes */
    scratch = aud_malloc_large((len < opts->max_field_bytes ? len : opts->max_field_bytes) + 1);
    if (t == NULL || scratch == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    t->path = aud_strdup(name);
    if (t->path == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    rc = parse_header(&lx, t, opts, scratch);
    if (rc != AUD_OK)
        goto done;
    const char *body = lx.p;
    long body_line = lx.line;
    lx.base = body;
    cs = aud_calloc(t->n_cols, sizeof *cs);
    t_cols = t->n_cols;
    if (cs == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* large files: parse chunks on several threads; 1 = fall back to one sequential pass */
    csv_marks marks = {NULL, 0, 0};
    rc = aud_csv_scan_parallel(&lx, t, cs, opts, &na, cloc, &marks);
    *chunked = rc == AUD_OK && t->n_chunks > 1;
    if (rc == 1) {
        marks.n = 0;
        rc = aud_csv_scan_records(&lx, t, cs, t->cols, opts, &na, cloc, scratch, &t->n_rows,
                                  &marks);
    }
    t->line_marks = marks.m;   /* the table owns them now */
    t->n_line_marks = marks.n;
    if (rc != AUD_OK)
        goto done;
    for (size_t k = 0; k < t->n_cols; k++) {
        if (!cs[k].categorical && cs[k].range_line > 0) {
            aud_error_set(err, AUD_E_DOMAIN, name, cs[k].range_line, (long)k + 1,
                          "number out of the range of a double: \"%s\"", cs[k].range_text);
            rc = aud_error_field(err, t->cols[k].name);
            goto done;
        }
    }
    int any_deferred = 0;
    for (size_t k = 0; k < t->n_cols; k++) {
        aud_column *c = &t->cols[k];
        c->type = cs[k].categorical ? AUD_COL_CATEGORICAL : AUD_COL_NUMERIC;
        if (cs[k].deferred) {
            c->codes = aud_malloc((t->n_rows ? t->n_rows : 1) * sizeof *c->codes);
            any_deferred = 1;
        } else if (c->type == AUD_COL_NUMERIC) {
            c->num = cs[k].vals != NULL ? cs[k].vals : aud_malloc(sizeof *c->num);
            cs[k].vals = NULL;
            c->n_missing = cs[k].n_missing;
        } else {
            c->codes = cs[k].codes != NULL ? cs[k].codes : aud_malloc(sizeof *c->codes);
            cs[k].codes = NULL;
            c->n_missing = cs[k].n_missing;
        }
        if (c->num == NULL && c->codes == NULL) {
            rc = aud_error_nomem(err);
            goto done;
        }
    }
    if (any_deferred) {
        lx.p = body;
        lx.line = body_line;
        rc = fill_deferred(&lx, t, cs, &na, scratch);
        if (rc != AUD_OK)
            goto done;
    }
    *out = t;
    t = NULL;
done:
    aud_table_free(t);
    for (size_t k = 0; cs != NULL && k < t_cols; k++)
        aud_csv_col_scan_free(&cs[k]);
    aud_free(cs);
    aud_free(scratch);
    freelocale(cloc);
    return rc;
}

/* One pass, then, when it read its records in several chunks and found an error after them (a
 * number out of range is reported once the column's type is known; a column whose chunks
 * deferred it is encoded by a second pass), the pass again on one thread: a column that a chunk
 * deferred (numbers first in that chunk) while the whole file has text first is checked in the
 * second pass instead of the scan, so two errors could come out in another order. Errors
 * reported are those of one thread whatever the threads (found by fuzz_csv: a number out of
 * range on line 2 against invalid UTF-8 on line 5). */
static int parse_csv(aud_table **out, const char *data, size_t len, const char *name,
                     const aud_csv_opts *opts, int mapped, const csv_source *src,
                     aud_error *err)
{
    int chunked = 0;
    int rc = parse_csv_pass(out, data, len, name, opts, mapped, src, err, &chunked);
    if (rc != AUD_OK && rc != AUD_E_NOMEM && chunked) {
        aud_csv_opts one;
        if (opts != NULL)
            one = *opts;
        else
            aud_csv_opts_default(&one);
        one.threads = 1;
        rc = parse_csv_pass(out, data, len, name, &one, mapped, src, err, &chunked);
    }
    return rc;
}

int aud_table_parse_csv(aud_table **out, const char *data, size_t len, const char *name,
                        const aud_csv_opts *opts, aud_error *err)
{
    return parse_csv(out, data, len, name, opts, 0, NULL, err);
}

int aud_csv_parse_mapped(aud_table **out, const char *data, size_t len, const char *name,
                         const aud_csv_opts *opts, const csv_source *src, aud_error *err)
{
    return parse_csv(out, data, len, name, opts, 1, src, err);
}
