/*
 * internal.h - what the storage sources share and nothing else sees: the handle
 * struct, statement helpers and transaction scoping.
 * Layer: storage (private).
 */
#ifndef STORAGE_INTERNAL_H
#define STORAGE_INTERNAL_H

#include <sqlite3.h>

#include "storage/audit.h"
#include "storage/db.h"

struct st_db {
    sqlite3 *conn;
};

/* Prepares sql on db; on failure sets err (GB_EIO) and returns NULL. */
sqlite3_stmt *st_prepare(st_db *db, const char *sql, gb_error *err);

/* Sets err from the connection's last error; returns GB_EIO (GB_ECONFLICT
 * for constraint violations). */
gb_status st_sql_error(st_db *db, const char *what, gb_error *err);

/* Binds a text value (NULL binds SQL NULL). */
int st_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* Copies column i as text into a fixed buffer ("" for NULL). */
void st_column_copy(sqlite3_stmt *stmt, int i, char *out, size_t cap);
/* Column i as a new gb_malloc'd string, or NULL for SQL NULL; *oom set to 1
 * when allocation failed. */
char *st_column_dup(sqlite3_stmt *stmt, int i, int *oom);

/* Transaction scope that nests: if no transaction is open, BEGIN IMMEDIATE
 * and *owned = 1; otherwise join it (*owned = 0). */
gb_status st_tx_enter(st_db *db, int *owned, gb_error *err);
/* Ends a scope from st_tx_enter: when owned, COMMIT if status is GB_OK,
 * else ROLLBACK.  Returns status, or the commit error. */
gb_status st_tx_leave(st_db *db, int owned, gb_status status, gb_error *err);

/* Appends an audit entry inside the caller's open transaction.  When
 * entry->object is NULL, object is used instead. */
gb_status st_audit_append_in_tx(st_db *db, const st_audit_entry *entry,
                                const char *object, gb_error *err);

/* Clamps list paging: limit 0 -> default 50, max 1000. */
void st_page_clamp(size_t *limit);

/* One count(*) query: sql with at most one text parameter (bind, NULL for
 * none) whose single result row is stored in *out.  On error *out is
 * untouched and err says why (GB_EIO), naming what was being counted
 * ("counting runs"). */
gb_status st_count(st_db *db, const char *sql, const char *bind, const char *what,
                   size_t *out, gb_error *err);

/* How a table of rows backed by a blob (datasets, teachers) is read, listed
 * and deleted; the callbacks take the table's row struct as void *. */
typedef struct st_blob_table {
    const char *noun;       /* "dataset": used in error messages */
    const char *count_sql;  /* count(*) of every row */
    const char *list_sql;   /* every row, newest first, binds LIMIT ? OFFSET ? */
    const char *used_sql;   /* count of runs using the id bound as ?1 */
    const char *delete_sql; /* deletes the row whose id is bound as ?1 */
    size_t row_size;        /* sizeof the row struct */
    /* Fills row from the statement's current result row; on error row owns
     * nothing that its clear callback would not free. */
    gb_status (*read_cb)(sqlite3_stmt *stmt, void *row, gb_error *err);
    /* Reads one row by id (GB_ENOTFOUND if unknown). */
    gb_status (*get_cb)(st_db *db, const char *id, void *row, gb_error *err);
    /* Frees what a row owns and zeroes it. */
    void (*clear_cb)(void *row);
    /* The row's content hash (which blob holds its bytes). */
    const char *(*sha256_cb)(const void *row);
} st_blob_table;

/* A page of table's rows, newest first (limit clamped by st_page_clamp).
 * On success *items is a gb_calloc'd array of *n rows that the caller frees
 * with the table's list_free, and *total counts every row.  On error
 * *items = NULL, *n = 0, nothing is left allocated and err says why. */
gb_status st_blob_table_list(st_db *db, const st_blob_table *table, size_t limit,
                             size_t offset, void **items, size_t *n, size_t *total,
                             gb_error *err);

/* Deletes row id of table in one transaction (joining an open one) unless a
 * run uses it (GB_ECONFLICT naming how many), with the audit entry (may be
 * NULL).  On success row (table->row_size bytes, caller's storage) holds the
 * deleted row, which the caller clears, and *blob_orphaned is 1 when no
 * dataset or teacher references its bytes any more.  On error row owns
 * nothing, *blob_orphaned is 0 and nothing was changed. */
gb_status st_blob_table_delete(st_db *db, const st_blob_table *table, const char *id,
                               const st_audit_entry *audit, void *row,
                               int *blob_orphaned, gb_error *err);

#endif /* STORAGE_INTERNAL_H */
