/* provenance.c - SHA-256 fingerprints (OpenSSL 3 EVP interface) and UTC timestamps. */
#include "provenance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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

int aud_sha256_mem(const void *data, size_t len, char hex[65], aud_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "SHA-256 failed");
    to_hex(md, n, hex);
    return AUD_OK;
}

void aud_utc_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
