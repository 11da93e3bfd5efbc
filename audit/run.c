/* run.c - `audit run` flow: spec, inputs, provenance, sections, checks, atomic outputs, run log
 * (SPEC sections 4 and 5; docs/results-schema.md). */
#include "audit/run_int.h"
#include "audit/shard_int.h"
#include "audit/checks_int.h"
#include "audit/findings.h"
#include "audit/history.h"
#include "audit/sign.h"
#include "core/io.h"
#include "core/provenance.h"
#include "models/model_cmd_int.h"
#include "reports/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double aud_run_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int aud_run_skip(run_ctx *c, const char *section, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(c->skipped, o)) {
        cJSON_Delete(o);
        return aud_error_nomem(c->err);
    }
    if (cJSON_AddStringToObject(o, "section", section) == NULL ||
        cJSON_AddStringToObject(o, "reason", reason) == NULL)
        return aud_error_nomem(c->err);
    return AUD_OK;
}

/* mkdir -p; *made is the length of the path prefix naming the first folder this call created
 * (0: none), so that a failed run can remove what it made (remove_made_dirs). */
static int make_dirs(const char *path, size_t *made, aud_error *err)
{
    char buf[PATH_MAX];
    *made = 0;
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "path too long");
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            int ok = mkdir(buf, 0777) == 0;
            if (ok && *made == 0)
                *made = (size_t)(p - buf);
            if (!ok && errno != EEXIST)
                return aud_error_set(err, AUD_E_IO, buf, 0, 0, "cannot create folder: %s",
                                     strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "not a folder");
    return AUD_OK;
}

/* After a failed run: remove the folders make_dirs created for it (path's prefixes down to the
 * first one made, deepest first) when they are empty. A folder holding the run log's error line
 * stays: the log is the record of every run, failed ones included. */
static void remove_made_dirs(const char *path, size_t made)
{
    char buf[PATH_MAX];
    if (made == 0 || snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return;
    for (size_t n = strlen(buf); n >= made; ) {
        while (n > made && buf[n - 1] == '/')
            buf[--n] = '\0';
        if (rmdir(buf) != 0)
            return;
        char *slash = strrchr(buf, '/');
        if (slash == NULL || (size_t)(slash - buf) < made)
            return;
        *slash = '\0';
        n = (size_t)(slash - buf);
    }
}

/* Is output file dir/name the same file as input `in`? Compares device and inode when both
 * exist, else canonical paths. */
static int same_file(const char *out_path, const char *in)
{
    struct stat a, b;
    if (in == NULL)
        return 0;
    if (stat(out_path, &a) == 0 && stat(in, &b) == 0)
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    return 0;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v[n] != NULL)
        n++;
    return n;
}

static int strv_dup(char *const *v, char ***out)
{
    size_t n = strv_len(v);
    *out = aud_calloc(n + 1, sizeof **out);
    for (size_t i = 0; *out != NULL && i < n; i++)
        if (((*out)[i] = aud_strdup(v[i])) == NULL)
            return AUD_E_NOMEM;
    return *out == NULL ? AUD_E_NOMEM : AUD_OK;
}

/* A model behind a command in provenance: an input of role "model" with no hash (no file was
 * read) and the argv, and the "model" object; calls and rows are added after the run
 * (finish_command). */
static int add_command_provenance(run_ctx *c, cJSON *p)
{
    const aud_model *m = c->model;
    cJSON *in = cJSON_CreateObject(), *argv = NULL;
    if (in == NULL || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p, "inputs"), in))
        goto nomem;
    argv = cJSON_CreateStringArray((const char *const *)c->spec->model_cmd.argv,
                                   (int)strv_len(c->spec->model_cmd.argv));
    if (argv == NULL || !cJSON_AddItemToObject(in, "command", argv) ||
        cJSON_AddStringToObject(in, "role", "model") == NULL ||
        cJSON_AddStringToObject(in, "path", m->objective) == NULL ||
        cJSON_AddNullToObject(in, "sha256") == NULL ||
        cJSON_AddStringToObject(in, "sha256_reason", "a model behind a command: its answers "
                                "were read, not a file") == NULL ||
        cJSON_AddStringToObject(in, "format", m->format) == NULL ||
        cJSON_AddStringToObject(in, "objective", m->objective) == NULL)
        goto nomem;
    cJSON *model = cJSON_Duplicate(in, 1);
    if (model == NULL || !cJSON_AddItemToObject(p, "model", model)) {
        cJSON_Delete(model);
        goto nomem;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(model, "role");
    if (aud_json_add_num(model, "features", (double)m->n_features) != 0 ||
        aud_json_add_num(model, "trees", 0) != 0 ||
        aud_json_add_num(model, "outputs", (double)m->n_outputs) != 0)
        goto nomem;
    return AUD_OK;
nomem:
    return aud_error_nomem(c->err);
}

/* After every section: the program must exit 0 at the end of its input; the number of batches
 * and rows it was sent goes into provenance.model ("calls", "rows"). */
static int finish_command(run_ctx *c)
{
    aud_model_cmd *mc = aud_model_get_cmd(c->model);
    if (mc == NULL)
        return AUD_OK;
    int rc = aud_model_cmd_close(mc, c->err);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->doc, "provenance"), "model");
    if (rc == AUD_OK && (model == NULL || aud_json_add_num(model, "calls", (double)mc->n_calls) ||
                         aud_json_add_num(model, "rows", (double)mc->n_rows_sent)))
        rc = aud_error_nomem(c->err);
    return rc;
}

#define AUD_RUN_CMD_ROWS 100

