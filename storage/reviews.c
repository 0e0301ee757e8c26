/*
 * reviews.c - validators' verdicts on runs.
 * Layer: storage.
 */
#include "storage/reviews.h"

#include <stdio.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/runs.h"

void st_review_clear(st_review *review)
{
    if (review == NULL)
        return;
    gb_free(review->comment);
    memset(review, 0, sizeof *review);
}

void st_review_list_free(st_review *items, size_t n)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        st_review_clear(&items[i]);
    gb_free(items);
}

gb_status st_review_insert(st_db *db, st_review *review, const st_audit_entry *audit,
                           gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0;
    char id[ST_ID_LEN], now[ST_TIME_LEN];
    st_run run;
    if (strcmp(review->verdict, "approved") != 0 &&
        strcmp(review->verdict, "rejected") != 0 &&
        strcmp(review->verdict, "needs_changes") != 0) {
        gb_error_set(err, GB_EUNUSABLE,
                     "verdict must be one of approved, rejected, needs_changes");
        gb_error_field(err, "verdict");
        return GB_EUNUSABLE;
    }
    gb_status status = st_new_id("rev_", id, err);
    if (status != GB_OK)
        return status;
    st_now(now);
    status = st_tx_enter(db, &owned, err);
    if (status != GB_OK)
        return status;
    status = st_run_get(db, review->run_id, &run, err);
    st_run_clear(&run);
    if (status == GB_OK) {
        stmt =
            st_prepare(db,
                       "INSERT INTO reviews (id, run_id, verdict, comment, created_at, "
                       "created_by) VALUES (?, ?, ?, ?, ?, ?)",
                       err);
        if (stmt == NULL) {
            status = GB_EIO;
        } else {
            st_bind_text(stmt, 1, id);
            st_bind_text(stmt, 2, review->run_id);
            st_bind_text(stmt, 3, review->verdict);
            st_bind_text(stmt, 4, review->comment != NULL ? review->comment : "");
            st_bind_text(stmt, 5, now);
            st_bind_text(stmt, 6, review->created_by);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                status = st_sql_error(db, "inserting a review", err);
        }
    }
    if (status == GB_OK && audit != NULL)
        status = st_audit_append_in_tx(db, audit, id, err);
    sqlite3_finalize(stmt);
    status = st_tx_leave(db, owned, status, err);
    if (status == GB_OK) {
        memcpy(review->id, id, sizeof id);
        memcpy(review->created_at, now, sizeof now);
    }
    return status;
}

gb_status st_review_list(st_db *db, const char *run_id, size_t limit, size_t offset,
                         st_review **items, size_t *n, size_t *total, gb_error *err)
{
    sqlite3_stmt *stmt = NULL;
    st_review *rows = NULL;
    size_t count = 0;
    int oom = 0;
    gb_status status = GB_OK;
    *items = NULL;
    *n = 0;
    st_page_clamp(&limit);
    status = st_count(db, "SELECT count(*) FROM reviews WHERE run_id = ?", run_id,
                      "counting reviews", total, err);
    if (status != GB_OK)
        return status;
    rows = gb_calloc(limit, sizeof *rows);
    if (rows == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing reviews");
    stmt =
        st_prepare(db,
                   "SELECT id, run_id, verdict, comment, created_at, created_by FROM "
                   "reviews WHERE run_id = ? ORDER BY rowid DESC LIMIT ? OFFSET ?",
                   err);
    if (stmt == NULL) {
        status = GB_EIO;
        goto done;
    }
    st_bind_text(stmt, 1, run_id);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)offset);
    int rc = SQLITE_DONE;
    while (count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        st_review *r = &rows[count++];
        st_column_copy(stmt, 0, r->id, sizeof r->id);
        st_column_copy(stmt, 1, r->run_id, sizeof r->run_id);
        st_column_copy(stmt, 2, r->verdict, sizeof r->verdict);
        r->comment = st_column_dup(stmt, 3, &oom);
        st_column_copy(stmt, 4, r->created_at, sizeof r->created_at);
        st_column_copy(stmt, 5, r->created_by, sizeof r->created_by);
        if (oom) {
            status = gb_error_set(err, GB_ENOMEM, "out of memory listing reviews");
            goto done;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = st_sql_error(db, "listing reviews", err);
done:
    sqlite3_finalize(stmt);
    if (status != GB_OK) {
        st_review_list_free(rows, count);
        return status;
    }
    *items = rows;
    *n = count;
    return GB_OK;
}
