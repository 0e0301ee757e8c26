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

/* How a table of rows backed by a blob (datasets, teachers) is inserted,
 * read, listed and deleted; the callbacks take the table's row struct as
 * void *. */
typedef struct st_blob_table {
    const char *noun;       /* "dataset": used in error messages */
    const char *id_prefix;  /* "ds_": new ids are this plus 24 hex digits */
    const char *insert_sql; /* inserts one row; its values bound by bind_cb */
    const char *get_sql;    /* the row whose id is bound as ?1 */
    const char *count_sql;  /* count(*) of every row */
    const char *list_sql;   /* every row, newest first, binds LIMIT ? OFFSET ? */
    const char *used_sql;   /* count of runs using the id bound as ?1 */
    const char *delete_sql; /* deletes the row whose id is bound as ?1 */
    size_t row_size;        /* sizeof the row struct */
    size_t sha256_offset;   /* offsetof the row's char sha256[65] */
    size_t id_offset;       /* offsetof the row's char id[ST_ID_LEN] */
    size_t created_offset;  /* offsetof the row's char created_at[ST_TIME_LEN] */
    /* Binds every value of insert_sql from row, with the new id and the
     * creation time in place of the row's own. */
    void (*bind_cb)(sqlite3_stmt *stmt, const void *row, const char *id,
                    const char *created_at);
    /* Fills a zeroed row from the statement's current result row; on error
     * row owns nothing that clear_cb would not free. */
    gb_status (*read_cb)(sqlite3_stmt *stmt, void *row, gb_error *err);
    /* Frees what a row owns and zeroes it. */
    void (*clear_cb)(void *row);
} st_blob_table;

/* Inserts row into table with a new id and created_at (written into row
 * on success only) and the audit entry (object = the new id; may be NULL),
 * in one transaction (joining an open one).  Pointers in row are borrowed.
 * GB_ECONFLICT when a uniqueness constraint refuses the row; on any error
 * nothing is written and row is unchanged. */
gb_status st_blob_table_insert(st_db *db, const st_blob_table *table, void *row,
                               const st_audit_entry *audit, gb_error *err);

/* Steps stmt (prepared and bound by the caller, who finalizes it) for one
 * row of table into row (zeroed first).  GB_ENOTFOUND with "no <noun>
 * <what>" when there is none; on any error row owns nothing. */
gb_status st_blob_table_read_one(st_db *db, const st_blob_table *table,
                                 sqlite3_stmt *stmt, const char *what, void *row,
                                 gb_error *err);

/* One row of table by id into row (zeroed first): GB_ENOTFOUND "no <noun>
 * with id '<id>'" when unknown.  On success the caller clears row; on error
 * it owns nothing. */
gb_status st_blob_table_get(st_db *db, const st_blob_table *table, const char *id,
                            void *row, gb_error *err);

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