/* The model behind the spec's command, asked for the data's first row (its outputs). */
static int load_model_command(run_ctx *c)
{
    const aud_spec *s = c->spec;
    aud_model_cmd mc;
    aud_model_cmd_init(&mc);
    if (s->model_cmd.batch_rows > 0)
        mc.batch_rows = (size_t)s->model_cmd.batch_rows;
    if (s->model_cmd.timeout_s > 0)
        mc.timeout_s = s->model_cmd.timeout_s;
    mc.max_rows = (size_t)s->model_cmd.max_rows;
    mc.session_protocol = s->model_cmd.session_protocol;
    int rc = strv_dup(s->model_cmd.argv, &mc.argv);
    if (rc == AUD_OK && s->model_cmd.features != NULL) {
        rc = strv_dup(s->model_cmd.features, &mc.features);
        mc.n_features = s->model_cmd.n_features;
    }
    if (rc == AUD_OK && (mc.cwd = aud_strdup(s->model_cmd.dir)) == NULL)
        rc = AUD_E_NOMEM;
    if (rc != AUD_OK) {
        aud_model_cmd_free(&mc);
        return aud_error_nomem(c->err);
    }
    rc = aud_model_from_cmd(&c->model, &mc, c->data, c->err);
    aud_model_cmd_free(&mc);
    /* KernelSHAP through a program costs (coalitions x background) rows per explained row:
     * without an explicit "explain": {"rows": N} a command model explains AUD_RUN_CMD_ROWS */
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(s->raw, "explain");
    if (!cJSON_IsObject(ex) || cJSON_GetObjectItemCaseSensitive(ex, "rows") == NULL)
        c->spec->explain.rows = AUD_RUN_CMD_ROWS;
    return rc;
}

/* The SHA-256 of an input taken ahead (aud_hash_ahead_start hashed it: h->path set), joined,
 * into *hex; NULL when none was taken (the entry then hashes the file, or says why not). */
static int ahead_hex(aud_hash_ahead *h, const char **hex, aud_error *err)
{
    *hex = NULL;
    if (h->path == NULL)
        return AUD_OK;
    int rc = aud_hash_ahead_join(h, err);
    if (rc == AUD_OK)
        *hex = h->hex;
    return rc;
}

/* provenance (docs/results-schema.md): the shared inputs and model entries, plus the spec */
static int add_provenance(run_ctx *c, cJSON *p)
{
    const aud_spec *s = c->spec;
    cJSON *spec_copy = cJSON_Duplicate(s->raw, 1);
    if (spec_copy == NULL || cJSON_AddStringToObject(p, "spec", s->path) == NULL ||
        !cJSON_AddItemToObject(p, "spec_document", spec_copy) ||
        aud_json_add_num(p, "seed", (double)s->seed) != 0) {
        if (spec_copy != NULL && cJSON_GetObjectItemCaseSensitive(p, "spec_document") != spec_copy)
            cJSON_Delete(spec_copy);
        return aud_error_nomem(c->err);
    }
    int rc = c->merged ? AUD_OK : aud_prov_add_input(p, "spec", s->path, NULL, NULL, c->err);
    const char *hex = NULL;
    if (rc == AUD_OK && !c->merged)
        rc = ahead_hex(&c->hash_data, &hex, c->err);
    if (rc == AUD_OK && !c->merged)
        rc = aud_prov_add_input_hashed(p, "data", s->data, hex, c->data, NULL, c->err);
    cJSON *entry = NULL;
    const cJSON *pa;   /* merged: the partials stand for the spec and the data */
    cJSON_ArrayForEach(pa, cJSON_GetObjectItemCaseSensitive(c->merge_info, "partials")) {
        if (rc == AUD_OK)
            rc = aud_prov_add_input_hashed(
                p, "partial", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pa, "path")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pa, "sha256")), NULL, NULL,
                c->err);
    }
    if (rc == AUD_OK && c->ref != NULL)
        rc = ahead_hex(&c->hash_ref, &hex, c->err);
    if (rc == AUD_OK && c->ref != NULL)
        rc = aud_prov_add_input_hashed(p, "reference", s->reference, hex, c->ref, &entry, c->err);
    if (rc == AUD_OK && c->ref_prof != NULL)
        rc = aud_refprof_prov(c->ref_prof, entry, c->err);
    if (rc == AUD_OK && c->model != NULL && s->model_cmd.argv != NULL)
        rc = add_command_provenance(c, p);
    else if (rc == AUD_OK && c->model != NULL) {
        rc = ahead_hex(&c->hash_model, &hex, c->err);
        if (rc == AUD_OK)
            rc = aud_prov_add_model_hashed(p, s->model, hex, c->model, c->err);
    }
    if (rc == AUD_OK && c->model != NULL && s->model_categories != NULL)
        rc = aud_prov_add_input(p, "categories", s->model_categories, NULL, NULL, c->err);
    return rc;
}

static int add_report_block(run_ctx *c)
{
    const aud_spec *s = c->spec;
    cJSON *r = cJSON_AddObjectToObject(c->doc, "report");
    if (r == NULL)
        return aud_error_nomem(c->err);
    const char *keys[] = {"title", "organization", "prepared_by", "approved_by", "data_source",
                          "date", "favorable_outcome"};
    const char *vals[] = {s->report.title ? s->report.title : "Model audit",
                          s->report.organization, s->report.prepared_by, s->report.approved_by,
                          s->report.data_source, s->report.date, s->report.favorable_outcome};
    for (int i = 0; i < 7; i++) {
        if (vals[i] != NULL && cJSON_AddStringToObject(r, keys[i], vals[i]) == NULL)
            return aud_error_nomem(c->err);
    }
    if (s->report.max_groups > 0 &&
        cJSON_AddNumberToObject(r, "max_groups", (double)s->report.max_groups) == NULL)
        return aud_error_nomem(c->err);
    return AUD_OK;
}

