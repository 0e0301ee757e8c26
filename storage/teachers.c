/*
 * teachers.c - teacher rows.
 * Layer: storage.
 */
#include "storage/teachers.h"

#include <string.h>

#include "storage/internal.h"

#define TEACHER_COLUMNS                                                                \
    "id, name, kind, sha256, task, size_bytes, created_at, created_by, summary"

void st_teacher_clear(st_teacher *t)
{
    if (t == NULL)
        return;
    gb_free(t->summary_json);
    memset(t, 0, sizeof *t);
}

void st_teacher_list_free(st_teacher *items, size_t n)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        st_teacher_clear(&items[i]);
    gb_free(items);
}

static gb_status read_teacher(sqlite3_stmt *stmt, st_teacher *out, gb_error *err)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    st_column_copy(stmt, 0, out->id, sizeof out->id);
    st_column_copy(stmt, 1, out->name, sizeof out->name);
    st_column_copy(stmt, 2, out->kind, sizeof out->kind);
    st_column_copy(stmt, 3, out->sha256, sizeof out->sha256);
    st_column_copy(stmt, 4, out->task, sizeof out->task);
    out->size_bytes = sqlite3_column_int64(stmt, 5);
    st_column_copy(stmt, 6, out->created_at, sizeof out->created_at);
    st_column_copy(stmt, 7, out->created_by, sizeof out->created_by);
    out->summary_json = st_column_dup(stmt, 8, &oom);
    if (oom)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a teacher");
    return GB_OK;
}

gb_status st_teacher_insert(st_db *db, st_teacher *t, const st_audit_entry *audit,
                            gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char id[ST_ID_LEN], now[ST_TIME_LEN];
    gb_status status = st_new_id("tch_", id, err);
    if (status != GB_OK)
        return status;
    st_now(now);
    status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    stmt = st_prepare(db,
                      "INSERT INTO teachers (" TEACHER_COLUMNS
                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      err);
    if (stmt == NULL) {
        status = GB_EIO;
    } else {
        st_bind_text(stmt, 1, id);
        st_bind_text(stmt, 2, t->name);
        st_bind_text(stmt, 3, t->kind);
        st_bind_text(stmt, 4, t->sha256);
        st_bind_text(stmt, 5, t->task);
        sqlite3_bind_int64(stmt, 6, t->size_bytes);
        st_bind_text(stmt, 7, now);
        st_bind_text(stmt, 8, t->created_by);
        st_bind_text(stmt, 9, t->summary_json != NULL ? t->summary_json : "{}");
        if (sqlite3_step(stmt) != SQLITE_DONE)
            status = st_sql_error(db, "inserting a teacher", err);
    }
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK) {
        memcpy(t->id, id, sizeof id);
        memcpy(t->created_at, now, sizeof now);
    }
    return status;
}

static gb_status get_one(st_db *db, const char *sql, const char *bind, const char *what,
                         st_teacher *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = st_prepare(db, sql, err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, bind);
    gb_status status = GB_OK;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        status = read_teacher(stmt, out, err);
    else if (rc == SQLITE_DONE)
        status = gb_error_set(err, GB_ENOTFOUND, "no teacher %s '%s'", what, bind);
    else
        status = st_sql_error(db, "reading a teacher", err);
    sqlite3_finalize(stmt);
    if (status != GB_OK)
        st_teacher_clear(out);
    return status;
}

gb_status st_teacher_find(st_db *db, const char *sha256, st_teacher *out, gb_error *err)
{
    return get_one(db,
                   "SELECT " TEACHER_COLUMNS
                   " FROM teachers WHERE sha256 = ? ORDER BY rowid DESC LIMIT 1",
                   sha256, "with sha256", out, err);
}

gb_status st_teacher_get(st_db *db, const char *id, st_teacher *out, gb_error *err)
{
    return get_one(db, "SELECT " TEACHER_COLUMNS " FROM teachers WHERE id = ?", id,
                   "with id", out, err);
}

static gb_status read_row_cb(sqlite3_stmt *stmt, void *row, gb_error *err)
{
    return read_teacher(stmt, row, err);
}

static gb_status get_row_cb(st_db *db, const char *id, void *row, gb_error *err)
{
    return st_teacher_get(db, id, row, err);
}

static void clear_row_cb(void *row)
{
    st_teacher_clear(row);
}

static const char *sha256_row_cb(const void *row)
{
    return ((const st_teacher *)row)->sha256;
}

static const st_blob_table TEACHER_TABLE = {
    .noun = "teacher",
    .count_sql = "SELECT count(*) FROM teachers",
    .list_sql =
        "SELECT " TEACHER_COLUMNS " FROM teachers ORDER BY rowid DESC LIMIT ? OFFSET ?",
    .used_sql = "SELECT count(*) FROM run_teachers WHERE teacher_id = ?",
    .delete_sql = "DELETE FROM teachers WHERE id = ?",
    .row_size = sizeof(st_teacher),
    .read_cb = read_row_cb,
    .get_cb = get_row_cb,
    .clear_cb = clear_row_cb,
    .sha256_cb = sha256_row_cb,
};

gb_status st_teacher_list(st_db *db, size_t limit, size_t offset, st_teacher **items,
                          size_t *n, size_t *total, gb_error *err)
{
    void *rows = NULL;
    gb_status status =
        st_blob_table_list(db, &TEACHER_TABLE, limit, offset, &rows, n, total, err);
    *items = rows;
    return status;
}

gb_status st_teacher_delete(st_db *db, const char *id, const st_audit_entry *audit,
                            st_teacher *deleted, int *blob_orphaned, gb_error *err)
{
    st_teacher t;
    gb_status status =
        st_blob_table_delete(db, &TEACHER_TABLE, id, audit, &t, blob_orphaned, err);
    if (status != GB_OK)
        return status;
    if (deleted != NULL)
        *deleted = t;
    else
        st_teacher_clear(&t);
    return GB_OK;
}
