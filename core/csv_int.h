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

/* ---- tokenizer (csv_lex.c) ---------------------------------------------------------------- */

typedef struct csv_lexer {
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
} csv_lexer;

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

/* aud_table_parse_csv for data that is a read-only mapping of a file (csv_load.c). */
int aud_csv_parse_mapped(aud_table **out, const char *data, size_t len, const char *name,
                         const aud_csv_opts *opts, aud_error *err);

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

/* The common numeric field read straight from the input: [-]digits[.digits] with at most 19
 * digits, an exactly representable significand and <= 22 decimals, then the delimiter, a line
 * end or the end of input - the same value aud_csv_parse_number gives, without the lexer's
 * pass over the field. Returns FIELD_MORE or FIELD_LAST (lx advanced past the field, as
 * aud_csv_lex_field does), or -2 when the field is anything else, with nothing consumed: a
 * missing-value token's first byte, a quote, blanks, an exponent, more digits. Only for a
 * delimiter that is not a digit, '.', '-' or a line end (aud_csv_fast_ok). */
int aud_csv_fast_number(csv_lexer *lx, const na_set *na, double *out);
int aud_csv_fast_ok(const csv_lexer *lx);

/* ---- categorical dictionary (csv_dict.c) -------------------------------------------------- */

typedef struct csv_dict {
    int32_t *slots;     /* code + 1, 0 = empty */
    size_t cap;         /* power of two (0: no table yet) */
    size_t *lens;       /* length of each level */
    int32_t last;       /* code of the previous lookup + 1 (0 = none): columns repeat values */
} csv_dict;

/* Code of text s in column c, adding a level when new (then *added = 1). -1 on no memory, -2
 * when the level count would overflow int32. */
int32_t aud_csv_dict_code(csv_dict *d, aud_column *c, const char *s, size_t n, int *added);

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

/* Pass 1: shape checks, row count, type inference, numbers and categories. */
int aud_csv_scan_records(csv_lexer *lx, const aud_table *t, col_scan *cs, aud_column *lvcols,
                         const aud_csv_opts *o, const na_set *na, locale_t cloc, char *scratch,
                         size_t *n_rows);

/* Pass 1 on several threads. Returns AUD_OK (t->n_rows and cs filled as by
 * aud_csv_scan_records), 1 to use the sequential pass, or an error (no memory). */
int aud_csv_scan_parallel(const csv_lexer *lx, aud_table *t, col_scan *cs,
                          const aud_csv_opts *o, const na_set *na, locale_t cloc);

#endif
