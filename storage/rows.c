/*
 * rows.c - what the tables of blob-backed rows (datasets, teachers) share:
 * insert with a new id and its audit entry, reading one row, counting,
 * paged listing and the guarded delete that reports an orphaned blob.
 * Each table describes itself with an st_blob_table.
 * Layer: storage (private).
 */
#include <stdio.h>
#include <string.h>

#include "storage/internal.h"

gb_status st_count(st_db *db, const char *sql, const char *bind, const char *what,
                   size_t *out, gb_error *err)
{
    sqlite3_stmt *stmt = st_prepare(db, sql, err);
    if (stmt == NULL)
        return GB_EIO;
    if (bind != NULL)
        st_bind_text(stmt, 1, bind);
    gb_status status = GB_OK;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *out = (size_t)sqlite3_column_int64(stmt, 0);
    else
        status = st_sql_error(db, what, err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_blob_table_insert(st_db *db, const st_blob_table *table, void *row,
                               const st_audit_entry *audit, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char id[ST_ID_LEN], now[ST_TIME_LEN];
    gb_status status = st_new_id(table->id_prefix, id, err);
    if (status != GB_OK)
        return status;
    st_now(now);
    status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    stmt = st_prepare(db, table->insert_sql, err);
    if (stmt == NULL) {
        status = GB_EIO;
    } else {
        table->bind_cb(stmt, row, id, now);
        if (sqlite3_step(stmt) != SQLITE_DONE) {
            char doing[64];
            snprintf(doing, sizeof doing, "inserting a %s", table->noun);
            status = st_sql_error(db, doing, err);
        }
    }
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK) {
        memcpy((char *)row + table->id_offset, id, sizeof id);
        memcpy((char *)row + table->created_offset, now, sizeof now);
    }
    return status;
}

gb_status st_blob_table_read_one(st_db *db, const st_blob_table *table,
                                 sqlite3_stmt *stmt, const char *what, void *row,
                                 gb_error *err)
{
    memset(row, 0, table->row_size);
    gb_status status = GB_OK;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        status = table->read_cb(stmt, row, err);
    } else if (rc == SQLITE_DONE) {
        status = gb_error_set(err, GB_ENOTFOUND, "no %s %s", table->noun, what);
    } else {
        char doing[64];
        snprintf(doing, sizeof doing, "reading a %s", table->noun);
        status = st_sql_error(db, doing, err);
    }
    if (status != GB_OK)
        table->clear_cb(row);
    return status;
}

gb_status st_blob_table_get(st_db *db, const st_blob_table *table, const char *id,
                            void *row, gb_error *err)
{
    memset(row, 0, table->row_size);
    sqlite3_stmt *stmt = st_prepare(db, table->get_sql, err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, id);
    char what[512];
    snprintf(what, sizeof what, "with id '%s'", id);
    gb_status status = st_blob_table_read_one(db, table, stmt, what, row, err);
    sqlite3_finalize(stmt);
    return status;
}

static void rows_free(const st_blob_table *table, char *rows, size_t n)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        table->clear_cb(rows + i * table->row_size);
    gb_free(rows);
}

gb_status st_blob_table_list(st_db *db, const st_blob_table *table, size_t limit,
                             size_t offset, void **items, size_t *n, size_t *total,
                             gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    char *rows = NULL;
    size_t count = 0;
    *items = NULL;
    *n = 0;
    st_page_clamp(&limit);
    gb_status status = st_count(db, table->count_sql, NULL, "counting", total, err);
    if (status != GB_OK)
        return status;
    rows = gb_calloc(limit, table->row_size);
    if (rows == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing %ss", table->noun);
    stmt = st_prepare(db, table->list_sql, err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)offset);
    int rc = SQLITE_DONE;
    while (status == GB_OK && count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        status = table->read_cb(stmt, rows + (count++) * table->row_size, err);
    if (status == GB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        char what[64];
        snprintf(what, sizeof what, "listing %ss", table->noun);
        status = st_sql_error(db, what, err);
    }
done:
    sqlite3_finalize(stmt);
    if (status != GB_OK) {
        rows_free(table, rows, count);
        return status;
    }
    *items = rows;
    *n = count;
    return GB_OK;
}

gb_status st_blob_table_delete(st_db *db, const st_blob_table *table, const char *id,
                               const st_audit_entry *audit, void *row,
                               int *blob_orphaned, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    size_t n_runs = 0, n_same = 0;
    memset(row, 0, table->row_size);
    *blob_orphaned = 0;
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_blob_table_get(db, table, id, row, err);
    if (status == GB_OK)
        status = st_count(db, table->used_sql, id, "counting", &n_runs, err);
    if (status == GB_OK && n_runs > 0)
        status = gb_error_set(err, GB_ECONFLICT,
                              "%s '%s' is used by %zu run(s); delete is refused",
                              table->noun, id, n_runs);
    if (status == GB_OK) {
        stmt = st_prepare(db, table->delete_sql, err);
        if (stmt == NULL) {
            status = GB_EIO;
        } else {
            st_bind_text(stmt, 1, id);
            if (sqlite3_step(stmt) != SQLITE_DONE) {
                char what[64];
                snprintf(what, sizeof what, "deleting a %s", table->noun);
                status = st_sql_error(db, what, err);
            }
        }
    }
    if (status == GB_OK)
        status = st_count(db,
                          "SELECT (SELECT count(*) FROM datasets WHERE sha256 = ?1) + "
                          "(SELECT count(*) FROM teachers WHERE sha256 = ?1)",
                          (const char *)row + table->sha256_offset, "counting", &n_same,
                          err);
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status != GB_OK) {
        table->clear_cb(row);
        return status;
    }
    *blob_orphaned = n_same == 0;
    return GB_OK;
}
