/*
 * runs_create.c - POST /api/v1/runs (validate a distillation request fully,
 * store its normalised configuration, queue it) and the job runner's
 * executor for runs of kind "distill".
 * Layer: api.
 *
 * Validation before queueing, in order: the body's shape and every setting
 * (run_config.h; 422 naming the field, unknown fields listed), the dataset
 * (404), the student parameters for the dataset's task (422), the teacher
 * ids (404), their tasks, classes and features against the dataset (422
 * listing every missing feature in details.missing), the score columns
 * (422 naming the column and line).  Only then is the run stored (with a
 * "run.create" audit entry in the same transaction) and queued: 202, or
 * 503 when the queue is at its bound.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "api/explain_hook.h"
#include "api/run_config.h"
#include "api/run_inputs.h"

static void error_with_missing(api_response *resp, const gb_error *err, cJSON *missing)
{
    api_error_from(resp, err);
    if (missing == NULL || resp->json == NULL)
        return;
    cJSON *error = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
    cJSON *details = cJSON_GetObjectItemCaseSensitive(error, "details");
    cJSON *copy = cJSON_Duplicate(missing, 1);
    if (details != NULL && copy != NULL)
        cJSON_AddItemToObject(details, "missing", copy);
    else
        cJSON_Delete(copy);
}

void api_runs_create(const api_request *req, api_response *resp)
{
    cJSON *body = api_body_object(req, resp);
    api_run_config c;
    api_run_inputs in;
    char *config_text = NULL;
    gb_error err;
    gb_task task = GB_TASK_AUTO;
    memset(&c, 0, sizeof c);
    memset(&in, 0, sizeof in);
    gb_error_clear(&err);
    if (body == NULL)
        return;
    if (api_run_config_parse(body, GB_TASK_AUTO, &c, &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    if (api_run_inputs_load(req->db, req->env->data_dir, &c, &in, &err) != GB_OK) {
        error_with_missing(resp, &err, in.missing);
        goto done;
    }
    task = in.target.task;
    if (gb_student_check(c.cfg.student_type, c.params, c.n_params, task, &err) !=
        GB_OK) {
        if (strncmp(err.field, "params.", 7) == 0) {
            char field[sizeof err.field + 16];
            snprintf(field, sizeof field, "student.%s", err.field);
            field[sizeof err.field - 1] = '\0';
            gb_error_field(&err, field);
        }
        api_error_from(resp, &err);
        goto done;
    }
    config_text = gb_json_print(c.json, 0);
    if (config_text == NULL) {
        api_error(resp, 500, "out_of_memory", NULL, "out of memory queueing the run");
        goto done;
    }

    st_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", in.dataset.id);
    snprintf(run.created_by, sizeof run.created_by, "%s", api_actor(req));
    run.n_teachers = c.n_teachers;
    for (size_t i = 0; i < c.n_teachers; i++)
        snprintf(run.teacher_ids[i], sizeof run.teacher_ids[i], "%s", c.teacher_ids[i]);
    run.config_json = config_text;
    st_audit_entry audit = {api_actor(req), "run.create", NULL, config_text};
    int full = 0;
    gb_status status = req->env->run_enqueue != NULL
                           ? req->env->run_enqueue(req->env->hooks_ctx, req->db, &run,
                                                   &audit, &full, &err)
                           : st_run_enqueue(req->db, &run, 0, &audit, &full, &err);
    run.config_json = NULL;
    if (status != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    if (full) {
        api_error(resp, 503, "queue_full", NULL,
                  "the run queue is full; retry when queued runs have started");
        goto done;
    }
    cJSON *out = cJSON_CreateObject();
    if (out != NULL) {
        cJSON_AddStringToObject(out, "id", run.id);
        cJSON_AddStringToObject(out, "kind", "distill");
        cJSON_AddStringToObject(out, "status", "queued");
    }
    api_json(resp, 202, out);
done:
    gb_free(config_text);
    api_run_inputs_clear(&in);
    api_run_config_clear(&c);
    cJSON_Delete(body);
}

/* ---- the run ------------------------------------------------------------------ */

gb_status api_run_distill(st_db *db, const char *data_dir, const st_run *run,
                          const gb_progress *progress, char **report_json,
                          char **student_json, gb_error *err)
{
    api_run_config c;
    api_run_inputs in;
    gb_distill_result result;
    cJSON *config = NULL, *artifact = NULL;
    gb_status rc;
    memset(&c, 0, sizeof c);
    memset(&in, 0, sizeof in);
    memset(&result, 0, sizeof result);
    *report_json = NULL;
    *student_json = NULL;

    const char *text = run->config_json != NULL ? run->config_json : "";
    config = gb_json_parse(text, strlen(text), err);
    if (config == NULL)
        return GB_EINPUT;
    gb_progress_report(progress, "load", 0.0);
    rc = api_run_config_parse(config, GB_TASK_AUTO, &c, err);
    if (rc == GB_OK)
        rc = api_run_inputs_load(db, data_dir, &c, &in, err);
    if (rc == GB_OK && gb_progress_cancelled(progress))
        rc = gb_error_set(err, GB_ECANCELLED, "cancelled");
    if (rc != GB_OK)
        goto done;
    c.cfg.target = in.dataset.target;
    c.cfg.task = in.target.task;
    c.cfg.teacher = in.teacher;
    c.cfg.teacher_sha256 = in.teacher != NULL ? in.teacher_sha256 : NULL;
    c.cfg.dataset_sha256 = in.dataset.sha256;
    c.cfg.n_threads = 1;
    if (c.explain.level != EX_LEVEL_NONE) {
        c.cfg.explain_cb = api_explain_cb;
        c.cfg.explain_ctx = &c.explain;
    }
    /* The run's own copy of the table is not read afterwards: the run may
     * drop its rows once the design matrix is built. */
    rc = gb_distill_run_releasing(&c.cfg, in.table, NULL, progress, &result, err);
    if (rc != GB_OK)
        goto done;
    artifact = result.student->ops->to_json(result.student);
    *student_json = artifact != NULL ? gb_json_print(artifact, 0) : NULL;
    *report_json = gb_json_print(result.report, 0);
    if (*student_json == NULL || *report_json == NULL) {
        gb_free(*student_json);
        gb_free(*report_json);
        *student_json = NULL;
        *report_json = NULL;
        rc = gb_error_set(err, GB_ENOMEM, "out of memory writing the report");
    }
done:
    cJSON_Delete(artifact);
    cJSON_Delete(config);
    gb_distill_result_free(&result);
    api_run_inputs_clear(&in);
    api_run_config_clear(&c);
    return rc;
}
