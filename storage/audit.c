/*
 * audit.c - append to and verify the hash-chained audit log.
 * Layer: storage.
 */
#include "storage/audit.h"

#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "storage/internal.h"

static const char genesis_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void hash_field(gb_sha256 *ctx, const char *text)
{
    char prefix[32];
    size_t len = text != NULL ? strlen(text) : 0;
    int n = snprintf(prefix, sizeof prefix, "%zu:", len);
    gb_sha256_update(ctx, prefix, (size_t)n);
    gb_sha256_update(ctx, text, len);
    gb_sha256_update(ctx, "\n", 1);
}

void st_audit_hash(const char prev_hash[65], long long seq, const char *at,
                   const char *actor, const char *action, const char *object,
                   const char *details_json, char out[65])
{
    gb_sha256 ctx;
    unsigned char digest[32];
    char seq_text[32];
    snprintf(seq_text, sizeof seq_text, "%lld", seq);
    gb_sha256_init(&ctx);
    gb_sha256_update(&ctx, prev_hash, 64);
    gb_sha256_update(&ctx, "glassbox-audit-v1\n", 18);
    hash_field(&ctx, seq_text);
    hash_field(&ctx, at);
    hash_field(&ctx, actor);
    hash_field(&ctx, action);
    hash_field(&ctx, object);
    hash_field(&ctx, details_json);
    gb_sha256_final(&ctx, digest);
    gb_sha256_hex(digest, out);
}

gb_status st_audit_append_in_tx(st_db *db, const st_audit_entry *entry,
                                const char *object, gb_error *err)
{
    sqlite3_stmt *last = NULL, *insert = NULL;
    gb_status status = GB_OK;
    char prev_hash[65], hash[65], at[ST_TIME_LEN];
    long long seq = 1;
    const char *obj = entry->object != NULL ? entry->object : object;
    const char *details = entry->details_json != NULL ? entry->details_json : "{}";
    const char *actor = entry->actor != NULL ? entry->actor : "system";

    memcpy(prev_hash, genesis_hash, sizeof prev_hash);
    last = st_prepare(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", err);
    if (last == NULL)
        return GB_EIO;
    int rc = sqlite3_step(last);
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(last, 0) + 1;
        st_column_copy(last, 1, prev_hash, sizeof prev_hash);
    } else if (rc != SQLITE_DONE) {
        status = st_sql_error(db, "reading the audit log", err);
        goto done;
    }
    st_now(at);
    st_audit_hash(prev_hash, seq, at, actor, entry->action, obj != NULL ? obj : "",
                  details, hash);
    insert = st_prepare(db,
                        "INSERT INTO audit (seq, at, actor, action, object, details, "
                        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        err);
    if (insert == NULL) {
        status = GB_EIO;
        goto done;
    }
    sqlite3_bind_int64(insert, 1, seq);
    st_bind_text(insert, 2, at);
    st_bind_text(insert, 3, actor);
    st_bind_text(insert, 4, entry->action);
    st_bind_text(insert, 5, obj != NULL ? obj : "");
    st_bind_text(insert, 6, details);
    st_bind_text(insert, 7, prev_hash);
    st_bind_text(insert, 8, hash);
    if (sqlite3_step(insert) != SQLITE_DONE)
        status = st_sql_error(db, "appending to the audit log", err);
done:
    sqlite3_finalize(insert);
    sqlite3_finalize(last);
    return status;
}

gb_status st_audit_append(st_db *db, const st_audit_entry *entry, gb_error *err)
{
    int owned = 0;
    if (entry == NULL || entry->action == NULL || entry->object == NULL)
        return gb_error_set(err, GB_EINTERNAL,
                            "audit entry needs an action and object");
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_audit_append_in_tx(db, entry, NULL, err);
    return st_tx_leave(db, owned, status, err);
}

void st_audit_rows_free(st_audit_row *rows, size_t n)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        gb_free(rows[i].actor);
        gb_free(rows[i].action);
        gb_free(rows[i].object);
        gb_free(rows[i].details_json);
    }
    gb_free(rows);
}