/* "signature": the key the outputs are signed with (never the key itself) */
static int add_signature_block(run_ctx *c, const char *fingerprint)
{
    cJSON *sig = cJSON_AddObjectToObject(c->doc, "signature");
    if (sig == NULL || cJSON_AddStringToObject(sig, "algorithm", "ed25519") == NULL ||
        cJSON_AddStringToObject(sig, "key_fingerprint", fingerprint) == NULL ||
        cJSON_AddStringToObject(sig, "manifest", AUD_MANIFEST_NAME) == NULL)
        return aud_error_nomem(c->err);
    return AUD_OK;
}

static int load_inputs(run_ctx *c)
{
    const aud_spec *s = c->spec;
    aud_csv_opts co;
    aud_csv_opts_default(&co);
    co.delimiter = s->delimiter;
    if (s->na != NULL)
        co.na_tokens = (const char *const *)s->na;
    co.header = s->csv.header;
    co.names = (const char *const *)s->csv.names;
    co.skip_rows = (size_t)s->csv.skip_rows;
    co.comment = s->csv.comment;
    co.keep_spaces = s->csv.keep_spaces;
    aud_run_step(c, "load data");
    int ranged = 0, rc = AUD_OK;
    if (!c->merged && c->opts->shard_count > 0 && c->opts->shard_exchange != NULL &&
        !c->opts->shard_site)   /* this shard's byte range only (audit/shard.c) */
        rc = aud_shard_load_range(c, &co, &ranged);
    if (rc == AUD_OK && !c->merged && !ranged)
        rc = aud_table_load_csv(&c->data, s->data, &co, c->err);
    /* the inputs' provenance hashes, from the page cache, beside the rest of the loading (a
     * shard hashes its byte range instead: audit/shard.c) */
    int hash_ahead = !c->merged && !ranged && c->opts->shard_count == 0;
    if (rc == AUD_OK && hash_ahead)
        aud_hash_ahead_start(&c->hash_data, s->data);
    if (rc == AUD_OK && c->opts->shard_count > 0 && !ranged)
        rc = aud_shard_slice(c);
    if (rc == AUD_OK && s->reference != NULL)
        aud_run_step(c, "load reference");
    if (rc == AUD_OK && s->reference != NULL && aud_refprof_sniff(s->reference)) {
        rc = aud_refprof_load(&c->ref_prof, s->reference, c->err);
        if (rc == AUD_OK)
            rc = aud_refprof_table(c->ref_prof, &c->ref, &c->ref_sums, c->err);
    } else if (rc == AUD_OK && s->reference != NULL) {
        rc = aud_table_load_csv(&c->ref, s->reference, &co, c->err);
    }
    if (rc == AUD_OK && hash_ahead && s->reference != NULL)
        aud_hash_ahead_start(&c->hash_ref, s->reference);
    if (rc == AUD_OK && (s->model != NULL || s->model_cmd.argv != NULL))
        aud_run_step(c, "load model");
    if (rc == AUD_OK && s->model != NULL)
        rc = aud_model_load_threads(&c->model, s->model, s->model_format, c->threads, c->err);
    else if (rc == AUD_OK && s->model_cmd.argv != NULL)
        rc = load_model_command(c);
    if (rc == AUD_OK && hash_ahead && s->model != NULL)
        aud_hash_ahead_start(&c->hash_model, s->model);
    if (rc == AUD_OK && c->model != NULL && s->model_categories != NULL)
        rc = aud_model_set_categories(c->model, s->model_categories, c->err);
    if (rc != AUD_OK || c->model == NULL)
        return rc;
    const char *mpath = s->model != NULL ? s->model : c->model->objective;
    if (!c->merged)   /* merged: the partials hold the model's scores, not its features */
        rc = aud_bind_model(&c->bind, c->model, mpath, c->data, c->err);
    if (rc == AUD_OK && c->ref != NULL && c->ref_prof == NULL)   /* a profile has no rows */
        rc = aud_bind_model(&c->bind_ref, c->model, mpath, c->ref, c->err);
    return rc;
}

/* One pending output: a temporary file in the output folder, renamed at the very end. An
 * output that already exists is first hard-linked to a backup, so that a failure later in the
 * commit restores the previous complete set instead of leaving a mix or nothing. */
typedef struct pending {
    char final[PATH_MAX];
    char tmp[PATH_MAX];
    char backup[PATH_MAX];
    int  used;
    int  renamed;
    int  has_backup;
} pending;

static int pending_name(pending *p, const char *dir, const char *name, aud_error *err)
{
    long pid = (long)getpid();
    if (snprintf(p->final, sizeof p->final, "%s/%s", dir, name) >= (int)sizeof p->final ||
        snprintf(p->tmp, sizeof p->tmp, "%s/.%s.tmp%ld", dir, name, pid) >= (int)sizeof p->tmp ||
        snprintf(p->backup, sizeof p->backup, "%s/.%s.bak%ld", dir, name, pid) >=
            (int)sizeof p->backup)
        return aud_error_set(err, AUD_E_IO, dir, 0, 0, "output path too long");
    p->used = 1;
    return AUD_OK;
}

