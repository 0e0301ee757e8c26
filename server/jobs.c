/*
 * jobs.c - worker pool over the database run queue.
 * Layer: server.
 */
#include "server/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/json.h"

#define PROGRESS_INTERVAL_MS 200

typedef struct worker {
    srv_jobs *jobs;
    pthread_t thread;
    int started;
    /* The run this worker executes ("" when idle), guarded by jobs->lock. */
    char run_id[ST_ID_LEN];
    atomic_int cancel;
} worker;

struct srv_jobs {
    srv_jobs_config cfg;
    char *db_path;
    char *data_dir;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    unsigned long pending; /* notifications not yet consumed */
    size_t n_workers;
    worker *workers;
};

/* Progress state for one executing run. */
typedef struct progress_ctx {
    worker *w;
    st_db *db;
    const char *run_id;
    char last_phase[64];
    struct timespec last_write;
} progress_ctx;

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 +
           (long)(now.tv_nsec - since->tv_nsec) / 1000000;
}

static void progress_cb(void *ctx, const char *phase, double fraction)
{
    progress_ctx *p = ctx;
    const char *name = phase != NULL ? phase : "";
    if (strcmp(name, p->last_phase) == 0 &&
        elapsed_ms(&p->last_write) < PROGRESS_INTERVAL_MS)
        return;
    int cancel_requested = 0;
    gb_error err;
    if (st_run_progress(p->db, p->run_id, name, fraction, &cancel_requested, &err) ==
            GB_OK &&
        cancel_requested)
        atomic_store(&p->w->cancel, 1);
    snprintf(p->last_phase, sizeof p->last_phase, "%s", name);
    clock_gettime(CLOCK_MONOTONIC, &p->last_write);
}

/* {"code","message","details":{...}} for a failed run; gb_malloc'd. */
static char *error_json(const gb_error *err, gb_status status)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    if (root == NULL)
        return NULL;
    cJSON_AddStringToObject(root, "code", gb_status_name(status));
    cJSON_AddStringToObject(root, "message",
                            err->message[0] ? err->message : gb_status_name(status));
    cJSON *details = cJSON_AddObjectToObject(root, "details");
    if (details != NULL) {
        if (err->line > 0)
            cJSON_AddNumberToObject(details, "line", (double)err->line);
        if (err->column > 0)
            cJSON_AddNumberToObject(details, "column", (double)err->column);
        if (err->field[0])
            cJSON_AddStringToObject(details, "field", err->field);
    }
    text = gb_json_print(root, 0);
    cJSON_Delete(root);
    return text;
}

