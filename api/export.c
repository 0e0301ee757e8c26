/*
 * export.c - GET /api/v1/runs/{id}/export?format=json|sql|c: the run's
 * distilled student as a deployable artifact: the versioned JSON artifact
 * itself, a SQL CASE expression per output, or a standalone C function
 * (core/model/students/student.h, gb_student_export), computing the same
 * numbers as the student.
 * Layer: api.
 */
#include "api/api.h"

#include <string.h>

#include "core/model/students/student.h"
#include "storage/runs.h"

void api_runs_export(const api_request *req, api_response *resp)
{
    const char *format = api_query(req, "format");
    char *artifact = NULL, *code = NULL;
    cJSON *doc = NULL;
    gb_model *student = NULL;
    st_run run;
    gb_error err;
    gb_error_clear(&err);
    if (format == NULL || format[0] == '\0')
        format = "json";
    if (strcmp(format, "json") != 0 && strcmp(format, "sql") != 0 &&
        strcmp(format, "c") != 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "format");
        api_error(resp, 400, "invalid_input", details, "format must be json, sql or c");
        return;
    }
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    st_run_clear(&run);
    if (st_run_student(req->db, req->param_id, &artifact, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    if (strcmp(format, "json") == 0) {
        resp->status = 200;
        resp->raw = artifact;
        resp->raw_len = strlen(artifact);
        resp->content_type = "application/json; charset=utf-8";
        return;
    }
    doc = gb_json_parse(artifact, strlen(artifact), &err);
    if (doc == NULL || gb_student_from_json(doc, &student, &err) != GB_OK ||
        gb_student_export(student, format, &code, &err) != GB_OK) {
        if (err.code == GB_EINPUT)
            err.code = GB_EINTERNAL; /* the stored artifact is ours: not user input */
        api_error_from(resp, &err);
        goto done;
    }
    resp->status = 200;
    resp->raw = code;
    resp->raw_len = strlen(code);
    resp->content_type = strcmp(format, "sql") == 0 ? "application/sql; charset=utf-8"
                                                    : "text/x-c; charset=utf-8";
    code = NULL;
done:
    gb_free(code);
    gb_model_free(student);
    cJSON_Delete(doc);
    gb_free(artifact);
}