/* Rename every temporary output into place (backups first, see pending). */
static int commit_outputs(pending *outs, int n, aud_error *err)
{
    for (int i = 0; i < n; i++) {   /* check every target before touching any */
        struct stat st;
        if (outs[i].used && lstat(outs[i].final, &st) == 0 && !S_ISREG(st.st_mode))
            return aud_error_set(err, AUD_E_IO, outs[i].final, 0, 0,
                                 "exists and is not a regular file");
    }
    for (int i = 0; i < n; i++) {
        if (!outs[i].used)
            continue;
        unlink(outs[i].backup);   /* a stale backup of a crashed run with the same pid */
        if (link(outs[i].final, outs[i].backup) == 0)
            outs[i].has_backup = 1;
        else if (errno != ENOENT)
            return aud_error_set(err, AUD_E_IO, outs[i].final, 0, 0,
                                 "cannot keep the previous version: %s", strerror(errno));
        if (rename(outs[i].tmp, outs[i].final) != 0)
            return aud_error_set(err, AUD_E_IO, outs[i].final, 0, 0,
                                 "cannot rename into place: %s", strerror(errno));
        outs[i].renamed = 1;
    }
    return AUD_OK;
}

/* After a failure: restore what was replaced, remove what was new, drop temporary files. After
 * success: drop the backups. */
static void settle_outputs(pending *outs, int n, int failed)
{
    for (int i = 0; i < n; i++) {
        if (!outs[i].used)
            continue;
        if (!outs[i].renamed)
            unlink(outs[i].tmp);
        else if (failed && outs[i].has_backup)
            rename(outs[i].backup, outs[i].final);
        else if (failed)
            unlink(outs[i].final);
        if (outs[i].has_backup)
            unlink(outs[i].backup);
    }
}

/* The run-log line (time, spec, inputs, model, verdict, output hashes), built before the outputs
 * are renamed into place: hashes are taken from the temporary files. *out is cJSON_free'd. */
static int log_line(run_ctx *c, const pending *outs, size_t n_outs, size_t n_failed, char **out)
{
    cJSON *line = cJSON_CreateObject();
    cJSON *prov = cJSON_GetObjectItemCaseSensitive(c->doc, "provenance");
    cJSON *ins = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(prov, "inputs"), 1);
    cJSON *model = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(prov, "model"), 1);
    cJSON *outputs = cJSON_CreateArray();
    char now[32];
    int rc = AUD_OK;
    aud_utc_now(now, sizeof now);
    if (line == NULL || ins == NULL || outputs == NULL ||
        cJSON_AddStringToObject(line, "time", now) == NULL ||
        cJSON_AddStringToObject(line, "spec", c->spec->path) == NULL ||
        !cJSON_AddItemToObject(line, "inputs", ins)) {
        cJSON_Delete(ins);
        cJSON_Delete(model);
        rc = aud_error_nomem(c->err);
        goto done;
    }
    if (model != NULL && !cJSON_AddItemToObject(line, "model", model)) {
        cJSON_Delete(model);
        rc = aud_error_nomem(c->err);
        goto done;
    }
    model = NULL;
    if (cJSON_AddStringToObject(line, "verdict", n_failed ? "fail" : "pass") == NULL ||
        aud_json_add_num(line, "failed_checks", (double)n_failed) != 0 ||
        !cJSON_AddItemToObject(line, "outputs", outputs)) {
        rc = aud_error_nomem(c->err);
        goto done;
    }
    cJSON *outs_arr = outputs;
    outputs = NULL;
    for (size_t i = 0; i < n_outs; i++) {
        char hex[65];
        if (!outs[i].used)
            continue;
        if (i == 4 && c->rows_hex[0] != '\0')   /* the rows file: hashed as it was written */
            memcpy(hex, c->rows_hex, sizeof hex);
        else
            rc = aud_sha256_file(outs[i].tmp, hex, c->err);
        if (rc != AUD_OK)
            goto done;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(outs_arr, o) ||
            cJSON_AddStringToObject(o, "path", outs[i].final) == NULL ||
            cJSON_AddStringToObject(o, "sha256", hex) == NULL) {
            rc = aud_error_nomem(c->err);
            goto done;
        }
    }
    *out = cJSON_PrintUnformatted(line);
    if (*out == NULL)
        rc = aud_error_nomem(c->err);
done:
    cJSON_Delete(outputs);
    cJSON_Delete(line);
    return rc;
}

/* Append one line to the run log with a single write(2) and O_APPEND, so concurrent runs never
 * interleave lines. fd < 0: the log does not exist yet and is created (and removed again if the
 * write fails). */
static int append_log(int fd, const char *path, char *text, aud_error *err)
{
    int created = 0;
    if (fd < 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST)
            fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        else
            created = fd >= 0;
        if (fd < 0)
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot create the run log: %s",
                                 strerror(errno));
    }
    size_t len = strlen(text);
    text[len] = '\n';   /* replaces the NUL: exactly len + 1 bytes are written */
    int rc = AUD_OK;
    if (write(fd, text, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0) {
        rc = aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot append to the run log: %s",
                           strerror(errno));
        if (created)
            unlink(path);
    }
    text[len] = '\0';
    if (created)
        close(fd);
    return rc;
}

/* The run-log line of a run that ended in an error once its log was known: time, spec, exit
 * code, the message, and the input hashes when they were taken. Best effort: a failure to log
 * does not replace the run's own error. */
static void log_error_line(run_ctx *c, int log_fd, const char *log_path, int code)
{
    char now[32], msg[1024];
    aud_error lerr;
    aud_error_clear(&lerr);
    aud_utc_now(now, sizeof now);
    aud_error_format(c->err, msg, sizeof msg);
    cJSON *line = cJSON_CreateObject();
    if (line == NULL)
        return;
    cJSON *prov = cJSON_GetObjectItemCaseSensitive(c->doc, "provenance");
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(prov, "inputs");
    int ok = cJSON_AddStringToObject(line, "time", now) != NULL &&
             cJSON_AddStringToObject(line, "spec", c->spec->path) != NULL;
    if (ok && ins != NULL) {   /* once added, line owns the copy */
        cJSON *dup = cJSON_Duplicate(ins, 1);
        ok = dup != NULL && cJSON_AddItemToObject(line, "inputs", dup);
        if (!ok)
            cJSON_Delete(dup);
    }
    ok = ok && cJSON_AddStringToObject(line, "verdict", "error") != NULL &&
         aud_json_add_num(line, "exit_code", (double)aud_status_exit_code(code)) == 0 &&
         cJSON_AddStringToObject(line, "error", msg) != NULL;
    char *text = ok ? cJSON_PrintUnformatted(line) : NULL;
    if (text != NULL)
        append_log(log_fd, log_path, text, &lerr);
    cJSON_free(text);
    cJSON_Delete(line);
}

