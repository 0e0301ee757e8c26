/*
 * health.c - GET /api/v1/health (no auth): version and database state.
 * Layer: api.
 */
#include "api/api.h"

void api_health_get(const api_request *req, api_response *resp)
{
    gb_error err;
    gb_error_clear(&err);
    int db_ok = req->db != NULL && st_db_ping(req->db, &err) == GB_OK;
    cJSON *root = cJSON_CreateObject();
    if (root != NULL) {
        cJSON_AddStringToObject(root, "status", db_ok ? "ok" : "degraded");
        cJSON_AddStringToObject(root, "version", GB_VERSION);
        cJSON_AddStringToObject(root, "db", db_ok ? "ok" : "error");
    }
    api_json(resp, db_ok ? 200 : 503, root);
}
