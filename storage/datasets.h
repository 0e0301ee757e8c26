/*
 * datasets.h - dataset rows: name, content hash, target, task and the
 * summary JSON rendered at upload time.
 * Layer: storage.
 *
 * The bytes live in a blob (storage/blobs.h) addressed by sha256; a row is
 * inserted only after its blob is durable.  (sha256, target, task) is
 * unique: uploading the same bytes for the same target returns the
 * existing row.
 */
#ifndef STORAGE_DATASETS_H
#define STORAGE_DATASETS_H

#include <stddef.h>

#include "core/base.h"
#include "storage/audit.h"
#include "storage/db.h"

typedef struct st_dataset {
    char id[ST_ID_LEN];
    char name[ST_NAME_LEN];
    char sha256[65];
    char target[ST_NAME_LEN];
    char task[16];
    long long n_rows;
    long long n_columns;
    long long size_bytes;
    char created_at[ST_TIME_LEN];
    char created_by[ST_NAME_LEN];
    char *summary_json; /* owned; the dataset object rendered at upload */
} st_dataset;

/* Frees what a dataset row owns (not the struct); NULL is a no-op. */
void st_dataset_clear(st_dataset *ds);
/* Frees n rows from st_dataset_list and the array; NULL is a no-op. */
void st_dataset_list_free(st_dataset *items, size_t n);

/* Inserts ds (its id and created_at are filled in here; summary_json is
 * borrowed).  Appends audit (object = the new id) in the same transaction.
 * GB_ECONFLICT when the same (sha256, target, task) exists. */
gb_status st_dataset_insert(st_db *db, st_dataset *ds, const st_audit_entry *audit,
                            gb_error *err);

/* The dataset with these bytes and target (task "" = any task), newest
 * first.  GB_ENOTFOUND when there is none.  *out is cleared first; on
 * success the caller frees what it owns with st_dataset_clear, on error it
 * owns nothing. */
gb_status st_dataset_find(st_db *db, const char *sha256, const char *target,
                          const char *task, st_dataset *out, gb_error *err);

/* One dataset by id (GB_ENOTFOUND if unknown); ownership as
 * st_dataset_find. */
gb_status st_dataset_get(st_db *db, const char *id, st_dataset *out, gb_error *err);

/* Newest first; *items (n) freed with st_dataset_list_free; *total = all. */
gb_status st_dataset_list(st_db *db, size_t limit, size_t offset, st_dataset **items,
                          size_t *n, size_t *total, gb_error *err);

/* Deletes a dataset unless a run uses it (GB_ECONFLICT naming how many).
 * *blob_orphaned is set to 1 when no other dataset or teacher references
 * its bytes, so the caller may remove the blob after this returns.  When
 * deleted is not NULL it receives the deleted row (caller frees with
 * st_dataset_clear).  On error nothing changed and nothing is handed back. */
gb_status st_dataset_delete(st_db *db, const char *id, const st_audit_entry *audit,
                            st_dataset *deleted, int *blob_orphaned, gb_error *err);

#endif /* STORAGE_DATASETS_H */