typedef int (*section_fn)(run_ctx *c);

static void report_step(const aud_run_opts *o, const char *step, double seconds)
{
    if (o->progress != NULL)
        o->progress(o->progress_ctx, step, seconds);
}

void aud_run_step(const run_ctx *c, const char *step)
{
    report_step(c->opts, step, -1.0);
}

/* The outputs: names in the output folder (made), none the same file as an input; the run log
 * opened before any work (it is appended to, not replaced). */
static int prepare_outputs(run_ctx *c, const char *out_dir, pending *outs, char *log_path,
                           size_t log_size, int *log_fd, size_t *made)
{
    const aud_spec *s = c->spec;
    const char *names[4] = {s->outputs.json, s->outputs.pdf, s->outputs.xlsx, s->outputs.log};
    const char *inputs[] = {s->path, s->data, s->reference, s->model};
    int rc = make_dirs(out_dir, made, c->err);
    for (int i = 0; i < 4 && rc == AUD_OK; i++) {
        if (names[i] == NULL)
            continue;
        rc = pending_name(&outs[i], out_dir, names[i], c->err);
        for (int k = 0; k < 4 && rc == AUD_OK; k++) {
            if (same_file(outs[i].final, inputs[k]))
                rc = aud_error_set(c->err, AUD_E_USAGE, outs[i].final, 0, 0,
                                   "output would overwrite an input file");
        }
    }
    /* the explained-rows file: named now, made only when the explanations go there
     * (run_rows.c sets c->rows_file_used) */
    if (rc == AUD_OK && (outs[0].used || outs[2].used)) {
        rc = pending_name(&outs[4], out_dir, s->outputs.explained_rows, c->err);
        for (int k = 0; k < 4 && rc == AUD_OK; k++) {
            if (same_file(outs[4].final, inputs[k]))
                rc = aud_error_set(c->err, AUD_E_USAGE, outs[4].final, 0, 0,
                                   "output would overwrite an input file");
        }
        outs[4].used = 0;
        c->rows_tmp = outs[4].tmp;
        c->rows_name = s->outputs.explained_rows;
    }
    if (rc != AUD_OK || !outs[3].used)
        return rc;
    snprintf(log_path, log_size, "%s", outs[3].final);
    outs[3].used = 0;
    *log_fd = open(log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (*log_fd < 0 && errno == ENOENT)
        *log_fd = -2;   /* created at the end, so that a failed run leaves nothing */
    if (*log_fd == -1) {   /* fail before any work when the log cannot be appended to */
        rc = aud_error_set(c->err, AUD_E_IO, log_path, 0, 0, "cannot open the run log: %s",
                           strerror(errno));
        log_path[0] = '\0';
    }
    return rc;
}

/* Inputs, the results document with its provenance and report block, every section, the
 * skipped list, the policy checks (*n_failed of them failed), the findings, with a history
 * store the last runs' values for the reports' Trends, and with a signing key (key_fp, its
 * fingerprint; "" for none) the "signature" block. */
static int compute(run_ctx *c, aud_history *hist, const char *key_fp, size_t *n_failed)
{
    const aud_run_opts *opts = c->opts;
    double t0 = aud_run_clock();
    int rc = load_inputs(c);
    if (rc != AUD_OK)
        return rc;
    report_step(opts, "inputs", aud_run_clock() - t0);
    aud_run_step(c, "provenance");
    cJSON *prov = NULL;
    rc = aud_prov_doc_new(&c->doc, &prov, "run", opts->created, c->err);
    if (rc != AUD_OK)
        return rc;
    c->skipped = cJSON_CreateArray();
    if (c->skipped == NULL)
        return aud_error_nomem(c->err);
    rc = add_provenance(c, prov);
    if (rc == AUD_OK)
        rc = add_report_block(c);
    if (rc == AUD_OK)
        rc = aud_run_model_card(c);
    double n_supp = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c->merge_info,
                                                                        "suppressed_cells"));
    if (rc == AUD_OK && n_supp > 0) {   /* federated partials: say what the sites held back */
        char why[300];
        const cJSON *mi = c->merge_info;
        snprintf(why, sizeof why, "%.0f cells of the partials were under the minimum count %.0f "
                 "and suppressed: %.0f rows left out, %.0f further values made missing "
                 "(docs/scale-out.md)", n_supp,
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mi, "min_cell_count")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mi, "suppressed_rows")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mi, "suppressed_values")));
        rc = aud_run_skip(c, "suppressed cells", why);
    }
    if (rc == AUD_OK && c->merge_info != NULL) {
        if (!cJSON_AddItemToObject(c->doc, "merge", c->merge_info))
            return aud_error_nomem(c->err);
        c->merge_info = NULL;
    }
    const section_fn sections[] = {aud_run_profile, aud_run_predictions, aud_run_explanations,
                                   aud_run_fairness, aud_run_drift, aud_run_performance,
                                   aud_run_global};
    const char *section_names[] = {"profile", "predictions", "explanations", "fairness", "drift",
                                   "performance", "global"};
    for (size_t k = 0; k < sizeof sections / sizeof sections[0] && rc == AUD_OK; k++) {
        t0 = aud_run_clock();
        report_step(opts, section_names[k], -1.0);
        rc = sections[k](c);
        if (rc == AUD_OK)
            report_step(opts, section_names[k], aud_run_clock() - t0);
    }
    if (rc == AUD_OK && c->merged)   /* binned model scores: their figures' bounds */
        rc = aud_merge_score_bounds(c);
    if (rc == AUD_OK)
        rc = finish_command(c);
    if (rc != AUD_OK)
        return rc;
    if (!cJSON_AddItemToObject(c->doc, "skipped", c->skipped))
        return aud_error_nomem(c->err);
    c->skipped = NULL;
    aud_run_step(c, "checks");
    rc = aud_checks_evaluate(c->spec->checks, c->spec->n_checks, c->doc, n_failed, c->err);
    if (rc == AUD_OK && hist != NULL)   /* the last runs' values, for the reports' Trends */
        rc = aud_history_add_trends(hist, c->doc, AUD_RUN_TREND_RUNS, c->err);
    if (rc == AUD_OK)
        rc = aud_findings_build(c->doc, c->err);
    if (rc == AUD_OK && hist != NULL)   /* and a sustained worsening of a passing check */
        rc = aud_history_add_trend_findings(c->doc, c->err);
    if (rc == AUD_OK && key_fp[0] != '\0')
        rc = add_signature_block(c, key_fp);
    return rc;
}

