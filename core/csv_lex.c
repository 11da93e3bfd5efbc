/* csv_lex.c - the CSV tokenizer (RFC 4180): one field at a time, quoted fields with "" escapes and
 * embedded newlines, LF or CRLF line ends, blank lines. */
#include "core/csv_int.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A space or tab that is not the delimiter. */
static inline int is_space(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* Read one field at lx->p. Returns FIELD_MORE when a delimiter follows, FIELD_LAST at the end of a
 * record (newline or end of input), FIELD_ERROR with lx->err set. `col` is only for messages. */
int aud_csv_lex_field(csv_lexer *lx, csv_field *f, long col)
{
    const char *p = lx->p, *end = lx->end;
    f->quoted = 0;
    f->has_escape = 0;
    if (lx->trim) {   /* spaces before an opening quote (as pandas' skipinitialspace) */
        const char *q = p;
        while (q < end && is_space(*q, lx->delim))
            q++;
        if (q < end && *q == '"')
            p = q;
    }
    if (p < end && *p == '"') {
        long start_line = lx->line;
        const char *s = ++p;
        for (;;) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            if (q == NULL) {
                return aud_error_set(lx->err, AUD_E_PARSE, lx->name, start_line, col,
                                     "unterminated quoted field"), FIELD_ERROR;
            }
            for (const char *r = p; r < q; r++)
                lx->line += *r == '\n';
            if (q + 1 < end && q[1] == '"') {
                f->has_escape = 1;
                p = q + 2;
                continue;
            }
            f->s = s;
            f->len = (size_t)(q - s);
            f->quoted = 1;
            p = q + 1;
            break;
        }
        while (lx->trim && p < end && is_space(*p, lx->delim))
            p++;
        if (f->len > lx->max_field)
            return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, start_line, col,
                                 "field longer than the limit of %zu bytes", lx->max_field),
                   FIELD_ERROR;
        if (p == end) {
            lx->p = p;
            return FIELD_LAST;
        }
        if (*p == lx->delim) {
            lx->p = p + 1;
            return FIELD_MORE;
        }
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += *p == '\r' ? 2 : 1;
            lx->line++;
            lx->p = p;
            return FIELD_LAST;
        }
        return aud_error_set(lx->err, AUD_E_PARSE, lx->name, lx->line, col,
                             "unexpected character after a closing quote"), FIELD_ERROR;
    }
    const char *s = p;
    char d = lx->delim;
#if CSV_SWAR
    /* 8 bytes at a time: a byte equal to c is a zero byte of x ^ c..c, and (y - 1..1) & ~y &
     * 80..80 marks the zero bytes of y exactly up to the first one (a borrow only runs upward) */
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    const uint64_t dd = ones * (unsigned char)d, nl = ones * (unsigned char)'\n';
    while (end - p >= 8) {
        uint64_t x = load_u64(p), a = x ^ dd, b = x ^ nl;
        uint64_t hit = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
        if (hit != 0) {
            p += __builtin_ctzll(hit) >> 3;
            goto found;
        }
        p += 8;
    }
#endif
    while (p < end && *p != d && *p != '\n')
        p++;
#if CSV_SWAR
found:;   /* a label before a declaration is C23: an empty statement keeps C11 */
#endif
    const char *fe = p;
    if (fe > s && fe[-1] == '\r' && (p == end || *p == '\n'))
        fe--;
    if (lx->trim) {
        while (s < fe && is_space(*s, d))
            s++;
        while (fe > s && is_space(fe[-1], d))
            fe--;
    }
    f->s = s;
    f->len = (size_t)(fe - s);
    if (f->len > lx->max_field)
        return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, lx->line, col,
                             "field longer than the limit of %zu bytes", lx->max_field),
               FIELD_ERROR;
    if (p == end) {
        lx->p = p;
        return FIELD_LAST;
    }
    if (*p == d) {
        lx->p = p + 1;
        return FIELD_MORE;
    }
    lx->line++;
    lx->p = p + 1;
    return FIELD_LAST;
}

/* Copy a field's text into buf (size >= f->len + 1), undoing "" escapes. Returns the length. */
size_t aud_csv_field_text(const csv_field *f, char *buf)
{
    if (!f->has_escape) {
        memcpy(buf, f->s, f->len);
        buf[f->len] = '\0';
        return f->len;
    }
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++) {
        buf[n++] = f->s[i];
        if (f->s[i] == '"')
            i++;
    }
    buf[n] = '\0';
    return n;
}

/* True when the record starting at p is an empty line or a comment line. */
static int blank_line(const char *p, const char *end, char comment)
{
    return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n') ||
                       (comment != '\0' && *p == comment));
}

int aud_csv_skip_blank(csv_lexer *lx)
{
    int skipped = 0;
    while (blank_line(lx->p, lx->end, lx->comment)) {
        const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        lx->p = nl != NULL ? nl + 1 : lx->end;
        lx->line++;
        skipped = 1;
    }
    return skipped;
}

void aud_csv_skip_lines(csv_lexer *lx, size_t n)
{
    for (size_t i = 0; i < n && lx->p < lx->end; i++) {
        const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        lx->p = nl != NULL ? nl + 1 : lx->end;
        lx->line++;
    }
}

void aud_csv_release(csv_lexer *lx)
{
    enum { STEP = 8u << 20 };
    if (lx->released == NULL || lx->released > lx->p)
        lx->released = lx->p;   /* first call, or a pass that started over */
    if ((size_t)(lx->p - lx->released) < STEP)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)lx->released + page - 1) & ~(page - 1);
    uintptr_t e = (uintptr_t)lx->p & ~(page - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_DONTNEED);   /* advice: a failure changes nothing */
    lx->released = lx->p;
}
