/*
 * audit.h - the hash-chained audit log.
 * Layer: storage.
 *
 * Each entry (seq, at, actor, action, object, details) stores prev_hash, the
 * hash of the entry before it (64 zeros for the first), and
 *
 *   hash = SHA-256(prev_hash || canonical entry text)
 *
 * where the canonical text is "glassbox-audit-v1\n" followed by each of seq,
 * at, actor, action, object, details as "<byte length>:<bytes>\n" (length
 * prefixes make the encoding unambiguous).  Changing, deleting or
 * reordering any stored entry breaks the chain at that entry, which
 * st_audit_verify reports.
 */
#ifndef STORAGE_AUDIT_H
#define STORAGE_AUDIT_H

#include <stddef.h>

#include "core/base.h"
#include "storage/db.h"

/* What a mutating call records.  Strings are borrowed.  object may be NULL
 * when the storage call creates the object (its new id is used);
 * details_json is compact JSON text ("{}" when NULL). */
typedef struct st_audit_entry {
    const char *actor;
    const char *action;
    const char *object;
    const char *details_json;
} st_audit_entry;

/* A stored entry; strings are owned (free with st_audit_rows_free). */
typedef struct st_audit_row {
    long long seq;
    char at[ST_TIME_LEN];
    char *actor;
    char *action;
    char *object;
    char *details_json;
    char prev_hash[65];
    char hash[65];
} st_audit_row;

/* Result of a chain verification. */
typedef struct st_audit_check {
    int ok;               /* 1 when every link holds */
    long long entries;    /* entries examined */
    long long broken_seq; /* first broken entry's seq (0 when ok) */
    char reason[160];     /* why it is broken ("" when ok) */
    char expected[65];    /* hash the chain expects there */
    char found[65];       /* hash stored there */
} st_audit_check;

/* Appends one entry in its own transaction (object must be non-NULL). */
gb_status st_audit_append(st_db *db, const st_audit_entry *entry, gb_error *err);

/* Newest first: up to limit rows from offset (limit 0 = 50, capped at 1000).
 * On success *rows (n entries, caller frees with st_audit_rows_free) and
 * *total (all entries) are set; on error *rows is NULL. */
gb_status st_audit_list(st_db *db, size_t limit, size_t offset, st_audit_row **rows,
                        size_t *n, size_t *total, gb_error *err);
/* Frees n rows from st_audit_list and the array; NULL is a no-op. */
void st_audit_rows_free(st_audit_row *rows, size_t n);

/* Recomputes the whole chain in seq order and reports the first broken
 * link in *out.  A broken chain is GB_OK with out->ok = 0; errors are only
 * for failures to read. */
gb_status st_audit_verify(st_db *db, st_audit_check *out, gb_error *err);

/* The hash of an entry, as defined above (exposed for tests and tools). */
void st_audit_hash(const char prev_hash[65], long long seq, const char *at,
                   const char *actor, const char *action, const char *object,
                   const char *details_json, char out[65]);

#endif /* STORAGE_AUDIT_H */
