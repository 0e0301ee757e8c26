/*
 * teachers.c - teacher rows.
 * Layer: storage.
 */
#include "storage/teachers.h"

#include <stddef.h>
#include <stdio.h>
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

static gb_status read_teacher(sqlite3_stmt *stmt, void *row, gb_error *err)
{
    st_teacher *out = row;
    int oom = 0;
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

static void bind_row_cb(sqlite3_stmt *stmt, const void *values, const char *id,
                        const char *created_at)
{
    const st_teacher *row = values;
    st_bind_text(stmt, 1, id);
    st_bind_text(stmt, 2, row->name);
    st_bind_text(stmt, 3, row->kind);
    st_bind_text(stmt, 4, row->sha256);
    st_bind_text(stmt, 5, row->task);
    sqlite3_bind_int64(stmt, 6, row->size_bytes);
    st_bind_text(stmt, 7, created_at);
    st_bind_text(stmt, 8, row->created_by);
    st_bind_text(stmt, 9, row->summary_json != NULL ? row->summary_json : "{}");
}

static void clear_row_cb(void *row)
{
    st_teacher_clear(row);
}

static const st_blob_table TEACHER_TABLE = {
    .noun = "teacher",
    .id_prefix = "tch_",
    .insert_sql =
        "INSERT INTO teachers (" TEACHER_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    .get_sql = "SELECT " TEACHER_COLUMNS " FROM teachers WHERE id = ?",
    .count_sql = "SELECT count(*) FROM teachers",
    .list_sql =
        "SELECT " TEACHER_COLUMNS " FROM teachers ORDER BY rowid DESC LIMIT ? OFFSET ?",
    .used_sql = "SELECT count(*) FROM run_teachers WHERE teacher_id = ?",
    .delete_sql = "DELETE FROM teachers WHERE id = ?",
    .row_size = sizeof(st_teacher),
    .sha256_offset = offsetof(st_teacher, sha256),
    .id_offset = offsetof(st_teacher, id),
    .created_offset = offsetof(st_teacher, created_at),
    .bind_cb = bind_row_cb,
    .read_cb = read_teacher,
    .clear_cb = clear_row_cb,
};

gb_status st_teacher_insert(st_db *db, st_teacher *t, const st_audit_entry *audit,
                            gb_error *err)
{
    return st_blob_table_insert(db, &TEACHER_TABLE, t, audit, err);
}

gb_status st_teacher_find(st_db *db, const char *sha256, st_teacher *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = st_prepare(db,
                                    "SELECT " TEACHER_COLUMNS " FROM teachers WHERE "
                                    "sha256 = ? ORDER BY rowid DESC LIMIT 1",
                                    err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, sha256);
    char what[512];
    snprintf(what, sizeof what, "with sha256 '%s'", sha256);
    gb_status status = st_blob_table_read_one(db, &TEACHER_TABLE, stmt, what, out, err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_teacher_get(st_db *db, const char *id, st_teacher *out, gb_error *err)
{
    return st_blob_table_get(db, &TEACHER_TABLE, id, out, err);
}

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
