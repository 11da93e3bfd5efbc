/* csv_int.h - internals of the CSV reader (SPEC section 2), shared by its files:
 *   csv.c           header row, pass 1 (type inference, values) and pass 2, aud_table_parse_csv
 *   csv_lex.c       tokenizer (RFC 4180 fields, blank lines)
 *   csv_num.c       missing-value tokens and number parsing
 *   csv_dict.c      categorical dictionaries
 *   csv_parallel.c  parallel first pass over chunks of a large file
 *   csv_load.c      loading a file (memory map, pipes, stdin)
 *   table.c         the table's accessors
 * Not part of the library's surface. */
#ifndef AUD_CSV_INT_H
#define AUD_CSV_INT_H

#include "core/table.h"

#include <locale.h>
#include <stdint.h>
#include <string.h>

/* ---- tokenizer (csv_lex.c) ---------------------------------------------------------------- */

/* A regular file behind a read-only mapping: its bytes can also be read with pread, which on
 * some systems (virtual machines where every page fault is a trap) costs a fraction of touching
 * the mapping's pages: the parallel reader reads its chunks through small buffers from it. */
typedef struct csv_source {
    int fd;
    const char *file0;  /* the mapping's address of the file's first byte */
} csv_source;

typedef struct csv_lexer csv_lexer;

struct csv_lexer {
    const char *p, *end;
    const char *name;
    char delim;
    size_t max_field;
    long line;          /* physical line of p (1-based) */
    aud_error *err;
    const char *base;   /* where progress counts from */
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
    int trim;           /* trim spaces and tabs around unquoted fields (and around quotes) */
    char comment;       /* a line starting with it is skipped like a blank line ('\0': none) */
    int release;        /* the input is a read-only file mapping: pages read are given back */
    const char *released;   /* start of the pages not given back yet (NULL: lx->p at first) */
    const csv_source *src;  /* the file, when the data is its mapping (NULL: memory only) */
    /* Pass 1 calls refill (when set) at a record boundary when p reaches end: it makes
     * [p, end) the next whole lines of the input and returns 1, 0 at the end of the input, or
     * -1 with err set. */
    int (*refill)(csv_lexer *lx);
    void *refill_ctx;
};

typedef struct csv_field {
    const char *s;
    size_t len;
    int quoted;         /* the text between the quotes may hold "" escapes */
    int has_escape;     /* quoted and contains "" */
} csv_field;

enum { FIELD_MORE = 0, FIELD_LAST = 1, FIELD_ERROR = -1 };

/* Read one field at lx->p. Returns FIELD_MORE when a delimiter follows, FIELD_LAST at the end of a
 * record (newline or end of input), FIELD_ERROR with lx->err set. `col` is only for messages. */
int aud_csv_lex_field(csv_lexer *lx, csv_field *f, long col);

/* Copy a field's text into buf (size >= f->len + 1), undoing "" escapes. Returns the length. */
size_t aud_csv_field_text(const csv_field *f, char *buf);

/* With lx->release: give back the whole pages of the file mapping before lx->p once 8 MiB or
 * more were read since the last time (madvise MADV_DONTNEED: the page cache keeps them and a
 * later pass over them, or a neighbour chunk's thread, reads them again from it), so a large
 * file does not stay in the process's memory beside the table parsed from it. */
void aud_csv_release(csv_lexer *lx);

/* aud_table_parse_csv for data that is a read-only mapping of a file (csv_load.c); src: the
 * file's descriptor (src->file0 == data before any byte-order mark) or NULL. */
int aud_csv_parse_mapped(aud_table **out, const char *data, size_t len, const char *name,
                         const aud_csv_opts *opts, const csv_source *src, aud_error *err);

/* Skip empty lines (and comment lines) at lx->p; 1 when any was skipped. */
int aud_csv_skip_blank(csv_lexer *lx);

/* Skip n physical lines at lx->p (quotes are not looked at). */
void aud_csv_skip_lines(csv_lexer *lx, size_t n);

/* ---- values (csv_num.c) ------------------------------------------------------------------- */

/* Missing-value tokens with their lengths precomputed (this test runs on every field). */
#define NA_MAX_TOKENS 32
typedef struct na_set {
    const char *tok[NA_MAX_TOKENS];
    size_t len[NA_MAX_TOKENS];
    size_t n, max_len;
    int has_empty;                  /* "" is a token */
    unsigned char first[256];       /* 1: some token starts with this byte */
} na_set;

