/*
 * runners.h - which function executes a run of each kind.
 * Layer: server.
 *
 * The job pool (server/jobs.h) calls srv_run_dispatch for every claimed
 * run; it looks the run's kind up in one table (runners.c) and calls that
 * kind's executor.  A new kind of run is one line in that table plus its
 * executor (usually in api/, which turns the stored configuration into
 * core calls).  A kind without an executor fails with a clear error
 * instead of staying queued.
 */
#ifndef SERVER_RUNNERS_H
#define SERVER_RUNNERS_H

#include "server/jobs.h"

/* A srv_job_run_cb (ctx unused). */
gb_status srv_run_dispatch(void *ctx, const srv_job *job, const gb_progress *progress,
                           srv_job_result *out, gb_error *err);

#endif /* SERVER_RUNNERS_H */
