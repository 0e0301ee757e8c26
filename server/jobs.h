/*
 * jobs.h - the worker pool that executes queued runs.
 * Layer: server.
 *
 * Runs (distillation, teacher training, ...) are rows in the database
 * (storage/runs.h).  The pool's workers each open their own database
 * connection, claim the oldest queued run atomically, execute it through
 * one pluggable function (srv_job_run_cb: the pipeline plugs in here) and
 * record the outcome, report and student in one transaction with the final
 * status.  While a run executes, its progress (phase, fraction) is written
 * to the database at most every 200 ms, and its cancel flag is raised by
 * srv_jobs_cancel or by a cancel request seen in the database.
 *
 * Start-up recovery: before workers start, runs left `running` by a
 * previous process become `interrupted` (or `queued` again when
 * requeue_interrupted is set); queued runs are then picked up.
 * srv_jobs_stop raises every cancel flag, waits for the workers and marks
 * the runs they were executing `interrupted`.
 *
 * Outcome of a run from the function's status:
 *   GB_OK                        -> succeeded (report and student stored)
 *   GB_ECANCELLED, stop pending  -> interrupted
 *   GB_ECANCELLED otherwise      -> cancelled
 *   anything else                -> failed, error JSON
 *                                   {"code","message","details":{line,column,field}}
 */
#ifndef SERVER_JOBS_H
#define SERVER_JOBS_H

#include <stddef.h>

#include "core/base.h"
#include "core/progress.h"
#include "storage/audit.h"
#include "storage/db.h"
#include "storage/runs.h"

typedef struct srv_jobs srv_jobs;

/* What a run function is given.  Everything is borrowed for the call. */
typedef struct srv_job {
    const st_run *run;    /* the claimed run: id, kind, config JSON, inputs */
    st_db *db;            /* the worker's own connection (read inputs) */
    const char *data_dir; /* where blobs live */
} srv_job;

/* What a successful run leaves: JSON texts allocated with gb_malloc (or
 * NULL); the pool stores and frees them. */
typedef struct srv_job_result {
    char *report_json;
    char *student_json;
} srv_job_result;

/* Executes one run.  Must poll gb_progress_cancelled(progress) between units
 * of work and return GB_ECANCELLED promptly when it is set; reports
 * progress with gb_progress_report.  On error, fills err and leaves *out
 * empty. */
typedef gb_status (*srv_job_run_cb)(void *ctx, const srv_job *job,
                                    const gb_progress *progress, srv_job_result *out,
                                    gb_error *err);

typedef struct srv_jobs_config {
    const char *db_path; /* the database file (each worker opens it) */
    const char *data_dir;
    unsigned n_workers;      /* >= 1 */
    size_t max_queued;       /* queue bound for srv_jobs_enqueue; 0 = none */
    int requeue_interrupted; /* recovery re-queues instead of interrupting */
    unsigned poll_ms;        /* idle re-check interval; 0 = 1000 */
    srv_job_run_cb run_cb;
    void *run_ctx;
} srv_jobs_config;

/* Recovers interrupted runs, then starts the workers.  On success *out is
 * the pool (stop it with srv_jobs_stop); on error nothing is running. */
gb_status srv_jobs_start(const srv_jobs_config *cfg, srv_jobs **out, gb_error *err);

/* Queues a run (see st_run_enqueue) within the configured bound and wakes a
 * worker.  *queue_full is set (and nothing stored) when the bound is hit. */
gb_status srv_jobs_enqueue(srv_jobs *jobs, st_db *db, st_run *run,
                           const st_audit_entry *audit, int *queue_full, gb_error *err);

/* Wakes idle workers (a run was queued by other means). */
void srv_jobs_notify(srv_jobs *jobs);

/* Raises the cancel flag of a run executing in this pool (no-op
 * otherwise).  The database side is st_run_cancel. */
void srv_jobs_cancel(srv_jobs *jobs, const char *run_id);

/* Number of runs executing right now. */
size_t srv_jobs_active(srv_jobs *jobs);

/* Stops accepting work, cancels and waits for running jobs (marking them
 * interrupted), joins the workers and frees the pool.  NULL is a no-op. */
void srv_jobs_stop(srv_jobs *jobs);

#endif /* SERVER_JOBS_H */
