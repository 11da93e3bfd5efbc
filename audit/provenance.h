/* provenance.h - input fingerprints for results.json and the run log. */
#ifndef AUD_PROVENANCE_H
#define AUD_PROVENANCE_H

#include "aud.h"

/* SHA-256 of a file's bytes as 64 lowercase hex digits + NUL (OpenSSL libcrypto EVP). */
int aud_sha256_file(const char *path, char hex[65], aud_error *err);

/* SHA-256 of a memory buffer. */
int aud_sha256_mem(const void *data, size_t len, char hex[65], aud_error *err);

/* Current UTC time as ISO-8601 "2026-11-28T10:21:30Z" (buf >= 21 bytes). */
void aud_utc_now(char *buf, size_t size);

#endif
