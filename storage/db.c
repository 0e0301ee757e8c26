/*
 * db.c - opening the store, schema migrations, transactions, ids, time.
 * Layer: storage.
 */
#include "storage/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/internal.h"

/* ---- schema ------------------------------------------------------------- */

/* migrations[k] moves user_version from k to k+1.  Never edit a released
 * migration; append a new one. */
static const char *const migrations[ST_SCHEMA_VERSION] = {
    /* 1: the initial schema */
    "CREATE TABLE tokens ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('admin','modeler','validator','viewer')),"
    "  hash TEXT NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  revoked_at TEXT"
    ");"
    "CREATE TABLE datasets ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  task TEXT NOT NULL,"
    "  n_rows INTEGER NOT NULL,"
    "  n_columns INTEGER NOT NULL,"
    "  size_bytes INTEGER NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL"
    ");"
    "CREATE UNIQUE INDEX datasets_content ON datasets (sha256, target, task);"
    "CREATE TABLE teachers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  task TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL"
    ");"
    "CREATE INDEX teachers_sha256 ON teachers (sha256);"
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded',"
    "    'failed','cancelled','interrupted')),"
    "  dataset_id TEXT REFERENCES datasets (id),"
    "  phase TEXT NOT NULL DEFAULT '',"
    "  fraction REAL NOT NULL DEFAULT 0,"
    "  config TEXT NOT NULL,"
    "  error TEXT,"
    "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  started_at TEXT,"
    "  finished_at TEXT,"
    "  created_by TEXT NOT NULL"
    ");"
    "CREATE INDEX runs_status ON runs (status);"
    "CREATE INDEX runs_dataset ON runs (dataset_id);"
    "CREATE TABLE run_teachers ("
    "  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    "  teacher_id TEXT NOT NULL REFERENCES teachers (id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, position)"
    ");"
    "CREATE INDEX run_teachers_teacher ON run_teachers (teacher_id);"
    "CREATE TABLE reports ("
    "  run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,"
    "  body TEXT NOT NULL,"
    "  created_at TEXT NOT NULL"
    ");"
    "CREATE TABLE students ("
    "  run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,"
    "  body TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  created_at TEXT NOT NULL"
    ");"
    "CREATE TABLE reviews ("
    "  id TEXT PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    "  verdict TEXT NOT NULL CHECK (verdict IN "
    "('approved','rejected','needs_changes')),"
    "  comment TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL"
    ");"
    "CREATE INDEX reviews_run ON reviews (run_id);"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  details TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ");",
};

/* ---- helpers shared by the storage sources --------------------------------------- */

gb_status st_sql_error(st_db *db, const char *what, gb_error *err)
{
    int code = db != NULL && db->conn != NULL ? sqlite3_extended_errcode(db->conn)
                                              : SQLITE_ERROR;
    const char *msg =
        db != NULL && db->conn != NULL ? sqlite3_errmsg(db->conn) : "no database";
    gb_status status = (code & 0xff) == SQLITE_CONSTRAINT ? GB_ECONFLICT : GB_EIO;
    return gb_error_set(err, status, "database error while %s: %s", what, msg);
}

sqlite3_stmt *st_prepare(st_db *db, const char *sql, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL) != SQLITE_OK) {
        st_sql_error(db, "preparing a statement", err);
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

int st_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL)
        return sqlite3_bind_null(stmt, index);
    return sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
}

void st_column_copy(sqlite3_stmt *stmt, int i, char *out, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(stmt, i);
    snprintf(out, cap, "%s", text != NULL ? (const char *)text : "");
}

char *st_column_dup(sqlite3_stmt *stmt, int i, int *oom)
{
    const unsigned char *text = sqlite3_column_text(stmt, i);
    if (text == NULL)
        return NULL;
    char *copy = gb_strndup((const char *)text, (size_t)sqlite3_column_bytes(stmt, i));
    if (copy == NULL)
        *oom = 1;
    return copy;
}

void st_page_clamp(size_t *limit)
{
    if (*limit == 0)
        *limit = 50;
    if (*limit > 1000)
        *limit = 1000;
}

static gb_status exec_plain(st_db *db, const char *sql, const char *what, gb_error *err)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return st_sql_error(db, what, err);
    return GB_OK;
}

gb_status st_tx_enter(st_db *db, int *owned, gb_error *err)
{
    *owned = 0;
    if (!sqlite3_get_autocommit(db->conn))
        return GB_OK;
    gb_status status = exec_plain(db, "BEGIN IMMEDIATE", "starting a transaction", err);
    if (status == GB_OK)
        *owned = 1;
    return status;
}

