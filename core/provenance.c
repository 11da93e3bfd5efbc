/* provenance.c - SHA-256 fingerprints (OpenSSL 3 EVP interface), UTC timestamps and the
 * "provenance" section of results documents (docs/results-schema.md). */
#include "core/provenance.h"
#include "core/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <openssl/evp.h>

static void to_hex(const unsigned char *md, unsigned n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

int aud_sha256_file(const char *path, char hex[65], aud_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[1 << 16];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int rc = AUD_OK;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = aud_error_set(err, AUD_E_INTERNAL, path, 0, 0, "SHA-256 is not available");
        goto done;
    }
    for (;;) {
        size_t got = fread(buf, 1, sizeof buf, f);
        if (got > 0 && EVP_DigestUpdate(ctx, buf, got) != 1) {
            rc = aud_error_set(err, AUD_E_INTERNAL, path, 0, 0, "SHA-256 failed");
            goto done;
        }
        if (got < sizeof buf) {
            if (ferror(f)) {
                rc = aud_error_set(err, AUD_E_IO, path, 0, 0, "read error: %s", strerror(errno));
                goto done;
            }
            break;
        }
    }
    if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32) {
        rc = aud_error_set(err, AUD_E_INTERNAL, path, 0, 0, "SHA-256 failed");
        goto done;
    }
    to_hex(md, n, hex);
done:
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}

int aud_sha256_parts(const void *const *parts, const size_t *lens, size_t n, char hex[65],
                     aud_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "SHA-256 failed");
    to_hex(md, len, hex);
    return AUD_OK;
}

int aud_sha256_mem(const void *data, size_t len, char hex[65], aud_error *err)
{
    return aud_sha256_parts(&data, &len, 1, hex, err);
}

struct aud_sha256_stream {
    EVP_MD_CTX *ctx;
    int failed;
};

aud_sha256_stream *aud_sha256_begin(void)
{
    aud_sha256_stream *s = aud_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = EVP_MD_CTX_new();
    if (s->ctx == NULL || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->ctx);
        aud_free(s);
        return NULL;
    }
    return s;
}

int aud_sha256_add(aud_sha256_stream *s, const void *data, size_t len)
{
    if (!s->failed && len > 0 && EVP_DigestUpdate(s->ctx, data, len) != 1)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

int aud_sha256_end(aud_sha256_stream *s, char hex[65], aud_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int rc = AUD_OK;
    if (s == NULL)
        return hex != NULL ? aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "SHA-256 failed")
                           : AUD_OK;
    if (hex != NULL) {
        if (s->failed || EVP_DigestFinal_ex(s->ctx, md, &len) != 1 || len != 32)
            rc = aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "SHA-256 failed");
        else
            to_hex(md, len, hex);
    }
    EVP_MD_CTX_free(s->ctx);
    aud_free(s);
    return rc;
}

void aud_utc_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int aud_utc_valid(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        int digit = s[i] >= '0' && s[i] <= '9';
        if (shape[i] == 'd' ? !digit : s[i] != shape[i])
            return 0;   /* also stops at a NUL before the end of the shape */
    }
    if (s[sizeof shape - 1] != '\0')
        return 0;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    int hour = (s[11] - '0') * 10 + (s[12] - '0');
    int minute = (s[14] - '0') * 10 + (s[15] - '0');
    int second = (s[17] - '0') * 10 + (s[18] - '0');
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] ||
        (month == 2 && day == 29 && !leap))
        return 0;
    return hour <= 23 && minute <= 59 && second <= 59;
}

int aud_prov_doc_new(cJSON **doc, cJSON **prov, const char *command, const char *created,
                     aud_error *err)
{
    char now[32];
    if (created != NULL && !aud_utc_valid(created))
        return aud_error_set(err, AUD_E_USAGE, NULL, 0, 0,
                             "created time \"%s\" is not UTC YYYY-MM-DDTHH:MM:SSZ", created);
    if (created == NULL)
        aud_utc_now(now, sizeof now);
    cJSON *d = aud_json_doc_new();
    cJSON *p = d != NULL ? cJSON_AddObjectToObject(d, "provenance") : NULL;
    if (p == NULL ||
        cJSON_AddStringToObject(p, "created", created != NULL ? created : now) == NULL ||
        cJSON_AddStringToObject(p, "command", command) == NULL ||
        cJSON_AddArrayToObject(p, "inputs") == NULL) {
        cJSON_Delete(d);
        return aud_error_nomem(err);
    }
    *doc = d;
    *prov = p;
    return AUD_OK;
}

/* NULL when the input at path can be hashed by reading it again (a regular file), else why not:
 * standard input, pipes and devices give their bytes once, to the reader. */
static const char *unhashable(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return "read from standard input, not hashed";
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return "not a regular file (a pipe or device): its bytes cannot be read again to hash "
               "them";
    return NULL;   /* a regular file, or an error that hashing will report */
}

static void *hash_ahead_main(void *arg)
{
    aud_hash_ahead *h = arg;
    h->rc = aud_sha256_file(h->path, h->hex, &h->err);
    return NULL;
}

void aud_hash_ahead_start(aud_hash_ahead *h, const char *path)
{
    memset(h, 0, sizeof *h);
    if (path == NULL || unhashable(path) != NULL)
        return;   /* nothing to hash: join returns AUD_OK, the entry says why */
    h->path = path;
    aud_error_clear(&h->err);
    h->state = aud_thread_start(&h->th, hash_ahead_main, h) == 0 ? 1 : 0;
}

int aud_hash_ahead_join(aud_hash_ahead *h, aud_error *err)
{
    if (h->state == 0 && h->path != NULL) {
        h->rc = aud_sha256_file(h->path, h->hex, &h->err);   /* no thread could start */
        h->state = 2;
    } else if (h->state == 1) {
        pthread_join(h->th, NULL);
        h->state = 2;
    }
    if (h->rc != AUD_OK && err != NULL)
        *err = h->err;
    return h->rc;
}

int aud_prov_add_input(cJSON *prov, const char *role, const char *path, const aud_table *t,
                       cJSON **entry, aud_error *err)
{
    return aud_prov_add_input_hashed(prov, role, path, NULL, t, entry, err);
}

int aud_prov_add_input_hashed(cJSON *prov, const char *role, const char *path, const char *known,
                              const aud_table *t, cJSON **entry, aud_error *err)
{
    char hex[65];
    const char *why = unhashable(path);
    if (why == NULL && known != NULL) {
        memcpy(hex, known, sizeof hex);
    } else if (why == NULL) {
        int rc = aud_sha256_file(path, hex, err);
        if (rc != AUD_OK)
            return rc;
    }
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(prov, "inputs"), o)) {
        cJSON_Delete(o);
        return aud_error_nomem(err);
    }
    if (cJSON_AddStringToObject(o, "role", role) == NULL ||
        cJSON_AddStringToObject(o, "path", path) == NULL ||
        (why != NULL ? cJSON_AddNullToObject(o, "sha256") == NULL ||
                           cJSON_AddStringToObject(o, "sha256_reason", why) == NULL
                     : cJSON_AddStringToObject(o, "sha256", hex) == NULL))
        return aud_error_nomem(err);
    if (t != NULL && (aud_json_add_num(o, "rows", (double)t->n_rows) != 0 ||
                      aud_json_add_num(o, "columns", (double)t->n_cols) != 0))
        return aud_error_nomem(err);
    if (entry != NULL)
        *entry = o;
    return AUD_OK;
}