/* Fill na from a NULL-terminated list; -1 when there are more than NA_MAX_TOKENS. */
int aud_csv_na_init(na_set *na, const char *const *tokens);

/* Same n bytes? (inline: the strings are short and this runs for every field) */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline int is_na(const na_set *na, const char *s, size_t n)
{
    if (n == 0)
        return na->has_empty;
    if (n > na->max_len || !na->first[(unsigned char)s[0]])
        return 0;
    for (size_t i = 0; i < na->n; i++) {
        if (na->len[i] == n && same_bytes(na->tok[i], s, n))
            return 1;
    }
    return 0;
}

enum { NUM_OK = 1, NUM_NOT = 0, NUM_RANGE = -1, NUM_NOMEM = -2 };

/* Parse decimal text [+-]ddd[.ddd][(e|E)[+-]ddd], or [+-]inf / [+-]infinity, with optional
 * surrounding blanks. Decimal text too large for a double is NUM_RANGE (an error). */
int aud_csv_parse_number(const char *s, size_t n, locale_t cloc, double *out);

/* w * 10^q (w != 0) correctly rounded by the Eisel-Lemire method (csv_num.c): 0, or -1 when it
 * does not decide (use strtod). The 128-bit powers of five for q in [AUD_POW5_MIN, AUD_POW5_MAX]
 * are in csv_pow5.c (generated by tools/gen_pow5.py). */
enum { AUD_POW5_MIN = -342, AUD_POW5_MAX = 308 };
extern const uint64_t aud_csv_pow5_128[AUD_POW5_MAX - AUD_POW5_MIN + 1][2];
int aud_csv_eisel_lemire(uint64_t w, long q, double *out);

/* The common numeric field read straight from the input: [-]digits[.digits] with at most 19
 * digits, then the delimiter, a line end or the end of input - the same value
 * aud_csv_parse_number gives, without the lexer's pass over the field. Returns FIELD_MORE or
 * FIELD_LAST (lx advanced past the field, as aud_csv_lex_field does), or -2 when the field is
 * anything else, with nothing consumed: a missing-value token's first byte, a quote, blanks, an
 * exponent, more digits. Only for a delimiter that is not a digit, '.', '-' or a line end
 * (aud_csv_fast_ok). aud_csv_fast_number is csv_fast_number out of line (for tests). */
int aud_csv_fast_number(csv_lexer *lx, const na_set *na, double *out);
int aud_csv_fast_ok(const csv_lexer *lx);
int aud_csv_fast_number_bytes(csv_lexer *lx, const char *p, int neg, double *out);

extern const double aud_csv_pow10_exact[23];

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSV_SWAR 1
/* Number of decimal digits at the start of the 8 bytes x (first byte lowest): a byte is a digit
 * when its high nibble is 3 and adding 6 keeps it so. A carry out of a non-digit byte only
 * reaches later bytes, so the first non-digit is found exactly. */
static inline int swar_digits(uint64_t x)
{
    const uint64_t hi = UINT64_C(0xF0F0F0F0F0F0F0F0), three = UINT64_C(0x3030303030303030);
    uint64_t nd = ((x & hi) ^ three) | (((x + UINT64_C(0x0606060606060606)) & hi) ^ three);
    return nd != 0 ? __builtin_ctzll(nd) >> 3 : 8;
}

/* The value of the first n (1..8) digit bytes of x: moved to the top bytes (zeros before them
 * read as leading zeros), then pairs, quads and the octet combined by three multiplications
 * (the eight-digit step of Lemire's paper, section 6). */
