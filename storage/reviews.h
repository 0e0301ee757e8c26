/*
 * reviews.h - validators' verdicts on runs.
 * Layer: storage.
 */
#ifndef STORAGE_REVIEWS_H
#define STORAGE_REVIEWS_H

#include <stddef.h>

#include "core/base.h"
#include "storage/audit.h"
#include "storage/db.h"

typedef struct st_review {
    char id[ST_ID_LEN];
    char run_id[ST_ID_LEN];
    char verdict[16]; /* approved | rejected | needs_changes */
    char *comment;    /* owned */
    char created_at[ST_TIME_LEN];
    char created_by[ST_NAME_LEN];
} st_review;

/* Frees what a review row owns (not the struct) and zeroes it; NULL is a
 * no-op. */
void st_review_clear(st_review *review);
/* Frees n rows from st_review_list and the array; NULL is a no-op. */
void st_review_list_free(st_review *items, size_t n);

/* Inserts a review (in: run_id, verdict, comment, created_by; out: id,
 * created_at).  GB_ENOTFOUND when the run does not exist; GB_EUNUSABLE
 * for an unknown verdict.  audit is appended in the same transaction. */
gb_status st_review_insert(st_db *db, st_review *review, const st_audit_entry *audit,
                           gb_error *err);

/* Reviews of a run, newest first; *items (n) freed with st_review_list_free. */
gb_status st_review_list(st_db *db, const char *run_id, size_t limit, size_t offset,
                         st_review **items, size_t *n, size_t *total, gb_error *err);

#endif /* STORAGE_REVIEWS_H */