gb_status st_tx_leave(st_db *db, int owned, gb_status status, gb_error *err)
{
    if (!owned)
        return status;
    if (status == GB_OK) {
        status = exec_plain(db, "COMMIT", "committing", err);
        if (status == GB_OK)
            return GB_OK;
    }
    if (!sqlite3_get_autocommit(db->conn))
        sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

/* ---- opening and migrating ------------------------------------------------ */

static gb_status read_version(st_db *db, int *version, gb_error *err)
{
    sqlite3_stmt *stmt = st_prepare(db, "PRAGMA user_version", err);
    if (stmt == NULL)
        return GB_EIO;
    gb_status status = GB_OK;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *version = sqlite3_column_int(stmt, 0);
    else
        status = st_sql_error(db, "reading the schema version", err);
    sqlite3_finalize(stmt);
    return status;
}

static gb_status migrate(st_db *db, gb_error *err)
{
    int version = 0;
    gb_status status = read_version(db, &version, err);
    if (status != GB_OK)
        return status;
    if (version > ST_SCHEMA_VERSION)
        return gb_error_set(err, GB_EINPUT,
                            "database schema version %d is newer than this glassbox "
                            "(%d); upgrade glassbox",
                            version, ST_SCHEMA_VERSION);
    while (version < ST_SCHEMA_VERSION) {
        int owned = 0;
        status = st_tx_enter(db, &owned, err);
        if (status != GB_OK)
            return status;
        /* Re-read inside the write lock: another process may have migrated. */
        status = read_version(db, &version, err);
        if (status == GB_OK && version < ST_SCHEMA_VERSION) {
            status = exec_plain(db, migrations[version], "migrating the schema", err);
            if (status == GB_OK) {
                /* PRAGMA cannot take bound parameters; the value is our own
                 * integer constant, never input. */
                char sql[64];
                snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
                status = exec_plain(db, sql, "setting the schema version", err);
            }
        }
        status = st_tx_leave(db, owned, status, err);
        if (status != GB_OK)
            return status;
        status = read_version(db, &version, err);
        if (status != GB_OK)
            return status;
    }
    return GB_OK;
}

gb_status st_db_open(const char *path, st_db **out, gb_error *err)
{
    st_db *db = NULL;
    gb_status status = GB_OK;
    *out = NULL;
    db = gb_calloc(1, sizeof *db);
    if (db == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory opening the database");
    int rc = sqlite3_open_v2(
        path, &db->conn,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        status = gb_error_set(err, GB_EIO, "cannot open database '%s': %s", path,
                              db->conn != NULL ? sqlite3_errmsg(db->conn)
                                               : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(db->conn, 5000);
    sqlite3_extended_result_codes(db->conn, 1);
    status = exec_plain(db, "PRAGMA journal_mode = WAL", "enabling WAL", err);
    if (status == GB_OK)
        status =
            exec_plain(db, "PRAGMA synchronous = FULL", "setting synchronous", err);
    if (status == GB_OK)
        status =
            exec_plain(db, "PRAGMA foreign_keys = ON", "enabling foreign keys", err);
    if (status == GB_OK)
        status = migrate(db, err);
    if (status != GB_OK)
        goto fail;
    *out = db;
    return GB_OK;
fail:
    st_db_close(db);
    return status;
}

void st_db_close(st_db *db)
{
    if (db == NULL)
        return;
    sqlite3_close_v2(db->conn);
    gb_free(db);
}

int st_db_version(st_db *db)
{
    int version = -1;
    read_version(db, &version, NULL);
    return version;
}

gb_status st_db_ping(st_db *db, gb_error *err)
{
    sqlite3_stmt *stmt = st_prepare(db, "SELECT count(*) FROM tokens", err);
    if (stmt == NULL)
        return GB_EIO;
    gb_status status = sqlite3_step(stmt) == SQLITE_ROW
                           ? GB_OK
                           : st_sql_error(db, "checking the database", err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_db_integrity_check(st_db *db, gb_error *err)
{
    sqlite3_stmt *stmt = st_prepare(db, "PRAGMA integrity_check", err);
    if (stmt == NULL)
        return GB_EIO;
    gb_status status = GB_OK;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        status = st_sql_error(db, "checking integrity", err);
    else {
        const unsigned char *first = sqlite3_column_text(stmt, 0);
        if (first == NULL || strcmp((const char *)first, "ok") != 0)
            status = gb_error_set(err, GB_EIO, "integrity check failed: %s",
                                  first != NULL ? (const char *)first : "(null)");
    }
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_db_backup(st_db *db, const char *dest_path, gb_error *err)
{
    sqlite3 *dest = NULL;
    sqlite3_backup *backup = NULL;
    gb_status status = GB_OK;
    if (sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        status = gb_error_set(err, GB_EIO, "cannot open backup file '%s': %s",
                              dest_path, dest ? sqlite3_errmsg(dest) : "no memory");
        goto done;
    }
    backup = sqlite3_backup_init(dest, "main", db->conn, "main");
    if (backup == NULL) {
        status =
            gb_error_set(err, GB_EIO, "cannot start backup: %s", sqlite3_errmsg(dest));
        goto done;
    }
    int rc;
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    if (rc != SQLITE_DONE)
        status = gb_error_set(err, GB_EIO, "backup failed: %s", sqlite3_errstr(rc));
done:
    if (backup != NULL)
        sqlite3_backup_finish(backup);
    sqlite3_close_v2(dest);
    return status;
}

/* ---- ids and time --------------------------------------------------------- */

void st_now(char out[ST_TIME_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        date[0] = '\0';
    snprintf(out, ST_TIME_LEN, "%.23s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

gb_status st_random_bytes(void *buf, size_t n, gb_error *err)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gb_error_set(err, GB_EIO, "cannot open /dev/urandom: %s",
                            strerror(errno));
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            return gb_error_set(err, GB_EIO, "cannot read /dev/urandom");
        }
        got += (size_t)r;
    }
    close(fd);
    return GB_OK;
}

gb_status st_new_id(const char *prefix, char out[ST_ID_LEN], gb_error *err)
{
    unsigned char bytes[12];
    static const char digits[] = "0123456789abcdef";
    gb_status status = st_random_bytes(bytes, sizeof bytes, err);
    if (status != GB_OK)
        return status;
    size_t len = strlen(prefix);
    if (len + 2 * sizeof bytes + 1 > ST_ID_LEN)
        return gb_error_set(err, GB_EINTERNAL, "id prefix too long");
    memcpy(out, prefix, len);
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[len + 2 * i] = digits[bytes[i] >> 4];
        out[len + 2 * i + 1] = digits[bytes[i] & 15];
    }
    out[len + 2 * sizeof bytes] = '\0';
    return GB_OK;
}
