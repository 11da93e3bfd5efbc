/* csv.c - RFC 4180 CSV reader into a columnar table (SPEC section 2).
 *
 * Two passes over the (memory-mapped) file: pass 1 tokenizes every record, checks the shape and infers
 * each column's type; pass 2 fills exactly-sized arrays. Numbers are parsed without the locale:
 * decimal text with <= 19 significant digits and a small exponent is converted exactly with Clinger's
 * fast path (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990); anything else
 * goes to strtod_l in the "C" locale, which glibc rounds correctly. */
#define _GNU_SOURCE
#include "core/table.h"
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const default_na[] = {"", "NA", "NaN", "nan", "null", "?", NULL};

void aud_csv_opts_default(aud_csv_opts *opts)
{
    opts->delimiter = ',';
    opts->na_tokens = default_na;
    opts->max_field_bytes = (size_t)1 << 20;
    opts->max_columns = 100000;
    opts->max_rows = 0;
    opts->threads = 0;
    opts->chunk_bytes = (size_t)8 << 20;
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

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
static int lex_field(csv_lexer *lx, csv_field *f, long col)
{
    const char *p = lx->p, *end = lx->end;
    f->quoted = 0;
    f->has_escape = 0;
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
    while (p < end && *p != d && *p != '\n')
        p++;
    const char *fe = p;
    if (fe > s && fe[-1] == '\r' && (p == end || *p == '\n'))
        fe--;
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
static size_t field_text(const csv_field *f, char *buf)
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

/* ---- values ------------------------------------------------------------------------------- */

/* Missing-value tokens with their lengths precomputed (this test runs on every field). */
#define NA_MAX_TOKENS 32
typedef struct na_set {
    const char *tok[NA_MAX_TOKENS];
    size_t len[NA_MAX_TOKENS];
    size_t n, max_len;
    int has_empty;                  /* "" is a token */
    unsigned char first[256];       /* 1: some token starts with this byte */
} na_set;

static int na_set_init(na_set *na, const char *const *tokens)
{
    memset(na, 0, sizeof *na);
    for (size_t i = 0; tokens[i] != NULL; i++) {
        if (na->n == NA_MAX_TOKENS)
            return -1;
        na->tok[na->n] = tokens[i];
        na->len[na->n] = strlen(tokens[i]);
        if (na->len[na->n] == 0)
            na->has_empty = 1;
        else
            na->first[(unsigned char)tokens[i][0]] = 1;
        if (na->len[na->n] > na->max_len)
            na->max_len = na->len[na->n];
        na->n++;
    }
    return 0;
}

/* Same n bytes? (inline: the strings are short and this runs for every field) */
static int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int is_na(const na_set *na, const char *s, size_t n)
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

static const double pow10_exact[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                       1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                       1e20, 1e21, 1e22};

enum { NUM_OK = 1, NUM_NOT = 0, NUM_RANGE = -1, NUM_NOMEM = -2 };

/* Parse decimal text [+-]ddd[.ddd][(e|E)[+-]ddd], or [+-]inf / [+-]infinity, with optional
 * surrounding blanks. Decimal text too large for a double is NUM_RANGE (an error). */
static int parse_number(const char *s, size_t n, locale_t cloc, double *out)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t start = i;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (n - i == 3 || n - i == 8) {   /* "inf" / "infinity", any case, as strtod and pandas */
        if (strncasecmp(s + i, "infinity", n - i) == 0) {
            *out = neg ? -HUGE_VAL : HUGE_VAL;
            return NUM_OK;
        }
    }
    uint64_t m = 0;
    int digits = 0, sig = 0, dropped = 0;
    long e10 = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (sig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (m != 0)
                sig++;
        } else {
            e10++;
            dropped |= s[i] != '0';
        }
        digits++;
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (sig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                if (m != 0)
                    sig++;
                e10--;
            } else {
                dropped |= s[i] != '0';
            }
            digits++;
            i++;
        }
    }
    if (digits == 0)
        return NUM_NOT;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        long ev = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == n || s[i] < '0' || s[i] > '9')
            return NUM_NOT;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (ev < 100000)
                ev = ev * 10 + (s[i] - '0');
            i++;
        }
        e10 += eneg ? -ev : ev;
    }
    if (i != n)
        return NUM_NOT;
    double v;
    if (m == 0) {
        v = 0.0;
    } else if (!dropped && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        v = (double)m;
        v = e10 >= 0 ? v * pow10_exact[e10] : v / pow10_exact[-e10];
    } else {
        char small[128];
        size_t len = n - start;
        char *buf = len < sizeof small ? small : aud_malloc(len + 1);
        if (buf == NULL)
            return NUM_NOMEM;
        memcpy(buf, s + start, len);
        buf[len] = '\0';
        v = strtod_l(buf, NULL, cloc);
        if (buf != small)
            aud_free(buf);
        v = fabs(v);
    }
    if (isinf(v))
        return NUM_RANGE;
    *out = neg ? -v : v;
    return NUM_OK;
}

