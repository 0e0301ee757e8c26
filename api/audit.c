/*
 * audit.c - GET /api/v1/audit and GET /api/v1/audit/verify.
 * Layer: api.
 */
#include "api/api.h"

#include <string.h>

#include "storage/audit.h"

void api_audit_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_audit_row *rows = NULL;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    if (st_audit_list(req->db, limit, offset, &rows, &n, &total, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddItemToArray(items, e);
        cJSON_AddNumberToObject(e, "seq", (double)rows[i].seq);
        cJSON_AddStringToObject(e, "at", rows[i].at);
        cJSON_AddStringToObject(e, "actor", rows[i].actor);
        cJSON_AddStringToObject(e, "action", rows[i].action);
        cJSON_AddStringToObject(e, "object", rows[i].object);
        cJSON *details =
            gb_json_parse(rows[i].details_json, strlen(rows[i].details_json), NULL);
        if (details != NULL)
            cJSON_AddItemToObject(e, "details", details);
        else
            cJSON_AddStringToObject(e, "details", rows[i].details_json);
        cJSON_AddStringToObject(e, "hash", rows[i].hash);
        cJSON_AddStringToObject(e, "prev_hash", rows[i].prev_hash);
    }
    st_audit_rows_free(rows, n);
    api_json(resp, 200, api_list(items, total, limit, offset));
}

void api_audit_verify(const api_request *req, api_response *resp)
{
    st_audit_check check;
    gb_error err;
    if (st_audit_verify(req->db, &check, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    if (root != NULL) {
        cJSON_AddBoolToObject(root, "ok", check.ok);
        cJSON_AddNumberToObject(root, "entries", (double)check.entries);
        if (!check.ok) {
            cJSON *broken = cJSON_AddObjectToObject(root, "first_broken");
            if (broken != NULL) {
                cJSON_AddNumberToObject(broken, "seq", (double)check.broken_seq);
                cJSON_AddStringToObject(broken, "reason", check.reason);
                cJSON_AddStringToObject(broken, "expected", check.expected);
                cJSON_AddStringToObject(broken, "found", check.found);
            }
        }
    }
    api_json(resp, 200, root);
}
