/*
 * runs.c - the run queue and run outcomes.
 * Layer: storage.
 */
#include "storage/runs.h"

#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "storage/internal.h"

#define RUN_COLUMNS                                                                    \
    "id, kind, status, dataset_id, phase, fraction, cancel_requested, created_at, "    \
    "started_at, finished_at, created_by, config, error"

void st_run_clear(st_run *run)
{
    if (run == NULL)
        return;
    gb_free(run->config_json);
    gb_free(run->error_json);
    memset(run, 0, sizeof *run);
}

void st_run_list_free(st_run *items, size_t n)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        st_run_clear(&items[i]);
    gb_free(items);
}

static gb_status read_teachers(st_db *db, st_run *run, gb_error *err)
{
    sqlite3_stmt *stmt =
        st_prepare(db,
                   "SELECT teacher_id FROM run_teachers WHERE run_id = ? "
                   "ORDER BY position",
                   err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, run->id);
    int rc;
    run->n_teachers = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
           run->n_teachers < ST_RUN_MAX_TEACHERS)
        st_column_copy(stmt, 0, run->teacher_ids[run->n_teachers++], ST_ID_LEN);
    gb_status status = GB_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = st_sql_error(db, "reading a run's teachers", err);
    sqlite3_finalize(stmt);
    return status;
}

static gb_status read_run(st_db *db, sqlite3_stmt *stmt, st_run *out, gb_error *err)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    st_column_copy(stmt, 0, out->id, sizeof out->id);
    st_column_copy(stmt, 1, out->kind, sizeof out->kind);
    st_column_copy(stmt, 2, out->status, sizeof out->status);
    st_column_copy(stmt, 3, out->dataset_id, sizeof out->dataset_id);
    st_column_copy(stmt, 4, out->phase, sizeof out->phase);
    out->fraction = sqlite3_column_double(stmt, 5);
    out->cancel_requested = sqlite3_column_int(stmt, 6);
    st_column_copy(stmt, 7, out->created_at, sizeof out->created_at);
    st_column_copy(stmt, 8, out->started_at, sizeof out->started_at);
    st_column_copy(stmt, 9, out->finished_at, sizeof out->finished_at);
    st_column_copy(stmt, 10, out->created_by, sizeof out->created_by);
    out->config_json = st_column_dup(stmt, 11, &oom);
    out->error_json = st_column_dup(stmt, 12, &oom);
    if (oom) {
        st_run_clear(out);
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a run");
    }
    gb_status status = read_teachers(db, out, err);
    if (status != GB_OK)
        st_run_clear(out);
    return status;
}

static gb_status step_done(st_db *db, sqlite3_stmt *stmt, const char *what,
                           gb_error *err)
{
    if (stmt == NULL)
        return GB_EIO;
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return st_sql_error(db, what, err);
    return GB_OK;
}

gb_status st_run_count(st_db *db, const char *status_name, size_t *n, gb_error *err)
{
    return st_count(db, "SELECT count(*) FROM runs WHERE status = ?", status_name,
                    "counting runs", n, err);
}

