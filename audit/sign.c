/* sign.c - Ed25519 signed manifests of audit outputs (see sign.h). Ed25519 is "pure" (RFC 8032
 * section 5.1): EVP_DigestSign with a NULL digest over the whole message, as
 * `openssl pkeyutl -sign -rawin` does, so the openssl CLI verifies our signatures. */
#include "audit/sign.h"
#include "core/io.h"
#include "core/provenance.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define SIG_LEN 64

static int join(char *out, size_t n, const char *dir, const char *name, aud_error *err)
{
    if (snprintf(out, n, "%s/%s", dir, name) >= (int)n)
        return aud_error_set(err, AUD_E_IO, dir, 0, 0, "path too long");
    return AUD_OK;
}

/* Load a PEM key: private (want_private) or public; a private key file also serves as public. */
static int load_key(const char *path, int want_private, EVP_PKEY **out, aud_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open the key: %s",
                             strerror(errno));
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
    if (k == NULL && !want_private) {
        rewind(f);
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (k == NULL)
        return aud_error_set(err, AUD_E_PARSE, path, 0, 0,
                             want_private ? "not a PEM private key (openssl genpkey -algorithm "
                                            "ed25519 writes one)"
                                          : "not a PEM public or private key");
    if (EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        return aud_error_set(err, AUD_E_UNSUPPORTED, path, 0, 0,
                             "the key is not an Ed25519 key");
    }
    *out = k;
    return AUD_OK;
}

static int fingerprint_of(EVP_PKEY *k, char fp[80], aud_error *err)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    if (n <= 0)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0, "cannot encode the public key");
    char hex[65];
    int rc = aud_sha256_mem(der, (size_t)n, hex, err);
    OPENSSL_free(der);
    if (rc == AUD_OK)
        snprintf(fp, 80, "sha256:%s", hex);
    return rc;
}

int aud_key_fingerprint(const char *key_path, int want_private, char fingerprint[80],
                        aud_error *err)
{
    EVP_PKEY *k = NULL;
    int rc = load_key(key_path, want_private, &k, err);
    if (rc == AUD_OK)
        rc = fingerprint_of(k, fingerprint, err);
    EVP_PKEY_free(k);
    return rc;
}

static int add_file(cJSON *files, const char *dir, const char *name, aud_error *err)
{
    char path[PATH_MAX], hex[65];
    struct stat st;
    int rc = join(path, sizeof path, dir, name, err);
    if (rc != AUD_OK)
        return rc;
    if (strchr(name, '/') != NULL || strcmp(name, AUD_MANIFEST_NAME) == 0 ||
        strcmp(name, AUD_SIGNATURE_NAME) == 0)
        return aud_error_set(err, AUD_E_USAGE, path, 0, 0,
                             "files to sign are names inside the folder, not the manifest");
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot sign: %s",
                             stat(path, &st) != 0 ? strerror(errno) : "not a regular file");
    rc = aud_sha256_file(path, hex, err);
    if (rc != AUD_OK)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(files, o) ||
        cJSON_AddStringToObject(o, "name", name) == NULL ||
        cJSON_AddStringToObject(o, "sha256", hex) == NULL ||
        aud_json_add_num(o, "bytes", (double)st.st_size) != 0) {
        if (o != NULL && o->prev == NULL)
            cJSON_Delete(o);
        return aud_error_nomem(err);
    }
    return AUD_OK;
}

