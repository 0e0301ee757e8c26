/*
 * runs.h - jobs queued in the database (distillation runs, teacher
 * training), their progress, outcome, report and student artifact.
 * Layer: storage.
 *
 * Life cycle:  queued -> running -> succeeded | failed | cancelled
 *                                -> interrupted (daemon stopped or died)
 *              queued -> cancelled
 * Workers claim the oldest queued run atomically (st_run_claim), so several
 * worker threads (or daemons sharing a database) never run the same run
 * twice.  The outcome, report and student are written in one transaction
 * with the final status (st_run_finish).
 */
#ifndef STORAGE_RUNS_H
#define STORAGE_RUNS_H

#include <stddef.h>

#include "core/base.h"
#include "storage/audit.h"
#include "storage/db.h"

#define ST_RUN_MAX_TEACHERS 16

typedef struct st_run {
    char id[ST_ID_LEN];
    char kind[32];              /* "distill", "teacher_train", ... */
    char status[16];            /* see the life cycle above */
    char dataset_id[ST_ID_LEN]; /* "" when the run has no dataset */
    char phase[64];
    double fraction; /* 0..1 */
    int cancel_requested;
    char created_at[ST_TIME_LEN];
    char started_at[ST_TIME_LEN]; /* "" until started */
    char finished_at[ST_TIME_LEN];
    char created_by[ST_NAME_LEN];
    char *config_json; /* owned */
    char *error_json;  /* owned; NULL when no error */
    size_t n_teachers;
    char teacher_ids[ST_RUN_MAX_TEACHERS][ST_ID_LEN];
} st_run;

/* Filters for st_run_list; NULL or "" means any. */
typedef struct st_run_filter {
    const char *status;
    const char *dataset_id;
    const char *teacher_id;
    const char *kind;
} st_run_filter;

/* The end of a run.  status is "succeeded", "failed", "cancelled" or
 * "interrupted"; the JSON texts are borrowed and may be NULL. */
typedef struct st_run_outcome {
    const char *status;
    const char *error_json;
    const char *report_json;
    const char *student_json;
} st_run_outcome;

/* Frees what a run row owns (not the struct); NULL is a no-op. */
void st_run_clear(st_run *run);
/* Frees n rows from st_run_list and the array; NULL is a no-op. */
void st_run_list_free(st_run *items, size_t n);

/* Queues a run.  In: kind, dataset_id (may be ""), config_json,
 * created_by, teacher_ids.  Out: id, status, created_at.  When max_queued
 * > 0 and that many runs are already queued, nothing is stored and
 * *queue_full is set (GB_OK returned).  audit (object = new id) is appended
 * in the same transaction. */
gb_status st_run_enqueue(st_db *db, st_run *run, size_t max_queued,
                         const st_audit_entry *audit, int *queue_full, gb_error *err);

/* One run by id (GB_ENOTFOUND if unknown); *out cleared first. */
gb_status st_run_get(st_db *db, const char *id, st_run *out, gb_error *err);

/* Newest first, filtered; *items (n) freed with st_run_list_free. */
gb_status st_run_list(st_db *db, const st_run_filter *filter, size_t limit,
                      size_t offset, st_run **items, size_t *n, size_t *total,
                      gb_error *err);

/* Number of runs in a status. */
gb_status st_run_count(st_db *db, const char *status, size_t *n, gb_error *err);

/* Requests cancellation: a queued run becomes cancelled at once; a running
 * run gets cancel_requested = 1 (its worker stops it).  GB_ECONFLICT for a
 * run that already ended, GB_ENOTFOUND for an unknown id.  *out is the run
 * after the call (may be NULL). */
gb_status st_run_cancel(st_db *db, const char *id, const st_audit_entry *audit,
                        st_run *out, gb_error *err);

/* Atomically takes the oldest queued run (optionally only of one kind):
 * status -> running, started_at = now.  *claimed = 0 when none is queued. */
gb_status st_run_claim(st_db *db, const char *kind, st_run *out, int *claimed,
                       gb_error *err);

/* Records progress of a running run; *cancel_requested (may be NULL)
 * receives the run's cancel flag. */
gb_status st_run_progress(st_db *db, const char *id, const char *phase, double fraction,
                          int *cancel_requested, gb_error *err);

/* Ends a running run: status, error, report and student in one transaction
 * with the audit entry.  GB_ECONFLICT when the run is not running. */
gb_status st_run_finish(st_db *db, const char *id, const st_run_outcome *outcome,
                        const st_audit_entry *audit, gb_error *err);

/* Start-up recovery: every running run becomes interrupted (or queued
 * again when requeue is nonzero), each with an audit entry by "system".
 * *n_recovered counts them. */
gb_status st_run_recover(st_db *db, int requeue, size_t *n_recovered, gb_error *err);

/* The stored report / student artifact JSON of a run (caller frees *json
 * with gb_free).  GB_ENOTFOUND when the run is unknown or has none; on any
 * error *json is NULL. */
gb_status st_run_report(st_db *db, const char *id, char **json, gb_error *err);
gb_status st_run_student(st_db *db, const char *id, char **json, gb_error *err);

#endif /* STORAGE_RUNS_H */
