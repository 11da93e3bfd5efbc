/* io.c - whole-file reads, atomic writes (temporary file + rename), exact JSON numbers. */
#define _GNU_SOURCE
#include "core/io.h"
#include "core/csv_int.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int aud_file_read(const char *path, char **out, size_t *len, size_t max_bytes, aud_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    int rc = aud_stream_read(f, path, out, len, max_bytes, err);
    if (!is_stdin)
        fclose(f);
    return rc;
}

int aud_stream_read(FILE *f, const char *path, char **out, size_t *len, size_t max_bytes,
                    aud_error *err)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = aud_malloc(cap + 1);
    int rc = AUD_OK;
    if (buf == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (;;) {
        if (n == cap) {
            if (max_bytes != 0 && cap >= max_bytes) {
                rc = aud_error_set(err, AUD_E_DOMAIN, path, 0, 0,
                                   "file is larger than the limit of %zu bytes", max_bytes);
                goto done;
            }
            size_t ncap = cap * 2;
            char *nb = aud_realloc(buf, ncap + 1);
            if (nb == NULL) {
                rc = aud_error_nomem(err);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = aud_error_set(err, AUD_E_IO, path, 0, 0, "read error: %s", strerror(errno));
                goto done;
            }
            break;
        }
    }
    if (max_bytes != 0 && n > max_bytes) {
        rc = aud_error_set(err, AUD_E_DOMAIN, path, 0, 0,
                           "file is larger than the limit of %zu bytes", max_bytes);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
done:
    aud_free(buf);
    return rc;
}

int aud_out_open(aud_out *o, const char *path, aud_error *err)
{
    memset(o, 0, sizeof *o);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return AUD_OK;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "is a folder, not a file");
        o->f = fopen(path, "wb");
        if (o->f == NULL)
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
        o->path = aud_strdup(path);
        o->direct = 1;
        if (o->path == NULL) {
            aud_out_abort(o);
            return aud_error_nomem(err);
        }
        return AUD_OK;
    }
    size_t n = strlen(path);
    o->path = aud_strdup(path);
    o->tmp = aud_malloc(n + 16);
    if (o->path == NULL || o->tmp == NULL) {
        aud_out_abort(o);
        return aud_error_nomem(err);
    }
    snprintf(o->tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        aud_free(o->tmp);
        o->tmp = NULL;
        aud_out_abort(o);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot create: %s", strerror(e));
    }
    /* mkstemp creates 0600; outputs get the usual 0666 less the umask, like fopen */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        int e = errno;
        close(fd);
        aud_out_abort(o);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot set permissions: %s",
                             strerror(e));
    }
    o->f = fdopen(fd, "wb");
    if (o->f == NULL) {
        close(fd);
        aud_out_abort(o);
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot create: %s", strerror(errno));
    }
    return AUD_OK;
}

void aud_out_abort(aud_out *o)
{
    if (o->f != NULL && o->f != stdout)
        fclose(o->f);
    if (o->tmp != NULL)
        unlink(o->tmp);
    aud_free(o->tmp);
    aud_free(o->path);
    memset(o, 0, sizeof *o);
}

int aud_out_commit(aud_out *o, aud_error *err)
{
    int rc = AUD_OK;
    if (o->f == stdout) {
        if (fflush(stdout) != 0)
            rc = aud_error_set(err, AUD_E_IO, "<stdout>", 0, 0, "write error: %s",
                               strerror(errno));
        memset(o, 0, sizeof *o);
        return rc;
    }
    int bad = ferror(o->f) || fflush(o->f) != 0 || (!o->direct && fsync(fileno(o->f)) != 0);
    int e = errno;
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad) {
        rc = aud_error_set(err, AUD_E_IO, o->path, 0, 0, "write error: %s", strerror(e));
    } else if (o->direct) {
        /* written in place: nothing to rename */
    } else if (rename(o->tmp, o->path) != 0) {
        rc = aud_error_set(err, AUD_E_IO, o->path, 0, 0, "cannot rename into place: %s",
                           strerror(errno));
    } else {
        aud_free(o->tmp);
        o->tmp = NULL;
    }
    aud_out_abort(o);
    return rc;
}