/* the manifest document; results.json must be in the folder (its inputs are listed) */
static int build_manifest(const char *dir, const char *const *files, size_t n_files,
                          const char *created, const char *fp, cJSON **out, aud_error *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    cJSON *results = NULL;
    /* the input hashes come from the results document: the first listed .json file, else
     * results.json (required when no files are listed) */
    const char *res_name = "results.json";
    for (size_t i = 0; i < n_files; i++) {
        size_t l = strlen(files[i]);
        if (l >= 5 && strcmp(files[i] + l - 5, ".json") == 0) {
            res_name = files[i];
            break;
        }
    }
    struct stat rs;
    int rc = join(path, sizeof path, dir, res_name, err);
    int have_results = !n_files || stat(path, &rs) == 0;
    if (rc == AUD_OK && have_results)
        rc = aud_file_read(path, &text, &len, 0, err);
    if (rc == AUD_OK && have_results) {
        results = cJSON_ParseWithLength(text, len);
        if (results == NULL)
            rc = aud_error_set(err, AUD_E_PARSE, path, 0, 0, "invalid JSON");
    }
    aud_free(text);
    cJSON *m = cJSON_CreateObject(), *key = NULL, *fl = NULL, *ins = NULL;
    char now[32];
    if (created == NULL) {
        aud_utc_now(now, sizeof now);
        created = now;
    }
    if (rc == AUD_OK) {
        const cJSON *prov = cJSON_GetObjectItemCaseSensitive(results, "provenance");
        ins = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(prov, "inputs"), 1);
        if (m == NULL || cJSON_AddStringToObject(m, "format", "audit-manifest") == NULL ||
            aud_json_add_num(m, "version", 1) != 0 ||
            cJSON_AddStringToObject(m, "created", created) == NULL ||
            cJSON_AddStringToObject(m, "tool", "audit " AUD_VERSION) == NULL ||
            (key = cJSON_AddObjectToObject(m, "key")) == NULL ||
            cJSON_AddStringToObject(key, "algorithm", "ed25519") == NULL ||
            cJSON_AddStringToObject(key, "fingerprint", fp) == NULL ||
            (fl = cJSON_AddArrayToObject(m, "files")) == NULL)
            rc = aud_error_nomem(err);
    }
    static const char *const defaults[] = {"results.json", "report.pdf", "report.xlsx"};
    for (size_t i = 0; rc == AUD_OK && i < (n_files ? n_files : 3); i++) {
        const char *name = n_files ? files[i] : defaults[i];
        struct stat st;
        if (!n_files && i > 0 && (join(path, sizeof path, dir, name, err) != AUD_OK ||
                                  stat(path, &st) != 0))
            continue;   /* the reports are optional */
        rc = add_file(fl, dir, name, err);
    }
    if (rc == AUD_OK) {
        if (ins == NULL)
            ins = cJSON_CreateArray();
        if (ins == NULL || !cJSON_AddItemToObject(m, "inputs", ins))
            rc = aud_error_nomem(err);
        else
            ins = NULL;
    }
    cJSON_Delete(ins);
    cJSON_Delete(results);
    if (rc != AUD_OK) {
        cJSON_Delete(m);
        return rc;
    }
    *out = m;
    return AUD_OK;
}

int aud_sign_dir(const char *dir, const char *key_path, const char *const *files, size_t n_files,
                 const char *created, char fingerprint[80], aud_error *err)
{
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *ctx = NULL;
    cJSON *m = NULL;
    char *text = NULL, fp[80], path[PATH_MAX];
    unsigned char sig[SIG_LEN];
    size_t sig_len = sizeof sig;
    int rc = load_key(key_path, 1, &k, err);
    if (rc == AUD_OK)
        rc = fingerprint_of(k, fp, err);
    if (rc == AUD_OK)
        rc = build_manifest(dir, files, n_files, created, fp, &m, err);
    if (rc == AUD_OK && (text = cJSON_Print(m)) == NULL)
        rc = aud_error_nomem(err);
    size_t len = text != NULL ? strlen(text) : 0;
    if (rc == AUD_OK) {
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
            EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)text, len) != 1 ||
            sig_len != SIG_LEN)
            rc = aud_error_set(err, AUD_E_INTERNAL, key_path, 0, 0, "Ed25519 signing failed");
    }
    /* the signature first: a manifest never stands beside a signature of another manifest
     * for long, and verify reports the pair as not matching until both are written */
    if (rc == AUD_OK) rc = join(path, sizeof path, dir, AUD_SIGNATURE_NAME, err);
    if (rc == AUD_OK) rc = aud_file_write_atomic(path, sig, sig_len, err);
    if (rc == AUD_OK) rc = join(path, sizeof path, dir, AUD_MANIFEST_NAME, err);
    if (rc == AUD_OK) rc = aud_file_write_atomic(path, text, len, err);
    if (rc == AUD_OK && fingerprint != NULL)
        snprintf(fingerprint, 80, "%s", fp);
    EVP_MD_CTX_free(ctx);
    cJSON_free(text);
    cJSON_Delete(m);
    EVP_PKEY_free(k);
    return rc;
}

