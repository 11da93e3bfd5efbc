/* history.c - the SQLite run history (SPEC section 8; schema and migrations in docs/history.md).
 *
 * Durability: WAL journal, synchronous=NORMAL (consistent after a crash or power loss; a killed
 * process loses nothing committed), every run in one BEGIN IMMEDIATE transaction, so a process
 * killed at any point leaves the database with or without the whole run (SQLite's atomic
 * commit, https://www.sqlite.org/atomiccommit.html, https://www.sqlite.org/wal.html). Writers wait for each other up to
 * the busy timeout. */
#include "audit/history.h"
#include "audit/spec_int.h"
#include "core/io.h"
#include "core/provenance.h"
#include "metrics/trend_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 60000

struct aud_history {
    sqlite3 *db;
    char     path[1024];
};

/* Migrations: migrations[v] takes a database from user_version v to v + 1. Append only. */
static const char *const migrations[AUD_HISTORY_SCHEMA] = {
    /* 0 -> 1 */
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created TEXT NOT NULL,"
    " recorded TEXT NOT NULL,"
    " source TEXT NOT NULL CHECK (source IN ('run', 'import', 'log')),"
    " spec_path TEXT, spec_sha256 TEXT,"
    " verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),"
    " n_checks INTEGER, n_failed INTEGER,"
    " results_sha256 TEXT,"
    " drift_share REAL, dataset_drift INTEGER,"
    " key TEXT NOT NULL UNIQUE);"
    "CREATE INDEX runs_created ON runs(created, id);"
    "CREATE INDEX runs_results ON runs(results_sha256);"
    "CREATE TABLE inputs ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " role TEXT NOT NULL, path TEXT, sha256 TEXT, rows INTEGER, columns INTEGER, format TEXT,"
    " PRIMARY KEY (run_id, seq));"
    "CREATE TABLE checks ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " metric TEXT NOT NULL, attribute TEXT, grp TEXT, column_name TEXT,"
    " value REAL, ci_low REAL, ci_high REAL, min REAL, max REAL,"
    " passed INTEGER NOT NULL, reason TEXT,"
    " PRIMARY KEY (run_id, seq));"
    "CREATE INDEX checks_series ON checks(metric, attribute, grp, column_name);"
    "CREATE TABLE groups ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " attribute TEXT NOT NULL, grp TEXT NOT NULL,"
    " count INTEGER, share REAL, labelled INTEGER, selected INTEGER,"
    " tp INTEGER, fp INTEGER, tn INTEGER, fn INTEGER,"
    " reference INTEGER, small INTEGER, excluded INTEGER,"
    " PRIMARY KEY (run_id, attribute, grp));"
    "CREATE TABLE group_rates ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " attribute TEXT NOT NULL, grp TEXT NOT NULL, rate TEXT NOT NULL,"
    " value REAL, ci_low REAL, ci_high REAL,"
    " PRIMARY KEY (run_id, attribute, grp, rate));"
    "CREATE TABLE drift ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " column_name TEXT NOT NULL, type TEXT, method TEXT, statistic REAL, threshold REAL,"
    " drifted INTEGER, psi REAL, jensen_shannon REAL, ks REAL, ks_p_value REAL,"
    " wasserstein_normed REAL, missing_share_change REAL,"
    " PRIMARY KEY (run_id, column_name));"
    "CREATE TABLE performance ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " attribute TEXT NOT NULL, grp TEXT NOT NULL,"
    " rows INTEGER, positives INTEGER, auc REAL, accuracy REAL, log_loss REAL, brier_score REAL,"
    " PRIMARY KEY (run_id, attribute, grp));",
};

/* ---- errors and small helpers ----------------------------------------------------------------- */

static int db_fail(aud_history *h, aud_error *err, const char *what)
{
    int code = sqlite3_errcode(h->db) & 0xff;
    if (code == SQLITE_NOMEM)
        return aud_error_nomem(err);
    int st = code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? AUD_E_PARSE : AUD_E_IO;
    return aud_error_set(err, st, h->path, 0, 0, "history database: %s: %s", what,
                         sqlite3_errmsg(h->db));
}

static int exec(aud_history *h, const char *sql, aud_error *err)
{
    if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(h, err, sql[0] == 'C' ? "creating the schema" : sql);
    return AUD_OK;
}

static void rollback(aud_history *h)
{
    if (!sqlite3_get_autocommit(h->db))
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
}