int aud_file_write_atomic(const char *path, const void *data, size_t len, aud_error *err)
{
    aud_out o;
    int rc = aud_out_open(&o, path, err);
    if (rc != AUD_OK)
        return rc;
    if (len > 0 && fwrite(data, 1, len, o.f) != len) {
        rc = aud_error_set(err, AUD_E_IO, path, 0, 0, "write error: %s", strerror(errno));
        aud_out_abort(&o);
        return rc;
    }
    return aud_out_commit(&o, err);
}

/* The "C" locale, created once: number text never depends on the user's locale, even when the
 * library is embedded in a program that set LC_NUMERIC. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void)
{
    pthread_once(&c_locale_once, c_locale_init);
    return c_locale;
}

double aud_strtod_c(const char *s, char **end)
{
    locale_t c = get_c_locale();
    return c != (locale_t)0 ? strtod_l(s, end, c) : strtod(s, end);
}

const char *aud_fmt_double(double v, char *buf)
{
    if (!isfinite(v)) {
        strcpy(buf, "null");
        return buf;
    }
    if (v == 0.0) {
        strcpy(buf, signbit(v) ? "-0.0" : "0");
        return buf;
    }
    locale_t c = get_c_locale();
    locale_t old = c != (locale_t)0 ? uselocale(c) : (locale_t)0;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (old != (locale_t)0)
        uselocale(old);
    return buf;
}

cJSON *aud_json_num(double v)
{
    char buf[32];
    if (!isfinite(v))
        return cJSON_CreateNull();
    return cJSON_CreateRaw(aud_fmt_double(v, buf));
}

cJSON *aud_json_packed(const double *v, size_t n)
{
    size_t cap = n * 25 + 1, len = 0;
    char *s = aud_malloc(cap), buf[32];
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *t = aud_fmt_double(v[i], buf);   /* finite: at most 24 characters */
        size_t k = strlen(t);
        if (i > 0)
            s[len++] = ' ';
        memcpy(s + len, t, k);
        len += k;
    }
    s[len] = '\0';
    cJSON *o = cJSON_CreateString(s);
    aud_free(s);
    return o;
}