gb_status st_run_enqueue(st_db *db, st_run *run, size_t max_queued,
                         const st_audit_entry *audit, int *queue_full, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    size_t n_queued = 0;
    char id[ST_ID_LEN], now[ST_TIME_LEN];
    *queue_full = 0;
    if (run->n_teachers > ST_RUN_MAX_TEACHERS)
        return gb_error_set(err, GB_EUNUSABLE, "at most %d teachers per run",
                            ST_RUN_MAX_TEACHERS);
    gb_status status = st_new_id("run_", id, err);
    if (status != GB_OK)
        return status;
    st_now(now);
    status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    if (max_queued > 0) {
        status = st_run_count(db, "queued", &n_queued, err);
        if (status == GB_OK && n_queued >= max_queued) {
            *queue_full = 1;
            goto done;
        }
    }
    if (status == GB_OK) {
        stmt = st_prepare(db,
                          "INSERT INTO runs (id, kind, status, dataset_id, config, "
                          "created_at, created_by) VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                          err);
        if (stmt != NULL) {
            st_bind_text(stmt, 1, id);
            st_bind_text(stmt, 2, run->kind);
            st_bind_text(stmt, 3, run->dataset_id[0] ? run->dataset_id : NULL);
            st_bind_text(stmt, 4, run->config_json != NULL ? run->config_json : "{}");
            st_bind_text(stmt, 5, now);
            st_bind_text(stmt, 6, run->created_by);
        }
        status = step_done(db, stmt, "queueing a run", err);
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    for (size_t i = 0; status == GB_OK && i < run->n_teachers; i++) {
        stmt = st_prepare(db,
                          "INSERT INTO run_teachers (run_id, teacher_id, position) "
                          "VALUES (?, ?, ?)",
                          err);
        if (stmt != NULL) {
            st_bind_text(stmt, 1, id);
            st_bind_text(stmt, 2, run->teacher_ids[i]);
            sqlite3_bind_int64(stmt, 3, (sqlite3_int64)i);
        }
        status = step_done(db, stmt, "recording a run's teacher", err);
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
done:
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK && !*queue_full) {
        memcpy(run->id, id, sizeof id);
        memcpy(run->created_at, now, sizeof now);
        snprintf(run->status, sizeof run->status, "queued");
    }
    return status;
}

gb_status st_run_get(st_db *db, const char *id, st_run *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt =
        st_prepare(db, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?", err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, id);
    gb_status status = GB_OK;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        status = read_run(db, stmt, out, err);
    else if (rc == SQLITE_DONE)
        status = gb_error_set(err, GB_ENOTFOUND, "no run with id '%s'", id);
    else
        status = st_sql_error(db, "reading a run", err);
    sqlite3_finalize(stmt);
    return status;
}

#define RUN_FILTER                                                                     \
    " WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR dataset_id = ?2) AND "            \
    "(?3 = '' OR EXISTS (SELECT 1 FROM run_teachers t WHERE t.run_id = runs.id AND "   \
    "t.teacher_id = ?3)) AND (?4 = '' OR kind = ?4)"

static void bind_filter(sqlite3_stmt *stmt, const st_run_filter *f)
{
    st_bind_text(stmt, 1, f != NULL && f->status != NULL ? f->status : "");
    st_bind_text(stmt, 2, f != NULL && f->dataset_id != NULL ? f->dataset_id : "");
    st_bind_text(stmt, 3, f != NULL && f->teacher_id != NULL ? f->teacher_id : "");
    st_bind_text(stmt, 4, f != NULL && f->kind != NULL ? f->kind : "");
}

gb_status st_run_list(st_db *db, const st_run_filter *filter, size_t limit,
                      size_t offset, st_run **items, size_t *n, size_t *total,
                      gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    st_run *rows = NULL;
    size_t count = 0;
    gb_status status = GB_OK;
    *items = NULL;
    *n = 0;
    st_page_clamp(&limit);
    stmt = st_prepare(db, "SELECT count(*) FROM runs" RUN_FILTER, err);
    if (stmt == NULL)
        return GB_EIO;
    bind_filter(stmt, filter);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *total = (size_t)sqlite3_column_int64(stmt, 0);
    else
        status = st_sql_error(db, "counting runs", err);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (status != GB_OK)
        return status;
    rows = gb_calloc(limit, sizeof *rows);
    if (rows == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing runs");
    stmt = st_prepare(db,
                      "SELECT " RUN_COLUMNS " FROM runs" RUN_FILTER
                      " ORDER BY rowid DESC LIMIT ?5 OFFSET ?6",
                      err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    bind_filter(stmt, filter);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 6, (sqlite3_int64)offset);
    int rc = SQLITE_DONE;
    while (status == GB_OK && count < limit &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        status = read_run(db, stmt, &rows[count], err);
        if (status == GB_OK)
            count++;
    }
    if (status == GB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = st_sql_error(db, "listing runs", err);
done:
    sqlite3_finalize(stmt);
    if (status != GB_OK) {
        st_run_list_free(rows, count);
        return status;
    }
    *items = rows;
    *n = count;
    return GB_OK;
}

gb_status st_run_cancel(st_db *db, const char *id, const st_audit_entry *audit,
                        st_run *out, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char now[ST_TIME_LEN];
    st_run run;
    memset(&run, 0, sizeof run);
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_run_get(db, id, &run, err);
    if (status != GB_OK)
        goto done;
    st_now(now);
    if (strcmp(run.status, "queued") == 0) {
        stmt = st_prepare(db,
                          "UPDATE runs SET status = 'cancelled', finished_at = ?, "
                          "cancel_requested = 1, "
                          "error = '{\"code\":\"cancelled\",\"message\":\"cancelled "
                          "before it started\"}' WHERE id = ?",
                          err);
    } else if (strcmp(run.status, "running") == 0) {
        stmt = st_prepare(db,
                          "UPDATE runs SET cancel_requested = 1 WHERE id = ?2 "
                          "AND ?1 IS NOT NULL",
                          err);
    } else {
        status = gb_error_set(err, GB_ECONFLICT, "run '%s' already ended (%s)", id,
                              run.status);
        goto done;
    }
    if (stmt != NULL) {
        st_bind_text(stmt, 1, now);
        st_bind_text(stmt, 2, id);
    }
    status = step_done(db, stmt, "cancelling a run", err);
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
done:
    sqlite3_finalize(stmt);
    st_run_clear(&run);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK && out != NULL)
        status = st_run_get(db, id, out, err);
    return status;
}

gb_status st_run_claim(st_db *db, const char *kind, st_run *out, int *claimed,
                       gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char id[ST_ID_LEN], now[ST_TIME_LEN];
    *claimed = 0;
    memset(out, 0, sizeof *out);
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    stmt =
        st_prepare(db,
                   "SELECT id FROM runs WHERE status = 'queued' AND (?1 = '' OR kind = "
                   "?1) ORDER BY rowid LIMIT 1",
                   err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    st_bind_text(stmt, 1, kind != NULL ? kind : "");
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        goto done;
    if (rc != SQLITE_ROW) {
        status = st_sql_error(db, "claiming a run", err);
        goto done;
    }
    st_column_copy(stmt, 0, id, sizeof id);
    sqlite3_finalize(stmt);
    st_now(now);
    stmt = st_prepare(
        db,
        "UPDATE runs SET status = 'running', started_at = ?, phase = 'starting', "
        "fraction = 0 WHERE id = ?",
        err);
    if (stmt != NULL) {
        st_bind_text(stmt, 1, now);
        st_bind_text(stmt, 2, id);
    }
    status = step_done(db, stmt, "claiming a run", err);
    if (status == GB_OK)
        status = st_run_get(db, id, out, err);
    if (status == GB_OK)
        *claimed = 1;
done:
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status != GB_OK) {
        *claimed = 0;
        st_run_clear(out);
    }
    return status;
}

gb_status st_run_progress(st_db *db, const char *id, const char *phase, double fraction,
                          int *cancel_requested, gb_error *err)
{
    sqlite3_stmt *stmt =
        st_prepare(db,
                   "UPDATE runs SET phase = ?, fraction = ? WHERE id = ? "
                   "AND status = 'running' RETURNING cancel_requested",
                   err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, phase);
    sqlite3_bind_double(stmt, 2, fraction);
    st_bind_text(stmt, 3, id);
    gb_status status = GB_OK;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (cancel_requested != NULL)
            *cancel_requested = sqlite3_column_int(stmt, 0);
        rc = sqlite3_step(stmt);
    } else if (rc == SQLITE_DONE) {
        status = gb_error_set(err, GB_ECONFLICT, "run '%s' is not running", id);
    }
    if (status == GB_OK && rc != SQLITE_DONE)
        status = st_sql_error(db, "recording progress", err);
    sqlite3_finalize(stmt);
    return status;
}

static gb_status insert_body(st_db *db, const char *sql, const char *id,
                             const char *body, const char *now, int with_hash,
                             gb_error *err)
{
    sqlite3_stmt *stmt = st_prepare(db, sql, err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, id);
    st_bind_text(stmt, 2, body);
    st_bind_text(stmt, 3, now);
    if (with_hash) {
        char hex[65];
        gb_sha256_hex_of(body, strlen(body), hex);
        st_bind_text(stmt, 4, hex);
    }
    gb_status status = step_done(db, stmt, "storing a run's result", err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_run_finish(st_db *db, const char *id, const st_run_outcome *outcome,
                        const st_audit_entry *audit, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char now[ST_TIME_LEN];
    static const char *const ends[] = {"succeeded", "failed", "cancelled",
                                       "interrupted"};
    int known = 0;
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        known |= outcome->status != NULL && strcmp(outcome->status, ends[i]) == 0;
    if (!known)
        return gb_error_set(err, GB_EINTERNAL, "not a final run status");
    st_now(now);
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    stmt = st_prepare(db,
                      "UPDATE runs SET status = ?, error = ?, finished_at = ?, "
                      "fraction = CASE WHEN ?1 = 'succeeded' THEN 1 ELSE fraction END, "
                      "phase = CASE WHEN ?1 = 'succeeded' THEN 'done' ELSE phase END "
                      "WHERE id = ? AND status = 'running'",
                      err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    st_bind_text(stmt, 1, outcome->status);
    st_bind_text(stmt, 2, outcome->error_json);
    st_bind_text(stmt, 3, now);
    st_bind_text(stmt, 4, id);
    status = step_done(db, stmt, "finishing a run", err);
    if (status == GB_OK && sqlite3_changes(db->conn) != 1)
        status = gb_error_set(err, GB_ECONFLICT, "run '%s' is not running", id);
    if (status == GB_OK && outcome->report_json != NULL)
        status = insert_body(
            db, "INSERT INTO reports (run_id, body, created_at) VALUES (?, ?, ?)", id,
            outcome->report_json, now, 0, err);
    if (status == GB_OK && outcome->student_json != NULL)
        status = insert_body(db,
                             "INSERT INTO students (run_id, body, created_at, sha256) "
                             "VALUES (?, ?, ?, ?)",
                             id, outcome->student_json, now, 1, err);
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
done:
    sqlite3_finalize(stmt);
    return st_tx_leave(db, owned, status, err);
}

gb_status st_run_recover(st_db *db, int requeue, size_t *n_recovered, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    st_run *running = NULL;
    size_t n = 0, total = 0;
    char now[ST_TIME_LEN];
    st_run_filter filter = {.status = "running"};
    *n_recovered = 0;
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_run_list(db, &filter, 1000, 0, &running, &n, &total, err);
    st_now(now);
    for (size_t i = 0; status == GB_OK && i < n; i++) {
        if (requeue)
            stmt = st_prepare(db,
                              "UPDATE runs SET status = 'queued', started_at = NULL, "
                              "phase = '', fraction = 0, cancel_requested = 0 "
                              "WHERE id = ?2 AND ?1 IS NOT NULL",
                              err);
        else
            stmt =
                st_prepare(db,
                           "UPDATE runs SET status = 'interrupted', finished_at = ?, "
                           "error = '{\"code\":\"interrupted\",\"message\":\"the "
                           "daemon stopped while the run was in progress\"}' "
                           "WHERE id = ?",
                           err);
        if (stmt != NULL) {
            st_bind_text(stmt, 1, now);
            st_bind_text(stmt, 2, running[i].id);
        }
        status = step_done(db, stmt, "recovering runs", err);
        sqlite3_finalize(stmt);
        stmt = NULL;
        if (status == GB_OK) {
            st_audit_entry entry = {.actor = "system",
                                    .action = requeue ? "run.requeue" : "run.interrupt",
                                    .object = running[i].id,
                                    .details_json = "{\"reason\":\"restart\"}"};
            status = st_audit_append_in_tx(db, &entry, NULL, err);
        }
    }
    st_run_list_free(running, n);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK)
        *n_recovered = n;
    return status;
}

static gb_status read_body(st_db *db, const char *sql, const char *id, const char *what,
                           char **json, gb_error *err)
{
    *json = NULL;
    sqlite3_stmt *stmt = st_prepare(db, sql, err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, id);
    gb_status status = GB_OK;
    int rc = sqlite3_step(stmt), oom = 0;
    if (rc == SQLITE_ROW) {
        *json = st_column_dup(stmt, 0, &oom);
        if (oom)
            status = gb_error_set(err, GB_ENOMEM, "out of memory reading a %s", what);
    } else if (rc == SQLITE_DONE) {
        status = gb_error_set(err, GB_ENOTFOUND, "run '%s' has no %s", id, what);
    } else {
        status = st_sql_error(db, "reading a run's result", err);
    }
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_run_report(st_db *db, const char *id, char **json, gb_error *err)
{
    return read_body(db, "SELECT body FROM reports WHERE run_id = ?", id, "report",
                     json, err);
}

gb_status st_run_student(st_db *db, const char *id, char **json, gb_error *err)
{
    return read_body(db, "SELECT body FROM students WHERE run_id = ?", id,
                     "student artifact", json, err);
}