/* results.json's text in four pieces (part, len): the document as cJSON_Print gives it, in
 * two pieces around the explained rows' text (c->rows_raw, 150 MB at 200,000 rows) which
 * cJSON_Print does not copy (a one-byte marker stands in for it), that text, and the final
 * newline. *text (the printed document) belongs to the caller (cJSON_free). */
static int print_results(run_ctx *c, char **text, const void *part[4], size_t len[4])
{
    static char marker[] = "\x01";   /* printed nowhere else: cJSON escapes control bytes */
    char *rows = c->rows_raw != NULL ? c->rows_raw->valuestring : NULL;
    if (rows != NULL)
        c->rows_raw->valuestring = marker;
    *text = cJSON_Print(c->doc);
    if (rows != NULL)
        c->rows_raw->valuestring = rows;
    if (*text == NULL)
        return aud_error_nomem(c->err);
    size_t n = strlen(*text);
    const char *at = rows != NULL ? memchr(*text, marker[0], n) : NULL;
    part[0] = *text;
    len[0] = at != NULL ? (size_t)(at - *text) : n;
    part[1] = at == NULL ? "" : c->rows_external ? NULL : rows;   /* NULL: on the ranks */
    len[1] = at != NULL ? c->rows_len : 0;
    part[2] = at != NULL ? at + 1 : "";
    len[2] = at != NULL ? n - len[0] - 1 : 0;
    part[3] = "\n";
    len[3] = 1;
    return AUD_OK;
}

/* audit-mpi (c->rows_external): results.json's text (print_results' parts, part[1] NULL)
 * into path, atomically (aud_out_open): rank 0 writes the document around the explained rows,
 * leaving their bytes to the ranks (opts->rows_write, each at its offset: audit/run_rows.c),
 * and "[" "]" around them; then flushed, synced and renamed into place. */
static int write_external(run_ctx *c, const char *path, const void *part[4],
                          const size_t len[4])
{
    const aud_run_opts *o = c->opts;
    aud_out out;
    int rc = aud_out_open(&out, path, c->err);
    if (rc != AUD_OK)
        return rc;
    off_t end = (off_t)(len[0] + len[1] - 1);   /* the "]" */
    int bad = fwrite(part[0], 1, len[0], out.f) != len[0] || fputc('[', out.f) == EOF ||
              fseeko(out.f, end, SEEK_SET) != 0 || fputc(']', out.f) == EOF ||
              fwrite(part[2], 1, len[2], out.f) != len[2] ||
              fwrite(part[3], 1, len[3], out.f) != len[3] || fflush(out.f) != 0;
    if (bad) {
        rc = aud_error_set(c->err, AUD_E_IO, path, 0, 0, "write error: %s", strerror(errno));
    } else if (o->rows_write(o->shard_exchange_ctx, out.tmp != NULL ? out.tmp : out.path,
                             (long long)len[0] + 1) != 0) {
        rc = aud_error_set(c->err, AUD_E_IO, path, 0, 0, "the ranks could not write their "
                           "explained rows into it");
    }
    if (rc != AUD_OK) {
        aud_out_abort(&out);
        return rc;
    }
    return aud_out_commit(&out, c->err);
}

/* report.xlsx on a thread of its own (the reports only read the parsed results). */
typedef struct xlsx_job {
    const cJSON *results;
    const char  *path, *rows;
    int          rc;
    aud_error    err;
} xlsx_job;

static void *xlsx_main(void *arg)
{
    xlsx_job *j = arg;
    aud_error_clear(&j->err);
    j->rc = aud_report_write_xlsx_rows(j->results, j->path, j->rows, &j->err);
    return NULL;
}

/* report.pdf and report.xlsx into their temporary files: both wanted, the XLSX is written on a
 * thread beside the PDF (each takes about as long; neither depends on the other). The error
 * reported is the PDF's when both fail, as when they were written one after the other. */