int aud_json_unpack(const cJSON *item, double **out, size_t *n, long *bad)
{
    *out = NULL;
    *n = 0;
    *bad = -1;
    if (cJSON_IsArray(item)) {
        size_t len = (size_t)cJSON_GetArraySize(item), i = 0;
        double *v = aud_malloc((len + 1) * sizeof *v);
        if (v == NULL)
            return -1;
        for (const cJSON *it = item->child; it != NULL; it = it->next, i++) {
            if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
                aud_free(v);
                *bad = (long)i;
                return 1;
            }
            v[i] = it->valuedouble;
        }
        *out = v;
        *n = len;
        return 0;
    }
    if (!cJSON_IsString(item))
        return 1;
    const char *s = item->valuestring;
    size_t len = 0;
    for (const char *p = s; *p != '\0'; p++)
        len += *p == ' ';
    len += *s != '\0';
    double *v = aud_malloc((len + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    locale_t c = get_c_locale();
    size_t i = 0;
    for (const char *p = s; len > 0;) {
        const char *e = strchr(p, ' ');
        size_t k = e != NULL ? (size_t)(e - p) : strlen(p);
        /* one number between single spaces (the parser would skip blanks around it) */
        int r = k > 0 && k <= 400 && p[0] != '\t' && p[k - 1] != '\t'
                    ? aud_csv_parse_number(p, k, c, &v[i])
                    : NUM_NOT;
        if (r == NUM_NOMEM) {
            aud_free(v);
            return -1;
        }
        if (r != NUM_OK || !isfinite(v[i])) {
            aud_free(v);
            *bad = (long)i;
            return 1;
        }
        i++;
        if (e == NULL)
            break;
        p = e + 1;
    }
    *out = v;
    *n = len;
    return 0;
}

int aud_json_add_num(cJSON *obj, const char *name, double v)
{
    cJSON *n = aud_json_num(v);
    if (n == NULL)
        return -1;
    if (!cJSON_AddItemToObject(obj, name, n)) {
        cJSON_Delete(n);
        return -1;
    }
    return 0;
}

cJSON *aud_json_doc_new(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *tool = NULL;
    if (doc == NULL)
        return NULL;
    if (cJSON_AddStringToObject(doc, "schema_version", AUD_SCHEMA_VERSION) == NULL)
        goto fail;
    tool = cJSON_AddObjectToObject(doc, "tool");
    if (tool == NULL || cJSON_AddStringToObject(tool, "name", "audit") == NULL ||
        cJSON_AddStringToObject(tool, "version", AUD_VERSION) == NULL)
        goto fail;
    return doc;
fail:
    cJSON_Delete(doc);
    return NULL;
}

int aud_json_write(const cJSON *doc, const char *path, aud_error *err)
{
    char *text = cJSON_Print(doc);
    if (text == NULL)
        return aud_error_nomem(err);
    size_t n = strlen(text);
    text[n] = '\n';  /* replace the NUL: we write n + 1 bytes and never read it as a string */
    int rc = aud_file_write_atomic(path, text, n + 1, err);
    cJSON_free(text);
    return rc;
}

/* Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF, no NUL). Returns the byte offset of the
 * first invalid sequence, or (size_t)-1 when valid. */
size_t aud_utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            if (c == 0)
                return i;   /* NUL: not text (and it would cut C strings short) */
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, min = 0x10000, c &= 0x07;
        } else {
            return i;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return i;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return i;
        i += k + 1;
    }
    return (size_t)-1;
}


int aud_guard_output(const char *out, const char *const *inputs, size_t n, aud_error *err)
{
    struct stat so, si;
    if (out == NULL || strcmp(out, "-") == 0 || stat(out, &so) != 0 || !S_ISREG(so.st_mode))
        return AUD_OK;
    for (size_t i = 0; i < n; i++) {
        if (inputs[i] != NULL && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return aud_error_set(err, AUD_E_USAGE, out, 0, 0,
                                 "output would overwrite the input file %s", inputs[i]);
    }
    return AUD_OK;
}

int aud_json_only_keys(const cJSON *obj, const char *const *known, const char *name,
                       aud_error *err)
{
    for (const cJSON *e = obj->child; e != NULL; e = e->next) {
        int ok = 0;
        for (size_t k = 0; known[k] != NULL; k++)
            ok |= strcmp(e->string, known[k]) == 0;
        if (!ok) {
            aud_error_set(err, AUD_E_SCHEMA, name, 0, 0, "unknown key");
            return aud_error_field(err, e->string);
        }
    }
    return AUD_OK;
}

/* line and column (1-based) of byte offset off of text */
static void json_position(const char *text, size_t off, long *line, long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

int aud_json_parse_located(cJSON **out, const char *text, size_t len, const char *name,
                           aud_error *err)
{
    long line, col;
    if (len == 0)
        return aud_error_set(err, AUD_E_PARSE, name, 1, 1, "empty file: expected JSON");
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        json_position(text, (size_t)(nul - text), &line, &col);
        return aud_error_set(err, AUD_E_PARSE, name, line, col, "NUL byte in JSON text");
    }
    const char *end = NULL;
    /* cJSON wants the terminating NUL inside the length when it must check for trailing text */
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (doc != NULL) {
        *out = doc;
        return AUD_OK;
    }
    size_t off = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : len;
    json_position(text, off, &line, &col);
    return aud_error_set(err, AUD_E_PARSE, name, line, col,
                         off >= len ? "invalid JSON (truncated file?)" : "invalid JSON");
}
