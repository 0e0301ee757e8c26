/*
 * tokens.c - API tokens stored as SHA-256 hashes.
 * Layer: storage.
 */
#include "storage/tokens.h"

#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "storage/internal.h"

static const struct {
    st_role role;
    const char *name;
} role_names[] = {
    {ST_ROLE_ADMIN, "admin"},
    {ST_ROLE_MODELER, "modeler"},
    {ST_ROLE_VALIDATOR, "validator"},
    {ST_ROLE_VIEWER, "viewer"},
};

const char *st_role_name(st_role role)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == role)
            return role_names[i].name;
    return "none";
}

gb_status st_role_parse(const char *name, st_role *out, gb_error *err)
{
    for (size_t i = 0; name != NULL && i < sizeof role_names / sizeof role_names[0];
         i++)
        if (strcmp(role_names[i].name, name) == 0) {
            *out = role_names[i].role;
            return GB_OK;
        }
    gb_error_set(err, GB_EUNUSABLE,
                 "role must be one of admin, modeler, validator, viewer");
    gb_error_field(err, "role");
    return GB_EUNUSABLE;
}

static void secret_hash(const char *secret, char hex[65])
{
    gb_sha256_hex_of(secret, strlen(secret), hex);
}

/* Compares two equal-length strings without an early exit. */
static int equal_const_time(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

#define TOKEN_COLUMNS "id, name, role, created_at, created_by, revoked_at"

static void read_token(sqlite3_stmt *stmt, st_token *out)
{
    char role[32];
    memset(out, 0, sizeof *out);
    st_column_copy(stmt, 0, out->id, sizeof out->id);
    st_column_copy(stmt, 1, out->name, sizeof out->name);
    st_column_copy(stmt, 2, role, sizeof role);
    st_role_parse(role, &out->role, NULL);
    st_column_copy(stmt, 3, out->created_at, sizeof out->created_at);
    st_column_copy(stmt, 4, out->created_by, sizeof out->created_by);
    st_column_copy(stmt, 5, out->revoked_at, sizeof out->revoked_at);
}

gb_status st_token_create(st_db *db, const char *name, st_role role,
                          const char *created_by, const st_audit_entry *audit,
                          st_token *out, char secret[ST_TOKEN_SECRET_LEN + 1],
                          gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    unsigned char raw[32];
    char hash[65];
    st_token token;
    int owned = 0;
    gb_status status = GB_OK;

    memset(&token, 0, sizeof token);
    if (strcmp(st_role_name(role), "none") == 0)
        return st_role_parse("", &role, err);
    status = st_random_bytes(raw, sizeof raw, err);
    if (status == GB_OK)
        status = st_new_id("tok_", token.id, err);
    if (status != GB_OK)
        return status;
    gb_sha256_hex(raw, secret); /* 32 bytes -> 64 hex digits */
    secret_hash(secret, hash);
    snprintf(token.name, sizeof token.name, "%s", name);
    snprintf(token.created_by, sizeof token.created_by, "%s", created_by);
    token.role = role;
    st_now(token.created_at);

    status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        goto done;
    stmt =
        st_prepare(db,
                   "INSERT INTO tokens (id, name, role, hash, created_at, created_by) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   err);
    if (stmt == NULL) {
        status = GB_EIO;
    } else {
        st_bind_text(stmt, 1, token.id);
        st_bind_text(stmt, 2, token.name);
        st_bind_text(stmt, 3, st_role_name(role));
        st_bind_text(stmt, 4, hash);
        st_bind_text(stmt, 5, token.created_at);
        st_bind_text(stmt, 6, token.created_by);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            status = st_sql_error(db, "creating a token", err);
    }
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, token.id, err);
    status = st_tx_leave(db, owned, status, err);
done:
    sqlite3_finalize(stmt);
    memset(raw, 0, sizeof raw);
    if (status != GB_OK) {
        memset(secret, 0, ST_TOKEN_SECRET_LEN + 1);
        return status;
    }
    *out = token;
    return GB_OK;
}

gb_status st_token_authenticate(st_db *db, const char *secret, st_token *out,
                                gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    char hash[65], stored[65];
    gb_status status = GB_OK;
    if (secret == NULL || strlen(secret) != ST_TOKEN_SECRET_LEN)
        return gb_error_set(err, GB_ENOTFOUND, "unknown token");
    secret_hash(secret, hash);
    stmt = st_prepare(db,
                      "SELECT " TOKEN_COLUMNS ", hash FROM tokens WHERE hash = ? "
                      "AND revoked_at IS NULL",
                      err);
    if (stmt == NULL)
        return GB_EIO;
    st_bind_text(stmt, 1, hash);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        st_column_copy(stmt, 6, stored, sizeof stored);
        if (strlen(stored) == 64 && equal_const_time(stored, hash, 64))
            read_token(stmt, out);
        else
            status = gb_error_set(err, GB_ENOTFOUND, "unknown token");
    } else if (rc == SQLITE_DONE) {
        status = gb_error_set(err, GB_ENOTFOUND, "unknown or revoked token");
    } else {
        status = st_sql_error(db, "authenticating", err);
    }
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_token_get(st_db *db, const char *id, st_token *out, gb_error *err)
{
    sqlite3_stmt *stmt =
        st_prepare(db, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?", err);
    if (stmt == NULL)
        return GB_EIO;
    gb_status status = GB_OK;
    st_bind_text(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_token(stmt, out);
    else if (rc == SQLITE_DONE)
        status = gb_error_set(err, GB_ENOTFOUND, "no token with id '%s'", id);
    else
        status = st_sql_error(db, "reading a token", err);
    sqlite3_finalize(stmt);
    return status;
}

gb_status st_token_count(st_db *db, size_t *n, gb_error *err)
{
    return st_count(db, "SELECT count(*) FROM tokens", NULL, "counting tokens", n, err);
}

gb_status st_token_list(st_db *db, size_t limit, size_t offset, st_token **items,
                        size_t *n, size_t *total, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    st_token *tokens = NULL;
    size_t count = 0;
    gb_status status = GB_OK;
    *items = NULL;
    *n = 0;
    st_page_clamp(&limit);
    status = st_token_count(db, total, err);
    if (status != GB_OK)
        return status;
    tokens = gb_calloc(limit, sizeof *tokens);
    if (tokens == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing tokens");
    stmt = st_prepare(
        db, "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY rowid DESC LIMIT ? OFFSET ?",
        err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)offset);
    int rc = SQLITE_DONE;
    while (count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        read_token(stmt, &tokens[count++]);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = st_sql_error(db, "listing tokens", err);
done:
    sqlite3_finalize(stmt);
    if (status != GB_OK) {
        gb_free(tokens);
        return status;
    }
    *items = tokens;
    *n = count;
    return GB_OK;
}

gb_status st_token_revoke(st_db *db, const char *id, const st_audit_entry *audit,
                          st_token *out, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    char now[ST_TIME_LEN];
    int owned = 0;
    st_token token;
    memset(&token, 0, sizeof token);
    gb_status status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_token_get(db, id, &token, err);
    if (status == GB_OK && token.revoked_at[0] == '\0') {
        st_now(now);
        stmt = st_prepare(db, "UPDATE tokens SET revoked_at = ? WHERE id = ?", err);
        if (stmt == NULL) {
            status = GB_EIO;
        } else {
            st_bind_text(stmt, 1, now);
            st_bind_text(stmt, 2, id);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                status = st_sql_error(db, "revoking a token", err);
            else
                snprintf(token.revoked_at, sizeof token.revoked_at, "%s", now);
        }
        if (status == GB_OK && audit != NULL)
            status = st_audit_append_in_tx(db, audit, id, err);
    }
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK)
        *out = token;
    return status;
}
