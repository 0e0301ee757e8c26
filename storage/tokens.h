/*
 * tokens.h - API tokens: roles, creation, authentication, revocation.
 * Layer: storage.
 *
 * A token secret is 32 random bytes shown once as 64 hex digits; only its
 * SHA-256 is stored.  Authentication hashes the presented secret, finds the
 * row by hash and compares the hashes in constant time.
 */
#ifndef STORAGE_TOKENS_H
#define STORAGE_TOKENS_H

#include <stddef.h>

#include "core/base.h"
#include "storage/audit.h"
#include "storage/db.h"

/* Roles as bits, so a route can allow any set of them. */
typedef enum st_role {
    ST_ROLE_NONE = 0,
    ST_ROLE_VIEWER = 1,
    ST_ROLE_VALIDATOR = 2,
    ST_ROLE_MODELER = 4,
    ST_ROLE_ADMIN = 8
} st_role;

#define ST_TOKEN_SECRET_LEN 64

/* "admin", "modeler", "validator", "viewer" ("none" otherwise). */
const char *st_role_name(st_role role);
/* Parses a role name; GB_EUNUSABLE naming the field "role" otherwise. */
gb_status st_role_parse(const char *name, st_role *out, gb_error *err);

typedef struct st_token {
    char id[ST_ID_LEN];
    char name[ST_NAME_LEN];
    st_role role;
    char created_at[ST_TIME_LEN];
    char created_by[ST_NAME_LEN];
    char revoked_at[ST_TIME_LEN]; /* "" while active */
} st_token;

/* Creates a token; *out describes it and secret receives the 64-hex secret
 * (shown once, never stored).  audit may be NULL; its object defaults to
 * the new id.  On error nothing is stored. */
gb_status st_token_create(st_db *db, const char *name, st_role role,
                          const char *created_by, const st_audit_entry *audit,
                          st_token *out, char secret[ST_TOKEN_SECRET_LEN + 1],
                          gb_error *err);

/* Finds the active token whose secret this is.  GB_ENOTFOUND when the
 * secret is unknown or revoked. */
gb_status st_token_authenticate(st_db *db, const char *secret, st_token *out,
                                gb_error *err);

/* One token by id (GB_ENOTFOUND if unknown). */
gb_status st_token_get(st_db *db, const char *id, st_token *out, gb_error *err);

/* Newest first; *items (n entries) freed with gb_free; *total = all tokens. */
gb_status st_token_list(st_db *db, size_t limit, size_t offset, st_token **items,
                        size_t *n, size_t *total, gb_error *err);

/* Revokes a token (idempotent: an already revoked token keeps its time).
 * *out is the token after the call.  GB_ENOTFOUND if unknown. */
gb_status st_token_revoke(st_db *db, const char *id, const st_audit_entry *audit,
                          st_token *out, gb_error *err);

/* Number of tokens ever created (revoked included). */
gb_status st_token_count(st_db *db, size_t *n, gb_error *err);

#endif /* STORAGE_TOKENS_H */