static void execute(worker *w, st_db *db, st_run *run)
{
    srv_jobs *jobs = w->jobs;
    srv_job_result result = {NULL, NULL};
    progress_ctx pctx;
    gb_error err;
    char *error_text = NULL;
    gb_error_clear(&err);
    memset(&pctx, 0, sizeof pctx);
    pctx.w = w;
    pctx.db = db;
    pctx.run_id = run->id;
    clock_gettime(CLOCK_MONOTONIC, &pctx.last_write);
    snprintf(pctx.last_phase, sizeof pctx.last_phase, "%s", run->phase);
    gb_progress progress = {progress_cb, &pctx, &w->cancel};
    srv_job job = {run, db, jobs->data_dir};

    gb_status status =
        jobs->cfg.run_cb(jobs->cfg.run_ctx, &job, &progress, &result, &err);

    pthread_mutex_lock(&jobs->lock);
    int stopping = jobs->stopping;
    pthread_mutex_unlock(&jobs->lock);

    st_run_outcome outcome = {NULL, NULL, NULL, NULL};
    if (status == GB_OK) {
        outcome.status = "succeeded";
        outcome.report_json = result.report_json;
        outcome.student_json = result.student_json;
    } else if (status == GB_ECANCELLED && stopping) {
        outcome.status = "interrupted";
        outcome.error_json =
            "{\"code\":\"interrupted\",\"message\":\"the daemon stopped "
            "while the run was in progress\",\"details\":{}}";
    } else if (status == GB_ECANCELLED) {
        outcome.status = "cancelled";
        outcome.error_json = "{\"code\":\"cancelled\",\"message\":\"cancelled on "
                             "request\",\"details\":{}}";
    } else {
        outcome.status = "failed";
        error_text = error_json(&err, status);
        outcome.error_json = error_text != NULL
                                 ? error_text
                                 : "{\"code\":\"failed\",\"message\":\"run failed\"}";
    }
    char action[48];
    snprintf(action, sizeof action, "run.%s", outcome.status);
    st_audit_entry audit = {
        .actor = "system", .action = action, .object = run->id, .details_json = NULL};
    gb_error ferr;
    gb_status fst = st_run_finish(db, run->id, &outcome, &audit, &ferr);
    if (fst != GB_OK && status == GB_OK) {
        /* The result could not be stored (too large, disk full): fail the
         * run so it never looks finished without its report. */
        gb_free(error_text);
        error_text = error_json(&ferr, fst);
        st_run_outcome failed = {"failed", error_text, NULL, NULL};
        snprintf(action, sizeof action, "run.failed");
        fst = st_run_finish(db, run->id, &failed, &audit, &ferr);
    }
    if (fst != GB_OK)
        fprintf(stderr,
                "{\"level\":\"error\",\"msg\":\"cannot record run outcome\","
                "\"run\":\"%s\"}\n",
                run->id);
    gb_free(error_text);
    gb_free(result.report_json);
    gb_free(result.student_json);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    srv_jobs *jobs = w->jobs;
    st_db *db = NULL;
    gb_error err;
    if (st_db_open(jobs->db_path, &db, &err) != GB_OK) {
        fprintf(stderr,
                "{\"level\":\"error\",\"msg\":\"worker cannot open database\"}\n");
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&jobs->lock);
        int stopping = jobs->stopping;
        pthread_mutex_unlock(&jobs->lock);
        if (stopping)
            break;
        st_run run;
        int claimed = 0;
        if (st_run_claim(db, NULL, &run, &claimed, &err) == GB_OK && claimed) {
            pthread_mutex_lock(&jobs->lock);
            snprintf(w->run_id, sizeof w->run_id, "%s", run.id);
            atomic_store(&w->cancel, run.cancel_requested || jobs->stopping);
            pthread_mutex_unlock(&jobs->lock);
            execute(w, db, &run);
            pthread_mutex_lock(&jobs->lock);
            w->run_id[0] = '\0';
            pthread_mutex_unlock(&jobs->lock);
            st_run_clear(&run);
            continue;
        }
        /* Nothing queued: sleep until notified or the poll interval. */
        pthread_mutex_lock(&jobs->lock);
        if (jobs->pending == 0 && !jobs->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            unsigned ms = jobs->cfg.poll_ms ? jobs->cfg.poll_ms : 1000;
            until.tv_sec += ms / 1000;
            until.tv_nsec += (long)(ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&jobs->wake, &jobs->lock, &until);
        }
        if (jobs->pending > 0)
            jobs->pending--;
        pthread_mutex_unlock(&jobs->lock);
    }
    st_db_close(db);
    return NULL;
}

