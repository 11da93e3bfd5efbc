/* io.h - file reading, atomic file writing and exact JSON numbers. */
#ifndef AUD_IO_H
#define AUD_IO_H

#include <stdio.h>
#include "core/aud.h"
#include <cjson/cJSON.h>

/* Read a whole file into a NUL-terminated buffer (*out, caller frees with aud_free).
 * max_bytes = 0: no limit. "-" reads stdin. */
int aud_file_read(const char *path, char **out, size_t *len, size_t max_bytes, aud_error *err);
/* The same from an open stream (left open); path names it in messages. */
int aud_stream_read(FILE *f, const char *path, char **out, size_t *len, size_t max_bytes,
                    aud_error *err);

/* Atomic output: aud_out_open writes to a temporary file beside `path` ("-" = stdout);
 * aud_out_commit flushes, fsyncs and renames it into place; aud_out_abort removes it.
 * An existing target that is not a regular file (/dev/null, /dev/stdout, a FIFO) is written
 * directly: renaming over it would replace the device. Exactly one of commit/abort must be
 * called. */
typedef struct aud_out {
    FILE *f;
    char *path;
    char *tmp;      /* NULL for stdout and for direct writes */
    int   direct;   /* 1: f is the target itself (a device or FIFO) */
} aud_out;
int  aud_out_open(aud_out *o, const char *path, aud_error *err);
int  aud_out_commit(aud_out *o, aud_error *err);
void aud_out_abort(aud_out *o);

/* Write data to path atomically. */
int aud_file_write_atomic(const char *path, const void *data, size_t len, aud_error *err);
/* The same for the n pieces parts[i] (lens[i] bytes each), written one after the other. */
int aud_file_write_parts(const char *path, const void *const *parts, const size_t *lens,
                         size_t n, aud_error *err);

/* strtod in the "C" locale, whatever the process locale. */
double aud_strtod_c(const char *s, char **end);

/* A JSON number (RFC 8259 section 6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, nothing
 * around it) in s[0..n) to the nearest double, as strtod gives it (the CSV reader's exact fast
 * paths, strtod_l in the "C" locale otherwise): 0, or -1 when s is not such a number or its
 * value is beyond a double. Thread-safe and locale-free (no localeconv, unlike cJSON's). */
int aud_json_number(const char *s, size_t n, double *out);

/* Shortest "%.{15,16,17}g" text that reads back as exactly v; "null" for NaN/inf. buf >= 32. */
const char *aud_fmt_double(double v, char *buf);

/* Parse JSON text (len bytes; text[len] must be NUL) strictly: no trailing text. On AUD_OK *out
 * belongs to the caller (cJSON_Delete); on failure err has the line:column of `name` where
 * parsing stopped: "empty file: expected JSON", "NUL byte in JSON text", "invalid JSON", or
 * "invalid JSON (truncated file?)" when it stopped at the end. The one JSON reader of spec
 * files, model files and results documents. */
int aud_json_parse_located(cJSON **out, const char *text, size_t len, const char *name,
                           aud_error *err);

/* A cJSON number printed exactly (a raw node); JSON null for NaN/inf. NULL on no memory. */
cJSON *aud_json_num(double v);

/* Add `name: number` to an object, exactly. Returns 0, or -1 on no memory. */
int aud_json_add_num(cJSON *obj, const char *name, double v);

/* A packed array of finite numbers: one JSON string of the numbers' exact texts
 * (aud_fmt_double) separated by single spaces. JSON stays the format, and a reader parses the
 * numbers with the CSV reader's correctly rounded parser instead of one cJSON node and one
 * strtod each (a reference profile's JSON and numbers: 3.9x fewer instructions). NULL on no
 * memory. */
cJSON *aud_json_packed(const double *v, size_t n);

/* The numbers of `item`: a JSON array of numbers or a packed string (aud_json_packed). On
 * success *out (n + 1 entries, freed with aud_free) and *n; 1 when item is neither or an entry
 * is not a finite number, with *bad its index (-1: not an array or a string); -1 on no
 * memory. */
int aud_json_unpack(const cJSON *item, double **out, size_t *n, long *bad);

/* AUD_E_SCHEMA naming the first key of JSON object obj that is not in known (NULL-terminated),
 * with file `name`; AUD_OK when every key is known. */
int aud_json_only_keys(const cJSON *obj, const char *const *known, const char *name,
                       aud_error *err);

/* New results document {"schema_version", "tool": {"name","version"}}; NULL on no memory. */
cJSON *aud_json_doc_new(void);

/* Print a document (formatted) and write it to path atomically ("-" = stdout). */
int aud_json_write(const cJSON *doc, const char *path, aud_error *err);

/* AUD_E_USAGE when output file `out` is the same file as one of the n inputs (NULL entries are
 * skipped): input files are never overwritten. */
int aud_guard_output(const char *out, const char *const *inputs, size_t n, aud_error *err);

/* Byte offset of the first invalid sequence of strict UTF-8 text (overlongs, surrogates, code
 * points over U+10FFFF and NUL bytes are invalid), or (size_t)-1 when s[0..n) is valid. */
size_t aud_utf8_invalid_at(const unsigned char *s, size_t n);

#endif