static int add_bad(aud_verify_report *rep, const char *name, const char *what, aud_error *err)
{
    char **nb = aud_realloc(rep->bad, (rep->n_bad + 1) * sizeof *nb);
    if (nb == NULL)
        return aud_error_nomem(err);
    rep->bad = nb;
    size_t n = strlen(name) + strlen(what) + 3;
    char *s = aud_malloc(n);
    if (s == NULL)
        return aud_error_nomem(err);
    snprintf(s, n, "%s: %s", name, what);
    rep->bad[rep->n_bad++] = s;
    return AUD_OK;
}

int aud_verify_dir(const char *dir, const char *key_path, aud_verify_report *rep,
                   aud_error *err)
{
    memset(rep, 0, sizeof *rep);
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *ctx = NULL;
    cJSON *m = NULL;
    char *text = NULL, *sig = NULL, mpath[PATH_MAX], spath[PATH_MAX];
    size_t len = 0, sig_len = 0;
    int rc = load_key(key_path, 0, &k, err);
    if (rc == AUD_OK) rc = join(mpath, sizeof mpath, dir, AUD_MANIFEST_NAME, err);
    if (rc == AUD_OK) rc = join(spath, sizeof spath, dir, AUD_SIGNATURE_NAME, err);
    if (rc == AUD_OK) rc = aud_file_read(mpath, &text, &len, 1 << 24, err);
    if (rc == AUD_OK) rc = aud_file_read(spath, &sig, &sig_len, 4096, err);
    if (rc == AUD_OK) {
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) != 1)
            rc = aud_error_set(err, AUD_E_INTERNAL, key_path, 0, 0, "Ed25519 setup failed");
        else
            rep->signature_ok = sig_len == SIG_LEN &&
                                EVP_DigestVerify(ctx, (const unsigned char *)sig, sig_len,
                                                 (const unsigned char *)text, len) == 1;
    }
    if (rc == AUD_OK) {
        m = cJSON_ParseWithLength(text, len);
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "files")))
            rc = aud_error_set(err, AUD_E_PARSE, mpath, 0, 0,
                               "not an audit manifest (no \"files\" list)");
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(m, "files")) {
        if (rc != AUD_OK)
            break;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(f, "sha256");
        char path[PATH_MAX], hex[65];
        aud_error e2;
        rep->n_files++;
        if (!cJSON_IsString(name) || !cJSON_IsString(want) ||
            strchr(name->valuestring, '/') != NULL) {
            rc = aud_error_set(err, AUD_E_PARSE, mpath, 0, 0, "a \"files\" entry is malformed");
            break;
        }
        rc = join(path, sizeof path, dir, name->valuestring, err);
        if (rc != AUD_OK)
            break;
        struct stat st;
        if (stat(path, &st) != 0)
            rc = add_bad(rep, name->valuestring, "missing", err);
        else if (aud_sha256_file(path, hex, &e2) != AUD_OK)
            rc = add_bad(rep, name->valuestring, "unreadable", err);
        else if (strcmp(hex, want->valuestring) != 0)
            rc = add_bad(rep, name->valuestring, "changed", err);
    }
    if (rc != AUD_OK)
        aud_verify_report_free(rep);
    cJSON_Delete(m);
    aud_free(text);
    aud_free(sig);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

void aud_verify_report_free(aud_verify_report *rep)
{
    for (size_t i = 0; i < rep->n_bad; i++)
        aud_free(rep->bad[i]);
    aud_free(rep->bad);
    rep->bad = NULL;
    rep->n_bad = 0;
}
