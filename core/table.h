/* table.h - in-memory columnar table read from CSV (RFC 4180), SPEC section 2. */
#ifndef AUD_TABLE_H
#define AUD_TABLE_H

#include "core/aud.h"

typedef enum aud_col_type {
    AUD_COL_NUMERIC = 0,     /* every non-missing value parses as a double */
    AUD_COL_CATEGORICAL = 1  /* dictionary-encoded strings */
} aud_col_type;

/* One column. Numeric: num[i] (NaN = missing). Categorical: codes[i] in [0, n_levels) or -1 for
 * missing; levels[] in order of first appearance. The unused array is NULL. */
typedef struct aud_column {
    char        *name;
    aud_col_type type;
    double      *num;
    int32_t     *codes;
    char       **levels;
    size_t       n_levels;
    size_t       n_missing;
    size_t       n_same;     /* other columns of the table with the same name (0: unique); such
                              * columns are kept apart, and using the name is an error */
} aud_column;

/* Where data rows start in the file: data row r starts on physical line
 * line + (r - row) of the last mark with row <= r (1-based lines). One mark per change of that
 * offset (the first row, and after blank, comment or multi-line rows), so most files have one. */
typedef struct aud_line_mark {
    size_t row;
    long   line;
} aud_line_mark;

typedef struct aud_table {
    char       *path;        /* file it was read from ("" for tables built in memory) */
    aud_line_mark *line_marks;   /* CSV tables: see aud_table_row_line; NULL otherwise */
    size_t      n_line_marks;
    size_t      n_rows;
    size_t      n_cols;
    aud_column *cols;
    size_t      n_chunks;    /* chunks the CSV first pass read in parallel (0: one sequential
                              * pass); informational */
} aud_table;

/* CSV options; aud_csv_opts_default() fills the defaults of SPEC section 2. */
typedef struct aud_csv_opts {
    char        delimiter;          /* ',' */
    const char *const *na_tokens;   /* NULL-terminated; default: "", NA, NaN, nan, null, ? */
    size_t      max_field_bytes;    /* a longer field is an error (default 1 MiB) */
    size_t      max_columns;        /* default 100,000 */
    size_t      max_rows;           /* 0 = unlimited */
    int         threads;            /* parallel parse of large files; 0 = all cores, 1 = off */
    size_t      chunk_bytes;        /* minimum bytes per parallel chunk (default 1 MiB) */
    /* dialect of files as people have them (SPEC section 2) */
    int         header;             /* 1 (default): the first row names the columns; 0: the
                                     * columns are named col1..colN */
    const char *const *names;       /* NULL-terminated column names; the file then has no header
                                     * row (as pandas' names=); NULL = none */
    size_t      skip_rows;          /* lines skipped at the start, before the header (default 0) */
    char        comment;            /* lines that start with it are skipped ('\0' = none) */
    int         keep_spaces;        /* 0 (default): spaces and tabs around unquoted fields are
                                     * trimmed, for every type, before the missing tokens are
                                     * matched; 1: kept (numbers still parse) */
    /* progress of the first pass, done in [0, 1] (NULL = none); called from one thread only */
    void      (*progress)(void *ctx, double done);
    void       *progress_ctx;
} aud_csv_opts;

AUD_API void aud_csv_opts_default(aud_csv_opts *opts);

/* Read a CSV file into a table. On AUD_OK *out belongs to the caller (aud_table_free); on failure
 * *out is untouched and err names file:line:column and the column. opts may be NULL (defaults). */
AUD_API int aud_table_load_csv(aud_table **out, const char *path, const aud_csv_opts *opts,
                               aud_error *err);

/* Same from a memory buffer; `name` is used in error messages. */
AUD_API int aud_table_parse_csv(aud_table **out, const char *data, size_t len, const char *name,
                                const aud_csv_opts *opts, aud_error *err);

/* One byte range of a CSV file (aud_table_load_csv_range). */
typedef struct aud_csv_range {
    int    whole;       /* 1: the file cannot be read by range (compressed, not a regular file,
                           unreadable header): nothing was loaded, read it whole */
    size_t begin, end;  /* the bytes of the file this part's rows come from */
    size_t newlines;    /* newlines in [begin, end) */
    char   sha256[65];  /* SHA-256 of the bytes [begin, end) (hex) */
} aud_csv_range;

/* The rows of part `index` of `count` of a CSV file (core/csv_range.c): the header from the
 * start of the file and the index-th of `count` byte ranges of about equal size of the body,
 * each cut just after a newline. A cut is only shown to be a record boundary by every range
 * loading without error (a cut in a quoted field breaks a range): combine the parts only when
 * all loaded, else read the whole file. Line numbers (aud_table_row_line) count as if the range
 * followed the header: add the newlines of the earlier ranges. info->whole: nothing loaded
 * (AUD_OK). */
AUD_API int aud_table_load_csv_range(aud_table **out, const char *path,
                                     const aud_csv_opts *opts, size_t index, size_t count,
                                     aud_csv_range *info, aud_error *err);

AUD_API void aud_table_free(aud_table *t);

/* Index of the column called `name`; -1 when there is none, -2 when several columns have it. */
AUD_API long aud_table_find(const aud_table *t, const char *name);

/* Same as a located error: AUD_E_SCHEMA naming the file and `name`; an unknown name lists the
 * table's columns (with a case-insensitive "did you mean"), a name several columns share lists
 * their positions. `what` says what the name is for in the message ("sensitive attribute",
 * "label column"...; NULL = "column"). */
AUD_API int aud_table_lookup(const aud_table *t, const char *name, const char *what, long *index,
                             aud_error *err);

/* Categories that differ only by surrounding spaces or by case ("Male", " male"): the pairs of
 * levels[0..n) equal once spaces and tabs around them are dropped and ASCII letters folded,
 * described in buf as "\"Male\" ~ \"male\", ..." (cut with "..." when long). Returns the number
 * of pairs (0: buf is ""); -1 on no memory. */
AUD_API long aud_similar_levels(const char *const *levels, size_t n, char *buf, size_t size);

/* Natural order of two group names (core/natural.c): names led by a number compare by it
 * ("<25" before "25-35" before "35-45" before ">=65" and "65+"; "9" before "10"), others by their
 * text with digit runs compared as numbers, case-insensitively; ties by bytes. <0, 0 or >0. */
AUD_API int aud_natural_cmp(const char *a, const char *b);

/* The physical line (1-based) of the file on which data row `row` (0-based) starts, counting
 * banner (--skip-rows), header, comment and blank lines and the newlines inside quoted fields;
 * 0 when unknown (a table not read from CSV). */
AUD_API long aud_table_row_line(const aud_table *t, size_t row);

/* "data row R (CSV line L)" (or "data row R" when the line is unknown) into buf; returns buf. */
AUD_API const char *aud_table_row_text(const aud_table *t, size_t row, char *buf, size_t size);

/* Text of cell (row, col) into buf: the category, or the number formatted with %.17g;
 * "" for missing. Returns buf. */
AUD_API const char *aud_table_cell_text(const aud_table *t, size_t row, size_t col, char *buf,
                                        size_t size);

#endif