static int write_reports(run_ctx *c, const cJSON *parsed, const pending *outs)
{
    xlsx_job x = {parsed, outs[2].tmp, c->rows_file_used ? c->rows_tmp : NULL, AUD_OK, {0}};
    if (!outs[1].used) {
        aud_run_step(c, "report.xlsx");
        xlsx_main(&x);
    } else {
        pthread_t th;
        int side = outs[2].used && aud_thread_start(&th, xlsx_main, &x) == 0;
        aud_run_step(c, side ? "reports" : "report.pdf");
        int rc = aud_report_write_pdf(parsed, outs[1].tmp, c->err);
        if (side) {
            pthread_join(th, NULL);
        } else if (rc == AUD_OK && outs[2].used) {   /* no thread could start */
            aud_run_step(c, "report.xlsx");
            xlsx_main(&x);
        }
        if (rc != AUD_OK)
            return rc;
    }
    if (x.rc != AUD_OK)
        *c->err = x.err;
    return x.rc;
}

/* results.json, report.pdf and report.xlsx into their temporary files. The reports are
 * rendered from results.json as written (exact numbers are raw nodes in c->doc), so they show
 * exactly the figures of the file. results_hex (NULL: not wanted) receives the SHA-256 of
 * results.json, for the history store. */
static int render_outputs(run_ctx *c, pending *outs, char *results_hex)
{
    double t0 = aud_run_clock();
    aud_run_step(c, "results.json");
    char *text = NULL, *whole = NULL;
    const void *part[4];
    size_t len[4];
    cJSON *parsed = NULL;
    aud_json_arena *arena = NULL;   /* the parsed document's nodes, dropped at once */
    int rc = print_results(c, &text, part, len);
    if (rc == AUD_OK && c->rows_external && part[1] == NULL) {   /* audit-mpi: see above */
        size_t n = 0;   /* (results.json is always written: the spec keeps its name) */
        rc = outs[0].used ? write_external(c, outs[0].tmp, part, len)
                          : aud_error_set(c->err, AUD_E_INTERNAL, NULL, 0, 0,
                                          "audit-mpi writes the explained rows into results.json");
        if (rc == AUD_OK && (results_hex != NULL || outs[1].used || outs[2].used))
            rc = aud_file_read(outs[0].tmp, &whole, &n, 0, c->err);   /* from the page cache */
        part[0] = whole;   /* one piece from here on */
        len[0] = whole != NULL ? n : 0;
        part[1] = part[2] = part[3] = "";
        len[1] = len[2] = len[3] = 0;
    } else if (rc == AUD_OK && outs[0].used) {
        rc = aud_file_write_parts(outs[0].tmp, part, len, 4, c->err);
    }
    if (rc == AUD_OK && outs[0].used && results_hex != NULL)
        rc = aud_sha256_parts(part, len, 4, results_hex, c->err);
    if (rc == AUD_OK && (outs[1].used || outs[2].used)) {   /* the text in one piece */
        size_t n = len[0] + len[1] + len[2];
        int read_back = whole != NULL;
        if (read_back) {   /* audit-mpi: read back; the final newline is not parsed */
            n -= n > 0 && whole[n - 1] == '\n';
            whole[n] = '\0';
        }
        whole = read_back ? whole : len[1] > 0 ? aud_malloc_large(n + 1) : text;
        if (whole == NULL) {
            rc = aud_error_nomem(c->err);
        } else if (whole != text && !read_back) {
            memcpy(whole, part[0], len[0]);
            memcpy(whole + len[0], part[1], len[1]);
            memcpy(whole + len[0] + len[1], part[2], len[2] + 1);   /* and the NUL */
        }
        if (rc == AUD_OK) {   /* 12 million nodes at 200,000 explained rows */
            arena = aud_json_arena_begin();
            rc = aud_json_parse_located(&parsed, whole, n, "results.json", c->err);
        }
    }
    if (whole != text)
        aud_free(whole);
    cJSON_free(text);
    if (rc == AUD_OK && (outs[1].used || outs[2].used))
        rc = write_reports(c, parsed, outs);
    if (arena != NULL)   /* no node of the scope outlives it: the reports only read them */
        aud_json_arena_end(arena);
    else
        cJSON_Delete(parsed);
    if (rc == AUD_OK)
        report_step(c->opts, "outputs", aud_run_clock() - t0);
    return rc;
}

