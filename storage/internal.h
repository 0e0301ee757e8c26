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

#endif /* STORAGE_INTERNAL_H */
