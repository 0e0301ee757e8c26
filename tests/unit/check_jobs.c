/*
 * check_jobs.c - the worker pool over the run queue, driven by injected run
 * functions (no teacher, no pipeline): success, failure, cancel (in memory
 * and through the database), stop -> interrupted, restart recovery, queue
 * bound.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/jobs.h"
#include "storage/audit.h"
#include "storage/datasets.h"
#include "storage/db.h"
#include "storage/runs.h"

static char tmp_dir[256];
static char db_path[300];
static char dataset_id[ST_ID_LEN];

static void setup(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/gb-jobs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", tmp_dir);
    st_db *db = NULL;
    gb_error err;
    ck_assert_int_eq(st_db_open(db_path, &db, &err), GB_OK);
    st_dataset ds;
    memset(&ds, 0, sizeof ds);
    snprintf(ds.sha256, sizeof ds.sha256, "%064d", 7);
    snprintf(ds.target, sizeof ds.target, "y");
    snprintf(ds.task, sizeof ds.task, "binary");
    ck_assert_int_eq(st_dataset_insert(db, &ds, NULL, &err), GB_OK);
    snprintf(dataset_id, sizeof dataset_id, "%s", ds.id);
    st_db_close(db);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static st_db *open_db(void)
{
    st_db *db = NULL;
    gb_error err;
    ck_assert_int_eq(st_db_open(db_path, &db, &err), GB_OK);
    return db;
}

static void queue_run(st_db *db, const char *config, char id[ST_ID_LEN])
{
    st_run run;
    gb_error err;
    int full = 0;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", dataset_id);
    snprintf(run.created_by, sizeof run.created_by, "tester");
    run.config_json = (char *)config;
    ck_assert_int_eq(st_run_enqueue(db, &run, 0, NULL, &full, &err), GB_OK);
    snprintf(id, ST_ID_LEN, "%s", run.id);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until the run reaches status (5 s at most); returns the run. */
static void wait_status(st_db *db, const char *id, const char *status, st_run *out)
{
    gb_error err;
    for (int i = 0; i < 500; i++) {
        ck_assert_int_eq(st_run_get(db, id, out, &err), GB_OK);
        if (strcmp(out->status, status) == 0)
            return;
        st_run_clear(out);
        sleep_ms(10);
    }
    ck_abort_msg("run %s never reached %s", id, status);
}

/* The injected run function: behaviour chosen by the run's config. */
static gb_status fake_run(void *ctx, const srv_job *job, const gb_progress *progress,
                          srv_job_result *out, gb_error *err)
{
    (void)ctx;
    const char *config = job->run->config_json;
    if (strstr(config, "fail") != NULL) {
        gb_error_set(err, GB_EUNUSABLE, "feature 'age' is missing from the dataset");
        gb_error_field(err, "age");
        return GB_EUNUSABLE;
    }
    if (strstr(config, "block") != NULL) {
        for (int i = 0; i < 1000; i++) {
            gb_progress_report(progress, "fit", (double)i / 1000.0);
            if (gb_progress_cancelled(progress))
                return GB_ECANCELLED;
            sleep_ms(5);
        }
        return gb_error_set(err, GB_EINTERNAL, "never cancelled");
    }
    gb_progress_report(progress, "fit", 0.5);
    char report[128];
    snprintf(report, sizeof report, "{\"run\":\"%s\",\"dataset\":\"%s\"}", job->run->id,
             job->run->dataset_id);
    out->report_json = gb_strdup(report);
    out->student_json = gb_strdup("{\"type\":\"tree\"}");
    return GB_OK;
}

static srv_jobs *start_pool(unsigned workers, size_t max_queued, int requeue)
{
    srv_jobs_config cfg = {.db_path = db_path,
                           .data_dir = tmp_dir,
                           .n_workers = workers,
                           .max_queued = max_queued,
                           .requeue_interrupted = requeue,
                           .poll_ms = 50,
                           .run_cb = fake_run};
    srv_jobs *jobs = NULL;
    gb_error err;
    ck_assert_msg(srv_jobs_start(&cfg, &jobs, &err) == GB_OK, "%s", err.message);
    return jobs;
}

START_TEST(test_pool_runs_queued_runs)
{
    st_db *db = open_db();
    char ids[4][ST_ID_LEN];
    for (int i = 0; i < 4; i++)
        queue_run(db, "{}", ids[i]);
    srv_jobs *jobs = start_pool(2, 0, 0);
    gb_error err;
    for (int i = 0; i < 4; i++) {
        st_run run;
        wait_status(db, ids[i], "succeeded", &run);
        ck_assert(run.fraction == 1.0);
        ck_assert_str_ne(run.finished_at, "");
        ck_assert_ptr_null(run.error_json);
        st_run_clear(&run);
        char *report = NULL, expect[256];
        ck_assert_int_eq(st_run_report(db, ids[i], &report, &err), GB_OK);
        snprintf(expect, sizeof expect, "{\"run\":\"%s\",\"dataset\":\"%s\"}", ids[i],
                 dataset_id);
        ck_assert_str_eq(report, expect);
        gb_free(report);
    }
    srv_jobs_stop(jobs);
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 1);
    ck_assert_int_eq(check.entries, 4); /* one run.succeeded per run */
    st_db_close(db);
}
END_TEST

