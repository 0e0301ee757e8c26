/*
 * tokens.c - POST/GET /api/v1/tokens, DELETE /api/v1/tokens/{id} (admin).
 * Layer: api.
 */
#include "api/api.h"

#include <string.h>

#define TOKEN_NAME_MAX 100

static cJSON *token_json(const st_token *t)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    cJSON_AddStringToObject(obj, "id", t->id);
    cJSON_AddStringToObject(obj, "name", t->name);
    cJSON_AddStringToObject(obj, "role", st_role_name(t->role));
    cJSON_AddStringToObject(obj, "created_at", t->created_at);
    cJSON_AddStringToObject(obj, "created_by", t->created_by);
    api_add_string_or_null(obj, "revoked_at", t->revoked_at);
    return obj;
}

void api_tokens_create(const api_request *req, api_response *resp)
{
    cJSON *body = api_body_object(req, resp), *details = NULL;
    char *details_text = NULL;
    if (body == NULL)
        return;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(body, "role");
    st_role parsed = ST_ROLE_NONE;
    gb_error err;
    gb_error_clear(&err);
    if (api_check_name(cJSON_IsString(name) ? name->valuestring : NULL, "name",
                       TOKEN_NAME_MAX, resp) != 0)
        goto done;
    if (st_role_parse(cJSON_IsString(role) ? role->valuestring : NULL, &parsed, &err) !=
        GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "name", name->valuestring);
    cJSON_AddStringToObject(details, "role", st_role_name(parsed));
    details_text = api_details_text(details);
    st_audit_entry audit = {api_actor(req), "token.create", NULL, details_text};
    st_token token;
    char secret[ST_TOKEN_SECRET_LEN + 1];
    if (details_text == NULL ||
        st_token_create(req->db, name->valuestring, parsed, api_actor(req), &audit,
                        &token, secret, &err) != GB_OK) {
        if (details_text == NULL)
            gb_error_set(&err, GB_ENOMEM, "out of memory");
        api_error_from(resp, &err);
        goto done;
    }
    cJSON *out = token_json(&token);
    if (out != NULL)
        cJSON_AddStringToObject(out, "token", secret);
    memset(secret, 0, sizeof secret);
    api_json(resp, 201, out);
done:
    gb_free(details_text);
    cJSON_Delete(details);
    cJSON_Delete(body);
}

void api_tokens_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_token *tokens = NULL;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    if (st_token_list(req->db, limit, offset, &tokens, &n, &total, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < n; i++)
        cJSON_AddItemToArray(items, token_json(&tokens[i]));
    gb_free(tokens);
    api_json(resp, 200, api_list(items, total, limit, offset));
}

void api_tokens_revoke(const api_request *req, api_response *resp)
{
    st_token token;
    gb_error err;
    st_audit_entry audit = {api_actor(req), "token.revoke", req->param_id, NULL};
    if (st_token_revoke(req->db, req->param_id, &audit, &token, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    api_json(resp, 200, token_json(&token));
}