/* ---- categorical dictionary (open addressing, FNV-1a) -------------------------------------
 * Columns of few levels (sex, race...) are looked up by a linear scan of the level lengths and
 * bytes, which is cheaper than hashing; the hash table is built when a column passes
 * DICT_LINEAR levels. */

#define DICT_LINEAR 8

typedef struct dict {
    int32_t *slots;     /* code + 1, 0 = empty */
    size_t cap;         /* power of two (0: no table yet) */
    size_t *lens;       /* length of each level */
    int32_t last;       /* code of the previous lookup + 1 (0 = none): columns repeat values */
} dict;

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int dict_grow(dict *d, aud_column *c)
{
    size_t ncap = d->cap ? d->cap * 2 : 64;
    int32_t *ns = aud_calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t k = 0; k < c->n_levels; k++) {
        size_t h = (size_t)fnv1a(c->levels[k], d->lens[k]) & (ncap - 1);
        while (ns[h] != 0)
            h = (h + 1) & (ncap - 1);
        ns[h] = (int32_t)k + 1;
    }
    aud_free(d->slots);
    d->slots = ns;
    d->cap = ncap;
    return 0;
}

static void dict_free(dict *d)
{
    aud_free(d->slots);
    aud_free(d->lens);
}

/* Code of text s in column c, adding a level when new (then *added = 1). -1 on no memory, -2
 * when the level count would overflow int32. */
static int32_t dict_code(dict *d, aud_column *c, const char *s, size_t n, int *added)
{
    *added = 0;
    /* lengths first: s may hold a NUL byte (rejected later), a level never does */
    if (d->last != 0 && d->lens[d->last - 1] == n && same_bytes(c->levels[d->last - 1], s, n))
        return d->last - 1;
    size_t h = 0;
    if (c->n_levels <= DICT_LINEAR) {
        for (size_t k = 0; k < c->n_levels; k++) {
            if (d->lens[k] == n && same_bytes(c->levels[k], s, n)) {
                d->last = (int32_t)k + 1;
                return (int32_t)k;
            }
        }
    } else {
        if ((c->n_levels + 1) * 2 > d->cap && dict_grow(d, c) != 0)
            return -1;
        h = (size_t)fnv1a(s, n) & (d->cap - 1);
        while (d->slots[h] != 0) {
            int32_t k = d->slots[h] - 1;
            if (d->lens[k] == n && same_bytes(c->levels[k], s, n)) {
                d->last = k + 1;
                return k;
            }
            h = (h + 1) & (d->cap - 1);
        }
    }
    if (c->n_levels >= INT32_MAX - 1)
        return -2;
    if ((c->n_levels & (c->n_levels - 1)) == 0) {   /* grow levels at powers of two */
        size_t ncap = c->n_levels ? c->n_levels * 2 : 8;
        char **nl = aud_realloc(c->levels, ncap * sizeof *nl);
        if (nl == NULL)
            return -1;
        c->levels = nl;
        size_t *nn = aud_realloc(d->lens, ncap * sizeof *nn);
        if (nn == NULL)
            return -1;
        d->lens = nn;
    }
    char *copy = aud_malloc(n + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    int32_t code = (int32_t)c->n_levels;
    c->levels[code] = copy;
    d->lens[code] = n;
    c->n_levels++;
    if (d->cap != 0)
        d->slots[h] = code + 1;
    d->last = code + 1;
    *added = 1;
    return code;
}

/* ---- table -------------------------------------------------------------------------------- */

void aud_table_free(aud_table *t)
{
    if (t == NULL)
        return;
    for (size_t j = 0; j < t->n_cols; j++) {
        aud_column *c = &t->cols[j];
        aud_free(c->name);
        aud_free(c->num);
        aud_free(c->codes);
        for (size_t k = 0; k < c->n_levels; k++)
            aud_free(c->levels[k]);
        aud_free(c->levels);
    }
    aud_free(t->cols);
    aud_free(t->path);
    aud_free(t);
}

long aud_table_find(const aud_table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        if (strcmp(t->cols[j].name, name) == 0)
            return (long)j;
    }
    return -1;
}

