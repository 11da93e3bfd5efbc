/* sign.h - signed audit records (SPEC section 8): an Ed25519 signature (RFC 8032, OpenSSL
 * libcrypto) over a manifest of the outputs in a folder and the input hashes of its results,
 * written beside them; verification names every file that changed. */
#ifndef AUD_SIGN_H
#define AUD_SIGN_H

#include "core/aud.h"

#define AUD_MANIFEST_NAME "audit-manifest.json"
#define AUD_SIGNATURE_NAME "audit-manifest.sig"

/* Write DIR/audit-manifest.json (SHA-256 and size of results.json and of report.pdf and
 * report.xlsx when present, or of the n_files names given; the input hashes of the results
 * document's provenance (results.json, or the first listed .json file); the key's fingerprint) and DIR/audit-manifest.sig (the 64-byte Ed25519 signature
 * of the manifest's bytes). key_path: a PEM Ed25519 private key (openssl genpkey -algorithm
 * ed25519). created: fixed time or NULL for now. fingerprint (may be NULL): "sha256:<hex>" of
 * the public key (DER SubjectPublicKeyInfo). The key itself is never written anywhere. */
int aud_sign_dir(const char *dir, const char *key_path, const char *const *files, size_t n_files,
                 const char *created, char fingerprint[80], aud_error *err);

/* The fingerprint "sha256:<hex>" of a PEM Ed25519 key (public, or private: its public half);
 * want_private: the file must hold a private key (one that can sign). */
int aud_key_fingerprint(const char *key_path, int want_private, char fingerprint[80],
                        aud_error *err);

/* Result of a verification: the signature, then each file of the manifest. */
typedef struct aud_verify_report {
    int    signature_ok;   /* the manifest's signature verifies with the key */
    size_t n_files;        /* files in the manifest */
    size_t n_bad;          /* changed or missing */
    char **bad;            /* "name: changed" / "name: missing"; aud_verify_report_free */
} aud_verify_report;

/* Verify DIR with a PEM Ed25519 public key (openssl pkey -pubout). AUD_OK when the check ran
 * (see rep: all good iff signature_ok and n_bad == 0); an error for a missing or malformed
 * manifest, signature or key. */
int aud_verify_dir(const char *dir, const char *key_path, aud_verify_report *rep,
                   aud_error *err);
void aud_verify_report_free(aud_verify_report *rep);

#endif
