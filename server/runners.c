/*
 * runners.c - the table of run kinds and their executors.
 * Layer: server.
 */
#include "server/runners.h"

#include <string.h>

#include "api/api.h"

static gb_status run_teacher_train(const srv_job *job, const gb_progress *progress,
                                   srv_job_result *out, gb_error *err)
{
    return api_run_teacher_train(job->db, job->data_dir, job->run, progress,
                                 &out->report_json, err);
}

static gb_status run_distill(const srv_job *job, const gb_progress *progress,
                             srv_job_result *out, gb_error *err)
{
    return api_run_distill(job->db, job->data_dir, job->run, progress,
                           &out->report_json, &out->student_json, err);
}

static const struct {
    const char *kind;
    gb_status (*run)(const srv_job *job, const gb_progress *progress,
                     srv_job_result *out, gb_error *err);
} runners[] = {
    {"teacher_train", run_teacher_train},
    {"distill", run_distill},
};

gb_status srv_run_dispatch(void *ctx, const srv_job *job, const gb_progress *progress,
                           srv_job_result *out, gb_error *err)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++)
        if (strcmp(runners[i].kind, job->run->kind) == 0)
            return runners[i].run(job, progress, out, err);
    return gb_error_set(err, GB_EUNUSABLE,
                        "this glassbox build cannot execute runs of kind '%s'",
                        job->run->kind);
}