gb_status srv_jobs_start(const srv_jobs_config *cfg, srv_jobs **out, gb_error *err)
{
    srv_jobs *jobs = NULL;
    st_db *db = NULL;
    size_t n_recovered = 0;
    gb_status status = GB_OK;
    *out = NULL;
    if (cfg->n_workers == 0 || cfg->run_cb == NULL || cfg->db_path == NULL)
        return gb_error_set(err, GB_EINTERNAL,
                            "job pool needs workers and a run function");
    status = st_db_open(cfg->db_path, &db, err);
    if (status == GB_OK)
        status = st_run_recover(db, cfg->requeue_interrupted, &n_recovered, err);
    st_db_close(db);
    if (status != GB_OK)
        return status;
    if (n_recovered > 0)
        fprintf(
            stderr,
            "{\"level\":\"info\",\"msg\":\"recovered runs left running\",\"count\":%zu,"
            "\"as\":\"%s\"}\n",
            n_recovered, cfg->requeue_interrupted ? "queued" : "interrupted");

    jobs = gb_calloc(1, sizeof *jobs);
    if (jobs == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory starting the job pool");
    jobs->cfg = *cfg;
    jobs->db_path = gb_strdup(cfg->db_path);
    jobs->data_dir = gb_strdup(cfg->data_dir != NULL ? cfg->data_dir : ".");
    jobs->workers = gb_calloc(cfg->n_workers, sizeof *jobs->workers);
    if (jobs->db_path == NULL || jobs->data_dir == NULL || jobs->workers == NULL) {
        gb_free(jobs->db_path);
        gb_free(jobs->data_dir);
        gb_free(jobs->workers);
        gb_free(jobs);
        return gb_error_set(err, GB_ENOMEM, "out of memory starting the job pool");
    }
    jobs->cfg.db_path = jobs->db_path;
    jobs->cfg.data_dir = jobs->data_dir;
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_cond_init(&jobs->wake, NULL);
    jobs->n_workers = cfg->n_workers;
    for (size_t i = 0; i < jobs->n_workers; i++) {
        worker *w = &jobs->workers[i];
        w->jobs = jobs;
        atomic_init(&w->cancel, 0);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            status = gb_error_set(err, GB_EIO, "cannot start worker thread: %s",
                                  strerror(errno));
            break;
        }
        w->started = 1;
    }
    if (status != GB_OK) {
        srv_jobs_stop(jobs);
        return status;
    }
    *out = jobs;
    return GB_OK;
}

void srv_jobs_notify(srv_jobs *jobs)
{
    if (jobs == NULL)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->pending++;
    pthread_cond_signal(&jobs->wake);
    pthread_mutex_unlock(&jobs->lock);
}

gb_status srv_jobs_enqueue(srv_jobs *jobs, st_db *db, st_run *run,
                           const st_audit_entry *audit, int *queue_full, gb_error *err)
{
    gb_status status =
        st_run_enqueue(db, run, jobs->cfg.max_queued, audit, queue_full, err);
    if (status == GB_OK && !*queue_full)
        srv_jobs_notify(jobs);
    return status;
}

void srv_jobs_cancel(srv_jobs *jobs, const char *run_id)
{
    if (jobs == NULL || run_id == NULL)
        return;
    pthread_mutex_lock(&jobs->lock);
    for (size_t i = 0; i < jobs->n_workers; i++)
        if (strcmp(jobs->workers[i].run_id, run_id) == 0)
            atomic_store(&jobs->workers[i].cancel, 1);
    pthread_mutex_unlock(&jobs->lock);
}

size_t srv_jobs_active(srv_jobs *jobs)
{
    size_t n = 0;
    pthread_mutex_lock(&jobs->lock);
    for (size_t i = 0; i < jobs->n_workers; i++)
        n += jobs->workers[i].run_id[0] != '\0';
    pthread_mutex_unlock(&jobs->lock);
    return n;
}

void srv_jobs_stop(srv_jobs *jobs)
{
    if (jobs == NULL)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->stopping = 1;
    for (size_t i = 0; i < jobs->n_workers; i++)
        atomic_store(&jobs->workers[i].cancel, 1);
    pthread_cond_broadcast(&jobs->wake);
    pthread_mutex_unlock(&jobs->lock);
    for (size_t i = 0; i < jobs->n_workers; i++)
        if (jobs->workers[i].started)
            pthread_join(jobs->workers[i].thread, NULL);
    pthread_cond_destroy(&jobs->wake);
    pthread_mutex_destroy(&jobs->lock);
    gb_free(jobs->workers);
    gb_free(jobs->db_path);
    gb_free(jobs->data_dir);
    gb_free(jobs);
}