START_TEST(test_failed_run_records_clear_error)
{
    st_db *db = open_db();
    char id[ST_ID_LEN];
    queue_run(db, "{\"mode\":\"fail\"}", id);
    srv_jobs *jobs = start_pool(1, 0, 0);
    st_run run;
    wait_status(db, id, "failed", &run);
    ck_assert_str_eq(
        run.error_json,
        "{\"code\":\"unprocessable\",\"message\":\"feature 'age' is missing "
        "from the dataset\",\"details\":{\"field\":\"age\"}}");
    st_run_clear(&run);
    char *report = NULL;
    gb_error err;
    ck_assert_int_eq(st_run_report(db, id, &report, &err), GB_ENOTFOUND);
    srv_jobs_stop(jobs);
    st_db_close(db);
}
END_TEST

START_TEST(test_cancel_running_in_memory_and_via_database)
{
    st_db *db = open_db();
    char a[ST_ID_LEN], b[ST_ID_LEN];
    queue_run(db, "{\"mode\":\"block\"}", a);
    queue_run(db, "{\"mode\":\"block\"}", b);
    srv_jobs *jobs = start_pool(2, 0, 0);
    st_run run;
    gb_error err;
    wait_status(db, a, "running", &run);
    st_run_clear(&run);
    wait_status(db, b, "running", &run);
    st_run_clear(&run);
    ck_assert_uint_eq(srv_jobs_active(jobs), 2);
    /* a: the API path (database flag + in-memory flag). */
    ck_assert_int_eq(st_run_cancel(db, a, NULL, NULL, &err), GB_OK);
    srv_jobs_cancel(jobs, a);
    wait_status(db, a, "cancelled", &run);
    ck_assert_ptr_nonnull(strstr(run.error_json, "cancelled"));
    st_run_clear(&run);
    /* b: only the database flag, as another daemon would set it. */
    ck_assert_int_eq(st_run_cancel(db, b, NULL, NULL, &err), GB_OK);
    wait_status(db, b, "cancelled", &run);
    ck_assert_str_eq(run.phase, "fit"); /* progress was recorded */
    st_run_clear(&run);
    srv_jobs_stop(jobs);
    st_db_close(db);
}
END_TEST

START_TEST(test_stop_interrupts_running)
{
    st_db *db = open_db();
    char id[ST_ID_LEN];
    queue_run(db, "{\"mode\":\"block\"}", id);
    srv_jobs *jobs = start_pool(1, 0, 0);
    st_run run;
    wait_status(db, id, "running", &run);
    st_run_clear(&run);
    srv_jobs_stop(jobs);
    gb_error err;
    ck_assert_int_eq(st_run_get(db, id, &run, &err), GB_OK);
    ck_assert_str_eq(run.status, "interrupted");
    st_run_clear(&run);
    st_db_close(db);
}
END_TEST

START_TEST(test_restart_recovery)
{
    st_db *db = open_db();
    char crashed[ST_ID_LEN], queued[ST_ID_LEN];
    queue_run(db, "{}", crashed);
    queue_run(db, "{}", queued);
    st_run run;
    int claimed = 0;
    gb_error err;
    ck_assert_int_eq(st_run_claim(db, NULL, &run, &claimed, &err), GB_OK);
    ck_assert_str_eq(run.id, crashed);
    st_run_clear(&run);
    /* A new pool finds `crashed` running: it becomes interrupted; the
     * queued run resumes and succeeds. */
    srv_jobs *jobs = start_pool(1, 0, 0);
    wait_status(db, queued, "succeeded", &run);
    st_run_clear(&run);
    ck_assert_int_eq(st_run_get(db, crashed, &run, &err), GB_OK);
    ck_assert_str_eq(run.status, "interrupted");
    st_run_clear(&run);
    srv_jobs_stop(jobs);

    /* With requeue, a run left running is executed again. */
    char again[ST_ID_LEN];
    queue_run(db, "{}", again);
    ck_assert_int_eq(st_run_claim(db, NULL, &run, &claimed, &err), GB_OK);
    st_run_clear(&run);
    jobs = start_pool(1, 0, 1);
    wait_status(db, again, "succeeded", &run);
    st_run_clear(&run);
    srv_jobs_stop(jobs);
    st_db_close(db);
}
END_TEST

START_TEST(test_queue_bound)
{
    st_db *db = open_db();
    srv_jobs *jobs = start_pool(1, 2, 0);
    gb_error err;
    char blocker[ST_ID_LEN];
    st_run run;
    int full = 0;
    /* Occupy the one worker, then fill the queue to its bound of 2. */
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.created_by, sizeof run.created_by, "t");
    run.config_json = (char *)"{\"mode\":\"block\"}";
    ck_assert_int_eq(srv_jobs_enqueue(jobs, db, &run, NULL, &full, &err), GB_OK);
    snprintf(blocker, sizeof blocker, "%s", run.id);
    st_run got;
    wait_status(db, blocker, "running", &got);
    st_run_clear(&got);
    for (int i = 0; i < 3; i++) {
        memset(run.id, 0, sizeof run.id);
        ck_assert_int_eq(srv_jobs_enqueue(jobs, db, &run, NULL, &full, &err), GB_OK);
        ck_assert_int_eq(full, i == 2);
    }
    size_t queued = 0;
    ck_assert_int_eq(st_run_count(db, "queued", &queued, &err), GB_OK);
    ck_assert_uint_eq(queued, 2);
    srv_jobs_stop(jobs);
    st_db_close(db);
}
END_TEST

static Suite *jobs_suite(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_pool_runs_queued_runs);
    tcase_add_test(tc, test_failed_run_records_clear_error);
    tcase_add_test(tc, test_cancel_running_in_memory_and_via_database);
    tcase_add_test(tc, test_stop_interrupts_running);
    tcase_add_test(tc, test_restart_recovery);
    tcase_add_test(tc, test_queue_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jobs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