const char *aud_table_cell_text(const aud_table *t, size_t row, size_t col, char *buf, size_t size)
{
    const aud_column *c = &t->cols[col];
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (c->type == AUD_COL_NUMERIC) {
        if (!isnan(c->num[row])) {
            char tmp[32];
            snprintf(buf, size, "%s", aud_fmt_double(c->num[row], tmp));
        }
    } else if (c->codes[row] >= 0) {
        snprintf(buf, size, "%s", c->levels[c->codes[row]]);
    }
    return buf;
}

static int by_name_then_index(const void *a, const void *b, void *ctx)
{
    const aud_column *cols = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(cols[x].name, cols[y].name);
    return c != 0 ? c : (x > y) - (x < y);
}

/* Duplicate column names, in O(n log n) for very wide files: the error names the earliest
 * column that repeats an earlier name. */
static int check_duplicate_names(csv_lexer *lx, const aud_table *t, long line)
{
    size_t n = t->n_cols, first = 0, dup = (size_t)-1;
    size_t *idx = aud_malloc((n ? n : 1) * sizeof *idx);
    if (idx == NULL)
        return aud_error_nomem(lx->err);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* qsort_r: files are read on several threads at once (audit drift reads both) */
    qsort_r(idx, n, sizeof *idx, by_name_then_index, t->cols);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(t->cols[idx[i]].name, t->cols[idx[i - 1]].name) != 0)
            continue;
        if (dup == (size_t)-1 || idx[i] < dup) {
            dup = idx[i];          /* within a name, indices ascend: idx[i - 1] is earlier */
            first = idx[i - 1];
        }
    }
    aud_free(idx);
    if (dup == (size_t)-1)
        return AUD_OK;
    aud_error_set(lx->err, AUD_E_SCHEMA, lx->name, line, (long)dup + 1,
                  "duplicate column name (also column %zu)", first + 1);
    return aud_error_field(lx->err, t->cols[dup].name);
}