static int prepare(aud_history *h, sqlite3_stmt **st, const char *sql, aud_error *err)
{
    if (sqlite3_prepare_v2(h->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(h, err, "preparing a statement");
    return AUD_OK;
}

/* a JSON number, exact raw number, boolean, or NaN for anything else (null, absent) */
static double num_of(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1.0 : 0.0;
    if (cJSON_IsRaw(v) && v->valuestring != NULL && strcmp(v->valuestring, "null") != 0)
        return aud_strtod_c(v->valuestring, NULL);
    return NAN;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* integers and booleans as INTEGER, other numbers as REAL */
static void bind_node(sqlite3_stmt *st, int i, const cJSON *v, int integer)
{
    double d = num_of(v);
    if (integer && isfinite(d) && d == floor(d) && fabs(d) < 9.0e15)
        sqlite3_bind_int64(st, i, (sqlite3_int64)d);
    else
        bind_num(st, i, d);
}

static double col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* step an INSERT to completion and reset it for the next row */
static int step_done(aud_history *h, sqlite3_stmt *st, aud_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? AUD_OK : db_fail(h, err, "writing a run");
}

/* ---- open and migrate ------------------------------------------------------------------------- */

static int migrate(aud_history *h, aud_error *err)
{
    /* BEGIN IMMEDIATE: two first runs racing to create the schema take turns */
    int rc = exec(h, "BEGIN IMMEDIATE", err);
    if (rc != AUD_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = prepare(h, &st, "PRAGMA user_version", err);
    int version = 0;
    if (rc == AUD_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    else if (rc == AUD_OK)
        rc = db_fail(h, err, "reading the schema version");
    sqlite3_finalize(st);
    if (rc == AUD_OK && version > AUD_HISTORY_SCHEMA)
        rc = aud_error_set(err, AUD_E_UNSUPPORTED, h->path, 0, 0,
                           "history database has schema version %d; this audit reads up to %d",
                           version, AUD_HISTORY_SCHEMA);
    for (int v = version; rc == AUD_OK && v < AUD_HISTORY_SCHEMA; v++)
        rc = exec(h, migrations[v], err);
    if (rc == AUD_OK && version < AUD_HISTORY_SCHEMA) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", AUD_HISTORY_SCHEMA);
        rc = exec(h, sql, err);
    }
    if (rc == AUD_OK)
        rc = exec(h, "COMMIT", err);
    if (rc != AUD_OK)
        rollback(h);
    return rc;
}

int aud_history_open(aud_history **out, const char *path, int create, aud_error *err)
{
    *out = NULL;
    struct stat sb;
    if (!create && stat(path, &sb) != 0)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open the history database: %s",
                             strerror(errno));
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "the history database is not a regular file");
    aud_history *h = aud_calloc(1, sizeof *h);
    if (h == NULL)
        return aud_error_nomem(err);
    snprintf(h->path, sizeof h->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = AUD_OK;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        rc = h->db != NULL ? db_fail(h, err, "cannot open")
                           : aud_error_nomem(err);
        aud_history_close(h);
        return rc;
    }
    sqlite3_extended_result_codes(h->db, 0);
    sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
    sqlite3_stmt *st = NULL;
    rc = prepare(h, &st, "PRAGMA journal_mode = WAL", err);
    if (rc == AUD_OK) {
        /* Processes that open a new database at once (a scheduler starting several runs) race
         * to switch it to WAL: SQLite answers SQLITE_BUSY there without calling the busy
         * handler when waiting could deadlock (seen: 1 of 6 concurrent runs failed with
         * "database is locked"). So the switch is tried again, 1, 2, 4 ... 64 ms apart, up to
         * the busy timeout; once the file is in WAL mode the pragma no longer locks. */
        int step = sqlite3_step(st);
        long ms = 1, waited = 0;
        while ((step == SQLITE_BUSY || step == SQLITE_LOCKED) && waited < BUSY_TIMEOUT_MS) {
            struct timespec pause = {0, ms * 1000000};
            sqlite3_reset(st);   /* gives up the read lock the other writer waits for */
            nanosleep(&pause, NULL);
            waited += ms;
            ms = ms < 64 ? 2 * ms : 64;
            step = sqlite3_step(st);
        }
        const char *mode = step == SQLITE_ROW ? col_text(st, 0) : NULL;
        if (mode == NULL)
            rc = db_fail(h, err, "cannot switch to WAL");
        else if (strcmp(mode, "wal") != 0)
            rc = aud_error_set(err, AUD_E_IO, path, 0, 0,
                               "history database: cannot use the WAL journal (mode %s)", mode);
    }
    sqlite3_finalize(st);
    if (rc == AUD_OK)
        rc = exec(h, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", err);
    if (rc == AUD_OK)
        rc = migrate(h, err);
    if (rc != AUD_OK) {
        aud_history_close(h);
        return rc;
    }
    *out = h;
    return AUD_OK;
}

void aud_history_close(aud_history *h)
{
    if (h == NULL)
        return;
    sqlite3_close(h->db);
    aud_free(h);
}

/* ---- recording a run -------------------------------------------------------------------------- */

/* The confidence interval of a check row, when the results carry one: "<metric>_ci" of the
 * fairness group (attribute and group given) or of the attribute's summary (attribute only). */
static void check_ci(const cJSON *results, const cJSON *row, double *lo, double *hi)
{
    *lo = *hi = NAN;
    const char *metric = str_of(row, "metric"), *attr = str_of(row, "attribute");
    const char *group = str_of(row, "group");
    if (metric == NULL || attr == NULL)
        return;
    char key[160];
    if (snprintf(key, sizeof key, "%s_ci", metric) >= (int)sizeof key)
        return;
    const cJSON *fair = get(results, "fairness");
    const char *lists[] = {"attributes", "intersections"};
    for (int l = 0; l < 2; l++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, get(fair, lists[l])) {
            const char *name = str_of(a, "name");
            if (name == NULL || strcmp(name, attr) != 0)
                continue;
            const cJSON *ci = NULL;
            if (group == NULL) {
                ci = get(get(a, "summary"), key);
            } else {
                const cJSON *g;
                cJSON_ArrayForEach(g, get(a, "groups")) {
                    const char *gn = str_of(g, "group");
                    if (gn != NULL && strcmp(gn, group) == 0)
                        ci = get(g, key);
                }
            }
            if (cJSON_GetArraySize(ci) == 2) {
                *lo = num_of(cJSON_GetArrayItem(ci, 0));
                *hi = num_of(cJSON_GetArrayItem(ci, 1));
            }
            return;
        }
    }
}

static int put_inputs(aud_history *h, long long id, const cJSON *prov, aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st, "INSERT INTO inputs VALUES (?,?,?,?,?,?,?,?)", err);
    int seq = 0;
    const cJSON *in;
    cJSON_ArrayForEach(in, get(prov, "inputs")) {
        if (rc != AUD_OK)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, seq++);
        bind_text(st, 3, str_of(in, "role") ? str_of(in, "role") : "");
        bind_text(st, 4, str_of(in, "path"));
        bind_text(st, 5, str_of(in, "sha256"));
        bind_node(st, 6, get(in, "rows"), 1);
        bind_node(st, 7, get(in, "columns"), 1);
        bind_text(st, 8, str_of(in, "format"));
        rc = step_done(h, st, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int put_checks(aud_history *h, long long id, const cJSON *results, aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st, "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", err);
    int seq = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, get(results, "checks")) {
        if (rc != AUD_OK)
            break;
        double lo, hi;
        check_ci(results, row, &lo, &hi);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, seq++);
        bind_text(st, 3, str_of(row, "metric") ? str_of(row, "metric") : "");
        bind_text(st, 4, str_of(row, "attribute"));
        bind_text(st, 5, str_of(row, "group"));
        bind_text(st, 6, str_of(row, "column"));
        bind_node(st, 7, get(row, "value"), 0);
        bind_num(st, 8, lo);
        bind_num(st, 9, hi);
        bind_node(st, 10, get(row, "min"), 0);
        bind_node(st, 11, get(row, "max"), 0);
        sqlite3_bind_int(st, 12, cJSON_IsTrue(get(row, "passed")));
        bind_text(st, 13, str_of(row, "reason"));
        rc = step_done(h, st, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* groups of every attribute and intersection: counts, and each rate that has an interval */
static int put_groups(aud_history *h, long long id, const cJSON *results, aud_error *err)
{
    sqlite3_stmt *sg = NULL, *sr = NULL;
    int rc = prepare(h, &sg, "INSERT OR IGNORE INTO groups VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     err);
    if (rc == AUD_OK)
        rc = prepare(h, &sr, "INSERT OR IGNORE INTO group_rates VALUES (?,?,?,?,?,?,?)", err);
    const cJSON *fair = get(results, "fairness");
    const char *lists[] = {"attributes", "intersections"};
    static const char *const counts[] = {"count", "share", "labelled", "selected", "tp", "fp",
                                         "tn", "fn", "reference", "small",
                                         "excluded_from_verdict"};
    for (int l = 0; l < 2 && rc == AUD_OK; l++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, get(fair, lists[l])) {
            const char *attr = str_of(a, "name");
            const cJSON *g;
            cJSON_ArrayForEach(g, get(a, "groups")) {
                const char *gn = str_of(g, "group");
                if (rc != AUD_OK || attr == NULL || gn == NULL)
                    continue;
                sqlite3_bind_int64(sg, 1, id);
                bind_text(sg, 2, attr);
                bind_text(sg, 3, gn);
                for (int k = 0; k < 11; k++)
                    bind_node(sg, 4 + k, get(g, counts[k]), k != 1);
                rc = step_done(h, sg, err);
                const cJSON *m;
                cJSON_ArrayForEach(m, g) {
                    size_t n = strlen(m->string);
                    if (rc != AUD_OK || n < 4 || strcmp(m->string + n - 3, "_ci") != 0 ||
                        cJSON_GetArraySize(m) != 2)
                        continue;
                    char rate[128];
                    snprintf(rate, sizeof rate, "%.*s", (int)(n - 3), m->string);
                    sqlite3_bind_int64(sr, 1, id);
                    bind_text(sr, 2, attr);
                    bind_text(sr, 3, gn);
                    bind_text(sr, 4, rate);
                    bind_node(sr, 5, get(g, rate), 0);
                    bind_node(sr, 6, cJSON_GetArrayItem(m, 0), 0);
                    bind_node(sr, 7, cJSON_GetArrayItem(m, 1), 0);
                    rc = step_done(h, sr, err);
                }
            }
        }
    }
    sqlite3_finalize(sg);
    sqlite3_finalize(sr);
    return rc;
}

static int put_drift(aud_history *h, long long id, const cJSON *results, aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st, "INSERT OR IGNORE INTO drift VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     err);
    const cJSON *drift = get(results, "drift");
    const cJSON *cols = get(drift, "columns");
    const cJSON *pred = get(drift, "prediction_drift");
    int n = cJSON_GetArraySize(cols);
    for (int i = 0; i <= n && rc == AUD_OK; i++) {
        const cJSON *c = i < n ? cJSON_GetArrayItem(cols, i) : pred;
        const char *name = str_of(c, "name");
        if (name == NULL)
            continue;
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, i < n ? name : "(prediction)");
        bind_text(st, 3, str_of(c, "type"));
        bind_text(st, 4, str_of(c, "method"));
        bind_node(st, 5, get(c, "statistic"), 0);
        bind_node(st, 6, get(c, "threshold"), 0);
        bind_node(st, 7, get(c, "drifted"), 1);
        bind_node(st, 8, get(c, "psi"), 0);
        bind_node(st, 9, get(c, "jensen_shannon"), 0);
        bind_node(st, 10, get(get(c, "ks"), "statistic"), 0);
        bind_node(st, 11, get(get(c, "ks"), "p_value"), 0);
        bind_node(st, 12, get(c, "wasserstein_normed"), 0);
        bind_node(st, 13, get(c, "missing_share_change"), 0);
        rc = step_done(h, st, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int put_performance(aud_history *h, long long id, const cJSON *results, aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st, "INSERT OR IGNORE INTO performance VALUES (?,?,?,?,?,?,?,?,?)", err);
    const cJSON *perf = get(results, "performance");
    const cJSON *groups = get(perf, "by_group");
    int n = cJSON_GetArraySize(groups);
    static const char *const keys[] = {"rows", "positives", "auc", "accuracy", "log_loss",
                                       "brier_score"};
    for (int i = -1; i < n && rc == AUD_OK; i++) {
        const cJSON *g = i < 0 ? get(perf, "overall") : cJSON_GetArrayItem(groups, i);
        if (!cJSON_IsObject(g))
            continue;
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, i < 0 ? "" : str_of(g, "attribute") ? str_of(g, "attribute") : "");
        bind_text(st, 3, i < 0 ? "" : str_of(g, "group") ? str_of(g, "group") : "");
        for (int k = 0; k < 6; k++)
            bind_node(st, 4 + k, get(g, keys[k]), k < 2);
        rc = step_done(h, st, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static const char *input_hash(const cJSON *prov, const char *role)
{
    const cJSON *in;
    cJSON_ArrayForEach(in, get(prov, "inputs")) {
        const char *r = str_of(in, "role");
        if (r != NULL && strcmp(r, role) == 0)
            return str_of(in, "sha256");
    }
    return NULL;
}

/* Is a run with this key, or with this results.json hash (sha != NULL), recorded? */
static int key_present(aud_history *h, const char *key, const char *sha, int *present,
                       aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st, "SELECT 1 FROM runs WHERE key = ?1 OR results_sha256 = ?2", err);
    if (rc == AUD_OK) {
        bind_text(st, 1, key);
        bind_text(st, 2, sha);
        int s = sqlite3_step(st);
        *present = s == SQLITE_ROW;
        if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = db_fail(h, err, "reading runs");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The runs row and everything under it, inside the caller's transaction. Summary-only rows
 * (a run log line) pass checks = 0 and give verdict and failed count. */
typedef struct run_row {
    const char *created, *source, *spec_path, *spec_sha256, *verdict, *results_sha256, *key;
    double n_checks, n_failed, drift_share, dataset_drift;
} run_row;

static int put_run(aud_history *h, const run_row *r, long long *id, aud_error *err)
{
    sqlite3_stmt *st = NULL;
    char now[32];
    aud_utc_now(now, sizeof now);
    int rc = prepare(h, &st,
                     "INSERT INTO runs (created, recorded, source, spec_path, spec_sha256, "
                     "verdict, n_checks, n_failed, results_sha256, drift_share, dataset_drift, "
                     "key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     err);
    if (rc == AUD_OK) {
        bind_text(st, 1, r->created);
        bind_text(st, 2, now);
        bind_text(st, 3, r->source);
        bind_text(st, 4, r->spec_path);
        bind_text(st, 5, r->spec_sha256);
        bind_text(st, 6, r->verdict);
        bind_num(st, 7, r->n_checks);
        bind_num(st, 8, r->n_failed);
        bind_text(st, 9, r->results_sha256);
        bind_num(st, 10, r->drift_share);
        bind_num(st, 11, r->dataset_drift);
        bind_text(st, 12, r->key);
        rc = step_done(h, st, err);
        *id = sqlite3_last_insert_rowid(h->db);
    }
    sqlite3_finalize(st);
    return rc;
}

static int record_doc(aud_history *h, const cJSON *results, const char *results_sha256,
                      const char *source, long long *run_id, int *added, aud_error *err)
{
    const cJSON *prov = get(results, "provenance");
    const cJSON *checks = get(results, "checks");
    const char *verdict = str_of(results, "verdict");
    if (!cJSON_IsArray(checks) || str_of(prov, "created") == NULL || verdict == NULL ||
        (strcmp(verdict, "pass") != 0 && strcmp(verdict, "fail") != 0))
        return aud_error_set(err, AUD_E_SCHEMA, NULL, 0, 0,
                             "not a results document of audit run (provenance.created, checks "
                             "and verdict are needed)");
    /* the key of a run is unique to it (two identical runs both land); an import is the run
     * whose results.json has the logged hash, and is skipped when that run is present */
    char key[160];
    int is_run = strcmp(source, "run") == 0;
    if (is_run) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(key, sizeof key, "run:%s:%ld:%lld.%09ld",
                 results_sha256 != NULL ? results_sha256 : "-", (long)getpid(),
                 (long long)ts.tv_sec, (long)ts.tv_nsec);
    } else {
        snprintf(key, sizeof key, "%s", results_sha256 != NULL ? results_sha256 : "");
    }
    double failed = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, checks)
        failed += !cJSON_IsTrue(get(row, "passed"));
    run_row r = {str_of(prov, "created"), source, str_of(prov, "spec"), input_hash(prov, "spec"),
                 verdict, results_sha256, key, (double)cJSON_GetArraySize(checks), failed,
                 num_of(get(get(results, "drift"), "drift_share")),
                 num_of(get(get(results, "drift"), "dataset_drift"))};
    int rc = exec(h, "BEGIN IMMEDIATE", err);
    if (rc != AUD_OK)
        return rc;
    int present = 0;
    long long id = 0;
    if (!is_run)
        rc = key_present(h, key, results_sha256, &present, err);
    if (rc == AUD_OK && !present) {
        rc = put_run(h, &r, &id, err);
        if (rc == AUD_OK) rc = put_inputs(h, id, prov, err);
        if (rc == AUD_OK) rc = put_checks(h, id, results, err);
        if (rc == AUD_OK) rc = put_groups(h, id, results, err);
        if (rc == AUD_OK) rc = put_drift(h, id, results, err);
        if (rc == AUD_OK) rc = put_performance(h, id, results, err);
    }
    if (rc == AUD_OK)
        rc = exec(h, "COMMIT", err);
    if (rc != AUD_OK) {
        rollback(h);
        return rc;
    }
    if (run_id != NULL)
        *run_id = present ? 0 : id;
    if (added != NULL)
        *added = !present;
    return AUD_OK;
}

int aud_history_record(aud_history *h, const cJSON *results, const char *results_sha256,
                       long long *run_id, int *added, aud_error *err)
{
    return record_doc(h, results, results_sha256, "run", run_id, added, err);
}

/* ---- importing a run log ---------------------------------------------------------------------- */

/* the results.json of a log line, when it still exists with the logged hash */
static int logged_results(const cJSON *line, cJSON **doc, const char **sha, aud_error *err)
{
    *doc = NULL;
    *sha = NULL;
    const cJSON *o;
    cJSON_ArrayForEach(o, get(line, "outputs")) {
        const char *p = str_of(o, "path"), *hex = str_of(o, "sha256");
        size_t n = p != NULL ? strlen(p) : 0;
        if (hex == NULL || n < 5 || strcmp(p + n - 5, ".json") != 0)
            continue;
        *sha = hex;
        char now[65];
        aud_error e2;
        aud_error_clear(&e2);
        if (aud_sha256_file(p, now, &e2) != AUD_OK || strcmp(now, hex) != 0)
            return AUD_OK;   /* gone or changed: the log line alone */
        char *text = NULL;
        size_t len = 0;
        int rc = aud_file_read(p, &text, &len, 0, err);
        if (rc == AUD_OK)
            rc = aud_json_parse_located(doc, text, len, p, err);
        aud_free(text);
        return rc;
    }
    return AUD_OK;
}

static int import_summary(aud_history *h, const cJSON *line, const char *line_text,
                          const char *results_sha, int *added, aud_error *err)
{
    char key[80], hex[65];
    if (results_sha != NULL) {
        snprintf(key, sizeof key, "%s", results_sha);
    } else {
        int rc = aud_sha256_mem(line_text, strlen(line_text), hex, err);
        if (rc != AUD_OK)
            return rc;
        snprintf(key, sizeof key, "log:%s", hex);
    }
    run_row r = {str_of(line, "time"), "log", str_of(line, "spec"), input_hash(line, "spec"),
                 str_of(line, "verdict"), results_sha, key, NAN,
                 num_of(get(line, "failed_checks")), NAN, NAN};
    int rc = exec(h, "BEGIN IMMEDIATE", err);
    int present = 0;
    long long id = 0;
    if (rc == AUD_OK)
        rc = key_present(h, key, results_sha, &present, err);
    if (rc == AUD_OK && !present)
        rc = put_run(h, &r, &id, err);
    if (rc == AUD_OK && !present)
        rc = put_inputs(h, id, line, err);
    if (rc == AUD_OK)
        rc = exec(h, "COMMIT", err);
    if (rc != AUD_OK)
        rollback(h);
    *added = !present;
    return rc;
}

int aud_history_import(aud_history *h, const char *jsonl_path, aud_history_import_stats *st,
                       aud_error *err)
{
    memset(st, 0, sizeof *st);
    char *text = NULL;
    size_t len = 0;
    int rc = aud_file_read(jsonl_path, &text, &len, 0, err);
    if (rc != AUD_OK)
        return rc;
    /* first pass: every line must be a run-log line, so that a bad file imports nothing */
    long line_no = 0;
    for (char *p = text; rc == AUD_OK && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(text + len - p);
        p[n] = '\0';   /* text has a NUL after len, so this is safe at the end too */
        line_no++;
        size_t k = 0;
        while (k < n && isspace((unsigned char)p[k]))
            k++;
        if (k < n) {
            cJSON *line = NULL;
            aud_error e2;
            if (aud_json_parse_located(&line, p, n, jsonl_path, &e2) != AUD_OK)
                rc = aud_error_set(err, AUD_E_PARSE, jsonl_path, line_no, e2.column, "%s",
                                   e2.msg);
            const char *v = str_of(line, "verdict");
            if (rc == AUD_OK && (v == NULL || str_of(line, "time") == NULL ||
                                 (strcmp(v, "pass") && strcmp(v, "fail") && strcmp(v, "error"))))
                rc = aud_error_set(err, AUD_E_SCHEMA, jsonl_path, line_no, 0,
                                   "not a run-log line (\"time\" and \"verdict\" pass, fail or "
                                   "error are needed)");
            if (rc == AUD_OK && strcmp(v, "error") != 0 && !aud_utc_valid(str_of(line, "time")))
                rc = aud_error_set(err, AUD_E_SCHEMA, jsonl_path, line_no, 0,
                                   "\"time\" is not a UTC time YYYY-MM-DDTHH:MM:SSZ");
            cJSON_Delete(line);
        }
        p += n + 1;
    }
    line_no = 0;
    for (char *p = text; rc == AUD_OK && p < text + len;) {
        size_t n = strlen(p);   /* the first pass ended every line with a NUL */
        line_no++;
        cJSON *line = cJSON_ParseWithLength(p, n);
        const char *v = str_of(line, "verdict");
        if (line == NULL) {
            /* a blank line */
        } else if (strcmp(v, "error") == 0) {
            st->skipped++;
        } else {
            cJSON *doc = NULL;
            const char *sha = NULL;
            int added = 0;
            rc = logged_results(line, &doc, &sha, err);
            if (rc == AUD_OK && doc != NULL) {
                rc = record_doc(h, doc, sha, "import", NULL, &added, err);
                st->full += added;
            } else if (rc == AUD_OK) {
                rc = import_summary(h, line, p, sha, &added, err);
                st->summary += added;
            }
            st->present += rc == AUD_OK && !added;
            if (rc != AUD_OK && err->line == 0)
                err->line = line_no;
            cJSON_Delete(doc);
        }
        cJSON_Delete(line);
        p += n + 1;
    }
    aud_free(text);
    return rc;
}

/* ---- series and trends ------------------------------------------------------------------------ */

typedef struct point {
    size_t run;        /* index into the runs list */
    double value;
    int    passed;
} point;

typedef struct series {
    char  *metric, *attribute, *group, *column;
    double min, max;   /* bound of the latest point; NaN = none */
    point *pts;
    size_t n, cap;
} series;

typedef struct run_ref {
    long long id;      /* 0 = the current run, not recorded yet */
    char      created[32];
    char      verdict[8];
} run_ref;

typedef struct builder {
    run_ref *runs;
    size_t   n_runs;
    series  *s;
    size_t   n, cap;
    size_t   hint;
} builder;

static int same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n; i++) {
        aud_free(b->s[i].metric);
        aud_free(b->s[i].attribute);
        aud_free(b->s[i].group);
        aud_free(b->s[i].column);
        aud_free(b->s[i].pts);
    }
    aud_free(b->s);
    aud_free(b->runs);
}

static char *dup_or_null(const char *s, int *nomem)
{
    if (s == NULL)
        return NULL;
    char *d = aud_strdup(s);
    *nomem |= d == NULL;
    return d;
}

static int matches(const aud_history_query *q, const char *metric, const char *attr,
                   const char *group, const char *column)
{
    return (q->metric == NULL || same(q->metric, metric)) &&
           (q->attribute == NULL || same(q->attribute, attr)) &&
           (q->group == NULL || same(q->group, group)) &&
           (q->column == NULL || same(q->column, column));
}

/* Add one check value of run `run`; the first row of a series in a run wins. */
static int add_point(builder *b, size_t run, const char *metric, const char *attr,
                     const char *group, const char *column, double value, int passed,
                     double min, double max, aud_error *err)
{
    series *s = NULL;
    for (size_t t = 0; t < b->n && s == NULL; t++) {
        size_t i = (b->hint + t) % b->n;
        if (same(b->s[i].metric, metric) && same(b->s[i].attribute, attr) &&
            same(b->s[i].group, group) && same(b->s[i].column, column)) {
            s = &b->s[i];
            b->hint = i + 1;
        }
    }
    if (s == NULL) {
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 32;
            series *ns = aud_realloc(b->s, cap * sizeof *ns);
            if (ns == NULL)
                return aud_error_nomem(err);
            b->s = ns;
            b->cap = cap;
        }
        s = &b->s[b->n];
        memset(s, 0, sizeof *s);
        int nomem = 0;
        s->metric = dup_or_null(metric, &nomem);
        s->attribute = dup_or_null(attr, &nomem);
        s->group = dup_or_null(group, &nomem);
        s->column = dup_or_null(column, &nomem);
        b->n++;
        if (nomem)
            return aud_error_nomem(err);
    }
    if (s->n > 0 && s->pts[s->n - 1].run == run)
        return AUD_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        point *np = aud_realloc(s->pts, cap * sizeof *np);
        if (np == NULL)
            return aud_error_nomem(err);
        s->pts = np;
        s->cap = cap;
    }
    s->pts[s->n++] = (point){run, value, passed};
    s->min = min;
    s->max = max;
    return AUD_OK;
}

static int load_runs(aud_history *h, const aud_history_query *q, int has_current, builder *b,
                     aud_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st,
                     "SELECT id, created, verdict FROM runs WHERE ?1 IS NULL OR created >= ?1 "
                     "ORDER BY created, id",
                     err);
    size_t cap = 0;
    if (rc == AUD_OK)
        bind_text(st, 1, q->since);
    int s;
    while (rc == AUD_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (b->n_runs == cap) {
            cap = cap ? 2 * cap : 64;
            run_ref *nr = aud_realloc(b->runs, (cap + 1) * sizeof *nr);
            if (nr == NULL) {
                rc = aud_error_nomem(err);
                break;
            }
            b->runs = nr;
        }
        run_ref *r = &b->runs[b->n_runs++];
        r->id = sqlite3_column_int64(st, 0);
        snprintf(r->created, sizeof r->created, "%s", col_text(st, 1) ? col_text(st, 1) : "");
        snprintf(r->verdict, sizeof r->verdict, "%s", col_text(st, 2) ? col_text(st, 2) : "");
    }
    if (rc == AUD_OK && s != SQLITE_DONE)
        rc = db_fail(h, err, "reading runs");
    sqlite3_finalize(st);
    if (rc != AUD_OK)
        return rc;
    if (b->runs == NULL && (b->runs = aud_malloc(sizeof *b->runs)) == NULL)
        return aud_error_nomem(err);
    /* only the latest N (the current run is one of them) */
    size_t keep = q->last_runs == 0 ? b->n_runs
                  : q->last_runs > (size_t)has_current ? q->last_runs - (size_t)has_current : 0;
    if (b->n_runs > keep) {
        memmove(b->runs, b->runs + (b->n_runs - keep), keep * sizeof *b->runs);
        b->n_runs = keep;
    }
    return AUD_OK;
}

typedef struct id_pos {
    long long id;
    size_t    pos;     /* position in run order */
} id_pos;

static int cmp_id(const void *a, const void *b)
{
    long long x = ((const id_pos *)a)->id, y = ((const id_pos *)b)->id;
    return (x > y) - (x < y);
}

static int load_checks(aud_history *h, const aud_history_query *q, builder *b, aud_error *err)
{
    if (b->n_runs == 0)
        return AUD_OK;
    /* run id -> position in run order */
    id_pos *by_id = aud_malloc(b->n_runs * sizeof *by_id);
    if (by_id == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < b->n_runs; i++)
        by_id[i] = (id_pos){b->runs[i].id, i};
    qsort(by_id, b->n_runs, sizeof *by_id, cmp_id);
    sqlite3_stmt *st = NULL;
    int rc = prepare(h, &st,
                     "SELECT c.run_id, c.metric, c.attribute, c.grp, c.column_name, c.value, "
                     "c.passed, c.min, c.max FROM checks c JOIN runs r ON r.id = c.run_id "
                     "WHERE r.id >= ?1 AND (?2 IS NULL OR c.metric = ?2) "
                     "AND (?3 IS NULL OR c.attribute = ?3) AND (?4 IS NULL OR c.grp = ?4) "
                     "AND (?5 IS NULL OR c.column_name = ?5) "
                     "ORDER BY r.created, r.id, c.seq",
                     err);
    if (rc == AUD_OK) {
        sqlite3_bind_int64(st, 1, by_id[0].id);
        bind_text(st, 2, q->metric);
        bind_text(st, 3, q->attribute);
        bind_text(st, 4, q->group);
        bind_text(st, 5, q->column);
    }
    int s;
    while (rc == AUD_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        id_pos key = {sqlite3_column_int64(st, 0), 0};
        const id_pos *r = bsearch(&key, by_id, b->n_runs, sizeof *by_id, cmp_id);
        if (r == NULL)
            continue;
        rc = add_point(b, r->pos, col_text(st, 1),
                       col_text(st, 2), col_text(st, 3), col_text(st, 4), col_num(st, 5),
                       sqlite3_column_int(st, 6), col_num(st, 7), col_num(st, 8), err);
    }
    if (rc == AUD_OK && s != SQLITE_DONE)
        rc = db_fail(h, err, "reading checks");
    sqlite3_finalize(st);
    aud_free(by_id);
    return rc;
}

static int add_current(const aud_history_query *q, const cJSON *doc, builder *b, aud_error *err)
{
    run_ref *r = &b->runs[b->n_runs];   /* load_runs left room for one more */
    memset(r, 0, sizeof *r);
    snprintf(r->created, sizeof r->created, "%s",
             str_of(get(doc, "provenance"), "created") ? str_of(get(doc, "provenance"), "created")
                                                        : "");
    snprintf(r->verdict, sizeof r->verdict, "%s",
             str_of(doc, "verdict") ? str_of(doc, "verdict") : "");
    size_t run = b->n_runs++;
    const cJSON *row;
    cJSON_ArrayForEach(row, get(doc, "checks")) {
        const char *m = str_of(row, "metric"), *a = str_of(row, "attribute");
        const char *g = str_of(row, "group"), *c = str_of(row, "column");
        if (m == NULL || !matches(q, m, a, g, c))
            continue;
        int rc = add_point(b, run, m, a, g, c, num_of(get(row, "value")),
                           cJSON_IsTrue(get(row, "passed")), num_of(get(row, "min")),
                           num_of(get(row, "max")), err);
        if (rc != AUD_OK)
            return rc;
    }
    return AUD_OK;
}

static cJSON *str_or_null(const char *s)
{
    return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Add item to obj, deleting it when that fails; 0 on success */
static int add(cJSON *obj, const char *k, cJSON *item)
{
    if (item == NULL)
        return -1;
    if (!cJSON_AddItemToObject(obj, k, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static const char *fmt_g(double v, char *buf)
{
    if (!isfinite(v))
        return "n/a";
    snprintf(buf, 32, "%.3g", v);
    return buf;
}

/* the trend object of one series (docs/history.md "Trend") */
static int trend_json(const series *s, const aud_history_query *q, cJSON *obj, aud_error *err)
{
    double *y = aud_malloc((s->n ? s->n : 1) * sizeof *y);
    if (y == NULL)
        return aud_error_nomem(err);
    for (size_t i = 0; i < s->n; i++)
        y[i] = s->pts[i].value;
    aud_trend t;
    int rc = aud_trend_compute(y, s->n, q->confidence, &t, err);
    if (rc != AUD_OK) {
        aud_free(y);
        return rc;
    }
    double alpha = 1.0 - q->confidence;
    int has_min = isfinite(s->min), has_max = isfinite(s->max);
    /* worse: down for a lower bound, up for an upper bound; none with both or neither */
    int worse = has_min && !has_max ? -1 : has_max && !has_min ? 1 : 0;
    int dir = t.n >= 3 && isfinite(t.p_value) && t.p_value < alpha ? (t.s > 0) - (t.s < 0) : 0;
    /* worsening in each of the last K runs: the last K+1 finite values move the worse way */
    int last_k = 0;
    if (worse != 0 && q->k > 0) {
        size_t need = (size_t)q->k + 1, got = 0;
        double prev = NAN;
        last_k = 1;
        for (size_t i = s->n; i-- > 0 && got < need;) {
            if (!isfinite(y[i]))
                continue;
            if (got > 0 && !(worse < 0 ? y[i] > prev : y[i] < prev))
                last_k = 0;
            prev = y[i];
            got++;
        }
        if (got < need)
            last_k = 0;
    }
    aud_free(y);
    char stmt[512], b1[32], b2[32], b3[32], b4[32];
    const char *dword = dir > 0 ? "increasing" : dir < 0 ? "decreasing" : "no trend";
    if (t.n < 3)
        snprintf(stmt, sizeof stmt, "too few runs for a trend (%zu value%s)", t.n,
                 t.n == 1 ? "" : "s");
    else
        snprintf(stmt, sizeof stmt,
                 "%s%s: Sen slope %s per run (%.0f%% interval %s to %s), Mann-Kendall p = %s, "
                 "n = %zu",
                 dir != 0 && worse != 0 ? (dir == worse ? "worsening, " : "improving, ") : "",
                 dword, fmt_g(t.slope, b1), 100.0 * q->confidence, fmt_g(t.slope_low, b2),
                 fmt_g(t.slope_high, b3), fmt_g(t.p_value, b4), t.n);
    if (last_k) {
        size_t l = strlen(stmt);
        snprintf(stmt + l, sizeof stmt - l, "; worse in each of the last %d runs", q->k);
    }
    cJSON *iv = cJSON_CreateArray();
    int bad = add(obj, "method", cJSON_CreateString("mann-kendall")) ||
              aud_json_add_num(obj, "n", (double)t.n) || aud_json_add_num(obj, "s", t.s) ||
              aud_json_add_num(obj, "var_s", t.var_s) || aud_json_add_num(obj, "z", t.z) ||
              aud_json_add_num(obj, "p_value", t.p_value) || aud_json_add_num(obj, "tau", t.tau) ||
              aud_json_add_num(obj, "sen_slope", t.slope);
    if (bad) {
        cJSON_Delete(iv);
        return aud_error_nomem(err);
    }
    /* add() takes iv (or deletes it) whatever happens after */
    bad = add(obj, "sen_slope_interval", iv) ||
          !cJSON_AddItemToArray(iv, aud_json_num(t.slope_low)) ||
          !cJSON_AddItemToArray(iv, aud_json_num(t.slope_high)) ||
          aud_json_add_num(obj, "confidence", q->confidence) ||
          add(obj, "direction", cJSON_CreateString(dir > 0 ? "increasing"
                                                   : dir < 0 ? "decreasing" : "none")) ||
          add(obj, "worse_direction", worse > 0   ? cJSON_CreateString("increasing")
                                      : worse < 0 ? cJSON_CreateString("decreasing")
                                                  : cJSON_CreateNull()) ||
          add(obj, "worsening", worse == 0 ? cJSON_CreateNull()
                                           : cJSON_CreateBool(dir != 0 && dir == worse)) ||
          aud_json_add_num(obj, "k", (double)q->k) ||
          add(obj, "worse_each_of_last_k", cJSON_CreateBool(last_k)) ||
          add(obj, "statement", cJSON_CreateString(stmt));
    return bad ? aud_error_nomem(err) : AUD_OK;
}

/* Add a new object, array or string to parent (an array when key is NULL); NULL on no memory. */
static cJSON *child(cJSON *parent, const char *key, cJSON *item)
{
    if (item == NULL)
        return NULL;
    if (key != NULL ? !cJSON_AddItemToObject(parent, key, item)
                    : !cJSON_AddItemToArray(parent, item)) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

static int build_json(const builder *b, const aud_history_query *q, cJSON **out, aud_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return aud_error_nomem(err);
    cJSON *runs = child(doc, "runs", cJSON_CreateArray());
    cJSON *checks = runs != NULL ? child(doc, "checks", cJSON_CreateArray()) : NULL;
    int bad = checks == NULL;
    for (size_t i = 0; !bad && i < b->n_runs; i++) {
        cJSON *r = child(runs, NULL, cJSON_CreateObject());
        bad = r == NULL ||
              add(r, "id", b->runs[i].id ? aud_json_num((double)b->runs[i].id)
                                         : cJSON_CreateNull()) ||
              add(r, "created", cJSON_CreateString(b->runs[i].created)) ||
              add(r, "verdict", cJSON_CreateString(b->runs[i].verdict));
        if (!bad && b->runs[i].id == 0)
            bad = add(r, "current", cJSON_CreateTrue());
    }
    int rc = AUD_OK;
    for (size_t i = 0; !bad && rc == AUD_OK && i < b->n; i++) {
        const series *s = &b->s[i];
        cJSON *c = child(checks, NULL, cJSON_CreateObject()), *bound = NULL, *vals = NULL;
        cJSON *trend = NULL;
        bad = c == NULL || add(c, "metric", str_or_null(s->metric)) ||
              add(c, "attribute", str_or_null(s->attribute)) ||
              add(c, "group", str_or_null(s->group)) ||
              add(c, "column", str_or_null(s->column)) ||
              (bound = child(c, "bound", cJSON_CreateObject())) == NULL ||
              (vals = child(c, "values", cJSON_CreateArray())) == NULL ||
              (trend = child(c, "trend", cJSON_CreateObject())) == NULL;
        if (!bad && isfinite(s->min))
            bad = aud_json_add_num(bound, "min", s->min);
        if (!bad && isfinite(s->max))
            bad = aud_json_add_num(bound, "max", s->max);
        for (size_t k = 0; !bad && k < s->n; k++) {
            const run_ref *r = &b->runs[s->pts[k].run];
            cJSON *v = child(vals, NULL, cJSON_CreateObject());
            bad = v == NULL ||
                  add(v, "run", r->id ? aud_json_num((double)r->id) : cJSON_CreateNull()) ||
                  add(v, "created", cJSON_CreateString(r->created)) ||
                  aud_json_add_num(v, "value", s->pts[k].value) ||
                  add(v, "passed", cJSON_CreateBool(s->pts[k].passed));
        }
        if (!bad)
            rc = trend_json(s, q, trend, err);
    }
    if (bad || rc != AUD_OK) {
        cJSON_Delete(doc);
        return rc != AUD_OK ? rc : aud_error_nomem(err);
    }
    *out = doc;
    return AUD_OK;
}

int aud_history_series(aud_history *h, const aud_history_query *q0, const cJSON *current,
                       cJSON **out, aud_error *err)
{
    aud_history_query q = *q0;
    if (q.k <= 0)
        q.k = 3;
    if (!(q.confidence > 0.0 && q.confidence < 1.0))
        q.confidence = 0.95;
    *out = NULL;
    builder b;
    memset(&b, 0, sizeof b);
    int rc = exec(h, "BEGIN", err);   /* one consistent snapshot for both reads */
    if (rc == AUD_OK)
        rc = load_runs(h, &q, current != NULL, &b, err);
    if (rc == AUD_OK)
        rc = load_checks(h, &q, &b, err);
    rollback(h);
    if (rc == AUD_OK && current != NULL)
        rc = add_current(&q, current, &b, err);
    if (rc == AUD_OK)
        rc = build_json(&b, &q, out, err);
    builder_free(&b);
    return rc;
}

int aud_history_add_trends(aud_history *h, cJSON *results, size_t last_runs, aud_error *err)
{
    aud_history_query q = {.last_runs = last_runs, .k = 3, .confidence = 0.95};
    cJSON *t = NULL;
    int rc = aud_history_series(h, &q, results, &t, err);
    if (rc != AUD_OK)
        return rc;
    if (aud_json_add_num(t, "last_runs", (double)last_runs) != 0 ||
        !cJSON_AddItemToObject(results, "trends", t)) {
        cJSON_Delete(t);
        return aud_error_nomem(err);
    }
    return AUD_OK;
}

int aud_history_since_valid(const char *s)
{
    static const char pat[] = "dddd-dd-dd";
    size_t n = strlen(s);
    if (n < 10)
        return 0;
    for (size_t i = 0; i < 10; i++) {
        if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
            return 0;
    }
    if (n == 10)
        return 1;
    static const char tpat[] = "Tdd:dd:ddZ";
    const char *t = s + 10;
    size_t m = strlen(t);
    if (m != 6 && m != 9 && m != 10)
        return 0;
    for (size_t i = 0; i < m; i++) {
        if (tpat[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != tpat[i])
            return 0;
    }
    return 1;
}

/* ---- findings of a sustained worsening -------------------------------------------------------- */

static const char *finding_kind(const char *metric, const char *attribute, const char *column)
{
    static const char *const perf[] = {"auc", "accuracy", "log_loss", "brier_score", NULL};
    for (int i = 0; perf[i] != NULL; i++) {
        if (strcmp(metric, perf[i]) == 0)
            return "performance";
    }
    if (column != NULL || strncmp(metric, "drift", 5) == 0)
        return "drift";
    if (strcmp(metric, "additivity_max_error") == 0)
        return "explanations";
    return attribute != NULL ? "fairness" : "performance";
}

int aud_history_add_trend_findings(cJSON *results, aud_error *err)
{
    const cJSON *checks = get(get(results, "trends"), "checks");
    cJSON *findings = cJSON_GetObjectItemCaseSensitive(results, "findings");
    if (checks == NULL)
        return AUD_OK;
    if (findings == NULL && (findings = cJSON_AddArrayToObject(results, "findings")) == NULL)
        return aud_error_nomem(err);
    int id = cJSON_GetArraySize(findings);
    const cJSON *c;
    cJSON_ArrayForEach(c, checks) {
        const cJSON *t = get(c, "trend");
        const cJSON *last = cJSON_GetArrayItem(get(c, "values"), cJSON_GetArraySize(get(c, "values")) - 1);
        int lastk = cJSON_IsTrue(get(t, "worse_each_of_last_k"));
        int worse = cJSON_IsTrue(get(t, "worsening"));
        /* only the current run's passing checks: a failing one is a finding already */
        if ((!lastk && !worse) || last == NULL || !cJSON_IsNull(get(last, "run")) ||
            !cJSON_IsTrue(get(last, "passed")))
            continue;
        const char *metric = str_of(c, "metric"), *a = str_of(c, "attribute");
        const char *g = str_of(c, "group"), *col = str_of(c, "column");
        char name[128], scope[300] = "", sentence[900], b1[32], b2[32], b3[32];
        snprintf(name, sizeof name, "%s", metric != NULL ? metric : "?");
        for (char *p = name; *p; p++)
            *p = *p == '_' ? ' ' : *p;
        if (g != NULL)
            snprintf(scope, sizeof scope, " of %s group %s", a != NULL ? a : "?", g);
        else if (col != NULL)
            snprintf(scope, sizeof scope, " of column %s", col);
        else if (a != NULL)
            snprintf(scope, sizeof scope, " by %s", a);
        const cJSON *bound = get(c, "bound");
        double bmin = num_of(get(bound, "min")), bmax = num_of(get(bound, "max"));
        char bt[64];
        if (isfinite(bmin))
            snprintf(bt, sizeof bt, "bound >= %s", fmt_g(bmin, b2));
        else
            snprintf(bt, sizeof bt, "bound <= %s", fmt_g(bmax, b2));
        size_t l = (size_t)snprintf(sentence, sizeof sentence,
                                    "The %s%s passes this run (%s, %s) but is getting worse: ",
                                    name, scope, fmt_g(num_of(get(last, "value")), b1), bt);
        if (lastk)
            l += (size_t)snprintf(sentence + l, sizeof sentence - l,
                                  "it moved toward the bound in each of the last %.0f runs%s",
                                  num_of(get(t, "k")), worse ? "; " : ".");
        if (worse && l < sizeof sentence)
            snprintf(sentence + l, sizeof sentence - l,
                     "Mann-Kendall trend over %.0f runs, p = %s, Sen slope %s per run.",
                     num_of(get(t, "n")), fmt_g(num_of(get(t, "p_value")), b1),
                     fmt_g(num_of(get(t, "sen_slope")), b3));
        char fid[24];
        snprintf(fid, sizeof fid, "F%d", ++id);
        cJSON *f = cJSON_CreateObject();
        if (f == NULL || !cJSON_AddItemToArray(findings, f)) {
            cJSON_Delete(f);
            return aud_error_nomem(err);
        }
        int bad = cJSON_AddStringToObject(f, "id", fid) == NULL ||
                  cJSON_AddStringToObject(f, "severity", "warn") == NULL ||
                  cJSON_AddStringToObject(f, "kind", finding_kind(metric ? metric : "", a, col)) ==
                      NULL ||
                  cJSON_AddStringToObject(f, "metric", metric ? metric : "?") == NULL ||
                  (a != NULL && cJSON_AddStringToObject(f, "attribute", a) == NULL) ||
                  (g != NULL && cJSON_AddStringToObject(f, "group", g) == NULL) ||
                  (col != NULL && cJSON_AddStringToObject(f, "column", col) == NULL) ||
                  cJSON_AddBoolToObject(f, "check_passed", 1) == NULL ||
                  aud_json_add_num(f, "value", num_of(get(last, "value"))) != 0 ||
                  add(f, "bound", cJSON_Duplicate(bound, 1)) ||
                  cJSON_AddStringToObject(f, "sentence", sentence) == NULL ||
                  add(f, "trend", cJSON_Duplicate(t, 1));
        if (bad)
            return aud_error_nomem(err);
    }
    return AUD_OK;
}