gb_status st_audit_list(st_db *db, size_t limit, size_t offset, st_audit_row **rows,
                        size_t *n, size_t *total, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    st_audit_row *items = NULL;
    size_t count = 0;
    int oom = 0;
    gb_status status = GB_OK;
    *rows = NULL;
    *n = 0;
    st_page_clamp(&limit);
    status = st_count(db, "SELECT count(*) FROM audit", NULL, "counting audit entries",
                      total, err);
    if (status != GB_OK)
        return status;
    items = gb_calloc(limit, sizeof *items);
    if (items == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing the audit log");
    stmt = st_prepare(db,
                      "SELECT seq, at, actor, action, object, details, prev_hash, hash "
                      "FROM audit ORDER BY seq DESC LIMIT ? OFFSET ?",
                      err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)offset);
    int rc;
    while (count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        st_audit_row *row = &items[count++];
        row->seq = sqlite3_column_int64(stmt, 0);
        st_column_copy(stmt, 1, row->at, sizeof row->at);
        row->actor = st_column_dup(stmt, 2, &oom);
        row->action = st_column_dup(stmt, 3, &oom);
        row->object = st_column_dup(stmt, 4, &oom);
        row->details_json = st_column_dup(stmt, 5, &oom);
        st_column_copy(stmt, 6, row->prev_hash, sizeof row->prev_hash);
        st_column_copy(stmt, 7, row->hash, sizeof row->hash);
        if (oom) {
            status =
                gb_error_set(err, GB_ENOMEM, "out of memory listing the audit log");
            goto done;
        }
    }
    if (count < limit && rc != SQLITE_DONE)
        status = st_sql_error(db, "listing the audit log", err);
done:
    sqlite3_finalize(stmt);
    if (status != GB_OK) {
        st_audit_rows_free(items, count);
        return status;
    }
    *rows = items;
    *n = count;
    return GB_OK;
}

static void mark_broken(st_audit_check *out, long long seq, const char *reason,
                        const char *expected, const char *found)
{
    out->ok = 0;
    out->broken_seq = seq;
    snprintf(out->reason, sizeof out->reason, "%s", reason);
    snprintf(out->expected, sizeof out->expected, "%s", expected);
    snprintf(out->found, sizeof out->found, "%s", found);
}

gb_status st_audit_verify(st_db *db, st_audit_check *out, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    gb_status status = GB_OK;
    char prev_hash[65], stored_prev[65], stored_hash[65], computed[65];
    long long expect_seq = 1;
    memset(out, 0, sizeof *out);
    out->ok = 1;
    memcpy(prev_hash, genesis_hash, sizeof prev_hash);
    /* One read transaction so the chain is a consistent snapshot. */
    stmt = st_prepare(db,
                      "SELECT seq, at, actor, action, object, details, prev_hash, hash "
                      "FROM audit ORDER BY seq",
                      err);
    if (stmt == NULL)
        return GB_EIO;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        long long seq = sqlite3_column_int64(stmt, 0);
        out->entries++;
        st_column_copy(stmt, 6, stored_prev, sizeof stored_prev);
        st_column_copy(stmt, 7, stored_hash, sizeof stored_hash);
        if (seq != expect_seq) {
            char reason[96];
            snprintf(reason, sizeof reason, "entry %lld is missing (next is %lld)",
                     expect_seq, seq);
            mark_broken(out, expect_seq, reason, prev_hash, stored_prev);
            break;
        }
        if (strcmp(stored_prev, prev_hash) != 0) {
            mark_broken(out, seq, "prev_hash does not match the previous entry's hash",
                        prev_hash, stored_prev);
            break;
        }
        st_audit_hash(prev_hash, seq, (const char *)sqlite3_column_text(stmt, 1),
                      (const char *)sqlite3_column_text(stmt, 2),
                      (const char *)sqlite3_column_text(stmt, 3),
                      (const char *)sqlite3_column_text(stmt, 4),
                      (const char *)sqlite3_column_text(stmt, 5), computed);
        if (strcmp(computed, stored_hash) != 0) {
            mark_broken(out, seq, "entry content does not match its hash", computed,
                        stored_hash);
            break;
        }
        memcpy(prev_hash, stored_hash, sizeof prev_hash);
        expect_seq = seq + 1;
    }
    if (out->ok && rc != SQLITE_DONE)
        status = st_sql_error(db, "verifying the audit log", err);
    sqlite3_finalize(stmt);
    return status;
}