static int parse_header(csv_lexer *lx, aud_table *t, const aud_csv_opts *o, char *scratch)
{
    long header_line = lx->line;
    size_t cap = 0;
    for (;;) {
        csv_field f;
        long col = (long)t->n_cols + 1;
        long fline = lx->line;
        int r = lex_field(lx, &f, col);
        if (r == FIELD_ERROR)
            return lx->err->code;
        if (t->n_cols >= o->max_columns)
            return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, fline, col,
                                 "more than the limit of %zu columns", o->max_columns);
        if (t->n_cols == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            aud_column *nc = aud_realloc(t->cols, ncap * sizeof *nc);
            if (nc == NULL)
                return aud_error_nomem(lx->err);
            t->cols = nc;
            cap = ncap;
        }
        size_t n = field_text(&f, scratch);
        aud_column *c = &t->cols[t->n_cols];
        memset(c, 0, sizeof *c);
        t->n_cols++;
        size_t bad = aud_utf8_invalid_at((const unsigned char *)scratch, n);
        if (bad != (size_t)-1)
            return aud_error_set(lx->err, AUD_E_PARSE, lx->name, fline, col,
                                 "column name is not valid UTF-8 (byte %zu)", bad + 1);
        if (n == 0)
            return aud_error_set(lx->err, AUD_E_SCHEMA, lx->name, fline, col, "empty column name");
        c->name = aud_malloc(n + 1);
        if (c->name == NULL)
            return aud_error_nomem(lx->err);
        memcpy(c->name, scratch, n + 1);
        if (r == FIELD_LAST)
            return check_duplicate_names(lx, t, header_line);
    }
}

/* True when the record starting at p is an empty line. */
static int blank_line(const char *p, const char *end)
{
    return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

static int skip_blank(csv_lexer *lx)
{
    int skipped = 0;
    while (blank_line(lx->p, lx->end)) {
        lx->p += *lx->p == '\r' ? 2 : 1;
        lx->line++;
        skipped = 1;
    }
    return skipped;
}

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
    dict     d;
    long     range_line; /* first number too large for a double (0 = none): an error only */
    char     range_text[48];   /* if the column stays numeric */
} col_scan;

