/* provenance.h - input fingerprints and the "provenance" section that every results document
 * carries (results.json of `audit run` and the --json documents of the other commands; SPEC
 * section 5, docs/results-schema.md). */
#ifndef AUD_PROVENANCE_H
#define AUD_PROVENANCE_H

#include "core/aud.h"
#include "core/table.h"
#include <cjson/cJSON.h>
#include <pthread.h>

/* SHA-256 of a file's bytes as 64 lowercase hex digits + NUL (OpenSSL libcrypto EVP). */
int aud_sha256_file(const char *path, char hex[65], aud_error *err);

/* SHA-256 of a memory buffer. */
int aud_sha256_mem(const void *data, size_t len, char hex[65], aud_error *err);
/* SHA-256 of the n pieces parts[i] (lens[i] bytes each) one after the other. */
int aud_sha256_parts(const void *const *parts, const size_t *lens, size_t n, char hex[65],
                     aud_error *err);

/* SHA-256 of a stream written piece by piece: begin (NULL: no memory or no SHA-256), add each
 * piece in order (0, or -1 when the digest failed), end writes the hex digest and frees the
 * state (AUD_OK or AUD_E_INTERNAL; with hex NULL it only frees). */
typedef struct aud_sha256_stream aud_sha256_stream;
aud_sha256_stream *aud_sha256_begin(void);
int aud_sha256_add(aud_sha256_stream *s, const void *data, size_t len);
int aud_sha256_end(aud_sha256_stream *s, char hex[65], aud_error *err);

/* Current UTC time as ISO-8601 "2026-11-28T10:21:30Z" (buf >= 21 bytes). */
void aud_utc_now(char *buf, size_t size);

/* 1 when s is a real UTC date and time written "YYYY-MM-DDTHH:MM:SSZ" (what aud_utc_now writes
 * and what --created takes), else 0. */
int aud_utc_valid(const char *s);

/* New results document {"schema_version", "tool", "provenance": {"created", "command",
 * "inputs": []}}. created: a fixed time (--created, for reproducible documents; must pass
 * aud_utc_valid) or NULL for now. On AUD_OK *doc belongs to the caller (cJSON_Delete) and
 * *prov is its provenance object (borrowed); on failure both are untouched. */
int aud_prov_doc_new(cJSON **doc, cJSON **prov, const char *command, const char *created,
                     aud_error *err);

/* Hashing a file on a thread of its own while the caller computes: a command starts it once it
 * has read the file (so the bytes come from the page cache and the hash overlaps the metrics)
 * and joins it when it writes the provenance. Joining twice is harmless; every started hash
 * must be joined. Standard input ("-"), pipes and devices are not hashed (their entry says so). */
typedef struct aud_hash_ahead {
    const char *path;
    char        hex[65];
    int         rc;
    aud_error   err;
    int         state;     /* 0 idle, 1 running on a thread, 2 done */
    pthread_t   th;
} aud_hash_ahead;
void aud_hash_ahead_start(aud_hash_ahead *h, const char *path);
/* Wait for the hash (computing it here when no thread could start): AUD_OK and h->hex set, or
 * the hashing error in err. */
int aud_hash_ahead_join(aud_hash_ahead *h, aud_error *err);

/* Append the input file `path` (as given on the command line or in the spec) to prov's
 * "inputs": {"role", "path", "sha256"}, plus "rows" and "columns" of t when t is not NULL.
 * Standard input ("-"), pipes and devices cannot be read again to be hashed: "sha256" is null
 * with a "sha256_reason". *entry (may be NULL) receives the new object, borrowed from prov. */
int aud_prov_add_input(cJSON *prov, const char *role, const char *path, const aud_table *t,
                       cJSON **entry, aud_error *err);
/* The same with the file's SHA-256 already known (hex; NULL = hash it now). */
int aud_prov_add_input_hashed(cJSON *prov, const char *role, const char *path, const char *hex,
                              const aud_table *t, cJSON **entry, aud_error *err);

#endif
