/*
 * datasets.c - dataset rows.
 * Layer: storage.
 */
#include "storage/datasets.h"

#include <stddef.h>
#include <string.h>

#include "storage/internal.h"

#define DATASET_COLUMNS                                                                \
    "id, name, sha256, target, task, n_rows, n_columns, size_bytes, created_at, "      \
    "created_by, summary"

void st_dataset_clear(st_dataset *ds)
{
    if (ds == NULL)
        return;
    gb_free(ds->summary_json);
    memset(ds, 0, sizeof *ds);
}

void st_dataset_list_free(st_dataset *items, size_t n)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        st_dataset_clear(&items[i]);
    gb_free(items);
}

static gb_status read_dataset(sqlite3_stmt *stmt, void *row, gb_error *err)
{
    st_dataset *out = row;
    int oom = 0;
    st_column_copy(stmt, 0, out->id, sizeof out->id);
    st_column_copy(stmt, 1, out->name, sizeof out->name);
    st_column_copy(stmt, 2, out->sha256, sizeof out->sha256);
    st_column_copy(stmt, 3, out->target, sizeof out->target);
    st_column_copy(stmt, 4, out->task, sizeof out->task);
    out->n_rows = sqlite3_column_int64(stmt, 5);
    out->n_columns = sqlite3_column_int64(stmt, 6);
    out->size_bytes = sqlite3_column_int64(stmt, 7);
    st_column_copy(stmt, 8, out->created_at, sizeof out->created_at);
    st_column_copy(stmt, 9, out->created_by, sizeof out->created_by);
    out->summary_json = st_column_dup(stmt, 10, &oom);
    if (oom)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a dataset");
    return GB_OK;
}

static void bind_row_cb(sqlite3_stmt *stmt, const void *values, const char *id,
                        const char *created_at)
{
    const st_dataset *row = values;
    st_bind_text(stmt, 1, id);
    st_bind_text(stmt, 2, row->name);
    st_bind_text(stmt, 3, row->sha256);
    st_bind_text(stmt, 4, row->target);
    st_bind_text(stmt, 5, row->task);
    sqlite3_bind_int64(stmt, 6, row->n_rows);
    sqlite3_bind_int64(stmt, 7, row->n_columns);
    sqlite3_bind_int64(stmt, 8, row->size_bytes);
    st_bind_text(stmt, 9, created_at);
    st_bind_text(stmt, 10, row->created_by);
    st_bind_text(stmt, 11, row->summary_json != NULL ? row->summary_json : "{}");
}

static void clear_row_cb(void *row)
{
    st_dataset_clear(row);
}

static const st_blob_table DATASET_TABLE = {
    .noun = "dataset",
    .id_prefix = "ds_",
    .insert_sql = "INSERT INTO datasets (" DATASET_COLUMNS
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    .get_sql = "SELECT " DATASET_COLUMNS " FROM datasets WHERE id = ?",
    .count_sql = "SELECT count(*) FROM datasets",
    .list_sql =
        "SELECT " DATASET_COLUMNS " FROM datasets ORDER BY rowid DESC LIMIT ? OFFSET ?",
    .used_sql = "SELECT count(*) FROM runs WHERE dataset_id = ?",
    .delete_sql = "DELETE FROM datasets WHERE id = ?",
    .row_size = sizeof(st_dataset),
    .sha256_offset = offsetof(st_dataset, sha256),
    .id_offset = offsetof(st_dataset, id),
    .created_offset = offsetof(st_dataset, created_at),
    .bind_cb = bind_row_cb,
    .read_cb = read_dataset,
    .clear_cb = clear_row_cb,
};

gb_status st_dataset_insert(st_db *db, st_dataset *ds, const st_audit_entry *audit,
                            gb_error *err)
{
    return st_blob_table_insert(db, &DATASET_TABLE, ds, audit, err);
}

gb_status st_dataset_find(st_db *db, const char *sha256, const char *target,
                          const char *task, st_dataset *out, gb_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt =
        st_prepare(db,
                   "SELECT " DATASET_COLUMNS " FROM datasets "
                   "WHERE sha256 = ? AND target = ? "
                   "AND (? = '' OR task = ?) ORDER BY rowid DESC LIMIT 1",
                   err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, sha256);
    st_bind_text(stmt, 2, target);
    st_bind_text(stmt, 3, task);
    st_bind_text(stmt, 4, task);
    gb_status status =
        st_blob_table_read_one(db, &DATASET_TABLE, stmt, "with these bytes", out, err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_dataset_get(st_db *db, const char *id, st_dataset *out, gb_error *err)
{
    return st_blob_table_get(db, &DATASET_TABLE, id, out, err);
}

gb_status st_dataset_list(st_db *db, size_t limit, size_t offset, st_dataset **items,
                          size_t *n, size_t *total, gb_error *err)
{
    void *rows = NULL;
    gb_status status =
        st_blob_table_list(db, &DATASET_TABLE, limit, offset, &rows, n, total, err);
    *items = rows;
    return status;
}

gb_status st_dataset_delete(st_db *db, const char *id, const st_audit_entry *audit,
                            st_dataset *deleted, int *blob_orphaned, gb_error *err)
{
    st_dataset ds;
    gb_status status =
        st_blob_table_delete(db, &DATASET_TABLE, id, audit, &ds, blob_orphaned, err);
    if (status != GB_OK)
        return status;
    if (deleted != NULL)
        *deleted = ds;
    else
        st_dataset_clear(&ds);
    return GB_OK;
}