static inline uint64_t swar_value(uint64_t x, int n)
{
    x = (x << (8 * (8 - n))) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    x = (x * 2561) >> 8;
    x = ((x & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
    return ((x & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
}

static inline uint64_t pow10_u64(int n)
{
    static const uint64_t p10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                    100000000};
    return p10[n];
}

static inline uint64_t load_u64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}
#else
#define CSV_SWAR 0
#endif

/* aud_csv_fast_number, inline for the reading loop. With 18 or more bytes left, the integer
 * and fraction digits (up to 7 each) are found and converted 8 bytes at a time without a branch
 * per digit; they make at most 14 digits, so the significand is below 2^53 and one exact
 * division (Clinger's fast path) gives the double. Anything longer or near the end of the input
 * goes byte by byte (aud_csv_fast_number_bytes, which also takes the Eisel-Lemire path). */
static inline int csv_fast_number(csv_lexer *lx, const na_set *na, double *out)
{
    const char *p = lx->p;
    if (p == lx->end || na->first[(unsigned char)*p])
        return -2;
    int neg = *p == '-';
    p += neg;
#if CSV_SWAR
    if (lx->end - p >= 17) {
        uint64_t x = load_u64(p);
        int ni = swar_digits(x);
        if (ni < 8) {
            uint64_t m = ni > 0 ? swar_value(x, ni) : 0;
            int nf = 0;
            p += ni;
            if (*p == '.') {
                uint64_t y = load_u64(p + 1);
                nf = swar_digits(y);
                if (nf == 8)
                    return aud_csv_fast_number_bytes(lx, lx->p + neg, neg, out);
                if (nf > 0)
                    m = m * pow10_u64(nf) + swar_value(y, nf);
                p += 1 + nf;
            }
            if (ni + nf == 0)
                return -2;
            int r;
            char c = *p;
            if (c == lx->delim) {
                r = FIELD_MORE;
                p++;
            } else if (c == '\n') {
                r = FIELD_LAST;
                p++;
                lx->line++;
            } else if (c == '\r' && p[1] == '\n') {
                r = FIELD_LAST;
                p += 2;
                lx->line++;
            } else {
                return -2;
            }
            double v = (double)m / aud_csv_pow10_exact[nf];
            *out = neg ? -v : v;
            lx->p = p;
            return r;
        }
    }
#endif
    return aud_csv_fast_number_bytes(lx, p, neg, out);
}

/* ---- categorical dictionary (csv_dict.c) -------------------------------------------------- */

typedef struct csv_slot {
    uint64_t pre;       /* the level's first 8 bytes, zero-padded (aud_csv_prefix_word) */
    uint32_t len;
    int32_t  code;      /* code + 1, 0 = empty */
} csv_slot;

typedef struct csv_dict {
    csv_slot *slots;
    size_t cap;         /* power of two (0: no table yet) */
} csv_dict;

/* Code of text s in column c, adding a level when new (then *added = 1). -1 on no memory, -2
 * when the level count would overflow int32. */
int32_t aud_csv_dict_code(csv_dict *d, aud_column *c, const char *s, size_t n, int *added);

/* The same with w = aud_csv_prefix_word(s, n) already known. */
int32_t aud_csv_dict_code_w(csv_dict *d, aud_column *c, const char *s, size_t n, uint64_t w,
                            int *added);

/* The first min(n, 8) bytes of s as a word, zero-padded (memory order). */
uint64_t aud_csv_prefix_word(const char *s, size_t n);

void aud_csv_dict_free(csv_dict *d);

/* ---- pass 1 (csv.c) and its parallel form (csv_parallel.c) -------------------------------- */

/* Per-column state of pass 1. A column starts numeric and keeps its values (numbers are parsed
 * once). At its first non-number it becomes categorical: when every earlier value was missing it
 * is dictionary-encoded from then on in the same pass; otherwise it is "deferred" and encoded in
 * a second pass over the file, which only runs for such columns. */
typedef struct col_scan {
    int      categorical;
    int      deferred;
    int      borrowed;   /* vals and codes are slices of shared arrays of cap rows (chunks) */
    double  *vals;       /* numeric values so far */
    int32_t *codes;      /* categorical codes so far */
    size_t   cap;
    size_t   n_missing;
    size_t   n_values;   /* non-missing numbers seen */
    csv_dict d;
    long     range_line; /* first number too large for a double (0 = none): an error only */
    char     range_text[48];   /* if the column stays numeric */
} col_scan;

void aud_csv_col_scan_free(col_scan *c);

/* The line marks of the rows read so far (aud_line_mark in table.h). */
typedef struct csv_marks {
    aud_line_mark *m;
    size_t n, cap;
} csv_marks;

/* Record that data row `row` starts on `line` (a mark only when the offset changes); -1 on no
 * memory. */
int aud_csv_mark(csv_marks *mk, size_t row, long line);

/* Pass 1: shape checks, row count, type inference, numbers and categories. */
int aud_csv_scan_records(csv_lexer *lx, const aud_table *t, col_scan *cs, aud_column *lvcols,
                         const aud_csv_opts *o, const na_set *na, locale_t cloc, char *scratch,
                         size_t *n_rows, csv_marks *marks);

/* Pass 1 on several threads. Returns AUD_OK (t->n_rows and cs filled as by
 * aud_csv_scan_records), 1 to use the sequential pass, or an error (no memory). */
int aud_csv_scan_parallel(const csv_lexer *lx, aud_table *t, col_scan *cs,
                          const aud_csv_opts *o, const na_set *na, locale_t cloc,
                          csv_marks *marks);

#endif