int aud_run(const aud_run_opts *opts, aud_run_outcome *out, aud_error *err)
{
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.opts = opts;
    c.err = err;
    c.t_start = aud_run_clock();
    pending outs[5];   /* results.json, PDF, XLSX, the run log, the explained-rows file */
    memset(outs, 0, sizeof outs);
    char log_path[PATH_MAX] = "";
    int log_fd = -1;
    size_t n_failed = 0;
    char *line = NULL;
    aud_history *hist = NULL;
    char results_hex[65] = "";
    char key_fp[80] = "";
    const char *out_dir = NULL;
    size_t made = 0;   /* folders this run created (make_dirs) */
    int rc = AUD_OK;
    aud_run_step(&c, "spec");
    if (opts->n_merge_parts > 0) {
        c.merged = 1;
        rc = aud_merge_load(opts->merge_parts, opts->merge_texts, opts->n_merge_parts, &c);
    } else {
        rc = aud_spec_load(&c.spec, opts->spec_path, err);
    }
    for (size_t i = 0; rc == AUD_OK && i < c.spec->n_checks; i++)
        rc = aud_check_validate(&c.spec->checks[i], i, c.spec->path, err);
    if (rc != AUD_OK)
        goto done;
    const aud_spec *s = c.spec;
    c.threads = opts->threads > 0 ? opts->threads : s->threads > 0 ? s->threads : aud_ncpu();
    out_dir = opts->out_dir != NULL ? opts->out_dir : s->outputs.dir;
    if (out_dir[0] == '\0')
        rc = aud_error_set(err, AUD_E_USAGE, NULL, 0, 0, "the output folder name is empty");
    if (rc == AUD_OK && opts->shard_count > 0) {   /* a partial only (shard_int.h) */
        rc = opts->partial_text != NULL ? AUD_OK : make_dirs(out_dir, &made, err);
        if (rc == AUD_OK)
            rc = load_inputs(&c);
        if (rc == AUD_OK)
            aud_run_step(&c, "predictions");
        if (rc == AUD_OK)
            rc = aud_run_predictions(&c);
        if (rc == AUD_OK)
            rc = aud_shard_write(&c, out_dir);
        if (rc != AUD_OK) {   /* audit-mpi: the other ranks' exchanges go on without this one */
            aud_shard_why_abort(&c);
            aud_run_rows_abort(&c);
        }
        if (rc == AUD_OK)
            snprintf(out->results_path, sizeof out->results_path, "%.1000s", c.partial_path);
        if (rc != AUD_OK && c.shard_row0 > 0 && c.data != NULL &&
            strstr(err->msg, "data row ") != NULL) {   /* the messages count a shard's rows */
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof err->msg - len,
                     " (data rows counted from this shard's first, data row %zu of the file)",
                     c.shard_row0 + 1);
        }
        goto done;
    }
    if (rc == AUD_OK)
        rc = prepare_outputs(&c, out_dir, outs, log_path, sizeof log_path, &log_fd, &made);
    const char *hist_path = opts->history != NULL ? opts->history : s->history;
    if (rc == AUD_OK && hist_path != NULL)   /* like the log: fail before any work */
        rc = aud_history_open(&hist, hist_path, 1, err);
    if (rc == AUD_OK && opts->sign_key != NULL)   /* the key too: checked before any work */
        rc = aud_key_fingerprint(opts->sign_key, 1, key_fp, err);
    if (rc == AUD_OK)
        rc = compute(&c, hist, key_fp, &n_failed);
    outs[4].used = c.rows_file_used;   /* renamed with the others, or removed */
    /* render everything into temporary files, then rename them all */
    if (rc == AUD_OK)
        rc = render_outputs(&c, outs, hist != NULL ? results_hex : NULL);
    if (rc == AUD_OK)
        aud_run_step(&c, "writes");
    if (rc == AUD_OK && log_path[0] != '\0')
        rc = log_line(&c, outs, 5, n_failed, &line);
    if (rc == AUD_OK)
        rc = commit_outputs(outs, 5, err);
    if (rc == AUD_OK && key_fp[0] != '\0') {   /* the manifest of the outputs just written */
        const char *names[5] = {s->outputs.json, s->outputs.pdf, s->outputs.xlsx, NULL,
                                s->outputs.explained_rows};
        const char *signed_names[5];
        size_t n_signed = 0;
        for (int i = 0; i < 5; i++) {
            if (outs[i].used)
                signed_names[n_signed++] = names[i];
        }
        rc = aud_sign_dir(out_dir, opts->sign_key, signed_names, n_signed, opts->created, NULL,
                          err);
    }
    if (rc == AUD_OK && hist != NULL) {   /* one transaction; on failure the outputs roll back */
        double t0 = aud_run_clock();
        aud_run_step(&c, "history");
        rc = aud_history_record(hist, c.doc, results_hex[0] ? results_hex : NULL, NULL, NULL,
                                err);
        if (rc == AUD_OK)
            report_step(opts, "history", aud_run_clock() - t0);
    }
    if (rc == AUD_OK && line != NULL) {
        rc = append_log(log_fd, log_path, line, err);
        if (rc != AUD_OK)
            log_path[0] = '\0';   /* the log itself failed: no error line either */
    }
    if (rc == AUD_OK) {
        out->n_failed = n_failed;
        out->n_checks = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.doc,
                                                                                   "checks"));
        snprintf(out->results_path, sizeof out->results_path, "%.1000s",
                 outs[0].used ? outs[0].final : "");
        report_step(opts, "total", aud_run_clock() - c.t_start);
    }
done:
    cJSON_free(line);
    settle_outputs(outs, 5, rc != AUD_OK);
    if (rc != AUD_OK && log_path[0] != '\0')
        log_error_line(&c, log_fd, log_path, rc);
    if (log_fd >= 0)
        close(log_fd);
    if (rc != AUD_OK && out_dir != NULL)
        remove_made_dirs(out_dir, made);
    aud_history_close(hist);
    cJSON_Delete(c.skipped);
    cJSON_Delete(c.doc);
    aud_free(c.label);
    aud_free(c.score);
    aud_free(c.level_base);
    aud_shap_result_free(c.mx_r);
    aud_free(c.mx_X);
    aud_shap_result_free(c.sx_r);
    aud_free(c.sx_X);
    aud_free(c.sx_rows);
    aud_free(c.mx_rows);
    aud_free(c.mx_pred);
    aud_free(c.mx_line);
    for (size_t i = 0; c.mx_id != NULL && i < c.mx_n; i++)
        aud_free(c.mx_id[i]);
    aud_free(c.mx_id);
    cJSON_Delete(c.merge_info);
    aud_merge_sums_free(&c);
    aud_free(c.score_ref);
    aud_free(c.prediction);
    aud_binding_free(&c.bind);
    aud_binding_free(&c.bind_ref);
    aud_hash_ahead_join(&c.hash_data, NULL);   /* an early error: the threads must still end */
    aud_hash_ahead_join(&c.hash_ref, NULL);
    aud_hash_ahead_join(&c.hash_model, NULL);
    aud_model_free(c.model);
    aud_table_free(c.data);
    aud_table_free(c.ref);
    aud_free(c.ref_sums);
    aud_refprof_free(c.ref_prof);
    aud_spec_free(c.spec);
    return rc;
}
