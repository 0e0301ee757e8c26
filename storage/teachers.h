/*
 * teachers.h - teacher rows: a model file (blob addressed by sha256) with
 * its detected kind, task and the summary JSON rendered at upload.
 * Layer: storage.
 */
#ifndef STORAGE_TEACHERS_H
#define STORAGE_TEACHERS_H

#include <stddef.h>

#include "core/base.h"
#include "storage/audit.h"
#include "storage/db.h"

typedef struct st_teacher {
    char id[ST_ID_LEN];
    char name[ST_NAME_LEN];
    char kind[32]; /* "mlp", "xgboost", "lightgbm", ... */
    char sha256[65];
    char task[16];
    long long size_bytes;
    char created_at[ST_TIME_LEN];
    char created_by[ST_NAME_LEN];
    char *summary_json; /* owned; the teacher object rendered at upload */
} st_teacher;

/* Frees what a row owns (not the struct); NULL is a no-op. */
void st_teacher_clear(st_teacher *t);
/* Frees n rows from st_teacher_list and the array; NULL is a no-op. */
void st_teacher_list_free(st_teacher *items, size_t n);

/* Inserts t (id and created_at filled in; summary_json borrowed) with the
 * audit entry (object = new id) in one transaction. */
gb_status st_teacher_insert(st_db *db, st_teacher *t, const st_audit_entry *audit,
                            gb_error *err);

/* The newest teacher with these bytes (GB_ENOTFOUND if none).  On success
 * the caller frees what *out owns with st_teacher_clear; on error *out owns
 * nothing. */
gb_status st_teacher_find(st_db *db, const char *sha256, st_teacher *out,
                          gb_error *err);

/* One teacher by id (GB_ENOTFOUND if unknown); ownership as
 * st_teacher_find. */
gb_status st_teacher_get(st_db *db, const char *id, st_teacher *out, gb_error *err);

/* Newest first; *items (n) freed with st_teacher_list_free. */
gb_status st_teacher_list(st_db *db, size_t limit, size_t offset, st_teacher **items,
                          size_t *n, size_t *total, gb_error *err);

/* Deletes a teacher unless a run uses it (GB_ECONFLICT).  *blob_orphaned
 * is set when no dataset or teacher references its bytes any more.  When
 * deleted is not NULL it receives the deleted row (caller frees with
 * st_teacher_clear).  On error nothing changed and nothing is handed back. */
gb_status st_teacher_delete(st_db *db, const char *id, const st_audit_entry *audit,
                            st_teacher *deleted, int *blob_orphaned, gb_error *err);

#endif /* STORAGE_TEACHERS_H */
