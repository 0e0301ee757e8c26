/*
 * runs.c - reading and cancelling runs: GET /api/v1/runs (filters status,
 * dataset_id, teacher_id, kind), GET /api/v1/runs/{id} (with the report),
 * POST /api/v1/runs/{id}/cancel, GET /api/v1/runs/{id}/student.
 * Layer: api.  (POST /api/v1/runs validates a run request and queues it
 * through api_env.run_enqueue; it lives with the pipeline's request
 * parsing.)
 */
#include "api/api.h"

#include <string.h>

#include "storage/runs.h"

/* Parses stored JSON text into a node, or a string node if it is not JSON
 * (never expected; keeps the response well-formed). */
static cJSON *stored_json(const char *text)
{
    if (text == NULL)
        return cJSON_CreateNull();
    cJSON *node = gb_json_parse(text, strlen(text), NULL);
    return node != NULL ? node : cJSON_CreateString(text);
}

/* The run object of API.md; report_json may be NULL (-> null). */
static cJSON *run_json(const st_run *run, const char *report_json, int with_report)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    cJSON_AddStringToObject(obj, "id", run->id);
    cJSON_AddStringToObject(obj, "kind", run->kind);
    cJSON_AddStringToObject(obj, "status", run->status);
    cJSON *progress = cJSON_AddObjectToObject(obj, "progress");
    if (progress != NULL) {
        cJSON_AddStringToObject(progress, "phase", run->phase);
        gb_json_add_number(progress, "fraction", run->fraction);
    }
    cJSON_AddItemToObject(obj, "error", stored_json(run->error_json));
    cJSON_AddStringToObject(obj, "created_at", run->created_at);
    api_add_string_or_null(obj, "started_at", run->started_at);
    api_add_string_or_null(obj, "finished_at", run->finished_at);
    cJSON_AddStringToObject(obj, "created_by", run->created_by);
    api_add_string_or_null(obj, "dataset_id", run->dataset_id);
    cJSON *teachers = cJSON_AddArrayToObject(obj, "teacher_ids");
    for (size_t i = 0; teachers != NULL && i < run->n_teachers; i++)
        cJSON_AddItemToArray(teachers, cJSON_CreateString(run->teacher_ids[i]));
    cJSON_AddBoolToObject(obj, "cancel_requested", run->cancel_requested);
    cJSON_AddItemToObject(obj, "config", stored_json(run->config_json));
    if (with_report)
        cJSON_AddItemToObject(obj, "report", stored_json(report_json));
    return obj;
}

static int valid_status_filter(const char *status)
{
    static const char *const known[] = {"queued", "running",   "succeeded",
                                        "failed", "cancelled", "interrupted"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(status, known[i]) == 0)
            return 1;
    return 0;
}

void api_runs_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_run *runs = NULL;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    st_run_filter filter = {api_query(req, "status"), api_query(req, "dataset_id"),
                            api_query(req, "teacher_id"), api_query(req, "kind")};
    if (filter.status != NULL && filter.status[0] != '\0' &&
        !valid_status_filter(filter.status)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "status");
        api_error(
            resp, 400, "invalid_input", details,
            "status must be one of queued, running, succeeded, failed, cancelled, "
            "interrupted");
        return;
    }
    if (st_run_list(req->db, &filter, limit, offset, &runs, &n, &total, &err) !=
        GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < n; i++)
        cJSON_AddItemToArray(items, run_json(&runs[i], NULL, 0));
    st_run_list_free(runs, n);
    api_json(resp, 200, api_list(items, total, limit, offset));
}

void api_runs_get(const api_request *req, api_response *resp)
{
    st_run run;
    char *report = NULL;
    gb_error err;
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    gb_status status = st_run_report(req->db, run.id, &report, &err);
    if (status != GB_OK && status != GB_ENOTFOUND) {
        api_error_from(resp, &err);
    } else {
        api_json(resp, 200, run_json(&run, report, 1));
    }
    gb_free(report);
    st_run_clear(&run);
}

void api_runs_cancel(const api_request *req, api_response *resp)
{
    st_run run;
    gb_error err;
    st_audit_entry audit = {api_actor(req), "run.cancel", req->param_id, NULL};
    if (st_run_cancel(req->db, req->param_id, &audit, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    if (req->env != NULL && req->env->run_cancel != NULL)
        req->env->run_cancel(req->env->hooks_ctx, run.id);
    api_json(resp, 200, run_json(&run, NULL, 0));
    st_run_clear(&run);
}

void api_runs_student(const api_request *req, api_response *resp)
{
    st_run run;
    char *student = NULL;
    gb_error err;
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    st_run_clear(&run);
    if (st_run_student(req->db, req->param_id, &student, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    resp->status = 200;
    resp->raw = student;
    resp->raw_len = strlen(student);
    resp->content_type = "application/json; charset=utf-8";
}
