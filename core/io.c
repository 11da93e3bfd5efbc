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
        aud_free(o->tmp);   /* no name in it yet: nothing to unlink */
        o->tmp = NULL;
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

int aud_file_write_parts(const char *path, const void *const *parts, const size_t *lens,
                         size_t n, aud_error *err)
{
    aud_out o;
    int rc = aud_out_open(&o, path, err);
    if (rc != AUD_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > 0 && fwrite(parts[i], 1, lens[i], o.f) != lens[i]) {
            rc = aud_error_set(err, AUD_E_IO, path, 0, 0, "write error: %s", strerror(errno));
            aud_out_abort(&o);
            return rc;
        }
    }
    return aud_out_commit(&o, err);
}

int aud_file_write_atomic(const char *path, const void *data, size_t len, aud_error *err)
{
    return aud_file_write_parts(path, &data, &len, 1, err);
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

int aud_json_number(const char *s, size_t n, double *out)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return -1;
    }
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return -1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return -1;
    }
    locale_t c = get_c_locale();
    if (i != n || c == (locale_t)0)
        return -1;
    return aud_csv_parse_number(s, n, c, out) == NUM_OK ? 0 : -1;
}

double aud_strtod_c(const char *s, char **end)
{
    locale_t c = get_c_locale();
    return c != (locale_t)0 ? strtod_l(s, end, c) : strtod(s, end);
}

/* Digits d[0..n) of |v| (n <= 17) with decimal exponent x (|v| ~ d0.d1d2... * 10^x) written
 * as printf's "%.{prec}g" writes them: fixed notation when -4 <= x < prec, else d.ddde+XX;
 * trailing zeros of the fraction dropped. */
static void g_layout(char *out, int neg, const char *d, int n, int x, int prec)
{
    char *o = out;
    while (n > 1 && d[n - 1] == '0')
        n--;
    if (neg)
        *o++ = '-';
    if (x < -4 || x >= prec) {
        *o++ = d[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)n - 1);
            o += n - 1;
        }
        int ax = x < 0 ? -x : x;
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++)
            *o++ = i < n ? d[i] : '0';
        if (n > x + 1) {
            *o++ = '.';
            memcpy(o, d + x + 1, (size_t)(n - x - 1));
            o += n - x - 1;
        }
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -x - 1; i++)
            *o++ = '0';
        memcpy(o, d, (size_t)n);
        o += n;
    }
    *o = '\0';
}

typedef unsigned __int128 u128;

/* 10^k, 0 <= k <= 22 (< 2^74). */
static u128 pow10_128(int k)
{
    static const uint64_t p10[20] = {
        1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
        1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
        100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
        1000000000000000000ull, 10000000000000000000ull};
    return k < 20 ? (u128)p10[k] : (u128)p10[19] * p10[k - 19];
}

/* The shortest "%.{15,16,17}g" of a = m * 2^-s (m in [2^52, 2^53), 6 <= s <= 73) with decimal
 * exponent x (10^x <= a < 10^(x+1), -6 <= x <= 13) in exact integer arithmetic: for each
 * precision P, q = a * 10^k (k = P - 1 - x) rounded to nearest, ties to even (as glibc's printf
 * rounds), and err = |q * 2^s - m * 10^k|; q * 10^-k reads back as a (strtod rounds to nearest,
 * ties to even) iff it lies within half a unit in the last place of a:
 * 2 * err < 10^k, or 4 * err < 10^k below a power of two (m = 2^52: the gap below is half as
 * wide), equality going to even m. */
static void fmt_exact(char *buf, int neg, uint64_t m, int s, int x)
{
    for (int prec = 15; prec <= 17; prec++) {
        int k = prec - 1 - x;
        u128 n = (u128)m * pow10_128(k), one = (u128)1 << s;
        uint64_t q = (uint64_t)(n >> s);
        u128 rem = n & (one - 1), half = one >> 1;
        int up = rem > half || (rem == half && (q & 1));
        u128 err = up ? one - rem : rem;
        u128 lim = (u128)(m == (1ull << 52) && !up && rem != 0 ? 4 : 2) * err;
        if (prec < 17 && (lim > pow10_128(k) || (lim == pow10_128(k) && (m & 1))))
            continue;   /* does not read back */
        q += (uint64_t)up;
        int xr = x;
        if (q == (uint64_t)pow10_128(prec)) {   /* 9...9 rounded up to 10...0 */
            q /= 10;
            xr++;
        }
        static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                    "25262728293031323334353637383940414243444546474849"
                                    "50515253545556575859606162636465666768697071727374"
                                    "75767778798081828384858687888990919293949596979899";
        char d[18];
        int i = prec;
        for (; i >= 2; i -= 2, q /= 100)
            memcpy(d + i - 2, pairs + 2 * (q % 100), 2);
        if (i == 1)
            d[0] = (char)('0' + q);
        g_layout(buf, neg, d, prec, xr, prec);
        return;
    }
}

/* The shortest of "%.15g", "%.16g" and "%.17g" that reads back as v: for 1e-6 <= |v| < 1e14
 * (attributions, feature values, rates) in integer arithmetic (fmt_exact), byte for byte what
 * the snprintf and strtod loop used for other values gives (tests/unit/test_error.c compares
 * them on millions of values), at a tenth of its cost. */
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
    double a = fabs(v);
    if (a >= 1e-6 && a < 1e14) {
        int e2;
        uint64_t m = (uint64_t)ldexp(frexp(a, &e2), 53);
        int s = 53 - e2, x = (int)floor((e2 - 1) * 0.30102999566398120);   /* or x + 1 */
        for (int tries = 0; tries < 2 && x >= -6 && x <= 13; tries++) {
            uint64_t q = (uint64_t)(((u128)m * pow10_128(16 - x)) >> s);   /* 17 digits? */
            if (q >= 10000000000000000ull && q < 100000000000000000ull) {
                fmt_exact(buf, v < 0.0, m, s, x);
                return buf;
            }
            x += q < 10000000000000000ull ? -1 : 1;   /* the estimate was one off */
        }
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