static void col_scan_free(col_scan *c)
{
    if (!c->borrowed) {
        aud_free(c->vals);
        aud_free(c->codes);
    }
    dict_free(&c->d);
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
static int encode_field(csv_lexer *lx, aud_column *col, dict *d, const csv_field *f,
                        char *scratch, long line, long colno, int32_t *code)
{
    const char *s = f->s;
    size_t n = f->len;
    if (f->has_escape) {
        n = field_text(f, scratch);
        s = scratch;
    }
    int added;
    int32_t c = dict_code(d, col, s, n, &added);
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

/* Pass 1: shape checks, row count, type inference, numbers and categories. */
static int scan_records(csv_lexer *lx, const aud_table *t, col_scan *cs, aud_column *lvcols,
                        const aud_csv_opts *o, const na_set *na, locale_t cloc, char *scratch,
                        size_t *n_rows)
{
    size_t rows = 0;
    while (lx->p < lx->end) {
        skip_blank(lx);
        if (lx->p >= lx->end)
            break;
        long rec_line = lx->line;
        size_t k = 0;
        for (;;) {
            csv_field f;
            long fline = lx->line;   /* where this field starts (quoted fields may span lines) */
            int r = lex_field(lx, &f, (long)k + 1);
            if (r == FIELD_ERROR)
                return lx->err->code;
            if (k < t->n_cols && !cs[k].deferred) {
                col_scan *c = &cs[k];
                int missing = is_na(na, f.s, f.len);
                double v = NAN;
                if (!c->categorical && !missing) {
                    int pr = f.has_escape ? NUM_NOT : parse_number(f.s, f.len, cloc, &v);
                    if (pr == NUM_NOMEM)
                        return aud_error_nomem(lx->err);
                    if (pr == NUM_RANGE) {   /* reported after the pass if still numeric */
                        if (c->range_line == 0) {
                            c->range_line = fline;
                            snprintf(c->range_text, sizeof c->range_text, "%.*s",
                                     (int)(f.len < 40 ? f.len : 40), f.s);
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
                            goto next;
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
                } else {
                    int32_t code = -1;
                    if (!missing) {
                        int rc = encode_field(lx, &lvcols[k], &c->d, &f, scratch, fline,
                                              (long)k + 1, &code);
                        if (rc != AUD_OK)
                            return rc;
                    }
                    c->codes[rows] = code;
                }
            }
        next:
            k++;
            if (r == FIELD_LAST)
                break;
        }
        if (k != t->n_cols)
            return aud_error_set(lx->err, AUD_E_PARSE, lx->name, rec_line,
                                 (long)(k < t->n_cols ? k : t->n_cols + 1),
                                 "expected %zu fields, found %zu", t->n_cols, k);
        rows++;
        if (lx->progress != NULL && (rows & 0xffff) == 0)
            lx->progress(lx->progress_ctx,
                         (double)(lx->p - lx->base) / (double)(lx->end - lx->base));
        if (o->max_rows != 0 && rows > o->max_rows)
            return aud_error_set(lx->err, AUD_E_DOMAIN, lx->name, rec_line, 0,
                                 "more than the limit of %zu rows", o->max_rows);
    }
    *n_rows = rows;
    return AUD_OK;
}

/* Pass 2, only for deferred columns (numbers first, text later): encode them from the start. */
static int fill_deferred(csv_lexer *lx, aud_table *t, col_scan *cs, const na_set *na,
                         char *scratch)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        skip_blank(lx);
        for (size_t k = 0; k < t->n_cols; k++) {
            csv_field f;
            long fline = lx->line;
            if (lex_field(lx, &f, (long)k + 1) == FIELD_ERROR)
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


/* ---- parallel first pass ------------------------------------------------------------------
 * The body is cut into chunks at newlines that a quote count says are outside quoted fields.
 * The newlines of each chunk are counted first (in parallel): a chunk holds at most that many
 * records (one more in the last chunk, which may end without one), which gives each chunk its
 * first line number and its slice of one shared value array and one shared code array per
 * column. Each chunk is then scanned on its own thread with its own dictionaries, writing its
 * slices in place; the merge only maps codes to the merged dictionaries (chunk order keeps
 * first-appearance order) and closes the gaps left by blank lines or quoted newlines.
 * The quote count is only a heuristic (a stray quote inside an unquoted field misleads it), so
 * correctness rests on a check: every chunk must parse without error up to its exact end, which
 * by induction from the first chunk proves that every cut is a true record boundary. Any chunk
 * error, any column whose type cannot be merged from the chunks alone, or a row limit falls back
 * to the sequential pass, which also reports errors exactly as it always does. */

typedef struct chunk {
    csv_lexer    lx;
    aud_error    err;
    col_scan    *cs;
    aud_column  *lv;        /* levels met in this chunk (names borrowed from the table) */
    char        *scratch;
    size_t       n_rows;
    size_t       n_newlines;
    size_t       first;     /* index of the chunk's first row slot in the shared arrays */
    int          rc;
    const aud_table   *t;
    const aud_csv_opts *o;
    const na_set *na;
    locale_t      cloc;
} chunk;

static size_t count_newlines(const char *p, const char *end)
{
    size_t n = 0;
    for (; p < end; p++)   /* a plain loop: the compiler vectorises it */
        n += *p == '\n';
    return n;
}

static void *chunk_count_main(void *arg)
{
    chunk *c = arg;
    c->n_newlines = count_newlines(c->lx.p, c->lx.end);
    return NULL;
}

static void *chunk_scan_main(void *arg)
{
    chunk *c = arg;
    c->rc = scan_records(&c->lx, c->t, c->cs, c->lv, c->o, c->na, c->cloc, c->scratch,
                         &c->n_rows);
    return NULL;
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
        col_scan_free(&c->cs[k]);
    for (size_t k = 0; c->lv != NULL && k < n_cols; k++) {
        for (size_t l = 0; l < c->lv[k].n_levels; l++)
            aud_free(c->lv[k].levels[l]);
        aud_free(c->lv[k].levels);
    }
    aud_free(c->cs);
    aud_free(c->lv);
    aud_free(c->scratch);
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
 * over the shared arrays *vals and *codes (set to NULL when taken or freed). Returns AUD_OK, 1
 * when the chunks alone cannot give the column (fall back), or an error. */
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
        if (s->deferred || (cat && !s->categorical && s->n_values > 0))
            return 1;
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
            map[l] = dict_code(&out->d, &t->cols[k], lv->levels[l], strlen(lv->levels[l]),
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

/* Returns AUD_OK (t->n_rows and cs filled as by scan_records), 1 to use the sequential pass, or
 * an error (no memory). */
static int scan_parallel(const csv_lexer *lx, aud_table *t, col_scan *cs,
                         const aud_csv_opts *o, const na_set *na, locale_t cloc)
{
    enum { MAX_CHUNKS = 64 };
    size_t len = (size_t)(lx->end - lx->p);
    int threads = o->threads > 0 ? o->threads : aud_ncpu();
    size_t min = o->chunk_bytes > 0 ? o->chunk_bytes : 1;
    size_t n_ch = len / min;
    if (n_ch > (size_t)threads)
        n_ch = (size_t)threads;
    if (n_ch > MAX_CHUNKS)
        n_ch = MAX_CHUNKS;
    if (n_ch < 2 || o->max_rows != 0)
        return 1;
    chunk ch[MAX_CHUNKS];
    memset(ch, 0, sizeof ch);
    /* cut points */
    const char *cut[MAX_CHUNKS + 1];
    size_t got = 1;
    cut[0] = lx->p;
    long quotes = 0;
    for (size_t c = 1; c < n_ch; c++) {
        const char *target = lx->p + len / n_ch * c, *p = target;
        if (target <= cut[got - 1])
            continue;
        quotes += count_char(cut[got - 1], target, '"');
        while (p < lx->end && !(*p == '\n' && quotes % 2 == 0)) {
            quotes += *p == '"';
            p++;
        }
        if (p >= lx->end - 1)
            break;
        cut[got] = p + 1;
        got++;
    }
    cut[got] = lx->end;
    n_ch = got;
    if (n_ch < 2)
        return 1;
    for (size_t c = 0; c < n_ch; c++) {
        ch[c].lx = *lx;
        ch[c].lx.p = cut[c];
        ch[c].lx.end = cut[c + 1];
        ch[c].lx.base = cut[c];
        if (c > 0)   /* chunks are of equal size: the first one's share stands for all */
            ch[c].lx.progress = NULL;
    }
    aud_run_jobs(ch, n_ch, sizeof *ch, chunk_count_main);
    size_t slots = 1;   /* the last chunk may end without a newline */
    for (size_t c = 0; c < n_ch; c++) {
        ch[c].first = slots - 1;
        slots += ch[c].n_newlines;
    }
    int rc = AUD_OK;
    double **vals = aud_calloc(t->n_cols, sizeof *vals);
    int32_t **codes = aud_calloc(t->n_cols, sizeof *codes);
    if (vals == NULL || codes == NULL)
        rc = AUD_E_NOMEM;
    for (size_t k = 0; rc == AUD_OK && k < t->n_cols; k++) {
        /* pages are only touched where a chunk writes: the unused array of a column costs
         * address space only */
        vals[k] = aud_malloc(slots * sizeof **vals);
        codes[k] = aud_malloc(slots * sizeof **codes);
        if (vals[k] == NULL || codes[k] == NULL)
            rc = AUD_E_NOMEM;
    }
    for (size_t c = 0; c < n_ch && rc == AUD_OK; c++) {
        chunk *k = &ch[c];
        k->lx.line = c == 0 ? lx->line : ch[c - 1].lx.line + (long)ch[c - 1].n_newlines;
        k->lx.err = &k->err;
        k->cs = aud_calloc(t->n_cols, sizeof *k->cs);
        k->lv = aud_calloc(t->n_cols, sizeof *k->lv);
        k->scratch = aud_malloc(o->max_field_bytes + 1);
        k->t = t;
        k->o = o;
        k->na = na;
        k->cloc = cloc;
        if (k->cs == NULL || k->lv == NULL || k->scratch == NULL) {
            rc = AUD_E_NOMEM;
            break;
        }
        size_t cap = k->n_newlines + (c + 1 == n_ch);
        for (size_t j = 0; j < t->n_cols; j++) {
            k->lv[j].name = t->cols[j].name;   /* borrowed, for messages */
            k->cs[j].borrowed = 1;
            k->cs[j].vals = vals[j] + k->first;
            k->cs[j].codes = codes[j] + k->first;
            k->cs[j].cap = cap;
        }
    }
    if (rc == AUD_OK) {
        aud_run_jobs(ch, n_ch, sizeof *ch, chunk_scan_main);
        for (size_t c = 0; c < n_ch && rc == AUD_OK; c++) {
            if (ch[c].rc != AUD_OK || ch[c].lx.p != cut[c + 1])
                rc = 1;   /* an error, or a cut that was not a record boundary */
        }
    }
    if (rc == AUD_OK) {
        t->n_rows = 0;
        for (size_t c = 0; c < n_ch; c++)
            t->n_rows += ch[c].n_rows;
        for (size_t k = 0; k < t->n_cols && rc == AUD_OK; k++)
            rc = merge_column(ch, n_ch, t, k, &vals[k], &codes[k], &cs[k], lx->err);
        t->n_chunks = n_ch;
    }
    if (rc != AUD_OK) {   /* undo partial merges: the sequential pass starts from scratch */
        for (size_t k = 0; k < t->n_cols; k++) {
            col_scan_free(&cs[k]);
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
    if (rc == AUD_E_NOMEM)
        return aud_error_nomem(lx->err);
    return rc;
}

int aud_table_parse_csv(aud_table **out, const char *data, size_t len, const char *name,
                        const aud_csv_opts *opts, aud_error *err)
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
    if (na_set_init(&na, opts->na_tokens) != 0) {
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
    csv_lexer lx = {data, data + len, name, opts->delimiter, opts->max_field_bytes, 1, err,
                    data, opts->progress, opts->progress_ctx};
    skip_blank(&lx);
    if (lx.p >= lx.end) {
        rc = aud_error_set(err, AUD_E_PARSE, name, 1, 0, "empty file: a header row is required");
        goto done;
    }
    t = aud_calloc(1, sizeof *t);
    scratch = aud_malloc(opts->max_field_bytes + 1);
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
    rc = scan_parallel(&lx, t, cs, opts, &na, cloc);
    if (rc == 1)
        rc = scan_records(&lx, t, cs, t->cols, opts, &na, cloc, scratch, &t->n_rows);
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
        col_scan_free(&cs[k]);
    aud_free(cs);
    aud_free(scratch);
    freelocale(cloc);
    return rc;
}

int aud_table_load_csv(aud_table **out, const char *path, const aud_csv_opts *opts,
                       aud_error *err)
{
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size_t len = (size_t)st.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot map: %s", strerror(errno));
        madvise(map, len, MADV_SEQUENTIAL);
        int rc = aud_table_parse_csv(out, map, len, path, opts, err);
        munmap(map, len);
        return rc;
    }
    char *buf = NULL;
    size_t len = 0;
    int rc;
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(fd);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "is a directory");
        }
        /* a pipe, device or empty file: read the descriptor already open (a pipe cannot be
         * opened a second time: its writer may be gone) */
        FILE *f = fdopen(fd, "rb");
        if (f == NULL) {
            close(fd);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot read: %s", strerror(errno));
        }
        rc = aud_stream_read(f, path, &buf, &len, 0, err);
        fclose(f);
    } else if (strcmp(path, "-") != 0) {
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    } else {
        rc = aud_file_read(path, &buf, &len, 0, err);
    }
    if (rc != AUD_OK)
        return rc;
    rc = aud_table_parse_csv(out, buf, len, path, opts, err);
    aud_free(buf);
    return rc;
}
