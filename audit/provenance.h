/* provenance.h - input fingerprints and the "provenance" section that every results document
 * carries (results.json of `audit run` and the --json documents of the other commands; SPEC
 * section 5, docs/results-schema.md). */
#ifndef AUD_PROVENANCE_H
#define AUD_PROVENANCE_H

#include "aud.h"
#include "model.h"
#include "table.h"
#include <cjson/cJSON.h>

/* SHA-256 of a file's bytes as 64 lowercase hex digits + NUL (OpenSSL libcrypto EVP). */
int aud_sha256_file(const char *path, char hex[65], aud_error *err);

/* SHA-256 of a memory buffer. */
int aud_sha256_mem(const void *data, size_t len, char hex[65], aud_error *err);

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

/* Append the input file `path` (as given on the command line or in the spec) to prov's
 * "inputs": {"role", "path", "sha256"}, plus "rows" and "columns" of t when t is not NULL.
 * "-" (standard input) cannot be read again to be hashed: "sha256" is null with a
 * "sha256_reason". *entry (may be NULL) receives the new object, borrowed from prov. */
int aud_prov_add_input(cJSON *prov, const char *role, const char *path, const aud_table *t,
                       cJSON **entry, aud_error *err);

/* Append the model file to "inputs" as role "model" with its "format" and "objective", and set
 * prov's "model" to the same facts plus "features", "trees" and "outputs". */
int aud_prov_add_model(cJSON *prov, const char *path, const aud_model *m, aud_error *err);

#endif
