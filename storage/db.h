/*
 * db.h - the glassbox store: one SQLite database handle per thread, schema
 * migrations, transactions, ids and timestamps.
 * Layer: storage (the only layer that calls sqlite3_*; nothing above sees a
 * sqlite3 type, so a PostgreSQL backend can replace this directory).
 *
 * A handle is used by one thread at a time (open one per thread or take
 * them from a pool).  st_db_open sets WAL journaling, a busy timeout and
 * foreign keys, and brings the schema up to date: migration k moves
 * `PRAGMA user_version` from k-1 to k, each in its own transaction, so a
 * crash mid-migration leaves the previous version intact.
 *
 * Mutating functions in the other storage headers take an optional
 * st_audit_entry (storage/audit.h) and append it in the same transaction as
 * the change, so the audit log and the data never disagree.
 *
 * One rule for every st_* function that returns gb_status: GB_OK on
 * success; otherwise err (which may be NULL) says what failed -- GB_EIO for
 * a database or file error, GB_ENOMEM, GB_ENOTFOUND / GB_ECONFLICT /
 * GB_EUNUSABLE where a function says so -- a write changed nothing (its
 * transaction was rolled back), and out-parameters own nothing (lists are
 * NULL with 0 items).  Strings passed in are borrowed; rows handed out are
 * freed with the _clear / _list_free function named next to them.
 */
#ifndef STORAGE_DB_H
#define STORAGE_DB_H

#include <stddef.h>

#include "core/base.h"

typedef struct st_db st_db;

/* Current schema version (the number of migrations). */
#define ST_SCHEMA_VERSION 1

/* Sizes of the fixed text buffers used in storage rows. */
#define ST_ID_LEN 40    /* "ds_" + 24 hex, NUL included, with room */
#define ST_TIME_LEN 32  /* RFC 3339 UTC with milliseconds */
#define ST_NAME_LEN 256 /* names, targets, actors (API caps them lower) */

/* Opens (creating if needed) the database file at path and migrates it.
 * On success *out is a handle the caller closes with st_db_close.  On error
 * *out is NULL and err says why (GB_EIO for SQLite/file errors, GB_EINPUT
 * when the file is from a newer glassbox). */
gb_status st_db_open(const char *path, st_db **out, gb_error *err);

/* Closes the handle (finalizing cached statements); NULL is a no-op. */
void st_db_close(st_db *db);

/* The schema version of the open database (PRAGMA user_version). */
int st_db_version(st_db *db);

/* A cheap round trip to the database (for health checks). */
gb_status st_db_ping(st_db *db, gb_error *err);

/* Runs `PRAGMA integrity_check`; GB_EIO with the first problem if not ok. */
gb_status st_db_integrity_check(st_db *db, gb_error *err);

/* Copies the live database to dest_path with SQLite's online backup (safe
 * while other connections write).  dest_path is overwritten. */
gb_status st_db_backup(st_db *db, const char *dest_path, gb_error *err);

/* Current UTC time as RFC 3339 with milliseconds ("2024-05-01T12:00:00.123Z"). */
void st_now(char out[ST_TIME_LEN]);

/* n random bytes from the kernel (/dev/urandom).  GB_EIO on failure. */
gb_status st_random_bytes(void *buf, size_t n, gb_error *err);

/* A new opaque id: prefix followed by 24 random hex digits. */
gb_status st_new_id(const char *prefix, char out[ST_ID_LEN], gb_error *err);

#endif /* STORAGE_DB_H */
